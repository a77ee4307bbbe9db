#!/bin/bash
# Benchmarks dfs against nfs-ganesha (FSAL VFS on tmpfs) in the same run, on loopback.
#
#   ./bench/run.sh [--quick] [--reps N] [--duration S] [--workloads "a b ..."] [--kclient]
#                  [--kclient-reps N] [--kclient-nodeleg] [--no-setup] [--no-build] [--out DIR]
#                  [--stores durable|memory]
#
# Builds dfs and dfs_loadgen in Release (build-release/), starts both servers, measures the
# loopback TCP ceiling with iperf3, then runs every workload against each server alternately
# (dfs, ganesha, dfs, ganesha, ...) N times, and writes bench/results/<timestamp>/:
#   runs/          each run's JSON (dfs_loadgen --json), stderr, exit code and server log lines
#   results.json   medians, ratios, ceilings (bench/report.py)
#   table.md       the table printed at the end
#   ratios.png     dfs/ganesha per workload
# --kclient adds the Linux kernel client's view (bench/kclient/*.sh through
# ../shared/kclient/kclient.sh, a TCG-emulated VM: use its numbers as ratios only).
# --stores: dfs's share on its durable default (RocksDB metadata, content in files; the
# default here too) or on the memory stores. dfs's data directory and ganesha's export sit on
# the same tmpfs, so both pay their file system work and neither pays a disk's fsync.
#
# Only processes this script started are stopped, by PID; the tmpfs it mounts is unmounted.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${DFS_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
[ -d "$SHARED/ganesha" ] || SHARED=/work/shared

REPS=3
DURATION=10
QUICK=0
KCLIENT=0
KCLIENT_REPS=""
SETUP=1
BUILD=1
KCLIENT_NODELEG=0
OUT=""
STORES=durable
WORKLOADS="rpc-null seq-only metadata smallfile seqwrite seqoverwrite seqread randread randwrite bigdir"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --kclient) KCLIENT=1 ;;
    --kclient-reps) KCLIENT_REPS=$2; shift ;;
    --kclient-nodeleg) KCLIENT_NODELEG=1 ;;
    --no-setup) SETUP=0 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=$2; shift ;;
    --stores) STORES=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  REPS=${REPS_QUICK:-1}
  DURATION=3
fi
KCLIENT_REPS=${KCLIENT_REPS:-$REPS}
SEQWRITE_SIZE=2G
DATA_SIZE=1G
ENTRIES=100000
KC_BIG_MB=256
KC_FILES=500
KC_ENTRIES=2000
KC_RAND_MB=256
KC_RAND_IOS=4096
if [ "$QUICK" = 1 ]; then
  SEQWRITE_SIZE=512M
  DATA_SIZE=256M
  ENTRIES=20000
  KC_BIG_MB=64
  KC_FILES=200
  KC_ENTRIES=500
  KC_RAND_MB=64
  KC_RAND_IOS=1024
fi

# dfs_loadgen arguments per workload (connections x depth = requests in flight).
loadgen_args() {
  case "$1" in
    rpc-null|seq-only|metadata|smallfile) echo "--connections 4 --depth 16 --duration $DURATION" ;;
    seqwrite) echo "--connections 4 --depth 4 --size $SEQWRITE_SIZE" ;;
    seqoverwrite) echo "--connections 4 --depth 4 --size $SEQWRITE_SIZE" ;;
    seqread) echo "--connections 4 --depth 4 --size $DATA_SIZE --duration $DURATION" ;;
    randread|randwrite) echo "--connections 4 --depth 8 --size $DATA_SIZE --duration $DURATION" ;;
    bigdir) echo "--connections 4 --depth 16 --entries $ENTRIES" ;;
    *) echo "run.sh: unknown workload $1" >&2; return 1 ;;
  esac
}

PY=/usr/bin/python3
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/bench/results/$STAMP}
mkdir -p "$OUT/runs"
WORK=$(mktemp -d /tmp/dfs-bench.XXXXXX)
LOG="$OUT/run.log"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

