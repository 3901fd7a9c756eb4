# demo.sh: what `make demo` runs. A throwaway loopback sshd plus three small HTTP services standing
# in for ClearML (web, api, files), `connect` tunnelling to them, a request through each local
# port, and a clean teardown. Prints "demo ok" at the end, or what went wrong and exits 1.
. "$(dirname "$0")/lib.sh"
t_init demo

# fail WHY: say what went wrong, show connect's log, exit 1 (keeping $T for a look).
fail() {
	echo "demo: FAILED: $*" >&2
	if [ -s "$T/connect.log" ]; then
		echo "---- connect's log ($T/connect.log):" >&2
		sed 's/^/  | /' "$T/connect.log" >&2
	fi
	T_FAILED=1
	exit 1
}

[ -x "$CONNECT" ] || fail "no connect binary at $CONNECT (run make)"
[ -x "$TNET" ] || fail "no tnet at $TNET (run make tests/tnet)"

echo "demo: a throwaway sshd on loopback"
sshd_start || fail "the test sshd did not start (its log is above)"
echo "  sshd        127.0.0.1:$SSHD_PORT, user $SSHD_USER, key $SSHD_KEY"

set -- $("$TNET" freeport 6)
R_WEB=$1 R_API=$2 R_FILES=$3 L_WEB=$4 L_API=$5 L_FILES=$6
echo "demo: three stand-in ClearML services on the 'Studio' side"
services_start "$R_WEB" "$R_API" "$R_FILES" || fail "the stand-in services did not start"
echo "  web         127.0.0.1:$R_WEB"
echo "  api         127.0.0.1:$R_API"
echo "  files       127.0.0.1:$R_FILES"

write_profile "$T/demo.ini" \
    "" \
    "[forward web]" "local_port = $L_WEB" "remote_host = 127.0.0.1" "remote_port = $R_WEB" \
    "" \
    "[forward api]" "local_port = $L_API" "remote_host = 127.0.0.1" "remote_port = $R_API" \
    "" \
    "[forward files]" "local_port = $L_FILES" "remote_host = 127.0.0.1" "remote_port = $R_FILES"
echo "demo: the profile $T/demo.ini"
sed 's/^/  | /' "$T/demo.ini"

echo "demo: $CONNECT -F $T/demo.ini (log: $T/connect.log)"
connect_start -F "$T/demo.ini"
for port in "$L_WEB" "$L_API" "$L_FILES"; do
	n=200
	until "$TNET" probe 127.0.0.1 "$port"; do
		t_alive "$CONNECT_PID" || { wait "$CONNECT_PID"; fail "connect exited ($?) before port $port opened"; }
		n=$((n - 1))
		[ "$n" -gt 0 ] || fail "connect's local port $port did not open within 20 s"
		sleep 0.1
	done
done

echo "demo: requests through the tunnel"
# get NAME URL EXPECTED: fetch URL, print it with the answer, fail unless it is EXPECTED.
get() {
	body=$(curl -s --max-time 30 "$2") || fail "$1: curl $2 failed (exit $?)"
	printf '  %-40s -> %s\n' "$2" "$body"
	[ "$body" = "$3" ] || fail "$1: expected '$3'"
}
get web "http://127.0.0.1:$L_WEB/" "service web"
get api "http://127.0.0.1:$L_API/debug.ping" '{"meta":{"result_code":200},"data":{}}'
get files "http://127.0.0.1:$L_FILES/" "service files"

echo "demo: teardown"
connect_stop TERM 15
rc=$?
[ "$rc" -eq 0 ] || fail "connect exited $rc on SIGTERM (expected 0)"
echo "  connect     stopped by SIGTERM, exit 0"
for port in "$L_WEB" "$L_API" "$L_FILES"; do
	wait_port_closed "$port" 5 || fail "local port $port still open after connect stopped"
done
echo "  local ports closed"
sshd_stop
t_stop "$SERVICES_PID" TERM 5 || fail "the stand-in services did not stop cleanly"
echo "  sshd and services stopped"
echo "demo ok"
