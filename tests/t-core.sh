#!/bin/sh
# t-core.sh: the core tunnel end to end, against a real OpenSSH sshd on loopback.
# connect runs as the ASan+UBSan build (tests/connect-asan) unless a check needs true RSS figures.
. "$(dirname "$0")/lib.sh"
t_init core

CONNECT=${CONNECT:-$TOP/tests/connect-asan}
# The RSS check wants a build without ASan's or valgrind's own memory: connect/connect for those
# passes, else the binary under test itself (the static build; the arm64 one under tests/qemu-arm64).
case $CONNECT in
*/connect-asan|*/valgrind-connect) CONNECT_PLAIN=$TOP/connect/connect ;;
*) CONNECT_PLAIN=$CONNECT ;;
esac

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above): integration tests cannot run"
	t_done
fi

set -- $($TNET freeport 12)
P_WEB=$1 P_API=$2 P_FILES=$3 P_ECHO=$4 P_BLAST=$5 P_DEAD=$6
L_WEB=$7 L_API=$8 L_FILES=$9
shift 9
L_ECHO=$1 L_BLAST=$2 L_DEAD=$3
services_start "$P_WEB" "$P_API" "$P_FILES" --echo "$P_ECHO" --blast "$P_BLAST:67108864"

PROFILE=$T/core.ini
write_profile "$PROFILE" "$(fwd web "$L_WEB" "$P_WEB")" "$(fwd api "$L_API" "$P_API")" \
    "$(fwd files "$L_FILES" "$P_FILES")" "$(fwd echo "$L_ECHO" "$P_ECHO")" \
    "$(fwd blast "$L_BLAST" "$P_BLAST")" "$(fwd dead "$L_DEAD" "$P_DEAD")"

# --- the tunnel up, three services through three forwards -------------------------------
$CONNECT -F "$PROFILE" -v >"$T/up.log" 2>&1 &
UP=$!
t_track $UP
if wait_log "$T/up.log" "connected to" 15; then
	t_pass "connects and authenticates"
else
	t_fail "connects and authenticates" "no 'connected to' line in 15 s: $(tail -5 "$T/up.log")"
fi

# -v says once when the libssh in use caps the window (a system libssh 0.11 or later), else never.
ver=$(window_capped) && want=1 || want=0
t_eq "-v: the libssh window notice $want time(s) for $ver" \
    "$(grep -c "caps each channel's window at 2 MiB" "$T/up.log")" "$want"

ok=1
for pair in "$L_WEB:service web" "$L_API:service api" "$L_FILES:service files"; do
	port=${pair%%:*}
	want=${pair#*:}
	got=$(curl -s -m 10 "http://127.0.0.1:$port/")
	[ "$got" = "$want" ] || { ok=0; why="port $port answered '$got', expected '$want'"; }
done
[ $ok = 1 ] && t_pass "three forwards reach three distinct services" || t_fail "three forwards reach three distinct services" "$why"

# The loopback default listens on [::1] too, as ssh -L does for localhost (macOS tries ::1 first).
if has_ipv6_loopback; then
	got=$(curl -s -m 10 "http://[::1]:$L_WEB/")
	gl=$(curl -s -m 10 "http://localhost:$L_FILES/")
	if [ "$got" = "service web" ] && [ "$gl" = "service files" ]; then
		t_pass "the default bind serves http://[::1]:PORT and http://localhost:PORT too"
	else
		t_fail "[::1] listener" "[::1] got '$got', localhost got '$gl'"
	fi
else
	t_skip "[::1] listener" "no IPv6 loopback on this machine"
fi

got=$(curl -s -m 10 -w ' %{http_code}' "http://127.0.0.1:$L_API/debug.ping")
case "$got" in
*'"result_code":200'*' 200') t_pass "api /debug.ping through the tunnel" ;;
*) t_fail "api /debug.ping through the tunnel" "got: $got" ;;
esac

