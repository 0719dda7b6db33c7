/*
 * report.c: evaluation results as JSON (jansson) and as text for people.
 *
 * The JSON shape is the contract of PRODUCT.md section 3; callers with a
 * store add "id" and "policy_version" in front. "digest" is the submission's
 * (submission_digest), null when it was not computed.
 */
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* json_string refuses text that is not UTF-8, and the key would then vanish
 * from the finding: details shorten long values by bytes, so they can end
 * inside a character, and file names in sources are whatever the file
 * system holds. Bad bytes become U+FFFD instead. */
json_t *json_string_lossy(const char *s, size_t n)
{
	if (s == NULL)
		return json_null();
	json_t *j = json_stringn(s, n);
	if (j != NULL)
		return j;
	size_t off = 0;
	char *buf = malloc(3 * n + 1);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < n;) {
		size_t k = utf8_char_len(s + i, n - i);
		if (k == 0) {
			memcpy(buf + off, "\xEF\xBF\xBD", 3);
			off += 3;
			i++;
		} else {
			memcpy(buf + off, s + i, k);
			off += k;
			i += k;
		}
	}
	j = json_stringn(buf, off);
	free(buf);
	return j;
}

bool json_exact_integers(const json_t *j)
{
	const char *key;
	json_t *val;
	size_t i;
	switch (json_typeof(j)) {
	case JSON_INTEGER:
		return json_integer_value(j) >= -DOC_MAX_INT && json_integer_value(j) <= DOC_MAX_INT;
	case JSON_ARRAY:
		json_array_foreach(j, i, val)
			if (!json_exact_integers(val))
				return false;
		return true;
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, key, val)
			if (!json_exact_integers(val))
				return false;
		return true;
	default:
		return true;
	}
}

static json_t *str_or_null(const char *s)
{
	return json_string_lossy(s, s ? strlen(s) : 0);
}

json_t *node_to_json(const node *n)
{
	switch (n->type) {
	case NODE_BOOL: return json_boolean(n->u.b);
	case NODE_INT: return json_integer(n->u.i);
	case NODE_FLOAT: return json_real(n->u.d);
	case NODE_STRING: return json_stringn(n->u.str.s, n->u.str.len);
	case NODE_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->u.list.n; i++)
			json_array_append_new(a, node_to_json(n->u.list.items[i]));
		return a;
	}
	case NODE_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->u.map.n; i++)
			json_object_setn_new(o, n->u.map.keys[i]->u.str.s, n->u.map.keys[i]->u.str.len,
			    node_to_json(n->u.map.vals[i]));
		return o;
	}
	default: return json_null();
	}
}

/* ---- compact JSON text, written straight into a buffer ----
 *
 * One result per submission is the hot path of `eval --jsonl --json`, so
 * results are not built as jansson trees: the framing is written here, and
 * every string as jansson would encode it (json_string_write), those of
 * policies once, when the set loads (json_quote). result_to_json parses this
 * same text, so there is one serializer. */

static void sb_put_json(strbuf *b, json_t *j)
{
	char small[512];
	size_t n = json_dumpb(j, small, sizeof small, JSON_COMPACT | JSON_ENCODE_ANY);
	if (n <= sizeof small) {
		sb_put(b, small, n);
		return;
	}
	char *big = malloc(n);
	if (big == NULL)
		abort();
	json_dumpb(j, big, n, JSON_COMPACT | JSON_ENCODE_ANY);
	sb_put(b, big, n);
	free(big);
}

/* s (n bytes) as jansson writes a JSON string (null for NULL), without
 * building one; jansson only for bytes that are not UTF-8, which it writes
 * as U+FFFD. */
void sb_put_json_stringn(strbuf *b, const char *s, size_t n)
{
	if (s != NULL && json_string_write(b, s, n, true))
		return;
	json_t *j = json_string_lossy(s, n);    /* null, or bad bytes as U+FFFD */
	sb_put_json(b, j);
	json_decref(j);
}

void sb_put_json_string(strbuf *b, const char *s)
{
	sb_put_json_stringn(b, s, s ? strlen(s) : 0);
}

