/*
 * reply.c: what a handler answers with, and the request's parts it reads:
 * the floor of tui/serve/, calling nothing of the server's own. Every
 * answer is JSON; an error is {"error": {"code", "message", "line",
 * "column"}} with the HTTP status of the outcome table (data/outcome.c).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

void answer_owned(request *rq, int status, const char *content_type, char *body, size_t len)
{
	free(rq->answer);
	rq->status = status;
	rq->content_type = content_type;
	rq->answer = body;
	rq->answer_len = len;
	rq->answered = true;
}

void answer(request *rq, int status, const char *content_type, const char *body, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, body, len);
	copy[len] = '\0';
	answer_owned(rq, status, content_type, copy, len);
}

void error_json(strbuf *b, const char *code, const char *message, int line, int column)
{
	sb_puts(b, "{\"error\": {\"code\": ");
	sb_put_json_string(b, code);
	sb_puts(b, ", \"message\": ");
	sb_put_json_string(b, message);
	if (line > 0)
		sb_printf(b, ", \"line\": %d, \"column\": %d", line, column);
	sb_puts(b, "}}");
}

static void error_body(request *rq, int status, const char *code, const char *message, int line,
    int column)
{
	strbuf b = { 0 };
	error_json(&b, code, message, line, column);
	sb_puts(&b, "\n");
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void answer_error(request *rq, outcome o, const char *message, int line, int column)
{
	const outcome_info *oi = outcome_of(o);
	if (o == OUT_BUSY || o == OUT_RATE_LIMITED)
		rq->retry_after = rq->retry_after > 0 ? rq->retry_after : 1;
	error_body(rq, oi->http_status, oi->name, message && *message ? message : oi->message, line,
	    column);
}

void answer_status(request *rq, int status, const char *code, const char *message)
{
	error_body(rq, status, code, message, 0, 0);
}

const char *query(const request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *header(const request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void suspend(request *rq)
{
	rq->suspended = true;
	MHD_suspend_connection(rq->conn);
}

void resume(request *rq)
{
	MHD_resume_connection(rq->conn);
}
