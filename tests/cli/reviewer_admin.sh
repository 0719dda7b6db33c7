#!/bin/bash
# Reviewer administration end to end (PRODUCT.md sections 4 and 6): reviewer
# reset (a new secret printed once; the old secret's codes refused at once,
# the new one's accepted), unlock (a lockout made with five wrong codes
# ends; the failures are forgotten), disable and enable (a disabled reviewer
# is refused; enabled again, with a new secret, they act again; a bearer
# token from before never comes back), role (what an admin may do follows
# it), the last enabled admin kept, and every refusal (a plain reviewer, a
# wrong code, no code, an unknown name, a state the change does not fit)
# changing nothing, each change audited with the admin as its actor. Run
# served too (tests/cli/served.list): the same output and exit codes.
. "$(dirname "$0")/../lib.sh"
clock_start
new_store
events() { q "SELECT count(*) FROM audit WHERE event = '$1'"; }
status() { q "SELECT status FROM submissions WHERE id = $1"; }
# renew NAME: the secret the last command printed becomes NAME's, for code NAME
renew() { sed -n 's/^secret (base32): //p' "$OUT" > "$T/secret.$1"; }
hex_of() { base32 -d < "$T/secret.$1" | xxd -p | tr -d '\n'; }
# pend NAME: a pending proposal (one warning), its id in $ID
pend() {
	printf 'action: code.modify\nref: pend/%s\nsubmitter: agent-p\nfiles:\n  - {path: src/old.c, op: delete}\n' \
		"$1" > "$T/pend-$1.yaml"
	arbiter submit --json "$T/pend-$1.yaml"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}
# state: what a refused change must leave as it was
state() {
	q "SELECT name, role, disabled, ifnull(last_step, 0), ifnull(token_hash, '-') FROM reviewers ORDER BY name" ||
		echo "the reviewers cannot be read"
	q "SELECT count(*) FROM code_failures; SELECT count(*) FROM code_lockouts"
	sha256sum < "$H/users.oath"
}

enrol alice --role admin --as alice || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
enrol carol --as alice --code "$(code alice)" || fail "enrol carol"

# --- usage ---
arbiter reviewer reset
expect_code 2 "reset without a name is a usage error"
expect_err 'no reviewer name given' "which says so"
arbiter reviewer unlock bob carol
expect_code 2 "unlock takes one name"
arbiter reviewer role bob
expect_code 2 "role without a role is a usage error"
expect_err 'no role given \(admin or reviewer\)' "which names the roles"
arbiter reviewer role bob boss
expect_code 2 "an unknown role is a usage error"
expect_err 'boss: the roles are reviewer and admin' "naming the roles"
arbiter reviewer enable --help
expect_out '^usage: arbiter reviewer enable NAME \[--token\]' "enable --help gives its usage"

# --- refusals change nothing ---
before=$(state)
f0=$(events code.failure)
for cmd in "reset carol" "unlock carol" "role carol admin"; do
	# shellcheck disable=SC2086
	arbiter --as bob reviewer $cmd --code "$(code bob)"
	expect_code 4 "a plain reviewer is refused: reviewer $cmd"
	expect_err 'only an enabled admin may change reviewers; bob is not an admin' "the refusal names the missing role ($cmd)"
done
[ "$(events code.failure)" -eq $((f0 + 3)) ] && pass "each refusal of a plain reviewer is audited" ||
	fail "code.failure events: $(($(events code.failure) - f0)) of 3"
f0=$(events code.failure)
for cmd in "reset carol" "unlock carol" "role carol admin"; do
	# shellcheck disable=SC2086
	arbiter --as alice reviewer $cmd --code 000000
	expect_code 4 "a wrong code is refused: reviewer $cmd"
	expect_err 'code refused' "the refusal says the code was refused ($cmd)"
done
[ "$(events code.failure)" -eq $((f0 + 3)) ] && pass "each wrong code is audited" ||
	fail "code.failure events: $(($(events code.failure) - f0)) of 3"
