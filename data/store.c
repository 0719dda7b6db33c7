/*
 * store.c: creating and opening a store, transactions, time formats.
 *
 * Writers take SQLite's write lock at BEGIN (BEGIN IMMEDIATE), before they
 * read anything, so that two processes appending audit events never read the
 * same chain head: the chain stays linear under concurrency. A busy handler
 * and a bounded retry of BEGIN keep "database is locked" from reaching users.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store_impl.h"

static const char config_yaml[] =
    "# arbiter settings (see man arbiter). Defaults are shown.\n"
    "enforcement:\n"
    "  enabled: true          # false: every submission is allowed, still audited\n"
    "  fail_closed: true      # an evaluation error is a deny finding\n"
    "review:\n"
    "  approve_requires_code: true\n"
    "  justification_min_chars: 20\n"
    "  override_default_duration: 24h\n"
    "  session_idle: 10m\n"
    "totp:\n"
    "  window: 1\n"
    "  max_failures: 5\n"
    "  lockout: 15m\n";

bool store_fail(store *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
	return false;
}

/* A bulk write stamps the same second thousands of times: the date and time
 * of the last second each thread formatted are kept, and only the
 * milliseconds written anew. */
void format_time(int64_t ms, char out[32])
{
	static _Thread_local int64_t last_second = -1;
	static _Thread_local char last[32];
	static _Thread_local size_t last_len;
	if (ms < 0 || ms / 1000 != last_second) {
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		last_len = strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%S", &tm);
		last_second = ms < 0 ? -1 : ms / 1000;
	}
	memcpy(out, last, last_len);
	snprintf(out + last_len, 32 - last_len, ".%03dZ", (int)(ms % 1000));
}

bool parse_time(const char *s, int64_t *ms)
{
	int64_t ago;
	if (duration_parse(s, &ago)) {
		if (ago > INT64_MAX / 1000)     /* ms would overflow */
			return false;
		*ms = now_ms() - ago * 1000;
		return true;
	}
	struct tm tm = { 0 };
	int frac = 0;
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest == NULL)
		return false;
	bool timed = *rest == 'T' || *rest == ' ';
	if (timed) {
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
		if (rest == NULL)
			return false;
		if (*rest == '.') {
			int digits = 0;
			for (rest++; *rest >= '0' && *rest <= '9'; rest++)
				if (digits++ < 3)
					frac = frac * 10 + (*rest - '0');
			while (digits > 0 && digits < 3)
				frac *= 10, digits++;
		}
	}
	int64_t offset = 0;     /* a local time's offset east of UTC, in minutes */
	if (*rest == 'Z') {
		rest++;
	} else if ((*rest == '+' || *rest == '-') && timed) {
		const char *o = rest + 1;       /* exactly "hh:mm" */
		for (int i = 0; i < 5; i++)
			if (i == 2 ? o[i] != ':' : o[i] < '0' || o[i] > '9')
				return false;
		int hh = (o[0] - '0') * 10 + (o[1] - '0'), mm = (o[3] - '0') * 10 + (o[4] - '0');
		if (hh > 23 || mm > 59)
			return false;
		offset = (*rest == '-' ? -1 : 1) * (hh * 60 + mm);
		rest += 6;
	}
	if (*rest != '\0')
		return false;
	*ms = ((int64_t)timegm(&tm) - offset * 60) * 1000 + frac;
	return true;
}

/* dir/name into out; false (with a message) when it does not fit. */
static bool join(char *out, size_t n, const char *dir, const char *name, char *err, size_t errlen)
{
	int len = snprintf(out, n, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= n) {
		snprintf(err, errlen, "path too long: %.64s.../%s", dir, name);
		return false;
	}
	return true;
}

static bool write_file(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	return chmod(path, mode) == 0 || (snprintf(err, errlen, "%s: %s", path, strerror(errno)), false);
}

/* Waiting for the write lock: SQLite's own busy timeout sleeps up to 100 ms
 * between tries, and a busy writer (submit commits a batch, then takes the
 * lock again at once) may hold it nearly all the time, so a waiter could miss
 * every short gap. Trying every 0.2 to 1 ms finds them; up to about 10 s. */
static int busy_wait(void *ctx, int tries)
{
	(void)ctx;
	if (tries >= 16000)
		return 0;
	usleep(200 + (useconds_t)randombytes_uniform(800));
	return 1;
}

