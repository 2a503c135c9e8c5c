/*
 * sla_ladder.c - the SLA clock of an item (sla_ladder.h): start, pause,
 * resume, stop, and the ladder steps run by its timer.  Every step is a
 * JOURNAL_SLA event by the system actor (history, audit entry through the
 * journal sink, and with notify a result-stream entry) in the same
 * transaction that advances the clock's durable step counter, so a step
 * runs exactly once across restarts.
 */
#include <stdio.h>
#include <string.h>

#include "sla_ladder.h"

/* Notes an SLA fact in fx (queue.h struct queue_sla_note). */
static int
sla_note(struct queue_fx *fx, uint64_t id, uint8_t level, int8_t risk, const char *from,
         const char *to)
{
    struct queue_sla_note n = { .id = id, .level = level, .risk = risk };

    if (fx == NULL)
        return HITLQ_ST_OK;
    snprintf(n.from, sizeof(n.from), "%s", from);
    snprintf(n.to, sizeof(n.to), "%s", to);
    return queue_fx_sla(fx, &n);
}

uint8_t
sla_risk_level(const struct sla_clock *c)
{
    uint8_t level;

    if ((c->flags & SLA_F_STOPPED) || c->done == 0 || c->done > c->plan.n_steps)
        return 0;
    level = c->plan.steps[c->done - 1].level;
    return level < 100 ? level : 0;
}

int
sla_risk_move(struct store *s, MDB_txn *txn, uint64_t id, const char *from, const char *to,
              struct queue_fx *fx)
{
    struct sla_clock c;
    uint8_t r;
    int st;

    if (fx == NULL || strcmp(from, to) == 0)
        return HITLQ_ST_OK;
    st = sla_clock_get(s, txn, id, &c);
    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK || (r = sla_risk_level(&c)) == 0)
        return st;
    if ((st = sla_note(fx, id, r, -1, from, "")) != HITLQ_ST_OK)
        return st;
    return sla_note(fx, id, r, +1, to, "");
}

int
sla_start(struct store *s, MDB_txn *txn, const struct qi_item *it,
          const struct sla_plan *plan, uint64_t now_ms)
{
    struct sla_clock c;

    if (plan == NULL || plan->budget_ms == 0 || plan->n_steps == 0)
        return HITLQ_ST_OK;
    memset(&c, 0, sizeof(c));
    c.plan = *plan;
    c.flags = SLA_F_RUNNING;
    c.since_ms = it->h.deadline_ms >= plan->budget_ms ? it->h.deadline_ms - plan->budget_ms
                                                      : now_ms;
    int st = sla_clock_arm(s, txn, it->id, &c);

    return st != HITLQ_ST_OK ? st : sla_clock_put(s, txn, it->id, &c);
}

int
sla_pause(struct store *s, MDB_txn *txn, uint64_t id, const char *waiting_on,
          uint64_t now_ms)
{
    struct sla_clock c;
    int st = sla_clock_get(s, txn, id, &c);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK || !(c.flags & SLA_F_RUNNING))
        return st;
    c.elapsed_ms = sla_elapsed(&c, now_ms);
    c.flags &= (uint8_t)~SLA_F_RUNNING;
    snprintf(c.waiting_on, sizeof(c.waiting_on), "%s", waiting_on);
    if ((st = sla_clock_arm(s, txn, id, &c)) != HITLQ_ST_OK)
        return st;
    return sla_clock_put(s, txn, id, &c);
}

int
sla_resume(struct store *s, MDB_txn *txn, struct qi_item *it, uint64_t now_ms)
{
    struct sla_clock c;
    int st = sla_clock_get(s, txn, it->id, &c);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK || (c.flags & (SLA_F_RUNNING | SLA_F_STOPPED)))
        return st;
    c.flags |= SLA_F_RUNNING;
    c.since_ms = now_ms;
    c.waiting_on[0] = '\0';
    /* the deadline is part of the open/sla keys: out with the old one */
    if ((st = qi_unlist(s, txn, it)) != HITLQ_ST_OK)
        return st;
    it->h.deadline_ms = sla_breach_at(&c);
    if ((st = qi_open_put(s, txn, it)) != HITLQ_ST_OK ||
        (st = sla_clock_arm(s, txn, it->id, &c)) != HITLQ_ST_OK)
        return st;
    return sla_clock_put(s, txn, it->id, &c);
}

