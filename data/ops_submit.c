/*
 * ops_submit.c: storing submissions, the operation behind submit.
 *
 * Submissions share one write transaction in batches (up to
 * SUBMIT_BATCH_MAX documents or SUBMIT_BATCH_MS of work, whichever comes
 * first): one commit, and one sync, per batch instead of per document. A
 * document that is refused (a ref reused with other content) is refused
 * before it writes anything, and the batch goes on. A failure while writing
 * (a full disk) rolls the whole batch back, in the database and in what the
 * transaction keeps in memory until its commit, and reports how many earlier
 * documents went with it. The caller
 * reports a submission stored only after op_submit_commit says so, and
 * commits when op_submit_due says the batch is full, so that the write lock
 * is free between batches while the next document is read.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

outcome op_submit(submit_batch *b, const submission *sub, arena *scratch, eval_result *r,
    stored *out, submit_reply *rep)
{
	memset(&rep->reply, 0, sizeof rep->reply);
	rep->lost = 0;
	store *s = b->s;
	if (sqlite3_get_autocommit(s->db)) {
		if (op_begin(s, &rep->reply) != OUT_OK)
			return rep->reply.out;
		b->started = mono_ms();
		b->handled = b->pending = 0;
	}
	b->handled++;
	outcome o = store_submit(s, b->ps, b->version, sub, b->opts, scratch, b->actor, r, out);
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
	return !sqlite3_get_autocommit(b->s->db) && (b->handled >= SUBMIT_BATCH_MAX ||
	    mono_ms() - b->started >= SUBMIT_BATCH_MS);
}

outcome op_submit_commit(submit_batch *b, submit_reply *rep)
{
	memset(&rep->reply, 0, sizeof rep->reply);
	rep->lost = 0;
	if (!sqlite3_get_autocommit(b->s->db) && !store_commit(b->s)) {
		rep->lost = b->pending;
		op_failed(b->s, &rep->reply);
	}
	b->pending = b->handled = 0;
	return rep->reply.out;
}
