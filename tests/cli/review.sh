#!/bin/bash
# Reviewers, codes and decisions end to end (PRODUCT.md sections 4, 5 and 7):
# enrolment (secret, URI, QR; the secret in users.oath only), the first admin,
# reviewer list and disable; approve, reject and override with their rules
# (pending/blocked only, --ack, --reason, justification length, max_duration,
# expiry, self-approval, the role and the two-person rule); codes (real ones
# from oathtool, --code -, no terminal, replays, wrong codes, lockout); two
# reviewers racing; policy integrity (tampering, re-pin, reevaluate) and
# disabled enforcement; wait; and a chain that still verifies.
#
# A code (time step) is accepted once per reviewer, and only within one step
# of now: code NAME hands out the next unused step of NAME (from one step
# back to one ahead: three in a burst), and moves the test clock on a step
# when NAME has used all three. Every arbiter here reads the test clock
# (clock_start, tests/lib.sh), so expiries and the lockout are reached by
# moving it, never by waiting.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
clock_start
new_store
events() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
status() { q "SELECT status FROM submissions WHERE id = $1"; }
id_of() { grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2; }

# --- codes ---
declare -A SECRET LAST
# The step code NAME would use now: the oldest still accepted (one step
# back) after the last one NAME used.
next_step() {
	local now
	now=$(( $(clock_now) / 30 ))
	S=$(( ${LAST[$1]:-0} + 1 ))
	[ "$S" -lt $(( now - 1 )) ] && S=$(( now - 1 ))
	[ "$S" -le $(( now + 1 )) ]
}
# code NAME: a fresh code of NAME in $C, its step recorded as used.
code() {
	next_step "$1" || { clock_advance 30; next_step "$1"; }
	LAST[$1]=$S
	C=$(oathtool --totp -b "${SECRET[$1]}" -N "@$(( S * 30 ))")
}
# peek NAME: the code NAME would give now, without using it: for commands
# refused before the code is checked (they must not use up the step).
peek() {
	next_step "$1" || S=$(( $(clock_now) / 30 ))
	C=$(oathtool --totp -b "${SECRET[$1]}" -N "@$(( S * 30 ))")
}
# seconds from the test clock's now to a stored time (RFC 3339)
left_until() {
	q "SELECT CAST(round((julianday($1) - julianday($(clock_now), 'unixepoch')) * 86400) AS INTEGER) $2"
}
# enrol NAME ARGS...: reviewer add; its secret into SECRET[NAME]
enrol() {
	local name=$1; shift
	arbiter reviewer add "$name" "$@"
	SECRET[$name]=$(sed -n 's/^secret (base32): //p' "$OUT")
}

# --- enrolment ---
arbiter --as bob reviewer add bob
expect_code 4 "the first reviewer must be an admin"
expect_err 'no admin yet: the first reviewer must be one' "the refusal says the first must be an admin"
[ "$(q "SELECT count(*) FROM reviewers")" -eq 0 ] && [ ! -s "$H/users.oath" ] \
	&& pass "the refused first reviewer is not enrolled" || fail "a refused first reviewer was stored"

enrol alice --as alice --role admin
expect_code 0 "the first admin is enrolled without a code"
expect_out '^enrolled alice as admin' "add names the reviewer and role"
expect_out '^secret \(base32\): [A-Z2-7]{32}$' "add prints the base32 secret"
expect_out "otpauth://totp/arbiter:alice\?secret=${SECRET[alice]}&issuer=arbiter" "add prints the otpauth:// URI with the same secret"
expect_out '█' "add draws the QR code"
hex=$(printf '%s' "${SECRET[alice]}" | base32 -d | xxd -p | tr -d '\n')
[ "$(stat -c %a "$H/users.oath")" = 600 ] && pass "users.oath is mode 0600" || fail "users.oath is mode $(stat -c %a "$H/users.oath")"
grep -qE "^HOTP/T30(/6)?[[:space:]]+alice[[:space:]]+-[[:space:]]+$hex\$" "$H/users.oath" \
	&& pass "users.oath holds alice's secret (usersfile format)" || fail "users.oath lacks alice's secret"
