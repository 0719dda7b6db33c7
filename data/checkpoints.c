/*
 * checkpoints.c: checkpoint files, written, checked and kept up to date.
 *
 * A checkpoint (store id, head seq and hash, time) and its FILE.minisig
 * prove, to whoever keeps a copy off the machine, where the log stood. It
 * is trusted only once FILE.minisig holds under the key of the chain that
 * signed at its seq (the keys followed from the store's first key, or
 * --pubkey: keyring.c; the key in force after its seq too, for one the
 * server wrote right after a rotation): an unsigned, edited or foreign file
 * is refused before a field of it is believed (checkpoint_verify), and
 * only then parsed (audit_checkpoint_parse: the text is hostile, and
 * fuzzed). The log must then still hold the checkpoint's event with the
 * same hash: what was cut or rewritten since is caught, including a
 * database swapped for an older copy, which the signed head record
 * (audit_head.c) cannot catch, since the copy has a record of its own.
 *
 * The server writes checkpoints by itself (checkpoint_auto, called by
 * tui/serve/autocheckpoint.c) into audit.checkpoint_dir when the head has
 * moved since the last one and audit.checkpoint_events events or
 * audit.checkpoint_minutes minutes have passed (audit_checkpoint_due). They are
 * not audit events, so an idle store stays idle. The last one's seq and
 * time are a row (checkpoint_claim), updated in the transaction that
 * writes the file, so that of several servers on one store one writes it.
 * audit verify checks every checkpoint in that directory and says when the
 * newest is older than the interval (checkpoint_scan); a store with none
 * counts from its store.init.
 *
 * Files are written beside their name (a dot file) and renamed into place,
 * the signature first, so that a reader never finds a checkpoint without
 * its signature or half written.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

bool checkpoint_write_file(const keypair *kp, const char *store_id, const char *path,
    int64_t seq, const char hash[65], int64_t at_ms, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], tmpsig[PATH_MAX + 48], sig[PATH_MAX + 16], ts[32], comment[256];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	snprintf(tmp, sizeof tmp, "%.*s.%s.tmp%ld", dirlen, path, slash ? slash + 1 : path,
	    (long)getpid());
	snprintf(tmpsig, sizeof tmpsig, "%s.minisig", tmp);
	snprintf(sig, sizeof sig, "%s.minisig", path);
	format_time(at_ms, ts);
	FILE *f = fopen(tmp, "w");
	bool ok = f != NULL && fprintf(f, "arbiter audit checkpoint\nstore: %s\nseq: %lld\n"
	    "hash: %s\ntime: %s\n", store_id, (long long)seq, hash, ts) >= 0 && fflush(f) == 0 &&
	    fsync(fileno(f)) == 0;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return false;
	}
	snprintf(comment, sizeof comment, "arbiter checkpoint store %s seq %lld", store_id,
	    (long long)seq);
	ok = keys_sign_file(kp, tmp, comment, err, errlen);
	if (ok && rename(tmpsig, sig) != 0) {
		snprintf(err, errlen, "%s: %s", sig, strerror(errno));
		ok = false;
	}
	if (ok && rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		unlink(tmpsig);
	}
	return ok;
}

/* The value of "key: value" on a line of its own: false when the key is
 * missing, given twice (a reader and arbiter must not see different
 * checkpoints in one file) or its value does not fit out. */
static bool checkpoint_field(const char *text, size_t len, const char *key, char *out,
    size_t outlen)
{
	size_t klen = strlen(key);
	bool found = false;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if ((size_t)(eol - p) > klen + 1 && memcmp(p, key, klen) == 0 && p[klen] == ':' &&
		    p[klen + 1] == ' ') {
			size_t n = (size_t)(eol - p) - klen - 2;
			if (found || n >= outlen)
				return false;
			memcpy(out, p + klen + 2, n);
			out[n] = '\0';
			found = true;
		}
		p = nl ? nl + 1 : end;
	}
	return found;
}

