#!/bin/sh
# make bench: prints the engine's performance figures (see bench/bench_eval.c).
B=${1:-build/release}
EX=docs/examples
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
	./arbiter eval --policies "$EX/policies" --jsonl --json "$tmp/gen.jsonl" > "$tmp/out.jsonl" || [ $? -eq 3 ]
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
lines=$(wc -l < "$tmp/out.jsonl")
echo "eval --jsonl end to end: $lines submissions (${size} MiB) read, evaluated and printed as JSON in $best ms (best of 3): $(( lines * 1000 / (best > 0 ? best : 1) )) submissions/s"
