/*
 * submission.c: the reserved keys of a submission document.
 *
 * A submission is a map with a required string `action`; `kind` is
 * proposal, export or import, derived from the action when absent;
 * `ref`, `title` and `submitter` are optional strings, `meta` an optional
 * map. Everything else is an attribute that policies read. The submitter is
 * a name (PRODUCT.md section 2): one that is not (a no-break space, a
 * look-alike letter) is refused, and the rest of arbiter compares, stores and
 * counts its lower-cased form, so that ALICE is alice and "alice\u00a0" is
 * nobody's.
 *
 * Two hashes of a document serve two purposes. The content hash is the
 * SHA-256 of the canonical JSON the store keeps (jansson's compact text, keys
 * sorted, which keeps 1.0 a float): a retried ref is the same submission
 * only when the whole document, title and meta included, is the same. The
 * digest is the SHA-256 of the RFC 8785 form (canon.c) of what is asked,
 * without ref, title and meta: what a reviewer decided on, the same bytes for
 * any JCS implementation (a client can compute it), and the same for the same
 * call however it is titled or whichever session sends it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int kind_from_action(const char *action)
{
	if (strncmp(action, "export.", 7) == 0)
		return KIND_EXPORT;
	if (strncmp(action, "import.", 7) == 0)
		return KIND_IMPORT;
	return KIND_PROPOSAL;
}

static bool optional_string(const node *root, const char *key, const char *file,
    const char **out, size_t *len, diags *errs)
{
	const node *v = node_get(root, key);
	*out = NULL;
	*len = 0;
	if (v == NULL || v->type == NODE_NULL)
		return true;
	if (v->type != NODE_STRING) {
		diags_add(errs, file, (int)v->line, (int)v->col, "%s must be a string, not %s", key,
		    node_type_name(v->type));
		return false;
	}
	*out = v->u.str.s;
	*len = v->u.str.len;
	return true;
}

static bool optional_map(const node *root, const char *key, const char *file, diags *errs)
{
	const node *v = node_get(root, key);
	if (v == NULL || v->type == NODE_NULL || v->type == NODE_MAP)
		return true;
	diags_add(errs, file, (int)v->line, (int)v->col, "%s must be a map, not %s %s", key,
	    v->type == NODE_INT ? "an" : "a", node_type_name(v->type));
	return false;
}

/* action and kind are read as C strings (policies match actions by glob,
 * kinds by name): one that holds NUL would be matched as a shorter word
 * than the document says, so it is refused. */
static bool no_nul(const node *v, const char *key, const char *file, diags *errs)
{
	if (v == NULL || v->type != NODE_STRING || memchr(v->u.str.s, '\0', v->u.str.len) == NULL)
		return true;
	diags_add(errs, file, (int)v->line, (int)v->col, "%s must not contain a NUL character",
	    key);
	return false;
}

/* The submitter as a name: its lower-cased form in submitter_name. One that
 * is no name is refused in a new document (strict); in a stored one it is
 * kept for display and matches nobody. */
static bool submitter_named(const node *root, const char *file, submission *out, bool strict,
    diags *errs)
{
	out->submitter_name[0] = '\0';
	if (out->submitter == NULL)
		return true;
	size_t n = out->submitter_len ? out->submitter_len : strlen(out->submitter);
	if (identity_name_n(out->submitter, n, out->submitter_name))
		return true;
	out->submitter_name[0] = '\0';
	if (!strict)
		return true;
	const node *v = node_get(root, "submitter");
	diags_add(errs, file, (int)v->line, (int)v->col, "submitter is not a name (%s)",
	    IDENTITY_NAME_RULE);
	return false;
}

