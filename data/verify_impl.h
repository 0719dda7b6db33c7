/*
 * verify_impl.h: what the table checks of audit verify share
 * (details_scan.c, verify_expect.c, verify_tables.c, verify_rows.c), and
 * nothing else reads.
 *
 * The event pass keeps, per row the events say must exist, a compact
 * expectation: small fields as they are, texts as keyed 64-bit fingerprints
 * (SipHash with a key drawn for each run, so that no one can choose a text
 * whose fingerprint matches another's), about 56 bytes per submission. The
 * table pass computes the same fingerprints from each row; a mismatch is
 * then named by reading the event that said otherwise again.
 */
#ifndef ARBITER_VERIFY_IMPL_H
#define ARBITER_VERIFY_IMPL_H

#include "store_impl.h"

/* ---- details_scan.c: an event's details, member by member ---- */
enum { DETAILS_MAX = 32 };
typedef struct details_member {
	const char *key;
	size_t klen;
	const char *value;      /* the value's JSON text */
	size_t vlen;
} details_member;
typedef struct details {
	int n;
	details_member m[DETAILS_MAX];
	char *buf;              /* unescaped strings */
	size_t cap, used;
	char *text_owned;       /* the text, when the reader keeps a copy */
} details;
typedef struct text_span {
	const char *p;          /* NULL: none (JSON null or absent; SQL NULL) */
	size_t n;
} text_span;
/* Reads the top-level members of text (a JSON object; anything else has
 * none); false only when out of memory. */
bool details_scan(const char *text, details *d);
/* The same of len bytes (a member's value, say). */
bool details_scan_n(const char *text, size_t len, details *d);
void details_free(details *d);
const details_member *details_get(const details *d, const char *key);
enum { DT_ABSENT, DT_NULL, DT_STRING, DT_OTHER };
/* The member key as a string (unescaped): DT_STRING with out set, or what
 * it is instead. */
int details_text(details *d, const char *key, text_span *out);
bool details_int(const details *d, const char *key, int64_t *out);
bool details_bool(const details *d, const char *key, bool *out);

/* ---- verify_tables.c: the expectations the events build ---- */
enum {
	SUB_CREATED = 1,        /* a submission.create made it */
	SUB_SUBMITTER = 2,      /* its event names the submitter */
	SUB_CONTENT = 4,        /* ... and the document's content hash */
	SUB_FDIGEST = 8,        /* the last evaluation names its findings' digest */
	SUB_EXPIRES = 16,       /* an override's expiry (expires is its fingerprint) */
	SUB_SEEN = 32,          /* its row was read */
	SUB_DIGEST = 64,        /* its event names the digest (all since schema 12) */
	SUB_OUTCOME = 128,      /* a submission.outcome reported what happened */
};
typedef struct sub_expect {
	int64_t last_seq;       /* the last event that wrote the row */
	uint64_t ident;         /* action, kind, ref, digest (, submitter, content hash), as flags say */
	uint64_t expires;
	uint64_t findings;      /* the findings digest's fingerprint (SUB_FDIGEST) */
	int32_t policy_version, counts[3], nfindings;
	uint8_t status, flags;
} sub_expect;

typedef struct decision_expect {
	int64_t seq, submission;
	uint64_t fp;            /* reviewer, decision, note, expiry */
} decision_expect;

/* A reviewer or an agent: few, so kept whole. */
typedef struct person {
	char *name, *login, *actor;
	int64_t uid, rate;      /* -1: none; rate 0: none */
	int64_t add_seq, last_seq;
	bool admin, disabled, revoked, token, seen;
} person;
typedef struct people {
	person *v;
	size_t n, cap;
	size_t *slots;          /* open addressing: index + 1, 0 empty */
	size_t nslots;
} people;

typedef struct pin_expect {
	int64_t version, seq;
	char *actor, *justification, *files;
	bool justification_known, seen;
} pin_expect;

struct table_check {
	store *s;
	unsigned char key[crypto_shorthash_KEYBYTES];
	sub_expect *subs;       /* by submission id */
	size_t nsubs, capsubs;
	int64_t last_created;
	decision_expect *decs;  /* in the order of their events */
	size_t ndecs, capdecs;
	people reviewers, agents;
	pin_expect *pins;
	size_t npins, cappins;
	details d;
	int64_t bad_seq;        /* the first event the others contradict */
	char why[256];
	void (*on_rows)(void *ctx);     /* called every ROWS_PER_CALL rows read (tables_on_rows) */
	void *on_rows_ctx;
	unsigned rows_read;
};

/* ---- verify_expect.c: what both passes compute alike ---- */
/* The fingerprints both passes compute: n fields (p NULL: none). */
uint64_t fingerprint(const table_check *t, const text_span *f, int n);
/* Submission ident fields: action, kind, ref, digest, submitter, content hash;
 * flags say which of the last two count. */
uint64_t ident_fingerprint(const table_check *t, const text_span f[6], uint8_t flags);
uint64_t decision_fingerprint(const table_check *t, const text_span f[4]);
/* The person of that name (any case); NULL: none. */
person *people_find(const people *p, const char *name);
/* A new person of that name (uid -1), indexed; NULL when out of memory. */
person *people_add(people *p, const char *name);
void people_free(people *p);
/* *v (an array of *cap items of size bytes) grown, zeroed, to hold need
 * items; false when out of memory. */
bool expect_grow(void **v, size_t *cap, size_t need, size_t size);
/* A text of a row or an event for a message: printable, at most 60 bytes. */
void shown(char *out, size_t len, const char *p, size_t n);

/* ---- verify_rows.c: the tables against the expectations ---- */
bool rows_check(table_check *t, verify_result *r);

#endif
