/*
 * test_store_identities.c: agents and who is calling the server
 * (identities.c, agents.c, ops_agent.c, ops_identify.c): op_agent_add's
 * rules (an admin's code, the name rule, one identity per login or uid,
 * never the owner's uid), the token (shown once, only its SHA-256 kept),
 * op_identify_token (a good token, a bad one, a malformed one, a revoked
 * agent's, a disabled reviewer's, a token on the socket from a uid it is not
 * mapped to, the owner's use of any), the whole hash compared with
 * sodium_memcmp for every candidate the index finds (counted through the
 * linker's --wrap, see the Makefile), op_identify_uid (agent, reviewer, by
 * login alone, unknown, revoked, disabled, two at once) and op_access_denied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_support.h"

/* ---- sodium_memcmp, counted ---- */
int __real_sodium_memcmp(const void *a, const void *b, size_t len);
int __wrap_sodium_memcmp(const void *a, const void *b, size_t len);
static int memcmp_calls;
int __wrap_sodium_memcmp(const void *a, const void *b, size_t len)
{
	memcmp_calls++;
	return __real_sodium_memcmp(a, b, len);
}

static int64_t events(const char *event)
{
	return db_int(arena_printf(T.a, "SELECT count(*) FROM audit WHERE event = '%s'", event));
}

/* ann, an admin, with a code of a step she has not used (the clock moves on
 * a step each time). */
static op_auth ann(void)
{
	static char code[7];
	clock_advance(30);
	return (op_auth){ .actor = "ann", .code = code_now("ann", code) };
}

static outcome add(const char *name, const char *login, long uid, bool token, int rate,
    agent_added *r)
{
	op_auth a = ann();
	identity_spec spec = { .login = login, .uid = uid, .token = token, .rate = rate };
	return op_agent_add(S.s, &S.cfg, &a, name, &spec, r);
}

