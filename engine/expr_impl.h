/*
 * expr_impl.h: the compiled form of expressions, shared by the parser
 * (expr_parse.c) and the evaluator (expr_eval.c) and nobody else.
 */
#ifndef ARBITER_EXPR_IMPL_H
#define ARBITER_EXPR_IMPL_H

#include <regex.h>

#include "engine.h"

typedef enum {
	X_LIT,          /* a constant, including constant lists */
	X_LIST,         /* a list literal with non-constant items */
	X_FIELD,        /* a top-level field of the submission */
	X_VAR,          /* a variable bound by a list macro */
	X_MEMBER,       /* a.name */
	X_INDEX,        /* a[b] */
	X_NOT, X_NEG,
	X_BIN,          /* arithmetic, comparison, in */
	X_AND, X_OR, X_COND,
	X_CALL, X_MACRO
} xkind;

typedef enum {
	OP_MUL, OP_DIV, OP_MOD, OP_ADD, OP_SUB,
	OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_IN
} binop;

typedef enum {
	F_SIZE, F_HAS, F_GLOB, F_MATCHES, F_STARTS_WITH, F_ENDS_WITH, F_CONTAINS,
	F_LOWER, F_UPPER, F_INT, F_FLOAT, F_STRING, F_MIN, F_MAX
} fn;

typedef enum { M_ANY, M_ALL, M_COUNT, M_SUM } macro;

struct expr {
	uint8_t kind;           /* xkind */
	uint8_t op;             /* binop, fn or macro */
	uint16_t slot;          /* X_VAR, X_MACRO: the variable's slot */
	int line, col;
	const char *file;
	value lit;              /* X_LIT */
	const char *name;       /* X_FIELD, X_MEMBER */
	size_t len;
	uint32_t hash;          /* key_hash(name) */
	bool is_kind;           /* X_FIELD `kind`: reads the derived kind */
	bool is_submitter;      /* X_FIELD `submitter`: reads the submitter's name */
	const char *path;       /* for field paths: the path as text */
	expr *a, *b, *c;
	expr **args;            /* X_CALL, X_LIST */
	size_t nargs;
	regex_t *re;            /* matches() with a constant pattern */
	size_t re_weight;       /* its expanded size, see regex_refusal */
	/* only on the root */
	const char *text;
	expr **fields;          /* the field paths it reads, for details */
	size_t nfields;
};

/* Why the regular expression pat (len bytes) is refused, or NULL; *weight is
 * set to its size with repetition counts expanded, the measure of what
 * compiling and matching it costs, and *wrap to what regex_compile needs. */
const char *regex_refusal(const char *pat, size_t len, size_t *weight, bool *wrap);
/* regcomp for matches(): pat up to its NUL, wrapped when *wrap allows. */
int regex_compile(regex_t *re, const char *pat, bool wrap);

#endif
