/*
 * dialogs.c: the console's modal dialogs: approve, reject, override, sign in,
 * and the one-line prompt.
 *
 * A dialog is a box of fields over the current screen, with its own key loop:
 * Tab moves between fields, Enter on the last field submits (in a multi-line
 * field Enter is a new line and Tab leaves it), Esc cancels. A refusal (a
 * wrong code, a replay, a lockout with the time left, "1 of 2", "already
 * decided by NAME") is shown inside the dialog and everything typed is kept,
 * except the code, which is cleared: it must be fresh. The code field shows
 * bullets only, and the code is wiped from memory after each try.
 *
 * Deciding and signing in are the operations the command line calls
 * (op_decide, op_signin in data/ops_decide.c): the dialogs only collect the
 * input, so the console enforces exactly the same rules.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "console.h"

enum { F_TEXT, F_MULTI, F_CODE, F_CHECK };
enum { MAX_FIELDS = 4, TEXT_MAX = 2000 };

typedef struct field {
	int type;
	const char *label;
	char text[TEXT_MAX];
	size_t len;
	bool checked;           /* F_CHECK */
	int min_chars;          /* F_MULTI: show a live count against it */
} field;

typedef struct dialog {
	const char *title;
	const char *intro[24];  /* lines above the fields */
	int nintro;
	field f[MAX_FIELDS];
	int n, focus;
	char error[768];
} dialog;

