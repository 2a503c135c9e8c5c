/*
 * drift_stats.c - the statistics of the drift review (proto/drift_stats.h):
 * Wilson intervals, Cohen's kappa with the Fleiss-Cohen-Everitt standard
 * error, the QA inverse-probability-weighted error rate, calibration sums,
 * histogram distances, the normal and chi-square distributions, binning,
 * the two-proportion z test, Benjamini-Hochberg and the threshold what-if.
 * Pure: no I/O, no allocation, no global state.
 */
#include "drift_stats.h"

#include <math.h>
#include <string.h>

/* ---- small helpers --------------------------------------------------------- */

static bool
ds_nonneg(double x)
{
    return isfinite(x) && x >= 0.0;
}

static bool
ds_z_ok(double z)
{
    return isfinite(z) && z > 0.0;
}

const char *
drift_strerror(int code)
{
    switch (code) {
    case DRIFT_OK:            return "ok";
    case DRIFT_ERR_INVAL:     return "invalid argument";
    case DRIFT_ERR_EMPTY:     return "no data to estimate from";
    case DRIFT_ERR_UNDEFINED: return "statistic undefined for this data";
    default:                  return "unknown drift_stats error";
    }
}

/* ---- Wilson intervals ------------------------------------------------------- */

/* The Wilson interval at proportion p, sample size n > 0 and quantile z. */
static void
ds_wilson(double p, double n, double z, double *lo, double *hi)
{
    double z2 = z * z;
    double den = 1.0 + z2 / n;
    double centre = (p + z2 / (2.0 * n)) / den;
    double half = z / den * sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));

    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

static void
ds_interval_nan(struct drift_interval *out)
{
    out->est = NAN;
    out->lo = NAN;
    out->hi = NAN;
}

int
drift_wilson(double x, double n, double z, struct drift_interval *out)
{
    if (!out || !ds_nonneg(x) || !ds_nonneg(n) || x > n || !ds_z_ok(z))
        return DRIFT_ERR_INVAL;
    out->n = n;
    out->n_eff = n;
    if (n == 0.0) {
        ds_interval_nan(out);
        return DRIFT_ERR_EMPTY;
    }
    out->est = x / n;
    ds_wilson(out->est, n, z, &out->lo, &out->hi);
    return DRIFT_OK;
}

int
drift_wilson_weighted(double sw_x, double sw, double sw2, double z, struct drift_interval *out)
{
    if (!out || !ds_nonneg(sw_x) || !ds_nonneg(sw) || !ds_nonneg(sw2) || sw_x > sw ||
        !ds_z_ok(z) || (sw > 0.0 && sw2 == 0.0))
        return DRIFT_ERR_INVAL;
    double n_eff = sw > 0.0 ? sw * sw / sw2 : 0.0;

    if (!isfinite(n_eff))
        return DRIFT_ERR_INVAL;
    out->n = sw;
    if (sw == 0.0) {
        ds_interval_nan(out);
        out->n_eff = NAN;
        return DRIFT_ERR_EMPTY;
    }
    out->n_eff = n_eff;
    out->est = sw_x / sw;
    ds_wilson(out->est, out->n_eff, z, &out->lo, &out->hi);
    return DRIFT_OK;
}

int
drift_samples_needed(double p, double half, double z, double *n)
{
    if (!n || !(p >= 0.0 && p <= 1.0) || !(half > 0.0 && half < 0.5) || !ds_z_ok(z))
        return DRIFT_ERR_INVAL;
    /* With t = 1/n: z^4 (h^2 - 1/4) t^2 + z^2 (2h^2 - pq) t + h^2 = 0; a < 0
     * and c > 0, so exactly one root is positive. */
    double z2 = z * z, h2 = half * half;
    double a = z2 * z2 * (h2 - 0.25);
    double b = z2 * (2.0 * h2 - p * (1.0 - p));
    double c = h2;
    double t = (-b - sqrt(b * b - 4.0 * a * c)) / (2.0 * a);

    /* The 1e-9 keeps an exact whole n from rounding up to n + 1. */
    *n = ceil(1.0 / t - 1e-9);
    if (*n < 1.0)
        *n = 1.0;
    return DRIFT_OK;
}

