/*
 * store_support.h: the fixture of the unit tests of data/ (test_store_*.c),
 * beside support.h's, so that a test of the store reads as the operation it
 * makes and the assertions on what came of it.
 *
 * store_fixture_setup makes a store in a new temporary directory with
 * store_init (the small policy set below, pinned as version 1), opens it with
 * its signing key and settings, and holds the test clock (engine/clock.c,
 * compiled into the test build only) still at START_MS; store_fixture_teardown
 * closes it and removes the directory, even when the test has failed. Around
 * it: reviewers enrolled with a secret the test knows and codes computed from
 * it with the engine's totp_code at the clock's now, submissions stored as
 * submit stores them, and a second SQLite connection for the checks (and the
 * tampering) that must not go through data/. The tests of data/ see its
 * inside (store_impl.h): the pieces the operations of ops.h are made of are
 * tested here one by one.
 */
#ifndef ARBITER_TESTS_UNIT_STORE_SUPPORT_H
#define ARBITER_TESTS_UNIT_STORE_SUPPORT_H

#include <limits.h>

#include "../../data/store_impl.h"
#include "support.h"

/* 2030-01-01T00:00:00Z, the start of a TOTP step */
#define START_MS 1893456000000LL

/* The policy set of every store made here: an action "test.review" waits for
 * a reviewer (a warning that requires approval), "test.block" is blocked (a
 * critical finding one reviewer may override for at most 8h), anything else
 * is allowed. */
extern const char fixture_policy[];

struct store_fixture {
	char dir[PATH_MAX];     /* the temporary directory store_init was given */
	char home[PATH_MAX + 16];       /* dir/.arbiter, the store */
	store *s;
	settings cfg;           /* its config.yaml as read at setup */
	policy_set *ps;         /* its policies, as submit loads them */
};
extern struct store_fixture S;

int store_fixture_setup(void **state);
int store_fixture_teardown(void **state);
/* A test with a store of its own (include cmocka.h first). */
#define store_test(f) cmocka_unit_test_setup_teardown(f, store_fixture_setup, \
	store_fixture_teardown)

/* The path of rel inside the store (S.home/rel), in T.a. */
const char *in_store(const char *rel);

/* ---- the clock ---- */

/* Sets the test clock to ms (Unix milliseconds) for every later now_ms(). */
void clock_set(int64_t ms);
/* Moves the test clock on by seconds. */
void clock_advance(int64_t seconds);

/* ---- reviewers and codes ---- */

/* Enrols name (admin or not) as reviewer_add does, in a transaction of its
 * own, with a secret derived from the name, and returns that secret. */
const unsigned char *enrol(const char *name, bool admin);
/* The secret enrol gave name. */
const unsigned char *secret_of(const char *name);
/* name's code for the TOTP step steps_from_now after now's, in out (7 bytes). */
const char *code_at(const char *name, int steps_from_now, char out[7]);
/* name's code for now. */
const char *code_now(const char *name, char out[7]);
/* A code checked as an operation checks it: its attempt recorded
 * (code_attempt_begin), then code_verify, and the transaction committed when
 * the code was right (a refusal is recorded by code_verify itself). From
 * this process's uid, or from origin. */
int verify(const char *name, const char *code, code_check *out);
int verify_from(const char *name, const char *origin, const char *code, code_check *out);

/* ---- submissions ---- */

/* Stores the submission yaml as submit does (in a transaction of its own
 * unless one is open, the fixture's policies, evaluated at now) and returns
 * its id. */
int64_t submit_yaml(const char *yaml);
/* A submission of action by submitter, with ref REF: its id. */
int64_t submit_action(const char *action, const char *submitter, const char *ref);
/* The status of submission id as query_status reads it now. */
const char *status_of(int64_t id);

/* ---- the database, from beside data/ ---- */

/* Runs sql on a second connection to the store's database; it must work. */
void db_exec(const char *sql);
/* The first column of the first row of sql, on a second connection, as an
 * integer. */
int64_t db_int(const char *sql);
/* The same as text, copied into T.a (NULL for NULL or no row). */
const char *db_text(const char *sql);

/* ---- the audit log ---- */

/* audit_verify of the store under its own key; it must run. */
verify_result verified(void);

#endif
