#!/bin/sh
# t-background.sh: connect -d (readiness, idempotence, failures that leave nothing behind), the
# runtime files, status/stop/list/init, the control socket's uid check, SIGHUP, sd_notify, and the
# agent entrypoint, against a real OpenSSH sshd on loopback.
. "$(dirname "$0")/lib.sh"
t_init background

CONNECT=${CONNECT:-$TOP/tests/connect-asan}
# How a connect process's command line starts, for pgrep -f (a regular expression): $CONNECT, or
# under qemu-user what run.sh's arm64 pass says (qemu's own command line, then tests/qemu-arm64's).
CMDLINE=${CONNECT_CMDLINE:-$CONNECT}

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): integration tests cannot run"
	t_done
fi

set -- $($TNET freeport 12)
P_WEB=$1 P_API=$2 P_FILES=$3 P_ECHO=$4 P_DEAD=$5
L_WEB=$6 L_API=$7 L_FILES=$8 L_ECHO=$9
shift 9
L_BUSY=$1 L_X=$2 L_Y=$3
services_start "$P_WEB" "$P_API" "$P_FILES" --echo "$P_ECHO"

export XDG_CONFIG_HOME="$T/cfg" XDG_RUNTIME_DIR="$T/run"
mkdir -p "$T/cfg/connect" "$T/run"
RUN=$T/run/connect
# The ClearML trio: web, api (health /debug.ping, built in), files; plus an echo forward.
write_profile "$T/cfg/connect/st.ini" "default_forwards = no" "" \
    "$(fwd web "$L_WEB" "$P_WEB")" "$(fwd api "$L_API" "$P_API" "health = /debug.ping")" \
    "$(fwd files "$L_FILES" "$P_FILES")" "$(fwd echo "$L_ECHO" "$P_ECHO")" \
    "[keepalive]" "interval = 3s" "count = 3" "" "[reconnect]" "backoff_max = 1s"

get() { curl -s -m 5 "http://127.0.0.1:$1/"; }
# bounce_sshd LPORT NAME: kill sshd and its sessions, restart it 1 s later; true once the forward on
# LPORT answers "service NAME" again (within 10 s).
bounce_sshd() {
	sshd_stop
	sleep 1
	sshd_restart
	for _b_i in $(seq 1 50); do
		[ "$(get "$1")" = "service $2" ] && return 0
		sleep 0.2
	done
	return 1
}
# no_instance NAME: no file of NAME's in the runtime dir and no process running its profile.
no_instance() {
	[ ! -e "$RUN/$1.pid" ] && [ ! -e "$RUN/$1.sock" ] && [ -z "$(instance_pids "$1")" ]
}
# instance_pids NAME [XDG_RUNTIME_DIR]: the `-d NAME` processes of this script, told from those of
# another test run on the machine (same profile name) by their runtime directory ($T/run).
instance_pids() {
	for _ip in $(pgrep -f -- "-d.* $1\$"); do
		tr '\0' '\n' <"/proc/$_ip/environ" 2>/dev/null |
		    grep -qx "XDG_RUNTIME_DIR=${2:-$T/run}" && echo "$_ip"
	done
}
# instance_left NAME: what no_instance found, for a failure message.
instance_left() {
	printf 'files: %s; processes: %s' "$(ls "$RUN" | tr '\n' ' ')" "$(instance_pids "$1" | tr '\n' ' ')"
}

# ---------------------------------------------------------------- -d: ready means ready
$CONNECT -d st >"$T/d1.out" 2>&1
rc=$?
w=$(get "$L_WEB") a=$(get "$L_API") f=$(get "$L_FILES")
if [ $rc = 0 ] && [ "$w" = "service web" ] && [ "$a" = "service api" ] && [ "$f" = "service files" ]
then
	t_pass "-d exits 0 once ready; a request through each forward right after it succeeds"
else
	t_fail "-d readiness" "exit $rc, got '$w' '$a' '$f': $(cat "$T/d1.out")"
fi
PID=$(cat "$RUN/st.pid" 2>/dev/null)
if t_alive "$PID" && grep -q "ready (pid $PID)" "$T/d1.out"; then
	t_pass "-d leaves the daemon running; its pid file names it"
else
	t_fail "-d daemon" "pid '$PID': $(cat "$T/d1.out")"
fi
modes="$(stat -c %a "$RUN") $(stat -c %a "$RUN/st.sock") $(stat -c %a "$RUN/st.log")"
if [ "$modes" = "700 600 600" ]; then
	t_pass "runtime dir 0700, control socket and log 0600"
else
	t_fail "runtime file modes" "dir/sock/log: $modes"
fi

$CONNECT -d st >"$T/d2.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "already running (pid $PID)" "$T/d2.out" &&
    [ "$(cat "$RUN/st.pid")" = "$PID" ]; then
	t_pass "-d again is a no-op: 'already running', exit 0, same daemon"
else
	t_fail "-d idempotent" "exit $rc: $(cat "$T/d2.out")"
fi

$CONNECT st >"$T/fg2.out" 2>&1
rc=$?
if [ $rc = 73 ] && grep -q "already running" "$T/fg2.out"; then
	t_pass "a foreground run of a running tunnel is refused (73) and says why"
else
	t_fail "foreground while running" "exit $rc: $(cat "$T/fg2.out")"
fi

# ---------------------------------------------------------------- status after a known transfer
# field FORWARD KEY: a number from that forward's object in $T/st.json.
field() {
	tr '{' '\n' <"$T/st.json" | grep "\"name\":\"$1\"" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}
# The counters before: the readiness requests above went through too.
$CONNECT status st --json >"$T/st.json" 2>&1
t0=$(field web total) u0=$(field web bytes_up) d0=$(field web bytes_down)
# 3 web requests (sizes as curl counts them) and 100000 bytes through the echo forward.
up=0 down=0
for i in 1 2 3; do
	s=$(curl -s -m 5 -o /dev/null -w '%{size_request} %{size_header} %{size_download}' \
	    "http://127.0.0.1:$L_WEB/")
	set -- $s
	up=$((up + $1)) down=$((down + $2 + $3))
