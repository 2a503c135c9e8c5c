/*
 * http_int.h - the HTTP listener's state, shared by server/http/http.c
 * (listener, connections, routes) and server/http/http_req.c (one
 * request: limits, authentication, routing, reply).  Loop thread only.
 */
#ifndef HITLQ_HTTP_INT_H
#define HITLQ_HTTP_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "hitlq_proto.h"
#include "http.h"

/* One open connection: its fd and the identity of its socket. */
struct http_slot {
    int      fd;
    ino_t    ino;
    dev_t    dev;
    uint64_t since_ms;                  /* monotonic accept time */
};

struct http_route_ent {
    char     path[128];                 /* without the trailing '*' of a prefix */
    bool     prefix;
    unsigned roles;
    http_fn  fn;
    void    *arg;
};

/* A new connection waiting for its fd to be counted (http_on_accepted). */
struct http_accepted {
    struct http        *h;
    struct bufferevent *bev;
};

struct http {
    struct event_base          *base;     /* borrowed */
    const struct hitlq_config  *cfg;      /* borrowed */
    struct auth                *auth;     /* borrowed */
    struct ssl_ctx_st         **tls_ctx;  /* borrowed: the daemon's current context */
    struct http_hooks           hooks;
    struct evhttp              *ev;       /* owned */
    struct evconnlistener      *lev;      /* owned by ev once bound */
    struct evhttp_bound_socket *bound;
    struct event               *tick;     /* the 1 s sweep */
    uint16_t                    port;
    bool                        loopback, auth_on;
    struct http_slot           *slots;    /* max_slots */
    size_t                      n_slots, max_slots;
    uint64_t                    n_refused;
    struct http_route_ent       routes[HTTP_MAX_ROUTES];
    size_t                      n_routes;
};

struct http_req {
    struct http           *h;
    struct evhttp_request *ev;
    char                   path[HTTP_MAX_URI + 1];
    struct evkeyvalq       query;
    bool                   query_parsed, replied;
    unsigned               role;
    char                   principal[HITLQ_MAX_NAME + 1];
};

/* evhttp's callback for every request (http_req.c). */
void http_on_request(struct evhttp_request *req, void *arg);

#endif
