#!/bin/sh
# Guest side of the restart test (kclient VM, busybox sh): dfs is killed with SIGKILL and
# started again from the host while this runs. A process keeps a file open with a write lock
# across it (fcntl_lock hold: the open must still work and the lock still be held at the
# server afterwards, so the client reclaimed both), while files are written and read back
# until the host says the restart is over; then every byte is checked after dropping the page
# cache. Any I/O error fails.
set -e
export PATH="$PATH:/kclient/files"
MNT=${1:-$MNT}
D="$MNT/restart.$$"
fail() { echo "FAIL: $*"; exit 1; }
now() { read -r u _ < /proc/uptime; echo "${u%.*}"; }

mkdir "$D"
: > "$MNT/restart-done"   # the host writes into it once dfs is back
fcntl_lock hold "$D/locked" /tmp/ready /tmp/release > /tmp/hold.log 2>&1 &
HOLDER=$!
for _ in $(seq 1 600); do
  [ -e /tmp/ready ] && break
  kill -0 $HOLDER 2>/dev/null || break
  sleep 0.1
done
[ -e /tmp/ready ] || { cat /tmp/hold.log; fail "the lock holder did not start"; }

i=0
while [ $i -lt 8 ]; do
  dd if=/dev/urandom of=/tmp/src$i bs=64k count=16 2>/dev/null
  i=$((i+1))
done
# The host restarts dfs once it finds this marker in the server's data directory.
echo "KCLIENT-RESTART-MARKER-$$" > "$D/marker"
sync
start=$(now)
n=0
while [ ! -s "$MNT/restart-done" ]; do
  [ $(( $(now) - start )) -lt 600 ] || fail "the host never said the restart was over"
  s=$((n % 8))
  cp /tmp/src$s "$D/f$n" || fail "write f$n"
  if [ $n -ge 8 ]; then
    p=$((n - 7))
    a=$(md5sum < /tmp/src$((p % 8)) | cut -d' ' -f1)
    b=$(md5sum < "$D/f$p" | cut -d' ' -f1) || fail "read f$p"
    [ "$a" = "$b" ] || fail "f$p checksum $b, expected $a"
  fi
  n=$((n+1))
  [ $((n % 4)) -eq 0 ] && sync
done
# A few more after the restart, on the recovered client.
end=$((n + 8))
while [ $n -lt $end ]; do
  cp /tmp/src$((n % 8)) "$D/f$n" || fail "write f$n after the restart"
  n=$((n+1))
done
touch /tmp/release
wait $HOLDER || { cat /tmp/hold.log; fail "the open or the lock did not survive the restart"; }
cat /tmp/hold.log
sync
echo 3 > /proc/sys/vm/drop_caches
i=0
while [ $i -lt $n ]; do
  a=$(md5sum < /tmp/src$((i % 8)) | cut -d' ' -f1)
  b=$(md5sum < "$D/f$i" | cut -d' ' -f1) || fail "read f$i after drop_caches"
  [ "$a" = "$b" ] || fail "f$i checksum $b after the restart, expected $a"
  i=$((i+1))
done
echo "restart: $n files written around a server restart, every checksum right"
rm -rf "$D" "$MNT/restart-done"
