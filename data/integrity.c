/*
 * integrity.c: pinning the policy set and noticing when it changes.
 *
 * A policy version is the SHA-256 of every file that decides outcomes:
 * the .yaml and .yml files of policies/ and config.yaml, keyed by their path inside
 * .arbiter. init records version 1 and `policy pin` each next one, and both
 * make the files read-only (0444); the pin itself is the signed audit event
 * (store.init or policy.pin, whose details hold the hashes), and the
 * policy_versions row must agree with it. Every command that evaluates or decides
 * compares the files on disk with the newest version; any file edited, added
 * or removed makes the store tampered, which blocks every new submission and
 * every decision (fail closed) until an admin pins the files again. A
 * tampered state is audited once per distinct set of files (policy.tamper,
 * with the digest of the files as they are), not once per command.
 *
 * config.yaml is pinned with the policies because its settings loosen as
 * surely as a policy does: enforcement.enabled, the justification length,
 * the code window and lockout.
 */
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "remote.h"

static bool hash_file(const char *path, char hex[65], char *err, size_t errlen)
{
	size_t len;
	char why[256];
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL) {
		snprintf(err, errlen, "%s", why);
		return false;
	}
	unsigned char h[32];
	sha256(text, len, h);
	public_hex(hex, h, sizeof h);
	free(text);
	return true;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* {"config.yaml": hex, "policies/NAME": hex, ...} of the files on disk. */
static json_t *hash_files(store *s)
{
	char path[PATH_MAX + 300], hex[65];
	json_t *files = json_object();
	snprintf(path, sizeof path, "%s/config.yaml", s->dir);
	if (!hash_file(path, hex, s->err, sizeof s->err)) {
		json_decref(files);
		return NULL;
	}
	json_object_set_new(files, "config.yaml", json_string(hex));
	snprintf(path, sizeof path, "%s/policies", s->dir);
	DIR *d = opendir(path);
	if (d == NULL) {
		snprintf(s->err, sizeof s->err, "%.400s: cannot read the policy directory", path);
		json_decref(files);
		return NULL;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!policy_file_name(e->d_name))
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL || (names[n] = strdup(e->d_name)) == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 1)      /* names is NULL when policies/ holds no policy file */
		qsort(names, n, sizeof *names, by_name);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/policies/%s", s->dir, names[i]);
		if (ok && hash_file(path, hex, s->err, sizeof s->err)) {
			char key[300];
			snprintf(key, sizeof key, "policies/%s", names[i]);
			json_object_set_new(files, key, json_string(hex));
		} else {
			ok = false;
		}
		free(names[i]);
	}
	free(names);
	if (!ok) {
		json_decref(files);
		return NULL;
	}
	return files;
}

static void add_change(char *out, size_t len, const char *file, const char *what)
{
	size_t used = strlen(out);
	if (used + 1 < len)
		snprintf(out + used, len - used, "%s%s %s", used ? ", " : "", file, what);
}

/* The files that differ between pinned and now, in name order. */
static void describe(const json_t *pinned, const json_t *now, char *out, size_t len)
{
	out[0] = '\0';
	json_t *all = json_object();
	json_object_update(all, (json_t *)pinned);
	json_object_update(all, (json_t *)now);
	size_t n = json_object_size(all), i = 0;
	const char **keys = malloc((n + 1) * sizeof *keys);
	if (keys == NULL)
		abort();
	const char *key;
	json_t *v;
	json_object_foreach(all, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof *keys, by_name);
	for (i = 0; i < n; i++) {
		const char *was = json_string_value(json_object_get(pinned, keys[i]));
		const char *is = json_string_value(json_object_get(now, keys[i]));
		if (was == NULL)
			add_change(out, len, keys[i], "added");
		else if (is == NULL)
			add_change(out, len, keys[i], "removed");
		else if (strcmp(was, is) != 0)
			add_change(out, len, keys[i], "edited");
	}
	free(keys);
	json_decref(all);
}

