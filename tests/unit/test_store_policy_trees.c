/*
 * test_store_policy_trees.c: policy_trees.c, the policy files' trees the
 * store keeps in policies.cache. Loading the set writes them (0600) and the
 * next load reads them back without writing again; a tree kept under the
 * signing key's tag is what loads, even one that is not its file's (which
 * shows the cache is used); a cache tagged under any other key (forged, or
 * from before a key rotation) or for another format of trees (another
 * arbiter or libyaml), damaged, cut short, of another file format or not a
 * regular file is ignored, the files parsed, and the cache written anew
 * under the store's tag; a kept tree with a policy's error gives the error
 * where the file has it; without the signing key nothing is read or written.
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

/* The key the store tags its cache with. */
static void store_key(unsigned char key[32])
{
	char format[128];
	doc_tree_format(format);
	policy_trees_key(S.s, format, key);
}

/* Whether the cache file carries the store's tag. */
static bool tag_holds(void)
{
	size_t len, head = strlen(MAGIC) + 32;
	const char *bytes = cache_bytes(&len);
	if (bytes == NULL || len < head || memcmp(bytes, MAGIC, strlen(MAGIC)) != 0)
		return false;
	unsigned char key[32], tag[32];
	store_key(key);
	crypto_generichash(tag, 32, (const unsigned char *)bytes + head, len - head, key, 32);
	return memcmp(tag, bytes + strlen(MAGIC), 32) == 0;
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

static void test_a_tree_for_another_format_is_ignored(void **state)
{
	(void)state;
	/* the store's own key, but for trees another reader made */
	unsigned char key[32];
	policy_trees_key(S.s, "doc-tree 0, arbiter 0.0.1, libyaml 0.1.0", key);
	strbuf b = forged_cache(renamed_policy(), key);
	write_cache(b.s, b.n);
	assert_string_equal(first_name(), "needs_review");
	assert_true(tag_holds());
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
		assert_false(tag_holds());
		assert_string_equal(first_name(), "needs_review");
		assert_true(tag_holds());       /* written anew */
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

/* The errors of a set, as "FILE:LINE:COL: message" lines, in T.a. */
static const char *load_errors(void)
{
	diags errs = { 0 };
	policy_set *ps = store_policies_load(S.s, &errs);
	assert_non_null(ps);
	policy_set_free(ps);
	strbuf b = { 0 };
	for (size_t i = 0; i < errs.n; i++)
		sb_printf(&b, "%s:%d:%d: %s\n", errs.items[i].file, errs.items[i].line,
		    errs.items[i].col, errs.items[i].msg);
	diags_free(&errs);
	const char *text = arena_strdup(T.a, b.s ? b.s : "");
	free(b.s);
	return text;
}

static void test_a_kept_trees_errors_are_where_the_file_has_them(void **state)
{
	(void)state;
	const char *bad = in_store("policies/20-bad.yaml");
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("version: 1\npolicies:\n  - name: odd\n    type: expression\n"
	    "    condition: 'true'\n    severity: loud\n    colour: red\n", f);
	assert_int_equal(fclose(f), 0);
	chmod(bad, 0444);
	unlink(cache_path());
	const char *parsed = load_errors();     /* the file parsed, its tree kept */
	assert_true(tag_holds());
	assert_non_null(strstr(parsed, "policies/20-bad.yaml:6:15: "));
	assert_non_null(strstr(parsed, "policies/20-bad.yaml:7:5: "));
	size_t len;
	const char *before = cache_bytes(&len);
	const char *kept = load_errors();       /* its tree read back */
	assert_string_equal(kept, parsed);
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
		store_test(test_a_tree_for_another_format_is_ignored),
		store_test(test_a_kept_trees_errors_are_where_the_file_has_them),
		store_test(test_without_the_key_nothing_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
