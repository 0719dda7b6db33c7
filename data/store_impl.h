/*
 * store_impl.h: the inside of a store, for data/ alone.
 *
 * Front ends hold a store only by pointer (store.h declares it incomplete):
 * they never see the SQLite connection or the signing key, so every read and
 * write goes through a function of data/.
 */
#ifndef ARBITER_STORE_IMPL_H
#define ARBITER_STORE_IMPL_H

#include <sodium.h>
#include <sqlite3.h>

#include "store.h"

/* What a write transaction keeps in memory until it ends, in the order
 * store_commit writes it (see store_keep): the attempt of a code that was
 * never checked, to delete (codes.c), the new submissions' counts per
 * status (submissions.c), the quota sums (quota.c), the audit events signed
 * alongside (audit_signer.c: after the sums, so that the signing thread
 * finishes its run while they are written), the signed head record of the
 * events appended (audit_head.c: once per transaction, after the events),
 * and the audit chain head (audit.c: read once per transaction, forgotten
 * when it ends). */
enum { KEEP_CODE_ATTEMPT, KEEP_STATUS_COUNTS, KEEP_QUOTA_SUMS, KEEP_SIGNED_EVENTS, KEEP_HEAD_RECORD,
	KEEP_AUDIT_HEAD, KEEP__COUNT };

typedef struct store_keeper {
	/* Writes what ctx keeps, before COMMIT, and forgets it; false (with
	 * s->err) fails the commit, which then rolls back and drops it. */
	bool (*flush)(store *s, void *ctx);
	/* Forgets what ctx keeps: a rollback, a new transaction, or a close. */
	void (*drop)(store *s, void *ctx);
} store_keeper;

struct store {
	/* a store reached through a server (remote.h): nothing below is used */
	struct remote *remote;
	char dir[PATH_MAX];     /* the .arbiter directory */
	sqlite3 *db;
	char id[33];            /* random store id, hex */
	unsigned char sk[64];   /* the audit signing key; zeroed on close */
	unsigned char pk[32];
	bool have_sk;
	/* signing_key.c (and ops_keys.c, after its rotation): the seq of the
	 * key.rotate that named the signing key (0: the first key), checked at
	 * the first write of each transaction */
	bool key_known;
	int64_t key_seq;
	/* keyring_store.c: the chain's keys, kept with the connection, and
	 * whether its closer (which frees them) is registered */
	keyring ring;
	bool ring_ready;
	bool ring_closes;
	bool bulk;              /* store_bulk: many writes in a row */
	bool bulk_log;          /* store_bulk's checkpoint settings are in force */
	bool sign_at_once;      /* store_serving: the signer is woken by a second waiting event */
	/* log_copier.c: the thread that copies the log aside, the log's length
	 * at the last commit, and whether the copier could not start */
	struct log_copier *copier;
	int log_frames;
	bool copier_failed;
	void (*committed)(store *s);    /* called after each commit (store_bulk's) */
	void (*signed_fn)(void *ctx, bool alone);       /* store_on_signed */
	void *signed_ctx;
	char err[512];          /* the last error, for the caller to print */
	strbuf findings_text;   /* submissions.c: a row's findings column, reused */
	struct finding_kinds *kinds;    /* finding_kinds.c: the kinds met */
	bool kinds_closes;              /* ... and its settler and closer are registered */
	/* told after each transaction whether it committed (store_on_settle):
	 * finding_kinds.c's kinds met, audit_signer.c's events written */
	void (*settlers[2])(store *s, bool committed);
	strbuf kind_key;        /* finding_kinds.c: a kind's key, reused */
	sqlite3_stmt *stmts[20];        /* prepared once, see store_stmt */
	struct {
		const store_keeper *keeper;     /* NULL: the slot keeps nothing */
		void *ctx;
	} kept[KEEP__COUNT];
	struct {
		void (*fn)(store *s, void *ctx);
		void *ctx;
	} closers[5];                   /* store_on_close */
	/* audit.c: the chain head, and signing alongside while bulk writing */
	bool head_known;
	int64_t head_seq;
	unsigned char head_hash[32];
	bool sign_inline;       /* the signing thread could not start */
	int appended;           /* events appended in bulk before the signer starts */
	struct audit_signer *signer;
	/* codes.c: the attempt recorded before a code is checked (its row of
	 * code_failures, 0: none), and whether the code was checked */
	struct {
		int64_t id;
		bool checked;
	} attempt;
};

typedef struct log_copier log_copier;

