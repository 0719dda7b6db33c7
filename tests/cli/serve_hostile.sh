#!/bin/bash
# arbiter serve against careless and hostile requests, beyond serve.sh's
# first cases: bodies over server.max_body and server.max_batch whether told
# by Content-Length or sent in chunks (413, nothing stored, nothing read
# after), a body's length told twice (400, refused before it is read),
# malformed documents of every kind (400 with line and column), paths the
# API does not have (404), methods a path does not take (405), content types
# it does not read (415), and what libmicrohttpd refuses itself. After all
# of it the server still answers and the chain verifies.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
new_store
serve_settings '  max_body: 4KiB
  max_batch: 16KiB'
serve_start
count() { q "SELECT count(*) FROM submissions"; }
post() { api POST /v1/submissions -H "Content-Type: ${CT:-application/json}" "$@"; }
# doc SIZE REF: a submission of exactly SIZE bytes
doc() {
	local head="{\"action\":\"a.b\",\"ref\":\"$2\",\"pad\":\"" tail='"}'
	printf '%s' "$head"
	head -c $(($1 - ${#head} - ${#tail})) /dev/zero | tr '\0' x
	printf '%s' "$tail"
}
# raw: standard input to the socket as it is; the answers in $OUT
raw() { "$PEER" raw "$SOCK" > "$OUT" 2> "$ERR"; }
answers() { grep -c '^HTTP/1.1 ' "$OUT"; }

# --- the body's limits ---
before=$(count)
doc 4096 exact > "$T/exact"
post --data-binary @"$T/exact"
expect_status 201 "a body of exactly server.max_body is taken"
doc 4097 over > "$T/over"
post --data-binary @"$T/over"
expect_status 413 "one byte more is 413 (Content-Length)"
expect_out '"code": "bad_input", "message": "the body is larger than the server.s limit' \
	"with a JSON error that names the limit"
post -H 'Transfer-Encoding: chunked' --data-binary @"$T/over"
expect_status 413 "and 413 when it comes in chunks"
doc 4096 exact-chunked > "$T/exact"
post -H 'Transfer-Encoding: chunked' --data-binary @"$T/exact"
expect_status 201 "a chunked body of exactly the limit is taken"
doc 200000 huge > "$T/huge"
post -H 'Transfer-Encoding: chunked' --data-binary @"$T/huge"
expect_status 413 "a chunked body far over the limit is 413"
[ "$(count)" -eq $((before + 2)) ] && pass "nothing over the limit is stored" ||
	fail "submissions: $(count), expected $((before + 2))"

# a JSON Lines batch has its own limit, and a batch over it stores none of its lines
before=$(count)
for i in $(seq 1 600); do printf '{"action":"a.b","ref":"batch-%d"}\n' "$i"; done > "$T/batch"
CT=application/x-ndjson post --data-binary @"$T/batch"
expect_status 413 "a batch over server.max_batch is 413"
CT=application/x-ndjson post -H 'Transfer-Encoding: chunked' --data-binary @"$T/batch"
expect_status 413 "in chunks too"
head -100 "$T/batch" > "$T/small-batch"
CT=application/x-ndjson post --data-binary @"$T/small-batch"
expect_status 200 "a batch under it is taken"
[ "$(count)" -eq $((before + 100)) ] && pass "and only that batch's lines are stored" ||
	fail "submissions: $(count), expected $((before + 100))"

# a declared length over the limit is answered before any of the body comes,
# and the connection is closed: what follows is never read as a request
before=$(count)
printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n' | raw
[ "$(answers)" -eq 1 ] && grep -q '^HTTP/1.1 413' "$OUT" &&
	pass "a declared length of a terabyte is 413 at once" || fail "terabyte: $(head -1 "$OUT")"
smuggled=$(printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"action":"s.s","ref":"smuggled"}')
{ printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n'
	printf '%s' "$smuggled"; head -c $((5000 - ${#smuggled})) /dev/zero | tr '\0' ' '; } | raw
[ "$(answers)" -eq 1 ] && grep -q '^HTTP/1.1 413' "$OUT" && grep -q '^Connection: close' "$OUT" &&
	pass "after a 413 the connection is closed: a request inside the refused body is not run" ||
	fail "413 then: $(grep '^HTTP' "$OUT" | tr '\n' ' ')"
# the length told twice: read one way by a proxy and another by the server
printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 24\r\nTransfer-Encoding: chunked\r\n\r\n16\r\n{"action":"s.s","ref":"te"}\r\n0\r\n\r\n' | raw
grep -q '^HTTP/1.1 400' "$OUT" && [ "$(answers)" -eq 1 ] && grep -q '^Connection: close' "$OUT" &&
	pass "Content-Length with Transfer-Encoding is 400 and the connection closed" ||
	fail "CL+TE: $(head -1 "$OUT")"
grep -q 'must be given once' "$OUT" && pass "and says the length must be given once" ||
	fail "CL+TE message: $(tail -1 "$OUT")"
printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 27\r\nContent-Length: 5\r\n\r\n{"action":"s.s","ref":"cl"}' | raw
grep -q '^HTTP/1.1 400' "$OUT" && pass "two Content-Lengths are 400" || fail "CL twice: $(head -1 "$OUT")"
printf 'POST /v1/nothing HTTP/1.1\r\nHost: a\r\nContent-Length: 27\r\nContent-Length: 5\r\n\r\n{"action":"s.s","ref":"cl"}' | raw
grep -q '^HTTP/1.1 400' "$OUT" && pass "on any path" || fail "CL twice on 404: $(head -1 "$OUT")"
for te in 'gzip, chunked' 'chunked, chunked' 'chunkd' ' chunked '; do
	printf 'POST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: %s\r\n\r\n16\r\n{"action":"s.s","ref":"te"}\r\n0\r\n\r\n' "$te" | raw
	grep -q '^HTTP/1.1 400' "$OUT" && grep -q 'only Transfer-Encoding taken is chunked' "$OUT" &&
		grep -q '^Connection: close' "$OUT" || fail "Transfer-Encoding '$te': $(head -1 "$OUT")"
done
pass "a Transfer-Encoding other than chunked is 400 and the connection closed"
[ "$(count)" -eq "$before" ] && pass "none of them stored anything" ||
	fail "submissions: $(count), expected $before"
# pipelined requests on one connection are answered in order
printf 'GET /health HTTP/1.1\r\nHost: a\r\n\r\nPOST /v1/submissions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1f\r\n{"action":"a.b","ref":"piped"}\r\n0\r\n\r\nGET /v1/submissions/piped HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | raw
[ "$(grep '^HTTP/1.1 ' "$OUT" | cut -c10-12 | tr '\n' ' ')" = "200 201 200 " ] &&
	pass "three pipelined requests, one chunked, are answered in order" ||
	fail "pipelined: $(grep '^HTTP' "$OUT" | tr '\n' ' ')"

# --- malformed documents: 400 with line and column, nothing stored ---
before=$(count)
bad() {  # bad DESC LINE COLUMN (the body on stdin)
	cat > "$T/bad"
	post --data-binary @"$T/bad"
	[ "$STATUS" = 400 ] && grep -q "\"line\": $2, \"column\": $3" "$OUT" &&
		pass "$1: 400 at $2:$3" || fail "$1: HTTP $STATUS $(cat "$OUT")"
}
printf '{"action": "a.b",\n "x": [1, 2}' | bad "a bracket closed by a brace" 2 12
printf '{"action": "a.b"} {"b": 1}' | bad "two documents in one body" 1 19
printf '{"action": "a.b",\n\n   "x": "\xff"}' | bad "invalid UTF-8" 3 10
printf '{"action": "a.b", "x": "a\001b"}' | bad "a control character" 1 26
printf '{"action":"a.b","x":' > "$T/deep"; head -c 3000 /dev/zero | tr '\0' '[' >> "$T/deep"
bad "nesting 3000 deep (64 levels at most)" 1 84 < "$T/deep"
printf '' | bad "an empty body" 1 1
CT=application/yaml
printf 'action: a.b\nx:\n\t- 1\n' | bad "YAML with a tab for indentation" 3 1
cat > "$T/laughs" <<'YAML'
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
action: a.b
YAML
bad "YAML aliases that expand to ten million nodes" 4 36 < "$T/laughs" 
CT=
[ "$(count)" -eq "$before" ] && pass "no malformed document is stored" ||
	fail "submissions: $(count), expected $before"

# --- paths, methods, content types ---
for path in /v1/submissions/1/extra /V1/status /v1/status/ /v1//status /v1/submission \
	"/$(head -c 4000 /dev/zero | tr '\0' a)" /v1/submissions/%2e%2e/status; do
	api GET "$path"
	[ "$STATUS" = 404 ] && grep -q '"code": "not_found"' "$OUT" || fail "GET ${path:0:40}: HTTP $STATUS"
done
pass "unknown paths are 404 with a JSON error"
api GET /v1/../v1/status --path-as-is
expect_status 404 "a path with .. is not resolved to another"
for m in PUT DELETE PATCH OPTIONS FOO; do
	api "$m" /v1/submissions
	[ "$STATUS" = 405 ] && grep -q '"code": "method_not_allowed"' "$OUT" || fail "$m: HTTP $STATUS"
done
pass "methods a path does not take are 405 with a JSON error"
api POST /health
expect_status 405 "POST /health is 405"
for ct in '' 'text/plain' 'application/jsonx' 'multipart/form-data; boundary=x' 'application'; do
	api POST /v1/submissions -H "Content-Type: $ct" --data-binary '{"action":"a.b","ref":"ct"}'
	[ "$STATUS" = 415 ] || fail "Content-Type '$ct': HTTP $STATUS"
done
pass "bodies of other content types are 415"
api POST /v1/submissions -H 'Content-Type: Application/JSON; charset=utf-8' --data-binary '{"action":"a.b","ref":"ct"}'
expect_status 201 "a content type is read without regard to case and parameters"

# --- what libmicrohttpd refuses before any handler ---
api GET /health -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)"
expect_status 431 "a header larger than the connection's memory is 431"
printf 'NOT AN HTTP REQUEST\r\n\r\n' | raw
grep -q '^HTTP/1.1 400' "$OUT" && pass "a request line that is not HTTP is 400" || fail "garbage: $(head -1 "$OUT")"
printf 'GET /health HTTP/2.7\r\nHost: a\r\n\r\n' | raw
grep -q '^HTTP/1.1 505' "$OUT" && pass "an unknown HTTP version is 505" || fail "HTTP/2.7: $(head -1 "$OUT")"

api GET /health
expect_status 200 "the server still answers after all of it"
grep -q ' POST /v1/submissions 413 ' "$T/serve.log" && pass "a refused body is logged with its status" ||
	fail "log: $(grep -m1 413 "$T/serve.log")"
serve_stop
[ "$SERVE_CODE" = 0 ] && pass "the server stops cleanly" || fail "serve exited $SERVE_CODE"
arbiter audit verify
expect_code 0 "the chain verifies"
