/*
 * unit-control.c: the control socket's request words (control.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "unit.h"

/* The control socket's request words: exact, one trailing CR allowed, nothing else. */
static void
test_control(void)
{
	static const struct {
		const char		*line;
		size_t			 len;
		enum control_request	 want;
	} cases[] = {
		{ "status", 6, CTL_REQ_STATUS },
		{ "status\r", 7, CTL_REQ_STATUS },
		{ "status --json", 13, CTL_REQ_STATUS_JSON },
		{ "state", 5, CTL_REQ_STATE },
		{ "stop", 4, CTL_REQ_STOP },
		{ "stop\r", 5, CTL_REQ_STOP },
		{ "", 0, CTL_REQ_INVALID },
		{ "\r", 1, CTL_REQ_INVALID },
		{ "stop\r\r", 6, CTL_REQ_INVALID },
		{ "stop\0junk", 9, CTL_REQ_INVALID },	/* a NUL must not end the comparison */
		{ "sto", 3, CTL_REQ_INVALID },
		{ "stopp", 5, CTL_REQ_INVALID },
		{ "STOP", 4, CTL_REQ_INVALID },
		{ " stop", 5, CTL_REQ_INVALID },
		{ "status  --json", 14, CTL_REQ_INVALID },
		{ "status --json ", 14, CTL_REQ_INVALID },
	};
	char	 name[128], *big;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "control_parse case %zu (%zu bytes)", i, cases[i].len);
		UNIT_CHECK(name, control_parse(cases[i].line, cases[i].len) == cases[i].want,
		    "got %s", control_request_name(control_parse(cases[i].line, cases[i].len)));
	}
	/* Longer than CONTROL_REQUEST_MAX: refused without reading it as words. */
	if ((big = malloc(CONTROL_REQUEST_MAX + 8)) != NULL) {
		memset(big, 'a', CONTROL_REQUEST_MAX + 8);
		memcpy(big, "stop", 4);
		UNIT_CHECK("control_parse: an over-long line is invalid",
		    control_parse(big, CONTROL_REQUEST_MAX + 8) == CTL_REQ_INVALID, "accepted");
		free(big);
	}
	UNIT_CHECK("control_request_name names a request", strcmp(control_request_name(
	    CTL_REQ_STATUS_JSON), "status --json") == 0, "got %s",
	    control_request_name(CTL_REQ_STATUS_JSON));
}

void
unit_control(void)
{
	test_control();
}
