/*
 * report.c: evaluation results as JSON (jansson) and as text for people.
 *
 * The JSON shape is the contract of PRODUCT.md section 3; callers with a
 * store add "id" and "policy_version" in front.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* json_string refuses text that is not UTF-8, and the key would then vanish
 * from the finding: details shorten long values by bytes, so they can end
 * inside a character, and file names in sources are whatever the file
 * system holds. Bad bytes become U+FFFD instead. */
static json_t *str_or_null(const char *s)
{
	if (s == NULL)
		return json_null();
	json_t *j = json_string(s);
	if (j != NULL)
		return j;
	size_t n = strlen(s), off = 0;
	char *buf = malloc(3 * n + 1);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);
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
	buf[off] = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *node_to_json(const node *n)
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

json_t *result_to_json(const submission *sub, const eval_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "ref", str_or_null(sub->ref));
	json_object_set_new(o, "kind", json_string(sub->kind));
	json_object_set_new(o, "action", json_string(sub->action));
	if (sub->title)
		json_object_set_new(o, "title", json_string(sub->title));
	if (sub->submitter)
		json_object_set_new(o, "submitter", json_string(sub->submitter));
	json_object_set_new(o, "status", json_string(status_name(r->status)));
	json_t *counts = json_object();
	for (int s = SEV_INFO; s <= SEV_CRITICAL; s++)
		json_object_set_new(counts, severity_name(s), json_integer(r->counts[s]));
	json_object_set_new(o, "counts", counts);
	json_t *list = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		json_t *j = json_object();
		json_object_set_new(j, "policy", json_string(f->name));
		json_object_set_new(j, "type", json_string(f->type));
		json_object_set_new(j, "severity", json_string(severity_name(f->severity)));
		json_object_set_new(j, "effect", json_string(effect_name(f->effect)));
		json_object_set_new(j, "overridable", json_boolean(f->overridable));
		json_object_set_new(j, "message", str_or_null(f->message));
		json_object_set_new(j, "detail", str_or_null(f->detail));
		json_object_set_new(j, "path", str_or_null(f->path));
		json_object_set_new(j, "source", str_or_null(f->source));
		json_array_append_new(list, j);
	}
	json_object_set_new(o, "findings", list);
	if (r->nmods > 0) {
		json_t *mods = json_object();
		for (size_t i = 0; i < r->nmods; i++)
			json_object_set_new(mods, r->mods[i].key, node_to_json(r->mods[i].value));
		json_object_set_new(o, "modifications", mods);
	}
	return o;
}

void result_print_text(FILE *out, const submission *sub, const eval_result *r)
{
	fprintf(out, "%s:%d: %s %s %s", sub->file, sub->line, status_name(r->status), sub->kind,
	    sub->action);
	if (sub->ref)
		fprintf(out, " ref=%s", sub->ref);
	if (sub->title)
		fprintf(out, " \"%s\"", sub->title);
	fprintf(out, " (%d critical, %d warning, %d info)\n", r->counts[SEV_CRITICAL],
	    r->counts[SEV_WARNING], r->counts[SEV_INFO]);
	for (size_t i = 0; i < r->n; i++) {
		const finding *f = &r->findings[i];
		fprintf(out, "  %-8s %-16s %s: %s\n", severity_name(f->severity),
		    effect_name(f->effect), f->name, f->message);
		fprintf(out, "           %s\n", f->detail ? f->detail : "");
		fprintf(out, "           at %s, %s%s%s\n", f->path ? f->path : "-", f->source,
		    f->type && strcmp(f->type, "error") == 0 ? ", evaluation error" : "",
		    f->effect == EFF_DENY && !f->overridable ? ", not overridable" : "");
	}
	for (size_t i = 0; i < r->nmods; i++) {
		char buf[128];
		value_format(value_of_node(r->mods[i].value), buf, sizeof buf);
		fprintf(out, "  modify   %s = %s (by %s)\n", r->mods[i].key, buf, r->mods[i].by->name);
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
	return o;
}
