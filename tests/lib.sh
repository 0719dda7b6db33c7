# tests/lib.sh: helpers for the command-line tests, sourced by tests/cli/*.sh.
#
#   run CMD...              runs a command; its exit code, stdout and stderr
#                           land in $CODE, $OUT and $ERR (files)
#   expect_code N DESC      the last run exited N
#   expect_out REGEX DESC   its stdout matches (grep -E)
#   expect_err REGEX DESC   its stderr matches
#   expect_no_out REGEX DESC, expect_no_err REGEX DESC: they do not match
#   pass DESC / fail DESC   record a result directly
#   new_store               a fresh store at $T/s, found from $T/s (the
#                           current directory after it); H is its .arbiter,
#                           DB its database, and q SQL runs SQL on it
#   served                  true when the suite runs served (below)
#   clock_start, clock_now, clock_advance: the test clock (below)
#   enrol NAME, code NAME, pin NAME: reviewers and their codes (below)
# Every check appends "pass ..." or "fail ..." to $RESULTS, which
# tests/run.sh counts. Sanitizer reports on stderr fail the run that made them.
#
# ARBITER_SERVED=1 runs a suite served (tests/cli/served.sh): new_store also
# starts arbiter serve on the new store, so that every command the suite
# runs on it finds the server on the store's socket and goes through it
# (PRODUCT.md section 9), and the server stops when the suite ends (its
# sanitizer reports fail the suite). The same checks then prove that both
# modes give the same output and exit codes. A served suite's commands hold
# the store's public key ($ARBITER_PUBKEY), so every allow the server
# answers is checked against its signed events by the client too.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${ARBITER:=$ROOT/build/asan/arbiter}"
: "${RESULTS:=/dev/null}"
T=$(mktemp -d)
SERVED_PID=
trap 'served_stop; rm -rf "$T"' EXIT
OUT=$T/out ERR=$T/err CODE=0
SCRIPT=$(basename "$0" .sh)

pass() { echo "pass $SCRIPT: $1" >> "$RESULTS"; }
fail() {
	echo "fail $SCRIPT: $1" >> "$RESULTS"
	echo "FAIL $SCRIPT: $1" >&2
	[ -s "$OUT" ] && sed 's/^/  out| /' "$OUT" | head -20 >&2
	[ -s "$ERR" ] && sed 's/^/  err| /' "$ERR" | head -20 >&2
	return 0
}

run() {
	"$@" > "$OUT" 2> "$ERR"
	CODE=$?
	if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$ERR"; then
		fail "sanitizer report from: $*"
	fi
}

arbiter() { run "$ARBITER" "$@"; }

expect_code() {
	if [ "$CODE" -eq "$1" ]; then pass "$2"; else fail "$2 (exit $CODE, expected $1)"; fi
}
expect_out() { if grep -qE -- "$1" "$OUT"; then pass "$2"; else fail "$2 (stdout lacks /$1/)"; fi; }
expect_err() { if grep -qE -- "$1" "$ERR"; then pass "$2"; else fail "$2 (stderr lacks /$1/)"; fi; }
expect_no_out() { if grep -qE -- "$1" "$OUT"; then fail "$2 (stdout has /$1/)"; else pass "$2"; fi; }
expect_no_err() { if grep -qE -- "$1" "$ERR"; then fail "$2 (stderr has /$1/)"; else pass "$2"; fi; }

new_store() {
	cd "$T" || exit 1
	export ARBITER_HOME=
	served_stop
	"$ARBITER" init "$T/s" > /dev/null || fail "init"
	cd "$T/s" || exit 1
	H=$T/s/.arbiter
	DB=$H/arbiter.db
	if served; then
		export ARBITER_PUBKEY=$H/keys/audit-1.pub
		served_start
	fi
}

