#!/bin/sh
# Kernel-client view of smallfile: create N files of 4 KiB (shell builtins only, so no
# fork per file), drop the page cache, read each back, remove them all.
# $1 = mount point, $2 = N (default 500).
set -e
MNT=${1:-$MNT}
N=${2:-500}
now() { read -r u _ < /proc/uptime; echo "$u"; }
timed() { echo "TIME $1 $(awk "BEGIN{printf \"%.2f\", $(now)-$T0}")"; }
fail() { echo "FAIL: $*"; exit 1; }
D="$MNT/kc-small.$(cut -c1-8 /proc/sys/kernel/random/uuid)"
mkdir "$D"
X=$(head -c 4095 /dev/zero | tr '\0' 'x')  # + echo's newline = 4096 bytes
T0=$(now)
i=0; while [ $i -lt "$N" ]; do echo "$X" > "$D/f$i"; i=$((i + 1)); done
sync
timed smallfiles-create
echo 3 > /proc/sys/vm/drop_caches
T0=$(now)
i=0; while [ $i -lt "$N" ]; do read -r l < "$D/f$i"; [ ${#l} = 4095 ] || fail "f$i content"; i=$((i + 1)); done
timed smallfiles-read
T0=$(now); rm -rf "$D"; timed smallfiles-remove
[ ! -e "$D" ] || fail "rm"
echo "smallfiles: OK ($N files)"
