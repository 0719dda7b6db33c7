/*
 * notice.c: what the store layer has to say to a person, through the front
 * end's listener.
 *
 * data/ prints nothing: a front end that wants to hear of long work done
 * while a store opens (the upgrade of an older database, schema.c) gives a
 * listener, which writes the line where its user reads (a command's stderr,
 * the server's log). Without one, nobody hears.
 */
#include "store_impl.h"

static store_notice_fn notice_listener;

void store_on_notice(store_notice_fn fn)
{
	notice_listener = fn;
}

void store_notice(const char *message)
{
	if (notice_listener != NULL)
		notice_listener(message);
}
