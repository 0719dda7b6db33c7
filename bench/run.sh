#!/bin/sh
# make bench: prints the engine's, the store's and the server's performance
# figures (see bench/bench_eval.c, bench/bench_store.c and bench/serve.sh).
# Figures are printed, never asserted. Whole-process latencies are
# hyperfine's medians.
B=${1:-build/release}
EX=docs/examples
A=$PWD/arbiter
set -e
echo "== arbiter benchmarks ($(nproc) cores, $(uname -m)) =="
"$B/bench_eval" eval "$EX/policies" "$EX"/submissions/*.yaml "$EX"/submissions/*.jsonl
"$B/bench_eval" load 1000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$B/bench_eval" gen 100000 > "$tmp/gen.jsonl"
size=$(du -m "$tmp/gen.jsonl" | cut -f1)
best=""
for run in 1 2 3; do
	t0=$(date +%s%N)
	"$A" eval --policies "$EX/policies" --jsonl --json "$tmp/gen.jsonl" > "$tmp/out.jsonl" || [ $? -eq 3 ]
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
lines=$(wc -l < "$tmp/out.jsonl")
echo "eval --jsonl end to end: $lines submissions (${size} MiB) read, evaluated and printed as JSON in $best ms (best of 3): $(( lines * 1000 / (best > 0 ? best : 1) )) submissions/s (target >= 200,000/s)"
# the output of the JSON fast path is the output before it, byte for byte
# (the SHA-256 of these 100,000 results as the YAML reader and jansson gave them)
sum=$(sha256sum < "$tmp/out.jsonl" | cut -d' ' -f1)
if [ "$sum" = 1cff0a5b7c78c433dc5eb5f19a15e58b7bb60592623c832058b2e686b00a14f5 ]; then
	echo "eval --jsonl output: identical, byte for byte, to the output before the JSON fast path"
else
	echo "eval --jsonl output: DIFFERS from the output before the JSON fast path (sha256 $sum)"
fi

# ---- the store ----
# median of a hyperfine run, in ms with one decimal
median_ms() {   # JSON-FILE
	grep -o '"median": *[0-9.e+-]*' "$1" | head -1 | sed 's/.*: *//' |
		awk '{ printf "%.1f", $1 * 1000 }'
}
hf() {          # JSON-FILE RUNS COMMAND...: hyperfine without a shell, exit codes ignored
	out=$1 runs=$2
	shift 2
	hyperfine -N -i --style none --warmup 1 --runs "$runs" --export-json "$out" "$*" > /dev/null 2>&1
}
rows() { sqlite3 "$1/.arbiter/arbiter.db" "SELECT count(*) FROM submissions"; }

# (a) submit --jsonl of 100,000 generated submissions into a fresh store
# beside the rate, its CPU time: what every core of the machine, all busy,
# could reach with that much work per submission (the ceiling), and how busy
# they were
"$A" init "$tmp/a" > /dev/null
t0=$(date +%s%N)
cpu=$(cd "$tmp/a" && /usr/bin/time -f "%x %U %S" "$A" submit --jsonl --json "$tmp/gen.jsonl" 2>&1 > "$tmp/sub.jsonl" | tail -1)
t1=$(date +%s%N)
case $cpu in 0\ *|3\ *) ;; *) echo "submit --jsonl failed: $cpu" >&2; exit 1 ;; esac
ms=$(( (t1 - t0) / 1000000 ))
n=$(rows "$tmp/a")
echo "submit --jsonl into a fresh store: $n submissions evaluated and stored (findings, quota usage, signed audit event each) in $ms ms: $(( n * 1000 / (ms > 0 ? ms : 1) )) submissions/s (target >= 30,000/s)"
echo "$cpu" | awk -v n="$n" -v ms="$ms" -v c="$(nproc)" '{ s = $2 + $3; us = s * 1e6 / (n > 0 ? n : 1)
	printf "submit --jsonl CPU time: %.2f s, %.1f us a submission: %d cores all busy would reach %d/s; %.2f cores were busy on average\n", s, us, c, c * 1e6 / (us > 0 ? us : 1), s * 1000 / (ms > 0 ? ms : 1) }'

