#!/bin/bash
# arbiter hook (PRODUCT.md section 9): the gate an agent's tool runs before
# each call. It exits 0 only when the server says this exact call may
# proceed, and 2 on every other path, each with one line on stderr: here a
# scripted server (tests/helpers/fake_server.c) answers as a real one would
# and misbehaves as a real one should not (closes mid-answer, answers
# garbage, hangs), and every failure path of the hook's own (usage, stdin,
# token file, client.conf) is walked. client.conf, when it exists, decides
# the server alone: the environment and flags cannot point the hook
# elsewhere. The test build reads $ARBITER_TEST_CLIENT_CONF in place of
# /etc/arbiter/client.conf; the release build has no such code.
. "$(dirname "$0")/../lib.sh"
FAKE=$(dirname "$ARBITER")/tests/helpers/fake_server
RELEASE=$ROOT/build/release/arbiter
if [ ! -x "$FAKE" ]; then
	fail "no scripted server at $FAKE (make build/asan/tests/helpers/fake_server)"
	exit 0
fi
cd "$T" || exit 1
unset ARBITER_SERVER ARBITER_TOKEN ARBITER_PUBKEY ARBITER_TEST_CLIENT_CONF
export ARBITER_HOME=$T/no-store

# --- the scripted server ---
# serve NAME STEP...: a server on unix:$T/NAME.sock that takes one
# connection per step, logging requests to $T/NAME.log; stop ends it.
serve() {
	local name=$1
	shift
	rm -f "$T/$name.sock"
	: > "$T/$name.log"
	"$FAKE" "unix:$T/$name.sock" "$T/$name.log" "$@" 2>> "$T/fake.err" &
	FAKE_PID=$!
	for _ in $(seq 100); do [ -S "$T/$name.sock" ] && break; sleep 0.02; done
}
stop() { kill "$FAKE_PID" 2> /dev/null; wait "$FAKE_PID" 2> /dev/null; return 0; }
requests() { grep -c '^=== end of request' "$T/$1.log"; }

# answer bodies
result() {      # result FILE ID STATUS [FINDINGS-JSON [EXTRA-MEMBERS]]
	printf '{"id":%s,"ref":null,"kind":"proposal","action":"tool.call","status":"%s","digest":"%064d","findings":%s%s}' \
		"$2" "$3" 0 "${4:-[]}" "${5:+,$5}" > "$T/$1"
}
DENY='[{"policy":"no_rm_rf","type":"expression","severity":"critical","effect":"deny","overridable":true,"message":"rm -rf is off limits"}]'
HARD='[{"policy":"self_protection","type":"protected_paths","severity":"critical","effect":"deny","overridable":false,"message":"the store protects itself"}]'
ASK='[{"policy":"shell_review","type":"expression","severity":"info","effect":"require_approval","message":"shell commands need a look"}]'
WARN='[{"policy":"big_diff","type":"expression","severity":"warning","effect":"warn","message":"a large change"}]'
MOD='[{"policy":"drafts_only","type":"expression","severity":"info","effect":"modify","message":"run as a draft"}]'
result allowed.json 7 allowed
result blocked.json 8 blocked "$DENY"
result hard.json 9 blocked "$HARD"
result pending.json 10 pending "$ASK"
result warned.json 11 pending "$WARN"
result modified.json 12 allowed "$MOD" '"modifications":{"mode":"draft"}'
result approved.json 10 approved "$ASK" '"decisions":[{"reviewer":"bob","decision":"approve","note":null}]'
result approved_mod.json 12 approved "$MOD" '"modifications":{"mode":"draft"}'
result rejected.json 10 rejected "$ASK" '"decisions":[{"reviewer":"bob","decision":"reject","note":"not on main"}]'
result overridden.json 8 overridden "$DENY" '"expires_at":"2030-01-01T08:00:00.000Z"'
result expired.json 8 expired "$DENY"
result strange.json 13 weird
echo '{"error":{"code":"unauthenticated","message":"no token or a bad token"}}' > unauth.json
echo '{"error":{"code":"bad_input","message":"expected a mapping","line":1,"column":3}}' > bad_input.json
echo '{"error":{"code":"busy","message":"the store is busy"}}' > busy.json
echo 'this is not json' > text.txt
printf 'SSH-2.0-OpenSSH_9.2\r\n' > garbage.txt
head -c 5000000 /dev/zero | tr '\0' ' ' > huge.txt

