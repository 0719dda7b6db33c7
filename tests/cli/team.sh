#!/bin/bash
# A team on one served store (PRODUCT.md section 9), driven as its people
# drive it: three reviewers, each their own uid on the shared socket
# (setpriv, no account needed), and two agents, one by its uid and one by
# its token over TCP. alice works in the console (tmux), bob on the command line,
# carol with curl and an API session; the agents submit with curl and wait
# with the CLI. A two-person override is begun in alice's console and
# completed by bob's command, and alice's console shows it live; each front
# end acts only as its own reviewer. Then the console's own figures: a new
# submission on screen within 100 ms of its arrival, and under 1% of one
# core over 60 idle seconds.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
command -v tmux > /dev/null || { fail "tmux is missing (make test installs it)"; exit 0; }
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null; then
	fail "team.sh runs as root with setpriv, to take each person's uid"
	exit 0
fi
. "$ROOT/tests/console_lib.sh"
trap '$TM kill-server 2> /dev/null; serve_stop; rm -rf "$T"' EXIT
EX=$ROOT/docs/examples/submissions
ALICE=5001 BOB=5002 CAROL=5003 AGENT_A=5101
clock_start
new_store
enrol alice --role admin --uid "$ALICE" || fail "enrol alice"
enrol bob --role admin --uid "$BOB" --as alice --code "$(code alice)" || fail "enrol bob"
enrol carol --uid "$CAROL" --as alice --code "$(code alice)" || fail "enrol carol"
arbiter agent add rom-agent --uid "$AGENT_A" --as alice --code "$(code alice)"
expect_code 0 "an admin adds an agent by its uid"
arbiter agent add tool-agent --token --as alice --code "$(code alice)"
expect_code 0 "and one by its token"
TOKEN=$(grep -o 'arbiter_[A-Za-z0-9_-]*' "$OUT" | head -1)
[ -n "$TOKEN" ] && pass "whose token is printed once" || fail "no token: $(cat "$OUT")"
printf '%s\n' "$TOKEN" > "$T/tool.token"
chmod 711 "$T" "$T/s"
chmod 644 "$T/tool.token"
mkdir -m 755 "$T/run"
SERVE_SOCKET=$T/run/arbiter.sock
PORT=$(free_port)
serve_start --socket "$SERVE_SOCKET" --listen "127.0.0.1:$PORT"
SERVER=unix:$SOCK TCP=http://127.0.0.1:$PORT

