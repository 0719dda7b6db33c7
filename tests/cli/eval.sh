#!/bin/bash
# arbiter eval, policy check and policy list as a user runs them: outputs,
# exit codes, error messages with FILE:LINE:COL, standard input, JSON Lines,
# hostile documents, and options before or after the command.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples
P="--policies $EX/policies"
cd "$T" || exit 1

# --- exit codes by the worst status ---
printf 'action: code.modify\nref: ok/1\nsubmitter: agent-1\nbytes_changed: 10\n' > allowed.yaml
arbiter eval $P allowed.yaml
expect_code 0 "an allowed submission exits 0"
expect_out '^allowed\.yaml:1: allowed proposal code\.modify ref=ok/1' "text output names file, status, kind, action, ref"

arbiter eval $P "$EX/submissions/rom-02-header-patch.yaml"
expect_code 3 "a blocked submission exits 3"
expect_out "change 0xFFB2\\+4 overlaps 0xFFB0-0xFFFF \\(ROM header" "the finding's detail names the change and the range"

arbiter eval $P --json "$EX/submissions/rom-02-header-patch.yaml"
expect_out '^\{"ref":"z3ed-agent-7/1187","kind":"proposal","action":"rom.patch"' "JSON starts with ref, kind, action"
expect_out '"status":"blocked","counts":\{"info":0,"warning":[0-9]+,"critical":[0-9]+\}' "JSON has status and counts"
expect_out '"policy":"protect_critical_regions","type":"forbidden_range","severity":"critical","effect":"deny","overridable":true' "JSON finding fields in order"
expect_out '"path":"changes\[0\]","source":"[^"]*policies/10-rom.yaml:[0-9]+"' "JSON finding has path and source FILE:LINE"
expect_no_out '"id":' "eval without a store prints no id"

# --- options before or after the command ---
run "$ARBITER" --json eval "$EX/submissions/rom-02-header-patch.yaml" --policies "$EX/policies"
expect_out '"status":"blocked"' "options may stand before and after the command"

# --- standard input, YAML and JSON Lines ---
run bash -c "printf 'action: export.bundle\nlicense: MIT\n' | '$ARBITER' eval $P --json -"
expect_out '"kind":"export"' "kind is derived from an export.* action, read from stdin"
printf '{"action":"import.chat","license":"MIT","ref":"j/1"}\n\n{"action":"code.modify","ref":"j/2"}\n' > two.jsonl
arbiter eval $P --json two.jsonl
n=$(grep -c '^{' "$OUT")
[ "$n" -eq 2 ] && pass ".jsonl files are read one document per line, blank lines skipped" || fail "expected 2 results from two.jsonl, got $n"
cp two.jsonl two.txt
arbiter eval $P --json --jsonl two.txt
[ "$(grep -c '^{' "$OUT")" -eq 2 ] && pass "--jsonl reads any file as JSON Lines" || fail "--jsonl"

