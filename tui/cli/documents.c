/*
 * documents.c: the reading loop that eval and submit share.
 *
 * Reads each file (or standard input), splits it into documents (YAML
 * streams at their markers, JSON Lines at newlines: a .jsonl file or
 * --jsonl; a .json file is one document), reads JSON with the JSON reader
 * (RFC 8259, engine/json.c) and YAML with the YAML reader, validates each
 * as a submission and hands it to the command. A malformed document is
 * reported as FILE:LINE:COL and skipped; the others are still handled. The
 * exit code is the worst outcome: 1 for any error, else 3 when any
 * submission is pending or blocked, else 0.
 *
 * Three kinds of thread share the work, and hand it over in chunks, not one
 * document at a time:
 * - the reader cuts the input into chunks of whole documents: JSON Lines
 *   as they arrive, CHUNK_BYTES or more at a time (a read fills what room
 *   the chunk has: from a file, twice that, 250 lines of the bench's), or
 *   fewer when the input pauses (a pipe with nothing more to read now), so
 *   that a line written alone is answered alone; a YAML stream or a .json
 *   file is one chunk;
 * - workers (one per core) parse a chunk's documents into the chunk's one
 *   arena, validate them, run the command's prepare and, when it has one,
 *   its work: the whole handling of a document that needs only the
 *   document (eval --json: evaluate and write the result line);
 * - the calling thread takes the chunks in input order and prints what the
 *   workers wrote, or hands each submission to the command's handle (submit
 *   stores them: the store stays on one thread). Before it waits for the
 *   next chunk it flushes standard output and calls the command's idle, so
 *   an answer never waits for input that has not come.
 * A command that handles the documents itself (submit) keeps the workers
 * close behind it: LEAD chunks past the one it is on, since the cores are
 * its own and its signer's while it stores them; while it is busy alone
 * (batch_read_ahead: the end of a commit, inserting its signed events and
 * syncing the log, when the other cores would idle) they read ahead to
 * the ring's limit, and it then takes the chunks they parsed meanwhile.
 * At most IN_FLIGHT chunks exist at once, whatever the length of the input,
 * and past the first no more than IN_FLIGHT_BYTES of text (a document's
 * tree takes about ten times its text: eight documents near the 1 MiB limit
 * in flight took 80 MB, now 39): memory stays flat over an endless stream.
 * A line longer than a document may be is refused at its line and skipped
 * without being kept.
 *
 * One small file is handled on the calling thread alone: threads would
 * cost more to start than they save.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum {
	CHUNK_BYTES = 64 * 1024,        /* JSON Lines handed over, at least, at a time */
	MAX_WORKERS = 16,
	IN_FLIGHT = 6 * MAX_WORKERS,    /* chunks read ahead, at most */
	LEAD = 1,                       /* per worker, ahead of handle, unless reading ahead */
	IN_FLIGHT_BYTES = 2 * 1024 * 1024,      /* and their text, past the first */
	LINE_MAX_BYTES = DOC_MAX_BYTES + 4096   /* a longer line is refused unread */
};

/* One document of a chunk, as the worker left it. */
typedef struct doc {
	submission sub;
	bool ok;                /* sub is a valid submission */
	diags errs;             /* else what is wrong with it */
	size_t out_from, out_to;        /* its output in the chunk's out (work) */
	int code;               /* the exit code work gave */
} doc;

typedef struct chunk {
	char *text;             /* whole documents (JSON Lines: whole lines) */
	size_t len, cap;
	int first_line;         /* of text[0] in the file */
	const char *file;
	int form;               /* FORM_* */
	char why[320];          /* a file that cannot be read, or a line too long */
	int why_code;           /* the exit code of why */
	arena *a;               /* every document of the chunk */
	doc *docs;
	size_t ndocs, cap_docs;
	strbuf out;             /* what work wrote, in document order */
	bool done;              /* the worker has finished it */
} chunk;

enum { FORM_LINES, FORM_YAML, FORM_JSON };