[ "$(sqlite3 "$DB" .dump | grep -ci -e "$hex" -e "${SECRET[alice]}")" -eq 0 ] \
	&& pass "the database holds no secret" || fail "the secret is in the database"
[ "$(events reviewer.add)" -eq 1 ] && pass "reviewer.add is audited" || fail "reviewer.add events: $(events reviewer.add)"

arbiter --as alice reviewer add erin --role admin < /dev/null
expect_code 2 "a second reviewer without a code and no terminal is refused"
expect_err 'code is needed: --code CODE, or --code -' "the error says to use --code"
arbiter --as alice reviewer add erin --role admin --code 12345
expect_code 4 "a malformed code is refused"
expect_err 'code refused: wrong or already used code for alice' "the refusal says the code is wrong"

code alice; enrol erin --role admin --as alice --code "$C"
expect_code 0 "an admin's code enrols a second admin"
code alice; enrol grace --role admin --as alice --code "$C"
expect_code 0 "an admin's code enrols a third admin"
code erin; enrol bob --as erin --code "$C"
expect_code 0 "a second admin enrols a reviewer"
expect_out '^enrolled bob as reviewer' "the default role is reviewer"
code erin; enrol carol --as erin --code "$C"
code grace; enrol dave --role admin --as grace --code "$C"
code grace; enrol frank --as grace --code "$C"
code grace; enrol heidi --role admin --as grace --code "$C"
expect_code 0 "eight reviewers are enrolled"
[ "${#SECRET[@]}" -eq 8 ] && [ "$(grep -c . "$H/users.oath")" -eq 8 ] \
	&& pass "users.oath has one line per reviewer" || fail "users.oath has $(grep -c . "$H/users.oath") lines"

peek bob; arbiter --as bob reviewer add zed --code "$C"
expect_code 4 "a reviewer who is not an admin cannot add reviewers"
expect_err 'only an enabled admin may change reviewers; bob is not an admin' "the refusal names the missing role"
code heidi; arbiter --as heidi reviewer add bob --code "$C"
expect_code 4 "an existing name cannot be enrolled again"
expect_err 'already exists' "the refusal says the reviewer exists"

arbiter reviewer list
expect_code 0 "reviewer list exits 0"
expect_out '^NAME +ROLE' "reviewer list has a header"
expect_out '^alice +admin ' "reviewer list shows alice as admin"
expect_out '^bob +reviewer ' "reviewer list shows bob as reviewer"
expect_no_out "${SECRET[bob]}" "reviewer list shows no secret"
arbiter reviewer list --json
expect_code 0 "reviewer list --json exits 0"
[ "$(grep -c '^{"name":"[a-z]*","role":"\(admin\|reviewer\)"' "$OUT")" -eq 8 ] \
	&& pass "reviewer list --json prints one object per reviewer" || fail "reviewer list --json"
expect_out '^\{"name":"carol","role":"reviewer",.*"disabled":false\}$' "the JSON says whether a reviewer is disabled"

# --- submissions for the decisions ---
# pend NAME [SUBMITTER]: a pending proposal (deleting a file, one warning)
pend() {
	printf 'action: code.modify\nref: pend/%s\nsubmitter: %s\nfiles:\n  - {path: src/old.c, op: delete}\n' \
		"$1" "${2:-agent-p}" > "$T/pend-$1.yaml"
	arbiter submit --json "$T/pend-$1.yaml"
	ID=$(id_of)
}
# complex NAME: blocked by max_complexity (a reviewer may override, max 8h)
complex() {
	printf 'action: code.modify\nref: cx/%s\nsubmitter: agent-c\ncomplexity: 50\n' "$1" > "$T/cx-$1.yaml"
	arbiter submit --json "$T/cx-$1.yaml"
	ID=$(id_of)
}

