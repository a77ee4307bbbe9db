#!/bin/bash
# Host side of the nconnect drain test, started by run_kclient.sh next to the VM: waits until
# the kernel client's session has 4 connections bound (nconnect=4) and I/O is flowing, drains
# the busiest one through the REST API, and checks that the session kept the others and that
# the client reconnected. Environment: DFS_API (http://host:port), DFS_ADMIN_PASSWORD.
set -u
api() {  # METHOD PATH: prints the body; fails on a non-2xx status
  local body=()
  [ "$1" = POST ] && body=(-d '')
  curl -sf -X "$1" "${body[@]}" -H "Authorization: Bearer $TOKEN" "$DFS_API$2"
}
py() { python3 -c "$1" "${@:2}"; }
for _ in $(seq 100); do
  TOKEN=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$DFS_ADMIN_PASSWORD\"}" \
    "$DFS_API/api/v1/auth/login" | py 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  [ -n "$TOKEN" ] && break
  sleep 0.2
done
[ -n "${TOKEN:-}" ] || { echo "hook: FAIL: no API token"; exit 1; }

# Up to 3 minutes (TCG boot and mount included) for a session with 4 connections and traffic.
victim=""
for _ in $(seq 900); do
  conns=$(api GET /api/v1/connections) || { sleep 0.2; continue; }
  victim=$(py 'import json,sys
conns = json.loads(sys.argv[1])
by_session = {}
for c in conns:
    for s in c["sessions"]:
        by_session.setdefault(s["session"], []).append(c)
for sid, cs in by_session.items():
    if len(cs) >= 4 and sum(c["bytes_in"] for c in cs) > 4 << 20:
        print(sid, max(cs, key=lambda c: c["bytes_in"])["id"], len(cs))
        break' "$conns")
  [ -n "$victim" ] && break
  sleep 0.2
done
[ -n "$victim" ] || { echo "hook: FAIL: never saw a session with 4 connections and I/O"; exit 1; }
read -r session conn count <<< "$victim"
echo "hook: session $session has $count connections; draining connection $conn"
clients=$(api GET /api/v1/clients)
py 'import json,sys
for c in json.loads(sys.argv[1]):
    print("hook: client %s (%s) state protection: %s" % (c["id"], c["implementation"], c["state_protection"]))' "$clients"
api POST "/api/v1/connections/$conn/drain" > /dev/null || { echo "hook: FAIL: drain refused"; exit 1; }
# The drained connection goes away; the client reconnects and the session carries on.
for _ in $(seq 300); do
  now=$(api GET /api/v1/connections)
  state=$(py 'import json,sys
conns = json.loads(sys.argv[1])
gone = all(c["id"] != int(sys.argv[3]) for c in conns)
bound = sum(1 for c in conns for s in c["sessions"] if s["session"] == sys.argv[2])
print("%d %d" % (gone, bound))' "$now" "$session" "$conn")
  read -r gone bound <<< "$state"
  if [ "$gone" = 1 ] && [ "$bound" -ge 1 ]; then
    echo "hook: connection $conn closed; session has $bound connection(s) bound"
    exit 0
  fi
  sleep 0.2
done
echo "hook: FAIL: drained connection never closed ($state)"
exit 1
