#!/bin/sh
# t-giveup.sh: give up with the client. A client that leaves is never served later and holds
# nothing: a held connection whose client closed or reset is dropped before the session is back
# (nothing of it reaches the remote end, its hold slot is free); a client that leaves while its
# channel open is unanswered gets its fd back at once; refused channels do not flood the log.
. "$(dirname "$0")/lib.sh"
t_init giveup

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): integration tests cannot run"
	t_done
fi
set -- $($TNET freeport 8)
P_SINK=$1 L_SINK=$2 P_STALL=$3 L_STALL=$4 P_CLOSED=$5 L_CLOSED=$6 P_WEB=$7 L_WEB=$8
serve_start --sink "$P_SINK" --stall "$P_STALL" --http "$P_WEB:web"
SINK_LOG=$T/serve.$_sshd_nserve.log

# sink_count WHAT: how many "sink: WHAT" lines the remote service logged.
sink_count() {
	grep -c "^sink: $1" "$SINK_LOG"
}

# ---------------------------------------------------------------- held clients that left
write_profile "$T/held.ini" "default_forwards = no" "" "$(fwd sink "$L_SINK" "$P_SINK")" \
    "$(fwd web "$L_WEB" "$P_WEB")" \
    "[reconnect]" "hold_max = 6" "hold_timeout = 60s" "backoff_max = 500ms"
connect_start -F "$T/held.ini" -v
wait_log "$T/connect.log" "connected to" 15
if $TNET send 127.0.0.1 "$L_SINK" --bytes 100 --timeout 10 >"$T/send0.out" 2>&1 &&
    [ "$(cat "$T/send0.out")" = 100 ]; then
	t_pass "sink forward works"
else
	t_fail "sink forward" "$(cat "$T/send0.out"); $(tail -3 "$T/connect.log")"
fi
accepted0=$(sink_count accepted)

n0=$(wc -l <"$T/connect.log")
sshd_stop
wait_log "$T/connect.log" "lost|retrying" 10 "$n0"
# A whole POST, then a close 2 s later (a timed-out client); another resets; five more connect
# and close at once. Seven clients that left: none may reach the remote end, none keeps a slot.
$TNET abort 127.0.0.1 "$L_SINK" --bytes 3000 --pause-ms 2000 &
A1=$!
$TNET abort 127.0.0.1 "$L_SINK" --bytes 3000 --pause-ms 500 --reset 1 &
A2=$!
for i in 1 2 3 4 5; do
	$TNET abort 127.0.0.1 "$L_SINK"
done
wait $A1 $A2
sleep 0.5
# A live client now (an HTTP request, waiting for its answer): with the seven still counted it
# would be past hold_max (6).
curl -s -m 25 "http://127.0.0.1:$L_WEB/" >"$T/live.out" 2>&1 &
LIVE=$!
sleep 0.5
sshd_restart
if t_wait_exit $LIVE 25 && [ "$(cat "$T/live.out")" = "service web" ]; then
	t_pass "a live client held during the outage is served once sshd is back"
else
	t_fail "live held client" "got '$(cat "$T/live.out")'; $(grep -i "hold" "$T/connect.log" | tail -3)"
fi
sleep 1
got=$(($(sink_count accepted) - accepted0))
if [ "$got" = 0 ]; then
	t_pass "held clients that closed or reset before the session was back were dropped: nothing of theirs reached the server"
else
	t_fail "held clients that left" "the remote end saw $got connection(s) (want none):" \
	    "$(grep '^sink:' "$SINK_LOG" | tail -9 | tr '\n' ';')"
fi
if grep -q "hold limit reached\|(hold_max)" "$T/connect.log"; then
	t_fail "hold slots" "clients that left took hold slots: $(grep -i "hold_max" "$T/connect.log" | head -2)"
else
	t_pass "clients that left did not take hold slots (hold_max 6, 7 left, 1 live)"
fi
connect_stop

