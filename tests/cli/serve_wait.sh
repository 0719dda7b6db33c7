#!/bin/bash
# arbiter serve's waiting requests and its log: a long-poll whose client
# hangs up ends at once; a wait that ends sooner than the ones already
# waiting keeps its deadline; streams at different places in the log each
# get exactly their events, many streams at the same place all get the new
# one; headers of several KiB are read; and the log is copied into the
# database while the server runs, then written again from its beginning
# instead of growing, and a copy a reader held back is finished once the
# reader is gone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
new_store
serve_start

post() {        # JSON: one document
	api POST /v1/submissions -H 'Content-Type: application/json' --data-binary "$1"
}
post '{"action":"code.modify","submitter":"agent-w","ref":"w1","files":[{"path":"src/a.c","op":"delete"}]}'
expect_status 201 "a submission that waits for a reviewer"
expect_out '"status":"pending"' "is pending"
id=$(sed 's/^{"id":\([0-9]*\).*/\1/' "$OUT")

# --- a client that hangs up mid-wait frees its request at once ---
curl -s --unix-socket "$SOCK" --max-time 1 -o /dev/null "http://arbiter/v1/submissions/$id?wait=60"
for _ in $(seq 1 30); do
	grep -q " GET /v1/submissions/$id " "$T/serve.log" && break
	sleep 0.1
done
us=$(grep " GET /v1/submissions/$id " "$T/serve.log" | tail -1 | awk '{ print $NF }')
[ -n "$us" ] && [ "$us" -lt 5000000 ] &&
	pass "a long-poll whose client hangs up ends then, not at its deadline ($us us)" ||
	fail "hung-up long-poll: $(grep " GET /v1/submissions/$id " "$T/serve.log" | tail -1)"

# --- a sooner deadline is kept while a later one waits ---
curl -s --unix-socket "$SOCK" -o /dev/null "http://arbiter/v1/submissions/$id?wait=30" &
late=$!
sleep 0.3
start=$(date +%s%N)
api GET "/v1/submissions/$id?wait=1"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_status 200 "a second long-poll answers"
[ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ] &&
	pass "at its own deadline while a later one waits ($ms ms)" || fail "the 1 s wait took $ms ms"
kill $late 2>/dev/null
wait $late 2>/dev/null

# --- streams at different places, and many at the same place ---
head=$(q "SELECT max(seq) FROM audit")
streams=""
curl -sN --unix-socket "$SOCK" --max-time 5 'http://arbiter/v1/events?after=0' > "$T/ev.all" &
streams="$streams $!"
curl -sN --unix-socket "$SOCK" --max-time 5 -H "Last-Event-ID: $((head - 1))" \
	'http://arbiter/v1/events' > "$T/ev.prev" &
streams="$streams $!"
for i in $(seq 1 20); do
	curl -sN --unix-socket "$SOCK" --max-time 5 'http://arbiter/v1/events' > "$T/ev.head.$i" &
	streams="$streams $!"
done
# a stream at the head has taken its place once its ": arbiter events" line came
for _ in $(seq 1 100); do
	n=0
	for i in $(seq 1 20); do [ -s "$T/ev.head.$i" ] && n=$((n + 1)); done
	[ "$n" -eq 20 ] && break
	sleep 0.05
done
post '{"action":"x.y","ref":"w2"}'
expect_status 201 "a new submission while streams are open"
# shellcheck disable=SC2086
wait $streams
new=$((head + 1))
ids() { grep '^id: ' "$1" | sed 's/^id: //' | tr '\n' ' '; }
[ "$(ids "$T/ev.all")" = "$(seq -s ' ' 1 "$new") " ] &&
	pass "a stream from the start gets every event once, in order" ||
	fail "from the start: $(ids "$T/ev.all")"
[ "$(ids "$T/ev.prev")" = "$head $new " ] &&
	pass "a stream resumed one event back gets that one and the new one" ||
	fail "resumed: $(ids "$T/ev.prev")"
bad=0
for i in $(seq 1 20); do
	[ "$(ids "$T/ev.head.$i")" = "$new " ] || bad=$((bad + 1))
