#!/bin/sh
# t-netns.sh: a real network outage (root only). sshd and the three services run in a network
# namespace of their own, reached over a veth pair; the root-side end is taken down and up.
# Checks, with connect at keepalive 1 s x 3:
#   - the dead path is noticed ("stopped answering", or an urgent keepalive unanswered) while
#     the link is down;
#   - after link up the forwards work again within a loose bound (5 s), and connect says
#     "network changed" (it watches NETLINK_ROUTE and retries at once);
#   - a second connect started while the link was down (its attempts fail: no route) is up
#     promptly after link up;
#   - a silent path (the namespace end down: SYNs vanish, attempts hang) is left at once when
#     the link returns ("network changed"), not after the connect timeout.
# Addresses: a /30 of 10.231.0.0/16, used only on our own veth pair; an "unreachable" route for
# that /30 (metric 4000) in the root namespace keeps its packets off every other interface while
# the link is down. Everything (namespace, links, route) is removed on exit. About 40 s.
. "$(dirname "$0")/lib.sh"
t_init netns

if ! t_need_root "real network outage (veth + netns)"; then
	t_done
fi
if ! command -v ip >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	t_skip "real network outage" "needs ip (iproute2) and curl"
	t_done
fi

NS=connect-tn$$
VR=ctn$$r	# root-side end
VN=ctn$$n	# namespace-side end
NS_UP=
ROUTE=

lines() { wc -l <"$1" | tr -d ' '; }

# How connect says a session died here. The link going down is itself a network change, which sends
# an urgent keepalive with a 3 s deadline: with keepalive 1 s x 3 both deadlines fall about 3 s after
# the last packet, and either may be first (in one `make valgrind` run the probe was).
DEAD='stopped answering|did not answer an urgent keepalive'

