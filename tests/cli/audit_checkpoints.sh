#!/bin/bash
# Checkpoints that catch what the signed chain alone cannot (PRODUCT.md
# section 6): arbiter serve writes a signed checkpoint into
# audit.checkpoint_dir when the head has moved and audit.checkpoint_minutes
# have passed (not an audit event; an idle server writes nothing), runs
# audit.checkpoint_command with it (a failing command is logged, the server
# goes on), and audit verify checks every checkpoint there: the database
# replaced by a copy from an hour earlier, an edited, unsigned or foreign
# checkpoint are caught (exit 4, named); a stale newest checkpoint is a
# warning, which --strict makes exit 4. Settings fail closed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
clock_start
new_store
# doc: a new submission each time
N=0
doc() { N=$((N + 1)); printf 'action: code.modify\nsubmitter: tester\ntitle: change %d\nbytes_changed: 10\n' "$N" > "$T/doc.yaml"; arbiter submit "$T/doc.yaml"; }
CPD=$H/checkpoints
events() { sqlite3 "$DB" "SELECT max(seq) FROM audit"; }
checkpoints() { find "$CPD" -name 'arbiter-checkpoint-*.txt' 2> /dev/null | wc -l; }
# wait_for COUNT: until the directory holds COUNT checkpoints (at most 10 s)
wait_for() {
	for _ in $(seq 1 200); do
		[ "$(checkpoints)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# setting KEY VALUE: audit.KEY in config.yaml (the last section) is VALUE
setting() {
	chmod u+w "$H/config.yaml"
	sed -i "/^  $1:/d" "$H/config.yaml"
	printf '  %s: %s\n' "$1" "$2" >> "$H/config.yaml"
}
enrol admin --role admin --as admin || fail "enrol admin"

arbiter audit verify
expect_code 0 "a fresh store verifies"
expect_no_err 'warning' "and its lack of a checkpoint is no warning yet"

# the command: copies the checkpoint and its signature off the machine
mkdir -p "$T/offsite"
printf '#!/bin/sh\ncp "$1" "$1.minisig" "%s/"\necho "sent $1" >&2\n' "$T/offsite" > "$T/send.sh"
chmod +x "$T/send.sh"
setting checkpoint_command "'$T/send.sh \"\$1\"'"
pin admin || fail "pin the settings"
serve_start
doc
sqlite3 "$DB" ".backup '$T/earlier.db'" || fail "a copy of the database"
earlier=$(events)
doc
sleep 1.2
[ "$(checkpoints)" = 0 ] && pass "no checkpoint before it is due" || fail "a checkpoint came early"
before=$(events)

clock_advance 3600
if wait_for 1; then pass "an hour later the server wrote a checkpoint"; else fail "no automatic checkpoint: $(tail -3 "$T/serve.log")"; fi
cp1=$(find "$CPD" -name 'arbiter-checkpoint-*.txt')
[ -f "$cp1.minisig" ] && pass "with its signature" || fail "the checkpoint has no signature"
run minisign -Vm "$cp1" -p "$H/keys/audit.pub"
expect_code 0 "the stock minisign verifies it"
grep -q "^seq: $before\$" "$cp1" && pass "it holds the head" || fail "its seq: $(grep seq "$cp1"), head $before"
[ "$(events)" = "$before" ] && pass "an automatic checkpoint is no audit event" || fail "the log moved: $before -> $(events)"
[ "$(stat -c %a "$CPD")" = 700 ] && [ "$(stat -c %a "$cp1")" = 600 ] && pass "the directory and the file are private" || fail "modes $(stat -c %a "$CPD") $(stat -c %a "$cp1")"
for _ in $(seq 1 100); do [ -f "$T/offsite/$(basename "$cp1").minisig" ] && break; sleep 0.05; done
cmp -s "$cp1" "$T/offsite/$(basename "$cp1")" && pass "the checkpoint command copied it off the machine" || fail "the command did not copy it"
for _ in $(seq 1 100); do grep -q "checkpoint_command ran for $cp1" "$T/serve.log" && break; sleep 0.05; done
grep -q "sent $cp1" "$T/serve.log" && grep -q "checkpoint_command ran for $cp1" "$T/serve.log" && pass "the command got the file as \$1, and its run is logged" || fail "the command's log: $(grep -v ' /v1/' "$T/serve.log" | tail -3)"

# idle: the head has not moved, so nothing is written, however long
clock_advance 7200
sleep 2.2
[ "$(checkpoints)" = 1 ] && [ "$(events)" = "$before" ] && pass "an idle server writes no checkpoint and no event" || fail "an idle server wrote: $(checkpoints) checkpoints, seq $(events)"

arbiter audit verify
expect_code 0 "verify passes with the checkpoint"
expect_out "the log extends the 1 checkpoint in $CPD" "and says it checked it"
expect_no_err 'warning' "an up-to-date checkpoint is no warning"

# the first event after an idle hour is checkpointed at once, and the claim
# records the last automatic checkpoint
doc
wait_for 2 && pass "the first event after an idle hour is checkpointed at once" || fail "no second checkpoint"
head=$(events)
serve_stop
[ "$(sqlite3 "$DB" "SELECT seq FROM checkpoint_claim")" = "$head" ] && pass "the claim records the last automatic checkpoint" || fail "claim: $(sqlite3 "$DB" "SELECT * FROM checkpoint_claim"), head $head"

# stale: the head moved (no server running) and an hour passed
doc
clock_advance 3601
arbiter audit verify
expect_code 0 "a stale checkpoint is a warning only"
expect_err "^arbiter: warning: the newest checkpoint, .*older than the interval" "the warning is one line on stderr"
[ "$(wc -l < "$ERR")" = 1 ] && pass "one line" || fail "$(wc -l < "$ERR") lines on stderr"
arbiter audit verify --strict
expect_code 4 "--strict makes a stale checkpoint a failure"
expect_out '^audit: STALE: the newest checkpoint' "named as stale"

# the database replaced by the copy from an hour earlier: its chain and its
# head record agree with each other; only the checkpoint knows better
cp -a "$H" "$T/kept"
cp "$T/earlier.db" "$DB" && rm -f "$DB-wal" "$DB-shm"
arbiter audit verify
expect_code 4 "a database replaced by an older copy is caught by the checkpoint"
expect_out "TAMPERED at seq $((earlier + 1)): the log ends at seq $earlier but checkpoint $CPD/arbiter-checkpoint-[0-9-]*\.txt holds seq " "named: the seq and the checkpoint"
[ "$(wc -l < "$OUT")" = 2 ] && pass "in one line after the chain's" || fail "$(wc -l < "$OUT") lines"
# and again once the copy has grown past it: another history
for _ in 1 2 3 4 5 6; do doc; done
arbiter audit verify
expect_code 4 "an older copy that grew past the checkpoint is caught"
expect_out "TAMPERED at seq [0-9]+: its hash differs from checkpoint $CPD/arbiter-checkpoint-" "named by the checkpoint's seq"
rm -rf "$H" && cp -a "$T/kept" "$H"

# checkpoints in the directory that do not hold
cp "$cp1" "$CPD/edited.txt" && cp "$cp1.minisig" "$CPD/edited.txt.minisig"
sed -i 's/^seq: .*/seq: 1/' "$CPD/edited.txt"
arbiter audit verify
expect_code 4 "an edited checkpoint in the directory fails verify"
expect_out "checkpoint $CPD/edited.txt is refused: .*does not match its contents" "named"
rm "$CPD/edited.txt.minisig"
arbiter audit verify
expect_code 4 "an unsigned checkpoint in the directory fails verify"
expect_out "checkpoint $CPD/edited.txt is unsigned" "named"
cp "$cp1" "$CPD/edited.txt"
minisign -G -W -p "$T/mk.pub" -s "$T/mk.key" > /dev/null 2>&1 || fail "minisign -G"
minisign -S -s "$T/mk.key" -m "$CPD/edited.txt" > /dev/null 2>&1 || fail "minisign -S"
arbiter audit verify
expect_code 4 "a checkpoint signed by another key in the directory fails verify"
expect_out "checkpoint $CPD/edited.txt is refused: .*signed by another key" "named"
rm "$CPD/edited.txt" "$CPD/edited.txt.minisig"

# a failing command is logged and the server goes on; a server started an
# hour after the last checkpoint, with the head moved, writes one at once
setting checkpoint_command "'echo trying \"\$1\" >&2; exit 3'"
pin admin || fail "pin the settings"
serve_start
wait_for 3 && pass "the restarted server wrote the next checkpoint at once" || fail "no second checkpoint: $(tail -3 "$T/serve.log")"
for _ in $(seq 1 100); do grep -q 'checkpoint_command failed' "$T/serve.log" && break; sleep 0.05; done
grep -q "audit.checkpoint_command failed for $CPD/arbiter-checkpoint-.*: exit 3" "$T/serve.log" && pass "a failing command is logged with its exit" || fail "the failure's log: $(tail -3 "$T/serve.log")"
grep -q "trying $CPD/arbiter-checkpoint-" "$T/serve.log" && pass "its output goes to the server's log" || fail "no output of the command"
doc
expect_code 0 "the server still takes submissions"
serve_stop
[ "$SERVE_CODE" = 0 ] && pass "and stops cleanly" || fail "the server exited $SERVE_CODE"
arbiter audit verify
expect_code 0 "verify passes over both checkpoints"
expect_out "the log extends the 3 checkpoints" "counted"
[ "$(checkpoints)" = 3 ] && pass "three checkpoints: one per interval with the head moved" || fail "$(checkpoints) checkpoints"

# settings fail closed, at their place
cp -a "$H/config.yaml" "$T/config.kept"
for bad in "checkpoint_events 0" "checkpoint_minutes soon" "checkpoint_dir ''" "checkpoint_command 7"; do
	setting ${bad% *} "${bad#* }"
	arbiter audit verify
	expect_code 1 "audit.${bad% *} ${bad#* } is refused"
	expect_err "config.yaml:[0-9]+:[0-9]+: audit\\.${bad% *}" "at its line and column"
	cp "$T/config.kept" "$H/config.yaml"
done
