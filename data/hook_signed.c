/*
 * hook_signed.c: with a public key, an allow counts only when the signed
 * audit events behind it check out (PRODUCT.md section 9).
 *
 * A server that answers "allowed" proves nothing by saying so; its audit
 * chain is signed with the store's key, which it cannot forge without the
 * key. So a hook given the store's first public key asks for the events
 * behind the allow and checks each itself, as audit verify does:
 *
 * - the submission's submission.create event: its hash is the SHA-256 over
 *   its fields and prev (audit_hash), its signature is the key's, its
 *   subject is the submission, and its digest is the digest of the very
 *   document the hook sent, so an allow of some other call cannot be
 *   passed off for this one;
 * - the last event that set the submission's status (the same event, a
 *   reevaluation, an approval or an override): checked the same way, and
 *   it must say the status the answer said; an override's expires_at must
 *   still be ahead.
 *
 * Which events those are comes from GET /v1/submissions/ID (the list is
 * not trusted: each event is fetched signed and checked); the signed
 * events come from the event stream, GET /v1/events?after=SEQ-1, whose
 * first event must be SEQ. The key is the first one as long as GET
 * /v1/keys lists no key.rotate event; following a rotation needs the new
 * key from the event, which no rotation writes yet, so a rotated key
 * refuses every allow. A server that does not know /v1/keys (404) has
 * rotated nothing it could tell: hiding a rotation only leaves events that
 * the first key does not verify. Anything missing or wrong denies.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "store.h"

enum { EVENT_TEXT_MAX = 1024 * 1024 };

static void refuse(hook_verdict *v, const char *fmt, ...) ATTR_PRINTF(2, 3);
static void refuse(hook_verdict *v, const char *fmt, ...)
{
	char why[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	v->allow = v->waiting = false;
	snprintf(v->detail, sizeof v->detail, "%s", why);
	hook_reason(v, "signed event does not check out");
}

static const char *str_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* GET path within the time left; the answer as JSON (NULL: why in err,
 * or *status 404 with NULL). */
static json_t *get_json(client *c, const char *path, int64_t give_up, long *status, char *err,
    size_t errlen)
{
	int64_t left = give_up - mono_ms();
	*status = 0;
	if (left <= 0) {
		snprintf(err, errlen, "no time left to ask the server for %s", path);
		return NULL;
	}
	client_set_timeout(c, left);
	client_response r;
	if (client_request(c, "GET", path, NULL, NULL, 0, &r) != CLIENT_OK) {
		snprintf(err, errlen, "%s", client_errmsg(c));
		return NULL;
	}
	*status = r.status;
	json_t *j = r.status == 200 ? json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (j == NULL && r.status != 404)
		snprintf(err, errlen, "GET %s answered HTTP %ld%s", path, r.status,
		    r.status == 200 ? ", not JSON" : "");
	client_response_free(&r);
	return j;
}

/* ---- one event from the stream ---- */

typedef struct sse {
	strbuf line;                    /* the line being read */
	strbuf data;                    /* the event's data lines */
	int64_t id;
	bool done, too_long;
} sse;

static bool sse_line(sse *s)
{
	const char *l = s->line.s ? s->line.s : "";
	size_t n = s->line.n;
	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n == 0) {
		if (s->data.n > 0) {
			s->done = true;
			return false;
		}
		s->id = 0;
		return true;
	}
	if (n > 4 && strncmp(l, "id: ", 4) == 0)
		s->id = strtoll(l + 4, NULL, 10);
	else if (n > 6 && strncmp(l, "data: ", 6) == 0)
		sb_put(&s->data, l + 6, n - 6);
	return true;
}

static bool sse_take(void *ctx, const char *p, size_t n)
{
	sse *s = ctx;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (s->line.n + s->data.n >= EVENT_TEXT_MAX) {
				s->too_long = true;
				return false;
			}
			sb_put(&s->line, p + i, 1);
			continue;
		}
		bool more = sse_line(s);
		s->line.n = 0;
		if (!more)
			return false;
	}
	return true;
}

