/*
 * schema.c: the database schema and its migrations.
 *
 * meta holds the schema version and the store id. The audit table is
 * append-only: triggers refuse UPDATE and DELETE, so an edit needs the
 * triggers dropped first, and verification (audit.c) catches that. Findings
 * and quota usage are rows of their own so that the console and quota rules
 * read them with an index, not by parsing stored JSON.
 *
 * Version 2 added quota_totals, the quota usage summed per second. Version 3
 * sums it per second, minute, hour and day (unit 1, 60, 3600, 86400; start
 * is the time in seconds / unit), so that a quota rule reads at most 59
 * seconds, 59 minutes, 23 hours and the window's days, whatever the rate of
 * submissions and the length of the window: quota windows start on a whole
 * second (eval_options.now is in seconds). quota_usage stays the record of
 * what each submission used; quota_totals is derived from it by a trigger.
 * per is the per value, or '' with has_per 0 for a quota without one.
 *
 * Version 4 keeps each finding's override terms, see schema_v4; version 5
 * indexes the audit log by actor for the console's filter; version 6 counts
 * submissions per status (status_counts, kept by triggers). Version 9 stops
 * storing each result whole, see schema_v9; version 10 indexes what list
 * filters by; version 11 adds the identities of the server, see schema_v11;
 * version 12 makes a ref unique per submitter and keeps each submission's
 * digest, see schema_v12; version 13 counts failed codes and keeps lockouts
 * per origin, see schema_v13; version 14 keeps the signed head record and
 * the claim of the automatic checkpoints, see schema_v14; version 15 keeps
 * a submission's findings in its row, see schema_v15; version 16 leaves
 * refused submissions out of the quota sums, see schema_v16; version 17
 * indexes the digests by their first 64 bits, see schema_v17.
 *
 * A new store is made by version 1's schema and then every step in turn, so
 * each step is run by every arbiter init. A step is SQL, which may call a
 * function written in C for what SQL cannot do (a digest), and then may
 * run C of its own in the same transaction (a signature, with the store's
 * key). A step that rebuilds a table (SQLite's way to change a constraint)
 * runs with foreign keys off, as SQLite's procedure for it says, and checks
 * them all before it commits.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

static const char *const schema_v1 =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE policy_versions (\n"
    "  version INTEGER PRIMARY KEY, created_at TEXT NOT NULL, actor TEXT NOT NULL,\n"
    "  justification TEXT, files TEXT NOT NULL);\n"
    "CREATE TABLE submissions (\n"
    "  id INTEGER PRIMARY KEY, ref TEXT UNIQUE, kind TEXT NOT NULL, action TEXT NOT NULL,\n"
    "  title TEXT, submitter TEXT, status TEXT NOT NULL, policy_version INTEGER NOT NULL,\n"
    "  created_at TEXT NOT NULL, created_ms INTEGER NOT NULL, content_hash TEXT NOT NULL,\n"
    "  document TEXT NOT NULL, result TEXT NOT NULL,\n"
    "  info INTEGER NOT NULL, warning INTEGER NOT NULL, critical INTEGER NOT NULL,\n"
    "  decided_at TEXT, expires_at TEXT);\n"
    "CREATE INDEX submissions_status ON submissions (status, id);\n"
    "CREATE INDEX submissions_kind ON submissions (kind, id);\n"
    "CREATE TABLE findings (\n"
    "  id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL REFERENCES submissions (id),\n"
    "  policy TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL, effect TEXT NOT NULL,\n"
    "  overridable INTEGER NOT NULL, message TEXT, detail TEXT, path TEXT, source TEXT);\n"
    "CREATE INDEX findings_submission ON findings (submission_id);\n"
    "CREATE INDEX findings_policy ON findings (policy, severity);\n"
    "CREATE TABLE quota_usage (\n"
    "  policy TEXT NOT NULL, per_value TEXT, amount REAL NOT NULL, at_ms INTEGER NOT NULL,\n"
    "  submission_id INTEGER NOT NULL REFERENCES submissions (id));\n"
    "CREATE INDEX quota_usage_key ON quota_usage (policy, per_value, at_ms);\n"
    "CREATE TABLE reviewers (\n"
    "  name TEXT PRIMARY KEY, role TEXT NOT NULL, enrolled_at TEXT NOT NULL,\n"
    "  disabled INTEGER NOT NULL DEFAULT 0, last_step INTEGER, last_used TEXT,\n"
    "  locked_until TEXT);\n"
    "CREATE TABLE decisions (\n"
    "  id INTEGER PRIMARY KEY, submission_id INTEGER NOT NULL REFERENCES submissions (id),\n"
    "  reviewer TEXT NOT NULL, decision TEXT NOT NULL, note TEXT, at TEXT NOT NULL,\n"
    "  expires_at TEXT);\n"
    "CREATE INDEX decisions_submission ON decisions (submission_id);\n"
    "CREATE TABLE audit (\n"
    "  seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL,\n"
    "  subject TEXT NOT NULL, details TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL,\n"
    "  sig TEXT NOT NULL);\n"
    "CREATE INDEX audit_event ON audit (event, seq);\n"
    "CREATE INDEX audit_subject ON audit (subject, seq);\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n";

/* Version 2: quota usage per second, built from quota_usage and kept up to
 * date by a trigger on it. */
