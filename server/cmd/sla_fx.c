/*
 * sla_fx.c - the SLA ladder's metrics and log lines (sla_fx.h), applied
 * from the batch's notes once it is durable, and the at-risk gauge
 * recounted from the stored clocks at start-up.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics_reg.h"
#include "queue.h"
#include "sla_fx.h"
#include "store.h"
#include "wire.h"

/* The at-risk series of queue q at level (50, 75). */
static struct metric_series *
sla_fx_risk(struct srv_metrics *m, const char *q, uint8_t level)
{
    return metric_get2(m->sla_at_risk, q, level == 50 ? "50" : "75");
}

/* One ladder step: a breach is counted and logged on the queue it
 * happened on; a move is an escalation with reason "sla". */
static void
sla_fx_step(struct srv_metrics *m, const struct queue_sla_note *n)
{
    if (n->level >= 100) {
        metric_inc(metric_get1(m->sla_breaches, n->from));
        log_event(LOG_LVL_WARN, "sla_breach", "item passed its SLA budget",
                  LOG_UINT("id", n->id), LOG_STR("queue", n->from));
    }
    if (strcmp(n->from, n->to) != 0) {
        const char *v[3] = { n->from, n->to, "sla" };

        metric_inc(metric_get(m->escalations, v));
        log_event(LOG_LVL_INFO, "sla_move", "SLA ladder moved an item",
                  LOG_UINT("id", n->id), LOG_STR("from", n->from), LOG_STR("to", n->to),
                  LOG_UINT("level", n->level));
    }
}

void
sla_fx_apply(struct hitlq_server *srv, const struct queue_fx *fx)
{
    for (size_t i = 0; i < fx->n_sla; i++) {
        const struct queue_sla_note *n = &fx->sla[i];

        if (n->risk == 0)
            sla_fx_step(srv->m, n);
        else
            metric_add(sla_fx_risk(srv->m, n->from, n->level), n->risk);
    }
}

static void
sla_fx_count(void *arg, const char *queue, uint8_t level)
{
    metric_inc(sla_fx_risk(arg, queue, level));
}

int
sla_fx_recount(struct hitlq_server *srv, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(srv->store->env, NULL, MDB_RDONLY, &txn), st;

    if (rc != 0) {
        snprintf(err, errlen, "sla clocks: %s", mdb_strerror(rc));
        return -1;
    }
    st = queue_sla_at_risk(srv->store, txn, sla_fx_count, srv->m);
    mdb_txn_abort(txn);
    if (st != HITLQ_ST_OK) {
        snprintf(err, errlen, "sla clocks: %s", hitlq_status_str(st));
        return -1;
    }
    return 0;
}
