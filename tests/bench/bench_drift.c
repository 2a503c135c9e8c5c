/*
 * bench_drift.c - per-entry cost of updating the running aggregates of the
 * drift review (proto/drift_stats.h), one thread, no I/O: what
 * `hitlq-audit drift` adds to every decision entry it replays.  Per entry:
 *   - 7 confusion-matrix updates (overall, by score band, queue, route,
 *     model, reviewer and time window; k = 4 labels);
 *   - 2 calibration updates (plain and QA-reweighted, 10 bins);
 *   - 2 score-histogram increments (window and reference, 10 equal bins)
 *     and 1 quantile-edge lookup (drift_bin_index over 9 edges);
 *   - an IPW update for the 5 % of entries that are blind QA verdicts.
 * The entries (1M by default) are generated beforehand from a fixed seed;
 * the timed loop reads them in order.  Prints the median of REPS runs:
 *
 *   bench: drift updates ns_per_entry = N entries_per_s = N (...)
 *   bench: drift finalize us = N (kappa, calibration table, histogram
 *          comparison over every group; once per report)
 *
 *   bench_drift [-n ENTRIES] [-r REPS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drift_stats.h"

#define BD_LABELS   4
#define BD_BINS     10
#define BD_BANDS    8
#define BD_QUEUES   16
#define BD_ROUTES   4
#define BD_MODELS   4
#define BD_REVIEWERS 64
#define BD_WINDOWS  30
#define BD_REPS_MAX 15

struct bd_entry {
    double score, weight;
    uint8_t model_label, human_label, band, queue, route, model, reviewer, window;
    uint8_t outcome, qa, wrong;
};

struct bd_aggr {
    struct drift_confusion all, band[BD_BANDS], queue[BD_QUEUES], route[BD_ROUTES];
    struct drift_confusion model[BD_MODELS], reviewer[BD_REVIEWERS], window[BD_WINDOWS];
    struct drift_calib cal, cal_w;
    double hist_win[BD_WINDOWS][BD_BINS + 1], hist_ref[BD_BINS + 1];
    double feat[BD_WINDOWS][BD_BINS + 2];
    struct drift_ipw ipw[BD_ROUTES];
};

static uint64_t bd_state = 0x5eed;

static uint64_t
bd_next(void)
{
    uint64_t z = (bd_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
bd_unit(void)
{
    return (double)(bd_next() >> 11) / 9007199254740992.0;
}

static void
bd_generate(struct bd_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double s = bd_unit();

        e[i].score = s;
        e[i].model_label = (uint8_t)(s >= 0.5 ? 1 : 0);
        e[i].human_label = (uint8_t)(bd_unit() < 0.1 ? bd_next() % BD_LABELS : e[i].model_label);
        e[i].band = (uint8_t)(s * BD_BANDS < BD_BANDS ? s * BD_BANDS : BD_BANDS - 1);
        e[i].queue = (uint8_t)(bd_next() % BD_QUEUES);
        e[i].route = (uint8_t)(bd_next() % BD_ROUTES);
        e[i].model = (uint8_t)(i * BD_MODELS / n);
        e[i].reviewer = (uint8_t)(bd_next() % BD_REVIEWERS);
        e[i].window = (uint8_t)(i * BD_WINDOWS / n);
        e[i].outcome = e[i].human_label == 1;
        e[i].qa = bd_unit() < 0.05;
        e[i].wrong = e[i].human_label != e[i].model_label;
        e[i].weight = e[i].qa ? 1.0 / (0.05 + 0.05 * e[i].route) : 1.0;
    }
}

static void
bd_init(struct bd_aggr *a)
{
    memset(a, 0, sizeof(*a));
    drift_confusion_init(&a->all, BD_LABELS);
    for (int i = 0; i < BD_BANDS; i++)
        drift_confusion_init(&a->band[i], BD_LABELS);
    for (int i = 0; i < BD_QUEUES; i++)
        drift_confusion_init(&a->queue[i], BD_LABELS);
    for (int i = 0; i < BD_ROUTES; i++)
        drift_confusion_init(&a->route[i], BD_LABELS);
    for (int i = 0; i < BD_MODELS; i++)
        drift_confusion_init(&a->model[i], BD_LABELS);
    for (int i = 0; i < BD_REVIEWERS; i++)
        drift_confusion_init(&a->reviewer[i], BD_LABELS);
    for (int i = 0; i < BD_WINDOWS; i++)
        drift_confusion_init(&a->window[i], BD_LABELS);
    drift_calib_init(&a->cal, BD_BINS);
    drift_calib_init(&a->cal_w, BD_BINS);
}

/* The per-entry work; returns the number of failed calls (0). */
static int
bd_update(struct bd_aggr *a, const struct bd_entry *e, const double *edges)
{
    unsigned m = e->model_label, h = e->human_label;
    int bad = 0;

    bad |= drift_confusion_add(&a->all, m, h, 1.0);
    bad |= drift_confusion_add(&a->band[e->band], m, h, 1.0);
    bad |= drift_confusion_add(&a->queue[e->queue], m, h, 1.0);
    bad |= drift_confusion_add(&a->route[e->route], m, h, 1.0);
    bad |= drift_confusion_add(&a->model[e->model], m, h, 1.0);
    bad |= drift_confusion_add(&a->reviewer[e->reviewer], m, h, 1.0);
    bad |= drift_confusion_add(&a->window[e->window], m, h, 1.0);
    bad |= drift_calib_add(&a->cal, e->score, e->outcome, 1.0);
    bad |= drift_calib_add(&a->cal_w, e->score, e->outcome, e->weight);
    unsigned b = drift_bin_equal(e->score, BD_BINS);
    a->hist_win[e->window][b] += 1.0;
    a->hist_ref[b] += 1.0;
    a->feat[e->window][drift_bin_index(e->score, edges, BD_BINS - 1)] += 1.0;
    if (e->qa)
        bad |= drift_ipw_add(&a->ipw[e->route], 1.0 / e->weight, e->wrong);
    return bad != 0;
}

