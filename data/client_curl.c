/*
 * client_curl.c: loading libcurl at a client's first use (client_curl.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "client_curl.h"

/* the soname of the libcurl the build links against (Debian's
 * libcurl4-gnutls-dev: package libcurl3-gnutls) */
#define CURL_SONAME "libcurl-gnutls.so.4"

struct client_curl client_curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char why[256];

static void load(void)
{
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(why, sizeof why, "libcurl cannot be loaded: %s", dlerror());
		return;
	}
	static const struct {
		const char *name;
		size_t offset;
	} fns[] = {
#define FN(field, name) { name, offsetof(struct client_curl, field) }
		FN(global_init, "curl_global_init"), FN(easy_init, "curl_easy_init"),
		FN(easy_setopt, "curl_easy_setopt"), FN(easy_getinfo, "curl_easy_getinfo"),
		FN(easy_perform, "curl_easy_perform"), FN(easy_cleanup, "curl_easy_cleanup"),
		FN(easy_strerror, "curl_easy_strerror"), FN(easy_escape, "curl_easy_escape"),
		FN(free, "curl_free"), FN(slist_append, "curl_slist_append"),
		FN(slist_free_all, "curl_slist_free_all"), FN(url, "curl_url"),
		FN(url_set, "curl_url_set"), FN(url_get, "curl_url_get"),
		FN(url_cleanup, "curl_url_cleanup"),
#undef FN
	};
	struct client_curl api;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		void *fn = dlsym(lib, fns[i].name);
		if (fn == NULL) {
			snprintf(why, sizeof why, "libcurl (%s) lacks %s", CURL_SONAME, fns[i].name);
			dlclose(lib);
			return;
		}
		*(void **)((char *)&api + fns[i].offset) = fn;
	}
	client_curl = api;
	loaded = true;
}

bool client_curl_ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *client_curl_error(void)
{
	return why;
}
