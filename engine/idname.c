/*
 * idname.c: the names of identities (PRODUCT.md section 2).
 *
 * A reviewer, agent or submitter is named in ASCII: [a-z0-9][a-z0-9._-]{0,63}
 * after ASCII lower-casing, so that two names a person would read as one
 * (Alice, alice) are one, and no name hides a space, a look-alike letter or
 * an invisible character. Every comparison uses the lower-cased form this
 * writes.
 */
#include <string.h>

#include "engine.h"

bool identity_name(const char *in, char out[IDENTITY_NAME_MAX + 1])
{
	size_t n = strlen(in);
	if (n == 0 || n > IDENTITY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
		out[i] = c;
	}
	out[n] = '\0';
	return true;
}
