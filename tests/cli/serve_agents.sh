#!/bin/bash
# Identities through arbiter serve (PRODUCT.md section 9): agents and
# reviewers reached by their uid on a shared socket (setpriv --reuid, no
# account needed) or by a bearer token on the socket and on TCP; what an
# agent may not do (decide, read others' work, name another submitter,
# administer, enrol the first admin), each refused with its status and
# audited as access.denied at most once a minute per who with a count; a
# bad token's 401 and, after too many, 429 with Retry-After; an agent's
# --rate; a reviewer acting as themselves only, on every route that takes a
# code, and a reviewer's failed codes counted for their own identity, so that
# they lock nobody else out; GET/POST /v1/agents and
# DELETE /v1/agents/NAME, a revoked agent refused at once and its event
# stream ended.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
new_store
AGENT=4242 REVIEWER=4243 SLOW=4244 ADMIN=4245 STRANGER=4299
enrol alice --role admin || fail "enrol alice"
enrol bob --uid "$REVIEWER" --as alice --code "$(code alice)" || fail "enrol bob"
enrol erin --role admin --uid "$ADMIN" --as alice --code "$(code alice)" || fail "enrol erin"
chmod 711 "$T"
mkdir -m 755 "$T/run"
SERVE_SOCKET=$T/run/arbiter.sock
PORT=$(free_port)
serve_start --socket "$SERVE_SOCKET" --listen "127.0.0.1:$PORT"
[ "$(stat -c %a "$SOCK")" = 666 ] && pass "a socket given with --socket is reachable by everyone" ||
	fail "socket mode $(stat -c %a "$SOCK")"

JSON=(-H 'Content-Type: application/json')
# as UID METHOD PATH [CURL ARGS...]: a request from another uid ($OUT, $STATUS)
as() {
	local uid=$1 method=$2 path=$3 got
	shift 3
	got=$(setpriv --reuid "$uid" --regid "$uid" --clear-groups curl -s --unix-socket "$SOCK" \
		-X "$method" -w '\n%{http_code}' "$@" "http://arbiter$path" 2> "$ERR")
	STATUS=${got##*$'\n'}
	printf '%s\n' "${got%$'\n'*}" > "$OUT"
}
# tcp METHOD PATH [CURL ARGS...]: the same over TCP, headers in $T/headers
tcp() {
	local method=$1 path=$2
	shift 2
	STATUS=$(curl -s -X "$method" -D "$T/headers" -o "$OUT" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$PORT$path" 2> "$ERR")
}
denials() { q "SELECT count(*) FROM audit WHERE event = 'access.denied' AND actor = '$1'"; }
id_of() { grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2; }
status_of() { q "SELECT status FROM submissions WHERE id = $1"; }
# settle: the writer audits refusals a moment after they are answered
settle() { sleep 0.3; }

# --- agents through the API ---
api POST /v1/agents "${JSON[@]}" --data-binary "{\"name\": \"ci\", \"uid\": $AGENT, \"as\": \"alice\"}"
expect_status 401 "adding an agent needs an admin's code"
api POST /v1/agents "${JSON[@]}" --data-binary "{\"name\": \"ci\", \"uid\": $AGENT, \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin adds an agent by uid"
api POST /v1/agents "${JSON[@]}" --data-binary "{\"name\": \"tok\", \"token\": true, \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "and one by token"
TOKEN=$(sed -n 's/.*"token": "\([^"]*\)".*/\1/p' "$OUT")
[ -n "$TOKEN" ] && pass "whose token is in the answer, once" || fail "no token: $(cat "$OUT")"
api POST /v1/agents "${JSON[@]}" --data-binary "{\"name\": \"slow\", \"uid\": $SLOW, \"rate\": 2, \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "and one with a rate"
api POST /v1/agents "${JSON[@]}" --data-binary '{"name": "Bad Name", "token": true}'
expect_status 422 "a bad agent name is 422"
api POST /v1/agents "${JSON[@]}" --data-binary '{"name": "none"}'
expect_status 422 "an agent reached by nothing is 422"
api POST /v1/agents "${JSON[@]}" --data-binary '{"name": "x", "user": "root", "uid": 7}'
expect_status 422 "user and uid together are 422"
api POST /v1/agents "${JSON[@]}" --data-binary "{\"name\": \"me\", \"uid\": $(id -u), \"as\": \"alice\", \"code\": \"123456\"}"
expect_status 422 "an agent on the owner's uid is refused (422)"
api GET /v1/agents
expect_status 200 "the agents are listed"
expect_out "\"name\":\"ci\".*\"uid\":$AGENT" "with their uid"
expect_out '"name":"tok".*"token":true' "and whether they hold a token"
grep -q "$TOKEN" "$OUT" "$DB" "$T/serve.log" && fail "the token is listed, stored or logged" ||
	pass "the token is neither listed, stored nor logged"

# --- what an agent may do ---
as $AGENT GET /v1/status
expect_status 200 "an agent reached by its uid is admitted"
as $AGENT POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"a1","files":[{"path":"src/old.c","op":"delete"}]}'
expect_status 201 "an agent submits"
expect_out '"submitter":"ci"' "as itself"
MINE=$(id_of)
as $AGENT GET "/v1/submissions/$MINE"
expect_status 200 "and reads its own submission"
api POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"o1","submitter":"other","files":[{"path":"src/old.c","op":"delete"}]}'
OTHER=$(id_of)
as $AGENT GET "/v1/submissions/$OTHER"
expect_status 404 "another's submission is not found"
# a ref is per submitter: another's use of the agent's ref neither hides the
# agent's own submission from it nor shows it the other's
api POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"a1","submitter":"other","files":[{"path":"src/old.c","op":"delete"}]}'
SAMEREF=$(id_of)
as $AGENT GET /v1/submissions/a1
expect_status 200 "an agent reads its own ref that another submitter uses too"
expect_out "^\\{\"id\":$MINE," "and gets its own submission"
grep -q "\"id\":$SAMEREF\|#$SAMEREF" "$OUT" && fail "the agent sees the other's submission of its ref" ||
	pass "and nothing of the other's"
