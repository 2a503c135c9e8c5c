/*
 * client.c - the libhitlq context: connect + HELLO, request ids, sending
 * frames, reading and validating replies (each reply owns a copy of its
 * body and a msgpack zone), out-of-order replies parked by request id,
 * sticky errors.  Reply accessors live in client_reply.c, typed operations
 * in ops.c, sockets in client_net.c, TLS in client_tls.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_int.h"
#include "validate.h"
#include "wire.h"

/* Replies come from the server we chose to trust for transport, but are
 * still validated: the request limits apply except the element budget,
 * which a GET with a long history may legitimately exceed (still capped at
 * body_len by mp_validate, which bounds msgpack-c's zone). */
static const struct mp_limits reply_limits = {
    .max_depth = HITLQ_MAX_DEPTH,
    .max_elements = HITLQ_MAX_FRAME,
    .max_str = HITLQ_MAX_STR,
};

static __attribute__((format(printf, 3, 0))) int
vset_err(hitlq *c, int code, const char *fmt, va_list ap)
{
    c->err = code;
    if (!c->dead)
        c->cause = code;
    vsnprintf(c->errstr, sizeof(c->errstr), fmt, ap);
    return code;
}

int
hitlq__set_err(hitlq *c, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset_err(c, code, fmt, ap);
    va_end(ap);
    return code;
}

int
hitlq__fail(hitlq *c, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset_err(c, code, fmt, ap);
    va_end(ap);
    c->dead = true;
    return code;
}

int
hitlq__check(hitlq *c)
{
    if (!c->dead)
        return HITLQ_OK;
    if (c->ha == NULL || c->ha->connecting || !hitlq__ha_reconnectable(c->cause))
        return HITLQ_ECLOSED;
    return hitlq__ha_connect(c);
}

uint32_t
hitlq__next_id(hitlq *c)
{
    if (++c->next_id == 0)
        c->next_id = 1;
    return c->next_id;
}

/* ---- connect ------------------------------------------------------------ */

/* AUTH: answers the nonce of HELLO's reply r with an Ed25519 signature. */
static int
send_auth(hitlq *c, const hitlq_reply *hr, const char *sk, const char *role)
{
    const msgpack_object *n = hitlq_reply_get(hr, "nonce");
    char id[17];
    uint8_t sig[64];
    struct hitlq__req q;
    hitlq_reply *r = NULL;
    int rc;

    if (n == NULL) {                   /* authentication is off: nothing to prove */
        const msgpack_object *ro = hitlq_reply_get(hr, "role");
        if (ro != NULL && ro->type == MSGPACK_OBJECT_STR && ro->via.str.size == 5 &&
            memcmp(ro->via.str.ptr, "local", 5) == 0)
            return HITLQ_OK;
        return hitlq__fail(c, HITLQ_EPROTO, "HELLO reply without the challenge nonce");
    }
    if (n->type != MSGPACK_OBJECT_BIN || n->via.bin.size != 32)
        return hitlq__fail(c, HITLQ_EPROTO, "HELLO reply: bad nonce");
    if ((rc = hitlq__auth_sign(c, sk, (const uint8_t *)n->via.bin.ptr, role, id, sig)) != 0) {
        c->dead = true;
        return rc;
    }
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 3);
    wire_pack_kv_str(&q.pk, "key_id", id);
    wire_pack_kv_str(&q.pk, "role", role);
    wire_pack_kv_bin(&q.pk, "signature", sig, sizeof(sig));
    rc = hitlq__req_call(c, &q, HITLQ_OP_AUTH, c->timeout_ms, &r);
    hitlq_reply_free(r);
    if (rc > 0 && !c->dead)            /* AUTH refused: the session is over */
        c->dead = true;
    return rc;
}