# ---------------------------------------------------------------- refused channels do not flood the log
# A forward to a closed remote port (a stopped ClearML) and 1000 client connections: libssh's text
# differs in each (its channel number), the meaning does not: a line a minute, with a count.
write_profile "$T/closed.ini" "default_forwards = no" "" "$(fwd closed "$L_CLOSED" "$P_CLOSED")"
"$CONNECT" -F "$T/closed.ini" >"$T/closed.log" 2>&1 &
CP=$!
t_track $CP
wait_port "$L_CLOSED" 15
sleep 1
for i in 1 2 3 4 5; do
	$TNET echo 127.0.0.1 "$L_CLOSED" --bytes 1 --conns 200 --timeout 30 >/dev/null 2>&1
done
t_stop $CP >/dev/null
lines=$(grep -c "refused" "$T/closed.log")
if [ "$lines" -ge 1 ] && [ "$lines" -le 3 ] &&
    grep -q "more like it" "$T/closed.log"; then
	t_pass "1000 refused channels wrote $lines log line(s), the rest counted"
else
	t_fail "refused channels" "$lines lines: $(grep refused "$T/closed.log" | head -3)"
fi

# ---------------------------------------------------------------- clients that leave while their open waits
# The remote port's accept queue is full (tnet --stall): sshd's connect there hangs, so the channel
# open is unanswered for as long as the kernel keeps trying (about 2 minutes). 60 clients come and
# leave under ulimit -n 64: their fds must come back at once, the forwards and status stay usable.
write_profile "$T/stall.ini" "default_forwards = no" "" "$(fwd stall "$L_STALL" "$P_STALL")" \
    "$(fwd sink "$L_SINK" "$P_SINK")"
(ulimit -n 64 && exec "$CONNECT" -F "$T/stall.ini" -v) >"$T/stall.log" 2>&1 &
CP=$!
t_track $CP
wait_log "$T/stall.log" "connected to" 15
fd0=$(fd_count $CP)
i=0
while [ $i -lt 60 ]; do
	pids=
	for j in 1 2 3 4 5 6; do
		$TNET abort 127.0.0.1 "$L_STALL" --pause-ms 200 &
		pids="$pids $!"
	done
	wait $pids
	i=$((i + 6))
done
sleep 0.5
fd1=$(fd_count $CP)
if [ "$fd1" -le $((fd0 + 2)) ]; then
	t_pass "60 clients that left while their channel open waited: fds back at once ($fd0 -> $fd1)"
else
	t_fail "fds of clients gone while opening" "$fd0 before, $fd1 after 60 clients left"
fi
if $TNET send 127.0.0.1 "$L_SINK" --bytes 777 --timeout 10 >"$T/after.out" 2>&1 &&
    [ "$(cat "$T/after.out")" = 777 ] && "$CONNECT" status >"$T/st.out" 2>&1; then
	t_pass "after them another forward and status still work (no EMFILE)"
else
	t_fail "forwards after clients left" "send: $(cat "$T/after.out"); status: $(head -3 "$T/st.out")"
fi
if grep -q "Too many open files\|open-files limit" "$T/stall.log"; then
	t_fail "no fd shortage" "$(grep -m2 "open files\|open-files" "$T/stall.log")"
else
	t_pass "no fd shortage logged"
fi
# The channels of clients gone wait for the server's answer (SSH cannot cancel an open): bounded.
i=0
while [ $i -lt 90 ]; do
	$TNET abort 127.0.0.1 "$L_STALL" >/dev/null 2>&1
	i=$((i + 1))
done
if wait_log "$T/stall.log" "unanswered by the server, their clients gone: refusing" 5 &&
    $TNET send 127.0.0.1 "$L_SINK" --bytes 99 --timeout 10 >"$T/after2.out" 2>&1 &&
    [ "$(cat "$T/after2.out")" = 99 ]; then
	t_pass "orphaned channel opens are bounded (128 a forward, then refused, logged); other forwards unaffected"
else
	t_fail "orphan bound" "$(grep -c "conn.*orphan" "$T/stall.log") orphans; $(tail -2 "$T/stall.log")"
fi
t_stop $CP >/dev/null

t_done
