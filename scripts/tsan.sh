#!/bin/bash
# Opt-in: builds the unit tests with ThreadSanitizer in build-tsan/ and runs the ones that
# drive shared state from several threads (the state manager, the metrics cells, the
# published snapshots, the chunk pool, the memory stores, the locks of WRITEs to one file).
# Extra arguments go to ctest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
BUILD=$ROOT/build-tsan
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDFS_SANITIZE_THREAD=ON \
  -DDFS_BUILD_BENCH=OFF > /dev/null
cmake --build "$BUILD" -j "$(nproc)" --target dfs_unit_tests
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
cd "$BUILD"
ctest --output-on-failure -R 'StateConcurrency|Concurrent|Published|Cells|ChunkPool|SharedMutexes|WriterFirstSharedMutex|ReaderSlotsSharedMutex|TruncationGetsItsTurn' "$@"
