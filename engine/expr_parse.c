/*
 * expr_parse.c: lexer and parser of the expression language.
 *
 * A recursive-descent parser with one function per precedence level, from
 * lowest to highest: ?:, ||, &&, in, == !=, < <= > >=, + -, * / %, unary ! -,
 * postfix . [] and primaries. Policies are compiled once when they load, so
 * this is where every static check happens: syntax, unknown functions, arity,
 * macro variables, constant regular expressions. Constant list literals are
 * built once here, so `x in ["a", "b"]` allocates nothing at evaluation.
 *
 * Bounds: source at most EXPR_MAX_BYTES, nesting (parentheses, calls, lists,
 * unary operators, indexes) at most EXPR_MAX_DEPTH; the parser is linear in
 * the length of the source.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "expr_impl.h"

typedef enum {
	T_END, T_INT, T_FLOAT, T_STRING, T_IDENT,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_DOT, T_QUESTION, T_COLON,
	T_NOT, T_MINUS, T_PLUS, T_STAR, T_SLASH, T_PERCENT,
	T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE, T_AND, T_OR, T_IN,
	T_TRUE, T_FALSE, T_NULL, T_ERROR
} token_kind;

typedef struct token {
	token_kind kind;
	size_t pos, len;        /* in the source */
	int64_t i;
	double d;
	const char *s;          /* T_STRING: the decoded text, T_IDENT: the name */
	size_t slen;
} token;

typedef struct parser {
	arena *a;
	const char *src;
	size_t len, pos;
	const char *file;
	const node *at;         /* the scalar holding the source */
	diags *errs;
	token tok;              /* the current token */
	int depth;
	const char *vars[EXPR_MAX_VARS];
	size_t vlens[EXPR_MAX_VARS];
	int nvars;
	bool failed;
	size_t *bols;           /* the offset where each line of the source starts */
	size_t nbols;
} parser;

/* Maps an offset in the source to a position in the policy file. It runs for
 * every node, so it searches the line starts rather than scanning the source
 * from its start, which made parsing quadratic in the expression's length. */
static void position(const parser *p, size_t off, int *line, int *col)
{
	size_t lo = 0, hi = p->nbols;   /* the last line starting at or before off */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->bols[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	int l = (int)lo;
	size_t bol = p->nbols > 0 ? p->bols[lo] : 0;
	if (p->at == NULL) {
		*line = l + 1;
		*col = (int)(off - bol) + 1;
		return;
	}
	int base = (int)p->at->col;
	if (p->at->style == STYLE_BLOCK) {
		/* doc.c places a block scalar at its value's first line and indentation */
		*line = (int)p->at->line + l;
		*col = base + (int)(off - bol);
	} else if (l == 0) {
		*line = (int)p->at->line;
		*col = base + (p->at->style == STYLE_QUOTED ? 1 : 0) + (int)off;
	} else {
		*line = (int)p->at->line + l;
		*col = (int)(off - bol) + 1;
	}
}

static void error_at(parser *p, size_t off, const char *fmt, const char *arg)
{
	if (p->failed)
		return;
	p->failed = true;
	int line, col;
	position(p, off, &line, &col);
	char msg[512];
	snprintf(msg, sizeof msg, fmt, arg);
	diags_add(p->errs, p->file, line, col, "%s", msg);
}

static const char *token_text(parser *p, const token *t)
{
	if (t->kind == T_END)
		return "end of expression";
	size_t n = t->len > 40 ? 40 : t->len;
	return arena_printf(p->a, "\"%.*s\"", (int)n, p->src + t->pos);
}

/* ---- lexer ---- */

static void utf8_put(char *out, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xC0 | (cp >> 6));
		out[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[(*n)++] = (char)(0xE0 | (cp >> 12));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (cp & 0x3F));
	}
}

