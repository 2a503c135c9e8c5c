"""test_py_receipts.py - audit-log receipts and proofs from a real hitlqd,
verified with hitlq.audit against the log key the server created (its
vkey derived from <data>/audit.key) and against an independent
recomputation of the tree from AUDIT_ENTRIES (proto/AUDIT-FORMAT.md §4,
§8, §11)."""
import base64

import pytest

from hitlq import audit
from conftest import QUEUED_FIELDS, TYPE, auto_fields


def _all_entries(c):
    entries, hashes = [], []
    while True:
        r = c.audit_entries(len(entries), 1024)
        if not r["entries"]:
            return entries, hashes
        assert r["start"] == len(entries)
        entries += r["entries"]
        hashes += r["hashes"]


def test_strong_receipts_and_replay(server):
    c = server.client()
    v = audit.Verifier(server.vkey())
    replies = [c.submit("rc-%d" % i, TYPE, auto_fields() if i % 2 else QUEUED_FIELDS,
                        receipt="checkpoint") for i in range(5)]
    cps = [audit.verify_submit_receipt(r, v) for r in replies]
    assert all(cp.origin == v.name for cp in cps)
    cp = audit.verify_checkpoint(c.audit_checkpoint(fresh=True)["checkpoint"], v)
    entries, hashes = _all_entries(c)
    assert len(entries) == cp.size
    # independent: re-hash every entry, rebuild the tree
    leaves = [audit.leaf_hash(e) for e in entries]
    assert leaves == hashes
    assert audit.tree_root(leaves) == cp.root
    for r, rcp in zip(replies, cps):
        i = r["audit"]["index"]
        assert r["audit"]["leaf_hash"] == leaves[i]
        assert audit.tree_root(leaves[:rcp.size]) == rcp.root
        e = entries[i]
        # AXR1 record (AUDIT-FORMAT §3.2): magic, type, u64 index at 5
        assert e[:4] == b"AXR1" and int.from_bytes(e[5:13], "big") == i
    # a duplicate's receipt names the original entry
    dup = c.submit("rc-0", TYPE, QUEUED_FIELDS, receipt="checkpoint")
    assert dup["duplicate"] and dup["audit"]["index"] == replies[0]["audit"]["index"]
    audit.verify_submit_receipt(dup, v)


def test_tampered_receipts_fail(server):
    c = server.client()
    v = audit.Verifier(server.vkey())
    for i in range(3):
        c.submit("tp-%d" % i, TYPE, QUEUED_FIELDS)
    r = c.submit("tp-x", TYPE, QUEUED_FIELDS, receipt="checkpoint")
    leaf, idx, text = r["audit"]["leaf_hash"], r["audit"]["index"], r["tlog_proof"]
    audit.verify_receipt(text, leaf, v, index=idx)
    lines = text.split("\n")
    h = bytearray(base64.b64decode(lines[2]))
    h[0] ^= 1
    bad_hash = "\n".join(lines[:2] + [base64.b64encode(bytes(h)).decode()] + lines[3:])
    bad_index = text.replace("index %d\n" % idx, "index %d\n" % (idx - 1), 1)
    for t, lf in ((bad_hash, leaf), (bad_index, leaf), (text, bytes(32))):
        with pytest.raises(audit.VerificationError):
            audit.verify_receipt(t, lf, v, index=None)
    with pytest.raises(audit.VerificationError):
        audit.verify_receipt(text, leaf, v, index=idx + 1)
    other = audit.Verifier(audit.vkey_from_private_key(
        "PRIVATE+KEY+%s+00000000+%s" % (v.name, base64.b64encode(b"\x01" + b"7" * 32).decode())))
    with pytest.raises(audit.VerificationError):
        audit.verify_receipt(text, leaf, other)


def test_weak_receipt_prove_and_consistency(server):
    c = server.client()
    v = audit.Verifier(server.vkey())
    r = c.submit("wk-1", TYPE, QUEUED_FIELDS, receipt="index")
    idx, leaf = r["audit"]["index"], r["audit"]["leaf_hash"]
    assert "tlog_proof" not in r
    first = audit.verify_checkpoint(c.audit_checkpoint(fresh=True)["checkpoint"], v)
    state = audit.LogState()
    state.advance(first, [])
    # §11 B: prove the weak receipt against a signed checkpoint
    p = c.audit_prove(index=idx)
    cp = audit.verify_checkpoint(p["checkpoint"], v)
    pr = p["proofs"][0]
    assert (pr["index"], pr["leaf_hash"]) == (idx, leaf)
    audit.verify_inclusion(idx, cp.size, leaf, pr["proof"], cp.root)
    assert audit.verify_receipt(pr["tlog_proof"], leaf, v)[0] == idx
    # the item's entries: model decision, then the human one
    cl = c.claim("credit_review")
    c.resolve(cl["id"], cl["lease"], "approve")
    later = audit.verify_checkpoint(c.audit_checkpoint(fresh=True)["checkpoint"], v)
    p = c.audit_prove(id=r["id"])
    assert [x["index"] for x in p["proofs"]] == c.get(r["id"])["audit"]["entries"]
    for x in p["proofs"]:
        audit.verify_inclusion(x["index"], p["size"], x["leaf_hash"], x["proof"],
                               audit.verify_checkpoint(p["checkpoint"], v).root)
    # §11 C: consistency from the first checkpoint to the later one
    cons = c.audit_consistency(first.size, later.size)
    assert (cons["size1"], cons["size2"]) == (first.size, later.size)
    state.advance(later, cons["proof"])
    assert (state.size, state.root) == (later.size, later.root)
    bad = audit.LogState(first.size, first.root)
    with pytest.raises(audit.VerificationError):
        bad.advance(later, cons["proof"][:-1] + [bytes(32)])