done
[ "$bad" -eq 0 ] && pass "twenty streams at the head each get the new event once" ||
	fail "$bad of 20 streams at the head: $(ids "$T/ev.head.1")"

# --- headers of several KiB fit in a connection's buffer ---
api GET /health -H "X-Long: $(head -c 6000 /dev/zero | tr '\0' a)"
expect_status 200 "a request with 6 KiB of headers is read"

# --- checkpoints while the server runs ---
# Two batches of large documents make the log longer than the server lets
# it grow (16 MiB) before copying it into the database.
pad=$(head -c 60000 /dev/zero | tr '\0' x)
for i in $(seq 1 200); do
	printf '{"action":"big.doc","ref":"big/%d","notes":"%s"}\n' "$i" "$pad"
done > "$T/big.jsonl"
batch() {       # N: the big batch, with refs of its own
	sed "s#big/#big$1/#" "$T/big.jsonl" > "$T/big.$1.jsonl"
	api POST /v1/submissions -H 'Content-Type: application/x-ndjson' --data-binary @"$T/big.$1.jsonl"
	[ "$STATUS" = 200 ] || fail "batch $1: HTTP $STATUS"
}
db_size() { stat -c %s "$DB"; }
wal_size() { stat -c %s "$DB-wal"; }
before=$(db_size)
batch 1
batch 2
for _ in $(seq 1 200); do      # a loaded machine may take seconds
	[ "$(db_size)" -gt 20000000 ] && break
	sleep 0.1
done
[ "$(db_size)" -gt 20000000 ] &&
	pass "the log is copied into the database while the server runs ($before -> $(db_size) bytes)" ||
	fail "arbiter.db stayed at $(db_size) bytes beside a log of $(wal_size)"
most=$(wal_size)
batch 3
batch 4
[ "$(wal_size)" -le $((most + 1000000)) ] &&
	pass "then the log is written again from its beginning ($(wal_size) bytes after $most)" ||
	fail "the log grew from $most to $(wal_size) bytes"
[ "$(q "SELECT count(*) FROM submissions WHERE action = 'big.doc'")" = 800 ] &&
	pass "every document of the four batches is stored" || fail "big.doc rows: $(q "SELECT count(*) FROM submissions WHERE action = 'big.doc'")"

# A reader's snapshot taken before two more batches stops the copy short of
# them; once the reader lets go, the server finishes the copy on its own,
# with no request to start a round. The database's size is taken once the
# copy of the batches before has ended (the same size twice, 0.2 s apart).
before=$(db_size)
for _ in $(seq 1 100); do
	sleep 0.2
	[ "$(db_size)" = "$before" ] && break
	before=$(db_size)
done
mkfifo "$T/reader.in"
sqlite3 "$DB" < "$T/reader.in" > "$T/reader.out" &
reader=$!
exec 7> "$T/reader.in"
echo "BEGIN; SELECT count(*) FROM submissions;" >&7
for _ in $(seq 1 100); do [ -s "$T/reader.out" ] && break; sleep 0.05; done
batch 5
batch 6
sleep 0.5
[ "$(db_size)" -lt $((before + 20000000)) ] &&
	pass "a reader's snapshot holds the copy back ($(db_size) bytes)" ||
	fail "the copy went past a reader's snapshot: $before -> $(db_size) bytes"
echo "COMMIT;" >&7
exec 7>&-
wait "$reader"
for _ in $(seq 1 200); do
	[ "$(db_size)" -gt $((before + 20000000)) ] && break
	sleep 0.1
done
[ "$(db_size)" -gt $((before + 20000000)) ] &&
	pass "once the reader is gone the copy is finished without another request ($before -> $(db_size) bytes)" ||
	fail "arbiter.db stayed at $(db_size) bytes (from $before) beside a log of $(wal_size)"

serve_stop
[ "$SERVE_CODE" = 0 ] && pass "the server stops with exit 0" || fail "serve exited $SERVE_CODE"
arbiter audit verify
expect_code 0 "the chain verifies after the checkpoints"
