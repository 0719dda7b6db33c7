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
 * The key is the first one as long as GET /v1/keys lists no key.rotate
 * event; following a rotation needs the new key from the event, which this
 * arbiter does not write yet, so a rotated key refuses every allow. A
 * server that does not know /v1/keys (404) has rotated nothing it could
 * tell: hiding a rotation only leaves events that the first key does not
 * verify. Anything missing or wrong refuses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ops.h"

bool signed_key_current(client *c, signed_key *k, int64_t timeout_ms, char *why, size_t len)
{
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
		size_t rotations = json_array_size(items);
		k->state = r.status == 404 || (json_is_array(items) && rotations == 0) ? 1 : -1;
		if (k->state < 0 && json_is_array(items))
			snprintf(k->why, sizeof k->why, "the server's key was rotated %zu time%s since "
			    "the public key, and this arbiter does not follow key.rotate events yet",
			    rotations, rotations == 1 ? "" : "s");
		else if (k->state < 0)
			snprintf(k->why, sizeof k->why, "GET /v1/keys answered HTTP %ld without its list "
			    "of key.rotate events", r.status);
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
	if (!signed_key_current(c, k, timeout_ms, why, len))
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
	return evidence_answer_judge(answer, k->pk, digest, why, len);
}
