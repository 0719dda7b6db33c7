#!/bin/bash
# Audit key rotation and verify --full (PRODUCT.md section 6): arbiter audit
# rotate-key needs an enabled admin and a good code and is audited; twice
# rotated, the chain verifies from the first public key alone (and without
# one); exports and checkpoints after it verify with the stock minisign and
# keys/audit.pub; the retired public keys stay in keys/, the retired secret
# is gone; evidence signed before and after a rotation still allows; a
# rotation made with a foreign key, or edited, fails verify at its seq; a
# signature edited alone in the middle of the chain is found by --full only;
# a rotation interrupted before or after its commit is finished or undone
# at the next open; through a server, POST /v1/audit/rotate-key switches the
# server's key, GET /v1/keys lists the rotations as signed events, and the
# hook holding the first key follows them, and refuses a forged one.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
unset ARBITER_PUBKEY ARBITER_SERVER ARBITER_TOKEN
new_store
K=$H/keys
rotations() { q "SELECT count(*) FROM audit WHERE event = 'key.rotate'"; }
secret_line() { sed -n 2p "$1"; }
# nowhere: the secret key line of file $1 is in no file of keys/
nowhere() { ! grep -rqF "$(secret_line "$1")" "$K"; }
# allowed NAME: a submission policies allow, its id in $ID
allowed() {
	printf 'action: note.read\nref: %s\nsubmitter: agent-a\n' "$1" > "$T/$1.yaml"
	arbiter submit --json "$T/$1.yaml"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
}
# approved NAME: a pending submission approved by alice, its id in $ID
approved() {
	printf 'action: code.modify\nref: %s\nsubmitter: agent-p\nfiles:\n  - {path: src/old.c, op: delete}\n' \
		"$1" > "$T/$1.yaml"
	arbiter submit --json "$T/$1.yaml"
	ID=$(grep -o '"id":[0-9]*' "$OUT" | head -1 | cut -d: -f2)
	arbiter approve "$ID" --ack --as alice --code "$(code alice)"
}
# copy: a copy of the store at $T/t with the audit triggers dropped and SQL applied
copy() {
	rm -rf "$T/t" && cp -a "$T/s" "$T/t"
	sqlite3 "$T/t/.arbiter/arbiter.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $1"
}

enrol alice --role admin --as alice || fail "enrol alice"
enrol bob --as alice --code "$(code alice)" || fail "enrol bob"
[ -f "$K/audit-1.pub" ] && cmp -s "$K/audit-1.pub" "$K/audit.pub" &&
	pass "init keeps the first public key as keys/audit-1.pub" || fail "no keys/audit-1.pub"
approved before

arbiter audit checkpoint --as alice --out "$T/cp0.txt"
expect_code 0 "a checkpoint before any rotation"

# --- who may rotate ---
arbiter audit rotate-key extra
expect_code 2 "rotate-key takes no argument"
cp "$K/audit.pub" "$T/pub.0"
cp "$K/audit.key" "$T/key.0"
failures=$(q "SELECT count(*) FROM audit WHERE event = 'code.failure'")
arbiter --as bob audit rotate-key --code "$(code bob)"
expect_code 4 "a reviewer who is not an admin is refused"
expect_err 'rotate the audit key' "saying what they may not do"
arbiter --as alice audit rotate-key --code 000000
expect_code 4 "a wrong code is refused"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'code.failure'")" -ge $((failures + 2)) ] &&
	pass "both refusals are audited" || fail "the refusals are not audited"
[ "$(rotations)" = 0 ] && cmp -s "$K/audit.pub" "$T/pub.0" && cmp -s "$K/audit.key" "$T/key.0" &&
	pass "a refusal leaves the key as it was" || fail "a refused rotation changed the key"

# --- two rotations ---
arbiter --as alice audit rotate-key --code "$(code alice)"
expect_code 0 "an admin rotates the key with a code"
old=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/pub.0")
expect_out "rotated the audit key at seq [0-9]+: key [0-9A-F]{16}, was $old" "naming the new key and the old"
[ "$(q "SELECT actor FROM audit WHERE event = 'key.rotate'")" = alice ] && pass "key.rotate, by alice" ||
	fail "no key.rotate by alice"