# ---- clean-up of everything started here (by PID) ------------------------------------------
DFS_PID=""
GANESHA_STATE="$WORK/ganesha-state"
GANESHA_STARTED=0
IPERF_PIDS=()
EXPORT_DIR=""
BENCH_FS=""
MOUNTED=0
cleanup() {
  set +e
  for pid in "${IPERF_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null; fi
  done
  declare -F stop_dfs >/dev/null && stop_dfs
  if [ "$GANESHA_STARTED" = 1 ]; then
    GANESHA_STATE="$GANESHA_STATE" "$SHARED/ganesha/stop.sh" >>"$LOG" 2>&1
    cp "$GANESHA_STATE/ganesha.log" "$OUT/ganesha.log" 2>/dev/null
  fi
  if [ "$MOUNTED" = 1 ]; then umount "$BENCH_FS" 2>>"$LOG" || umount -l "$BENCH_FS"; fi
  [ -n "$BENCH_FS" ] && [ "$MOUNTED" = 0 ] && rm -rf "$BENCH_FS"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {  # PORT PID: until something accepts on 127.0.0.1:PORT (or PID died)
  for _ in $(seq 200); do
    kill -0 "$2" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# Other engineers build on this machine: never measure while a build holds the lock.
WAITED_FOR_BUILDS=0
wait_quiet() {
  if ! flock -n /tmp/dfs-build.lock true; then
    log "a build holds /tmp/dfs-build.lock; waiting before measuring"
    WAITED_FOR_BUILDS=$((WAITED_FOR_BUILDS + 1))
    flock /tmp/dfs-build.lock true
  fi
}

# ---- set-up and build ----------------------------------------------------------------------
[ "$SETUP" = 1 ] && "$ROOT/bench/setup.sh"
if [ "$BUILD" = 1 ]; then
  log "building dfs and dfs_loadgen (Release, build-release/)"
  flock /tmp/dfs-build.lock cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DDFS_BUILD_TESTS=ON -DDFS_BUILD_BENCH=ON >>"$LOG"
  flock /tmp/dfs-build.lock cmake --build "$ROOT/build-release" -j2 --target dfs dfs_loadgen >>"$LOG"
fi
DFS_BIN="$ROOT/build-release/src/dfs"
LOADGEN="$ROOT/build-release/bench/dfs_loadgen"
[ -x "$DFS_BIN" ] && [ -x "$LOADGEN" ] || { echo "run.sh: $DFS_BIN or $LOADGEN missing" >&2; exit 1; }

# ---- servers -------------------------------------------------------------------------------
# One tmpfs for ganesha's export and dfs's data directory (its durable stores).
BENCH_FS="$WORK/fs"
mkdir -p "$BENCH_FS"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=12g,mode=0777 dfs-bench "$BENCH_FS" 2>>"$LOG"; then
  MOUNTED=1
  EXPORT_KIND="tmpfs mounted at $BENCH_FS"
else
  rmdir "$BENCH_FS"
  BENCH_FS=$(mktemp -d /dev/shm/dfs-bench.XXXXXX)
  EXPORT_KIND="directory on /dev/shm (tmpfs)"
fi
EXPORT_DIR="$BENCH_FS/ganesha-export"
DFS_DATA="$BENCH_FS/dfs-data"
mkdir -p "$EXPORT_DIR" "$DFS_DATA"
chmod 0777 "$EXPORT_DIR"
log "ganesha exports, and dfs keeps its data in, a $EXPORT_KIND"

DFS_PORT=$(free_port)
GANESHA_PORT=$(free_port)
DFS_LOG="$OUT/dfs.log"
# The load generator and the kernel client work as root, and ganesha here squashes no one:
# dfs (which squashes root by default) is told to let client root act as root too.
case "$STORES" in
  durable) STORE_YAML='' ;;
  memory) STORE_YAML='
    metadata: memory
    blocks: memory' ;;
  *) echo "run.sh: --stores durable|memory" >&2; exit 2 ;;
esac
DFS_SHARES="shares:
  - path: /export
    root_squash: false$STORE_YAML"
printf '%s\n' "$DFS_SHARES" >"$WORK/dfs.yaml"
start_dfs() {
  mkdir -p "$DFS_DATA"
  # A chosen admin password keeps dfs from printing a generated one into dfs.log.
  DITTOFS_ADMIN_INITIAL_PASSWORD=$(head -c 18 /dev/urandom | base64) setsid "$DFS_BIN" --config "$WORK/dfs.yaml" \
    --listen 127.0.0.1 --port "$DFS_PORT" --api-port 0 --metrics-port 0 \
    --data-dir "$DFS_DATA" </dev/null >>"$DFS_LOG" 2>&1 &
  DFS_PID=$!
  wait_port "$DFS_PORT" "$DFS_PID" || { log "dfs did not start; log:"; tail -20 "$DFS_LOG" >&2; exit 1; }
  log "dfs pid $DFS_PID on 127.0.0.1:$DFS_PORT ($STORES stores)"
}
stop_dfs() {
  if [ -n "$DFS_PID" ] && kill -0 "$DFS_PID" 2>/dev/null; then
    kill -TERM "$DFS_PID"
    for _ in $(seq 100); do kill -0 "$DFS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DFS_PID" 2>/dev/null && kill -KILL "$DFS_PID"
    wait "$DFS_PID" 2>/dev/null || true
  fi
  DFS_PID=""
}
start_dfs
GANESHA_STATE="$GANESHA_STATE" "$SHARED/ganesha/start.sh" "$GANESHA_PORT" "$EXPORT_DIR" VFS >>"$LOG" 2>&1
GANESHA_STARTED=1
GANESHA_PID=$(cat "$GANESHA_STATE/ganesha.pid")
GANESHA_LOG="$GANESHA_STATE/ganesha.log"
log "ganesha pid $GANESHA_PID on 127.0.0.1:$GANESHA_PORT (FSAL VFS)"

