/*
 * routes_audit.c: the audit log through the server (PRODUCT.md sections 6
 * and 9).
 *
 *   GET /v1/audit?event=&actor=&subject=&action=&since=&until=&limit=&after=
 *   POST /v1/audit/checkpoints, GET /v1/audit/export, GET /v1/keys
 *
 * Reads run on the polling thread's connection; a checkpoint and an export
 * append their own event (audit.checkpoint, audit.export) and sign with the
 * store's key, so they run as writer jobs through op_audit_checkpoint and
 * op_audit_export. Their files are written in the store directory under the
 * names the commands give them by default, and stay there as the server's
 * copy (the event names it); the answer carries them to the caller: a
 * checkpoint's text and signature in its JSON, an export's report as the
 * body itself, sent from the file, with its signature (the .minisig file's
 * text, in base64) in the X-Arbiter-Minisig header.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

enum { AUDIT_PAGE_DEFAULT = 50, AUDIT_PAGE_MAX = 1000 };

typedef struct page {
	strbuf b;
	int64_t limit, n, last_seq;
	bool more, failed;
} page;

static bool page_event(const audit_event *e, void *ctx)
{
	page *p = ctx;
	if (p->n == p->limit) {
		p->more = true;         /* the one read beyond the page */
		return false;
	}
	sb_puts(&p->b, p->n++ ? ",\n  " : "\n  ");
	if (!audit_event_write(&p->b, e)) {
		p->failed = true;
		return false;
	}
	p->last_seq = e->seq;
	return true;
}

static bool count_param(request *rq, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *v = query(rq, name);
	if (v == NULL)
		return true;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*v != '\0' && *end == '\0' && n >= min && n <= max) {
		*out = n;
		return true;
	}
	char why[160];
	snprintf(why, sizeof why, "%s is a number from %lld to %lld", name, (long long)min,
	    (long long)max);
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	return false;
}

static bool time_param(request *rq, const char *name, int64_t *ms)
{
	const char *v = query(rq, name);
	if (v == NULL || parse_time(v, ms))
		return true;
	char why[128];
	snprintf(why, sizeof why, "%s is not a time (RFC 3339, or a duration ago such as 24h)",
	    name);
	answer_error(rq, OUT_BAD_INPUT, why, 0, 0);
	return false;
}

void h_audit(server *srv, request *rq)
{
	(void)srv;
	audit_filter f = { .event = query(rq, "event"), .actor = query(rq, "actor"),
		.subject = query(rq, "subject"), .action = query(rq, "action") };
	int64_t limit = AUDIT_PAGE_DEFAULT, after = 0, newer = -1;
	if (!count_param(rq, "limit", 1, AUDIT_PAGE_MAX, &limit) ||
	    !count_param(rq, "after", 1, INT64_MAX, &after) ||
	    !count_param(rq, "newer", 0, INT64_MAX, &newer) ||
	    !time_param(rq, "since", &f.since_ms) || !time_param(rq, "until", &f.until_ms))
		return;
	if (after > 0 && newer >= 0) {
		answer_error(rq, OUT_BAD_INPUT, "after (older events) and newer (newer events) "
		    "cannot be given together", 0, 0);
		return;
	}
	f.limit = limit + 1;            /* one more says whether a next page exists */
	f.before_seq = after;
	if (newer >= 0) {               /* oldest first from beyond newer: the cursor walks on */
		f.after_seq = newer;
		f.oldest_first = f.walk = true;
	}
	page p = { .limit = limit };
	sb_puts(&p.b, "{\"items\": [");
	if (!audit_read(rq->reader, &f, page_event, &p) || p.failed) {
		free(p.b.s);
		answer_error(rq, OUT_IO_ERROR, p.failed ? "cannot write an event" :
		    store_errmsg(rq->reader), 0, 0);
		return;
	}
	sb_puts(&p.b, p.n ? "\n], \"next\": " : "], \"next\": ");
	if (p.more)
		sb_printf(&p.b, "\"%lld\"}\n", (long long)p.last_seq);
	else
		sb_puts(&p.b, "null}\n");
	answer_owned(rq, 200, "application/json", p.b.s, p.b.n);
}

/* A file's name in the store directory, by the commands' default naming;
 * one taken already (two in the same second) gets a number. */
static void fresh_name(const char *dir, const char *what, const char *ext, char *out,
    size_t len)
{
	audit_file_name(dir, what, ext, out, len);
	for (int i = 2; access(out, F_OK) == 0 && i < 1000; i++) {
		char numbered[32];
		snprintf(numbered, sizeof numbered, "%d.%s", i, ext);
		audit_file_name(dir, what, numbered, out, len);
	}
}

static char *read_text(const char *path, char *why, size_t whylen)
{
	size_t len;
	return read_file(path, &len, why, whylen);
}

/* ---- POST /v1/audit/checkpoints ---- */

typedef struct audit_ctx {
	const char *actor;
} audit_ctx;

