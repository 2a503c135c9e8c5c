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

static void
net_on_accept(struct evconnlistener *l, evutil_socket_t fd,
              struct sockaddr *sa, int salen, void *arg)
{
    struct net *n = arg;
    char ip[48];
    uint64_t same = 0;

    (void)l;
    if (n->stopping || n->n_conns >= n->cfg->max_connections) {
        log_warn("refusing connection: %s", n->stopping ? "stopping"
                                                        : "max_connections reached");
        evutil_closesocket(fd);
        return;
    }
    conn_addr_str(sa, ip);
    for (const struct conn *c = n->conns; c != NULL; c = c->next)
        same += strcmp(c->ip, ip) == 0;
    if (same >= n->cfg->max_connections_per_addr) {
        log_warn("refusing connection from %s: max_connections_per_addr (%llu) reached",
                 ip, (unsigned long long)n->cfg->max_connections_per_addr);
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
    n->cfg = cfg;
    n->base = base;
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
    if (n->listener) {
        evconnlistener_free(n->listener);
        n->listener = NULL;
    }
    SSL_CTX_free(n->tls_ctx);         /* after the conns: NULL is a no-op */
    n->tls_ctx = NULL;
}
