/* status.c: render a supervisor_info as a readable table or as JSON. */
#include <stdio.h>
#include <string.h>

#include "forward.h"
#include "status.h"
#include "vis.h"

char *
status_duration(double s, char *buf, size_t len)
{
	long	t = s < 0 ? 0 : (long)s;

	if (t >= 86400)
		snprintf(buf, len, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%lds", t);
	return buf;
}

char *
status_bytes(unsigned long long n, char *buf, size_t len)
{
	if (n >= 1000ULL * 1000 * 1000)
		snprintf(buf, len, "%.1f GB", n / 1e9);
	else if (n >= 1000ULL * 1000)
		snprintf(buf, len, "%.1f MB", n / 1e6);
	else if (n >= 1000)
		snprintf(buf, len, "%.0f kB", n / 1e3);
	else
		snprintf(buf, len, "%llu B", n);
	return buf;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
json_string(struct evbuffer *out, const char *s)
{
	const unsigned char	*p;

	evbuffer_add(out, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			evbuffer_add_printf(out, "\\u%04x", *p);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void
status_json(struct evbuffer *out, const char *name, pid_t pid, const struct supervisor_info *in,
    const struct status_where *where)
{
	const struct forward	*f;
	char			 ep[700];
	size_t			 i;

	evbuffer_add_printf(out, "{\"name\":");
	json_string(out, name);
	evbuffer_add_printf(out, ",\"pid\":%ld,\"state\":\"%s\",\"uptime_s\":%.0f,",
	    (long)pid, in->state_name, in->uptime_s);
	if (in->session_age_s >= 0)
		evbuffer_add_printf(out, "\"session_age_s\":%.0f,", in->session_age_s);
	else
		evbuffer_add_printf(out, "\"session_age_s\":null,");
	evbuffer_add_printf(out, "\"reconnects\":%u,\"attempt\":%d,\"last_error\":",
	    in->reconnects, in->attempt);
	json_string(out, in->last_error != NULL ? in->last_error : "");
	if (in->last_error != NULL && in->last_error[0] != '\0')
		evbuffer_add_printf(out, ",\"last_error_age_s\":%.0f", in->last_error_age_s);
	else
		evbuffer_add_printf(out, ",\"last_error_age_s\":null");
	snprintf(ep, sizeof ep, "%s@%s:%d", in->user != NULL ? in->user : "",
	    in->host != NULL ? in->host : "", in->port);
	evbuffer_add_printf(out, ",\"login\":");
	json_string(out, ep);
	evbuffer_add_printf(out, ",\"profile\":");
	json_string(out, where->profile);
	evbuffer_add_printf(out, ",\"log\":");
	json_string(out, where->log);
	evbuffer_add_printf(out, ",\"forwards\":[");
	for (i = 0; i < in->nfwd; i++) {
		f = &in->fwd[i];
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		json_string(out, f->spec->name);
		snprintf(ep, sizeof ep, "%s:%d", f->spec->bind_addr, f->spec->local_port);
		evbuffer_add_printf(out, ",\"local\":");
		json_string(out, ep);
		snprintf(ep, sizeof ep, "%s:%d", f->spec->remote_host, f->spec->remote_port);
		evbuffer_add_printf(out, ",\"remote\":");
		json_string(out, ep);
		evbuffer_add_printf(out, ",\"open\":%u,\"total\":%llu,\"bytes_up\":%llu,"
		    "\"bytes_down\":%llu,\"failures\":%llu,\"last_error\":", f->st.conns_open,
		    (unsigned long long)f->st.conns_total, (unsigned long long)f->st.bytes_up,
		    (unsigned long long)f->st.bytes_down, (unsigned long long)f->st.failures);
		json_string(out, f->st.last_error);
		evbuffer_add_printf(out, "}");
	}
	evbuffer_add_printf(out, "]}");
}

static void
status_text(struct evbuffer *out, const char *name, pid_t pid, const struct supervisor_info *in,
    const struct status_where *where)
{
	const struct forward	*f;
	char			 a[32], b[32], lo[300], re[300], safe[1300];
	size_t			 i;

	/* Text is what reaches a terminal: every string from outside goes through vis_str. */
	evbuffer_add_printf(out, "%s  %s  pid %ld  up %s", vis_str(safe, sizeof safe, name),
	    in->state_name, (long)pid,
	    status_duration(in->uptime_s, a, sizeof a));
	if (in->session_age_s >= 0)
		evbuffer_add_printf(out, "  session %s",
		    status_duration(in->session_age_s, a, sizeof a));
	else if (in->attempt > 0)
		evbuffer_add_printf(out, "  attempt %d", in->attempt);
	evbuffer_add_printf(out, "  reconnects %u\n", in->reconnects);
	evbuffer_add_printf(out, "  %s@%s port %d", in->user != NULL ? in->user : "?",
	    in->host != NULL ? in->host : "?", in->port);
	if (where->profile[0] != '\0')
		evbuffer_add_printf(out, "  profile %s", vis_str(safe, sizeof safe, where->profile));
	if (where->log[0] != '\0')
		evbuffer_add_printf(out, "  log %s", vis_str(safe, sizeof safe, where->log));
	evbuffer_add_printf(out, "\n");
	if (in->last_error != NULL && in->last_error[0] != '\0')
		evbuffer_add_printf(out, "  last error: %s (%s ago)\n",
		    vis_str(safe, sizeof safe, in->last_error),
		    status_duration(in->last_error_age_s, a, sizeof a));
	for (i = 0; i < in->nfwd; i++) {
		f = &in->fwd[i];
		snprintf(lo, sizeof lo, "%s:%d", f->spec->bind_addr, f->spec->local_port);
		snprintf(re, sizeof re, "%s:%d", f->spec->remote_host, f->spec->remote_port);
		evbuffer_add_printf(out, "  %-8s %s -> %s  open %u  total %llu  up %s  down %s\n",
		    f->spec->name, lo, re, f->st.conns_open, (unsigned long long)f->st.conns_total,
		    status_bytes(f->st.bytes_up, a, sizeof a),
		    status_bytes(f->st.bytes_down, b, sizeof b));
		if (f->st.last_error[0] != '\0')
			evbuffer_add_printf(out, "           last error: %s\n",
			    vis_str(safe, sizeof safe, f->st.last_error));
	}
}

void
status_format_stopped(struct evbuffer *out, const char *name)
{
	evbuffer_add_printf(out, "{\"name\":");
	json_string(out, name);
	evbuffer_add_printf(out, ",\"state\":\"stopped\"}");
}

void
status_format_starting(struct evbuffer *out, const char *name, pid_t pid)
{
	evbuffer_add_printf(out, "{\"name\":");
	json_string(out, name);
	evbuffer_add_printf(out, ",\"state\":\"starting\"");
	if (pid > 0)
		evbuffer_add_printf(out, ",\"pid\":%ld", (long)pid);
	evbuffer_add_printf(out, "}");
}

void
status_format(struct evbuffer *out, const char *name, pid_t pid,
    const struct supervisor_info *in, const struct status_where *where, int json)
{
	if (json)
		status_json(out, name, pid, in, where);
	else
		status_text(out, name, pid, in, where);
}