CALL='{"tool_name":"Bash","tool_input":{"command":"rm -rf build"},"session_id":"s-1","cwd":"/work/p","hook_event_name":"PreToolUse","transcript_path":"/tmp/t.jsonl"}'
printf '%s\n' "$CALL" > call.json
# hook [ARGS...]: the hook on call.json (or $IN), as the host runs it
hook() { run "$ARBITER" hook "$@" < "${IN:-$T/call.json}"; }
# expect_deny REGEX DESC: exit 2 and exactly one line on stderr, matching
expect_deny() {
	expect_code 2 "$2: exit 2"
	local lines
	lines=$(wc -l < "$ERR")
	if [ "$lines" -eq 1 ] && grep -qE -- "^arbiter hook: .*$1" "$ERR"; then
		pass "$2: one line says why"
	else
		fail "$2: one line matching /$1/ on stderr ($lines lines)"
	fi
}
export ARBITER_SERVER=unix:$T/s.sock

# --- the verdicts ---
serve s 201:allowed.json
hook
expect_code 0 "an allowed call proceeds"
[ -s "$ERR" ] && fail "an allow says nothing on stderr" || pass "an allow says nothing on stderr"
stop
grep -q '^POST /v1/submissions?match=digest HTTP/1.1' s.log && pass "the call is POSTed with ?match=digest" ||
	fail "request line: $(head -1 s.log)"
body=$(sed -n '/^{/p' s.log)
[ "$body" = '{"action":"tool.call","tool":"Bash","input":{"command":"rm -rf build"},"cwd":"/work/p","meta":{"session":"s-1","event":"PreToolUse"}}' ] &&
	pass "the submission is the tool call: action, tool, input, cwd, meta {session, event}" || fail "body: $body"
grep -qi '^content-type: application/json' s.log && pass "sent as application/json" || fail "no JSON content type"
grep -qi '^authorization:' s.log && fail "no token given, none sent" || pass "no token given, none sent"

serve s 201:allowed.json
hook --format json
expect_code 0 "--format json: allowed"
[ "$(cat "$OUT")" = '{"decision":"allow","reason":"allowed (#7)","id":7}' ] && pass "--format json prints the verdict object" ||
	fail "json: $(cat "$OUT")"
stop

serve s 201:blocked.json
hook
expect_deny 'blocked \(#8\): policy no_rm_rf \(rm -rf is off limits\): a reviewer can run `arbiter override 8 --justification TEXT`' \
	"a blocked call names the submission, the policy and the override"
stop
serve s 201:blocked.json
hook --format json
expect_code 2 "--format json: blocked exits 2"
grep -qF '{"decision":"deny","reason":"blocked (#8): policy no_rm_rf (rm -rf is off limits): a reviewer can run `arbiter override 8 --justification TEXT`","id":8}' "$OUT" &&
	pass "--format json: the deny object with the same reason" || fail "json: $(cat "$OUT")"
stop
serve s 201:hard.json
hook
expect_deny 'blocked \(#9\): policy self_protection .*no reviewer can override it' "a block nobody can override says so"
stop
serve s 201:pending.json
hook
expect_deny 'awaiting review \(#10\): policy shell_review \(shell commands need a look\): a reviewer can run `arbiter approve 10`' \
	"a pending call names the approval"
stop
serve s 201:warned.json
hook
expect_deny 'awaiting review \(#11\): policy big_diff .*`arbiter approve 11 --ack`' "warnings ask for approve --ack"
stop
result counted.json 15 pending "$ASK" '"counts":{"info":1,"warning":1,"critical":0}'
serve s 201:counted.json
hook
expect_deny '`arbiter approve 15 --ack`' "a warning counted in counts asks for --ack too"
stop
serve s 201:modified.json
hook
expect_deny 'allowed only with modifications \(#12\): \{"mode":"draft"\} \(policy drafts_only' \
	"allowed only with modifications is denied: a hook cannot apply them"
