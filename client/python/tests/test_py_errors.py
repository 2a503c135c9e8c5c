"""test_py_errors.py - each status provoked on a real hitlqd arrives as its
own exception class with the server's code and message; fatal statuses
close the connection and the client reconnects for the next request."""
import socket
import struct

import pytest

import hitlq
from hitlq import wire
from conftest import QUEUED_FIELDS, REVIEW, TYPE


def _raises(cls, fn, *a, **kw):
    with pytest.raises(cls) as e:
        fn(*a, **kw)
    assert type(e.value) is cls
    assert e.value.code == cls.code and e.value.name == cls.name and e.value.message
    return e.value


def test_request_errors(server):
    c = server.client(name="alice")
    _raises(hitlq.NotFound, c.get, 424242)
    c.submit("k", TYPE, QUEUED_FIELDS)
    exc = _raises(hitlq.Conflict, c.submit, "k", TYPE, {"amount": 1001})
    assert '"k"' in exc.message
    _raises(hitlq.InvalidItem, c.submit, "k2", TYPE, {"amount": "lots"})
    _raises(hitlq.UnknownType, c.submit, "k3", "no_such_type", QUEUED_FIELDS)
    _raises(hitlq.BadRequest, c.execute, "GET", {"id": 1, "surprise": True})
    _raises(hitlq.BadRequest, c.submit, "bad key with spaces", TYPE, QUEUED_FIELDS)
    cl = c.claim(REVIEW)
    exc = _raises(hitlq.LeaseHeld, c.extend, cl["id"], cl["lease"] + 1)
    assert '"alice"' in exc.message and str(cl["lease"]) not in exc.message
    _raises(hitlq.NotFound, c.extend, 999999, cl["lease"])
    exc = _raises(hitlq.InvalidOutcome, c.resolve, cl["id"], cl["lease"], "aprove")
    assert "approve" in exc.message
    rel = c.release(cl["id"], cl["lease"])
    assert rel["state"] == "queued"
    # the lease ended by RELEASE: neither held nor expired (Lease rules 5)
    _raises(hitlq.StaleLease, c.extend, cl["id"], cl["lease"])
    cl = c.claim(REVIEW)
    c.resolve(cl["id"], cl["lease"], "approve")
    _raises(hitlq.AlreadyResolved, c.resolve, cl["id"], cl["lease"], "approve")
    _raises(hitlq.AlreadyResolved, c.extend, cl["id"], cl["lease"] + 7)
    assert c.ping() > 0          # none of these closed the connection


def _raw(port, data, read=True):
    """Sends raw bytes on a new socket; the frames received until EOF."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    r = wire.FrameReader()
    frames = []
    while read:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        r.feed(chunk)
        while True:
            fr = r.next()
            if fr is None:
                break
            frames.append(fr)
    s.close()
    return frames


def _hello():
    return wire.pack_frame(wire.OPCODES["HELLO"], 1, {"version": 1})


@pytest.mark.parametrize("case,data,cls", [
    ("need_hello", lambda: wire.pack_frame(wire.OPCODES["PING"], 9), hitlq.NeedHello),
    ("bad_version", lambda: wire.pack_frame(1, 9, {"version": 2}), hitlq.BadVersion),
    ("bad_frame", lambda: _hello() + struct.pack(">IBBHI", 0, 0x52, 2, 0, 9), hitlq.BadFrame),
    ("frame_too_large", lambda: _hello() + struct.pack(">IBBHI", 2 << 20, 0x51, 2, 0, 9),
     hitlq.FrameTooLarge),
    ("bad_msgpack", lambda: _hello() + struct.pack(">IBBHI", 1, 0x51, 2, 0, 9) + b"\xc1",
     hitlq.BadMsgpack),
])
def test_fatal_statuses_close(server, case, data, cls):
    frames = _raw(server.port, data())
    last = frames[-1]
    exc = hitlq.error_for(last.status, last.body)
    assert type(exc) is cls and exc.fatal and last.request_id in (0, 9)


def test_unknown_op_is_not_fatal(server):
    c = server.client()
    conn = c.new_connection()
    fr = conn.wait_reply(conn.send(0x7e), None)
    with pytest.raises(hitlq.UnknownOp):
        conn.check(fr)
    assert not conn.closed
    fr = conn.wait_reply(conn.send(wire.OPCODES["PING"]), None)
    assert conn.check(fr)["time_ms"] > 0
    conn.close()


def test_client_errors_before_sending(server):
    c = server.client()
    with pytest.raises(hitlq.ClientError):
        c.submit("k", TYPE, {"blob": b"x" * (2 << 20)})   # over the frame limit
    with pytest.raises(hitlq.ClientError):
        c.submit("k", TYPE, {"obj": object()})
    with pytest.raises(hitlq.ClientError):
        hitlq.Client("127.0.0.1", server.port, api_key="not-a-key")
    with pytest.raises(hitlq.ClientError):
        c.audit_prove()
    with pytest.raises(hitlq.ClientError):      # the whole batch refused up front
        c.submit_batch([{"key": "ok-1", "type": TYPE, "fields": QUEUED_FIELDS},
                        {"key": "big", "type": TYPE, "fields": {"b": b"x" * (2 << 20)}}])
    assert c.submit("ok-1", TYPE, QUEUED_FIELDS)["duplicate"] is False


def test_connection_refused_after_retries(server):
    c = hitlq.Client("127.0.0.1", 1, retry=hitlq.Retry(attempts=2, backoff=0.01))
    with pytest.raises(hitlq.ConnectionError):
        c.ping()
