"""test_py_client.py - hitlq.Client against a real hitlqd: the item and
lease operations, their replies as PROTOCOL.md §4 gives them, and a
pipelined batch of 1000 SUBMITs matched by request id."""
import time

import pytest

import hitlq
from conftest import QUEUED_FIELDS, REVIEW, TYPE, auto_fields


def test_session_and_ping(server):
    c = server.client(name="alice")
    hello = c.connect()
    assert hello["role"] == "local" and hello["principal"] == "alice"
    assert hello["version"] == 1 and hello["max_inflight"] == 64
    t = c.ping()
    assert abs(t - time.time() * 1000) < 60000
    c.close()


def test_lease_lifecycle(server):
    c = server.client(name="alice")
    q = c.submit("life-1", TYPE, QUEUED_FIELDS, priority=7)
    assert q["outcome"] == "queued" and q["queue"] == REVIEW and q["priority"] == 7
    assert c.claim(["no_such_queue"]) is None                     # status empty
    cl = c.claim(REVIEW, lease_ms=60000)
    assert cl["id"] == q["id"] and cl["key"] == "life-1" and cl["lease"] > 0
    exp = c.extend(cl["id"], cl["lease"], lease_ms=120000)
    assert exp > cl["expires_ms"]
    rel = c.release(cl["id"], cl["lease"], delay_ms=200)
    assert rel["state"] == "delayed"
    assert c.claim(REVIEW) is None                                # not ready yet
    cl2 = c.claim(REVIEW, wait_ms=5000)                           # woken when ready
    assert cl2["id"] == q["id"] and cl2["lease"] != cl["lease"]
    assert c.escalate(cl2["id"], cl2["lease"], "credit_senior", note="look") == "credit_senior"
    cl3 = c.claim("credit_senior")
    seq = c.resolve(cl3["id"], cl3["lease"], "reject", note="no", root_cause="fraud")
    item = c.get(q["id"])
    assert item["state"] == "resolved" and item["outcome"] == "reject"
    events = [h["event"] for h in item["history"]]
    assert events[:2] == ["submitted", "scored"]
    assert events[-4:] == ["claimed", "escalated", "claimed", "resolved"]
    assert events.count("released") == 1
    w = c.watch(seq)
    r = w.poll(10)
    w.close()
    assert (r["seq"], r["id"], r["outcome"], r["auto"]) == (seq, q["id"], "reject", False)
    assert r["note"] == "no" and r["root_cause"] == "fraud" and r["actor"] == "alice"


def test_auto_resolution_and_stats(server):
    c = server.client()
    d = c.submit("auto-1", TYPE, auto_fields())
    assert d["outcome"] == "auto_resolved" and d["action"] == "approve"
    assert d["route"] == "auto_approve" and d["score"] >= 0.8 and d["seq"] == 1
    c.submit("queued-1", TYPE, QUEUED_FIELDS)
    st = c.stats()
    t = [x for x in st["types"] if x["type"] == TYPE][0]
    assert (t["submitted"], t["auto_resolved"], t["queued"]) == (2, 1, 1)
    qd = [x for x in st["queues"] if x["queue"] == REVIEW][0]
    assert qd["depth"] == 1 and st["results"] == 2


def test_batch_of_1000_pipelined(server):
    c = server.client()
    items = [{"key": "b-%d" % i, "type": TYPE, "fields": QUEUED_FIELDS, "priority": i}
             for i in range(1000)]
    t0 = time.monotonic()
    res = c.submit_batch(items, window=64)
    took = time.monotonic() - t0
    assert len(res) == 1000
    # replies matched by request id: each carries the priority its own
    # item asked for, and the ids are the submission order (one connection
    # applies writes in the order received, §1)
    assert [r["priority"] for r in res] == list(range(1000))
    ids = [r["id"] for r in res]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert not any(r["duplicate"] for r in res)
    # the same batch again: every reply the original decision, duplicate
    again = c.submit_batch(items, window=17)
    assert [r["id"] for r in again] == ids and all(r["duplicate"] for r in again)
    st = [x for x in c.stats()["types"] if x["type"] == TYPE][0]
    assert st["submitted"] == 1000
    assert c.get(ids[500])["key"] == "b-500"
    print("1000 pipelined SUBMITs in %.2f s" % took)


def test_batch_errors_in_place(server):
    c = server.client()
    items = [{"key": "e-0", "type": TYPE, "fields": QUEUED_FIELDS},
             {"key": "e-1", "type": "no_such_type", "fields": QUEUED_FIELDS},
             {"key": "e-2", "type": TYPE, "fields": {"amount": "many"}},
             {"key": "e-3", "type": TYPE, "fields": QUEUED_FIELDS}]
    res = c.submit_batch(items, raise_on_error=False)
    assert isinstance(res[1], hitlq.UnknownType) and isinstance(res[2], hitlq.InvalidItem)
    assert res[0]["outcome"] == "queued" and res[3]["outcome"] == "queued"
    with pytest.raises(hitlq.UnknownType) as e:
        c.submit_batch(items)
    assert e.value.results[0]["duplicate"] and e.value.results[3]["duplicate"]


def test_admin_and_drift_requests(server):
    c = server.client()
    r = c.reload()
    assert r["policy"] == r["previous"] == "scorecard_example@1"
    assert [t["type"] for t in r["types"]] == [TYPE]
    c.submit("dr-1", TYPE, auto_fields())
    rev = c.drift_review(TYPE)
    assert rev["type"] == TYPE and rev["total"]["decisions"] == 1
    pytest.raises(hitlq.UnknownType, c.drift_review, "no_such_type")
    # the example scorecard policy names no reference profile
    pytest.raises(hitlq.NotFound, c.drift_inputs, TYPE)
    assert c.key_list()["keys"] == []


def test_release_waiting_on_pauses_sla(tmp_path):
    """release(waiting_on=) against a queue with a 60 s SLA: GET shows the
    clock paused, waiting on the customer, with what was used so far."""
    from conftest import example_policy, run_server
    pol = example_policy()
    pol["queues"] = {REVIEW: {"sla_seconds": 60, "ladder": [{"at": 1.0, "notify": True}]}}
    gen = run_server(policy=pol)
    srv = next(gen)
    try:
        c = srv.client(name="alice")
        q = c.submit("wait-1", TYPE, QUEUED_FIELDS)
        cl = c.claim(REVIEW, lease_ms=60000)
        assert c.claim(REVIEW) is None
        sla = c.get(q["id"])["sla"]
        assert sla["budget_ms"] == 60000 and sla["running"] and sla["level"] == 0
        assert sla["breach_at_ms"] == q["deadline_ms"]
        pytest.raises(hitlq.BadRequest, c.release, cl["id"], cl["lease"], waiting_on="customer")
        rel = c.release(cl["id"], cl["lease"], delay_ms=30000, waiting_on="customer")
        assert rel["state"] == "delayed"
        sla = c.get(q["id"])["sla"]
        assert not sla["running"] and sla["waiting_on"] == "customer"
        assert "breach_at_ms" not in sla and 0 <= sla["used_ms"] < 60000
        time.sleep(0.3)
        assert c.get(q["id"])["sla"]["used_ms"] == sla["used_ms"]      # paused
        c.close()
    finally:
        next(gen, None)
