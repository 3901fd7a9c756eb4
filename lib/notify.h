/*
 * notify.h: the systemd readiness protocol (sd_notify) spoken directly:
 * one datagram "READY=1" / "STATUS=..." / "STOPPING=1" to $NOTIFY_SOCKET.
 * No libsystemd: the protocol is one sendto().
 */
#ifndef CONNECT_NOTIFY_H
#define CONNECT_NOTIFY_H

/* Is $NOTIFY_SOCKET set (are we a Type=notify service)? */
int	notify_enabled(void);

/* Send msg (e.g. "READY=1\nSTATUS=ready"). Returns 0, or -1 (not enabled, or failed). */
int	notify_send(const char *msg);

#endif
