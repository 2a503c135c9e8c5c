/*
 * metrics_feed.c - the lease, escalation and verdict metrics (claims,
 * releases, expirations, dead letters, escalations, human verdicts, queue
 * wait, review time, time to decision) from the events journal_record
 * sees in the commit thread: each event stages (series, value) pairs,
 * applied only after mdb_txn_commit returned 0 (commit.c), so refused
 * requests and aborted batches count nothing.  The agreement label is
 * the agreement byte of the event's audit VERDICT (set by the audit
 * sink), never a second computation.  And the per-queue gauges, read from
 * the maintained qstats counters at scrape time (queue_gauge.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "metrics.h"
#include "metrics_feed.h"
#include "metrics_reg.h"
#include "queue_gauge.h"
#include "record_ext.h"
#include "server.h"
#include "store.h"

struct feed_up {
    struct metric_series *s;
    double v;
    bool   observe;               /* histogram observation, else counter add */
};

struct metrics_feed {
    struct hitlq_server *srv;     /* [R] */
    struct feed_up *up;           /* [C] staged updates of the open txn */
    size_t n, cap;
};

static void
feed_stage(struct metrics_feed *f, struct metric_series *s, double v, bool observe)
{
    if (s == NULL)
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 256;
        struct feed_up *up = realloc(f->up, cap * sizeof(*up));

        if (up == NULL)                /* out of memory: this update is lost */
            return;
        f->up = up;
        f->cap = cap;
    }
    f->up[f->n++] = (struct feed_up){ s, v, observe };
}

static const char *
feed_agreement(uint8_t a)
{
    return a == RECORD_AGREE_AGREED ? "agree" : a == RECORD_AGREE_OVERRODE ? "override" : "none";
}

static double
feed_secs(uint64_t at_ms, uint64_t since_ms)
{
    return at_ms > since_ms ? (double)(at_ms - since_ms) / 1000.0 : 0.0;
}

/* A human verdict (RESOLVE, a four-eyes VERDICT, AMEND, ESCALATE by a
 * person) on queue q: hitlq_human_verdicts_total, and for one made under
 * a lease the review time (claimed -> decided). */
static void
feed_verdict(struct metrics_feed *f, MDB_txn *txn, const struct journal_item *it,
             const struct journal_ev *ev, const char *q, uint64_t at_ms)
{
    struct srv_metrics *sm = f->srv->m;
    const char *v[3] = { q, feed_agreement(ev->agreement), it->qa_copy ? "true" : "false" };
    const char *outcome = ev->kind == JOURNAL_ESCALATED ? "escalate" : ev->outcome;
    uint64_t claimed = 0, ready = 0;

    feed_stage(f, metric_get(sm->verdicts, v), 1, false);
    if (ev->kind != JOURNAL_AMENDED && outcome != NULL &&
        queue_hist_times(f->srv->store, txn, it->id, &claimed, &ready) == HITLQ_ST_OK &&
        claimed != 0)
        feed_stage(f, metric_get2(sm->review_time, q, outcome), feed_secs(at_ms, claimed),
                   true);
    if (ev->kind == JOURNAL_RESOLVED)  /* the final decision */
        feed_stage(f, metric_get1(sm->time_to_decision, q),
                   feed_secs(at_ms, it->created_ms), true);
}

static void
feed_claimed(struct metrics_feed *f, MDB_txn *txn, const struct journal_item *it,
             const char *q, uint64_t at_ms)
{
    struct srv_metrics *sm = f->srv->m;
    uint64_t claimed = 0, ready = 0;

    feed_stage(f, metric_get1(sm->claims, q), 1, false);
    if (queue_hist_times(f->srv->store, txn, it->id, &claimed, &ready) == HITLQ_ST_OK)
        feed_stage(f, metric_get1(sm->queue_wait, q),
                   feed_secs(at_ms, ready != 0 ? ready : it->created_ms), true);
}

