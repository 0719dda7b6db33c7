/*
 * secret.c: the cryptographic library's start-up, random bytes and wiping
 * secrets, so that front ends never call libsodium themselves.
 */
#include <sodium.h>

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
