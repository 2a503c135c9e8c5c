/*
 * drift_stats.h - the statistics of the drift review: agreement and Cohen's
 * kappa over a confusion matrix, Wilson intervals (plain and weighted),
 * inverse-probability-weighted error rates from the blind QA sample,
 * calibration (reliability table, Brier, ECE), distribution drift between
 * two histograms (PSI, Jensen-Shannon, Hellinger, L-infinity, two-sample
 * chi-square, the sample-size-aware PSI critical value), binning helpers,
 * the two-proportion z test, Benjamini-Hochberg and the threshold what-if.
 * Used by `hitlq-audit drift` (client/audit/) and by the server for live
 * figures (server/cmd/); both compute the same numbers from the same counts.
 *
 * Pure functions: no I/O, no allocation, no global state, no locale.  Every
 * array is owned by the caller.  Results are deterministic: the same inputs
 * in the same order give the same bits (sums run in index order; nothing
 * depends on addresses or on a hash order).
 *
 * Conventions (proto/README.md): a function that can fail returns DRIFT_OK
 * (0) or a negative DRIFT_ERR_* code (drift_strerror names it):
 *   DRIFT_ERR_INVAL      a NULL pointer, a size of 0 or above its maximum, a
 *                        label or bin out of range, a weight or count that is
 *                        negative, NaN or infinite, a probability outside its
 *                        range, z <= 0; nothing is written;
 *   DRIFT_ERR_EMPTY      the data holds nothing to estimate from (total
 *                        weight 0); outputs that could not be computed are
 *                        set to NaN, the others (counts) are filled;
 *   DRIFT_ERR_UNDEFINED  there is data but the statistic is undefined (kappa
 *                        when the expected agreement is 1); same NaN rule.
 * NaN is never produced silently: every double output is finite when the
 * call returns DRIFT_OK; NaN appears only with DRIFT_ERR_EMPTY or
 * DRIFT_ERR_UNDEFINED, in the fields each function names.
 *
 * Weights: an unweighted item has weight 1.  Weighted figures use Kish's
 * effective sample size n_eff = (sum w)^2 / sum w^2 wherever a formula needs
 * an n (standard errors, Wilson intervals); for unit weights n_eff = n.
 *
 * Logarithms: PSI uses the natural log; Jensen-Shannon uses log base 2, so the
 * divergence and the distance are in [0, 1].
 */
#ifndef HITLQ_DRIFT_STATS_H
#define HITLQ_DRIFT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DRIFT_OK              0
#define DRIFT_ERR_INVAL      -1   /* bad argument (see above); nothing written */
#define DRIFT_ERR_EMPTY      -2   /* no data: total weight 0 */
#define DRIFT_ERR_UNDEFINED  -3   /* statistic undefined for this data */

#define DRIFT_LABELS_MAX  16u     /* k of a confusion matrix */
#define DRIFT_BINS_MAX    64u     /* bins of a calibration table */
#define DRIFT_Z95         1.959963984540054   /* z_{0.975}: two-sided 95 % */

/* PSI smoothing: a bin proportion of 0 becomes DRIFT_PSI_EPS (see
 * drift_dist_compare). */
#define DRIFT_PSI_EPS     1e-4

/* Static text for any code this header returns (never NULL). */
const char *drift_strerror(int code);

/* ---- interval of a proportion ---------------------------------------------- */

struct drift_interval {
    double est;      /* the point estimate (a proportion in [0, 1]) */
    double lo, hi;   /* Wilson score interval, within [0, 1] */
    double n;        /* items (or sum of weights) behind the estimate */
    double n_eff;    /* Kish effective sample size used for the interval */
};

/*
 * Wilson score interval for x successes in n trials at normal quantile z
 * (DRIFT_Z95 for 95 %).  x and n may be non-integral (weighted counts with
 * n_eff = n).  With p = x/n:
 *   centre = (p + z^2/(2n)) / (1 + z^2/n)
 *   half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4 n^2))
 * lo = max(0, centre - half), hi = min(1, centre + half).  out->n = out->n_eff
 * = n.  Returns DRIFT_ERR_INVAL unless 0 <= x <= n and z > 0 (all finite);
 * DRIFT_ERR_EMPTY when n == 0 (est, lo, hi NaN).
 */
