/*
 * metrics_reg.h - the metrics hitlqd exports (the families of
 * OPERATIONS.md §3 as documented in README.md "Operations: metrics and
 * health"), declared once in the registry (server/util/metrics.h), and
 * the handles the commands update.  Per-label series are looked up with
 * metric_get1/metric_get2 (lock-free, no allocation once created).
 */
#ifndef HITLQ_METRICS_REG_H
#define HITLQ_METRICS_REG_H

#include <stdatomic.h>
#include <stdint.h>

#include "metrics.h"

/* What /readyz judges (server/cmd/http_ops.c), written by the commit
 * thread (commit.c) and read by the loop thread.  Wall-clock ms. */
struct srv_health {
    _Atomic uint64_t commit_ok_ms;     /* last durable commit (batch or probe) */
    _Atomic uint64_t commit_fail_ms;   /* last failed commit */
    _Atomic int      commit_fail_rc;   /* its LMDB code */
    _Atomic uint64_t cp_ok_ms;         /* last checkpoint signed and published */
    uint64_t         probe_asked_ms;   /* [L] when /readyz last asked a probe write */
    uint64_t         start_ms;         /* [R] when the server started */
};

struct srv_metrics {
    struct srv_health health;

    /* intake (cmd_item.c) */
    struct metric *submitted;          /* counter {type} */
    struct metric *rejected;           /* counter {reason} */
    struct metric *deduplicated;       /* counter {type} */
    struct metric *decisions;          /* counter {type, route, model_version} */
    struct metric_series *submit_s;    /* histogram: frame in -> durable reply */
    struct metric_series *score_s;     /* histogram: scoring core per item */
    /* the commit thread (commit.c) */
    struct metric_series *batch_items; /* histogram: ops per durable commit */
    struct metric_series *commit_s;    /* histogram: write txn + sync */
    /* queues */
    struct metric *queue_items;        /* gauge {queue, state} (scrape) */
    struct metric *queue_oldest;       /* gauge {queue} (scrape) */
    struct metric *claims;             /* counter {queue} */
    struct metric *expirations;        /* counter {queue} */
    struct metric *releases;           /* counter {queue} */
    struct metric *leases_active;      /* gauge {queue} (scrape) */
    struct metric *escalations;        /* counter {from_queue, to_queue, reason} */
    struct metric *verdicts;           /* counter {queue, agreement, blind} */
    struct metric *dead_letter;        /* counter {queue} */
    struct metric *queue_wait;         /* histogram {queue}: ready -> claimed */
    struct metric *review_time;        /* histogram {queue, outcome}: claimed -> decided */
    struct metric *time_to_decision;   /* histogram {queue}: submitted -> decided */
    /* helper "sla" feeds these two */
    struct metric *sla_breaches;       /* counter {queue} */
    struct metric *sla_at_risk;        /* gauge {queue, level} */
    /* the server (scrape) */
    struct metric_series *tlog_entries, *tlog_cp_ts;
    struct metric_series *storage_used, *storage_limit, *disk_free;
    struct metric *connections;        /* gauge {role} */
    struct metric *http_requests;      /* counter {route, code} */
    struct metric_series *proc_cpu, *proc_rss, *proc_fds, *proc_start, *proc_max_fds;
};

/* Declares every family in m and creates the label-less series.  NULL
 * when out of memory.  Start-up only. */
struct srv_metrics *metrics_reg_new(struct metrics *m);
void metrics_reg_free(struct srv_metrics *sm);       /* NULL is a no-op */

/* Fills the process_* gauges from /proc/self (scrape time). */
void metrics_reg_process(struct srv_metrics *sm);

#endif
