/*
 * ops_prepare.c: what a change needs before its operation runs.
 *
 * config.yaml's settings, the signing key and, for the changes that
 * evaluate (submit, reevaluate, policy pin), the policy set, each checked
 * against the pinned version as the bytes that were read, so that nothing can
 * be swapped between the check and the use.
 *
 * Reading the policy set is the longest part of a one-document submit (about
 * 1.1 ms for the example policies here, libyaml most of it), and it needs
 * nothing but the store's directory: op_prepare_begin starts it on a second
 * thread as soon as the front end knows that directory, before the store is
 * opened, and op_prepare takes what it read (or reads it then, when nothing
 * was begun). Opening the store, reading config.yaml and the key take about
 * as long on the first thread, so the two mostly overlap. What the thread
 * read is only used once the store it belongs to is open and the bytes are
 * checked against its pin; a store that turns out to be served, or another
 * directory, discards it.
 *
 * A store reached through a server needs none of it: the server read and
 * checked all of it when it started (and on SIGHUP), and runs the operation
 * with what it holds. The settings stay the defaults, which nothing reads
 * there: every operation on such a store goes to the server.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

struct prepared_loading {
	char dir[PATH_MAX + 16];        /* the store's directory */
	char policies[PATH_MAX + 32];   /* and its policies/ */
	pthread_t thread;
	bool threaded;
	diags errs;
	policy_set *ps;
};

static void *load_set(void *ctx)
{
	prepared_loading *l = ctx;
	l->ps = policy_set_load(l->policies, "policies", &l->errs);
	return NULL;
}

/* Starts reading DIR's policy set, on a thread when one can be had. */
static prepared_loading *loading_start(const char *dir)
{
	prepared_loading *l = calloc(1, sizeof *l);
	if (l == NULL)
		abort();
	snprintf(l->dir, sizeof l->dir, "%s", dir);
	snprintf(l->policies, sizeof l->policies, "%s/policies", dir);
	l->threaded = pthread_create(&l->thread, NULL, load_set, l) == 0;
	if (!l->threaded)
		load_set(l);
	return l;
}

/* Waits for the reading to end; the set and its errors stay in l. */
static void loading_join(prepared_loading *l)
{
	if (l->threaded)
		pthread_join(l->thread, NULL);
	l->threaded = false;
}

static void loading_free(prepared_loading *l)
{
	if (l == NULL)
		return;
	loading_join(l);
	policy_set_free(l->ps);
	diags_free(&l->errs);
	free(l);
}

void op_prepare_begin(prepared *p, const char *store_dir)
{
	memset(p, 0, sizeof *p);
	settings_default(&p->cfg);
	if (store_dir != NULL)
		p->loading = loading_start(store_dir);
}

outcome op_prepare(store *s, bool policies, prepared *p, op_reply *r)
{
	memset(r, 0, sizeof *r);
	prepared_loading *l = p->loading;
	p->loading = NULL;
	if (s->remote || !policies || (l != NULL && strcmp(l->dir, s->dir) != 0)) {
		loading_free(l);        /* not this store's, or not needed */
		l = NULL;
	}
	if (s->remote) {
		/* what the server read, for the command's warning */
		p->version = p->integ.version = s->remote->policy_version;
		p->integ.tampered = s->remote->tampered;
		if (p->integ.tampered)
			snprintf(p->integ.what, sizeof p->integ.what, "%s", s->remote->changed);
		store_settings(s, &p->cfg, &p->cfg_errs);
		return OUT_OK;
	}
	if (policies && l == NULL)
		l = loading_start(s->dir);
	bool cfg_ok = p->cfg_read ? p->cfg_ok : store_settings(s, &p->cfg, &p->cfg_errs);
	bool have_key = store_load_signing_key(s);    /* while the policies are read */
	if (l != NULL) {
		loading_join(l);
		p->ps = l->ps;
		p->policy_errs = l->errs;
		l->ps = NULL;
		memset(&l->errs, 0, sizeof l->errs);
	}
	char dir[sizeof l->policies] = "";
	if (l != NULL)
		snprintf(dir, sizeof dir, "%s", l->policies);
	loading_free(l);
	if ((policies && (p->ps == NULL || p->policy_errs.n > 0)) || !cfg_ok) {
		if (policies && p->ps == NULL && p->policy_errs.n == 0)
			diags_add(&p->policy_errs, dir, 0, 0, "cannot read the policy directory");
		return op_say(r, OUT_BAD_INPUT, "%s", policies ? "the store's policies or config have "
		    "errors" : "config.yaml has errors");
	}
	if (!have_key || !integrity_check_loaded(s, p->ps, &p->cfg, &p->integ))
		return op_say(r, OUT_IO_ERROR, "%s", s->err);
	if (p->integ.tampered)
		settings_clamp(&p->cfg);        /* an unpinned config.yaml loosens nothing */
	p->version = store_policy_version(s);
	return OUT_OK;
}

void prepared_free(prepared *p)
{
	loading_free(p->loading);
	p->loading = NULL;
	diags_free(&p->cfg_errs);
	diags_free(&p->policy_errs);
	policy_set_free(p->ps);
	p->ps = NULL;
}
