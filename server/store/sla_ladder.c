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
sla_stop(struct store *s, MDB_txn *txn, uint64_t id, uint64_t now_ms)
{
    struct sla_clock c;
    int st = sla_clock_get(s, txn, id, &c);

    if (st == HITLQ_ST_NOT_FOUND)
        return HITLQ_ST_OK;
    if (st != HITLQ_ST_OK || (c.flags & SLA_F_STOPPED))
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

/* Notes a breach in fx for the log and the metrics after the commit. */
static void
sla_note_breach(struct queue_fx *fx, const struct qi_item *it)
{
    if (fx == NULL)
        return;
    if (fx->n_sla_breaches < QUEUE_FX_SLA_LOG) {
        fx->sla_breach[fx->n_sla_breaches].id = it->id;
        snprintf(fx->sla_breach[fx->n_sla_breaches].queue,
                 sizeof(fx->sla_breach[0].queue), "%s", it->h.queue);
    }
    fx->n_sla_breaches++;
}

/* Runs one step on the loaded item and journals it. */
static int
sla_step_run(struct store *s, MDB_txn *txn, struct qi_item *it, const struct sla_step *step,
             uint64_t now_ms, const char *dead_letter, struct queue_fx *fx)
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
    if (step->level >= 100)
        sla_note_breach(fx, it);
    return HITLQ_ST_OK;
}

/* Runs the due steps of the loaded clock and item; saves both. */
static int
sla_fire_item(struct store *s, MDB_txn *txn, struct sla_clock *c, struct qi_item *it,
              uint64_t now_ms, const char *dead_letter, struct queue_fx *fx)
{
    uint64_t elapsed = sla_elapsed(c, now_ms);
    int st = HITLQ_ST_OK;

    if (it->h.state == HITLQ_STATE_RESOLVED) {
        c->elapsed_ms = elapsed;
        c->flags = SLA_F_STOPPED;
        return sla_clock_put(s, txn, it->id, c);
    }
    while (st == HITLQ_ST_OK && c->done < c->plan.n_steps &&
           elapsed >= sla_level_ms(c->plan.budget_ms, c->plan.steps[c->done].level)) {
        st = sla_step_run(s, txn, it, &c->plan.steps[c->done], now_ms, dead_letter, fx);
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
