/*
 * evidence.c: whether the signed audit chain says what a submission's row
 * (or a server's answer) says (PRODUCT.md sections 6, 7 and 9).
 *
 * The tables are what commands read, but only the chain is signed: anyone
 * who can write arbiter.db can set a status, and a fake server can say
 * anything. So before arbiter says a submission may proceed, it finds the
 * signed event that made it so and checks it here, the same way for a
 * store opened here (evidence_store.c), for a client given the store's
 * public key (evidence_client.c) and for arbiter hook (hook_signed.c):
 *
 * - the event that last set the submission's status (submission.create or
 *   .reevaluate, decision.approve or .reject, override.partial or .grant)
 *   hashes to its hash and is signed with the key;
 * - it is about this submission (its subject is the id) and says the status
 *   the row says, by the event that can set it: allowed by a create or a
 *   reevaluation, approved by an approval, overridden by a grant whose
 *   expiry is the row's and still ahead;
 * - it names the document's digest. Events written since decisions carry
 *   the digest name it themselves; an older deciding event names it through
 *   the submission's own signed submission.create, which has carried the
 *   digest since digests exist (schema 12). A submission older than that
 *   has no signed digest at all: its status may still be decided, and the
 *   decision's event is then the first to name the digest, but it allows
 *   nothing until one does (fail closed).
 *
 * Everything is checked here from the events as given, each with the key in
 * force at its seq (keyring.c); where they come from, and the ring of keys
 * (the store's own, or one a client followed from the first key), is the
 * caller's.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* The events that set a status, and the statuses each may set. */
static const struct {
	const char *event;
	const char *statuses;   /* space-separated */
} setters[] = {
	{ "submission.create", "allowed pending blocked" },
	{ "submission.reevaluate", "allowed pending blocked" },
	{ "decision.approve", "approved" },
	{ "decision.reject", "rejected" },
	{ "override.partial", "blocked" },
	{ "override.grant", "overridden" },
};

const char *const evidence_setters_sql = "'submission.create', 'submission.reevaluate', "
    "'decision.approve', 'decision.reject', 'override.partial', 'override.grant'";

static const char *may_set(const char *event)
{
	for (size_t i = 0; event != NULL && i < sizeof setters / sizeof setters[0]; i++)
		if (strcmp(setters[i].event, event) == 0)
			return setters[i].statuses;
	return NULL;
}

static bool listed(const char *words, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = words; p != NULL && *p; p += strcspn(p, " "), p += *p == ' ') {
		if (strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return true;
	}
	return false;
}

static bool say(char *why, size_t len, const char *fmt, ...) ATTR_PRINTF(3, 4);
static bool say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return false;
}

