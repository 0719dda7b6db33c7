#!/bin/bash
# The store under concurrency and crashes. Four processes submitting 250
# submissions each at once store all 1,000 with one linear audit chain and no
# "database is locked"; a submit of 10,000 killed with SIGKILL midway leaves
# a store that opens, verifies and holds whole submissions only, and the
# retry of the same file stores exactly the rest.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export ARBITER_HOME=

"$ARBITER" init "$T/s" > /dev/null || fail "init"
DB=$T/s/.arbiter/arbiter.db
# N generated submissions (the example set's shapes) with refs PREFIX/i
gen() {
	awk -v n="$1" -v p="$2" 'BEGIN {
		split("rom.patch code.modify export.bundle import.chat tool.call llm.request", act, " ")
		split("openai anthropic acme-ai mistral", ven, " ")
		for (i = 1; i <= n; i++)
			printf "{\"action\":\"%s\",\"ref\":\"%s/%d\",\"title\":\"generated %d\",\"submitter\":\"agent-%d\",\"tenant\":\"acme\",\"vendor\":\"%s\",\"cost_usd\":0.%02d,\"bytes_changed\":%d,\"changes\":[{\"offset\":%d,\"length\":4}],\"banks\":[%d],\"license\":\"MIT\",\"files\":[{\"path\":\"src/m%d.c\",\"op\":\"modify\"}]}\n",
			    act[i % 6 + 1], p, i, i, i % 7, ven[i % 4 + 1], i % 100, i * 37 % 20000, i * 131 % 65536, i % 16, i % 40
	}'
}

# --- concurrency: 4 processes x 250 submissions at once ---
for p in 1 2 3 4; do gen 250 "proc$p" > "$T/p$p.jsonl"; done
cd "$T/s" || exit 1
for p in 1 2 3 4; do
	"$ARBITER" submit --json "$T/p$p.jsonl" > "$T/out$p" 2> "$T/err$p" &
	pids[p]=$!
done
for p in 1 2 3 4; do wait "${pids[p]}"; rc[p]=$?; done
ok=1
for p in 1 2 3 4; do
	if [ "${rc[p]}" -ne 0 ] && [ "${rc[p]}" -ne 3 ]; then ok=0; echo "process $p exited ${rc[p]}" >&2; fi
done
[ "$ok" -eq 1 ] && pass "four concurrent submitters all exit 0 or 3 (${rc[*]})" || fail "concurrent exit codes ${rc[*]}"
if cat "$T"/err[1-4] | grep -q .; then
	fail "a concurrent submitter wrote to stderr: $(cat "$T"/err[1-4] | head -3)"
else
	pass "no concurrent submitter wrote anything to stderr (no database is locked)"
fi
grep -qi 'locked\|busy' "$T"/err[1-4] && fail "database is locked reached a user" || pass "no locked or busy error"
lines=$(cat "$T"/out[1-4] | grep -c '^{"id":')
[ "$lines" -eq 1000 ] && pass "1,000 results printed with their ids" || fail "$lines results printed"
[ "$(q "SELECT count(*) FROM submissions")" -eq 1000 ] && pass "exactly 1,000 submissions stored" || fail "$(q "SELECT count(*) FROM submissions") submissions stored"
for p in 1 2 3 4; do
	n=$(q "SELECT count(*) FROM submissions WHERE ref LIKE 'proc$p/%'")
	[ "$n" -eq 250 ] || fail "process $p stored $n of 250"
done
ev=$(q "SELECT count(*) FROM audit")
[ "$ev" -ge 1001 ] && pass "1,000+ audit events ($ev)" || fail "only $ev audit events"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'submission.create'")" -eq 1000 ] && pass "one submission.create event each" || fail "submission.create count"
[ "$(q "SELECT count(DISTINCT prev) FROM audit")" -eq "$ev" ] && pass "no two events share a predecessor (the chain never forks)" || fail "the chain forks"
printed=$(cat "$T"/out[1-4] | grep -o '^{"id":[0-9]*' | cut -d: -f2 | sort -n | uniq | wc -l)
[ "$printed" -eq 1000 ] && pass "every printed id is distinct" || fail "$printed distinct ids printed"
arbiter audit verify
expect_code 0 "audit verify passes after concurrent submits: one linear chain"
expect_out "verified $ev events" "verify checked every event"

