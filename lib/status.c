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

/*
 * A JSON string, valid UTF-8 whatever s holds (RFC 8259 8.1: a strict parser
 * such as Python's refuses anything else, and a name or path may be any
 * bytes: a -F file's name is the instance's). Quotes and backslashes are
 * escaped; C0, DEL and C1 controls as \u00XX, so a terminal that shows the
 * JSON acts on none; valid UTF-8 passes as it is; each byte that is not part
 * of valid UTF-8 is U+FFFD, as Go's encoding/json and Python's
 * errors="replace" do. Not \u00XX for those: that would read back as a
 * different, valid name (0xff as "\u00ff" is "y with diaeresis"), where
 * U+FFFD says plainly that a byte was not text.
 */
static void
json_string(struct evbuffer *out, const char *s)
{
	const char	*p;
	unsigned int	 cp;
	size_t		 n;

	evbuffer_add(out, "\"", 1);
	for (p = s; *p != '\0'; p += n) {
		unsigned char	c = (unsigned char)*p;

		n = 1;
		if (c == '"' || c == '\\')
			evbuffer_add_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", c);
		else if (c < 0x80)
			evbuffer_add(out, p, 1);
		else if ((n = vis_utf8_decode(p, &cp)) == 0) {
			n = 1;
			evbuffer_add_printf(out, "\\ufffd");
		} else if (cp <= 0x9f)
			evbuffer_add_printf(out, "\\u%04x", cp);
		else
			evbuffer_add(out, p, n);
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
	evbuffer_add_printf(out, ",\"pid\":%ld,\"state\":", (long)pid);
	json_string(out, in->state_name);
	evbuffer_add_printf(out, ",\"uptime_s\":%.0f,", in->uptime_s);
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
	char			 a[32], b[32], lo[300], re[300], login[600], safe[1300];
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
	snprintf(login, sizeof login, "%s@%s", in->user != NULL ? in->user : "?",
	    in->host != NULL ? in->host : "?");
	evbuffer_add_printf(out, "  %s port %d", vis_str(safe, sizeof safe, login),
	    in->port);
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
		vis_str(safe, sizeof safe, re);
		evbuffer_add_printf(out, "  %-8s %s -> %s  open %u  total %llu  up %s  down %s\n",
		    f->spec->name, lo, safe, f->st.conns_open, (unsigned long long)f->st.conns_total,
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
