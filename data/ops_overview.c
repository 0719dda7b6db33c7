/*
 * ops_overview.c: the counts, policy version and actor's standing that a
 * console's header shows, one call per refresh.
 *
 * On a store opened here they are read from status_counts (a row per
 * stored status) and the reviewers table; an override's expiry is read off
 * its row, so "overridden" and "expired" count rows of that status only.
 * Through a server the same comes from GET /v1/status (remote_read.c).
 */
#include <string.h>

#include "remote.h"

outcome op_overview(store *s, const char *actor, overview *v, op_reply *r)
{
	memset(v, 0, sizeof *v);
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_overview(s, actor, v, r);
	for (int st = ST_ALLOWED; st <= ST_EXPIRED; st++)
		if ((v->counts[st] = query_count(s, status_name(st))) < 0)
			return op_say(r, OUT_IO_ERROR, "%s", store_errmsg(s));
	v->policy_version = store_policy_version(s);
	reviewer rv;
	int found = reviewer_get(s, actor, &rv);
	if (found < 0)
		return op_say(r, OUT_IO_ERROR, "%s", store_errmsg(s));
	snprintf(v->actor, sizeof v->actor, "%s", found == 1 ? rv.name : actor);
	v->reviewer = found == 1 && !rv.disabled;
	v->admin = v->reviewer && rv.admin;
	return OUT_OK;
}

int64_t overview_count(const overview *v, const char *filter)
{
	int64_t n = 0;
	for (int st = ST_ALLOWED; st <= ST_EXPIRED; st++) {
		bool waiting = st == ST_PENDING || st == ST_BLOCKED;
		if (strcmp(filter, "all") == 0 || strcmp(filter, status_name(st)) == 0 ||
		    (strcmp(filter, "waiting") == 0 && waiting) ||
		    (strcmp(filter, "decided") == 0 && !waiting && st != ST_ALLOWED))
			n += v->counts[st];
	}
	return n;
}
