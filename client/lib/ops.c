/*
 * ops.c - the typed operations of libhitlq: SUBMIT (single and pipelined
 * batch), the lease operations, GET, STATS and WATCH.  Requests are packed
 * with msgpack-c; replies are read leniently (unknown keys ignored, as
 * PROTOCOL.md §8 asks) but a missing or mistyped key we need is an error.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "wire.h"

/* Starts an empty request body. */
void
hitlq__req_init(struct hitlq__req *q)
{
    msgpack_sbuffer_init(&q->sb);
    msgpack_packer_init(&q->pk, &q->sb, msgpack_sbuffer_write);
}

/* Frees the request body's buffer. */
void
hitlq__req_clear(struct hitlq__req *q)
{
    msgpack_sbuffer_destroy(&q->sb);
}

/* Sends the packed request and waits; frees the request. */
int
hitlq__req_call(hitlq *c, struct hitlq__req *q, uint8_t op, int timeout_ms,
                hitlq_reply **out)
{
    int rc = hitlq__call(c, op, q->sb.data, q->sb.size, timeout_ms, out);

    hitlq__req_clear(q);
    return rc;
}

/* ---- reading replies ------------------------------------------------------ */

static bool
get_u64(const hitlq_reply *r, const char *key, uint64_t *v)
{
    const msgpack_object *o = hitlq_reply_get(r, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

static bool
obj_f64(const msgpack_object *o, double *v)
{
    if (o == NULL)
        return false;
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        *v = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *v = (double)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = (double)o->via.i64;
    else
        return false;
    return true;
}

/* Copies a str object into dst, truncating; false when not a str. */
static bool
obj_str(const msgpack_object *o, char *dst, size_t dstlen)
{
    size_t n;

    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return false;
    n = o->via.str.size < dstlen - 1 ? o->via.str.size : dstlen - 1;
    memcpy(dst, o->via.str.ptr, n);
    dst[n] = '\0';
    return true;
}

static void
decode_reasons(const msgpack_object *a, hitlq_decision *d)
{
    uint32_t i;

    if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (i = 0; i < a->via.array.size && d->n_reasons < HITLQ_MAX_REASONS; i++) {
        const msgpack_object *m = &a->via.array.ptr[i];

        if (m->type != MSGPACK_OBJECT_MAP)
            continue;
        const msgpack_object *rule = wire_map_get(m, "rule"), *hard = wire_map_get(m, "hard_rule");
        if (rule != NULL || hard != NULL) {
            if (d->n_rules < sizeof(d->rules) / sizeof(d->rules[0])) {
                obj_str(rule != NULL ? rule : hard, d->rules[d->n_rules].id,
                        sizeof(d->rules[0].id));
                obj_str(wire_map_get(m, "field"), d->rules[d->n_rules].field,
                        sizeof(d->rules[0].field));
                d->rules[d->n_rules++].hard = hard != NULL;
            }
            continue;
        }
        obj_str(wire_map_get(m, "feature"), d->reasons[d->n_reasons].feature,
                sizeof(d->reasons[0].feature));
        obj_f64(wire_map_get(m, "contribution"), &d->reasons[d->n_reasons].contribution);
        d->n_reasons++;
    }
}

/* Decodes the decision part of a SUBMIT reply into *d (zeroed first);
 * HITLQ_EPROTO without id or outcome. */
int
hitlq_reply_decision(const hitlq_reply *r, hitlq_decision *d)
{
    const msgpack_object *o;
    char outcome[32] = "";
    uint64_t prio = 0;

    if (r == NULL || d == NULL)
        return HITLQ_EINVAL;
    memset(d, 0, sizeof(*d));
    if (!get_u64(r, "id", &d->id) ||
        !obj_str(hitlq_reply_get(r, "outcome"), outcome, sizeof(outcome)))
        return HITLQ_EPROTO;
    d->queued = strcmp(outcome, "queued") == 0;
    o = hitlq_reply_get(r, "duplicate");
    d->duplicate = o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
    obj_str(hitlq_reply_get(r, "action"), d->action, sizeof(d->action));
    obj_str(hitlq_reply_get(r, "queue"), d->queue, sizeof(d->queue));
    obj_str(hitlq_reply_get(r, "model"), d->model, sizeof(d->model));
    if (get_u64(r, "priority", &prio))
        d->priority = prio > UINT32_MAX ? UINT32_MAX : (uint32_t)prio;
    get_u64(r, "deadline_ms", &d->deadline_ms);
    if (!obj_f64(hitlq_reply_get(r, "score"), &d->score))
        d->score = NAN;                /* nil: the item was not scored */
    obj_str(hitlq_reply_get(r, "route"), d->route, sizeof(d->route));
    obj_str(hitlq_reply_get(r, "explain"), d->explain, sizeof(d->explain));
    decode_reasons(hitlq_reply_get(r, "reasons"), d);
    return HITLQ_OK;
}

/* hitlq_reply_decision with the detail recorded in c. */
int
hitlq__decode_decision(hitlq *c, const hitlq_reply *r, hitlq_decision *d)
{
    if (r == NULL || d == NULL)
        return hitlq__set_err(c, HITLQ_EINVAL, "NULL argument");
    if (hitlq_reply_decision(r, d) != HITLQ_OK)
        return hitlq__set_err(c, HITLQ_EPROTO, "SUBMIT reply without id or outcome");
    return HITLQ_OK;
}

/* ---- submit --------------------------------------------------------------- */

static bool
is_name(const char *s, size_t max)
{
    return s != NULL && wire_is_name(s, strlen(s), max);
}

/* Packs a SUBMIT body {key, type, fields, priority?, receipt?} for item
 * (receipt NULL = no receipt key); HITLQ_EINVAL (detail in c) if invalid. */
int
hitlq__pack_submit(hitlq *c, struct hitlq__req *q, const hitlq_item *it,
                   const char *receipt)
{
    static const uint8_t empty_map = 0x80;
    bool prio = it->priority >= 0;

    if (!is_name(it->key, HITLQ_MAX_NAME) || !is_name(it->type, HITLQ_MAX_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "item key and type must be names");
    if (it->priority > (int64_t)HITLQ_MAX_PRIORITY)
        return hitlq__set_err(c, HITLQ_EINVAL, "priority %lld out of range",
                              (long long)it->priority);
    if (it->fields_len > 0 && it->fields == NULL)
        return hitlq__set_err(c, HITLQ_EINVAL, "fields_len without fields");
    msgpack_pack_map(&q->pk, 3 + prio + (receipt != NULL));
    wire_pack_kv_str(&q->pk, "key", it->key);
    wire_pack_kv_str(&q->pk, "type", it->type);
    wire_pack_cstr(&q->pk, "fields");
    if (it->fields_len > 0)
        msgpack_sbuffer_write(&q->sb, it->fields, it->fields_len);
    else
        msgpack_sbuffer_write(&q->sb, (const char *)&empty_map, 1);
    if (prio)
        wire_pack_kv_u64(&q->pk, "priority", (uint64_t)it->priority);
    if (receipt != NULL)
        wire_pack_kv_str(&q->pk, "receipt", receipt);
    return HITLQ_OK;
}

int
hitlq_submit(hitlq *c, const hitlq_item *item, hitlq_decision *out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL || item == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_submit(c, &q, item, NULL)) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_SUBMIT, c->timeout_ms, &r);
    if (rc == HITLQ_OK)
        rc = hitlq__decode_decision(c, r, out);
    hitlq_reply_free(r);
    return rc;
}

/* State of one pipelined batch. */
struct batch {
    const hitlq_item *items;
    size_t            n, sent, done, inflight;
    uint32_t          base;      /* request id of items[0] */
    hitlq_decision   *out;
    int              *status;
};

#define BATCH_WAITING INT_MIN

/* Packs and sends items[b->sent]. */
static int
batch_send_one(hitlq *c, struct batch *b, struct hitlq__req *q)
{
    size_t i = b->sent++;
    int rc;

    q->sb.size = 0;
    if (hitlq__pack_submit(c, q, &b->items[i], NULL) != HITLQ_OK) {
        b->status[i] = HITLQ_EINVAL;
        b->done++;
        return HITLQ_OK;
    }
    rc = hitlq__send(c, HITLQ_OP_SUBMIT, b->base + (uint32_t)i, q->sb.data,
                     q->sb.size, hitlq__deadline(c->timeout_ms));
    if (rc != HITLQ_OK)
        return rc;
    b->status[i] = BATCH_WAITING;
    b->inflight++;
    return HITLQ_OK;
}

/* Reads one reply and files it under its item (or parks it). */
static int
batch_recv_one(hitlq *c, struct batch *b)
{
    hitlq_reply *r = NULL;
    size_t i;
    int rc = hitlq__read_frame(c, hitlq__deadline(c->timeout_ms), false, &r);

    if (rc != HITLQ_OK)
        return rc;
    i = (uint32_t)(r->request_id - b->base);
    if (i >= b->sent || b->status[i] != BATCH_WAITING || r->opcode != HITLQ_OP_SUBMIT) {
        if (r->opcode == HITLQ_OP_RESULT && c->n_pending >= HITLQ_MAX_INFLIGHT) {
            hitlq_reply_free(r);
            return HITLQ_OK;
        }
        return hitlq__park(c, r);
    }
    rc = hitlq__reply_status(c, r);
    if (rc == HITLQ_OK)
        rc = hitlq__decode_decision(c, r, &b->out[i]);
    b->status[i] = rc;
    b->inflight--;
    b->done++;
    hitlq_reply_free(r);
    return c->dead ? HITLQ_ECLOSED : HITLQ_OK;
}

int
hitlq_submit_batch(hitlq *c, const hitlq_item *items, size_t n,
                   size_t window, hitlq_decision *out, int *status)
{
    struct batch b = { .items = items, .n = n, .out = out, .status = status };
    struct hitlq__req q;
    size_t i;
    int rc = HITLQ_OK;

    if (c == NULL || (n > 0 && (items == NULL || out == NULL || status == NULL)))
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    if (window == 0 || window > HITLQ_MAX_INFLIGHT)
        window = HITLQ_MAX_INFLIGHT;
    if (c->next_id > UINT32_MAX - n - 1)
        c->next_id = 0;                 /* keep this batch's ids contiguous */
    b.base = c->next_id + 1;
    c->next_id += (uint32_t)n;
    hitlq__req_init(&q);
    while (rc == HITLQ_OK && b.done < n) {
        while (rc == HITLQ_OK && b.sent < n && b.inflight < window)
            rc = batch_send_one(c, &b, &q);
        if (rc == HITLQ_OK && b.inflight > 0)
            rc = batch_recv_one(c, &b);
    }
    hitlq__req_clear(&q);
    for (i = 0; rc != HITLQ_OK && i < n; i++)
        if (i >= b.sent || status[i] == BATCH_WAITING)
            status[i] = rc;
    return rc;
}

/* ---- specialists ---------------------------------------------------------- */

void
hitlq_claim_clear(struct hitlq_claim *cl)
{
    if (cl == NULL)
        return;
    hitlq_reply_free(cl->reply);
    memset(cl, 0, sizeof(*cl));
}

int
hitlq_claim(hitlq *c, const char *const *queues, size_t n_queues,
            uint32_t lease_ms, uint32_t wait_ms, const char *worker,
            struct hitlq_claim *out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc, timeout;

    if (c == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    memset(out, 0, sizeof(*out));
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_claim(c, &q, queues, n_queues, lease_ms, wait_ms, worker)) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    /* A waiting CLAIM legitimately takes wait_ms longer than other calls. */
    timeout = c->timeout_ms > 0 ? c->timeout_ms + (int)wait_ms : 0;
    rc = hitlq__req_call(c, &q, HITLQ_OP_CLAIM, timeout, &r);
    if (rc == HITLQ_OK && (!get_u64(r, "id", &out->id) || !get_u64(r, "lease", &out->lease)))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "CLAIM reply without id or lease");
    if (rc != HITLQ_OK) {
        hitlq_reply_free(r);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    get_u64(r, "expires_ms", &out->expires_ms);
    out->reply = r;
    return HITLQ_OK;
}

int
hitlq_extend(hitlq *c, uint64_t id, uint64_t lease, uint32_t lease_ms,
             uint64_t *expires_ms)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    hitlq__pack_extend(&q, id, lease, lease_ms);
    rc = hitlq__req_call(c, &q, HITLQ_OP_EXTEND, c->timeout_ms, &r);
    if (rc == HITLQ_OK && expires_ms != NULL && !get_u64(r, "expires_ms", expires_ms))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "EXTEND reply without expires_ms");
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_release(hitlq *c, uint64_t id, uint64_t lease, uint32_t delay_ms)
{
    return hitlq_release_waiting(c, id, lease, delay_ms, NULL);
}

