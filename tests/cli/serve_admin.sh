#!/bin/bash
# Administration and the audit log through arbiter serve (PRODUCT.md sections
# 4, 5, 6 and 9): reviewers (the first admin without a code, then an admin's
# code; the secret once, in the answer; list; disable, enable, reset, unlock
# and role, with their refusals; a reset ending the reviewer's sessions),
# policy pin (refusals, the writer's reload) and reevaluate, the audit list
# with its filters and cursor, a checkpoint and an export that the stock
# minisign verifies, the keys, every route of the table documented in
# docs/api.md, and the status's word on who the caller is. (The console
# through the server: tests/cli/team.sh.)
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

# --- enable, reset, unlock, role ---
post /v1/reviewers/bob/enable '{"as": "alice"}'
expect_status 401 "enabling needs the admin's code"
expect_out '"code_needed": true' "and says so"
post /v1/reviewers/bob/enable '{"as": "alice", "code": "000000"}'
expect_status 422 "a wrong code is 422"
[ "$(q "SELECT disabled FROM reviewers WHERE name = 'bob'")" = 1 ] && pass "and bob stays disabled" || fail "bob was enabled"
post /v1/reviewers/bob/enable "{\"as\": \"alice\", \"code\": \"$(code alice)\", \"token\": true}"
expect_status 200 "an admin enables bob again"
expect_out '"message": "enabled bob as reviewer with a new secret \(disabling removed the old one\) and a new bearer token", "name": "bob", "role": "reviewer", "secret": "[A-Z2-7]{32}", "uri": "otpauth://totp/arbiter:bob\?secret=[A-Z2-7]{32}&issuer=arbiter' \
	"the answer carries the new secret and its URI"
expect_out '"token": "arbiter_[A-Za-z0-9_-]{43}"' "and the new token"
keep bob
grep -q "$(cat "$T/secret.bob")" "$T/serve.log" "$DB" && fail "the secret is in the log or the database" ||
	pass "the new secret is neither logged nor in the database"
post /v1/reviewers/bob/enable "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 409 "enabling an enabled reviewer is 409"
expect_out '"code": "wrong_state"' "named wrong_state"
post /v1/reviewers/bob/enable '{"as": "alice", "token": "yes"}'
expect_status 422 "a token that is not true or false is 422"
post /v1/reviewers/nobody/reset "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 404 "resetting an unknown reviewer is 404"
post /v1/reviewers/bob/reset "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 403 "a reviewer who is not an admin resets nobody"
post /v1/reviewers/bob/reset '{"as": "alice", "reason": "lost phone"}'
expect_status 422 "an unknown field is 422"
# a session signed in with the old secret ends with it
post /v1/sessions "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "bob signs in"
SESSION=(-H "X-Arbiter-Session: $(sed -n 's/.*"token": "\([0-9a-f]*\)".*/\1/p' "$OUT")")
old=$(cat "$T/secret.bob")
post /v1/reviewers/bob/reset "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin resets bob's secret"
expect_out '"message": "reset bob.s secret: the old one gives no more codes", "name": "bob", "role": "reviewer", "secret": "[A-Z2-7]{32}"' \
	"the answer carries the new secret"
keep bob
[ "$(cat "$T/secret.bob")" != "$old" ] && pass "it is another secret" || fail "the secret did not change"
[ "$(q "SELECT actor || ' ' || subject FROM audit WHERE event = 'reviewer.reset'")" = "alice bob" ] &&
	pass "reviewer.reset is audited" || fail "reviewer.reset not audited"
api POST /v1/submissions "${JSON[@]}" --data-binary \
	'{"action":"code.modify","ref":"sess1","submitter":"agent-s","files":[{"path":"src/old.c","op":"delete"}]}'
PS=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
post "/v1/submissions/$PS/decisions" '{"decision": "approve", "ack": true, "as": "bob"}' "${SESSION[@]}"
expect_status 401 "the session from before the reset has ended"
post /v1/sessions "{\"as\": \"bob\", \"code\": \"$(oathtool --totp -b "$old" -N "@$(( ($(clock_now) / 30 + 1) * 30 ))")\"}"
expect_status 422 "a code of the old secret is refused"
post /v1/sessions "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "a code of the new secret signs bob in"
for i in 1 2 3 4 5; do post /v1/sessions '{"as": "bob", "code": "000000"}'; done
post /v1/sessions "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 423 "five wrong codes lock bob out"
post /v1/reviewers/bob/unlock '{"as": "alice"}'
expect_status 401 "unlocking needs the admin's code"
post /v1/reviewers/bob/unlock "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin unlocks bob"
expect_out '"message": "unlocked bob \(locked out until [0-9T:.-]+Z\); their code failures are forgotten"' "and says until when he was locked out"
post /v1/sessions "{\"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "bob's code is accepted again"
post /v1/reviewers/bob/role "{\"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 422 "a role change without a role is 422"
post /v1/reviewers/bob/role "{\"role\": \"boss\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 422 "an unknown role is 422"
post /v1/reviewers/bob/role "{\"role\": \"admin\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 403 "a reviewer cannot make themselves an admin"
post /v1/reviewers/bob/role "{\"role\": \"admin\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 200 "an admin makes bob an admin"
expect_out '"message": "bob is now an admin"' "and says so"
post /v1/reviewers/bob/role "{\"role\": \"admin\", \"as\": \"alice\", \"code\": \"$(code alice)\"}"
expect_status 409 "the role bob has already is 409"
post /v1/reviewers/alice/role "{\"role\": \"reviewer\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "bob, an admin now, makes alice a plain reviewer"
post /v1/reviewers/bob/role "{\"role\": \"reviewer\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 403 "the last admin cannot be demoted"
expect_out 'bob is the last admin' "and says so"
post /v1/reviewers/alice/role "{\"role\": \"admin\", \"as\": \"bob\", \"code\": \"$(code bob)\"}"
expect_status 200 "alice is an admin again"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'reviewer.role'")" = 3 ] &&
	pass "each role change is audited" || fail "reviewer.role events: $(q "SELECT count(*) FROM audit WHERE event = 'reviewer.role'")"

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

# --- who the status says the caller is ---
api GET /v1/status
expect_out '"identity": \{"kind": "owner", "name": "'"$(id -un)"'"\}' "the status names the owner as the server's login"
expect_out '"review": \{"approve_requires_code": true, "justification_min_chars": 20' \
	"and the review settings a client's dialogs follow"
api GET "/v1/status?as=alice"
expect_out '"actor": \{"name": "alice", "reviewer": true, "admin": true\}' \
	"as=NAME: the owner learns the standing of the reviewer it acts as"
api GET "/v1/status?as=nobody"
expect_out '"actor": \{"name": "nobody", "reviewer": false, "admin": false\}' \
	"and of a name that is no reviewer"
api GET "/v1/audit?after=5&newer=2"
expect_status 400 "after and newer together are refused"
api GET "/v1/audit?newer=2&limit=2"
sed -n 2p "$OUT" | grep -q '"seq":3,' && sed -n 3p "$OUT" | grep -q '"seq":4,' &&
	pass "newer pages forward, oldest first" || fail "newer: $(cut -c1-40 "$OUT")"
expect_out '"next": "4"' "with the cursor of the next page"
api GET "/v1/submissions?order=sideways"
expect_status 400 "an unknown order is refused"
serve_stop
arbiter audit verify
expect_code 0 "the chain verifies"