done
$TNET echo 127.0.0.1 "$L_ECHO" --bytes 100000 >/dev/null 2>&1 || t_fail "echo transfer" "failed"
$CONNECT status st --json >"$T/st.json" 2>&1
got="$(($(field web total) - t0)) $(($(field web bytes_up) - u0)) $(($(field web bytes_down) - d0))"
got="$got $(field web open)"
if [ "$got" = "3 $up $down 0" ]; then
	t_pass "status --json: 3 more web connections, bytes up +$up / down +$down exactly, 0 open"
else
	t_fail "status --json web counts" "want '3 $up $down 0', got '$got': $(cat "$T/st.json")"
fi
got="$(field echo total) $(field echo bytes_up) $(field echo bytes_down)"
if [ "$got" = "1 100000 100000" ]; then
	t_pass "status --json: echo forward 100000 bytes each way"
else
	t_fail "status --json echo counts" "got '$got'"
fi
if grep -q "\"state\":\"ready\"" "$T/st.json" && grep -q "\"pid\":$PID," "$T/st.json"; then
	t_pass "status --json: state ready, the daemon's pid"
else
	t_fail "status --json state" "$(cat "$T/st.json")"
fi
# Where it goes and where it comes from: the login, the profile file, the log; and -d's URLs.
if grep -q "\"login\":\"$SSHD_USER@127.0.0.1:$SSHD_PORT\"" "$T/st.json" &&
    grep -q "\"profile\":\"$T/cfg/connect/st.ini\"" "$T/st.json" &&
    grep -q "\"log\":\"$RUN/st.log\"" "$T/st.json" &&
    $CONNECT status st | grep -q "^  $SSHD_USER@127.0.0.1 port $SSHD_PORT  profile $T/cfg/connect/st.ini  log $RUN/st.log" &&
    grep -q "^open web UI http://localhost:$L_WEB, API http://localhost:$L_API, files http://localhost:$L_FILES" "$T/d1.out"
then
	t_pass "status shows user@host, the profile and the log; -d ends with the URLs to open"
else
	t_fail "status where / -d URLs" "$(cat "$T/st.json"; $CONNECT status st; cat "$T/d1.out")"
fi
out=$($CONNECT status nosuch --json 2>/dev/null)
rc=$?
if [ $rc = 3 ] && [ "$out" = '{"name":"nosuch","state":"stopped"}' ]; then
	t_pass "status NAME --json of a stopped name: an object with its state, exit 3"
else
	t_fail "status --json stopped" "exit $rc: '$out'"
fi
$CONNECT status >"$T/st.txt" 2>&1
if grep -q "^st  ready  pid $PID" "$T/st.txt" && grep -q "web .*127.0.0.1:$L_WEB -> .*total $((t0 + 3))" "$T/st.txt"
then
	t_pass "status (table): state line and per-forward counters"
else
	t_fail "status table" "$(cat "$T/st.txt")"
fi
$CONNECT list >"$T/list.txt" 2>&1
if grep -q "^st  *ready (pid $PID)" "$T/list.txt"; then
	t_pass "list shows the profile as running"
else
	t_fail "list" "$(cat "$T/list.txt")"
fi
# Host blocks that point at Lightning (as lightning ssh configure writes them) are listed; others not.
printf '%s\n' "Host lightalias" "  User s_01abc" "  Hostname ssh.lightning.ai" \
    "  IdentitiesOnly yes" "  StrictHostKeyChecking no" "  UserKnownHostsFile=/dev/null" "" \
    "Host otherbox *.example" "  HostName example.com" >"$T/lsshcfg"
out=$(CONNECT_SSH_CONFIG=$T/lsshcfg $CONNECT list 2>&1)
names=$(CONNECT_SSH_CONFIG=$T/lsshcfg $CONNECT list --names 2>&1 | tr '\n' ' ')
if echo "$out" | grep -q "^lightalias  *stopped  *Host lightalias in ~/.ssh/config" &&
    ! echo "$out" | grep -q otherbox && echo " $names" | grep -q " lightalias " &&
    echo " $names" | grep -q " st "; then
	t_pass "list: ssh config Hosts of Lightning too (not others); --names for completion"
else
	t_fail "list ssh aliases" "$out; names: $names"
fi

# A -F file whose name is not UTF-8 (\xff\xfe) and holds a C1 control (U+009B, CSI): that name
# reaches status --json as the name, the profile and the log path, and JSON must be valid UTF-8
# (RFC 8259): each bad byte is U+FFFD there, the control \u009b.
BADNAME=$(printf 'bad\377\376\302\233')
write_profile "$T/$BADNAME.ini" "default_forwards = no" "$(fwd x "$L_X" "$P_WEB")"
chmod 600 "$T/$BADNAME.ini"
$CONNECT -F "$T/$BADNAME.ini" -d >"$T/bad-d.out" 2>&1
$CONNECT status "$BADNAME" --json >"$T/bad.json" 2>&1
$CONNECT status --json >"$T/all.json" 2>&1
$CONNECT stop "$BADNAME" >/dev/null 2>&1
got=$(python3 -c 'import json, sys
for f in sys.argv[1:]:
    j = json.loads(open(f, "rb").read().decode("utf-8"))
    for o in j if isinstance(j, list) else [j]:
        if o["name"].startswith("bad"):
            print(ascii(o["name"]), o["profile"].endswith("/bad\ufffd\ufffd\x9b.ini"), o["state"])
' "$T/bad.json" "$T/all.json" 2>&1 | tr '\n' ' ')
if [ "$got" = "'bad\\ufffd\\ufffd\\x9b' True ready 'bad\\ufffd\\ufffd\\x9b' True ready " ] &&
    grep -q '"name":"bad\\ufffd\\ufffd\\u009b"' "$T/bad.json"; then
	t_pass "status --json of a -F name that is not UTF-8: valid JSON, U+FFFD per bad byte, \\u009b"
else
	t_fail "status --json invalid UTF-8" "python: $got; $(od -c "$T/bad.json" | head -5); -d: $(cat "$T/bad-d.out")"
fi

# ---------------------------------------------------------------- control socket: other uids
if t_is_root && command -v setpriv >/dev/null 2>&1; then
	# Open the directories up (as a careless setup would): the uid check must still refuse.
	chmod o+x "$T" "$T/run" "$RUN"
	chmod 666 "$RUN/st.sock"
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$TNET" unix "$RUN/st.sock" status 2>&1)
	chmod 700 "$RUN"
	chmod 600 "$RUN/st.sock"
	if [ -z "$out" ] && wait_log "$RUN/st.log" "refused a connection from uid 65534" 5; then
		t_pass "control socket refuses another uid (65534), with a log line"
	else
		t_fail "control socket uid check" "reply '$out'; log: $(tail -2 "$RUN/st.log")"
	fi
	own=$("$TNET" unix "$RUN/st.sock" status)
	case $own in
	"st  ready"*) t_pass "... and still answers its own uid" ;;
	*) t_fail "control socket own uid" "reply '$own'" ;;
	esac
