/*
 * server.c - the server context and its lifecycle: event base, listener,
 * store, scoring, commit thread, expiry timer, signals, and the loop
 * thread's reusable read transaction.
 */
#include <errno.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "log.h"
#include "score.h"
#include "server.h"
#include "audit.h"
#include "cmd_audit_policy.h"
#include "auth.h"
#include "store.h"
#include "tls.h"
#include "util.h"

static void
server_on_accept(struct evconnlistener *l, evutil_socket_t fd,
                 struct sockaddr *sa, int salen, void *arg)
{
    struct hitlq_server *srv = arg;
    char ip[48];
    uint64_t same = 0;

    (void)l;
    if (srv->stopping || srv->n_conns >= srv->cfg->max_connections) {
        log_warn("refusing connection: %s", srv->stopping ? "stopping"
                                                          : "max_connections reached");
        evutil_closesocket(fd);
        return;
    }
    conn_addr_str(sa, ip);
    for (const struct conn *c = srv->conns; c != NULL; c = c->next)
        same += strcmp(c->ip, ip) == 0;
    if (same >= srv->cfg->max_connections_per_addr) {
        log_warn("refusing connection from %s: max_connections_per_addr (%llu) reached",
                 ip, (unsigned long long)srv->cfg->max_connections_per_addr);
        evutil_closesocket(fd);
        return;
    }
    if (conn_new(srv, fd, sa, salen) == NULL)
        log_error("cannot set up a connection: out of memory");
}

static void
server_on_accept_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    log_warn("accept: %s", strerror(errno));
}

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

static void
server_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct hitlq_server *srv = arg;

    (void)what;
    log_info("signal %d: shutting down", (int)sig);
    srv->stopping = true;
    event_base_loopexit(srv->base, NULL);
}

void
server_fail(struct hitlq_server *srv, const char *why)
{
    if (srv->failed)
        return;
    log_error("storage failure: %s; stopping (nothing unacknowledged was acknowledged)", why);
    srv->failed = true;
    srv->stopping = true;
    event_base_loopexit(srv->base, NULL);
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
    if (srv->tls_ctx == NULL)
        return;
    if (tls_reload(&srv->tls_ctx, srv->cfg, err, sizeof(err)) != 0)
        log_error("TLS reload failed, keeping the previous certificate: %s", err);
    else
        log_info("TLS: reloaded %s (new connections use it)", srv->cfg->tls_cert);
}

/* Clears reader slots left by dead processes (RELIABILITY.md §2.2). */
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
    if (cfg->tls_cert[0] != '\0') {
        if ((srv->tls_ctx = tls_ctx_new(cfg, err, errlen)) == NULL)
            goto fail;
        log_info("TLS on: %s, TLS %s or later%s", cfg->tls_cert, cfg->tls_min_version,
                 cfg->tls_client_ca[0] ? ", client certificates required" : "");
    }
    if (store_open(&srv->store, cfg->data_dir, cfg->map_size_mb << 20, err, errlen) != 0)
        goto fail;
    if (server_audit_mode(srv, err, errlen) != 0)
        goto fail;
    if (cfg->audit &&
        cmd_audit_open(&srv->audit, srv->store, cfg, srv->scoring, err, errlen) != 0)
        goto fail;
    if (auth_open(&srv->auth, srv->store, srv->audit, cfg, err, errlen) != 0)
        goto fail;
    srv->commit = commit_start(srv, err, errlen);
    if (srv->commit == NULL)
        goto fail;
    {
        struct timeval ten = { 10, 0 };
        evtimer_add(srv->reader_ev, &ten);
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

/* Parses "host:port" or "[v6]:port" (port 0 allowed) into ss. */
static int
server_parse_listen(const char *spec, struct sockaddr_storage *ss, int *sslen)
{
    char host[128];
    const char *colon = strrchr(spec, ':');
    uint64_t port;
    size_t hl;

    if (colon == NULL || util_parse_u64(colon + 1, 0, 65535, &port) != 0)
        return -1;
    hl = (size_t)(colon - spec);
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
        spec++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(host))
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
        *sslen = sizeof(struct sockaddr_in);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -1;
}

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static bool
server_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

int
server_listen(struct hitlq_server *srv, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    socklen_t len = sizeof(ss);

    if (server_parse_listen(srv->cfg->listen, &ss, &sslen) != 0) {
        snprintf(err, errlen, "listen: cannot parse \"%s\" (want IPv4:port or [IPv6]:port)",
                 srv->cfg->listen);
        return -1;
    }
    if (srv->tls_ctx == NULL && !srv->cfg->insecure_plaintext && !server_is_loopback(&ss)) {
        snprintf(err, errlen, "listen %s: refusing to serve plaintext on a non-loopback "
                 "address; set tls_cert and tls_key (scripts/make-certs.sh makes test "
                 "certificates), or insecure_plaintext = 1 to allow it", srv->cfg->listen);
        return -1;
    }
    srv->listener = evconnlistener_new_bind(srv->base, server_on_accept, srv,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                            LEV_OPT_CLOSE_ON_EXEC, 511,
                                            (struct sockaddr *)&ss, sslen);
    if (srv->listener == NULL) {
        snprintf(err, errlen, "listen on %s: %s", srv->cfg->listen, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(srv->listener, server_on_accept_error);
    len = sizeof(ss);
    getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &len);
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int
server_run(struct hitlq_server *srv)
{
    int rc = event_base_dispatch(srv->base);

    srv->stopping = true;
    if (srv->listener) {
        evconnlistener_free(srv->listener);
        srv->listener = NULL;
    }
    return rc < 0 || srv->failed ? -1 : 0;
}

void
server_free(struct hitlq_server *srv)
{
    if (srv == NULL)
        return;
    srv->stopping = true;
    if (srv->commit)
        commit_stop(srv->commit);
    claim_free_all_waiters(srv);
    receipt_free_all(srv);
    while (srv->conns)
        conn_close(srv->conns);
    if (srv->listener)
        evconnlistener_free(srv->listener);
    if (srv->rtxn)
        mdb_txn_abort(srv->rtxn);
    audit_close(srv->audit);
    session_later_free_all(srv);      /* after the conns (deferred refusals hold refs) */
    auth_close(srv->auth);
    store_close(srv->store);
    scoring_free(srv->scoring);
    SSL_CTX_free(srv->tls_ctx);       /* after the conns: NULL is a no-op */
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
    if (srv->base)
        event_base_free(srv->base);
    msgpack_sbuffer_destroy(&srv->out);
    free(srv);
}
