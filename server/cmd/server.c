/*
 * server.c - the daemon assembled (server.h): the event loop, scoring,
 * the network layer and its hooks (frames to dispatch.c; closed
 * connections and drained output to park.c), store, audit log, auth, the
 * commit thread, parked requests, the lease-expiry timer, signals and
 * SIGHUP reload, storage failure, the loop thread's read transaction, and
 * the shutdown order.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "audit.h"
#include "auth.h"
#include "cmd_four_eyes.h"
#include "cmd.h"
#include "cmd_audit_policy.h"
#include "commit.h"
#include "dash_api.h"
#include "conn.h"
#include "dispatch.h"
#include "http.h"
#include "http_ops.h"
#include "metrics.h"
#include "metrics_feed.h"
#include "metrics_reg.h"
#include "log.h"
#include "log_watch.h"
#include "net.h"
#include "park.h"
#include "score.h"
#include "server.h"
#include "sla_fx.h"
#include "store.h"
#include "store_clock.h"
#include "tls.h"
#include "util.h"

/* net hook: a connection is closing; what is parked on it goes. */
static void
server_on_conn_close(struct conn *c)
{
    park_cancel(c->srv->park, c);
}

/* net hook: a connection's output drained; parked streams may push. */
static void
server_on_conn_drain(struct conn *c)
{
    park_drain(c->srv->park, c);
}

/* net hook: a frame.  While stopping, nothing new is taken: the request
 * is answered `shutting_down` (nothing was done). */
static void
server_on_frame(struct conn *c, const struct frame_hdr *h, const uint8_t *body)
{
    if (c->srv->stopping) {
        conn_send_error(c, h->opcode, h->request_id, HITLQ_ST_SHUTTING_DOWN,
                        "the server is stopping; this request was not processed");
        return;
    }
    dispatch_frame(c, h, body);
}

static const struct net_hooks server_net_hooks = {
    .on_frame = server_on_frame,
    .on_close = server_on_conn_close,
    .on_drain = server_on_conn_drain,
};

static void
server_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct hitlq_server *srv = arg;

    (void)fd;
    (void)what;
    srv->timer_due_ms = 0;
    expire_start(srv);
}

void
server_arm_timer(struct hitlq_server *srv, uint64_t due_ms)
{
    uint64_t now = util_now_ms(), d;
    struct timeval tv;

    if (due_ms == srv->timer_due_ms && due_ms != 0)
        return;
    evtimer_del(srv->timer_ev);
    srv->timer_due_ms = due_ms;
    if (due_ms == 0)
        return;
    d = due_ms > now ? due_ms - now : 0;
    tv.tv_sec = (time_t)(d / 1000);
    tv.tv_usec = (suseconds_t)((d % 1000) * 1000);
    evtimer_add(srv->timer_ev, &tv);
}

/* True when nothing is owed: the commit pipeline is empty and every
 * connection's replies are flushed and its input is consumed. */
static bool
server_drained(struct hitlq_server *srv)
{
    if (srv->commit != NULL && !commit_idle(srv->commit))
        return false;
    for (const struct conn *c = srv->net.conns; c != NULL; c = c->next) {
        if (c->bev == NULL)
            continue;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
            (c->reading && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0))
            return false;
    }
    return true;
}

/* The clean stop's tick: ends the event loop once nothing is owed, or
 * at the deadline. */
static void
server_on_drain(evutil_socket_t fd, short what, void *arg)
{
    struct hitlq_server *srv = arg;
    struct timeval tick = { 0, 10000 };
    bool done = server_drained(srv);

    (void)fd;
    (void)what;
    if (done || util_mono_ns() >= srv->drain_end_ns) {
        if (!done)
            log_warn("stop: replies still unsent after %u ms; closing anyway", SERVER_DRAIN_MS);
        event_base_loopexit(srv->base, NULL);
        return;
    }
    evtimer_add(srv->drain_ev, &tick);
}

/* Stops serving: no new connection is taken, nothing new is parked or
 * submitted, requests still arriving are answered `shutting_down`, and
 * the event loop ends once what was taken is answered (server_on_drain). */
static void
server_stop(struct hitlq_server *srv)
{
    struct timeval now = { 0, 0 };

    if (srv->stopping && srv->drain_end_ns != 0)
        return;
    srv->stopping = true;
    srv->net.stopping = true;
    net_stop(&srv->net);
    srv->drain_end_ns = util_mono_ns() + (uint64_t)SERVER_DRAIN_MS * 1000000u;
    if (srv->drain_ev == NULL || evtimer_add(srv->drain_ev, &now) != 0)
        event_base_loopexit(srv->base, NULL);
}

static void
server_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct hitlq_server *srv = arg;

    (void)what;
    log_event(LOG_LVL_INFO, "stopping", "signal received, shutting down",
              LOG_INT("signal", (int)sig), LOG_STR("name", strsignal((int)sig)));
    srv->stop_signal = (int)sig;
    server_stop(srv);
}

void
server_fail(struct hitlq_server *srv, const char *why)
{
    if (srv->failed)
        return;
    log_event(LOG_LVL_ERROR, "storage_failure",
              "stopping (nothing unacknowledged was acknowledged)", LOG_STR("reason", why));
    srv->failed = true;
    server_stop(srv);
}

