/* unit.h: a tiny table-test kit. Each check prints "PASS: name" or "FAIL: name: why";
 * tests/run.sh counts those lines across every test program. */
#ifndef CONNECT_TEST_UNIT_H
#define CONNECT_TEST_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_failed;

#define UNIT_PASS(name) printf("PASS: %s\n", (name))
#define UNIT_FAIL(name, ...) do { \
	printf("FAIL: %s: ", (name)); printf(__VA_ARGS__); printf(" (%s:%d)\n", __FILE__, __LINE__); \
	unit_failed++; \
} while (0)
/* Check a condition; the message says what was expected. */
#define UNIT_CHECK(name, cond, ...) do { \
	if (cond) UNIT_PASS(name); else UNIT_FAIL(name, __VA_ARGS__); \
} while (0)

#include <sys/types.h>

struct profile;
struct forward_spec;

/* tests/unit.c: the shared helpers (see there), and the temp dir every table writes in. */
extern char	unit_tmpdir[512];
void	expect_error(const char *name, int rc, char **causep, const char *want);
void	expect_ok(const char *name, int rc, char **causep);
void	write_file(const char *path, const char *text, mode_t mode);
struct profile *new_profile(void);
const struct forward_spec *find_fwd(const struct profile *p, const char *name);

/* One entry per module's table file. */
void	unit_fwdspec(void);	/* tests/unit-fwdspec.c: -L specs */
void	unit_profile(void);	/* tests/unit-profile.c: profiles, ssh config Hosts */
void	unit_control(void);	/* tests/unit-control.c: control requests */
void	unit_sshsock(void);	/* tests/unit-sshsock.c: sshsock on socket pairs */
void	unit_inih(void);	/* tests/unit-inih.c: the handler type libinih calls */

/* tests/unit-policy.c: retry delays, holding, window growth (lib/policy.c). */
void	unit_policy(void);

/* tests/unit-pressure.c: vis, the log's repeat guard, TCP timers, control SIGPIPE, pid-file race. */
void	unit_pressure(const char *dir);

#endif
