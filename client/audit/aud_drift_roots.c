/*
 * aud_drift_roots.c - root causes in the drift report (client/audit/aud_drift.h):
 * the validation rules that failed most (RULES kind 1: smelly data), the
 * hard rules that routed most (kind 2), the primary reason codes of the
 * items sent to humans and how that mix moves between windows, and the
 * root-cause tags of the verdicts by queue and window.  Each row has its
 * count per window and a trend: the share in the last window against the
 * reference window, "up" or "down" when a two-proportion z test gives
 * p < 0.05 (proto/drift_stats.h), else "flat".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"
#include "drift_stats.h"

#define DR_TOP 10

/* One key's counts over the windows. */
struct dr_series {
    uint32_t  key;
    uint64_t  total;
    uint64_t *by_win;         /* n_windows counts */
};

/* Denominator of a share in window w for kind: model decisions, items sent
 * to humans (reasons) or verdicts (root causes). */
static double
dr_denominator(const struct dr_ctx *c, enum dr_count_kind kind, uint32_t w)
{
    const struct dr_window *x = &c->d->windows[w];

    if (kind == DRC_ROOT)
        return (double)x->verdicts;
    if (kind == DRC_REASON)
        return (double)(x->decisions - x->routes[RECORD_ROUTE_AUTO_APPROVE] -
                        x->routes[RECORD_ROUTE_AUTO_REJECT]);
    return (double)x->decisions;
}

static const char *
dr_trend(const struct dr_ctx *c, enum dr_count_kind kind, const struct dr_series *s)
{
    uint32_t r = c->ref_window, l = (uint32_t)c->d->n_windows - 1;
    double z, p;

    if (r == DR_NONE || l == r ||
        drift_two_prop_z((double)s->by_win[r], dr_denominator(c, kind, r),
                         (double)s->by_win[l], dr_denominator(c, kind, l), &z, &p) != DRIFT_OK)
        return "n/a";
    return p >= 0.05 ? "flat" : z < 0 ? "up" : "down";
}

static int
dr_series_cmp(const void *x, const void *y, void *arg)
{
    const struct dr_series *a = x, *b = y;

    (void)arg;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* The series of kind, sorted by total (largest first); *n their count. */
static struct dr_series *
dr_series_of(const struct dr_ctx *c, enum dr_count_kind kind, size_t *n)
{
    struct dr_count_slot *sl;
    size_t k = dr_counts_collect(&c->d->counts, kind, &sl), nw = c->d->n_windows;
    struct dr_series *s = calloc(k + 1, sizeof(*s));
    uint64_t *pool = calloc(k * nw + 1, sizeof(*pool));

    *n = 0;
    if (sl == NULL || s == NULL || pool == NULL) {
        free(sl);
        free(s);
        free(pool);
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        if (*n == 0 || s[*n - 1].key != sl[i].b) {
            s[*n] = (struct dr_series){ sl[i].b, 0, pool + *n * nw };
            (*n)++;
        }
        s[*n - 1].total += sl[i].n;
        if (sl[i].c < nw)
            s[*n - 1].by_win[sl[i].c] += sl[i].n;
    }
    free(sl);
    s[*n].by_win = pool;                     /* the sentinel keeps the pool */
    qsort_r(s, *n, sizeof(*s), dr_series_cmp, NULL);
    return s;
}

static void
dr_series_free(struct dr_series *s, size_t n)
{
    if (s != NULL)
        free(s[n].by_win);
    free(s);
}

/* The name of a series key. */
static const char *
dr_key_name(const struct dr_ctx *c, enum dr_count_kind kind, uint32_t key, char out[64])
{
    if (kind != DRC_REASON)
        return dr_str(&c->d->strs, key);
    if (key < 0x4000 && c->d->reason_name[key] != 0)
        snprintf(out, 64, "%u %s", key, dr_str(&c->d->strs, c->d->reason_name[key] - 1));
    else
        snprintf(out, 64, "%u", key);
    return out;
}

static json_t *
dr_series_json(const struct dr_ctx *c, enum dr_count_kind kind, const struct dr_series *s)
{
    json_t *counts = json_array(), *shares = json_array();
    char name[64];

    for (size_t w = 0; w < c->d->n_windows; w++) {
        double den = dr_denominator(c, kind, (uint32_t)w);
        json_array_append_new(counts, json_integer((json_int_t)s->by_win[w]));
        json_array_append_new(shares, dr_num(den > 0 ? (double)s->by_win[w] / den : NAN));
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:s}", "key", dr_key_name(c, kind, s->key, name),
                     "total", (json_int_t)s->total, "by_window", counts, "share_by_window",
                     shares, "trend", dr_trend(c, kind, s));
}

/* The top rows of one kind; -1 when out of memory. */
static json_t *
dr_top_json(const struct dr_ctx *c, enum dr_count_kind kind)
{
    size_t n;
    struct dr_series *s = dr_series_of(c, kind, &n);
    json_t *a = json_array();

    if (s == NULL || a == NULL) {
        dr_series_free(s, n);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < n && i < DR_TOP; i++)
        json_array_append_new(a, dr_series_json(c, kind, &s[i]));
    dr_series_free(s, n);
    return a;
}

/* Root-cause tags by queue: [{tag, queue, n}] sorted by n. */
static json_t *
dr_roots_by_queue(const struct dr_ctx *c)
{
    struct dr_count_slot *sl;
    size_t k = dr_counts_collect(&c->d->counts, DRC_ROOT_QUEUE, &sl);
    json_t *a = json_array();

    if (sl == NULL)
        return a;
    for (size_t i = 0; i + 1 < k; i++)          /* by count, then (tag, queue) ids */
        for (size_t j = i + 1; j < k; j++)
            if (sl[j].n > sl[i].n) {
                struct dr_count_slot t = sl[i];
                sl[i] = sl[j];
                sl[j] = t;
            }
    for (size_t i = 0; a != NULL && i < k && i < 4 * DR_TOP; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "tag",
                              dr_str(&c->d->strs, sl[i].b), "queue", sl[i].c == DR_NONE ?
                              "(none)" : dr_str(&c->d->strs, sl[i].c), "n", (json_int_t)sl[i].n));
    free(sl);
    return a;
}

int
dr_roots_json(const struct dr_ctx *c, json_t *rep)
{
    json_t *o = json_object(), *x;
    static const struct { enum dr_count_kind kind; const char *key; } parts[] = {
        { DRC_RULE_CHECK, "validation_rules" }, { DRC_RULE_HARD, "hard_rules" },
        { DRC_REASON, "reasons_to_humans" }, { DRC_ROOT, "root_cause_tags" },
    };

    if (o == NULL)
        return -1;
    json_object_set_new(o, "counted", json_string(
        "rules: model decisions they routed (share of decisions); reasons: the first model "
        "reason code of items sent to humans (share of those items); tags: root_cause of "
        "format-v2 verdicts (share of verdicts); trend: last window against the reference, "
        "two-proportion z, p < 0.05"));
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if ((x = dr_top_json(c, parts[i].kind)) == NULL)
            return json_decref(o), -1;
        json_object_set_new(o, parts[i].key, x);
    }
    json_object_set_new(o, "root_cause_tags_by_queue", dr_roots_by_queue(c));
    return json_object_set_new(rep, "root_causes", o);
}