arbiter submit --json "$EX/submissions/code-04-cleanup.yaml"
expect_code 3 "code-04 is waiting"
expect_out '"status":"pending".*"warning":2' "code-04 is pending with two warnings"
WARN=$(id_of)
pend 1; P1=$ID
expect_out '"status":"pending"' "a pending proposal for the decisions"
complex 1; X1=$ID
expect_out '"status":"blocked"' "a blocked proposal (max_complexity)"
complex 2; X2=$ID
arbiter submit --json "$EX/submissions/rom-02-header-patch.yaml"
ROM=$(id_of)
expect_out '"status":"blocked"' "rom-02 is blocked (two admins to override)"
printf 'action: code.modify\nref: hard/1\nsubmitter: agent-h\nfiles:\n  - {path: budget.yaml, op: modify}\n' > "$T/hard.yaml"
arbiter submit --json "$T/hard.yaml"
HARD=$(id_of)
expect_out '"policy":"protected_policy_files".*"overridable":false' "a blocked proposal that may not be overridden"

# --- approve ---
peek bob; arbiter --as bob approve "$WARN" --code "$C"
expect_code 4 "approving a submission with warnings without --ack is refused"
expect_err "submission $WARN has 2 warnings: approve with --ack" "the refusal asks for --ack"
[ "$(status "$WARN")" = pending ] && pass "the refused approval changes nothing" || fail "status $(status "$WARN")"
peek bob; arbiter --as bob approve "$X1" --ack --code "$C"
expect_code 4 "approving a blocked submission is refused"
expect_err 'approve takes a pending submission' "the refusal says approve takes a pending one"
code bob; arbiter --as bob approve "$WARN" --ack --note "looked at the diff" --code "$C"
expect_code 0 "approve --ack with bob's code exits 0"
expect_out "^submission $WARN approved by bob$" "approve reports the decision"
[ "$(status "$WARN")" = approved ] && pass "the submission is approved" || fail "status $(status "$WARN")"
q "SELECT actor || ' ' || details FROM audit WHERE event = 'decision.approve' AND subject = '$WARN'" | grep -q '^bob .*"acknowledged_warnings":true' \
	&& pass "decision.approve is audited with the acknowledgement" || fail "no decision.approve event"
peek carol; arbiter --as carol approve "$WARN" --ack --code "$C"
expect_code 4 "approving an approved submission is refused"
expect_err "already approved by bob" "the refusal names who approved it"

# --- reject ---
arbiter --as carol reject "$P1" --code 000000
expect_code 2 "reject without --reason is a usage error"
expect_err 'needs --reason' "the error asks for --reason"
code carol; arbiter --as carol reject "$P1" --reason "deletes a file still in use" --code "$C"
expect_code 0 "reject --reason exits 0"
expect_out "^submission $P1 rejected by carol$" "reject reports the decision"
[ "$(status "$P1")" = rejected ] && [ "$(events decision.reject)" -eq 1 ] \
	&& pass "the rejection is stored and audited" || fail "rejection: $(status "$P1"), $(events decision.reject) events"
arbiter show "$P1"
expect_code 4 "show of a rejected submission exits 4"
expect_out "^submission $P1: rejected" "show says rejected"
expect_out 'deletes a file still in use' "show gives the reason"

# --- override ---
failures_before=$(events code.failure)
peek dave; arbiter --as dave override "$P1" --justification "this one is fine, I checked it all" --code "$C"
expect_code 4 "overriding a decided submission is refused"
expect_err "already rejected by carol" "the refusal names who decided it"
pend 2; P2=$ID
peek dave; arbiter --as dave override "$P2" --justification "pending submissions are approved instead" --code "$C"
expect_code 4 "overriding a pending submission is refused"
expect_err 'override takes a blocked submission' "the refusal says override takes a blocked one"
arbiter --as dave override "$X1" --code 000000
expect_code 2 "override without --justification is a usage error"
expect_err 'needs --justification' "the error asks for --justification"
peek dave; arbiter --as dave override "$X1" --justification "too short" --code "$C"
expect_code 4 "a justification under 20 characters is refused"
expect_err 'the justification has 9 characters; at least 20 are required' "the refusal gives the length and the minimum"
peek dave; arbiter --as dave override "$X1" --expires 9h --justification "complexity is in generated code only" --code "$C"
expect_code 4 "an expiry beyond max_duration is refused"
expect_err 'policy max_complexity allows an override of at most 8h ' "the refusal names the policy and its max_duration"
peek dave; arbiter --as dave override "$HARD" --justification "the budget file needs this update" --code "$C"
expect_code 4 "a finding that may not be overridden is refused"
expect_err 'finding protected_policy_files may not be overridden' "the refusal names the finding"
[ "$(status "$X1")" = blocked ] && [ "$(events code.failure)" -eq "$failures_before" ] \
	&& pass "refused overrides change nothing and use no code" || fail "X1 $(status "$X1"), $(events code.failure) failures (was $failures_before)"
