#!/bin/bash
# The example set: the policies load cleanly, and every example submission
# gets exactly the status and findings its expect- comments promise.
. "$(dirname "$0")/../lib.sh"
EX=$ROOT/docs/examples

arbiter policy check --policies "$EX/policies"
expect_code 0 "the example policy set loads without errors"
expect_out '^[0-9]+ policies' "policy check reports the count"

# Prints one "STATUS NAME,NAME" line per document, in order: names sorted, unique.
summarise() {
	while IFS= read -r line; do
		status=$(printf '%s' "$line" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
		names=$(printf '%s' "$line" | grep -o '"policy":"[^"]*"' | cut -d'"' -f4 | sort -u | paste -sd, -)
		echo "$status ${names:-none}"
	done
}

# The same from the expect-status / expect-findings comments.
expected() {
	awk '/^# expect-status:/ { s = $3 }
	     /^# expect-findings:/ { sub(/^# expect-findings: */, ""); n = split($0, a, / *, */);
	        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	        out = ""; for (i = 1; i <= n; i++) if (i == 1 || a[i] != a[i-1]) out = out (out == "" ? "" : ",") a[i];
	        print s, out }' "$1"
}

count=0
for f in "$EX"/submissions/*.yaml "$EX"/submissions/*.jsonl; do
	[ -f "$f" ] || continue
	exp=$f
	case $f in *.jsonl) exp=${f%.jsonl}.expect ;; esac
	arbiter eval --policies "$EX/policies" --json "$f"
	got=$(summarise < "$OUT")
	want=$(LC_ALL=C expected "$exp")
	got=$(printf '%s\n' "$got" | while read -r s n; do echo "$s $(echo "$n" | tr , '\n' | LC_ALL=C sort -u | paste -sd, -)"; done)
	want=$(printf '%s\n' "$want" | while read -r s n; do echo "$s $(echo "$n" | tr , '\n' | LC_ALL=C sort -u | paste -sd, -)"; done)
	if [ "$got" = "$want" ]; then
		pass "$(basename "$f") gets the findings its comments promise"
	else
		fail "$(basename "$f"): expected [$want] got [$got]"
	fi
	count=$((count + $(printf '%s\n' "$want" | grep -c .)))
done
if [ "$count" -ge 25 ]; then pass "at least 25 example submissions ($count)"; else fail "only $count example submissions"; fi

# Every status and every rule type appears among the examples' results.
cat "$EX"/submissions/*.yaml > /dev/null
all=$T/all.json
for f in "$EX"/submissions/*.yaml "$EX"/submissions/*.jsonl; do
	"$ARBITER" eval --policies "$EX/policies" --json "$f" 2>/dev/null
done > "$all"
for s in allowed pending blocked; do
	if grep -q "\"status\":\"$s\"" "$all"; then pass "an example is $s"; else fail "no example is $s"; fi
done
for t in expression forbidden_range test_requirement change_constraint review_requirement \
	protected_paths allowlist denylist quota error; do
	if grep -q "\"type\":\"$t\"" "$all"; then pass "an example finding has type $t"; else fail "no finding of type $t"; fi
done
for e in deny require_approval warn log modify; do
	if grep -q "\"effect\":\"$e\"" "$all"; then pass "an example finding has effect $e"; else fail "no finding with effect $e"; fi
done
if grep -q '"modifications":{' "$all"; then pass "an example carries modifications"; else fail "no modifications"; fi