# --- bytes: 64 MiB each way, byte-exact, with half-close ------------------------------
if out=$($TNET echo 127.0.0.1 "$L_ECHO" --bytes 67108864 --conns 1 2>&1); then
	t_pass "64 MiB each way through one forward, byte-exact, half-closed ($out)"
else
	t_fail "64 MiB each way through one forward" "$out"
fi

# --- 200 concurrent connections over three forwards, one TCP connection to sshd ---------
# Every forward here goes to the echo service so each connection can be checked byte for byte.
(
	$TNET echo 127.0.0.1 "$L_ECHO" --bytes 262144 --conns 70 --seed 11 >"$T/c1.out" 2>&1; echo $? >"$T/c1.rc"
) &
C1=$!
(
	$TNET echo 127.0.0.1 "$L_ECHO" --bytes 262144 --conns 65 --seed 22 >"$T/c2.out" 2>&1; echo $? >"$T/c2.rc"
) &
C2=$!
(
	$TNET echo 127.0.0.1 "$L_ECHO" --bytes 262144 --conns 65 --seed 33 >"$T/c3.out" 2>&1; echo $? >"$T/c3.rc"
) &
C3=$!
# Meanwhile, web/api/files requests in parallel, and the count of connect's TCP connections to sshd.
maxconns=0
i=0
while [ $i -lt 20 ]; do
	n=$(tcp_conns_to "$SSHD_PORT" "$UP")
	# More than one: keep what was seen, for the failure message.
	[ "$n" -gt "$maxconns" ] && maxconns=$n && [ "$n" -gt 1 ] &&
	    { grep ":$(printf '%04X' "$SSHD_PORT") " /proc/net/tcp; ls -l "/proc/$UP/fd"; } \
	    >"$T/conns.txt" 2>&1
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$L_WEB/" &
	curl -s -m 5 -o /dev/null "http://127.0.0.1:$L_FILES/" &
	sleep 0.05
	i=$((i + 1))
done
wait $C1 $C2 $C3
if [ "$(cat "$T/c1.rc" "$T/c2.rc" "$T/c3.rc" | tr -d '\n')" = 000 ]; then
	t_pass "200 concurrent connections, all byte-exact"
else
	t_fail "200 concurrent connections" "$(cat "$T/c1.out" "$T/c2.out" "$T/c3.out" | tail -5)"
fi
if [ "$maxconns" -eq 1 ]; then
	t_pass "exactly one TCP connection to sshd carries everything"
else
	t_fail "exactly one TCP connection to sshd" "saw $maxconns connections to port $SSHD_PORT:
$(sed 's/^/  | /' "$T/conns.txt" 2>/dev/null | grep -v ' -> /dev/\| pipe:\|anon_inode' | head -40)"
fi

# --- remote port not listening: only that connection closes --------------------------
got=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$L_DEAD/")
after=$(curl -s -m 10 "http://127.0.0.1:$L_WEB/")
if [ "$got" = 000 ] && [ "$after" = "service web" ] && kill -0 $UP 2>/dev/null &&
    grep -q "forward dead: channel to 127.0.0.1:$P_DEAD refused" "$T/up.log"; then
	t_pass "remote port not listening: that connection closed, logged by forward name, others fine"
else
	t_fail "remote port not listening" "curl=$got after='$after' log: $(grep -i refused "$T/up.log" | tail -1)"
fi

# --- SIGTERM: clean exit 0 (LSan would fail the exit status on a leak) ----------------
kill -TERM $UP
t_wait_exit $UP 10
rc=$?
if [ "$rc" = 0 ]; then
	t_pass "SIGTERM: exit 0, no leak reported"
else
	t_fail "SIGTERM: exit 0" "status $rc: $(tail -20 "$T/up.log")"
fi
if ! $TNET probe 127.0.0.1 "$L_WEB" 2>/dev/null; then
	t_pass "nothing listening after exit"
