/*
 * server.c: arbiter serve: start, run until a signal, stop.
 *
 * The server takes the store's Unix socket (.arbiter/arbiter.sock unless
 * --socket or server.socket says otherwise) and, with --listen, a TCP port:
 * TLS (--tls-cert, --tls-key) for any address that is not loopback. A
 * socket another server still answers on is refused; a stale one is
 * replaced. The default socket is 0600 (the owner only); a shared one is
 * reachable by server.socket_group or by everyone, and the server decides
 * who may do what by the peer's uid, never by the socket's mode. The
 * socket's directory must be the server's or root's and writable by nobody
 * else (socket_dir_private), as the store's files must be the server's
 * alone (store_open refuses looser ones); what the server writes into the
 * store (audit checkpoints and exports) is made 0600 (umask 077).
 *
 * Signals are taken by the main thread alone (sigwait): SIGTERM or SIGINT
 * stops accepting, answers every waiting request at once with its current
 * status, lets the requests in flight finish and exits 0; SIGHUP re-reads
 * the policies and config.yaml (writer.c). server.start and server.stop are
 * audited on the writer's connection while its thread leaves it alone: the
 * writer touches the store only once server.start is recorded (a request
 * may come the moment the socket listens), and has ended before
 * server.stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mhd.h"
#include "serve.h"

/* The connections' page caches; the writer's commits leave the log, from
 * 16 MiB of it, to a thread that copies it into the database beside them
 * (store_copy_log_aside), and the writer copies what that thread left
 * between two rounds (writer.c). */
enum { READER_CACHE_KIB = 4096, WRITER_CACHE_KIB = 8192, COPY_LOG_PAGES = 4096 };

/* A copy of the log that failed, on either thread. */
static void log_copy_failed(void *ctx, const char *msg)
{
	(void)ctx;
	err_printf("arbiter serve: %s\n", msg);
}

/* Whether a server answers on path. */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%.107s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return live;
}

