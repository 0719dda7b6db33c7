#!/bin/bash
# The plain build (no sanitizers, which valgrind cannot run beside) is clean
# under valgrind: no invalid reads or writes, no leaks, on the paths every
# user takes: evaluating the examples, JSON output, a broken policy set,
# malformed documents.
. "$(dirname "$0")/../lib.sh"
PLAIN=$ROOT/build/release/arbiter
EX=$ROOT/docs/examples
if ! command -v valgrind > /dev/null || [ ! -x "$PLAIN" ]; then
	fail "valgrind or $PLAIN is missing (make test builds and installs both)"
	exit 0
fi
vg() {
	run valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		-q "$PLAIN" "$@"
	if [ "$CODE" -eq 99 ]; then fail "valgrind reports errors for: arbiter $*"; else pass "valgrind clean: arbiter $1 $2"; fi
}
vg eval --policies "$EX/policies" --json "$EX"/submissions/*.yaml "$EX"/submissions/*.jsonl
vg eval --policies "$EX/policies" "$EX"/submissions/rom-02-header-patch.yaml
printf 'action: [x\n---\n- 1\n---\naction: a\nb: &a [1]\nc: *a\n' > "$T/bad.yaml"
vg eval --policies "$EX/policies" "$T/bad.yaml"
mkdir "$T/p" && cp "$EX"/policies/*.yaml "$T/p/" && chmod u+w "$T"/p/*.yaml
printf 'version: 1\npolicies:\n  - name: x\n    type: nope\n    severity: hi\n  - name: y\n    type: expression\n    condition: "a >> 1"\n' > "$T/p/99.yaml"
vg policy check --policies "$T/p"
vg policy list --policies "$EX/policies" --json

# the store and the review commands: enrolment (the secret and QR code),
# submit, a decision with a code, an override, a tampered policy file, a pin
"$PLAIN" init "$T/s" > /dev/null || fail "init for the store's valgrind checks"
export ARBITER_HOME=$T/s
vg reviewer add vgadmin --role admin
sed -n 's/^secret (base32): //p' "$OUT" > "$T/secret.vgadmin"
[ -s "$T/secret.vgadmin" ] && pass "the enrolment under valgrind printed the secret" || fail "no secret printed"
ARBITER=$PLAIN enrol vgrev --role admin --as vgadmin --code "$(code vgadmin)" || fail "enrol vgrev"
vg submit "$EX"/submissions/code-04-cleanup.yaml "$EX"/submissions/rom-02-header-patch.yaml
vg --as vgrev approve 1 --ack --note checked --code "$(code vgrev)"
expect_out "approved by vgrev" "the approval under valgrind went through"
vg --as vgrev override 2 --justification "checked by hand against the dump" --expires 1h --code "$(code vgrev)"
expect_out "override 1 of 2 recorded by vgrev" "the partial override under valgrind went through"
vg show 2
vg reviewer list --json
chmod u+w "$T/s/.arbiter/policies/10-rom.yaml" && echo "# edited" >> "$T/s/.arbiter/policies/10-rom.yaml"
vg submit "$EX"/submissions/rom-01-clean-patch.yaml
vg --as vgadmin policy pin --justification "a comment added to the ROM policies" --code "$(code vgadmin)"
vg reevaluate --pending
