/*
 * hook.c: `arbiter hook`'s work, between the agent's tool call and the
 * server (PRODUCT.md section 9).
 *
 * Three steps, each a function the command calls in turn:
 * - hook_call_document: the host's JSON object (tool_name, tool_input,
 *   cwd, session_id, hook_event_name) becomes the tool.call submission.
 *   The input is read with jansson, strictly as RFC 8259 (duplicate keys
 *   and integers beyond ±(2^53 - 1) refused, surrogate pairs joined), and written
 *   back as UTF-8, so that what the server digests is exactly the call.
 * - hook_run: the submission goes out with ?match=digest; with a wait, the
 *   hook long-polls GET /v1/submissions/ID?wait= until the status is
 *   final or the wait is over. A 429 or 503 is retried after its
 *   Retry-After while that still fits in the time left.
 * - hook_judge: one answer becomes one verdict. The only answers that
 *   allow are a submission that is allowed without modifications,
 *   approved, or overridden (the server reads an override past its expiry
 *   as expired); everything else, an unreadable answer included, denies,
 *   with one line naming the submission, the deciding policies and what a
 *   reviewer can do.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"

void hook_reason(hook_verdict *v, const char *word)
{
	snprintf(v->reason, sizeof v->reason, "%s (#%lld)%s%s", word, (long long)v->id,
	    v->detail[0] ? ": " : "", v->detail);
}

static void reason(hook_verdict *v, const char *fmt, ...) ATTR_PRINTF(2, 3);
static void reason(hook_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
}

/* ---- the call ---- */

bool hook_call_document(const char *text, size_t len, const char *cwd, strbuf *body, char *err,
    size_t errlen)
{
	json_error_t e;
	json_t *in = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (in == NULL) {
		snprintf(err, errlen, "<stdin>:%d:%d: %s", e.line, e.column, e.text);
		return false;
	}
	bool ok = false;
	json_t *doc = NULL, *meta = NULL;
	json_t *tool = json_object_get(in, "tool_name"), *input = json_object_get(in, "tool_input");
	json_t *where = json_object_get(in, "cwd");
	if (!json_is_object(in)) {
		snprintf(err, errlen, "<stdin>: the hook reads one JSON object (the tool call), not %s",
		    json_is_array(in) ? "an array" : "a single value");
		goto out;
	}
	if (!json_is_string(tool) || json_string_length(tool) == 0) {
		snprintf(err, errlen, "<stdin>: the call has no tool_name (a string)");
		goto out;
	}
	if (input == NULL) {
		snprintf(err, errlen, "<stdin>: the call has no tool_input");
		goto out;
	}
	if (where != NULL && !json_is_string(where)) {
		snprintf(err, errlen, "<stdin>: the call's cwd is not a string");
		goto out;
	}
	if (!json_exact_integers(in)) {
		snprintf(err, errlen, "<stdin>: the call holds an integer beyond ±(2^53 - 1), which arbiter "
		    "refuses (I-JSON) so that its digest is exact");
		goto out;
	}
	if (where == NULL && cwd == NULL) {
		snprintf(err, errlen, "<stdin>: the call names no cwd and the working directory is "
		    "unknown");
		goto out;
	}
	doc = json_object();
	meta = json_object();
	if (doc == NULL || meta == NULL)
		goto oom;
	json_t *session = json_object_get(in, "session_id"), *event = json_object_get(in,
	    "hook_event_name");
	if ((session && json_object_set(meta, "session", session) != 0) ||
	    (event && json_object_set(meta, "event", event) != 0) ||
	    json_object_set_new(doc, "action", json_string("tool.call")) != 0 ||
	    json_object_set(doc, "tool", tool) != 0 ||
	    json_object_set(doc, "input", input) != 0 ||
	    json_object_set_new(doc, "cwd", where ? json_incref(where) : json_string(cwd)) != 0 ||
	    (json_object_size(meta) > 0 && json_object_set(doc, "meta", meta) != 0))
		goto oom;
	char *out = json_dumps(doc, JSON_COMPACT);
	if (out == NULL)
		goto oom;
	body->n = 0;
	sb_puts(body, out);
	free(out);
	ok = true;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	json_decref(meta);
	json_decref(doc);
	json_decref(in);
	return ok;
}