static void
feed_escalated(struct metrics_feed *f, MDB_txn *txn, const struct journal_item *it,
               const struct journal_ev *ev, uint64_t at_ms)
{
    const char *v[3] = { ev->from, ev->to, ev->system ? "four_eyes" : "manual" };

    if (ev->from == NULL || ev->to == NULL)
        return;
    feed_stage(f, metric_get(f->srv->m->escalations, v), 1, false);
    if (!ev->system)
        feed_verdict(f, txn, it, ev, ev->from, at_ms);
}

/* The store's journal observer (store.h). */
static void
feed_event(void *ctx, MDB_txn *txn, const struct journal_item *it,
           const struct journal_ev *ev, size_t n, uint64_t at_ms)
{
    struct metrics_feed *f = ctx;
    struct srv_metrics *sm = f->srv->m;
    const char *q = it->queue;

    for (size_t i = 0; i < n; i++) {
        const struct journal_ev *e = &ev[i];

        if (e->kind == JOURNAL_ESCALATED)
            feed_escalated(f, txn, it, e, at_ms);
        if (q == NULL || q[0] == '\0')
            continue;
        switch (e->kind) {
        case JOURNAL_CLAIMED:
            feed_claimed(f, txn, it, q, at_ms);
            break;
        case JOURNAL_RELEASED:
            feed_stage(f, metric_get1(sm->releases, q), 1, false);
            break;
        case JOURNAL_EXPIRED:
            feed_stage(f, metric_get1(sm->expirations, q), 1, false);
            break;
        case JOURNAL_DEAD_LETTERED:
            feed_stage(f, metric_get1(sm->dead_letter, q), 1, false);
            break;
        case JOURNAL_RESOLVED:
        case JOURNAL_VERDICT:
        case JOURNAL_AMENDED:
            feed_verdict(f, txn, it, e, q, at_ms);
            break;
        default:
            break;
        }
    }
}

struct metrics_feed *
metrics_feed_new(struct hitlq_server *srv)
{
    struct metrics_feed *f = calloc(1, sizeof(*f));
    struct store_journal_obs obs = { feed_event, NULL };

    if (f == NULL)
        return NULL;
    f->srv = srv;
    obs.ctx = f;
    store_set_journal_obs(srv->store, &obs);
    return f;
}

void
metrics_feed_free(struct metrics_feed *f)
{
    if (f == NULL)
        return;
    if (f->srv->store != NULL && f->srv->store->obs.ctx == f)
        store_set_journal_obs(f->srv->store, NULL);
    free(f->up);
    free(f);
}

void
metrics_feed_reset(struct metrics_feed *f)
{
    if (f != NULL)
        f->n = 0;
}

void
metrics_feed_apply(struct metrics_feed *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        if (f->up[i].observe)
            metric_observe(f->up[i].s, f->up[i].v);
        else
            metric_add(f->up[i].s, f->up[i].v);
    }
    f->n = 0;
}

static void
feed_queue(void *arg, const struct queue_gauge *g)
{
    struct srv_metrics *sm = arg;

    metric_set(metric_get2(sm->queue_items, g->queue, "ready"), (double)g->ready);
    metric_set(metric_get2(sm->queue_items, g->queue, "leased"), (double)g->leased);
    metric_set(metric_get2(sm->queue_items, g->queue, "delayed"), (double)g->delayed);
    metric_set(metric_get1(sm->leases_active, g->queue), (double)g->leased);
    metric_set(metric_get1(sm->queue_oldest, g->queue), (double)g->oldest_ready_ms / 1000.0);
}

void
metrics_feed_queues(struct hitlq_server *srv, MDB_txn *txn)
{
    struct srv_metrics *sm = srv->m;

    metric_zero_all(sm->queue_items);
    metric_zero_all(sm->leases_active);
    metric_zero_all(sm->queue_oldest);
    (void)queue_gauges(srv->store, txn, feed_queue, sm);
}
