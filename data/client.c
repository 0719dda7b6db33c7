/*
 * client.c: one connection to an arbiter server, over libcurl.
 *
 * The only file that speaks HTTP through libcurl (tests/cli/layers.sh;
 * client_path.c borrows its percent-encoding). A client holds one easy
 * handle, so keep-alive connections are reused from one request to the next,
 * and answers one request at a time: method, path, body in; status, body,
 * headers and Retry-After out, or, for an answer that does not end (the
 * event stream) or may be long (an export), the body handed on as it comes
 * (client_stream). What it refuses, it refuses before anything is
 * sent on a connection, in libcurl's pre-request callback, which runs after
 * the connection (and its TLS handshake) is made and before the request
 * leaves:
 *
 * - server_user (a Unix socket): the peer's uid (SO_PEERCRED on the
 *   connected socket) must be that user's; anyone else who got hold of the
 *   socket's path never sees a request or a token.
 * - tls_pin (https): the SHA-256 of the server's certificate as it came in
 *   the handshake (CURLINFO_CERTINFO, the leaf's DER bytes). PRODUCT.md
 *   pins the certificate, which is what `openssl x509 -fingerprint -sha256`
 *   prints and a careful admin compares; libcurl's CURLOPT_PINNEDPUBLICKEY
 *   would pin the key instead (and survive a renewal with the same key),
 *   which is a different promise. With a pin the pin is the trust: the CA
 *   and host name checks are off, so a self-signed certificate works.
 *
 * Nothing the environment says changes where a request goes: no proxy (the
 * *_proxy variables are ignored), no redirect, no other protocol than
 * http(s), and plain http only to a loopback address. The token travels in
 * an Authorization header this file builds and wipes; libcurl's verbose
 * output is never on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "client_curl.h"

struct client {
	CURL *easy;
	struct curl_slist *auth;        /* the Authorization header alone; wiped */
	struct curl_slist *session;     /* X-Arbiter-Session while one is set; wiped */
	char *tls_pin;                  /* as given, for client_again */
	char *server;                   /* as given */
	char *base;                     /* what paths are appended to */
	char *socket_path;              /* unix: */
	bool check_uid;
	uid_t server_uid;
	/* the sockets libcurl opened through us and has not closed: libcurl
	 * does not say which one a request is about to use
	 * (CURLINFO_ACTIVESOCKET is not set yet in the pre-request callback),
	 * and every one of them must be the server's */
	curl_socket_t fds[8];
	int nfds;
	char *server_login;             /* for messages */
	bool pinned;
	unsigned char pin[32];
	bool pin_held;                  /* the last new connection passed the pin check */
	int64_t timeout_ms;
	size_t max_body;
	/* the request under way */
	strbuf body;
	strbuf headers;
	bool too_large;
	bool (*sink)(void *ctx, const char *data, size_t len);  /* a stream's reader */
	void *sink_ctx;
	const volatile sig_atomic_t *stop;
	bool stopped;                   /* the reader had enough, or *stop was set */
	char refused[256];              /* why the pre-request check refused */
	char curl_err[CURL_ERROR_SIZE];
	char err[768];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static bool global_ok;

