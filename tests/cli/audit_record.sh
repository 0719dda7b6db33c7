#!/bin/bash
# Events users record in the signed chain (PRODUCT.md sections 6 and 9):
# arbiter audit record app.NAME --subject S --details JSON and POST
# /v1/audit/records; what a submission did after it ran, POST
# /v1/submissions/ID/outcome, and how its actual cost counts for quotas.
# The name's alphabet, the subject's bounds, the details read strictly as
# a JSON object (a malformed one named by line and column) and their size;
# who may record (reviewers and admins; an agent only about its own
# submissions; an outcome only by its submitter, once), every refusal
# audited as access.denied; audit list, tail and the API show the events,
# and audit verify passes with them. Served (tests/cli/served.list), the
# command's part gives the same output and exit codes through the server.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; served_stop; rm -rf "$T"' EXIT
clock_start
new_store
enrol alice --as alice --role admin || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
count() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
# settle: a server audits its refusals a moment after it answers them
settle() { if served; then sleep 0.3; fi; }

# --- the command ---
arbiter --as bob audit record app.deploy.done --subject "release 1.2" \
	--details '{"env": "prod", "took_s": 41.5, "hosts": ["a", "b"]}'
expect_code 0 "a reviewer records an app event"
expect_out '^recorded app.deploy.done as event [0-9]+$' "and is told its seq"
SEQ=$(grep -o '[0-9]*$' "$OUT")
[ "$(q "SELECT actor || '|' || subject || '|' || details FROM audit WHERE seq = $SEQ")" = \
	'bob|release 1.2|{"env":"prod","hosts":["a","b"],"took_s":41.5}' ] &&
	pass "signed with its actor, subject and details (compact, keys sorted)" ||
	fail "event $SEQ: $(q "SELECT actor, event, subject, details FROM audit WHERE seq = $SEQ")"
arbiter audit list --event app.deploy.done
expect_code 0 "audit list --event app.NAME"
expect_out "bob +app.deploy.done +release 1.2 +\\{\"env\":\"prod\"" "lists it"
arbiter audit list --event app.deploy.done --json
expect_out '"event":"app.deploy.done","subject":"release 1.2","details":\{"env":"prod","hosts":\["a","b"\],"took_s":41.5\}' \
	"and as JSON, with the details as an object"
arbiter audit tail --limit 1
expect_out "^ *$SEQ .*app.deploy.done" "audit tail shows it"
arbiter --as alice audit record app.ping
expect_code 0 "an admin records one with neither subject nor details"
arbiter audit list --event app.ping --json
expect_out '"subject":"","details":\{\}' "its subject is empty and its details {}"
printf '{"from": "stdin",\n "n": 1}\n' | "$ARBITER" --as alice audit record app.piped --details - > "$OUT" 2> "$ERR"
CODE=$?
expect_code 0 "--details - reads the object from standard input"
arbiter --as alice audit record app.x --subject 999999
expect_code 0 "a subject that names no submission is just text"
NAME64=$(printf 'n%.0s' $(seq 64))
arbiter --as alice audit record "app.$NAME64"
expect_code 0 "a name of 64 characters after app. is taken"
arbiter --as alice audit record app.a_b-c.9
expect_code 0 "as are digits, _ . and -"

# --- wrong input: exit 1, one precise line, nothing recorded ---
before=$(q "SELECT count(*) FROM audit")
for bad in app. app.Deploy deploy APP.x "app.x y" "app.$NAME64"x app.é system.x; do
	arbiter --as alice audit record "$bad"
	expect_code 1 "\"$bad\" is refused"
	expect_err "is not an app event name: app. followed by 1 to 64 of a-z, 0-9, _ . -" \
		"with the rule ($bad)"
done
arbiter --as alice audit record store.init
expect_err '"store.init" is not an app event name' "an app event never poses as arbiter's own"
arbiter --as alice audit record app.x --details '{"a": 1,}'
expect_code 1 "a trailing comma is malformed JSON"
expect_err '^arbiter: --details:1:9: ' "named by line and column"
arbiter --as alice audit record app.x --details $'{\n  "a": 1,\n  "b": tru\n}'
expect_err '^arbiter: --details:3:10: invalid token' "on the line it is on"
arbiter --as alice audit record app.x --details '{"a": 1, "a": 2}'
expect_err '^arbiter: --details:1:[0-9]+: duplicate object key' "a duplicate key is refused"
arbiter --as alice audit record app.x --details '[1, 2]'
expect_err '^arbiter: --details:1:1: the details must be a JSON object' "an array is not an object"
arbiter --as alice audit record app.x --details '"text"'
expect_code 1 "nor is a string"
arbiter --as alice audit record app.x --details '{"n": 9007199254740993}'
expect_err 'an integer beyond ±\(2\^53 - 1\)' "an integer beyond 2^53 is refused"
arbiter --as alice audit record app.x --details ''
expect_err 'empty: the details must be a JSON object' "empty details are refused"
printf '{"pad": "%s"}' "$(head -c 65530 /dev/zero | tr '\0' x)" > "$T/big.json"
arbiter --as alice audit record app.x --details - < "$T/big.json"
expect_code 1 "details over 64 KiB are refused"
expect_err 'the details: 65540 bytes as stored, over the limit of 65536' "naming the size and the limit"
arbiter --as alice audit record app.x --subject "$(printf 'line\nbreak')"
expect_err 'the subject must be at most 200 bytes of UTF-8 text without control characters' \
	"a subject with a control character is refused"
