#!/bin/sh
# t-errors.sh: every bad input of the README's table "Bad input and the error it gets", tried for
# real: each case runs connect, and its exit status and error line must be the ones in that table
# (row found by its id in the first column; paths, ports and fingerprints shortened as there).
#
#   sh tests/t-errors.sh            the checks
#   sh tests/t-errors.sh --table    print the table rows from what connect says now (to paste)
. "$(dirname "$0")/lib.sh"
t_init errors

CONNECT=${CONNECT:-$TOP/tests/connect-asan}
README=$TOP/README.md
TABLE=${1:-}

sshd_start || { t_fail sshd "the test sshd did not start"; t_done; }
set -- $("$TNET" freeport 5)
P_WEB=$1 L_BUSY=$2 P_DEAD=$3 L_X=$4 L_V6=$5
serve_start --http "$P_WEB:web" || { t_fail services "did not start"; t_done; }
export XDG_CONFIG_HOME="$T/cfg" XDG_RUNTIME_DIR="$T/run"
mkdir -p "$T/cfg/connect" "$T/run" && chmod 700 "$T/run"
P=$T/cfg/connect/s.ini

# norm: the message as the README shows it: no timestamp or pid, short paths, fixed ports.
# getopt names the program by its argv[0]: $CONNECT, or under `make valgrind` (where $CONNECT is
# tests/valgrind-connect) the connect/connect that valgrind runs.
norm() {
	sed -e 's/^[0-9-]* [0-9:.]* connect\(\[[0-9]*\]\)\{0,1\}: /connect: /' -e "s|^$CONNECT: |connect: |" \
	    -e "s|^$TOP/connect/connect: |connect: |" \
	    -e "s|$T/cfg/connect|~/.config/connect|g" -e "s|$T/home/|~/|g" -e "s|$T/|~/.ssh/|g" \
	    -e "s|$HOME/|~/|g" \
	    -e "s|$SSHD_USER@|user@|g" -e "s|user $SSHD_USER|user user|g" \
	    -e "s/\([^0-9]\)$SSHD_PORT\([^0-9]\)/\12222\2/g" -e "s/\([^0-9]\)$SSHD_PORT\$/\12222/" \
	    -e "s/\([^0-9]\)$L_BUSY\([^0-9]\)/\18080\2/g" -e "s/\([^0-9]\)$P_DEAD\([^0-9]\)/\19999\2/g" \
	    -e "s/\([^0-9]\)$P_WEB\([^0-9]\)/\18080\2/g" \
	    -e 's/SHA256:[A-Za-z0-9+\/]*/SHA256:.../g' -e 's/(pid [0-9]*)/(pid N)/g' -e 's/pid [0-9]* (/pid N (/g' -e 's/channel [0-9]* error/channel N error/'
}

# studio LINES...: write the profile s.ini (mode 600): the test sshd, key and known_hosts, LINES
# (in [studio] unless they open a section), then one web forward to the service.
studio() {
	write_profile "$P" "default_forwards = no" "$@" "[forward web]" "local_port = $L_X" \
	    "remote_host = 127.0.0.1" "remote_port = $P_WEB"
	chmod 600 "$P"
}

# try ID RC DESCRIPTION CMD...: run CMD (30 s at most); the error line is its first log line at
# level error, else its first line starting "connect: ", else its first line. Checks RC and that
# line against README row ID.
try() {
	_id=$1 _rc=$2 _desc=$3
	shift 3
	timeout 30 "$@" >"$T/out" 2>&1 </dev/null
	_got=$?
	_line=$(norm <"$T/out" | grep -m 1 '^connect: error: ')
	[ -n "$_line" ] || _line=$(norm <"$T/out" | grep -m 1 '^connect: ')
	[ -n "$_line" ] || _line=$(norm <"$T/out" | head -n 1)
	if [ "$TABLE" = --table ]; then
		printf '| %s | %s | %s | `%s` |\n' "$_id" "$_desc" "$_got" "$_line"
		return
	fi
	_row=$(grep -F "| $_id | " "$README" | head -n 1)
	_want_rc=$(printf '%s\n' "$_row" | awk -F' [|] ' '{ print $3 }')
	_want=$(printf '%s\n' "$_row" | sed -n 's/.* | `\(.*\)` |$/\1/p')
	if [ -z "$_row" ]; then
		t_fail "$_id: $_desc" "no row '| $_id |' in README.md; connect says (exit $_got): $_line"
	elif [ "$_got" = "$_rc" ] && [ "$_want_rc" = "$_rc" ] && [ "$_line" = "$_want" ]; then
		t_pass "$_id: $_desc: exit $_rc, the README's message"
	else
		t_fail "$_id: $_desc" "exit $_got (want $_rc, README $_want_rc); said: $_line; README: $_want"
	fi
}