code dave; arbiter --as dave override "$X1" --justification "complexity is in generated code only" --code "$C"
expect_code 0 "an override with a code and a justification exits 0"
expect_out "^submission $X1 overridden by dave until " "override reports the expiry"
[ "$(status "$X1")" = overridden ] && pass "the submission is overridden" || fail "status $(status "$X1")"
left=$(left_until expires_at "FROM submissions WHERE id = $X1")
[ "$left" -eq 28800 ] \
	&& pass "the default 24h is capped silently at max_duration 8h (expires_at recorded)" || fail "expires in ${left}s, expected 8h"
q "SELECT details FROM audit WHERE event = 'override.grant' AND subject = '$X1'" | grep '"expires_at":"' | grep -q '"justification":"complexity is in generated code only"' \
	&& pass "override.grant is audited with its justification and expiry" || fail "no override.grant event"
arbiter show "$X1"
expect_code 0 "show of an overridden submission exits 0"
expect_out '^  expires +[0-9]{4}-' "show prints the expiry"

code carol; arbiter --as carol override "$X2" --expires 1s --justification "a one-second window for the test" --code "$C"
expect_code 0 "an override with --expires 1s exits 0"
arbiter list
expect_no_out "^ *$X2 .*expired" "until its expiry the override does not list as expired"
clock_advance 1
arbiter list
expect_out "^ *$X2 .*expired" "after its expiry the override lists as expired"
arbiter list --status expired --json
expect_out "\"id\":$X2,.*\"status\":\"expired\"" "list --status expired finds it"
arbiter show "$X2"
expect_code 4 "show of an expired override exits 4"
expect_out "^submission $X2: expired" "show says expired"
arbiter wait "$X2" --timeout 5
expect_code 4 "wait on an expired override exits 4"
expect_out 'expired' "wait says expired"
peek dave; arbiter --as dave override "$X2" --justification "complexity is in generated code only" --code "$C"
expect_code 4 "an expired override is not overridden again"
expect_err 'already overridden by carol \(expired\)' "the refusal says it expired"

# --- codes: replay, wrong codes, lockout ---
pend 3; P3=$ID
code bob; arbiter --as bob approve "$P2" --ack --code "$C"
expect_code 0 "bob approves with a fresh code"
arbiter --as bob approve "$P3" --ack --code "$C"
expect_code 4 "the same code again is refused"
expect_err 'code refused: wrong or already used code for bob' "the refusal says the code was wrong or already used"
cp "$ERR" "$T/replayed.err"
[ "$(status "$P3")" = pending ] && [ "$(events code.replay)" -eq 1 ] \
	&& pass "the replay decides nothing and is audited as code.replay" || fail "replay: $(status "$P3"), $(events code.replay) events"

WRONG=$(oathtool --totp -b "${SECRET[frank]}" -N "@$(( ($(clock_now) / 30 - 10) * 30 ))")
f0=$(events code.failure)
arbiter --as frank approve "$P3" --ack --code "$WRONG"
expect_code 4 "a wrong code (ten steps old) is refused"
expect_err 'code refused: wrong or already used code for frank' "the refusal says the code is wrong"
[ "$(sed 's/frank/bob/' "$ERR")" = "$(cat "$T/replayed.err")" ] \
	&& pass "a wrong and a replayed code get the same message" || fail "wrong: $(cat "$ERR"); replayed: $(cat "$T/replayed.err")"
[ "$(events code.failure)" -eq $((f0 + 1)) ] && [ "$(status "$P3")" = pending ] \
	&& pass "the wrong code is audited as code.failure and decides nothing" || fail "code.failure events $(events code.failure)"
