#!/bin/bash
# Commands through a running server (PRODUCT.md section 9, Finding the
# server). The suites that cover what users run are run again with
# ARBITER_SERVED=1 (tests/lib.sh) by tests/run.sh, each as a job of its own
# (tests/cli/served.list): every command in them finds arbiter serve on the
# store's socket and goes through it, and every check must pass as it passes
# on the files. This suite checks what only a served run shows: a command does
# not open the database, the signing key or users.oath itself (strace); a
# server named on purpose (--server, $ARBITER_SERVER, client.conf) must
# answer, and one that does not is an error, never a quiet fallback; the
# store's own socket is used only when it is the caller's and answers;
# local-only commands still work beside the server (the console is a client:
# tests/cli/team.sh); wait is woken by a
# decision made through the server, audit tail -f follows its event stream,
# and a checkpoint and an export are written where the command says,
# signed by the server's key.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
EX=$ROOT/docs/examples/submissions

# --- one store, its server, and what goes through it ---
clock_start
new_store
enrol alice --role admin || fail "enrol alice"
printf 'action: code.modify\nref: served/1\nfiles:\n  - {path: src/old.c, op: delete}\n' > "$T/pending.yaml"
arbiter submit --json "$T/pending.yaml"
ID=$(grep -o '"id":[0-9]*' "$OUT" | cut -d: -f2)
serve_start

# traced CMD...: runs arbiter under strace; $T/trace lists the files it opened
traced() {
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=open,openat -o "$T/trace" "$ARBITER" "$@" \
		> "$OUT" 2> "$ERR"
	CODE=$?
}
opened_store() { grep -E 'arbiter\.db|users\.oath|audit\.key' "$T/trace" | grep -v ENOENT; }
if ! command -v strace > /dev/null; then
	fail "strace is missing (make test installs it)"
else
	for cmd in "show $ID" "list" "stats" "wait $ID --timeout 0" "audit list" "reviewer list" \
	    "policy list" "submit $EX/code-01-refactor.yaml"; do
		# shellcheck disable=SC2086
		traced $cmd
		[ "$CODE" -le 3 ] && [ -z "$(opened_store)" ] &&
			pass "arbiter $cmd goes through the server: it opens no store file itself" ||
			fail "arbiter $cmd (exit $CODE) opened: $(opened_store | head -2) $(head -2 "$ERR")"
	done
	traced --as alice approve "$ID" --ack --code "$(code alice)"
	expect_code 0 "an approval through the server is recorded"
	[ -z "$(opened_store)" ] && pass "the approval read no code secret and opened no database" ||
		fail "the approval opened: $(opened_store | head -2)"
	grep -q "POST /v1/decisions 200" "$T/serve.log" && pass "the server answered the decision" ||
		fail "the server's log has no decision"
	traced audit verify
	expect_code 0 "audit verify, local-only, still verifies beside the server"
	[ -n "$(opened_store)" ] && pass "audit verify reads the store's own files" ||
		fail "audit verify opened no database"
fi

# --- local-only commands beside the server ---
arbiter init "$T/other"
expect_code 0 "init makes another store while a server runs on this one"
arbiter eval --policies "$H/policies" "$EX/code-02-complexity.yaml"
expect_code 3 "eval of a policy directory evaluates"
arbiter policy check
expect_code 0 "policy check reads the files"

# --- a server named on purpose must answer ---
arbiter --server "unix:$T/nothing.sock" show "$ID"
expect_code 1 "--server to a socket nobody answers on is an error"
expect_err "cannot reach the server at unix:$T/nothing.sock" "which names the server"
expect_no_out . "and nothing else is printed"
ARBITER_SERVER=unix:$T/nothing.sock arbiter list
expect_code 1 "\$ARBITER_SERVER that does not answer is an error"
ARBITER_SERVER=unix:$T/nothing.sock arbiter --server "unix:$SOCK" show "$ID"
expect_code 0 "--server comes before \$ARBITER_SERVER"
arbiter --server http://192.0.2.1:8080 show "$ID"
expect_code 1 "plain http to another host is refused"
expect_err 'only to a loopback' "as only to loopback"
mkdir -p "$T/nowhere" && cd "$T/nowhere" || exit 1
ARBITER_SERVER=unix:$SOCK arbiter show "$ID"
expect_code 0 "\$ARBITER_SERVER reaches the store from a directory without one"
expect_out "^submission $ID: approved" "with its submission"
printf 'server: unix:%s\n' "$SOCK" > "$T/client.conf"
chmod 644 "$T/client.conf"
ARBITER_TEST_CLIENT_CONF=$T/client.conf arbiter list --json
expect_code 0 "client.conf's server: reaches the store"
expect_out "\"id\":$ID," "and lists it"
printf 'server: unix:%s\nserver_user: nobody\n' "$SOCK" > "$T/client.conf"
ARBITER_TEST_CLIENT_CONF=$T/client.conf arbiter list
expect_code 1 "a server that does not run as client.conf's server_user is refused"
expect_err 'not as nobody' "the refusal names the user"
printf 'server: %s\n' "nonsense" > "$T/client.conf"
ARBITER_TEST_CLIENT_CONF=$T/client.conf arbiter list
expect_code 1 "a client.conf whose server is not an address is an error"
cd "$T/s" || exit 1