/* Statements prepared once per connection and reset for each use. */
enum { SQL_AUDIT_HEAD, SQL_AUDIT_INSERT, SQL_SUB_BY_REF, SQL_SUB_INSERT, SQL_FINDING_POLICY,
	SQL_QUOTA_SUM, SQL_QUOTA_INSERT, SQL_QUOTA_TOTAL, SQL_STATUS_COUNT, SQL_POLICY_VERSION,
	SQL_RESULT_ROW, SQL_KIND_FIND, SQL_KIND_ADD, SQL_KIND_BY_ID, SQL_AUDIT_LAST, SQL_AUDIT_AT, SQL_HEAD_RECORD,
	SQL_KEY_ROTATION, SQL__COUNT };
sqlite3_stmt *store_stmt(store *s, int which, const char *sql);

/* A submission's status as it reads now: an override past its expiry is
 * "expired". Statements using it bind :now (store_bind_now). */
#define EFFECTIVE_STATUS "CASE WHEN status = 'overridden' AND expires_at IS NOT NULL AND " \
	"expires_at <= :now THEN 'expired' ELSE status END"
/* Binds :now, if st has it, to now as format_time writes it. */
void store_bind_now(sqlite3_stmt *st);

/* The newest submission that is not allowed of a submitter with a digest
 * under a policy version (op_submission_match), by submissions_digest: a
 * seek to the digest's first 16 characters, its newest entry first.
 * +digest: a term digest = ... would have SQLite put the digest in place of
 * the column in the prefix's term, which then no longer names the index's
 * expression. */
#define SUBMISSION_MATCH "FROM submissions INDEXED BY submissions_digest " \
	"WHERE substr(digest, 1, 16) = :prefix AND +digest = :digest AND submitter IS :submitter " \
	"AND policy_version = :version AND status <> 'allowed' ORDER BY id DESC LIMIT 1"

/* Records an SQLite failure in s->err: "what: sqlite message". */
bool store_fail(store *s, const char *what);
/* Binds text (NUL-terminated, not copied) to parameter i, or NULL. */
void store_bind_opt(sqlite3_stmt *st, int i, const char *text);

/* Registers what slot (KEEP_*) keeps for the open transaction: store_commit
 * calls keeper->flush(s, ctx) before COMMIT, slot by slot in KEEP_ order; a
 * rollback, the next store_begin and store_close call keeper->drop(s, ctx).
 * Either empties the slot. Registering a slot again replaces it. */
void store_keep(store *s, int slot, const store_keeper *keeper, void *ctx);
/* The ctx slot keeps, or NULL when it keeps nothing. */
void *store_kept(const store *s, int slot);
/* fn(s, ctx) runs when the store closes, after the slots are dropped: for
 * what lives as long as the connection (the signing thread, the keyring,
 * a server's connection). */
void store_on_close(store *s, void (*fn)(store *s, void *ctx), void *ctx);
/* fn(s, committed) runs after each write transaction: true once its COMMIT
 * succeeded, false when it rolled back or a new one begins (for what a
 * transaction left in memory). Registering fn again changes nothing. */
void store_on_settle(store *s, void (*fn)(store *s, bool committed));

/* dir/name into out; false (with a message in err) when it does not fit. */
bool store_path(char *out, size_t n, const char *dir, const char *name, char *err, size_t errlen);
/* Creates the database at path: its schema and a new random store id. */
bool store_create_db(const char *path, char *err, size_t errlen);
/* private_file.c: replaces the store's private file path with len bytes,
 * 0600, through a synced temporary file renamed over it; false with err. */
bool private_file_replace(const char *path, const void *bytes, size_t len, char *err,
    size_t errlen);
/* store_vfs.c: the name of the VFS every connection opens the database
 * with (SQLite's unix files, a kept log not synced as new; NULL: the
 * default, when it cannot be registered). */
const char *store_vfs_name(void);
/* policy_trees.c: the key policies.cache is tagged with, of the signing key
 * and the trees' format (doc_tree_format). */
void policy_trees_key(const store *s, const char *format, unsigned char key[32]);
/* quota.c: the submission.outcome event about subject (a submission's id):
 * its seq, 0 none, -1 a failure (s->err); with details, its details too,
 * which must read as JSON. */
int64_t outcome_event(store *s, const char *subject, struct json_t **details);
/* At open: keys_settle_leftovers (keys_settle.c) in a write transaction of
 * its own, when keys/ holds new key files. false with err. */
bool store_settle_keys(store *s, char *err, size_t errlen);

