#!/bin/bash
# Installs what the benchmark harness needs on Debian bookworm (idempotent: no apt-get update
# when everything is present): the project's own build dependencies (scripts/setup.sh), the
# nfs-ganesha peer with the FSALs ../shared/ganesha/start.sh uses, iperf3 for the loopback
# ceiling and matplotlib (Debian's python3) for the chart.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
PACKAGES=(nfs-ganesha nfs-ganesha-vfs nfs-ganesha-mem iperf3 python3 python3-matplotlib)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "bench/setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
