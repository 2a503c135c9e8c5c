"""connection.py - one session with hitlqd: socket, optional TLS, HELLO and
AUTH (proto/PROTOCOL.md §3), request ids and reply matching.

A Connection is used by one thread at a time (hitlq.Client holds a lock).
Replies are matched to requests by request_id (they may come out of
order, §1); RESULT pushes of a WATCH are kept in `pushes`.  Any transport
failure closes the connection and raises a hitlq.ConnectionError; a reply
with a fatal status (§5) closes it after raising the status's exception.
"""
import collections
import socket
import time

from . import keys, statuses, tls, wire
from .errors import (ClientError, ConnectionClosed, ConnectionError, HitlqError,
                     ProtocolError, Timeout, error_for)

CLIENT_NAME = "hitlq-python/0.1"


class Connection:
    """An open, authenticated session (see open())."""

    def __init__(self, sock, sslsock=None):
        self.sock = sslsock or sock
        self.reader = wire.FrameReader()
        self.pushes = collections.deque()
        self.replies = {}
        self.next_rid = 1
        self.hello = {}
        self.closed = False

    # ---- transport ----------------------------------------------------

    def close(self):
        """Closes the socket; the connection is unusable afterwards."""
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def _fail(self, exc):
        """Closes and returns exc (to be raised)."""
        self.close()
        return exc

    def new_rid(self):
        """The next request id (never 0: the server uses 0 for its own
        frames, §3.3)."""
        rid = self.next_rid
        self.next_rid = rid + 1 if rid < 0xFFFFFFFF else 1
        return rid

    def send(self, opcode, body=None, limit=wire.MAX_FRAME):
        """Sends one request; returns its request id."""
        if self.closed:
            raise ConnectionClosed(message="connection is closed")
        rid = self.new_rid()
        data = wire.pack_frame(opcode, rid, body, limit)
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise self._fail(Timeout(message="send timed out")) from None
        except OSError as exc:
            raise self._fail(ConnectionError(message="send: %s" % exc)) from None
        return rid

    def _read_some(self, deadline, close_on_timeout=True):
        """Reads what the socket has; raises on EOF or error, and at the
        deadline (closing) unless close_on_timeout is False: then it
        returns False and the connection stays usable."""
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if left is not None and left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            data = self.sock.recv(262144)
        except socket.timeout:
            if not close_on_timeout:
                return False
            raise self._fail(Timeout(message="no reply within the timeout")) from None
        except OSError as exc:
            raise self._fail(ConnectionError(message="recv: %s" % exc)) from None
        if not data:
            raise self._fail(ConnectionClosed(message="the server closed the connection"))
        self.reader.feed(data)
        return True

    def read_frame(self, deadline, close_on_timeout=True):
        """The next frame from the server; None at the deadline when
        close_on_timeout is False (else Timeout is raised)."""
        while True:
            try:
                fr = self.reader.next()
            except ProtocolError as exc:
                raise self._fail(exc) from None
            if fr is not None:
                return fr
            if not self._read_some(deadline, close_on_timeout):
                return None

    def _sort(self, fr):
        """Files a frame: a push, a reply, or the server's own rid-0 frame
        (a revoked key, §3.3), which is raised."""
        if fr.request_id == 0 and fr.status >= statuses.FIRST_ERROR:
            exc = error_for(fr.status, fr.body)
            raise self._fail(exc)
        if fr.opcode == wire.OPCODES["RESULT"]:
            self.pushes.append(fr)
        else:
            self.replies[fr.request_id] = fr

    def wait_reply(self, rid, deadline):
        """The reply to rid (any status)."""
        while rid not in self.replies:
            self._sort(self.read_frame(deadline))
        return self.replies.pop(rid)

    def wait_push(self, deadline, close_on_timeout=True):
        """The next RESULT push; None at the deadline when close_on_timeout
        is False."""
        while not self.pushes:
            fr = self.read_frame(deadline, close_on_timeout)
            if fr is None:
                return None
            self._sort(fr)
        return self.pushes.popleft()

    def check(self, fr):
        """fr's body when its status is ok or empty; else raises the
        status's exception (closing first when it is fatal)."""
        if fr.status < statuses.FIRST_ERROR:
            return fr.body
        exc = error_for(fr.status, fr.body)
        if exc.fatal:
            self.close()
        raise exc

    def call(self, opcode, body=None, timeout=None, limit=wire.MAX_FRAME):
        """One request and its reply frame (status already checked)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        rid = self.send(opcode, body, limit)
        fr = self.wait_reply(rid, deadline)
        self.check(fr)
        return fr


def _dial(host, port, timeout, ssl_context, server_name, want_keylog):
    """A connected (and TLS-handshaken) socket, and the key-log pipe."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        raise Timeout(message="connect to %s:%s timed out" % (host, port)) from None
    except OSError as exc:
        raise ConnectionError(message="connect to %s:%s: %s" % (host, port, exc)) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ssl_context is None:
        return sock, None, None
    keylog = tls.KeyLogPipe(ssl_context) if want_keylog else None
    try:
        sslsock = ssl_context.wrap_socket(sock, server_hostname=server_name or host)
    except (OSError, ValueError) as exc:
        sock.close()
        if keylog:
            keylog.close()
        raise ConnectionError(message="TLS handshake with %s:%s: %s" % (host, port, exc)) from None
    return sock, sslsock, keylog


