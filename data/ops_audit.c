/*
 * ops_audit.c: the audit log's signed files as operations: a checkpoint of
 * its head and the exported report. Each audits itself (audit.checkpoint,
 * audit.export) in a transaction of its own before the file is written, so a
 * file never exists without its event; audit_files.c does the writing.
 */
#include <string.h>

#include "remote.h"

outcome op_audit_checkpoint(store *s, const char *actor, const char *path,
    audit_checkpointed *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_audit_checkpoint(s, actor, path, r);
	char err[512];
	if (!audit_write_checkpoint(s, actor, path, &r->seq, r->hash, err, sizeof err))
		return op_say(&r->reply, OUT_IO_ERROR, "%s", err);
	return op_say(&r->reply, OUT_OK, "checkpoint: seq %lld, hash %s", (long long)r->seq,
	    r->hash);
}

outcome op_audit_export(store *s, const char *actor, const char *path,
    audit_progress progress, void *ctx, audit_exported *r)
{
	memset(r, 0, sizeof *r);
	if (s->remote)
		return remote_audit_export(s, actor, path, r);
	char err[512];
	if (!audit_write_export(s, actor, path, &r->verify, progress, ctx, err, sizeof err))
		return op_say(&r->reply, OUT_IO_ERROR, "%s", err);
	const verify_result *v = &r->verify;
	if (!v->ok && v->tables)
		return op_say(&r->reply, OUT_TAMPERED, "TAMPERED: %s", v->why);
	if (!v->ok)
		return op_say(&r->reply, OUT_TAMPERED, "TAMPERED at seq %lld: %s",
		    (long long)v->bad_seq, v->why);
	return op_say(&r->reply, OUT_OK, "export: %lld events through seq %lld, hash %s",
	    (long long)v->events, (long long)v->head_seq, v->head);
}

outcome op_record(store *s, const char *actor, const char *event, const char *subject,
    const char *details, op_reply *r)
{
	if (op_begin(s, r) != OUT_OK)
		return r->out;
	if (!audit_append_text(s, actor, event, subject, details ? details : "{}"))
		return op_failed(s, r);
	if (op_commit(s, r) != OUT_OK)
		return r->out;
	return op_say(r, OUT_OK, "%s recorded", event);
}
