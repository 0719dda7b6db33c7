/*
 * test_store_store.c: store.c, the store itself: what store_init makes (and
 * with which modes) and refuses to overwrite, opening (a missing or foreign
 * database is an error with a message, never a crash; a file open to other
 * users is refused, modes.c), closing and opening again, transactions
 * (the write lock taken at BEGIN, commit, rollback, a caller's transaction
 * around store_submit), a bulk writer's log copied aside and kept bounded
 * (log_copier.c), the log's gathered writes never outliving their
 * transaction (store_vfs.c) and the time formats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store_support.h"

static int mode_of(const char *rel)
{
	const char *path = in_store(rel);
	struct stat st;
	if (stat(path, &st) != 0)
		fail_msg("%s is missing", path);
	return (int)(st.st_mode & 0777);
}

static void test_init_makes_a_store(void **state)
{
	(void)state;
	assert_int_equal(mode_of("config.yaml"), 0444);
	assert_int_equal(mode_of("policies/10-test.yaml"), 0444);
	assert_int_equal(mode_of("keys/audit.key"), 0600);
	assert_int_equal(mode_of("keys/audit.pub"), 0644);
	assert_int_equal(mode_of("users.oath"), 0600);
	assert_int_equal(mode_of(""), 0700);
	assert_int_equal(mode_of("keys"), 0700);
	assert_int_equal(mode_of("policies"), 0700);
	assert_int_equal(mode_of("arbiter.db"), 0600);
	assert_string_equal(store_dir(S.s), S.home);
	assert_int_equal(strlen(store_id(S.s)), 32);
	assert_int_equal(strspn(store_id(S.s), "0123456789abcdef"), 32);
	assert_int_equal(store_policy_version(S.s), 1);
	assert_string_equal(db_text("SELECT event || ' ' || actor || ' ' || ts FROM audit"),
	    "store.init tester 2030-01-01T00:00:00.000Z");
	assert_int_equal(db_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_init_refuses_an_existing_store(void **state)
{
	(void)state;
	named_text files[] = { { "10-test.yaml", fixture_policy } };
	char err[512] = "";
	assert_false(store_init(S.dir, files, 1, "tester", err, sizeof err));
	assert_non_null(strstr(err, S.dir));
	/* nothing of the first store was touched */
	assert_int_equal(db_int("SELECT count(*) FROM audit"), 1);
	assert_int_equal(store_policy_version(S.s), 1);
}

static void test_open_refuses_what_is_not_a_store(void **state)
{
	(void)state;
	char err[512] = "";
	assert_null(store_open(arena_printf(T.a, "%s/none/.arbiter", S.dir), err, sizeof err));
	assert_true(err[0] != '\0');

	/* a database file that is not one, and one that is not arbiter's */
	const char *bad = arena_printf(T.a, "%s/bad", S.dir);
	const char *db_path = arena_printf(T.a, "%s/arbiter.db", bad);
	assert_int_equal(mkdir(bad, 0700), 0);
	FILE *f = fopen(db_path, "w");
	assert_non_null(f);
	fputs("this is not a database", f);
	fclose(f);
	assert_int_equal(chmod(db_path, 0600), 0);      /* private, as a store's files must be */
	err[0] = '\0';
	assert_null(store_open(bad, err, sizeof err));
	assert_non_null(strstr(err, "arbiter.db"));
	assert_null(strstr(err, "mode"));

	remove(db_path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE x (y)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(db_path, 0600), 0);
	err[0] = '\0';
	assert_null(store_open(bad, err, sizeof err));
	assert_non_null(strstr(err, "not an arbiter database"));
}

/* A store file others may read (or a read-only one they may write) is
 * refused with its name and the fix; the fixed store opens. */
