/*
 * session_auth.c - carries out authentication's verdicts (auth.h) on
 * connections: immediate refusals, the equalised late refusal of a
 * blocked address, the hard close of a revoked key's connections, and new
 * skills pushed to a principal's open connections.  Deferred actions hold
 * a reference on their connection and are listed in srv->later until they
 * fire or the server is freed.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "cmd.h"
#include "conn.h"
#include "server.h"
#include "session_auth.h"
#include "tls.h"

/* A refusal or close due later. */
struct session_later {
    struct session_later *prev, *next;
    struct hitlq_server  *srv;
    struct conn          *c;             /* holds a reference */
    struct event         *ev;            /* owned */
    uint32_t              request_id;
    bool                  refuse;        /* send status + msg; else close */
    uint16_t              status;
    const char           *msg;           /* static */
};

static void
session_later_free(struct session_later *l)
{
    struct hitlq_server *srv = l->srv;

    if (l->prev)
        l->prev->next = l->next;
    else
        srv->later = l->next;
    if (l->next)
        l->next->prev = l->prev;
    event_free(l->ev);
    conn_unref(l->c);
    free(l);
}

static void
session_later_fire(evutil_socket_t fd, short what, void *arg)
{
    struct session_later *l = arg;
    struct conn *c = l->c;

    (void)fd;
    (void)what;
    if (c->bev != NULL) {
        if (l->refuse)
            conn_send_error(c, HITLQ_OP_HELLO, l->request_id, l->status, l->msg);
        else
            conn_close(c);
    }
    session_later_free(l);
}

/* Runs v (AUTH_REFUSE_LATER: refuse request_id; AUTH_CLOSE_LATER: close)
 * after v->delay_ms; at once when that cannot be arranged (out of
 * memory). */
static void
session_later(struct conn *c, uint32_t request_id, const struct auth_verdict *v)
{
    struct hitlq_server *srv = c->srv;
    struct session_later *l = calloc(1, sizeof(*l));
    unsigned ms = v->delay_ms;
    struct timeval tv = { (time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u) };
    bool refuse = v->kind == AUTH_REFUSE_LATER;

    if (l == NULL || (l->ev = evtimer_new(srv->base, session_later_fire, l)) == NULL) {
        free(l);
        if (refuse)
            conn_send_error(c, HITLQ_OP_HELLO, request_id, v->status, AUTH_REFUSE_NOW_MSG);
        else
            conn_close(c);
        return;
    }
    conn_ref(c);
    l->srv = srv;
    l->c = c;
    l->request_id = request_id;
    l->refuse = refuse;
    l->status = v->status;
    l->msg = v->msg;
    l->next = srv->later;
    if (srv->later)
        srv->later->prev = l;
    srv->later = l;
    evtimer_add(l->ev, &tv);
}

void
session_later_free_all(struct hitlq_server *srv)
{
    while (srv->later != NULL)
        session_later_free(srv->later);
}

bool
session_auth_apply(struct conn *c, uint8_t opcode, uint32_t request_id,
                   const struct auth_verdict *v)
{
    switch (v->kind) {
    case AUTH_OK:
        conn_set_state(c, CONN_READY);
        return true;
    case AUTH_CHALLENGE:               /* nonce drawn: AUTH must follow */
        conn_set_state(c, CONN_CHALLENGED);
        return true;
    case AUTH_REFUSE_LATER:            /* blocked: read nothing more meanwhile */
        conn_set_state(c, CONN_CLOSING);
        bufferevent_disable(c->bev, EV_READ);
        c->reading = false;
        session_later(c, request_id, v);
        return false;
    case AUTH_CLOSE_LATER:
        conn_send_error(c, opcode, request_id, v->status, v->msg);
        if (c->bev != NULL)
            session_later(c, request_id, v);
        return false;
    case AUTH_REFUSE:
    default:
        conn_send_error(c, opcode, request_id, v->status, v->msg);
        return false;
    }
}

void
session_auth_exporter(const struct conn *c, uint8_t out[AUTH_MSG_EXPORTER_LEN])
{
    struct ssl_st *ssl = conn_ssl(c);

    memset(out, 0, AUTH_MSG_EXPORTER_LEN);
    if (ssl != NULL && tls_exporter(ssl, out) != 0)
        randombytes_buf(out, AUTH_MSG_EXPORTER_LEN);   /* matches no signature */
}

size_t
session_revoke_key(struct hitlq_server *srv, const uint8_t key_id[AUTH_KEY_ID_LEN])
{
    struct conn *c = srv->net.conns, *next;
    struct auth_verdict v;
    size_t n = 0;

    for (; c != NULL; c = next) {
        next = c->next;
        v = auth_revoked(&c->auth, key_id);
        if (v.kind == AUTH_OK || !conn_is_open(c))
            continue;
        n++;
        session_auth_apply(c, HITLQ_OP_HELLO, 0, &v);
    }
    return n;
}

void
session_push_skills(struct hitlq_server *srv, const char *principal, uint8_t n_skills,
                    const char skills[][HITLQ_MAX_QUEUE_NAME + 1])
{
    for (struct conn *c = srv->net.conns; c != NULL; c = c->next) {
        if (!c->auth.has_key || strcmp(c->name, principal) != 0)
            continue;
        c->auth.n_skills = n_skills;
        memcpy(c->auth.skills, skills, sizeof(c->auth.skills));
    }
}
