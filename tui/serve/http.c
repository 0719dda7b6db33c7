/*
 * http.c: one request's life over libmicrohttpd.
 *
 * First call: the route (404 for an unknown path, 405 for a known path with
 * another method), the caller's identity, and the body's declared length
 * against its limit (413 before a byte of it is read). Then the body is
 * read whole, up to the limit, into the request's own buffer (never
 * MHD_PostProcessor); a body that grows past the limit is thrown away as it
 * comes and answered 413. Then the handler runs; it answers, or suspends the
 * connection until a job or a wait is done, after which libmicrohttpd calls
 * again and the handler runs again to answer.
 *
 * Every answer is JSON (errors {"error": {"code", "message", "line",
 * "column"}} with the status of the outcome table), and every request ends
 * in one log line on stderr when it completes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mhd.h"
#include "serve.h"

/* Each connection's buffer for its request line, headers and answer
 * headers (bodies go to the request's own buffer): libmicrohttpd zeroes it
 * for every request, and a thousand waiting connections each hold one, so it
 * is half of libmicrohttpd's default; headers that do not fit are answered
 * 431. */
enum { BODY_DEFAULT_LIMIT = 64 * 1024, CONNECTION_MEMORY = 16 * 1024 };

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Matches path against pattern, copying the * segment (percent-decoded by
 * libmicrohttpd, but for %2F and %25: url_unescape) into arg. */
static bool match(const char *pattern, const char *path, char *arg, size_t len)
{
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= len)
				return false;
			memcpy(arg, path, n);
			arg[n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == '\0' && *path == '\0';
}

/* The route for the request, or an answer of 404 or 405. */
static const route *find_route(request *rq)
{
	bool path_known = false;
	for (size_t i = 0; i < nroutes; i++) {
		char arg[sizeof rq->arg];
		if (!match(routes[i].pattern, rq->url, arg, sizeof arg))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, rq->method) == 0) {
			url_decode_kept(arg);
			memcpy(rq->arg, arg, sizeof arg);
			return &routes[i];
		}
	}
	if (path_known)
		answer_status(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
		    "this path does not take that method");
	else
		answer_status(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
	return NULL;
}

/* Whether the identity may call the route at all (its LET_*): agents no
 * route for reviewers, and only the owner or an admin the administration
 * routes, whose operations check the actor and their code again. */
static bool permitted(server *srv, request *rq)
{
	int let = rq->route->let, kind = rq->who.kind;
	const char *why;
	if (let == LET_REVIEWER && kind == WHO_AGENT)
		why = "an agent may not do this: it is for reviewers";
	else if (let == LET_ADMIN && kind != WHO_OWNER && !(kind == WHO_REVIEWER && rq->who.admin))
		why = "only an admin or the store's owner may administer reviewers and agents";
	else
		return true;
	denied_request(srv, rq, "not permitted");
	answer_error(rq, OUT_NOT_PERMITTED, why, 0, 0);
	return false;
}

/* How a request says its body's length. */
typedef struct framing {
	int lengths, encodings;         /* Content-Length, Transfer-Encoding headers */
	bool chunked;                   /* every Transfer-Encoding is "chunked" */
} framing;

static enum MHD_Result read_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *v)
{
	(void)kind;
	framing *f = cls;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		f->chunked &= v != NULL && strcasecmp(v, "chunked") == 0;  /* as libmicrohttpd reads it */
	}
	return MHD_YES;
}

/* Whether the body's length is told one way, which every reader takes
 * alike: one Content-Length, or Transfer-Encoding: chunked. Two lengths, or
 * a length beside an encoding, are read differently by different servers
 * and proxies (request smuggling), and any other encoding leaves the length
 * unknown; such a request is refused, and its connection closed, before its
 * body is read. */
