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

/* The longest a clean stop waits for owed replies to be flushed. */
#define SERVER_DRAIN_MS   5000u

struct conn;
struct op;
struct store;
struct scoring;
struct commit;
struct park;
struct http;
struct metrics;
struct srv_metrics;

/*
 * Who may touch what.  hitlqd has two threads (ARCHITECTURE.md): the loop
 * thread (libevent: sockets, decoding, scoring, reads, replies) and the
 * commit thread (server/cmd/commit.c: the LMDB write transaction).  Fields
 * marked [L] belong to the loop thread alone; [C] to the commit thread
 * while it holds a batch; [R] are set before the threads start and only
 * read afterwards (by either); [*] say how they are shared.
 */
struct hitlq_server {
    const struct hitlq_config *cfg;      /* [R] borrowed from main */
    struct event_base     *base;         /* [L] owned: the loop thread's event loop */
    struct net             net;          /* [L] listener, TLS, connections, limits;
                                          * its hooks lead to dispatch.c and park.c */
    struct store          *store;        /* [R] owned: the environment and dbi handles;
                                          * write txns only on [C], read txns on [L] */
    struct scoring        *scoring;      /* [L] owned: the policy set in force.  RELOAD
                                          * replaces it on the loop thread after the
                                          * durable commit (cmd_admin.c); ops carry
                                          * what they scored, so [C] never reads it */
    struct commit         *commit;       /* [*] owned: the group-commit thread; its
                                          * hand-over is locked (commit.c) */

    struct event          *timer_ev;     /* [L] next lease expiry / delayed release */
    uint64_t               timer_due_ms; /* [L] what timer_ev is armed for; 0 = none */
    bool                   expire_inflight; /* [L] an EXPIRE op is in the pipeline */

    struct park           *park;         /* [L] owned: requests answered later (park.h) */
    struct session_later  *later;        /* [L] deferred refusals/closes (session_auth.c) */
    struct audit          *audit;        /* [*] owned: the signed audit log; NULL when off.
                                          * Entries are appended on [C] inside the
                                          * batch's txn; reads on [L] use their own txn
                                          * and the published checkpoint (audit.h) */

    MDB_txn               *rtxn;         /* [L] reusable read txn (reset when idle) */
    msgpack_sbuffer        out;          /* [L] scratch for building reply frames
                                          * (lent to net: conn_flush_out sends it) */
    msgpack_packer         pk;           /* [L] packs into `out` */

    struct event          *sig_int, *sig_term, *sig_hup;  /* [L] */
    bool                   reloading;    /* [L] a RELOAD op is in the pipeline */
    struct event          *reader_ev;    /* [L] periodic mdb_reader_check */
    bool                   stopping;     /* [L] set together with net.stopping */
    bool                   failed;       /* [L] storage failed: exit non-zero */
    int                    stop_signal;  /* [L] the signal that stopped it, 0 = none */
    struct event          *drain_ev;     /* [L] the clean stop's check (server.c) */
    uint64_t               drain_end_ns; /* [L] monotonic deadline of that stop */
    struct log_watch      *log_watch;    /* [L] owned: rate-limited and periodic log
                                          * events (log_watch.h) */

    uint64_t               n_batches, n_ops;   /* [L] counters for STATS/bench */

    struct auth           *auth;         /* [L] owned: credentials, HELLO/AUTH verdicts
                                          * (auth.h) */
    struct drift_live     *drift;        /* [C] owned: input-drift sums of the batch
                                          * (drift_commit.c); freed after the thread */
    struct http           *http;         /* [L] owned: the HTTP listener (server/http/http.h);
                                          * NULL when http_listen is "" */
    struct metrics        *metrics;      /* [*] owned: the registry (server/util/metrics.h);
                                          * families fixed before the threads start,
                                          * updates atomic from either thread */
    struct srv_metrics    *m;            /* [R] owned: the series handles the commands
                                          * update (server/cmd/metrics_reg.h) */
    struct metrics_feed   *feed;         /* [C] owned: the store's journal observer
                                          * feeding the metrics (metrics_feed.h) */
};

/* Creates the server: event base, scoring, TLS context, store, audit log,
 * auth, commit thread, parked-request lists, and arms the expiry timer.
 * Returns NULL with a message in err. */
struct hitlq_server *server_new(const struct hitlq_config *cfg, char *err, size_t errlen);
/* Binds cfg->listen (srv->net.port gets the bound port) and, when
 * configured, http_listen (http_port(srv->http)).  0 or -1. */
int  server_listen(struct hitlq_server *srv, char *err, size_t errlen);
/* Runs the event loop until SIGINT/SIGTERM (or server_fail), then stops
 * cleanly: no new connection, every request already read or read during
 * the stop answered `shutting_down` unless it was taken before the stop,
 * every write in the commit pipeline committed (or failed) and answered,
 * replies flushed; at most SERVER_DRAIN_MS.  Returns 0 or -1. */
int  server_run(struct hitlq_server *srv);
void server_free(struct hitlq_server *srv);          /* NULL is a no-op */

/* Read txn for the loop thread: begin (renew) and end (reset). */
MDB_txn *server_read_begin(struct hitlq_server *srv);
void     server_read_end(struct hitlq_server *srv);

/* A durable write failed in a way that leaves the page cache suspect
 * (e.g. EIO from the sync): stop serving and exit non-zero, so that a
 * supervisor restarts from what is really on disk (docs/RELIABILITY.md §2.4). */
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
