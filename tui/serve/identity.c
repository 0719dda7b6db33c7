/*
 * identity.c: who is calling (PRODUCT.md section 9, Identities).
 *
 * On the Unix socket the peer's uid, read from the kernel (SO_PEERCRED),
 * never from anything the peer says: the server's own uid is the store's
 * owner; any other uid is the agent or reviewer mapped to it
 * (op_identify_uid), or refused (403). A bearer token (Authorization: Bearer
 * TOKEN) names the caller on TCP, where it is required, and may on the
 * socket name which identity of the peer's uid is calling (op_identify_token
 * checks that it maps to that uid). A token is compared by the store in
 * constant time, and never logged nor kept.
 *
 * Limits, kept in memory under their own lock (each listener has a polling
 * thread): failed token attempts are counted per address (a TCP peer's
 * address, or "unix:UID"); beyond TOKEN_FAILURES_MAX in a minute the
 * address is refused with 429 and Retry-After until its minute is over,
 * before any token it sends is looked at. An agent added with --rate N is
 * refused with 429 beyond N requests a second (a bucket of N requests that
 * refills at N a second). Every refusal of who a caller is goes to
 * access.denied (denials.c). What each identity may call is the route's
 * LET_*, checked next (http.c), before the body is read.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "mhd.h"
#include "serve.h"

enum { TOKEN_FAILURES_MAX = 10, FAILURE_WINDOW_MS = 60000, ADDRESSES_MAX = 256,
	AGENTS_MAX = 256 };

typedef struct failures {
	char address[64];
	int n;                          /* failed token attempts since since_ms */
	int64_t since_ms;
} failures;

typedef struct bucket {
	char name[72];
	double left;                    /* requests it may still make now */
	int64_t at_ms;                  /* when left was counted */
} bucket;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static failures addresses[ADDRESSES_MAX];
static bucket agents[AGENTS_MAX];

/* The entry of address (a fresh one when it has none: one whose minute is
 * over, else the oldest). Under lock. */
static failures *failures_of(const char *address, int64_t now)
{
	failures *slot = &addresses[0];
	for (int i = 0; i < ADDRESSES_MAX; i++) {
		failures *f = &addresses[i];
		if (strcmp(f->address, address) == 0) {
			if (now - f->since_ms >= FAILURE_WINDOW_MS)
				f->n = 0;
			return f;
		}
		if (f->since_ms < slot->since_ms)
			slot = f;
	}
	memset(slot, 0, sizeof *slot);
	snprintf(slot->address, sizeof slot->address, "%s", address);
	return slot;
}

/* Seconds until address may try a token again; 0: now. */
static int token_wait(const char *address)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&lock);
	failures *f = failures_of(address, now);
	int wait = f->n >= TOKEN_FAILURES_MAX ?
	    (int)((f->since_ms + FAILURE_WINDOW_MS - now + 999) / 1000) : 0;
	pthread_mutex_unlock(&lock);
	return wait > 0 ? wait : 0;
}

static void token_failed(const char *address)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&lock);
	failures *f = failures_of(address, now);
	if (f->n++ == 0)
		f->since_ms = now;
	pthread_mutex_unlock(&lock);
}

/* Whether agent name, allowed rate requests a second, may make one more. */
static bool within_rate(const char *name, int rate)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&lock);
	bucket *b = NULL, *oldest = &agents[0];
	for (int i = 0; i < AGENTS_MAX && b == NULL; i++) {
		if (strcmp(agents[i].name, name) == 0)
			b = &agents[i];
		else if (agents[i].at_ms < oldest->at_ms)
			oldest = &agents[i];
	}
	if (b == NULL) {
		b = oldest;
		snprintf(b->name, sizeof b->name, "%s", name);
		b->left = rate;
		b->at_ms = now;
	}
	b->left += (double)(now - b->at_ms) * rate / 1000.0;
	if (b->left > rate)
		b->left = rate;
	b->at_ms = now;
	bool ok = b->left >= 1.0;
	if (ok)
		b->left -= 1.0;
	pthread_mutex_unlock(&lock);
	return ok;
}

/* Agents revoked while the server runs (a name stays taken once revoked). */
enum { REVOKED_MAX = 1024 };
static char revoked[REVOKED_MAX][72];
static int nrevoked;

void identity_revoked(const char *name)
{
	pthread_mutex_lock(&lock);
	snprintf(revoked[nrevoked++ % REVOKED_MAX], sizeof revoked[0], "%s", name);
	pthread_mutex_unlock(&lock);
}

bool identity_is_revoked(const char *name)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < REVOKED_MAX && i < nrevoked && !found; i++)
		found = strcmp(revoked[i], name) == 0;
	pthread_mutex_unlock(&lock);
	return found;
}

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

/* Refuses the caller (who: as access.denied names it). */
static bool refuse(server *srv, request *rq, const char *who, outcome o, const char *why)
{
	denied(srv, who, why);
	answer_error(rq, o, why, 0, 0);
	return false;
}

/* Takes the identity the store named, within its rate. */
static bool admit(request *rq, const identity *id)
{
	rq->who.kind = id->kind == ID_AGENT ? WHO_AGENT : WHO_REVIEWER;
	snprintf(rq->who.name, sizeof rq->who.name, "%s", id->name);
	rq->who.admin = id->admin;
	rq->who.rate = id->rate;
	if (id->rate > 0 && !within_rate(id->name, id->rate)) {
		char why[128];
		snprintf(why, sizeof why, "agent %s may make %d requests a second (agent add --rate)",
		    id->name, id->rate);
		answer_error(rq, OUT_RATE_LIMITED, why, 0, 0);
		return false;
	}
	return true;
}

static bool by_token(server *srv, request *rq, const char *token, long peer_uid)
{
	const char *address = rq->who.address;
	int wait = token_wait(address);
	if (wait > 0) {
		rq->retry_after = wait;
		return refuse(srv, rq, address, OUT_RATE_LIMITED, "too many failed token attempts "
		    "from this address: try again later");
	}
	identity id;
	op_reply r;
	outcome o = op_identify_token(rq->reader, token, peer_uid, &id, &r);
	if (o == OUT_OK)
		return admit(rq, &id);
	if (o == OUT_UNAUTHENTICATED)
		token_failed(address);
	if (o == OUT_UNAUTHENTICATED || o == OUT_NOT_PERMITTED)
		return refuse(srv, rq, address, o, r.message);
	answer_error(rq, o, r.message, 0, 0);       /* the store failed: no one's fault */
	return false;
}

bool identify(server *srv, request *rq)
{
	uid_t uid = (uid_t)-1;
	bool local = peer(rq, &uid);
	const char *token = bearer(rq);
	if (token != NULL)
		return by_token(srv, rq, token, local ? (long)uid : -1);
	if (!local)
		return refuse(srv, rq, rq->who.address, OUT_UNAUTHENTICATED, "a bearer token is "
		    "required (Authorization: Bearer TOKEN)");
	if (uid == srv->uid) {
		rq->who.kind = WHO_OWNER;
		rq->who.admin = true;
		snprintf(rq->who.name, sizeof rq->who.name, "%s", srv->login);
		return true;
	}
	identity id;
	op_reply r;
	if (op_identify_uid(rq->reader, (long)uid, &id, &r) == OUT_OK)
		return admit(rq, &id);
	if (r.out != OUT_NOT_PERMITTED) {
		answer_error(rq, r.out, r.message, 0, 0);
		return false;
	}
	char who[32];
	snprintf(who, sizeof who, "uid %u", (unsigned)uid);
	return refuse(srv, rq, who, OUT_NOT_PERMITTED, r.message);
}