static int listen_unix(server *srv, bool shared, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(srv->socket_path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%.300s: the socket path is too long (at most %zu bytes)",
		    srv->socket_path, sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, srv->socket_path, strlen(srv->socket_path) + 1);
	if (!socket_dir_private(srv->socket_path, err, errlen))
		return -1;
	struct stat st;
	if (lstat(srv->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%.300s exists and is not a socket", srv->socket_path);
			return -1;
		}
		if (socket_live(srv->socket_path)) {
			snprintf(err, errlen, "a server already answers on %.300s", srv->socket_path);
			return -1;
		}
		unlink(srv->socket_path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "%.300s: %s", srv->socket_path, strerror(errno));
		close(fd);
		return -1;
	}
	srv->socket_owned = true;
	mode_t mode = 0600;
	if (srv->cfg.socket_group[0] != '\0') {
		struct group *g = getgrnam(srv->cfg.socket_group);
		if (g == NULL || chown(srv->socket_path, (uid_t)-1, g->gr_gid) != 0) {
			snprintf(err, errlen, "%.300s: cannot give the socket to group %s: %s",
			    srv->socket_path, srv->cfg.socket_group, g ? strerror(errno) : "no such group");
			close(fd);
			return -1;
		}
		mode = 0660;
	} else if (shared) {
		mode = 0666;
	}
	if (chmod(srv->socket_path, mode) != 0) {
		snprintf(err, errlen, "%.300s: %s", srv->socket_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT; loopback says whether every address it names is loopback. */
static int listen_tcp(const char *spec, bool *loopback, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof host ||
	    colon[1] == '\0') {
		snprintf(err, errlen, "--listen %s: expected HOST:PORT", spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	const struct sockaddr *sa = ai->ai_addr;
	*loopback = (sa->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127) ||
	    (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, sa, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static char *read_pem(const char *path, const char *what, char *err, size_t errlen)
{
	size_t len;
	char why[256];
	char *text = read_file(path, &len, why, sizeof why);
	if (text == NULL)
		snprintf(err, errlen, "%s %s: %s", what, path, why);
	return text;
}

static void audit_mark(server *srv, const char *event, const char *where)
{
	strbuf d = { 0 };
	sb_printf(&d, "{\"pid\": %ld, \"where\": ", (long)getpid());
	sb_put_json_string(&d, where);
	sb_puts(&d, "}");
	op_reply r;
	if (op_record(srv->writer, srv->login, event, "server", d.s, &r) != OUT_OK)
		err_printf("arbiter serve: %s: %s\n", event, r.message);
	free(d.s);
}

/* Waits for the requests in flight to finish, at most a grace period. */
static void drain(server *srv)
{
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&srv->lock);
		int active = srv->active;
		pthread_mutex_unlock(&srv->lock);
		if (active == 0)
			return;
		usleep(100 * 1000);
	}
}

static int run(server *srv, const args *a)
{
	char err[1024] = "";
	const char *sock = arg_get(a, "--socket");
	bool shared = sock != NULL || srv->cfg.socket[0] != '\0';
	if (sock == NULL)
		sock = srv->cfg.socket[0] ? srv->cfg.socket : NULL;
	if (sock != NULL)
		snprintf(srv->socket_path, sizeof srv->socket_path, "%s", sock);
	else
		snprintf(srv->socket_path, sizeof srv->socket_path, "%s/arbiter.sock", srv->home);
	const char *listen_on = arg_get(a, "--listen");
	const char *cert_file = arg_get(a, "--tls-cert"), *key_file = arg_get(a, "--tls-key");
	if ((cert_file == NULL) != (key_file == NULL)) {
		err_printf("arbiter serve: --tls-cert and --tls-key go together\n");
		return EXIT_USAGE;
	}
	if (cert_file != NULL && listen_on == NULL) {
		err_printf("arbiter serve: --tls-cert needs --listen HOST:PORT\n");
		return EXIT_USAGE;
	}
	char *cert = NULL, *key = NULL;
	int tcp = -1;
	if (listen_on != NULL) {
		bool loopback = false;
		tcp = listen_tcp(listen_on, &loopback, err, sizeof err);
		if (tcp >= 0 && !loopback && cert_file == NULL)
			snprintf(err, sizeof err, "--listen %s is not a loopback address: it needs TLS "
			    "(--tls-cert FILE --tls-key FILE)", listen_on);
		if (tcp >= 0 && cert_file != NULL) {
			cert = read_pem(cert_file, "--tls-cert", err, sizeof err);
			key = cert ? read_pem(key_file, "--tls-key", err, sizeof err) : NULL;
		}
		if (err[0] != '\0') {
			err_printf("arbiter serve: %s\n", err);
			if (tcp >= 0)
				close(tcp);
			free(cert);
			free(key);
			return EXIT_ERROR;
		}
	}
	int fd = listen_unix(srv, shared, err, sizeof err);
	if (fd < 0) {
		err_printf("arbiter serve: %s\n", err);
		if (tcp >= 0)
			close(tcp);
		free(cert);
		free(key);
		return EXIT_ERROR;
	}
	/* every thread started from here blocks the signals; main takes them */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int rc = EXIT_ERROR;
	bool writing = writer_start(srv, err, sizeof err);
	if (!writing || !ticker_start(srv)) {
		if (writing)
			writer_stop(srv);
		err_printf("arbiter serve: %s\n", err[0] ? err : "cannot start its threads");
		close(fd);
		if (tcp >= 0)
			close(tcp);
		free(cert);
		free(key);
		return EXIT_ERROR;
	}
	audit_last_seq(srv->writer, &srv->head_seq);
	bool up = http_start(&srv->unix_lst, fd, NULL, NULL, err, sizeof err);
	if (up && tcp >= 0 && !http_start(&srv->tcp_lst, tcp, cert, key, err, sizeof err)) {
		MHD_stop_daemon(srv->unix_lst.daemon);
		up = false;
	}
	free(cert);
	free(key);
	if (!up) {
		err_printf("arbiter serve: %s\n", err);
		if (tcp >= 0)
			close(tcp);
		close(fd);
		writer_stop(srv);
	} else {
		char where[4200];
		snprintf(where, sizeof where, "%.300s%s%s", srv->socket_path, listen_on ? " " : "",
		    listen_on ? listen_on : "");
		audit_mark(srv, "server.start", where);
		writer_open(srv);
		if (!autocp_start(srv, err, sizeof err))
			err_printf("arbiter serve: no automatic checkpoints: %s\n", err);
		err_printf("arbiter serve: listening on %s%s%s (policy version %d)\n", srv->socket_path,
		    listen_on ? " and " : "", listen_on ? listen_on : "", srv->integ.version);
		for (;;) {
			int sig;
			if (sigwait(&sigs, &sig) != 0)
				continue;
			if (sig == SIGHUP) {
				writer_reload(srv);
				continue;
			}
			break;
		}
		err_printf("arbiter serve: stopping\n");
		autocp_stop(srv);
		int lfd = MHD_quiesce_daemon(srv->unix_lst.daemon);
		if (lfd >= 0)
			close(lfd);
		if (srv->tcp_lst.daemon != NULL && (lfd = MHD_quiesce_daemon(srv->tcp_lst.daemon)) >= 0)
			close(lfd);
		pthread_mutex_lock(&srv->lock);
		srv->stopping = true;
		pthread_mutex_unlock(&srv->lock);
		waiters_wake(srv, WAKE_ALL);
		drain(srv);
		MHD_stop_daemon(srv->unix_lst.daemon);
		if (srv->tcp_lst.daemon != NULL)
			MHD_stop_daemon(srv->tcp_lst.daemon);
		/* the writer's last round (and the refusals it still counts) first:
		 * after it, the write connection is this thread's alone */
		writer_stop(srv);
		audit_mark(srv, "server.stop", where);
		rc = EXIT_OK;
	}
	ticker_stop(srv);
	if (srv->socket_owned)
		unlink(srv->socket_path);
	return rc;
}

int serve_run(const args *a)
{
	server *srv = calloc(1, sizeof *srv);
	if (srv == NULL)
		return EXIT_ERROR;
	if (!find_store_or_say(a, srv->home, sizeof srv->home)) {
		free(srv);
		return EXIT_ERROR;
	}
	umask(077);
	srv->uid = geteuid();
	struct passwd *pw = getpwuid(srv->uid);
	snprintf(srv->login, sizeof srv->login, "%s", pw ? pw->pw_name : "owner");
	srv->log_json = arg_has(a, "--log-json");
	pthread_mutex_init(&srv->lock, NULL);
	pthread_condattr_t ca;         /* the writer's timed waits count monotonic time */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = EXIT_ERROR;
	char err[512];
	diags errs = { 0 };
	srv->unix_lst = (listener){ .srv = srv };
	srv->tcp_lst = (listener){ .srv = srv, .tcp = true };
	srv->writer = store_open(srv->home, err, sizeof err);
	if (srv->writer != NULL)
		srv->unix_lst.reader = store_open(srv->home, err, sizeof err);
	if (srv->unix_lst.reader != NULL && arg_get(a, "--listen") != NULL)
		srv->tcp_lst.reader = store_open(srv->home, err, sizeof err);
	if (srv->unix_lst.reader == NULL || (arg_get(a, "--listen") && !srv->tcp_lst.reader)) {
		err_printf("arbiter serve: %s\n", err);
	} else if (!store_load_signing_key(srv->writer)) {
		err_printf("arbiter serve: %s\n", store_errmsg(srv->writer));
	} else if (!store_settings(srv->writer, &srv->cfg, &errs)) {
		diags_print(&errs, stderr);
	} else {
		store_bulk(srv->writer);
		store_serving(srv->writer, WRITER_CACHE_KIB);
		store_serving(srv->unix_lst.reader, READER_CACHE_KIB);
		if (srv->tcp_lst.reader != NULL)
			store_serving(srv->tcp_lst.reader, READER_CACHE_KIB);
		if (store_copy_log_aside(srv->writer, COPY_LOG_PAGES, 0, log_copy_failed, NULL, err,
		    sizeof err))
			rc = run(srv, a);
		else
			err_printf("arbiter serve: %s\n", err);
	}
	diags_free(&errs);
	events_free(&srv->unix_lst);
	events_free(&srv->tcp_lst);
	last_read_free(&srv->unix_lst);
	last_read_free(&srv->tcp_lst);
	policy_set_free(srv->ps);
	sessions_free(srv);
	store_close(srv->tcp_lst.reader);
	store_close(srv->unix_lst.reader);
	store_close(srv->writer);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->wake);
	free(srv);
	return rc;
}
