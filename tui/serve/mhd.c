/*
 * mhd.c: loading libmicrohttpd when the server starts (mhd.h).
 */
#include "../../engine/engine.h"
#include "mhd.h"

/* the soname of the libmicrohttpd the build links against (Debian's
 * libmicrohttpd-dev: package libmicrohttpd12) */
#define MHD_SONAME "libmicrohttpd.so.12"

struct serve_mhd serve_mhd;

/* the functions in the order of struct serve_mhd */
static const char *const names[] = { "MHD_start_daemon", "MHD_stop_daemon",
	"MHD_quiesce_daemon", "MHD_get_connection_info", "MHD_get_connection_values",
	"MHD_lookup_connection_value", "MHD_suspend_connection", "MHD_resume_connection",
	"MHD_queue_response", "MHD_add_response_header", "MHD_destroy_response",
	"MHD_create_response_from_fd", "MHD_create_response_from_callback",
	"MHD_create_response_from_buffer_with_free_callback" };
_Static_assert(sizeof names / sizeof names[0] * sizeof(void *) == sizeof(struct serve_mhd),
    "a name for each function of struct serve_mhd");

static lazy_lib lib = LAZY_LIB(MHD_SONAME, names, serve_mhd);

bool serve_mhd_ready(void)
{
	return lazy_lib_ready(&lib);
}

const char *serve_mhd_error(void)
{
	return lib.why;
}
