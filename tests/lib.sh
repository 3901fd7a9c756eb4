# lib.sh: the end-to-end test harness, sourced by tests/t-*.sh and tests/demo.sh (POSIX sh).
#
#   . "$(dirname "$0")/lib.sh"
#   t_init my-test
#   sshd_start || { t_fail sshd "did not start"; t_done; }
#   ...
#   t_done
#
# Everything runs on loopback (127.0.0.1) and on ports from `tnet freeport`, in a fresh temp dir
# $T removed on exit (kept, and named on stderr, when a check failed or T_KEEP is set).
# Output protocol (tests/README.md): one line per check, "PASS: name", "FAIL: name: why",
# "SKIP: name: why". Diagnostics go to stderr (run.sh merges them into its log).
#
# Variables: TOP (the source tree), TNET (tests/tnet), CONNECT (the connect binary under test:
# $CONNECT from the environment, which run.sh points at tests/connect-asan, else connect/connect),
# SSHD (/usr/sbin/sshd). Functions and variables whose names start with "_" are internal.
#
# Function names, in order: t_init t_pass t_fail t_skip t_eq t_ok t_done t_is_root t_need_root
# t_bg t_track t_alive t_wait_exit t_stop t_sigkill wait_log now_ms sleep_until until_ok; wait_port
# wait_port_closed has_ipv6_loopback; sshd_start sshd_stop sshd_restart sshd_swap_hostkeys sshd_sessions
# sshd_signal_sessions sshd_fingerprint; serve_start services_start; ssh_forward_start
# ssh_forward_stop; write_profile fwd window_capped connect_start connect_stop; rss_kb fd_count tcp_conns_to.

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
TNET=${TNET:-$TOP/tests/tnet}
CONNECT=${CONNECT:-$TOP/connect/connect}
SSHD=${SSHD:-/usr/sbin/sshd}
export TOP TNET CONNECT

T=
T_PIDS=
T_LASTPID=
T_PASSED=0
T_FAILED=0
T_SKIPPED=0
SSHD_PID=
SSHD_PORT=
SSH_FWD_PID=
SERVICES_PID=
CONNECT_PID=
_sshd_nserve=0

# ------------------------------------------------------------------ the test itself

# t_init NAME: make $T (a fresh temp dir under ${TMPDIR:-/tmp}), zero the counters, and set traps
# so that on any exit everything started with t_bg (sshd, services, forwards, connect) is stopped
# and $T removed. Call it first.
t_init() {
	T_NAME=$1
	T=$(mktemp -d "${TMPDIR:-/tmp}/connect-$1.XXXXXX") || {
		echo "FAIL: $1: cannot create a temp dir under ${TMPDIR:-/tmp}"
		exit 1
	}
	export T
	# connect registers each running tunnel in the runtime directory, by profile name: a private
	# one per test script, so that scripts (or two test runs at once) never see each other's.
	XDG_RUNTIME_DIR=$T/xdg-run
	mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR
	[ -x "$TNET" ] || echo "$T_NAME: $TNET is missing (make tests/tnet)" >&2
	trap '_t_cleanup' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# t_pass NAME: report a passed check.
t_pass() {
	T_PASSED=$((T_PASSED + 1))
	echo "PASS: $1"
}

# t_fail NAME WHY: report a failed check (WHY: one line saying what was expected and what came).
t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "FAIL: $1: $2"
}

# t_skip NAME WHY: report a check that could not run here, and why.
t_skip() {
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "SKIP: $1: $2"
}

# t_eq NAME GOT WANT: PASS when the strings are equal, else FAIL showing both.
t_eq() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "got '$2', expected '$3'"
	fi
}

# t_ok NAME CMD...: run CMD (output captured); PASS if it exits 0, else FAIL with its exit status
# and last output line, the whole output following on stderr. Returns CMD's status.
t_ok() {
	_ok_name=$1
	shift
	_ok_out=$("$@" 2>&1)
	_ok_rc=$?
	if [ "$_ok_rc" -eq 0 ]; then
		t_pass "$_ok_name"
	else
		t_fail "$_ok_name" "exit $_ok_rc: $(printf '%s\n' "$_ok_out" | tail -n 1)"
		printf '%s\n' "$_ok_out" | sed 's/^/  | /' >&2
	fi
	return "$_ok_rc"
}

