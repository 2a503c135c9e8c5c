/*
 * net.h - hitlqd's network layer: the listener (address parsing; no
 * plaintext off loopback unless allowed), the connection limits checked
 * at accept, the TLS context, the list of open connections, and the
 * scratch buffer replies are packed into.  It knows frames, connections,
 * TLS and limits, and no command: its owner (the command layer,
 * server/cmd/server.c) registers hooks that get each complete frame and
 * hear when a connection closes or its output drains.  Loop thread only.
 */
#ifndef HITLQ_NET_H
#define HITLQ_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <msgpack.h>

#include "config.h"
#include "frame.h"
#include "net_log.h"

struct conn;
struct hitlq_server;        /* the owner: opaque to this layer */

/* What the owner is told.  Every hook is called on the loop thread. */
struct net_hooks {
    /* One complete frame of c (its size within the limit for c's state);
     * body is borrowed for the call.  c may be closed on return. */
    void (*on_frame)(struct conn *c, const struct frame_hdr *h, const uint8_t *body);
    /* c is closing: its socket is gone, the struct lives on while
     * referenced.  The owner drops what waits on c.  May be NULL. */
    void (*on_close)(struct conn *c);
    /* c's output fell to CONN_OUT_PAUSE / 2 (conn.h) or below (it can
     * take more).  Must not close c.  May be NULL. */
    void (*on_drain)(struct conn *c);
};

struct net {
    const struct hitlq_config *cfg;    /* borrowed: listen, limits, timeouts, TLS files */
    struct event_base     *base;       /* borrowed: the owner's event loop */
    struct evconnlistener *listener;   /* owned; NULL until net_listen, after net_stop */
    uint16_t               port;       /* bound port (after net_listen) */
    struct ssl_ctx_st     *tls_ctx;    /* owned SSL_CTX for new connections
                                        * (tls.c); NULL = plaintext */
    struct conn           *conns;      /* open connections, newest first */
    size_t                 n_conns;
    bool                   stopping;   /* refuse new connections */
    struct event          *backlog_ev; /* owned: runs the backlog next pass */
    struct conn           *backlog, *backlog_tail; /* connections with frames
                                        * left over from their last go (conn.c) */
    struct net_log         log;        /* rate-limited summaries (net_log.h) */
    /* Set by the owner (net_set_owner): */
    struct net_hooks       hooks;
    struct hitlq_server   *owner;      /* never dereferenced here; each conn's srv */
    msgpack_sbuffer       *out;        /* borrowed: scratch for reply frames, sent
                                        * by conn_flush_out */
    msgpack_packer        *pk;         /* borrowed: packs into out */
};

/* Sets n up (zeroed first) on base for cfg, and builds the TLS context
 * when cfg has a tls_cert (logged).  Nothing listens yet.  0, or -1 with
 * the reason in err (n then holds nothing: net_free is still allowed). */
int  net_init(struct net *n, struct event_base *base, const struct hitlq_config *cfg,
              char *err, size_t errlen);

/* Registers the owner: its hooks, the pointer each connection carries as
 * srv, and the reply scratch buffer (out, with pk packing into it) that
 * conn_flush_out sends.  Before net_listen. */
void net_set_owner(struct net *n, const struct net_hooks *hooks, struct hitlq_server *owner,
                   msgpack_sbuffer *out, msgpack_packer *pk);

/* Binds cfg->listen ("host:port" or "[v6]:port", port 0 = any) and starts
 * accepting; n->port gets the bound port.  Refuses plaintext on a
 * non-loopback address unless insecure_plaintext.  0, or -1 with err. */
int  net_listen(struct net *n, char *err, size_t errlen);

/* Refuses new connections from now on and closes the listener (open
 * connections stay). */
void net_stop(struct net *n);

/* Closes every connection (on_close runs for each), the listener, and
 * frees the TLS context; writes the summary lines still owed.  Connections still referenced are freed by their
 * last conn_unref. */
void net_free(struct net *n);

#endif
