#!/bin/sh
# Kernel-client view of seqwrite/seqread: dd a large file onto the NFS mount (1 MiB writes,
# then sync), drop the page cache, dd it back.  $1 = mount point, $2 = MiB (default 256).
set -e
MNT=${1:-$MNT}
MB=${2:-256}
now() { read -r u _ < /proc/uptime; echo "$u"; }
timed() { echo "TIME $1 $(awk "BEGIN{printf \"%.2f\", $(now)-$T0}")"; }
fail() { echo "FAIL: $*"; exit 1; }
D="$MNT/kc-bigfile.$(cut -c1-8 /proc/sys/kernel/random/uuid)"
mkdir "$D"
T0=$(now); dd if=/dev/zero of="$D/big" bs=1M count="$MB" 2>/dev/null; sync; timed bigfile-write
[ "$(stat -c %s "$D/big")" = $((MB * 1048576)) ] || fail "size after write"
echo 3 > /proc/sys/vm/drop_caches
T0=$(now); dd if="$D/big" of=/dev/null bs=1M 2>/dev/null; timed bigfile-read
rm -f "$D/big"
rmdir "$D"
echo "bigfile: OK ($MB MiB)"
