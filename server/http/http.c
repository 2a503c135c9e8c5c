/*
 * http.c - the HTTP listener (http.h): evhttp on the daemon's loop, the
 * listening socket, TLS bufferevents, the connection table (limit and
 * lifetime; a connection is known by its fd and its socket's inode, so
 * one closed by evhttp is noticed without a hook) and the route table.
 * Requests themselves: http_req.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "addr.h"
#include "auth.h"
#include "config.h"
#include "http_int.h"
#include "log.h"
#include "util.h"

/* True when the slot's fd still is the socket it was accepted as. */
static bool
http_slot_alive(const struct http_slot *s)
{
    struct stat st;

    return fstat(s->fd, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev;
}

/* Forgets connections evhttp has closed; shuts down those past their
 * lifetime (evhttp then frees them). */
static void
http_sweep(struct http *h, uint64_t now)
{
    size_t o = 0;

    for (size_t i = 0; i < h->n_slots; i++) {
        struct http_slot *s = &h->slots[i];
        if (!http_slot_alive(s))
            continue;
        if (now - s->since_ms > HTTP_CONN_LIFE_MS)
            shutdown(s->fd, SHUT_RDWR);
        h->slots[o++] = *s;
    }
    h->n_slots = o;
}

/* After evhttp set the new connection's fd: count it, or refuse it when
 * the limit is reached (shut down: evhttp sees the end and frees it). */
static void
http_on_accepted(evutil_socket_t unused, short what, void *arg)
{
    struct http_accepted *a = arg;
    struct http *h = a->h;
    evutil_socket_t fd = bufferevent_getfd(a->bev);
    struct stat st;

    (void)unused;
    (void)what;
    free(a);
    if (fd < 0 || fstat(fd, &st) != 0)
        return;
    if (h->n_slots >= h->max_slots)
        http_sweep(h, util_mono_ns() / 1000000u);
    if (h->n_slots >= h->max_slots) {
        h->n_refused++;
        log_debug("http: connection limit (%zu) reached, refusing one", h->max_slots);
        shutdown(fd, SHUT_RDWR);
        return;
    }
    h->slots[h->n_slots++] = (struct http_slot){ fd, st.st_ino, st.st_dev,
                                                 util_mono_ns() / 1000000u };
}

/* evhttp's bufferevent for a new connection: TLS when a context is set. */
static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
    struct http *h = arg;
    struct bufferevent *bev;
    struct http_accepted *a;
    SSL *ssl;

    if (h->tls_ctx != NULL && *h->tls_ctx != NULL) {
        if ((ssl = SSL_new(*h->tls_ctx)) == NULL)
            return NULL;
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev == NULL)
            SSL_free(ssl);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev == NULL)
        return NULL;
    /* evhttp sets the fd after this returns; it is counted in the same
     * loop pass, before the connection can see any event */
    if ((a = malloc(sizeof(*a))) != NULL) {
        *a = (struct http_accepted){ h, bev };
        if (event_base_once(base, -1, EV_TIMEOUT, http_on_accepted, a, NULL) != 0)
            free(a);
    }
    return bev;
}

/* The periodic sweep (lifetimes; connections closed meanwhile). */
static void
http_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_sweep(arg, util_mono_ns() / 1000000u);
}

/* http_auth: 1 on, 0 off, 2 on unless the address is loopback. */
static int
http_resolve_auth(struct http *h, const struct hitlq_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (addr_parse(cfg->http_listen, &ss, &len) != 0) {
        snprintf(err, errlen, "http_listen: cannot parse \"%s\" (want IPv4:port or "
                 "[IPv6]:port, or \"\" for no HTTP listener)", cfg->http_listen);
        return -1;
    }
    h->loopback = addr_is_loopback(&ss);
    h->auth_on = cfg->http_auth == 1 || (cfg->http_auth == 2 && !h->loopback);
    if (h->auth_on && !auth_enabled(h->auth)) {
        snprintf(err, errlen, "http_auth is on (http_listen %s) but auth is off: API keys "
                 "cannot be checked; set auth = 1 or http_auth = 0", cfg->http_listen);
        return -1;
    }
    return 0;
}

