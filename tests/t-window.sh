#!/bin/sh
# t-window.sh: the channel window follows the path. Across a 50 ms path (tests/fproxy --delay-ms 25
# between connect and sshd) a download's window grows to 8 MiB; on loopback it stays libssh's 2 MiB
# (lib/policy.c policy_window_grow: the channel's open answered in under 5 ms). The growth is read
# from libssh's own log (-vvv: "growing window ... to 8388608 bytes"); a libssh that cannot grow it
# (a system 0.11 or later: connect -v says so) must show no such line. On loopback, connect's own
# "window to 8 MiB" line must not appear. Downloads are checked byte for byte; nothing timed.
. "$(dirname "$0")/lib.sh"
t_init window
CONNECT=${CONNECT:-$TOP/tests/connect-asan}
FPROXY=$TOP/tests/fproxy
GROWN='growing window .* to 8388608 bytes'

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above)"
	t_done
fi
set -- $($TNET freeport 4)
P_BLAST=$1 P_PROXY=$2 L_WAN=$3 L_LAN=$4
serve_start --blast "$P_BLAST:16777216" && wait_port "$P_BLAST" ||
    { t_fail services "tnet serve did not start"; t_done; }
t_bg "$FPROXY" "$P_PROXY" "$SSHD_PORT" --delay-ms 25 >"$T/fp.log" 2>&1
wait_port "$P_PROXY"

ver=$(window_capped) && can_grow=0 || can_grow=1

# run NAME SSH_PORT LOCAL_PORT: connect (-vvv, or $VFLAG) through SSH_PORT, a 16 MiB download checked byte for byte.
run() {
	write_profile "$T/$1.ini" "default_forwards = no" "$(fwd blast "$3" "$P_BLAST")"
	sed -i "s/^port = .*/port = $2/" "$T/$1.ini"
	$CONNECT -F "$T/$1.ini" ${VFLAG:--vvv} >"$T/$1.log" 2>&1 &
	_pid=$!
	t_track $_pid
	wait_log "$T/$1.log" "connected to" 30 || { t_fail "$1: connects" "$(tail -n 3 "$T/$1.log")"; return 1; }
	wait_port "$3" 10
	if $TNET read 127.0.0.1 "$3" --bytes 16777216 --timeout 120 >"$T/$1.read" 2>&1; then
		t_pass "$1: 16 MiB download byte-exact"
	else
		t_fail "$1: 16 MiB download byte-exact" "$(tail -n 2 "$T/$1.read")"
	fi
	t_stop $_pid TERM 10
}

run wan "$P_PROXY" "$L_WAN"
open_ms=$(sed -n 's/.*channel open answered in \([0-9]*\) ms.*/\1/p' "$T/wan.log" | head -n 1)
n=$(grep -c "$GROWN" "$T/wan.log")
if [ "$can_grow" = 1 ]; then
	[ "${open_ms:-0}" -ge 5 ] && [ "$n" -gt 0 ] &&
	    t_pass "50 ms path (open answered in $open_ms ms): the window grows to 8 MiB ($ver)" ||
	    t_fail "50 ms path: the window grows to 8 MiB" "open answered in '$open_ms' ms; $n lines '$GROWN'"
else
	[ "$n" -eq 0 ] && t_pass "50 ms path, $ver: no window past 2 MiB (capped libssh)" ||
	    t_fail "50 ms path, capped libssh" "$n lines '$GROWN' from $ver"
fi

# Loopback, at -v only (-vvv's packet log slows the loop: an open can take 5 ms): connect's
# own line says when it grows a window.
VFLAG=-v run lan "$SSHD_PORT" "$L_LAN"
# The conn that carried the download (tnet probe's connection before it carried nothing).
id=$(sed -n 's/.*conn #\([0-9]*\) (blast) closed.* 16777216 down.*/\1/p' "$T/lan.log" | head -n 1)
open_ms=$(sed -n "s/.*conn #$id: channel open answered in \([0-9]*\) ms.*/\1/p" "$T/lan.log" | head -n 1)
n=$(grep -c "conn #$id: window to 8 MiB" "$T/lan.log")
if [ -z "$id" ] || [ -z "$open_ms" ]; then
	t_fail "loopback: the window stays 2 MiB" "no conn closed with 16777216 down, or no 'channel open answered' line for it"
elif [ "$open_ms" -ge 5 ]; then
	t_skip "loopback: the window stays 2 MiB" "the open took $open_ms ms here (a loaded machine): the path counts as long"
else
	t_eq "loopback (conn #$id's open answered in $open_ms ms): the window stays 2 MiB" "$n" 0
fi
t_done
