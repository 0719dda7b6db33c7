/*
 * writer.c: the one thread that changes the store.
 *
 * Requests queue jobs here and suspend. The writer takes every job queued
 * since its last round: submissions go into one shared transaction through
 * the submit operation's batch writer (group commit: one commit, one sync,
 * for all the requests that arrived meanwhile), and each is answered only
 * after that commit; a failure answers every request of the batch with it,
 * since none of them was stored. Any other change runs as its own operation
 * between batches. The policy set and the settings in use live here too, so
 * that SIGHUP's reload happens between two rounds, never under a request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

/* Reads config.yaml and the policies and checks them against the pin, as a
 * command does at its start. At start a failure stops the server; on SIGHUP
 * or after a pin (routes_admin.c) the set in use stays. */
bool writer_load(server *srv, char *err, size_t errlen)
{
	settings cfg;
	diags errs = { 0 };
	bool cfg_ok = store_settings(srv->writer, &cfg, &errs);
	policy_set *ps = store_policies_load(srv->writer, &errs);
	if (!cfg_ok || ps == NULL || errs.n > 0) {
		diags_print(&errs, stderr);
		diags_free(&errs);
		policy_set_free(ps);
		snprintf(err, errlen, "the store's policies or config have errors");
		return false;
	}
	diags_free(&errs);
	integrity integ;
	if (!integrity_check_loaded(srv->writer, ps, &cfg, &integ)) {
		policy_set_free(ps);
		snprintf(err, errlen, "%s", store_errmsg(srv->writer));
		return false;
	}
	if (integ.tampered) {
		settings_clamp(&cfg);
		err_printf("arbiter serve: the policy files differ from pinned version %d (%s): every "
		    "submission gets a policy_integrity finding and no decision is accepted until "
		    "`arbiter policy pin`\n", integ.version, integ.what);
		if (!integrity_audit_tamper(srv->writer, &integ, srv->login))
			err_printf("arbiter serve: %s\n", store_errmsg(srv->writer));
	}
	if (!enforcement_audit(srv->writer, cfg.enforcement, srv->login))
		err_printf("arbiter serve: %s\n", store_errmsg(srv->writer));
	policy_set_free(srv->ps);
	pthread_mutex_lock(&srv->lock);         /* /v1/status reads integ */
	srv->ps = ps;
	srv->live = cfg;
	srv->integ = integ;
	pthread_mutex_unlock(&srv->lock);
	eval_options_default(&srv->opts);
	srv->opts.enforcement = cfg.enforcement;
	srv->opts.fail_closed = cfg.fail_closed;
	srv->opts.tampered = integ.tampered ? srv->integ.what : NULL;
	return true;
}

/* The submissions of the open transaction, answered at its commit. */
typedef struct round {
	submit_batch batch;
	job *open, **open_tail;
	stored out;
	strbuf json;
	strbuf evidence;                /* an earlier submission's signed events */
} round;

/* Where a new submission's signed event goes in its job's answer: before
 * the closing brace of its result, at byte at. */
typedef struct proof {
	size_t at;
	int64_t seq;
} proof;

static void add_proof(job *j, size_t at, int64_t seq)
{
	j->proofs = arena_grow(j->rq->arena, j->proofs, j->nproofs, &j->proofs_cap,
	    sizeof *j->proofs, 4);
	j->proofs[j->nproofs++] = (proof){ at, seq };
}

/* Every allowing answer carries the signed event behind it (PRODUCT.md
 * section 9). A new submission's event is signed alongside and written at
 * the commit (store_bulk), so its answer gets it once the job's items are
 * committed: by seq, from the events that commit wrote, which the signing
 * thread keeps until the next transaction (op_evidence_event; the table
 * for one signed inline), and put in place. One that cannot be had leaves
 * the result without it, which a client holding the public key refuses. */
