#!/bin/bash
# JSON input as a user and a pipeline meet it: RFC 8259 exactly (what a
# .json file, a JSON Lines stream and an application/json body accept and
# refuse, with FILE:LINE:COL), the answer to each line of a stream before
# the next line is written (eval and submit, over one pipe), a line too
# long refused at its line without losing the next, and the same results
# for the same document written as JSON or as YAML.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
P="--policies $EX/policies"
cd "$T" || exit 1

# --- valid JSON the YAML reader used to refuse ---
printf '{"action":"x.y","title":"clef \\ud834\\udd1e","del":"\x7f","nc":"\xef\xbf\xbf \xf4\x8f\xbf\xbe"}\n' > valid.json
arbiter eval $P --json valid.json
expect_code 0 "a .json file with a surrogate pair, DEL and noncharacters is accepted"
expect_out $'"title":"clef \xf0\x9d\x84\x9e"' "an escaped surrogate pair becomes the one character it encodes"

# --- invalid JSON, refused where it is wrong ---
refused() {     # refused TEXT LINE:COL MESSAGE-PATTERN WHAT
	printf '%b' "$1" > bad.json
	arbiter eval $P bad.json
	expect_code 1 "$4: exit 1"
	expect_err "^bad\\.json:$2: $3" "$4: bad.json:$2"
}
refused '{"action":"a","b":[1 true]}' 1:22 "expected ',' or ']'" "a missing comma"
refused '{"action":"a","n":-NaN}' 1:20 "malformed number" "-NaN"
refused '{"action":"a","n":0x1}' 1:20 "a character that starts no JSON value" "a hex number"
refused '{"action":"a","n":2.}' 1:21 "malformed number, a digit is required after the decimal point" "2."
refused '{"action":"a","n":tru}' 1:19 "not a JSON value" "an unclosed literal"
refused '\xef\xbb\xbf{"action":"a"}' 1:1 "a byte-order mark" "a byte-order mark"
refused '{"action":"a","s":"\\udd1e"}' 1:20 "a lone surrogate escape" "a lone low surrogate"
refused '{"action":"a","s":"x\\ud834"}' 1:21 "a lone surrogate escape" "a lone high surrogate"
refused '{"action":"a","n":1e400}' 1:19 "number 1e400 is outside the range of a double" "a number beyond a double"
refused '{"action":"a","s":"\xc0\x80"}' 1:20 "invalid UTF-8" "an overlong UTF-8 form"
refused '{"action":"a"}\n{"action":"b"}' 2:1 "more text after the JSON value" "two documents in a .json file"
refused '{"action":"a",\n "x":1,\n "x":2}' 3:2 'duplicate key "x"' "a duplicate key"
refused '{"action":"a"\x0c}' 1:14 "a character that is not JSON whitespace" "a form feed"

# --- the same document as JSON and as YAML gives the same result ---
printf '{"action":"rom.patch","ref":"same/1","changes":[{"offset":65458,"length":4}]}\n' > same.json
printf 'action: rom.patch\nref: same/1\nchanges:\n  - {offset: 65458, length: 4}\n' > same.yaml
arbiter eval $P --json same.json
json_out=$(sed 's/"file":"[^"]*"//' "$OUT")
arbiter eval $P --json same.yaml
yaml_out=$(sed 's/"file":"[^"]*"//' "$OUT")
[ -n "$json_out" ] && [ "$json_out" = "$yaml_out" ] && pass "one document, as JSON or YAML: one result" ||
	fail "JSON and YAML results differ: $json_out / $yaml_out"

# --- the bench set's results are the bytes they were before the JSON reader ---
# (3,000 generated submissions: the SHA-256 of their results as the YAML
# reader gave them; bench/run.sh checks all 100,000)
GEN=$ROOT/build/release/bench_eval
if [ -x "$GEN" ]; then
	sum=$(cd "$ROOT" && "$GEN" gen 3000 | "$ARBITER" eval --policies docs/examples/policies --jsonl --json - |
		sha256sum | cut -d' ' -f1)
	[ "$sum" = ddc9ca854be684a340683f47a084c6dffeb9cd4f9fd39a4b6987d1a7efa0bd35 ] &&
		pass "3,000 generated results are byte for byte what they were" ||
		fail "the generated results changed (sha256 $sum)"
else
	fail "build/release/bench_eval is not built (make test builds it)"
fi

# --- a stream is answered line by line, over one pipe ---
ask() {         # ask FD-IN FD-OUT JSON-LINE REF WHAT: one line written, its answer read
	printf '%s\n' "$3" >&"$1"
	local line=""
	if read -t 20 -r line <&"$2" && [[ $line == *"\"ref\":\"$4\""* ]]; then
		pass "$5"
	else
		fail "$5 (got: ${line:0:200})"
	fi
}
coproc EV { "$ARBITER" eval $P --jsonl --json - 2> ev.err; }
ask "${EV[1]}" "${EV[0]}" '{"action":"a.b","ref":"s/1"}' s/1 "eval: the first line is answered while the pipe stays open"
ask "${EV[1]}" "${EV[0]}" '{"action":"a.b","ref":"s/2"}' s/2 "eval: the second line after the first answer"
exec {EV[1]}>&-
wait "$EV_PID"; rc=$?
[ "$rc" -eq 0 ] && pass "eval: the stream ends when its input does (exit 0)" || fail "eval stream exit $rc"

