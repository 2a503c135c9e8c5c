/*
 * aud_drift_qa.c - the figures of the drift report that need human labels
 * (client/audit/aud_drift.h), with proto/drift_stats.h:
 *   qa           error rate of the automated decisions from the blind QA
 *                sample, per route with Wilson intervals and overall
 *                weighted by each route's sampling rate (1/q), per window,
 *                and the samples a window needs for a +-5 % half-width;
 *   calibration  score against the human outcome (positive = the auto
 *                action's side): reliability table, Brier, ECE, unweighted
 *                and QA-reweighted (a QA verdict stands for 1/q automated
 *                decisions, a review verdict for itself);
 *   what_if      for each --what-if threshold on the auto action's side, the
 *                auto-resolve rate and the estimated error rate.
 * Labels: format-v2 verdicts with agreement 1 or 2 on a scored item.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"
#include "drift_stats.h"

#define DR_HALF 0.05      /* the +-5 % half-width a window's QA sample aims at */

/* A comparable format-v2 verdict on a scored item. */
static bool
dr_labelled(const struct dr_ctx *c, const struct dr_verdict *v)
{
    return !(v->flags & DRV_LEGACY) && (v->agreement == RECORD_AGREE_AGREED ||
                                        v->agreement == RECORD_AGREE_OVERRODE) &&
           (c->d->items[v->item].flags & DR_SCORED);
}

/* The QA weight 1/q of a QA verdict's route, or 0 when q is unknown. */
static double
dr_qa_weight(const struct dr_ctx *c, const struct dr_item *it)
{
    double q = c->qa_rate[it->route & 7];

    return q > 0 ? 1.0 / q : 0.0;
}

/* ---- qa --------------------------------------------------------------------- */

static json_t *
dr_ipw_json(const struct drift_ipw *a, const char *key)
{
    struct drift_interval iv;

    drift_ipw_rate(a, DRIFT_Z95, &iv);
    return json_pack("{s:s, s:I, s:I, s:o}", "key", key, "qa_verdicts",
                     (json_int_t)a->count, "wrong", (json_int_t)a->wrong, "error_rate",
                     dr_interval_json(&iv));
}

/* Per route: decisions, QA copies, verdicts, Wilson interval of the error. */
static json_t *
dr_qa_routes(const struct dr_ctx *c, const struct drift_ipw *by_route)
{
    json_t *a = json_array();
    uint64_t n[8] = { 0 }, drawn[8] = { 0 };

    for (size_t i = 0; i < c->d->n_items; i++) {
        n[c->d->items[i].route & 7]++;
        drawn[c->d->items[i].route & 7] += (c->d->items[i].flags & DR_QA) != 0;
    }
    for (unsigned rt = RECORD_ROUTE_AUTO_APPROVE; a != NULL && rt <= RECORD_ROUTE_AUTO_REJECT;
         rt++) {
        struct drift_interval iv;
        drift_wilson((double)by_route[rt].wrong, (double)by_route[rt].count, DRIFT_Z95, &iv);
        json_array_append_new(a, json_pack(
            "{s:s, s:I, s:o, s:I, s:I, s:I, s:o}", "route", dr_route_name(rt), "decisions",
            (json_int_t)n[rt], "qa_rate", dr_num(c->qa_rate[rt] > 0 ? c->qa_rate[rt] : NAN),
            "qa_drawn", (json_int_t)drawn[rt], "qa_verdicts", (json_int_t)by_route[rt].count,
            "wrong", (json_int_t)by_route[rt].wrong, "error_rate", dr_interval_json(&iv)));
    }
    return a;
}

/* Per window: the weighted error and the samples it needs for +-5 %. */
static json_t *
dr_qa_windows(const struct dr_ctx *c, const struct drift_ipw *by_win, double p)
{
    json_t *a = json_array();
    double need = NAN;
    char name[32];

    if (isfinite(p))
        drift_samples_needed(p, DR_HALF, DRIFT_Z95, &need);
    for (size_t w = 0; a != NULL && w < c->d->n_windows; w++) {
        json_t *o = dr_ipw_json(&by_win[w], dr_window_name(c, (uint32_t)w, name));
        json_object_set_new(o, "samples_needed", dr_num(need));
        json_object_set_new(o, "enough", json_boolean(isfinite(need) &&
                                                     (double)by_win[w].count >= need));
        json_array_append_new(a, o);
    }
    return a;
}

