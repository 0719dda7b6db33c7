/*
 * policy_trees.c: the store keeps its policy files' parsed trees.
 *
 * Loading a policy set was mostly libyaml reading the files (about 1 ms of
 * a 5 to 6 ms one-document submit). policies.cache in the store directory
 * holds each file's tree (engine/doc_tree.c) under the SHA-256 of the file's
 * bytes, so a command reads and hashes the files as before and reads the
 * trees back instead of parsing them. A file whose bytes change has another
 * hash and is parsed again; the cache is written anew, with the trees in use
 * only, whenever a file was parsed.
 *
 * A tree decides what a rule does, so the cache is authenticated: a keyed
 * BLAKE2b (crypto_generichash) over everything after the tag, with a key
 * derived from the store's signing key (crypto_kdf, its own context), which
 * every process that evaluates holds and no agent does, and from what the
 * trees depend on (doc_tree_format: the record's format, arbiter's and
 * libyaml's versions), so that an upgrade never reads trees an older reader
 * made. A cache that anyone without the key changed, one written under a
 * rotated key or by another version, a torn write or a file that is not a
 * cache at all fails the check in constant time and is ignored: every file
 * is parsed and the cache written again by the next process that holds the
 * key. Nothing here is an error a command reports; at worst the set loads at
 * libyaml's speed.
 *
 * The file: "arbiter-policy-trees 1\n", the 32-byte tag, then per file its
 * SHA-256, the tree's length (4 bytes, little-endian) and the tree. Written
 * as users.oath is (private_file_replace).
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

#define TREES_FILE "policies.cache"
#define TREES_MAGIC "arbiter-policy-trees 1\n"
enum { MAGIC_LEN = sizeof TREES_MAGIC - 1, TAG_LEN = 32, HEAD_LEN = MAGIC_LEN + TAG_LEN,
	MAX_TREES_BYTES = 64 << 20 };

typedef struct tree_entry {
	const unsigned char *sha;       /* 32 bytes */
	const unsigned char *tree;
	size_t len;
	bool used;
} tree_entry;

typedef struct trees_cache {
	unsigned char key[32];
	unsigned char *bytes;           /* the file as read (NULL: none, or refused) */
	tree_entry *entries;
	size_t n;
	strbuf fresh;                   /* entries of the trees parsed now */
	bool parsed;
} trees_cache;

void policy_trees_key(const store *s, const char *format, unsigned char key[32])
{
	/* the Ed25519 secret key's first half is its seed */
	unsigned char sub[32];
	crypto_kdf_derive_from_key(sub, sizeof sub, 1, "polcache", s->sk);
	crypto_generichash(key, 32, (const unsigned char *)format, strlen(format), sub, sizeof sub);
	sodium_memzero(sub, sizeof sub);
}

static void tag_of(const unsigned char key[32], const void *body, size_t len,
    unsigned char tag[TAG_LEN])
{
	crypto_generichash(tag, TAG_LEN, body, len, key, 32);
}

/* The cache file's bytes when it is a regular file of a sane size. */
static unsigned char *read_trees(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	unsigned char *bytes = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= HEAD_LEN &&
	    st.st_size <= MAX_TREES_BYTES && (bytes = malloc((size_t)st.st_size)) != NULL) {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t r = read(fd, bytes + got, (size_t)st.st_size - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		*len = got;
		if (got != (size_t)st.st_size) {
			free(bytes);
			bytes = NULL;
		}
	}
	close(fd);
	return bytes;
}

/* Checks the tag and lists the entries; false leaves c without any. */
static bool open_trees(trees_cache *c, unsigned char *bytes, size_t len)
{
	unsigned char tag[TAG_LEN];
	if (memcmp(bytes, TREES_MAGIC, MAGIC_LEN) != 0)
		return false;
	tag_of(c->key, bytes + HEAD_LEN, len - HEAD_LEN, tag);
	if (sodium_memcmp(tag, bytes + MAGIC_LEN, TAG_LEN) != 0)
		return false;
	size_t at = HEAD_LEN, cap = 0;
	while (at < len) {
		if (len - at < 36)
			return false;
		size_t tlen = (size_t)bytes[at + 32] | (size_t)bytes[at + 33] << 8 |
		    (size_t)bytes[at + 34] << 16 | (size_t)bytes[at + 35] << 24;
		if (tlen > len - at - 36)
			return false;
		if (c->n == cap) {
			cap = cap ? 2 * cap : 8;
			c->entries = realloc(c->entries, cap * sizeof *c->entries);
			if (c->entries == NULL)
				abort();
		}
		c->entries[c->n++] = (tree_entry){ bytes + at, bytes + at + 36, tlen, false };
		at += 36 + tlen;
	}
	return true;
}

static const node *find_tree(void *ctx, arena *a, const unsigned char sha[32])
{
	trees_cache *c = ctx;
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->entries[i].sha, sha, 32) == 0) {
			const node *root = doc_tree_read(a, c->entries[i].tree, c->entries[i].len);
			c->entries[i].used = root != NULL;
			return root;
		}
	return NULL;
}

static void put_entry(strbuf *b, const unsigned char sha[32], const void *tree, size_t len)
{
	unsigned char head[36];
	memcpy(head, sha, 32);
	for (int i = 0; i < 4; i++)
		head[32 + i] = (unsigned char)(len >> (8 * i));
	sb_put(b, (const char *)head, sizeof head);
	sb_put(b, tree, len);
}

static void keep_tree(void *ctx, const unsigned char sha[32], const node *root)
{
	trees_cache *c = ctx;
	strbuf tree = { 0 };
	doc_tree_write(&tree, root);
	if (tree.n <= UINT32_MAX)
		put_entry(&c->fresh, sha, tree.s, tree.n);
	free(tree.s);
	c->parsed = true;
}

/* The trees in use, kept and parsed, as the new cache file. */
static void write_trees(const trees_cache *c, const char *path)
{
	strbuf b = { 0 };
	sb_put(&b, TREES_MAGIC, MAGIC_LEN);
	sb_put(&b, (const char *)(unsigned char[TAG_LEN]){ 0 }, TAG_LEN);
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].used)
			put_entry(&b, c->entries[i].sha, c->entries[i].tree, c->entries[i].len);
	if (c->fresh.n > 0)
		sb_put(&b, c->fresh.s, c->fresh.n);
	if (b.n > MAX_TREES_BYTES) {    /* it would never be read: parse every time */
		free(b.s);
		return;
	}
	tag_of(c->key, b.s + HEAD_LEN, b.n - HEAD_LEN, (unsigned char *)b.s + MAGIC_LEN);
	char err[512];
	(void)private_file_replace(path, b.s, b.n, err, sizeof err);    /* else parsed next time */
	free(b.s);
}

policy_set *store_policies_load(store *s, diags *errs)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/policies", s->dir);
	if (!s->have_sk)
		return policy_set_load(dir, "policies", errs);
	snprintf(path, sizeof path, "%s/" TREES_FILE, s->dir);
	trees_cache c = { 0 };
	char format[128];
	doc_tree_format(format);
	policy_trees_key(s, format, c.key);
	size_t len = 0;
	c.bytes = read_trees(path, &len);
	if (c.bytes != NULL && !open_trees(&c, c.bytes, len))
		c.n = 0;
	policy_trees trees = { find_tree, keep_tree, &c };
	policy_set *ps = policy_set_load_trees(dir, "policies", &trees, errs);
	if (ps != NULL && c.parsed)
		write_trees(&c, path);
	sodium_memzero(c.key, sizeof c.key);
	free(c.entries);
	free(c.bytes);
	free(c.fresh.s);
	return ps;
}
