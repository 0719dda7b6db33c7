#!/bin/bash
# Quotas count the submissions that were not refused (PRODUCT.md section 3):
# when `arbiter reevaluate` moves a blocked submission to allowed, its uses
# join the sums, and the next one, evaluated against them, stays blocked.
# After each step the sums the store keeps per second, minute, hour and day
# are the sums of the uses of the submissions that count. (A rejection and
# an override: test_store_decisions.)
. "$(dirname "$0")/../lib.sh"
clock_start
new_store
enrol alice --role admin || fail "enrol the admin"
# policy BLOCK-CONDITION: a $100 daily quota on x.* per tenant, and a rule
# that blocks what the condition says
policy() {
	chmod u+w "$H/policies"
	cat > "$H/policies/90-x.yaml" <<Y
version: 1
policies:
  - name: xq
    actions: ["x.*"]
    type: quota
    field: cost
    per: tenant
    limit: 100
    window: 24h
    severity: critical
    message: x quota
  - name: xblock
    actions: ["x.*"]
    type: expression
    condition: '$1'
    severity: critical
    override: {allowed: true, approvals: 1, role: reviewer, max_duration: 24h}
    message: x block
Y
	pin alice || fail "pinning the policies"
}
# consistent: the sums kept equal the uses of what counts, per unit
consistent() { [ "$(quota_sums_off)" = 0 ]; }
day() { q "SELECT total(amount) FROM quota_totals WHERE policy = 'xq' AND unit = 86400"; }
status() { q "SELECT status FROM submissions WHERE ref = '$1'"; }

policy 'has(block)'
printf '{"action":"x.call","ref":"a","submitter":"ag","tenant":"t","cost":60,"block":1}\n{"action":"x.call","ref":"b","submitter":"ag","tenant":"t","cost":60,"block":1}\n' > "$T/two.jsonl"
arbiter submit --jsonl --json "$T/two.jsonl"
expect_code 3 "two blocked calls exit 3"
[ "$(status a)$(status b)" = blockedblocked ] && [ "$(day)" = 0.0 ] && consistent &&
	pass "two blocked calls of 60 spend nothing of the \$100 quota" ||
	fail "blocked: $(status a) $(status b), the day's sum $(day)"
policy 'false'
arbiter --as alice reevaluate --pending
[ "$(status a)" = allowed ] && [ "$(status b)" = blocked ] && [ "$(day)" = 60.0 ] && consistent &&
	pass "evaluated again, the first is allowed and counts 60, the second is over (120 > 100)" ||
	fail "after reevaluate: $(status a) $(status b), the day's sum $(day): $(cat "$OUT" "$ERR" | head -5)"
policy 'has(block)'
arbiter --as alice reevaluate --pending
[ "$(status b)" = blocked ] && [ "$(day)" = 60.0 ] && consistent &&
	pass "an allowed one is not evaluated again, and the sums stay" ||
	fail "after the second reevaluate: $(status a) $(status b), the day's sum $(day)"
arbiter audit verify
expect_code 0 "the chain verifies"
