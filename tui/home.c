/*
 * home.c: finding the store, its policies, and the server that owns it.
 *
 * The store is --home DIR, else $ARBITER_HOME, else the nearest store in the
 * current directory or its parents (like git). DIR may be the store
 * directory itself or a directory that contains a .arbiter/ one. A store
 * directory is recognised by its name, .arbiter, or, under any other name
 * (a backup copied to backup-1/), by what every store holds: arbiter.db,
 * config.yaml and policies/. A directory named .arbiter is taken as a store
 * even when something is missing from it, so that opening it says what is
 * wrong rather than that there is no store.
 *
 * While arbiter serve runs on a store it alone opens it, and a command goes
 * through it (PRODUCT.md section 9, Finding the server): the server is
 * --server URL, else $ARBITER_SERVER, else server: in client.conf, else the
 * store's own socket (.arbiter/arbiter.sock, or server.socket) when a server
 * answers there and the socket is the caller's own, served by the caller's
 * own uid; else the command opens the store itself. open_store gives either
 * kind of store, and the commands use both alike. With the store's public
 * key (--pubkey FILE, $ARBITER_PUBKEY, or client.conf's pubkey: beside its
 * server:) a store reached through a server checks the signed events behind
 * every allow itself, so that a server that lies cannot make one. A server named on purpose
 * must answer: one that does not is an error, never a quiet fallback to the
 * files. Local-only commands (init, eval without a store, policy check,
 * audit verify) and the console open the files with open_local_store.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"
#include "../data/client.h"

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether dir/name exists and is a directory (want_dir) or a regular file. */
static bool holds(const char *dir, const char *name, bool want_dir)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 &&
	    (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/* Whether dir is named .arbiter (trailing slashes aside). */
static bool named_arbiter(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && dir[start - 1] != '/')
		start--;
	return n - start == 8 && memcmp(dir + start, ".arbiter", 8) == 0;
}

/* DIR itself when it is a store directory, else DIR/.arbiter when there is
 * one. */