int drift_wilson(double x, double n, double z, struct drift_interval *out);

/*
 * Wilson interval for a weighted proportion: sw_x = sum of the weights of the
 * successes, sw = sum of all weights, sw2 = sum of the squared weights.  The
 * estimate is p = sw_x / sw; the interval is drift_wilson's at p with n
 * replaced by Kish's n_eff = sw^2 / sw2 (out->n = sw, out->n_eff = n_eff).
 * With unit weights this is drift_wilson(x, n).  Returns DRIFT_ERR_INVAL
 * unless 0 <= sw_x <= sw, sw2 >= 0 and z > 0 (all finite), or when sw > 0 and
 * sw2 == 0; DRIFT_ERR_EMPTY when sw == 0 (est, lo, hi, n_eff NaN).
 */
int drift_wilson_weighted(double sw_x, double sw, double sw2, double z,
                          struct drift_interval *out);

/*
 * The sample size a window needs: the smallest whole n at which the Wilson
 * interval for an observed proportion p at quantile z has half-width
 * (hi - lo before clipping, halved) <= half.  Solves
 *   half * (1 + z^2/n) = z * sqrt(p(1-p)/n + z^2/(4 n^2))
 * for 1/n (a quadratic with one positive root) and rounds n up.  Unlike the
 * normal-approximation n = z^2 p(1-p)/half^2 it is positive at p = 0 or 1
 * (for p = 0: n = z^2 (1 - 2 half) / (2 half)).  For weighted data the
 * result is an n_eff.  Returns DRIFT_ERR_INVAL unless 0 <= p <= 1,
 * 0 < half < 0.5 and z > 0.
 */
int drift_samples_needed(double p, double half, double z, double *n);

/* ---- agreement: confusion matrix and Cohen's kappa -------------------------- */

/* A k x k matrix of summed weights: cell[a][b] for model label a (the
 * recommendation) and human label b (the verdict); labels are 0..k-1, their
 * meaning is the caller's.  Plain struct: copy, zero and merge freely. */
struct drift_confusion {
    unsigned k;
    double cell[DRIFT_LABELS_MAX][DRIFT_LABELS_MAX];
    double sw;       /* sum of weights (sum of the cells) */
    double sw2;      /* sum of squared weights */
    uint64_t count;  /* items added */
};

/* Empties c for k labels.  DRIFT_ERR_INVAL when k is 0 or above
 * DRIFT_LABELS_MAX. */
int drift_confusion_init(struct drift_confusion *c, unsigned k);

/* Adds one item with labels a (model) and b (human) and weight w (1 for an
 * unweighted matrix; w = 0 is allowed and counts in `count` only).
 * DRIFT_ERR_INVAL when a or b >= c->k or w is negative or not finite. */
int drift_confusion_add(struct drift_confusion *c, unsigned a, unsigned b, double w);

/* Adds src's cells and sums into dst.  DRIFT_ERR_INVAL when k differs. */
int drift_confusion_merge(struct drift_confusion *dst, const struct drift_confusion *src);

struct drift_kappa {
    double n;        /* sum of weights */
    double n_eff;    /* Kish n_eff (= n for unit weights) */
    double p_o;      /* observed agreement: sum_i p_ii */
    double p_e;      /* expected agreement: sum_i p_i. * p_.i */
    double kappa;    /* (p_o - p_e) / (1 - p_e) */
    double se;       /* large-sample SE (Fleiss, Cohen & Everitt 1969) */
    double lo, hi;   /* kappa -/+ z * se, clipped to [-1, 1] */
};

