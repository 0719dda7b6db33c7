/*
 * test_store_evidence.c: evidence.c and evidence_store.c, the signed events
 * behind a status. First the judge, on events signed here with a key of the
 * test's own: every way events fail to prove what a row or an answer says
 * (another key, an edit, another submission, another status, an override's
 * expiry, another digest, no digest at all), and an older deciding event
 * that names its digest through its submission.create; the events as an
 * answer carries them, read as a client reads them. Then on a store: a row
 * against its chain, a mismatch audited once, and the override approvals
 * that the two-person rule counts: signed ones only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store_support.h"

static const char D[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char E[] = "2222222222222222222222222222222222222222222222222222222222222222";

static unsigned char PK[32], SK[64], PREV[32];
static char WHY[320];

/* An event signed with SK, chained to the one made before it. */
static audit_event signed_event(int64_t seq, const char *event, const char *subject,
    const char *details)
{
	audit_event e = { .seq = seq, .actor = "rita", .event = event, .subject = subject,
		.details = details };
	snprintf(e.ts, sizeof e.ts, "2030-01-01T00:00:00.000Z");
	unsigned char h[32], sig[64];
	audit_hash(PREV, seq, e.ts, e.actor, event, subject, details, h);
	crypto_sign_detached(sig, NULL, h, 32, SK);
	sodium_bin2hex(e.prev, sizeof e.prev, PREV, 32);
	sodium_bin2hex(e.hash, sizeof e.hash, h, 32);
	sodium_bin2hex(e.sig, sizeof e.sig, sig, 64);
	memcpy(PREV, h, 32);
	return e;
}

static bool judge(const audit_event *set, const audit_event *create, const char *status,
    const char *digest, const char *expires)
{
	evidence_want want = { .id = 7, .status = status, .digest = digest, .expires_at = expires };
	WHY[0] = '\0';
	keyring ring;
	keyring_init(&ring, PK, NULL);
	bool held = evidence_judge(set, create, &ring, &want, WHY, sizeof WHY);
	keyring_free(&ring);
	return held;
}

/* evidence_answer_judge under PK alone. */
static bool answer_holds(const json_t *a, const char *digest)
{
	keyring ring;
	keyring_init(&ring, PK, NULL);
	bool held = evidence_answer_judge(a, &ring, digest, WHY, sizeof WHY);
	keyring_free(&ring);
	return held;
}

static void said(const char *part)
{
	if (strstr(WHY, part) == NULL)
		fail_msg("the reason \"%s\" lacks \"%s\"", WHY, part);
}

static int keys_setup(void **state)
{
	crypto_sign_keypair(PK, SK);
	memset(PREV, 0, sizeof PREV);
	return fixture_setup(state);
}

#define judge_test(f) cmocka_unit_test_setup_teardown(f, keys_setup, fixture_teardown)

static void test_a_create_that_allows(void **state)
{
	(void)state;
	audit_event c = signed_event(3, "submission.create", "7",
	    "{\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"allowed\"}");
	assert_true(judge(&c, NULL, "allowed", D, NULL));
	assert_false(judge(&c, NULL, "allowed", E, NULL));
	said("are about the document with digest 1111");
	assert_false(judge(&c, NULL, "approved", D, NULL));
	said("it says approved, but the last signed event that set its status (event 3, "
	    "submission.create) says allowed");
	assert_false(judge(NULL, NULL, "allowed", D, NULL));
	said("no signed event sets its status");
}

static void test_another_key_an_edit_another_submission(void **state)
{
	(void)state;
	audit_event a = signed_event(4, "decision.approve", "7",
	    "{\"decision\":\"approve\",\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"approved\"}");
	assert_true(judge(&a, NULL, "approved", D, NULL));
	unsigned char sk[64];
	crypto_sign_keypair(PK, sk);            /* another store's key */
	assert_false(judge(&a, NULL, "approved", D, NULL));
	said("event 4 is not signed with the public key");
	memset(PREV, 0, sizeof PREV);
	crypto_sign_keypair(PK, SK);
	audit_event b = signed_event(1, "decision.approve", "7",
	    "{\"decision\":\"approve\",\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"approved\"}");
	b.actor = "mallory";                    /* edited after signing */
	assert_false(judge(&b, NULL, "approved", D, NULL));
	said("event 1 does not hash to its hash");
	audit_event other = signed_event(2, "decision.approve", "8",
	    "{\"decision\":\"approve\",\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"approved\"}");
	assert_false(judge(&other, NULL, "approved", D, NULL));
	said("event 2 (decision.approve, about \"8\") is no event that sets the status of submission 7");
	audit_event odd = signed_event(3, "app.approve", "7", "{\"status\":\"approved\"}");
	assert_false(judge(&odd, NULL, "approved", D, NULL));
	said("is no event that sets the status");
	/* a rejection's event cannot say approved, whatever its details say */
	audit_event r = signed_event(4, "decision.reject", "7",
	    "{\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"approved\"}");
	assert_false(judge(&r, NULL, "approved", D, NULL));
}

