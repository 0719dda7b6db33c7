/*
 * identities.c: how agents and reviewers are reached through the server
 * (PRODUCT.md section 9): a login and its uid on the Unix socket, a bearer
 * token on TCP.
 *
 * A token is "arbiter_" and 32 random bytes in base64url without padding
 * (51 characters). It is shown once; the store keeps only the SHA-256 of
 * those characters, in hex. A presented token is hashed, the rows whose
 * stored hash begins with the same 16 digits are read through an index, and
 * each stored hash is compared whole with sodium_memcmp: the index finds a
 * candidate, the constant-time comparison decides.
 *
 * A login or uid reaches one identity only: mapping_holder finds who else
 * holds one (an agent not revoked, or any reviewer: a disabled reviewer may
 * be enabled again). A mapping is resolved when it is made (a login to its
 * uid, a uid to its login when it has one), and a reviewer whose login did
 * not exist then is matched by the login of the peer's uid at lookup.
 */
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"

static const char token_prefix[] = "arbiter_";

void token_hash(const char *token, char hash[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hash, 65, h, sizeof h);
}

void token_new(char token[TOKEN_CHARS + 1], char hash[65])
{
	unsigned char raw[TOKEN_BYTES];
	secret_random(raw, sizeof raw);
	size_t p = sizeof token_prefix - 1;
	memcpy(token, token_prefix, p);
	sodium_bin2base64(token + p, TOKEN_CHARS + 1 - p, raw, sizeof raw,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	secret_wipe(raw, sizeof raw);
	token_hash(token, hash);
}

bool token_well_formed(const char *token)
{
	size_t p = sizeof token_prefix - 1;
	if (token == NULL || strlen(token) != TOKEN_CHARS || strncmp(token, token_prefix, p) != 0)
		return false;
	for (const char *c = token + p; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return false;
	return true;
}

/* getpwnam_r and getpwuid_r with a buffer that grows: 1 found, 0 none,
 * -1 error (errno). */
static int passwd_entry(const char *login, long uid, char *out_login, size_t len, long *out_uid)
{
	size_t size = 1024;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL)
			abort();
		struct passwd pw, *found = NULL;
		int rc = login ? getpwnam_r(login, &pw, buf, size, &found) :
		    getpwuid_r((uid_t)uid, &pw, buf, size, &found);
		if (rc == ERANGE && size < (1u << 20)) {
			free(buf);
			size *= 2;
			continue;
		}
		int ret = found ? 1 : rc == 0 || rc == ENOENT || rc == ESRCH ? 0 : -1;
		if (found) {
			snprintf(out_login, len, "%s", pw.pw_name);
			*out_uid = (long)pw.pw_uid;
		}
		free(buf);
		if (ret < 0)
			errno = rc;
		return ret;
	}
}

bool login_of_uid(long uid, char *login, size_t len)
{
	long same;
	login[0] = '\0';
	return uid >= 0 && passwd_entry(NULL, uid, login, len, &same) == 1;
}

bool mapping_resolve(const char *login, long uid, bool login_must_exist, identity_map *m,
    char *why, size_t len)
{
	memset(m, 0, sizeof *m);
	m->uid = -1;
	if (login != NULL) {
		if (login[0] == '\0' || strlen(login) >= sizeof m->login || strchr(login, ':') ||
		    strchr(login, '\n')) {
			snprintf(why, len, "\"%s\" is not a login name", login);
			return false;
		}
		int found = passwd_entry(login, -1, m->login, sizeof m->login, &m->uid);
		if (found < 0) {
			snprintf(why, len, "cannot look up login %s: %s", login, strerror(errno));
			return false;
		}
		if (found == 0 && login_must_exist) {
			snprintf(why, len, "there is no login %s on this system (give an existing login "
			    "with --user, or a uid with --uid)", login);
			return false;
		}
		if (found == 0)
			snprintf(m->login, sizeof m->login, "%s", login);      /* matched by name later */
		return true;
	}
	if (uid >= 0) {
		if (uid > IDENTITY_UID_MAX) {
			snprintf(why, len, "%ld is not a uid (0 to %ld)", uid, (long)IDENTITY_UID_MAX);
			return false;
		}
		m->uid = uid;
		long same;
		if (passwd_entry(NULL, uid, m->login, sizeof m->login, &same) < 0)
			m->login[0] = '\0';     /* a uid without an account is fine (setpriv --reuid) */
	}
	return true;
}