/* The signed event seq from the stream, as JSON; NULL with why in err. */
static json_t *signed_event(client *c, int64_t seq, int64_t give_up, char *err, size_t errlen)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/events?after=%lld", (long long)(seq - 1));
	if (give_up - mono_ms() <= 0) {
		snprintf(err, errlen, "no time left to read event %lld", (long long)seq);
		return NULL;
	}
	/* a stream has no timeout: the hook's alarm ends one that never
	 * brings the event */
	sse s = { 0 };
	client_response r;
	client_status st = client_stream(c, path, sse_take, &s, NULL, &r);
	json_t *e = NULL;
	if (st != CLIENT_OK)
		snprintf(err, errlen, "%s", client_errmsg(c));
	else if (r.status != 200)
		snprintf(err, errlen, "the event stream answered HTTP %ld", r.status);
	else if (!s.done)
		snprintf(err, errlen, "the event stream ended before event %lld%s", (long long)seq,
		    s.too_long ? " (an event over 1 MiB)" : "");
	else if (s.id != seq)
		snprintf(err, errlen, "the event stream gave event %lld for event %lld",
		    (long long)s.id, (long long)seq);
	else if ((e = json_loadb(s.data.s, s.data.n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    NULL)) == NULL || !json_is_object(e))
		snprintf(err, errlen, "event %lld is not a JSON object", (long long)seq);
	if (st == CLIENT_OK)
		client_response_free(&r);
	free(s.line.s);
	free(s.data.s);
	if (e != NULL && !json_is_object(e)) {
		json_decref(e);
		e = NULL;
	}
	return e;
}

/* Whether event e (as the stream gives it) is seq, hashes to its hash
 * and is signed with pk, as audit verify checks a stored one. */
static bool event_holds(const json_t *e, int64_t seq, const unsigned char pk[32], char *err,
    size_t errlen)
{
	const char *ts = str_of(e, "ts"), *actor = str_of(e, "actor"), *name = str_of(e, "event");
	const char *subject = str_of(e, "subject"), *prev = str_of(e, "prev");
	const char *hash = str_of(e, "hash"), *sig = str_of(e, "sig");
	const json_t *details = json_object_get(e, "details");
	const json_t *seqv = json_object_get(e, "seq");
	unsigned char prevb[32], hashb[32], sigb[64], again[32];
	if (!json_is_integer(seqv) || json_integer_value(seqv) != seq || ts == NULL ||
	    actor == NULL || name == NULL || subject == NULL || details == NULL || prev == NULL ||
	    hash == NULL || sig == NULL || strlen(prev) != 64 || strlen(hash) != 64 ||
	    strlen(sig) != 128 ||
	    sodium_hex2bin(prevb, 32, prev, 64, NULL, NULL, NULL) != 0 ||
	    sodium_hex2bin(hashb, 32, hash, 64, NULL, NULL, NULL) != 0 ||
	    sodium_hex2bin(sigb, 64, sig, 128, NULL, NULL, NULL) != 0) {
		snprintf(err, errlen, "event %lld lacks a field of a signed event", (long long)seq);
		return false;
	}
	/* the details as the chain hashed them: jansson's compact text with
	 * sorted keys, which reading and writing again gives back exactly */
	char *text = json_is_string(details) ? strdup(json_string_value(details)) :
	    json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	audit_hash(prevb, seq, ts, actor, name, subject, text, again);
	free(text);
	if (sodium_memcmp(again, hashb, 32) != 0) {
		snprintf(err, errlen, "event %lld does not hash to its hash", (long long)seq);
		return false;
	}
	if (crypto_sign_verify_detached(sigb, hashb, 32, pk) != 0) {
		snprintf(err, errlen, "event %lld is not signed with the public key", (long long)seq);
		return false;
	}
	return true;
}

/* ---- the check ---- */

/* Whether the first key still signs: the server lists no rotation.
 * false: v says why. */
static bool signing_key(client *c, int64_t give_up, hook_verdict *v)
{
	char err[512];
	long status;
	json_t *keys = get_json(c, "/v1/keys", give_up, &status, err, sizeof err);
	if (keys == NULL && status != 404) {
		refuse(v, "%s", err);
		return false;
	}
	const json_t *items = json_object_get(keys, "items");
	size_t rotations = json_array_size(items);
	bool ok = keys == NULL || (json_is_array(items) && rotations == 0);
	if (!ok && json_is_array(items))
		refuse(v, "the server's key was rotated %zu time%s since the public key, and this "
		    "hook does not follow key.rotate events yet", rotations, rotations == 1 ? "" : "s");
	else if (!ok)
		refuse(v, "GET /v1/keys answered without its list of key.rotate events");
	json_decref(keys);
	return ok;
}

