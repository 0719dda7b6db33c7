#!/bin/bash
# The store and its audit chain: init, verify, checkpoints that the stock
# minisign verifies, and every kind of tampering named by seq with exit 4.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export ARBITER_HOME=

arbiter init "$T/s"
expect_code 0 "init creates a store"
H=$T/s/.arbiter
for f in config.yaml arbiter.db keys/audit.key keys/audit.pub users.oath policies/10-rom.yaml; do
	[ -e "$H/$f" ] && pass "init creates $f" || fail "init did not create $f"
done
[ "$(stat -c %a "$H/keys/audit.key")" = 600 ] && pass "the secret key is mode 0600" || fail "audit.key mode $(stat -c %a "$H/keys/audit.key")"
[ "$(stat -c %a "$H/users.oath")" = 600 ] && pass "users.oath is mode 0600" || fail "users.oath mode"
[ "$(stat -c %a "$H/policies/10-rom.yaml")" = 444 ] && pass "policy files are read-only (0444)" || fail "policy mode"
grep -q '^untrusted comment: minisign public key [0-9A-F]\{16\}$' "$H/keys/audit.pub" && pass "audit.pub is in minisign's format" || fail "audit.pub format"
for k in enabled fail_closed approve_requires_code justification_min_chars override_default_duration session_idle window max_failures lockout; do
	grep -q "^ *$k:" "$H/config.yaml" && pass "config.yaml sets $k" || fail "config.yaml lacks $k"
done
arbiter init "$T/s"
expect_code 1 "init refuses to overwrite a store"
expect_err 'already exists' "the refusal says why"

cd "$T/s" || exit 1
arbiter audit verify
expect_code 0 "a fresh store verifies"
expect_out 'verified 1 events' "store.init is the first event"
sqlite3 "$H/arbiter.db" "SELECT event FROM audit WHERE seq = 1" | grep -q '^store.init$' && pass "the first event is store.init" || fail "first event"

for i in 1 2 3 4 5; do "$ARBITER" audit checkpoint --out "$T/cp$i.txt" > /dev/null || fail "checkpoint $i"; done
run minisign -Vm "$T/cp5.txt" -p "$H/keys/audit.pub"
expect_code 0 "the stock minisign verifies a checkpoint"
arbiter audit verify --checkpoint "$T/cp5.txt"
expect_code 0 "the log extends its latest checkpoint"
expect_out 'extends checkpoint' "verify says the checkpoint holds"
# a checkpoint is believed only once its FILE.minisig holds: one that
# travelled through a CRLF mailer, one edited in any way, one without its
# signature and one signed by another key are refused (exit 4, one line)
sed 's/$/\r/' "$T/cp5.txt" > "$T/cp-crlf.txt"
cp "$T/cp5.txt.minisig" "$T/cp-crlf.txt.minisig"
arbiter audit verify --checkpoint "$T/cp-crlf.txt"
expect_code 4 "a checkpoint whose bytes changed (CRLF line ends) is refused"
expect_out "^audit: checkpoint .*cp-crlf.txt is refused: .*cp-crlf.txt.minisig: its signature does not match its contents" "named as edited"
sed 's/^seq: .*/seq: 1x/' "$T/cp5.txt" > "$T/cp-bad1.txt"
sed 's/^hash: \(.*\)./hash: \1/' "$T/cp5.txt" > "$T/cp-bad2.txt"
{ cat "$T/cp5.txt"; echo "seq: 1"; } > "$T/cp-bad3.txt"
sed 's/^seq: /seq: 1/' "$T/cp5.txt" > "$T/cp-bad4.txt"
sed 's/^store: .*/store: 0123456789abcdef0123456789abcdef/' "$T/cp5.txt" > "$T/cp-bad5.txt"
for i in 1 2 3 4 5; do
	cp "$T/cp5.txt.minisig" "$T/cp-bad$i.txt.minisig"
	arbiter audit verify --checkpoint "$T/cp-bad$i.txt"
	expect_code 4 "edited checkpoint $i is refused"
	[ "$(wc -l < "$OUT")" = 2 ] && pass "edited checkpoint $i: one line after the chain's" || fail "edited checkpoint $i: $(wc -l < "$OUT") lines"
	expect_out "cp-bad$i.txt is refused: .*its signature does not match" "edited checkpoint $i is named as edited"