/* Whether text is exactly n lower-case hex digits. */
static bool lower_hex(const char *text, size_t n)
{
	return strlen(text) == n && strspn(text, "0123456789abcdef") == n;
}

bool audit_checkpoint_parse(const char *text, size_t len, audit_checkpoint *out)
{
	static const char head[] = "arbiter audit checkpoint";
	size_t hlen = sizeof head - 1;
	char seq[24];
	memset(out, 0, sizeof *out);
	/* the first line is the head (its CR too, where a mailer added one) */
	if (len > hlen && text[hlen] == '\r')
		hlen++;
	if (len <= hlen || memcmp(text, head, sizeof head - 1) != 0 || text[hlen] != '\n' ||
	    !checkpoint_field(text, len, "store", out->store, sizeof out->store) ||
	    !checkpoint_field(text, len, "seq", seq, sizeof seq) ||
	    !checkpoint_field(text, len, "hash", out->hash, sizeof out->hash) ||
	    !lower_hex(out->store, 32) || !lower_hex(out->hash, 64))
		return false;
	/* the time is read where it is one (0 where not): it only dates the file */
	char ts[40];
	if (!checkpoint_field(text, len, "time", ts, sizeof ts) || !isdigit((unsigned char)ts[0]) ||
	    !parse_time(ts, &out->time_ms))
		out->time_ms = 0;
	/* a seq is a positive decimal number without a sign or leading zeros */
	size_t n = strlen(seq);
	if (n == 0 || n > 18 || seq[0] == '0' || strspn(seq, "0123456789") != n)
		return false;
	for (size_t i = 0; i < n; i++)
		out->seq = out->seq * 10 + (seq[i] - '0');
	return true;
}

int checkpoint_verify(store *s, const char *file, const keyring *ring, int64_t head_seq,
    audit_checkpoint *cp, char *why, size_t len)
{
	const ring_key *key = NULL;
	char sigpath[PATH_MAX + 16], reason[256];
	size_t n, siglen;
	snprintf(sigpath, sizeof sigpath, "%s.minisig", file);
	char *text = read_file(file, &n, reason, sizeof reason);
	if (text == NULL) {
		snprintf(why, len, "%s: %s", file, reason);
		return -1;
	}
	char *sigtext = read_file(sigpath, &siglen, reason, sizeof reason);
	minisign_signature m;
	int verdict = 1;
	if (sigtext == NULL) {
		snprintf(why, len, "checkpoint %s is unsigned (%s: %s)", file, sigpath, reason);
		verdict = 0;
	} else if (!minisig_parse(sigtext, siglen, &m, reason, sizeof reason) ||
	    /* another key than the chain's: minisig_check names both ids */
	    !(key = keyring_by_id(ring, m.keyid) ? keyring_by_id(ring, m.keyid) :
	    keyring_last(ring)) ||
	    !minisig_check(&m, (const unsigned char *)text, n, key->pk, key->keyid, reason,
	    sizeof reason)) {
		snprintf(why, len, "checkpoint %s is refused: %s: %s", file, sigpath, reason);
		verdict = 0;
	} else if (!audit_checkpoint_parse(text, n, cp)) {
		snprintf(why, len, "checkpoint %s is signed but is not an arbiter checkpoint", file);
		verdict = 0;
	} else if (keyring_at(ring, cp->seq) != key && keyring_at(ring, cp->seq + 1) != key) {
		/* signed by a key of the chain, but not the one that signed at its seq */
		char id[24];
		ring_key_name(key, id);
		snprintf(why, len, "checkpoint %s is refused: signed by key %s, which was not in force "
		    "at its seq %lld", file, id, (long long)cp->seq);
		verdict = 0;
	}
	free(text);
	free(sigtext);
	if (verdict != 1)
		return verdict;
	if (strcmp(cp->store, s->id) != 0) {
		snprintf(why, len, "checkpoint %s is of store %s, not this store (%s)", file, cp->store,
		    s->id);
		return 0;
	}
	/* a server may have appended since the log was verified */
	if (cp->seq > head_seq && !audit_last_seq(s, &head_seq)) {
		snprintf(why, len, "%s", s->err);
		return -1;
	}
	if (cp->seq > head_seq) {
		snprintf(why, len, "TAMPERED at seq %lld: the log ends at seq %lld but checkpoint %s "
		    "holds seq %lld (events were removed from the end, or the database was replaced "
		    "by an older copy)", (long long)head_seq + 1, (long long)head_seq, file,
		    (long long)cp->seq);
		return 0;
	}
	char have[65];
	if (audit_hash_at(s, cp->seq, have) < 0) {
		snprintf(why, len, "%s", s->err);
		return -1;
	}
	if (strcmp(have, cp->hash) != 0) {
		snprintf(why, len, "TAMPERED at seq %lld: its hash differs from checkpoint %s (the "
		    "history up to it was rewritten, or the database was replaced by another copy)",
		    (long long)cp->seq, file);
		return 0;
	}
	return 1;
}

