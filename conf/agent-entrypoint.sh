#!/bin/sh
# agent-entrypoint.sh: an example container entrypoint for a ClearML agent on a second Studio.
# It brings the tunnel to the ClearML server's Studio up in the background, waits until every
# forward answers end to end (web 8080, api 8008 GET /debug.ping, files 8081), then runs the agent
# command given as arguments, e.g.
#
#   TARGET_LIGHTNING_ID=01hx... agent-entrypoint.sh clearml-agent daemon --queue default
#
# Environment:
#   TARGET_LIGHTNING_ID   the ClearML server's Studio id (as the old script read it);
#                         LIGHTNING_CLOUD_SPACE_ID is read when it is unset, but not inside a
#                         Studio (LIGHTNING_CLOUDSPACE_HOST set), where it is this Studio's own
#   CONNECT_PROFILE       a profile name instead of an id (~/.config/connect/NAME.ini)
#   CONNECT_WAIT          seconds to wait for the tunnel (default 120)
#   CONNECT_OPTS          more connect options (word-split), e.g. "-i /secrets/lightning_rsa"
#   CONNECT_BIN           the connect binary (default: connect on PATH)
# The agent then reaches ClearML at http://localhost:8080, :8008 and :8081, and the tunnel keeps
# reconnecting in the background for as long as the container lives. Calling this again (a
# restarted agent) finds the tunnel already running and goes on at once.
set -u

bin=${CONNECT_BIN:-connect}
# Inside a Studio (its LIGHTNING_* variables are set) LIGHTNING_CLOUD_SPACE_ID is that Studio's own
# id: the tunnel must go to the ClearML server's Studio, named by TARGET_LIGHTNING_ID.
if [ -z "${TARGET_LIGHTNING_ID:-}" ] && [ -z "${CONNECT_PROFILE:-}" ] &&
    [ -n "${LIGHTNING_CLOUDSPACE_HOST:-}${LIGHTNING_CLUSTER_ID:-}" ]; then
	echo "agent-entrypoint: inside a Studio, LIGHTNING_CLOUD_SPACE_ID is this Studio's own id:" \
	    "set TARGET_LIGHTNING_ID to the ClearML server's Studio id (or CONNECT_PROFILE)" >&2
	exit 64
fi
id=${TARGET_LIGHTNING_ID:-${LIGHTNING_CLOUD_SPACE_ID:-}}
wait=${CONNECT_WAIT:-120}

if [ $# -eq 0 ]; then
	echo "agent-entrypoint: usage: agent-entrypoint.sh COMMAND [ARGS...] (the agent to run)" >&2
	exit 64
fi
if ! command -v "$bin" >/dev/null 2>&1; then
	echo "agent-entrypoint: the connect binary is missing ($bin): install it or set CONNECT_BIN" >&2
	exit 69
fi
if [ -n "${CONNECT_PROFILE:-}" ]; then
	# shellcheck disable=SC2086 # CONNECT_OPTS is a list of options
	"$bin" -d --wait "$wait" ${CONNECT_OPTS:-} "$CONNECT_PROFILE"
elif [ -n "$id" ]; then
	# shellcheck disable=SC2086
	"$bin" -d --wait "$wait" ${CONNECT_OPTS:-} --id "$id"
else
	echo "agent-entrypoint: set TARGET_LIGHTNING_ID (the ClearML server's Studio id) or" \
	    "CONNECT_PROFILE" >&2
	exit 64
fi
rc=$?
if [ $rc -ne 0 ]; then
	echo "agent-entrypoint: the tunnel to ClearML is not ready (connect exit $rc); not starting" \
	    "the agent. Diagnose with: $bin check ${CONNECT_PROFILE:-<profile>} (or see the log above)" >&2
	exit $rc
fi
exec "$@"
