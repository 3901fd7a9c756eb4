#!/bin/sh
# bench.sh: `make bench`. connect against OpenSSH `ssh -N -L` through the SAME loopback sshd
# (tests/lib.sh sshd_start), same cipher, alternating runs (connect, ssh, connect, ssh, ...), and
# a table of medians with the ratio connect/OpenSSH. Timing is never pass/fail: exit 0 unless
# something could not run at all (sshd, the services, iperf3 missing...). Linux only (/proc).
#
#   1. bulk throughput through one forward (iperf3 -t 3, upload = client -> server, -R = download),
#      aes128-gcm and chacha20-poly1305, plus the tunnel's CPU per GB moved;
#   2. the same over a WAN-like path: tests/fproxy --delay-ms 25 (50 ms RTT) between the SSH client
#      and sshd, with iperf3 through fproxy alone to show the proxy is not the bottleneck;
#   2b. HTTP through one forward with wrk (aes128-gcm): requests/s, p50 and p99 latency at 1, 64
#      and 512 connections, keep-alive and a new connection per request, and the tunnel's CPU per
#      request (schedstat); the tnet server alone too;
#   3. ms from spawn to the first good HTTP answer through each of three forwards: connect (one
#      process) vs one `ssh -N -L -L -L` (also with curve25519 key exchange, libssh's) vs three
#      `ssh -N -L` started together (the old script); then curl's time for GET / once up;
#   4. RSS idle (connected, no traffic) and with 512 idle connections through a forward (opened 64
#      at a time: both listen with a backlog of 128); CPU time over BENCH_IDLE_SECS of idleness
#      with three forwards (utime+stime, 10 ms ticks, and schedstat, in us);
#   5. RSS growth while a slow client pauses 2 s reading a 64 MiB download (must stay bounded).
#
# Environment: BENCH_RUNS (runs of each side per measurement, default 5), BENCH_IDLE_SECS (60),
# BENCH_CIPHERS (LAN, default "aes128-gcm@openssh.com chacha20-poly1305@openssh.com"),
# BENCH_WAN_CIPHERS (default aes128-gcm@openssh.com: over 50 ms RTT the window, not the cipher,
# sets the pace), BENCH_DELAY_MS (25 each way), BENCH_SECS (iperf3 -t, 3), BENCH_ONLY (the parts
# to run, default "lan wan http ready mem idle slow"), BENCH_HTTP_SECS (wrk -d, 3),
# BENCH_HTTP_CONNS (wrk -c values, "1 64 512"), T_KEEP=1 keeps the temp dir (the logs of every
# run). Progress goes to stderr, the report to stdout. About 5 minutes with the defaults.
. "$(dirname "$0")/lib.sh"

BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_IDLE_SECS=${BENCH_IDLE_SECS:-60}
BENCH_CIPHERS=${BENCH_CIPHERS:-aes128-gcm@openssh.com chacha20-poly1305@openssh.com}
BENCH_WAN_CIPHERS=${BENCH_WAN_CIPHERS-aes128-gcm@openssh.com}
BENCH_DELAY_MS=${BENCH_DELAY_MS:-25}
BENCH_SECS=${BENCH_SECS:-3}
BENCH_ONLY=${BENCH_ONLY:-lan wan http ready mem idle slow}
BENCH_HTTP_SECS=${BENCH_HTTP_SECS:-3}
BENCH_HTTP_CONNS=${BENCH_HTTP_CONNS:-1 64 512}
FPROXY=${FPROXY:-$TOP/tests/fproxy}
HOLD_CONNS=512
HOLD_BATCH=64
BLAST=64m

t_init bench
trap 'exit 141' PIPE	# stdout closed (e.g. piped into head): still clean up

case $BENCH_RUNS$BENCH_IDLE_SECS$BENCH_SECS$BENCH_DELAY_MS in
*[!0-9]*) echo "bench: BENCH_RUNS, BENCH_IDLE_SECS, BENCH_SECS, BENCH_DELAY_MS: whole numbers" >&2
	exit 64 ;;
esac
[ "$BENCH_RUNS" -ge 1 ] || { echo "bench: BENCH_RUNS must be at least 1" >&2; exit 64; }

bench_start=$(date +%s)
cmdline="sh tests/bench.sh${*:+ $*}"
[ -n "$MAKELEVEL" ] && cmdline="make bench ($cmdline)"
cmdline="$cmdline with BENCH_RUNS=$BENCH_RUNS BENCH_IDLE_SECS=$BENCH_IDLE_SECS"
cmdline="$cmdline BENCH_SECS=$BENCH_SECS BENCH_DELAY_MS=$BENCH_DELAY_MS BENCH_ONLY='$BENCH_ONLY'"

# ------------------------------------------------------------------ helpers

say() { echo "bench: $*" >&2; }

# fatal WHY: something could not run at all: exit 1.
fatal() {
	echo "bench: cannot run: $*" >&2
	echo "bench: cannot run: $*"
	T_KEEP=1
	exit 1
}

# err WHAT [LOG]: one measurement failed: say so (with the log's tail), keep $T, go on.
err() {
	echo "bench: ERROR: $1" >&2
	echo "$1${2:+ (log: $2)}" >>"$T/errors"
	if [ -n "$2" ] && [ -f "$2" ]; then
		tail -n 15 "$2" | sed 's/^/  | /' >&2
	fi
	T_KEEP=1
}