/* Compares now (the files as in use) with the signed pin; takes now. */
static bool compare(store *s, json_t *now, integrity *out)
{
	char *text = json_dumps(now, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char h[32];
	sha256(text, strlen(text), h);
	public_hex(out->digest, h, sizeof h);
	free(text);
	/* the pin is the newest store.init or policy.pin event: signed, in the
	 * chain; the policy_versions row must agree with it */
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(s->db, "SELECT json_extract(a.details, '$.policy_version'), "
	    "json_extract(a.details, '$.files'), (SELECT files FROM policy_versions v WHERE "
	    "v.version = json_extract(a.details, '$.policy_version')), (SELECT max(version) FROM "
	    "policy_versions) FROM audit a WHERE a.event IN ('store.init', 'policy.pin') "
	    "ORDER BY a.seq DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK;
	int rc = ok ? sqlite3_step(st) : SQLITE_ERROR;
	if (rc == SQLITE_ROW) {
		out->version = sqlite3_column_int(st, 0);
		const char *signed_files = (const char *)sqlite3_column_text(st, 1);
		const char *row_files = (const char *)sqlite3_column_text(st, 2);
		json_t *pinned = signed_files ? json_loads(signed_files, 0, NULL) : NULL;
		json_t *row = row_files ? json_loads(row_files, 0, NULL) : NULL;
		if (pinned == NULL || row == NULL || !json_equal(pinned, row) ||
		    sqlite3_column_int(st, 3) != out->version) {
			snprintf(out->what, sizeof out->what, "the pinned policy version in the database "
			    "does not match its signed audit event (version %d)", out->version);
		} else {
			describe(pinned, now, out->what, sizeof out->what);
		}
		json_decref(pinned);
		json_decref(row);
		out->tampered = out->what[0] != '\0';
	} else if (rc == SQLITE_DONE) {
		snprintf(out->what, sizeof out->what, "no policy version is pinned");
		out->tampered = true;
	} else {
		ok = store_fail(s, "cannot read the pinned policy version");
	}
	sqlite3_finalize(st);
	json_decref(now);
	return ok;
}

bool integrity_check(store *s, integrity *out)
{
	memset(out, 0, sizeof *out);
	json_t *now = hash_files(s);
	return now != NULL && compare(s, now, out);
}

bool integrity_check_loaded(store *s, const policy_set *ps, const settings *c, integrity *out)
{
	memset(out, 0, sizeof *out);
	json_t *now = ps ? json_object() : hash_files(s);
	if (now == NULL)
		return false;
	char hex[65];
	for (size_t i = 0; ps && i < ps->nfiles; i++) {
		public_hex(hex, ps->files[i].sha256, 32);
		json_object_set_new(now, ps->files[i].shown, json_string(hex));
	}
	public_hex(hex, c->sha256, 32);
	json_object_set_new(now, "config.yaml", json_string(hex));
	return compare(s, now, out);
}

/* The details of the newest policy.tamper, policy.pin or store.init event:
 * whether the newest is a tamper event with this digest. */
static bool tamper_known(store *s, const char *digest, bool *known)
{
	sqlite3_stmt *st;
	*known = false;
	if (sqlite3_prepare_v2(s->db, "SELECT event, json_extract(details, '$.digest') FROM audit "
	    "WHERE event IN ('policy.tamper', 'policy.pin', 'store.init') ORDER BY seq DESC LIMIT 1",
	    -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *event = (const char *)sqlite3_column_text(st, 0);
		const char *was = (const char *)sqlite3_column_text(st, 1);
		*known = strcmp(event, "policy.tamper") == 0 && was != NULL && strcmp(was, digest) == 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || store_fail(s, "cannot read the audit log");
}

bool integrity_audit_tamper(store *s, const integrity *in, const char *actor)
{
	bool known;
	if (!in->tampered || s->remote != NULL)
		return true;    /* a server audits what it finds when it reads the files */
	if (!tamper_known(s, in->digest, &known))
		return false;
	if (known)
		return true;
	if (!store_load_signing_key(s) || !store_begin(s))
		return false;
	/* under the write lock: another process may have audited it meanwhile */
	if (!tamper_known(s, in->digest, &known)) {
		store_rollback(s);
		return false;
	}
	if (known) {
		store_rollback(s);
		return true;
	}
	json_t *details = json_pack("{s:i,s:s,s:s}", "pinned_version", in->version, "changes",
	    in->what, "digest", in->digest);
	bool ok = audit_append(s, actor, "policy.tamper", "policies", details) && store_commit(s);
	json_decref(details);
	if (!ok)
		store_rollback(s);
	return ok;
}

/* Makes the pinned files read-only. */
static void make_read_only(store *s, json_t *files)
{
	const char *key;
	json_t *v;
	char path[PATH_MAX + 300];
	json_object_foreach(files, key, v) {
		snprintf(path, sizeof path, "%s/%s", s->dir, key);
		chmod(path, 0444);
	}
}

bool integrity_pin(store *s, const char *actor, const char *justification, const char *event,
    int *version)
{
	json_t *files = hash_files(s);
	if (files == NULL)
		return false;
	*version = store_policy_version(s) + 1;
	char *text = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS);
	char ts[32];
	format_time(now_ms(), ts);
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(s->db, "INSERT INTO policy_versions (version, created_at, actor, "
	    "justification, files) VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_int(st, 1, *version);
		sqlite3_bind_text(st, 2, ts, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, actor, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, justification, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, text, -1, SQLITE_TRANSIENT);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	free(text);
	if (!ok) {
		json_decref(files);
		return store_fail(s, "cannot record the policy version");
	}
	make_read_only(s, files);
	json_t *details = json_pack("{s:i,s:s,s:O}", "policy_version", *version, "justification",
	    justification, "files", files);
	char subject[16];
	snprintf(subject, sizeof subject, "%d", *version);
	ok = audit_append(s, actor, event, strcmp(event, "store.init") == 0 ? s->id : subject, details);
	json_decref(details);
	json_decref(files);
	return ok;
}

json_t *integrity_versions(store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT version, created_at, actor, justification, "
	    "(SELECT count(*) FROM json_each(files)) FROM policy_versions ORDER BY version", -1, &st,
	    NULL) != SQLITE_OK) {
		store_fail(s, "cannot read the policy versions");
		return NULL;
	}
	json_t *list = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:i,s:s,s:s,s:s?,s:i}",
		    "version", sqlite3_column_int(st, 0),
		    "created_at", (const char *)sqlite3_column_text(st, 1),
		    "actor", (const char *)sqlite3_column_text(st, 2),
		    "justification", (const char *)sqlite3_column_text(st, 3),
		    "files", sqlite3_column_int(st, 4)));
	sqlite3_finalize(st);
	return list;
}
