"""test_py_statuses.py - the package's status table against the C header
(include/hitlq_proto.h HITLQ_STATUSES) and proto/PROTOCOL.md §5, and the
exception class generated for each status."""
import os
import re

import pytest

import hitlq
from conftest import ROOT


def header_statuses():
    """(NAME, value, wire) of every X(...) row of HITLQ_STATUSES."""
    with open(os.path.join(ROOT, "include", "hitlq_proto.h")) as f:
        src = f.read()
    block = src[src.index("#define HITLQ_STATUSES(X)"):]
    block = block[:block.index("enum hitlq_status")]
    rows = re.findall(r'X\(\s*([A-Z_]+)\s*,\s*(\d+)\s*,\s*"([a-z_]+)"', block)
    assert len(rows) >= 24, "parsed too few statuses: the header's format changed?"
    return [(n, int(v), w) for n, v, w in rows]


def protocol_fatal():
    """wire string -> fatal, from the table of proto/PROTOCOL.md §5."""
    with open(os.path.join(ROOT, "proto", "PROTOCOL.md")) as f:
        doc = f.read()
    sec = doc[doc.index("## 5. Status codes"):doc.index("## 6.")]
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`([a-z_]+)`\s*\|\s*(yes)?\s*\|", sec, re.M)
    return {w: bool(y) for _, w, y in rows}


def test_every_header_status_is_in_the_table():
    table = hitlq.statuses.BY_VALUE
    missing = [(n, v, w) for n, v, w in header_statuses()
               if v not in table or table[v][1] != w]
    assert not missing, "statuses missing from client/python/hitlq/statuses.py: %r" % missing
    assert len(table) == len(header_statuses()), "the Python table has extra rows"


def test_fatal_flags_match_protocol_md():
    fatal = protocol_fatal()
    for value, wire, is_fatal, _ in hitlq.statuses.STATUSES:
        if wire in fatal:
            assert is_fatal == fatal[wire], wire


@pytest.mark.parametrize("name,value,wire", header_statuses())
def test_one_exception_class_per_error_status(name, value, wire):
    if value < 100:
        assert value not in hitlq.STATUS_ERRORS
        return
    cls = getattr(hitlq, hitlq.statuses.class_name(wire))
    assert issubclass(cls, hitlq.HitlqError) and cls is hitlq.STATUS_ERRORS[value]
    assert (cls.code, cls.name) == (value, wire)
    exc = hitlq.error_for(value, {"code": wire, "message": "why"})
    assert type(exc) is cls and exc.code == value and exc.message == "why"


def test_unknown_status_is_a_plain_hitlq_error():
    exc = hitlq.error_for(299, {"code": "brand_new", "message": "m"})
    assert type(exc) is hitlq.HitlqError
    assert (exc.code, exc.name, exc.message) == (299, "brand_new", "m")
    exc = hitlq.error_for(298, None)
    assert (exc.code, exc.name) == (298, "status_298")


def test_named_examples():
    assert hitlq.NotFound.code == 200 and hitlq.StaleLease.code == 202
    assert hitlq.Unauthorized().fatal and not hitlq.Forbidden().fatal
    assert issubclass(hitlq.Timeout, hitlq.ConnectionError)
    assert issubclass(hitlq.ConnectionError, ConnectionError)   # the builtin too


def test_every_header_opcode_is_in_the_table():
    """hitlq.wire.OPCODES against include/hitlq_proto.h HITLQ_OPCODES."""
    with open(os.path.join(ROOT, "include", "hitlq_proto.h")) as f:
        src = f.read()
    block = src[src.index("#define HITLQ_OPCODES(X)"):]
    block = block[:block.index("\n\n")]
    rows = re.findall(r"X\(\s*([A-Z_]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,", block)
    assert len(rows) >= 29, "parsed too few opcodes: the header's format changed?"
    assert {n: int(v, 16) for n, v in rows} == hitlq.wire.OPCODES


def test_every_request_op_has_a_retry_rule():
    """Each opcode a client sends is either retried or not, never both."""
    sent = set(hitlq.wire.OPCODES) - {"HELLO", "AUTH", "RESULT"}
    assert hitlq.RETRIED | hitlq.NOT_RETRIED == sent
    assert not hitlq.RETRIED & hitlq.NOT_RETRIED