q "SELECT details FROM audit WHERE event = 'key.rotate'" | grep -qE "^\{\"keyid\":\"[0-9A-F]{16}\",\"pubkey\":\"$(secret_line "$K/audit.pub" | sed 's/[+/]/./g')\",\"was\":\"$old\"\}$" &&
	pass "its details name the new public key as minisign's line, its id and the old id" ||
	fail "key.rotate details: $(q "SELECT details FROM audit WHERE event = 'key.rotate'")"
! cmp -s "$K/audit.pub" "$T/pub.0" && cmp -s "$K/audit-$old.pub" "$T/pub.0" && cmp -s "$K/audit-1.pub" "$T/pub.0" &&
	pass "keys/audit.pub is the new key; the old stays as keys/audit-$old.pub" || fail "the public keys after a rotation"
nowhere "$T/key.0" && pass "the old secret key is gone from keys/" || fail "the old secret key is still in keys/"
[ "$(stat -c %a "$K/audit.key")" = 600 ] && [ "$(stat -c %a "$K/audit.pub")" = 644 ] &&
	pass "the new pair is 0600 and 0644" || fail "modes $(stat -c %a "$K/audit.key" "$K/audit.pub")"
ls "$K" | grep -q '\.new$' && fail "new key files left behind" || pass "no new key files are left"
arbiter wait "$ID"
expect_code 0 "an approval signed by the old key still allows (wait)"
approved middle
expect_code 0 "events are appended after the rotation"
cp "$K/audit.key" "$T/key.1"
arbiter --as alice audit rotate-key --code "$(code alice)"
expect_code 0 "a second rotation"
[ "$(rotations)" = 2 ] && [ "$(ls "$K"/audit-*.pub | wc -l)" = 3 ] && nowhere "$T/key.1" &&
	pass "two key.rotate events, three public keys kept, the second secret gone too" ||
	fail "after two rotations: $(rotations) rotations, $(ls "$K")"
approved after
arbiter show "$ID"
expect_code 0 "an approval signed by the third key allows (show)"
arbiter wait 1
expect_code 0 "a submission signed by the first key still allows"

arbiter audit verify
expect_code 0 "verify follows both rotations from keys/audit-1.pub"
arbiter audit verify --pubkey "$T/pub.0"
expect_code 0 "verify with only the first public key passes"
arbiter audit verify --full --pubkey "$K/audit-1.pub"
expect_code 0 "verify --full checks every signature with the key in force"
expect_out 'verified [0-9]+ events, every signature' "and says so"
expect_no_err . "no progress line when stderr is not a terminal"
arbiter audit verify --pubkey "$K/audit.pub"
expect_code 4 "verify from the current key, not the first, fails"
expect_out 'TAMPERED at seq [0-9]+: the key.rotate event at seq [0-9]+ is not signed by the key in force' \
	"at the first rotation, which that key did not sign"

# exports and checkpoints, with the stock tool
arbiter audit checkpoint --as alice --out "$T/cp.txt"
expect_code 0 "a checkpoint after two rotations"
minisign -Vm "$T/cp.txt" -p "$K/audit.pub" > /dev/null 2>&1 &&
	pass "minisign -Vm checks the checkpoint with keys/audit.pub" || fail "minisign refuses the checkpoint"
arbiter audit export --as alice --out "$T/export.json"
expect_code 0 "an export after two rotations"
minisign -Vm "$T/export.json" -p "$K/audit.pub" > /dev/null 2>&1 &&
	pass "minisign -Vm checks the export with keys/audit.pub" || fail "minisign refuses the export"
grep -q '"verification": {"ok":true' "$T/export.json" && pass "the export's verification follows the rotations" ||
	fail "the export's verification: $(grep -o '"verification".*' "$T/export.json")"
arbiter audit verify --checkpoint "$T/cp.txt"
expect_code 0 "verify --checkpoint after the rotations"
arbiter audit verify --checkpoint "$T/cp0.txt"
expect_code 0 "a checkpoint signed by the first key still holds after two rotations"
expect_out "the log extends checkpoint $T/cp0.txt" "and the log extends it"
cp "$T/cp0.txt.minisig" "$T/cp.txt.minisig.0" && cp "$T/cp.txt.minisig" "$T/cp0.txt.minisig"
arbiter audit verify --checkpoint "$T/cp0.txt"
expect_code 4 "a checkpoint with another key's signature is refused"
cp "$T/cp.txt.minisig.0" "$T/cp0.txt.minisig"

