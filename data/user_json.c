/*
 * user_json.c: a JSON object a user hands over to be kept in an audit
 * event's details: the details of an app.* event (arbiter audit record,
 * POST /v1/audit/records) and a submission's outcome (POST
 * /v1/submissions/ID/outcome).
 *
 * It is read strictly as RFC 8259 JSON, as arbiter hook reads its input
 * (jansson: a trailing comma, a comment or a bare word is malformed, and a
 * duplicate key or an integer beyond ±(2^53 - 1) is refused, each with the
 * line and column jansson names), must be an object, and is kept as the
 * audit chain keeps details: jansson's compact text with its keys sorted,
 * which reading and writing again gives back exactly. Its size is that
 * text's, so that the limit is the same however the input was spaced.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

json_t *user_object_read(const char *file, const char *text, size_t len, size_t max,
    const char *what, user_json_error *e)
{
	memset(e, 0, sizeof *e);
	size_t blank = 0;
	while (blank < len && strchr(" \t\r\n", text[blank]) != NULL && text[blank] != '\0')
		blank++;
	if (blank == len) {
		snprintf(e->message, sizeof e->message, "%s: empty: %s must be a JSON object, e.g. {}",
		    file, what);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		e->line = je.line > 0 ? je.line : 1;
		e->col = je.column > 0 ? je.column : 1;
		/* jansson's words, but for the flag it names */
		bool nul = strstr(je.text, "JSON_ALLOW_NUL") != NULL;
		snprintf(e->message, sizeof e->message, "%s:%d:%d: %s", file, e->line, e->col,
		    nul ? "a string holds \\u0000, which arbiter refuses" : je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		e->line = e->col = 1;
		snprintf(e->message, sizeof e->message, "%s:1:1: %s must be a JSON object ({...}), not "
		    "an array", file, what);
	} else if (!json_exact_integers(j)) {
		snprintf(e->message, sizeof e->message, "%s: an integer beyond ±(2^53 - 1) in %s, "
		    "which arbiter refuses (I-JSON)", file, what);
	} else {
		char *kept = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		size_t n = kept ? strlen(kept) : 0;
		free(kept);
		if (kept != NULL && n <= max)
			return j;
		e->too_large = kept != NULL;
		if (kept == NULL)
			snprintf(e->message, sizeof e->message, "%s: %s cannot be written as JSON", file,
			    what);
		else
			snprintf(e->message, sizeof e->message, "%s: %s: %zu bytes as stored, over the "
			    "limit of %zu", file, what, n, max);
	}
	json_decref(j);
	return NULL;
}