static bool lex_string(parser *p, token *t)
{
	char quote = p->src[p->pos++];
	char *out = arena_alloc(p->a, p->len - p->pos + 1);
	size_t n = 0;
	for (;;) {
		if (p->pos >= p->len) {
			error_at(p, t->pos, "%s", "unterminated string");
			return false;
		}
		char c = p->src[p->pos++];
		if (c == quote)
			break;
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		if (p->pos >= p->len)
			continue;
		char e = p->src[p->pos++];
		switch (e) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case '\\': case '"': case '\'': out[n++] = e; break;
		case 'u': {
			unsigned cp = 0;
			for (int k = 0; k < 4; k++) {
				char h = p->pos < p->len ? p->src[p->pos] : '\0';
				if (!isxdigit((unsigned char)h)) {
					error_at(p, p->pos, "%s", "\\u needs four hex digits");
					return false;
				}
				cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0'
				    : (tolower((unsigned char)h) - 'a' + 10));
				p->pos++;
			}
			if (cp >= 0xD800 && cp <= 0xDFFF) {
				error_at(p, p->pos - 6, "%s", "\\u escape of a surrogate half");
				return false;
			}
			utf8_put(out, &n, cp);
			break;
		}
		default:
			error_at(p, p->pos - 2, "unknown escape \\%s", arena_strndup(p->a, &e, 1));
			return false;
		}
	}
	out[n] = '\0';
	t->kind = T_STRING;
	t->s = out;
	t->slen = n;
	return true;
}

static bool lex_number(parser *p, token *t)
{
	const char *s = p->src + p->pos;
	size_t i = 0, rest = p->len - p->pos;
	bool is_float = false;
	if (rest > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		i = 2;
		uint64_t v = 0;
		while (i < rest && isxdigit((unsigned char)s[i])) {
			unsigned d = isdigit((unsigned char)s[i]) ? (unsigned)(s[i] - '0')
			    : (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
			if (v > (uint64_t)INT64_MAX / 16) {
				error_at(p, p->pos, "%s", "integer literal too large");
				return false;
			}
			v = v * 16 + d;
			i++;
		}
		if (i == 2 || v > (uint64_t)INT64_MAX) {
			error_at(p, p->pos, "%s", "malformed hex literal");
			return false;
		}
		t->kind = T_INT;
		t->i = (int64_t)v;
		p->pos += i;
		return true;
	}
	while (i < rest && isdigit((unsigned char)s[i]))
		i++;
	if (i + 1 < rest && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
		is_float = true;
		i++;
		while (i < rest && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < rest && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < rest && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < rest && isdigit((unsigned char)s[j])) {
			is_float = true;
			i = j;
			while (i < rest && isdigit((unsigned char)s[i]))
				i++;
		}
	}
	if (i < rest && (isalpha((unsigned char)s[i]) || s[i] == '_')) {
		error_at(p, p->pos, "%s", "malformed number");
		return false;
	}
	char *text = arena_strndup(p->a, s, i);
	p->pos += i;
	if (is_float) {
		t->kind = T_FLOAT;
		t->d = strtod(text, NULL);
		return true;
	}
	uint64_t v = 0;
	for (size_t k = 0; k < i; k++) {
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(text[k] - '0')) / 10) {
			error_at(p, t->pos, "%s", "integer literal too large");
			return false;
		}
		v = v * 10 + (uint64_t)(text[k] - '0');
	}
	t->kind = T_INT;
	t->i = (int64_t)v;
	return true;
}