# --- what verify catches ---
n=$(q "SELECT max(seq) FROM audit")
mid=$((n / 2))
copy "UPDATE audit SET sig = (SELECT sig FROM audit WHERE seq = $((mid - 1))) WHERE seq = $mid"
cd "$T/t" && arbiter audit verify; cd "$T/s"
expect_code 0 "a signature edited alone in the middle: plain verify does not look at it (no hash covers it)"
cd "$T/t" && arbiter audit verify --full; cd "$T/s"
expect_code 4 "verify --full finds it"
expect_out "TAMPERED at seq $mid: its signature does not verify with the key in force" "naming its seq"
copy "UPDATE audit SET details = replace(details, '\"keyid\"', '\"keyid \"') WHERE event = 'key.rotate' AND seq = (SELECT min(seq) FROM audit WHERE event = 'key.rotate')"
r1=$(q "SELECT min(seq) FROM audit WHERE event = 'key.rotate'")
cd "$T/t" && arbiter audit verify; cd "$T/s"
expect_code 4 "an edited key.rotate fails verify"
expect_out "TAMPERED at seq $r1: " "at its seq"
# a retired pair put back (kept by someone before it was destroyed)
rm -rf "$T/t" && cp -a "$T/s" "$T/t" && cp "$T/pub.0" "$T/t/.arbiter/keys/audit.pub" &&
	cp "$T/key.0" "$T/t/.arbiter/keys/audit.key"
cd "$T/t" && arbiter audit verify; cd "$T/s"
expect_code 4 "keys/audit.pub that is not the key the chain reaches fails verify"
expect_out 'keys/audit.pub is not the key the chain reaches at its head' "and says so"
printf 'action: note.read\nref: t-1\n' > "$T/t-1.yaml"
cd "$T/t" && arbiter submit "$T/t-1.yaml"; cd "$T/s"
expect_code 1 "a retired key signs nothing"
expect_err 'keys/audit.pub is not the key that key.rotate at seq [0-9]+ names' "saying which rotation names which"

# --- a rotation stopped halfway ---
head=$(q "SELECT max(seq) FROM audit")
cp "$K/audit.key" "$T/key.2"
cp "$K/audit.pub" "$T/pub.2"
id2=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/pub.2")
arbiter --as alice audit rotate-key --code "$(code alice)"
expect_code 0 "a third rotation"
# as if stopped after the commit, before the files were put into place
mv "$K/audit.key" "$K/audit.key.new" && mv "$K/audit.pub" "$K/audit.pub.new"
cp "$T/key.2" "$K/audit.key" && cp "$T/pub.2" "$K/audit.pub" && rm "$K/audit-$id2.pub"
arbiter audit verify
expect_code 0 "a store opened after the commit puts the new key into place"
[ ! -e "$K/audit.key.new" ] && [ ! -e "$K/audit.pub.new" ] && [ -f "$K/audit-$id2.pub" ] && nowhere "$T/key.2" &&
	pass "the new files renamed, the old public key kept, the old secret gone" || fail "leftovers: $(ls "$K")"
allowed after-restart
expect_code 0 "and signs with it"
arbiter audit verify --full
expect_code 0 "the chain holds"
# as if stopped before the commit: new files no rotation names
"$ARBITER" init "$T/f" > /dev/null || fail "init a foreign store"
cp "$T/f/.arbiter/keys/audit.key" "$K/audit.key.new" && cp "$T/f/.arbiter/keys/audit.pub" "$K/audit.pub.new"
cp "$K/audit.pub" "$T/pub.3"
arbiter list
expect_code 0 "a store opened with new files that no rotation names"
[ ! -e "$K/audit.key.new" ] && [ ! -e "$K/audit.pub.new" ] && cmp -s "$K/audit.pub" "$T/pub.3" &&
	pass "discards them" || fail "leftovers: $(ls "$K")"
arbiter audit verify
expect_code 0 "and the chain holds"
[ "$(q "SELECT max(seq) FROM audit")" -gt "$head" ] || fail "no events"

# --- through a server ---
serve_start || exit 0
api GET /v1/keys
expect_status 200 "GET /v1/keys"
[ "$(grep -o '"event": *"key.rotate"' "$OUT" | wc -l)" = 3 ] && pass "lists the three rotations" ||
	fail "GET /v1/keys: $(head -c 300 "$OUT")"
