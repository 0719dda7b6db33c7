#!/bin/bash
# Reading the audit log: audit list (filters, limits, newest first, JSON
# fields), audit export (the enforcer's report shape, valid JSON, signed so
# that the stock minisign verifies it, audited itself) and audit tail (the
# last events, and -f following events that another process appends).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export ARBITER_HOME=
EX=$ROOT/docs/examples/submissions

"$ARBITER" init "$T/s" > /dev/null || fail "init"
H=$T/s/.arbiter
cd "$T/s" || exit 1
"$ARBITER" submit --as alice "$EX/rom-01-clean-patch.yaml" "$EX/rom-02-header-patch.yaml" > /dev/null
"$ARBITER" submit --as bob "$EX/export-01-bundle.yaml" "$EX/export-02-nc-license.yaml" > /dev/null
# seq 1 store.init (root), 2-3 rom.patch by alice (allowed, blocked),
# 4-5 export.bundle (allowed) and export.renpy (pending) by bob
[ "$(sqlite3 "$H/arbiter.db" 'SELECT count(*) FROM audit')" = 5 ] && pass "the fixture has 5 events" || fail "fixture events"

# --- audit list ---
arbiter audit list
expect_code 0 "audit list exits 0"
[ "$(wc -l < "$OUT")" -eq 5 ] && pass "audit list prints one line per event" || fail "audit list line count"
[ "$(awk '{print $1}' "$OUT" | tr '\n' ' ')" = "5 4 3 2 1 " ] && pass "audit list is newest first" || fail "audit list order"
expect_out '^ +3  20[0-9-]{8}T[0-9:.]{12}Z  alice +submission\.create +2 +\{"action":"rom\.patch"' "a line holds seq, ts, actor, event, subject, details"
expect_out '^ +1 .* store\.init .*\.\.\.$' "long details are abbreviated"

arbiter audit list --limit 2
[ "$(awk '{print $1}' "$OUT" | tr '\n' ' ')" = "5 4 " ] && pass "--limit 2 gives the newest two" || fail "--limit 2"
arbiter audit list --event submission.create
[ "$(wc -l < "$OUT")" -eq 4 ] && pass "--event keeps the 4 submission.create events" || fail "--event count"
expect_no_out 'store\.init' "--event drops the other events"
arbiter audit list --actor bob
[ "$(awk '{print $1}' "$OUT" | tr '\n' ' ')" = "5 4 " ] && pass "--actor bob keeps bob's events" || fail "--actor"
arbiter audit list --subject 2 --json
[ "$(wc -l < "$OUT")" -eq 1 ] && pass "--subject keeps one submission's events" || fail "--subject count"
expect_out '"seq":3,.*"subject":"2"' "--subject 2 is seq 3"
arbiter audit list --event submission.create --actor alice --limit 1
[ "$(awk '{print $1}' "$OUT" | tr '\n' ' ')" = "3 " ] && pass "filters combine with --limit" || fail "combined filters"
arbiter audit list --since 1h
[ "$(wc -l < "$OUT")" -eq 5 ] && pass "--since 1h keeps recent events" || fail "--since duration"
arbiter audit list --since 2999-01-01T00:00:00Z
expect_code 0 "--since in the future is not an error"
[ "$CODE" -eq 0 ] && [ ! -s "$OUT" ] && pass "--since in the future lists nothing" || fail "--since RFC 3339"
arbiter audit list --since 2000-01-01
[ "$(wc -l < "$OUT")" -eq 5 ] && pass "--since takes a date" || fail "--since date"

arbiter audit list --json --limit 0
expect_code 0 "audit list --json exits 0"
[ "$(wc -l < "$OUT")" -eq 5 ] && pass "--json is one line per event (--limit 0: all)" || fail "--json lines"
[ "$(head -1 "$OUT" | grep -o '^{"seq":[0-9]*' )" = '{"seq":5' ] && pass "--json is newest first" || fail "--json order"
for k in '"seq":[0-9]+' '"ts":"20[0-9-]{8}T[0-9:.]{12}Z"' '"actor":"bob"' '"event":"submission\.create"' \
	'"subject":"4"' '"details":\{"action":"export\.renpy"' '"prev":"[0-9a-f]{64}"' '"hash":"[0-9a-f]{64}"' '"sig":"[0-9a-f]{128}"'; do
	head -1 "$OUT" | grep -qE "$k" && pass "--json has $k" || fail "--json lacks $k"
done
[ "$(sqlite3 :memory: "SELECT min(json_valid(value)) FROM json_each(json('[' || replace(trim(readfile('$OUT'), char(10)), char(10), ',') || ']'))")" = 1 ] \
	&& pass "every --json line is valid JSON" || fail "--json validity"