else
	t_skip "control socket refuses another uid" "needs root and setpriv to act as another uid"
fi

# ---------------------------------------------------------------- SIGHUP reopens the log
mv "$RUN/st.log" "$RUN/st.log.1"
kill -HUP "$PID"
if wait_log "$RUN/st.log" "log reopened" 5 && t_alive "$PID"; then
	t_pass "SIGHUP reopens the log file (logrotate)"
else
	t_fail "SIGHUP" "no new log: $(ls "$RUN")"
fi
# In the foreground logging to stderr there is no file to reopen: not "log reopened" (it said so),
# a debug line, and the tunnel goes on. On a terminal a SIGHUP is the terminal hanging up: the run
# ends as on SIGTERM (exit 0, runtime files gone), as ssh -L does.
write_profile "$T/hup.ini" "default_forwards = no" "$(fwd web "$L_Y" "$P_WEB")"
connect_start -v -F "$T/hup.ini"
wait_log "$T/connect.log" "connected to" 15
kill -HUP "$CONNECT_PID"
wait_log "$T/connect.log" "SIGHUP" 5
w=$(get "$L_Y")
if ! grep -q "log reopened" "$T/connect.log" &&
    grep -q "debug: .*SIGHUP: logging to stderr, no log file to reopen" "$T/connect.log" &&
    t_alive "$CONNECT_PID" && [ "$w" = "service web" ]; then
	t_pass "SIGHUP in the foreground to stderr (no terminal): a debug line, not 'log reopened'; it goes on"
else
	t_fail "SIGHUP foreground stderr" "web '$w': $(grep -a HUP "$T/connect.log" | tail -3)"
fi
connect_stop >/dev/null
if command -v script >/dev/null 2>&1; then
	sleep 60 | script -qec "$CONNECT -F $T/hup.ini" /dev/null >"$T/hup-tty.out" 2>&1 &
	HS=$!
	t_track $HS
	wait_log "$T/hup-tty.out" "connected to" 15
	HP=$(pgrep -f -- "^$CMDLINE -F $T/hup.ini")
	[ -n "$HP" ] && kill -HUP $HP
	t_wait_exit $HS 10 >/dev/null
	if [ -n "$HP" ] && ! t_alive "$HP" && grep -q "stopping: hangup" "$T/hup-tty.out" &&
	    [ ! -e "$RUN/hup.pid" ] && ! grep -q "log reopened" "$T/hup-tty.out"; then
		t_pass "SIGHUP in the foreground on a terminal: the terminal hung up, the run ends (as ssh -L)"
	else
		t_fail "SIGHUP foreground terminal" "pid '$HP' $(t_alive "$HP" && echo alive): $(tail -3 "$T/hup-tty.out")"
		[ -n "$HP" ] && kill -TERM $HP 2>/dev/null
	fi
else
	t_skip "SIGHUP in the foreground on a terminal" "script(1) is not installed"
fi

# ---------------------------------------------------------------- the daemon survives sshd
if bounce_sshd "$L_WEB" web && t_alive "$PID"; then
	t_pass "the background tunnel survives an sshd restart"
else
	t_fail "background after sshd restart" "$(tail -5 "$RUN/st.log")"
fi
$CONNECT status st --json >"$T/st2.json"
if grep -q '"reconnects":1,' "$T/st2.json" && grep -q '"last_error":"[^"]' "$T/st2.json"; then
	t_pass "status counts the reconnect and keeps the last error"
else
	t_fail "status after reconnect" "$(cat "$T/st2.json")"
fi

# ---------------------------------------------------------------- background: auth refused later
# Once running, a refusal does not end the daemon: state failed, the error in status, retried at
# the cap (backoff_max = 1s here), and it recovers by itself once the key is accepted again.
cp "$T/authorized_keys" "$T/authorized_keys.saved"
: >"$T/authorized_keys"
sshd_restart
ok=0
for i in $(seq 1 50); do
	$CONNECT status st --json >"$T/st4.json" 2>/dev/null
	grep -q '"state":"failed"' "$T/st4.json" && { ok=1; break; }
	sleep 0.2
done
if [ $ok = 1 ] && grep -q '"last_error":"[^"]*authenticat' "$T/st4.json" && t_alive "$PID"; then
	t_pass "background: auth refused after start keeps the daemon, status shows failed + the error"
else
	t_fail "background auth refused" "$(cat "$T/st4.json"); $(tail -3 "$RUN/st.log")"
fi
cp "$T/authorized_keys.saved" "$T/authorized_keys"
ok=0
for i in $(seq 1 50); do
	[ "$(get "$L_WEB")" = "service web" ] && { ok=1; break; }
	sleep 0.2
done
if [ $ok = 1 ] && t_alive "$PID"; then
	t_pass "background: once the key is accepted again the tunnel is back by itself"
else
	t_fail "background auth recovery" "$(tail -3 "$RUN/st.log")"
fi

# ---------------------------------------------------------------- stop
before=$(instance_pids st)	# found while it runs: no_instance below can see one left over
$CONNECT stop st >"$T/stop.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "stopped (pid $PID)" "$T/stop.out" && ! t_alive "$PID" &&
    [ -n "$before" ] && no_instance st
then
	t_pass "stop: waits for the exit, reports it, files removed"
else
	t_fail "stop" "exit $rc: $(cat "$T/stop.out"); seen running: '$before'; \
alive: $(t_alive "$PID" && echo yes); \
$(instance_left st)"
fi
$CONNECT status st >"$T/st3.out" 2>&1
rc=$?
if [ $rc = 3 ] && grep -q "not running" "$T/st3.out"; then
	t_pass "status of a stopped tunnel: 'not running', exit 3"
else
	t_fail "status stopped" "exit $rc: $(cat "$T/st3.out")"
fi

