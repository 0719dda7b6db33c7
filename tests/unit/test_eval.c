/*
 * test_eval.c: what evaluation makes of the findings: the status (deny wins,
 * then require_approval and warn), its independence from policy order,
 * evaluation errors under fail_closed, enforcement off, counts by severity,
 * status names and exit codes, and the JSON shape of a result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Besides the fixture T: what jansson made, freed by teardown. */
static char *DUMPED;    /* from json_dumps */
static json_t *LOADED;  /* from json_loads */

static int teardown(void **state)
{
	free(DUMPED);
	json_decref(LOADED);
	DUMPED = NULL;
	LOADED = NULL;
	return fixture_teardown(state);
}

/* ---- helpers ---- */

/* The result as compact JSON, in the order the keys were set. */
static const char *to_json(const eval_result *r)
{
	json_t *j = result_to_json(&T.sub, r);
	assert_non_null(j);
	free(DUMPED);
	DUMPED = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(DUMPED);
	return DUMPED;
}

/* ---- status ---- */

/* One expression policy per effect, each firing when its flag is present. */
static const char *const BY_EFFECT =
    "  - {name: p_deny, type: expression, condition: 'has(d)', effect: deny}\n"
    "  - {name: p_approve, type: expression, condition: 'has(a)', effect: require_approval}\n"
    "  - {name: p_warn, type: expression, condition: 'has(w)', effect: warn}\n"
    "  - {name: p_log, type: expression, condition: 'has(l)', effect: log}\n"
    "  - {name: p_modify, type: expression, condition: 'has(m)', effect: modify,\n"
    "     set: {mode: safe}}\n"
    "  - {name: p_info, type: expression, condition: 'has(i)', severity: info}\n";

static int status_of(const char *flags)
{
	char *yaml = arena_printf(T.a, "action: tool.call\n");
	for (const char *f = flags; *f; f++)
		yaml = arena_printf(T.a, "%s%c: 1\n", yaml, *f);
	const eval_result *r = eval(yaml);
	assert_int_equal(r->n, strlen(flags));
	return r->status;
}

static void test_status_nothing_is_allowed(void **state)
{
	(void)state;
	load(BY_EFFECT);
	assert_int_equal(status_of(""), ST_ALLOWED);
}

static void test_status_log_modify_info_alone_are_allowed(void **state)
{
	(void)state;
	load(BY_EFFECT);
	assert_int_equal(status_of("l"), ST_ALLOWED);
	assert_int_equal(status_of("m"), ST_ALLOWED);
	assert_int_equal(status_of("i"), ST_ALLOWED);
	assert_int_equal(status_of("lmi"), ST_ALLOWED);
}

static void test_status_warn_or_approval_is_pending(void **state)
{
	(void)state;
	load(BY_EFFECT);
	assert_int_equal(status_of("w"), ST_PENDING);
	assert_int_equal(status_of("a"), ST_PENDING);
	assert_int_equal(status_of("awlmi"), ST_PENDING);
}

static void test_status_deny_wins(void **state)
{
	(void)state;
	load(BY_EFFECT);
	assert_int_equal(status_of("d"), ST_BLOCKED);
	assert_int_equal(status_of("dawlmi"), ST_BLOCKED);
	assert_int_equal(status_of("ad"), ST_BLOCKED);
	assert_int_equal(status_of("lmid"), ST_BLOCKED);
}

static void test_status_every_combination(void **state)
{
	(void)state;
	load(BY_EFFECT);
	static const char all[] = "dawlmi";
	for (unsigned mask = 0; mask < 64; mask++) {
		char flags[8];
		size_t n = 0;
		for (unsigned b = 0; b < 6; b++)
			if (mask & (1u << b))
				flags[n++] = all[b];
		flags[n] = '\0';
		bool deny = strchr(flags, 'd'), review = strchr(flags, 'a') || strchr(flags, 'w');
		int want = deny ? ST_BLOCKED : review ? ST_PENDING : ST_ALLOWED;
		int got = status_of(flags);
		if (got != want)
			fail_msg("flags \"%s\": %s, expected %s", flags, status_name(got), status_name(want));
	}
}

