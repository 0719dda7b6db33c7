/*
 * mhd.h: libmicrohttpd, loaded when arbiter serve starts.
 *
 * libmicrohttpd brings GnuTLS and a dozen libraries with it, about 1.6 ms at
 * the start of every arbiter process, and only serve uses it. So arbiter is
 * not linked with it: the server's files include this header in place of
 * <microhttpd.h>, and their calls go through the functions serve_mhd_ready()
 * resolved with dlopen, under their own names (as the client loads libcurl,
 * in data/).
 */
#ifndef ARBITER_SERVE_MHD_H
#define ARBITER_SERVE_MHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

struct serve_mhd {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_quiesce_daemon) *quiesce_daemon;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_get_connection_values) *get_connection_values;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_suspend_connection) *suspend_connection;
	__typeof__(MHD_resume_connection) *resume_connection;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_create_response_from_fd) *create_response_from_fd;
	__typeof__(MHD_create_response_from_callback) *create_response_from_callback;
	__typeof__(MHD_create_response_from_buffer_with_free_callback)
	    *create_response_from_buffer_with_free_callback;
};
extern struct serve_mhd serve_mhd;

/* Loads libmicrohttpd once: false when it cannot be, with why in
 * serve_mhd_error(). */
bool serve_mhd_ready(void);
const char *serve_mhd_error(void);

#define MHD_start_daemon serve_mhd.start_daemon
#define MHD_stop_daemon serve_mhd.stop_daemon
#define MHD_quiesce_daemon serve_mhd.quiesce_daemon
#define MHD_get_connection_info serve_mhd.get_connection_info
#define MHD_get_connection_values serve_mhd.get_connection_values
#define MHD_lookup_connection_value serve_mhd.lookup_connection_value
#define MHD_suspend_connection serve_mhd.suspend_connection
#define MHD_resume_connection serve_mhd.resume_connection
#define MHD_queue_response serve_mhd.queue_response
#define MHD_add_response_header serve_mhd.add_response_header
#define MHD_destroy_response serve_mhd.destroy_response
#define MHD_create_response_from_fd serve_mhd.create_response_from_fd
#define MHD_create_response_from_callback serve_mhd.create_response_from_callback
#define MHD_create_response_from_buffer_with_free_callback \
	serve_mhd.create_response_from_buffer_with_free_callback

#endif
