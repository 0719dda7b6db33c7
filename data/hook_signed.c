/*
 * hook_signed.c: with a public key, the hook's allow counts only when the
 * signed audit events behind it check out (PRODUCT.md section 9).
 *
 * Every answer that allows carries the events that made it so
 * ("evidence"), and the hook judges them against the digest of the very
 * document it sent (evidence_client.c): an allow of some other call, a
 * status the signed events do not say, an override past its signed expiry,
 * an event edited after signing or signed by another key, a rotated key,
 * or no events at all, deny. Nothing is asked of the server but whether
 * its key was rotated (GET /v1/keys): the answer the verdict stands on
 * holds the rest.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

void hook_check_signed(client *c, signed_key *k, const char *digest, const char *answer,
    size_t len, int64_t give_up, hook_verdict *v)
{
	if (!v->allow)
		return;
	char why[640];
	int64_t left = give_up - mono_ms();
	json_t *j = json_loadb(answer ? answer : "", answer ? len : 0, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, NULL);
	const json_t *idv = json_object_get(j, "id");
	bool ok = false;
	if (left <= 0)
		snprintf(why, sizeof why, "no time left to check the signed events");
	else if (!json_is_object(j) || !json_is_integer(idv) || json_integer_value(idv) != v->id)
		snprintf(why, sizeof why, "the answer behind the allow is not #%lld's result",
		    (long long)v->id);
	else
		ok = evidence_answer_holds(c, k, left, j, digest, why, sizeof why);
	json_decref(j);
	if (ok)
		return;
	v->allow = v->waiting = false;
	snprintf(v->detail, sizeof v->detail, "%s", why);
	hook_reason(v, "signed event does not check out");
}