/* ---- a document's canonical JSON ----
 *
 * Byte for byte what jansson writes for node_to_json's tree with
 * JSON_COMPACT | JSON_SORT_KEYS, which is what every stored content hash was
 * computed over, without building the tree: keys sorted by their bytes
 * (shorter first on a tie), numbers in jansson's formats, strings encoded by
 * jansson unless plain, and whatever jansson refuses to hold (a non-finite
 * number, a string that is not UTF-8) left out, as there. The fuzzer
 * fuzz_doc checks the two agree. */

/* jansson's real: %.17g, a '.' for the locale's point, ".0" when it would
 * read as an integer, and the exponent without '+' or leading zeros. */
static bool put_real(strbuf *b, double d)
{
	if (!isfinite(d))
		return false;
	char num[64];
	int len = snprintf(num, sizeof num, "%.17g", d);
	char point = localeconv()->decimal_point[0];
	for (char *p = num; *p; p++)
		if (*p == point)
			*p = '.';
	if (strchr(num, '.') == NULL && strchr(num, 'e') == NULL) {
		memcpy(num + len, ".0", 3);
		len += 2;
	}
	char *e = strchr(num, 'e');
	if (e != NULL) {
		char *start = e + 1, *end = e + 2;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		memmove(start, end, (size_t)(num + len - end) + 1);
	}
	sb_puts(b, num);
	return true;
}

