/*
 * cmd_audit.c: arbiter audit verify (and the other audit commands).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int check_checkpoint(store *s, const char *file, const verify_result *r);

int cmd_audit_verify(const command *c, args *a)
{
	if (a->npos > 0) {
		usage_error(c, "unexpected argument %s", a->pos[0]);
		return EXIT_USAGE;
	}
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	unsigned char pk[32], keyid[8];
	const char *pubkey = arg_get(a, "--pubkey");
	char err[512];
	if (pubkey != NULL && !keys_load_public(pubkey, pk, keyid, err, sizeof err)) {
		fprintf(stderr, "arbiter: %s\n", err);
		store_close(s);
		return EXIT_ERROR;
	}
	verify_result r;
	if (!audit_verify(s, pubkey ? pk : s->pk, &r)) {
		fprintf(stderr, "arbiter: %s\n", s->err);
		store_close(s);
		return EXIT_ERROR;
	}
	int rc = EXIT_OK;
	if (!r.ok) {
		printf("audit: TAMPERED at seq %lld: %s\n", (long long)r.bad_seq, r.why);
		rc = EXIT_REFUSED;
	} else {
		printf("audit: verified %lld events; head seq %lld, hash %s\n", (long long)r.events,
		    (long long)r.head_seq, r.head);
		const char *cp = arg_get(a, "--checkpoint");
		if (cp != NULL)
			rc = check_checkpoint(s, cp, &r);
	}
	store_close(s);
	return rc;
}

/* Writes FILE and FILE.minisig: the store id, the head seq and its hash. The
 * checkpoint's own audit event is appended first, so the checkpoint covers it. */
int cmd_audit_checkpoint(const command *c, args *a)
{
	if (a->npos > 0) {
		usage_error(c, "unexpected argument %s", a->pos[0]);
		return EXIT_USAGE;
	}
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	char path[PATH_MAX], ts[32], hash[65], comment[256], err[512];
	format_time(now_ms(), ts);
	const char *out = arg_get(a, "--out");
	if (out == NULL) {
		snprintf(path, sizeof path, "arbiter-checkpoint-%.10s-%.2s%.2s%.2s.txt", ts, ts + 11,
		    ts + 14, ts + 17);
		out = path;
	}
	keypair kp;
	int rc = EXIT_ERROR;
	json_t *details = json_pack("{s:s}", "file", out);
	if (!keys_load_secret(s->dir, &kp, err, sizeof err)) {
		fprintf(stderr, "arbiter: %s\n", err);
	} else if (!store_begin(s) || !audit_append(s, actor_name(a), "audit.checkpoint", s->id,
	    details) || !store_commit(s)) {
		fprintf(stderr, "arbiter: %s\n", s->err);
	} else {
		sodium_bin2hex(hash, sizeof hash, s->head_hash, 32);
		FILE *f = fopen(out, "w");
		if (f == NULL || fprintf(f, "arbiter audit checkpoint\nstore: %s\nseq: %lld\n"
		    "hash: %s\ntime: %s\n", s->id, (long long)s->head_seq, hash, ts) < 0 ||
		    fclose(f) != 0) {
			fprintf(stderr, "arbiter: %s: %s\n", out, strerror(errno));
		} else {
			snprintf(comment, sizeof comment, "arbiter checkpoint store %s seq %lld", s->id,
			    (long long)s->head_seq);
			if (!keys_sign_file(&kp, out, comment, err, sizeof err)) {
				fprintf(stderr, "arbiter: %s\n", err);
			} else {
				printf("checkpoint: seq %lld, hash %s\nwrote %s and %s.minisig (keep them off "
				    "this machine)\n", (long long)s->head_seq, hash, out, out);
				rc = EXIT_OK;
			}
		}
	}
	sodium_memzero(&kp, sizeof kp);
	json_decref(details);
	store_close(s);
	return rc;
}

/* Reads "key: value" from checkpoint text. */
static bool checkpoint_field(const char *text, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' && p[klen + 1] == ' ') {
			size_t n = strcspn(p + klen + 2, "\r\n");
			if (n >= len)
				return false;
			memcpy(out, p + klen + 2, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

/* The log must still hold the checkpoint's event with the same hash. */
static int check_checkpoint(store *s, const char *file, const verify_result *r)
{
	size_t len;
	char why[256], id[64], seqtext[32], hash[80];
	char *text = read_file(file, &len, why, sizeof why);
	if (text == NULL) {
		fprintf(stderr, "arbiter: %s: %s\n", file, why);
		return EXIT_ERROR;
	}
	bool ok = strncmp(text, "arbiter audit checkpoint\n", 25) == 0 &&
	    checkpoint_field(text, "store", id, sizeof id) &&
	    checkpoint_field(text, "seq", seqtext, sizeof seqtext) &&
	    checkpoint_field(text, "hash", hash, sizeof hash);
	free(text);
	if (!ok) {
		fprintf(stderr, "arbiter: %s: not an arbiter checkpoint\n", file);
		return EXIT_ERROR;
	}
	long long seq = atoll(seqtext);
	if (strcmp(id, s->id) != 0) {
		printf("audit: checkpoint %s is of store %s, not this store (%s)\n", file, id, s->id);
		return EXIT_REFUSED;
	}
	if (seq > r->head_seq) {
		printf("audit: TAMPERED at seq %lld: the log ends at seq %lld but checkpoint %s holds "
		    "seq %lld (events were removed from the end)\n", (long long)r->head_seq + 1,
		    (long long)r->head_seq, file, seq);
		return EXIT_REFUSED;
	}
	sqlite3_stmt *st;
	char have[65] = "";
	if (sqlite3_prepare_v2(s->db, "SELECT hash FROM audit WHERE seq = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(have, sizeof have, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (strcmp(have, hash) != 0) {
		printf("audit: TAMPERED at seq %lld: its hash differs from checkpoint %s (the history up "
		    "to it was rewritten)\n", seq, file);
		return EXIT_REFUSED;
	}
	printf("audit: the log extends checkpoint %s (seq %lld)\n", file, seq);
	return EXIT_OK;
}
