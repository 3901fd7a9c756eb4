#!/bin/sh
# t-pressure.sh: fail closed under pressure, against a real OpenSSH sshd on loopback: a recorded
# host key is never bypassed when known_hosts cannot be read (every `ulimit -n` from 8 to 30 at
# start-up; a reconnect whose fds are nearly gone, through prlimit on the running daemon), a
# shortage of fds during a reconnect is retried, not fatal, the control socket out of fds neither
# spins nor floods the log, hostile server text reaches no terminal or log raw, and the smaller
# races: a stale pid file read by status at the moment of a start, a keepalive whose product
# overflows an int, a profile name with a blank.
. "$(dirname "$0")/lib.sh"
t_init pressure

CONNECT=${CONNECT:-$TOP/tests/connect-asan}

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): integration tests cannot run"
	t_done
fi
set -- $($TNET freeport 6)
P_WEB=$1 L_WEB=$2 L_X=$3 P_BANNER=$4 L_Y=$5 L_Z=$6
serve_start --http "$P_WEB:web" || { t_fail services "tnet serve did not start"; t_done; }

export XDG_CONFIG_HOME="$T/cfg" XDG_RUNTIME_DIR="$T/run"
mkdir -p "$T/cfg/connect" "$T/run"
RUN=$T/run/connect
get() { curl -s -m 5 "http://127.0.0.1:$1/"; }
# bounded SECS OUT CMD...: run CMD with output to OUT; its exit status, 124 if it ran past SECS
# (a build that connects where it must not would otherwise run on: the check must end).
bounded() {
	_bd_s=$1 _bd_o=$2
	shift 2
	t_bg "$@" >"$_bd_o" 2>&1
	t_wait_exit "$T_LASTPID" "$_bd_s"
}
has_esc() { LC_ALL=C grep -q "$(printf '\033')\|$(printf '\007')" "$@"; }

# A key the server does not have, recorded for it: what an impostor would meet.
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other" </dev/null >/dev/null
other_kh() { echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other.pub")" >"$1"; }
# known_hosts_at FILE PATH: point the profile FILE (write_profile's) at another known_hosts.
known_hosts_at() { sed "s|^known_hosts = .*|known_hosts = $2|" "$1" >"$1.new" && mv "$1.new" "$1"; }

# ---------------------------------------------------------------- 1. start-up, ulimit -n 8..30
# known_hosts records another key. At every limit: never authenticated; once there are fds
# enough, the refusal (76). Before the fix, one limit (14 here) gave "authenticated as".
other_kh "$T/known_hosts"
write_profile "$T/u.ini" "default_forwards = no" "[forward web]" "local_port = $L_WEB" \
    "remote_port = $P_WEB" "[reconnect]" "max_tries = 2" "backoff_initial = 50ms"
bad= codes= saw76=0 sawread=0
for n in $(seq 8 30); do
	sh -c "ulimit -n $n && exec $CONNECT -v -F '$T/u.ini'" >"$T/u$n.log" 2>&1 </dev/null &
	p=$!
	t_track $p
	t_wait_exit $p 30
	rc=$?
	codes="$codes $n:$rc"
	if [ "$rc" = 0 ] || [ "$rc" = 124 ] || grep -q 'authenticated as\|info: connected to' "$T/u$n.log"; then
		bad="$bad $n(exit $rc: $(grep -m1 'authenticated as\|info: connected to' "$T/u$n.log"))"
	fi
	[ "$rc" = 76 ] && grep -q 'HOST KEY CHANGED' "$T/u$n.log" && saw76=$((saw76 + 1))
	grep -q "cannot read $T/known_hosts: Too many open files" "$T/u$n.log" && sawread=1
done
if [ -z "$bad" ] && [ "$saw76" -gt 0 ] && [ -n "$(echo "$codes" | grep ' 30:76')" ]; then
	t_pass "ulimit -n 8..30, another key recorded: never authenticated, 76 once fds allow (exits:$codes)"
else
	t_fail "ulimit -n 8..30 with another key recorded" "authenticated or no verdict at:${bad:- none}; exits:$codes"
fi
# Which limits reach the fopen of known_hosts depends on the build; say whether this run did.
if [ "$sawread" = 1 ]; then
	t_pass "out of fds at the known_hosts check: 'cannot read ... Too many open files', not 'unknown'"
else
	t_skip "known_hosts check out of fds" "no limit from 8 to 30 stopped exactly there in this build"
