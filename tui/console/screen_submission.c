/*
 * screen_submission.c: one submission: its metadata, its findings (critical
 * first, a list of listview.c), and a detail pane for the selected finding:
 * the policy's name and description, message, the offending values, field
 * path, FILE:LINE, effect, and whether and how it may be overridden. Enter
 * shows the document with that finding's field highlighted; d the document,
 * h its decisions and events; a, r, o decide. A submission whose row says it
 * may proceed while its signed events do not (PRODUCT.md section 7) shows
 * TAMPERED for its status and a red line saying how, and is audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "listview.h"

typedef struct detail {
	int64_t id;
	/* the submission's own texts as drawn (copy_visible), with put_escaped */
	char status[16], kind[12], action[64], title[160], submitter[64], ref[96], created[32];
	char decided[32], expires[32];
	char tampered[320];     /* how its row differs from its signed events; "" it does not */
	int version, counts[3];
	submission_view view;   /* its findings, as last read */
	policies_view policies; /* for the policies' descriptions */
	list_view list;         /* the findings, an in-memory list of positions */
	int given, required;
} detail;

static const char *str(const char *s)
{
	return s ? s : "";
}

/* The policy set the store evaluates with, read once per screen for the
 * policies' descriptions (op_policies: the files here, or the server's set). */
static void policy_descriptions(console *c, detail *d)
{
	op_reply r;
	if (op_policies(c->s, &d->policies, &r) != OUT_OK)
		d->policies.n = 0;      /* the findings show without descriptions */
}

/* The description of the policy named name (the last of that name). */
static const char *description(const detail *d, const char *name)
{
	const char *desc = NULL;
	for (size_t i = 0; name && i < d->policies.n; i++)
		if (d->policies.items[i].description && strcmp(d->policies.items[i].name, name) == 0)
			desc = d->policies.items[i].description;
	return desc;
}

static void load(console *c, detail *d)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)d->id);
	submission_view v;
	op_reply rep;
	outcome o = op_submission_get(c->s, key, &v, &rep);
	if (o != OUT_OK && o != OUT_TAMPERED) {
		console_message(c, MSG_ERROR, "submission %lld cannot be read", (long long)d->id);
		return;
	}
	const sub_row *r = &v.row;
	d->tampered[0] = '\0';
	if (o == OUT_TAMPERED) {
		op_reply audited;
		if (op_tamper_record(c->s, c->user, d->id, r->status, v.tampered, &audited) != OUT_OK)
			console_message(c, MSG_ERROR, "%s (and it could not be audited: %s)", rep.message,
			    audited.message);
		else
			console_message(c, MSG_ERROR, "%s", rep.message);
		snprintf(d->tampered, sizeof d->tampered, "%s", v.tampered);     /* drawn escaped */
	}
	snprintf(d->status, sizeof d->status, "%s", o == OUT_TAMPERED ? "TAMPERED" : r->status);
	copy_visible(d->kind, sizeof d->kind, r->kind, strlen(r->kind));
	copy_visible(d->action, sizeof d->action, r->action, strlen(r->action));
	copy_visible(d->title, sizeof d->title, r->title, r->title_len);
	copy_visible(d->submitter, sizeof d->submitter, r->submitter, r->submitter_len);
	copy_visible(d->ref, sizeof d->ref, r->ref ? r->ref : "-", r->ref ? r->ref_len : 1);
	snprintf(d->created, sizeof d->created, "%s", r->created_at);
	snprintf(d->decided, sizeof d->decided, "%s", r->decided_at ? r->decided_at : "");
	snprintf(d->expires, sizeof d->expires, "%s", r->expires_at ? r->expires_at : "");
	d->version = r->policy_version;
	memcpy(d->counts, r->counts, sizeof d->counts);
	submission_view_free(&d->view);
	d->view = v;
	list_set_count(c, &d->list, (int)d->view.nfindings);
	d->given = d->view.given;
	d->required = d->view.required;
}

static void reload(console *c, screen *sc)
{
	load(c, sc->state);
}

static const finding_view *selected(const detail *d)
{
	const void *row = list_selected(&d->list);
	size_t i = row ? (size_t)list_item(row) : 0;
	return row && i < d->view.nfindings ? &d->view.findings[i] : NULL;
}

