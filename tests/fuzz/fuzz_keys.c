/*
 * fuzz_keys.c: libFuzzer target for the key file parsers (data/keys.c).
 *
 * The input is the text of a key file, read both as a public key (audit.pub,
 * or any file given to audit verify --pubkey) and as a secret key
 * (audit.key), within its length and nothing beyond; and as the public key
 * line a key.rotate event names (keys_parse_public_line: what GET /v1/keys
 * hands a client), which must write back as the same line. A key that parses must
 * parse to the same key from the text arbiter writes for it (keys.c's
 * format); a refusal must say why.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_keys, and with replay.c as
 * build/asan/tests/replay_keys for `make test`.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../data/store.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

/* The key file arbiter writes for "Ed" + id + key. */
static size_t key_text(const unsigned char *id, const unsigned char *key, size_t keylen,
    char *out, size_t outlen)
{
	unsigned char raw[2 + 8 + 64];
	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, id, 8);
	memcpy(raw + 10, key, keylen);
	char b64[sodium_base64_ENCODED_LEN(sizeof raw, B64)];
	sodium_bin2base64(b64, sizeof b64, raw, 10 + keylen, B64);
	return (size_t)snprintf(out, outlen, "untrusted comment: a key\n%s\n", b64);
}

static void refused(const char *err)
{
	if (err[0] == '\0' || memchr(err, '\0', 256) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[256] = "", again[256];
	unsigned char pk[32], keyid[8], pk2[32], keyid2[8];
	if (keys_parse_public(text, size, pk, keyid, err, sizeof err)) {
		size_t n = key_text(keyid, pk, sizeof pk, again, sizeof again);
		if (!keys_parse_public(again, n, pk2, keyid2, err, sizeof err) ||
		    memcmp(pk, pk2, sizeof pk) != 0 || memcmp(keyid, keyid2, sizeof keyid) != 0)
			abort();
	} else {
		refused(err);
	}
	if (keys_parse_public_line(text, size, pk, keyid)) {
		char line[57];
		keys_public_line(pk, keyid, line);
		if (!keys_parse_public_line(line, strlen(line), pk2, keyid2) ||
		    memcmp(pk, pk2, sizeof pk) != 0 || memcmp(keyid, keyid2, sizeof keyid) != 0)
			abort();
	}
	keypair kp, kp2;
	err[0] = '\0';
	if (keys_parse_secret(text, size, &kp, err, sizeof err)) {
		/* the public half is the secret key's own */
		if (memcmp(kp.pk, kp.sk + 32, 32) != 0)
			abort();
		size_t n = key_text(kp.keyid, kp.sk, sizeof kp.sk, again, sizeof again);
		if (!keys_parse_secret(again, n, &kp2, err, sizeof err) ||
		    memcmp(&kp, &kp2, sizeof kp) != 0)
			abort();
	} else {
		refused(err);
	}
	return 0;
}
