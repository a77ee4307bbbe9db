#!/bin/sh
# The `crash_long` target: crash_long.sh DFS_INTEGRATION_TESTS (DFS_CRASH_ROUNDS rounds, default 50).
DFS_CRASH_ROUNDS=${DFS_CRASH_ROUNDS:-50} exec "$1" --gtest_filter='CrashTest.KilledAtRandomPoints*'
