#!/bin/sh
# t-ciphers.sh: every cipher a profile can ask for carries forwards byte for byte, both ways, with
# each kind of MAC: AEAD (aes-gcm, chacha20-poly1305), encrypt-then-MAC (-etm) and encrypt-and-MAC
# (hmac-sha2-256, which the test sshd is then limited to). The tuned libssh encrypts every packet
# straight into its socket's output buffer (libssh/patches/06-send-in-place), a different path for
# each of these; the system libssh runs the same checks. What was negotiated is read from sshd's own
# log (LogLevel DEBUG1: "kex: client->server cipher: ... MAC: ..."), so a silent fallback to another
# cipher fails. Nothing timed.
. "$(dirname "$0")/lib.sh"
t_init ciphers
CONNECT=${CONNECT:-$TOP/tests/connect-asan}
SSHD_LOGLEVEL=DEBUG1

set -- $($TNET freeport 2)
P_ECHO=$1 L_ECHO=$2
serve_start --echo "$P_ECHO" && wait_port "$P_ECHO" ||
    { t_fail services "tnet serve did not start"; t_done; }

# check CIPHER MAC: connect asking for CIPHER, 4 connections each echoing 2 MiB through the forward
# (both directions at once), and sshd's log naming CIPHER and MAC for this session.
check() {
	write_profile "$T/c.ini" "ciphers = $1" "default_forwards = no" "$(fwd echo "$L_ECHO" "$P_ECHO")"
	_ck_from=$(($(wc -l <"$T/sshd.log") + 1))
	$CONNECT -F "$T/c.ini" >"$T/c.log" 2>&1 &
	_ck_pid=$!
	t_track $_ck_pid
	if ! wait_log "$T/c.log" "connected to" 30; then
		t_fail "$1 + $2: connects" "$(tail -n 3 "$T/c.log")"
		t_stop $_ck_pid TERM 10
		return
	fi
	wait_port "$L_ECHO" 10
	if $TNET echo 127.0.0.1 "$L_ECHO" --bytes 2097152 --conns 4 --timeout 120 >"$T/echo.out" 2>&1; then
		t_pass "$1 + $2: 4 x 2 MiB echoed byte-exact"
	else
		t_fail "$1 + $2: 4 x 2 MiB echoed byte-exact" "$(tail -n 2 "$T/echo.out")"
	fi
	_ck_kex=$(tail -n +"$_ck_from" "$T/sshd.log" | grep -m 1 'kex: client->server cipher:')
	case $_ck_kex in
	*"cipher: $1 MAC: $2 "*) t_pass "$1 + $2: negotiated (sshd: ${_ck_kex#*kex: })" ;;
	*) t_fail "$1 + $2: negotiated" "sshd logged '${_ck_kex:-no kex line}'" ;;
	esac
	t_stop $_ck_pid TERM 10
}

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above)"
	t_done
fi
# AEAD ciphers carry their own tag; sshd says "MAC: <implicit>".
check aes128-gcm@openssh.com '<implicit>'
check aes256-gcm@openssh.com '<implicit>'
check chacha20-poly1305@openssh.com '<implicit>'
# libssh prefers the -etm MACs.
check aes128-ctr hmac-sha2-256-etm@openssh.com

# No ciphers in the profile: AES-GCM first where the CPU has AES instructions (compat_cpu_has_aes():
# cpuid on x86, the kernel's HWCAP_AES on arm64 Linux), else chacha20-poly1305. The CPU is this
# machine's (/proc/cpuinfo: "aes" among x86's flags or arm64's Features), or under qemu-user (the
# arm64 pass, tests/qemu-arm64) qemu's default CPU, "max", which has the ARMv8 Crypto Extension.
case $CONNECT in
*/qemu-arm64) aes=1 cpu="qemu-user's max CPU" ;;
*) grep -Eq '^(flags|Features)[[:space:]]*:.* aes( |$)' /proc/cpuinfo 2>/dev/null && aes=1 || aes=0
   cpu="this CPU (/proc/cpuinfo)" ;;
esac
if [ $aes = 1 ]; then want=aes128-gcm@openssh.com; else want=chacha20-poly1305@openssh.com; fi
write_profile "$T/d.ini" "default_forwards = no" "$(fwd echo "$L_ECHO" "$P_ECHO")"
from=$(($(wc -l <"$T/sshd.log") + 1))
$CONNECT -F "$T/d.ini" >"$T/d.log" 2>&1 &
DP=$!
t_track $DP
if wait_log "$T/d.log" "connected to" 30; then
	kex=$(tail -n +"$from" "$T/sshd.log" | grep -m 1 'kex: client->server cipher:')
	case $kex in
	*"cipher: $want "*) t_pass "default cipher for $cpu (AES: $aes): $want (sshd: ${kex#*kex: })" ;;
	*) t_fail "default cipher for $cpu (AES: $aes)" "want $want; sshd logged '${kex:-no kex line}'" ;;
	esac
else
	t_fail "default cipher: connects" "$(tail -n 3 "$T/d.log")"
fi
t_stop $DP TERM 10

SSHD_EXTRA="MACs hmac-sha2-256"
if sshd_restart; then
	check aes128-ctr hmac-sha2-256
	check aes256-ctr hmac-sha2-256
else
	t_fail "sshd with MACs hmac-sha2-256" "did not start (see above)"
fi
SSHD_EXTRA="MACs hmac-sha2-512-etm@openssh.com"
if sshd_restart; then
	check aes256-ctr hmac-sha2-512-etm@openssh.com
else
	t_fail "sshd with MACs hmac-sha2-512-etm" "did not start (see above)"
fi
t_done