/* ---- order independence ---- */

static const char *const MIXED[] = {
    "  - name: header\n"
    "    type: forbidden_range\n"
    "    ranges: [{start: 0xFFB0, end: 0xFFFF, reason: ROM header}]\n"
    "    severity: critical\n",
    "  - name: tests\n"
    "    type: test_requirement\n"
    "    rules: [{test_suite: smoke, min_pass_rate: 1}, {test_suite: unit, min_pass_rate: 0.9}]\n",
    "  - name: review\n"
    "    type: review_requirement\n"
    "    conditions: [{if: 'bytes_changed > 10', then: diff}, {if: 'has(files)', then: files}]\n",
    "  - name: vendors\n"
    "    type: allowlist\n"
    "    field: vendor\n"
    "    values: [openai]\n"
    "    severity: info\n",
    "  - name: broken\n"
    "    type: expression\n"
    "    condition: 'vendor > 3'\n",
    "  - name: degrade\n"
    "    type: expression\n"
    "    condition: 'bytes_changed > 100'\n"
    "    effect: modify\n"
    "    set: {mode: draft}\n",
    "  - name: paths\n"
    "    type: protected_paths\n"
    "    patterns: [\"src/**\"]\n",
    "  - name: quota\n"
    "    type: quota\n"
    "    limit: 0\n"
    "    window: 1h\n",
};
#define NMIXED (sizeof MIXED / sizeof MIXED[0])

static const char *const MIXED_SUB =
    "action: rom.patch\n"
    "bytes_changed: 2048\n"
    "vendor: acme\n"
    "tests: {smoke: 0.5}\n"
    "changes: [{offset: 0xFFB0, length: 2}, {start: 0xFFF0, end: 0x10000}]\n"
    "files: [src/a.c, .arbiter/users.oath, docs/x.md]\n";

