/*
 * fuzz_checkpoint.c: libFuzzer target for the checkpoint parser
 * (audit_checkpoint_parse, data/checkpoints.c), which audit verify
 * --checkpoint runs over a file from anywhere.
 *
 * The input is a checkpoint file's text, read within its length. What
 * parses must be a checkpoint arbiter could have written (a 32-digit store
 * id, a seq of at least 1, a 64-digit hash, all lower-case hex), and must
 * parse to the same values from the text audit_write_checkpoint writes
 * for them.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_checkpoint, and with
 * replay.c as build/asan/tests/replay_checkpoint for `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../data/store.h"

static bool hex_of(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	audit_checkpoint cp, again;
	if (!audit_checkpoint_parse((const char *)data, size, &cp))
		return 0;
	if (!hex_of(cp.store, 32) || !hex_of(cp.hash, 64) || cp.seq < 1)
		abort();
	char text[256];
	int n = snprintf(text, sizeof text, "arbiter audit checkpoint\nstore: %s\nseq: %lld\n"
	    "hash: %s\ntime: 2030-01-01T00:00:00.000Z\n", cp.store, (long long)cp.seq, cp.hash);
	if (n < 0 || (size_t)n >= sizeof text || !audit_checkpoint_parse(text, (size_t)n, &again) ||
	    strcmp(cp.store, again.store) != 0 || cp.seq != again.seq ||
	    strcmp(cp.hash, again.hash) != 0)
		abort();
	return 0;
}
