#!/bin/bash
# Names (PRODUCT.md section 2): reviewers, agents and submitters are ASCII
# [a-z0-9][a-z0-9._-]{0,63} after lower-casing; anything else is refused with
# a message, and every comparison uses the lower-cased form. The attacks of
# issue 16 on names, each retried and refused with nothing changed: a
# submitter with a no-break space (a blank, a look-alike letter, an invisible
# one) is refused at submit as FILE:LINE:COL, so alice cannot decide her own
# submission by it; ALICE's submission is alice's; one reviewer under two
# spellings is one for the two-person rule; a quota per submitter counts ALICE
# and alice as one; a reviewer or an actor that is no name is refused, and
# Dave is enrolled as dave. A submitter stored before the rule is shown as it
# was: one that is no name matches nobody, ALICE still is alice.
# Runs served too (tests/cli/served.list).
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
clock_start
new_store
events() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
status() { q "SELECT status FROM submissions WHERE id = $1"; }
id_of() { grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2; }
stored() { q "SELECT count(*) FROM submissions"; }
# sub REF SUBMITTER [ACTION]: a document of SUBMITTER (YAML, as written) in
# $T/REF.yaml, line 3 naming the submitter
sub() {
	printf 'action: %s\nref: names/%s\nsubmitter: %s\nfiles:\n  - {path: src/old.c, op: delete}\n' \
		"${3:-code.modify}" "$1" "$2" > "$T/$1.yaml"
}
enrol alice --role admin || fail "enrol alice"
enrol carol --role admin --as alice --code "$(code alice)" || fail "enrol carol"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
NBSP=$(printf '\302\240')

# --- reviewers' names ---
for bad in "dave smith" "dave$NBSP" " dave" "dave@example" "$(printf 'd\320\260ve')" ""; do
	arbiter --as alice reviewer add "$bad" --code 000000
	expect_code 2 "reviewer add '$bad' is refused"
	expect_err 'is not a reviewer name \(ASCII a-z, 0-9' "with the rule"
done
[ "$(q "SELECT count(*) FROM reviewers")" = 3 ] && [ "$(events code.failure)" = 0 ] &&
	pass "no reviewer was added and no code was tried" || fail "reviewers $(q "SELECT group_concat(name) FROM reviewers")"
enrol Dave --as alice --code "$(code alice)" || fail "enrol Dave"
grep -q '^enrolled dave as reviewer' "$T/enrol.Dave" && grep -q 'otpauth://totp/arbiter:dave?' "$T/enrol.Dave" &&
	pass "Dave is enrolled as dave" || fail "enrolment: $(head -2 "$T/enrol.Dave")"
[ "$(q "SELECT name FROM reviewers WHERE name LIKE 'dave'")" = dave ] && grep -q '	dave	' "$H/users.oath" &&
	pass "under the lower-cased name, in the database and users.oath" || fail "stored as $(q "SELECT name FROM reviewers WHERE name LIKE 'dave'")"

# --- the actor's name ---
sub actor agent-n; arbiter submit --json "$T/actor.yaml"; A=$(id_of)
for bad in "bob " "b$NBSP" "b@b"; do
	arbiter --as "$bad" approve "$A" --ack --code 000000
	expect_code 1 "--as '$bad' is refused"
	expect_err "is not a reviewer's name" "as no name"
done
[ "$(events code.failure)" = 0 ] && [ "$(status "$A")" = pending ] &&
	pass "nothing was tried, nothing decided" || fail "status $(status "$A"), failures $(events code.failure)"
arbiter --as BOB approve "$A" --ack --code "$(code bob)"
expect_code 0 "--as BOB is bob"
expect_out "approved by bob" "and the decision is bob's"
[ "$(q "SELECT reviewer FROM decisions WHERE submission_id = $A")" = bob ] &&
	pass "recorded under the lower-cased name" || fail "decided by $(q "SELECT reviewer FROM decisions WHERE submission_id = $A")"

# --- submitters that are no names: refused where they stand ---
n=0
for bad in '"alice\u00a0"' "\"alice$NBSP\"" '" alice"' '"alice "' '"al ice"' '"\u0430lice"' '"alice\u200b"' \
    '"alice\u0000"' "''" '"-alice"'; do
	n=$((n + 1))
	before=$(stored) created=$(events submission.create)
	sub "bad$n" "$bad"
	arbiter submit "$T/bad$n.yaml"
	expect_code 1 "submitter: $bad is refused"
	expect_err "^$T/bad$n.yaml:3:12: submitter is not a name \\(ASCII" "at its FILE:LINE:COL"
	[ "$(stored)" = "$before" ] && [ "$(events submission.create)" = "$created" ] ||
		fail "submitter: $bad was stored"