static void test_open_refuses_a_store_open_to_others(void **state)
{
	(void)state;
	static const struct {
		const char *rel;
		int loose, mode;
		const char *fix;
	} files[] = {
		{ "", 0750, 0700, "chmod 700" },
		{ "users.oath", 0640, 0600, "chmod 600" },
		{ "keys/audit.key", 0604, 0600, "chmod 600" },
		{ "arbiter.db", 0660, 0600, "chmod 600" },
		{ "config.yaml", 0464, 0444, "chmod 444" },
		{ "policies/10-test.yaml", 0446, 0444, "chmod 444" },
		{ "keys/audit.pub", 0664, 0644, "chmod 644" },
	};
	store_close(S.s);
	S.s = NULL;
	char err[1024];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		const char *path = in_store(files[i].rel);
		assert_int_equal(chmod(path, (mode_t)files[i].loose), 0);
		err[0] = '\0';
		assert_null(store_open(S.home, err, sizeof err));
		assert_non_null(strstr(err, files[i].fix));
		assert_non_null(strstr(err, files[i].rel));
		assert_int_equal(chmod(path, (mode_t)files[i].mode), 0);
	}
	/* read bits on a read-only file are as init makes them */
	assert_int_equal(chmod(in_store("config.yaml"), 0644), 0);
	S.s = store_open(S.home, err, sizeof err);
	if (S.s == NULL)
		fail_msg("store_open: %s", err);
}

static void test_close_and_open_again(void **state)
{
	(void)state;
	char id[33], err[512] = "";
	snprintf(id, sizeof id, "%s", store_id(S.s));
	int64_t sub = submit_action("test.review", "agent-a", "reopen/1");
	store_close(S.s);
	S.s = store_open(S.home, err, sizeof err);
	if (S.s == NULL)
		fail_msg("store_open: %s", err);
	assert_string_equal(store_id(S.s), id);
	assert_string_equal(status_of(sub), "pending");
	assert_true(store_load_signing_key(S.s));
	verify_result r;
	assert_true(audit_verify(S.s, NULL, &r));
	assert_true(r.ok);
}

static void test_begin_takes_the_write_lock(void **state)
{
	(void)state;
	assert_false(store_in_transaction(S.s));
	assert_true(store_begin(S.s));
	assert_true(store_in_transaction(S.s));
	/* another connection cannot write (nor start a write) meanwhile */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(in_store("arbiter.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_BUSY);
	sqlite3_close(db);
	store_rollback(S.s);
	assert_false(store_in_transaction(S.s));
}

static void test_commit_keeps_and_rollback_forgets(void **state)
{
	(void)state;
	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, "tester", "test.rolled_back", "x", NULL));
	store_rollback(S.s);
	assert_int_equal(db_int("SELECT count(*) FROM audit"), 1);

	assert_true(store_begin(S.s));
	assert_true(audit_append(S.s, "tester", "test.kept", "x", NULL));
	assert_true(store_commit(S.s));
	assert_false(store_in_transaction(S.s));
	assert_int_equal(db_int("SELECT count(*) FROM audit"), 2);
	assert_string_equal(db_text("SELECT event FROM audit WHERE seq = 2"), "test.kept");
	/* the rolled-back event left no gap in the chain */
	verify_result r;
	assert_true(audit_verify(S.s, NULL, &r));
	assert_true(r.ok);
	assert_int_equal(r.head_seq, 2);
}

static void test_a_batch_is_whole_or_not_at_all(void **state)
{
	(void)state;
	assert_true(store_begin(S.s));
	submit_action("test.review", "agent-a", "batch/1");
	submit_action("test.block", "agent-a", "batch/2");
	assert_true(store_in_transaction(S.s));         /* store_submit used the caller's */
	store_rollback(S.s);
	assert_int_equal(db_int("SELECT count(*) FROM submissions"), 0);
	assert_int_equal(db_int("SELECT count(*) FROM audit"), 1);
	assert_int_equal(query_count(S.s, "waiting"), 0);

	assert_true(store_begin(S.s));
	int64_t a = submit_action("test.review", "agent-a", "batch/1");
	int64_t b = submit_action("test.block", "agent-a", "batch/2");
	assert_true(store_commit(S.s));
	assert_string_equal(status_of(a), "pending");
	assert_string_equal(status_of(b), "blocked");
	assert_int_equal(query_count(S.s, "waiting"), 2);
	assert_int_equal(db_int("SELECT count(*) FROM audit WHERE event = 'submission.create'"), 2);
}

/* A bulk writer (store_bulk) leaves its log to the copier once it holds
 * 4,096 pages, and copies what is left itself at 16,384, after which the
 * log is written from its beginning again: commits of 2,500 pages each
 * (rows of a page, the previous commit's deleted) never leave it much past
 * 16,384 pages, where 12 of them would make it 30,000 long. */
