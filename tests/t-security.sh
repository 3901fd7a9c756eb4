#!/bin/sh
# t-security.sh: the security checks of issue 6, end to end against a real sshd:
#   - no secret in any log at -vvv (an unencrypted key, a passphrase-protected key typed on a
#     terminal, check, -d with its log file), searched for the key's text, its seed and the passphrase;
#   - a host key that changes between reconnects stops connect, foreground and -d, without logging in;
#   - private key modes (group- or world-readable), a group- or world-writable profile or ssh
#     config are refused;
#   - init refuses a name outside the profile directory and a value with a control character
#     (an injected line), writing nothing;
#   - listeners: 127.0.0.1 by default, other loopback addresses without a warning, a wildcard bind
#     with one (inside a network namespace of our own, root only).
. "$(dirname "$0")/lib.sh"
t_init security

CONNECT=${CONNECT:-$TOP/tests/connect-asan}

sshd_start || { t_fail sshd "the test sshd did not start"; t_done; }
set -- $("$TNET" freeport 6)
P_WEB=$1 P_ECHO=$2 L_WEB=$3 L_ECHO=$4 L_X=$5 L_Y=$6
serve_start --http "$P_WEB:web" --echo "$P_ECHO" || { t_fail services "did not start"; t_done; }
export XDG_RUNTIME_DIR="$T/run"
mkdir -p "$T/run" && chmod 700 "$T/run"

# profile FILE KEY [LINES...]: web and echo forwards, identity KEY, keepalive 1 s x 3.
profile() {
	_pf=$1 _pk=$2
	shift 2
	write_profile "$_pf" "host_key_policy = accept-new" "default_forwards = no" \
	    "[forward web]" "local_port = $L_WEB" "remote_host = 127.0.0.1" "remote_port = $P_WEB" \
	    "[forward echo]" "local_port = $L_ECHO" "remote_host = 127.0.0.1" "remote_port = $P_ECHO" \
	    "[keepalive]" "interval = 1s" "count = 3" "[reconnect]" "backoff_max = 1s" "$@"
	sed -i "s|^identity = .*|identity = $_pk|" "$_pf"
}
get() { curl -s -m 5 "http://127.0.0.1:$1/"; }

# secrets_of KEY [PASSPHRASE]: write to $T/secrets.KEY the strings that must never be logged: each
# base64 line of the private key file, and the ed25519 seed (the secret half of the key) as hex,
# hex with spaces, HEX and base64. An encrypted key is decrypted into a copy first.
secrets_of() {
	_sk=$1 _sp=${2:-}
	cp "$_sk" "$T/plain.key" && chmod 600 "$T/plain.key"
	[ -n "$_sp" ] && ssh-keygen -q -p -P "$_sp" -N '' -f "$T/plain.key" >/dev/null
	{
		grep -v -- '-----' "$_sk"
		grep -v -- '-----' "$T/plain.key"
		# openssh-key-v1: the private part holds string(seed || public), 64 bytes, after the
		# public key string(32 bytes): find "00000040" followed by 32 bytes and then the public key.
		_hex=$(grep -v -- '-----' "$T/plain.key" | tr -d '\n' | base64 -d | od -An -tx1 -v |
		    tr -d ' \n')
		_pub=$(awk '{ print $2 }' "$_sk.pub" | base64 -d | od -An -tx1 -v | tr -d ' \n' |
		    tail -c 64)
		_seed=$(echo "$_hex" | sed -n "s/.*00000040\([0-9a-f]\{64\}\)$_pub.*/\1/p")
		[ -n "$_seed" ] || echo "secrets_of: no seed found in $_sk" >&2
		echo "$_seed"
		echo "$_seed" | sed 's/../& /g; s/ $//'
		echo "$_seed" | tr 'a-f' 'A-F'
		echo "$_seed" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 | tr -d '\n'
		echo
		[ -n "$_sp" ] && echo "$_sp"
	} | grep . >"$T/secrets.$(basename "$_sk")"
	rm -f "$T/plain.key"
}

# leaks SECRETS FILE...: print "FILE: which secret" for every secret found in a FILE.
leaks() {
	_ls=$1
	shift
	while IFS= read -r _l; do
		for _lf in "$@"; do
			grep -qF -- "$_l" "$_lf" 2>/dev/null && echo "$_lf: $(printf '%.12s' "$_l")..."
		done
	done <"$_ls"
}