int
hitlq_release_waiting(hitlq *c, uint64_t id, uint64_t lease, uint32_t delay_ms,
                      const char *waiting_on)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_release(c, &q, id, lease, delay_ms, waiting_on)) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_RELEASE, c->timeout_ms, &r);
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_resolve(hitlq *c, uint64_t id, uint64_t lease, const char *outcome,
              const char *note, const char *root_cause, uint64_t *seq)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_resolve(c, &q, id, lease, outcome, note, root_cause)) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_RESOLVE, c->timeout_ms, &r);
    if (rc == HITLQ_OK && seq != NULL && !get_u64(r, "seq", seq))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "RESOLVE reply without seq");
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_escalate(hitlq *c, uint64_t id, uint64_t lease, const char *queue,
               const char *note)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    if ((rc = hitlq__pack_escalate(c, &q, id, lease, queue, note)) != HITLQ_OK) {
        hitlq__req_clear(&q);
        return rc;
    }
    rc = hitlq__req_call(c, &q, HITLQ_OP_ESCALATE, c->timeout_ms, &r);
    hitlq_reply_free(r);
    return rc;
}

/* ---- inspection ------------------------------------------------------------ */

static int
get_req(hitlq *c, uint64_t id, bool exact, hitlq_reply **out)
{
    struct hitlq__req q;

    if (c == NULL || out == NULL)
        return HITLQ_EINVAL;
    hitlq__req_init(&q);
    hitlq__pack_get(&q, id, exact);
    return hitlq__req_call(c, &q, HITLQ_OP_GET, c->timeout_ms, out);
}

