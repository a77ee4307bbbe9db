#!/bin/bash
# Host side of the kernel-client delegation test (run_kclient.sh's KCLIENT_HOST_HOOK): waits
# until REST shows the kernel client holding a delegation, then writes the file from a second
# client (nfs_write), which has to wait for the recall, and checks the recall in the metrics.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
py() { python3 -c "$1" "${@:2}"; }
for _ in $(seq 100); do
  TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$DFS_ADMIN_PASSWORD\"}" \
    "$DFS_API/api/v1/auth/login" | py 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  [ -n "$TOKEN" ] && break
  sleep 0.2
done
[ -n "${TOKEN:-}" ] || { echo "hook: FAIL: no API token"; exit 1; }
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$DFS_API$1"; }

held=""
for _ in $(seq 900); do
  for id in $(api /api/v1/clients | py 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin) if c["implementation"].startswith("Linux")))'); do
    d=$(api "/api/v1/clients/$id/delegations") || continue
    held=$(py 'import json,sys
d = [x for x in json.loads(sys.argv[1]) if not x["revoked"]]
print("%s %d %s" % (sys.argv[2], len(d), ",".join(x["type"] for x in d)) if d else "")' "$d" "$id")
    [ -n "$held" ] && break 2
  done
  sleep 0.2
done
[ -n "$held" ] || { echo "hook: FAIL: REST never showed a delegation held by the kernel client"; exit 1; }
echo "hook: kernel client $held (client, delegations held, types)"
start=$(date +%s)
"$NFS_WRITE" "$DFS_PORT" /export/deleg-test/f new || { echo "hook: FAIL: host write failed"; exit 1; }
waited=$(($(date +%s) - start))
metrics=$(curl -sf "$DFS_METRICS")
sum() { echo "$metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { print s + 0 }'; }
recalled=$(sum dittofs_nfs_delegations_recalled_total)
revoked=$(sum dittofs_nfs_delegations_revoked_total)
echo "hook: the write waited ${waited} s; delegations recalled ${recalled}, revoked ${revoked}"
# The kernel client must have given the delegation back when called: recalled, never revoked
# (a revocation comes only after a whole lease, 90 s, without an answer).
awk -v r="$recalled" 'BEGIN { exit !(r >= 1) }' || { echo "hook: FAIL: no recall"; exit 1; }
[ "$revoked" = 0 ] || { echo "hook: FAIL: the delegation was revoked, not returned"; exit 1; }
[ "$waited" -lt 60 ] || { echo "hook: FAIL: the write waited ${waited} s for the recall"; exit 1; }
exit 0