q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1" | grep -q '^frank frank .*"failures":1' \
	&& pass "the code.failure event names the reviewer and counts" || fail "code.failure event: $(q "SELECT details FROM audit WHERE event = 'code.failure' ORDER BY seq DESC LIMIT 1")"
[ "$(q "SELECT count(*) FROM audit WHERE details LIKE '%$WRONG%'")" -eq 0 ] \
	&& pass "the audit log does not hold the wrong code" || fail "the wrong code is in the audit log"
for i in 2 3 4; do
	arbiter --as frank approve "$P3" --ack --code 000000
	[ "$CODE" -eq 4 ] && grep -q 'code refused: wrong or already used code for frank' "$ERR" || fail "wrong code $i: exit $CODE"
done
expect_no_err 'locked out' "four wrong codes do not lock out"
arbiter --as frank approve "$P3" --ack --code 000000
expect_code 4 "the fifth wrong code is refused"
expect_err 'frank is now locked out from uid [0-9]+ for 15 minutes' "the fifth wrong code locks the reviewer out (from this uid)"
[ "$(events reviewer.lockout)" -eq 1 ] && pass "the lockout is audited as reviewer.lockout" || fail "reviewer.lockout events: $(events reviewer.lockout)"
peek frank; arbiter --as frank approve "$P3" --ack --code "$C"
expect_code 4 "a correct code is refused during the lockout"
expect_err 'frank is locked out from uid [0-9]+ after too many wrong codes' "the refusal says locked out"
[ "$(status "$P3")" = pending ] && pass "the locked-out reviewer decided nothing" || fail "status $(status "$P3")"
arbiter reviewer list
expect_out '^frank +reviewer +[^ ]+ +[^ ]+ +[^ ]+ +never +[0-9]{4}-' "reviewer list shows the lockout's end"
# the lockout ends on time: a second before its end a good code is still
# refused; at its end it is accepted, and the old failures no longer count
left=$(left_until until "FROM code_lockouts WHERE reviewer = 'frank'")
[ "$left" -eq 900 ] && pass "the lockout lasts 15 minutes" || fail "the lockout ends in ${left}s, expected 900"
clock_advance $(( left - 1 ))
peek frank; arbiter --as frank approve "$P3" --ack --code "$C"
expect_code 4 "a second before the lockout ends a good code is still refused"
expect_err 'frank is locked out from uid [0-9]+ after too many wrong codes: 1 more minute$' "the refusal says one more minute"
clock_advance 1
code frank; arbiter --as frank approve "$P3" --ack --code "$C"
expect_code 0 "when the lockout ends a good code is accepted"
[ "$(status "$P3")" = approved ] && pass "the reviewer decides again after the lockout" || fail "status $(status "$P3")"
arbiter reviewer list
expect_out '^frank +reviewer +[^ ]+ +[^ ]+ +[^ ]+ +[0-9]{4}-[^ ]+ +-$' "reviewer list shows no lockout once it has ended"
arbiter --as frank approve "$P3" --ack --code 000000
expect_no_err 'locked out' "after the lockout one wrong code does not lock out again"

# --- nobody decides their own submission ---
pend self carol; PS=$ID
peek carol; arbiter --as carol approve "$PS" --ack --code "$C"
expect_code 4 "approving one's own submission is refused"
expect_err "submitted by carol: nobody decides their own submission" "the refusal says why"
peek carol; arbiter --as carol reject "$PS" --reason "my own submission" --code "$C"
expect_code 4 "rejecting one's own submission is refused"
expect_err "nobody decides their own submission" "the rejection's refusal says why"

