#!/bin/bash
# arbiter hook with a public key: an allow stands only on the signed audit
# events the answer carries (data/hook_signed.c, data/evidence_client.c).
# A real store signs the events (submit, approve, override); a scripted
# server (tests/helpers/fake_server.c) hands them to the hook in its answers
# as arbiter serve does, and also as a lying server would: another store's
# events, an event edited after signing, the allow of another call or of
# another submission, a status the signed events do not say, an expired
# override, no events at all, a rotated key. Each of those is refused.
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
# event SEQ: the signed event SEQ as an answer carries it
event() {
	sqlite3 "$DB" "SELECT json_object('seq', seq, 'ts', ts, 'actor', actor, 'event', event, 'subject', subject, 'details', json(details), 'prev', prev, 'hash', hash, 'sig', sig) FROM audit WHERE seq = $1"
}
seq_of() { sqlite3 "$DB" "SELECT max(seq) FROM audit WHERE event = '$1' AND subject = '$2'"; }
# answer ID STATUS SEQ...: the server's answer to the hook, saying STATUS,
# with the signed events SEQ... as its evidence (none: no evidence at all)
answer() {
	local id=$1 st=$2 items="" s extra=""
	shift 2
	for s in "$@"; do items="$items${items:+,}$(event "$s")"; done
	[ -n "${EXPIRES:-}" ] && extra=",\"expires_at\":\"$EXPIRES\""
	if [ $# -gt 0 ]; then
		printf '{"id":%s,"status":"%s","findings":[]%s,"evidence":[%s]}' "$id" "$st" "$extra" "$items" > "$T/answer.json"
	else
		printf '{"id":%s,"status":"%s","findings":[]%s}' "$id" "$st" "$extra" > "$T/answer.json"
	fi
}

# --- an allowed call ---
document "ls -la"
arbiter submit --json "$T/doc.json"
expect_out '"status":"allowed"' "the store allows ls"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
c=$(seq_of submission.create "$id")
answer "$id" allowed "$c"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY" --format json
expect_code 0 "an allow whose signed submission.create checks out proceeds"
stop
[ "$(grep -cE '^(GET|POST) ' "$T/s.log")" -eq 2 ] && grep -q '^GET /v1/keys HTTP' "$T/s.log" &&
	pass "the answer carries the event: the hook asks only whether the key was rotated" ||
	fail "requests: $(grep -E '^(GET|POST)' "$T/s.log" | tr '\n' ' ')"
serve 201:$T/answer.json 200:$T/nokeys.json
hook --pubkey "$KEY"
expect_code 0 "GET /v1/keys listing no rotation: the first key stands"
stop
"$ARBITER" init "$T/other" > /dev/null
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$T/other/.arbiter/keys/audit.pub"
expect_code 2 "another store's key"
expect_err "signed event does not check out \\(#$id\\): event $c is not signed with the public key" "does not verify the event"
stop
sed 's/"findings":0/"findings":1/' "$T/answer.json" > "$T/edited.json"
serve 201:$T/edited.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "an event edited after signing"
expect_err "event $c does not hash to its hash" "is caught"
stop
call "ls -l"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "the signed allow of another call"
expect_err "its signed events are about the document with digest [0-9a-f]{64}, not [0-9a-f]{64}" "is not this call's"
stop
call "ls -la"
answer $((id + 100)) allowed "$c"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "an answer about another submission with this one's signed event"
expect_err "event $c \\(submission.create, about \"$id\"\\) is no event that sets the status of submission $((id + 100))" "is caught"
stop
answer "$id" allowed
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "an allow without its signed event"
expect_err "it says allowed, but the answer carries no signed event behind it" "is refused"
serve 201:$T/answer.json
hook
expect_code 0 "(without a public key the hook takes the server's word)"
stop
answer "$id" allowed "$c"
printf '{"items":[{"seq":7,"event":"key.rotate"}]}' > "$T/rotated.json"
serve 201:$T/answer.json 200:$T/rotated.json
hook --pubkey "$KEY"
expect_code 2 "a rotation that is no signed event"
expect_err "GET /v1/keys lists something that is no signed key.rotate event" "is not followed: denied"
stop
serve 201:$T/answer.json
hook --pubkey "$T/nothing.pub"
expect_err "the public key $T/nothing.pub cannot be read" "a public key that cannot be read"
[ "$(grep -c '^POST' "$T/s.log")" -eq 0 ] && pass "... is refused before the call is submitted" || fail "it was submitted"
stop

# --- approved: the signed approval names this call's digest ---
document "rm -rf build"
arbiter submit --json "$T/doc.json"
expect_out '"status":"pending"' "rm waits for a reviewer"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
c=$(seq_of submission.create "$id")
answer "$id" approved "$c"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "a server saying approved while the signed events say pending"
expect_err "it says approved, but the last signed event that set its status \\(event $c, submission.create\\) says pending" "is caught"
stop
arbiter --as alice approve "$id" --code "$(code alice)"
expect_code 0 "alice approves"
a=$(seq_of decision.approve "$id")
q "SELECT json_extract(details, '$.digest') FROM audit WHERE seq = $a" | grep -qE '^[0-9a-f]{64}$' &&
	pass "the approval's event names the document's digest" || fail "the approval names no digest"
answer "$id" approved "$a"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY" --format json
expect_code 0 "approved, and its signed approval checks out: proceeds"
expect_out '"reason":"approved \(#'"$id"'\)"' "(the approval's reason)"
stop
serve 201:$T/answer.json 404:$T/nf.json
call "rm -rf /"
hook --pubkey "$KEY"
expect_code 2 "the approval of one call does not allow another"
expect_err "its signed events are about the document with digest" "the digests differ"
stop

# --- overridden: until its signed expiry ---
document "git push --force"
arbiter submit --json "$T/doc.json"
id=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$OUT")
arbiter --as alice override "$id" --justification "the release branch needs this rewrite" --expires 1h \
	--code "$(code alice)"
expect_code 0 "alice overrides for an hour"
g=$(seq_of override.grant "$id")
answer "$id" overridden "$g"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 0 "overridden, within its signed expiry: proceeds"
stop
EXPIRES=2999-01-01T00:00:00.000Z answer "$id" overridden "$g"
serve 201:$T/answer.json 404:$T/nf.json
hook --pubkey "$KEY"
expect_code 2 "an answer that says a later expiry than the signed one"
expect_err "it says overridden until 2999-01-01T00:00:00.000Z, but its signed override \\(event $g\\)" "is caught"
stop
answer "$id" overridden "$g"
serve 201:$T/answer.json 404:$T/nf.json
clock_advance 7200
hook --pubkey "$KEY"
expect_code 2 "past its signed expiry"
expect_err "its signed override \\(event $g\\) expired at" "an override the server still calls overridden"
stop

# --- against arbiter serve itself: the answers carry the events, and a
# status written into its database is no allow, key or no key ---
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
serve_start || exit 0
HOOK_SERVER=unix:$SOCK
call "ls -la"
hook --pubkey "$KEY" --format json
expect_code 0 "the server's allow of a new call carries its signed event"
call "rm -rf build"
hook --pubkey "$KEY"
expect_code 0 "its earlier approval of rm, found by digest, carries the signed approval"
call "rm -rf cache"
hook --pubkey "$KEY"
expect_code 2 "rm -rf cache waits for a reviewer"
forged=$(q "SELECT max(id) FROM submissions")
q "UPDATE submissions SET status = 'approved', decided_at = '2030-01-01T00:00:00.000Z' WHERE id = $forged"
for key in "--pubkey $KEY" ""; do
	# shellcheck disable=SC2086
	hook $key
	expect_code 2 "a status written into the database is no allow ${key:+(with the key)}${key:-(without a key)}"
	expect_err "submission $forged: state does not match the audit chain" "the server refuses it as tampered"
done
[ "$(q "SELECT count(*) FROM audit WHERE event = 'state.tamper' AND subject = '$forged'")" = 1 ] &&
	pass "the server audited the mismatch once" || fail "state.tamper events: $(q "SELECT count(*) FROM audit WHERE event = 'state.tamper'")"
serve_stop
