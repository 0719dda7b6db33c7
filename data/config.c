/*
 * config.c: reading the store's config.yaml.
 *
 * Every setting of PRODUCT.md section 7, with its default when absent. A
 * malformed file is an error at its FILE:LINE:COL: fail closed, never
 * silently fall back to defaults.
 */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* Reads one setting of a section into *out when it is present; a wrong
 * type or range is an error at its position. */
typedef struct reader {
	const char *file;
	const char *section;
	const node *map;
	diags *errs;
	bool ok;
} reader;

static const node *get(reader *r, const char *key, int type, const char *what)
{
	const node *v = r->map ? node_get(r->map, key) : NULL;
	if (v != NULL && v->type != type) {
		diags_add(r->errs, r->file, (int)v->line, (int)v->col, "%s.%s must be %s", r->section,
		    key, what);
		r->ok = false;
		return NULL;
	}
	return v;
}

static void read_bool(reader *r, const char *key, bool *out)
{
	const node *v = get(r, key, NODE_BOOL, "true or false");
	if (v != NULL)
		*out = v->u.b;
}

static void read_int(reader *r, const char *key, int min, int max, int *out)
{
	const node *v = get(r, key, NODE_INT, "a whole number");
	if (v == NULL)
		return;
	if (v->u.i < min || v->u.i > max) {
		diags_add(r->errs, r->file, (int)v->line, (int)v->col, "%s.%s must be from %d to %d, "
		    "not %lld", r->section, key, min, max, (long long)v->u.i);
		r->ok = false;
		return;
	}
	*out = (int)v->u.i;
}

static void read_duration(reader *r, const char *key, int64_t *out)
{
	const node *v = get(r, key, NODE_STRING, "a duration such as 15m or 24h");
	int64_t secs;
	if (v == NULL)
		return;
	if (!duration_parse(v->u.str.s, &secs) || secs <= 0) {
		diags_add(r->errs, r->file, (int)v->line, (int)v->col, "%s.%s: \"%s\" is not a duration "
		    "(such as 15m or 24h)", r->section, key, v->u.str.s);
		r->ok = false;
		return;
	}
	*out = secs;
}

/* A size in bytes: a whole number, or one with a unit (64KiB, 1MiB, 64MiB). */
static void read_size(reader *r, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const node *v = r->map ? node_get(r->map, key) : NULL;
	if (v == NULL)
		return;
	int64_t n = -1;
	if (v->type == NODE_INT) {
		n = v->u.i;
	} else if (v->type == NODE_STRING) {
		char *end;
		long long x = strtoll(v->u.str.s, &end, 10);
		int64_t unit = strcmp(end, "KiB") == 0 ? 1 << 10 : strcmp(end, "MiB") == 0 ? 1 << 20 :
		    strcmp(end, "GiB") == 0 ? 1 << 30 : *end == '\0' ? 1 : 0;
		if (end != v->u.str.s && x >= 0 && unit > 0 && x <= max / unit)
			n = x * unit;
	}
	if (n < min || n > max) {
		diags_add(r->errs, r->file, (int)v->line, (int)v->col, "%s.%s must be a size from "
		    "%lld to %lld bytes (such as 1MiB)", r->section, key, (long long)min,
		    (long long)max);
		r->ok = false;
		return;
	}
	*out = n;
}

static void read_text(reader *r, const char *key, char *out, size_t len)
{
	const node *v = get(r, key, NODE_STRING, "text");
	if (v == NULL)
		return;
	if (v->u.str.len == 0 || v->u.str.len >= len || memchr(v->u.str.s, 0, v->u.str.len)) {
		diags_add(r->errs, r->file, (int)v->line, (int)v->col, "%s.%s must be from 1 to %zu "
		    "characters", r->section, key, len - 1);
		r->ok = false;
		return;
	}
	memcpy(out, v->u.str.s, v->u.str.len + 1);
}

static const node *section(reader *r, const node *root, const char *name)
{
	r->section = name;
	r->map = node_get(root, name);
	if (r->map != NULL && r->map->type != NODE_MAP) {
		diags_add(r->errs, r->file, (int)r->map->line, (int)r->map->col, "%s must be a map", name);
		r->ok = false;
		r->map = NULL;
	}
	return r->map;
}

void settings_default(settings *c)
{
	*c = (settings){ .enforcement = true, .fail_closed = true, .approve_requires_code = true,
		.justification_min_chars = 20, .override_default_duration = 24 * 3600,
		.session_idle = 600, .totp_window = 1, .totp_max_failures = 5, .totp_lockout = 900,
		.max_body = 1 << 20, .max_batch = 64 << 20, .idle_timeout = 30,
		.max_connections = 1024, .approval_ttl = 8 * 3600, .checkpoint_events = 10000,
		.checkpoint_minutes = 60, .checkpoint_dir = "checkpoints" };
}