/* ---- keys_settle.c: a rotation's key files, into place or discarded ---- */
/* The chain's last key.rotate, as keys_last_rotation reads it. */
typedef struct key_rotation {
	int64_t seq;                    /* 0: the chain has none */
	unsigned char pk[32], keyid[8]; /* the key it names */
	bool first;                     /* it is the chain's first rotation */
} key_rotation;
/* The statement that reads it, and its reading from st, prepared from
 * that text: false with err (a read error, or an event that names no key). */
extern const char keys_last_rotation_sql[];
bool keys_last_rotation(sqlite3_stmt *st, key_rotation *r, char *err, size_t errlen);
/* Whether dir's keys/ holds new key files (keys/audit.key.new, .pub.new). */
bool keys_left_over(const char *dir);
/* Under the write lock: the new key files put into place when last (the
 * chain's last key.rotate) names them, else wiped and removed. false with
 * err. */
bool keys_settle(const char *dir, const key_rotation *last, char *err, size_t errlen);
/* keys_settle with the last rotation read from db. */
bool keys_settle_leftovers(sqlite3 *db, const char *dir, char *err, size_t errlen);
/* Puts the pair the rotation r names into place (see keys_settle.c). */
bool keys_put_in_place(const char *dir, const key_rotation *r, char *err, size_t errlen);
/* Wipes and removes new key files that no rotation names. */
bool keys_discard_new(const char *dir, char *err, size_t errlen);

/* ---- signing_key.c: the signing key against the chain's rotations ---- */
/* In the caller's transaction: the chain's last key.rotate (keys_settle.c);
 * false with s->err. */
bool store_last_rotation(store *s, key_rotation *r);
/* In the caller's write transaction (audit.c: once per transaction, before
 * its first event): whether s signs with the key the chain's last key.rotate
 * names. After a rotation by another connection, the new key is loaded (its
 * files put into place first, when that connection was stopped before it
 * did). false with s->err: keys/ does not hold the key the chain names. */
bool signing_key_current(store *s);

/* ---- audit_hash.c: an event's hash and signature (see store.h) ---- */
/* hex (64 hex digits) into out; false when it is not that. */
bool audit_hex32(const char *hex, unsigned char out[32]);
/* Whether sighex (128 hex digits) is pk's signature of hash. */
bool audit_sig_holds(const char *sighex, const unsigned char hash[32], const unsigned char pk[32]);

/* ---- audit_full.c: every signature, on every core (audit verify --full) ---- */
typedef struct sig_pool sig_pool;
/* Workers (threads; 0: one per online CPU) that check signatures against
 * the keys of ring, which must outlive the pool, fed through a queue of
 * queued_per_worker batches a worker (0: the default); events set aside
 * are read again from s's audit table (NULL: none is set aside), in the
 * snapshot of the caller's open read transaction, up to aside_eighths
 * eighths of the events handed over (negative: the default, see
 * audit_full.c). */
sig_pool *sig_pool_start(store *s, const keyring *ring, int threads, int queued_per_worker,
    int aside_eighths);
/* Hands over event seq: its (recomputed, good) hash and its sig column. */
void sig_pool_add(sig_pool *p, int64_t seq, const unsigned char hash[32], const char *sighex);
/* Queues events set aside while the queue has room (between other reads). */
void sig_pool_refill(sig_pool *p);
/* How many events were set aside so far (read again later). */
int64_t sig_pool_set_aside(const sig_pool *p);
/* Checks what is still set aside, waits for every check and ends the pool:
 * the first seq whose signature fails, 0 when none does; *read_ok false
 * when an event set aside could not be read again (s->err unset). */
int64_t sig_pool_finish(sig_pool *p, bool *read_ok);

/* ---- audit_signer.c: signing on a second thread while bulk writing ---- */
/* How the signer writes the events it kept, in order, once all are signed:
 * audit_insert, given by audit.c (the signer does not know the table). */
typedef bool (*audit_writer)(store *s, int64_t seq, const char *ts, const char *actor,
    const char *event, const char *subject, const char *details, const unsigned char prev[32],
    const unsigned char hash[32], const unsigned char sig[64]);
bool audit_signer_start(store *s, audit_writer write);
/* Keeps an event whose hash is being signed; written at commit. */
void audit_signer_add(store *s, int64_t seq, const char *ts, const char *actor,
    const char *event, const char *subject, const char *details, const unsigned char prev[32],
    const unsigned char hash[32]);
/* The event seq as the last transaction committed it, when the signer
 * wrote it there and no transaction has begun since: its strings stay the
 * signer's until then. false otherwise (read it from the table). */
