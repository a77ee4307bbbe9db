#!/bin/bash
# Host side of the restart test, started by run_kclient.sh next to the VM: waits until the
# guest's marker reaches dfs's block store (the guest is mid-workload, holding its lock), has
# dfs killed with SIGKILL and started again, waits for the grace period to end (the kernel
# client reclaimed and said RECLAIM_COMPLETE), then tells the guest (by writing a file through
# the project's own client, which waits out the grace period like any client).
# Environment: DFS_WORK, DFS_PORT, DFS_ADMIN_PASSWORD, NFS_WRITE.
set -u
BLOCKS=$DFS_WORK/data/shares/export/blocks
for _ in $(seq 1800); do
  grep -rqs KCLIENT-RESTART-MARKER "$BLOCKS" && break
  [ -e "$DFS_WORK/out.log" ] && grep -q "test script exited" "$DFS_WORK/out.log" && break
  sleep 0.2
done
grep -rqs KCLIENT-RESTART-MARKER "$BLOCKS" || { echo "hook: FAIL: no marker in $BLOCKS"; exit 1; }
touch "$DFS_WORK/restart-request"
for _ in $(seq 600); do [ -e "$DFS_WORK/restarted" ] && break; sleep 0.2; done
[ -e "$DFS_WORK/restarted" ] || { echo "hook: FAIL: dfs did not come back"; exit 1; }
echo "hook: dfs restarted"

# The REST API of the new process (its port is new; it may log it just after the NFS
# listener came up), and its grace period.
for _ in $(seq 100); do
  [ "$(grep -c 'REST API listening on' "$DFS_WORK/dfs.log")" -ge 2 ] && break
  sleep 0.1
done
API=$(grep -oE 'REST API listening on [0-9.]+:[0-9]+' "$DFS_WORK/dfs.log" | tail -1 | cut -d' ' -f5)
TOKEN=""
for _ in $(seq 100); do
  TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$DFS_ADMIN_PASSWORD\"}" \
    "http://$API/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
  [ -n "$TOKEN" ] && break
  sleep 0.2
done
grace() { curl -sf -H "Authorization: Bearer $TOKEN" "http://$API/api/v1/grace"; }
echo "hook: after the restart: $(grace)"
ended=""
for _ in $(seq 600); do
  g=$(grace) && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if not d["in_grace"] and d["clients_reclaimed"] >= 1 else 1)' "$g" && { ended=1; break; }
  sleep 0.2
done
[ -n "$ended" ] || { echo "hook: FAIL: the kernel client did not reclaim: $(grace)"; exit 1; }
echo "hook: grace over, the kernel client reclaimed: $(grace)"
"$NFS_WRITE" "$DFS_PORT" /export/restart-done "restarted" || { echo "hook: FAIL: nfs_write"; exit 1; }
echo "hook: OK"