/* Everything a report computes once from the aggregates. */
static double
bd_finalize(const struct bd_aggr *a)
{
    struct drift_kappa k;
    struct drift_calib_row rows[BD_BINS];
    struct drift_calib_summary s;
    struct drift_dist d;
    struct drift_interval iv;
    double sink = 0.0;

    drift_kappa(&a->all, DRIFT_Z95, &k);
    sink += k.kappa;
    for (int i = 0; i < BD_REVIEWERS; i++)
        if (drift_kappa(&a->reviewer[i], DRIFT_Z95, &k) == DRIFT_OK)
            sink += k.se;
    for (int i = 0; i < BD_WINDOWS; i++) {
        if (drift_kappa(&a->window[i], DRIFT_Z95, &k) == DRIFT_OK)
            sink += k.se;
        if (drift_dist_compare(a->hist_ref, a->hist_win[i], BD_BINS, &d) == DRIFT_OK)
            sink += d.psi + d.psi_crit + d.chi2_p;
    }
    drift_calib_table(&a->cal, DRIFT_Z95, rows, &s);
    sink += s.ece;
    drift_calib_table(&a->cal_w, DRIFT_Z95, rows, &s);
    sink += s.ece;
    for (int i = 0; i < BD_ROUTES; i++)
        if (drift_ipw_rate(&a->ipw[i], DRIFT_Z95, &iv) == DRIFT_OK)
            sink += iv.hi;
    return sink;
}

static double
bd_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
bd_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* One timed repetition: the update pass (*upd, seconds) and the finalize
 * (*fin, seconds).  Returns the failed-call count. */
static int
bd_round(struct bd_aggr *a, const struct bd_entry *e, size_t n, const double *edges,
         double *upd, double *fin, double *sink)
{
    int bad = 0;

    bd_init(a);
    double t0 = bd_now();
    for (size_t i = 0; i < n; i++)
        bad += bd_update(a, &e[i], edges);
    double t1 = bd_now();
    *sink += bd_finalize(a);
    *fin = bd_now() - t1;
    *upd = t1 - t0;
    return bad;
}

int
main(int argc, char **argv)
{
    size_t n = 1000000;
    int reps = 5;
    double edges[BD_BINS - 1], upd[BD_REPS_MAX], fin[BD_REPS_MAX], sink = 0.0;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-r") == 0)
            reps = atoi(argv[i + 1]);
    }
    if (n == 0 || reps < 1 || reps > BD_REPS_MAX) {
        fprintf(stderr, "usage: bench_drift [-n ENTRIES] [-r REPS (1-%d)]\n", BD_REPS_MAX);
        return 2;
    }
    struct bd_entry *e = malloc(n * sizeof(*e));
    struct bd_aggr *a = malloc(sizeof(*a));
    if (!e || !a) {
        fprintf(stderr, "bench_drift: out of memory\n");
        return 1;
    }
    bd_generate(e, n);
    for (int i = 0; i < BD_BINS - 1; i++)
        edges[i] = (i + 1.0) / BD_BINS;
    for (int r = 0; r < reps; r++) {
        if (bd_round(a, e, n, edges, &upd[r], &fin[r], &sink) != 0) {
            fprintf(stderr, "bench_drift: a drift_stats call failed\n");
            return 1;
        }
    }
    qsort(upd, (size_t)reps, sizeof(double), bd_cmp);
    qsort(fin, (size_t)reps, sizeof(double), bd_cmp);
    double ns = upd[reps / 2] * 1e9 / (double)n;
    printf("bench: drift updates ns_per_entry = %.1f entries_per_s = %.0f (7 confusion + "
           "2 calibration + 3 histogram + QA ipw per entry; %zu entries, median of %d)\n",
           ns, 1e9 / ns, n, reps);
    printf("bench: drift finalize us = %.1f (kappa, calibration, histogram comparison "
           "over every group; once per report; checksum %.3g)\n", fin[reps / 2] * 1e6, sink);
    free(e);
    free(a);
    return 0;
}
