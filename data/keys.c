/*
 * keys.c: the audit key pair, in minisign's formats.
 *
 * keys/audit.pub is a minisign public key ("Ed" + key id + Ed25519 public
 * key, base64), so that anyone can check exports and checkpoints with the
 * stock tool: `minisign -Vm FILE -p audit.pub`. keys/audit.key holds the
 * secret key the same way (not encrypted: the file is 0600 and the process
 * signs unattended). Signatures use minisign's prehashed form ("ED": the
 * Ed25519 signature of the file's BLAKE2b-512), with the global signature
 * over the signature and the trusted comment.
 *
 * Every key stays in keys/ as long as the store: keys/audit-1.pub is the
 * first (written by init; audit verify starts from it), and a rotation
 * keeps the key it retires as keys/audit-KEYID.pub (ops_keys.c,
 * keys_settle.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

void keys_id_hex(const unsigned char keyid[8], char out[17])
{
	/* minisign shows the id as a little-endian 64-bit number */
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02X", keyid[7 - i]);
}

static bool write_secret_file(const char *path, const char *text, mode_t mode, char *err,
    size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	size_t len = strlen(text);
	bool ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return ok;
}

void keys_public_line(const unsigned char pk[32], const unsigned char keyid[8], char out[57])
{
	unsigned char pub[2 + 8 + 32];
	memcpy(pub, "Ed", 2);
	memcpy(pub + 2, keyid, 8);
	memcpy(pub + 10, pk, 32);
	sodium_bin2base64(out, 57, pub, sizeof pub, B64);
}

bool keys_write_public(const char *path, const unsigned char pk[32],
    const unsigned char keyid[8], char *err, size_t errlen)
{
	char id[17], line[57], text[256];
	keys_id_hex(keyid, id);
	keys_public_line(pk, keyid, line);
	snprintf(text, sizeof text, "untrusted comment: minisign public key %s\n%s\n", id, line);
	return write_secret_file(path, text, 0644, err, errlen);
}

bool keys_write_pair(const char *dir, const char *suffix, keypair *kp, char *err, size_t errlen)
{
	crypto_sign_keypair(kp->pk, kp->sk);
	randombytes_buf(kp->keyid, sizeof kp->keyid);
	char id[17];
	keys_id_hex(kp->keyid, id);
	unsigned char sec[2 + 8 + 64];
	memcpy(sec, "Ed", 2);
	memcpy(sec + 2, kp->keyid, 8);
	memcpy(sec + 10, kp->sk, 64);
	char b64sec[sodium_base64_ENCODED_LEN(sizeof sec, B64)];
	sodium_bin2base64(b64sec, sizeof b64sec, sec, sizeof sec, B64);
	char path[PATH_MAX + 32], text[512];
	snprintf(path, sizeof path, "%s/keys/audit.key%s", dir, suffix);
	snprintf(text, sizeof text, "untrusted comment: arbiter audit secret key %s (keep private)\n%s\n",
	    id, b64sec);
	bool ok = write_secret_file(path, text, 0600, err, errlen);
	if (ok) {
		snprintf(path, sizeof path, "%s/keys/audit.pub%s", dir, suffix);
		ok = keys_write_public(path, kp->pk, kp->keyid, err, errlen);
	}
	sodium_memzero(sec, sizeof sec);
	sodium_memzero(b64sec, sizeof b64sec);
	sodium_memzero(text, sizeof text);
	return ok;
}

bool keys_generate(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/keys", dir);
	if ((mkdir(path, 0700) != 0 && errno != EEXIST) || chmod(path, 0700) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return false;
	}
	keypair kp;
	bool ok = keys_write_pair(dir, "", &kp, err, errlen);
	/* the first key, kept under its own name through every rotation: the
	 * key audit verify starts from (keyring.c) */
	snprintf(path, sizeof path, "%s/keys/" KEYS_FIRST, dir);
	ok = ok && keys_write_public(path, kp.pk, kp.keyid, err, errlen);
	sodium_memzero(&kp, sizeof kp);
	return ok;
}

/* The base64 line (the second) of a minisign-style key file's text, decoded
 * into exactly want bytes. The text is hostile (any --pubkey FILE; fuzzed):
 * it is read within len, NUL bytes and all. */
static bool key_line(const char *text, size_t len, unsigned char *out, size_t want)
{
	const char *nl = memchr(text, '\n', len);
	if (nl == NULL)
		return false;
	const char *line = nl + 1, *end = text + len;
	const char *stop = line;
	while (stop < end && *stop != '\r' && *stop != '\n')
		stop++;
	size_t got = 0;
	return sodium_base642bin(out, want, line, (size_t)(stop - line), NULL, &got, NULL, B64) == 0 &&
	    got == want;
}