/* ---- confusion matrix and kappa ----------------------------------------------- */

int
drift_confusion_init(struct drift_confusion *c, unsigned k)
{
    if (!c || k == 0 || k > DRIFT_LABELS_MAX)
        return DRIFT_ERR_INVAL;
    memset(c, 0, sizeof(*c));
    c->k = k;
    return DRIFT_OK;
}

int
drift_confusion_add(struct drift_confusion *c, unsigned a, unsigned b, double w)
{
    if (!c || a >= c->k || b >= c->k || !ds_nonneg(w))
        return DRIFT_ERR_INVAL;
    c->cell[a][b] += w;
    c->sw += w;
    c->sw2 += w * w;
    c->count++;
    return DRIFT_OK;
}

int
drift_confusion_merge(struct drift_confusion *dst, const struct drift_confusion *src)
{
    if (!dst || !src || dst->k != src->k || dst->k == 0 || dst->k > DRIFT_LABELS_MAX)
        return DRIFT_ERR_INVAL;
    for (unsigned i = 0; i < dst->k; i++)
        for (unsigned j = 0; j < dst->k; j++)
            dst->cell[i][j] += src->cell[i][j];
    dst->sw += src->sw;
    dst->sw2 += src->sw2;
    dst->count += src->count;
    return DRIFT_OK;
}

/* Proportions of c: row[i] = p_i., col[j] = p_.j over total n (> 0); sets
 * *p_o and *p_e.  Returns true when p_e is exactly 1: every weight sits in
 * one diagonal cell. */
static bool
ds_kappa_margins(const struct drift_confusion *c, double n, double *row, double *col,
                 double *p_o, double *p_e)
{
    unsigned rows_used = 0, cols_used = 0, last_row = 0, last_col = 0;

    *p_o = 0.0;
    *p_e = 0.0;
    for (unsigned i = 0; i < c->k; i++) {
        double r = 0.0, s = 0.0;

        for (unsigned j = 0; j < c->k; j++) {
            r += c->cell[i][j];
            s += c->cell[j][i];
        }
        if (r > 0.0) {
            rows_used++;
            last_row = i;
        }
        if (s > 0.0) {
            cols_used++;
            last_col = i;
        }
        row[i] = r / n;
        col[i] = s / n;
        *p_o += c->cell[i][i] / n;
    }
    for (unsigned i = 0; i < c->k; i++)
        *p_e += row[i] * col[i];
    return rows_used == 1 && cols_used == 1 && last_row == last_col;
}

/* The Fleiss-Cohen-Everitt (1969) large-sample variance of kappa, times
 * n_eff (1 - p_e)^2. */
static double
ds_kappa_var_num(const struct drift_confusion *c, double n, const double *row,
                 const double *col, double kappa, double p_e)
{
    double a = 0.0, b = 0.0, d = kappa - p_e * (1.0 - kappa);

    for (unsigned i = 0; i < c->k; i++) {
        for (unsigned j = 0; j < c->k; j++) {
            double p = c->cell[i][j] / n;

            if (i == j) {
                double t = 1.0 - (row[i] + col[i]) * (1.0 - kappa);
                a += p * t * t;
            } else {
                double s = col[i] + row[j];
                b += p * s * s;
            }
        }
    }
    return a + (1.0 - kappa) * (1.0 - kappa) * b - d * d;
}

static void
ds_kappa_nan(struct drift_kappa *out)
{
    out->kappa = NAN;
    out->se = NAN;
    out->lo = NAN;
    out->hi = NAN;
}

