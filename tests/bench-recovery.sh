#!/bin/sh
# bench-recovery.sh: `make bench-recovery`. A benchmark, not a test: it prints a table and exits 0
# unless it could not run at all.
#
# Side by side, in one run, against the same sshd and the same three services (stand-ins for
# ClearML web/api/files):
#   seed     the script connect replaces: one `ssh -N -L` per port, ServerAliveInterval 30 x
#            ServerAliveCountMax 5, each in `while :; do ssh ...; sleep 5; done`;
#   connect  connect -F profile, its defaults (keepalive 5 s x 3, hold_max 64, hold_timeout 30 s).
# Scenarios (the same fault hits both at once):
#   restart  sshd and its sessions killed, back BENCH_RESTART_DOWN (2) s later;
#   outage   a silent outage of 20 s, and one of 60 s. As root, a real one: sshd and the services
#            run in a network namespace reached over a veth pair, and
#              BENCH_FAULT=link (default): the veth pair's root-side end goes down, then up (the
#                client's own link drops: its route goes, connect attempts fail at once with "no
#                route", and the kernel announces the return on NETLINK_ROUTE);
#              BENCH_FAULT=remote: a router namespace sits between the two, and the far link
#                (router to sshd's namespace) goes down, then up: packets vanish two hops away,
#                nothing changes on the client's side, no event announces the return;
#            not root (or BENCH_NETNS=0): the fault proxy tests/fproxy frozen (SIGUSR1), thawed
#            (SIGUSR2).
# Measured: recovery = ms from the fault's end (sshd accepting again / link up / thaw) until a
# request through EACH of the tool's three forwards has succeeded (each forward polled every
# 100 ms with `curl -m 1`, cap BENCH_CAP s); and what a client opening a connection during the
# fault sees (curl to the web forward, timeout = fault + 30 s): refused, served (after how long),
# closed (accepted then closed without a reply) or timed out.
#
# Each run starts from both tools working for BENCH_SETTLE (35) s plus a random 0-5 s: longer than
# connect's `stable` (30 s), so that every run meets a fresh back-off, as a single fault after a
# quiet period would (faults closer together than that: see BENCHMARKS.md); the random part (one
# keepalive interval) varies where the fault falls in connect's keepalive and retry cycles. The
# "no fault" row is the measurement's own floor: the same polling against healthy tunnels.
#
# Environment: BENCH_RUNS (3: runs of the restart and the 20 s outage), BENCH_LONG (1; 0 skips the
# 60 s outage, which runs once), BENCH_SCENARIOS (restart out20 out60: a subset to run only those),
# BENCH_FAULT (link | remote, as root), BENCH_CAP (120),
# BENCH_NETNS (1 as root; 0 forces the fault proxy), BENCH_RESTART_DOWN (2), BENCH_SETTLE (35),
# CONNECT (default connect/connect; copied first, so rebuilds during the run do not matter),
# T_KEEP=1 keeps the logs. Runtime with the defaults: about 7 minutes.
#
# Network namespace details: addresses from one 10.231.N.0/29 that nothing here uses, only on our
# own veth pairs; an "unreachable" route for that /29 in the root namespace (metric 4000) and a
# blackhole one in the router namespace, so that while a link is down nothing aimed at it leaves
# by another interface. Namespaces, links and routes are removed on exit, whatever the exit.
. "$(dirname "$0")/lib.sh"
t_init bench-recovery

RUNS=${BENCH_RUNS:-3}
LONG=${BENCH_LONG:-1}
CAP=${BENCH_CAP:-120}
DOWN=${BENCH_RESTART_DOWN:-2}
SETTLE=${BENCH_SETTLE:-35}
KIND=${BENCH_FAULT:-link}
SCEN=" ${BENCH_SCENARIOS:-restart out20 out60} "
[ "$LONG" = 0 ] && SCEN=$(echo "$SCEN" | sed 's/ out60 / /')
want() { case $SCEN in *" $1 "*) return 0 ;; esac; return 1; }
case $KIND in link|remote) ;; *) echo "bench-recovery: BENCH_FAULT=link or remote" >&2; exit 1 ;; esac
FPROXY=$TOP/tests/fproxy
R=$T/results
mkdir -p "$R"

