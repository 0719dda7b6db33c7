/*
 * times.c: times as the store writes and reads them.
 *
 * Every stored time is Unix milliseconds (now_ms, engine/clock.c) and,
 * where people read it, RFC 3339 UTC with milliseconds
 * ("2026-11-21T07:03:12.345Z"), which sorts as text in time order. The
 * transaction code does not tell time: what is stamped, and when, is for
 * the writers above it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"

/* A bulk write stamps the same second thousands of times: the date and time
 * of the last second each thread formatted are kept, and only the
 * milliseconds written anew. */
void format_time(int64_t ms, char out[32])
{
	static _Thread_local int64_t last_second = INT64_MIN;
	static _Thread_local char last[32];
	static _Thread_local size_t last_len;
	int64_t second = ms / 1000 - (ms % 1000 < 0);  /* rounded down, before 1970 too */
	int frac = (int)(ms % 1000);
	if (frac < 0)
		frac += 1000;
	if (second != last_second) {
		time_t t = (time_t)second;
		struct tm tm;
		gmtime_r(&t, &tm);
		last_len = strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%S", &tm);
		last_second = second;
	}
	memcpy(out, last, last_len);
	char *p = out + last_len;       /* ".mmmZ" */
	p[0] = '.';
	p[1] = (char)('0' + frac / 100);
	p[2] = (char)('0' + frac / 10 % 10);
	p[3] = (char)('0' + frac % 10);
	p[4] = 'Z';
	p[5] = '\0';
}

bool parse_time(const char *s, int64_t *ms)
{
	int64_t ago;
	if (duration_parse(s, &ago)) {
		if (ago > INT64_MAX / 1000)     /* ms would overflow */
			return false;
		*ms = now_ms() - ago * 1000;
		return true;
	}
	struct tm tm = { 0 };
	int frac = 0;
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest == NULL)
		return false;
	bool timed = *rest == 'T' || *rest == ' ';
	if (timed) {
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
		if (rest == NULL)
			return false;
		if (*rest == '.') {
			int digits = 0;
			for (rest++; *rest >= '0' && *rest <= '9'; rest++)
				if (digits++ < 3)
					frac = frac * 10 + (*rest - '0');
			while (digits > 0 && digits < 3)
				frac *= 10, digits++;
		}
	}
	int64_t offset = 0;     /* a local time's offset east of UTC, in minutes */
	if (*rest == 'Z') {
		rest++;
	} else if ((*rest == '+' || *rest == '-') && timed) {
		const char *o = rest + 1;       /* exactly "hh:mm" */
		for (int i = 0; i < 5; i++)
			if (i == 2 ? o[i] != ':' : o[i] < '0' || o[i] > '9')
				return false;
		int hh = (o[0] - '0') * 10 + (o[1] - '0'), mm = (o[3] - '0') * 10 + (o[4] - '0');
		if (hh > 23 || mm > 59)
			return false;
		offset = (*rest == '-' ? -1 : 1) * (hh * 60 + mm);
		rest += 6;
	}
	if (*rest != '\0')
		return false;
	*ms = ((int64_t)timegm(&tm) - offset * 60) * 1000 + frac;
	return true;
}
