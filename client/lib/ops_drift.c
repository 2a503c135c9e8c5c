/*
 * ops_drift.c - DRIFT_INPUTS and DRIFT_REVIEW in libhitlq (PROTOCOL.md
 * §4.12a, §4.12b): a type's input drift per feature over a range of
 * windows, as the server computes it against the type's reference
 * profile, and its live AI-vs-human review (auditors and admins).
 */
#include "client_int.h"
#include "wire.h"

/* {type, from_ms?, to_ms?} sent as opcode op. */
static int
drift_call(hitlq *c, uint8_t op, const char *type, uint64_t from_ms, uint64_t to_ms,
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
    return hitlq__req_call(c, &q, op, c->timeout_ms, out);
}

int
hitlq_drift_inputs(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                   hitlq_reply **out)
{
    return drift_call(c, HITLQ_OP_DRIFT_INPUTS, type, from_ms, to_ms, out);
}

int
hitlq_drift_review(hitlq *c, const char *type, uint64_t from_ms, uint64_t to_ms,
                   hitlq_reply **out)
{
    return drift_call(c, HITLQ_OP_DRIFT_REVIEW, type, from_ms, to_ms, out);
}