int
sla_stop(struct store *s, MDB_txn *txn, uint64_t id, const char *queue, uint64_t now_ms,
         struct queue_fx *fx)
{
    struct sla_clock c;
    int st = sla_clock_get(s, txn, id, &c);
    uint8_t r;

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK || (c.flags & SLA_F_STOPPED))
        return st;
    if ((r = sla_risk_level(&c)) != 0 &&
        (st = sla_note(fx, id, r, -1, queue, "")) != HITLQ_ST_OK)
        return st;
    c.elapsed_ms = sla_elapsed(&c, now_ms);
    c.flags = SLA_F_STOPPED;
    if ((st = sla_clock_arm(s, txn, id, &c)) != HITLQ_ST_OK)
        return st;
    return sla_clock_put(s, txn, id, &c);
}

/* Moves the item to queue `to` in whatever state it is in (a lease keeps
 * running, a delay keeps its time): indexes and counters follow. */
static int
sla_move(struct store *s, MDB_txn *txn, struct qi_item *it, const char *to,
         struct queue_fx *fx)
{
    uint8_t state = it->h.state;
    int64_t leased = state == HITLQ_STATE_LEASED, delayed = state == HITLQ_STATE_DELAYED;
    int st;

    if ((st = qi_unlist(s, txn, it)) != HITLQ_ST_OK)
        return st;
    if (state == HITLQ_STATE_QUEUED) {
        if ((st = qi_ready_del(s, txn, it)) != HITLQ_ST_OK ||
            (st = qi_qstats_add(s, txn, it->h.queue, -1, 0, 0)) != HITLQ_ST_OK)
            return st;
        snprintf(it->h.queue, sizeof(it->h.queue), "%s", to);
        return qi_enqueue(s, txn, it, fx);
    }
    if ((st = qi_qstats_add(s, txn, it->h.queue, 0, -leased, -delayed)) != HITLQ_ST_OK)
        return st;
    snprintf(it->h.queue, sizeof(it->h.queue), "%s", to);
    if ((st = qi_open_put(s, txn, it)) != HITLQ_ST_OK)
        return st;
    return qi_qstats_add(s, txn, it->h.queue, 0, leased, delayed);
}

/* Raises the item's priority to at least p (its ready entry follows). */
static int
sla_raise(struct store *s, MDB_txn *txn, struct qi_item *it, uint32_t p)
{
    int st;

    if (it->h.priority >= p)
        return HITLQ_ST_OK;
    if (it->h.state != HITLQ_STATE_QUEUED) {
        it->h.priority = p;
        return HITLQ_ST_OK;
    }
    if ((st = qi_ready_del(s, txn, it)) != HITLQ_ST_OK)
        return st;
    it->h.priority = p;
    return qi_ready_put(s, txn, it);
}

/* Runs one step on the loaded item and journals it; notes the step and
 * the at-risk change from level `prev` (0 = none) in fx. */
static int
sla_step_run(struct store *s, MDB_txn *txn, struct qi_item *it, const struct sla_step *step,
             uint8_t prev, uint64_t now_ms, const char *dead_letter, struct queue_fx *fx)
{
    char from[HITLQ_MAX_QUEUE_NAME + 1];
    struct journal_item ji;
    struct journal_ev ev;
    uint64_t seq;
    int st = HITLQ_ST_OK;

    snprintf(from, sizeof(from), "%s", it->h.queue);
    if (step->flags & SLA_STEP_RAISE)
        st = sla_raise(s, txn, it, step->priority);
    if (st == HITLQ_ST_OK && step->move_to[0] != '\0' && strcmp(step->move_to, from) != 0 &&
        (dead_letter == NULL || strcmp(from, dead_letter) != 0))
        st = sla_move(s, txn, it, step->move_to, fx);
    if (st != HITLQ_ST_OK)
        return st;
    memset(&ev, 0, sizeof(ev));
    ev.kind = JOURNAL_SLA;
    ev.actor = "system";
    ev.system = true;
    ev.sla_level = step->level;
    ev.from = from;
    ev.to = it->h.queue;
    ev.priority = it->h.priority;
    ev.deadline_ms = it->h.deadline_ms;
    ev.notify = (step->flags & SLA_STEP_NOTIFY) != 0;
    qi_item_journal(it, &ji);
    if ((st = journal_record(s, txn, &ji, now_ms, &ev, 1, &seq)) != HITLQ_ST_OK)
        return st;
    if (ev.notify && fx != NULL)
        fx->results = true;
    if (prev != 0 && (st = sla_note(fx, it->id, prev, -1, from, "")) != HITLQ_ST_OK)
        return st;
    if (step->level < 100 &&
        (st = sla_note(fx, it->id, step->level, +1, it->h.queue, "")) != HITLQ_ST_OK)
        return st;
    return sla_note(fx, it->id, step->level, 0, from, it->h.queue);
}

