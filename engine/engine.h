/*
 * engine.h: the public interface of arbiter's policy engine.
 *
 * The engine is pure logic: it reads documents (submissions and policy files)
 * into one typed tree, compiles policies and their expressions once, and
 * evaluates submissions against them. It knows nothing of SQLite or curses;
 * history for quota rules comes in through a callback (history_source) that
 * the store implements.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef ARBITER_ENGINE_H
#define ARBITER_ENGINE_H

#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARBITER_VERSION "0.1.0"

/* Limits on hostile input (PRODUCT.md sections 2 and 3). */
#define DOC_MAX_BYTES        (1024 * 1024)
#define DOC_MAX_DEPTH        64
#define DOC_MAX_ALIAS_NODES  10000
#define EXPR_MAX_BYTES       4096
#define EXPR_MAX_DEPTH       64
#define EXPR_MAX_VARS        16

#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- arena.c: bump allocation, freed all at once ---- */
typedef struct arena arena;
arena *arena_new(void);
void arena_free(arena *a);
void arena_reset(arena *a);
/* The free space of an arena's current chunk, the first member of every
 * arena: arena_alloc carves from it inline, and calls arena.c only when it
 * is used up. Nothing else reads it. */
struct arena_space {
	unsigned char *next, *end;
};
#define ARENA_ALIGN 16
void *arena_alloc_more(arena *a, size_t size);
static inline void *arena_alloc(arena *a, size_t size)
{
	struct arena_space *sp = (struct arena_space *)a;
	size_t want = size == 0 ? ARENA_ALIGN : (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (want < size)
		abort();        /* no memory is that large: as malloc's failure */
	size = want;
	if ((size_t)(sp->end - sp->next) < size)
		return arena_alloc_more(a, size);
	void *p = sp->next;
	sp->next += size;
	return p;
}
/* Room for one more in an array of n items of size bytes kept in the arena:
 * items itself while n < *cap, else a copy twice as long (first items long
 * when there was none). The old array stays until the arena goes. */
void *arena_grow(arena *a, void *items, size_t n, size_t *cap, size_t size, size_t first);
char *arena_strndup(arena *a, const char *s, size_t len);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* The strings given, up to a NULL, one after another: the texts written for
 * each finding, without printf's reading of a format. */
char *arena_concat(arena *a, ...) __attribute__((sentinel));
char *arena_vprintf(arena *a, const char *fmt, va_list ap);
/* Runs fn(p) when the arena is freed (for resources such as compiled regexes). */
void arena_on_free(arena *a, void (*fn)(void *), void *p);

/* ---- diag.c: user-facing error lists, each "FILE:LINE:COL: message" ---- */
typedef struct diag {
	char *file;
	int line, col;
	char *msg;
} diag;
typedef struct diags {
	diag *items;
	size_t n, cap;
} diags;
void diags_add(diags *d, const char *file, int line, int col, const char *fmt, ...)
    ATTR_PRINTF(5, 6);
void diags_print(const diags *d, FILE *out);
void diags_clear(diags *d);
void diags_free(diags *d);

/* ---- strmap.c: string-keyed open-addressing hash table ---- */
typedef struct strmap {
	struct strmap_slot *slots;
	size_t n, cap;
} strmap;
/* Returns the existing value for key, or inserts value and returns NULL. */
void *strmap_put(strmap *m, const char *key, size_t len, void *value);
void *strmap_get(const strmap *m, const char *key, size_t len);
void strmap_free(strmap *m);

/* ---- doc.c: the typed document tree, read with libyaml ---- */
enum {
	NODE_NULL, NODE_BOOL, NODE_INT, NODE_FLOAT, NODE_STRING, NODE_LIST, NODE_MAP
};

enum { STYLE_PLAIN, STYLE_QUOTED, STYLE_BLOCK };

typedef struct node node;
struct node {
	uint8_t type;           /* NODE_* */
	uint8_t style;          /* for strings: how the scalar was written */
	uint8_t verbatim;       /* strings: 1 when JSON holds the bytes as they are
	                         * (read from JSON without an escape: valid UTF-8,
	                         * no quote, backslash or control character) */
	uint32_t line, col;     /* 1-based position in its file */
	uint32_t hash;          /* map keys: key_hash() of the text, for lookups */
	union {
		bool b;
		int64_t i;
		double d;
		struct { const char *s; size_t len; } str;
		struct { node **items; size_t n; } list;
		struct { node **keys; node **vals; size_t n; } map;
	} u;
};

/* Eight bytes of s as one word, in memory order, wherever s is aligned. */
static inline uint64_t word_at(const char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof w);
	return w;
}

#define BYTES_01 0x0101010101010101u
#define BYTES_80 0x8080808080808080u

/* The hash of a map key: keys carry it from parsing, expressions from
 * compiling, so a field lookup compares one integer per key. Eight bytes
 * are mixed in at a time (keys are short: one to three words), then the
 * bits are spread (MurmurHash3's finalizer) for hash tables' low bits. It
 * lives only in memory: nothing stores it, so it starts from a seed drawn
 * for each process (doc.c), and a document's keys cannot be chosen in
 * advance to fall into one slot of a lookup table. */
