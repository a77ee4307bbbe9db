#!/bin/bash
# dfsctl against a real dfs: every command in table and JSON form (JSON checked field by field
# with python3), YAML output, the config file (path, mode 0600), token refresh, and the error
# paths with their exit codes (1 API, 2 usage, 3 unreachable) and one-line messages.
#
# Usage: dfsctl_test.sh DFSCTL DFS
set -u
DFSCTL=$1
DFS=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/dfsctl-test.XXXXXX)
CFG=$WORK/dfsctl.json
ADMIN_PW=admin-secret-1
DFS_PID=
FAILS=0
CHECKS=0

cleanup() {
  if [ -n "$DFS_PID" ]; then kill "$DFS_PID" 2>/dev/null; wait "$DFS_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "  stdout: $(head -c 2000 "$WORK/out")"
  echo "  stderr: $(head -c 2000 "$WORK/err")"
  FAILS=$((FAILS + 1))
}
ok() { CHECKS=$((CHECKS + 1)); }

# ctl ARGS...: runs dfsctl with the test's config file; stdout, stderr and the exit code
# land in $WORK/out, $WORK/err and $RC. The real home directory is never touched.
ctl() {
  "$DFSCTL" --config "$CFG" "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
  RC=$?
  LAST="dfsctl $*"
}
# Like ctl, with stdin from the first argument (for prompts read from a pipe).
ctl_stdin() {
  local input=$1
  shift
  printf '%s\n' "$input" | "$DFSCTL" --config "$CFG" "$@" > "$WORK/out" 2> "$WORK/err"
  RC=$?
  LAST="dfsctl $* (stdin)"
}
expect_rc() { if [ "$RC" -eq "$1" ]; then ok; else fail "$LAST: exit $RC, expected $1"; fi; }
expect_out() { if grep -Eq -- "$1" "$WORK/out"; then ok; else fail "$LAST: stdout lacks /$1/"; fi; }
expect_err() { if grep -Eq -- "$1" "$WORK/err"; then ok; else fail "$LAST: stderr lacks /$1/"; fi; }
# An error is exactly one line on stderr, prefixed "dfsctl: ", with nothing on stdout.
expect_one_line_error() {
  local lines
  lines=$(wc -l < "$WORK/err")
  if [ "$lines" -eq 1 ] && grep -q '^dfsctl: ' "$WORK/err" && [ ! -s "$WORK/out" ]; then
    ok
  else
    fail "$LAST: expected one error line on stderr, got $lines"
  fi
}
# expect_json PYTHON_EXPR: the expression holds for d = the parsed stdout.
expect_json() {
  if python3 -c "import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$WORK/out" 2> "$WORK/pyerr"; then
    ok
  else
    fail "$LAST: JSON check failed: $1 $(cat "$WORK/pyerr")"
  fi
}
# expect_yaml PYTHON_EXPR: the same against stdout read as YAML (skipped without PyYAML).
expect_yaml() {
  python3 -c 'import yaml' 2> /dev/null || return 0
  if python3 -c "import yaml,sys
d = yaml.safe_load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$WORK/out" 2> "$WORK/pyerr"; then
    ok
  else
    fail "$LAST: YAML check failed: $1 $(cat "$WORK/pyerr")"
  fi
}
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$1)" "$WORK/out"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# GET /health over bash's /dev/tcp, so the wait needs neither curl nor a login.
healthy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    grep -q '\"ok\"' <&3" 2> /dev/null
}

API_PORT=$(free_port)
SERVER=http://127.0.0.1:$API_PORT

# ---- before the server runs ----
ctl user list
expect_rc 1
expect_one_line_error
expect_err 'not logged in.*dfsctl login'

ctl login --server "$SERVER" -u admin -p x
expect_rc 3
expect_one_line_error
expect_err "cannot reach the server at $SERVER"

ctl login --server ftp://example -u admin -p x
expect_rc 2
expect_one_line_error

ctl
expect_rc 2
ctl user
expect_rc 2
ctl --help
expect_rc 0
expect_out 'adapter'
ctl --version
expect_rc 0
expect_out '^dfsctl '

# ---- start dfs ----
DITTOFS_ADMIN_INITIAL_PASSWORD=$ADMIN_PW "$DFS" --listen 127.0.0.1 --port 0 --api-port "$API_PORT" \
  --metrics-port 0 --data-dir "$WORK/data" > "$WORK/dfs.log" 2>&1 &
