/*
 * screen_history.c: a submission's decisions and audit events.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "textview.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void build(console *c, textview *t, void *arg)
{
	int64_t id = *(int64_t *)arg;
	json_t *decisions = query_decisions(c->s, id), *events = query_events(c->s, id);
	size_t i;
	json_t *d;
	tv_add(t, A_BOLD, "Submission %lld: decisions (%zu)", (long long)id,
	    json_array_size(decisions));
	json_array_foreach(decisions, i, d) {
		tv_add(t, console_attr(c, strcmp(str(d, "decision"), "reject") == 0 ? "rejected" :
		    "approved"), "  %s  %-16s by %s%s%s", str(d, "at"), str(d, "decision"),
		    str(d, "reviewer"), *str(d, "expires_at") ? ", expires " : "", str(d, "expires_at"));
		if (*str(d, "note"))
			tv_add(t, A_NORMAL, "      %s", str(d, "note"));
	}
	if (json_array_size(decisions) == 0)
		tv_add(t, A_NORMAL, "  none yet");
	tv_add(t, A_NORMAL, "%s", "");
	tv_add(t, A_BOLD, "Audit events (%zu)", json_array_size(events));
	json_array_foreach(events, i, d) {
		char *details = json_dumps(json_object_get(d, "details"), JSON_COMPACT);
		tv_add(t, A_NORMAL, "  #%-7lld %s  %-22s %s", (long long)json_integer_value(
		    json_object_get(d, "seq")), str(d, "ts"), str(d, "event"), str(d, "actor"));
		tv_add(t, A_DIM, "      %s", details ? details : "");
		t->lines[t->n - 1].escaped = true;      /* JSON text */
		free(details);
	}
	json_decref(decisions);
	json_decref(events);
}

screen *history_screen(console *c, int64_t id)
{
	int64_t *arg = malloc(sizeof *arg);
	if (arg == NULL)
		abort();
	*arg = id;
	return textview_screen(c, "history", build, arg, free);
}
