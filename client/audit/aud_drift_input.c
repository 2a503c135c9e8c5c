/*
 * aud_drift_input.c - input drift in the drift report (client/audit/aud_drift.h):
 * reads the reference profiles (PROFILE_REGISTERED, extension PROFILE) and
 * the closed input windows (INPUT_WINDOW, extension INPUT_COUNTS) of the
 * log, sums the windows' counts per report window and profile, and
 * compares each feature's histogram (bins, missing, unseen) with the
 * profile's reference counts: PSI, Jensen-Shannon distance, the
 * sample-size-aware PSI critical value and a two-sample chi-square whose
 * p-values are Benjamini-Hochberg adjusted across the window's features
 * (proto/drift_stats.h), the missing and unseen rates, and the feature's
 * importance (mean |contribution| in the model entries' TOP_FEATURES).
 * Features are ranked by PSI x importance.  The histograms and the PSI
 * smoothing are those of the server's live figures (DRIFT_INPUTS).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"
#include "drift_stats.h"

/* The scratch big enough for either body. */
static void *
dr_in_scratch(struct dr_read *d)
{
    size_t n = sizeof(struct record_ext_profile) > sizeof(struct record_ext_input_counts)
               ? sizeof(struct record_ext_profile) : sizeof(struct record_ext_input_counts);

    if (d->scratch == NULL)
        d->scratch = malloc(n);
    return d->scratch;
}

/* The first extension of type t in rec, or NULL. */
static const struct record_ext *
dr_in_ext(const struct record *rec, uint16_t t)
{
    for (size_t i = 0; i < rec->ext_count; i++)
        if (rec->ext[i].type == t)
            return &rec->ext[i];
    return NULL;
}

static uint32_t
dr_in_profile_at(const struct dr_read *d, const uint8_t digest[32])
{
    for (size_t i = 0; i < d->n_profiles; i++)
        if (memcmp(d->profiles[i].digest, digest, 32) == 0)
            return (uint32_t)i;
    return DR_NONE;
}

enum aud_class
dr_read_profile(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    const struct record_ext *x = dr_in_ext(rec, RECORD_EXT_PROFILE);
    struct record_ext_profile *pf = dr_in_scratch(d);
    struct dr_profile *p;

    if (pf == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    if (x == NULL || record_ext_profile_decode(x->data, x->len, pf) != RECORD_OK)
        return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: PROFILE_REGISTERED "
                           "without a PROFILE that decodes (proto/AUDIT-FORMAT.md §3.4)",
                           (unsigned long long)rec->index);
    if (dr_in_profile_at(d, pf->digest) != DR_NONE)
        return AUD_OK;
    if (dr_grow((void **)&d->profiles, &d->cap_profiles, d->n_profiles, sizeof(*p)) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    p = &d->profiles[d->n_profiles];
    memset(p, 0, sizeof(*p));
    memcpy(p->digest, pf->digest, 32);
    p->version = dr_intern(&d->strs, pf->version.data, pf->version.len);
    p->n = pf->n;
    p->registered_ms = rec->time_ms;
    p->n_features = pf->n_features;
    for (unsigned i = 0; i < pf->n_features; i++) {
        struct dr_in_feature *f = &p->f[i];
        f->name = dr_intern(&d->strs, pf->f[i].name.data, pf->f[i].name.len);
        f->kind = pf->f[i].kind;
        f->n_bins = pf->f[i].n_bins;
        for (unsigned b = 0; b < f->n_bins; b++)
            f->ref[b] = pf->f[i].count[b];
        f->ref[f->n_bins] = pf->f[i].missing;
    }
    d->n_profiles++;
    return AUD_OK;
}

/* The aggregate of (report window start, profile), created on first use. */
static struct dr_in_window *
dr_in_window_of(struct dr_read *d, uint64_t start, uint32_t prof, uint32_t type)
{
    struct dr_in_window *w;

    for (size_t i = d->n_inwin; i-- > 0;)
        if (d->inwin[i].start_ms == start && d->inwin[i].profile == prof)
            return &d->inwin[i];
    if (dr_grow((void **)&d->inwin, &d->cap_inwin, d->n_inwin, sizeof(*w)) != 0)
        return NULL;
    w = &d->inwin[d->n_inwin++];
    memset(w, 0, sizeof(*w));
    w->start_ms = start;
    w->profile = prof;
    w->item_type = type;
    return w;
}

enum aud_class
dr_read_input_window(struct dr_read *d, const struct record *rec, struct aud_result *r)
{
    const struct record_ext *x = dr_in_ext(rec, RECORD_EXT_INPUT_COUNTS);
    struct record_ext_input_counts *ic = dr_in_scratch(d);
    struct dr_in_window *w;
    const struct dr_profile *p;
    uint32_t prof;

    if (ic == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    if (x == NULL || record_ext_input_counts_decode(x->data, x->len, ic) != RECORD_OK)
        return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: INPUT_WINDOW without "
                           "INPUT_COUNTS that decode (proto/AUDIT-FORMAT.md §3.4)",
                           (unsigned long long)rec->index);
    prof = dr_in_profile_at(d, ic->profile_digest);
    if (prof == DR_NONE || d->profiles[prof].n_features != ic->n_features)
        return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: INPUT_COUNTS names a "
                           "profile no earlier PROFILE_REGISTERED entry matches",
                           (unsigned long long)rec->index);
    if (ic->window_start_ms < d->o->since_ms || ic->window_start_ms >= d->o->until_ms)
        return AUD_OK;
    w = dr_in_window_of(d, ic->window_start_ms - ic->window_start_ms % d->o->window_ms, prof,
                        dr_intern(&d->strs, ic->item_type.data, ic->item_type.len));
    if (w == NULL)
        return aud_fail(r, AUD_IO, "out of memory");
    p = &d->profiles[prof];
    for (unsigned i = 0; i < ic->n_features; i++) {
        unsigned m = p->f[i].n_bins;
        if (ic->f[i].n_bins != m)
            return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: feature %u has "
                               "%u bins, its profile %u", (unsigned long long)rec->index, i,
                               ic->f[i].n_bins, m);
        for (unsigned b = 0; b < m; b++)
            w->cur[i][b] += ic->f[i].count[b];
        w->cur[i][m] += ic->f[i].missing;
        w->cur[i][m + 1] += ic->f[i].unseen;
    }
    w->n += ic->n;
    w->entries++;
    d->n_input_windows++;
    return AUD_OK;
}

