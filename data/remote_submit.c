/*
 * remote_submit.c: submissions through a server.
 *
 * Each document goes as its own POST /v1/submissions (its text as read from
 * its file, which the server evaluates as it was read here, with ?as=
 * naming the actor as submit --as does), and is answered after the
 * server's commit: 201 stored, 200 an identical earlier one with the same
 * ref, or the refusal with the operation's outcome and message. One request
 * per document keeps that distinction, which submit's text output makes,
 * and the server's group commit makes them share transactions with every
 * other client's.
 *
 * submit prints a new submission's evaluation as text from the result the
 * server sent, read back into an eval_result here: its findings and its
 * modifications. The result says what each modification sets, not which
 * policy set it; apply_modify (engine/eval.c) gives a key to the first
 * policy that fired and sets it, so the first policy among the findings
 * whose "set" (GET /v1/policies) names the key is the one, as it was when
 * the server evaluated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* A name of the engine's tables for the word w (-1: none). */
static int word(int (*by_name)(const char *, size_t), const json_t *o, const char *key)
{
	const char *w = json_string_value(json_object_get(o, key));
	return w ? by_name(w, strlen(w)) : -1;
}

static const char *text(arena *a, const json_t *o, const char *key)
{
	return json_member(a, o, key, NULL);
}

/* A policy that stands for a name in a finding or a modification. */
static const policy *named(arena *a, const char *name)
{
	policy *p = arena_alloc(a, sizeof *p);
	memset(p, 0, sizeof *p);
	p->name = name ? name : "?";
	return p;
}

/* The value a modification sets, as a node of the engine's documents. */
static const node *value_node(arena *a, const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (t == NULL)
		return NULL;
	diags errs = { 0 };
	bool empty;
	const node *n = doc_parse_json(a, "result", t, strlen(t), 1, DOC_INT64, &empty, &errs);
	diags_free(&errs);
	free(t);
	return n;
}

bool result_read(arena *a, const json_t *result, eval_result *r)
{
	memset(r, 0, sizeof *r);
	r->status = status_parse(json_string_value(json_object_get(result, "status")));
	const json_t *counts = json_object_get(result, "counts");
	r->counts[SEV_INFO] = (int)json_integer_value(json_object_get(counts, "info"));
	r->counts[SEV_WARNING] = (int)json_integer_value(json_object_get(counts, "warning"));
	r->counts[SEV_CRITICAL] = (int)json_integer_value(json_object_get(counts, "critical"));
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(result, "findings"), i, o) {
		finding *f = result_add(r, a);
		f->name = text(a, o, "policy");
		f->type = text(a, o, "type");
		f->severity = word(severity_by_name, o, "severity");
		f->effect = word(effect_by_name, o, "effect");
		f->overridable = json_is_true(json_object_get(o, "overridable"));
		f->message = text(a, o, "message");
		f->detail = text(a, o, "detail");
		f->path = text(a, o, "path");
		f->source = text(a, o, "source");
		if (f->name == NULL || f->severity < 0 || f->effect < 0)
			return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(result, "modifications"), key, v) {
		r->mods = arena_grow(a, r->mods, r->nmods, &r->modcap, sizeof *r->mods, 4);
		modification *m = &r->mods[r->nmods++];
		m->key = arena_strdup(a, key);
		m->value = value_node(a, v);
		m->by = named(a, NULL);
		if (m->value == NULL)
			return false;
	}
	return r->status >= 0;
}

