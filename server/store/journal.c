/*
 * journal.c - makes item events durable: every decision and state change
 * (submitted, scored, auto_resolved / queued, claimed, extended, released,
 * expired, dead_lettered, escalated, resolved) goes through journal_record,
 * which has the journal sink (store.h; the signed audit log) append its
 * entries, then appends the history entry and, for resolutions, the
 * result-stream entry, in the caller's write transaction.  The submit-time events are
 * not stored in hist (the item record implies them): GET rebuilds them
 * with journal_submit_events.  Layouts in journal.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "queue_int.h"
#include "rollup.h"
#include "wire.h"

#define JOURNAL_BUF 12288u   /* > largest event set: 4 KiB note + names */

static const char *const journal_names[] = {
    [JOURNAL_SUBMITTED] = "submitted",
    [JOURNAL_SCORED] = "scored",
    [JOURNAL_AUTO_RESOLVED] = "auto_resolved",
    [JOURNAL_QUEUED] = "queued",
    [JOURNAL_CLAIMED] = "claimed",
    [JOURNAL_EXTENDED] = "extended",
    [JOURNAL_RELEASED] = "released",
    [JOURNAL_EXPIRED] = "expired",
    [JOURNAL_DEAD_LETTERED] = "dead_lettered",
    [JOURNAL_ESCALATED] = "escalated",
    [JOURNAL_RESOLVED] = "resolved",
    [JOURNAL_COMMENTED] = "comment",
    [JOURNAL_REOPENED] = "reopened",
    [JOURNAL_AMENDED] = "amended",
    [JOURNAL_VERDICT] = "verdict",
    [JOURNAL_SLA] = "sla",
};

/* Number of detail pairs each kind adds to {at_ms, event, actor}. */
static const uint8_t journal_ndetail[] = {
    [JOURNAL_SUBMITTED] = 0, [JOURNAL_SCORED] = 2,
    [JOURNAL_AUTO_RESOLVED] = 1, [JOURNAL_QUEUED] = 3,
    [JOURNAL_CLAIMED] = 2, [JOURNAL_EXTENDED] = 1, [JOURNAL_RELEASED] = 1,
    [JOURNAL_EXPIRED] = 1, [JOURNAL_DEAD_LETTERED] = 1,
    [JOURNAL_ESCALATED] = 3, [JOURNAL_RESOLVED] = 3,
    [JOURNAL_COMMENTED] = 1, [JOURNAL_REOPENED] = 2, [JOURNAL_AMENDED] = 3,
    [JOURNAL_VERDICT] = 4, [JOURNAL_SLA] = 4,
};

static void
journal_kv_opt(msgpack_packer *pk, const char *k, const char *v)
{
    if (v != NULL)
        wire_pack_kv_str(pk, k, v);
    else
        wire_pack_kv_nil(pk, k);
}

