/*
 * test_store_refs.c: refs and digests in the store (PRODUCT.md section 2).
 *
 * A ref is unique per submitter: two submitters may use one, a retry with
 * the same content is the stored submission, other content a conflict, and
 * a lookup by a ref that several submitters use is refused with their ids.
 * Every submission keeps its digest, in its result and its submission.create
 * event. op_submission_match finds an earlier decision on the same call by
 * one seek of an index. Schema version 12 brings a store made by version 11
 * (built here as arbiter built it) to all of that: the table built again
 * with every row, index and trigger, and the digests computed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_support.h"

/* store_submit of yaml in a transaction of its own: its outcome, *id the
 * submission (new or existing), *existing whether it was stored before. */
static outcome try_submit(const char *yaml, int64_t *id, bool *existing)
{
	sub(yaml);
	assert_true(submission_canonical(&T.sub, T.a));
	eval_options o;
	eval_options_default(&o);
	o.now = now_ms() / 1000;
	eval_result r;
	stored out = { 0 };
	assert_true(store_begin(S.s));
	outcome got = store_submit(S.s, S.ps, store_policy_version(S.s), &T.sub, &o, T.a, "agent",
	    &r, &out);
	free(out.details.s);
	if (got == OUT_OK)
		assert_true(store_commit(S.s));
	else
		store_rollback(S.s);
	*id = out.id;
	*existing = out.existing;
	return got;
}

static const char *digest_of(const char *yaml)
{
	char *d = arena_alloc(T.a, 65);
	assert_true(document_digest(parse(yaml), d));
	return d;
}

