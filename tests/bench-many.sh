#!/bin/sh
# bench-many.sh: `make bench-many`. A benchmark, not a test: it prints a report and exits 0 unless
# it could not run at all.
#
# Many clients, one server, as 50 agent Studios tunnelling to one ClearML server Studio:
# BENCH_MANY_N (50) `connect` instances, each with its own profile (one forward, to one of three
# stand-in HTTP services; the profile defaults otherwise) and its own log (-v), against ONE
# loopback sshd (tests/lib.sh).
#   start    all N launched together: ms until a request through each one's forward succeeds.
#   restart  after BENCH_MANY_SETTLE (32) s of all working (past connect's `stable`, 30 s, so each
#            instance meets a fresh back-off, as after hours of uptime), sshd and all its sessions
#            are killed, and started again on the same port BENCH_MANY_DOWNS s later: one round per
#            value (default "2 0"; 0 = at once: sshd listens again some 0.1-0.6 s after the
#            sessions are lost, the harness's stop and start, while the first retries are due).
# Measured per restart, in ms from "up" (sshd accepting again): each instance's connection attempts
# (its log's "new -> resolving"), its first retry after losing the session (from the loss), its
# first attempt after up, its reconnect ("reconnected to ... after N attempt(s)"), and the moment a
# request through its forward succeeds again (curl --parallel to every instance from up on: connect
# holds each request until its session is back); attempts per instance; the herd: the most attempts
# within any 100 ms (since the loss, and since up: those reaching sshd); what sshd logged.
#
# sshd is the harness's, except MaxStartups BENCH_MANY_MAXSTARTUPS (default 10:30:100, OpenSSH's
# own default and so what a stock server does: from 10 unauthenticated connections on, it drops new
# ones at random, 30% rising to 100% at 100). The harness raises it to 100:30:200 for the tests;
# here that would hide the refusals a herd causes. BENCH_MANY_MAXSTARTUPS=100:30:200 shows
# connect's own spread without them.
#
# Environment: BENCH_MANY_N (50), BENCH_MANY_DOWNS ("2 0"), BENCH_MANY_SETTLE (32),
# BENCH_MANY_MAXSTARTUPS (10:30:100), BENCH_MANY_CAP (60: the longest wait for all N, in s),
# CONNECT (default connect/connect; copied first, so rebuilds during the run do not matter),
# BENCH_MANY_NETNS (1: as root, run in a network namespace of its own; 0: on the machine's
# loopback), T_KEEP=1 keeps the logs. About 1.5 minutes with the defaults. Linux (/proc), curl
# >= 7.66.
. "$(dirname "$0")/lib.sh"
# As root, the whole bench in a network namespace of its own with only a loopback: every connect
# watches NETLINK_ROUTE and retries at once on a link change, and on a shared machine other work
# (network-namespace benches) changes links, which would make all N retry in the same ms.
if [ -z "${BENCH_MANY_IN_NETNS:-}" ] && [ "${BENCH_MANY_NETNS:-1}" != 0 ] && t_is_root &&
    command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
    unshare --net true 2>/dev/null; then
	BENCH_MANY_IN_NETNS=1 exec unshare --net sh -c 'ip link set lo up && exec sh "$0" "$@"' \
	    "$0" "$@"
fi
t_init bench-many
trap 'exit 141' PIPE	# stdout closed (e.g. piped into head): still clean up

N=${BENCH_MANY_N:-50}
DOWNS=${BENCH_MANY_DOWNS-2 0}
SETTLE=${BENCH_MANY_SETTLE:-32}
CAP=${BENCH_MANY_CAP:-60}
SSHD_MAXSTARTUPS=${BENCH_MANY_MAXSTARTUPS:-10:30:100}

die() {
	echo "bench-many: cannot run: $*" >&2
	T_KEEP=1
	exit 1
}