static void add_intro(dialog *d, arena *a, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void add_intro(dialog *d, arena *a, const char *fmt, ...)
{
	if (d->nintro >= 24)
		return;
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	d->intro[d->nintro++] = arena_strdup(a, buf);
}

static size_t chars(const char *s)
{
	return utf8_length(s, strlen(s));
}

/* The last width columns of a field's text, on one line. */
static void draw_text(int y, int x, int w, const field *f)
{
	if (f->type == F_CODE) {
		for (size_t i = 0; i < f->len && (int)i < w; i++)
			put_clipped(y, x + (int)i, "\u2022", 1);
		return;
	}
	const char *t = f->text;
	size_t n = chars(t);
	while (n > (size_t)w - 1 && *t) {       /* scroll: keep the end visible */
		t++;
		while ((*t & 0xC0) == 0x80)
			t++;
		n--;
	}
	put_escaped(y, x, t, w);        /* the reviewer's own typing: a backslash as typed */
}

static void draw_dialog(console *c, const dialog *d)
{
	int w = c->cols - 8 > 100 ? 100 : c->cols - 8;
	int multi_lines = 0;
	for (int i = 0; i < d->n; i++)
		multi_lines += d->f[i].type == F_MULTI ? 5 : 1;
	int h = d->nintro + multi_lines + d->n + 7;
	if (h > c->rows - 2)
		h = c->rows - 2;
	int y0 = (c->rows - h) / 2, x0 = (c->cols - w) / 2;
	attrset(A_NORMAL);
	for (int y = y0; y < y0 + h; y++) {
		move(y, x0);
		hline(' ', w);
	}
	attrset(A_BOLD);
	mvhline(y0, x0, ACS_HLINE, w);
	mvhline(y0 + h - 1, x0, ACS_HLINE, w);
	mvvline(y0, x0, ACS_VLINE, h);
	mvvline(y0, x0 + w - 1, ACS_VLINE, h);
	mvaddch(y0, x0, ACS_ULCORNER);
	mvaddch(y0, x0 + w - 1, ACS_URCORNER);
	mvaddch(y0 + h - 1, x0, ACS_LLCORNER);
	mvaddch(y0 + h - 1, x0 + w - 1, ACS_LRCORNER);
	put_clipped(y0, x0 + 2, d->title, w - 4);
	attrset(A_NORMAL);
	int y = y0 + 1;
	for (int i = 0; i < d->nintro && y < y0 + h - 2; i++)
		put_clipped(y++, x0 + 2, d->intro[i], w - 4);
	y++;
	int cy = -1, cx = 0;
	for (int i = 0; i < d->n && y < y0 + h - 2; i++) {
		const field *f = &d->f[i];
		attrset(i == d->focus ? A_BOLD : A_NORMAL);
		if (f->type == F_CHECK) {
			char line[256];
			snprintf(line, sizeof line, "[%c] %s", f->checked ? 'x' : ' ', f->label);
			put_clipped(y, x0 + 2, line, w - 4);
			if (i == d->focus)
				cy = y, cx = x0 + 3;
			y++;
			continue;
		}
		char label[160];
		if (f->type == F_MULTI && f->min_chars > 0)
			snprintf(label, sizeof label, "%s (%zu / at least %d characters)", f->label,
			    chars(f->text), f->min_chars);
		else
			snprintf(label, sizeof label, "%s", f->label);
		put_clipped(y++, x0 + 2, label, w - 4);
		attrset(A_UNDERLINE);
		if (f->type == F_MULTI) {
			/* the text wrapped on up to four lines, the last ones shown */
			int lw = w - 6, lines = 0;
			const char *p = f->text;
			const char *starts[256];
			starts[lines++] = p;
			int col = 0;
			for (; *p && lines < 256; p++) {
				if ((*p & 0xC0) == 0x80)
					continue;
				if (*p == '\n' || col == lw) {
					starts[lines++] = *p == '\n' ? p + 1 : p;
					col = *p == '\n' ? 0 : 1;
				} else {
					col++;
				}
			}
			int first = lines > 4 ? lines - 4 : 0;
			for (int l = 0; l < 4; l++) {
				move(y + l, x0 + 3);
				hline(' ', lw);
				if (first + l < lines) {
					const char *s = starts[first + l];
					const char *e = first + l + 1 < lines ? starts[first + l + 1] : s + strlen(s);
					char seg[TEXT_MAX];
					size_t n = (size_t)(e - s);
					memcpy(seg, s, n);
					seg[n > 0 && seg[n - 1] == '\n' ? n - 1 : n] = '\0';
					put_escaped(y + l, x0 + 3, seg, lw);
					if (i == d->focus)
						cy = y + l, cx = x0 + 3 + (int)utf8_length(seg, strcspn(seg, "\n"));
				}
			}
			y += 5;
		} else {
			move(y, x0 + 3);
			hline(' ', w - 6);
			draw_text(y, x0 + 3, w - 6, f);
			if (i == d->focus)
				cy = y, cx = x0 + 3 + (int)(f->type == F_CODE ? f->len : chars(f->text));
			y++;
		}
		attrset(A_NORMAL);
	}
	if (d->error[0]) {
		attrset(console_attr(c, "critical"));
		put_clipped(y0 + h - 2, x0 + 2, d->error, w - 4);
		attrset(A_NORMAL);
	}
	put_clipped(y0 + h - 1, x0 + 2, " Tab: next field  Enter on the last field: submit  Esc: "
	    "cancel ", w - 4);
	if (cy >= 0) {
		move(cy, cx < x0 + w - 2 ? cx : x0 + w - 2);
		curs_set(1);
	}
	refresh();
}

static void type_char(field *f, int ch)
{
	if (f->type == F_CODE && (ch < '0' || ch > '9' || f->len >= 8))
		return;
	if (f->len + 4 >= TEXT_MAX)
		return;
	f->text[f->len++] = (char)ch;
	f->text[f->len] = '\0';
}

static void backspace(field *f)
{
	while (f->len > 0) {
		char b = f->text[--f->len];
		f->text[f->len] = '\0';
		if ((b & 0xC0) != 0x80)
			break;
	}
}

/* Runs the dialog until submitted (true) or cancelled (false). */
static bool run_dialog(console *c, dialog *d)
{
	timeout(-1);
	bool done = false, ok = false;
	while (!done) {
		draw_dialog(c, d);
		int ch = getch();
		field *f = &d->f[d->focus];
		bool last = d->focus == d->n - 1;
		if (ch == 27) {
			done = true;
		} else if (ch == '\t' || ch == KEY_DOWN) {
			d->focus = (d->focus + 1) % d->n;
		} else if (ch == KEY_BTAB || ch == KEY_UP) {
			d->focus = (d->focus + d->n - 1) % d->n;
		} else if (ch == KEY_RESIZE) {
			getmaxyx(stdscr, c->rows, c->cols);
			clear();
		} else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
			if (f->type == F_MULTI && !last)
				type_char(f, '\n');
			else if (last)
				done = ok = true;
			else
				d->focus++;
		} else if (ch == ' ' && f->type == F_CHECK) {
			f->checked = !f->checked;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			backspace(f);
		} else if (ch >= 32 && ch < 256 && ch != 127 && f->type != F_CHECK) {
			type_char(f, ch);
		}
	}
	timeout(250);
	curs_set(0);
	return ok;
}

static void wipe_code(dialog *d)
{
	for (int i = 0; i < d->n; i++)
		if (d->f[i].type == F_CODE) {
			secret_wipe(d->f[i].text, sizeof d->f[i].text);
			d->f[i].len = 0;
		}
}

