/*
 * test_eval_ahead.c: an evaluation that takes every rule but the quotas
 * from one made ahead without history (eval_options.ahead, what submit's
 * writing thread does with its workers' evaluations) gives the result a
 * whole evaluation with history gives, byte for byte as submit prints it:
 * for the example policy set and documents of every action it selects, with
 * histories that put quotas over and under their limits, failing closed and
 * open, with tampered policies, with expression errors, and when a quota
 * rule modifies the document or the evaluation ahead is another set's (then
 * nothing is taken from ahead).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support.h"

/* A history that differs per quota and key: a sum of the letters of the
 * policy's name and the per value, scaled, so that some quotas are over
 * their limit and some under. */
static bool spread_history(void *ctx, const quota_query *q, double *out, char *err,
    size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	unsigned h = 0;
	for (const char *c = q->policy->name; *c; c++)
		h = h * 31 + (unsigned char)*c;
	for (const char *c = q->per_value ? q->per_value : ""; *c; c++)
		h = h * 31 + (unsigned char)*c;
	*out += (double)(h % 4000) / 8;
	return true;
}

/* A document of the example set's shapes: the i-th of a mix of actions,
 * tiers, environments, tenants and costs. */
static const char *doc(int i)
{
	static const char *const actions[] = { "rom.patch", "code.modify", "export.bundle",
		"import.chat", "tool.call", "llm.request", "agent.run" };
	static const char *const tiers[] = { "free", "pro" };
	static const char *const envs[] = { "prod", "dev", "staging" };
	static char text[1024];
	unsigned r = (unsigned)i * 2654435761u;
	snprintf(text, sizeof text, "{\"action\": \"%s\", \"ref\": \"t/%d\", \"submitter\": "
	    "\"agent-%u\", \"tenant\": \"t%u\", \"vendor\": \"v%u\", \"tier\": \"%s\", "
	    "\"environment\": \"%s\", \"cost_usd\": %u.%02u, \"bytes_changed\": %u, "
	    "\"commands_executed\": %u, \"test_failures\": %u, \"license\": \"%s\", "
	    "\"llm_calls\": %u, \"tokens\": %u, "
	    "\"files\": [{\"path\": \"src/m%u.c\", \"op\": \"modify\"}, {\"path\": \"%s\", "
	    "\"op\": \"create\"}], \"changes\": [{\"offset\": %u, \"length\": %u}]}",
	    actions[i % 7], i, r % 9, (r >> 4) % 3, (r >> 6) % 4, tiers[(r >> 3) % 2],
	    envs[(r >> 5) % 3], (r >> 7) % 40, r % 100, (r >> 2) % 30000, (r >> 8) % 30,
	    (r >> 9) % 3, (r >> 10) % 2 ? "MIT" : "GPL-3.0", (r >> 11) % 80, (r >> 12) % 90000,
	    r % 50, (r >> 13) % 5 ? "docs/n.md" : ".arbiter/keys/audit.key", (r >> 3) % 0x10000,
	    (r >> 6) % 64 + 1);
	return text;
}

/* The result of yaml against ps with history, evaluated whole and with the
 * evaluation ahead (no history) standing for every rule but the quotas:
 * the two must print the same and count the same uses. */
static void same_either_way(const policy_set *ps, const char *yaml, eval_options o)
{
	history_source h = { .quota = spread_history };
	const submission *s = sub(yaml);
	eval_result whole, ahead, taken;
	o.history = &h;
	evaluate(ps, s, &o, T.a, &whole);
	eval_options first = o;
	first.history = NULL;
	evaluate(ps, s, &first, T.a, &ahead);
	o.ahead = &ahead;
	evaluate(ps, s, &o, T.a, &taken);
	strbuf a = { 0 }, b = { 0 };
	result_write_json(&a, "", s, &whole);
	result_write_json(&b, "", s, &taken);
	if (strcmp(a.s, b.s) != 0)
		fail_msg("%s\nwhole: %s\nahead: %s", yaml, a.s, b.s);
	assert_int_equal(whole.nuses, taken.nuses);
	for (size_t i = 0; i < whole.nuses; i++) {
		assert_ptr_equal(whole.uses[i].policy, taken.uses[i].policy);
		assert_true(whole.uses[i].amount == taken.uses[i].amount);
	}
	free(a.s);
	free(b.s);
}

static void test_example_set_many_documents(void **state)
{
	(void)state;
	T.ps = policy_set_load("docs/examples/policies", "policies", &T.errs);
	assert_non_null(T.ps);
	for (int i = 0; i < 600; i++) {
		eval_options o = opts();
		o.fail_closed = i % 3 != 0;
		o.tampered = i % 11 == 0 ? "policies/10-rom.yaml edited" : NULL;
		same_either_way(T.ps, doc(i), o);
	}
}

