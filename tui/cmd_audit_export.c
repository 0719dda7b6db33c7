/*
 * cmd_audit_export.c: arbiter audit export, the signed JSON report.
 *
 * The report has the license enforcer's shape: {"events": [...], "summary":
 * {"events", "totals", "per_action"}, "verification": {...}}. Its own
 * audit.export event is appended first, in a transaction of its own (as a
 * checkpoint's is), so the report covers it. Everything after that is read
 * in one read transaction: the events, the summary and the verification
 * describe the same snapshot even while others append.
 *
 * Events are streamed: each row becomes one JSON object dumped straight
 * into the file (one per line, oldest first, the chain's order), so memory
 * does not grow with the log. The file is written beside its final name and
 * renamed into place, then signed as FILE.minisig, which the stock minisign
 * verifies. A log that fails verification is still exported, its
 * verification says where, and the exit is 4.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
	}
	return v;
}

/* Writes the report for the current snapshot to f; false with s->err set
 * (or errno, for a write error: *io). */
static bool write_report(store *s, FILE *f, verify_result *r, bool *io)
{
	export_ctx x = { .f = f };
	audit_filter all = { .oldest_first = true };
	*io = false;
	if (fputs("{\"events\": [", f) < 0 || !audit_read(s, &all, write_event, &x)) {
		*io = ferror(f) != 0;
		return false;
	}
	json_t *summary = audit_summary(s, x.n);
	if (summary == NULL || !audit_verify(s, s->pk, r)) {
		json_decref(summary);
		return false;
	}
	json_t *verification = verification_json(s, r);
	bool ok = fputs(x.n ? "\n],\n\"summary\": " : "],\n\"summary\": ", f) >= 0 &&
	    json_dumpf(summary, f, JSON_COMPACT) == 0 && fputs(",\n\"verification\": ", f) >= 0 &&
	    json_dumpf(verification, f, JSON_COMPACT) == 0 && fputs("}\n", f) >= 0;
	json_decref(summary);
	json_decref(verification);
	*io = !ok;
	return ok;
}

int cmd_audit_export(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	char path[PATH_MAX], tmp[PATH_MAX + 16], ts[32], comment[256], err[512];
	format_time(now_ms(), ts);
	const char *out = arg_get(a, "--out");
	if (out == NULL) {
		snprintf(path, sizeof path, "arbiter-export-%.10s-%.2s%.2s%.2s.json", ts, ts + 11,
		    ts + 14, ts + 17);
		out = path;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", out, (long)getpid());
	keypair kp;
	int rc = EXIT_ERROR;
	verify_result r = { .ok = false };
	json_t *details = json_pack("{s:s}", "file", out);
	FILE *f = NULL;
	if (!keys_load_secret(s->dir, &kp, err, sizeof err)) {
		fprintf(stderr, "arbiter: %s\n", err);
	} else if (!store_begin(s) || !audit_append(s, actor_name(a), "audit.export", s->id,
	    details) || !store_commit(s)) {
		fprintf(stderr, "arbiter: %s\n", s->err);
	} else if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "arbiter: %s: %s\n", tmp, strerror(errno));
	} else if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "arbiter: cannot read the audit log: %s\n", sqlite3_errmsg(s->db));
	} else {
		bool io;
		bool ok = write_report(s, f, &r, &io);
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (!ok && !io)
			fprintf(stderr, "arbiter: %s\n", s->err);
		else if (!ok || fflush(f) != 0 || fsync(fileno(f)) != 0)
			fprintf(stderr, "arbiter: %s: %s\n", tmp, strerror(errno));
		else
			rc = EXIT_OK;
	}
	if (f != NULL && fclose(f) != 0 && rc == EXIT_OK) {
		fprintf(stderr, "arbiter: %s: %s\n", tmp, strerror(errno));
		rc = EXIT_ERROR;
	}
	if (rc == EXIT_OK && rename(tmp, out) != 0) {
		fprintf(stderr, "arbiter: %s: %s\n", out, strerror(errno));
		rc = EXIT_ERROR;
	}
	if (f != NULL && rc != EXIT_OK)
		unlink(tmp);
	if (rc == EXIT_OK) {
		snprintf(comment, sizeof comment, "arbiter export store %s seq %lld hash %s", s->id,
		    (long long)r.head_seq, r.head);
		if (!keys_sign_file(&kp, out, comment, err, sizeof err)) {
			fprintf(stderr, "arbiter: %s\n", err);
			rc = EXIT_ERROR;
		} else if (!r.ok) {
			printf("audit: TAMPERED at seq %lld: %s\nwrote %s and %s.minisig (the report "
			    "records the failure)\n", (long long)r.bad_seq, r.why, out, out);
			rc = EXIT_REFUSED;
		} else {
			printf("export: %lld events through seq %lld, hash %s\nwrote %s and %s.minisig\n",
			    (long long)r.events, (long long)r.head_seq, r.head, out, out);
		}
	}
	sodium_memzero(&kp, sizeof kp);
	json_decref(details);
	store_close(s);
	return rc;
}