# --- usage errors ---
arbiter audit list --limit many
expect_code 2 "a bad --limit is a usage error"
expect_err 'audit list: --limit takes a count' "the error names --limit"
arbiter audit list --since yesterday-ish
expect_code 2 "a bad --since is a usage error"
expect_err 'audit list: --since takes RFC 3339' "the error names --since"
arbiter audit list extra
expect_code 2 "audit list takes no argument"
expect_err 'unexpected argument extra' "the error names the argument"
arbiter audit list --follow
expect_code 2 "audit list does not take --follow"
expect_err 'audit list does not take --follow' "the error names the option"
arbiter audit tail --event x
expect_code 2 "audit tail does not take --event"
expect_err 'audit tail does not take --event' "the error names --event"
arbiter audit export --json
expect_code 2 "audit export does not take --json"
expect_err 'audit export does not take --json' "the error names --json"
arbiter audit tail -x
expect_code 2 "an unknown short option is a usage error"
expect_err 'unknown option -x' "the error names -x"

# --- audit export ---
arbiter audit export --as carol --out "$T/report.json"
expect_code 0 "audit export exits 0"
expect_out "wrote $T/report.json and $T/report.json.minisig" "export names its files"
R=$T/report.json
[ -s "$R" ] && [ "$(sqlite3 :memory: "SELECT json_valid(readfile('$R'))")" = 1 ] && pass "the export is valid JSON" || fail "export JSON validity"
q() { sqlite3 :memory: "SELECT json_extract(readfile('$R'), '$1')"; }
[ "$(q '$.summary.events')" = 6 ] && pass "summary.events counts every event, the export's own too" || fail "summary.events $(q '$.summary.events')"
[ "$(q '$.summary.totals.critical')|$(q '$.summary.totals.warning')|$(q '$.summary.totals.info')" = "1|1|0" ] \
	&& pass "summary.totals sums the findings by severity" || fail "summary.totals"
[ "$(q '$.summary.per_action."rom.patch".runs')|$(q '$.summary.per_action."rom.patch".blocks')" = "2|1" ] \
	&& pass "per_action counts runs and blocks" || fail "per_action rom.patch"
[ "$(q '$.summary.per_action."export.renpy".blocks')" = 0 ] && pass "a pending submission is not a block" || fail "per_action export.renpy"
[ "$(q '$.verification.ok')|$(q '$.verification.head_seq')" = "1|6" ] && pass "verification is ok through seq 6" || fail "verification"
[ -n "$(q '$.verification.head_hash')" ] && [ "$(q '$.verification.head_hash')" = "$(sqlite3 "$H/arbiter.db" 'SELECT hash FROM audit WHERE seq = 6')" ] \
	&& pass "verification names the head hash" || fail "verification head_hash"
[ "$(q '$.events[0].event')|$(q '$.events[5].event')|$(q '$.events[5].details.file')" = "store.init|audit.export|$R" ] \
	&& pass "events run oldest first and end with the export's own event" || fail "export events"
[ "$(q '$.events[2].sig')" = "$(sqlite3 "$H/arbiter.db" 'SELECT sig FROM audit WHERE seq = 3')" ] \
	&& pass "exported events carry their signatures" || fail "export sig"
for k in '"events": \[' '"summary": \{' '"totals":\{"info":' '"per_action":\{' '"verification": \{"ok":true'; do
	grep -qE "$k" "$R" && pass "the export has $k" || fail "the export lacks $k"
done
run minisign -Vm "$R" -p "$H/keys/audit.pub"
expect_code 0 "the stock minisign verifies the export"
expect_out 'arbiter export store [0-9a-f]{32} seq 6' "the trusted comment names the store and seq"
cp "$R" "$T/forged.json" && cp "$R.minisig" "$T/forged.json.minisig"
sed -i 's/"critical":1/"critical":0/' "$T/forged.json"
run minisign -Vm "$T/forged.json" -p "$H/keys/audit.pub"
[ "$CODE" -ne 0 ] && pass "minisign refuses an edited export" || fail "minisign accepted an edited export"
arbiter audit list --event audit.export --json
expect_out '"seq":6,.*"actor":"carol","event":"audit.export"' "the export is audited, by its actor"
arbiter audit verify
expect_code 0 "the log verifies after an export"

mkdir -p "$T/def" && cd "$T/def" || exit 1
run "$ARBITER" --home "$H" audit export
expect_code 0 "export without --out"
ls arbiter-export-20*.json > /dev/null 2>&1 && [ -s "$(ls arbiter-export-20*.json | head -1).minisig" ] \
	&& pass "the default export name is arbiter-export-TIME.json with its .minisig" || fail "default export name"