else
	t_fail "nothing listening after exit" "port $L_WEB still accepts"
fi

# --- the built-in forwards' destination: 0.0.0.0, as the ssh -L script asked Lightning's gateway
# for; sshd on Linux connects to the machine itself (services here listen on 127.0.0.1).
write_profile "$T/dest.ini" "default_forwards = no" "[forward api]" "local_port = $L_DEAD" \
    "remote_port = $P_API"
$CONNECT -F "$T/dest.ini" -d --wait 10 >"$T/dest.out" 2>&1
rc=$?
got=$(curl -s -m 5 "http://127.0.0.1:$L_DEAD/")
if [ $rc = 0 ] && [ "$got" = "service api" ] && $CONNECT status dest | grep -q "api .*-> 0.0.0.0:$P_API"
then
	t_pass "built-in forward api: remote 0.0.0.0:PORT by default; health and requests pass"
else
	t_fail "built-in destination 0.0.0.0" "exit $rc, got '$got': $(cat "$T/dest.out"; $CONNECT status dest)"
fi
$CONNECT stop dest >/dev/null 2>&1

# --- sshsock's live-check: a libssh that reads its socket without recv() -------------------
# CONNECT_SSHSOCK=bypass-recv lets libssh's recv() reach the kernel as such a libssh would: the
# session must notice after its first bytes, detach, say so once, and carry every byte.
CONNECT_SSHSOCK=bypass-recv $CONNECT -F "$PROFILE" >"$T/bypass.log" 2>&1 &
BP=$!
t_track $BP
if wait_log "$T/bypass.log" "connected to" 15 &&
    out=$($TNET echo 127.0.0.1 "$L_ECHO" --bytes 16m --conns 2 2>&1) &&
    [ "$(grep -c 'batched socket I/O is off' "$T/bypass.log")" = 1 ]; then
	t_pass "sshsock not live under libssh (bypass-recv): detached once, said once, 2 x 16 MiB byte-exact"
else
	t_fail "sshsock live-check" "${out:-no tunnel}: $(grep -i 'batched\|error' "$T/bypass.log" | head -n 3)"
fi
t_stop $BP >/dev/null

# --- out of fds: accept() fails; no busy loop, one log line, and service after -------------
# libevent calls back at once for as long as the failed connection stays queued: without a
# pause that is a loop at full CPU writing a log line each turn.
write_profile "$T/fds.ini" "default_forwards = no" "[forward web]" "local_port = $L_WEB" \
    "remote_host = 127.0.0.1" "remote_port = $P_WEB"
sh -c "ulimit -n 40 && exec $CONNECT -F $T/fds.ini" >"$T/fds.log" 2>&1 &
FDS=$!
t_track $FDS
# (hold's own verdict is not the point: a held connection the server side closes is no failure.)
if wait_log "$T/fds.log" "connected to" 15 && { $TNET hold 127.0.0.1 "$L_WEB" --secs 3 --conns 60 \
    >"$T/fds-hold.out" 2>&1; grep -q "^connected" "$T/fds-hold.out"; }; then
	fails=$(grep -c "accept on port $L_WEB failed" "$T/fds.log")
	web=$(curl -s -m 10 "http://127.0.0.1:$L_WEB/")
	if [ "$fails" -ge 1 ] && [ "$fails" -le 3 ] && [ "$web" = "service web" ] &&
	    grep -q "open-files limit" "$T/fds.log" && grep -q "accepting connections again" "$T/fds.log"
	then
		t_pass "out of fds (ulimit -n 40, 60 clients): $fails log line(s), no loop; served after"
	else
		t_fail "out of fds" "$fails 'accept failed' lines (want 1-3), then web='$web': \
$(grep -i accept "$T/fds.log" | head -n 3)"
	fi
else
	t_fail "out of fds" "no tunnel or hold failed: $(tail -n 3 "$T/fds.log" "$T/fds-hold.out")"
