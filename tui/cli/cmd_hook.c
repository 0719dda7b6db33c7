/*
 * cmd_hook.c: arbiter hook: the gate an agent's tool runs before each call.
 *
 * The host (an agent tool) writes one JSON object on standard input and
 * reads the exit code: 0 lets the call go ahead, 2 blocks it with the line
 * on stderr as the reason. Any other code, a crash, or being killed at the
 * host's own timeout also lets the call go ahead, so every path here ends
 * in 0 or 2, and 0 only when the server said this exact call may proceed:
 * usage errors, a refused client.conf or token file, a malformed call, an
 * unreachable or untrusted server, a broken or unreadable answer all deny.
 * Signals that would end the process otherwise (a fatal one, the host's
 * SIGTERM, an alarm set just past the hook's own deadline) end it with 2.
 *
 * Where the server is and how it is checked comes from /etc/arbiter/client.conf
 * alone when that exists (flags and environment are ignored for server,
 * server_user, tls_pin, pubkey and max_wait); without it, from --server or
 * $ARBITER_SERVER. The token, the agent's own identity, comes from
 * --token-file FILE or $ARBITER_TOKEN (the token itself). The hook never
 * opens a store and reads nothing in its working directory: an agent can
 * write there. data/hook.c builds the submission and judges the answers,
 * data/hook_signed.c checks the signed events behind an allow when a public
 * key is given; this file reads the input and prints the verdict.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../data/client.h"
#include "cli.h"

static const char fatal_line[] = "arbiter hook: stopped before a verdict: the call is refused\n";

static void on_fatal(int sig)
{
	(void)sig;
	ssize_t ignored = write(STDERR_FILENO, fatal_line, sizeof fatal_line - 1);
	(void)ignored;
	_exit(EXIT_USAGE);
}

/* Every way the process could end besides returning ends it with 2. */
static void fail_closed_on_signals(void)
{
	static const int fatal[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT,
	    SIGHUP, SIGQUIT, SIGALRM, SIGXCPU, SIGXFSZ, SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Prints the verdict: with --format json one object on stdout, and on a
 * denial one line on stderr. Returns the exit code: 0 only for an allow
 * that was printed whole. */
static int verdict(const hook_verdict *v, bool json)
{
	if (json) {
		strbuf b = { 0 };
		hook_verdict_json(v, &b);
		term_json_line(stdout, b.s);
		free(b.s);
	}
	if (!v->allow)
		err_printf("arbiter hook: %s\n", v->reason);
	if (fflush(stdout) != 0 || ferror(stdout))
		return EXIT_USAGE;
	return v->allow ? EXIT_OK : EXIT_USAGE;
}

static int deny(bool json, const char *fmt, ...) ATTR_PRINTF(2, 3);
static int deny(bool json, const char *fmt, ...)
{
	hook_verdict v;
	memset(&v, 0, sizeof v);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v.reason, sizeof v.reason, fmt, ap);
	va_end(ap);
	return verdict(&v, json);
}

/* Reads standard input until its end, at most HOOK_INPUT_MAX bytes, until
 * give_up (mono_ms). NULL with the reason in err. */
static char *read_call(size_t *len, int64_t give_up, char *err, size_t errlen)
{
	char *buf = malloc(HOOK_INPUT_MAX + 1);
	size_t n = 0;
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (;;) {
		int64_t left = give_up - mono_ms();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int r = left > 0 ? poll(&p, 1, (int)(left > 60000 ? 60000 : left)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && mono_ms() < give_up)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, r == 0 ? "the call on standard input did not end in time" :
			    "cannot read standard input (%s)", strerror(errno));
			break;
		}
		ssize_t got = read(STDIN_FILENO, buf + n, HOOK_INPUT_MAX + 1 - n);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read standard input (%s)", strerror(errno));
			break;
		}
		if (got == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		n += (size_t)got;
		if (n > HOOK_INPUT_MAX) {
			snprintf(err, errlen, "the call on standard input is longer than %d bytes",
			    HOOK_INPUT_MAX);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* --wait: whole seconds ("30") or a duration ("1m"), 0 to max_wait. */
static bool parse_wait(const char *text, int64_t max_wait, int64_t *sec)
{
	if (text[0] >= '0' && text[0] <= '9' && strspn(text, "0123456789") == strlen(text)) {
		if (strlen(text) > 6)
			return false;
		*sec = strtoll(text, NULL, 10);
	} else if (!duration_parse(text, sec)) {
		return false;
	}
	return *sec >= 0 && *sec <= max_wait;
}

static int cmd_hook(const command *c, args *a)
{
	int64_t start = mono_ms();
	fail_closed_on_signals();
	const char *format = arg_get(a, "--format");
	bool json = format != NULL && strcmp(format, "json") == 0;
	if (format != NULL && !json && strcmp(format, "text") != 0)
		return deny(false, "--format takes text or json, not \"%s\"", format);
	if (a->npos > 0)
		return deny(json, "unexpected argument \"%s\" (usage: arbiter %s %s)", a->pos[0],
		    c->name, c->usage);

	/* where the server is: client.conf alone when it exists */
	client_conf conf;
	char err[1024];
	int have_conf = client_conf_read(&conf, err, sizeof err);
	if (have_conf < 0)
		return deny(json, "%s", err);
	const char *server, *pubkey;
	if (have_conf) {
		if (conf.server[0] == '\0')
			return deny(json, "%s names no server (server: unix:/PATH or https://HOST:PORT)",
			    conf.path);
		server = conf.server;
		pubkey = conf.pubkey[0] ? conf.pubkey : NULL;
	} else {
		server = arg_get(a, "--server");
		if (server == NULL)
			server = getenv("ARBITER_SERVER");
		if (server == NULL || server[0] == '\0')
			return deny(json, "no server to ask: give --server URL or set ARBITER_SERVER "
			    "(or write %s)", CLIENT_CONF_PATH);
		pubkey = arg_get(a, "--pubkey");
		if (pubkey == NULL)
			pubkey = getenv("ARBITER_PUBKEY");
	}
	signed_key key = { .state = 0 };
	bool check_signed = pubkey != NULL && pubkey[0] != '\0';
	if (check_signed) {
		char why[512];
		if (!keys_load_public(pubkey, key.pk, key.keyid, why, sizeof why))
			return deny(json, "the public key %s cannot be read: %s", pubkey, why);
	}
	int64_t wait_s = 0;
	const char *w = arg_get(a, "--wait");
	if (w != NULL && !parse_wait(w, conf.max_wait_s, &wait_s))
		return deny(json, "--wait %s is out of range: 0 to %lld seconds (max_wait%s%s)", w,
		    (long long)conf.max_wait_s, have_conf ? " in " : "", have_conf ? conf.path : "");
	int64_t wait_until = start + wait_s * 1000, give_up = wait_until + HOOK_SLACK_S * 1000;
	alarm((unsigned)(wait_s + HOOK_SLACK_S + 1));

	/* who is calling: the token, if any */
	char token[CLIENT_TOKEN_MAX + 1] = "";
	const char *token_file = arg_get(a, "--token-file"), *env_token = getenv("ARBITER_TOKEN");
	if (token_file != NULL) {
		if (!client_token_read(token_file, token, sizeof token, err, sizeof err))
			return deny(json, "%s", err);
	} else if (env_token != NULL && env_token[0] != '\0') {
		if (!client_token_valid(env_token))
			return deny(json, "ARBITER_TOKEN does not hold a bearer token (letters, digits "
			    "and -._~+/ only)");
		snprintf(token, sizeof token, "%s", env_token);
	}

	size_t len = 0;
	char *text = read_call(&len, give_up, err, sizeof err);
	if (text == NULL) {
		client_wipe(token, sizeof token);
		return deny(json, "%s", err);
	}
	char cwd[4096];
	strbuf doc = { 0 };
	bool made = hook_call_document(text, len, getcwd(cwd, sizeof cwd), &doc, err, sizeof err);
	free(text);
	if (!made) {
		client_wipe(token, sizeof token);
		return deny(json, "%s", err);
	}

	char digest[65] = "";
	if (check_signed && !document_text_digest(doc.s, doc.n, digest)) {
		client_wipe(token, sizeof token);
		free(doc.s);
		return deny(json, "the call has no digest to check the signed events against");
	}
	client_options o = { .server = server, .token = token[0] ? token : NULL,
	    .server_user = have_conf ? conf.server_user : NULL,
	    .tls_pin = have_conf ? conf.tls_pin : NULL, .max_body = HOOK_ANSWER_MAX };
	client *cl = client_open(&o, err, sizeof err);
	client_wipe(token, sizeof token);
	if (cl == NULL) {
		free(doc.s);
		return deny(json, "%s", err);
	}
	hook_verdict v;
	strbuf answer = { 0 };
	hook_run(cl, doc.s, doc.n, wait_until, give_up, &v, &answer);
	if (check_signed)
		hook_check_signed(cl, &key, digest, answer.s, answer.n, give_up, &v);
	signed_key_free(&key);
	client_close(cl);
	free(answer.s);
	free(doc.s);
	return verdict(&v, json);
}

static const char *const hook_options[] = { "--wait SEC", "--format FMT", "--server URL",
	"--token-file FILE", "--pubkey FILE", NULL };
const command hook_command = { "hook",
	"[--wait SEC] [--format text|json] [--server URL] [--token-file FILE] [--pubkey FILE]",
	"gate an agent's tool call through the server (exit 0 allow, 2 deny)", hook_options,
	cmd_hook, .fails_with_2 = true };