/*
 * Cohen's kappa of c with proportions p_ij = cell[i][j] / n.  The standard
 * error is the large-sample (non-null) one of Fleiss, Cohen & Everitt (1969):
 *   var = ( sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
 *         + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
 *         - (kappa - p_e (1 - kappa))^2 ) / (n_eff (1 - p_e)^2)
 * (a tiny negative var from rounding counts as 0).  The interval is the Wald
 * interval kappa -/+ z se clipped to [-1, 1].  Equals scikit-learn's
 * cohen_kappa_score(model, human, sample_weight=w).
 * Perfect agreement with p_e < 1 gives kappa = 1, se = 0.  When p_e == 1
 * (both raters used one and the same label for everything) kappa is 0/0:
 * returns DRIFT_ERR_UNDEFINED with n, n_eff, p_o, p_e filled and kappa, se,
 * lo, hi NaN.  DRIFT_ERR_EMPTY when c->sw == 0 (all but n NaN).
 * DRIFT_ERR_INVAL for a NULL argument, a bad k or z <= 0.
 */
int drift_kappa(const struct drift_confusion *c, double z, struct drift_kappa *out);

/* ---- error rate of automated decisions from the blind QA sample ---------- */

/* Running sums of QA verdicts weighted by 1 / q_route. */
struct drift_ipw {
    double sw;       /* sum of weights 1/q */
    double sw_err;   /* sum of weights of verdicts judging the decision wrong */
    double sw2;      /* sum of squared weights */
    uint64_t count;  /* verdicts added */
    uint64_t wrong;  /* of which wrong */
};

/* Zeroes a. */
void drift_ipw_init(struct drift_ipw *a);

/* Adds one QA verdict on an automated decision of a route sampled at rate q
 * (0 < q <= 1): weight 1/q; wrong = the verdict differs from the automated
 * decision.  DRIFT_ERR_INVAL unless 0 < q <= 1. */
int drift_ipw_add(struct drift_ipw *a, double q, bool wrong);

/* Adds src into dst (e.g. routes or windows combined). */
void drift_ipw_merge(struct drift_ipw *dst, const struct drift_ipw *src);

/*
 * The inverse-probability-weighted (Hajek) error rate of the automated
 * decisions: est = sw_err / sw, i.e. every route's QA verdicts stand for
 * 1/q_r automated decisions each, so routes count by their (estimated)
 * volume, not by their sample size.  Interval: drift_wilson_weighted (Wilson
 * at n_eff = sw^2 / sw2).  Assumes QA picks each route's automated decisions
 * independently of their content at the rate q_r recorded.  Same errors as
 * drift_wilson_weighted.
 */
int drift_ipw_rate(const struct drift_ipw *a, double z, struct drift_interval *out);

/* ---- calibration -------------------------------------------------------- */

/* Reliability sums over `bins` equal-width score bins of [0, 1]
 * (drift_bin_equal).  Plain struct: zero-initialise with drift_calib_init. */
struct drift_calib {
    unsigned bins;
    double sw[DRIFT_BINS_MAX];      /* sum of weights per bin */
    double sw2[DRIFT_BINS_MAX];     /* sum of squared weights per bin */
    double swp[DRIFT_BINS_MAX];     /* sum of w * score */
    double swy[DRIFT_BINS_MAX];     /* sum of w * outcome */
    uint64_t count[DRIFT_BINS_MAX]; /* items per bin */
    double sw_sq_err;               /* sum of w * (score - outcome)^2 */
};

/* Empties c for `bins` bins.  DRIFT_ERR_INVAL when bins is 0 or above
 * DRIFT_BINS_MAX. */
int drift_calib_init(struct drift_calib *c, unsigned bins);

/* Adds one scored item: score in [0, 1] (the predicted probability of the
 * event), outcome in [0, 1] (1 = the event happened per the human verdict),
 * weight w >= 0 (1, or 1/q for the QA reweighting).  DRIFT_ERR_INVAL when a
 * value is out of range or not finite (an unscored item is never added). */
int drift_calib_add(struct drift_calib *c, double score, double outcome, double w);

/* Adds src into dst.  DRIFT_ERR_INVAL when the bin counts differ. */
int drift_calib_merge(struct drift_calib *dst, const struct drift_calib *src);

struct drift_calib_row {
    double lo, hi;       /* the bin's score range [lo, hi) ([lo, 1] for the last) */
    uint64_t count;      /* items */
    double n;            /* sum of weights */
    double mean_pred;    /* sum w*score / n */
    double obs;          /* sum w*outcome / n: the observed rate */
    double gap;          /* obs - mean_pred */
    double obs_lo, obs_hi; /* Wilson interval of obs at n_eff of the bin */
};

