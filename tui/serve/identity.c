/*
 * identity.c: who is calling (PRODUCT.md section 9, Identities).
 *
 * On the Unix socket the peer's uid, read from the kernel (SO_PEERCRED),
 * never from anything the peer says: the server's own uid is the store's
 * owner. On TCP only a bearer token names the caller. What each identity may
 * do is the route's (LET_*), checked here before the body is read.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "serve.h"

/* The peer's uid on a Unix socket; false on TCP, with its address. */
static bool peer(request *rq, uid_t *uid)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL) {
		struct ucred cred;
		socklen_t len = sizeof cred;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getsockname(ci->connect_fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    ss.ss_family == AF_UNIX &&
		    getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			*uid = cred.uid;
			snprintf(rq->who.address, sizeof rq->who.address, "unix:%u", (unsigned)cred.uid);
			return true;
		}
	}
	ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?";
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			    sizeof host);
	}
	snprintf(rq->who.address, sizeof rq->who.address, "%s", host);
	return false;
}

/* The token of an "Authorization: Bearer TOKEN" header, or NULL. */
static const char *bearer(const request *rq)
{
	const char *h = header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

static bool refuse(request *rq, outcome o, const char *why)
{
	answer_error(rq, o, why, 0, 0);
	return false;
}

bool identify(server *srv, request *rq)
{
	uid_t uid = (uid_t)-1;
	bool local = peer(rq, &uid);
	const char *token = bearer(rq);
	if (token != NULL)
		return refuse(rq, OUT_UNAUTHENTICATED, "this server knows no such token");
	if (!local)
		return refuse(rq, OUT_UNAUTHENTICATED, "a bearer token is required");
	if (uid != srv->uid) {
		char why[64];
		snprintf(why, sizeof why, "unknown uid %u", (unsigned)uid);
		return refuse(rq, OUT_NOT_PERMITTED, why);
	}
	rq->who.kind = WHO_OWNER;
	rq->who.admin = true;
	snprintf(rq->who.name, sizeof rq->who.name, "%s", srv->login);
	return true;
}