# ---------------------------------------------------------------- profiles
studio "colour = red"
try p1 78 "unknown key" $CONNECT s
studio "[keepalive]" "count = 500"
try p2 78 "number out of range" $CONNECT s
studio "[keepalive]" "interval = 5x"
try p3 78 "bad duration" $CONNECT s
studio "ciphers = aes128-ctr # the fast one"
try p4 78 "'#' comment after a value" $CONNECT s
studio "[tunnel]"
try p5 78 "unknown section" $CONNECT s
studio "host_key_policy = maybe"
try p6 78 "bad enum value" $CONNECT s
studio "[forward extra]" "remote_port = 9"
try p7 78 "new forward without local_port" $CONNECT s
studio "[forward x]" "local_port = $L_X" "bind = 10.0.0.999"
try p8 78 "bad bind address" $CONNECT s
printf '%s\n' "[studio]" "host = 127.0.0.1" >"$P"
chmod 600 "$P"
try p9 78 "no Studio id or user" $CONNECT s
printf '%s\n' "[studio]" "id = a/b" >"$P"
try p10 78 "bad Studio id" $CONNECT s
studio "[studio]"
try p11 78 "section twice" $CONNECT s
studio
chmod 666 "$P"
try p12 78 "profile writable by everyone" $CONNECT s
chmod 620 "$P"
try p14 78 "profile writable by its group" $CONNECT s
try p13 78 "no such profile" $CONNECT nosuch

# ---------------------------------------------------------------- command line
try c1 64 "unknown option" $CONNECT --frobnicate s
studio
try c2 64 "bad -L spec" $CONNECT -L 8080:localhost s
try c7 64 "-L with a bad remote host (found by make fuzz)" $CONNECT -L '8080:[[]:80' s
try c3 64 "bad --wait" $CONNECT -d --wait soon s
try c4 64 "init: bad id" $CONNECT init t --id 'x y'
try c10 64 "init: a name outside the profile directory" $CONNECT init ../evil --id abc
try c11 64 "init: a newline in a value" $CONNECT init t --id abc --host "x
host_key_policy = insecure-accept-any"
studio
try c5 73 "init over an existing profile" $CONNECT init s --id abc
try c6 3 "status of a tunnel that is not running" $CONNECT status s
try c8 64 "--id: another host's login" $CONNECT --id s_x@example.com
try c9 3 "stop: a name that is no tunnel" $CONNECT stop nosuch

# ---------------------------------------------------------------- keys and auth
# No identity set: Lightning's two places for its key, in an empty home.
studio
sed -i "/^identity = /d" "$P"
mkdir -p "$T/home"
_home=$HOME
HOME=$T/home
try k1 77 "no identity set, and no key where Lightning's tools put it" $CONNECT s
HOME=$_home
studio
sed -i "s|^identity = .*|identity = $T/nokey|" "$P"
try k5 77 "identity file missing" $CONNECT s
cp "$SSHD_KEY" "$T/k644" && chmod 644 "$T/k644"
studio
sed -i "s|^identity = .*|identity = $T/k644|" "$P"
try k2 77 "private key readable by others" $CONNECT s
ssh-keygen -q -t ed25519 -N 'a phrase' -f "$T/locked" </dev/null
studio
sed -i "s|^identity = .*|identity = $T/locked|" "$P"
try k3 77 "passphrase-protected key, no terminal" $CONNECT s
ssh-keygen -q -t ed25519 -N '' -f "$T/other" </dev/null
studio
sed -i "s|^identity = .*|identity = $T/other|" "$P"
try k4 77 "key not accepted by the server" $CONNECT s

