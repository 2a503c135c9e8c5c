"""servers.py - a list of servers for hitlq.Client(servers=[...]): parsing
"host:port" entries (an IPv6 host in brackets, "[::1]:7420") and finding
the leader among them (proto/PROTOCOL.md §9).

The search tries the leader named by the last `not_leader` reply, else the
server that served last, then the list in order.  A HELLO answered
`not_leader` with a `leader` address goes there next (at most MAX_HOPS in
a row); a refused connection, EOF, a timeout, `shutting_down`, a protocol
error or `not_leader` without a leader goes to the next server.  Passes
repeat with back-off (0.05 s doubling up to 1 s) until `failover` seconds
have passed; then the last failure is raised.  Credentials and TLS apply
to every server.
"""
import re
import time

from .errors import (ClientError, ConnectionError, NotLeader, ProtocolError,
                     ShuttingDown)

MAX_SERVERS = 16          # as libhitlq's HITLQ_MAX_SERVERS (include/hitlq.h)
MAX_HOPS = 4
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 1.0
_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}\Z")
_V6 = re.compile(r"[0-9A-Za-z:.%]{1,253}\Z")


def parse_server(entry):
    """(host, port) of one "host:port" string or (host, port) pair; raises
    ClientError with the reason."""
    if isinstance(entry, (tuple, list)) and len(entry) == 2:
        host, port = entry
        if not isinstance(host, str) or isinstance(port, bool) or not isinstance(port, int):
            raise ClientError(message="server %r: (host, port) with a str and an int" % (entry,))
    elif isinstance(entry, str):
        s = entry.strip()
        m = re.fullmatch(r"\[([^\]]*)\]:([^:]*)", s) or re.fullmatch(r"([^:\[\]]*):([^:]*)", s)
        if not s:
            raise ClientError(message="empty server entry")
        if m is None:
            raise ClientError(message="server %r: expected host:port, an IPv6 host in "
                              "brackets: [address]:port" % entry[:80])
        host, text = m.group(1), m.group(2)
        if not re.fullmatch(r"[0-9]{1,5}", text):
            raise ClientError(message="server %r: port must be a number 1..65535" % entry[:80])
        port = int(text)
    else:
        raise ClientError(message="server %r: a 'host:port' string or (host, port)" % (entry,))
    if not (_V6 if ":" in host else _NAME).match(host):
        raise ClientError(message="server %r: bad host" % (entry,))
    if not 1 <= port <= 65535:
        raise ClientError(message="server %r: port must be a number 1..65535" % (entry,))
    return host, port


def parse_servers(servers):
    """The list of (host, port) of servers: a list of entries, or one
    comma-separated string.  Raises ClientError when empty, longer than
    MAX_SERVERS or with a bad entry."""
    if isinstance(servers, str):
        servers = servers.split(",")
    if not isinstance(servers, (list, tuple)):
        raise ClientError(message="servers: a list of 'host:port' or one comma-separated str")
    servers = list(servers)
    if not servers:
        raise ClientError(message="servers: the list is empty")
    if len(servers) > MAX_SERVERS:
        raise ClientError(message="servers: more than %d servers" % MAX_SERVERS)
    return [parse_server(s) for s in servers]


def _leader_of(exc):
    """The (host, port) a not_leader reply names, or None."""
    try:
        leader = getattr(exc, "leader", None)
        return parse_server(leader) if isinstance(leader, str) else None
    except ClientError:
        return None


def _try(state, open_fn, srv):
    """srv, then the leaders not_leader replies name; the connection."""
    for hop in range(MAX_HOPS + 1):
        try:
            conn = open_fn(*srv)
        except NotLeader as exc:
            nxt = _leader_of(exc)
            if nxt is None or nxt == srv or hop == MAX_HOPS:
                raise
            srv = nxt
            continue
        state.last, state.hint = srv, None
        return conn


class LeaderState:
    """What the search remembers between connections: the server that
    served last and the leader a not_leader reply named."""

    def __init__(self, servers, failover):
        self.servers, self.failover = servers, failover
        self.last = self.hint = None

    def note(self, exc):
        """Remembers the leader named by a NotLeader exc."""
        self.hint = _leader_of(exc) or self.hint

    def connect(self, open_fn):
        """A connection to the leader: open_fn(host, port) opens a session;
        raises the last failure after `failover` seconds."""
        deadline = time.monotonic() + self.failover
        backoff, last_exc = BACKOFF_FIRST, None
        while True:
            first = self.hint or self.last
            order = ([first] if first else []) + [s for s in self.servers if s != first]
            for srv in order:
                try:
                    return _try(self, open_fn, srv)
                except (ConnectionError, NotLeader, ShuttingDown, ProtocolError) as exc:
                    last_exc = exc
                if time.monotonic() >= deadline:
                    break
            left = deadline - time.monotonic()
            if left <= 0:
                err = type(last_exc)(code=last_exc.code, name=last_exc.name, message=(
                    "no leader among %d servers within %g s (last: %s)"
                    % (len(self.servers), self.failover, last_exc.message)))
                err.leader = getattr(last_exc, "leader", None)
                raise err from last_exc
            time.sleep(min(backoff, left))
            backoff = min(backoff * 2, BACKOFF_MAX)
