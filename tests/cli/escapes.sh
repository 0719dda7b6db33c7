#!/bin/bash
# Terminal injection: strings that did not come from arbiter (titles, refs,
# submitters, details, document fields, policy names and messages, file
# names, audit actors, decision notes) carry ESC sequences, C1 controls
# (U+009B), bidi overrides (U+202E), bytes that are not UTF-8 and escaped
# NULs. Every text output shows them as visible escapes (\x1b, \u009b,
# \u202e, \xff, \x00) and holds no byte a terminal could act on; --json
# output keeps the exact strings; the console (in a private tmux server)
# draws them visibly and nothing on its screen is rewritten. Last, nothing
# in tui/ prints except through the terminal writer (tui/term.c).
. "$(dirname "$0")/../lib.sh"
export LC_ALL=C.UTF-8

# clean FILE DESC: FILE holds no C0 control but the newline, no DEL, no C1 or
# bidi control, and is valid UTF-8: nothing a terminal could act on
clean() {
	if LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1"; then
		fail "$2 (a raw control byte reaches the terminal)"
		LC_ALL=C grep -naP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$1" |
			head -3 | od -c | head -8 >&2
	elif ! iconv -f UTF-8 -t UTF-8 "$1" > /dev/null 2>&1; then
		fail "$2 (bytes that are not UTF-8 reach the terminal)"
	else
		pass "$2"
	fi
}
# has TEXT DESC / err_has TEXT DESC: stdout (stderr) holds TEXT, as it is
has() { if grep -qF -- "$1" "$OUT"; then pass "$2"; else fail "$2 (stdout lacks $1)"; fi; }
err_has() { if grep -qF -- "$1" "$ERR"; then pass "$2"; else fail "$2 (stderr lacks $1)"; fi; }
# text_ok DESC: the last run's stdout and stderr are both clean
text_ok() { clean "$OUT" "$1: stdout"; clean "$ERR" "$1: stderr"; }

ESC=$'\e' C1=$'\u009b' RLO=$'\u202e'
# the escapes a terminal must show for them
V_TITLE='x\x1b[2K\rstatus: approved \u009b2J \u202eevil\x00 after nul'
V_REF='ref\x1b[31m/1\x00b'
V_SUB='bob\x1b]0;pwn\x07\u202e'
V_TOOL='evil\x1b[2K\rtool \u009b2J \u202egnp'
V_NAME='hostile\x1b[2K\rname\u202e'
V_MSG='msg\x1b[2K\rstatus: approved \u009b2J \u202eevil \\x1b typed'
V_FILE='policies/61-\x1b[31mhostile.yaml'
V_ACTOR='ag\xff\xc3(\x1b[2K'

new_store
enrol admin --role admin || fail "enrol admin"

# A policy file with an ESC in its name, whose policy's name, description,
# message and denylist value carry the escapes; pinned by the admin.
POL="61-${ESC}[31mhostile.yaml"
cat > "$T/hostile.yaml" << 'EOF'
version: 1
enabled: true
policies:
  - name: "hostile\e[2K\rname\u202e"
    description: "desc \e]0;pwned\a \u009b31m"
    enabled: true
    applies_to: [proposal]
    actions: ["tool.*"]
    when: 'has(tool)'
    type: denylist
    field: tool
    values: ["evil\e[2K\rtool \u009b2J \u202egnp", "x"]
    severity: critical
    override: {allowed: true, approvals: 1, role: admin}
    message: "msg\e[2K\rstatus: approved \u009b2J \u202eevil \\x1b typed"
EOF
chmod u+w "$H/policies"
cp "$T/hostile.yaml" "$H/policies/$POL"
served_reload
mkdir -p "$T/pol"
cp "$T/hostile.yaml" "$T/pol/$POL"

arbiter policy list
has "$V_NAME" "policy list shows the policy's name escaped"
has "$V_FILE:4" "policy list shows its file name escaped"
text_ok "policy list (tampered)"
err_has "$V_FILE added" "the tampering warning names the file escaped"

JUST="pinning the hostile ${ESC}[2K${C1} policy file for the escapes test"
arbiter --as admin policy pin --justification "$JUST" --code "$(code admin)"
expect_code 0 "the admin pins the new policy file"
has "$V_FILE added" "pin names the added file escaped"
text_ok "policy pin"
arbiter policy list
has 'pinning the hostile \x1b[2K\u009b policy file' "policy list shows the pin's justification escaped"
text_ok "policy list"

