#!/bin/sh
# bench/serve.sh: arbiter serve's figures for `make bench` (run.sh runs it
# last; alone: sh bench/serve.sh [BUILD]). Each server runs on a fresh store
# in a temporary directory, logging one line per request to a file as it
# would in service, and is measured from outside on its Unix socket by
# bench_serve (libcurl's multi interface: wrk reaches no Unix socket, and on
# TCP every request needs a bearer token). The load generator runs on the
# same machine and its CPU time counts against it. LOAD_SECONDS (default 10)
# is each load's length, SERVE_SECONDS (default 60) how long the idle
# waiters are held open. Figures are printed, never asserted: the machine's
# load average and its disk's sync latency come first, since every figure
# below depends on them.
B=${1:-build/release}
A=$PWD/arbiter
S=$B/bench_serve
LOAD=${LOAD_SECONDS:-10}
IDLE=${SERVE_SECONDS:-60}
set -e
tmp=$(mktemp -d)
mem=""
pid=""
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=""
}
trap 'stop; rm -rf "$tmp" $mem' EXIT

# start DIR: the server of the store in DIR (a fresh one unless DIR has
# one); $pid and $sock
start() {
	[ -d "$1/.arbiter" ] || "$A" init "$1" > /dev/null
	(cd "$1" && exec "$A" serve 2> "$1/serve.log") &
	pid=$!
	sock=$1/.arbiter/arbiter.sock
	for _ in $(seq 1 100); do
		curl -s --unix-socket "$sock" -o /dev/null http://arbiter/health 2>/dev/null && return 0
		sleep 0.05
	done
	echo "arbiter serve did not start: $(head -3 "$1/serve.log")" >&2
	exit 1
}
post() {        # JSON: one document, as the owner; prints the answer
	curl -s --unix-socket "$sock" -H 'Content-Type: application/json' --data-binary "$1" \
		http://arbiter/v1/submissions
}

echo "== arbiter serve ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) from everything else on the machine) =="
echo "the disk under $tmp: $("$S" disk "$tmp")"
"$A" init "$tmp/c" > /dev/null
echo "the store alone (bench_store, in process, the server's settings): $("$B/bench_store" rounds "$tmp/c/.arbiter" 20000 32)"
echo "the store alone, one document per commit: $("$B/bench_store" rounds "$tmp/c/.arbiter" 2000 1)"

# throughput and latency, on the disk and, for the server's own share, on a
# store in memory, where a sync costs nothing
# the server's own share of a request's latency: its log's microseconds
# (from the request's first byte to its answer) of the lines after line $1
server_side() {
	tail -n +"$(($1 + 1))" "$log" | awk '$5 == 201 { print $NF }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "p50 %.2f ms, p99 %.2f ms", v[int(NR * 0.5 + 0.5)] / 1000, v[int(NR * 0.99 + 0.5)] / 1000 }'
}
load() {        # DIR LABEL
	start "$1"
	log=$1/serve.log
	"$S" load "$sock" "$pid" 32 2 > /dev/null
	echo "arbiter serve, $2, 32 keep-alive clients posting single documents (each its own ref), $("$S" load "$sock" "$pid" 32 "$LOAD") (target >= 10,000/s stored and signed)"
	from=$(wc -l < "$log")
	line=$("$S" load "$sock" "$pid" 8 "$LOAD" 1000)
	echo "arbiter serve, $2, $line; in the server (its log): $(server_side "$from") (target p50 < 1 ms, p99 < 5 ms)"
	stop
}
load "$tmp/s" "store on the disk"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	mem=$(mktemp -d /dev/shm/arbiter-bench.XXXXXX)
	"$A" init "$mem/c" > /dev/null
	echo "the store alone in memory (/dev/shm): $("$B/bench_store" rounds "$mem/c/.arbiter" 20000 32)"
	load "$mem/s" "store in memory (/dev/shm)"
	rm -rf "$mem"
	mem=""
fi

# a decision wakes its long-polls and the event streams: a reviewer enrolled
# before the server starts (the owner's first admin needs no code) approves
# through the server with a fresh TOTP code
"$A" init "$tmp/w" > /dev/null
secret=$("$A" --home "$tmp/w/.arbiter" reviewer add r0 --role admin | sed -n 's/^secret (base32): //p')
start "$tmp/w"
id=$(post '{"action": "code.modify", "submitter": "bench-agent", "title": "needs a reviewer", "files": [{"path": "src/a.c", "op": "delete"}]}' |
	sed -n 's/^{"id":\([0-9]*\).*/\1/p')
routed=$(curl -s --unix-socket "$sock" -H 'Content-Type: application/json' --data-binary '{}' \
	-o /dev/null -w '%{http_code}' "http://arbiter/v1/submissions/$id/decisions")
if [ "$routed" != 404 ] && [ "$routed" != 405 ]; then
	code=$(oathtool --totp -b "$secret")
	echo "a decision (an approval through the server) wakes $("$S" wake "$sock" "$pid" 100 100 "$id" \
		POST "/v1/submissions/$id/decisions" \
		"{\"decision\": \"approve\", \"code\": \"$code\", \"as\": \"r0\", \"ack\": true}") (target < 50 ms)"
else
	echo "decisions are not routed by this server: a new submission wakes $("$S" wake "$sock" "$pid" 100 0 "$id") (target < 50 ms)"
fi
id=$(post '{"action": "code.modify", "submitter": "bench-agent", "title": "still waiting", "files": [{"path": "src/b.c", "op": "delete"}]}' |
	sed -n 's/^{"id":\([0-9]*\).*/\1/p')
echo "idle: $("$S" idle "$sock" "$pid" 500 500 "$id" "$IDLE") (target < 1% of one core, RSS < 64 MB)"
stop
