# t-harness.sh: the test harness checks itself, without connect: the loopback sshd, the stand-in
# services, OpenSSH forwards through them, tnet's verdicts (right and wrong), the helpers.
. "$(dirname "$0")/lib.sh"
t_init harness

if [ ! -x "$TNET" ]; then
	t_fail harness-tnet "$TNET is missing (make tests/tnet)"
	t_done
fi

# --- sshd
if sshd_start; then
	t_pass "harness: sshd starts on 127.0.0.1:$SSHD_PORT and OpenSSH logs in as $SSHD_USER"
else
	t_fail "harness: sshd starts" "see the sshd log above"
	t_done
fi
fp1=$(sshd_fingerprint)

# --- services
set -- $("$TNET" freeport 10)
P_WEB=$1 P_API=$2 P_FILES=$3 P_ECHO=$4 P_BLAST=$5 P_SINK=$6 L_WEB=$7 L_API=$8 L_ECHO=$9
shift 9
L_BLAST=$1
if services_start "$P_WEB" "$P_API" "$P_FILES" --echo "$P_ECHO" --blast "$P_BLAST:16m" \
    --sink "$P_SINK"; then
	t_pass "harness: services start"
else
	t_fail "harness: services start" "see the log above"
	t_done
fi
# The lowest of a few readings: wait_port's probe connection may not be closed yet.
fds0=$(fd_count "$SERVICES_PID")
for _i in 1 2 3 4 5; do
	sleep 0.1
	_n=$(fd_count "$SERVICES_PID")
	[ "$_n" -lt "$fds0" ] && fds0=$_n
done
t_eq "harness: web service answers" "$(curl -s "http://127.0.0.1:$P_WEB/")" "service web"
t_eq "harness: files service answers" "$(curl -s "http://127.0.0.1:$P_FILES/")" "service files"
t_eq "harness: api /debug.ping answers" "$(curl -s "http://127.0.0.1:$P_API/debug.ping")" \
    '{"meta":{"result_code":200},"data":{}}'
curl -s -o "$T/bytes" "http://127.0.0.1:$P_FILES/bytes?n=3000001&seed=42"
"$TNET" gen --bytes 3000001 --seed 42 >"$T/bytes.want"
if cmp -s "$T/bytes" "$T/bytes.want"; then
	t_pass "harness: /bytes serves the seeded stream (3000001 bytes)"
else
	t_fail "harness: /bytes serves the seeded stream" "$(cmp "$T/bytes" "$T/bytes.want" 2>&1)"
fi
t_eq "harness: sink counts the bytes" \
    "$("$TNET" send 127.0.0.1 "$P_SINK" --bytes 123457 --timeout 10)" \
    "123457"

# --- tnet's verdicts, direct (a test tool that cannot fail proves nothing)
t_ok "harness: tnet echo 1000 conns at once, direct" \
    "$TNET" echo 127.0.0.1 "$P_ECHO" --bytes 4k --conns 1000
out=$("$TNET" echo 127.0.0.1 "$P_SINK" --bytes 1000 2>&1)
case $? in
1) case $out in
	*"mismatch at offset 0"*) t_pass "harness: tnet echo reports a wrong echo" ;;
	*) t_fail "harness: tnet echo reports a wrong echo" "no 'mismatch at offset 0' in: $out" ;;
	esac ;;
*) t_fail "harness: tnet echo reports a wrong echo" "exit status $? (expected 1): $out" ;;
esac
out=$("$TNET" read 127.0.0.1 "$P_BLAST" --bytes 17m 2>&1)
case $? in
1) case $out in
	*"short read: EOF after 16777216 of 17825792"*) t_pass "harness: tnet read reports a short stream" ;;
	*) t_fail "harness: tnet read reports a short stream" "unexpected: $out" ;;
	esac ;;
*) t_fail "harness: tnet read reports a short stream" "exit status not 1: $out" ;;
esac
closed=$("$TNET" freeport)
out=$("$TNET" echo 127.0.0.1 "$closed" --bytes 10 --conns 2 2>&1)
case $? in
1) case $out in
	*"connection refused"*) t_pass "harness: tnet echo reports connection refused" ;;
	*) t_fail "harness: tnet echo reports connection refused" "unexpected: $out" ;;
	esac ;;
*) t_fail "harness: tnet echo reports connection refused" "exit status not 1: $out" ;;
esac

# --- backpressure of --blast: a paused reader must not make the server buffer the stream
"$TNET" read 127.0.0.1 "$P_BLAST" --bytes 16m --pause-after 1m --pause-ms 1500 >"$T/slow.out" 2>&1 &
slow=$!
sleep 1
rss=$(rss_kb "$SERVICES_PID")
if wait "$slow"; then
	t_pass "harness: tnet read with a 1.5 s pause, direct"
else
	t_fail "harness: tnet read with a 1.5 s pause, direct" "$(cat "$T/slow.out")"
fi
if [ -n "$rss" ] && [ "$rss" -lt 12000 ]; then
	t_pass "harness: blast holds back for a paused reader (server rss $rss kB)"
else
	t_fail "harness: blast holds back for a paused reader" "server rss ${rss:-?} kB, expected < 12000"
fi

# --- counting helpers
t_bg "$TNET" hold 127.0.0.1 "$P_ECHO" --secs 60 --conns 3 >"$T/hold.out" 2>&1
hold=$T_LASTPID
n=50
until grep -q connected "$T/hold.out" || [ "$n" -le 0 ]; do sleep 0.1; n=$((n - 1)); done
t_eq "harness: tcp_conns_to counts 3 held connections" "$(tcp_conns_to "$P_ECHO")" 3
t_eq "harness: tcp_conns_to PORT PID counts the holder's 3" "$(tcp_conns_to "$P_ECHO" "$hold")" 3
t_eq "harness: tcp_conns_to PORT PID: none for another process" "$(tcp_conns_to "$P_ECHO" $$)" 0
fds=$(fd_count "$hold")
if [ "$fds" -ge 6 ]; then
	t_pass "harness: fd_count sees the held sockets ($fds fds)"