stop
serve s 200:approved.json
hook
expect_code 0 "an approved call (matched by digest) proceeds"
stop
serve s 200:approved_mod.json
hook
expect_deny 'approved only with modifications \(#12\)' "approved, but with modifications: still denied"
stop
serve s 200:overridden.json
hook --format json
expect_code 0 "an overridden, unexpired call proceeds"
grep -qF '"reason":"overridden until 2030-01-01T08:00:00.000Z (#8)"' "$OUT" && pass "the override's expiry is the reason" ||
	fail "json: $(cat "$OUT")"
stop
serve s 200:rejected.json
hook
expect_deny 'rejected by bob \(#10\): not on main' "a rejected call says who and why"
stop
serve s 200:expired.json
hook
expect_deny 'override expired \(#8\)' "an expired override denies"
stop
serve s 201:strange.json
hook
expect_deny 'unknown status \(#13\)' "a status the hook does not know denies"
stop

# --- --wait: long-polls until a decision or the cap ---
serve s 201:pending.json 200:approved.json
hook --wait 5
expect_code 0 "--wait: pending, then approved while waiting: proceeds"
stop
grep -qE '^GET /v1/submissions/10\?wait=[1-5] HTTP/1.1' s.log && pass "--wait long-polls GET /v1/submissions/ID?wait=SEC" ||
	fail "requests: $(grep -E '^(GET|POST)' s.log | tr '\n' ' ')"
serve s 201:pending.json 200:rejected.json
hook --wait 5
expect_deny 'rejected by bob \(#10\)' "--wait: rejected while waiting"
stop
serve s 201:pending.json 200:pending.json 200:pending.json 200:pending.json
hook --wait 1
expect_deny 'still awaiting review \(#10\): policy shell_review .*arbiter approve 10' \
	"--wait: at the deadline, still awaiting review (#ID)"
stop
serve s 201:hard.json
hook --wait 5
expect_deny 'blocked \(#9\)' "--wait does not wait on a block nobody can override"
[ "$(requests s)" -eq 1 ] && pass "... and asks nothing more" || fail "$(requests s) requests"
stop
for w in 51 -1 abc 1x 9999999; do
	hook --wait "$w"
	expect_deny "--wait $w is out of range: 0 to 50 seconds" "--wait $w is refused (max_wait 50 by default)"
done
serve s 201:allowed.json
hook --wait 50
expect_code 0 "--wait 50 is within max_wait; an allowed call does not wait"
stop

# --- the server misbehaves ---
ARBITER_SERVER=unix:$T/nobody-here.sock hook
expect_deny 'cannot reach the server at unix:'"$T"'/nobody-here.sock' "server unreachable (no socket)"
serve s close
hook
expect_deny 'server unix:.*: the connection broke' "the server closes without answering"
stop
serve s half:allowed.json
hook
expect_deny 'server unix:.*: the connection broke' "the server closes mid-answer"
stop
serve s raw:garbage.txt
hook
expect_deny 'server unix:' "the server answers something that is not HTTP"
stop
serve s 200:text.txt
hook
expect_deny 'not a submission result: not JSON' "a 200 that is not JSON denies"
stop
serve s 200:huge.txt
hook
expect_deny 'longer than 4194304 bytes' "an answer over the hook's limit denies"
stop
serve s 401:unauth.json
hook
expect_deny 'the server refused the call \(HTTP 401, unauthenticated\): no token or a bad token' "a 401 names the error"
stop
serve s 400:bad_input.json
hook
expect_deny 'HTTP 400, bad_input\): line 1, column 3: expected a mapping' "an error's line and column are kept"
stop
serve s 502:text.txt
hook
expect_deny 'HTTP 502 without an arbiter error' "an error that is not arbiter's denies"
stop
serve s RETRY:1:busy.json 201:allowed.json
hook
expect_code 0 "a 503 with Retry-After is tried again after it"
[ "$(requests s)" -eq 2 ] && pass "... once" || fail "$(requests s) requests"
stop
serve s RETRY:30:busy.json
hook
expect_deny 'HTTP 503, busy' "a Retry-After beyond the hook's time is not waited for"
stop
serve s hang
start=$(date +%s)
hook
expect_deny 'no answer within' "a server that never answers: timeout"
[ $(( $(date +%s) - start )) -le 12 ] && pass "... within the hook's own deadline" || fail "took $(( $(date +%s) - start ))s"
stop
for sig in TERM HUP INT SEGV ABRT; do
	serve s hang
	"$ARBITER" hook < call.json > /dev/null 2> "$T/term.err" &
	pid=$!
	# once its request has reached the server, the hook is waiting on it
	for _ in $(seq 500); do [ "$(requests s)" -ge 1 ] && break; sleep 0.02; done
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 2 ] && grep -q '^arbiter hook: stopped before a verdict: the call is refused$' "$T/term.err" &&
		pass "SIG$sig (the host giving up, or a crash) exits 2, not 'go ahead'" || fail "SIG$sig: exit $rc"
	stop
