/* arena_str.c: string helpers on top of the arena. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

char *arena_strndup(arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		abort();        /* no string is that long: as a failed malloc */
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_strdup(arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	if ((size_t)n < sizeof small)
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

char *arena_concat(arena *a, ...)
{
	va_list ap;
	size_t len = 0;
	va_start(ap, a);
	for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	char *p = arena_alloc(a, len + 1), *at = p;
	va_start(ap, a);
	for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);
		memcpy(at, s, n);
		at += n;
	}
	va_end(ap);
	*at = '\0';
	return p;
}