static void test_an_older_approval_names_its_digest_through_its_create(void **state)
{
	(void)state;
	audit_event c = signed_event(3, "submission.create", "7",
	    "{\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"pending\"}");
	audit_event a = signed_event(5, "decision.approve", "7",
	    "{\"decision\":\"approve\",\"status\":\"approved\"}");
	assert_true(evidence_needs_create(&a));
	assert_false(evidence_needs_create(&c));
	assert_true(judge(&a, &c, "approved", D, NULL));
	assert_false(judge(&a, &c, "approved", E, NULL));
	said("about the document with digest 1111");
	assert_false(judge(&a, NULL, "approved", D, NULL));
	said("its signed events name no document digest");
	audit_event other = signed_event(6, "submission.create", "8",
	    "{\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"status\":\"pending\"}");
	assert_false(judge(&a, &other, "approved", D, NULL));
	said("event 6 is not the submission.create of submission 7");
	/* a submission from before digests: its status may be decided, never allow */
	audit_event old = signed_event(7, "submission.create", "7", "{\"status\":\"pending\"}");
	assert_true(judge(&old, NULL, "pending", D, NULL));
	audit_event a2 = signed_event(8, "decision.approve", "7",
	    "{\"decision\":\"approve\",\"status\":\"approved\"}");
	assert_false(judge(&a2, &old, "approved", D, NULL));
	said("submitted before arbiter recorded one");
}

static void test_an_override_holds_until_its_signed_expiry(void **state)
{
	(void)state;
	clock_set(1893456000000LL);
	audit_event g = signed_event(4, "override.grant", "7",
	    "{\"decision\":\"override\",\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"expires_at\":\"2030-01-01T01:00:00.000Z\",\"status\":\"overridden\"}");
	assert_true(judge(&g, NULL, "overridden", D, "2030-01-01T01:00:00.000Z"));
	assert_true(judge(&g, NULL, "overridden", D, NULL));    /* an answer naming no expiry */
	assert_false(judge(&g, NULL, "overridden", D, "2999-01-01T00:00:00.000Z"));
	said("it says overridden until 2999-01-01T00:00:00.000Z, but its signed override (event 4) "
	    "says until 2030-01-01T01:00:00.000Z");
	assert_false(judge(&g, NULL, "expired", D, "2030-01-01T01:00:00.000Z"));
	said("lasts until");
	clock_set(1893456000000LL + 3600 * 1000);
	assert_false(judge(&g, NULL, "overridden", D, "2030-01-01T01:00:00.000Z"));
	said("its signed override (event 4) expired at 2030-01-01T01:00:00.000Z");
	assert_true(judge(&g, NULL, "expired", D, "2030-01-01T01:00:00.000Z"));
	audit_event p = signed_event(5, "override.partial", "7",
	    "{\"decision\":\"override.partial\",\"expires_at\":\"2030-01-01T09:00:00.000Z\","
	    "\"status\":\"blocked\"}");
	assert_true(judge(&p, NULL, "blocked", D, NULL));
	assert_false(judge(&p, NULL, "overridden", D, NULL));
}

/* An answer of a server: a result and its evidence, as the API writes them. */
static json_t *answer(const char *status, const audit_event *e, size_t n)
{
	json_t *a = json_pack("{s:i,s:s}", "id", 7, "status", status);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, audit_event_json(&e[i]));
	json_object_set_new(a, "evidence", list);
	return a;
}

static void test_the_events_of_an_answer(void **state)
{
	(void)state;
	audit_event e[2];
	e[0] = signed_event(5, "decision.approve", "7",
	    "{\"decision\":\"approve\",\"status\":\"approved\"}");
	e[1] = signed_event(6, "submission.create", "7",
	    "{\"action\":\"x\",\"counts\":{\"critical\":0},\"digest\":\"1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"ref\":\"a\\u0000b\",\"status\":\"pending\"}");
	json_t *a = answer("approved", e, 2);
	assert_true(answer_holds(a, D));
	assert_false(answer_holds(a, E));
	/* the events read back hash as they were signed */
	audit_event back;
	assert_true(evidence_event_read(json_array_get(json_object_get(a, "evidence"), 1), T.a,
	    &back));
	assert_string_equal(back.details, e[1].details);
	json_decref(a);
	a = answer("approved", e, 0);
	assert_false(answer_holds(a, D));
	said("it says approved, but the answer carries no signed event behind it");
	json_decref(a);
	a = json_pack("{s:i,s:s,s:[{s:i}]}", "id", 7, "status", "approved", "evidence", "seq", 5);
	assert_false(answer_holds(a, D));
	said("holds something that is no signed event");
	json_decref(a);
}

/* ---- on a store ---- */

