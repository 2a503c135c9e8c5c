/*
 * server.h - the hitlqd daemon, assembled: one struct passed explicitly to
 * everything (no globals) holding the network layer (server/net/net.h),
 * the store, scoring, audit log, auth, the commit thread, parked requests
 * (park.h), the expiry timer, signals and the loop thread's read
 * transaction; and the daemon's lifecycle.
 */
#ifndef HITLQ_SERVER_H
#define HITLQ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <lmdb.h>
#include <msgpack.h>

#include "config.h"
#include "net.h"

/* Event priorities: the group-commit hand-over runs after every I/O
 * callback of an event-loop pass, so one batch holds all of that pass. */
#define SERVER_N_PRIOS    3
#define SERVER_PRIO_LAST  2

struct conn;
struct op;
struct store;
struct scoring;
struct commit;
struct park;

struct hitlq_server {
    const struct hitlq_config *cfg;      /* borrowed from main */
    struct event_base     *base;         /* owned: the loop thread's event loop */
    struct net             net;          /* listener, TLS, connections, limits;
                                          * its hooks lead to dispatch.c and park.c */
    struct store          *store;        /* owned */
    struct scoring        *scoring;      /* owned; immutable while running */
    struct commit         *commit;       /* owned: the group-commit thread */

    struct event          *timer_ev;     /* next lease expiry / delayed release */
    uint64_t               timer_due_ms; /* what timer_ev is armed for; 0 = none */
    bool                   expire_inflight;

    struct park           *park;         /* owned: requests answered later (park.h) */
    struct session_later  *later;        /* deferred refusals/closes (cmd/session_auth.c) */
    struct audit          *audit;        /* owned: the signed audit log; NULL when off */

    MDB_txn               *rtxn;         /* loop thread's reusable read txn (reset when idle) */
    msgpack_sbuffer        out;          /* scratch for building reply frames
                                          * (lent to net: conn_flush_out sends it) */
    msgpack_packer         pk;           /* packs into `out` */

    struct event          *sig_int, *sig_term, *sig_hup;
    bool                   reloading;    /* a RELOAD op is in the pipeline */
    struct event          *reader_ev;    /* periodic mdb_reader_check */
    bool                   stopping;     /* set together with net.stopping */
    bool                   failed;       /* storage failed: exit non-zero */

    /* Counters for STATS/bench: loop thread only. */
    uint64_t               n_batches, n_ops;

    struct auth           *auth;         /* owned: API keys, HELLO checks (auth.h) */
};

/* Creates the server: event base, scoring, TLS context, store, audit log,
 * auth, commit thread, parked-request lists, and arms the expiry timer.
 * Returns NULL with a message in err. */
struct hitlq_server *server_new(const struct hitlq_config *cfg, char *err, size_t errlen);
/* Binds cfg->listen; srv->net.port gets the bound port.  0 or -1. */
int  server_listen(struct hitlq_server *srv, char *err, size_t errlen);
/* Runs the event loop until SIGINT/SIGTERM.  Returns 0 or -1. */
int  server_run(struct hitlq_server *srv);
void server_free(struct hitlq_server *srv);          /* NULL is a no-op */

/* Read txn for the loop thread: begin (renew) and end (reset). */
MDB_txn *server_read_begin(struct hitlq_server *srv);
void     server_read_end(struct hitlq_server *srv);

/* A durable write failed in a way that leaves the page cache suspect
 * (e.g. EIO from the sync): stop serving and exit non-zero, so that a
 * supervisor restarts from what is really on disk (RELIABILITY.md §2.4). */
void server_fail(struct hitlq_server *srv, const char *why);

/* cmd_admin.c: loads the configured policy and models anew and, if they
 * load, installs them through the commit pipeline (POLICY_CHANGE /
 * MODEL_REGISTERED entries in the same transaction).  c == NULL: from
 * SIGHUP (the outcome is logged).  On error nothing changes: 0 or -1
 * with the reason in err (also logged). */
int  server_reload(struct hitlq_server *srv, struct conn *c, uint32_t request_id,
                   char *err, size_t errlen);

/* (Re)arms the expiry timer for due_ms (0 = disarm). */
void server_arm_timer(struct hitlq_server *srv, uint64_t due_ms);

#endif
