/*
 * glob.c: glob patterns for actions and file paths.
 *
 * `*` and `?` match within one path segment, `**` matches across segments
 * (so `secrets/` followed by `**` covers everything below secrets/), `[abc]`, `[a-z]` and
 * `[!x]` are classes, and `\` escapes. Matching is a dynamic programme over
 * pattern positions, one row per character of the subject: O(pattern x
 * subject) time whatever the pattern, so a hostile glob cannot backtrack
 * exponentially.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Does class at pat[*i] (just after '[') match c? Advances *i past ']'. */
static bool class_match(const char *pat, size_t plen, size_t *i, char c)
{
	size_t j = *i;
	bool negate = j < plen && (pat[j] == '!' || pat[j] == '^');
	if (negate)
		j++;
	bool match = false, first = true;
	while (j < plen && (pat[j] != ']' || first)) {
		first = false;
		char lo = pat[j], hi = lo;
		if (lo == '\\' && j + 1 < plen)
			lo = hi = pat[++j];
		if (j + 2 < plen && pat[j + 1] == '-' && pat[j + 2] != ']') {
			hi = pat[j + 2];
			j += 2;
		}
		if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
			match = true;
		j++;
	}
	*i = j < plen ? j + 1 : j;
	return match != negate && c != '/';
}

/* The length of the pattern element at pat[i]. close[j] is where a class's
 * scan from j stops (its ']', or plen): scanning afresh for each '[' made a
 * pattern of unclosed '['s cost the square of its length per character. */
static size_t element_len(const char *pat, size_t plen, size_t i, const size_t *close)
{
	if (pat[i] == '\\' && i + 1 < plen)
		return 2;
	if (pat[i] == '*')
		return i + 1 < plen && pat[i + 1] == '*' ? 2 : 1;
	if (pat[i] == '[') {
		size_t j = i + 1;
		if (j < plen && (pat[j] == '!' || pat[j] == '^'))
			j++;
		/* a ']' first in a class is literal, and so is an escaped one, as
		 * class_match reads them */
		if (j < plen)
			j += pat[j] == '\\' && j + 1 < plen ? 2 : 1;
		j = close[j];
		if (j < plen)
			return j + 1 - i;
	}
	return 1;
}

/* A star reached here may match nothing; a double star and its slash may
 * also match no directory at all. Only for a star just reached: one that has
 * eaten characters must be followed by the slash itself, or `a/` `**` `/b`
 * would match "a/xb". */
static void close_star(const char *pat, size_t plen, size_t i, size_t n, bool *row)
{
	row[i + n] = true;
	if (n == 2 && i + 2 < plen && pat[i + 2] == '/')
		row[i + 3] = true;
}

static bool has_special(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\')
			return true;
	return false;
}

/* Classifies a pattern by the shapes nearly every real one has, so that
 * policies match actions and paths with one memcmp: "rom.patch" (exact),
 * "rom.*" and "secrets/" with a double star (prefix), "*.env" (suffix). */
void glob_compile(glob *g, const char *pat, size_t plen)
{
	g->pat = pat;
	g->len = plen;
	g->shape = GLOB_GENERAL;
	size_t stars = 0;
	while (stars < plen && stars < 2 && pat[plen - 1 - stars] == '*')
		stars++;
	if (!has_special(pat, plen - stars)) {
		g->shape = stars ? GLOB_PREFIX : GLOB_EXACT;
		g->stars = (int)stars;
		return;
	}
	size_t lead = 0;
	while (lead < plen && lead < 2 && pat[lead] == '*')
		lead++;
	if (lead > 0 && !has_special(pat + lead, plen - lead)) {
		g->shape = GLOB_SUFFIX;
		g->stars = (int)lead;
	}
}

static bool general_match(const char *pat, size_t plen, const char *s, size_t slen);