/* Every field of a finding as one line, to compare findings as a multiset. */
static char *finding_line(const finding *f)
{
	return arena_printf(T.a, "%s|%s|%s|%s|%d|%s|%s|%s|%s", f->name, f->type,
	    severity_name(f->severity), effect_name(f->effect), f->overridable, f->message,
	    f->detail ? f->detail : "-", f->path ? f->path : "-", f->source);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_lines(const eval_result *r)
{
	char **lines = arena_alloc(T.a, (r->n + 1) * sizeof *lines);
	for (size_t i = 0; i < r->n; i++)
		lines[i] = finding_line(&r->findings[i]);
	qsort(lines, r->n, sizeof *lines, by_string);
	return lines;
}

/* Loads each policy of MIXED as its own file, forwards or backwards. */
static policy_set *load_mixed(bool reversed)
{
	policy_set *ps = NULL;
	for (size_t k = 0; k < NMIXED; k++) {
		size_t i = reversed ? NMIXED - 1 - k : k;
		char *shown = arena_printf(T.a, "policies/%zu.yaml", i);
		ps = add_file(ps, shown, arena_printf(T.a, "version: 1\npolicies:\n%s", MIXED[i]));
	}
	return ps;
}

static void test_order_independence(void **state)
{
	(void)state;
	T.ps = load_mixed(false);
	policy_set *backwards = load_mixed(true);
	eval_options o = opts();
	eval_result fwd, bwd;
	eval_in(T.ps, MIXED_SUB, &o, &fwd);
	eval_in(backwards, MIXED_SUB, &o, &bwd);

	/* every kind of finding is there, so the comparison means something */
	assert_true(fwd.n >= 10);
	assert_non_null(find(&fwd, "self_protection"));
	assert_non_null(find(&fwd, "broken"));
	assert_string_equal(find(&fwd, "broken")->type, "error");
	assert_int_equal(fwd.status, ST_BLOCKED);

	assert_int_equal(fwd.status, bwd.status);
	assert_int_equal(fwd.n, bwd.n);
	assert_memory_equal(fwd.counts, bwd.counts, sizeof fwd.counts);
	char **a = sorted_lines(&fwd), **b = sorted_lines(&bwd);
	for (size_t i = 0; i < fwd.n; i++)
		assert_string_equal(a[i], b[i]);
	assert_int_equal(fwd.nmods, 1);
	assert_int_equal(bwd.nmods, 1);
	assert_string_equal(fwd.mods[0].key, bwd.mods[0].key);
	policy_set_free(backwards);
}

static void test_order_independence_of_status_alone(void **state)
{
	(void)state;
	/* the same policies, written in two orders in one file */
	T.ps = add_file(NULL, SRC, "version: 1\npolicies:\n"
	    "  - {name: w, type: expression, condition: 'true', effect: warn}\n"
	    "  - {name: d, type: expression, condition: 'true', effect: deny}\n"
	    "  - {name: l, type: expression, condition: 'true', effect: log}\n");
	policy_set *other = add_file(NULL, SRC, "version: 1\npolicies:\n"
	    "  - {name: l, type: expression, condition: 'true', effect: log}\n"
	    "  - {name: d, type: expression, condition: 'true', effect: deny}\n"
	    "  - {name: w, type: expression, condition: 'true', effect: warn}\n");
	eval_options o = opts();
	eval_result x, y;
	eval_in(T.ps, "action: a\n", &o, &x);
	eval_in(other, "action: a\n", &o, &y);
	assert_int_equal(x.status, ST_BLOCKED);
	assert_int_equal(y.status, ST_BLOCKED);
	assert_int_equal(x.n, 3);
	assert_int_equal(y.n, 3);
	policy_set_free(other);
}

/* ---- evaluation errors ---- */

static const char *const BROKEN =
    "  - name: broken\n"
    "    type: expression\n"
    "    condition: 'vendor > 3'\n"
    "    severity: warning\n"
    "    effect: warn\n"
    "    override: {allowed: false}\n";

static void test_error_fail_closed_is_deny(void **state)
{
	(void)state;
	load(BROKEN);
	const eval_result *r = eval("action: llm.request\nvendor: acme\n");
	assert_int_equal(r->n, 1);
	const finding *f = &r->findings[0];
	assert_string_equal(f->name, "broken");
	assert_string_equal(f->type, "error");
	assert_int_equal(f->effect, EFF_DENY);
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_false(f->overridable);
	assert_string_equal(f->message, "evaluation error in policy broken");
	/* the quote is at column 16: "vendor > 3" puts ">" at column 24 */
	assert_string_equal(f->detail, SRC ":5:24: cannot compare string \"acme\" with int 3 using >");
	assert_string_equal(f->path, "vendor");
	assert_string_equal(f->source, SRC ":3");
	assert_int_equal(r->status, ST_BLOCKED);
	assert_int_equal(r->counts[SEV_CRITICAL], 1);
	assert_int_equal(r->counts[SEV_WARNING], 0);
}

static void test_error_fail_open_is_log(void **state)
{
	(void)state;
	load(BROKEN);
	eval_options o = opts();
	o.fail_closed = false;
	const eval_result *r = eval_in(T.ps, "action: llm.request\nvendor: acme\n", &o, &T.r);
	assert_int_equal(r->n, 1);
	const finding *f = &r->findings[0];
	assert_string_equal(f->type, "error");
	assert_int_equal(f->effect, EFF_LOG);
	assert_int_equal(f->severity, SEV_WARNING);     /* the policy's own */
	assert_string_equal(f->detail, SRC ":5:24: cannot compare string \"acme\" with int 3 using >");
	assert_int_equal(r->status, ST_ALLOWED);
	assert_int_equal(r->counts[SEV_WARNING], 1);
}

static void test_error_does_not_stop_other_policies(void **state)
{
	(void)state;
	load(BROKEN);
	load("  - {name: after, type: expression, condition: 'true', severity: info}\n");
	const eval_result *r = eval("action: llm.request\nvendor: acme\n");
	assert_int_equal(r->n, 2);
	assert_non_null(find(r, "after"));
	assert_string_equal(find(r, "after")->type, "expression");
}

static void test_error_findings_never_modify(void **state)
{
	(void)state;
	load("  - name: bad_degrade\n"
	     "    type: expression\n"
	     "    condition: 'cost > 1'\n"
	     "    effect: modify\n"
	     "    set: {mode: draft}\n");
	const eval_result *r = eval("action: llm.request\ncost: high\n");
	assert_int_equal(r->n, 1);
	assert_string_equal(r->findings[0].type, "error");
	assert_int_equal(r->nmods, 0);
	assert_int_equal(r->status, ST_BLOCKED);
}

/* ---- enforcement ---- */

static void test_enforcement_off_allows_but_keeps_findings(void **state)
{
	(void)state;
	load(BY_EFFECT);
	eval_options o = opts();
	o.enforcement = false;
	const eval_result *r = eval_in(T.ps, "action: tool.call\nd: 1\na: 1\nw: 1\n", &o, &T.r);
	assert_int_equal(r->status, ST_ALLOWED);
	assert_int_equal(r->n, 3);
	assert_int_equal(find(r, "p_deny")->effect, EFF_DENY);
	assert_int_equal(find(r, "p_approve")->effect, EFF_REQUIRE_APPROVAL);
	assert_int_equal(r->counts[SEV_WARNING], 3);
}

static void test_enforcement_off_keeps_self_protection_finding(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	eval_options o = opts();
	o.enforcement = false;
	const eval_result *r = eval_in(T.ps, "action: code.modify\nfiles: [.arbiter/config.yaml]\n",
	    &o, &T.r);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->findings[0].name, "self_protection");
	assert_int_equal(r->status, ST_ALLOWED);
}

