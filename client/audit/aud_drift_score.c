/*
 * aud_drift_score.c - distribution drift in the drift report
 * (client/audit/aud_drift.h), with proto/drift_stats.h (input drift is
 * client/audit/aud_drift_input.c):
 *   score_drift  per window: the histogram of scores (10 equal-width bins
 *                of [0, 1]), mean score, routing mix, and PSI, JS distance,
 *                Hellinger and the sample-size-aware PSI critical value
 *                against the reference window and the previous window;
 * PSI bands: < 0.1 stable, 0.1-0.25 moderate, > 0.25 significant; a PSI
 * above its critical value is beyond sampling noise at alpha 0.05.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"
#include "drift_stats.h"

struct dr_hist {
    double   count[DR_SCORE_BINS];
    double   sum;         /* of scores */
    uint64_t n;
};

static const char *
dr_psi_band(double psi)
{
    if (!isfinite(psi))
        return "n/a";
    return psi < 0.1 ? "stable" : psi <= 0.25 ? "moderate" : "significant";
}

/* {psi, js, hellinger, psi_critical, band, beyond_noise} of cur against ref. */
static json_t *
dr_compare_json(const struct dr_hist *ref, const struct dr_hist *cur)
{
    struct drift_dist dd;

    drift_dist_compare(ref->count, cur->count, DR_SCORE_BINS, &dd);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b}", "psi", dr_num(dd.psi),
                     "js_distance", dr_num(dd.js_dist), "js_divergence", dr_num(dd.js_div),
                     "hellinger", dr_num(dd.hellinger), "psi_critical", dr_num(dd.psi_crit),
                     "chi2_p", dr_num(dd.chi2_p), "band", dr_psi_band(dd.psi),
                     "beyond_noise", isfinite(dd.psi) && isfinite(dd.psi_crit) &&
                     dd.psi > dd.psi_crit);
}

static json_t *
dr_hist_json(const struct dr_hist *h)
{
    json_t *a = json_array();

    for (unsigned b = 0; a != NULL && b < DR_SCORE_BINS; b++)
        json_array_append_new(a, json_integer((json_int_t)h->count[b]));
    return a;
}

/* Shares of the routes among a window's decisions and, against the
 * reference window, the two-proportion z test of each share (SCORING.md's
 * routing mix: a route whose share moved shows p < 0.05). */
static json_t *
dr_route_mix(const struct dr_ctx *c, uint32_t w)
{
    json_t *o = json_object(), *r;
    uint64_t n = c->d->windows[w].decisions;
    bool vs_ref = c->ref_window != DR_NONE && c->ref_window != w;
    uint64_t rn = vs_ref ? c->d->windows[c->ref_window].decisions : 0;
    double z, p;

    for (unsigned rt = 0; o != NULL && rt < 8; rt++) {
        uint64_t k = c->d->windows[w].routes[rt];
        uint64_t rk = vs_ref ? c->d->windows[c->ref_window].routes[rt] : 0;
        if ((k == 0 && rk == 0) || n == 0)
            continue;
        r = json_pack("{s:I, s:o}", "n", (json_int_t)k, "share",
                      dr_num((double)k / (double)n));
        if (r != NULL && rn > 0 &&
            drift_two_prop_z((double)k, (double)n, (double)rk, (double)rn, &z, &p) == DRIFT_OK) {
            json_object_set_new(r, "z_vs_reference", dr_num(z));
            json_object_set_new(r, "p_vs_reference", dr_num(p));
        }
        json_object_set_new(o, dr_route_name(rt), r);
    }
    return o;
}

static json_t *
dr_window_drift(const struct dr_ctx *c, const struct dr_hist *h, uint32_t w)
{
    char name[32];
    json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "key", dr_window_name(c, w, name),
                          "n", (json_int_t)h[w].n, "mean_score",
                          dr_num(h[w].n ? h[w].sum / (double)h[w].n : NAN),
                          "histogram", dr_hist_json(&h[w]), "routes", dr_route_mix(c, w));

    json_object_set_new(o, "vs_reference", c->ref_window == DR_NONE ? json_null() :
                        dr_compare_json(&h[c->ref_window], &h[w]));
    json_object_set_new(o, "vs_previous", w == 0 ? json_null() :
                        dr_compare_json(&h[w - 1], &h[w]));
    return o;
}

int
dr_score_json(const struct dr_ctx *c, json_t *rep)
{
    struct dr_hist *h = calloc(c->d->n_windows + 1, sizeof(*h)), all = { { 0 }, 0, 0 };
    json_t *wa = json_array(), *o;

    if (h == NULL || wa == NULL)
        return free(h), json_decref(wa), -1;
    for (size_t i = 0; i < c->d->n_items; i++) {
        const struct dr_item *it = &c->d->items[i];
        unsigned b;
        if (!(it->flags & DR_SCORED))
            continue;
        b = drift_bin_equal(it->score, DR_SCORE_BINS);
        h[it->window].count[b] += 1;
        h[it->window].sum += it->score;
        h[it->window].n++;
        all.count[b] += 1;
        all.n++;
    }
    for (size_t w = 0; w < c->d->n_windows; w++)
        json_array_append_new(wa, dr_window_drift(c, h, (uint32_t)w));
    o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "bins", "10 equal-width bins of [0, 1]; PSI "
                  "natural log with empty proportions set to 1e-4, JS in log base 2",
                  "scored", (json_int_t)all.n, "reference_histogram",
                  c->ref_window == DR_NONE ? json_array() : dr_hist_json(&h[c->ref_window]),
                  "all_histogram", dr_hist_json(&all), "by_window", wa);
    free(h);
    return json_object_set_new(rep, "score_drift", o);
}
