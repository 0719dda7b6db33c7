/*
 * totp.c: time-based one-time codes (RFC 6238) through liboath.
 *
 * liboath computes the codes (HMAC-SHA-1, 30 s steps); the comparison with
 * what a reviewer typed is ours, so that it is constant-time: every step of
 * the window is computed and compared with sodium_memcmp, whatever matches,
 * and the time taken does not tell which step matched or how many digits
 * were right. The caller gets the matched time step, so that it can refuse
 * a step already used (replay).
 */
#include <liboath/oath.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static bool ready(void)
{
	static int rc = -1;
	if (rc != OATH_OK)
		rc = oath_init();
	return rc == OATH_OK;
}

bool totp_code(const unsigned char *key, size_t keylen, int64_t t, int digits, char *out)
{
	if (!ready() || t < 0 || (digits != 6 && digits != 7 && digits != 8))
		return false;
	return oath_totp_generate2((const char *)key, keylen, (time_t)t, TOTP_STEP, 0, (unsigned)digits,
	    0, out) == OATH_OK;
}

bool totp_match(const unsigned char *key, size_t keylen, int64_t now, int window,
    const char *code, int64_t *step)
{
	char given[TOTP_DIGITS + 1] = { 0 };
	bool well_formed = strlen(code) == TOTP_DIGITS;
	for (size_t i = 0; well_formed && i < TOTP_DIGITS; i++)
		well_formed = code[i] >= '0' && code[i] <= '9';
	if (well_formed)
		memcpy(given, code, TOTP_DIGITS);
	bool found = false;
	int64_t base = now / TOTP_STEP;
	for (int off = -window; off <= window; off++) {
		char want[TOTP_DIGITS + 1];
		int64_t s = base + off;
		if (s < 0)
			continue;       /* before 1970: no such step */
		if (!totp_code(key, keylen, s * TOTP_STEP, TOTP_DIGITS, want))
			return false;
		bool same = sodium_memcmp(want, given, TOTP_DIGITS) == 0;
		if (same && well_formed) {
			found = true;
			*step = s;      /* the latest step that matches */
		}
		sodium_memzero(want, sizeof want);
	}
	sodium_memzero(given, sizeof given);
	return found;
}

bool totp_base32_decode(const char *text, unsigned char *key, size_t keylen)
{
	char *out = NULL;
	size_t outlen = 0;
	bool ok = ready() && oath_base32_decode(text, strlen(text), &out, &outlen) == OATH_OK &&
	    outlen == keylen;
	if (ok)
		memcpy(key, out, keylen);
	if (out != NULL) {
		sodium_memzero(out, outlen);
		free(out);
	}
	return ok;
}

char *totp_base32(const unsigned char *key, size_t keylen)
{
	char *out = NULL;
	size_t outlen;
	if (!ready() || oath_base32_encode((const char *)key, keylen, &out, &outlen) != OATH_OK)
		return NULL;
	/* authenticator apps take the secret without the padding */
	char *pad = strchr(out, '=');
	if (pad != NULL)
		*pad = '\0';
	return out;
}