now_ns() { date +%s%N; }

# listening PORT: 127.0.0.1:PORT has a listening socket (checked without connecting to it: a
# probe connection through a forward would reach iperf3 as a bogus test).
listening() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' \
	    /proc/net/tcp
}

# wait_listen PID SECS PORT...: until every PORT listens; fails when PID dies or SECS pass.
wait_listen() {
	_wl_pid=$1 _wl_n=$(($2 * 100))
	shift 2
	for _wl_p in "$@"; do
		until listening "$_wl_p"; do
			t_alive "$_wl_pid" || return 1
			_wl_n=$((_wl_n - 1))
			[ "$_wl_n" -gt 0 ] || return 1
			sleep 0.01
		done
	done
}

# cpu_ms PID: utime + stime of PID so far, in ms.
cpu_ms() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk -v hz="$CLK_TCK" '{ printf "%d\n", ($12 + $13) * 1000 / hz }'
}

# sched_us PID: CPU time of all PID's threads so far, in us, from /proc/PID/task/*/schedstat
# (nanosecond resolution, where utime+stime count 10 ms ticks).
sched_us() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s / 1000 }'
}

# sshd_us: CPU time (us, schedstat) of every sshd process that serves a connection, summed. The
# tunnel's choices cost the server too (packets, channels): its side of the bill.
sshd_us() {
	for _su_p in $(_descendants "$SSHD_PID"); do
		sched_us "$_su_p"
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# machine_us: busy CPU time (us) of the whole machine so far, every process and the kernel's
# softirqs included: what a request costs altogether on a machine the benchmark fills.
machine_us() {
	awk -v hz="$CLK_TCK" '$1 == "cpu" { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8) * 1000000 / hz }' /proc/stat
}

# per_request US WRK_LOG: US divided by the requests wrk made (empty if none).
per_request() {
	awk -v c="$1" '$2 == "requests" && $3 == "in" && $1 > 0 { printf "%.1f\n", c / $1 }' "$2"
}

# status_kb PID FIELD: a kB field (VmRSS, VmHWM) of /proc/PID/status.
status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# res KEY SIDE VALUE: record one result (SIDE: c = connect, o = OpenSSH, s = seed-style (3 ssh),
# k = ssh with curve25519 key exchange, p = fproxy alone).
res() {
	[ -n "$3" ] && echo "$3" >>"$T/res/$1.$2"
}

# median KEY SIDE: the median of the recorded values, "-" when none.
median() {
	if [ -s "$T/res/$1.$2" ]; then
		sort -n "$T/res/$1.$2" | awk '{ v[NR] = $1 } END {
			if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (m >= 100 || m == int(m)) printf "%.0f\n", m; else printf "%.2f\n", m }'
	else
		echo -
	fi
}

# raw KEY SIDE: the recorded values on one line.
raw() {
	[ -s "$T/res/$1.$2" ] && tr '\n' ' ' <"$T/res/$1.$2"
}

# part NAME: NAME is in BENCH_ONLY.
part() {
	case " $BENCH_ONLY " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

ratio() {
	case "$1$2" in
	*-*) echo - ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }' ;;
	esac
}

# row LABEL KEY [SIDE_B]: a table row: connect's median, side B's (default o), the ratio.
row() {
	_r_c=$(median "$2" c)
	_r_o=$(median "$2" "${3:-o}")
	printf '%-50s %10s %10s %7s\n' "$1" "$_r_c" "$_r_o" "$(ratio "$_r_c" "$_r_o")"
}

cshort() {
	case $1 in
	aes128-gcm*) echo aes128-gcm ;;
	chacha20*) echo chacha20 ;;
	*) echo "$1" ;;
	esac
}

# ------------------------------------------------------------------ tunnels

SSH_EXTRA=	# more ssh options for tun_ssh (split on blanks)
WAIT=1	# 0: tun_connect / tun_ssh return at once, without waiting for the tunnel

# tun_connect NAME SSH_PORT CIPHER [FORWARD_NAME:LPORT:RPORT]...: start connect with a profile
# for these forwards (remote host 127.0.0.1, default_forwards = no), to sshd or a proxy on
# SSH_PORT; wait (20 s at most) for "connected to". Sets TUN_PID, TUN_LOG. WAIT=0: do not wait.
tun_connect() {
	_tc_name=$1 _tc_port=$2 _tc_cipher=$3
	shift 3
	_tc_n=$#
	for _tc_f in "$@"; do
		set -- "$@" "[forward ${_tc_f%%:*}]" "local_port = $(echo "$_tc_f" | cut -d: -f2)" \
		    "remote_host = 127.0.0.1" "remote_port = ${_tc_f##*:}"
	done
	shift "$_tc_n"
	set -- "default_forwards = no" "$@"
	[ -n "$_tc_cipher" ] && set -- "ciphers = $_tc_cipher" "$@"
	_tc_saved=$SSHD_PORT
	SSHD_PORT=$_tc_port
	write_profile "$T/prof.$_tc_name.ini" "$@"
	SSHD_PORT=$_tc_saved
	TUN_LOG=$T/logs/$_tc_name.log
	t_bg "$BCONNECT" -F "$T/prof.$_tc_name.ini" >"$TUN_LOG" 2>&1
	TUN_PID=$T_LASTPID
	[ "$WAIT" = 0 ] && return 0
	if ! wait_log "$TUN_LOG" 'connected to' 20; then
		err "$_tc_name: connect did not log 'connected to' within 20 s" "$TUN_LOG"
		tun_stop
		return 1
	fi
}

