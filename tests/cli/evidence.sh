#!/bin/bash
# Allow only on signed evidence (PRODUCT.md sections 6, 7 and 9): a status
# written into arbiter.db by hand, as someone with write access to the file
# would, is not an allow. wait, show and a resubmitting submit refuse it
# (exit 4, "state does not match the audit chain"), it is audited as
# state.tamper (once per mismatch), and nothing else changes; a decision or
# a reevaluation of a forged state is refused too, so that it cannot be
# laundered into a signed one, and so is a reevaluation of a document
# other than the one its signed submission.create names; an inserted
# decisions row counts for nothing in the two-person rule; a swapped digest
# or document is caught beside an allow. The API answers a forged allow as
# 409 tampered and every allow with its signed event. Served
# (tests/cli/served.list), every command gives the same output and exit code,
# checked by a client holding the public key.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; served_stop; rm -rf "$T"' EXIT
clock_start
new_store
enrol alice --as alice --role admin || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
enrol carol --as alice --code "$(code alice)" || fail "enrol carol"
rm -f "$H"/policies/*.yaml
cat > "$H/policies/10-evidence.yaml" <<'EOF'
version: 1
policies:
  - name: needs_a_look
    actions: ["test.review"]
    type: expression
    condition: 'true'
    severity: info
    effect: require_approval
    message: a reviewer looks first
  - name: one_key
    actions: ["test.block"]
    type: expression
    condition: 'true'
    severity: critical
    effect: deny
    override: {allowed: true, approvals: 1, role: reviewer, max_duration: 8h}
    message: a reviewer must override
  - name: two_keys
    actions: ["test.two"]
    type: expression
    condition: 'true'
    severity: critical
    effect: deny
    override: {allowed: true, approvals: 2, role: reviewer, max_duration: 8h}
    message: two reviewers must agree
EOF
pin alice || fail "pin the test policies"
audited() { q "SELECT count(*) FROM audit WHERE event = 'state.tamper' AND subject = '$1'"; }
events() { q "SELECT count(*) FROM audit WHERE event = '$1' AND subject = '$2'"; }
# sub REF ACTION: submits a document; its id in $ID, its file $T/REF.yaml
sub() {
	printf 'action: %s\nref: ev/%s\nsubmitter: agent-1\nn: %s\n' "$2" "$1" "$1" > "$T/$1.yaml"
	arbiter submit --json "$T/$1.yaml"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}
MISMATCH='state does not match the audit chain'

# --- a genuine approval: show, wait and a retry allow ---
sub good test.review
GOOD=$ID
arbiter --as bob approve "$GOOD" --code "$(code bob)"
expect_code 0 "bob approves $GOOD"
arbiter show "$GOOD"
expect_code 0 "show of a genuine approval exits 0"
arbiter wait "$GOOD"
expect_code 0 "wait on it exits 0"
expect_out "^submission $GOOD: approved" "and says approved"
arbiter submit "$T/good.yaml"
expect_code 0 "resubmitting its ref exits 0"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'state.tamper'")" = 0 ] &&
	pass "nothing is audited as tampering" || fail "a genuine approval was audited as tampering"

# --- UPDATE submissions SET status = 'approved' ---
sub forged test.review
F=$ID
before=$(q "SELECT count(*) FROM audit")
q "UPDATE submissions SET status = 'approved', decided_at = '2030-01-01T00:00:00.000Z' WHERE id = $F"
arbiter wait "$F"
expect_code 4 "wait on a forged approval exits 4"
expect_err "^arbiter: submission $F: $MISMATCH: it says approved, but the last signed event that set its status \\(event [0-9]+, submission.create\\) says pending$" \
	"with the message, naming what the signed chain says"
expect_no_out . "and says nothing on stdout"
[ "$(audited "$F")" = 1 ] && pass "the mismatch is audited as state.tamper" || fail "state.tamper events: $(audited "$F")"
arbiter show "$F"
expect_code 4 "show of the forged approval exits 4"
expect_err "submission $F: $MISMATCH" "with the message"
arbiter show "$F" --json
expect_code 4 "show --json of it exits 4"
expect_no_out . "and prints no result"
arbiter submit "$T/forged.yaml"
expect_code 4 "resubmitting its ref exits 4"
expect_err "forged.yaml:1:1: submission $F: $MISMATCH" "naming the document and the submission"
[ "$(audited "$F")" = 1 ] && pass "audited once per mismatch, however often it is found" ||
	fail "state.tamper events: $(audited "$F")"
arbiter audit list --event state.tamper --json
expect_out "\"subject\":\"$F\",\"details\":\\{\"mismatch\":\"it says approved, but " "the event names the submission and the mismatch"
expect_out '"status":"approved"' "and the status its row says"
[ "$(q "SELECT count(*) FROM audit")" = $((before + 1)) ] && [ "$(events decision.approve "$F")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM decisions WHERE submission_id = $F")" = 0 ] &&
	pass "nothing else was written: no decision, no other event" || fail "something changed"
arbiter --as bob approve "$F" --code "$(code bob)"
expect_code 4 "approving the forged row is refused too"
expect_err "$MISMATCH" "as tampering"
[ "$(events decision.approve "$F")" = 0 ] && pass "and nothing was decided" || fail "it was decided"

# --- a blocked one made pending, to be approved instead of overridden ---
sub laundered test.block
L=$ID
q "UPDATE submissions SET status = 'pending' WHERE id = $L"
arbiter --as bob approve "$L" --code "$(code bob)"
expect_code 4 "approving a blocked submission made pending by hand is refused"
expect_err "submission $L: $MISMATCH: it says pending, but the last signed event that set its status \\(event [0-9]+, submission.create\\) says blocked" \
	"the decision would launder the forged state"
[ "$(events decision.approve "$L")" = 0 ] && [ "$(audited "$L")" = 1 ] &&
	pass "nothing was decided, and the mismatch is audited" || fail "approve on a laundered row: $(events decision.approve "$L") decisions, $(audited "$L") audits"
sub rejected test.review
R=$ID
arbiter --as bob reject "$R" --reason "not this one" --code "$(code bob)"
q "UPDATE submissions SET status = 'pending' WHERE id = $R"
arbiter --as alice reevaluate "$R"
expect_code 4 "evaluating a rejected submission again after it was made pending by hand is refused"
expect_err "submission $R: $MISMATCH" "as tampering"
[ "$(events submission.reevaluate "$R")" = 0 ] && pass "and it was not evaluated again" || fail "it was evaluated again"
# a harmless document swapped in for a blocked one: evaluated again, it
# would be allowed, and the allow would stand for the original's digest
# (the reevaluation's event names it)
sub harmful test.block
B=$ID
q "UPDATE submissions SET document = replace(document, '\"test.block\"', '\"test.fine\"') WHERE id = $B"
[ "$(q "SELECT document LIKE '%test.fine%' FROM submissions WHERE id = $B")" = 1 ] &&
	pass "the document of blocked $B is swapped by hand" || fail "the document was not swapped"
arbiter --as alice reevaluate "$B"
expect_code 4 "evaluating a swapped document again is refused"
expect_err "submission $B: $MISMATCH: its stored document has digest [0-9a-f]{64}, but its signed submission.create \\(event [0-9]+\\) names [0-9a-f]{64}" \
	"naming the digest it has and the one the chain signed"
[ "$(events submission.reevaluate "$B")" = 0 ] && [ "$(audited "$B")" = 1 ] &&
	[ "$(q "SELECT status FROM submissions WHERE id = $B")" = blocked ] &&
	pass "nothing was evaluated, it is still blocked, and the mismatch is audited as state.tamper" ||
	fail "after the refusal: $(events submission.reevaluate "$B") reevaluations, $(audited "$B") audits, $(q "SELECT status FROM submissions WHERE id = $B")"
q "UPDATE submissions SET document = replace(document, '\"test.fine\"', '\"test.block\"') WHERE id = $B"
arbiter --as alice reevaluate "$B"
expect_code 3 "its own document put back, it is evaluated again (still blocked)"
[ "$(events submission.reevaluate "$B")" = 1 ] && pass "with its event" || fail "no reevaluation event"

# --- an override's expiry moved by hand ---
sub short test.block
O=$ID
arbiter --as bob override "$O" --justification "a short while, for this test only" --expires 1h --code "$(code bob)"
expect_code 0 "bob overrides $O for an hour"
arbiter wait "$O"
expect_code 0 "the override allows"

# --- the digest or the document of an approval swapped ---
sub swapped test.review
D=$ID
arbiter --as bob approve "$D" --code "$(code bob)"
q "UPDATE submissions SET digest = '$(printf '%064d' 0)' WHERE id = $D"
arbiter show "$D"
expect_code 4 "an approval whose digest was swapped is refused"
expect_err "its signed events are about the document with digest [0-9a-f]{64}, not 0{64}" "naming both digests"
sub shown test.review
S=$ID
arbiter --as bob approve "$S" --code "$(code bob)"
q "UPDATE submissions SET document = replace(document, '\"n\":\"shown\"', '\"n\":\"other\"') WHERE id = $S"
arbiter show "$S"
expect_code 4 "an approval shown with another document is refused"
expect_err "the document it shows is not the one of digest" "the document must be the one its digest names"

# (after those decisions: a server reads what a change written through it
# touched afresh, and anything else within a second as it last read it)
q "UPDATE submissions SET expires_at = '2999-01-01T00:00:00.000Z' WHERE id = $O"
clock_advance 7200
arbiter show "$O"
expect_code 4 "an override whose expiry was moved by hand no longer allows"
expect_err "it says overridden until 2999-01-01T00:00:00.000Z, but its signed override \\(event [0-9]+\\) says until" \
	"the signed expiry is the one that holds"

# --- the two-person rule counts signed approvals only ---
sub two test.two
P=$ID
q "INSERT INTO decisions (submission_id, reviewer, decision, note, at, at_ms, expires_at)
   VALUES ($P, 'mallory', 'override.partial', 'inserted by hand', '2030-01-01T00:00:00.000Z',
   $(( $(clock_now) * 1000 )), '2999-01-01T00:00:00.000Z')"
arbiter --as bob override "$P" --justification "bob agrees; a second reviewer must too" --code "$(code bob)"
expect_code 3 "with an inserted approval, bob's is still the first of two"
expect_out "override 1 of 2 recorded by bob" "the inserted row does not count"
[ "$(q "SELECT status FROM submissions WHERE id = $P")" = blocked ] && pass "the submission stays blocked" ||
	fail "status $(q "SELECT status FROM submissions WHERE id = $P")"
arbiter show "$P"
expect_code 3 "show says it still waits"
expect_out "1 of 2 approvals given" "counting bob's signed approval alone"
arbiter --as carol override "$P" --justification "carol agrees with bob on this one" --code "$(code carol)"
expect_code 0 "carol's approval completes it"
arbiter wait "$P"
expect_code 0 "and the override allows"

# --- audit verify finds each of the rows written by hand above, the first
# of them (the forged approval) named (tests/cli/audit_tables.sh has the rest) ---
arbiter audit verify
expect_code 4 "audit verify catches the rows written by hand"
expect_out "^audit: TAMPERED: submissions row $F status is \"approved\" but the events say pending \(last event seq [0-9]+\)$" \
	"naming the forged approval's row, column and event"

# --- the API: a forged allow is 409 tampered, every allow carries its event ---
if ! served; then serve_start || exit 0; fi
SOCK=$H/arbiter.sock
api GET "/v1/submissions/$F"
expect_status 409 "GET of the forged approval answers 409"
expect_out '"code": "tampered"' "as tampered"
expect_out "\"mismatch\": \"it says approved, but " "with the mismatch"
expect_out "\"result\": \\{\"id\":$F," "and the result as its row reads"
api GET "/v1/submissions/$F?wait=5"
expect_status 409 "a long poll on it answers 409 at once"
api GET "/v1/submissions/$GOOD"
expect_status 200 "GET of the genuine approval answers 200"
expect_out "\"evidence\":\\[\\{\"seq\":[0-9]+,\"ts\":\"[^\"]+\",\"actor\":\"bob\",\"event\":\"decision.approve\",\"subject\":\"$GOOD\",\"details\":\\{[^}]*\"digest\":\"[0-9a-f]{64}\"" \
	"with its signed decision.approve, which names the digest"
expect_out '"prev":"[0-9a-f]{64}","hash":"[0-9a-f]{64}","sig":"[0-9a-f]{128}"\}\]' "its prev, hash and signature"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"action":"test.allowed","ref":"ev/api"}'
expect_status 201 "a new allowed submission through the API"
expect_out '"evidence":\[\{"seq":[0-9]+,.*"event":"submission.create"' "carries its signed submission.create"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"action":"test.allowed","ref":"ev/api"}'
expect_status 200 "the same ref again"
expect_out '"evidence":\[\{"seq":[0-9]+,.*"event":"submission.create"' "carries it too"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary "$(printf '{"action":"test.review","ref":"ev/forged","submitter":"agent-1","n":"forged"}')"
expect_status 409 "resubmitting the forged approval through the API answers 409"
expect_out '"code": "tampered"' "as tampered"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"action":"test.review","ref":"ev/pending"}'
expect_no_out '"evidence"' "a pending result carries no evidence"
# past its first events (signed at once), the server signs on a second
# thread and builds a new submission's evidence from the event it has just
# committed, kept in memory: byte for byte the event as the table holds it
api POST /v1/submissions -H 'Content-Type: application/x-ndjson' \
	--data-binary "$(for i in $(seq 20); do printf '{"action":"test.allowed","ref":"ev/warm/%d"}\n' "$i"; done)"
expect_status 200 "twenty more submissions in one JSON Lines body"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"action":"test.allowed","ref":"ev/kept"}'
expect_status 201 "and one more, allowed"
given=$(sed -n 's/.*"evidence":\[\(.*\)\]}$/\1/p' "$OUT")
seq=$(printf '%s' "$given" | sed -n 's/^{"seq":\([0-9]*\),.*/\1/p')
kept=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT")
printf '%s' "$given" | grep -q "\"event\":\"submission.create\",\"subject\":\"$kept\"," &&
	pass "its evidence is the submission.create of that submission ($kept)" ||
	fail "evidence of submission $kept: $given"
