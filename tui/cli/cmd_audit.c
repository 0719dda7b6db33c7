/*
 * cmd_audit.c: arbiter audit verify, checkpoint, list and tail (export is in
 * cmd_audit_export.c).
 *
 * list and tail share one printer: text is one line per event written through
 * the terminal writer (actors and details are user input, and this goes to a
 * terminal); --json is one object per line from audit_event_text. tail -f
 * is op_audit_follow (data/ops_follow.c), which hands over each event as it
 * is appended; SIGINT and SIGTERM end it cleanly with exit 0. verify reads
 * the store's own files, even while a server owns the store: what it checks
 * is what is on the disk. It starts from the store's first key
 * (keys/audit-1.pub) or --pubkey's, and follows the key rotations; --full
 * checks every signature, with a progress line when stderr is a terminal.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* --full's progress line, on a terminal only. */
static bool show_progress(void *ctx, int64_t done, int64_t total)
{
	(void)ctx;
	term_printf(stderr, "\raudit: checked %lld of %lld events (%lld%%)", (long long)done,
	    (long long)total, total > 0 ? (long long)(done * 100 / total) : 100LL);
	fflush(stderr);
	return true;
}

typedef struct full_args {
	const unsigned char *pk;
	verify_result *r;
} full_args;

static bool run_full(store *s, void *arg)
{
	full_args *f = arg;
	return audit_verify_full(s, f->pk, f->r);
}

static int cmd_audit_verify(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_local_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	unsigned char pk[32], keyid[8];
	const char *pubkey = arg_get(a, "--pubkey");
	char err[512];
	if (pubkey != NULL && !keys_load_public(pubkey, pk, keyid, err, sizeof err)) {
		err_printf("arbiter: %s\n", err);
		store_close(s);
		return EXIT_ERROR;
	}
	verify_result r;
	bool ok;
	if (arg_has(a, "--full")) {
		full_args f = { pubkey ? pk : NULL, &r };
		bool tty = isatty(STDERR_FILENO);
		int64_t total = 0;
		ok = audit_last_seq(s, &total) && audit_watched(s, total, tty ? show_progress : NULL,
		    NULL, run_full, &f);
		if (tty)
			term_printf(stderr, "\r\033[K");
	} else {
		ok = audit_verify(s, pubkey ? pk : NULL, &r);
	}
	if (!ok) {
		err_printf("arbiter: %s\n", store_errmsg(s));
		store_close(s);
		return EXIT_ERROR;
	}
	int rc = EXIT_OK;
	if (!r.ok && r.tables) {
		/* a row against the events: why names the table, row, field and event */
		out_printf("audit: TAMPERED: %s\n", r.why);
		rc = EXIT_REFUSED;
	} else if (!r.ok) {
		out_printf("audit: TAMPERED at seq %lld: %s\n", (long long)r.bad_seq, r.why);
		rc = EXIT_REFUSED;
	} else {
		out_printf("audit: verified %lld events%s; head seq %lld, hash %s\n",
		    (long long)r.events, arg_has(a, "--full") ? ", every signature" : "",
		    (long long)r.head_seq, r.head);
		rc = verify_checkpoints(s, a, &r);
	}
	store_close(s);
	return rc;
}

const char *out_file(const args *a, const char *what, const char *ext, char *path, size_t len)
{
	const char *out = arg_get(a, "--out");
	if (out != NULL)
		return out;
	audit_file_name(NULL, what, ext, path, len);
	return path;
}

/* Writes FILE and FILE.minisig (op_audit_checkpoint). */
static int cmd_audit_checkpoint(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	char path[PATH_MAX];
	const char *out = out_file(a, "checkpoint", "txt", path, sizeof path);
	audit_checkpointed r;
	int rc = outcome_exit(op_audit_checkpoint(s, actor_name(a), out, &r));
	if (rc != EXIT_OK)
		err_printf("arbiter: %s\n", r.reply.message);
	else
		out_printf("%s\nwrote %s and %s.minisig (keep them off this machine)\n",
		    r.reply.message, out, out);
	store_close(s);
	return rc;
}

/* ---- audit list and audit tail ---- */

typedef struct printer {
	bool json;
	int64_t last_seq;       /* the last event printed */
	bool failed;            /* stdout failed */
} printer;