static void
journal_pack_details(msgpack_packer *pk, const struct journal_ev *e)
{
    switch (e->kind) {
    case JOURNAL_SUBMITTED:
        break;
    case JOURNAL_SCORED:
        if (isnan(e->score))
            wire_pack_kv_nil(pk, "score");        /* not scored */
        else
            wire_pack_kv_f64(pk, "score", e->score);
        wire_pack_kv_str(pk, "model", e->model);
        break;
    case JOURNAL_AUTO_RESOLVED:
        wire_pack_kv_str(pk, "action", e->action);
        break;
    case JOURNAL_QUEUED:
        wire_pack_kv_str(pk, "queue", e->queue);
        wire_pack_kv_u64(pk, "priority", e->priority);
        wire_pack_kv_u64(pk, "deadline_ms", e->deadline_ms);
        break;
    case JOURNAL_CLAIMED:
        wire_pack_kv_str(pk, "worker", e->worker);
        wire_pack_kv_u64(pk, "expires_ms", e->expires_ms);
        break;
    case JOURNAL_EXTENDED:
        wire_pack_kv_u64(pk, "expires_ms", e->expires_ms);
        break;
    case JOURNAL_RELEASED:
        wire_pack_kv_u64(pk, "delay_ms", e->delay_ms);
        break;
    case JOURNAL_EXPIRED:
        wire_pack_kv_u64(pk, "attempts", e->attempts);
        break;
    case JOURNAL_DEAD_LETTERED:
        wire_pack_kv_str(pk, "queue", e->queue);
        break;
    case JOURNAL_ESCALATED:
        wire_pack_kv_str(pk, "from", e->from);
        wire_pack_kv_str(pk, "to", e->to);
        journal_kv_opt(pk, "note", e->note);
        break;
    case JOURNAL_RESOLVED:
    case JOURNAL_AMENDED:
        wire_pack_kv_str(pk, "outcome", e->outcome);
        journal_kv_opt(pk, "note", e->note);
        journal_kv_opt(pk, "root_cause", e->root_cause);
        break;
    case JOURNAL_COMMENTED:
        journal_kv_opt(pk, "note", e->note);
        break;
    case JOURNAL_REOPENED:
        wire_pack_kv_str(pk, "queue", e->queue);
        journal_kv_opt(pk, "note", e->note);
        break;
    case JOURNAL_VERDICT:
        wire_pack_kv_str(pk, "outcome", e->outcome);
        journal_kv_opt(pk, "note", e->note);
        wire_pack_kv_u64(pk, "verdict", e->review_k);
        wire_pack_kv_u64(pk, "of", e->review_n);
        break;
    case JOURNAL_SLA:
        wire_pack_kv_u64(pk, "level", e->sla_level);
        wire_pack_kv_str(pk, "from", e->from);
        wire_pack_kv_str(pk, "to", e->to);
        wire_pack_kv_u64(pk, "priority", e->priority);
        break;
    }
}

static void
journal_pack_event(msgpack_packer *pk, uint64_t at_ms, const struct journal_ev *e)
{
    bool audit = e->audit != JOURNAL_NO_AUDIT;

    msgpack_pack_map(pk, 3u + journal_ndetail[e->kind] + audit);
    wire_pack_kv_u64(pk, "at_ms", at_ms);
    wire_pack_kv_str(pk, "event", journal_names[e->kind]);
    wire_pack_kv_str(pk, "actor", e->actor);
    journal_pack_details(pk, e);
    if (audit)
        wire_pack_kv_u64(pk, "audit", e->audit);
}

void
journal_pack_events(msgpack_packer *pk, uint64_t at_ms,
                     const struct journal_ev *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        journal_pack_event(pk, at_ms, &ev[i]);
}

void
journal_submit_events(struct journal_ev *ev, char *model_actor,
                      const struct journal_submit *in)
{
    snprintf(model_actor, JOURNAL_ACTOR_MAX, "model:%s", in->model);
    memset(ev, 0, JOURNAL_SUBMIT_EVENTS * sizeof(*ev));
    for (size_t i = 0; i < JOURNAL_SUBMIT_EVENTS; i++)
        ev[i].audit = JOURNAL_NO_AUDIT;
    ev[0].kind = JOURNAL_SUBMITTED;
    ev[0].actor = in->actor;
    ev[1].kind = JOURNAL_SCORED;
    ev[1].actor = model_actor;
    ev[1].score = in->score;
    ev[1].model = in->model;
    if (in->is_auto) {
        ev[2].kind = JOURNAL_AUTO_RESOLVED;
        ev[2].actor = model_actor;
        ev[2].action = in->action;
    } else {
        ev[2].kind = JOURNAL_QUEUED;
        ev[2].actor = "system";
        ev[2].queue = in->queue;
        ev[2].priority = in->priority;
        ev[2].deadline_ms = in->deadline_ms;
    }
}

bool
journal_kind_implied(enum journal_kind k)
{
    return k == JOURNAL_SUBMITTED || k == JOURNAL_SCORED ||
           k == JOURNAL_AUTO_RESOLVED || k == JOURNAL_QUEUED;
}

int
journal_next_seq(struct store *s, MDB_txn *txn, uint64_t *seq)
{
    return qi_meta_get(s, txn, "next_seq", seq);
}