bool audit_checkpoint_due(const settings *c, int64_t last_seq, int64_t last_ms,
    int64_t head_seq, int64_t now)
{
	return head_seq > last_seq && (head_seq - last_seq >= c->checkpoint_events ||
	    now - last_ms >= (int64_t)c->checkpoint_minutes * 60000);
}

bool checkpoint_dir_path(const char *home, const settings *c, char *out, size_t len)
{
	bool absolute = c->checkpoint_dir[0] == '/';
	int n = snprintf(out, len, "%s%s%s", absolute ? "" : home, absolute ? "" : "/",
	    c->checkpoint_dir);
	return n >= 0 && (size_t)n < len;
}

/* When the store began (its store.init), as the time of "no checkpoint". */
static bool store_began(store *s, int64_t *ms)
{
	sqlite3_stmt *st;
	*ms = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT ts FROM audit WHERE seq = 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && !parse_time((const char *)sqlite3_column_text(st, 0), ms))
		*ms = 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || store_fail(s, "cannot read the audit log");
}

/* Whether name is one of the files a checkpoint directory holds: not a
 * dot file (one being written) nor a signature. */
static bool checkpoint_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && !(n > 8 && strcmp(name + n - 8, ".minisig") == 0);
}

int checkpoint_scan(store *s, const settings *c, const keyring *ring, int64_t head_seq,
    checkpoint_scanned *out)
{
	memset(out, 0, sizeof *out);
	if (!checkpoint_dir_path(s->dir, c, out->dir, sizeof out->dir)) {
		snprintf(out->why, sizeof out->why, "audit.checkpoint_dir: the path is too long");
		return -1;
	}
	DIR *d = opendir(out->dir);
	if (d == NULL && errno != ENOENT) {
		snprintf(out->why, sizeof out->why, "%s: %s", out->dir, strerror(errno));
		return -1;
	}
	int verdict = 1;
	for (struct dirent *e; d != NULL && verdict == 1 && (e = readdir(d)) != NULL;) {
		char path[PATH_MAX + 256];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", out->dir, e->d_name);
		if (!checkpoint_name(e->d_name) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		audit_checkpoint cp;
		verdict = checkpoint_verify(s, path, ring, head_seq, &cp, out->why, sizeof out->why);
		if (verdict != 1)
			break;
		out->found++;
		if (cp.seq > out->newest.seq || (cp.seq == out->newest.seq &&
		    cp.time_ms > out->newest.time_ms)) {
			out->newest = cp;
			snprintf(out->newest_file, sizeof out->newest_file, "%s", path);
		}
	}
	if (d != NULL)
		closedir(d);
	if (verdict != 1)
		return verdict;
	int64_t since = out->newest.time_ms;
	if (out->found == 0 && !store_began(s, &since)) {
		snprintf(out->why, sizeof out->why, "%s", s->err);
		return -1;
	}
	int64_t now = now_ms();
	if (audit_checkpoint_due(c, out->newest.seq, since, head_seq, now)) {
		out->stale = true;
		if (out->found == 0)
			snprintf(out->why, sizeof out->why, "no checkpoint in %s, and the log has %lld "
			    "events and began %lld minutes ago: keep checkpoints (arbiter serve writes "
			    "them) off this machine", out->dir, (long long)head_seq,
			    (long long)((now - since) / 60000));
		else
			snprintf(out->why, sizeof out->why, "the newest checkpoint, %s (seq %lld), is "
			    "older than the interval: the log has %lld events more, and it was taken "
			    "%lld minutes ago", out->newest_file, (long long)out->newest.seq,
			    (long long)(head_seq - out->newest.seq), (long long)((now - since) / 60000));
	}
	return 1;
}

bool checkpoint_last(store *s, int64_t *seq, int64_t *at_ms)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT seq, at_ms FROM checkpoint_claim WHERE id = 1", -1,
	    &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the checkpoint claim");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*at_ms = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		*seq = 0;
		return store_began(s, at_ms);
	}
	return rc == SQLITE_ROW || store_fail(s, "cannot read the checkpoint claim");
}

