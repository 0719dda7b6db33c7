/*
 * fuzz_client_conf.c: libFuzzer target for client.conf's parser
 * (client_conf_parse, data/client_conf.c), which every client on a machine
 * reads before it talks to a server.
 *
 * The input is the file's text, read within its length. What parses must
 * hold only values the client accepts (a server address client_open takes,
 * a pin of 32 bytes, an absolute pubkey path, a max_wait from 0 to 300),
 * each NUL-terminated inside its field; what does not must say where, as
 * FILE:LINE:COL: message.
 *
 * Built with -fsanitize=fuzzer as build/fuzz/fuzz_client_conf, and with
 * replay.c as build/asan/tests/replay_client_conf for `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../data/client.h"

static void check_field(const char *field, size_t size)
{
	if (memchr(field, '\0', size) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	client_conf conf;
	char err[1024], why[512];
	if (!client_conf_parse("client.conf", (const char *)data, size, &conf, err, sizeof err)) {
		int line = 0, col = 0;
		if (sscanf(err, "client.conf:%d:%d: ", &line, &col) != 2 || line < 1 || col < 1)
			abort();
		return 0;
	}
	check_field(conf.server, sizeof conf.server);
	check_field(conf.server_user, sizeof conf.server_user);
	check_field(conf.tls_pin, sizeof conf.tls_pin);
	check_field(conf.pubkey, sizeof conf.pubkey);
	unsigned char pin[32];
	if ((conf.server[0] && !client_check_server(conf.server, why, sizeof why)) ||
	    (conf.tls_pin[0] && !client_pin_parse(conf.tls_pin, pin)) ||
	    (conf.pubkey[0] && conf.pubkey[0] != '/') ||
	    conf.max_wait_s < 0 || conf.max_wait_s > HOOK_MAX_WAIT_LIMIT)
		abort();
	return 0;
}