fi

# ---------------------------------------------------------------- known_hosts exists, unreadable
# A directory where the file should be: fopen works, reading fails (EISDIR), as root too. libssh
# alone takes that for "no entry" and would record the key.
mkdir -p "$T/khdir"
write_profile "$T/d.ini" "default_forwards = no" "[forward web]" "local_port = $L_WEB" \
    "remote_port = $P_WEB" "[reconnect]" "max_tries = 2" "backoff_initial = 50ms"
known_hosts_at "$T/d.ini" "$T/khdir"
bounded 20 "$T/d.log" $CONNECT -F "$T/d.ini"
rc=$?
if [ $rc = 66 ] && grep -q "cannot read $T/khdir: Is a directory" "$T/d.log" &&
    ! grep -q 'authenticated as' "$T/d.log"; then
	t_pass "known_hosts unreadable (a directory): refused with the file and the reason, exit 66"
else
	t_fail "known_hosts unreadable" "exit $rc: $(tail -n 2 "$T/d.log")"
fi
bounded 20 "$T/d-check.log" $CONNECT check -F "$T/d.ini"
rc=$?
out=$(cat "$T/d-check.log")
if [ $rc = 66 ] && echo "$out" | grep -q "known_hosts.*FAIL.*cannot read $T/khdir"; then
	t_pass "connect check: known_hosts unreadable is a failed step (66), not 'will be recorded'"
else
	t_fail "connect check with known_hosts unreadable" "exit $rc: $out"
fi
if t_is_root; then
	t_skip "known_hosts mode 000" "root reads any file (the directory case above covers it)"
else
	other_kh "$T/kh000"
	chmod 000 "$T/kh000"
	write_profile "$T/m.ini" "default_forwards = no" "[forward web]" "local_port = $L_WEB" \
	    "remote_port = $P_WEB" "[reconnect]" "max_tries = 2" "backoff_initial = 50ms"
	known_hosts_at "$T/m.ini" "$T/kh000"
	bounded 20 "$T/m.log" $CONNECT -F "$T/m.ini"
	rc=$?
	if [ $rc = 66 ] && grep -q "cannot read $T/kh000: Permission denied" "$T/m.log"; then
		t_pass "known_hosts mode 000: refused (Permission denied), exit 66"
	else
		t_fail "known_hosts mode 000" "exit $rc: $(tail -n 2 "$T/m.log")"
	fi
fi

# ---------------------------------------------------------------- read-only known_hosts: used
# Agent containers mount ~/.ssh read-only: an unknown key that cannot be recorded is used, with
# one warning per session (OpenSSH's accept-new does the same).
mkdir -p "$T/ro"
write_profile "$T/ro.ini" "default_forwards = no" "[forward web]" "local_port = $L_X" \
    "remote_port = $P_WEB"
known_hosts_at "$T/ro.ini" "$T/ro/known_hosts"
if t_is_root; then
	ro_run() { exec unshare -m sh -c "mount --bind -o ro '$T/ro' '$T/ro' && exec $CONNECT -F '$T/ro.ini'"; }
else
	chmod 555 "$T/ro"
	ro_run() { exec $CONNECT -F "$T/ro.ini"; }
fi
if t_is_root && ! unshare -m true 2>/dev/null; then
	t_skip "read-only known_hosts" "unshare -m does not work here"
else
	ro_run >"$T/ro.log" 2>&1 &
	p=$!
	t_track $p
	if wait_log "$T/ro.log" "connected to" 15 && [ "$(get "$L_X")" = "service web" ] &&
	    [ "$(grep -c 'could not record the host key' "$T/ro.log")" = 1 ] && [ ! -e "$T/ro/known_hosts" ]
	then
		t_pass "read-only known_hosts: an unknown key is used with one warning, nothing written"
	else
		t_fail "read-only known_hosts" "$(tail -n 3 "$T/ro.log")"
	fi
	t_stop $p >/dev/null
	chmod 755 "$T/ro"
fi

rm -f "$T/known_hosts"	# from here on: the server's own key, recorded on first contact