static void test_a_row_against_its_chain(void **state)
{
	(void)state;
	int64_t id = submit_action("test.review", "ann", "r/1");
	char status[16], why[320];
	strbuf events = { 0 };
	assert_int_equal(evidence_of(S.s, id, false, &events, status, why, sizeof why), 1);
	assert_string_equal(status, "pending");
	assert_int_equal(evidence_of(S.s, id, true, &events, status, why, sizeof why), 1);
	assert_int_equal(events.n, 0);          /* nothing allows: nothing to carry */
	assert_int_equal(evidence_of(S.s, 999, true, &events, status, why, sizeof why), -2);
	db_exec(arena_printf(T.a, "UPDATE submissions SET status = 'approved' WHERE id = %lld",
	    (long long)id));
	assert_int_equal(evidence_of(S.s, id, true, &events, status, why, sizeof why), 0);
	assert_non_null(strstr(why, "it says approved, but the last signed event that set its status"));
	op_reply r;
	assert_int_equal(op_tamper_record(S.s, "tester", id, status, why, &r), OUT_OK);
	assert_int_equal(op_tamper_record(S.s, "tester", id, status, why, &r), OUT_OK);
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'state.tamper'"), 1);
	assert_string_equal(db_text("SELECT json_extract(details, '$.status') FROM audit WHERE "
	    "event = 'state.tamper'"), "approved");
	/* a key.rotate event that names no key: no status is proven */
	int64_t allowed = submit_action("test.other", "ann", "r/2");
	assert_int_equal(evidence_of(S.s, allowed, true, &events, status, why, sizeof why), 1);
	assert_non_null(strstr(events.s, "\"event\":\"submission.create\""));
	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, "tester", "key.rotate", "", NULL));
	assert_true(store_commit(S.s));
	assert_int_equal(evidence_of(S.s, allowed, true, &events, status, why, sizeof why), 0);
	assert_non_null(strstr(why, "the store's keys cannot be followed (the key.rotate event at "
	    "seq"));
	free(events.s);
}

/* Appends a signed override.partial of submission id by who, lasting
 * until the clock's now plus seconds. */
static void partial(int64_t id, const char *who, int64_t seconds, const char *digest)
{
	char until[32], subject[24];
	format_time(now_ms() + seconds * 1000, until);
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	json_t *d = json_pack("{s:s,s:s,s:s}", "decision", "override.partial", "expires_at", until,
	    "status", "blocked");
	if (digest != NULL)
		json_object_set_new(d, "digest", json_string(digest));
	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, who, "override.partial", subject, d));
	assert_true(store_commit(S.s));
	json_decref(d);
}

static void test_only_signed_approvals_count(void **state)
{
	(void)state;
	int64_t id = submit_action("test.block", "ann", "b/1");
	const char *digest = db_text(arena_printf(T.a, "SELECT digest FROM submissions WHERE id = "
	    "%lld", (long long)id));
	bool mine;
	int64_t earliest;
	/* a row of the decisions table, inserted by hand, is no approval */
	db_exec(arena_printf(T.a, "INSERT INTO decisions (submission_id, reviewer, decision, at, "
	    "at_ms, expires_at) VALUES (%lld, 'mallory', 'override.partial', "
	    "'2030-01-01T00:00:00.000Z', %lld, '2999-01-01T00:00:00.000Z')", (long long)id,
	    (long long)now_ms()));
	assert_int_equal(evidence_partials(S.s, id, digest, "rita", &mine, &earliest), 0);
	partial(id, "rita", 3600, digest);
	partial(id, "RITA", 7200, digest);      /* the same reviewer, however spelt */
	partial(id, "sam", 60, NULL);           /* written before approvals named a digest */
	partial(id, "tom", -1, digest);         /* expired */
	partial(id, "uma", 3600, D);            /* another document's */
	assert_int_equal(evidence_partials(S.s, id, digest, "rita", &mine, &earliest), 2);
	assert_true(mine);
	assert_int_equal(earliest, now_ms() + 60 * 1000);
	assert_int_equal(evidence_partials(S.s, id, digest, "vic", &mine, &earliest), 2);
	assert_false(mine);
	/* an approval edited in the log from beside arbiter counts for nothing */
	db_exec(arena_printf(T.a, "DROP TRIGGER IF EXISTS audit_no_update; UPDATE audit SET actor = "
	    "'walt' WHERE event = 'override.partial' AND actor = 'sam'"));
	assert_int_equal(evidence_partials(S.s, id, digest, "walt", &mine, &earliest), 1);
	assert_false(mine);
	/* evaluated again: approvals start over */
	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, "tester", "submission.reevaluate",
	    arena_printf(T.a, "%lld", (long long)id), NULL));
	assert_true(store_commit(S.s));
	assert_int_equal(evidence_partials(S.s, id, digest, "rita", &mine, &earliest), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		judge_test(test_a_create_that_allows),
		judge_test(test_another_key_an_edit_another_submission),
		judge_test(test_an_older_approval_names_its_digest_through_its_create),
		judge_test(test_an_override_holds_until_its_signed_expiry),
		judge_test(test_the_events_of_an_answer),
		store_test(test_a_row_against_its_chain),
		store_test(test_only_signed_approvals_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
