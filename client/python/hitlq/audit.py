"""audit.py - verifying hitlq's signed audit log offline
(proto/AUDIT-FORMAT.md §4, §6, §8, §11): C2SP signed notes (Ed25519),
checkpoints, RFC 9162 inclusion and consistency proofs, tlog-proof@v1
receipts.

Every check raises VerificationError (a ValueError) on failure and returns
the verified values on success.  The log's verifier key (vkey,
`<origin>+<key id>+base64(01 || pk)`) is pinned by the caller, out of band.
"""
import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization

EMPTY_ROOT = hashlib.sha256(b"").digest()
SIG_PREFIX = "\u2014 "
MAX_SIG_LINES = 100
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class VerificationError(ValueError):
    """A signature, proof, checkpoint or receipt did not verify: kind is
    BAD_SIGNATURE, BAD_PROOF, ROLLBACK or FORK (§11)."""

    def __init__(self, kind, message):
        self.kind = kind
        super().__init__("%s: %s" % (kind, message))


def _b64(text, kind="BAD_PROOF"):
    """Strict standard base64 (canonical padding) to bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(kind, "invalid base64 %r" % text) from None
    if base64.b64encode(raw).decode() != text:
        raise VerificationError(kind, "non-canonical base64 %r" % text)
    return raw


# ---- Merkle tree (RFC 6962 / 9162) ----------------------------------------

def leaf_hash(record):
    """SHA-256(0x00 || record)."""
    return hashlib.sha256(b"\x00" + record).digest()


def node_hash(left, right):
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(leaf_hashes):
    """MTH of the leaves (a list of 32-byte leaf hashes)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(tree_root(leaf_hashes[:k]), tree_root(leaf_hashes[k:]))


def _check_hashes(*hs):
    for h in hs:
        if not isinstance(h, (bytes, bytearray)) or len(h) != 32:
            raise VerificationError("BAD_PROOF", "a hash is not 32 bytes")


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2: leaf (hash) is entry index of the tree of size
    with root; every proof hash must be used."""
    _check_hashes(leaf, root, *proof)
    if index >= size:
        raise VerificationError("BAD_PROOF", "index %d not below size %d" % (index, size))
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise VerificationError("BAD_PROOF", "inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("BAD_PROOF", "inclusion proof too short")
    if r != root:
        raise VerificationError("BAD_PROOF", "inclusion proof does not lead to the root")


def verify_consistency(size1, size2, proof, root1, root2):
    """RFC 9162 §2.1.4.2: the tree (size2, root2) extends (size1, root1).
    0 < size1 <= size2; equal sizes need an empty proof and equal roots."""
    _check_hashes(root1, root2, *proof)
    if size1 == 0 or size1 > size2:
        raise VerificationError("BAD_PROOF", "sizes %d -> %d" % (size1, size2))
    if size1 == size2:
        if proof or root1 != root2:
            raise VerificationError("FORK", "equal sizes, different roots or a proof")
        return
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    if not path:
        raise VerificationError("BAD_PROOF", "empty consistency proof")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("BAD_PROOF", "consistency proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("BAD_PROOF", "consistency proof too short")
    if fr != root1 or sr != root2:
        raise VerificationError("FORK", "consistency proof does not lead to both roots")


# ---- keys and signed notes (C2SP signed-note) ------------------------------

def _key_id(name, alg_pk):
    return hashlib.sha256(name.encode() + b"\n" + alg_pk).digest()[:4]


class Verifier:
    """A note verifier key (vkey): name, 4-byte key id, Ed25519 key."""

    def __init__(self, vkey):
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]) or not parts[0]:
            raise VerificationError("BAD_SIGNATURE", "malformed vkey")
        raw = _b64(parts[2], "BAD_SIGNATURE")
        if len(raw) != 33 or raw[0] != 1:
            raise VerificationError("BAD_SIGNATURE", "vkey is not an Ed25519 key")
        if _key_id(parts[0], raw).hex() != parts[1]:
            raise VerificationError("BAD_SIGNATURE", "vkey's key id does not match its key")
        self.name, self.key_id = parts[0], bytes.fromhex(parts[1])
        self.public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
        self.vkey = vkey.strip()

    def verify(self, text, sig):
        """True when sig is this key's signature of text (bytes)."""
        try:
            self.public_key.verify(sig, text)
            return True
        except InvalidSignature:
            return False


def vkey_from_private_key(line):
    """The vkey of a Go-format PRIVATE+KEY+<name>+<id>+base64(01 || seed)
    line, as in hitlqd's audit key file (§6.3)."""
    parts = line.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ValueError("not a PRIVATE+KEY line")
    raw = _b64(parts[4], "BAD_SIGNATURE")
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 private key")
    pk = Ed25519PrivateKey.from_private_bytes(raw[1:]).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "%s+%s+%s" % (parts[2], _key_id(parts[2], b"\x01" + pk).hex(),
                         base64.b64encode(b"\x01" + pk).decode())