die() {
	echo "bench-recovery: $*" >&2
	exit 1
}

command -v curl >/dev/null 2>&1 || die "needs curl"
command -v ssh >/dev/null 2>&1 || die "needs ssh (openssh-client)"
[ -x "$TNET" ] || die "$TNET is missing (make tests/tnet)"
[ -x "$CONNECT" ] || die "$CONNECT is missing (make)"
cp "$CONNECT" "$T/connect" || die "cannot copy $CONNECT"
CONNECT_BIN=$CONNECT
CONNECT=$T/connect

MODE=proxy
if t_is_root && [ "${BENCH_NETNS:-1}" != 0 ] && command -v ip >/dev/null 2>&1; then
	MODE=netns
fi
[ $MODE = proxy ] && [ ! -x "$FPROXY" ] && die "$FPROXY is missing (make tests/fproxy)"

# ------------------------------------------------------------------ teardown
NS=connect-bench$$	# sshd and the services
NSR=connect-brtr$$	# BENCH_FAULT=remote: the router in between
VR=cbr$$r	# root-side end of the first veth pair (root - NS, or root - NSR)
VQ=cbr$$q	# its other end, in NSR (remote)
VS=cbr$$s	# remote: NSR's end of the second pair (NSR - NS); the one taken down
VN=cbr$$n	# NS's end (of the only pair, or of the second one)
NS_UP=
ROUTE=
SEED_PIDS=
CP=
FP=

# Clients first (their sockets close over a live link), then the namespace side, then the links,
# and the route last: nothing aimed at our /30 ever leaves by another interface.
bench_teardown() {
	if [ -n "$NS_UP" ]; then
		ip link set "$VR" up 2>/dev/null
		[ $KIND = remote ] && ip netns exec "$NSR" ip link set "$VS" up 2>/dev/null
	fi
	[ -n "$FP" ] && kill -USR2 "$FP" 2>/dev/null
	for _p in $CP $SEED_PIDS; do
		t_alive "$_p" && t_stop "$_p" TERM 5 >/dev/null
	done
	CP= SEED_PIDS=
	sleep 0.3
	sshd_stop >/dev/null 2>&1
	[ -n "$SERVICES_PID" ] && t_stop "$SERVICES_PID" TERM 5 >/dev/null
	if [ -n "$NS_UP" ]; then
		ip link del "$VR" 2>/dev/null
		ip netns exec "$NSR" ip link del "$VS" 2>/dev/null
		ip netns del "$NS" 2>/dev/null
		ip netns del "$NSR" 2>/dev/null
	fi
	[ -n "$ROUTE" ] && ip route del unreachable "$ROUTE" metric 4000 2>/dev/null
	NS_UP= ROUTE=
}

bench_exit() {
	_rc=$?
	bench_teardown
	(exit $_rc)
	_t_cleanup	# lib.sh's exit trap: stops whatever is left, removes $T (kept with T_KEEP)
}
trap bench_exit EXIT

# ------------------------------------------------------------------ the server side
sshd_start || die "the test sshd did not start (see above)"
set -- $($TNET freeport 10)
P_WEB=$1 P_API=$2 P_FILES=$3
S_WEB=$4 S_API=$5 S_FILES=$6	# seed's local ports
C_WEB=$7 C_API=$8 C_FILES=$9	# connect's local ports
shift 9
P_PROXY=$1