api GET /v1/submissions/a1
expect_status 400 "the owner's read of a ref two submitters use is refused"
expect_out "ref a1 names 2 submissions of different submitters: #$MINE \\(submitter ci\\), #$SAMEREF \\(submitter other\\)" "naming both"
api POST /v1/submissions/a1/decisions "${JSON[@]}" --data-binary '{"decision": "reject", "reason": "which one?", "as": "alice"}'
expect_status 400 "and so is a decision on it, before any code is asked for"
as $AGENT GET /v1/submissions
grep -q "\"id\":$OTHER," "$OUT" && fail "the list shows another's submission" ||
	pass "the list shows only its own"
as $AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"x.y","ref":"a2","submitter":"other"}'
expect_status 422 "a document naming another submitter is 422"
as $AGENT POST "/v1/submissions/$OTHER/decisions" "${JSON[@]}" --data-binary '{"decision": "approve", "ack": true}'
expect_status 403 "an agent may not decide"
as $AGENT POST /v1/sessions "${JSON[@]}" --data-binary '{"code": "123456"}'
expect_status 403 "nor sign in"
as $AGENT GET /v1/audit
expect_status 403 "nor read the audit log"
as $AGENT GET /v1/reviewers
expect_status 403 "nor read reviewer data"
as $AGENT POST /v1/reviewers "${JSON[@]}" --data-binary '{"name": "evil", "role": "admin"}'
expect_status 403 "nor enrol an admin"
as $AGENT POST /v1/agents "${JSON[@]}" --data-binary '{"name": "evil", "token": true}'
expect_status 403 "nor add an agent"
settle
[ "$(denials ci)" -ge 1 ] && pass "the refusals are audited as access.denied" ||
	fail "access.denied: $(q "SELECT details FROM audit WHERE event = 'access.denied'")"
[ "$(denials ci)" -eq 1 ] && pass "once within the minute" ||
	fail "$(denials ci) events for ci within a minute"
clock_advance 61
as $AGENT GET "/v1/submissions/$OTHER"
settle
[ "$(denials ci)" -eq 2 ] && pass "a minute later, the next refusal is audited" ||
	fail "$(denials ci) events for ci"
q "SELECT details FROM audit WHERE event = 'access.denied' ORDER BY seq DESC LIMIT 1" | grep -q '"count":[0-9]' &&
	pass "with the count of the refusals" || fail "details: $(q "SELECT details FROM audit WHERE event = 'access.denied' ORDER BY seq DESC LIMIT 1")"

# --- the event stream of an agent, and revocation ---
setpriv --reuid $AGENT --regid $AGENT --clear-groups curl -sN --unix-socket "$SOCK" --max-time 20 \
	'http://arbiter/v1/events?after=0' > "$T/events" 2>/dev/null &
