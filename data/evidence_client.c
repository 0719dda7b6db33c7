/*
 * evidence_client.c: a client's own check of the signed events behind a
 * server's allow (PRODUCT.md section 9), for arbiter hook and for commands
 * that reach a store through a server with its public key.
 *
 * A server that answers "approved" proves nothing by saying so; the events
 * it signed with the store's key do, and it cannot sign others without the
 * key. So every answer that allows carries those events ("evidence": the
 * event that set the status, then, when that one names no digest, its
 * submission.create), and a client that holds the store's first public key
 * judges them as a store opened here judges its own rows (evidence.c): for
 * this submission, this status and this document's digest, which the
 * client knows itself when it sent the document (the hook, submit), and
 * otherwise reads from the answer, whose document must then give it.
 *
 * The keys: before its first judgement the client asks GET /v1/keys for the
 * key.rotate events, full signed events, oldest first, and follows them
 * from the first key (keyring.c): each must be signed by the key before it,
 * so a server cannot name a key of its own; a rotation signed by any other
 * key refuses every allow. Each event behind an allow is then checked with
 * the key in force at its seq. A long-lived client whose evidence no longer
 * holds under the keys it knows asks once more (a rotation since). A server
 * that does not know /v1/keys (404) has rotated nothing it could tell:
 * hiding a rotation only leaves events that the first key does not verify.
 * Anything missing or wrong refuses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ops.h"

void signed_key_free(signed_key *k)
{
	if (k->state > 0)
		keyring_free(&k->ring);
	k->state = 0;
}

/* k->ring from the items of GET /v1/keys; false with k->why. */
static bool follow_items(signed_key *k, const json_t *items)
{
	keyring_init(&k->ring, k->pk, k->keyid);
	arena *a = arena_new();
	bool ok = true;
	for (size_t i = 0; ok && i < json_array_size(items); i++) {
		audit_event e;
		char why[256];
		if (!evidence_event_read(json_array_get(items, i), a, &e)) {
			snprintf(k->why, sizeof k->why, "GET /v1/keys lists something that is no signed "
			    "key.rotate event");
			ok = false;
		} else if (!keyring_follow(&k->ring, &e, why, sizeof why)) {
			snprintf(k->why, sizeof k->why, "the server's keys do not follow from the public key: "
			    "%.190s", why);
			ok = false;
		}
	}
	arena_free(a);
	if (!ok)
		keyring_free(&k->ring);
	return ok;
}

bool signed_key_current(client *c, signed_key *k, bool refresh, int64_t timeout_ms, char *why,
    size_t len)
{
	if (refresh)
		signed_key_free(k);
	if (k->state == 0) {
		if (timeout_ms > 0)
			client_set_timeout(c, timeout_ms);
		client_response r;
		if (client_request(c, "GET", "/v1/keys", NULL, NULL, 0, &r) != CLIENT_OK) {
			snprintf(why, len, "%s", client_errmsg(c));
			return false;   /* asked again next time */
		}
		json_t *keys = r.status == 200 ? json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES,
		    NULL) : NULL;
		const json_t *items = json_object_get(keys, "items");
		if (r.status == 404)
			items = NULL;
		if (r.status != 404 && !json_is_array(items)) {
			snprintf(k->why, sizeof k->why, "GET /v1/keys answered HTTP %ld without its list "
			    "of key.rotate events", r.status);
			k->state = -1;
		} else {
			k->state = follow_items(k, items) ? 1 : -1;
		}
		json_decref(keys);
		client_response_free(&r);
	}
	if (k->state < 0)
		snprintf(why, len, "%s", k->why);
	return k->state > 0;
}

/* The digest of the document an answer shows, as the server computes it
 * (PRODUCT.md section 2); false when it has none or it cannot be read. */
static bool shown_digest(const json_t *doc, char out[65])
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	bool ok = text != NULL && document_text_digest(text, strlen(text), out);
	free(text);
	return ok;
}

bool evidence_answer_holds(client *c, signed_key *k, int64_t timeout_ms,
    const struct json_t *answer, const char *digest, char *why, size_t len)
{
	const char *status = json_string_value(json_object_get(answer, "status"));
	if (status == NULL || status_outcome(status_parse(status)) != OUT_OK)
		return true;            /* nothing allowed, nothing to prove */
	bool asked = k->state == 0;
	if (!signed_key_current(c, k, false, timeout_ms, why, len))
		return false;
	const char *said = json_string_value(json_object_get(answer, "digest"));
	if (digest == NULL) {
		const json_t *doc = json_object_get(answer, "document");
		char shown[65];
		if (said == NULL) {
			snprintf(why, len, "it says %s, but the answer names no digest", status);
			return false;
		}
		if (doc != NULL && !json_is_null(doc) && (!shown_digest(doc, shown) ||
		    strcmp(shown, said) != 0)) {
			snprintf(why, len, "the document it shows is not the one of digest %.64s",
			    said);
			return false;
		}
		digest = said;
	}
	if (evidence_answer_judge(answer, &k->ring, digest, why, len))
		return true;
	/* a client that followed the keys before may not know a newer rotation */
	if (asked || !signed_key_current(c, k, true, timeout_ms, why, len))
		return false;
	return evidence_answer_judge(answer, &k->ring, digest, why, len);
}
