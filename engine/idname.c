/*
 * idname.c: the names of identities (PRODUCT.md section 2).
 *
 * A reviewer, agent or submitter is named in ASCII: [a-z0-9][a-z0-9._-]{0,63}
 * after ASCII lower-casing, so that two names a person would read as one
 * (Alice, alice) are one, and no name hides a space, a look-alike letter or
 * an invisible character. Every comparison uses the lower-cased form this
 * writes. A submitter stored before the rule may be no name: it is kept as it
 * was, for display, and matches nobody.
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

bool identity_name_n(const char *in, size_t len, char out[IDENTITY_NAME_MAX + 1])
{
	char text[IDENTITY_NAME_MAX + 1];
	if (len == 0 || len > IDENTITY_NAME_MAX || memchr(in, '\0', len) != NULL)
		return false;
	memcpy(text, in, len);
	text[len] = '\0';
	return identity_name(text, out);
}

const char *submission_submitter(const submission *sub, size_t *len)
{
	if (sub->submitter_name[0] != '\0') {
		*len = strlen(sub->submitter_name);
		return sub->submitter_name;
	}
	*len = sub->submitter == NULL ? 0 : sub->submitter_len ? sub->submitter_len :
	    strlen(sub->submitter);
	return sub->submitter;
}