extern uint64_t key_hash_seed;
static inline uint32_t key_hash(const char *s, size_t len)
{
	uint64_t h = key_hash_seed ^ len, tail;
	size_t i = 0;
	for (; i + 8 < len; i += 8)
		h = (h ^ word_at(s + i)) * 0xFF51AFD7ED558CCDu;
	size_t rest = len - i;          /* 1 to 8 bytes, or none */
	if (rest >= 4) {                /* two words of four, overlapping */
		uint32_t lo, hi;
		memcpy(&lo, s + i, 4);
		memcpy(&hi, s + i + rest - 4, 4);
		tail = (uint64_t)hi << 32 | lo;
	} else if (rest > 0) {
		tail = (uint64_t)(unsigned char)s[i] << 16 |
		    (uint64_t)(unsigned char)s[i + rest / 2] << 8 | (unsigned char)s[i + rest - 1];
	} else {
		tail = 0;
	}
	h = (h ^ tail) * 0xFF51AFD7ED558CCDu;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53u;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The high bit of every byte of w. */
static inline uint64_t high_bytes(uint64_t w)
{
	return w & BYTES_80;
}

/* The bytes of word w that a JSON string cannot hold as they are, each
 * flagged in its high bit: a byte of 0x80 or more (UTF-8 to check), below
 * the space, the quote or the backslash. It may flag more bytes than those
 * (a borrow runs on past the first flagged byte) but never misses one. */
static inline uint64_t json_special(uint64_t w)
{
	uint64_t q = w ^ (BYTES_01 * '"'), bs = w ^ (BYTES_01 * '\\');
	return (w | ((w - BYTES_01 * 0x20) & ~w) | ((q - BYTES_01) & ~q) |
	    ((bs - BYTES_01) & ~bs)) & BYTES_80;
}

/* Whether flag finds nothing in the n bytes at s, a word at a time: the
 * last word overlapping the one before it, a string of four to seven bytes
 * as two overlapping halves, a shorter one in a word filled out with 'a'
 * (which neither flag marks). */
static inline bool words_clear(const char *s, size_t n, uint64_t (*flag)(uint64_t))
{
	uint64_t found = 0;
	if (n >= 8) {
		for (size_t i = 0; i + 8 <= n; i += 8)
			found |= flag(word_at(s + i));
		found |= flag(word_at(s + n - 8));
	} else if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		found = flag((uint64_t)hi << 32 | lo);
	} else {
		uint64_t w = BYTES_01 * 'a';
		for (size_t i = 0; i < n; i++)
			w = (w & ~((uint64_t)0xFF << (8 * i))) | (uint64_t)(unsigned char)s[i] << (8 * i);
		found = flag(w);
	}
	return found == 0;
}

/* Whether the n bytes at s are all ASCII. */
static inline bool all_ascii(const char *s, size_t n)
{
	return words_clear(s, n, high_bytes);
}

/* Whether JSON holds the n bytes at s as they are, inside quotes: ASCII
 * from the space up, neither the quote nor the backslash. */
static inline bool json_plain(const char *s, size_t n)
{
	return words_clear(s, n, json_special);
}

/* A map's member, as the JSON writers order them (canon.c, report.c). */
typedef struct map_member {
	const node *key, *val;
} map_member;

/* Sorts a map's members in place by order: an insertion sort, a
 * document's maps being small, inline so that a constant order is called
 * directly rather than through the pointer as qsort does. Names are unique,
 * so no order is unstable. */