# ---------------------------------------------------------------- kill -9: stale files
$CONNECT -d st >"$T/d3.out" 2>&1
PID=$(cat "$RUN/st.pid" 2>/dev/null)
t_sigkill "$PID"
sleep 0.2
stale=$(ls "$RUN" | tr '\n' ' ')
$CONNECT status st >/dev/null 2>&1
src=$?
$CONNECT -d st >"$T/d4.out" 2>&1
rc=$?
NPID=$(cat "$RUN/st.pid" 2>/dev/null)
case $stale in *st.pid*) s1=1 ;; *) s1=0 ;; esac
if [ $s1 = 1 ] && [ $src = 3 ] && [ $rc = 0 ] && [ "$NPID" != "$PID" ] && t_alive "$NPID" &&
    [ "$(get "$L_WEB")" = "service web" ]; then
	t_pass "kill -9: stale files seen as not running (3), the next -d replaces them"
else
	t_fail "stale files" "left: $stale; status $src; -d $rc: $(cat "$T/d4.out")"
fi
$CONNECT stop --all >"$T/stopall.out" 2>&1
rc=$?
if [ $rc = 0 ] && ! t_alive "$NPID" && no_instance st; then
	t_pass "stop --all"
else
	t_fail "stop --all" "exit $rc: $(cat "$T/stopall.out"); alive: $(t_alive "$NPID" && echo yes); \
$(instance_left st)"
fi

# ---------------------------------------------------------------- -d failures leave nothing
# fail_case NAME WANT_RC WANT_TEXT SED PROFILE_LINES...: write the profile (then edit it with the
# sed expression SED, if not empty); -d must fail with WANT_RC, say WANT_TEXT, and leave no process
# and no file behind. --wait is FC_WAIT (4) seconds: it includes the SSH set-up, so a case whose
# verdict needs a session gets more.
fail_case() {
	_fc_n=$1 _fc_rc=$2 _fc_txt=$3 _fc_sed=$4
	shift 4
	write_profile "$T/cfg/connect/$_fc_n.ini" "$@"
	[ -n "$_fc_sed" ] && sed -i "$_fc_sed" "$T/cfg/connect/$_fc_n.ini"
	$CONNECT -d --wait "${FC_WAIT:-4}" "$_fc_n" >"$T/$_fc_n.out" 2>&1
	_fc_got=$?
	sleep 0.3
	if [ $_fc_got = "$_fc_rc" ] && grep -q -- "$_fc_txt" "$T/$_fc_n.out" && no_instance "$_fc_n"
	then
		t_pass "-d fails with $_fc_rc ($_fc_txt) and leaves nothing running"
	else
		t_fail "-d failure $_fc_n" "exit $_fc_got (want $_fc_rc): $(cat "$T/$_fc_n.out");" \
		    "left: $(ls "$RUN")"
	fi
}
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key" >/dev/null 2>&1
FC_WAIT=8
fail_case badauth 77 "wrong_key" "s|^identity = .*|identity = $T/wrong_key|" \
    "default_forwards = no" "$(fwd web "$L_X" "$P_WEB")"
"$TNET" serve --http "$L_BUSY:busy" --pidfile "$T/busy.pid" >/dev/null 2>&1 &
BUSY=$!
t_track $BUSY
wait_port "$L_BUSY"
FC_WAIT=4
fail_case busy 73 "$L_BUSY" "" "default_forwards = no" "$(fwd web "$L_BUSY" "$P_WEB")"
kill $BUSY
# Nothing listening where sshd should be: retried until --wait runs out.
fail_case timeout 75 "not ready within 4" "s/^port = .*/port = $P_DEAD/" \
    "default_forwards = no" "$(fwd web "$L_Y" "$P_WEB")"
# The session is fine, a forward's remote end is not: nothing listens there / health says 502.
# (Failing probes are retried each second until --wait: services may still be starting.)
FC_WAIT=6
fail_case noport 69 "forward web: .*refused the channel (remote port not" "" \
    "default_forwards = no" "$(fwd web "$L_Y" "$P_DEAD")"
fail_case unhealthy 69 "forward api: .*GET /status/502 answered 502" "" \
    "default_forwards = no" "$(fwd web "$L_X" "$P_WEB")" \
    "$(fwd api "$L_Y" "$P_API" "health = /status/502")"
# On a terminal, -d says what it waits for while it waits (each new reason once); not in a pipe.
if command -v script >/dev/null 2>&1; then
	script -qec "$CONNECT -d --wait 5 unhealthy" /dev/null >"$T/tty.out" 2>&1
	n=$(grep -c "not ready yet: forward api: .*answered 502 (still trying, up to 5 s)" "$T/tty.out")
	if [ "$n" = 1 ] && grep -q "answered 502" "$T/tty.out" && ! grep -q "not ready yet" "$T/unhealthy.out"
	then
		t_pass "-d on a terminal: 'not ready yet: <why> (still trying)' once per reason; not in a pipe"
	else
		t_fail "-d progress on a terminal" "$n lines: $(cat "$T/tty.out")"
	fi
	sleep 0.3
else
	t_skip "-d progress on a terminal" "no script(1) here"
fi

# A service that comes up while -d waits (the ClearML server still starting): -d is ready then.
set -- $($TNET freeport 2)
P_LATE=$1 L_LATE=$2
write_profile "$T/cfg/connect/late.ini" "default_forwards = no" "$(fwd late "$L_LATE" "$P_LATE")"
$CONNECT -d --wait 30 late >"$T/late.out" 2>&1 &
DL=$!
t_track $DL
sleep 2
"$TNET" serve --http "$P_LATE:late" >/dev/null 2>&1 &
t_track $!
t_wait_exit $DL 40
rc=$?
if [ $rc = 0 ] && [ "$(get "$L_LATE")" = "service late" ]; then
	t_pass "-d waits for a remote service that starts late (probed again each second)"
else
	t_fail "-d late service" "exit $rc: $(cat "$T/late.out")"
fi
$CONNECT stop late >/dev/null 2>&1

# ---------------------------------------------------------------- sd_notify in the foreground
"$TNET" dgram "$T/notify.sock" --secs 30 >"$T/notify.out" 2>&1 &
NL=$!
t_track $NL
sleep 0.3
NOTIFY_SOCKET=$T/notify.sock $CONNECT st >"$T/fg.log" 2>&1 &
FG=$!
t_track $FG
wait_log "$T/notify.out" "READY=1" 15
w=$(get "$L_WEB")
t_stop $FG TERM 10 >/dev/null
rc=$?
if grep -q "READY=1" "$T/notify.out" && [ "$w" = "service web" ] && [ $rc = 0 ] &&
    grep -q "STOPPING=1" "$T/notify.out"; then
	t_pass "foreground under systemd: READY=1 on readiness, STOPPING=1 on SIGTERM (exit 0)"