static bool framing_clear(request *rq)
{
	framing f = { .chunked = true };
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, read_framing, &f);
	if (f.lengths + f.encodings <= 1 && (f.encodings == 0 || f.chunked))
		return true;
	answer_status(rq, MHD_HTTP_BAD_REQUEST, "bad_input", f.lengths + f.encodings > 1 ?
	    "the body's length must be given once: one Content-Length or one Transfer-Encoding" :
	    "the only Transfer-Encoding taken is chunked");
	rq->close = true;
	return false;
}

/* The body limit of the request: a JSON Lines batch may be larger. */
static size_t body_limit(server *srv, request *rq)
{
	if (strcmp(rq->method, "POST") != 0)
		return BODY_DEFAULT_LIMIT;
	const char *ct = header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct != NULL && strncmp(ct, "application/x-ndjson", 20) == 0)
		return (size_t)srv->cfg.max_batch;
	return (size_t)srv->cfg.max_body;
}

static bool take_body(request *rq, const char *data, size_t size)
{
	if (rq->too_large || rq->answered)
		return true;
	if (size > rq->limit - rq->len) {
		rq->too_large = true;
		free(rq->body);
		rq->body = NULL;
		rq->len = rq->cap = 0;
		return true;
	}
	if (rq->len + size + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		while (cap < rq->len + size + 1)
			cap *= 2;
		char *b = realloc(rq->body, cap);
		if (b == NULL)
			return false;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, size);
	rq->len += size;
	rq->body[rq->len] = '\0';
	return true;
}

