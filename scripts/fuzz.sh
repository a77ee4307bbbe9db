#!/bin/bash
# Opt-in: builds the fuzz targets (tests/fuzz, docs/testing.md) as libFuzzer binaries with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, and runs each one
# after the other for SECONDS (default 3600) on a copy of its corpus; new inputs and crash
# files go to a scratch directory, never into the repository. Prints per target the
# executions, coverage (libFuzzer's cov: edges and ft: features) and corpus size at the end,
# and any crash. Exits non-zero if a target crashed.
#
#   scripts/fuzz.sh               # an hour each
#   scripts/fuzz.sh 180 rpc_header compound_args
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-3600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(record_framer rpc_header compound_args callback_reply rest_json)
"$ROOT/scripts/setup.sh" clang libclang-rt-14-dev

BUILD=$ROOT/build-fuzz
# -O1: fast enough to fuzz, still exact stacks; Debug keeps the server's assertions.
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DDFS_FUZZ=ON -DDFS_BUILD_BENCH=OFF > /dev/null
cmake --build "$BUILD" -j "$(nproc)" --target "${TARGETS[@]/#/fuzz_}"

WORK=$(mktemp -d /tmp/dfs-fuzz.XXXXXX)
echo "fuzz: ${SECS}s per target; corpora, logs and crash files in $WORK"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for t in "${TARGETS[@]}"; do
  dir=$WORK/$t
  mkdir -p "$dir/corpus"
  cp "$ROOT/tests/fuzz/corpus/$t/"* "$dir/corpus/"
  echo "fuzz: $t ..."
  rc=0
  (cd "$dir" && "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 \
    -artifact_prefix="$dir/" corpus > "$dir/log" 2>&1) || rc=$?
  # The last status line: "#<execs> <event> cov: <edges> ft: <features> corp: <n>/<size> ...".
  last=$(grep -E '^#[0-9]+[[:space:]]' "$dir/log" | tail -1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/log" | awk '{print $2}' || true)
  [ -n "$execs" ] || execs=$(sed -E 's/^#([0-9]+).*/\1/' <<< "$last")
  cov=$(grep -oE 'cov: [0-9]+' <<< "$last" | awk '{print $2}' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<< "$last" | awk '{print $2}' || true)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<< "$last" | awk '{print $2}' || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$dir/log" | awk '{print $2}' || true)
  rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$dir/log" | awk '{print $2}' || true)
  crashes=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
    -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | tr '\n' ' ')
  line=$(printf '%-15s %6ss  execs %-10s exec/s %-6s cov %-6s ft %-7s corpus %-11s rss %sMB' \
    "$t" "$SECS" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}")
  if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
    failed=1
    line="$line CRASH (exit $rc): ${crashes:-see $dir/log}"
    grep -E 'ERROR: |FUZZ_CHECK|SUMMARY' "$dir/log" | head -5 || true
  fi
  echo "$line"
  summary+=("$line")
done
echo
echo "fuzz summary (${SECS}s per target, $WORK):"
printf '  %s\n' "${summary[@]}"
exit $failed