/* ---- counts ---- */

static void test_counts_by_severity(void **state)
{
	(void)state;
	load("  - {name: c1, type: expression, condition: 'true', severity: critical}\n"
	     "  - {name: w1, type: expression, condition: 'true', severity: warning}\n"
	     "  - {name: w2, type: expression, condition: 'true'}\n"
	     "  - {name: i1, type: expression, condition: 'true', severity: info}\n"
	     "  - {name: i2, type: expression, condition: 'true', severity: info, effect: deny}\n"
	     "  - {name: i3, type: expression, condition: 'false', severity: info}\n");
	const eval_result *r = eval("action: tool.call\n");
	assert_int_equal(r->n, 5);
	assert_int_equal(r->counts[SEV_CRITICAL], 1);
	assert_int_equal(r->counts[SEV_WARNING], 2);
	assert_int_equal(r->counts[SEV_INFO], 2);
	assert_int_equal(r->status, ST_BLOCKED);
}

static void test_counts_when_nothing_fires(void **state)
{
	(void)state;
	load(BY_EFFECT);
	const eval_result *r = eval("action: tool.call\n");
	assert_int_equal(r->n, 0);
	assert_int_equal(r->counts[SEV_CRITICAL] + r->counts[SEV_WARNING] + r->counts[SEV_INFO], 0);
}

/* ---- status names and exit codes ---- */

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(status_name(ST_ALLOWED), "allowed");
	assert_string_equal(status_name(ST_PENDING), "pending");
	assert_string_equal(status_name(ST_BLOCKED), "blocked");
	assert_string_equal(status_name(ST_APPROVED), "approved");
	assert_string_equal(status_name(ST_REJECTED), "rejected");
	assert_string_equal(status_name(ST_OVERRIDDEN), "overridden");
	assert_string_equal(status_name(ST_EXPIRED), "expired");
	assert_string_equal(status_name(-1), "?");
	assert_string_equal(status_name(ST_EXPIRED + 1), "?");
}

static void test_severity_and_effect_names(void **state)
{
	(void)state;
	assert_string_equal(severity_name(SEV_INFO), "info");
	assert_string_equal(severity_name(SEV_WARNING), "warning");
	assert_string_equal(severity_name(SEV_CRITICAL), "critical");
	assert_string_equal(effect_name(EFF_LOG), "log");
	assert_string_equal(effect_name(EFF_MODIFY), "modify");
	assert_string_equal(effect_name(EFF_WARN), "warn");
	assert_string_equal(effect_name(EFF_REQUIRE_APPROVAL), "require_approval");
	assert_string_equal(effect_name(EFF_DENY), "deny");
}

