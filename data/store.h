/*
 * store.h: the public interface of arbiter's SQLite store.
 *
 * The store is a .arbiter directory: config.yaml, policies/, arbiter.db
 * (SQLite, WAL), keys/ (the Ed25519 audit key pair) and users.oath. Every
 * state change runs in one write transaction (store_begin .. store_commit)
 * together with its audit event, so a change is never without its event and
 * an event never without its change. data/ knows SQL but not curses.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef ARBITER_STORE_H
#define ARBITER_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/engine.h"

#define STORE_SCHEMA_VERSION 17

struct json_t;

/* A store: opaque outside data/ (data/store_impl.h has its fields). */
typedef struct store store;

/* ---- init.c: creating a store ---- */
typedef struct named_text {
	const char *name, *text;
} named_text;
/* Creates DIR/.arbiter with its config, the given policy files (pinned as
 * version 1), the database, the key pair and an empty users.oath, and
 * audits store.init. Refuses to overwrite a store. */
bool store_init(const char *dir, const named_text *policies, size_t npolicies, const char *actor,
    char *err, size_t errlen);

/* ---- modes.c: a store is its owner's alone (PRODUCT.md section 1) ---- */
/* Whether every file of the store at dir is the caller's and no looser than
 * init makes it (directories and private files nothing for others, config.yaml,
 * the policy files and keys/audit.pub not writable by others); false with
 * one line in err naming the first file that is not and the command that
 * fixes it. Only the files' status is read. */
bool store_private(const char *dir, char *err, size_t errlen);
/* Whether the directory of a server's socket at socket_path is the caller's
 * or root's and writable by nobody else; false with the line in err. */
bool socket_dir_private(const char *socket_path, char *err, size_t errlen);

/* ---- store.c: the connection and its transactions ---- */
/* Opens the store at the .arbiter directory dir, once store_private said
 * it is the caller's alone; NULL with a message in err. */
store *store_open(const char *dir, char *err, size_t errlen);
/* Who hears that opening a store does long work first: the upgrade of an
 * older database to this arbiter's schema (a version 14 store of a million
 * submissions takes about half a minute). The front end's stderr; NULL, the
 * default, nobody. */
typedef void (*store_notice_fn)(const char *message);
void store_on_notice(store_notice_fn fn);
/* remote.c: the store of the running server that o (data/client.h) names,
 * whose operations (ops.h) the server then runs: the same calls and
 * results as a store opened here. NULL with the reason in err; *silent is
 * set when no server answered at all (nothing listens there). */
struct client_options;
store *store_connect(const struct client_options *o, bool *silent, char *err, size_t errlen);
/* Another connection to the same store (the same server, the same
 * options), for a second thread: a connection serves one thread at a time.
 * NULL with the reason in err. */
store *store_again(const store *s, char *err, size_t errlen);
/* Through a server: the name the server knows the caller by (a reviewer's,
 * an agent's, or for the store's owner the server's login). NULL on a store
 * opened here. */
const char *store_caller(const store *s);
/* Whether s is reached through a server (store_connect). */
bool store_remote(const store *s);
void store_close(store *s);
/* Tunes s for many writes in a row (submit of a batch): once its log has
 * reached 16 MiB it is copied into the database on a thread of its own
 * (store_copy_log_aside, finished by s at 64 MiB), and the page cache stays
 * at 16 MiB so that a stream of any length is submitted in flat memory
 * under 64 MB. */
void store_bulk(store *s);
/* At each commit of s (store_bulk's) that has audit events to sign, once
 * all of them are signed (by the signing thread and the writer together):
 * what remains of the commit, writing the events and the log and syncing
 * it, is the writer's alone, and leaves the other cores idle; fn(ctx, true)
 * then runs, on the writer's thread, so that the caller may give them work
 * of its own (submit reads ahead), and fn(ctx, false) when any commit
 * ends, committed or not. NULL: nothing runs. */
void store_on_signed(store *s, void (*fn)(void *ctx, bool alone), void *ctx);
/* Tunes a connection that a server keeps open: a page cache of cache_kib,
 * and its audit events signed alongside as soon as two wait. */
void store_serving(store *s, int cache_kib);
/* Copies s's log into the database on a thread of its own, with a second
 * connection (log_copier.c): s's commits no longer checkpoint, and one
 * that leaves the log at wake_pages frames or more wakes that thread. The
 * writer then calls store_log_finish between transactions, which copies
 * what the last copy aside left (and, with finish_pages > 0, whatever is
 * left once the log reaches finish_pages), so that its next transaction
 * writes the log from its beginning. report(ctx, message), if not NULL,
 * is told of a failed copy, on either thread. The thread stops when s
 * closes. False with the reason in err. */