static bool print_event(const audit_event *e, void *ctx)
{
	printer *p = ctx;
	if (p->json) {
		char *text = audit_event_text(e);
		if (text == NULL)
			p->failed = true;
		else
			term_json_line(stdout, text);
		free(text);
	} else {
		/* the details are JSON text: its escapes are shown as they are */
		const char *subject = e->subject[0] ? e->subject : "-";
		out_printf("%6lld  %s  ", (long long)e->seq, e->ts);
		term_field(stdout, e->actor, strlen(e->actor), VIS_TEXT, 24, 10);
		term_exact(stdout, " ", 1);
		term_field(stdout, e->event, strlen(e->event), VIS_TEXT, 0, 20);
		term_exact(stdout, " ", 1);
		term_field(stdout, subject, strlen(subject), VIS_TEXT, 34, 6);
		term_exact(stdout, " ", 1);
		term_field(stdout, e->details, strlen(e->details), VIS_ESCAPED, 72, 0);
		term_exact(stdout, "\n", 1);
	}
	p->last_seq = e->seq;
	if (fflush(stdout) != 0 || ferror(stdout))
		p->failed = true;
	return !p->failed;
}

/* --limit N: a count; false (with a usage error) otherwise. */
static bool get_limit(const command *c, const args *a, int64_t dflt, int64_t *limit)
{
	const char *text = arg_get(a, "--limit");
	*limit = dflt;
	if (text == NULL)
		return true;
	char *end;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0) {
		usage_error(c, "--limit takes a count, not \"%s\"", text);
		return false;
	}
	*limit = n;
	return true;
}

static int finish_read(store *s, const op_reply *r, const printer *p)
{
	int rc = EXIT_OK;
	if (r->out != OUT_OK && !p->failed) {
		err_printf("arbiter: %s\n", r->message);
		rc = EXIT_ERROR;
	} else if (p->failed) {
		err_printf("arbiter: cannot write to standard output: %s\n", strerror(errno));
		rc = EXIT_ERROR;
	}
	store_close(s);
	return rc;
}

static int cmd_audit_list(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	audit_filter f = { .event = arg_get(a, "--event"), .actor = arg_get(a, "--actor"),
		.subject = arg_get(a, "--subject"), .action = arg_get(a, "--action") };
	if (!get_limit(c, a, 50, &f.limit) || !arg_window(c, a, &f.since_ms, &f.until_ms))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	printer p = { .json = arg_has(a, "--json") };
	op_reply r;
	op_audit_read(s, &f, print_event, &p, &r);
	return finish_read(s, &r, &p);
}

static volatile sig_atomic_t stop_tail;

static void on_stop(int sig)
{
	(void)sig;
	stop_tail = 1;
}

static int cmd_audit_tail(const command *c, args *a)
{
	if (!no_arguments(c, a))
		return EXIT_USAGE;
	audit_filter f = { .oldest_first = true };
	if (!get_limit(c, a, 10, &f.limit))
		return EXIT_USAGE;
	store *s = open_store(a);
	if (s == NULL)
		return EXIT_ERROR;
	printer p = { .json = arg_has(a, "--json") };
	op_reply r;
	char hash[65];
	if (f.limit > 0)
		op_audit_read(s, &f, print_event, &p, &r);
	else
		op_chain_head(s, &p.last_seq, hash, &r);
	if (r.out != OUT_OK || p.failed || !arg_has(a, "--follow"))
		return finish_read(s, &r, &p);
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* from the last event printed on: nothing appended meanwhile is missed */
	op_audit_follow(s, p.last_seq, print_event, &p, &stop_tail, &r);
	return finish_read(s, &r, &p);
}

static const char *const audit_verify_options[] = { "--full", "--pubkey FILE", "--checkpoint FILE",
	"--strict", NULL };
const command audit_verify_command = { "audit verify",
	"[--full] [--pubkey FILE] [--checkpoint FILE] [--strict]",
	"recompute the audit chain, check its signatures and the tables against it",
	audit_verify_options, cmd_audit_verify };

static const char *const audit_checkpoint_options[] = { "--out FILE", "--as NAME", NULL };
const command audit_checkpoint_command = { "audit checkpoint", "[--out FILE] [--as NAME]",
	"write a signed checkpoint of the audit log's head", audit_checkpoint_options, cmd_audit_checkpoint };

static const char *const audit_list_options[] = { "--limit N", "--event E", "--actor A", "--subject ID",
	"--action GLOB", "--since T", "--until T", "--json", NULL };
const command audit_list_command = { "audit list", "[--limit 50] [--event E] [--actor A] [--subject ID] "
	"[--action GLOB] [--since T] [--until T] [--json]",
	"list audit events, newest first", audit_list_options, cmd_audit_list };

static const char *const audit_tail_options[] = { "--follow", "--limit N", "--json", NULL };
const command audit_tail_command = { "audit tail", "[-f|--follow] [--limit 10] [--json]",
	"print the last audit events; with -f, follow new ones", audit_tail_options, cmd_audit_tail };
