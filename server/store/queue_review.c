/*
 * queue_review.c - the item moves of a four-eyes review (queue_review.h):
 * back to the queue after a verdict, escalation by hitlqd after a
 * disagreement, and the closing resolution.  The lease checks come first,
 * so a refused request leaves the transaction unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "queue_int.h"
#include "queue_review.h"
#include "sla_ladder.h"

/* Loads item id and checks its lease; on success the caller owns *it. */
static int
qr_load(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease, uint64_t now_ms,
        struct qi_item *it)
{
    int st = qi_item_load(s, txn, id, it);

    if (st != HITLQ_ST_OK)
        return st;
    if ((st = qi_lease_check(it, lease, now_ms)) != HITLQ_ST_OK)
        qi_item_done(it);
    return st;
}

int
queue_review_holder(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                    uint64_t now_ms, char *worker)
{
    struct qi_item it;
    int st = qr_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    snprintf(worker, HITLQ_MAX_NAME + 1, "%s", it.h.worker);
    qi_item_done(&it);
    return HITLQ_ST_OK;
}

/* Journals ev[0..n) and saves the item; *seq (may be NULL) gets the
 * result's seq.  Frees it. */
static int
qr_commit(struct store *s, MDB_txn *txn, struct qi_item *it, uint64_t now_ms,
          struct journal_ev *ev, size_t n, uint64_t *seq)
{
    struct journal_item ji;
    uint64_t rseq;
    int st;

    qi_item_journal(it, &ji);
    st = journal_record(s, txn, &ji, now_ms, ev, n, &rseq);
    if (rseq != 0)
        it->h.result_seq = rseq;
    if (seq != NULL)
        *seq = rseq;
    if (st == HITLQ_ST_OK)
        st = qi_item_save(s, txn, it);
    qi_item_done(it);
    return st;
}

/* Takes the item off its queue (timer, open/sla entries, leased count). */
static int
qr_unlease(struct store *s, MDB_txn *txn, struct qi_item *it, bool unlist)
{
    int st = qi_timer_del(s, txn, it->h.due_ms, it->id);

    if (st == HITLQ_ST_OK && unlist)
        st = qi_unlist(s, txn, it);
    if (st == HITLQ_ST_OK)
        st = qi_qstats_add(s, txn, it->h.queue, 0, -1, 0);
    return st;
}

int
queue_review_verdict(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                     const struct journal_ev *verdict, const char *escalate_to,
                     const char *esc_note, uint64_t now_ms, struct queue_fx *fx)
{
    struct qi_item it;
    char from[HITLQ_MAX_QUEUE_NAME + 1];
    struct journal_ev ev[2] = { *verdict, {
        .kind = JOURNAL_ESCALATED, .actor = "system", .from = from, .to = escalate_to,
        .note = esc_note, .system = true,
    } };
    int st = qr_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    snprintf(from, sizeof from, "%s", it.h.queue);
    ev[0].kind = JOURNAL_VERDICT;
    ev[0].actor = it.h.worker;
    if ((st = qr_unlease(s, txn, &it, escalate_to != NULL)) != HITLQ_ST_OK)
        goto fail;
    if (escalate_to == NULL) {
        st = qi_ready_again(s, txn, &it, fx);
    } else if ((st = sla_risk_move(s, txn, id, from, escalate_to, fx)) == HITLQ_ST_OK) {
        snprintf(it.h.queue, sizeof it.h.queue, "%s", escalate_to);
        it.h.lease = 0;
        st = qi_enqueue(s, txn, &it, fx);
    }
    if (st != HITLQ_ST_OK)
        goto fail;
    return qr_commit(s, txn, &it, now_ms, ev, escalate_to != NULL ? 2 : 1, NULL);
fail:
    qi_item_done(&it);
    return st;
}

int
queue_review_close(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                   const struct journal_ev *in, uint64_t now_ms, uint64_t *seq,
                   struct queue_fx *fx)
{
    struct qi_item it;
    struct journal_ev ev = *in;
    int st = qr_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if ((st = qr_unlease(s, txn, &it, true)) != HITLQ_ST_OK ||
        (st = sla_stop(s, txn, id, it.h.queue, now_ms, fx)) != HITLQ_ST_OK) {
        qi_item_done(&it);
        return st;
    }
    it.h.state = HITLQ_STATE_RESOLVED;
    it.h.lease = 0;
    it.h.due_ms = 0;
    it.h.resolved_ms = now_ms;
    snprintf(it.h.outcome, sizeof it.h.outcome, "%s", ev.outcome);
    ev.kind = JOURNAL_RESOLVED;
    ev.actor = it.h.worker;
    st = qr_commit(s, txn, &it, now_ms, &ev, 1, seq);
    if (st == HITLQ_ST_OK && fx != NULL)
        fx->results = true;
    return st;
}
