/*
 * cmd_show.c: arbiter show ID: one submission in full.
 *
 * Its metadata, its document (the stored canonical JSON, pretty-printed),
 * its findings (rows of the findings table), its decisions and its audit
 * events (the audit rows whose subject is its id). ID is the number, or the
 * submitter's ref. --json prints one object: the result fields plus
 * "document", "decisions" and "events". The exit code is the status's: 0 may
 * proceed, 3 awaiting review, 4 rejected or expired, so a script can gate on
 * `arbiter show ID` alone.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *str(const json_t *o, const char *key)
{
	const char *t = json_string_value(json_object_get(o, key));
	return t ? t : "";
}

/* JSON text shown to a person: its own escapes stay, what JSON leaves raw
 * (C1 and bidi controls) is escaped. */
static void print_json_text(const char *text)
{
	term_field(stdout, text, strlen(text), VIS_ESCAPED, 0, 0);
}

/* Prints j pretty-printed, each line indented by two spaces. */
static void print_indented(const json_t *j, size_t flags)
{
	char *text = json_dumps(j, JSON_INDENT(2) | flags);
	if (text == NULL)
		return;
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

static void print_text(const sub_row *r, const json_t *doc, const json_t *findings,
    const json_t *decisions, const json_t *events, int given, int required)
{
	out_printf("submission %lld: %s\n", (long long)r->id, r->status);
	print_field("ref", r->ref, r->ref_len);
	out_printf("  kind       %s\n  action     %s\n", r->kind, r->action);
	print_field("title", r->title, r->title_len);
	print_field("submitter", r->submitter, r->submitter_len);
	out_printf("  created    %s\n  policies   version %d\n", r->created_at,
	    r->policy_version);
	out_printf("  counts     %d critical, %d warning, %d info\n", r->counts[2],
	    r->counts[1], r->counts[0]);
	if (r->decided_at)
		out_printf("  decided    %s\n", r->decided_at);
	if (r->expires_at)
		out_printf("  expires    %s\n", r->expires_at);
	if (given > 0)
		out_printf("  override   %d of %d approvals given: %d more needed, each from a "
		    "different reviewer\n", given, required, required - given);

	out_printf("\ndocument:\n");
	if (doc)
		print_indented(doc, JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	else if (r->document) {
		term_exact(stdout, "  ", 2);
		print_json_text(r->document);
		term_exact(stdout, "\n", 1);
	}

	size_t i;
	json_t *f;
	out_printf("\nfindings: %zu\n", json_array_size(findings));
	json_array_foreach(findings, i, f) {
		bool deny = strcmp(str(f, "effect"), "deny") == 0;
		out_printf("  %-8s %-16s %s: %s\n", str(f, "severity"), str(f, "effect"),
		    str(f, "policy"), str(f, "message"));
		if (*str(f, "detail"))
			out_printf("           %s\n", str(f, "detail"));
		out_printf("           at %s, %s%s%s\n", *str(f, "path") ? str(f, "path") : "-",
		    str(f, "source"), strcmp(str(f, "type"), "error") == 0 ? ", evaluation error" : "",
		    deny && !json_is_true(json_object_get(f, "overridable")) ? ", not overridable" : "");
	}

	json_t *d;
	out_printf("\ndecisions: %zu\n", json_array_size(decisions));
	json_array_foreach(decisions, i, d) {
		out_printf("  %s  %-10s by %s", str(d, "at"), str(d, "decision"),
		    str(d, "reviewer"));
		if (*str(d, "expires_at"))
			out_printf(", expires %s", str(d, "expires_at"));
		out_printf("\n");
		if (*str(d, "note"))
			out_printf("           %s\n", str(d, "note"));
	}

	json_t *e;
	out_printf("\nevents: %zu\n", json_array_size(events));
	json_array_foreach(events, i, e) {
		char *details = json_dumps(json_object_get(e, "details"), JSON_COMPACT | JSON_ENCODE_ANY);
		out_printf("  #%-6lld %s  %-22s %s  ",
		    (long long)json_integer_value(json_object_get(e, "seq")), str(e, "ts"),
		    str(e, "event"), str(e, "actor"));
		print_json_text(details ? details : "");
		term_exact(stdout, "\n", 1);
		free(details);
	}
}

static int cmd_show(const command *c, args *a)
{
	if (a->npos != 1) {
		usage_error(c, "%s", a->npos == 0 ? "no submission given (its id or ref)" :
		    "one submission at a time");
		return EXIT_USAGE;
	}
	sub_row r;
	store *s = open_submission(a, a->pos[0], &r);
	if (s == NULL)
		return EXIT_ERROR;
	int rc = status_name_exit(r.status);
	json_t *result = query_result(s, &r);
	json_t *findings = query_findings(s, r.id);
	json_t *decisions = query_decisions(s, r.id);
	json_t *events = query_events(s, r.id);
	/* a document's strings may hold \u0000 */
	json_t *doc = r.document ? json_loads(r.document, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) :
	    NULL;
	int given = 0, required = 0;
	bool progress = strcmp(r.status, "blocked") != 0 ||
	    override_progress(s, r.id, &given, &required);
	if (result == NULL || findings == NULL || decisions == NULL || events == NULL || !progress) {
		err_printf("arbiter: %s\n", store_errmsg(s));
		rc = EXIT_ERROR;
	} else if (arg_has(a, "--json")) {
		json_object_set(result, "document", doc ? doc : json_null());
		json_object_set(result, "decisions", decisions);
		json_object_set(result, "events", events);
		if (given > 0)
			json_object_set_new(result, "override", json_pack("{s:i,s:i}", "given", given,
			    "required", required));
		char *text = json_dumps(result, JSON_COMPACT);
		if (text == NULL) {
			err_printf("arbiter: submission %lld cannot be encoded as JSON\n",
			    (long long)r.id);
			rc = EXIT_ERROR;
		} else {
			term_json_line(stdout, text);
		}
		free(text);
	} else {
		print_text(&r, doc, findings, decisions, events, given, required);
	}
	json_decref(doc);
	json_decref(result);
	json_decref(findings);
	json_decref(decisions);
	json_decref(events);
	query_row_done(&r);
	store_close(s);
	return rc;
}

static const char *const show_options[] = { "--json", NULL };
const command show_command = { "show", "ID [--json]",
	"show a submission: document, findings, decisions, events", show_options, cmd_show };
