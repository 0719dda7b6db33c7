#!/bin/bash
# arbiter hook with a public key: an allow stands only when the signed
# audit events behind it check out (data/hook_signed.c). A real store signs
# the events (submit, approve, override); a scripted server
# (tests/helpers/fake_server.c) hands them to the hook as arbiter serve
# does, and also as a lying server would: another store's events, an event
# edited after signing, the allow of another call, a status the signed
# events do not say, an expired override, a rotated key.
. "$(dirname "$0")/../lib.sh"
FAKE=$(dirname "$ARBITER")/tests/helpers/fake_server
if [ ! -x "$FAKE" ]; then
	fail "no scripted server at $FAKE"
	exit 0
fi
clock_start
new_store
unset ARBITER_SERVER ARBITER_TOKEN ARBITER_PUBKEY ARBITER_TEST_CLIENT_CONF
KEY=$H/keys/audit.pub
enrol alice --as alice --role admin || fail "enrolling alice"
cat > "$H/policies/60-shell.yaml" <<'EOF'
version: 1
policies:
  - name: shell_removal
    actions: ["tool.call"]
    type: expression
    condition: 'tool == "Bash" && contains(input.command, "rm ")'
    severity: info
    effect: require_approval
    message: removing files needs a look
  - name: no_force_push
    actions: ["tool.call"]
    type: expression
    condition: 'tool == "Bash" && contains(input.command, "push --force")'
    severity: critical
    effect: deny
    override: {allowed: true, approvals: 1, role: admin, max_duration: 8h}
    message: force pushes need an override
EOF
pin alice || fail "pinning the test policies"

serve() {
	rm -f "$T/s.sock"
	: > "$T/s.log"
	"$FAKE" "unix:$T/s.sock" "$T/s.log" "$@" 2>> "$T/fake.err" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -S "$T/s.sock" ] && break; sleep 0.02; done
}
stop() { kill "$FAKE_PID" 2> /dev/null; wait "$FAKE_PID" 2> /dev/null; return 0; }
# the hook's server; the other commands here use the store itself (every
# command would go through $ARBITER_SERVER, PRODUCT.md section 9)
HOOK_SERVER=unix:$T/s.sock
call() { printf '{"tool_name":"Bash","tool_input":{"command":"%s"},"session_id":"s-1","cwd":"/work/app"}' "$1" > "$T/call.json"; }
hook() { run env ARBITER_SERVER="$HOOK_SERVER" "$ARBITER" hook "$@" < "$T/call.json"; }
echo '{"error":{"code":"not_found","message":"no such route"}}' > "$T/nf.json"
echo '{"items":[]}' > "$T/nokeys.json"
# document CMD: the document the hook sends for the call "CMD", as the server gets it
document() {
	call "$1"
	printf '{"id":99,"status":"pending","findings":[]}' > "$T/any.json"
	serve 201:$T/any.json
	ARBITER_SERVER=$HOOK_SERVER "$ARBITER" hook < "$T/call.json" > /dev/null 2>&1
	stop
	sed -n '/^{/p' "$T/s.log" > "$T/doc.json"
}
# event SEQ FILE: the signed event SEQ as the event stream sends it
event() {
	local ev
	ev=$(sqlite3 "$DB" "SELECT json_object('seq', seq, 'ts', ts, 'actor', actor, 'event', event, 'subject', subject, 'details', json(details), 'prev', prev, 'hash', hash, 'sig', sig) FROM audit WHERE seq = $1")
	printf 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n: hello\n\nid: %s\nevent: x\ndata: %s\n\n' "$1" "$ev" > "$T/$2"
}
seq_of() { sqlite3 "$DB" "SELECT max(seq) FROM audit WHERE event = '$1' AND subject = '$2'"; }
# listing ID STATUS SEQ...: the submission's result, listing its events
listing() {
	local id=$1 st=$2 items="" s
	shift 2
	for s in "$@"; do items="$items${items:+,}{\"seq\":$s,\"event\":\"$(sqlite3 "$DB" "SELECT event FROM audit WHERE seq = $s")\"}"; done
	printf '{"id":%s,"status":"%s","findings":[],"events":[%s]}' "$id" "$st" "$items" > "$T/sub.json"
	printf '{"id":%s,"status":"%s","findings":[]}' "$id" "$st" > "$T/answer.json"
}

