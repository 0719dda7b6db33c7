#!/bin/bash
# SIGKILL of arbiter serve under load: six clients post documents with refs,
# each on its own keep-alive connection (tests/tools/peer.c), and the server
# is killed while they do. Every submission that was answered 2xx is in the
# store with the id it was answered with; the chain verifies, at once and
# after a restart; clients retrying every ref get 200 and the same
# submission for each one they were answered, and nothing is stored twice.
# Then a server just started takes submissions at once, eight times over.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
new_store
CLIENTS=6 EACH=400
serve_start
clients=()
for k in $(seq 1 $CLIENTS); do
	"$PEER" post "$SOCK" "c$k" "$EACH" > "$T/post.$k" 2> "$T/post-err.$k" &
	clients+=($!)
done
# kill once a few hundred are answered, with every client still posting
for _ in $(seq 1 200); do
	[ "$(cat "$T"/post.* | wc -l)" -ge 300 ] && break
	sleep 0.02
done
kill -KILL "$SERVE_PID"
{ wait "$SERVE_PID"; } 2> /dev/null
SERVE_PID=
wait "${clients[@]}"
cat "$T"/post.* > "$T/first"
answered=$(awk '$2 >= 200 && $2 < 300' "$T/first" | wc -l)
lost=$(awk '$2 == 0' "$T/first" | wc -l)
[ "$answered" -gt 0 ] && [ "$lost" -eq "$CLIENTS" ] &&
	pass "killed under load: $answered submissions answered, $CLIENTS clients cut off mid-request" ||
	fail "before the kill: $answered answered, $lost cut off (of $CLIENTS clients)"
[ "$(awk '$2 != 0 && ($2 < 200 || $2 >= 300)' "$T/first" | wc -l)" -eq 0 ] &&
	pass "every answer before the kill was 2xx" || fail "other answers: $(awk '$2 != 0 && $2 != 201' "$T/first" | head -3)"
grep -qE 'runtime error:|AddressSanitizer' "$T/serve.log" && fail "sanitizer report before the kill"

arbiter audit verify
expect_code 0 "the chain verifies as the kill left it"
q "SELECT ref, id FROM submissions WHERE ref IS NOT NULL" | tr '|' ' ' | sort > "$T/stored"
awk '$2 >= 200 && $2 < 300 { print $1, $3 }' "$T/first" | sort > "$T/promised"
missing=$(comm -23 "$T/promised" "$T/stored" | wc -l)
[ "$missing" -eq 0 ] && pass "every submission answered 2xx is stored with the id it was answered with" ||
	fail "$missing answered submissions are missing or have another id: $(comm -23 "$T/promised" "$T/stored" | head -3)"
extra=$(( $(wc -l < "$T/stored") - answered ))

serve_start
pass "the server starts again on the socket the killed one left"
clients=()
for k in $(seq 1 $CLIENTS); do
	"$PEER" post "$SOCK" "c$k" "$EACH" > "$T/again.$k" 2> "$T/again-err.$k" &
	clients+=($!)
done
wait "${clients[@]}"
cat "$T"/again.* > "$T/again"
[ "$(wc -l < "$T/again")" -eq $((CLIENTS * EACH)) ] &&
	[ "$(awk '$2 != 200 && $2 != 201' "$T/again" | wc -l)" -eq 0 ] &&
	pass "retrying every ref is answered 200 or 201" ||
	fail "retry: $(wc -l < "$T/again") answers, others: $(awk '$2 != 200 && $2 != 201' "$T/again" | head -3)"
awk '{ print $1, $2, $3 }' "$T/again" | sort > "$T/retried"
same=$(join "$T/promised" "$T/retried" | awk '$3 == 200 && $2 == $4' | wc -l)
[ "$same" -eq "$answered" ] && pass "each of the $answered answered refs gets 200 with the same submission" ||
	fail "$same of $answered answered refs got 200 with the same submission"
[ "$(awk '$2 == 200' "$T/retried" | wc -l)" -eq "$(wc -l < "$T/stored")" ] &&
	pass "so is each of the $extra stored whose answer the kill cut off, and the rest are new (201)" ||
	fail "200s on retry: $(awk '$2 == 200' "$T/retried" | wc -l), stored before: $(wc -l < "$T/stored")"
[ "$(q "SELECT count(*) FROM submissions WHERE ref LIKE 'c%-%'")" -eq $((CLIENTS * EACH)) ] &&
	[ "$(q "SELECT count(DISTINCT ref) FROM submissions WHERE ref LIKE 'c%-%'")" -eq $((CLIENTS * EACH)) ] &&
	pass "nothing is stored twice: $((CLIENTS * EACH)) refs, $((CLIENTS * EACH)) submissions" ||
	fail "submissions: $(q "SELECT count(*) FROM submissions")"
serve_stop
[ "$SERVE_CODE" = 0 ] && pass "the restarted server stops cleanly" || fail "serve exited $SERVE_CODE"
arbiter audit verify
expect_code 0 "the chain verifies after the restart and the retries"

# a server takes submissions the moment its socket listens, while it still
# records server.start: clients that were waiting for it post at once
for i in $(seq 1 8); do
	"$ARBITER" serve 2> "$T/serve.log" &
	SERVE_PID=$!
	clients=()
	for k in 1 2 3; do
		"$PEER" post "$SOCK" "start$i-$k" 5 > "$T/start.$k" 2>&1 &
		clients+=($!)
	done
	wait "${clients[@]}"
	serve_stop
	[ "$(cat "$T"/start.* | awk '$2 == 201' | wc -l)" -eq 15 ] ||
		fail "start $i: $(cat "$T"/start.* | awk '$2 != 201' | head -3) $(grep -v ' 201 ' "$T/serve.log" | head -3)"
done
pass "eight starts, each with three clients posting the moment the socket listens: all stored"
arbiter audit verify
expect_code 0 "the chain verifies after them"
[ "$(q "SELECT count(*) FROM audit WHERE event = 'server.start'")" -eq 10 ] &&
	[ "$(q "SELECT count(*) FROM audit WHERE event = 'server.stop'")" -eq 9 ] &&
	pass "every start and stop is audited (the killed server's stop is not)" ||
	fail "server.start: $(q "SELECT count(*) FROM audit WHERE event = 'server.start'"), server.stop: $(q "SELECT count(*) FROM audit WHERE event = 'server.stop'")"
q "SELECT count(*) FROM audit WHERE event = 'submission.create' AND subject IN (SELECT CAST(id AS TEXT) FROM submissions)" > "$T/events"
[ "$(cat "$T/events")" -eq $((CLIENTS * EACH + 8 * 15)) ] && pass "one submission.create event for each" ||
	fail "submission.create events: $(cat "$T/events")"