int
dr_qa_json(const struct dr_ctx *c, json_t *rep)
{
    struct drift_ipw by_route[8], all, *by_win = calloc(c->d->n_windows + 1, sizeof(*by_win));
    struct drift_interval iv;
    uint64_t unknown_rate = 0;
    double need = NAN, need_worst = NAN;
    json_t *o;

    if (by_win == NULL)
        return -1;
    drift_ipw_init(&all);
    for (unsigned rt = 0; rt < 8; rt++)
        drift_ipw_init(&by_route[rt]);
    for (size_t i = 0; i < c->d->n_verdicts; i++) {
        const struct dr_verdict *v = &c->d->verdicts[i];
        const struct dr_item *it = &c->d->items[v->item];
        double q = c->qa_rate[it->route & 7];
        bool wrong = v->agreement == RECORD_AGREE_OVERRODE;
        if (!(v->flags & DRV_QA) || !dr_labelled(c, v))
            continue;
        if (!(q > 0)) {
            unknown_rate++;
            continue;
        }
        drift_ipw_add(&by_route[it->route & 7], q, wrong);
        drift_ipw_add(&by_win[it->window], q, wrong);
        drift_ipw_add(&all, q, wrong);
    }
    drift_ipw_rate(&all, DRIFT_Z95, &iv);
    if (isfinite(iv.est))
        drift_samples_needed(iv.est, DR_HALF, DRIFT_Z95, &need);
    drift_samples_needed(0.5, DR_HALF, DRIFT_Z95, &need_worst);
    o = json_pack("{s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
                  "counted", "format-v2 verdicts on blind QA copies of auto-resolved items, "
                  "wrong = override; overall weighted by 1/q of each route",
                  "overall", dr_ipw_json(&all, "all"), "by_route", dr_qa_routes(c, by_route),
                  "by_window", dr_qa_windows(c, by_win, iv.est),
                  "verdicts_without_rate", (json_int_t)unknown_rate,
                  "half_width", dr_num(DR_HALF), "samples_needed", dr_num(need),
                  "samples_needed_worst_case", dr_num(need_worst));
    free(by_win);
    return json_object_set_new(rep, "qa", o);
}

/* ---- calibration ---------------------------------------------------------- */

static json_t *
dr_calib_table_json(const struct drift_calib *cb)
{
    struct drift_calib_row rows[DR_SCORE_BINS];
    struct drift_calib_summary sum;
    json_t *a = json_array();

    drift_calib_table(cb, DRIFT_Z95, rows, &sum);
    for (unsigned b = 0; a != NULL && b < cb->bins; b++)
        json_array_append_new(a, json_pack(
            "{s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "lo", dr_num(rows[b].lo),
            "hi", dr_num(rows[b].hi), "count", (json_int_t)rows[b].count, "n",
            dr_num(rows[b].n), "mean_pred", dr_num(rows[b].count ? rows[b].mean_pred : NAN),
            "observed", dr_num(rows[b].count ? rows[b].obs : NAN),
            "gap", dr_num(rows[b].count ? rows[b].gap : NAN),
            "observed_lo", dr_num(rows[b].count ? rows[b].obs_lo : NAN),
            "observed_hi", dr_num(rows[b].count ? rows[b].obs_hi : NAN)));
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "n", dr_num(sum.n), "brier",
                     dr_num(sum.brier), "ece", dr_num(sum.ece), "mce", dr_num(sum.mce),
                     "rows", a);
}

int
dr_calib_json(const struct dr_ctx *c, json_t *rep)
{
    struct drift_calib un, qa, *win = calloc(c->d->n_windows + 1, sizeof(*win));
    json_t *o, *wa = json_array();
    char name[32];

    if (win == NULL || wa == NULL)
        return free(win), json_decref(wa), -1;
    drift_calib_init(&un, DR_SCORE_BINS);
    drift_calib_init(&qa, DR_SCORE_BINS);
    for (size_t w = 0; w < c->d->n_windows; w++)
        drift_calib_init(&win[w], DR_SCORE_BINS);
    for (size_t i = 0; c->auto_action != DR_NONE && i < c->d->n_verdicts; i++) {
        const struct dr_verdict *v = &c->d->verdicts[i];
        const struct dr_item *it = &c->d->items[v->item];
        double y = v->outcome == c->auto_action ? 1.0 : 0.0, w = 1.0;
        if (!dr_labelled(c, v))
            continue;
        drift_calib_add(&un, it->score, y, 1.0);
        drift_calib_add(&win[it->window], it->score, y, 1.0);
        if ((v->flags & DRV_QA) && (w = dr_qa_weight(c, it)) == 0.0)
            continue;
        drift_calib_add(&qa, it->score, y, w);
    }
    for (size_t w = 0; w < c->d->n_windows; w++) {
        json_t *t = dr_calib_table_json(&win[w]);
        json_object_del(t, "rows");
        json_object_set_new(t, "key", json_string(dr_window_name(c, (uint32_t)w, name)));
        json_array_append_new(wa, t);
    }
    o = json_pack("{s:s, s:s?, s:o, s:o, s:o}", "counted", "format-v2 verdicts with "
                  "agreement 1 or 2 on scored items; outcome 1 = the verdict is the auto "
                  "action; 10 equal-width score bins", "positive",
                  c->auto_action == DR_NONE ? NULL : dr_str(&c->d->strs, c->auto_action),
                  "unweighted", dr_calib_table_json(&un), "qa_weighted",
                  dr_calib_table_json(&qa), "by_window", wa);
    free(win);
    return json_object_set_new(rep, "calibration", o);
}