server_port() {
  case "$1" in dfs) echo "$DFS_PORT" ;; dfs-nodeleg) echo "$NODELEG_PORT" ;; *) echo "$GANESHA_PORT" ;; esac
}
server_pid() {
  case "$1" in dfs) echo "$DFS_PID" ;; dfs-nodeleg) echo "$NODELEG_PID" ;; *) echo "$GANESHA_PID" ;; esac
}
server_log() { if [ "$1" = dfs ]; then echo "$DFS_LOG"; else echo "$GANESHA_LOG"; fi; }

cat >"$OUT/meta.json" <<EOF
{"timestamp": "$STAMP", "host": "$(hostname)", "cpus": $(nproc), "kernel": "$(uname -r)",
 "dfs_commit": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "dfs_dirty": $(if [ -n "$(git -C "$ROOT" status --porcelain -- src 2>/dev/null)" ]; then echo true; else echo false; fi),
 "ganesha_version": "$(dpkg-query -W -f='${Version}' nfs-ganesha 2>/dev/null || echo unknown)",
 "ganesha_export": "$EXPORT_KIND", "reps": $REPS, "duration_s": $DURATION, "quick": $QUICK,
 "workloads": "$WORKLOADS", "seqwrite_size": "$SEQWRITE_SIZE", "data_size": "$DATA_SIZE",
 "bigdir_entries": $ENTRIES}
EOF