# --- wait, woken by a decision through the server ---
arbiter submit --json "$EX/code-04-cleanup.yaml"
W=$(grep -o '"id":[0-9]*' "$OUT" | cut -d: -f2)
START=$(date +%s%N)
"$ARBITER" wait "$W" --timeout 30 > "$T/wait.out" 2>&1 &
WAITER=$!
# once it has a socket it is at the server; then 0.5 s of the long poll
for _ in $(seq 1 100); do ls -l "/proc/$WAITER/fd" 2> /dev/null | grep -q 'socket:' && break; sleep 0.05; done
sleep 0.5
arbiter --as alice approve "$W" --ack --code "$(code alice)"
wait "$WAITER"
WAIT_CODE=$?
ELAPSED=$((($(date +%s%N) - START) / 1000000))
[ "$WAIT_CODE" -eq 0 ] && grep -q "^submission $W: approved" "$T/wait.out" &&
	pass "wait through the server returns the decision" || fail "wait: exit $WAIT_CODE, $(cat "$T/wait.out")"
[ "$ELAPSED" -lt 5000 ] && pass "the decision woke the long poll (${ELAPSED}ms)" ||
	fail "wait took ${ELAPSED}ms"
# the log line of the long poll: time, who, method, path, status, bytes, microseconds
awk -v p="/v1/submissions/$W" '$3 == "GET" && $4 == p && $7 >= 300000 { found = 1 } END { exit !found }' \
	"$T/serve.log" && pass "wait long-polls the server" || fail "no long poll in the server's log"

# --- audit tail -f follows the server's event stream ---
heads=$(grep -c ' GET /v1/status ' "$T/serve.log")
"$ARBITER" audit tail -f --limit 0 --json > "$T/tail.out" 2> "$T/tail.err" &
TAILER=$!
# with --limit 0 it follows from the head GET /v1/status gives: once the
# server has logged that request, what is submitted next is after it
for _ in $(seq 1 100); do [ "$(grep -c ' GET /v1/status ' "$T/serve.log")" -gt "$heads" ] && break; sleep 0.05; done
arbiter submit "$EX/code-01-refactor.yaml" "$EX/rom-01-clean-patch.yaml"
for _ in $(seq 1 60); do grep -q '"event":"submission.create"' "$T/tail.out" && break; sleep 0.1; done
grep -q '"event":"submission.create"' "$T/tail.out" && pass "audit tail -f prints an event appended through the server" ||
	fail "audit tail -f printed: $(head -3 "$T/tail.out") $(head -3 "$T/tail.err")"
kill -TERM "$TAILER"
wait "$TAILER"
TAIL_CODE=$?
[ "$TAIL_CODE" -eq 0 ] && pass "audit tail -f ends cleanly on SIGTERM" || fail "audit tail -f exited $TAIL_CODE: $(head -3 "$T/tail.err")"
grep -q "GET /v1/events" "$T/serve.log" && pass "it followed the event stream" || fail "no event stream in the server's log"

# --- checkpoint and export: the server signs, the command writes ---
arbiter --as alice audit checkpoint --out "$T/cp.txt"
expect_code 0 "audit checkpoint through the server"
minisign -Vm "$T/cp.txt" -p "$H/keys/audit.pub" > /dev/null 2>&1 &&
	pass "the checkpoint is where --out says, signed by the store's key" || fail "checkpoint signature"
arbiter audit verify --checkpoint "$T/cp.txt"
expect_code 0 "the log extends the checkpoint"
arbiter --as alice audit export --out "$T/export.json"
expect_code 0 "audit export through the server"
arbiter audit list --event audit.export --limit 1
expect_out ' alice +audit\.export ' "its event names the actor --as gives"
minisign -Vm "$T/export.json" -p "$H/keys/audit.pub" > /dev/null 2>&1 &&
	pass "the export is where --out says, signed by the store's key" || fail "export signature"
grep -q '"verification"' "$T/export.json" && pass "the export is the report" || fail "export body"

# --- the store's own socket: the caller's, and answering ---
if command -v strace > /dev/null; then
	chown 65534 "$SOCK"
	traced show "$ID"
	[ "$CODE" -eq 0 ] && [ -n "$(opened_store)" ] &&
		pass "a socket that is not the caller's is not used: the command opens the store" ||
		fail "with another's socket: exit $CODE, opened $(opened_store | head -1)"
	chown "$(id -u)" "$SOCK"
fi
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2> /dev/null
SERVE_PID=
[ -S "$SOCK" ] && pass "a killed server leaves its socket" || fail "no socket left"
arbiter show "$ID"
expect_code 0 "a socket nobody answers on is a server that is gone: the command opens the store"
arbiter --server "unix:$SOCK" show "$ID"
expect_code 1 "but named on purpose, it must answer"