done
result hostile.json 14 blocked '[{"policy":"p\u001b[2J","effect":"deny","overridable":true,"message":"m\u001b]0;x\u0007 \u202eevil"}]'
serve s 201:hostile.json
hook
expect_code 2 "a hostile policy name and message"
if LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xe2\x80\xae' "$ERR"; then fail "... reach the terminal raw"; else
	grep -qF 'p\x1b[2J' "$ERR" && pass "... are shown escaped" || fail "$(cat "$ERR")"; fi
stop

# --- the call on standard input ---
bad_call() {    # bad_call TEXT REGEX DESC
	printf '%s' "$1" > bad.json
	IN=$T/bad.json hook
	expect_deny "$2" "$3"
}
serve s 201:allowed.json
bad_call '' '<stdin>:' "empty standard input"
bad_call 'not json' '<stdin>:1:' "standard input that is not JSON"
bad_call '[1,2]' 'one JSON object .*not an array' "an array"
bad_call '{"tool_input":{}}' 'no tool_name' "a call without tool_name"
bad_call '{"tool_name":"Bash"}' 'no tool_input' "a call without tool_input"
bad_call '{"tool_name":"Bash","tool_name":"Edit","tool_input":{}}' '<stdin>:1:.*duplicate' "a duplicate key"
bad_call '{"tool_name":"Bash","tool_input":{"n":9007199254740992}}' 'beyond ±\(2\^53 - 1\)' "an integer beyond ±(2^53 - 1)"
bad_call '{"tool_name":"Bash","tool_input":{"n":-9007199254740992}}' 'beyond ±\(2\^53 - 1\)' "... either way"
bad_call '{"tool_name":"Bash","tool_input":{}} {}' '<stdin>:1:' "two objects"
bad_call '{"tool_name":"Bash","tool_input":{},"cwd":7}' "cwd is not a string" "a cwd that is not a string"
{ printf '{"tool_name":"Bash","tool_input":{"s":"'; head -c 1100000 /dev/zero | tr '\0' a; printf '"}}'; } > big.json
IN=$T/big.json hook
expect_deny 'longer than 1048576 bytes' "a call over 1 MiB"
[ "$(requests s)" -eq 0 ] && pass "a malformed call is never sent" || fail "$(requests s) requests"
stop
serve s 201:allowed.json
printf '{"tool_name":"x","tool_input":{"n":9007199254740991,"m":-9007199254740991}}' > edge.json
IN=$T/edge.json hook
expect_code 0 "integers of ±(2^53 - 1) are read"
stop
serve s 201:allowed.json
printf '{"tool_name":"Write","tool_input":{"content":"\\ud83d\\ude00 \\u00e9"}}' > emoji.json
mkdir -p "$T/agent dir"
cd "$T/agent dir" && IN=$T/emoji.json hook
cd "$T" || exit 1
expect_code 0 "surrogate pairs (as JSON writers escape them) are read"
stop
body=$(sed -n '/^{/p' s.log)
[ "$body" = "{\"action\":\"tool.call\",\"tool\":\"Write\",\"input\":{\"content\":\"😀 é\"},\"cwd\":\"$T/agent dir\"}" ] &&
	pass "sent as UTF-8; a call without cwd takes the hook's directory; no meta without session or event" ||
	fail "body: $body"