fi
t_stop $FDS TERM 10 >/dev/null

# --- slow reader: RSS stays bounded (plain build: ASan's own memory would blur it) ------
if [ -x "$CONNECT_PLAIN" ]; then
	$CONNECT_PLAIN -F "$PROFILE" >"$T/slow.log" 2>&1 &
	SP=$!
	t_track $SP
	wait_log "$T/slow.log" "connected to" 15
	# Under qemu-user (the arm64 pass) RSS counts qemu's own memory as well: its cache of translated
	# code, which grows the first time each code path runs (one short slow read first, through the
	# same paths), and its allocations beside the guest's (measured: 0-14 MiB more after that
	# warm-up, 17 MiB without it). Unbounded buffering would still be 64 MiB: 32 MiB bounds it there.
	max_kb=16384
	case $CONNECT_PLAIN in
	*/qemu-*)
		max_kb=32768
		$TNET read 127.0.0.1 "$L_BLAST" --bytes 4194304 --pause-after 1048576 --pause-ms 500 \
		    >/dev/null 2>&1 ;;
	esac
	base_rss=$(rss_kb $SP)
	$TNET read 127.0.0.1 "$L_BLAST" --bytes 67108864 --pause-after 1048576 --pause-ms 2000 \
	    >"$T/slowread.out" 2>&1 &
	RD=$!
	peak=0
	i=0
	while kill -0 $RD 2>/dev/null && [ $i -lt 300 ]; do
		r=$(rss_kb $SP)
		[ "${r:-0}" -gt $peak ] && peak=$r
		sleep 0.05
		i=$((i + 1))
	done
	wait $RD
	rdrc=$?
	grow=$((peak - base_rss))
	# Bound per connection: ~1 MiB queued to the client + libssh's 1.25 MB window (+ allocator slack).
	if [ $rdrc = 0 ] && [ $grow -lt $max_kb ]; then
		t_pass "slow reader: 64 MiB byte-exact, RSS grew $grow KiB (< $((max_kb / 1024)) MiB; 64 MiB if unbounded)"
	else
		t_fail "slow reader" "read rc=$rdrc ($(cat "$T/slowread.out")), RSS grew $grow KiB"
	fi
	kill -TERM $SP
	t_wait_exit $SP 10
else
	t_fail "slow reader" "$CONNECT_PLAIN not built"
fi

# --- busy local port: clear error, exit code, nothing left listening -----------------
$TNET hold 127.0.0.1 1 --secs 0 >/dev/null 2>&1 # (no-op; keeps tnet warm)
BUSY=$(mktemp "$T/busy.XXXX")
$TNET serve --echo "$L_API" >/dev/null 2>&1 &
BUSYP=$!
t_track $BUSYP
wait_port "$L_API" 5
$CONNECT -F "$PROFILE" >"$BUSY" 2>&1
rc=$?
if [ $rc = 73 ] && grep -q "local port $L_API" "$BUSY" && grep -q "forward api" "$BUSY" &&
    grep -q "$PROFILE" "$BUSY" && ! $TNET probe 127.0.0.1 "$L_WEB" 2>/dev/null; then
	t_pass "busy local port: exit 73, names port, forward and profile line; nothing left listening"
else
	t_fail "busy local port" "exit $rc: $(cat "$BUSY")"
fi
kill $BUSYP 2>/dev/null
wait $BUSYP 2>/dev/null

# --- host keys: strict refuses an unknown key, accept-new records it, a change is refused
write_profile "$T/hk.ini" "
host_key_policy = strict
default_forwards = no
[forward web]
local_port = $L_WEB
remote_host = 127.0.0.1
remote_port = $P_WEB"
rm -f "$T/known_hosts"
$CONNECT -F "$T/hk.ini" >"$T/strict.log" 2>&1
rc=$?
if [ $rc = 76 ] && grep -q "not known" "$T/strict.log" && grep -q "SHA256:" "$T/strict.log" &&
    grep -q "ssh-keyscan" "$T/strict.log" && [ ! -s "$T/known_hosts" ]; then
	t_pass "strict + unknown host key: refused (76) with fingerprint and how to accept"