/* The seqs of the submission's submission.create event and of the last
 * event that set its status, from the (untrusted) list in its result. */
static bool event_seqs(const json_t *sub, int64_t *create, int64_t *last)
{
	static const char *const setters[] = { "submission.create", "submission.reevaluate",
	    "decision.approve", "decision.reject", "override.partial", "override.grant" };
	*create = *last = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(sub, "events"), i, e) {
		const char *name = str_of(e, "event");
		const json_t *seq = json_object_get(e, "seq");
		if (name == NULL || !json_is_integer(seq) || json_integer_value(seq) <= 0)
			continue;
		for (size_t k = 0; k < sizeof setters / sizeof setters[0]; k++)
			if (strcmp(name, setters[k]) == 0 && json_integer_value(seq) > *last)
				*last = json_integer_value(seq);
		if (strcmp(name, "submission.create") == 0 && *create == 0)
			*create = json_integer_value(seq);
	}
	return *create > 0 && *last >= *create;
}

void hook_check_signed(client *c, const unsigned char pk[32], const char *digest,
    int64_t give_up, hook_verdict *v)
{
	if (!v->allow || !signing_key(c, give_up, v))
		return;
	char path[64], err[512], subject[24];
	snprintf(path, sizeof path, "/v1/submissions/%lld", (long long)v->id);
	snprintf(subject, sizeof subject, "%lld", (long long)v->id);
	long status;
	json_t *sub = get_json(c, path, give_up, &status, err, sizeof err), *create = NULL,
	    *last = NULL;
	int64_t create_seq, last_seq;
	if (sub == NULL) {
		refuse(v, "%s", status == 404 ? "the submission cannot be read again (404)" : err);
		goto out;
	}
	if (!event_seqs(sub, &create_seq, &last_seq)) {
		refuse(v, "the submission's result lists no submission.create event");
		goto out;
	}
	if ((create = signed_event(c, create_seq, give_up, err, sizeof err)) == NULL ||
	    !event_holds(create, create_seq, pk, err, sizeof err)) {
		refuse(v, "%s", err);
		goto out;
	}
	const char *cname = str_of(create, "event"), *csubject = str_of(create, "subject");
	const char *signed_digest = str_of(json_object_get(create, "details"), "digest");
	if (strcmp(cname, "submission.create") != 0 || strcmp(csubject, subject) != 0) {
		refuse(v, "event %lld is not the submission.create of #%s", (long long)create_seq,
		    subject);
		goto out;
	}
	if (signed_digest == NULL || strcmp(signed_digest, digest) != 0) {
		refuse(v, "the signed submission.create of #%s is for %s, not for this call (%s)",
		    subject, signed_digest ? signed_digest : "no digest", digest);
		goto out;
	}
	if (last_seq == create_seq)
		last = json_incref(create);
	else if ((last = signed_event(c, last_seq, give_up, err, sizeof err)) == NULL ||
	    !event_holds(last, last_seq, pk, err, sizeof err)) {
		refuse(v, "%s", err);
		goto out;
	}
	const json_t *details = json_object_get(last, "details");
	const char *lstatus = str_of(details, "status"), *lsubject = str_of(last, "subject");
	if (strcmp(lsubject, subject) != 0 || lstatus == NULL || strcmp(lstatus, v->status) != 0) {
		refuse(v, "the last signed event about #%s (%lld, %s) does not say %s", subject,
		    (long long)last_seq, str_of(last, "event"), v->status);
		goto out;
	}
	if (strcmp(v->status, "overridden") == 0) {
		const char *until = str_of(details, "expires_at");
		int64_t until_ms;
		if (until == NULL || !parse_time(until, &until_ms) || until_ms <= now_ms()) {
			refuse(v, "the signed override of #%s %s", subject,
			    until ? "has expired" : "has no expiry");
			goto out;
		}
	}
out:
	json_decref(last);
	json_decref(create);
	json_decref(sub);
}