done
sed 's/^trusted comment: .*/trusted comment: arbiter checkpoint store x seq 1/' "$T/cp5.txt.minisig" > "$T/cp-tc.txt.minisig"
cp "$T/cp5.txt" "$T/cp-tc.txt"
arbiter audit verify --checkpoint "$T/cp-tc.txt"
expect_code 4 "a checkpoint whose trusted comment was edited is refused"
expect_out "trusted comment was edited" "named as such"
cp "$T/cp5.txt" "$T/cp-unsigned.txt"
arbiter audit verify --checkpoint "$T/cp-unsigned.txt"
expect_code 4 "a checkpoint without FILE.minisig is refused"
expect_out "checkpoint .*cp-unsigned.txt is unsigned" "named as unsigned"
printf 'not a signature\n' > "$T/cp-unsigned.txt.minisig"
arbiter audit verify --checkpoint "$T/cp-unsigned.txt"
expect_code 4 "a FILE.minisig that is no signature is refused"
expect_out "not a minisign signature" "named as such"
# signed by another key: minisign's own, and another store's checkpoint
minisign -G -W -p "$T/mk.pub" -s "$T/mk.key" > /dev/null 2>&1 || fail "minisign -G"
cp "$T/cp5.txt" "$T/cp-foreign.txt"
minisign -S -s "$T/mk.key" -m "$T/cp-foreign.txt" > /dev/null 2>&1 || fail "minisign -S"
arbiter audit verify --checkpoint "$T/cp-foreign.txt"
expect_code 4 "a checkpoint signed by another key is refused"
expect_out "cp-foreign.txt is refused: .*signed by another key \(key id [0-9A-F]{16}, not [0-9A-F]{16}\)" "named as another key's, by id"
rm -rf "$T/o" && "$ARBITER" init "$T/o" > /dev/null && "$ARBITER" --home "$T/o" audit checkpoint --out "$T/cp-other.txt" > /dev/null
arbiter audit verify --checkpoint "$T/cp-other.txt"
expect_code 4 "another store's checkpoint is refused"
expect_out 'signed by another key' "the refusal names another key"
arbiter audit verify --checkpoint "$T/cp-other.txt" --pubkey "$T/o/.arbiter/keys/audit.pub"
expect_code 4 "another store's checkpoint with its key: the chain fails first"

# the triggers refuse changes
run sqlite3 "$H/arbiter.db" "UPDATE audit SET actor = 'mallory' WHERE seq = 2"
expect_err 'append-only' "the audit table refuses UPDATE"
run sqlite3 "$H/arbiter.db" "DELETE FROM audit WHERE seq = 2"
expect_err 'append-only' "the audit table refuses DELETE"