static void prove(store *w, job *j)
{
	request *rq = j->rq;
	if (j->nproofs == 0 || rq->answer == NULL) {
		j->nproofs = 0;
		return;
	}
	strbuf b = { 0 }, events = { 0 };
	size_t from = 0;
	for (size_t i = 0; i < j->nproofs; i++) {
		const proof *p = &j->proofs[i];
		if (p->at < from || p->at > rq->answer_len)
			continue;
		sb_put(&b, rq->answer + from, p->at - from);
		from = p->at;
		op_reply r;
		if (op_evidence_event(w, p->seq, &events, &r) == OUT_OK) {
			sb_puts(&b, ",\"evidence\":");
			sb_put(&b, events.s, events.n);
		}
	}
	free(events.s);
	sb_put(&b, rq->answer + from, rq->answer_len - from);
	free(rq->answer);
	rq->answer = b.s;
	rq->answer_len = b.n;
	j->nproofs = 0;
}

static void answer_open(round *rd, const submit_reply *rep, bool ok)
{
	for (job *j = rd->open; j != NULL; j = j->next_open) {
		request *rq = j->rq;
		if (ok) {
			rq->answered = true;
			prove(rd->batch.s, j);
		} else {
			free(rq->answer);
			rq->answer = NULL;
			rq->answered = false;
			answer_error(rq, rep->reply.out == OUT_OK ? OUT_IO_ERROR : rep->reply.out,
			    rep->reply.message, 0, 0);
		}
	}
	rd->open = NULL;
	rd->open_tail = &rd->open;
}

static void commit_round(round *rd)
{
	submit_reply rep = { 0 };
	bool ok = op_submit_commit(&rd->batch, &rep) == OUT_OK;
	answer_open(rd, &rep, ok);
}

/* One item's result into the job's answer: a JSON Lines batch gets a line
 * per item, one document the answer itself. */
static void item_error(job *j, const sub_item *it, outcome o, int http, const char *msg)
{
	request *rq = j->rq;
	if (!j->batch) {
		answer_error(rq, o, msg, it->line, it->col);
		if (http != 0)
			rq->status = http;
		return;
	}
	error_json(&j->out, outcome_of(o)->name, msg, 0, 0);
	j->out.n--;                     /* reopen the object for the item's line */
	sb_printf(&j->out, ", \"line\": %d}\n", it->line);
}

static void item_result(job *j, const char *json, size_t len, int status)
{
	if (!j->batch) {
		answer(j->rq, status, "application/json", json, len);
		return;
	}
	sb_put(&j->out, json, len);
}

/* An earlier submission that a retry or ?match=digest found, whose row says
 * it may proceed while its signed events do not: the round so far is
 * committed, and the mismatch audited in a transaction of its own before
 * the refusal (409). */
static void tampered(server *srv, round *rd, job *j, const sub_item *it, int64_t id,
    const char *status, const char *why, const char *message)
{
	commit_round(rd);
	op_reply r;
	if (op_tamper_record(srv->writer, j->actor != NULL ? j->actor : j->rq->who.name, id, status,
	    why, &r) != OUT_OK)
		err_printf("arbiter serve: submission %lld: the mismatch could not be audited: %s\n",
		    (long long)id, r.message);
	item_error(j, it, OUT_TAMPERED, 0, message);
}

/* ?match=digest (what arbiter hook sends): the newest submission of this
 * submitter with the same digest under the policy version in use, while it
 * still answers for the call (op_submission_match), is the answer (200);
 * true when it answered. */
