/*
 * fuzz-fwdspec.c: libFuzzer harness for the -L spec parser. Besides not crashing, a spec that
 * parses must survive a round trip: describe it, rebuild "bind:port:host:hostport" from that, and
 * parse it again to the same forward.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwdspec.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct forward_spec	 a, b;
	char			*text, *cause = NULL, desc[1024], again[1024], *arrow;
	int			 n;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	log_open("fuzz", LOGL_ERROR, NULL);
	(void)fwdspec_parse_port(text);
	(void)fwdspec_parse_bind(text, desc, sizeof desc);
	memset(&a, 0, sizeof a);
	if (fwdspec_parse(&a, text, &cause) != 0) {
		if (cause == NULL)
			abort();	/* a refusal always says why */
		free(cause);
		free(text);
		return 0;
	}
	n = fwdspec_describe(&a, desc, sizeof desc);
	if (n < 0 || (size_t)n >= sizeof desc || (arrow = strstr(desc, " -> ")) == NULL)
		abort();
	/* "B:P -> H:HP" -> "B:P:H:HP" */
	snprintf(again, sizeof again, "%.*s:%s", (int)(arrow - desc), desc, arrow + 4);
	memset(&b, 0, sizeof b);
	if (fwdspec_parse(&b, again, &cause) != 0) {
		fprintf(stderr, "round trip: '%s' -> '%s' refused: %s\n", text, again, cause);
		abort();
	}
	if (strcmp(a.bind_addr, b.bind_addr) != 0 || a.local_port != b.local_port ||
	    strcmp(a.remote_host, b.remote_host) != 0 || a.remote_port != b.remote_port) {
		fprintf(stderr, "round trip: '%s' -> '%s' differs\n", text, again);
		abort();
	}
	free(text);
	return 0;
}
