#!/bin/sh
# Everyday file work through the Linux kernel NFS client, run inside the kclient VM (busybox
# sh). $1 / $MNT is the mount point. Exits non-zero at the first failed check.
set -e
MNT=${1:-$MNT}
T="$MNT/wl.$$"
now() { read -r u _ < /proc/uptime; echo "$u"; }
step() { T_STEP=$(now); STEP=$1; }
done_() { echo "TIME $STEP $(awk "BEGIN{printf \"%.2f\", $(now)-$T_STEP}")s"; }
fail() { echo "FAIL: $*"; exit 1; }
export PATH="$PATH:/kclient/files"

mkdir "$T"

step big64M
dd if=/dev/urandom of=/tmp/src bs=1M count=64 2>/dev/null
dd if=/tmp/src of="$T/big" bs=1M 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
a=$(md5sum < /tmp/src | cut -d' ' -f1); b=$(md5sum < "$T/big" | cut -d' ' -f1)
[ "$a" = "$b" ] || fail "64M checksum $a != $b"
[ "$(stat -c %s "$T/big")" = 67108864 ] || fail "64M size"
rm -f /tmp/src
done_

step files2000
mkdir "$T/many"
i=0; while [ $i -lt 2000 ]; do echo "$i" > "$T/many/f$i"; i=$((i+1)); done
n=$(ls "$T/many" | wc -l); [ "$n" = 2000 ] || fail "listed $n of 2000"
n=$(ls -l "$T/many" | grep -c '^-rw'); [ "$n" = 2000 ] || fail "stat saw $n of 2000"
[ "$(cat "$T/many/f1234")" = 1234 ] || fail "content of f1234"
i=0; while [ $i -lt 2000 ]; do rm "$T/many/f$i"; i=$((i+1)); done
[ -z "$(ls -A "$T/many")" ] || fail "directory not empty after removing 2000"
rmdir "$T/many"
done_

step deeptree
mkdir -p "$T/d/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p"
echo deep > "$T/d/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/leaf"
[ "$(cat "$T/d/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/leaf")" = deep ] || fail deep
done_

step rename
mkdir "$T/x" "$T/y"
echo one > "$T/x/file"
mv "$T/x/file" "$T/y/file2"
[ ! -e "$T/x/file" ] && [ "$(cat "$T/y/file2")" = one ] || fail "rename file across dirs"
mkdir "$T/x/sub"; echo two > "$T/x/sub/inner"
mv "$T/x/sub" "$T/y/moved"
[ "$(cat "$T/y/moved/inner")" = two ] && [ ! -e "$T/x/sub" ] || fail "rename dir across dirs"
echo over > "$T/x/victim"; echo new > "$T/y/repl"
mv "$T/y/repl" "$T/x/victim"
[ "$(cat "$T/x/victim")" = new ] || fail "rename over existing"
[ "$(stat -c %h "$T/y")" = 3 ] || fail "nlink of dir after moving subdir in: $(stat -c %h "$T/y")"
done_

step links
echo linked > "$T/orig"
ln "$T/orig" "$T/hard"
[ "$(stat -c %h "$T/orig")" = 2 ] || fail "hard link count"
[ "$(stat -c %i "$T/orig")" = "$(stat -c %i "$T/hard")" ] || fail "hard link inode"
ln -s orig "$T/soft"
[ "$(readlink "$T/soft")" = orig ] && [ "$(cat "$T/soft")" = linked ] || fail symlink
rm "$T/orig"
[ "$(cat "$T/hard")" = linked ] && [ "$(stat -c %h "$T/hard")" = 1 ] || fail "link after unlink"
[ ! -e "$T/soft" ] || fail "dangling symlink resolves"
done_

step attrs
echo data > "$T/a"
chmod 640 "$T/a"; [ "$(stat -c %a "$T/a")" = 640 ] || fail chmod
chown 1000:1000 "$T/a"; [ "$(stat -c %u:%g "$T/a")" = 1000:1000 ] || fail "chown $(stat -c %u:%g "$T/a")"
dd if=/dev/zero of="$T/t" bs=1k count=100 2>/dev/null
truncate -s 1000 "$T/t"; [ "$(stat -c %s "$T/t")" = 1000 ] || fail "truncate down"
truncate -s 50000 "$T/t"; [ "$(stat -c %s "$T/t")" = 50000 ] || fail "truncate up"
[ "$(dd if="$T/t" bs=1 skip=20000 count=4 2>/dev/null | od -An -tx1 | tr -d ' ')" = 00000000 ] \
  || fail "extended region not zero"
touch -d "2020-01-02 03:04:05" "$T/a"
[ "$(stat -c %Y "$T/a")" = "$(date -d '2020-01-02 03:04:05' +%s)" ] || fail "utimes"
done_

step locks
echo lock > "$T/lockfile"
if command -v flock >/dev/null; then
  flock -x "$T/lockfile" -c "flock -n -x $T/lockfile true && exit 1 || exit 0" \
    || fail "flock: second exclusive lock was granted"
  flock -s "$T/lockfile" -c "flock -n -s $T/lockfile true" || fail "flock: shared locks conflict"
else
  echo "flock not available"; exit 1
fi
if command -v fcntl_lock >/dev/null; then
  fcntl_lock "$T/lockfile" || fail "fcntl locks"
else
  echo "fcntl_lock not available"; exit 1
fi
done_

step rmrf
rm -rf "$T"
[ ! -e "$T" ] || fail "rm -rf left $T"
done_
echo "workload: OK"