/* WAL with synchronous FULL: a commit appends to the log and syncs it, so a
 * submission is durable before it is reported stored. A process leaves a
 * small log behind for the next one to read back (store_close); the log
 * file is kept between processes (no file made and removed per command) and
 * truncated at each checkpoint. A 64 MiB page cache holds a whole batch of
 * submit without spilling; temporary data stays in memory. */
/* Each connection is used by one thread at a time (the threads of a bulk
 * submit never touch SQLite), so it needs no mutex of its own; and arbiter
 * reads no memory statistics, whose upkeep takes a global lock per malloc.
 * Both must be chosen before SQLite's first use. */
static int open_db(const char *path, int flags, sqlite3 **db)
{
	static bool configured;
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	return sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
}

static bool configure(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;
	sqlite3_busy_handler(db, busy_wait, NULL);
	int persist = 1;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
	    "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; "
	    "PRAGMA journal_size_limit = 0;",
	    NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure the database: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return false;
	}
	return true;
}

bool store_init(const char *dir, const named_text *policies, size_t npolicies, const char *actor,
    char *err, size_t errlen)
{
	char home[PATH_MAX], path[PATH_MAX], sub[PATH_MAX];
	if (!join(home, sizeof home, dir, ".arbiter", err, errlen))
		return false;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {       /* like git init DIR */
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(home, &st) == 0) {
		snprintf(err, errlen, "%s already exists: arbiter init does not overwrite a store", home);
		return false;
	}
	if (mkdir(home, 0750) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", home, strerror(errno));
		return false;
	}
	if (!join(sub, sizeof sub, home, "policies", err, errlen))
		return false;
	if (mkdir(sub, 0750) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", sub, strerror(errno));
		return false;
	}
	for (size_t i = 0; i < npolicies; i++)
		if (!join(path, sizeof path, sub, policies[i].name, err, errlen) ||
		    !write_file(path, policies[i].text, 0444, err, errlen))
			return false;
	if (!join(path, sizeof path, home, "config.yaml", err, errlen) ||
	    !write_file(path, config_yaml, 0444, err, errlen) ||
	    !join(path, sizeof path, home, "users.oath", err, errlen) ||
	    !write_file(path, "", 0600, err, errlen) || !keys_generate(home, err, errlen) ||
	    !join(path, sizeof path, home, "arbiter.db", err, errlen))
		return false;

	sqlite3 *db;
	if (open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return false;
	}
	chmod(path, 0640);
	unsigned char raw[16];
	char id[33];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	char sql[256];
	snprintf(sql, sizeof sql, "INSERT INTO meta VALUES ('store_id', '%s');", id);
	char *msg = NULL;
	bool ok = configure(db, err, errlen) && schema_create(db, err, errlen);
	if (ok && sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot initialise %s: %s", path, msg);
		sqlite3_free(msg);
		ok = false;
	}
	sqlite3_close(db);
	if (!ok)
		return false;

	store *s = store_open(home, err, errlen);
	if (s == NULL)
		return false;
	int version;
	ok = store_load_signing_key(s) && store_begin(s) &&
	    integrity_pin(s, actor, "arbiter init", "store.init", &version) && store_commit(s);
	if (!ok) {
		snprintf(err, errlen, "%s", s->err);
		store_rollback(s);
	}
	store_close(s);
	return ok;
}

