#!/bin/bash
# The filters of list (--status, --kind, --action, --policy, --submitter,
# --since, --until, --after, --limit) and of audit list (--event, --actor,
# --subject, --action, --since, --until), each alone and combined, as text
# and --json, against the same selection made by sqlite3 on the database;
# the boundaries of a time window, paging with the cursor, empty results and
# bad values. Globs are the engine's, as in policies' actions: * and ?
# stay within a path segment, ** crosses, [..] is a class, \ escapes.
. "$(dirname "$0")/../lib.sh"
# the test clock from the start: the store's first event is no later than its
# rows (time grows with the key, which the time windows rely on)
clock_start 1767225600
new_store

# ---- a store whose rows these tests know ----
{
	printf '{"action":"rom.patch","ref":"f/1","submitter":"ann","title":"one"}\n'
	printf '{"action":"rom.palette","ref":"f/2","submitter":"bob","title":"two"}\n'
	printf '{"action":"rom.patch/extra","ref":"f/3","submitter":"ann","title":"three"}\n'
	printf '{"action":"code.modify","ref":"f/4","submitter":"Ann","title":"four"}\n'
	# two findings of protected_files: listed once under --policy
	printf '{"action":"code.modify","ref":"f/5","submitter":"bob","title":"five","files":[{"path":"a.env","op":"modify"},{"path":"b.env","op":"modify"}]}\n'
	printf '{"action":"export.bundle","ref":"f/6","submitter":"cy","title":"six"}\n'
	printf '{"action":"import.chat","ref":"f/7","submitter":"cy","title":"seven"}\n'
	printf '{"action":"rom[1]","ref":"f/8","submitter":"dee","title":"eight"}\n'
	printf '{"action":"tool.call","ref":"f/9","submitter":"ann","title":"nine","files":[{"path":"c.env","op":"delete"}]}\n'
	printf '{"action":"a*b","ref":"f/10","title":"ten"}\n'
	printf '{"action":"axb","ref":"f/11","submitter":"bob","title":"eleven"}\n'
	printf '{"action":"rom.patch","ref":"f/12","submitter":"bob","title":"twelve","files":[{"path":"d.env","op":"delete"}]}\n'
} > "$T/rows.jsonl"
# one a second on the test clock from 2026-01-01T00:00:01.250Z, except that
# 7 and 8 share one millisecond (a window's bound falls between equal times)
i=0
while IFS= read -r line; do
	i=$((i + 1))
	[ $i -eq 8 ] || clock_set "$((1767225600000 + 1000 * i + 250))"
	printf '%s\n' "$line" | "$ARBITER" submit --jsonl - > /dev/null 2>&1
done < "$T/rows.jsonl"
N=$(q "SELECT count(*) FROM submissions")
[ "$N" -eq 12 ] && pass "the rows are stored" || fail "$N rows stored"
[ "$(q "SELECT group_concat(created_at, ' ') FROM submissions WHERE id IN (1, 7, 8)")" = \
    "2026-01-01T00:00:01.250Z 2026-01-01T00:00:07.250Z 2026-01-01T00:00:07.250Z" ] &&
	pass "the rows have known times" || fail "times: $(q "SELECT group_concat(created_at, ' ') FROM submissions")"
# two hours on, a whole second: durations ago fall after every row
clock_set "$((1767225600000 + 7200000))"
[ "$(q "SELECT count(DISTINCT policy) FROM findings")" -ge 3 ] && [ "$(q "SELECT count(*) FROM findings WHERE submission_id = 5 AND policy = 'protected_files'")" -eq 2 ] &&
	pass "the rows have findings of several policies" || fail "findings: $(q "SELECT group_concat(policy) FROM findings")"

