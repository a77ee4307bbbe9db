#!/bin/bash
# Runs a guest script through the Linux kernel NFS client (../shared/kclient) against a
# freshly started dfs. Usage:
#   run_kclient.sh DFS_BINARY SCRIPT VERS [MOUNT_OPTS] [-- extra kclient args]
# Passes when the script exits 0 and the unmount was clean. With KCLIENT_HOST_HOOK set, that
# host program runs next to the VM (with DFS_API and DFS_ADMIN_PASSWORD in its environment)
# and must exit 0 too (DFS_PORT and DFS_METRICS are there as well).
set -u
DFS=$1; SCRIPT=$2; VERS=$3; OPTS=${4:-}
shift 4 2>/dev/null || shift $#
HERE=$(cd "$(dirname "$0")" && pwd)
KCLIENT=${KCLIENT:-$HERE/../../../shared/kclient/kclient.sh}
[ -x "$KCLIENT" ] || KCLIENT=/work/shared/kclient/kclient.sh
WORK=$(mktemp -d /tmp/dfs-kclient.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

ADMIN_PASSWORD=kclient-$RANDOM-$RANDOM
# The guest runs its workloads as root (chown, root-owned files), so this dfs lets client
# root act as root on /export; dfs squashes root by default. KCLIENT_DFS_CONFIG adds YAML
# for dfs --config (e.g. "nfs: {...}"); one that lists shares itself replaces this one.
{
  printf '%s\n' "${KCLIENT_DFS_CONFIG:-}"
  if ! printf '%s' "${KCLIENT_DFS_CONFIG:-}" | grep -q '^shares:'; then
    printf 'shares:\n  - path: /export\n    root_squash: false\n'
  fi
} > "$WORK/dfs.yaml"
CONFIG_ARGS=(--config "$WORK/dfs.yaml")
# dfs's pid lives in $WORK/dfs.pid: a host hook may have it restarted (below).
start_dfs() {
  DITTOFS_ADMIN_INITIAL_PASSWORD=$ADMIN_PASSWORD \
    "$DFS" "${CONFIG_ARGS[@]}" --listen 127.0.0.1 --port "$PORT" --api-port 0 --metrics-port 0 --data-dir "$WORK/data" \
    --log-level info >> "$WORK/dfs.log" 2>&1 &
  echo $! > "$WORK/dfs.pid"
}
start_dfs
DFS_PID=$(cat "$WORK/dfs.pid")
HOOK_PID=""
RESTARTER_PID=""
cleanup() {
  [ -n "$HOOK_PID" ] && kill "$HOOK_PID" 2>/dev/null
  [ -n "$RESTARTER_PID" ] && kill "$RESTARTER_PID" 2>/dev/null
  DFS_PID=$(cat "$WORK/dfs.pid")
  kill -TERM "$DFS_PID" 2>/dev/null
  wait "$DFS_PID" 2>/dev/null
  while kill -0 "$DFS_PID" 2>/dev/null; do sleep 0.1; done
  rm -rf "$WORK"
}
trap cleanup EXIT
# A hook that creates $DFS_WORK/restart-request has dfs killed with SIGKILL and started again
# on the same data directory and port; $DFS_WORK/restarted appears once it listens again.
(
  while [ ! -e "$WORK/restart-request" ]; do sleep 0.2; done
  kill -KILL "$(cat "$WORK/dfs.pid")"
  echo "kclient: dfs killed (SIGKILL) at the hook's request; starting it again"
  start_dfs
  for _ in $(seq 1 300); do
    (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
    sleep 0.1
  done
  touch "$WORK/restarted"
) &
RESTARTER_PID=$!
# Wait (bounded) until dfs accepts connections.
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  kill -0 "$DFS_PID" 2>/dev/null || { cat "$WORK/dfs.log"; exit 1; }
  sleep 0.1
done

if [ -n "${KCLIENT_HOST_HOOK:-}" ]; then
  API=""
  for _ in $(seq 1 100); do
    API=$(grep -oE 'REST API listening on [0-9.]+:[0-9]+' "$WORK/dfs.log" | head -1 | cut -d' ' -f5)
    [ -n "$API" ] && break
    sleep 0.1
  done
  HOOK_METRICS=$(grep -oE 'metrics on http://[0-9.:]+/metrics' "$WORK/dfs.log" | head -1 | cut -d' ' -f3)
  DFS_API=http://$API DFS_ADMIN_PASSWORD=$ADMIN_PASSWORD DFS_PORT=$PORT DFS_METRICS=$HOOK_METRICS \
    DFS_WORK=$WORK \
    "$KCLIENT_HOST_HOOK" > "$WORK/hook.log" 2>&1 &
  HOOK_PID=$!
fi

EXTRA=()
for b in flock; do command -v "$b" >/dev/null && EXTRA+=(--add-bin "$b"); done
[ -n "${FCNTL_LOCK:-}" ] && EXTRA+=(--add "$FCNTL_LOCK")

"$KCLIENT" --port "$PORT" --export /export --vers "$VERS" ${OPTS:+--mount-opts "$OPTS"} \
  --script "$SCRIPT" --timeout 900 "${EXTRA[@]}" "$@" 2>&1 | tee "$WORK/out.log"
rc=${PIPESTATUS[0]}
DFS_PID=$(cat "$WORK/dfs.pid")
if ! kill -0 "$DFS_PID" 2>/dev/null; then
  echo "FAIL: dfs died during the run"; cat "$WORK/dfs.log"; exit 1
fi
# What went over the backchannel during the run.
RUN_METRICS=$(grep -oE 'metrics on http://[0-9.:]+/metrics' "$WORK/dfs.log" | tail -1 | cut -d' ' -f3)
[ -n "$RUN_METRICS" ] && curl -sf "$RUN_METRICS" |
  grep -E '^dittofs_nfs_(backchannel_callbacks|delegations_(granted|recalled))_total' | sed 's/^/kclient: /'
if [ -n "$HOOK_PID" ]; then
  wait "$HOOK_PID"
  hook_rc=$?
  HOOK_PID=""
  cat "$WORK/hook.log"
  if [ "$hook_rc" != 0 ]; then echo "FAIL: host hook exited $hook_rc"; rc=1; fi
fi
if [ "$rc" = 0 ] && ! grep -q "kclient: umount ok" "$WORK/out.log"; then
  echo "FAIL: unmount was not clean"; rc=1
fi
# The guest's large WRITEs (of the 64 MiB file) must have taken the zero-copy receive path;
# half of that file is the bar (a WRITE that arrives whole before its head is seen is copied).
METRICS=$(grep -oE 'metrics on http://[0-9.:]+/metrics' "$WORK/dfs.log" | tail -1 | cut -d' ' -f3)
if [ "$rc" = 0 ] && [ -n "$METRICS" ]; then
  ool=$(python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().splitlines():
    if l.startswith("dittofs_nfs_written_bytes_out_of_line_total "): print(int(float(l.split()[1])))' "$METRICS")
  echo "kclient: WRITE bytes received out of line: ${ool:-none}"
  want=${KCLIENT_MIN_OUT_OF_LINE:-33554432}
  if [ -z "$ool" ] || [ "$ool" -lt "$want" ]; then
    echo "FAIL: fewer than $want bytes of WRITE data received out of line"; rc=1
  fi
fi
if grep -qiE "AddressSanitizer|runtime error" "$WORK/dfs.log"; then
  echo "FAIL: sanitizer report in dfs log"; cat "$WORK/dfs.log"; rc=1
fi
if [ "$rc" != 0 ]; then
  echo "---- last lines of dfs.log ----"
  tail -40 "$WORK/dfs.log"
fi
exit "$rc"
