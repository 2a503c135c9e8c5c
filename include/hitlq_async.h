/*
 * hitlq_async.h - the asynchronous libhitlq (hiredis's redisAsyncContext
 * shape): one connection, requests queued without waiting, a callback per
 * reply, server pushes (WATCH results) to a push callback, and hooks that
 * attach the connection to any event loop (include/hitlq_libevent.h does
 * it for libevent in a few lines).
 *
 * Life of a context
 *   hitlq_async *ac = hitlq_async_connect(&opt);   // NULL only without memory
 *   if (hitlq_async_err(ac)) { ...hitlq_async_errstr(ac)...; hitlq_async_free(ac); }
 *   hitlq_libevent_attach(ac, base);                // or hitlq_async_attach
 *   hitlq_async_claim(ac, queues, 1, 0, 30000, NULL, on_claim, me);
 *   event_base_dispatch(base);
 *
 *   The handshake (TCP connect, TLS, HELLO and AUTH with an API key or an
 *   Ed25519 key, exactly as hitlq_connect) runs BLOCKING inside
 *   hitlq_async_connect, bounded by opt->timeout_ms: it takes one round
 *   trip or two on a local network, and a connection is made once per
 *   session.  After it the socket is non-blocking and nothing blocks.
 *
 * Requests and callbacks
 *   hitlq_async_call (and the typed helpers) append the request frame to
 *   an output buffer and return HITLQ_OK at once; the library assigns the
 *   request ids, and any number of requests may be in flight (the server
 *   answers up to 64 at a time per connection and stops reading beyond
 *   that, PROTOCOL.md §7; the rest wait in the socket and the buffer).
 *   When the call returned HITLQ_OK its callback is called EXACTLY ONCE:
 *     - cb(ac, reply, privdata) when the reply with its request id arrives
 *       (reply status HITLQ_ST_OK, HITLQ_ST_EMPTY or a server error status,
 *       hitlq_reply_status(); hitlq_async_errstr() then holds the server's
 *       message), or
 *     - cb(ac, NULL, privdata) when the connection fails or the context is
 *       freed before the reply came (hitlq_async_err() says why:
 *       HITLQ_EOF, HITLQ_EIO, HITLQ_EPROTO, HITLQ_ECLOSED for a free ...).
 *   When a call returns an error its callback is never called.
 *   The reply is the library's: it is freed when the callback returns,
 *   unless the callback calls hitlq_async_keep(ac) - then the callback owns
 *   it and frees it with hitlq_reply_free().
 *   Callbacks may call hitlq_async_call (and helpers) and hitlq_async_free
 *   on their own context (the free is then completed after the callback).
 *
 * Pushes
 *   Frames whose request id is not pending - the RESULT frames of WATCH
 *   (hitlq_async_watch) and anything else unsolicited - go to the push
 *   callback (hitlq_async_set_push_cb) with the same ownership rule;
 *   without one they are dropped.
 *
 * Errors
 *   Anything the server sends that is not the protocol (a bad frame, a
 *   body over the limits - checked before allocation -, a reply whose
 *   opcode is not the request's) is HITLQ_EPROTO and ends the connection;
 *   so do socket and TLS errors.  Then every pending callback gets NULL
 *   (in request order), the disconnect callback runs once, the hooks'
 *   cleanup runs, and later calls return HITLQ_ECLOSED.  The context must
 *   still be freed by its owner.
 *
 * Event-loop hooks
 *   hitlq_async_attach(ac, &ev): the library calls ev.add_read once at
 *   attach (it always reads), add_write/del_write when its output buffer
 *   fills/empties (and when TLS needs a write to finish a read), and
 *   cleanup once when the connection ends or the context is freed.  The
 *   loop calls hitlq_async_handle_read(ac) / hitlq_async_handle_write(ac)
 *   when hitlq_async_fd(ac) is readable / writable.  TLS is non-blocking:
 *   records that want the other direction are retried transparently.
 *
 * Not thread-safe: one context is used by one thread (its loop's).
 */
#ifndef HITLQ_ASYNC_H
#define HITLQ_ASYNC_H

#include "hitlq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hitlq_async hitlq_async;

/* A reply callback: reply NULL means no reply will come (see above). */
typedef void hitlq_async_cb(hitlq_async *ac, hitlq_reply *reply, void *privdata);
/* Called once when the connection ends with an error (status: the code). */
typedef void hitlq_async_disconnect_cb(hitlq_async *ac, int status, void *privdata);

/* The event-loop hooks (hiredis's ac->ev).  data is passed to each; any
 * hook may be NULL. */
typedef struct hitlq_async_ev {
    void *data;
    void (*add_read)(void *data);
    void (*del_read)(void *data);
    void (*add_write)(void *data);
    void (*del_write)(void *data);
    void (*cleanup)(void *data);
} hitlq_async_ev;

/* Connects, TLS, HELLO (+ AUTH) as hitlq_connect does, blocking up to
 * opt->timeout_ms; then the socket is non-blocking.  Returns NULL only when
 * out of memory; check hitlq_async_err() and free the context either way.
 * opt->timeout_ms bounds only the handshake. */
