/*
 * verify_checkpoints.c: what audit verify checks of checkpoints, once the
 * chain holds.
 *
 * --checkpoint FILE first: its FILE.minisig must hold under the store's
 * public key (or --pubkey) before a field of it is believed, and the log
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

/* The public key checkpoints are judged by, and its id: --pubkey FILE, else
 * the store's keys/audit.pub. */
static bool judging_key(store *s, const args *a, unsigned char pk[32], unsigned char keyid[8])
{
	char path[4200], err[512];
	const char *pubkey = arg_get(a, "--pubkey");
	if (pubkey == NULL) {
		snprintf(path, sizeof path, "%s/keys/audit.pub", store_dir(s));
		pubkey = path;
	}
	if (keys_load_public(pubkey, pk, keyid, err, sizeof err))
		return true;
	err_printf("arbiter: %s\n", err);
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

int verify_checkpoints(store *s, const args *a, const verify_result *r)
{
	unsigned char pk[32], keyid[8];
	if (!judging_key(s, a, pk, keyid))
		return EXIT_ERROR;
	const char *file = arg_get(a, "--checkpoint");
	char why[4600];
	if (file != NULL) {
		audit_checkpoint cp;
		int v = checkpoint_verify(s, file, pk, keyid, r->head_seq, &cp, why, sizeof why);
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
	int v = checkpoint_scan(s, &cfg, pk, keyid, r->head_seq, &scan);
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