# --- malformed documents are refused, the others still evaluated ---
cat > mixed.yaml <<'Y'
action: code.modify
ref: m/1
---
action: [unclosed
---
- a list, not a map
---
title: no action here
---
action: 42
---
action: code.modify
kind: sideways
---
action: code.modify
ref: m/2
Y
arbiter eval $P --json mixed.yaml
expect_code 1 "an input error makes the exit code 1"
expect_err '^mixed\.yaml:4:9: did not find expected' "a YAML syntax error is reported as FILE:LINE:COL"
expect_err '^mixed\.yaml:6:1: a submission must be a map' "a non-map document is refused with its position"
expect_err '^mixed\.yaml:8:1: missing action' "a missing action is refused with its position"
expect_err '^mixed\.yaml:10:9: action must be a non-empty string' "a non-string action is refused"
expect_err '^mixed\.yaml:13:7: unknown kind "sideways"' "an unknown kind is refused"
expect_out '"ref":"m/1"' "the document before the errors is evaluated"
expect_out '"ref":"m/2"' "the document after the errors is evaluated"

printf '{"action":"a","x":1,"x":2}\n' > dup.jsonl
arbiter eval $P dup.jsonl
expect_err '^dup\.jsonl:1:[0-9]+: duplicate key "x"' "duplicate keys are refused"
printf 'action: a\nv: \xff\xfe\n' > bad-utf8.yaml
arbiter eval $P bad-utf8.yaml
expect_code 1 "invalid UTF-8 is refused"
expect_err '^bad-utf8\.yaml:[0-9]+:[0-9]+: .*(UTF-8|octet)' "invalid UTF-8 gets a positioned message"

# hostile documents: deep nesting, billion laughs, over 1 MiB
{ printf 'action: a\nx: '; for i in $(seq 70); do printf '['; done; for i in $(seq 70); do printf ']'; done; echo; } > deep.yaml
arbiter eval $P deep.yaml
expect_err '^deep\.yaml:2:[0-9]+: nesting deeper than 64 levels' "nesting over 64 is refused"
cat > laughs.yaml <<'Y'
action: a
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
Y
arbiter eval $P laughs.yaml
expect_err '^laughs\.yaml:[0-9]+:[0-9]+: aliases expand to more than 10000 nodes' "billion laughs is refused"
{ printf 'action: a\npad: "'; head -c 1100000 /dev/zero | tr '\0' x; printf '"\n'; } > huge.yaml
arbiter eval $P huge.yaml
expect_err '^huge\.yaml:1:1: document is [0-9]+ bytes, over the limit' "a document over 1 MiB is refused"
# integers are kept within +-(2^53 - 1), where JSON numbers are exact
# (I-JSON), in YAML and in JSON, so that a digest is exact; the other
# documents of the call are still evaluated
BEYOND='is beyond \+-9007199254740991 \(2\^53 - 1\)'
printf 'action: a\nx: 99999999999999999999\n' > bigint.yaml
arbiter eval $P bigint.yaml
expect_err "^bigint\.yaml:2:4: integer 99999999999999999999 $BEYOND" "an integer beyond 64 bits is refused"
expect_code 1 "a refused integer exits 1"
printf 'action: a\nok: 9007199254740991\n---\naction: b\nlist: [1, -0x20000000000000]\n' > big53.yaml
arbiter eval $P --json big53.yaml
expect_err "^big53\.yaml:5:11: integer -0x20000000000000 $BEYOND" "YAML: -2^53 is refused at its line and column"
expect_out '"action":"a"' "YAML: 2^53 - 1 is accepted, and the other document evaluated"
expect_code 1 "YAML: exit 1 for the refused document"
printf '{"action":"a","n":{"m":[9007199254740992]}}\n{"action":"b","n":-9007199254740991}\n' > big53.jsonl
arbiter eval $P --json big53.jsonl
expect_err "^big53\.jsonl:1:25: integer 9007199254740992 $BEYOND" "JSON: 2^53 is refused at its line and column"
expect_out '"action":"b"' "JSON: -(2^53 - 1) is accepted"
expect_no_out '"action":"a"' "JSON: nothing is reported for the refused document"
printf '{"action":"a","n":9007199254740993.0,"s":"9007199254740993"}\n' > bigfloat.jsonl
arbiter eval $P --json bigfloat.jsonl
expect_code 0 "a large float, and a large integer quoted as text, are accepted"

# every --json result carries the digest: the SHA-256 of the RFC 8785 form
# of the document without ref, title and meta; the same for the same call
# in YAML or JSON, however titled
printf 'action: tool.call\ntool: Bash\ncwd: /w\ninput: {b: 1, a: [1.5, x, 1e21, 1e-6]}\nref: r-1\ntitle: one\nmeta: {session: s1}\n' > call.yaml
printf '{"input":{"a":[1.50,"x",1E21,0.000001],"b":1.0},"cwd":"/w","tool":"Bash","action":"tool.call","title":"two"}\n' > call.jsonl
arbiter eval $P --json call.yaml call.jsonl
expect_out '^\{"ref":"r-1",.*"digest":"399a4f64f140ee79658846f7913756058591801e8d8732b3d4b54d0be70507ac"' "eval --json prints the digest of the document (RFC 8785, SHA-256)"
[ "$(grep -c '"digest":"399a4f64f140ee79658846f7913756058591801e8d8732b3d4b54d0be70507ac"' "$OUT")" -eq 2 ] &&
	pass "the same call in YAML and JSON, titled otherwise, has the same digest" || fail "the two forms' digests differ"

# an evaluation error is a deny finding with the expression's position
arbiter eval $P --json "$EX/submissions/rom-05-bad-type.yaml"
expect_out '"type":"error","severity":"critical","effect":"deny"' "an evaluation error becomes a deny finding"
expect_out '"detail":"[^"]*policies/10-rom.yaml:[0-9]+:[0-9]+: cannot compare string' "the error carries the expression's FILE:LINE:COL"

# --- missing files and usage errors ---
arbiter eval $P no-such-file.yaml
expect_code 1 "a missing file exits 1"
expect_err '^no-such-file\.yaml: cannot open: No such file' "a missing file is named"
arbiter eval $P
expect_code 2 "eval without a file is a usage error"
expect_err 'usage: arbiter eval' "a usage error shows the usage"
arbiter eval --bogus x.yaml
expect_code 2 "an unknown option is a usage error"
arbiter policy check --json
expect_code 2 "an option a command does not take is a usage error"
arbiter frobnicate
expect_code 2 "an unknown command is a usage error"
expect_err 'unknown command "frobnicate"' "the unknown command is named"
arbiter --version
expect_out "^arbiter [0-9]+\.[0-9]+\.[0-9]+$" "--version prints the version"
for c in eval "policy check" "policy list"; do
	arbiter $c --help
	expect_code 0 "$c --help exits 0"
	expect_out "^usage: arbiter $c" "$c --help shows its usage"
done
arbiter --help
expect_out "policy check" "--help lists the commands"

# no store and no --policies
mkdir -p nostore && cd nostore || exit 1
ARBITER_HOME= arbiter eval ../allowed.yaml
expect_code 1 "eval with no store and no --policies exits 1"
expect_err 'arbiter init' "the error names arbiter init"
cd "$T" || exit 1

# --- policy check lists every error ---
mkdir broken
cp "$EX"/policies/*.yaml broken/
chmod u+w broken/*.yaml
cat > broken/60-broken.yaml <<'Y'
version: 1
enabled: true
policies:
  - name: bad_severity
    type: expression
    condition: 'cost_usd > 5'
    severity: hi
  - name: bad_expr
    type: expression
    condition: 'cost_usd >> 5'
  - name: bad_type
    type: teleport
  - name: require_tests
    type: expression
    condition: 'true'
    colour: red
Y
arbiter policy check --policies broken
expect_code 1 "policy check exits 1 on a broken set"
expect_err '^broken/60-broken\.yaml:7:15: unknown severity "hi" \(expected info, warning or critical\)' "unknown severity at its FILE:LINE:COL"
expect_err '^broken/60-broken\.yaml:10:27: expected a value, found ">"' "a bad expression at its position inside the expression"
expect_err '^broken/60-broken\.yaml:12:11: unknown type "teleport"' "unknown type at its FILE:LINE:COL"
expect_err '^broken/60-broken\.yaml:13:11: duplicate policy name "require_tests" \(first defined at broken/10-rom\.yaml:[0-9]+\)' "a duplicate name names the first definition"
expect_err '^broken/60-broken\.yaml:16:5: unknown key "colour"' "an unknown key at its FILE:LINE:COL"
expect_err '^5 errors in 6 files' "policy check counts every error"
arbiter eval --policies broken allowed.yaml
expect_code 1 "eval refuses to evaluate with a broken policy set"
expect_err 'nothing was evaluated' "eval says it evaluated nothing"

# --- policy list ---
arbiter policy list $P
expect_code 0 "policy list exits 0"
expect_out '^protect_critical_regions +forbidden_range +critical +deny' "policy list shows name, type, severity, effect"
arbiter policy list $P --json
expect_out '^\{"name":"protect_critical_regions","type":"forbidden_range"' "policy list --json prints one object per line"
n=$(grep -c '^{' "$OUT")
[ "$n" -ge 40 ] && pass "policy list --json lists the whole set ($n)" || fail "policy list --json listed $n"

# A large allowlist against a large hostile list stays linear: the policy's
# strings are hashed. (Quadratic, this is 1.6e9 comparisons: minutes.)
mkdir -p biglist
printf 'version: 1\npolicies:\n  - name: known_vendors\n    type: allowlist\n    field: vendors\n    values: [%s]\n' \
	"$(seq -f '"v%.0f"' 1 20000 | paste -sd, -)" > biglist/p.yaml
printf '{"action":"llm.batch","vendors":[%s]}\n' "$(seq -f '"v%.0f"' 1 80000 | paste -sd, -)" > biglist.jsonl
run timeout 20 "$ARBITER" eval --policies biglist --json biglist.jsonl
expect_code 3 "a large allowlist against a large list finishes"
n=$(grep -o '"policy":"known_vendors"' "$OUT" | wc -l)
[ "$n" -eq 60000 ] && pass "each of the 60,000 elements outside the allowlist is a finding" || fail "expected 60000 findings, got $n"
