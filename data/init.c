/*
 * init.c: creating a store (arbiter init).
 *
 * The directory comes first and is refused when it exists (init never
 * overwrites a store), then the policy files and config.yaml (read-only),
 * an empty users.oath, the key pair and the database; last the policy files
 * are pinned as version 1 in the store's first transaction, audited as
 * store.init. Each file is synced as it is written. Every directory and
 * file gets its mode whatever the umask: 0700 and 0600, config.yaml and the
 * policy files 0444, keys/audit.pub 0644 (modes.c checks them at each open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

static const char config_yaml[] =
    "# arbiter settings (see man arbiter). Defaults are shown.\n"
    "enforcement:\n"
    "  enabled: true          # false: every submission is allowed, still audited\n"
    "  fail_closed: true      # an evaluation error is a deny finding\n"
    "review:\n"
    "  approve_requires_code: true\n"
    "  justification_min_chars: 20\n"
    "  override_default_duration: 24h\n"
    "  session_idle: 10m\n"
    "totp:\n"
    "  window: 1\n"
    "  max_failures: 5\n"
    "  lockout: 15m\n"
    "hook:\n"
    "  approval_ttl: 8h       # an approval answers for the same call this long\n"
    "audit:\n"
    "  # arbiter serve writes a signed checkpoint of the log's head when it has moved\n"
    "  # and this many events or minutes have passed since the last one\n"
    "  checkpoint_events: 10000\n"
    "  checkpoint_minutes: 60\n"
    "  checkpoint_dir: checkpoints   # relative to this directory\n"
    "  # a command run with each new checkpoint's path as $1, to send it off the\n"
    "  # machine: /bin/sh -c COMMAND sh FILE (none by default)\n"
    "  # checkpoint_command: 'scp \"$1\" \"$1.minisig\" backup:arbiter/'\n";

static bool write_file(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return false;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	return close(fd) == 0 || (snprintf(err, errlen, "%s: %s", path, strerror(errno)), false);
}

/* A directory of the store: 0700, whatever the umask. */
static bool make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) != 0 || chmod(path, 0700) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool store_init(const char *dir, const named_text *policies, size_t npolicies, const char *actor,
    char *err, size_t errlen)
{
	char home[PATH_MAX], path[PATH_MAX], sub[PATH_MAX];
	if (!store_path(home, sizeof home, dir, ".arbiter", err, errlen))
		return false;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {       /* like git init DIR */
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(home, &st) == 0) {
		snprintf(err, errlen, "%s already exists: arbiter init does not overwrite a store", home);
		return false;
	}
	if (!make_dir(home, err, errlen) ||
	    !store_path(sub, sizeof sub, home, "policies", err, errlen) ||
	    !make_dir(sub, err, errlen))
		return false;
	for (size_t i = 0; i < npolicies; i++)
		if (!store_path(path, sizeof path, sub, policies[i].name, err, errlen) ||
		    !write_file(path, policies[i].text, 0444, err, errlen))
			return false;
	if (!store_path(path, sizeof path, home, "config.yaml", err, errlen) ||
	    !write_file(path, config_yaml, 0444, err, errlen) ||
	    !store_path(path, sizeof path, home, "users.oath", err, errlen) ||
	    !write_file(path, "", 0600, err, errlen) || !keys_generate(home, err, errlen) ||
	    !store_path(path, sizeof path, home, "arbiter.db", err, errlen))
		return false;

	if (!store_create_db(path, err, errlen))
		return false;

	store *s = store_open(home, err, errlen);
	if (s == NULL)
		return false;
	int version;
	bool ok = store_load_signing_key(s) && store_begin(s) &&
	    integrity_pin(s, actor, "arbiter init", "store.init", &version) && store_commit(s);
	if (!ok) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		store_rollback(s);
	}
	store_close(s);
	return ok;
}
