#!/bin/bash
# Command 2: install what is needed, build with AddressSanitizer and
# UndefinedBehaviorSanitizer, and run the whole test suite (unit, integration over real
# sockets, third-party RPC tools, and the Linux kernel client in a VM). Ends with ctest's
# summary. Extra arguments go to ctest (e.g. -L unit, -R Session).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
BUILD=$ROOT/build-ci
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDFS_SANITIZE=ON > /dev/null
cmake --build "$BUILD" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure --timeout 1500 "$@"
