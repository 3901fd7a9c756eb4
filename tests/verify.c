/*
 * verify.c: drive supervisor_verify() against a real sshd, for tests/t-check.sh.
 *
 *   verify-asan PROFILE TIMEOUT_MS [--retry] [--again] [-v]
 *
 * Runs the tunnel of PROFILE (listeners bound, as in `connect`), asks once
 * for readiness (--retry: SUP_VERIFY_RETRY), prints "verify: CODE REASON"
 * for the report; with --again asks a second time on the same tunnel and
 * prints that report too. Then stops the tunnel and exits with the last
 * code reported (70 if the loop ended without a report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "log.h"
#include "profile.h"
#include "supervisor.h"

struct run {
	int	timeout_ms, flags, again, reports, code;
};

static void
verify_done(struct supervisor *sup, int code, const char *reason, void *arg)
{
	struct run	*r = arg;

	printf("verify: %d %s\n", code, reason);
	fflush(stdout);
	r->code = code;
	if (++r->reports == 1 && r->again) {
		if (supervisor_verify(sup, r->timeout_ms, r->flags, verify_done, r) != 0)
			supervisor_shutdown(sup, "out of memory");
		return;
	}
	supervisor_shutdown(sup, "verified");
}

int
main(int argc, char **argv)
{
	struct run		 r = { 0, 0, 0, 0, EX_SOFTWARE };
	struct profile		*p;
	struct event_base	*base;
	struct supervisor	*sup;
	char			*cause = NULL;
	int			 i, rc, level = LOGL_WARN;

	if (argc < 3) {
		fprintf(stderr, "usage: verify PROFILE TIMEOUT_MS [--retry] [--again] [-v]\n");
		return EX_USAGE;
	}
	r.timeout_ms = atoi(argv[2]);
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--retry") == 0)
			r.flags |= SUP_VERIFY_RETRY;
		else if (strcmp(argv[i], "--again") == 0)
			r.again = 1;
		else if (strcmp(argv[i], "-v") == 0)
			level = LOGL_DEBUG;
		else {
			fprintf(stderr, "verify: unknown argument %s\n", argv[i]);
			return EX_USAGE;
		}
	}
	log_open("verify", level, stderr);
	log_route_libraries();
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	profile_defaults(p);
	if (profile_load_file(p, argv[1], &cause) != 0 || profile_validate(p, &cause) != 0) {
		fprintf(stderr, "verify: %s\n", cause != NULL ? cause : "bad profile");
		free(cause);
		free(p);
		return EX_CONFIG;
	}
	if ((base = event_base_new()) == NULL || (sup = supervisor_new(base, p)) == NULL)
		return EX_OSERR;
	if ((rc = supervisor_prepare(sup, &cause)) != 0 ||
	    (rc = supervisor_bind(sup, &cause)) != 0) {
		fprintf(stderr, "verify: %s\n", cause != NULL ? cause : "cannot start");
		free(cause);
		supervisor_free(sup);
		event_base_free(base);
		free(p);
		return rc;
	}
	/* Asked before the first session exists: the verification waits for it. */
	if (supervisor_verify(sup, r.timeout_ms, r.flags, verify_done, &r) != 0)
		return EX_OSERR;
	supervisor_start(sup);
	event_base_dispatch(base);
	supervisor_free(sup);
	event_base_free(base);
	free(p);
	ssh_finalize();
	return r.reports > 0 ? r.code : EX_SOFTWARE;
}
