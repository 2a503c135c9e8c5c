/*
 * aud_drift_agree.c - AI vs human in the drift report (client/audit/aud_drift.h):
 * the confusion matrix of the model's recommendation against the human
 * verdict over the policy's action names, raw agreement and Cohen's kappa
 * with its 95 % interval (proto/drift_stats.h) - overall and by score
 * band, queue, route, model digest, reviewer and window.
 *
 * Counted: format-v2 verdicts whose agreement is 1 (agree) or 2 (override),
 * i.e. a human decision with an action name against a non-empty
 * recommendation.  Not comparable (3: escalate, or no recommendation) and
 * events (0: release, lease expiry, dead letter, comment, reopen) are
 * counted beside; v1 verdicts are not used (their agreement followed the
 * old rule).  A decision withdrawn by a later AMEND or REOPEN is counted
 * beside too ("withdrawn"): the AMEND (or the decision after the REOPEN)
 * is the item's decision in force and counts instead.  Each four-eyes
 * verdict (REVIEW k of n) counts once.  by_visibility splits agreement by
 * whether the human saw the recommendation: four-eyes verdicts say so
 * (REVIEW flag SHOWN), blind QA copies never show it, other verdicts do
 * not record it - the hidden ones are the unbiased measure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"
#include "drift_stats.h"

enum dr_dim { DIM_ALL, DIM_BAND, DIM_QUEUE, DIM_ROUTE, DIM_MODEL, DIM_REVIEWER,
              DIM_VISIBILITY, DIM_WINDOW, DIM_N };

static const char *const dr_dim_key[DIM_N] = {
    "overall", "by_band", "by_queue", "by_route", "by_model", "by_reviewer", "by_visibility",
    "by_window",
};

/* Whether the human saw the recommendation: 0 four-eyes shown, 1 four-eyes
 * hidden, 2 blind QA copy, 3 not recorded. */
static unsigned
dr_visibility(const struct dr_verdict *v)
{
    if (v->flags & DRV_REVIEW)
        return (v->flags & DRV_SHOWN) ? 0u : 1u;
    return (v->flags & DRV_QA) ? 2u : 3u;
}

/* One group's sums. */
struct dr_agroup {
    uint32_t               key;
    double                 sort;
    char                   name[112];
    struct drift_confusion cm;
    uint64_t               not_comparable, events, legacy, withdrawn;
};

struct dr_agrouping {
    struct dr_agroup *g;
    size_t            n, cap;
    struct dr_counts  index;      /* (dim, key, 0) -> group + 1 */
};

/* The label position of string id s, or -1. */
static int
dr_label_of(const struct dr_ctx *c, uint32_t s)
{
    for (unsigned i = 0; i < c->n_labels; i++)
        if (c->labels[i] == s)
            return (int)i;
    return -1;
}

/* Key, sort value and name of verdict v in dimension dim. */
static uint32_t
dr_dim_of(const struct dr_ctx *c, enum dr_dim dim, const struct dr_verdict *v,
          double *sort, char name[112])
{
    struct dr_read *d = c->d;
    const struct dr_item *it = &d->items[v->item];
    static const char *const vis[4] = { "four_eyes_shown", "four_eyes_hidden", "blind_qa",
                                        "not_recorded" };
    char buf[48], hex[65];
    const char *s;

    *sort = 0;
    switch (dim) {
    case DIM_ALL:
        snprintf(name, 112, "all");
        return 0;
    case DIM_BAND:
        s = dr_band(it, buf, sort);
        snprintf(name, 112, "%s", s);
        return dr_intern(&d->strs, s, strlen(s));
    case DIM_QUEUE:
        snprintf(name, 112, "%s", v->queue == DR_NONE ? "(none)" : dr_str(&d->strs, v->queue));
        return v->queue;
    case DIM_ROUTE:
        *sort = it->route;
        snprintf(name, 112, "%s", dr_route_name(it->route));
        return it->route;
    case DIM_MODEL:
        *sort = it->model;
        snprintf(name, 112, "%.12s %s", dr_hex(d->models[it->model].digest, hex),
                 dr_str(&d->strs, d->models[it->model].name));
        return it->model;
    case DIM_REVIEWER:
        snprintf(name, 112, "%s", v->reviewer == DR_NONE ? "(system)" :
                 dr_str(&d->strs, v->reviewer));
        return v->reviewer;
    case DIM_VISIBILITY:
        *sort = dr_visibility(v);
        snprintf(name, 112, "%s", vis[dr_visibility(v)]);
        return dr_visibility(v);
    default:
        *sort = it->window;
        dr_window_name(c, it->window, name);
        return it->window;
    }
}

