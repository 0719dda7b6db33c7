/*
 * fuzz_minisig.c: libFuzzer target for the minisign signature parser
 * (minisig_parse, data/minisig.c), which audit verify runs over the
 * FILE.minisig of every checkpoint it is given or finds.
 *
 * The input is a signature file's text, read within its length. What
 * parses must hold no control character in its trusted comment and must
 * parse to the same signature from the text keys_sign_file writes for it
 * (the same lines, CR LF or not); a refusal must say why. A signature that
 * parses is then checked against a fixed key and the input itself as the
 * signed file, which must refuse it (the fuzzer cannot forge Ed25519).
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_minisig, and with
 * replay.c as build/asan/tests/replay_minisig for `make test`.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../data/store.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	minisign_signature m, again;
	char why[256] = "";
	if (!minisig_parse((const char *)data, size, &m, why, sizeof why)) {
		if (why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL)
			abort();
		return 0;
	}
	if (memchr(m.comment, '\0', sizeof m.comment) == NULL)
		abort();
	for (const char *c = m.comment; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			abort();
	unsigned char blob[74];
	memcpy(blob, m.prehashed ? "ED" : "Ed", 2);
	memcpy(blob + 2, m.keyid, 8);
	memcpy(blob + 10, m.sig, 64);
	char b64sig[sodium_base64_ENCODED_LEN(74, B64)], b64global[sodium_base64_ENCODED_LEN(64, B64)];
	sodium_bin2base64(b64sig, sizeof b64sig, blob, sizeof blob, B64);
	sodium_bin2base64(b64global, sizeof b64global, m.global, 64, B64);
	char text[1400];
	int n = snprintf(text, sizeof text, "untrusted comment: again\n%s\ntrusted comment: %s\n%s\n",
	    b64sig, m.comment, b64global);
	if (n < 0 || (size_t)n >= sizeof text || !minisig_parse(text, (size_t)n, &again, why,
	    sizeof why) || memcmp(&m, &again, sizeof m) != 0)
		abort();
	static unsigned char pk[32], sk[64];
	static bool keyed;
	if (!keyed) {
		unsigned char seed[32] = { 1 };
		crypto_sign_seed_keypair(pk, sk, seed);
		keyed = true;
	}
	unsigned char keyid[8] = { 0 };
	if (minisig_check(&m, data, size, pk, keyid, why, sizeof why))
		abort();
	return 0;
}