/* SIGHUP: reload the policy and models, and the TLS certificate and key
 * (the outcomes are logged; a file that fails keeps what was loaded). */
static void
server_on_hup(evutil_socket_t fd, short what, void *arg)
{
    struct hitlq_server *srv = arg;
    char err[512];

    (void)fd;
    (void)what;
    server_reload(srv, NULL, 0, err, sizeof(err));
    if (srv->net.tls_ctx == NULL)
        return;
    if (tls_reload(&srv->net.tls_ctx, srv->cfg, err, sizeof(err)) != 0)
        log_error("TLS reload failed, keeping the previous certificate: %s", err);
    else
        log_info("TLS: reloaded %s (new connections use it)", srv->cfg->tls_cert);
}

/* Clears reader slots left by dead processes (docs/RELIABILITY.md §2.2). */
static void
server_on_reader_check(evutil_socket_t fd, short what, void *arg)
{
    struct hitlq_server *srv = arg;
    int dead = 0;

    (void)fd;
    (void)what;
    if (mdb_reader_check(srv->store->env, &dead) == 0 && dead > 0)
        log_warn("cleared %d stale LMDB reader slot(s)", dead);
}

MDB_txn *
server_read_begin(struct hitlq_server *srv)
{
    int rc;

    if (srv->rtxn == NULL)
        rc = mdb_txn_begin(srv->store->env, NULL, MDB_RDONLY, &srv->rtxn);
    else
        rc = mdb_txn_renew(srv->rtxn);
    if (rc != 0) {
        log_error("read txn: %s", mdb_strerror(rc));
        if (rc == MDB_PANIC)          /* the environment is gone: stop */
            server_fail(srv, mdb_strerror(rc));
        if (srv->rtxn) {
            mdb_txn_abort(srv->rtxn);
            srv->rtxn = NULL;
        }
        return NULL;
    }
    return srv->rtxn;
}

void
server_read_end(struct hitlq_server *srv)
{
    if (srv->rtxn)
        mdb_txn_reset(srv->rtxn);
}

static int
server_init_events(struct hitlq_server *srv)
{
    srv->base = event_base_new();
    if (srv->base == NULL || event_base_priority_init(srv->base, SERVER_N_PRIOS) != 0)
        return -1;
    srv->timer_ev = evtimer_new(srv->base, server_on_timer, srv);
    srv->sig_int = evsignal_new(srv->base, SIGINT, server_on_signal, srv);
    srv->sig_term = evsignal_new(srv->base, SIGTERM, server_on_signal, srv);
    srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_on_hup, srv);
    srv->reader_ev = event_new(srv->base, -1, EV_PERSIST, server_on_reader_check, srv);
    srv->drain_ev = evtimer_new(srv->base, server_on_drain, srv);
    if (srv->drain_ev != NULL)
        event_priority_set(srv->drain_ev, SERVER_PRIO_LAST);
    if (srv->timer_ev == NULL || srv->sig_int == NULL || srv->sig_term == NULL ||
        srv->sig_hup == NULL || srv->reader_ev == NULL)
        return -1;
    evsignal_add(srv->sig_int, NULL);
    evsignal_add(srv->sig_term, NULL);
    evsignal_add(srv->sig_hup, NULL);
    return 0;
}

/* The audit setting is fixed when a store is created: a log with gaps
 * (decisions made while it was off) would prove nothing. */
