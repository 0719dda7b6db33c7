/*
 * verify_tables.c: what the signed events say the tables must hold, built
 * during audit verify's one pass over the log (audit.c hands each event
 * over once its hash is checked), then compared with the tables by
 * verify_rows.c. docs/audit.md lists, table by table, what is checked.
 *
 * Each event that writes a row is read here: submission.create and
 * .reevaluate (a submission: status, policy version, finding counts and,
 * since the events carry them, its submitter, content hash and findings'
 * digest), decision.* and override.* (a decisions row each, and the
 * submission's status and expiry), reviewer.* (a reviewer's role, whether
 * disabled, login, uid, token), agent.add and .revoke, store.init and
 * policy.pin (a policy_versions row). Events that only name one (the
 * submission of a state.tamper or of a submission.outcome, which comes once
 * per submission; the reviewer of a lockout, a replayed code or a sign-in)
 * must find it enrolled or created before them; events about unknown actors
 * (code.failure, access.denied), app.* (whatever their subject says) and the
 * rest name nothing that must exist.
 *
 * The first event that contradicts the others (a decision about a
 * submission never created) is kept and reported after the chain itself
 * has been proved whole and signed: a broken chain is the first thing to
 * say.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_impl.h"

/* ---- the first contradiction ---- */

static void contradict(table_check *t, int64_t seq, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void contradict(table_check *t, int64_t seq, const char *fmt, ...)
{
	if (t->bad_seq != 0)
		return;
	t->bad_seq = seq;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof t->why, fmt, ap);
	va_end(ap);
}

static char *dup_span(text_span s)
{
	if (s.p == NULL)
		return NULL;
	char *c = malloc(s.n + 1);
	if (c != NULL) {
		memcpy(c, s.p, s.n);
		c[s.n] = '\0';
	}
	return c;
}

/* ---- the events ---- */

typedef struct ev {
	int64_t seq;
	const char *actor, *event, *subject;
	details *d;
} ev;