int mapping_holder(store *s, const identity_map *m, char *who, size_t len)
{
	if (m->uid < 0 && m->login[0] == '\0')
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT 'agent', name FROM agents WHERE revoked_at IS NULL AND "
	    "(uid = ?1 OR login = ?2) UNION ALL SELECT 'reviewer', name FROM reviewers WHERE "
	    "uid = ?1 OR login = ?2 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the identities"), -1;
	if (m->uid >= 0)
		sqlite3_bind_int64(st, 1, m->uid);
	if (m->login[0] != '\0')
		sqlite3_bind_text(st, 2, m->login, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(who, len, "%s %s", (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (store_fail(s, "cannot read the identities"), -1);
}

int name_holder(store *s, const char *name, char *who, size_t len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT 'an agent', name FROM agents WHERE name = ?1 COLLATE "
	    "NOCASE UNION ALL SELECT 'a reviewer', name FROM reviewers WHERE name = ?1 COLLATE NOCASE "
	    "LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the identities"), -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(who, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (store_fail(s, "cannot read the identities"), -1);
}

/* One identity row of the queries below: kind, name, uid, login, live (not
 * revoked, not disabled), admin, rate, token_hash. */
static void read_found(sqlite3_stmt *st, found_identity *f)
{
	memset(f, 0, sizeof *f);
	f->kind = strcmp((const char *)sqlite3_column_text(st, 0), "agent") == 0 ? ID_AGENT :
	    ID_REVIEWER;
	snprintf(f->name, sizeof f->name, "%s", (const char *)sqlite3_column_text(st, 1));
	f->uid = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(st, 2);
	const char *login = (const char *)sqlite3_column_text(st, 3);
	snprintf(f->login, sizeof f->login, "%s", login ? login : "");
	f->live = sqlite3_column_int(st, 4) != 0;
	f->admin = sqlite3_column_int(st, 5) != 0;
	f->rate = sqlite3_column_int(st, 6);
}

#define IDENTITY_COLUMNS_AGENT "'agent', name, uid, login, revoked_at IS NULL, 0, " \
	"ifnull(rate, 0), token_hash FROM agents"
#define IDENTITY_COLUMNS_REVIEWER "'reviewer', name, uid, login, disabled = 0, " \
	"role = 'admin', 0, token_hash FROM reviewers"

int identity_by_uid(store *s, long uid, const char *login, found_identity out[2])
{
	/* revoked agents have let their uid go; disabled reviewers are found,
	 * to be refused by name */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " IDENTITY_COLUMNS_AGENT " WHERE revoked_at IS NULL "
	    "AND (uid = ?1 OR (uid IS NULL AND login = ?2)) UNION ALL SELECT "
	    IDENTITY_COLUMNS_REVIEWER " WHERE uid = ?1 OR (uid IS NULL AND login = ?2) LIMIT 2",
	    -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the identities"), -1;
	sqlite3_bind_int64(st, 1, uid);
	if (login != NULL && login[0] != '\0')
		sqlite3_bind_text(st, 2, login, -1, SQLITE_STATIC);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		read_found(st, &out[n++]);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : (store_fail(s, "cannot read the identities"), -1);
}

int identity_by_token(store *s, const char *token, found_identity *out)
{
	char hash[65];
	token_hash(token, hash);
	unsigned char want[32];
	sodium_hex2bin(want, sizeof want, hash, 64, NULL, NULL, NULL);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT " IDENTITY_COLUMNS_AGENT " WHERE substr(token_hash, 1, "
	    "16) = ?1 UNION ALL SELECT " IDENTITY_COLUMNS_REVIEWER " WHERE substr(token_hash, 1, 16) "
	    "= ?1", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the identities"), -1;
	sqlite3_bind_text(st, 1, hash, 16, SQLITE_STATIC);
	int found = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kept = (const char *)sqlite3_column_text(st, 7);
		unsigned char have[32];
		size_t got = 0;
		if (kept == NULL || sodium_hex2bin(have, sizeof have, kept, strlen(kept), NULL,
		    &got, NULL) != 0 || got != sizeof have)
			continue;
		if (sodium_memcmp(have, want, sizeof want) == 0 && found == 0) {
			read_found(st, out);
			found = 1;
		}
	}
	sqlite3_finalize(st);
	sodium_memzero(hash, sizeof hash);
	return rc == SQLITE_DONE ? found : (store_fail(s, "cannot read the identities"), -1);
}
