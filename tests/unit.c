/*
 * unit.c: the unit tables' main and shared helpers. Each module's table is a
 * file of its own (unit-fwdspec.c, unit-profile.c, unit-control.c,
 * unit-sshsock.c, unit-policy.c, unit-pressure.c), as OpenSSH's unittests
 * are; every kept fuzz input is replayed last (fuzz/replay.c).
 * Files go to a mkdtemp() directory; HOME, XDG_CONFIG_HOME and
 * CONNECT_SSH_CONFIG point there while profile_find() is tested.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <poll.h>
#include <pwd.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "paths.h"
#include "sshsock.h"
#include "fwdspec.h"
#include "profile.h"
#include "unit.h"

int	unit_failed;

void	fuzz_replay(const char *dir);	/* tests/fuzz/replay.c */

char	unit_tmpdir[512];		/* short: paths built from it must fit PATH_MAX */

/*
 * Pass if rc is -1 and the message is exactly `want`; frees the message and
 * resets *causep. The message is passed by address: expect_error(n, f(&c), &c, w)
 * must read c after f() ran, whatever the order arguments are evaluated in.
 */
void
expect_error(const char *name, int rc, char **causep, const char *want)
{
	char	*cause = *causep;

	if (rc == -1 && cause != NULL && strcmp(cause, want) == 0)
		UNIT_PASS(name);
	else
		UNIT_FAIL(name, "rc %d, got \"%s\", want \"%s\"", rc,
		    cause != NULL ? cause : "(null)", want);
	free(cause);
	*causep = NULL;
}

/* Pass if rc is 0 with no message; on failure show the message. Frees it. */
void
expect_ok(const char *name, int rc, char **causep)
{
	char	*cause = *causep;

	UNIT_CHECK(name, rc == 0 && cause == NULL, "rc %d, cause \"%s\"", rc,
	    cause != NULL ? cause : "(null)");
	free(cause);
	*causep = NULL;
}

/* Write a test file with the given mode (set explicitly: the umask must not matter). */
void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL) {
		UNIT_FAIL("write_file", "%s: %s", path, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A fresh profile on the heap (it is ~350 KB: too big for comfort on an ASan stack). */
struct profile *
new_profile(void)
{
	struct profile	*p;

	if ((p = calloc(1, sizeof *p)) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	profile_defaults(p);
	return p;
}

/* Find a forward by name, or NULL. */
const struct forward_spec *
find_fwd(const struct profile *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->nforwards; i++) {
		if (strcmp(p->forwards[i].name, name) == 0)
			return &p->forwards[i];
	}
	return NULL;
}

static void
cleanup(void)
{
	static const char	*const names[] = { "ww.ini", "gw.ini", "noread.ini", "good.ini", "bad.ini" };
	char			 path[PATH_MAX + 64];
	size_t			 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", unit_tmpdir, names[i]);
		unlink(path);
	}
	if (rmdir(unit_tmpdir) != 0)
		UNIT_FAIL("cleanup", "rmdir %s: %s", unit_tmpdir, strerror(errno));
}

int
main(void)
{
	const char	*t = getenv("TMPDIR");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (t == NULL || *t == '\0' || strlen(t) > 256)
		t = "/tmp";
	snprintf(unit_tmpdir, sizeof unit_tmpdir, "%s/connect-unit.XXXXXX", t);
	if (mkdtemp(unit_tmpdir) == NULL) {
		printf("FAIL: mkdtemp %s: %s\n", unit_tmpdir, strerror(errno));
		return 1;
	}
	unit_fwdspec();
	unit_profile();
	unit_inih();
	unit_control();
	unit_sshsock();
	unit_pressure(unit_tmpdir);
	unit_policy();
	fuzz_replay("tests/fuzz/corpus");
	cleanup();
	return unit_failed != 0;
}
