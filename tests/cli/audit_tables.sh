#!/bin/bash
# audit verify checks the tables against the signed chain (PRODUCT.md
# section 6, docs/audit.md): a store with every kind of event verifies
# clean, and each edit of arbiter.db that someone with write access to the
# file could make without the key (a status set, a decisions row inserted
# or deleted, a finding removed or edited, a reviewer's role raised or a
# disabled reviewer enabled, an agent row deleted or added, a policy pin
# edited, a submission row deleted or added) exits 4, naming the table, the
# row, the column and the event that says otherwise. wait and show never
# allow the forged statuses among them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
new_store
enrol alice --as alice --role admin || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
enrol carol --as alice --code "$(code alice)" || fail "enrol carol"
enrol dave --as alice --code "$(code alice)" || fail "enrol dave"
rm -f "$H"/policies/*.yaml
cat > "$H/policies/10-tables.yaml" <<'EOF'
version: 1
policies:
  - name: needs_a_look
    actions: ["test.review"]
    type: expression
    condition: 'true'
    severity: warning
    effect: require_approval
    message: a reviewer looks first
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
# sub REF ACTION: submits a document; its id in $ID
sub() {
	printf 'action: %s\nref: tb/%s\nsubmitter: agent-1\n' "$2" "$1" > "$T/$1.yaml"
	arbiter submit --json "$T/$1.yaml"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}

# --- every kind of event, as arbiter writes them ---
sub approved test.review
APPROVED=$ID
arbiter --as bob approve "$APPROVED" --ack --note "looks fine" --code "$(code bob)"
expect_code 0 "bob approves $APPROVED"
sub rejected test.review
REJECTED=$ID
arbiter --as bob reject "$REJECTED" --reason "not this one" --code "$(code bob)"
expect_code 0 "bob rejects $REJECTED"
sub two test.two
TWO=$ID
arbiter --as bob override "$TWO" --justification "bob agrees; a second reviewer must too" --code "$(code bob)"
expect_code 3 "bob gives the first of two approvals"
arbiter --as carol override "$TWO" --justification "carol agrees with bob on this one" --code "$(code carol)"
expect_code 0 "carol completes the override"
sub waiting test.review
WAITING=$ID
sub allowed test.other
ALLOWED=$ID
# a new policy version, and the waiting submission evaluated under it
cat >> "$H/policies/10-tables.yaml" <<'EOF'
  - name: a_note
    actions: ["test.review"]
    type: expression
    condition: 'true'
    severity: info
    effect: warn
    message: noted
EOF
pin alice || fail "pin a second version"
arbiter --as alice reevaluate "$WAITING"
expect_code 3 "$WAITING is evaluated again, still waiting"
[ "$(q "SELECT count(*) FROM findings WHERE submission_id = $WAITING")" = 2 ] &&
	pass "with the new version's findings" || fail "findings of $WAITING: $(q "SELECT count(*) FROM findings WHERE submission_id = $WAITING")"
arbiter --as alice reviewer disable dave --code "$(code alice)"
expect_code 0 "dave is disabled"
arbiter --as alice reviewer enable dave --code "$(code alice)"
expect_code 0 "and enabled again"
sed -n 's/^secret (base32): //p' "$OUT" > "$T/secret.dave"
arbiter --as alice reviewer role dave admin --code "$(code alice)"
expect_code 0 "dave is made an admin"
arbiter --as alice reviewer role dave reviewer --code "$(code alice)"
expect_code 0 "and a reviewer again"
arbiter --as alice reviewer reset carol --code "$(code alice)"
expect_code 0 "carol gets a new secret"
sed -n 's/^secret (base32): //p' "$OUT" > "$T/secret.carol"
arbiter --as alice reviewer disable carol --code "$(code alice)"
expect_code 0 "carol is disabled"
arbiter --as alice agent add ci --token --code "$(code alice)"
expect_code 0 "an agent with a token is added"
TOKEN=$(sed -n 's/^token: //p' "$OUT")
arbiter --as alice agent add builder --uid 4242 --rate 5 --code "$(code alice)"
expect_code 0 "an agent by uid with a rate is added"
arbiter --as alice agent add old --token --code "$(code alice)"
arbiter --as alice agent revoke old --code "$(code alice)"
expect_code 0 "an agent is revoked"
arbiter --as mallory approve "$WAITING" --ack --code 123456
expect_code 4 "someone who is no reviewer is refused (code.failure)"
# the server's own events, and a refusal of access (access.denied)
if [ -n "$TOKEN" ] && serve_start; then
	api GET /v1/audit -H "Authorization: Bearer $TOKEN"
	expect_status 403 "the agent may not read the audit log"
	sleep 0.3
	serve_stop
fi
[ "$(q "SELECT count(*) FROM audit WHERE event = 'access.denied'")" -ge 1 ] &&
	pass "the refusal is audited as access.denied" || fail "no access.denied event"
[ "$(q "SELECT count(*) FROM audit WHERE event IN ('server.start', 'server.stop')")" = 2 ] &&
	pass "the server's start and stop are audited" || fail "server events: $(q "SELECT count(*) FROM audit WHERE event LIKE 'server.%'")"

arbiter audit verify
expect_code 0 "the untouched store verifies"
expect_out "^audit: verified [0-9]+ events; head seq [0-9]+, hash [0-9a-f]{64}$" "with the usual line"
for e in submission.create submission.reevaluate decision.approve decision.reject override.partial \
    override.grant policy.pin reviewer.add reviewer.disable reviewer.enable reviewer.role \
    reviewer.reset agent.add agent.revoke code.failure access.denied server.start; do
	[ "$(q "SELECT count(*) FROM audit WHERE event = '$e'")" -ge 1 ] || fail "the store holds no $e event"
done
pass "the store holds every kind of event verify reads"

# --- each edit of arbiter.db: exit 4, naming where ---
q ".backup '$T/clean.db'"
# tampered SQL REGEX WHAT: the edit, then verify; the store is put back after
tampered() {
	q "$1"
	arbiter audit verify
	expect_code 4 "$3: verify exits 4"
	expect_out "^audit: TAMPERED: $2" "$3: named"
	# --full reads the tables while its workers check signatures: the same verdict
	arbiter audit verify --full
	expect_code 4 "$3: verify --full exits 4"
	expect_out "^audit: TAMPERED: $2" "$3: named by --full"
	q ".restore '$T/clean.db'"
}
tampered "UPDATE submissions SET status = 'approved' WHERE id = $WAITING" \
	"submissions row $WAITING status is \"approved\" but the events say pending \\(last event seq [0-9]+\\)$" \
	"a status set by hand"
tampered "INSERT INTO decisions (submission_id, reviewer, decision, note, at, at_ms) VALUES ($WAITING, 'bob', 'approve', 'by hand', '2030-01-01T00:00:00.000Z', 0)" \
	"decisions row [0-9]+ \\(submission $WAITING, \"approve\" by \"bob\"\\) has no decision event \\(a row written around arbiter\\)$" \
	"an inserted decisions row"
tampered "UPDATE decisions SET id = id + 10 WHERE id > 1; INSERT INTO decisions (id, submission_id, reviewer, decision, note, at, at_ms) VALUES (2, $TWO, 'mallory', 'override.partial', 'x', 't', 0)" \
	"decisions row 2 \\(submission $TWO, \"override.partial\" by \"mallory\"\\) has no decision event" \
	"a decisions row inserted between two"
tampered "DELETE FROM decisions WHERE decision = 'reject'" \
	"the decisions row of event seq [0-9]+ \\(submission $REJECTED\\) is missing \\(deleted\\)$" \
	"a deleted decisions row"
tampered "DELETE FROM decisions WHERE decision = 'override'" \
	"the decisions row of event seq [0-9]+ \\(submission $TWO\\) is missing \\(deleted\\)$" \
	"the last decisions row deleted"
tampered "UPDATE decisions SET reviewer = 'dave' WHERE decision = 'override.partial'" \
	"decisions row [0-9]+ reviewer is \"dave\" but the events say \"bob\" \\(event seq [0-9]+\\)$" \
	"an approval's reviewer changed"
# a submission's findings are [kind, detail, path] in its row, what a
# policy's findings share a finding_kinds row (KIND_OF: the kind of a
# submission's first finding; REKIND: that finding re-pointed to a copy of
# its kind with a field changed)
KIND_OF() { echo "(SELECT findings ->> '\$[0][0]' FROM submissions WHERE id = $1)"; }
REKIND() {      # SUBMISSION COLUMN VALUE
	echo "INSERT INTO finding_kinds (policy, type, severity, effect, overridable, message, source, approvals, role, max_duration) SELECT policy, type, severity, effect, overridable, message, source, approvals, role, max_duration FROM finding_kinds WHERE id = $(KIND_OF "$1"); UPDATE finding_kinds SET $2 = $3 WHERE id = last_insert_rowid(); UPDATE submissions SET findings = json_replace(findings, '\$[0][0]', (SELECT max(id) FROM finding_kinds)) WHERE id = $1"
}
tampered "UPDATE submissions SET findings = json_remove(findings, '\$[#-1]') WHERE id = $WAITING" \
	"submissions row $WAITING findings are 1 but the events say 2 \\(event seq [0-9]+\\)$" \
	"a finding removed"
tampered "UPDATE submissions SET findings = NULL WHERE id = $WAITING" \
	"submissions row $WAITING findings are 0 but the events say 2 \\(event seq [0-9]+\\)$" \
	"every finding removed"
tampered "$(REKIND "$APPROVED" severity "'info'")" \
	"submissions row $APPROVED findings: 1 with severity info but the events say 0 \\(event seq [0-9]+\\)$" \
	"a finding's severity edited"
tampered "$(REKIND "$APPROVED" message "'nothing to see'")" \
	"submissions row $APPROVED findings differ from the findings_digest of event seq [0-9]+: a finding was edited, added or removed$" \
	"a finding's message edited"
tampered "UPDATE finding_kinds SET message = 'nothing to see' WHERE id = $(KIND_OF "$APPROVED")" \
	"submissions row [0-9]+ findings differ from the findings_digest of event seq [0-9]+: a finding was edited" \
	"the kind a finding names edited"
tampered "$(REKIND "$TWO" effect "'warn'"); UPDATE finding_kinds SET overridable = 1 WHERE id = (SELECT max(id) FROM finding_kinds)" \
	"submissions row $TWO findings differ from the findings_digest" \
	"a deny finding made a warning"
tampered "UPDATE submissions SET findings = json_replace(findings, '\$[0][1]', 'by hand') WHERE id = $APPROVED" \
	"submissions row $APPROVED findings differ from the findings_digest" \
	"a finding's detail edited"
tampered "UPDATE submissions SET findings = json_array(json_array((SELECT min(id) FROM finding_kinds), NULL, NULL)) WHERE id = $ALLOWED" \
	"submissions row $ALLOWED findings are 1 but the events say 0" \
	"a finding added to an allowed submission"
tampered "UPDATE submissions SET findings = '[[1,' WHERE id = $APPROVED" \
	"submissions row $APPROVED findings do not read: " \
	"a findings column that does not read"
tampered "UPDATE submissions SET findings = json_replace(findings, '\$[0][0]', 9999) WHERE id = $APPROVED" \
	"submissions row $APPROVED findings do not read: finding 1 names kind 9999, which finding_kinds does not hold" \
	"a finding naming no kind"
tampered "DELETE FROM finding_policies WHERE submission_id = $APPROVED" \
	"finding_policies lacks a row the submissions' findings call for" \
	"a submission hidden from list --policy"
tampered "UPDATE finding_policies SET critical = critical + 1 WHERE submission_id = $APPROVED" \
	"finding_policies row \\([a-z_]+, $APPROVED\\) says 1 critical, 1 warning, 0 info but the submission's findings 0, 1, 0" \
	"a finding_policies row edited"
tampered "INSERT INTO finding_policies VALUES ('protected_files', $ALLOWED, 1, 0, 0)" \
	"finding_policies row \\(protected_files, $ALLOWED\\) says 1 critical" \
	"a submission added to list --policy"
tampered "UPDATE reviewers SET role = 'admin' WHERE name = 'bob'" \
	"reviewers row bob role is \"admin\" but the events say reviewer \\(last event seq [0-9]+\\)$" \
	"a reviewer's role raised"
tampered "UPDATE reviewers SET disabled = 0 WHERE name = 'carol'" \
	"reviewers row carol disabled is 0 but the events say disabled \\(last event seq [0-9]+\\)$" \
	"a disabled reviewer enabled"
tampered "INSERT INTO reviewers (name, role, enrolled_at, login) VALUES ('mallory', 'admin', 't', 'mallory')" \
	"reviewers row mallory has no reviewer.add event" \
	"a reviewer inserted"
tampered "DELETE FROM reviewers WHERE name = 'bob'" \
	"reviewers row bob is missing, but event seq [0-9]+ \\(reviewer.add\\) added it$" \
	"a reviewer deleted"
tampered "UPDATE reviewers SET token_hash = '$(printf '%064d' 7)' WHERE name = 'bob'" \
	"reviewers row bob token_hash is set but the events say none" \
	"a token given to a reviewer"
tampered "DELETE FROM agents WHERE name = 'builder'" \
	"agents row builder is missing, but event seq [0-9]+ \\(agent.add\\) added it$" \
	"an agent row deleted"
tampered "INSERT INTO agents (name, uid, created_at, actor) VALUES ('evil', 0, 't', 'alice')" \
	"agents row evil has no agent.add event" \
	"an agent row added"
tampered "UPDATE agents SET revoked_at = NULL WHERE name = 'old'" \
	"agents row old revoked_at is NULL but the events say revoked" \
	"a revoked agent restored"
tampered "UPDATE agents SET uid = 0 WHERE name = 'builder'" \
	"agents row builder uid is 0 but the events say 4242" \
	"an agent's uid changed"
tampered "UPDATE policy_versions SET files = replace(files, 'a', 'b') WHERE version = 2" \
	"policy_versions row 2 files differ from what the events pinned \\(event seq [0-9]+\\)" \
	"a policy pin edited"
tampered "UPDATE policy_versions SET actor = 'mallory' WHERE version = 3" \
	"policy_versions row 3 actor is \"mallory\" but the events say \"alice\"" \
	"a pin's actor edited"
tampered "DELETE FROM policy_versions WHERE version = 3" \
	"policy_versions row 3 is missing, but event seq [0-9]+ pinned it" \
	"a pin deleted"
tampered "DELETE FROM finding_policies WHERE submission_id = $REJECTED; DELETE FROM decisions WHERE submission_id = $REJECTED; DELETE FROM submissions WHERE id = $REJECTED" \
	"submissions row $REJECTED is missing, but the events created it \\(last event seq [0-9]+\\)$" \
	"a submission row deleted"
tampered "INSERT INTO submissions (ref, kind, action, status, policy_version, created_at, created_ms, content_hash, document, info, warning, critical) VALUES ('x', 'proposal', 'test.other', 'allowed', 3, 't', 0, 'h', '{}', 0, 0, 0)" \
	"submissions row [0-9]+ has no submission.create event \\(a row written around arbiter\\)$" \
	"a submission row with no event"
tampered "UPDATE submissions SET submitter = 'someone-else' WHERE id = $APPROVED" \
	"submissions row $APPROVED submitter is \"someone-else\" but the events say \"agent-1\" \\(event seq [0-9]+\\)$" \
	"a submitter changed"
tampered "UPDATE submissions SET action = 'test.other' WHERE id = $WAITING" \
	"submissions row $WAITING action is \"test.other\" but the events say \"test.review\"" \
	"an action changed"
tampered "UPDATE submissions SET policy_version = 3 WHERE id = $APPROVED" \
	"submissions row $APPROVED policy_version is 3 but the events say 2" \
	"a policy version changed"
tampered "UPDATE submissions SET warning = 0 WHERE id = $APPROVED" \
	"submissions row $APPROVED warning is 0 but the events say 1" \
	"a finding count changed"
tampered "UPDATE submissions SET expires_at = '2999-01-01T00:00:00.000Z' WHERE id = $TWO" \
	"submissions row $TWO expires_at is \"2999-01-01T00:00:00.000Z\" but the events say \"[0-9T:.Z-]+\"" \
	"an override's expiry moved"
tampered "UPDATE submissions SET document = replace(document, 'tb/', 'xx/') WHERE id = $APPROVED" \
	"submissions row $APPROVED document does not hash to the content_hash its events name \\(event seq [0-9]+\\): the document was edited$" \
	"a document edited"
tampered "UPDATE submissions SET digest = '$(printf '%064d' 0)' WHERE id = $APPROVED" \
	"submissions row $APPROVED digest is \"0{60}...\" but the events say \"[0-9a-f]{60}...\"" \
	"a digest swapped"
tampered "UPDATE status_counts SET n = n + 1 WHERE status = 'approved'" \
	"status_counts row approved n is 2 but the submissions the events say are 1" \
	"a count per status edited"
arbiter audit verify
expect_code 0 "the store put back verifies again"

# --- the forged allows among them are no allow for wait and show ---
q "UPDATE submissions SET status = 'approved' WHERE id = $WAITING"
arbiter wait "$WAITING" --timeout 0
expect_code 4 "wait on a status set by hand exits 4"
arbiter show "$WAITING"
expect_code 4 "show of it exits 4"
q ".restore '$T/clean.db'"
q "UPDATE findings SET effect = 'warn', overridable = 1 WHERE submission_id = $TWO; UPDATE submissions SET status = 'overridden' WHERE id = $TWO"
arbiter wait "$TWO" --timeout 0
expect_code 0 "a genuine override still allows, its findings edited or not (the event is signed)"
q ".restore '$T/clean.db'"
q "INSERT INTO decisions (submission_id, reviewer, decision, note, at, at_ms, expires_at) VALUES ($WAITING, 'dave', 'approve', 'by hand', 't', 0, NULL)"
arbiter wait "$WAITING" --timeout 0
expect_code 3 "an inserted approval row leaves the submission waiting"
q ".restore '$T/clean.db'"
