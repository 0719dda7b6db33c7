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
# Every check appends "pass ..." or "fail ..." to $RESULTS, which
# tests/run.sh counts. Sanitizer reports on stderr fail the run that made them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${ARBITER:=$ROOT/build/asan/arbiter}"
: "${RESULTS:=/dev/null}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
	"$ARBITER" init "$T/s" > /dev/null || fail "init"
	cd "$T/s" || exit 1
	H=$T/s/.arbiter
	DB=$H/arbiter.db
}
q() { sqlite3 "$DB" "$1"; }

# Reviewers and their codes. enrol NAME [ARGS...] runs arbiter reviewer add
# NAME ARGS (as --as whoever the ARGS say) and keeps the printed secret; code
# NAME prints a code, from oathtool, for a time step NAME has not used yet
# (arbiter refuses a used or older step): the step before (accepted within
# the window, for the first 20 s of a step), else the current one, else the next, else it waits for the
# step to come round. So each reviewer has three codes at once.
enrol() {
	local name=$1
	shift
	"$ARBITER" reviewer add "$name" "$@" > "$T/enrol.$name" 2>&1 || return 1
	sed -n 's/^secret (base32): //p' "$T/enrol.$name" > "$T/secret.$name"
	[ -s "$T/secret.$name" ]
}
code() {
	local name=$1 now step last
	now=$(( $(date +%s) / 30 ))
	last=$(cat "$T/step.$name" 2>/dev/null || echo 0)
	step=$now
	# the step before is still accepted (window 1): use it early in this one
	[ $(( $(date +%s) % 30 )) -lt 20 ] && step=$((now - 1))
	[ "$step" -le "$last" ] && step=$((last + 1))
	if [ "$step" -gt $((now + 1)) ]; then
		sleep $(( (step - 1) * 30 - $(date +%s) + 1 ))
	fi
	echo "$step" > "$T/step.$name"
	oathtool --totp -b "$(cat "$T/secret.$name")" -N "@$((step * 30))"
}
# pin NAME: pins the store's policy files as NAME, an admin enrolled by enrol.
pin() {
	"$ARBITER" --as "$1" policy pin --justification "a test changes the pinned policies" \
		--code "$(code "$1")" > /dev/null 2>&1
}
