/*
 * screen_history.c: a submission's decisions and audit events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "textview.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

static void build(console *c, textview *t, void *arg)
{
	int64_t id = *(int64_t *)arg;
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	submission_view v;
	op_reply r;
	outcome o = op_submission_get(c->s, key, &v, &r);
	if (o != OUT_OK && o != OUT_TAMPERED) {
		tv_add(t, A_BOLD, "submission %lld cannot be read: %s", (long long)id, r.message);
		return;
	}
	if (o == OUT_TAMPERED)
		tv_add(t, console_attr(c, "critical"), "TAMPERED: its row says %s, but the state does not "
		    "match the audit chain: %s", v.row.status, v.tampered);
	tv_add(t, A_BOLD, "Submission %lld: decisions (%zu)", (long long)id, v.ndecisions);
	for (size_t i = 0; i < v.ndecisions; i++) {
		const decision_view *d = &v.decisions[i];
		tv_add(t, console_attr(c, strcmp(str(d->decision), "reject") == 0 ? "rejected" :
		    "approved"), "  %s  %-16s by %s%s%s", str(d->at), str(d->decision),
		    str(d->reviewer), *str(d->expires_at) ? ", expires " : "", str(d->expires_at));
		if (*str(d->note))
			tv_add(t, A_NORMAL, "      %s", d->note);
	}
	if (v.ndecisions == 0)
		tv_add(t, A_NORMAL, "  none yet");
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_BOLD, "Audit events (%zu)", v.nevents);
	for (size_t i = 0; i < v.nevents; i++) {
		const event_view *e = &v.events[i];
		tv_add(t, A_NORMAL, "  #%-7lld %s  %-22s %s", (long long)e->seq, str(e->ts),
		    str(e->event), str(e->actor));
		tv_add(t, A_DIM, "      %s", e->details);
		t->lines[t->n - 1].escaped = true;      /* JSON text */
	}
	submission_view_free(&v);
}

screen *history_screen(console *c, int64_t id)
{
	int64_t *arg = malloc(sizeof *arg);
	if (arg == NULL)
		abort();
	*arg = id;
	return textview_screen(c, "history", build, arg, free);
}
