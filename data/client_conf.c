/*
 * client_conf.c: /etc/arbiter/client.conf and bearer token files.
 *
 * client.conf is how an administrator fixes, for every client on a machine,
 * which server they talk to and how they know it is the right one
 * (PRODUCT.md section 9). It is trusted only while nobody but root could
 * have written it: the file and its directory must be owned by root and
 * writable by nobody else, or it is refused, and a refused file is never
 * read as if it were absent (the hook then fails closed). Its lines are
 * `key: value`, with `#` comments and blank lines; a bad line is reported
 * as FILE:LINE:COL: message.
 *
 * The test build (ARBITER_TEST_CLIENT, defined for build/asan only) reads
 * $ARBITER_TEST_CLIENT_CONF instead when it is set, and accepts the test's
 * own uid as its owner, so tests need not be root; the release build has
 * neither the variable's name nor the exception (tests/cli/hook.sh checks
 * with strings).
 *
 * A token file holds one bearer token on one line. Others may not read or
 * write it; the token is wiped from every buffer it passed through.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

const char *client_conf_path(void)
{
#ifdef ARBITER_TEST_CLIENT
	const char *test = getenv("ARBITER_TEST_CLIENT_CONF");
	if (test != NULL && test[0] != '\0')
		return test;
#endif
	return CLIENT_CONF_PATH;
}

/* The owners a trusted file may have: root, and in the test build the
 * test's own uid when the test chose the file. */
static bool trusted_owner(uid_t uid)
{
	if (uid == 0)
		return true;
#ifdef ARBITER_TEST_CLIENT
	const char *test = getenv("ARBITER_TEST_CLIENT_CONF");
	if (test != NULL && test[0] != '\0' && uid == geteuid())
		return true;
#endif
	return false;
}

/* ---- parsing ---- */

static const char *const keys[] = { "server", "server_user", "tls_pin", "pubkey", "max_wait" };
enum { K_SERVER, K_SERVER_USER, K_TLS_PIN, K_PUBKEY, K_MAX_WAIT, K__COUNT };

static bool bad(char *err, size_t errlen, const char *file, int line, int col, const char *fmt,
    ...) ATTR_PRINTF(6, 7);
static bool bad(char *err, size_t errlen, const char *file, int line, int col, const char *fmt,
    ...)
{
	int n = snprintf(err, errlen, "%s:%d:%d: ", file, line, col);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool login_chars(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		    (p > s && (*p == '-' || *p == '.'))))
			return false;
	return true;
}

/* A value: whole seconds, or a duration ("50s", "1m"). */
static bool seconds_value(const char *s, int64_t *out)
{
	if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
		if (strlen(s) > 6)
			return false;
		*out = strtoll(s, NULL, 10);
		return true;
	}
	return duration_parse(s, out);
}

/* Checks one key's value and stores it. */
static bool set_value(client_conf *conf, int k, const char *v, const char *file, int line, int col,
    char *err, size_t errlen)
{
	char why[512];
	switch (k) {
	case K_SERVER:
		if (!client_check_server(v, why, sizeof why))
			return bad(err, errlen, file, line, col, "%s", why);
		if (strlen(v) >= sizeof conf->server)
			return bad(err, errlen, file, line, col, "the server's address is too long");
		memcpy(conf->server, v, strlen(v) + 1);
		return true;
	case K_SERVER_USER:
		if (!login_chars(v) || strlen(v) >= sizeof conf->server_user)
			return bad(err, errlen, file, line, col, "server_user \"%s\" is not a login or "
			    "a uid", v);
		memcpy(conf->server_user, v, strlen(v) + 1);
		return true;
	case K_TLS_PIN: {
		unsigned char pin[32];
		if (strlen(v) >= sizeof conf->tls_pin || !client_pin_parse(v, pin))
			return bad(err, errlen, file, line, col, "tls_pin \"%s\" is not a SHA-256 (64 "
			    "hex digits, colons allowed: openssl x509 -noout -fingerprint -sha256)",
			    v);
		memcpy(conf->tls_pin, v, strlen(v) + 1);
		return true;
	}
	case K_PUBKEY:
		if (v[0] != '/' || strlen(v) >= sizeof conf->pubkey)
			return bad(err, errlen, file, line, col, "pubkey \"%s\" is not the absolute "
			    "path of a public key file", v);
		memcpy(conf->pubkey, v, strlen(v) + 1);
		return true;
	default: {
		int64_t s;
		if (!seconds_value(v, &s) || s < 0 || s > HOOK_MAX_WAIT_LIMIT)
			return bad(err, errlen, file, line, col, "max_wait \"%s\" is not a number of "
			    "seconds from 0 to %d", v, HOOK_MAX_WAIT_LIMIT);
		conf->max_wait_s = s;
		return true;
	}
	}
}

static void defaults(client_conf *conf)
{
	memset(conf, 0, sizeof *conf);
	conf->max_wait_s = HOOK_MAX_WAIT_DEFAULT;
}

