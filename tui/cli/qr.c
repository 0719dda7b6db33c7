/*
 * qr.c: a QR code drawn with text, for enrolling an authenticator app.
 *
 * libqrencode makes the symbol; each text line shows two rows of modules with
 * the half-block characters (upper, lower, full, none), so the code keeps its
 * square shape at half the height. On a terminal the code is drawn black on
 * white with a quiet zone of four modules, so it scans the same on dark and
 * light backgrounds; elsewhere (a file, a pipe) it is plain text with the
 * dark modules drawn. Every byte is arbiter's own: it goes out through
 * term_exact.
 *
 * Only reviewer add and enable draw one, so libqrencode is not linked (with
 * the threads library it brings, its loading cost every command at start):
 * it is loaded here when a code is first drawn, by the soname of Debian's
 * libqrencode4. Without it the command says to type the secret instead.
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define QRENCODE_SONAME "libqrencode.so.4"

static struct {
	__typeof__(QRcode_encodeString) *encode_string;
	__typeof__(QRcode_free) *free;
} qrencode;
/* in the order of the struct */
static const char *const names[] = { "QRcode_encodeString", "QRcode_free" };
_Static_assert(sizeof names / sizeof names[0] * sizeof(void *) == sizeof qrencode,
    "a name for each function of qrencode");
static lazy_lib lib = LAZY_LIB(QRENCODE_SONAME, names, qrencode);

enum { QUIET = 4 };

static bool dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;           /* the quiet zone */
	return q->data[y * q->width + x] & 1;
}

bool qr_print(FILE *out, const char *text)
{
	if (!lazy_lib_ready(&lib))
		return false;
	QRcode *q = qrencode.encode_string(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL)
		return false;
	bool colour = isatty(fileno(out)) && getenv("NO_COLOR") == NULL;
	static const char *const blocks[4] = { " ", "\u2580", "\u2584", "\u2588" };
	for (int y = -QUIET; y < q->width + QUIET; y += 2) {
		if (colour)
			term_exact(out, "\033[30;107m", 8);     /* black on bright white */
		for (int x = -QUIET; x < q->width + QUIET; x++) {
			const char *cell = blocks[dark(q, x, y) | dark(q, x, y + 1) << 1];
			term_exact(out, cell, strlen(cell));
		}
		if (colour)
			term_exact(out, "\033[0m", 4);
		term_exact(out, "\n", 1);
	}
	qrencode.free(q);
	return true;
}