static const char *code_of(const dialog *d)
{
	for (int i = 0; i < d->n; i++)
		if (d->f[i].type == F_CODE)
			return d->f[i].text;
	return NULL;
}

/* One try at a decision: op_decide, the command line's own operation.
 * Returns 1 decided (message set), 0 refused (d->error says why), -1 error. */
static int try_decide(console *c, dialog *d, decide_request *q, int64_t id, bool with_code,
    char *message, size_t len)
{
	q->auth = (op_auth){ .actor = c->user, .code = with_code ? code_of(d) : NULL,
		.session = console_session_live(c) };
	q->ids = &id;
	q->nids = 1;
	static decide_result r;
	outcome o = op_decide(c->s, &c->cfg, q, &r);
	if (o == OUT_OK || o == OUT_WAITING) {
		snprintf(message, len, "%s", r.items[0].message);
		return 1;
	}
	if (r.reply.code_needed)
		snprintf(d->error, sizeof d->error, "your session has ended: Esc, then sign in again "
		    "(s) or reopen the dialog");
	else
		snprintf(d->error, sizeof d->error, "%s", r.n > 0 && !r.call_refused ?
		    r.items[0].message : r.reply.message);
	return outcome_exit(o) == EXIT_ERROR ? -1 : 0;
}

/* The findings of id with the given effect, as intro lines. */
static int list_findings(console *c, dialog *d, arena *a, int64_t id, const char *effect)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	submission_view v;
	op_reply r;
	int n = 0;
	outcome o = op_submission_get(c->s, key, &v, &r);
	if (o != OUT_OK && o != OUT_TAMPERED)
		return 0;
	for (size_t i = 0; i < v.nfindings; i++) {
		const finding_view *f = &v.findings[i];
		if (effect && strcmp(f->effect, effect) != 0)
			continue;
		add_intro(d, a, "  %s %s: %s", f->severity, f->policy, f->detail ? f->detail :
		    f->message);
		n++;
	}
	submission_view_free(&v);
	return n;
}

static bool decide_loop(console *c, dialog *d, decide_request *q, int64_t id, bool with_code,
    bool (*fill)(dialog *d, decide_request *q))
{
	for (;;) {
		if (!run_dialog(c, d)) {
			wipe_code(d);
			console_message(c, MSG_INFO, "cancelled: nothing was decided");
			return false;
		}
		if (!fill(d, q)) {
			wipe_code(d);
			continue;
		}
		char done[512];
		int rc = try_decide(c, d, q, id, with_code, done, sizeof done);
		wipe_code(d);
		if (rc == 1) {
			console_message(c, MSG_INFO, "%s", done);
			if (with_code) {
				c->signed_in = true;    /* a good code is a sign-in too */
				c->last_activity_ms = now_ms();
			}
			return true;
		}
	}
}

/* Whether the dialog asks for a code: the operation's own rule. */
static bool needs_code(console *c, const char *kind)
{
	return op_decide_needs_code(&c->cfg, kind, console_session_live(c));
}

static bool fill_approve(dialog *d, decide_request *q)
{
	q->ack = d->f[0].type == F_CHECK && d->f[0].checked;
	const char *note = d->f[0].type == F_CHECK ? d->f[1].text : d->f[0].text;
	q->text = note[0] ? note : NULL;
	if (d->f[0].type == F_CHECK && !q->ack) {
		snprintf(d->error, sizeof d->error, "tick the acknowledgement first (Space): the "
		    "findings must be read");
		return false;
	}
	return true;
}

bool dialog_approve(console *c, int64_t id)
{
	arena *a = arena_new();
	dialog d = { .title = " Approve " };
	add_intro(&d, a, "Approve submission %lld.", (long long)id);
	int warnings = list_findings(c, &d, a, id, NULL);
	if (warnings > 0) {
		d.f[d.n++] = (field){ .type = F_CHECK, .label = "I have read these findings "
			"(Space to tick)" };
	} else {
		add_intro(&d, a, "  (no findings)");
	}
	d.f[d.n++] = (field){ .type = F_TEXT, .label = "Note (optional)" };
	bool code = needs_code(c, "approve");
	if (code)
		d.f[d.n++] = (field){ .type = F_CODE, .label = "TOTP code" };
	decide_request q = { .kind = "approve" };
	bool ok = decide_loop(c, &d, &q, id, code, fill_approve);
	arena_free(a);
	return ok;
}