else
	t_fail "strict + unknown host key" "exit $rc: $(cat "$T/strict.log")"
fi

sed 's/^host_key_policy = strict/host_key_policy = accept-new/' "$T/hk.ini" >"$T/an.ini"
$CONNECT -F "$T/an.ini" >"$T/an.log" 2>&1 &
AN=$!
t_track $AN
if wait_log "$T/an.log" "connected to" 15 && grep -q "127.0.0.1\]:$SSHD_PORT" "$T/known_hosts" &&
    grep -q "recorded new host key" "$T/an.log"; then
	t_pass "accept-new: unknown key accepted and recorded in known_hosts"
else
	t_fail "accept-new" "$(cat "$T/an.log")"
fi
kill -TERM $AN
t_wait_exit $AN 10

# Recorded now: strict accepts it.
$CONNECT -F "$T/hk.ini" >"$T/strict2.log" 2>&1 &
S2=$!
t_track $S2
if wait_log "$T/strict2.log" "connected to" 15; then
	t_pass "strict + recorded key: connects"
else
	t_fail "strict + recorded key" "$(cat "$T/strict2.log")"
fi
kill -TERM $S2
t_wait_exit $S2 10

old_fp=$(ssh-keygen -lf "$SSHD_HOSTKEY_PUB" | awk '{print $2}')
sshd_swap_hostkeys
new_fp=$(ssh-keygen -lf "$SSHD_HOSTKEY_PUB" | awk '{print $2}')
$CONNECT -F "$T/an.ini" >"$T/changed.log" 2>&1
rc=$?
if [ $rc = 76 ] && grep -q "HOST KEY CHANGED" "$T/changed.log" && grep -q "$old_fp" "$T/changed.log" &&
    grep -q "$new_fp" "$T/changed.log"; then
	t_pass "changed host key: refused (76) even under accept-new, both fingerprints shown"
else
	t_fail "changed host key" "exit $rc (old $old_fp new $new_fp): $(cat "$T/changed.log")"
fi
rm -f "$T/known_hosts"

# --- wrong key: clear error naming the identity tried ---------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
sed "s|^identity = .*|identity = $T/wrong_key|" "$T/an.ini" >"$T/wrong.ini"
$CONNECT -F "$T/wrong.ini" >"$T/wrong.log" 2>&1
rc=$?
if [ $rc = 77 ] && grep -q "refused authentication" "$T/wrong.log" && grep -q "$T/wrong_key" "$T/wrong.log"; then
	t_pass "wrong key: refused (77), names the identity tried"
else
	t_fail "wrong key" "exit $rc: $(cat "$T/wrong.log")"
fi

# --- the shim: TARGET_LIGHTNING_ID becomes --id (user s_<id>) -------------------------
sed '/^user = /d' "$T/an.ini" >"$T/shim.ini"
TARGET_LIGHTNING_ID=shimtest CONNECT_BIN=$CONNECT sh "$TOP/connect.sh" -F "$T/shim.ini" >"$T/shim.log" 2>&1
rc=$?
if [ $rc = 77 ] && grep -q "s_shimtest@" "$T/shim.log"; then
	t_pass "shim: TARGET_LIGHTNING_ID=x runs connect --id x (user s_x)"
else
	t_fail "shim" "exit $rc: $(cat "$T/shim.log")"
fi
# Inside a Studio (LIGHTNING_* set), its own LIGHTNING_CLOUD_SPACE_ID is no target: refused, named.
env -u TARGET_LIGHTNING_ID LIGHTNING_CLOUD_SPACE_ID=ownid LIGHTNING_CLOUDSPACE_HOST=x.cloudspaces \
    CONNECT_BIN=$CONNECT sh "$TOP/connect.sh" -F "$T/shim.ini" >"$T/shim3.log" 2>&1