# ---------------------------------------------------------------- the server and the ports
"$TNET" hold 127.0.0.1 "$P_WEB" --secs 1 >/dev/null 2>&1	# (just to warm the service)
studio
sed -i "s/^local_port = $L_X/local_port = $L_BUSY/" "$P"
t_bg "$TNET" serve --http "$L_BUSY:busy" >/dev/null 2>&1
wait_port "$L_BUSY"
try n1 73 "local port busy" $CONNECT s
studio "host_key_policy = strict"
rm -f "$T/known_hosts"
try n2 76 "unknown host key, strict" $CONNECT s
studio
$CONNECT check s >/dev/null 2>&1
$CONNECT -d s >/dev/null 2>&1 && $CONNECT stop s >/dev/null 2>&1	# records the key (accept-new)
sshd_swap_hostkeys >/dev/null 2>&1
try n3 76 "host key changed" $CONNECT s
rm -f "$T/known_hosts"
studio
sed -i "s/^remote_port = $P_WEB/remote_port = $P_DEAD/" "$P"
try n4 69 "-d: remote service not listening" $CONNECT -d --wait 6 s
studio "[reconnect]" "max_tries = 2" "backoff_max = 250ms"
sed -i "s/^port = .*/port = $P_DEAD/" "$P"
try n5 69 "sshd not reachable, max_tries = 2" $CONNECT s

# One port, two forwards: a on the default 127.0.0.1 (which listens on [::1] too, as ssh -L does for
# localhost) and b with bind = ::1. Whichever comes first in the profile, both work and the log names
# forward b as the one [::1] belongs to, not "another program" (and not "already in use", a's own
# [::1] listener, when a came first). Not a row of the table: nothing fails.
if has_ipv6_loopback; then
	for order in "a b" "b a"; do
		set -- $order
		write_profile "$P" "default_forwards = no" "$(fwd "$1" "$L_V6" "$P_WEB" \
		    "$([ "$1" = b ] && echo 'bind = ::1')")" "$(fwd "$2" "$L_V6" "$P_WEB" \
		    "$([ "$2" = b ] && echo 'bind = ::1')")"
		chmod 600 "$P"
		n=$(wc -l <"$T/connect.log" 2>/dev/null || echo 0)
		connect_start s
		wait_log "$T/connect.log" "connected to|error" 15 "$n"
		g4=$(curl -s -m 5 "http://127.0.0.1:$L_V6/") g6=$(curl -s -g -m 5 "http://[::1]:$L_V6/")
		alive=$(t_alive "$CONNECT_PID" && echo yes)
		connect_stop >/dev/null
		out=$(tail -n +"$((n + 1))" "$T/connect.log" | norm)
		if [ "$alive" = yes ] && [ "$g4" = "service web" ] && [ "$g6" = "service web" ] &&
		    echo "$out" | grep -q "warn: forward a: \[::1\] port $L_V6 is forward b's (bind ::1, ~/.config/connect/s.ini:[0-9]* (key local_port in \[forward b\])): IPv6 clients of localhost:$L_V6 reach forward b, not forward a; give one of them another local_port to keep them apart" &&
		    ! echo "$out" | grep -q "another program\|already in use"; then
			t_pass "forwards $1, $2 on one port (127.0.0.1 and bind = ::1): both work, the log names forward b"
		else
			t_fail "forwards $1, $2 on one port" "alive '$alive', 127.0.0.1 '$g4', [::1] '$g6': $out"
		fi
	done
else
	t_skip "two forwards on one port, 127.0.0.1 and ::1" "no IPv6 loopback on this machine"
fi
t_done
