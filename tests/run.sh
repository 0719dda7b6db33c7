#!/bin/bash
# Runs every test against one build (default build/asan): the cmocka unit
# tests, the fuzz corpora replayed through each fuzz target, and the
# command-line tests in tests/cli. Ends with the line "N passed, N failed".
B=${1:-build/asan}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export ARBITER="$ROOT/$B/arbiter"
export RESULTS; RESULTS=$(mktemp)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
passed=0 failed=0

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$f" -ne 0 ]; then printf '%s\n' "$out" | grep -vE '^\[ +(RUN|OK) +\]' | tail -40; fi
	echo "unit $(basename "$t"): $p passed, $f failed"
	passed=$((passed + p)) failed=$((failed + f))
done

for r in "$B"/tests/replay_*; do
	[ -x "$r" ] || continue
	name=${r##*replay_}
	if out=$("$r" tests/fuzz/corpus/"$name" 2>&1); then
		echo "fuzz corpus $name: $out"
		passed=$((passed + 1))
	else
		printf '%s\n' "$out" | tail -30
		echo "fuzz corpus $name: FAILED"
		failed=$((failed + 1))
	fi
done

# The command-line suites run TEST_JOBS at a time (default 3: most of a
# suite's time is spent waiting on servers, terminals and clocks, not on a
# core), the longest first; each keeps its own results and log, reported in
# name order once all are done, with the failing checks' lines.
JOBS=${TEST_JOBS:-3}
LOGS=$(mktemp -d)
trap 'rm -rf "$RESULTS" "$LOGS"' EXIT
suite() {
	local s=$1 n
	n=$(basename "$s" .sh)
	: > "$LOGS/$n.r"
	RESULTS=$LOGS/$n.r bash "$s" > "$LOGS/$n.log" 2>&1 || echo "fail $s exited $?" >> "$LOGS/$n.r"
}
first="tests/cli/served.sh tests/cli/team.sh"
for s in $first $(ls tests/cli/*.sh | grep -vxF -e tests/cli/served.sh -e tests/cli/team.sh); do
	[ -f "$s" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	suite "$s" &
done
wait
for s in tests/cli/*.sh; do
	[ -f "$s" ] || continue
	n=$(basename "$s" .sh)
	p=$(grep -c '^pass' "$LOGS/$n.r") f=$(grep -c '^fail' "$LOGS/$n.r")
	if [ "$f" -ne 0 ]; then
		grep -E '^FAIL|^  (out|err|screen)\|' "$LOGS/$n.log" | cut -c1-240 | head -60
	fi
	grep -E '^[a-z_.]+: .* (ms|ticks|s)( |$)' "$LOGS/$n.log" | grep -v '^FAIL' | head -20
	echo "cli $n.sh: $p passed, $f failed"
	cat "$LOGS/$n.r" >> "$RESULTS"
done
cp=$(grep -c '^pass' "$RESULTS") cf=$(grep -c '^fail' "$RESULTS")
passed=$((passed + cp)) failed=$((failed + cf))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