static const char *const schema_v2 =
    "CREATE TABLE quota_totals (\n"
    "  policy TEXT NOT NULL, per_value TEXT, second INTEGER NOT NULL, amount REAL NOT NULL);\n"
    "CREATE INDEX quota_totals_key ON quota_totals (policy, per_value, second);\n"
    "INSERT INTO quota_totals (policy, per_value, second, amount)\n"
    "  SELECT policy, per_value, at_ms / 1000, total(amount) FROM quota_usage\n"
    "  GROUP BY policy, per_value, at_ms / 1000;\n"
    "CREATE TRIGGER quota_usage_totals AFTER INSERT ON quota_usage BEGIN\n"
    "  UPDATE quota_totals SET amount = amount + NEW.amount\n"
    "    WHERE policy = NEW.policy AND per_value IS NEW.per_value AND second = NEW.at_ms / 1000;\n"
    "  INSERT INTO quota_totals (policy, per_value, second, amount)\n"
    "    SELECT NEW.policy, NEW.per_value, NEW.at_ms / 1000, NEW.amount\n"
    "    WHERE NOT EXISTS (SELECT 1 FROM quota_totals WHERE policy = NEW.policy\n"
    "      AND per_value IS NEW.per_value AND second = NEW.at_ms / 1000);\n"
    "END;\n";

/* Version 3: quota usage per second, minute, hour and day. */
static const char *const schema_v3 =
    "DROP TRIGGER quota_usage_totals;\n"
    "DROP TABLE quota_totals;\n"
    "CREATE TABLE quota_totals (\n"
    "  policy TEXT NOT NULL, has_per INTEGER NOT NULL, per TEXT NOT NULL,\n"
    "  unit INTEGER NOT NULL, start INTEGER NOT NULL, amount REAL NOT NULL,\n"
    "  PRIMARY KEY (policy, has_per, per, unit, start)) WITHOUT ROWID;\n"
    "INSERT INTO quota_totals (policy, has_per, per, unit, start, amount)\n"
    "  SELECT policy, per_value IS NOT NULL, ifnull(per_value, ''), unit, at_ms / 1000 / unit,\n"
    "    total(amount)\n"
    "  FROM quota_usage, (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL SELECT 3600\n"
    "    UNION ALL SELECT 86400)\n"
    "  GROUP BY 1, 2, 3, 4, 5;\n"
    "CREATE TRIGGER quota_usage_totals AFTER INSERT ON quota_usage BEGIN\n"
    "  INSERT INTO quota_totals (policy, has_per, per, unit, start, amount)\n"
    "    SELECT NEW.policy, NEW.per_value IS NOT NULL, ifnull(NEW.per_value, ''), unit,\n"
    "      NEW.at_ms / 1000 / unit, NEW.amount\n"
    "    FROM (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL SELECT 3600\n"
    "      UNION ALL SELECT 86400) WHERE true\n"
    "    ON CONFLICT (policy, has_per, per, unit, start) DO UPDATE\n"
    "      SET amount = amount + excluded.amount;\n"
    "END;\n";

/* Version 4: what review needs. Each finding keeps the override terms of its
 * policy (approvals, role, max duration in seconds) as they were when it
 * was evaluated; a submission records when it was last evaluated, so that a
 * partial override given before a reevaluation no longer counts; failed
 * codes are rows, counted within the lockout window. */
