#!/bin/sh
# t-window-abuse.sh: a server that ignores the channel window cannot grow connect's memory. The
# server is tests/badssh.py (paramiko, on 127.0.0.1): it sends 64 MiB down each of 6 channels
# whose clients never read, as CHANNEL_DATA past the window. libssh up to 0.10 buffers all of it
# (all 384 MiB of it before the fix); connect must close each such channel once libssh
# holds more than a window's worth (lib/conn.h CONN_LIBSSH_MAX), reset its client and say why in
# the log. libssh 0.11 and later drop such data themselves (their "Window exceeded", naming no
# channel): connect then ends the session, as OpenSSH's client does, so every client sees a reset,
# never a stream with bytes missing. A second server also ignores connect's CLOSE and goes on sending
# to the closed channel (libssh keeps a closed channel until the server's CLOSE comes); a third
# opens 3000 channels towards connect, which must refuse each (libssh would queue them). Skips when
# no python3 with paramiko is found (Debian python3-paramiko; tests/deps.sh installs it; PYTHON=
# names the interpreters to try).
. "$(dirname "$0")/lib.sh"
t_init window-abuse
CONNECT=${CONNECT:-$TOP/tests/connect-asan}
BADSSH=$TOP/tests/badssh.py
CONNS=6
BYTES=67108864
# Growth allowed: 6 x (CONN_LIBSSH_MAX 10 MiB in libssh + 1 MiB queued to the client) and the
# allocator's slack; unbounded, 6 x 64 MiB would come in.
RSS_MAX_KB=$((160 * 1024))

PY=
for _py in ${PYTHON:-python3 /usr/bin/python3}; do
	if "$_py" "$BADSSH" check >/dev/null 2>&1; then
		PY=$_py
		break
	fi
done
if [ -z "$PY" ]; then
	t_skip "server ignoring the window" "no python3 with paramiko here (apt-get install python3-paramiko)"
	t_done
fi

# What the libssh of $CONNECT does with data past the window: up to 0.10 it keeps it.
case $($CONNECT --version) in
*"libssh 0.9."*|*"libssh 0.10."*) keeps=1 ;;
*) keeps=0 ;;
esac
ver=$($CONNECT --version | sed -n 's/.*(\(libssh [^/]*\).*/\1/p')
# ASan keeps freed memory in quarantine (256 MB by default): small here, so RSS shows what is held.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
export ASAN_OPTIONS

ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" </dev/null >/dev/null &&
    ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519" </dev/null >/dev/null ||
    { t_fail keys "ssh-keygen failed"; t_done; }
SSHD_USER=$(id -un) SSHD_KEY=$T/id_ed25519