int
hitlq_get(hitlq *c, uint64_t id, hitlq_reply **out)
{
    return get_req(c, id, false, out);
}

int
hitlq_get_exact(hitlq *c, uint64_t id, hitlq_reply **out)
{
    return get_req(c, id, true, out);
}

int
hitlq_stats(hitlq *c, hitlq_reply **out)
{
    if (c == NULL || out == NULL)
        return HITLQ_EINVAL;
    return hitlq__call(c, HITLQ_OP_STATS, NULL, 0, c->timeout_ms, out);
}

/* ---- results ----------------------------------------------------------------- */

/* Sends WATCH and waits for its reply; RESULTs that overtake it are parked. */
static int
watch_start(hitlq *c, uint64_t cursor)
{
    int64_t deadline = hitlq__deadline(c->timeout_ms);
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    uint32_t id = hitlq__next_id(c);
    int rc;

    hitlq__req_init(&q);
    hitlq__pack_watch(&q, cursor);
    rc = hitlq__send(c, HITLQ_OP_WATCH, id, q.sb.data, q.sb.size, deadline);
    hitlq__req_clear(&q);
    while (rc == HITLQ_OK) {
        if ((rc = hitlq__read_frame(c, deadline, false, &r)) != HITLQ_OK)
            break;
        if (r->request_id == id && r->opcode == HITLQ_OP_WATCH)
            break;
        rc = hitlq__park(c, r);
        r = NULL;
    }
    if (rc == HITLQ_OK)
        rc = hitlq__reply_status(c, r);
    hitlq_reply_free(r);
    if (rc == HITLQ_OK)
        c->watch_id = id;
    return rc;
}