case $N.$SETTLE.$CAP.$(echo $DOWNS | tr -d ' ') in
*[!0-9.]* | .* | *..*) die "BENCH_MANY_N, _SETTLE, _CAP: whole numbers; BENCH_MANY_DOWNS: a list of them" ;;
esac
[ "$N" -ge 1 ] && [ "$N" -le 300 ] || die "BENCH_MANY_N: 1 to 300"
command -v curl >/dev/null 2>&1 || die "needs curl"
curl --help all 2>/dev/null | grep -q -- --parallel-max || die "needs curl >= 7.66 (--parallel)"
[ -x "$TNET" ] || die "$TNET is missing (make tests/tnet)"
[ -x "$CONNECT" ] || die "$CONNECT is missing (make)"
cp "$CONNECT" "$T/connect" || die "cannot copy $CONNECT"
CONNECT_BIN=$CONNECT
CONNECT=$T/connect
R=$T/results
mkdir -p "$R"
START=$(now_ms)

# ------------------------------------------------------------------ helpers

# pct FILE: "min / p50 / p90 / max" of the numbers in FILE (nearest rank), "-" when none.
pct() {
	[ -s "$1" ] || { echo "-"; return; }
	sort -n "$1" | awk '{ v[NR] = $1 }
	    function p(q,  i) { i = int(q * NR + 0.999); return v[i < 1 ? 1 : i] }
	    END { printf "%d / %d / %d / %d\n", v[1], p(0.5), p(0.9), v[NR] }'
}

# herd FILE: the most numbers (ms) of FILE within any 100 ms.
herd() {
	sort -n "$1" | awk '{ v[NR] = $1; while (v[NR] - v[j + 1] >= 100) j++
	    if (NR - j > m) m = NR - j } END { print m + 0 }'
}

# hist FILE FROM: how many numbers (ms) of FILE fall in each 250 ms from FROM on (1 s when they
# span more than 10 s), a row per bin, labelled with its start in s.
hist() {
	sort -n "$1" | awk -v from="$2" '$1 >= from { v[++n] = $1 }
	    END {
		if (n == 0) exit
		w = v[n] - from > 10000 ? 1000 : 250
		printf "  attempts per %d ms (s from up):\n", w
		for (i = 1; i <= n; i++) c[int((v[i] - from) / w)]++
		for (b = 0; b <= int((v[n] - from) / w); b++) {
			s = ""
			for (k = 0; k < c[b]; k++) s = s "#"
			printf "    %+6.2f s %3d %s\n", (from + b * w) / 1000, c[b], s
		}
	    }'
}

# col FILE KIND FIELD: the FIELDth field of the KIND lines of an events file (see events).
col() {
	awk -v k="$2" -v f="$3" '$2 == k { print $f }' "$1"
}

# sweep OUT PORT...: GET / through the forward on each 127.0.0.1:PORT, all at once (curl
# --parallel; connect holds a request until its session is up), again every 100 ms for those not
# answered with 200, until all have answered or CAP s have passed. Appends the PORTs answered to
# OUT; returns 1 if some never did. (When: connect's log says, see events: curl's own times start
# after its start-up, tens of ms after the sweep's on a busy machine.)
sweep() {
	_sw_out=$1
	shift
	_sw_lim=$(($(now_ms) + CAP * 1000))
	printf '%s\n' "$@" >"$T/pending"
	while [ -s "$T/pending" ]; do
		[ "$(now_ms)" -lt "$_sw_lim" ] || return 1
		awk '{ printf "url = \"http://127.0.0.1:%s/\"\noutput = \"/dev/null\"\n", $1 }' \
		    "$T/pending" >"$T/curl.cfg"
		curl -s -Z --parallel-max 300 -m 5 -K "$T/curl.cfg" -w '%{remote_port} %{http_code}\n' \
		    2>/dev/null | awk '$2 == 200 { print $1 }' >"$T/answered"
		if [ -s "$T/answered" ]; then
			cat "$T/answered" >>"$_sw_out"
			awk 'NR == FNR { ok[$1] = 1; next } !($1 in ok)' "$T/answered" "$T/pending" \
			    >"$T/pending.new"
			mv "$T/pending.new" "$T/pending"
		else
			sleep 0.1
		fi
	done
}

# clock: "EPOCH_MS DATE TIME", now, TIME as connect's log writes it (local, with fractions).
clock() {
	date '+%s%N %Y-%m-%d %H:%M:%S.%N' | awk '{ printf "%.0f %s %s\n", int($1 / 1000000), $2, $3 }'
}