/* ---- figures ------------------------------------------------------------------ */

/* Mean |contribution| of the feature named `name` over scored decisions. */
static double
dr_in_importance(const struct dr_ctx *c, uint32_t name)
{
    uint64_t scored = 0;

    for (size_t w = 0; w < c->d->n_windows; w++)
        scored += c->d->windows[w].scored;
    for (size_t i = 0; i < c->d->n_features; i++)
        if (c->d->features[i].name == name)
            return scored > 0 ? c->d->features[i].sum_abs / (double)scored : 0.0;
    return 0.0;
}

struct dr_in_fig {
    unsigned         index;
    struct drift_dist dd;
    double           importance, impact, bh;
};

static int
dr_in_fig_cmp(const void *x, const void *y)
{
    const struct dr_in_fig *a = x, *b = y;
    double pa = isfinite(a->dd.psi) ? a->dd.psi : -1, pb = isfinite(b->dd.psi) ? b->dd.psi : -1;

    if (a->impact != b->impact)
        return a->impact > b->impact ? -1 : 1;
    if (pa != pb)
        return pa > pb ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static const char *
dr_in_band(double psi)
{
    return !isfinite(psi) ? "n/a" : psi < 0.1 ? "stable" : psi <= 0.25 ? "moderate"
                                                                        : "significant";
}

static json_t *
dr_in_feature_json(const struct dr_ctx *c, const struct dr_in_window *w,
                   const struct dr_in_fig *g, unsigned rank)
{
    const struct dr_in_feature *f = &c->d->profiles[w->profile].f[g->index];
    double n = (double)w->n;

    return json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
                     "rank", rank, "feature", dr_str(&c->d->strs, f->name), "kind",
                     f->kind == RECORD_FEATURE_NUMERIC ? "numeric" : "categorical",
                     "psi", dr_num(g->dd.psi), "psi_critical", dr_num(g->dd.psi_crit),
                     "js_distance", dr_num(g->dd.js_dist), "band", dr_in_band(g->dd.psi),
                     "missing_rate", dr_num(n > 0 ? w->cur[g->index][f->n_bins] / n : NAN),
                     "unseen_rate", dr_num(n > 0 ? w->cur[g->index][f->n_bins + 1] / n : NAN),
                     "importance", dr_num(g->importance), "impact", dr_num(g->impact),
                     "chi2_p", dr_num(g->dd.chi2_p), "bh_p", dr_num(g->bh),
                     "drifted", isfinite(g->bh) && g->bh <= 0.05 && g->dd.psi >= 0.1);
}