/* The group of (dim, key), created on first use; NULL when out of memory. */
static struct dr_agroup *
dr_agroup_get(const struct dr_ctx *c, struct dr_agrouping *gs, enum dr_dim dim,
              const struct dr_verdict *v)
{
    char name[112];
    double sort;
    uint32_t key = dr_dim_of(c, dim, v, &sort, name);
    uint64_t at = dr_count_get(&gs->index, dim, key, 0);
    struct dr_agroup *g;

    if (at > 0)
        return &gs->g[at - 1];
    if (gs->n == gs->cap) {
        size_t cap = gs->cap ? gs->cap * 2 : 16;
        g = realloc(gs->g, cap * sizeof(*g));
        if (g == NULL)
            return NULL;
        gs->g = g;
        gs->cap = cap;
    }
    g = &gs->g[gs->n];
    memset(g, 0, sizeof(*g));
    g->key = key;
    g->sort = sort;
    memcpy(g->name, name, sizeof(g->name));
    drift_confusion_init(&g->cm, c->n_labels > 0 ? c->n_labels : 1);
    if (dr_count_add(&gs->index, dim, key, 0, ++gs->n) != 0)
        return NULL;
    return g;
}

/* Adds verdict v to group g. */
static void
dr_agroup_add(const struct dr_ctx *c, struct dr_agroup *g, const struct dr_verdict *v)
{
    int a, b;

    if (v->flags & DRV_LEGACY) {
        g->legacy++;
        return;
    }
    if (v->flags & DRV_WITHDRAWN) {
        g->withdrawn++;
        return;
    }
    if (v->agreement == RECORD_AGREE_NONE) {
        g->events++;
        return;
    }
    a = dr_label_of(c, v->rec);
    b = dr_label_of(c, v->outcome);
    if (v->agreement == RECORD_AGREE_NOT_COMPARABLE || a < 0 || b < 0) {
        g->not_comparable++;
        return;
    }
    drift_confusion_add(&g->cm, (unsigned)a, (unsigned)b, 1.0);
}

/* One group per window, verdicts or not (trends line up with the windows). */
static int
dr_agree_windows(const struct dr_ctx *c, struct dr_agrouping *gs)
{
    struct dr_verdict v = { .item = 0 };
    struct dr_item *it = c->d->items;

    for (size_t i = 0, w = 0; w < c->d->n_windows && i < c->d->n_items; i++) {
        if (it[i].window != w)
            continue;
        v.item = (uint32_t)i;
        if (dr_agroup_get(c, gs, DIM_WINDOW, &v) == NULL)
            return -1;
        w++;
    }
    return 0;
}

static int
dr_agroup_cmp(const void *x, const void *y)
{
    const struct dr_agroup *a = x, *b = y;

    if (a->sort != b->sort)
        return a->sort < b->sort ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* {key, n, agreement, kappa...} of one group. */
static json_t *
dr_agroup_json(const struct dr_ctx *c, const struct dr_agroup *g)
{
    struct drift_kappa k;
    json_t *m = json_array(), *o;

    for (unsigned i = 0; m != NULL && i < c->n_labels; i++) {
        json_t *row = json_array();
        for (unsigned j = 0; row != NULL && j < c->n_labels; j++)
            json_array_append_new(row, json_integer((json_int_t)g->cm.cell[i][j]));
        json_array_append_new(m, row);
    }
    drift_kappa(&g->cm, DRIFT_Z95, &k);
    o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o}",
                  "key", g->name, "n", (json_int_t)g->cm.count,
                  "agreement", dr_num(g->cm.count ? k.p_o : NAN),
                  "override_rate", dr_num(g->cm.count ? 1.0 - k.p_o : NAN),
                  "expected_agreement", dr_num(g->cm.count ? k.p_e : NAN),
                  "kappa", dr_num(k.kappa), "kappa_se", dr_num(k.se),
                  "kappa_lo", dr_num(k.lo), "kappa_hi", dr_num(k.hi),
                  "not_comparable", (json_int_t)g->not_comparable,
                  "events", (json_int_t)g->events, "legacy_not_used", (json_int_t)g->legacy,
                  "withdrawn", (json_int_t)g->withdrawn,
                  "matrix", m);
    return o;
}

