/*
 * store_impl.h: the inside of a store, for data/ alone.
 *
 * Front ends hold a store only by pointer (store.h declares it incomplete):
 * they never see the SQLite connection or the signing key, so every read and
 * write goes through a function of data/.
 */
#ifndef ARBITER_STORE_IMPL_H
#define ARBITER_STORE_IMPL_H

#include <sqlite3.h>

#include "store.h"

struct store {
	char dir[PATH_MAX];     /* the .arbiter directory */
	sqlite3 *db;
	char id[33];            /* random store id, hex */
	unsigned char sk[64];   /* the audit signing key; zeroed on close */
	unsigned char pk[32];
	bool have_sk;
	bool bulk;              /* store_bulk: checkpoints tuned for many writes */
	bool sign_alongside;    /* store_bulk: a signing thread once past a few events */
	int appended;           /* events appended in bulk before the signer starts */
	char err[512];          /* the last error, for the caller to print */
	sqlite3_stmt *stmts[16];        /* prepared once, see store_stmt */
	struct audit_signer *signer;    /* store_bulk: events signed alongside */
	struct quota_pending *quota;    /* quota uses of the open transaction */
	int64_t created[ST_EXPIRED + 1];        /* its new submissions, per status */
	/* the chain head, read once per transaction */
	bool head_known;
	int64_t head_seq;
	unsigned char head_hash[32];
};

/* Statements prepared once per connection and reset for each use. */
enum { SQL_AUDIT_HEAD, SQL_AUDIT_INSERT, SQL_SUB_BY_REF, SQL_SUB_INSERT, SQL_FINDING_INSERT,
	SQL_QUOTA_SUM, SQL_QUOTA_INSERT, SQL_QUOTA_TOTAL, SQL_STATUS_COUNT, SQL_POLICY_VERSION,
	SQL_RESULT_ROW, SQL_RESULT_FINDINGS, SQL__COUNT };
sqlite3_stmt *store_stmt(store *s, int which, const char *sql);

/* Records an SQLite failure in s->err: "what: sqlite message". */
bool store_fail(store *s, const char *what);

/* ---- schema.c: tables, triggers, migrations ---- */
bool schema_create(sqlite3 *db, char *err, size_t errlen);
/* Brings an older schema up to STORE_SCHEMA_VERSION; refuses a newer one. */
bool schema_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
