/*
 * console.c: arbiter tui: the curses main loop, header, footer, keys.
 *
 * The console works on a store opened here or, as every command does,
 * through a server (then the server alone reads the database, the key and
 * users.oath: the console's reads and decisions are the API's, its sign-in
 * a session of POST /v1/sessions, and the server decides who it acts as).
 *
 * The loop draws only when something changed: a key, a resize, new data, a
 * change of integrity, or the time when something drawn reads differently
 * (a row's age, the end of an idle session). Otherwise it sleeps in poll()
 * on the terminal and the store's watch (data/watch.c), which wakes it when
 * any change is audited: through a server the moment the event stream
 * brings it, on the files within a fifth of a second. On the files it also
 * re-checks the policy files' integrity every few seconds. An idle console
 * wakes about once a second. A frame is drawn whole (curses sends the terminal only what
 * differs): the header (store, reviewer, policy version and integrity,
 * counts), a red banner while the policies are tampered, the top screen's
 * body, and the footer (its keys and the message line). The terminal is
 * restored on every exit, including fatal signals; below 80x24 the console
 * says so instead of drawing.
 */
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "listview.h"

enum { MIN_COLS = 80, MIN_ROWS = 24, INTEGRITY_MS = 3000, TICK_MS = 1000 };

static volatile sig_atomic_t curses_on;