static bool match_earlier(server *srv, round *rd, job *j, sub_item *it)
{
	const submission *sub = &it->sub;
	int64_t id = 0;
	op_reply r;
	size_t who_len;
	const char *who = submission_submitter(sub, &who_len);
	outcome o = op_submission_match(srv->writer, who, who_len, sub->digest,
	    rd->batch.version, srv->live.approval_ttl * 1000, &id, &r);
	if (o == OUT_NOT_FOUND)
		return false;
	if (o != OUT_OK) {
		item_error(j, it, o, 0, r.message);
		return true;
	}
	char status[16], why[320];
	o = op_evidence(srv->writer, id, &rd->evidence, status, why, sizeof why, &r);
	if (o == OUT_TAMPERED) {
		tampered(srv, rd, j, it, id, status, why, r.message);
		return true;
	}
	if (o != OUT_OK) {
		item_error(j, it, o, 0, r.message);
		return true;
	}
	const char *st = "pending";
	char *json = store_result_json(srv->writer, id, &st);
	if (json == NULL) {
		item_error(j, it, OUT_IO_ERROR, 0, store_errmsg(srv->writer));
		return true;
	}
	rd->json.n = 0;
	sb_puts(&rd->json, json);
	free(json);
	if (rd->evidence.n > 0)
		result_add_evidence(&rd->json, rd->evidence.s, rd->evidence.n);
	sb_puts(&rd->json, "\n");
	item_result(j, rd->json.s, rd->json.n, 200);
	return true;
}

/* Stores (or, dry, evaluates) one item; its result waits for the commit. */
static void run_item(server *srv, round *rd, job *j, sub_item *it)
{
	request *rq = j->rq;
	eval_result r;
	if (!it->ok) {
		item_error(j, it, it->out, it->http, it->err);
		return;
	}
	rd->json.n = 0;
	if (j->dry_run) {
		eval_options o = srv->opts;
		history_source h;
		store_history(srv->writer, &h);
		o.history = &h;
		evaluate(srv->ps, &it->sub, &o, rq->arena, &r);
		result_write_json(&rd->json, "", &it->sub, &r);
		sb_puts(&rd->json, "\n");
		item_result(j, rd->json.s, rd->json.n, 200);
		return;
	}
	if (j->match && match_earlier(srv, rd, j, it))
		return;
	submit_reply rep;
	rd->batch.actor = j->actor != NULL ? j->actor : rq->who.name;
	outcome o = op_submit(&rd->batch, &it->sub, rq->arena, &r, &rd->out, &rep);
	if (rep.lost > 0 || (o == OUT_IO_ERROR && !store_in_transaction(srv->writer))) {
		answer_open(rd, &rep, false);   /* the batch went back with this document */
		j->lost = true;                 /* and this request's earlier items with it */
	}
	if (o == OUT_TAMPERED) {
		tampered(srv, rd, j, it, rd->out.id, rd->out.status, rd->out.tampered,
		    rep.reply.message);
		return;
	}
	if (o != OUT_OK) {
		/* 422 for a document the store will not take; a ref reused with
		 * other content is a conflict (409) */
		item_error(j, it, o, o == OUT_BAD_INPUT ? 422 : 0, rep.reply.message);
		return;
	}
	int status = 201;
	int64_t proven = 0;
	if (rd->out.existing) {
		const char *st = "pending";
		char *json = store_result_json(srv->writer, rd->out.id, &st);
		if (json == NULL) {
			item_error(j, it, OUT_IO_ERROR, 0, store_errmsg(srv->writer));
			return;
		}
		sb_puts(&rd->json, json);
		free(json);
		if (rd->out.evidence.n > 0)
			result_add_evidence(&rd->json, rd->out.evidence.s, rd->out.evidence.n);
		status = 200;
	} else {
		stored_result_write(&rd->json, rd->out.id, rd->batch.version, &it->sub, &r, NULL);
		if (status_outcome(r.status) == OUT_OK)
			proven = rd->out.seq;
	}
	sb_puts(&rd->json, "\n");
	size_t before = j->batch ? j->out.n : 0;
	item_result(j, rd->json.s, rd->json.n, status);
	if (proven > 0)
		add_proof(j, before + rd->json.n - 2, proven);  /* before its "}\n" */
}