/* Runs the due steps of the loaded clock and item; saves both. */
static int
sla_fire_item(struct store *s, MDB_txn *txn, struct sla_clock *c, struct qi_item *it,
              uint64_t now_ms, const char *dead_letter, struct queue_fx *fx)
{
    uint64_t elapsed = sla_elapsed(c, now_ms);
    int st = HITLQ_ST_OK;

    if (it->h.state == HITLQ_STATE_RESOLVED) {
        uint8_t r = sla_risk_level(c);

        if (r != 0 && (st = sla_note(fx, it->id, r, -1, it->h.queue, "")) != HITLQ_ST_OK)
            return st;
        c->elapsed_ms = elapsed;
        c->flags = SLA_F_STOPPED;
        return sla_clock_put(s, txn, it->id, c);
    }
    while (st == HITLQ_ST_OK && c->done < c->plan.n_steps &&
           elapsed >= sla_level_ms(c->plan.budget_ms, c->plan.steps[c->done].level)) {
        st = sla_step_run(s, txn, it, &c->plan.steps[c->done], sla_risk_level(c), now_ms,
                          dead_letter, fx);
        c->done++;
    }
    if (st == HITLQ_ST_OK)
        st = sla_clock_arm(s, txn, it->id, c);
    if (st == HITLQ_ST_OK)
        st = sla_clock_put(s, txn, it->id, c);
    if (st == HITLQ_ST_OK)
        st = qi_item_save(s, txn, it);
    return st;
}

int
sla_fire(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id, uint64_t now_ms,
         const char *dead_letter, struct queue_fx *fx)
{
    struct sla_clock c;
    struct qi_item it;
    int st = sla_clock_get(s, txn, id, &c);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;            /* stray timer */
    if (st != HITLQ_ST_OK)
        return st;
    if (c.due_ms != due || !(c.flags & SLA_F_RUNNING))
        return HITLQ_ST_OK;            /* superseded timer */
    c.due_ms = 0;                      /* removed by the caller */
    st = qi_item_load(s, txn, id, &it);
    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK)
        return st;
    st = sla_fire_item(s, txn, &c, &it, now_ms, dead_letter, fx);
    qi_item_done(&it);
    return st;
}

int
queue_sla_at_risk(struct store *s, MDB_txn *txn, queue_sla_risk_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, s->slaclk, &cur), st = HITLQ_ST_OK;

    if (rc != 0)
        return store_status(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && st == HITLQ_ST_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct sla_clock c;
        struct qi_item it;
        uint8_t r;

        if (k.mv_size != 8 || sla_decode(v.mv_data, v.mv_size, &c) != 0)
            continue;                  /* malformed: sla_clock_get says so on use */
        if ((r = sla_risk_level(&c)) == 0)
            continue;
        st = qi_item_load(s, txn, store_get_be64(k.mv_data), &it);
        if (st == HITLQ_ST_NOT_FOUND) {
            st = HITLQ_ST_OK;
            continue;
        }
        if (st == HITLQ_ST_OK && it.h.state != HITLQ_STATE_RESOLVED)
            fn(arg, it.h.queue, r);
        if (st == HITLQ_ST_OK)
            qi_item_done(&it);
    }
    mdb_cursor_close(cur);
    if (st == HITLQ_ST_OK && rc != MDB_NOTFOUND)
        st = store_status(rc);
    return st;
}
