/* instance.c: the runtime directory, the locked pid file and the paths of one instance. */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cause.h"
#include "instance.h"

int
instance_dir(char *buf, size_t len, char **cause)
{
	const char	*xdg = getenv("XDG_RUNTIME_DIR");
	struct stat	 sb;
	int		 n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/connect", xdg);
	else
		n = snprintf(buf, len, "/tmp/connect-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= len) {
		cause_set(cause, "runtime directory path too long");
		return -1;
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST) {
		cause_set(cause, "cannot create %s: %s", buf, strerror(errno));
		return -1;
	}
	/* lstat: a symlink planted in /tmp by someone else is refused, not followed. */
	if (lstat(buf, &sb) == -1) {
		cause_set(cause, "%s: %s", buf, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) {
		cause_set(cause, "%s is not a directory owned by uid %u: refusing to use it "
		    "(remove it, or set XDG_RUNTIME_DIR)", buf, (unsigned)getuid());
		return -1;
	}
	if ((sb.st_mode & 077) != 0 && chmod(buf, 0700) == -1) {
		cause_set(cause, "%s has mode %04o and cannot be made 0700: %s", buf,
		    (unsigned)(sb.st_mode & 07777), strerror(errno));
		return -1;
	}
	return 0;
}

int
instance_init(struct instance *in, const char *name, char **cause)
{
	size_t	i;

	memset(in, 0, sizeof *in);
	in->pid_fd = -1;
	if (name[0] == '\0' || name[0] == '.' || strlen(name) >= sizeof in->name) {
		cause_set(cause, "'%s' cannot name an instance", name);
		return -1;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] == '/') {
			cause_set(cause, "'%s' cannot name an instance (no '/')", name);
			return -1;
		}
	}
	snprintf(in->name, sizeof in->name, "%s", name);
	if (instance_dir(in->dir, sizeof in->dir, cause) != 0)
		return -1;
	if (snprintf(in->pid_path, sizeof in->pid_path, "%s/%s.pid", in->dir, name) >=
	    (int)sizeof in->pid_path ||
	    snprintf(in->log_path, sizeof in->log_path, "%s/%s.log", in->dir, name) >=
	    (int)sizeof in->log_path ||
	    snprintf(in->sock_path, sizeof in->sock_path, "%s/%s.sock", in->dir, name) >=
	    (int)sizeof in->sock_path) {
		cause_set(cause, "runtime path for '%s' too long", name);
		return -1;
	}
	return 0;
}