grep -qE '"seq": *[0-9]+, *"ts": *"[^"]+", *"actor": *"alice", *"event": *"key.rotate", *"subject": *"[0-9a-f]{32}", *"details": *\{"keyid": *"[0-9A-F]{16}", *"pubkey": *"[^"]+", *"was": *"[0-9A-F]{16}"\}, *"prev": *"[0-9a-f]{64}", *"hash": *"[0-9a-f]{64}", *"sig": *"[0-9a-f]{128}"' "$OUT" &&
	pass "as full signed events" || fail "the events' shape: $(head -c 600 "$OUT")"
cp "$K/audit.key" "$T/key.3"
api POST /v1/audit/rotate-key -H 'Content-Type: application/json' --data-binary '{"as":"alice","code":"000000"}'
expect_status 422 "POST /v1/audit/rotate-key with a wrong code is refused"
expect_out '"code": "code_refused"' "as code_refused"
api POST /v1/audit/rotate-key -H 'Content-Type: application/json' --data-binary \
	"{\"as\":\"alice\",\"code\":\"$(code alice)\"}"
expect_status 200 "POST /v1/audit/rotate-key rotates the server's key"
expect_out '"keyid": "[0-9A-F]{16}", "was": "[0-9A-F]{16}", "pubkey": "[^"]+"' "naming both keys"
nowhere "$T/key.3" && pass "the server destroys the old secret too" || fail "the old secret stays"
export ARBITER_SERVER=unix:$SOCK
arbiter --as alice audit rotate-key --code "$(code alice)"
expect_code 0 "the command goes through the server"
expect_out 'rotated the audit key at seq' "with the operation's answer"
[ "$(rotations)" = 5 ] && pass "five rotations" || fail "$(rotations) rotations"
allowed served-1
expect_code 0 "the server signs with the new key"
approved served-2
expect_code 0 "approvals too"
unset ARBITER_SERVER
arbiter audit verify --full --pubkey "$T/pub.0"
expect_code 0 "what the server signed verifies from the first key"

# the hook, holding the first key, follows the rotations
call() {
	printf '{"tool_name":"Read","tool_input":{"path":"%s"},"session_id":"s","cwd":"/w","hook_event_name":"PreToolUse"}' \
		"$1" > "$T/call.json"
}
call README.md
run "$ARBITER" hook --server "unix:$SOCK" --pubkey "$T/pub.0" < "$T/call.json"
expect_code 0 "the hook with the first key follows five rotations and allows"
run "$ARBITER" hook --server "unix:$SOCK" --pubkey "$K/audit.pub" < "$T/call.json"
expect_code 2 "the hook with the current key as if it were the first refuses"
expect_err 'the server.s keys do not follow from the public key' "saying the keys do not follow"
serve_stop

# --- a rotation by a foreign key ---
rm -rf "$T/s"
new_store
K=$H/keys
enrol alice --role admin --as alice || fail "enrol alice"
cp "$K/audit-1.pub" "$T/first.pub"
# someone who can write keys/ puts a pair of their own there; arbiter signs
# a rotation with it, and every later event with the key it names
cp "$T/f/.arbiter/keys/audit.key" "$T/f/.arbiter/keys/audit.pub" "$K/"
arbiter --as alice audit rotate-key --code "$(code alice)"
expect_code 0 "a rotation signed with a foreign key is written"
r=$(q "SELECT seq FROM audit WHERE event = 'key.rotate'")
arbiter audit verify
expect_code 4 "verify from the first key fails"
expect_out "TAMPERED at seq $r: the key.rotate event at seq $r is not signed by the key in force" "at the rotation"
arbiter audit verify --full --pubkey "$T/first.pub"
expect_code 4 "so does --full"
expect_out "TAMPERED at seq $r: " "at the same seq"
serve_start || exit 0
call CHANGELOG
run "$ARBITER" hook --server "unix:$SOCK" --pubkey "$T/first.pub" < "$T/call.json"
expect_code 2 "the hook refuses an allow signed by a key a forged rotation reached"
expect_err "key.rotate event at seq $r is not signed by the key in force" "naming the forged rotation"
run "$ARBITER" hook --server "unix:$SOCK" < "$T/call.json"
expect_code 0 "(without a public key the hook cannot tell)"
serve_stop
