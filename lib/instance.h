/*
 * instance.h: one running tunnel's files in the runtime directory.
 *
 * $XDG_RUNTIME_DIR/connect/ (else /tmp/connect-$UID/), mode 0700, holds
 * NAME.pid, NAME.sock and, in background mode, NAME.log. The pid file is
 * locked (flock) for the life of the process that owns it, so "running"
 * means "someone holds the lock": a file left by a crashed instance has no
 * holder and is simply taken over. flock, unlike fcntl locks, stays with a
 * forked child that inherits the descriptor: the background parent can take
 * the lock before it forks and the daemon keeps it.
 */
#ifndef CONNECT_INSTANCE_H
#define CONNECT_INSTANCE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct instance {
	char	name[256];
	char	dir[PATH_MAX];
	char	pid_path[PATH_MAX];
	char	sock_path[PATH_MAX];
	char	log_path[PATH_MAX];
	int	pid_fd;		/* open and locked while we own it, else -1 */
};

/*
 * The runtime directory, created 0700 if missing. Refuses one owned by
 * someone else or open to others (a shared /tmp must not let another user
 * plant our control socket). Returns 0, or -1 with *cause.
 */
int	instance_dir(char *buf, size_t len, char **cause);

/* Fill in the paths for NAME. Returns 0, or -1 with *cause (name or path too long). */
int	instance_init(struct instance *in, const char *name, char **cause);

/*
 * Take NAME's lock, with our pid in the pid file from that moment (a stop
 * can reach an instance still asking for its passphrase). Returns 0 (ours
 * now: stale files from a crashed instance were replaced), 1 if a live
 * instance holds it (*holder set to its pid, 0 if an older connect has not
 * written it yet), or -1 with *cause ("disk full" named).
 */
int	instance_claim(struct instance *in, pid_t *holder, char **cause);

/*
 * Put pid into our pid file (after a fork: the child's), replacing the file
 * whole and keeping it locked throughout. Returns 0, or -1 with *cause; the
 * old file, pid and lock, stays on failure.
 */
int	instance_write_pid(struct instance *in, pid_t pid, char **cause);

/* Is NAME running? Returns its pid, or 0 when nobody holds the lock. */
pid_t	instance_running(const struct instance *in);

/* Remove our files and drop the lock (a clean exit). */
void	instance_release(struct instance *in);

/* Close our descriptor without removing anything (the parent after the daemon forked). */
void	instance_forget(struct instance *in);

/*
 * The names of instances whose pid file is in the runtime directory, running
 * or not, sorted. Returns the count (names malloc'd in *names, caller frees
 * each and the array), or -1 with *cause.
 */
int	instance_list(char ***names, char **cause);

#endif
