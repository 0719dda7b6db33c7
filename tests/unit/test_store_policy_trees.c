/*
 * test_store_policy_trees.c: policy_trees.c, the policy files' trees the
 * store keeps in policies.cache. Loading the set writes them (0600) and the
 * next load reads them back without writing again; a tree kept under the
 * signing key's tag is what loads, even one that is not its file's (which
 * shows the cache is used); a cache tagged under any other key (forged, or
 * from before a key rotation), damaged, cut short, of another format or not
 * a regular file is ignored, the files parsed, and the cache written anew;
 * a file that does not parse is never kept; without the signing key nothing
 * is read or written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_support.h"

#define MAGIC "arbiter-policy-trees 1\n"

static const char *cache_path(void)
{
	return in_store("policies.cache");
}

/* The cache's bytes, in T.a (NULL: no such file); *len its length. */
static const char *cache_bytes(size_t *len)
{
	char why[256];
	char *text = read_file(cache_path(), len, why, sizeof why);
	if (text == NULL)
		return NULL;
	char *copy = arena_alloc(T.a, *len + 1);
	memcpy(copy, text, *len);
	free(text);
	return copy;
}

static void write_cache(const void *bytes, size_t len)
{
	unlink(cache_path());
	FILE *f = fopen(cache_path(), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	chmod(cache_path(), 0600);
}

/* A cache holding, for the bytes of the fixture's policy file, the tree of
 * text instead, tagged with key. */
static strbuf forged_cache(const char *text, const unsigned char key[32])
{
	unsigned char sha[32], len4[4];
	sha256(fixture_policy, strlen(fixture_policy), sha);
	bool empty;
	node *root = doc_parse(T.a, "forged", text, strlen(text), 1, &empty, &T.errs);
	assert_non_null(root);
	strbuf tree = { 0 }, b = { 0 };
	doc_tree_write(&tree, root);
	for (int i = 0; i < 4; i++)
		len4[i] = (unsigned char)(tree.n >> (8 * i));
	sb_put(&b, MAGIC, strlen(MAGIC));
	sb_put(&b, (const char *)(unsigned char[32]){ 0 }, 32);
	sb_put(&b, (const char *)sha, 32);
	sb_put(&b, (const char *)len4, 4);
	sb_put(&b, tree.s, tree.n);
	size_t head = strlen(MAGIC) + 32;
	crypto_generichash((unsigned char *)b.s + strlen(MAGIC), 32, (unsigned char *)b.s + head,
	    b.n - head, key, 32);
	free(tree.s);
	return b;
}

/* The key the store tags its cache with, as policy_trees.c derives it. */
static void store_key(unsigned char key[32])
{
	crypto_kdf_derive_from_key(key, 32, 1, "polcache", S.s->sk);
}

/* The fixture's policy file with its first policy renamed. */
static const char *renamed_policy(void)
{
	const char *at = strstr(fixture_policy, "needs_review");
	assert_non_null(at);
	return arena_printf(T.a, "%.*sfrom_the_cache%s", (int)(at - fixture_policy), fixture_policy,
	    at + strlen("needs_review"));
}

/* The set as a command loads it: it must load cleanly. */
static policy_set *loaded(void)
{
	diags errs = { 0 };
	policy_set *ps = store_policies_load(S.s, &errs);
	diags_print(&errs, stderr);
	assert_non_null(ps);
	assert_int_equal(errs.n, 0);
	diags_free(&errs);
	return ps;
}

static const char *first_name(void)
{
	policy_set *ps = loaded();
	const char *name = arena_strdup(T.a, ps->items[0].name);
	policy_set_free(ps);
	return name;
}

static void test_the_trees_are_kept_and_read_back(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(lstat(cache_path(), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	size_t len, again_len;
	const char *bytes = cache_bytes(&len);
	assert_non_null(bytes);
	assert_memory_equal(bytes, MAGIC, strlen(MAGIC));
	/* read back: the same set, every position and message as parsed */
	policy_set *ps = loaded();
	assert_int_equal(ps->n, S.ps->n);
	for (size_t i = 0; i < ps->n; i++) {
		assert_string_equal(ps->items[i].name, S.ps->items[i].name);
		assert_string_equal(ps->items[i].source, S.ps->items[i].source);
		assert_string_equal(ps->items[i].message, S.ps->items[i].message);
		assert_int_equal(ps->items[i].severity, S.ps->items[i].severity);
	}
	policy_set_free(ps);
	/* and not written again: nothing was parsed */
	const char *again = cache_bytes(&again_len);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, bytes, len);
}

static void test_a_tree_under_the_stores_tag_is_what_loads(void **state)
{
	(void)state;
	unsigned char key[32];
	store_key(key);
	strbuf b = forged_cache(renamed_policy(), key);
	write_cache(b.s, b.n);
	assert_string_equal(first_name(), "from_the_cache");
	free(b.s);
}

static void test_a_tree_under_another_key_is_ignored(void **state)
{
	(void)state;
	unsigned char key[32];
	randombytes_buf(key, sizeof key);       /* an attacker's, or the key before a rotation */
	strbuf b = forged_cache(renamed_policy(), key);
	write_cache(b.s, b.n);
	assert_string_equal(first_name(), "needs_review");
	/* the cache was written anew, under the store's tag: read back as is */
	size_t len;
	const char *now = cache_bytes(&len);
	assert_false(len == b.n && memcmp(now, b.s, len) == 0);
	assert_string_equal(first_name(), "needs_review");
	size_t again_len;
	const char *again = cache_bytes(&again_len);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, now, len);
	free(b.s);
}

static void test_damaged_caches_are_ignored(void **state)
{
	(void)state;
	unsigned char key[32];
	store_key(key);
	strbuf good = forged_cache(renamed_policy(), key);
	/* a byte of the tree changed; cut short; another format; empty */
	for (int damage = 0; damage < 4; damage++) {
		strbuf b = { 0 };
		sb_put(&b, good.s, good.n);
		if (damage == 0)
			b.s[b.n - 3] ^= 1;
		if (damage == 1)
			b.n -= 5;
		if (damage == 2)
			b.s[3] = 'X';
		if (damage == 3)
			b.n = 0;
		write_cache(b.s, b.n);
		assert_string_equal(first_name(), "needs_review");
		size_t len;
		const char *now = cache_bytes(&len);
		assert_non_null(now);
		assert_memory_equal(now, MAGIC, strlen(MAGIC));
		free(b.s);
	}
	/* a link to a good cache is not followed */
	const char *elsewhere = arena_printf(T.a, "%s/elsewhere", S.dir);
	FILE *f = fopen(elsewhere, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(good.s, 1, good.n, f), good.n);
	assert_int_equal(fclose(f), 0);
	unlink(cache_path());
	assert_int_equal(symlink(elsewhere, cache_path()), 0);
	assert_string_equal(first_name(), "needs_review");
	/* a directory in its place: the set still loads */
	unlink(cache_path());
	assert_int_equal(mkdir(cache_path(), 0700), 0);
	assert_string_equal(first_name(), "needs_review");
	rmdir(cache_path());
	free(good.s);
}

static void test_a_file_that_does_not_parse_is_not_kept(void **state)
{
	(void)state;
	size_t len;
	const char *before = cache_bytes(&len);
	assert_non_null(before);
	const char *bad = in_store("policies/20-bad.yaml");
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("version: 1\npolicies: [unclosed\n", f);
	assert_int_equal(fclose(f), 0);
	chmod(bad, 0444);
	diags errs = { 0 };
	policy_set *ps = store_policies_load(S.s, &errs);
	assert_non_null(ps);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].file, "policies/20-bad.yaml");
	diags_free(&errs);
	policy_set_free(ps);
	size_t after_len;
	const char *after = cache_bytes(&after_len);
	assert_int_equal(after_len, len);
	assert_memory_equal(after, before, len);
}

static void test_without_the_key_nothing_is_kept(void **state)
{
	(void)state;
	unlink(cache_path());
	char err[512];
	store *reader = store_open(S.home, err, sizeof err);
	assert_non_null(reader);
	diags errs = { 0 };
	policy_set *ps = store_policies_load(reader, &errs);
	assert_non_null(ps);
	assert_int_equal(errs.n, 0);
	assert_string_equal(ps->items[0].name, "needs_review");
	policy_set_free(ps);
	store_close(reader);
	assert_int_equal(access(cache_path(), F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		store_test(test_the_trees_are_kept_and_read_back),
		store_test(test_a_tree_under_the_stores_tag_is_what_loads),
		store_test(test_a_tree_under_another_key_is_ignored),
		store_test(test_damaged_caches_are_ignored),
		store_test(test_a_file_that_does_not_parse_is_not_kept),
		store_test(test_without_the_key_nothing_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