static const char *const schema_v4 =
    "ALTER TABLE findings ADD COLUMN approvals INTEGER NOT NULL DEFAULT 1;\n"
    "ALTER TABLE findings ADD COLUMN role TEXT NOT NULL DEFAULT 'reviewer';\n"
    "ALTER TABLE findings ADD COLUMN max_duration INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE submissions ADD COLUMN evaluated_ms INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE decisions ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;\n"
    "CREATE TABLE code_failures (reviewer TEXT NOT NULL, at_ms INTEGER NOT NULL);\n"
    "CREATE INDEX code_failures_key ON code_failures (reviewer, at_ms);\n";

/* Version 5: the audit browser filters by actor. */
static const char *const schema_v5 =
    "CREATE INDEX audit_actor ON audit (actor, seq);\n";

/* Version 6: submissions per stored status, kept by triggers, so that the
 * console's header counts cost one row read at any size. */
static const char *const schema_v6 =
    "CREATE TABLE status_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;\n"
    "INSERT INTO status_counts SELECT status, count(*) FROM submissions GROUP BY status;\n"
    "CREATE TRIGGER submissions_count_insert AFTER INSERT ON submissions BEGIN\n"
    "  INSERT INTO status_counts VALUES (NEW.status, 1)\n"
    "    ON CONFLICT (status) DO UPDATE SET n = n + 1;\n"
    "END;\n"
    "CREATE TRIGGER submissions_count_update AFTER UPDATE OF status ON submissions\n"
    "  WHEN OLD.status IS NOT NEW.status BEGIN\n"
    "  UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;\n"
    "  INSERT INTO status_counts VALUES (NEW.status, 1)\n"
    "    ON CONFLICT (status) DO UPDATE SET n = n + 1;\n"
    "END;\n";

/* Version 7: quota sums are kept by the writer (quota.c), once per sum per
 * transaction, instead of four upserts per use by a trigger. */
static const char *const schema_v7 =
    "DROP TRIGGER quota_usage_totals;\n";

/* Version 8: a new submission's status is counted by the writer too, once
 * per status per transaction (submissions.c); a change of status still by
 * the trigger. */
static const char *const schema_v8 =
    "DROP TRIGGER submissions_count_insert;\n";

/* Version 9: a submission's result is rebuilt from its row and its findings
 * (submissions.c), not stored whole beside them: it repeated them and took
 * as much room again as the document. The modifications it carried, which
 * no other column holds, move to a column of their own (a result that is not
 * JSON, which arbiter never wrote, had none to move). Dropping the column
 * rewrites the table once. */
static const char *const schema_v9 =
    "ALTER TABLE submissions ADD COLUMN modifications TEXT;\n"
    "UPDATE submissions SET modifications = json_extract(result, '$.modifications')\n"
    "  WHERE CASE WHEN json_valid(result) THEN json_type(result, '$.modifications') END\n"
    "    = 'object';\n"
    "ALTER TABLE submissions DROP COLUMN result;\n";

/* Version 10: the filters of list (list.c). Each is an index walked in id
 * order: submissions by action and by submitter, and findings by policy
 * and submission, which replaces findings (policy, severity) and still
 * covers the statistics' findings per policy and severity. An index of a
 * rowid table ends in the rowid already, so submissions_status and
 * submissions_kind, which named id as well and so stored it twice, are made
 * again without it: a fifth smaller, they pay back part of what every
 * insert now writes to the new ones. */
static const char *const schema_v10 =
    "CREATE INDEX submissions_action ON submissions (action);\n"
    "CREATE INDEX submissions_submitter ON submissions (submitter);\n"
    "DROP INDEX findings_policy;\n"
    "CREATE INDEX findings_policy ON findings (policy, submission_id, severity);\n"
    "DROP INDEX submissions_status;\n"
    "CREATE INDEX submissions_status ON submissions (status);\n"
    "DROP INDEX submissions_kind;\n"
    "CREATE INDEX submissions_kind ON submissions (kind);\n";

/* Version 11: identities for the server (PRODUCT.md section 9). An agent is
 * a name reached by a uid (and the login it had when added), by a bearer
 * token, or both; a reviewer gains the same. Only a token's SHA-256 (hex) is
 * kept, looked up by its first 16 digits and compared whole in constant time
 * (identities.c). rate is an agent's limit per second, NULL none. A revoked
 * agent keeps its row, and its name, for the record. Reviewers enrolled
 * before are reached by their name as login, the default for new ones. */