# --- the token ---
printf 's3cr3t-t0ken_value\n' > token && chmod 600 token
serve s 201:allowed.json
hook --token-file "$T/token"
expect_code 0 "a token file"
grep -q '^Authorization: Bearer s3cr3t-t0ken_value' s.log && pass "its token is sent as a bearer token" || fail "no Authorization"
stop
serve s 201:allowed.json
ARBITER_TOKEN=env-t0ken hook
expect_code 0 "ARBITER_TOKEN"
grep -q '^Authorization: Bearer env-t0ken' s.log && pass "ARBITER_TOKEN holds the token itself" || fail "no Authorization"
stop
serve s 201:blocked.json
hook --token-file "$T/token"
expect_code 2 "a blocked call with a token"
grep -q 's3cr3t' "$OUT" "$ERR" && fail "the token appears in the output" || pass "the token is never printed"
stop
serve s 201:allowed.json
hook --token-file "$T/missing-token"
expect_deny "token file $T/missing-token: cannot read it" "a missing token file"
printf 'tok\n' > open-token && chmod 644 open-token
hook --token-file "$T/open-token"
expect_deny "refused: other users can read or write it \\(chmod 600" "a token file others can read"
: > empty-token && chmod 600 empty-token
hook --token-file "$T/empty-token"
expect_deny "holds no token" "an empty token file"
printf 'one\ntwo\n' > two-token && chmod 600 two-token
hook --token-file "$T/two-token"
expect_deny "one token on one line" "a token file of two lines"
printf 'bad token\n' > space-token && chmod 600 space-token
hook --token-file "$T/space-token"
expect_deny "not a bearer token" "a token with a space"
ARBITER_TOKEN=$'x\r\nX-Evil: 1' hook
expect_deny "ARBITER_TOKEN does not hold a bearer token" "ARBITER_TOKEN with a header in it"
grep -q 'X-Evil' "$ERR" && fail "... its value is printed" || pass "... and its value is not printed"
[ "$(requests s)" -eq 0 ] && pass "a bad token sends nothing" || fail "$(requests s) requests"
stop

# --- the server's address ---
for bad in http://192.0.2.1:8080 http://example.com:80 ftp://127.0.0.1/ unix:relative.sock 'https://u:p@127.0.0.1:1' \
		'https://127.0.0.1:1/?q=1'; do
	ARBITER_SERVER=$bad hook
	expect_deny "server " "ARBITER_SERVER=$bad is refused before any connection"
done
ARBITER_SERVER=http://192.0.2.1:8080 hook
expect_deny 'plain http:// only to a loopback address' "plain http is only for loopback"
unset ARBITER_SERVER
hook
expect_deny 'no server to ask: give --server URL or set ARBITER_SERVER' "no server anywhere: no embedded fallback"
mkdir -p withstore && "$ARBITER" init "$T/withstore" > /dev/null 2>&1
cd withstore && ARBITER_HOME= hook
cd "$T" || exit 1
expect_deny 'no server to ask' "a store in the working directory is never opened"
serve s 201:allowed.json
hook --server "unix:$T/s.sock"
expect_code 0 "--server URL"
stop
export ARBITER_SERVER=unix:$T/s.sock