store *store_open(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], pub[PATH_MAX];
	if (!join(path, sizeof path, dir, "arbiter.db", err, errlen) ||
	    !join(pub, sizeof pub, dir, "keys/audit.pub", err, errlen))
		return NULL;
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s: no database (is %s an arbiter store? create one with arbiter init)",
		    path, dir);
		return NULL;
	}
	store *s = calloc(1, sizeof *s);
	if (s == NULL)
		abort();
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	char why[512] = "";
	if (open_db(path, SQLITE_OPEN_READWRITE, &s->db) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
	} else if (!configure(s->db, why, sizeof why) || !schema_migrate(s->db, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
	} else {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'store_id'", -1, &st,
		    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			snprintf(s->id, sizeof s->id, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		unsigned char keyid[8];
		if (keys_load_public(pub, s->pk, keyid, err, errlen))
			return s;
	}
	sqlite3_close(s->db);
	free(s);
	return NULL;
}

bool store_load_signing_key(store *s)
{
	keypair kp;
	if (!keys_load_secret(s->dir, &kp, s->err, sizeof s->err))
		return false;
	if (memcmp(kp.pk, s->pk, 32) != 0) {
		sodium_memzero(&kp, sizeof kp);
		snprintf(s->err, sizeof s->err, "keys/audit.key does not match keys/audit.pub");
		return false;
	}
	memcpy(s->sk, kp.sk, sizeof s->sk);
	sodium_memzero(&kp, sizeof kp);
	s->have_sk = true;
	return true;
}

sqlite3_stmt *store_stmt(store *s, int which, const char *sql)
{
	sqlite3_stmt *st = s->stmts[which];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			store_fail(s, "cannot prepare a statement");
			return NULL;
		}
		s->stmts[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Many submissions in a row: a checkpoint syncs the log and the database,
 * and truncating the log at each one makes the file system allocate it
 * anew, so while bulk writing the log may grow to 64 MiB between
 * checkpoints and is kept at its size; store_close truncates it again.
 * Past the first few events, audit_append also hands signatures to a
 * thread (audit_signer.c). */
void store_bulk(store *s)
{
	s->bulk = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 16384; "
	    "PRAGMA journal_size_limit = -1;", NULL, NULL, NULL) == SQLITE_OK;
	s->sign_alongside = true;
}

/* A checkpoint at close costs three syncs and the pages' copy (about 1 ms),
 * while reading back a small log costs the next process a fraction of that:
 * so the last connection to close checkpoints (and truncates the log) only
 * once the log has grown past WAL_KEEP. Commits are synced (FULL), so what
 * is left in the log is as durable as the database. */
enum { WAL_KEEP = 256 * 1024 };

static bool log_is_small(const store *s)
{
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(s->db, "main"));
	struct stat st;
	return wal != NULL && stat(wal, &st) == 0 && st.st_size <= WAL_KEEP;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->bulk)
		sqlite3_exec(s->db, "PRAGMA journal_size_limit = 0;", NULL, NULL, NULL);
	if (log_is_small(s))
		sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	audit_signer_stop(s);
	quota_drop(s);
	for (int i = 0; i < SQL__COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	sodium_memzero(s->sk, sizeof s->sk);
	free(s);
}

/* What the writer keeps for the open transaction (audit events being
 * signed, quota uses, new submissions' statuses) is written by store_commit,
 * or forgotten here: on a rollback, and when a new transaction begins. */
static void store_forget(store *s)
{
	audit_signer_drop(s);
	quota_drop(s);
	memset(s->created, 0, sizeof s->created);
}

bool store_begin(store *s)
{
	/* busy_timeout covers most waits; BEGIN IMMEDIATE may still report busy
	 * at once when another writer holds the lock, so retry it a while */
	for (int attempt = 0; attempt < 200; attempt++) {
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			s->head_known = false;  /* another process may have appended */
			store_forget(s);
			return true;
		}
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		usleep(5000 + (useconds_t)randombytes_uniform(20000));
	}
	return store_fail(s, "cannot start a transaction");
}

bool store_commit(store *s)
{
	if (!submissions_flush(s) || !quota_flush(s) || !audit_signer_flush(s)) {
		store_rollback(s);
		return false;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return true;
	store_fail(s, "cannot commit");
	store_rollback(s);
	return false;
}

void store_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->head_known = false;  /* the rollback may have moved the audit head */
	store_forget(s);
}

bool store_data_version(store *s, int64_t *version)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot poll the database");
	bool ok = sqlite3_step(st) == SQLITE_ROW || store_fail(s, "cannot poll the database");
	if (ok)
		*version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ok;
}

const char *store_errmsg(const store *s)
{
	return s->err;
}

const char *store_dir(const store *s)
{
	return s->dir;
}

const char *store_id(const store *s)
{
	return s->id;
}

bool store_in_transaction(store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

void store_bind_now(sqlite3_stmt *st)
{
	int i = sqlite3_bind_parameter_index(st, ":now");
	if (i > 0) {
		char ts[32];
		format_time(now_ms(), ts);
		sqlite3_bind_text(st, i, ts, -1, SQLITE_TRANSIENT);
	}
}
