/*
 * findings_digest.c: the digest of a submission's findings rows, named by
 * the events that write them (submission.create and .reevaluate, as
 * findings_digest) and recomputed by audit verify from the table
 * (verify_tables.c).
 *
 * One encoding serves both sides, so they cannot drift: a finding is the
 * row as stored (finding_row: the text of each column, the integers in
 * decimal), each column length-prefixed (eight bytes, big-endian) as the
 * chain's own hash encodes an event's fields, an absent (NULL) column told
 * apart from an empty one by a length of all ones. The findings are hashed
 * in the order they were found, which is the order of their row ids.
 */
#include <stdio.h>
#include <string.h>

#include "store_impl.h"

/* The encoding is gathered in d->buf and hashed a finding at a time: one
 * update per finding, not one per length and text. */
static void put_bytes(findings_digest *d, const void *p, size_t n)
{
	if (d->n_buf + n > sizeof d->buf) {
		sha256_update(&d->h, d->buf, d->n_buf);
		d->n_buf = 0;
		if (n > sizeof d->buf) {
			sha256_update(&d->h, p, n);
			return;
		}
	}
	memcpy(d->buf + d->n_buf, p, n);
	d->n_buf += n;
}

static void put_len(findings_digest *d, uint64_t len)
{
	unsigned char n[8];
	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)(len >> (56 - 8 * i));
	put_bytes(d, n, 8);
}

static void put_text(findings_digest *d, const char *text)
{
	if (text == NULL) {
		put_len(d, UINT64_MAX);
		return;
	}
	size_t len = strlen(text);
	put_len(d, len);
	put_bytes(d, text, len);
}

/* v in decimal, as the column's text was */
static void put_int(findings_digest *d, int64_t v)
{
	char text[24];
	size_t len = (size_t)format_int(v, text);
	put_len(d, len);
	put_bytes(d, text, len);
}

void findings_digest_init(findings_digest *d)
{
	sha256_init(&d->h);
	d->n = 0;
	d->n_buf = 0;
}

void findings_digest_add(findings_digest *d, const finding_row *f)
{
	put_text(d, f->policy);
	put_text(d, f->type);
	put_text(d, f->severity);
	put_text(d, f->effect);
	put_int(d, f->overridable);
	put_text(d, f->message);
	put_text(d, f->detail);
	put_text(d, f->path);
	put_text(d, f->source);
	put_int(d, f->approvals);
	put_text(d, f->role);
	put_int(d, f->max_duration);
	d->n++;
}

void findings_digest_final(findings_digest *d, unsigned char out[32])
{
	sha256_update(&d->h, d->buf, d->n_buf);
	d->n_buf = 0;
	sha256_final(&d->h, out);
}

void finding_row_of(const finding *f, finding_row *row)
{
	const override_spec *o = f->policy ? &f->policy->override : NULL;
	*row = (finding_row){ .policy = f->name, .type = f->type,
		.severity = severity_name(f->severity), .effect = effect_name(f->effect),
		.overridable = f->overridable, .message = f->message, .detail = f->detail,
		.path = f->path, .source = f->source,
		.approvals = o && o->approvals > 0 ? o->approvals : 1,
		.role = role_name(o ? o->role : ROLE_REVIEWER), .max_duration = o ? o->max_duration : 0 };
}
