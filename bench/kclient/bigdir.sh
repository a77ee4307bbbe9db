#!/bin/sh
# Kernel-client view of bigdir: create N empty files in one directory, drop the caches, list
# it (ls: READDIR), list it with attributes (ls -l), remove it all.
# $1 = mount point, $2 = N (default 2000).
set -e
MNT=${1:-$MNT}
N=${2:-2000}
now() { read -r u _ < /proc/uptime; echo "$u"; }
timed() { echo "TIME $1 $(awk "BEGIN{printf \"%.2f\", $(now)-$T0}")"; }
fail() { echo "FAIL: $*"; exit 1; }
D="$MNT/kc-bigdir.$(cut -c1-8 /proc/sys/kernel/random/uuid)"
mkdir "$D"
T0=$(now)
i=0; while [ $i -lt "$N" ]; do : > "$D/e$i"; i=$((i + 1)); done
timed bigdir-create
echo 3 > /proc/sys/vm/drop_caches
T0=$(now); n=$(ls "$D" | wc -l); timed bigdir-ls
[ "$n" = "$N" ] || fail "ls listed $n of $N"
echo 3 > /proc/sys/vm/drop_caches
T0=$(now); ls -l "$D" > /dev/null; timed bigdir-ls-l
T0=$(now); rm -rf "$D"; timed bigdir-remove
[ ! -e "$D" ] || fail "rm"
echo "bigdir: OK ($N entries)"