# run NAME [--ignore-close]: the server, connect, $CONNS clients that never read; RSS sampled
# until the server has finished with every channel.
run() {
	_name=$1
	shift
	set -- "$@" $($TNET freeport 2)
	_opt=
	[ $# -eq 3 ] && { _opt=$1; shift; }
	SSHD_PORT=$1 _lport=$2
	t_bg "$PY" "$BADSSH" serve "$SSHD_PORT" "$T/hostkey" --bytes $BYTES $_opt >"$T/$_name.srv" 2>&1
	_srv=$T_LASTPID
	wait_port "$SSHD_PORT" 10 || { t_fail "$_name: server" "$(tail -n 3 "$T/$_name.srv")"; return 1; }
	write_profile "$T/$_name.ini" "default_forwards = no" "$(fwd abuse "$_lport" 9)"
	connect_start -F "$T/$_name.ini" -v
	# (No probe of the local port: its connection would be one more channel.)
	wait_log "$T/connect.log" "connected to" 30 ||
	    { t_fail "$_name: connects" "$(tail -n 3 "$T/connect.log")"; return 1; }
	_base=$(rss_kb "$CONNECT_PID")
	t_bg "$PY" "$BADSSH" clients "$_lport" --conns $CONNS --secs 120 >"$T/$_name.cli" 2>&1
	_cli=$T_LASTPID
	_peak=$_base _done=0 _i=0
	# Done when the server has given up on (or sent everything down) each channel.
	while [ "$_i" -lt 1500 ]; do
		_r=$(rss_kb "$CONNECT_PID")
		[ "${_r:-0}" -gt "$_peak" ] && _peak=$_r
		if [ -n "$_opt" ]; then
			_done=$(grep -c ': sent ' "$T/$_name.srv")
		else
			_done=$(grep -c '^channel ' "$T/$_name.srv")
		fi
		[ "$_done" -ge $CONNS ] && break
		# libssh 0.11+: connect ended the session (the server's threads then die unfinished).
		[ "$keeps" = 0 ] && grep -q "sent data past a channel's window" "$T/connect.log" && break
		t_alive "$CONNECT_PID" || break
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep 1		# the last packets in flight
	_r=$(rss_kb "$CONNECT_PID")
	[ "${_r:-0}" -gt "$_peak" ] && _peak=$_r
	t_stop "$_cli" TERM 5 >/dev/null	# it prints what it saw
	_grow=$((_peak - _base))
	echo "$_name: $ver: RSS $_base -> $_peak kB; $(cat "$T/$_name.cli"); server: $_done of $CONNS" >&2
	[ "$keeps" = 0 ] || [ "$_done" -ge $CONNS ] ||
	    t_fail "$_name: the server finished each channel" "$_done of $CONNS: $(tail -n 2 "$T/$_name.srv")"
	if [ -n "${VALGRIND:-}" ]; then
		t_skip "$_name: RSS bounded" "under valgrind"
	elif [ "$_grow" -lt $RSS_MAX_KB ]; then
		t_pass "$_name: $CONNS channels x 64 MiB past the window ($ver): RSS grew $_grow kB (< $RSS_MAX_KB)"
	else
		t_fail "$_name: RSS bounded" "$ver: RSS $_base -> $_peak kB, grew $_grow kB (limit $RSS_MAX_KB)"
	fi
	t_eq "$_name: each client that never read is reset ($ver)" "$(cat "$T/$_name.cli")" \
	    "clients: $CONNS reset, 0 closed, 0 open"
	if [ "$keeps" = 0 ]; then
		if grep -q "sent data past a channel's window.*ending the session" "$T/connect.log"; then
			t_pass "$_name: libssh dropped data past the window: the session ended, logged"
		else
			t_fail "$_name: a window violation ends the session" \
			    "$(grep -i "window\|lost" "$T/connect.log" | tail -n 2)"
		fi
	else
		_n=$(grep -c 'closed by the client after' "$T/$_name.srv")
		t_eq "$_name: connect closed each channel" "$_n" "$CONNS"
		if grep -q 'forward abuse: the server ignores the channel window' "$T/connect.log"; then
			t_pass "$_name: the log names the server's fault"
		else
			t_fail "$_name: the log names the server's fault" "$(grep -i window "$T/connect.log" | tail -n 2)"
		fi
	fi
	connect_stop TERM 10 || t_fail "$_name: connect stops" "exit $?"
	t_stop "$_srv" TERM 5 >/dev/null
	mv "$T/connect.log" "$T/$_name.log"
}

# flood: the server opens 3000 channels towards connect (forwarded-tcpip, 60 KB of addresses each),
# which asked for none. libssh queues each such request, unanswered, for ssh_message_get(), which
# connect never calls: 170 MB before the fix. Each must be refused at once.
flood() {
	set -- $($TNET freeport 2)
	SSHD_PORT=$1
	t_bg "$PY" "$BADSSH" serve "$SSHD_PORT" "$T/hostkey" --open-flood 3000 >"$T/flood.srv" 2>&1
	_srv=$T_LASTPID
	wait_port "$SSHD_PORT" 10 || { t_fail "flood: server" "$(tail -n 3 "$T/flood.srv")"; return 1; }
	write_profile "$T/flood.ini" "default_forwards = no" "$(fwd flood "$2" 9)"
	connect_start -F "$T/flood.ini" -v
	wait_log "$T/connect.log" "connected to" 30 ||
	    { t_fail "flood: connects" "$(tail -n 3 "$T/connect.log")"; return 1; }
	_base=$(rss_kb "$CONNECT_PID")
	wait_log "$T/flood.srv" "^opens:" 60
	_grow=$(( $(rss_kb "$CONNECT_PID") - _base ))
	echo "flood: $ver: RSS grew $_grow kB; $(grep '^opens:' "$T/flood.srv")" >&2
	t_eq "flood: 3000 channel opens towards connect are refused ($ver)" \
	    "$(grep '^opens:' "$T/flood.srv")" "opens: 3000 sent, 3000 refused"
	if [ -n "${VALGRIND:-}" ]; then
		t_skip "flood: RSS bounded" "under valgrind"
	elif [ "$_grow" -lt 32768 ]; then
		t_pass "flood: RSS grew $_grow kB (< 32 MiB; 170 MB when they were kept)"
	else
		t_fail "flood: RSS bounded" "grew $_grow kB (limit 32768)"
	fi
	connect_stop TERM 10 || t_fail "flood: connect stops" "exit $?"
	t_stop "$_srv" TERM 5 >/dev/null
	mv "$T/connect.log" "$T/flood.log"
}

run abuse
run abuse-noclose --ignore-close
flood
t_done
