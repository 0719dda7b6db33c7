#!/bin/bash
# Holes a security review found in review and integrity, each closed and
# kept closed: a pin edited in the database, names that differ only in case
# or blanks, an ID given twice, a partial override that expired, an override
# asked for beyond a year, and the code-free enrolment of a store that has
# had reviewers.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
cd "$T" || exit 1
export ARBITER_HOME=$T/s
clock_start
"$ARBITER" init "$T/s" > /dev/null || fail "init"
DB=$T/s/.arbiter/arbiter.db
enrol admin1 --role admin || fail "enrol admin1"
enrol admin2 --role admin --as admin1 --code "$(code admin1)" || fail "enrol admin2"
enrol carol --as admin1 --code "$(code admin1)" || fail "enrol carol"

# the pin is the signed event, not the row
q "INSERT INTO policy_versions VALUES (2, '2026-01-01T00:00:00.000Z', 'mallory', 'x', '{}')"
arbiter submit "$EX/submissions/rom-01-clean-patch.yaml"
expect_err 'POLICIES TAMPERED: the pinned policy version in the database does not match its signed audit event' "a policy version row without its signed event makes the store tampered"
expect_out 'policy_integrity' "and the submission gets the integrity finding"
pin admin1 || fail "pin again"
arbiter submit "$EX/submissions/rom-01-clean-patch.yaml"
expect_no_err 'TAMPERED' "a real pin restores it"

# names as people compare them: lower-cased, and names only (PRODUCT.md
# section 2; tests/cli/names.sh has the rest)
printf 'action: code.modify\nsubmitter: " Carol "\ntitle: mine\nfiles:\n  - {path: a.o, op: delete}\n' > "$T/mine.yaml"
arbiter submit "$T/mine.yaml"
expect_code 1 "a submitter \" Carol \" is no name: refused"
expect_err 'mine.yaml:2:12: submitter is not a name' "where it is"
printf 'action: code.modify\nsubmitter: CAROL\ntitle: mine\nfiles:\n  - {path: a.o, op: delete}\n' > "$T/mine.yaml"
id=$("$ARBITER" submit --json "$T/mine.yaml" | sed 's/^{"id":\([0-9]*\).*/\1/')
arbiter --as carol approve "$id" --ack --code "$(code carol)"
expect_code 4 "a submitter CAROL is carol"
expect_err 'nobody decides their own submission' "the refusal says why"
arbiter --as admin1 reviewer add CAROL --code "$(code admin1)"
expect_code 4 "CAROL cannot be enrolled beside carol"
expect_err 'that reviewer already exists' "the refusal says why: CAROL is carol"

# an ID given twice is decided once
printf 'action: code.modify\nsubmitter: agent\ntitle: twice\nfiles:\n  - {path: b.o, op: delete}\n' > "$T/twice.yaml"
id=$("$ARBITER" submit --json "$T/twice.yaml" | sed 's/^{"id":\([0-9]*\).*/\1/')
arbiter --as carol approve "$id" "$id" --ack --code "$(code carol)"
expect_code 0 "approve ID ID exits 0"
[ "$(q "SELECT count(*) FROM decisions WHERE submission_id = $id")" = 1 ] && pass "one decision for an ID given twice" || fail "decisions for $id: $(q "SELECT count(*) FROM decisions WHERE submission_id = $id")"

# an expired partial override no longer counts
id=$("$ARBITER" submit --json "$EX/submissions/rom-02-header-patch.yaml" 2>/dev/null | sed 's/^{"id":\([0-9]*\).*/\1/')
arbiter --as admin1 override "$id" --justification "header change checked against the dump" --expires 1s --code "$(code admin1)"
expect_code 3 "the first admin's override is partial"
clock_advance 1
arbiter --as admin2 override "$id" --justification "second look at the header change, fine" --code "$(code admin2)"
expect_code 3 "after the first expired, the second is again only 1 of 2"
expect_out 'override 1 of 2 recorded' "the expired partial is not counted"

# a year is the longest override
id=$("$ARBITER" submit --json "$EX/submissions/code-02-complexity.yaml" 2>/dev/null | sed 's/^{"id":\([0-9]*\).*/\1/')
arbiter --as admin2 override "$id" --justification "twenty characters and more" --expires 400d --code "$(code admin2)"
expect_code 4 "an override of 400 days is refused"
expect_err 'an override lasts at most 366 days' "the refusal names the limit"

# enrolment without a code only in a store that never had a reviewer
q "UPDATE reviewers SET disabled = 1"
arbiter --as mallory reviewer add mallory --role admin
expect_code 4 "with every reviewer disabled, enrolment still needs an admin's code"

# refusals before any code is checked are audited too
arbiter --as nobody approve 1 --code 123456
expect_code 4 "an unknown actor is refused"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'code.failure' AND actor = 'nobody' AND details LIKE '%not an enrolled reviewer%'")" = 1 ] \
	&& pass "and audited as code.failure" || fail "no code.failure for nobody"
q "SELECT details FROM audit WHERE actor = 'nobody'" | grep -q 123456 && fail "the code is in the audit log" || pass "without the code"