# events DATE TIME FROM OUT: every instance's log lines from FROM ms after the local DATE TIME on,
# as "PORT KIND MS [N]" in OUT, MS relative to DATE TIME: attempt (a connection attempt begins),
# open (a connection through the forward reached the service: its channel opened),
# lost (the working session went), refused (an attempt found the port closed), dropped (sshd closed
# it before the session was up: MaxStartups), failed (other), up (ready: "connected to", or
# "reconnected to ... after N attempt(s)", N in the 4th field), netchange (a retry at once: the
# network changed, e.g. links that other work on this machine added or removed).
events() {
	awk -v rd="$1" -v rt="$2" -v from="$3" '
	function tod(s,  a) { split(s, a, ":"); return a[1] * 3600000 + a[2] * 60000 + a[3] * 1000 }
	BEGIN { r = tod(rt) }
	FNR == 1 { port = FILENAME; sub(/.*\/c\./, "", port); sub(/\.log$/, "", port) }
	{ ms = int(tod($2) - r + ($1 > rd ? 86400000 : $1 < rd ? -86400000 : 0)) }
	ms < from + 0 { next }
	/ new -> resolving$/ { print port, "attempt", ms; next }
	/ opening -> open$/ { print port, "open", ms; next }
	/ (network changed|woke up): (retrying now|restarting)/ { print port, "netchange", ms; next }
	/ supervisor_session_dead: / {
		k = "failed"
		if (/Connection refused/) k = "refused"
		else if (/ lost during | broke during | handshake with /) k = "dropped"
		else if (/ lost: /) k = "lost"
		print port, k, ms
		next
	}
	/ reconnected to .* after [0-9]+ attempt/ {
		n = $0; sub(/.* after /, "", n); sub(/ attempt.*/, "", n)
		print port, "up", ms, n
		next
	}
	/ connected to .* in [0-9]+ ms$/ { print port, "up", ms, 0 }
	' "$T"/c.*.log >"$4"
}

# opened EVENTS PORTS: for each port listed in the file PORTS, the MS of its first open event.
opened() {
	[ -s "$2" ] || return 0
	awk 'NR == FNR { want[$1] = 1; next }
	    $2 == "open" && ($1 in want) && !($1 in t) { t[$1] = 1; print $3 }' "$2" "$1"
}

# sshd_counts FROM_LINE: what sshd logged after that line: connections, logins, drops.
sshd_counts() {
	tail -n +$(($1 + 1)) "$T/sshd.log" | awk '
	    /^Connection from / { c++ } /^Accepted publickey / { a++ } / past MaxStartups/ { d++ }
	    END { printf "%d connections, %d logins, %d dropped past MaxStartups\n", c, a, d }'
}

# ------------------------------------------------------------------ sshd, services, instances
sshd_start || die "the test sshd did not start (see above)"
set -- $("$TNET" freeport $((N + 3))) || die "tnet freeport failed"
P1=$1 P2=$2 P3=$3
shift 3
LPORTS=$*
services_start "$P1" "$P2" "$P3" || die "the services did not start"

i=0
for lp in $LPORTS; do
	case $((i % 3)) in
	0) svc=$P1 ;;
	1) svc=$P2 ;;
	*) svc=$P3 ;;
	esac
	write_profile "$T/m$lp.ini" "default_forwards = no" "[forward web]" "local_port = $lp" \
	    "remote_host = 127.0.0.1" "remote_port = $svc"
	i=$((i + 1))
done

echo "bench-many: $N instances against one sshd (MaxStartups $SSHD_MAXSTARTUPS); logs in $T" >&2
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
set -- $(clock)
T0=$1 D0=$2 C0=$3
CPIDS=
for lp in $LPORTS; do
	t_bg "$CONNECT" -v -F "$T/m$lp.ini" >"$T/c.$lp.log" 2>&1
	CPIDS="$CPIDS $T_LASTPID"
