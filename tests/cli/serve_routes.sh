#!/bin/bash
# Decisions and sessions through arbiter serve (PRODUCT.md sections 4 and 9):
# POST /v1/submissions/ID/decisions and POST /v1/decisions with the TOTP code
# in a JSON or YAML body, each refusal with its HTTP status (a code needed,
# a wrong code, a lockout, a decided submission, a wrong state, a
# self-decision, an unknown actor, bad bodies), the owner acting "as" a
# reviewer; sessions (POST /v1/sessions, the X-Arbiter-Session header, an
# override still needing its code, the idle end); and a decision waking a
# long-poll and reaching an event stream.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
new_store
enrol alice --role admin || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
enrol carol --as alice --code "$(code alice)" || fail "enrol carol"
serve_start

JSON=(-H 'Content-Type: application/json')
# submit DOC: POST it; its id in $ID
submit() {
	api POST /v1/submissions "${JSON[@]}" --data-binary "$1"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}
# pending REF [SUBMITTER]: a pending proposal (one warning), its id in $ID
pending() {
	submit "{\"action\":\"code.modify\",\"ref\":\"$1\",\"submitter\":\"${2:-agent-a}\",\"files\":[{\"path\":\"src/old.c\",\"op\":\"delete\"}]}"
}
status_of() { q "SELECT status FROM submissions WHERE id = $1"; }
# decide ID BODY [CURL ARGS...]: a decision on submission ID
decide() {
	local id=$1 body=$2
	shift 2
	api POST "/v1/submissions/$id/decisions" "${JSON[@]}" "$@" --data-binary "$body"
}

pending p1; P1=$ID
decide "$P1" '{"decision": "approve", "ack": true, "as": "alice"}'
expect_status 401 "a decision without its code is 401"
expect_out '"code": "unauthenticated"' "named unauthenticated"
expect_out '"code_needed": true' "and saying that a code is needed"
decide "$P1" "{\"decision\": \"approve\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 403 "a pending submission with warnings and no ack is refused"
decide "$P1" "{\"decision\": \"approve\", \"ack\": true, \"note\": \"looks fine\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "approve with the code is 200"
expect_out '"outcome": "ok"' "its outcome ok"
expect_out '"message": "submission [0-9]+ approved by alice"' "saying what happened"
expect_out '"result": \{"id":[0-9]+,.*"status":"approved"' "with the new result"
expect_out '"decisions":\[\{"reviewer":"alice","decision":"approve"' "and its decision"
[ "$(status_of "$P1")" = approved ] && pass "the submission is approved" || fail "status $(status_of "$P1")"
decide "$P1" "{\"decision\": \"approve\", \"ack\": true, \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 409 "approving a decided submission is 409"
expect_out '"code": "already_decided", "message": "submission [0-9]+: already approved by alice"' \
	"already_decided, naming who"

pending p2; P2=$ID
decide "$P2" '{"decision": "approve", "ack": true, "as": "bob", "code": "000000"}'
expect_status 422 "a wrong code is 422"
expect_out '"code": "code_refused"' "named code_refused"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'code.failure' AND actor = 'bob'")" = 1 ] &&
	pass "and audited" || fail "code.failure not audited"
api POST "/v1/submissions/$P2/decisions" -H 'Content-Type: application/yaml' --data-binary \
	"$(printf 'decision: reject\nreason: deletes a file we need\nas: bob\ncode: "%s"\n' "$(code bob)")"
expect_status 200 "a YAML body decides too"
expect_out '"status":"rejected"' "the rejection's result"
decide "$P2" '{"decision": "reject", "as": "bob"}'
expect_status 422 "a rejection without its reason is 422"
decide "$P2" '{"decision": "approve", "justification": "x"}'
expect_status 422 "an approval with an override's field is 422"
decide "$P2" '{"decision": "maybe"}'
expect_status 422 "an unknown decision is 422"
decide "$P2" $'{"decision": "approve",\n  "acq": true}'
expect_status 422 "an unknown field is 422"
expect_out '"unknown field \\"acq\\".*"line": 2, "column": 3' "named at its line and column"
decide "$P2" $'{"decision":\n "approve",'
expect_status 400 "a malformed body is 400"
expect_out '"line": [0-9]+, "column": [0-9]+' "with its position"
decide "$P2" '{"decision": "approve", "code": 123456}'
expect_status 422 "a code that is a number, not a string, is 422"
api POST "/v1/submissions/$P2/decisions" -H 'Content-Type: text/plain' --data-binary '{"decision": "approve"}'
expect_status 415 "a body of another type is 415"
decide 999 "{\"decision\": \"approve\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 404 "an unknown submission is 404"