DFS_PID=$!
for _ in $(seq 1 100); do healthy "$API_PORT" && break; sleep 0.1; done
if ! healthy "$API_PORT"; then
  echo "FAIL: dfs did not answer /health on port $API_PORT"
  cat "$WORK/dfs.log"
  exit 1
fi

# ---- login ----
ctl login --server "$SERVER" -u admin -p wrong-password
expect_rc 1
expect_one_line_error
expect_err '^dfsctl: 401 Unauthorized: wrong user name or password$'
[ ! -e "$CFG" ] && ok || fail "a failed login wrote $CFG"

ctl login --server "$SERVER" -u admin -p "$ADMIN_PW"
expect_rc 0
expect_out "^Logged in to $SERVER as admin \(role admin\)$"
[ "$(stat -c %a "$CFG")" = 600 ] && ok || fail "$CFG has mode $(stat -c %a "$CFG"), expected 600"
python3 -c "import json,sys; c=json.load(open('$CFG')); sys.exit(0 if c['server']=='$SERVER' and c['access_token'] and c['refresh_token'] else 1)" \
  && ok || fail "config file lacks server or tokens"

# The password from DFSCTL_PASSWORD, and from a pipe when stdin is not a terminal; JSON form
# without tokens.
DFSCTL_PASSWORD=$ADMIN_PW ctl login -u admin -o json
expect_rc 0
expect_json 'd["username"] == "admin" and d["role"] == "admin" and d["server"] == "'"$SERVER"'" and "access_token" not in d'
ctl_stdin "$ADMIN_PW" login -u admin
expect_rc 0
expect_out 'Logged in'

# Without --config: $XDG_CONFIG_HOME, then ~/.config; both created 0600 in a 0700 directory.
XDG_CONFIG_HOME=$WORK/xdg DFSCTL_PASSWORD=$ADMIN_PW "$DFSCTL" login --server "$SERVER" -u admin \
  > /dev/null 2>&1 < /dev/null
[ "$(stat -c %a "$WORK/xdg/dfsctl/config.json" 2> /dev/null)" = 600 ] && ok ||
  fail "no 0600 config under XDG_CONFIG_HOME"
[ "$(stat -c %a "$WORK/xdg/dfsctl" 2> /dev/null)" = 700 ] && ok || fail "config dir not 0700"
env -u XDG_CONFIG_HOME HOME=$WORK/home DFSCTL_PASSWORD=$ADMIN_PW "$DFSCTL" login --server "$SERVER" \
  -u admin > /dev/null 2>&1 < /dev/null
[ "$(stat -c %a "$WORK/home/.config/dfsctl/config.json" 2> /dev/null)" = 600 ] && ok ||
  fail "no 0600 config under HOME/.config"

# ---- status ----
ctl status
expect_rc 0
expect_out '^FIELD +VALUE$'
expect_out '^health +ok$'
expect_out '^server\.version +'
ctl status -o json
expect_rc 0
expect_json 'd["health"] == "ok" and d["ready"] == "ready" and d["url"] == "'"$SERVER"'" and d["server"]["listeners"]["api"].endswith(":'"$API_PORT"'") and "version" in d["server"]'
NFS_PORT=$(json_field '["server"]["listeners"]["nfs"].rsplit(":", 1)[1]')
ctl status -o yaml
expect_rc 0
expect_out '^health: ok$'
expect_yaml 'd["health"] == "ok" and d["server"]["listeners"]["api"].endswith(":'"$API_PORT"'")'

# ---- grace period (a fresh data directory: nobody held state, so no grace) ----
ctl grace status -o json
expect_rc 0
expect_json 'd["in_grace"] is False and d["clients_expected"] == 0 and d["clients_reclaimed"] == 0'
ctl grace status
expect_out '^in_grace +false$'
ctl grace end -o json
expect_rc 0
expect_json 'd["in_grace"] is False'

