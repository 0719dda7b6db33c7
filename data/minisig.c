/*
 * minisig.c: reading and checking a minisign signature file (FILE.minisig).
 *
 * A checkpoint is trusted only once its signature holds: audit verify
 * --checkpoint FILE and the checkpoints verify finds read FILE.minisig,
 * which may come from anywhere, so the parser reads hostile text within its
 * length (fuzzed: tests/fuzz/fuzz_minisig.c). The format is minisign's, as
 * keys_sign_file writes it:
 *
 *     untrusted comment: <anything>
 *     base64("ED" or "Ed", key id (8 bytes), Ed25519 signature (64 bytes))
 *     trusted comment: <text>
 *     base64(global signature (64 bytes))
 *
 * "ED" signs the file's BLAKE2b-512 (what arbiter and minisign write),
 * "Ed" the file itself (minisign's legacy form). The global signature
 * covers the signature and the trusted comment, so neither can be swapped.
 * Lines may end in CR LF; a trusted comment holds no control character. The
 * key id only names the key for the message:
 * what decides is the signature under the public key.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

/* The next line of [*p, end): its start and length without CR LF; false at
 * the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	*line = *p;
	*len = (size_t)(stop - *p);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	*p = nl ? nl + 1 : end;
	return true;
}

static bool prefixed(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(line, prefix, n) == 0;
}

/* Whether a trusted comment holds no control character (a stray CR, a NUL):
 * it must read back as it was signed, on a line of its own. */
static bool printable(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] < 0x20 && text[i] != '\t') || text[i] == 0x7f)
			return false;
	return true;
}

static bool base64_exact(const char *line, size_t len, unsigned char *out, size_t want)
{
	size_t got = 0;
	return sodium_base642bin(out, want, line, len, NULL, &got, NULL, B64) == 0 && got == want;
}

bool minisig_parse(const char *text, size_t len, minisign_signature *out, char *why,
    size_t whylen)
{
	const char *p = text, *end = text + len, *line;
	size_t n;
	unsigned char blob[74];
	memset(out, 0, sizeof *out);
	if (!next_line(&p, end, &line, &n) || !prefixed(line, n, "untrusted comment: ")) {
		snprintf(why, whylen, "not a minisign signature (no untrusted comment line)");
		return false;
	}
	if (!next_line(&p, end, &line, &n) || !base64_exact(line, n, blob, sizeof blob) ||
	    blob[0] != 'E' || (blob[1] != 'D' && blob[1] != 'd')) {
		snprintf(why, whylen, "not a minisign signature (no Ed25519 signature line)");
		return false;
	}
	out->prehashed = blob[1] == 'D';
	memcpy(out->keyid, blob + 2, 8);
	memcpy(out->sig, blob + 10, 64);
	const char *tc = "trusted comment: ";
	if (!next_line(&p, end, &line, &n) || !prefixed(line, n, tc) ||
	    n - strlen(tc) >= sizeof out->comment || !printable(line, n)) {
		snprintf(why, whylen, "not a minisign signature (no trusted comment line)");
		return false;
	}
	memcpy(out->comment, line + strlen(tc), n - strlen(tc));
	out->comment[n - strlen(tc)] = '\0';
	if (!next_line(&p, end, &line, &n) || !base64_exact(line, n, out->global, 64)) {
		snprintf(why, whylen, "not a minisign signature (no global signature line)");
		return false;
	}
	return true;
}

bool minisig_check(const minisign_signature *m, const unsigned char *data, size_t len,
    const unsigned char pk[32], const unsigned char keyid[8], char *why, size_t whylen)
{
	char theirs[17], ours[17];
	keys_id_hex(m->keyid, theirs);
	keys_id_hex(keyid, ours);
	bool other = memcmp(m->keyid, keyid, 8) != 0;
	unsigned char digest[crypto_generichash_BYTES_MAX];
	const unsigned char *msg = data;
	size_t mlen = len;
	if (m->prehashed) {
		crypto_generichash(digest, sizeof digest, data, len, NULL, 0);
		msg = digest;
		mlen = sizeof digest;
	}
	if (crypto_sign_verify_detached(m->sig, msg, mlen, pk) != 0) {
		if (other)
			snprintf(why, whylen, "signed by another key (key id %s, not %s)", theirs, ours);
		else
			snprintf(why, whylen, "its signature does not match its contents (edited after "
			    "it was signed)");
		return false;
	}
	size_t clen = strlen(m->comment);
	unsigned char global[64 + sizeof m->comment];
	memcpy(global, m->sig, 64);
	memcpy(global + 64, m->comment, clen);
	if (crypto_sign_verify_detached(m->global, global, 64 + clen, pk) != 0) {
		snprintf(why, whylen, "its trusted comment was edited after it was signed");
		return false;
	}
	return true;
}
