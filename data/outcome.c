/*
 * outcome.c: the vocabulary every front end shares.
 *
 * Two tables, each the only copy: the outcomes of PRODUCT.md section 7 (a
 * name for the API, an exit code for the CLI, an HTTP status for the server,
 * a default message) and what each submission status means to someone
 * waiting on it (final or not, and the outcome it reports). submit, show,
 * wait, list --json and the console all read a status through here, so they
 * cannot disagree on whether a rejected submission exits 3 or 4.
 */
#include <string.h>

#include "ops.h"

static const outcome_info outcomes[OUT__COUNT] = {
	[OUT_OK] = { "ok", 0, 200, "done" },
	[OUT_WAITING] = { "waiting", 3, 200, "awaiting review" },
	[OUT_REFUSED] = { "refused", 4, 200, "refused" },
	[OUT_BAD_INPUT] = { "bad_input", 1, 400, "the input is wrong" },
	[OUT_NOT_FOUND] = { "not_found", 1, 404, "not found" },
	[OUT_CONFLICT] = { "conflict", 1, 409, "conflicts with what is stored" },
	[OUT_BUSY] = { "busy", 1, 503, "the store is busy: try again" },
	[OUT_IO_ERROR] = { "io_error", 1, 500, "the store or the disk failed" },
	[OUT_RATE_LIMITED] = { "rate_limited", 1, 429, "too many requests" },
	[OUT_UNAUTHENTICATED] = { "unauthenticated", 4, 401, "a code or a token is needed" },
	[OUT_NOT_PERMITTED] = { "not_permitted", 4, 403, "not permitted" },
	[OUT_ALREADY_DECIDED] = { "already_decided", 4, 409, "already decided" },
	[OUT_WRONG_STATE] = { "wrong_state", 4, 409, "the decision does not fit the status" },
	[OUT_CODE_REFUSED] = { "code_refused", 4, 422, "code refused" },
	[OUT_LOCKED_OUT] = { "locked_out", 4, 423, "locked out after too many wrong codes" },
	[OUT_TAMPERED] = { "tampered", 4, 409, "the policy files differ from the pinned version" },
};

const outcome_info *outcome_of(outcome o)
{
	return o >= 0 && o < OUT__COUNT ? &outcomes[o] : &outcomes[OUT_IO_ERROR];
}

int outcome_exit(outcome o)
{
	return outcome_of(o)->exit_code;
}

outcome outcome_named(const char *name)
{
	for (int o = 0; name != NULL && o < OUT__COUNT; o++)
		if (strcmp(outcomes[o].name, name) == 0)
			return (outcome)o;
	return OUT__COUNT;
}

static const struct {
	bool final;
	outcome reports;
} statuses[ST_EXPIRED + 1] = {
	[ST_ALLOWED] = { true, OUT_OK },
	[ST_PENDING] = { false, OUT_WAITING },
	[ST_BLOCKED] = { false, OUT_WAITING },
	[ST_APPROVED] = { true, OUT_OK },
	[ST_REJECTED] = { true, OUT_REFUSED },
	[ST_OVERRIDDEN] = { true, OUT_OK },
	[ST_EXPIRED] = { true, OUT_REFUSED },
};

outcome status_outcome(int st)
{
	return st >= 0 && st <= ST_EXPIRED ? statuses[st].reports : OUT_REFUSED;
}

bool status_final(int st)
{
	return st >= 0 && st <= ST_EXPIRED && statuses[st].final;
}

int status_parse(const char *name)
{
	for (int st = 0; name != NULL && st <= ST_EXPIRED; st++)
		if (strcmp(status_name(st), name) == 0)
			return st;
	return -1;
}

int status_name_exit(const char *name)
{
	return outcome_exit(status_outcome(status_parse(name)));
}