static void next(parser *p)
{
	token *t = &p->tok;
	memset(t, 0, sizeof *t);
	while (p->pos < p->len && isspace((unsigned char)p->src[p->pos]))
		p->pos++;
	t->pos = p->pos;
	if (p->failed) {
		t->kind = T_ERROR;
		return;
	}
	if (p->pos >= p->len) {
		t->kind = T_END;
		return;
	}
	char c = p->src[p->pos];
	char d = p->pos + 1 < p->len ? p->src[p->pos + 1] : '\0';
	static const struct { char c, d; token_kind k; } ops[] = {
		{ '<', '=', T_LE }, { '>', '=', T_GE }, { '=', '=', T_EQ }, { '!', '=', T_NE },
		{ '&', '&', T_AND }, { '|', '|', T_OR },
		{ '(', 0, T_LPAREN }, { ')', 0, T_RPAREN }, { '[', 0, T_LBRACK },
		{ ']', 0, T_RBRACK }, { ',', 0, T_COMMA }, { '.', 0, T_DOT },
		{ '?', 0, T_QUESTION }, { ':', 0, T_COLON }, { '!', 0, T_NOT },
		{ '-', 0, T_MINUS }, { '+', 0, T_PLUS }, { '*', 0, T_STAR },
		{ '/', 0, T_SLASH }, { '%', 0, T_PERCENT }, { '<', 0, T_LT }, { '>', 0, T_GT },
	};
	if (c == '"' || c == '\'') {
		if (!lex_string(p, t))
			t->kind = T_ERROR;
	} else if (isdigit((unsigned char)c)) {
		if (!lex_number(p, t))
			t->kind = T_ERROR;
	} else if (isalpha((unsigned char)c) || c == '_') {
		size_t i = p->pos;
		while (i < p->len && (isalnum((unsigned char)p->src[i]) || p->src[i] == '_'))
			i++;
		t->s = p->src + p->pos;
		t->slen = i - p->pos;
		p->pos = i;
		t->kind = T_IDENT;
		static const struct { const char *w; token_kind k; } words[] = {
			{ "in", T_IN }, { "true", T_TRUE }, { "false", T_FALSE }, { "null", T_NULL },
		};
		for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
			if (strlen(words[k].w) == t->slen && memcmp(words[k].w, t->s, t->slen) == 0)
				t->kind = words[k].k;
	} else {
		t->kind = T_ERROR;
		for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
			if (ops[k].c == c && (ops[k].d == 0 || ops[k].d == d)) {
				t->kind = ops[k].k;
				p->pos += ops[k].d ? 2 : 1;
				break;
			}
		if (t->kind == T_ERROR) {
			if ((c == '=' || c == '&' || c == '|'))
				error_at(p, p->pos, "unexpected \"%s\" (did you mean ==, && or ||?)",
				    arena_strndup(p->a, &c, 1));
			else {
				/* the whole UTF-8 character, not its first byte alone */
				size_t n = 1;
				while (n < 4 && p->pos + n < p->len &&
				    ((unsigned char)p->src[p->pos + n] & 0xC0) == 0x80)
					n++;
				error_at(p, p->pos, "unexpected character \"%s\"",
				    arena_strndup(p->a, p->src + p->pos, n));
			}
		}
	}
	t->len = p->pos - t->pos;
}

/* ---- tree building ---- */

static expr *mk(parser *p, xkind kind, size_t off)
{
	expr *e = arena_alloc(p->a, sizeof *e);
	memset(e, 0, sizeof *e);
	e->kind = (uint8_t)kind;
	e->file = p->file;
	position(p, off, &e->line, &e->col);
	return e;
}

static bool expect(parser *p, token_kind k, const char *what)
{
	if (p->tok.kind == k) {
		next(p);
		return true;
	}
	error_at(p, p->tok.pos, what, token_text(p, &p->tok));
	return false;
}

static bool enter(parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		error_at(p, p->tok.pos, "%s", "expression nested deeper than 64 levels");
		return false;
	}
	return true;
}

static expr *parse_cond(parser *p);

static const struct function {
	const char *name;
	fn f;
	int min_args, max_args;
} functions[] = {
	{ "size", F_SIZE, 1, 1 }, { "has", F_HAS, 1, 2 }, { "glob", F_GLOB, 2, 2 },
	{ "matches", F_MATCHES, 2, 2 }, { "starts_with", F_STARTS_WITH, 2, 2 },
	{ "ends_with", F_ENDS_WITH, 2, 2 }, { "contains", F_CONTAINS, 2, 2 },
	{ "lower", F_LOWER, 1, 1 }, { "upper", F_UPPER, 1, 1 }, { "int", F_INT, 1, 1 },
	{ "float", F_FLOAT, 1, 1 }, { "string", F_STRING, 1, 1 },
	{ "min", F_MIN, 1, 64 }, { "max", F_MAX, 1, 64 },
};
static const char *const macros[] = { "any", "all", "count", "sum" };

static bool name_is(const token *t, const char *s)
{
	return strlen(s) == t->slen && memcmp(s, t->s, t->slen) == 0;
}

