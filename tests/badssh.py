#!/usr/bin/env python3
# badssh.py: a hostile SSH server and the clients that go with it, for tests/t-window-abuse.sh.
#
#   badssh.py serve PORT HOSTKEY --bytes N [--ignore-close]
#       An SSH server on 127.0.0.1:PORT (paramiko; any user, any public key) that opens every
#       direct-tcpip channel asked for and sends N bytes down each as CHANNEL_DATA, 32 KiB a
#       packet, ignoring the channel window. It stops on a channel once the client closes it
#       (--ignore-close: it never answers that CLOSE and goes on sending). One line per
#       channel: "channel K: closed by the client after B bytes" or "channel K: sent B bytes".
#   badssh.py serve PORT HOSTKEY --open-flood N
#       Instead, once the client is in: N CHANNEL_OPEN (forwarded-tcpip, 60 KB of addresses each)
#       towards the client, which opened no remote forward; then "opens: N sent, R refused".
#   badssh.py clients PORT --conns C --secs S
#       C connections to 127.0.0.1:PORT that never read (a 4 KiB receive buffer); each is
#       watched for a reset, a close or data, for at most S seconds, then one line:
#       "clients: R reset, E closed, O open".
#
# The server needs python3-paramiko (Debian); `badssh.py check` exits 0 when it can be had.
import errno
import select
import signal
import socket
import sys
import threading
import time


def serve(port, hostkey, nbytes, ignore_close, flood):
    import paramiko
    from paramiko.common import cMSG_CHANNEL_DATA, cMSG_CHANNEL_OPEN, MSG_CHANNEL_CLOSE
    from paramiko.common import MSG_CHANNEL_OPEN_FAILURE
    from paramiko.message import Message

    key = paramiko.Ed25519Key.from_private_key_file(hostkey)
    closed = {}  # channel id -> a CLOSE came from the client

    refused = [0]  # our channel opens the client refused (we make no other)

    def count_failure(t, m):
        refused[0] += 1

    paramiko.Transport._handler_table[MSG_CHANNEL_OPEN_FAILURE] = count_failure

    if ignore_close:
        # The client's CLOSE is noted, never answered: its channel stays open on our side.
        def note_close(chan, m):
            closed[chan.get_id()] = True

        paramiko.Transport._channel_handler_table[MSG_CHANNEL_CLOSE] = note_close

    class Server(paramiko.ServerInterface):
        def get_allowed_auths(self, username):
            return "publickey"

        def check_auth_publickey(self, username, key):
            return paramiko.AUTH_SUCCESSFUL

        def check_channel_request(self, kind, chanid):
            return paramiko.OPEN_SUCCEEDED

        def check_channel_direct_tcpip_request(self, chanid, origin, destination):
            return paramiko.OPEN_SUCCEEDED

        def check_global_request(self, kind, msg):
            return False

    def blast(t, chan):
        data = b"x" * 32768
        sent = 0
        noted = False
        while sent < nbytes and t.is_active():
            if not noted and (chan.closed or closed.get(chan.get_id())):
                print("channel %d: closed by the client after %d bytes" % (chan.get_id(), sent),
                      flush=True)
                if not ignore_close:
                    return
                noted = True
            m = Message()
            m.add_byte(cMSG_CHANNEL_DATA)
            m.add_int(chan.remote_chanid)
            m.add_string(data)
            t._send_user_message(m)  # past the window: no wait for an adjust
            sent += len(data)
        print("channel %d: sent %d bytes" % (chan.get_id(), sent), flush=True)

    def session(sock):
        t = paramiko.Transport(sock)
        t.add_server_key(key)
        try:
            t.start_server(server=Server())
        except Exception:
            return  # a probe of the port (wait_port) sends no banner
        if flood > 0:
            while t.is_active() and not t.is_authenticated():
                time.sleep(0.05)
            big = "h" * 30000
            for i in range(flood):
                m = Message()
                m.add_byte(cMSG_CHANNEL_OPEN)
                m.add_string("forwarded-tcpip")
                m.add_int(1000 + i)
                m.add_int(65536)
                m.add_int(32768)
                m.add_string(big)
                m.add_int(80)
                m.add_string(big)
                m.add_int(1)
                t._send_user_message(m)
            deadline = time.monotonic() + 20
            while refused[0] < flood and t.is_active() and time.monotonic() < deadline:
                time.sleep(0.1)
            print("opens: %d sent, %d refused" % (flood, refused[0]), flush=True)
        while t.is_active():
            chan = t.accept(1)
            if chan is not None:
                threading.Thread(target=blast, args=(t, chan), daemon=True).start()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=session, args=(s,), daemon=True).start()


def clients(port, conns, secs):
    socks = []
    for _ in range(conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    state = {s: "open" for s in socks}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # still prints the line (finally)
    deadline = time.monotonic() + secs
    try:
        watch(socks, state, deadline)
    finally:
        v = list(state.values())
        print("clients: %d reset, %d closed, %d open" % (v.count("reset"), v.count("closed"),
                                                          v.count("open")), flush=True)


def watch(socks, state, deadline):
    while time.monotonic() < deadline and "open" in state.values():
        time.sleep(0.2)
        for s in socks:
            if state[s] != "open":
                continue
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNRESET:
                state[s] = "reset"
                continue
            # Peek without reading: an error or EOF shows, data stays unread.
            r, _, _ = select.select([s], [], [], 0)
            if not r:
                continue
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    state[s] = "closed"
            except ConnectionResetError:
                state[s] = "reset"
            except OSError:
                state[s] = "reset"


def main(argv):
    if len(argv) >= 2 and argv[1] == "check":
        import paramiko  # noqa: F401
        return 0
    if len(argv) >= 4 and argv[1] == "serve":
        nbytes = int(argv[argv.index("--bytes") + 1]) if "--bytes" in argv else 1 << 26
        flood = int(argv[argv.index("--open-flood") + 1]) if "--open-flood" in argv else 0
        serve(int(argv[2]), argv[3], nbytes, "--ignore-close" in argv, flood)
        return 0
    if len(argv) >= 3 and argv[1] == "clients":
        conns = int(argv[argv.index("--conns") + 1]) if "--conns" in argv else 1
        secs = float(argv[argv.index("--secs") + 1]) if "--secs" in argv else 30
        clients(int(argv[2]), conns, secs)
        return 0
    sys.stderr.write("usage: badssh.py serve PORT HOSTKEY --bytes N [--ignore-close]\n"
                     "       badssh.py serve PORT HOSTKEY --open-flood N\n"
                     "       badssh.py clients PORT --conns C --secs S\n"
                     "       badssh.py check\n")
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