int
drift_kappa(const struct drift_confusion *c, double z, struct drift_kappa *out)
{
    double row[DRIFT_LABELS_MAX], col[DRIFT_LABELS_MAX], n = 0.0;

    if (!c || !out || c->k == 0 || c->k > DRIFT_LABELS_MAX || !ds_z_ok(z))
        return DRIFT_ERR_INVAL;
    for (unsigned i = 0; i < c->k; i++)
        for (unsigned j = 0; j < c->k; j++)
            n += c->cell[i][j];
    out->n = n;
    if (!(n > 0.0) || !(c->sw2 > 0.0)) {
        out->n_eff = out->p_o = out->p_e = NAN;
        ds_kappa_nan(out);
        return DRIFT_ERR_EMPTY;
    }
    out->n_eff = n * n / c->sw2;
    bool pe_one = ds_kappa_margins(c, n, row, col, &out->p_o, &out->p_e);
    if (pe_one || !(out->p_e < 1.0)) {
        ds_kappa_nan(out);
        return DRIFT_ERR_UNDEFINED;
    }
    double q = 1.0 - out->p_e;
    out->kappa = (out->p_o - out->p_e) / q;
    double var = ds_kappa_var_num(c, n, row, col, out->kappa, out->p_e) / (out->n_eff * q * q);
    out->se = var > 0.0 ? sqrt(var) : 0.0;
    out->lo = fmax(-1.0, out->kappa - z * out->se);
    out->hi = fmin(1.0, out->kappa + z * out->se);
    return DRIFT_OK;
}

/* ---- IPW error rate ------------------------------------------------------------ */

void
drift_ipw_init(struct drift_ipw *a)
{
    memset(a, 0, sizeof(*a));
}

int
drift_ipw_add(struct drift_ipw *a, double q, bool wrong)
{
    if (!a || !(q > 0.0 && q <= 1.0))
        return DRIFT_ERR_INVAL;
    double w = 1.0 / q;

    a->sw += w;
    a->sw2 += w * w;
    a->count++;
    if (wrong) {
        a->sw_err += w;
        a->wrong++;
    }
    return DRIFT_OK;
}

void
drift_ipw_merge(struct drift_ipw *dst, const struct drift_ipw *src)
{
    dst->sw += src->sw;
    dst->sw_err += src->sw_err;
    dst->sw2 += src->sw2;
    dst->count += src->count;
    dst->wrong += src->wrong;
}

int
drift_ipw_rate(const struct drift_ipw *a, double z, struct drift_interval *out)
{
    if (!a)
        return DRIFT_ERR_INVAL;
    return drift_wilson_weighted(fmin(a->sw_err, a->sw), a->sw, a->sw2, z, out);
}

/* ---- calibration ---------------------------------------------------------------- */

int
drift_calib_init(struct drift_calib *c, unsigned bins)
{
    if (!c || bins == 0 || bins > DRIFT_BINS_MAX)
        return DRIFT_ERR_INVAL;
    memset(c, 0, sizeof(*c));
    c->bins = bins;
    return DRIFT_OK;
}

int
drift_calib_add(struct drift_calib *c, double score, double outcome, double w)
{
    if (!c || c->bins == 0 || c->bins > DRIFT_BINS_MAX || !(score >= 0.0 && score <= 1.0) ||
        !(outcome >= 0.0 && outcome <= 1.0) || !ds_nonneg(w))
        return DRIFT_ERR_INVAL;
    unsigned b = drift_bin_equal(score, c->bins);
    double e = score - outcome;

    c->sw[b] += w;
    c->sw2[b] += w * w;
    c->swp[b] += w * score;
    c->swy[b] += w * outcome;
    c->count[b]++;
    c->sw_sq_err += w * e * e;
    return DRIFT_OK;
}

int
drift_calib_merge(struct drift_calib *dst, const struct drift_calib *src)
{
    if (!dst || !src || dst->bins != src->bins || dst->bins == 0 || dst->bins > DRIFT_BINS_MAX)
        return DRIFT_ERR_INVAL;
    for (unsigned b = 0; b < dst->bins; b++) {
        dst->sw[b] += src->sw[b];
        dst->sw2[b] += src->sw2[b];
        dst->swp[b] += src->swp[b];
        dst->swy[b] += src->swy[b];
        dst->count[b] += src->count[b];
    }
    dst->sw_sq_err += src->sw_sq_err;
    return DRIFT_OK;
}