bool audit_signer_committed(const store *s, int64_t seq, audit_event *e);

/* ---- queries.c: what every reading of submissions shares ---- */
/* The columns query_read_row reads, in its order. */
#define ROW_COLUMNS "id, ref, kind, action, title, submitter, " EFFECTIVE_STATUS " AS status, " \
	"created_at, created_ms, info, warning, critical, policy_version, decided_at, expires_at, " \
	"digest"
void query_read_row(sqlite3_stmt *st, sub_row *r);
/* The stored statuses a status filter reads (none for all), and whether
 * each row's status as it reads now must be checked too (overridden and
 * expired depend on expires_at). -1: not a status filter. */
int query_status_stored(const char *filter, const char *reads[8], bool *recheck);

/* ---- ranges.c: filters as key ranges and index values ---- */
/* The distinct values of column in table (index: an index that starts with
 * it; NULL: the table's own key starts with it) that the glob pat matches: a pattern without glob characters is its
 * own one value. When more than max match, or too many distinct values lie
 * in the pattern's range to visit, none are kept and many is set: the
 * caller tests the glob on each row with arbiter_glob. */
typedef struct glob_values {
	char **v;
	size_t n;
	bool many;
} glob_values;
bool glob_values_find(store *s, const char *table, const char *column, const char *index,
    const char *pat, size_t max, glob_values *out);
void glob_values_free(glob_values *g);
/* Registers arbiter_glob(pattern, text) on the connection. */
bool glob_function(store *s);
/* A table whose time grows with its key. */
typedef struct time_column {
	const char *table, *key, *time;
	bool text;              /* RFC 3339 text as format_time writes it, else Unix ms */
} time_column;
/* [*lo, *hi]: the keys of the rows whose time is within [since_ms, until_ms]
 * (0: no bound), by binary search; *lo > *hi when there are none. */
bool time_keys(store *s, const time_column *c, int64_t since_ms, int64_t until_ms, int64_t *lo,
    int64_t *hi);

/* ---- audit_head_sign.c: the head record's text and signature ---- */
/* What the record's signature covers (see audit_head.c); its length, 0 when
 * it does not fit out. */
size_t audit_head_text(const char *store_id, int64_t seq, const char *hash, char *out,
    size_t len);
/* The record's signature (hex) by sk over (store_id, seq, hash). */
void audit_head_sign(const unsigned char sk[64], const char *store_id, int64_t seq,
    const char hash[65], char sighex[129]);
/* In the schema step that makes the table: the record of the log's head as
 * it is, signed with dir's key (an empty log has none yet; dir NULL: no key,
 * refused when there are events). */
bool audit_head_migrate(sqlite3 *db, const char *dir, char *err, size_t errlen);

/* ---- audit_head.c: the signed head record outside the audit table ---- */
/* The slot that writes the record at commit: audit_append registers it. */
extern const store_keeper audit_head_keeper;

/* ---- findings_digest.c: what findings_digest in an event names ---- */
/* A findings row as stored: each column's text (NULL: none) or integer. */
typedef struct finding_row {
	const char *policy, *type, *severity, *effect;
	int64_t overridable;
	const char *message, *detail, *path, *source;
	int64_t approvals;
	const char *role;
	int64_t max_duration;
} finding_row;
typedef struct findings_digest {
	sha256_ctx h;
	int64_t n;              /* findings added */
	unsigned char buf[1024];        /* encoded, not yet hashed */
	size_t n_buf;
} findings_digest;
void findings_digest_init(findings_digest *d);
/* Adds the next finding, in the order of the rows' ids. */
void findings_digest_add(findings_digest *d, const finding_row *f);
void findings_digest_final(findings_digest *d, unsigned char out[32]);
/* The row that storing f writes. */
void finding_row_of(const finding *f, finding_row *row);

/* ---- finding_kinds.c: the fields a policy's findings share, stored once ---- */
/* Kinds by id (detail and path NULL), their texts in the table's arena:
 * what a connection has met, or (kind_table_read) the table as it is now,
 * which audit verify reads rather than what the connection remembers. */
typedef struct kind_table {
	finding_row **by_id;    /* NULL where there is no kind */
	size_t n;
	arena *a;
} kind_table;
bool kind_table_read(store *s, kind_table *t);
void kind_table_free(kind_table *t);
/* Kind id of t, or NULL. */
const finding_row *kind_table_get(const kind_table *t, int64_t id);
/* The id of f's kind (its fields but detail and path), added when new; 0
 * with s->err. */