static void test_agent_add_rules(void **state)
{
	(void)state;
	agent_added r;
	identity_spec by_uid = { .uid = 4242 };
	op_auth nobody = { .actor = "ann" };
	/* no admin yet: nobody may */
	assert_int_equal(op_agent_add(S.s, &S.cfg, &nobody, "ci", &by_uid, &r), OUT_NOT_PERMITTED);
	enrol("ann", true);
	enrol("bob", false);
	/* the code is asked for, then given */
	assert_int_equal(op_agent_add(S.s, &S.cfg, &nobody, "ci", &by_uid, &r), OUT_UNAUTHENTICATED);
	assert_true(r.reply.code_needed);
	char code[7];
	op_auth bob = { .actor = "bob", .code = code_now("bob", code) };
	assert_int_equal(op_agent_add(S.s, &S.cfg, &bob, "ci", &by_uid, &r), OUT_NOT_PERMITTED);
	op_auth wrong = { .actor = "ann", .code = "000000" };
	if (strcmp(code_now("ann", code), "000000") != 0)
		assert_int_equal(op_agent_add(S.s, &S.cfg, &wrong, "ci", &by_uid, &r),
		    OUT_CODE_REFUSED);
	assert_int_equal(db_int("SELECT count(*) FROM agents"), 0);

	/* the input, before any code */
	assert_int_equal(add("two words", NULL, 4242, false, 0, &r), OUT_BAD_INPUT);
	assert_non_null(strstr(r.reply.message, "not an agent name"));
	assert_int_equal(add("", NULL, 4242, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("-x", NULL, 4242, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", "nobody", 4242, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", NULL, -1, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", NULL, 4242, false, -1, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", NULL, IDENTITY_UID_MAX + 1, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", "no-such-login-here", -1, false, 0, &r), OUT_BAD_INPUT);
	assert_int_equal(add("ci", NULL, (long)geteuid(), false, 0, &r), OUT_BAD_INPUT);
	assert_non_null(strstr(r.reply.message, "store owner's"));

	/* stored lower-cased, with its uid and rate, audited without a token */
	assert_int_equal(add("CI.Bot", NULL, 4242, false, 7, &r), OUT_OK);
	assert_string_equal(r.token, "");
	assert_string_equal(db_text("SELECT name || ' ' || uid || ' ' || rate || ' ' || "
	    "ifnull(token_hash, '-') FROM agents"), "ci.bot 4242 7 -");
	assert_string_equal(db_text("SELECT details FROM audit WHERE event = 'agent.add'"),
	    "{\"login\":null,\"name\":\"ci.bot\",\"rate\":7,\"token\":false,\"uid\":4242}");
	/* one name, one uid */
	assert_int_equal(add("ci.BOT", NULL, 5000, false, 0, &r), OUT_CONFLICT);
	assert_int_equal(add("bob", NULL, 5000, false, 0, &r), OUT_CONFLICT);
	assert_non_null(strstr(r.reply.message, "a reviewer"));
	assert_int_equal(add("other", NULL, 4242, false, 0, &r), OUT_CONFLICT);
	assert_non_null(strstr(r.reply.message, "agent ci.bot"));
	/* a reviewer on it too */
	reviewer_added ra;
	identity_spec on_4242 = { .uid = 4242 };
	op_auth a = ann();
	assert_int_equal(op_reviewer_enrol(S.s, &S.cfg, &a, "carl", false, &on_4242, &ra),
	    OUT_CONFLICT);
	assert_int_equal(db_int("SELECT count(*) FROM reviewers WHERE name = 'carl'"), 0);
	/* an agent may not take a reviewer's name through its case either, nor a
	 * reviewer an agent's */
	a = ann();
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &a, "CI.BOT", false, &ra), OUT_CONFLICT);
	assert_int_equal(events("agent.add"), 1);
}

static void test_tokens(void **state)
{
	(void)state;
	enrol("ann", true);
	agent_added r;
	assert_int_equal(add("ci", NULL, 4242, true, 0, &r), OUT_OK);
	char token[TOKEN_CHARS + 1];
	snprintf(token, sizeof token, "%s", r.token);
	assert_int_equal(strlen(token), TOKEN_CHARS);
	assert_int_equal(strncmp(token, "arbiter_", 8), 0);
	assert_true(token_well_formed(token));
	/* the hash is stored, the token nowhere */
	char hash[65];
	token_hash(token, hash);
	assert_string_equal(db_text("SELECT token_hash FROM agents WHERE name = 'ci'"), hash);
	assert_int_equal(db_int(arena_printf(T.a, "SELECT count(*) FROM audit WHERE details LIKE "
	    "'%%%s%%'", token + 8)), 0);
	assert_non_null(strstr(db_text("SELECT details FROM audit WHERE event = 'agent.add'"),
	    "\"token\":true"));
	/* two tokens are never alike */
	agent_added r2;
	assert_int_equal(add("ci2", NULL, -1, true, 0, &r2), OUT_OK);
	assert_string_not_equal(r2.token, token);

	identity id;
	op_reply rep;
	/* good: on TCP, from its uid on the socket, and from the owner's */
	memcmp_calls = 0;
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_OK);
	assert_true(memcmp_calls >= 1);         /* compared in constant time */
	assert_int_equal(id.kind, ID_AGENT);
	assert_string_equal(id.name, "ci");
	assert_false(id.admin);
	assert_int_equal(op_identify_token(S.s, token, 4242, &id, &rep), OUT_OK);
	assert_int_equal(op_identify_token(S.s, token, (long)geteuid(), &id, &rep), OUT_OK);
	/* a token on the socket from a uid its agent is not mapped to */
	assert_int_equal(op_identify_token(S.s, token, 4343, &id, &rep), OUT_NOT_PERMITTED);
	assert_non_null(strstr(rep.message, "not mapped to uid 4343"));
	assert_string_equal(id.name, "");
	/* a token-only agent: from the owner's uid or TCP, from no other */
	assert_int_equal(op_identify_token(S.s, r2.token, (long)geteuid(), &id, &rep), OUT_OK);
	assert_string_equal(id.name, "ci2");
	assert_int_equal(op_identify_token(S.s, r2.token, 4242, &id, &rep), OUT_NOT_PERMITTED);

	/* bad tokens: one character changed, malformed, none */
	char bad[TOKEN_CHARS + 1];
	snprintf(bad, sizeof bad, "%s", token);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	assert_int_equal(op_identify_token(S.s, bad, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_string_equal(rep.message, "bad token");
	assert_int_equal(op_identify_token(S.s, NULL, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_int_equal(op_identify_token(S.s, "", -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_int_equal(op_identify_token(S.s, token + 8, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_int_equal(op_identify_token(S.s, arena_printf(T.a, "%s=", token), -1, &id, &rep),
	    OUT_UNAUTHENTICATED);
	assert_int_equal(op_identify_token(S.s, hash, -1, &id, &rep), OUT_UNAUTHENTICATED);

	/* the index finds rows by the hash's first 16 digits; the whole hash,
	 * compared in constant time for every one found, decides: a row that
	 * shares only the prefix is no match */
	db_exec(arena_printf(T.a, "INSERT INTO agents (name, token_hash, created_at, actor) VALUES "
	    "('forged', '%.16s%048d', 'now', 'x')", hash, 0));
	db_exec("UPDATE agents SET token_hash = NULL WHERE name = 'ci'");
	memcmp_calls = 0;
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_int_equal(memcmp_calls, 1);
	db_exec(arena_printf(T.a, "UPDATE agents SET token_hash = '%s' WHERE name = 'ci'", hash));
	memcmp_calls = 0;
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_OK);
	assert_string_equal(id.name, "ci");
	assert_int_equal(memcmp_calls, 2);

	/* revoked: never again */
	op_auth a = ann();
	assert_int_equal(op_agent_revoke(S.s, &S.cfg, &a, "CI", &rep), OUT_OK);
	assert_int_equal(events("agent.revoke"), 1);
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_non_null(strstr(rep.message, "revoked"));
	assert_int_equal(op_identify_uid(S.s, 4242, &id, &rep), OUT_NOT_PERMITTED);
	a = ann();
	assert_int_equal(op_agent_revoke(S.s, &S.cfg, &a, "ci", &rep), OUT_WRONG_STATE);
	assert_int_equal(op_agent_revoke(S.s, &S.cfg, &a, "nosuch", &rep), OUT_NOT_FOUND);
	assert_int_equal(op_agent_revoke(S.s, &S.cfg, &a, "no such", &rep), OUT_NOT_FOUND);
	/* its uid is free again, its name is not */
	assert_int_equal(add("ci", NULL, 5000, false, 0, &r), OUT_CONFLICT);
	assert_int_equal(add("ci3", NULL, 4242, false, 0, &r), OUT_OK);
	assert_int_equal(op_identify_uid(S.s, 4242, &id, &rep), OUT_OK);
	assert_string_equal(id.name, "ci3");
}

static void test_reviewer_identities(void **state)
{
	(void)state;
	enrol("ann", true);
	reviewer_added ra;
	identity_spec spec = { .uid = 5001, .token = true };
	op_auth a = ann();
	assert_int_equal(op_reviewer_enrol(S.s, &S.cfg, &a, "dora", true, &spec, &ra), OUT_OK);
	assert_true(token_well_formed(ra.token));
	assert_non_null(strstr(ra.reply.message, "uid 5001"));
	char token[TOKEN_CHARS + 1];
	snprintf(token, sizeof token, "%s", ra.token);
	identity id;
	op_reply rep;
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_OK);
	assert_int_equal(id.kind, ID_REVIEWER);
	assert_string_equal(id.name, "dora");
	assert_true(id.admin);
	assert_int_equal(op_identify_uid(S.s, 5001, &id, &rep), OUT_OK);
	assert_int_equal(id.kind, ID_REVIEWER);
	assert_true(id.admin);
	/* the default mapping: the name as login, kept as a login alone while
	 * the system has no such account, matched by the peer's login then */
	a = ann();
	assert_int_equal(op_reviewer_add(S.s, &S.cfg, &a, "eve", false, &ra), OUT_OK);
	assert_string_equal(db_text("SELECT login || ' ' || ifnull(uid, '-') FROM reviewers WHERE "
	    "name = 'eve'"), "eve -");
	const struct passwd *pw = getpwnam("nobody");
	assert_non_null(pw);
	db_exec("UPDATE reviewers SET login = 'nobody' WHERE name = 'eve'");
	assert_int_equal(op_identify_uid(S.s, (long)pw->pw_uid, &id, &rep), OUT_OK);
	assert_string_equal(id.name, "eve");
	assert_false(id.admin);
	/* a disabled reviewer: refused by uid and by token */
	a = ann();
	assert_int_equal(op_reviewer_disable(S.s, &S.cfg, &a, "dora", &rep), OUT_OK);
	assert_int_equal(op_identify_uid(S.s, 5001, &id, &rep), OUT_NOT_PERMITTED);
	assert_non_null(strstr(rep.message, "disabled"));
	assert_int_equal(op_identify_token(S.s, token, -1, &id, &rep), OUT_UNAUTHENTICATED);
	assert_non_null(strstr(rep.message, "disabled"));
	identity_spec again = { .uid = 5001 };
	a = ann();
	assert_int_equal(op_reviewer_enrol(S.s, &S.cfg, &a, "gus", false, &again, &ra),
	    OUT_CONFLICT);      /* a disabled reviewer may be enabled again: the uid stays theirs */
}

static void test_identify_uid(void **state)
{
	(void)state;
	enrol("ann", true);
	agent_added r;
	assert_int_equal(add("ci", NULL, 4242, false, 9, &r), OUT_OK);
	identity id;
	op_reply rep;
	assert_int_equal(op_identify_uid(S.s, 4242, &id, &rep), OUT_OK);
	assert_int_equal(id.kind, ID_AGENT);
	assert_string_equal(id.name, "ci");
	assert_int_equal(id.rate, 9);
	assert_int_equal(op_identify_uid(S.s, 7, &id, &rep), OUT_NOT_PERMITTED);
	assert_string_equal(rep.message, "unknown uid 7");
	assert_int_equal(op_identify_uid(S.s, -1, &id, &rep), OUT_NOT_PERMITTED);
	/* two identities on one uid (only a hand-edited store has them): refused */
	db_exec("UPDATE reviewers SET uid = 4242 WHERE name = 'ann'");
	assert_int_equal(op_identify_uid(S.s, 4242, &id, &rep), OUT_NOT_PERMITTED);
	assert_non_null(strstr(rep.message, "reaches both"));
	assert_string_equal(id.name, "");
}

static void test_access_denied(void **state)
{
	(void)state;
	op_reply r;
	assert_int_equal(op_access_denied(S.s, "uid 4343", "unknown uid 4343", 12, &r), OUT_OK);
	assert_string_equal(db_text("SELECT actor || ' ' || subject || ' ' || details FROM audit "
	    "WHERE event = 'access.denied'"), "uid 4343 uid 4343 {\"count\":12,\"what\":\"unknown uid "
	    "4343\"}");
	assert_int_equal(op_access_denied(S.s, "", "x", 1, &r), OUT_BAD_INPUT);
	assert_int_equal(op_access_denied(S.s, "a", "x", 0, &r), OUT_BAD_INPUT);
	assert_int_equal(events("access.denied"), 1);
}

static void test_agent_list(void **state)
{
	(void)state;
	enrol("ann", true);
	agent_added r;
	assert_int_equal(add("zed", "nobody", -1, true, 3, &r), OUT_OK);
	assert_int_equal(add("abe", NULL, 4242, false, 0, &r), OUT_OK);
	agents_view v;
	op_reply rep;
	assert_int_equal(op_agents(S.s, &v, &rep), OUT_OK);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.items[0].name, "abe");
	char *line = agent_json(&v.items[0]);
	assert_string_equal(line, "{\"name\":\"abe\",\"login\":null,\"uid\":4242,\"token\":false,"
	    "\"rate\":null,\"created\":\"2030-01-01T00:01:00.000Z\",\"by\":\"ann\",\"revoked\":null}");
	free(line);
	assert_string_equal(v.items[1].login, "nobody");
	assert_true(v.items[1].token);
	assert_int_equal(v.items[1].rate, 3);
	agents_view_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_agent_add_rules),
		store_test(test_tokens),
		store_test(test_reviewer_identities),
		store_test(test_identify_uid),
		store_test(test_access_denied),
		store_test(test_agent_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