arbiter --as alice audit record app.x --subject "$(printf 's%.0s' $(seq 201))"
expect_code 1 "a subject over 200 bytes is refused"
arbiter --as alice audit record app.x --subject "$(printf 's%.0s' $(seq 200))"
expect_code 0 "one of 200 is taken"
before=$((before + 1))
[ "$(q "SELECT count(*) FROM audit")" = "$before" ] && pass "nothing else was recorded" ||
	fail "$(( $(q "SELECT count(*) FROM audit") - before )) events more"
arbiter --as alice audit record
expect_code 2 "no name is a usage error"
arbiter --as alice audit record app.a app.b
expect_code 2 "and so are two"

# --- who may record ---
denied=$(count access.denied)
arbiter --as mallory audit record app.x
expect_code 4 "someone who is not a reviewer may not record"
expect_err 'only reviewers and admins record app.\* events; mallory is not an enrolled reviewer' \
	"and is told why"
settle
[ "$(count access.denied)" = $((denied + 1)) ] && pass "the refusal is audited as access.denied" ||
	fail "access.denied: $denied before, $(count access.denied) after"
q "SELECT details FROM audit WHERE event = 'access.denied' ORDER BY seq DESC LIMIT 1" |
	grep -q 'mallory is not a reviewer' && pass "naming who was refused" ||
	fail "details: $(q "SELECT details FROM audit WHERE event = 'access.denied' ORDER BY seq DESC LIMIT 1")"
[ "$(count app.x)" = 2 ] && pass "and nothing was recorded for them" || fail "$(count app.x) app.x events"
"$ARBITER" --as alice reviewer disable bob --code "$(code alice)" > /dev/null 2>&1 || fail "disable bob"
clock_advance 61
arbiter --as bob audit record app.x
expect_code 4 "a disabled reviewer may not record"
expect_err 'bob is a disabled reviewer' "and is told so"
arbiter --as "Not A Name" audit record app.x
expect_code 1 "an actor that is no name is bad input"

arbiter audit verify
expect_code 0 "audit verify passes with app events in the chain"

# --- through the server: the routes, identities, outcomes and quotas ---
if ! served; then
	AGENT=4242 OTHER_AGENT=4244 REVIEWER=4243
	cd "$T" && rm -rf "$T/s"
	new_store
	enrol alice --as alice --role admin || fail "enrol alice"
	enrol carol --uid "$REVIEWER" --as alice --code "$(code alice)" || fail "enrol carol"
	"$ARBITER" --as alice agent add ci --uid "$AGENT" --code "$(code alice)" > /dev/null 2>&1 ||
		fail "add agent ci"
	"$ARBITER" --as alice agent add other --uid "$OTHER_AGENT" --code "$(code alice)" > /dev/null 2>&1 ||
		fail "add agent other"
	chmod u+w "$H/policies"
	cat > "$H/policies/60-spend.yaml" <<'EOF'
version: 1
policies:
  - name: daily_spend
    actions: ["agent.*"]
    type: quota
    field: cost_usd
    per: submitter
    limit: 10
    window: 24h
    severity: critical
    message: daily spend of $10 exceeded
