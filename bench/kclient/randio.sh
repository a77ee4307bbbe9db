#!/bin/sh
# Kernel-client view of randread/randwrite: fio (carried in with --add-bin fio) does 4 KiB
# random direct I/O, 32 in flight through libaio, on one file: a fixed number of READs, then
# of WRITEs (plus an fsync), each timed. O_DIRECT takes the guest's page cache out, so every
# I/O is an NFS READ or WRITE.
# $1 = mount point, $2 = file size in MiB (default 256), $3 = I/Os per phase (default 4096).
set -e
MNT=${1:-$MNT}
MB=${2:-256}
IOS=${3:-4096}
now() { read -r u _ < /proc/uptime; echo "$u"; }
timed() { echo "TIME $1 $(awk "BEGIN{printf \"%.2f\", $(now)-$T0}")"; }
fail() { echo "FAIL: $*"; exit 1; }
command -v fio > /dev/null || fail "fio is not in the guest (kclient.sh --add-bin fio)"
D="$MNT/kc-randio.$(cut -c1-8 /proc/sys/kernel/random/uuid)"
mkdir "$D"
# Lay the file out untimed, in 1 MiB writes.
dd if=/dev/zero of="$D/f" bs=1M count="$MB" 2>/dev/null
sync
# rio MODE [fio options]: one fio job of IOS 4 KiB I/Os; its terse line goes to $D/MODE.terse.
rio() {
  mode=$1
  shift
  fio --name="$mode" --filename="$D/f" --size="${MB}M" --rw="$mode" --bs=4k --direct=1 \
    --ioengine=libaio --iodepth=32 --number_ios="$IOS" --randrepeat=0 --norandommap \
    --output-format=terse --terse-version=3 "$@" > "$D/$mode.terse" 2>&1 || {
    cat "$D/$mode.terse"
    fail "fio $mode"
  }
}
T0=$(now); rio randread; timed randio-read
T0=$(now); rio randwrite --end_fsync=1; timed randio-write
# Terse v3: field 6 is the read KiB moved, field 47 the written KiB. Both phases must have
# moved all their I/Os (fio stops early on an error).
want=$((IOS * 4))
got_r=$(cut -d';' -f6 "$D/randread.terse")
got_w=$(cut -d';' -f47 "$D/randwrite.terse")
[ "$got_r" = "$want" ] || fail "randread moved ${got_r} KiB, not ${want}"
[ "$got_w" = "$want" ] || fail "randwrite moved ${got_w} KiB, not ${want}"
rm -rf "$D"
echo "randio: OK ($IOS reads and $IOS writes of 4 KiB, 32 in flight, ${MB} MiB file)"
