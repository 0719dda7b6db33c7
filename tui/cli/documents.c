/*
 * documents.c: the reading loop that eval and submit share.
 *
 * Reads each file (or standard input), splits it into documents (YAML
 * streams at their markers, JSON Lines at newlines: a .jsonl file or
 * --jsonl; a .json file is one document), reads JSON with the JSON reader
 * (RFC 8259, engine/json.c) and YAML with the YAML reader, validates each
 * as a submission and hands it to the command's
 * handler. A malformed document is reported as FILE:LINE:COL and skipped;
 * the others are still handled. The exit code is the worst outcome: 1 for
 * any error, else 3 when any submission is pending or blocked, else 0.
 *
 * Reading and parsing run one document ahead on a second thread: a reader
 * fills a ring of slots, each with its own arena, and the handler takes them
 * in order on the calling thread. The reader touches nothing but its slots
 * (and b->prepare, which must be as careful), so the handler and its store
 * stay on one thread, and output and errors come out in document order.
 * One small file goes through the same slots on the calling thread alone.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* enough documents read ahead to keep the reader busy while a batch commits */
enum { RING = 256 };

/* One document read ahead, or one file that could not be read. */
typedef struct slot {
	arena *a;
	const char *file;
	submission sub;
	bool ok;                /* sub is a valid submission */
	diags errs;             /* else what is wrong with it */
	char why[300];          /* a file that cannot be read: "FILE: why" */
} slot;

typedef struct reader {
	batch *b;
	args *a;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	slot ring[RING];
	size_t head, count;     /* the oldest filled slot; how many are filled */
	bool done;              /* the reader has filled its last slot */
	bool direct;            /* no reader thread: ring[0] is handled as it is filled */
	const char *file;       /* the file being split */
	bool json;              /* read as JSON: JSON Lines, or a .json file */
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

/* Reader side: the next free slot, filled by the caller and then published
 * with publish(). When the ring is full the reader sleeps until half of it
 * is free, not one slot: one wake-up per half ring, not per document. */
static slot *next_free(reader *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->count == RING)
		while (r->count > RING / 2)
			pthread_cond_wait(&r->freed, &r->mu);
	slot *s = &r->ring[(r->head + r->count) % RING];
	pthread_mutex_unlock(&r->mu);
	if (s->a == NULL)
		s->a = arena_new();     /* made on first use: one document needs one */
	else
		arena_reset(s->a);
	diags_clear(&s->errs);
	s->ok = false;
	s->why[0] = '\0';
	return s;
}

static void handle(batch *b, slot *s);

static void publish(reader *r)
{
	if (r->direct) {
		handle(r->b, &r->ring[r->head]);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->count++;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
}

static void one_document(void *ctx, const char *text, size_t len, int line)
{
	reader *r = ctx;
	slot *s = next_free(r);
	bool empty;
	s->file = r->file;
	node *root = r->json ? json_parse(s->a, r->file, text, len, line, 0, &empty, &s->errs)
	    : doc_parse(s->a, r->file, text, len, line, &empty, &s->errs);
	if (root == NULL && empty)
		return;         /* the slot stays free */
	s->ok = root != NULL && submission_from_doc(root, r->file, &s->sub, &s->errs);
	if (s->ok) {
		s->sub.text = arena_strndup(s->a, text, len);
		s->sub.text_len = len;
		s->sub.text_json = r->json;
	}
	if (s->ok && r->b->prepare != NULL)
		s->ok = r->b->prepare(&s->sub, s->a, &s->errs);
	publish(r);
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
		r->file = strcmp(path, "-") == 0 ? "<stdin>" : path;
		size_t len;
		char why[256];
		char *text = read_file(path, &len, why, sizeof why);
		if (text == NULL) {
			slot *s = next_free(r);
			s->file = r->file;
			snprintf(s->why, sizeof s->why, "%s: %s", r->file, why);
			publish(r);
			continue;
		}
		bool lines = arg_has(r->a, "--jsonl") || ends_with(path, ".jsonl");
		r->json = lines || ends_with(path, ".json");
		if (lines)
			doc_split_lines(text, len, one_document, r);
		else if (r->json)
			one_document(r, text, len, 1);
		else
			doc_split_yaml(text, len, one_document, r);
		free(text);
	}
	pthread_mutex_lock(&r->mu);
	r->done = true;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Handler side: the oldest filled slot, or NULL when the reader is done. */
static slot *next_filled(reader *r)
{
	pthread_mutex_lock(&r->mu);
	while (r->count == 0 && !r->done)
		pthread_cond_wait(&r->filled, &r->mu);
	slot *s = r->count > 0 ? &r->ring[r->head] : NULL;
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void release(reader *r)
{
	pthread_mutex_lock(&r->mu);
	r->head = (r->head + 1) % RING;
	if (--r->count == RING / 2)
		pthread_cond_signal(&r->freed);
	pthread_mutex_unlock(&r->mu);
}

static void handle(batch *b, slot *s)
{
	b->file = s->file;
	b->scratch = s->a;
	if (s->why[0] != '\0') {
		err_printf("%s\n", s->why);
		batch_note(b, EXIT_ERROR);
	} else if (!s->ok) {
		diags_print(&s->errs, stderr);
		batch_note(b, EXIT_ERROR);
	} else {
		b->handle(b, &s->sub);
	}
}

/* One small file is read on the calling thread: a reader thread would cost
 * more to start than it saves. */
static bool one_small_file(const args *a)
{
	struct stat st;
	return a->npos == 1 && strcmp(a->pos[0], "-") != 0 && stat(a->pos[0], &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size <= 64 * 1024;
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
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->filled, NULL);
	pthread_cond_init(&r->freed, NULL);
	r->direct = one_small_file(a);
	pthread_t thread;
	if (r->direct) {
		read_all(r);
	} else if (pthread_create(&thread, NULL, read_all, r) != 0) {
		err_printf("arbiter: cannot start the reader thread\n");
		abort();
	} else {
		slot *s;
		while ((s = next_filled(r)) != NULL) {
			handle(b, s);
			release(r);
		}
		pthread_join(thread, NULL);
	}
	fflush(stdout);
	for (int i = 0; i < RING; i++) {
		diags_free(&r->ring[i].errs);
		arena_free(r->ring[i].a);
	}
	pthread_cond_destroy(&r->filled);
	pthread_cond_destroy(&r->freed);
	pthread_mutex_destroy(&r->mu);
	free(r);
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