bool store_copy_log_aside(store *s, int wake_pages, int finish_pages,
    void (*report)(void *ctx, const char *msg), void *ctx, char *err, size_t errlen);
void store_log_finish(store *s);
/* Copies the log into the database without waiting for the writer or the
 * readers (SQLite's passive checkpoint: what a reader still needs, or what
 * was committed meanwhile, waits for the next one); *whole says whether it
 * copied the whole log, after which the writer's next transaction writes
 * the log again from its beginning instead of making it longer. */
bool store_checkpoint(store *s, bool *whole);
/* Loads the signing key (needed to append audit events). */
bool store_load_signing_key(store *s);
/* BEGIN IMMEDIATE: takes the write lock first, retrying while busy. */
bool store_begin(store *s);
bool store_commit(store *s);
void store_rollback(store *s);
/* The last failure's message, for the caller to print ("" when none): one
 * error style, as sqlite3_errmsg. */
const char *store_errmsg(const store *s);
/* The .arbiter directory, and the store's random id (hex). */
const char *store_dir(const store *s);
const char *store_id(const store *s);
/* Whether a write transaction is open (a failure may have rolled it back). */
bool store_in_transaction(store *s);

/* ---- times.c: times as text ---- */
/* A time (now_ms(), engine/clock.c) as RFC 3339 UTC with milliseconds. */
void format_time(int64_t ms, char out[32]);
/* Parses RFC 3339 ("2026-11-21T07:03:12.345Z", "2026-11-21T09:03:12+02:00",
 * or a date) or a duration ago ("24h"); false when it is neither. */
bool parse_time(const char *s, int64_t *ms);

/* ---- config.c: config.yaml ---- */
typedef struct settings {
	bool enforcement, fail_closed;
	bool approve_requires_code;
	int justification_min_chars;
	int64_t override_default_duration, session_idle;        /* seconds */
	int totp_window, totp_max_failures;
	int64_t totp_lockout;                                   /* seconds */
	/* server: (PRODUCT.md section 9) */
	int64_t max_body, max_batch;    /* bytes: one document, a JSON Lines batch */
	int64_t idle_timeout;           /* seconds */
	int max_connections;
	char socket[256], socket_group[64];     /* "": the default, none */
	int64_t approval_ttl;   /* hook.approval_ttl, seconds: how long an approval or a
	                         * rejection answers for the same call (op_submission_match) */
	/* audit: automatic checkpoints (checkpoints.c) */
	int checkpoint_events, checkpoint_minutes;
	char checkpoint_dir[1024];      /* relative to the store directory, or absolute */
	char checkpoint_command[1024];  /* "": none */
	unsigned char sha256[32];       /* of the config.yaml bytes these were read from */
} settings;
void settings_default(settings *c);
/* Reads config.yaml; errors (FILE:LINE:COL) go to errs: fail closed, no
 * silent defaults for a setting that is present but wrong. */
bool store_settings(store *s, settings *c, diags *errs);
/* The same for the store directory dir, without opening the store (where
 * its server listens). */
bool settings_read(const char *dir, settings *c, diags *errs);
/* Audits enforcement.toggle when enforcement.enabled differs from what the
 * last such event recorded (own transaction). */
bool enforcement_audit(store *s, bool enabled, const char *actor);

/* ---- integrity.c: the pinned policy set (PRODUCT.md section 5) ---- */
typedef struct integrity {
	int version;            /* the newest pinned version */
	bool tampered;          /* the files differ from it */
	char what[768];         /* "policies/x.yaml edited, config.yaml edited" */
	char digest[65];        /* SHA-256 of the files as they are now */
} integrity;
/* ---- policy_trees.c: the policy set, its files' trees kept ---- */
/* The store's policies/ as policy_set_load reads it, each file's tree read
 * back from the store's policies.cache when that holds one for the file's
 * bytes under a tag of the signing key (loaded first; without it every file
 * is parsed), and the cache written again when a file had to be parsed. */
policy_set *store_policies_load(store *s, diags *errs);

/* Compares config.yaml and policies/ with the newest pinned version. */
bool integrity_check(store *s, integrity *out);
/* The same for what a command actually loaded: the bytes of config.yaml its
 * settings c were parsed from and, unless ps is NULL, the policy files of ps
 * as they were read (else policies/ is read again). Comparing the bytes in
 * use, not a second read of the files, leaves no gap for a swap between the
 * check and the use. */