/* ---- judging one answer ---- */

static const char *str_member(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Appends "policy P (message)" for each finding whose effect is one of
 * effects (space-separated), at most three, to b. Returns how many. */
static int deciding(const json_t *findings, const char *effects, strbuf *b, bool *unoverridable)
{
	size_t i;
	json_t *f;
	int n = 0;
	json_array_foreach(findings, i, f) {
		const char *effect = str_member(f, "effect"), *name = str_member(f, "policy");
		const char *msg = str_member(f, "message");
		char word[40];
		if (effect == NULL || strlen(effect) >= sizeof word - 2)
			continue;
		snprintf(word, sizeof word, " %s ", effect);
		char list[64];
		snprintf(list, sizeof list, " %s ", effects);
		if (strstr(list, word) == NULL)
			continue;
		if (unoverridable != NULL && json_is_false(json_object_get(f, "overridable")))
			*unoverridable = true;
		if (n < 3) {
			char item[320];
			snprintf(item, sizeof item, "%s%s %.80s%s%.160s%s", n ? "; " : "",
			    n ? "" : "policy", name ? name : "(unnamed)", msg ? " (" : "",
			    msg ? msg : "", msg ? ")" : "");
			sb_puts(b, item);
		} else if (n == 3) {
			sb_puts(b, "; and more");
		}
		n++;
	}
	if (n == 0)
		sb_puts(b, "no finding named");
	return n;
}

/* The latest decision of kind (approve, reject, override) in the result. */
static const json_t *last_decision(const json_t *result, const char *kind)
{
	const json_t *ds = json_object_get(result, "decisions"), *found = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(ds, i, d) {
		const char *k = str_member(d, "decision");
		if (k != NULL && strcmp(k, kind) == 0)
			found = d;
	}
	return found;
}

static void judge_result(const json_t *r, hook_verdict *v)
{
	const json_t *idv = json_object_get(r, "id");
	const char *status = str_member(r, "status");
	if (!json_is_integer(idv) || json_integer_value(idv) <= 0 || status == NULL) {
		reason(v, "the server's answer is not a submission result (no id or status)");
		return;
	}
	long long id = (long long)json_integer_value(idv);
	v->id = (int64_t)id;
	snprintf(v->status, sizeof v->status, "%s", status);
	const json_t *findings = json_object_get(r, "findings"), *mods = json_object_get(r,
	    "modifications");
	strbuf b = { 0 };
	bool unoverridable = false;
	const char *word = status;
	char by_whom[96];
	bool modified = mods != NULL && !json_is_null(mods) &&
	    !(json_is_object(mods) && json_object_size(mods) == 0);
	bool allowing = strcmp(status, "allowed") == 0 || strcmp(status, "approved") == 0 ||
	    strcmp(status, "overridden") == 0;
	if (allowing && modified) {
		/* the modifications hold whoever allowed it, and a hook cannot
		 * apply them */
		char *m = json_dumps(mods, JSON_COMPACT);
		deciding(findings, "modify", &b, NULL);
		snprintf(by_whom, sizeof by_whom, "%s only with modifications", status);
		word = by_whom;
		snprintf(v->detail, sizeof v->detail, "%.200s (%s), which a hook cannot apply: change "
		    "the call", m ? m : "", b.s);
		free(m);
	} else if (strcmp(status, "allowed") == 0) {
		v->allow = true;
	} else if (strcmp(status, "approved") == 0) {
		const char *by = str_member(last_decision(r, "approve"), "reviewer");
		v->allow = true;
		if (by != NULL) {
			snprintf(by_whom, sizeof by_whom, "approved by %.64s", by);
			word = by_whom;
		}
	} else if (strcmp(status, "overridden") == 0) {
		const char *until = str_member(r, "expires_at");
		v->allow = true;
		if (until != NULL) {
			snprintf(by_whom, sizeof by_whom, "overridden until %.40s", until);
			word = by_whom;
		}
	} else if (strcmp(status, "pending") == 0) {
		/* approve needs --ack while the submission has warnings: its
		 * findings of severity warning, as counts says */
		const json_t *counted = json_object_get(json_object_get(r, "counts"), "warning");
		bool warnings = json_is_integer(counted) && json_integer_value(counted) > 0;
		size_t i;
		json_t *f;
		json_array_foreach(findings, i, f) {
			const char *severity = str_member(f, "severity");
			warnings |= severity != NULL && strcmp(severity, "warning") == 0;
		}
		deciding(findings, "require_approval warn", &b, NULL);
		v->waiting = true;
		word = "awaiting review";
		snprintf(v->detail, sizeof v->detail, "%s: a reviewer can run `arbiter approve %lld%s`",
		    b.s, id, warnings ? " --ack" : "");
	} else if (strcmp(status, "blocked") == 0) {
		deciding(findings, "deny", &b, &unoverridable);
		v->waiting = !unoverridable;
		if (unoverridable)
			snprintf(v->detail, sizeof v->detail, "%s; no reviewer can override it: change "
			    "the call", b.s);
		else
			snprintf(v->detail, sizeof v->detail, "%s: a reviewer can run `arbiter override "
			    "%lld --justification TEXT`", b.s, id);
	} else if (strcmp(status, "rejected") == 0) {
		const json_t *d = last_decision(r, "reject");
		const char *by = str_member(d, "reviewer"), *why = str_member(d, "note");
		if (by != NULL) {
			snprintf(by_whom, sizeof by_whom, "rejected by %.64s", by);
			word = by_whom;
		}
		snprintf(v->detail, sizeof v->detail, "%.300s", why ? why : "");
	} else if (strcmp(status, "expired") == 0) {
		word = "override expired";
		snprintf(v->detail, sizeof v->detail, "make the call again to ask for a new review");
	} else {
		word = "unknown status";
		snprintf(v->detail, sizeof v->detail, "\"%.40s\" is no status this hook knows", status);
	}
	free(b.s);
	hook_reason(v, word);
}

void hook_judge(long http_status, const char *body, size_t len, hook_verdict *v)
{
	memset(v, 0, sizeof *v);
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (http_status >= 200 && http_status < 300) {
		if (json_is_object(j))
			judge_result(j, v);
		else
			reason(v, "the server's answer (HTTP %ld) is not a submission result: not JSON",
			    http_status);
		json_decref(j);
		return;
	}
	const json_t *e = json_object_get(j, "error");
	const char *code = str_member(e, "code"), *msg = str_member(e, "message");
	const json_t *line = json_object_get(e, "line"), *col = json_object_get(e, "column");
	if (code == NULL) {
		reason(v, "the server answered HTTP %ld without an arbiter error", http_status);
	} else if (json_is_integer(line) && json_is_integer(col)) {
		reason(v, "the server refused the call (HTTP %ld, %.40s): line %lld, column %lld: "
		    "%.400s", http_status, code, (long long)json_integer_value(line),
		    (long long)json_integer_value(col), msg ? msg : "");
	} else {
		reason(v, "the server refused the call (HTTP %ld, %.40s): %.400s", http_status, code,
		    msg ? msg : "");
	}
	json_decref(j);
}

void hook_verdict_json(const hook_verdict *v, strbuf *out)
{
	json_t *j = json_object();
	if (j == NULL ||
	    json_object_set_new(j, "decision", json_string(v->allow ? "allow" : "deny")) != 0 ||
	    json_object_set_new(j, "reason", json_string_lossy(v->reason, strlen(v->reason))) != 0 ||
	    json_object_set_new(j, "id", v->id > 0 ? json_integer(v->id) : json_null()) != 0)
		abort();
	char *text = json_dumps(j, JSON_COMPACT);
	if (text == NULL)
		abort();
	out->n = 0;
	sb_puts(out, text);
	free(text);
	json_decref(j);
}

/* ---- talking to the server ---- */

static void pause_ms(int64_t ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) != 0)
		;
}