if [ $MODE = netns ]; then
	sshd_stop	# sshd_start proved keys, account and forwarding; now run it in the namespace
	x=$(($$ % 200 + 20))
	i=0
	while ip -4 route show 2>/dev/null | grep -q "^[a-z ]*10\.231\.$x\." ||
	    ip -4 addr show 2>/dev/null | grep -q "inet 10\.231\.$x\."; do
		x=$(((x + 1) % 250))
		i=$((i + 1))
		[ $i -gt 250 ] && break
	done
	N=10.231.$x
	ROUTE=$N.0/29
	if [ $KIND = link ]; then
		# root $N.1 (VR) === $N.2 (VN, in NS)
		ADDR_N=$N.2
		net_setup() {
			ip link add "$VR" type veth peer name "$VN" &&
			ip link set "$VN" netns "$NS" &&
			ip addr add "$N.1/30" dev "$VR" && ip link set "$VR" up &&
			ip netns exec "$NS" ip addr add "$ADDR_N/30" dev "$VN" &&
			ip netns exec "$NS" ip link set "$VN" up
		}
	else
		# root $N.1 (VR) === $N.2 (VQ, in NSR) router $N.5 (VS, in NSR) === $N.6 (VN, in NS)
		ADDR_N=$N.6
		net_setup() {
			ip netns add "$NSR" &&
			ip netns exec "$NSR" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward' &&
			ip netns exec "$NSR" ip link set lo up &&
			ip link add "$VR" type veth peer name "$VQ" &&
			ip link set "$VQ" netns "$NSR" &&
			ip addr add "$N.1/30" dev "$VR" && ip link set "$VR" up &&
			ip netns exec "$NSR" ip addr add "$N.2/30" dev "$VQ" &&
			ip netns exec "$NSR" ip link set "$VQ" up &&
			ip netns exec "$NSR" ip link add "$VS" type veth peer name "$VN" &&
			ip netns exec "$NSR" ip link set "$VN" netns "$NS" &&
			ip netns exec "$NSR" ip addr add "$N.5/30" dev "$VS" &&
			ip netns exec "$NSR" ip link set "$VS" up &&
			ip netns exec "$NSR" ip route add blackhole "$N.4/30" metric 4000 &&
			ip netns exec "$NS" ip addr add "$ADDR_N/30" dev "$VN" &&
			ip netns exec "$NS" ip link set "$VN" up &&
			ip netns exec "$NS" ip route add "$N.0/30" via "$N.5" &&
			ip route add "$N.4/30" via "$N.2"
		}
	fi
	if ! { ip route add unreachable "$ROUTE" metric 4000 &&
	    ip netns add "$NS" && NS_UP=1 &&
	    ip netns exec "$NS" ip link set lo up && net_setup; } 2>"$T/ip.err"; then
		echo "bench-recovery: no network namespace here ($(tail -1 "$T/ip.err")):" \
		    "using the fault proxy" >&2
		bench_teardown
		MODE=proxy
		sshd_restart || die "sshd did not restart"
	fi
fi

if [ $MODE = netns ]; then
	HOST=$ADDR_N
	PORT=$SSHD_PORT
	sed -e "s/^ListenAddress .*/ListenAddress $ADDR_N/" \
	    -e "s|^PidFile .*|PidFile \"$T/sshd-ns.pid\"|" "$T/sshd_config" >"$T/sshd_ns_config"
	# sshd_up: start sshd in the namespace; returns once it accepts on the veth address.
	sshd_up() {
		t_bg ip netns exec "$NS" "$SSHD" -D -e -f "$T/sshd_ns_config" >>"$T/sshd.log" 2>&1
		SSHD_PID=$T_LASTPID
		"$TNET" probe "$ADDR_N" "$SSHD_PORT" --wait 10
	}
	if [ $KIND = link ]; then
		fault_down() { ip link set "$VR" down; }
		fault_up() { ip link set "$VR" up; }
		FAULT="BENCH_FAULT=link: the client's veth link down/up (sshd and services in netns $NS, $ADDR_N)"
	else
		fault_down() { ip netns exec "$NSR" ip link set "$VS" down; }
		fault_up() { ip netns exec "$NSR" ip link set "$VS" up; }
		FAULT="BENCH_FAULT=remote: the link two hops away (router netns $NSR to sshd's netns $NS, $ADDR_N) down/up"
	fi
	sshd_up || die "sshd did not start in the namespace"
	# The services on the namespace's loopback (as ClearML on a Studio's localhost): tnet
	# through a wrapper that enters the namespace, so that lib.sh's readiness probes look there.
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$TNET" >"$T/tnet-ns"
	chmod +x "$T/tnet-ns"
	TNET=$T/tnet-ns services_start "$P_WEB" "$P_API" "$P_FILES" ||
	    die "the services did not start in the namespace"
