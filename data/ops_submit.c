/*
 * ops_submit.c: storing submissions, the operation behind submit.
 *
 * Submissions share one write transaction in batches (up to
 * SUBMIT_BATCH_MAX documents or SUBMIT_BATCH_MS of work, whichever comes
 * first; a command's stream, SUBMIT_STREAM_MAX or SUBMIT_STREAM_MS): one
 * commit, and one sync, per batch instead of per document. A
 * document that is refused (a ref reused with other content) is refused
 * before it writes anything, and the batch goes on. A failure while writing
 * (a full disk) rolls the whole batch back, in the database and in what the
 * transaction keeps in memory until its commit, and reports how many earlier
 * documents went with it. The caller
 * reports a submission stored only after op_submit_commit says so, and
 * commits when op_submit_due says the batch is full, so that the write lock
 * is free between batches while the next document is read. A retry of a
 * stored ref reports that submission's status, and a status that allows
 * only as its signed events say (op_evidence): the caller audits a
 * mismatch once the batch is committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

outcome op_submit(submit_batch *b, const submission *sub, arena *scratch, eval_result *r,
    stored *out, submit_reply *rep)
{
	memset(&rep->reply, 0, sizeof rep->reply);
	rep->lost = 0;
	out->evidence.n = 0;
	out->seq = 0;
	out->tampered[0] = '\0';
	store *s = b->s;
	if (s->remote)
		return remote_submit(b, sub, scratch, r, out, rep);
	if (sqlite3_get_autocommit(s->db)) {
		if (op_begin(s, &rep->reply) != OUT_OK)
			return rep->reply.out;
		b->started = mono_ms();
		b->handled = b->pending = 0;
	}
	b->handled++;
	outcome o = store_submit(s, b->ps, b->version, sub, b->opts, scratch, b->actor, r, out);
	if (o == OUT_OK && out->existing) {
		/* a retry that reports an allow: only as its signed events say */
		o = op_evidence(s, out->id, &out->evidence, out->status, out->tampered,
		    sizeof out->tampered, &rep->reply);
		if (o == OUT_TAMPERED || o == OUT_NOT_FOUND)
			return o;       /* nothing was written for it */
		if (o != OUT_OK)
			snprintf(s->err, sizeof s->err, "%s", rep->reply.message);
	}
	if (o == OUT_OK) {
		if (!out->existing)
			b->pending++;
		rep->reply.out = OUT_OK;
		return OUT_OK;
	}
	op_say(&rep->reply, o, "%s", s->err);
	if (o != OUT_IO_ERROR)
		return o;               /* refused before anything was written */
	/* a failure while writing: the batch's rows and what the transaction
	 * keeps in memory until commit (quota sums, events being signed) go back
	 * together, never one document's share of them alone */
	store_rollback(s);
	rep->lost = b->pending;
	b->pending = 0;
	snprintf(rep->reply.message, sizeof rep->reply.message, "%.400s: the transaction was rolled "
	    "back", s->err);
	rep->reply.out = OUT_IO_ERROR;
	return OUT_IO_ERROR;
}

bool op_submit_due(const submit_batch *b)
{
	if (b->s->remote)
		return true;    /* each one was answered after the server's commit */
	int most = b->stream ? SUBMIT_STREAM_MAX : SUBMIT_BATCH_MAX;
	int64_t longest = b->stream ? SUBMIT_STREAM_MS : SUBMIT_BATCH_MS;
	return !sqlite3_get_autocommit(b->s->db) && (b->handled >= most ||
	    mono_ms() - b->started >= longest);
}

outcome op_submit_commit(submit_batch *b, submit_reply *rep)
{
	memset(&rep->reply, 0, sizeof rep->reply);
	rep->lost = 0;
	if (!b->s->remote && !sqlite3_get_autocommit(b->s->db) && !store_commit(b->s)) {
		rep->lost = b->pending;
		op_failed(b->s, &rep->reply);
	}
	b->pending = b->handled = 0;
	return rep->reply.out;
}

bool op_submit_result(submit_batch *b, const submission *sub, const eval_result *r,
    const stored *out, strbuf *json, const char **status)
{
	json->n = 0;
	if (b->s->remote)
		return remote_submit_result(b, json, status);
	if (!out->existing) {
		/* as store_result_json rebuilds it for a retry */
		stored_result_write(json, out->id, b->version, sub, r, NULL);
		*status = status_name(r->status);
		return true;
	}
	*status = "pending";
	char *text = store_result_json(b->s, out->id, status);
	if (text == NULL)
		return false;
	sb_puts(json, text);
	free(text);
	return true;
}