static void open_field(console *c, screen *sc)
{
	detail *d = sc->state;
	const finding_view *f = selected(d);
	console_push(c, document_screen(c, d->id, f ? str(f->path) : NULL));
}

static void document(console *c, screen *sc)
{
	console_push(c, document_screen(c, ((detail *)sc->state)->id, NULL));
}

static void history(console *c, screen *sc)
{
	console_push(c, history_screen(c, ((detail *)sc->state)->id));
}

static void approve(console *c, screen *sc)
{
	if (dialog_approve(c, ((detail *)sc->state)->id))
		console_reload(c);
}

static void reject(console *c, screen *sc)
{
	if (dialog_reject(c, ((detail *)sc->state)->id))
		console_reload(c);
}

static void override(console *c, screen *sc)
{
	if (dialog_override(c, ((detail *)sc->state)->id))
		console_reload(c);
}

static void back(console *c, screen *sc)
{
	(void)sc;
	console_pop(c);
}

static const key_binding keys[] = {
	{ 'j', KEY_DOWN, "j/Down", "next finding", list_down, false },
	{ 'k', KEY_UP, "k/Up", "previous finding", list_up, false },
	{ 'g', KEY_HOME, "g", "first finding", list_first, false },
	{ 'G', KEY_END, "G", "last finding", list_last, false },
	{ '\r', KEY_ENTER, "Enter", "the document at this finding's field", open_field, false },
	{ 'd', 0, "d", "document", document, false },
	{ 'h', 0, "h", "decisions and events", history, false },
	{ 'a', 0, "a", "approve", approve, true },
	{ 'r', 0, "r", "reject", reject, true },
	{ 'o', 0, "o", "override", override, true },
	{ 27, 'q', "Esc/q", "back", back, false },
	{ 0, 0, NULL, NULL, NULL, false },
};

static int wrap(int y, int x, int w, int max_lines, const char *text, attr_t attr)
{
	int lines = 0;
	const char *p = text;
	attrset(attr);
	while (*p && lines < max_lines) {
		size_t n = strlen(p), take = n;
		if (utf8_length(p, n) > (size_t)w) {
			take = 0;
			size_t cols = 0, last_space = 0;
			while (p[take] && cols < (size_t)w) {
				if (p[take] == ' ')
					last_space = take;
				take++;
				while ((p[take] & 0xC0) == 0x80)
					take++;
				cols++;
			}
			if (last_space > 0 && p[take] != ' ')
				take = last_space;
		}
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)take, p);
		put_clipped(y + lines, x, line, w);
		lines++;
		p += take;
		while (*p == ' ')
			p++;
	}
	attrset(A_NORMAL);
	return lines;
}

static void draw_detail(console *c, const detail *d, const finding_view *f, int y, int h)
{
	int w = c->cols - 4, end = y + h;
	attrset(A_BOLD);
	mvhline(y, 0, ACS_HLINE, c->cols);
	put_clipped(y++, 2, " Finding ", 10);
	attrset(A_NORMAL);
	const char *name = str(f->policy);
	const char *desc = description(d, f->policy);
	char line[1024];
	snprintf(line, sizeof line, "%s  (%s, %s, %s)", name, str(f->type), str(f->severity),
	    str(f->effect));
	y += wrap(y, 2, w, 1, line, console_attr(c, str(f->severity)) | A_BOLD);
	if (desc && y < end)
		y += wrap(y, 2, w, 2, desc, A_NORMAL);
	if (y < end)
		y += wrap(y, 2, w, 2, str(f->message), A_NORMAL);
	if (*str(f->detail) && y < end) {
		snprintf(line, sizeof line, "detail:  %s", str(f->detail));
		y += wrap(y, 2, w, 3, line, A_BOLD);
	}
	if (y < end) {
		snprintf(line, sizeof line, "field:   %s      policy: %s", *str(f->path) ?
		    str(f->path) : "-", str(f->source));
		y += wrap(y, 2, w, 1, line, A_NORMAL);
	}
	if (y < end) {
		bool deny = strcmp(str(f->effect), "deny") == 0;
		int approvals = f->approvals;
		int64_t max = f->max_duration;
		arena *a = arena_new();
		if (!deny)
			snprintf(line, sizeof line, "override: not needed (effect %s)", str(f->effect));
		else if (!f->overridable)
			snprintf(line, sizeof line, "override: NOT ALLOWED: reject, or fix and resubmit");
		else
			snprintf(line, sizeof line, "override: allowed; %d approval%s, role %s, at most %s",
			    approvals, approvals == 1 ? "" : "s", str(f->role),
			    max > 0 ? duration_format(a, max) : "the default duration");
		arena_free(a);
		wrap(y, 2, w, 1, line, deny ? console_attr(c, "warning") : A_NORMAL);
	}
}