# many short writers at once: 4 loops of 25 one-document submits each
for p in 1 2 3 4; do
	(
		for i in $(seq 1 25); do
			printf '{"action":"code.modify","ref":"single%d/%d","submitter":"loop-%d"}\n' "$p" "$i" "$p" |
				"$ARBITER" submit --jsonl - > /dev/null 2>> "$T/single-err$p" || echo "exit $? at $i" >> "$T/single-err$p"
		done
	) &
	pids[p]=$!
done
for p in 1 2 3 4; do wait "${pids[p]}"; done
if cat "$T"/single-err[1-4] 2> /dev/null | grep -q .; then
	fail "a one-document submitter failed: $(cat "$T"/single-err[1-4] | head -3)"
else
	pass "100 concurrent one-document submits all succeed, silently"
fi
[ "$(q "SELECT count(*) FROM submissions")" -eq 1100 ] && pass "exactly 1,100 submissions stored" || fail "$(q "SELECT count(*) FROM submissions") submissions stored, expected 1,100"
arbiter audit verify
expect_code 0 "audit verify passes after concurrent one-document submits"
expect_out "verified 1101 events" "1,101 events in one chain"

# --- crash: SIGKILL midway through 10,000 ---
rm -rf "$T/c" && "$ARBITER" init "$T/c" > /dev/null || fail "init the crash store"
DB=$T/c/.arbiter/arbiter.db
gen 10000 crash > "$T/crash.jsonl"
cd "$T/c" || exit 1
"$ARBITER" submit --json "$T/crash.jsonl" > "$T/crash.out" 2> "$T/crash.err" &
pid=$!
n=0
for _ in $(seq 1 600); do   # up to 30 s for the first rows
	n=$(q "SELECT count(*) FROM submissions" 2> /dev/null || echo 0)
	[ "${n:-0}" -ge 500 ] && break
	kill -0 "$pid" 2> /dev/null || break
	sleep 0.05
done
if kill -0 "$pid" 2> /dev/null; then
	kill -9 "$pid"
	wait "$pid" 2> /dev/null
	pass "the submit was killed with SIGKILL after $n rows"
else
	wait "$pid"
	fail "the submit finished before it could be killed ($n rows)"
fi
n=$(q "SELECT count(*) FROM submissions")
[ "$n" -gt 0 ] && [ "$n" -lt 10000 ] && pass "the killed submit stored part of the batch ($n of 10,000)" || fail "$n of 10,000 stored by the killed submit"
arbiter audit verify
expect_code 0 "the store opens and audit verify passes after SIGKILL"
creates=$(q "SELECT count(*) FROM audit WHERE event = 'submission.create'")
[ "$creates" -eq "$n" ] && pass "whole submissions only: $n rows, $creates submission.create events" || fail "$n submissions but $creates events"
[ "$(q "SELECT count(*) FROM submissions s JOIN audit a ON a.event = 'submission.create' AND a.subject = CAST(s.id AS TEXT)")" -eq "$n" ] \
	&& pass "each stored submission has its own event" || fail "events and submissions do not pair up"
[ "$(q "SELECT count(*) FROM findings WHERE submission_id NOT IN (SELECT id FROM submissions)")" -eq 0 ] \
	&& pass "findings only reference stored submissions" || fail "orphan findings"
[ "$(q "SELECT count(*) FROM quota_usage WHERE submission_id NOT IN (SELECT id FROM submissions)")" -eq 0 ] \
	&& pass "quota usage only references stored submissions" || fail "orphan quota usage"