else
	HOST=127.0.0.1
	PORT=$P_PROXY
	sshd_up() { sshd_restart; }
	fault_down() { kill -USR1 "$FP"; }
	fault_up() { kill -USR2 "$FP"; }
	KIND=proxy
	FAULT="fault proxy freeze/thaw (tests/fproxy SIGUSR1/SIGUSR2; not root, or BENCH_NETNS=0)"
	services_start "$P_WEB" "$P_API" "$P_FILES" || die "the services did not start"
	t_bg "$FPROXY" "$P_PROXY" "$SSHD_PORT" --pidfile "$T/fp.pid" 2>"$T/fp.log"
	FP=$T_LASTPID
	wait_port "$P_PROXY" 5 || die "fproxy did not start"
fi
# sshd_down: kill sshd and every session (the listener's port closes).
sshd_down() { sshd_stop; }

# ------------------------------------------------------------------ the two tools
cat >"$T/seed-loop.sh" <<'EOF'
#!/bin/sh
# One port of the seed script: ssh -N -L, restarted 5 s after each exit.
# seed-loop.sh KEY PORT USER HOST KNOWN_HOSTS LPORT:RHOST:RPORT
trap 'kill $c 2>/dev/null; exit 0' TERM INT HUP
while :; do
	ssh -N -F /dev/null -o ServerAliveInterval=30 -o ServerAliveCountMax=5 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile="$5" -o BatchMode=yes \
	    -i "$1" -p "$2" -L "$6" "$3@$4" &
	c=$!
	wait $c
	echo "$(date '+%F %T.%N') seed $6: ssh exited ($?); restarting in 5 s"
	sleep 5 &
	c=$!
	wait $c
done
EOF
for spec in "$S_WEB:127.0.0.1:$P_WEB" "$S_API:127.0.0.1:$P_API" "$S_FILES:127.0.0.1:$P_FILES"; do
	t_bg sh "$T/seed-loop.sh" "$SSHD_KEY" "$PORT" "$SSHD_USER" "$HOST" "$T/seed_known_hosts" \
	    "$spec" >>"$T/seed.log" 2>&1
	SEED_PIDS="$SEED_PIDS $T_LASTPID"
done

write_profile "$T/connect.ini" "default_forwards = no" \
    "[forward web]" "local_port = $C_WEB" "remote_host = 127.0.0.1" "remote_port = $P_WEB" \
    "[forward api]" "local_port = $C_API" "remote_host = 127.0.0.1" "remote_port = $P_API" \
    "[forward files]" "local_port = $C_FILES" "remote_host = 127.0.0.1" "remote_port = $P_FILES"
sed -i "s/^host = .*/host = $HOST/; s/^port = .*/port = $PORT/" "$T/connect.ini"
t_bg "$CONNECT" -F "$T/connect.ini" -v >"$T/connect.log" 2>&1
CP=$T_LASTPID