done
LAUNCHED=$(($(now_ms) - T0))
: >"$R/start.ans"
sweep "$R/start.ans" $LPORTS
NSTART=$(wc -l <"$R/start.ans")
[ "$NSTART" -gt 0 ] || die "no instance came up: $(tail -n 3 "$T/c.${LPORTS%% *}.log")"
events "$D0" "$C0" 0 "$R/start.ev"
opened "$R/start.ev" "$R/start.ans" >"$R/start.ready"
col "$R/start.ev" up 3 >"$R/start.up"
awk '$2 == "attempt" { n[$1]++ } END { for (p in n) print n[p] }' "$R/start.ev" >"$R/start.att"
SSHD_START=$(sshd_counts 0)
echo "  start: $NSTART/$N healthy, the last after $(sort -n "$R/start.ready" | tail -n 1) ms" >&2

# ------------------------------------------------------------------ restarts
# round K DOWN: settle, kill sshd, start it DOWN s after, measure; the report in $R/round.K.
round() {
	sleep "$SETTLE"
	_rl=$(wc -l <"$T/sshd.log")
	_rk=$(now_ms)
	sshd_stop	# the listener frozen; the sessions die once it has found them (~0.6 s for 50)
	sleep "$2"
	sshd_restart || die "sshd did not come back"
	set -- "$1" "$2" $(clock)
	_ru=$3
	: >"$R/r$1.ans"
	sweep "$R/r$1.ans" $LPORTS
	_rf=$((_rk - _ru))
	events "$4" "$5" "$_rf" "$R/r$1.ev"
	_e=$R/r$1.ev
	# per instance: the loss, the first attempt after it, the first attempt since up
	awk '$2 == "lost" && !($1 in l) { l[$1] = $3 }
	    $2 == "attempt" && ($1 in l) && !($1 in a) { a[$1] = $3; print $3 - l[$1] }' "$_e" \
	    >"$R/r$1.first"
	awk '$2 == "attempt" && $3 >= 0 && !($1 in a) { a[$1] = 1; print $3 }' "$_e" >"$R/r$1.firstup"
	awk '$2 == "attempt" && $3 >= 0 { n[$1]++ } END { for (p in n) print n[p] }' "$_e" \
	    >"$R/r$1.attup"
	col "$_e" lost 3 >"$R/r$1.lost"
	_rlost=$(sort -n "$R/r$1.lost" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')
	col "$_e" up 3 >"$R/r$1.up"
	col "$_e" up 4 >"$R/r$1.att"
	col "$_e" attempt 3 >"$R/r$1.all"
	awk '$1 >= 0' "$R/r$1.all" >"$R/r$1.since"
	opened "$_e" "$R/r$1.ans" >"$R/r$1.ready"
	_rn=$(wc -l <"$R/r$1.ready")
	_rlast=$(sort -n "$R/r$1.ready" | tail -n 1)
	{
		echo "restart $1: sshd and its sessions killed; sshd listening again $((-_rlost)) ms" \
		    "after the sessions were lost (BENCH_MANY_DOWNS: $2 s)"
		printf '  %-52s %s\n' "ms (from up: sshd accepting again)" "min / p50 / p90 / max"
		printf '  %-52s %s\n' "session lost (all at once: sshd killed them)" "$(pct "$R/r$1.lost")"
		printf '  %-52s %s\n' "first retry, from the loss" "$(pct "$R/r$1.first")"
		printf '  %-52s %s\n' "first attempt since up" "$(pct "$R/r$1.firstup")"
		printf '  %-52s %s\n' "reconnected (log line)" "$(pct "$R/r$1.up")"
		printf '  %-52s %s\n' "a request through the forward reached its service" "$(pct "$R/r$1.ready")"
		printf '  %-52s %s\n' "attempts per instance, from the loss to reconnected" \
		    "$(pct "$R/r$1.att")"
		printf '  %-52s %s\n' "... of them since up (the ones sshd saw)" "$(pct "$R/r$1.attup")"
		if [ "$_rn" -eq "$N" ]; then
			echo "  all $N healthy again: $_rlast ms after up, $((_rlast - _rlost)) ms after the loss"
		else
			echo "  healthy again: $_rn/$N within $CAP s; the last after ${_rlast:--} ms"
		fi
		echo "  herd: at most $(herd "$R/r$1.all") attempts within 100 ms since the loss," \
		    "$(herd "$R/r$1.since") since up"
		echo "  failed attempts: $(awk '$2 == "refused" { r++; if ($3 >= 0) r0++ }
		    $2 == "dropped" { d++; if ($3 >= 0) d0++ } $2 == "failed" { f++ }
		    END { printf "%d refused (port closed), %d closed by the server before the session " \
			"was up (%d since up), %d other", r, d, d0, f }' "$_e")"
		echo "  sshd: $(sshd_counts "$_rl") (1 connection is the harness's probe)"
		_rnc=$(col "$_e" netchange 1 | sort -u | wc -l)
		[ "$_rnc" -eq 0 ] || echo "  NB: $_rnc instances retried at once on a network change" \
		    "(netlink: other work on this machine changed links): a herd not of connect's making"
		_rl0=$(sort -n "$R/r$1.lost" | head -n 1)
		hist "$R/r$1.all" "${_rl0:-$_rf}"
		echo
	} >"$R/round.$1"
	echo "  restart $1 (down $2 s): $_rn/$N healthy, the last after ${_rlast:--} ms" >&2
}

k=0
for down in $DOWNS; do
	k=$((k + 1))
	round "$k" "$down"
done

for p in $CPIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $CPIDS; do t_wait_exit "$p" 10 >/dev/null; done
ELAPSED=$((($(now_ms) - START) / 1000))

# ------------------------------------------------------------------ the report
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)
[ -n "$rev" ] && [ -n "$(git -C "$TOP" status --porcelain -- lib connect 2>/dev/null)" ] &&
    rev="$rev+uncommitted changes in lib/ or connect/"
