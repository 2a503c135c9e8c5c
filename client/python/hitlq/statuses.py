"""statuses.py - the status table of the hitlq protocol (proto/PROTOCOL.md §5).

One row per status of include/hitlq_proto.h HITLQ_STATUSES: (value, wire
string, fatal, description).  The exception classes of hitlq.errors are
generated from it; client/python/tests/test_py_statuses.py fails when a status of the C
header is missing here or differs.  Values are stable: only add rows.
"""

# value, wire string, fatal (the server closes the connection), description
STATUSES = (
    (0, "ok", False, "success"),
    (1, "empty", False, "no item available before the wait ended"),
    (100, "bad_frame", True, "malformed frame header"),
    (101, "frame_too_large", True, "frame body exceeds the limit"),
    (102, "bad_msgpack", True, "body is not one valid MessagePack map"),
    (103, "limit_exceeded", True, "a size, count or depth limit was exceeded"),
    (104, "unknown_op", False, "unknown opcode"),
    (105, "bad_request", False, "missing, unknown or mistyped field"),
    (106, "bad_version", True, "unsupported protocol version"),
    (107, "need_hello", True, "HELLO must be the first request"),
    (108, "too_many_inflight", False, "too many requests in flight"),
    (200, "not_found", False, "no such item"),
    (201, "conflict", False, "idempotency key reused with different content"),
    (202, "stale_lease", False, "lease token is not the current one"),
    (203, "invalid_item", False, "item fails validation"),
    (204, "unknown_type", False, "no policy for this item type"),
    (205, "invalid_state", False, "operation not allowed in the item's state"),
    (206, "invalid_policy", False,
     "the new policy or model was refused; the old one stays in force"),
    (207, "unauthorized", True, "authentication required or failed"),
    (208, "forbidden", False, "the principal's role may not do this"),
    (209, "invalid_outcome", False,
     "the outcome is not one of the item type's declared actions"),
    (210, "lease_expired", False,
     "the token was the item's lease but that lease expired; claim it again"),
    (211, "already_resolved", False, "the item is resolved; nothing was written"),
    (212, "lease_held", False,
     "another lease holds the item (the message names its holder and expiry)"),
    (213, "unknown_queue", False,
     "no queue of that name in the policy in force (the message lists them)"),
    (214, "reviewer_conflict", False,
     "four-eyes: this principal already gave a verdict on, escalated or decided the item"),
    (215, "invalid_root_cause", False,
     "the root cause is not one the item type declares (the message lists them)"),
    (300, "internal", False, "internal server error"),
    (301, "resource_exhausted", False, "storage full; write refused, nothing changed"),
    (302, "shutting_down", False, "server is shutting down"),
    (303, "not_leader", True,
     "this server is not the leader; the reply names it (connection closed)"),
)

OK = 0
EMPTY = 1
FIRST_ERROR = 100

BY_VALUE = {row[0]: row for row in STATUSES}
BY_WIRE = {row[1]: row for row in STATUSES}


def class_name(wire):
    """The exception class name of a wire string: not_found -> NotFound."""
    return "".join(part.capitalize() for part in wire.split("_"))