typedef struct reader {
	batch *b;
	args *a;
	pthread_mutex_t mu;
	pthread_cond_t ready, finished, freed;
	chunk *ring[IN_FLIGHT]; /* in input order: head is the oldest */
	size_t head, count;
	size_t next_work;       /* how many of the ring's chunks workers took, from head */
	chunk *spare[IN_FLIGHT];        /* released chunks, for reuse */
	size_t nspare;
	bool reading_done;      /* the reader has published its last chunk */
	int limit;              /* chunks in flight: the ring's share in use */
	size_t lead;            /* chunks taken ahead of handle (with the one it is on) */
	bool ahead;             /* batch_read_ahead: workers may take up to limit */
	size_t ring_bytes;      /* the text of the chunks in the ring */
} reader;

/* The exit codes by weight: an error outweighs a refusal, which outweighs
 * waiting, which outweighs done. */
static int weight(int code)
{
	return code == EXIT_ERROR ? 3 : code == EXIT_REFUSED ? 2 : code == EXIT_WAITING ? 1 : 0;
}

void batch_note(batch *b, int code)
{
	if (weight(code) > weight(b->worst))
		b->worst = code;
}

/* ---- chunks ---- */

static chunk *chunk_take(reader *r, const char *file, int form, int first_line)
{
	pthread_mutex_lock(&r->mu);
	/* a chunk's tree takes about ten times its text: a few big documents
	 * in flight fill as much memory as many small chunks */
	while (r->count >= (size_t)r->limit || (r->count > 0 && r->ring_bytes >= IN_FLIGHT_BYTES))
		pthread_cond_wait(&r->freed, &r->mu);
	chunk *c = r->nspare > 0 ? r->spare[--r->nspare] : NULL;
	pthread_mutex_unlock(&r->mu);
	if (c == NULL) {
		c = calloc(1, sizeof *c);
		if (c == NULL)
			abort();
		c->a = arena_new();
	} else {
		arena_reset(c->a);
		for (size_t i = 0; i < c->ndocs; i++)
			diags_clear(&c->docs[i].errs);
	}
	c->len = 0;
	c->file = file;
	c->form = form;
	c->first_line = first_line;
	c->why[0] = '\0';
	c->why_code = 0;
	c->ndocs = 0;
	c->out.n = 0;
	c->done = false;
	return c;
}

static void chunk_free(chunk *c)
{
	for (size_t i = 0; i < c->cap_docs; i++)
		diags_free(&c->docs[i].errs);
	free(c->docs);
	free(c->text);
	free(c->out.s);
	arena_free(c->a);
	free(c);
}

static void chunk_reserve(chunk *c, size_t more)
{
	if (c->len + more + 1 <= c->cap)
		return;
	while (c->len + more + 1 > c->cap)
		c->cap = c->cap ? c->cap * 2 : CHUNK_BYTES * 2;
	c->text = realloc(c->text, c->cap);
	if (c->text == NULL)
		abort();
}

/* ---- workers: a chunk's documents parsed, validated, prepared, worked ---- */

typedef struct working {
	const batch *b;
	chunk *c;
} working;

static doc *next_doc(chunk *c)
{
	if (c->ndocs == c->cap_docs) {
		size_t cap = c->cap_docs ? c->cap_docs * 2 : 64;
		c->docs = realloc(c->docs, cap * sizeof *c->docs);
		if (c->docs == NULL)
			abort();
		memset(c->docs + c->cap_docs, 0, (cap - c->cap_docs) * sizeof *c->docs);
		c->cap_docs = cap;
	}
	doc *d = &c->docs[c->ndocs++];
	diags_clear(&d->errs);
	d->ok = false;
	d->code = 0;
	d->out_from = d->out_to = c->out.n;
	return d;
}