# ---- users ----
ctl user list
expect_rc 0
expect_out '^NAME +ROLE +UID +CREATED$'
expect_out '^admin +admin +- +[0-9]{4}-'
ctl user list -o json
expect_json 'len(d) == 1 and d[0]["username"] == "admin" and d[0]["uid"] is None'
ctl user create ann --role operator --uid 1000 --password ann-pass-1
expect_rc 0
expect_out '^uid +1000$'
ctl user create ann --role operator --password ann-pass-1
expect_rc 1
expect_one_line_error
expect_err '409 Conflict: user ann exists'
ctl user create bob --role user --password short
expect_rc 1
expect_one_line_error
expect_err '400 .*password must be 8 to 256 characters \(field password, allowed 8..256\)'
ctl user create bob --role operator
expect_rc 2
expect_one_line_error
ctl user create bob --role user -o json --password bob-pass-1
expect_rc 0
expect_json 'd["username"] == "bob" and d["role"] == "user" and d["uid"] is None'
ctl user show ann -o json
expect_json 'd["username"] == "ann" and d["role"] == "operator" and d["uid"] == 1000'
ctl user show ann
expect_out '^role +operator$'
ctl user list -o yaml
expect_yaml 'sorted(u["username"] for u in d) == ["admin", "ann", "bob"]'
ctl user passwd ann --password ann-pass-2
expect_rc 0
expect_out '^Password of ann changed$'
ctl_stdin ann-pass-3 user passwd ann
expect_rc 0
ctl user passwd ann -o json --password ann-pass-4
expect_rc 0
[ ! -s "$WORK/out" ] && ok || fail "a 204 action printed something in JSON form"
ctl user show nobody
expect_rc 1
expect_one_line_error
expect_err '^dfsctl: 404 Not found: no user named nobody$'

# ann (operator) may read but not write: its own config file.
ANN_CFG=$WORK/ann.json
"$DFSCTL" --config "$ANN_CFG" login --server "$SERVER" -u ann -p ann-pass-4 > /dev/null 2>&1 < /dev/null &&
  ok || fail "ann cannot log in with the changed password"
"$DFSCTL" --config "$ANN_CFG" user list > "$WORK/out" 2> "$WORK/err" < /dev/null
RC=$? LAST="dfsctl user list (operator)"
expect_rc 0
"$DFSCTL" --config "$ANN_CFG" user delete bob > "$WORK/out" 2> "$WORK/err" < /dev/null
RC=$? LAST="dfsctl user delete bob (operator)"
expect_rc 1
expect_one_line_error
expect_err '403 Forbidden: role operator may not do this'

# ---- shares ----
ctl share list
expect_rc 0
expect_out '^NAME +PATH +METADATA +BLOCKS +READ_ONLY +ROOT_SQUASH +ALL_SQUASH +ANON_UID +ANON_GID +HOSTS +USERS +SOURCE$'
# The embedded default share squashes client root.
expect_out '^export +/export +rocksdb +fs +false +true +false +65534 +65534 +- +- +config$'
ctl share create projects --path /projects --metadata-store memory --block-store memory \
  --read-only --no-root-squash --allowed-host 127.0.0.1 --allowed-host 10.0.0.0/8 --allowed-user ann
expect_rc 0
expect_out '^allowed_hosts +127\.0\.0\.1,10\.0\.0\.0/8$'
ctl share show projects -o json
expect_json 'd["path"] == "/projects" and d["read_only"] is True and d["root_squash"] is False and d["allowed_hosts"] == ["127.0.0.1", "10.0.0.0/8"] and d["allowed_users"] == ["ann"] and d["source"] == "api"'
ctl share create scratch --path /scratch -o json
expect_json 'd["root_squash"] is True and d["read_only"] is False and d["allowed_hosts"] == [] and d["metadata_store"] == "rocksdb" and d["block_store"] == "fs"'
ctl share list -o json
expect_json 'sorted(s["name"] for s in d) == ["export", "projects", "scratch"]'
ctl share show projects
expect_out '^root_squash +false$'
ctl share create squashed --path /squashed --all-squash --anon-uid 1234 --anon-gid 5678 -o json
expect_json 'd["all_squash"] is True and d["root_squash"] is True and d["anon_uid"] == 1234 and d["anon_gid"] == 5678'
ctl share show squashed
expect_out '^all_squash +true$'
expect_out '^anon_uid +1234$'
ctl share update squashed --no-all-squash --no-root-squash --anon-gid 42 --allowed-host 10.1.0.0/16 -o json
expect_json 'd["all_squash"] is False and d["root_squash"] is False and d["anon_uid"] == 1234 and d["anon_gid"] == 42 and d["allowed_hosts"] == ["10.1.0.0/16"]'
ctl share update squashed --any-host -o json
expect_json 'd["allowed_hosts"] == [] and d["anon_gid"] == 42'
ctl share update squashed
expect_rc 2
expect_err 'nothing to update'
ctl share update squashed --all-squash --no-all-squash
expect_rc 2
ctl share create badid --path /badid --anon-uid 4294967295
expect_rc 2
ctl share update export --no-root-squash
expect_rc 1
expect_one_line_error
expect_err '409 Conflict: share export comes from the configuration file'
ctl share update nosuch --all-squash
expect_rc 1
expect_err '404'
ctl share delete squashed
expect_rc 0
ctl share create bad --path /bad --allowed-host not-an-address
expect_rc 1
expect_one_line_error
expect_err 'field allowed_hosts'
ctl share create projects --path /other
expect_rc 1
expect_err '409'
ctl share create nopath
expect_rc 2
ctl share delete projects
expect_rc 0
expect_out '^Share projects deleted$'
ctl share delete projects
expect_rc 1
expect_one_line_error
expect_err '404 Not found: no share named projects'
ctl share delete export
expect_rc 1
expect_err '409 Conflict: share export comes from the configuration file'
ctl share delete scratch
expect_rc 0

