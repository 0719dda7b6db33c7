#!/bin/bash
# The attacks on codes of issue 16, each retried and refused, nothing changed,
# audited where the store can record it (data/codes.c):
# - a wrong and a replayed code get the same message; the audit tells them
#   apart, and both count;
# - --code CODE is not in /proc/PID/cmdline while the command runs (it waits
#   for the write lock another process holds), in either form;
# - a store that cannot record the attempt (a write that fails; a full disk,
#   a small tmpfs filled up) refuses the code unchecked: a right and a wrong
#   code get the same answer, nothing is recorded, and the right code still
#   works once the store can write again;
# - failing codes as someone locks them out only for that origin: here, as
#   the process's uid, another uid (setpriv, on the files) and through the
#   server bob's own identity (his token) still act.
# Runs served too (tests/cli/served.list): then every command goes through the
# suite's server, whose failures count for the owner's uid as a command's do.
. "$(dirname "$0")/../lib.sh"
FULL=$T/full
trap 'served_stop; cd /; umount -l "$FULL" 2> /dev/null; rm -rf "$T"' EXIT
clock_start
new_store
events() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
status() { q "SELECT status FROM submissions WHERE id = $1"; }
failures() { q "SELECT count(*) FROM code_failures WHERE reviewer = '$1'"; }
# pend NAME: a pending submission, its id in $ID
pend() {
	printf 'action: code.modify\nref: codes/%s\nsubmitter: agent-c\nfiles:\n  - {path: src/old.c, op: delete}\n' \
		"$1" > "$T/pend-$1.yaml"
	ID=$("$ARBITER" submit --json "$T/pend-$1.yaml" | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
	[ -n "$ID" ] || fail "submitting $1"
}
enrol alice --role admin || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
HERE="uid $(id -u)"

# --- a wrong and a replayed code: one message, two events, both counted ---
pend 1; P1=$ID
pend 2; P2=$ID
C=$(code bob)
arbiter --as bob approve "$P1" --ack --code "$C"
expect_code 0 "bob approves with a fresh code"
arbiter --as bob approve "$P2" --ack --code "$C"
expect_code 4 "the same code again is refused"
cp "$ERR" "$T/replayed"
arbiter --as bob approve "$P2" --ack --code 000000
expect_code 4 "a wrong code is refused"
if cmp -s "$ERR" "$T/replayed"; then pass "a wrong and a replayed code get the same message"
else fail "replayed: $(cat "$T/replayed"); wrong: $(cat "$ERR")"; fi
expect_err "^arbiter: code refused: wrong or already used code for bob" "which says the code was wrong or already used"
[ "$(events code.replay)" = 1 ] && [ "$(events code.failure)" = 1 ] &&
	pass "the audit tells them apart: code.replay and code.failure" ||
	fail "code.replay $(events code.replay), code.failure $(events code.failure)"
[ "$(failures bob)" = 2 ] &&
	[ "$(q "SELECT json_extract(details, '$.failures') FROM audit WHERE event = 'code.failure'")" = 2 ] &&
	pass "both count towards a lockout" || fail "bob's failures: $(failures bob)"
[ "$(status "$P2")" = pending ] && pass "and neither decided anything" || fail "status $(status "$P2")"
[ "$(q "SELECT json_extract(details, '$.origin') FROM audit WHERE event = 'code.failure'")" = "$HERE" ] &&
	pass "the failure names its origin ($HERE)" ||
	fail "origin: $(q "SELECT details FROM audit WHERE event = 'code.failure'")"

# --- --code CODE is not on the command line while the command runs ---
# The command waits for the write lock a sqlite3 shell holds for a while
# (served: the server waits for it); meanwhile its /proc/PID/cmdline is read.
for form in separate joined; do
	pend "argv-$form"
	C=$(code bob)
	sqlite3 "$DB" "BEGIN IMMEDIATE;" ".shell sleep 2" "COMMIT;" &
	LOCKER=$!
	sleep 0.3
	if [ "$form" = separate ]; then
		"$ARBITER" --as bob approve "$ID" --ack --code "$C" > "$OUT" 2> "$ERR" &
	else
		"$ARBITER" --as bob approve "$ID" --ack "--code=$C" > "$OUT" 2> "$ERR" &
	fi
	PID=$!
	sleep 0.7
	CMDLINE=$(tr '\0' ' ' < "/proc/$PID/cmdline" 2> /dev/null)
	wait "$PID"
	CODE=$?
	wait "$LOCKER"
	case "$CMDLINE" in
	*approve*) pass "the command's line is readable while it waits ($form)" ;;
	*) fail "the command was not waiting: cmdline '$CMDLINE'" ;;
	esac
	case "$CMDLINE" in
	*"$C"*) fail "--code $form: the code is in /proc/PID/cmdline: $CMDLINE" ;;
	*) pass "--code $form: the code is not in /proc/PID/cmdline" ;;
	esac
	expect_code 0 "and the code it took out of argv still decides ($form)"