static int
http_setup_evhttp(struct http *h)
{
    struct timeval tv = { (time_t)(h->cfg->http_timeout_ms / 1000),
                          (suseconds_t)(h->cfg->http_timeout_ms % 1000) * 1000 };
    struct timeval tick = { 1, 0 };

    if ((h->ev = evhttp_new(h->base)) == NULL)
        return -1;
    evhttp_set_max_headers_size(h->ev, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->ev, 0);
    evhttp_set_allowed_methods(h->ev, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout_tv(h->ev, &tv);
    evhttp_set_bevcb(h->ev, http_bevcb, h);
    evhttp_set_gencb(h->ev, http_on_request, h);
    if ((h->tick = event_new(h->base, -1, EV_PERSIST, http_on_tick, h)) == NULL)
        return -1;
    return event_add(h->tick, &tick);
}

int
http_new(struct http **out, struct event_base *base, const struct hitlq_config *cfg,
         struct auth *auth, struct ssl_ctx_st **tls_ctx, const struct http_hooks *hooks,
         char *err, size_t errlen)
{
    struct http *h;

    *out = NULL;
    if (cfg->http_listen[0] == '\0')
        return 0;
    if ((h = calloc(1, sizeof(*h))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->base = base;
    h->cfg = cfg;
    h->auth = auth;
    h->tls_ctx = tls_ctx;
    h->hooks = *hooks;
    h->max_slots = (size_t)cfg->http_max_connections;
    h->slots = calloc(h->max_slots, sizeof(*h->slots));
    if (h->slots == NULL || http_resolve_auth(h, cfg, err, errlen) != 0 ||
        http_setup_evhttp(h) != 0) {
        if (h->slots == NULL || h->ev == NULL)
            snprintf(err, errlen, "http: out of memory");
        http_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int
http_route(struct http *h, const char *path, unsigned roles, http_fn fn, void *arg)
{
    struct http_route_ent *e;
    size_t n;

    if (h == NULL || path == NULL || path[0] != '/' || fn == NULL ||
        h->n_routes >= HTTP_MAX_ROUTES || (n = strlen(path)) >= sizeof(e->path))
        return -1;
    e = &h->routes[h->n_routes++];
    memcpy(e->path, path, n + 1);
    e->prefix = path[n - 1] == '*';
    if (e->prefix)
        e->path[n - 1] = '\0';
    e->roles = roles;
    e->fn = fn;
    e->arg = arg;
    return 0;
}

int
http_listen(struct http *h, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    bool tls = h->tls_ctx != NULL && *h->tls_ctx != NULL;

    if (addr_parse(h->cfg->http_listen, &ss, &len) != 0)
        return -1;                       /* checked by http_new */
    if (!tls && !h->cfg->insecure_plaintext && !h->loopback) {
        snprintf(err, errlen, "http_listen %s: refusing to serve plaintext on a non-loopback "
                 "address; set tls_cert and tls_key, or insecure_plaintext = 1",
                 h->cfg->http_listen);
        return -1;
    }
    h->lev = evconnlistener_new_bind(h->base, NULL, NULL,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                     LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 511,
                                     (struct sockaddr *)&ss, (int)len);
    if (h->lev == NULL) {
        snprintf(err, errlen, "http_listen %s: %s", h->cfg->http_listen, strerror(errno));
        return -1;
    }
    if ((h->bound = evhttp_bind_listener(h->ev, h->lev)) == NULL) {
        snprintf(err, errlen, "http_listen %s: cannot bind", h->cfg->http_listen);
        return -1;
    }
    len = sizeof(ss);
    getsockname(evconnlistener_get_fd(h->lev), (struct sockaddr *)&ss, &len);
    h->port = (uint16_t)addr_port(&ss);
    evconnlistener_enable(h->lev);
    log_info("http: listening on %s (port %u, %s, authentication %s)", h->cfg->http_listen,
             (unsigned)h->port, tls ? "TLS" : "plaintext", h->auth_on ? "on" : "off");
    return 0;
}

uint16_t
http_port(const struct http *h)
{
    return h != NULL ? h->port : 0;
}

bool
http_auth_on(const struct http *h)
{
    return h != NULL && h->auth_on;
}

size_t
http_conns(const struct http *h)
{
    return h != NULL ? h->n_slots : 0;
}

void
http_free(struct http *h)
{
    if (h == NULL)
        return;
    if (h->tick != NULL)
        event_free(h->tick);
    if (h->ev != NULL)
        evhttp_free(h->ev);             /* frees the bound listener and connections */
    else if (h->lev != NULL)
        evconnlistener_free(h->lev);
    free(h->slots);
    free(h);
}