/* ---- submissions ---- */

/* Parses yaml as a submission that must be refused with one error. */
static void refused(const char *yaml, int line, int col, const char *msg)
{
	diags errs = { 0 };
	bool empty = false;
	submission s;
	node *root = doc_parse(T.a, "sub.yaml", yaml, strlen(yaml), 1, &empty, &errs);
	bool ok = root != NULL && submission_from_doc(root, "sub.yaml", &s, &errs);
	size_t n = errs.n;
	bool same = n == 1 && errs.items[0].line == line && errs.items[0].col == col &&
	    strcmp(errs.items[0].msg, msg) == 0 && strcmp(errs.items[0].file, "sub.yaml") == 0;
	if (!same)
		diags_print(&errs, stderr);
	diags_free(&errs);
	assert_false(ok);
	assert_true(same);
}

static void test_submission_reserved_keys(void **state)
{
	(void)state;
	const submission *s = sub("title: Patch\naction: rom.patch\nref: a/1\nsubmitter: bot\n");
	assert_string_equal(s->action, "rom.patch");
	assert_string_equal(s->kind, "proposal");
	assert_int_equal(s->kind_bit, KIND_PROPOSAL);
	assert_string_equal(s->ref, "a/1");
	assert_string_equal(s->title, "Patch");
	assert_string_equal(s->submitter, "bot");
	assert_string_equal(s->file, "sub.yaml");
	assert_int_equal(s->line, 1);
	s = sub("action: export.bundle\n");
	assert_string_equal(s->kind, "export");
	assert_int_equal(s->kind_bit, KIND_EXPORT);
	assert_null(s->ref);
	s = sub("action: import.chat\n");
	assert_int_equal(s->kind_bit, KIND_IMPORT);
	s = sub("action: tool.call\nkind: import\n");
	assert_string_equal(s->kind, "import");
	assert_int_equal(s->kind_bit, KIND_IMPORT);
}

static void test_submission_refused(void **state)
{
	(void)state;
	refused("title: x\n", 1, 1,
	    "missing action (what the submission asks for, e.g. action: rom.patch)");
	refused("title: x\naction: 5\n", 2, 9, "action must be a non-empty string, not int");
	refused("title: x\naction: ''\n", 2, 9, "action must not be empty");
	refused("[action, rom.patch]\n", 1, 1, "a submission must be a map of keys to values, not a list");
	refused("42\n", 1, 1, "a submission must be a map of keys to values, not an int");
	refused("action: rom.patch\nkind: pr\n", 2, 7,
	    "unknown kind \"pr\" (expected proposal, export or import)");
	refused("action: export.bundle\nkind: proposal\n", 2, 7,
	    "kind proposal contradicts action export.bundle (an export)");
	refused("action: rom.patch\nref: [1]\n", 2, 6, "ref must be a string, not list");
}

/* ---- JSON ---- */