static const char *const schema_v11 =
    "CREATE TABLE agents (\n"
    "  name TEXT PRIMARY KEY, uid INTEGER, login TEXT, token_hash TEXT, rate INTEGER,\n"
    "  created_at TEXT NOT NULL, actor TEXT NOT NULL, revoked_at TEXT);\n"
    "CREATE INDEX agents_uid ON agents (uid);\n"
    "CREATE INDEX agents_token ON agents (substr(token_hash, 1, 16));\n"
    "ALTER TABLE reviewers ADD COLUMN login TEXT;\n"
    "ALTER TABLE reviewers ADD COLUMN uid INTEGER;\n"
    "ALTER TABLE reviewers ADD COLUMN token_hash TEXT;\n"
    "UPDATE reviewers SET login = name;\n"
    "CREATE INDEX reviewers_token ON reviewers (substr(token_hash, 1, 16));\n";

/* Version 12: a ref is unique per submitter (PRODUCT.md section 2), and a
 * submission keeps its digest. The ref column's own UNIQUE goes, which
 * SQLite can only do by building the table again: every column, index and
 * trigger of the table is made anew here, and the rows keep their ids, so
 * the findings, decisions and quota usage that point at them still do. The
 * new unique index treats an absent submitter as '' (a unique index holds
 * NULLs as all different, which would let refs repeat without a submitter)
 * and starts with ref, so that it serves a lookup by ref alone as well.
 * submissions_digest finds the newest submission of a submitter with a
 * digest under a policy version in one seek (op_submission_match). A digest
 * is random, so each new entry lands on a page of its own: the index holds
 * only what a match can answer with, the submissions that are not allowed
 * (a reviewer's work: the few, where an agent's allowed calls are the many),
 * which keeps its pages, and the writes of each commit, few. It is made
 * last, from the rows whose digests (digest_function) the copy computed:
 * one sort, not an insert per row. */
static const char *const schema_v12 =
    "CREATE TABLE submissions_v12 (\n"
    "  id INTEGER PRIMARY KEY, ref TEXT, kind TEXT NOT NULL, action TEXT NOT NULL,\n"
    "  title TEXT, submitter TEXT, status TEXT NOT NULL, policy_version INTEGER NOT NULL,\n"
    "  created_at TEXT NOT NULL, created_ms INTEGER NOT NULL, content_hash TEXT NOT NULL,\n"
    "  document TEXT NOT NULL, info INTEGER NOT NULL, warning INTEGER NOT NULL,\n"
    "  critical INTEGER NOT NULL, decided_at TEXT, expires_at TEXT,\n"
    "  evaluated_ms INTEGER NOT NULL DEFAULT 0, modifications TEXT, digest TEXT);\n"
    "INSERT INTO submissions_v12 (id, ref, kind, action, title, submitter, status,\n"
    "    policy_version, created_at, created_ms, content_hash, document, info, warning,\n"
    "    critical, decided_at, expires_at, evaluated_ms, modifications, digest)\n"
    "  SELECT id, ref, kind, action, title, submitter, status, policy_version, created_at,\n"
    "    created_ms, content_hash, document, info, warning, critical, decided_at, expires_at,\n"
    "    evaluated_ms, modifications, arbiter_digest(document) FROM submissions;\n"
    "DROP TABLE submissions;\n"
    "ALTER TABLE submissions_v12 RENAME TO submissions;\n"
    "CREATE UNIQUE INDEX submissions_ref ON submissions (ref, ifnull(submitter, ''));\n"
    "CREATE INDEX submissions_status ON submissions (status);\n"
    "CREATE INDEX submissions_kind ON submissions (kind);\n"
    "CREATE INDEX submissions_action ON submissions (action);\n"
    "CREATE INDEX submissions_submitter ON submissions (submitter);\n"
    "CREATE TRIGGER submissions_count_update AFTER UPDATE OF status ON submissions\n"
    "  WHEN OLD.status IS NOT NEW.status BEGIN\n"
    "  UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;\n"
    "  INSERT INTO status_counts VALUES (NEW.status, 1)\n"
    "    ON CONFLICT (status) DO UPDATE SET n = n + 1;\n"
    "END;\n"
    "CREATE INDEX submissions_digest ON submissions (digest, submitter, policy_version)\n"
    "  WHERE status <> 'allowed';\n";