api GET "/v1/audit?limit=1&newer=$((seq - 1))"
stored=$(sed -n "s/^ *\\({\"seq\":$seq,.*}\\),*\$/\\1/p" "$OUT")
[ -n "$given" ] && [ "$given" = "$stored" ] && pass "its evidence is the event as the audit table holds it" ||
	fail "evidence and audit row differ: '$given' against '$stored' ($(head -c 300 "$OUT"))"
if ! served; then serve_stop; fi

# --- a server that lies: a client holding the public key checks ---
if ! served; then
	printf '{"items":[]}' > "$T/nokeys.json"
	FAKE=$(dirname "$ARBITER")/tests/helpers/fake_server
	# the genuine approval's answer, claimed for the forged submission
	printf '{"version":"x","store":"%s","policy_version":2,"head":{"seq":1,"hash":""},"counts":{}}' \
		"$(q "SELECT value FROM meta WHERE key = 'store_id'")" > "$T/status.json"
	good=$(sqlite3 "$DB" "SELECT json_object('seq', seq, 'ts', ts, 'actor', actor, 'event', event, 'subject', subject, 'details', json(details), 'prev', prev, 'hash', hash, 'sig', sig) FROM audit WHERE event = 'decision.approve' AND subject = '$GOOD'")
	printf '{"id":%s,"status":"approved","digest":"%s","findings":[],"document":null,"decisions":[],"events":[],"evidence":[%s]}' \
		"$F" "$(q "SELECT digest FROM submissions WHERE id = $F")" "$good" > "$T/lie.json"
	"$FAKE" "unix:$T/fake.sock" "$T/fake.log" 200:"$T/status.json" 200:"$T/lie.json" 200:"$T/nokeys.json" 2> /dev/null &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -S "$T/fake.sock" ] && break; sleep 0.02; done
	arbiter --server "unix:$T/fake.sock" --pubkey "$H/keys/audit.pub" show "$F"
	expect_code 4 "a server claiming approved with another submission's signed approval: show exits 4"
	expect_err "submission $F: $MISMATCH: event [0-9]+ \\(decision.approve, about \"$GOOD\"\\) is no event that sets the status of submission $F" \
		"the client finds the event is about another submission"
	kill "$FAKE_PID" 2> /dev/null
	wait "$FAKE_PID" 2> /dev/null
fi

# --- the console shows it as tampering ---
if ! command -v tmux > /dev/null; then
	fail "tmux is missing (make test installs it)"
	exit 0
fi
. "$ROOT/tests/console_lib.sh"
before=$(audited "$F")
console_start "ARBITER_HOME=$T/s" -- --as alice tui
shows 'Waiting, ' "the console opens on the queue"
keys 2
shows 'Decided, ' "2 shows the decided submissions"
keys / "ev/forged" Enter
keys Enter
shows "Submission $F " "the forged approval opens"
shows "TAMPERED *\$" "its status reads TAMPERED"
shows "TAMPERED: state does not match the audit chain: it says approved, but the last" \
	"a red line says how its row differs from its signed events"
[ "$(audited "$F")" = "$before" ] && pass "the mismatch it shows was audited once already" ||
	fail "state.tamper events: $(audited "$F"), before $before"
keys Escape / "ev/good" Enter Enter
shows "Submission $GOOD " "the genuine approval opens"
shows "approved *\$" "its status reads approved"
lacks "TAMPERED" "and nothing says tampered"
keys q q
shows 'EXIT=0' "the console quits cleanly"
