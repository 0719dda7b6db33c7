/*
 * store_support.c: the temporary store and its helpers for the unit tests of
 * data/ (see store_support.h). Each helper checks what it relies on with
 * cmocka's assertions and prints the store's own message first, so that a
 * failure names its cause rather than a line of this file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_support.h"

struct store_fixture S;

const char fixture_policy[] =
    "version: 1\n"
    "policies:\n"
    "  - name: needs_review\n"
    "    enabled: true\n"
    "    actions: [\"test.review\"]\n"
    "    type: expression\n"
    "    condition: 'true'\n"
    "    severity: warning\n"
    "    effect: require_approval\n"
    "    message: a test submission that needs a reviewer\n"
    "  - name: blocked\n"
    "    enabled: true\n"
    "    actions: [\"test.block\"]\n"
    "    type: expression\n"
    "    condition: 'true'\n"
    "    severity: critical\n"
    "    effect: deny\n"
    "    override: {allowed: true, approvals: 1, role: reviewer, max_duration: 8h}\n"
    "    message: a test submission that is blocked\n"
    "  - name: spend\n"
    "    enabled: true\n"
    "    actions: [\"test.*\"]\n"
    "    when: 'has(cost)'\n"
    "    type: quota\n"
    "    limit: 1000\n"
    "    window: 1d\n"
    "    field: cost\n"
    "    severity: info\n"
    "    effect: log\n"
    "    message: a test quota that sums cost\n";

enum { MAX_REVIEWERS = 16 };
static struct {
	char name[65];
	unsigned char key[REVIEWER_KEY_BYTES];
} enrolled[MAX_REVIEWERS];
static int nenrolled;

static int64_t clock_ms;

void clock_set(int64_t ms)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", (long long)ms);
	assert_int_equal(setenv("ARBITER_TEST_NOW", text, 1), 0);
	clock_ms = ms;
	if (now_ms() != ms)
		fail_msg("now_ms() ignores ARBITER_TEST_NOW: the unit tests of data/ need the test "
		    "build (BUILD=build/asan, which compiles engine/clock.c with ARBITER_TEST_CLOCK)");
}

void clock_advance(int64_t seconds)
{
	clock_set(clock_ms + seconds * 1000);
}

int store_fixture_setup(void **state)
{
	fixture_setup(state);
	memset(&S, 0, sizeof S);
	memset(enrolled, 0, sizeof enrolled);
	nenrolled = 0;
	assert_true(secrets_init());
	clock_set(START_MS);
	const char *tmp = getenv("TMPDIR");
	snprintf(S.dir, sizeof S.dir, "%s/arbiter-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(S.dir));
	snprintf(S.home, sizeof S.home, "%s/.arbiter", S.dir);
	named_text files[] = { { "10-test.yaml", fixture_policy } };
	char err[512] = "";
	if (!store_init(S.dir, files, 1, "tester", err, sizeof err))
		fail_msg("store_init: %s", err);
	S.s = store_open(S.home, err, sizeof err);
	if (S.s == NULL)
		fail_msg("store_open: %s", err);
	if (!store_load_signing_key(S.s))
		fail_msg("store_load_signing_key: %s", store_errmsg(S.s));
	if (!store_settings(S.s, &S.cfg, &T.errs)) {
		diags_print(&T.errs, stderr);
		fail_msg("the fixture's config.yaml does not read");
	}
	S.ps = store_policies_load(S.s, &T.errs);
	diags_print(&T.errs, stderr);
	assert_non_null(S.ps);
	assert_int_equal(T.errs.n, 0);
	return 0;
}

const char *in_store(const char *rel)
{
	return arena_printf(T.a, "%s/%s", S.home, rel);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(path, 0700);      /* pinned policy files are read-only */
	return remove(path);
}