/* The directory, made 0700 when it is not there. */
static bool make_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return true;
	snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
	return false;
}

int checkpoint_auto(store *s, const settings *c, checkpoint_written *out)
{
	memset(out, 0, sizeof *out);
	char dir[PATH_MAX];
	if (!checkpoint_dir_path(s->dir, c, dir, sizeof dir)) {
		snprintf(out->err, sizeof out->err, "audit.checkpoint_dir: the path is too long");
		return -1;
	}
	if (!make_dir(dir, out->err, sizeof out->err))
		return -1;
	keypair kp;
	if (!keys_load_secret(s->dir, &kp, out->err, sizeof out->err))
		return -1;
	int64_t now = now_ms(), head = 0;
	char hash[65] = "";
	bool ok = store_begin(s) && checkpoint_last(s, &out->last_seq, &out->last_ms) &&
	    audit_last_seq(s, &head) && audit_hash_at(s, head, hash) >= 0;
	int done = 0;
	if (ok && head > 0 && audit_checkpoint_due(c, out->last_seq, out->last_ms, head, now)) {
		char ts[32];
		format_time(now, ts);
		/* 2030-01-01T00:00:00.000Z: the date and the time, digits alone */
		snprintf(out->path, sizeof out->path, "%s/arbiter-checkpoint-%012lld-%.4s%.2s%.2s-"
		    "%.2s%.2s%.2s.txt", dir, (long long)head, ts, ts + 5, ts + 8, ts + 11, ts + 14,
		    ts + 17);
		sqlite3_stmt *st;
		ok = sqlite3_prepare_v2(s->db, "INSERT INTO checkpoint_claim (id, seq, at_ms) VALUES "
		    "(1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, at_ms = excluded.at_ms",
		    -1, &st, NULL) == SQLITE_OK;
		if (ok) {
			sqlite3_bind_int64(st, 1, head);
			sqlite3_bind_int64(st, 2, now);
			ok = sqlite3_step(st) == SQLITE_DONE;
		}
		sqlite3_finalize(st);
		if (!ok)
			store_fail(s, "cannot record the checkpoint claim");
		/* written while the claim is held: a failure takes the claim back */
		if (ok && !checkpoint_write_file(&kp, s->id, out->path, head, hash, now, out->err,
		    sizeof out->err)) {
			store_rollback(s);
			sodium_memzero(&kp, sizeof kp);
			return -1;
		}
		if (ok) {
			out->seq = head;
			out->last_seq = head;
			out->last_ms = now;
			done = 1;
		}
	}
	sodium_memzero(&kp, sizeof kp);
	if (ok && store_commit(s))
		return done;
	snprintf(out->err, sizeof out->err, "%s", s->err);
	store_rollback(s);
	return -1;
}