# ---------------------------------------------------------------- 1+3. reconnect out of fds
# allow_fds PID K: set PID's soft fd limit so that exactly K more descriptors can be opened (the
# lowest free numbers are used first; the limit is the (K+1)th free number).
allow_fds() {
	_af_lim=$(ls "/proc/$1/fd" | sort -n | awk -v k="$2" '
		{ used[$1] = 1 } END { n = 0; for (i = 0; ; i++) if (!(i in used) && n++ == k) { print i; exit } }')
	prlimit --pid "$1" --nofile="$_af_lim:"
}
# starve NAME LPORT RESTART: a -d daemon of profile NAME (one forward, on LPORT) loses sshd and
# holds a client; its fds are cut to none to spare; sshd comes back by RESTART (sshd_restart,
# sshd_swap_hostkeys); then the daemon may open k = 0, 1, 2, ... more fds, 1.5 s each (a retry or
# two), until it has reconnected or exited, or k passes 5. Sets DPID, K and STEPS (each k with the retries logged at it); returns 1
# with WHY when the daemon did not get that far.
starve() {
	write_profile "$T/cfg/connect/$1.ini" "default_forwards = no" "[forward web]" \
	    "local_port = $2" "remote_port = $P_WEB" "[keepalive]" "interval = 1s" "count = 3" \
	    "[reconnect]" "hold_timeout = 60s"
	$CONNECT -d "$1" >"$T/$1.out" 2>&1 || { WHY="-d: $(cat "$T/$1.out")"; return 1; }
	DPID=$(cat "$RUN/$1.pid")
	sshd_stop
	wait_log "$RUN/$1.log" "retrying" 10 || { WHY="no retry: $(tail -n 3 "$RUN/$1.log")"; return 1; }
	$TNET hold 127.0.0.1 "$2" --secs 60 >/dev/null 2>&1 &
	HOLD=$!
	t_track $HOLD
	wait_log "$RUN/$1.log" "holding a connection" 10
	allow_fds "$DPID" 0	# before sshd is back: no attempt may slip in with fds to spare
	$3
	K=0 STEPS=
	while [ $K -le 5 ] && t_alive "$DPID" && ! grep -q 'reconnected' "$RUN/$1.log"; do
		allow_fds "$DPID" $K
		_sv_mark=$(wc -l <"$RUN/$1.log")
		sleep 1.5
		STEPS="$STEPS k=$K:$(tail -n +$((_sv_mark + 1)) "$RUN/$1.log" | grep -c 'retrying')"
		K=$((K + 1))
	done
	prlimit --pid "$DPID" --nofile=1024: 2>/dev/null
	return 0
}
if ! command -v prlimit >/dev/null 2>&1; then
	t_skip "reconnect out of fds" "no prlimit(1) here (util-linux)"
else
	if starve fdsame "$L_Y" sshd_restart; then
		if t_alive "$DPID" && grep -q 'reconnected' "$RUN/fdsame.log" &&
		    [ "$(get "$L_Y")" = "service web" ] && grep -q 'Too many open files' "$RUN/fdsame.log"
		then
			t_pass "-d: out of fds during a reconnect (socket, dup) is retried; reconnected ($STEPS )"
		else
			t_fail "-d out of fds during a reconnect" "alive=$(t_alive "$DPID" && echo yes || echo no)$STEPS: $(grep -i 'error\|many\|reconn' "$RUN/fdsame.log" | tail -n 4)"
		fi
		$CONNECT stop fdsame >/dev/null 2>&1
	else
		t_fail "-d out of fds during a reconnect" "$WHY"
		sshd_restart
	fi
	t_stop $HOLD >/dev/null

	# The same with the server's key changed meanwhile: refused once known_hosts can be read,
	# never authenticated before; the held client is never attached to the impostor.
	if starve fdkey "$L_Z" sshd_swap_hostkeys; then
		t_wait_exit "$DPID" 10
		auths=$(grep -c 'authenticated as' "$RUN/fdkey.log")
		if [ "$auths" = 1 ] && ! grep -q 'reconnected' "$RUN/fdkey.log" &&
		    grep -q 'HOST KEY CHANGED' "$RUN/fdkey.log" && ! t_alive "$DPID"; then
			t_pass "-d: key changed during an outage, fds nearly gone: refused, never authenticated ($STEPS )"
		else
			t_fail "-d: key changed while out of fds" "authenticated $auths times$STEPS: $(grep -i 'error\|authenticated\|reconnected\|cannot read' "$RUN/fdkey.log" | tail -n 4)"
		fi
	else
		t_fail "-d: key changed while out of fds" "$WHY"
	fi
	t_stop $HOLD >/dev/null
	t_alive "$SSHD_PID" || sshd_restart
fi
rm -f "$T/known_hosts"	# the server's keys changed: the checks below record them afresh

# ---------------------------------------------------------------- 2. control socket out of fds
# 60 clients held on a forward of a daemon limited to 40 fds, then a status request: the control
# socket's accept fails; it must pause and say so once (it logged 192 MB in 3 s before).
write_profile "$T/cfg/connect/fdctl.ini" "default_forwards = no" "[forward web]" \
    "local_port = $L_X" "remote_port = $P_WEB" "[keepalive]" "interval = 2s" "count = 3"
sh -c "ulimit -n 40 && exec $CONNECT -d fdctl" >"$T/fdctl.out" 2>&1
rc=$?
if [ $rc != 0 ]; then
	t_fail "control socket out of fds" "-d exit $rc: $(cat "$T/fdctl.out")"
else
	DPID=$(cat "$RUN/fdctl.pid")
	$TNET hold 127.0.0.1 "$L_X" --secs 30 --conns 60 >"$T/fdctl-hold.out" 2>&1 &
	HOLD=$!
	t_track $HOLD
	wait_log "$RUN/fdctl.log" "accept on port $L_X failed" 10
	size0=$(wc -c <"$RUN/fdctl.log")
	$CONNECT status fdctl >"$T/fdctl-status1.out" 2>&1 &
	ST=$!
	t_track $ST
	wait_log "$RUN/fdctl.log" "control socket: accept on .* failed" 5
	sleep 1
	cpu=$(awk '{ print $14 + $15 }' "/proc/$DPID/stat")
	sleep 1
	cpu=$(( $(awk '{ print $14 + $15 }' "/proc/$DPID/stat") - cpu ))
	size1=$(wc -c <"$RUN/fdctl.log")
	lines=$(grep -c 'control socket: accept on .* failed' "$RUN/fdctl.log")
	t_stop $HOLD >/dev/null
	t_wait_exit $ST 10
	out=$($CONNECT status fdctl 2>&1)
	if [ "$lines" = 1 ] && [ $((size1 - size0)) -lt 4096 ] && [ "$cpu" -lt 30 ] &&
	    echo "$out" | grep -q '^fdctl  ready' && grep -q 'control socket: accept on .*: accepting connections again' "$RUN/fdctl.log"
	then
		t_pass "control socket out of fds: 1 line, log +$((size1 - size0)) bytes, ${cpu} ticks CPU in 1 s; answers after"
	else
		t_fail "control socket out of fds" "$lines lines, log +$((size1 - size0)) bytes, cpu $cpu ticks, then: $out"
	fi
	$CONNECT stop fdctl >/dev/null 2>&1
fi

# ---------------------------------------------------------------- 4. hostile server text
# A "server" whose banner retitles the terminal, clears it and draws a fake prompt.
HOSTILE='SSH-1.5-\e]0;owned-title\a\e[2J\e[31mFAKE PROMPT$ \r\n'
serve_start --banner "$P_BANNER:$HOSTILE" || t_fail "banner server" "did not start"
write_profile "$T/evil.tmp" "default_forwards = no" "[forward web]" "local_port = $L_X" \
    "remote_port = $P_WEB" "[reconnect]" "max_tries = 2" "backoff_initial = 50ms"
sed "s/^port = .*/port = $P_BANNER/" "$T/evil.tmp" >"$T/cfg/connect/evil.ini"
bounded 20 "$T/evil-fg.out" $CONNECT evil
rc_fg=$?
bounded 20 "$T/evil-check.out" $CONNECT check evil
rc_ck=$?
$CONNECT -d --wait 5 evil >"$T/evil-d.out" 2>&1
rc_d=$?
if ! has_esc "$T/evil-fg.out" "$T/evil-check.out" "$T/evil-d.out" &&
    grep -q 'SSH-1.5-\\x1b]0;owned-title\\x07\\x1b\[2J' "$T/evil-fg.out" "$T/evil-check.out" "$T/evil-d.out" &&
    [ "$(grep -l 'x1b]0;owned' "$T/evil-fg.out" "$T/evil-check.out" "$T/evil-d.out" | wc -l)" = 3 ] &&
    [ $rc_fg != 0 ] && [ $rc_ck != 0 ] && [ $rc_d != 0 ]; then
	t_pass "hostile banner: foreground, check and -d print it escaped (\\x1b), no control byte"
else
	t_fail "hostile banner" "exits $rc_fg/$rc_ck/$rc_d; raw ESC/BEL: $(has_esc "$T"/evil-*.out && echo yes || echo no): $(cat "$T/evil-fg.out" "$T/evil-check.out" "$T/evil-d.out" | od -c | grep -m2 '033')"
fi
# A running daemon whose server is replaced by that one: status and the log stay clean.
write_profile "$T/cfg/connect/swap.ini" "default_forwards = no" "[forward web]" \
    "local_port = $L_X" "remote_port = $P_WEB" "[keepalive]" "interval = 1s" "count = 2"
if $CONNECT -d swap >"$T/swap.out" 2>&1; then
	sshd_stop
	serve_start --banner "$SSHD_PORT:$HOSTILE"
	HOSTILE_PID=$SERVE_PID
	wait_log "$RUN/swap.log" "owned-title" 15
	$CONNECT status swap >"$T/swap-status.out" 2>&1
	$CONNECT status swap --json >"$T/swap-json.out" 2>&1
	if ! has_esc "$T/swap-status.out" "$RUN/swap.log" "$T/swap-json.out" &&
	    grep -q 'last error: .*SSH-1.5-\\x1b]0;owned' "$T/swap-status.out" &&
	    grep -q 'x1b]0;owned' "$RUN/swap.log"; then
		t_pass "hostile banner on reconnect: status, status --json and the log show it escaped"
	else
		t_fail "hostile banner on reconnect" "raw: $(has_esc "$T/swap-status.out" "$RUN/swap.log" "$T/swap-json.out" && echo yes); status: $(cat "$T/swap-status.out")"
	fi
	$CONNECT stop swap >/dev/null 2>&1
	t_stop "$HOSTILE_PID" >/dev/null
	sshd_restart
else
	t_fail "hostile banner on reconnect" "-d: $(cat "$T/swap.out")"
fi

# ---------------------------------------------------------------- 5. the smaller ones
# A stale pid file (naming a live process, ours) while a reader holds the shared lock, as status
# and list do for a moment: the start waits that out; it said "already running" (73) before.
write_profile "$T/cfg/connect/stale.ini" "default_forwards = no" "[forward web]" \
    "local_port = $L_X" "remote_port = $P_WEB"
mkdir -p "$RUN" && chmod 700 "$RUN"
echo $$ >"$RUN/stale.pid"
flock -s "$RUN/stale.pid" sleep 0.4 &
FL=$!
sleep 0.1
$CONNECT -d stale >"$T/stale.out" 2>&1
rc=$?
wait $FL
if [ $rc = 0 ] && grep -q 'stale: ready' "$T/stale.out"; then
	t_pass "stale pid file read by a status at the moment of a start: the start waits and runs"
else
	t_fail "stale pid file and a reader's lock" "exit $rc: $(cat "$T/stale.out")"
fi
$CONNECT stop stale >/dev/null 2>&1

# keepalive 360m x 100: interval x (count + 1) overflowed an int (UBSan aborted the build).
write_profile "$T/ka.ini" "default_forwards = no" "[forward web]" "local_port = $L_X" \
    "remote_port = $P_WEB" "[keepalive]" "interval = 360m" "count = 100"
connect_start -F "$T/ka.ini"
if wait_log "$T/connect.log" "connected to" 15 && [ "$(get "$L_X")" = "service web" ] &&
    connect_stop; then
	t_pass "keepalive 360m x 100: connects and serves (no overflow)"
else
	t_fail "keepalive 360m x 100" "$(tail -n 3 "$T/connect.log")"
	connect_stop
fi

# A profile whose name has a blank: its state is read right, so -d again is a no-op and list says.
write_profile "$T/my studio.ini" "default_forwards = no" "[forward web]" "local_port = $L_X" \
    "remote_port = $P_WEB"
$CONNECT -d -F "$T/my studio.ini" >"$T/sp1.out" 2>&1
rc1=$?
$CONNECT -d --wait 5 -F "$T/my studio.ini" >"$T/sp2.out" 2>&1
rc2=$?
lst=$($CONNECT list 2>&1)
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && grep -q 'already running' "$T/sp2.out" &&
    echo "$lst" | grep -q '^my studio  *ready (pid'; then
	t_pass "profile 'my studio': -d twice is a no-op (0), list says ready"
else
	t_fail "profile with a blank in its name" "exits $rc1/$rc2: $(cat "$T/sp2.out"); list: $lst"
fi
$CONNECT stop "my studio" >/dev/null 2>&1

t_done