served() { [ "${ARBITER_SERVED:-}" = 1 ]; }
# After a suite rewrote the database under the server (an older schema to
# upgrade), a served suite starts its server again: the server then opens
# the store as a command opens it embedded.
served_restart() { if served; then served_stop; served_start; fi; }
# After a suite edited the policy files or config.yaml, a served suite has
# its server read them again (SIGHUP, PRODUCT.md section 9), as the next
# command reads them embedded; it waits for the server to say it did.
served_reload() {
	served || return 0
	local before
	before=$(grep -c 'reload' "$T/served.log")
	kill -HUP "$SERVED_PID"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'reload' "$T/served.log")" -gt "$before" ] && return 0
		sleep 0.05
	done
	fail "the suite's server did not reload"
}
# The server of a served suite, on the store just made (its log in
# $T/served.log), and its end. It is not a child of the suite's shell, so
# that a suite's own `wait` does not wait for it.
served_start() {
	( "$ARBITER" serve > /dev/null 2>> "$T/served.log" & echo $! > "$T/served.pid" )
	SERVED_PID=$(cat "$T/served.pid")
	for _ in $(seq 1 200); do
		kill -0 "$SERVED_PID" 2>/dev/null || break
		curl -s --unix-socket "$H/arbiter.sock" -o /dev/null http://arbiter/health 2>/dev/null &&
			return 0
		sleep 0.05
	done
	fail "the suite's server did not start: $(tail -3 "$T/served.log")"
}
served_stop() {
	[ -n "$SERVED_PID" ] || return 0
	# a server gone before it was asked to stop has failed the suite, even
	# when the commands after it ran on the store embedded
	kill -TERM "$SERVED_PID" 2>/dev/null ||
		echo "fail $SCRIPT: the suite's server stopped on its own: $(tail -3 "$T/served.log" | tr '\n' ' ')" >> "$RESULTS"
	# until it is gone (a sanitizer's leak check at exit takes a while): a
	# server still stopping would unlink the next one's socket
	for _ in $(seq 1 1200); do
		kill -0 "$SERVED_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$SERVED_PID" 2>/dev/null && fail "the suite's server did not stop"
	SERVED_PID=
	if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$T/served.log"; then
		echo "fail $SCRIPT: sanitizer report from the suite's server: $(grep -m1 -E 'ERROR|runtime error' "$T/served.log")" >> "$RESULTS"
	fi
}
# q SQL: the test's own reads and writes of the store, beside a server that
# may hold a lock a moment (its checkpoints): waited for, not failed
q() { sqlite3 -cmd ".timeout 10000" "$DB" "$1"; }
# quota_sums_off: how many of the quota sums the store keeps (per policy,
# per value, unit and start) differ from the sums of the uses stored of the
# submissions that count (not blocked, not rejected): 0 when they agree
quota_sums_off() {
	q "WITH usage AS (SELECT policy, per_value IS NOT NULL AS has_per, ifnull(per_value, '') AS per,
	    unit, at_ms / 1000 / unit AS start, total(amount) AS amount
	    FROM quota_usage u JOIN submissions s ON s.id = u.submission_id,
	      (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL SELECT 3600 UNION ALL SELECT 86400)
	    WHERE s.status NOT IN ('blocked', 'rejected') GROUP BY 1, 2, 3, 4, 5)
	  SELECT (SELECT count(*) FROM (SELECT * FROM usage EXCEPT SELECT * FROM quota_totals)) +
	    (SELECT count(*) FROM (SELECT * FROM quota_totals EXCEPT SELECT * FROM usage))"
}
# free_port: a TCP port for a test's server on 127.0.0.1 that nothing holds:
# below the kernel's ephemeral range (where the clients of the suites that
# run beside this one take their ports, and keep them in TIME_WAIT) and in
# no socket of /proc/net/tcp, listening or not. A random port could be one
# another suite's server or client holds, and the server would not start.
free_port() {
	local lo p
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 21000 ] || lo=30000
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % (lo - 20000)))
		grep -q ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2> /dev/null || break
	done
	echo "$p"
}

# The test clock (the test build reads "now" from ARBITER_TEST_NOW:
# engine/clock.c). clock_start [UNIX_S] points every arbiter started from here
# on at the file $T/now, set to UNIX_S (default 2030-01-01T00:00:00Z);
# clock_now prints it (Unix seconds) and clock_advance SECONDS moves it on,
# also for processes already running. now_s is clock_now, or the real time
# when the clock was not started (the release build under valgrind).
# clock_set TEXT puts TEXT in the file whole (a new file renamed over the
# old): a server reading it at that moment must never find it empty, which
# the test build takes for a broken clock and stops on.
clock_set() { echo "$1" > "$T/now.new" && mv -f "$T/now.new" "$T/now"; }
clock_start() {
	clock_set "$(( ${1:-1893456000} * 1000 ))"
	export ARBITER_TEST_NOW=$T/now
}
clock_now() { echo "$(( $(cat "$T/now") / 1000 ))"; }
clock_advance() { clock_set "$(( $(cat "$T/now") + $1 * 1000 ))"; }
now_s() { if [ -n "${ARBITER_TEST_NOW:-}" ]; then clock_now; else date +%s; fi; }

# Reviewers and their codes. enrol NAME [ARGS...] runs arbiter reviewer add
# NAME ARGS (as --as whoever the ARGS say) and keeps the printed secret; code
# NAME prints a code, from oathtool at the same time as arbiter's, for a time
# step NAME has not used yet (arbiter refuses a used or older step): the step
# before (accepted within the window), else the current one, else the next;
# when NAME has used all three, the test clock moves on a step. So each
# reviewer has three codes at once. With the real clock the step before is
# used only in the first 10 s of a step (so that a code is still good 20 s
# later, for a slow command under valgrind), and a third or fourth code may
# wait for the next step.
enrol() {
	local name=$1
	shift
	if ! "$ARBITER" reviewer add "$name" "$@" > "$T/enrol.$name" 2>&1; then
		# what it said is what the suite's failure shows
		: > "$OUT"
		cp "$T/enrol.$name" "$ERR"
		return 1
	fi
	sed -n 's/^secret (base32): //p' "$T/enrol.$name" > "$T/secret.$name"
	[ -s "$T/secret.$name" ]
}
code() {
	local name=$1 t now step last
	# one reading of the clock: a second reading could fall in the next step
	t=$(now_s)
	now=$((t / 30))
	last=$(cat "$T/step.$name" 2>/dev/null || echo 0)
	step=$((now - 1))
	[ -z "${ARBITER_TEST_NOW:-}" ] && [ $((t % 30)) -ge 10 ] && step=$now
	[ "$step" -le "$last" ] && step=$((last + 1))
	if [ "$step" -gt $((now + 1)) ]; then
		if [ -n "${ARBITER_TEST_NOW:-}" ]; then
			clock_advance 30
		else
			sleep $(( (step - 1) * 30 - $(date +%s) + 1 ))
		fi
	fi
	echo "$step" > "$T/step.$name"
	oathtool --totp -b "$(cat "$T/secret.$name")" -N "@$((step * 30))"
}
# pin NAME: pins the store's policy files as NAME, an admin enrolled by enrol.
pin() {
	"$ARBITER" --as "$1" policy pin --justification "a test changes the pinned policies" \
		--code "$(code "$1")" > /dev/null 2>&1
}
