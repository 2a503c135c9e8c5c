"""errors.py - the exceptions of the hitlq package.

HitlqError(code, name, message) is the base of everything the package
raises.  Server statuses (>= 100, proto/PROTOCOL.md §5) get one subclass
each, generated from hitlq.statuses: NotFound, StaleLease, ...  Local
failures use libhitlq's negative codes (include/hitlq.h HITLQ_E*):
ConnectionError (-1) and its subclasses ConnectionClosed (-3), Timeout (-4)
and OutcomeUnknown (a write whose reply was lost and that is not retried),
ProtocolError (-2), and ClientError (-6, a bad argument caught before
sending).
"""
import builtins

from . import statuses


class HitlqError(Exception):
    """Base class: code (server status > 0, or a negative local code), name
    (the wire string, or a local name) and message (the server's text)."""

    code = None
    name = "error"

    def __init__(self, code=None, name=None, message=""):
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name
        self.message = message
        super().__init__("%s (%s): %s" % (self.name, self.code, message))

    @property
    def fatal(self):
        """True when the server closes the connection after this status."""
        row = statuses.BY_VALUE.get(self.code)
        return bool(row and row[2])


class ConnectionError(HitlqError, builtins.ConnectionError):
    """The transport failed: refused, reset or an I/O error (HITLQ_EIO)."""

    code = -1
    name = "io"


class ConnectionClosed(ConnectionError):
    """The server closed the connection before replying (HITLQ_EOF)."""

    code = -3
    name = "eof"


class Timeout(ConnectionError):
    """No reply within the client's timeout (HITLQ_ETIMEOUT)."""

    code = -4
    name = "timeout"


class OutcomeUnknown(ConnectionError):
    """The connection was lost after a write that is not retried (CLAIM,
    CLAIM_ID, RELEASE, RESOLVE, ESCALATE, COMMENT, REOPEN, AMEND, KEY_ADD,
    RELOAD; hitlq.NOT_RETRIED) was sent: it may or may not have been
    applied (proto/PROTOCOL.md §6)."""

    code = -3
    name = "outcome_unknown"


class ProtocolError(HitlqError):
    """The server sent something that is not the protocol (HITLQ_EPROTO)."""

    code = -2
    name = "proto"


class ClientError(HitlqError, ValueError):
    """A bad argument, refused before anything was sent (HITLQ_EINVAL)."""

    code = -6
    name = "invalid_argument"


def _make_status_classes():
    """One HitlqError subclass per error status of the table, by value."""
    by_value = {}
    for value, wire, fatal, desc in statuses.STATUSES:
        if value < statuses.FIRST_ERROR:
            continue
        cls = type(statuses.class_name(wire), (HitlqError,),
                   {"code": value, "name": wire, "__doc__": "Status %d %s: %s%s."
                    % (value, wire, desc, " (fatal)" if fatal else ""),
                    "__module__": __name__})
        by_value[value] = cls
    return by_value


STATUS_ERRORS = _make_status_classes()
globals().update({cls.__name__: cls for cls in STATUS_ERRORS.values()})


def error_for(status, body):
    """The exception for a reply with status >= 100 and its body
    {code, message}: the class of the status value; for a value the table
    does not know, HitlqError with the body's code string."""
    body = body if isinstance(body, dict) else {}
    wire = body.get("code") if isinstance(body.get("code"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else ""
    cls = STATUS_ERRORS.get(status)
    exc = (cls(status, wire or cls.name, message) if cls is not None
           else HitlqError(status, wire or "status_%d" % status, message))
    # not_leader (§9): the leader's "host:port", or None while unknown
    exc.leader = body.get("leader") if isinstance(body.get("leader"), str) else None
    return exc


__all__ = ["HitlqError", "ConnectionError", "ConnectionClosed", "Timeout",
           "OutcomeUnknown", "ProtocolError", "ClientError", "STATUS_ERRORS",
           "error_for"] + sorted(cls.__name__ for cls in STATUS_ERRORS.values())
