#!/bin/sh
# Guest side of the kernel-client delegation test (busybox sh in the kclient VM):
# 1. creates deleg-test/f and keeps it open for reading, so the client holds a delegation
#    (the host hook checks that REST shows it, then writes the file from another client,
#    which makes the server recall it);
# 2. waits until the new contents are visible here: the recall reached this kernel over its
#    back channel and the delegation was returned;
# 3. two processes contend for flock() on one file; the waiter should get the lock about
#    when the holder lets go (CB_NOTIFY_LOCK), which is printed and bounded.
set -e
MNT=${1:-$MNT}
export PATH="$PATH:/kclient/files"
D="$MNT/deleg-test"
up() { read -r u _ < /proc/uptime; echo "$u"; }
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$D"
echo old > "$D/f"
sync
exec 3< "$D/f"
[ "$(cat "$D/f")" = old ] || fail "first read"
echo "deleg: holding $D/f open"
start=$(up)
while :; do
  c=$(cat "$D/f")
  [ "$c" = new ] && break
  [ "$(awk "BEGIN{print ($(up) - $start > 150)}")" = 1 ] && fail "never saw the new contents (still '$c')"
  sleep 0.2
done
echo "deleg: new contents seen after $(awk "BEGIN{printf \"%.1f\", $(up) - $start}") s"
exec 3<&-

# flock hand-over: holder releases at T1, the waiter gets it at T2.
command -v flock >/dev/null || fail "flock not available"
L="$D/lockfile"
: > "$L"
rm -f /tmp/released /tmp/acquired
flock -x "$L" sh -c 'sleep 3; up() { read -r u _ < /proc/uptime; echo "$u"; }; up > /tmp/released' &
holder=$!
sleep 1
flock -x "$L" sh -c 'read -r u _ < /proc/uptime; echo "$u" > /tmp/acquired'
wait $holder
handover=$(awk "BEGIN{printf \"%.2f\", $(cat /tmp/acquired) - $(cat /tmp/released)}")
echo "flock: hand-over took $handover s"
[ "$(awk "BEGIN{print ($handover < 1.5)}")" = 1 ] || fail "flock hand-over took $handover s"
rm -rf "$D"