else
	t_fail "sd_notify" "exit $rc; got: $(tr '\n' ' ' <"$T/notify.out")"
fi

# ---------------------------------------------------------------- the agent entrypoint
# conf/agent-entrypoint.sh with a stand-in agent: it must run only once all three forwards answer.
cat >"$T/agent.sh" <<EOF
#!/bin/sh
for p in $L_WEB $L_API $L_FILES; do curl -s -m 5 "http://127.0.0.1:\$p/"; echo; done >"$T/agent.out"
echo "agent args: \$*" >>"$T/agent.out"
EOF
chmod +x "$T/agent.sh"
CONNECT_BIN=$CONNECT CONNECT_PROFILE=st CONNECT_WAIT=30 sh "$TOP/conf/agent-entrypoint.sh" \
    "$T/agent.sh" --queue default >"$T/entry.out" 2>&1
rc=$?
PID=$(cat "$RUN/st.pid" 2>/dev/null)
if [ $rc = 0 ] && [ "$(grep -c '^service \(web\|api\|files\)$' "$T/agent.out")" = 3 ] &&
    grep -q "agent args: --queue default" "$T/agent.out" && t_alive "$PID"; then
	t_pass "agent entrypoint: tunnel ready, then the agent runs with its arguments and sees all three services"
else
	t_fail "agent entrypoint" "exit $rc: $(cat "$T/entry.out") / $(cat "$T/agent.out" 2>/dev/null)"
fi
if bounce_sshd "$L_API" api && t_alive "$PID"; then
	t_pass "agent entrypoint: its background tunnel survives an sshd restart"
else
	t_fail "agent entrypoint: sshd restart" "$(tail -3 "$RUN/st.log")"
fi
CONNECT_BIN=$CONNECT CONNECT_PROFILE=st sh "$TOP/conf/agent-entrypoint.sh" "$T/agent.sh" \
    >"$T/entry2.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "already running (pid $PID)" "$T/entry2.out"; then
	t_pass "agent entrypoint again (a restarted agent): the running tunnel is reused"
else
	t_fail "agent entrypoint again" "exit $rc: $(cat "$T/entry2.out")"
fi
$CONNECT stop st >/dev/null 2>&1
# By Studio id (TARGET_LIGHTNING_ID): user s_<id>, which this sshd refuses: the agent must not run.
sed '/^user = /d' "$T/cfg/connect/st.ini" >"$T/byid.ini"
rm -f "$T/agent.out"
TARGET_LIGHTNING_ID=agentid CONNECT_BIN=$CONNECT CONNECT_OPTS="-F $T/byid.ini" CONNECT_WAIT=10 \
    sh "$TOP/conf/agent-entrypoint.sh" "$T/agent.sh" >"$T/entry3.out" 2>&1
rc=$?
if [ $rc = 77 ] && grep -q "s_agentid@" "$T/entry3.out" && [ ! -e "$T/agent.out" ] && no_instance byid
then
	t_pass "agent entrypoint by TARGET_LIGHTNING_ID: user s_<id>; refused -> exit 77, agent not started"
else
	t_fail "agent entrypoint by id" "exit $rc: $(cat "$T/entry3.out")"
fi
# The shim keeps the old interface, -d included.
TARGET_LIGHTNING_ID=shimd CONNECT_BIN=$CONNECT sh "$TOP/connect.sh" -d --wait 10 -F "$T/byid.ini" \
    >"$T/shimd.out" 2>&1
rc=$?
if [ $rc = 77 ] && grep -q "s_shimd@" "$T/shimd.out" && no_instance byid; then
	t_pass "shim: TARGET_LIGHTNING_ID=x connect.sh -d runs connect -d --id x (refused here: 77, nothing left)"
else
	t_fail "shim -d" "exit $rc: $(cat "$T/shimd.out")"
fi
TARGET_LIGHTNING_ID=shimok CONNECT_BIN=$CONNECT sh "$TOP/connect.sh" -d --wait 20 -l "$SSHD_USER" \
    -F "$T/byid.ini" >"$T/shimok.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(get "$L_WEB")" = "service web" ] && $CONNECT stop byid >/dev/null 2>&1; then
	t_pass "shim: TARGET_LIGHTNING_ID=x connect.sh -d -l USER: ready, exit 0"
else
	t_fail "shim -d ok" "exit $rc: $(cat "$T/shimok.out")"
fi

# ---------------------------------------------------------------- init
$CONNECT init new1 --id abc_123 --host example.invalid -p 2222 >"$T/init.out" 2>&1
rc=$?
f=$T/cfg/connect/new1.ini
if [ $rc = 0 ] && [ "$(stat -c %a "$f")" = 600 ] && grep -q "^id = abc_123" "$f" &&
    grep -q "^port = 2222" "$f"; then
	t_pass "init writes a 0600 profile with the values given"
else
	t_fail "init" "exit $rc: $(cat "$T/init.out")"
fi
sum=$(cksum <"$f")
$CONNECT init new1 --id other >"$T/init2.out" 2>&1
rc=$?
if [ $rc = 73 ] && grep -q "force" "$T/init2.out" && [ "$(cksum <"$f")" = "$sum" ]; then
	t_pass "init refuses to overwrite without --force (73), file untouched"
else
	t_fail "init overwrite" "exit $rc: $(cat "$T/init2.out")"
fi
$CONNECT init new1 --id other --force >/dev/null 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^id = other" "$f"; then
	t_pass "init --force replaces it"
else
	t_fail "init --force" "exit $rc"
fi
$CONNECT init new2 --id 'bad id' >"$T/init3.out" 2>&1
rc=$?
if [ $rc = 64 ] && [ ! -e "$T/cfg/connect/new2.ini" ] && grep -q "id" "$T/init3.out"; then
	t_pass "init with a bad id: usage error, nothing written"
else
	t_fail "init bad id" "exit $rc: $(cat "$T/init3.out")"
fi