new_store
coproc SU { "$ARBITER" submit --jsonl --json - 2> "$T/su.err"; }
ask "${SU[1]}" "${SU[0]}" '{"action":"a.b","ref":"p/1"}' p/1 "submit: the first line is stored and answered while the pipe stays open"
ask "${SU[1]}" "${SU[0]}" '{"action":"a.b","ref":"p/2"}' p/2 "submit: the second line after the first answer"
exec {SU[1]}>&-
wait "$SU_PID"
n=$(q "SELECT count(*) FROM submissions WHERE ref IN ('p/1','p/2')")
[ "$n" = 2 ] && pass "submit: both lines of the stream were stored" || fail "stored $n of 2"
arbiter audit verify
expect_code 0 "the store verifies after a streamed submit"

# --- big documents in flight are bounded by their bytes, not only their count ---
# (the release build: the sanitizers' own memory would hide it) Twenty
# documents of 880 KB each, whose trees take about ten times their text,
# read from a pipe that stays open: the peak so far is read while the
# process waits for more. Counted by chunks alone, eight were in flight:
# 80 MB; bounded by bytes, 39 MB.
RELEASE=$ROOT/build/release/arbiter
if [ -x "$RELEASE" ]; then
	files=$(awk 'BEGIN { for (j = 0; j < 23500; j++) printf "%s{\"path\":\"src/f%d.c\",\"op\":\"modify\"}", j ? "," : "", j }')
	for i in $(seq 1 20); do
		printf '{"action":"code.modify","ref":"big/%d","files":[%s]}\n' "$i" "$files"
	done > big.jsonl
	coproc BIG { exec "$RELEASE" eval $P --jsonl --json - 2> big.err; }
	cat big.jsonl >&"${BIG[1]}"
	got=0
	while [ "$got" -lt 20 ] && read -t 60 -r line <&"${BIG[0]}"; do got=$((got + 1)); done
	peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BIG_PID/status" 2> /dev/null)
	exec {BIG[1]}>&-
	wait "$BIG_PID"
	[ "$got" = 20 ] && [ -n "$peak" ] && [ "$peak" -lt 65536 ] &&
		pass "twenty documents of 880 KB through a pipe: ${peak} KB at the peak (under 64 MB)" ||
		fail "big documents: $got answers, peak ${peak:-unknown} KB ($(head -c 200 big.err))"
else
	fail "build/release/arbiter is not built (make test builds it)"
fi

# --- a line too long is refused at its line; the next is still read ---
{ printf '{"action":"a","ref":"l/1"}\n{"action":"a","pad":"'; head -c 3000000 /dev/zero | tr '\0' x
  printf '"}\n{"action":"a","ref":"l/3"}\n{"action":"a","b":[1 true]}\n'; } > long.jsonl
arbiter eval $P --json long.jsonl
expect_code 1 "a line over 1 MiB: exit 1"
expect_err '^long\.jsonl:2:1: document is .*over the limit of 1048576 bytes' "the long line is refused at its line"
expect_out '"ref":"l/1"' "the line before it is answered"
expect_out '"ref":"l/3"' "the line after it is answered"
expect_err '^long\.jsonl:4:22: expected' "lines after it keep their numbers"
run sh -c "cat long.jsonl | '$ARBITER' eval $P --json --jsonl -"
expect_err '^<stdin>:2:1: document is .*over the limit' "through a pipe: the long line refused at its line"
expect_err '^<stdin>:4:22: expected' "through a pipe: lines after it keep their numbers"
[ "$(grep -c '"ref":"l/' "$OUT")" = 2 ] && pass "through a pipe: the lines around it are answered" ||
	fail "through a pipe: $(grep -c '"ref"' "$OUT") answers"

# --- an application/json body is read as JSON, a YAML body as YAML ---
if ! served; then
	. "$ROOT/tests/serve_lib.sh"
	serve_start
	body='{"action":"api.call","title":"\ud834\udd1e"}'
	api POST /v1/submissions -H 'Content-Type: application/json' --data-binary "$body"
	[ "$STATUS" = 201 ] || [ "$STATUS" = 200 ] && pass "API: a surrogate pair in a JSON body is accepted" ||
		fail "API surrogate pair: $STATUS $(head -c 200 "$OUT")"
	api POST /v1/submissions -H 'Content-Type: application/json' \
		--data-binary '{"action":"api.call","title":"\udd1e"}'
	[ "$STATUS" = 400 ] && grep -q '"line": 1, "column": 31' "$OUT" && grep -q 'lone surrogate' "$OUT" &&
		pass "API: a lone surrogate is a 400 naming line and column" ||
		fail "API lone surrogate: $STATUS $(head -c 300 "$OUT")"
	serve_stop
fi