bool client_conf_parse(const char *file, const char *text, size_t len, client_conf *conf,
    char *err, size_t errlen)
{
	defaults(conf);
	snprintf(conf->path, sizeof conf->path, "%s", file);
	int seen[K__COUNT] = { 0 };
	const char *p = text, *end = text + len;
	for (int line = 1; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		const char *nul = memchr(p, '\0', (size_t)(stop - p));
		if (nul != NULL)
			return bad(err, errlen, file, line, (int)(nul - p) + 1, "a NUL byte");
		/* the line without its ending, trailing blanks and a comment */
		const char *q = p;
		while (q < stop && (*q == ' ' || *q == '\t'))
			q++;
		const char *cut = stop;
		for (const char *c = q; c < stop; c++)
			if (*c == '#' && (c == q || c[-1] == ' ' || c[-1] == '\t')) {
				cut = c;
				break;
			}
		while (cut > q && (cut[-1] == ' ' || cut[-1] == '\t' || cut[-1] == '\r'))
			cut--;
		const char *next = eol ? eol + 1 : end;
		if (q == cut) {
			p = next;
			continue;
		}
		if (q != p)
			return bad(err, errlen, file, line, 1, "a setting begins its line, without "
			    "indentation");
		const char *colon = memchr(p, ':', (size_t)(cut - p));
		size_t klen = colon ? (size_t)(colon - p) : (size_t)(cut - p);
		int k = -1;
		for (int i = 0; i < K__COUNT; i++)
			if (strlen(keys[i]) == klen && memcmp(keys[i], p, klen) == 0)
				k = i;
		char word[64];
		snprintf(word, sizeof word, "%.*s", (int)(klen < 40 ? klen : 40), p);
		if (k < 0)
			return bad(err, errlen, file, line, 1, "unknown setting \"%s\" (expected server, "
			    "server_user, tls_pin, pubkey or max_wait)", word);
		if (colon == NULL || (colon + 1 < cut && colon[1] != ' ' && colon[1] != '\t'))
			return bad(err, errlen, file, line, (int)klen + 1, "expected \"%s: value\"",
			    word);
		if (seen[k])
			return bad(err, errlen, file, line, 1, "%s is set twice (first on line %d)",
			    word, seen[k]);
		seen[k] = line;
		const char *v = colon + 1;
		while (v < cut && (*v == ' ' || *v == '\t'))
			v++;
		int col = (int)(v - p) + 1;
		size_t vlen = (size_t)(cut - v);
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
			v++;
			vlen -= 2;
		}
		if (vlen == 0)
			return bad(err, errlen, file, line, col, "%s has no value", word);
		char text_value[1024];
		if (vlen >= sizeof text_value)
			return bad(err, errlen, file, line, col, "%s's value is too long", word);
		memcpy(text_value, v, vlen);
		text_value[vlen] = '\0';
		for (size_t i = 0; i < vlen; i++)
			if ((unsigned char)text_value[i] < 0x20 || text_value[i] == 0x7f)
				return bad(err, errlen, file, line, col + (int)i, "%s's value has a control "
				    "character", word);
		if (!set_value(conf, k, text_value, file, line, col, err, errlen))
			return false;
		p = next;
	}
	return true;
}

/* ---- reading the file ---- */

/* Whether dir (the directory holding path) is one only root can change. */
static bool dir_trusted(const char *path, char *err, size_t errlen)
{
	char dir[512];
	path_dir(path, dir, sizeof dir);
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: cannot read its directory %s (%s)", path, dir,
		    strerror(errno));
		return false;
	}
	if (!trusted_owner(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: refused: its directory %s is not root's alone (it must be "
		    "owned by root and writable by nobody else)", path, dir);
		return false;
	}
	return true;
}

int client_conf_read(client_conf *conf, char *err, size_t errlen)
{
	defaults(conf);
	const char *path = client_conf_path();
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
		return -1;
	}
	int rc = -1;
	char *text = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (!trusted_owner(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: refused: it must be owned by root and writable by nobody "
		    "else (chown root %s; chmod 644 %s)", path, path, path);
		goto out;
	}
	if (!dir_trusted(path, err, errlen))
		goto out;
	if (st.st_size > CLIENT_CONF_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", path, CLIENT_CONF_MAX);
		goto out;
	}
	text = malloc(CLIENT_CONF_MAX + 1);
	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, text + len, CLIENT_CONF_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: cannot read it (%s)", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CLIENT_CONF_MAX) {
			snprintf(err, errlen, "%s: longer than %d bytes", path, CLIENT_CONF_MAX);
			goto out;
		}
	}
	if (client_conf_parse(path, text, len, conf, err, errlen))
		rc = 1;
out:
	free(text);
	close(fd);
	return rc;
}

/* ---- token files ---- */

bool client_token_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[CLIENT_TOKEN_MAX + 8];
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "token file %s: cannot read it (%s)", path, strerror(errno));
		return false;
	}
	struct stat st;
	size_t len = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "token file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		snprintf(err, errlen, "token file %s: refused: other users can read or write it "
		    "(chmod 600 %s)", path, path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "token file %s: cannot read it (%s)", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf - 1)
			break;
	}
	buf[len] = '\0';
	size_t line = strcspn(buf, "\r\n");
	size_t rest = line + strspn(buf + line, "\r\n");
	if (rest != len || strlen(buf) != len) {
		snprintf(err, errlen, "token file %s: refused: a token file holds one token on one "
		    "line (at most %d characters)", path, CLIENT_TOKEN_MAX);
		goto out;
	}
	buf[line] = '\0';
	if (line == 0) {
		snprintf(err, errlen, "token file %s: it holds no token", path);
		goto out;
	}
	if (!client_token_valid(buf) || line >= outlen) {
		snprintf(err, errlen, "token file %s: refused: not a bearer token (letters, digits and "
		    "-._~+/ only)", path);
		goto out;
	}
	memcpy(out, buf, line + 1);
	ok = true;
out:
	client_wipe(buf, sizeof buf);
	close(fd);
	return ok;
}