bool integrity_check_loaded(store *s, const policy_set *ps, const settings *c, integrity *out);
/* While the store is tampered, settings read from an unpinned config.yaml
 * must not loosen code checking or how long an approval answers for a call:
 * the stricter of them and the defaults. */
void settings_clamp(settings *c);
/* Audits policy.tamper once per distinct tampered set of files (own
 * transaction); true when there is nothing to audit. */
bool integrity_audit_tamper(store *s, const integrity *in, const char *actor);
/* [{version, created_at, actor, justification, files}], oldest first. */
struct json_t *integrity_versions(store *s);

/* ---- reviewers.c: reviewers and users.oath (PRODUCT.md section 4) ---- */
enum { REVIEWER_KEY_BYTES = 20 };
typedef struct reviewer {
	char name[65];                  /* as enrolled: users.oath's name for them */
	bool admin, disabled;
	int64_t last_step;              /* the last time step accepted */
} reviewer;
/* The reviewer a name (lower-cased, identity_name) is: one enrolled under it
 * in any case. 1 found, 0 none, -1 error (s->err). */
int reviewer_get(store *s, const char *name, reviewer *out);
/* Enabled admins (any: every reviewer ever enrolled); -1 on error. */
int reviewer_admins(store *s, bool any);
/* [{name, role, enrolled, last_used, locked_until, disabled, login, uid,
 * token (whether one is set)}] by name. */
struct json_t *reviewer_list(store *s);
/* ---- decisions.c: approve, reject, override (PRODUCT.md section 4) ---- */
/* For a blocked submission: the approvals given towards an override since
 * its last evaluation, and the approvals it needs (0 and 0 when it may not
 * be overridden). */
bool override_progress(store *s, int64_t id, int *given, int *required);

/* ---- keys.c: the Ed25519 key pair in minisign's formats ---- */
typedef struct keypair {
	unsigned char sk[64], pk[32];
	unsigned char keyid[8];
} keypair;
/* The store's first public key, in keys/ beside audit.pub for as long as the
 * store lives: audit verify starts from it (keyring.c). */
#define KEYS_FIRST "audit-1.pub"
/* Creates keys/ with a new pair (audit.key 0600, audit.pub 0644) and the
 * first key's own copy, KEYS_FIRST. */
bool keys_generate(const char *dir, char *err, size_t errlen);
/* A new pair into kp, written as keys/audit.key SUFFIX and keys/audit.pub
 * SUFFIX (a rotation's ".new"); refuses to overwrite either. */
bool keys_write_pair(const char *dir, const char *suffix, keypair *kp, char *err, size_t errlen);
/* A public key file (0644, refusing to overwrite) in minisign's format. */
bool keys_write_public(const char *path, const unsigned char pk[32],
    const unsigned char keyid[8], char *err, size_t errlen);
/* A public key as minisign's one line (base64 of "Ed", the id and the key:
 * what `minisign -P` takes), and back; the parser takes len bytes, hostile. */
void keys_public_line(const unsigned char pk[32], const unsigned char keyid[8], char out[57]);
bool keys_parse_public_line(const char *line, size_t len, unsigned char pk[32],
    unsigned char keyid[8]);
/* A key id as minisign shows it: 16 upper-case hex digits. */
void keys_id_hex(const unsigned char keyid[8], char out[17]);
bool keys_load_secret(const char *dir, keypair *kp, char *err, size_t errlen);
/* Reads a public key in minisign's format (audit.pub, or any --pubkey FILE). */
bool keys_load_public(const char *path, unsigned char pk[32], unsigned char keyid[8],
    char *err, size_t errlen);
/* The parsers of the two, over a key file's text (len bytes, hostile: any
 * --pubkey FILE); false with the reason in err. */
bool keys_parse_public(const char *text, size_t len, unsigned char pk[32],
    unsigned char keyid[8], char *err, size_t errlen);
bool keys_parse_secret(const char *text, size_t len, keypair *kp, char *err, size_t errlen);
/* Writes FILE.minisig for the bytes of FILE, verifiable by `minisign -Vm`. */
bool keys_sign_file(const keypair *kp, const char *path, const char *trusted_comment,
    char *err, size_t errlen);
/* A key id as minisign shows it (16 upper-case hex digits). */
void keys_id_hex(const unsigned char keyid[8], char out[17]);

