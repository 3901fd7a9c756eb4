/*
 * replay.c: every input kept in tests/fuzz/corpus/NAME/ (seeds, and each crash
 * a fuzzer ever found, once fixed) runs through its harness in the unit tests,
 * under ASan/UBSan, on every `make test`: a regression aborts there.
 * The three harnesses are compiled in here with their entry points renamed.
 */
#include <sys/types.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit.h"

#define LLVMFuzzerTestOneInput	fuzz_profile_one
#include "fuzz-profile.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_fwdspec_one
#include "fuzz-fwdspec.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_control_one
#include "fuzz-control.c"
#undef LLVMFuzzerTestOneInput

void	fuzz_replay(const char *dir);

/* Run each file of dir/name through fn. Returns how many ran, or -1 if dir is unreadable. */
static int
replay_one_dir(const char *dir, const char *name, int (*fn)(const uint8_t *, size_t))
{
	char		 path[1024];
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	uint8_t		*buf;
	size_t		 n;
	int		 count = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((d = opendir(path)) == NULL)
		return -1;
	if ((buf = malloc(65536)) == NULL) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s/%s", dir, name, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(buf, 1, 65536, f);
		fclose(f);
		fn(buf, n);	/* aborts (a failed test) on a wrong result */
		count++;
	}
	closedir(d);
	free(buf);
	return count;
}

void
fuzz_replay(const char *dir)
{
	static const struct {
		const char	*name;
		int		(*fn)(const uint8_t *, size_t);
	} harness[] = {
		{ "profile", fuzz_profile_one },
		{ "fwdspec", fuzz_fwdspec_one },
		{ "control", fuzz_control_one },
	};
	char	label[128];
	size_t	i;
	int	n;

	for (i = 0; i < sizeof harness / sizeof harness[0]; i++) {
		n = replay_one_dir(dir, harness[i].name, harness[i].fn);
		snprintf(label, sizeof label, "fuzz corpus %s: %d kept inputs replayed", harness[i].name, n);
		UNIT_CHECK(label, n > 0, "no corpus in %s/%s", dir, harness[i].name);
	}
}