# several ids, one code
pending p3; P3=$ID
pending p4; P4=$ID
api POST /v1/decisions "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"ids\": [$P3, $P4, $P3], \"as\": \"carol\", \"code\": \"$(code carol)\"}"
expect_status 200 "POST /v1/decisions approves several with one code"
[ "$(grep -c '"id": [0-9]*, "outcome": "ok", "message": "submission [0-9]* approved by carol"' "$OUT")" = 2 ] &&
	pass "one item per distinct id" || fail "items: $(cat "$OUT")"
[ "$(status_of "$P3")$(status_of "$P4")" = approvedapproved ] && pass "both are approved" ||
	fail "statuses $(status_of "$P3") $(status_of "$P4")"
pending p5; P5=$ID
api POST /v1/decisions "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"ids\": [$P1, $P5], \"as\": \"carol\", \"code\": \"$(code carol)\"}"
expect_status 409 "a call where one id was decided already is 409"
expect_out "\"id\": $P5, \"outcome\": \"ok\"" "and the other id is decided, as on the CLI"
api POST /v1/decisions "${JSON[@]}" --data-binary '{"decision": "approve", "ids": []}'
expect_status 422 "an empty ids is 422"
api POST /v1/decisions "${JSON[@]}" --data-binary '{"decision": "approve", "ids": ["7"]}'
expect_status 422 "an id that is not a number is 422"

# override, its state, its own code
submit '{"action":"code.modify","ref":"cx1","submitter":"agent-c","complexity":50}'; B1=$ID
pending p6; P6=$ID
decide "$P6" "{\"decision\": \"override\", \"justification\": \"an override of a pending one\", \"as\": \"carol\", \"code\": \"$(code carol)\"}"
expect_status 409 "overriding a pending submission is 409"
expect_out '"code": "wrong_state"' "named wrong_state"
decide "$B1" "{\"decision\": \"override\", \"justification\": \"complexity is generated code\", \"expires\": \"2h\", \"as\": \"carol\", \"code\": \"$(code carol)\"}"
expect_status 200 "override with a justification and an expiry is 200"
expect_out '"status":"overridden"' "the result is overridden"
expect_out 'overridden by carol until' "the message gives the expiry"
decide "$B1" '{"decision": "override", "justification": "x", "expires": "soon"}'
expect_status 422 "a bad expires is 422"

# self-decision, acting as, unknown actors
pending mine bob; MINE=$ID
decide "$MINE" "{\"decision\": \"approve\", \"ack\": true, \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 403 "nobody decides their own submission"
expect_out 'submitted by bob: nobody decides their own' "and says why"
decide "$MINE" '{"decision": "approve", "ack": true, "code": "123456"}'
expect_status 403 "the owner without \"as\" acts as its login, which is no reviewer"
expect_out "acting as $(id -un)" "and the refusal names whom it acted as"
decide "$MINE" '{"decision": "approve", "ack": true, "as": "mallory", "code": "123456"}'
expect_status 403 "acting as someone who is not a reviewer is 403"

# sessions
api POST /v1/sessions "${JSON[@]}" --data-binary '{"as": "bob", "code": "000000"}'
expect_status 422 "a sign-in with a wrong code is refused"
api POST /v1/sessions "${JSON[@]}" --data-binary '{"as": "bob"}'
expect_status 422 "a sign-in without a code is 422"
api POST /v1/sessions "${JSON[@]}" --data-binary "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "a sign-in with the code is 200"
TOKEN=$(sed -n 's/.*"token": "\([0-9a-f]*\)".*/\1/p' "$OUT")
[ "${#TOKEN}" = 64 ] && pass "it gives a 256-bit token" || fail "token: $(cat "$OUT")"
expect_out '"header": "X-Arbiter-Session", "idle_seconds": 600' "named with its header and idle time"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'session.signin' AND actor = 'bob' AND details LIKE '%\"via\":\"api\"%'")" = 1 ] &&
	pass "session.signin is audited, via api" || fail "session.signin not audited"
