/*
 * client_curl.h: libcurl, loaded when a command first talks to a server.
 *
 * libcurl (Debian's, built with GnuTLS) brings some thirty shared libraries
 * with it, Kerberos and LDAP among them, whose loading and constructors cost
 * every arbiter process about 6 ms at start: more than a whole local list or
 * show. Most commands never reach a server, so arbiter is not linked with
 * libcurl: the client (client.c, client_path.c) includes this header in
 * place of <curl/curl.h>, and its calls go through the functions
 * client_curl_ready() resolved with dlopen, under their own names. The
 * library and its version are those the build found (pkg-config libcurl),
 * loaded by the soname the package installs.
 */
#ifndef ARBITER_CLIENT_CURL_H
#define ARBITER_CLIENT_CURL_H

#include <stdbool.h>
#include <stddef.h>

/* plain prototypes: the type-checking macros would wrap our names */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

struct client_curl {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_escape) *easy_escape;
	__typeof__(curl_free) *free;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_cleanup) *url_cleanup;
};
extern struct client_curl client_curl;

/* Loads libcurl once (any thread): false when it cannot be, with why in
 * client_curl_error(). */
bool client_curl_ready(void);
const char *client_curl_error(void);

/* curl.h's checks that these get three arguments give way to ours */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init client_curl.global_init
#define curl_easy_init client_curl.easy_init
#define curl_easy_setopt client_curl.easy_setopt
#define curl_easy_getinfo client_curl.easy_getinfo
#define curl_easy_perform client_curl.easy_perform
#define curl_easy_cleanup client_curl.easy_cleanup
#define curl_easy_strerror client_curl.easy_strerror
#define curl_easy_escape client_curl.easy_escape
#define curl_free client_curl.free
#define curl_slist_append client_curl.slist_append
#define curl_slist_free_all client_curl.slist_free_all
#define curl_url client_curl.url
#define curl_url_set client_curl.url_set
#define curl_url_get client_curl.url_get
#define curl_url_cleanup client_curl.url_cleanup

#endif