static void run_checkpoint(server *srv, store *w, job *j)
{
	(void)srv;
	audit_ctx *c = j->ctx;
	request *rq = j->rq;
	char path[PATH_MAX], sig[PATH_MAX + 16], why[256];
	fresh_name(store_dir(w), "checkpoint", "txt", path, sizeof path);
	snprintf(sig, sizeof sig, "%s.minisig", path);
	audit_checkpointed r;
	if (op_audit_checkpoint(w, c->actor, path, &r) != OUT_OK) {
		answer_reply(rq, &r.reply);
		return;
	}
	char *text = read_text(path, why, sizeof why), *minisig = text ? read_text(sig, why,
	    sizeof why) : NULL;
	if (minisig == NULL) {
		free(text);
		answer_error(rq, OUT_IO_ERROR, why, 0, 0);
		return;
	}
	strbuf b = { 0 };
	int status = reply_open(&b, OUT_OK, r.reply.message, false);
	sb_printf(&b, ", \"seq\": %lld, \"hash\": \"%s\", \"file\": ", (long long)r.seq, r.hash);
	sb_put_json_string(&b, path);
	sb_puts(&b, ", \"checkpoint\": ");
	sb_put_json_string(&b, text);
	sb_puts(&b, ", \"minisig\": ");
	sb_put_json_string(&b, minisig);
	sb_puts(&b, "}\n");
	free(text);
	free(minisig);
	answer_owned(rq, status, "application/json", b.s, b.n);
}

static audit_ctx *read_actor(request *rq)
{
	static const char *const fields[] = { "as", NULL };
	body_doc b;
	const char *as = NULL;
	audit_ctx *c = arena_alloc(rq->arena, sizeof *c);
	if (!body_read(rq, fields, &b) || !body_string(&b, "as", &as) ||
	    !acting_as(rq, as, &c->actor))
		return NULL;
	return c;
}

void h_checkpoint(server *srv, request *rq)
{
	audit_ctx *c = read_actor(rq);
	if (c == NULL)
		return;
	rq->job.ctx = c;
	writer_run(srv, rq, run_checkpoint);
}

/* ---- GET /v1/audit/export ---- */

static void run_export(server *srv, store *w, job *j)
{
	(void)srv;
	audit_ctx *c = j->ctx;
	request *rq = j->rq;
	char path[PATH_MAX], sig[PATH_MAX + 16], why[256];
	fresh_name(store_dir(w), "export", "json", path, sizeof path);
	snprintf(sig, sizeof sig, "%s.minisig", path);
	audit_exported r;
	outcome o = op_audit_export(w, c->actor, path, NULL, NULL, &r);
	if (o != OUT_OK && o != OUT_TAMPERED) {
		answer_reply(rq, &r.reply);
		return;
	}
	/* the report as the body, straight from its file */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t siglen;
	char *minisig = fd >= 0 ? read_file(sig, &siglen, why, sizeof why) : NULL;
	if (fd < 0 || minisig == NULL || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		free(minisig);
		answer_error(rq, OUT_IO_ERROR, fd < 0 ? "cannot open the report just written" : why,
		    0, 0);
		return;
	}
	char *b64 = text_base64(minisig, siglen);
	free(minisig);
	answer_header(rq, "X-Arbiter-Minisig", b64);
	free(b64);
	answer_header(rq, "X-Arbiter-Message", r.reply.message);
	answer_header(rq, "X-Arbiter-File", path);
	free(rq->answer);
	rq->answer = NULL;
	rq->answer_fd = fd;
	rq->answer_len = (size_t)st.st_size;
	rq->status = outcome_of(o)->http_status;
	rq->content_type = "application/json";
	rq->answered = true;
}

void h_export(server *srv, request *rq)
{
	audit_ctx *c = arena_alloc(rq->arena, sizeof *c);
	/* ?as=NAME: the actor of its audit.export event, as export --as gives it */
	if (!acting_as(rq, query(rq, "as"), &c->actor))
		return;
	rq->job.ctx = c;
	writer_run(srv, rq, run_export);
}

/* ---- GET /v1/keys ---- */

void h_keys(server *srv, request *rq)
{
	(void)srv;
	audit_filter f = { .event = "key.rotate", .oldest_first = true };
	page p = { .limit = INT64_MAX };
	sb_puts(&p.b, "{\"items\": [");
	if (!audit_read(rq->reader, &f, page_event, &p) || p.failed) {
		free(p.b.s);
		answer_error(rq, OUT_IO_ERROR, store_errmsg(rq->reader), 0, 0);
		return;
	}
	char path[PATH_MAX], why[256];
	snprintf(path, sizeof path, "%s/keys/audit.pub", store_dir(rq->reader));
	char *pub = read_text(path, why, sizeof why);
	if (pub == NULL) {
		free(p.b.s);
		answer_error(rq, OUT_IO_ERROR, why, 0, 0);
		return;
	}
	sb_puts(&p.b, p.n ? "\n], \"pubkey\": " : "], \"pubkey\": ");
	sb_put_json_string(&p.b, pub);
	sb_puts(&p.b, "}\n");
	free(pub);
	answer_owned(rq, 200, "application/json", p.b.s, p.b.n);
}