# t_done: end the script: exit 1 if any check failed, else 0 (cleanup runs from the trap).
t_done() {
	echo "# $T_NAME: $T_PASSED passed, $T_FAILED failed, $T_SKIPPED skipped" >&2
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# t_is_root: true when running as root.
t_is_root() {
	[ "$(id -u)" -eq 0 ]
}

# t_need_root NAME: when not root, report "SKIP: NAME: needs root" and return 1.
t_need_root() {
	t_is_root && return 0
	t_skip "$1" "needs root (running as $(id -un))"
	return 1
}

# t_bg CMD...: start CMD in the background (stdin /dev/null; redirect as usual: t_bg cmd >log 2>&1),
# remember its pid for the cleanup, and leave it in T_LASTPID (and $!). CMD should be a program,
# not a pipeline, so that the pid is the program's.
t_bg() {
	"$@" </dev/null &
	T_LASTPID=$!
	T_PIDS="$T_PIDS $T_LASTPID"
}

# t_track PID: have the cleanup stop PID too (for programs started with a plain &).
t_track() {
	T_PIDS="$T_PIDS $1"
}

# wait_log FILE PATTERN SECS [FROM_LINE]: wait until FILE has a line matching PATTERN (grep -E),
# at most SECS; with FROM_LINE, only lines after that one count.
wait_log() {
	_wl_n=$(($3 * 10))
	while [ "$_wl_n" -gt 0 ]; do
		tail -n +$((${4:-0} + 1)) "$1" 2>/dev/null | grep -Eq "$2" && return 0
		sleep 0.1
		_wl_n=$((_wl_n - 1))
	done
	return 1
}

# now_ms: milliseconds since the epoch (date +%s%N is GNU; falls back to whole seconds).
now_ms() {
	_nm_ns=$(date +%s%N 2>/dev/null)
	case "$_nm_ns" in
	*N) echo $(($(date +%s) * 1000)) ;;
	*) echo $((_nm_ns / 1000000)) ;;
	esac
}

# sleep_until MS: sleep until now_ms reaches MS (the epoch ms of a deadline).
sleep_until() {
	while [ "$(now_ms)" -lt "$1" ]; do sleep 0.05; done
}

# until_ok SECS CMD...: retry CMD (its output discarded) every 0.1 s until it succeeds; prints the
# ms it took, or returns 1 after SECS.
until_ok() {
	_uo_t0=$(now_ms)
	_uo_lim=$((_uo_t0 + $1 * 1000))
	shift
	while [ "$(now_ms)" -lt $_uo_lim ]; do
		if "$@" >/dev/null 2>&1; then
			echo $(($(now_ms) - _uo_t0))
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# t_alive PID: true while PID runs (a zombie counts as gone).
t_alive() {
	[ -n "$1" ] || return 1
	if [ -r "/proc/$1/stat" ]; then
		_al_state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
		[ -n "$_al_state" ] && [ "$_al_state" != Z ] && [ "$_al_state" != X ]
	else
		kill -0 "$1" 2>/dev/null
	fi
}

# t_wait_exit PID [SECS]: wait up to SECS (default 10) for PID (a child started with t_bg) to
# exit; returns its exit status (128+N when killed by signal N), or 124 if it had to be killed.
t_wait_exit() {
	_we_n=$(( ${2:-10} * 10 ))
	while t_alive "$1" && [ "$_we_n" -gt 0 ]; do
		sleep 0.1
		_we_n=$((_we_n - 1))
	done
	if t_alive "$1"; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		_t_forget "$1"
		return 124
	fi
	wait "$1" 2>/dev/null
	_we_rc=$?
	_t_forget "$1"
	return "$_we_rc"
}

# Drop a reaped pid from the cleanup list (its number may be reused by another process).
_t_forget() {
	_fg_new=
	for _fg_p in $T_PIDS; do
		[ "$_fg_p" = "$1" ] || _fg_new="$_fg_new $_fg_p"
	done
	T_PIDS=$_fg_new
}

# t_stop PID [SIG] [SECS]: send SIG (default TERM) and wait up to SECS (default 10) for the exit;
# returns the exit status as t_wait_exit does.
t_stop() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	t_wait_exit "$1" "${3:-10}"
}