static void test_a_bulk_log_is_copied_aside(void **state)
{
	(void)state;
	enum { ROWS = 2500, COMMITS = 12 };
	store_bulk(S.s);
	assert_int_equal(sqlite3_exec(S.s->db, "CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)",
	    NULL, NULL, NULL), SQLITE_OK);
	int most = 0, restarts = 0, last = 0;
	bool copier_started = false;
	for (int i = 0; i < COMMITS; i++) {
		char sql[256];
		snprintf(sql, sizeof sql, "DELETE FROM filler; WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
		    "SELECT x + 1 FROM n WHERE x < %d) INSERT INTO filler (b) SELECT zeroblob(3900) "
		    "FROM n", ROWS);
		assert_true(store_begin(S.s));
		assert_int_equal(sqlite3_exec(S.s->db, sql, NULL, NULL, NULL), SQLITE_OK);
		assert_true(store_commit(S.s));
		if (S.s->log_frames > most)
			most = S.s->log_frames;
		if (S.s->log_frames < last)
			restarts++;
		last = S.s->log_frames;
		if (last >= 4096)
			copier_started |= S.s->copier != NULL;
	}
	assert_true(copier_started);
	assert_true(restarts >= 1);
	if (most > 16384 + 2 * ROWS + 100)
		fail_msg("the log reached %d pages", most);
	assert_int_equal(db_int("SELECT count(*) FROM filler"), ROWS);
}

/* A bulk writer's batch so large that its pages spill into the log, then
 * rolled back; another connection commits; the bulk writer begins its next
 * batch. The spilled frames the log file gathered (store_vfs.c) were
 * written before the write lock went, never over the other's commit. */
static void test_a_rolled_back_spill_keeps_the_next_commit(void **state)
{
	(void)state;
	static const int sizes[] = { 3560, 3800, 4100 };        /* rows of a page each */
	char err[512], sql[256];
	store *other = store_open(S.home, err, sizeof err);
	assert_non_null(other);
	store_bulk(S.s);
	assert_int_equal(sqlite3_exec(S.s->db, "CREATE TABLE filler (id INTEGER PRIMARY KEY, "
	    "who TEXT, b BLOB); PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL), SQLITE_OK);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		assert_true(store_begin(S.s));
		snprintf(sql, sizeof sql, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM n WHERE x < %d) INSERT INTO filler (who, b) SELECT 'spilled', "
		    "zeroblob(3900) FROM n", sizes[i]);
		assert_int_equal(sqlite3_exec(S.s->db, sql, NULL, NULL, NULL), SQLITE_OK);
		store_rollback(S.s);
		assert_true(store_begin(other));
		assert_int_equal(sqlite3_exec(other->db, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
		    "SELECT x + 1 FROM n WHERE x < 50) INSERT INTO filler (who, b) SELECT 'committed', "
		    "zeroblob(100) FROM n", NULL, NULL, NULL), SQLITE_OK);
		assert_true(store_commit(other));
		assert_true(store_begin(S.s));
		store_rollback(S.s);
	}
	store_close(other);
	assert_int_equal(db_int("SELECT count(*) FROM filler WHERE who = 'committed'"), 150);
	assert_int_equal(db_int("SELECT count(*) FROM filler WHERE who = 'spilled'"), 0);
	assert_string_equal(db_text("PRAGMA integrity_check"), "ok");
}

/* The log's next write fails once (a full disk), through the unix VFS's
 * own system call table. */
static sqlite3_syscall_ptr real_pwrite;
static bool fail_next_write;

static ssize_t failing_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fail_next_write) {
		fail_next_write = false;
		errno = ENOSPC;
		return -1;
	}
	return ((ssize_t (*)(int, const void *, size_t, off_t))real_pwrite)(fd, buf, n, off);
}

/* A write of gathered frames that fails when the transaction reads a
 * spilled page back: SQLite takes it for a failed read, and a statement
 * journal would let the transaction go on, but its commit fails, and no
 * frame of it is ever read as committed. */