else
	t_fail "harness: fd_count sees the held sockets" "$fds fds, expected >= 6"
fi
t_stop "$hold" >/dev/null
n=30
until [ "$(tcp_conns_to "$P_ECHO")" -eq 0 ] || [ "$n" -le 0 ]; do sleep 0.1; n=$((n - 1)); done
t_eq "harness: tcp_conns_to drops to 0" "$(tcp_conns_to "$P_ECHO")" 0

# --- OpenSSH forwards through the test sshd
if ssh_forward_start "$L_WEB:127.0.0.1:$P_WEB" "$L_API:127.0.0.1:$P_API" \
    "$L_ECHO:127.0.0.1:$P_ECHO" "$L_BLAST:127.0.0.1:$P_BLAST"; then
	t_pass "harness: ssh -N -L forwards open"
else
	t_fail "harness: ssh -N -L forwards open" "see the log above"
	t_done
fi
t_eq "harness: curl through ssh -L gets the web service" \
    "$(curl -s --max-time 10 "http://127.0.0.1:$L_WEB/")" "service web"
t_eq "harness: curl through ssh -L gets /debug.ping" \
    "$(curl -s --max-time 10 "http://127.0.0.1:$L_API/debug.ping")" '{"meta":{"result_code":200},"data":{}}'
t_ok "harness: tnet echo 8 MiB x 4 conns through ssh -L" \
    "$TNET" echo 127.0.0.1 "$L_ECHO" --bytes 8m --conns 4 --timeout 60
t_ok "harness: tnet read 16 MiB from blast through ssh -L, 1 s pause after 2 MiB" \
    "$TNET" read 127.0.0.1 "$L_BLAST" --bytes 16m --pause-after 2m --pause-ms 1000 --timeout 60

# --- sshd control
sshd_signal_sessions KILL
t_wait_exit "$SSH_FWD_PID" 10
rc=$?
if [ "$rc" -ne 124 ]; then
	t_pass "harness: sshd_signal_sessions KILL drops the SSH connection (ssh exited $rc)"
else
	t_fail "harness: sshd_signal_sessions KILL drops the SSH connection" "ssh still running after 10 s"
fi
SSH_FWD_PID=
port0=$SSHD_PORT
if sshd_restart && [ "$SSHD_PORT" = "$port0" ] && [ "$(sshd_fingerprint)" = "$fp1" ]; then
	t_pass "harness: sshd_restart keeps the port and the host key"
else
	t_fail "harness: sshd_restart keeps the port and the host key" "port $port0 -> $SSHD_PORT"
fi
if ssh_forward_start "$L_WEB:127.0.0.1:$P_WEB" &&
    [ "$(curl -s --max-time 10 "http://127.0.0.1:$L_WEB/")" = "service web" ]; then
	t_pass "harness: forwarding works after sshd_restart"
else
	t_fail "harness: forwarding works after sshd_restart" "see the log above"
fi
ssh_forward_stop
if sshd_swap_hostkeys; then
	fp2=$(sshd_fingerprint)
	if [ -n "$fp2" ] && [ "$fp2" != "$fp1" ]; then
		t_pass "harness: sshd_swap_hostkeys changes the host key ($fp1 -> $fp2)"
	else
		t_fail "harness: sshd_swap_hostkeys changes the host key" "fingerprint '$fp1' -> '$fp2'"
	fi
else
	t_fail "harness: sshd_swap_hostkeys changes the host key" "sshd did not come back"
fi
if ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$T/ossh_known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -i "$SSHD_KEY" -p "$SSHD_PORT" -W "127.0.0.1:$P_WEB" \
    "$SSHD_USER@127.0.0.1" </dev/null >/dev/null 2>"$T/ossh-changed.err"; then
	t_fail "harness: OpenSSH refuses the swapped host key" "ssh connected"
elif grep -q "REMOTE HOST IDENTIFICATION HAS CHANGED" "$T/ossh-changed.err"; then
	t_pass "harness: OpenSSH refuses the swapped host key"
else
	t_fail "harness: OpenSSH refuses the swapped host key" "$(head -n 3 "$T/ossh-changed.err")"
fi

# --- the profile writer
write_profile "$T/p.ini" "[forward web]" "local_port = $L_WEB"
t_eq "harness: write_profile" "$(grep -c . "$T/p.ini"):$(sed -n 4p "$T/p.ini"):$(tail -n 1 "$T/p.ini")" \
    "9:port = $SSHD_PORT:local_port = $L_WEB"

# --- no connection leaks in tnet serve, and a clean stop
n=30
until [ "$(fd_count "$SERVICES_PID")" -eq "$fds0" ] || [ "$n" -le 0 ]; do sleep 0.1; n=$((n - 1)); done
t_eq "harness: tnet serve closed every connection (fds back to the start)" \
    "$(fd_count "$SERVICES_PID")" "$fds0"
t_stop "$SERVICES_PID" TERM 5
t_eq "harness: tnet serve exits 0 on SIGTERM" "$?" 0
sshd_port=$SSHD_PORT
sshd_stop
if wait_port_closed "$sshd_port" 5; then
	t_pass "harness: sshd_stop closes the port"
else
	t_fail "harness: sshd_stop closes the port" "127.0.0.1:$sshd_port still accepts"
fi
t_done
