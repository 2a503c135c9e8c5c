/*
 * queue_expire.c - the timers index: expired leases go back to their queue
 * with attempts + 1 (or to the dead-letter queue once attempts reaches
 * max_attempts); delayed releases become ready (a paused SLA clock
 * resumes); SLA timers run their item's ladder (sla_ladder.c).  The earliest timer is the
 * first key of the index, so nothing is kept in memory.
 */
#include <stdio.h>
#include <string.h>

#include "queue_int.h"
#include "sla_ladder.h"

/* Counts an expiry (or, dead, a move to the dead-letter queue) of `it` in
 * fx, for the log events; fx may be NULL. */
static void
queue_fx_note_expired(struct queue_fx *fx, const struct qi_item *it, bool dead)
{
    if (fx == NULL)
        return;
    if (dead) {
        fx->dead_lettered++;
        fx->dead_id = it->id;
        snprintf(fx->dead_from, sizeof(fx->dead_from), "%s", it->h.queue);
    } else {
        fx->expired++;
        fx->expired_id = it->id;
        snprintf(fx->expired_queue, sizeof(fx->expired_queue), "%s", it->h.queue);
    }
}

/* Lease of `it` (leased, due at `due`) ran out. */
static int
queue_expire_lease(struct store *s, MDB_txn *txn, struct qi_item *it,
                   uint64_t now_ms, uint32_t max_attempts,
                   const char *dead_letter, struct queue_fx *fx)
{
    struct journal_item ji;
    struct journal_ev ev[2];
    size_t n = 1;
    uint64_t unused, last = it->h.lease;
    char from[HITLQ_MAX_QUEUE_NAME + 1];
    int st;

    memset(ev, 0, sizeof(ev));
    it->h.attempts++;
    ev[0].kind = JOURNAL_EXPIRED;
    ev[0].actor = "system";
    ev[0].attempts = it->h.attempts;
    snprintf(from, sizeof(from), "%s", it->h.queue);
    if ((st = qi_qstats_add(s, txn, it->h.queue, 0, -1, 0)) != HITLQ_ST_OK)
        return st;
    queue_fx_note_expired(fx, it, false);
    if (it->h.attempts >= max_attempts && strcmp(it->h.queue, dead_letter) != 0) {
        if ((st = qi_unlist(s, txn, it)) != HITLQ_ST_OK ||
            (st = sla_risk_move(s, txn, it->id, it->h.queue, dead_letter, fx)) != HITLQ_ST_OK)
            return st;
        queue_fx_note_expired(fx, it, true);
        snprintf(it->h.queue, sizeof(it->h.queue), "%s", dead_letter);
        st = qi_enqueue(s, txn, it, fx);
        ev[1].kind = JOURNAL_DEAD_LETTERED;
        ev[1].actor = "system";
        ev[1].queue = dead_letter;
        n = 2;
    } else {
        st = qi_ready_again(s, txn, it, fx);
    }
    if (st != HITLQ_ST_OK)
        return st;
    it->h.lease = last;              /* so its holder hears lease_expired */
    qi_item_journal(it, &ji);
    ji.queue = from;                 /* the queue it expired on */
    return journal_record(s, txn, &ji, now_ms, ev, n, &unused);
}

/* Handles one due timer (already removed from the index). */
static int
queue_expire_one(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id,
                 uint8_t kind, uint64_t now_ms, uint32_t max_attempts,
                 const char *dead_letter, struct queue_fx *fx)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;            /* stray timer: nothing to do */
    if (st != HITLQ_ST_OK)
        return st;
    if (it.h.due_ms != due) {
        st = HITLQ_ST_OK;              /* superseded timer */
    } else if (kind == QI_TIMER_LEASE && it.h.state == HITLQ_STATE_LEASED) {
        st = queue_expire_lease(s, txn, &it, now_ms, max_attempts,
                                dead_letter, fx);
        if (st == HITLQ_ST_OK)
            st = qi_item_save(s, txn, &it);
    } else if (kind == QI_TIMER_DELAY && it.h.state == HITLQ_STATE_DELAYED) {
        st = qi_qstats_add(s, txn, it.h.queue, 0, 0, -1);
        if (st == HITLQ_ST_OK)
            st = sla_resume(s, txn, &it, now_ms);     /* a paused clock runs again */
        if (st == HITLQ_ST_OK)
            st = qi_ready_again(s, txn, &it, fx);
        if (st == HITLQ_ST_OK)
            st = qi_item_save(s, txn, &it);
    }
    qi_item_done(&it);
    return st;
}

int
queue_expire_due(struct store *s, MDB_txn *txn, uint64_t now_ms,
                 uint32_t max_attempts, const char *dead_letter,
                 size_t max, size_t *done, struct queue_fx *fx)
{
    MDB_cursor *cur;
    int st = HITLQ_ST_OK, rc = mdb_cursor_open(txn, s->timers, &cur);

    *done = 0;
    if (rc != 0)
        return store_status(rc);
    while (*done < max) {
        MDB_val k, d;
        uint64_t due, id;
        uint8_t kind;

        rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
        if (rc != 0)
            break;
        if (k.mv_size != 16 || d.mv_size != 1) {
            rc = MDB_CORRUPTED;
            break;
        }
        due = store_get_be64(k.mv_data);
        if (due > now_ms)
            break;
        id = store_get_be64((uint8_t *)k.mv_data + 8);
        kind = *(uint8_t *)d.mv_data;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        if (kind == QI_TIMER_SLA)
            st = sla_fire(s, txn, due, id & ~QI_TIMER_SLA_BIT, now_ms, dead_letter, fx);
        else
            st = queue_expire_one(s, txn, due, id, kind, now_ms, max_attempts,
                                  dead_letter, fx);
        if (st != HITLQ_ST_OK)
            break;
        (*done)++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_status(rc);
    return st;
}

uint64_t
queue_next_timer(struct store *s, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, d;
    uint64_t due = 0;

    if (mdb_cursor_open(txn, s->timers, &cur) != 0)
        return 0;
    if (mdb_cursor_get(cur, &k, &d, MDB_FIRST) == 0 && k.mv_size == 16)
        due = store_get_be64(k.mv_data);
    mdb_cursor_close(cur);
    return due;
}
