/* vis.c: escape what a terminal would act on; keep readable text (UTF-8 included) readable. */
#include <stdio.h>
#include <string.h>

#include "vis.h"

size_t
vis_utf8_decode(const char *s, unsigned int *cpp)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 cp;
	size_t			 n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)	/* a NUL ends the string here too */
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cpp = cp;
	return n;
}

/*
 * Length of the valid UTF-8 sequence at p (2-4) a terminal may be given, or
 * 0: not UTF-8, or a C1 control U+0080-U+009F (some terminals act on them as
 * on ESC [).
 */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned int	cp;
	size_t		n;

	if ((n = vis_utf8_decode((const char *)p, &cp)) == 0 || cp <= 0x9f)
		return 0;
	return n;
}

int
vis_needed(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f) {
			p++;
			continue;
		}
		if (*p < 0x80 || (n = utf8_len(p)) == 0)
			return 1;
		p += n;
	}
	return 0;
}

char *
vis_str(char *dst, size_t len, const char *src)
{
	const unsigned char	*p = (const unsigned char *)src;
	size_t			 used = 0, n;

	if (len == 0)
		return dst;
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f)
			n = 1;
		else if (*p == '\t') {
			if (used + 1 >= len)
				break;
			dst[used++] = ' ';
			p++;
			continue;
		} else if (*p < 0x80 || (n = utf8_len(p)) == 0) {
			if (used + 4 >= len)
				break;
			snprintf(dst + used, 5, "\\x%02x", *p);
			used += 4;
			p++;
			continue;
		}
		if (used + n >= len)
			break;
		memcpy(dst + used, p, n);
		used += n;
		p += n;
	}
	dst[used] = '\0';
	return dst;
}
