/*
 * events.c: GET /v1/events, the audit log as Server-Sent Events.
 *
 * Each event is "id: SEQ", "event: NAME" and "data: EVENT-JSON" (as audit
 * list --json prints it), in seq order from ?after=SEQ or the
 * Last-Event-ID header, so a client that reconnects with the last id it saw
 * misses nothing; without either the stream starts at the head. With
 * nothing to send the connection waits (waiters.c): the writer wakes it
 * after each commit, and every 15 s it sends a ":" heartbeat. An agent sees
 * only the events about its own submissions. The stream ends when the
 * server stops.
 *
 * A commit wakes every stream at once, and most of them stand at the same
 * seq: the first to read the new events keeps their text as the listener's
 * shared page, and the others at that seq take it from there instead of
 * each reading and rendering the same events again. An agent's stream,
 * which sees only some of them, reads its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mhd.h"
#include "serve.h"

/* BLOCK: the buffer libmicrohttpd gives a stream (zeroed, held as long as
 * the stream is open): events are a few hundred bytes, and a longer text is
 * handed over in several calls. */
enum { HEARTBEAT_MS = 15000, PAGE = 256, BLOCK = 4096 };

typedef struct stream {
	server *srv;
	request *rq;
	int64_t after;                  /* the last seq sent */
	strbuf pending;                 /* text not yet handed to libmicrohttpd */
	size_t off;
	int64_t heartbeat_ms;           /* the next one, mono_ms() */
} stream;

/* Whether an agent may see an event: one about its own submission. */
static bool agent_sees(stream *st, const audit_event *e)
{
	char *end;
	long long id = strtoll(e->subject, &end, 10);
	if (*e->subject == '\0' || *end != '\0' || id <= 0)
		return false;
	sub_row row;
	if (query_get(st->rq->reader, e->subject, &row) != 1)
		return false;
	const request *rq = st->rq;
	size_t n = row.submitter ? (row.submitter_len ? row.submitter_len : strlen(row.submitter)) : 0;
	bool mine = row.submitter != NULL && n == strlen(rq->who.name) &&
	    strncasecmp(row.submitter, rq->who.name, n) == 0;
	query_row_done(&row);
	return mine;
}

static bool add_event(const audit_event *e, void *ctx)
{
	stream *st = ctx;
	st->after = e->seq;
	if (st->rq->who.kind == WHO_AGENT && !agent_sees(st, e))
		return true;
	strbuf *b = &st->pending;
	size_t before = b->n;
	sb_puts(b, "id: ");
	sb_put_int(b, e->seq);
	sb_puts(b, "\nevent: ");
	sb_puts(b, e->event);
	sb_puts(b, "\ndata: ");
	if (!audit_event_write(b, e)) {
		b->n = before;          /* none of it */
		b->s[before] = '\0';
		return false;
	}
	sb_puts(b, "\n\n");
	return true;
}

/* The text of the events after seq `after` through `last`, as a stream of
 * the listener read them (only its polling thread touches it). */
struct shared_page {
	int64_t after, last;
	strbuf text;
};

/* Fills pending with the next events; false when the store failed. */
static bool fetch(stream *st)
{
	listener *l = st->rq->lst;
	struct shared_page *pg = l->events;
	bool shared = st->rq->who.kind != WHO_AGENT;
	if (shared && pg != NULL && pg->after == st->after && pg->last > pg->after) {
		sb_put(&st->pending, pg->text.s, pg->text.n);
		st->after = pg->last;
		return true;
	}
	int64_t after = st->after;
	size_t from = st->pending.n;
	audit_cursor q = { .seq = st->after, .older = false };
	if (!audit_page(st->rq->reader, &q, PAGE, add_event, st))
		return false;
	if (shared && st->after > after) {
		if (pg == NULL && (pg = l->events = calloc(1, sizeof *pg)) == NULL)
			return true;
		pg->after = after;
		pg->last = st->after;
		pg->text.n = 0;
		sb_put(&pg->text, st->pending.s + from, st->pending.n - from);
	}
	return true;
}

void events_free(listener *l)
{
	if (l->events != NULL)
		free(l->events->text.s);
	free(l->events);
	l->events = NULL;
}

static ssize_t give(stream *st, char *buf, size_t max)
{
	size_t n = st->pending.n - st->off;
	if (n > max)
		n = max;
	memcpy(buf, st->pending.s + st->off, n);
	st->off += n;
	st->rq->sent += n;
	if (st->off == st->pending.n)
		st->pending.n = st->off = 0;
	return (ssize_t)n;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	stream *st = cls;
	server *srv = st->srv;
	request *rq = st->rq;
	if (rq->who.kind == WHO_AGENT && identity_is_revoked(rq->who.name))
		return MHD_CONTENT_READER_END_OF_STREAM;        /* revoked: at once */
	if (st->pending.n > st->off)
		return give(st, buf, max);
	if (rq->woken == WOKEN_GONE)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	pthread_mutex_lock(&srv->lock);
	int64_t seen = srv->head_seq;
	bool stopping = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	if (stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->after < seen) {
		if (!fetch(st))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (st->pending.n > 0)
			return give(st, buf, max);
	}
	if (mono_ms() >= st->heartbeat_ms) {
		st->heartbeat_ms = mono_ms() + HEARTBEAT_MS;
		sb_puts(&st->pending, ":\n\n");
		return give(st, buf, max);
	}
	wait_for_change(srv, rq, st->heartbeat_ms, seen);
	return 0;                       /* suspended, or asked again at once */
}

static void free_stream(request *rq)
{
	stream *st = rq->stream;
	free(st->pending.s);
	free(st);
	rq->stream = NULL;
}

static bool parse_seq(const char *s, int64_t *out)
{
	char *end;
	if (s == NULL || *s == '\0')
		return false;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return false;
	*out = v;
	return true;
}

void h_events(server *srv, request *rq)
{
	stream *st = calloc(1, sizeof *st);
	if (st == NULL) {
		answer_error(rq, OUT_IO_ERROR, "out of memory", 0, 0);
		return;
	}
	st->srv = srv;
	st->rq = rq;
	const char *last = header(rq, MHD_HTTP_HEADER_LAST_EVENT_ID), *after = query(rq, "after");
	const char *from = last != NULL ? last : after;
	if (from != NULL && !parse_seq(from, &st->after)) {
		free(st);
		answer_error(rq, OUT_BAD_INPUT, "Last-Event-ID and after are an event's seq", 0, 0);
		return;
	}
	if (from == NULL) {
		pthread_mutex_lock(&srv->lock);
		st->after = srv->head_seq;
		pthread_mutex_unlock(&srv->lock);
	}
	st->heartbeat_ms = mono_ms() + HEARTBEAT_MS;
	sb_puts(&st->pending, ": arbiter events\n\n");
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK,
	    read_stream, st, NULL);
	if (resp == NULL) {
		free(st->pending.s);
		free(st);
		answer_error(rq, OUT_IO_ERROR, "cannot start the stream", 0, 0);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	rq->stream = st;
	rq->stream_free = free_stream;
	rq->status = 200;
	MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
}