# --- the role requirement and the two-person rule (rom-02: approvals 2, admin, 4h) ---
peek bob; arbiter --as bob override "$ROM" --justification "the header title is wrong on purpose" --code "$C"
expect_code 4 "a plain reviewer cannot give an admin-only override"
expect_err 'overriding it needs an admin; bob is a reviewer' "the refusal names the role"
code alice; arbiter --as alice override "$ROM" --justification "the header title is wrong on purpose" --code "$C"
expect_code 3 "the first of two approvals exits 3"
expect_out "override 1 of 2 recorded by alice" "the first approval is reported as 1 of 2"
[ "$(status "$ROM")" = blocked ] && pass "after one approval the submission stays blocked" || fail "status $(status "$ROM")"
arbiter show "$ROM"
expect_code 3 "show of a partly overridden submission exits 3"
expect_out 'override\.partial +by alice' "show lists the partial override"
expect_out '^  override +1 of 2 approvals given' "show says 1 of 2 approvals are given"
expect_out 'override\.partial +alice .*"approvals":1,.*"required":2' "show lists the override.partial event, 1 of 2"
peek alice; arbiter --as alice override "$ROM" --justification "the header title is wrong on purpose" --code "$C"
expect_code 4 "the same reviewer cannot give the second approval"
expect_err 'alice already gave an approval \(1 of 2\)' "the refusal says a different reviewer must complete it"
code erin; arbiter --as erin override "$ROM" --justification "confirmed with the ROM maintainer" --code "$C"
expect_code 0 "a second, different admin completes the override"
expect_out "^submission $ROM overridden by erin until " "the completed override is reported"
[ "$(status "$ROM")" = overridden ] && pass "after two approvals it is overridden" || fail "status $(status "$ROM")"
[ "$(events override.partial)" -eq 1 ] && [ "$(q "SELECT count(*) FROM audit WHERE event = 'override.grant' AND subject = '$ROM'")" -eq 1 ] \
	&& pass "one override.partial and one override.grant event" || fail "events of the two-person override"
left=$(left_until expires_at "FROM submissions WHERE id = $ROM")
[ "$left" -eq 14400 ] && pass "its default expiry is capped at 4h" || fail "expires in ${left}s, expected 4h"

# --- two reviewers racing for the same submission ---
# while a wait in another process watches it
pend race; PR=$ID
"$ARBITER" wait "$PR" --timeout 20 > "$T/wait.out" 2> "$T/wait.err" &
waiter=$!
sleep 0.3
code bob; cb=$C
code carol; cc=$C
( "$ARBITER" --as bob approve "$PR" --ack --code "$cb" > "$T/race.bob" 2>&1; echo $? > "$T/race.bob.rc" ) &
racer1=$!
( "$ARBITER" --as carol approve "$PR" --ack --code "$cc" > "$T/race.carol" 2>&1; echo $? > "$T/race.carol.rc" ) &
racer2=$!
wait "$racer1" "$racer2"
rb=$(cat "$T/race.bob.rc") rcc=$(cat "$T/race.carol.rc")
if [ "$rb$rcc" = 04 ]; then win=bob lose=carol; elif [ "$rb$rcc" = 40 ]; then win=carol lose=bob; else win= lose=; fi
[ -n "$win" ] && pass "of two racing approvals exactly one wins ($win)" || fail "racing approvals exited $rb and $rcc"
if [ -n "$win" ]; then
	grep -q "already approved by $win" "$T/race.$lose" && pass "the loser is told who approved it first" \
		|| fail "the loser said: $(cat "$T/race.$lose")"
	[ "$(q "SELECT count(*) FROM decisions WHERE submission_id = $PR")" -eq 1 ] && [ "$(status "$PR")" = approved ] \
		&& pass "one decision is stored" || fail "$(q "SELECT count(*) FROM decisions WHERE submission_id = $PR") decisions stored"
	! grep -qE 'runtime error:|AddressSanitizer' "$T/race.bob" "$T/race.carol" && pass "the racing processes are clean" \
		|| fail "sanitizer report from a racing process"
fi
wait "$waiter"; wrc=$?
[ "$wrc" -eq 0 ] && pass "wait exits 0 after another process approves" || fail "wait exited $wrc: $(cat "$T/wait.out" "$T/wait.err")"
grep -q "^submission $PR: approved$" "$T/wait.out" && pass "wait prints the new status" || fail "wait printed: $(cat "$T/wait.out")"