/* ---- minisig.c: reading and checking FILE.minisig ---- */
typedef struct minisign_signature {
	bool prehashed;                 /* "ED": over the file's BLAKE2b-512; "Ed": the file */
	unsigned char keyid[8], sig[64], global[64];
	char comment[1024];             /* the trusted comment */
} minisign_signature;
/* Reads a .minisig file's text (hostile, len bytes); false with why. */
bool minisig_parse(const char *text, size_t len, minisign_signature *out, char *why,
    size_t whylen);
/* Whether m is pk's signature of data (len bytes), its trusted comment
 * included; false with why (another key: named by its id against keyid,
 * pk's own). */
bool minisig_check(const minisign_signature *m, const unsigned char *data, size_t len,
    const unsigned char pk[32], const unsigned char keyid[8], char *why, size_t whylen);

/* ---- audit.c: the hash-chained, signed event log ---- */
typedef struct audit_event {
	int64_t seq;
	char ts[32];
	const char *actor, *event, *subject, *details;
	char prev[65], hash[65], sig[129];      /* hex */
} audit_event;

/* Appends one event inside the caller's transaction. details is a JSON object
 * (NULL: {}); the event's hash chains to the current head. */
bool audit_append(store *s, const char *actor, const char *event, const char *subject,
    struct json_t *details);
/* The same with details already written as a JSON object (compact, keys
 * sorted), for the hot path of submit. */
bool audit_append_text(store *s, const char *actor, const char *event, const char *subject,
    const char *details);
/* Writes one event row as given (audit_append and the signer's flush). */
bool audit_insert(store *s, int64_t seq, const char *ts, const char *actor, const char *event,
    const char *subject, const char *details, const unsigned char prev[32],
    const unsigned char hash[32], const unsigned char sig[64]);

/* ---- keyring.c: the keys of a chain, through its key.rotate events ---- */
/* Key 1 signs from seq 1; a key.rotate event, signed by the key in force
 * at its seq, names the next key, in force from the seq after it. */
typedef struct ring_key {
	int64_t from;                   /* the first seq it signs */
	unsigned char pk[32], keyid[8];
} ring_key;
typedef struct keyring {
	ring_key *keys;                 /* oldest first; keys[0] from seq 1 */
	size_t n;
	int64_t followed;               /* the seq of the last key.rotate followed; 0: none */
} keyring;
/* A ring of one key, the chain's first. */
void keyring_init(keyring *k, const unsigned char pk[32], const unsigned char keyid[8]);
void keyring_free(keyring *k);
/* Follows the key.rotate event e, the next after k->followed: it must hash
 * to its hash, carry the signature of the key in force at its seq and name
 * a key (key_rotation_named); false with why naming its seq. */
bool keyring_follow(keyring *k, const audit_event *e, char *why, size_t len);
/* The key in force at seq (the last key from the last rotation on). */
const ring_key *keyring_at(const keyring *k, int64_t seq);
/* The newest key. */
const ring_key *keyring_last(const keyring *k);
/* The key of the ring whose id is keyid; NULL: none. */
const ring_key *keyring_by_id(const keyring *k, const unsigned char keyid[8]);
/* A key as messages name it: its id, or "the first key" when it was given
 * without one (audit_verify's pk). */
void ring_key_name(const ring_key *key, char out[24]);
/* The key a key.rotate event's details name ({"keyid": ID, "pubkey":
 * LINE, "was": ID}: LINE as keys_public_line writes it, ID its key id as
 * keys_id_hex writes it); false when they name none. */
bool key_rotation_named(const char *details, unsigned char pk[32], unsigned char keyid[8]);
/* Whether e, as read, holds under the ring: its hash recomputes and the
 * key in force at its seq signs it (audit_event_verify). */
void keyring_event_verify(const keyring *k, const audit_event *e, bool *hash_ok, bool *sig_ok);

/* ---- keyring_store.c: a store's keyring ---- */
/* The store's first public key: keys/audit-1.pub; a store made before it was
 * kept has none, and then keys/audit.pub is its first key while its chain
 * holds no key.rotate event. false with the reason in err. */
bool store_first_key(store *s, unsigned char pk[32], unsigned char keyid[8], char *err,
    size_t errlen);
/* Builds k from the first key pk (NULL: store_first_key's) by following the
 * chain's key.rotate events, oldest first: 1; 0 when one does not hold, with
 * its seq in *bad_seq and why (k then holds the keys before it); -1 a store
 * failure (s->err). */