int64_t finding_kind_id(store *s, const finding_row *f);
/* The fields of kind id (detail and path NULL), or NULL: no such kind. */
const finding_row *finding_kind(store *s, int64_t id);

/* ---- findings_column.c: the findings in their submission's row ---- */
/* The column's text of r's findings into b (empty: none, the column NULL),
 * and their digest; false with s->err when a kind cannot be stored. */
bool findings_column_write(store *s, strbuf *b, const eval_result *r, char digest[65]);
/* Binds what findings_column_write wrote to parameter i: NULL when empty. */
void findings_column_bind(sqlite3_stmt *st, int i, const strbuf *b);
/* The findings of a column's text (NULL: none) as rows in a, their kinds
 * from kinds (NULL: the connection's, finding_kind); false with why when the
 * text is not what findings_column_write writes or names a kind there is
 * not. */
bool findings_column_read(store *s, const kind_table *kinds, arena *a, const char *text,
    size_t len, finding_row **rows, size_t *n, char *why, size_t whylen);
/* A row of finding_policies: a policy and the number of its findings per
 * severity (indexed SEV_INFO .. SEV_CRITICAL). */
typedef struct policy_tally {
	const char *policy;
	int64_t sev[3];
} policy_tally;
/* The rows n findings call for, in the order their policies first come, into
 * out (room for n); their number. A finding of no known severity counts in
 * none. */
size_t findings_per_policy(const finding_row *rows, size_t n, policy_tally *out);
/* The finding_policies rows of submission id: written for r, deleted for
 * what its column holds (before the column changes). false with s->err. */
bool findings_policies_insert(store *s, int64_t id, const eval_result *r);
bool findings_policies_delete(store *s, int64_t id);

/* ---- verify_tables.c: the tables against the events, for audit_verify ---- */
typedef struct table_check table_check;
/* A check of s's tables; NULL when out of memory (s->err says so). */
table_check *tables_begin(store *s);
/* Takes the next event of the chain, its hash checked; false when out of
 * memory (s->err). */
bool tables_event(table_check *t, int64_t seq, const char *actor, const char *event,
    const char *subject, const char *details);
/* Once the chain holds: the first event that contradicts those before it
 * (a decision about a submission never created), else the first row of
 * the tables that differs from what the events say, read once each, in
 * r (r->ok false); false on a read error (s->err). */
bool tables_finish(table_check *t, verify_result *r);
/* While tables_finish reads the tables, fn(ctx) is called every few
 * hundred rows (audit verify --full keeps its signature workers fed). */
void tables_on_rows(table_check *t, void (*fn)(void *ctx), void *ctx);
void tables_free(table_check *t);
/* The statements that read the tables checked, NULL-terminated. */
extern const char *const tables_read[];

/* ---- schema.c: tables, triggers, migrations ---- */
bool schema_create(sqlite3 *db, char *err, size_t errlen);
/* The schema as arbiter made it at version (1 .. STORE_SCHEMA_VERSION): how
 * the tests of a migration make a store as it was before it. */
bool schema_create_version(sqlite3 *db, int version, char *err, size_t errlen);
/* Brings an older schema up to STORE_SCHEMA_VERSION; refuses a newer one.
 * dir is the store's directory: a step may need its signing key. */
bool schema_migrate(sqlite3 *db, const char *dir, char *err, size_t errlen);
/* Tells the front end's listener, if any (store_on_notice). */
void store_notice(const char *message);

/* ---- what the operations (ops_*.c) are made of: data/ alone calls these ---- */
#include "ops.h"

typedef struct decision_req {
	const char *kind;               /* "approve", "reject" or "override" */
	const char *reviewer;
	bool reviewer_admin;
	bool ack;                       /* approve: warnings acknowledged */
	const char *text;               /* the note, reason or justification */
	int64_t expires_s;              /* override: asked duration; 0 the default */
} decision_req;
typedef struct decision_plan {
	int64_t id;
	char digest[65];                /* the document's, named by the decision's event; "" none */
	char status[16];                /* as it read */
	char tamper[320];               /* OUT_TAMPERED: how the row differs from the chain */
	/* override: the strictest terms of the deny findings */
	int denies, approvals, given;   /* given: approvals with this one */
	bool needs_admin, complete;
	int64_t max_duration;           /* seconds, 0: none */
	char max_policy[128];           /* the policy that sets it */
	int64_t expires_ms;
} decision_plan;
/* In the caller's write transaction: whether q may decide submission id
 * now; a refusal's reason goes to why, an error's to s->err. */
outcome decision_check(store *s, const settings *c, int64_t id, const decision_req *q,
    decision_plan *p, char *why, size_t len);
