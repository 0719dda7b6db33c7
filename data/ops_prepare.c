/*
 * ops_prepare.c: what a change needs before its operation runs.
 *
 * config.yaml's settings, the signing key and, for the changes that
 * evaluate (submit, reevaluate, policy pin), the policy set, each checked
 * against the pinned version as the bytes that were read, so that nothing can
 * be swapped between the check and the use. config.yaml is read once: the
 * front end that opened the store with its settings hands them over
 * (cfg_read), and they are the bytes whose hash is compared with the pin.
 *
 * The policy files are read only once the store is open, after its files'
 * modes and owner were checked: a store that is not its owner's alone is
 * refused before anything in it is read (docs/sharing.md).
 *
 * A store reached through a server needs none of it: the server read and
 * checked all of it when it started (and on SIGHUP), and runs the operation
 * with what it holds. The settings stay the defaults, which nothing reads
 * there: every operation on such a store goes to the server.
 */
#include <stdio.h>
#include <string.h>

#include "remote.h"

void op_prepare_begin(prepared *p)
{
	memset(p, 0, sizeof *p);
	settings_default(&p->cfg);
}

outcome op_prepare(store *s, bool policies, prepared *p, op_reply *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote) {
		/* what the server read, for the command's warning */
		p->version = p->integ.version = s->remote->policy_version;
		p->integ.tampered = s->remote->tampered;
		if (p->integ.tampered)
			snprintf(p->integ.what, sizeof p->integ.what, "%s", s->remote->changed);
		store_settings(s, &p->cfg, &p->cfg_errs);
		return OUT_OK;
	}
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/policies", s->dir);
	bool have_key = store_load_signing_key(s);      /* before the policies: it tags their trees */
	if (policies)
		p->ps = store_policies_load(s, &p->policy_errs);
	bool cfg_ok = p->cfg_read ? p->cfg_ok : store_settings(s, &p->cfg, &p->cfg_errs);
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
	diags_free(&p->cfg_errs);
	diags_free(&p->policy_errs);
	policy_set_free(p->ps);
	p->ps = NULL;
}