# t_sigkill PID: kill -9 PID, on purpose, and wait (5 s at most) until it is gone. Under `make
# valgrind` valgrind dies with it before its leak check: that log, lacking valgrind's summary, is
# renamed valgrind-killed.PID, which run.sh counts apart (a log without the summary is otherwise a
# failure: a process that escaped the check).
t_sigkill() {
	t_stop "$1" KILL 5
	_sk_log=${VG_LOG_DIR:-}/valgrind.$1
	if [ -n "${VG_LOG_DIR:-}" ] && [ -f "$_sk_log" ] && ! grep -q 'ERROR SUMMARY: ' "$_sk_log"; then
		mv "$_sk_log" "$VG_LOG_DIR/valgrind-killed.$1"
	fi
}

_t_cleanup() {
	_cl_rc=$?
	trap - EXIT HUP INT TERM
	sshd_stop >/dev/null 2>&1
	for _cl_p in $T_PIDS; do
		kill -TERM "$_cl_p" 2>/dev/null
	done
	# 3 s for all of them to exit; under valgrind (make valgrind) 15 s, as a connect's exit then
	# includes its leak check, and a SIGKILL here would leave it unchecked (a failure in run.sh).
	_cl_n=30
	[ -z "${VALGRIND:-}" ] || _cl_n=150
	for _cl_p in $T_PIDS; do
		while t_alive "$_cl_p" && [ "$_cl_n" -gt 0 ]; do
			sleep 0.1
			_cl_n=$((_cl_n - 1))
		done
		t_alive "$_cl_p" && kill -KILL "$_cl_p" 2>/dev/null
	done
	for _cl_p in $T_PIDS; do
		wait "$_cl_p" 2>/dev/null	# reap; only our own children, all gone by now
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$T_FAILED" -gt 0 ] || [ -n "${T_KEEP:-}" ]; then
			echo "$T_NAME: kept $T for inspection" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$_cl_rc"
}

# ------------------------------------------------------------------ ports

# wait_port PORT [SECS]: wait until 127.0.0.1:PORT accepts a TCP connection (default 10 s);
# returns 1 (saying so on stderr) if it does not. Each probe is a connect then an immediate close.
wait_port() {
	"$TNET" probe 127.0.0.1 "$1" --wait "${2:-10}"
}

# wait_port_closed PORT [SECS]: wait until 127.0.0.1:PORT refuses connections (default 10 s).
wait_port_closed() {
	_wc_n=$(( ${2:-10} * 10 ))
	while "$TNET" probe 127.0.0.1 "$1"; do
		_wc_n=$((_wc_n - 1))
		if [ "$_wc_n" -le 0 ]; then
			echo "wait_port_closed: 127.0.0.1:$1 still accepts after ${2:-10} s" >&2
			return 1
		fi
		sleep 0.1
	done
}

# has_ipv6_loopback: true when this machine has ::1 (containers may have IPv6 off).
has_ipv6_loopback() {
	ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128' || [ -e /proc/net/if_inet6 ] &&
	    grep -q '^00000000000000000000000000000001' /proc/net/if_inet6
}

# ------------------------------------------------------------------ sshd

_sshd_hostkeys() {
	rm -f "$T/sshd/ssh_host_ed25519_key" "$T/sshd/ssh_host_ed25519_key.pub" \
	    "$T/sshd/ssh_host_rsa_key" "$T/sshd/ssh_host_rsa_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C connect-test-host -f "$T/sshd/ssh_host_ed25519_key" \
	    </dev/null >/dev/null &&
	ssh-keygen -q -t rsa -b 2048 -N '' -C connect-test-host -f "$T/sshd/ssh_host_rsa_key" \
	    </dev/null >/dev/null
}

