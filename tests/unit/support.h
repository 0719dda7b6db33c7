/*
 * support.h: what the unit tests share, so that each test file holds its
 * tests and only the helpers that are its own.
 *
 * One fixture, T, is the state of one test: an arena for everything the
 * test builds, an error list, and the policy set, submission and result of
 * the tests that evaluate. fixture_setup zeroes it; fixture_teardown frees
 * it, even when the test has failed. A file with state of its own wraps the
 * two. Around the fixture stand the helpers that several test files had
 * written alike: reading YAML into a node or a submission, loading policies
 * that must load without errors, evaluating, finding a finding or a policy
 * by name, formatting a value, building deeply nested text and timing. A
 * helper that meets something wrong fails the test through cmocka, so a
 * test reads as its assertions.
 */
#ifndef ARBITER_TESTS_UNIT_SUPPORT_H
#define ARBITER_TESTS_UNIT_SUPPORT_H

#include "../../engine/engine.h"

#define NOW 1700000000                  /* the time opts() evaluates at */
#define SRC "policies/test.yaml"        /* the file load() and load_file() add */

/* One test's state; teardown frees it even when the test fails. */
struct fixture {
	arena *a;               /* documents, texts and results of the test */
	diags errs;             /* errors, for the helpers and tests that keep them */
	policy_set *ps;         /* the loaded policies, or NULL */
	submission sub;         /* the submission sub() read last */
	eval_result r;          /* the result eval() and eval_with() gave last */
};
extern struct fixture T;

int fixture_setup(void **state);
int fixture_teardown(void **state);

/* ---- documents ---- */

/* Reads text (starting at line first_line) as the document "sub.yaml" into
 * T.a, adding errors to T.errs; it must parse, be a document and leave no
 * error. */
node *parse_at(const char *text, size_t len, int first_line);
node *parse(const char *yaml);

/* Reads yaml as a submission into T.sub; it must be accepted. */
const submission *sub(const char *yaml);

/* ---- policies ---- */

/* Adds one policy file to set ps (created when NULL); it must load cleanly. */
policy_set *add_file(policy_set *ps, const char *shown, const char *text);

/* Adds a whole policy file to T.ps as SRC; it must load cleanly. */
void load_file(const char *text);

/* Loads policies (a YAML list body) after "version: 1\npolicies:\n". */
void load(const char *body);

/* The policy called name in T.ps; fails the test when there is none. */
const policy *policy_named(const char *name);

/* ---- evaluation ---- */

/* The default options (fail closed, enforcing), evaluating at NOW. */
eval_options opts(void);

/* Evaluates the submission yaml (read by sub()) against ps into out. */
const eval_result *eval_in(const policy_set *ps, const char *yaml, const eval_options *o,
    eval_result *out);

/* Evaluates yaml against T.ps (an empty set when none is loaded) into T.r. */
const eval_result *eval_with(const char *yaml, const eval_options *o);
const eval_result *eval(const char *yaml);

/* The i-th finding (0-based) of policy name, or NULL; find is the first. */
const finding *nth(const eval_result *r, const char *name, size_t i);
const finding *find(const eval_result *r, const char *name);

/* ---- values, text and time ---- */

/* v as value_format writes it, copied into T.a. */
const char *fmt(value v);

/* n opening strings, the middle, n closing strings, in T.a. */
char *nest(int n, const char *open, const char *middle, const char *close);
/* Calls fn with the path and whole text (len bytes) of every file but dot
 * files in each of the n directories dirs; fails the test when one cannot
 * be read. */
typedef void (*corpus_fn)(const char *path, const char *text, size_t len, void *ctx);
void each_corpus_file(const char *const *dirs, size_t n, corpus_fn fn, void *ctx);

/* A monotonic clock in seconds, for tests that bound the time taken. */
double now_seconds(void);

#endif