/* Version 13: failed codes and lockouts per reviewer and origin (codes.c):
 * who tried, so that failing codes as someone locks them out only where the
 * failures came from. Each failure names its origin; a lockout is a row per
 * reviewer and origin until its end, instead of one column of the reviewer.
 * Failures and lockouts name the reviewer lower-cased, as names are compared.
 * A failure recorded before has no origin (''), and counts for none; a
 * lockout in force keeps holding for every origin (origin ''). */
static const char *const schema_v13 =
    "ALTER TABLE code_failures ADD COLUMN origin TEXT NOT NULL DEFAULT '';\n"
    "UPDATE code_failures SET reviewer = lower(reviewer);\n"
    "DROP INDEX code_failures_key;\n"
    "CREATE INDEX code_failures_key ON code_failures (reviewer, origin, at_ms);\n"
    "CREATE TABLE code_lockouts (\n"
    "  reviewer TEXT NOT NULL, origin TEXT NOT NULL, until TEXT NOT NULL,\n"
    "  PRIMARY KEY (reviewer, origin)) WITHOUT ROWID;\n"
    "INSERT INTO code_lockouts (reviewer, origin, until)\n"
    "  SELECT lower(name), '', max(locked_until) FROM reviewers\n"
    "  WHERE locked_until IS NOT NULL GROUP BY lower(name);\n"
    "ALTER TABLE reviewers DROP COLUMN locked_until;\n";

/* Version 14: the signed head record (audit_head.c), one row that says where
 * the log ends, outside the audit table, and the claim of the server's
 * automatic checkpoints (checkpoints.c): the seq and time of the last
 * one, updated in the transaction that writes it, so that of several
 * servers sharing a store one writes it. The step then signs the record
 * of the head the log has (audit_head_migrate, audit_head_sign.c): that
 * needs the store's key, which every process that opens a store can read. */
static const char *const schema_v14 =
    "CREATE TABLE audit_head (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,\n"
    "  sig TEXT NOT NULL);\n"
    "CREATE TABLE checkpoint_claim (\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, at_ms INTEGER NOT NULL);\n";

/* Version 15: a submission's findings in its own row (findings_column.c),
 * [kind, detail, path] each, one JSON array instead of a findings row each
 * with two indexes; what a policy's findings share, once, in finding_kinds
 * (finding_kinds.c); the rows per submission and policy that list --policy
 * and stats read; the view findings, which shows the column as the rows it
 * replaces (in their order: position); the quota uses indexed by their
 * submission, which is how they are read (quota_totals answers history). */
static const char *const schema_v15 =
    "CREATE TABLE finding_kinds (\n"
    "  id INTEGER PRIMARY KEY, policy TEXT NOT NULL, type TEXT NOT NULL,\n"
    "  severity TEXT NOT NULL, effect TEXT NOT NULL, overridable INTEGER NOT NULL,\n"
    "  message TEXT, source TEXT, approvals INTEGER NOT NULL, role TEXT NOT NULL,\n"
    "  max_duration INTEGER NOT NULL);\n"
    "CREATE INDEX finding_kinds_policy ON finding_kinds (policy);\n"
    "INSERT INTO finding_kinds (policy, type, severity, effect, overridable, message, source,\n"
    "    approvals, role, max_duration)\n"
    "  SELECT DISTINCT policy, type, severity, effect, overridable, message, source,\n"
    "    approvals, role, max_duration FROM findings;\n"
    "ALTER TABLE submissions ADD COLUMN findings TEXT;\n"
    "UPDATE submissions SET findings = (SELECT json_group_array(json(f)) FROM (\n"
    "  SELECT json_array((SELECT min(k.id) FROM finding_kinds k WHERE k.policy = x.policy\n"
    "      AND k.type = x.type AND k.severity = x.severity AND k.effect = x.effect\n"
    "      AND k.overridable = x.overridable AND k.message IS x.message\n"
    "      AND k.source IS x.source AND k.approvals = x.approvals AND k.role = x.role\n"
    "      AND k.max_duration = x.max_duration), x.detail, x.path) AS f\n"
    "  FROM findings x WHERE x.submission_id = submissions.id ORDER BY x.id))\n"
    "  WHERE id IN (SELECT submission_id FROM findings);\n"
    "CREATE TABLE finding_policies (\n"
    "  policy TEXT NOT NULL, submission_id INTEGER NOT NULL, critical INTEGER NOT NULL,\n"
    "  warning INTEGER NOT NULL, info INTEGER NOT NULL,\n"
    "  PRIMARY KEY (policy, submission_id)) WITHOUT ROWID;\n"
    "INSERT INTO finding_policies SELECT policy, submission_id, sum(severity = 'critical'),\n"
    "  sum(severity = 'warning'), sum(severity = 'info') FROM findings\n"
    "  GROUP BY policy, submission_id;\n"
    "DROP TABLE findings;\n"
    "CREATE VIEW findings (submission_id, position, policy, type, severity, effect,\n"
    "  overridable, message, detail, path, source, approvals, role, max_duration) AS\n"
    "  SELECT s.id, f.key, k.policy, k.type, k.severity, k.effect, k.overridable, k.message,\n"
    "    f.value ->> 1, f.value ->> 2, k.source, k.approvals, k.role, k.max_duration\n"
    "  FROM submissions s, json_each(s.findings) f, finding_kinds k\n"
    "  WHERE k.id = f.value ->> 0;\n"
    "DROP INDEX quota_usage_key;\n"
    "CREATE INDEX quota_usage_submission ON quota_usage (submission_id);\n";