int keyring_load(store *s, const unsigned char *pk, const unsigned char *keyid, keyring *k,
    int64_t *bad_seq, char *why, size_t len);
/* The store's own ring (from store_first_key), brought up to date with
 * the rotations appended since it was last asked for, kept with the
 * connection: 1 into *k; 0 a rotation does not hold (why); -1 a failure
 * (why and s->err). */
int store_keyring(store *s, const keyring **k, char *why, size_t len);

/* ---- quota.c: quota usage and history ---- */
/* Stores one use of a quota by submission_id, at at_ms; in the sums that
 * history reads only when counted (the submission's status counts). */
bool quota_record(store *s, int64_t submission_id, const char *name, const char *per,
    double amount, int64_t at_ms, bool counted);
/* Whether a submission with this status counts towards quotas: not when
 * refused (blocked, rejected). */
bool quota_status_counts(const char *status);
/* A submission whose status moved into counting (add) or out of it: its
 * uses added to the sums, or taken out of them. */
bool quota_recount(store *s, int64_t submission_id, bool add);
/* Raises submission id's quota uses to the actual amounts a reported
 * outcome o gives (a member actual_F, for each policy of ps that sums the
 * top-level field F), where that is more: a use of the difference at the
 * use's time, in the sums when counted. *raised counts them. The
 * submission then counts max(estimate, actual) (PRODUCT.md section 3), so
 * its uses must not have been raised already (an outcome is reported once;
 * reevaluate.c raises uses it has just written). */
bool quota_raise_to_actuals(store *s, const policy_set *ps, int64_t id,
    const struct json_t *o, bool counted, int *raised);

typedef struct verify_result {
	bool ok;
	int64_t events;         /* events checked */
	int64_t bad_seq;        /* the first bad event, or 0 */
	char why[256];
	char head[65];          /* the last good hash */
	int64_t head_seq;
	bool tables;            /* the mismatch is a table's row (bad_seq: the event that
				 * says otherwise, 0 none), not the chain's */
} verify_result;
/* Recomputes the chain (which starts with store.init at seq 1), checks the
 * head's signature (through the chain it covers every event) with the key
 * in force there, following the key.rotate events from pk, the chain's
 * first key (NULL: the store's, store_first_key), checks that the chain
 * ends where the signed head record says (audit_head.c) and that the key
 * reached is keys/audit.pub, then the tables against the events
 * (verify_tables.c), all in one snapshot. A rotation not signed by the key
 * in force fails at its seq. */
bool audit_verify(store *s, const unsigned char pk[32], verify_result *r);
/* The same, checking every event's signature with the key in force at its
 * seq, on one thread per online CPU (audit verify --full): also a
 * signature edited alone, which no hash covers. */
bool audit_verify_full(store *s, const unsigned char pk[32], verify_result *r);
/* The signed head record against r, the chain as verified, under pk (the
 * key in force at its seq): on a mismatch r->ok is false with the seq and
 * why (audit_head.c). */
bool audit_head_check(store *s, const unsigned char pk[32], verify_result *r);

/* ---- audit_hash.c: an event's hash and signature, from the event alone ---- */
/* The encoding that is hashed: documented in docs/audit.md. */
void audit_hash(const unsigned char prev[32], int64_t seq, const char *ts, const char *actor,
    const char *event, const char *subject, const char *details, unsigned char out[32]);
/* Checks one event as read under the public key pk: whether its hash is
 * recomputed from its prev and fields, and whether pk signs it. */
void audit_event_verify(const audit_event *e, const unsigned char pk[32], bool *hash_ok,
    bool *sig_ok);

/* ---- evidence.c: the signed event behind a status (PRODUCT.md sections 6, 9) ---- */
/* What a row or an answer says of a submission, to be found in its signed
 * events. */
typedef struct evidence_want {
	int64_t id;
	const char *status;     /* as it reads now: "overridden" until expires_at, then "expired" */
	const char *digest;     /* the document's digest (hex); NULL: none known */
	const char *expires_at; /* an override's expiry as the row or answer says; NULL: none */
} evidence_want;
/* Whether set, the last event that set the submission's status, and (when
 * set names no digest itself) create, its submission.create, hash to their
 * hashes, carry pk's signatures and say what want says: the submission, its
 * status by an event that may set it, an override's expiry (want's, when it
 * names one; ahead while overridden), and the digest; a status that allows
 * needs a signed digest.
 * false with why ("it says approved, but ..."). */