# --- --code - and wait ---
pend stdin; PI=$ID
code dave
run bash -c "printf '%s\n' '$C' | '$ARBITER' --as dave approve $PI --ack --code -"
expect_code 0 "--code - reads the code from standard input"
expect_out "submission $PI approved by dave" "the approval from a code on standard input is made"
pend empty; PE=$ID
run bash -c "'$ARBITER' --as dave approve $PE --ack --code - < /dev/null"
expect_code 2 "--code - with empty standard input is refused"
expect_err 'no code on standard input' "the error says there is no code"
arbiter --as dave approve "$PE" --ack < /dev/null
expect_code 2 "approve without --code and no terminal is refused"
expect_err "dave's TOTP code is needed: --code CODE, or --code -" "the error tells to use --code"
[ "$(status "$PE")" = pending ] && pass "without a code nothing is decided" || fail "status $(status "$PE")"

arbiter wait "$PE" --timeout 1
expect_code 3 "wait on a pending submission times out with exit 3"
expect_out "^submission $PE: still pending after 1s" "wait says it is still pending"

# --- reviewer disable ---
peek bob; arbiter --as bob reviewer disable carol --code "$C"
expect_code 4 "a plain reviewer cannot disable reviewers"
expect_err 'only an enabled admin may change reviewers' "the refusal names the missing role"
code heidi; arbiter --as heidi reviewer disable carol --code "$C"
expect_code 0 "an admin disables a reviewer"
expect_out 'disabled carol' "disable reports it"
! grep -q 'carol' "$H/users.oath" && pass "the disabled reviewer's secret leaves users.oath" || fail "carol is still in users.oath"
[ "$(events reviewer.disable)" -eq 1 ] && pass "reviewer.disable is audited" || fail "reviewer.disable events: $(events reviewer.disable)"
arbiter reviewer list
expect_out '^carol .*\(disabled\)' "reviewer list marks the disabled reviewer"
pend dis; PD=$ID
peek carol; arbiter --as carol approve "$PD" --ack --code "$C"
expect_code 4 "a disabled reviewer's code is refused"
expect_err 'this reviewer is disabled' "the refusal says the reviewer is disabled"
[ "$(status "$PD")" = pending ] && pass "the disabled reviewer decided nothing" || fail "status $(status "$PD")"

# --- tampered policy files ---
t0=$(events policy.tamper)
chmod u+w "$H/policies/50-tools.yaml"
echo '# an edit nobody pinned' >> "$H/policies/50-tools.yaml"
served_reload
pend tamper; PT=$ID
expect_code 3 "a submission to a tampered store exits 3"
expect_out '"status":"blocked"' "it is blocked"
expect_out '"policy":"policy_integrity","type":"policy_integrity","severity":"critical","effect":"deny","overridable":false' \
	"it has a critical, non-overridable policy_integrity finding"
expect_err 'POLICIES TAMPERED: policies/50-tools.yaml edited' "stderr says the policies were tampered with, and which"
peek dave; arbiter --as dave approve "$PD" --ack --code "$C"
expect_code 4 "no approval is accepted while the policies are tampered"
expect_err 'POLICIES TAMPERED' "the refused approval says POLICIES TAMPERED"
expect_err 'no decision is accepted' "the refusal says no decision is accepted"
[ "$(status "$PD")" = pending ] && pass "the refused approval decided nothing" || fail "status $(status "$PD")"
[ "$(events policy.tamper)" -eq $((t0 + 1)) ] && pass "two commands audit exactly one policy.tamper event" \
	|| fail "$(($(events policy.tamper) - t0)) policy.tamper events"
peek dave; arbiter --as dave override "$PT" --justification "the integrity finding is a false alarm" --code "$C"
expect_code 4 "the integrity finding cannot be overridden"
expect_err 'no decision is accepted' "the override's refusal says no decision is accepted"
arbiter reevaluate "$PT"
expect_code 4 "reevaluate is refused while the policies are tampered"
expect_err 'POLICIES TAMPERED' "reevaluate's refusal says POLICIES TAMPERED"