/* Next RESULT for our WATCH, parked or from the wire. */
static int
watch_next(hitlq *c, int idle_ms, hitlq_reply **out)
{
    hitlq_reply *r;
    int rc;

    while ((r = hitlq__unpark(c, c->watch_id)) == NULL) {
        rc = hitlq__read_frame(c, hitlq__deadline(idle_ms), true, &r);
        if (rc != HITLQ_OK)
            return rc;
        if (r->request_id == c->watch_id)
            break;
        if ((rc = hitlq__park(c, r)) != HITLQ_OK)
            return rc;
    }
    /* cppcheck-suppress nullPointerRedundantCheck ; the loop ends only with r set */
    if (r->status != HITLQ_ST_OK) {           /* the server ended the stream */
        rc = hitlq__reply_status(c, r);
        hitlq_reply_free(r);
        return rc;
    }
    if (r->opcode != HITLQ_OP_RESULT) {
        hitlq_reply_free(r);
        return hitlq__fail(c, HITLQ_EPROTO, "non-RESULT frame on the watch id");
    }
    *out = r;
    return HITLQ_OK;
}

int
hitlq_watch(hitlq *c, uint64_t cursor, int idle_ms,
            int (*fn)(void *arg, const hitlq_reply *result), void *arg)
{
    hitlq_reply *r = NULL;
    int rc, stop;

    if (c == NULL || fn == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL callback") : HITLQ_EINVAL;
    if ((rc = hitlq__check(c)) != HITLQ_OK)
        return rc;
    /* Only one WATCH per connection: a second call resumes the stream. */
    if (c->watch_id == 0 && (rc = watch_start(c, cursor)) != HITLQ_OK)
        return rc;
    for (;;) {
        if ((rc = watch_next(c, idle_ms, &r)) != HITLQ_OK)
            return rc;
        stop = fn(arg, r);
        hitlq_reply_free(r);
        if (stop) {
            c->err = HITLQ_OK;
            return HITLQ_OK;
        }
    }
}