# tun_ssh NAME SSH_PORT CIPHER LPORT:RPORT...: start `ssh -N -L 127.0.0.1:LPORT:127.0.0.1:RPORT...`
# to sshd or a proxy on SSH_PORT; wait (20 s at most) until every LPORT listens. Sets TUN_PID.
tun_ssh() {
	_ts_name=$1 _ts_port=$2 _ts_cipher=$3
	shift 3
	_ts_ports=
	for _ts_f in "$@"; do
		set -- "$@" -L "127.0.0.1:${_ts_f%%:*}:127.0.0.1:${_ts_f##*:}"
		_ts_ports="$_ts_ports ${_ts_f%%:*}"
		shift
	done
	[ -n "$_ts_cipher" ] && set -- -c "$_ts_cipher" "$@"
	# shellcheck disable=SC2086
	[ -n "$SSH_EXTRA" ] && set -- $SSH_EXTRA "$@"
	TUN_LOG=$T/logs/$_ts_name.log
	t_bg ssh -N -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile="$T/ossh_known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o ExitOnForwardFailure=yes -o LogLevel=ERROR -i "$SSHD_KEY" -p "$_ts_port" "$@" \
	    "$SSHD_USER@127.0.0.1" >"$TUN_LOG" 2>&1
	TUN_PID=$T_LASTPID
	[ "$WAIT" = 0 ] && return 0
	# shellcheck disable=SC2086
	if ! wait_listen "$TUN_PID" 20 $_ts_ports; then
		err "$_ts_name: ssh -L did not listen on$_ts_ports within 20 s" "$TUN_LOG"
		tun_stop
		return 1
	fi
}

# tun_stop [PID]: stop a tunnel (default the last one started); note an unclean end.
tun_stop() {
	_tx_pid=${1:-$TUN_PID}
	[ -n "$_tx_pid" ] || return 0
	t_stop "$_tx_pid" TERM 5
	_tx_rc=$?
	case $_tx_rc in
	0 | 143 | 255) ;;	# ssh exits 255 on TERM
	*) err "tunnel pid $_tx_pid ended with status $_tx_rc" ;;
	esac
	[ "$_tx_pid" = "$TUN_PID" ] && TUN_PID=
	return 0
}

# ------------------------------------------------------------------ iperf3

iperf_server() {
	[ -n "$IPERF_PID" ] && t_stop "$IPERF_PID" TERM 3 >/dev/null 2>&1
	t_bg iperf3 -s -B 127.0.0.1 -p "$P_IPERF" >>"$T/logs/iperf3-server.log" 2>&1
	IPERF_PID=$T_LASTPID
	wait_listen "$IPERF_PID" 10 "$P_IPERF"
}

# iperf PORT NAME [-R] : one iperf3 test through 127.0.0.1:PORT; sets IP_MBPS (receiver side,
# Mbit/s) and IP_MB (MBytes moved), empty on failure (after one retry with a fresh server).
iperf() {
	_ip_port=$1 _ip_name=$2
	shift 2
	IP_MBPS= IP_MB=
	for _ip_try in 1 2; do
		_ip_log=$T/logs/iperf.$_ip_name.try$_ip_try.log
		timeout -k 2 $((BENCH_SECS + 20)) iperf3 -c 127.0.0.1 -p "$_ip_port" -t "$BENCH_SECS" \
		    -f m "$@" >"$_ip_log" 2>&1
		_ip_rc=$?
		_ip_line=$(grep 'receiver$' "$_ip_log" | tail -n 1)
		IP_MBPS=$(echo "$_ip_line" | awk '{ for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }')
		IP_MB=$(echo "$_ip_line" | awk '{ for (i = 2; i <= NF; i++) {
			if ($i == "GBytes") print $(i - 1) * 1024
			if ($i == "MBytes") print $(i - 1)
			if ($i == "KBytes") print $(i - 1) / 1024 } }')
		[ "$_ip_rc" -eq 0 ] && [ -n "$IP_MBPS" ] && return 0
		err "$_ip_name: iperf3 $* through port $_ip_port failed (exit $_ip_rc, try $_ip_try)" "$_ip_log"
		IP_MBPS= IP_MB=
		iperf_server
	done
	return 1
}

# thr SIDE KEYBASE NAME PORT: upload and download through a forward already up on PORT (the
# tunnel TUN_PID): records KEYBASE.up / .down (Mbit/s) and, with CPU=1, KEYBASE.upcpu / .downcpu
# (tunnel CPU seconds per GB moved).
thr() {
	for _th_dir in up down; do
		_th_flag=
		[ "$_th_dir" = down ] && _th_flag=-R
		_th_c0=$(cpu_ms "$TUN_PID")
		# shellcheck disable=SC2086
		if iperf "$4" "$3.$_th_dir" $_th_flag; then
			_th_c1=$(cpu_ms "$TUN_PID")
			res "$2.$_th_dir" "$1" "$IP_MBPS"
			if [ "$CPU" = 1 ] && [ -n "$_th_c0" ] && [ -n "$_th_c1" ]; then
				res "$2.${_th_dir}cpu" "$1" "$(awk -v c=$((_th_c1 - _th_c0)) -v mb="$IP_MB" \
				    'BEGIN { if (mb > 0) printf "%.2f\n", c / 1000 / (mb / 1024) }')"
			fi
			say "  $3 $_th_dir: $IP_MBPS Mbit/s"
		fi
	done
}