# (b) one submit of one document, as a whole process, into that store
printf 'action: code.modify\nsubmitter: bench\ntitle: one document\nbytes_changed: 10\n' > "$tmp/one.yaml"
hf "$tmp/one.json" 20 "$A" --home "$tmp/a" submit "$tmp/one.yaml"
echo "submit of one document (whole process, store of $n): median $(median_ms "$tmp/one.json") ms over 20 runs (target < 5 ms)"
# (b2) audit list --json of those 100,000 events (each written straight,
# its details as stored)
t0=$(date +%s%N)
"$A" --home "$tmp/a" audit list --limit 100000 --json > "$tmp/events.jsonl"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
ev=$(wc -l < "$tmp/events.jsonl")
echo "audit list --json: $ev events printed in $ms ms: $(( ev * 1000 / (ms > 0 ? ms : 1) )) events/s"
rm -rf "$tmp/a" "$tmp/events.jsonl"

# a store of 1,000,000 submissions (and as many audit events), built the way
# agents build it: submit --jsonl of generated documents. Submitted first,
# so the oldest (the last rows a newest-first walk reaches), 50 of a rare
# action and submitter whose .env file gives each a finding of a policy no
# generated one has: the rows the filters' "~50 match" figures find.
"$B/bench_eval" gen 1000000 > "$tmp/gen1m.jsonl"
# memory of a stream: 1,000,000 submissions through eval --jsonl, from a file
# and from a pipe (target: under 64 MB resident either way)
rss_file=$(/usr/bin/time -f %M "$A" eval --policies "$EX/policies" --jsonl --json "$tmp/gen1m.jsonl" 2>&1 > /dev/null | tail -1)
rss_pipe=$(cat "$tmp/gen1m.jsonl" | /usr/bin/time -f %M "$A" eval --policies "$EX/policies" --jsonl --json - 2>&1 > /dev/null | tail -1)
echo "eval --jsonl of 1,000,000 streamed: $((rss_file / 1024)) MB resident from a file, $((rss_pipe / 1024)) MB from a pipe (target < 64 MB)"
for i in $(seq 1 50); do
	printf '{"action":"bench.rare","ref":"rare/%d","title":"rare %d","submitter":"rare-agent","files":[{"path":"app%d.env","op":"modify"}]}\n' "$i" "$i" "$i"
done > "$tmp/rare.jsonl"
"$A" init "$tmp/m" > /dev/null
(cd "$tmp/m" && "$A" submit --jsonl "$tmp/rare.jsonl" > /dev/null) || [ $? -eq 3 ]
t0=$(date +%s%N)
rss_submit=$(cd "$tmp/m" && /usr/bin/time -f %M "$A" submit --jsonl "$tmp/gen1m.jsonl" 2>&1 > /dev/null | tail -1)
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
n=$(rows "$tmp/m")
H=$tmp/m/.arbiter
echo "building the large store: $n submissions, $((n - 50)) by submit --jsonl in $ms ms: $(( (n - 50) * 1000 / (ms > 0 ? ms : 1) )) submissions/s; arbiter.db $(du -m "$H/arbiter.db" | cut -f1) MiB; $((rss_submit / 1024)) MB resident (target < 64 MB)"
# the same 1,000,000 through a pipe, into a store of their own
"$A" init "$tmp/p" > /dev/null
rss_pipe=$(cd "$tmp/p" && cat "$tmp/gen1m.jsonl" | /usr/bin/time -f %M "$A" submit --jsonl - 2>&1 > /dev/null | tail -1)
echo "submit --jsonl of 1,000,000 from a pipe: $((rss_pipe / 1024)) MB resident (target < 64 MB)"
rm -rf "$tmp/p" "$tmp/gen1m.jsonl"
# documents near the 1 MiB limit: 40 of 880 KB (23,500 files each), whose
# trees take about ten times their text, streamed through eval and submit
files=$(awk 'BEGIN { for (j = 0; j < 23500; j++) printf "%s{\"path\":\"src/f%d.c\",\"op\":\"modify\"}", j ? "," : "", j }')
for i in $(seq 1 40); do
	printf '{"action":"code.modify","ref":"big/%d","submitter":"bench","files":[%s]}\n' "$i" "$files"
