#!/bin/bash
# Command 1: install what is needed, build (release), and start dfs on embedded defaults:
# one durable export at /export on port 12049 of every address, client root squashed; its
# files are kept in the data directory (printed below) across restarts.
# Extra arguments go to dfs (e.g. --port 2049, --config dfs.yaml). Stop it with Ctrl-C.
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
CONFIG=""
LISTEN="any address of this machine (dfs listens on 0.0.0.0)"
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --config|-c) CONFIG=${args[$((i + 1))]:-} ;;
    --config=*) CONFIG=${args[$i]#--config=} ;;
    --listen) LISTEN=${args[$((i + 1))]:-} ;;
    --listen=*) LISTEN=${args[$i]#--listen=} ;;
  esac
done
DATA_DIR=""
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --data-dir) DATA_DIR=${args[$((i + 1))]:-} ;;
    --data-dir=*) DATA_DIR=${args[$i]#--data-dir=} ;;
  esac
done
if [ -z "$DATA_DIR" ]; then
  if [ "$(id -u)" = 0 ]; then
    DATA_DIR=/var/lib/dittofs
  else
    DATA_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/dittofs
  fi
fi
HOST=$(hostname -I 2>/dev/null | awk '{print $1}')
cat <<MSG

dfs is starting. Mount its export from a Linux client with:

  mount -t nfs4 -o vers=4.1,port=$PORT ${HOST:-<this-host>}:/export /mnt

Files live in $DATA_DIR/shares/export (or under the config's data_dir):
metadata in RocksDB, content in files. Stop dfs (Ctrl-C) and start it again and they are
still there; --data-dir DIR keeps them elsewhere.

MSG
if [ -z "$CONFIG" ]; then
  cat <<MSG
Who may mount: any host that reaches port $PORT on $LISTEN,
read-write. Client root is squashed: uid 0, gid 0 and group 0 act as 65534 (nobody), who
owns /export; other users keep their ids.

To open it up or close it down, start with a config file (./scripts/run.sh --config dfs.yaml):

  listen: 192.168.1.10        # the addresses to serve on (or --listen)
  shares:
    - path: /export
      root_squash: false      # client root acts as root (trusted clients only)
      allowed_hosts: [192.168.1.0/24]
      # all_squash: true, anon_uid: 1000, anon_gid: 1000  map every user to one

Shares made at run time take the same options: dfsctl share create NAME --path /p
--no-root-squash | --all-squash --anon-uid N --anon-gid N --allowed-host CIDR, and
dfsctl share update NAME changes them. See docs/configuration.md.

MSG
else
  echo "Who may mount each share is in the dfs log below (config: $CONFIG)."
  echo
fi
exec "$ROOT/build-release/src/dfs" "$@"
