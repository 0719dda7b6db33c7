#!/bin/bash
# The reviewer console, driven as a reviewer drives it: in a private tmux
# server at a fixed size, keys sent with send-keys, the screen read back with
# capture-pane. Every step waits for what it expects to appear (never a fixed
# sleep). Codes come from oathtool, never from the screen. The console reads
# the test clock (tests/lib.sh), which the idle sign-out is reached by moving.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
command -v tmux > /dev/null || { fail "tmux is missing (make test installs it)"; exit 0; }
. "$ROOT/tests/console_lib.sh"
cd "$T" || exit 1
export ARBITER_HOME=$T/s
clock_start

"$ARBITER" init "$T/s" > /dev/null || fail "init"
enrol tester --role admin || fail "enrol tester"
enrol second --role admin --as tester --code "$(code tester)" || fail "enrol second"
enrol approver --as tester --code "$(code tester)" || fail "enrol approver"
"$ARBITER" submit "$EX"/submissions/*.yaml > /dev/null 2>&1

# start [ENV=VALUE...] -- ARGS: the console on this store
start() { console_start "ARBITER_HOME=$T/s" "$@"; }

# --- the queue ---
start -- --as tester tui
shows 'arbiter .*tester, admin' "the header names the reviewer"
shows 'policies v1 intact' "the header shows the policy version and integrity"
shows 'Waiting, 2[0-9]' "the queue opens on the waiting submissions"
shows '^ID +KIND +ACTION +TITLE' "the queue has its columns"
shows 'Fix cartridge title +z3ed-agent-7 .* blocked +C1 +W0 +I0' "a row shows title, submitter, status and counts"

# --- search, drill-down, the finding, the document ---
keys /
shows 'search \(title, action, submitter, ref\)' "/ asks for a search"
keys "cartridge title" Enter
keys Enter
shows 'Submission [0-9]+ +Fix cartridge title in header' "the search found the row and Enter opened it"
shows 'critical deny +protect_critical_regions' "the findings are listed"
shows 'detail: +change 0xFFB2\+4 overlaps 0xFFB0-0xFFFF' "the detail pane shows the offending values"
shows 'field: +changes\[0\] +policy: policies/10-rom.yaml:[0-9]+' "the detail pane shows the field and the policy's FILE:LINE"
shows 'override: allowed; 2 approvals, role admin, at most 4h' "the detail pane says how it may be overridden"
keys Enter
shows 'document, highlighting changes\[0\]' "Enter shows the document at the finding's field"
shows '^▶ +offset: 65458' "the offending field is marked"
shows '^  action: "rom.patch"' "other fields are not"
keys Escape
shows 'Finding' "Esc goes back to the submission"
keys h
shows 'Audit events \(1\)' "h shows the submission's events"
shows 'submission.create' "the creation event is listed"
keys q q
shows 'Waiting, 2[0-9]' "q twice is back on the queue"
keys '?'
shows 'Keys: queue' "? shows the queue's keys"
shows 'a +approve' "help lists the decision keys from the key table"
keys q

# --- approve a pending one with a code (as another reviewer) ---
keys q
shows 'EXIT=0' "q on the queue quits with exit 0"
start -- --as approver tui
shows 'approver \(not signed in: s\)' "a plain reviewer opens the console"
keys / "Ren'Py build" Enter a
shows 'Approve submission' "a opens the approve dialog"
shows 'license_restricts_usage' "the dialog lists the warnings"
keys Tab Tab 123456 Enter
shows 'tick the acknowledgement first' "without the tick the approval is refused in the dialog"
keys BTab BTab Space Tab "read the license note" Tab "$(code approver)" Enter
shows "submission [0-9]+ approved by approver" "with the tick and a code it is approved"
sqlite3 "$T/s/.arbiter/arbiter.db" "SELECT note FROM decisions WHERE decision = 'approve'" | grep -q "read the license note" \
	&& pass "the note is stored with the decision" || fail "the approval's note"

# --- reject one ---
keys / "Export rooftop" Enter r
shows 'Reject submission' "r opens the reject dialog"
shows 'approver \(signed in\)' "a good code in a dialog signs the reviewer in"
lacks 'TOTP code' "signed in, rejecting asks for no code"
keys "not this scene" Enter
shows "submission [0-9]+ rejected by approver" "the rejection is recorded"
shows 'Export rooftop scene studio-export .* rejected ' "the decided row shows its new status in place"
keys / "cartridge title" Enter o
shows 'TOTP code \(a fresh one\)' "an override asks for a fresh code even when signed in"
keys "a plain reviewer tries an admin-only override" Tab Tab "$(code approver)" Enter
shows 'overriding it needs an admin; approver is a reviewer' "a plain reviewer is refused an admin-only override, in the dialog"
keys Escape
shows 'cancelled: nothing was decided' "Esc cancels the dialog"
keys q
shows 'EXIT=0' "quit"

# --- override: a wrong code keeps the justification; then the right one ---
start -- --as second tui
shows 'second, admin \(not signed in: s\)' "the second admin opens the console, not signed in"
keys s
shows 'Sign in as second' "s opens the sign-in dialog"
keys 000000 Enter
shows 'code refused: wrong or already used code for second' "a wrong code does not sign in"
keys "$(code second)" Enter
shows 'signed in as second' "a good code signs in"
shows 'second, admin \(signed in\)' "the header says so"
keys / "Inline retry" Enter o
shows 'Override submission' "o opens the override dialog"
shows 'max_complexity' "the dialog lists the deny findings it overrides"
keys "the payment handler change was reviewed by hand" Tab "2h" Tab "000000" Enter
shows 'code refused: wrong or already used code for second' "a wrong code is refused in the dialog"
shows 'the payment handler change was reviewed by hand' "the justification typed is kept"
shows 'Justification \(4[0-9] / at least 20 characters\)' "the live count is shown against the minimum"
keys "$(code second)" Enter
shows "submission [0-9]+ overridden by second" "the right code overrides it"

# --- the two-person rule across two sign-ins ---
keys / "cartridge title" Enter o
keys "header title change checked against the dump" Tab Tab "$(code second)" Enter
shows 'override 1 of 2 recorded by second; it needs a second, different reviewer' "the first admin's code is 1 of 2"
# --- the session ends after session_idle (10m) without a key, on screen
# without one being pressed ---
clock_advance 601
shows 'signed out after 10 minutes idle' "ten minutes without a key sign the reviewer out"
shows 'second, admin \(not signed in: s\)' "the header says so"
keys q
shows 'EXIT=0' "q on the queue quits with exit 0"
start -- --as tester tui
shows 'tester, admin' "the other admin opens the console"
keys / "cartridge title" Enter Enter
shows 'override: 1 of 2 approvals given' "the submission shows 1 of 2"
keys o
shows 'Needs 2 reviewers. codes; 1 given so far' "the dialog says one approval is given"
keys "second pair of eyes on the header title change" Tab Tab "$(code tester)" Enter
shows "submission [0-9]+ overridden by tester" "the other admin completes the override"

# --- live: a submission from another process; the audit browser ---
keys Escape
shows 'Waiting, 2[0-9]' "back on the queue"
printf 'action: code.modify\nsubmitter: live-agent\ntitle: arrived while the console was open\nfiles:\n  - {path: build/x.o, op: delete}\n' > "$T/live.yaml"
# no key is pressed until the header counts it: the console polls the store
waiting=$(screen | sed -n 's/^ Waiting, \([0-9]*\).*/\1/p')
"$ARBITER" submit "$T/live.yaml" > /dev/null
t0=$(date +%s%N)
if shows "^ Waiting, $((waiting + 1))[ ,]" "a submission from another process is counted without a key press"; then
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ms" -le 2000 ] && pass "it is counted within 2 s (${ms} ms)" || fail "it took ${ms} ms to be counted (more than 2 s)"
fi
keys G
shows 'arrived while the.* live-agent' "a submission from another process appears without reloading"
keys A
shows 'override.grant' "the audit browser shows the override"
shows 'decision.approve' "the audit browser shows the approval"
keys q

