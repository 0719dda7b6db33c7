/*
 * client_curl.c: loading libcurl at a client's first use (client_curl.h).
 */
#include "../engine/engine.h"
#include "client_curl.h"

/* the soname of the libcurl the build links against (Debian's
 * libcurl4-gnutls-dev: package libcurl3-gnutls) */
#define CURL_SONAME "libcurl-gnutls.so.4"

struct client_curl client_curl;

/* the functions in the order of struct client_curl */
static const char *const names[] = { "curl_global_init", "curl_easy_init",
	"curl_easy_setopt", "curl_easy_getinfo", "curl_easy_perform", "curl_easy_cleanup",
	"curl_easy_strerror", "curl_easy_escape", "curl_free", "curl_slist_append",
	"curl_slist_free_all", "curl_url", "curl_url_set", "curl_url_get", "curl_url_cleanup" };
_Static_assert(sizeof names / sizeof names[0] * sizeof(void *) == sizeof(struct client_curl),
    "a name for each function of struct client_curl");

static lazy_lib lib = LAZY_LIB(CURL_SONAME, names, client_curl);

bool client_curl_ready(void)
{
	return lazy_lib_ready(&lib);
}

const char *client_curl_error(void)
{
	return lib.why;
}