/* The outcome word of an SLA level: sla_50, sla_75, sla_breach. */
static const char *
journal_sla_outcome(uint8_t level)
{
    return level >= 100 ? "sla_breach" : level >= 75 ? "sla_75" : "sla_50";
}

/* Appends the RESULT body of an SLA notification (PROTOCOL.md §4.11:
 * `event: "sla"`, not a decision) with seq. */
static int
journal_sla_result(struct store *s, MDB_txn *txn, const struct journal_item *it,
                   uint64_t at_ms, const struct journal_ev *e, uint64_t seq)
{
    uint8_t mem[JOURNAL_BUF], kb[8];
    struct mpbuf b;
    msgpack_packer pk;

    mpbuf_init(&b, &pk, mem, sizeof(mem));
    msgpack_pack_map(&pk, 12);
    wire_pack_kv_u64(&pk, "seq", seq);
    wire_pack_kv_u64(&pk, "id", it->id);
    wire_pack_kv_str(&pk, "key", it->key);
    wire_pack_kv_str(&pk, "type", it->type);
    wire_pack_kv_str(&pk, "outcome", journal_sla_outcome(e->sla_level));
    wire_pack_kv_bool(&pk, "auto", false);
    wire_pack_kv_str(&pk, "actor", e->actor);
    if (it->unscored)
        wire_pack_kv_nil(&pk, "score");
    else
        wire_pack_kv_f64(&pk, "score", it->score);
    wire_pack_kv_u64(&pk, "at_ms", at_ms);
    wire_pack_kv_str(&pk, "event", "sla");
    wire_pack_kv_u64(&pk, "level", e->sla_level);
    wire_pack_kv_str(&pk, "queue", e->to);
    if (b.overflow)
        return HITLQ_ST_INTERNAL;
    store_put_be64(kb, seq);
    MDB_val k = { 8, kb }, d = { b.len, mem };
    return store_status(mdb_put(txn, s->results, &k, &d, MDB_APPEND));
}

/* Appends the RESULT body (PROTOCOL.md §4.11) for resolution event e. */
static int
journal_result(struct store *s, MDB_txn *txn, const struct journal_item *it,
               uint64_t at_ms, const struct journal_ev *e, uint64_t *seq)
{
    uint8_t mem[JOURNAL_BUF], kb[8];
    char actor[HITLQ_MAX_NAME + 8];
    bool is_auto = e->kind == JOURNAL_AUTO_RESOLVED;
    const char *link = e->kind == JOURNAL_REOPENED ? "reopens"
                       : e->kind == JOURNAL_AMENDED ? "amends" : NULL;
    struct mpbuf b;
    msgpack_packer pk;
    int st;

    if ((st = journal_next_seq(s, txn, seq)) != HITLQ_ST_OK ||
        (st = qi_meta_put(s, txn, "next_seq", *seq + 1)) != HITLQ_ST_OK)
        return st;
    if (is_auto)
        snprintf(actor, sizeof(actor), "model:%s", it->model);
    if (e->kind == JOURNAL_SLA)
        return journal_sla_result(s, txn, it, at_ms, e, *seq);
    mpbuf_init(&b, &pk, mem, sizeof(mem));
    msgpack_pack_map(&pk, 9u + (e->note != NULL) + (e->root_cause != NULL) + (link != NULL));
    wire_pack_kv_u64(&pk, "seq", *seq);
    wire_pack_kv_u64(&pk, "id", it->id);
    wire_pack_kv_str(&pk, "key", it->key);
    wire_pack_kv_str(&pk, "type", it->type);
    wire_pack_kv_str(&pk, "outcome", is_auto ? e->action
                     : e->kind == JOURNAL_REOPENED ? "reopened" : e->outcome);
    wire_pack_kv_bool(&pk, "auto", is_auto);
    wire_pack_kv_str(&pk, "actor", is_auto ? actor : e->actor);
    if (it->unscored)
        wire_pack_kv_nil(&pk, "score");
    else
        wire_pack_kv_f64(&pk, "score", it->score);
    wire_pack_kv_u64(&pk, "at_ms", at_ms);
    if (e->note != NULL)
        wire_pack_kv_str(&pk, "note", e->note);
    if (e->root_cause != NULL)
        wire_pack_kv_str(&pk, "root_cause", e->root_cause);
    if (link != NULL)                  /* REOPEN / AMEND (PROTOCOL.md §4.11) */
        wire_pack_kv_u64(&pk, link, e->prev_seq);
    if (b.overflow)
        return HITLQ_ST_INTERNAL;
    store_put_be64(kb, *seq);
    MDB_val k = { 8, kb }, d = { b.len, mem };
    return store_status(mdb_put(txn, s->results, &k, &d, MDB_APPEND));
}

