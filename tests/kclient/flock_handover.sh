#!/bin/sh
# Guest side of the flock hand-over test (busybox sh in the kclient VM), run with
# delegations off so that the locks go to the server: one process holds flock() for 3 s,
# another blocks on it; the waiter must get the lock about when the holder lets go (the
# server tells it with CB_NOTIFY_LOCK instead of leaving it to poll). Prints the hand-over
# time of each of three rounds; fails if one takes over a second.
set -e
MNT=${1:-$MNT}
export PATH="$PATH:/kclient/files"
fail() { echo "FAIL: $*"; exit 1; }
command -v flock >/dev/null || fail "flock not available"
L="$MNT/flock-handover.$$"
: > "$L"
for round in 1 2 3; do
  rm -f /tmp/released /tmp/acquired
  flock -x "$L" sh -c 'sleep 2; read -r u _ < /proc/uptime; echo "$u" > /tmp/released' &
  holder=$!
  sleep 1
  flock -x "$L" sh -c 'read -r u _ < /proc/uptime; echo "$u" > /tmp/acquired'
  wait $holder
  t=$(awk "BEGIN{printf \"%.2f\", $(cat /tmp/acquired) - $(cat /tmp/released)}")
  echo "flock: round $round hand-over took $t s"
  [ "$(awk "BEGIN{print ($t < 1.0)}")" = 1 ] || fail "flock hand-over took $t s"
done
rm -f "$L"
