/*
 * screen_help.c: ? : the keys of the screen below, from the same table that
 * dispatches them, then the keys every screen shares (console.everywhere:
 * console.c's table, which it dispatches the same way).
 */
#include <stdlib.h>

#include "console.h"
#include "textview.h"

static void build(console *c, textview *t, void *arg)
{
	const screen *of = arg;
	tv_add(t, A_BOLD, "Keys: %s", of->title);
	tv_add(t, A_NORMAL, "%s", "");
	for (const key_binding *k = of->keys; k && k->key; k++)
		tv_add(t, A_NORMAL, "  %-10s %s%s", k->label, k->help, k->decides && c->integ.tampered ?
		    "  (disabled: the policies are tampered)" : "");
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_BOLD, "Everywhere");
	for (const key_binding *k = c->everywhere; k->key; k++)
		tv_add(t, A_NORMAL, "  %-10s %s", k->label, k->help);
	tv_add(t, A_NORMAL, "  %-10s %s", "mouse", "click selects, a second click opens; the wheel "
	    "scrolls");
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_BOLD, "In a dialog");
	tv_add(t, A_NORMAL, "  %-10s %s", "Tab", "next field (Shift-Tab: previous)");
	tv_add(t, A_NORMAL, "  %-10s %s", "Enter", "on the last field: submit");
	tv_add(t, A_NORMAL, "  %-10s %s", "Space", "tick a box");
	tv_add(t, A_NORMAL, "  %-10s %s", "Esc", "cancel");
}

screen *help_screen(console *c, const screen *of)
{
	return textview_screen(c, "help", build, (void *)of, NULL);
}