done
grep -A1 '^Prefer$' "$ROOT/docs/arbiter.1" | grep -q '^\.B \\-\\-code \\-$' &&
	pass "the manual says to prefer --code - or the prompt" || fail "arbiter.1 says nothing of --code -"

# --- a store that cannot record the attempt checks no code ---
# unrecorded DESC SETUP UNDO: with SETUP done, a right ($RIGHT) and a wrong
# code of $WHO for $P are refused alike, and once UNDO is done the store shows
# that they recorded nothing and decided nothing. (The database is read only
# before and after: a sqlite3 shell closing it would checkpoint the log and
# free the room that a full disk lacks.)
unrecorded() {
	local before_f before_a
	before_f=$(q "SELECT count(*) FROM code_failures") before_a=$(q "SELECT count(*) FROM audit")
	$2
	arbiter --as "$WHO" approve "$P" --ack --code "$RIGHT"
	expect_code 4 "$1: the right code is refused"
	cp "$ERR" "$T/right"
	arbiter --as "$WHO" approve "$P" --ack --code 000000
	expect_code 4 "$1: a wrong code is refused"
	$3
	if cmp -s "$ERR" "$T/right"; then pass "$1: a right and a wrong code get the same answer"
	else fail "$1: right: $(cat "$T/right"); wrong: $(cat "$ERR")"; fi
	expect_err 'code refused unchecked: the attempt cannot be recorded' "$1: the answer says why"
	[ "$(q "SELECT count(*) FROM code_failures")" = "$before_f" ] &&
		[ "$(q "SELECT count(*) FROM audit")" = "$before_a" ] && [ "$(status "$P")" = pending ] &&
		pass "$1: nothing is recorded, nothing decided" ||
		fail "$1: failures $before_f -> $(q "SELECT count(*) FROM code_failures"), events $before_a -> $(q "SELECT count(*) FROM audit"), status $(status "$P")"
}
# any write that fails: a trigger stands for it
pend unwritable; P=$ID
WHO=bob RIGHT=$(code bob)
cannot_write() {
	q "CREATE TRIGGER cannot_write BEFORE INSERT ON code_failures BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
}
can_write() { q "DROP TRIGGER cannot_write"; }
unrecorded "a store whose writes fail" cannot_write can_write
arbiter --as bob approve "$P" --ack --code "$RIGHT"
expect_code 0 "once it writes again, the same right code is accepted: it was never used"

# a full disk: a store on a small tmpfs, filled up
served_stop
cd "$T" || exit 1
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=16m arbiter-codes "$FULL"; then
	fail "cannot mount a tmpfs for the full disk (the suite runs as root)"
else
	"$ARBITER" init "$FULL" > /dev/null || fail "init on the tmpfs"
	cd "$FULL" || exit 1
	H=$FULL/.arbiter DB=$FULL/.arbiter/arbiter.db
	served && served_start
	enrol carol --role admin || fail "enrol carol"
	enrol dave --as carol --code "$(code carol)" || fail "enrol dave"
	pend full; P=$ID
	WHO=dave RIGHT=$(code dave)
	fill() {
		# a store in use has its log (the sqlite3 shell above removed it)
		"$ARBITER" reviewer list > /dev/null
		dd if=/dev/zero of="$FULL/fill" bs=64k 2> /dev/null
		dd if=/dev/zero of="$FULL/fill2" bs=4k 2> /dev/null
		[ "$(df --output=avail "$FULL" | tail -1 | tr -d ' ')" = 0 ] && pass "the disk is full" ||
			fail "the tmpfs still has room: $(df "$FULL" | tail -1)"
	}
	unfill() { rm -f "$FULL/fill" "$FULL/fill2"; }
	unrecorded "a full disk" fill unfill
	expect_err 'disk is full' "a full disk: the answer has the store's own words"
	arbiter --as dave approve "$P" --ack --code "$RIGHT"
	expect_code 0 "room again: the same right code is accepted, it was never used"
	served_stop
	cd "$T" || exit 1
	umount -l "$FULL" || fail "unmounting the tmpfs"