static expr *parse_macro(parser *p, macro m, size_t off)
{
	expr *e = mk(p, X_MACRO, off);
	e->op = (uint8_t)m;
	e->a = parse_cond(p);
	if (e->a == NULL || !expect(p, T_COMMA, "expected \",\" after the list, found %s"))
		return NULL;
	if (p->tok.kind != T_IDENT) {
		error_at(p, p->tok.pos, "expected a variable name, found %s", token_text(p, &p->tok));
		return NULL;
	}
	if (p->nvars >= EXPR_MAX_VARS) {
		error_at(p, p->tok.pos, "%s", "list macros nested more than 16 deep");
		return NULL;
	}
	e->slot = (uint16_t)p->nvars;
	p->vars[p->nvars] = p->tok.s;
	p->vlens[p->nvars] = p->tok.slen;
	p->nvars++;
	next(p);
	if (!expect(p, T_COMMA, "expected \",\" after the variable, found %s"))
		return NULL;
	e->b = parse_cond(p);
	p->nvars--;
	if (e->b == NULL || !expect(p, T_RPAREN, "expected \")\", found %s"))
		return NULL;
	return e;
}

static bool is_constant(const expr *e)
{
	return e->kind == X_LIT;
}

static void free_regex(void *re)
{
	regfree(re);
}

#define REGEX_MAX_WEIGHT 1000

/* glibc compiles a repetition count by copying its operand and matches a
 * back-reference by backtracking, so "((a{1,100}){1,100}){1,100}" takes
 * seconds to compile and "(.*)(.*)\2\1" forever to match. Refused: back-
 * references, groups nested deeper than 64, and counts that expand the pattern
 * beyond REGEX_MAX_WEIGHT atoms (a bracket expression or group is one atom,
 * weighing what it holds). *wrap: regex_compile may wrap it. */
const char *regex_refusal(const char *pat, size_t len, size_t *weight, bool *wrap)
{
	size_t sum[65];         /* the weight of each open group so far */
	size_t last = 0;        /* the weight of the atom just read, for a count after it */
	int depth = 0;
	bool odd = false;       /* a ')' that closes nothing, a trailing '\\' or a '^' */
	sum[0] = 0;
	for (size_t i = 0; i < len; i++) {
		char c = pat[i];
		if (c == '(') {
			if (depth == 64)
				return "groups nested more than 64 deep";
			sum[++depth] = 0;
			last = 0;
			continue;
		}
		if (c == ')' && depth > 0) {
			last = sum[depth--];
			sum[depth] += last;
		} else if (c == '{' && last > 0 && i + 1 < len && isdigit((unsigned char)pat[i + 1])) {
			size_t j = i + 1, count = 0;
			for (; j < len && isdigit((unsigned char)pat[j]); j++)
				count = count > 100000 ? count : count * 10 + (size_t)(pat[j] - '0');
			if (j < len && pat[j] == ',') {
				size_t upper = 0;
				bool bounded = false;
				for (j++; j < len && isdigit((unsigned char)pat[j]); j++, bounded = true)
					upper = upper > 100000 ? upper : upper * 10 + (size_t)(pat[j] - '0');
				count = bounded ? upper : count + 1;
			}
			if (j >= len || pat[j] != '}') {
				sum[depth]++;   /* not a count: a literal brace */
				last = 1;
				continue;
			}
			if (count > REGEX_MAX_WEIGHT)
				return "a repetition count over 1000";
			/* the atom was counted once already; now it is there count times */
			sum[depth] += last * (count ? count - 1 : 0);
			last *= count ? count : 1;
			i = j;
		} else if (c == '*' || c == '?') {
			continue;       /* a loop, not copies: last stays for a count after it */
		} else if (c == '+') {
			/* x+ is compiled as x x*, so "a+++..." doubles with each '+' */
			sum[depth] += last;
			last *= 2;
		} else if (c == '|') {
			last = 0;
			continue;
		} else {
			odd = odd || c == ')' || c == '^' || (c == '\\' && i + 1 == len);
			if (c == '\\' && i + 1 < len) {
				if (pat[i + 1] >= '1' && pat[i + 1] <= '9')
					return "back-references such as \\1 are not supported";
				i++;
			} else if (c == '[') {
				/* a bracket expression is one atom: skip to its ']', which may
				 * come first, and past [:class:], [.x.] and [=x=] inside it */
				size_t j = i + 1;
				if (j < len && pat[j] == '^')
					j++;
				if (j < len && pat[j] == ']')
					j++;
				while (j < len && pat[j] != ']') {
					if (pat[j] == '[' && j + 1 < len &&
					    (pat[j + 1] == ':' || pat[j + 1] == '.' || pat[j + 1] == '=')) {
						char kind = pat[j + 1];
						for (j += 2; j + 1 < len && !(pat[j] == kind && pat[j + 1] == ']'); j++)
							;
						j += 2;
					} else {
						j++;
					}
				}
				i = j < len ? j : len;
			}
			last = 1;
			sum[depth]++;
		}
		if (sum[depth] > REGEX_MAX_WEIGHT)
			return "repetition counts that expand it beyond 1000 atoms";
	}
	*wrap = depth == 0 && !odd;
	size_t total = 0;
	while (depth >= 0)
		total += sum[depth--];
	*weight = total;
	return NULL;
}