/* Fills row from bin b of c (an empty bin: zeros). */
static void
ds_calib_row(const struct drift_calib *c, unsigned b, double z, struct drift_calib_row *row)
{
    struct drift_interval iv;

    memset(row, 0, sizeof(*row));
    row->lo = (double)b / c->bins;
    row->hi = (double)(b + 1) / c->bins;
    row->count = c->count[b];
    row->n = c->sw[b];
    if (!(c->sw[b] > 0.0) || !(c->sw2[b] > 0.0))
        return;
    row->mean_pred = c->swp[b] / c->sw[b];
    row->obs = c->swy[b] / c->sw[b];
    row->gap = row->obs - row->mean_pred;
    if (drift_wilson_weighted(fmin(c->swy[b], c->sw[b]), c->sw[b], c->sw2[b], z, &iv) == 0) {
        row->obs_lo = iv.lo;
        row->obs_hi = iv.hi;
    }
}

int
drift_calib_table(const struct drift_calib *c, double z, struct drift_calib_row *rows,
                  struct drift_calib_summary *sum)
{
    if (!c || !sum || c->bins == 0 || c->bins > DRIFT_BINS_MAX || !ds_z_ok(z))
        return DRIFT_ERR_INVAL;
    double n = 0.0, ece = 0.0, mce = 0.0;

    for (unsigned b = 0; b < c->bins; b++)
        n += c->sw[b];
    for (unsigned b = 0; b < c->bins; b++) {
        struct drift_calib_row r;

        ds_calib_row(c, b, z, &r);
        if (rows)
            rows[b] = r;
        if (r.n > 0.0 && n > 0.0) {
            ece += r.n / n * fabs(r.gap);
            mce = fmax(mce, fabs(r.gap));
        }
    }
    sum->n = n;
    if (!(n > 0.0)) {
        sum->brier = sum->ece = sum->mce = NAN;
        return DRIFT_ERR_EMPTY;
    }
    sum->brier = c->sw_sq_err / n;
    sum->ece = ece;
    sum->mce = mce;
    return DRIFT_OK;
}

/* ---- distribution drift ------------------------------------------------------------ */

/* PSI with the smoothing rule of the header over the used bins. */
static double
ds_psi(const double *ref, const double *cur, unsigned bins, double n_ref, double n_cur)
{
    double se = 0.0, sa = 0.0, psi = 0.0;

    for (unsigned b = 0; b < bins; b++) {
        if (ref[b] + cur[b] > 0.0) {
            double e = ref[b] / n_ref, a = cur[b] / n_cur;
            se += e > 0.0 ? e : DRIFT_PSI_EPS;
            sa += a > 0.0 ? a : DRIFT_PSI_EPS;
        }
    }
    for (unsigned b = 0; b < bins; b++) {
        if (ref[b] + cur[b] > 0.0) {
            double e = ref[b] / n_ref, a = cur[b] / n_cur;
            e = (e > 0.0 ? e : DRIFT_PSI_EPS) / se;
            a = (a > 0.0 ? a : DRIFT_PSI_EPS) / sa;
            psi += (a - e) * log(a / e);
        }
    }
    return psi;
}

/* JS (log2), Hellinger and L-infinity on the unsmoothed proportions. */
static void
ds_distances(const double *ref, const double *cur, unsigned bins, double n_ref, double n_cur,
             struct drift_dist *out)
{
    double js = 0.0, hel = 0.0, linf = 0.0;

    for (unsigned b = 0; b < bins; b++) {
        double e = ref[b] / n_ref, a = cur[b] / n_cur, m = 0.5 * (e + a);
        double d = sqrt(e) - sqrt(a);

        if (e > 0.0)
            js += e * log2(e / m);
        if (a > 0.0)
            js += a * log2(a / m);
        hel += d * d;
        linf = fmax(linf, fabs(e - a));
    }
    js = fmin(1.0, fmax(0.0, 0.5 * js));
    out->js_div = js;
    out->js_dist = sqrt(js);
    out->hellinger = fmin(1.0, sqrt(hel) / sqrt(2.0));
    out->linf = linf;
}