static void restore_terminal(int sig)
{
	if (curses_on)
		endwin();
	curses_on = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

bool console_may_decide(console *c)
{
	if (c->integ.tampered) {
		console_message(c, MSG_ERROR, "decisions are disabled: the policy files differ from "
		    "pinned version %d (%s)", c->integ.version, c->integ.what);
		return false;
	}
	if (!c->enrolled) {
		console_message(c, MSG_ERROR, "%s is not an enrolled reviewer: browsing only", c->user);
		return false;
	}
	return true;
}

/* Learns of what changed elsewhere: every change is an audit event, and the
 * watch (data/watch.c) makes its fd readable when one comes; on a store
 * opened here, every INTEGRITY_MS the policy files too (through a server,
 * the server compares its own). Returns whether the screen may now differ. */
static bool poll_store(console *c, bool woken)
{
	if (woken && store_watch_changed(c->watch)) {
		c->watched_only = true;
		console_reload(c);
		c->watched_only = false;
		return true;
	}
	if (c->served || mono_ms() - c->last_integrity_ms <= INTEGRITY_MS)
		return false;
	integrity was = c->integ;
	console_check_integrity(c);
	return was.tampered != c->integ.tampered || was.version != c->integ.version ||
	    strcmp(was.what, c->integ.what) != 0;
}

/* Whether what is on screen reads differently now without any change to
 * the store: a row's age, or an idle session that has ended. */
static bool stale(const console *c, int64_t now)
{
	return (c->top != NULL && c->top->redraw_at != 0 && now >= c->top->redraw_at) ||
	    (c->signed_in && now - c->last_activity_ms > c->cfg.session_idle * 1000);
}

static void draw_header(console *c)
{
	attrset(c->colour ? COLOR_PAIR(PAIR_HEAD) : A_REVERSE);
	move(0, 0);
	hline(' ', c->cols);
	char who[128], left[PATH_MAX + 64], right[256];
	if (!c->enrolled)
		snprintf(who, sizeof who, "%s (read-only)", c->user);
	else
		snprintf(who, sizeof who, "%s%s (%s)", c->user, c->admin ? ", admin" : "",
		    console_session_live(c) ? "signed in" : "not signed in: s");
	snprintf(right, sizeof right, "%s  policies v%d %s  pending %lld  blocked %lld ", who,
	    c->integ.version, c->integ.tampered ? "TAMPERED" : "intact", (long long)c->waiting,
	    (long long)c->blocked);
	int rw = (int)strlen(right);
	/* the store's path (through a server, the server), its end kept when it
	 * must be shortened */
	const char *dir = store_dir(c->s);
	int room = c->cols - rw - 12;
	bool cut = room > 4 && (int)strlen(dir) > room;
	snprintf(left, sizeof left, " arbiter  %s%s", cut ? "\u2026" : "",
	    cut ? dir + strlen(dir) - (size_t)(room - 1) : dir);
	put_clipped(0, 0, left, c->cols - rw - 1);
	put_clipped(0, c->cols - rw > 0 ? c->cols - rw : 0, right, c->cols);
	attrset(A_NORMAL);
	if (c->integ.tampered) {
		attrset(c->colour ? COLOR_PAIR(PAIR_BANNER) | A_BOLD : A_REVERSE | A_BOLD);
		move(1, 0);
		hline(' ', c->cols);
		char banner[1024];
		snprintf(banner, sizeof banner, " POLICIES TAMPERED: %s. Decisions are disabled until an "
		    "admin runs arbiter policy pin.", c->integ.what);
		put_clipped(1, 0, banner, c->cols);
		attrset(A_NORMAL);
	}
}

static void draw_footer(console *c)
{
	int y = c->rows - 2;
	attrset(c->colour ? COLOR_PAIR(PAIR_HEAD) : A_REVERSE);
	move(y, 0);
	hline(' ', c->cols);
	char keys[512] = "";
	size_t used = 0;
	for (const key_binding *k = c->top->keys; k && k->key; k++) {
		if (k->decides && c->integ.tampered)
			continue;
		int n = snprintf(keys + used, sizeof keys - used, " %s %s ", k->label, k->help);
		if (n < 0 || used + (size_t)n >= sizeof keys)
			break;
		used += (size_t)n;
	}
	put_clipped(y, 0, keys, c->cols);
	attrset(A_NORMAL);
	move(y + 1, 0);
	clrtoeol();
	if (c->message[0]) {
		attrset(c->message_kind == MSG_ERROR ? console_attr(c, "critical") : A_NORMAL);
		put_clipped(y + 1, 0, c->message, c->cols);
		attrset(A_NORMAL);
	}
}

static void draw(console *c)
{
	getmaxyx(stdscr, c->rows, c->cols);
	erase();
	if (c->cols < MIN_COLS || c->rows < MIN_ROWS) {
		char msg[128];
		snprintf(msg, sizeof msg, "arbiter needs a terminal of at least %dx%d; this one is "
		    "%dx%d. Resize it, or q to quit.", MIN_COLS, MIN_ROWS, c->cols, c->rows);
		/* wrapped at spaces, as narrow as the terminal is */
		const char *p = msg;
		for (int y = 0; *p && y < c->rows && c->cols > 0; y++) {
			int n = (int)strlen(p);
			if (n > c->cols) {
				n = c->cols;
				while (n > 0 && p[n] != ' ')
					n--;
				if (n == 0)
					n = c->cols;
			}
			char line[256];
			snprintf(line, sizeof line, "%.*s", n, p);
			put_clipped(y, 0, line, c->cols);
			p += n;
			while (*p == ' ')
				p++;
		}
		refresh();
		return;
	}
	draw_header(c);
	int top = c->integ.tampered ? 2 : 1;
	c->top->cursor_y = -1;
	c->top->redraw_at = 0;
	c->top->draw(c, c->top, top, c->rows - 2 - top);
	draw_footer(c);
	if (c->top->cursor_y >= 0) {
		move(c->top->cursor_y, 0);     /* the hardware cursor on the selected row */
		curs_set(1);
	} else {
		curs_set(0);
	}
	refresh();
}

static const key_binding *find_key(const key_binding *keys, int ch)
{
	for (const key_binding *k = keys; k && k->key; k++)
		if (k->key == ch || (k->alt && k->alt == ch))
			return k;
	return NULL;
}

static void handle_mouse(console *c)
{
	MEVENT ev;
	if (getmouse(&ev) != OK || (c->top->list == NULL && c->top->mouse == NULL))
		return;
	int wheel = (ev.bstate & BUTTON4_PRESSED) ? -1 :
#ifdef BUTTON5_PRESSED
	    (ev.bstate & BUTTON5_PRESSED) ? 1 :
#endif
	    0;
	bool click = (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) != 0;
	if (c->top->list != NULL)
		list_mouse(c, c->top, ev.y, click, wheel);
	else
		c->top->mouse(c, c->top, ev.y, ev.x, click, wheel);
}

static void key_help(console *c, screen *sc) { console_push(c, help_screen(c, sc)); }
static void key_signin(console *c, screen *sc) { (void)sc; dialog_signin(c); }
static void key_back(console *c, screen *sc) { (void)sc; console_pop(c); }

static void key_audit(console *c, screen *sc)
{
	if (strcmp(sc->title, "audit log") != 0)       /* one browser is enough */
		console_push(c, audit_screen(c));
}

static void key_redraw(console *c, screen *sc)
{
	(void)sc;
	clearok(curscr, TRUE);
	console_reload(c);
}

/* The keys of every screen, after the screen's own table: dispatched from
 * here, and listed by help (console.everywhere). */
static const key_binding console_keys[] = {
	{ '?', 0, "?", "this help", key_help, false },
	{ 'A', 0, "A", "the audit browser", key_audit, false },
	{ 's', 0, "s", "sign in with a TOTP code (to approve and reject)", key_signin, false },
	{ 27, 'q', "Esc/q", "back (q on the queue quits)", key_back, false },
	{ 12, 0, "Ctrl-L", "redraw and reload", key_redraw, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static void dispatch(console *c, int ch)
{
	if (ch == KEY_MOUSE) {
		handle_mouse(c);
		return;
	}
	if (c->cols < MIN_COLS || c->rows < MIN_ROWS) {
		if (ch == 'q')
			c->quit = true;
		return;
	}
	const key_binding *k = find_key(c->top->keys, ch);
	if (k == NULL)
		k = find_key(console_keys, ch);
	if (k == NULL)
		return;
	if (k->decides && !console_may_decide(c))
		return;
	c->message[0] = '\0';
	k->fn(c, c->top);
}

static void start_curses(console *c)
{
	initscr();
	curses_on = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	timeout(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
	    | BUTTON5_PRESSED
#endif
	    , NULL);
	c->colour = has_colors() && getenv("NO_COLOR") == NULL;
	if (c->colour) {
		start_color();
		use_default_colors();
		init_pair(PAIR_CRIT, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_INFO, COLOR_CYAN, -1);
		init_pair(PAIR_OK, COLOR_GREEN, -1);
		init_pair(PAIR_HEAD, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_BANNER, COLOR_WHITE, COLOR_RED);
		init_pair(PAIR_SEL, COLOR_BLACK, COLOR_WHITE);
		init_pair(PAIR_DIM, COLOR_BLUE, -1);
	}
}

/* How long the loop may sleep: until the next integrity check (a store
 * opened here), what is drawn goes stale, or the session ends; at most
 * TICK_MS, so that a clock held still by a test is looked at again. */
static int sleep_ms(const console *c)
{
	int64_t wait = TICK_MS, now = now_ms();
	if (!c->served)
		wait = c->last_integrity_ms + INTEGRITY_MS - mono_ms();
	if (c->top != NULL && c->top->redraw_at != 0 && c->top->redraw_at - now < wait)
		wait = c->top->redraw_at - now;
	if (c->signed_in && c->last_activity_ms + c->cfg.session_idle * 1000 - now < wait)
		wait = c->last_activity_ms + c->cfg.session_idle * 1000 - now;
	return wait < 0 ? 0 : wait > TICK_MS ? TICK_MS : (int)wait;
}

/* The keys typed meanwhile, all of them (curses reads what the terminal
 * sent; a resize arrives as KEY_RESIZE). Returns whether any came. */
static bool take_keys(console *c)
{
	bool any = false;
	int ch;
	timeout(0);
	while (!c->quit && (ch = getch()) != ERR) {
		any = true;
		if (ch == KEY_RESIZE)
			continue;
		c->last_activity_ms = c->signed_in && console_session_live(c) ? now_ms() :
		    c->last_activity_ms;
		dispatch(c, ch);
	}
	return any;
}

int console_run(const args *a)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_printf("arbiter tui: needs a terminal (use list, show and the other commands "
		    "in scripts)\n");
		return EXIT_USAGE;
	}
	console c = { .a = a, .everywhere = console_keys };
	c.integ.tampered = true;        /* until the first check says otherwise */
	snprintf(c.integ.what, sizeof c.integ.what, "not checked yet");
	diags errs = { 0 };
	bool settings_ok;
	c.s = open_store_settings(a, &c.cfg, &errs, &settings_ok);
	if (c.s == NULL || !settings_ok) {
		diags_print(&errs, stderr);
		diags_free(&errs);
		store_close(c.s);
		return EXIT_ERROR;
	}
	diags_free(&errs);
	c.served = store_remote(c.s);
	c.user = actor_of(a, c.s);
	op_reply r;
	if (op_overview(c.s, c.user, &c.ov, &r) != OUT_OK) {
		/* through a server: --as someone else is the owner's alone */
		err_printf("arbiter tui: %s\n", r.message);
		store_close(c.s);
		return outcome_exit(r.out);
	}
	if (!c.served)
		store_load_signing_key(c.s);    /* a reader without the key can still browse */
	char why[512];
	c.watch = store_watch_start(c.s, why, sizeof why);
	if (c.watch == NULL) {
		err_printf("arbiter tui: cannot follow the store's changes: %s\n", why);
		store_close(c.s);
		return EXIT_ERROR;
	}
	setlocale(LC_ALL, "");
	static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS,
		SIGFPE };
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		signal(fatal[i], restore_terminal);
	start_curses(&c);
	console_push(&c, queue_screen(&c));
	console_reload(&c);
	/* the loop sleeps in poll() on the terminal and the watch; integrity
	 * checks are timed by the monotonic clock, which a test's clock does not
	 * hold still; what the screen shows (ages, the idle sign-out) by now_ms */
	bool dirty = true;
	while (!c.quit) {
		if (dirty)
			draw(&c);
		struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = store_watch_fd(c.watch), .events = POLLIN } };
		int n = poll(fds, 2, sleep_ms(&c));
		/* a signal (SIGWINCH) ends the poll early: curses has the resize */
		dirty = take_keys(&c);
		if (c.quit)
			break;
		dirty |= poll_store(&c, n > 0 && (fds[1].revents & POLLIN) != 0);
		dirty |= stale(&c, now_ms());
	}
	endwin();
	curses_on = 0;
	console_free_screens(&c);
	store_watch_stop(c.watch);
	store_close(c.s);
	return EXIT_OK;
}
