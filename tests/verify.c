/*
 * verify.c: drive supervisor_verify() against a real sshd, for tests/t-check.sh.
 *
 *   verify-asan [-v] PROFILE ROUND...
 *
 * Runs the tunnel of PROFILE (listeners bound, as in `connect`) and asks for
 * readiness once per ROUND, one round after the other on the same tunnel:
 * ROUND is a timeout in ms, with a trailing 'r' for SUP_VERIFY_RETRY (e.g.
 * "2000 15000r"). A ROUND of "usr1" starts no verification: the next round
 * waits for SIGUSR1, so a test can let something happen between two rounds
 * (a late answer to the last round's probe) without guessing how long it
 * takes. Prints "verify: CODE REASON" for each report, then stops the tunnel
 * and exits with the last code reported (70 if the loop ended without a
 * report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <signal.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "log.h"
#include "profile.h"
#include "supervisor.h"

struct run {
	struct supervisor	 *sup;
	struct event		 *ev_usr1;
	char			**rounds;
	int			  nrounds, next, reports, code;
	int			  waiting;	/* for SIGUSR1 before rounds[next] */
};

/* Ask for the next round. Returns 0, or -1 on memory exhaustion. */
static int
verify_round(struct supervisor *sup, struct run *r);

static void
verify_done(struct supervisor *sup, int code, const char *reason, void *arg)
{
	struct run	*r = arg;

	printf("verify: %d %s\n", code, reason);
	fflush(stdout);
	r->code = code;
	r->reports++;
	if (r->next < r->nrounds && strcmp(r->rounds[r->next], "usr1") == 0) {
		r->next++;
		r->waiting = 1;
		return;
	} else if (r->next < r->nrounds && verify_round(sup, r) == 0) {
		return;
	}
	supervisor_shutdown(sup, "verified");
}

/* SIGUSR1 after a "usr1" round: go on with the next one. */
static void
verify_usr1_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run	*r = arg;

	(void)sig;
	(void)what;
	if (!r->waiting)
		return;		/* caught from the start, so an early one cannot kill the run */
	r->waiting = 0;
	printf("verify: SIGUSR1\n");
	fflush(stdout);
	if (r->next >= r->nrounds || verify_round(r->sup, r) != 0)
		supervisor_shutdown(r->sup, "verified");
}

/* Start rounds[next] and step past it. Returns 0, or -1 on memory exhaustion. */
static int
verify_round(struct supervisor *sup, struct run *r)
{
	const char	*round = r->rounds[r->next++];
	char		*end;
	long		 ms = strtol(round, &end, 10);

	return supervisor_verify(sup, (int)ms, *end == 'r' ? SUP_VERIFY_RETRY : 0, verify_done, r);
}

int
main(int argc, char **argv)
{
	struct run		 r = { NULL, NULL, NULL, 0, 0, 0, EX_SOFTWARE, 0 };
	struct profile		*p;
	struct event_base	*base;
	struct supervisor	*sup;
	char			*cause = NULL;
	int			 rc, level = LOGL_WARN;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		level = LOGL_DEBUG;
		argc--;
		argv++;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: verify [-v] PROFILE ROUND... (ROUND: ms, 'r' appended: "
		    "retry)\n");
		return EX_USAGE;
	}
	r.rounds = argv + 2;
	r.nrounds = argc - 2;
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
	if ((base = event_base_new()) == NULL || (sup = supervisor_new(base, p)) == NULL ||
	    (r.ev_usr1 = event_new(base, SIGUSR1, EV_SIGNAL | EV_PERSIST, verify_usr1_cb, &r)) ==
	    NULL || event_add(r.ev_usr1, NULL) != 0)
		return EX_OSERR;
	r.sup = sup;
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
	if (verify_round(sup, &r) != 0)
		return EX_OSERR;
	supervisor_start(sup);
	event_base_dispatch(base);
	event_free(r.ev_usr1);
	supervisor_free(sup);
	event_base_free(base);
	free(p);
	ssh_finalize();
	return r.reports > 0 ? r.code : EX_SOFTWARE;
}
