#!/bin/bash
# arbiter hook and a reviewer, through a real arbiter serve: an agent known
# by its token calls over TLS with the certificate pinned in client.conf;
# a call that needs approval waits (--wait) and proceeds the moment a
# reviewer approves it through the server, and is blocked the moment one
# rejects it; a reviewer's decision reaches a waiting hook at once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start "$(date +%s)"
new_store
enrol alice --as alice --role admin || fail "enrolling alice"
cat > "$T/s/.arbiter/policies/60-shell.yaml" <<'EOF'
version: 1
policies:
  - name: shell_removal
    description: Removing files from a shell needs a reviewer
    actions: ["tool.call"]
    type: expression
    condition: 'tool == "Bash" && contains(input.command, "rm ")'
    severity: warning
    effect: require_approval
    message: removing files needs a look
EOF
pin alice || fail "pinning the shell policy"
arbiter --as alice agent add bot --token --code "$(code alice)"
expect_code 0 "the agent bot, known by its token"
sed -n 's/^token: //p' "$OUT" > "$T/bot.token"
chmod 600 "$T/bot.token"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" \
	-out "$T/cert.pem" -days 30 -subj /CN=arbiter-test > /dev/null 2>&1
PORT=$(free_port)
serve_start --listen "127.0.0.1:$PORT" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || exit 0
mkdir -m 755 "$T/etc"
export ARBITER_TEST_CLIENT_CONF=$T/etc/client.conf
printf 'server: https://127.0.0.1:%s\ntls_pin: %s\nmax_wait: 40\n' "$PORT" \
	"$(openssl x509 -in "$T/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)" > "$ARBITER_TEST_CLIENT_CONF"
unset ARBITER_SERVER ARBITER_TOKEN
call() { printf '{"tool_name":"Bash","tool_input":{"command":"%s"},"session_id":"s","cwd":"/work/app"}' "$1" > "$T/call.json"; }
# submitted ID: waits (up to 20 s) until the hook's submission ID is stored
submitted() {
	for _ in $(seq 200); do
		api GET "/v1/submissions/$1"
		[ "$STATUS" = 200 ] && return 0
		sleep 0.1
	done
	fail "submission $1 never came"
}
decide() {      # decide ID BODY-JSON: a decision by alice through the socket
	api POST "/v1/submissions/$1/decisions" -H 'Content-Type: application/json' \
		--data-binary "{\"as\":\"alice\",\"code\":\"$(code alice)\",$2}"
}

call "ls"
run "$ARBITER" hook --token-file "$T/bot.token" --format json < "$T/call.json"
expect_code 0 "an agent's allowed call over https, the certificate pinned"
api GET /v1/submissions/1
expect_out '"submitter":"bot"' "the submitter is the token's agent"

call "rm -rf build"
"$ARBITER" hook --token-file "$T/bot.token" --wait 30 < "$T/call.json" > /dev/null 2> "$T/w1.err" &
hpid=$!
submitted 2
sleep 0.5
decide 2 '"decision":"approve","ack":true'
expect_status 200 "alice approves #2 through the server"
start=$(date +%s%N)
wait "$hpid"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -eq 0 ] && pass "the waiting hook proceeds once approved" || fail "hook exited $rc: $(cat "$T/w1.err")"
[ "$ms" -lt 2000 ] && pass "at once ($ms ms after the decision)" || fail "$ms ms after the decision"

call "rm -rf dist"
"$ARBITER" hook --token-file "$T/bot.token" --wait 30 < "$T/call.json" > /dev/null 2> "$T/w2.err" &
hpid=$!
submitted 3
sleep 0.5
decide 3 '"decision":"reject","reason":"keep dist"'
expect_status 200 "alice rejects #3 through the server"
wait "$hpid"
rc=$?
[ "$rc" -eq 2 ] && grep -q '^arbiter hook: rejected by alice (#3): keep dist$' "$T/w2.err" &&
	pass "a rejection while waiting blocks, saying who and why" || fail "hook exited $rc: $(cat "$T/w2.err")"

# the same calls again: ?match=digest finds their decisions
before=$(api GET '/v1/submissions?limit=1000'; grep -o '"id":' "$OUT" | wc -l)
call "rm -rf build"
run "$ARBITER" hook --token-file "$T/bot.token" < "$T/call.json"
expect_code 0 "the approved call, made again, proceeds: ?match=digest finds its approval"
call "rm -rf dist"
run "$ARBITER" hook --token-file "$T/bot.token" < "$T/call.json"
expect_code 2 "the rejected call, made again"
expect_err '^arbiter hook: rejected by alice \(#3\): keep dist$' "gets its rejection back"
after=$(api GET '/v1/submissions?limit=1000'; grep -o '"id":' "$OUT" | wc -l)
[ "$after" -eq "$before" ] && pass "neither made a new submission" || fail "$before submissions, then $after"
call "rm -rf build/"
run "$ARBITER" hook --token-file "$T/bot.token" < "$T/call.json"
expect_code 2 "a different call"
expect_err 'awaiting review \(#4\)' "needs its own review"