_sshd_config() {
	cat >"$T/sshd_config" <<EOF
# written by tests/lib.sh sshd_start
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey "$T/sshd/ssh_host_ed25519_key"
HostKey "$T/sshd/ssh_host_rsa_key"
PidFile "$T/sshd.pid"
AuthorizedKeysFile "$T/authorized_keys"
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowTcpForwarding yes
PermitOpen any
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
UseDNS no
LogLevel ${SSHD_LOGLEVEL:-VERBOSE}
MaxStartups ${SSHD_MAXSTARTUPS:-100:30:200}
MaxSessions 100
MaxAuthTries 10
LoginGraceTime 30
EOF
	# SSHD_LOGLEVEL: sshd's LogLevel (VERBOSE; t-rekey counts key exchanges at DEBUG1).
	# SSHD_EXTRA: more sshd_config lines from the test (e.g. "RekeyLimit 1M" to force rekeys); a
	# keyword set above cannot be changed there (sshd keeps a keyword's first value).
	# SSHD_MAXSTARTUPS: tests open many connections at once, hence 100:30:200 rather than
	# OpenSSH's default 10:30:100 (random refusals from 10 unauthenticated ones on).
	[ -z "${SSHD_EXTRA:-}" ] || printf '%s\n' "$SSHD_EXTRA" >>"$T/sshd_config"
	# OpenSSH >= 9.8 penalises addresses that fail auth or drop connections: tests do that on
	# purpose, from 127.0.0.1, many times.
	if "$SSHD" -t -f "$T/sshd_config" -o PerSourcePenalties=no >/dev/null 2>&1; then
		echo "PerSourcePenalties no" >>"$T/sshd_config"
	fi
}

_sshd_print_log() {
	echo "---- $T/sshd.log:" >&2
	tail -n 40 "$T/sshd.log" 2>/dev/null | sed 's/^/  | /' >&2
}

