#!/bin/bash
# Reading the store back: list (filters, order, limits, JSON lines), show
# (text, JSON, exit codes by status), wait (at once, decided while waiting,
# timeout), stats (counts agree with the database, rates, --since) and their
# usage errors. Decisions are made by the decision commands: a status
# written into the database by hand is not one (tests/cli/evidence.sh). The
# test clock stands still but for the steps codes take and an override's
# expiry.
. "$(dirname "$0")/../lib.sh"
clock_start
new_store
for f in "$ROOT"/docs/examples/submissions/*.yaml "$ROOT"/docs/examples/submissions/*.jsonl; do
	"$ARBITER" submit "$f" > /dev/null 2>&1
done
N=$(q "SELECT count(*) FROM submissions")
[ "$N" -ge 20 ] && pass "the examples are stored ($N)" || fail "only $N examples stored"
# JSON field $2 of every line of $1 (a file), one a line
field() { grep -o "\"$2\":\"[^\"]*\"" "$1" | cut -d'"' -f4; }
ids() { grep -o '^{"id":[0-9]*' "$1" | cut -d: -f2; }
lines() { grep -c . "$OUT"; }

# ---- list ----
arbiter list
expect_code 0 "list exits 0"
expect_out '^ID +KIND +ACTION +STATUS +SUBMITTER +AGE +C/W/I +TITLE' "list prints the table header"
expect_out 'z3ed-agent-7 .* Fix cartridge title in header' "list shows submitter and title"
want=$((N < 50 ? N : 50))
[ "$(($(lines) - 1))" -eq "$want" ] && pass "list shows $want rows" || fail "list shows $(($(lines) - 1)) rows, expected $want"

arbiter list --json --limit 1000
expect_code 0 "list --json exits 0"
[ "$(lines)" -eq "$N" ] && pass "list --json prints one line per submission" || fail "list --json printed $(lines) lines, expected $N"
bad=0
while IFS= read -r line; do
	for k in '"id":[0-9]+' '"policy_version":[0-9]+' '"ref":' '"kind":"' '"action":"' '"status":"' \
	    '"counts":\{"info":[0-9]+,"warning":[0-9]+,"critical":[0-9]+\}' '"findings":\[' '"created_at":"'; do
		printf '%s' "$line" | grep -qE "$k" || bad=$((bad + 1))
	done
	printf '%s' "$line" | grep -qE '^\{.*\}$' || bad=$((bad + 1))
done < "$OUT"
[ "$bad" -eq 0 ] && [ -s "$OUT" ] && pass "every JSON line has section 3's fields" || fail "$bad fields missing from list --json"
grep -q '"findings":\[{"policy":"[^"]*","type":"[^"]*","severity":"[^"]*","effect":"[^"]*","overridable":' "$OUT" \
	&& pass "findings carry policy, type, severity, effect, overridable" || fail "finding fields"
ids "$OUT" > "$T/ids"
[ "$(head -1 "$T/ids")" -gt "$(tail -1 "$T/ids")" ] && pass "list --status all is newest first" || fail "all is not newest first"

arbiter list --limit 3 --json
[ "$(lines)" -eq 3 ] && pass "--limit 3 prints 3 lines" || fail "--limit 3 printed $(lines)"
# more than the default limit of 50
for i in $(seq 1 60); do printf '{"action":"test.bulk","ref":"bulk/%d","submitter":"bulk-bot","title":"bulk %d"}\n' "$i" "$i"; done > "$T/bulk.jsonl"
"$ARBITER" submit "$T/bulk.jsonl" > /dev/null 2>&1
N=$(q "SELECT count(*) FROM submissions")
arbiter list --json
[ "$(lines)" -eq 50 ] && pass "list stops at the default limit of 50 ($N stored)" || fail "default limit: $(lines) lines"

for s in allowed pending blocked; do
	want=$(q "SELECT count(*) FROM submissions WHERE status = '$s'")
	arbiter list --status "$s" --limit 1000 --json
	got=$(lines)
	other=$(field "$OUT" status | grep -vcx "$s")
	[ "$got" -eq "$want" ] && [ "$other" -eq 0 ] && pass "--status $s lists the $want $s ones" || fail "--status $s: $got lines ($other others), expected $want"
done
want=$(q "SELECT count(*) FROM submissions WHERE status IN ('pending', 'blocked')")
arbiter list --status waiting --limit 1000 --json
[ "$(lines)" -eq "$want" ] && pass "--status waiting lists pending and blocked ($want)" || fail "waiting: $(lines), expected $want"
[ -s "$OUT" ] && ! field "$OUT" status | grep -qvxE 'pending|blocked' && pass "waiting lists only pending and blocked" || fail "waiting lists other statuses"
ids "$OUT" > "$T/ids"
[ -s "$T/ids" ] && sort -n "$T/ids" | cmp -s - "$T/ids" && pass "waiting is oldest first" || fail "waiting is not oldest first"
arbiter list --status waiting --limit 2 --json
[ "$(lines)" -eq 2 ] && [ "$(ids "$OUT" | head -1)" = "$(q "SELECT min(id) FROM submissions WHERE status IN ('pending', 'blocked')")" ] \
	&& pass "waiting with a limit starts at the oldest" || fail "waiting --limit 2"

for k in proposal export import; do
	want=$(q "SELECT count(*) FROM submissions WHERE kind = '$k'")
	arbiter list --kind "$k" --limit 1000 --json
	got=$(lines)
	[ "$got" -eq "$want" ] && ! field "$OUT" kind | grep -qvx "$k" && pass "--kind $k lists the $want ${k}s" || fail "--kind $k: $got lines, expected $want"
done
want=$(q "SELECT count(*) FROM submissions WHERE kind = 'export' AND status = 'blocked'")
arbiter list --kind export --status blocked --json
[ "$(lines)" -eq "$want" ] && pass "--kind and --status combine ($want)" || fail "kind+status: $(lines), expected $want"
arbiter list --status decided
expect_code 0 "an empty listing exits 0"
expect_out '^no submissions with status decided' "an empty listing says so"

# usage errors
arbiter list --status bogus
expect_code 2 "an unknown --status is a usage error"
expect_err 'unknown status bogus' "the error names the status"
arbiter list --kind widget
expect_code 2 "an unknown --kind is a usage error"
for l in 0 -1 abc 5x; do
	arbiter list --limit "$l"
	expect_code 2 "--limit $l is a usage error"
done
arbiter list extra
expect_code 2 "list takes no arguments"
arbiter list --timeout 3
expect_code 2 "list does not take --timeout"
arbiter list --status
expect_code 2 "--status needs a value"

# ---- decisions, as the decision commands write them ----
id_of() { q "SELECT id FROM submissions WHERE ref = '$1'"; }
BLOCKED=$(id_of z3ed-agent-7/1187)
ALLOWED=$(id_of z3ed-agent-7/1180)
PENDING=$(id_of z3ed-agent-9/2002)
[ -n "$BLOCKED" ] && [ -n "$ALLOWED" ] && [ -n "$PENDING" ] && pass "the example refs are stored" || fail "example refs missing"
[ "$(q "SELECT status FROM submissions WHERE id = $BLOCKED")" = blocked ] && [ "$(q "SELECT status FROM submissions WHERE id = $PENDING")" = pending ] \
	&& pass "the examples have the statuses these tests assume" || fail "example statuses changed"
W=$(id_of z3ed-agent-7/1203)
enrol alice --as alice --role admin || fail "enrolling alice"
# B2 approved, B3 rejected, B4 overridden for a minute (then expired), B5
# overridden for a day; PENDING and W are decided while wait waits, below
B2=$(q "SELECT id FROM submissions WHERE status = 'pending' AND id NOT IN ($PENDING, $W) ORDER BY id LIMIT 1")
B3=$(q "SELECT id FROM submissions WHERE status = 'blocked' AND id <> $BLOCKED ORDER BY id LIMIT 1")
read -r B4 B5 <<< "$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM submissions s WHERE status = 'blocked' AND id NOT IN ($BLOCKED, $B3) AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.submission_id = s.id AND f.effect = 'deny' AND (NOT f.overridable OR f.approvals > 1 OR (f.max_duration > 0 AND f.max_duration < 86400))) ORDER BY id LIMIT 2)")"
DECIDED_AT=$(date -u -d "@$(clock_now)" +%Y-%m-%d)
arbiter --as alice approve "$B2" --ack --note "looks fine" --code "$(code alice)"
expect_code 0 "alice approves $B2"
arbiter --as alice reject "$B3" --reason "not this one" --code "$(code alice)"
expect_code 0 "alice rejects $B3"
arbiter --as alice override "$B4" --justification "for a minute, to see it expire" --expires 1m --code "$(code alice)"
expect_code 0 "alice overrides $B4 for a minute"
arbiter --as alice override "$B5" --justification "for a day: the release needs it" --expires 24h --code "$(code alice)"
expect_code 0 "alice overrides $B5 for a day"
clock_advance 120
arbiter list --status decided --json
[ "$(lines)" -eq 4 ] && pass "--status decided lists the 4 decided ones" || fail "decided: $(lines) lines"
arbiter list --status expired --json
[ "$(ids "$OUT")" = "$B4" ] && expect_out '"status":"expired"' "an override past expires_at lists as expired" || fail "expired lists $(ids "$OUT" | paste -sd' ')"
arbiter list --status overridden --json
[ "$(ids "$OUT")" = "$B5" ] && pass "--status overridden leaves out the expired one" || fail "overridden lists $(ids "$OUT" | paste -sd' ')"
arbiter list --status approved --json
expect_out "^\\{\"id\":$B2,.*\"status\":\"approved\".*\"decided_at\":\"$DECIDED_AT" "JSON shows the current status and decided_at, not the evaluation's"

# ---- show ----
arbiter show "$BLOCKED"
expect_code 3 "show of a blocked submission exits 3"
expect_out "^submission $BLOCKED: blocked" "show names the submission and its status"
expect_out '^  ref +z3ed-agent-7/1187' "show prints the ref"
expect_out '^document:' "show prints the document"
expect_out '^    "bytes_changed": 4,' "the document is pretty-printed"
expect_out '^findings: 1' "show counts the findings"
expect_out 'critical +deny +protect_critical_regions' "show prints the finding from the findings table"
expect_out 'overlaps 0xFFB0-0xFFFF' "show prints the finding's detail"
expect_out '^decisions: 0' "show says there are no decisions"
expect_out 'submission.create' "show prints the audit events"
arbiter show "$ALLOWED"
expect_code 0 "show of an allowed submission exits 0"
arbiter show z3ed-agent-7/1180
expect_code 0 "show takes a ref too"
expect_out "^submission $ALLOWED: allowed" "show by ref finds the same submission"
arbiter show "$PENDING"
expect_code 3 "show of a pending submission exits 3"
arbiter show "$B2"
expect_code 0 "show of an approved submission exits 0"
expect_out 'approve +by alice' "show prints the decisions"
expect_out 'looks fine' "show prints the decision's note"
arbiter show "$B3"
expect_code 4 "show of a rejected submission exits 4"
arbiter show "$B4"
expect_code 4 "show of an expired override exits 4"
expect_out "^submission $B4: expired" "an expired override shows as expired"
arbiter show "$B5"
expect_code 0 "show of a live override exits 0"
arbiter show "$BLOCKED" --json
expect_code 3 "show --json keeps the exit code"
[ "$(lines)" -eq 1 ] && pass "show --json is one line" || fail "show --json printed $(lines) lines"
for k in "\"id\":$BLOCKED," '"policy_version":1' '"ref":"z3ed-agent-7/1187"' '"status":"blocked"' '"counts":\{' \
    '"findings":\[\{"policy":"protect_critical_regions"' '"document":\{.*"bytes_changed":4' '"decisions":\[\]' \
    '"events":\[\{"seq":[0-9]+,"ts":"[^"]+","actor":"[^"]+","event":"submission.create","details":\{'; do
	expect_out "$k" "show --json has $k"
done
arbiter show "$B2" --json
expect_out '"decisions":\[\{"reviewer":"alice","decision":"approve","note":"looks fine"' "show --json lists the decisions"
arbiter show 999999
expect_code 1 "show of an unknown id exits 1"
[ "$(grep -c . "$ERR")" -eq 1 ] && expect_err 'no submission 999999' "the error is one line naming the id" || fail "unknown id error is not one line"
arbiter show no/such/ref
expect_code 1 "show of an unknown ref exits 1"
arbiter show
expect_code 2 "show without an id is a usage error"
arbiter show 1 2
expect_code 2 "show takes one id"
arbiter show 1 --limit 3
expect_code 2 "show does not take --limit"

# ---- wait ----
START=$(date +%s%N)
arbiter wait "$ALLOWED"
ELAPSED=$((($(date +%s%N) - START) / 1000000))
expect_code 0 "wait on an allowed submission exits 0"
expect_out "^submission $ALLOWED: allowed" "wait prints the status"
# measured in ms (bash's SECONDS reads a 1.1 s run as 2): under two seconds,
# where a wait that is not answered at once takes its whole timeout
[ "$ELAPSED" -lt 2000 ] && [ -s "$OUT" ] && pass "wait on an allowed submission returns at once (${ELAPSED}ms)" ||
	fail "wait took ${ELAPSED}ms"
arbiter wait "$B3"
expect_code 4 "wait on a rejected submission exits 4"
arbiter wait "$B4"
expect_code 4 "wait on an expired override exits 4"
arbiter wait "$B5" --timeout 1
expect_code 0 "wait on a live override exits 0"
START=$(date +%s%N)
arbiter wait "$PENDING" --timeout 1
ELAPSED=$((($(date +%s%N) - START) / 1000000))
expect_code 3 "wait --timeout 1 on a pending submission exits 3"
expect_out "still pending after 1s" "the timeout says what it waited for"
[ "$ELAPSED" -ge 1000 ] && [ "$ELAPSED" -lt 3000 ] && pass "the timeout takes about a second (${ELAPSED}ms)" || fail "the timeout took ${ELAPSED}ms"
arbiter wait "$PENDING" --timeout 0
expect_code 3 "wait --timeout 0 on a pending submission exits 3 at once"
# decided while waiting, by the decision commands (served, through the
# server, whose commit wakes the long poll)
APPROVE_CODE=$(code alice) REJECT_CODE=$(code alice)
( sleep 0.6; "$ARBITER" --as alice approve "$PENDING" --ack --code "$APPROVE_CODE" > /dev/null 2>&1 ) &
START=$(date +%s%N)
arbiter wait "$PENDING" --timeout 10
ELAPSED=$((($(date +%s%N) - START) / 1000000))
wait
expect_code 0 "wait returns 0 when the submission is approved while it waits"
expect_out "^submission $PENDING: approved" "wait prints the decision"
[ "$ELAPSED" -lt 3000 ] && grep -q approved "$OUT" && pass "wait notices the decision quickly (${ELAPSED}ms)" || fail "wait took ${ELAPSED}ms to notice"
( sleep 0.4; "$ARBITER" --as alice reject "$W" --reason "not now" --code "$REJECT_CODE" > /dev/null 2>&1 ) &
arbiter wait z3ed-agent-7/1203 --timeout 10
wait
expect_code 4 "wait (by ref) returns 4 when the submission is rejected while it waits"
arbiter wait 999999
expect_code 1 "wait on an unknown id exits 1"
expect_err 'no submission 999999' "wait names the unknown id"
for t in abc -1 1x; do
	arbiter wait "$ALLOWED" --timeout "$t"
	expect_code 2 "wait --timeout $t is a usage error"
done
arbiter wait
expect_code 2 "wait without an id is a usage error"

# ---- stats ----
arbiter stats --json
expect_code 0 "stats --json exits 0"
[ "$(lines)" -eq 1 ] && pass "stats --json is one object on one line" || fail "stats --json printed $(lines) lines"
for s in allowed pending blocked approved rejected; do
	want=$(q "SELECT count(*) FROM submissions WHERE status = '$s'")
	expect_out "\"$s\":$want[,}]" "stats counts $want $s"
done
expect_out '"overridden":1,"expired":1' "stats counts the live and the expired override apart"
expect_out "\"submissions\":$N," "stats counts all $N submissions"
expect_out "\"findings\":\\{\"total\":$(q "SELECT count(*) FROM findings")," "stats counts every finding"
want=$(q "SELECT count(*) FROM findings WHERE policy = 'protect_critical_regions' AND severity = 'critical'")
expect_out "\\{\"policy\":\"protect_critical_regions\",\"critical\":$want," "stats counts findings per policy and severity"
# decided: approved 2 (B2 and PENDING), rejected 2 (B3 and W), overridden 1, expired 1
expect_out '"decided":6,' "stats counts the decided ones"
expect_out '"override_rate":0.333333,' "the override rate counts expired overrides (2 of 6)"
expect_out '"rejection_rate":0.333333' "the rejection rate is rejected over decided (2 of 6)"
top=$(q "SELECT submitter FROM submissions GROUP BY submitter ORDER BY count(*) DESC, submitter LIMIT 1")
expect_out "\"top_submitters\":\\[\\{\"submitter\":\"$top\",\"submissions\":$(q "SELECT count(*) FROM submissions WHERE submitter = '$top'")\\}" "the top submitter is $top"
expect_out '"since":null' "without --since the window is everything"
arbiter stats
expect_code 0 "stats exits 0"
expect_out "^submissions: $N" "stats prints the total"
expect_out "^  blocked +$(q "SELECT count(*) FROM submissions WHERE status = 'blocked'")\$" "stats prints the blocked count"
expect_out 'override rate 33.3%, rejection rate 33.3%' "stats prints the rates"
expect_out '^  POLICY +CRITICAL +WARNING +INFO +TOTAL' "stats prints findings per policy"
expect_out "^  $top +[0-9]+" "stats prints the top submitters"
arbiter stats --since 1h --json
expect_out "\"submissions\":$N," "--since 1h holds every fresh submission"
expect_out '"since":"20[0-9-]+T' "--since is echoed as RFC 3339"
arbiter stats --since 2020-01-01T00:00:00Z --json
expect_out "\"submissions\":$N," "--since an RFC 3339 time in the past holds everything"
arbiter stats --since 2999-01-01 --json
expect_code 0 "--since in the future is not an error"
expect_out '"submissions":0,' "--since in the future holds nothing"
expect_out '"override_rate":0.0,"rejection_rate":0.0' "the rates are 0 when nothing is decided"
for s in yesterday 24 2026-13-45 2026-01-01T25:00:00Z 99999999999999999d; do
	arbiter stats --since "$s"
	expect_code 2 "stats --since $s is a usage error"
done
expect_err 'arbiter stats: --since takes RFC 3339' "the --since error says what it takes"
arbiter stats extra
expect_code 2 "stats takes no arguments"
arbiter stats --status blocked
expect_code 2 "stats does not take --status"

# no store
mkdir -p "$T/nowhere" && cd "$T/nowhere" || exit 1
for c in list stats "show 1" "wait 1"; do
	# shellcheck disable=SC2086
	arbiter $c
	expect_code 1 "$c without a store exits 1"
done
expect_err 'arbiter init' "the error names arbiter init"

# --- store discovery: --home and ARBITER_HOME take a store directory of any
# name (a backup), the .arbiter directory, or a directory that holds one ---
rm -rf "$T/d" && "$ARBITER" init "$T/d" > /dev/null || fail "init the store to back up"
printf 'action: code.modify\nref: home/1\nsubmitter: agent-h\n' > "$T/home1.yaml"
"$ARBITER" --home "$T/d" submit "$T/home1.yaml" > /dev/null
cp -a "$T/d/.arbiter" "$T/backup-1"
cd "$T" || exit 1
arbiter --home backup-1 list --json
expect_code 0 "--home backup-1 opens a store copied to another name"
expect_out '"ref":"home/1"' "the backup lists the original's submission"
arbiter --home backup-1 audit verify
expect_code 0 "the backup's chain verifies"
printf 'action: code.modify\nref: home/2\nsubmitter: agent-h\n' > "$T/home2.yaml"
ARBITER_HOME=$T/backup-1/ arbiter submit "$T/home2.yaml"
expect_code 0 "ARBITER_HOME (with a trailing slash) names the backup too"
[ "$(sqlite3 "$T/backup-1/arbiter.db" "SELECT count(*) FROM submissions")" = 2 ] &&
	[ "$(sqlite3 "$T/d/.arbiter/arbiter.db" "SELECT count(*) FROM submissions")" = 1 ] \
	&& pass "a submission to the backup goes to the backup, not to the original" || fail "the submission went elsewhere"
for h in "$T/d" "$T/d/" "$T/d/.arbiter" "$T/d/.arbiter/"; do
	arbiter --home "$h" show home/1
	expect_code 0 "--home $h still opens the store"
done
arbiter --home "$T/d" show home/2
expect_code 1 "the original does not have the backup's submission"
cd "$T/backup-1/policies" || exit 1
arbiter show home/2
expect_code 0 "inside a backup's policies/, the backup is found above"
cd "$T" || exit 1
mkdir -p "$T/some/random/dir"
for h in some/random/dir "$T/some"; do
	arbiter --home "$h" list
	expect_code 1 "--home $h, not a store, exits 1"
	[ "$(grep -c . "$ERR")" -eq 1 ] && expect_err "^arbiter: no store found at $h: .*arbiter init" \
		"the error is one line: no store found at $h, naming arbiter init" || fail "the error for $h is not one line"
done
ARBITER_HOME=$T/some/random/dir arbiter eval "$T/home1.yaml"
expect_code 1 "eval with ARBITER_HOME at a directory that is not a store exits 1"
expect_err 'no store found at .*some/random/dir: .*arbiter init, or give --policies DIR' "eval's error also offers --policies"
# a directory with part of a store is not one: the three files make it
mkdir -p "$T/partial" && cp "$T/backup-1/arbiter.db" "$T/backup-1/config.yaml" "$T/partial/"
arbiter --home "$T/partial" list
expect_code 1 "a directory with arbiter.db and config.yaml but no policies/ is not a store"
expect_err 'no store found' "and says there is no store"
cd "$T/nowhere" || exit 1

# A result is not stored whole: a retry rebuilds it from the submission's row
# and its findings, byte for byte what submit printed, modifications too. A
# store made before that (schema version 8, with a result column) is upgraded
# when it is opened, and its results read the same afterwards.
rm -rf "$T/s"
new_store
EXS=$ROOT/docs/examples/submissions
arbiter submit --json "$EXS"/*.yaml "$EXS"/llm-requests.jsonl
cp "$OUT" "$T/first.json"
if grep -q '"modifications":{' "$T/first.json"; then pass "the examples' results carry modifications"; else fail "no modifications among the examples"; fi
arbiter submit --json "$EXS"/*.yaml "$EXS"/llm-requests.jsonl
if cmp -s "$OUT" "$T/first.json"; then pass "a retry prints each result as submit did, rebuilt from the rows"; else fail "a retry prints other results"; diff "$T/first.json" "$OUT" | head -5 >&2; fi
if [ "$(q "SELECT count(*) FROM pragma_table_info('submissions') WHERE name = 'result'")" = 0 ]; then
	pass "the submissions table has no result column"
else
	fail "the submissions table still stores the result"
fi
if [ "$(q 'PRAGMA user_version')" = 17 ]; then pass "a new store is at schema version 17"; else fail "schema version $(q 'PRAGMA user_version')"; fi
# undo_v17: version 17's digest index by prefix undone: the whole digest,
# the submitter and the policy version again
undo_v17() {
	q "DROP INDEX submissions_digest;
	   CREATE INDEX submissions_digest ON submissions (digest, submitter, policy_version)
	     WHERE status <> 'allowed';" || fail "undoing version 17"
}
# undo_v15: version 15's findings in their submission's row undone: a
# findings row each again (in the order found), with its two indexes, and
# the quota uses indexed by key
undo_v15() {
	q "CREATE TABLE findings_v14 (
	     id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL REFERENCES submissions (id),
	     policy TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, effect TEXT NOT NULL,
	     overridable INTEGER NOT NULL, message TEXT, detail TEXT, path TEXT, source TEXT,
	     approvals INTEGER NOT NULL DEFAULT 1, role TEXT NOT NULL DEFAULT 'reviewer',
	     max_duration INTEGER NOT NULL DEFAULT 0);
	   INSERT INTO findings_v14 (submission_id, policy, type, severity, effect, overridable,
	     message, detail, path, source, approvals, role, max_duration)
	     SELECT submission_id, policy, type, severity, effect, overridable, message, detail, path,
	       source, approvals, role, max_duration FROM findings ORDER BY submission_id, position;
	   DROP VIEW findings; ALTER TABLE findings_v14 RENAME TO findings;
	   CREATE INDEX findings_submission ON findings (submission_id);
	   CREATE INDEX findings_policy ON findings (policy, submission_id, severity);
	   DROP TABLE finding_policies; DROP TABLE finding_kinds;
	   ALTER TABLE submissions DROP COLUMN findings;
	   DROP INDEX quota_usage_submission;
	   CREATE INDEX quota_usage_key ON quota_usage (policy, per_value, at_ms);" || fail "undoing version 15"
}
# undo_v14: version 14's signed head record and checkpoint claim undone
undo_v14() {
	q "DROP TABLE audit_head; DROP TABLE checkpoint_claim;" || fail "undoing version 14"
}
# undo_v13: version 13's failures and lockouts per origin undone: a lockout
# is the reviewer's locked_until again, a failure has no origin
undo_v13() {
	q "ALTER TABLE reviewers ADD COLUMN locked_until TEXT;
	   UPDATE reviewers SET locked_until = (SELECT max(until) FROM code_lockouts
	     WHERE reviewer = lower(reviewers.name));
	   DROP TABLE code_lockouts; DROP INDEX code_failures_key;
	   ALTER TABLE code_failures DROP COLUMN origin;
	   CREATE INDEX code_failures_key ON code_failures (reviewer, at_ms);" || fail "undoing version 13"
}
# undo_v12: version 12's digests and refs per submitter undone: the digest
# column goes, and a ref is unique again whoever submits (version 11 had it on
# the column, which only a rebuild of the table can restore: an index stands
# for it)
undo_v12() {
	q "DROP INDEX submissions_digest; DROP INDEX submissions_ref;
	   ALTER TABLE submissions DROP COLUMN digest;
	   CREATE UNIQUE INDEX submissions_ref_v11 ON submissions (ref);" || fail "undoing version 12"
}
# undo_v11: version 11's identities undone (the agents table, the reviewers'
# login, uid and token_hash), for the older versions below
undo_v11() {
	q "DROP TABLE agents; DROP INDEX reviewers_token; ALTER TABLE reviewers DROP COLUMN login;
	   ALTER TABLE reviewers DROP COLUMN uid; ALTER TABLE reviewers DROP COLUMN token_hash;" ||
		fail "undoing version 11"
}
undo_v17
undo_v15
undo_v14
undo_v13
undo_v12
undo_v11
# back to version 8: version 10's indexes for the list filters undone, the
# result column, holding what submit printed less the id and policy version
# it puts first, and no modifications column
q "DROP INDEX submissions_action; DROP INDEX submissions_submitter; DROP INDEX findings_policy;
   CREATE INDEX findings_policy ON findings (policy, severity); DROP INDEX submissions_status;
   CREATE INDEX submissions_status ON submissions (status, id); DROP INDEX submissions_kind;
   CREATE INDEX submissions_kind ON submissions (kind, id);" || fail "undoing version 10"
ids=$(q "SELECT id FROM submissions ORDER BY id")
q "ALTER TABLE submissions ADD COLUMN result TEXT" || fail "adding the result column"
for id in $ids; do
	line=$(grep "^{\"id\":$id," "$T/first.json" | head -1 | sed 's/^{"id":[0-9]*,"policy_version":[0-9]*,/{/')
	q "UPDATE submissions SET result = '$(printf '%s' "$line" | sed "s/'/''/g")' WHERE id = $id" ||
		fail "storing the old result of $id"
done
q "ALTER TABLE submissions DROP COLUMN modifications; PRAGMA user_version = 8;"
if [ "$(q "SELECT count(*) FROM submissions WHERE result LIKE '%\"modifications\":{%'")" -ge 1 ]; then
	pass "the version 8 store keeps modifications only in its results"
else
	fail "the version 8 store lost the modifications"
fi
served_restart
arbiter submit --json "$EXS"/*.yaml "$EXS"/llm-requests.jsonl
if cmp -s "$OUT" "$T/first.json"; then pass "after the upgrade a retry prints each result as submit did"; else fail "the upgrade changed results"; diff "$T/first.json" "$OUT" | head -5 >&2; fi
if [ "$(q 'PRAGMA user_version')" = 17 ] && [ "$(q "SELECT count(*) FROM pragma_table_info('submissions') WHERE name = 'result'")" = 0 ]; then
	pass "opening it upgraded the store to version 17, without the result column"
else
	fail "the store was not upgraded"
fi
# the digests the upgrade computed from the stored documents are those
# submit printed (the retry above compares whole results, digests included)
if [ "$(q "SELECT count(*) FROM submissions WHERE length(digest) = 64")" = "$(q "SELECT count(*) FROM submissions")" ] &&
    grep -q "\"digest\":\"$(q "SELECT digest FROM submissions ORDER BY id LIMIT 1")\"" "$T/first.json"; then
	pass "the upgrade computed every submission's digest, as submit did"
else
	fail "the upgrade's digests: $(q "SELECT count(*) FROM submissions WHERE digest IS NULL") missing"
fi
first=$(head -1 "$T/first.json" | sed 's/.*"id":\([0-9]*\),.*/\1/')
arbiter show "$first" --json
expect_out "\"findings\":\\[" "show --json still gives the findings after the upgrade"
arbiter audit verify
expect_code 0 "the upgraded store verifies"