/* Compiles pat for matches(), which finds it anywhere in the text. glibc
 * searches by trying a match from each position in turn, quadratic in the
 * text for everyday patterns ("[a-z]+@[a-z]+\\.com" over 100 KB of letters:
 * 17 s); "^.*(pat)" means the same and is one pass. In the C locale the
 * engine runs in, `.` is any byte but NUL, which ends the text anyway. Not for
 * a pattern with an anchor '^' (after ".*" glibc lets it match after a
 * newline) or with parentheses that do not pair up. */
int regex_compile(regex_t *re, const char *pat, bool wrap)
{
	if (!wrap)
		return regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
	size_t n = strlen(pat);
	char *buf = malloc(n + 6);
	if (buf == NULL)
		abort();
	memcpy(buf, "^.*(", 4);
	memcpy(buf + 4, pat, n);
	memcpy(buf + 4 + n, ")", 2);
	int rc = regcomp(re, buf, REG_EXTENDED | REG_NOSUB);
	free(buf);
	return rc;
}

static expr *parse_call(parser *p, const token *name)
{
	size_t off = name->pos;
	for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
		if (name_is(name, macros[i]))
			return parse_macro(p, (macro)i, off);
	const struct function *f = NULL;
	for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
		if (name_is(name, functions[i].name))
			f = &functions[i];
	if (f == NULL) {
		error_at(p, off, "unknown function %s", arena_strndup(p->a, name->s, name->slen));
		return NULL;
	}
	expr *e = mk(p, X_CALL, off);
	e->op = (uint8_t)f->f;
	expr *args[64];
	size_t n = 0;
	if (p->tok.kind != T_RPAREN) {
		for (;;) {
			if (n == 64) {
				error_at(p, p->tok.pos, "%s", "too many arguments");
				return NULL;
			}
			if ((args[n++] = parse_cond(p)) == NULL)
				return NULL;
			if (p->tok.kind != T_COMMA)
				break;
			next(p);
		}
	}
	if (!expect(p, T_RPAREN, "expected \",\" or \")\", found %s"))
		return NULL;
	if ((int)n < f->min_args || (int)n > f->max_args) {
		char msg[128];
		if (f->min_args == f->max_args)
			snprintf(msg, sizeof msg, "%s() takes %d argument%s, not %zu", f->name,
			    f->min_args, f->min_args == 1 ? "" : "s", n);
		else
			snprintf(msg, sizeof msg, "%s() takes %d to %d arguments, not %zu", f->name,
			    f->min_args, f->max_args, n);
		error_at(p, off, "%s", msg);
		return NULL;
	}
	e->args = arena_alloc(p->a, n * sizeof *e->args + 1);
	memcpy(e->args, args, n * sizeof *args);
	e->nargs = n;
	if (f->f == F_MATCHES && is_constant(args[1])) {
		if (args[1]->lit.type != NODE_STRING) {
			error_at(p, off, "%s", "matches() needs a string pattern");
			return NULL;
		}
		/* regcomp reads the pattern up to a NUL */
		const char *pat = args[1]->lit.u.str.s;
		bool wrap;
		const char *why = regex_refusal(pat, strnlen(pat, args[1]->lit.u.str.len),
		    &e->re_weight, &wrap);
		if (why != NULL) {
			error_at(p, off, "bad regular expression: %s", why);
			return NULL;
		}
		e->re = arena_alloc(p->a, sizeof *e->re);
		int rc = regex_compile(e->re, pat, wrap);
		if (rc != 0) {
			char buf[128];
			regerror(rc, e->re, buf, sizeof buf);
			e->re = NULL;
			error_at(p, off, "bad regular expression: %s", buf);
			return NULL;
		}
		arena_on_free(p->a, free_regex, e->re);
	}
	return e;
}