# ------------------------------------------------------------------ setup

for _tool in iperf3 curl ssh timeout awk; do
	command -v "$_tool" >/dev/null 2>&1 || fatal "$_tool is missing (make deps)"
done
[ -x "$CONNECT" ] || fatal "$CONNECT is missing (make)"
[ -x "$TNET" ] || fatal "$TNET is missing (make tests/tnet)"
[ -x "$FPROXY" ] || fatal "$FPROXY is missing (make tests/fproxy)"
[ -r /proc/self/stat ] || fatal "no /proc: this benchmark needs Linux"
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
mkdir -p "$T/res" "$T/logs" || fatal "cannot write $T"
# A private copy: other people may rebuild connect/connect while this runs.
BCONNECT=$T/connect
cp "$CONNECT" "$BCONNECT" || fatal "cannot copy $CONNECT"

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
aes=no
grep -qw aes /proc/cpuinfo && aes=yes
rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)
[ -n "$rev" ] && [ -n "$(git -C "$TOP" status --porcelain -- lib connect 2>/dev/null)" ] &&
    rev="$rev+uncommitted changes in lib/ or connect/"
echo "# connect vs OpenSSH benchmark"
echo "date:     $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "machine:  $(nproc) CPU(s), $cpu_model (AES-NI: $aes), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command:  $cmdline"
echo "versions: connect $("$BCONNECT" -V 2>&1 | head -n 1) (${rev:-no git}); $(ssh -V 2>&1);" \
    "libssh $(pkg-config --modversion libssh 2>/dev/null || echo '?'); $(iperf3 --version 2>&1 | head -n 1)"
echo

sshd_start || fatal "sshd did not start (see above)"
set -- $("$TNET" freeport 19) || fatal "tnet freeport failed"
P_IPERF=$1 P_WEB=$2 P_API=$3 P_FILES=$4 P_ECHO=$5 P_BLAST=$6 P_FP=$7 P_FPI=$8 L_C=$9
shift 9
L_O=$1 L_CW=$2 L_CA=$3 L_CF=$4 L_OW=$5 L_OA=$6 L_OF=$7 L_SW=$8 L_SA=$9
shift 9
L_SF=$1
services_start "$P_WEB" "$P_API" "$P_FILES" --echo "$P_ECHO" --blast "$P_BLAST:$BLAST" ||
    fatal "the tnet services did not start"
IPERF_PID=
iperf_server || fatal "iperf3 -s did not listen on 127.0.0.1:$P_IPERF"
# fproxy to sshd (the WAN path) and to iperf3 directly (the proxy alone).
t_bg "$FPROXY" "$P_FP" "$SSHD_PORT" --delay-ms "$BENCH_DELAY_MS" >"$T/logs/fproxy-ssh.log" 2>&1
FP_PID=$T_LASTPID
t_bg "$FPROXY" "$P_FPI" "$P_IPERF" --delay-ms "$BENCH_DELAY_MS" >"$T/logs/fproxy-iperf.log" 2>&1
FPI_PID=$T_LASTPID
wait_listen "$FP_PID" 10 "$P_FP" && wait_listen "$FPI_PID" 10 "$P_FPI" ||
    fatal "fproxy did not listen (logs in $T/logs)"
say "sshd on 127.0.0.1:$SSHD_PORT, iperf3 on $P_IPERF, fproxy ($BENCH_DELAY_MS ms each way) $P_FP -> sshd"

# ------------------------------------------------------------------ 1. LAN throughput

CPU=1

run=1
while part lan && [ "$run" -le "$BENCH_RUNS" ]; do
	for cipher in $BENCH_CIPHERS; do
		cs=$(cshort "$cipher")
		say "LAN $cs run $run/$BENCH_RUNS"
		if tun_connect "lan-$cs-$run-c" "$SSHD_PORT" "$cipher" "ip:$L_C:$P_IPERF"; then
			thr c "lan.$cs" "lan-$cs-$run-c" "$L_C"
			tun_stop
		fi
		if tun_ssh "lan-$cs-$run-o" "$SSHD_PORT" "$cipher" "$L_O:$P_IPERF"; then
			thr o "lan.$cs" "lan-$cs-$run-o" "$L_O"
			tun_stop
		fi
	done
	run=$((run + 1))
done

# ------------------------------------------------------------------ 2. WAN throughput

CPU=0

if part wan && [ -n "$BENCH_WAN_CIPHERS" ]; then
	run=1
	while [ "$run" -le "$BENCH_RUNS" ]; do
		if [ "$run" = 1 ] || [ "$run" = "$BENCH_RUNS" ]; then	# a check, not a comparison
			say "WAN: fproxy alone (no SSH), run $run/$BENCH_RUNS"
			TUN_PID=$FPI_PID
			thr p wan.proxy "wan-proxy-$run" "$P_FPI"
		fi
		for cipher in $BENCH_WAN_CIPHERS; do
			cs=$(cshort "$cipher")
			say "WAN $cs run $run/$BENCH_RUNS"
			if tun_connect "wan-$cs-$run-c" "$P_FP" "$cipher" "ip:$L_C:$P_IPERF"; then
				thr c "wan.$cs" "wan-$cs-$run-c" "$L_C"
				tun_stop
			fi
			if tun_ssh "wan-$cs-$run-o" "$P_FP" "$cipher" "$L_O:$P_IPERF"; then
				thr o "wan.$cs" "wan-$cs-$run-o" "$L_O"
				tun_stop
			fi
		done
		run=$((run + 1))
	done