spid=$!
for _ in $(seq 1 100); do grep -q "\"subject\":\"$MINE\"" "$T/events" && break; sleep 0.05; done
grep -q "\"subject\":\"$MINE\"" "$T/events" && pass "an agent's stream has its own submissions' events" ||
	fail "agent events: $(head -5 "$T/events")"
grep -q "\"subject\":\"$OTHER\"" "$T/events" && fail "an agent sees another's events" ||
	pass "and not another's"
start=$(date +%s%N)
api DELETE /v1/agents/ci "${JSON[@]}" --data-binary "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin revokes an agent"
wait $spid
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 3000 ] && pass "its open stream ends at once ($ms ms)" || fail "the stream lasted $ms ms"
as $AGENT GET /v1/status
expect_status 403 "a revoked agent's uid is unknown from then on"
api DELETE /v1/agents/ci "${JSON[@]}" --data-binary "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 409 "revoking it again is 409"
api DELETE /v1/agents/nobody "${JSON[@]}" --data-binary "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 404 "an unknown agent is 404"

# --- unknown uids and tokens ---
as $STRANGER GET /v1/status
expect_status 403 "an unknown uid is 403"
expect_out "unknown uid $STRANGER" "named"
settle
[ "$(denials "uid $STRANGER")" -eq 1 ] && pass "and audited" || fail "no access.denied for uid $STRANGER"
as $STRANGER GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status 403 "on the socket a token must be mapped to the peer's uid"
api GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status 200 "the owner may name an agent by its token"
api POST /v1/submissions "${JSON[@]}" -H "Authorization: Bearer $TOKEN" --data-binary '{"action":"x.y","ref":"t1"}'
expect_out '"submitter":"tok"' "and acts as that agent"
tcp GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status 200 "on TCP the token is the identity"
tcp GET /v1/submissions/1
expect_status 401 "on TCP without a token: 401"
tcp GET /health
expect_status 200 "health needs no token"
for i in $(seq 1 10); do
	tcp GET /v1/status -H "Authorization: Bearer arbiter_wrong$i"
done
expect_status 401 "a bad token is 401"
tcp GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status 429 "after ten failed tokens in a minute the address is refused (429)"
grep -qi '^Retry-After: [0-9]' "$T/headers" && pass "with Retry-After" || fail "headers: $(cat "$T/headers")"
settle
[ "$(denials 127.0.0.1)" -eq 1 ] && pass "the flood of bad tokens is one access.denied event" ||
	fail "$(denials 127.0.0.1) events for 127.0.0.1"
clock_advance 61
for _ in $(seq 1 30); do [ "$(denials 127.0.0.1)" -eq 2 ] && break; sleep 0.1; done
[ "$(denials 127.0.0.1)" -eq 2 ] && pass "a minute later the counted refusals are audited unasked" ||
	fail "$(denials 127.0.0.1) events for 127.0.0.1 a minute later"
q "SELECT details FROM audit WHERE event = 'access.denied' AND actor = '127.0.0.1' ORDER BY seq DESC LIMIT 1" |
	grep -q '"count":11' && pass "as one event counting the eleven" ||
	fail "details: $(q "SELECT details FROM audit WHERE event = 'access.denied' AND actor = '127.0.0.1'")"
tcp GET /v1/status -H "Authorization: Bearer $TOKEN"
expect_status 200 "and the address may try again"
grep -q "$TOKEN\|arbiter_wrong" "$T/serve.log" && fail "a token reached the log" || pass "no token reaches the log"

# --- an agent's rate ---
for i in 1 2; do as $SLOW GET /v1/status; done
expect_status 200 "an agent with --rate 2 makes two requests"
as $SLOW GET /v1/status
expect_status 429 "the third in the same second is 429"
expect_out 'rate' "naming the rate"
clock_advance 1
as $SLOW GET /v1/status
expect_status 200 "a second later it may go on"

# --- a reviewer by uid ---
as $REVIEWER POST "/v1/submissions/$OTHER/decisions" "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 403 "a reviewer acts as themselves only"
as $REVIEWER GET /v1/reviewers
expect_status 403 "a reviewer who is not an admin reads no reviewer data"
as $REVIEWER POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"b1","files":[{"path":"src/old.c","op":"delete"}]}'
expect_out '"submitter":"bob"' "a reviewer's submission is theirs"
BOBS=$(id_of)
as $REVIEWER POST "/v1/submissions/$BOBS/decisions" "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"code\": \"$(code bob)\"}"
expect_status 403 "nobody decides their own submission"
as $REVIEWER POST "/v1/submissions/$OTHER/decisions" "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"code\": \"$(code bob)\"}"
expect_status 200 "a reviewer by uid decides as themselves"
expect_out 'approved by bob' "named bob"