# --- submissions ---
# A submitter is a name (PRODUCT.md section 2): one carrying escapes is
# refused, the refusal clean; the hostile submitter below is one a store from
# before the rule may hold, written into the database after the submissions.
printf '%s\n' '{"action": "tool.call", "ref": "ref\u001b[31m/1\u0000b", "title": "x\u001b[2K\rstatus: approved \u009b2J \u202eevil\u0000 after nul", "submitter": "bob", "tool": "evil\u001b[2K\rtool \u009b2J \u202egnp", "app": "ops-console", "meta": {"note": "n\u001b[2Kx \u009b \u202e"}}' > "$T/hostile.json"
printf '%s\n' '{"action": "tool.call", "ref": "lit/1", "title": "typed \\x1b[2K by hand", "submitter": "bob", "tool": "x"}' > "$T/literal.json"
printf '%s\n' '{"action": "tool.call", "ref": "sub/1", "submitter": "bob\u001b]0;pwn\u0007\u202e", "tool": "x"}' > "$T/submitter.json"
arbiter submit "$T/submitter.json"
expect_code 1 "a submitter carrying escapes is refused"
err_has "submitter.json:1:" "at its place"
text_ok "submit (a hostile submitter)"
AS=$'ag\xff\xc3\x28\e[2K'

arbiter --as "$AS" submit "$T/hostile.json"
expect_code 3 "the hostile submission is blocked"
has "\"$V_TITLE\"" "submit shows the title escaped, NUL and what follows it included"
has "ref=$V_REF" "submit shows the ref escaped"
has "$V_NAME: $V_MSG" "submit shows the policy's name and message escaped"
has "tool = \"$V_TOOL\" is in the denylist" "submit shows the detail that echoes the input escaped"
has "$V_FILE:4" "submit shows the finding's source escaped"
text_ok "submit"
ID=$(q "SELECT id FROM submissions WHERE ref LIKE 'ref%'")
arbiter submit "$T/literal.json"
LIT=$(q "SELECT id FROM submissions WHERE ref = 'lit/1'")
arbiter --as "$AS" submit "$T/hostile.json"
has "$V_REF: already stored as submission $ID" "a retry names the stored ref escaped"
text_ok "submit (a retry)"

q "UPDATE submissions SET submitter = 'bob' || char(27) || ']0;pwn' || char(7) || char(8238)
   WHERE id IN ($ID, $LIT)"
REASON="no${ESC}[2K${ESC}[1Astatus: approved ${C1} ${RLO}"
arbiter --as admin reject "$LIT" --reason "$REASON" --code "$(code admin)"
expect_code 0 "a submission is rejected with a hostile reason"

# --- list ---
arbiter list
expect_code 0 "list exits 0"
has "$V_TITLE" "list shows the whole title escaped, past the NUL"
has 'bob\x1b]0;pwn...' "list shows the submitter escaped, cut to its column"
has 'typed \\x1b[2K by hand' "a backslash typed in a title is doubled: it cannot pass for an escape"
[ "$(wc -l < "$OUT")" -eq 3 ] && pass "list: one line per row, whatever a title holds" ||
	fail "list printed $(wc -l < "$OUT") lines for 2 rows"
grep -q '^status: approved' "$OUT" && fail "a title starts a line of its own" || pass "no title starts a line of its own"
text_ok "list"

# --- --json keeps the exact strings ---
J_TITLE='"title":"x\u001B[2K\rstatus: approved '"$C1"'2J '"$RLO"'evil\u0000 after nul"'
J_REF='"ref":"ref\u001B[31m/1\u0000b"'
J_SUB='"submitter":"bob\u001B]0;pwn\u0007'"$RLO"'"'
arbiter list --json
has "$J_TITLE" "list --json keeps the title exact, NUL included"
has "$J_REF" "list --json keeps the ref exact"
has "$J_SUB" "list --json keeps the submitter exact"
arbiter show "$ID" --json
has "$J_TITLE" "show --json keeps the title exact"
grep -qF '"document":{"action":"tool.call"' "$OUT" && pass "show --json reads back a document that holds \\u0000" ||
	fail "show --json lost the document"
has '"note":"n\u001B[2Kx '"$C1 $RLO"'"' "show --json keeps a document field exact"
arbiter eval --policies "$T/pol" --json "$T/hostile.json"
has "$J_TITLE" "eval --json keeps the title exact"
has '"message":"msg\u001B[2K\rstatus: approved '"$C1"'2J '"$RLO"'evil \\x1b typed"' "eval --json keeps the policy message exact"
arbiter audit list --json --limit 20
has '"actor":"ag' "audit list --json has the actor"
has '"reason":"no\u001B[2K\u001B[1Astatus: approved '"$C1 $RLO"'"' "audit list --json keeps the reason exact"