# ---------------------------------------------------------------- no secret at -vvv
secrets_of "$SSHD_KEY"
n=$(wc -l <"$T/secrets.$(basename "$SSHD_KEY")")
profile "$T/plain.ini" "$SSHD_KEY"
$CONNECT -vvv -F "$T/plain.ini" >"$T/vvv-fg.log" 2>&1 &
FG=$!
t_track $FG
ok=0
if wait_log "$T/vvv-fg.log" "connected to" 15 && [ "$(get "$L_WEB")" = "service web" ] &&
    "$TNET" echo 127.0.0.1 "$L_ECHO" --bytes 4m >/dev/null; then
	ok=1
fi
kill -TERM $FG
t_wait_exit $FG 10 >/dev/null
$CONNECT -vvv check -F "$T/plain.ini" >"$T/vvv-check.log" 2>&1
$CONNECT -vvv -d --log "$T/vvv-d.log" -F "$T/plain.ini" >"$T/vvv-d.out" 2>&1 &&
    [ "$(get "$L_WEB")" = "service web" ] || ok=0
$CONNECT stop plain >/dev/null 2>&1
found=$(leaks "$T/secrets.$(basename "$SSHD_KEY")" "$T/vvv-fg.log" "$T/vvv-check.log" \
    "$T/vvv-d.log" "$T/vvv-d.out")
lines=$(cat "$T/vvv-fg.log" "$T/vvv-check.log" "$T/vvv-d.log" | wc -l)
if [ $ok = 1 ] && [ "$n" -ge 5 ] && [ -z "$found" ] && [ "$lines" -gt 200 ] &&
    grep -q "ssh_packet" "$T/vvv-fg.log"; then
	t_pass "-vvv (foreground, check, -d --log): $lines log lines, none holds any of $n forms of the key"
else
	t_fail "no secret at -vvv" "ok=$ok secrets=$n lines=$lines found: $found"
fi

if command -v script >/dev/null 2>&1; then
	PASS='correct horse 7 battery'
	ssh-keygen -q -t ed25519 -N "$PASS" -f "$T/pp_key" </dev/null
	cat "$T/pp_key.pub" >>"$T/authorized_keys"
	secrets_of "$T/pp_key" "$PASS"
	profile "$T/pp.ini" "$T/pp_key"
	# Typed once the prompt is up (echo is off by then: text typed earlier would be echoed).
	( wait_log "$T/vvv-pp.log" "Enter passphrase" 30; printf '%s\n' "$PASS"; sleep 30 ) |
	    script -qec "$CONNECT -vvv -F $T/pp.ini" /dev/null >"$T/vvv-pp.log" 2>&1 &
	PPS=$!
	t_track $PPS
	ok=0
	if wait_log "$T/vvv-pp.log" "connected to" 30 && [ "$(get "$L_WEB")" = "service web" ] &&
	    "$TNET" echo 127.0.0.1 "$L_ECHO" --bytes 1m >/dev/null; then
		ok=1
	fi
	pkill -TERM -f "$CONNECT -vvv -F $T/pp.ini" 2>/dev/null
	t_wait_exit $PPS 10 >/dev/null
	found=$(leaks "$T/secrets.pp_key" "$T/vvv-pp.log")
	if [ $ok = 1 ] && [ -z "$found" ] && grep -q "Enter passphrase" "$T/vvv-pp.log"; then
		t_pass "-vvv with a passphrase typed on a terminal: neither the passphrase nor the key in the log"
	else
		t_fail "no passphrase at -vvv" "ok=$ok found: $found; $(tail -n 3 "$T/vvv-pp.log")"
	fi
else
	t_skip "no passphrase at -vvv" "script(1) is not installed"
fi

