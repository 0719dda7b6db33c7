#!/bin/bash
# Administration and the audit log through arbiter serve (PRODUCT.md sections
# 4, 5, 6 and 9): reviewers (the first admin without a code, then an admin's
# code; the secret once, in the answer; list; disable), policy pin (refusals,
# the writer's reload) and reevaluate, the audit list with its filters and
# cursor, a checkpoint and an export that the stock minisign verifies, the
# keys, every route of the table documented in docs/api.md, and arbiter tui
# refusing a store a server owns.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
new_store
serve_start

JSON=(-H 'Content-Type: application/json')
post() {
	local path=$1 body=$2
	shift 2
	api POST "$path" "${JSON[@]}" "$@" --data-binary "$body"
}
# keep NAME: the secret of the reviewer just added, for code NAME
keep() { sed -n 's/.*"secret": "\([A-Z2-7]*\)".*/\1/p' "$OUT" > "$T/secret.$1"; }

# --- reviewers ---
post /v1/reviewers '{"name": "alice", "role": "reviewer"}'
expect_status 403 "the first reviewer must be an admin"
post /v1/reviewers '{"name": "alice", "role": "admin"}'
expect_status 200 "the owner enrols the first admin without a code"
expect_out '"secret": "[A-Z2-7]{32}", "uri": "otpauth://totp/arbiter:alice\?secret=[A-Z2-7]{32}&issuer=arbiter' \
	"the answer carries the secret and its URI"
keep alice
grep -q "$(cat "$T/secret.alice")" "$T/serve.log" "$DB" && fail "the secret is in the log or the database" ||
	pass "the secret is neither logged nor in the database"
grep -q "$(printf '\talice\t')" "$H/users.oath" &&
	pass "the secret is in users.oath" || fail "users.oath: $(cat "$H/users.oath")"
post /v1/reviewers '{"name": "bob", "as": "alice"}'
expect_status 401 "a second reviewer needs an admin's code"
expect_out '"code_needed": true' "and says so"
post /v1/reviewers "{\"name\": \"bob\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin's code enrols a reviewer"
expect_out '"role": "reviewer"' "a reviewer by default"
keep bob
post /v1/reviewers "{\"name\": \"carol\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 403 "a reviewer who is not an admin enrols nobody"
post /v1/reviewers "{\"name\": \"bob\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 409 "a name enrolled already is 409"
post /v1/reviewers '{"name": "no body"}'
expect_status 422 "a bad name is 422"
post /v1/reviewers '{"name": "dave", "role": "boss"}'
expect_status 422 "a bad role is 422"
post /v1/reviewers '{"role": "admin"}'
expect_status 422 "a reviewer without a name is 422"
api GET /v1/reviewers
expect_status 200 "the reviewers are listed"
expect_out '"name":"alice","role":"admin"' "alice as admin"
expect_out '"name":"bob","role":"reviewer"' "bob as reviewer"
post /v1/reviewers/bob/disable "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin disables a reviewer"
expect_out 'disabled bob' "and says so"
post /v1/reviewers/bob/disable "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 409 "disabling a disabled reviewer is 409"
post /v1/reviewers/nobody/disable "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 404 "an unknown reviewer is 404"
post /v1/reviewers/alice/disable "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 403 "the last admin cannot be disabled"

# --- policy pin and reevaluate ---
chmod u+w "$H/policies/20-guardian.yaml"
sed -i 's/max_complexity: 10$/max_complexity: 60/' "$H/policies/20-guardian.yaml"
api POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"cx1","submitter":"agent-c","complexity":50}'
ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
post "/v1/submissions/$ID/reevaluate" '{}'
expect_status 200 "reevaluate answers"
expect_out '"status": "blocked"' "still blocked under the pinned set"
kill -HUP "$SERVE_PID"
for _ in $(seq 1 50); do grep -q 'differ from pinned version' "$T/serve.log" && break; sleep 0.1; done
post "/v1/submissions/$ID/reevaluate" '{}'
expect_status 409 "reevaluating while the files differ from the pin is 409"
expect_out '"code": "tampered"' "named tampered"
post /v1/policy/pin '{"as": "alice"}'
expect_status 422 "a pin without a justification is 422"
post /v1/policy/pin "{\"justification\": \"short\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 403 "a justification under review.justification_min_chars is refused"
post /v1/policy/pin '{"justification": "complexity limit raised for generated parsers", "as": "alice", "code": "000000"}'
expect_status 422 "a pin with a wrong code is 422"
post /v1/policy/pin "{\"justification\": \"complexity limit raised for generated parsers\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin pins the edited files"
expect_out '"version": 2, "was": 1, "changed": "policies/20-guardian.yaml edited"' "as version 2, saying what changed"
api GET /v1/status
expect_out '"policy_version": 2' "the writer reloaded: the status gives version 2"
expect_out '"tampered": false' "and no tampering"
post "/v1/submissions/$ID/reevaluate" '{"as": "alice"}'
expect_status 200 "reevaluate under the new version"
expect_out '"before": "blocked", "status": "allowed", "policy_version": 2' "is allowed now"
expect_out '"result": \{"id":[0-9]+,.*"status":"allowed"' "with the new result"
[ "$(q "SELECT actor FROM audit WHERE event = 'submission.reevaluate' ORDER BY seq DESC LIMIT 1")" = alice ] &&
	pass "the reevaluation is audited as whom the owner acted as" || fail "reevaluate actor"
