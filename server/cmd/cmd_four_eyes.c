/*
 * cmd_four_eyes.c - the four-eyes review's commit-thread steps (see
 * cmd_four_eyes.h): the reviewer set at SUBMIT, one verdict per RESOLVE,
 * agreement, disagreement (add a reviewer or escalate in hitlqd's name),
 * the escalator's exclusion, and the blind flags of a CLAIM.  Each verdict
 * is its own audit entry with a REVIEW extension (k of n, shown, final):
 * proto/AUDIT-FORMAT.md §3.4.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "cmd_four_eyes.h"
#include "cmd_review.h"
#include "log.h"
#include "op.h"
#include "queue_review.h"
#include "record_ext.h"
#include "review_set.h"
#include "score.h"
#include "server.h"

int
four_eyes_submit(struct hitlq_server *srv, MDB_txn *txn, struct op *op)
{
    const struct four_eyes_need *fe = &op->u.submit.fe;
    struct review_set rs;

    if (fe->need == 0 || op->u.submit.d.outcome != DECISION_QUEUED)
        return HITLQ_ST_OK;
    memset(&rs, 0, sizeof rs);
    rs.need = fe->need;
    rs.max = fe->max;
    rs.flags = (uint8_t)((fe->hide ? REVIEW_SET_HIDE : 0) |
                         (fe->escalate ? REVIEW_SET_ESCALATE : 0));
    snprintf(rs.escalate_to, sizeof rs.escalate_to, "%s", fe->escalate_to);
    return review_set_put(srv->store, txn, op->u.submit.d.id, &rs);
}

/* The disagreement note: "four-eyes disagreement: a vs b[ vs c...]". */
static void
four_eyes_note(const struct review_set *rs, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "four-eyes disagreement: ");

    for (uint8_t i = 0; i < rs->n_verdicts && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " vs " : "", rs->outcome[i]);
}

static bool
four_eyes_agree(const struct review_set *rs)
{
    for (uint8_t i = 1; i < rs->n_verdicts; i++)
        if (strcmp(rs->outcome[i], rs->outcome[0]) != 0)
            return false;
    return true;
}

/* The verdict rs->n_verdicts (just added) did not close the item: back
 * to the queue, one more reviewer, or escalation. */
static int
four_eyes_more(struct op *op, struct hitlq_server *srv, MDB_txn *txn, struct review_set *rs,
               struct journal_ev *ev, uint64_t now_ms, struct queue_fx *fx)
{
    char note[HITLQ_MAX_NOTE];
    bool agree = four_eyes_agree(rs);
    int st;

    if (rs->n_verdicts < rs->need || (!agree && !(rs->flags & REVIEW_SET_ESCALATE) &&
                                      rs->need < rs->max)) {
        if (rs->n_verdicts == rs->need)
            rs->need++;                 /* add_reviewer */
        st = queue_review_verdict(srv->store, txn, op->u.lease.id, op->u.lease.lease, ev,
                                  NULL, NULL, now_ms, fx);
        if (st == HITLQ_ST_OK)
            st = review_verdict_more(srv, txn, op->u.lease.id, op->u.lease.label);
        return st == HITLQ_ST_OK ? review_set_put(srv->store, txn, op->u.lease.id, rs) : st;
    }
    four_eyes_note(rs, note, sizeof note);
    rs->flags |= REVIEW_SET_ESCALATED;
    st = queue_review_verdict(srv->store, txn, op->u.lease.id, op->u.lease.lease, ev,
                              rs->escalate_to, note, now_ms, fx);
    if (st == HITLQ_ST_OK)
        st = review_verdict_more(srv, txn, op->u.lease.id, op->u.lease.label);
    if (st == HITLQ_ST_OK)
        st = review_verdict(srv, txn, op->u.lease.id, REVIEW_LABEL_NONE, rs->escalate_to);
    return st == HITLQ_ST_OK ? review_set_put(srv->store, txn, op->u.lease.id, rs) : st;
}

/* The item was escalated after a disagreement: one ordinary decision by
 * someone not excluded closes it. */
static int
four_eyes_senior(struct op *op, struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms,
                 struct queue_fx *fx)
{
    int st = queue_resolve(srv->store, txn, op->u.lease.id, op->u.lease.lease,
                           op->u.lease.name, op->u.lease.note,
                           op->u.lease.root_cause[0] ? op->u.lease.root_cause : NULL,
                           now_ms, &op->u.lease.seq, fx);

    if (st == HITLQ_ST_OK)
        st = review_verdict(srv, txn, op->u.lease.id, op->u.lease.label, NULL);
    return st == HITLQ_ST_OK ? review_set_del(srv->store, txn, op->u.lease.id) : st;
}

int
four_eyes_resolve(struct op *op, struct hitlq_server *srv, MDB_txn *txn, uint64_t now_ms,
                  struct queue_fx *fx, bool *handled)
{
    struct review_set rs;
    char holder[HITLQ_MAX_NAME + 1];
    uint64_t id = op->u.lease.id;
    int st = review_set_get(srv->store, txn, id, &rs);

