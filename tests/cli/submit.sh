#!/bin/bash
# arbiter submit as an agent runs it: the stored id and policy version in the
# output, exit codes like eval's, malformed documents refused by FILE:LINE:COL
# while the good ones are stored, idempotent refs, quota rules that read the
# stored history, one submission.create event per submission (its subject the
# id), batches larger than one transaction, and a chain that still verifies.
# The test clock (tests/lib.sh) moves quota windows on without waiting.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
clock_start
new_store
enrol alice --role admin || fail "enrol the admin who pins policy changes"
subs() { q "SELECT count(*) FROM submissions"; }
events() { q "SELECT count(*) FROM audit"; }

# --- output and exit codes ---
printf 'action: code.modify\nref: ok/1\nsubmitter: agent-1\nbytes_changed: 10\n' > "$T/allowed.yaml"
arbiter submit --json "$T/allowed.yaml"
expect_code 0 "an allowed submission exits 0"
expect_out '^\{"id":1,"policy_version":1,"ref":"ok/1","kind":"proposal","action":"code.modify"' "--json starts with the stored id and policy version"
expect_out '"status":"allowed"' "--json has the status"
[ "$(q "SELECT status || ' ' || policy_version FROM submissions WHERE ref = 'ok/1'")" = "allowed 1" ] \
	&& pass "the row holds the status and policy version" || fail "row of ok/1"

arbiter submit --json "$EX/submissions/rom-02-header-patch.yaml"
expect_code 3 "a blocked submission exits 3"
expect_out '^\{"id":2,"policy_version":1,.*"status":"blocked"' "the blocked one is stored as id 2"
[ "$(q "SELECT count(*) FROM findings WHERE submission_id = 2 AND policy = 'protect_critical_regions'")" -ge 1 ] \
	&& pass "its findings are stored with it" || fail "findings of submission 2"

printf 'action: code.modify\nref: pend/1\nfiles:\n  - {path: src/old.c, op: delete}\n' > "$T/pending.yaml"
arbiter submit "$T/pending.yaml"
expect_code 3 "a pending submission exits 3"
expect_out 'pending proposal code.modify ref=pend/1' "text output names the status"
expect_out '^  stored as submission 3$' "text output names the stored id"

run bash -c "printf '{\"action\":\"code.modify\",\"ref\":\"stdin/1\"}\n' | '$ARBITER' submit --jsonl --json -"
expect_code 0 "submit reads standard input"
expect_out '^\{"id":4,' "the submission from standard input is stored"

