/*
 * client.h: talking to a running `arbiter serve` (PRODUCT.md section 9).
 *
 * The one public header of the client side of data/: a connection to a
 * server (client.c, the only file that uses libcurl), the root-owned
 * client.conf and token files that say where the server is and who is
 * calling (client_conf.c), and `arbiter hook`'s work on top of them
 * (hook.c): the tool call turned into a submission, the server's answers
 * turned into one verdict. Front ends include it beside ops.h and store.h.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef ARBITER_CLIENT_H
#define ARBITER_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../engine/engine.h"
#include "store.h"

struct json_t;

/* ---- client.c: one connection to a server, over libcurl ---- */
enum {
	CLIENT_TIMEOUT_MS = 30000,              /* a request's whole time by default */
	CLIENT_BODY_MAX = 64 * 1024 * 1024,     /* the largest answer by default */
	CLIENT_TOKEN_MAX = 512,                 /* the longest bearer token */
};

typedef struct client_options {
	/* unix:/PATH, http://HOST:PORT (loopback only: 127.0.0.0/8, [::1],
	 * localhost) or https://HOST[:PORT][/PREFIX] */
	const char *server;
	const char *token;              /* the bearer token; NULL: none (a socket's uid speaks) */
	/* on a socket: the login (or a uid in digits) the server must run as;
	 * NULL: not checked */
	const char *server_user;
	/* https: the SHA-256 of the server's certificate (its DER bytes), 64
	 * hex digits, colons allowed; it then replaces the CA and host name
	 * checks. NULL: the system's CAs and the host name */
	const char *tls_pin;
	int64_t timeout_ms;             /* each request's whole time; 0: CLIENT_TIMEOUT_MS */
	size_t max_body;                /* the largest answer; 0: CLIENT_BODY_MAX */
	/* the store's first public key (a minisign public key file): a store
	 * reached with it (store_connect) checks the signed events behind every
	 * allow itself. client_open does not read it. NULL: none */
	const char *pubkey;
} client_options;

typedef enum client_status {
	CLIENT_OK,              /* an HTTP answer came, whatever its status */
	CLIENT_UNREACHABLE,     /* no connection could be made */
	CLIENT_UNTRUSTED,       /* the server failed a check: its uid, pin or certificate */
	CLIENT_TIMEOUT,         /* no whole answer within the timeout */
	CLIENT_BROKEN,          /* the connection broke, or the answer was not HTTP */
	CLIENT_TOO_LARGE,       /* the answer was longer than max_body */
	CLIENT_FAILED,          /* the library or memory failed */
} client_status;

typedef struct client_response {
	long status;            /* the HTTP status */
	char *body;             /* malloc'd, NUL-terminated (also when empty) */
	size_t len;
	int64_t retry_after;    /* seconds, from Retry-After; 0 when absent */
	char content_type[128]; /* "" when absent */
	char *headers;          /* the header lines as they came, malloc'd */
} client_response;

typedef struct client client;
/* A connection to o->server after checking the address (plain http only to
 * loopback), the pin and the user; nothing is sent yet. NULL with the
 * reason in err. The options' strings are copied. */
client *client_open(const client_options *o, char *err, size_t errlen);
/* One request: method ("GET", "POST", "DELETE"...), path with its query
 * ("/v1/submissions?match=digest"), and a body of len bytes with its
 * content type (NULL and 0: none). Before anything is sent on a
 * connection, the server's uid (server_user) or certificate (tls_pin) is
 * checked; a server that fails is CLIENT_UNTRUSTED and never sees the
 * token. CLIENT_OK fills resp (free it with client_response_free); any
 * other status leaves resp empty and the reason in client_errmsg. */
client_status client_request(client *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, client_response *resp);
/* A request whose answer is read as it comes (an event stream, GET
 * /v1/events): each piece of the body goes to on_body as it arrives, and
 * the request ends when the server ends it, when on_body returns false, or
 * when *stop is set (looked at every 100 ms or so); no whole-request
 * timeout. resp gets the status and the headers, not the body. Ending it
 * (on_body, *stop) is CLIENT_OK. */
client_status client_stream(client *c, const char *path,
    bool (*on_body)(void *ctx, const char *data, size_t len), void *ctx,
    const volatile sig_atomic_t *stop, client_response *resp);
/* The value of header name (any case) in r, copied to out; false when r
 * has none. */
bool client_header(const client_response *r, const char *name, char *out, size_t len);
/* The last failure's message ("" when none), naming the server. */
const char *client_errmsg(const client *c);
/* The server as given in the options, for messages. */
const char *client_server(const client *c);
/* A second connection to c's server with c's options and token (a thread
 * of its own needs one: a connection serves one thread). NULL with the
 * reason in err. */
client *client_again(const client *c, char *err, size_t errlen);
/* Sends X-Arbiter-Session: token (an API session, POST /v1/sessions) with
 * the requests that follow; NULL stops. The token is kept wiped on close.
 * false: a token with characters a header cannot carry (nothing set). */
bool client_set_session(client *c, const char *token);
/* Changes the whole-request timeout for the requests that follow. */
void client_set_timeout(client *c, int64_t timeout_ms);
void client_response_free(client_response *r);
/* Closes the connection and wipes the token. */
void client_close(client *c);
/* Whether s is a server address client_open accepts (err says why not). */
bool client_check_server(const char *s, char *err, size_t errlen);
/* The 32 bytes of a tls_pin: 64 hex digits, colons allowed. */
bool client_pin_parse(const char *text, unsigned char pin[32]);
/* Whether s (a token from anywhere) has a bearer token's characters. */
bool client_token_valid(const char *s);
/* Wipes a secret that is no longer needed. */
void client_wipe(void *p, size_t len);