static int
send_hello(hitlq *c, const char *name, const hitlq_options *opt)
{
    const char *api_key = opt->api_key;
    bool challenge = opt->ed25519_key != NULL;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hitlq_reply *r = NULL;
    int rc;

    if (challenge && (api_key != NULL || opt->role == NULL))
        return hitlq__fail(c, HITLQ_EINVAL, "ed25519_key needs role, and no api_key");
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, api_key != NULL || challenge ? 4 : 3);
    wire_pack_kv_u64(&pk, "version", HITLQ_PROTO_VERSION);
    wire_pack_kv_str(&pk, "client", HITLQ_CLIENT_NAME);
    wire_pack_kv_str(&pk, "name", name);
    if (api_key != NULL)
        wire_pack_kv_str(&pk, "api_key", api_key);
    if (challenge)
        wire_pack_kv_bool(&pk, "challenge", true);
    rc = hitlq_call(c, HITLQ_OP_HELLO, sb.data, sb.size, &r);
    if (api_key != NULL)                 /* the frame held the secret */
        explicit_bzero(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc == HITLQ_OK && challenge)
        rc = send_auth(c, r, opt->ed25519_key, opt->role);
    hitlq_reply_free(r);
    if (rc > 0 && !c->dead)            /* HELLO refused: the session is over */
        c->dead = true;
    return rc;
}

