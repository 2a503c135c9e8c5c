/*
 * ops_work.c - the specialists' work operations in libhitlq (PROTOCOL.md
 * §4.15-4.20): GET_BY_KEY, LIST, CLAIM_ID, COMMENT, REOPEN and AMEND.
 * Arguments are checked against the protocol's limits before anything is
 * sent (HITLQ_EINVAL with the detail in hitlq_errstr).
 */
#include <string.h>

#include "client_int.h"
#include "wire.h"

static bool
work_is_name(const char *s, size_t max)
{
    return s != NULL && wire_is_name(s, strlen(s), max);
}

/* A required note: 1..HITLQ_MAX_NOTE bytes. */
static int
work_check_note(hitlq *c, const char *note)
{
    if (note == NULL || note[0] == '\0' || strlen(note) > HITLQ_MAX_NOTE)
        return hitlq__set_err(c, HITLQ_EINVAL, "note must be 1..%u bytes", HITLQ_MAX_NOTE);
    return HITLQ_OK;
}

int
hitlq_get_by_key(hitlq *c, const char *key, hitlq_reply **out)
{
    struct hitlq__req q;

    if (c == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *out = NULL;
    if (!work_is_name(key, HITLQ_MAX_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad key");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 1);
    wire_pack_kv_str(&q.pk, "key", key);
    return hitlq__req_call(c, &q, HITLQ_OP_GET_BY_KEY, c->timeout_ms, out);
}

int
hitlq_list(hitlq *c, const char *queue, uint64_t after, uint32_t limit, hitlq_reply **out)
{
    struct hitlq__req q;

    if (c == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    *out = NULL;
    if (!work_is_name(queue, HITLQ_MAX_QUEUE_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad queue name");
    if (limit > 1000)
        return hitlq__set_err(c, HITLQ_EINVAL, "limit must be 1..1000");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 1 + (after != 0) + (limit != 0));
    wire_pack_kv_str(&q.pk, "queue", queue);
    if (after != 0)
        wire_pack_kv_u64(&q.pk, "after", after);
    if (limit != 0)
        wire_pack_kv_u64(&q.pk, "limit", limit);
    return hitlq__req_call(c, &q, HITLQ_OP_LIST, c->timeout_ms, out);
}

int
hitlq_claim_id(hitlq *c, uint64_t id, uint32_t lease_ms, const char *worker,
               struct hitlq_claim *out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL || out == NULL)
        return c ? hitlq__set_err(c, HITLQ_EINVAL, "NULL argument") : HITLQ_EINVAL;
    memset(out, 0, sizeof(*out));
    if (worker != NULL && !work_is_name(worker, HITLQ_MAX_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad worker name");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 1 + (lease_ms > 0) + (worker != NULL));
    wire_pack_kv_u64(&q.pk, "id", id);
    if (lease_ms > 0)
        wire_pack_kv_u64(&q.pk, "lease_ms", lease_ms);
    if (worker != NULL)
        wire_pack_kv_str(&q.pk, "worker", worker);
    rc = hitlq__req_call(c, &q, HITLQ_OP_CLAIM_ID, c->timeout_ms, &r);
    if (rc == HITLQ_OK && (!hitlq_reply_get_u64(r, "id", &out->id) ||
                           !hitlq_reply_get_u64(r, "lease", &out->lease)))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "CLAIM_ID reply without id or lease");
    if (rc != HITLQ_OK) {
        hitlq_reply_free(r);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    hitlq_reply_get_u64(r, "expires_ms", &out->expires_ms);
    out->reply = r;
    return HITLQ_OK;
}

int
hitlq_comment(hitlq *c, uint64_t id, const char *note, uint64_t *at_ms)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    if ((rc = work_check_note(c, note)) != HITLQ_OK)
        return rc;
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 2);
    wire_pack_kv_u64(&q.pk, "id", id);
    wire_pack_kv_str(&q.pk, "note", note);
    rc = hitlq__req_call(c, &q, HITLQ_OP_COMMENT, c->timeout_ms, &r);
    if (rc == HITLQ_OK && at_ms != NULL && !hitlq_reply_get_u64(r, "at_ms", at_ms))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "COMMENT reply without at_ms");
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_reopen(hitlq *c, uint64_t id, const char *queue, const char *note, char *queue_out)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    if ((rc = work_check_note(c, note)) != HITLQ_OK)
        return rc;
    if (queue != NULL && !work_is_name(queue, HITLQ_MAX_QUEUE_NAME))
        return hitlq__set_err(c, HITLQ_EINVAL, "bad queue name");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 2 + (queue != NULL));
    wire_pack_kv_u64(&q.pk, "id", id);
    wire_pack_kv_str(&q.pk, "note", note);
    if (queue != NULL)
        wire_pack_kv_str(&q.pk, "queue", queue);
    rc = hitlq__req_call(c, &q, HITLQ_OP_REOPEN, c->timeout_ms, &r);
    if (rc == HITLQ_OK && queue_out != NULL &&
        hitlq_reply_copy_str(r, "queue", queue_out, HITLQ_MAX_QUEUE_NAME + 1) < 0)
        rc = hitlq__set_err(c, HITLQ_EPROTO, "REOPEN reply without queue");
    hitlq_reply_free(r);
    return rc;
}

int
hitlq_amend(hitlq *c, uint64_t id, const char *outcome, const char *note,
            const char *root_cause, uint64_t *seq)
{
    hitlq_reply *r = NULL;
    struct hitlq__req q;
    int rc;

    if (c == NULL)
        return HITLQ_EINVAL;
    if ((rc = work_check_note(c, note)) != HITLQ_OK)
        return rc;
    if (!work_is_name(outcome, HITLQ_MAX_NAME) ||
        (root_cause != NULL && !work_is_name(root_cause, HITLQ_MAX_NAME)))
        return hitlq__set_err(c, HITLQ_EINVAL, "outcome and root cause must be names");
    hitlq__req_init(&q);
    msgpack_pack_map(&q.pk, 3 + (root_cause != NULL));
    wire_pack_kv_u64(&q.pk, "id", id);
    wire_pack_kv_str(&q.pk, "note", note);
    wire_pack_kv_str(&q.pk, "outcome", outcome);
    if (root_cause != NULL)
        wire_pack_kv_str(&q.pk, "root_cause", root_cause);
    rc = hitlq__req_call(c, &q, HITLQ_OP_AMEND, c->timeout_ms, &r);
    if (rc == HITLQ_OK && seq != NULL && !hitlq_reply_get_u64(r, "seq", seq))
        rc = hitlq__set_err(c, HITLQ_EPROTO, "AMEND reply without seq");
    hitlq_reply_free(r);
    return rc;
}
