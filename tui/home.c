/*
 * home.c: finding the store and its policies.
 *
 * The store is --home DIR, else $ARBITER_HOME, else the nearest .arbiter/ in
 * the current directory or its parents (like git). DIR may be the .arbiter
 * directory itself or a directory that contains one.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* DIR itself when it is a store, else DIR/.arbiter when that is one. */
static bool store_at(const char *dir, char *out, size_t len)
{
	char inner[PATH_MAX];
	snprintf(inner, sizeof inner, "%s/.arbiter", dir);
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (strcmp(base, ".arbiter") == 0 && is_dir(dir)) {
		snprintf(out, len, "%s", dir);
		return true;
	}
	if (is_dir(inner)) {
		snprintf(out, len, "%s", inner);
		return true;
	}
	return false;
}

bool find_store(const args *a, char *out, size_t len)
{
	const char *home = arg_get(a, "--home");
	if (home == NULL)
		home = getenv("ARBITER_HOME");
	if (home != NULL && *home != '\0')
		return store_at(home, out, len);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd) == NULL)
		return false;
	for (;;) {
		if (store_at(cwd, out, len))
			return true;
		char *slash = strrchr(cwd, '/');
		if (slash == NULL || slash == cwd) {
			return cwd[1] != '\0' && store_at("/", out, len);
		}
		*slash = '\0';
	}
}

bool policy_dir(const args *a, char *dir, size_t len, const char **shown_prefix)
{
	const char *given = arg_get(a, "--policies");
	if (given != NULL) {
		if (!is_dir(given)) {
			err_printf("arbiter: %s: no such policy directory\n", given);
			return false;
		}
		snprintf(dir, len, "%s", given);
		*shown_prefix = NULL;
		return true;
	}
	char home_dir[PATH_MAX];
	if (!find_store(a, home_dir, sizeof home_dir)) {
		const char *home = arg_get(a, "--home");
		if (home == NULL)
			home = getenv("ARBITER_HOME");
		if (home != NULL && *home != '\0')
			err_printf("arbiter: %s is not an arbiter store (create one with arbiter init)\n",
			    home);
		else
			err_printf("arbiter: no store found here or above (create one with arbiter init, "
			    "or give --policies DIR)\n");
		return false;
	}
	snprintf(dir, len, "%s/policies", home_dir);
	*shown_prefix = "policies";
	return true;
}

bool find_store_or_say(const args *a, char *out, size_t len)
{
	if (find_store(a, out, len))
		return true;
	err_printf("arbiter: no store found here or above (create one with arbiter init)\n");
	return false;
}

store *open_store_settings(const args *a, settings *c, diags *errs, bool *settings_ok)
{
	char dir[PATH_MAX], err[768] = "";
	*settings_ok = false;
	if (!find_store_or_say(a, dir, sizeof dir))
		return NULL;
	store *s = store_open(dir, err, sizeof err);
	if (s == NULL) {
		err_printf("arbiter: %s\n", err);
		return NULL;
	}
	*settings_ok = store_settings(s, c, errs);
	if (*settings_ok && !c->enforcement) {
		err_printf("arbiter: ENFORCEMENT IS DISABLED (config.yaml enforcement.enabled: "
		    "false): every submission is allowed, unless the policy files are tampered\n");
	}
	/* audited by whoever notices first; a reader without the key leaves it,
	 * and a failure here is not the command's */
	if (*settings_ok && access(store_dir(s), W_OK) == 0)
		(void)enforcement_audit(s, c->enforcement, actor_name(a));
	return s;
}

store *open_store(const args *a)
{
	settings c;
	diags errs = { 0 };
	bool ok;
	store *s = open_store_settings(a, &c, &errs, &ok);
	diags_free(&errs);
	return s;
}

store *open_submission(const args *a, const char *id_or_ref, sub_row *r)
{
	store *s = open_store(a);
	if (s == NULL)
		return NULL;
	int found = query_get(s, id_or_ref, r);
	if (found > 0)
		return s;
	if (found == 0)
		err_printf("arbiter: no submission %s\n", id_or_ref);
	else
		err_printf("arbiter: %s\n", store_errmsg(s));
	store_close(s);
	return NULL;
}

const char *actor_name(const args *a)
{
	const char *as = arg_get(a, "--as");
	if (as != NULL)
		return as;
	static char login[256];         /* looked up once per process */
	if (login[0] == '\0') {
		struct passwd *pw = getpwuid(geteuid());
		const char *user = pw != NULL ? pw->pw_name : getenv("USER");
		snprintf(login, sizeof login, "%s", user ? user : "unknown");
	}
	return login;
}

const char *store_policies_tampered(const args *a)
{
	static integrity in;
	if (arg_get(a, "--policies") != NULL)
		return NULL;
	char dir[PATH_MAX], err[768] = "";
	if (!find_store(a, dir, sizeof dir))
		return NULL;
	store *s = store_open(dir, err, sizeof err);
	if (s == NULL)
		return NULL;    /* the command reports it when it opens the store */
	bool ok = integrity_check(s, &in);
	if (!ok)
		err_printf("arbiter: %s\n", store_errmsg(s));
	else if (in.tampered)
		integrity_warn(s, &in, actor_name(a));
	store_close(s);
	return ok && in.tampered ? in.what : NULL;
}

policy_set *read_policies(const args *a, diags *errs)
{
	char dir[PATH_MAX];
	const char *shown;
	if (!policy_dir(a, dir, sizeof dir, &shown))
		return NULL;
	policy_set *ps = policy_set_load(dir, shown, errs);
	if (ps == NULL)
		err_printf("arbiter: %s: cannot read the policy directory\n", dir);
	return ps;
}

policy_set *load_policies(const args *a)
{
	diags errs = { 0 };
	policy_set *ps = read_policies(a, &errs);
	if (ps != NULL && errs.n > 0) {
		diags_print(&errs, stderr);
		err_printf("arbiter: %zu error%s in the policies; nothing was evaluated\n", errs.n,
		    errs.n == 1 ? "" : "s");
		policy_set_free(ps);
		ps = NULL;
	}
	diags_free(&errs);
	return ps;
}

void integrity_warn(store *s, const integrity *in, const char *actor)
{
	err_printf("arbiter: POLICIES TAMPERED: %s (pinned version %d). New submissions are "
	    "blocked and no decision is accepted until an admin runs arbiter policy pin.\n",
	    in->what, in->version);
	if (!integrity_audit_tamper(s, in, actor))
		err_printf("arbiter: cannot audit the tampering: %s\n", store_errmsg(s));
}
