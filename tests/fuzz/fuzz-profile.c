/*
 * fuzz-profile.c: libFuzzer harness for the profile parser (ini text -> profile or error).
 * Built and run by `make fuzz`. Any input must give either a profile or a cause naming a line,
 * never a crash, a leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "profile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile	p;	/* large (PATH_MAX strings): not on the stack */
	char			*text, *cause = NULL;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	log_open("fuzz", LOGL_ERROR, NULL);
	profile_defaults(&p);
	if (profile_load_string(&p, text, "fuzz.ini", &cause) == 0) {
		if (cause != NULL)
			abort();	/* success leaves no cause */
		if (profile_validate(&p, &cause) != 0 && cause == NULL)
			abort();	/* a refusal always says why */
	} else if (cause == NULL || cause[0] == '\0')
		abort();
	free(cause);
	free(text);
	return 0;
}