/* One aggregate: its features compared with the reference, ranked. */
static json_t *
dr_in_window_json(const struct dr_ctx *c, const struct dr_in_window *w)
{
    const struct dr_profile *p = &c->d->profiles[w->profile];
    struct dr_in_fig g[RECORD_EXT_DRIFT_FEATURES_MAX];
    double pv[RECORD_EXT_DRIFT_FEATURES_MAX], adj[RECORD_EXT_DRIFT_FEATURES_MAX];
    size_t idx[RECORD_EXT_DRIFT_FEATURES_MAX];
    json_t *a = json_array();
    char t[32], hex[65];

    memset(g, 0, sizeof(g));
    for (unsigned i = 0; i < p->n_features; i++) {
        g[i].index = i;
        g[i].bh = NAN;
        drift_dist_compare(p->f[i].ref, w->cur[i], p->f[i].n_bins + 2u, &g[i].dd);
        g[i].importance = dr_in_importance(c, p->f[i].name);
        g[i].impact = isfinite(g[i].dd.psi) ? g[i].dd.psi * g[i].importance : 0.0;
        pv[i] = isfinite(g[i].dd.chi2_p) ? g[i].dd.chi2_p : 1.0;
    }
    if (p->n_features > 0 && drift_bh_adjust(pv, p->n_features, adj, idx) == DRIFT_OK)
        for (unsigned i = 0; i < p->n_features; i++)
            g[i].bh = adj[i];
    qsort(g, p->n_features, sizeof(g[0]), dr_in_fig_cmp);
    for (unsigned i = 0; a != NULL && i < p->n_features; i++)
        json_array_append_new(a, dr_in_feature_json(c, w, &g[i], i + 1));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "key", dr_iso(w->start_ms, t),
                     "item_type", dr_str(&c->d->strs, w->item_type), "profile",
                     dr_hex(p->digest, hex), "n", (json_int_t)w->n, "input_windows",
                     (json_int_t)w->entries, "features", a);
}

static int
dr_in_window_cmp(const void *x, const void *y)
{
    const struct dr_in_window *a = x, *b = y;

    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms ? -1 : 1;
    return a->profile < b->profile ? -1 : a->profile > b->profile;
}

int
dr_input_json(const struct dr_ctx *c, json_t *rep)
{
    json_t *o, *wa = json_array(), *last = NULL;

    if (wa == NULL)
        return -1;
    if (c->d->n_inwin > 0)
        qsort(c->d->inwin, c->d->n_inwin, sizeof(c->d->inwin[0]), dr_in_window_cmp);
    for (size_t i = 0; i < c->d->n_inwin; i++)
        json_array_append_new(wa, dr_in_window_json(c, &c->d->inwin[i]));
    if (json_array_size(wa) > 0)
        last = json_object_get(json_array_get(wa, json_array_size(wa) - 1), "features");
    o = json_pack("{s:b, s:s, s:s, s:I, s:I, s:O, s:o}", "available", c->d->n_input_windows > 0,
                  "note", c->d->n_input_windows > 0 ? "against the registered reference "
                  "profile; features ranked by PSI x importance (mean |contribution| of the "
                  "TOP_FEATURES in the model entries); PSI < 0.1 stable, 0.1-0.25 moderate, "
                  "> 0.25 significant; chi-square p-values Benjamini-Hochberg adjusted across "
                  "a window's features, drifted = adjusted p <= 0.05 and PSI >= 0.1"
                  : "no input-drift windows in this log", "histograms",
                  "the profile's bins, missing, unseen (PSI: empty proportions 1e-4)",
                  "profiles", (json_int_t)c->d->n_profiles, "input_windows",
                  (json_int_t)c->d->n_input_windows, "features",
                  last != NULL ? last : json_array(), "by_window", wa);
    if (last == NULL)
        json_decref(json_object_get(o, "features"));
    return json_object_set_new(rep, "input_drift", o);
}