arbiter --as alice reviewer reset carol < /dev/null
expect_code 2 "without a code and without a terminal, reset is refused"
expect_err "alice's TOTP code is needed" "asking for the admin's code"
arbiter --as alice reviewer reset nobody --code "$(code alice)"
expect_code 1 "an unknown reviewer is not found"
expect_err '^arbiter: no such reviewer$' "and says so"
arbiter --as alice reviewer enable carol --code "$(code alice)"
expect_code 4 "enabling an enabled reviewer is refused"
expect_err 'carol is not disabled \(a new secret: arbiter reviewer reset carol\)' "pointing at reset"
arbiter --as alice reviewer role carol reviewer --code "$(code alice)"
expect_code 4 "a role the reviewer has already is refused"
expect_err 'carol is already a reviewer' "and says so"
for e in reviewer.reset reviewer.unlock reviewer.role reviewer.enable; do
	[ "$(events $e)" -eq 0 ] || fail "a refused change audited $e"
done
# what the refusals counted (the wrong codes, the code steps used by the
# refusals' checks) is all they left; the rest is as it was
after=$(state)
[ "$(grep -v -e '^alice|' -e '^bob|' -e '^[0-9]*$' <<< "$before")" = "$(grep -v -e '^alice|' -e '^bob|' -e '^[0-9]*$' <<< "$after")" ] &&
	pass "no refusal changed carol or users.oath" || fail "the refusals changed: $before / $after"
clock_advance 960      # the wrong codes above no longer count towards a lockout

# --- reset: a new secret, the old one dead at once ---
old=$(cat "$T/secret.carol")
oldhex=$(hex_of carol)
arbiter --as alice reviewer reset carol --code "$(code alice)"
expect_code 0 "an admin resets a reviewer's secret"
expect_out "^reset carol's secret: the old one gives no more codes$" "reset says what it did"
expect_out '^secret \(base32\): [A-Z2-7]{32}$' "and prints the new secret"
expect_out 'otpauth://totp/arbiter:carol\?secret=[A-Z2-7]{32}&issuer=arbiter' "its otpauth:// URI"
expect_out '█' "and its QR code"
renew carol
[ -s "$T/secret.carol" ] && [ "$(cat "$T/secret.carol")" != "$old" ] && pass "the new secret is another" ||
	fail "the secret did not change"
grep -q "$(hex_of carol)\$" "$H/users.oath" && ! grep -q "$oldhex" "$H/users.oath" &&
	pass "users.oath holds the new secret, not the old" || fail "users.oath: $(cat "$H/users.oath")"
[ "$(stat -c %a "$H/users.oath")" = 600 ] && pass "users.oath stays mode 0600" ||
	fail "users.oath is mode $(stat -c %a "$H/users.oath")"
[ "$(sqlite3 "$DB" .dump | grep -ci -e "$(hex_of carol)" -e "$(cat "$T/secret.carol")")" -eq 0 ] &&
	pass "the database holds no secret" || fail "the new secret is in the database"
[ "$(q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'reviewer.reset'")" = 'alice carol {"name":"carol"}' ] &&
	pass "reviewer.reset is audited with the admin as actor" || fail "reviewer.reset: $(q "SELECT actor, subject, details FROM audit WHERE event = 'reviewer.reset'")"
pend reset; PR=$ID
step=$(( $(clock_now) / 30 ))
arbiter --as carol approve "$PR" --ack --code "$(oathtool --totp -b "$old" -N "@$((step * 30))")"
expect_code 4 "a code of the old secret is refused"
expect_err 'code refused' "as a refused code"
[ "$(status "$PR")" = pending ] && pass "the old secret decided nothing" || fail "status $(status "$PR")"
arbiter --as carol approve "$PR" --ack --code "$(code carol)"
expect_code 0 "a code of the new secret is accepted"
expect_out "submission $PR approved by carol" "and the approval is made"

arbiter --as alice reviewer reset alice --code "$(code alice)"
expect_code 0 "an admin resets their own secret with a code of the old one"
renew alice
arbiter --as alice reviewer unlock carol --code "$(code alice)"
expect_code 0 "and acts on with the new one"

# --- unlock: five wrong codes lock out, unlock ends it ---
pend lock; PL=$ID
for i in 1 2 3 4 5; do
	arbiter --as bob approve "$PL" --ack --code 000000
	[ "$CODE" -eq 4 ] || fail "wrong code $i: exit $CODE"
