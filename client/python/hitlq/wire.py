"""wire.py - frames of the hitlq protocol (proto/PROTOCOL.md §2, §4).

A frame is a 12-byte header (body_len u32 BE, magic 0x51, opcode u8,
status u16 BE, request_id u32 BE) and a MessagePack map.  This module packs
requests and splits a byte stream into replies; it does no I/O.
"""
import struct

import msgpack

from .errors import ClientError, ConnectionError, ProtocolError

MAGIC = 0x51
HEADER = struct.Struct(">IBBHI")
HEADER_LEN = HEADER.size
MAX_FRAME = 1024 * 1024
MAX_FRAME_PREAUTH = 4096
MAX_INFLIGHT = 64
PROTO_VERSION = 1

# include/hitlq_proto.h HITLQ_OPCODES
OPCODES = {
    "HELLO": 0x01, "PING": 0x02, "AUTH": 0x03,
    "SUBMIT": 0x10, "GET": 0x11, "STATS": 0x12, "GET_BY_KEY": 0x13, "LIST": 0x14,
    "CLAIM": 0x20, "EXTEND": 0x21, "RELEASE": 0x22, "RESOLVE": 0x23, "ESCALATE": 0x24,
    "CLAIM_ID": 0x25, "COMMENT": 0x26, "REOPEN": 0x27, "AMEND": 0x28,
    "WATCH": 0x30, "RESULT": 0x31,
    "AUDIT_CHECKPOINT": 0x40, "AUDIT_ENTRIES": 0x41, "AUDIT_PROVE": 0x42,
    "AUDIT_CONSISTENCY": 0x43, "DRIFT_INPUTS": 0x44, "DRIFT_REVIEW": 0x45,
    "RELOAD": 0x50, "KEY_ADD": 0x51, "KEY_LIST": 0x52, "KEY_REVOKE": 0x53,
}
OP_NAMES = {v: k for k, v in OPCODES.items()}


def pack_body(body):
    """MessagePack bytes of a request body (a dict; None is empty).  bytes
    become bin, str becomes str; keys must be str."""
    if not body:
        return b""
    try:
        return msgpack.packb(body, use_bin_type=True, strict_types=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ClientError(message="cannot encode request: %s" % exc) from None


def pack_frame(opcode, request_id, body=None, limit=MAX_FRAME):
    """A complete request frame; ClientError when the body is over limit."""
    raw = pack_body(body)
    if len(raw) > limit:
        raise ClientError(message="request body of %d bytes is over the %d-byte frame limit"
                          % (len(raw), limit))
    return HEADER.pack(len(raw), MAGIC, opcode, 0, request_id) + raw


class Frame:
    """One reply frame: opcode, status, request_id and the decoded body (a
    dict; {} for an empty body)."""

    __slots__ = ("opcode", "status", "request_id", "body")

    def __init__(self, opcode, status, request_id, body):
        self.opcode = opcode
        self.status = status
        self.request_id = request_id
        self.body = body

    def __repr__(self):
        return "Frame(op=0x%02x, status=%d, rid=%d, body=%r)" % (
            self.opcode, self.status, self.request_id, self.body)


def unpack_body(raw):
    """The dict of a reply body; ProtocolError unless it is one map."""
    if not raw:
        return {}
    try:
        body = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ProtocolError(message="reply body is not MessagePack: %s" % exc) from None
    if not isinstance(body, dict):
        raise ProtocolError(message="reply body is not a map")
    return body


class FrameReader:
    """Accumulates received bytes and returns whole frames.  The server's
    frames are bounded by max_body (its replies may exceed the request
    limit: audit entries, batches of results), checked before buffering."""

    def __init__(self, max_body=16 * MAX_FRAME):
        self.buf = bytearray()
        self.max_body = max_body

    def feed(self, data):
        """Adds received bytes."""
        self.buf += data

    def next(self):
        """The next complete Frame, or None when more bytes are needed."""
        if len(self.buf) < HEADER_LEN:
            return None
        blen, magic, op, status, rid = HEADER.unpack_from(self.buf)
        if magic != MAGIC:
            if self.buf.startswith(b"hitlqd: "):   # hint: plaintext on the TLS port
                line = self.buf.split(b"\n", 1)[0].decode("ascii", "replace")
                raise ConnectionError(message=line)
            raise ProtocolError(message="bad magic 0x%02x from the server" % magic)
        if blen > self.max_body:
            raise ProtocolError(message="reply of %d bytes is over the limit" % blen)
        if len(self.buf) < HEADER_LEN + blen:
            return None
        raw = bytes(self.buf[HEADER_LEN:HEADER_LEN + blen])
        del self.buf[:HEADER_LEN + blen]
        return Frame(op, status, rid, unpack_body(raw))
