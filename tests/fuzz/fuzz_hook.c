/*
 * fuzz_hook.c: libFuzzer target for what arbiter hook reads from outside
 * (data/hook.c): the host's tool call on standard input
 * (hook_call_document) and the server's answers (hook_judge).
 *
 * The first byte says which, and for an answer the next two give its HTTP
 * status; the rest is the text. A call that is accepted must become one
 * JSON object whose action is tool.call; a verdict must have a one-line
 * reason, allow only a 2xx answer that names a submission, and print as
 * the JSON object --format json writes.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_hook, and with replay.c
 * as build/asan/tests/replay_hook for `make test`.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../data/client.h"

static void check_verdict(const hook_verdict *v, long status)
{
	if (memchr(v->reason, '\0', sizeof v->reason) == NULL || v->reason[0] == '\0')
		abort();
	if (v->allow && (status < 200 || status > 299 || v->id <= 0 || v->waiting))
		abort();
	strbuf b = { 0 };
	hook_verdict_json(v, &b);
	json_t *j = json_loads(b.s, 0, NULL);
	const char *d = json_string_value(json_object_get(j, "decision"));
	if (j == NULL || d == NULL || strcmp(d, v->allow ? "allow" : "deny") != 0 ||
	    !json_is_string(json_object_get(j, "reason")))
		abort();
	json_decref(j);
	free(b.s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	if (data[0] % 2 == 0) {
		strbuf doc = { 0 };
		char err[1024];
		if (hook_call_document(text, size - 1, "/fuzz", &doc, err, sizeof err)) {
			json_t *j = json_loadb(doc.s, doc.n, 0, NULL);
			const char *action = json_string_value(json_object_get(j, "action"));
			if (!json_is_object(j) || action == NULL || strcmp(action, "tool.call") != 0 ||
			    !json_is_string(json_object_get(j, "tool")) ||
			    !json_is_string(json_object_get(j, "cwd")))
				abort();
			json_decref(j);
		} else if (err[0] == '\0') {
			abort();
		}
		free(doc.s);
		return 0;
	}
	if (size < 3)
		return 0;
	long status = 100 + (data[1] << 8 | data[2]) % 500;
	hook_verdict v;
	hook_judge(status, (const char *)data + 3, size - 3, &v);
	check_verdict(&v, status);
	return 0;
}