[ "$(q "SELECT count(*) FROM submissions s WHERE info + warning + critical != (SELECT count(*) FROM findings f WHERE f.submission_id = s.id)")" -eq 0 ] \
	&& pass "every stored submission has all its findings" || fail "submissions missing findings"
[ "$(q "PRAGMA integrity_check")" = ok ] && pass "the database passes integrity_check" || fail "integrity_check"
[ "$(q "PRAGMA foreign_key_check")" = "" ] && pass "the database passes foreign_key_check" || fail "foreign_key_check"
printed=$(grep -c '^{"id":' "$T/crash.out")
[ "$printed" -le "$n" ] && pass "nothing was reported stored that was not ($printed printed, $n stored)" || fail "$printed printed but only $n stored"

# the agent retries the whole file: the stored ones are recognised, the rest stored
run "$ARBITER" submit --json "$T/crash.jsonl"
[ "$CODE" -eq 0 ] || [ "$CODE" -eq 3 ] && pass "the retry after the crash exits $CODE" || fail "the retry exited $CODE"
[ "$(q "SELECT count(*) FROM submissions")" -eq 10000 ] && pass "the retry completes exactly 10,000" || fail "$(q "SELECT count(*) FROM submissions") after the retry"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'submission.create'")" -eq 10000 ] && pass "10,000 submission.create events after the retry" || fail "events after the retry"
arbiter audit verify
expect_code 0 "audit verify passes after the retry"

# ---- the log between commands ----
# Each commit is synced to the log, and a command leaves a small log for the
# next one to read back instead of checkpointing at every close; the last
# process to close copies it into the database once it passes 256 KiB, so the
# log stays bounded and every submission stays readable.
"$ARBITER" init "$T/w" > /dev/null || fail "init of the log store"
W=$T/w/.arbiter
walsize() { stat -c %s "$W/arbiter.db-wal" 2>/dev/null || echo 0; }
stored=0 max=0 drops=0 prev=0 first=0
for i in $(seq 1 40); do
	printf 'action: code.modify\nref: log/%d\nsubmitter: agent\ntitle: log %d\nbytes_changed: 10\n' \
		"$i" "$i" > "$T/log.yaml"
	"$ARBITER" --home "$W" submit "$T/log.yaml" > /dev/null 2>&1
	c=$?
	{ [ $c -eq 0 ] || [ $c -eq 3 ]; } && stored=$((stored + 1))
	sz=$(walsize)
	[ "$i" -eq 1 ] && first=$sz
	[ "$sz" -gt "$max" ] && max=$sz
	[ "$sz" -lt "$prev" ] && drops=$((drops + 1))
	prev=$sz
done
[ "$stored" -eq 40 ] && pass "40 submits one at a time are stored" || fail "$stored of 40 submits stored"
[ "$first" -gt 0 ] && pass "a submit leaves its commit in the log ($first bytes)" || fail "the first submit left an empty log"
[ "$max" -le $((384 * 1024)) ] && pass "the log stays under 384 KiB ($max bytes at most)" || fail "the log grew to $max bytes"
[ "$drops" -ge 1 ] && pass "the log is checkpointed and truncated as it grows ($drops times)" || fail "the log was never checkpointed"
n=$("$ARBITER" --home "$W" list --json --limit 100 | grep -c '^{')
[ "$n" -eq 40 ] && pass "list reads all 40 back through the log" || fail "list read $n of 40"
"$ARBITER" --home "$W" audit verify > /dev/null 2>&1 && pass "audit verify passes over the log" || fail "audit verify over the log"
[ "$(sqlite3 "$W/arbiter.db" "SELECT count(*) FROM submissions")" -eq 40 ] \
	&& pass "another SQLite client reads all 40" || fail "sqlite3 reads $(sqlite3 "$W/arbiter.db" "SELECT count(*) FROM submissions")"