EOF
	pin alice || fail "pin the spend quota"
	chmod 711 "$T"
	mkdir -m 755 "$T/run"
	SERVE_SOCKET=$T/run/arbiter.sock
	serve_start --socket "$SERVE_SOCKET"
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
	id_of() { grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2; }
	denials() { q "SELECT count(*) FROM audit WHERE event = 'access.denied' AND actor = '$1'"; }
	record() { as "$1" POST /v1/audit/records "${JSON[@]}" --data-binary "$2"; }
	report() { as "$1" POST "/v1/submissions/$2/outcome" "${JSON[@]}" --data-binary "$3"; }

	as $AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"agent.run","ref":"r1","cost_usd":4}'
	expect_status 201 "agent ci submits a run estimated at \$4"
	MINE=$(id_of)
	as $OTHER_AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"agent.run","ref":"r1","cost_usd":1}'
	THEIRS=$(id_of)

	# app.* through the API
	record $AGENT "{\"event\": \"app.step.done\", \"subject\": \"$MINE\", \"details\": {\"step\": 3, \"ok\": true}}"
	expect_status 200 "an agent records an app event about its own submission"
	expect_out '"outcome": "ok".*"seq": [0-9]+' "and gets its seq"
	[ "$(q "SELECT actor || '|' || subject || '|' || details FROM audit WHERE event = 'app.step.done'")" = \
		"ci|$MINE|{\"ok\":true,\"step\":3}" ] && pass "recorded as the agent, about its submission" ||
		fail "$(q "SELECT actor, subject, details FROM audit WHERE event = 'app.step.done'")"
	record $AGENT "{\"event\": \"app.step.done\", \"subject\": \"$THEIRS\"}"
	expect_status 404 "about another's submission: not found, as its reads say"
	record $AGENT '{"event": "app.step.done", "subject": "999999"}'
	expect_status 404 "about no submission: not found"
	record $AGENT '{"event": "app.step.done"}'
	expect_status 403 "about nothing: forbidden"
	expect_out 'only about its own submissions' "and told why"
	record $AGENT "{\"event\": \"app.step.done\", \"subject\": \"$MINE\", \"as\": \"alice\"}"
	expect_status 403 "acting as a reviewer: forbidden"
	sleep 0.3
	[ "$(denials ci)" -ge 1 ] && pass "the agent's refusals are audited as access.denied" ||
		fail "access.denied for ci: $(denials ci)"
	q "SELECT details FROM audit WHERE event = 'access.denied' AND actor = 'ci' ORDER BY seq LIMIT 1" |
		grep -q 'POST /v1/audit/records' && pass "naming the route" ||
		fail "$(q "SELECT details FROM audit WHERE event = 'access.denied' AND actor = 'ci'")"
	[ "$(q "SELECT count(*) FROM audit WHERE event = 'app.step.done'")" = 1 ] &&
		pass "none of the refused was recorded" || fail "refused events were recorded"
	record $REVIEWER '{"event": "app.ticket", "subject": "OPS-12", "details": {"url": "https://t/OPS-12"}}'
	expect_status 200 "a reviewer records one about anything"
	record $REVIEWER '{"event": "app.ticket", "as": "alice"}'
	expect_status 403 "but only as themselves"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"event": "app.owner", "as": "alice"}'
	expect_status 200 "the owner records as a reviewer it names"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"event": "app.owner"}'
	expect_status 403 "and not as its own login, which is no reviewer"
	api POST /v1/audit/records "${JSON[@]}" --data-binary $'{"event": "app.x",\n "as" "alice"}'
	expect_status 400 "a malformed body is 400"
	expect_out '"line": 2, "column": [0-9]+' "with its line and column"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"event": "app.x", "details": [1], "as": "alice"}'
	expect_status 422 "details that are no object: 422"
	expect_out 'details must be a JSON object", "line": 1, "column": 31' "at their position"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"event": "app.X", "as": "alice"}'
	expect_status 422 "a bad name: 422"
	expect_out 'is not an app event name' "with the rule"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"subject": "x", "as": "alice"}'
	expect_status 422 "no event: 422"
	api POST /v1/audit/records "${JSON[@]}" --data-binary '{"event": "app.x", "note": "y", "as": "alice"}'
	expect_status 422 "an unknown field: 422"
	printf '{"event": "app.big", "as": "alice", "details": {"pad": "%s"}}' \
		"$(head -c 70000 /dev/zero | tr '\0' x)" > "$T/big.json"
	api POST /v1/audit/records "${JSON[@]}" --data-binary @"$T/big.json"
	expect_status 413 "details over 64 KiB: 413"
	api POST /v1/audit/records -H 'Content-Type: text/plain' --data-binary '{"event": "app.x"}'
	expect_status 415 "another content type: 415"
	api GET "/v1/audit?event=app.ticket"
	expect_status 200 "GET /v1/audit?event=app.NAME"
	expect_out '"event":"app.ticket","subject":"OPS-12","details":\{"url":"https://t/OPS-12"\}' "lists it"

	# outcomes
	report $AGENT "$MINE" '{"actual_cost_usd": 9, "succeeded": true, "note": "took longer"}'
	expect_status 200 "the submitter reports its outcome"
	expect_out "submission $MINE: outcome recorded as event [0-9]+; its actual amount counts for 1 quota" \
		"and its actual cost counts for the spend quota"
	[ "$(q "SELECT actor || '|' || details FROM audit WHERE event = 'submission.outcome' AND subject = '$MINE'")" = \
		'ci|{"actual_cost_usd":9,"note":"took longer","succeeded":true}' ] &&
		pass "audited as submission.outcome with the body as its details" ||
		fail "$(q "SELECT actor, subject, details FROM audit WHERE event = 'submission.outcome'")"
	report $AGENT "$MINE" '{"succeeded": false}'
	expect_status 409 "a second report is a conflict"
	expect_out '"code": "conflict".*its outcome was reported already' "saying so"
	report $AGENT r1 '{"succeeded": false}'
	expect_status 409 "by its ref too (the agent's own, though another uses it)"
	report $AGENT "$THEIRS" '{"succeeded": true}'
	expect_status 404 "another agent's submission: not found"
	report $REVIEWER "$MINE" '{"succeeded": true}'
	expect_status 403 "a reviewer may not report another's outcome"
	report $AGENT 999999 '{"succeeded": true}'
	expect_status 404 "no such submission: 404"
	as $AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"agent.run","ref":"r2","cost_usd":1}'
	SECOND=$(id_of)
	report $AGENT "$SECOND" $'{"succeeded": true,\n "actual_cost_usd": 1.5,,}'
	expect_status 400 "a malformed outcome: 400"
	expect_out '"line": 2, "column": [0-9]+' "with its line and column"
	report $AGENT "$SECOND" '[true]'
	expect_status 400 "an array: 400"
	report $AGENT "$SECOND" '{"actual_cost_usd": -1}'
	expect_status 422 "a negative actual amount: 422"
	report $AGENT "$SECOND" '{"actual_cost_usd": "9"}'
	expect_status 422 "a quoted one: 422"
	report $AGENT "$SECOND" '{"succeeded": "yes"}'
	expect_status 422 "succeeded that is no boolean: 422"
	printf '{"log": "%s"}' "$(head -c 5000 /dev/zero | tr '\0' x)" > "$T/long.json"
	report $AGENT "$SECOND" @"$T/long.json"
	expect_status 413 "an outcome over 4 KiB: 413"
	as $AGENT POST "/v1/submissions/$SECOND/outcome" -H 'Content-Type: application/yaml' --data-binary 'a: 1'
	expect_status 415 "not JSON: 415"
	[ "$(q "SELECT count(*) FROM audit WHERE event = 'submission.outcome'")" = 1 ] &&
		pass "no refused outcome was recorded" || fail "refused outcomes were recorded"
	report $AGENT "$SECOND" '{"actual_cost_usd": 0.5}'
	expect_status 200 "an actual cost below the estimate is reported"
	expect_no_out 'counts for' "and counts for nothing more"
	api POST "/v1/submissions/$THEIRS/outcome" "${JSON[@]}" --data-binary '{"succeeded": true}'
	expect_status 200 "the owner may report any submission's outcome"
	# the spend quota: $4 estimated but $9 spent, $1 more: 9 + 1 + 1 > 10
	as $AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"agent.run","ref":"r3","cost_usd":1}'
	expect_status 201 "the next run is stored"
	expect_out '"status":"blocked"' "blocked by the spend quota"
	expect_out '11 cost_usd for submitter \\"ci\\" in 1d \(10 before this one\)' \
		"counting the actual \$9, not the estimated \$4 (max of the two)"
	BLOCKED=$(id_of)
	spent_ci() { q "SELECT total(amount) FROM quota_totals WHERE policy = 'daily_spend' AND per = 'ci' AND unit = 86400"; }
	before=$(spent_ci)
	report $AGENT "$BLOCKED" '{"actual_cost_usd": 50}'
	expect_status 200 "the blocked run's outcome is reported"
	[ "$before" = 10.0 ] && [ "$(spent_ci)" = "$before" ] &&
		pass "a refused run's actual cost spends nothing of the quota (\$$before)" ||
		fail "the spend quota's sum went from $before to $(spent_ci)"
	as $OTHER_AGENT POST /v1/submissions "${JSON[@]}" --data-binary '{"action":"agent.run","ref":"r3","cost_usd":1}'
	expect_out '"status":"allowed"' "another submitter's spend is its own"
	api GET "/v1/audit?event=submission.outcome"
	expect_out "\"event\":\"submission.outcome\",\"subject\":\"$MINE\"" "GET /v1/audit lists the outcomes"
	serve_stop
	arbiter audit verify
	expect_code 0 "audit verify passes with app events and outcomes"
	arbiter audit list --subject "$MINE" --json
	expect_out '"event":"submission.outcome"' "an outcome is among the events about its submission"
	expect_out '"event":"app.step.done"' "and so is the agent's app event"
fi
