/*
 * async.c - the asynchronous libhitlq context (include/hitlq_async.h):
 * connect (the blocking handshake of client.c, then non-blocking), the
 * table of pending callbacks keyed by request id, queuing request frames,
 * handing replies and pushes to their callbacks, the disconnect that calls
 * every pending callback once, and a free that is safe inside a callback.
 * Socket and TLS I/O are in async_io.c, typed requests in async_ops.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "async_int.h"
#include "wire.h"

/* ---- the pending table (open addressing, backward-shift deletion) -------- */

static struct async_slot *
slot_find(const hitlq_async *ac, uint32_t id)
{
    size_t mask = ac->cap_slots - 1, i;

    if (ac->cap_slots == 0)
        return NULL;
    for (i = id & mask; ac->slots[i].id != 0; i = (i + 1) & mask)
        if (ac->slots[i].id == id)
            return &ac->slots[i];
    return NULL;
}

static void
slot_insert(hitlq_async *ac, const struct async_slot *s)
{
    size_t mask = ac->cap_slots - 1, i = s->id & mask;

    while (ac->slots[i].id != 0)
        i = (i + 1) & mask;
    ac->slots[i] = *s;
    ac->n_slots++;
}

/* Room for one more entry at a load of at most 1/2.  0 or -1. */
static int
slot_reserve(hitlq_async *ac)
{
    struct async_slot *old = ac->slots;
    size_t oldcap = ac->cap_slots, i, cap;

    if ((ac->n_slots + 1) * 2 <= ac->cap_slots)
        return 0;
    cap = oldcap ? oldcap * 2 : 64;
    if ((ac->slots = calloc(cap, sizeof(*ac->slots))) == NULL) {
        ac->slots = old;
        return -1;
    }
    ac->cap_slots = cap;
    ac->n_slots = 0;
    for (i = 0; i < oldcap; i++)
        if (old[i].id != 0)
            slot_insert(ac, &old[i]);
    free(old);
    return 0;
}