bool keys_parse_public(const char *text, size_t len, unsigned char pk[32],
    unsigned char keyid[8], char *err, size_t errlen)
{
	unsigned char raw[42];
	if (!key_line(text, len, raw, sizeof raw)) {
		snprintf(err, errlen, "not a key in minisign's format");
		return false;
	}
	if (memcmp(raw, "Ed", 2) != 0) {
		snprintf(err, errlen, "not an Ed25519 minisign public key");
		return false;
	}
	memcpy(keyid, raw + 2, 8);
	memcpy(pk, raw + 10, 32);
	return true;
}

bool keys_parse_public_line(const char *line, size_t len, unsigned char pk[32],
    unsigned char keyid[8])
{
	unsigned char raw[42];
	size_t got = 0;
	if (sodium_base642bin(raw, sizeof raw, line, len, NULL, &got, NULL, B64) != 0 ||
	    got != sizeof raw || memcmp(raw, "Ed", 2) != 0)
		return false;
	memcpy(keyid, raw + 2, 8);
	memcpy(pk, raw + 10, 32);
	return true;
}

bool keys_parse_secret(const char *text, size_t len, keypair *kp, char *err, size_t errlen)
{
	unsigned char raw[74];
	bool ok = key_line(text, len, raw, sizeof raw);
	if (!ok)
		snprintf(err, errlen, "not a key in minisign's format");
	else if (!(ok = memcmp(raw, "Ed", 2) == 0))
		snprintf(err, errlen, "not an Ed25519 secret key");
	if (ok) {
		memcpy(kp->keyid, raw + 2, 8);
		memcpy(kp->sk, raw + 10, 64);
		crypto_sign_ed25519_sk_to_pk(kp->pk, kp->sk);
	}
	sodium_memzero(raw, sizeof raw);
	return ok;
}

/* Reads the key file at path and parses it with the parser of its kind;
 * errors are prefixed with the path. */
static bool load_key(const char *path, bool secret, unsigned char pk[32], unsigned char keyid[8],
    keypair *kp, char *err, size_t errlen)
{
	size_t len;
	char why[256];
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return false;
	}
	bool ok = secret ? keys_parse_secret(text, len, kp, why, sizeof why) :
	    keys_parse_public(text, len, pk, keyid, why, sizeof why);
	sodium_memzero(text, len);
	free(text);
	if (!ok)
		snprintf(err, errlen, "%s: %s", path, why);
	return ok;
}

bool keys_load_public(const char *path, unsigned char pk[32], unsigned char keyid[8], char *err,
    size_t errlen)
{
	return load_key(path, false, pk, keyid, NULL, err, errlen);
}

bool keys_load_secret(const char *dir, keypair *kp, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/keys/audit.key", dir);
	return load_key(path, true, NULL, NULL, kp, err, errlen);
}

bool keys_sign_file(const keypair *kp, const char *path, const char *trusted_comment, char *err,
    size_t errlen)
{
	/* hashed as it is read: an export of a long log need not fit in memory */
	FILE *in = fopen(path, "rb");
	if (in == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	unsigned char digest[crypto_generichash_BYTES_MAX], buf[65536];
	crypto_generichash_state hs;
	crypto_generichash_init(&hs, NULL, 0, sizeof digest);
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, in)) > 0)
		crypto_generichash_update(&hs, buf, got);
	bool bad = ferror(in) != 0;
	int saved = errno;
	fclose(in);
	if (bad) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(saved));
		return false;
	}
	crypto_generichash_final(&hs, digest, sizeof digest);
	unsigned char sigblob[2 + 8 + 64];
	memcpy(sigblob, "ED", 2);
	memcpy(sigblob + 2, kp->keyid, 8);
	crypto_sign_detached(sigblob + 10, NULL, digest, sizeof digest, kp->sk);
	/* the global signature covers the signature and the trusted comment */
	size_t clen = strlen(trusted_comment);
	unsigned char *global_msg = malloc(64 + clen);
	if (global_msg == NULL)
		abort();
	memcpy(global_msg, sigblob + 10, 64);
	memcpy(global_msg + 64, trusted_comment, clen);
	unsigned char global[64];
	crypto_sign_detached(global, NULL, global_msg, 64 + clen, kp->sk);
	free(global_msg);

	char b64sig[sodium_base64_ENCODED_LEN(sizeof sigblob, B64)];
	char b64global[sodium_base64_ENCODED_LEN(sizeof global, B64)];
	sodium_bin2base64(b64sig, sizeof b64sig, sigblob, sizeof sigblob, B64);
	sodium_bin2base64(b64global, sizeof b64global, global, sizeof global, B64);
	char sigpath[PATH_MAX + 16];
	snprintf(sigpath, sizeof sigpath, "%s.minisig", path);
	FILE *f = fopen(sigpath, "w");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", sigpath, strerror(errno));
		return false;
	}
	fprintf(f, "untrusted comment: signature from arbiter audit key\n%s\ntrusted comment: %s\n%s\n",
	    b64sig, trusted_comment, b64global);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", sigpath, strerror(errno));
		return false;
	}
	return true;
}
