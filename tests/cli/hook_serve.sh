#!/bin/bash
# arbiter hook against a real arbiter serve (the example policy set): a
# tool the policies deny is blocked with the policy and the override named,
# an allowed call proceeds and is stored as the tool.call submission the
# hook built, a call allowed only with modifications is blocked, --wait
# long-polls to its deadline, client.conf's server_user is checked against
# the server's uid before anything is sent, and a server that stops while
# the hook waits, or is gone, leaves the call blocked.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
new_store
serve_start || exit 0
unset ARBITER_TOKEN ARBITER_PUBKEY ARBITER_TEST_CLIENT_CONF
export ARBITER_SERVER=unix:$SOCK
call() {        # call TOOL INPUT-JSON: a host's call on standard input
	printf '{"tool_name":"%s","tool_input":%s,"session_id":"sess-9","cwd":"/work/app","hook_event_name":"PreToolUse"}' \
		"$1" "$2" > "$T/call.json"
}
hook() { run "$ARBITER" hook "$@" < "$T/call.json"; }
count() { api GET '/v1/submissions?limit=1000'; grep -o '"id":' "$OUT" | wc -l; }

call shell_exec '{"cmd":"make clean"}'
hook
expect_code 2 "a denied tool is blocked"
expect_err '^arbiter hook: blocked \(#1\): policy denied_tools \(Tool is denied by policy\): a reviewer can run `arbiter override 1 --justification TEXT`$' \
	"with the submission, the policy and what a reviewer can do, on one line"
[ "$(wc -l < "$ERR")" -eq 1 ] && pass "one line on stderr" || fail "$(wc -l < "$ERR") lines"

# the same call again (?match=digest) names the same submission, and a
# reviewer's override lets exactly that call proceed, not another
hook
expect_code 2 "the same denied call again is still blocked"
expect_err 'blocked \(#1\)' "naming the earlier submission of the same call, not a new one"
enrol alice --role admin || fail "enrol alice"
api POST /v1/submissions/1/decisions -H 'Content-Type: application/json' --data-binary \
	"{\"decision\":\"override\",\"as\":\"alice\",\"code\":\"$(code alice)\",\"justification\":\"make clean is harmless in this sandbox\"}"
expect_status 200 "a reviewer overrides it through the server"
expect_out '"outcome": "waiting"' "the first of the two approvals denied_tools needs"
enrol bob --role admin --as alice --code "$(code alice)" || fail "enrol bob"
api POST /v1/decisions -H 'Content-Type: application/json' --data-binary \
	"{\"decision\":\"override\",\"ids\":[1],\"as\":\"bob\",\"code\":\"$(code bob)\",\"justification\":\"make clean is harmless in this sandbox\"}"
expect_status 200 "a second reviewer's override completes it"
hook
expect_code 0 "the overridden call, retried, proceeds"
expect_no_err . "quietly"
hook --pubkey "$H/keys/audit.pub"
expect_code 0 "and with the store's public key: the signed submission.create and override.grant check out"
call shell_exec '{"cmd":"rm -rf /"}'
hook
expect_code 2 "a different call of the same tool needs its own decision"
expect_err 'blocked \(#2\)' "as a new submission"

call Read '{"path":"README.md"}'
hook --format json
expect_code 0 "an allowed call proceeds"
expect_out '^\{"decision":"allow","reason":"allowed \(#3\)","id":3\}$' "--format json prints the verdict"
api GET /v1/submissions/3
expect_out '"action":"tool.call"' "the call is stored as a tool.call submission"
expect_out '"document":\{"action":"tool.call","cwd":"/work/app","input":\{"path":"README.md"\},"meta":\{"event":"PreToolUse","session":"sess-9"\},"tool":"Read"\}' \
	"holding the tool, its input, the directory and the session"
hook
expect_code 0 "the same allowed call again proceeds"
[ "$(count)" -eq 4 ] && pass "an allowed call is stored (and audited) each time" || fail "$(count) submissions"

call send_email '{"to":"all@example.com"}'
hook
expect_code 2 "a call allowed only with modifications is blocked"
expect_err 'allowed only with modifications \(#5\): \{"mode":"draft"\} \(policy risky_tools_draft_mode' \
	"naming the modifications and the policy"

call shell_exec '{"cmd":"make dist"}'
start=$(date +%s%N)
hook --wait 2
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_code 2 "--wait: a block nobody decides"
expect_err '^arbiter hook: still awaiting review \(#6\): policy denied_tools' "is still awaiting review at the deadline"
[ "$ms" -ge 900 ] && [ "$ms" -lt 8000 ] && pass "after about the wait ($ms ms)" || fail "--wait 2 took $ms ms"

ARBITER_TOKEN=not-a-known-token hook
expect_code 2 "a token the server does not know"
expect_err 'HTTP 401, unauthenticated' "is refused by the server"

# the store's public key: the signed events behind an allow, from the server itself
call Read '{"path":"signed.md"}'
hook --pubkey "$H/keys/audit.pub" --format json
expect_code 0 "with the store's public key, an allow whose signed events check out proceeds"
"$ARBITER" init "$T/other" > /dev/null
hook --pubkey "$T/other/.arbiter/keys/audit.pub"
expect_code 2 "with another key"
expect_err 'signed event does not check out \(#[0-9]+\): event [0-9]+ is not signed with the public key' \
	"the same allow is refused"

# client.conf: server_user is checked against the server's uid
mkdir -m 755 "$T/etc"
export ARBITER_TEST_CLIENT_CONF=$T/etc/client.conf
printf 'server: unix:%s\nserver_user: %s\nmax_wait: 10\n' "$SOCK" "$(id -un)" > "$ARBITER_TEST_CLIENT_CONF"
call Read '{"path":"a"}'
ARBITER_SERVER=unix:$T/elsewhere.sock hook
expect_code 0 "client.conf's server, run by server_user: allowed"
other=$(getent passwd 65534 | cut -d: -f1)
printf 'server: unix:%s\nserver_user: %s\n' "$SOCK" "${other:-65534}" > "$ARBITER_TEST_CLIENT_CONF"
before=$(count)
hook
expect_code 2 "a server not run by server_user"
expect_err "the server runs as uid $(id -u), not as ${other:-65534}" "is refused"
[ "$(count)" -eq "$before" ] && pass "before anything is sent: nothing stored" || fail "stored $before -> $(count)"
unset ARBITER_TEST_CLIENT_CONF

# the server stops while the hook waits, and then is gone
call shell_exec '{"cmd":"rm -rf /"}'
"$ARBITER" hook --wait 30 < "$T/call.json" > /dev/null 2> "$T/waiting.err" &
hpid=$!
sleep 1
start=$(date +%s%N)
serve_stop
wait "$hpid"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 2 ] && [ "$ms" -lt 5000 ] && pass "a server stopping under a waiting hook: blocked at once ($ms ms)" ||
	fail "hook exited $rc after $ms ms: $(cat "$T/waiting.err")"
hook
expect_code 2 "no server: blocked"
expect_err "cannot reach the server at unix:$SOCK" "saying the server cannot be reached"
