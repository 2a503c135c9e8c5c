/*
 * hitlq_proto.h - wire constants of the hitlq binary protocol, version 1.
 *
 * Every number a peer must agree on lives here: frame header layout,
 * opcodes, status codes and limits.  proto/PROTOCOL.md is the normative
 * text; section numbers below (§n) refer to it.  This header has no
 * dependencies beyond <stdint.h> so that any client can include it.
 */
#ifndef HITLQ_PROTO_H
#define HITLQ_PROTO_H

#include <stdint.h>

/* §2 Framing.  Every frame is a 12-byte header followed by a body of
 * `body_len` bytes holding exactly one MessagePack map (or nothing when
 * body_len is 0, which reads as an empty map).  Multi-byte header fields
 * are big-endian (network order).
 *
 *   offset size field
 *   0      4    body_len     length of the body that follows the header
 *   4      1    magic        HITLQ_MAGIC ('Q')
 *   5      1    opcode       enum hitlq_op
 *   6      2    status       0 in requests; enum hitlq_status in replies
 *   8      4    request_id   chosen by the client, echoed in the reply
 */
#define HITLQ_MAGIC             0x51u   /* 'Q' */
#define HITLQ_PROTO_VERSION     1u
#define HITLQ_FRAME_HDR_LEN     12u

/* §7 Limits.  Derivations:
 * - A pre-HELLO frame only needs HELLO's few short strings: 4 KiB.
 * - After HELLO a frame carries one item: 256 fields of at most a 64 KiB
 *   string would exceed 1 MiB, so the 1 MiB frame cap is the binding limit
 *   (NATS max_payload is the same 1 MiB).
 * - Elements: every MessagePack element costs at least one byte, so
 *   "elements <= body_len" never rejects valid input; the absolute cap of
 *   4096 bounds msgpack-c's zone (48 B per map pair) to ~200 KiB/frame.
 * - Depth 8: the deepest legal body (request map -> fields map -> value)
 *   needs 3; msgpack-c's own hard limit is 32.
 * - Names (queue, type, key, worker) become LMDB key parts and C strings:
 *   printable ASCII, no NUL, at most 128 bytes (LMDB keys max 511 B). */
#define HITLQ_MAX_FRAME         (1024u * 1024u)     /* body bytes after HELLO */
#define HITLQ_MAX_FRAME_PREAUTH 4096u               /* body bytes before HELLO */
#define HITLQ_MAX_ELEMENTS      4096u               /* per frame, all containers */
#define HITLQ_MAX_DEPTH         8u                  /* container nesting */
#define HITLQ_MAX_STR           (64u * 1024u)       /* any str/bin value */
#define HITLQ_MAX_NAME          128u                /* key, type, worker, outcome */
#define HITLQ_MAX_QUEUE_NAME    64u                 /* queue names */
#define HITLQ_MAX_FIELDS        256u                /* entries in an item's fields map */
#define HITLQ_MAX_CLAIM_QUEUES  16u                 /* queues named by one CLAIM */
#define HITLQ_MAX_NOTE          4096u               /* resolve/escalate notes */
#define HITLQ_MAX_INFLIGHT      64u                 /* requests in flight per connection */
#define HITLQ_MAX_OUTBUF        (4u * 1024u * 1024u)/* unsent reply bytes per connection */
#define HITLQ_MAX_REASONS       8u                  /* reason codes in a decision */
#define HITLQ_MAX_WAIT_MS       600000u             /* CLAIM wait_ms ceiling (10 min) */
#define HITLQ_MAX_LEASE_MS      86400000u           /* lease ceiling (24 h) */
#define HITLQ_DEFAULT_LEASE_MS  300000u             /* 5 minutes */
#define HITLQ_MAX_PRIORITY      1000000u            /* priority range 0..this */

/* §4 Opcodes.  X(name, value, description).  A reply carries the opcode of
 * its request.  RESULT is the only server-initiated frame (pushed on a
 * connection that sent WATCH; its request_id is the WATCH's). */