static int
server_audit_mode(struct hitlq_server *srv, char *err, size_t errlen)
{
    uint64_t mode = 0;
    MDB_txn *txn = NULL;
    MDB_val k = { 10, (void *)"audit_mode" }, v;
    int rc = mdb_txn_begin(srv->store->env, NULL, 0, &txn);

    if (rc == 0 && (rc = mdb_get(txn, srv->store->meta, &k, &v)) == MDB_NOTFOUND) {
        uint8_t b = srv->cfg->audit ? 1 : 0;
        v = (MDB_val){ 1, &b };
        rc = mdb_put(txn, srv->store->meta, &k, &v, 0);
        mode = b;
    } else if (rc == 0) {
        mode = v.mv_size == 1 ? ((const uint8_t *)v.mv_data)[0] : 2;
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else if (txn != NULL)
        mdb_txn_abort(txn);
    if (rc != 0) {
        snprintf(err, errlen, "store: audit mode: %s", mdb_strerror(rc));
        return -1;
    }
    if (mode != srv->cfg->audit) {
        snprintf(err, errlen, "this data directory was created with audit = %u; it cannot "
                 "run with audit = %u (the log would have gaps)", (unsigned)mode,
                 (unsigned)srv->cfg->audit);
        return -1;
    }
    return 0;
}

static MDB_txn *
server_http_read_begin(void *owner)
{
    return server_read_begin(owner);
}

static void
server_http_read_end(void *owner)
{
    server_read_end(owner);
}

/* The metrics registry (before the commit thread starts: it updates
 * series) and the HTTP listener with its routes (server/cmd/http_ops.c). */
static int
server_http_new(struct hitlq_server *srv, char *err, size_t errlen)
{
    const struct http_hooks hooks = { server_http_read_begin, server_http_read_end, srv };

    if ((srv->metrics = metrics_new()) == NULL ||
        (srv->m = metrics_reg_new(srv->metrics)) == NULL ||
        (srv->feed = metrics_feed_new(srv)) == NULL) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    /* server_audit_mode has just committed a write transaction */
    atomic_store(&srv->m->health.commit_ok_ms, util_now_ms());
    srv->m->health.start_ms = util_now_ms();
    if (http_new(&srv->http, srv->base, srv->cfg, srv->auth, &srv->net.tls_ctx, &hooks, err,
                 errlen) != 0)
        return -1;
    if (http_ops_register(srv, err, errlen) != 0)
        return -1;
    return dash_routes_register(srv, err, errlen);   /* the live dashboard */
}

struct hitlq_server *
server_new(const struct hitlq_config *cfg, char *err, size_t errlen)
{
    struct hitlq_server *srv = calloc(1, sizeof(*srv));
    MDB_txn *txn;

    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = cfg;
    msgpack_sbuffer_init(&srv->out);
    msgpack_packer_init(&srv->pk, &srv->out, msgpack_sbuffer_write);
    if (server_init_events(srv) != 0) {
        snprintf(err, errlen, "cannot create the event loop");
        goto fail;
    }
    if (scoring_load(&srv->scoring, cfg->policy[0] ? cfg->policy : NULL, err, errlen) != 0)
        goto fail;
    if (net_init(&srv->net, srv->base, cfg, err, errlen) != 0)
        goto fail;
    net_set_owner(&srv->net, &server_net_hooks, srv, &srv->out, &srv->pk);
    if (store_open(&srv->store, cfg->data_dir, cfg->map_size_mb << 20, err, errlen) != 0)
        goto fail;
    (void)store_clock_resume(srv->store);     /* never start behind the store's time */
    if (server_audit_mode(srv, err, errlen) != 0)
        goto fail;
    if (cfg->audit &&
        cmd_audit_open(&srv->audit, srv->store, cfg, srv->scoring, err, errlen) != 0)
        goto fail;
    if (auth_open(&srv->auth, srv->store, srv->audit, cfg, err, errlen) != 0)
        goto fail;
    four_eyes_warn_auth(srv);
    if (server_http_new(srv, err, errlen) != 0 || sla_fx_recount(srv, err, errlen) != 0)
        goto fail;
    if ((srv->park = park_new(srv)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    srv->commit = commit_start(srv, err, errlen);
    if (srv->commit == NULL)
        goto fail;
    {
        struct timeval ten = { 10, 0 };
        evtimer_add(srv->reader_ev, &ten);
    }
    if ((srv->log_watch = log_watch_new(srv)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    txn = server_read_begin(srv);
    if (txn != NULL) {
        server_arm_timer(srv, queue_next_timer(srv->store, txn));
        server_read_end(srv);
    }
    return srv;
fail:
    server_free(srv);
    return NULL;
}

int
server_listen(struct hitlq_server *srv, char *err, size_t errlen)
{
    if (net_listen(&srv->net, err, errlen) != 0)
        return -1;
    return srv->http != NULL ? http_listen(srv->http, err, errlen) : 0;
}

int
server_run(struct hitlq_server *srv)
{
    int rc = event_base_dispatch(srv->base);

    srv->stopping = true;
    net_stop(&srv->net);
    return rc < 0 || srv->failed ? -1 : 0;
}

void
server_free(struct hitlq_server *srv)
{
    if (srv == NULL)
        return;
    srv->stopping = true;
    srv->net.stopping = true;
    if (srv->commit)
        commit_stop(srv->commit);     /* replies of what was in the pipeline */
    metrics_feed_free(srv->feed);     /* the commit thread has stopped */
    park_drop_all(srv->park);         /* parked requests go unanswered */
    http_free(srv->http);             /* its connections: before the event base */
    net_free(&srv->net);              /* the conns, the listener, the TLS context */
    if (srv->rtxn)
        mdb_txn_abort(srv->rtxn);
    audit_close(srv->audit);
    session_later_free_all(srv);      /* after the conns (deferred refusals hold refs) */
    auth_close(srv->auth);
    store_close(srv->store);
    scoring_free(srv->scoring);
    park_free(srv->park);             /* after the conns: their closes look at it */
    log_watch_free(srv->log_watch);   /* after the pipeline: owed summary lines */
    if (srv->timer_ev)
        event_free(srv->timer_ev);
    if (srv->sig_int)
        event_free(srv->sig_int);
    if (srv->sig_term)
        event_free(srv->sig_term);
    if (srv->sig_hup)
        event_free(srv->sig_hup);
    if (srv->reader_ev)
        event_free(srv->reader_ev);
    if (srv->drain_ev)
        event_free(srv->drain_ev);
    if (srv->base)
        event_base_free(srv->base);
    msgpack_sbuffer_destroy(&srv->out);
    metrics_reg_free(srv->m);
    metrics_free(srv->metrics);
    free(srv);
}