def open_note(note, verifiers):
    """Verifies a signed note against verifiers (Verifier objects; lines
    of other keys are ignored) and returns its text (ending in a newline).
    Fails if a known key's signature does not verify or none verified."""
    if isinstance(note, bytes):
        note = note.decode("utf-8")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise VerificationError("BAD_SIGNATURE", "not a signed note")
    text, sigs = note[:cut + 1], note[cut + 2:].split("\n")[:-1]
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text) or not sigs or \
            len(sigs) > MAX_SIG_LINES:
        raise VerificationError("BAD_SIGNATURE", "malformed note text or signature lines")
    ok = 0
    for line in sigs:
        if not line.startswith(SIG_PREFIX) or line.count(" ") != 2:
            raise VerificationError("BAD_SIGNATURE", "malformed signature line")
        name, b64 = line[len(SIG_PREFIX):].split(" ")
        raw = _b64(b64, "BAD_SIGNATURE")
        for v in verifiers:
            if v.name == name and raw[:4] == v.key_id:
                if len(raw) != 68 or not v.verify(text.encode(), raw[4:]):
                    raise VerificationError("BAD_SIGNATURE", "signature of %s fails" % name)
                ok += 1
    if ok == 0:
        raise VerificationError("BAD_SIGNATURE", "no known key signed the note")
    return text


class Checkpoint:
    """A verified checkpoint: origin, size, root (32 bytes), note."""

    def __init__(self, origin, size, root, note):
        self.origin, self.size, self.root, self.note = origin, size, root, note

    def __repr__(self):
        return "Checkpoint(%r, %d, %s)" % (self.origin, self.size,
                                           base64.b64encode(self.root).decode())


def verify_checkpoint(note, verifiers, origin=None):
    """Opens a checkpoint note (§6): three lines origin / size / root; the
    origin must be `origin` when given (else the first verifier's name)."""
    if isinstance(verifiers, Verifier):
        verifiers = [verifiers]
    text = open_note(note, verifiers)
    lines = text.split("\n")[:-1]
    if len(lines) != 3 or not re.fullmatch(r"0|[1-9][0-9]{0,18}", lines[1]):
        raise VerificationError("BAD_SIGNATURE", "not a three-line checkpoint")
    want = origin if origin is not None else verifiers[0].name
    if lines[0] != want:
        raise VerificationError("BAD_SIGNATURE", "origin %r is not %r" % (lines[0], want))
    root = _b64(lines[2], "BAD_SIGNATURE")
    if len(root) != 32:
        raise VerificationError("BAD_SIGNATURE", "root is not 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, note)


# ---- receipts (§8, §11 A-C) ---------------------------------------------------

def parse_tlog_proof(text):
    """(index, [proof hashes], note) of a tlog-proof@v1 text."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise VerificationError("BAD_PROOF", "not a tlog-proof@v1")
    i = 1
    if i < len(lines) and lines[i].startswith("extra "):
        i += 1
    m = re.fullmatch(r"index (0|[1-9][0-9]{0,18})", lines[i] if i < len(lines) else "")
    if not m or len(lines) - i - 1 > 63:
        raise VerificationError("BAD_PROOF", "bad index line or too many hashes")
    hashes = [_b64(h) for h in lines[i + 1:]]
    _check_hashes(*hashes)
    return int(m.group(1)), hashes, note


def verify_receipt(tlog_proof, leaf, verifiers, origin=None, index=None):
    """§11 A: a strong receipt (tlog-proof text) proves that leaf (a
    32-byte leaf hash: leaf_hash(record) for record bytes) is entry `index`
    (checked when given) of a signed checkpoint.  Returns (index,
    Checkpoint)."""
    idx, proof, note = parse_tlog_proof(tlog_proof)
    if index is not None and idx != index:
        raise VerificationError("BAD_PROOF", "receipt is for index %d, not %d" % (idx, index))
    cp = verify_checkpoint(note, verifiers, origin)
    verify_inclusion(idx, cp.size, leaf, proof, cp.root)
    return idx, cp


def verify_submit_receipt(reply, verifiers, origin=None):
    """Verifies a SUBMIT reply with receipt 'checkpoint': its tlog_proof
    must prove its audit.leaf_hash at audit.index.  Returns the Checkpoint."""
    audit = reply.get("audit") or {}
    if "tlog_proof" not in reply or "index" not in audit or "leaf_hash" not in audit:
        raise VerificationError("BAD_PROOF", "reply has no checkpoint receipt")
    return verify_receipt(reply["tlog_proof"], audit["leaf_hash"], verifiers, origin,
                          audit["index"])[1]


class LogState:
    """The last verified checkpoint of one log (§11 C): advance() accepts
    a newer checkpoint only with a valid consistency proof from it."""

    def __init__(self, size=0, root=EMPTY_ROOT):
        self.size, self.root = size, root

    def advance(self, cp, proof):
        """Moves to Checkpoint cp; raises ROLLBACK, FORK or BAD_PROOF."""
        if cp.size < self.size:
            raise VerificationError("ROLLBACK", "size %d < %d" % (cp.size, self.size))
        if self.size == 0:
            if self.root != EMPTY_ROOT or proof:
                raise VerificationError("FORK", "size 0 with a root other than SHA-256('')")
        else:
            verify_consistency(self.size, cp.size, proof, self.root, cp.root)
        self.size, self.root = cp.size, cp.root
