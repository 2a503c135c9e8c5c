/*
 * ops_drift.c - DRIFT_INPUTS in libhitlq (PROTOCOL.md §4.12a): a type's
 * input drift per feature over a range of windows, as the server computes
 * it against the type's reference profile (auditors and admins).
 */
#include "client_int.h"
#include "wire.h"

int
hitlq_drift_inputs(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                   hitlq_reply **out)
{
    struct hitlq__req q;

    if (c == NULL || type == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *out = NULL;
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 1 + (from_ms != 0) + (to_ms != 0));
    wire_pack_kv_str(&q.pk, "type", type);
    if (from_ms != 0)
        wire_pack_kv_u64(&q.pk, "from_ms", from_ms);
    if (to_ms != 0)
        wire_pack_kv_u64(&q.pk, "to_ms", to_ms);
    return hitlq__req_call(c, &q, HITLQ_OP_DRIFT_INPUTS, c->timeout_ms, out);
}
