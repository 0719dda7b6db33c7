/*
 * body.c: what a request that changes something says: the fields of its
 * body, and whom the caller acts as.
 *
 * A body is one JSON (application/json) or YAML (application/yaml) document,
 * read with the engine's document reader as submissions are, so a malformed
 * body is refused (400) with its line and column, and a field of the wrong
 * type (422) with the field's. Each route names the fields it takes and any
 * other is refused, so that a misspelt "justification" is an error instead
 * of a silently missing one. An empty body is a document without fields.
 *
 * Whom the caller acts as: reviewers act as themselves only; the store's
 * owner keeps the power it has on the store embedded (PRODUCT.md section 9)
 * and may name, with "as", the reviewer it acts as, whose code it then
 * gives; without "as" it acts as its own login, as a command does without
 * --as. A route reads a code only with whom it is for (body_auth), so no
 * reviewer can try another's codes, nor lock them out by failing them: the
 * failures count for the origin they came from (data/codes.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mhd.h"
#include "serve.h"

int body_format(const request *rq)
{
	const char *ct = header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL)
		return -1;
	size_t n = strcspn(ct, "; ");
	if (n == 16 && strncasecmp(ct, "application/json", n) == 0)
		return BODY_JSON;
	if ((n == 16 && strncasecmp(ct, "application/yaml", n) == 0) ||
	    (n == 18 && strncasecmp(ct, "application/x-yaml", n) == 0) ||
	    (n == 9 && strncasecmp(ct, "text/yaml", n) == 0))
		return BODY_YAML;
	if ((n == 20 && strncasecmp(ct, "application/x-ndjson", n) == 0) ||
	    (n == 20 && strncasecmp(ct, "application/jsonlines", n) == 0))
		return BODY_LINES;
	return -1;
}

/* A field refused at its node's position: 422, the document is wrong. */
static bool refuse_at(body_doc *b, const node *n, const char *fmt, const char *key)
{
	char why[256];
	snprintf(why, sizeof why, fmt, key);
	answer_error(b->rq, OUT_BAD_INPUT, why, n ? (int)n->line : 0, n ? (int)n->col : 0);
	b->rq->status = 422;
	return false;
}