hitlq_async *hitlq_async_connect(const hitlq_options *opt);
/* Calls every pending callback with NULL (err HITLQ_ECLOSED), then the
 * hooks' cleanup, closes the connection and frees the context (deferred to
 * the end of the current callback when called from one).  NULL: no-op. */
void hitlq_async_free(hitlq_async *ac);

int         hitlq_async_err(const hitlq_async *ac);     /* HITLQ_OK if none */
const char *hitlq_async_errstr(const hitlq_async *ac);  /* detail of the last error */
int         hitlq_async_fd(const hitlq_async *ac);      /* -1 after a failed connect */
/* Requests whose callback has not been called yet. */
size_t      hitlq_async_pending(const hitlq_async *ac);
/* Bytes queued for the server and not yet written. */
size_t      hitlq_async_unsent(const hitlq_async *ac);

/* Installs the event-loop hooks (once per context).  HITLQ_OK, HITLQ_EINVAL
 * (already attached), or HITLQ_ECLOSED. */
int  hitlq_async_attach(hitlq_async *ac, const hitlq_async_ev *ev);
/* Reads what the socket has and runs the callbacks of complete replies. */
void hitlq_async_handle_read(hitlq_async *ac);
/* Writes what the socket takes of the output buffer. */
void hitlq_async_handle_write(hitlq_async *ac);

/* The push callback (frames whose request id is not pending), privdata
 * passed to it; cb NULL drops them. */
void hitlq_async_set_push_cb(hitlq_async *ac, hitlq_async_cb *cb, void *privdata);
void hitlq_async_set_disconnect_cb(hitlq_async *ac, hitlq_async_disconnect_cb *cb,
                                   void *privdata);
/* From inside a callback: the callback takes the reply it was given (frees
 * it with hitlq_reply_free).  Returns it (NULL outside a callback). */
hitlq_reply *hitlq_async_keep(hitlq_async *ac);

/* Queues one request (body: a packed MessagePack map of len bytes, or
 * NULL/0).  HITLQ_OK (cb will be called once; cb may be NULL: the reply
 * is dropped), HITLQ_EINVAL (bad argument, body over HITLQ_MAX_FRAME),
 * HITLQ_ENOMEM (also when over 64 MiB wait unsent) or HITLQ_ECLOSED. */
int hitlq_async_call(hitlq_async *ac, uint8_t opcode, const void *body, size_t len,
                     hitlq_async_cb *cb, void *privdata);

/* ---- typed requests: the same encoders as the blocking calls (hitlq.h),
 * the same argument checks (HITLQ_EINVAL with the detail in errstr), the
 * reply to cb.  Read the reply with hitlq_reply_get_* (CLAIM: "id",
 * "lease", "expires_ms", ...; PROTOCOL.md §4) or hitlq_reply_decision
 * (SUBMIT). ---------------------------------------------------------------- */

int hitlq_async_submit(hitlq_async *ac, const hitlq_item *item,
                       hitlq_async_cb *cb, void *privdata);
/* CLAIM: the reply is HITLQ_ST_EMPTY when nothing came within wait_ms. */
int hitlq_async_claim(hitlq_async *ac, const char *const *queues, size_t n_queues,
                      uint32_t lease_ms, uint32_t wait_ms, const char *worker,
                      hitlq_async_cb *cb, void *privdata);
int hitlq_async_extend(hitlq_async *ac, uint64_t id, uint64_t lease, uint32_t lease_ms,
                       hitlq_async_cb *cb, void *privdata);
int hitlq_async_release(hitlq_async *ac, uint64_t id, uint64_t lease, uint32_t delay_ms,
                        hitlq_async_cb *cb, void *privdata);
/* RELEASE with waiting_on (hitlq_release_waiting): the SLA clock pauses. */
int hitlq_async_release_waiting(hitlq_async *ac, uint64_t id, uint64_t lease,
                                uint32_t delay_ms, const char *waiting_on,
                                hitlq_async_cb *cb, void *privdata);
int hitlq_async_resolve(hitlq_async *ac, uint64_t id, uint64_t lease, const char *outcome,
                        const char *note, const char *root_cause,
                        hitlq_async_cb *cb, void *privdata);
int hitlq_async_escalate(hitlq_async *ac, uint64_t id, uint64_t lease, const char *queue,
                         const char *note, hitlq_async_cb *cb, void *privdata);
/* GET; exact: reasons as exact TreeSHAP contributions (hitlq_get_exact). */
int hitlq_async_get(hitlq_async *ac, uint64_t id, bool exact,
                    hitlq_async_cb *cb, void *privdata);
/* WATCH from cursor (0 = new results only): cb gets the WATCH reply
 * ({cursor}); from then on every RESULT goes to the push callback.  One
 * WATCH per connection (HITLQ_EINVAL for a second). */
int hitlq_async_watch(hitlq_async *ac, uint64_t cursor, hitlq_async_cb *cb, void *privdata);

#ifdef __cplusplus
}
#endif

#endif /* HITLQ_ASYNC_H */
