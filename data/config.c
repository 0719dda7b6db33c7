/*
 * config.c: reading the store's config.yaml.
 *
 * Only the settings that change evaluation are read here (enforcement.*);
 * the review and totp settings are read by the commands that use them. A
 * malformed file is an error at its FILE:LINE:COL: fail closed, never
 * silently fall back to defaults.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static bool read_bool(const node *section, const char *key, const char *file, bool *out,
    diags *errs)
{
	const node *v = node_get(section, key);
	if (v == NULL)
		return true;
	if (v->type != NODE_BOOL) {
		diags_add(errs, file, (int)v->line, (int)v->col, "%s must be true or false", key);
		return false;
	}
	*out = v->u.b;
	return true;
}

bool store_config(store *s, eval_options *o, diags *errs)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/config.yaml", s->dir);
	size_t len;
	char why[256];
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL) {
		diags_add(errs, path, 0, 0, "%s", why);
		return false;
	}
	arena *a = arena_new();
	bool empty, ok = true;
	const node *root = doc_parse(a, path, text, len, 1, &empty, errs);
	free(text);
	if (root == NULL) {
		ok = empty;     /* an empty file: every default */
	} else if (root->type != NODE_MAP) {
		diags_add(errs, path, (int)root->line, (int)root->col, "config.yaml must be a map");
		ok = false;
	} else {
		const node *enf = node_get(root, "enforcement");
		if (enf != NULL && enf->type != NODE_MAP) {
			diags_add(errs, path, (int)enf->line, (int)enf->col, "enforcement must be a map");
			ok = false;
		} else if (enf != NULL) {
			ok = read_bool(enf, "enabled", path, &o->enforcement, errs) &&
			    read_bool(enf, "fail_closed", path, &o->fail_closed, errs);
		}
	}
	arena_free(a);
	return ok;
}

char *store_result_json(store *s, int64_t id, const char **status)
{
	sqlite3_stmt *st;
	char *out = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT result, policy_version, status FROM submissions "
	    "WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *result = (const char *)sqlite3_column_text(st, 0);
		static const char *const names[] = { "allowed", "pending", "blocked", "approved",
			"rejected", "overridden", "expired" };
		const char *stat = (const char *)sqlite3_column_text(st, 2);
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(stat, names[i]) == 0)
				*status = names[i];
		size_t n = strlen(result) + 64;
		out = malloc(n);
		if (out == NULL)
			abort();
		snprintf(out, n, "{\"id\":%lld,\"policy_version\":%d,%s", (long long)id,
		    sqlite3_column_int(st, 1), result + 1);
	}
	sqlite3_finalize(st);
	return out;
}
