/*
 * support.c: the fixture and helpers every unit test file shares (see
 * support.h). They were once copied from file to file; kept here once, a
 * fix or a stricter check reaches every test that uses them. Each helper
 * checks what it relies on with cmocka's assertions, printing the engine's
 * errors first where there are any, so a failure names its cause.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

struct fixture T;

int fixture_setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof T);
	T.a = arena_new();
	return 0;
}

int fixture_teardown(void **state)
{
	(void)state;
	policy_set_free(T.ps);
	arena_free(T.a);
	diags_free(&T.errs);
	memset(&T, 0, sizeof T);
	return 0;
}

/* ---- documents ---- */

node *parse_at(const char *text, size_t len, int first_line)
{
	bool empty = true;
	node *n = doc_parse(T.a, "sub.yaml", text, len, first_line, &empty, &T.errs);
	if (n == NULL) {
		diags_print(&T.errs, stderr);
		fail_msg("document does not parse: %.200s", text);
	}
	assert_false(empty);
	assert_int_equal(T.errs.n, 0);
	return n;
}

node *parse(const char *yaml)
{
	return parse_at(yaml, strlen(yaml), 1);
}

const submission *sub(const char *yaml)
{
	diags errs = { 0 };
	bool empty = false;
	node *root = doc_parse(T.a, "sub.yaml", yaml, strlen(yaml), 1, &empty, &errs);
	bool ok = root != NULL && submission_from_doc(root, "sub.yaml", &T.sub, &errs);
	diags_print(&errs, stderr);
	diags_free(&errs);
	assert_true(ok);
	return &T.sub;
}

/* ---- policies ---- */

policy_set *add_file(policy_set *ps, const char *shown, const char *text)
{
	if (ps == NULL)
		ps = policy_set_new();
	diags errs = { 0 };
	policy_set_add_text(ps, shown, text, strlen(text), &errs);
	size_t n = errs.n;
	diags_print(&errs, stderr);
	diags_free(&errs);
	assert_int_equal(n, 0);
	return ps;
}

void load_file(const char *text)
{
	T.ps = add_file(T.ps, SRC, text);
}

void load(const char *body)
{
	load_file(arena_printf(T.a, "version: 1\npolicies:\n%s", body));
}

const policy *policy_named(const char *name)
{
	for (size_t i = 0; i < T.ps->n; i++)
		if (T.ps->items[i].name && strcmp(T.ps->items[i].name, name) == 0)
			return &T.ps->items[i];
	fail_msg("no policy %s", name);
	return NULL;
}

/* ---- evaluation ---- */

eval_options opts(void)
{
	eval_options o;
	eval_options_default(&o);
	o.now = NOW;
	return o;
}

const eval_result *eval_in(const policy_set *ps, const char *yaml, const eval_options *o,
    eval_result *out)
{
	sub(yaml);
	evaluate(ps, &T.sub, o, T.a, out);
	return out;
}

const eval_result *eval_with(const char *yaml, const eval_options *o)
{
	if (T.ps == NULL)
		T.ps = policy_set_new();
	return eval_in(T.ps, yaml, o, &T.r);
}

const eval_result *eval(const char *yaml)
{
	eval_options o = opts();
	return eval_with(yaml, &o);
}

const finding *nth(const eval_result *r, const char *name, size_t i)
{
	for (size_t j = 0; j < r->n; j++)
		if (strcmp(r->findings[j].name, name) == 0 && i-- == 0)
			return &r->findings[j];
	return NULL;
}

const finding *find(const eval_result *r, const char *name)
{
	return nth(r, name, 0);
}

/* ---- values, text and time ---- */

const char *fmt(value v)
{
	char buf[512];
	value_format(v, buf, sizeof buf);
	return arena_strdup(T.a, buf);
}

char *nest(int n, const char *open, const char *middle, const char *close)
{
	size_t len = (size_t)n * (strlen(open) + strlen(close)) + strlen(middle) + 1;
	char *s = arena_alloc(T.a, len);
	s[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(s, open);
	strcat(s, middle);
	for (int i = 0; i < n; i++)
		strcat(s, close);
	return s;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void each_corpus_file(const char *const *dirs, size_t n, corpus_fn fn, void *ctx)
{
	for (size_t d = 0; d < n; d++) {
		DIR *dir = opendir(dirs[d]);
		if (dir == NULL)
			fail_msg("%s: cannot be listed", dirs[d]);
		struct dirent *e;
		while ((e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[512], why[256];
			snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
			size_t len;
			char *text = read_file(path, &len, why, sizeof why);
			if (text == NULL)
				fail_msg("%s: %s", path, why);
			fn(path, text, len, ctx);
			free(text);
		}
		closedir(dir);
	}
}