done
expect_err 'locked out' "the fifth wrong code locks bob out"
[ -n "$(q "SELECT until FROM code_lockouts WHERE reviewer = 'bob'")" ] && pass "bob is locked out" || fail "bob is not locked out"
arbiter --as bob approve "$PL" --ack --code "$(code bob)"
expect_code 4 "a good code is refused during the lockout"
expect_err 'bob is locked out' "as locked out"
arbiter --as alice reviewer unlock bob --code "$(code alice)"
expect_code 0 "an admin unlocks bob"
expect_out '^unlocked bob \(locked out until [0-9T:.-]+Z\); their code failures are forgotten$' "unlock says until when bob was locked out"
[ "$(q "SELECT count(*) FROM code_lockouts WHERE reviewer = 'bob'")" = 0 ] && pass "the lockout is gone" || fail "still locked until $(q "SELECT until FROM code_lockouts WHERE reviewer = 'bob'")"
q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'reviewer.unlock'" | grep -qE '^alice bob \{"locked_until":"[0-9T:.-]+Z","name":"bob"\}$' &&
	pass "reviewer.unlock is audited with the lockout's end" || fail "reviewer.unlock: $(q "SELECT details FROM audit WHERE event = 'reviewer.unlock'")"
arbiter --as bob approve "$PL" --ack --code "$(code bob)"
expect_code 0 "bob's good code is accepted again"
pend lock2; PL2=$ID
arbiter --as bob approve "$PL2" --ack --code 000000
expect_code 4 "a wrong code after the unlock is refused"
expect_no_err 'locked out' "but does not lock bob out again: the failures were forgotten"
arbiter --as alice reviewer unlock carol --code "$(code alice)"
expect_code 0 "unlocking a reviewer who is not locked out is done"
expect_out '^carol was not locked out; their code failures are forgotten$' "and says they were not"

# --- disable and enable ---
pre=$(cat "$T/secret.carol")
arbiter --as alice reviewer disable carol --code "$(code alice)"
expect_code 0 "an admin disables carol"
pend dis; PD=$ID
arbiter --as carol approve "$PD" --ack --code "$(code carol)"
expect_code 4 "the disabled reviewer is refused"
arbiter --as alice reviewer unlock carol --code "$(code alice)"
expect_code 4 "unlocking a disabled reviewer is refused"
expect_err 'carol is disabled \(arbiter reviewer enable carol' "pointing at enable"
arbiter --as alice reviewer reset carol --code "$(code alice)"
expect_code 4 "resetting a disabled reviewer is refused"
expect_err 'carol is disabled \(arbiter reviewer enable carol gives them a new secret\)' "enable gives the secret"
arbiter --as bob reviewer enable carol --code "$(code bob)"
expect_code 4 "a plain reviewer enables nobody"
[ "$(q "SELECT disabled FROM reviewers WHERE name = 'carol'")" = 1 ] && pass "carol stays disabled" || fail "carol was enabled"
arbiter --as alice reviewer enable carol --code "$(code alice)"
expect_code 0 "an admin enables carol again"
expect_out '^enabled carol as reviewer with a new secret \(disabling removed the old one\)$' "enable says a new secret was made"
expect_out '^secret \(base32\): [A-Z2-7]{32}$' "and prints it"
renew carol
[ "$(cat "$T/secret.carol")" != "$pre" ] && grep -q "$(hex_of carol)\$" "$H/users.oath" &&
	pass "users.oath holds carol's new secret" || fail "users.oath: $(cat "$H/users.oath")"
[ "$(q "SELECT disabled FROM reviewers WHERE name = 'carol'")" = 0 ] && pass "carol is enabled" || fail "carol is still disabled"
[ "$(q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'reviewer.enable'")" = 'alice carol {"name":"carol","token":false}' ] &&
	pass "reviewer.enable is audited" || fail "reviewer.enable: $(q "SELECT details FROM audit WHERE event = 'reviewer.enable'")"