# --- an allowed call ---
document "ls -la"
arbiter submit --json "$T/doc.json"
expect_out '"status":"allowed"' "the store allows ls"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
c=$(seq_of submission.create "$id")
listing "$id" allowed "$c"
event "$c" create.http
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http
hook --pubkey "$KEY" --format json
expect_code 0 "an allow whose signed submission.create checks out proceeds"
stop
grep -q "^GET /v1/events?after=$((c - 1)) HTTP" "$T/s.log" && pass "the signed event is read from the event stream" ||
	fail "requests: $(grep -E '^(GET|POST)' "$T/s.log" | tr '\n' ' ')"
serve 201:$T/answer.json 200:$T/nokeys.json 200:$T/sub.json raw:$T/create.http
hook --pubkey "$KEY"
expect_code 0 "GET /v1/keys listing no rotation: the first key stands"
stop
"$ARBITER" init "$T/other" > /dev/null
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http
hook --pubkey "$T/other/.arbiter/keys/audit.pub"
expect_code 2 "another store's key"
expect_err "signed event does not check out \\(#$id\\): event $c is not signed with the public key" "does not verify the event"
stop
sed 's/"findings":0/"findings":1/' "$T/create.http" > "$T/edited.http"
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/edited.http
hook --pubkey "$KEY"
expect_err "event $c does not hash to its hash" "an event edited after signing is caught"
stop
call "ls -l"
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http
hook --pubkey "$KEY"
expect_code 2 "the signed allow of another call"
expect_err "the signed submission.create of #$id is for [0-9a-f]{64}, not for this call" "is not this call's"
stop
call "ls -la"
printf '{"items":[{"seq":7,"event":"key.rotate"}]}' > "$T/rotated.json"
serve 201:$T/answer.json 200:$T/rotated.json
hook --pubkey "$KEY"
expect_err "the server's key was rotated 1 time since the public key" "a rotated key is not followed: denied"
stop
serve 201:$T/answer.json 404:$T/nf.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_err "cannot be read again" "a submission the server will not show again"
stop
serve 201:$T/answer.json
hook --pubkey "$T/nothing.pub"
expect_err "the public key $T/nothing.pub cannot be read" "a public key that cannot be read"
[ "$(grep -c '^POST' "$T/s.log")" -eq 0 ] && pass "... is refused before the call is submitted" || fail "it was submitted"
stop

# --- approved: the last signed event says approved ---
document "rm -rf build"
arbiter submit --json "$T/doc.json"
expect_out '"status":"pending"' "rm waits for a reviewer"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
c=$(seq_of submission.create "$id")
listing "$id" approved "$c"
event "$c" create.http
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http
hook --pubkey "$KEY"
expect_code 2 "a server saying approved while the signed events say pending"
expect_err "the last signed event about #$id \\($c, submission.create\\) does not say approved" "is caught"
stop
arbiter --as alice approve "$id" --code "$(code alice)"
expect_code 0 "alice approves"
a=$(seq_of decision.approve "$id")
listing "$id" approved "$c" "$a"
event "$a" approve.http
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http raw:$T/approve.http
hook --pubkey "$KEY" --format json
expect_code 0 "approved, and both signed events check out: proceeds"
expect_out '"reason":"approved \(#'"$id"'\)"' "(the approval's reason)"
stop

# --- overridden: until its signed expiry ---
document "git push --force"
arbiter submit --json "$T/doc.json"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
arbiter --as alice override "$id" --justification "the release branch needs this rewrite" --expires 1h \
	--code "$(code alice)"
expect_code 0 "alice overrides for an hour"
c=$(seq_of submission.create "$id")
g=$(seq_of override.grant "$id")
listing "$id" overridden "$c" "$g"
event "$c" create.http
event "$g" grant.http
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http raw:$T/grant.http
hook --pubkey "$KEY"
expect_code 0 "overridden, within its signed expiry: proceeds"
stop
serve 201:$T/answer.json 404:$T/nf.json 200:$T/sub.json raw:$T/create.http raw:$T/grant.http
clock_advance 7200
hook --pubkey "$KEY"
expect_code 2 "past its signed expiry"
expect_err "the signed override of #$id has expired" "an override the server still calls overridden"
stop