/* ---- client_conf.c: /etc/arbiter/client.conf and token files ---- */
#define CLIENT_CONF_PATH "/etc/arbiter/client.conf"
enum {
	CLIENT_CONF_MAX = 64 * 1024,    /* the longest client.conf */
	HOOK_MAX_WAIT_DEFAULT = 50,     /* max_wait when client.conf has none, seconds */
	HOOK_MAX_WAIT_LIMIT = 300,      /* the server's longest wait */
};
typedef struct client_conf {
	char path[512];                 /* the file read */
	char server[1024];              /* "" when the file names none */
	char server_user[64];
	char tls_pin[128];
	char pubkey[1024];              /* a public key file's path, or "" */
	int64_t max_wait_s;             /* HOOK_MAX_WAIT_DEFAULT when not given */
} client_conf;
/* Where client.conf is: CLIENT_CONF_PATH. The test build (ARBITER_TEST_CLIENT)
 * takes $ARBITER_TEST_CLIENT_CONF instead when it is set; no other build has
 * that code. */
const char *client_conf_path(void);
/* Reads client.conf. 1: read into conf; 0: there is none (conf holds the
 * defaults); -1: it exists but is refused (unreadable, not owned by root,
 * writable by others, or malformed): err says why, "FILE:LINE:COL:
 * message" for a bad line. The test build accepts the test's own uid as
 * the owner of a file given by $ARBITER_TEST_CLIENT_CONF. */
int client_conf_read(client_conf *conf, char *err, size_t errlen);
/* Parses client.conf's text (file names it in errors). */
bool client_conf_parse(const char *file, const char *text, size_t len, client_conf *conf,
    char *err, size_t errlen);
/* Reads a bearer token from its file (the first line, without its line
 * ending) into out; false with the reason when the file cannot be read, is
 * readable or writable by others, or holds no token or more than one line. */
bool client_token_read(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* ---- hook.c: arbiter hook's call and verdict (PRODUCT.md section 9) ---- */
enum {
	HOOK_INPUT_MAX = 1024 * 1024,   /* the longest tool call on standard input */
	HOOK_SLACK_S = 8,               /* time for the submission besides the wait */
	HOOK_ANSWER_MAX = 4 * 1024 * 1024,      /* the longest answer the hook reads */
};
/* The tool.call submission for a host's tool call: text (len bytes) is the
 * hook's standard input, one JSON object with tool_name and tool_input
 * (and cwd, session_id, hook_event_name); cwd is the directory used when
 * the call names none. The document replaces body's text. false with
 * "<stdin>:LINE:COL: message" (or "<stdin>: ...") in err. */
bool hook_call_document(const char *text, size_t len, const char *cwd, strbuf *body, char *err,
    size_t errlen);

typedef struct hook_verdict {
	bool allow;             /* this exact call may proceed */
	bool waiting;           /* a reviewer can still allow it (pending, or overridable) */
	int64_t id;             /* the submission; 0 when there is none */
	char status[16];        /* its status, as the server said */
	char detail[768];       /* the deciding policies and what a reviewer can do */
	char reason[1024];      /* one line: "blocked (#42): policy ...: a reviewer can ..." */
} hook_verdict;
/* The verdict on one answer of the server (HTTP status, body). */
void hook_judge(long http_status, const char *body, size_t len, hook_verdict *v);
/* The verdict as --format json prints it: {"decision": "allow" or "deny",
 * "reason": "...", "id": N or null}. */
void hook_verdict_json(const hook_verdict *v, strbuf *out);
/* Sets v->reason to "WORD (#ID): DETAIL". */
void hook_reason(hook_verdict *v, const char *word);
/* Submits the document (POST /v1/submissions?match=digest) and, while the
 * answer is waiting and mono_ms() is before wait_until, long-polls for a
 * decision; no request runs past give_up (both mono_ms() times). answer
 * gets the body of the answer the verdict stands on. */
void hook_run(client *c, const char *body, size_t len, int64_t wait_until, int64_t give_up,
    hook_verdict *v, strbuf *answer);

/* ---- evidence_client.c: the signed events behind a server's allow ---- */
typedef struct signed_key {
	unsigned char pk[32];   /* the store's first public key */
	unsigned char keyid[8];
	int state;              /* 0: not asked yet; 1: ring holds the server's keys; -1: not */
	keyring ring;           /* state 1: the keys the server's key.rotate events lead to */
	char why[256];          /* -1: why not */
} signed_key;
/* Follows the server's key.rotate events (GET /v1/keys: full events,
 * oldest first) from k->pk, each checked with the key before it, into
 * k->ring; a server without the route has rotated nothing it could tell.
 * Asked once per k (again with refresh), within timeout_ms (0: the
 * client's own); false with why (a rotation signed by another key). */
bool signed_key_current(client *c, signed_key *k, bool refresh, int64_t timeout_ms, char *why,
    size_t len);
void signed_key_free(signed_key *k);
/* Whether a server's answer (a submission's result) proves a status that
 * allows by the signed events it carries ("evidence"), under k, for the
 * document of digest (NULL: the answer's own "digest", which its
 * "document", when it shows one, must give). true for a status that does
 * not allow. false with why ("it says approved, but ..."). */
bool evidence_answer_holds(client *c, signed_key *k, int64_t timeout_ms,
    const struct json_t *answer, const char *digest, char *why, size_t len);

/* ---- hook_signed.c: the signed events behind the hook's allow ---- */
/* With the store's first public key (k), an allow in v stands only when
 * the answer it stands on carries signed events that prove it for digest,
 * the document the hook sent (evidence_answer_holds); otherwise v becomes
 * a denial saying why. */
void hook_check_signed(client *c, signed_key *k, const char *digest, const char *answer,
    size_t len, int64_t give_up, hook_verdict *v);

#endif