/* Names the policy behind each modification from the policies' "set". */
static void modified_by(store *s, arena *a, eval_result *r)
{
	remote_answer ans;
	op_reply rep;
	if (remote_call(s, "GET", "/v1/policies", NULL, NULL, 0, &ans, &rep) != OUT_OK) {
		remote_answer_free(&ans);
		return;
	}
	const json_t *policies = json_object_get(ans.json, "policies");
	for (size_t m = 0; m < r->nmods; m++) {
		for (size_t i = 0; i < r->n; i++) {
			const finding *f = &r->findings[i];
			if (f->effect != EFF_MODIFY || strcmp(f->type, "error") == 0)
				continue;
			size_t k;
			json_t *p;
			json_array_foreach(policies, k, p) {
				if (json_object_get(json_object_get(p, "set"), r->mods[m].key) != NULL &&
				    strcmp(json_string_value(json_object_get(p, "name")) ?
				    json_string_value(json_object_get(p, "name")) : "", f->name) == 0)
					break;
			}
			if (k < json_array_size(policies)) {
				r->mods[m].by = named(a, arena_strdup(a, f->name));
				break;
			}
		}
	}
	remote_answer_free(&ans);
}

outcome remote_submit(submit_batch *b, const submission *sub, arena *scratch, eval_result *r,
    stored *out, submit_reply *rep)
{
	store *s = b->s;
	struct remote *rm = s->remote;
	rm->answered = false;
	memset(r, 0, sizeof *r);
	strbuf path = { 0 };
	sb_puts(&path, "/v1/submissions");
	client_path_query(&path, "as", b->actor);
	remote_answer a;
	/* the document as written: evaluated from its own text, its keys in their
	 * order, as a store opened here evaluates it */
	bool json = sub->text == NULL || sub->text_json;
	const char *doc = sub->text ? sub->text : sub->canonical ? sub->canonical : "";
	size_t len = sub->text ? sub->text_len : strlen(doc);
	outcome o = remote_call(s, "POST", path.s, json ? "application/json" : "application/yaml",
	    doc, len, &a, &rep->reply);
	free(path.s);
	if (o == OUT_OK && !result_read(scratch, a.json, r))
		o = op_say(&rep->reply, OUT_IO_ERROR, "server %.200s: its result cannot be read",
		    store_dir(s));
	/* an allow stands on its signed events, for the document sent */
	char digest[65] = "";
	if (o == OUT_OK && rm->key != NULL && (sub->digest[0] != '\0' ||
	    (sub->doc != NULL && document_digest(sub->doc, digest))) &&
	    !remote_evidence(s, a.json, sub->digest[0] ? sub->digest : digest, out->tampered,
	    sizeof out->tampered, &rep->reply)) {
		out->id = json_integer_value(json_object_get(a.json, "id"));
		snprintf(out->status, sizeof out->status, "%s",
		    json_string_value(json_object_get(a.json, "status")));
		o = OUT_TAMPERED;
	} else if (o == OUT_OK && rm->key != NULL && sub->digest[0] == '\0' && digest[0] == '\0') {
		o = op_say(&rep->reply, OUT_BAD_INPUT, "the document has no digest to check the "
		    "server's answer against");
	}
	if (o == OUT_OK) {
		out->id = json_integer_value(json_object_get(a.json, "id"));
		out->existing = a.status == 200;
		rm->answer.n = 0;
		size_t n = a.len;
		while (n > 0 && (a.body[n - 1] == '\n' || a.body[n - 1] == '\r'))
			n--;
		sb_put(&rm->answer, a.body, n);
		/* printed as a store opened here gives it: without the events */
		result_strip_evidence(&rm->answer);
		rm->answered = true;
		if (r->nmods > 0 && !out->existing)
			modified_by(s, scratch, r);
	}
	remote_answer_free(&a);
	return o;
}

bool remote_submit_result(submit_batch *b, strbuf *json, const char **status)
{
	struct remote *rm = b->s->remote;
	if (!rm->answered) {
		snprintf(b->s->err, sizeof b->s->err, "no submission was answered");
		return false;
	}
	sb_put(json, rm->answer.s, rm->answer.n);
	json_t *j = json_loadb(rm->answer.s, rm->answer.n, JSON_ALLOW_NUL, NULL);
	int st = status_parse(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	*status = st >= 0 ? status_name(st) : "pending";
	return true;
}
