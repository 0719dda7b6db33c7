/*
 * usersfile.c: reading liboath's usersfile format (users.oath).
 *
 * One user per line, fields separated by spaces or tabs: the token type
 * ("HOTP/T30/6"), the user name, a PIN ("-" for none) and the secret in hex,
 * optionally followed by the last counter and code that pam_oath records.
 * Lines starting with # are comments. arbiter writes only the first four
 * fields, reads the secret back by name and removes a name's lines; the text
 * is hostile input as far as this parser is concerned (it is fuzzed), and
 * nothing here allocates.
 */
#include <sodium.h>
#include <string.h>

#include "engine.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next field of [p, end): its start and length; false when none. */
static bool next_field(const char **p, const char *end, const char **field, size_t *len)
{
	while (*p < end && blank(**p))
		(*p)++;
	if (*p >= end)
		return false;
	*field = *p;
	while (*p < end && !blank(**p) && **p != '\r')
		(*p)++;
	*len = (size_t)(*p - *field);
	return *len > 0;
}

bool usersfile_find(const char *text, size_t textlen, const char *name, size_t *start,
    size_t *len)
{
	size_t nlen = strlen(name);
	const char *end_all = text + textlen;
	for (const char *p = text; p < end_all;) {
		const char *nl = memchr(p, '\n', (size_t)(end_all - p));
		const char *end = nl ? nl : end_all;
		size_t l = (size_t)(end - p) + (nl != NULL);
		const char *q = p, *field;
		size_t flen;
		if (*p != '#' && next_field(&q, end, &field, &flen) &&
		    next_field(&q, end, &field, &flen) && flen == nlen &&
		    memcmp(field, name, nlen) == 0) {
			*start = (size_t)(p - text);
			*len = l;
			return true;
		}
		p += l;
	}
	return false;
}

bool usersfile_secret(const char *line, size_t len, unsigned char *key, size_t keylen)
{
	const char *p = line, *end = line + len, *field = NULL;
	size_t flen = 0;
	if (end > p && end[-1] == '\n')
		end--;
	for (int i = 0; i < 4; i++)
		if (!next_field(&p, end, &field, &flen))
			return false;
	size_t got = 0;
	const char *stop = NULL;
	return sodium_hex2bin(key, keylen, field, flen, NULL, &got, &stop) == 0 && got == keylen &&
	    stop == field + flen;
}

size_t usersfile_remove(char *text, size_t len, const char *name)
{
	size_t start, l;
	/* every line of the name: a stale one left behind would be found first */
	while (usersfile_find(text, len, name, &start, &l)) {
		memmove(text + start, text + start + l, len - start - l);
		len -= l;
	}
	return len;
}
