/*
 * submissions.c: storing evaluated submissions.
 *
 * One submission is one transaction: the row (its findings in it, as
 * findings_column.c writes them, with its rows of finding_policies), its quota usage
 * and its submission.create audit event commit together or not at all, so a
 * killed process leaves whole submissions only. A caller storing many (submit
 * of a batch) may hold one transaction for several: they commit together, and
 * a failure while storing one (a full disk, an I/O error: nothing a document
 * can cause, since its ref is checked before anything is written) rolls back
 * the whole transaction, so a batch too is stored whole or not at all. The
 * counts per status that the console's header reads grow once per status
 * per transaction, at commit: they are the transaction's slot
 * KEEP_STATUS_COUNTS (store_keep), written by counts_flush.
 *
 * A ref is the submitter's own id, unique per submitter (two submitters may
 * use the same ref; no submitter is one submitter of its own): the same ref
 * with the same content (the content hash of the whole document, engine's
 * submission.c) returns the stored submission, so agents can retry safely;
 * with other content it is refused. The digest, what decisions bind to, is
 * stored beside it and named in the submission.create event. The submitter
 * is kept as its name is compared (lower-cased, PRODUCT.md section 2), so
 * that a ref, a listing, a quota and the self-decision ban read ALICE's
 * submissions as alice's.
 *
 * The result submit printed is not stored whole: it would repeat the row and
 * its findings, and take as much room again as the document. It is
 * rebuilt from them (store_result_json); only the modifications policies
 * asked for are kept as JSON, in their own column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* The new submissions of the open transaction, per status. */
typedef struct new_counts {
	int64_t n[ST_EXPIRED + 1];
} new_counts;

/* Adds the counts to status_counts, before the commit. */
static bool counts_flush(store *s, void *ctx)
{
	new_counts *c = ctx;
	for (int st = 0; st <= ST_EXPIRED; st++) {
		if (c->n[st] == 0)
			continue;
		sqlite3_stmt *q = store_stmt(s, SQL_STATUS_COUNT, "INSERT INTO status_counts VALUES "
		    "(?, ?) ON CONFLICT (status) DO UPDATE SET n = n + excluded.n");
		if (q == NULL)
			return false;
		sqlite3_bind_text(q, 1, status_name(st), -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, c->n[st]);
		if (sqlite3_step(q) != SQLITE_DONE)
			return store_fail(s, "cannot count the submissions");
		c->n[st] = 0;
	}
	free(c);
	return true;
}

static void counts_drop(store *s, void *ctx)
{
	(void)s;
	free(ctx);
}

static const store_keeper counts_keeper = { counts_flush, counts_drop };

static void count_new(store *s, int status)
{
	new_counts *c = store_kept(s, KEEP_STATUS_COUNTS);
	if (c == NULL) {
		c = calloc(1, sizeof *c);
		if (c == NULL)
			abort();
		store_keep(s, KEEP_STATUS_COUNTS, &counts_keeper, c);
	}
	c->n[status]++;
}

