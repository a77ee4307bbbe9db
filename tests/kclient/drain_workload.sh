#!/bin/sh
# Guest side of the nconnect drain test (run inside the kclient VM, busybox sh): keeps
# writing and reading files over the mount for $2 seconds (default 40) of guest time while
# the host drains one of the mount's connections, then checks every byte after dropping the
# page cache. Exits non-zero at the first wrong byte or failed I/O.
set -e
MNT=${1:-$MNT}
D="$MNT/drain.$$"
SECONDS_WANTED=${2:-40}
now() { read -r u _ < /proc/uptime; echo "${u%.*}"; }
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$D"
# Eight 1 MiB sources with known checksums, written over and over under new names.
i=0
while [ $i -lt 8 ]; do
  dd if=/dev/urandom of=/tmp/src$i bs=64k count=16 2>/dev/null
  i=$((i+1))
done
start=$(now)
n=0
while [ $(( $(now) - start )) -lt "$SECONDS_WANTED" ]; do
  s=$((n % 8))
  cp /tmp/src$s "$D/f$n" || fail "write f$n"
  # Read back an earlier file through the server.
  if [ $n -ge 8 ]; then
    p=$((n - 7))
    a=$(md5sum < /tmp/src$((p % 8)) | cut -d' ' -f1)
    b=$(md5sum < "$D/f$p" | cut -d' ' -f1) || fail "read f$p"
    [ "$a" = "$b" ] || fail "f$p checksum $b, expected $a"
  fi
  n=$((n+1))
  [ $((n % 8)) -eq 0 ] && sync
done
sync
echo 3 > /proc/sys/vm/drop_caches
i=0
while [ $i -lt $n ]; do
  a=$(md5sum < /tmp/src$((i % 8)) | cut -d' ' -f1)
  b=$(md5sum < "$D/f$i" | cut -d' ' -f1) || fail "read f$i after drop_caches"
  [ "$a" = "$b" ] || fail "f$i checksum $b after drop_caches, expected $a"
  i=$((i+1))
done
echo "drain workload: $n files of 1 MiB written and verified"
rm -rf "$D"