/* A submission id as a subject names it: digits, no sign, no zero. */
static bool subject_id(const char *subject, int64_t *id)
{
	int64_t v = 0;
	if (subject[0] < '1' || subject[0] > '9' || strlen(subject) > 18)
		return false;
	for (const char *p = subject; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	*id = v;
	return true;
}

/* The submission an event names, created before it; NULL when it is
 * none (a contradiction, recorded). */
static sub_expect *named_submission(table_check *t, const ev *e)
{
	int64_t id;
	if (subject_id(e->subject, &id) && (size_t)id < t->nsubs &&
	    (t->subs[id].flags & SUB_CREATED))
		return &t->subs[id];
	char what[80];
	shown(what, sizeof what, e->subject, strlen(e->subject));
	contradict(t, e->seq, "event seq %lld (%s) names submission %s, which no submission.create "
	    "before it created", (long long)e->seq, e->event, what);
	return NULL;
}

/* What a submission.create or .reevaluate says of the evaluation. */
static void evaluation(table_check *t, sub_expect *x, details *d)
{
	text_span status;
	details_text(d, "status", &status);
	char name[16];
	int st = -1;
	if (status.p != NULL && status.n < sizeof name) {
		memcpy(name, status.p, status.n);
		name[status.n] = '\0';
		st = status_parse(name);
	}
	x->status = st < 0 ? 0xFF : (uint8_t)st;
	int64_t v = -1;
	x->policy_version = details_int(d, "policy_version", &v) ? (int32_t)v : -1;
	const details_member *c = details_get(d, "counts");
	details dc = { 0 };
	static const char *const sev[3] = { "info", "warning", "critical" };
	bool counted = c != NULL && details_scan_n(c->value, c->vlen, &dc);
	int64_t total = 0;
	for (int i = 0; i < 3; i++) {
		v = -1;
		x->counts[i] = counted && details_int(&dc, sev[i], &v) ? (int32_t)v : -1;
		total += v;
	}
	details_free(&dc);
	/* the count of findings, which events before findings_digest did not
	 * always carry: each finding has one of the three severities */
	x->nfindings = details_int(d, "findings", &v) ? (int32_t)v : (int32_t)total;
	x->flags &= (uint8_t)~(SUB_FDIGEST | SUB_EXPIRES);
	text_span fd;
	if (details_text(d, "findings_digest", &fd) == DT_STRING) {
		x->findings = fingerprint(t, &fd, 1);
		x->flags |= SUB_FDIGEST;
	}
}

static bool on_create(table_check *t, const ev *e)
{
	int64_t id;
	if (!subject_id(e->subject, &id) || id > INT32_MAX) {
		char what[80];
		shown(what, sizeof what, e->subject, strlen(e->subject));
		contradict(t, e->seq, "event seq %lld (submission.create) names no submission id (%s)",
		    (long long)e->seq, what);
		return true;
	}
	if (!expect_grow((void **)&t->subs, &t->capsubs, (size_t)id + 1, sizeof *t->subs))
		return false;
	if ((size_t)id + 1 > t->nsubs)
		t->nsubs = (size_t)id + 1;
	sub_expect *x = &t->subs[id];
	if (x->flags & SUB_CREATED) {
		contradict(t, e->seq, "event seq %lld creates submission %lld again", (long long)e->seq,
		    (long long)id);
		return true;
	}
	details *d = e->d;
	text_span f[6];
	details_text(d, "action", &f[0]);
	details_text(d, "kind", &f[1]);
	details_text(d, "ref", &f[2]);
	uint8_t flags = SUB_CREATED;
	if (details_text(d, "digest", &f[3]) == DT_STRING)
		flags |= SUB_DIGEST;
	int k = details_text(d, "submitter", &f[4]);
	if (k == DT_STRING || k == DT_NULL)
		flags |= SUB_SUBMITTER;
	if (details_text(d, "content_hash", &f[5]) == DT_STRING)
		flags |= SUB_CONTENT;
	memset(x, 0, sizeof *x);
	x->ident = ident_fingerprint(t, f, flags);
	x->flags = flags;
	evaluation(t, x, d);
	x->last_seq = e->seq;
	t->last_created = id;
	return true;
}

static bool on_reevaluate(table_check *t, const ev *e)
{
	sub_expect *x = named_submission(t, e);
	if (x != NULL) {
		evaluation(t, x, e->d);
		x->last_seq = e->seq;
	}
	return true;
}

static bool on_decision(table_check *t, const ev *e)
{
	sub_expect *x = named_submission(t, e);
	if (x == NULL)
		return true;
	details *d = e->d;
	text_span f[4] = { { e->actor, strlen(e->actor) } };
	details_text(d, "decision", &f[1]);
	if (details_text(d, "note", &f[2]) == DT_ABSENT &&
	    details_text(d, "reason", &f[2]) == DT_ABSENT)
		details_text(d, "justification", &f[2]);
	details_text(d, "expires_at", &f[3]);
	if (!expect_grow((void **)&t->decs, &t->capdecs, t->ndecs + 1, sizeof *t->decs))
		return false;
	t->decs[t->ndecs++] = (decision_expect){ e->seq, (int64_t)(x - t->subs),
		decision_fingerprint(t, f) };
	if (strcmp(e->event, "override.partial") == 0)
		return true;            /* one approval of several: the row is as it was */
	text_span status;
	details_text(d, "status", &status);
	char name[16] = "";
	if (status.p != NULL && status.n < sizeof name)
		memcpy(name, status.p, status.n);
	int st = status_parse(name);
	x->status = st < 0 ? 0xFF : (uint8_t)st;
	x->flags &= (uint8_t)~SUB_EXPIRES;
	if (f[3].p != NULL) {
		x->expires = fingerprint(t, &f[3], 1);
		x->flags |= SUB_EXPIRES;
	}
	x->last_seq = e->seq;
	return true;
}

static bool on_names_submission(table_check *t, const ev *e)
{
	named_submission(t, e);
	return true;
}

static bool on_outcome(table_check *t, const ev *e)
{
	sub_expect *x = named_submission(t, e);
	if (x != NULL && (x->flags & SUB_OUTCOME))
		contradict(t, e->seq, "event seq %lld (submission.outcome) reports the outcome of "
		    "submission %s again", (long long)e->seq, e->subject);
	else if (x != NULL)
		x->flags |= SUB_OUTCOME;
	return true;
}

static person *named_person(table_check *t, people *p, const ev *e, const char *what)
{
	person *x = people_find(p, e->subject);
	if (x == NULL) {
		char name[80];
		shown(name, sizeof name, e->subject, strlen(e->subject));
		contradict(t, e->seq, "event seq %lld (%s) names %s %s, who was not added before it",
		    (long long)e->seq, e->event, what, name);
	}
	return x;
}

static bool on_reviewer_add(table_check *t, const ev *e)
{
	if (people_find(&t->reviewers, e->subject) != NULL) {
		contradict(t, e->seq, "event seq %lld (reviewer.add) enrols a reviewer enrolled before",
		    (long long)e->seq);
		return true;
	}
	person *x = people_add(&t->reviewers, e->subject);
	if (x == NULL)
		return false;
	details *d = e->d;
	text_span role, login;
	details_text(d, "role", &role);
	x->admin = role.p != NULL && role.n == 5 && memcmp(role.p, "admin", 5) == 0;
	x->add_seq = x->last_seq = e->seq;
	bool token;
	if (details_bool(d, "token", &token)) {
		/* since schema 11: login (absent: none), uid and token named */
		details_text(d, "login", &login);
		x->login = dup_span(login);
		if (login.p != NULL && x->login == NULL)
			return false;
		int64_t uid;
		x->uid = details_int(d, "uid", &uid) ? uid : -1;
		x->token = token;
	} else {
		/* before: schema 11 gave every reviewer its name as login, no uid,
		 * no token */
		x->login = strdup(e->subject);
		if (x->login == NULL)
			return false;
	}
	return true;
}

static bool on_reviewer_change(table_check *t, const ev *e)
{
	person *x = named_person(t, &t->reviewers, e, "reviewer");
	if (x == NULL)
		return true;
	if (strcmp(e->event, "reviewer.disable") == 0) {
		x->disabled = true;
	} else if (strcmp(e->event, "reviewer.enable") == 0) {
		x->disabled = false;
		bool token = false;   /* before schema 11 no reviewer had a token */
		details_bool(e->d, "token", &token);
		x->token = token;
	} else if (strcmp(e->event, "reviewer.role") == 0) {
		text_span role;
		details_text(e->d, "role", &role);
		x->admin = role.p != NULL && role.n == 5 && memcmp(role.p, "admin", 5) == 0;
	}
	x->last_seq = e->seq;
	return true;
}

static bool on_names_reviewer(table_check *t, const ev *e)
{
	named_person(t, &t->reviewers, e, "reviewer");
	return true;
}

static bool on_agent_add(table_check *t, const ev *e)
{
	if (people_find(&t->agents, e->subject) != NULL) {
		contradict(t, e->seq, "event seq %lld (agent.add) adds an agent added before",
		    (long long)e->seq);
		return true;
	}
	person *x = people_add(&t->agents, e->subject);
	if (x == NULL)
		return false;
	details *d = e->d;
	text_span login;
	details_text(d, "login", &login);
	x->login = dup_span(login);
	x->actor = strdup(e->actor);
	if ((login.p != NULL && x->login == NULL) || x->actor == NULL)
		return false;
	int64_t v;
	x->uid = details_int(d, "uid", &v) ? v : -1;
	x->rate = details_int(d, "rate", &v) ? v : 0;
	x->token = false;
	details_bool(d, "token", &x->token);
	x->add_seq = x->last_seq = e->seq;
	return true;
}

static bool on_agent_revoke(table_check *t, const ev *e)
{
	person *x = named_person(t, &t->agents, e, "agent");
	if (x != NULL) {
		x->revoked = true;
		x->last_seq = e->seq;
	}
	return true;
}

static bool on_pin(table_check *t, const ev *e)
{
	details *d = e->d;
	int64_t version;
	if (!details_int(d, "policy_version", &version)) {
		contradict(t, e->seq, "event seq %lld (%s) names no policy version", (long long)e->seq,
		    e->event);
		return true;
	}
	for (size_t i = 0; i < t->npins; i++)
		if (t->pins[i].version == version) {
			contradict(t, e->seq, "event seq %lld (%s) pins policy version %lld again",
			    (long long)e->seq, e->event, (long long)version);
			return true;
		}
	if (!expect_grow((void **)&t->pins, &t->cappins, t->npins + 1, sizeof *t->pins))
		return false;
	pin_expect *x = &t->pins[t->npins++];
	x->version = version;
	x->seq = e->seq;
	x->actor = strdup(e->actor);
	text_span just;
	int k = details_text(d, "justification", &just);
	x->justification_known = k != DT_ABSENT;        /* the first store.init had none */
	x->justification = dup_span(just);
	const details_member *files = details_get(d, "files");
	x->files = files ? dup_span((text_span){ files->value, files->vlen }) : NULL;
	return x->actor != NULL && (just.p == NULL || x->justification != NULL) &&
	    (files == NULL || x->files != NULL);
}

static const struct {
	const char *event;
	bool (*fn)(table_check *t, const ev *e);
} handlers[] = {
	{ "submission.create", on_create },
	{ "submission.reevaluate", on_reevaluate },
	{ "decision.approve", on_decision },
	{ "decision.reject", on_decision },
	{ "override.partial", on_decision },
	{ "override.grant", on_decision },
	{ "state.tamper", on_names_submission },
	{ "submission.outcome", on_outcome },
	{ "reviewer.add", on_reviewer_add },
	{ "reviewer.disable", on_reviewer_change },
	{ "reviewer.enable", on_reviewer_change },
	{ "reviewer.role", on_reviewer_change },
	{ "reviewer.reset", on_names_reviewer },
	{ "reviewer.unlock", on_names_reviewer },
	{ "reviewer.lockout", on_names_reviewer },
	{ "code.replay", on_names_reviewer },
	{ "session.signin", on_names_reviewer },
	{ "agent.add", on_agent_add },
	{ "agent.revoke", on_agent_revoke },
	{ "store.init", on_pin },
	{ "policy.pin", on_pin },
};

table_check *tables_begin(store *s)
{
	table_check *t = calloc(1, sizeof *t);
	if (t == NULL) {
		snprintf(s->err, sizeof s->err, "out of memory");
		return NULL;
	}
	t->s = s;
	crypto_shorthash_keygen(t->key);
	return t;
}

bool tables_event(table_check *t, int64_t seq, const char *actor, const char *event,
    const char *subject, const char *text)
{
	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
		if (strcmp(handlers[i].event, event) != 0)
			continue;
		ev e = { seq, actor ? actor : "", event, subject ? subject : "", &t->d };
		if (details_scan(text, &t->d) && handlers[i].fn(t, &e))
			return true;
		snprintf(t->s->err, sizeof t->s->err, "out of memory while verifying the tables");
		return false;
	}
	return true;
}

bool tables_finish(table_check *t, verify_result *r)
{
	if (t->bad_seq != 0) {
		r->ok = false;
		r->bad_seq = t->bad_seq;
		snprintf(r->why, sizeof r->why, "%s", t->why);
		return true;
	}
	return rows_check(t, r);
}

void tables_on_rows(table_check *t, void (*fn)(void *ctx), void *ctx)
{
	t->on_rows = fn;
	t->on_rows_ctx = ctx;
}

void tables_free(table_check *t)
{
	if (t == NULL)
		return;
	free(t->subs);
	free(t->decs);
	people_free(&t->reviewers);
	people_free(&t->agents);
	for (size_t i = 0; i < t->npins; i++) {
		free(t->pins[i].actor);
		free(t->pins[i].justification);
		free(t->pins[i].files);
	}
	free(t->pins);
	details_free(&t->d);
	sodium_memzero(t->key, sizeof t->key);
	free(t);
}