# Version 10 indexes what list filters by: submissions by action and by
# submitter, findings by policy and submission (in place of policy and
# severity), and makes submissions by status and by kind again without the
# id they stored twice. A version 9 store gains them when it is first
# opened, and its listings read the same before and after.
rm -rf "$T/s"
new_store
arbiter submit "$EXS"/*.yaml "$EXS"/llm-requests.jsonl
filtered() {
	for f in "--action rom.*" "--submitter z3ed-agent-7" "--policy protected_*" "--policy *budget*" \
	    "--status waiting" "--status blocked --kind proposal" "--kind export"; do
		# shellcheck disable=SC2086
		"$ARBITER" list $f --limit 1000 --json | grep -o '^{"id":[0-9]*'
		echo "--"
	done
}
filtered > "$T/v10.txt"
[ "$(grep -c '^{' "$T/v10.txt")" -ge 4 ] && pass "the filters find the examples" || fail "the filters found $(grep -c '^{' "$T/v10.txt") rows"
undo_v17
undo_v15
undo_v14
undo_v13
undo_v12
undo_v11
q "DROP INDEX submissions_action; DROP INDEX submissions_submitter; DROP INDEX findings_policy;
   CREATE INDEX findings_policy ON findings (policy, severity); DROP INDEX submissions_status;
   CREATE INDEX submissions_status ON submissions (status, id); DROP INDEX submissions_kind;
   CREATE INDEX submissions_kind ON submissions (kind, id); PRAGMA user_version = 9;" || fail "back to version 9"
served_restart
filtered > "$T/v9.txt"
if [ "$(q 'PRAGMA user_version')" = 17 ] &&
    [ "$(q "SELECT group_concat(name, ',') FROM pragma_index_info('submissions_action')")" = action ] &&
    [ "$(q "SELECT group_concat(name, ',') FROM pragma_index_info('submissions_submitter')")" = submitter ] &&
    [ "$(q "SELECT count(*) FROM finding_policies")" -ge 1 ] &&
    [ "$(q "SELECT group_concat(name, ',') FROM pragma_index_info('submissions_status')")" = status ] &&
    [ "$(q "SELECT group_concat(name, ',') FROM pragma_index_info('submissions_kind')")" = kind ]; then
	pass "opening a version 9 store upgraded it to version 17 with the filters' indexes"
else
	fail "the version 9 store was not upgraded: version $(q 'PRAGMA user_version')"
fi
if cmp -s "$T/v9.txt" "$T/v10.txt"; then pass "the filters list the same after the upgrade"; else fail "the upgrade changed listings"; diff "$T/v10.txt" "$T/v9.txt" | head -5 >&2; fi
arbiter stats --json
expect_out '"policies":\[\{"policy":' "stats reads findings per policy after the upgrade"
arbiter audit verify
expect_code 0 "the store upgraded from version 9 verifies"

# Version 11 adds the identities of the server: the agents table, and a
# reviewer's login, uid and token hash. A version 10 store's reviewers are
# reached by their name as login from then on, as new ones are by default.
rm -rf "$T/s"
new_store
enrol alice --as alice --role admin || fail "enrolling alice"
undo_v17
undo_v15
undo_v14
undo_v13
undo_v12
undo_v11
q "PRAGMA user_version = 10"
served_restart
arbiter reviewer list --json
expect_code 0 "a version 10 store opens"
expect_out '"name":"alice",.*"login":"alice","uid":null,"token":false' "its reviewers are known by their name as login"
if [ "$(q 'PRAGMA user_version')" = 17 ] && [ "$(q "SELECT count(*) FROM agents")" = 0 ]; then
	pass "opening a version 10 store upgraded it to version 17 with the agents table"
else
	fail "the version 10 store was not upgraded: version $(q 'PRAGMA user_version')"
fi
arbiter --as alice agent add ci --uid 4242 --code "$(code alice)"
expect_code 0 "the upgraded store takes agents"
arbiter audit verify
expect_code 0 "the store upgraded from version 10 verifies"

# Version 13 counts failed codes and keeps lockouts per origin (who tried,
# data/codes.c). A version 12 store's lockout in force keeps holding, for
# every origin; its failures are kept, under the lower-cased name, with none.
rm -rf "$T/s"
new_store
enrol alice --as alice --role admin || fail "enrolling alice"
enrol bob --as alice --code "$(code alice)" || fail "enrolling bob"
arbiter submit --json "$EXS/code-04-cleanup.yaml"
W=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
undo_v17
undo_v15
undo_v14
undo_v13
q "UPDATE reviewers SET locked_until = '2099-01-01T00:00:00.000Z' WHERE name = 'bob';
   INSERT INTO code_failures (reviewer, at_ms) VALUES ('Bob', 1); PRAGMA user_version = 12"
served_restart
arbiter reviewer list
expect_code 0 "a version 12 store opens"
expect_out '^bob .* 2099-01-01T00:00:00\.000Z' "its lockout in force is still listed"
if [ "$(q 'PRAGMA user_version')" = 17 ] &&
    [ "$(q "SELECT reviewer || '|' || origin || '|' || until FROM code_lockouts")" = "bob||2099-01-01T00:00:00.000Z" ] &&
    [ "$(q "SELECT reviewer || '|' || origin FROM code_failures")" = "bob|" ] &&
    [ "$(q "SELECT count(*) FROM pragma_table_info('reviewers') WHERE name = 'locked_until'")" = 0 ]; then
	pass "opening a version 12 store upgraded it to version 17: lockouts and failures per origin"
else
	fail "the version 12 store was not upgraded: version $(q 'PRAGMA user_version'), $(q "SELECT * FROM code_lockouts")"
fi
arbiter --as bob approve "$W" --ack --code "$(code bob)"
expect_code 4 "the lockout from before holds for every origin"
expect_err 'bob is locked out from' "named as a lockout"
arbiter audit verify
expect_code 0 "the store upgraded from version 12 verifies"

# Version 14 keeps the signed head record (outside the audit table) and the
# automatic checkpoints' claim. A version 13 store gets its record when it
# is first opened, signed with its key over the head it has then, and
# verifies; its newest events deleted afterwards are caught by the record.
rm -rf "$T/s"
new_store
arbiter submit "$EXS/code-04-cleanup.yaml"
head13=$(q "SELECT max(seq) FROM audit")
undo_v17
undo_v15
undo_v14
q "PRAGMA user_version = 13"
served_restart
arbiter audit verify
expect_code 0 "a version 13 store opens, is upgraded and verifies"
if [ "$(q 'PRAGMA user_version')" = 17 ] && [ "$(q "SELECT seq FROM audit_head")" -ge "$head13" ] &&
    [ "$(q "SELECT count(*) FROM checkpoint_claim")" = 0 ]; then
	pass "the upgrade signed a head record of the log as it was"
else
	fail "the version 13 store's head record: $(q "SELECT seq FROM audit_head")"
fi
served_stop
rm -rf "$T/t" && cp -a "$T/s" "$T/t"
sqlite3 "$T/t/.arbiter/arbiter.db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)"
run "$ARBITER" --home "$T/t" audit verify
expect_code 4 "after the upgrade, deleting the newest event is caught"
expect_out 'but the signed head record says seq' "by the head record the upgrade wrote"

# Version 15 keeps a submission's findings in its row ([kind, detail, path]
# each, what a policy's findings share once in finding_kinds), with a row
# per submission and policy for list --policy and stats, and the view
# findings in place of the table. A version 14 store's findings rows move
# there when it is first opened: every result, listing, statistic and
# decision reads the same, and the store verifies.
rm -rf "$T/s"
new_store
enrol alice --as alice --role admin || fail "enrolling alice"
arbiter submit "$EXS"/*.yaml "$EXS"/llm-requests.jsonl
W=$(q "SELECT id FROM submissions WHERE status = 'pending' ORDER BY id LIMIT 1")
B=$(q "SELECT id FROM submissions WHERE status = 'blocked' ORDER BY id LIMIT 1")
before() {
	filtered
	for id in $(q "SELECT id FROM submissions ORDER BY id"); do
		"$ARBITER" show "$id" --json | sed 's/"events":.*//'
	done
	"$ARBITER" stats --json
}
before > "$T/v15.txt"
undo_v17
undo_v15
if [ "$(q "SELECT count(*) FROM findings")" -ge 10 ] &&
    [ "$(q "SELECT type FROM sqlite_schema WHERE name = 'findings'")" = table ]; then
	pass "undone, the store keeps a findings row each"
