/*
 * conn.h - one client connection: its state machine, framed input with
 * limits checked before buffering, flow control (in-flight cap, output
 * cap), replies, and reference counting so that requests the owner still
 * holds (in its commit pipeline, parked) never touch a freed connection.
 * What arrives, what closes and what drains is handed to the owner
 * through the hooks of its struct net (net.h).
 */
#ifndef HITLQ_CONN_H
#define HITLQ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/util.h>
#include <msgpack.h>

#include "auth.h"
#include "hitlq_proto.h"

struct hitlq_server;
struct net;

enum conn_state {
    CONN_NEW = 0,    /* connected, waiting for HELLO */
    CONN_READY,      /* HELLO done: any request */
    CONN_CLOSING,    /* fatal error sent: flush output, then close */
    CONN_CLOSED,     /* socket gone; struct lives until the last ref */
    CONN_CHALLENGED  /* HELLO answered with a nonce: only AUTH (or PING) */
};

struct conn {
    struct net          *net;          /* borrowed: the layer it belongs to */
    struct hitlq_server *srv;          /* borrowed: net->owner, for the owner's
                                        * code; never dereferenced in server/net */
    struct bufferevent  *bev;          /* owned; NULL once closed */
    enum conn_state      state;
    unsigned             refs;         /* 1 for the socket + 1 per holder (an op,
                                        * a parked request, ...) */
    uint32_t             inflight;     /* requests without a reply yet */
    bool                 reading;      /* EV_READ enabled */
    char                 name[HITLQ_MAX_NAME + 1];   /* HELLO name */
    char                 peer[64];     /* "ip:port", for logs */
    msgpack_zone         zone;         /* per-frame unpack zone, reused */
    const uint8_t       *frame_body;   /* body of the frame being dispatched
                                        * (borrowed; valid during dispatch) */
    size_t               frame_len;
    struct event        *frame_ev;     /* owned: deadline of a started frame */
    struct event        *stall_ev;     /* owned: output not taken (slow reader) */
    size_t               stall_out;    /* unsent bytes when stall_ev was armed for
                                        * a read pause (progress reference) */
    bool                 stall_cap;    /* stall_ev runs for output over the cap */
    struct conn         *prev, *next;  /* net->conns list */
    /* TLS (server/net/tls.c); all unused on a plaintext listener */
    struct event        *hs_ev;        /* owned: handshake deadline; NULL once done */
    char                 tls_peer[129]; /* verified client certificate's CN/SAN
                                         * (mutual TLS), "" when none */
    struct auth_ident    auth;         /* who this is (server/auth/auth.h): role,
                                        * key id, skills; set by HELLO/AUTH */
    uint8_t              nonce[32];    /* HELLO's challenge (CONN_CHALLENGED);
                                        * wiped when AUTH consumes it */
    /* limits */
    char                 ip[48];       /* peer address without port */
    struct event        *hello_ev;     /* owned: HELLO deadline; NULL once ready */
    struct event        *idle_ev;      /* owned: idle check; NULL when off */
    uint64_t             last_frame_ms;/* when the last frame arrived */
    /* fairness (net.h): budgets and round-robin */
    bool                 preauth;      /* not authenticated yet (counts against
                                        * max_unauthenticated); false once READY */
    bool                 heard;        /* some bytes arrived (evicted last) */
    bool                 queued;       /* in net's backlog (holds a reference) */
    struct conn         *rr_next;      /* next in net's backlog */
};

/* Most frames of one connection answered at once (GET, PING, errors...)
 * in one go; the rest wait for the next event-loop pass, round-robin with
 * every other connection.  Frames that wait for a durable commit do not
 * count: HITLQ_MAX_INFLIGHT bounds them, and the group commit wants a
 * pipelining writer's whole window staged in one pass (its batches). */
#define CONN_FRAMES_PER_PASS 4
/* Unsent reply bytes at which reading pauses until they drain to half
 * (the write callback's low watermark): a client that does not read its
 * replies is served this much, not HITLQ_MAX_OUTBUF plus the kernel's
 * buffers.  HITLQ_MAX_OUTBUF stays the hard cap (one go may pass this). */
#define CONN_OUT_PAUSE   (256u * 1024u)
/* Unsent bytes the kernel holds for a connection (TCP_NOTSENT_LOWAT): the
 * rest waits in the bufferevent, where CONN_OUT_PAUSE sees it.  Bytes in
 * flight on the network are not counted: throughput is unchanged. */
#define CONN_NOTSENT_LOWAT (128 * 1024)
/* Most frames answered at once in one backlog run (a loop pass stays
 * short whatever the number of busy connections); the rest, next run. */
#define CONN_FRAMES_PER_RUN  16

/* The address part (no port) of sa into out[48]. */
void conn_addr_str(const struct sockaddr *sa, char out[48]);

/* A new connection of n (first in n->conns), reading.  Takes ownership
 * of fd.  Returns NULL (fd closed) on failure. */
struct conn *conn_new(struct net *n, evutil_socket_t fd,
                      const struct sockaddr *sa, int salen);

void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* Changes state with a debug trace; every transition goes through here. */
void conn_set_state(struct conn *c, enum conn_state st);

/* True when replies can still be delivered. */
bool conn_is_open(const struct conn *c);

/* Sends net->out's content (one or more whole frames) and clears it. */
void conn_flush_out(struct conn *c);
/* Sends an error frame; fatal statuses also close after the flush. */
void conn_send_error(struct conn *c, uint8_t opcode, uint32_t request_id,
                     int status, const char *message);
/* Stops reading and closes once the output is flushed (a fatal status's
 * close; status and message are logged). */
void conn_close_flushed(struct conn *c, int status, const char *message);
/* An op of this connection got its reply: lower inflight, resume reading. */
void conn_request_done(struct conn *c);
/* Closes now (drops pending output); the owner's on_close hook runs
 * before the socket's reference is dropped. */
void conn_close(struct conn *c);
/* True when c has not sent a byte yet: nothing read (no frame byte, no
 * TLS handshake message), nothing buffered, nothing waiting in its socket
 * (FIONREAD).  Such a connection may be evicted for a newcomer (net.c). */
bool conn_is_silent(const struct conn *c);
/* True when bytes of c wait to be handled: in its input buffer or its
 * socket. */
bool conn_has_input(const struct conn *c);
/* The connection's TLS session (borrowed; for tls_peer_name and
 * tls_exporter), or NULL on a plaintext listener. */
struct ssl_st *conn_ssl(const struct conn *c);
/* The backlog's callback (net->backlog_ev, arg = the struct net): gives
 * the connections that had more buffered than one go allows their next
 * goes (CONN_FRAMES_PER_PASS each), in arrival order, round-robin, until
 * CONN_FRAMES_PER_RUN frames were answered. */
void conn_run_backlog(evutil_socket_t fd, short what, void *arg);
/* Drops the backlog (at the end: no frame of it is handled). */
void conn_backlog_clear(struct net *n);

#endif