bool store_settings(store *s, settings *c, diags *errs)
{
	if (s->remote != NULL) {
		/* the server's: it applies them; a command only says when
		 * enforcement is off */
		settings_default(c);
		c->enforcement = s->remote->enforcement;
		c->approve_requires_code = s->remote->approve_requires_code;
		c->justification_min_chars = s->remote->justification_min_chars;
		c->override_default_duration = s->remote->override_default_duration;
		c->session_idle = s->remote->session_idle;
		return true;
	}
	return settings_read(s->dir, c, errs);
}

bool settings_read(const char *dir, settings *c, diags *errs)
{
	settings_default(c);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/config.yaml", dir);
	size_t len;
	char why[256];
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL) {
		diags_add(errs, path, 0, 0, "%s", why);
		return false;
	}
	sha256(text, len, c->sha256);
	arena *a = arena_new();
	bool empty;
	reader r = { .file = path, .errs = errs, .ok = true };
	const node *root = doc_parse(a, path, text, len, 1, &empty, errs);
	free(text);
	if (root == NULL) {
		r.ok = empty;     /* an empty file: every default */
	} else if (root->type != NODE_MAP) {
		diags_add(errs, path, (int)root->line, (int)root->col, "config.yaml must be a map");
		r.ok = false;
	} else {
		section(&r, root, "enforcement");
		read_bool(&r, "enabled", &c->enforcement);
		read_bool(&r, "fail_closed", &c->fail_closed);
		section(&r, root, "review");
		read_bool(&r, "approve_requires_code", &c->approve_requires_code);
		read_int(&r, "justification_min_chars", 0, 10000, &c->justification_min_chars);
		read_duration(&r, "override_default_duration", &c->override_default_duration);
		read_duration(&r, "session_idle", &c->session_idle);
		section(&r, root, "totp");
		read_int(&r, "window", 0, 10, &c->totp_window);
		read_int(&r, "max_failures", 1, 1000, &c->totp_max_failures);
		read_duration(&r, "lockout", &c->totp_lockout);
		section(&r, root, "server");
		read_size(&r, "max_body", 1024, (int64_t)1 << 30, &c->max_body);
		read_size(&r, "max_batch", 1024, (int64_t)1 << 34, &c->max_batch);
		read_duration(&r, "idle_timeout", &c->idle_timeout);
		read_int(&r, "max_connections", 1, 65536, &c->max_connections);
		read_text(&r, "socket", c->socket, sizeof c->socket);
		read_text(&r, "socket_group", c->socket_group, sizeof c->socket_group);
		section(&r, root, "hook");
		read_duration(&r, "approval_ttl", &c->approval_ttl);
		section(&r, root, "audit");
		read_int(&r, "checkpoint_events", 1, 1000000000, &c->checkpoint_events);
		read_int(&r, "checkpoint_minutes", 1, 525600, &c->checkpoint_minutes);
		read_text(&r, "checkpoint_dir", c->checkpoint_dir, sizeof c->checkpoint_dir);
		read_text(&r, "checkpoint_command", c->checkpoint_command,
		    sizeof c->checkpoint_command);
	}
	arena_free(a);
	return r.ok;
}

void settings_clamp(settings *c)
{
	settings d;
	settings_default(&d);
	c->approve_requires_code = true;
	if (c->justification_min_chars < d.justification_min_chars)
		c->justification_min_chars = d.justification_min_chars;
	if (c->totp_window > d.totp_window)
		c->totp_window = d.totp_window;
	if (c->totp_max_failures > d.totp_max_failures)
		c->totp_max_failures = d.totp_max_failures;
	if (c->totp_lockout < d.totp_lockout)
		c->totp_lockout = d.totp_lockout;
	if (c->session_idle > d.session_idle)
		c->session_idle = d.session_idle;
	if (c->override_default_duration > d.override_default_duration)
		c->override_default_duration = d.override_default_duration;
	if (c->approval_ttl > d.approval_ttl)
		c->approval_ttl = d.approval_ttl;
}

/* Whether the newest enforcement.toggle event says enforcement is enabled
 * (true when there is none: a new store enforces). */
static bool last_toggle(store *s, bool *enabled)
{
	sqlite3_stmt *st;
	*enabled = true;
	if (sqlite3_prepare_v2(s->db, "SELECT json_extract(details, '$.enabled') FROM audit "
	    "WHERE event = 'enforcement.toggle' ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "cannot read the audit log");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*enabled = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || store_fail(s, "cannot read the audit log");
}

bool enforcement_audit(store *s, bool enabled, const char *actor)
{
	bool was;
	if (!last_toggle(s, &was))
		return false;
	if (was == enabled)
		return true;
	if (!store_load_signing_key(s) || !store_begin(s))
		return false;
	bool ok = last_toggle(s, &was);
	if (ok && was != enabled) {
		json_t *d = json_pack("{s:b}", "enabled", enabled);
		ok = audit_append(s, actor, "enforcement.toggle", "config.yaml", d);
		json_decref(d);
	}
	ok = ok && store_commit(s);
	if (!ok)
		store_rollback(s);
	return ok;
}