# ------------------------------------------------------------------ measuring
# fwd_ok TOOL: every forward of TOOL answers (one try each).
fwd_ok() {
	case $1 in
	seed) set -- $S_WEB $S_API $S_FILES ;;
	*) set -- $C_WEB $C_API $C_FILES ;;
	esac
	[ "$(curl -s -m 1 "http://127.0.0.1:$1/")" = "service web" ] &&
	[ "$(curl -s -m 1 "http://127.0.0.1:$2/")" = "service api" ] &&
	[ "$(curl -s -m 1 "http://127.0.0.1:$3/")" = "service files" ]
}

# wait_healthy SECS: both tools fully working, else return 1.
wait_healthy() {
	_lim=$(($(now_ms) + $1 * 1000))
	until fwd_ok seed && fwd_ok connect; do
		[ "$(now_ms)" -lt $_lim ] || return 1
		sleep 0.2
	done
}

# poller OUT LPORT NAME T0: poll 127.0.0.1:LPORT every 100 ms until it answers "service NAME";
# write the ms since T0 to OUT, or "cap" after CAP s.
poller() {
	_lim=$(($4 + CAP * 1000))
	_n=0
	while :; do
		if [ "$(curl -s -m 1 "http://127.0.0.1:$2/")" = "service $3" ]; then
			echo $(($(now_ms) - $4)) >"$1"
			return 0
		fi
		_n=$((_n + 1))
		# the clock only every 10th try: fewer processes between two tries
		if [ $((_n % 10)) = 0 ] && [ "$(now_ms)" -ge $_lim ]; then
			echo cap >"$1"
			return 0
		fi
		sleep 0.1
	done
}

# measure SCENARIO T0: poll the six forwards from T0 on; append each tool's recovery (the
# slowest of its three forwards, in ms, or "cap") to $R/SCENARIO.TOOL.
measure() {
	_pp=
	for _f in seed:web:$S_WEB seed:api:$S_API seed:files:$S_FILES \
	    connect:web:$C_WEB connect:api:$C_API connect:files:$C_FILES; do
		IFS=: read -r _tool _name _lp <<EOF
$_f
EOF
		poller "$T/poll.$_tool.$_name" "$_lp" "$_name" "$2" &
		_pp="$_pp $!"
		t_track $!
	done
	for _p in $_pp; do t_wait_exit "$_p" $((CAP + 10)); done
	for _tool in seed connect; do
		cat "$T/poll.$_tool.web" "$T/poll.$_tool.api" "$T/poll.$_tool.files" |
		    awk '$1 == "cap" { cap = 1 } $1 + 0 > m { m = $1 + 0 }
			END { if (cap) print "cap"; else print m }' >>"$R/$1.$_tool"
		rm -f "$T/poll.$_tool."*
	done
}

# client OUT LPORT TIMEOUT: one request to the web forward at 127.0.0.1:LPORT; write what it saw
# and after how many ms: served / refused / closed / reset / timeout / error.
client() {
	_c0=$(now_ms)
	_body=$(curl -s -m "$3" "http://127.0.0.1:$2/" 2>/dev/null)
	_crc=$?
	_dt=$(($(now_ms) - _c0))
	case $_crc in
	0) [ "$_body" = "service web" ] && _what=served || _what=wrong-body ;;
	7) _what=refused ;;
	28) _what=timeout ;;
	52) _what=closed ;;
	56) _what=reset ;;
	*) _what=error$_crc ;;
	esac
	echo "$_what $_dt" >"$1"
}

CLIENT_PIDS=
# clients SCENARIO.WHEN TIMEOUT: start one outage-time client per tool (in the background).
clients() {
	client "$T/cl.seed.$1" $S_WEB "$2" &
	CLIENT_PIDS="$CLIENT_PIDS $!"
	t_track $!
	client "$T/cl.connect.$1" $C_WEB "$2" &
	CLIENT_PIDS="$CLIENT_PIDS $!"
	t_track $!
}