/* A finding's line: its severity, effect, policy and message. */
static void draw_row(console *c, screen *sc, const void *row, int y, bool sel)
{
	const detail *d = sc->state;
	size_t i = (size_t)list_item(row);
	if (i >= d->view.nfindings)
		return;
	const finding_view *f = &d->view.findings[i];
	char line[512];
	if (!sel)
		attrset(console_attr(c, str(f->severity)));
	put_clipped(y, 1, str(f->severity), 8);
	if (!sel)
		attrset(console_attr(c, str(f->effect)));
	put_clipped(y, 10, str(f->effect), 16);
	if (!sel)
		attrset(A_NORMAL);
	snprintf(line, sizeof line, "%s: %s", str(f->policy), str(f->message));
	put_clipped(y, 27, line, c->cols - 28);
}

static void draw(console *c, screen *sc, int top, int height)
{
	detail *d = sc->state;
	char line[512];
	int y = top;
	snprintf(line, sizeof line, "Submission %lld  %s", (long long)d->id, d->title);
	attrset(A_BOLD);
	put_escaped(y, 1, line, c->cols - 2);
	attrset(console_attr(c, d->tampered[0] ? "critical" : d->status) | A_BOLD);
	put_clipped(y++, c->cols - 12, d->status, 11);
	attrset(A_NORMAL);
	if (d->tampered[0]) {
		snprintf(line, sizeof line, "TAMPERED: state does not match the audit chain: %s",
		    d->tampered);
		y += wrap(y, 1, c->cols - 2, 2, line, c->colour ? COLOR_PAIR(PAIR_BANNER) | A_BOLD :
		    A_REVERSE | A_BOLD);
	}
	snprintf(line, sizeof line, "%s %s   ref %s   by %s   created %s   policies v%d",
	    d->kind, d->action, d->ref, d->submitter[0] ? d->submitter : "-", d->created, d->version);
	put_escaped(y++, 1, line, c->cols - 2);
	if (d->decided[0] || d->given > 0) {
		if (d->given > 0)
			snprintf(line, sizeof line, "override: %d of %d approvals given; needs %d more, "
			    "from different reviewers", d->given, d->required, d->required - d->given);
		else
			snprintf(line, sizeof line, "decided %s%s%s", d->decided,
			    d->expires[0] ? "   expires " : "", d->expires);
		put_clipped(y++, 1, line, c->cols - 2);
	}
	snprintf(line, sizeof line, "Findings: %d critical, %d warning, %d info", d->counts[2],
	    d->counts[1], d->counts[0]);
	attrset(A_UNDERLINE);
	put_clipped(++y, 1, line, c->cols - 2);
	attrset(A_NORMAL);
	y++;
	int list_h = height - (y - top) - 10;
	if (list_h < 3)
		list_h = 3;
	if (!list_draw(c, sc, y, list_h))
		put_clipped(y, 2, "No findings.", 20);
	int pane = y + list_h + 1;
	if (d->list.n > 0 && pane < top + height)
		draw_detail(c, d, selected(d), pane, top + height - pane);
}

static void destroy(screen *sc)
{
	detail *d = sc->state;
	list_free(&d->list);
	submission_view_free(&d->view);
	policies_view_free(&d->policies);
	free(d);
}

screen *submission_screen(console *c, int64_t id)
{
	screen *sc = calloc(1, sizeof *sc);
	detail *d = calloc(1, sizeof *d);
	if (sc == NULL || d == NULL)
		abort();
	d->id = id;
	policy_descriptions(c, d);
	list_array(&d->list, 0);
	d->list.draw_row = draw_row;
	d->list.open = open_field;
	*sc = (screen){ .title = "submission", .draw = draw, .reload = reload, .destroy = destroy,
		.keys = keys, .state = d, .list = &d->list };
	load(c, d);
	return sc;
}
