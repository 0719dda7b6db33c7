/*
 * autocheckpoint.c: the server's automatic audit checkpoints (not the WAL
 * checkpoints of data/log_copier.c).
 *
 * A thread of its own, with a store connection of its own, writes a signed
 * checkpoint into audit.checkpoint_dir when one is due (checkpoint_due,
 * data/checkpoints.c: the head has moved since the last one, and
 * audit.checkpoint_events events or audit.checkpoint_minutes minutes have
 * passed), then runs audit.checkpoint_command with the new file. While the
 * head has not moved since the last checkpoint the thread sleeps until the
 * writer says it has (after a round that moved it): an idle server neither
 * wakes nor writes. While one is pending it looks at the clock every
 * second, since the wall clock may jump (a suspended machine, the test
 * clock) where a timed wait would not see it.
 *
 * The command is `/bin/sh -c COMMAND sh FILE`: the path is its $1, never
 * quoted into the command's text. Its stdin is /dev/null, its output (both
 * streams) the server's log, its signals the defaults; it gets COMMAND_TIMEOUT seconds
 * (less once the server stops), then its process group is killed. A
 * failure, of the checkpoint or of the command, is logged and the server
 * goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

extern char **environ;

enum { COMMAND_TIMEOUT_MS = 60000, STOP_GRACE_MS = 5000, PENDING_LOOK_MS = 1000 };

static bool stopping(server *srv)
{
	pthread_mutex_lock(&srv->lock);
	bool done = srv->autocp_done;
	pthread_mutex_unlock(&srv->lock);
	return done;
}

/* Runs the command with file as $1 and waits for it, within its time. */
static void run_command(server *srv, const char *command, const char *file)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defaults);
	char *argv[] = { "sh", "-c", (char *)command, "sh", (char *)file, NULL };
	pid_t pid;
	int rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		err_printf("arbiter serve: audit.checkpoint_command for %s: cannot start /bin/sh: %s\n",
		    file, strerror(rc));
		return;
	}
	int64_t started = mono_ms(), deadline = started + COMMAND_TIMEOUT_MS;
	bool stop_seen = false;
	int status;
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			err_printf("arbiter serve: audit.checkpoint_command for %s: %s\n", file,
			    strerror(errno));
			return;
		}
		if (!stop_seen && stopping(srv)) {
			stop_seen = true;
			if (deadline > mono_ms() + STOP_GRACE_MS)
				deadline = mono_ms() + STOP_GRACE_MS;
		}
		if (mono_ms() >= deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			err_printf("arbiter serve: audit.checkpoint_command for %s did not finish in %d s: "
			    "killed\n", file, (int)(mono_ms() - started) / 1000);
			return;
		}
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		err_printf("arbiter serve: audit.checkpoint_command ran for %s\n", file);
	else if (WIFEXITED(status))
		err_printf("arbiter serve: audit.checkpoint_command failed for %s: exit %d\n", file,
		    WEXITSTATUS(status));
	else
		err_printf("arbiter serve: audit.checkpoint_command failed for %s: signal %d\n", file,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void *autocp_main(void *arg)
{
	server *srv = arg;
	int64_t last_seq = srv->autocp_last_seq, last_ms = srv->autocp_last_ms;
	int64_t head = srv->autocp_head;        /* server.start's, the writer's after */
	pthread_mutex_lock(&srv->lock);
	while (!srv->autocp_done) {
		settings cfg = srv->live;
		if (srv->head_seq > head)
			head = srv->head_seq;
		if (head <= last_seq) {
			/* nothing new: asleep until the writer moves the head */
			srv->autocp_idle = true;
			pthread_cond_wait(&srv->autocp_wake, &srv->lock);
			srv->autocp_idle = false;
			continue;
		}
		if (!audit_checkpoint_due(&cfg, last_seq, last_ms, head, now_ms())) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += PENDING_LOOK_MS / 1000;
			pthread_cond_timedwait(&srv->autocp_wake, &srv->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&srv->lock);
		checkpoint_written w;
		int done = checkpoint_auto(srv->autocp, &cfg, &w);
		if (done < 0) {
			err_printf("arbiter serve: automatic checkpoint: %s\n", w.err);
			/* tried again when the head moves, or an interval later */
			last_seq = head;
			last_ms = now_ms();
		} else {
			last_seq = w.last_seq;
			last_ms = w.last_ms;
		}
		if (done > 0) {
			err_printf("arbiter serve: wrote checkpoint %s (seq %lld)\n", w.path,
			    (long long)w.seq);
			if (cfg.checkpoint_command[0] != '\0')
				run_command(srv, cfg.checkpoint_command, w.path);
		}
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

bool autocp_start(server *srv, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->autocp_wake, &ca);
	pthread_condattr_destroy(&ca);
	srv->autocp = store_open(srv->home, err, errlen);
	if (srv->autocp == NULL)
		return false;
	if (!checkpoint_last(srv->autocp, &srv->autocp_last_seq, &srv->autocp_last_ms) ||
	    !audit_last_seq(srv->autocp, &srv->autocp_head) ||
	    pthread_create(&srv->autocp_thread, NULL, autocp_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the checkpoint thread: %s",
		    store_errmsg(srv->autocp));
		store_close(srv->autocp);
		srv->autocp = NULL;
		return false;
	}
	return true;
}

void autocp_moved(server *srv)
{
	if (srv->autocp_idle)
		pthread_cond_signal(&srv->autocp_wake);
}

void autocp_stop(server *srv)
{
	if (srv->autocp == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->autocp_done = true;
	pthread_cond_signal(&srv->autocp_wake);
	pthread_mutex_unlock(&srv->lock);
	pthread_join(srv->autocp_thread, NULL);
	store_close(srv->autocp);
	srv->autocp = NULL;
	pthread_cond_destroy(&srv->autocp_wake);
}
