#!/bin/bash
# The clock seam (engine/clock.c): every "now" comes from now_ms(), the only
# reader of the wall clock. The test build takes it from ARBITER_TEST_NOW
# (Unix milliseconds, or a file holding them, read at every call) and stops
# on a value that is neither; the release build ignores the variable and
# does not even contain its name.
. "$(dirname "$0")/../lib.sh"
RELEASE=$ROOT/build/release/arbiter
cd "$T" || exit 1
export ARBITER_HOME=
first_ts() { sqlite3 "$1/.arbiter/arbiter.db" "SELECT ts FROM audit ORDER BY seq DESC LIMIT 1"; }

# --- the test build ---
ARBITER_TEST_NOW=1893456000123 arbiter init "$T/a"
expect_code 0 "init with the test clock set"
[ "$(first_ts "$T/a")" = 2030-01-01T00:00:00.123Z ] && pass "the test build stamps the time ARBITER_TEST_NOW sets" \
	|| fail "store.init stamped $(first_ts "$T/a")"
clock_set 1893459600000
ARBITER_TEST_NOW=$T/now arbiter --home "$T/a" audit checkpoint --out "$T/cp.txt"
expect_code 0 "a checkpoint with the clock in a file"
grep -q '^time: 2030-01-01T01:00:00.000Z$' "$T/cp.txt" && [ "$(first_ts "$T/a")" = 2030-01-01T01:00:00.000Z ] \
	&& pass "a file's clock is read: the checkpoint and its event carry its time" || fail "checkpoint time: $(grep time: "$T/cp.txt")"
clock_set 1893463200000
ARBITER_TEST_NOW=$T/now arbiter --home "$T/a" audit checkpoint --out "$T/cp2.txt"
grep -q '^time: 2030-01-01T02:00:00.000Z$' "$T/cp2.txt" && pass "moving the file's clock moves now" \
	|| fail "after the move: $(grep time: "$T/cp2.txt")"
for bad in soon 12x -5 "$T/no-such-file"; do
	ARBITER_TEST_NOW=$bad arbiter --home "$T/a" list
	expect_code 70 "ARBITER_TEST_NOW=$bad stops the test build"
	expect_err "ARBITER_TEST_NOW=$bad: " "the message names the bad setting $bad"
done
clock_set "not a time"
ARBITER_TEST_NOW=$T/now arbiter --home "$T/a" list
expect_code 70 "a clock file that holds no time stops the test build"
ARBITER_TEST_NOW= arbiter --home "$T/a" audit checkpoint --out "$T/cp3.txt"
year=$(date -u +%Y)
grep -q "^time: $year-" "$T/cp3.txt" && pass "an empty ARBITER_TEST_NOW leaves the real clock" || fail "$(grep time: "$T/cp3.txt")"

# --- the release build ---
if [ ! -x "$RELEASE" ]; then
	fail "$RELEASE is missing (make test builds it)"
else
	before=$(date -u +%s)
	ARBITER_TEST_NOW=1893456000123 run "$RELEASE" init "$T/r"
	expect_code 0 "the release build's init"
	ts=$(first_ts "$T/r")
	t=$(date -u -d "$ts" +%s 2> /dev/null || echo 0)
	[ "$t" -ge $((before - 1)) ] && [ "$t" -le $(($(date -u +%s) + 1)) ] \
		&& pass "the release build ignores ARBITER_TEST_NOW (store.init at $ts)" || fail "the release build stamped $ts"
	ARBITER_TEST_NOW=$T/no-such-file run "$RELEASE" --home "$T/r" list
	expect_code 0 "the release build does not even read a clock file"
	grep -q ARBITER_TEST_NOW "$RELEASE" && fail "the release binary contains ARBITER_TEST_NOW" \
		|| pass "the release binary does not contain the test clock"
	grep -q ARBITER_TEST_NOW "$ARBITER" && pass "the test binary does (so the check above can fail)" \
		|| fail "the test binary lacks ARBITER_TEST_NOW"
fi

# --- one reader of the wall clock ---
cd "$ROOT" || exit 1
bad=$(grep -nE '\btime\((NULL|0|&)|CLOCK_REALTIME|gettimeofday|\bftime\(' engine/*.c data/*.c tui/*.c tui/*/*.c |
	grep -v '^engine/clock\.c:')
[ -z "$bad" ] && pass "only engine/clock.c reads the wall clock" || fail "the wall clock is read outside engine/clock.c: $bad"