void
hitlq__conn_reset(hitlq *c)
{
    size_t i;

    hitlq__tls_free(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    for (i = 0; i < c->n_pending; i++)
        hitlq_reply_free(c->pending[i]);
    c->n_pending = 0;
    frame_reader_clear(&c->rd);
    frame_reader_init(&c->rd, HITLQ_MAX_FRAME);
    c->watch_id = 0;
    c->dead = false;
    c->err = c->cause = HITLQ_OK;
    c->errstr[0] = '\0';
}

int
hitlq__open(hitlq *c, const char *host, uint16_t port, const hitlq_options *opt)
{
    char err[sizeof(c->errstr)];

    snprintf(c->addr, sizeof(c->addr), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
             (unsigned)port);
    c->fd = hitlq__net_connect(host, port, c->timeout_ms, err, sizeof(err));
    if (c->fd < 0)
        return hitlq__fail(c, HITLQ_EIO, "%s", err);
    if (opt->tls_ca != NULL &&
        hitlq__tls_start(c, opt, host, hitlq__deadline(c->timeout_ms)) != HITLQ_OK) {
        c->dead = true;
        return c->err;
    }
    return send_hello(c, opt->name ? opt->name : "anonymous", opt);
}

hitlq *
hitlq_connect(const hitlq_options *opt)
{
    static const hitlq_options defaults = { 0 };
    hitlq *c;

    if (opt == NULL)
        opt = &defaults;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->fd = -1;
    /* NULL options mean the defaults (30 s); an explicit 0 waits forever. */
    c->timeout_ms = opt == &defaults ? 30000 : opt->timeout_ms > 0 ? opt->timeout_ms : 0;
    frame_reader_init(&c->rd, HITLQ_MAX_FRAME);
    if (opt->servers != NULL) {
        if (hitlq__ha_init(c, opt) == HITLQ_OK)
            hitlq__ha_connect(c);
        return c;
    }
    hitlq__open(c, opt->host ? opt->host : "127.0.0.1", opt->port ? opt->port : 7420, opt);
    return c;
}

void
hitlq_free(hitlq *c)
{
    if (c == NULL)
        return;
    hitlq__conn_reset(c);
    frame_reader_clear(&c->rd);
    hitlq__ha_free(c);
    free(c);
}

int
hitlq_err(const hitlq *c)
{
    return c ? c->err : HITLQ_EINVAL;
}

const char *
hitlq_errstr(const hitlq *c)
{
    if (c == NULL)
        return "no context";
    return c->err == HITLQ_OK ? "" : c->errstr;
}

int
hitlq_fd(const hitlq *c)
{
    return c ? c->fd : -1;
}

const char *
hitlq_server_addr(const hitlq *c)
{
    return c ? c->addr : "";
}

const char *
hitlq_strerror(int code)
{
    switch (code) {
    case HITLQ_OK:       return "ok";
    case HITLQ_EIO:      return "I/O error";
    case HITLQ_EPROTO:   return "protocol error";
    case HITLQ_EOF:      return "connection closed by the server";
    case HITLQ_ETIMEOUT: return "timed out";
    case HITLQ_ENOMEM:   return "out of memory";
    case HITLQ_EINVAL:   return "invalid argument";
    case HITLQ_ECLOSED:  return "connection unusable after an earlier error";
    }
    if (code > 0)
        return hitlq_status_str(code);
    return "unknown error";
}

const char *
hitlq_strdesc(int code)
{
    return code > 0 ? hitlq_status_desc(code) : hitlq_strerror(code);
}

/* Copies, validates and unpacks one frame into a new reply. */
int
hitlq__make_reply(hitlq *c, const struct frame *f, hitlq_reply **out)
{
    char verr[96];
    size_t len = f->hdr.body_len;
    hitlq_reply *r;

    if (mp_validate(f->body, len, &reply_limits, verr, sizeof(verr)) != HITLQ_ST_OK)
        return hitlq__fail(c, HITLQ_EPROTO, "bad reply body: %s", verr);
    r = calloc(1, sizeof(*r));
    if (r == NULL || (r->raw = malloc(len ? len : 1)) == NULL) {
        free(r);
        return hitlq__fail(c, HITLQ_ENOMEM, "out of memory");
    }
    if (!msgpack_zone_init(&r->zone, 1024)) {
        free(r->raw);
        free(r);
        return hitlq__fail(c, HITLQ_ENOMEM, "out of memory");
    }
    memcpy(r->raw, f->body, len);
    r->raw_len = len;
    r->opcode = f->hdr.opcode;
    r->status = f->hdr.status;
    r->request_id = f->hdr.request_id;
    if (wire_unpack(r->raw, len, &r->zone, &r->body) != HITLQ_ST_OK ||
        r->body.type != MSGPACK_OBJECT_MAP) {
        hitlq_reply_free(r);
        return hitlq__fail(c, HITLQ_EPROTO, "reply body is not a map");
    }
    *out = r;
    return HITLQ_OK;
}

int
hitlq__read_frame(hitlq *c, int64_t deadline, bool soft, hitlq_reply **out)
{
    struct frame f;
    enum frame_rc frc;
    int rc;

    for (;;) {
        frc = frame_reader_next(&c->rd, &f);
        if (frc == FRAME_OK)
            return hitlq__make_reply(c, &f, out);
        if (frc == FRAME_ERROR)
            return hitlq__fail(c, HITLQ_EPROTO, "bad reply frame: %s", c->rd.errstr);
        rc = hitlq__net_read(c, deadline);
        if (rc == HITLQ_ETIMEOUT && soft)
            return rc;
        if (rc != HITLQ_OK) {
            c->dead = true;
            return rc;
        }
    }
}

int
hitlq__park(hitlq *c, hitlq_reply *r)
{
    if (c->n_pending == HITLQ_PENDING_MAX) {
        uint32_t id = r->request_id;

        hitlq_reply_free(r);
        return hitlq__fail(c, HITLQ_EPROTO,
                           "too many unclaimed replies (request id %u)", id);
    }
    c->pending[c->n_pending++] = r;
    return HITLQ_OK;
}

hitlq_reply *
hitlq__unpark(hitlq *c, uint32_t id)
{
    hitlq_reply *r;
    size_t i;

    for (i = 0; i < c->n_pending; i++) {
        if (c->pending[i]->request_id != id)
            continue;
        r = c->pending[i];
        memmove(&c->pending[i], &c->pending[i + 1],
                (c->n_pending - i - 1) * sizeof(c->pending[0]));
        c->n_pending--;
        return r;
    }
    return NULL;
}

int
hitlq__reply_status(hitlq *c, const hitlq_reply *r)
{
    const msgpack_object *m;

    if (r->status == HITLQ_ST_OK || r->status == HITLQ_ST_EMPTY) {
        c->err = HITLQ_OK;
        c->errstr[0] = '\0';
        return r->status;
    }
    m = hitlq_reply_get(r, "message");
    if (m != NULL && m->type == MSGPACK_OBJECT_STR)
        hitlq__set_err(c, r->status, "%.*s", (int)m->via.str.size, m->via.str.ptr);
    else
        hitlq__set_err(c, r->status, "%s", hitlq_status_desc(r->status));
    if (r->status < 200 && hitlq_status_is_fatal(r->status))
        c->dead = true;
    if (r->status == HITLQ_ST_NOT_LEADER) {          /* fatal: the follower closes */
        hitlq__ha_hint(c, r);
        c->dead = true;
    } else if (r->status == HITLQ_ST_SHUTTING_DOWN && c->ha != NULL) {
        c->dead = true;                               /* it closes: find the next leader */
    }
    return r->status;
}

int
hitlq__wait(hitlq *c, uint32_t id, uint8_t opcode, int64_t deadline,
            hitlq_reply **out)
{
    hitlq_reply *r = hitlq__unpark(c, id);
    int rc;

    while (r == NULL) {
        rc = hitlq__read_frame(c, deadline, false, &r);
        if (rc != HITLQ_OK)
            return rc;
        if (r->request_id == id)
            break;
        if (r->opcode == HITLQ_OP_RESULT && c->n_pending >= HITLQ_MAX_INFLIGHT) {
            hitlq_reply_free(r);            /* watch pushes nobody reads now */
        } else if ((rc = hitlq__park(c, r)) != HITLQ_OK) {
            return rc;
        }
        r = NULL;
    }
    /* cppcheck-suppress nullPointerRedundantCheck ; the loop ends only with r set */
    if (r->opcode != opcode) {
        uint8_t got = r->opcode;

        hitlq_reply_free(r);
        return hitlq__fail(c, HITLQ_EPROTO, "reply opcode 0x%02x to a 0x%02x request",
                           got, opcode);
    }
    *out = r;
    return hitlq__reply_status(c, r);
}

int
hitlq__send(hitlq *c, uint8_t opcode, uint32_t id, const void *body,
            size_t len, int64_t deadline)
{
    uint8_t hdr[HITLQ_FRAME_HDR_LEN];
    struct frame_hdr h = { .body_len = (uint32_t)len, .opcode = opcode,
                           .status = 0, .request_id = id };
    int rc;

    frame_hdr_encode(hdr, &h);
    rc = hitlq__net_write(c, hdr, sizeof(hdr), deadline);
    if (rc == HITLQ_OK && len > 0)
        rc = hitlq__net_write(c, body, len, deadline);
    if (rc != HITLQ_OK)
        c->dead = true;
    return rc;
}

/* One request on the current connection and its reply. */
static int
call_once(hitlq *c, uint8_t opcode, const void *body, size_t len,
          int timeout_ms, hitlq_reply **out)
{
    int64_t deadline = hitlq__deadline(timeout_ms);
    uint32_t id;
    int rc;

    id = hitlq__next_id(c);
    rc = hitlq__send(c, opcode, id, body, len, deadline);
    if (rc != HITLQ_OK)
        return rc;
    rc = hitlq__wait(c, id, opcode, deadline, out);
    if (rc < 0)
        *out = NULL;
    return rc;
}

/* With `servers`: true when the call that ended with rc (its connection
 * now dead) is sent again on a new connection (PROTOCOL.md §9, 3-4). */
static bool
call_again(const hitlq *c, uint8_t opcode, int rc)
{
    return c->ha != NULL && !c->ha->connecting && c->dead && rc != HITLQ_ETIMEOUT &&
           hitlq__ha_reconnectable(c->cause) && hitlq__ha_op_retryable(opcode);
}

int
hitlq__call(hitlq *c, uint8_t opcode, const void *body, size_t len,
            int timeout_ms, hitlq_reply **out)
{
    int64_t until = -1;
    int rc;

    *out = NULL;
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    if (len > HITLQ_MAX_FRAME || (len > 0 && body == NULL))
        return hitlq__set_err(c, HITLQ_EINVAL, "request body of %zu bytes", len);
    for (;;) {
        rc = call_once(c, opcode, body, len, timeout_ms, out);
        if (!call_again(c, opcode, rc))
            return rc;
        if (until < 0)
            until = hitlq__now_ms() + c->ha->failover_ms;
        else if (hitlq__now_ms() >= until)
            return rc;
        hitlq_reply_free(*out);              /* a not_leader / shutting_down reply */
        *out = NULL;
        if ((rc = hitlq__check(c)) != HITLQ_OK)   /* finds the leader again */
            return rc;
    }
}

int
hitlq_call(hitlq *c, uint8_t opcode, const void *body, size_t len,
           hitlq_reply **out)
{
    hitlq_reply *r = NULL;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    rc = hitlq__call(c, opcode, body, len, c->timeout_ms, &r);
    if (out != NULL)
        *out = r;
    else
        hitlq_reply_free(r);
    return rc;
}
