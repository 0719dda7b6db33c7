/*
 * libload.c: a shared library's functions, resolved when first needed.
 *
 * Libraries that most commands never use (libcurl for the client,
 * libmicrohttpd for the server) are not linked: with what they bring they
 * cost every process milliseconds at start. Their users keep a table of the
 * functions they call (a lazy_lib) and have it filled here, once, with
 * dlopen and dlsym, by whichever thread needs it first.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"

static bool load(lazy_lib *l)
{
	void *lib = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(l->why, sizeof l->why, "%s cannot be loaded: %s", l->soname, dlerror());
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		void *fn = dlsym(lib, l->names[i]);
		if (fn == NULL) {
			snprintf(l->why, sizeof l->why, "%s lacks %s", l->soname, l->names[i]);
			dlclose(lib);
			return false;
		}
		/* into the table of function pointers, as POSIX has dlsym's result
		 * used */
		memcpy((char *)l->fns + i * sizeof fn, &fn, sizeof fn);
	}
	return true;
}

bool lazy_lib_ready(lazy_lib *l)
{
	pthread_mutex_lock(&l->mu);
	if (l->state == 0)
		l->state = load(l) ? 1 : -1;
	bool ok = l->state > 0;
	pthread_mutex_unlock(&l->mu);
	return ok;
}