else
	fail "the version 14 findings: $(q "SELECT count(*) FROM findings")"
fi
rows14=$(q "SELECT count(*) FROM findings")
q "PRAGMA user_version = 14"
served_restart
# the first opener says that it upgrades (the suite's server in its log),
# and nothing says it again
notice="upgrading the store's database from schema version 14 to 17: a large store takes a while"
if served; then
	grep -qF "arbiter: $notice" "$T/served.log" && pass "the server says that it upgrades the store" ||
		fail "no upgrade notice in the server's log: $(tail -3 "$T/served.log")"
else
	arbiter list
	expect_code 0 "list opens a version 14 store"
	grep -qF "arbiter: $notice" "$ERR" && pass "and says on stderr that it upgrades it first" ||
		fail "no upgrade notice: $(cat "$ERR")"
fi
arbiter list
expect_no_err "upgrading" "the next command, on the upgraded store, says nothing of it"
before > "$T/v14.txt"
if [ "$(q 'PRAGMA user_version')" = 17 ] &&
    [ "$(q "SELECT type FROM sqlite_schema WHERE name = 'findings'")" = view ] &&
    [ "$(q "SELECT count(*) FROM findings")" = "$rows14" ] &&
    [ "$(q "SELECT count(*) FROM submissions WHERE findings IS NOT NULL")" = "$(q "SELECT count(*) FROM submissions WHERE info + warning + critical > 0")" ] &&
    [ "$(q "SELECT count(*) FROM finding_kinds")" -lt "$rows14" ] &&
    [ "$(q "SELECT count(*) FROM pragma_index_info('quota_usage_submission')")" = 1 ]; then
	pass "opening a version 14 store moved its $rows14 findings into their submissions' rows"