static bool store_at(const char *dir, char *out, size_t len)
{
	if ((named_arbiter(dir) && is_dir(dir)) || (holds(dir, "arbiter.db", false) &&
	    holds(dir, "config.yaml", false) && holds(dir, "policies", true))) {
		snprintf(out, len, "%s", dir);
		return true;
	}
	if (holds(dir, ".arbiter", true)) {
		snprintf(out, len, "%s%s.arbiter", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
		return true;
	}
	return false;
}

/* --home, else $ARBITER_HOME; NULL when neither is given. */
static const char *home_given(const args *a)
{
	const char *home = arg_get(a, "--home");
	if (home == NULL)
		home = getenv("ARBITER_HOME");
	return home != NULL && *home != '\0' ? home : NULL;
}

/* The one line for a store that is not there; hint follows "arbiter init". */
static void say_no_store(const args *a, const char *hint)
{
	const char *home = home_given(a);
	if (home != NULL)
		err_printf("arbiter: no store found at %s: it holds neither a store's arbiter.db, "
		    "config.yaml and policies/ nor a .arbiter directory (create one with arbiter "
		    "init%s)\n", home, hint);
	else
		err_printf("arbiter: no store found here or above (create one with arbiter init%s)\n",
		    hint);
}

bool find_store(const args *a, char *out, size_t len)
{
	const char *home = home_given(a);
	if (home != NULL)
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
	char home_dir[PATH_MAX], err[768];
	if (!find_store(a, home_dir, sizeof home_dir)) {
		say_no_store(a, ", or give --policies DIR");
		return false;
	}
	/* the store's policies are read as its files are: only from a store
	 * that is its owner's alone (eval, policy check and list open no store) */
	if (!store_private(home_dir, err, sizeof err)) {
		err_printf("arbiter: %s\n", err);
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
	say_no_store(a, "");
	return false;
}

/* ---- the server ---- */

/* What names the server and how to trust it, kept while the command runs. */
typedef struct server_named {
	char server[PATH_MAX + 8], server_user[64], tls_pin[128];
	char pubkey[PATH_MAX];          /* the store's first public key; "" none */
	char token[CLIENT_TOKEN_MAX + 1];
	bool have_token;
} server_named;

/* The token: --token-file FILE, else $ARBITER_TOKEN. false (said) when the
 * file cannot be read. */
static bool read_token(const args *a, server_named *n)
{
	const char *file = arg_get(a, "--token-file"), *env = getenv("ARBITER_TOKEN");
	char err[512];
	if (file != NULL) {
		if (!client_token_read(file, n->token, sizeof n->token, err, sizeof err)) {
			err_printf("arbiter: %s\n", err);
			return false;
		}
		n->have_token = true;
	} else if (env != NULL && *env != '\0') {
		snprintf(n->token, sizeof n->token, "%s", env);
		n->have_token = true;
	}
	return true;
}

/* A server named on purpose: 1 named (into n), 0 none, -1 refused (said). */
static int server_given(const args *a, server_named *n)
{
	const char *url = arg_get(a, "--server");
	if (url == NULL) {
		const char *env = getenv("ARBITER_SERVER");
		url = env != NULL && *env != '\0' ? env : NULL;
	}
	if (url != NULL) {
		snprintf(n->server, sizeof n->server, "%s", url);
		return 1;
	}
	client_conf conf;
	char err[1024];
	int read = client_conf_read(&conf, err, sizeof err);
	if (read < 0) {
		err_printf("arbiter: %s\n", err);
		return -1;
	}
	if (read == 0 || conf.server[0] == '\0')
		return 0;
	snprintf(n->server, sizeof n->server, "%s", conf.server);
	snprintf(n->server_user, sizeof n->server_user, "%s", conf.server_user);
	snprintf(n->tls_pin, sizeof n->tls_pin, "%s", conf.tls_pin);
	snprintf(n->pubkey, sizeof n->pubkey, "%s", conf.pubkey);
	return 1;
}

/* The public key that checks the server's allows: --pubkey FILE, else
 * $ARBITER_PUBKEY, else client.conf's when the server is client.conf's. */
static void pubkey_given(const args *a, server_named *n)
{
	const char *file = arg_get(a, "--pubkey"), *env = getenv("ARBITER_PUBKEY");
	if (file == NULL && env != NULL && *env != '\0')
		file = env;
	if (file != NULL)
		snprintf(n->pubkey, sizeof n->pubkey, "%s", file);
}

/* The store's own socket, when it is there and the caller's: 1 (into n),
 * 0 none. */
static int server_of_store(const args *a, server_named *n)
{
	char dir[PATH_MAX];
	if (!find_store(a, dir, sizeof dir))
		return 0;
	settings cfg;
	diags errs = { 0 };
	settings_read(dir, &cfg, &errs);        /* a config with errors: the default socket */
	diags_free(&errs);
	char sock[PATH_MAX + 32], real[PATH_MAX];
	if (cfg.socket[0] != '\0')
		snprintf(sock, sizeof sock, "%s", cfg.socket);
	else
		snprintf(sock, sizeof sock, "%s/arbiter.sock", dir);
	struct stat st;
	if (lstat(sock, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    realpath(sock, real) == NULL)
		return 0;
	snprintf(n->server, sizeof n->server, "unix:%s", real);
	/* and the server behind it must be the caller's own uid too */
	snprintf(n->server_user, sizeof n->server_user, "%u", (unsigned)geteuid());
	return 1;
}

/* The server's store when there is a server for this command: 1 with *out
 * set, 0 none (open the files), -1 a server that was named or found but
 * cannot be used (said). */
static int connect_server(const args *a, store **out)
{
	*out = NULL;
	server_named n = { 0 };
	int given = server_given(a, &n);
	if (given < 0)
		return -1;
	if (given == 0 && server_of_store(a, &n) == 0)
		return 0;
	if (!read_token(a, &n))
		return -1;
	pubkey_given(a, &n);
	client_options o = { .server = n.server, .token = n.have_token ? n.token : NULL,
		.server_user = n.server_user[0] ? n.server_user : NULL,
		.tls_pin = n.tls_pin[0] ? n.tls_pin : NULL, .pubkey = n.pubkey[0] ? n.pubkey : NULL };
	char err[1024];
	bool silent;
	*out = store_connect(&o, &silent, err, sizeof err);
	client_wipe(n.token, sizeof n.token);
	if (*out != NULL)
		return 1;
	if (given == 0 && silent)
		return 0;       /* a socket left behind by a server that is gone */
	err_printf("arbiter: %s\n", err);
	return -1;
}

/* ---- opening ---- */

static void warn_enforcement(void)
{
	err_printf("arbiter: ENFORCEMENT IS DISABLED (config.yaml enforcement.enabled: false): "
	    "every submission is allowed, unless the policy files are tampered\n");
}

/* The store's files, opened here, and config.yaml's settings. */
static store *open_local_settings(const args *a, settings *c, diags *errs, bool *settings_ok)
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
	if (*settings_ok && !c->enforcement)
		warn_enforcement();
	/* audited by whoever notices first; a reader without the key leaves it,
	 * and a failure here is not the command's */
	if (*settings_ok && access(store_dir(s), W_OK) == 0)
		(void)enforcement_audit(s, c->enforcement, actor_name(a));
	return s;
}

store *open_store_settings(const args *a, settings *c, diags *errs, bool *settings_ok)
{
	store *s;
	int served = connect_server(a, &s);
	if (served < 0) {
		*settings_ok = false;
		return NULL;
	}
	if (served == 0)
		return open_local_settings(a, c, errs, settings_ok);
	/* the server read config.yaml and holds it: what it says of it */
	*settings_ok = store_settings(s, c, errs);
	if (*settings_ok && !c->enforcement)
		warn_enforcement();
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

store *open_store_prepared(const args *a, prepared *p)
{
	op_prepare_begin(p);
	store *s = open_store_settings(a, &p->cfg, &p->cfg_errs, &p->cfg_ok);
	if (s == NULL) {
		prepared_free(p);
		return NULL;
	}
	p->cfg_read = true;
	return s;
}

store *open_local_store(const args *a)
{
	settings c;
	diags errs = { 0 };
	bool ok;
	store *s = open_local_settings(a, &c, &errs, &ok);
	diags_free(&errs);
	return s;
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

const char *actor_of(const args *a, const store *s)
{
	if (arg_get(a, "--as") == NULL && s != NULL && store_caller(s) != NULL)
		return store_caller(s);
	return actor_name(a);
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