static void one_document(void *ctx, const char *text, size_t len, int line)
{
	working *w = ctx;
	chunk *c = w->c;
	const batch *b = w->b;
	line += c->first_line - 1;
	bool empty;
	doc *d = next_doc(c);
	node *root = c->form == FORM_YAML
	    ? doc_parse(c->a, c->file, text, len, line, &empty, &d->errs)
	    : doc_parse_json(c->a, c->file, text, len, line, 0, &empty, &d->errs);
	if (root == NULL && empty) {
		c->ndocs--;     /* no document: nothing to report */
		return;
	}
	d->ok = root != NULL && submission_from_doc(root, c->file, &d->sub, &d->errs);
	if (d->ok) {
		d->sub.text = text;     /* lives in the chunk as long as the document */
		d->sub.text_len = len;
		d->sub.text_json = c->form != FORM_YAML;
	}
	if (d->ok && b->prepare != NULL)
		d->ok = b->prepare(b, &d->sub, c->a, &d->errs);
	if (d->ok && b->work != NULL) {
		d->code = b->work(b, &d->sub, c->a, &c->out);
		d->out_to = c->out.n;
	}
}

static void work_chunk(const batch *b, chunk *c)
{
	working w = { b, c };
	if (c->why[0] != '\0')
		return;
	if (c->form == FORM_LINES)
		doc_split_lines(c->text, c->len, one_document, &w);
	else if (c->form == FORM_JSON)
		one_document(&w, c->text, c->len, 1);
	else
		doc_split_yaml(c->text, c->len, one_document, &w);
}

static void *worker(void *ctx)
{
	reader *r = ctx;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while ((r->next_work == r->count && !r->reading_done) ||
		    (r->next_work < r->count && r->next_work >= r->lead && !r->ahead))
			pthread_cond_wait(&r->ready, &r->mu);
		if (r->next_work == r->count) {
			/* the end: another worker held back (LEAD) sees it too */
			pthread_cond_signal(&r->ready);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		chunk *c = r->ring[(r->head + r->next_work++) % IN_FLIGHT];
		pthread_mutex_unlock(&r->mu);
		work_chunk(r->b, c);
		pthread_mutex_lock(&r->mu);
		c->done = true;
		pthread_cond_broadcast(&r->finished);
		pthread_mutex_unlock(&r->mu);
	}
}

/* ---- the reader: input cut into chunks ---- */

static void publish(reader *r, chunk *c)
{
	pthread_mutex_lock(&r->mu);
	r->ring[(r->head + r->count++) % IN_FLIGHT] = c;
	r->ring_bytes += c->len;
	pthread_cond_signal(&r->ready);
	pthread_mutex_unlock(&r->mu);
}

/* Whether reading fd now would wait: a pipe or terminal with nothing in it. */
static bool would_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

/* Puts back a chunk that was taken and not published. */
static void chunk_return(reader *r, chunk *c)
{
	pthread_mutex_lock(&r->mu);
	r->spare[r->nspare++] = c;
	pthread_mutex_unlock(&r->mu);
}

/* Reads JSON Lines from fd as they arrive: a chunk goes to the workers
 * when it holds CHUNK_BYTES, when the input pauses after a whole line, and
 * at the end. A line beyond LINE_MAX_BYTES is refused at its line and its
 * bytes are dropped as they come, never kept. */
