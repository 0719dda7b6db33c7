/*
 * client_path.c: the paths and queries of requests to a server, each value
 * percent-encoded by libcurl, so that an id, a ref or a filter given by a
 * user is always one segment or one value, never more of the path.
 */
#include <stdlib.h>
#include <string.h>

#include "client_curl.h"
#include "remote.h"

static void put_escaped(strbuf *b, const char *s, size_t len)
{
	/* a path is built for a connection made, which loaded libcurl */
	char *e = client_curl_ready() ? curl_easy_escape(NULL, s, (int)len) : NULL;
	if (e == NULL)
		abort();
	sb_puts(b, e);
	curl_free(e);
}

void client_path_segment(strbuf *b, const char *s, size_t len)
{
	put_escaped(b, s, len);
}

void client_path_query(strbuf *b, const char *name, const char *v)
{
	if (v == NULL)
		return;
	bool first = b->n == 0 || memchr(b->s, '?', b->n) == NULL;
	sb_puts(b, first ? "?" : "&");
	sb_puts(b, name);
	sb_puts(b, "=");
	put_escaped(b, v, strlen(v));
}
