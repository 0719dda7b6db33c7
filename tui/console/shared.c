/*
 * shared.c: what the console's screens and dialogs share, below them all:
 * the stack of screens (and when one reads differently), the message line,
 * colours, text drawn through the terminal writer, the reviewer's session,
 * and reloading the store's counts and integrity. console.c, the main loop
 * on top, opens the first screen and the ones its own keys name (help,
 * audit, sign in); nothing here calls a screen but through its hooks, so
 * the screens can call this without a circle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "console.h"

void console_message(console *c, int kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof c->message, fmt, ap);
	va_end(ap);
	c->message_kind = kind;
}

void console_push(console *c, screen *sc)
{
	sc->below = c->top;
	c->top = sc;
}

/* A screen without destroy owns nothing but its state block. */
static void screen_free(screen *sc)
{
	if (sc->destroy)
		sc->destroy(sc);
	else
		free(sc->state);
	free(sc);
}

void console_redraw_at(screen *sc, int64_t when)
{
	if (sc->redraw_at == 0 || when < sc->redraw_at)
		sc->redraw_at = when;
}

void console_free_screens(console *c)
{
	while (c->top) {
		screen *sc = c->top;
		c->top = sc->below;
		screen_free(sc);
	}
}

void console_pop(console *c)
{
	screen *sc = c->top;
	if (sc == NULL || sc->below == NULL) {
		c->quit = true;
		return;
	}
	c->top = sc->below;
	screen_free(sc);
	if (c->top->reload)
		c->top->reload(c, c->top);
}

/* Every string the console shows is drawn here, through the terminal writer
 * (term_escape): whatever a title or an audit actor holds, the terminal
 * only ever receives printable characters. */
static int put_text(int y, int x, const char *text, size_t len, int mode, int w)
{
	static strbuf esc;      /* reused: the console draws on one thread */
	if (text == NULL || w <= 0)
		return 0;
	const char *p = term_escape(&esc, text, len, mode);
	mbstate_t st;
	memset(&st, 0, sizeof st);
	int used = 0;
	move(y, x);
	while (*p != '\0') {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* a locale that is not UTF-8 */
			wc = L'?';
			n = 1;
			memset(&st, 0, sizeof st);
		}
		int cw = wcwidth(wc);
		if (cw < 0) {
			/* printable to the writer, not to this locale: shown as its code */
			char code[16];
			int k = snprintf(code, sizeof code, "\\u%04x", (unsigned)wc);
			if (used + k > w)
				break;
			addnstr(code, k);
			used += k;
			p += n;
			continue;
		}
		if (used + cw > w)
			break;
		addnwstr(&wc, 1);
		used += cw;
		p += n;
	}
	return used;
}

int put_clipped(int y, int x, const char *text, int w)
{
	return put_text(y, x, text, text ? strlen(text) : 0, VIS_TEXT, w);
}

int put_escaped(int y, int x, const char *text, int w)
{
	return put_text(y, x, text, text ? strlen(text) : 0, VIS_ESCAPED, w);
}

void copy_visible(char *out, size_t size, const char *s, size_t n)
{
	strbuf b = { 0 };
	term_escape(&b, s ? s : "", s ? n : 0, VIS_TEXT);
	size_t k = b.n < size ? b.n : size - 1;
	while (k > 0 && k < b.n && ((unsigned char)b.s[k] & 0xC0) == 0x80)
		k--;            /* cut on a character boundary */
	memcpy(out, b.s, k);
	out[k] = '\0';
	free(b.s);
}

attr_t console_attr(const console *c, const char *word)
{
	static const struct { const char *word; int pair; } map[] = {
		{ "critical", PAIR_CRIT }, { "blocked", PAIR_CRIT }, { "rejected", PAIR_CRIT },
		{ "expired", PAIR_CRIT }, { "deny", PAIR_CRIT }, { "warning", PAIR_WARN },
		{ "pending", PAIR_WARN }, { "require_approval", PAIR_WARN }, { "warn", PAIR_WARN },
		{ "info", PAIR_INFO }, { "allowed", PAIR_OK }, { "approved", PAIR_OK },
		{ "overridden", PAIR_OK },
	};
	for (size_t i = 0; word && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(word, map[i].word) == 0)
			return c->colour ? COLOR_PAIR(map[i].pair) | (map[i].pair == PAIR_CRIT ? A_BOLD : 0)
			    : (map[i].pair == PAIR_CRIT ? A_BOLD : A_NORMAL);
	return A_NORMAL;
}

bool console_session_live(console *c)
{
	if (c->signed_in && now_ms() - c->last_activity_ms > c->cfg.session_idle * 1000) {
		c->signed_in = false;
		console_message(c, MSG_INFO, "signed out after %lld minutes idle",
		    (long long)c->cfg.session_idle / 60);
	}
	return c->signed_in;
}

/* Fails closed: a check that cannot be made counts as tampered. Through a
 * server, what the server found when it compared its files with the pin
 * (console_reload's overview). */
void console_check_integrity(console *c)
{
	integrity in;
	if (c->served) {
		memset(&in, 0, sizeof in);
		in.version = c->ov.policy_version;
		in.tampered = c->ov.tampered;
		snprintf(in.what, sizeof in.what, "%s", c->ov.changed);
		if (in.tampered)
			settings_clamp(&c->cfg);
		c->integ = in;
		c->last_integrity_ms = mono_ms();
		return;
	}
	if (!integrity_check_loaded(c->s, NULL, &c->cfg, &in)) {
		memset(&in, 0, sizeof in);
		in.tampered = true;
		snprintf(in.what, sizeof in.what, "the policy files cannot be checked: %.600s",
		    store_errmsg(c->s));
		c->integ = in;
		c->last_integrity_ms = mono_ms();
		return;
	}
	if (in.tampered && (!c->integ.tampered || strcmp(in.digest, c->integ.digest) != 0))
		integrity_audit_tamper(c->s, &in, c->user);
	if (in.tampered)
		settings_clamp(&c->cfg);
	c->integ = in;
	c->last_integrity_ms = mono_ms();
}

bool console_row_stale(const console *c, int64_t id)
{
	return !c->watched_only || store_watch_touched(c->watch, id);
}

void console_reload(console *c)
{
	overview ov;
	op_reply r;
	if (op_overview(c->s, c->user, &ov, &r) == OUT_OK) {
		c->ov = ov;
		c->waiting = ov.counts[ST_PENDING];
		c->blocked = ov.counts[ST_BLOCKED];
		c->enrolled = ov.reviewer;
		c->admin = ov.admin;
	} else {
		/* the server is gone, or the store failed: say so, and decide nothing */
		console_message(c, MSG_ERROR, "%s", r.message);
		c->enrolled = c->admin = false;
		c->ov.tampered = true;
		snprintf(c->ov.changed, sizeof c->ov.changed, "the store cannot be read: %.600s",
		    r.message);
	}
	if (!c->enrolled)
		c->signed_in = false;
	console_check_integrity(c);
	if (c->top && c->top->reload)
		c->top->reload(c, c->top);
}