fi

# ------------------------------------------------------------------ 2b. HTTP through a forward

# to_ms: wrk's latency ("812.00us", "1.23ms", "2.01s") in ms.
to_ms() {
	awk '{ v = $1
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f\n", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f\n", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f\n", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f\n", v * 1000 } }'
}

# wrk_run SIDE PORT CONNS MODE NAME: wrk for BENCH_HTTP_SECS against 127.0.0.1:PORT, CONNS
# connections, MODE ka (keep-alive) or close (a new connection per request); records
# http.CONNS.MODE.{rps,p50,p99} for SIDE. Socket errors and non-2xx answers are reported.
wrk_run() {
	_w_t=2
	[ "$3" -lt 2 ] && _w_t=1
	_w_log=$T/logs/wrk.$5.$3.$4.log
	_w_c0= _w_s0=
	[ "$1" != d ] && _w_c0=$(sched_us "$TUN_PID") && _w_s0=$(sshd_us)
	_w_m0=$(machine_us)
	if [ "$4" = close ]; then
		timeout -k 2 $((BENCH_HTTP_SECS + 30)) wrk -t"$_w_t" -c"$3" -d"${BENCH_HTTP_SECS}s" \
		    --latency -H "Connection: close" "http://127.0.0.1:$2/" >"$_w_log" 2>&1
	else
		timeout -k 2 $((BENCH_HTTP_SECS + 30)) wrk -t"$_w_t" -c"$3" -d"${BENCH_HTTP_SECS}s" \
		    --latency "http://127.0.0.1:$2/" >"$_w_log" 2>&1
	fi
	_w_rc=$?
	_w_m1=$(machine_us)
	_w_c1= _w_s1=
	[ -n "$_w_c0" ] && _w_c1=$(sched_us "$TUN_PID") && _w_s1=$(sshd_us)
	_w_rps=$(awk '$1 == "Requests/sec:" { printf "%.0f\n", $2 }' "$_w_log")
	if [ "$_w_rc" -ne 0 ] || [ -z "$_w_rps" ]; then
		err "$5: wrk -c $3 ($4) failed (exit $_w_rc)" "$_w_log"
		return 1
	fi
	grep -q "Socket errors\|Non-2xx" "$_w_log" &&
	    err "$5: wrk -c $3 ($4): $(grep "Socket errors\|Non-2xx" "$_w_log" | tr -s ' ' | tr '\n' ' ')" \
	    "$_w_log"
	res "http.$3.$4.rps" "$1" "$_w_rps"
	res "http.$3.$4.p50" "$1" "$(awk '$1 == "50%" { print $2 }' "$_w_log" | to_ms)"
	res "http.$3.$4.p99" "$1" "$(awk '$1 == "99%" { print $2 }' "$_w_log" | to_ms)"
	# The tunnel's own CPU per request: on a shared 2-core machine the request rate is
	# mostly the other processes' share; this is the part the tunnel decides.
	if [ -n "$_w_c0" ] && [ -n "$_w_c1" ]; then
		res "http.$3.$4.cpu" "$1" "$(per_request $((_w_c1 - _w_c0)) "$_w_log")"
		res "http.$3.$4.sshd" "$1" "$(per_request $((_w_s1 - _w_s0)) "$_w_log")"
	fi
	res "http.$3.$4.all" "$1" "$(per_request $((_w_m1 - _w_m0)) "$_w_log")"
}

# http_all SIDE PORT NAME: every concurrency and mode once.
http_all() {
	for _h_c in $BENCH_HTTP_CONNS; do
		for _h_m in ka close; do
			wrk_run "$1" "$2" "$_h_c" "$_h_m" "$3"
		done
	done
}

if part http; then
	if ! command -v wrk >/dev/null 2>&1; then
		err "http: wrk is missing (apt-get install wrk): part skipped"
	else
		# The server alone (no tunnel): the ceiling the tunnels are measured under.
		say "HTTP: the tnet server alone"
		http_all d "$P_WEB" http-direct
		run=1
		while [ "$run" -le "$BENCH_RUNS" ]; do
			say "HTTP run $run/$BENCH_RUNS"
			if tun_connect "http-$run-c" "$SSHD_PORT" aes128-gcm@openssh.com \
			    "web:$L_C:$P_WEB"; then
				http_all c "$L_C" "http-$run-c"
				tun_stop
			fi
			if tun_ssh "http-$run-o" "$SSHD_PORT" aes128-gcm@openssh.com "$L_O:$P_WEB"; then
				http_all o "$L_O" "http-$run-o"
				tun_stop
			fi
			run=$((run + 1))
		done
	fi
fi

# ------------------------------------------------------------------ 3. time to three ready forwards