/* Records the checked decision, the submission's new status and the audit
 * event (decision.approve, decision.reject, override.partial, override.grant). */
bool decision_record(store *s, const decision_req *q, const decision_plan *p);

/* ---- evidence_store.c: a submission's row against its signed events ---- */
/* Whether the signed events about submission want->id prove what want says
 * (evidence_judge), under the store's key: 1 with, when events is given,
 * the JSON array of those events (the deciding one, then its
 * submission.create when it names no digest) in events; 0 not, with why;
 * -1 a store failure (s->err). */
int evidence_check(store *s, const evidence_want *want, strbuf *events, char *why, size_t len);
/* The same for submission id as its row reads now (its status, into
 * status, its digest and expiry); with allowing_only, a status that does
 * not allow is 1 with nothing checked and events emptied. -2: no such
 * submission. */
int evidence_of(store *s, int64_t id, bool allowing_only, strbuf *events, char status[16],
    char *why, size_t len);
/* The reviewers whose override approvals (override.partial events) of
 * submission id since its last evaluation hold under the store's key, name
 * its digest (or none: written before decisions named one) and have not
 * expired: how many (-1 error); *mine when who is one of them; *earliest
 * the earliest expiry among them (Unix ms, 0: none). */
int evidence_partials(store *s, int64_t id, const char *digest, const char *who, bool *mine,
    int64_t *earliest);
/* Whether digest, computed from the document submission id keeps, is the
 * one its signed submission.create names (one created before events named
 * digests: row_digest, the one a migration computed): 1; 0 not, with why;
 * -1 a store failure (s->err). What a reevaluation checks before it
 * evaluates that document. */
int evidence_document(store *s, int64_t id, const char *digest, const char *row_digest,
    char *why, size_t len);

/* ---- identities.c: logins, uids and tokens (PRODUCT.md section 9) ---- */
/* A login or uid and a token hash as stored: what reaches an identity. */
typedef struct identity_map {
	char login[256];                /* "" none */
	long uid;                       /* -1 none */
	char token_hash[65];            /* SHA-256 hex; "" none */
} identity_map;
/* A new token (TOKEN_CHARS: "arbiter_" and base64url) and its hash. */
void token_new(char token[TOKEN_CHARS + 1], char hash[65]);
/* The SHA-256 of token, hex. */
void token_hash(const char *token, char hash[65]);
/* Whether token has the form token_new gives. */
bool token_well_formed(const char *token);
/* The login of uid, "" (false) when it has none. */
bool login_of_uid(long uid, char *login, size_t len);
/* m from a login (resolved to its uid; one that does not exist is kept as
 * a login alone unless login_must_exist) or a uid (its login, if any, kept
 * too) or neither (m empty). false: why. */
bool mapping_resolve(const char *login, long uid, bool login_must_exist, identity_map *m,
    char *why, size_t len);
/* Who (an agent not revoked, or a reviewer) has m's uid or login: 1 with
 * "agent NAME" or "reviewer NAME" in who; 0 none; -1 error (s->err). */
int mapping_holder(store *s, const identity_map *m, char *who, size_t len);
/* Whether name (any case) is an agent's or a reviewer's: 1 with "an agent"
 * or "a reviewer" in who; 0 no; -1 error. */
int name_holder(store *s, const char *name, char *who, size_t len);
/* What m (and a token, a rate) reach an identity by, for a message:
 * "uid 1001 (login ci), a bearer token". */
void identity_describe(const identity_map *m, bool token, int rate, char *out, size_t len);
/* In the caller's transaction: OUT_OK when nobody holds m's login or uid,
 * else rolled back and OUT_CONFLICT naming who does (ops_agent.c). */
outcome identity_map_check(store *s, const identity_map *m, op_reply *r);
typedef struct found_identity {
	int kind;                       /* ID_AGENT or ID_REVIEWER */
	char name[65];
	long uid;                       /* -1: none */
	char login[256];                /* "": none */
	bool live;                      /* not revoked, not disabled */
	bool admin;
	int rate;
} found_identity;
/* The identities reached by uid, or by login (the uid's login, NULL: none)
 * where no uid was recorded: revoked agents are not, disabled reviewers are.
 * At most 2 (more than one is an error of the caller's to refuse); -1 error. */
int identity_by_uid(store *s, long uid, const char *login, found_identity out[2]);
/* The identity whose token is token (revoked or disabled too): 1, 0 none,
 * -1 error. */
int identity_by_token(store *s, const char *token, found_identity *out);