ls "$T"/*.tmp* ./*.tmp* > /dev/null 2>&1 && fail "export left a temporary file" || pass "export leaves no temporary file"
run "$ARBITER" --home "$H" audit export --out "$T/no/such/dir/r.json"
expect_code 1 "an unwritable export path is an error"
expect_err 'no/such/dir' "the error names the path"
cd "$T/s" || exit 1

# a tampered log is exported with its failure, and exit 4
rm -rf "$T/t" && cp -a "$T/s" "$T/t"
sqlite3 "$T/t/.arbiter/arbiter.db" "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3"
run "$ARBITER" --home "$T/t" audit export --out "$T/tampered.json"
expect_code 4 "exporting a tampered log exits 4"
expect_out 'TAMPERED at seq 3' "the export names the tampered event"
R=$T/tampered.json
[ "$(q '$.verification.ok')|$(q '$.verification.bad_seq')" = "0|3" ] && pass "the report records the failure and its seq" || fail "tampered verification"
[ -n "$(q '$.verification.why')" ] && pass "the report says why" || fail "tampered why"

# --- audit tail ---
for i in 1 2 3 4 5 6 7 8; do "$ARBITER" audit checkpoint --out "$T/cp$i.txt" > /dev/null || fail "checkpoint $i"; done
N=$(sqlite3 "$H/arbiter.db" 'SELECT max(seq) FROM audit')
arbiter audit tail
expect_code 0 "audit tail exits 0"
[ "$(wc -l < "$OUT")" -eq 10 ] && pass "audit tail prints the last 10 events" || fail "audit tail count $(wc -l < "$OUT")"
[ "$(awk '{print $1}' "$OUT" | tail -1)" = "$N" ] && [ "$(awk '{print $1}' "$OUT" | head -1)" = "$((N - 9))" ] \
	&& pass "audit tail runs oldest to newest, ending at the head" || fail "audit tail order"
arbiter audit tail --limit 2 --json
[ "$(wc -l < "$OUT")" -eq 2 ] && pass "audit tail --limit 2 --json prints two lines" || fail "tail --limit"
expect_out "^\\{\"seq\":$N,\"ts\":.*\"details\":\\{.*\"sig\":\"[0-9a-f]{128}\"\\}$" "tail --json has list --json's fields"

timeout 10 "$ARBITER" audit tail -f --json --limit 1 > "$T/tail.out" 2> "$T/tail.err" &
TP=$!
for _ in $(seq 50); do [ -s "$T/tail.out" ] && break; sleep 0.1; done
grep -q "\"seq\":$N," "$T/tail.out" && pass "tail -f prints the last event first" || fail "tail -f initial event"
"$ARBITER" --as dave audit checkpoint --out "$T/cp-follow.txt" > /dev/null || fail "checkpoint while following"
seen=no
for _ in $(seq 50); do
	grep -q "\"seq\":$((N + 1)),.*\"actor\":\"dave\",\"event\":\"audit.checkpoint\"" "$T/tail.out" && { seen=yes; break; }
	sleep 0.1
done
[ "$seen" = yes ] && pass "tail -f shows an event appended by another process within 5 s" || fail "tail -f did not follow: $(cat "$T/tail.out")"
pkill -INT -P "$TP" 2> /dev/null    # the tail itself: timeout would signal its whole group,
wait "$TP"                          # the sanitizer's leak-check helper too
rc=$?
[ "$rc" -eq 0 ] && pass "tail -f ends cleanly on SIGINT (exit 0)" || fail "tail -f exit $rc on SIGINT"
[ "$(wc -l < "$T/tail.out")" -eq 2 ] && pass "tail -f printed each event once" || fail "tail -f lines $(wc -l < "$T/tail.out")"
grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$T/tail.err" && fail "sanitizer report from tail -f" || pass "tail -f is clean under the sanitizers"

# --follow is -f's long form; text output flushes each event too
timeout 10 "$ARBITER" audit tail --follow --limit 0 > "$T/tail2.out" 2>&1 &
TP=$!
# --limit 0 follows from the head it reads once the store is open: wait for
# the open, then give it the read
for _ in $(seq 1 100); do
	ls -l "/proc/$(pgrep -P "$TP" | head -1)/fd" 2> /dev/null | grep -q 'arbiter\.db$' && break
	sleep 0.05
done
sleep 0.5
"$ARBITER" --as erin audit checkpoint --out "$T/cp-follow2.txt" > /dev/null
seen=no
for _ in $(seq 50); do grep -qE "^ +$((N + 2))  .* erin +audit\.checkpoint" "$T/tail2.out" && { seen=yes; break; }; sleep 0.1; done
[ "$seen" = yes ] && pass "tail --follow (text, --limit 0) shows only the new event" || fail "tail --follow: $(cat "$T/tail2.out")"
pkill -TERM -P "$TP" 2> /dev/null
wait "$TP"
[ "$seen" = yes ] && [ "$(wc -l < "$T/tail2.out")" -eq 1 ] && pass "tail --limit 0 printed no old events" || fail "tail --limit 0 lines"