static bool read_submission(const node *root, const char *file, submission *out, bool strict,
    diags *errs)
{
	memset(out, 0, sizeof *out);
	out->doc = root;
	out->file = file;
	out->line = (int)root->line;
	out->col = (int)root->col;
	if (root->type != NODE_MAP) {
		diags_add(errs, file, (int)root->line, (int)root->col,
		    "a submission must be a map of keys to values, not %s %s",
		    root->type == NODE_INT ? "an" : "a", node_type_name(root->type));
		return false;
	}
	const node *action = node_get(root, "action");
	if (action == NULL) {
		diags_add(errs, file, (int)root->line, (int)root->col,
		    "missing action (what the submission asks for, e.g. action: rom.patch)");
		return false;
	}
	if (action->type != NODE_STRING || action->u.str.len == 0) {
		diags_add(errs, file, (int)action->line, (int)action->col,
		    action->type == NODE_STRING ? "action must not be empty"
		    : "action must be a non-empty string, not %s", node_type_name(action->type));
		return false;
	}
	out->action = action->u.str.s;
	size_t kind_len;
	if (!optional_string(root, "ref", file, &out->ref, &out->ref_len, errs) ||
	    !optional_string(root, "title", file, &out->title, &out->title_len, errs) ||
	    !optional_string(root, "submitter", file, &out->submitter, &out->submitter_len, errs) ||
	    !optional_string(root, "kind", file, &out->kind, &kind_len, errs) ||
	    !optional_map(root, "meta", file, errs) ||
	    !no_nul(action, "action", file, errs) ||
	    !no_nul(node_get(root, "kind"), "kind", file, errs) ||
	    !submitter_named(root, file, out, strict, errs))
		return false;
	if (out->kind == NULL) {
		out->kind_bit = kind_from_action(out->action);
		out->kind = kind_name(out->kind_bit);
		return true;
	}
	const node *k = node_get(root, "kind");
	out->kind_bit = kind_by_name(out->kind, strlen(out->kind));
	if (out->kind_bit < 0) {
		out->kind_bit = 0;
		diags_add(errs, file, (int)k->line, (int)k->col,
		    "unknown kind \"%s\" (expected proposal, export or import)", out->kind);
		return false;
	}
	/* an export.* or import.* action cannot be passed off as another
	 * kind: that would slip past the policies scoped to its kind */
	int derived = kind_from_action(out->action);
	if (derived != KIND_PROPOSAL && derived != out->kind_bit) {
		diags_add(errs, file, (int)k->line, (int)k->col,
		    "kind %s contradicts action %s (an %s)", out->kind, out->action,
		    kind_name(derived));
		return false;
	}
	return true;
}

bool submission_from_doc(const node *root, const char *file, submission *out, diags *errs)
{
	return read_submission(root, file, out, true, errs);
}

bool submission_from_stored(const node *root, const char *file, submission *out, diags *errs)
{
	return read_submission(root, file, out, false, errs);
}

bool submission_canonical(submission *sub, arena *a)
{
	strbuf b = { 0 };
	node_write_canonical(&b, sub->doc);
	unsigned char h[32];
	sha256(b.s, b.n, h);
	public_hex(sub->content_hash, h, 32);
	sub->canonical = arena_strndup(a, b.s, b.n);
	free(b.s);
	return true;
}

bool document_digest(const node *doc, char out[65])
{
	static const char *const outside[] = { "ref", "title", "meta", NULL };
	/* room for a typical document at once, not a dozen reallocations */
	strbuf b = { .s = malloc(4096), .cap = 4096 };
	if (b.s == NULL)
		abort();
	bool ok = canon_write_without(&b, doc, outside);
	if (ok) {
		unsigned char h[32];
		sha256(b.s, b.n, h);
		public_hex(out, h, 32);
	}
	free(b.s);
	return ok;
}

bool document_text_digest(const char *text, size_t len, char out[65])
{
	arena *a = arena_new();
	if (a == NULL)
		abort();
	diags errs = { 0 };
	bool empty = false;
	node *root = doc_parse_kept(a, "document", text, len, &empty, &errs);
	bool ok = root != NULL && errs.n == 0 && root->type == NODE_MAP && document_digest(root, out);
	diags_free(&errs);
	arena_free(a);
	return ok;
}

bool submission_digest(submission *sub)
{
	sub->digest[0] = '\0';
	return document_digest(sub->doc, sub->digest);
}