/* Version 16: the quota sums hold only the uses of submissions that were
 * not refused (PRODUCT.md section 3: not blocked, not rejected; quota.c);
 * a refused one's uses stay rows. The sums are made again from the rows. */
static const char *const schema_v16 =
    "DELETE FROM quota_totals;\n"
    "INSERT INTO quota_totals (policy, has_per, per, unit, start, amount)\n"
    "  SELECT u.policy, u.per_value IS NOT NULL, ifnull(u.per_value, ''), n.unit,\n"
    "    u.at_ms / 1000 / n.unit, total(u.amount)\n"
    "  FROM quota_usage u JOIN submissions s ON s.id = u.submission_id,\n"
    "    (SELECT 1 AS unit UNION ALL SELECT 60 UNION ALL SELECT 3600 UNION ALL SELECT 86400) n\n"
    "  WHERE s.status NOT IN ('blocked', 'rejected')\n"
    "  GROUP BY 1, 2, 3, 4, 5;\n";

/* Version 17: submissions_digest holds the first 16 characters (64 bits)
 * of each digest, and the rowid, instead of the whole digest, the
 * submitter and the policy version. A digest is random, so a commit of
 * many submissions writes nearly every page of this index again: a third
 * of its pages is a third of those writes (at 100,000 submissions, 1,729
 * pages of an index that every commit rewrote were a fifth of the log a
 * bulk submit wrote). The lookup (op_submission_match) still finds the
 * newest entry of the prefix first, and compares the whole digest, the
 * submitter and the version on the row; a prefix shared by chance costs
 * the reading of one more row. */
static const char *const schema_v17 =
    "DROP INDEX submissions_digest;\n"
    "CREATE INDEX submissions_digest ON submissions (substr(digest, 1, 16))\n"
    "  WHERE status <> 'allowed';\n";

/* arbiter_digest(document): the digest (engine/submission.c) of a document
 * the store kept, its canonical JSON as submitted, read back as it was
 * accepted (64-bit integers included); NULL for one that does not read as a
 * map, which no match ever finds. The step's arena is its user data. */
