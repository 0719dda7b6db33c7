/*
 * console.h: the reviewer console (arbiter tui), shared by its screens.
 *
 * The console is a stack of screens (queue, submission, document, history,
 * audit, help); the top one draws the body between the header and the
 * footer and owns the keys in its key table. The same table dispatches keys
 * and generates the help screen, so help can never disagree with the keys.
 * Dialogs (approve, reject, override, sign in) are modal loops of their own
 * that return to the screen below.
 *
 * Nothing is written to stderr under curses: errors go to the message line.
 */
#ifndef ARBITER_CONSOLE_H
#define ARBITER_CONSOLE_H

#include <curses.h>

#include "../front.h"

typedef struct console console;
typedef struct screen screen;
typedef struct list_view list_view;

typedef struct key_binding {
	int key;                        /* a curses key code; 0 ends the table */
	int alt;                        /* another key for the same action, or 0 */
	const char *label;              /* as the help screen names the key, e.g. "j/Down" */
	const char *help;               /* what it does */
	void (*fn)(console *c, screen *sc);
	bool decides;                   /* a decision key: disabled while tampered */
} key_binding;

struct screen {
	const char *title;
	void (*draw)(console *c, screen *sc, int top, int height);
	void (*reload)(console *c, screen *sc);         /* the store changed */
	/* the mouse on a screen without a list */
	void (*mouse)(console *c, screen *sc, int y, int x, bool click, int wheel);
	void (*destroy)(screen *sc);                    /* NULL: free(state) is enough */
	const key_binding *keys;
	void *state;
	list_view *list;                /* a list screen's rows (listview.h); the mouse goes there */
	int cursor_y;                   /* the selected row's line, for the hardware cursor */
	int64_t redraw_at;              /* when what is drawn goes stale (an age); 0: never */
	screen *below;
};

enum { MSG_INFO, MSG_ERROR };
enum { PAIR_CRIT = 1, PAIR_WARN, PAIR_INFO, PAIR_OK, PAIR_HEAD, PAIR_BANNER, PAIR_SEL,
	PAIR_DIM };

struct console {
	store *s;
	bool served;                    /* s is reached through a server */
	store_watch *watch;             /* readable when the store changes */
	bool watched_only;              /* this reload: only the submissions the watch named changed */
	const args *a;
	settings cfg;
	integrity integ;
	const char *user;               /* the OS user (or --as): the reviewer signed in */
	bool enrolled, admin;           /* the user is an enabled reviewer; an admin */
	bool signed_in;
	int64_t last_activity_ms;
	bool colour;
	int rows, cols;
	screen *top;
	char message[256];
	int message_kind;
	overview ov;                    /* counts, policy version, the user's standing */
	int64_t waiting, blocked;       /* counts for the header */
	int64_t last_integrity_ms;     /* mono_ms() of the last integrity check */
	bool quit;
	const key_binding *everywhere;  /* the keys of every screen (console.c), for help */
};

/* shared.c: below every screen and dialog */
void console_message(console *c, int kind, const char *fmt, ...) ATTR_PRINTF(3, 4);
void console_push(console *c, screen *sc);
void console_pop(console *c);
/* While drawing: what sc shows reads differently from time when (ms). */
void console_redraw_at(screen *sc, int64_t when);
/* Re-reads counts, integrity and the top screen's data. */
void console_reload(console *c);
/* Whether the row of submission id is to be read again in this reload:
 * always, but when the watch woke the console, only the ones it named. */
bool console_row_stale(const console *c, int64_t id);
/* Colour attribute of a severity or status word, or A_BOLD without colour. */
attr_t console_attr(const console *c, const char *word);
/* Draws text clipped to width w at (y, x), UTF-8 aware, through the terminal
 * writer: controls, C1 and bidi characters and bytes that are not UTF-8 are
 * shown as escapes (\x1b, \u202e), a backslash as \\. Returns columns used. */
int put_clipped(int y, int x, const char *text, int w);
/* The same for text whose backslashes already begin escapes: JSON text, text
 * kept by copy_visible, a reviewer's own typing. Controls are still escaped. */
int put_escaped(int y, int x, const char *text, int w);
/* s (n bytes, which may hold NUL) escaped into out (size bytes), cut on a
 * character boundary: how a screen keeps a field that it draws with
 * put_escaped. */
void copy_visible(char *out, size_t size, const char *s, size_t n);
/* The session: signed in and not idle past review.session_idle. */
bool console_session_live(console *c);
/* Compares the policy files with the pinned version; fails closed. */
void console_check_integrity(console *c);
/* Frees every screen on the stack (the console is closing). */
void console_free_screens(console *c);

/* console.c: the main loop */
/* Whether decisions may be made now; else puts the reason in the message line. */
bool console_may_decide(console *c);

/* The screens */
screen *queue_screen(console *c);
screen *submission_screen(console *c, int64_t id);
screen *document_screen(console *c, int64_t id, const char *highlight_path);
screen *history_screen(console *c, int64_t id);
screen *audit_screen(console *c);
screen *help_screen(console *c, const screen *of);

/* dialogs.c: modal dialogs; each returns true when something was decided */
bool dialog_approve(console *c, int64_t id);
bool dialog_reject(console *c, int64_t id);
bool dialog_override(console *c, int64_t id);
bool dialog_signin(console *c);
/* A one-line prompt at the bottom (search); false when cancelled. */
bool prompt_line(console *c, const char *label, char *buf, size_t len);

#endif