# --- client.conf ---
mkdir -m 755 etc
CONF=$T/etc/client.conf
conf() { printf '%s\n' "$@" > "$CONF"; chmod 644 "$CONF"; }
export ARBITER_TEST_CLIENT_CONF=$CONF
conf "server: unix:$T/s.sock" "max_wait: 5"
serve evil 201:allowed.json
evil_pid=$FAKE_PID
serve s 201:blocked.json
ARBITER_SERVER=unix:$T/evil.sock hook --server "unix:$T/evil.sock"
expect_deny 'blocked \(#8\)' "with client.conf, its server answers"
stop
[ "$(requests evil)" -eq 0 ] && pass "ARBITER_SERVER and --server pointing elsewhere are ignored" || fail "the agent's server was asked"
kill "$evil_pid" 2> /dev/null
hook --wait 6
expect_deny '--wait 6 is out of range: 0 to 5 seconds \(max_wait in '"$CONF"'\)' "client.conf's max_wait caps --wait"
conf "# arbiter's server" "" "server: 'unix:$T/s.sock'   # quoted, with a comment" "max_wait: 1m"
serve s 201:allowed.json
hook --wait 60
expect_code 0 "comments, blank lines, quotes and a duration"
stop
conf "max_wait: 5"
hook
expect_deny "$CONF names no server" "a client.conf without server: does not fall back on the environment"
conf_bad() {    # conf_bad REGEX DESC LINE...
	local re=$1 desc=$2
	shift 2
	conf "$@"
	hook
	expect_deny "$re" "$desc"
}
conf_bad "$CONF:2:1: unknown setting \"sever\"" "an unknown setting" "server: unix:$T/s.sock" "sever: x"
conf_bad "$CONF:2:1: server is set twice \\(first on line 1\\)" "a setting given twice" "server: unix:$T/s.sock" "server: unix:/x"
conf_bad "$CONF:1:11: max_wait \"301\" is not a number of seconds from 0 to 300" "max_wait out of range" "max_wait: 301"
conf_bad "$CONF:1:9: server http://10.1.2.3:80: plain http:// only" "http to another host" "server: http://10.1.2.3:80"
conf_bad "$CONF:1:10: tls_pin \"abc\" is not a SHA-256" "a bad tls_pin" "tls_pin: abc"
conf_bad "$CONF:1:1: a setting begins its line" "an indented line" "  server: unix:/x"
conf_bad "$CONF:1:8: server has no value" "a setting without a value" "server:"
conf_bad "$CONF:1:7: expected \"server: value\"" "no space after the colon" "server:unix:/x"
conf_bad "$CONF:1:9: pubkey \"key.pub\" is not the absolute path" "a relative pubkey" "pubkey: key.pub"
conf_bad "$CONF:1:14: server_user \"Root User\"" "a server_user that is no login" "server_user: Root User"
conf "server: unix:$T/s.sock"
chmod 666 "$CONF"
hook
expect_deny "$CONF: refused: it must be owned by root and writable by nobody else" "a client.conf others can write"
chmod 644 "$CONF"
chmod 777 etc
hook
expect_deny "its directory $T/etc is not root's alone" "a client.conf in a directory others can write"
chmod 755 etc
if [ "$(id -u)" -eq 0 ]; then
	chown 65534 "$CONF"
	hook
	expect_deny "refused: it must be owned by root" "a client.conf owned by someone else"
	chown 0 "$CONF"
	chown 65534 etc
	hook
	expect_deny "its directory $T/etc is not root's alone" "a client.conf in someone else's directory"
	chown 0 etc
else
	cp "$CONF" conf.copy && rm -f "$CONF" && ln -s /etc/passwd "$CONF"
	hook
	expect_deny "refused|cannot read" "a client.conf that is someone else's file"
	rm -f "$CONF" && mv conf.copy "$CONF"
fi
mv "$CONF" conf.real
ln -s "$T/etc/gone" "$CONF"
hook
expect_deny "$CONF: cannot read it" "an unreadable client.conf (a dangling link) is refused, not ignored"
rm "$CONF"
mkdir "$CONF"
hook
expect_deny "$CONF: not a regular file" "a client.conf that is a directory"
rmdir "$CONF"
mv conf.real "$CONF"

# server_user: the server's uid must be that user's
conf "server: unix:$T/s.sock" "server_user: $(id -un)"
serve s 201:allowed.json
hook
expect_code 0 "server_user: the server runs as that user"
stop
other=$(getent passwd 65534 | cut -d: -f1)
conf "server: unix:$T/s.sock" "server_user: ${other:-65534}"
serve s 201:allowed.json
hook --token-file "$T/token"
expect_deny "the server runs as uid $(id -u), not as ${other:-65534} \\(server_user\\)" "a server of another uid is refused"
[ "$(requests s)" -eq 0 ] && pass "... before anything, the token included, is sent" || fail "$(requests s) requests"
stop
conf "server: unix:$T/s.sock" "server_user: no-such-user-here"
hook
expect_deny "server_user no-such-user-here: no such user" "a server_user that does not exist"
unset ARBITER_TEST_CLIENT_CONF