echo "== Many clients: $N connect instances, one sshd ($(date '+%Y-%m-%d %H:%M %z'))"
echo "machine:  $(nproc 2>/dev/null || echo '?') CPU(s)${cpu:+, $cpu}, $(uname -sr), load $LOAD0 at the start"
echo "versions: $("$CONNECT" -V 2>&1 | head -n 1) (${rev:-no git}); $(ssh -V 2>&1 | cut -d, -f1);" \
    "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
echo "command:  make bench-many (BENCH_MANY_N=$N BENCH_MANY_DOWNS='$DOWNS' BENCH_MANY_SETTLE=$SETTLE" \
    "BENCH_MANY_MAXSTARTUPS=$SSHD_MAXSTARTUPS BENCH_MANY_CAP=$CAP; connect: $CONNECT_BIN)"
case $SSHD_MAXSTARTUPS in
10:30:100) ms_note="OpenSSH's default; the test harness raises it to 100:30:200" ;;
*) ms_note="not OpenSSH's default 10:30:100" ;;
esac
echo "sshd:     one, 127.0.0.1, MaxStartups $SSHD_MAXSTARTUPS ($ms_note), MaxSessions 100"
if [ -n "${BENCH_MANY_IN_NETNS:-}" ]; then
	echo "network:  a namespace of its own (unshare --net), loopback only"
else
	echo "network:  the machine's loopback (not root, or BENCH_MANY_NETNS=0): link changes by other" \
	    "work make every instance retry at once (an NB line says so)"
fi
echo "clients:  connect -v -F, one forward each (to one of 3 HTTP services), the profile's defaults" \
    "(backoff_initial 250ms, backoff_max 30s, stable 30s)"
echo
echo "start: all $N launched together (in $LAUNCHED ms)"
printf '  %-52s %s\n' "ms from the launch" "min / p50 / p90 / max"
printf '  %-52s %s\n' "connected (log line)" "$(pct "$R/start.up")"
printf '  %-52s %s\n' "a request through the forward reached its service" "$(pct "$R/start.ready")"
printf '  %-52s %s\n' "attempts per instance" "$(pct "$R/start.att")"
if [ "$NSTART" -eq "$N" ]; then
	echo "  all $N healthy: $(sort -n "$R/start.ready" | tail -n 1) ms after the launch"
else
	echo "  healthy: $NSTART/$N within $CAP s"
fi
echo "  sshd: $SSHD_START (2 connections are the harness's checks)"
echo
for f in "$R"/round.*; do
	[ -f "$f" ] && cat "$f"
done
echo "runtime: $ELAPSED s"
exit 0
