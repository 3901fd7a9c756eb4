#!/bin/sh
# t-check.sh: `connect check` against a real OpenSSH sshd on loopback: a table of broken setups,
# each caught at its own step with its own message and exit code, and the all-good case; then
# readiness (supervisor_verify(), driven by tests/verify-asan) through the same sshd.
. "$(dirname "$0")/lib.sh"
t_init check

CONNECT=${CONNECT:-$TOP/tests/connect-asan}
VERIFY=$TOP/tests/verify-asan

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): check tests cannot run"
	t_done
fi

set -- $("$TNET" freeport 14)
P_WEB=$1 P_API=$2 P_ECHO=$3 P_SINK=$4 P_DEAD=$5 P_LATE=$6 P_NOSSH=$7 P_STALL=$8
L_WEB=$9
shift 9
L_API=$1 L_ECHO=$2 L_SINK=$3 L_DEAD=$4 L_STALL=$5
if ! serve_start --http "$P_WEB:web" --http "$P_API:api" --echo "$P_ECHO" --sink "$P_SINK"; then
	t_fail services "tnet serve did not start"
	t_done
fi
# A port whose connects hang (SYNs dropped): the server never answers a channel open to it.
if ! serve_start --stall "$P_STALL"; then
	t_fail services "tnet serve --stall did not start"
	t_done
fi
STALL_PID=$SERVE_PID

# Nothing from this machine's ssh setup leaks in: an empty ssh config, no agent.
: >"$T/ssh_config"
CONNECT_SSH_CONFIG=$T/ssh_config
export CONNECT_SSH_CONFIG
unset SSH_AUTH_SOCK

GOOD_FWDS="default_forwards = no
[reconnect]
connect_timeout = 2s
$(fwd web "$L_WEB" "$P_WEB")
$(fwd api "$L_API" "$P_API" "health = /debug.ping")"
write_profile "$T/good.ini" "$GOOD_FWDS"

# re_escape STRING: STRING as a grep -E pattern matching itself (fingerprints hold '+' and '/').
re_escape() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# check_run NAME FILE...: run `connect -F FILE check` (no terminal), output to $T/NAME.out;
# sets RC.
check_run() {
	_cr_name=$1
	shift
	"$CONNECT" "$@" check </dev/null >"$T/$_cr_name.out" 2>&1
	RC=$?
}

# step_lines FILE: the step lines ("name ok|FAIL text"), without fix lines and log lines.
step_lines() {
	grep -E '^[a-z_]+( [A-Za-z0-9._-]+)? +(ok|FAIL)  ' "$1"
}

# expect_fail NAME RC STEP PATTERN: the run NAME exited RC, its one FAIL line is the last step
# line, names STEP and matches PATTERN (grep -E), every step line before it is ok, and a fix
# line follows it.
expect_fail() {
	_ef_out=$T/$1.out
	_ef_fail=$(grep -E ' FAIL  ' "$_ef_out")
	_ef_step=$(printf '%s\n' "$_ef_fail" | sed 's/ *FAIL  .*//')
	_ef_last=$(step_lines "$_ef_out" | tail -n 1)
	_ef_notok=$(step_lines "$_ef_out" | grep -Ecv ' +ok  ')
	if [ "$RC" = "$2" ] && [ "$(printf '%s\n' "$_ef_fail" | grep -c .)" = 1 ] &&
	    [ "$_ef_step" = "$3" ] && printf '%s\n' "$_ef_fail" | grep -Eq -- "$4" &&
	    [ "$_ef_last" = "$_ef_fail" ] && [ "$_ef_notok" = 1 ] &&
	    grep -A1 -E ' FAIL  ' "$_ef_out" | grep -q '^ *fix: '; then
		t_pass "check: $1: caught at '$3', exit $2"
	else
		t_fail "check: $1" "expected exit $2 at step '$3' matching '$4'; got exit $RC:"
		sed 's/^/  | /' "$_ef_out"
	fi
}

# --- a local port already taken: the tunnel would fail with 73; check says so first, naming the
# holder (a tnet serve of this test: ours to look at in /proc).
L_TAKEN=$(sed -n 's/^local_port = //p' "$T/good.ini" | head -n 1)
serve_start --http "$L_TAKEN:squatter"
TAKER=$SERVE_PID
check_run taken -F "$T/good.ini"
if [ "$RC" = 73 ] && grep -q "port web .*FAIL .*127.0.0.1:$L_TAKEN is in use by pid $TAKER (tnet)" \
    "$T/taken.out" && grep -q "fix: stop what listens there, or change the port" "$T/taken.out"; then
	t_pass "check: a local port in use fails the 'port' step (73), naming pid and program"