ids() { grep -o '^{"id":[0-9]*' "$OUT" | cut -d: -f2 | paste -sd' '; }
# same DESC SQL-WHERE ORDER ARGS...: list ARGS --json lists the rows WHERE
# selects, in ORDER (DESC or ASC), and as text the same ids
same() {
	local desc=$1 where=$2 order=$3
	shift 3
	local want got text
	want=$(q "SELECT id FROM submissions WHERE $where ORDER BY id $order LIMIT 50" | paste -sd' ')
	arbiter list "$@" --json
	got=$(ids)
	[ "$CODE" -eq 0 ] || { fail "$desc: exit $CODE"; return; }
	arbiter list "$@"
	text=$(grep -oE '^[0-9]+ ' "$OUT" | tr -d ' ' | paste -sd' ')
	if [ "$got" = "$want" ] && [ "$text" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc: JSON [$got], text [$text], expected [$want]"
	fi
}

# ---- each filter alone ----
same "--action exact" "action = 'rom.patch'" DESC --action rom.patch
same "--action prefix glob: * stays within a segment" "action IN ('rom.patch', 'rom.palette')" DESC --action 'rom.*'
same "--action ** crosses segments" "action GLOB 'rom.*'" DESC --action 'rom.**'
same "--action suffix glob" "action IN ('code.modify')" DESC --action '*.modify'
same "--action ? is one character" "action IN ('a*b', 'axb')" DESC --action 'a?b'
same "--action class" "action IN ('rom.patch', 'rom.palette')" DESC --action 'rom.pa[lt]*'
same "--action escaped * is literal" "action = 'a*b'" DESC --action 'a\*b'
same "--action escaped [ is literal" "action = 'rom[1]'" DESC --action 'rom\[1]'
same "--action matching nothing" "0" DESC --action 'nothing.*'
same "--action is case-sensitive" "0" DESC --action 'ROM.*'
same "--submitter exact" "submitter = 'ann'" DESC --submitter ann
same "--submitter reads a name lower-cased: Ann (stored as ann) is ann" "submitter = 'ann'" DESC --submitter Ann
same "--submitter matching nothing" "0" DESC --submitter nobody
same "--submitter is not a glob" "0" DESC --submitter 'a*'
same "--policy exact, a submission once however many findings" \
	"id IN (SELECT submission_id FROM findings WHERE policy = 'protected_files')" DESC --policy protected_files
same "--policy glob" "id IN (SELECT submission_id FROM findings WHERE policy GLOB 'protected_*')" DESC --policy 'protected_*'
same "--policy matching nothing" "0" DESC --policy no_such_policy
same "--kind" "kind = 'export'" DESC --kind export
same "--status waiting, oldest first" "status IN ('pending', 'blocked')" ASC --status waiting
same "--status allowed" "status = 'allowed'" DESC --status allowed

# ---- time windows: inclusive bounds, equal times, durations ----
same "--since a row's time includes it" "id >= 5" DESC --since 2026-01-01T00:00:05.250Z
same "--since just after a row's time leaves it out" "id >= 6" DESC --since 2026-01-01T00:00:05.251Z
same "--until a row's time includes it" "id <= 5" DESC --until 2026-01-01T00:00:05.250Z
same "--until just before a row's time leaves it out" "id <= 4" DESC --until 2026-01-01T00:00:05.249Z
same "--since and --until at one time: the rows of that millisecond" "id IN (7, 8)" DESC \
	--since 2026-01-01T00:00:07.250Z --until 2026-01-01T00:00:07.250Z
same "--until between equal times takes both" "id <= 8" DESC --until 2026-01-01T00:00:07.250Z
same "--since between equal times takes both" "id >= 7" DESC --since 2026-01-01T00:00:07.250Z
same "--since a date" "1" DESC --since 2026-01-01
same "--since a local time with its offset" "id >= 5" DESC --since 2026-01-01T02:00:05.250+02:00
same "--until a local time west of UTC" "id <= 5" DESC --until 2025-12-31T19:00:05.250-05:00
same "--since after the last row" "0" DESC --since 2026-01-02
same "--until before the first row" "0" DESC --until 2025-12-31T23:59:59Z
same "--since a duration ago, after every row" "0" DESC --since 1h
same "--until a duration ago, after every row" "1" DESC --until 1h
same "--since a longer duration ago, before every row" "1" DESC --since 3h
same "--since and --until a window in the middle" "id BETWEEN 3 AND 9" DESC \
	--since 2026-01-01T00:00:03Z --until 2026-01-01T00:00:09.999Z

# ---- combined ----
same "--action and --submitter" "action GLOB 'rom.*' AND submitter = 'bob'" DESC --action 'rom.**' --submitter bob
same "--policy and --submitter" "submitter = 'bob' AND id IN (SELECT submission_id FROM findings WHERE policy = 'protected_files')" DESC \
	--policy protected_files --submitter bob
same "--policy and --action matching nothing together" "0" DESC --policy protected_files --action 'export.*'
same "--status, --kind and --action" "status = 'allowed' AND kind = 'proposal' AND action GLOB 'rom*' AND action NOT LIKE '%/%'" DESC \
	--status allowed --kind proposal --action 'rom*'
same "--status waiting with --submitter, oldest first" "status IN ('pending', 'blocked') AND submitter = 'bob'" ASC \
	--status waiting --submitter bob
same "every filter at once" "status IN ('pending', 'blocked') AND kind = 'proposal' AND action = 'rom.patch' AND submitter = 'bob' AND id BETWEEN 2 AND 12 AND id IN (SELECT submission_id FROM findings WHERE policy GLOB 'protected_*')" ASC \
	--status waiting --kind proposal --action rom.patch --policy 'protected_*' --submitter bob \
	--since 2026-01-01T00:00:02.250Z --until 2026-01-01T00:00:12.250Z
same "a window with --action" "id BETWEEN 1 AND 8 AND action GLOB 'rom*' AND action NOT LIKE '%/%'" DESC --action 'rom*' --until 2026-01-01T00:00:07.250Z

# ---- the cursor: pages follow on without a gap or a repeat ----
same "--after goes on beyond an id, newest first" "id < 9" DESC --after 9
same "--after goes on beyond an id, oldest first" "status IN ('pending', 'blocked') AND id > 5" ASC --status waiting --after 5
same "--after with other filters" "submitter = 'ann' AND id < 9" DESC --submitter ann --after 9
all=$(q "SELECT id FROM submissions ORDER BY id DESC" | paste -sd' ')
pages="" after="" n=0
while [ $n -lt 20 ]; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	arbiter list --limit 5 ${after:+--after $after}
	page=$(grep -oE '^[0-9]+ ' "$OUT" | tr -d ' ' | paste -sd' ')
	pages="$pages${pages:+ }$page"
	after=$(sed -n 's/^(more: --after \([0-9]*\))$/\1/p' "$OUT")
	[ -n "$after" ] || break
	[ "$after" = "${page##* }" ] || fail "the cursor $after is not the page's last id ${page##* }"
done
[ "$pages" = "$all" ] && [ $n -eq 3 ] && pass "three pages of 5, each pointing at the next, list every row once" ||
	fail "pages [$pages] in $n reads, expected [$all] in 3"
arbiter list --limit 12
expect_no_out '^\(more' "a page that holds the last row points at no next one"
arbiter list --limit 11
expect_out '^\(more: --after 2\)$' "a page one row short of the end points at the next"
arbiter list --limit 5 --json
[ "$(grep -c . "$OUT")" -eq 5 ] && expect_no_out 'more' "--json prints only the rows, one a line"
arbiter list --action 'rom.*' --limit 1
expect_out '^\(more: --after 12\)$' "a filtered page points at the next matching row"

# ---- empty results ----
arbiter list --action nothing --submitter nobody
expect_code 0 "an empty listing exits 0"
expect_out '^no submissions with action nothing from nobody$' "an empty listing names its filters"
arbiter list --policy none_such --json
expect_code 0 "an empty --json listing exits 0"
[ ! -s "$OUT" ] && pass "an empty --json listing prints nothing" || fail "an empty --json listing printed something"

# ---- bad values: usage errors naming the option ----
bad() {         # DESC REGEX ARGS...: exit 2 and stderr matches
	local desc=$1 re=$2
	shift 2
	arbiter "$@"
	if [ "$CODE" -eq 2 ] && grep -qE -- "$re" "$ERR" && [ ! -s "$OUT" ]; then pass "$desc"; else fail "$desc (exit $CODE)"; fi
}
bad "list --since of no time" '--since takes RFC 3339 .* not "yesterday"' list --since yesterday
bad "list --until of no time" '--until takes RFC 3339 .* not "2026-13-01"' list --until 2026-13-01
bad "list --until with trailing text" '--until takes' list --until 2026-01-01T00:00:00Zjunk
bad "list --since before 1970" '--since takes' list --since 1969-12-31
bad "list --since with a bad offset" '--since takes' list --since 2026-01-01T00:00:00+2:00
bad "list --until with an offset past 23:59" '--until takes' list --until 2026-01-01T00:00:00+24:00
bad "list --since after --until" '--since 2026-02-01 is after --until 2026-01-01' list --since 2026-02-01 --until 2026-01-01
bad "list --after of no id" '--after takes a submission id, not x1' list --after x1
bad "list --after 0" '--after takes a submission id, not 0' list --after 0
bad "list --after negative" '--after takes a submission id' list --after -3
bad "list --action without a value" 'action' list --action
bad "list --policy without a value" 'policy' list --policy
bad "list --submitter without a value" 'submitter' list --submitter
bad "audit list --until of no time" '--until takes RFC 3339' audit list --until soon
bad "audit list --since of no time" '--since takes RFC 3339' audit list --since 5x
bad "audit list --since after --until" 'is after --until' audit list --since 2h --until 3h
bad "audit list --action without a value" 'action' audit list --action

# ---- audit list ----
# A reviewer named like a submission id: its events have that subject but
# are not about the submission, and --action leaves them out.
enrol alice --role admin || fail "enrolling alice"
"$ARBITER" --as alice reviewer add 12 --code "$(code alice)" > /dev/null 2>&1 || fail "enrolling 12"
BLOCKED=$(q "SELECT id FROM submissions WHERE status = 'blocked' AND action = 'rom.patch' ORDER BY id LIMIT 1")
[ -n "$BLOCKED" ] && pass "a rom.patch submission is blocked" || fail "statuses: $(q "SELECT group_concat(status) FROM submissions")"
"$ARBITER" --as alice reject "$BLOCKED" --reason "the header must not change in this patch" --code "$(code alice)" > /dev/null 2>&1 ||
	fail "rejecting $BLOCKED"
[ "$(q "SELECT count(*) FROM audit WHERE subject = '12' AND event LIKE 'reviewer.%'")" -eq 1 ] &&
	pass "reviewer 12's event has subject 12" || fail "no reviewer event with subject 12"
seqs() { grep -o '^{"seq":[0-9]*' "$OUT" | cut -d: -f2 | paste -sd' '; }
# asame DESC SQL-WHERE ARGS...: audit list ARGS --json lists the events WHERE
# selects, newest first, and as text the same seqs
about="(event GLOB 'submission.*' OR event GLOB 'decision.*' OR event GLOB 'override.*')"
asame() {
	local desc=$1 where=$2
	shift 2
	local want got text
	want=$(q "SELECT seq FROM audit WHERE $where ORDER BY seq DESC LIMIT 50" | paste -sd' ')
	arbiter audit list "$@" --json
	got=$(seqs)
	[ "$CODE" -eq 0 ] || { fail "$desc: exit $CODE"; return; }
	arbiter audit list "$@"
	text=$(grep -oE '^ *[0-9]+  ' "$OUT" | tr -d ' ' | paste -sd' ')
	if [ "$got" = "$want" ] && [ "$text" = "$want" ]; then
		pass "$desc"
	else
		fail "$desc: JSON [$got], text [$text], expected [$want]"
	fi
}
subjects() { echo "subject IN (SELECT CAST(id AS TEXT) FROM submissions WHERE $1) AND $about"; }
asame "audit --action exact: creation and decision events" "$(subjects "action = 'rom.patch'")" --action rom.patch
[ "$(q "SELECT count(*) FROM audit WHERE event = 'decision.reject' AND subject = '$BLOCKED'")" -eq 1 ] &&
	grep -q ' decision.reject ' "$OUT" && pass "audit --action lists the decision on a matching submission" ||
	fail "audit --action left out the decision on $BLOCKED"
asame "audit --action glob" "$(subjects "action GLOB 'rom.*' AND action NOT LIKE '%/%'")" --action 'rom.*'
arbiter audit list --action rom.patch --json
grep -q '"subject":"12"' "$OUT" && ! grep -q '"event":"reviewer' "$OUT" &&
	pass "audit --action lists submission 12's events, not reviewer 12's" || fail "reviewer 12 and submission 12"
asame "audit --action matching nothing" "0" --action 'nothing.*'
asame "audit --action with --event" "event = 'submission.create' AND $(subjects "action = 'rom.patch'")" \
	--action rom.patch --event submission.create
asame "audit --action with --actor" "actor = 'alice' AND $(subjects "action = 'rom.patch'")" --action rom.patch --actor alice
asame "audit --action with --subject" "subject = '$BLOCKED'" --action rom.patch --subject "$BLOCKED"
asame "audit --action with another --subject" "0" --action code.modify --subject "$BLOCKED"
TS5=$(q "SELECT ts FROM audit WHERE seq = 5")
TS8=$(q "SELECT ts FROM audit WHERE seq = 8")
asame "audit --since an event's time includes it" "ts >= '$TS5'" --since "$TS5"
asame "audit --until an event's time includes it" "ts <= '$TS5'" --until "$TS5"
asame "audit --since and --until" "ts BETWEEN '$TS5' AND '$TS8'" --since "$TS5" --until "$TS8"
asame "audit --until before the log" "0" --until 2020-01-01
asame "audit --since after the log" "0" --since 2999-01-01
# the events of the rows were two hours ago; those of enrolling and deciding now
hour_ago="$(date -u -d "@$(( $(clock_now) - 3600 ))" +%Y-%m-%dT%H:%M:%S).000Z"
asame "audit --since a duration ago" "ts >= '$hour_ago'" --since 1h
asame "audit --until a duration ago" "ts <= '$hour_ago'" --until 1h
asame "audit --until with --event" "ts <= '$TS8' AND event = 'submission.create'" --until "$TS8" --event submission.create
asame "audit --until with --action" "ts <= '$TS8' AND $(subjects "action = 'rom.patch'")" --until "$TS8" --action rom.patch
arbiter audit list --action rom.patch --limit 1 --json
[ "$(seqs)" = "$(q "SELECT max(seq) FROM audit WHERE $(subjects "action = 'rom.patch'")")" ] &&
	pass "audit --action --limit 1: the newest" || fail "audit --action --limit 1 gave $(seqs)"
arbiter audit list --action nothing
expect_code 0 "an empty audit listing exits 0"

# ---- many values: a glob over more actions and policies than are walked one
# index range each is tested on every row, and reads the same ----
for i in $(seq 1 70); do printf '{"action":"many.%d","ref":"many/%d","submitter":"many-bot"}\n' "$i" "$i"; done > "$T/many.jsonl"
arbiter submit --jsonl "$T/many.jsonl"
same "--action over 70 distinct actions" "action GLOB 'many.*'" DESC --action 'many.*' --limit 50
same "--action over 70 distinct actions, with --submitter" "action GLOB 'many.*'" DESC --action 'many.*' --submitter many-bot
same "--action over 70 distinct actions, a class" "action GLOB 'many.[1-3]'" DESC --action 'many.[1-3]'
asame "audit --action over 70 distinct actions" "$(subjects "action GLOB 'many.*'")" --action 'many.*'
mkdir -p "$H/policies"
{
	printf 'version: 1\nenabled: true\npolicies:\n'
	for i in $(seq 1 70); do
		printf '  - name: many_policy_%d\n    enabled: true\n    actions: ["multi.*"]\n    type: expression\n' "$i"
		printf '    condition: "true"\n    severity: info\n    message: one of many\n'
	done
} > "$H/policies/90-many.yaml"
pin alice || fail "pinning 70 more policies"
printf '{"action":"multi.one","ref":"multi/1"}\n{"action":"multi.two","ref":"multi/2"}\n' > "$T/multi.jsonl"
arbiter submit --jsonl "$T/multi.jsonl"
[ "$(q "SELECT count(DISTINCT policy) FROM findings WHERE policy GLOB 'many_policy_*'")" -eq 70 ] &&
	pass "70 policies have findings" || fail "$(q "SELECT count(DISTINCT policy) FROM findings WHERE policy GLOB 'many_policy_*'") policies have findings"
same "--policy over 70 distinct policies" \
	"id IN (SELECT submission_id FROM findings WHERE policy GLOB 'many_policy_*')" DESC --policy 'many_policy_*'
same "--policy over 70 distinct policies, with --action" \
	"action = 'multi.two'" DESC --policy 'many_policy_*' --action multi.two
same "--policy over 9 of them" "action GLOB 'multi.*'" DESC --policy 'many_policy_?'
# more than a thousand submissions of one action: --action then walks the log
for i in $(seq 1 1005); do printf '{"action":"bulk.load","ref":"bulk/%d","submitter":"bulk-bot"}\n' "$i"; done > "$T/bulk.jsonl"
arbiter submit --jsonl "$T/bulk.jsonl"
asame "audit --action over 1005 submissions" "$(subjects "action = 'bulk.load'")" --action bulk.load
asame "audit --action over 1005 submissions, a window" "ts <= '$TS8' AND $(subjects "action = 'bulk.load'")" --action bulk.load --until "$TS8"
TSB=$(q "SELECT ts FROM audit WHERE subject = (SELECT CAST(id + 3 AS TEXT) FROM submissions WHERE ref = 'bulk/1') AND event = 'submission.create'")
asame "audit --action over 1005 submissions, --since" "ts >= '$TSB' AND $(subjects "action = 'bulk.load'")" --action 'bulk.*' --since "$TSB"
same "--submitter over 1005 rows, newest first" "submitter = 'bulk-bot'" DESC --submitter bulk-bot