# ---------------------------------------------------------------- a host key changed between reconnects
# accepted() counts sshd's successful logins: none may happen once the key changed.
accepted() { grep -c "Accepted publickey" "$T/sshd.log"; }
hostkey_swap_check() {	# NAME LOG PID-or-empty: the key changes under a running tunnel
	_hn=$1 _hl=$2
	old_fp=$(sshd_fingerprint)
	before=$(accepted)
	sshd_swap_hostkeys || { t_fail "$_hn" "sshd did not come back"; return; }
	new_fp=$(sshd_fingerprint)
	if wait_log "$_hl" "HOST KEY CHANGED" 15 && grep -q "$old_fp" "$_hl" && grep -q "$new_fp" "$_hl"; then
		sleep 3	# time for a wrong retry to log in, were there one
		if [ "$(accepted)" = "$before" ] && ! "$TNET" probe 127.0.0.1 "$L_WEB"; then
			t_pass "$_hn: refused loudly with both fingerprints, never logged in, forwards closed"
		else
			t_fail "$_hn" "logins $before -> $(accepted); port $L_WEB still open"
		fi
	else
		t_fail "$_hn" "no refusal naming $old_fp and $new_fp: $(tail -n 3 "$_hl")"
	fi
	rm -f "$T/known_hosts"
}

profile "$T/hk.ini" "$SSHD_KEY"
$CONNECT -F "$T/hk.ini" >"$T/hk-fg.log" 2>&1 &
HK=$!
t_track $HK
if wait_log "$T/hk-fg.log" "connected to" 15; then
	hostkey_swap_check "foreground: host key changed before a reconnect" "$T/hk-fg.log"
	t_wait_exit $HK 10
	rc=$?
	t_eq "foreground: the changed host key ends connect with 76 (EX_PROTOCOL)" "$rc" 76
else
	t_fail "foreground host key swap" "never connected: $(tail -n 3 "$T/hk-fg.log")"
fi

