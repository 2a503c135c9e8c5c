"""test_py_workstation.py - the issue-13 operations and statuses through
hitlq.Client against a real hitlqd (proto/PROTOCOL.md §4.6, §4.9-§4.10,
§4.15-§4.20, "Lease rules"): GET_BY_KEY, LIST paging, CLAIM_ID, COMMENT,
REOPEN, AMEND, the CLAIM workstation fields on hitlq.Claim, lease tokens
as strings, and lease_expired, lease_held, already_resolved,
unknown_queue, invalid_root_cause and reviewer_conflict (four-eyes).
Expected values come from what each test sent, not from the client."""
import time

import pytest

import hitlq
from conftest import QUEUED_FIELDS, REVIEW, TYPE, auto_fields, example_policy, run_server

SENIOR = "credit_senior"
ROOT_CAUSES = ["docs_missing", "income_unverified"]


def _policy(**type_keys):
    """The example policy with type_keys added to credit_application."""
    p = example_policy()
    p["types"][TYPE].update(type_keys)
    return p


@pytest.fixture
def ws():
    """A server whose type allows CLAIM_ID and declares root causes."""
    yield from run_server(policy=_policy(claim_by_id=True, root_causes=ROOT_CAUSES))


@pytest.fixture
def four_eyes():
    """Two blind verdicts on every reviewed item, escalate on disagreement."""
    fe = {"verdicts": 2, "when": {"routes": ["review"]}, "hide_recommendation": True,
          "on_disagree": "escalate", "escalate_to": SENIOR}
    yield from run_server(policy=_policy(four_eyes=fe))


def _submit(c, key, priority=None):
    d = c.submit(key, TYPE, QUEUED_FIELDS, priority=priority)
    assert d["outcome"] == "queued" and d["queue"] == REVIEW
    return d["id"]


def _watch_results(c, cursor, n):
    """The n results from seq cursor on."""
    with c.watch(cursor) as w:
        out = [w.poll(10) for _ in range(n)]
    assert None not in out
    return out


def test_get_by_key(ws):
    c = ws.client()
    i = _submit(c, "gbk-1")
    a, b = c.get(i), c.get_by_key("gbk-1")
    assert b["id"] == i and b["key"] == "gbk-1"
    assert [h["event"] for h in b["history"]] == [h["event"] for h in a["history"]]
    exc = pytest.raises(hitlq.NotFound, c.get_by_key, "gbk-none").value
    assert exc.code == 200
    pytest.raises(hitlq.BadRequest, c.get_by_key, "")


def test_list_pages_and_iterator(ws):
    c = ws.client(name="lister")
    ids = [_submit(c, "ls-%d" % k, priority=k) for k in range(25)]
    first = c.list(REVIEW, limit=10)
    assert [it["id"] for it in first["items"]] == ids[:10] and first["next"] == ids[9]
    assert all(it["state"] == "queued" and it["type"] == TYPE and it["age_ms"] >= 0
               for it in first["items"])
    last = c.list(REVIEW, after=ids[19], limit=10)
    assert [it["id"] for it in last["items"]] == ids[20:] and "next" not in last
    # iterate while items change: the best (highest priority, ids[24]) is
    # claimed and resolved - it leaves; the next best (ids[23]) stays leased
    it = c.iter_list(REVIEW, limit=10)
    seen = [next(it) for _ in range(10)]
    cl = c.claim(REVIEW)
    assert cl.id == ids[24]
    c.resolve(cl.id, cl.lease, "approve")
    assert c.claim(REVIEW).id == ids[23]
    seen += list(it)
    assert [s["id"] for s in seen] == ids[:24]
    assert {s["id"]: s["state"] for s in seen}[ids[23]] == "leased"
    assert c.list("nobody_routes_here")["items"] == []
    pytest.raises(hitlq.BadRequest, c.list, REVIEW, limit=0)
    pytest.raises(hitlq.BadRequest, c.list, REVIEW, limit=1001)


