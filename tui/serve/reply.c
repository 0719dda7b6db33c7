/*
 * reply.c: what a handler answers with, and the request's parts it reads:
 * the floor of tui/serve/, calling nothing of the server's own. Every
 * answer is JSON; an error is {"error": {"code", "message", "line",
 * "column"}} with the HTTP status of the outcome table (data/outcome.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mhd.h"
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

void url_decode_kept(char *s)
{
	char *w = s;
	for (const char *r = s; *r != '\0';) {
		if (r[0] == '%' && r[1] == '2' && (r[2] == 'F' || r[2] == 'f' || r[2] == '5')) {
			*w++ = r[2] == '5' ? '%' : '/';
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t url_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls, (void)c;
	char *w = s;
	for (const char *r = s; *r != '\0';) {
		int hi = r[0] == '%' ? hex_digit(r[1]) : -1, lo = hi >= 0 ? hex_digit(r[2]) : -1;
		if (lo >= 0 && !(hi == 2 && (lo == 15 || lo == 5))) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

const char *query(const request *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v == NULL || strchr(v, '%') == NULL)
		return v;
	char *copy = arena_strdup(rq->arena, v);
	url_decode_kept(copy);
	return copy;
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

int reply_open(strbuf *b, outcome o, const char *message, bool code_needed)
{
	const outcome_info *oi = outcome_of(o);
	if (message == NULL || *message == '\0')
		message = oi->message;
	if (oi->http_status < 300) {
		sb_printf(b, "{\"outcome\": \"%s\", \"message\": ", oi->name);
		sb_put_json_string(b, message);
		return oi->http_status;
	}
	error_json(b, oi->name, message, 0, 0);
	b->n -= 2;                      /* reopen the error */
	sb_puts(b, code_needed ? ", \"code_needed\": true}" : "}");
	return oi->http_status;
}

void answer_reply(request *rq, const op_reply *r)
{
	strbuf b = { 0 };
	int status = reply_open(&b, r->out, r->message, r->code_needed);
	if (r->out == OUT_BAD_INPUT)
		status = 422;           /* the body was read: the operation refused what it says */
	sb_puts(&b, "}\n");
	if (r->out == OUT_BUSY || r->out == OUT_RATE_LIMITED)
		rq->retry_after = rq->retry_after > 0 ? rq->retry_after : 1;
	answer_owned(rq, status, "application/json", b.s, b.n);
}

void answer_header(request *rq, const char *name, const char *text)
{
	if (rq->nheaders == (int)(sizeof rq->headers / sizeof rq->headers[0]))
		abort();                /* a handler's own count: a bug */
	char *copy = strdup(text);
	if (copy == NULL)
		abort();
	rq->headers[rq->nheaders].name = name;
	rq->headers[rq->nheaders++].value = copy;
}

void answer_items(request *rq, const void *items, size_t n, char *(*item)(const void *, size_t))
{
	strbuf b = { 0 };
	sb_puts(&b, "{\"items\": [");
	for (size_t i = 0; i < n; i++) {
		char *json = item(items, i);
		sb_puts(&b, i ? ",\n  " : "\n  ");
		sb_puts(&b, json);
		free(json);
	}
	sb_puts(&b, n ? "\n]}\n" : "]}\n");
	answer_owned(rq, 200, "application/json", b.s, b.n);
}