if $CONNECT -d --log "$T/hk-d.log" -F "$T/hk.ini" >"$T/hk-d.out" 2>&1; then
	DPID=$(cat "$T/run/connect/hk.pid" 2>/dev/null)
	hostkey_swap_check "-d: host key changed before a reconnect" "$T/hk-d.log"
	_n=50
	while [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null && [ ! -e "$T/run/connect/hk.pid" ]; then
		t_pass "-d: the daemon stops on a changed host key and leaves no files"
	else
		t_fail "-d: stop on changed host key" "pid $DPID alive or files left: $(ls "$T/run/connect")"
	fi
else
	t_fail "-d host key swap" "did not start: $(cat "$T/hk-d.out")"
fi

# The first connect of -d and of check with a recorded key that no longer matches.
profile "$T/hk.ini" "$SSHD_KEY"
$CONNECT -d -F "$T/hk.ini" >/dev/null 2>&1 && $CONNECT stop hk >/dev/null 2>&1
before=$(accepted)
sshd_swap_hostkeys
$CONNECT -d -F "$T/hk.ini" >"$T/hk-d1.out" 2>&1
rc=$?
if [ $rc = 76 ] && grep -q "HOST KEY CHANGED" "$T/hk-d1.out" && [ "$(accepted)" = "$before" ] &&
    [ ! -e "$T/run/connect/hk.pid" ]; then
	t_pass "-d on a changed host key: 76 at once, no login, nothing left"
else
	t_fail "-d on a changed host key" "exit $rc, logins $before -> $(accepted): $(cat "$T/hk-d1.out")"
fi
# The profile's explicit opt-out (never the ssh config's): the changed key is used, loudly.
sed -i "s/^host_key_policy = .*/host_key_policy = insecure-accept-any/" "$T/hk.ini"
$CONNECT -F "$T/hk.ini" >"$T/hk-insecure.log" 2>&1 &
HK=$!
t_track $HK
if wait_log "$T/hk-insecure.log" "connected to" 15 && [ "$(get "$L_WEB")" = "service web" ] &&
    grep -q "HOST KEY NOT VERIFIED.*insecure-accept-any" "$T/hk-insecure.log"; then
	t_pass "host_key_policy = insecure-accept-any: a changed key is used, with a warning naming it"
else
	t_fail "insecure-accept-any" "$(tail -n 3 "$T/hk-insecure.log")"
fi
t_stop $HK >/dev/null
rm -f "$T/known_hosts"
before=$(accepted)	# the checks below count logins from here

# ---------------------------------------------------------------- file modes
for mode in 640 604 644; do
	cp "$SSHD_KEY" "$T/k$mode" && chmod $mode "$T/k$mode"
	profile "$T/km.ini" "$T/k$mode"
	$CONNECT -F "$T/km.ini" >"$T/km.log" 2>&1
	rc=$?
	if [ $rc = 77 ] && grep -q "identity $T/k$mode has mode 0$mode" "$T/km.log" &&
	    [ "$(accepted)" = "$before" ]; then
		t_pass "a private key of mode $mode is refused (77) naming the file and mode, before any login"
	else
		t_fail "private key mode $mode" "exit $rc: $(cat "$T/km.log")"
	fi
done
profile "$T/ww.ini" "$SSHD_KEY"
chmod 666 "$T/ww.ini"
$CONNECT -F "$T/ww.ini" >"$T/ww.log" 2>&1
rc=$?
if [ $rc = 78 ] && grep -q "profile $T/ww.ini has mode 0666: writable by everyone" "$T/ww.log"; then
	t_pass "a world-writable profile is refused (78) naming the file and mode"
else
	t_fail "world-writable profile" "exit $rc: $(cat "$T/ww.log")"
fi

# A profile anyone but its owner may write is refused, as OpenSSH refuses such a config file.
profile "$T/gw.ini" "$SSHD_KEY"
chmod 620 "$T/gw.ini"
timeout 20 $CONNECT -F "$T/gw.ini" </dev/null >"$T/gw.log" 2>&1
rc=$?
if [ $rc = 78 ] && grep -q "profile $T/gw.ini has mode 0620: writable by group, refusing it (fix: chmod go-w $T/gw.ini)" "$T/gw.log"; then
	t_pass "a group-writable profile (0620) is refused (78) naming the file, mode and chmod"
else
	t_fail "group-writable profile" "exit $rc: $(cat "$T/gw.log")"
fi
if t_is_root; then
	profile "$T/other.ini" "$SSHD_KEY"
	chown 65534 "$T/other.ini"
	timeout 20 $CONNECT -F "$T/other.ini" </dev/null >"$T/other.log" 2>&1
	rc=$?
	if [ $rc = 78 ] && grep -q "profile $T/other.ini belongs to uid 65534, not to you" "$T/other.log"; then
		t_pass "a profile owned by another user is refused (78)"
	else
		t_fail "profile of another user" "exit $rc: $(cat "$T/other.log")"
	fi
else
	t_skip "profile of another user" "needs root (to chown a file to another uid)"
fi
printf '%s\n' "Host gwhost" "  HostName 127.0.0.1" >"$T/gw.sshcfg"
chmod 664 "$T/gw.sshcfg"
chmod 644 "$T/ww.ini"
CONNECT_SSH_CONFIG=$T/gw.sshcfg timeout 20 $CONNECT -F "$T/ww.ini" </dev/null >"$T/gwc.log" 2>&1
rc=$?
if [ $rc = 78 ] && grep -q "$T/gw.sshcfg has mode 0664: writable by group, refusing it (fix: chmod go-w $T/gw.sshcfg)" "$T/gwc.log"; then
	t_pass "a group-writable ssh config is refused (78), as OpenSSH refuses it"
else
	t_fail "group-writable ssh config" "exit $rc: $(cat "$T/gwc.log")"
fi

# ---------------------------------------------------------------- init writes only what the loader reads
# A script that passes untrusted text to init must not be able to add a line (host_key_policy =
# insecure-accept-any) or write outside the profile directory: 64, and nothing written anywhere.
mkdir -p "$T/cfg"
nl='
'
init_refused() {	# NAME WHAT ARGS...: init ARGS must exit 64 and write nothing under $T/cfg
	_ir_name=$1 _ir_what=$2
	shift 2
	XDG_CONFIG_HOME=$T/cfg $CONNECT init "$@" >"$T/ir.out" 2>&1
	_ir_rc=$?
	_ir_files=$(find "$T/cfg" -type f | head -n 3)
	if [ $_ir_rc = 64 ] && [ -z "$_ir_files" ] && grep -q "$_ir_what" "$T/ir.out"; then
		t_pass "init $_ir_name: refused (64), nothing written"
	else
		t_fail "init $_ir_name" "exit $_ir_rc, files '$_ir_files': $(head -n 2 "$T/ir.out")"
	fi
	rm -rf "$T/cfg" && mkdir -p "$T/cfg"
}
init_refused "../evil (outside the profile directory)" "bad profile name '../evil'" ../evil --id abc
init_refused "'a b' (a name the loader refuses)" "bad profile name 'a b'" 'a b' --id abc
init_refused "a newline in --host (an injected host_key_policy line)" "host: control character" \
    inj --id abc --host "x${nl}host_key_policy = insecure-accept-any"
init_refused "a newline in -l" "user: control character" inj -l "u${nl}[forward x]"
init_refused "a newline in -i" "identity: control character" inj --id abc -i "/k${nl}agent = no"
init_refused "a carriage return in -i" "identity: control character" inj --id abc -i "/k$(printf '\r')"
init_refused "an escape in --host" "host: control character" inj --id abc --host "x$(printf '\033')[2J"
init_refused "a newline in -p" "port" inj --id abc -p "22${nl}agent = no"

# ---------------------------------------------------------------- where listeners bind
# listening ADDR_HEX PORT: is there a listener on ADDR:PORT (/proc/net/tcp, state 0A)?
listening() {
	awk -v a="$1:$(printf '%04X' "$2")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' \
	    /proc/net/tcp
}
profile "$T/b.ini" "$SSHD_KEY"
$CONNECT -F "$T/b.ini" >"$T/b.log" 2>&1 &
B=$!
t_track $B
if wait_log "$T/b.log" "connected to" 15 && listening 0100007F "$L_WEB" &&
    ! listening 00000000 "$L_WEB" && ! grep -q "reachable from other machines" "$T/b.log"; then
	t_pass "listeners bind 127.0.0.1 by default, no warning"
else
	t_fail "default bind" "$(grep -i listen "$T/b.log" | head -n 3)"
fi
kill -TERM $B
t_wait_exit $B 10 >/dev/null

profile "$T/b2.ini" "$SSHD_KEY" "[forward x]" "local_port = $L_X" "bind = 127.0.0.2" \
    "remote_host = 127.0.0.1" "remote_port = $P_WEB"
$CONNECT -F "$T/b2.ini" >"$T/b2.log" 2>&1 &
B=$!
t_track $B
if wait_log "$T/b2.log" "connected to" 15 && listening 0200007F "$L_X" &&
    [ "$(curl -s -m 5 "http://127.0.0.2:$L_X/")" = "service web" ] &&
    ! grep -q "reachable from other machines" "$T/b2.log"; then
	t_pass "bind = 127.0.0.2: listens there, works, and no warning (still loopback)"
else
	t_fail "bind 127.0.0.2" "$(tail -n 3 "$T/b2.log")"
fi
kill -TERM $B
t_wait_exit $B 10 >/dev/null

# A wildcard bind only in a network namespace of our own, where no other machine can reach it. The
# tunnel cannot come up there (sshd is outside): the bind and its warning come first.
if t_need_root "bind = * warns (in a private network namespace)" && command -v unshare >/dev/null; then
	profile "$T/b3.ini" "$SSHD_KEY" "[forward y]" "local_port = $L_Y" "bind = *" \
	    "remote_host = 127.0.0.1" "remote_port = $P_WEB"
	# Polled until the listener shows (up to 10 s: the ASan build starts slowly on a busy box).
	unshare -n sh -c "ip link set lo up 2>/dev/null; $CONNECT -F $T/b3.ini >$T/b3.log 2>&1 &
	    c=\$!; n=100; while [ \$n -gt 0 ]; do
	    awk '\$2 == \"00000000:$(printf '%04X' "$L_Y")\" && \$4 == \"0A\"' /proc/net/tcp \
	    >$T/b3.listen; [ -s $T/b3.listen ] && break; sleep 0.1; n=\$((n - 1)); done
	    kill -TERM \$c; wait" 2>/dev/null
	if [ -s "$T/b3.listen" ] &&
	    grep -q "forward y listens on 0.0.0.0 port $L_Y: reachable from other machines" "$T/b3.log"; then
		t_pass "bind = *: listens on 0.0.0.0 with a warning in the log (private netns)"
	else
		t_fail "bind = * warns" "listen: $(cat "$T/b3.listen"); $(head -n 3 "$T/b3.log")"
	fi
fi
t_done