bool evidence_judge(const audit_event *set, const audit_event *create, const keyring *ring,
    const evidence_want *want, char *why, size_t len);
/* Whether set names no digest, so that its submission.create must. */
bool evidence_needs_create(const audit_event *set);
/* The events that set a status, as a list for SQL's IN (...). */
extern const char *const evidence_setters_sql;
/* One event as an answer or audit list --json gives it (audit_event_json),
 * its strings in a, its details as the chain hashed them; false when it
 * lacks a field of a signed event. */
bool evidence_event_read(const struct json_t *o, arena *a, audit_event *e);
/* Whether the answer (a submission's result: id, status, expires_at and
 * "evidence", its signed events, the deciding one first) proves its status
 * under pk for the document of the given digest; false with why. */
bool evidence_answer_judge(const struct json_t *answer, const keyring *ring,
    const char *digest, char *why, size_t len);

/* ---- audit_read.c: reading the audit log (audit list, tail, export) ---- */
typedef struct audit_filter {
	int64_t limit;                  /* the newest N matching events; 0: all */
	const char *event, *actor, *subject;    /* exact matches, or NULL */
	const char *action;             /* a glob: events about submissions (submission.*,
	                                 * decision.*, override.*) whose action matches */
	int64_t since_ms, until_ms;     /* at or after, at or before (Unix ms); 0: no bound */
	int64_t after_seq;              /* only seq > after_seq (tail -f) */
	int64_t before_seq;             /* only seq < before_seq (paging back) */
	bool oldest_first;              /* ascending seq (still the newest N, unless walk) */
	bool walk;                      /* the limit counts in the order read: the first N
	                                 * after after_seq when oldest_first (paging on) */
} audit_filter;
/* Called per event; the strings live until it returns. false stops. */
typedef bool (*audit_visit)(const audit_event *e, void *ctx);
/* Streams the matching events to visit, newest first unless oldest_first. */
bool audit_read(store *s, const audit_filter *f, audit_visit visit, void *ctx);
/* One event as a JSON object: seq, ts, actor, event, subject, details (the
 * object itself), prev, hash, sig, in that order. */
struct json_t *audit_event_json(const audit_event *e);
/* {"events": events, "totals": {info, warning, critical}, "per_action":
 * {ACTION: {runs, blocks}}} from the submission.create events. NULL on error. */
struct json_t *audit_summary(store *s, int64_t events);
/* The hash (hex) of event seq: 1 found, 0 none, -1 error. */
int audit_hash_at(store *s, int64_t seq, char hash[65]);
/* Checks one event as read (audit_event_verify): whether its hash is
 * recomputed from its prev and fields, and whether its signature holds
 * under the store's key in force at its seq (store_keyring; none when the
 * ring cannot be built). */
void audit_event_check(store *s, const audit_event *e, bool *hash_ok, bool *sig_ok);
/* The last seq (0 when the log is empty). */
bool audit_last_seq(store *s, int64_t *seq);
/* PRAGMA data_version: changes when another connection commits. */
bool store_data_version(store *s, int64_t *version);

/* ---- audit_page.c: the console's audit browser ---- */
typedef struct audit_cursor {
	const char *event, *actor, *subject;    /* exact matches, or NULL */
	int64_t seq;            /* start beyond this seq (exclusive); 0: at the end */
	bool older;             /* towards seq 1, newest first; else towards the head */
} audit_cursor;
/* Streams at most limit matching events from the cursor: keyset paging, one
 * index walk per page whatever the size of the log. */
bool audit_page(store *s, const audit_cursor *q, int64_t limit, audit_visit visit, void *ctx);
/* The audit_read filter of such a page. */
void audit_cursor_filter(const audit_cursor *q, int64_t limit, audit_filter *f);
/* Called as a long read goes: rows done so far of total. false stops it. */
typedef bool (*audit_progress)(void *ctx, int64_t done, int64_t total);
/* Runs run(s, arg), calling progress about every 1% of total with the rows
 * that full-table scans on s have stepped over meanwhile (NULL: no calls).
 * Stopped by progress: false with "stopped" in s->err. */
bool audit_watched(store *s, int64_t total, audit_progress progress, void *ctx,
    bool (*run)(store *s, void *arg), void *arg);
/* audit_verify, watched: total is the last seq. */
bool audit_verify_progress(store *s, const unsigned char pk[32], verify_result *r,
    audit_progress progress, void *ctx);

