/*
 * secret.c: the cryptographic library's start-up, random bytes, wiping
 * secrets, hashing and comparing them, and the encodings they travel in, so
 * that front ends never call libsodium themselves.
 */
#include <sodium.h>
#include <stdlib.h>

#include "engine.h"

bool secrets_init(void)
{
	return sodium_init() >= 0;
}

void secret_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void secret_wipe(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

void secret_hash(const void *buf, size_t len, unsigned char out[32])
{
	crypto_hash_sha256(out, buf, len);
}

bool secret_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

void secret_hex(const unsigned char *buf, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, buf, len);
}

char *text_base64(const void *buf, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);
	if (out == NULL)
		abort();
	sodium_bin2base64(out, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}
