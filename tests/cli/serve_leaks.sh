#!/bin/bash
# arbiter serve leaks nothing when clients come and go (tests/tools/peer.c):
# after 10,000 connect/disconnect cycles (hanging up at once, inside the
# headers, before reading the answer, or after it) and 1,000 long-poll
# waiters that hang up mid-wait, the server's file descriptors and memory
# are back where they started within a few seconds, and the test build
# (ASan, LeakSanitizer at exit) reports nothing. Memory is measured on the
# plain build (ASan's allocator keeps what is freed in quarantine), over up
# to three such rounds: what one burst strands in the heap varies, what the
# server would keep of its connections grows with each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
PLAIN=$ROOT/build/release/arbiter
new_store
serve_settings '  max_connections: 2000'
WAIT='/v1/submissions/w?wait=300'
# back_to N: waits up to 5 s for the server's descriptors to fall to N
back_to() {
	for _ in $(seq 1 100); do [ "$(fd_count)" -le "$1" ] && return 0; sleep 0.05; done
	return 1
}

# --- the test build: descriptors, and the sanitizers' word at exit ---
serve_start
api POST /v1/submissions -H 'Content-Type: application/json' \
	--data-binary '{"action":"rom.patch","ref":"w","changes":[{"offset":65458,"length":4}]}'
expect_status 201 "a submission to wait on"
base=$(fd_settled)
run "$PEER" cycles "$SOCK" 10000
expect_code 0 "10,000 connect/disconnect cycles"
back_to "$base" && pass "after them the server holds its $base descriptors again" ||
	fail "descriptors after the cycles: $(fd_count), before: $base"
run "$PEER" waiters "$SOCK" 1000 "$WAIT" "$SERVE_PID"
expect_code 0 "1,000 long-poll waiters hang up mid-wait"
freed=$(sed -n 's/.*all freed \([0-9]*\) ms after.*/\1/p' "$OUT")
[ -n "$freed" ] && [ "$freed" -lt 3000 ] &&
	pass "their descriptors are freed at once, not at their deadline: $(sed 's/^waiters: //' "$OUT")" ||
	fail "waiters: $(cat "$OUT") $(cat "$ERR")"
[ "$(grep -c " GET /v1/submissions/w 499 0 " "$T/serve.log")" -eq 1000 ] &&
	pass "each is logged once, as 499" ||
	fail "499 lines: $(grep -c " 499 " "$T/serve.log"); others: $(grep ' GET /v1/submissions/w ' "$T/serve.log" | grep -v ' 499 ' | head -3)"
api GET /v1/submissions/w
expect_status 200 "the server answers after them"
serve_stop
[ "$SERVE_CODE" = 0 ] && pass "the test build stops cleanly, no sanitizer report" || fail "serve exited $SERVE_CODE"

# --- the plain build: memory ---
if [ ! -x "$PLAIN" ]; then
	fail "$PLAIN is missing (make test builds it)"
	exit 0
fi
ARBITER=$PLAIN serve_start
# one round first: the server's caches and pools reach their resting size
"$PEER" cycles "$SOCK" 1000 > /dev/null && "$PEER" waiters "$SOCK" 1000 "$WAIT" "$SERVE_PID" > /dev/null ||
	fail "the first round"
sleep 2.5
base=$(fd_settled) rss0=$(rss_kb)
# A round is 10,000 cycles and 1,000 waiters; after it the heap is trimmed
# (a second after the last request ends) and memory is read until it is
# within 1 MiB of where it started, for up to 5 s. What a burst strands in
# pages that also hold live data varies from one round to the next (0 to
# 2 MB here), while whatever the server kept of its connections would grow
# with every round: so a round that ends over the mark is followed by
# another, up to three, and memory must come back after one of them.
readings= ok=
for round in 1 2 3; do
	run "$PEER" cycles "$SOCK" 10000
	expect_code 0 "round $round: 10,000 cycles on the plain build"
	run "$PEER" waiters "$SOCK" 1000 "$WAIT" "$SERVE_PID"
	expect_code 0 "round $round: 1,000 waiters on the plain build: $(sed 's/^waiters: //' "$OUT")"
	peak=$(sed -n 's/.*then \([0-9]*\)).*/\1/p' "$OUT")
	for _ in $(seq 1 50); do
		rss1=$(rss_kb)
		[ "$rss1" -le $((rss0 + 1024)) ] && ok=1 && break
		sleep 0.1
	done
	readings="$readings $rss1"
	back_to "$base" || fail "round $round: descriptors $(fd_count), before: $base"
	[ -n "$ok" ] && break
done
[ -n "$ok" ] && pass "memory back where it started: VmRSS $rss0 kB before, after each round:$readings kB" ||
	fail "VmRSS $rss0 kB before, after each of three rounds:$readings kB (more than 1 MiB over)"
back_to "$base" && pass "descriptors back where they started: $base before, $peak with the waiters, $(fd_count) after" ||
	fail "descriptors: $(fd_count), before: $base"
serve_stop