/* Two-sample chi-square over the used bins. */
static double
ds_chi2(const double *ref, const double *cur, unsigned bins, double n_ref, double n_cur)
{
    double n = n_ref + n_cur, chi2 = 0.0;

    for (unsigned b = 0; b < bins; b++) {
        double col = ref[b] + cur[b];

        if (col > 0.0) {
            double er = n_ref * col / n, ec = n_cur * col / n;
            double dr = ref[b] - er, dc = cur[b] - ec;
            chi2 += dr * dr / er + dc * dc / ec;
        }
    }
    return chi2;
}

static void
ds_dist_nan(struct drift_dist *out)
{
    out->psi = out->js_div = out->js_dist = out->hellinger = out->linf = NAN;
    out->chi2 = out->chi2_dof = out->chi2_p = out->psi_crit = NAN;
}

int
drift_dist_compare(const double *ref, const double *cur, unsigned bins, struct drift_dist *out)
{
    if (!ref || !cur || !out || bins == 0)
        return DRIFT_ERR_INVAL;
    double n_ref = 0.0, n_cur = 0.0;
    unsigned used = 0;

    for (unsigned b = 0; b < bins; b++) {
        if (!ds_nonneg(ref[b]) || !ds_nonneg(cur[b]))
            return DRIFT_ERR_INVAL;
        n_ref += ref[b];
        n_cur += cur[b];
        used += ref[b] + cur[b] > 0.0;
    }
    if (!isfinite(n_ref) || !isfinite(n_cur))
        return DRIFT_ERR_INVAL;
    out->n_ref = n_ref;
    out->n_cur = n_cur;
    out->bins_used = used;
    if (n_ref == 0.0 || n_cur == 0.0) {
        ds_dist_nan(out);
        return DRIFT_ERR_EMPTY;
    }
    out->psi = ds_psi(ref, cur, bins, n_ref, n_cur);
    ds_distances(ref, cur, bins, n_ref, n_cur, out);
    out->chi2_dof = used - 1.0;
    out->chi2 = used > 1 ? ds_chi2(ref, cur, bins, n_ref, n_cur) : 0.0;
    out->chi2_p = 1.0;
    out->psi_crit = 0.0;
    if (used > 1) {
        if (drift_chi2_sf(out->chi2, out->chi2_dof, &out->chi2_p) != 0 ||
            drift_psi_critical(used, n_ref, n_cur, 0.05, &out->psi_crit) != 0)
            return DRIFT_ERR_INVAL;
    }
    return DRIFT_OK;
}

/* ---- normal and chi-square distributions ----------------------------------------- */

