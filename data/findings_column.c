/*
 * findings_column.c: a submission's findings, kept in one column of its row.
 *
 * submissions.findings holds the findings in the order they were found, one
 * JSON array (NULL when there are none) of [kind, detail, path] per finding:
 * the kind (finding_kinds.c) names what the policy's findings share, detail
 * and path are the finding's own (null when absent). One column instead of a
 * row each: a submission is written with one insert, read back with one
 * row, and keeps about a third of the bytes. Those who ask by policy read
 * finding_policies (a row per submission and policy of its findings, with
 * their counts per severity: list --policy, stats), and SQL readers the view
 * findings (schema.c), which shows the column as the rows it replaced.
 *
 * The writer (findings_column_write) and the readers (findings_column_read:
 * audit verify, a stored result read back) share this one layout; the
 * digest an event names (findings_digest.c) is of the fields, not of this
 * text, so it is the same for the rows the schema kept before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static void put_text(strbuf *b, const char *s)
{
	if (s == NULL)
		sb_puts(b, "null");
	else
		sb_put_json_string(b, s);
}

bool findings_column_write(store *s, strbuf *b, const eval_result *r, char digest[65])
{
	findings_digest fd;
	findings_digest_init(&fd);
	b->n = 0;
	for (size_t i = 0; i < r->n; i++) {
		finding_row f;
		finding_row_of(&r->findings[i], &f);
		findings_digest_add(&fd, &f);
		int64_t kind = finding_kind_id(s, &f);
		if (kind == 0)
			return false;
		sb_puts(b, i == 0 ? "[[" : ",[");
		sb_put_int(b, kind);
		sb_puts(b, ",");
		put_text(b, f.detail);
		sb_puts(b, ",");
		put_text(b, f.path);
		sb_puts(b, "]");
	}
	if (r->n > 0)
		sb_puts(b, "]");
	unsigned char h[32];
	findings_digest_final(&fd, h);
	public_hex(digest, h, 32);
	return true;
}

static bool text_field(const node *n, const char **out)
{
	if (n->type == NODE_NULL) {
		*out = NULL;
		return true;
	}
	*out = n->u.str.s;
	return n->type == NODE_STRING;
}

bool findings_column_read(store *s, const kind_table *kinds, arena *a, const char *text,
    size_t len, finding_row **rows, size_t *n, char *why, size_t whylen)
{
	*rows = NULL;
	*n = 0;
	if (text == NULL)
		return true;
	diags errs = { 0 };
	bool empty;
	const node *doc = doc_parse_json(a, "findings", text, len, 1, DOC_INT64, &empty, &errs);
	if (doc == NULL) {
		snprintf(why, whylen, "%s", errs.n > 0 ? errs.items[0].msg : "it is empty");
		diags_free(&errs);
		return false;
	}
	diags_free(&errs);
	if (doc->type != NODE_LIST || doc->u.list.n == 0) {
		snprintf(why, whylen, "it is not a list of findings");
		return false;
	}
	finding_row *out = arena_alloc(a, doc->u.list.n * sizeof *out);
	for (size_t i = 0; i < doc->u.list.n; i++) {
		const node *f = doc->u.list.items[i];
		node *const *v = f->u.list.items;
		const char *detail, *path;
		if (f->type != NODE_LIST || f->u.list.n != 3 || v[0]->type != NODE_INT ||
		    !text_field(v[1], &detail) || !text_field(v[2], &path)) {
			snprintf(why, whylen, "finding %zu is not [kind, detail, path]", i + 1);
			return false;
		}
		int64_t id = v[0]->u.i;
		const finding_row *kind = kinds == NULL ? finding_kind(s, id) :
		    kind_table_get(kinds, id);
		if (kind == NULL) {
			snprintf(why, whylen, "finding %zu names kind %lld, which finding_kinds does not "
			    "hold", i + 1, (long long)v[0]->u.i);
			return false;
		}
		out[i] = *kind;
		out[i].detail = detail;
		out[i].path = path;
	}
	*rows = out;
	*n = doc->u.list.n;
	return true;
}

void findings_column_bind(sqlite3_stmt *st, int i, const strbuf *b)
{
	if (b->n > 0)
		sqlite3_bind_text(st, i, b->s, (int)b->n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

size_t findings_per_policy(const finding_row *rows, size_t n, policy_tally *out)
{
	static const char *const severities[3] = { "info", "warning", "critical" };
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t p = 0;
		while (p < k && strcmp(out[p].policy, rows[i].policy) != 0)
			p++;
		if (p == k)
			out[k++] = (policy_tally){ .policy = rows[i].policy };
		for (int v = 0; v < 3; v++)
			if (strcmp(rows[i].severity, severities[v]) == 0)
				out[p].sev[v]++;
	}
	return k;
}

bool findings_policies_insert(store *s, int64_t id, const eval_result *r)
{
	if (r->n == 0)
		return true;
	finding_row *rows = malloc(r->n * sizeof *rows);
	policy_tally *counts = malloc(r->n * sizeof *counts);
	if (rows == NULL || counts == NULL)
		abort();
	for (size_t i = 0; i < r->n; i++)
		finding_row_of(&r->findings[i], &rows[i]);
	size_t k = findings_per_policy(rows, r->n, counts);
	bool ok = true;
	for (size_t p = 0; ok && p < k; p++) {
		sqlite3_stmt *st = store_stmt(s, SQL_FINDING_POLICY, "INSERT INTO finding_policies "
		    "(policy, submission_id, critical, warning, info) VALUES (?, ?, ?, ?, ?)");
		ok = st != NULL;
		if (ok) {
			sqlite3_bind_text(st, 1, counts[p].policy, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, id);
			sqlite3_bind_int64(st, 3, counts[p].sev[SEV_CRITICAL]);
			sqlite3_bind_int64(st, 4, counts[p].sev[SEV_WARNING]);
			sqlite3_bind_int64(st, 5, counts[p].sev[SEV_INFO]);
			ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot store a finding");
		}
	}
	free(rows);
	free(counts);
	return ok;
}

bool findings_policies_delete(store *s, int64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM finding_policies WHERE submission_id = ?1 AND "
	    "policy IN (SELECT policy FROM findings WHERE submission_id = ?1)", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot update the findings");
	sqlite3_bind_int64(st, 1, id);
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok || store_fail(s, "cannot update the findings");
}
