#!/bin/bash
# Command 1: install what is needed, build (release), and start dfs on embedded defaults:
# one in-memory export at /export on port 12049. Extra arguments go to dfs
# (e.g. --port 2049, --config dfs.yaml). Stop it with Ctrl-C.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$ROOT/build-release" --target dfs dfsctl -j "$(nproc)"
PORT=12049
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --port|-p) PORT=${args[$((i + 1))]} ;;
    --port=*) PORT=${args[$i]#--port=} ;;
  esac
done
HOST=$(hostname -I 2>/dev/null | awk '{print $1}')
cat <<MSG

dfs is starting. Mount its export from a Linux client with:

  mount -t nfs4 -o vers=4.1,port=$PORT ${HOST:-<this-host>}:/export /mnt

MSG
exec "$ROOT/build-release/src/dfs" "$@"