clients_collect() {
	for _p in $CLIENT_PIDS; do t_wait_exit "$_p" $((CAP + 100)); done
	CLIENT_PIDS=
	for _f in "$T"/cl.*.*; do
		[ -f "$_f" ] || continue
		_b=${_f#"$T"/cl.}	# TOOL.SCENARIO.WHEN
		cat "$_f" >>"$R/client.$_b"
		rm -f "$_f"
	done
}

# connect's log lines of interest since line $1, for the per-run summary.
log_since() {
	tail -n +$(($1 + 1)) "$T/connect.log" |
	    grep -E "stopped answering|network changed|reconnected|retrying in|lost|hold" |
	    grep -v " debug: " | sed 's/^/      /'
}

# prepare: both tools healthy, then BENCH_SETTLE s of steady state. Returns 1 if not healthy.
prepare() {
	if ! wait_healthy 180; then
		echo "  $1: the tools did not both come back within 180 s; skipping this run" >&2
		echo "skipped" >>"$R/skipped"
		echo "    seed: $(tail -2 "$T/seed.log" | tr '\n' ' ')" >&2
		echo "    connect: $(tail -2 "$T/connect.log" | tr '\n' ' ')" >&2
		return 1
	fi
	sleep "$SETTLE"
	sleep "$(awk -v s="$(now_ms)" 'BEGIN { srand(s % 1000003); printf "%.3f", rand() * 5 }')"
}

run_restart() {
	prepare "restart run $1" || return 0
	_l=$(wc -l <"$T/connect.log")
	sshd_down
	_tf=$(now_ms)
	sleep 0.5
	clients restart.down $((DOWN + 30))
	sleep_until $((_tf + DOWN * 1000))
	sshd_up || { echo "  restart run $1: sshd did not come back" >&2; return 0; }
	_t0=$(now_ms)
	measure restart "$_t0"
	clients_collect
	echo "  restart run $1: seed $(tail -1 "$R/restart.seed") ms, connect $(tail -1 "$R/restart.connect") ms" >&2
	log_since "$_l" >&2
}

run_outage() {	# run_outage SECS RUN
	_s=$1
	prepare "outage ${_s}s run $2" || return 0
	_l=$(wc -l <"$T/connect.log")
	fault_down
	_tf=$(now_ms)
	sleep_until $((_tf + 2000))
	clients "out$_s.early" $((_s + 30))
	sleep_until $((_tf + (_s - 2) * 1000))
	clients "out$_s.late" $((_s + 30))
	sleep_until $((_tf + _s * 1000))
	fault_up
	_t0=$(now_ms)
	measure "out$_s" "$_t0"
	clients_collect
	echo "  outage ${_s}s run $2: seed $(tail -1 "$R/out$_s.seed") ms, connect $(tail -1 "$R/out$_s.connect") ms" >&2
	log_since "$_l" >&2
}

START=$(now_ms)
echo "bench-recovery: $FAULT; logs in $T" >&2
wait_healthy 30 || die "the tunnels did not come up: $(tail -3 "$T/connect.log") / $(tail -3 "$T/seed.log")"
# The floor: the same measurement against healthy tunnels.
for i in 1 2 3; do
	sleep 1
	measure floor "$(now_ms)"
done
i=1
while want restart && [ $i -le "$RUNS" ]; do
	run_restart $i
	i=$((i + 1))
done
i=1
while want out20 && [ $i -le "$RUNS" ]; do
	run_outage 20 $i
	i=$((i + 1))
done
want out60 && run_outage 60 1
ELAPSED=$((($(now_ms) - START) / 1000))

# ------------------------------------------------------------------ the table
# stats FILE: "median (min-max)" of the numbers in FILE; "cap" entries count as > cap.
stats() {
	[ -s "$1" ] || { echo "-"; return; }
	sort -n "$1" | awk -v cap="$CAP" '
		$1 == "cap" { ncap++; next }
		{ v[n++] = $1 }
		END {
			if (n == 0) { printf ">%ds (all %d capped)", cap, ncap; exit }
			if (ncap > 0 && ncap >= n) { printf ">%ds (%d/%d capped)", cap, ncap, n + ncap; exit }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			if (n + ncap == 1) printf "%d", m
			else printf "%d (%d-%d)%s", m, v[0], v[n - 1], ncap ? sprintf(", %d capped", ncap) : ""
		}'
}

# within2 FILE: how many runs recovered within 2000 ms.
within2() {
	[ -s "$1" ] || { echo "-"; return; }
	awk '$1 != "cap" && $1 <= 2000 { ok++ } END { printf "%s (%d/%d)", ok == NR ? "yes" : "NO", ok, NR }' "$1"
}

# seen FILE: "served 3/3, 2.1 s" style summary of the outage-time clients.
seen() {
	[ -s "$1" ] || { echo "-"; return; }
	awk '{ n[$1]++; t[$1] = t[$1] " " $2; tot++ }
		END {
			s = ""
			for (k in n) {
				split(substr(t[k], 2), a, " ")
				# median wait of this outcome
				c = 0; for (i in a) c++
				for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
					if (a[j] + 0 < a[i] + 0) { x = a[i]; a[i] = a[j]; a[j] = x }
				med = (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
				s = s (s == "" ? "" : ", ") sprintf("%s %d/%d after %.1f s", k, n[k], tot, med / 1000)
			}
			print s
		}' "$1"
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
echo
echo "== Recovery: connect vs the seed script ($(date '+%F %H:%M'))"
echo "machine: $(uname -srm), $(nproc 2>/dev/null || echo '?') CPUs${cpu:+ ($cpu)}, $(ssh -V 2>&1 | cut -d, -f1)," \
    "$("$CONNECT" -V 2>&1 | head -1)"
echo "command: make bench-recovery  (BENCH_FAULT=$KIND BENCH_RUNS=$RUNS BENCH_SCENARIOS='$(echo $SCEN)'" \
    "BENCH_CAP=$CAP BENCH_RESTART_DOWN=$DOWN BENCH_SETTLE=$SETTLE; connect: $CONNECT_BIN)"
echo "fault:   $FAULT"
echo "seed:    3 x 'while :; do ssh -N -L ...; sleep 5; done', ServerAliveInterval 30 x CountMax 5"
echo "connect: defaults: keepalive 5 s x 3, hold_max 64, hold_timeout 30 s"
echo "recovery: ms from the fault's end (sshd accepting again / link up / thaw) until a request"
echo "  through each of the three forwards has succeeded (curl -m 1 every 100 ms, cap ${CAP} s);"
echo "  median (min-max) over the runs; each run after ${SETTLE}-$((SETTLE + 5)) s of both tools working"
echo
printf '%-28s %4s  %-24s %-24s %s\n' scenario runs "seed" "connect" "connect <= 2 s"
line() {	# line LABEL KEY RUNS
	printf '%-28s %4s  %-24s %-24s %s\n' "$1" "$3" "$(stats "$R/$2.seed")" \
	    "$(stats "$R/$2.connect")" "$(within2 "$R/$2.connect")"
}
line "no fault (measurement floor)" floor 3
want restart && line "sshd restart (down ${DOWN} s)" restart "$RUNS"
want out20 && line "silent outage 20 s" out20 "$RUNS"
want out60 && line "silent outage 60 s" out60 1
echo
echo "A client connecting during the fault (curl to the web forward, timeout = fault + 30 s):"
printf '%-34s %-32s %s\n' "scenario, opened at" "seed" "connect"
cline() {	# cline LABEL KEY
	printf '%-34s %-32s %s\n' "$1" "$(seen "$R/client.seed.$2")" "$(seen "$R/client.connect.$2")"
}
want restart && cline "sshd restart, +0.5 s (sshd down)" restart.down
if want out20; then
	cline "outage 20 s, +2 s" out20.early
	cline "outage 20 s, +18 s" out20.late
fi
if want out60; then
	cline "outage 60 s, +2 s" out60.early
	cline "outage 60 s, +58 s" out60.late
fi
echo "  (served: got the page, after the wait shown; closed: accepted, then closed without a reply;"
echo "   refused: connection refused; timeout: nothing within the timeout)"
echo
[ -s "$R/skipped" ] && echo "runs skipped (a tool not back within 180 s): $(wc -l <"$R/skipped")"
echo "runtime: ${ELAPSED} s"
exit 0