# ---------------------------------------------------------------- the id as Lightning shows it
# connect --id s_ID@ssh.lightning.ai (pasted from Lightning) is user s_ID's tunnel, and the instance
# answers to the id: stop ID, status s_ID. ssh.lightning.ai is this sshd through an ssh config;
# -l keeps the login this sshd knows. The built-in forwards bind 8080, 8008 and 8081.
if "$TNET" probe 127.0.0.1 8080 || "$TNET" probe 127.0.0.1 8008 || "$TNET" probe 127.0.0.1 8081; then
	t_skip "--id forms, stop by id" "something listens on 8080, 8008 or 8081 here"
else
	printf '%s\n' "Host ssh.lightning.ai" "  HostName 127.0.0.1" "  Port $SSHD_PORT" \
	    "  IdentityFile $SSHD_KEY" "  UserKnownHostsFile $T/known_hosts_id" >"$T/idcfg"
	CONNECT_SSH_CONFIG=$T/idcfg $CONNECT --id "s_byid01@ssh.lightning.ai" -l "$SSHD_USER" \
	    >"$T/byid-fg.out" 2>&1 &
	IDP=$!
	t_track $IDP
	st=$(wait_log "$T/byid-fg.out" "connected to" 15 && $CONNECT status s_byid01 2>&1 | head -n 1)
	out=$($CONNECT stop byid01 2>&1)
	rc=$?
	if echo "$st" | grep -q "^byid01  ready" && [ $rc = 0 ] && echo "$out" | grep -q "stopped" &&
	    t_wait_exit $IDP 10; then
		t_pass "--id s_ID@ssh.lightning.ai: the tunnel answers to its id (status s_ID, stop ID)"
	else
		t_fail "--id forms, stop by id" "status '$st'; stop exit $rc '$out': $(tail -n 3 "$T/byid-fg.out")"
	fi
fi
out=$($CONNECT stop nosuch-tunnel 2>&1)
rc=$?
if [ $rc = 3 ] && echo "$out" | grep -q "no tunnel named 'nosuch-tunnel'"; then
	t_pass "stop of a name that is no tunnel: exit 3, saying so"
else
	t_fail "stop unknown" "exit $rc: $out"
fi
$CONNECT init known1 --id k1 >/dev/null 2>&1
out=$($CONNECT stop known1 2>&1)
rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q "known1: not running"; then
	t_pass "stop of a known profile that is not running: exit 0 (stop is idempotent)"
else
	t_fail "stop known, stopped" "exit $rc: $out"
fi

