/*
 * verify_checkpoints.c: what audit verify checks of checkpoints, once the
 * chain holds.
 *
 * --checkpoint FILE first: its FILE.minisig must hold under the key of the
 * chain that signed at its seq (the keys followed from the store's first
 * key, or --pubkey's) before a field of it is believed, and the log
 * must extend it. Then every checkpoint in audit.checkpoint_dir, the
 * directory arbiter serve writes them into, the same way; and when the
 * newest (none: the store's beginning) is older than the interval a
 * checkpoint is due by (audit.checkpoint_events, audit.checkpoint_minutes),
 * a warning on stderr, which --strict makes a failure (exit 4). Refusals
 * are one line each on stdout, as audit verify's TAMPERED line is.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The keys checkpoints are judged by: the chain's, followed from --pubkey
 * FILE, else from the store's first key. */
static bool judging_keys(store *s, const args *a, keyring *ring)
{
	unsigned char pk[32], keyid[8];
	char err[512], why[256];
	int64_t bad;
	const char *pubkey = arg_get(a, "--pubkey");
	if (pubkey != NULL && !keys_load_public(pubkey, pk, keyid, err, sizeof err)) {
		err_printf("arbiter: %s\n", err);
		return false;
	}
	int held = keyring_load(s, pubkey ? pk : NULL, pubkey ? keyid : NULL, ring, &bad, why,
	    sizeof why);
	if (held == 1)
		return true;
	if (held == 0)
		keyring_free(ring);
	err_printf("arbiter: %s\n", held < 0 ? store_errmsg(s) : why);
	return false;
}

static int refused_or_error(int verdict, const char *why)
{
	if (verdict < 0) {
		err_printf("arbiter: %s\n", why);
		return EXIT_ERROR;
	}
	out_printf("audit: %s\n", why);
	return EXIT_REFUSED;
}

/* verify_checkpoints under the chain's keys. */
static int judge(store *s, const args *a, const keyring *ring, const verify_result *r)
{
	const char *file = arg_get(a, "--checkpoint");
	char why[4600];
	if (file != NULL) {
		audit_checkpoint cp;
		int v = checkpoint_verify(s, file, ring, r->head_seq, &cp, why, sizeof why);
		if (v != 1)
			return refused_or_error(v, why);
		out_printf("audit: the log extends checkpoint %s (seq %lld)\n", file, (long long)cp.seq);
	}
	settings cfg;
	diags errs = { 0 };
	if (!store_settings(s, &cfg, &errs)) {
		diags_print(&errs, stderr);
		diags_free(&errs);
		return EXIT_ERROR;
	}
	diags_free(&errs);
	checkpoint_scanned scan;
	int v = checkpoint_scan(s, &cfg, ring, r->head_seq, &scan);
	if (v != 1)
		return refused_or_error(v, scan.why);
	if (scan.found > 0)
		out_printf("audit: the log extends the %d checkpoint%s in %s (the newest: seq %lld)\n",
		    scan.found, scan.found == 1 ? "" : "s", scan.dir, (long long)scan.newest.seq);
	if (!scan.stale)
		return EXIT_OK;
	if (arg_has(a, "--strict")) {
		out_printf("audit: STALE: %s\n", scan.why);
		return EXIT_REFUSED;
	}
	err_printf("arbiter: warning: %s\n", scan.why);
	return EXIT_OK;
}

int verify_checkpoints(store *s, const args *a, const verify_result *r)
{
	keyring ring;
	if (!judging_keys(s, a, &ring))
		return EXIT_ERROR;
	int rc = judge(s, a, &ring, r);
	keyring_free(&ring);
	return rc;
}