static void test_a_ref_is_unique_per_submitter(void **state)
{
	(void)state;
	int64_t a, b, again;
	bool existing;
	assert_int_equal(try_submit("action: code.modify\nsubmitter: ann\nref: job/1\nn: 1\n", &a,
	    &existing), OUT_OK);
	assert_false(existing);
	/* another submitter, the same ref: a submission of its own */
	assert_int_equal(try_submit("action: code.modify\nsubmitter: bob\nref: job/1\nn: 1\n", &b,
	    &existing), OUT_OK);
	assert_false(existing);
	assert_true(b != a);
	/* the same again: the stored one, nothing written */
	int64_t events = db_int("SELECT count(*) FROM audit");
	assert_int_equal(try_submit("action: code.modify\nsubmitter: bob\nref: job/1\nn: 1\n", &again,
	    &existing), OUT_OK);
	assert_true(existing);
	assert_int_equal(again, b);
	assert_int_equal(db_int("SELECT count(*) FROM audit"), events);
	/* other content under a submitter's ref: refused, whatever a title */
	assert_int_equal(try_submit("action: code.modify\nsubmitter: ann\nref: job/1\nn: 2\n", &again,
	    &existing), OUT_CONFLICT);
	assert_non_null(strstr(store_errmsg(S.s), "ref job/1 is already submission"));
	assert_int_equal(try_submit("action: code.modify\nsubmitter: ann\nref: job/1\nn: 1\n"
	    "title: renamed\n", &again, &existing), OUT_CONFLICT);
	/* no submitter is one submitter of its own */
	int64_t c;
	assert_int_equal(try_submit("action: code.modify\nref: job/1\nn: 1\n", &c, &existing),
	    OUT_OK);
	assert_false(existing);
	assert_int_equal(try_submit("action: code.modify\nref: job/1\nn: 3\n", &again, &existing),
	    OUT_CONFLICT);
	/* ANN is ann (names are compared lower-cased): her ref, other content */
	assert_int_equal(try_submit("action: code.modify\nref: job/1\nn: 1\nsubmitter: ANN\n", &again,
	    &existing), OUT_CONFLICT);
	/* the database holds the rule too, not only the code */
	assert_int_equal(db_int("SELECT count(*) FROM submissions WHERE ref = 'job/1'"), 3);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(in_store("arbiter.db"), &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO submissions (ref, kind, action, submitter, "
	    "status, policy_version, created_at, created_ms, content_hash, document, info, warning, "
	    "critical) SELECT ref, kind, action, submitter, status, policy_version, created_at, "
	    "created_ms, 'x', document, 0, 0, 0 FROM submissions WHERE ref = 'job/1' AND submitter "
	    "IS NULL", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_a_ref_of_several_submitters_is_ambiguous(void **state)
{
	(void)state;
	int64_t ann = submit_action("test.review", "ann", "shared/1");
	int64_t bob = submit_action("test.review", "bob", "shared/1");
	sub_row r;
	assert_int_equal(query_get(S.s, "shared/1", &r), -2);
	const char *why = store_errmsg(S.s);
	assert_non_null(strstr(why, "ref shared/1 names 2 submissions"));
	assert_non_null(strstr(why, arena_printf(T.a, "#%lld (submitter ann)", (long long)ann)));
	assert_non_null(strstr(why, arena_printf(T.a, "#%lld (submitter bob)", (long long)bob)));
	/* through the operation: bad input, not a failure of the store */
	submission_view v;
	op_reply rep;
	assert_int_equal(op_submission_get(S.s, "shared/1", &v, &rep), OUT_BAD_INPUT);
	assert_non_null(strstr(rep.message, "give the id of one"));
	/* among one submitter's own, the ref names one, and an id of another's
	 * is none */
	assert_int_equal(op_submission_of(S.s, "shared/1", "bob", &v, &rep), OUT_OK);
	assert_int_equal(v.row.id, bob);
	assert_string_equal(v.row.submitter, "bob");
	submission_view_free(&v);
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)ann);
	assert_int_equal(op_submission_of(S.s, key, "bob", &v, &rep), OUT_NOT_FOUND);
	assert_int_equal(op_submission_of(S.s, key, "ann", &v, &rep), OUT_OK);
	submission_view_free(&v);
	/* a ref of one submitter alone is found by anyone */
	submit_action("test.review", "cy", "only/1");
	assert_int_equal(query_get(S.s, "only/1", &r), 1);
	assert_string_equal(r.submitter, "cy");
	query_row_done(&r);
}

static void test_every_result_and_event_carries_the_digest(void **state)
{
	(void)state;
	const char *yaml = "action: test.review\nsubmitter: ann\nref: d/1\ntitle: t\n"
	    "meta: {session: s}\nfiles: [a.c]\n";
	int64_t id = submit_yaml(yaml);
	const char *want = digest_of("action: test.review\nsubmitter: ann\nfiles: [a.c]\n");
	assert_string_equal(db_text(arena_printf(T.a, "SELECT digest FROM submissions WHERE id = %lld",
	    (long long)id)), want);
	const char *details = db_text(arena_printf(T.a, "SELECT details FROM audit WHERE event = "
	    "'submission.create' AND subject = '%lld'", (long long)id));
	assert_non_null(strstr(details, arena_printf(T.a, "\"digest\":\"%s\"", want)));
	/* the details are still compact with their keys sorted */
	assert_non_null(strstr(details, "\"counts\":{\"critical\":0,\"info\":0,\"warning\":1},"
	    "\"digest\":"));
	const char *status;
	char *result = store_result_json(S.s, id, &status);
	assert_non_null(strstr(result, arena_printf(T.a, "\"submitter\":\"ann\",\"digest\":\"%s\","
	    "\"status\":\"pending\"", want)));
	free(result);
	submission_view v;
	op_reply rep;
	assert_int_equal(op_submission_get(S.s, "d/1", &v, &rep), OUT_OK);
	assert_string_equal(v.row.digest, want);
	assert_non_null(strstr(v.result, want));
	submission_view_free(&v);
}

/* ---- op_submission_match ---- */

static int64_t TTL = 8 * 3600 * 1000LL;

/* The answer of op_submission_match for yaml's digest: its id, or 0. */
static int64_t match(const char *submitter, const char *yaml, int version)
{
	int64_t id = -1;
	op_reply r;
	outcome o = op_submission_match(S.s, submitter, 0, digest_of(yaml), version, TTL, &id, &r);
	assert_true(o == OUT_OK || o == OUT_NOT_FOUND);
	assert_int_equal(o == OUT_OK, id != 0);
	return id;
}

static void set_status(int64_t id, const char *status, int64_t decided_ms, int64_t expires_ms)
{
	char decided[32], expires[32];
	format_time(decided_ms, decided);
	format_time(expires_ms, expires);
	db_exec(arena_printf(T.a, "UPDATE submissions SET status = '%s', decided_at = '%s', "
	    "expires_at = %s WHERE id = %lld", status, decided, expires_ms ?
	    arena_printf(T.a, "'%s'", expires) : "NULL", (long long)id));
}

static void test_match_finds_a_decision_that_still_holds(void **state)
{
	(void)state;
	const char *call = "action: test.review\nsubmitter: ann\ntool: Bash\ninput: {command: ls}\n";
	const char *again = "action: test.review\nsubmitter: ann\ntool: Bash\ninput: {command: ls}\n"
	    "meta: {session: other}\ntitle: the same call\n";
	assert_int_equal(match("ann", call, 1), 0);             /* nothing yet */
	int64_t id = submit_yaml(call);
	/* waiting: the same call, however titled and from whichever session */
	assert_int_equal(match("ann", again, 1), id);
	assert_int_equal(match("bob", call, 1), 0);             /* another submitter's */
	assert_int_equal(match("ann", call, 2), 0);             /* another policy version */
	assert_int_equal(match("ann", "action: test.review\nsubmitter: ann\ntool: Bash\n"
	    "input: {command: rm}\n", 1), 0);                   /* another call */

	/* approved by a reviewer, through the operation: for hook.approval_ttl */
	enrol("rita", false);
	char code[7];
	decide_request q = { .kind = "approve", .auth = { .actor = "rita",
		.code = code_now("rita", code) }, .ack = true, .ids = &id, .nids = 1 };
	decide_result dr;
	assert_int_equal(op_decide(S.s, &S.cfg, &q, &dr), OUT_OK);
	assert_int_equal(match("ann", call, 1), id);
	clock_advance(8 * 3600 - 1);
	assert_int_equal(match("ann", call, 1), id);
	clock_advance(2);
	assert_int_equal(match("ann", call, 1), 0);

	/* rejected: for the ttl too, so that the reason reaches the agent */
	set_status(id, "rejected", now_ms() - 1000, 0);
	assert_int_equal(match("ann", call, 1), id);
	set_status(id, "rejected", now_ms() - TTL - 1000, 0);
	assert_int_equal(match("ann", call, 1), 0);
	/* overridden: until it expires, however long ago */
	set_status(id, "overridden", now_ms() - 2 * TTL, now_ms() + 1000);
	assert_int_equal(match("ann", call, 1), id);
	set_status(id, "overridden", now_ms() - 2 * TTL, now_ms() - 1000);
	assert_int_equal(match("ann", call, 1), 0);
	/* allowed is no answer: an allowed call is stored again each time */
	set_status(id, "allowed", 0, 0);
	db_exec(arena_printf(T.a, "UPDATE submissions SET decided_at = NULL WHERE id = %lld",
	    (long long)id));
	assert_int_equal(match("ann", call, 1), 0);
	/* only the newest counts: a later submission of the call stands for it */
	set_status(id, "approved", now_ms(), 0);
	assert_int_equal(match("ann", call, 1), id);
	int64_t later = submit_yaml(again);
	assert_int_equal(match("ann", call, 1), later);         /* pending */
	set_status(later, "rejected", now_ms() - TTL - 1000, 0);
	assert_int_equal(match("ann", call, 1), 0);
	set_status(later, "blocked", 0, 0);
	assert_int_equal(match("ann", call, 1), later);
	/* but an allowed one in between hides no decision */
	set_status(later, "allowed", 0, 0);
	assert_int_equal(match("ann", call, 1), id);
}

/* SQLite's plan for sql on the store's connection, its steps joined. */
static const char *plan_of(const char *sql)
{
	sqlite3_stmt *st;
	const char *explain = arena_printf(T.a, "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(S.s->db, explain, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", explain, sqlite3_errmsg(S.s->db));
	strbuf b = { 0 };
	while (sqlite3_step(st) == SQLITE_ROW) {
		sb_puts(&b, (const char *)sqlite3_column_text(st, 3));
		sb_puts(&b, "; ");
	}
	sqlite3_finalize(st);
	const char *plan = arena_strdup(T.a, b.s ? b.s : "");
	free(b.s);
	return plan;
}

static void test_match_is_one_seek(void **state)
{
	(void)state;
	/* the plan of the match's query (op_submission_match's), and of a
	 * retried ref's lookup (find_ref's); the match's index holds no allowed
	 * submission, the many an agent's calls make, and of each digest its
	 * first 16 characters alone */
	const char *plan = plan_of("SELECT id " SUBMISSION_MATCH);
	if (strstr(plan, "SEARCH submissions USING INDEX submissions_digest (<expr>=?)") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("the match reads: %s", plan);
	plan = plan_of("SELECT id, content_hash FROM submissions WHERE ref = ?1 AND "
	    "ifnull(submitter, '') = ?2");
	if (strstr(plan, "USING INDEX submissions_ref (ref=? AND <expr>=?)") == NULL)
		fail_msg("a ref is looked up by: %s", plan);
	assert_int_equal(db_int("SELECT partial FROM pragma_index_list('submissions') WHERE "
	    "name = 'submissions_digest'"), 1);
}

static void test_approval_ttl_setting(void **state)
{
	(void)state;
	assert_int_equal(S.cfg.approval_ttl, 8 * 3600);
	settings c;
	settings_default(&c);
	c.approval_ttl = 30 * 86400;
	settings_clamp(&c);             /* an unpinned config.yaml loosens nothing */
	assert_int_equal(c.approval_ttl, 8 * 3600);
	c.approval_ttl = 600;
	settings_clamp(&c);
	assert_int_equal(c.approval_ttl, 600);
	const char *path = in_store("config.yaml");
	assert_int_equal(chmod(path, 0644), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("hook:\n  approval_ttl: 2h\n", f);
	fclose(f);
	diags errs = { 0 };
	assert_true(store_settings(S.s, &c, &errs));
	assert_int_equal(c.approval_ttl, 2 * 3600);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hook:\n  approval_ttl: soon\n", f);
	fclose(f);
	assert_false(store_settings(S.s, &c, &errs));
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_non_null(strstr(errs.items[0].msg, "hook.approval_ttl: \"soon\" is not a duration"));
	diags_free(&errs);
}

/* ---- the migration from version 11 ---- */

/* One row as version 11 kept it: the document's canonical text and content
 * hash as submit computed them. */
static void insert_v11(sqlite3 *db, int64_t id, const char *ref, const char *submitter,
    const char *status, const char *document)
{
	char hash[65] = "0000";
	if (document[0] == '{') {
		bool empty;
		submission s = { .doc = doc_parse_flags(T.a, "v11", document, strlen(document), 1,
			DOC_INT64, &empty, &T.errs) };
		assert_non_null(s.doc);
		assert_true(submission_canonical(&s, T.a));
		document = s.canonical;
		memcpy(hash, s.content_hash, sizeof hash);
	}
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO submissions (id, ref, kind, action, "
	    "submitter, status, policy_version, created_at, created_ms, content_hash, document, info, "
	    "warning, critical, evaluated_ms) VALUES (?, ?, 'proposal', 'test.review', ?, ?, 1, "
	    "'2030-01-01T00:00:00.000Z', 1893456000000, ?, ?, 0, 1, 0, 1893456000000)", -1, &st,
	    NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	if (submitter)
		sqlite3_bind_text(st, 3, submitter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, document, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, arena_printf(T.a, "INSERT INTO findings (submission_id, "
	    "policy, type, severity, effect, overridable) VALUES (%lld, 'needs_review', 'expression', "
	    "'warning', 'require_approval', 1); INSERT INTO status_counts VALUES ('%s', 1) "
	    "ON CONFLICT (status) DO UPDATE SET n = n + 1", (long long)id, status), NULL, NULL, NULL),
	    SQLITE_OK);
}

static void test_migration_from_version_11(void **state)
{
	(void)state;
	/* the fixture's store, its database made again as version 11 made it */
	char id[33], err[512] = "";
	snprintf(id, sizeof id, "%s", store_id(S.s));
	store_close(S.s);
	S.s = NULL;
	const char *path = in_store("arbiter.db");
	unlink(path);
	unlink(in_store("arbiter.db-wal"));
	unlink(in_store("arbiter.db-shm"));
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (!schema_create_version(db, 11, err, sizeof err))
		fail_msg("%s", err);
	assert_int_equal(db_int("PRAGMA user_version"), 11);
	assert_int_equal(sqlite3_exec(db, arena_printf(T.a, "INSERT INTO meta VALUES ('store_id', "
	    "'%s'); INSERT INTO policy_versions VALUES (1, '2030-01-01T00:00:00.000Z', 'tester', "
	    "NULL, '{}')", id), NULL, NULL, NULL), SQLITE_OK);
	const char *call = "{\"action\":\"tool.call\",\"cwd\":\"/w\",\"input\":{\"a\":[1.5,\"x\","
	    "1e21,0.000001],\"b\":1},\"meta\":{\"session\":\"s1\"},\"ref\":\"old/1\",\"title\":"
	    "\"first\",\"tool\":\"Bash\"}";
	insert_v11(db, 3, "old/1", NULL, "pending", call);
	insert_v11(db, 5, "old/2", "ann", "approved",
	    "{\"action\":\"x.big\",\"n\":9223372036854775807,\"ref\":\"old/2\",\"submitter\":\"ann\"}");
	insert_v11(db, 9, "old/3", "bob", "pending", "[\"not a document\"");
	insert_v11(db, 11, "old/4", "cy", "pending",
	    "{\"action\":\"test.review\",\"n\":-9223372036854775808,\"submitter\":\"cy\"}");
	assert_int_equal(sqlite3_exec(db, "INSERT INTO decisions (submission_id, reviewer, decision, "
	    "at) VALUES (5, 'rita', 'approve', '2030-01-01T00:00:00.000Z'); INSERT INTO quota_usage "
	    "VALUES ('q', NULL, 1, 1893456000000, 3)", NULL, NULL, NULL), SQLITE_OK);
	/* version 11's ref is unique whoever submits */
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO submissions (ref, kind, action, submitter, "
	    "status, policy_version, created_at, created_ms, content_hash, document, info, warning, "
	    "critical) VALUES ('old/2', 'proposal', 'x', 'bob', 'allowed', 1, '', 0, '', '{}', 0, 0, "
	    "0)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(path, 0600), 0);         /* private, as init makes it */

	S.s = store_open(S.home, err, sizeof err);
	if (S.s == NULL)
		fail_msg("store_open: %s", err);
	assert_true(store_load_signing_key(S.s));
	assert_int_equal(db_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	/* every row, with the rows that point at them */
	assert_int_equal(db_int("SELECT count(*) FROM submissions"), 4);
	assert_int_equal(db_int("SELECT sum(id) FROM submissions"), 28);
	assert_int_equal(db_int("SELECT count(*) FROM findings JOIN submissions s ON s.id = "
	    "submission_id"), 4);
	assert_int_equal(db_int("SELECT count(*) FROM decisions JOIN submissions s ON s.id = "
	    "submission_id"), 1);
	assert_int_equal(db_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(S.s->db, "PRAGMA foreign_keys", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);        /* on again */
	sqlite3_finalize(st);
	/* the digests: as a client computes them; a 64-bit integer as the
	 * double JSON reads it; none for a document that does not read */
	assert_string_equal(db_text("SELECT digest FROM submissions WHERE id = 3"),
	    "399a4f64f140ee79658846f7913756058591801e8d8732b3d4b54d0be70507ac");
	assert_string_equal(db_text("SELECT digest FROM submissions WHERE id = 5"),
	    "085af4fbfb7f6f369bc630821eab5457fc86f8ba75a762cfc7903eaba0e4e45b");
	assert_null(db_text("SELECT digest FROM submissions WHERE id = 9"));
	/* the indexes and the trigger of the table, made anew, and nothing of
	 * the old one */
	assert_string_equal(db_text("SELECT group_concat(name, ' ') FROM (SELECT name FROM "
	    "sqlite_master WHERE tbl_name = 'submissions' AND type IN ('index', 'trigger') "
	    "ORDER BY name)"), "submissions_action submissions_count_update submissions_digest "
	    "submissions_kind submissions_ref submissions_status submissions_submitter");
	assert_int_equal(db_int("SELECT count(*) FROM sqlite_master WHERE name = 'submissions_v12'"),
	    0);
	assert_int_equal(db_int("SELECT \"unique\" FROM pragma_index_list('submissions') WHERE "
	    "name = 'submissions_ref'"), 1);
	/* status_counts still follows a change of status */
	assert_int_equal(db_int("SELECT n FROM status_counts WHERE status = 'pending'"), 3);
	db_exec("UPDATE submissions SET status = 'rejected' WHERE id = 9");
	assert_int_equal(db_int("SELECT n FROM status_counts WHERE status = 'pending'"), 2);
	assert_int_equal(db_int("SELECT n FROM status_counts WHERE status = 'rejected'"), 1);
	assert_int_equal(query_count(S.s, "waiting"), 2);
	/* a stored document keeps its 64-bit integers when it is evaluated again
	 * (its submission.create, as version 11 wrote it, names no digest: the
	 * one the migration computed is the document's) */
	char before[16];
	eval_result er;
	eval_options o;
	eval_options_default(&o);
	o.now = now_ms() / 1000;
	assert_true(store_begin(S.s));
	assert_true(audit_append_text(S.s, "tester", "submission.create", "11",
	    "{\"action\":\"test.review\",\"status\":\"pending\"}"));
	assert_true(store_commit(S.s));
	assert_true(store_begin(S.s));
	if (store_reevaluate(S.s, S.ps, 1, 11, &o, "tester", before, &er) != OUT_OK)
		fail_msg("store_reevaluate: %s", store_errmsg(S.s));
	assert_true(store_commit(S.s));
	assert_int_equal(er.status, ST_PENDING);
	/* and the store works as a new one: a retry of an old ref is the stored
	 * submission, another submitter may use it, a match finds the old one */
	int64_t got;
	bool existing;
	assert_int_equal(try_submit(call, &got, &existing), OUT_OK);
	assert_true(existing);
	assert_int_equal(got, 3);
	assert_int_equal(try_submit("{\"action\":\"x.big\",\"n\":1,\"ref\":\"old/2\",\"submitter\":"
	    "\"bob\"}", &got, &existing), OUT_OK);
	assert_false(existing);
	assert_true(got > 9);
	assert_int_equal(match(NULL, call, 1), 3);
	submission_view v;
	op_reply rep;
	assert_int_equal(op_submission_get(S.s, "old/2", &v, &rep), OUT_BAD_INPUT);
	assert_int_equal(op_submission_get(S.s, "9", &v, &rep), OUT_OK);
	assert_non_null(strstr(v.result, "\"digest\":null"));
	submission_view_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_a_ref_is_unique_per_submitter),
		store_test(test_a_ref_of_several_submitters_is_ambiguous),
		store_test(test_every_result_and_event_carries_the_digest),
		store_test(test_match_finds_a_decision_that_still_holds),
		store_test(test_match_is_one_seek),
		store_test(test_approval_ttl_setting),
		store_test(test_migration_from_version_11),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
