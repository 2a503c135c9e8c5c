/*
 * client_int.h - private parts of libhitlq: the context struct and the
 * helpers shared by client.c (session, framing), client_reply.c (reply
 * accessors), client_net.c (sockets), ops.c (typed operations),
 * ops_audit.c (audit operations, SUBMIT with a receipt) and client_tls.c
 * (the TLS client).  Not installed.
 */
#ifndef HITLQ_CLIENT_INT_H
#define HITLQ_CLIENT_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "hitlq_msgpack.h"

/* Replies read while waiting for another request id are parked here until
 * asked for.  No more than HITLQ_MAX_INFLIGHT requests can be outstanding,
 * so a longer list means the server answered ids we never used. */
#define HITLQ_PENDING_MAX  (HITLQ_MAX_INFLIGHT + 16u)

#define HITLQ_CLIENT_NAME  "libhitlq/0.1"

/* A decoded reply (opaque in hitlq.h): the frame header's fields, the
 * body's bytes and their decoded map, whose objects live in the zone and
 * point into raw. */
struct hitlq_reply {
    uint8_t        opcode;
    uint16_t       status;
    uint32_t       request_id;
    msgpack_object body;
    msgpack_zone   zone;
    void          *raw;
    size_t         raw_len;
};

struct hitlq {
    int                 fd;
    int                 err;            /* last code */
    bool                dead;           /* sticky: calls return HITLQ_ECLOSED */
    char                errstr[512];
    int                 timeout_ms;     /* 0 = forever */
    uint32_t            next_id;
    uint32_t            watch_id;       /* request id of our WATCH, 0 = none */
    struct frame_reader rd;
    hitlq_reply        *pending[HITLQ_PENDING_MAX];
    size_t              n_pending;
    struct ssl_st      *ssl;            /* owned TLS session; NULL = plaintext */
    struct ssl_ctx_st  *ssl_ctx;        /* owned; NULL = plaintext */
};

/* ---- net.c ---------------------------------------------------------------- */

/* A deadline on CLOCK_MONOTONIC in ms; -1 means none. */
int64_t hitlq__now_ms(void);
int64_t hitlq__deadline(int timeout_ms);

/* Connects with a timeout; returns the non-blocking fd or -1 with a message
 * in err (errlen bytes). */
int hitlq__net_connect(const char *host, uint16_t port, int timeout_ms,
                       char *err, size_t errlen);
/* Waits for events on fd.  Returns 1 when ready, 0 on timeout, -1 on
 * error (errno). */
int hitlq__net_wait(int fd, short events, int64_t deadline);
/* Writes all of buf before the deadline (through TLS when c->ssl).  Returns HITLQ_OK or an error code
 * with the detail in c->errstr (the context is not marked). */
int hitlq__net_write(hitlq *c, const void *buf, size_t len, int64_t deadline);
/* Reads what is available (waiting until the deadline for at least one
 * byte) into the frame reader.  Returns HITLQ_OK, HITLQ_EIO, HITLQ_EOF,
 * HITLQ_ETIMEOUT or HITLQ_ENOMEM. */
int hitlq__net_read(hitlq *c, int64_t deadline);

/* ---- tls.c ---------------------------------------------------------------- */

/* Starts TLS on c->fd as opt asks (tls_ca, tls_cert, tls_key,
 * tls_server_name, else host, is the name checked) and finishes the
 * handshake before the deadline.  Returns HITLQ_OK, or HITLQ_EIO,
 * HITLQ_ETIMEOUT, HITLQ_ENOMEM or HITLQ_EINVAL with the detail in c. */
int hitlq__tls_start(hitlq *c, const hitlq_options *opt, const char *host,
                     int64_t deadline);
/* One record-layer step.  Returns the bytes moved (> 0); 0 when the call
 * must wait for *ev (POLLIN or POLLOUT) on c->fd and be repeated with the
 * same arguments; -1 with the code (HITLQ_EIO, HITLQ_EOF) set in c. */
ssize_t hitlq__tls_write(hitlq *c, const void *buf, size_t len, short *ev);
ssize_t hitlq__tls_read(hitlq *c, void *buf, size_t len, short *ev);

/* One send / one receive on c, plain or TLS, blocking or not
 * (client_net.c; used by the blocking API and by async_io.c): bytes moved
 * (> 0), 0 = would block (*ev: what to wait for), -1 = error or EOF
 * recorded in c. */
ssize_t hitlq__send_some(hitlq *c, const void *p, size_t len, short *ev);
ssize_t hitlq__recv_some(hitlq *c, void *buf, size_t len, short *ev);
/* Frees the session and context (sending close_notify if the socket takes
 * it at once); a no-op for plaintext. */
void hitlq__tls_free(hitlq *c);

/* ---- sig.c ---------------------------------------------------------------- */

/* Signs HELLO's challenge (proto/auth_msg.h) with secret key string sk for
 * role, bound to c's TLS session if any: the key id (hex) and signature.
 * HITLQ_OK or HITLQ_EINVAL with the detail in c. */
int hitlq__auth_sign(hitlq *c, const char *sk, const uint8_t nonce[32], const char *role,
                     char key_id_hex[17], uint8_t sig[64]);