    *handled = st != HITLQ_ST_NOT_FOUND;
    if (st != HITLQ_ST_OK)
        return *handled ? st : HITLQ_ST_OK;
    st = queue_review_holder(srv->store, txn, id, op->u.lease.lease, now_ms, holder);
    if (st != HITLQ_ST_OK)
        return st;
    if (review_set_excludes(&rs, holder) || review_set_excludes(&rs, op->u.lease.who)) {
        snprintf(op->errmsg, sizeof op->errmsg, "item %llu: \"%s\" already gave a verdict on, "
                 "escalated or decided this item (four-eyes review needs another reviewer)",
                 (unsigned long long)id, review_set_excludes(&rs, holder) ? holder
                 : op->u.lease.who);
        return HITLQ_ST_REVIEWER_CONFLICT;
    }
    if (rs.flags & REVIEW_SET_ESCALATED)
        return four_eyes_senior(op, srv, txn, now_ms, fx);
    if (strcmp(op->u.lease.who, holder) != 0 && !review_set_exclude(&rs, op->u.lease.who))
        return HITLQ_ST_LIMIT_EXCEEDED;
    snprintf(rs.who[rs.n_verdicts], sizeof rs.who[0], "%s", holder);
    snprintf(rs.outcome[rs.n_verdicts], sizeof rs.outcome[0], "%s", op->u.lease.name);
    rs.n_verdicts++;
    struct journal_ev ev = {
        .outcome = op->u.lease.name, .note = op->u.lease.note,
        .root_cause = op->u.lease.root_cause[0] ? op->u.lease.root_cause : NULL,
        .review_k = rs.n_verdicts, .review_n = rs.need,
        .review_flags = (rs.flags & REVIEW_SET_HIDE) ? 0 : RECORD_REVIEW_FLAG_SHOWN,
    };
    if (rs.n_verdicts < rs.need || !four_eyes_agree(&rs))
        return four_eyes_more(op, srv, txn, &rs, &ev, now_ms, fx);
    ev.review_flags |= RECORD_REVIEW_FLAG_FINAL;
    st = queue_review_close(srv->store, txn, id, op->u.lease.lease, &ev, now_ms,
                            &op->u.lease.seq, fx);
    if (st == HITLQ_ST_OK)
        st = review_verdict(srv, txn, id, op->u.lease.label, NULL);
    return st == HITLQ_ST_OK ? review_set_del(srv->store, txn, id) : st;
}

int
four_eyes_pre_escalate(struct op *op, struct hitlq_server *srv, MDB_txn *txn,
                       uint64_t now_ms, char *holder)
{
    struct review_set rs;

    holder[0] = '\0';
    if (review_set_get(srv->store, txn, op->u.lease.id, &rs) != HITLQ_ST_OK ||
        queue_review_holder(srv->store, txn, op->u.lease.id, op->u.lease.lease, now_ms,
                            holder) != HITLQ_ST_OK)
        return HITLQ_ST_OK;            /* no set, or the lease check will refuse */
    if (rs.n_excluded + 2u > REVIEW_SET_MAX_EXCLUDED) {
        snprintf(op->errmsg, sizeof op->errmsg, "item %llu was escalated too often in its "
                 "four-eyes review", (unsigned long long)op->u.lease.id);
        return HITLQ_ST_LIMIT_EXCEEDED;
    }
    return HITLQ_ST_OK;
}

int
four_eyes_escalated(struct op *op, struct hitlq_server *srv, MDB_txn *txn, const char *holder)
{
    struct review_set rs;
    int st = review_set_get(srv->store, txn, op->u.lease.id, &rs);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK)
        return st;
    if ((holder[0] && !review_set_exclude(&rs, holder)) ||
        !review_set_exclude(&rs, op->u.lease.who))
        return HITLQ_ST_INTERNAL;      /* checked by four_eyes_pre_escalate */
    return review_set_put(srv->store, txn, op->u.lease.id, &rs);
}

uint8_t
four_eyes_claimed(struct hitlq_server *srv, MDB_txn *txn, uint64_t id)
{
    struct review_set rs;

    if (review_set_get(srv->store, txn, id, &rs) != HITLQ_ST_OK ||
        (rs.flags & REVIEW_SET_ESCALATED))
        return 0;
    return (uint8_t)(FOUR_EYES_BLIND_VERDICTS |
                     ((rs.flags & REVIEW_SET_HIDE) ? FOUR_EYES_BLIND_MODEL : 0));
}

size_t
four_eyes_warn_auth(struct hitlq_server *srv)
{
    size_t n = 0;

    if (auth_enabled(srv->auth))
        return 0;
    for (size_t i = 0; i < scoring_n_types(srv->scoring); i++) {
        const struct type_policy *tp = scoring_type_at(srv->scoring, i);

        if (tp->four_eyes == NULL)
            continue;
        log_warn("type \"%s\" declares four_eyes but authentication is off (auth = 0): "
                 "a reviewer is whoever its HELLO name says, so four-eyes review is only "
                 "as strong as that name", tp->type);
        n++;
    }
    return n;
}
