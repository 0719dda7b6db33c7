/*
 * mhd.c: loading libmicrohttpd when the server starts (mhd.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "mhd.h"

/* the soname of the libmicrohttpd the build links against (Debian's
 * libmicrohttpd-dev: package libmicrohttpd12) */
#define MHD_SONAME "libmicrohttpd.so.12"

struct serve_mhd serve_mhd;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char why[256];

static void load(void)
{
	void *lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(why, sizeof why, "libmicrohttpd cannot be loaded: %s", dlerror());
		return;
	}
	static const struct {
		const char *name;
		size_t offset;
	} fns[] = {
#define FN(field) { "MHD_" #field, offsetof(struct serve_mhd, field) }
		FN(start_daemon), FN(stop_daemon), FN(quiesce_daemon), FN(get_connection_info),
		FN(get_connection_values), FN(lookup_connection_value), FN(suspend_connection),
		FN(resume_connection), FN(queue_response), FN(add_response_header),
		FN(destroy_response), FN(create_response_from_fd), FN(create_response_from_callback),
		FN(create_response_from_buffer_with_free_callback),
#undef FN
	};
	struct serve_mhd api;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		void *fn = dlsym(lib, fns[i].name);
		if (fn == NULL) {
			snprintf(why, sizeof why, "libmicrohttpd (%s) lacks %s", MHD_SONAME, fns[i].name);
			dlclose(lib);
			return;
		}
		*(void **)((char *)&api + fns[i].offset) = fn;
	}
	serve_mhd = api;
	loaded = true;
}

bool serve_mhd_ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *serve_mhd_error(void)
{
	return why;
}