/* Removes *s, shifting back the entries of its probe run. */
static void
slot_remove(hitlq_async *ac, struct async_slot *s)
{
    size_t mask = ac->cap_slots - 1, i = (size_t)(s - ac->slots), j = i, home;

    for (;;) {
        ac->slots[i].id = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (ac->slots[j].id == 0) {
                ac->n_slots--;
                return;
            }
            home = ac->slots[j].id & mask;
            /* j's entry may fill the hole at i unless its home lies in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        ac->slots[i] = ac->slots[j];
        i = j;
    }
}

/* ---- callbacks --------------------------------------------------------------- */

/* Runs cb with reply r (freed after unless kept). */
static void
async_invoke(hitlq_async *ac, hitlq_async_cb *cb, hitlq_reply *r, void *priv)
{
    hitlq_reply *saved = ac->cur;
    bool saved_kept = ac->kept;

    ac->cur = r;
    ac->kept = false;
    ac->depth++;
    if (cb != NULL)
        cb(ac, r, priv);
    ac->depth--;
    if (!ac->kept)
        hitlq_reply_free(r);
    ac->cur = saved;
    ac->kept = saved_kept;
}

hitlq_reply *
hitlq_async_keep(hitlq_async *ac)
{
    if (ac == NULL || ac->cur == NULL)
        return NULL;
    ac->kept = true;
    return ac->cur;
}

static int
slot_seq_cmp(const void *a, const void *b)
{
    const struct async_slot *x = a, *y = b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Empties the table and calls every callback with NULL, in call order. */
static void
fail_pending(hitlq_async *ac)
{
    struct async_slot *all;
    size_t n = 0, i;

    if (ac->n_slots == 0)
        return;
    all = ac->slots;                   /* take the table: callbacks see it empty */
    ac->slots = NULL;
    for (i = 0; i < ac->cap_slots; i++)
        if (all[i].id != 0)
            all[n++] = all[i];
    ac->cap_slots = ac->n_slots = 0;
    qsort(all, n, sizeof(*all), slot_seq_cmp);
    for (i = 0; i < n; i++)
        async_invoke(ac, all[i].cb, NULL, all[i].priv);
    free(all);
}

void
hitlq__async_want_write(hitlq_async *ac, bool on)
{
    if (!ac->attached || ac->writing == on)
        return;
    ac->writing = on;
    if (on && ac->ev.add_write != NULL)
        ac->ev.add_write(ac->ev.data);
    else if (!on && ac->ev.del_write != NULL)
        ac->ev.del_write(ac->ev.data);
}

/* Detaches the hooks: del_read, del_write, cleanup; once. */
static void
ev_detach(hitlq_async *ac)
{
    hitlq_async_ev ev = ac->ev;

    if (!ac->attached)
        return;
    ac->attached = false;
    memset(&ac->ev, 0, sizeof(ac->ev));
    if (ev.del_read != NULL)
        ev.del_read(ev.data);
    if (ac->writing && ev.del_write != NULL)
        ev.del_write(ev.data);
    ac->writing = false;
    if (ev.cleanup != NULL)
        ev.cleanup(ev.data);
}

void
hitlq__async_disconnect(hitlq_async *ac)
{
    int code;

    if (ac->closed)
        return;
    ac->closed = true;
    ac->c->dead = true;
    if (ac->c->err == HITLQ_OK)
        hitlq__set_err(ac->c, HITLQ_ECLOSED, "connection closed");
    code = ac->c->err;
    ac->depth++;
    fail_pending(ac);
    ev_detach(ac);
    if (ac->dis_cb != NULL)
        ac->dis_cb(ac, code, ac->dis_priv);
    ac->depth--;
}

/* ---- life ---------------------------------------------------------------------- */

hitlq_async *
hitlq_async_connect(const hitlq_options *opt)
{
    hitlq_async *ac = calloc(1, sizeof(*ac));

    if (ac == NULL)
        return NULL;
    if ((ac->c = hitlq_connect(opt)) == NULL) {
        free(ac);
        return NULL;
    }
    if (ac->c->err != HITLQ_OK || ac->c->dead) {
        ac->c->dead = true;
        ac->closed = true;
    }
    return ac;
}

static void
async_destroy(hitlq_async *ac)
{
    ev_detach(ac);
    hitlq_free(ac->c);
    free(ac->out);
    free(ac->slots);
    free(ac);
}

bool
hitlq__async_leave(hitlq_async *ac)
{
    if (--ac->depth > 0 || !ac->free_pending)
        return false;
    async_destroy(ac);
    return true;
}

void
hitlq_async_free(hitlq_async *ac)
{
    if (ac == NULL || ac->free_pending)
        return;
    ac->free_pending = true;
    if (!ac->closed) {
        hitlq__set_err(ac->c, HITLQ_ECLOSED, "context freed");
        hitlq__async_disconnect(ac);
    }
    if (ac->depth == 0)
        async_destroy(ac);
}

/* ---- accessors ------------------------------------------------------------------- */

int
hitlq_async_err(const hitlq_async *ac)
{
    return ac != NULL ? hitlq_err(ac->c) : HITLQ_EINVAL;
}

const char *
hitlq_async_errstr(const hitlq_async *ac)
{
    return ac != NULL ? hitlq_errstr(ac->c) : "no context";
}

int
hitlq_async_fd(const hitlq_async *ac)
{
    return ac != NULL ? hitlq_fd(ac->c) : -1;
}

size_t
hitlq_async_pending(const hitlq_async *ac)
{
    return ac != NULL ? ac->n_slots : 0;
}

size_t
hitlq_async_unsent(const hitlq_async *ac)
{
    return ac != NULL ? ac->out_len - ac->out_off : 0;
}

void
hitlq_async_set_push_cb(hitlq_async *ac, hitlq_async_cb *cb, void *privdata)
{
    if (ac == NULL)
        return;
    ac->push_cb = cb;
    ac->push_priv = privdata;
}

void
hitlq_async_set_disconnect_cb(hitlq_async *ac, hitlq_async_disconnect_cb *cb, void *privdata)
{
    if (ac == NULL)
        return;
    ac->dis_cb = cb;
    ac->dis_priv = privdata;
}

int
hitlq_async_attach(hitlq_async *ac, const hitlq_async_ev *ev)
{
    if (ac == NULL || ev == NULL || ac->attached)
        return HITLQ_EINVAL;
    if (ac->closed || ac->free_pending)
        return HITLQ_ECLOSED;
    ac->ev = *ev;
    ac->attached = true;
    if (ev->add_read != NULL)
        ev->add_read(ev->data);
    if (ac->out_len > ac->out_off)
        hitlq__async_want_write(ac, true);
    return HITLQ_OK;
}

/* ---- requests and replies ---------------------------------------------------- */

/* Appends n bytes to the output buffer.  0 or -1. */
static int
out_append(hitlq_async *ac, const void *p, size_t n)
{
    size_t need = ac->out_len + n, cap;
    uint8_t *nb;

    if (need > ac->out_cap) {
        if (ac->out_off > 0) {         /* compact first */
            memmove(ac->out, ac->out + ac->out_off, ac->out_len - ac->out_off);
            ac->out_len -= ac->out_off;
            ac->out_off = 0;
            need = ac->out_len + n;
        }
        for (cap = ac->out_cap ? ac->out_cap : 4096; cap < need; cap *= 2)
            ;
        if (cap > ac->out_cap) {
            if ((nb = realloc(ac->out, cap)) == NULL)
                return -1;
            ac->out = nb;
            ac->out_cap = cap;
        }
    }
    memcpy(ac->out + ac->out_len, p, n);
    ac->out_len += n;
    return 0;
}

/* A request id that is neither pending nor the WATCH stream's. */
static uint32_t
fresh_id(hitlq_async *ac)
{
    uint32_t id;

    do
        id = hitlq__next_id(ac->c);
    while (slot_find(ac, id) != NULL || id == ac->c->watch_id);
    return id;
}

int
hitlq__async_send(hitlq_async *ac, uint8_t opcode, const void *body, size_t len,
           hitlq_async_cb *cb, void *priv)
{
    uint8_t hdr[HITLQ_FRAME_HDR_LEN];
    struct frame_hdr h = { .body_len = (uint32_t)len, .opcode = opcode };
    struct async_slot s = { .opcode = opcode, .cb = cb, .priv = priv };

    if (ac->closed || ac->free_pending)
        return HITLQ_ECLOSED;
    if (len > HITLQ_MAX_FRAME || (len > 0 && body == NULL))
        return hitlq__set_err(ac->c, HITLQ_EINVAL, "request body of %zu bytes", len);
    if (ac->out_len - ac->out_off + len + sizeof(hdr) > ASYNC_MAX_UNSENT)
        return hitlq__set_err(ac->c, HITLQ_ENOMEM, "over %u bytes wait unsent",
                              ASYNC_MAX_UNSENT);
    if (slot_reserve(ac) != 0)
        return hitlq__set_err(ac->c, HITLQ_ENOMEM, "out of memory");
    s.id = h.request_id = fresh_id(ac);
    s.seq = ++ac->seq;
    frame_hdr_encode(hdr, &h);
    if (out_append(ac, hdr, sizeof(hdr)) != 0)
        return hitlq__set_err(ac->c, HITLQ_ENOMEM, "out of memory");
    if (len > 0 && out_append(ac, body, len) != 0) {
        ac->out_len -= sizeof(hdr);
        return hitlq__set_err(ac->c, HITLQ_ENOMEM, "out of memory");
    }
    slot_insert(ac, &s);
    if (opcode == HITLQ_OP_WATCH)
        ac->watch_req = s.id;
    hitlq__async_want_write(ac, true);
    return HITLQ_OK;
}

int
hitlq_async_call(hitlq_async *ac, uint8_t opcode, const void *body, size_t len,
                 hitlq_async_cb *cb, void *privdata)
{
    if (ac == NULL)
        return HITLQ_EINVAL;
    if (opcode == HITLQ_OP_WATCH)
        return hitlq_async_err(ac) == HITLQ_OK && !ac->closed
                   ? hitlq__set_err(ac->c, HITLQ_EINVAL, "use hitlq_async_watch")
                   : HITLQ_ECLOSED;
    return hitlq__async_send(ac, opcode, body, len, cb, privdata);
}

int
hitlq__async_dispatch(hitlq_async *ac, hitlq_reply *r)
{
    struct async_slot *s = slot_find(ac, r->request_id), took;

    if (s == NULL) {                   /* a push */
        async_invoke(ac, ac->push_cb, r, ac->push_priv);
        return HITLQ_OK;
    }
    if (r->opcode != s->opcode) {
        uint8_t got = r->opcode;

        hitlq_reply_free(r);
        return hitlq__fail(ac->c, HITLQ_EPROTO, "reply opcode 0x%02x to a 0x%02x request",
                           got, s->opcode);
    }
    took = *s;
    slot_remove(ac, s);
    if (took.id == ac->watch_req) {
        ac->watch_req = 0;
        if (r->status == HITLQ_ST_OK)
            ac->c->watch_id = took.id;
    }
    hitlq__reply_status(ac->c, r);     /* err/errstr for the callback */
    async_invoke(ac, took.cb, r, took.priv);
    return HITLQ_OK;
}