fi

# --- a lockout holds for the origin of its failures ---
# a store of its own, on files another uid may use too
rm -rf "$T/s"
new_store
enrol alice --role admin || fail "enrol alice"
enrol bob --as alice --token --code "$(code alice)" || fail "enrol bob"
(umask 077; sed -n 's/^token: //p' "$T/enrol.bob" > "$T/bob.token")
pend lock-1; L1=$ID
pend lock-2; L2=$ID
for _ in 1 2 3 4 5; do
	arbiter --as bob approve "$L1" --ack --code 000000
done
expect_err "bob is now locked out from $HERE for 15 minutes" "five wrong codes as bob lock bob out from $HERE"
[ "$(q "SELECT origin FROM code_lockouts WHERE reviewer = 'bob'")" = "$HERE" ] &&
	[ "$(q "SELECT json_extract(details, '$.origin') FROM audit WHERE event = 'reviewer.lockout'")" = "$HERE" ] &&
	pass "the lockout and its event name the origin" ||
	fail "lockouts: $(q "SELECT * FROM code_lockouts")"
arbiter --as bob approve "$L1" --ack --code "$(code bob)"
expect_code 4 "from $HERE even bob's right code is refused"
expect_err "bob is locked out from $HERE" "as locked out"
if served; then
	# bob himself, by his token: the server takes the call for reviewer bob
	[ -s "$T/bob.token" ] || fail "bob's token was not printed"
	arbiter --token-file "$T/bob.token" --as bob approve "$L1" --ack --code "$(code bob)"
	expect_code 0 "bob, as himself through the server, is not locked out"
	arbiter --token-file "$T/bob.token" --as bob approve "$L2" --ack --code 000000
	expect_code 4 "his own wrong code is his own failure"
	[ "$(q "SELECT json_extract(details, '$.origin') || ' ' || json_extract(details, '$.failures') FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1")" = "reviewer bob 1" ] &&
		pass "counted from his origin, one failure" ||
		fail "bob's failure: $(q "SELECT details FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1")"
elif [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null; then
	fail "codes.sh runs as root with setpriv, to take another uid"
else
	# another uid on the same files: its own origin
	OTHER=4300
	chmod 711 "$T"
	chown -R "$OTHER" "$T/s"
	as_other() {
		run setpriv --reuid "$OTHER" --regid "$OTHER" --clear-groups "$ARBITER" "$@"
	}
	as_other --as bob approve "$L1" --ack --code "$(code bob)"
	expect_code 0 "from uid $OTHER bob is not locked out"
	chown -R "$OTHER" "$T/s"
	as_other --as bob approve "$L2" --ack --code 000000
	expect_code 4 "a wrong code from uid $OTHER is refused"
	[ "$(q "SELECT json_extract(details, '$.origin') || ' ' || json_extract(details, '$.failures') FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1")" = "uid $OTHER 1" ] &&
		pass "and counted from uid $OTHER, one failure" ||
		fail "uid $OTHER's failure: $(q "SELECT details FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1")"
	chown -R "$(id -u)" "$T/s"
fi
arbiter --as bob approve "$L2" --ack --code "$(code bob)"
expect_code 4 "from $HERE bob is still locked out"
[ "$(status "$L2")" = pending ] && pass "and decided nothing there" || fail "status $(status "$L2")"
arbiter reviewer list --json
expect_out '"name":"bob",.*"locked_until":"' "reviewer list shows the lockout in force"
arbiter audit verify
expect_code 0 "the chain verifies after it all"