JSON=(-H 'Content-Type: application/json')
# as UID CURL-ARGS...: curl on the socket as uid ($OUT, $STATUS)
as() {
	local uid=$1 got
	shift
	got=$(setpriv --reuid "$uid" --regid "$uid" --clear-groups curl -s --unix-socket "$SOCK" \
		-w '\n%{http_code}' "$@" 2> "$ERR")
	STATUS=${got##*$'\n'}
	printf '%s\n' "${got%$'\n'*}" > "$OUT"
}
# cli UID ARGS...: arbiter through the server as uid ($OUT, $ERR, $CODE)
cli() {
	local uid=$1
	shift
	setpriv --reuid "$uid" --regid "$uid" --clear-groups env HOME=/nonexistent \
		"$ARBITER" --server "$SERVER" "$@" > "$OUT" 2> "$ERR" < /dev/null
	CODE=$?
}
# console_as UID: the console through the server as uid, in tmux
console_as() {
	term_session "setpriv --reuid $1 --regid $1 --clear-groups env HOME=/nonexistent LANG=C.UTF-8 \
		ARBITER_TEST_NOW=$ARBITER_TEST_NOW ASAN_OPTIONS=${ASAN_OPTIONS:-} $ARBITER --server $SERVER tui \
		2>> $T/console.err; echo EXIT=\$?; sleep 600"
}
id_of() { grep -o '"id": *[0-9]*' "$OUT" | head -1 | grep -o '[0-9]*$'; }

# --- the agents submit ---
as "$AGENT_A" -X POST "${JSON[@]}" --data-binary '{"action": "rom.patch", "ref": "rom/1", "title": "Fix cartridge title in header", "bytes_changed": 4, "changes": [{"offset": 65458, "length": 4}], "banks": [0], "commands_executed": 2, "test_failures": 0, "tests": {"overworld_rendering": 1.0, "palette_integrity": 1.0, "dungeon_logic": 1.0}}' \
	http://arbiter/v1/submissions
expect_status 201 "agent rom-agent submits a header patch by its uid"
ROM=$(id_of)
grep -q '"status": *"blocked"' "$OUT" && pass "which is blocked" || fail "not blocked: $(cat "$OUT")"
grep -q '"submitter": *"rom-agent"' "$OUT" && pass "its submitter is the agent's identity" ||
	fail "submitter: $(cat "$OUT")"
curl -s -o "$OUT" -w '%{http_code}' -X POST "${JSON[@]}" -H "Authorization: Bearer $TOKEN" \
	--data-binary '{"action": "code.modify", "ref": "tool/1", "title": "Remove the old parser", "files": [{"path": "src/old.c", "op": "delete"}]}' \
	"$TCP/v1/submissions" > "$T/status"
STATUS=$(cat "$T/status")
expect_status 201 "agent tool-agent submits by its token, over TCP"
PENDING=$(id_of)
grep -q '"status": *"pending"' "$OUT" && pass "which waits for approval" || fail "not pending: $(cat "$OUT")"
as "$AGENT_A" -X POST "${JSON[@]}" --data-binary "{\"decision\": \"approve\", \"ids\": [$ROM], \"code\": \"123456\"}" \
	http://arbiter/v1/decisions
expect_status 403 "an agent may not decide, not even its own"

# --- alice: the console, as herself ---
console_as "$ALICE"
shows 'alice, admin \(not signed in: s\)' "alice's console knows her by her uid"
shows "Fix cartridge title" "her queue shows the agent's submission"
shows "Remove the old pars" "and the other agent's"
keys s
shows 'Sign in as alice' "s opens the sign-in dialog"
keys "$(code alice)" Enter
shows 'alice, admin \(signed in\)' "she signs in through the server"
keys / "cartridge title" Enter o
shows 'Override submission' "o opens the override dialog"
keys "header title change checked against the dump" Tab Tab "$(code alice)" Enter
shows 'override 1 of 2 recorded by alice; it needs a second, different reviewer' \
	"alice's code is the first of two"

# --- bob: the command line, as himself ---
cli "$BOB" --as alice override "$ROM" --justification "second look at the header title change" \
	--code "$(code alice)"
expect_code 4 "bob may not act as alice through the server"
cli "$BOB" override "$ROM" --justification "second look at the header title change" \
	--code "$(code bob)"
expect_code 0 "bob completes the override from the command line"
expect_out "overridden" "and is told so"
shows "overridden" "alice's console shows bob's override without a key"
keys q
shows 'EXIT=0' "alice quits"

# --- carol: curl, an API session ---
as "$CAROL" -X POST "${JSON[@]}" --data-binary "{\"code\": \"$(code carol)\"}" http://arbiter/v1/sessions
expect_status 200 "carol signs in with the API"
SESSION=$(sed -n 's/.*"token": *"\([0-9a-f]*\)".*/\1/p' "$OUT")
as "$CAROL" -X POST "${JSON[@]}" -H "X-Arbiter-Session: $SESSION" \
	--data-binary "{\"decision\": \"approve\", \"ack\": true, \"ids\": [$PENDING], \"as\": \"bob\"}" \
	http://arbiter/v1/decisions
expect_status 403 "carol may not act as bob"
as "$CAROL" -X POST "${JSON[@]}" -H "X-Arbiter-Session: $SESSION" \
	--data-binary "{\"decision\": \"approve\", \"ack\": true, \"ids\": [$PENDING]}" \
	http://arbiter/v1/decisions
expect_status 200 "within her session she approves without a code"

# --- bob: several at once, with one code, as on the files ---
IDS=
for i in 1 2 3; do
	as "$AGENT_A" -X POST "${JSON[@]}" --data-binary "{\"action\": \"code.modify\", \"ref\": \"batch/$i\", \"title\": \"Batch $i\", \"files\": [{\"path\": \"src/b$i.c\", \"op\": \"delete\"}]}" \
		http://arbiter/v1/submissions
	IDS="$IDS $(id_of)"
done
# shellcheck disable=SC2086
cli "$BOB" approve $IDS --ack --code "$(code bob)"
expect_code 0 "bob approves three submissions with one code through the server"
[ "$(grep -c 'approved by bob' "$OUT")" = 3 ] && pass "each is reported approved by bob" ||
	fail "approve of $IDS said: $(cat "$OUT" "$ERR")"

# --- the agents learn the outcome ---
setpriv --reuid "$AGENT_A" --regid "$AGENT_A" --clear-groups env HOME=/nonexistent \
	"$ARBITER" --server "$SERVER" wait "$ROM" --timeout 5 > "$OUT" 2> "$ERR" < /dev/null
CODE=$?
expect_code 0 "rom-agent's wait ends: overridden"
ARBITER_TOKEN=$TOKEN "$ARBITER" --server "$TCP" show "$PENDING" > "$OUT" 2> "$ERR" < /dev/null
CODE=$?
expect_code 0 "tool-agent's submission is approved"
ARBITER_TOKEN=$TOKEN "$ARBITER" --server "$TCP" show "$ROM" > "$OUT" 2> "$ERR" < /dev/null
CODE=$?
expect_code 1 "one agent cannot read the other's submission"
q "SELECT actor || ' ' || event FROM audit WHERE event IN ('override.partial', 'override.grant', 'decision.approve', 'session.signin') ORDER BY seq" > "$T/events"
grep -qx 'alice override.partial' "$T/events" && grep -qx 'bob override.grant' "$T/events" &&
	grep -qx 'carol decision.approve' "$T/events" && pass "the chain records each reviewer's own act" ||
	fail "events: $(cat "$T/events")"

# --- the console's figures: a new submission on screen within 100 ms ---
console_as "$CAROL"
shows 'carol \(not signed in: s\)' "carol's console opens"
# what tmux is sent for the pane, as it comes: the helper times the title's
# arrival there from the server's 201
: > "$T/pane"
chmod 644 "$T/pane"
$TM pipe-pane -t c "cat >> $T/pane"
worst=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	ms=$(setpriv --reuid "$AGENT_A" --regid "$AGENT_A" --clear-groups \
		"$PEER" arrival "$SOCK" "$T/pane" "live-arrival-$i" 2> "$ERR") ||
		{ fail "arrival $i: $(cat "$ERR")"; ms=9999; }
	echo "team.sh: arrival $i on screen after $ms ms" >&2
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.2
done
echo "team.sh: a new submission reached the console in at most $worst ms" >&2
[ "$worst" -lt 100 ] && pass "a new submission is on screen within 100 ms ($worst ms at worst)" ||
	fail "a new submission took $worst ms to appear"

# --- and idle, under 1% of one core over 60 s ---
PID=$(pgrep -f -- "--server $SERVER tui" | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
if [ -n "$PID" ]; then
	ls -l "/proc/$PID/fd" | grep -E 'arbiter\.db|users\.oath|audit\.key' &&
		fail "the console holds a store file open" ||
		pass "the console holds none of the store's files: the server alone does"
	before=$(ticks)
	sleep 60
	used=$(( $(ticks) - before ))
	hz=$(getconf CLK_TCK)
	echo "team.sh: the idle console used $used ticks of $((60 * hz)) in 60 s" >&2
	[ "$used" -lt $((60 * hz / 100)) ] && pass "idle, the console uses under 1% of a core ($used/$((60 * hz)) ticks)" ||
		fail "idle, the console used $used ticks in 60 s"
else
	fail "the console's process is not found"
fi
keys q
shows 'EXIT=0' "carol quits"