# ---- named stores ----
ctl store metadata list
expect_rc 0
expect_out '^NAME +TYPE +DIRECTORY +SHARES +SOURCE$'
expect_out '^rocksdb +rocksdb +/.*/shares +export +builtin$'
expect_out '^memory +memory +- +- +builtin$'
ctl store metadata add fast --type rocksdb --dir "$WORK/ssd" -o json
expect_rc 0
expect_json 'd["name"] == "fast" and d["type"] == "rocksdb" and d["directory"].endswith("/ssd") and d["source"] == "api" and d["shares"] == []'
ctl store block add bulk --type fs -o json
expect_json 'd["directory"].endswith("/stores/block/bulk")'
ctl share create onfast --path /onfast --metadata fast --blocks bulk -o json
expect_json 'd["metadata_store"] == "fast" and d["block_store"] == "bulk"'
ctl store block show bulk -o json
expect_json 'd["shares"] == ["onfast"]'
ctl store metadata remove fast
expect_rc 1
expect_one_line_error
expect_err '409 Conflict: store fast is used by share\(s\) onfast'
ctl store block add bad --type tape
expect_rc 1
expect_err 'field type'
ctl store block add nodir
expect_rc 2
ctl share create nostore --path /nostore --metadata nosuch
expect_rc 1
expect_err 'field metadata_store'
ctl share delete onfast
expect_rc 0
ctl store metadata remove fast
expect_rc 0
expect_out '^Store fast removed$'
ctl store metadata show fast
expect_rc 1
expect_err '404 Not found: no metadata store named fast'
ctl store block remove fs
expect_rc 1
expect_err '409 Conflict: fs is a built-in store'

# ---- NFS adapter settings ----
ctl adapter settings nfs show
expect_rc 0
expect_out '^SETTING +VALUE$'
expect_out '^lease_time +90$'
expect_out '^delegations_enabled +true$'
ctl adapter settings nfs show -o json
expect_json 'd["lease_time"] == 90 and len(d) == 21 and d["max_clients"] == 16384'
ctl adapter settings nfs show --defaults -o yaml
expect_yaml 'd["lease_time"] == 90 and d["delegations_enabled"] is True'
# Every field the server has must have a flag: send each one at its default value.
ctl adapter settings nfs show --defaults -o json
ALL_FLAGS=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join("--%s %s" % (k.replace("_", "-"), str(v).lower()) for k, v in d.items()))' "$WORK/out")
# shellcheck disable=SC2086
ctl adapter settings nfs update $ALL_FLAGS -o json
expect_rc 0
expect_json 'd["restart_required"] == [] and d["settings"]["lease_time"] == 90'
ctl adapter settings nfs update --lease-time 30 --delegations-enabled false \
  --v4-max-connections-per-session 4 -o json