else
	fail "the version 14 store was not upgraded: version $(q 'PRAGMA user_version'), $(q "SELECT count(*) FROM findings") findings"
fi
if cmp -s "$T/v15.txt" "$T/v14.txt"; then pass "results, listings and statistics read the same after the upgrade"; else fail "the upgrade changed what is read"; diff "$T/v15.txt" "$T/v14.txt" | head -5 >&2; fi
arbiter audit verify
expect_code 0 "the store upgraded from version 14 verifies"
arbiter --as alice approve "$W" --ack --code "$(code alice)"
expect_code 0 "a decision reads the upgraded findings"
arbiter --as alice override "$B" --justification "the upgraded findings name their override terms" --code "$(code alice)"
expect_code 0 "an override reads the terms of the upgraded findings"
arbiter submit "$EXS"/*.yaml
arbiter audit verify
expect_code 0 "the upgraded store takes new findings and verifies"

# Version 16 leaves refused submissions out of the quota sums. A version 15
# store counted a blocked submission's uses: they leave the sums when it is
# first opened, and stay as rows.
rm -rf "$T/s"
new_store
arbiter submit --jsonl --json <(printf '%s\n' '{"action":"tool.call","ref":"q16/1","submitter":"ci","tenant":"v16","cost_usd":30}' \
	'{"action":"tool.call","ref":"q16/2","submitter":"ci","tenant":"v16","cost_usd":1}')
daily() { q "SELECT total(amount) FROM quota_totals WHERE policy = 'tenant_run_cost_quota' AND per = 'v16' AND unit = 86400"; }
[ "$(daily)" = 1.0 ] && pass "a new store sums only what was not refused" || fail "the day's sum: $(daily)"
q "DELETE FROM quota_totals;
   INSERT INTO quota_totals (policy, has_per, per, unit, start, amount)
     SELECT policy, per_value IS NOT NULL, ifnull(per_value, ''), n.unit, at_ms / 1000 / n.unit,
       total(amount) FROM quota_usage, (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL
       SELECT 3600 UNION ALL SELECT 86400) n GROUP BY 1, 2, 3, 4, 5;
   PRAGMA user_version = 15;" || fail "making a version 15 store"
[ "$(daily)" = 31.0 ] || fail "the version 15 sum: $(daily)"
served_restart
arbiter list
expect_code 0 "a version 15 store opens"
if [ "$(q 'PRAGMA user_version')" = 17 ] && [ "$(daily)" = 1.0 ] &&
    [ "$(q "SELECT count(*) FROM quota_usage WHERE per_value = 'v16'")" = 2 ]; then
	pass "opening a version 15 store took the blocked submission's uses out of the sums"
else
	fail "after the upgrade: version $(q 'PRAGMA user_version'), the day's sum $(daily)"
fi
arbiter audit verify
expect_code 0 "the store upgraded from version 15 verifies"

# Version 17 indexes the digests by their first 16 characters. A version 16
# store's index of whole digests is replaced when it is first opened, and a
# call's earlier answer (op_submission_match's query) is found through it.
undo_v17
q "PRAGMA user_version = 16" || fail "making a version 16 store"
blocked=$(q "SELECT id FROM submissions WHERE ref = 'q16/1'")
digest=$(q "SELECT digest FROM submissions WHERE id = $blocked")
version=$(q "SELECT policy_version FROM submissions WHERE id = $blocked")
served_restart
arbiter list
expect_code 0 "a version 16 store opens"
found=$(q "SELECT id FROM submissions INDEXED BY submissions_digest
  WHERE substr(digest, 1, 16) = substr('$digest', 1, 16) AND +digest = '$digest' AND
  submitter IS 'ci' AND policy_version = $version AND status <> 'allowed' ORDER BY id DESC LIMIT 1")
if [ "$(q 'PRAGMA user_version')" = 17 ] &&
    q "SELECT sql FROM sqlite_schema WHERE name = 'submissions_digest'" | grep -qF 'substr(digest, 1, 16)' &&
    [ -n "$blocked" ] && [ "$found" = "$blocked" ]; then
	pass "opening a version 16 store indexed its digests by their first 16 characters"
else
	fail "after the upgrade: version $(q 'PRAGMA user_version'), the match found '$found' for '$blocked'"
fi
arbiter audit verify
expect_code 0 "the store upgraded from version 16 verifies"
