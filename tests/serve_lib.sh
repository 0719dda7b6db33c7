# tests/serve_lib.sh: running arbiter serve in a test (source after lib.sh).
#
#   serve_start [ARGS...]   starts arbiter serve on the current store ($H) in
#                           the background with ARGS; waits until /health
#                           answers; its stderr goes to $T/serve.log. With
#                           --socket PATH in ARGS, set SERVE_SOCKET=PATH too
#   serve_stop              SIGTERM, waits for it; its exit code in $SERVE_CODE
#   api METHOD PATH [CURL ARGS...]
#                           one request on the store's socket: the body in
#                           $OUT, the HTTP status in $STATUS
#   SOCK                    the socket's path
#   serve_settings YAML     server: settings in config.yaml, pinned (below)
#   PEER, fd_count, rss_kb  the test clients of tests/helpers/peer.c, and the
#                           server's descriptors and memory (below)
SOCK=
SERVE_PID=
SERVE_CODE=
STATUS=

serve_start() {
	SOCK=${SERVE_SOCKET:-$H/arbiter.sock}
	"$ARBITER" serve "$@" 2> "$T/serve.log" &
	SERVE_PID=$!
	for _ in $(seq 1 100); do
		curl -s --unix-socket "$SOCK" -o /dev/null http://arbiter/health 2>/dev/null && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "the server did not start: $(head -3 "$T/serve.log")"
	return 1
}

serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
	SERVE_CODE=$?
	SERVE_PID=
	if grep -qE 'runtime error:|AddressSanitizer|LeakSanitizer' "$T/serve.log"; then
		fail "sanitizer report from the server: $(grep -m1 -E 'ERROR|runtime error' "$T/serve.log")"
	fi
}

api() {
	local method=$1 path=$2
	shift 2
	STATUS=$(curl -s --unix-socket "$SOCK" -X "$method" -o "$OUT" -w '%{http_code}' "$@" \
		"http://arbiter$path" 2> "$ERR")
}

expect_status() {
	if [ "$STATUS" = "$1" ]; then pass "$2"; else fail "$2 (HTTP $STATUS, expected $1)"; fi
}

# serve_settings YAML: appends YAML (the indented lines of a server:
# section) to config.yaml and pins it as the admin pinadmin, enrolled for it
# (the first admin of the store). Before serve_start.
serve_settings() {
	enrol pinadmin --role admin --as pinadmin || fail "enrol pinadmin"
	chmod u+w "$H/config.yaml"
	printf 'server:\n%s\n' "$1" >> "$H/config.yaml"
	pin pinadmin || fail "pin the server settings"
}

# PEER: the hostile and careless clients of tests/helpers/peer.c, built next
# to the arbiter under test; fd_count and rss_kb: the server's open file
# descriptors and resident memory.
PEER=$(dirname "$ARBITER")/tests/helpers/peer
fd_count() { ls "/proc/$SERVE_PID/fd" | wc -l; }
# fd_settled: the server's descriptors once they hold still (the same count
# twice, 0.1 s apart, within 2 s): a client that just hung up may still
# have its connection open on the server's side for a moment
fd_settled() {
	local before now
	before=$(fd_count)
	for _ in $(seq 1 20); do
		sleep 0.1
		now=$(fd_count)
		[ "$now" = "$before" ] && break
		before=$now
	done
	echo "$before"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status"; }
