/*
 * names.c: the engine's words for its numbers, in one table each.
 *
 * Statuses, severities, effects, kinds, rule types and override roles are
 * numbers inside the engine and words in policy files, results, the store
 * and on screen. Loading reads the words (policy.c, submission.c), and
 * evaluation and the reports write them (eval.c, report.c): both read these
 * tables, which call nothing, so no file of the engine needs another for a
 * name. A number outside a table is named "?"; a word outside one is -1.
 */
#include <string.h>

#include "engine.h"

static const char *const status_names[] = {
	"allowed", "pending", "blocked", "approved", "rejected", "overridden", "expired",
};
static const char *const type_names[] = {
	"expression", "forbidden_range", "test_requirement", "change_constraint",
	"review_requirement", "protected_paths", "allowlist", "denylist", "quota",
};
static const char *const severity_names[] = { "info", "warning", "critical" };
static const char *const effect_names[] = { "log", "modify", "warn", "require_approval", "deny" };
static const char *const role_names[] = { "reviewer", "admin" };
/* by bit: KIND_PROPOSAL is 1 << 0, KIND_EXPORT 1 << 1, KIND_IMPORT 1 << 2 */
static const char *const kind_names[] = { "proposal", "export", "import" };

#define COUNT(t) ((int)(sizeof (t) / sizeof (t)[0]))

_Static_assert(COUNT(status_names) == ST_EXPIRED + 1, "a status without a name");
_Static_assert(COUNT(type_names) == RULE__COUNT, "a rule type without a name");
_Static_assert(COUNT(severity_names) == SEV_CRITICAL + 1, "a severity without a name");
_Static_assert(COUNT(effect_names) == EFF_DENY + 1, "an effect without a name");
_Static_assert(COUNT(role_names) == ROLE_ADMIN + 1, "a role without a name");
_Static_assert(1 << (COUNT(kind_names) - 1) == KIND_IMPORT, "a kind without a name");

const char *status_name(int st) { return st >= 0 && st <= ST_EXPIRED ? status_names[st] : "?"; }
const char *rule_type_name(int t) { return t >= 0 && t < RULE__COUNT ? type_names[t] : "?"; }
const char *severity_name(int s) { return s >= 0 && s <= SEV_CRITICAL ? severity_names[s] : "?"; }
const char *effect_name(int e) { return e >= 0 && e <= EFF_DENY ? effect_names[e] : "?"; }
const char *role_name(int r) { return r >= 0 && r <= ROLE_ADMIN ? role_names[r] : "?"; }

/* anything but an export or an import is a proposal */
const char *kind_name(int kind_bit)
{
	return kind_bit == KIND_EXPORT ? "export" : kind_bit == KIND_IMPORT ? "import" : "proposal";
}

/* The index of the len bytes at s in names, or -1: the whole word, so that
 * neither a prefix nor a word with a NUL inside matches. */
static int find(const char *const *names, int count, const char *s, size_t len)
{
	for (int i = 0; i < count; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

int rule_type_by_name(const char *s, size_t len)
{
	return find(type_names, COUNT(type_names), s, len);
}

int severity_by_name(const char *s, size_t len)
{
	return find(severity_names, COUNT(severity_names), s, len);
}

int effect_by_name(const char *s, size_t len)
{
	return find(effect_names, COUNT(effect_names), s, len);
}

int role_by_name(const char *s, size_t len)
{
	return find(role_names, COUNT(role_names), s, len);
}

int kind_by_name(const char *s, size_t len)
{
	int i = find(kind_names, COUNT(kind_names), s, len);
	return i < 0 ? -1 : 1 << i;
}
