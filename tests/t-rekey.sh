#!/bin/sh
# t-rekey.sh: transfers stay byte-exact across key re-exchanges. sshd is told to rekey every
# 1 MiB, so a 64 MiB transfer each way crosses ~128 of them; while one runs, libssh accepts
# fewer bytes than offered (even none), which connect must keep and send later.
. "$(dirname "$0")/lib.sh"
t_init rekey
SSHD_EXTRA="RekeyLimit 1M"
# Key exchanges are counted on sshd's side (its debug log), which says the same whatever libssh
# connect is built with: libssh 0.11 and 0.12 no longer log the line 0.10 does.
SSHD_LOGLEVEL=DEBUG1
if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above)"
	t_done
fi
set -- $($TNET freeport 4)
P_ECHO=$1 P_BLAST=$2 L_ECHO=$3 L_BLAST=$4
serve_start --echo "$P_ECHO" --blast "$P_BLAST:67108864"
write_profile "$T/p.ini" "default_forwards = no" \
    "[forward echo]" "local_port = $L_ECHO" "remote_host = 127.0.0.1" "remote_port = $P_ECHO" \
    "[forward blast]" "local_port = $L_BLAST" "remote_host = 127.0.0.1" "remote_port = $P_BLAST"
connect_start -F "$T/p.ini" -vv
wait_log "$T/connect.log" "connected to" 15 || t_fail "connect up" "$(tail -5 "$T/connect.log")"
if out=$($TNET echo 127.0.0.1 "$L_ECHO" --bytes 67108864 --conns 2 2>&1); then
	t_pass "64 MiB each way on 2 conns across rekeys every 1 MiB: byte-exact ($out)"
else
	t_fail "transfer across rekeys" "$out"
fi
if out=$($TNET read 127.0.0.1 "$L_BLAST" --bytes 67108864 2>&1); then
	t_pass "64 MiB download across rekeys: byte-exact"
else
	t_fail "download across rekeys" "$out"
fi
n=$(grep -c "SSH2_MSG_NEWKEYS received" "$T/sshd.log")
if [ "$n" -gt 10 ]; then
	t_pass "the session really re-keyed ($n key exchanges in sshd's log)"
else
	t_fail "re-keys happened" "only $n key exchanges in sshd's log"
fi
connect_stop
rc=$?
[ $rc = 0 ] && t_pass "clean exit after the rekeys" || t_fail "clean exit" "status $rc"
t_done
