"""test_py_reconnect.py - the client across a server crash (kill -9) and
restart on the same port: a pipelined batch and a WATCH running through it
lose and duplicate nothing; a single SUBMIT waits for the server; a lease
write whose reply is lost raises OutcomeUnknown instead of being resent."""
import signal
import threading
import time

import pytest

import hitlq
from conftest import QUEUED_FIELDS, REVIEW, TYPE, auto_fields

PATIENT = hitlq.Retry(attempts=60, backoff=0.05, cap=0.5)   # ~25 s of retries


def test_batch_and_watch_survive_kill9(server):
    n = 1500
    fields = auto_fields()
    items = [{"key": "r-%d" % i, "type": TYPE, "fields": fields} for i in range(n)]
    c = server.client(retry=PATIENT)
    w = c.watch(0)
    assert w.poll(0.2) is None and w.cursor == 1     # WATCH answered: next seq is 1
    out = {}

    def produce():
        try:
            out["res"] = c.submit_batch(items, window=16)
        except Exception as exc:   # reported by the main thread
            out["err"] = exc
    t = threading.Thread(target=produce)
    t.start()
    got, killed, end = [], False, time.monotonic() + 120
    while len(got) < n and time.monotonic() < end:
        r = w.poll(1.0)
        if r is not None:
            got.append(r)
        if not killed and len(got) >= 200:
            assert t.is_alive(), "the batch ended before the crash"
            server.kill(signal.SIGKILL)
            killed = True
            time.sleep(0.3)
            server.restart()
    t.join(120)
    w.close()
    assert "err" not in out, repr(out.get("err"))
    res = out["res"]
    assert killed and w.reconnects >= 1
    # the watch: every sequence number once, in order, none missing
    assert [r["seq"] for r in got] == list(range(1, n + 1))
    # one result per key (a key submitted twice would show twice) and the
    # batch's replies name exactly the items whose results were pushed
    assert sorted(r["key"] for r in got) == sorted(it["key"] for it in items)
    assert {r["id"] for r in got} == {r["id"] for r in res}
    assert len({r["id"] for r in res}) == n
    assert all(r["outcome"] == "auto_resolved" for r in res)
    assert all(r["auto"] and r["outcome"] == "approve" for r in got)
    st = [x for x in c.stats()["types"] if x["type"] == TYPE][0]
    assert st["submitted"] == n


def test_single_submit_waits_for_restart(server):
    c = server.client(retry=PATIENT)
    first = c.submit("s-1", TYPE, QUEUED_FIELDS)
    server.kill(signal.SIGKILL)
    timer = threading.Timer(0.8, server.restart)
    timer.start()
    t0 = time.monotonic()
    d = c.submit("s-2", TYPE, QUEUED_FIELDS)       # refused connections retried
    timer.join()
    assert time.monotonic() - t0 >= 0.7
    assert d["id"] > first["id"] and not d["duplicate"]
    assert c.submit("s-1", TYPE, QUEUED_FIELDS)["id"] == first["id"]   # durable


def test_lost_resolve_is_not_resent(server):
    c = server.client(retry=hitlq.Retry(attempts=3, backoff=0.01))
    c.submit("u-1", TYPE, QUEUED_FIELDS)
    cl = c.claim(REVIEW, lease_ms=600000)
    server.kill(signal.SIGKILL)
    with pytest.raises(hitlq.OutcomeUnknown):
        c.resolve(cl["id"], cl["lease"], "approve")
    server.restart()
    c2 = server.client(retry=PATIENT)
    assert c2.get(cl["id"])["state"] == "leased"      # the lease survived the crash
    c2.resolve(cl["id"], cl["lease"], "approve")
    with pytest.raises(hitlq.AlreadyResolved):       # what a blind resend would get
        c.resolve(cl["id"], cl["lease"], "approve")
