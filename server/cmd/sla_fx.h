/*
 * sla_fx.h - what the SLA ladder did in a durable batch, made visible:
 * the metrics hitlq_sla_breaches_total{queue}, hitlq_escalations_total
 * {from_queue,to_queue,reason="sla"} and the at-risk gauge
 * hitlq_sla_items_at_risk{queue,level} (server/cmd/metrics_reg.h), and one
 * log line per breach and per ladder move.
 */
#ifndef HITLQ_SLA_FX_H
#define HITLQ_SLA_FX_H

#include "server.h"

/* Loop thread, after the batch's durable commit: applies every SLA note
 * of fx (queue.h struct queue_sla_note) to the metrics and the log. */
void sla_fx_apply(struct hitlq_server *srv, const struct queue_fx *fx);

/* Start-up, before serving: sets the at-risk gauge from the stored SLA
 * clocks (one pass over slaclk).  0, or -1 with a message in err. */
int sla_fx_recount(struct hitlq_server *srv, char *err, size_t errlen);

#endif