/* The journal sink's entries for these events (none without a sink);
 * ev[i].audit gets each entry's index, for the history. */
static int
journal_sink(struct store *s, MDB_txn *txn, const struct journal_item *it,
             uint64_t at_ms, struct journal_ev *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ev[i].audit = JOURNAL_NO_AUDIT;
        ev[i].agreement = JOURNAL_AGREE_UNKNOWN;
    }
    if (s->sink.record == NULL)
        return HITLQ_ST_OK;
    return s->sink.record(s->sink.ctx, txn, it, ev, n, at_ms);
}

/*
 * The one place where item events become durable.  The journal sink (the
 * signed audit log) appends its entries here too (journal_sink), in the
 * same transaction, so history, results and audit can never disagree.
 * The submit-time events come through here as well (SUBMIT journals
 * them): only their hist copy is left out, as the item record implies it.
 */
int
journal_record(struct store *s, MDB_txn *txn, const struct journal_item *it,
               uint64_t at_ms, const struct journal_ev *in, size_t n,
               uint64_t *result_seq)
{
    uint8_t mem[JOURNAL_BUF], kb[12];
    struct journal_ev ev[JOURNAL_EV_MAX];
    struct mpbuf b;
    msgpack_packer pk;
    size_t first = 0;
    int st;

    *result_seq = 0;
    if (n == 0 || n > JOURNAL_EV_MAX)
        return HITLQ_ST_INTERNAL;
    memcpy(ev, in, n * sizeof(*ev));
    /* the sink's entries first: their indices go into the history events */
    if ((st = journal_sink(s, txn, it, at_ms, ev, n)) != HITLQ_ST_OK ||
        (st = rollup_journal(s, txn, it, at_ms, ev, n)) != HITLQ_ST_OK)   /* rollup.h */
        return st;
    if (s->obs.event != NULL)          /* the metrics: kept until the commit */
        s->obs.event(s->obs.ctx, txn, it, ev, n, at_ms);
    /* The submit-time events: exactly the first JOURNAL_SUBMIT_EVENTS of
     * the item, implied by its record, so nothing goes to hist. */
    while (first < n && journal_kind_implied(ev[first].kind))
        first++;
    if (first != 0 && (first != JOURNAL_SUBMIT_EVENTS || *it->hist_n != 0))
        return HITLQ_ST_INTERNAL;
    for (size_t i = first; i < n; i++) {
        if (journal_kind_implied(ev[i].kind))
            return HITLQ_ST_INTERNAL;
    }
    if (first < n) {
        mpbuf_init(&b, &pk, mem, sizeof(mem));
        journal_pack_events(&pk, at_ms, ev + first, n - first);
        if (b.overflow)
            return HITLQ_ST_INTERNAL;
        store_put_be64(kb, it->id);
        store_put_be32(kb + 8, *it->hist_n + (uint32_t)first);
        MDB_val k = { sizeof(kb), kb }, d = { b.len, mem };
        st = store_status(mdb_put(txn, s->hist, &k, &d, 0));
        if (st != HITLQ_ST_OK)
            return st;
    }
    *it->hist_n += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == JOURNAL_AUTO_RESOLVED || ev[i].kind == JOURNAL_RESOLVED ||
            ev[i].kind == JOURNAL_REOPENED || ev[i].kind == JOURNAL_AMENDED ||
            (ev[i].kind == JOURNAL_SLA && ev[i].notify))
            return journal_result(s, txn, it, at_ms, &ev[i], result_seq);
    }
    return HITLQ_ST_OK;
}
