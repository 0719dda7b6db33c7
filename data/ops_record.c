/*
 * ops_record.c: events users record in the signed chain, app.* (PRODUCT.md
 * sections 6 and 9): arbiter audit record and POST /v1/audit/records.
 *
 * What is recorded is checked before the store is touched: the name is
 * "app." and a short name of its own alphabet (an app event can never pose
 * as one of arbiter's), the subject is bounded plain text, the details a
 * JSON object kept as the chain keeps details (user_json.c). Who records
 * it is checked under the write lock: an enabled reviewer (any role), or
 * an agent about a submission it submitted, whose id is then the subject.
 * An agent naming any other submission is told there is no such
 * submission, as its reads are. A refusal is audited as access.denied: by
 * this operation in a commit of its own when it is a command's, by the
 * server (coalesced, denials.c) when it is the server's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "remote.h"

static bool app_name(const char *event)
{
	if (event == NULL || strncmp(event, "app.", 4) != 0)
		return false;
	size_t n = strlen(event + 4);
	return n >= 1 && n <= APP_NAME_MAX &&
	    strspn(event + 4, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Plain text: UTF-8 without control characters. */
static bool plain_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = utf8_char_len(s + i, n - i);
		if (k == 0 || c < 0x20 || c == 0x7f || (c == 0xc2 && k == 2 &&
		    (unsigned char)s[i + 1] < 0xa0))
			return false;
		i += k;
	}
	return true;
}

/* The submission an agent's subject names, when it is one the agent
 * submitted: 1, 0 not (none, another's, no id), -1 error. */
static int own_submission(store *s, const char *subject, const char *agent)
{
	size_t n = strlen(subject);
	if (n == 0 || n > 18 || subject[0] == '0' || strspn(subject, "0123456789") != n)
		return 0;
	sub_row row;
	int found = query_get(s, subject, &row);
	if (found != 1)
		return found == -1 ? -1 : 0;
	size_t len = row.submitter == NULL ? 0 : row.submitter_len ? row.submitter_len :
	    strlen(row.submitter);
	int mine = row.submitter != NULL && len == strlen(agent) &&
	    strncasecmp(row.submitter, agent, len) == 0;
	query_row_done(&row);
	return mine;
}

/* Refuses the actor (r's reply says why; what, shortly, is what
 * access.denied says): audited here when q asks, else left to the caller. */
static outcome refuse(store *s, const app_record *q, app_recorded *r, outcome out,
    const char *what)
{
	snprintf(r->refused, sizeof r->refused, "%s", what);
	if (!q->audit_refusal) {
		store_rollback(s);
		return out;
	}
	char text[240];
	snprintf(text, sizeof text, "audit record %.80s: %s", q->event, what);
	json_t *d = json_pack("{s:s,s:i}", "what", text, "count", 1);
	bool ok = audit_append(s, q->actor, "access.denied", q->actor, d);
	json_decref(d);
	return ok ? op_refuse_committed(s, &r->reply, out) : op_failed(s, &r->reply);
}

outcome op_audit_record(store *s, const app_record *q, app_recorded *r)
{
	memset(r, 0, sizeof *r);
	op_reply *rep = &r->reply;
	char name[IDENTITY_NAME_MAX + 1];
	if (q->actor == NULL || !identity_name(q->actor, name))
		return op_say(rep, OUT_BAD_INPUT, "\"%.100s\" is not a name (%s)",
		    q->actor ? q->actor : "", IDENTITY_NAME_RULE);
	if (!app_name(q->event))
		return op_say(rep, OUT_BAD_INPUT, "\"%.80s\" is not an app event name: app. followed "
		    "by 1 to %d of a-z, 0-9, _ . - (e.g. app.deploy.done)", q->event ? q->event : "",
		    APP_NAME_MAX);
	const char *subject = q->subject ? q->subject : "";
	size_t slen = strlen(subject);
	if (slen > APP_SUBJECT_MAX || !plain_text(subject, slen))
		return op_say(rep, OUT_BAD_INPUT, "the subject must be at most %d bytes of UTF-8 text "
		    "without control characters", APP_SUBJECT_MAX);
	json_t *details = NULL;
	if (q->details != NULL) {
		user_json_error e;
		details = user_object_read(q->details_file ? q->details_file : "details", q->details,
		    q->details_len, APP_DETAILS_MAX, "the details", &e);
		if (details == NULL) {
			r->line = e.line;
			r->col = e.col;
			r->too_large = e.too_large;
			r->malformed = !e.too_large;
			return op_say(rep, OUT_BAD_INPUT, "%s", e.message);
		}
	}
	if (s->remote) {
		/* checked here as on a store opened here, and again by the server */
		outcome o = remote_audit_record(s, q, details, r);
		json_decref(details);
		return o;
	}
	app_record named = *q;
	named.actor = name;
	if (op_begin(s, rep) != OUT_OK) {
		json_decref(details);
		return rep->out;
	}
	outcome refused = OUT_OK;
	char what[120];
	if (q->agent) {
		int mine = own_submission(s, subject, name);
		if (mine < 0) {
			json_decref(details);
			return op_failed(s, rep);
		}
		if (mine == 0 && slen == 0)
			refused = refuse(s, &named, r, op_say(rep, OUT_NOT_PERMITTED, "an agent records "
			    "app.* events only about its own submissions: give the submission's id as "
			    "the subject"), "app.* about no submission");
		else if (mine == 0)
			refused = refuse(s, &named, r, op_say(rep, OUT_NOT_FOUND, "no submission %.100s",
			    subject), "app.* about another's submission");
	} else {
		reviewer who;
		int known = reviewer_get(s, name, &who);
		if (known < 0) {
			json_decref(details);
			return op_failed(s, rep);
		}
		snprintf(what, sizeof what, "%s is %s", name, known == 0 ? "not a reviewer" :
		    "a disabled reviewer");
		if (known == 0 || who.disabled)
			refused = refuse(s, &named, r, op_say(rep, OUT_NOT_PERMITTED, "only reviewers "
			    "and admins record app.* events; %s is %s", name, known == 0 ?
			    "not an enrolled reviewer" : "a disabled reviewer"), what);
	}
	if (refused != OUT_OK) {
		json_decref(details);
		return refused;
	}
	bool ok = audit_append(s, name, q->event, subject, details);
	json_decref(details);
	if (!ok)
		return op_failed(s, rep);
	r->seq = s->head_seq;
	op_say(rep, OUT_OK, "recorded %s as event %lld", q->event, (long long)r->seq);
	return op_commit(s, rep);
}
