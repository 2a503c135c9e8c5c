/*
 * claim_view.c - the CLAIM reply a workstation renders (claim_view_pack,
 * claim_view.h; PROTOCOL.md §4.6): the claimed item's summary as the
 * store packed it (reasons sorted as in every reply, explain.h), plus
 * what a reviewer needs on one screen: the lease token as a decimal
 * string, the model's recommendation as the audit log recorded it, the
 * score band, the outcomes RESOLVE accepts, the queues ESCALATE accepts,
 * the declared root causes and the notes of the item's history.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "claim_view.h"
#include "config.h"
#include "explain.h"
#include "queue.h"
#include "score.h"
#include "server.h"
#include "wire.h"

#define CLAIM_VIEW_NOTES   32u      /* the last notes of the history */
#define CLAIM_VIEW_QUEUES  256u     /* queues listed in escalate_to */
#define CLAIM_VIEW_KEYS    64u      /* keys of the store's summary */

/* What claim_view_pack reads of the summary map. */
struct claim_facts {
    uint64_t                  id, lease;
    char                      type[HITLQ_MAX_NAME + 1];
    bool                      scored, blind;    /* score not nil; a QA copy */
    double                    score;
    const struct type_policy *p;                /* NULL: no policy for the type */
};

static bool
claim_str_is(const msgpack_object *o, const char *s)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static int
claim_facts_read(const struct hitlq_server *srv, const msgpack_object *m,
                 struct claim_facts *f)
{
    const msgpack_object *id = wire_map_get(m, "id"), *lease = wire_map_get(m, "lease");
    const msgpack_object *type = wire_map_get(m, "type"), *score = wire_map_get(m, "score");

    memset(f, 0, sizeof(*f));
    if (id == NULL || lease == NULL || type == NULL || type->type != MSGPACK_OBJECT_STR ||
        type->via.str.size > HITLQ_MAX_NAME)
        return -1;
    f->id = wire_u64(id);
    f->lease = wire_u64(lease);
    wire_copy_str(type, f->type, sizeof(f->type));
    f->scored = score != NULL && (score->type == MSGPACK_OBJECT_FLOAT64 ||
                                  score->type == MSGPACK_OBJECT_FLOAT32);
    f->score = f->scored ? score->via.f64 : 0.0;
    f->blind = claim_str_is(wire_map_get(m, "route"), "qa_sample");
    f->p = scoring_policy(srv->scoring, f->type);
    return 0;
}

/* The recommendation the item's model-decision entry recorded; without
 * the log (or a v1 entry), the policy in force's (score_recommendation's
 * rule on the stored score).  "" for a blind QA copy and unscored items. */
static void
claim_recommendation(struct hitlq_server *srv, MDB_txn *txn, const struct claim_facts *f,
                     char *out, size_t cap)
{
    uint64_t index;

    out[0] = '\0';
    if (f->blind || !f->scored)
        return;
    if (txn != NULL && queue_audit_ref(srv->store, txn, f->id, &index, NULL) == HITLQ_ST_OK &&
        audit_recommendation(srv->audit, txn, index, out, cap) == HITLQ_ST_OK)
        return;
    if (f->p == NULL)
        return;
    snprintf(out, cap, "%s", f->score >= f->p->lean_threshold ? f->p->auto_action
                             : f->p->has_reject ? f->p->reject_action : "");
}

/* Index of the band the score falls in (as triage matches it), or -1. */
static long
claim_band(const struct claim_facts *f)
{
    if (f->p == NULL || !f->scored || f->blind)
        return -1;
    for (size_t i = 0; i < f->p->n_bands; i++)
        if (f->score >= f->p->bands[i].min_score)
            return (long)i;
    return -1;
}

static void
claim_pack_names(msgpack_packer *pk, const char *key, char (*names)[HITLQ_MAX_NAME + 1],
                 size_t n)
{
    wire_pack_cstr(pk, key);
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        wire_pack_cstr(pk, names[i]);
}

/* actions: the outcomes RESOLVE accepts (score_outcome_declared). */
static void
claim_pack_actions(msgpack_packer *pk, const struct type_policy *p)
{
    wire_pack_cstr(pk, "actions");
    if (p == NULL) {
        msgpack_pack_array(pk, 0);
        return;
    }
    msgpack_pack_array(pk, (uint32_t)(1 + p->has_reject + p->n_actions));
    wire_pack_cstr(pk, p->auto_action);
    if (p->has_reject)
        wire_pack_cstr(pk, p->reject_action);
    for (size_t i = 0; i < p->n_actions; i++)
        wire_pack_cstr(pk, p->actions[i]);
}