/* ---- agents.c: the agents table ---- */
/* In the caller's transaction: the row and agent.add (details: login, uid,
 * token true or false, rate; never the token). rate 0: none. */
bool agent_insert(store *s, const char *actor, const char *name, const identity_map *m,
    int rate);
/* 1 with *revoked set, 0 no such agent, -1 error. */
int agent_state(store *s, const char *name, bool *revoked);
/* In the caller's transaction: revoked now, audited as agent.revoke. */
bool agent_revoke(store *s, const char *actor, const char *name);
/* Every agent, by name, into a. */
bool agent_rows(store *s, arena *a, agent_view **items, size_t *n);

/* In the caller's transaction: the row (with m's login, uid and token hash;
 * NULL: none), reviewer.add, and the secret in users.oath (last, so that
 * nothing before it can fail after it). */
bool reviewer_add(store *s, const char *actor, const char *name, bool admin,
    const identity_map *m, const unsigned char key[REVIEWER_KEY_BYTES]);
/* In the caller's transaction: disabled, audited, its secret removed. */
bool reviewer_disable(store *s, const char *actor, const char *name);

/* ---- reviewer_state.c: an admin's changes to an enrolled reviewer, each
 * in the caller's transaction with its audit event; the secret, when there
 * is one, is written to users.oath last ---- */
/* Enabled again with a new secret (key), its failures and lockout forgotten,
 * and its token hash set to token_hash (NULL: none): reviewer.enable. */
bool reviewer_enable(store *s, const char *actor, const char *name, const char *token_hash,
    const unsigned char key[REVIEWER_KEY_BYTES]);
/* Its lockout ended (locked_until: the end it had, NULL none) and its
 * failures forgotten: reviewer.unlock. */
bool reviewer_unlock(store *s, const char *actor, const char *name, const char *locked_until);
/* A new secret (key), with its failures, lockout and last step forgotten:
 * reviewer.reset. */
bool reviewer_reset(store *s, const char *actor, const char *name,
    const unsigned char key[REVIEWER_KEY_BYTES]);
/* Its role: reviewer.role (details: role and was). */
bool reviewer_set_role(store *s, const char *actor, const char *name, bool admin, bool was);

bool users_secret(store *s, const char *name, unsigned char key[REVIEWER_KEY_BYTES]);
bool users_add(store *s, const char *name, const unsigned char key[REVIEWER_KEY_BYTES]);
bool users_remove(store *s, const char *name);

/* ---- codes.c: checking a reviewer's code (see its design note) ---- */
enum { CODE_ORIGIN_MAX = 96 };
/* Who is trying a code, as failures are counted and lockouts hold: given
 * (through the server, the caller's identity), or NULL: "uid N", this
 * process's. */
void code_origin(const char *given, char out[CODE_ORIGIN_MAX]);
/* Records, in a transaction of its own, an attempt of name's code from
 * origin (NULL: code_origin's) as a failure until code_verify finds it
 * right, then opens the write transaction the code is checked in. false with
 * *recorded false: the attempt could not be recorded (s->err), and the code
 * must not be checked; with *recorded true: the transaction did not open. */
bool code_attempt_begin(store *s, const char *name, const char *origin, bool *recorded);
enum { CODE_OK, CODE_WRONG, CODE_REPLAY, CODE_LOCKED, CODE_UNKNOWN, CODE_DISABLED, CODE_ERROR };
typedef struct code_check {
	char why[256];                  /* why it was refused */
	int64_t step;                   /* the step accepted */
	int64_t locked_until_ms;
	bool admin;
} code_check;
/* Checks name's code from origin in the transaction code_attempt_begin
 * opened. CODE_OK: the step is recorded as used and the attempt is no
 * failure, both in that transaction. A refusal ends it and is recorded (and
 * audited) in a transaction of its own: a wrong or replayed code stays a
 * failure and may lock name out from origin. CODE_ERROR: s->err. */
int code_verify(store *s, const settings *c, const char *name, const char *origin,
    const char *code, code_check *out);
/* The end of name's last lockout in force, from any origin (Unix ms; 0:
 * none). */
bool code_lockout_end(store *s, const char *name, int64_t *until_ms);
/* In the caller's transaction: forgets name's failures and lockouts from
 * every origin (an unlock, a new secret). */
bool code_forget(store *s, const char *name);

/* In the caller's transaction: records the files as the next version, makes
 * them read-only and audits event (store.init or policy.pin). */
bool integrity_pin(store *s, const char *actor, const char *justification, const char *event,
    int *version);