static void global_init(void)
{
	global_ok = client_curl_ready() && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* Why global_init failed. */
static const char *init_failure(void)
{
	return client_curl_ready() ? "libcurl failed to initialise" : client_curl_error();
}

/* ---- secrets, pins and tokens ---- */

void client_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

bool client_pin_parse(const char *text, unsigned char pin[32])
{
	size_t n = 0;
	for (const char *p = text; *p; p++) {
		if (*p == ':')
			continue;
		int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
		    *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
		if (v < 0 || n == 64)
			return false;
		if (n % 2 == 0)
			pin[n / 2] = (unsigned char)(v << 4);
		else
			pin[n / 2] |= (unsigned char)v;
		n++;
	}
	return n == 64;
}

bool client_token_valid(const char *s)
{
	/* RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
	if (n == 0)
		return false;
	size_t eq = strspn(s + n, "=");
	return s[n + eq] == '\0' && n + eq <= CLIENT_TOKEN_MAX;
}

/* ---- the address ---- */

static bool is_loopback(const char *host)
{
	if (strcmp(host, "localhost") == 0)
		return true;
	struct in_addr v4;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	char bare[64];
	size_t n = strlen(host);
	if (n < 3 || n >= sizeof bare || host[0] != '[' || host[n - 1] != ']')
		return false;
	memcpy(bare, host + 1, n - 2);
	bare[n - 2] = '\0';
	struct in6_addr v6;
	if (inet_pton(AF_INET6, bare, &v6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&v6))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

/* Checks s and, when base is given, sets the URL paths are appended to. */
static bool parse_server(const char *s, char **base, char **socket_path, char *err, size_t errlen)
{
	if (strncmp(s, "unix:", 5) == 0) {
		const char *path = s + 5;
		if (path[0] != '/') {
			snprintf(err, errlen, "server %s: a socket is unix:/ABSOLUTE/PATH", s);
			return false;
		}
		if (strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
			snprintf(err, errlen, "server %s: the socket's path is too long", s);
			return false;
		}
		if (base != NULL) {
			*base = strdup("http://localhost");
			*socket_path = strdup(path);
			if (*base == NULL || *socket_path == NULL) {
				snprintf(err, errlen, "server %s: out of memory", s);
				return false;
			}
		}
		return true;
	}
	pthread_once(&global_once, global_init);
	if (!global_ok) {
		snprintf(err, errlen, "server %s: %s", s, init_failure());
		return false;
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *frag = NULL, *path = NULL;
	bool ok = false;
	if (u == NULL) {
		snprintf(err, errlen, "server %s: out of memory", s);
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "server %s: not a server address (unix:/PATH, https://HOST:PORT "
		    "or http://127.0.0.1:PORT)", s);
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		snprintf(err, errlen, "server %s: %s:// is not a server address (unix:, https:// or "
		    "http:// to loopback)", s, scheme);
		goto out;
	}
	if (user != NULL || query != NULL || frag != NULL) {
		snprintf(err, errlen, "server %s: a server address has no user, query or fragment", s);
		goto out;
	}
	if (strcmp(scheme, "http") == 0 && !is_loopback(host)) {
		snprintf(err, errlen, "server %s: plain http:// only to a loopback address (127.0.0.1, "
		    "[::1], localhost); use https:// for %s", s, host);
		goto out;
	}
	ok = true;
	if (base != NULL) {
		/* the URL as libcurl normalised it, without a trailing slash */
		char *url = NULL;
		curl_url_set(u, CURLUPART_PATH, strcmp(path, "/") == 0 ? "" : path, 0);
		if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
			snprintf(err, errlen, "server %s: out of memory", s);
			ok = false;
			goto out;
		}
		size_t n = strlen(url);
		while (n > 0 && url[n - 1] == '/')
			url[--n] = '\0';
		*base = strdup(url);
		curl_free(url);
		if (*base == NULL) {
			snprintf(err, errlen, "server %s: out of memory", s);
			ok = false;
		}
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(query);
	curl_free(frag);
	curl_free(path);
	curl_url_cleanup(u);
	return ok;
}

bool client_check_server(const char *s, char *err, size_t errlen)
{
	return parse_server(s, NULL, NULL, err, errlen);
}

static bool lookup_user(const char *login, uid_t *uid)
{
	if (login[0] >= '0' && login[0] <= '9') {
		char *end;
		unsigned long long v = strtoull(login, &end, 10);
		if (*end != '\0' || v > 0x7fffffffULL)
			return false;
		*uid = (uid_t)v;
		return true;
	}
	struct passwd pw, *found = NULL;
	char buf[4096];
	if (getpwnam_r(login, &pw, buf, sizeof buf, &found) != 0 || found == NULL)
		return false;
	*uid = found->pw_uid;
	return true;
}

/* ---- the checks before a request leaves ---- */

static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	client *c = clientp;
	(void)purpose;
	if (c->nfds == (int)(sizeof c->fds / sizeof c->fds[0]))
		return CURL_SOCKET_BAD;
	curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd != CURL_SOCKET_BAD)
		c->fds[c->nfds++] = fd;
	return fd;
}

static int close_socket(void *clientp, curl_socket_t fd)
{
	client *c = clientp;
	for (int i = 0; i < c->nfds; i++)
		if (c->fds[i] == fd) {
			c->fds[i] = c->fds[--c->nfds];
			break;
		}
	return close(fd);
}

static bool peer_ok(client *c)
{
	if (c->nfds == 0) {
		snprintf(c->refused, sizeof c->refused, "cannot tell which user runs the server "
		    "(no socket)");
		return false;
	}
	for (int i = 0; i < c->nfds; i++) {
		struct ucred cred;
		socklen_t len = sizeof cred;
		if (getsockopt(c->fds[i], SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			snprintf(c->refused, sizeof c->refused, "cannot tell which user runs the "
			    "server (%s)", strerror(errno));
			return false;
		}
		if (cred.uid != c->server_uid) {
			snprintf(c->refused, sizeof c->refused, "the server runs as uid %lu, not as %s "
			    "(server_user): not sending it anything", (unsigned long)cred.uid,
			    c->server_login);
			return false;
		}
	}
	return true;
}

/* The leaf certificate's DER bytes from CURLINFO_CERTINFO's "Cert:" PEM. */
static bool leaf_certificate(client *c, unsigned char **der, size_t *len)
{
	struct curl_certinfo *ci = NULL;
	if (curl_easy_getinfo(c->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return false;
	for (struct curl_slist *f = ci->certinfo[0]; f; f = f->next) {
		if (strncmp(f->data, "Cert:", 5) != 0)
			continue;
		const char *begin = strstr(f->data, "-----BEGIN CERTIFICATE-----");
		const char *end = begin ? strstr(begin, "-----END CERTIFICATE-----") : NULL;
		if (end == NULL)
			return false;
		begin += strlen("-----BEGIN CERTIFICATE-----");
		size_t n = (size_t)(end - begin);
		*der = malloc(n);
		if (*der == NULL)
			return false;
		if (sodium_base642bin(*der, n, begin, n, " \t\r\n", len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(*der);
			return false;
		}
		return true;
	}
	return false;
}

/* A connection is checked when it is made: on a reused one libcurl has no
 * certificate to show (CURLINFO_CERTINFO is emptied for each transfer),
 * and none is needed, since a connection whose check failed is closed by
 * the abort and never reused. CURLINFO_NUM_CONNECTS says which is which:
 * the connections made for this transfer so far. */
static bool pin_ok(client *c)
{
	long made = 1;
	if (curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &made) == CURLE_OK && made == 0 &&
	    c->pin_held)
		return true;
	c->pin_held = false;
	unsigned char *der = NULL, hash[32];
	size_t len = 0;
	if (!leaf_certificate(c, &der, &len)) {
		snprintf(c->refused, sizeof c->refused, "the server's certificate could not be read "
		    "to check tls_pin: not sending it anything");
		return false;
	}
	crypto_hash_sha256(hash, der, len);
	free(der);
	if (sodium_memcmp(hash, c->pin, 32) != 0) {
		char hex[65];
		public_hex(hex, hash, 32);
		snprintf(c->refused, sizeof c->refused, "the server's certificate (SHA-256 %s) is not "
		    "the one tls_pin names: not sending it anything", hex);
		return false;
	}
	c->pin_held = true;
	return true;
}

static int prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	client *c = clientp;
	if (c->check_uid && !peer_ok(c))
		return CURL_PREREQFUNC_ABORT;
	if (c->pinned && !pin_ok(c))
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}

/* The header lines of the last answer: a new status line starts them
 * again (an interim 100 Continue, or the answer after it). */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	client *c = userp;
	size_t len = size * n;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		c->headers.n = 0;
	if (c->headers.n + len > 64 * 1024)
		return 0;
	sb_put(&c->headers, data, len);
	return len;
}

static size_t on_data(char *data, size_t size, size_t n, void *userp)
{
	client *c = userp;
	size_t len = size * n;
	if (c->sink != NULL) {
		if (c->sink(c->sink_ctx, data, len))
			return len;
		c->stopped = true;
		return 0;
	}
	if (c->body.n + len > c->max_body) {
		c->too_large = true;
		return 0;
	}
	sb_put(&c->body, data, len);
	return len;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	client *c = userp;
	if (c->stop != NULL && *c->stop) {
		c->stopped = true;
		return 1;
	}
	return 0;
}

/* ---- the connection ---- */

static bool set_options(client *c)
{
	CURL *e = c->easy;
	bool ok = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, c) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, c) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PREREQDATA, c) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "arbiter/" ARBITER_VERSION) == CURLE_OK;
	if (ok && c->socket_path != NULL)
		ok = curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->socket_path) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c) == CURLE_OK;
	if (ok && c->pinned)
		ok = curl_easy_setopt(e, CURLOPT_CERTINFO, 1L) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
	return ok;
}