static inline void members_sort(map_member *m, size_t k,
    int (*order)(const void *, const void *))
{
	for (size_t i = 1; i < k; i++) {
		map_member x = m[i];
		size_t j = i;
		while (j > 0 && order(&m[j - 1], &x) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

const char *node_type_name(int type);
/* The value under key in a map node, or NULL (also when m is not a map). */
const node *node_get(const node *m, const char *key);
static inline bool node_str_eq(const node *n, const char *s)
{
	if (n == NULL || n->type != NODE_STRING)
		return false;
	/* most names differ in their first byte: those need no strlen */
	if (n->u.str.len > 0 && s[0] != n->u.str.s[0])
		return false;
	return strlen(s) == n->u.str.len && memcmp(n->u.str.s, s, n->u.str.len) == 0;
}
/* Reads one YAML (or JSON) document from text. first_line is the line of
 * text's first byte in file. Returns the root, or NULL: *empty is set when the
 * text holds no document, else one error was added to errs. An integer
 * beyond +-DOC_MAX_INT is refused (I-JSON, RFC 7493: JSON numbers are
 * doubles, exact only within it), so that a digest is exact. */
#define DOC_MAX_INT 9007199254740991LL          /* 2^53 - 1 */
node *doc_parse(arena *a, const char *file, const char *text, size_t len,
    int first_line, bool *empty, diags *errs);
/* doc_parse with flags: DOC_INT64 reads integers up to 64 bits, for the
 * documents a store kept before the limit (reevaluation, migration). */
enum { DOC_INT64 = 1 };
node *doc_parse_flags(arena *a, const char *file, const char *text, size_t len,
    int first_line, int flags, bool *empty, diags *errs);
/* ---- libload.c: a library's functions, at first need ---- */
/* soname's functions names[0 .. n - 1], resolved into fns (n function
 * pointers, in that order) by the first lazy_lib_ready; state and why are
 * its own. Define one with LAZY_LIB. */
typedef struct lazy_lib {
	const char *soname;
	const char *const *names;
	size_t n;
	void *fns;
	pthread_mutex_t mu;
	int state;              /* 0: not tried; 1: loaded; -1: failed (why) */
	char why[256];
} lazy_lib;
#define LAZY_LIB(soname, names, fns) \
	{ soname, names, sizeof names / sizeof names[0], &fns, PTHREAD_MUTEX_INITIALIZER, 0, "" }
/* Loads the library once (any thread): false when it cannot be, why in l->why. */
bool lazy_lib_ready(lazy_lib *l);
/* ---- sha256.c: SHA-256 of documents (CPU instructions where there are) ---- */
void sha256(const void *data, size_t len, unsigned char out[32]);
/* The same in parts. */
typedef struct sha256_ctx {
	_Alignas(16) unsigned char state[128];  /* OpenSSL's SHA256_CTX */
} sha256_ctx;
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
/* Public bytes (a hash, a signature) in lower-case hex, with a NUL: out
 * holds 2 * n + 1. A table does it, not libsodium's constant-time loop,
 * which costs ten times as much and is for secrets. */
void public_hex(char *out, const unsigned char *in, size_t n);
/* The n bytes that the 2 * n hex digits at hex (either case) spell, into
 * out; false when one is not a hex digit. Public bytes only, as above. */
bool public_unhex(unsigned char *out, const char *hex, size_t n);

/* ---- json.c: one JSON document (RFC 8259), read with yajl ---- */
/* Reads one JSON document into the same tree as doc_parse_flags would for
 * the same text, and refuses what RFC 8259 refuses (with FILE:LINE:COL),
 * plus duplicate keys, nesting deeper than DOC_MAX_DEPTH, a byte-order
 * mark, lone surrogate escapes and numbers outside a double's range. *empty
 * is set when text holds only blanks. */
node *doc_parse_json(arena *a, const char *file, const char *text, size_t len, int first_line,
    int flags, bool *empty, diags *errs);
/* A document the store kept or a client was shown: canonical JSON, read
 * with the JSON reader, else (the text of another form) with the YAML
 * reader; 64-bit integers, as stores kept them before the 2^53 limit. */
node *doc_parse_kept(arena *a, const char *file, const char *text, size_t len, bool *empty,
    diags *errs);
/* doc_tree.c: a tree as bytes (appended to b), and such bytes back as the
 * same tree (doc_same_tree holds) in a, or NULL for bytes that are not one
 * tree's whole record. */
struct strbuf;
void doc_tree_write(struct strbuf *b, const node *root);
node *doc_tree_read(arena *a, const void *bytes, size_t len);
/* What a record depends on, as text into out: its format, arbiter's version
 * and libyaml's, which made the trees. A record kept under another is not
 * used. */
void doc_tree_format(char out[128]);
/* doc_compare.c: whether trees x and y are the same (types, values, order,
 * key hashes, positions); false with where they differ in why. */
bool doc_same_tree(const node *x, const node *y, char *why, size_t len);
/* The same, and each scalar written alike (its style and verbatim flag,
 * which the YAML and JSON readers set differently). */
bool doc_same_tree_as_written(const node *x, const node *y, char *why, size_t len);
/* Calls fn for each YAML document of a stream, split at document markers so
 * that an error in one document leaves the others readable. */
typedef void (*doc_chunk_fn)(void *ctx, const char *text, size_t len, int line);
void doc_split_yaml(const char *text, size_t len, doc_chunk_fn fn, void *ctx);
void doc_split_lines(const char *text, size_t len, doc_chunk_fn fn, void *ctx);
/* Reads a whole file ("-" is standard input) into malloc'd memory. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen);
/* The directory holding path, into out: "." for a bare name, "/" for a
 * name in the root. */
void path_dir(const char *path, char *out, size_t len);

/* ---- value.c: run-time values of expressions ---- */
typedef struct value {
	uint8_t type;           /* NODE_* */
	union {
		bool b;
		int64_t i;
		double d;
		struct { const char *s; size_t len; } str;
		const node *n;  /* NODE_LIST and NODE_MAP */
	} u;
} value;

/* The value of a document node (null for NULL): inline, it is on every path. */
static inline value value_of_node(const node *n)
{
	value v = { .type = NODE_NULL };
	if (n == NULL)
		return v;
	v.type = n->type;
	switch (n->type) {
	case NODE_BOOL: v.u.b = n->u.b; break;
	case NODE_INT: v.u.i = n->u.i; break;
	case NODE_FLOAT: v.u.d = n->u.d; break;
	case NODE_STRING: v.u.str.s = n->u.str.s; v.u.str.len = n->u.str.len; break;
	case NODE_LIST: case NODE_MAP: v.u.n = n; break;
	default: break;
	}
	return v;
}
node *value_to_node(arena *a, value v);
/* Equality in the language: numbers compare by value across int and float;
 * *comparable is false when the types cannot be compared. */
bool value_equal(value a, value b, bool *comparable);
/* value_equal doing at most *budget units of work (one per node compared, one
 * per 64 bytes of string compared), taken off *budget; when it runs out,
 * *budget is 0 and the answer false. */
bool value_equal_within(value a, value b, bool *comparable, size_t *budget);
/* Writes v for messages: strings quoted, lists and maps abbreviated. */
size_t value_format(value v, char *buf, size_t len);
/* v as printf's %lld writes it; the length (out holds 21 bytes and the NUL). */
int format_int(int64_t v, char out[24]);
/* d as printf's %g writes it (a whole number below a million without
 * printf: the limits and amounts of most details); out is returned. */
const char *format_g(double d, char out[32]);
char *value_describe(arena *a, value v);
bool value_is_number(value v);
/* The length of UTF-8 text in characters, as size() and max_F count it. */
size_t utf8_length(const char *s, size_t n);
double value_number(value v);

/* A policy's list of values, with its strings hashed: a submission may hold
 * a huge list, and each element is looked up in the policy's list. */
typedef struct value_set {
	const node *list;       /* as written */
	strmap strings;         /* its string members */
	bool others;            /* it has members that are not strings */
} value_set;
/* A set for a list node, in a (which frees its table). */
value_set *value_set_new(arena *a, const node *list);
bool value_set_has(const value_set *s, value x);

/* ---- expr_parse.c and expr_eval.c: the expression language ---- */
typedef struct expr expr;

typedef struct expr_error {
	const char *file;
	int line, col;
	char msg[256];
} expr_error;

typedef struct eval_ctx {
	const node *doc;        /* the submission */
	const char *kind;       /* derived kind, read by the field `kind` */
	const char *submitter;  /* the submitter's name, read by the field `submitter`;
	                         * NULL: the document's own value */
	arena *scratch;         /* for values built during evaluation */
	value vars[EXPR_MAX_VARS];
	expr_error err;
	unsigned steps;         /* evaluation work done, for the bound */
	/* an open-addressing index of doc's keys (index + 1 per slot), built by
	 * eval_ctx_index: top-level fields are read by nearly every policy */
	uint16_t *slots;
	uint32_t mask;
} eval_ctx;

/* Compiles source text (len bytes). pos is the YAML scalar holding it, for
 * positions; file names its file. Returns NULL and adds an error on failure. */
expr *expr_compile(arena *a, const char *text, size_t len, const char *file,
    const node *pos, diags *errs);
/* Indexes ctx->doc's keys in ctx->scratch for fast field reads (optional). */
void eval_ctx_index(eval_ctx *ctx);
/* Evaluates e; false on an evaluation error (described in ctx->err). */
bool expr_eval(const expr *e, eval_ctx *ctx, value *out);
/* Evaluates e as a condition: true or false, or an error when not a bool. */
bool expr_eval_bool(const expr *e, eval_ctx *ctx, bool *out);
/* Writes "name = value" for each field the expression reads, for details. */
char *expr_describe_fields(const expr *e, eval_ctx *ctx);
/* The first submission field the expression reads, as a path, or NULL. */
const char *expr_first_field(const expr *e);
/* Evaluates a path expression such as "changes[0].offset" against a document;
 * used by rule types that take a `field`. */
bool expr_is_path(const expr *e);
const char *expr_source(const expr *e);

/* ---- glob.c ---- */
/* Glob match: `*` and `?` stop at '/', `**` crosses it, [...] classes. */
bool glob_match(const char *pat, size_t plen, const char *s, size_t slen);
/* A pattern classified once, for the globs of policies. */
enum { GLOB_GENERAL, GLOB_EXACT, GLOB_PREFIX, GLOB_SUFFIX };
typedef struct glob {
	const char *pat;
	size_t len;
	int shape;              /* GLOB_* */
	int stars;              /* the stars of a prefix or suffix pattern */
} glob;
void glob_compile(glob *g, const char *pat, size_t plen);
bool glob_test(const glob *g, const char *s, size_t slen);

/* ---- clock.c: the one wall clock, and a monotonic one ---- */
/* Now, as Unix milliseconds: every timestamp, expiry, lockout, quota window,
 * TOTP step and idle timeout reads it. The test build lets ARBITER_TEST_NOW
 * set it (milliseconds, or the path of a file holding them). */
int64_t now_ms(void);
/* Milliseconds from an arbitrary start, for measuring durations only. */
int64_t mono_ms(void);

/* ---- totp.c: RFC 6238 codes (SHA-1, 30 s steps) ---- */
enum { TOTP_STEP = 30, TOTP_DIGITS = 6 };
/* The code of time t (Unix seconds) with 6 to 8 digits into out (digits+1). */
bool totp_code(const unsigned char *key, size_t keylen, int64_t t, int digits, char *out);
/* Whether code is the 6-digit code of a step within +-window of now's, in
 * constant time; *step is the matching step (Unix seconds / 30). */
bool totp_match(const unsigned char *key, size_t keylen, int64_t now, int window,
    const char *code, int64_t *step);
/* key in base32 without padding (malloc'd), as authenticator apps take it. */
char *totp_base32(const unsigned char *key, size_t keylen);
/* The keylen bytes a base32 text of totp_base32's holds; false when it
 * holds other than keylen bytes. */
bool totp_base32_decode(const char *text, unsigned char *key, size_t keylen);

/* ---- secret.c: libsodium's start-up, random bytes, wiping ---- */
/* Once, before any other call; false when libsodium cannot start. */
bool secrets_init(void);
void secret_random(void *buf, size_t len);
/* Zeroes a secret in a way the compiler cannot drop. */
void secret_wipe(void *buf, size_t len);
/* SHA-256 of len bytes. */
void secret_hash(const void *buf, size_t len, unsigned char out[32]);
/* Whether two secrets (or their hashes) are equal, in constant time. */
bool secret_equal(const void *a, const void *b, size_t len);
/* len bytes as lower-case hex into out (2 * len + 1 bytes). */
void secret_hex(const unsigned char *buf, size_t len, char *out);
/* len bytes in base64 (RFC 4648, padded), malloc'd: for binary or multi-line
 * text in a place that takes one line, such as an HTTP header. */
char *text_base64(const void *buf, size_t len);

/* ---- usersfile.c: liboath's usersfile format (users.oath) ---- */
/* The line of user name (not a comment): its start and length (with its
 * newline) within text. */
bool usersfile_find(const char *text, size_t textlen, const char *name, size_t *start,
    size_t *len);
/* The secret (the fourth field, hex) of one line: exactly keylen bytes. */
bool usersfile_secret(const char *line, size_t len, unsigned char *key, size_t keylen);
/* Removes every line of user name from text, in place; the new length (the
 * bytes after it are left as they were). */
size_t usersfile_remove(char *text, size_t len, const char *name);

/* ---- duration.c ---- */
/* Parses "90s", "15m", "24h", "30d", "1w" or combinations like "1h30m". */
bool duration_parse(const char *s, int64_t *seconds);
char *duration_format(arena *a, int64_t seconds);

/* ---- policy.c: loading and compiling a policy set ---- */
enum { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
enum { EFF_LOG, EFF_MODIFY, EFF_WARN, EFF_REQUIRE_APPROVAL, EFF_DENY };
enum { KIND_PROPOSAL = 1, KIND_EXPORT = 2, KIND_IMPORT = 4, KIND_ALL = 7 };
enum {
	RULE_EXPRESSION, RULE_FORBIDDEN_RANGE, RULE_TEST_REQUIREMENT,
	RULE_CHANGE_CONSTRAINT, RULE_REVIEW_REQUIREMENT, RULE_PROTECTED_PATHS,
	RULE_ALLOWLIST, RULE_DENYLIST, RULE_QUOTA, RULE__COUNT
};
enum { ROLE_REVIEWER, ROLE_ADMIN };

typedef struct override_spec {
	bool allowed;
	int approvals;
	int role;               /* ROLE_* */
	int64_t max_duration;   /* seconds; 0: no limit set by the policy */
} override_spec;

typedef struct range_spec { int64_t start, end; const char *reason; } range_spec;
typedef struct suite_spec { const char *suite; double min_rate; const node *pos; } suite_spec;
enum { LIMIT_MAX, LIMIT_MIN, LIMIT_ALLOWED, LIMIT_FORBIDDEN };
typedef struct limit_spec {
	int kind;               /* LIMIT_* */
	const char *key;        /* as written, e.g. "max_bytes_changed" */
	expr *field;            /* F, compiled as a path */
	double number;          /* max_ and min_ */
	value_set *values;      /* allowed_ and forbidden_ */
} limit_spec;
typedef struct cond_spec { expr *cond; const char *then, *message; } cond_spec;

typedef struct policy {
	const char *name, *description, *message;
	const char *file;       /* as shown in sources, e.g. "policies/rom.yaml" */
	int line, col;
	const char *source;     /* "FILE:LINE" */
	const char *json_name, *json_message, *json_source;   /* encoded once */
	bool enabled;           /* the policy and its file are enabled */
	int type;               /* RULE_* */
	int severity;
	int effect;
	int kinds;              /* KIND_* mask */
	const char **actions;   /* globs as written; none: every action */
	uint32_t *action_ids;   /* the same, as indices into the set's action_globs */
	size_t nactions;
	expr *when;
	override_spec override;
	expr *field;            /* the rule's field, compiled as a path */
	const node *set;        /* effect modify: the map of attribute changes */
	union {
		expr *condition;
		struct { range_spec *items; size_t n; } ranges;
		struct { suite_spec *items; size_t n; } suites;
		struct { limit_spec *items; size_t n; } limits;
		struct { cond_spec *items; size_t n; } conds;
		struct { const char **patterns; glob *globs; size_t npatterns; const node *operations; } paths;
		value_set *values;      /* allowlist and denylist */
		struct { double limit; int64_t window; expr *per; } quota;
	} u;
} policy;

typedef struct policy_file {
	const char *path;       /* as opened */
	const char *shown;      /* as shown in sources */
	bool enabled;
	unsigned char sha256[32];
} policy_file;

typedef struct policy_set {
	arena *arena;
	policy *items;
	size_t n, cap;
	strmap names;           /* name -> policy index + 1 */
	/* The distinct action globs of all policies: a handful serve dozens of
	 * policies, so evaluation tests each once per submission. */
	glob *action_globs;
	size_t nglobs, globcap;
	strmap glob_ids;        /* pattern -> index + 1 */
	policy_file *files;
	size_t nfiles, filecap;
} policy_set;

/* Loads every *.yaml and *.yml file of dir in name order. Sources name files
 * as shown_prefix/NAME (shown_prefix NULL: dir itself). Every load error is
 * added to errs; the set is returned even then, but must not be used to
 * evaluate unless errs is empty. NULL only when dir cannot be read. */
policy_set *policy_set_load(const char *dir, const char *shown_prefix, diags *errs);
/* Where policy_set_load_trees gets the files' trees from (a store keeps
 * them: data/policy_trees.c): find answers the tree kept for a file whose
 * bytes have that SHA-256, read into a (NULL: none); keep is given each tree
 * parsed without an error, and may keep it until the set is freed. */
typedef struct policy_trees {
	const node *(*find)(void *ctx, arena *a, const unsigned char sha256[32]);
	void (*keep)(void *ctx, const unsigned char sha256[32], const node *root);
	void *ctx;
} policy_trees;
/* policy_set_load, each file's tree from trees when they have it (NULL:
 * every file parsed). The files are read and hashed either way. */
policy_set *policy_set_load_trees(const char *dir, const char *shown_prefix,
    const policy_trees *trees, diags *errs);
/* Whether a file of that name in a policy directory is a policy file (ends in
 * .yaml or .yml and does not start with a dot). */
bool policy_file_name(const char *name);
/* Loads policies from files already in memory (tests and fuzzing). */
void policy_set_add_text(policy_set *ps, const char *shown, const char *text,
    size_t len, diags *errs);
policy_set *policy_set_new(void);
void policy_set_free(policy_set *ps);

/* ---- idname.c: names of reviewers, agents and submitters ---- */
enum { IDENTITY_NAME_MAX = 64 };
/* What a name may be, for messages: "... is not a name (" IDENTITY_NAME_RULE ")". */
#define IDENTITY_NAME_RULE "ASCII a-z, 0-9, . _ -, starting with a letter or digit, at most " \
	"64; upper case reads as lower case"
/* The canonical form of a name (PRODUCT.md section 2): in lower-cased, when
 * it is [a-z0-9][a-z0-9._-]{0,63} then; false (out unspecified) otherwise. */
bool identity_name(const char *in, char out[IDENTITY_NAME_MAX + 1]);
/* The same for len bytes that may hold NUL (a stored submitter): false for
 * those, as for anything else that is not a name. */
bool identity_name_n(const char *in, size_t len, char out[IDENTITY_NAME_MAX + 1]);

/* ---- submission.c: the reserved keys of a submission ---- */
typedef struct submission {
	const node *doc;
	const char *file;
	int line, col;
	const char *action, *kind, *ref, *title, *submitter;
	/* ref, title and submitter may hold NUL (\u0000 in JSON): their lengths,
	 * which the store keeps and shows (0 with a string: strlen) */
	size_t ref_len, title_len, submitter_len;
	/* the submitter's name as every comparison uses it (PRODUCT.md section
	 * 2): lower-cased; "" when there is none (or, stored before the rule, it
	 * is no name, and matches nobody). What the store keeps, what the field
	 * `submitter` reads, what quotas count and reviewers are compared with. */
	char submitter_name[IDENTITY_NAME_MAX + 1];
	int kind_bit;
	/* set by submission_canonical: the document the store keeps, and what a
	 * retried ref is compared by (the whole document, ref and title too) */
	const char *canonical;  /* the document as compact JSON, keys sorted */
	char content_hash[65];  /* SHA-256 of canonical, hex */
	/* set by submission_digest: what results show and decisions bind to */
	char digest[65];        /* hex; "" until set */
	/* the document's text as its reader split it from the file (NULL when
	 * none was kept), and whether it is a line of JSON Lines: what a client
	 * sends its server, which reads and evaluates it as read here */
	const char *text;
	size_t text_len;
	bool text_json;
	/* set by a caller that evaluated it ahead, on another thread, without a
	 * history source (NULL: not evaluated): the result stands as long as no
	 * quota rule asked for history (its nuses is 0), which evaluation with
	 * the store's history would answer otherwise; then only the quota rules
	 * run again (eval_options.ahead) */
	const struct eval_result *ahead;
} submission;

/* Validates a parsed document as a submission; adds one error on failure.
 * A submitter that is not a name is refused. */
bool submission_from_doc(const node *root, const char *file, submission *out, diags *errs);
/* The same for a document the store kept: a submitter stored before names
 * had their rule is kept as it is, with submitter_name "". */
bool submission_from_stored(const node *root, const char *file, submission *out, diags *errs);
/* idname.c: the submitter as the store keeps and results show it:
 * submitter_name, or one kept from before the rule as it was; NULL when there
 * is none. *len: its length (it may hold NUL). */
const char *submission_submitter(const submission *sub, size_t *len);
int kind_from_action(const char *action);
/* Fills sub->canonical (in a) and sub->content_hash; false if the document
 * cannot be encoded as JSON. */
bool submission_canonical(submission *sub, arena *a);
/* The digest of a submission's document (PRODUCT.md section 2): the SHA-256
 * of the RFC 8785 form of doc as submitted, without the top-level ref,
 * title and meta, as 64 hex digits in out; false when doc holds what JSON
 * cannot. submission_digest fills sub->digest from sub->doc. */
bool document_digest(const node *doc, char out[65]);
bool submission_digest(submission *sub);
/* The digest of a document given as its text (JSON or YAML: the canonical
 * JSON the store keeps, a document a client sent or was shown), read as the
 * store accepts it (64-bit integers included); false when it is no map. */
bool document_text_digest(const char *text, size_t len, char out[65]);

/* ---- eval.c: evaluation ---- */
enum {
	ST_ALLOWED, ST_PENDING, ST_BLOCKED, ST_APPROVED, ST_REJECTED, ST_OVERRIDDEN, ST_EXPIRED
};

typedef struct finding {
	const policy *policy;   /* NULL for built-in findings */
	const char *name;
	const char *type;       /* rule type, or "error" */
	int severity, effect;
	bool overridable;
	const char *message, *detail, *path, *source;
} finding;

typedef struct modification {
	const char *key;
	const node *value;
	const policy *by;
} modification;

typedef struct quota_use {
	const policy *policy;
	const char *per_value;  /* NULL: the quota has no per field */
	double amount;          /* 1 for a count, else the summed field */
} quota_use;

typedef struct eval_result {
	int status;
	finding *findings;
	size_t n, cap;
	int counts[3];          /* by severity */
	modification *mods;
	size_t nmods, modcap;
	quota_use *uses;        /* what this submission adds to each quota */
	size_t nuses, usecap;
} eval_result;

typedef struct quota_query {
	const policy *policy;
	const submission *sub;
	const char *per_value;  /* the per field's value as text; NULL: global */
	int64_t since;          /* Unix seconds: the window's start */
} quota_query;

typedef struct history_source {
	/* Adds the count or sum over stored submissions in the window to *out.
	 * Returns false with a message in err when the history cannot be read. */
	bool (*quota)(void *ctx, const quota_query *q, double *out, char *err, size_t errlen);
	void *ctx;
} history_source;

typedef struct eval_options {
	bool fail_closed;
	bool enforcement;       /* false: status is always allowed, unless tampered */
	/* The policy files differ from the pinned version: what differs, e.g.
	 * "policies/10-rom.yaml edited". Every submission then gets the
	 * critical, non-overridable policy_integrity finding; NULL: intact. */
	const char *tampered;
	int64_t now;            /* Unix seconds */
	const history_source *history;
	/* An evaluation of the same submission by the same policy set with the
	 * same options but no history (a worker's, ahead of the store): only
	 * the quota rules, the ones that read history, run again; every other
	 * rule's findings and modifications are taken from it, in their
	 * places. Ignored when a quota rule modifies the document. NULL: every
	 * rule runs. */
	const eval_result *ahead;
} eval_options;

void eval_options_default(eval_options *o);
/* Evaluates sub against every policy; allocations go to scratch. */
void evaluate(const policy_set *ps, const submission *sub, const eval_options *o,
    arena *scratch, eval_result *out);
/* Adds a finding (used by evaluation and by built-in checks). */
finding *result_add(eval_result *r, arena *a);
void result_finish(eval_result *r);

/* ---- names.c: the words for statuses, severities, effects, kinds, rule
 * types and roles ---- */
const char *status_name(int st);
const char *rule_type_name(int type);
const char *severity_name(int s);
const char *effect_name(int e);
const char *role_name(int r);
const char *kind_name(int kind_bit);
/* What the len bytes at s name (the whole word), or -1; kind_by_name gives
 * the KIND_* bit. */
int rule_type_by_name(const char *s, size_t len);
int severity_by_name(const char *s, size_t len);
int effect_by_name(const char *s, size_t len);
int role_by_name(const char *s, size_t len);
int kind_by_name(const char *s, size_t len);

/* ---- strbuf.c: a byte buffer that grows ---- */
typedef struct strbuf {
	char *s;
	size_t n, cap;
} strbuf;
/* Makes room for n more bytes and the NUL. */
void sb_grow(strbuf *b, size_t n);
/* Inline, so that a writer's literals are copied without a call or a
 * strlen: the JSON writers append a few bytes at a time. */
static inline void sb_put(strbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap)
		sb_grow(b, n);
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}
static inline void sb_puts(strbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}
/* An integer in decimal, as %lld writes it. */
static inline void sb_put_int(strbuf *b, int64_t v)
{
	char num[24];
	sb_put(b, num, (size_t)format_int(v, num));
}
/* printf appended; the format is the caller's own, its arguments written as
 * they are (escape outside text first). */
void sb_printf(strbuf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* ---- canon.c: RFC 8785, the JSON Canonicalization Scheme ---- */
/* Appends n's canonical text; false (b then holds part of it) when n holds
 * what JSON cannot: a number that is not finite, a string not UTF-8. */
/* s (n bytes) as a JSON string: the quote, the backslash and the controls
 * below U+0020 escaped (\b \f \n \r \t, the others \u00XX: in capitals as
 * jansson writes them, else in small letters as RFC 8785 does), everything
 * else as its UTF-8 bytes. False, with nothing written, when s is not valid
 * UTF-8 (no overlong form, no surrogate, nothing past U+10FFFF). */
bool json_string_write(strbuf *b, const char *s, size_t n, bool capitals);
bool canon_write(strbuf *b, const node *n);
/* The same for map m without its top-level members named in omit (a
 * NULL-ended list); any other node as canon_write. */
bool canon_write_without(strbuf *b, const node *m, const char *const *omit);
/* d as ECMAScript's Number::toString writes it (RFC 8785 section 3.2.2.3)
 * into out, CANON_NUMBER_MAX bytes; false when d is not finite. */
enum { CANON_NUMBER_MAX = 32 };
bool canon_number(double d, char *out);
/* The fewest fraction digits *places (1 to 21) and the integer *m, below
 * `below` (at most 10^15), such that m / 10^places is a exactly (a > 0, not
 * whole): a short decimal's digits, as the comment atop canon.c explains
 * (IEEE division is correctly rounded, so this is the decimal that reads
 * back as a). False when m would reach `below` first. In value.c, which
 * both canon.c and format_g call. */
bool short_decimal(double a, double below, int64_t *m, int *places);

/* ---- report.c: results as JSON and as text ---- */
/* s as a JSON string literal (jansson's encoding), in a: for constants. */
const char *json_quote(arena *a, const char *s);
/* Appends the result as one compact JSON object; prefix (may be NULL) is
 * written first inside the braces, e.g. "\"id\":42," for stored results. */
void result_write_json(strbuf *b, const char *prefix, const submission *sub, const eval_result *r);
/* The same for a stored result, whose modifications are kept as the JSON
 * text result_write_modifications wrote (NULL: none), not as nodes. */
void result_write_stored(strbuf *b, const char *prefix, const submission *sub,
    const eval_result *r, const char *modifications);
/* The counts by severity as a JSON object: {"info","warning","critical"}
 * as results have them, or with keys_sorted {"critical","info","warning"}
 * as the audit details have them. */
void result_write_counts(strbuf *b, const int counts[3], bool keys_sorted);
/* r's modifications as one JSON object (r->nmods > 0). */
void result_write_modifications(strbuf *b, const eval_result *r);
struct json_t;
struct json_t *result_to_json(const submission *sub, const eval_result *r);
/* A document as JSON (its canonical text: compact, keys sorted, for hashing). */
struct json_t *node_to_json(const node *n);
/* s (n bytes, NUL included) as a JSON string, null for NULL: JSON cannot
 * hold bytes that are not UTF-8, and they become U+FFFD. */
struct json_t *json_string_lossy(const char *s, size_t n);
/* Appends that canonical text directly, without building the tree. */
void node_write_canonical(strbuf *b, const node *n);
/* Whether every integer in j is within ±DOC_MAX_INT (I-JSON), as documents
 * are: JSON read with jansson is held to the same limit. */
bool json_exact_integers(const struct json_t *j);
/* Appends s as a JSON string (null for NULL), encoded as jansson does. */
void sb_put_json_string(strbuf *b, const char *s);
/* The same for s of n bytes, which may hold NUL. */
void sb_put_json_stringn(strbuf *b, const char *s, size_t n);
void result_print_text(FILE *out, const submission *sub, const eval_result *r);
struct json_t *policy_to_json(const policy *p);

/* ---- jsontext.c: JSON texts for people, without a JSON library above ---- */
/* One policy as policy list --json prints it (compact; malloc'd). */
char *policy_json(const policy *p);
/* n as compact JSON text with its keys sorted, numbers as jansson writes
 * them (1.0 stays a real), so that a value read by the document reader and
 * one read by jansson are written alike; malloc'd, NULL when n holds what
 * JSON cannot (a number that is not finite, text not UTF-8). */
char *node_json_text(const node *n);
/* text (any JSON value; strings may hold \u0000) indented by two spaces,
 * keys sorted or as written, reals with real_precision digits (0: the
 * writer's default); malloc'd, NULL when text is not JSON. */
char *jsontext_pretty(const char *text, bool sort_keys, int real_precision);
/* A JSON object as "key=value key=value" (strings bare, other values as
 * compact JSON without quotes), appended to b until it holds max bytes;
 * false when text is not an object. */
bool jsontext_flat(const char *text, strbuf *b, size_t max);
/* One line of a JSON text laid out as indented "key: value" lines. */
typedef struct jsontext_line {
	int indent;
	const char *key;        /* an object member's key (NULL: none) */
	bool item;              /* an array item, shown as "-" */
	const char *value;      /* a scalar or an empty container as compact JSON;
	                         * NULL: a container whose members follow */
	const char *path;       /* the value's path as findings write it: a.b[0] */
} jsontext_line;
/* The lines of text (a JSON value), in a; false when text is not JSON. */
bool jsontext_outline(arena *a, const char *text, jsontext_line **lines, size_t *n);

/* ---- visible.c: outside text made safe for a terminal ---- */
/* VIS_TEXT: a raw string (a backslash is doubled). VIS_ESCAPED: text whose
 * backslashes already begin escapes, such as JSON (a backslash stays). */
enum { VIS_TEXT, VIS_ESCAPED };
/* Appends s (n bytes, NUL bytes included) to b with every control, C1 and
 * bidi character and every byte that is not UTF-8 written as a visible
 * escape (\x1b, \u009b, \u202e, \xff; \t \n \r): the one way text
 * that did not come from arbiter reaches a terminal. */
void visible_put(strbuf *b, const char *s, size_t n, int mode);
/* The same, written to out. */
void visible_write(FILE *out, const char *s, size_t n, int mode);
/* A C string in VIS_TEXT ("" for NULL). */
void visible_fputs(FILE *out, const char *s);
/* The length of the valid UTF-8 character at s (n bytes left), or 0. */
size_t utf8_char_len(const char *s, size_t n);

#endif
