/*
 * vis.h: text from outside made safe to print (OpenSSH's strnvis idea).
 *
 * A server's banner and disconnect message arrive before its host key is
 * checked and reach us inside libssh's error strings; a profile or a path may
 * hold anything. Written raw, an escape sequence in them retitles the
 * terminal, clears it or draws a fake prompt. Every line leaving the program
 * (the log, messages on stderr, status replies) goes through vis_str().
 */
#ifndef CONNECT_VIS_H
#define CONNECT_VIS_H

#include <stddef.h>

/*
 * Copy src into dst (len bytes, always NUL-terminated when len > 0) with
 * every control byte (C0, DEL), C1 control and byte that is not part of a
 * valid UTF-8 sequence written as "\xNN"; a backslash itself stays as it is
 * (the output is for people, not to be decoded). Tabs become spaces.
 * Printable ASCII and valid UTF-8 pass unchanged. Output that does not fit
 * is cut at a character boundary. Returns dst.
 */
char	*vis_str(char *dst, size_t len, const char *src);

/*
 * The valid UTF-8 sequence at s: its length (2-4) with the code point in
 * *cp, or 0 when s does not start one (ASCII, a stray or truncated byte, an
 * overlong form, a surrogate, past U+10FFFF). C1 controls count as valid
 * here. The one UTF-8 decoder: vis_str and the JSON of status use it.
 */
size_t	vis_utf8_decode(const char *s, unsigned int *cp);

/* Does s need vis_str() (any byte it would change)? */
int	vis_needed(const char *s);

#endif
