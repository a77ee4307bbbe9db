#!/bin/bash
# Every C++ source is formatted with the project's .clang-format.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
command -v clang-format >/dev/null || { echo "FAIL: clang-format not installed"; exit 1; }
mapfile -t files < <(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'bench/*.h' 2>/dev/null || find src tests bench -name '*.cpp' -o -name '*.h')
clang-format --dry-run --Werror "${files[@]}" && echo "format: ${#files[@]} files OK"