# --- show ---
arbiter show "$ID"
has "ref        $V_REF" "show: the ref escaped"
has "title      $V_TITLE" "show: the title escaped, whole"
has "submitter  $V_SUB" "show: the submitter escaped"
has '"title": "x\u001B[2K\rstatus: approved \u009b2J \u202eevil\u0000 after nul"' \
	"show: the document is JSON, its C1 and bidi characters escaped the same way"
has '"note": "n\u001B[2Kx \u009b \u202e"' "show: a document field escaped"
has "$V_NAME: $V_MSG" "show: the finding's policy and message escaped"
has "tool = \"$V_TOOL\" is in the denylist" "show: the finding's detail escaped"
has "$V_FILE:4" "show: the finding's source escaped"
# JSON cannot hold bytes that are not UTF-8: there they are U+FFFD
has $'ag\ufffd\ufffd(\\x1b[2K  {"action":"tool.call"' "show: the event's actor escaped, its details JSON"
text_ok "show"
arbiter show "$LIT"
has 'no\x1b[2K\x1b[1Astatus: approved \u009b \u202e' "show: the decision's reason escaped"
text_ok "show (a decided one)"
arbiter show "no${ESC}[2Ksuch"
expect_code 1 "show of an unknown ref fails"
err_has 'no submission no\x1b[2Ksuch' "the error names the ref escaped"
text_ok "show (an unknown ref)"

# --- audit list, stats ---
arbiter audit list --limit 20
# (through a server the events come as JSON, which holds U+FFFD for bytes
# that are not UTF-8, as show's events do)
if served; then
	has 'ag??(\x1b[2K' "audit list: an actor that is not UTF-8 is shown escaped, as JSON left it"
else
	has "$V_ACTOR" "audit list: an actor that is not UTF-8 is shown escaped, byte by byte"
fi
has '"reason":"no\u001B[2K\u001B[1Astatus: approved \...' "audit list: details are JSON, shown as JSON, cut to their column"
text_ok "audit list"
arbiter stats
has "$V_SUB" "stats: the top submitter escaped"
has "$V_NAME" "stats: the policy's name escaped"
text_ok "stats"

# --- eval, with the policies of a directory ---
arbiter eval --policies "$T/pol" "$T/hostile.json"
expect_code 3 "eval blocks it"
has "\"$V_TITLE\"" "eval: the title escaped"
has "$V_NAME: $V_MSG" "eval: the policy's name and message escaped"
has "pol/61-\\x1b[31mhostile.yaml:4" "eval: the source's file name escaped"
text_ok "eval"

# --- files that are not UTF-8, and hostile file names ---
BAD="$T/inv"$'\xff\e[2K'".yaml"
printf 'action: tool.call\ntitle: "bad \xff \xc3\x28 x"\n' > "$BAD"
printf '{"action": "tool.call", "title": "bad \xc3\x28"}\n' > "$T/inv"$'\e]0;x\a'".json"
arbiter eval --policies "$T/pol" "$BAD" "$T/inv"$'\e]0;x\a'".json"
expect_code 1 "files that are not UTF-8 are refused"
err_has 'inv\xff\x1b[2K.yaml:2:' "the refusal names the YAML file escaped"
err_has 'inv\x1b]0;x\x07.json:1:' "the refusal names the JSON file escaped"
text_ok "eval (files that are not UTF-8)"
printf 'action: tool.call\ntitle: fine\n' > "$T/ok"$'\e[2K\xff'".yaml"
arbiter eval --policies "$T/pol" "$T/ok"$'\e[2K\xff'".yaml"
has 'ok\x1b[2K\xff.yaml:1: allowed' "a result names its file escaped"
text_ok "eval (a hostile file name)"
arbiter eval --policies "$T/pol" "$T/missing${ESC}[2K.yaml"
err_has 'missing\x1b[2K.yaml: cannot open' "an unreadable file is named escaped"
text_ok "eval (a missing file)"
printf '{"action": "tool.call\\u0000x"}\n' > "$T/nul-action.json"
arbiter eval --policies "$T/pol" "$T/nul-action.json"
expect_code 1 "an action that holds NUL is refused"
err_has 'action must not contain a NUL character' "the refusal says why"

# --- reviewer list and the reviewer commands ---
arbiter reviewer list
text_ok "reviewer list"
arbiter reviewer add "eve${ESC}[2K${C1}"
expect_code 2 "a hostile reviewer name is refused"
err_has '"eve\x1b[2K\u009b" is not a reviewer name' "the refusal shows the name escaped"
text_ok "reviewer add (a hostile name)"