static void test_json_shape(void **state)
{
	(void)state;
	load("  - name: protect_critical_regions\n"
	     "    type: forbidden_range\n"
	     "    ranges: [{start: 0xFFB0, end: 0xFFFF, reason: ROM header}]\n"
	     "    severity: critical\n"
	     "    message: Proposal modifies protected ROM region\n"
	     "  - name: small\n"
	     "    type: change_constraint\n"
	     "    rules: [max_bytes_changed: 100]\n");
	const eval_result *r = eval("action: rom.patch\nref: agent-7/1187\n"
	    "changes: [{offset: 0xFFB2, length: 4}]\nbytes_changed: 200\n");
	assert_string_equal(to_json(r),
	    "{\"ref\":\"agent-7/1187\",\"kind\":\"proposal\",\"action\":\"rom.patch\","
	    "\"digest\":null,\"status\":\"blocked\",\"counts\":{\"info\":0,\"warning\":1,\"critical\":1},"
	    "\"findings\":["
	    "{\"policy\":\"protect_critical_regions\",\"type\":\"forbidden_range\","
	    "\"severity\":\"critical\",\"effect\":\"deny\",\"overridable\":true,"
	    "\"message\":\"Proposal modifies protected ROM region\","
	    "\"detail\":\"change 0xFFB2+4 overlaps 0xFFB0-0xFFFF (ROM header)\","
	    "\"path\":\"changes[0]\",\"source\":\"policies/test.yaml:3\"},"
	    "{\"policy\":\"small\",\"type\":\"change_constraint\",\"severity\":\"warning\","
	    "\"effect\":\"warn\",\"overridable\":true,\"message\":\"policy small matched\","
	    "\"detail\":\"bytes_changed is 200, over the maximum of 100\","
	    "\"path\":\"bytes_changed\",\"source\":\"policies/test.yaml:8\"}]}");
}

static void test_json_without_findings_or_ref(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	const eval_result *r = eval("action: export.bundle\n");
	assert_string_equal(to_json(r),
	    "{\"ref\":null,\"kind\":\"export\",\"action\":\"export.bundle\",\"digest\":null,"
	    "\"status\":\"allowed\",\"counts\":{\"info\":0,\"warning\":0,\"critical\":0},\"findings\":[]}");
}

static void test_json_title_and_submitter(void **state)
{
	(void)state;
	T.ps = policy_set_new();
	const eval_result *r = eval("action: import.chat\nref: r1\ntitle: Chat log\n"
	    "submitter: bot-1\n");
	/* the digest once computed: SHA-256 of {"action":"import.chat","submitter":"bot-1"} */
	assert_true(submission_digest(&T.sub));
	assert_string_equal(to_json(r),
	    "{\"ref\":\"r1\",\"kind\":\"import\",\"action\":\"import.chat\",\"title\":\"Chat log\","
	    "\"submitter\":\"bot-1\","
	    "\"digest\":\"97101df47879a0fd095521cc3feb6e115df61833b5ec07d4345699b4a43574e2\","
	    "\"status\":\"allowed\","
	    "\"counts\":{\"info\":0,\"warning\":0,\"critical\":0},\"findings\":[]}");
}

static void test_json_modifications_when_present(void **state)
{
	(void)state;
	load("  - name: degrade\n"
	     "    type: expression\n"
	     "    condition: 'cost_usd > 1'\n"
	     "    severity: info\n"
	     "    effect: modify\n"
	     "    set: {mode: draft, max_tokens: 256, stream: false, ratio: 0.5, tags: [a, b], "
	     "note: null}\n");
	const eval_result *r = eval("action: llm.request\nref: q\ncost_usd: 2\n");
	assert_string_equal(to_json(r),
	    "{\"ref\":\"q\",\"kind\":\"proposal\",\"action\":\"llm.request\",\"digest\":null,"
	    "\"status\":\"allowed\",\"counts\":{\"info\":1,\"warning\":0,\"critical\":0},\"findings\":["
	    "{\"policy\":\"degrade\",\"type\":\"expression\",\"severity\":\"info\","
	    "\"effect\":\"modify\",\"overridable\":true,\"message\":\"policy degrade matched\","
	    "\"detail\":\"cost_usd = 2\",\"path\":\"cost_usd\",\"source\":\"policies/test.yaml:3\"}],"
	    "\"modifications\":{\"mode\":\"draft\",\"max_tokens\":256,\"stream\":false,"
	    "\"ratio\":0.5,\"tags\":[\"a\",\"b\"],\"note\":null}}");
	r = eval("action: llm.request\nref: q\ncost_usd: 0\n");
	assert_null(strstr(to_json(r), "modifications"));
}

