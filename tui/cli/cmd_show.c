/*
 * cmd_show.c: arbiter show ID: one submission in full.
 *
 * Its metadata, its document (the stored canonical JSON, pretty-printed),
 * its findings (rows of the findings table), its decisions and its audit
 * events (the audit rows whose subject is its id). ID is the number, or the
 * submitter's ref (a ref that several submitters use is refused with the
 * ids it names: exit 1). --json prints one object: the result fields plus
 * "document", "decisions" and "events". The exit code is the status's: 0 may
 * proceed, 3 awaiting review, 4 rejected or expired, so a script can gate on
 * `arbiter show ID` alone. A status that allows is shown only when its
 * signed events say so too; when they do not, show prints why (the state
 * does not match the audit chain), audits it and exits 4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

/* JSON text shown to a person: its own escapes stay, what JSON leaves raw
 * (C1 and bidi controls) is escaped. */
static void print_json_text(const char *text)
{
	term_field(stdout, text, strlen(text), VIS_ESCAPED, 0, 0);
}

/* Prints the document pretty-printed, each line indented by two spaces. */
static void print_document(const char *document)
{
	char *text = jsontext_pretty(document, true, 15);
	if (text == NULL) {
		term_exact(stdout, "  ", 2);
		print_json_text(document);
		term_exact(stdout, "\n", 1);
		return;
	}
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		term_exact(stdout, "  ", 2);
		print_json_text(line);
		term_exact(stdout, "\n", 1);
	}
	free(text);
}

/* One of the submission's own strings, which may hold NUL ("-" for none). */
static void print_field(const char *label, const char *s, size_t len)
{
	if (s == NULL)
		s = "-", len = 1;
	out_printf("  %-10s %.*s\n", label, (int)len, s);
}

static void print_text(const submission_view *v)
{
	const sub_row *r = &v->row;
	out_printf("submission %lld: %s\n", (long long)r->id, r->status);
	print_field("ref", r->ref, r->ref_len);
	out_printf("  kind       %s\n  action     %s\n", r->kind, r->action);
	print_field("title", r->title, r->title_len);
	print_field("submitter", r->submitter, r->submitter_len);
	out_printf("  digest     %s\n", r->digest ? r->digest : "-");
	out_printf("  created    %s\n  policies   version %d\n", r->created_at,
	    r->policy_version);
	out_printf("  counts     %d critical, %d warning, %d info\n", r->counts[2],
	    r->counts[1], r->counts[0]);
	if (r->decided_at)
		out_printf("  decided    %s\n", r->decided_at);
	if (r->expires_at)
		out_printf("  expires    %s\n", r->expires_at);
	if (v->given > 0)
		out_printf("  override   %d of %d approvals given: %d more needed, each from a "
		    "different reviewer\n", v->given, v->required, v->required - v->given);

	out_printf("\ndocument:\n");
	if (r->document)
		print_document(r->document);

	out_printf("\nfindings: %zu\n", v->nfindings);
	for (size_t i = 0; i < v->nfindings; i++) {
		const finding_view *f = &v->findings[i];
		bool deny = strcmp(str(f->effect), "deny") == 0;
		out_printf("  %-8s %-16s %s: %s\n", str(f->severity), str(f->effect),
		    str(f->policy), str(f->message));
		if (*str(f->detail))
			out_printf("           %s\n", f->detail);
		out_printf("           at %s, %s%s%s\n", *str(f->path) ? f->path : "-",
		    str(f->source), strcmp(str(f->type), "error") == 0 ? ", evaluation error" : "",
		    deny && !f->overridable ? ", not overridable" : "");
	}

	out_printf("\ndecisions: %zu\n", v->ndecisions);
	for (size_t i = 0; i < v->ndecisions; i++) {
		const decision_view *d = &v->decisions[i];
		out_printf("  %s  %-10s by %s", str(d->at), str(d->decision), str(d->reviewer));
		if (*str(d->expires_at))
			out_printf(", expires %s", d->expires_at);
		out_printf("\n");
		if (*str(d->note))
			out_printf("           %s\n", d->note);
	}

	out_printf("\nevents: %zu\n", v->nevents);
	for (size_t i = 0; i < v->nevents; i++) {
		const event_view *e = &v->events[i];
		out_printf("  #%-6lld %s  %-22s %s  ", (long long)e->seq, str(e->ts), str(e->event),
		    str(e->actor));
		print_json_text(e->details);
		term_exact(stdout, "\n", 1);
	}
}

static int cmd_show(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no submission given (its id or ref)" :
		    "one submission at a time");
		return EXIT_USAGE;
	}
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	submission_view v;
	op_reply r;
	outcome o = op_submission_get(s, a->pos[0], &v, &r);
	if (o == OUT_TAMPERED) {
		/* its row says it may proceed, its signed events do not */
		op_reply audited;
		if (op_tamper_record(s, actor_of(a, s), v.row.id, v.row.status, v.tampered,
		    &audited) != OUT_OK)
			err_printf("arbiter: %s (and it could not be audited: %s)\n", r.message,
			    audited.message);
		else
			err_printf("arbiter: %s\n", r.message);
		submission_view_free(&v);
		store_close(s);
		return EXIT_REFUSED;
	}
	if (o != OUT_OK) {
		err_printf("arbiter: %s\n", r.message);
		store_close(s);
		return EXIT_ERROR;
	}
	int rc = status_name_exit(v.row.status);
	if (arg_has(a, "--json")) {
		char *text = submission_json(&v);
		if (text == NULL) {
			err_printf("arbiter: submission %lld cannot be encoded as JSON\n",
			    (long long)v.row.id);
			rc = EXIT_ERROR;
		} else {
			term_json_line(stdout, text);
		}
		free(text);
	} else {
		print_text(&v);
	}
	submission_view_free(&v);
	store_close(s);
	return rc;
}

static const char *const show_options[] = { "--json", NULL };
const command show_command = { "show", "ID [--json]",
	"show a submission: document, findings, decisions, events", show_options, cmd_show };
