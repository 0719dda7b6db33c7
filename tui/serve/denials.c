/*
 * denials.c: refusals of access, audited as access.denied without letting a
 * flood of them flood the log (PRODUCT.md section 9).
 *
 * Every refusal the server makes of who a caller is or what it may do (a
 * bad token, an unknown uid, an agent at a reviewer's route, another agent's
 * submission, a document naming another submitter) is noted here, keyed by
 * who was refused: an identity's name, "uid N", or the peer's address. The
 * first refusal of a who is audited at once; the ones after it within a
 * minute are only counted, and audited as one event with their count a
 * minute after the last event of that who (the writer looks once a second
 * while counts wait), or when the server stops. So each who costs at most
 * one event a minute, and no refusal goes unrecorded.
 *
 * Refusals are noted on the polling threads and audited by the writer
 * thread, which owns the write connection: the table has its own lock, and
 * the writer is woken through the server's (srv->denials_due).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "serve.h"

enum { DENIALS_MAX = 512, MINUTE_MS = 60000 };

typedef struct denial {
	char who[80];
	char what[160];                 /* the latest refusal */
	int pending;                    /* refusals not audited yet */
	int64_t last_ms;                /* its last access.denied event; 0: none yet */
	bool used;
} denial;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static denial table[DENIALS_MAX];

/* The entry of who, made when there is none: a free one, else one whose
 * minute is over with nothing waiting, else the last, whose counts then
 * cover several whos (its event says "others"). Under lock. */
static denial *entry(const char *who, int64_t now)
{
	denial *free_slot = NULL, *idle = NULL;
	for (int i = 0; i < DENIALS_MAX - 1; i++) {
		denial *d = &table[i];
		if (d->used && strcmp(d->who, who) == 0)
			return d;
		if (!d->used && free_slot == NULL)
			free_slot = d;
		if (d->used && d->pending == 0 && now - d->last_ms >= MINUTE_MS && idle == NULL)
			idle = d;
	}
	denial *d = free_slot ? free_slot : idle;
	if (d == NULL) {
		d = &table[DENIALS_MAX - 1];
		if (!d->used) {
			d->used = true;
			snprintf(d->who, sizeof d->who, "others");
		}
		return d;
	}
	memset(d, 0, sizeof *d);
	d->used = true;
	snprintf(d->who, sizeof d->who, "%s", who);
	return d;
}

void denied(server *srv, const char *who, const char *what)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&lock);
	denial *d = entry(who, now);
	snprintf(d->what, sizeof d->what, "%s", what);
	d->pending++;
	bool due = d->last_ms == 0 || now - d->last_ms >= MINUTE_MS;
	pthread_mutex_unlock(&lock);
	pthread_mutex_lock(&srv->lock);
	if (due || !srv->denials_waiting)
		pthread_cond_signal(&srv->wake);        /* to audit, or to start looking */
	srv->denials_waiting = true;
	srv->denials_due |= due;
	pthread_mutex_unlock(&srv->lock);
}

void denied_request(server *srv, const request *rq, const char *what)
{
	char text[160];
	snprintf(text, sizeof text, "%s %.100s: %.40s", rq->method, rq->url, what);
	denied(srv, rq->who.kind != WHO_NONE ? rq->who.name : rq->who.address, text);
}

bool denials_flush(store *w, bool all)
{
	bool waiting = false;
	int64_t now = now_ms();
	for (int i = 0; i < DENIALS_MAX; i++) {
		denial d;
		pthread_mutex_lock(&lock);
		bool due = table[i].used && table[i].pending > 0 &&
		    (all || table[i].last_ms == 0 || now - table[i].last_ms >= MINUTE_MS);
		d = table[i];
		if (due) {
			table[i].pending = 0;
			table[i].last_ms = now;
		} else if (table[i].used && table[i].pending > 0) {
			waiting = true;
		}
		pthread_mutex_unlock(&lock);
		if (!due)
			continue;
		op_reply r;
		if (op_access_denied(w, d.who, d.what, d.pending, &r) != OUT_OK)
			err_printf("arbiter serve: access.denied: %s\n", r.message);
	}
	return waiting;
}
