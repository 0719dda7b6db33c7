/* duration.c: durations such as "90s", "15m", "24h", "30d", "1w", "1h30m". */
#include <ctype.h>
#include <string.h>

#include "engine.h"

bool duration_parse(const char *s, int64_t *seconds)
{
	int64_t total = 0;
	if (s == NULL || *s == '\0')
		return false;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return false;
		int64_t n = 0;
		while (isdigit((unsigned char)*s)) {
			if (n > INT64_MAX / 10 - 10)
				return false;
			n = n * 10 + (*s++ - '0');
		}
		int64_t unit;
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return false;
		}
		if (n > (INT64_MAX - total) / unit)
			return false;
		total += n * unit;
	}
	*seconds = total;
	return true;
}

char *duration_format(arena *a, int64_t s)
{
	static const struct { int64_t unit; char c; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	if (s == 0)
		return arena_strdup(a, "0s");
	char buf[64];
	size_t off = 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s >= units[i].unit) {
			/* days in at most 15 digits, the rest in 2 each: within buf */
			off += (size_t)format_int(s / units[i].unit, buf + off);
			buf[off++] = units[i].c;
			s %= units[i].unit;
		}
	return arena_strndup(a, buf, off);
}
