/*
 * fuzz_usersfile.c: libFuzzer target for the users.oath reader.
 *
 * The input is a users.oath file. Every name that appears as a second field,
 * and a few fixed names, are looked up, and each line found has its secret
 * read; a found line must lie within the input, and a secret read twice must
 * come out the same. Each name is also removed, as users_add and
 * users_remove (data/reviewers.c) remove one: afterwards it is not found, a
 * second removal changes nothing, and another name's secret reads as before.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_usersfile, and with
 * replay.c as build/asan/tests/replay_usersfile for `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

/* Whether name has a line in text with a readable secret, and the secret. */
static bool secret_of(const char *text, size_t len, const char *name, unsigned char key[20])
{
	size_t start, l;
	if (!usersfile_find(text, len, name, &start, &l))
		return false;
	if (start > len || l == 0 || l > len - start)
		abort();
	unsigned char again[20];
	bool one = usersfile_secret(text + start, l, key, 20);
	bool two = usersfile_secret(text + start, l, again, sizeof again);
	if (one != two || (one && memcmp(key, again, sizeof again) != 0))
		abort();
	return one;
}

static void look_up(const char *text, size_t len, const char *name)
{
	unsigned char key[20], before[20], after[20];
	(void)secret_of(text, len, name, key);
	/* removing name: gone, for good, and nobody else's line touched */
	const char *other = strcmp(name, "alice") == 0 ? "bob" : "alice";
	bool other_had = secret_of(text, len, other, before);
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return;
	memcpy(copy, text, len + 1);
	size_t n = usersfile_remove(copy, len, name), start, l;
	if (n > len || usersfile_find(copy, n, name, &start, &l) ||
	    usersfile_remove(copy, n, name) != n)
		abort();
	if (secret_of(copy, n, other, after) != other_had ||
	    (other_had && memcmp(before, after, sizeof after) != 0))
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	static const char *const fixed[] = { "alice", "bob", "", "-", "#", "HOTP/T30/6" };
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		look_up(text, size, fixed[i]);
	/* the second word of each line, as a name */
	for (const char *p = text; p < text + size;) {
		const char *nl = memchr(p, '\n', (size_t)(text + size - p));
		const char *end = nl ? nl : text + size;
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		if (sp != NULL) {
			const char *e = sp + 1;
			while (e < end && *e != ' ' && *e != '\t')
				e++;
			char name[80];
			size_t n = (size_t)(e - sp - 1) < sizeof name - 1 ? (size_t)(e - sp - 1) : 0;
			memcpy(name, sp + 1, n);
			name[n] = '\0';
			if (n > 0 && strlen(name) == n)
				look_up(text, size, name);
		}
		p = end + (nl != NULL);
	}
	free(text);
	return 0;
}
