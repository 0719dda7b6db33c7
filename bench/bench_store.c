/*
 * bench_store.c: the store's performance figures for `make bench`.
 *
 *   bench_store chain DIR    the floor under audit verify: read every audit
 *       row of DIR/arbiter.db in seq order and recompute the SHA-256 chain
 *       (audit_hash), nothing else; prints ms and events
 *   bench_store verify DIR   audit_verify on the same store, in process
 *       (recomputation, links, stored hashes, the head's signature)
 *
 * DIR is a .arbiter directory. Figures are printed, never asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <sqlite3.h>

#include "../data/store_impl.h"

static double now_ms_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int chain(const char *dir)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/arbiter.db", dir);
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
		return 1;
	}
	double t0 = now_ms_mono();
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
	double ms = now_ms_mono() - t0;
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, prev, 32);
	printf("chain: %lld events read and hashed in %.0f ms (head %.16s)\n", n, ms, hex);
	sqlite3_close(db);
	return 0;
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
	bool ok = audit_verify(s, s->pk, &r);
	double ms = now_ms_mono() - t0;
	if (!ok || !r.ok) {
		fprintf(stderr, "verify failed: %s %s\n", s->err, r.why);
		store_close(s);
		return 1;
	}
	printf("verify: %lld events verified in %.0f ms (head %.16s)\n", (long long)r.events, ms,
	    r.head);
	store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "chain") == 0)
		return chain(argv[2]);
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2]);
	fprintf(stderr, "usage: bench_store chain DIR | verify DIR\n");
	return 2;
}
