/*
 * ops_follow.c: the reads that wait for a change: wait (until a submission
 * is decided) and audit tail -f (each event as it is appended).
 *
 * On a store opened here both poll, and polling is cheap: every 200 ms one
 * PRAGMA data_version, which costs no I/O unless another connection
 * committed, and the status or the new events are read again only when it
 * changed. No read transaction is held between polls, so writers never wait
 * on a reader. Through a server (remote_read.c) the server does the waiting.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "remote.h"

enum { POLL_MS = 200 };

static void pause_poll(void)
{
	struct timespec pause = { 0, POLL_MS * 1000000L };
	nanosleep(&pause, NULL);
}

static bool waiting(const char *status)
{
	return strcmp(status, "pending") == 0 || strcmp(status, "blocked") == 0;
}

outcome op_wait(store *s, const char *key, int64_t timeout_ms, waited *w, op_reply *r)
{
	memset(w, 0, sizeof *w);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_wait(s, key, timeout_ms, w, r);
	sub_row row;
	int found = query_get(s, key, &row);
	if (found <= 0)
		return op_say(r, found == 0 ? OUT_NOT_FOUND : found == -2 ? OUT_BAD_INPUT : OUT_IO_ERROR,
		    found == 0 ? "no submission %s" : "%s", found == 0 ? key : s->err);
	w->id = row.id;
	snprintf(w->status, sizeof w->status, "%s", row.status);
	query_row_done(&row);
	int64_t start = mono_ms(), version = -1;
	store_data_version(s, &version);
	while (waiting(w->status)) {
		if (timeout_ms >= 0 && mono_ms() - start >= timeout_ms) {
			w->timed_out = true;
			break;
		}
		pause_poll();
		int64_t now_version = -1;
		if (store_data_version(s, &now_version) && now_version == version)
			continue;
		version = now_version;
		found = query_status(s, w->id, w->status);
		if (found <= 0)
			return op_say(r, OUT_IO_ERROR, "%s", found == 0 ? "the submission disappeared" :
			    s->err);
	}
	if (w->timed_out)
		return OUT_OK;
	/* a status that allows stands only on its signed events */
	char status[16];
	return op_evidence(s, w->id, NULL, status, w->tampered, sizeof w->tampered, r);
}

typedef struct following {
	audit_visit visit;
	void *ctx;
	int64_t last;
	bool stopped;
} following;

static bool pass_on(const audit_event *e, void *ctx)
{
	following *f = ctx;
	f->last = e->seq;
	f->stopped = !f->visit(e, f->ctx);
	return !f->stopped;
}

outcome op_audit_follow(store *s, int64_t after, audit_visit visit, void *ctx,
    const volatile sig_atomic_t *stop, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_audit_follow(s, after, visit, ctx, stop, r);
	following f = { visit, ctx, after, false };
	int64_t version = 0, seen = -1;
	/* the version is read before the events: a commit between the two is
	 * seen as a change on the next poll, never missed */
	if (!store_data_version(s, &version))
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	while (!*stop && !f.stopped) {
		if (version != seen) {
			seen = version;
			audit_filter next = { .after_seq = f.last, .oldest_first = true };
			if (!audit_read(s, &next, pass_on, &f))
				return op_say(r, OUT_IO_ERROR, "%s", s->err);
		}
		if (*stop || f.stopped)
			break;
		pause_poll();
		if (!*stop && !store_data_version(s, &version))
			return op_say(r, OUT_IO_ERROR, "%s", s->err);
	}
	return OUT_OK;
}
