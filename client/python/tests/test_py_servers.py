"""test_py_servers.py - hitlq.Client(servers=[...]) (proto/PROTOCOL.md §9)
against real hitlqd instances: dead ports before the live one; a fake
follower in this process (a test double answering HELLO, or the request
after it, with a well-formed not_leader frame naming the real server); a
server killed -9 in the middle of a stream of SUBMITs and another hitlqd
started on the same data directory on another port of the list (each key
acknowledged, one item per key); the search bounded by `failover`; bad
lists refused with ClientError."""
import signal
import socket
import threading
import time

import pytest

import hitlq
from hitlq import wire
from conftest import QUEUED_FIELDS, REVIEW, TYPE


def dead_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FakeFollower:
    """A listener answering HELLO (mode "hello") or the request after an
    accepted HELLO (mode "later") with not_leader naming `leader` (None:
    nil), then closing; it records the opcodes it read."""

    def __init__(self, mode, leader):
        self.mode, self.leader, self.ops, self.conns = mode, leader, [], 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _read(self, conn, reader):
        while True:
            fr = reader.next()
            if fr is not None:
                self.ops.append(fr.opcode)
                return fr
            data = conn.recv(65536)
            if not data:
                return None
            reader.feed(data)

    @staticmethod
    def _reply(conn, fr, status, body):
        raw = wire.pack_body(body)
        conn.sendall(wire.HEADER.pack(len(raw), wire.MAGIC, fr.opcode, status,
                                      fr.request_id) + raw)

    def _serve(self, conn):
        conn.settimeout(5)
        reader = wire.FrameReader()
        fr = self._read(conn, reader)
        if fr is not None and self.mode == "later":
            self._reply(conn, fr, 0, {"version": 1})
            fr = self._read(conn, reader)
        if fr is not None:
            self._reply(conn, fr, 303, {"code": "not_leader", "message": "a follower",
                                        "leader": self.leader})
            # a graceful close: what the client still sends is read, so no
            # reset destroys the reply before the client reads it
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(1)
            while conn.recv(65536):
                pass

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.conns += 1
            try:
                self._serve(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.th.join()
        self.sock.close()


@pytest.fixture
def fake_factory():
    made = []

    def make(mode, leader):
        f = FakeFollower(mode, leader)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def ha_client(servers, **kw):
    kw.setdefault("name", "ha-tester")
    kw.setdefault("timeout", 10)
    return hitlq.Client(servers=servers, **kw)


def test_dead_ports_then_live(server):
    c = ha_client(["127.0.0.1:%d" % dead_port(), "[::1]:%d" % dead_port(),
                   ("127.0.0.1", server.port)], failover=5)
    assert c.submit("py-ha-a", TYPE, QUEUED_FIELDS)["outcome"] == "queued"
    assert (c.host, c.port) == ("127.0.0.1", server.port)
    c.close()


def test_all_dead_bounded():
    t0 = time.monotonic()
    c = ha_client("127.0.0.1:%d,127.0.0.1:%d" % (dead_port(), dead_port()), failover=0.4,
                  retry=False)
    with pytest.raises(hitlq.ConnectionError, match="no leader among 2 servers"):
        c.ping()
    assert 0.4 <= time.monotonic() - t0 < 3


def test_follower_redirects_hello(server, fake_factory):
    f = fake_factory("hello", "127.0.0.1:%d" % server.port)
    c = ha_client(["127.0.0.1:%d" % f.port], failover=5)
    c.connect()
    assert c.port == server.port and f.ops == [wire.OPCODES["HELLO"]]
    assert isinstance(c.ping(), int)
    c.close()


def test_follower_without_leader(server, fake_factory):
    f = fake_factory("hello", None)
    c = ha_client(["127.0.0.1:%d" % f.port, "127.0.0.1:%d" % server.port], failover=5)
    c.connect()
    assert c.port == server.port and f.conns == 1
    alone = ha_client(["127.0.0.1:%d" % f.port], failover=0.3, retry=False)
    with pytest.raises(hitlq.NotLeader) as ei:
        alone.ping()
    assert ei.value.fatal and ei.value.leader is None and f.conns >= 2


def test_not_leader_on_session(server, fake_factory):
    """SUBMIT is sent again to the leader named; CLAIM is not."""
    f = fake_factory("later", "127.0.0.1:%d" % server.port)
    c = ha_client(["127.0.0.1:%d" % f.port], failover=5)
    c.connect()
    assert c.port == f.port
    d = c.submit("py-ha-b", TYPE, QUEUED_FIELDS)
    assert d["outcome"] == "queued" and not d.get("duplicate")
    assert f.ops[-1] == wire.OPCODES["SUBMIT"] and c.port == server.port
    c2 = ha_client(["127.0.0.1:%d" % f.port], failover=5)
    c2.connect()
    with pytest.raises(hitlq.NotLeader) as ei:
        c2.claim([REVIEW], wait_ms=0)
    assert ei.value.leader == "127.0.0.1:%d" % server.port
    assert f.ops[-1] == wire.OPCODES["CLAIM"]
    assert c2.get_by_key("py-ha-b")["id"] == d["id"]     # reconnects to the leader
    assert c2.port == server.port


def test_batch_not_leader(server, fake_factory):
    f = fake_factory("later", "127.0.0.1:%d" % server.port)
    c = ha_client(["127.0.0.1:%d" % f.port], failover=5)
    c.connect()
    items = [{"key": "py-ha-bt-%d" % i, "type": TYPE, "fields": QUEUED_FIELDS}
             for i in range(30)]
    res = c.submit_batch(items, window=16)
    assert c.port == server.port
    assert len({r["id"] for r in res}) == 30
    for it, r in zip(items, res):
        assert c.get_by_key(it["key"])["id"] == r["id"]


def test_failover_mid_stream(server):
    """kill -9 mid-stream; a new hitlqd on the same data dir on another
    listed port: every SUBMIT acknowledged, exactly one item per key."""
    port1, port2, n = server.port, dead_port(), 120
    c = ha_client(["127.0.0.1:%d" % port1, "127.0.0.1:%d" % port2], failover=20,
                  retry=hitlq.Retry(attempts=3, backoff=0.05))
    done, ids, spanned = [0], {}, [0]

    def killer():
        while done[0] < 40:
            time.sleep(0.001)
        server.kill(signal.SIGKILL)
        time.sleep(0.3)
        server._spawn("127.0.0.1:%d" % port2)
    t = threading.Thread(target=killer)
    t.start()
    for i in range(n):
        t0 = time.monotonic()
        ids["py-ha-c-%d" % i] = c.submit("py-ha-c-%d" % i, TYPE, QUEUED_FIELDS)["id"]
        spanned[0] += time.monotonic() - t0 >= 0.25
        done[0] += 1
    t.join()
    assert server.port == port2 and c.port == port2 and spanned[0] >= 1
    for key, id_ in ids.items():
        assert c.get_by_key(key)["id"] == id_
    listed = [it["id"] for it in c.iter_list(REVIEW)]
    assert sorted(listed) == sorted(ids.values()) and len(set(listed)) == n


@pytest.mark.parametrize("servers,why", [
    ("", "empty server entry"), ([], "the list is empty"), ("h:1,", "empty server entry"),
    ("127.0.0.1", "expected host:port"), ("h:0", "1..65535"), ("h:65536", "1..65535"),
    ("h:7x", "1..65535"), ("::1:7420", "brackets"), ("[::1]7420", "brackets"),
    ("ho st:1", "bad host"), (",".join(["h:1"] * 17), "more than 16"), (("h", "1"), "host:port"),
    ([("h", True)], "a str and an int"), (7, "host:port"),
])
def test_bad_lists(servers, why):
    with pytest.raises(hitlq.ClientError, match=why):
        hitlq.Client(servers=servers)


def test_bad_failover():
    with pytest.raises(hitlq.ClientError, match="failover"):
        hitlq.Client(servers="h:1", failover=0)