/* The pid written in the file, 0 if none yet. */
static pid_t
instance_read_pid(int fd)
{
	char	buf[32];
	ssize_t	n;
	long	pid;

	if ((n = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

/* Tries at the lock while a reader or a starting instance holds it: 500 x 2 ms. */
#define INSTANCE_CLAIM_TRIES	500
#define INSTANCE_CLAIM_WAIT_US	2000

/* errno as a message, with what a full disk means here. */
static const char *
instance_strerror(int err)
{
	return err == ENOSPC || err == EDQUOT ? "No space left on device: disk full (the runtime "
	    "directory's file system; remove files there, or set XDG_RUNTIME_DIR elsewhere)" :
	    strerror(err);
}

/*
 * A new pid file holding "PID\n", locked, under a hidden temporary name
 * (instance_list skips dot files) in tmp. Returns its fd, or -1 with *cause
 * (and nothing left behind). The pid file is only ever made by renaming or
 * linking such a file into place: whoever finds NAME.pid finds it whole.
 */
static int
instance_pid_temp(const struct instance *in, pid_t pid, char tmp[PATH_MAX], char **cause)
{
	char	buf[32];
	int	fd, n, err;

	if (snprintf(tmp, PATH_MAX, "%s/.%s.pid.%ld", in->dir, in->name, (long)getpid()) >=
	    PATH_MAX) {
		cause_set(cause, "runtime path for '%s' too long", in->name);
		return -1;
	}
	(void)unlink(tmp);	/* one of ours that a crash left (same pid, an earlier life) */
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		cause_set(cause, "cannot create %s: %s", tmp, instance_strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)pid);
	errno = 0;
	if (write(fd, buf, (size_t)n) != n || flock(fd, LOCK_EX | LOCK_NB) == -1) {
		err = errno != 0 ? errno : ENOSPC;	/* a short write on a full disk */
		cause_set(cause, "cannot write the pid file %s: %s", in->pid_path,
		    instance_strerror(err));
		(void)unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

int
instance_claim(struct instance *in, pid_t *holder, char **cause)
{
	struct stat	sb_fd, sb_path;
	char		tmp[PATH_MAX];
	int		fd, mine, tries, readers = 0;

	*holder = 0;
	/* Our pid is in the file from its first moment: stop can reach an instance still starting. */
	if ((mine = instance_pid_temp(in, getpid(), tmp, cause)) == -1)
		return -1;
	for (tries = 0; tries < INSTANCE_CLAIM_TRIES; tries++) {
		/* No pid file: ours is linked into place whole (link, unlike rename, never replaces). */
		if (link(tmp, in->pid_path) == 0)
			goto ours;
		if (errno != EEXIST) {
			cause_set(cause, "cannot create %s: %s", in->pid_path, instance_strerror(errno));
			goto fail;
		}
		if ((fd = open(in->pid_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
			if (errno == ENOENT)
				continue;	/* removed since: try the link again */
			cause_set(cause, "cannot open %s: %s", in->pid_path, strerror(errno));
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK) {
				cause_set(cause, "cannot lock %s: %s", in->pid_path, strerror(errno));
				close(fd);
				goto fail;
			}
			/*
			 * Held. A shared lock we can take too is status or list
			 * looking (instance_running), for a moment: whatever pid
			 * a stale file holds, nobody runs, so try again. Only an
			 * exclusive holder (an instance) refuses ours.
			 */
			if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
				readers++;
				close(fd);	/* drops the shared lock with it */
				usleep(INSTANCE_CLAIM_WAIT_US);
				continue;
			}
			*holder = instance_read_pid(fd);
			close(fd);
			/* No pid: an older connect starting (it wrote it after the fork). */
			if (*holder == 0 && tries < INSTANCE_CLAIM_TRIES - 1) {
				usleep(INSTANCE_CLAIM_WAIT_US);
				continue;
			}
			(void)unlink(tmp);
			close(mine);
			return 1;
		}
		/*
		 * Unlocked: left by an instance that died without cleaning up.
		 * The owner unlinks the file before it drops the lock, so the
		 * lock may be on a file that is gone or replaced: replace it
		 * only if the path still names the file we locked.
		 */
		if (fstat(fd, &sb_fd) == 0 && stat(in->pid_path, &sb_path) == 0 &&
		    sb_fd.st_dev == sb_path.st_dev && sb_fd.st_ino == sb_path.st_ino) {
			if (rename(tmp, in->pid_path) == -1) {
				cause_set(cause, "cannot replace %s: %s", in->pid_path,
				    instance_strerror(errno));
				close(fd);
				goto fail;
			}
			close(fd);
			goto ours_renamed;
		}
		close(fd);
	}
	if (readers > 0)
		cause_set(cause, "%s stays locked by a reader (a shared flock held for "
		    "more than %d ms): cannot start", in->pid_path,
		    INSTANCE_CLAIM_TRIES * INSTANCE_CLAIM_WAIT_US / 1000);
	else
		cause_set(cause, "%s keeps changing under us", in->pid_path);
fail:
	(void)unlink(tmp);
	close(mine);
	return -1;
ours:
	(void)unlink(tmp);
ours_renamed:
	/* Whatever socket is left is from an instance that died without cleaning up. */
	(void)unlink(in->sock_path);
	in->pid_fd = mine;
	return 0;
}

int
instance_write_pid(struct instance *in, pid_t pid, char **cause)
{
	char	tmp[PATH_MAX];
	int	fd;

	if (in->pid_fd == -1) {
		cause_set(cause, "%s is not ours", in->pid_path);
		return -1;
	}
	/*
	 * A new file renamed over the old one: the file is whole at every
	 * moment, and locked at every moment (the new one before the rename,
	 * the old one until we close it after).
	 */
	if ((fd = instance_pid_temp(in, pid, tmp, cause)) == -1)
		return -1;
	if (rename(tmp, in->pid_path) == -1) {
		cause_set(cause, "cannot replace %s: %s", in->pid_path, instance_strerror(errno));
		(void)unlink(tmp);
		close(fd);
		return -1;
	}
	close(in->pid_fd);
	in->pid_fd = fd;
	return 0;
}

pid_t
instance_running(const struct instance *in)
{
	pid_t	pid;
	int	fd;

	if ((fd = open(in->pid_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);	/* nobody holds it: not running (a stale file) */
		return 0;
	}
	pid = instance_read_pid(fd);
	close(fd);
	/* Locked without a pid: only an older connect, starting; -1 says "running, pid unknown". */
	return pid > 0 ? pid : (pid_t)-1;
}

void
instance_release(struct instance *in)
{
	if (in->pid_fd == -1)
		return;
	(void)unlink(in->sock_path);
	(void)unlink(in->pid_path);
	close(in->pid_fd);	/* the lock goes with the last descriptor */
	in->pid_fd = -1;
}

void
instance_forget(struct instance *in)
{
	if (in->pid_fd != -1)
		close(in->pid_fd);
	in->pid_fd = -1;
}

static int
instance_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
instance_list(char ***names, char **cause)
{
	char		 dir[PATH_MAX], **v = NULL, **nv;
	DIR		*d;
	struct dirent	*de;
	size_t		 len;
	int		 n = 0;

	*names = NULL;
	if (instance_dir(dir, sizeof dir, cause) != 0)
		return -1;
	if ((d = opendir(dir)) == NULL) {
		cause_set(cause, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 4 || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".pid") != 0)
			continue;
		if ((nv = realloc(v, (size_t)(n + 1) * sizeof *v)) == NULL)
			break;
		v = nv;
		if ((v[n] = strndup(de->d_name, len - 4)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, (size_t)n, sizeof *v, instance_cmp);
	*names = v;
	return n;
}