# ---- ceilings: loopback TCP throughput (iperf3) ----------------------------------------------
# iperf3 3.12 runs each test in one thread, which one core limits, so the ceiling is one
# client/server pair per CPU at once, each 2 streams of 1 MiB writes (the size of the
# data workloads' READ/WRITE); the sum is what loopback TCP moves with all cores busy.
IPERF_PIDS=()
iperf_ceiling() {
  local rep=$1 n i port ports=() clients=()
  n=$(nproc)
  for i in $(seq "$n"); do
    port=$(free_port)
    iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    IPERF_PIDS+=($!)
    ports+=("$port")
  done
  # Wait until they listen without connecting: a one-off (-1) server would take a probe
  # connection for its one client.
  for port in "${ports[@]}"; do
    for _ in $(seq 100); do
      [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && break
      sleep 0.05
    done
  done
  for i in $(seq "$n"); do
    iperf3 -c 127.0.0.1 -p "${ports[$((i - 1))]}" -t 5 -P 2 -l 1M -J \
      >"$OUT/runs/iperf3.$rep.$i.json" 2>>"$LOG" &
    clients+=($!)
  done
  for pid in "${clients[@]}"; do wait "$pid" || log "an iperf3 client failed"; done
  for pid in "${IPERF_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
  IPERF_PIDS=()
}
for rep in $(seq "$REPS"); do
  wait_quiet
  log "ceiling: iperf3 loopback, $(nproc) client/server pairs at once, 5 s (rep $rep)"
  iperf_ceiling "$rep"
done

# ---- the workloads, alternating servers ------------------------------------------------------
run_one() {  # WORKLOAD SERVER REP
  local w=$1 srv=$2 rep=$3 base port pid slog lines0 rc=0
  base="$OUT/runs/$w.$srv.$rep"
  port=$(server_port "$srv")
  pid=$(server_pid "$srv")
  slog=$(server_log "$srv")
  lines0=$(wc -l <"$slog" 2>/dev/null || echo 0)
  wait_quiet
  # shellcheck disable=SC2046
  timeout --kill-after=10 $((DURATION * 6 + 900)) "$LOADGEN" --host 127.0.0.1 --port "$port" \
    --export /export --workload "$w" $(loadgen_args "$w") --server-pid "$pid" --json \
    >"$base.json" 2>"$base.err" || rc=$?
  echo "$rc" >"$base.rc"
  # the server's log lines from this run that say something went wrong
  tail -n +"$((lines0 + 1))" "$slog" 2>/dev/null | grep -E '\[(warning|error|critical)\]|:(CRIT|MAJ|FATAL|WARN) :' \
    | head -200 >"$base.serverlog" || true
  local alive=1
  kill -0 "$pid" 2>/dev/null || alive=0
  local summary
  summary=$("$PY" "$ROOT/bench/report.py" --summarize "$base.json" 2>/dev/null || echo "no result")
  log "$w $srv rep $rep: rc=$rc $summary"
  if [ "$alive" = 0 ]; then
    log "$srv (pid $pid) DIED during $w; last log lines in $base.serverlog"
    tail -50 "$slog" >>"$base.serverlog"
    echo "died" >"$base.crashed"
    if [ "$srv" = dfs ]; then start_dfs; else
      GANESHA_STATE="$GANESHA_STATE" "$SHARED/ganesha/stop.sh" >>"$LOG" 2>&1 || true
      GANESHA_STATE="$GANESHA_STATE" "$SHARED/ganesha/start.sh" "$GANESHA_PORT" "$EXPORT_DIR" VFS >>"$LOG" 2>&1
      GANESHA_PID=$(cat "$GANESHA_STATE/ganesha.pid")
    fi
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    log "$w against $srv timed out (hang?)"
    echo "timeout" >"$base.crashed"
  fi
}
for rep in $(seq "$REPS"); do
  for w in $WORKLOADS; do
    for srv in dfs ganesha; do
      run_one "$w" "$srv" "$rep"
    done
  done
done

# ---- the kernel client's view (optional, slow) -----------------------------------------------
if [ "$KCLIENT" = 1 ]; then
  mkdir -p "$OUT/kclient"
  KC_SERVERS="dfs ganesha"
  if [ "$KCLIENT_NODELEG" = 1 ]; then
    # The same dfs with delegations off, to see what they buy the kernel client.
    NODELEG_PORT=$(free_port)
    mkdir -p "$BENCH_FS/nodeleg-data"
    printf 'nfs:\n  delegations_enabled: false\n%s\n' "$DFS_SHARES" >"$WORK/nodeleg.yaml"
    DITTOFS_ADMIN_INITIAL_PASSWORD=$(head -c 18 /dev/urandom | base64) setsid "$DFS_BIN" \
      --config "$WORK/nodeleg.yaml" --listen 127.0.0.1 --port "$NODELEG_PORT" --api-port 0 \
      --metrics-port 0 --data-dir "$BENCH_FS/nodeleg-data" </dev/null >>"$OUT/dfs-nodeleg.log" 2>&1 &
    NODELEG_PID=$!
    wait_port "$NODELEG_PORT" "$NODELEG_PID" || { log "dfs (no delegations) did not start"; exit 1; }
    log "dfs without delegations pid $NODELEG_PID on 127.0.0.1:$NODELEG_PORT"
    KC_SERVERS="dfs dfs-nodeleg ganesha"
  fi
  for rep in $(seq "$KCLIENT_REPS"); do
    for script in "$ROOT"/bench/kclient/*.sh; do
      name=$(basename "$script" .sh)
      case "$name" in
        bigfile) kargs="$KC_BIG_MB" ;;
        smallfiles) kargs="$KC_FILES" ;;
        bigdir) kargs="$KC_ENTRIES" ;;
        randio) kargs="$KC_RAND_MB $KC_RAND_IOS" ;;
        *) kargs="" ;;
      esac
      # randio runs fio in the guest: carry Debian's fio (and its libraries) in.
      extra=""
      if [ "$name" = randio ]; then extra="--add-bin fio"; fi
      for srv in $KC_SERVERS; do
        wait_quiet
        base="$OUT/kclient/$name.$srv.$rep"
        rc=0
        # shellcheck disable=SC2086
        "$SHARED/kclient/kclient.sh" --port "$(server_port "$srv")" --export /export --vers 4.1 \
          --timeout 900 --quiet $extra --script "$script" -- $kargs >"$base.out" 2>&1 || rc=$?
        echo "$rc" >"$base.rc"
        log "kclient $name $srv rep $rep: rc=$rc $(grep '^TIME' "$base.out" | tr '\n' ' ')"
        kill -0 "$(server_pid "$srv")" 2>/dev/null || { log "$srv DIED during kclient $name"; [ "$srv" = dfs ] && start_dfs; }
      done
    done
  done
  if [ -n "${NODELEG_PID:-}" ]; then kill -TERM "$NODELEG_PID"; wait "$NODELEG_PID" 2>/dev/null; fi
fi

echo "{\"waited_for_builds\": $WAITED_FOR_BUILDS}" >"$OUT/harness.json"
"$PY" "$ROOT/bench/report.py" "$OUT"
log "results in $OUT"