# --- the console, in a private tmux server ---
# (the console does not go through a server yet: a served run skips it)
if served; then
	:
elif ! command -v tmux > /dev/null; then
	fail "tmux is missing (make test installs it)"
else
	. "$ROOT/tests/console_lib.sh"
	TERM_COLS=160 TERM_ROWS=40
	shows() { shows_text "$@"; }
	# nothing on screen was rewritten: no line reads the injected status at
	# column 0, and the screen itself holds no control
	unmoved() {
		screen > "$T/screen"
		if grep -qE '^status: approved' "$T/screen"; then fail "$1: a title rewrote a line"; else pass "$1: no line was rewritten"; fi
		clean "$T/screen" "$1: the screen holds only printable text"
	}
	console_start TERM=screen LC_ALL=C.UTF-8 TZ=UTC ESCDELAY=25 ARBITER_HOME=$T/s -- --as admin tui
	shows 'Waiting, ' "the console opens on the queue"
	shows "$V_TITLE" "the queue shows the title escaped, past the NUL"
	shows 'bob\x1b]0;pwn' "the queue shows the submitter escaped"
	unmoved "the queue"
	keys / "status: approved" Enter Enter
	shows "Submission $ID  $V_TITLE" "the submission screen shows the title escaped"
	shows "ref $V_REF   by $V_SUB" "the submission screen shows ref and submitter escaped"
	shows "$V_NAME: msg\\x1b[2K\\rstatus" "the finding shows the policy's name and message escaped"
	shows "tool = \"$V_TOOL\"" "the detail pane shows the echoed input escaped"
	shows 'desc \x1b]0;pwned\x07 \u009b31m' "the detail pane shows the description escaped"
	unmoved "the submission screen"
	keys d
	shows 'title: "x\u001B[2K\rstatus: approved \u009b2J \u202eevil\u0000 after nul"' \
		"the document screen shows the title as JSON, C1 and bidi escaped"
	shows 'note: "n\u001B[2Kx \u009b \u202e"' "the document screen shows a field escaped"
	unmoved "the document screen"
	keys q h
	shows $'ag\ufffd\ufffd(\\x1b[2K' "the history shows the actor escaped"
	unmoved "the history screen"
	keys q q A
	shows 'decision.reject' "the audit browser opens"
	shows 'ag\xff\xc3(\' "the audit browser shows the actor escaped, byte by byte"
	shows 'reason=no\x1b[2K\x1b[1Astatus: approved \u009b \u202e' "the audit browser shows the details escaped"
	unmoved "the audit browser"
	keys q q
	shows 'EXIT=0' "the console quits"
	[ ! -s "$T/console.err" ] && pass "the console wrote nothing to stderr" ||
		fail "console stderr: $(head -3 "$T/console.err")"

	# the command line's text on a real terminal: list and show rewrite nothing
	term_session "env TERM=screen LANG=C.UTF-8 LC_ALL=C.UTF-8 \
		ARBITER_HOME=$T/s ASAN_OPTIONS=${ASAN_OPTIONS:-} sh -c '$ARBITER list; \
		$ARBITER show $ID | head -8; echo DONE'; sleep 600"
	shows 'DONE' "list and show ran on a terminal"
	shows "$V_TITLE" "list on a terminal shows the title escaped"
	shows "title      $V_TITLE" "show on a terminal shows the title escaped"
	unmoved "list and show on a terminal"
	$TM kill-server 2> /dev/null
fi

# --- one writer: nothing in tui/ prints but through tui/term.c ---
cd "$ROOT" || exit 1
if grep -nE '(^|[^a-z_])(printf|fprintf|vprintf|vfprintf|puts|fputs|putchar|putc|fputc|fwrite|perror)\(' \
	tui/*.c tui/cli/*.c tui/console/*.c | grep -v '^tui/term\.c:'; then
	fail "tui/ prints with stdio outside the terminal writer (tui/term.c)"
else
	pass "tui/ prints with stdio only through the terminal writer"
fi
if grep -nE '(^|[^a-z_])(mv)?w?(addn?w?str|printw|addch)\(' tui/console/*.c | grep -vE 'shared\.c:.*(addnwstr\(&wc|addnstr\(code)' |
	grep -vE 'ACS_'; then
	fail "tui/console draws text outside put_clipped and put_escaped"
else
	pass "tui/console draws text only through put_clipped and put_escaped"
fi