#define HITLQ_OPCODES(X)                                                  \
    X(HELLO,    0x01, "open a session: version, client name")            \
    X(PING,     0x02, "liveness check")                                   \
    X(AUTH,     0x03, "answer HELLO's challenge with an Ed25519 signature") \
    X(SUBMIT,   0x10, "submit a work item: triage, auto-resolve or queue") \
    X(GET,      0x11, "an item with its full history")                   \
    X(STATS,    0x12, "per-queue and per-type statistics")               \
    X(CLAIM,    0x20, "lease the best item from one or more queues")     \
    X(EXTEND,   0x21, "extend a lease (heartbeat)")                      \
    X(RELEASE,  0x22, "give a leased item back, optionally delayed")     \
    X(RESOLVE,  0x23, "resolve a leased item with an outcome")           \
    X(ESCALATE, 0x24, "move a leased item to another queue")             \
    X(WATCH,    0x30, "stream results from a cursor")                    \
    X(RESULT,   0x31, "server push: one result-stream entry")           \
    X(AUDIT_CHECKPOINT,  0x40, "the latest signed audit-log checkpoint")  \
    X(AUDIT_ENTRIES,     0x41, "a range of audit-log entries")           \
    X(AUDIT_PROVE,       0x42, "inclusion proof of an entry or an item's entries") \
    X(AUDIT_CONSISTENCY, 0x43, "consistency proof between two tree sizes") \
    X(DRIFT_INPUTS,      0x44, "input drift per feature against the reference profile") \
    X(DRIFT_REVIEW,      0x45, "live AI-vs-human review: agreement, QA error rate, score drift") \
    X(RELOAD,            0x50, "reload the policy and models (validated first)") \
    X(KEY_ADD,           0x51, "create an API key for a principal (admin)") \
    X(KEY_LIST,          0x52, "list principals and their API keys, never secrets (admin)") \
    X(KEY_REVOKE,        0x53, "revoke an API key; its connections are closed (admin)") \
    X(GET_BY_KEY,        0x13, "an item by its idempotency key, as GET")   \
    X(LIST,              0x14, "a queue's open items, a page at a time")   \
    X(CLAIM_ID,          0x25, "lease one named item (types with claim_by_id)") \
    X(COMMENT,           0x26, "a note on an item, no decision")           \
    X(REOPEN,            0x27, "send a resolved item back to a queue")     \
    X(AMEND,             0x28, "change a resolved item's outcome")

enum hitlq_op {
#define HITLQ_X_ENUM(name, val, desc) HITLQ_OP_##name = (val),
    HITLQ_OPCODES(HITLQ_X_ENUM)
#undef HITLQ_X_ENUM
};

/* §5 Status codes.  X(name, value, wire string, description).  0..99 are
 * successes; 100..199 protocol errors (the connection is closed after the
 * reply when marked fatal in PROTOCOL.md); 200..299 request errors; 300..
 * server conditions.  Values are stable: never renumber, only add. */