/* Quotas over their limits are found, so the comparison above covers the
 * findings the history makes, not only their absence. */
static void test_history_makes_quota_findings(void **state)
{
	(void)state;
	T.ps = policy_set_load("docs/examples/policies", "policies", &T.errs);
	assert_non_null(T.ps);
	history_source h = { .quota = spread_history };
	eval_options o = opts();
	o.history = &h;
	int over = 0, counted = 0;
	for (int i = 0; i < 600; i++) {
		const eval_result *r = eval_with(doc(i), &o);
		counted += r->nuses > 0;
		for (size_t j = 0; j < r->n; j++)
			over += strcmp(r->findings[j].type, "quota") == 0;
	}
	assert_true(counted > 100);
	assert_true(over > 50);
}

static const char *const MIXED =
    "  - {name: first, type: expression, condition: 'cost > 5', severity: warning,\n"
    "     effect: warn, message: dear}\n"
    "  - {name: broken, type: expression, condition: 'cost.nope > 1', severity: info,\n"
    "     effect: log, message: broken}\n"
    "  - {name: count, type: quota, limit: 0, window: 1h, per: submitter, severity: warning,\n"
    "     effect: require_approval, message: too many}\n"
    "  - {name: tag, type: expression, condition: 'cost > 1', severity: info, effect: modify,\n"
    "     set: {reviewed: false}, message: tagged}\n"
    "  - {name: spend, type: quota, limit: 100, window: 1d, field: cost, severity: critical,\n"
    "     effect: deny, message: spent}\n"
    "  - {name: last, type: expression, condition: 'cost > 2', severity: info, effect: log,\n"
    "     message: last}\n";

static void test_errors_and_modifications_between_quotas(void **state)
{
	(void)state;
	load(MIXED);
	for (int cost = 0; cost < 12; cost++) {
		char yaml[160];
		snprintf(yaml, sizeof yaml, "{action: a.b, submitter: s%d, cost: %d}", cost % 4, cost);
		same_either_way(T.ps, yaml, opts());
		eval_options open = opts();
		open.fail_closed = false;
		same_either_way(T.ps, yaml, open);
	}
}

/* A quota rule that modifies the document: its modifications would fall
 * among the others', so nothing is taken from ahead, and the result is
 * still the whole evaluation's. */
static void test_quota_that_modifies_takes_nothing_ahead(void **state)
{
	(void)state;
	load("  - {name: early, type: expression, condition: 'cost > 0', severity: info,\n"
	     "     effect: modify, set: {a: 1}, message: early}\n"
	     "  - {name: capped, type: quota, limit: 1, window: 1h, severity: info, effect: modify,\n"
	     "     set: {capped: true}, message: capped}\n"
	     "  - {name: late, type: expression, condition: 'cost > 0', severity: info,\n"
	     "     effect: modify, set: {z: 2}, message: late}\n");
	same_either_way(T.ps, "{action: a.b, submitter: s, cost: 3}", opts());
	history_source h = { .quota = spread_history };
	eval_options o = opts();
	o.history = &h;
	const eval_result *r = eval_with("{action: a.b, submitter: s, cost: 3}", &o);
	assert_int_equal(r->nmods, 3);
	assert_string_equal(r->mods[1].key, "capped");
}

/* An evaluation ahead made with another policy set: none of its findings
 * belongs to a rule of this one, so the whole set runs; nothing ahead is
 * dropped or taken. */
static void test_ahead_of_another_set_is_not_taken(void **state)
{
	(void)state;
	policy_set *other = add_file(NULL, "policies/other.yaml", "version: 1\npolicies:\n"
	    "  - {name: loud, type: expression, condition: 'cost > 0', severity: critical,\n"
	    "     effect: deny, message: loud}\n");
	load(MIXED);
	const char *yaml = "{action: a.b, submitter: s, cost: 4}";
	const submission *s = sub(yaml);
	history_source h = { .quota = spread_history };
	eval_options first = opts(), o = opts();
	eval_result ahead, whole, taken;
	evaluate(other, s, &first, T.a, &ahead);
	assert_int_equal(ahead.n, 1);
	o.history = &h;
	evaluate(T.ps, s, &o, T.a, &whole);
	o.ahead = &ahead;
	evaluate(T.ps, s, &o, T.a, &taken);
	strbuf a = { 0 }, b = { 0 };
	result_write_json(&a, "", s, &whole);
	result_write_json(&b, "", s, &taken);
	assert_string_equal(a.s, b.s);
	assert_null(strstr(b.s, "loud"));
	free(a.s);
	free(b.s);
	policy_set_free(other);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T_(test_example_set_many_documents),
		T_(test_history_makes_quota_findings),
		T_(test_errors_and_modifications_between_quotas),
		T_(test_quota_that_modifies_takes_nothing_ahead),
		T_(test_ahead_of_another_set_is_not_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