static void
claim_pack_queues(struct hitlq_server *srv, msgpack_packer *pk)
{
    const char *q[CLAIM_VIEW_QUEUES];
    size_t n = scoring_queues(srv->scoring, srv->cfg->dead_letter_queue, q,
                              CLAIM_VIEW_QUEUES, NULL);

    wire_pack_cstr(pk, "escalate_to");
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        wire_pack_cstr(pk, q[i]);
}

/* The added keys (CLAIM_VIEW_ADDED, + 1 with a band). */
#define CLAIM_VIEW_ADDED 6u
static int
claim_pack_added(struct hitlq_server *srv, MDB_txn *txn, const struct claim_facts *f,
                 long band, msgpack_packer *pk)
{
    char tok[24], rec[HITLQ_MAX_NAME + 1];

    snprintf(tok, sizeof(tok), "%" PRIu64, f->lease);
    wire_pack_kv_str(pk, "lease_str", tok);
    claim_recommendation(srv, txn, f, rec, sizeof(rec));
    wire_pack_kv_str(pk, "recommendation", rec);
    if (band >= 0) {
        wire_pack_cstr(pk, "band");
        msgpack_pack_map(pk, 2);
        wire_pack_kv_u64(pk, "index", (uint64_t)band);
        wire_pack_kv_f64(pk, "min_score", f->p->bands[band].min_score);
    }
    claim_pack_actions(pk, f->p);
    claim_pack_queues(srv, pk);
    claim_pack_names(pk, "root_causes", f->p ? f->p->root_causes : NULL,
                     f->p ? f->p->n_root_causes : 0);
    wire_pack_cstr(pk, "notes");
    if (txn == NULL)
        return HITLQ_ST_INTERNAL;
    return queue_notes_pack(srv->store, txn, f->id, CLAIM_VIEW_NOTES, pk);
}

/* Copies the value of kv (raw bytes of mp), sorting "reasons". */
static int
claim_copy_value(const uint8_t *mp, size_t len, const char *key, msgpack_packer *pk)
{
    const uint8_t *raw;
    size_t rl;
    uint8_t *sorted;

    if (!wire_body_raw(mp, len, key, &raw, &rl))
        return -1;
    if (strcmp(key, "reasons") != 0 || (sorted = malloc(rl)) == NULL) {
        pk->callback(pk->data, (const char *)raw, rl);
        return 0;
    }
    if (explain_sort_reasons(raw, rl, sorted) == 0)
        pk->callback(pk->data, (const char *)sorted, rl);
    else
        pk->callback(pk->data, (const char *)raw, rl);
    free(sorted);
    return 0;
}

/* The summary's pairs, byte for byte but for the reasons' order. */
static int
claim_copy_summary(const uint8_t *mp, size_t len, const msgpack_object *m,
                   msgpack_packer *pk)
{
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        char key[64];

        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size >= sizeof(key))
            return -1;
        memcpy(key, k->via.str.ptr, k->via.str.size);
        key[k->via.str.size] = '\0';
        msgpack_pack_object(pk, *k);
        if (claim_copy_value(mp, len, key, pk) != 0)
            return -1;
    }
    return 0;
}

int
claim_view_pack(struct hitlq_server *srv, const uint8_t *mp, size_t len, msgpack_packer *pk)
{
    msgpack_unpacked u;
    struct claim_facts f;
    MDB_txn *txn;
    long band;
    int st = HITLQ_ST_INTERNAL;

    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, (const char *)mp, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP || u.data.via.map.size > CLAIM_VIEW_KEYS ||
        claim_facts_read(srv, &u.data, &f) != 0) {
        msgpack_unpacked_destroy(&u);
        return HITLQ_ST_INTERNAL;
    }
    band = claim_band(&f);
    msgpack_pack_map(pk, u.data.via.map.size + CLAIM_VIEW_ADDED + (band >= 0));
    if (claim_copy_summary(mp, len, &u.data, pk) == 0) {
        txn = server_read_begin(srv);
        st = claim_pack_added(srv, txn, &f, band, pk);
        if (txn != NULL)
            server_read_end(srv);
    }
    msgpack_unpacked_destroy(&u);
    return st;
}
