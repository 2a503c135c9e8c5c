/*
 * http_req.c - one HTTP request (http.h): the URI limit, bearer-key
 * authentication through server/auth/ (auth_hello: the same check, the
 * same per-address failure limit as HELLO), the route and its role mask,
 * the handler, and the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "auth.h"
#include "http_int.h"
#include "log.h"

/* Sends code with a text/plain body (a refusal from this file). */
static void
http_refuse(struct http_req *r, int code, const char *text)
{
    if (code == 401)
        http_req_header(r, "WWW-Authenticate", "Bearer realm=\"hitlq\"");
    http_reply_text(r, code, text);
}

static const struct http_route_ent *
http_find_route(const struct http *h, const char *path)
{
    for (size_t i = 0; i < h->n_routes; i++) {
        const struct http_route_ent *e = &h->routes[i];
        if (e->prefix ? strncmp(path, e->path, strlen(e->path)) == 0
                      : strcmp(path, e->path) == 0)
            return e;
    }
    return NULL;
}

/* "Bearer <key>" -> the key copied into key (writable: auth_hello wipes
 * it).  Returns its length, or 0 when absent or malformed. */
static size_t
http_bearer(struct evhttp_request *ev, char *key, size_t keylen)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(ev), "Authorization");
    size_t n;

    if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
        return 0;
    v += 7;
    while (*v == ' ')
        v++;
    n = strcspn(v, " \t");
    if (n == 0 || n >= keylen)
        return 0;
    memcpy(key, v, n);
    key[n] = '\0';
    return n;
}

/* Authenticates r (auth on).  0, or -1 after replying 401/429. */
static int
http_authenticate(struct http_req *r)
{
    struct http *h = r->h;
    struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
    char key[AUTH_KEY_STR_LEN + 8], peer[80];
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct auth_hello_in in = { .peer = peer, .tls_peer = "" };
    struct auth_ident who;
    struct auth_verdict v;
    MDB_txn *txn;
    size_t n = http_bearer(r->ev, key, sizeof(key));

    if (evcon != NULL)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(peer, sizeof(peer), "%s:%u", addr != NULL ? addr : "?", (unsigned)port);
    in.api_key = n > 0 ? key : NULL;
    in.api_key_len = n;
    memset(&who, 0, sizeof(who));
    txn = h->hooks.read_begin(h->hooks.owner);
    v = auth_hello(h->auth, txn, &in, &who, r->principal, sizeof(r->principal));
    if (txn != NULL)
        h->hooks.read_end(h->hooks.owner);
    if (v.kind == AUTH_OK) {
        r->role = who.role;
        return 0;
    }
    if (v.kind == AUTH_REFUSE_LATER) {
        http_req_header(r, "Retry-After", "10");
        http_refuse(r, 429, "too many failed authentications from this address\n");
    } else {
        http_refuse(r, 401, n == 0 ? "this server requires a bearer API key "
                                     "(Authorization: Bearer hitlq_...)\n"
                                   : "invalid API key\n");
    }
    return -1;
}

/* Copies the request's path (no query) into r->path.  0, or -1 after
 * replying 414/400. */
static int
http_req_parse(struct http_req *r)
{
    const char *uri = evhttp_request_get_uri(r->ev);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->ev);
    const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;

    if (uri == NULL || strlen(uri) > HTTP_MAX_URI) {
        http_refuse(r, 414, "URI too long\n");
        return -1;
    }
    if (path == NULL || path[0] != '/') {
        http_refuse(r, 400, "bad request target\n");
        return -1;
    }
    snprintf(r->path, sizeof(r->path), "%s", path);
    return 0;
}

/* Runs the route for an authenticated request. */
static void
http_dispatch(struct http_req *r)
{
    const struct http_route_ent *e = http_find_route(r->h, r->path);

    if (e == NULL) {
        http_refuse(r, 404, "not found\n");
        return;
    }
    if (r->role != AUTH_ROLE_LOCAL && (e->roles & HTTP_ROLE(r->role)) == 0) {
        log_info("http: %s (role %s) may not GET %s", r->principal,
                 auth_role_name(r->role) ? auth_role_name(r->role) : "?", r->path);
        http_refuse(r, 403, "this role may not see this page\n");
        return;
    }
    e->fn(r, e->arg);
    if (!r->replied) {
        log_error("http: the handler of %s did not reply", r->path);
        http_refuse(r, 500, "internal error\n");
    }
}

void
http_on_request(struct evhttp_request *ev, void *arg)
{
    struct http_req *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        evhttp_send_error(ev, 503, "out of memory");
        return;
    }
    r->h = arg;
    r->ev = ev;
    r->role = AUTH_ROLE_LOCAL;
    TAILQ_INIT(&r->query);
    if (http_req_parse(r) == 0 && (!r->h->auth_on || http_authenticate(r) == 0))
        http_dispatch(r);
    if (r->query_parsed)
        evhttp_clear_headers(&r->query);
    free(r);
}

const char *
http_req_path(const struct http_req *r)
{
    return r->path;
}

const char *
http_req_query(struct http_req *r, const char *key)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->ev);
    const char *q;

    if (!r->query_parsed) {
        r->query_parsed = true;
        q = u != NULL ? evhttp_uri_get_query(u) : NULL;
        if (q != NULL && evhttp_parse_query_str(q, &r->query) != 0)
            evhttp_clear_headers(&r->query);
    }
    return evhttp_find_header(&r->query, key);
}

unsigned
http_req_role(const struct http_req *r)
{
    return r->role;
}

const char *
http_req_principal(const struct http_req *r)
{
    return r->principal;
}

void
http_req_header(struct http_req *r, const char *name, const char *value)
{
    if (!r->replied)
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

void
http_reply(struct http_req *r, int code, const char *ctype, const void *body, size_t len)
{
    struct evbuffer *b;

    if (r->replied)
        return;
    r->replied = true;
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Type", ctype);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Cache-Control", "no-store");
    if ((b = evbuffer_new()) == NULL || (len > 0 && evbuffer_add(b, body, len) != 0)) {
        if (b != NULL)
            evbuffer_free(b);
        evhttp_send_error(r->ev, 503, "out of memory");
        return;
    }
    evhttp_send_reply(r->ev, code, NULL, b);
    evbuffer_free(b);
}

void
http_reply_text(struct http_req *r, int code, const char *text)
{
    http_reply(r, code, "text/plain; charset=utf-8", text, strlen(text));
}