/* The groups of one dimension as a sorted JSON array. */
static json_t *
dr_agree_dim(const struct dr_ctx *c, enum dr_dim dim)
{
    struct dr_agrouping gs = { 0 };
    json_t *a = json_array();

    if (dim == DIM_WINDOW && dr_agree_windows(c, &gs) != 0)
        a = (json_decref(a), NULL);
    for (size_t i = 0; a != NULL && i < c->d->n_verdicts; i++) {
        struct dr_agroup *g = dr_agroup_get(c, &gs, dim, &c->d->verdicts[i]);
        if (g == NULL) {
            json_decref(a);
            a = NULL;
            break;
        }
        dr_agroup_add(c, g, &c->d->verdicts[i]);
    }
    if (a != NULL && gs.n > 0)
        qsort(gs.g, gs.n, sizeof(gs.g[0]), dr_agroup_cmp);
    for (size_t i = 0; a != NULL && i < gs.n; i++)
        json_array_append_new(a, dr_agroup_json(c, &gs.g[i]));
    if (a != NULL && dim == DIM_ALL && gs.n == 0)
        json_array_append_new(a, json_pack("{s:s, s:i}", "key", "all", "n", 0));
    free(gs.g);
    dr_counts_clear(&gs.index);
    return a;
}

/* The verdicts beside the matrix: events by name, the decisions withdrawn
 * (by AMEND, by REOPEN), and the four-eyes verdicts (all, closing, shown,
 * hidden). */
static json_t *
dr_agree_beside(const struct dr_ctx *c)
{
    const struct dr_read *d = c->d;
    json_t *ev = json_object();
    uint64_t fe[4] = { 0 };

    for (size_t i = 0; ev != NULL && i < d->n_verdicts; i++) {
        const struct dr_verdict *v = &d->verdicts[i];
        const char *name = dr_str(&d->strs, v->outcome);
        if (!(v->flags & DRV_LEGACY) && v->agreement == RECORD_AGREE_NONE)
            json_object_set_new(ev, name, json_integer(
                json_integer_value(json_object_get(ev, name)) + 1));
        if (v->flags & DRV_REVIEW) {
            fe[0]++;
            fe[1] += (v->flags & DRV_FINAL) != 0;
            fe[(v->flags & DRV_SHOWN) ? 2 : 3]++;
        }
    }
    return json_pack("{s:o, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I}}", "events_by_name", ev,
                     "withdrawn", "by_amend", (json_int_t)d->n_amended, "by_reopen",
                     (json_int_t)d->n_reopened, "four_eyes", "verdicts", (json_int_t)fe[0],
                     "final", (json_int_t)fe[1], "shown", (json_int_t)fe[2], "hidden",
                     (json_int_t)fe[3]);
}

int
dr_agree_json(const struct dr_ctx *c, json_t *rep)
{
    json_t *o = json_object(), *labels = json_array(), *a;

    if (o == NULL || labels == NULL)
        return -1;
    for (unsigned i = 0; i < c->n_labels; i++)
        json_array_append_new(labels, json_string(dr_str(&c->d->strs, c->labels[i])));
    json_object_set_new(o, "counted", json_string(
        "format-v2 human verdicts with agreement 1 (agree) or 2 (override) that are still "
        "in force (not withdrawn by a later AMEND or REOPEN), each four-eyes verdict once; "
        "matrix rows: the model's recommendation, columns: the human verdict"));
    json_object_set_new(o, "beside", dr_agree_beside(c));
    json_object_set_new(o, "labels", labels);
    for (int dim = DIM_ALL; dim < DIM_N; dim++) {
        if ((a = dr_agree_dim(c, (enum dr_dim)dim)) == NULL)
            return json_decref(o), -1;
        if (dim == DIM_ALL) {
            json_object_set(o, "overall", json_array_get(a, 0));
            json_decref(a);
        } else {
            json_object_set_new(o, dr_dim_key[dim], a);
        }
    }
    return json_object_set_new(rep, "agreement", o);
}