static void test_json_error_and_builtin_findings(void **state)
{
	(void)state;
	load("  - {name: cmp, type: expression, condition: 'n < 1'}\n");
	const eval_result *r = eval("action: code.modify\nn: x\nfiles: [.arbiter/keys/audit.key]\n");
	const char *j = to_json(r);
	assert_non_null(strstr(j, "{\"policy\":\"self_protection\",\"type\":\"protected_paths\","
	    "\"severity\":\"critical\",\"effect\":\"deny\",\"overridable\":false,"
	    "\"message\":\"Submission touches arbiter's own store (policies, keys, reviewers' secrets)\","
	    "\"detail\":\".arbiter/keys/audit.key is inside .arbiter/\",\"path\":\"files[0]\","
	    "\"source\":\"builtin\"}"));
	assert_non_null(strstr(j, "{\"policy\":\"cmp\",\"type\":\"error\",\"severity\":\"critical\","
	    "\"effect\":\"deny\",\"overridable\":true,\"message\":\"evaluation error in policy cmp\","
	    "\"detail\":\"policies/test.yaml:3:49: cannot compare string \\\"x\\\" with int 1 using <\","
	    "\"path\":\"n\",\"source\":\"policies/test.yaml:3\"}"));
	assert_non_null(strstr(j, "\"counts\":{\"info\":0,\"warning\":0,\"critical\":2}"));
}

static void test_json_detail_with_long_multibyte_value(void **state)
{
	(void)state;
	load("  - {name: vendors, type: allowlist, field: vendor, values: [openai]}\n");
	/* 60 two-byte characters: the detail shortens the value, never inside one */
	char *yaml = arena_printf(T.a, "action: llm.request\nvendor: \"");
	for (int i = 0; i < 60; i++)
		yaml = arena_printf(T.a, "%s\u00e9", yaml);
	yaml = arena_printf(T.a, "%s\"\n", yaml);
	const eval_result *r = eval(yaml);
	assert_int_equal(r->n, 1);
	const char *j = to_json(r);
	json_error_t jerr;
	LOADED = json_loads(j, 0, &jerr);
	assert_non_null(LOADED);
	json_t *f = json_array_get(json_object_get(LOADED, "findings"), 0);
	assert_non_null(f);
	const char *detail = json_string_value(json_object_get(f, "detail"));
	assert_non_null(detail);
	assert_true(strncmp(detail, "vendor = \"\u00e9\u00e9", 12) == 0);
	assert_non_null(strstr(detail, "...\" is not in the allowlist [\"openai\"]"));
}

static void test_json_source_that_is_not_utf8(void **state)
{
	(void)state;
	/* a file name is whatever bytes the file system holds */
	T.ps = add_file(NULL, "policies/\xff.yaml", "version: 1\npolicies:\n"
	    "  - {name: always, type: expression, condition: 'true'}\n");
	const eval_result *r = eval("action: tool.call\n");
	assert_int_equal(r->n, 1);
	assert_non_null(strstr(to_json(r), "\"source\":\"policies/\xef\xbf\xbd.yaml:3\"}"));
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, fixture_setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_status_nothing_is_allowed),
		T_(test_status_log_modify_info_alone_are_allowed),
		T_(test_status_warn_or_approval_is_pending),
		T_(test_status_deny_wins),
		T_(test_status_every_combination),
		T_(test_order_independence),
		T_(test_order_independence_of_status_alone),
		T_(test_error_fail_closed_is_deny),
		T_(test_error_fail_open_is_log),
		T_(test_error_does_not_stop_other_policies),
		T_(test_error_findings_never_modify),
		T_(test_enforcement_off_allows_but_keeps_findings),
		T_(test_enforcement_off_keeps_self_protection_finding),
		T_(test_counts_by_severity),
		T_(test_counts_when_nothing_fires),
		T_(test_status_names),
		T_(test_severity_and_effect_names),
		T_(test_submission_reserved_keys),
		T_(test_submission_refused),
		T_(test_json_shape),
		T_(test_json_without_findings_or_ref),
		T_(test_json_title_and_submitter),
		T_(test_json_modifications_when_present),
		T_(test_json_error_and_builtin_findings),
		T_(test_json_detail_with_long_multibyte_value),
		T_(test_json_source_that_is_not_utf8),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