expect_rc 0
expect_json 'd["settings"]["lease_time"] == 30 and d["settings"]["delegations_enabled"] is False and d["settings"]["v4_max_connections_per_session"] == 4 and d["restart_required"] == []'
ctl adapter settings nfs update --grace-period 45
expect_rc 0
expect_out '^grace_period +45$'
expect_out '^lease_time +30$'
ctl adapter settings nfs update --lease-time 5
expect_rc 1
expect_one_line_error
expect_err '^dfsctl: 400 Invalid setting: lease_time must be an integer between 10 and 3600 \(field lease_time, allowed 10\.\.3600\)$'
ctl adapter settings nfs update --min-minor-version 2 --max-minor-version 1
expect_rc 1
expect_err 'field min_minor_version'
ctl adapter settings nfs update --lease-time abc
expect_rc 2
expect_one_line_error
expect_err 'lease-time'
ctl adapter settings nfs update --delegations-enabled maybe
expect_rc 2
ctl adapter settings nfs update
expect_rc 2
expect_err 'nothing to update'
ctl adapter settings nfs update --no-such-setting 1
expect_rc 2
ctl adapter settings nfs reset --setting lease-time -o json
expect_rc 0
expect_json 'd["settings"]["lease_time"] == 90 and d["settings"]["grace_period"] == 45'
ctl adapter settings nfs reset --setting bogus
expect_rc 1
expect_err 'unknown setting bogus'
ctl adapter settings nfs reset
expect_rc 0
expect_out '^grace_period +90$'
ctl adapter settings nfs show -o json
expect_json 'd["delegations_enabled"] is True and d["v4_max_connections_per_session"] == 16'