static void test_a_lost_write_fails_its_transaction(void **state)
{
	(void)state;
	sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");
	real_pwrite = unix_vfs->xGetSystemCall(unix_vfs, "pwrite64");
	assert_non_null(real_pwrite);
	assert_int_equal(sqlite3_exec(S.s->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, "
	    "u INTEGER UNIQUE, v TEXT); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
	    "FROM n WHERE x < 400) INSERT INTO t SELECT x, x, printf('%.3000c', 'z') FROM n; "
	    "PRAGMA wal_checkpoint(PASSIVE); PRAGMA cache_size = 20;", NULL, NULL, NULL), SQLITE_OK);
	assert_true(store_begin(S.s));
	assert_int_equal(sqlite3_exec(S.s->db, "UPDATE t SET v = printf('%.3000c', 'n') "
	    "WHERE id <= 200", NULL, NULL, NULL), SQLITE_OK);
	unix_vfs->xSetSystemCall(unix_vfs, "pwrite64", (sqlite3_syscall_ptr)failing_pwrite);
	fail_next_write = true;
	int rc = sqlite3_exec(S.s->db, "UPDATE t SET u = u + 1000 WHERE id <= 60", NULL, NULL,
	    NULL);
	unix_vfs->xSetSystemCall(unix_vfs, "pwrite64", real_pwrite);
	assert_false(fail_next_write);          /* the failure was met */
	assert_int_not_equal(rc, SQLITE_OK);
	if (store_in_transaction(S.s))
		assert_false(store_commit(S.s));
	assert_false(store_in_transaction(S.s));
	assert_int_equal(db_int("SELECT count(*) FROM t WHERE v <> printf('%.3000c', 'z')"), 0);
	assert_int_equal(db_int("SELECT count(*) FROM t WHERE u > 1000"), 0);
	assert_string_equal(db_text("PRAGMA integrity_check"), "ok");
	/* and the next transaction writes and commits */
	assert_true(store_begin(S.s));
	assert_int_equal(sqlite3_exec(S.s->db, "UPDATE t SET v = 'later' WHERE id = 1", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_true(store_commit(S.s));
	assert_string_equal(db_text("SELECT v FROM t WHERE id = 1"), "later");
}

static void test_time_formats_and_the_clock(void **state)
{
	(void)state;
	char ts[32];
	format_time(now_ms(), ts);
	assert_string_equal(ts, "2030-01-01T00:00:00.000Z");
	format_time(START_MS + 86400123, ts);
	assert_string_equal(ts, "2030-01-02T00:00:00.123Z");
	format_time(START_MS + 86400007, ts);   /* the same second again: only the ms anew */
	assert_string_equal(ts, "2030-01-02T00:00:00.007Z");
	format_time(START_MS + 86400999 + 1000, ts);
	assert_string_equal(ts, "2030-01-02T00:00:01.999Z");
	format_time(-1, ts);                    /* before 1970: the second rounds down */
	assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
	format_time(-1000, ts);
	assert_string_equal(ts, "1969-12-31T23:59:59.000Z");
	format_time(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
	int64_t ms;
	assert_true(parse_time("2030-01-02T00:00:00.123Z", &ms));
	assert_int_equal(ms, START_MS + 86400123);
	assert_true(parse_time("2030-01-02", &ms));
	assert_int_equal(ms, START_MS + 86400000);
	assert_true(parse_time("1h", &ms));             /* an hour before the clock's now */
	assert_int_equal(ms, START_MS - 3600000);
	clock_advance(60);
	assert_true(parse_time("1h", &ms));
	assert_int_equal(ms, START_MS + 60000 - 3600000);
	assert_false(parse_time("yesterday", &ms));
	assert_false(parse_time("2030-13-45", &ms));
	assert_false(parse_time("2030-01-01T25:00:00Z", &ms));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_init_makes_a_store),
		store_test(test_init_refuses_an_existing_store),
		store_test(test_open_refuses_what_is_not_a_store),
		store_test(test_open_refuses_a_store_open_to_others),
		store_test(test_close_and_open_again),
		store_test(test_begin_takes_the_write_lock),
		store_test(test_commit_keeps_and_rollback_forgets),
		store_test(test_a_batch_is_whole_or_not_at_all),
		store_test(test_a_bulk_log_is_copied_aside),
		store_test(test_a_rolled_back_spill_keeps_the_next_commit),
		store_test(test_a_lost_write_fails_its_transaction),
		store_test(test_time_formats_and_the_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