tamper() {   # a copy of the store with the triggers dropped and SQL applied
	rm -rf "$T/t" && cp -a "$T/s" "$T/t"
	sqlite3 "$T/t/.arbiter/arbiter.db" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; $1"
	run "$ARBITER" --home "$T/t" audit verify "${@:2}"
}
tamper "UPDATE audit SET details = '{\"file\":\"elsewhere\"}' WHERE seq = 3"
expect_code 4 "an edited event fails verification"
expect_out 'TAMPERED at seq 3: .*edited' "the edit is named by seq"
tamper "DELETE FROM audit WHERE seq = 3"
expect_code 4 "a deleted middle event fails verification"
expect_out 'TAMPERED at seq 3' "the deletion is named by seq"
tamper "DELETE FROM audit WHERE seq >= 5" --checkpoint "$T/cp5.txt"
expect_code 4 "a truncated tail is caught with a checkpoint"
expect_out 'TAMPERED at seq 5: the log ends at seq 4' "the truncation is named"
# the log cannot be cut short without the key: the signed head record,
# outside the audit table, says where it ends
tamper "DELETE FROM audit WHERE seq >= 5"
expect_code 4 "the newest events deleted fail verification without a checkpoint"
expect_out "TAMPERED at seq 5: the log ends at seq 4 but the signed head record says seq $(sqlite3 "$H/arbiter.db" "SELECT max(seq) FROM audit"): events were deleted" "the truncation is named by the head record"
tamper "DELETE FROM audit"
expect_code 4 "every event deleted fails verification"
expect_out 'TAMPERED at seq 1: the log is empty but the signed head record says seq [0-9]+: every event was deleted' "named as such"
tamper "DELETE FROM audit; DELETE FROM audit_head"
expect_code 4 "every event and the head record deleted fail verification"
expect_out 'TAMPERED at seq 1: the log is empty: a store.s log starts with store.init at seq 1' "an empty log is no store's log"
tamper "DELETE FROM audit WHERE seq >= 5; DELETE FROM audit_head"
expect_code 4 "the newest events and the head record deleted fail verification"
expect_out 'TAMPERED at seq 4: the signed head record is missing' "the missing record is named"
tamper "DELETE FROM audit WHERE seq >= 5; UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4)"
expect_code 4 "a head record moved back without the key fails verification"
expect_out 'TAMPERED at seq 4: the signed head record \(seq 4\) does not verify' "the forged record is named"
tamper "DELETE FROM audit WHERE seq >= 5; UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4), sig = (SELECT sig FROM audit WHERE seq = 4)"
expect_code 4 "the head event's own signature does not pass for a head record"
expect_out 'TAMPERED at seq 4: the signed head record' "named as a forged record"
tamper "UPDATE audit SET event = 'policy.pin' WHERE seq = 1"
expect_code 4 "a first event edited away from store.init fails verification"
expect_out 'TAMPERED at seq 1' "named at seq 1"
tamper "DELETE FROM audit WHERE seq = 1"
expect_code 4 "a log without seq 1 fails verification"
expect_out 'TAMPERED at seq 1: events 1 to 1 are missing' "named at seq 1"
tamper "UPDATE audit SET seq = -1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = -1"
expect_code 4 "swapped events fail verification"
expect_out 'TAMPERED at seq 3' "the swap is named by seq"
rm -rf "$T/other" && "$ARBITER" init "$T/other" > /dev/null
arbiter audit verify --pubkey "$T/other/.arbiter/keys/audit.pub"
expect_code 4 "another key's public key fails verification"
expect_out 'TAMPERED at seq 1: its signature does not verify' "the wrong key is named at seq 1"
# a forged signature on the head, which covers every event before it
tamper "UPDATE audit SET sig = (SELECT sig FROM audit WHERE seq = 2) WHERE seq = 6"
expect_code 4 "a forged head signature fails verification"
expect_out 'TAMPERED at seq 6: its signature' "the forged signature is named by seq"

# corrupt and foreign database files (made private to their owner, as a
# store must be: the modes are not what these checks are about)
old_umask=$(umask)
umask 077
mkdir -p "$T/bad/.arbiter/keys" && cp "$H/keys/audit.pub" "$T/bad/.arbiter/keys/"
printf 'this is not a database' > "$T/bad/.arbiter/arbiter.db"
run "$ARBITER" --home "$T/bad" audit verify
expect_code 1 "a corrupt database file is an error, not a crash"
expect_err 'arbiter.db' "the error names the database"
rm "$T/bad/.arbiter/arbiter.db" && sqlite3 "$T/bad/.arbiter/arbiter.db" "CREATE TABLE x (y)"
run "$ARBITER" --home "$T/bad" audit verify
expect_code 1 "a foreign database is an error"
expect_err 'not an arbiter database' "the foreign database is named as such"
umask "$old_umask"
cd "$T" && mkdir -p nowhere && cd nowhere || exit 1
arbiter audit verify
expect_code 1 "no store is an error"
expect_err 'arbiter init' "the error names arbiter init"
