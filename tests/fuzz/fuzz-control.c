/*
 * fuzz-control.c: libFuzzer harness for the control-socket request parser (control_parse), fed
 * the way ctl_read_cb feeds it: the bytes before the first LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*line = (const char *)data, *lf;
	enum control_request	 req;
	size_t			 len = size;

	if ((lf = memchr(line, '\n', size)) != NULL)
		len = (size_t)(lf - line);
	req = control_parse(line, len);
	if (req != CTL_REQ_INVALID) {
		/* Only the exact words (and a CR) are a request. */
		const char *w = control_request_name(req);
		size_t wl = strlen(w);

		if (!(len == wl || (len == wl + 1 && line[wl] == '\r')) || memcmp(w, line, wl) != 0)
			abort();
	}
	return 0;
}
