"""test_py_merkle.py - hitlq.audit's proof and note verification against
external vectors: transparency-dev/merkle's inclusion and consistency files
(tests/vectors/merkle/) and the checkpoint of proto/AUDIT-FORMAT.md §13."""
import base64
import glob
import json
import os
import re

import pytest

from hitlq import audit
from conftest import ROOT

VEC = os.path.join(ROOT, "tests", "vectors", "merkle")


def _files(kind):
    files = sorted(glob.glob(os.path.join(VEC, kind, "**", "*.json"), recursive=True))
    assert len(files) > 40, "vectors missing"
    return files


def _h(s):
    return base64.b64decode(s)


@pytest.mark.parametrize("path", _files("inclusion"), ids=os.path.basename)
def test_inclusion_vectors(path):
    with open(path) as f:
        v = json.load(f)
    args = (v["leafIdx"], v["treeSize"], _h(v["leafHash"]),
            [_h(p) for p in v["proof"] or []], _h(v["root"]))
    if v["wantErr"]:
        with pytest.raises(audit.VerificationError):
            audit.verify_inclusion(*args)
    else:
        audit.verify_inclusion(*args)


@pytest.mark.parametrize("path", _files("consistency"), ids=os.path.basename)
def test_consistency_vectors(path):
    with open(path) as f:
        v = json.load(f)
    args = (v["size1"], v["size2"], [_h(p) for p in v["proof"] or []],
            _h(v["root1"]), _h(v["root2"]))
    # hitlq.audit takes 32-byte hashes only (like proto/merkle.c): a vector
    # with a shorter "root" (transparency-dev does not check equal-size
    # roots' length) is an error here
    if v["wantErr"] or any(len(h) != 32 for h in args[3:]):
        with pytest.raises(audit.VerificationError):
            audit.verify_consistency(*args)
    else:
        audit.verify_consistency(*args)


def _doc_vectors():
    """(vkey, signed checkpoint note, two leaf hashes) of AUDIT-FORMAT §13."""
    with open(os.path.join(ROOT, "proto", "AUDIT-FORMAT.md"), encoding="utf-8") as f:
        doc = f.read()
    sec = doc[doc.index("## 13. Test vectors"):]
    vkey = re.search(r"vkey `([^`]+)`", sec).group(1)
    block = sec[sec.index("* Checkpoint of size 2"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    note = "\n".join(ln.strip() for ln in block.split("\n")).strip("\n") + "\n"
    leaves = re.findall(r"[Ll]eaf hash\s+(?:is\s+)?`([0-9a-f]{64})`", sec)
    return vkey, note, [bytes.fromhex(h) for h in leaves]


def test_audit_format_checkpoint_vector():
    vkey, note, leaves = _doc_vectors()
    v = audit.Verifier(vkey)
    cp = audit.verify_checkpoint(note, v)
    assert (cp.origin, cp.size) == ("anchors.example/audit/test-1", 2)
    assert len(leaves) == 2
    # independent: the root is the MTH of the two documented leaves
    assert cp.root == audit.node_hash(leaves[0], leaves[1]) == audit.tree_root(leaves)
    audit.verify_inclusion(1, 2, leaves[1], [leaves[0]], cp.root)
    audit.verify_consistency(1, 2, [leaves[1]], leaves[0], cp.root)


def test_tampered_notes_fail():
    vkey, note, _ = _doc_vectors()
    v = audit.Verifier(vkey)
    bad = [note.replace("\n2\n", "\n3\n"),                    # text changed
           note.replace("anchors.example/audit/test-1\n2", "other\n2"),
           note[:-3] + ("A" if note[-3] != "A" else "B") + note[-2:],   # signature
           note.split("\n\n")[0] + "\n"]                       # unsigned
    for n in bad:
        with pytest.raises(audit.VerificationError):
            audit.verify_checkpoint(n, v)
    with pytest.raises(audit.VerificationError):
        audit.verify_checkpoint(note, v, origin="someone.else/log")
    other = audit.Verifier(vkey.split("+", 2)[0].replace("test-1", "test-2") + "+" +
                           _rekey(vkey))
    with pytest.raises(audit.VerificationError):   # no known key signed
        audit.verify_checkpoint(note, other, origin="anchors.example/audit/test-1")


def _rekey(vkey):
    """id+key of vkey's public key under the name ...test-2 (a key whose
    signature lines the note does not have)."""
    raw = base64.b64decode(vkey.split("+", 2)[2])
    name = vkey.split("+", 2)[0].replace("test-1", "test-2")
    kid = audit._key_id(name, raw).hex()
    return "%s+%s" % (kid, base64.b64encode(raw).decode())


def test_log_state_rollback_and_fork():
    leaves = [audit.leaf_hash(bytes([i])) for i in range(5)]
    cp = lambda n: audit.Checkpoint("o", n, audit.tree_root(leaves[:n]), "")  # noqa: E731
    st = audit.LogState()
    st.advance(cp(3), [])
    with pytest.raises(audit.VerificationError) as e:
        st.advance(cp(2), [])
    assert e.value.kind == "ROLLBACK"
    forked = audit.Checkpoint("o", 3, audit.tree_root(leaves[1:4]), "")
    with pytest.raises(audit.VerificationError) as e:
        st.advance(forked, [])
    assert e.value.kind == "FORK"