static enum MHD_Result send_answer(request *rq)
{
	struct MHD_Response *resp;
	if (rq->answer_fd >= 0) {
		resp = MHD_create_response_from_fd(rq->answer_len, rq->answer_fd);
		if (resp == NULL)
			return MHD_NO;
		rq->answer_fd = -1;     /* the response closes it */
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(rq->answer_len, rq->answer,
		    free);
		if (resp == NULL)
			return MHD_NO;
		rq->answer = NULL;      /* the response frees it */
	}
	rq->sent = rq->answer_len;
	for (int i = 0; i < rq->nheaders; i++)
		MHD_add_response_header(resp, rq->headers[i].name, rq->headers[i].value);
	if (rq->content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->content_type);
	if (rq->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (rq->retry_after > 0) {
		char v[16];
		snprintf(v, sizeof v, "%d", rq->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)rq->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *size, void **ctx)
{
	(void)version;
	listener *lst = cls;
	server *srv = lst->srv;
	request *rq = *ctx;
	if (rq == NULL) {
		rq = calloc(1, sizeof *rq);
		if (rq == NULL)
			return MHD_NO;
		*ctx = rq;
		pthread_mutex_lock(&srv->lock);
		srv->active++;
		pthread_mutex_unlock(&srv->lock);
		rq->conn = conn;
		rq->lst = lst;
		rq->reader = lst->reader;
		rq->fd = -1;
		rq->answer_fd = -1;
		rq->arena = arena_new();
		rq->url = url;
		rq->method = method;
		rq->started_us = wall_us();
		rq->status = 500;
		rq->route = framing_clear(rq) ? find_route(rq) : NULL;
		if (rq->route != NULL && (rq->route->let == LET_ANYONE || (identify(srv, rq) &&
		    permitted(srv, rq)))) {
			rq->limit = body_limit(srv, rq);
			const char *cl = header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl != NULL && strtoull(cl, NULL, 10) > rq->limit)
				rq->too_large = true;
		}
		if (rq->answered || rq->too_large)
			goto finish;
		return MHD_YES;
	}
	if (*size > 0) {
		bool ok = take_body(rq, data, *size);
		*size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	if (rq->suspended)
		rq->suspended = false;          /* resumed: run the handler again */
finish:
	if (!rq->answered && rq->too_large)
		answer_status(rq, MHD_HTTP_CONTENT_TOO_LARGE, "bad_input",
		    "the body is larger than the server's limit (server.max_body)");
	if (!rq->answered && rq->job.done)
		answer_error(rq, OUT_IO_ERROR, "the request's job ended without an answer", 0, 0);
	if (!rq->answered && rq->stream == NULL)
		rq->route->handle(srv, rq);
	if (rq->suspended || rq->stream != NULL)
		return MHD_YES;
	if (!rq->answered)
		answer_error(rq, OUT_IO_ERROR, "the request could not be answered", 0, 0);
	return send_answer(rq);
}

/* One line per request: time, identity, method, path, status, bytes,
 * microseconds; as text or, with --log-json, a JSON object. */
static void log_request(server *srv, request *rq)
{
	char ts[40];
	format_time(now_ms(), ts);
	const char *who = rq->who.kind != WHO_NONE ? rq->who.name : "-";
	long long us = (long long)(wall_us() - rq->started_us);
	if (srv->log_json) {
		strbuf b = { 0 };
		sb_puts(&b, "{\"time\": ");
		sb_put_json_string(&b, ts);
		sb_puts(&b, ", \"identity\": ");
		sb_put_json_string(&b, who);
		sb_puts(&b, ", \"address\": ");
		sb_put_json_string(&b, rq->who.address);
		sb_puts(&b, ", \"method\": ");
		sb_put_json_string(&b, rq->method);
		sb_puts(&b, ", \"path\": ");
		sb_put_json_string(&b, rq->url);
		sb_printf(&b, ", \"status\": %d, \"bytes\": %zu, \"microseconds\": %lld}\n",
		    rq->status, rq->sent, us);
		term_exact(stderr, b.s, b.n);
		free(b.s);
	} else {
		err_printf("%s %s %s %s %d %zu %lld\n", ts, who, rq->method, rq->url, rq->status,
		    rq->sent, us);
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode why)
{
	(void)conn;
	server *srv = ((listener *)cls)->srv;
	request *rq = *ctx;
	if (rq == NULL)
		return;
	/* ended before its answer was sent whole: the client hung up (499, as
	 * nginx logs it), or went quiet for server.idle_timeout (408); an event
	 * stream has no end of its own and keeps its 200 */
	if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->stream == NULL) {
		rq->status = why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499;
		rq->sent = 0;
	}
	waiters_remove(srv, rq);
	pthread_mutex_lock(&srv->lock);
	srv->active--;
	srv->ended++;
	pthread_mutex_unlock(&srv->lock);
	if (rq->route != NULL || rq->answered)
		log_request(srv, rq);
	if (rq->stream_free != NULL)
		rq->stream_free(rq);
	free(rq->body);
	free(rq->answer);
	if (rq->answer_fd >= 0)
		close(rq->answer_fd);
	for (int i = 0; i < rq->nheaders; i++)
		free(rq->headers[i].value);
	free(rq->job.out.s);
	if (rq->arena != NULL)
		arena_free(rq->arena);
	free(rq);
	*ctx = NULL;
}

bool http_start(listener *l, int listen_fd, const char *cert, const char *key, char *err,
    size_t errlen)
{
	server *srv = l->srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_TURBO;
	if (cert != NULL)
		flags |= MHD_USE_TLS;
	if (!serve_mhd_ready()) {
		snprintf(err, errlen, "cannot start the HTTP server: %s", serve_mhd_error());
		return false;
	}
	errno = 0;
	if (cert != NULL)
		l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
		    MHD_OPTION_LISTEN_SOCKET, listen_fd,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.idle_timeout,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		    MHD_OPTION_UNESCAPE_CALLBACK, url_unescape, NULL,
		    MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
		    MHD_OPTION_END);
	else
		l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
		    MHD_OPTION_LISTEN_SOCKET, listen_fd,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.idle_timeout,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
		    MHD_OPTION_UNESCAPE_CALLBACK, url_unescape, NULL,
		    MHD_OPTION_END);
	if (l->daemon == NULL)
		snprintf(err, errlen, "cannot start the HTTP server: %s",
		    errno ? strerror(errno) : "libmicrohttpd refused its options");
	return l->daemon != NULL;
}