step=$(( $(clock_now) / 30 ))
arbiter --as carol approve "$PD" --ack --code "$(oathtool --totp -b "$pre" -N "@$(( (step + 1) * 30 ))")"
expect_code 4 "the secret from before the disable gives no code"
arbiter --as carol approve "$PD" --ack --code "$(code carol)"
expect_code 0 "enabled again, carol acts"
arbiter reviewer list
expect_no_out '^carol .*\(disabled\)' "reviewer list no longer marks carol disabled"

enrol erin --token --as alice --code "$(code alice)" || fail "enrol erin"
arbiter --as alice reviewer disable erin --code "$(code alice)"
arbiter --as alice reviewer enable erin --code "$(code alice)"
expect_code 0 "erin is enabled again"
expect_no_out '^token:' "without --token, no token is printed"
[ "$(q "SELECT token_hash IS NULL FROM reviewers WHERE name = 'erin'")" = 1 ] &&
	pass "the token erin had before the disable is gone" || fail "erin's old token came back"
arbiter --as alice reviewer disable erin --code "$(code alice)"
arbiter --as alice reviewer enable erin --token --code "$(code alice)"
expect_code 0 "enable --token"
expect_out 'with a new secret \(disabling removed the old one\) and a new bearer token$' "says a token was made"
expect_out '^token: arbiter_[A-Za-z0-9_-]{43}$' "and prints it once"
tok=$(sed -n 's/^token: //p' "$OUT")
[ "$(q "SELECT token_hash FROM reviewers WHERE name = 'erin'")" = "$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)" ] &&
	pass "the store keeps the new token's SHA-256" || fail "token hash $(q "SELECT token_hash FROM reviewers WHERE name = 'erin'")"

# --- role ---
arbiter --as bob reviewer add frank --code "$(code bob)"
expect_code 4 "a plain reviewer enrols nobody"
arbiter --as alice reviewer role bob admin --code "$(code alice)"
expect_code 0 "an admin makes bob an admin"
expect_out '^bob is now an admin$' "role says so"
[ "$(q "SELECT actor || ' ' || subject || ' ' || details FROM audit WHERE event = 'reviewer.role'")" = 'alice bob {"name":"bob","role":"admin","was":"reviewer"}' ] &&
	pass "reviewer.role is audited with the role and what it was" || fail "reviewer.role: $(q "SELECT details FROM audit WHERE event = 'reviewer.role'")"
enrol frank --as bob --code "$(code bob)"
expect_code 0 "as an admin, bob enrols a reviewer"
arbiter --as alice reviewer role bob reviewer --code "$(code alice)"
expect_code 0 "an admin makes bob a plain reviewer again"
arbiter --as bob reviewer add gina --code "$(code bob)"
expect_code 4 "bob may no longer enrol"
expect_err 'bob is not an admin' "as he is not an admin"

# --- the last enabled admin ---
arbiter --as alice reviewer role alice reviewer --code "$(code alice)"
expect_code 4 "the last admin cannot be demoted"
expect_err '^arbiter: alice is the last admin: add another admin first$' "and says what to do"
arbiter --as alice reviewer disable alice --code "$(code alice)"
expect_code 4 "nor disabled"
arbiter --as alice reviewer role carol admin --code "$(code alice)"
arbiter --as alice reviewer disable carol --code "$(code alice)"
arbiter --as alice reviewer role alice reviewer --code "$(code alice)"
expect_code 4 "a disabled admin does not count: alice is still the last"
[ "$(q "SELECT role FROM reviewers WHERE name = 'alice'")" = admin ] && pass "alice is still an admin" || fail "alice was demoted"
arbiter --as alice reviewer role bob admin --code "$(code alice)"
arbiter --as bob reviewer role alice reviewer --code "$(code bob)"
expect_code 0 "with another enabled admin, an admin may be demoted"
arbiter --as bob reviewer role bob reviewer --code "$(code bob)"
expect_code 4 "and then the other is the last"
[ "$(q "SELECT count(*) FROM reviewers WHERE role = 'admin' AND disabled = 0")" = 1 ] &&
	pass "one enabled admin is left" || fail "$(q "SELECT count(*) FROM reviewers WHERE role = 'admin' AND disabled = 0") enabled admins"

arbiter audit verify
expect_code 0 "the chain verifies"