static bool is_encodable(const node *n)
{
	if (n->type == NODE_FLOAT)
		return isfinite(n->u.d);
	if (n->type != NODE_STRING || n->verbatim)
		return true;            /* a verbatim string's UTF-8 was checked */
	/* valid UTF-8, as jansson checks it (no overlong form, no surrogate,
	 * nothing past U+10FFFF) */
	for (size_t i = 0; i < n->u.str.len;) {
		size_t k = utf8_char_len(n->u.str.s + i, n->u.str.len - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

typedef map_member member;

static int key_order(const void *x, const void *y)
{
	const node *a = ((const member *)x)->key, *b = ((const member *)y)->key;
	size_t min = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
	int c = memcmp(a->u.str.s, b->u.str.s, min);
	return c != 0 ? c : (a->u.str.len > b->u.str.len) - (a->u.str.len < b->u.str.len);
}

/* A string node; a verbatim one (JSON's bytes, checked: no escape needed)
 * as it is, which is what jansson writes for it. */
static void put_string_node(strbuf *b, const node *n)
{
	if (!n->verbatim) {
		json_string_write(b, n->u.str.s, n->u.str.len, true);
		return;
	}
	sb_put(b, "\"", 1);
	sb_put(b, n->u.str.s, n->u.str.len);
	sb_put(b, "\"", 1);
}

static void put_canonical(strbuf *b, const node *n)
{
	switch (n->type) {
	case NODE_BOOL:
		sb_puts(b, n->u.b ? "true" : "false");
		break;
	case NODE_INT:
		sb_put_int(b, n->u.i);
		break;
	case NODE_FLOAT:
		put_real(b, n->u.d);
		break;
	case NODE_STRING:
		put_string_node(b, n);
		break;
	case NODE_LIST: {
		bool first = true;
		sb_put(b, "[", 1);
		for (size_t i = 0; i < n->u.list.n; i++) {
			if (!is_encodable(n->u.list.items[i]))
				continue;
			if (!first)
				sb_put(b, ",", 1);
			first = false;
			put_canonical(b, n->u.list.items[i]);
		}
		sb_put(b, "]", 1);
		break;
	}
	case NODE_MAP: {
		size_t m = 0;
		member small[32], *order = n->u.map.n <= 32 ? small :
		    malloc(n->u.map.n * sizeof *order);
		if (order == NULL)
			abort();
		for (size_t i = 0; i < n->u.map.n; i++)
			if (is_encodable(n->u.map.keys[i]) && is_encodable(n->u.map.vals[i]))
				order[m++] = (member){ n->u.map.keys[i], n->u.map.vals[i] };
		if (m <= 32)
			members_sort(order, m, key_order);
		else
			qsort(order, m, sizeof *order, key_order);
		sb_put(b, "{", 1);
		for (size_t i = 0; i < m; i++) {
			if (i > 0)
				sb_put(b, ",", 1);
			put_string_node(b, order[i].key);
			sb_put(b, ":", 1);
			put_canonical(b, order[i].val);
		}
		sb_put(b, "}", 1);
		if (order != small)
			free(order);
		break;
	}
	default:
		sb_puts(b, "null");
	}
}

void node_write_canonical(strbuf *b, const node *n)
{
	put_canonical(b, n);
}

const char *json_quote(arena *a, const char *s)
{
	strbuf b = { 0 };
	sb_put_json_string(&b, s);
	const char *q = arena_strndup(a, b.s, b.n);
	free(b.s);
	return q;
}

static void put_field(strbuf *b, const char *key, const char *quoted_or_null, const char *raw)
{
	sb_puts(b, key);
	if (quoted_or_null != NULL)
		sb_puts(b, quoted_or_null);
	else
		sb_put_json_string(b, raw);
}

/* A submission's string of len bytes (0: strlen), which may hold NUL. */
static void put_fieldn(strbuf *b, const char *key, const char *s, size_t len)
{
	sb_puts(b, key);
	sb_put_json_stringn(b, s, s && len == 0 ? strlen(s) : len);
}

void result_write_modifications(strbuf *b, const eval_result *r)
{
	json_t *mods = json_object();
	for (size_t i = 0; i < r->nmods; i++)
		json_object_set_new(mods, r->mods[i].key, node_to_json(r->mods[i].value));
	sb_put_json(b, mods);
	json_decref(mods);
}

void result_write_counts(strbuf *b, const int counts[3], bool keys_sorted)
{
	static const int results[] = { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
	static const int sorted[] = { SEV_CRITICAL, SEV_INFO, SEV_WARNING };
	const int *order = keys_sorted ? sorted : results;
	for (int i = 0; i < 3; i++) {
		sb_puts(b, i == 0 ? "{\"" : ",\"");
		sb_puts(b, severity_name(order[i]));
		sb_puts(b, "\":");
		sb_put_int(b, counts[order[i]]);
	}
	sb_puts(b, "}");
}

void result_write_stored(strbuf *b, const char *prefix, const submission *sub,
    const eval_result *r, const char *modifications)
{
	sb_puts(b, "{");
	if (prefix != NULL)
		sb_puts(b, prefix);
	put_fieldn(b, "\"ref\":", sub->ref, sub->ref_len);
	put_field(b, ",\"kind\":", NULL, sub->kind);
	put_field(b, ",\"action\":", NULL, sub->action);
	if (sub->title)
		put_fieldn(b, ",\"title\":", sub->title, sub->title_len);
	size_t who_len;
	const char *who = submission_submitter(sub, &who_len);
	if (who)
		put_fieldn(b, ",\"submitter\":", who, who_len);
	if (sub->digest[0] != '\0') {
		sb_puts(b, ",\"digest\":\"");
		sb_puts(b, sub->digest);        /* hex */
		sb_puts(b, "\"");
	} else {
		sb_puts(b, ",\"digest\":null");
	}
	sb_puts(b, ",\"status\":\"");
	sb_puts(b, status_name(r->status));
	sb_puts(b, "\",\"counts\":");
	result_write_counts(b, r->counts, false);
	sb_puts(b, ",\"findings\":[");
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		const policy *p = f->policy;
		/* the names of types, severities and effects need no escaping */
		sb_puts(b, i ? ",{" : "{");
		put_field(b, "\"policy\":", p && f->name == p->name ? p->json_name : NULL, f->name);
		sb_puts(b, ",\"type\":\"");
		sb_puts(b, f->type);
		sb_puts(b, "\",\"severity\":\"");
		sb_puts(b, severity_name(f->severity));
		sb_puts(b, "\",\"effect\":\"");
		sb_puts(b, effect_name(f->effect));
		sb_puts(b, f->overridable ? "\",\"overridable\":true" : "\",\"overridable\":false");
		put_field(b, ",\"message\":", p && f->message == p->message ? p->json_message : NULL,
		    f->message);
		put_field(b, ",\"detail\":", NULL, f->detail);
		put_field(b, ",\"path\":", NULL, f->path);
		put_field(b, ",\"source\":", p && f->source == p->source ? p->json_source : NULL,
		    f->source);
		sb_puts(b, "}");
	}
	sb_puts(b, "]");
	if (modifications != NULL) {
		sb_puts(b, ",\"modifications\":");
		sb_puts(b, modifications);
	} else if (r->nmods > 0) {
		sb_puts(b, ",\"modifications\":");
		result_write_modifications(b, r);
	}
	sb_puts(b, "}");
}

void result_write_json(strbuf *b, const char *prefix, const submission *sub, const eval_result *r)
{
	result_write_stored(b, prefix, sub, r, NULL);
}

json_t *result_to_json(const submission *sub, const eval_result *r)
{
	strbuf b = { 0 };
	result_write_json(&b, NULL, sub, r);
	json_t *j = json_loadb(b.s, b.n, 0, NULL);
	free(b.s);
	return j;
}

/* A submission's string of len bytes (0: strlen), shown through visible. */
static void print_sub_string(FILE *out, const char *s, size_t len)
{
	visible_write(out, s, len == 0 ? strlen(s) : len, VIS_TEXT);
}

/* Every text that came from the submission or a policy file is written
 * through visible (visible.c); the rest is arbiter's own. */
void result_print_text(FILE *out, const submission *sub, const eval_result *r)
{
	visible_fputs(out, sub->file);
	fprintf(out, ":%d: %s %s ", sub->line, status_name(r->status), sub->kind);
	visible_fputs(out, sub->action);
	if (sub->ref) {
		fputs(" ref=", out);
		print_sub_string(out, sub->ref, sub->ref_len);
	}
	if (sub->title) {
		fputs(" \"", out);
		print_sub_string(out, sub->title, sub->title_len);
		fputc('"', out);
	}
	fprintf(out, " (%d critical, %d warning, %d info)\n", r->counts[SEV_CRITICAL],
	    r->counts[SEV_WARNING], r->counts[SEV_INFO]);
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		fprintf(out, "  %-8s %-16s ", severity_name(f->severity), effect_name(f->effect));
		visible_fputs(out, f->name);
		fputs(": ", out);
		visible_fputs(out, f->message);
		fputs("\n           ", out);
		visible_fputs(out, f->detail);
		fputs("\n           at ", out);
		visible_fputs(out, f->path ? f->path : "-");
		fputs(", ", out);
		visible_fputs(out, f->source);
		fprintf(out, "%s%s\n", f->type && strcmp(f->type, "error") == 0 ?
		    ", evaluation error" : "", f->effect == EFF_DENY && !f->overridable ?
		    ", not overridable" : "");
	}
	for (size_t i = 0; i < r->nmods; i++) {
		char buf[128];
		value_format(value_of_node(r->mods[i].value), buf, sizeof buf);
		fputs("  modify   ", out);
		visible_fputs(out, r->mods[i].key);
		fputs(" = ", out);
		visible_fputs(out, buf);
		fputs(" (by ", out);
		visible_fputs(out, r->mods[i].by->name);
		fputs(")\n", out);
	}
}

json_t *policy_to_json(const policy *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "type", json_string(rule_type_name(p->type)));
	json_object_set_new(o, "severity", json_string(severity_name(p->severity)));
	json_object_set_new(o, "effect", json_string(effect_name(p->effect)));
	json_object_set_new(o, "enabled", json_boolean(p->enabled));
	json_t *kinds = json_array();
	for (int k = KIND_PROPOSAL; k <= KIND_IMPORT; k <<= 1)
		if (p->kinds & k)
			json_array_append_new(kinds, json_string(kind_name(k)));
	json_object_set_new(o, "applies_to", kinds);
	json_t *actions = json_array();
	for (size_t i = 0; i < p->nactions; i++)
		json_array_append_new(actions, json_string(p->actions[i]));
	json_object_set_new(o, "actions", actions);
	json_t *ov = json_object();
	json_object_set_new(ov, "allowed", json_boolean(p->override.allowed));
	json_object_set_new(ov, "approvals", json_integer(p->override.approvals));
	json_object_set_new(ov, "role", json_string(role_name(p->override.role)));
	json_object_set_new(ov, "max_duration", p->override.max_duration
	    ? json_integer(p->override.max_duration) : json_null());
	json_object_set_new(o, "override", ov);
	json_object_set_new(o, "description", str_or_null(p->description));
	json_object_set_new(o, "message", str_or_null(p->message));
	json_object_set_new(o, "source", json_string(p->source));
	/* what a modify rule sets: a client of a server names each
	 * modification's policy by it (data/remote_submit.c) */
	if (p->effect == EFF_MODIFY && p->set != NULL)
		json_object_set_new(o, "set", node_to_json(p->set));
	return o;
}