# --- malformed documents are refused, the good ones stored ---
cat > "$T/mixed.yaml" <<'Y'
action: code.modify
ref: mixed/1
---
action: [unclosed
---
- a list, not a map
---
action: code.modify
ref: mixed/2
Y
before=$(subs) ev=$(events)
arbiter submit "$T/mixed.yaml"
expect_code 1 "a batch with malformed documents exits 1"
expect_err 'mixed\.yaml:4:[0-9]+: ' "the unparsable document is named by FILE:LINE:COL"
expect_err 'mixed\.yaml:6:[0-9]+: ' "the non-map document is named by FILE:LINE:COL"
expect_out 'ref=mixed/1' "the good document before them is reported"
expect_out 'ref=mixed/2' "the good document after them is reported"
[ "$(subs)" -eq $((before + 2)) ] && pass "exactly the two good documents are stored" || fail "stored $(($(subs) - before)), expected 2"
[ "$(events)" -eq $((ev + 2)) ] && pass "one event per stored document" || fail "$(($(events) - ev)) events for 2 documents"

# --- refs: identical content returns the stored submission ---
before=$(subs) ev=$(events)
printf '{"submitter":"agent-1","bytes_changed":10,"ref":"ok/1","action":"code.modify"}\n' > "$T/same.jsonl"
arbiter submit --json "$T/same.jsonl"
expect_code 0 "a retry of an allowed ref exits 0"
expect_out '^\{"id":1,"policy_version":1,' "the retry (as JSON, keys reordered) returns the existing id"
arbiter submit "$T/allowed.yaml"
expect_out 'ok/1: already stored as submission 1 \(allowed\)' "text output says it was already stored"
arbiter submit --json "$EX/submissions/rom-02-header-patch.yaml"
expect_code 3 "a retry of a blocked ref exits 3, like the original"
expect_out '^\{"id":2,' "the blocked retry returns id 2"
[ "$(subs)" -eq "$before" ] && pass "retries store nothing" || fail "retries stored $(($(subs) - before)) rows"
[ "$(events)" -eq "$ev" ] && pass "retries add no audit event" || fail "retries added $(($(events) - ev)) events"

# --- refs: different content is refused ---
printf 'action: code.modify\nref: ok/1\nsubmitter: agent-1\nbytes_changed: 11\n' > "$T/changed.yaml"
arbiter submit "$T/changed.yaml"
expect_code 1 "the same ref with different content exits 1"
expect_err 'changed\.yaml:1:1: ref ok/1 is already submission 1, with different content' "the refusal names the ref and its submission"
[ "$(subs)" -eq "$before" ] && [ "$(events)" -eq "$ev" ] && pass "the refused submission stores nothing" || fail "the refusal stored something"

# the same within one batch (one transaction): the duplicate and the conflict
# see the first, the documents around them are stored
cat > "$T/dups.jsonl" <<'J'
{"action":"code.modify","ref":"dup/1","title":"first"}
{"action":"code.modify","ref":"dup/1","title":"first"}
{"action":"code.modify","ref":"dup/1","title":"second"}
{"action":"code.modify","ref":"dup/2"}
J
before=$(subs) ev=$(events)
arbiter submit --json "$T/dups.jsonl"
expect_code 1 "a batch with a conflicting ref exits 1"
expect_err 'dups\.jsonl:3:1: ref dup/1 is already submission' "the conflict within the batch is named"
[ "$(grep -c '"ref":"dup/1"' "$OUT")" -eq 2 ] && pass "the identical duplicate in the batch returns the first" || fail "dup/1 printed $(grep -c '"ref":"dup/1"' "$OUT") times"
[ "$(subs)" -eq $((before + 2)) ] && [ "$(events)" -eq $((ev + 2)) ] && pass "the batch stored dup/1 and dup/2 once each" || fail "batch stored $(($(subs) - before)) rows, $(($(events) - ev)) events"

# --- refs are per submitter: another may use the same ref ---
before=$(subs)
printf 'action: code.modify\nref: ok/1\nsubmitter: agent-2\nbytes_changed: 11\n' > "$T/other.yaml"
arbiter submit --json "$T/other.yaml"
expect_code 0 "another submitter's ok/1 is stored"
expect_out '"ref":"ok/1",.*"submitter":"agent-2"' "as a submission of its own"
other=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT")
[ "$(subs)" -eq $((before + 1)) ] && [ "$other" != 1 ] && pass "two submitters, one ref, two submissions" || fail "ok/1 of agent-2: id $other"
arbiter submit --json "$T/other.yaml"
expect_out "^\\{\"id\":$other," "its retry returns its own submission"
arbiter submit "$T/changed.yaml"
expect_err 'ref ok/1 is already submission 1, with different content' "agent-1's ref still refuses other content"
# a lookup by a ref that several submitters use names them and takes no guess
arbiter show ok/1
expect_code 1 "show of a ref two submitters use exits 1"
expect_err "^arbiter: ref ok/1 names 2 submissions of different submitters: #1 \\(submitter agent-1\\), #$other \\(submitter agent-2\\); give the id of one" "it names each submission and its submitter"
expect_no_out . "and shows none of them"
arbiter wait ok/1 --timeout 0
expect_code 1 "wait on that ref exits 1 too"
expect_err 'ref ok/1 names 2 submissions' "with the same message"
arbiter show "$other"
expect_code 0 "show by id still works"
arbiter show pend/1
expect_code 3 "a ref of one submitter alone is still shown by its ref"

# --- the digest: in every result and in the submission.create event ---
printf 'action: tool.call\ntool: Bash\ncwd: /w\ninput: {b: 1, a: [1.5, x, 1e21, 1e-6]}\nref: call/1\ntitle: one\nmeta: {session: s1}\n' > "$T/call.yaml"
D=399a4f64f140ee79658846f7913756058591801e8d8732b3d4b54d0be70507ac
arbiter submit --json "$T/call.yaml"
expect_out "\"digest\":\"$D\"" "submit --json prints the digest (RFC 8785 form, SHA-256)"
call=$(sed -n 's/^{"id":\([0-9]*\),.*/\1/p' "$OUT")
[ "$(q "SELECT digest FROM submissions WHERE id = $call")" = "$D" ] && pass "the row keeps it" || fail "the row's digest"
q "SELECT details FROM audit WHERE event = 'submission.create' AND subject = '$call'" | grep -q "\"digest\":\"$D\"" \
	&& pass "the submission.create event names it" || fail "no digest in the submission.create event"
arbiter show "$call" --json
expect_out "\"digest\":\"$D\"" "show --json has it"
arbiter show "$call"
expect_out "^  digest     $D\$" "show prints it"
arbiter list --json --limit 1
expect_out "\"digest\":\"$D\"" "list --json has it"
arbiter submit --json "$T/call.yaml"
expect_out "^\\{\"id\":$call,.*\"digest\":\"$D\"" "a retry's result has it too"
# a new title or session is a new submission (another ref), the same digest
sed 's/call\/1/call\/2/; s/title: one/title: two/; s/s1/s2/' "$T/call.yaml" > "$T/call2.yaml"
arbiter submit --json "$T/call2.yaml"
expect_out "\"ref\":\"call/2\",.*\"digest\":\"$D\"" "the same call, titled otherwise, has the same digest"

# --- integers beyond +-(2^53 - 1) are refused, nothing stored for them ---
before=$(subs) ev=$(events)
printf 'action: code.modify\nref: i53/1\nbytes_changed: 9007199254740992\n---\naction: code.modify\nref: i53/2\nbytes_changed: 9007199254740991\n' > "$T/big.yaml"
arbiter submit "$T/big.yaml"
expect_code 1 "YAML: an integer beyond 2^53 - 1 exits 1"
expect_err '/big\.yaml:3:16: integer 9007199254740992 is beyond \+-9007199254740991 \(2\^53 - 1\)' "YAML: refused at its FILE:LINE:COL"
printf '{"action":"code.modify","ref":"i53/3","n":[-9007199254740992]}\n{"action":"code.modify","ref":"i53/4","n":-9007199254740991}\n' > "$T/big.jsonl"
arbiter submit "$T/big.jsonl"
expect_code 1 "JSON: an integer beyond -(2^53 - 1) exits 1"
expect_err '/big\.jsonl:1:44: integer -9007199254740992 is beyond' "JSON: refused at its FILE:LINE:COL"
[ "$(q "SELECT group_concat(ref, ' ') FROM (SELECT ref FROM submissions WHERE ref LIKE 'i53/%' ORDER BY ref)")" = "i53/2 i53/4" ] \
	&& pass "nothing is stored for the refused documents, the others are" || fail "stored: $(q "SELECT group_concat(ref) FROM submissions WHERE ref LIKE 'i53/%'")"
[ "$(subs)" -eq $((before + 2)) ] && [ "$(events)" -eq $((ev + 2)) ] && pass "two rows, two events" || fail "stored $(($(subs) - before)) rows"

# --- quota rules read the stored history ---
# free_tier_daily_budget (30-epic4.yaml): $1 per tenant per day
for i in 1 2 3; do
	printf 'action: llm.request\nref: quota/%d\nsubmitter: bot-q\ntenant: t-quota\ntier: free\nenvironment: prod\nvendor: openai\nmodel: small\ncost_usd: 0.4\n' "$i" > "$T/quota$i.yaml"
done
arbiter eval --policies "$T/s/.arbiter/policies" "$T/quota3.yaml"
expect_code 0 "without history the third request alone is within the quota"
arbiter submit "$T/quota1.yaml"
expect_code 0 "the first request is within the quota"
arbiter submit "$T/quota2.yaml"
expect_code 0 "the second request is within the quota"
arbiter submit --json "$T/quota3.yaml"
expect_code 3 "the third request, over the stored history, exits 3"
expect_out '"policy":"free_tier_daily_budget"' "the quota finding fires from the stored history"
expect_out '1\.2 cost_usd for tenant \\"t-quota\\" in 1d \(0\.8 before this one\)' "the finding counts the two stored requests"
# a count quota, added to the store's set and pinned
chmod u+w "$T/s/.arbiter/policies/50-tools.yaml"
cat >> "$T/s/.arbiter/policies/50-tools.yaml" <<'Y'

  - name: test_count_quota
    description: At most three test.count submissions per agent an hour
    enabled: true
    actions: ["test.count"]
    type: quota
    limit: 3
    window: 1h
    per: submitter
    severity: critical
    message: Too many test.count submissions
Y
served_reload
pin alice || fail "pin the count quota"
for i in 1 2 3 4; do
	printf '{"action":"test.count","ref":"count/%d","submitter":"counter"}\n' "$i" > "$T/count$i.jsonl"
	arbiter submit --json "$T/count$i.jsonl"
	c[i]=$CODE
	grep -q '"policy":"test_count_quota"' "$OUT" && hit[i]=1 || hit[i]=0
done
[ "${c[1]}${c[2]}${c[3]}" = 000 ] && [ "${hit[1]}${hit[2]}${hit[3]}" = 000 ] && pass "three counted submissions are within the count quota" || fail "count quota fired early: codes ${c[*]}, hits ${hit[*]}"
[ "${c[4]}" -eq 3 ] && [ "${hit[4]}" -eq 1 ] && pass "the fourth, one process later, fires the count quota" || fail "the count quota did not fire: code ${c[4]}"
expect_out '4 submissions for submitter \\"counter\\" in 1h \(3 before this one\)' "the count quota counts the stored submissions"
# in one stream, documents a quota counts are evaluated against the history
# the stream itself made (the workers' evaluation ahead, without history,
# stands only for the others): the fourth fires, the documents around them
# read as they would alone
for i in 1 2 3 4; do
	printf '{"action":"test.count","ref":"stream/%d","submitter":"streamer"}\n' "$i"
	printf '{"action":"code.modify","ref":"around/%d","submitter":"streamer","files":[{"path":"src/a%d.c","op":"modify"}]}\n' "$i" "$i"
done > "$T/stream.jsonl"
arbiter submit --jsonl --json "$T/stream.jsonl"
expect_code 3 "one stream of four counted submissions exits 3"
[ "$(grep -c '"policy":"test_count_quota"' "$OUT")" = 1 ] && grep '"ref":"stream/4"' "$OUT" | grep -q '"policy":"test_count_quota"' &&
	pass "only the fourth in the stream fires the count quota" || fail "count quota in one stream: $(grep -o '"ref":"[^"]*"\|test_count_quota' "$OUT" | tr '\n' ' ')"
arbiter eval --policies "$T/s/.arbiter/policies" --jsonl --json "$T/stream.jsonl"
grep '"ref":"around/' "$OUT" | sed 's/.*"ref":"\(around\/[0-9]*\)".*"status":"\([a-z]*\)".*/\1 \2/' > "$T/alone.txt"
arbiter list --submitter streamer --limit 100 --json
grep '"ref":"around/' "$OUT" | sed 's/.*"ref":"\(around\/[0-9]*\)".*"status":"\([a-z]*\)".*/\1 \2/' | sort > "$T/stored.txt"
sort "$T/alone.txt" | cmp -s - "$T/stored.txt" && [ "$(wc -l < "$T/stored.txt")" = 4 ] &&
	pass "the documents no quota counts are stored as eval reads them" || fail "around: $(cat "$T/alone.txt") vs $(cat "$T/stored.txt")"
printf '{"action":"test.count","ref":"count/other","submitter":"someone-else"}\n' > "$T/count-other.jsonl"
arbiter submit --json "$T/count-other.jsonl"
expect_code 0 "the count quota is per submitter"
# the window moves with the clock: a second short of an hour after the first
# four the counter is still over; two seconds later those four have left it
clock_advance 3599
printf '{"action":"test.count","ref":"count/5","submitter":"counter"}\n' > "$T/count5.jsonl"
arbiter submit --json "$T/count5.jsonl"
expect_code 3 "within the hour the count quota still fires"
expect_out '4 submissions for submitter \\"counter\\" in 1h \(3 before this one\)' "the three counted earlier are still in the window (the blocked fourth counts nothing)"
clock_advance 2
printf '{"action":"test.count","ref":"count/6","submitter":"counter"}\n' > "$T/count6.jsonl"
arbiter submit --json "$T/count6.jsonl"
expect_code 0 "once the first four leave the hour's window the quota allows again"
expect_no_out '"policy":"test_count_quota"' "no count quota finding after the window moved on"
# in one batch (one transaction), each submission counts those before it:
# five submitters of six each, the fourth to sixth of each over the quota
for i in $(seq 1 30); do
	printf '{"action":"test.count","ref":"count/batch/%d","submitter":"batch-%d"}\n' "$i" $((i % 5))
done > "$T/count-batch.jsonl"
arbiter submit --json "$T/count-batch.jsonl"
over=$(grep -c '"policy":"test_count_quota"' "$OUT")
first=$(grep '"submitter":"batch-1"' "$OUT" | head -3 | grep -c '"policy":"test_count_quota"')
[ "$over" -eq 15 ] && [ "$first" -eq 0 ] && pass "within one batch the count quota counts the batch's own submissions (15 of 30 over)" \
	|| fail "in one batch $over of 30 went over the count quota ($first of the first three)"

# windows of every shape over a history spread across seconds, minutes, hours
# and days: the history a quota reads (summed per second, minute, hour and
# day) equals the count of quota_usage rows in the window, to the
# millisecond: arbiter reads the test clock, so its window starts exactly
# where the rows' count starts, and rows lie on and around every boundary.
windows="1m:60 90s:90 1h:3600 3h7m:11220 1d:86400 2d5h:190800 30d:2592000"
# quota_usage rows written here by hand get their per second, minute, hour
# and day sums as arbiter's writer keeps them
sum_usage() {   # POLICY
	q "INSERT INTO quota_totals (policy, has_per, per, unit, start, amount)
	   SELECT policy, per_value IS NOT NULL, ifnull(per_value, ''), unit, at_ms / 1000 / unit,
	     total(amount)
	   FROM quota_usage, (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL SELECT 3600
	     UNION ALL SELECT 86400)
	   WHERE policy = '$1' GROUP BY 1, 2, 3, 4, 5"
}
for w in $windows; do
	name=${w%%:*}
	printf '\n  - name: test_window_%s\n    enabled: true\n    actions: ["test.window"]\n    type: quota\n    limit: 0\n    window: %s\n    per: submitter\n    severity: info\n    effect: log\n    message: window %s\n' \
		"$name" "$name" "$name" >> "$T/s/.arbiter/policies/50-tools.yaml"
done
served_reload
pin alice || fail "pin the window quotas"
now=$(clock_now)
for w in $windows; do
	name=${w%%:*} secs=${w##*:}
	q "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 600)
	   INSERT INTO quota_usage (policy, per_value, amount, at_ms, submission_id)
	   SELECT 'test_window_$name', 'w', 1, $now * 1000 - age, 1
	   FROM (SELECT abs(random()) % ($secs * 2000 + 10000) AS age FROM r
	     UNION ALL SELECT $secs * 1000 + d FROM (SELECT -1001 AS d UNION ALL SELECT -1000
	       UNION ALL SELECT -1 UNION ALL SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 999
	       UNION ALL SELECT 1000))"
	sum_usage "test_window_$name"
done
printf '{"action":"test.window","ref":"window/1","submitter":"w"}\n' > "$T/window.jsonl"
arbiter submit --json "$T/window.jsonl"
for w in $windows; do
	name=${w%%:*} secs=${w##*:}
	want=$(q "SELECT count(*) FROM quota_usage WHERE policy = 'test_window_$name' AND per_value = 'w' AND submission_id = 1 AND at_ms >= ($now - $secs) * 1000")
	got=$(grep -o "\"policy\":\"test_window_$name\"[^}]*" "$OUT" | grep -o '([0-9]* before this one)' | tr -dc 0-9)
	if [ -n "$got" ] && [ "$got" -eq "$want" ]; then
		pass "a $name window reads its history exactly ($got of 607)"
	else
		fail "the $name window read '$got', the rows say $want"
	fi
done

# --- a batch larger than one transaction ---
for i in $(seq 1 2500); do printf '{"action":"code.modify","ref":"big/%d"}\n' "$i"; done > "$T/big.jsonl"
before=$(subs) ev=$(events)
arbiter submit --json "$T/big.jsonl"
expect_code 0 "a batch of 2,500 submissions exits 0"
[ "$(grep -c '^{"id":' "$OUT")" -eq 2500 ] && pass "every one of the 2,500 results is printed with its id" || fail "$(grep -c '^{"id":' "$OUT") results printed"
[ "$(subs)" -eq $((before + 2500)) ] && [ "$(events)" -eq $((ev + 2500)) ] && pass "2,500 stored with 2,500 events" || fail "stored $(($(subs) - before)) rows, $(($(events) - ev)) events"
first=$(grep -o '^{"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
last=$(grep -o '^{"id":[0-9]*' "$OUT" | tail -1 | cut -d: -f2)
[ $((last - first)) -eq 2499 ] && pass "the batch's ids are printed in order" || fail "ids $first..$last"
# a stream of several transactions (5,000 documents each) and more chunks
# than the workers may parse ahead: they stay close behind the writer, read
# ahead while it commits, and every document is stored once, in order
for i in $(seq 1 15000); do
	printf '{"action":"code.modify","ref":"ahead/%d","title":"read ahead %d, a title to make the chunks many"}\n' "$i" "$i"
done > "$T/ahead.jsonl"
before=$(subs) ev=$(events)
arbiter submit --jsonl --json "$T/ahead.jsonl"
expect_code 0 "a stream of 15,000 submissions in three transactions exits 0"
ids=$(grep -o '^{"id":[0-9]*' "$OUT" | cut -d: -f2)
first=$(echo "$ids" | head -1)
[ "$(echo "$ids" | wc -l)" -eq 15000 ] && [ "$(echo "$ids" | awk -v f="$first" '$1 != f + NR - 1' | wc -l)" -eq 0 ] \
	&& pass "its 15,000 results are printed in input order, ids one after another" || fail "results out of order or missing"
[ "$(subs)" -eq $((before + 15000)) ] && [ "$(events)" -eq $((ev + 15000)) ] \
	&& pass "15,000 stored with 15,000 events" || fail "stored $(($(subs) - before)) rows, $(($(events) - ev)) events"
[ "$(q "SELECT count(*) FROM submissions WHERE ref GLOB 'ahead/*' AND id - $first + 1 = CAST(substr(ref, 7) AS INTEGER)")" -eq 15000 ] \
	&& pass "each document of the stream is the submission of its line" || fail "a ref is stored under another line's id"

# the per second, minute, hour and day sums the writer keeps are the sums of
# the uses stored of the submissions not refused, to the unit (the window
# rows above were summed by hand)
diff=$(quota_sums_off)
uses=$(q "SELECT count(*) FROM quota_usage WHERE policy NOT LIKE 'test_window_%'")
[ "$diff" = 0 ] && [ "$uses" -ge 30 ] && pass "quota sums match the $uses uses stored, per unit" \
	|| fail "quota sums differ from the uses in $diff rows ($uses uses)"
# so are the counts per status that the queue's header reads
counts=$(q "SELECT group_concat(status || '=' || n) FROM (SELECT * FROM status_counts WHERE n > 0 ORDER BY status)")
actual=$(q "SELECT group_concat(status || '=' || n) FROM (SELECT status, count(*) AS n FROM submissions GROUP BY status ORDER BY status)")
[ -n "$counts" ] && [ "$counts" = "$actual" ] && pass "the counts per status match the submissions ($counts)" \
	|| fail "counts per status '$counts', the submissions say '$actual'"

# --- the audit log ---
n=$(subs)
[ "$(q "SELECT count(*) FROM audit WHERE event = 'submission.create'")" -eq "$n" ] \
	&& pass "one submission.create event per submission ($n)" || fail "submission.create events: $(q "SELECT count(*) FROM audit WHERE event = 'submission.create'") for $n submissions"
[ "$(q "SELECT count(*) FROM submissions s JOIN audit a ON a.event = 'submission.create' AND a.subject = CAST(s.id AS TEXT)")" -eq "$n" ] \
	&& pass "every submission.create event has its submission's id as subject" || fail "subjects do not match the ids"
[ "$(q "SELECT count(DISTINCT subject) FROM audit WHERE event = 'submission.create'")" -eq "$n" ] \
	&& pass "no submission has two events" || fail "duplicate subjects"
q "SELECT details FROM audit WHERE event = 'submission.create' AND subject = '2'" | grep -q '"ref":"z3ed-agent-7/1187".*"status":"blocked"' \
	&& pass "the event's details carry ref and status" || fail "details of event for submission 2"
arbiter audit verify
expect_code 0 "audit verify passes after all of it"
# (and, served, the server's own server.start)
served_events=$(q "SELECT count(*) FROM audit WHERE event GLOB 'server.*'")
expect_out "verified $((n + 6 + served_events)) events" "the chain holds store.init, reviewer.add, two policy.tamper and policy.pin pairs, and every submission"

# --- a quota of decimal amounts reaches its limit exactly, however it is grouped ---
# tenant_run_cost_quota (the example set): at most $25 per tenant per day.
# 250 uses of 0.1 make 25, within it; the 251st is over. Once in one run
# (its sum partly kept in memory), once in three runs (partly stored).
"$ARBITER" init "$T/dimes" > /dev/null || fail "init of the quota store"
"$ARBITER" init "$T/dimes3" > /dev/null || fail "init of the second quota store"
for i in $(seq 1 251); do
	printf '{"action":"tool.call","ref":"d/%d","submitter":"ci","tenant":"dimes","cost_usd":0.1}\n' "$i"
done > "$T/dimes.jsonl"
arbiter --home "$T/dimes" submit --jsonl --json "$T/dimes.jsonl"
cp "$OUT" "$T/dimes.out"
[ "$(wc -l < "$T/dimes.out")" -eq 251 ] && pass "a result for each of the 251 uses" ||
	fail "$(wc -l < "$T/dimes.out") results for 251 uses"
sed -n 250p "$T/dimes.out" | grep -q tenant_run_cost_quota &&
	fail "the 250th use of 0.1 (25 in all) is over a limit of 25: $(sed -n 250p "$T/dimes.out" | cut -c1-600)" ||
	pass "250 uses of 0.1 make exactly 25, within the limit of 25"
sed -n 251p "$T/dimes.out" | grep -q '25.1 cost_usd for tenant \\"dimes\\" in 1d (25 before this one), over the limit of 25' &&
	pass "the 251st is over it, and the finding says 25 before it" ||
	fail "the 251st: $(sed -n 251p "$T/dimes.out" | cut -c1-400)"
: > "$T/dimes3.out"
for part in 1,70p 71,180p 181,251p; do
	sed -n "$part" "$T/dimes.jsonl" > "$T/part.jsonl"
	arbiter --home "$T/dimes3" submit --jsonl --json "$T/part.jsonl"
	cat "$OUT" >> "$T/dimes3.out"
done
cmp -s "$T/dimes.out" "$T/dimes3.out" && pass "three runs give the same results as one, byte for byte" ||
	fail "one run and three differ: $(diff "$T/dimes.out" "$T/dimes3.out" | head -4 | cut -c1-300)"

# --- an error in config.yaml: named at its place, and nothing stored ---
"$ARBITER" init "$T/cfg" > /dev/null || fail "init of a second store"
chmod u+w "$T/cfg/.arbiter/config.yaml"
printf 'enforcement:\n  enabled: [\n' >> "$T/cfg/.arbiter/config.yaml"
arbiter --home "$T/cfg" submit "$T/allowed.yaml"
expect_code 1 "submit with an error in config.yaml exits 1"
expect_err "config.yaml:[0-9]+:[0-9]+: " "naming config.yaml at its line and column"
expect_err "have errors; nothing was stored" "and saying that nothing was stored"
[ "$(sqlite3 "$T/cfg/.arbiter/arbiter.db" "SELECT count(*) FROM submissions")" = 0 ] &&
	pass "nothing is stored" || fail "a submission was stored despite config.yaml's error"

# --- refused submissions do not count towards quotas (PRODUCT.md section 3) ---
# tenant_run_cost_quota: $25 per tenant per day, critical deny, an admin may
# override. A blocked call spends nothing; once overridden it counts.
over='{"action":"tool.call","ref":"qt/1","submitter":"ci","tenant":"refusals","cost_usd":30}'
arbiter submit --json <(printf '%s\n' "$over")
expect_out '"status":"blocked".*30 cost_usd for tenant' "30 over a \$25 quota is blocked"
QB=$(sed 's/^{"id":\([0-9]*\).*/\1/' "$OUT")
arbiter submit --json <(printf '{"action":"tool.call","ref":"qt/2","submitter":"ci","tenant":"refusals","cost_usd":1}\n')
expect_no_out 'tenant_run_cost_quota' "the blocked one spent nothing of the tenant's quota"
arbiter --as alice override "$QB" --justification "the tenant's budget was raised for this run" \
	--code "$(code alice)"
expect_code 0 "the blocked one is overridden"
arbiter submit --json <(printf '{"action":"tool.call","ref":"qt/3","submitter":"ci","tenant":"refusals","cost_usd":1}\n')
expect_out '32 cost_usd for tenant \\"refusals\\" in 1d \(31 before this one\)' \
	"overridden, it counts: 30 and 1 before the next"

# --- the policy files' kept trees (data/policy_trees.c) ---
# Three stores alike, each given one submission (which keeps the trees),
# then every example submission: the same results whether the trees come
# from policies.cache, from the files (the cache removed) or from the files
# again because the cache was damaged.
results() {     # STORE
	"$ARBITER" --home "$1" submit --json "$EX"/submissions/*.yaml 2>&1
}
for s in kept parsed damaged; do
	"$ARBITER" init "$T/trees-$s" > /dev/null &&
		"$ARBITER" --home "$T/trees-$s" submit "$T/allowed.yaml" > /dev/null ||
		fail "a store for the kept trees ($s)"
done
C=.arbiter/policies.cache
[ -s "$T/trees-kept/$C" ] && [ "$(stat -c %a "$T/trees-kept/$C")" = 600 ] &&
	pass "submit keeps the policy files' trees in policies.cache, 0600" || fail "no policies.cache"
rm "$T/trees-parsed/$C"
printf '\001' | dd of="$T/trees-damaged/$C" bs=1 seek=100 conv=notrunc 2> /dev/null
damaged=$(cksum < "$T/trees-damaged/$C")
kept=$(results "$T/trees-kept")
[ "$(grep -c '"findings":\[{' <<< "$kept")" -ge 5 ] && [ "$kept" = "$(results "$T/trees-parsed")" ] &&
	[ -s "$T/trees-parsed/$C" ] &&
	pass "the same results from the kept trees as from the files, and the cache is written again" ||
	fail "kept and parsed trees give different results"
[ "$(results "$T/trees-damaged")" = "$kept" ] && [ "$(cksum < "$T/trees-damaged/$C")" != "$damaged" ] &&
	pass "a damaged cache is ignored: the same results, and the cache written anew" ||
	fail "after the cache was damaged"

# --- no store ---
mkdir -p "$T/nowhere" && cd "$T/nowhere" || exit 1
arbiter submit "$T/allowed.yaml"
expect_code 1 "submit without a store exits 1"
expect_err 'arbiter init' "the error names arbiter init"
expect_no_out . "nothing is printed as stored"