static bool fill_reject(dialog *d, decide_request *q)
{
	q->text = d->f[0].text;
	if (q->text[0] == '\0') {
		snprintf(d->error, sizeof d->error, "a rejection needs a reason");
		return false;
	}
	return true;
}

bool dialog_reject(console *c, int64_t id)
{
	arena *a = arena_new();
	dialog d = { .title = " Reject " };
	add_intro(&d, a, "Reject submission %lld. The reason is kept in the audit log.",
	    (long long)id);
	d.f[d.n++] = (field){ .type = F_TEXT, .label = "Reason (required)" };
	bool code = needs_code(c, "reject");
	if (code)
		d.f[d.n++] = (field){ .type = F_CODE, .label = "TOTP code" };
	decide_request q = { .kind = "reject" };
	bool ok = decide_loop(c, &d, &q, id, code, fill_reject);
	arena_free(a);
	return ok;
}

static bool fill_override(dialog *d, decide_request *q)
{
	q->text = d->f[0].text;
	q->expires_s = 0;
	if (d->f[1].text[0] && (!duration_parse(d->f[1].text, &q->expires_s) || q->expires_s <= 0)) {
		snprintf(d->error, sizeof d->error, "\"%.60s\" is not a duration (such as 8h or 2d)",
		    d->f[1].text);
		return false;
	}
	return true;
}

bool dialog_override(console *c, int64_t id)
{
	arena *a = arena_new();
	dialog d = { .title = " Override " };
	add_intro(&d, a, "Override submission %lld: it may proceed despite these deny findings:",
	    (long long)id);
	list_findings(c, &d, a, id, "deny");
	int given = 0, required = 0;
	if (override_progress(c->s, id, &given, &required) && required > 1)
		add_intro(&d, a, "Needs %d reviewers' codes; %d given so far.", required, given);
	add_intro(&d, a, "Expiry: a duration such as 8h (empty: %s, capped by the policies).",
	    duration_format(a, c->cfg.override_default_duration));
	d.f[d.n++] = (field){ .type = F_MULTI, .label = "Justification",
		.min_chars = c->cfg.justification_min_chars };
	d.f[d.n++] = (field){ .type = F_TEXT, .label = "Expires after" };
	d.f[d.n++] = (field){ .type = F_CODE, .label = "TOTP code (a fresh one)" };
	decide_request q = { .kind = "override" };
	bool ok = decide_loop(c, &d, &q, id, true, fill_override);
	arena_free(a);
	return ok;
}

bool dialog_signin(console *c)
{
	if (!c->enrolled) {
		console_message(c, MSG_ERROR, "%s is not an enrolled reviewer: browsing only", c->user);
		return false;
	}
	dialog d = { .title = " Sign in " };
	char line[160];
	snprintf(line, sizeof line, "Sign in as %s to approve and reject (overrides always ask for "
	    "a fresh code).", c->user);
	d.intro[d.nintro++] = line;
	d.f[d.n++] = (field){ .type = F_CODE, .label = "TOTP code" };
	for (;;) {
		if (!run_dialog(c, &d)) {
			wipe_code(&d);
			return false;
		}
		op_auth auth = { .actor = c->user, .code = d.f[0].text };
		op_reply r;
		outcome o = op_signin(c->s, &c->cfg, &auth, "console", &r);
		wipe_code(&d);
		if (o == OUT_OK)
			break;
		snprintf(d.error, sizeof d.error, "%s", r.message);
	}
	wipe_code(&d);
	c->signed_in = true;
	c->last_activity_ms = now_ms();
	console_message(c, MSG_INFO, "signed in as %s", c->user);
	return true;
}

bool prompt_line(console *c, const char *label, char *buf, size_t len)
{
	int y = c->rows - 1;
	size_t n = strlen(buf);
	timeout(-1);
	bool ok = false;
	for (;;) {
		move(y, 0);
		clrtoeol();
		attrset(A_BOLD);
		int used = put_clipped(y, 0, label, c->cols / 2);
		attrset(A_NORMAL);
		put_escaped(y, used, buf, c->cols - used - 1);     /* as typed */
		curs_set(1);
		refresh();
		int ch = getch();
		if (ch == 27)
			break;
		if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
			ok = true;
			break;
		}
		if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			while (n > 0) {
				char b = buf[--n];
				buf[n] = '\0';
				if ((b & 0xC0) != 0x80)
					break;
			}
		} else if (ch >= 32 && ch < 256 && n + 1 < len) {
			buf[n++] = (char)ch;
			buf[n] = '\0';
		}
	}
	timeout(250);
	curs_set(0);
	return ok;
}