/* ---- audit_files.c: the signed checkpoint and export report ---- */
/* DIR/arbiter-WHAT-2026-11-21-070312.EXT, for now (dir NULL: no directory). */
void audit_file_name(const char *dir, const char *what, const char *ext, char *out, size_t len);

/* ---- checkpoints.c: checkpoint files, written, checked, kept up to date ---- */
/* What a checkpoint file records. */
typedef struct audit_checkpoint {
	char store[33];         /* the store id, 32 hex digits */
	int64_t seq;            /* the head's seq, at least 1 */
	char hash[65];          /* its hash, 64 hex digits */
	int64_t time_ms;        /* when it was taken (Unix ms); 0: it says no time */
} audit_checkpoint;
/* Reads a checkpoint file's text (len bytes, as checkpoint_write_file writes
 * it); false when it is not one. */
bool audit_checkpoint_parse(const char *text, size_t len, audit_checkpoint *out);
/* Writes path (store id, seq, hash, time at_ms) and path.minisig, each
 * beside its name and renamed into place. */
bool checkpoint_write_file(const keypair *kp, const char *store_id, const char *path,
    int64_t seq, const char hash[65], int64_t at_ms, char *err, size_t errlen);
/* Whether file, signed in file.minisig by the key of ring in force at its
 * seq (or right after it: a checkpoint of a rotation's head), is a
 * checkpoint of this store that the log (verified up to head_seq) extends:
 * 1 yes, with cp; 0 refused, why says how in one line; -1 an error (why). */
int checkpoint_verify(store *s, const char *file, const keyring *ring, int64_t head_seq,
    audit_checkpoint *cp, char *why, size_t len);
/* Whether a checkpoint is due (PRODUCT.md section 6): the head has moved past
 * the last one's seq, and audit.checkpoint_events events or
 * audit.checkpoint_minutes minutes have passed since it (Unix ms). */
bool audit_checkpoint_due(const settings *c, int64_t last_seq, int64_t last_ms,
    int64_t head_seq, int64_t now);
/* audit.checkpoint_dir, relative to the store directory home; false when
 * it does not fit out. */
bool checkpoint_dir_path(const char *home, const settings *c, char *out, size_t len);
typedef struct checkpoint_scanned {
	char dir[PATH_MAX];
	int found;                      /* checkpoints that hold */
	audit_checkpoint newest;        /* the highest seq among them */
	char newest_file[PATH_MAX + 256];
	bool stale;                     /* a checkpoint is due and none was taken (why) */
	char why[PATH_MAX + 512];       /* a refusal, an error, or the staleness */
} checkpoint_scanned;
/* Every checkpoint in audit.checkpoint_dir through checkpoint_verify, and
 * whether the newest (none: the store's store.init) is older than the
 * interval: 1 all hold; 0 one is refused; -1 an error. */
int checkpoint_scan(store *s, const settings *c, const keyring *ring, int64_t head_seq,
    checkpoint_scanned *out);
/* The last automatic checkpoint's seq and time (Unix ms); none: 0 and the
 * time of store.init. */
bool checkpoint_last(store *s, int64_t *seq, int64_t *at_ms);
typedef struct checkpoint_written {
	char path[PATH_MAX + 64];       /* the file written */
	int64_t seq;
	int64_t last_seq, last_ms;      /* the last automatic checkpoint, this one or another's */
	char err[PATH_MAX + 256];
} checkpoint_written;
/* In a transaction of its own: when a checkpoint is still due (another
 * server may have written one), claims it (checkpoint_claim) and writes it
 * into audit.checkpoint_dir: 1 written; 0 not due; -1 error (err). Not an
 * audit event. */
int checkpoint_auto(store *s, const settings *c, checkpoint_written *out);
/* ---- submissions.c: storing and reading submissions ---- */
/* Appends the result of submission id as submit prints it: one JSON object,
 * its id and policy version first. modifications: as stored (NULL: r's). */
void stored_result_write(strbuf *b, int64_t id, int policy_version, const submission *sub,
    const eval_result *r, const char *modifications);
/* The result of submission id as JSON, as submit printed it but with its
 * status as it is now, rebuilt from its row and its findings (malloc'd; NULL
 * when there is none); *status is set. */
char *store_result_json(store *s, int64_t id, const char **status);
/* The history source for quota rules, reading the store. */
void store_history(store *s, history_source *h);
/* The current policy version (0 when none is pinned). */
int store_policy_version(store *s);

