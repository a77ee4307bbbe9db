#!/bin/bash
# `rpcinfo -n PORT -t 127.0.0.1 100003 4` (Debian's rpcbind package) reaches dfs's NULL
# procedure. rpcinfo asks the local rpcbind about the program first, so this starts an
# rpcbind when none runs and relies on dfs registering with it.
set -u
DFS=$1
WORK=$(mktemp -d /tmp/dfs-rpcinfo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
command -v rpcinfo >/dev/null || { echo "FAIL: rpcinfo not installed"; exit 1; }

port_open() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
if ! port_open 111; then
  rpcbind -f -w > "$WORK/rpcbind.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do port_open 111 && break; sleep 0.1; done
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$DFS" --port "$PORT" --api-port 0 --metrics-port 0 --data-dir "$WORK/data" > "$WORK/dfs.log" 2>&1 &
PIDS=($! "${PIDS[@]}")
for _ in $(seq 1 50); do grep -q "registered NFS" "$WORK/dfs.log" && break; sleep 0.1; done

out=$(rpcinfo -n "$PORT" -t 127.0.0.1 100003 4 2>&1)
echo "$out"
echo "$out" | grep -q "program 100003 version 4 ready and waiting" || { cat "$WORK/dfs.log"; exit 1; }
# A version dfs does not serve is refused with the supported range.
out3=$(rpcinfo -n "$PORT" -t 127.0.0.1 100003 3 2>&1)
echo "$out3"
echo "$out3" | grep -qi "version mismatch\|not available\|program/version mismatch" || exit 1
echo "rpcinfo: OK"