# --- every route that takes a code: a reviewer tries their own codes only ---
# "as" naming alice, with alice's right code: refused before the code is read
# for anything, so alice's codes are neither tried nor counted
as $ADMIN POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"code.modify","ref":"e1","files":[{"path":"src/old.c","op":"delete"}]}'
E1=$(id_of)
failures_before=$(q "SELECT count(*) FROM code_failures")
denied_before=$(denials erin)
routes=0
while IFS='|' read -r who method path body; do
	routes=$((routes + 1))
	as "$who" "$method" "$path" "${JSON[@]}" --data-binary "$body"
	[ "$STATUS" = 403 ] && grep -q 'acts as themselves only' "$OUT" &&
		pass "$method $path: \"as\" another reviewer is refused (403)" ||
		fail "$method $path as alice: HTTP $STATUS $(head -c 200 "$OUT")"
done <<EOF2
$REVIEWER|POST|/v1/submissions/$E1/decisions|{"decision": "approve", "ack": true, "as": "alice", "code": "$(code alice)"}
$REVIEWER|POST|/v1/decisions|{"decision": "approve", "ack": true, "ids": [$E1], "as": "ALICE", "code": "$(code alice)"}
$REVIEWER|POST|/v1/sessions|{"as": "alice", "code": "$(code alice)"}
$ADMIN|POST|/v1/reviewers|{"name": "zed", "as": "alice", "code": "$(code alice)"}
$ADMIN|POST|/v1/reviewers/bob/disable|{"as": "alice", "code": "$(code alice)"}
$ADMIN|POST|/v1/policy/pin|{"justification": "twenty characters or more", "as": "alice", "code": "$(code alice)"}
$ADMIN|POST|/v1/agents|{"name": "zed", "token": true, "as": "alice", "code": "$(code alice)"}
$ADMIN|DELETE|/v1/agents/tok|{"as": "alice", "code": "$(code alice)"}
EOF2
[ "$routes" -eq 8 ] && pass "every route that takes a code was tried ($routes)" || fail "$routes routes tried"
[ "$(q "SELECT count(*) FROM code_failures")" = "$failures_before" ] &&
	[ "$(status_of "$E1")" = pending ] && [ "$(q "SELECT count(*) FROM reviewers WHERE name = 'zed'")" = 0 ] &&
	pass "none tried alice's code or changed anything" ||
	fail "code_failures $failures_before -> $(q "SELECT count(*) FROM code_failures")"
settle
[ "$(( $(denials erin) + $(denials bob) ))" -gt "$denied_before" ] &&
	pass "the refusals are audited as access.denied" || fail "no access.denied for erin or bob"

# --- a reviewer's failures are their own origin's ---
for _ in 1 2 3 4 5; do
	as $REVIEWER POST "/v1/submissions/$E1/decisions" "${JSON[@]}" --data-binary \
		'{"decision": "approve", "ack": true, "code": "000000"}'
done
expect_out 'bob is now locked out from reviewer bob' "five wrong codes lock bob out, from his own identity"
as $REVIEWER POST "/v1/submissions/$E1/decisions" "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"code\": \"$(code bob)\"}"
expect_status 423 "and bob's right code is refused there (423)"
[ "$(q "SELECT json_extract(details, '$.origin') FROM audit WHERE event = 'reviewer.lockout' AND actor = 'bob'")" = "reviewer bob" ] &&
	pass "the lockout names its origin" || fail "lockout: $(q "SELECT details FROM audit WHERE event = 'reviewer.lockout'")"
api POST "/v1/submissions/$E1/decisions" "${JSON[@]}" --data-binary \
	"{\"decision\": \"approve\", \"ack\": true, \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "the owner acting as bob, from its own uid, is not locked out"
# and the owner's failures as erin lock only the owner's uid out, not erin
for _ in 1 2 3 4 5; do
	api POST /v1/sessions "${JSON[@]}" --data-binary '{"as": "erin", "code": "000000"}'
done
expect_out "erin is now locked out from uid $(id -u)" "the owner failing erin's codes locks them out from its uid"
as $ADMIN POST /v1/sessions "${JSON[@]}" --data-binary "{\"code\": \"$(code erin)\"}"
expect_status 200 "erin herself still signs in"

serve_stop
arbiter audit verify
expect_code 0 "the chain verifies"
