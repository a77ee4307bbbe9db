#!/bin/bash
# Installs the Debian bookworm packages dfs needs to build, run and test, plus any packages
# named as arguments (bench/setup.sh adds the benchmark's). Idempotent: when everything is
# present it does nothing (no apt-get update).
set -euo pipefail
PACKAGES=(
  # build
  build-essential cmake ninja-build g++ pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  nlohmann-json3-dev libcpp-httplib-dev libsodium-dev libsqlite3-dev librocksdb-dev
  clang-format
  # tests: RPC tools, the kernel-client VM (../shared/kclient), Python for helpers
  rpcbind qemu-system-x86 socat cpio busybox-static python3 util-linux procps curl
  # tests: promtool checks the /metrics exposition
  prometheus
  "$@"
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Debian starts the Prometheus server on :9090, dfs's default metrics port, when it installs
  # the package; only promtool is wanted here.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now prometheus.service 2>/dev/null || true
  fi
fi
