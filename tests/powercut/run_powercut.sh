#!/bin/sh
# The `powercut` target: run_powercut.sh DFS_POWERCUT DFS (DFS_POWERCUT_ROUNDS rounds, default 5).
exec "$1" --image-script "$(dirname "$0")/build_image.sh" --dfs "$2" --rounds "${DFS_POWERCUT_ROUNDS:-5}"
