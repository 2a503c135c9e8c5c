/*
 * net.c - the network layer (net.h): TLS context at start, the listener,
 * the per-server and per-address connection limits at accept, and the
 * closing of every connection at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "addr.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "util.h"

/* Who holds the slots, seen from a new connection from ip: the open
 * connections from ip, and the unauthenticated ones in total and from ip. */
struct net_census {
    uint64_t     same, pre, same_pre;
};

static void
net_census(const struct net *n, const char *ip, struct net_census *cs)
{
    memset(cs, 0, sizeof(*cs));
    for (const struct conn *c = n->conns; c != NULL; c = c->next) {
        bool same = strcmp(c->ip, ip) == 0;

        cs->same += same;
        cs->pre += c->preauth;
        cs->same_pre += c->preauth && same;
    }
}

/* The oldest unauthenticated connection (from ip, or any when ip is NULL)
 * that may give way: one that never sent a byte (conn_is_silent); with
 * stalled, else the oldest one with nothing waiting to be read either (a
 * talker stuck mid-HELLO).  NULL when none: a connection whose bytes are
 * here, or may be about to be, is never closed for a newcomer. */
static struct conn *
net_victim(const struct net *n, const char *ip, bool stalled)
{
    struct conn *c = n->conns, *quiet = NULL;

    while (c != NULL && c->next != NULL)          /* to the oldest */
        c = c->next;
    for (; c != NULL; c = c->prev) {
        if (!c->preauth || (ip != NULL && strcmp(c->ip, ip) != 0))
            continue;
        if (conn_is_silent(c))
            return c;
        if (stalled && quiet == NULL && !conn_has_input(c))
            quiet = c;
    }
    return quiet;
}

/* Frees a slot for a newcomer when a limit is full: true if it did. */
static bool
net_evict_for(struct net *n, const char *ip, bool stalled, const char *why)
{
    struct conn *v = net_victim(n, ip, stalled);

    if (v == NULL)
        return false;
    net_log_evicted(&n->log, v->peer, why);    /* "preauth_evicted", 1/s */
    conn_close(v);
    return true;
}

/* Makes room for a new connection from ip.  The unauthenticated budgets
 * are soft: when full, the oldest silent unauthenticated connection (of
 * ip first) gives way; when none is silent the newcomer is let in (talkers
 * are bounded by hello_timeout_ms).  The connection limits are hard: a
 * silent one, else a stalled one gives way, else the newcomer is refused.
 * 0, or -1 with the refused limit's name in *why. */
static int
net_make_room(struct net *n, const char *ip, const char **why)
{
    const struct hitlq_config *cfg = n->cfg;
    struct net_census cs;

    net_census(n, ip, &cs);
    if (cs.same_pre >= cfg->max_unauthenticated_per_addr &&
        net_evict_for(n, ip, false, "max_unauthenticated_per_addr"))
        net_census(n, ip, &cs);
    if (cs.pre >= cfg->max_unauthenticated &&
        net_evict_for(n, NULL, false, "max_unauthenticated"))
        net_census(n, ip, &cs);
    if (cs.same >= cfg->max_connections_per_addr) {
        *why = "max_connections_per_addr";
        if (!net_evict_for(n, ip, true, *why))
            return -1;
    }
    if (n->n_conns >= cfg->max_connections) {
        *why = "max_connections";
        if (!net_evict_for(n, NULL, true, *why))
            return -1;
    }
    return 0;
}

static void
net_on_accept(struct evconnlistener *l, evutil_socket_t fd,
              struct sockaddr *sa, int salen, void *arg)
{
    struct net *n = arg;
    const char *why = "";
    char ip[48];

    (void)l;
    if (n->stopping) {
        log_warn("refusing connection: stopping");
        evutil_closesocket(fd);
        return;
    }
    conn_addr_str(sa, ip);
    if (net_make_room(n, ip, &why) != 0) {
        log_warn("refusing connection from %s: %s reached (none may give way)", ip, why);
        evutil_closesocket(fd);
        return;
    }
    if (conn_new(n, fd, sa, salen) == NULL)
        log_error("cannot set up a connection: out of memory");
}

static void
net_on_accept_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    log_warn("accept: %s", strerror(errno));
}

int
net_init(struct net *n, struct event_base *base, const struct hitlq_config *cfg,
         char *err, size_t errlen)
{
    memset(n, 0, sizeof(*n));
    net_log_init(&n->log);
    n->cfg = cfg;
    n->base = base;
    /* the backlog runs at the loop's lowest priority, with the end-of-pass
     * work (the commit hand-over): a busy pass never starves either */
    n->backlog_ev = evtimer_new(base, conn_run_backlog, n);
    if (n->backlog_ev == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    event_priority_set(n->backlog_ev, event_base_get_npriorities(base) - 1);
    if (cfg->tls_cert[0] == '\0')
        return 0;
    if ((n->tls_ctx = tls_ctx_new(cfg, err, errlen)) == NULL)
        return -1;
    log_info("TLS on: %s, TLS %s or later%s", cfg->tls_cert, cfg->tls_min_version,
             cfg->tls_client_ca[0] ? ", client certificates required" : "");
    return 0;
}

void
net_set_owner(struct net *n, const struct net_hooks *hooks, struct hitlq_server *owner,
              msgpack_sbuffer *out, msgpack_packer *pk)
{
    n->hooks = *hooks;
    n->owner = owner;
    n->out = out;
    n->pk = pk;
}

int
net_listen(struct net *n, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss), len = sizeof(ss);

    if (n->listener != NULL)            /* already listening (an HA follower) */
        return 0;
    if (addr_parse(n->cfg->listen, &ss, &sslen) != 0) {
        snprintf(err, errlen, "listen: cannot parse \"%s\" (want IPv4:port or [IPv6]:port)",
                 n->cfg->listen);
        return -1;
    }
    if (n->tls_ctx == NULL && !n->cfg->insecure_plaintext && !addr_is_loopback(&ss)) {
        snprintf(err, errlen, "listen %s: refusing to serve plaintext on a non-loopback "
                 "address; set tls_cert and tls_key (scripts/make-certs.sh makes test "
                 "certificates), or insecure_plaintext = 1 to allow it", n->cfg->listen);
        return -1;
    }
    n->listener = evconnlistener_new_bind(n->base, net_on_accept, n,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                          LEV_OPT_CLOSE_ON_EXEC, 511,
                                          (struct sockaddr *)&ss, (int)sslen);
    if (n->listener == NULL) {
        snprintf(err, errlen, "listen on %s: %s", n->cfg->listen, strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(n->listener, net_on_accept_error);
    len = sizeof(ss);
    getsockname(evconnlistener_get_fd(n->listener), (struct sockaddr *)&ss, &len);
    n->port = (uint16_t)addr_port(&ss);
    return 0;
}

void
net_stop(struct net *n)
{
    n->stopping = true;
    if (n->listener) {
        evconnlistener_free(n->listener);
        n->listener = NULL;
    }
}

void
net_free(struct net *n)
{
    n->stopping = true;
    while (n->conns)
        conn_close(n->conns);
    conn_backlog_clear(n);
    if (n->backlog_ev != NULL)
        event_free(n->backlog_ev);
    n->backlog_ev = NULL;
    if (n->listener) {
        evconnlistener_free(n->listener);
        n->listener = NULL;
    }
    SSL_CTX_free(n->tls_ctx);         /* after the conns: NULL is a no-op */
    n->tls_ctx = NULL;
    net_log_flush(&n->log, true);     /* after the conns: their closes count */
}