# ---------------------------------------------------------------- share and env
# share, on the server's Studio: the lines the other machines run, and clearml.conf's block.
out=$(LIGHTNING_CLOUD_SPACE_ID=01kem22xtq9zcsd56hsvk42nfv $CONNECT share 2>&1)
rc=$?
line=$(echo "$out" | grep '^connect init ' | sed 's/ *#.*//')
if [ $rc = 0 ] && [ "$line" = "connect init clearml --id 01kem22xtq9zcsd56hsvk42nfv" ] &&
    echo "$out" | grep -q '^TARGET_LIGHTNING_ID=01kem22xtq9zcsd56hsvk42nfv connect.sh' &&
    echo "$out" | grep -q 'files_server: http://localhost:8081' &&
    $CONNECT ${line#connect } >/dev/null 2>&1 &&
    grep -q '^id = 01kem22xtq9zcsd56hsvk42nfv$' "$T/cfg/connect/clearml.ini"; then
	t_pass "share: the init line (which works as printed), the shim line, clearml.conf's api block"
else
	t_fail "share" "exit $rc: $out"
fi
out=$(env -u LIGHTNING_CLOUD_SPACE_ID $CONNECT share 2>&1)
rc=$?
if [ $rc = 64 ] && echo "$out" | grep -q "LIGHTNING_CLOUD_SPACE_ID.*--id"; then
	t_pass "share outside a Studio: needs LIGHTNING_CLOUD_SPACE_ID or --id (64)"
else
	t_fail "share outside a Studio" "exit $rc: $out"
fi
# env: the exports, for eval; through them a client reaches the services of a running tunnel.
$CONNECT -d st >/dev/null 2>&1
out=$($CONNECT env st 2>&1)
w=$(eval "$out"; curl -s -m 5 "$CLEARML_WEB_HOST/")
f=$(eval "$out"; curl -s -m 5 "$CLEARML_FILES_HOST/")
if echo "$out" | grep -q "^export CLEARML_API_HOST=http://localhost:$L_API\$" &&
    [ "$w" = "service web" ] && [ "$f" = "service files" ]; then
	t_pass "env: CLEARML_*_HOST exports from the forwards; eval'd, a client reaches web and files"
else
	t_fail "env" "$out; web '$w' files '$f'"
fi
$CONNECT stop st >/dev/null 2>&1

# ---------------------------------------------------------------- one home
# HOME elsewhere (a container's): ~/.ssh/config is $HOME's, as the keys, known_hosts and profiles
# are (libssh alone would read the password database's home).
mkdir -p "$T/h/.ssh"
printf '%s\n' "Host homealias" "  HostName 127.0.0.1" "  Port $SSHD_PORT" "  User $SSHD_USER" \
    "  IdentityFile $SSHD_KEY" "  UserKnownHostsFile $T/h/.ssh/known_hosts" >"$T/h/.ssh/config"
out=$(env -u CONNECT_SSH_CONFIG HOME="$T/h" XDG_CONFIG_HOME="$T/h/.config" $CONNECT check homealias 2>&1)
if echo "$out" | grep -q "^auth  *ok" && echo "$out" | grep -q "127.0.0.1 port $SSHD_PORT"; then
	t_pass "HOME=elsewhere: its .ssh/config names the alias (auth ok through it)"
else
	t_fail "HOME elsewhere" "$(echo "$out" | head -n 4)"
fi

# HOME unset, for a uid the password database does not know (a container's): home is "/".
if t_is_root && command -v setpriv >/dev/null 2>&1 && ! getent passwd 54321 >/dev/null 2>&1; then
	mkdir -p "$T/nopw" && chown 54321:54321 "$T/nopw" && chmod 700 "$T/nopw"
	chmod o+x "$T"
	out=$(setpriv --reuid 54321 --regid 54321 --clear-groups env -i PATH="$PATH" \
	    XDG_RUNTIME_DIR="$T/nopw" "$CONNECT" list 2>&1)
	chmod o-x "$T"
	if echo "$out" | grep -q "no profiles in /.config/connect "; then
		t_pass "HOME unset, uid without a passwd entry: home is / (no crash, no empty path)"
	else
		t_fail "uid without passwd entry" "$out"
	fi
else
	t_skip "uid without a passwd entry" "needs root, setpriv and a free uid 54321"
fi

# ---------------------------------------------------------------- help
ok=1
for c in up status stop list init check; do
	$CONNECT $c --help 2>&1 | grep -q "^usage: connect .*$c\|^usage: connect \[up\]" || ok=0
	$CONNECT help $c 2>&1 | grep -q "^usage: connect" || ok=0
	# a command without its own text once printed "(null)"
	$CONNECT help $c 2>&1 | grep -q "(null)" && ok=0
done
$CONNECT help help | grep -q "^usage: connect" || ok=0
# An unknown option: getopt's line and one pointer, not the whole help.
[ "$($CONNECT --frobnicate 2>&1 | wc -l)" -le 2 ] || ok=0
if [ $ok = 1 ] && $CONNECT --help | grep -q "status \[NAME\]"; then
	t_pass "--help for the program and each command (connect CMD --help, connect help CMD)"
else
	t_fail "--help" "some command lacks its help"
fi

# ---------------------------------------------------------------- a passphrase asked on a terminal
# script(1) gives connect a terminal on stdin and types the passphrase into it.
if command -v script >/dev/null 2>&1; then
	ssh-keygen -q -t ed25519 -N 'pass phrase 1' -f "$T/pp_key" >/dev/null 2>&1
	cat "$T/pp_key.pub" >>"$T/authorized_keys"
	write_profile "$T/pp.ini" "default_forwards = no" "$(fwd web "$L_X" "$P_WEB")"
	sed -i "s|^identity = .*|identity = $T/pp_key|" "$T/pp.ini"
	# Typed once the prompt is up: ssh_getpass turns echo off with TCSAFLUSH, which drops
	# whatever was typed before it.
	( wait_log "$T/pp.out" "Enter passphrase" 30; printf 'pass phrase 1\n'; sleep 30 ) |
	    script -qec "$CONNECT -F $T/pp.ini" /dev/null >"$T/pp.out" 2>&1 &
	PPS=$!
	t_track $PPS
	if wait_log "$T/pp.out" "connected to" 30 && [ "$(get "$L_X")" = "service web" ] &&
	    grep -q "Enter passphrase for $T/pp_key" "$T/pp.out"; then
		t_pass "a passphrase-protected key: asked on the terminal, then the tunnel works"
	else
		t_fail "passphrase prompt" "$(tail -5 "$T/pp.out")"
	fi
	pkill -TERM -f "$CONNECT -F $T/pp.ini" 2>/dev/null
	t_wait_exit $PPS 10 >/dev/null
else
	t_skip "passphrase prompt on a terminal" "script(1) is not installed"
fi

# ---------------------------------------------------------------- stop while -d is starting
# -d asks for a passphrase and nobody types it yet: the instance is starting, its pid is known from
# its first moment. status says "starting (pid N)"; stop ends it (exit 0), and nothing comes up when
# the passphrase is typed after all; the terminal gets its echo back.
if command -v script >/dev/null 2>&1; then
	write_profile "$T/cfg/connect/ppd.ini" "default_forwards = no" "$(fwd web "$L_X" "$P_WEB")"
	sed -i "s|^identity = .*|identity = $T/pp_key|" "$T/cfg/connect/ppd.ini"
	( wait_log "$T/ppd.out" "Enter passphrase" 30
	  until [ -e "$T/ppd.go" ]; do sleep 0.1; done
	  printf 'pass phrase 1\n'; sleep 5 ) |
	    script -qec "$CONNECT -d --wait 20 ppd; stty -a" /dev/null >"$T/ppd.out" 2>&1 &
	PPD=$!
	t_track $PPD
	wait_log "$T/ppd.out" "Enter passphrase" 30
	sleep 1
	ppid=$(cat "$RUN/ppd.pid" 2>/dev/null)
	st=$($CONNECT status ppd 2>&1)
	src=$?
	$CONNECT stop ppd >"$T/ppd-stop.out" 2>&1
	rc=$?
	touch "$T/ppd.go"
	t_wait_exit $PPD 10 >/dev/null
	sleep 2	# had the passphrase reached a live prompt, the forward would be up by now
	if [ $src = 0 ] && echo "$st" | grep -q "^ppd: starting (pid $ppid)" && [ "$ppid" -gt 0 ] 2>/dev/null; then
		t_pass "status of an instance asking for its passphrase: 'starting (pid N)', its real pid"
	else
		t_fail "status while starting" "exit $src: '$st'; pid file '$ppid'"
	fi
	if [ $rc = 0 ] && grep -q "ppd: stopped (pid $ppid)" "$T/ppd-stop.out" &&
	    ! "$TNET" probe 127.0.0.1 "$L_X" && no_instance ppd; then
		t_pass "stop during the passphrase prompt: exit 0, and nothing comes up once it is typed"
	else
		t_fail "stop while starting" "stop exit $rc: $(cat "$T/ppd-stop.out"); port $L_X: \
$("$TNET" probe 127.0.0.1 "$L_X" && echo open || echo closed); $(instance_left ppd)"
	fi
	# Killed at the prompt itself (a foreground run here): the terminal gets its echo back.
	cp "$T/cfg/connect/ppd.ini" "$T/cfg/connect/ppe.ini"
	( wait_log "$T/ppe.out" "Enter passphrase" 30; sleep 5 ) |
	    script -qec "$CONNECT ppe; stty -a" /dev/null >"$T/ppe.out" 2>&1 &
	PPE=$!
	t_track $PPE
	asked=$(wait_log "$T/ppe.out" "Enter passphrase" 30 && echo yes)
	sleep 0.5
	kill -TERM $(pgrep -x -f "$CMDLINE ppe") 2>/dev/null
	t_wait_exit $PPE 10 >/dev/null
	if [ "$asked" = yes ] && grep -Eq '(^| )echo( |$)' "$T/ppe.out" &&
	    ! grep -Eq '(^| )-echo( |$)' "$T/ppe.out"; then
		t_pass "SIGTERM at the passphrase prompt: the terminal's echo is restored"
	else
		t_fail "echo after SIGTERM at the prompt" "asked: '$asked'; $(grep -E 'echo|connect' \
"$T/ppe.out" | head -n 2)"
	fi
	$CONNECT stop ppd >/dev/null 2>&1
else
	t_skip "stop while -d asks for a passphrase" "script(1) is not installed"
fi

# The same without a terminal: a start-up held up before the fork (its ssh config here is a FIFO
# that nobody writes yet). stop reaches it; fed afterwards, nothing comes up.
mkfifo "$T/slowcfg"
CONNECT_SSH_CONFIG=$T/slowcfg $CONNECT -d --wait 20 st >"$T/slow.out" 2>&1 &
SL=$!
t_track $SL
sleep 1
slpid=$(cat "$RUN/st.pid" 2>/dev/null)
$CONNECT stop st >"$T/slow.stop" 2>&1
rc=$?
for i in 1 2 3 4; do timeout 1 sh -c ': >"$1"' sh "$T/slowcfg" 2>/dev/null; done
t_wait_exit $SL 10
drc=$?
sleep 1
if [ $rc = 0 ] && grep -q "st: stopped (pid $slpid)" "$T/slow.stop" && [ $drc != 0 ] &&
    ! "$TNET" probe 127.0.0.1 "$L_WEB" && no_instance st; then
	t_pass "stop while -d is held up before the fork (no tty): exit 0, -d fails, nothing comes up"
else
	t_fail "stop while held up" "stop exit $rc: $(cat "$T/slow.stop"); -d exit $drc: \
$(cat "$T/slow.out"); $(instance_left st)"
	$CONNECT stop st >/dev/null 2>&1
fi

# stop at any moment of -d's start-up (no passphrase): it reaches the instance or says it is not
# running; once it said "stopped", nothing comes up. Eight rounds, stop sent 10 to 300 ms in.
bad=
for d in 0.01 0.03 0.05 0.08 0.1 0.15 0.2 0.3; do
	$CONNECT -d --wait 20 st >"$T/race.out" 2>&1 &
	DR=$!
	t_track $DR
	sleep $d
	$CONNECT stop st >"$T/race.stop" 2>&1
	rc=$?
	t_wait_exit $DR 30
	drc=$?
	if [ $rc != 0 ]; then
		bad="$bad; at $d s stop exit $rc: $(cat "$T/race.stop")"
	elif grep -q "not running" "$T/race.stop"; then
		$CONNECT stop st >/dev/null 2>&1	# stop came first: -d rightly went on
	elif ! no_instance st || "$TNET" probe 127.0.0.1 "$L_WEB"; then
		bad="$bad; at $d s up after stop returned 0 (-d exit $drc: $(cat "$T/race.out"))"
		$CONNECT stop st >/dev/null 2>&1
	fi
done
if [ -z "$bad" ]; then
	t_pass "stop during -d's start-up (8 moments): always reaches it; nothing up after 'stopped'"
else
	t_fail "stop during start-up" "${bad#; }"
fi

# ---------------------------------------------------------------- -d lets go of the caller's fds, cwd
# The daemon must not hold what it inherited (fd 3 here is the pipe to cat: cat would never see EOF
# and the caller never return), nor its launch directory; a relative --log still names the file in
# the directory it was given in (SIGHUP reopens it there).
mkdir -p "$T/wd"
(cd "$T/wd" && $CONNECT -d --log rel.log st 3>&1 7>fd7 | cat >"$T/fdcat.out") &
FDJ=$!
t_track $FDJ
t_wait_exit $FDJ 30
rc=$?
PID=$(cat "$RUN/st.pid" 2>/dev/null)
cwd=$(readlink "/proc/$PID/cwd" 2>/dev/null)
held=$(ls -l "/proc/$PID/fd" 2>/dev/null | grep -c "$T/wd/fd7")
if [ $rc = 0 ] && grep -q "ready (pid $PID)" "$T/fdcat.out" && [ "$cwd" = / ] && [ "$held" = 0 ]
then
	t_pass "-d: the caller returns though fd 3 is a pipe; the daemon holds no inherited fd, cwd /"
else
	t_fail "-d fds and cwd" "exit $rc: $(cat "$T/fdcat.out"); cwd '$cwd'; fd7 held $held times"
fi
mv "$T/wd/rel.log" "$T/wd/rel.log.1" 2>/dev/null
kill -HUP "$PID" 2>/dev/null
if wait_log "$T/wd/rel.log" "log reopened" 5; then
	t_pass "-d --log RELATIVE: SIGHUP reopens it in the launch directory, not in /"
else
	t_fail "-d relative --log" "$(ls "$T/wd")"
fi
$CONNECT stop st >/dev/null 2>&1

# ---------------------------------------------------------------- a full runtime directory
# The pid file is whole or absent: on a full tmpfs (root: a private mount namespace) -d says "disk
# full" and leaves no empty pid file behind.
if t_is_root && command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	mkdir -p "$T/full"
	unshare -m sh -c '
		mount -t tmpfs -o size=16k,mode=700 tmpfs "$1" || exit 1
		mkdir -m 700 "$1/connect" && dd if=/dev/zero of="$1/fill" bs=1k 2>/dev/null
		XDG_RUNTIME_DIR=$1 "$2" -d --wait 10 st >"$3" 2>&1
		echo "rc=$?" >>"$3"
		echo "left: $(ls -A "$1/connect" | tr "\n" " ")" >>"$3"
		XDG_RUNTIME_DIR=$1 "$2" stop st >/dev/null 2>&1' sh "$T/full" "$CONNECT" "$T/full.out"
	for _p in $(instance_pids st "$T/full"); do kill "$_p"; done
	if grep -q "^rc=73" "$T/full.out" && grep -qi "disk full" "$T/full.out" &&
	    grep -q "^left: *$" "$T/full.out"; then
		t_pass "a full runtime tmpfs: -d says 'disk full' (73); no empty pid file left"
	else
		t_fail "full runtime dir" "$(tr '\n' ' ' <"$T/full.out")"
	fi
else
	t_skip "a full runtime tmpfs" "needs root and unshare -m to mount a small tmpfs"
fi

# Global options may also follow the command word.
$CONNECT check -F "$T/cfg/connect/st.ini" >"$T/check-after.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "^forward api  *ok" "$T/check-after.out"; then
	t_pass "global options after the command: connect check -F FILE (exit 0, every step ok)"
else
	t_fail "connect check -F after the command" "exit $rc: $(cat "$T/check-after.out")"
fi

t_done
