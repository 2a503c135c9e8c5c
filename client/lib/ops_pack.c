/*
 * ops_pack.c - the request encoders of libhitlq's specialist and
 * inspection operations (CLAIM, EXTEND, RELEASE, RESOLVE, ESCALATE, GET,
 * WATCH): one encoder per request, shared by the blocking calls (ops.c)
 * and the asynchronous ones (async_ops.c).  Each checks its arguments
 * before it packs anything.  SUBMIT's encoder is hitlq__pack_submit (ops.c).
 */
#include <string.h>

#include "client_int.h"
#include "wire.h"

static bool
is_name(const char *s, size_t max)
{
    return s != NULL && wire_is_name(s, strlen(s), max);
}

int
hitlq__pack_claim(hitlq *c, struct hitlq__req *q, const char *const *queues, size_t nq,
                  uint32_t lease_ms, uint32_t wait_ms, const char *worker)
{
    size_t i;

    if (queues == NULL || nq == 0 || nq > HITLQ_MAX_CLAIM_QUEUES)
        return hitlq__set_err(c, HITLQ_EINVAL, "CLAIM needs 1..%u queues",
                              HITLQ_MAX_CLAIM_QUEUES);
    for (i = 0; i < nq; i++)
        if (!is_name(queues[i], HITLQ_MAX_QUEUE_NAME))
            return hitlq__set_err(c, HITLQ_EINVAL, "bad queue name");
    if (worker != NULL && !is_name(worker, HITLQ_MAX_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad worker name");
    if (wait_ms > HITLQ_MAX_WAIT_MS)
        return hitlq__set_err(c, HITLQ_EINVAL, "wait_ms over %u", HITLQ_MAX_WAIT_MS);
    msgpack_pack_map(&q->pk, 2 + (lease_ms > 0) + (worker != NULL));
    wire_pack_cstr(&q->pk, "queues");
    msgpack_pack_array(&q->pk, nq);
    for (i = 0; i < nq; i++)
        wire_pack_cstr(&q->pk, queues[i]);
    wire_pack_kv_u64(&q->pk, "wait_ms", wait_ms);
    if (lease_ms > 0)
        wire_pack_kv_u64(&q->pk, "lease_ms", lease_ms);
    if (worker != NULL)
        wire_pack_kv_str(&q->pk, "worker", worker);
    return HITLQ_OK;
}

/* Starts a lease-operation body {id, lease, ...extra}. */
static void
pack_lease(struct hitlq__req *q, size_t extra, uint64_t id, uint64_t lease)
{
    msgpack_pack_map(&q->pk, 2 + extra);
    wire_pack_kv_u64(&q->pk, "id", id);
    wire_pack_kv_u64(&q->pk, "lease", lease);
}

int
hitlq__pack_extend(struct hitlq__req *q, uint64_t id, uint64_t lease, uint32_t lease_ms)
{
    pack_lease(q, lease_ms > 0, id, lease);
    if (lease_ms > 0)
        wire_pack_kv_u64(&q->pk, "lease_ms", lease_ms);
    return HITLQ_OK;
}

int
hitlq__pack_release(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                    uint32_t delay_ms, const char *waiting_on)
{
    bool w = waiting_on != NULL && waiting_on[0] != '\0';

    if (w && !is_name(waiting_on, HITLQ_MAX_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "waiting_on must be a name");
    pack_lease(q, (delay_ms > 0) + w, id, lease);
    if (delay_ms > 0)
        wire_pack_kv_u64(&q->pk, "delay_ms", delay_ms);
    if (w)
        wire_pack_kv_str(&q->pk, "waiting_on", waiting_on);
    return HITLQ_OK;
}

int
hitlq__pack_resolve(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                    const char *outcome, const char *note, const char *root_cause)
{
    if (!is_name(outcome, HITLQ_MAX_NAME) ||
        (root_cause != NULL && !is_name(root_cause, HITLQ_MAX_NAME)))
        return hitlq__set_err(c, HITLQ_EINVAL, "outcome and root cause must be names");
    if (note != NULL && strlen(note) > HITLQ_MAX_NOTE)
        return hitlq__set_err(c, HITLQ_EINVAL, "note over %u bytes", HITLQ_MAX_NOTE);
    pack_lease(q, 1 + (note != NULL) + (root_cause != NULL), id, lease);
    wire_pack_kv_str(&q->pk, "outcome", outcome);
    if (note != NULL)
        wire_pack_kv_str(&q->pk, "note", note);
    if (root_cause != NULL)
        wire_pack_kv_str(&q->pk, "root_cause", root_cause);
    return HITLQ_OK;
}

int
hitlq__pack_escalate(hitlq *c, struct hitlq__req *q, uint64_t id, uint64_t lease,
                     const char *queue, const char *note)
{
    if (!is_name(queue, HITLQ_MAX_QUEUE_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad queue name");
    if (note != NULL && strlen(note) > HITLQ_MAX_NOTE)
        return hitlq__set_err(c, HITLQ_EINVAL, "note over %u bytes", HITLQ_MAX_NOTE);
    pack_lease(q, 1 + (note != NULL), id, lease);
    wire_pack_kv_str(&q->pk, "queue", queue);
    if (note != NULL)
        wire_pack_kv_str(&q->pk, "note", note);
    return HITLQ_OK;
}

int
hitlq__pack_get(struct hitlq__req *q, uint64_t id, bool exact)
{
    msgpack_pack_map(&q->pk, exact ? 2 : 1);
    wire_pack_kv_u64(&q->pk, "id", id);
    if (exact)
        wire_pack_kv_str(&q->pk, "explain", "exact");
    return HITLQ_OK;
}

int
hitlq__pack_watch(struct hitlq__req *q, uint64_t cursor)
{
    msgpack_pack_map(&q->pk, 1);
    wire_pack_kv_u64(&q->pk, "cursor", cursor);
    return HITLQ_OK;
}