struct drift_calib_summary {
    double n;            /* sum of weights over all bins */
    double brier;        /* sum w (score - outcome)^2 / n */
    double ece;          /* sum_b (n_b / n) |obs_b - mean_pred_b| */
    double mce;          /* max over non-empty bins of |gap| */
};

/*
 * The reliability table (rows[b] for b < c->bins; rows must hold c->bins)
 * and the summary.  An empty bin (n_b == 0) has count 0, n 0 and mean_pred,
 * obs, gap, obs_lo, obs_hi all 0; it adds nothing to ECE (a bin of weight
 * 0 but count > 0 likewise).  Returns DRIFT_ERR_EMPTY when the total weight
 * is 0 (rows filled as empty, summary brier/ece/mce NaN).  DRIFT_ERR_INVAL
 * for NULL, a bad bins or z <= 0.  rows may be NULL when only the summary is
 * wanted.
 */
int drift_calib_table(const struct drift_calib *c, double z, struct drift_calib_row *rows,
                      struct drift_calib_summary *sum);

/* ---- distribution drift between two histograms --------------------------- */

struct drift_dist {
    double n_ref, n_cur;   /* totals of the two histograms */
    unsigned bins_used;    /* bins with a count in either histogram */
    double psi;            /* population stability index, smoothed, ln */
    double js_div;         /* Jensen-Shannon divergence, log2, in [0, 1] */
    double js_dist;        /* sqrt(js_div), in [0, 1] */
    double hellinger;      /* (1/sqrt 2) sqrt(sum (sqrt p - sqrt q)^2), [0, 1] */
    double linf;           /* max_b |p_b - q_b|, [0, 1] */
    double chi2;           /* two-sample chi-square of the 2 x bins_used table */
    double chi2_dof;       /* bins_used - 1 */
    double chi2_p;         /* upper tail P(X > chi2) at chi2_dof; 1 when dof 0 */
    double psi_crit;       /* drift_psi_critical(bins_used, n_ref, n_cur, 0.05) */
};

/*
 * Compares ref (the reference / previous window) and cur (the current window),
 * counts over the same `bins` bins (counts may be weighted, non-integral).
 * Bins empty in both are dropped first (they carry no information, so adding
 * unused bins changes nothing); bins_used counts the rest.  With
 * e_b = ref_b / n_ref and a_b = cur_b / n_cur over the used bins:
 *   PSI smoothing rule: in each histogram separately, every proportion of 0
 *     is replaced by DRIFT_PSI_EPS (1e-4) and the proportions are divided by
 *     their new sum (renormalised to 1); PSI = sum_b (a_b - e_b) ln(a_b / e_b)
 *     on the smoothed proportions.  This rule applies to PSI only.
 *   JS, Hellinger, L-infinity: on the unsmoothed proportions (0 log 0 = 0);
 *     M = (e + a)/2, js_div = (KL(e||M) + KL(a||M)) / 2 in log base 2.
 *   chi2 = sum over the 2 x bins_used table of (O - E)^2 / E with
 *     E = row total * column total / (n_ref + n_cur); chi2_p its upper tail
 *     (drift_chi2_sf).  On large windows it rejects trivial shifts: read it
 *     next to the distances, and correct across features (drift_bh_adjust).
 *   psi_crit: Yurdakul's sample-size critical value at alpha = 0.05 for
 *     bins_used bins (0 when bins_used < 2).
 * Returns DRIFT_ERR_INVAL for NULL, bins 0 or a negative / non-finite count;
 * DRIFT_ERR_EMPTY when n_ref or n_cur is 0 (n_ref, n_cur, bins_used filled,
 * the rest NaN).
 */
int drift_dist_compare(const double *ref, const double *cur, unsigned bins,
                       struct drift_dist *out);

/*
 * Yurdakul (2018) critical value of PSI for `bins` bins between samples of
 * sizes n and m at level alpha: chi2_{1-alpha}(bins - 1) * (1/n + 1/m)
 * (e.g. 16.919 * (1/n + 1/m) for 10 bins at alpha 0.05).  DRIFT_ERR_INVAL
 * unless bins >= 2, n > 0, m > 0 and 0 < alpha < 1.
 */
