#!/usr/bin/env python3
"""make-corpus.py - writes the seed corpora for the fuzz targets.

tests/fuzz/corpus/fuzz_validate/: frame bodies (MessagePack only), one valid
request body per opcode of proto/PROTOCOL.md §4 plus the hostile catalogue
of docs/RELIABILITY.md T5 items 6-13.
tests/fuzz/corpus/fuzz_frame/: a chunk-size byte followed by a stream of whole
frames (12-byte header + body), valid and hostile.
Python 3 standard library only.  Run from the repository root.
"""
import math
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "corpus")
MAGIC = 0x51


def pack(v):
    """Minimal MessagePack encoder: None, bool, int, float, str, bytes,
    list, dict (insertion order kept)."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 0x80:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        if v >= 0:
            for tag, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16),
                                  (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
                if v < lim:
                    return bytes([tag]) + struct.pack(fmt, v)
        for tag, fmt, lim in ((0xd0, ">b", 1 << 7), (0xd1, ">h", 1 << 15),
                              (0xd2, ">i", 1 << 31), (0xd3, ">q", 1 << 63)):
            if -lim <= v:
                return bytes([tag]) + struct.pack(fmt, v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return _hdr(len(b), 0xa0, 32, 0xd9) + b
    if isinstance(v, bytes):
        return _hdr(len(v), None, 0, 0xc4) + v
    if isinstance(v, list):
        return _chdr(len(v), 0x90, 0xdc) + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        return _chdr(len(v), 0x80, 0xde) + b"".join(
            pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


def _hdr(n, fix, fixlim, base):
    if fix is not None and n < fixlim:
        return bytes([fix | n])
    if n < 1 << 8:
        return bytes([base]) + struct.pack(">B", n)
    if n < 1 << 16:
        return bytes([base + 1]) + struct.pack(">H", n)
    return bytes([base + 2]) + struct.pack(">I", n)


def _chdr(n, fix, base):
    if n < 16:
        return bytes([fix | n])
    if n < 1 << 16:
        return bytes([base]) + struct.pack(">H", n)
    return bytes([base + 1]) + struct.pack(">I", n)


def frame(op, body, rid=1, status=0, magic=MAGIC, body_len=None):
    n = len(body) if body_len is None else body_len
    return struct.pack(">IBBHI", n, magic, op, status, rid) + body


FIELDS = {"amount": 1250.5, "country": "DE", "new_customer": True,
          "note": None, "age": 41, "delta": -3}
VALID = {
    "hello": (0x01, {"version": 1, "client": "make-corpus/1", "name": "bot-7"}),
    "ping": (0x02, {}),
    "submit": (0x10, {"key": "inv-2024-0001", "type": "credit_application",
                      "fields": FIELDS, "priority": 500}),
    "get": (0x11, {"id": 42}),
    "stats": (0x12, {}),
    "claim": (0x20, {"queues": ["review", "fraud/high"], "lease_ms": 60000,
                     "wait_ms": 1000, "worker": "alice@example"}),
    "extend": (0x21, {"id": 42, "lease": 0xDEADBEEFCAFE, "lease_ms": 30000}),
    "release": (0x22, {"id": 42, "lease": 7, "delay_ms": 5000}),
    "resolve": (0x23, {"id": 42, "lease": 7, "outcome": "approve",
                       "note": "checked, ok \u00e9\u4e2d\U0001F600",
                       "root_cause": "missing_doc"}),
    "escalate": (0x24, {"id": 42, "lease": 7, "queue": "senior",
                        "note": "needs a second look"}),
    "watch": (0x30, {"cursor": 0}),
    "result": (0x31, {"seq": 9, "id": 42, "key": "k1", "type": "t",
                      "outcome": "approve", "auto": True,
                      "actor": "model:m1@3", "score": 0.93, "at_ms": 1700000000000}),
    "error": (0x10, {"code": "bad_request", "message": "field \"x\": required"}),
}


def nest(depth):
    """A map nested `depth` deep: {"a": {"a": ... {}}}."""
    return b"\x81\xa1a" * (depth - 1) + b"\x80"


HOSTILE = {
    "array32_huge": b"\x81\xa1a\xdd\xff\xff\xff\xff",
    "array32_bare": b"\xdd\xff\xff\xff\xff",
    "map32_huge": b"\xdf\xff\xff\xff\xff",
    "array16_chain": b"\x81\xa1a" + b"\xdc\xff\xff" * 10000,
    "depth8": nest(8),
    "depth9": nest(9),
    "depth33": nest(33),
    "depth_10k": b"\x81\xa1a" + b"\x91" * 10000,
    "str32_4gib": b"\x81\xa1a\xdb\xff\xff\xff\xff" + b"x" * 10,
    "bin32_4gib": b"\x81\xa1a\xc6\xff\xff\xff\xff" + b"x" * 10,
    "utf8_invalid": b"\x81\xa1a\xa2\xff\xfe",
    "utf8_overlong": b"\x81\xa1a\xa2\xc0\xaf",
    "utf8_surrogate": b"\x81\xa1a\xa3\xed\xa0\x80",
    "utf8_too_big": b"\x81\xa1a\xa4\xf4\x90\x80\x80",
    "str_nul": b"\x81\xa3key\xa3a\x00b",
    "ext_timestamp_m1": b"\x81\xa1a\xd6\xff\xff\xff\xff\xff",
    "ext8": b"\x81\xa1a\xc7\x01\x05x",
    "fixext1": b"\x81\xa1a\xd4\x01\x00",
    "reserved_c1": b"\x81\xa1a\xc1",
    "nan": b"\x81\xa1a\xcb" + struct.pack(">d", math.nan),
    "inf32": b"\x81\xa1a\xca" + struct.pack(">f", math.inf),
    "trailing": pack({"id": 1}) + b"\x00",
    "two_objects": pack({"id": 1}) + pack({"id": 2}),
    "truncated": pack({"key": "abcdef"})[:-2],
    "top_array": pack([1, 2, 3]),
    "int_key": b"\x81\x01\x02",
    "dup_key": b"\x82\xa2id\x01\xa2id\x02",
    "unknown_key": pack({"key": "k", "type": "t", "fields": {}, "bogus": 1}),
    "negative_priority": pack({"key": "k", "type": "t", "fields": {}, "priority": -1}),
    "float_priority": pack({"key": "k", "type": "t", "fields": {}, "priority": 1.5}),
    "uint64_max": pack({"id": (1 << 64) - 1}),
    "bad_name": pack({"key": "no spaces", "type": "t", "fields": {}}),
}


def write(sub, name, data):
    with open(os.path.join(OUT, sub, name), "wb") as f:
        f.write(data)


def main():
    for sub in ("fuzz_frame", "fuzz_validate"):
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
        os.makedirs(os.path.join(OUT, sub))
    for name, (op, body) in VALID.items():
        write("fuzz_validate", "valid_" + name, pack(body))
        write("fuzz_frame", "valid_" + name, b"\x00" + frame(op, pack(body)))
    for name, body in HOSTILE.items():
        write("fuzz_validate", "hostile_" + name, body)
    pipeline = b"".join(frame(op, pack(b), rid=i)
                        for i, (op, b) in enumerate(VALID.values()))
    for chunk in (0, 6, 11, 255):   # chunk sizes 1, 7, 12, 256
        write("fuzz_frame", "pipeline_chunk%d" % (chunk + 1), bytes([chunk]) + pipeline)
    ping = frame(0x02, b"")
    small = {
        "empty_body": b"\x00" + ping,
        "bad_magic": b"\x03" + frame(0x02, b"", magic=0x52),
        "len_max1_preauth": b"\x00" + frame(0x01, b"", body_len=4097),
        "len_ffffffff": b"\x01" + frame(0x01, b"", body_len=0xFFFFFFFF),
        "len_max_plus1": b"\x02" + frame(0x10, b"", body_len=1048577),
        "truncated_body": b"\x04" + frame(0x11, pack({"id": 1}))[:-1],
        "split_header": b"\x05" + ping[:7],
        "hostile_body_chain": b"\x3f" + frame(0x10, HOSTILE["array16_chain"][:3000]),
        "hostile_body_ext": b"\x07" + frame(0x10, HOSTILE["ext_timestamp_m1"]),
        "error_reply": b"\x08" + frame(0x10, pack(VALID["error"][1]), status=105),
        "good_then_bad": b"\x09" + ping + frame(0x02, b"", magic=0),
    }
    for name, data in small.items():
        write("fuzz_frame", name, data)


if __name__ == "__main__":
    main()