static void read_lines(reader *r, int fd, const char *file)
{
	int line = 1;                   /* of the line that starts after last_nl */
	chunk *c = chunk_take(r, file, FORM_LINES, line);
	size_t last_nl = 0;             /* one past the last newline in c, 0 if none */
	bool skipping = false;          /* dropping the rest of a line too long */
	for (;;) {
		if (last_nl > 0 && (c->len >= CHUNK_BYTES || would_wait(fd))) {
			/* hand over the whole lines; the rest starts the next chunk */
			chunk *next = chunk_take(r, file, FORM_LINES, line);
			size_t rest = c->len - last_nl;
			chunk_reserve(next, rest);
			memcpy(next->text, c->text + last_nl, rest);
			next->len = rest;
			c->len = last_nl;
			publish(r, c);
			c = next;
			last_nl = 0;
			continue;
		}
		chunk_reserve(c, CHUNK_BYTES);
		ssize_t got = read(fd, c->text + c->len, c->cap - 1 - c->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(c->why, sizeof c->why, "%s:%d: cannot read: %s", file, line,
			    strerror(errno));
			c->why_code = EXIT_ERROR;
			c->len = 0;
			break;
		}
		if (got == 0)
			break;
		size_t from = c->len;
		c->len += (size_t)got;
		if (skipping) {         /* c is empty but for what was just read */
			char *nl = memchr(c->text, '\n', c->len);
			if (nl == NULL) {
				c->len = 0;
				continue;
			}
			size_t keep = c->len - (size_t)(nl + 1 - c->text);
			memmove(c->text, nl + 1, keep);
			c->len = keep;
			c->first_line = ++line;
			skipping = false;
			from = 0;
		}
		for (const char *p = c->text + from;
		    (p = memchr(p, '\n', (size_t)(c->text + c->len - p))) != NULL; p++) {
			last_nl = (size_t)(p - c->text) + 1;
			line++;
		}
		if (c->len - last_nl > LINE_MAX_BYTES) {
			/* a line too long: the lines before it go on, it is refused */
			c->len = last_nl;
			if (c->len > 0)
				publish(r, c);
			else
				chunk_return(r, c);
			chunk *bad = chunk_take(r, file, FORM_LINES, line);
			snprintf(bad->why, sizeof bad->why, "%s:%d:1: document is more than %d bytes, over "
			    "the limit of %d bytes (1 MiB)", file, line, LINE_MAX_BYTES, DOC_MAX_BYTES);
			bad->why_code = EXIT_ERROR;
			publish(r, bad);
			c = chunk_take(r, file, FORM_LINES, line);
			last_nl = 0;
			skipping = true;
		}
	}
	publish(r, c);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void *read_all(void *ctx)
{
	reader *r = ctx;
	for (int i = 0; i < r->a->npos; i++) {
		const char *path = r->a->pos[i];
		const char *file = strcmp(path, "-") == 0 ? "<stdin>" : path;
		bool lines = arg_has(r->a, "--jsonl") || ends_with(path, ".jsonl");
		if (lines) {
			int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				chunk *c = chunk_take(r, file, FORM_LINES, 1);
				snprintf(c->why, sizeof c->why, "%s: cannot open: %s", file, strerror(errno));
				c->why_code = EXIT_ERROR;
				publish(r, c);
				continue;
			}
			read_lines(r, fd, file);
			if (fd != 0)
				close(fd);
			continue;
		}
		chunk *c = chunk_take(r, file, ends_with(path, ".json") ? FORM_JSON : FORM_YAML, 1);
		size_t len;
		char why[256];
		char *text = read_file(path, &len, why, sizeof why);
		if (text == NULL) {
			snprintf(c->why, sizeof c->why, "%s: %s", file, why);
			c->why_code = EXIT_ERROR;
		} else {
			free(c->text);
			c->text = text;
			c->len = len;
			c->cap = len + 1;
		}
		publish(r, c);
	}
	pthread_mutex_lock(&r->mu);
	r->reading_done = true;
	pthread_cond_broadcast(&r->ready);
	pthread_cond_broadcast(&r->finished);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- the calling thread: chunks in input order ---- */

static void handle_chunk(batch *b, chunk *c)
{
	b->file = c->file;
	b->scratch = c->a;
	if (c->why[0] != '\0') {
		err_printf("%s\n", c->why);
		batch_note(b, c->why_code);
		return;
	}
	for (size_t i = 0; i < c->ndocs; i++) {
		doc *d = &c->docs[i];
		if (!d->ok) {
			diags_print(&d->errs, stderr);
			batch_note(b, EXIT_ERROR);
		} else if (b->work != NULL) {
			term_exact(stdout, c->out.s + d->out_from, d->out_to - d->out_from);
			batch_note(b, d->code);
		} else {
			b->handle(b, &d->sub);
		}
	}
}

/* The oldest chunk once its worker is done with it, or NULL at the end.
 * Before waiting, what was printed goes out and the command may finish
 * what it holds back (idle): the input has paused or the workers are
 * behind. */
static chunk *next_done(reader *r)
{
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->count > 0 && r->ring[r->head]->done)
			break;
		if (r->count == 0 && r->reading_done) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		pthread_mutex_unlock(&r->mu);
		if (r->b->idle != NULL)
			r->b->idle(r->b);
		fflush(stdout);
		pthread_mutex_lock(&r->mu);
		while (!(r->count > 0 && r->ring[r->head]->done) && !(r->count == 0 && r->reading_done))
			pthread_cond_wait(&r->finished, &r->mu);
	}
	chunk *c = r->ring[r->head];
	pthread_mutex_unlock(&r->mu);
	return c;
}