done
printf '{"action":"code.modify","ref":"names/j1","submitter":"alice\\u00a0"}\n{"action":"code.modify","ref":"names/j2","submitter":"alice"}\n' > "$T/lines.jsonl"
arbiter submit --json "$T/lines.jsonl"
expect_code 1 "a JSON line with a no-break space in its submitter is refused"
expect_err "lines.jsonl:1:[0-9]+: submitter is not a name" "at its line and column"
expect_out '"ref":"names/j2"' "and the other line is still stored"
[ "$(q "SELECT count(*) FROM submissions WHERE ref = 'names/j1'")" = 0 ] && pass "nothing is stored for the refused line" ||
	fail "names/j1 was stored"

# --- ALICE is alice ---
sub upper ALICE; arbiter submit --json "$T/upper.yaml"; U=$(id_of)
expect_out '"submitter":"alice"' "a submission by ALICE is stored as alice's"
arbiter --as alice approve "$U" --ack --code "$(code alice)"
expect_code 4 "alice cannot decide ALICE's submission"
expect_err "nobody decides their own submission" "as her own"
arbiter --as ALICE reject "$U" --reason "mine anyway" --code "$(code alice)"
expect_code 4 "nor can ALICE"
[ "$(status "$U")" = pending ] && pass "it is still pending" || fail "status $(status "$U")"
arbiter list --submitter ALICE --json
expect_out "^\\{\"id\":$U," "list --submitter ALICE finds it"
arbiter list --submitter alice --json
expect_out "^\\{\"id\":$U," "and so does --submitter alice"
sub upper ALICE; arbiter submit --json "$T/upper.yaml"
expect_out "^\\{\"id\":$U," "ALICE's ref again is the same submission"
sub upper alice; arbiter submit "$T/upper.yaml"
expect_code 1 "alice's ref with other content is a conflict: one submitter"
arbiter --as bob approve "$U" --ack --code "$(code bob)"
expect_code 0 "another reviewer decides it"

# --- the two-person rule counts one reviewer once, however spelt ---
arbiter submit --json "$EX/submissions/rom-02-header-patch.yaml"; ROM=$(id_of)
arbiter --as alice override "$ROM" --justification "the header title is wrong on purpose" --code "$(code alice)"
expect_code 3 "alice gives the first of two approvals"
arbiter --as ALICE override "$ROM" --justification "the header title is wrong on purpose" --code "$(code alice)"
expect_code 4 "ALICE cannot give the second"
expect_err 'alice already gave an approval \(1 of 2\)' "she already gave one"
# a partial recorded under another case (before names were lower-cased)
q "UPDATE decisions SET reviewer = 'Alice' WHERE submission_id = $ROM"
arbiter --as alice override "$ROM" --justification "the header title is wrong on purpose" --code "$(code alice)"
expect_code 4 "nor does alice when her first was recorded as Alice"
[ "$(status "$ROM")" = blocked ] && pass "it stays blocked" || fail "status $(status "$ROM")"
arbiter --as carol override "$ROM" --justification "confirmed with the ROM maintainer" --code "$(code carol)"
expect_code 0 "a second, different admin completes it"
# the row written by hand above is what audit verify catches (its event says
# alice); put back, so that the chain verifies below
q "UPDATE decisions SET reviewer = 'alice' WHERE submission_id = $ROM AND reviewer = 'Alice'"

# --- a quota per submitter counts ALICE and alice as one ---
chmod u+w "$H/policies"
cat > "$H/policies/90-names.yaml" <<'YAML'
version: 1
policies:
  - name: one_per_submitter
    actions: ["names.*"]
    type: quota
    limit: 1
    window: 1h
    per: submitter
    severity: critical
    message: One names.* submission per submitter an hour
YAML
chmod 444 "$H/policies/90-names.yaml"
pin alice || fail "pinning the quota"
sub quota1 erin names.quota; arbiter submit --json "$T/quota1.yaml"
expect_no_out 'one_per_submitter' "erin's first is within the quota"
sub quota2 ERIN names.quota; arbiter submit --json "$T/quota2.yaml"
expect_out '"status":"blocked"' "ERIN's is erin's second: over the quota"
expect_out '"policy":"one_per_submitter".*for submitter ..erin' "counted for erin"
sub quota3 frank names.quota; arbiter submit --json "$T/quota3.yaml"
expect_no_out 'one_per_submitter' "another submitter has a quota of his own"

arbiter audit verify
expect_code 0 "the chain verifies"

# --- submitters stored before the rule ---
# as a store from before may hold them, written straight into the database
sub old1 agent-o; arbiter submit --json "$T/old1.yaml"; O1=$(id_of)
sub old2 agent-o2; arbiter submit --json "$T/old2.yaml"; O2=$(id_of)
q "UPDATE submissions SET submitter = 'alice' || char(160) WHERE id = $O1;
   UPDATE submissions SET submitter = 'ALICE' WHERE id = $O2"
arbiter show "$O1"
expect_code 3 "a submission whose stored submitter is no name is still shown"
expect_out 'alice' "with the submitter it has"
arbiter --as alice approve "$O2" --ack --code "$(code alice)"
expect_code 4 "a stored ALICE is still alice"
arbiter --as alice approve "$O1" --ack --code "$(code alice)"
expect_code 0 "a stored submitter that is no name is nobody's: alice may decide it"