# --- tampered policies ---
chmod u+w "$T/s/.arbiter/policies/50-tools.yaml"
echo "# an edit nobody pinned" >> "$T/s/.arbiter/policies/50-tools.yaml"
shows 'POLICIES TAMPERED: policies/50-tools.yaml edited' "a red banner appears when a policy file changes"
keys g a
shows 'decisions are disabled: the policy files differ' "decision keys are refused with the reason"
lacks 'Approve submission' "no dialog opens while tampered"

# --- resizing ---
$TM resize-window -t c -x 60 -y 20
shows 'needs a terminal of at least 80x24; this one is' "below 80x24 the console says so"
shows '^60x20' "and names the size it has"
$TM resize-window -t c -x 100 -y 30
shows 'Waiting, [0-9]+' "back at 100x30 the queue is drawn again"
keys q
shows 'EXIT=0' "quit"
[ ! -s "$T/console.err" ] && pass "nothing was written to stderr under curses (nor by the sanitizers)" || fail "stderr: $(head -3 "$T/console.err")"

# --- idle: an open console sleeps ---
# A few hundred more submissions, then 20 s with no key and no change: the
# console polls the store 4 times a second and re-checks the policy files
# every 3 s, but draws nothing, so it must use well under 1% of a core.
for i in $(seq 300); do
	printf '{"action":"code.modify","submitter":"bulk-%d","title":"bulk %d","files":[{"path":"src/f%d.c","op":"delete"}]}\n' \
		$((i % 7)) "$i" "$i"
