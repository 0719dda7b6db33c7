/*
 * reviewers.c: reviewers and their secrets.
 *
 * A reviewer's TOTP secret lives only in users.oath, in liboath's usersfile
 * format ("HOTP/T30/6 NAME - HEXSECRET", one line each), so that pam_oath can
 * use the same file; the database holds the name, the role, and what code
 * checking (codes.c) needs: the last time step used (a code is accepted once,
 * and never an older one). users.oath is rewritten whole (a temporary file
 * renamed over it, mode 0600) while the caller holds the database's write
 * lock, so two enrolments cannot interleave.
 *
 * Names are enrolled lower-cased (PRODUCT.md section 2) and looked up in any
 * case, so that a reviewer enrolled before names were lower-cased (Bob) is
 * still found as bob, under the name users.oath knows them by.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

static void users_path(store *s, char *out, size_t len)
{
	snprintf(out, len, "%s/users.oath", s->dir);
}

/* The users.oath text, or "" when the file is empty; NULL on error. */
static char *read_users(store *s)
{
	char path[PATH_MAX + 16], why[256];
	size_t len;
	users_path(s, path, sizeof path);
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL)
		snprintf(s->err, sizeof s->err, "%s", why);
	return text;
}

bool users_secret(store *s, const char *name, unsigned char key[REVIEWER_KEY_BYTES])
{
	char *text = read_users(s);
	if (text == NULL)
		return false;
	size_t n = strlen(text), start, len;
	bool ok = usersfile_find(text, n, name, &start, &len);
	if (!ok)
		snprintf(s->err, sizeof s->err, "%s has no secret in users.oath", name);
	else if (!(ok = usersfile_secret(text + start, len, key, REVIEWER_KEY_BYTES)))
		snprintf(s->err, sizeof s->err, "users.oath: the line of %s is malformed", name);
	sodium_memzero(text, n);
	free(text);
	return ok;
}

/* Replaces users.oath with text (private_file_replace). */
static bool write_users(store *s, const char *text)
{
	char path[PATH_MAX + 16];
	users_path(s, path, sizeof path);
	return private_file_replace(path, text, strlen(text), s->err, sizeof s->err);
}

bool users_add(store *s, const char *name, const unsigned char key[REVIEWER_KEY_BYTES])
{
	char *text = read_users(s);
	if (text == NULL)
		return false;
	/* a secret left by an enrolment that did not commit: replace it */
	size_t size = strlen(text), n = usersfile_remove(text, size, name);
	text[n] = '\0';
	char hex[2 * REVIEWER_KEY_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, key, REVIEWER_KEY_BYTES);
	size_t cap = n + strlen(name) + sizeof hex + 32;
	char *out = malloc(cap);
	if (out == NULL)
		abort();
	snprintf(out, cap, "%s%s%s\t%s\t-\t%s\n", text, n && text[n - 1] != '\n' ? "\n" : "",
	    "HOTP/T30/6", name, hex);
	bool ok = write_users(s, out);
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(out, cap);
	sodium_memzero(text, size);
	free(out);
	free(text);
	return ok;
}

bool users_remove(store *s, const char *name)
{
	char *text = read_users(s);
	if (text == NULL)
		return false;
	size_t size = strlen(text), n = usersfile_remove(text, size, name);
	text[n] = '\0';
	bool ok = n == size || write_users(s, text);
	sodium_memzero(text, size);
	free(text);
	return ok;
}

