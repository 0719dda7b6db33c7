/*
 * audit_head_sign.c: the text and signature of the signed head record
 * (audit_head.c), and the record a store made before it gets when it is
 * upgraded.
 *
 * The schema's 13 -> 14 step signs the record of the head the log has then
 * (audit_head_migrate): signed unverified, since verify still recomputes
 * the chain before it trusts the record. It runs while the store is being
 * opened, before there is a connection to speak of, so this file needs
 * only SQLite and the key files (keys.c): it is below the store, which the
 * schema runs inside, and audit_head.c signs each new record with the same
 * helper.
 */
#include <sodium.h>
#include <stdio.h>

#include "store_impl.h"

size_t audit_head_text(const char *store_id, int64_t seq, const char *hash, char *out,
    size_t len)
{
	int n = snprintf(out, len, "arbiter audit head v1\n%s\n%lld\n%s\n", store_id,
	    (long long)seq, hash);
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

void audit_head_sign(const unsigned char sk[64], const char *store_id, int64_t seq,
    const char hash[65], char sighex[129])
{
	char text[192];
	unsigned char sig[64];
	size_t n = audit_head_text(store_id, seq, hash, text, sizeof text);
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, n, sk);
	public_hex(sighex, sig, 64);
}

bool audit_head_migrate(sqlite3 *db, const char *dir, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char id[33] = "", hash[65] = "";
	int64_t seq = 0;
	if (sqlite3_prepare_v2(db, "SELECT (SELECT value FROM meta WHERE key = 'store_id'), seq, hash "
	    "FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit head: %s", sqlite3_errmsg(db));
		return false;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *i = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 2);
		snprintf(id, sizeof id, "%s", i ? i : "");
		snprintf(hash, sizeof hash, "%s", h ? h : "");
		seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return true;            /* no event yet: the first commit writes the record */
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "cannot read the audit head: %s", sqlite3_errmsg(db));
		return false;
	}
	if (dir == NULL) {
		snprintf(err, errlen, "the audit head record needs the store's signing key");
		return false;
	}
	keypair kp;
	char why[512], sig[129];
	if (!keys_load_secret(dir, &kp, why, sizeof why)) {
		snprintf(err, errlen, "signing the audit head record: %s", why);
		return false;
	}
	audit_head_sign(kp.sk, id, seq, hash, sig);
	sodium_memzero(&kp, sizeof kp);
	char *sql = sqlite3_mprintf("INSERT INTO audit_head (id, seq, hash, sig) VALUES (1, %lld, %Q, "
	    "%Q)", (long long)seq, hash, sig);
	char *msg = NULL;
	bool ok = sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		snprintf(err, errlen, "cannot write the audit head record: %s", msg ? msg : "");
	sqlite3_free(msg);
	sqlite3_free(sql);
	return ok;
}