# sshd_start: start a throwaway OpenSSH sshd on 127.0.0.1:SSHD_PORT (a free port) for the current
# user, with fresh host keys (ed25519 + rsa) and a fresh client key. Waits (10 s at most) until it
# accepts, then checks that OpenSSH can log in and open a forward through it (first start only,
# not in sshd_restart). Returns non-zero
# with the reason and sshd's log on stderr when anything fails (the caller reports a FAIL).
# Exports SSHD_PORT, SSHD_USER, SSHD_KEY (client private key), SSHD_HOSTKEY_PUB (the ed25519
# host public key), SSHD_PID. Logs go to $T/sshd.log. As non-root, sshd can only log in the user
# running it, which is why SSHD_USER is $(id -un).
sshd_start() {
	[ -n "$T" ] || { echo "sshd_start: call t_init first" >&2; return 1; }
	[ -x "$SSHD" ] || { echo "sshd_start: $SSHD is missing (apt-get install openssh-server)" >&2; return 1; }
	mkdir -p "$T/sshd" || return 1
	if [ ! -f "$T/sshd/ssh_host_ed25519_key" ]; then
		_sshd_hostkeys || { echo "sshd_start: ssh-keygen failed (host keys)" >&2; return 1; }
	fi
	SSHD_KEY=$T/id_ed25519
	if [ ! -f "$SSHD_KEY" ]; then
		ssh-keygen -q -t ed25519 -N '' -C connect-test-client -f "$SSHD_KEY" </dev/null >/dev/null ||
		    { echo "sshd_start: ssh-keygen failed (client key)" >&2; return 1; }
		cp "$SSHD_KEY.pub" "$T/authorized_keys" || return 1
	fi
	SSHD_HOSTKEY_PUB=$T/sshd/ssh_host_ed25519_key.pub
	SSHD_USER=$(id -un)
	[ -n "$_sshd_keep_port" ] || SSHD_PORT=$("$TNET" freeport) || return 1
	export SSHD_PORT SSHD_USER SSHD_KEY SSHD_HOSTKEY_PUB
	if t_is_root && [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 0755 /run/sshd	# privilege separation directory
	fi
	_sshd_config
	if ! "$SSHD" -t -f "$T/sshd_config" >>"$T/sshd.log" 2>&1; then
		echo "sshd_start: $SSHD -t refuses $T/sshd_config" >&2
		_sshd_print_log
		return 1
	fi
	rm -f "$T/sshd.pid"
	t_bg "$SSHD" -D -e -f "$T/sshd_config" >>"$T/sshd.log" 2>&1
	SSHD_PID=$T_LASTPID
	export SSHD_PID
	# Every 20 ms: sshd listens within a few ms, and benchmarks time a restart from our return.
	_ss_n=500
	until "$TNET" probe 127.0.0.1 "$SSHD_PORT"; do
		_ss_n=$((_ss_n - 1))
		if ! t_alive "$SSHD_PID" || [ "$_ss_n" -le 0 ]; then
			echo "sshd_start: sshd did not accept connections on 127.0.0.1:$SSHD_PORT" \
			    "($(t_alive "$SSHD_PID" && echo 'still running after 10 s' || echo 'it exited'))" >&2
			_sshd_print_log
			sshd_stop >/dev/null 2>&1
			return 1
		fi
		sleep 0.02
	done
	# A login and a forward (stdio to sshd's own port) with OpenSSH: proves the keys, the
	# account and AllowTcpForwarding before any test relies on them. Not on a restart: a test
	# may have changed authorized_keys on purpose.
	[ -n "$_sshd_keep_port" ] && return 0
	if ! ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -o ConnectTimeout=10 -i "$SSHD_KEY" -p "$SSHD_PORT" \
	    -W "127.0.0.1:$SSHD_PORT" "$SSHD_USER@127.0.0.1" </dev/null >"$T/sshd-check.out" \
	    2>>"$T/sshd.log"; then
		echo "sshd_start: sshd listens on 127.0.0.1:$SSHD_PORT but OpenSSH cannot log in as" \
		    "$SSHD_USER and forward through it" >&2
		if grep -q 'account is locked' "$T/sshd.log" 2>/dev/null; then
			echo "sshd_start: the account $SSHD_USER is locked ('!' in /etc/shadow) and the test" \
			    "sshd runs with UsePAM no; unlock it for key logins, e.g. usermod -p '*' $SSHD_USER" >&2
		fi
		_sshd_print_log
		sshd_stop >/dev/null 2>&1
		return 1
	fi
}

# sshd_sessions: print the pids of sshd's per-connection processes (all descendants of the
# listener), one a line.
sshd_sessions() {
	[ -n "$SSHD_PID" ] && _descendants "$SSHD_PID"
}

_children() {
	if command -v ps >/dev/null 2>&1; then
		ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
	else
		cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .
	fi
}

_descendants() {
	for _ds_p in $(_children "$1"); do
		echo "$_ds_p"
		_descendants "$_ds_p"
	done
}

# sshd_signal_sessions SIG: send SIG to every per-connection sshd process, leaving the listener:
# KILL drops every SSH connection at once (the server side vanishes); STOP freezes them (a
# silently dead network: TCP still ACKs, nothing answers); CONT thaws them.
sshd_signal_sessions() {
	for _sg_p in $(sshd_sessions); do
		kill -"$1" "$_sg_p" 2>/dev/null
	done
}

# sshd_stop: stop sshd: its sessions (every SSH connection drops) and the listener (the port
# closes). Quiet and successful when it is not running.
sshd_stop() {
	[ -n "$SSHD_PID" ] || return 0
	# The listener frozen first, so that it starts no session while we list and stop them: a
	# client reconnecting at once would get one that nobody stops, and it would outlive sshd.
	kill -STOP "$SSHD_PID" 2>/dev/null
	_st_sessions=$(sshd_sessions)
	for _st_p in $_st_sessions; do
		kill -CONT "$_st_p" 2>/dev/null		# a stopped process would not die of TERM
		kill -TERM "$_st_p" 2>/dev/null
	done
	kill -TERM "$SSHD_PID" 2>/dev/null
	kill -CONT "$SSHD_PID" 2>/dev/null	# the pending TERM ends it before it accepts again
	t_wait_exit "$SSHD_PID" 5
	for _st_p in $_st_sessions; do
		_st_n=30
		while t_alive "$_st_p" && [ "$_st_n" -gt 0 ]; do
			sleep 0.1
			_st_n=$((_st_n - 1))
		done
		t_alive "$_st_p" && kill -KILL "$_st_p" 2>/dev/null
	done
	SSHD_PID=
	return 0
}

# sshd_restart: stop sshd and start it again on the same port with the same keys.
sshd_restart() {
	sshd_stop
	_sshd_keep_port=1
	sshd_start
	_sshd_rc=$?
	_sshd_keep_port=
	return "$_sshd_rc"
}

# sshd_swap_hostkeys: give sshd new host keys (ed25519 and rsa) and restart it (same port), so
# that a client which recorded the old key sees a changed host key.
sshd_swap_hostkeys() {
	_sshd_hostkeys || { echo "sshd_swap_hostkeys: ssh-keygen failed" >&2; return 1; }
	sshd_restart
}

# sshd_fingerprint: print the SHA256 fingerprint of the current ed25519 host key.
sshd_fingerprint() {
	ssh-keygen -l -E sha256 -f "$SSHD_HOSTKEY_PUB" | cut -d' ' -f2
}

# ------------------------------------------------------------------ services

# serve_start ARGS...: start `tnet serve ARGS...` (see tests/tnet.c: --http, --echo, --blast,
# --sink) and wait until all its listeners are bound (10 s at most). Sets SERVE_PID; logs to
# $T/serve.N.log. Returns non-zero, with the log, if it did not come up.
serve_start() {
	_sshd_nserve=$((_sshd_nserve + 1))
	_sv_pidfile=$T/serve.$_sshd_nserve.pid
	_sv_log=$T/serve.$_sshd_nserve.log
	t_bg "$TNET" serve "$@" --pidfile "$_sv_pidfile" >>"$_sv_log" 2>&1
	SERVE_PID=$T_LASTPID
	_sv_n=100
	until [ -s "$_sv_pidfile" ]; do	# written once every listener is bound
		_sv_n=$((_sv_n - 1))
		if ! t_alive "$SERVE_PID" || [ "$_sv_n" -le 0 ]; then
			echo "serve_start: tnet serve $* did not come up; its log:" >&2
			sed 's/^/  | /' "$_sv_log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# services_start P_WEB P_API P_FILES [more tnet serve args]: the three stand-in ClearML services
# (HTTP "service web|api|files", /debug.ping, /bytes) in one `tnet serve`, plus any extra
# listeners (e.g. --echo P --blast P:64m --sink P). Waits until every port accepts. Sets
# SERVICES_PID.
services_start() {
	[ $# -ge 3 ] || { echo "services_start: P_WEB P_API P_FILES expected" >&2; return 1; }
	_sv_web=$1 _sv_api=$2 _sv_files=$3
	shift 3
	serve_start --http "$_sv_web:web" --http "$_sv_api:api" --http "$_sv_files:files" "$@" ||
	    return 1
	SERVICES_PID=$SERVE_PID
	wait_port "$_sv_web" && wait_port "$_sv_api" && wait_port "$_sv_files"
}

# ------------------------------------------------------------------ OpenSSH forwards

# ssh_forward_start LPORT:HOST:RPORT...: run OpenSSH `ssh -N -L 127.0.0.1:LPORT:HOST:RPORT...` to
# the test sshd in the background (the comparison for benchmarks, and a harness check); waits until
# every LPORT accepts. Sets SSH_FWD_PID; logs to $T/ossh.log. Returns non-zero with the log if a
# port does not come up.
ssh_forward_start() {
	_fw_specs=$*
	set -- "$@" --
	while [ "$1" != -- ]; do
		set -- "$@" -L "127.0.0.1:$1"
		shift
	done
	shift
	t_bg ssh -N -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/ossh_known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o ExitOnForwardFailure=yes -o LogLevel=ERROR -i "$SSHD_KEY" -p "$SSHD_PORT" "$@" \
	    "$SSHD_USER@127.0.0.1" >>"$T/ossh.log" 2>&1
	SSH_FWD_PID=$T_LASTPID
	while [ $# -gt 0 ]; do
		if [ "$1" = -L ]; then
			_fw_lport=${2#127.0.0.1:}
			_fw_lport=${_fw_lport%%:*}
			if ! wait_port "$_fw_lport" 10; then
				echo "ssh_forward_start: port $_fw_lport of ssh -N -L $_fw_specs did not open;" \
				    "$T/ossh.log:" >&2
				sed 's/^/  | /' "$T/ossh.log" >&2
				return 1
			fi
			shift
		fi
		shift
	done
}

# ssh_forward_stop: stop the OpenSSH forward started last.
ssh_forward_stop() {
	[ -n "$SSH_FWD_PID" ] && t_stop "$SSH_FWD_PID" TERM 5
	SSH_FWD_PID=
	return 0
}

# ------------------------------------------------------------------ connect

# write_profile FILE [LINE...]: write a connect profile for the test sshd: a [studio] section
# (user, host 127.0.0.1, port, identity, agent = no, known_hosts = $T/known_hosts), then each
# LINE as given, e.g. write_profile "$T/p.ini" "[forward web]" "local_port = $L" ...
write_profile() {
	_wp_f=$1
	shift
	{
		echo "[studio]"
		echo "user = $SSHD_USER"
		echo "host = 127.0.0.1"
		echo "port = $SSHD_PORT"
		echo "identity = $SSHD_KEY"
		echo "agent = no"
		echo "known_hosts = $T/known_hosts"
		for _wp_l in "$@"; do
			printf '%s\n' "$_wp_l"
		done
	} >"$_wp_f"
}

# window_capped: true when $CONNECT's libssh holds each channel's window at 2 MiB, by its --version
# (a system libssh 0.11 or later; 0.9, 0.10 and the tuned builds grow it: lib/session.c
# session_libssh_window_capped). Prints that version line.
window_capped() {
	_wc_v=$($CONNECT --version)
	echo "$_wc_v"
	case $_wc_v in
	*", tuned"*|*"libssh 0.9."*|*"libssh 0.10."*) return 1 ;;
	esac
	return 0
}

# fwd NAME LPORT RPORT [LINE]: a [forward NAME] section to 127.0.0.1:RPORT (for write_profile), with
# LINE (e.g. "health = /debug.ping") added when given.
fwd() {
	printf '%s\n' "[forward $1]" "local_port = $2" "remote_host = 127.0.0.1" "remote_port = $3" \
	    ${4:+"$4"} ""
}

# connect_start ARGS...: start "$CONNECT" ARGS... in the background, stdout and stderr appended to
# $T/connect.log (a line "==== connect ARGS" marks each start). Sets CONNECT_PID.
connect_start() {
	echo "==== connect $*" >>"$T/connect.log"
	t_bg "$CONNECT" "$@" >>"$T/connect.log" 2>&1
	CONNECT_PID=$T_LASTPID
}

# connect_stop [SIG] [SECS]: send SIG (default TERM) to the connect started last and wait up to
# SECS (default 10); returns its exit status (124: it had to be killed).
connect_stop() {
	[ -n "$CONNECT_PID" ] || return 0
	t_stop "$CONNECT_PID" "${1:-TERM}" "${2:-10}"
	_cs_rc=$?
	CONNECT_PID=
	return "$_cs_rc"
}

# ------------------------------------------------------------------ measurements

# rss_kb PID: print the resident set size of PID in kB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# fd_count PID: print how many file descriptors PID has open.
fd_count() {
	echo $(( $(ls "/proc/$1/fd" 2>/dev/null | wc -l) ))
}

# tcp_conns_to PORT [PID]: print how many ESTABLISHED TCP connections go to 127.0.0.1:PORT (client
# sides, so each connection counts once), from /proc/net/tcp; with PID, only the sockets PID holds
# (/proc/net/tcp is the whole machine's: other programs, another test run, count there too).
# Each socket (inode) counts once: the kernel prints the file in pieces and resumes by position, so
# while connections come and go (t-core opens 200) one line can be printed twice in a single read.
tcp_conns_to() {
	_tc_inodes=
	[ -z "${2:-}" ] ||
	    _tc_inodes=$(ls -l "/proc/$2/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
	awk -v port="$(printf '%04X' "$1")" -v pid="${2:-}" -v inodes="$_tc_inodes" '
		BEGIN { k = split(inodes, a); for (i = 1; i <= k; i++) mine[a[i]] = 1 }
		($3 == "0100007F:" port || $3 == "7F000001:" port) && $4 == "01" &&
		    (pid == "" || ($10 in mine)) && !seen[$10]++ { n++ }
		END { print n + 0 }' /proc/net/tcp
}