static expr *parse_list(parser *p, size_t off)
{
	expr *items[256];
	expr **all = items;
	size_t n = 0, cap = 256;
	bool constant = true;
	if (p->tok.kind != T_RBRACK) {
		for (;;) {
			expr *it = parse_cond(p);
			if (it == NULL)
				return NULL;
			if (n == cap) {
				expr **bigger = arena_alloc(p->a, 2 * cap * sizeof *bigger);
				memcpy(bigger, all, n * sizeof *all);
				all = bigger;
				cap *= 2;
			}
			all[n++] = it;
			constant = constant && is_constant(it);
			if (p->tok.kind != T_COMMA)
				break;
			next(p);
		}
	}
	if (!expect(p, T_RBRACK, "expected \",\" or \"]\", found %s"))
		return NULL;
	expr *e = mk(p, constant ? X_LIT : X_LIST, off);
	if (constant) {
		node *l = arena_alloc(p->a, sizeof *l);
		memset(l, 0, sizeof *l);
		l->type = NODE_LIST;
		l->u.list.items = arena_alloc(p->a, n * sizeof(node *) + 1);
		for (size_t i = 0; i < n; i++)
			l->u.list.items[i] = value_to_node(p->a, all[i]->lit);
		l->u.list.n = n;
		e->lit.type = NODE_LIST;
		e->lit.u.n = l;
	} else {
		e->args = arena_alloc(p->a, n * sizeof *e->args + 1);
		memcpy(e->args, all, n * sizeof *all);
		e->nargs = n;
	}
	return e;
}

static expr *parse_primary(parser *p)
{
	token t = p->tok;
	size_t off = t.pos;
	expr *e;
	switch (t.kind) {
	case T_INT: case T_FLOAT: case T_STRING: case T_TRUE: case T_FALSE: case T_NULL:
		e = mk(p, X_LIT, off);
		e->lit.type = t.kind == T_INT ? NODE_INT : t.kind == T_FLOAT ? NODE_FLOAT
		    : t.kind == T_STRING ? NODE_STRING : t.kind == T_NULL ? NODE_NULL : NODE_BOOL;
		e->lit.u.i = t.i;
		if (t.kind == T_FLOAT)
			e->lit.u.d = t.d;
		if (t.kind == T_STRING) {
			e->lit.u.str.s = t.s;
			e->lit.u.str.len = t.slen;
		}
		if (t.kind == T_TRUE || t.kind == T_FALSE)
			e->lit.u.b = t.kind == T_TRUE;
		next(p);
		return e;
	case T_LPAREN:
		next(p);
		if (!enter(p))
			return NULL;
		e = parse_cond(p);
		p->depth--;
		if (e == NULL || !expect(p, T_RPAREN, "expected \")\", found %s"))
			return NULL;
		return e;
	case T_LBRACK:
		next(p);
		if (!enter(p))
			return NULL;
		e = parse_list(p, off);
		p->depth--;
		return e;
	case T_IDENT:
		next(p);
		if (p->tok.kind == T_LPAREN) {
			next(p);
			if (!enter(p))
				return NULL;
			e = parse_call(p, &t);
			p->depth--;
			return e;
		}
		for (int i = p->nvars - 1; i >= 0; i--)
			if (p->vlens[i] == t.slen && memcmp(p->vars[i], t.s, t.slen) == 0) {
				e = mk(p, X_VAR, off);
				e->slot = (uint16_t)i;
				e->name = arena_strndup(p->a, t.s, t.slen);
				e->len = t.slen;
				return e;
			}
		e = mk(p, X_FIELD, off);
		e->name = arena_strndup(p->a, t.s, t.slen);
		e->len = t.slen;
		e->hash = key_hash(e->name, e->len);
		e->is_kind = e->len == 4 && memcmp(e->name, "kind", 4) == 0;
		e->is_submitter = e->len == 9 && memcmp(e->name, "submitter", 9) == 0;
		e->path = e->name;
		return e;
	case T_ERROR:
		return NULL;
	default:
		error_at(p, off, "expected a value, found %s", token_text(p, &t));
		return NULL;
	}
}