client *client_open(const client_options *o, char *err, size_t errlen)
{
	pthread_once(&global_once, global_init);
	if (!global_ok) {
		snprintf(err, errlen, "%s", init_failure());
		return NULL;
	}
	if (o->server == NULL || o->server[0] == '\0') {
		snprintf(err, errlen, "no server given");
		return NULL;
	}
	client *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : CLIENT_TIMEOUT_MS;
	c->max_body = o->max_body > 0 ? o->max_body : CLIENT_BODY_MAX;
	c->server = strdup(o->server);
	if (c->server == NULL || !parse_server(o->server, &c->base, &c->socket_path, err, errlen))
		goto fail;
	if (o->server_user != NULL && o->server_user[0] != '\0') {
		if (c->socket_path == NULL) {
			snprintf(err, errlen, "server_user %s: only a unix: server has a user to check "
			    "(an https:// server is checked by tls_pin)", o->server_user);
			goto fail;
		}
		if (!lookup_user(o->server_user, &c->server_uid)) {
			snprintf(err, errlen, "server_user %s: no such user", o->server_user);
			goto fail;
		}
		c->check_uid = true;
		if ((c->server_login = strdup(o->server_user)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (o->tls_pin != NULL && o->tls_pin[0] != '\0') {
		if (strncmp(c->base, "https://", 8) != 0) {
			snprintf(err, errlen, "tls_pin: only an https:// server has a certificate to pin");
			goto fail;
		}
		if (!client_pin_parse(o->tls_pin, c->pin)) {
			snprintf(err, errlen, "tls_pin %s: not a SHA-256 (64 hex digits, colons allowed)",
			    o->tls_pin);
			goto fail;
		}
		c->pinned = true;
		if ((c->tls_pin = strdup(o->tls_pin)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (o->token != NULL) {
		if (!client_token_valid(o->token)) {
			snprintf(err, errlen, "the token has characters a bearer token cannot have");
			goto fail;
		}
		size_t n = strlen("Authorization: Bearer ") + strlen(o->token) + 1;
		char *h = malloc(n);
		if (h == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		snprintf(h, n, "Authorization: Bearer %s", o->token);
		c->auth = curl_slist_append(NULL, h);
		client_wipe(h, n);
		free(h);
		if (c->auth == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	c->easy = curl_easy_init();
	if (c->easy == NULL || !set_options(c)) {
		snprintf(err, errlen, "libcurl refused the connection's settings");
		goto fail;
	}
	return c;
fail:
	client_close(c);
	return NULL;
}

client *client_again(const client *c, char *err, size_t errlen)
{
	static const char bearer[] = "Authorization: Bearer ";
	client_options o = { .server = c->server, .server_user = c->server_login,
		.tls_pin = c->tls_pin, .timeout_ms = c->timeout_ms, .max_body = c->max_body,
		.token = c->auth != NULL ? c->auth->data + strlen(bearer) : NULL };
	return client_open(&o, err, errlen);
}

bool client_set_session(client *c, const char *token)
{
	if (c->session != NULL) {
		client_wipe(c->session->data, strlen(c->session->data));
		curl_slist_free_all(c->session);
		c->session = NULL;
	}
	if (token == NULL)
		return true;
	if (!client_token_valid(token))
		return false;
	char h[CLIENT_TOKEN_MAX + 32];
	snprintf(h, sizeof h, "X-Arbiter-Session: %s", token);
	c->session = curl_slist_append(NULL, h);
	client_wipe(h, sizeof h);
	return c->session != NULL;
}

void client_set_timeout(client *c, int64_t timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

const char *client_errmsg(const client *c)
{
	return c->err;
}

const char *client_server(const client *c)
{
	return c->server;
}

static client_status failed(client *c, CURLcode rc)
{
	const char *detail = c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		snprintf(c->err, sizeof c->err, "server %s: %s", c->server, c->refused);
		return CLIENT_UNTRUSTED;
	case CURLE_WRITE_ERROR:
		if (c->too_large) {
			snprintf(c->err, sizeof c->err, "server %s: its answer is longer than %zu bytes",
			    c->server, c->max_body);
			return CLIENT_TOO_LARGE;
		}
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(c->err, sizeof c->err, "server %s: no answer within %lld ms", c->server,
		    (long long)c->timeout_ms);
		return CLIENT_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(c->err, sizeof c->err, "cannot reach the server at %s: %s", c->server, detail);
		return CLIENT_UNREACHABLE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		snprintf(c->err, sizeof c->err, "server %s: its certificate is not trusted: %s",
		    c->server, detail);
		return CLIENT_UNTRUSTED;
	case CURLE_OUT_OF_MEMORY:
		snprintf(c->err, sizeof c->err, "server %s: out of memory", c->server);
		return CLIENT_FAILED;
	default:
		break;
	}
	snprintf(c->err, sizeof c->err, "server %s: the connection broke before a whole answer "
	    "came: %s", c->server, detail);
	return CLIENT_BROKEN;
}

/* One request; the answer's body goes to c->body or c->sink. */
static client_status perform(client *c, const char *method, const char *path, const char *accept,
    const char *content_type, const char *body, size_t len, client_response *resp)
{
	memset(resp, 0, sizeof *resp);
	c->err[0] = c->curl_err[0] = c->refused[0] = '\0';
	c->body.n = 0;
	c->headers.n = 0;
	c->too_large = c->stopped = false;
	if (path[0] != '/') {
		snprintf(c->err, sizeof c->err, "server %s: a request's path begins with /", c->server);
		return CLIENT_FAILED;
	}
	size_t ulen = strlen(c->base) + strlen(path) + 1;
	char *url = malloc(ulen);
	struct curl_slist *headers = NULL;
	char ctype[160];
	if (url == NULL) {
		snprintf(c->err, sizeof c->err, "out of memory");
		return CLIENT_FAILED;
	}
	snprintf(url, ulen, "%s%s", c->base, path);
	snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type ? content_type : "");
	/* the session and auth nodes go last and are unlinked again below:
	 * they are the client's, kept (and wiped) for the connection's life */
	struct curl_slist *tail = NULL;
	bool ok = true;
	const char *fixed[] = { accept, "Expect:", content_type ? ctype : NULL };
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && ok; i++) {
		if (fixed[i] == NULL)
			continue;
		struct curl_slist *h = curl_slist_append(headers, fixed[i]);
		ok = h != NULL;
		if (ok)
			headers = h;
	}
	struct curl_slist *own = c->auth;
	if (c->session != NULL) {
		c->session->next = c->auth;
		own = c->session;
	}
	if (ok) {
		for (tail = headers; tail && tail->next; tail = tail->next)
			;
		if (tail != NULL)
			tail->next = own;
		else
			headers = own;
	}
	CURL *e = c->easy;
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	ok = ok && curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, get || post ? NULL : method) == CURLE_OK;
	if (ok && body != NULL)
		ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) == CURLE_OK;
	else if (ok && post)
		ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0) == CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "") == CURLE_OK;
	else if (ok)
		ok = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	client_status st = CLIENT_OK;
	if (!ok) {
		snprintf(c->err, sizeof c->err, "server %s: libcurl refused the request", c->server);
		st = CLIENT_FAILED;
	} else {
		CURLcode rc = curl_easy_perform(e);
		if (rc != CURLE_OK && !((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) &&
		    c->stopped))
			st = failed(c, rc);
	}
	if (tail != NULL)
		tail->next = NULL;
	if (c->session != NULL)
		c->session->next = NULL;
	if (headers != own)
		curl_slist_free_all(headers);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	free(url);
	if (st != CLIENT_OK)
		return st;
	curl_off_t retry = 0;
	char *ct = NULL;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
		resp->retry_after = (int64_t)retry;
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		snprintf(resp->content_type, sizeof resp->content_type, "%s", ct);
	resp->body = malloc(c->body.n + 1);
	resp->headers = strndup(c->headers.s ? c->headers.s : "", c->headers.n);
	if (resp->body == NULL || resp->headers == NULL) {
		free(resp->body);
		free(resp->headers);
		memset(resp, 0, sizeof *resp);
		snprintf(c->err, sizeof c->err, "out of memory");
		return CLIENT_FAILED;
	}
	if (c->body.n > 0)
		memcpy(resp->body, c->body.s, c->body.n);
	resp->body[c->body.n] = '\0';
	resp->len = c->body.n;
	return CLIENT_OK;
}

client_status client_request(client *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, client_response *resp)
{
	return perform(c, method, path, "Accept: application/json", content_type, body, len, resp);
}

client_status client_stream(client *c, const char *path,
    bool (*on_body)(void *ctx, const char *data, size_t len), void *ctx,
    const volatile sig_atomic_t *stop, client_response *resp)
{
	int64_t timeout = c->timeout_ms;
	c->sink = on_body;
	c->sink_ctx = ctx;
	c->stop = stop;
	c->timeout_ms = 0;
	bool ok = curl_easy_setopt(c->easy, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
	    curl_easy_setopt(c->easy, CURLOPT_XFERINFODATA, c) == CURLE_OK &&
	    curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, stop != NULL ? 0L : 1L) == CURLE_OK;
	client_status st = ok ? perform(c, "GET", path, "Accept: text/event-stream", NULL, NULL, 0,
	    resp) : CLIENT_FAILED;
	curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 1L);
	c->sink = NULL;
	c->sink_ctx = NULL;
	c->stop = NULL;
	c->timeout_ms = timeout;
	return st;
}

bool client_header(const client_response *r, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);
	for (const char *line = r->headers; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		if (ll > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
			const char *v = line + n + 1, *stop = line + ll;
			while (v < stop && (*v == ' ' || *v == '\t'))
				v++;
			while (stop > v && (stop[-1] == '\r' || stop[-1] == ' ' || stop[-1] == '\t'))
				stop--;
			snprintf(out, len, "%.*s", (int)(stop - v), v);
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

void client_response_free(client_response *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof *r);
}

void client_close(client *c)
{
	if (c == NULL)
		return;
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	if (c->auth != NULL) {
		client_wipe(c->auth->data, strlen(c->auth->data));
		curl_slist_free_all(c->auth);
	}
	client_set_session(c, NULL);
	free(c->tls_pin);
	free(c->server);
	free(c->base);
	free(c->socket_path);
	free(c->server_login);
	free(c->body.s);
	free(c->headers.s);
	client_wipe(c, sizeof *c);
	free(c);
}