def test_claim_object_and_lease_strings(ws):
    c = ws.client(name="ann")
    i = _submit(c, "cf-1")
    cl = c.claim(REVIEW, lease_ms=60000)
    assert isinstance(cl, hitlq.Claim) and cl.id == cl["id"] == i
    assert cl.lease_str == str(cl.lease) and cl.key == "cf-1" and cl.queue == REVIEW
    assert cl.actions == ["approve", "reject"]
    assert cl.root_causes == ROOT_CAUSES
    assert cl.escalate_to == sorted({REVIEW, SENIOR, "dead_letter"})
    assert isinstance(cl.recommendation, str) and not cl.blind
    assert cl.notes == [] and cl.nonexistent_key is None
    assert c.extend(i, cl.lease_str, lease_ms=90000) > cl.expires_ms   # as a string
    for bad in ("0%d" % cl.lease, "-1", "12a", "", str(1 << 64), 1 << 64, -1, True, 1.5,
                None):
        pytest.raises(hitlq.ClientError, c.extend, i, bad)
    # ESCALATE with the Claim itself; its note reaches the next claimer
    assert c.escalate(i, cl, SENIOR, note="income looks odd") == SENIOR
    nxt = ws.client(name="bob").claim(SENIOR)
    assert nxt.id == i and nxt.queue == SENIOR
    assert [(n["event"], n["actor"], n["note"]) for n in nxt.notes] == \
        [("escalated", "ann", "income looks odd")]


def test_claim_id(ws, server):
    c = ws.client(name="ann")
    a, b = _submit(c, "cid-1", priority=1), _submit(c, "cid-2", priority=9)
    cl = c.claim_id(a, lease_ms=30000)
    assert isinstance(cl, hitlq.Claim) and cl.id == a and cl.key == "cid-1"
    assert cl.lease_str == str(cl.lease) and cl.actions == ["approve", "reject"]
    exc = pytest.raises(hitlq.InvalidState, c.claim_id, a).value
    assert "leased" in exc.message
    pytest.raises(hitlq.NotFound, c.claim_id, 999999)
    assert c.claim(REVIEW).id == b               # CLAIM still takes the other one
    c.resolve(a, cl.lease_str, "approve")
    assert "resolved" in pytest.raises(hitlq.InvalidState, c.claim_id, a).value.message
    # the example policy does not set claim_by_id
    d = server.client().submit("cid-3", TYPE, QUEUED_FIELDS)
    exc = pytest.raises(hitlq.Forbidden, server.client().claim_id, d["id"]).value
    assert "claim_by_id" in exc.message


def test_comment_amend_reopen(ws):
    c = ws.client(name="ann")
    i = _submit(c, "car-1")
    cl = c.claim(REVIEW)
    s1 = c.resolve(i, cl.lease, "approve", root_cause="docs_missing")
    at = c.comment(i, "customer called back")
    assert abs(at - time.time() * 1000) < 60000
    s2 = c.amend(i, "reject", "income not verified", root_cause="income_unverified")
    item = c.get(i)
    assert item["state"] == "resolved" and item["outcome"] == "reject"
    events = [h["event"] for h in item["history"]]
    assert events[-3:] == ["resolved", "comment", "amended"]
    com = [h for h in item["history"] if h["event"] == "comment"][0]
    assert (com["actor"], com["note"]) == ("ann", "customer called back")
    r = c.reopen(i, "second look")
    assert r == {"queue": REVIEW, "state": "queued"}
    assert c.get(i)["state"] == "queued"
    res = _watch_results(c, s1, 3)
    assert [x["seq"] for x in res] == [s1, s2, s2 + 1]
    assert res[0]["outcome"] == "approve" and "amends" not in res[0]
    assert (res[1]["outcome"], res[1]["amends"]) == ("reject", s1)
    assert (res[2]["outcome"], res[2]["reopens"]) == ("reopened", s2)
    # the next claimer sees every note, oldest first
    cl = ws.client(name="bob").claim(REVIEW)
    assert cl.id == i
    assert [(n["event"], n["actor"], n["note"]) for n in cl.notes] == [
        ("comment", "ann", "customer called back"), ("amended", "ann", "income not verified"),
        ("reopened", "ann", "second look")]


def test_after_decision_errors(ws):
    c = ws.client(name="ann")
    i = _submit(c, "ade-1")
    pytest.raises(hitlq.InvalidState, c.amend, i, "reject", "not resolved yet")
    pytest.raises(hitlq.InvalidState, c.reopen, i, "not resolved yet")
    pytest.raises(hitlq.BadRequest, c.comment, i, "")
    pytest.raises(hitlq.NotFound, c.comment, 999999, "x")
    pytest.raises(hitlq.NotFound, c.reopen, 999999, "x")
    cl = c.claim(REVIEW)
    c.resolve(i, cl, "approve")
    exc = pytest.raises(hitlq.InvalidOutcome, c.amend, i, "maybe", "n").value
    assert "reject" in exc.message
    assert c.get(i)["outcome"] == "approve"              # nothing written
    # an auto-resolved item was on no queue: REOPEN needs one
    auto = c.submit("ade-auto", TYPE, auto_fields())
    assert auto["outcome"] == "auto_resolved"
    pytest.raises(hitlq.InvalidState, c.reopen, auto["id"], "why")
    assert c.reopen(auto["id"], "check it", queue=SENIOR)["queue"] == SENIOR
    assert c.claim(SENIOR).id == auto["id"]