done > "$T/bulk.jsonl"
"$ARBITER" submit --jsonl "$T/bulk.jsonl" > /dev/null 2>&1
start -- --as tester tui
shows 'Waiting, [0-9]{3}' "the console opens on a store of a few hundred submissions"
pid=$(pgrep -x -P "$($TM display-message -p -t c '#{pane_pid}')" arbiter)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }   # utime + stime, in ticks
sleep 1
before=$(cpu)
sleep 20
ticks=$(( $(cpu) - before ))
hz=$(getconf CLK_TCK)
# 1% of a core over 20 s is 0.2 s
[ $((ticks * 1000 / hz)) -lt 200 ] && pass "an idle console used $((ticks * 1000 / hz)) ms of CPU in 20 s (under 1%)" \
	|| fail "an idle console used $((ticks * 1000 / hz)) ms of CPU in 20 s (1% is 200 ms)"
keys q
shows 'EXIT=0' "quit after idling"

# --- a fatal signal restores the terminal ---
start -- --as tester tui
shows 'Waiting, [0-9]+' "the console is open"
pkill -TERM -x -P "$($TM display-message -p -t c '#{pane_pid}')" arbiter || fail "no console process to signal"
shows 'EXIT=143' "SIGTERM ends the console (exit 128+15)"
lacks 'Waiting, [0-9]+' "the terminal is back to its normal screen"

# --- NO_COLOR ---
start NO_COLOR=1 -- --as tester tui
shows 'Waiting, [0-9]+' "the console opens with NO_COLOR"
if screen -e | grep -qE $'\e\\[(3[0-7]|9[0-7]|4[0-7])m'; then fail "colours despite NO_COLOR"; else pass "NO_COLOR: no colours"; fi
keys q
shows 'EXIT=0' "quit with NO_COLOR"
$TM kill-server 2> /dev/null
grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$T/console.err" && fail "sanitizer reports from the console: $(head -3 "$T/console.err")" || pass "no sanitizer report from any console session"
