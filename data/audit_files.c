/*
 * audit_files.c: the signed files taken from the audit log, a checkpoint and
 * the export report, for the audit checkpoint and audit export commands and
 * the console's audit browser.
 *
 * Each file's own audit event (audit.checkpoint, audit.export) is appended
 * first, in a transaction of its own, so the file covers it. A checkpoint is
 * the store id, the head seq and its hash (checkpoints.c writes the file and
 * reads it back). The export report has the license enforcer's shape:
 * {"events": [...], "summary": {"events", "totals", "per_action"},
 * "verification": {...}}, read in one read transaction so that
 * the events, the summary and the verification describe the same snapshot
 * even while others append.
 *
 * Export events are streamed: each row becomes one JSON object dumped
 * straight into the file (one per line, oldest first, the chain's order), so
 * memory does not grow with the log. The report is written beside its final
 * name and renamed into place. Both files are signed as FILE.minisig, which
 * the stock minisign verifies. A log that fails verification is still
 * exported; its verification says where.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

void audit_file_name(const char *dir, const char *what, const char *ext, char *out, size_t len)
{
	char ts[32];
	format_time(now_ms(), ts);
	snprintf(out, len, "%s%sarbiter-%s-%.10s-%.2s%.2s%.2s.%s", dir ? dir : "", dir ? "/" : "",
	    what, ts, ts + 11, ts + 14, ts + 17, ext);
}

/* Appends the file's own event in a transaction of its own; a failure is
 * rolled back, so a long-lived caller (the console) keeps no write lock. */
static bool appended(store *s, const char *actor, const char *event, json_t *details,
    char *err, size_t errlen)
{
	if (store_begin(s) && audit_append(s, actor, event, s->id, details) && store_commit(s))
		return true;
	snprintf(err, errlen, "%s", s->err);
	store_rollback(s);
	return false;
}

bool audit_write_checkpoint(store *s, const char *actor, const char *path, int64_t *seq,
    char hash[65], char *err, size_t errlen)
{
	keypair kp;
	json_t *details = json_pack("{s:s}", "file", path);
	bool ok = keys_load_secret(s->dir, &kp, err, errlen) && appended(s, actor,
	    "audit.checkpoint", details, err, errlen);
	if (ok) {
		*seq = s->head_seq;
		public_hex(hash, s->head_hash, 32);
		ok = checkpoint_write_file(&kp, s->id, path, *seq, hash, now_ms(), err, errlen);
	}
	sodium_memzero(&kp, sizeof kp);
	json_decref(details);
	return ok;
}

typedef struct export_ctx {
	FILE *f;
	int64_t n;
} export_ctx;

static bool write_event(const audit_event *e, void *ctx)
{
	export_ctx *x = ctx;
	json_t *o = audit_event_json(e);
	bool ok = fputs(x->n ? ",\n  " : "\n  ", x->f) >= 0 && json_dumpf(o, x->f, JSON_COMPACT) == 0;
	json_decref(o);
	x->n++;
	return ok;
}

static json_t *verification_json(const store *s, const verify_result *r)
{
	json_t *v = json_pack("{s:b,s:s,s:I,s:I,s:s}", "ok", r->ok, "store", s->id,
	    "events", (json_int_t)r->events, "head_seq", (json_int_t)r->head_seq, "head_hash", r->head);
	if (!r->ok) {
		json_object_set_new(v, "bad_seq", json_integer((json_int_t)r->bad_seq));
		json_object_set_new(v, "why", json_string(r->why));
		if (r->tables)
			json_object_set_new(v, "table", json_true());
	}
	return v;
}

typedef struct report {
	FILE *f;
	verify_result *r;
	bool io;                /* failed writing, not reading: errno says why */
} report;

/* Writes the report for the current snapshot to rep->f; false with s->err
 * set, or rep->io for a write error. */
static bool write_report(store *s, void *arg)
{
	report *rep = arg;
	export_ctx x = { .f = rep->f };
	audit_filter all = { .oldest_first = true };
	if (fputs("{\"events\": [", rep->f) < 0 || !audit_read(s, &all, write_event, &x)) {
		rep->io = ferror(rep->f) != 0;
		return false;
	}
	json_t *summary = audit_summary(s, x.n);
	if (summary == NULL || !audit_verify(s, NULL, rep->r)) {
		json_decref(summary);
		return false;
	}
	json_t *verification = verification_json(s, rep->r);
	bool ok = fputs(x.n ? "\n],\n\"summary\": " : "],\n\"summary\": ", rep->f) >= 0 &&
	    json_dumpf(summary, rep->f, JSON_COMPACT) == 0 &&
	    fputs(",\n\"verification\": ", rep->f) >= 0 &&
	    json_dumpf(verification, rep->f, JSON_COMPACT) == 0 && fputs("}\n", rep->f) >= 0;
	json_decref(summary);
	json_decref(verification);
	rep->io = !ok;
	return ok;
}

bool audit_write_export(store *s, const char *actor, const char *path, verify_result *r,
    audit_progress progress, void *ctx, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16], comment[256];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	keypair kp;
	memset(r, 0, sizeof *r);
	json_t *details = json_pack("{s:s}", "file", path);
	FILE *f = NULL;
	bool ok = keys_load_secret(s->dir, &kp, err, errlen) && appended(s, actor, "audit.export",
	    details, err, errlen);
	if (ok && (f = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		ok = false;
	} else if (ok && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit log: %s", sqlite3_errmsg(s->db));
		ok = false;
	} else if (ok) {
		report rep = { f, r, false };
		int64_t last;
		ok = audit_last_seq(s, &last) && audit_watched(s, 2 * last, progress, ctx, write_report,
		    &rep);
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (!ok && !rep.io) {
			snprintf(err, errlen, "%s", s->err);
		} else if (!ok || fflush(f) != 0 || fsync(fileno(f)) != 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			ok = false;
		}
	}
	if (f != NULL && fclose(f) != 0 && ok) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		ok = false;
	}
	if (ok && rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ok = false;
	}
	if (f != NULL && !ok)
		unlink(tmp);
	if (ok) {
		snprintf(comment, sizeof comment, "arbiter export store %s seq %lld hash %s", s->id,
		    (long long)r->head_seq, r->head);
		ok = keys_sign_file(&kp, path, comment, err, errlen);
	}
	sodium_memzero(&kp, sizeof kp);
	json_decref(details);
	return ok;
}