/* One request within the time left before give_up; a 429 or 503 is tried
 * again after its Retry-After while that fits. false: v says why. */
static bool ask(client *c, const char *method, const char *path, const char *body, size_t len,
    int64_t give_up, client_response *resp, hook_verdict *v)
{
	for (int attempt = 0;; attempt++) {
		int64_t left = give_up - mono_ms();
		if (left <= 0) {
			reason(v, "no answer from the server at %s in time", client_server(c));
			return false;
		}
		client_set_timeout(c, left);
		client_status st = client_request(c, method, path, body ? "application/json" : NULL,
		    body, len, resp);
		if (st != CLIENT_OK) {
			reason(v, "%s", client_errmsg(c));
			return false;
		}
		bool again = (resp->status == 429 || resp->status == 503) && attempt < 3 &&
		    resp->retry_after > 0 && mono_ms() + resp->retry_after * 1000 < give_up;
		if (!again)
			return true;
		pause_ms(resp->retry_after * 1000);
		client_response_free(resp);
	}
}

/* The body of the answer the verdict now stands on, kept in answer. */
static void keep(strbuf *answer, const client_response *resp)
{
	answer->n = 0;
	sb_put(answer, resp->body, resp->len);
}

void hook_run(client *c, const char *body, size_t len, int64_t wait_until, int64_t give_up,
    hook_verdict *v, strbuf *answer)
{
	client_response resp;
	memset(v, 0, sizeof *v);
	answer->n = 0;
	if (!ask(c, "POST", "/v1/submissions?match=digest", body, len, give_up, &resp, v))
		return;
	hook_judge(resp.status, resp.body, resp.len, v);
	keep(answer, &resp);
	client_response_free(&resp);
	if (strcmp(v->status, "rejected") == 0 && v->detail[0] == '\0') {
		/* a rejection found again by its digest: the submission itself
		 * says who rejected it and why, which the agent should hear */
		char path[64];
		hook_verdict full;
		memset(&full, 0, sizeof full);
		snprintf(path, sizeof path, "/v1/submissions/%lld", (long long)v->id);
		if (ask(c, "GET", path, NULL, 0, give_up, &resp, &full)) {
			hook_judge(resp.status, resp.body, resp.len, &full);
			if (full.id == v->id && strcmp(full.status, "rejected") == 0) {
				*v = full;
				keep(answer, &resp);
			}
			client_response_free(&resp);
		}
	}
	bool asked_to_wait = wait_until > mono_ms();
	while (v->waiting) {
		int64_t left = wait_until - mono_ms();
		if (left < 1000) {
			if (asked_to_wait)
				hook_reason(v, "still awaiting review");
			return;
		}
		char path[96];
		snprintf(path, sizeof path, "/v1/submissions/%lld?wait=%lld", (long long)v->id,
		    (long long)(left / 1000));
		int64_t asked = mono_ms();
		hook_verdict next;
		memset(&next, 0, sizeof next);
		if (!ask(c, "GET", path, NULL, 0, give_up, &resp, &next)) {
			char was[sizeof next.reason];
			snprintf(was, sizeof was, "%s", next.reason);
			reason(v, "%.700s (while waiting on #%lld)", was, (long long)v->id);
			v->allow = v->waiting = false;
			return;
		}
		hook_judge(resp.status, resp.body, resp.len, &next);
		keep(answer, &resp);
		client_response_free(&resp);
		if (next.id != v->id && next.id != 0) {
			reason(v, "the server answered about #%lld when asked about #%lld",
			    (long long)next.id, (long long)v->id);
			v->allow = v->waiting = false;
			return;
		}
		next.id = v->id;
		*v = next;
		/* an early answer that changed nothing (a server shutting down
		 * answers its waiters at once): do not ask again at once */
		if (v->waiting && mono_ms() - asked < 200)
			pause_ms(200);
	}
}