bool glob_test(const glob *g, const char *s, size_t slen)
{
	const char *pat = g->pat;
	size_t plen = g->len, n = plen - (size_t)g->stars;
	switch (g->shape) {
	case GLOB_EXACT:
		return slen == plen && memcmp(pat, s, plen) == 0;
	case GLOB_PREFIX:
		if (slen < n || memcmp(pat, s, n) != 0)
			return false;
		return g->stars == 2 || memchr(s + n, '/', slen - n) == NULL;
	case GLOB_SUFFIX:
		/* "**" + "/x" also matches "x" itself: no directory at all */
		if (g->stars == 2 && pat[2] == '/' && slen == n - 1 && memcmp(pat + 3, s, n - 1) == 0)
			return true;
		if (slen < n || memcmp(pat + g->stars, s + slen - n, n) != 0)
			return false;
		return g->stars == 2 || memchr(s, '/', slen - n) == NULL;
	default:
		return general_match(pat, plen, s, slen);
	}
}

bool glob_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	glob g;
	glob_compile(&g, pat, plen);
	return glob_test(&g, s, slen);
}

static bool general_match(const char *pat, size_t plen, const char *s, size_t slen)
{
	/* cur[i]: the pattern prefix ending before position i matches the text so far */
	bool small[2][130];
	bool *cur, *nxt;
	bool *heap = NULL;
	if (plen + 1 <= 130) {
		cur = small[0];
		nxt = small[1];
	} else {
		heap = calloc(2 * (plen + 1), sizeof(bool));
		if (heap == NULL)
			abort();
		cur = heap;
		nxt = heap + plen + 1;
	}
	size_t small_close[130];
	size_t *close = plen + 1 <= 130 ? small_close : malloc((plen + 1) * sizeof *close);
	if (close == NULL)
		abort();
	close[plen] = plen;
	for (size_t j = plen; j-- > 0;)
		close[j] = pat[j] == ']' ? j : pat[j] == '\\' && j + 1 < plen ? close[j + 2] : close[j + 1];
	memset(cur, 0, plen + 1);
	cur[0] = true;
	/* stars can match nothing: close over them */
	for (size_t i = 0; i < plen;) {
		size_t n = element_len(pat, plen, i, close);
		if (cur[i] && pat[i] == '*')
			close_star(pat, plen, i, n, cur);
		i += n;
	}
	for (size_t k = 0; k < slen; k++) {
		char c = s[k];
		memset(nxt, 0, plen + 1);
		for (size_t i = 0; i < plen;) {
			size_t n = element_len(pat, plen, i, close);
			if (cur[i]) {
				if (pat[i] == '*') {
					/* the star eats c and stops (it goes on: below) */
					if (n == 2 || c != '/')
						nxt[i + n] = true;
				} else if (pat[i] == '?') {
					if (c != '/')
						nxt[i + n] = true;
				} else if (pat[i] == '[' && n > 1) {
					size_t j = i + 1;
					if (class_match(pat, plen, &j, c))
						nxt[i + n] = true;
				} else {
					char want = n == 2 && pat[i] == '\\' ? pat[i + 1] : pat[i];
					if (want == c)
						nxt[i + n] = true;
				}
			}
			i += n;
		}
		for (size_t i = 0; i < plen;) {
			size_t n = element_len(pat, plen, i, close);
			if (nxt[i] && pat[i] == '*')
				close_star(pat, plen, i, n, nxt);
			i += n;
		}
		/* a star stays on its position while it eats c; after the closure,
		 * which is for stars just reached */
		for (size_t i = 0; i < plen;) {
			size_t n = element_len(pat, plen, i, close);
			if (cur[i] && pat[i] == '*' && (n == 2 || c != '/'))
				nxt[i] = true;
			i += n;
		}
		bool *t = cur;
		cur = nxt;
		nxt = t;
	}
	bool r = cur[plen];
	free(heap);
	if (close != small_close)
		free(close);
	return r;
}
