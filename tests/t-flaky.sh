#!/bin/sh
# t-flaky.sh: a server that behaves as Lightning's gateway does: it drops sessions that carry no
# channel (sshd's UnusedConnectionTimeout), and refuses a key it let in a moment ago (a Studio
# stopped or being recreated), then lets it in again. Neither is a reason to give up.
. "$(dirname "$0")/lib.sh"
t_init flaky

# ---------------------------------------------------------------- idle sessions dropped: max_tries
SSHD_EXTRA="UnusedConnectionTimeout 1s"
if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): integration tests cannot run"
	t_done
fi
set -- $($TNET freeport 2)
P_WEB=$1 L_WEB=$2
serve_start --http "$P_WEB:web"
write_profile "$T/idle.ini" "default_forwards = no" "" "$(fwd web "$L_WEB" "$P_WEB")" \
    "[reconnect]" "max_tries = 2" "backoff_max = 500ms"
connect_start -F "$T/idle.ini"
wait_log "$T/connect.log" "connected to" 15
# Each session is dropped about 1 s after it is up; with max_tries = 2 counting those, connect
# gave up after the second.
sleep 7
n=$(grep -c "reconnected to" "$T/connect.log")
if t_alive "$CONNECT_PID" && [ "$n" -ge 2 ] &&
    [ "$(curl -s -m 5 "http://127.0.0.1:$L_WEB/")" = "service web" ]; then
	t_pass "sessions dropped while idle: reconnected $n times with max_tries = 2, still serving"
else
	t_fail "max_tries counts sessions that worked" "alive: $(t_alive "$CONNECT_PID" && echo yes ||
	    echo no), $n reconnects; $(grep -E "giving up|reconnected|error" "$T/connect.log" | tail -3)"
fi
if grep "reconnected to" "$T/connect.log" | grep -qv "after 1 attempt(s)"; then
	t_fail "reconnect count in the log" "$(grep "reconnected to" "$T/connect.log" | sort | uniq -c |
	    head -3)"
else
	t_pass "each reconnect of a dropped working session is logged as after 1 attempt"
fi
connect_stop
sshd_stop
SSHD_EXTRA=

# ---------------------------------------------------------------- a refusal after a success
sshd_start || { t_fail sshd "restart without UnusedConnectionTimeout"; t_done; }
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other_key" </dev/null >/dev/null
# The first-ever refusal stops at once, with 77.
write_profile "$T/wrong.ini" "default_forwards = no" "" "$(fwd web "$L_WEB" "$P_WEB")"
sed -i.bak "s|^identity = .*|identity = $T/other_key|" "$T/wrong.ini"
"$CONNECT" -F "$T/wrong.ini" >"$T/wrong.log" 2>&1 </dev/null &
WP=$!
t_track $WP
t_wait_exit $WP 15
rc=$?
t_eq "a first-ever refusal stops at once" 77 "$rc"

write_profile "$T/later.ini" "default_forwards = no" "" "$(fwd web "$L_WEB" "$P_WEB")" \
    "[reconnect]" "backoff_initial = 200ms" "backoff_max = 1s"
n0=$(wc -l <"$T/connect.log")
connect_start -F "$T/later.ini"
wait_log "$T/connect.log" "connected to" 15 "$n0"
cp "$T/authorized_keys" "$T/authorized_keys.good"
cp "$T/other_key.pub" "$T/authorized_keys"	# the gateway refuses our key now
n0=$(wc -l <"$T/connect.log")
sshd_signal_sessions TERM
wait_log "$T/connect.log" "refused authentication" 10 "$n0"
sleep 3
"$CONNECT" status >"$T/status.out" 2>&1
if t_alive "$CONNECT_PID" &&
    tail -n +"$((n0 + 1))" "$T/connect.log" | grep -q "may be stopped or restarting.*retrying" &&
    tail -n +"$((n0 + 1))" "$T/connect.log" | grep -q "refused authentication; tried: $SSHD_KEY" &&
    grep -q "failed" "$T/status.out" && grep -q "may be stopped or restarting" "$T/status.out"; then
	t_pass "a key refused after it was accepted: retried, the key named, state failed, the reason in status"
else
	t_fail "refusal after success" "alive: $(t_alive "$CONNECT_PID" && echo yes || echo no);" \
	    "$(tail -n 3 "$T/connect.log"); status: $(cat "$T/status.out")"
fi
tries=$(tail -n +"$((n0 + 1))" "$T/connect.log" | grep -c "refused authentication")
cp "$T/authorized_keys.good" "$T/authorized_keys"	# the Studio is back
if wait_log "$T/connect.log" "reconnected to" 15 "$n0" &&
    [ "$(curl -s -m 5 "http://127.0.0.1:$L_WEB/")" = "service web" ]; then
	t_pass "once the key is let in again the tunnel is back ($tries refusals said, repeats counted)"
else
	t_fail "back after the refusals" "$(tail -n 3 "$T/connect.log")"
fi
connect_stop

t_done