# fwd_ok L1 L2 L3: all three forwards answer with their service's name.
fwd_ok() {
	[ "$(curl -s -m 1 "http://127.0.0.1:$1/")" = "service web" ] &&
	[ "$(curl -s -m 1 "http://127.0.0.1:$2/")" = "service api" ] &&
	[ "$(curl -s -m 1 "http://127.0.0.1:$3/")" = "service files" ]
}


# Client side first (connect processes), then the namespace side, then the links and the route:
# the link is brought up first so that closing sockets can finish over it, and the route goes
# last so that nothing aimed at our /30 ever leaves by another interface.
netns_teardown() {
	if [ -n "$NS_UP" ]; then
		ip link set "$VR" up 2>/dev/null
		ip netns exec "$NS" ip link set "$VN" up 2>/dev/null
	fi
	for _p in $C1 $C2; do
		t_alive "$_p" && t_stop "$_p" TERM 5 >/dev/null
	done
	sleep 0.3
	sshd_stop >/dev/null 2>&1
	[ -n "$SERVICES_PID" ] && t_stop "$SERVICES_PID" TERM 5 >/dev/null
	if [ -n "$NS_UP" ]; then
		ip link del "$VR" 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	[ -n "$ROUTE" ] && ip route del unreachable "$ROUTE" metric 4000 2>/dev/null
	NS_UP= ROUTE=
}

netns_exit() {
	_rc=$?
	netns_teardown
	(exit $_rc)
	_t_cleanup	# lib.sh's own exit trap: stops what is left, removes $T
}
trap netns_exit EXIT

if ! sshd_start; then	# proves keys, account and forwarding on loopback first
	t_fail sshd "the test sshd did not start (see above)"
	t_done
fi
sshd_stop

# A /30 nobody uses here.
x=$(($$ % 200 + 20))
i=0
while [ -n "$(ip -4 route show "10.231.$x.0/30" 2>/dev/null)" ] ||
    ip -4 addr show 2>/dev/null | grep -q "inet 10\.231\.$x\."; do
	x=$(((x + 1) % 250))
	i=$((i + 1))
	[ $i -gt 250 ] && break
done
ADDR_R=10.231.$x.1
ADDR_N=10.231.$x.2
ROUTE=10.231.$x.0/30

if ! { ip route add unreachable "$ROUTE" metric 4000 &&
    ip netns add "$NS" && NS_UP=1 &&
    ip link add "$VR" type veth peer name "$VN" &&
    ip link set "$VN" netns "$NS" &&
    ip addr add "$ADDR_R/30" dev "$VR" && ip link set "$VR" up &&
    ip netns exec "$NS" ip addr add "$ADDR_N/30" dev "$VN" &&
    ip netns exec "$NS" ip link set "$VN" up &&
    ip netns exec "$NS" ip link set lo up; } 2>"$T/ip.err"; then
	t_skip "real network outage" "cannot set up a network namespace here: $(tail -1 "$T/ip.err")"
	t_done
fi

# sshd in the namespace, on its veth address; the services on the namespace's loopback (as on a
# Studio: ClearML on localhost). lib.sh's services_start runs tnet through a wrapper that enters
# the namespace, so its readiness probes look there too.
sed -e "s/^ListenAddress .*/ListenAddress $ADDR_N/" -e "s|^PidFile .*|PidFile \"$T/sshd-ns.pid\"|" \
    "$T/sshd_config" >"$T/sshd_ns_config"
t_bg ip netns exec "$NS" "$SSHD" -D -e -f "$T/sshd_ns_config" >>"$T/sshd.log" 2>&1
SSHD_PID=$T_LASTPID
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$TNET" >"$T/tnet-ns"
chmod +x "$T/tnet-ns"
set -- $($TNET freeport 9)
P_WEB=$1 P_API=$2 P_FILES=$3
if ! "$TNET" probe "$ADDR_N" "$SSHD_PORT" --wait 10 ||
    ! TNET=$T/tnet-ns services_start "$P_WEB" "$P_API" "$P_FILES"; then
	t_fail "namespace setup" "sshd or the services did not come up in $NS"
	tail -20 "$T/sshd.log" >&2
	t_done
fi

profile() {	# profile FILE L_WEB L_API L_FILES
	write_profile "$1" "default_forwards = no" \
	    "[forward web]" "local_port = $2" "remote_host = 127.0.0.1" "remote_port = $P_WEB" \
	    "[forward api]" "local_port = $3" "remote_host = 127.0.0.1" "remote_port = $P_API" \
	    "[forward files]" "local_port = $4" "remote_host = 127.0.0.1" "remote_port = $P_FILES" \
	    "[keepalive]" "interval = 1s" "count = 3"
	sed -i "s/^host = .*/host = $ADDR_N/" "$1"
}
A1=$4 A2=$5 A3=$6 B1=$7 B2=$8 B3=$9
profile "$T/a.ini" $A1 $A2 $A3
profile "$T/b.ini" $B1 $B2 $B3

t_bg "$CONNECT" -F "$T/a.ini" -v >"$T/a.log" 2>&1
C1=$T_LASTPID
if wait_log "$T/a.log" "connected to" 15 && until_ok 5 fwd_ok $A1 $A2 $A3 >/dev/null; then
	t_pass "tunnel up over the veth to the namespace ($ADDR_N)"
else
	t_fail "tunnel up over the veth" "$(tail -5 "$T/a.log")"
	t_done
fi

# ---------------------------------------------------------------- root-side link down 8 s
sleep 1
ip link set "$VR" down
t_down=$(now_ms)
if wait_log "$T/a.log" "$DEAD" 7; then
	det=$(($(now_ms) - t_down))
	t_pass "link down: the dead path is noticed after $det ms (keepalive 1 s x 3)"
else
	t_fail "link down: detection" "no '$DEAD' within 7 s: $(tail -3 "$T/a.log")"
fi
# A second connect, started while the link is down: its attempts find no route.
sleep 1
t_bg "$CONNECT" -F "$T/b.ini" -v >"$T/b.log" 2>&1
C2=$T_LASTPID
while [ $(($(now_ms) - t_down)) -lt 8000 ]; do sleep 0.1; done
la=$(lines "$T/a.log")
lb=$(lines "$T/b.log")
ip link set "$VR" up
t_up=$(now_ms)
if ms=$(until_ok 5 fwd_ok $A1 $A2 $A3); then
	t_pass "link up after 8 s: the forwards work again after $ms ms (bound 5 s)"
else
	t_fail "link up: forwards back" "not within 5 s: $(tail -n +$((la + 1)) "$T/a.log" | tail -5)"
fi
if wait_log "$T/a.log" "network changed" 2 "$la"; then
	t_pass "link up: connect logs 'network changed' and retries at once"
else
	t_fail "link up: network changed" "not logged after link up: $(tail -n +$((la + 1)) "$T/a.log" | tail -5)"
fi
if ms=$(until_ok 5 fwd_ok $B1 $B2 $B3) && grep -q "connected to" "$T/b.log"; then
	ms=$(($(now_ms) - t_up))
	if wait_log "$T/b.log" "network changed" 1 "$lb"; then
		t_pass "a connect started while the link was down is up $ms ms after link up ('network changed')"
	else
		t_fail "started while down" "up after $ms ms but no 'network changed' after link up"
	fi
else
	t_fail "started while down" "not up within 5 s of link up: $(tail -5 "$T/b.log")"
fi

# ---------------------------------------------------------------- silent path: namespace end down
# The root end stays up (its route stays, carrier lost): SYNs and keepalives vanish, so the
# reconnect attempts hang in TCP connect instead of failing at once.
sleep 1
la=$(lines "$T/a.log")
lb=$(lines "$T/b.log")
ip netns exec "$NS" ip link set "$VN" down
t_down=$(now_ms)
if wait_log "$T/a.log" "$DEAD" 7 "$la" && wait_log "$T/b.log" "$DEAD" 7 "$lb"; then
	t_pass "silent path: both connects notice it ($(($(now_ms) - t_down)) ms)"
else
	t_fail "silent path: detection" "$(tail -n +$((la + 1)) "$T/a.log" | tail -3)"
fi
# Attempts meanwhile hang in TCP connect: a socket more dials every second (a SYN lost to the
# outage is otherwise sent again only after 1, 3, 7 s). Due about 4.5-5 s after link down.
redial=0
wait_log "$T/a.log" "unanswered: dialling it again \(2 in flight\)" 12 "$la" && redial=1
while [ $(($(now_ms) - t_down)) -lt 6000 ]; do sleep 0.1; done
if [ $redial = 1 ]; then
	t_pass "silent path: an unanswered connect is dialled again each second"
else
	t_fail "silent path: redial" "$(tail -n +$((la + 1)) "$T/a.log" | grep -i connect | tail -3)"
fi
la=$(lines "$T/a.log")
lb=$(lines "$T/b.log")
ip netns exec "$NS" ip link set "$VN" up
t_up=$(now_ms)
if until_ok 8 fwd_ok $A1 $A2 $A3 >/dev/null && until_ok 8 fwd_ok $B1 $B2 $B3 >/dev/null; then
	ms=$(($(now_ms) - t_up))
	# Two handshakes and six curls in series; the bound only has to tell it from the 10 s
	# connect timeout.
	if [ $ms -le 5000 ]; then
		t_pass "silent path back: both tunnels work $ms ms after link up (bound 5 s)"
	else
		t_fail "silent path back" "took $ms ms (bound 5 s; the connect timeout is 10 s)"
	fi
else
	t_fail "silent path back" "not within 8 s: $(tail -n +$((la + 1)) "$T/a.log" | tail -5)"
fi
if wait_log "$T/a.log" "network changed" 1 "$la"; then
	t_pass "silent path back: 'network changed' logged at link up"
else
	t_fail "silent path back: network changed" "$(tail -n +$((la + 1)) "$T/a.log" | tail -5)"
fi

for p in $C1 $C2; do
	t_stop "$p" TERM 10
	rc=$?
	[ $rc = 0 ] || t_fail "clean exit" "connect $p: status $rc"
done
C1= C2=
echo "---- connect a.log:" >&2
grep -E "$DEAD|network changed|reconnected|retrying|cannot connect|timed out" \
    "$T/a.log" | sed 's/^/  | /' >&2
t_done