int store_fixture_teardown(void **state)
{
	store_close(S.s);
	policy_set_free(S.ps);
	if (S.dir[0] != '\0')
		nftw(S.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("ARBITER_TEST_NOW");
	memset(&S, 0, sizeof S);
	return fixture_teardown(state);
}

/* ---- reviewers and codes ---- */

const unsigned char *enrol(const char *name, bool admin)
{
	assert_true(nenrolled < MAX_REVIEWERS);
	snprintf(enrolled[nenrolled].name, sizeof enrolled[nenrolled].name, "%s", name);
	unsigned char *key = enrolled[nenrolled].key;
	size_t n = strlen(name);
	for (size_t i = 0; i < REVIEWER_KEY_BYTES; i++)
		key[i] = (unsigned char)(name[i % n] * 31 + i * 7);
	nenrolled++;
	bool ok = store_begin(S.s) && reviewer_add(S.s, "tester", name, admin, NULL, key) &&
	    store_commit(S.s);
	if (!ok) {
		store_rollback(S.s);
		fail_msg("enrolling %s: %s", name, store_errmsg(S.s));
	}
	return key;
}

const unsigned char *secret_of(const char *name)
{
	for (int i = 0; i < nenrolled; i++)
		if (strcmp(enrolled[i].name, name) == 0)
			return enrolled[i].key;
	fail_msg("%s was not enrolled by enrol()", name);
	return NULL;
}

const char *code_at(const char *name, int steps_from_now, char out[7])
{
	int64_t t = now_ms() / 1000 + (int64_t)steps_from_now * TOTP_STEP;
	assert_true(totp_code(secret_of(name), REVIEWER_KEY_BYTES, t, 6, out));
	return out;
}

const char *code_now(const char *name, char out[7])
{
	return code_at(name, 0, out);
}

int verify_from(const char *name, const char *origin, const char *code, code_check *out)
{
	bool recorded;
	if (!code_attempt_begin(S.s, name, origin, &recorded))
		fail_msg("code_attempt_begin: %s", store_errmsg(S.s));
	int v = code_verify(S.s, &S.cfg, name, origin, code, out);
	if (v == CODE_ERROR) {
		store_rollback(S.s);
		fail_msg("code_verify: %s", store_errmsg(S.s));
	}
	assert_int_equal(store_in_transaction(S.s), v == CODE_OK);
	if (v == CODE_OK && !store_commit(S.s))
		fail_msg("store_commit: %s", store_errmsg(S.s));
	return v;
}

int verify(const char *name, const char *code, code_check *out)
{
	return verify_from(name, NULL, code, out);
}

/* ---- submissions ---- */

int64_t submit_yaml(const char *yaml)
{
	sub(yaml);
	assert_true(submission_canonical(&T.sub, T.a));
	eval_options o;
	eval_options_default(&o);
	o.now = now_ms() / 1000;
	o.enforcement = S.cfg.enforcement;
	o.fail_closed = S.cfg.fail_closed;
	eval_result r;
	stored out = { 0 };
	bool own = !store_in_transaction(S.s);
	if (own && !store_begin(S.s))
		fail_msg("store_begin: %s", store_errmsg(S.s));
	outcome got = store_submit(S.s, S.ps, store_policy_version(S.s), &T.sub, &o, T.a, "agent",
	    &r, &out);
	free(out.details.s);
	if (got != OUT_OK || (own && !store_commit(S.s))) {
		store_rollback(S.s);
		fail_msg("store_submit: %s (%s)", store_errmsg(S.s), outcome_of(got)->name);
	}
	return out.id;
}

int64_t submit_action(const char *action, const char *submitter, const char *ref)
{
	return submit_yaml(arena_printf(T.a, "action: %s\nsubmitter: %s\nref: %s\n", action,
	    submitter, ref));
}

const char *status_of(int64_t id)
{
	char *status = arena_alloc(T.a, 16);
	if (query_status(S.s, id, status) != 1)
		fail_msg("no status for submission %lld: %s", (long long)id, store_errmsg(S.s));
	return status;
}

/* ---- the database, from beside data/ ---- */

static sqlite3 *second(void)
{
	const char *path = in_store("arbiter.db");
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("a second connection to %s: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	return db;
}

void db_exec(const char *sql)
{
	sqlite3 *db = second();
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		print_error("%s\n", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		fail_msg("sql failed: %s", sql);
	}
	sqlite3_close(db);
}

static sqlite3_stmt *first_row(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	return st;
}

int64_t db_int(const char *sql)
{
	sqlite3 *db = second();
	sqlite3_stmt *st = first_row(db, sql);
	int64_t v = sqlite3_data_count(st) > 0 ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

const char *db_text(const char *sql)
{
	sqlite3 *db = second();
	sqlite3_stmt *st = first_row(db, sql);
	const char *v = NULL;
	if (sqlite3_data_count(st) > 0 && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = arena_strdup(T.a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

verify_result verified(void)
{
	verify_result r;
	if (!audit_verify(S.s, NULL, &r))
		fail_msg("audit_verify: %s", store_errmsg(S.s));
	return r;
}
