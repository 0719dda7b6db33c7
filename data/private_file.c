/*
 * private_file.c: replacing one of the store's private files whole.
 *
 * users.oath and policies.cache are written the same way: the new bytes go
 * to a temporary file beside the old one, made 0600 whatever the umask
 * (fchmod), never through a link (O_NOFOLLOW), under a random name that no
 * other writer shares (O_EXCL), synced, then renamed over the old file, so
 * that a reader sees the old file or the new one, never a part. A failure
 * removes the temporary file; a process killed between the open and the
 * rename leaves it (PATH.HEX.tmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

bool private_file_replace(const char *path, const void *bytes, size_t len, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX + 64], hex[17];
	unsigned char nonce[8];
	randombytes_buf(nonce, sizeof nonce);
	public_hex(hex, nonce, sizeof nonce);
	snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, hex);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fchmod(fd, 0600) == 0;
	size_t put = 0;
	while (ok && put < len) {
		ssize_t w = write(fd, (const char *)bytes + put, len - put);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		if (ok)
			put += (size_t)w;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		snprintf(err, errlen, "cannot write %.400s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	return ok;
}