/* ---- submissions.c: storing one submission (ops_submit.c batches them) ---- */
/* In the caller's transaction: evaluates sub and stores it with its
 * findings, quota uses and audit event. A ref seen before with the same
 * content is the existing submission (out->existing, nothing written); with
 * different content OUT_CONFLICT. Failures: the outcome, s->err says why. */
outcome store_submit(store *s, const policy_set *ps, int policy_version, const submission *sub,
    const eval_options *o, arena *scratch, const char *actor, eval_result *r, stored *out);

/* ---- reevaluate.c ---- */
/* In the caller's transaction: evaluates submission id (pending or blocked)
 * again under ps (policy version `version`), replaces its findings, status and
 * modifications, and audits submission.reevaluate. Its own quota usage does not count
 * against it. *before is the status it had. Refusals and failures: the
 * outcome, with the message in s->err; OUT_TAMPERED when the stored
 * document is not the one its signed submission.create names (s->err says
 * how, for op_tamper_record). */
outcome store_reevaluate(store *s, const policy_set *ps, int version, int64_t id,
    const eval_options *o, const char *actor, char before[16], eval_result *r);

/* ---- user_json.c: a JSON object a user gives, kept in an event's details ---- */
typedef struct user_json_error {
	char message[400];      /* "FILE:LINE:COL: what is wrong" */
	int line, col;          /* where, when known; else 0 */
	bool too_large;         /* well formed, but over max; else malformed */
} user_json_error;
/* The JSON object text (len bytes, read from file) as a tree, or NULL with
 * e filled: malformed, not an object, or over max bytes as the audit log
 * keeps it (compact, keys sorted). what names it in messages ("the
 * details"). */
struct json_t *user_object_read(const char *file, const char *text, size_t len, size_t max,
    const char *what, user_json_error *e);

/* ---- audit_files.c: writing the checkpoint and the report (ops_audit.c) ---- */
/* Audits audit.checkpoint (own transaction), then writes path (store id,
 * head seq and hash, time) and path.minisig; *seq and hash are the head it
 * records. false: the reason in err. */
bool audit_write_checkpoint(store *s, const char *actor, const char *path, int64_t *seq,
    char hash[65], char *err, size_t errlen);
/* Audits audit.export (own transaction), then writes the report of one
 * snapshot to path (through a temporary file renamed into place) and
 * path.minisig. r is the verification the report records: a log that fails
 * it is still exported, with r->ok false. progress (or NULL) hears of the
 * two passes over the log, reading and verifying. false: the reason in err. */
bool audit_write_export(store *s, const char *actor, const char *path, verify_result *r,
    audit_progress progress, void *ctx, char *err, size_t errlen);

/* ---- ops_common.c: the steps the operations share ---- */
/* Sets r's outcome and message; returns out. */
outcome op_say(op_reply *r, outcome out, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* A store failure: rolls back, OUT_BUSY (locked) or OUT_IO_ERROR with s->err. */
outcome op_failed(store *s, op_reply *r);
/* Clears r, loads the signing key and opens the write transaction. */
outcome op_begin(store *s, op_reply *r);
/* in with its actor as names are compared: lower-cased into name
 * (identity_name); OUT_BAD_INPUT when it is not a name. */
outcome op_named(const op_auth *in, op_auth *out, char name[IDENTITY_NAME_MAX + 1],
    op_reply *r);
/* op_begin for an operation that checks auth's code: when one was given, its
 * attempt is recorded first (code_attempt_begin), and a store that cannot
 * record it refuses the code unchecked (OUT_CODE_REFUSED). */
outcome op_begin_code(store *s, const op_auth *auth, op_reply *r);
/* Commits a refusal whose record must stay (an audited refusal); returns out. */
outcome op_refuse_committed(store *s, op_reply *r, outcome out);
/* Whether actor is an enabled reviewer (with admin_only, an admin: what a
 * refusal names as refusal_reason). A refusal is audited as code.failure and
 * committed. */
outcome op_actor(store *s, const char *actor, bool admin_only, const char *refusal_reason,
    reviewer *who, op_reply *r);
/* Verifies auth's code in the transaction op_begin_code opened:
 * OUT_UNAUTHENTICATED with code_needed (rolled back) when there is none; a
 * refusal ends the transaction, recorded with its audit event in one of its
 * own (codes.c). *admin (may be NULL): the code proved an admin. */
outcome op_code(store *s, const settings *cfg, const op_auth *auth, op_reply *r, bool *admin);
/* Commits; returns r->out, or the failure. */
outcome op_commit(store *s, op_reply *r);

#endif