def test_lease_statuses(ws):
    c = ws.client(name="ann")
    i = _submit(c, "lst-1")
    cl = c.claim(REVIEW, lease_ms=60000)
    exc = pytest.raises(hitlq.UnknownQueue, c.escalate, i, cl, "nowhere").value
    assert SENIOR in exc.message and "dead_letter" in exc.message
    exc = pytest.raises(hitlq.InvalidRootCause, c.resolve, i, cl, "approve",
                        root_cause="bad_luck").value
    assert all(r in exc.message for r in ROOT_CAUSES)
    item = c.get(i)                                      # both refusals kept the lease
    assert item["state"] == "leased" and item["history"][-1]["event"] == "claimed"
    c.release(i, cl)
    cl = c.claim(REVIEW, lease_ms=1000)                  # the shortest lease
    time.sleep(1.3)
    pytest.raises(hitlq.LeaseExpired, c.extend, i, cl.lease)
    pytest.raises(hitlq.LeaseExpired, c.resolve, i, cl.lease_str, "approve")
    bob = ws.client(name="bob")
    cl2 = bob.claim(REVIEW, wait_ms=5000)
    assert cl2.id == i and cl2.attempts == 1
    exc = pytest.raises(hitlq.LeaseHeld, c.resolve, i, cl, "approve").value
    assert '"bob"' in exc.message and cl2.lease_str not in exc.message
    seq = bob.resolve(i, cl2, "reject", root_cause="income_unverified")
    pytest.raises(hitlq.AlreadyResolved, c.extend, i, cl2.lease)
    pytest.raises(hitlq.AlreadyResolved, bob.release, i, cl2.lease_str)
    r = _watch_results(c, seq, 1)[0]
    assert (r["actor"], r["outcome"], r["root_cause"]) == ("bob", "reject", "income_unverified")


def test_reviewer_conflict_four_eyes(four_eyes):
    alice, bob = four_eyes.client(name="alice"), four_eyes.client(name="bob")
    i = _submit(alice, "fe-1")
    cl = alice.claim(REVIEW)
    assert cl.blind and cl.score is None and cl.recommendation is None
    assert alice.resolve(i, cl, "approve") == 0             # a verdict, no result yet
    assert alice.claim(REVIEW) is None                      # not twice for alice
    cl2 = bob.claim(REVIEW)
    assert cl2.id == i and cl2.blind
    exc = pytest.raises(hitlq.ReviewerConflict, alice.resolve, i, cl2, "approve").value
    assert exc.code == 214 and not exc.fatal
    assert four_eyes.client().get(i)["state"] == "leased"     # nothing written
    seq = bob.resolve(i, cl2, "approve")
    assert seq > 0
    item = four_eyes.client().get(i)
    assert item["state"] == "resolved" and item["outcome"] == "approve"


@pytest.fixture
def auth_srv():
    """A server with auth = 1 of its own."""
    yield from run_server("auth = 1\n")


def test_reopen_and_amend_need_senior(auth_srv):
    srv = auth_srv
    admin = srv.client(api_key=srv.admin_key())
    bot = srv.client(api_key=admin.key_add("bot-1", "bot")["api_key"])
    ann = srv.client(api_key=admin.key_add("ann", "specialist",
                                           skills=[REVIEW])["api_key"])
    sue = srv.client(api_key=admin.key_add("sue", "specialist",
                                           skills=[REVIEW, "senior"])["api_key"])
    i = bot.submit("sn-1", TYPE, QUEUED_FIELDS)["id"]
    assert bot.get_by_key("sn-1")["id"] == i
    cl = ann.claim(REVIEW)
    ann.resolve(i, cl, "approve")
    exc = pytest.raises(hitlq.Forbidden, ann.amend, i, "reject", "n").value
    assert "senior" in exc.message
    pytest.raises(hitlq.Forbidden, ann.reopen, i, "n")
    pytest.raises(hitlq.Forbidden, bot.comment, i, "n")
    assert ann.comment(i, "fine by me") > 0
    sue.amend(i, "reject", "senior says no")
    assert sue.reopen(i, "again")["queue"] == REVIEW
    hist = admin.get(i)["history"]
    assert [(h["event"], h["actor"]) for h in hist[-3:]] == \
        [("comment", "ann"), ("amended", "sue"), ("reopened", "sue")]
    other = admin.key_add("bot-2", "bot")["api_key"]
    pytest.raises(hitlq.Forbidden, srv.client(api_key=other).get_by_key, "sn-1")