done > "$tmp/big.jsonl"
rss_big_eval=$(/usr/bin/time -f %M "$A" eval --policies "$EX/policies" --jsonl --json "$tmp/big.jsonl" 2>&1 > /dev/null | tail -1)
"$A" init "$tmp/big" > /dev/null
rss_big_submit=$(cd "$tmp/big" && /usr/bin/time -f %M "$A" submit --jsonl "$tmp/big.jsonl" 2>&1 > /dev/null | tail -1)
echo "40 documents of 880 KB streamed: eval $((rss_big_eval / 1024)) MB, submit $((rss_big_submit / 1024)) MB resident (target < 64 MB)"
rm -rf "$tmp/big" "$tmp/big.jsonl"

# (c) audit verify against its floor: reading every audit row and every row
# of the tables verify checks against the events, and hashing the chain
# (bench_store floor); the chain alone for comparison. The first pass warms
# the page cache; then the best of two of each.
"$B/bench_store" floor "$H" > /dev/null
best_of() {     # MODE: the best ms of two runs of bench_store MODE; its line in $tmp/MODE.txt
	b=""
	for run in 1 2; do
		"$B/bench_store" "$1" "$H" > "$tmp/$1.run"
		t=$(sed 's/.* in \([0-9]*\) ms.*/\1/' "$tmp/$1.run")
		if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; cp "$tmp/$1.run" "$tmp/$1.txt"; fi
	done
	echo "$b"
}
cms=$(best_of chain)
fms=$(best_of floor)
vms=$(best_of verify)
hf "$tmp/verify.json" 3 "$A" --home "$tmp/m" audit verify
pms=$(median_ms "$tmp/verify.json")
ratio() { awk -v v="$1" -v c="$2" 'BEGIN { printf "%.2f", v / (c > 0 ? c : 1) }'; }
echo "audit $(cat "$tmp/chain.txt") (best of 2)"
echo "audit $(cat "$tmp/floor.txt") (best of 2)"
echo "audit $(cat "$tmp/verify.txt") (best of 2): $(ratio "$vms" "$fms")x the floor (target <= 3x; $(ratio "$vms" "$cms")x the chain alone)"
echo "audit verify (whole process): median $pms ms over 3 runs: $(ratio "$pms" "$fms")x the floor"
# audit verify --full: every signature, on every core, against cores x one
# signature check per event
"$B/bench_store" full "$H"

# (d) list and show with 1,000,000 submissions
mid=$((n / 2))
ref=$(sqlite3 "$H/arbiter.db" "SELECT ref FROM submissions WHERE id = $mid")
msince=$(sqlite3 "$H/arbiter.db" "SELECT created_at FROM submissions WHERE id = $((n - 1000))")
for c in "list" "list --json" "list --status pending" "list --status blocked --kind proposal" \
    "list --status all --limit 1000 --json" "show $mid" "show $ref" "show $mid --json" \
    "stats --json" "stats --since $msince --json"; do
	# shellcheck disable=SC2086
	hf "$tmp/q.json" 20 "$A" --home "$tmp/m" $c
	echo "$c (whole process, $n submissions): median $(median_ms "$tmp/q.json") ms over 20 runs"
done