def _authenticate(conn, sslsock, keylog, opts, deadline):
    """HELLO, and AUTH for an Ed25519 key; returns the session's reply."""
    body = {"version": wire.PROTO_VERSION, "client": CLIENT_NAME}
    if opts.get("name"):
        body["name"] = opts["name"]
    sk = opts.get("ed25519_key")
    if sk is not None:
        body["challenge"] = True
    elif opts.get("api_key"):
        body["api_key"] = opts["api_key"]
    fr = conn.wait_reply(conn.send(wire.OPCODES["HELLO"], body, wire.MAX_FRAME_PREAUTH), deadline)
    hello = conn.check(fr)
    if sk is None or "nonce" not in hello:
        return hello
    nonce = hello["nonce"]
    if not isinstance(nonce, bytes) or len(nonce) != keys.NONCE_LEN:
        raise conn._fail(ProtocolError(message="HELLO challenge without a 32-byte nonce"))
    exp = (tls.exporter(sslsock, keylog, keys.EXPORTER_LABEL) if sslsock is not None
           else bytes(keys.EXPORTER_LEN))
    auth = {"key_id": sk.key_id, "role": opts["role"],
            "signature": sk.sign_challenge(nonce, exp, opts["role"])}
    fr = conn.wait_reply(conn.send(wire.OPCODES["AUTH"], auth, wire.MAX_FRAME_PREAUTH), deadline)
    return conn.check(fr)


def open_connection(host, port, opts, timeout, ssl_context=None):
    """Connects, handshakes TLS when ssl_context is given, and opens the
    session (§3) with opts: name, api_key, ed25519_key (keys.Ed25519Key),
    role, server_name.  Returns the Connection; raises a HitlqError."""
    if opts.get("ed25519_key") is not None and opts.get("role") not in keys.ROLES:
        raise ClientError(message="ed25519_key needs role= (one of %s)" % ", ".join(keys.ROLES))
    want_keylog = ssl_context is not None and opts.get("ed25519_key") is not None
    if want_keylog:
        ssl_context = opts["context_factory"]()
    sock, sslsock, keylog = _dial(host, port, timeout, ssl_context,
                                  opts.get("server_name"), want_keylog)
    conn = Connection(sock, sslsock)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        conn.hello = _authenticate(conn, sslsock, keylog, opts, deadline)
    except HitlqError:
        conn.close()
        raise
    finally:
        if keylog:
            keylog.close()
    return conn
