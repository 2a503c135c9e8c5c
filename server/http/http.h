/*
 * http.h - hitlqd's HTTP listener (libevent's evhttp on the daemon's event
 * loop, loop thread only): its own address (http_listen), TLS with the
 * daemon's certificate, bearer API-key authentication with the same code
 * as HELLO (server/auth/auth.h: constant time, per-address failure
 * limit), a role mask per route, and limits checked before anything is
 * allocated for a request (header bytes, URI length, GET/HEAD only and no
 * body, read/write timeouts, connection lifetime, connections at once).
 *
 * It knows no command: the command layer registers routes
 * (server/cmd/http_ops.c) whose handlers get a struct http_req and answer
 * it with http_reply before they return.
 *
 * Status codes: 401 (with WWW-Authenticate: Bearer) without or with a bad
 * key, 429 while the address is blocked after failures, 403 for a role
 * the route does not admit, 404 for no route, 414 for a long URI, 503
 * when the connection limit is reached, 500 when a handler did not reply.
 */
#ifndef HITLQ_HTTP_H
#define HITLQ_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <lmdb.h>

struct hitlq_config;
struct auth;
struct http;
struct http_req;
struct ssl_ctx_st;

#define HTTP_MAX_HEADERS   8192u    /* bytes of request line + headers */
#define HTTP_MAX_URI       2048u    /* bytes of the request target */
#define HTTP_MAX_ROUTES    64u
#define HTTP_CONN_LIFE_MS  300000u  /* a connection is closed after this */

/* Role masks for http_route: bit (1 << enum auth_role). */
#define HTTP_ROLE(r)       (1u << (r))

/* A route's handler: must call http_reply (once) before returning. */
typedef void (*http_fn)(struct http_req *r, void *arg);

/* What the owner lends the listener: a read transaction for the key
 * lookup (begin may return NULL: authentication then fails). */
struct http_hooks {
    MDB_txn *(*read_begin)(void *owner);
    void     (*read_end)(void *owner);
    void      *owner;
};

/* Creates the listener's state for cfg (http_listen, http_auth,
 * http_max_connections, http_timeout_ms).  auth: the daemon's
 * authentication (borrowed); tls_ctx: where the daemon keeps its SSL_CTX
 * (borrowed, read at each accept so a SIGHUP reload applies; NULL or
 * *tls_ctx NULL = plaintext).  http_auth 1 (or 2 with a non-loopback
 * address) needs authentication on in auth.  Nothing listens yet.
 * *out NULL when http_listen is "" (off).  0, or -1 with err. */
int  http_new(struct http **out, struct event_base *base, const struct hitlq_config *cfg,
              struct auth *auth, struct ssl_ctx_st **tls_ctx, const struct http_hooks *hooks,
              char *err, size_t errlen);

/* Registers fn for path (exact match; a path ending in '*' matches every
 * path that starts with what precedes it).  roles: the roles admitted
 * (HTTP_ROLE bits); with authentication off every request is admitted
 * (role local).  Before http_listen or after.  0, or -1 (table full, bad
 * path). */
int  http_route(struct http *h, const char *path, unsigned roles, http_fn fn, void *arg);

/* Binds http_listen (port 0 = any) and starts serving.  Refuses plaintext
 * on a non-loopback address unless insecure_plaintext.  0 or -1 with err. */
int  http_listen(struct http *h, char *err, size_t errlen);

/* The bound port (0 before http_listen or when h is NULL). */
uint16_t http_port(const struct http *h);
/* True when requests must carry a bearer key. */
bool http_auth_on(const struct http *h);
/* Connections open now (as last counted). */
size_t http_conns(const struct http *h);

/* Stops accepting (open connections finish); frees everything. */
void http_free(struct http *h);                  /* NULL is a no-op */

/* ---- inside a handler ------------------------------------------------------- */

/* The request's path (decoded, without the query string). */
const char *http_req_path(const struct http_req *r);
/* A query-string parameter's value (decoded), or NULL. */
const char *http_req_query(struct http_req *r, const char *key);
/* The caller's role (enum auth_role; local when authentication is off)
 * and principal name ("" when off). */
unsigned    http_req_role(const struct http_req *r);
const char *http_req_principal(const struct http_req *r);
/* Adds a response header (before http_reply). */
void http_req_header(struct http_req *r, const char *name, const char *value);
/* Sends the reply: code, Content-Type, body (len bytes, may be 0).  Only
 * the first call counts. */
void http_reply(struct http_req *r, int code, const char *ctype, const void *body,
                size_t len);
/* http_reply with a NUL-terminated text/plain body. */
void http_reply_text(struct http_req *r, int code, const char *text);

#endif
