/*
 * bench_store.c: the store's performance figures for `make bench`.
 *
 *   bench_store chain DIR    the chain's floor: read every audit row of
 *       DIR/arbiter.db in seq order and recompute the SHA-256 chain
 *       (audit_hash), nothing else; prints ms and events
 *   bench_store floor DIR    the floor under audit verify: the chain's, then
 *       every row of every table verify checks, read by the statements verify
 *       reads them with (tables_read), each column fetched, nothing compared
 *   bench_store verify DIR   audit_verify on the same store, in process
 *       (recomputation, links, stored hashes, the head's signature, the
 *       tables against the events), and the process's peak memory
 *   bench_store full DIR     audit verify --full's rate against its floor:
 *       one crypto_sign_verify_detached per event on one core (timed over
 *       the first SAMPLE events, held in memory) times the online CPUs,
 *       then audit_verify_full on the whole store; prints both rates, and
 *       the CPU time per event beside the check's own: their ratio is the
 *       most --full can reach with every core busy (on a machine shared
 *       with other work, the wall-clock rate says less than the CPU time)
 *   bench_store rounds DIR N K   the store's own ceiling under the server:
 *       N single documents like bench_serve's, stored through op_submit
 *       as the server's writer does (tuned by store_serving), committed and
 *       synced K at a time, the log copied aside from 16 MiB on;
 *       prints the rate and the median commit
 *
 * DIR is a .arbiter directory. Figures are printed, never asserted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <sqlite3.h>

#include "../data/store_impl.h"

static double now_ms_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Every row of every table verify checks, each column fetched as verify
 * fetches it (integers as integers, the rest as text); the rows read. */
static long long read_tables(sqlite3 *db)
{
	long long rows = 0;
	for (int i = 0; tables_read[i] != NULL; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, tables_read[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		int n = sqlite3_column_count(st);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < n; c++)
				if (sqlite3_column_type(st, c) == SQLITE_INTEGER)
					(void)sqlite3_column_int64(st, c);
				else
					(void)sqlite3_column_bytes(st, c), (void)sqlite3_column_text(st, c);
			rows++;
		}
		sqlite3_finalize(st);
	}
	return rows;
}

static int chain(const char *dir, bool tables)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/arbiter.db", dir);
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
		return 1;
	}
	double t0 = now_ms_mono();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT seq, ts, actor, event, subject, details, prev, hash "
	    "FROM audit ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	unsigned char prev[32] = { 0 }, h[32];
	long long n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		audit_hash(prev, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5), h);
		memcpy(prev, h, 32);
		n++;
	}
	sqlite3_finalize(st);
	long long rows = tables ? read_tables(db) : 0;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	double ms = now_ms_mono() - t0;
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, prev, 32);
	if (rows < 0)
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
	else if (tables)
		printf("floor: %lld events read and hashed and %lld table rows read in %.0f ms (head "
		    "%.16s)\n", n, rows, ms, hex);
	else
		printf("chain: %lld events read and hashed in %.0f ms (head %.16s)\n", n, ms, hex);
	sqlite3_close(db);
	return rows < 0;
}