/* ---- queries.c: reading submissions for list, show, wait and stats ---- */
/* One submission. Strings belong to the query: valid during the callback
 * (query_list) or until query_row_done (query_get). */
typedef struct sub_row {
	int64_t id, created_ms;
	int policy_version;
	int counts[3];          /* info, warning, critical */
	const char *ref, *kind, *action, *title, *submitter, *created_at, *decided_at, *expires_at;
	size_t ref_len, title_len, submitter_len;       /* they may hold NUL */
	const char *status;     /* as it reads now: an override past expires_at is "expired" */
	const char *digest;     /* hex; NULL: none (a document a migration could not read) */
	const char *document;   /* canonical JSON; query_get only */
	void *stmt;             /* the query's own */
} sub_row;
/* Whether word is a list --status: a status, waiting, decided or all. */
bool query_status_filter_valid(const char *word);
/* What a listing reads (list, the console's queue, the server's
 * /v1/submissions): every field narrows it, a zero field does not. */
typedef struct sub_filter {
	const char *status;     /* as list --status (query_status_filter_valid); NULL: all */
	const char *kind;       /* exact; NULL: any */
	const char *action;     /* a glob, as policies' actions: (engine/glob.c); NULL: any */
	const char *policy;     /* a glob over policy names: submissions with a finding of
	                         * a policy it matches; NULL: any */
	const char *submitter;  /* exact; NULL: any */
	int64_t since_ms;       /* created at or after (Unix ms); 0: no bound */
	int64_t until_ms;       /* created at or before; 0: no bound */
	const char *search;     /* in title, action, submitter or ref, any case; NULL: none */
	int64_t after;          /* keyset cursor: only ids beyond it in the listing's order; 0: none */
	int64_t limit;          /* at most this many rows; 0: all */
	int order;              /* LIST_QUEUE_ORDER, LIST_OLDEST_FIRST or LIST_NEWEST_FIRST */
} sub_filter;
/* LIST_QUEUE_ORDER: oldest first for pending, blocked and waiting (the order
 * a reviewer works the queue), else newest first. */
enum { LIST_QUEUE_ORDER, LIST_OLDEST_FIRST, LIST_NEWEST_FIRST };
/* Whether a listing by f reads oldest first. */
bool query_list_ascending(const sub_filter *f);
/* Calls fn for the submissions matching f, in its order, until f->limit
 * rows or fn returns false. next (unless NULL) is set to the cursor of the
 * next page, for f->after: the id of the last row given when more match
 * beyond it, else 0. false on error (s->err), also for a status filter that
 * is not one. */
bool query_list(store *s, const sub_filter *f, bool (*fn)(void *ctx, const sub_row *r), void *ctx,
    int64_t *next);
/* Submissions matching a status filter other than all; -1 on error. A
 * stored status (pending, blocked, approved, rejected, allowed) and waiting
 * read status_counts; the others count rows. */
int64_t query_count(store *s, const char *filter);
/* The submission whose id (all digits) or ref is key, with its document:
 * 1 found (call query_row_done), 0 none, -1 error (s->err), -2 a ref that
 * several submitters use (s->err names their submissions: give an id). */
int query_get(store *s, const char *key, sub_row *r);
/* The same among the submissions of submitter ("" those without one; NULL:
 * anyone's, as query_get): a ref names at most one of them. */
int query_get_for(store *s, const char *key, const char *submitter, sub_row *r);
void query_row_done(sub_row *r);
/* The status of submission id as it reads now: 1, 0 none, -1 error. */
int query_status(store *s, int64_t id, char out[16]);
/* The stored result (store_result_json) with the current status, created_at
 * and, when set, decided_at and expires_at; NULL on error. */
struct json_t *query_result(store *s, const sub_row *r);
/* Arrays of objects: the findings, the decisions (reviewer, decision, note,
 * at, expires_at) and the audit events (seq, ts, actor, event, details)
 * whose subject is id. NULL on error. */
struct json_t *query_findings(store *s, int64_t id);
struct json_t *query_decisions(store *s, int64_t id);
struct json_t *query_events(store *s, int64_t id);
/* Statistics over the submissions created at or after since_ms (0: all):
 * {since, submissions, statuses {each status: n}, decided, override_rate,
 * rejection_rate, findings {total, critical, warning, info, policies
 * [{policy, critical, warning, info, total}]}, top_submitters [{submitter,
 * submissions}]} with at most top submitters. NULL on error. */
struct json_t *query_stats(store *s, int64_t since_ms, int top);

#endif