static void run_submission(server *srv, round *rd, job *j)
{
	request *rq = j->rq;
	j->out.n = 0;
	j->lost = false;
	j->nproofs = 0;
	for (size_t i = 0; i < j->nitems; i++) {
		run_item(srv, rd, j, &j->items[i]);
		if (op_submit_due(&rd->batch) && !j->batch)
			commit_round(rd);
	}
	if (j->batch && j->lost) {
		answer_error(rq, OUT_IO_ERROR, "the store failed: nothing of this batch was stored",
		    0, 0);
	} else if (j->batch) {
		sb_puts(&j->out, "");
		answer_owned(rq, 200, "application/x-ndjson", j->out.s, j->out.n);
		j->out = (strbuf){ 0 };
	}
	if (j->dry_run || !store_in_transaction(srv->writer) || !rq->answered ||
	    rq->status >= 300) {
		/* answered now: nothing of it waits for a commit */
		if (!j->dry_run && rq->answered && rq->status < 300)
			prove(srv->writer, j);
		return;
	}
	rq->answered = false;           /* until the commit */
	j->next_open = NULL;
	*rd->open_tail = j;
	rd->open_tail = &j->next_open;
}

/* The jobs queued since the writer last looked, or NULL. */
static job *take_queue(server *srv)
{
	job *jobs = srv->queue;
	srv->queue = NULL;
	srv->queue_tail = &srv->queue;
	return jobs;
}

/* Runs one round of jobs; true when something other than submissions ran
 * (a decision: long-polls must look again). Before the round's commit it
 * takes the submissions that came meanwhile into the same transaction (they
 * join the list, to be resumed with the rest), so that under load one commit
 * and one sync serve as many requests as are ready; with none waiting it
 * commits at once. */
static bool run_round(server *srv, job *jobs)
{
	round rd = { .batch = { .s = srv->writer, .ps = srv->ps, .opts = &srv->opts,
		.version = store_policy_version(srv->writer) } };
	rd.open_tail = &rd.open;
	srv->opts.now = now_ms() / 1000;
	bool changed = false;
	for (job *j = jobs, *last = NULL; ; j = j->next) {
		if (j == NULL) {
			if (rd.open == NULL || op_submit_due(&rd.batch))
				break;
			pthread_mutex_lock(&srv->lock);
			job *more = srv->reload ? NULL : take_queue(srv);
			pthread_mutex_unlock(&srv->lock);
			if (more == NULL)
				break;
			last->next = j = more;
		}
		last = j;
		if (j->run != NULL) {
			if (rd.open != NULL)
				commit_round(&rd);
			j->run(srv, srv->writer, j);
			/* a pin reloads the policy set: the next submissions use the new one */
			rd.batch.ps = srv->ps;
			rd.batch.version = store_policy_version(srv->writer);
			changed = true;
			continue;
		}
		run_submission(srv, &rd, j);
		if (op_submit_due(&rd.batch) || j->batch)
			commit_round(&rd);
	}
	if (rd.open != NULL || store_in_transaction(srv->writer))
		commit_round(&rd);
	free(rd.json.s);
	free(rd.evidence.s);
	free(rd.out.details.s);
	free(rd.out.evidence.s);
	return changed;
}

/* The submissions a round changed, as its audit events name them: every
 * change is audited with the submission's id as the event's subject, so the
 * writer need not know what a job did to wake only the long-polls on what
 * it touched. */
enum { CHANGED_MAX = 256 };
typedef struct touched {
	int64_t ids[CHANGED_MAX];
	size_t n;
	bool all;                       /* too many to list: everyone looks again */
} touched;

static bool note_subject(const audit_event *e, void *ctx)
{
	touched *c = ctx;
	char *end;
	long long id = strtoll(e->subject, &end, 10);
	if (e->subject[0] == '\0' || *end != '\0' || id <= 0)
		return true;            /* not about a submission */
	if (c->n == CHANGED_MAX) {
		c->all = true;
		return false;
	}
	c->ids[c->n++] = id;
	return true;
}