rc=$?
env -u TARGET_LIGHTNING_ID LIGHTNING_CLOUD_SPACE_ID=ownid LIGHTNING_CLOUDSPACE_HOST=x.cloudspaces \
    CONNECT_BIN=$CONNECT sh "$TOP/conf/agent-entrypoint.sh" true >"$T/entry-own.log" 2>&1
rc2=$?
if [ $rc = 64 ] && grep -q "TARGET_LIGHTNING_ID" "$T/shim3.log" && ! grep -q "s_ownid" "$T/shim3.log" &&
    [ $rc2 = 64 ] && grep -q "TARGET_LIGHTNING_ID" "$T/entry-own.log"; then
	t_pass "shim and agent entrypoint inside a Studio: its own id refused, TARGET_LIGHTNING_ID named"
else
	t_fail "shim inside a Studio" "exits $rc/$rc2: $(cat "$T/shim3.log" "$T/entry-own.log")"
fi
# On a laptop the old fallback stays: LIGHTNING_CLOUD_SPACE_ID set by hand.
env -u TARGET_LIGHTNING_ID -u LIGHTNING_CLOUDSPACE_HOST -u LIGHTNING_CLUSTER_ID \
    LIGHTNING_CLOUD_SPACE_ID=laptopid CONNECT_BIN=$CONNECT sh "$TOP/connect.sh" -F "$T/shim.ini" \
    >"$T/shim4.log" 2>&1
rc=$?
if [ $rc = 77 ] && grep -q "s_laptopid@" "$T/shim4.log"; then
	t_pass "shim on a laptop: LIGHTNING_CLOUD_SPACE_ID still read (user s_<id>)"
else
	t_fail "shim on a laptop" "exit $rc: $(cat "$T/shim4.log")"
fi
CONNECT_BIN=$T/nonexistent sh "$TOP/connect.sh" >"$T/shim2.log" 2>&1
rc=$?
if [ $rc = 69 ] && grep -q "missing" "$T/shim2.log"; then
	t_pass "shim: clear error when the binary is missing"
else
	t_fail "shim: missing binary" "exit $rc: $(cat "$T/shim2.log")"
fi

# --- ~/.ssh/config Host block without a profile ---------------------------------------
cat >"$T/ssh_config" <<EOF
Host studio-alias
  User $SSHD_USER
  Hostname 127.0.0.1
  Port $SSHD_PORT
  IdentityFile $SSHD_KEY
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
EOF
mkdir -p "$T/home/.config/connect"
HOME=$T/home XDG_CONFIG_HOME=$T/home/.config CONNECT_SSH_CONFIG=$T/ssh_config SSH_AUTH_SOCK= \
    $CONNECT -L "$L_ECHO:127.0.0.1:$P_ECHO" studio-alias >"$T/alias.log" 2>&1 &
AL=$!
t_track $AL
# The default forwards (8080...) may be taken on this machine: only the -L one is checked.
if wait_log "$T/alias.log" "connected to|already in use" 15 && grep -q "connected to" "$T/alias.log" &&
    $TNET echo 127.0.0.1 "$L_ECHO" --bytes 65536 >/dev/null 2>&1 &&
    grep -q "127.0.0.1\]:$SSHD_PORT" "$T/home/.ssh/known_hosts"; then
	t_pass "no profile, Host block in ssh config: used, /dev/null known_hosts replaced by ~/.ssh/known_hosts"
elif grep -q "already in use" "$T/alias.log"; then
	t_skip "ssh config Host block" "a default port (8080/8008/8081) is busy on this machine"
else
	t_fail "ssh config Host block" "$(cat "$T/alias.log")"
fi
kill -TERM $AL 2>/dev/null
t_wait_exit $AL 10

t_done