post "/v1/submissions/$ID/reevaluate" ''
expect_status 409 "reevaluating a decided one is refused"
post /v1/submissions/999/reevaluate ''
expect_status 404 "reevaluating an unknown submission is 404"
api POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"cx2","submitter":"agent-c","complexity":50}'
expect_out '"status":"allowed"' "a new submission is evaluated under the pinned version at once"
post /v1/policy/pin "{\"justification\": \"nothing changed since the last pin\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "a pin with nothing to pin is 200"
expect_out 'nothing to pin' "and says so"

# --- the audit log ---
api GET '/v1/audit?event=reviewer.add'
expect_status 200 "the audit list answers"
[ "$(grep -c '"event":"reviewer.add"' "$OUT")" = 2 ] && pass "filtered by event" || fail "audit: $(cat "$OUT")"
expect_out '"next": null' "one page: no next"
api GET '/v1/audit?limit=2'
expect_out '"next": "[0-9]+"' "a page of two has a next cursor"
first=$(grep -o '"seq":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
second=$(grep -o '"seq":[0-9]*' "$OUT" | sed -n 2p | cut -d: -f2)
[ "$first" -gt "$second" ] && pass "newest first" || fail "order $first $second"
next=$(sed -n 's/.*"next": "\([0-9]*\)".*/\1/p' "$OUT")
api GET "/v1/audit?limit=2&after=$next"
third=$(grep -o '"seq":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
[ "$third" -lt "$second" ] && pass "the cursor pages on below it" || fail "page two starts at $third"
api GET "/v1/audit?actor=alice&subject=bob"
expect_out '"event":"reviewer.disable"' "filtered by actor and subject"
api GET '/v1/audit?action=code.*&event=submission.reevaluate'
expect_out '"event":"submission.reevaluate"' "filtered by the submissions' action"
api GET '/v1/audit?since=2h&until=2020-01-01T00:00:00Z'
expect_out '"items": \[\]' "an empty window is empty"
api GET '/v1/audit?limit=0'
expect_status 400 "a bad limit is 400"
api GET '/v1/audit?since=yesterday'
expect_status 400 "a bad time is 400"

post /v1/audit/checkpoints ''
expect_status 200 "a checkpoint is made"
sed -n 's/.*"checkpoint": "\(.*\)", "minisig".*/\1/p' "$OUT" | sed 's/\\n/\n/g' | head -c -1 > "$T/cp.txt"
sed -n 's/.*"minisig": "\(.*\)"}$/\1/p' "$OUT" | sed 's/\\n/\n/g' | head -c -1 > "$T/cp.txt.minisig"
minisign -Vm "$T/cp.txt" -p "$H/keys/audit.pub" > /dev/null 2>&1 &&
	pass "its text and signature verify with minisign" || fail "checkpoint: $(cat "$T/cp.txt" "$T/cp.txt.minisig")"
file=$(sed -n 's/.*"file": "\([^"]*\)".*/\1/p' "$OUT")
[ -f "$file" ] && cmp -s "$file" "$T/cp.txt" && pass "the server keeps its copy in the store" ||
	fail "checkpoint file $file"
arbiter audit verify --checkpoint "$T/cp.txt"
expect_code 0 "audit verify takes the checkpoint"

curl -s --unix-socket "$SOCK" -D "$T/headers" -o "$T/export.json" http://arbiter/v1/audit/export
grep -q '^HTTP/1.1 200' "$T/headers" && pass "the export answers 200" || fail "export: $(head -1 "$T/headers")"
sed -n 's/^X-Arbiter-Minisig: //p' "$T/headers" | tr -d '\r' | base64 -d > "$T/export.json.minisig"
minisign -Vm "$T/export.json" -p "$H/keys/audit.pub" > /dev/null 2>&1 &&
	pass "the report and its signature (X-Arbiter-Minisig) verify with minisign" ||
	fail "export signature: $(head -c 300 "$T/export.json")"
grep -q '"verification": {"ok":true' "$T/export.json" && pass "the report says the log verified" ||
	fail "export: $(tail -2 "$T/export.json")"
grep -qi '^X-Arbiter-Message: export: [0-9]* events' "$T/headers" && pass "its message is a header" ||
	fail "headers: $(cat "$T/headers")"

api GET /v1/keys
expect_status 200 "the keys answer"
expect_out '"items": \[\]' "no key.rotate events yet"
[ "$(sed -n 's/.*"pubkey": "\(.*\)"}$/\1/p' "$OUT" | sed 's/\\n/\n/g')" = "$(cat "$H/keys/audit.pub")" ] &&
	pass "with the current public key" || fail "pubkey: $(cat "$OUT")"

# --- the table and its documentation ---
missing=""
while read -r method path; do
	grep -qE "^### \`$method $path(\`|[?[])" "$ROOT/docs/api.md" || missing="$missing $method $path;"
done < <(sed -n 's/^\t{ "\([A-Z]*\)", "\([^"]*\)",.*/\1 \2/p' "$ROOT/tui/serve/routes.c" |
	sed 's/\*/ID/; s/\(reviewers\|agents\)\/ID/\1\/NAME/')
[ -z "$missing" ] && pass "docs/api.md documents every route of the table" || fail "undocumented:$missing"

# --- the console on a served store ---
run "$ARBITER" tui
expect_code 1 "arbiter tui on a store a server owns exits 1"
expect_err 'a server owns this store \(arbiter serve answers on .*arbiter.sock\)' "and says why"
serve_stop
run "$ARBITER" tui < /dev/null
expect_no_err 'a server owns' "once the server is gone, tui no longer says so"
arbiter audit verify
expect_code 0 "the chain verifies"