static void digest_function(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	arena *a = sqlite3_user_data(ctx);
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	diags errs = { 0 };
	bool empty;
	char digest[65];
	arena_reset(a);
	node *doc = text ? doc_parse_kept(a, "document", text, (size_t)sqlite3_value_bytes(argv[0]),
	    &empty, &errs) : NULL;
	diags_free(&errs);
	if (doc != NULL && doc->type == NODE_MAP && document_digest(doc, digest))
		sqlite3_result_text(ctx, digest, 64, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

typedef struct step {
	const char *sql;
	/* what SQL cannot do: a function written in C that sql calls, defined
	 * on the connection while the step runs (NULL: none) */
	const char *fn_name;
	void (*fn)(sqlite3_context *ctx, int argc, sqlite3_value **argv);
	bool rebuilds;          /* it builds a table again: foreign keys off meanwhile */
	/* C run after sql in its transaction, given the store's directory
	 * (NULL: none, a new database) */
	bool (*after)(sqlite3 *db, const char *dir, char *err, size_t errlen);
} step;

/* steps[i] takes the schema from version i to i + 1 */
static const step steps[] = { { NULL }, { schema_v2 }, { schema_v3 }, { schema_v4 },
	{ schema_v5 }, { schema_v6 }, { schema_v7 }, { schema_v8 }, { schema_v9 }, { schema_v10 },
	{ schema_v11 }, { schema_v12, "arbiter_digest", digest_function, true }, { schema_v13 },
	{ schema_v14, NULL, NULL, false, audit_head_migrate }, { schema_v15 }, { schema_v16 },
	{ schema_v17 } };
_Static_assert(sizeof steps / sizeof steps[0] == STORE_SCHEMA_VERSION, "a step per version");

/* Whether every foreign key holds (after a rebuild, with them off). */
static bool keys_hold(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot check the foreign keys: %s", sqlite3_errmsg(db));
		return false;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(err, errlen, "a row of %s points at no row of %s",
		    (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		snprintf(err, errlen, "cannot check the foreign keys: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE;
}

/* Runs step s in the open transaction. */
static bool run_step(sqlite3 *db, const step *s, const char *dir, char *err, size_t errlen)
{
	char *msg = NULL;
	arena *a = s->fn ? arena_new() : NULL;
	bool ok = s->fn == NULL || sqlite3_create_function(db, s->fn_name, 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, a, s->fn, NULL, NULL) == SQLITE_OK;
	ok = ok && sqlite3_exec(db, s->sql, NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	if (s->fn != NULL)
		sqlite3_create_function(db, s->fn_name, 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	arena_free(a);
	return ok && (!s->rebuilds || keys_hold(db, err, errlen)) &&
	    (s->after == NULL || s->after(db, dir, err, errlen));
}

bool schema_create_version(sqlite3 *db, int version, char *err, size_t errlen)
{
	char sql[64], why[384] = "";
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d;", version);
	char *msg = NULL;
	/* a new database has no rows for foreign keys to miss, nor a rebuild to
	 * trip over them: one transaction, keys as they are */
	bool ok = sqlite3_exec(db, "BEGIN", NULL, NULL, &msg) == SQLITE_OK &&
	    sqlite3_exec(db, schema_v1, NULL, NULL, &msg) == SQLITE_OK;
	for (int v = 1; ok && v < version; v++)
		ok = run_step(db, &steps[v], NULL, why, sizeof why);
	ok = ok && sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK;
	if (!ok) {
		snprintf(err, errlen, "cannot create the schema: %s", why[0] ? why :
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return ok;
}

bool schema_create(sqlite3 *db, char *err, size_t errlen)
{
	return schema_create_version(db, STORE_SCHEMA_VERSION, err, errlen);
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* One step up from version `from`, in its own write transaction; another
 * process may have taken the step first, so the version is read again under
 * the write lock. PRAGMA foreign_keys does nothing inside a transaction: a
 * rebuild turns them off before it begins, and on again after it ends. */
static bool migrate_step(sqlite3 *db, const char *dir, int from, const step *s, char *err,
    size_t errlen)
{
	char *msg = NULL, set[64], why[384] = "";
	snprintf(set, sizeof set, "PRAGMA user_version = %d;", from + 1);
	if (s->rebuilds)
		sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	bool ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK;
	if (ok && user_version(db) == from)
		ok = run_step(db, s, dir, why, sizeof why) &&
		    sqlite3_exec(db, set, NULL, NULL, &msg) == SQLITE_OK;
	ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK;
	if (!ok) {
		snprintf(err, errlen, "cannot upgrade the schema to version %d: %s", from + 1,
		    why[0] ? why : msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (s->rebuilds)
		sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return ok;
}

bool schema_migrate(sqlite3 *db, const char *dir, char *err, size_t errlen)
{
	int version = user_version(db);
	if (version < 0) {
		snprintf(err, errlen, "not an arbiter database: %s", sqlite3_errmsg(db));
		return false;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "the database has schema version %d, newer than this arbiter "
		    "(%d): upgrade arbiter", version, STORE_SCHEMA_VERSION);
		return false;
	}
	if (version < 1) {
		snprintf(err, errlen, "not an arbiter database (no schema version)");
		return false;
	}
	if (version < STORE_SCHEMA_VERSION) {
		char notice[256];
		snprintf(notice, sizeof notice, "upgrading the store's database from schema version %d "
		    "to %d: a large store takes a while (each step is one transaction; an interrupted "
		    "upgrade starts again at the next open)", version, STORE_SCHEMA_VERSION);
		store_notice(notice);
	}
	/* each step in its own transaction, from `version` up */
	for (int v = version; v < STORE_SCHEMA_VERSION; v++)
		if (!migrate_step(db, dir, v, &steps[v], err, errlen))
			return false;
	return true;
}