/* Acklam's rational approximation of the normal quantile (|rel err| < 1.2e-9). */
static double
ds_acklam(double p)
{
    static const double a[6] = { -3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[5] = { -5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01 };
    static const double c[6] = { -7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[4] = { 7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00 };
    const double plow = 0.02425;

    if (p < plow || p > 1.0 - plow) {
        double q = sqrt(-2.0 * log(p < plow ? p : 1.0 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
        return p < plow ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

int
drift_normal_quantile(double p, double *x)
{
    if (!x || !(p > 0.0 && p < 1.0))
        return DRIFT_ERR_INVAL;
    /* Work in the lower tail (1 - p is exact for p > 0.5), where erfc is
     * accurate, and mirror back. */
    double q = p > 0.5 ? 1.0 - p : p;
    double v = ds_acklam(q);
    /* One Halley step on Phi(v) - q, Phi from erfc (full precision). */
    double e = 0.5 * erfc(-v / sqrt(2.0)) - q;
    double u = e * 2.5066282746310002 * exp(v * v / 2.0);   /* sqrt(2 pi) */

    v -= u / (1.0 + v * u / 2.0);
    *x = p > 0.5 ? -v : v;
    return DRIFT_OK;
}

double
drift_normal_p2(double z)
{
    return erfc(fabs(z) / sqrt(2.0));
}

#define DS_GAMMA_EPS   1e-15
#define DS_GAMMA_ITER  1000
#define DS_TINY        1e-300

/* log of x^a e^-x / Gamma(a) (the prefactor of the incomplete gamma). */
static double
ds_gamma_log_front(double a, double x)
{
    int sign;

    return a * log(x) - x - lgamma_r(a, &sign);
}

/* Regularised lower incomplete gamma P(a, x) by its series (x < a + 1). */
static double
ds_gamma_p_series(double a, double x)
{
    double ap = a, term = 1.0 / a, sum = term;

    for (int i = 0; i < DS_GAMMA_ITER; i++) {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if (fabs(term) < fabs(sum) * DS_GAMMA_EPS)
            break;
    }
    return sum * exp(ds_gamma_log_front(a, x));
}

/* Regularised upper incomplete gamma Q(a, x) by its continued fraction
 * (x >= a + 1), evaluated with the modified Lentz method. */
static double
ds_gamma_q_cf(double a, double x)
{
    double b = x + 1.0 - a, c = 1.0 / DS_TINY, d = 1.0 / b, h = d;

    for (int i = 1; i <= DS_GAMMA_ITER; i++) {
        double an = -i * (i - a), del;

        b += 2.0;
        d = an * d + b;
        if (fabs(d) < DS_TINY)
            d = DS_TINY;
        c = b + an / c;
        if (fabs(c) < DS_TINY)
            c = DS_TINY;
        d = 1.0 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1.0) < DS_GAMMA_EPS)
            break;
    }
    return exp(ds_gamma_log_front(a, x)) * h;
}

/* Both tails of the chi-square at x > 0: *lower = P(X <= x), *upper = P(X > x);
 * the one computed directly is accurate, the other is its complement. */
static void
ds_chi2_tails(double x, double dof, double *lower, double *upper)
{
    double a = dof / 2.0, y = x / 2.0;

    if (y < a + 1.0) {
        *lower = fmin(1.0, ds_gamma_p_series(a, y));
        *upper = 1.0 - *lower;
    } else {
        *upper = fmin(1.0, ds_gamma_q_cf(a, y));
        *lower = 1.0 - *upper;
    }
}

int
drift_chi2_sf(double x, double dof, double *p)
{
    double lower, upper;

    if (!p || !ds_nonneg(x) || !(dof > 0.0) || !isfinite(dof))
        return DRIFT_ERR_INVAL;
    if (x == 0.0) {
        *p = 1.0;
        return DRIFT_OK;
    }
    ds_chi2_tails(x, dof, &lower, &upper);
    *p = upper;
    return DRIFT_OK;
}

/* The chi-square density at x > 0. */
static double
ds_chi2_pdf(double x, double dof)
{
    double a = dof / 2.0;

    return exp(ds_gamma_log_front(a, x / 2.0)) / x;
}

/* f(x) = CDF(x) - p, from the tail that is accurate for this p (p <= 0.5:
 * the lower; above: minus the upper against 1 - p). */
static double
ds_chi2_f(double x, double dof, double p)
{
    double lower, upper;

    ds_chi2_tails(x, dof, &lower, &upper);
    return p <= 0.5 ? lower - p : (1.0 - p) - upper;
}

/* Wilson-Hilferty start: dof (1 - 2/(9 dof) + z sqrt(2/(9 dof)))^3. */
static double
ds_chi2_wh(double p, double dof)
{
    double z = ds_acklam(p), v = 2.0 / (9.0 * dof);
    double t = 1.0 - v + z * sqrt(v);

    return t > 0.0 ? dof * t * t * t : dof * 1e-3;
}

int
drift_chi2_quantile(double p, double dof, double *x)
{
    if (!x || !(p > 0.0 && p < 1.0) || !(dof > 0.0) || !isfinite(dof))
        return DRIFT_ERR_INVAL;
    double lo = 0.0, hi = fmax(1.0, dof), v = ds_chi2_wh(p, dof);

    while (ds_chi2_f(hi, dof, p) < 0.0 && hi < 1e300)
        hi *= 2.0;
    if (!(v > lo && v < hi))
        v = 0.5 * (lo + hi);
    for (int i = 0; i < 200; i++) {
        double f = ds_chi2_f(v, dof, p), nv;

        if (f == 0.0)
            break;
        if (f < 0.0)
            lo = v;
        else
            hi = v;
        nv = v - f / ds_chi2_pdf(v, dof);
        if (!(nv > lo && nv < hi))
            nv = 0.5 * (lo + hi);
        if (fabs(nv - v) <= 1e-13 * v) {
            v = nv;
            break;
        }
        v = nv;
    }
    *x = v;
    return DRIFT_OK;
}

int
drift_psi_critical(unsigned bins, double n, double m, double alpha, double *crit)
{
    double q;

    if (!crit || bins < 2 || !(n > 0.0) || !(m > 0.0) || !isfinite(n) || !isfinite(m) ||
        !(alpha > 0.0 && alpha < 1.0))
        return DRIFT_ERR_INVAL;
    if (drift_chi2_quantile(1.0 - alpha, bins - 1.0, &q) != 0)
        return DRIFT_ERR_INVAL;
    *crit = q * (1.0 / n + 1.0 / m);
    return DRIFT_OK;
}

/* ---- binning --------------------------------------------------------------------- */

unsigned
drift_bin_equal(double x, unsigned bins)
{
    if (isnan(x))
        return bins;
    if (bins == 0 || x <= 0.0)
        return 0;
    if (x >= 1.0)
        return bins - 1;
    unsigned b = (unsigned)floor(x * bins);

    return b < bins ? b : bins - 1;
}

unsigned
drift_bin_index(double x, const double *edges, unsigned n_edges)
{
    unsigned lo = 0, hi = n_edges;

    if (isnan(x))
        return n_edges + 1;
    while (lo < hi) {           /* first edge > x */
        unsigned mid = lo + (hi - lo) / 2;

        if (edges[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
drift_quantile_edges(const double *sorted, size_t n, unsigned bins, double *edges)
{
    if (!sorted || !edges || n == 0 || bins < 2)
        return DRIFT_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(sorted[i]) || (i > 0 && sorted[i] < sorted[i - 1]))
            return DRIFT_ERR_INVAL;
    for (unsigned b = 1; b < bins; b++) {
        double h = (double)(n - 1) * ((double)b / bins);
        double fl = floor(h), t = h - fl;
        size_t i = (size_t)fl;
        double lo = sorted[i], hi = i + 1 < n ? sorted[i + 1] : sorted[i];
        double diff = hi - lo;

        /* numpy's lerp: from the nearer end, so that t = 1 gives hi exactly. */
        edges[b - 1] = t >= 0.5 ? hi - diff * (1.0 - t) : lo + diff * t;
    }
    return DRIFT_OK;
}

/* ---- two-proportion z, Benjamini-Hochberg ---------------------------------------- */

int
drift_two_prop_z(double x1, double n1, double x2, double n2, double *z, double *p)
{
    double zv, pv;

    if (!ds_nonneg(x1) || !ds_nonneg(n1) || !ds_nonneg(x2) || !ds_nonneg(n2) || x1 > n1 ||
        x2 > n2)
        return DRIFT_ERR_INVAL;
    if (n1 == 0.0 || n2 == 0.0) {
        if (z)
            *z = NAN;
        if (p)
            *p = NAN;
        return DRIFT_ERR_EMPTY;
    }
    double pbar = (x1 + x2) / (n1 + n2);

    if (!(pbar > 0.0 && pbar < 1.0)) {
        zv = 0.0;
        pv = 1.0;
    } else {
        zv = (x1 / n1 - x2 / n2) / sqrt(pbar * (1.0 - pbar) * (1.0 / n1 + 1.0 / n2));
        pv = drift_normal_p2(zv);
    }
    if (z)
        *z = zv;
    if (p)
        *p = pv;
    return DRIFT_OK;
}

/* idx[i] before idx[j] in the BH order: by p, ties by index. */
static bool
ds_bh_less(const double *p, size_t i, size_t j)
{
    double a = p[i], b = p[j];

    return a != b ? a < b : i < j;
}

static void
ds_bh_sift(const double *p, size_t *idx, size_t root, size_t end)
{
    for (size_t child; (child = 2 * root + 1) < end; root = child) {
        if (child + 1 < end && ds_bh_less(p, idx[child], idx[child + 1]))
            child++;
        if (!ds_bh_less(p, idx[root], idx[child]))
            return;
        size_t t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
    }
}

/* Heap sort of idx (0..m-1) into the BH order (deterministic, in place). */
static void
ds_bh_sort(const double *p, size_t *idx, size_t m)
{
    for (size_t i = 0; i < m; i++)
        idx[i] = i;
    for (size_t i = m / 2; i-- > 0;)
        ds_bh_sift(p, idx, i, m);
    for (size_t end = m; end-- > 1;) {
        size_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        ds_bh_sift(p, idx, 0, end);
    }
}

int
drift_bh_adjust(const double *p, size_t m, double *adj, size_t *idx)
{
    if (!p || !adj || !idx || m == 0)
        return DRIFT_ERR_INVAL;
    for (size_t i = 0; i < m; i++)
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            return DRIFT_ERR_INVAL;
    ds_bh_sort(p, idx, m);
    /* From the largest p down; each step reads p[idx[r]] before writing
     * adj[idx[r]], so adj may alias p. */
    double run = 1.0;
    for (size_t r = m; r-- > 0;) {
        double v = (double)m * p[idx[r]] / (double)(r + 1);

        run = fmin(run, v);
        adj[idx[r]] = run;
    }
    return DRIFT_OK;
}

/* ---- what-if ---------------------------------------------------------------------- */

/* Weighted sums of one what-if pass. */
struct ds_whatif_sums {
    double sw, sw_x, sw2;
};

/* Whether item it is valid input (header: drift_whatif_eval). */
static bool
ds_whatif_valid(const struct drift_whatif_item *it)
{
    return !it->eligible || !it->labelled || (isfinite(it->score) && ds_nonneg(it->weight));
}

/* Counts a valid item it into out and s. */
static void
ds_whatif_item(const struct drift_whatif_item *it, double t, struct drift_whatif *out,
               struct ds_whatif_sums *s)
{
    out->n_auto_now += it->auto_now;
    if (!it->eligible || !(it->score >= t))
        return;
    out->n_auto++;
    if (!it->auto_now) {
        out->n_new_auto++;
        out->n_new_unlabelled += !it->labelled;
    }
    if (it->labelled) {
        out->n_labels++;
        s->sw += it->weight;
        s->sw2 += it->weight * it->weight;
        if (it->wrong)
            s->sw_x += it->weight;
    }
}

int
drift_whatif_eval(const struct drift_whatif_item *items, size_t n, double threshold, double z,
                  struct drift_whatif *out)
{
    struct ds_whatif_sums s = { 0.0, 0.0, 0.0 };

    if (!out || (!items && n > 0) || !isfinite(threshold) || !ds_z_ok(z))
        return DRIFT_ERR_INVAL;
    for (size_t i = 0; i < n; i++)
        if (!ds_whatif_valid(&items[i]))
            return DRIFT_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->threshold = threshold;
    out->n = n;
    for (size_t i = 0; i < n; i++)
        ds_whatif_item(&items[i], threshold, out, &s);
    out->auto_rate = n > 0 ? (double)out->n_auto / (double)n : NAN;
    if (s.sw > 0.0 && !(s.sw2 > 0.0))
        s.sw2 = s.sw * s.sw;    /* weights so small their squares vanish */
    return drift_wilson_weighted(fmin(s.sw_x, s.sw), s.sw, s.sw2, z, &out->error);
}
