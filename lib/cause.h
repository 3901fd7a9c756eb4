/* cause.h: the error messages lib/ hands back to its callers (tmux's "char **cause"). */
#ifndef CONNECT_CAUSE_H
#define CONNECT_CAUSE_H

/*
 * Set *cause to a malloc'd, formatted one-line message (the caller frees it).
 * Does nothing when cause is NULL; leaves *cause NULL if memory runs out, so
 * callers must print a fallback for a NULL cause.
 */
void	cause_set(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
