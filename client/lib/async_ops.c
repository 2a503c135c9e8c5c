/*
 * async_ops.c - the typed requests of the asynchronous libhitlq
 * (include/hitlq_async.h): SUBMIT, CLAIM, EXTEND, RELEASE, RESOLVE,
 * ESCALATE, GET and WATCH, each packed by the one encoder the blocking
 * call uses (hitlq__pack_submit in ops.c, the others in ops_pack.c) and
 * queued by async_send.
 */
#include "async_int.h"

/* Queues the packed request q (freed here) unless rc already failed. */
static int
ops_queue(hitlq_async *ac, struct hitlq__req *q, int rc, uint8_t op,
          hitlq_async_cb *cb, void *priv)
{
    if (rc == HITLQ_OK)
        rc = hitlq__async_send(ac, op, q->sb.data, q->sb.size, cb, priv);
    hitlq__req_clear(q);
    return rc;
}

/* HITLQ_OK when ac can take a request (for the argument checks). */
static int
ops_usable(const hitlq_async *ac)
{
    if (ac == NULL)
        return HITLQ_EINVAL;
    return ac->closed || ac->free_pending ? HITLQ_ECLOSED : HITLQ_OK;
}

int
hitlq_async_submit(hitlq_async *ac, const hitlq_item *item, hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    if (item == NULL)
        return hitlq__set_err(ac->c, HITLQ_EINVAL, "NULL item");
    hitlq__req_init(&q);
    rc = hitlq__pack_submit(ac->c, &q, item, NULL);
    return ops_queue(ac, &q, rc, HITLQ_OP_SUBMIT, cb, privdata);
}

int
hitlq_async_claim(hitlq_async *ac, const char *const *queues, size_t n_queues,
                  uint32_t lease_ms, uint32_t wait_ms, const char *worker,
                  hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_claim(ac->c, &q, queues, n_queues, lease_ms, wait_ms, worker);
    return ops_queue(ac, &q, rc, HITLQ_OP_CLAIM, cb, privdata);
}

int
hitlq_async_extend(hitlq_async *ac, uint64_t id, uint64_t lease, uint32_t lease_ms,
                   hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_extend(&q, id, lease, lease_ms);
    return ops_queue(ac, &q, rc, HITLQ_OP_EXTEND, cb, privdata);
}

int
hitlq_async_release(hitlq_async *ac, uint64_t id, uint64_t lease, uint32_t delay_ms,
                    hitlq_async_cb *cb, void *privdata)
{
    return hitlq_async_release_waiting(ac, id, lease, delay_ms, NULL, cb, privdata);
}

int
hitlq_async_release_waiting(hitlq_async *ac, uint64_t id, uint64_t lease, uint32_t delay_ms,
                            const char *waiting_on, hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_release(ac->c, &q, id, lease, delay_ms, waiting_on);
    return ops_queue(ac, &q, rc, HITLQ_OP_RELEASE, cb, privdata);
}

int
hitlq_async_resolve(hitlq_async *ac, uint64_t id, uint64_t lease, const char *outcome,
                    const char *note, const char *root_cause,
                    hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_resolve(ac->c, &q, id, lease, outcome, note, root_cause);
    return ops_queue(ac, &q, rc, HITLQ_OP_RESOLVE, cb, privdata);
}

int
hitlq_async_escalate(hitlq_async *ac, uint64_t id, uint64_t lease, const char *queue,
                     const char *note, hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_escalate(ac->c, &q, id, lease, queue, note);
    return ops_queue(ac, &q, rc, HITLQ_OP_ESCALATE, cb, privdata);
}

int
hitlq_async_get(hitlq_async *ac, uint64_t id, bool exact, hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    rc = hitlq__pack_get(&q, id, exact);
    return ops_queue(ac, &q, rc, HITLQ_OP_GET, cb, privdata);
}

int
hitlq_async_watch(hitlq_async *ac, uint64_t cursor, hitlq_async_cb *cb, void *privdata)
{
    struct hitlq__req q;
    int rc = ops_usable(ac);

    if (rc != HITLQ_OK)
        return rc;
    if (ac->c->watch_id != 0 || ac->watch_req != 0)
        return hitlq__set_err(ac->c, HITLQ_EINVAL, "one WATCH per connection");
    hitlq__req_init(&q);
    rc = hitlq__pack_watch(&q, cursor);
    return ops_queue(ac, &q, rc, HITLQ_OP_WATCH, cb, privdata);
}