static const char *member(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Whether e hashes to its hash and carries the signature of the key in
 * force at its seq. */
static bool holds(const audit_event *e, const keyring *ring, char *why, size_t len)
{
	bool hash_ok, sig_ok;
	keyring_event_verify(ring, e, &hash_ok, &sig_ok);
	if (!hash_ok)
		return say(why, len, "event %lld does not hash to its hash (%s, altered)",
		    (long long)e->seq, e->event);
	if (!sig_ok)
		return say(why, len, "event %lld is not signed with the public key in force at its "
		    "seq (%s)", (long long)e->seq, e->event);
	return true;
}

bool evidence_judge(const audit_event *set, const audit_event *create, const keyring *ring,
    const evidence_want *want, char *why, size_t len)
{
	char subject[24];
	snprintf(subject, sizeof subject, "%lld", (long long)want->id);
	if (set == NULL)
		return say(why, len, "it says %s, but no signed event sets its status", want->status);
	if (!holds(set, ring, why, len))
		return false;
	const char *statuses = may_set(set->event);
	if (strcmp(set->subject, subject) != 0 || statuses == NULL)
		return say(why, len, "event %lld (%s, about \"%.40s\") is no event that sets the status "
		    "of submission %s", (long long)set->seq, set->event, set->subject, subject);
	json_t *d = json_loads(set->details, JSON_ALLOW_NUL, NULL);
	const char *said = member(d, "status"), *until = member(d, "expires_at");
	const char *digest = member(d, "digest");
	bool ok = true;
	bool overriding = strcmp(want->status, "overridden") == 0 ||
	    strcmp(want->status, "expired") == 0;
	int64_t until_ms = 0;
	if (said == NULL || (overriding ? strcmp(said, "overridden") != 0 :
	    strcmp(said, want->status) != 0) || !listed(statuses, said)) {
		ok = say(why, len, "it says %s, but the last signed event that set its status (event "
		    "%lld, %s) says %s", want->status, (long long)set->seq, set->event,
		    said ? said : "no status");
	} else if (overriding && (until == NULL || !parse_time(until, &until_ms))) {
		ok = say(why, len, "its signed override (event %lld) has no expiry",
		    (long long)set->seq);
	} else if (strcmp(want->status, "overridden") == 0 && want->expires_at != NULL &&
	    strcmp(until, want->expires_at) != 0) {
		ok = say(why, len, "it says overridden until %s, but its signed override (event %lld) "
		    "says until %s", want->expires_at, (long long)set->seq, until);
	} else if (strcmp(want->status, "overridden") == 0 && until_ms <= now_ms()) {
		ok = say(why, len, "its signed override (event %lld) expired at %s",
		    (long long)set->seq, until);
	} else if (strcmp(want->status, "expired") == 0 && until_ms > now_ms()) {
		ok = say(why, len, "it says expired, but its signed override (event %lld) lasts until "
		    "%s", (long long)set->seq, until);
	}
	char named[65] = "";
	if (ok && digest != NULL) {
		snprintf(named, sizeof named, "%s", digest);
	} else if (ok && create != NULL) {
		/* an older deciding event: the digest is its submission's */
		ok = holds(create, ring, why, len);
		if (ok && (strcmp(create->event, "submission.create") != 0 ||
		    strcmp(create->subject, subject) != 0))
			ok = say(why, len, "event %lld is not the submission.create of submission %s",
			    (long long)create->seq, subject);
		json_t *c = ok ? json_loads(create->details, JSON_ALLOW_NUL, NULL) : NULL;
		if (member(c, "digest") != NULL)
			snprintf(named, sizeof named, "%s", member(c, "digest"));
		json_decref(c);
	}
	json_decref(d);
	if (!ok)
		return false;
	bool allows = status_outcome(status_parse(want->status)) == OUT_OK;
	if (named[0] == '\0' && allows)
		return say(why, len, "its signed events name no document digest (it was submitted "
		    "before arbiter recorded one): submit it again");
	if (named[0] != '\0' && (want->digest == NULL || strcmp(named, want->digest) != 0))
		return say(why, len, "its signed events are about the document with digest %.64s, not "
		    "%.64s", named, want->digest ? want->digest : "(none)");
	return true;
}

bool evidence_needs_create(const audit_event *set)
{
	json_t *d = json_loads(set->details, JSON_ALLOW_NUL, NULL);
	bool needs = member(d, "digest") == NULL && strcmp(set->event, "submission.create") != 0;
	json_decref(d);
	return needs;
}

/* ---- the events as an answer carries them ---- */

static bool hex_field(const json_t *o, const char *key, char *out, size_t len)
{
	const char *v = member(o, key);
	if (v == NULL || strlen(v) != len - 1 || strspn(v, "0123456789abcdef") != len - 1)
		return false;
	memcpy(out, v, len);
	return true;
}

bool evidence_event_read(const json_t *o, arena *a, audit_event *e)
{
	memset(e, 0, sizeof *e);
	const json_t *seq = json_object_get(o, "seq"), *details = json_object_get(o, "details");
	const char *ts = member(o, "ts");
	e->actor = member(o, "actor");
	e->event = member(o, "event");
	e->subject = member(o, "subject");
	if (!json_is_integer(seq) || json_integer_value(seq) <= 0 || ts == NULL ||
	    strlen(ts) >= sizeof e->ts || e->actor == NULL || e->event == NULL ||
	    e->subject == NULL || details == NULL || !hex_field(o, "prev", e->prev, sizeof e->prev) ||
	    !hex_field(o, "hash", e->hash, sizeof e->hash) ||
	    !hex_field(o, "sig", e->sig, sizeof e->sig))
		return false;
	e->seq = json_integer_value(seq);
	snprintf(e->ts, sizeof e->ts, "%s", ts);
	/* the details as the chain hashed them: jansson's compact text with
	 * sorted keys, which reading and writing again gives back exactly (an
	 * event whose details are not JSON comes as their text) */
	char *text = json_is_string(details) ? strdup(json_string_value(details)) :
	    json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (text == NULL)
		return false;
	e->details = arena_strdup(a, text);
	free(text);
	e->actor = arena_strdup(a, e->actor);
	e->event = arena_strdup(a, e->event);
	e->subject = arena_strdup(a, e->subject);
	return true;
}

bool evidence_answer_judge(const json_t *answer, const keyring *ring, const char *digest,
    char *why, size_t len)
{
	const json_t *idv = json_object_get(answer, "id"), *list = json_object_get(answer,
	    "evidence");
	evidence_want want = { .id = json_integer_value(idv), .status = member(answer, "status"),
		.digest = digest, .expires_at = member(answer, "expires_at") };
	if (!json_is_integer(idv) || want.status == NULL)
		return say(why, len, "the answer is not a submission's result");
	if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > 2)
		return say(why, len, "it says %s, but the answer carries no signed event behind it",
		    want.status);
	arena *a = arena_new();
	audit_event ev[2];
	size_t n = json_array_size(list);
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++)
		if (!evidence_event_read(json_array_get(list, i), a, &ev[i]))
			ok = say(why, len, "the answer's evidence holds something that is no signed event");
	ok = ok && evidence_judge(&ev[0], n > 1 ? &ev[1] : NULL, ring, &want, why, len);
	arena_free(a);
	return ok;
}
