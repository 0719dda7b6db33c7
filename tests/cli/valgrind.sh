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