static void release(reader *r, chunk *c)
{
	pthread_mutex_lock(&r->mu);
	r->head = (r->head + 1) % IN_FLIGHT;
	r->count--;
	r->next_work--;
	r->ring_bytes -= c->len;
	r->spare[r->nspare++] = c;
	pthread_cond_signal(&r->freed);
	if (r->next_work + 1 == r->lead && r->next_work < r->count)
		pthread_cond_signal(&r->ready);         /* LEAD held a worker back: it may go */
	pthread_mutex_unlock(&r->mu);
}

void batch_read_ahead(batch *b, bool ahead)
{
	reader *r = b->reader;
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->ahead = ahead;
	if (ahead)
		pthread_cond_broadcast(&r->ready);
	pthread_mutex_unlock(&r->mu);
}

/* One small file is read on the calling thread: threads would cost more
 * to start than they save. */
static bool one_small_file(const args *a)
{
	struct stat st;
	return a->npos == 1 && strcmp(a->pos[0], "-") != 0 && stat(a->pos[0], &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size <= 64 * 1024;
}

static int workers_wanted(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

int batch_run(const command *c, args *a, batch *b)
{
	if (a->npos == 0) {
		usage_error(c, "%s", "no submission given (a file, or - for standard input)");
		return EXIT_USAGE;
	}
	b->json = arg_has(a, "--json");
	if (b->opts.now == 0) {
		eval_options_default(&b->opts);
		b->opts.now = now_ms() / 1000;
	}
	reader *r = calloc(1, sizeof *r);
	if (r == NULL)
		abort();
	r->b = b;
	r->a = a;
	r->lead = SIZE_MAX;
	b->reader = r;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->ready, NULL);
	pthread_cond_init(&r->finished, NULL);
	pthread_cond_init(&r->freed, NULL);
	if (one_small_file(a)) {
		r->limit = IN_FLIGHT;   /* a small file makes a chunk or two */
		read_all(r);
		while (r->count > 0) {
			chunk *ch = r->ring[r->head];
			r->next_work++;
			work_chunk(b, ch);
			handle_chunk(b, ch);
			release(r, ch);
		}
	} else {
		int n = workers_wanted();
		/* eval's workers do the whole work: they run as far ahead as
		 * memory allows; submit's, LEAD each but while it reads ahead */
		r->limit = b->work != NULL ? 4 * n : 6 * n;
		if (b->work == NULL)
			r->lead = 1 + (size_t)n * LEAD;
		pthread_t reader_thread, threads[MAX_WORKERS];
		if (pthread_create(&reader_thread, NULL, read_all, r) != 0)
			abort();
		for (int i = 0; i < n; i++)
			if (pthread_create(&threads[i], NULL, worker, r) != 0)
				abort();
		chunk *ch;
		while ((ch = next_done(r)) != NULL) {
			handle_chunk(b, ch);
			release(r, ch);
		}
		pthread_join(reader_thread, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(threads[i], NULL);
	}
	fflush(stdout);
	for (size_t i = 0; i < r->nspare; i++)
		chunk_free(r->spare[i]);
	pthread_cond_destroy(&r->ready);
	pthread_cond_destroy(&r->finished);
	pthread_cond_destroy(&r->freed);
	pthread_mutex_destroy(&r->mu);
	free(r);
	b->reader = NULL;
	free(b->out.s);
	b->scratch = NULL;
	return b->worst;
}

void batch_print(batch *b, const char *prefix, const submission *sub, const eval_result *r)
{
	if (b->json) {
		b->out.n = 0;
		result_write_json(&b->out, prefix, sub, r);
		sb_put(&b->out, "\n", 1);
		term_exact(stdout, b->out.s, b->out.n);
	} else {
		result_print_text(stdout, sub, r);
	}
}