# poll_one PORT WANT OUT DEADLINE_NS: GET / on 127.0.0.1:PORT every ~10 ms until the body is
# WANT; write the time (ns) to OUT.
poll_one() {
	while :; do
		if [ "$(curl -s -m 5 "http://127.0.0.1:$1/" 2>/dev/null)" = "$2" ]; then
			now_ns >"$3"
			return 0
		fi
		[ "$(now_ns)" -lt "$4" ] || return 1
		sleep 0.01
	done
}

# ready_ms SIDE NAME LW LA LF: poll the three forwards of a process (or processes) just spawned at
# $t0; record the ms until all three answered.
ready_ms() {
	_rm_dl=$((t0 + 20000000000))
	rm -f "$T/ready.w" "$T/ready.a" "$T/ready.f"
	poll_one "$3" "service web" "$T/ready.w" "$_rm_dl" &
	_rm_p1=$!
	poll_one "$4" "service api" "$T/ready.a" "$_rm_dl" &
	_rm_p2=$!
	poll_one "$5" "service files" "$T/ready.f" "$_rm_dl" &
	_rm_p3=$!
	t_track "$_rm_p1"
	t_track "$_rm_p2"
	t_track "$_rm_p3"
	wait "$_rm_p1" "$_rm_p2" "$_rm_p3"
	_t_forget "$_rm_p1"
	_t_forget "$_rm_p2"
	_t_forget "$_rm_p3"
	if [ -s "$T/ready.w" ] && [ -s "$T/ready.a" ] && [ -s "$T/ready.f" ]; then
		_rm_ms=$(cat "$T/ready.w" "$T/ready.a" "$T/ready.f" | sort -n | tail -n 1 |
		    awk -v t0="$t0" '{ printf "%.0f\n", ($1 - t0) / 1000000 }')
		res ready "$1" "$_rm_ms"
		say "  $2: $_rm_ms ms"
	else
		err "$2: the three forwards did not all answer within 20 s" "$TUN_LOG"
	fi
}

# latency SIDE PORT: the median time_total of 10 GET / through an established forward, in ms.
latency() {
	_la_ms=$(for _la_i in 1 2 3 4 5 6 7 8 9 10; do
		curl -s -o /dev/null -m 5 -w '%{time_total}\n' "http://127.0.0.1:$2/"
	done | sort -n | awk '{ v[NR] = $1 } END { if (NR == 10) printf "%.2f\n", (v[5] + v[6]) * 500 }')
	res latency "$1" "$_la_ms"
}

run=1
while part ready && [ "$run" -le "$BENCH_RUNS" ]; do
	say "startup run $run/$BENCH_RUNS"
	WAIT=0
	t0=$(now_ns)
	tun_connect "ready-$run-c" "$SSHD_PORT" "" "web:$L_CW:$P_WEB" "api:$L_CA:$P_API" \
	    "files:$L_CF:$P_FILES"
	ready_ms c "ready-$run-c" "$L_CW" "$L_CA" "$L_CF"
	latency c "$L_CW"
	tun_stop

	t0=$(now_ns)
	tun_ssh "ready-$run-o" "$SSHD_PORT" "" "$L_OW:$P_WEB" "$L_OA:$P_API" "$L_OF:$P_FILES"
	ready_ms o "ready-$run-o" "$L_OW" "$L_OA" "$L_OF"
	latency o "$L_OW"
	tun_stop

	# OpenSSH 9's default key exchange is sntrup761x25519; libssh 0.10 has only curve25519.
	t0=$(now_ns)
	SSH_EXTRA="-o KexAlgorithms=curve25519-sha256"
	tun_ssh "ready-$run-k" "$SSHD_PORT" "" "$L_OW:$P_WEB" "$L_OA:$P_API" "$L_OF:$P_FILES"
	SSH_EXTRA=
	ready_ms k "ready-$run-k" "$L_OW" "$L_OA" "$L_OF"
	tun_stop

	t0=$(now_ns)
	tun_ssh "ready-$run-s1" "$SSHD_PORT" "" "$L_SW:$P_WEB"
	s1=$TUN_PID
	tun_ssh "ready-$run-s2" "$SSHD_PORT" "" "$L_SA:$P_API"
	s2=$TUN_PID
	tun_ssh "ready-$run-s3" "$SSHD_PORT" "" "$L_SF:$P_FILES"
	s3=$TUN_PID
	ready_ms s "ready-$run-seed" "$L_SW" "$L_SA" "$L_SF"
	tun_stop "$s1"
	tun_stop "$s2"
	tun_stop "$s3"
	WAIT=1
	run=$((run + 1))
done

# ------------------------------------------------------------------ 4. memory with 512 idle conns

# hold_rss SIDE NAME PORT: RSS of TUN_PID connected and idle, then with HOLD_CONNS idle
# connections through the forward on PORT (to the echo service) once all reach the service.
# They are opened in batches of HOLD_BATCH: both connect and ssh listen with a backlog of 128, and
# a burst of 512 connects overflows it (the rest then trickle in on SYN-ACK retransmits, seconds).
hold_rss() {
	sleep 0.5
	res rss.idle "$1" "$(status_kb "$TUN_PID" VmRSS)"
	_hr_before=$(tcp_conns_to "$P_ECHO")
	_hr_pids=
	_hr_want=$_hr_before
	_hr_ok=1
	_hr_t0=$(now_ns)
	while [ "$_hr_want" -lt $((_hr_before + HOLD_CONNS)) ]; do
		"$TNET" hold 127.0.0.1 "$3" --secs 120 --conns "$HOLD_BATCH" \
		    >>"$T/logs/$2.hold.log" 2>&1 &
		_hr_pid=$!
		t_track "$_hr_pid"
		_hr_pids="$_hr_pids $_hr_pid"
		_hr_want=$((_hr_want + HOLD_BATCH))
		_hr_n=200
		while [ "$(tcp_conns_to "$P_ECHO")" -lt "$_hr_want" ]; do
			_hr_n=$((_hr_n - 1))
			if [ "$_hr_n" -le 0 ] || ! t_alive "$_hr_pid"; then
				err "$2: only $(($(tcp_conns_to "$P_ECHO") - _hr_before)) of $HOLD_CONNS connections reached the echo service" \
				    "$T/logs/$2.hold.log"
				_hr_ok=0
				break 2
			fi
			sleep 0.05
		done
	done
	if [ "$_hr_ok" = 1 ]; then
		res hold.ms "$1" $((($(now_ns) - _hr_t0) / 1000000))
		sleep 0.5
		res rss.hold "$1" "$(status_kb "$TUN_PID" VmRSS)"
		res rss.holdhwm "$1" "$(status_kb "$TUN_PID" VmHWM)"
		res fds.hold "$1" "$(fd_count "$TUN_PID")"
		say "  $2: idle $(tail -n 1 "$T/res/rss.idle.$1") kB, $HOLD_CONNS conns" \
		    "$(tail -n 1 "$T/res/rss.hold.$1") kB"
	fi
	for _hr_pid in $_hr_pids; do
		t_stop "$_hr_pid" TERM 5 >/dev/null
	done
}

run=1
while part mem && [ "$run" -le "$BENCH_RUNS" ]; do
	say "memory run $run/$BENCH_RUNS"
	if tun_connect "hold-$run-c" "$SSHD_PORT" "" "echo:$L_C:$P_ECHO"; then
		hold_rss c "hold-$run-c" "$L_C"
		tun_stop
	fi
	if tun_ssh "hold-$run-o" "$SSHD_PORT" "" "$L_O:$P_ECHO"; then
		hold_rss o "hold-$run-o" "$L_O"
		tun_stop
	fi
	run=$((run + 1))
done

# ------------------------------------------------------------------ 4b. idle CPU

part idle && say "idle CPU: both tunnels up with three forwards, $BENCH_IDLE_SECS s"
if part idle && tun_connect idle-c "$SSHD_PORT" "" "web:$L_CW:$P_WEB" "api:$L_CA:$P_API" \
    "files:$L_CF:$P_FILES"; then
	idle_c=$TUN_PID
	if tun_ssh idle-o "$SSHD_PORT" "" "$L_OW:$P_WEB" "$L_OA:$P_API" "$L_OF:$P_FILES"; then
		idle_o=$TUN_PID
		sleep 1
		c0=$(cpu_ms "$idle_c") o0=$(cpu_ms "$idle_o")
		cs0=$(sched_us "$idle_c") os0=$(sched_us "$idle_o")
		sleep "$BENCH_IDLE_SECS"
		c1=$(cpu_ms "$idle_c") o1=$(cpu_ms "$idle_o")
		cs1=$(sched_us "$idle_c") os1=$(sched_us "$idle_o")
		if [ -n "$c1" ] && [ -n "$o1" ] && t_alive "$idle_c" && t_alive "$idle_o"; then
			res cpu.idle c $((c1 - c0))
			res cpu.idle o $((o1 - o0))
			res cpu.idlesched c $((cs1 - cs0))
			res cpu.idlesched o $((os1 - os0))
			res rss.idle3 c "$(status_kb "$idle_c" VmRSS)"
			res rss.idle3 o "$(status_kb "$idle_o" VmRSS)"
			say "  connect $((c1 - c0)) ms ($((cs1 - cs0)) us), ssh $((o1 - o0)) ms ($((os1 - os0)) us) of CPU"
		else
			err "idle CPU: a tunnel died while idle" "$T/logs/idle-c.log"
		fi
		tun_stop "$idle_o"
	fi
	tun_stop "$idle_c"
fi

# ------------------------------------------------------------------ 5. slow reader

# slow SIDE NAME PORT: read the 64 MiB blast through PORT, pausing 2 s after 1 MiB, sampling
# TUN_PID's RSS every 0.1 s; records the growth over the RSS before the read.
slow() {
	sleep 0.3
	_sl_base=$(status_kb "$TUN_PID" VmRSS)
	_sl_max=$_sl_base
	"$TNET" read 127.0.0.1 "$3" --bytes "$BLAST" --pause-after 1m --pause-ms 2000 --timeout 60 \
	    >"$T/logs/$2.read.log" 2>&1 &
	_sl_pid=$!
	t_track "$_sl_pid"
	while t_alive "$_sl_pid"; do
		_sl_r=$(status_kb "$TUN_PID" VmRSS)
		[ -n "$_sl_r" ] && [ "$_sl_r" -gt "$_sl_max" ] && _sl_max=$_sl_r
		sleep 0.1
	done
	wait "$_sl_pid"
	_sl_rc=$?
	_t_forget "$_sl_pid"
	if [ "$_sl_rc" -ne 0 ]; then
		cat "$TUN_LOG" >>"$T/logs/$2.read.log"
		err "$2: the slow reader failed (exit $_sl_rc)" "$T/logs/$2.read.log"
		return 1
	fi
	res slow.base "$1" "$_sl_base"
	res slow.peak "$1" "$_sl_max"
	res slow.growth "$1" $((_sl_max - _sl_base))
	say "  $2: RSS $_sl_base -> peak $_sl_max kB"
}

run=1
while part slow && [ "$run" -le "$BENCH_RUNS" ]; do
	say "slow reader run $run/$BENCH_RUNS"
	if tun_connect "slow-$run-c" "$SSHD_PORT" "" "blast:$L_C:$P_BLAST"; then
		slow c "slow-$run-c" "$L_C"
		tun_stop
	fi
	if tun_ssh "slow-$run-o" "$SSHD_PORT" "" "$L_O:$P_BLAST"; then
		slow o "slow-$run-o" "$L_O"
		tun_stop
	fi
	run=$((run + 1))
done

# ------------------------------------------------------------------ report

echo "Medians of $BENCH_RUNS alternating runs each (connect, ssh, connect, ssh, ...); iperf3 -t $BENCH_SECS."
echo "Throughput: higher is better; everything else: lower is better. ratio = connect / OpenSSH."
echo
printf '%-50s %10s %10s %7s\n' "measurement" "connect" "OpenSSH" "ratio"
printf '%-50s %10s %10s %7s\n' "-----------" "-------" "-------" "-----"
for cipher in $BENCH_CIPHERS; do
	cs=$(cshort "$cipher")
	row "LAN $cs download, Mbit/s" "lan.$cs.down"
	row "LAN $cs upload, Mbit/s" "lan.$cs.up"
	row "LAN $cs download, tunnel CPU s/GB" "lan.$cs.downcpu"
	row "LAN $cs upload, tunnel CPU s/GB" "lan.$cs.upcpu"
done
for cipher in $BENCH_WAN_CIPHERS; do
	cs=$(cshort "$cipher")
	row "WAN ${BENCH_DELAY_MS}+${BENCH_DELAY_MS} ms $cs download, Mbit/s" "wan.$cs.down"
	row "WAN ${BENCH_DELAY_MS}+${BENCH_DELAY_MS} ms $cs upload, Mbit/s" "wan.$cs.up"
done
if [ -n "$BENCH_WAN_CIPHERS" ]; then
	printf '%-50s %10s %10s\n' "  fproxy alone, no SSH, Mbit/s: download / upload" \
	    "$(median wan.proxy.down p)" "$(median wan.proxy.up p)"
fi
if part http; then
	for _c in $BENCH_HTTP_CONNS; do
		for _m in ka close; do
			[ "$_m" = ka ] && _ml="keep-alive" || _ml="new conn/request"
			row "HTTP $_c conns, $_ml: requests/s" "http.$_c.$_m.rps"
			row "  p50 latency, ms" "http.$_c.$_m.p50"
			row "  p99 latency, ms" "http.$_c.$_m.p99"
			row "  tunnel CPU per request, us" "http.$_c.$_m.cpu"
			row "  sshd CPU per request, us" "http.$_c.$_m.sshd"
			row "  machine CPU per request, us" "http.$_c.$_m.all"
			printf '%-50s %10s\n' "  the server alone: requests/s, p99 ms" \
			    "$(median "http.$_c.$_m.rps" d) $(median "http.$_c.$_m.p99" d)"
		done
	done
fi
row "spawn -> 3 forwards answer, ms (ssh: 1 process)" ready
row "spawn -> 3 forwards answer, ms (ssh: 3 processes)" ready s
row "  ... (ssh: 1 process, KexAlgorithms=curve25519)" ready k
row "GET / through an established forward, ms" latency
row "RSS connected, idle, kB" rss.idle
row "RSS with $HOLD_CONNS idle connections, kB" rss.hold
row "peak RSS (VmHWM) with $HOLD_CONNS connections, kB" rss.holdhwm
row "open fds with $HOLD_CONNS connections" fds.hold
row "time to open $HOLD_CONNS conns ($HOLD_BATCH at a time), ms" hold.ms
row "CPU over ${BENCH_IDLE_SECS} s idle, 3 forwards, ms (1 run)" cpu.idle
row "  the same from schedstat, us (1 run)" cpu.idlesched
row "RSS after ${BENCH_IDLE_SECS} s idle, 3 forwards, kB (1 run)" rss.idle3
row "slow reader ($BLAST, 2 s pause): RSS before, kB" slow.base
row "slow reader: peak RSS, kB" slow.peak
row "slow reader: RSS growth, kB" slow.growth
echo
echo "Raw values (connect | OpenSSH):"
for f in "$T"/res/*.c; do
	[ -f "$f" ] || continue
	k=$(basename "$f" .c)
	printf '  %-20s %s| %s\n' "$k" "$(raw "$k" c)" "$(raw "$k" o)"
done
[ -s "$T/res/ready.s" ] && printf '  %-20s %s\n' "ready (3x ssh)" "$(raw ready s)"
[ -s "$T/res/ready.k" ] && printf '  %-20s %s\n' "ready (ssh curve)" "$(raw ready k)"
[ -s "$T/res/wan.proxy.down.p" ] &&
    printf '  %-20s %s| %s\n' "fproxy down | up" "$(raw wan.proxy.down p)" "$(raw wan.proxy.up p)"
echo
if [ -s "$T/errors" ]; then
	echo "Errors ($(wc -l <"$T/errors") measurements failed; logs kept in $T):"
	sed 's/^/  /' "$T/errors"
	echo
fi
echo "runtime: $(($(date +%s) - bench_start)) s"
exit 0