grep -q "$TOKEN" "$T/serve.log" "$DB" 2>/dev/null && fail "the token is in the log or the store" ||
	pass "the token is neither logged nor stored"
SESSION=(-H "X-Arbiter-Session: $TOKEN")
pending p7; P7=$ID
decide "$P7" '{"decision": "approve", "ack": true, "as": "bob"}' "${SESSION[@]}"
expect_status 200 "within the session, approve needs no code"
expect_out 'approved by bob' "and acts as the reviewer signed in"
pending p8; P8=$ID
api POST "/v1/submissions/$P8/decisions" "${JSON[@]}" "${SESSION[@]}" \
	--data-binary '{"decision": "reject", "reason": "not now"}'
expect_status 200 "nor does reject, and the owner need not repeat \"as\""
submit '{"action":"code.modify","ref":"cx2","submitter":"agent-c","complexity":50}'; B2=$ID
decide "$B2" '{"decision": "override", "justification": "generated code again, fine"}' "${SESSION[@]}"
expect_status 401 "an override within a session still needs a fresh code"
expect_out '"code_needed": true' "and says so"
pending p9; P9=$ID
decide "$P9" '{"decision": "approve", "ack": true, "as": "carol"}' "${SESSION[@]}"
expect_status 403 "a session is its reviewer's only"
[ "${TOKEN:0:1}" = 0 ] && OTHER_TOKEN=1${TOKEN:1} || OTHER_TOKEN=0${TOKEN:1}
decide "$P9" '{"decision": "approve", "ack": true}' -H "X-Arbiter-Session: $OTHER_TOKEN"
expect_status 401 "an unknown session token is 401"
decide "$P9" '{"decision": "approve", "ack": true}' -H "X-Arbiter-Session: short"
expect_status 401 "a malformed session token is 401"
clock_advance 500
decide "$P9" '{"decision": "approve", "ack": true}' "${SESSION[@]}"
expect_status 200 "a session used within review.session_idle goes on"
pending p10; P10=$ID
clock_advance 601
decide "$P10" '{"decision": "approve", "ack": true}' "${SESSION[@]}"
expect_status 401 "after review.session_idle without use the session has ended"
expect_out 'sign in again' "and says what to do"

# a decision wakes a long-poll and reaches an event stream
pending w1; W1=$ID
curl -s --unix-socket "$SOCK" -o "$T/waited" "http://arbiter/v1/submissions/$W1?wait=30" &
wpid=$!
curl -sN --unix-socket "$SOCK" --max-time 30 'http://arbiter/v1/events' > "$T/events" 2>/dev/null &
epid=$!
# the stream starts at the head: once its first line came, it is there
for _ in $(seq 1 100); do [ -s "$T/events" ] && break; sleep 0.05; done
sleep 0.5
decide "$W1" "{\"decision\": \"approve\", \"ack\": true, \"as\": \"alice\", \"code\": \"$(code alice)\"}"
start=$(date +%s%N)
wait $wpid
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q '"status":"approved"' "$T/waited" && [ "$ms" -lt 1000 ] &&
	pass "the approval wakes a long-poll at once ($ms ms after the answer)" ||
	fail "long-poll: $ms ms, $(head -c 200 "$T/waited")"
streamed() { grep -q '^event: decision.approve$' "$T/events" && grep -q "\"subject\":\"$W1\"" "$T/events"; }
for _ in $(seq 1 100); do streamed && break; sleep 0.05; done
kill $epid 2>/dev/null
wait $epid
streamed && pass "the event stream carries the decision" || fail "events: $(cat "$T/events")"

# lockout: the failures of one reviewer, then the right code is refused too
pending lock; L=$ID
for _ in 1 2 3 4 5; do
	decide "$L" '{"decision": "approve", "ack": true, "as": "carol", "code": "000000"}'
done
decide "$L" "{\"decision\": \"approve\", \"ack\": true, \"as\": \"carol\", \"code\": \"$(code carol)\"}"
expect_status 423 "after totp.max_failures wrong codes the reviewer is locked out (423)"
expect_out '"code": "locked_out"' "named locked_out"

serve_stop
[ "$SERVE_CODE" = 0 ] && pass "the server stops cleanly" || fail "serve exited $SERVE_CODE"
arbiter audit verify
expect_code 0 "the chain verifies after decisions through the server"