int reviewer_get(store *s, const char *name, reviewer *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st;
	/* the name as enrolled first, should two differ only in case */
	if (sqlite3_prepare_v2(s->db, "SELECT name, role, disabled, ifnull(last_step, 0) FROM "
	    "reviewers WHERE name = ?1 COLLATE NOCASE ORDER BY name = ?1 DESC LIMIT 1", -1, &st,
	    NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the reviewers"), -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 0));
		out->admin = strcmp((const char *)sqlite3_column_text(st, 1), "admin") == 0;
		out->disabled = sqlite3_column_int(st, 2) != 0;
		out->last_step = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : (store_fail(s, "cannot read the reviewers"), -1);
}

int reviewer_admins(store *s, bool any)
{
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_prepare_v2(s->db, any ? "SELECT count(*) FROM reviewers" : "SELECT count(*) "
	    "FROM reviewers WHERE role = 'admin' AND disabled = 0", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		store_fail(s, "cannot read the reviewers");
	sqlite3_finalize(st);
	return n;
}

/* Runs sql with text parameters (NULL ends them): one statement. */
static bool exec_text(store *s, const char *what, const char *sql, ...)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, what);
	va_list ap;
	va_start(ap, sql);
	const char *v;
	for (int i = 1; (v = va_arg(ap, const char *)) != NULL; i++)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	va_end(ap);
	bool ok = sqlite3_step(st) == SQLITE_DONE || store_fail(s, what);
	sqlite3_finalize(st);
	return ok;
}

bool reviewer_add(store *s, const char *actor, const char *name, bool admin,
    const identity_map *m, const unsigned char key[REVIEWER_KEY_BYTES])
{
	sqlite3_stmt *st;
	bool taken = false;
	if (sqlite3_prepare_v2(s->db, "SELECT name FROM reviewers WHERE name = ? COLLATE NOCASE", -1,
	    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		taken = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	if (taken) {
		/* names are compared by people: Alice and alice are one person */
		snprintf(s->err, sizeof s->err, "a reviewer named %s exists already (names differing "
		    "only in case are one name)", name);
		return false;
	}
	char ts[32];
	format_time(now_ms(), ts);
	const char *role = admin ? "admin" : "reviewer";
	const char *login = m && m->login[0] ? m->login : NULL;
	const char *hash = m && m->token_hash[0] ? m->token_hash : NULL;
	long uid = m ? m->uid : -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO reviewers (name, role, enrolled_at, login, uid, "
	    "token_hash) VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot add the reviewer");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, login, -1, SQLITE_STATIC);
	if (uid >= 0)
		sqlite3_bind_int64(st, 5, uid);
	sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
	bool inserted = sqlite3_step(st) == SQLITE_DONE || store_fail(s, "cannot add the reviewer");
	sqlite3_finalize(st);
	if (!inserted)
		return false;
	json_t *details = json_pack("{s:s,s:s,s:s?,s:o,s:b}", "name", name, "role", role, "login",
	    login, "uid", uid >= 0 ? json_integer(uid) : json_null(), "token", hash != NULL);
	bool ok = audit_append(s, actor, "reviewer.add", name, details);
	json_decref(details);
	/* the secret last: a failure before it leaves users.oath untouched */
	return ok && users_add(s, name, key);
}

bool reviewer_disable(store *s, const char *actor, const char *name)
{
	if (!exec_text(s, "cannot disable the reviewer", "UPDATE reviewers SET disabled = 1 "
	    "WHERE name = ?", name, (const char *)NULL))
		return false;
	json_t *details = json_pack("{s:s}", "name", name);
	bool ok = audit_append(s, actor, "reviewer.disable", name, details);
	json_decref(details);
	return ok && users_remove(s, name);
}

json_t *reviewer_list(store *s)
{
	sqlite3_stmt *st;
	/* locked_until: the end of the last lockout in force, from any origin */
	if (sqlite3_prepare_v2(s->db, "SELECT name, role, enrolled_at, last_used, (SELECT max(until) "
	    "FROM code_lockouts WHERE reviewer = lower(reviewers.name) AND until > :now), disabled, "
	    "login, uid, token_hash IS NOT NULL FROM reviewers ORDER BY name", -1, &st,
	    NULL) != SQLITE_OK) {
		store_fail(s, "cannot read the reviewers");
		return NULL;
	}
	store_bind_now(st);
	json_t *list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:b,s:s?,s:o,s:b}",
		    "name", (const char *)sqlite3_column_text(st, 0),
		    "role", (const char *)sqlite3_column_text(st, 1),
		    "enrolled", (const char *)sqlite3_column_text(st, 2),
		    "last_used", (const char *)sqlite3_column_text(st, 3),
		    "locked_until", (const char *)sqlite3_column_text(st, 4),
		    "disabled", sqlite3_column_int(st, 5) != 0,
		    "login", (const char *)sqlite3_column_text(st, 6),
		    "uid", sqlite3_column_type(st, 7) == SQLITE_NULL ? json_null() :
		    json_integer(sqlite3_column_int64(st, 7)),
		    "token", sqlite3_column_int(st, 8) != 0));
	}
	sqlite3_finalize(st);
	return list;
}