# (d2) each filter of list and audit list with --limit 50 (the default), when
# about 50 rows match and when none do
DB=$H/arbiter.db
since=$(sqlite3 "$DB" "SELECT created_at FROM submissions ORDER BY id DESC LIMIT 1 OFFSET 49")
until=$(sqlite3 "$DB" "SELECT created_at FROM submissions WHERE id = 50")
asince=$(sqlite3 "$DB" "SELECT ts FROM audit ORDER BY seq DESC LIMIT 1 OFFSET 49")
auntil=$(sqlite3 "$DB" "SELECT ts FROM audit WHERE seq = 50")
for c in "list --action bench.rare" "list --action bench.*" "list --action *.rare" \
    "list --action no.such" "list --action no.*" "list --action *.none" \
    "list --policy protected_files" "list --policy protected_f*" "list --policy no_such" "list --policy *_none" \
    "list --submitter rare-agent" "list --submitter nobody" \
    "list --since $since" "list --since 2999-01-01" "list --until $until" "list --until 2000-01-01" \
    "list --status approved" "list --kind export --action bench.*" \
    "audit list --action bench.rare" "audit list --action bench.*" "audit list --action no.such" \
    "audit list --since $asince" "audit list --since 2999-01-01" \
    "audit list --until $auntil" "audit list --until 2000-01-01"; do
	# shellcheck disable=SC2086
	m=$("$A" --home "$tmp/m" $c --json | wc -l)
	# shellcheck disable=SC2086
	hf "$tmp/q.json" 20 "$A" --home "$tmp/m" $c
	echo "$c (whole process, $m of $n match): median $(median_ms "$tmp/q.json") ms over 20 runs (target < 20 ms)"
done

# (e) a decision as a whole process: approve with a TOTP code, on the large
# store. A code (time step) is accepted once per reviewer, so each sample is
# another reviewer's first code: each round's new admins enrol two more each
# (their steps now and now + 1), and the last round's 16 approve one pending
# submission each.
secret() { sed -n 's/^secret (base32): //p'; }
totp() { oathtool --totp -b "$1" -N "@$(( ($(date +%s) / 30 + $2) * 30 ))"; }
"$A" --home "$H" reviewer add r0 --role admin | secret > "$tmp/secret.r0"
k=0 newest="r0"
for round in 1 2 3 4; do
	next=""
	for a in $newest; do
		for off in 0 1; do
			k=$((k + 1))
			"$A" --home "$H" --as "$a" reviewer add "r$k" --role admin \
				--code "$(totp "$(cat "$tmp/secret.$a")" $off)" | secret > "$tmp/secret.r$k"
			next="$next r$k"
		done
	done
	newest=$next
done
for r in $newest; do
	printf 'action: code.modify\nsubmitter: bench-agent\ntitle: needs a reviewer\nfiles:\n  - {path: src/a.c, op: delete}\n'
	echo ---
done > "$tmp/pending.yaml"
ids=$("$A" --home "$H" submit --json "$tmp/pending.yaml" | grep '"status":"pending"' | sed 's/^{"id":\([0-9]*\).*/\1/')
set -- $ids
: > "$tmp/decide.txt"
for r in $newest; do
	[ $# -gt 0 ] || break
	c=$(totp "$(cat "$tmp/secret.$r")" 0)
	t0=$(date +%s%N)
	"$A" --home "$H" --as "$r" approve "$1" --ack --code "$c" > /dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >> "$tmp/decide.txt"
	shift
done
runs=$(wc -l < "$tmp/decide.txt")
med=$(sort -n "$tmp/decide.txt" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')
echo "approve with a code (whole process, $n submissions): median $med ms over $runs reviewers (target < 10 ms)"

# (f) the console on the large store: first frame, key presses, memory
"$B/bench_console" "$A" "$H"

# (g) arbiter serve: throughput, latency, wake-ups and idle cost (bench/serve.sh)
rm -rf "$tmp/m"
sh "$(dirname "$0")/serve.sh" "$B"