peek bob; arbiter --as bob policy pin --justification "the comment in 50-tools is intended" --code "$C"
expect_code 4 "a plain reviewer cannot pin"
expect_err 'only an enabled admin may pin' "the refusal says an admin pins"
peek dave; arbiter --as dave policy pin --justification "too short" --code "$C"
expect_code 4 "a pin with a short justification is refused"
expect_err 'at least 20 are required' "the refusal gives the minimum"
code dave; arbiter --as dave policy pin --justification "the comment in 50-tools is intended" --code "$C"
expect_code 0 "an admin's code re-pins the policies"
expect_out 'pinned the policy files as version 2' "pin names the new version"
[ "$(stat -c %a "$H/policies/50-tools.yaml")" = 444 ] && pass "the pinned file is read-only again" || fail "mode $(stat -c %a "$H/policies/50-tools.yaml")"
arbiter policy list
expect_code 0 "policy list exits 0"
expect_out '(^| )2 .*dave' "policy list shows version 2, pinned by dave"
printf 'action: code.modify\nref: after-pin/1\nsubmitter: agent-a\n' > "$T/after.yaml"
arbiter submit --json "$T/after.yaml"
expect_code 0 "after the re-pin submissions are evaluated normally"
expect_out '"policy_version":2' "they record policy version 2"
expect_no_err 'TAMPERED' "and nothing says tampered"

r0=$(events submission.reevaluate)
arbiter reevaluate "$PT"
expect_code 3 "reevaluate ID exits 3 when it still waits"
expect_out "^submission $PT: blocked -> pending under policy version 2$" "reevaluate clears the integrity finding"
[ "$(status "$PT")" = pending ] && [ "$(q "SELECT policy_version FROM submissions WHERE id = $PT")" -eq 2 ] \
	&& pass "the submission is pending under version 2" || fail "status $(status "$PT")"
[ "$(q "SELECT count(*) FROM findings WHERE submission_id = $PT AND policy = 'policy_integrity'")" -eq 0 ] \
	&& pass "its integrity finding is gone" || fail "the integrity finding is still stored"
[ "$(events submission.reevaluate)" -eq $((r0 + 1)) ] && pass "reevaluate is audited as submission.reevaluate" || fail "submission.reevaluate events"
waiting=$(q "SELECT count(*) FROM submissions WHERE status IN ('pending', 'blocked')")
arbiter reevaluate --pending
expect_code 3 "reevaluate --pending exits 3 when some still wait"
[ "$(grep -c ' under policy version 2$' "$OUT")" -eq "$waiting" ] && pass "reevaluate --pending re-runs every waiting submission ($waiting)" \
	|| fail "reevaluate --pending printed $(grep -c ' under policy version 2$' "$OUT") of $waiting"
[ "$(events submission.reevaluate)" -eq $((r0 + 1 + waiting)) ] && pass "one submission.reevaluate event each" || fail "submission.reevaluate events"
arbiter reevaluate "$X1"
expect_code 4 "reevaluate of a decided submission is refused"
expect_err 'only a waiting' "the refusal says only waiting ones are evaluated again"

# --- disabled enforcement ---
chmod u+w "$H/config.yaml"
sed -i 's/^\(  enabled: \)true/\1false/' "$H/config.yaml"
served_reload
complex off; 
expect_code 3 "an unpinned config edit does not take effect"
expect_err 'POLICIES TAMPERED: config.yaml edited' "an unpinned config edit is tampering"
code heidi; arbiter --as heidi policy pin --justification "enforcement off for the maintenance window" --code "$C"
expect_code 0 "the config edit is pinned"
expect_out 'version 3' "as version 3"
complex off2
expect_code 0 "with enforcement disabled a blocked document is allowed"
expect_out '"status":"allowed"' "it is stored as allowed"
expect_err 'ENFORCEMENT IS DISABLED' "stderr says enforcement is disabled"
q "SELECT details FROM audit WHERE event = 'submission.create' AND subject = '$ID'" | grep -q '"status":"allowed"' \
	&& pass "the allowed submission is still audited" || fail "no submission.create event"
[ "$(events enforcement.toggle)" -eq 1 ] && q "SELECT details FROM audit WHERE event = 'enforcement.toggle'" | grep -q '"enabled":false' \
	&& pass "the switch is audited once as enforcement.toggle" || fail "enforcement.toggle events: $(events enforcement.toggle)"

# --- the chain ---
arbiter audit verify
expect_code 0 "audit verify passes after all of it"
expect_out "verified $(q "SELECT count(*) FROM audit") events" "every event verifies"