int store_policy_version(store *s)
{
	sqlite3_stmt *st = store_stmt(s, SQL_POLICY_VERSION, "SELECT max(version) FROM policy_versions");
	int v = 0;
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

/* A submission's ref, title or submitter: len bytes (0: strlen), which may
 * hold NUL and are kept whole. */
static void bind_optn(sqlite3_stmt *st, int i, const char *text, size_t len)
{
	if (text)
		sqlite3_bind_text(st, i, text, len ? (int)len : -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* An earlier submission of this submitter with this ref: its id and content
 * hash. The condition is submissions_ref's expression, which it reads. */
static int find_ref(store *s, const submission *sub, int64_t *id, char hash[65])
{
	sqlite3_stmt *st = store_stmt(s, SQL_SUB_BY_REF,
	    "SELECT id, content_hash FROM submissions WHERE ref = ?1 AND ifnull(submitter, '') = ?2");
	if (st == NULL)
		return -1;
	bind_optn(st, 1, sub->ref, sub->ref_len);
	size_t who_len;
	const char *who = submission_submitter(sub, &who_len);
	if (who != NULL)
		bind_optn(st, 2, who, who_len);
	else
		sqlite3_bind_text(st, 2, "", 0, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Submission id's rows beside it: its findings per policy and its quota uses. */
static bool insert_beside(store *s, int64_t id, const eval_result *r)
{
	if (!findings_policies_insert(s, id, r))
		return false;
	int64_t at = now_ms();
	bool counted = quota_status_counts(status_name(r->status));
	for (size_t i = 0; i < r->nuses; i++)
		if (!quota_record(s, id, r->uses[i].policy->name, r->uses[i].per_value,
		    r->uses[i].amount, at, counted))
			return false;
	return true;
}

static bool insert(store *s, int policy_version, const submission *sub, const eval_result *r,
    const char *actor, stored *out)
{
	strbuf mods = { 0 };
	if (r->nmods > 0)
		result_write_modifications(&mods, r);
	char findings[65];
	if (!findings_column_write(s, &s->findings_text, r, findings)) {
		free(mods.s);
		return false;
	}
	char ts[32];
	int64_t ms = now_ms();
	format_time(ms, ts);
	sqlite3_stmt *st = store_stmt(s, SQL_SUB_INSERT, "INSERT INTO submissions (ref, kind, action, "
	    "title, submitter, status, policy_version, created_at, created_ms, content_hash, document, "
	    "modifications, info, warning, critical, evaluated_ms, digest, findings) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	bool ok = st != NULL;
	if (ok) {
		bind_optn(st, 1, sub->ref, sub->ref_len);
		sqlite3_bind_text(st, 2, sub->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sub->action, -1, SQLITE_STATIC);
		bind_optn(st, 4, sub->title, sub->title_len);
		size_t who_len;
		const char *who = submission_submitter(sub, &who_len);
		bind_optn(st, 5, who, who_len);
		sqlite3_bind_text(st, 6, status_name(r->status), -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, policy_version);
		sqlite3_bind_text(st, 8, ts, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, ms);
		sqlite3_bind_text(st, 10, sub->content_hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, sub->canonical, -1, SQLITE_STATIC);
		store_bind_opt(st, 12, mods.s);
		sqlite3_bind_int(st, 13, r->counts[SEV_INFO]);
		sqlite3_bind_int(st, 14, r->counts[SEV_WARNING]);
		sqlite3_bind_int(st, 15, r->counts[SEV_CRITICAL]);
		sqlite3_bind_int64(st, 16, ms);
		sqlite3_bind_text(st, 17, sub->digest, -1, SQLITE_STATIC);
		findings_column_bind(st, 18, &s->findings_text);
		ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot store the submission");
		sqlite3_reset(st);
	}
	free(mods.s);
	if (!ok)
		return false;
	count_new(s, r->status);
	out->id = sqlite3_last_insert_rowid(s->db);
	if (!insert_beside(s, out->id, r))
		return false;
	char subject[24];
	format_int(out->id, subject);
	/* the details, keys in order, as audit_append would write them; what
	 * audit verify checks the row and its findings against (verify_tables.c):
	 * the findings' digest is left out when there are none */
	strbuf *d = &out->details;
	d->n = 0;
	sb_puts(d, "{\"action\":");
	sb_put_json_string(d, sub->action);
	sb_puts(d, ",\"content_hash\":\"");
	sb_puts(d, sub->content_hash);
	sb_puts(d, "\",\"counts\":");
	result_write_counts(d, r->counts, true);
	sb_puts(d, ",\"digest\":\"");
	sb_puts(d, sub->digest);
	sb_puts(d, "\",\"findings\":");
	sb_put_int(d, (int)r->n);
	if (r->n > 0) {
		sb_puts(d, ",\"findings_digest\":\"");
		sb_puts(d, findings);
		sb_puts(d, "\"");
	}
	sb_puts(d, ",\"kind\":");
	sb_put_json_string(d, sub->kind);
	sb_puts(d, ",\"policy_version\":");
	sb_put_int(d, policy_version);
	sb_puts(d, ",\"ref\":");
	sb_put_json_stringn(d, sub->ref, sub->ref && !sub->ref_len ? strlen(sub->ref) :
	    sub->ref_len);
	sb_puts(d, ",\"status\":");
	sb_put_json_string(d, status_name(r->status));
	sb_puts(d, ",\"submitter\":");
	size_t who_len;
	const char *who = submission_submitter(sub, &who_len);
	sb_put_json_stringn(d, who, who ? who_len : 0);
	sb_puts(d, "}");
	ok = audit_append_text(s, actor, "submission.create", subject, d->s);
	out->seq = s->head_seq;
	return ok;
}

outcome store_submit(store *s, const policy_set *ps, int policy_version, const submission *given,
    const eval_options *o, arena *scratch, const char *actor, eval_result *r, stored *out)
{
	out->id = 0;
	out->existing = false;
	submission sub = *given;
	if (sub.canonical == NULL && !submission_canonical(&sub, scratch)) {
		snprintf(s->err, sizeof s->err, "the document cannot be encoded as JSON");
		return OUT_BAD_INPUT;
	}
	if (sub.digest[0] == '\0' && !submission_digest(&sub)) {
		snprintf(s->err, sizeof s->err, "the document cannot be encoded as JSON");
		return OUT_BAD_INPUT;
	}
	char earlier[65];
	if (sub.ref != NULL) {
		int found = find_ref(s, &sub, &out->id, earlier);
		if (found < 0)
			return store_fail(s, "cannot look up the ref"), OUT_IO_ERROR;
		if (found == 1) {
			if (strcmp(earlier, sub.content_hash) == 0) {
				out->existing = true;
				return OUT_OK;
			}
			snprintf(s->err, sizeof s->err, "ref %s is already submission %lld, with different "
			    "content (a ref names one submission of its submitter: use a new ref)", sub.ref,
			    (long long)out->id);
			return OUT_CONFLICT;
		}
	}
	if (sub.ahead != NULL && sub.ahead->nuses == 0) {
		/* evaluated ahead, and no quota rule counted it: history would not
		 * have changed a thing */
		*r = *sub.ahead;
	} else {
		/* the quota rules again, with history; the others as ahead */
		eval_options opts = *o;
		history_source hist;
		store_history(s, &hist);
		opts.history = &hist;
		opts.ahead = sub.ahead;
		evaluate(ps, &sub, &opts, scratch, r);
	}
	return insert(s, policy_version, &sub, r, actor, out) ? OUT_OK : OUT_IO_ERROR;
}

/* The index of text among name(0) .. name(count - 1), or -1. */
static int name_index(const char *(*name)(int), int count, const char *text)
{
	for (int i = 0; text != NULL && i < count; i++)
		if (strcmp(name(i), text) == 0)
			return i;
	return -1;
}

/* Reads the findings column's text into r, in the order they were found;
 * the texts stay in a. */
static bool read_findings(store *s, int64_t id, const char *text, size_t len, arena *a,
    eval_result *r)
{
	finding_row *rows;
	size_t n;
	char why[160];
	if (!findings_column_read(s, NULL, a, text, len, &rows, &n, why, sizeof why)) {
		snprintf(s->err, sizeof s->err, "the findings of submission %lld do not read: %s",
		    (long long)id, why);
		return false;
	}
	r->findings = n ? arena_alloc(a, n * sizeof *r->findings) : NULL;
	for (size_t i = 0; i < n; i++) {
		const finding_row *f = &rows[i];
		r->findings[i] = (finding){ .name = f->policy, .type = f->type,
			.severity = name_index(severity_name, SEV_CRITICAL + 1, f->severity),
			.effect = name_index(effect_name, EFF_DENY + 1, f->effect),
			.overridable = f->overridable != 0, .message = f->message, .detail = f->detail,
			.path = f->path, .source = f->source };
		if (r->findings[i].severity < 0 || r->findings[i].effect < 0) {
			snprintf(s->err, sizeof s->err, "the findings of submission %lld do not read: "
			    "finding %zu has no known severity or effect", (long long)id, i + 1);
			return false;
		}
	}
	r->n = n;
	return true;
}

void stored_result_write(strbuf *b, int64_t id, int policy_version, const submission *sub,
    const eval_result *r, const char *modifications)
{
	char prefix[96], *p = prefix;  /* '"id":ID,"policy_version":V,' */
	p = stpcpy(p, "\"id\":");
	p += format_int(id, p);
	p = stpcpy(p, ",\"policy_version\":");
	p += format_int(policy_version, p);
	strcpy(p, ",");
	result_write_stored(b, prefix, sub, r, modifications);
}

char *store_result_json(store *s, int64_t id, const char **status)
{
	sqlite3_stmt *st = store_stmt(s, SQL_RESULT_ROW, "SELECT ref, kind, action, title, submitter, "
	    EFFECTIVE_STATUS ", policy_version, info, warning, critical, modifications, digest, "
	    "findings FROM submissions WHERE id = :id");
	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
	store_bind_now(st);
	char *out = NULL;
	arena *a = arena_new();
	eval_result r = { 0 };
	int found = sqlite3_step(st) == SQLITE_ROW;
	r.status = found ? name_index(status_name, ST_EXPIRED + 1,
	    (const char *)sqlite3_column_text(st, 5)) : -1;
	if (r.status >= 0 && read_findings(s, id, (const char *)sqlite3_column_text(st, 12),
	    (size_t)sqlite3_column_bytes(st, 12), a, &r)) {
		*status = status_name(r.status);
		/* the row's texts stay valid until st steps again */
		submission sub = { .ref = (const char *)sqlite3_column_text(st, 0),
			.kind = (const char *)sqlite3_column_text(st, 1),
			.action = (const char *)sqlite3_column_text(st, 2),
			.title = (const char *)sqlite3_column_text(st, 3),
			.submitter = (const char *)sqlite3_column_text(st, 4),
			.ref_len = (size_t)sqlite3_column_bytes(st, 0),
			.title_len = (size_t)sqlite3_column_bytes(st, 3),
			.submitter_len = (size_t)sqlite3_column_bytes(st, 4) };
		const char *digest = (const char *)sqlite3_column_text(st, 11);
		if (digest != NULL)
			snprintf(sub.digest, sizeof sub.digest, "%s", digest);
		for (int i = 0; i < 3; i++)
			r.counts[i] = sqlite3_column_int(st, 7 + i);
		strbuf b = { 0 };
		stored_result_write(&b, id, sqlite3_column_int(st, 6), &sub, &r,
		    (const char *)sqlite3_column_text(st, 10));
		out = b.s;
	}
	sqlite3_reset(st);
	arena_free(a);
	return out;
}