#define HITLQ_STATUSES(X)                                                              \
    X(OK,                 0, "ok",                 "success")                          \
    X(EMPTY,              1, "empty",              "no item available before the wait ended") \
    X(BAD_FRAME,        100, "bad_frame",          "malformed frame header")           \
    X(FRAME_TOO_LARGE,  101, "frame_too_large",    "frame body exceeds the limit")     \
    X(BAD_MSGPACK,      102, "bad_msgpack",        "body is not one valid MessagePack map") \
    X(LIMIT_EXCEEDED,   103, "limit_exceeded",     "a size, count or depth limit was exceeded") \
    X(UNKNOWN_OP,       104, "unknown_op",         "unknown opcode")                   \
    X(BAD_REQUEST,      105, "bad_request",        "missing, unknown or mistyped field") \
    X(BAD_VERSION,      106, "bad_version",        "unsupported protocol version")     \
    X(NEED_HELLO,       107, "need_hello",         "HELLO must be the first request")  \
    X(TOO_MANY_INFLIGHT,108, "too_many_inflight",  "too many requests in flight")      \
    X(NOT_FOUND,        200, "not_found",          "no such item")                     \
    X(CONFLICT,         201, "conflict",           "idempotency key reused with different content") \
    X(STALE_LEASE,      202, "stale_lease",        "lease token is not the current one") \
    X(INVALID_ITEM,     203, "invalid_item",       "item fails validation")            \
    X(UNKNOWN_TYPE,     204, "unknown_type",       "no policy for this item type")     \
    X(INVALID_STATE,    205, "invalid_state",      "operation not allowed in the item's state") \
    X(INVALID_POLICY,   206, "invalid_policy",     "the new policy or model was refused; the old one stays in force") \
    X(UNAUTHORIZED,     207, "unauthorized",       "authentication required or failed") \
    X(FORBIDDEN,        208, "forbidden",          "the principal's role may not do this") \
    X(INVALID_OUTCOME,  209, "invalid_outcome",    "the outcome is not one of the item type's declared actions") \
    X(LEASE_EXPIRED,    210, "lease_expired",      "the token was the item's lease but that lease expired") \
    X(ALREADY_RESOLVED, 211, "already_resolved",   "the item is resolved") \
    X(LEASE_HELD,       212, "lease_held",         "another lease holds the item") \
    X(UNKNOWN_QUEUE,    213, "unknown_queue",      "no queue of that name in the policy in force") \
    X(REVIEWER_CONFLICT,214, "reviewer_conflict",  "four-eyes: this principal already gave a verdict on, escalated or decided the item") \
    X(INVALID_ROOT_CAUSE,215,"invalid_root_cause", "the root cause is not one the item type declares") \
    X(INTERNAL,         300, "internal",           "internal server error")            \
    X(RESOURCE_EXHAUSTED,301,"resource_exhausted", "storage full; write refused, nothing changed") \
    X(SHUTTING_DOWN,    302, "shutting_down",      "server is shutting down") \
    X(NOT_LEADER,       303, "not_leader",         "this server is not the leader; the reply names it (connection closed)")

enum hitlq_status {
#define HITLQ_X_ENUM(name, val, str, desc) HITLQ_ST_##name = (val),
    HITLQ_STATUSES(HITLQ_X_ENUM)
#undef HITLQ_X_ENUM
};

/* Item states as they appear in GET replies (§4.4). */
#define HITLQ_STATES(X)   \
    X(QUEUED,   1, "queued")   \
    X(LEASED,   2, "leased")   \
    X(DELAYED,  3, "delayed")  \
    X(RESOLVED, 4, "resolved")

enum hitlq_item_state {
#define HITLQ_X_ENUM(name, val, str) HITLQ_STATE_##name = (val),
    HITLQ_STATES(HITLQ_X_ENUM)
#undef HITLQ_X_ENUM
};

/* Triage routes: the `route` of SUBMIT, GET and CLAIM replies (§4.3) and
 * the u8 route of the audit log's SCORING extension (AUDIT-FORMAT.md).
 * QA_SAMPLE marks a blind QA copy (GET only; never in the log). */
#define HITLQ_ROUTES(X)                     \
    X(AUTO_APPROVE, 1, "auto_approve")      \
    X(AUTO_REJECT,  2, "auto_reject")       \
    X(REVIEW,       3, "review")            \
    X(HARD_RULE,    4, "hard_rule")         \
    X(DATA_QUALITY, 5, "data_quality")      \
    X(QA_SAMPLE,    6, "qa_sample")

enum hitlq_route {
#define HITLQ_X_ENUM(name, val, str) HITLQ_ROUTE_##name = (val),
    HITLQ_ROUTES(HITLQ_X_ENUM)
#undef HITLQ_X_ENUM
};

/* How a decision's contributions were computed: the `explain` of the same
 * replies and the u8 method of the SCORING extension. */
#define HITLQ_METHODS(X)        \
    X(NONE,   0, "none")        \
    X(LINEAR, 1, "linear")      \
    X(APPROX, 2, "approx")      \
    X(EXACT,  3, "exact")

enum hitlq_method {
#define HITLQ_X_ENUM(name, val, str) HITLQ_METHOD_##name = (val),
    HITLQ_METHODS(HITLQ_X_ENUM)
#undef HITLQ_X_ENUM
};

#endif /* HITLQ_PROTO_H */