# ---- NFS clients and sessions (made by a minimal NFSv4.1 client) ----
IDS=$(python3 "$HERE/nfs41_session.py" "$NFS_PORT" dfsctl-test-owner) || fail "nfs41_session.py failed"
CLIENT_ID=${IDS% *}
SESSION_ID=${IDS#* }
ctl client list
expect_rc 0
expect_out '^ID +OWNER +ADDRESS +MINOR +CONFIRMED +LEASE_S +COURTESY +SESSIONS +PROTECTION +IMPLEMENTATION$'
expect_out "^$CLIENT_ID +dfsctl-test-owner +127\.0\.0\.1:[0-9]+ +1 +true +[0-9.]+ +false +1 +none +dfsctl test client$"
ctl client list -o json
expect_json 'any(c["id"] == "'"$CLIENT_ID"'" and c["session_count"] == 1 for c in d)'
ctl client show "$CLIENT_ID" -o json
expect_json 'd["owner"] == "dfsctl-test-owner" and d["confirmed"] is True and d["minor_version"] == 1'
ctl client show "$CLIENT_ID"
expect_out '^owner +dfsctl-test-owner$'
ctl client sessions list "$CLIENT_ID"
expect_rc 0
expect_out '^ID +CREATED +CONNECTIONS +FORE_SLOTS +BACK_SLOTS +IN_USE +CB_PATH_UP +FLAGS$'
expect_out "^$SESSION_ID +[-0-9TZ:]+ +0 +"
ctl client sessions list "$CLIENT_ID" -o json
expect_json 'len(d) == 1 and d[0]["id"] == "'"$SESSION_ID"'" and d[0]["fore_channel"]["max_requests"] == d[0]["fore_slots"]'
ctl client sessions list "$CLIENT_ID" -o yaml
expect_yaml 'd[0]["id"] == "'"$SESSION_ID"'"'
ctl client sessions destroy "$CLIENT_ID" "$SESSION_ID"
expect_rc 0
expect_out "^Session $SESSION_ID of client $CLIENT_ID destroyed$"
ctl client sessions destroy "$CLIENT_ID" "$SESSION_ID"
expect_rc 1
expect_one_line_error
expect_err '404'
ctl client sessions list "$CLIENT_ID" -o json
expect_json 'd == []'
ctl client evict "$CLIENT_ID"
expect_rc 0
expect_out "^Client $CLIENT_ID evicted$"
ctl client show "$CLIENT_ID"
expect_rc 1
expect_err "404 Not found: no client $CLIENT_ID"
ctl client list -o json
expect_json 'all(c["id"] != "'"$CLIENT_ID"'" for c in d)'
ctl client show not-hex
expect_rc 2
expect_one_line_error

# ---- NFS connections: a client that keeps its connection open until it is drained ----
python3 "$HERE/nfs41_session.py" "$NFS_PORT" dfsctl-conn-owner hold > "$WORK/held" &
HOLD_PID=$!
for _ in $(seq 100); do [ -s "$WORK/held" ] && break; sleep 0.1; done
IDS=$(cat "$WORK/held")
CLIENT_ID=${IDS% *}
SESSION_ID=${IDS#* }
[ -n "$CLIENT_ID" ] || fail "nfs41_session.py hold printed nothing"
ctl client sessions list "$CLIENT_ID"
expect_rc 0
expect_out "^$SESSION_ID +[-0-9TZ:]+ +1 \(fore 1\) +"
ctl client sessions list "$CLIENT_ID" -o json
expect_json 'd[0]["connection_summary"] == {"fore": 1, "back": 0, "both": 0, "total": 1} and d[0]["connections"][0]["direction"] == "fore"'
ctl connection list
expect_rc 0
expect_out '^ID +PEER +LOCAL +SESSIONS +IDLE_S +BYTES_IN +BYTES_OUT +DRAINING$'
expect_out "^[0-9]+ +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:$NFS_PORT +${SESSION_ID:0:8}:fore +[0-9.]+ +[0-9]+ +[0-9]+ +false$"
ctl connection list -o json
CONN_ID=$(python3 -c "import json,sys; print([c['id'] for c in json.load(open(sys.argv[1])) if c['sessions'] and c['sessions'][0]['session'] == sys.argv[2]][0])" "$WORK/out" "$SESSION_ID")
expect_json 'any(c["sessions"] and c["sessions"][0]["client"] == "'"$CLIENT_ID"'" for c in d)'
ctl connection show "$CONN_ID" -o json
expect_rc 0
expect_json 'd["id"] == '"$CONN_ID"' and d["sessions"][0]["session"] == "'"$SESSION_ID"'" and d["bytes_in"] > 0'
ctl connection show abc
expect_rc 2
expect_one_line_error
ctl connection drain 999999
expect_rc 1
expect_err '404'
ctl client drain "$CLIENT_ID"
expect_rc 0
expect_out "^Client $CLIENT_ID: 1 connection\(s\) draining$"
# The held connection is closed by the server: the helper sees the end and exits.
for _ in $(seq 100); do kill -0 "$HOLD_PID" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$HOLD_PID" 2> /dev/null; then fail "drained connection still open"; kill "$HOLD_PID"; else ok; fi
wait "$HOLD_PID" 2> /dev/null
ctl client sessions list "$CLIENT_ID" -o json
expect_json 'd[0]["connection_summary"]["total"] == 0'

# ---- token refresh ----
# A broken access token is refused with 401; dfsctl refreshes once, saves the new pair and
# retries, so the command succeeds and the file holds a working token again.
python3 -c "import json; p='$CFG'; c=json.load(open(p)); c['access_token']='not-a-token'; json.dump(c, open(p, 'w'))"
chmod 600 "$CFG"
OLD_REFRESH=$(python3 -c "import json; print(json.load(open('$CFG'))['refresh_token'])")
ctl user list -o json
expect_rc 0
expect_json 'len(d) == 3'
python3 -c "import json,sys; c=json.load(open('$CFG')); sys.exit(0 if c['access_token'] != 'not-a-token' and c['refresh_token'] != '$OLD_REFRESH' else 1)" \
  && ok || fail "the refreshed token pair was not saved"
[ "$(stat -c %a "$CFG")" = 600 ] && ok || fail "$CFG lost mode 600 on refresh"
ctl user list
expect_rc 0
# Both tokens bad: one clear line asking for a new login.
python3 -c "import json; p='$CFG'; c=json.load(open(p)); c['access_token']='x'; c['refresh_token']='y'; json.dump(c, open(p, 'w'))"
ctl user list
expect_rc 1
expect_one_line_error
expect_err 'session has expired; run `dfsctl login`'
ctl login -u admin -p "$ADMIN_PW"
expect_rc 0

# ---- cleanup of users, logout ----
ctl user delete bob
expect_rc 0
expect_out '^User bob deleted$'
ctl user delete ann
expect_rc 0
ctl user delete admin
expect_rc 1
expect_err '409 Conflict: the last admin cannot be deleted'
ctl logout
expect_rc 0
expect_out "^Logged out of $SERVER$"
ctl status
expect_rc 1
expect_one_line_error
expect_err 'not logged in.*dfsctl login'
ctl logout
expect_rc 0

# ---- server gone ----
ctl login -u admin -p "$ADMIN_PW"
expect_rc 0
kill "$DFS_PID"
wait "$DFS_PID" 2> /dev/null
DFS_PID=
ctl status
expect_rc 3
expect_one_line_error
expect_err "cannot reach the server at $SERVER"
ctl user list -o json
expect_rc 3

echo "dfsctl: $CHECKS checks passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
