/*
 * sha256.c: SHA-256 of documents, through OpenSSL's libcrypto.
 *
 * Every submission is hashed twice (its content hash and its digest), so
 * the hash is on the hot path of eval and submit. libcrypto runs SHA-256 on
 * the CPU's SHA instructions where it has them (SHA-NI): 0.5 us for a
 * typical document here against 2.8 us for libsodium's portable code, which
 * stays in use for everything that is not a document. The low-level
 * SHA256_* calls are OpenSSL 3's deprecated ones: the EVP interface costs a
 * third more per call for the same result.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "engine.h"

void sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}