# --- https and the certificate pin ---
if command -v openssl > /dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
		-days 30 -subj /CN=arbiter-test > /dev/null 2>&1
	FP=$(openssl x509 -in cert.pem -noout -fingerprint -sha256 | cut -d= -f2)
	# another pin: the first byte changed (a certificate whose own begins
	# with 00 gets 11, so that the pin is never its own)
	OTHER=$(printf '%s' "$FP" | sed 's/^00/11/; t; s/^../00/')
	b=$(cat allowed.json)
	printf 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"${#b}" "$b" > allowed.http
	tls_serve() {   # an https server on $port answering allowed.http once, logging to tls.log
		port=$(free_port)
		(sleep 1; cat allowed.http; sleep 3) | timeout 10 openssl s_server -quiet -accept "127.0.0.1:$port" \
			-cert cert.pem -key key.pem -naccept 1 > tls.log 2>&1 &
		TLS_PID=$!
		# until it listens (0A in /proc/net/tcp)
		for _ in $(seq 200); do
			grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$port") 00000000:0000 0A " /proc/net/tcp && break
			sleep 0.05
		done
	}
	export ARBITER_TEST_CLIENT_CONF=$CONF
	tls_serve
	conf "server: https://127.0.0.1:$port" "tls_pin: $FP"
	hook
	expect_code 0 "https with tls_pin: the pinned (self-signed) certificate is trusted"
	wait "$TLS_PID"
	tls_serve
	conf "server: https://127.0.0.1:$port" "tls_pin: $OTHER"
	hook --token-file "$T/token"
	expect_deny "the server's certificate \\(SHA-256 [0-9a-f]{64}\\) is not the one tls_pin names" "another certificate than the pin is refused"
	grep -q 'POST\|s3cr3t' tls.log && fail "... after the request was sent" || pass "... before the request (and its token) is sent"
	kill "$TLS_PID" 2> /dev/null; wait "$TLS_PID" 2> /dev/null
	unset ARBITER_TEST_CLIENT_CONF
	tls_serve
	ARBITER_SERVER=https://127.0.0.1:$port hook
	expect_deny "its certificate is not trusted" "https without a pin checks the certificate against the CAs"
	kill "$TLS_PID" 2> /dev/null; wait "$TLS_PID" 2> /dev/null
else
	fail "openssl is missing: the certificate pin is untested"
fi

# --- a public key (tests/cli/hook_signed.sh checks the signed events) ---
serve s 201:allowed.json 201:allowed.json
hook --pubkey "$T/audit.pub"
expect_deny "the public key $T/audit.pub cannot be read" "--pubkey: a key file that cannot be read"
ARBITER_PUBKEY=$T/audit.pub hook
expect_deny "the public key $T/audit.pub cannot be read" "ARBITER_PUBKEY: the same"
[ "$(requests s)" -eq 0 ] && pass "... refused before the call is submitted" || fail "$(requests s) requests"
stop
conf "server: unix:$T/s.sock" "pubkey: $T/audit.pub"
ARBITER_TEST_CLIENT_CONF=$CONF hook --pubkey "$T/withstore/.arbiter/keys/audit.pub"
expect_deny "the public key $T/audit.pub cannot be read" "client.conf's pubkey: the same, and --pubkey cannot replace it"

# --- every path exits 0 or 2 ---
hook --format xml
expect_deny '--format takes text or json' "--format xml"
hook extra
expect_deny 'unexpected argument "extra"' "an argument"
run "$ARBITER" hook --bogus < call.json
expect_code 2 "an unknown option exits 2"
run "$ARBITER" hook --wait < /dev/null
expect_code 2 "an option without its value exits 2"

# --- the release build ---
if [ -x "$RELEASE" ]; then
	strings "$RELEASE" | grep -q ARBITER_TEST_CLIENT_CONF && fail "the release build knows ARBITER_TEST_CLIENT_CONF" ||
		pass "the release build does not contain ARBITER_TEST_CLIENT_CONF"
	if [ ! -e /etc/arbiter/client.conf ]; then
		conf "server: unix:$T/evil.sock"
		serve s 201:blocked.json
		ARBITER_TEST_CLIENT_CONF=$CONF run "$RELEASE" hook < call.json
		expect_deny 'blocked \(#8\)' "the release build ignores ARBITER_TEST_CLIENT_CONF"
		stop
	fi
fi