/* Wakes whoever the round's commits concern: the event streams after any
 * commit; after a change other than new submissions (a decision), the
 * long-polls on the submissions its events name. */
static void wake_after(server *srv, bool any_change, int64_t before, int64_t after)
{
	if (!any_change) {
		waiters_wake(srv, WAKE_STREAMS);
		return;
	}
	touched c = { .all = after - before > CHANGED_MAX };
	audit_cursor q = { .seq = before, .older = false };
	if (!c.all && !audit_page(srv->writer, &q, after - before, note_subject, &c))
		c.all = true;
	if (c.all)
		waiters_wake(srv, WAKE_ALL);
	else
		waiters_wake_subs(srv, c.ids, c.n);
}

static void *writer_main(void *arg)
{
	server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		while (!srv->writer_done && (!srv->open ||
		    (srv->queue == NULL && !srv->reload && !srv->denials_due))) {
			if (!srv->open || !srv->denials_waiting) {
				pthread_cond_wait(&srv->wake, &srv->lock);
				continue;
			}
			/* counted refusals wait: look again in a second (denials.c) */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&srv->wake, &srv->lock, &ts) == ETIMEDOUT)
				srv->denials_due = true;
		}
		if (srv->queue == NULL && !srv->reload && srv->writer_done)
			break;
		bool reload = srv->reload, denials = srv->denials_due;
		srv->reload = false;
		srv->denials_due = false;
		if (denials)
			srv->denials_waiting = false;   /* set again by the flush or a new refusal */
		job *jobs = take_queue(srv);
		pthread_mutex_unlock(&srv->lock);
		if (reload) {
			char err[512];
			if (writer_load(srv, err, sizeof err))
				err_printf("arbiter serve: reloaded policies (version %d) and config.yaml\n",
				    srv->integ.version);
			else
				err_printf("arbiter serve: reload refused, the previous set stays: %s\n", err);
		}
		if (denials && denials_flush(srv->writer, false)) {
			pthread_mutex_lock(&srv->lock);
			srv->denials_waiting = true;
			pthread_mutex_unlock(&srv->lock);
		}
		bool changed = jobs != NULL && run_round(srv, jobs);
		int64_t seq = 0;
		audit_last_seq(srv->writer, &seq);
		pthread_mutex_lock(&srv->lock);
		int64_t before = srv->head_seq;
		srv->head_seq = seq;
		if (seq != before)
			autocp_moved(srv);
		if (changed)
			srv->change_gen++;
		for (job *j = jobs, *next; j != NULL; j = next) {
			next = j->next;
			j->done = true;
			resume(j->rq);
		}
		pthread_mutex_unlock(&srv->lock);
		wake_after(srv, changed, before, seq);
		store_log_finish(srv->writer);  /* what the copier left of the log */
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	denials_flush(srv->writer, true);       /* every refusal still counted */
	return NULL;
}

bool writer_start(server *srv, char *err, size_t errlen)
{
	srv->queue_tail = &srv->queue;
	if (!writer_load(srv, err, errlen))
		return false;
	if (pthread_create(&srv->writer_thread, NULL, writer_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		return false;
	}
	return true;
}

static void enqueue(server *srv, request *rq)
{
	job *j = &rq->job;
	j->rq = rq;
	j->next = NULL;
	j->done = false;
	pthread_mutex_lock(&srv->lock);
	suspend(rq);                    /* before the writer can see the job */
	*srv->queue_tail = j;
	srv->queue_tail = &j->next;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
}

void writer_submit(server *srv, request *rq)
{
	rq->job.run = NULL;
	enqueue(srv, rq);
}

void writer_run(server *srv, request *rq, void (*run)(server *, store *, job *))
{
	rq->job.run = run;
	enqueue(srv, rq);
}

void writer_open(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->open = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
}

void writer_reload(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->reload = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
}

void writer_stop(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->writer_done = true;
	pthread_cond_signal(&srv->wake);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->writer_thread, NULL);
}
