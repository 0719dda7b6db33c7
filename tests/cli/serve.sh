#!/bin/bash
# arbiter serve: starting, the basic routes, errors as JSON with their HTTP
# statuses, group-committed submissions answered after their commit, long
# polls, the event stream, and stopping on SIGTERM with server.start and
# server.stop audited.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
new_store

serve_start
api GET /health
expect_status 200 "health answers"
expect_out '"status": "ok"' "health says ok"
[ "$(stat -c %a "$SOCK")" = 600 ] && pass "the default socket is the owner's only" ||
	fail "socket mode $(stat -c %a "$SOCK")"

run "$ARBITER" serve
expect_code 1 "a second server on the same socket is refused"
expect_err 'already answers' "and says why"

api GET /v1/status
expect_status 200 "status answers the owner"
expect_out '"policy_version": 1' "with the policy version"
expect_out '"head": \{"seq": [0-9]+, "hash": "[0-9a-f]{64}"\}' "and the chain head"

api POST /v1/submissions -H 'Content-Type: application/json' \
	--data-binary '{"action":"rom.patch","ref":"r1","changes":[{"offset":65458,"length":4}]}'
expect_status 201 "a new submission is 201"
expect_out '"id":1,' "with its id"
expect_out '"status":"blocked"' "and its status"
api POST /v1/submissions -H 'Content-Type: application/json' \
	--data-binary '{"action":"rom.patch","ref":"r1","changes":[{"offset":65458,"length":4}]}'
expect_status 200 "the same ref again is 200"
expect_out '"id":1,' "with the same submission"
api POST /v1/submissions -H 'Content-Type: application/json' \
	--data-binary '{"action":"rom.patch","ref":"r1","changes":[]}'
expect_status 409 "the same ref with other content is a conflict"
expect_out '"code": "conflict"' "named conflict"
api POST '/v1/submissions?dry_run=1' -H 'Content-Type: application/yaml' \
	--data-binary $'action: code.modify\nref: dry\n'
expect_status 200 "a dry run of YAML is 200"
api GET /v1/submissions/dry
expect_status 404 "and stores nothing"

api POST /v1/submissions -H 'Content-Type: application/json' --data-binary $'{"action":\n  "x",'
expect_status 400 "malformed JSON is 400"
expect_out '"the text ends before the map opened at 1:1 is closed", "line": 2, "column": 7' "with its line and column"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"ref":"no-action"}'
expect_status 422 "a document that is not a submission is 422"
api POST /v1/submissions -H 'Content-Type: text/plain' --data-binary 'x'
expect_status 415 "another content type is 415"
head -c 1100000 /dev/zero | tr '\0' ' ' > "$T/big"
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary @"$T/big"
expect_status 413 "a body over server.max_body is 413"
api GET /v1/nothing
expect_status 404 "an unknown path is 404"
api DELETE /v1/status
expect_status 405 "a known path with another method is 405"
expect_out '"error": \{"code": ' "errors are JSON"

printf '{"action":"a.b","ref":"l1"}\n{bad\n{"action":"a.c","ref":"l2"}\n' > "$T/batch.jsonl"
api POST /v1/submissions -H 'Content-Type: application/x-ndjson' --data-binary @"$T/batch.jsonl"
expect_status 200 "a JSON Lines batch is 200"
[ "$(wc -l < "$OUT")" -eq 3 ] && pass "with one line per input line" || fail "batch lines: $(cat "$OUT")"
expect_out '"line": 2\}' "the bad line's error names it"
api GET '/v1/submissions?status=allowed&limit=1'
expect_status 200 "listing answers"
expect_out '"next": "[0-9]+"' "with a cursor to the next page"

api GET '/v1/submissions/1?wait=x'
expect_status 400 "a bad wait is 400"
start=$(date +%s%N)
api GET '/v1/submissions/1?wait=1'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_status 200 "a long-poll answers at its deadline"
expect_out '"status":"blocked"' "with the current status"
[ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] && pass "after about its wait ($ms ms)" || fail "long-poll took $ms ms"

curl -sN --unix-socket "$SOCK" --max-time 2 'http://arbiter/v1/events?after=0' > "$T/events" 2>/dev/null
grep -q '^id: 1$' "$T/events" && grep -q '^event: store.init$' "$T/events" &&
	pass "the event stream starts after the seq asked" || fail "events: $(head -5 "$T/events")"
curl -sN --unix-socket "$SOCK" --max-time 3 -H 'Last-Event-ID: 3' 'http://arbiter/v1/events' > "$T/events" 2>/dev/null &
cpid=$!
sleep 0.5
api POST /v1/submissions -H 'Content-Type: application/json' --data-binary '{"action":"x.y","ref":"late"}'
wait $cpid
grep -q '^id: 4$' "$T/events" && pass "Last-Event-ID resumes after that seq" || fail "resume: $(head -3 "$T/events")"
grep -q '"subject":"[0-9]*"' "$T/events" && grep -q '"ref":"late"\|submission.create' "$T/events" &&
	pass "a new event reaches an open stream" || fail "live event: $(tail -3 "$T/events")"

curl -s --unix-socket "$SOCK" -o "$T/waited" -w '%{http_code}' 'http://arbiter/v1/submissions/1?wait=60' > "$T/wcode" &
wpid=$!
sleep 0.5
start=$(date +%s%N)
serve_stop
wait $wpid
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$SERVE_CODE" = 0 ] && pass "SIGTERM stops the server with exit 0" || fail "serve exited $SERVE_CODE"
[ "$(cat "$T/wcode")" = 200 ] && grep -q '"status":"blocked"' "$T/waited" && [ "$ms" -lt 3000 ] &&
	pass "a waiting request is answered at once with its status ($ms ms)" ||
	fail "waiter at stop: $(cat "$T/wcode") after $ms ms"
[ ! -e "$SOCK" ] && pass "the socket is removed" || fail "the socket is left"
arbiter audit list --event server.start --json
expect_out '"event":"server.start"' "server.start is audited"
arbiter audit list --event server.stop --json
expect_out '"event":"server.stop"' "server.stop is audited"
grep -qE '^[0-9T:.Z-]+ [a-z0-9_.-]+ POST /v1/submissions 201 [0-9]+ [0-9]+$' "$T/serve.log" &&
	pass "one log line per request" || fail "log: $(head -3 "$T/serve.log")"
arbiter audit verify
expect_code 0 "the chain verifies after a served session"
