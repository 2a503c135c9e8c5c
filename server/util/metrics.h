/*
 * metrics.h - hitlqd's metrics registry and its one encoder of the
 * Prometheus text format 0.0.4 (served at /metrics, server/cmd/http_ops.c).
 *
 * A family (struct metric) is a counter, a gauge or a histogram (fixed
 * bucket bounds) with a FIXED list of label names, declared at start-up.
 * A series (struct metric_series) is one family with one tuple of label
 * values; labels must have low cardinality (queue, type, route, outcome,
 * model_version, level, reason, role: never item ids or person names).
 *
 * Threads: families are declared before the threads start.  metric_get
 * may be called from any thread: lookups read a fixed-size open-addressing
 * table without a lock and without allocating; a new series is inserted
 * under the family's mutex (allocated once), and a family holds at most
 * its max_series series: beyond that metric_get returns NULL (counted in
 * hitlq_metrics_series_refused_total) and every update of NULL is a
 * no-op.  Updates are C11 atomics (no lock).  A hot path that always uses
 * the same labels should look its series up once and keep the pointer.
 * metrics_encode runs on the loop thread; the scrape callbacks it calls
 * first set the gauges that are computed at scrape time.
 */
#ifndef HITLQ_METRICS_H
#define HITLQ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS  4u     /* label names per family */
#define METRICS_MAX_BUCKETS 24u    /* histogram bounds (+Inf is implicit) */
#define METRICS_LABEL_MAX   64u    /* bytes of one label value (longer: truncated) */

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;
struct metric;
struct metric_series;

/* A new, empty registry (with hitlq_metrics_series_refused_total), or
 * NULL when out of memory. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);          /* NULL is a no-op */

/* Declares a family: name (Prometheus metric name, [a-zA-Z_:][a-zA-Z0-9_:]*;
 * a counter's name ends in _total), help text, kind, label names
 * (n_labels <= METRICS_MAX_LABELS, each [a-zA-Z_][a-zA-Z0-9_]*, not "le"),
 * histogram bucket upper bounds (strictly increasing, n_bounds <=
 * METRICS_MAX_BUCKETS; NULL/0 for the others) and the most series it may
 * hold (>= 1).  Start-up only (one thread).  NULL when an argument is
 * invalid, the name is taken, or out of memory. */
struct metric *metrics_declare(struct metrics *m, const char *name, const char *help,
                               enum metric_kind kind, const char *const *labels,
                               size_t n_labels, const double *bounds, size_t n_bounds,
                               size_t max_series);

/* The family named name, or NULL. */
struct metric *metrics_find(struct metrics *m, const char *name);

/* The series of f with these label values (f's n_labels of them, each
 * NUL-terminated; NULL when f has no labels).  Created on first use;
 * NULL when f is NULL, f is full (refusal counted) or out of memory. */
struct metric_series *metric_get(struct metric *f, const char *const *values);
/* The same for families with 1 or 2 labels. */
struct metric_series *metric_get1(struct metric *f, const char *v0);
struct metric_series *metric_get2(struct metric *f, const char *v0, const char *v1);

/* Updates; s may be NULL (no-op).  metric_add: counters and gauges.
 * metric_set: gauges.  metric_observe: histograms (v in the buckets,
 * _sum, _count). */
void metric_inc(struct metric_series *s);
void metric_add(struct metric_series *s, double v);
void metric_set(struct metric_series *s, double v);
void metric_observe(struct metric_series *s, double v);

/* The current value (counter/gauge) or _count (histogram); 0 for NULL. */
double metric_value(const struct metric_series *s);
/* A histogram's _sum; 0 for NULL or another kind. */
double metric_sum(const struct metric_series *s);

/* Sets every series of gauge family f to 0 (a scrape callback that
 * rebuilds per-queue figures starts with it, so that a queue that
 * emptied shows 0). */
void metric_zero_all(struct metric *f);

/* A callback run by metrics_encode before encoding (loop thread): it sets
 * scrape-time gauges.  At most 8; 0 or -1. */
typedef void (*metrics_scrape_fn)(struct metrics *m, void *arg);
int metrics_on_scrape(struct metrics *m, metrics_scrape_fn fn, void *arg);

/* Runs the scrape callbacks, then writes every family in declaration
 * order, series in creation order, as Prometheus text format 0.0.4
 * (# HELP, # TYPE, escaped label values, _bucket{le=...}/_sum/_count with
 * +Inf) into a new NUL-terminated buffer *out of *len bytes (the caller
 * frees it).  0, or -1 when out of memory (*out NULL). */
int metrics_encode(struct metrics *m, char **out, size_t *len);

/* Escapes a label value for the text format (\\, \", \n) into dst (NUL-
 * terminated, truncated to fit).  Returns dst.  Exposed for tests. */
char *metrics_escape_label(const char *v, char *dst, size_t dstlen);

#endif
