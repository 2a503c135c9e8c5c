/*
 * async_int.h - private parts of the asynchronous libhitlq
 * (include/hitlq_async.h): the context, which wraps a blocking `hitlq`
 * (client_int.h) for its socket, TLS session, frame reader, request ids
 * and error text, and adds the output buffer, the table of pending
 * callbacks and the event-loop hooks.  Shared by async.c (context,
 * pending table, callbacks), async_io.c (non-blocking reads and writes)
 * and async_ops.c (typed requests).  Not installed.
 */
#ifndef HITLQ_ASYNC_INT_H
#define HITLQ_ASYNC_INT_H

#include "client_int.h"
#include "hitlq_async.h"

/* Unsent bytes a context may hold before calls fail with HITLQ_ENOMEM. */
#define ASYNC_MAX_UNSENT (64u * 1024u * 1024u)

/* One pending request: its callback, waiting for the reply to id. */
struct async_slot {
    uint32_t        id;        /* 0 = free slot */
    uint8_t         opcode;
    uint64_t        seq;       /* order of the calls, for the disconnect */
    hitlq_async_cb *cb;
    void           *priv;
};

struct hitlq_async {
    hitlq            *c;            /* the connection (owned) */
    hitlq_async_ev    ev;
    bool              attached;
    bool              writing;      /* ev.add_write is in force */
    bool              closed;       /* the connection ended: calls fail */
    bool              free_pending; /* hitlq_async_free called in a callback */
    bool              read_wants_write;  /* TLS: a read waits for writability */
    bool              write_wants_read;  /* TLS: a write waits for readability */
    int               depth;        /* > 0 while the library runs user code */
    uint8_t          *out;          /* unsent frames: out[off, len) */
    size_t            out_off, out_len, out_cap;
    struct async_slot *slots;       /* open addressing by id & (cap - 1) */
    size_t            n_slots, cap_slots;
    uint64_t          seq;
    uint32_t          watch_req;    /* id of a WATCH not answered yet, 0 = none */
    hitlq_async_cb   *push_cb;
    void             *push_priv;
    hitlq_async_disconnect_cb *dis_cb;
    void             *dis_priv;
    hitlq_reply      *cur;          /* the reply of the running callback */
    bool              kept;         /* ... taken by hitlq_async_keep */
};

/* ---- async.c ------------------------------------------------------------ */

/* Queues a request frame with a new id and registers cb.  The return codes
 * of hitlq_async_call. */
int hitlq__async_send(hitlq_async *ac, uint8_t opcode, const void *body, size_t len,
               hitlq_async_cb *cb, void *priv);
/* Hands one reply frame (owned; freed here unless a callback keeps it) to
 * its pending callback or to the push callback.  HITLQ_OK, or HITLQ_EPROTO
 * (recorded, context dead) when its opcode is not the request's. */
int hitlq__async_dispatch(hitlq_async *ac, hitlq_reply *r);
/* Ends the connection after an error recorded in ac->c: every pending
 * callback gets NULL, then the disconnect callback and the hooks' cleanup.
 * Idempotent. */
void hitlq__async_disconnect(hitlq_async *ac);
/* Leaves a library entry point (pairs with depth++): completes a free
 * requested meanwhile.  Returns true when ac is gone. */
bool hitlq__async_leave(hitlq_async *ac);
/* Calls ev.add_write / ev.del_write when the want changes. */
void hitlq__async_want_write(hitlq_async *ac, bool on);

/* ---- async_io.c --------------------------------------------------------- */

/* Writes what the socket takes of the output buffer; disconnects on error. */
void hitlq__async_flush(hitlq_async *ac);
/* Reads until the socket would block, dispatching each complete frame;
 * disconnects on error. */
void hitlq__async_read(hitlq_async *ac);

#endif