int drift_psi_critical(unsigned bins, double n, double m, double alpha, double *crit);

/* ---- distributions: normal and chi-square ------------------------------- */

/*
 * Quantile of the standard normal: the x with P(Z <= x) = p, 0 < p < 1
 * (Acklam's rational approximation refined by one Halley step on erfc:
 * relative error below 1e-14).  DRIFT_ERR_INVAL outside (0, 1).
 */
int drift_normal_quantile(double p, double *x);

/* Two-sided p-value of a z statistic: P(|Z| >= |z|) = erfc(|z| / sqrt 2).
 * Cannot fail for finite z (NaN in, NaN out: callers pass finite z). */
double drift_normal_p2(double z);

/*
 * Upper tail of the chi-square distribution, P(X > x) for dof > 0 degrees of
 * freedom: the regularised incomplete gamma Q(dof/2, x/2) (series below
 * x/2 < dof/2 + 1, continued fraction above; relative error ~1e-14).
 * DRIFT_ERR_INVAL unless dof > 0 and x >= 0.
 */
int drift_chi2_sf(double x, double dof, double *p);

/*
 * Quantile of the chi-square distribution: the x with P(X <= x) = p, for
 * dof > 0 and 0 < p < 1.  Starts from Wilson-Hilferty and refines by
 * safeguarded Newton steps on the exact CDF until |change| <= 1e-12 x:
 * chi2_{0.95}(1) = 3.841458820694124, chi2_{0.95}(9) = 16.918977604620448
 * to 1e-12 (Wilson-Hilferty alone is 2.5 % off at dof 1, 0.1 % at dof 9).
 * DRIFT_ERR_INVAL outside the domain.
 */
int drift_chi2_quantile(double p, double dof, double *x);

/* ---- binning --------------------------------------------------------------- */

/*
 * Bin of a score in [0, 1] among `bins` equal-width bins: floor(x * bins),
 * with x = 1 (and anything above) in the last bin and anything below 0 in
 * bin 0; bins > 0.  NaN gives `bins` (one past the last: the caller's
 * "missing" bin).  Bin b covers [b/bins, (b+1)/bins).
 */
unsigned drift_bin_equal(double x, unsigned bins);

/*
 * Bin of x given n_edges inner edges sorted ascending (n_edges + 1 bins):
 * the number of edges <= x, so bin b covers [edges[b-1], edges[b]) and
 * equal edges make an empty bin.  This is numpy's
 * searchsorted(edges, x, side='right') and digitize(x, edges).  NaN gives
 * n_edges + 1 (the "missing" bin).  Binary search; edges may be NULL when
 * n_edges is 0.
 */
unsigned drift_bin_index(double x, const double *edges, unsigned n_edges);

/*
 * Inner quantile edges for `bins` bins from n values sorted ascending:
 * edges[b-1] = the b/bins quantile for b = 1..bins-1 (bins - 1 edges), with
 * numpy's default (linear) rule: h = (n - 1) q, v[floor h] + (h - floor h) *
 * (v[floor h + 1] - v[floor h]).  Equal values can give equal edges.
 * DRIFT_ERR_INVAL for NULL, n 0, bins < 2, a NaN/infinite value or values
 * not sorted ascending.
 */
int drift_quantile_edges(const double *sorted, size_t n, unsigned bins, double *edges);

/* ---- tests between windows, multiple testing ------------------------------ */

/*
 * Pooled two-proportion z statistic of x1/n1 against x2/n2:
 *   z = (p1 - p2) / sqrt(pbar (1 - pbar) (1/n1 + 1/n2)), pbar = (x1+x2)/(n1+n2)
 * and its two-sided p-value.  When pbar is 0 or 1 the two rates are equal
 * (both 0 or both 1): z = 0, p = 1.  DRIFT_ERR_INVAL unless 0 <= x <= n for
 * both (finite); DRIFT_ERR_EMPTY when n1 or n2 is 0 (z, p NaN).  z or p may
 * be NULL.
 */
