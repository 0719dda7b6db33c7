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

# The command-line suites run TEST_JOBS at a time (default 4: most of a
# suite's time is spent waiting on servers, terminals and clocks, not on a
# core), the longest first; each keeps its own results and log, reported in
# name order once all are done, with the failing checks' lines.
JOBS=${TEST_JOBS:-4}
LOGS=$(mktemp -d)
trap 'rm -rf "$RESULTS" "$LOGS"' EXIT
# A job is a suite (tests/cli/NAME.sh) or a suite run through a server
# (served/NAME: the suite again with ARBITER_SERVED=1, tests/lib.sh; the
# suites are listed in tests/cli/served.list). Each job's results, log and
# time are kept under its own name.
job_name() { case $1 in served/*) echo "served.$(basename "$1")" ;; *) basename "$1" .sh ;; esac; }
job() {
	local j=$1 n t0
	n=$(job_name "$j")
	: > "$LOGS/$n.r"
	t0=$(date +%s)
	case $j in
	served/*)
		ARBITER_SERVED=1 RESULTS=$LOGS/$n.r bash "tests/cli/${j#served/}.sh" > "$LOGS/$n.log" 2>&1 ||
			echo "fail $j exited $?" >> "$LOGS/$n.r" ;;
	*)
		RESULTS=$LOGS/$n.r bash "$j" > "$LOGS/$n.log" 2>&1 || echo "fail $j exited $?" >> "$LOGS/$n.r" ;;
	esac
	echo $(( $(date +%s) - t0 )) > "$LOGS/$n.t"
}
served=$(sed 's/#.*//' tests/cli/served.list | xargs -n1 | sed 's|^|served/|')
# the longest first, so that the last to start is short
first="tests/cli/team.sh served/store served/review served/audit_record served/submit tests/cli/store.sh tests/cli/review.sh tests/cli/hook.sh"
jobs_all=$( { printf '%s\n' $first; printf '%s\n' $served; ls tests/cli/*.sh; } | awk '!seen[$0]++')
for j in $jobs_all; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	job "$j" &
done
wait
for j in $(printf '%s\n' $jobs_all | sort); do
	n=$(job_name "$j")
	p=$(grep -c '^pass' "$LOGS/$n.r") f=$(grep -c '^fail' "$LOGS/$n.r")
	if [ "$f" -ne 0 ]; then
		grep -E '^FAIL|^  (out|err|screen)\|' "$LOGS/$n.log" | cut -c1-240 | head -60
	fi
	case $j in served/*) [ "$p" -ge 10 ] || echo "fail $j: only $p checks ran served" >> "$LOGS/$n.r" ;; esac
	grep -E '^[a-z_.]+: .* (ms|ticks|s)( |$)' "$LOGS/$n.log" | grep -v '^FAIL' | head -20
	f=$(grep -c '^fail' "$LOGS/$n.r")
	case $j in served/*) label="cli ${j#served/}.sh served" ;; *) label="cli $n.sh" ;; esac
	echo "$label: $p passed, $f failed ($(cat "$LOGS/$n.t") s)"
	cat "$LOGS/$n.r" >> "$RESULTS"
done
cp=$(grep -c '^pass' "$RESULTS") cf=$(grep -c '^fail' "$RESULTS")
passed=$((passed + cp)) failed=$((failed + cf))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