static bool only_blanks(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

bool body_read(request *rq, const char *const *fields, body_doc *b)
{
	b->rq = rq;
	b->root = NULL;
	const char *text = rq->body ? rq->body : "";
	if (only_blanks(text, rq->len))
		return true;
	int format = body_format(rq);
	if (format != BODY_JSON && format != BODY_YAML) {
		answer_status(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_input",
		    "the body must be application/json or application/yaml");
		return false;
	}
	diags errs = { 0 };
	bool empty = false;
	const node *root = format == BODY_JSON
	    ? doc_parse_json(rq->arena, "body", text, rq->len, 1, 0, &empty, &errs)
	    : doc_parse(rq->arena, "body", text, rq->len, 1, &empty, &errs);
	if (root == NULL && !empty) {
		answer_error(rq, OUT_BAD_INPUT, errs.items[0].msg, errs.items[0].line, errs.items[0].col);
		diags_free(&errs);
		return false;
	}
	diags_free(&errs);
	if (root == NULL || root->type == NODE_NULL)
		return true;
	if (root->type != NODE_MAP)
		return refuse_at(b, root, "the body is a %s, not a mapping of fields",
		    node_type_name(root->type));
	for (size_t i = 0; i < root->u.map.n; i++) {
		const node *k = root->u.map.keys[i];
		bool known = false;
		for (const char *const *f = fields; *f != NULL && !known; f++)
			known = k->u.str.len == strlen(*f) && memcmp(k->u.str.s, *f, k->u.str.len) == 0;
		if (!known) {
			char name[80];
			snprintf(name, sizeof name, "%.*s", (int)(k->u.str.len > 64 ? 64 : k->u.str.len),
			    k->u.str.s);
			return refuse_at(b, k, "unknown field \"%s\" for this request", name);
		}
	}
	b->root = root;
	return true;
}

bool body_string(body_doc *b, const char *key, const char **out)
{
	const node *n = node_get(b->root, key);
	if (n == NULL || n->type == NODE_NULL)
		return true;
	if (n->type != NODE_STRING)
		return refuse_at(b, n, "%s must be a string", key);
	if (memchr(n->u.str.s, '\0', n->u.str.len) != NULL)
		return refuse_at(b, n, "%s holds a NUL character", key);
	*out = arena_strndup(b->rq->arena, n->u.str.s, n->u.str.len);
	return true;
}

/* A secret field (a TOTP code), read last: its text in the document and the
 * body are wiped. */
static bool body_secret(body_doc *b, const char *key, char **out)
{
	const char *s = NULL;
	if (!body_string(b, key, &s))
		return false;
	if (s != NULL) {
		const node *n = node_get(b->root, key);
		secret_wipe((char *)n->u.str.s, n->u.str.len);
		*out = (char *)s;
	}
	if (b->rq->body != NULL)
		secret_wipe(b->rq->body, b->rq->len);
	return true;
}

bool body_bool(body_doc *b, const char *key, bool *out)
{
	const node *n = node_get(b->root, key);
	if (n == NULL || n->type == NODE_NULL)
		return true;
	if (n->type != NODE_BOOL)
		return refuse_at(b, n, "%s must be true or false", key);
	*out = n->u.b;
	return true;
}

bool body_int(body_doc *b, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const node *n = node_get(b->root, key);
	if (n == NULL || n->type == NODE_NULL)
		return true;
	if (n->type != NODE_INT || n->u.i < min || n->u.i > max) {
		char why[96];
		snprintf(why, sizeof why, "%%s must be a whole number from %lld to %lld",
		    (long long)min, (long long)max);
		return refuse_at(b, n, why, key);
	}
	*out = n->u.i;
	return true;
}

bool body_object(body_doc *b, const char *key, const char **text, size_t *len)
{
	const node *n = node_get(b->root, key);
	if (n == NULL || n->type == NODE_NULL)
		return true;
	if (n->type != NODE_MAP)
		return refuse_at(b, n, "%s must be a JSON object", key);
	char *t = node_json_text(n);
	if (t == NULL)
		return refuse_at(b, n, "%s holds a number that is not finite or text that is not "
		    "UTF-8, which JSON cannot hold", key);
	*len = strlen(t);
	*text = arena_strndup(b->rq->arena, t, *len);
	free(t);
	return true;
}

bool body_identity(body_doc *b, bool agent, identity_spec *spec)
{
	int64_t uid = -1, rate = 0;
	*spec = (identity_spec){ .uid = -1 };
	if (!body_string(b, "user", &spec->login) || !body_int(b, "uid", 0, IDENTITY_UID_MAX, &uid) ||
	    !body_bool(b, "token", &spec->token) || (agent && !body_int(b, "rate", 1, 1000000, &rate)))
		return false;
	if (spec->login != NULL && uid >= 0)
		return refuse_at(b, node_get(b->root, "uid"), "%s: user and uid are exclusive (a login, "
		    "or a uid without one)", "uid");
	if (spec->login != NULL && spec->login[0] == '\0')
		return refuse_at(b, node_get(b->root, "user"), "%s is empty", "user");
	spec->uid = (long)uid;
	spec->rate = (int)rate;
	return true;
}

bool body_ids(body_doc *b, const char *key, int64_t *ids, int max, int *count)
{
	const node *n = node_get(b->root, key);
	if (n == NULL || n->type == NODE_NULL)
		return true;
	if (n->type != NODE_LIST)
		return refuse_at(b, n, "%s must be a list of submission ids", key);
	if (n->u.list.n == 0 || n->u.list.n > (size_t)max) {
		char why[64];
		snprintf(why, sizeof why, "%%s takes from 1 to %d submission ids", max);
		return refuse_at(b, n, why, key);
	}
	int k = 0;
	for (size_t i = 0; i < n->u.list.n; i++) {
		const node *it = n->u.list.items[i];
		if (it->type != NODE_INT || it->u.i <= 0)
			return refuse_at(b, it, "%s holds something that is not a submission id", key);
		bool seen = false;      /* an id given twice is decided once, as on the CLI */
		for (int j = 0; j < k && !seen; j++)
			seen = ids[j] == it->u.i;
		if (!seen)
			ids[k++] = it->u.i;
	}
	*count = k;
	return true;
}

bool acting_as(request *rq, const char *as, const char **actor)
{
	/* names as they are compared: lower-cased; one that is no name is left
	 * for the operation to refuse */
	char *want = arena_alloc(rq->arena, IDENTITY_NAME_MAX + 1);
	char mine[IDENTITY_NAME_MAX + 1];
	bool me = identity_name(rq->who.name, mine);
	*actor = me ? arena_strdup(rq->arena, mine) : rq->who.name;
	if (as == NULL)
		return true;
	bool named = identity_name(as, want);
	if (rq->who.kind == WHO_OWNER) {
		*actor = named ? want : as;
		return true;
	}
	if (named && me && strcmp(want, mine) == 0)
		return true;
	denied_request(rq->lst->srv, rq, "acting as another reviewer");
	answer_error(rq, OUT_NOT_PERMITTED, "a reviewer acts as themselves only (\"as\" is for the "
	    "store's owner)", 0, 0);
	return false;
}

bool body_auth(body_doc *b, op_auth *auth, char **code)
{
	request *rq = b->rq;
	const char *as = NULL;
	*auth = (op_auth){ 0 };
	*code = NULL;
	if (!body_string(b, "as", &as) || !body_secret(b, "code", code))
		return false;
	if (!acting_as(rq, as, &auth->actor)) {
		if (*code != NULL)
			secret_wipe(*code, strlen(*code));
		*code = NULL;
		return false;
	}
	auth->code = *code;
	if (rq->who.kind != WHO_OWNER)
		auth->origin = arena_printf(rq->arena, "%s %s", rq->who.kind == WHO_REVIEWER ?
		    "reviewer" : "agent", rq->who.name);
	return true;
}