# --- syncs: a commit syncs the log; a log made anew, its directory too ---
# (store_vfs.c: the log is kept between processes, so only the process that
# creates it syncs the directory its name is in, at once, even one that only
# reads)
syncs() {       # ARGS...: the log's and the directory's syncs of arbiter ARGS, "LOG DIR"
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat,fsync,fdatasync -o "$T/sync.trace" \
		"$ARBITER" --home "$W" "$@" > /dev/null 2>&1
	# the descriptors of the log and of the store directory, then their syncs
	awk -v dir="$W\"" '
		/openat\(.*arbiter\.db-wal"/ { n = $NF; log_fd[n] = 1 }
		/openat\(/ && index($0, "\"" dir) && /O_RDONLY\|O_CLOEXEC/ && !/O_PATH/ { n = $NF; dir_fd[n] = 1 }
		/f(data)?sync\(/ { fd = $0; sub(/.*sync\(/, "", fd); sub(/\).*/, "", fd)
			if (fd in log_fd) l++; else if (fd in dir_fd) d++ }
		END { printf "%d %d", l, d }' "$T/sync.trace"
}
sync_doc() {    # N: a submission to trace
	printf 'action: code.modify\nref: sync/%s\nsubmitter: agent\nbytes_changed: 10\n' "$1" > "$T/sync.yaml"
}
no_log() {
	sqlite3 "$W/arbiter.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
	rm -f "$W/arbiter.db-wal" "$W/arbiter.db-shm"
}
if command -v strace > /dev/null; then
	no_log
	got=$(syncs list)
	[ -e "$W/arbiter.db-wal" ] && [ "${got#* }" -ge 1 ] &&
		pass "a command that only reads, making the log anew, syncs its directory" ||
		fail "list with the log made anew: log and directory syncs $got"
	no_log
	sync_doc 1
	got=$(syncs submit "$T/sync.yaml")
	[ "${got% *}" -ge 1 ] && [ "${got#* }" -ge 1 ] &&
		pass "a submit that makes the log anew syncs it and its directory" ||
		fail "with the log made anew: log and directory syncs $got"
	sync_doc 2
	got=$(syncs submit "$T/sync.yaml")
	[ "$got" = "1 0" ] && pass "a submit into the kept log syncs the log alone" ||
		fail "with the log kept: log and directory syncs $got"
	[ "$(sqlite3 "$W/arbiter.db" "SELECT count(*) FROM submissions WHERE ref LIKE 'sync/%'")" = 2 ] &&
		pass "and both are stored" || fail "the traced submits were not stored"
	# --- the log written in large writes (store_vfs.c), not two per frame ---
	for i in $(seq 1 2000); do
		printf '{"action":"code.modify","ref":"frames/%d","submitter":"agent","bytes_changed":10}\n' "$i"
	done > "$T/frames.jsonl"
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat,pwrite64 -o "$T/frames.trace" \
		"$ARBITER" --home "$W" submit --jsonl "$T/frames.jsonl" > /dev/null 2>&1
	got=$(awk '
		/openat\(.*arbiter\.db-wal"/ { log_fd[$NF] = 1 }
		/pwrite64\(/ { fd = $0; sub(/.*pwrite64\(/, "", fd); sub(/,.*/, "", fd)
			if (fd in log_fd) { n++; bytes += $NF } }
		END { printf "%d %d", n, bytes }' "$T/frames.trace")
	[ "${got% *}" -ge 1 ] && [ "${got#* }" -ge $((32 * 1024 * ${got% *})) ] &&
		pass "a submit of 2,000 writes its log 32 KiB or more at a time (writes, bytes: $got)" ||
		fail "the log's writes and bytes: $got"
	[ "$(sqlite3 "$W/arbiter.db" "SELECT count(*) FROM submissions WHERE ref LIKE 'frames/%'")" = 2000 ] &&
		pass "and all 2,000 are stored" || fail "the traced bulk submit was not stored"
else
	fail "strace is missing (make test installs it)"
fi