int drift_two_prop_z(double x1, double n1, double x2, double n2, double *z, double *p);

/*
 * Benjamini-Hochberg adjusted p-values (false discovery rate control; the
 * drift report uses BH at q = 0.05 across the features of one window, and a
 * hypothesis is rejected iff adj[i] <= q):
 *   adj_(i) = min over j >= i of min(1, m p_(j) / j)  (p_(1) <= ... <= p_(m)),
 * the same as statsmodels' multipletests(method='fdr_bh').  idx is caller
 * scratch of m entries (left holding the ascending order, ties by index).
 * adj may alias p.  DRIFT_ERR_INVAL for NULL, m 0 or a p outside [0, 1] or
 * NaN.
 */
int drift_bh_adjust(const double *p, size_t m, double *adj, size_t *idx);

/* ---- what-if: a proposed auto-resolve threshold ----------------------------- */

/*
 * One item of a window for the what-if on ONE automated side: the item is
 * auto-resolved at threshold t iff it is eligible and score >= t.  For a
 * side whose auto action is taken at LOW scores (a reject band) pass
 * 1 - score and 1 - threshold.
 */
struct drift_whatif_item {
    double score;     /* the model score (ignored when !eligible) */
    double weight;    /* labelled: inverse-probability weight (1/q for a QA
                       * verdict on an auto item, 1 for a human verdict on a
                       * review item); ignored otherwise */
    bool eligible;    /* scored and not routed by a hard rule: a threshold
                       * decides it */
    bool auto_now;    /* the current policy auto-resolved it on this side */
    bool labelled;    /* it carries a verdict: a blind QA verdict (auto_now)
                       * or the human verdict (review item) */
    bool wrong;       /* labelled: the side's auto action differs from the
                       * verdict (the automated decision judged wrong) */
};

struct drift_whatif {
    double threshold;
    uint64_t n;              /* items given */
    uint64_t n_auto;         /* eligible with score >= threshold */
    double auto_rate;        /* n_auto / n */
    uint64_t n_auto_now;     /* auto_now (the current policy) */
    uint64_t n_new_auto;     /* auto at threshold, not auto now (looser) */
    uint64_t n_new_unlabelled; /* of n_new_auto: without a verdict */
    uint64_t n_labels;       /* labelled items among the n_auto */
    struct drift_interval error; /* weighted error rate among the n_auto */
};

/*
 * Estimated auto-resolve rate and error rate of the automated decisions if
 * the side's auto threshold were `threshold`.  What is estimable: only items
 * that carry a verdict have an error label, i.e. items the current policy
 * auto-resolved AND the blind QA sampled (weight 1/q_r), and review items a
 * human decided (weight 1).  The error estimate is the weighted share of
 * `wrong` among the labelled items with eligible && score >= threshold
 * (drift_wilson_weighted, n_eff interval):
 *   stricter threshold: the QA-weighted error among the auto items that stay
 *     auto (items leaving the auto side simply drop out);
 *   looser threshold: in addition, the human verdicts on review items that
 *     would become auto count as labels, each standing for itself.
 * Assumptions (state them with the figure): QA samples each route's auto
 * decisions at its rate independently of score and content; a human verdict
 * on a review item is the label QA would have given had the item been
 * auto-resolved (reviewers who saw the recommendation may lean to it);
 * undecided review items (n_new_unlabelled) are missing at random.
 * Returns DRIFT_ERR_INVAL for out NULL, items NULL with n > 0, a non-finite
 * threshold, or a labelled eligible item with a negative / non-finite weight
 * or a non-finite score (an unlabelled eligible item with a NaN score is
 * simply never auto); DRIFT_ERR_EMPTY when no labelled item is auto at the
 * threshold (counts and auto_rate filled, or auto_rate NaN when n is 0;
 * error est, lo, hi, n_eff NaN).  z is the normal quantile of the interval
 * (DRIFT_Z95); z <= 0 is DRIFT_ERR_INVAL.
 */
int drift_whatif_eval(const struct drift_whatif_item *items, size_t n, double threshold,
                      double z, struct drift_whatif *out);

#endif /* HITLQ_DRIFT_STATS_H */