static bool is_identifier(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* Each node of a chain such as a.b.c keeps its own path as text, so a long
 * chain would cost the square of its length in memory: past EXPR_MAX_PATH
 * bytes a chain is no longer a field path. */
#define EXPR_MAX_PATH 256

static bool path_fits(const expr *e, size_t more)
{
	return e->path != NULL && strlen(e->path) + more <= EXPR_MAX_PATH;
}

static expr *parse_postfix(parser *p)
{
	expr *e = parse_primary(p);
	while (e != NULL) {
		size_t off = p->tok.pos;
		if (p->tok.kind == T_DOT) {
			next(p);
			if (p->tok.kind != T_IDENT && p->tok.kind != T_IN && p->tok.kind != T_TRUE &&
			    p->tok.kind != T_FALSE && p->tok.kind != T_NULL) {
				error_at(p, p->tok.pos, "expected a field name after \".\", found %s",
				    token_text(p, &p->tok));
				return NULL;
			}
			expr *m = mk(p, X_MEMBER, off);
			m->a = e;
			m->name = arena_strndup(p->a, p->src + p->tok.pos, p->tok.len);
			m->len = p->tok.len;
			m->hash = key_hash(m->name, m->len);
			if (path_fits(e, m->len + 1))
				m->path = arena_printf(p->a, "%s.%s", e->path, m->name);
			next(p);
			e = m;
		} else if (p->tok.kind == T_LBRACK) {
			next(p);
			if (!enter(p))
				return NULL;
			expr *x = mk(p, X_INDEX, off);
			x->a = e;
			x->b = parse_cond(p);
			p->depth--;
			if (x->b == NULL || !expect(p, T_RBRACK, "expected \"]\", found %s"))
				return NULL;
			if (path_fits(e, 22) && x->b->kind == X_LIT && x->b->lit.type == NODE_INT)
				x->path = arena_printf(p->a, "%s[%lld]", e->path, (long long)x->b->lit.u.i);
			else if (x->b->kind == X_LIT && x->b->lit.type == NODE_STRING &&
			    path_fits(e, x->b->lit.u.str.len + 4))
				x->path = is_identifier(x->b->lit.u.str.s, x->b->lit.u.str.len)
				    ? arena_printf(p->a, "%s.%s", e->path, x->b->lit.u.str.s)
				    : arena_printf(p->a, "%s[\"%s\"]", e->path, x->b->lit.u.str.s);
			e = x;
		} else {
			break;
		}
	}
	return e;
}

static expr *parse_unary(parser *p)
{
	if (p->tok.kind == T_NOT || p->tok.kind == T_MINUS) {
		size_t off = p->tok.pos;
		xkind k = p->tok.kind == T_NOT ? X_NOT : X_NEG;
		next(p);
		if (!enter(p))
			return NULL;
		expr *operand = parse_unary(p);
		p->depth--;
		if (operand == NULL)
			return NULL;
		if (k == X_NEG && operand->kind == X_LIT && operand->lit.type == NODE_INT &&
		    operand->lit.u.i != INT64_MIN) {
			operand->lit.u.i = -operand->lit.u.i;
			return operand;
		}
		if (k == X_NEG && operand->kind == X_LIT && operand->lit.type == NODE_FLOAT) {
			operand->lit.u.d = -operand->lit.u.d;
			return operand;
		}
		expr *e = mk(p, k, off);
		e->a = operand;
		return e;
	}
	return parse_postfix(p);
}

typedef expr *(*level_fn)(parser *);

static expr *binary(parser *p, level_fn sub, const token_kind *kinds, const binop *ops, size_t n)
{
	expr *left = sub(p);
	while (left != NULL) {
		size_t i;
		for (i = 0; i < n && p->tok.kind != kinds[i]; i++)
			;
		if (i == n)
			break;
		size_t off = p->tok.pos;
		next(p);
		expr *right = sub(p);
		if (right == NULL)
			return NULL;
		expr *e = mk(p, X_BIN, off);
		e->op = (uint8_t)ops[i];
		e->a = left;
		e->b = right;
		left = e;
	}
	return left;
}

static expr *parse_mul(parser *p)
{
	static const token_kind k[] = { T_STAR, T_SLASH, T_PERCENT };
	static const binop o[] = { OP_MUL, OP_DIV, OP_MOD };
	return binary(p, parse_unary, k, o, 3);
}

static expr *parse_add(parser *p)
{
	static const token_kind k[] = { T_PLUS, T_MINUS };
	static const binop o[] = { OP_ADD, OP_SUB };
	return binary(p, parse_mul, k, o, 2);
}

static expr *parse_rel(parser *p)
{
	static const token_kind k[] = { T_LT, T_LE, T_GT, T_GE };
	static const binop o[] = { OP_LT, OP_LE, OP_GT, OP_GE };
	return binary(p, parse_add, k, o, 4);
}

static expr *parse_eq(parser *p)
{
	static const token_kind k[] = { T_EQ, T_NE };
	static const binop o[] = { OP_EQ, OP_NE };
	return binary(p, parse_rel, k, o, 2);
}

static expr *parse_in(parser *p)
{
	static const token_kind k[] = { T_IN };
	static const binop o[] = { OP_IN };
	return binary(p, parse_eq, k, o, 1);
}

static expr *logical(parser *p, level_fn sub, token_kind kind, xkind x)
{
	expr *left = sub(p);
	while (left != NULL && p->tok.kind == kind) {
		size_t off = p->tok.pos;
		next(p);
		expr *right = sub(p);
		if (right == NULL)
			return NULL;
		expr *e = mk(p, x, off);
		e->a = left;
		e->b = right;
		left = e;
	}
	return left;
}

static expr *parse_and(parser *p)
{
	return logical(p, parse_in, T_AND, X_AND);
}

static expr *parse_or(parser *p)
{
	return logical(p, parse_and, T_OR, X_OR);
}

static expr *parse_cond(parser *p)
{
	expr *c = parse_or(p);
	if (c == NULL || p->tok.kind != T_QUESTION)
		return c;
	size_t off = p->tok.pos;
	next(p);
	if (!enter(p))
		return NULL;
	expr *e = mk(p, X_COND, off);
	e->a = c;
	e->b = parse_cond(p);
	if (e->b == NULL || !expect(p, T_COLON, "expected \":\" in ?:, found %s"))
		return NULL;
	e->c = parse_cond(p);
	p->depth--;
	return e->c ? e : NULL;
}

/* ---- the fields an expression reads, for finding details ---- */

static void collect_fields(expr *root, expr *e, bool extended, expr ***list, size_t *n, size_t *cap,
    arena *a)
{
	if (e == NULL)
		return;
	if (e->path != NULL && !extended) {
		for (size_t i = 0; i < *n; i++)
			if (strcmp((*list)[i]->path, e->path) == 0)
				return;
		*list = arena_grow(a, *list, *n, cap, sizeof **list, 4);
		(*list)[(*n)++] = e;
	}
	bool ext = (e->kind == X_MEMBER || e->kind == X_INDEX) && e->path != NULL;
	collect_fields(root, e->a, ext, list, n, cap, a);
	collect_fields(root, e->b, false, list, n, cap, a);
	collect_fields(root, e->c, false, list, n, cap, a);
	for (size_t i = 0; i < e->nargs; i++)
		collect_fields(root, e->args[i], false, list, n, cap, a);
}

expr *expr_compile(arena *a, const char *text, size_t len, const char *file,
    const node *pos, diags *errs)
{
	parser p = { .a = a, .src = text, .len = len, .file = file, .at = pos, .errs = errs };
	if (len > EXPR_MAX_BYTES) {
		error_at(&p, 0, "%s", "expression longer than 4096 bytes");
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		error_at(&p, 0, "%s", "expression contains a NUL byte");
		return NULL;
	}
	p.bols = arena_alloc(a, (len + 1) * sizeof *p.bols);
	p.bols[p.nbols++] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			p.bols[p.nbols++] = i + 1;
	next(&p);
	if (p.tok.kind == T_END) {
		error_at(&p, 0, "%s", "empty expression");
		return NULL;
	}
	expr *e = parse_cond(&p);
	if (e != NULL && p.tok.kind != T_END && !p.failed) {
		error_at(&p, p.tok.pos, "unexpected %s after the expression", token_text(&p, &p.tok));
		e = NULL;
	}
	if (e == NULL || p.failed)
		return NULL;
	e->text = arena_strndup(a, text, len);
	size_t cap = 0;
	collect_fields(e, e, false, &e->fields, &e->nfields, &cap, a);
	return e;
}

bool expr_is_path(const expr *e)
{
	return e != NULL && e->path != NULL;
}

const char *expr_source(const expr *e)
{
	return e->text;
}

const char *expr_first_field(const expr *e)
{
	return e->nfields > 0 ? e->fields[0]->path : NULL;
}