/* ---- client.c ------------------------------------------------------------- */

/* Records an error code and a printf-style detail.  Returns code. */
int hitlq__set_err(hitlq *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like hitlq__set_err and also makes the context unusable (sticky). */
int hitlq__fail(hitlq *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns HITLQ_ECLOSED (and sets nothing) when the context is dead. */
int hitlq__check(hitlq *c);

/* Allocates a request id (never 0). */
uint32_t hitlq__next_id(hitlq *c);
/* Sends one request frame with the given id. */
int hitlq__send(hitlq *c, uint8_t opcode, uint32_t id, const void *body,
                size_t len, int64_t deadline);
/* Reads the next reply off the wire (validated, unpacked; not from the
 * pending list).  Returns HITLQ_OK with *out owned by the caller, or a
 * client error (the context is then dead, except for HITLQ_ETIMEOUT when
 * soft is true). */
int hitlq__read_frame(hitlq *c, int64_t deadline, bool soft, hitlq_reply **out);
/* Copies, validates (the reply limits) and unpacks frame f into a new
 * reply *out owned by the caller.  HITLQ_OK, or HITLQ_EPROTO/HITLQ_ENOMEM
 * and the context is dead. */
int hitlq__make_reply(hitlq *c, const struct frame *f, hitlq_reply **out);
/* Parks a reply for later; fails with HITLQ_EPROTO when the list is full. */
int hitlq__park(hitlq *c, hitlq_reply *r);
/* Takes the parked reply for id (NULL if none). */
hitlq_reply *hitlq__unpark(hitlq *c, uint32_t id);
/* Waits for the reply to (id, opcode).  Returns its status (HITLQ_OK or
 * a server status, setting err/errstr) with *out owned by the caller, or a
 * client error. */
int hitlq__wait(hitlq *c, uint32_t id, uint8_t opcode, int64_t deadline,
                hitlq_reply **out);
/* Records the outcome of a reply: status 0/1 clears err; >= 100 copies the
 * server's message into errstr (fatal statuses kill the context). */
int hitlq__reply_status(hitlq *c, const hitlq_reply *r);
/* hitlq_call with an explicit timeout (0 = forever). */
int hitlq__call(hitlq *c, uint8_t opcode, const void *body, size_t len,
                int timeout_ms, hitlq_reply **out);

/* ---- ops.c ---------------------------------------------------------------- */

/* A request body being packed; owned by the caller, which frees it with
 * hitlq__req_clear or hands it to hitlq__req_call. */
struct hitlq__req {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
};

/* Starts an empty request body. */
void hitlq__req_init(struct hitlq__req *q);
/* Frees the request body's buffer. */
void hitlq__req_clear(struct hitlq__req *q);
/* Sends the packed request with hitlq__call and waits; always frees the
 * request.  *out as for hitlq__call (owned by the caller). */
int hitlq__req_call(hitlq *c, struct hitlq__req *q, uint8_t op, int timeout_ms,
                    hitlq_reply **out);
/* Appends a SUBMIT body {key, type, fields, priority?, receipt?} for it to
 * q (receipt NULL = no receipt key).  Returns HITLQ_OK, or HITLQ_EINVAL
 * with the detail in c when the item is invalid (q is then untouched; the
 * caller still owns and frees it). */
int hitlq__pack_submit(hitlq *c, struct hitlq__req *q, const hitlq_item *it,
                       const char *receipt);
/* Decodes the decision part of a SUBMIT reply into *d (zeroed first);
 * HITLQ_EPROTO (detail in c) when id or outcome is missing.  r stays the
 * caller's. */
int hitlq__decode_decision(hitlq *c, const hitlq_reply *r, hitlq_decision *d);

/* ---- ops_pack.c: one encoder per request, shared by ops.c and async_ops.c.
 * Each appends one body map to q (initialised by the caller, who frees
 * it).  Those given c check their arguments first and return HITLQ_EINVAL
 * with the detail in c, packing nothing; the others cannot fail. ---------- */

/* CLAIM {queues, wait_ms, lease_ms?, worker?}. */
int hitlq__pack_claim(hitlq *c, struct hitlq__req *q, const char *const *queues, size_t nq,
                      uint32_t lease_ms, uint32_t wait_ms, const char *worker);
/* EXTEND {id, lease, lease_ms?} (lease_ms 0 = the server's default). */
int hitlq__pack_extend(struct hitlq__req *q, uint64_t id, uint64_t lease, uint32_t lease_ms);
/* RELEASE {id, lease, delay_ms?}. */
int hitlq__pack_release(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                        uint32_t delay_ms, const char *waiting_on);
/* RESOLVE {id, lease, outcome, note?, root_cause?}. */
int hitlq__pack_resolve(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                        const char *outcome, const char *note, const char *root_cause);
/* ESCALATE {id, lease, queue, note?}. */
int hitlq__pack_escalate(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                         const char *queue, const char *note);
/* GET {id, explain: "exact"?}. */
int hitlq__pack_get(struct hitlq__req *q, uint64_t id, bool exact);
/* WATCH {cursor}. */
int hitlq__pack_watch(struct hitlq__req *q, uint64_t cursor);

#endif