else
	t_fail "check: local port in use" "exit $RC:"
	sed 's/^/  | /' "$T/taken.out"
fi
# The holder of the very address: with 127.0.0.1:PORT still tnet's and [::1]:PORT another program's,
# a forward with bind = ::1 names the second (by port alone the first was named).
if has_ipv6_loopback; then
	t_bg python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.bind(("::1", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
time.sleep(60)' "$L_TAKEN" >"$T/v6hold.out" 2>&1
	V6PID=$T_LASTPID
	write_profile "$T/v6.ini" "default_forwards = no" "$(fwd web "$L_TAKEN" "$P_WEB" "bind = ::1")"
	listening=$(wait_log "$T/v6hold.out" listening 10 && echo yes)
	check_run v6taken -F "$T/v6.ini"
	if [ "$listening" = yes ] && [ "$RC" = 73 ] &&
	    grep -q "port web .*FAIL .*::1:$L_TAKEN is in use by pid $V6PID (python" "$T/v6taken.out"; then
		t_pass "check: the holder of the forward's own address is named ([::1], not 127.0.0.1's)"
	else
		t_fail "check: holder of [::1]" "listening '$listening' ($(cat "$T/v6hold.out")), exit $RC:"
		sed 's/^/  | /' "$T/v6taken.out"
	fi
	t_stop "$V6PID" >/dev/null
else
	t_skip "check: the holder of [::1]" "no IPv6 loopback on this machine"
fi
t_stop "$TAKER" >/dev/null

# --- the all-good case, twice: a new host key (accept-new), then a recorded one (strict) ------
rm -f "$T/known_hosts"
check_run good -F "$T/good.ini"
want="profile key known_hosts port web port api dns tcp handshake auth forward web forward api"
got=$(step_lines "$T/good.out" | grep -E ' +ok  ' | sed 's/  *ok  .*//' | tr '\n' ' ' | sed 's/ $//')
if [ "$RC" = 0 ] && [ "$got" = "$want" ] && grep -q 'unknown: will be recorded on first connect' \
    "$T/good.out" && grep -q "forward api .*GET /debug.ping answered 200" "$T/good.out"; then
	t_pass "check: all good: exit 0, every step ok in order, new host key noted"
else
	t_fail "check: all good" "exit $RC, steps '$got' (want '$want'):"
	sed 's/^/  | /' "$T/good.out"
fi
if [ ! -e "$T/known_hosts" ]; then
	t_pass "check: writes nothing (the new host key is not recorded)"
else
	t_fail "check: writes nothing" "$T/known_hosts was created: $(cat "$T/known_hosts")"
fi

echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")" >"$T/known_hosts"
write_profile "$T/strict-good.ini" "host_key_policy = strict" "$GOOD_FWDS"
check_run strict-good -F "$T/strict-good.ini"
fp=$(sshd_fingerprint)
if [ "$RC" = 0 ] && grep -Eq "^known_hosts  ok .*\[127.0.0.1\]:$SSHD_PORT ssh-ed25519 $(re_escape "$fp")" \
    "$T/strict-good.out" && grep -q "^handshake .*matches known_hosts" "$T/strict-good.out"; then
	t_pass "check: recorded key under strict: exit 0, known_hosts entry and match shown"
else
	t_fail "check: recorded key under strict" "exit $RC:"
	sed 's/^/  | /' "$T/strict-good.out"
fi

# --- check while the tunnel itself runs on the same profile (its ports bound) ----------------
connect_start -F "$T/good.ini"
if wait_log "$T/connect.log" "connected to" 15; then
	check_run while-up -F "$T/good.ini"
	if [ "$RC" = 0 ]; then
		t_pass "check: passes while the tunnel runs (binds no local port)"
	else
		t_fail "check: while the tunnel runs" "exit $RC: $(cat "$T/while-up.out")"
	fi
else
	t_fail "check: while the tunnel runs" "the tunnel did not come up: $(tail -3 "$T/connect.log")"
fi
connect_stop

# --- the table of broken setups --------------------------------------------------------------
rm -f "$T/known_hosts"

# Profile: missing (no ini, no Host block), and a syntax error.
mkdir -p "$T/cfg"
XDG_CONFIG_HOME=$T/cfg "$CONNECT" check nosuch </dev/null >"$T/missing-profile.out" 2>&1
RC=$?
expect_fail missing-profile 78 profile "no profile 'nosuch'"
cp "$T/good.ini" "$T/syntax.ini"
echo "bogus_key = 1" >>"$T/syntax.ini"
check_run syntax -F "$T/syntax.ini"
expect_fail syntax 78 profile "syntax.ini:[0-9]+: unknown key 'bogus_key'"

# Key: missing, group-readable, passphrase-protected (no terminal), not accepted by the server.
sed "s|^identity = .*|identity = $T/nokey|" "$T/good.ini" >"$T/nokey.ini"
check_run key-missing -F "$T/nokey.ini"
expect_fail key-missing 77 key "$T/nokey does not exist"

# No identity set: ~/.ssh/lightning_rsa (lightning ssh configure) if it exists, else
# ~/.lightning/lightning_rsa (the SDK's lightning studio ssh); both named when neither exists.
sed "/^identity = /d" "$T/good.ini" >"$T/noid.ini"
mkdir -p "$T/h1/.lightning" "$T/h2/.ssh" "$T/h2/.lightning" "$T/h3"
cp "$SSHD_KEY" "$T/h1/.lightning/lightning_rsa"
cp "$SSHD_KEY" "$T/h2/.ssh/lightning_rsa"
ssh-keygen -q -t ed25519 -N '' -f "$T/h2/.lightning/lightning_rsa" </dev/null
HOME=$T/h1 "$CONNECT" -F "$T/noid.ini" check </dev/null >"$T/h1.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^key  *ok  *$T/h1/.lightning/lightning_rsa (" "$T/h1.out"; then
	t_pass "check: no identity set, only ~/.lightning/lightning_rsa: that key, logged in"
else
	t_fail "check: key in ~/.lightning" "exit $rc:"
	sed 's/^/  | /' "$T/h1.out"
fi
HOME=$T/h2 "$CONNECT" -F "$T/noid.ini" check </dev/null >"$T/h2.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^key  *ok  *$T/h2/.ssh/lightning_rsa (" "$T/h2.out"; then
	t_pass "check: no identity set, both keys: ~/.ssh/lightning_rsa first"
else
	t_fail "check: both default keys" "exit $rc:"
	sed 's/^/  | /' "$T/h2.out"
fi
_home=$HOME; HOME=$T/h3 && check_run key-none -F "$T/noid.ini"; HOME=$_home
expect_fail key-none 77 key "neither $T/h3/.ssh/lightning_rsa .* nor $T/h3/.lightning/lightning_rsa"

cp "$SSHD_KEY" "$T/groupkey"
chmod 640 "$T/groupkey"
sed "s|^identity = .*|identity = $T/groupkey|" "$T/good.ini" >"$T/groupkey.ini"
check_run key-mode -F "$T/groupkey.ini"
expect_fail key-mode 77 key "has mode 0640.*chmod 600"

ssh-keygen -q -t ed25519 -N 'a passphrase' -f "$T/lockedkey" </dev/null
sed "s|^identity = .*|identity = $T/lockedkey|" "$T/good.ini" >"$T/locked.ini"
check_run key-locked -F "$T/locked.ini"
expect_fail key-locked 77 key "passphrase-protected and there is no terminal"

ssh-keygen -q -t ed25519 -N '' -f "$T/wrongkey" </dev/null
sed "s|^identity = .*|identity = $T/wrongkey|" "$T/good.ini" >"$T/wrongkey.ini"
check_run key-wrong -F "$T/wrongkey.ini"
expect_fail key-wrong 77 auth "refused authentication; tried: $T/wrongkey"

# Host keys: unknown under strict; changed (known_hosts holds another key for this host:port).
rm -f "$T/known_hosts"
check_run strict-unknown -F "$T/strict-good.ini"
expect_fail strict-unknown 76 known_hosts "\[127.0.0.1\]:$SSHD_PORT: unknown .*strict"

ssh-keygen -q -t ed25519 -N '' -f "$T/otherhost" </dev/null
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/otherhost.pub")" >"$T/known_hosts"
old=$(ssh-keygen -l -E sha256 -f "$T/otherhost.pub" | cut -d' ' -f2)
check_run hostkey-changed -F "$T/good.ini"
expect_fail hostkey-changed 76 handshake \
    "HOST KEY CHANGED.*$(re_escape "$old").*offered ssh-ed25519 $(re_escape "$fp")"
rm -f "$T/known_hosts"

# Network: a name that cannot resolve; a closed port.
sed 's/^host = .*/host = nosuch.invalid/' "$T/good.ini" >"$T/dns.ini"
check_run dns -F "$T/dns.ini"
expect_fail dns 69 dns "nosuch.invalid"
sed "s/^port = .*/port = $P_NOSSH/" "$T/good.ini" >"$T/tcp.ini"
check_run tcp -F "$T/tcp.ini"
expect_fail tcp 69 tcp "port $P_NOSSH.*Connection refused"

# Forwards: remote port not listening; health answering 502; a reply that is not HTTP (an echo
# service); a service that never answers (a sink: connect_timeout is the limit).
write_profile "$T/dead.ini" "$GOOD_FWDS" "$(fwd dead "$L_DEAD" "$P_DEAD")"
check_run remote-dead -F "$T/dead.ini"
expect_fail remote-dead 69 "forward dead" \
    "127.0.0.1:$P_DEAD refused the channel \(remote port not listening\?\): .*[Cc]onnect"
write_profile "$T/h502.ini" "default_forwards = no" "$(fwd web "$L_WEB" "$P_WEB")" \
    "$(fwd api "$L_API" "$P_API" "health = /status/502")"
check_run health-502 -F "$T/h502.ini"
expect_fail health-502 69 "forward api" "127.0.0.1:$P_API: GET /status/502 answered 502"
write_profile "$T/echo.ini" "$GOOD_FWDS" "$(fwd echo "$L_ECHO" "$P_ECHO" "health = /debug.ping")"
check_run health-not-http -F "$T/echo.ini"
expect_fail health-not-http 69 "forward echo" "GET /debug.ping: the reply is not HTTP"
write_profile "$T/sink.ini" "$GOOD_FWDS" "$(fwd sink "$L_SINK" "$P_SINK" "health = /debug.ping")"
check_run health-timeout -F "$T/sink.ini"
expect_fail health-timeout 75 "forward sink" "GET /debug.ping got no status line within 2.0 s"
write_profile "$T/stall.ini" "$GOOD_FWDS" "$(fwd stall "$L_STALL" "$P_STALL" "health = /debug.ping")"
check_run open-timeout -F "$T/stall.ini"
expect_fail open-timeout 75 "forward stall" "did not answer the channel open within 2.0 s"

# --- the command line ----------------------------------------------------------------------------
"$CONNECT" check --help >"$T/help.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q "usage: connect .*check" "$T/help.out"; then
	t_pass "check --help: usage, exit 0"
else
	t_fail "check --help" "exit $rc: $(cat "$T/help.out")"
fi
"$CONNECT" check one two </dev/null >"$T/usage.out" 2>&1
t_eq "check one two: exit 64" "$?" 64

# --- readiness: supervisor_verify() through the tunnel ---------------------------------------
if [ ! -x "$VERIFY" ]; then
	t_skip "verify" "$VERIFY is missing (make tests/verify-asan)"
	t_done
fi

# verify_run NAME PROFILE ROUND...: run the driver (ROUND: a timeout in ms, 'r' appended for
# SUP_VERIFY_RETRY; one verification after the other); output in $T/v-NAME.out, RC set.
verify_run() {
	_vr_name=$1
	shift
	"$VERIFY" "$@" </dev/null >"$T/v-$_vr_name.out" 2>"$T/v-$_vr_name.log"
	RC=$?
}

# expect_verify NAME RC PATTERN: the last report has code RC and matches PATTERN.
expect_verify() {
	_ev_last=$(grep '^verify: ' "$T/v-$1.out" | tail -n 1)
	if [ "$RC" = "$2" ] && printf '%s\n' "$_ev_last" | grep -Eq -- "^verify: $2 $3"; then
		t_pass "verify: $1: $2"
	else
		t_fail "verify: $1" "expected exit $2 and 'verify: $2 $3'; got exit $RC:"
		sed 's/^/  | /' "$T/v-$1.out" "$T/v-$1.log"
	fi
}

verify_run good "$T/good.ini" 10000 10000
if [ "$RC" = 0 ] && [ "$(grep -c '^verify: 0 $' "$T/v-good.out")" = 2 ]; then
	t_pass "verify: all forwards pass: 0, and again 0 on the same tunnel"
else
	t_fail "verify: all good" "exit $RC: $(cat "$T/v-good.out" "$T/v-good.log")"
fi
verify_run h502 "$T/h502.ini" 10000
expect_verify h502 69 "forward api: 127.0.0.1:$P_API: GET /status/502 answered 502"
verify_run dead "$T/dead.ini" 10000
expect_verify dead 69 "forward dead: 127.0.0.1:$P_DEAD refused the channel \(remote port not listening\?\)"
# The round's time includes the SSH set-up, so it is not cut short for the probe's answer.
verify_run sink "$T/sink.ini" 5000
expect_verify sink 75 "forward sink: .*no status line within"
verify_run no-sshd "$T/tcp.ini" 2000
expect_verify no-sshd 75 "not ready within 2.0 s: cannot connect to 127.0.0.1 port $P_NOSSH"
verify_run key-wrong "$T/wrongkey.ini" 10000
expect_verify key-wrong 77 ".*refused authentication"

# A service that comes up late: refused at first, retried every second until it answers.
write_profile "$T/late.ini" "default_forwards = no" "$(fwd late "$L_WEB" "$P_LATE" "health = /debug.ping")"
"$VERIFY" -v "$T/late.ini" 15000r </dev/null >"$T/v-late.out" 2>"$T/v-late.log" &
VP=$!
t_track "$VP"
# Started once the first probe was refused, however long the session took to come up.
wait_log "$T/v-late.log" "forward late: .*refused the channel.*; again in" 15
serve_start --http "$P_LATE:late"
t_wait_exit "$VP" 20
RC=$?
expect_verify late 0 ""
if grep -q "forward late: .*refused the channel.*; again in" "$T/v-late.log"; then
	t_pass "verify: --retry: the refused forward was probed again until it answered"
else
	t_fail "verify: --retry" "no refused-then-retried probe in the log:"
	grep verify "$T/v-late.log" | tail -n 5 | sed 's/^/  | /'
fi

# A probe gives up while its channel open is unanswered; the answer comes later (the stalled
# port is replaced by a service): the late channel is closed and the first verification freed
# while the tunnel runs on. When the answer comes rides on sshd's SYN retransmissions (1, 3,
# 7, 15 s), so the second round waits for the log line instead of a guessed time.
"$VERIFY" -v "$T/stall.ini" 5000 usr1 15000r </dev/null >"$T/v-orphan.out" 2>"$T/v-orphan.log" &
VP=$!
t_track "$VP"
if wait_log "$T/v-orphan.out" "^verify: 75 forward stall: .*did not answer the channel open" 20
then
	t_stop "$STALL_PID" TERM 5
	serve_start --http "$P_STALL:stall"
	wait_log "$T/v-orphan.log" "probe stall: the channel open was answered late" 25
	kill -USR1 "$VP"
fi
t_wait_exit "$VP" 25
RC=$?
expect_verify orphan 0 ""
# Freed before the stop: the first verification, let go on the late answer (the second one is
# freed after it reports, which stops the driver).
_freed=$(sed '/stopping: verified/q' "$T/v-orphan.log" | grep -c 'verify 0x[0-9a-f]*: freed')
if grep -q "probe stall: the channel open was answered late" "$T/v-orphan.log" &&
    [ "$_freed" = 1 ]; then
	t_pass "verify: an open answered after its probe gave up: channel closed, verification freed"
else
	t_fail "verify: open answered late" "$(grep -E 'verify|probe stall' "$T/v-orphan.log" | tail -12)"
fi

# The session dies while a probe is out: the probe is repeated on the next session.
"$VERIFY" -v "$T/sink.ini" 12000 </dev/null >"$T/v-lost.out" 2>"$T/v-lost.log" &
VP=$!
t_track "$VP"
if wait_log "$T/v-lost.log" "probe sink: sending -> reading" 10; then
	sshd_signal_sessions KILL
fi
t_wait_exit "$VP" 30
RC=$?
if [ "$RC" = 75 ] && grep -q "reading -> done (session lost" "$T/v-lost.log" &&
    grep -q "reconnected to" "$T/v-lost.log" &&
    [ "$(grep -c 'probe sink: opening a channel' "$T/v-lost.log")" = 2 ]; then
	t_pass "verify: session lost during a probe: waited for the next session and probed again"
else
	t_fail "verify: session lost during a probe" "exit $RC: $(cat "$T/v-lost.out")"
	grep -E 'verify|probe|session' "$T/v-lost.log" | tail -n 20 | sed 's/^/  | /'
fi

t_done