static int verify(const char *dir)
{
	char err[512];
	double t0 = now_ms_mono();
	store *s = store_open(dir, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	verify_result r;
	bool ok = audit_verify(s, NULL, &r);
	double ms = now_ms_mono() - t0;
	if (!ok || !r.ok) {
		fprintf(stderr, "verify failed: %s %s\n", s->err, r.why);
		store_close(s);
		return 1;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("verify: %lld events and the tables verified in %.0f ms (head %.16s), peak memory "
	    "%ld MiB\n", (long long)r.events, ms, r.head, ru.ru_maxrss / 1024);
	store_close(s);
	return 0;
}

enum { SAMPLE = 50000 };

typedef struct sample {
	unsigned char (*h)[32], (*sg)[64];
	int n;
	const unsigned char *pk;
	int good;
} sample;

static void *check_sample(void *arg)
{
	sample *x = arg;
	x->good = 0;
	for (int i = 0; i < x->n; i++)
		x->good += crypto_sign_verify_detached(x->sg[i], x->h[i], 32, x->pk) == 0;
	return NULL;
}

/* The rate of one signature check per event on one core: the first SAMPLE
 * events' hashes and signatures, read first, checked with the store's
 * first key (those are all before any rotation of a bench store); and
 * (*parallel) the same sample checked by cores threads at once, each all of
 * it: what the machine gives right now, other work included. */
static double one_core_rate(store *s, long cores, double *parallel)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT hash, sig FROM audit ORDER BY seq LIMIT ?", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int(st, 1, SAMPLE);
	unsigned char (*h)[32] = malloc((size_t)SAMPLE * 32), (*sg)[64] = malloc((size_t)SAMPLE * 64);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < SAMPLE) {
		sodium_hex2bin(h[n], 32, (const char *)sqlite3_column_text(st, 0), 64, NULL, NULL, NULL);
		sodium_hex2bin(sg[n], 64, (const char *)sqlite3_column_text(st, 1), 128, NULL, NULL, NULL);
		n++;
	}
	sqlite3_finalize(st);
	unsigned char pk[32], keyid[8];
	double rate = 0;
	*parallel = 0;
	if (store_first_key(s, pk, keyid, s->err, sizeof s->err) && n > 0) {
		sample one = { h, sg, n, pk, 0 };
		double t0 = now_ms_mono();
		check_sample(&one);
		double ms = now_ms_mono() - t0;
		rate = one.good == n && ms > 0 ? n * 1000.0 / ms : 0;
		enum { MAX_THREADS = 64 };
		pthread_t t[MAX_THREADS];
		sample each[MAX_THREADS];
		int nt = cores < MAX_THREADS ? (int)cores : MAX_THREADS;
		t0 = now_ms_mono();
		for (int i = 0; i < nt; i++) {
			each[i] = one;
			pthread_create(&t[i], NULL, check_sample, &each[i]);
		}
		for (int i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
		ms = now_ms_mono() - t0;
		*parallel = ms > 0 ? (double)nt * n * 1000.0 / ms : 0;
	}
	free(h);
	free(sg);
	return rate;
}

static int full(const char *dir)
{
	char err[512];
	store *s = store_open(dir, err, sizeof err);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double parallel = 0;
	double one = one_core_rate(s, cores, &parallel);
	verify_result r;
	struct rusage u0, u1;
	getrusage(RUSAGE_SELF, &u0);
	double t0 = now_ms_mono();
	bool ok = audit_verify_full(s, NULL, &r);
	double ms = now_ms_mono() - t0;
	getrusage(RUSAGE_SELF, &u1);
	double cpu_ms = (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec + u1.ru_stime.tv_sec -
	    u0.ru_stime.tv_sec) * 1e3 + (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec +
	    u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e3;
	if (!ok || !r.ok || one <= 0) {
		fprintf(stderr, "verify --full failed: %s %s\n", s->err, r.why);
		store_close(s);
		return 1;
	}
	double rate = r.events * 1000.0 / ms, floor = one * (double)cores;
	printf("verify --full: %lld events, every signature, in %.0f ms: %.0f events/s; one "
	    "crypto_sign_verify_detached per event on one core: %.0f/s, x %ld cores = %.0f/s; "
	    "%.0f%% of it (target >= 90%%); CPU time %.1f us per event against %.1f us for the "
	    "check alone: the check is %.0f%% of the work, the most --full reaches with every "
	    "core busy (over 100%%: the machine ran faster than during the one-core sample) (%.1f cores busy on average: less than %ld means other work had the "
	    "rest); the check alone on %ld threads at once just before: %.0f/s, %.0f%% of which "
	    "--full reached\n", (long long)r.events, ms, rate, one, cores, floor,
	    100.0 * rate / floor, cpu_ms * 1e3 / (double)r.events, 1e6 / one,
	    100.0 * (1e6 / one) / (cpu_ms * 1e3 / (double)r.events), cpu_ms / ms, cores,
	    cores, parallel, parallel > 0 ? 100.0 * rate / parallel : 0);
	store_close(s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int rounds(const char *dir, long n, long k)
{
	char err[512], pdir[PATH_MAX + 16];
	store *s = store_open(dir, err, sizeof err);
	if (s == NULL || !store_load_signing_key(s)) {
		fprintf(stderr, "%s\n", s ? store_errmsg(s) : err);
		return 1;
	}
	/* as the server's writer (server.c), its log copied aside */
	store_bulk(s);
	store_serving(s, 8192);
	if (!store_copy_log_aside(s, 4096, 0, NULL, NULL, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	settings cfg;
	diags errs = { 0 };
	snprintf(pdir, sizeof pdir, "%s/policies", dir);
	policy_set *ps = policy_set_load(pdir, "policies", &errs);
	if (!store_settings(s, &cfg, &errs) || ps == NULL || errs.n > 0) {
		diags_print(&errs, stderr);
		return 1;
	}
	eval_options o;
	eval_options_default(&o);
	o.enforcement = cfg.enforcement;
	o.fail_closed = cfg.fail_closed;
	submit_batch b = { .s = s, .ps = ps, .opts = &o, .version = store_policy_version(s),
		.actor = "bench" };
	stored out = { 0 };
	double *commits = calloc((size_t)(n / k + 2), sizeof *commits);
	size_t ncommits = 0;
	arena *a = arena_new();
	double t0 = now_ms_mono();
	for (long i = 0; i < n; i++) {
		char text[256];
		int len = snprintf(text, sizeof text, "{\"action\": \"code.modify\", \"ref\": "
		    "\"rounds/%ld/%ld\", \"submitter\": \"bench-agent\", \"title\": \"bench\", "
		    "\"bytes_changed\": 10}", (long)t0, i);
		bool empty;
		const node *root = doc_parse(a, "doc", text, (size_t)len, 1, &empty, &errs);
		submission sub;
		eval_result r;
		submit_reply rep;
		o.now = now_ms() / 1000;
		if (root == NULL || !submission_from_doc(root, "doc", &sub, &errs) ||
		    !submission_canonical(&sub, a) ||
		    op_submit(&b, &sub, a, &r, &out, &rep) != OUT_OK) {
			diags_print(&errs, stderr);
			fprintf(stderr, "%s\n", rep.reply.message);
			return 1;
		}
		if ((i + 1) % k == 0 || i + 1 == n) {
			double c0 = now_ms_mono();
			if (op_submit_commit(&b, &rep) != OUT_OK) {
				fprintf(stderr, "%s\n", rep.reply.message);
				return 1;
			}
			commits[ncommits++] = now_ms_mono() - c0;
			arena_reset(a);
			store_log_finish(s);
		}
	}
	double ms = now_ms_mono() - t0;
	qsort(commits, ncommits, sizeof *commits, cmp_double);
	printf("%ld documents stored and signed in rounds of %ld, each committed and synced, in "
	    "%.0f ms: %.0f/s (median commit %.2f ms)\n", n, k, ms, (double)n * 1000 / ms,
	    commits[ncommits / 2]);
	free(commits);
	free(out.details.s);
	arena_free(a);
	policy_set_free(ps);
	store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "chain") == 0)
		return chain(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "floor") == 0)
		return chain(argv[2], true);
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2]);
	if (argc == 3 && strcmp(argv[1], "full") == 0)
		return full(argv[2]);
	if (argc == 5 && strcmp(argv[1], "rounds") == 0 && atol(argv[3]) > 0 && atol(argv[4]) > 0)
		return rounds(argv[2], atol(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: bench_store chain DIR | floor DIR | verify DIR | full DIR | "
	    "rounds DIR N K\n");
	return 2;
}