/* ---- what-if ---------------------------------------------------------------- */

/* The what-if items of the auto action's side (caller frees). */
static struct drift_whatif_item *
dr_whatif_items(const struct dr_ctx *c, uint64_t *reject_auto, double *cur_thr)
{
    struct drift_whatif_item *w = calloc(c->d->n_items + 1, sizeof(*w));

    *reject_auto = 0;
    *cur_thr = NAN;
    for (size_t i = 0; w != NULL && i < c->d->n_items; i++) {
        const struct dr_item *it = &c->d->items[i];
        w[i].score = it->score;
        w[i].eligible = (it->flags & DR_SCORED) && (it->flags & DR_HAS_REC) &&
                        !(it->flags & DR_HARD);
        w[i].auto_now = it->route == RECORD_ROUTE_AUTO_APPROVE;
        *reject_auto += it->route == RECORD_ROUTE_AUTO_REJECT;
        if (w[i].eligible)
            *cur_thr = it->auto_thr;             /* the latest policy's */
    }
    for (size_t i = 0; w != NULL && i < c->d->n_verdicts; i++) {
        const struct dr_verdict *v = &c->d->verdicts[i];
        const struct dr_item *it = &c->d->items[v->item];
        double wt = (v->flags & DRV_QA) ? dr_qa_weight(c, it) : 1.0;
        if (!dr_labelled(c, v) || wt == 0.0 || w[v->item].labelled)
            continue;
        w[v->item].labelled = true;
        w[v->item].weight = wt;
        w[v->item].wrong = v->outcome != c->auto_action;
    }
    return w;
}

static json_t *
dr_whatif_row(const struct drift_whatif *r, const char *what)
{
    return json_pack("{s:s, s:o, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:o}", "what", what,
                     "threshold", dr_num(r->threshold), "decisions", (json_int_t)r->n,
                     "auto", (json_int_t)r->n_auto, "auto_rate", dr_num(r->auto_rate),
                     "auto_now", (json_int_t)r->n_auto_now, "newly_auto",
                     (json_int_t)r->n_new_auto, "newly_auto_unlabelled",
                     (json_int_t)r->n_new_unlabelled, "labels", (json_int_t)r->n_labels,
                     "error_rate", dr_interval_json(&r->error));
}

int
dr_whatif_json(const struct dr_ctx *c, json_t *rep)
{
    uint64_t reject_auto;
    double cur;
    struct drift_whatif_item *items = dr_whatif_items(c, &reject_auto, &cur);
    struct drift_whatif r;
    json_t *a = json_array(), *o;

    if (items == NULL || a == NULL)
        return free(items), json_decref(a), -1;
    if (c->auto_action != DR_NONE && isfinite(cur)) {
        drift_whatif_eval(items, c->d->n_items, cur, DRIFT_Z95, &r);
        json_array_append_new(a, dr_whatif_row(&r, "current"));
        for (size_t k = 0; k < c->o->n_what_if; k++) {
            drift_whatif_eval(items, c->d->n_items, c->o->what_if[k], DRIFT_Z95, &r);
            json_array_append_new(a, dr_whatif_row(&r, "proposed"));
        }
    }
    o = json_pack("{s:s, s:s?, s:I, s:o}", "side", "auto action (score >= threshold); "
                  "the reject side unchanged; error = the verdict differs from the auto "
                  "action, QA verdicts weighted 1/q, review verdicts 1",
                  "auto_action", c->auto_action == DR_NONE ? NULL :
                  dr_str(&c->d->strs, c->auto_action), "auto_rejected_now",
                  (json_int_t)reject_auto, "thresholds", a);
    free(items);
    return json_object_set_new(rep, "what_if", o);
}
