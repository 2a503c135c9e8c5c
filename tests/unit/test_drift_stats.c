/*
 * test_drift_stats.c - unit tests of the drift review statistics
 * (proto/drift_stats.c): hand-computed cases for every function and its
 * edge cases (empty bins, perfect agreement, kappa undefined, zero counts,
 * no NaN with DRIFT_OK), and an ORACLE test on real data: inputs drawn from
 * tests/vectors/german_credit.csv (credit amounts of the two halves, one
 * shifted; scores from a fixed formula; human labels with noise from a
 * fixed seed; a blind QA sample per route) are written to a temp file,
 * tests/unit/drift_oracle.py computes every figure with numpy,
 * scikit-learn and scipy, and each C value must equal the oracle's to 1e-9
 * (relative above 1).  The oracle runs under /usr/bin/python3, the Debian
 * interpreter scripts/setup.sh installs python3-numpy and python3-sklearn
 * for (HITLQ_TEST_PYTHON names another); a missing module FAILS the test.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "credit_items.h"
#include "drift_stats.h"

#define TD_ROWS    1000
#define TD_HALF    (TD_ROWS / 2)
#define TD_BINS    10
#define TD_TOL     1e-9
#define TD_PYTHON  "/usr/bin/python3"
#define TD_ORACLE  "tests/unit/drift_oracle.py"

/* ---- key/value table of the C results ---------------------------------------- */

#define TD_KV_MAX 1024
struct td_kv {
    char key[40];
    double v;
    bool seen;
};
static struct td_kv td_kv[TD_KV_MAX];
static size_t td_nkv;

static void
td_put(double v, const char *fmt, ...)
{
    va_list ap;

    assert_true(td_nkv < TD_KV_MAX);
    va_start(ap, fmt);
    vsnprintf(td_kv[td_nkv].key, sizeof(td_kv[td_nkv].key), fmt, ap);
    va_end(ap);
    td_kv[td_nkv].v = v;
    td_kv[td_nkv].seen = false;
    td_nkv++;
}

static struct td_kv *
td_find(const char *key)
{
    for (size_t i = 0; i < td_nkv; i++)
        if (strcmp(td_kv[i].key, key) == 0)
            return &td_kv[i];
    return NULL;
}

/* ---- the data set ------------------------------------------------------------- */

static uint64_t td_rng_state;

/* splitmix64: a fixed-seed stream of uniform doubles in [0, 1). */
static double
td_rand(void)
{
    uint64_t z = (td_rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

struct td_data {
    size_t n;
    double amount[TD_ROWS], score[TD_ROWS];
    double rec2[TD_ROWS], human2[TD_ROWS], band3[TD_ROWS], human3[TD_ROWS];
    double lab[TD_ROWS], w[TD_ROWS], q[TD_ROWS], qwrong[TD_ROWS];
    double elig[TD_ROWS], wauto[TD_ROWS], wlab[TD_ROWS], ww[TD_ROWS], wwrong[TD_ROWS];
    double amt_cur[TD_HALF];        /* second half, shifted */
};

/* Column indices of the CSV header we use. */
enum { TD_DUR, TD_AMT, TD_AGE, TD_CLASS, TD_CHK_NONE, TD_CHK_LT0, TD_FOREIGN, TD_NCOL };
static const char *const td_cols[TD_NCOL] = {
    "Duration", "Amount", "Age", "Class", "CheckingAccountStatus.none",
    "CheckingAccountStatus.lt.0", "ForeignWorker",
};

static void
td_header(char *line, int *idx)
{
    char *cells[80];
    size_t nc = credit_csv_split(line, cells, 80);

    for (int c = 0; c < TD_NCOL; c++) {
        idx[c] = -1;
        for (size_t i = 0; i < nc; i++)
            if (strcmp(cells[i], td_cols[c]) == 0)
                idx[c] = (int)i;
        assert_true(idx[c] >= 0);
    }
}

/* One row: the score formula, noisy human labels, routing and QA. */
static void
td_row(struct td_data *d, size_t r, char **cells, const int *idx)
{
    double dur = atof(cells[idx[TD_DUR]]), amt = atof(cells[idx[TD_AMT]]);
    double age = atof(cells[idx[TD_AGE]]);
    double z = 1.0 - 0.045 * dur - 0.00012 * amt + 0.012 * age +
               0.9 * atof(cells[idx[TD_CHK_NONE]]) - 0.4 * atof(cells[idx[TD_CHK_LT0]]);
    double s = 1.0 / (1.0 + exp(-z));
    bool good = strcmp(cells[idx[TD_CLASS]], "Good") == 0;
    bool human = td_rand() < 0.12 ? !good : good;       /* 1 = approve */
    bool elig = atof(cells[idx[TD_FOREIGN]]) != 0.0;    /* else: a hard rule */
    bool hi = elig && s >= 0.7, lo = elig && s < 0.3;
    double q = hi ? 0.1 : 0.25;
    bool sampled = (hi || lo) && td_rand() < q, decided = td_rand() >= 0.05;

    d->amount[r] = amt;
    d->score[r] = s;
    d->rec2[r] = s >= 0.5;
    d->human2[r] = human;
    d->band3[r] = s >= 0.7 ? 2 : s < 0.3 ? 0 : 1;
    d->human3[r] = td_rand() < 0.04 ? 1 : human ? 2 : 0;  /* 1 = escalate */
    d->lab[r] = sampled || (!hi && !lo && decided);
    d->w[r] = !d->lab[r] ? 0.0 : sampled ? 1.0 / q : 1.0;
    d->q[r] = sampled ? q : 0.0;
    d->qwrong[r] = sampled && human != hi;
    /* what-if on the approve side: auto now = hi; labels on this side */
    d->elig[r] = elig;
    d->wauto[r] = hi;
    d->wlab[r] = d->lab[r];
    d->ww[r] = d->w[r];
    d->wwrong[r] = !human;
}

static void
td_load(struct td_data *d)
{
    FILE *f = fopen(CREDIT_ITEMS_CSV, "r");
    char line[4096];
    int idx[TD_NCOL];

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    td_header(line, idx);
    td_rng_state = 20240612;
    d->n = 0;
    while (d->n < TD_ROWS && fgets(line, sizeof(line), f)) {
        char *cells[80];

        line[strcspn(line, "\r\n")] = '\0';
        assert_true(credit_csv_split(line, cells, 80) > (size_t)TD_FOREIGN);
        td_row(d, d->n++, cells, idx);
    }
    fclose(f);
    assert_int_equal(d->n, TD_ROWS);
    for (size_t i = 0; i < TD_HALF; i++)
        d->amt_cur[i] = d->amount[TD_HALF + i] * 1.3;     /* the deliberate shift */
}

/* ---- the oracle's input file -------------------------------------------------- */

static const double td_hist_a[12] = { 0, 5, 0, 12, 7, 0, 0, 3, 1, 0, 0, 40 };
static const double td_hist_b[12] = { 2, 0, 0, 9, 9, 4, 0, 0, 6, 0, 0, 35 };
static const double td_thr[] = { 0.2, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85 };
static const double td_cq[] = { 0.95, 1, 0.95, 2, 0.95, 9, 0.99, 9, 0.05, 3, 0.5, 0.7, 0.999, 63 };
static const double td_cs[] = { 3.84, 1, 16.9, 9, 0.1, 4, 50, 9, 200, 150, 1e-3, 0.5 };
static const double td_nq[] = { 1e-12, 0.001, 0.02, 0.3, 0.5, 0.8, 0.975, 0.999999 };
static const double td_tp[] = { 10, 100, 20, 100, 3, 50, 1, 60, 450, 1000, 520, 1100 };
static const double td_wil[] = { 0, 10, 1.96, 10, 10, 1.96, 3, 40, DRIFT_Z95, 17.5, 250, 2.576,
                                 1, 1, 1.0 };
#define TD_N(a) (sizeof(a) / sizeof((a)[0]))

static double td_pv[40];

static void
td_array(FILE *f, const char *name, const double *v, size_t n)
{
    fprintf(f, "%s %zu", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %.17g", v[i]);
    fputc('\n', f);
}

static void
td_write(FILE *f, const struct td_data *d)
{
    td_array(f, "score", d->score, d->n);
    td_array(f, "rec2", d->rec2, d->n);
    td_array(f, "human2", d->human2, d->n);
    td_array(f, "band3", d->band3, d->n);
    td_array(f, "human3", d->human3, d->n);
    td_array(f, "lab", d->lab, d->n);
    td_array(f, "w", d->w, d->n);
    td_array(f, "q", d->q, d->n);
    td_array(f, "qwrong", d->qwrong, d->n);
    td_array(f, "elig", d->elig, d->n);
    td_array(f, "wauto", d->wauto, d->n);
    td_array(f, "wlab", d->wlab, d->n);
    td_array(f, "ww", d->ww, d->n);
    td_array(f, "wwrong", d->wwrong, d->n);
    td_array(f, "amt_ref", d->amount, TD_HALF);
    td_array(f, "amt_cur", d->amt_cur, TD_HALF);
    td_array(f, "amt_cur0", d->amount + TD_HALF, TD_HALF);
    td_array(f, "hist_a", td_hist_a, TD_N(td_hist_a));
    td_array(f, "hist_b", td_hist_b, TD_N(td_hist_b));
    td_array(f, "pv", td_pv, TD_N(td_pv));
    td_array(f, "thr", td_thr, TD_N(td_thr));
    td_array(f, "cq", td_cq, TD_N(td_cq));
    td_array(f, "cs", td_cs, TD_N(td_cs));
    td_array(f, "nq", td_nq, TD_N(td_nq));
    td_array(f, "tp", td_tp, TD_N(td_tp));
    td_array(f, "wil", td_wil, TD_N(td_wil));
}

/* p-values for BH: small ones, ties, 0 and 1, the rest uniform. */
static void
td_pvalues(void)
{
    for (size_t i = 0; i < TD_N(td_pv); i++)
        td_pv[i] = pow(td_rand(), 3.0);
    td_pv[3] = td_pv[7] = 0.01;
    td_pv[11] = 0.0;
    td_pv[12] = 1.0;
    td_pv[20] = td_pv[21] = td_pv[22] = 0.2;
}

/* ---- the C side of every oracle figure ---------------------------------------- */

static void
td_put_interval(const char *key, const struct drift_interval *iv)
{
    td_put(iv->est, "%s.est", key);
    td_put(iv->lo, "%s.lo", key);
    td_put(iv->hi, "%s.hi", key);
    td_put(iv->n_eff, "%s.neff", key);
}

static void
td_c_kappa(const char *key, const double *a, const double *b, const double *w,
           const double *lab, unsigned k, size_t n)
{
    struct drift_confusion c;
    struct drift_kappa kp;

    assert_int_equal(drift_confusion_init(&c, k), DRIFT_OK);
    for (size_t i = 0; i < n; i++)
        if (lab[i] > 0)
            assert_int_equal(drift_confusion_add(&c, (unsigned)a[i], (unsigned)b[i],
                                                 w ? w[i] : 1.0), DRIFT_OK);
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &kp), DRIFT_OK);
    td_put(kp.p_o, "%s.po", key);
    td_put(kp.p_e, "%s.pe", key);
    td_put(kp.kappa, "%s.kappa", key);
    td_put(kp.se, "%s.se", key);
    td_put(kp.lo, "%s.lo", key);
    td_put(kp.hi, "%s.hi", key);
    td_put(kp.n_eff, "%s.neff", key);
}

static void
td_c_dist(const char *key, const double *ref, const double *cur, unsigned bins)
{
    struct drift_dist dd;

    assert_int_equal(drift_dist_compare(ref, cur, bins, &dd), DRIFT_OK);
    td_put(dd.psi, "%s.psi", key);
    td_put(dd.js_div, "%s.js", key);
    td_put(dd.js_dist, "%s.jsd", key);
    td_put(dd.hellinger, "%s.hel", key);
    td_put(dd.linf, "%s.linf", key);
    td_put(dd.chi2, "%s.chi2", key);
    td_put(dd.chi2_p, "%s.chi2p", key);
    td_put(dd.chi2_dof, "%s.dof", key);
    td_put(dd.psi_crit, "%s.crit", key);
}

static int
td_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Reference deciles of ref (TD_HALF values), counts of ref and cur. */
static void
td_c_edges(const char *key, const double *ref, const double *cur)
{
    double sorted[TD_HALF], edges[TD_BINS - 1], cref[TD_BINS] = { 0 }, ccur[TD_BINS] = { 0 };

    memcpy(sorted, ref, sizeof(sorted));
    qsort(sorted, TD_HALF, sizeof(double), td_cmp_double);
    assert_int_equal(drift_quantile_edges(sorted, TD_HALF, TD_BINS, edges), DRIFT_OK);
    for (size_t i = 0; i < TD_HALF; i++) {
        cref[drift_bin_index(ref[i], edges, TD_BINS - 1)] += 1;
        ccur[drift_bin_index(cur[i], edges, TD_BINS - 1)] += 1;
    }
    for (unsigned i = 0; i < TD_BINS - 1; i++)
        td_put(edges[i], "%s.edge.%u", key, i);
    for (unsigned i = 0; i < TD_BINS; i++) {
        td_put(cref[i], "%s.cref.%u", key, i);
        td_put(ccur[i], "%s.ccur.%u", key, i);
    }
    td_c_dist(key, cref, ccur, TD_BINS);
}

static void
td_c_calib(const char *key, const struct td_data *d, bool weighted)
{
    struct drift_calib c;
    struct drift_calib_row rows[TD_BINS];
    struct drift_calib_summary sum;

    assert_int_equal(drift_calib_init(&c, TD_BINS), DRIFT_OK);
    for (size_t i = 0; i < d->n; i++)
        if (d->lab[i] > 0)
            assert_int_equal(drift_calib_add(&c, d->score[i], d->human2[i],
                                             weighted ? d->w[i] : 1.0), DRIFT_OK);
    assert_int_equal(drift_calib_table(&c, DRIFT_Z95, rows, &sum), DRIFT_OK);
    for (unsigned b = 0; b < TD_BINS; b++) {
        td_put(rows[b].n, "%s.n.%u", key, b);
        if (rows[b].n > 0) {
            td_put(rows[b].mean_pred, "%s.pred.%u", key, b);
            td_put(rows[b].obs, "%s.obs.%u", key, b);
        }
    }
    td_put(sum.ece, "%s.ece", key);
    td_put(sum.brier, "%s.brier", key);
}

static void
td_c_whatif(const struct td_data *d)
{
    static struct drift_whatif_item items[TD_ROWS];
    struct drift_whatif wi;
    char key[32];

    for (size_t i = 0; i < d->n; i++)
        items[i] = (struct drift_whatif_item){
            .score = d->score[i], .weight = d->ww[i], .eligible = d->elig[i] > 0,
            .auto_now = d->wauto[i] > 0, .labelled = d->wlab[i] > 0, .wrong = d->wwrong[i] > 0,
        };
    for (size_t t = 0; t < TD_N(td_thr); t++) {
        assert_int_equal(drift_whatif_eval(items, d->n, td_thr[t], DRIFT_Z95, &wi), DRIFT_OK);
        snprintf(key, sizeof(key), "whatif.%zu", t);
        td_put((double)wi.n_auto, "%s.nauto", key);
        td_put(wi.auto_rate, "%s.rate", key);
        td_put((double)wi.n_labels, "%s.nlab", key);
        td_put((double)wi.n_new_auto, "%s.nnew", key);
        td_put((double)wi.n_new_unlabelled, "%s.nnewun", key);
        td_put_interval(key, &wi.error);
    }
}

static void
td_c_scores(const struct td_data *d)
{
    double sref[TD_BINS] = { 0 }, scur[TD_BINS] = { 0 };

    for (size_t i = 0; i < d->n; i++)
        (i < TD_HALF ? sref : scur)[drift_bin_equal(d->score[i], TD_BINS)] += 1;
    for (unsigned i = 0; i < TD_BINS; i++) {
        td_put(sref[i], "score.cref.%u", i);
        td_put(scur[i], "score.ccur.%u", i);
    }
    td_c_dist("score", sref, scur, TD_BINS);
}

static void
td_c_distributions(void)
{
    double v, z, p;
    struct drift_interval iv;

    for (size_t i = 0; i < TD_N(td_cq) / 2; i++) {
        assert_int_equal(drift_chi2_quantile(td_cq[2 * i], td_cq[2 * i + 1], &v), DRIFT_OK);
        td_put(v, "chi2q.%zu", i);
    }
    for (size_t i = 0; i < TD_N(td_cs) / 2; i++) {
        assert_int_equal(drift_chi2_sf(td_cs[2 * i], td_cs[2 * i + 1], &v), DRIFT_OK);
        td_put(v, "chi2s.%zu", i);
    }
    for (size_t i = 0; i < TD_N(td_nq); i++) {
        assert_int_equal(drift_normal_quantile(td_nq[i], &v), DRIFT_OK);
        td_put(v, "normq.%zu", i);
    }
    for (size_t i = 0; i < TD_N(td_tp) / 4; i++) {
        const double *t = td_tp + 4 * i;
        assert_int_equal(drift_two_prop_z(t[0], t[1], t[2], t[3], &z, &p), DRIFT_OK);
        td_put(z, "tpz.%zu.z", i);
        td_put(p, "tpz.%zu.p", i);
    }
    for (size_t i = 0; i < TD_N(td_wil) / 3; i++) {
        const double *t = td_wil + 3 * i;
        assert_int_equal(drift_wilson(t[0], t[1], t[2], &iv), DRIFT_OK);
        td_put(iv.lo, "wilson.%zu.lo", i);
        td_put(iv.hi, "wilson.%zu.hi", i);
    }
}

static void
td_c_all(const struct td_data *d)
{
    struct drift_ipw ipw;
    struct drift_interval iv;
    double adj[TD_N(td_pv)];
    size_t idx[TD_N(td_pv)];

    td_nkv = 0;
    td_c_kappa("k2", d->rec2, d->human2, NULL, d->lab, 2, d->n);
    td_c_kappa("k2w", d->rec2, d->human2, d->w, d->lab, 2, d->n);
    td_c_kappa("k3", d->band3, d->human3, NULL, d->lab, 3, d->n);
    drift_ipw_init(&ipw);
    for (size_t i = 0; i < d->n; i++)
        if (d->q[i] > 0)
            assert_int_equal(drift_ipw_add(&ipw, d->q[i], d->qwrong[i] > 0), DRIFT_OK);
    assert_int_equal(drift_ipw_rate(&ipw, DRIFT_Z95, &iv), DRIFT_OK);
    td_put_interval("ipw", &iv);
    td_c_edges("amt", d->amount, d->amt_cur);
    td_c_edges("amt0", d->amount, d->amount + TD_HALF);
    td_c_scores(d);
    td_c_dist("hand", td_hist_a, td_hist_b, TD_N(td_hist_a));
    td_c_calib("cal", d, false);
    td_c_calib("calw", d, true);
    assert_int_equal(drift_bh_adjust(td_pv, TD_N(td_pv), adj, idx), DRIFT_OK);
    for (size_t i = 0; i < TD_N(td_pv); i++)
        td_put(adj[i], "bh.%zu", i);
    td_c_whatif(d);
    td_c_distributions();
}

/* ---- running the oracle -------------------------------------------------------- */

/* Reads the oracle's "key value" lines; returns how many matched, with the
 * largest (scaled) difference in *worst. */
static size_t
td_compare(FILE *p, double *worst, char *worst_key, size_t cap)
{
    char line[256], key[64];
    double v;
    size_t matched = 0;

    *worst = 0.0;
    while (fgets(line, sizeof(line), p)) {
        if (sscanf(line, "%63s %lf", key, &v) != 2) {
            fail_msg("oracle: unexpected line: %s", line);
        }
        struct td_kv *kv = td_find(key);
        if (!kv)
            fail_msg("oracle figure %s has no C counterpart", key);
        double diff = fabs(kv->v - v) / fmax(1.0, fabs(v));
        if (!(diff <= TD_TOL))
            fail_msg("%s: C %.17g oracle %.17g (diff %.3g)", key, kv->v, v, diff);
        if (diff > *worst) {
            *worst = diff;
            snprintf(worst_key, cap, "%s", key);
        }
        kv->seen = true;
        matched++;
    }
    return matched;
}

static void
test_oracle(void **state)
{
    static struct td_data d;
    char path[] = "/tmp/hitlq-drift-oracle.XXXXXX", cmd[256], worst_key[64] = "-";
    double worst;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    td_load(&d);
    td_pvalues();
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    td_write(f, &d);
    assert_int_equal(fclose(f), 0);
    td_c_all(&d);
    const char *py = getenv("HITLQ_TEST_PYTHON");    /* another interpreter */
    snprintf(cmd, sizeof(cmd), "%s %s %s", py && *py ? py : TD_PYTHON, TD_ORACLE, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t matched = td_compare(p, &worst, worst_key, sizeof(worst_key));
    int rc = pclose(p);
    unlink(path);
    if (rc != 0)
        fail_msg("%s failed (status %d): numpy, scipy and scikit-learn are required "
                 "(scripts/setup.sh installs python3-numpy and python3-sklearn)", cmd, rc);
    for (size_t i = 0; i < td_nkv; i++)
        if (!td_kv[i].seen)
            fail_msg("C figure %s has no oracle value", td_kv[i].key);
    assert_int_equal(matched, td_nkv);
    printf("drift oracle: %zu figures equal to %.0e; largest difference %.3g (%s)\n",
           matched, TD_TOL, worst, worst_key);
}

/* ---- hand-computed cases --------------------------------------------------------- */

#define TD_NEAR(a, b) assert_true(fabs((a) - (b)) <= 1e-12 * fmax(1.0, fabs(b)))

static void
test_wilson(void **state)
{
    struct drift_interval iv;
    double z2 = DRIFT_Z95 * DRIFT_Z95;

    (void)state;
    assert_int_equal(drift_wilson(0, 10, DRIFT_Z95, &iv), DRIFT_OK);
    TD_NEAR(iv.lo, 0.0);
    TD_NEAR(iv.hi, z2 / (10 + z2));
    assert_int_equal(drift_wilson(10, 10, DRIFT_Z95, &iv), DRIFT_OK);
    TD_NEAR(iv.lo, 10 / (10 + z2));
    TD_NEAR(iv.hi, 1.0);
    assert_int_equal(drift_wilson(0, 0, DRIFT_Z95, &iv), DRIFT_ERR_EMPTY);
    assert_true(isnan(iv.est) && isnan(iv.lo) && isnan(iv.hi));
    assert_int_equal(drift_wilson(11, 10, DRIFT_Z95, &iv), DRIFT_ERR_INVAL);
    assert_int_equal(drift_wilson(1, 10, 0.0, &iv), DRIFT_ERR_INVAL);
    assert_int_equal(drift_wilson(NAN, 10, 1.0, &iv), DRIFT_ERR_INVAL);
    assert_int_equal(drift_wilson(-1, 10, 1.0, &iv), DRIFT_ERR_INVAL);
    assert_int_equal(drift_wilson(1, INFINITY, 1.0, &iv), DRIFT_ERR_INVAL);
    /* unit weights: the weighted interval is the plain one */
    struct drift_interval w;
    assert_int_equal(drift_wilson(3, 40, DRIFT_Z95, &iv), DRIFT_OK);
    assert_int_equal(drift_wilson_weighted(3, 40, 40, DRIFT_Z95, &w), DRIFT_OK);
    TD_NEAR(w.lo, iv.lo);
    TD_NEAR(w.hi, iv.hi);
    TD_NEAR(w.n_eff, 40.0);
    /* weights 2,2 (one wrong) and 10: n_eff = 14^2 / 108 */
    assert_int_equal(drift_wilson_weighted(2, 14, 108, DRIFT_Z95, &w), DRIFT_OK);
    TD_NEAR(w.est, 1.0 / 7.0);
    TD_NEAR(w.n_eff, 196.0 / 108.0);
    assert_int_equal(drift_wilson_weighted(0, 0, 0, DRIFT_Z95, &w), DRIFT_ERR_EMPTY);
    assert_true(isnan(w.est) && isnan(w.n_eff));
    assert_int_equal(drift_wilson_weighted(1, 2, 0, DRIFT_Z95, &w), DRIFT_ERR_INVAL);
}

/* Unclipped Wilson half-width at p, n, z. */
static double
td_half(double p, double n, double z)
{
    return z / (1 + z * z / n) * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
}

static void
test_samples_needed(void **state)
{
    double n, z2 = DRIFT_Z95 * DRIFT_Z95;
    static const double ps[] = { 0, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1 };
    static const double hs[] = { 0.005, 0.01, 0.02, 0.05, 0.1, 0.25 };

    (void)state;
    /* p = 0.5: z / (2 sqrt(n + z^2)) <= 0.05  <=>  n >= 100 z^2 - z^2 */
    assert_int_equal(drift_samples_needed(0.5, 0.05, DRIFT_Z95, &n), DRIFT_OK);
    assert_true(n == ceil(99.0 * z2));
    /* p = 0: n = z^2 (1 - 2h) / (2h) */
    assert_int_equal(drift_samples_needed(0.0, 0.05, DRIFT_Z95, &n), DRIFT_OK);
    assert_true(n == ceil(z2 * 0.9 / 0.1));
    for (size_t i = 0; i < TD_N(ps); i++) {
        for (size_t j = 0; j < TD_N(hs); j++) {
            assert_int_equal(drift_samples_needed(ps[i], hs[j], DRIFT_Z95, &n), DRIFT_OK);
            assert_true(td_half(ps[i], n, DRIFT_Z95) <= hs[j] * (1 + 1e-12));
            assert_true(n == 1 || td_half(ps[i], n - 1, DRIFT_Z95) > hs[j]);
        }
    }
    assert_int_equal(drift_samples_needed(0.5, 0.5, DRIFT_Z95, &n), DRIFT_ERR_INVAL);
    assert_int_equal(drift_samples_needed(1.5, 0.1, DRIFT_Z95, &n), DRIFT_ERR_INVAL);
    assert_int_equal(drift_samples_needed(0.5, 0.1, -1, &n), DRIFT_ERR_INVAL);
}

static void
td_fill(struct drift_confusion *c, unsigned k, const double *cells)
{
    assert_int_equal(drift_confusion_init(c, k), DRIFT_OK);
    for (unsigned i = 0; i < k; i++)
        for (unsigned j = 0; j < k; j++)
            for (double n = 0; n < cells[i * k + j]; n++)
                assert_int_equal(drift_confusion_add(c, i, j, 1.0), DRIFT_OK);
}

static void
test_kappa(void **state)
{
    struct drift_confusion c, c2;
    struct drift_kappa k;

    (void)state;
    /* [[20,5],[10,15]]: p_o 0.7, p_e 0.5*0.6 + 0.5*0.4 = 0.5, kappa 0.4 */
    td_fill(&c, 2, (const double[]){ 20, 5, 10, 15 });
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_OK);
    TD_NEAR(k.p_o, 0.7);
    TD_NEAR(k.p_e, 0.5);
    TD_NEAR(k.kappa, 0.4);
    /* FCE: A = .4(1-1.1*.6)^2 + .3(1-.9*.6)^2, B = .36(.1*1.1^2 + .2*.9^2),
     * C = (.4 - .5*.6)^2; var = (A + B - C) / (50 * .25) */
    double var = (0.4 * 0.34 * 0.34 + 0.3 * 0.46 * 0.46 + 0.36 * (0.1 * 1.21 + 0.2 * 0.81) - 0.01) /
                 12.5;
    TD_NEAR(k.se, sqrt(var));
    TD_NEAR(k.lo, 0.4 - DRIFT_Z95 * sqrt(var));
    /* perfect agreement over two labels: kappa 1, se 0 */
    td_fill(&c, 2, (const double[]){ 10, 0, 0, 5 });
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_OK);
    TD_NEAR(k.kappa, 1.0);
    TD_NEAR(k.se, 0.0);
    TD_NEAR(k.lo, 1.0);
    /* everything in one label for both: p_e = 1, kappa undefined */
    td_fill(&c, 3, (const double[]){ 0, 0, 0, 0, 7, 0, 0, 0, 0 });
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_ERR_UNDEFINED);
    TD_NEAR(k.p_o, 1.0);
    TD_NEAR(k.p_e, 1.0);
    assert_true(isnan(k.kappa) && isnan(k.se) && isnan(k.lo) && isnan(k.hi));
    /* model always label 0, human always 1: p_o = p_e = 0, kappa 0 */
    td_fill(&c, 2, (const double[]){ 0, 5, 0, 0 });
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_OK);
    TD_NEAR(k.kappa, 0.0);
    /* empty; bad labels; merge */
    assert_int_equal(drift_confusion_init(&c, 2), DRIFT_OK);
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_ERR_EMPTY);
    assert_true(isnan(k.kappa) && isnan(k.p_o));
    assert_int_equal(drift_confusion_add(&c, 2, 0, 1.0), DRIFT_ERR_INVAL);
    assert_int_equal(drift_confusion_add(&c, 0, 0, -1.0), DRIFT_ERR_INVAL);
    assert_int_equal(drift_confusion_add(&c, 0, 0, NAN), DRIFT_ERR_INVAL);
    assert_int_equal(drift_confusion_init(&c, 0), DRIFT_ERR_INVAL);
    assert_int_equal(drift_confusion_init(&c, DRIFT_LABELS_MAX + 1), DRIFT_ERR_INVAL);
    td_fill(&c, 2, (const double[]){ 20, 5, 0, 0 });
    td_fill(&c2, 2, (const double[]){ 0, 0, 10, 15 });
    assert_int_equal(drift_confusion_merge(&c, &c2), DRIFT_OK);
    assert_int_equal(drift_kappa(&c, DRIFT_Z95, &k), DRIFT_OK);
    TD_NEAR(k.kappa, 0.4);
    assert_int_equal(drift_confusion_init(&c2, 3), DRIFT_OK);
    assert_int_equal(drift_confusion_merge(&c, &c2), DRIFT_ERR_INVAL);
}

static void
test_ipw(void **state)
{
    struct drift_ipw a, b;
    struct drift_interval iv;

    (void)state;
    drift_ipw_init(&a);
    drift_ipw_init(&b);
    assert_int_equal(drift_ipw_rate(&a, DRIFT_Z95, &iv), DRIFT_ERR_EMPTY);
    assert_true(isnan(iv.est));
    /* route sampled at 0.5: two verdicts, one wrong; route at 0.1: one right */
    assert_int_equal(drift_ipw_add(&a, 0.5, true), DRIFT_OK);
    assert_int_equal(drift_ipw_add(&a, 0.5, false), DRIFT_OK);
    assert_int_equal(drift_ipw_add(&b, 0.1, false), DRIFT_OK);
    drift_ipw_merge(&a, &b);
    assert_int_equal(drift_ipw_rate(&a, DRIFT_Z95, &iv), DRIFT_OK);
    TD_NEAR(iv.est, 2.0 / 14.0);
    TD_NEAR(iv.n, 14.0);
    TD_NEAR(iv.n_eff, 196.0 / 108.0);
    assert_true(a.count == 3 && a.wrong == 1);
    assert_int_equal(drift_ipw_add(&a, 0.0, true), DRIFT_ERR_INVAL);
    assert_int_equal(drift_ipw_add(&a, 1.5, true), DRIFT_ERR_INVAL);
}

static void
test_calibration(void **state)
{
    struct drift_calib c;
    struct drift_calib_row rows[4];
    struct drift_calib_summary s;

    (void)state;
    assert_int_equal(drift_calib_init(&c, 4), DRIFT_OK);
    assert_int_equal(drift_calib_table(&c, DRIFT_Z95, rows, &s), DRIFT_ERR_EMPTY);
    assert_true(isnan(s.ece) && isnan(s.brier) && rows[2].count == 0 && rows[2].obs == 0);
    /* bins [0,.25) [.25,.5) [.5,.75) [.75,1]: (.1,0) (.2,1) -> bin 0; (.9,1) -> bin 3 */
    assert_int_equal(drift_calib_add(&c, 0.1, 0, 1), DRIFT_OK);
    assert_int_equal(drift_calib_add(&c, 0.2, 1, 1), DRIFT_OK);
    assert_int_equal(drift_calib_add(&c, 1.0, 1, 2), DRIFT_OK);
    assert_int_equal(drift_calib_table(&c, DRIFT_Z95, rows, &s), DRIFT_OK);
    TD_NEAR(rows[0].mean_pred, 0.15);
    TD_NEAR(rows[0].obs, 0.5);
    TD_NEAR(rows[0].gap, 0.35);
    assert_true(rows[1].count == 0 && rows[1].n == 0 && rows[1].gap == 0 && rows[1].obs_hi == 0);
    TD_NEAR(rows[3].mean_pred, 1.0);
    TD_NEAR(rows[3].gap, 0.0);
    TD_NEAR(rows[3].lo, 0.75);
    TD_NEAR(s.ece, 2.0 / 4.0 * 0.35);
    TD_NEAR(s.mce, 0.35);
    TD_NEAR(s.brier, (0.01 + 0.64 + 0.0) / 4.0);
    assert_true(rows[0].obs_lo < 0.5 && rows[0].obs_hi > 0.5);
    assert_int_equal(drift_calib_table(&c, DRIFT_Z95, NULL, &s), DRIFT_OK);
    assert_int_equal(drift_calib_add(&c, 1.01, 1, 1), DRIFT_ERR_INVAL);
    assert_int_equal(drift_calib_add(&c, NAN, 1, 1), DRIFT_ERR_INVAL);
    assert_int_equal(drift_calib_add(&c, 0.5, 2, 1), DRIFT_ERR_INVAL);
    assert_int_equal(drift_calib_add(&c, 0.5, 1, -1), DRIFT_ERR_INVAL);
    assert_int_equal(drift_calib_init(&c, DRIFT_BINS_MAX + 1), DRIFT_ERR_INVAL);
}

static void
test_dist(void **state)
{
    struct drift_dist d, d2;
    /* bin 3 empty in both (dropped); bin 1 empty in ref, bin 2 in cur */
    const double ref[4] = { 10, 0, 10, 0 }, cur[4] = { 10, 10, 0, 0 };
    const double ref6[6] = { 10, 0, 0, 10, 0, 0 }, cur6[6] = { 10, 0, 10, 0, 0, 0 };

    (void)state;
    assert_int_equal(drift_dist_compare(ref, cur, 4, &d), DRIFT_OK);
    assert_int_equal(d.bins_used, 3);
    TD_NEAR(d.psi, 2.0 * (0.5 - 1e-4) / 1.0001 * log(5000.0));
    TD_NEAR(d.js_div, 0.5);
    TD_NEAR(d.js_dist, sqrt(0.5));
    TD_NEAR(d.hellinger, sqrt(0.5));
    TD_NEAR(d.linf, 0.5);
    TD_NEAR(d.chi2, 20.0);
    TD_NEAR(d.chi2_dof, 2.0);
    TD_NEAR(d.chi2_p, exp(-10.0));
    TD_NEAR(d.psi_crit, -2.0 * log(0.05) * (0.05 + 0.05));
    /* unused bins change nothing */
    assert_int_equal(drift_dist_compare(ref6, cur6, 6, &d2), DRIFT_OK);
    assert_true(d2.psi == d.psi && d2.js_div == d.js_div && d2.chi2 == d.chi2);
    /* identical: all zero; disjoint: JS and Hellinger 1 */
    assert_int_equal(drift_dist_compare(ref, ref, 4, &d), DRIFT_OK);
    assert_true(d.psi == 0 && d.js_div == 0 && d.hellinger == 0 && d.linf == 0);
    assert_true(d.chi2 == 0 && d.chi2_p == 1);
    const double a[3] = { 5, 0, 0 }, b[3] = { 0, 0, 7 };
    assert_int_equal(drift_dist_compare(a, b, 3, &d), DRIFT_OK);
    TD_NEAR(d.js_div, 1.0);
    TD_NEAR(d.hellinger, 1.0);
    /* one used bin: nothing to compare, dof 0 */
    assert_int_equal(drift_dist_compare(a, a, 3, &d), DRIFT_OK);
    assert_true(d.bins_used == 1 && d.chi2 == 0 && d.chi2_p == 1 && d.psi_crit == 0);
    /* empty side, bad counts */
    const double z[3] = { 0, 0, 0 }, neg[3] = { 1, -1, 2 };
    assert_int_equal(drift_dist_compare(a, z, 3, &d), DRIFT_ERR_EMPTY);
    assert_true(d.n_ref == 5 && d.n_cur == 0 && isnan(d.psi) && isnan(d.js_div));
    assert_int_equal(drift_dist_compare(a, neg, 3, &d), DRIFT_ERR_INVAL);
    assert_int_equal(drift_dist_compare(a, b, 0, &d), DRIFT_ERR_INVAL);
}

static void
test_distributions(void **state)
{
    double x;

    (void)state;
    assert_int_equal(drift_chi2_quantile(0.95, 9, &x), DRIFT_OK);
    TD_NEAR(x, 16.918977604620448);
    assert_int_equal(drift_chi2_quantile(0.95, 1, &x), DRIFT_OK);
    TD_NEAR(x, DRIFT_Z95 * DRIFT_Z95);
    assert_int_equal(drift_chi2_quantile(0.95, 2, &x), DRIFT_OK);
    TD_NEAR(x, -2.0 * log(0.05));
    assert_int_equal(drift_chi2_sf(7.0, 2, &x), DRIFT_OK);
    TD_NEAR(x, exp(-3.5));
    assert_int_equal(drift_chi2_sf(0.0, 2, &x), DRIFT_OK);
    TD_NEAR(x, 1.0);
    assert_int_equal(drift_normal_quantile(0.975, &x), DRIFT_OK);
    TD_NEAR(x, DRIFT_Z95);
    TD_NEAR(drift_normal_p2(-DRIFT_Z95), 0.05);
    /* 10 bins, n = m = 500: 16.919 * 2/500 (about 0.068) */
    assert_int_equal(drift_psi_critical(10, 500, 500, 0.05, &x), DRIFT_OK);
    TD_NEAR(x, 16.918977604620448 * 0.004);
    assert_int_equal(drift_psi_critical(1, 500, 500, 0.05, &x), DRIFT_ERR_INVAL);
    assert_int_equal(drift_chi2_quantile(1.0, 3, &x), DRIFT_ERR_INVAL);
    assert_int_equal(drift_chi2_sf(-1, 3, &x), DRIFT_ERR_INVAL);
    assert_int_equal(drift_normal_quantile(0.0, &x), DRIFT_ERR_INVAL);
}

static void
test_binning(void **state)
{
    const double edges[4] = { 1, 2, 2, 3 };
    const double v[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, bad[3] = { 1, 3, 2 };
    double e[3];

    (void)state;
    assert_int_equal(drift_bin_equal(0.0, 10), 0);
    assert_int_equal(drift_bin_equal(0.1, 10), 1);
    assert_int_equal(drift_bin_equal(0.0999, 10), 0);
    assert_int_equal(drift_bin_equal(1.0, 10), 9);
    assert_int_equal(drift_bin_equal(-3.0, 10), 0);
    assert_int_equal(drift_bin_equal(7.0, 10), 9);
    assert_int_equal(drift_bin_equal(NAN, 10), 10);
    assert_int_equal(drift_bin_index(0.5, edges, 4), 0);
    assert_int_equal(drift_bin_index(1.0, edges, 4), 1);
    assert_int_equal(drift_bin_index(1.5, edges, 4), 1);
    assert_int_equal(drift_bin_index(2.0, edges, 4), 3);
    assert_int_equal(drift_bin_index(3.0, edges, 4), 4);
    assert_int_equal(drift_bin_index(1e9, edges, 4), 4);
    assert_int_equal(drift_bin_index(NAN, edges, 4), 5);
    assert_int_equal(drift_bin_index(5.0, NULL, 0), 0);
    assert_int_equal(drift_quantile_edges(v, 10, 4, e), DRIFT_OK);
    TD_NEAR(e[0], 3.25);
    TD_NEAR(e[1], 5.5);
    TD_NEAR(e[2], 7.75);
    assert_int_equal(drift_quantile_edges(bad, 3, 2, e), DRIFT_ERR_INVAL);
    assert_int_equal(drift_quantile_edges(v, 10, 1, e), DRIFT_ERR_INVAL);
}

static void
test_tests_between_windows(void **state)
{
    double z, p, adj[4], pv[4] = { 0.01, 0.04, 0.03, 0.005 };
    size_t idx[4];

    (void)state;
    assert_int_equal(drift_two_prop_z(10, 100, 20, 100, &z, &p), DRIFT_OK);
    TD_NEAR(z, -0.1 / sqrt(0.15 * 0.85 * 0.02));
    assert_int_equal(drift_two_prop_z(0, 100, 0, 50, &z, &p), DRIFT_OK);
    assert_true(z == 0 && p == 1);
    assert_int_equal(drift_two_prop_z(0, 0, 1, 5, &z, &p), DRIFT_ERR_EMPTY);
    assert_true(isnan(z) && isnan(p));
    assert_int_equal(drift_two_prop_z(6, 5, 1, 5, &z, NULL), DRIFT_ERR_INVAL);
    /* sorted .005 .01 .03 .04 -> 4p/j = .02 .02 .04 .04 */
    assert_int_equal(drift_bh_adjust(pv, 4, adj, idx), DRIFT_OK);
    TD_NEAR(adj[0], 0.02);
    TD_NEAR(adj[1], 0.04);
    TD_NEAR(adj[2], 0.04);
    TD_NEAR(adj[3], 0.02);
    assert_true(idx[0] == 3 && idx[1] == 0 && idx[2] == 2 && idx[3] == 1);
    assert_int_equal(drift_bh_adjust(pv, 4, pv, idx), DRIFT_OK);   /* in place */
    assert_true(memcmp(pv, adj, sizeof(adj)) == 0);
    pv[2] = NAN;
    assert_int_equal(drift_bh_adjust(pv, 4, adj, idx), DRIFT_ERR_INVAL);
}

static void
test_whatif(void **state)
{
    /* score, weight, eligible, auto_now, labelled, wrong */
    const struct drift_whatif_item it[7] = {
        { 0.95, 10, true, true, true, false },   /* QA at q 0.1 */
        { 0.92, 10, true, true, true, true },    /* QA, judged wrong */
        { 0.90, 0, true, true, false, false },   /* auto, not sampled */
        { 0.75, 1, true, false, true, true },    /* review, human said no */
        { 0.72, 0, true, false, false, false },  /* review, undecided */
        { 0.99, 1, false, false, true, false },  /* hard rule: never auto */
        { NAN, 0, true, false, false, false },   /* unscored, unlabelled */
    };
    struct drift_whatif w;

    (void)state;
    /* current threshold 0.8: error 10/20 among the auto items */
    assert_int_equal(drift_whatif_eval(it, 7, 0.8, DRIFT_Z95, &w), DRIFT_OK);
    assert_true(w.n_auto == 3 && w.n_auto_now == 3 && w.n_new_auto == 0 && w.n_labels == 2);
    TD_NEAR(w.auto_rate, 3.0 / 7.0);
    TD_NEAR(w.error.est, 0.5);
    /* stricter 0.93: only the first stays auto, no error seen */
    assert_int_equal(drift_whatif_eval(it, 7, 0.93, DRIFT_Z95, &w), DRIFT_OK);
    assert_true(w.n_auto == 1 && w.n_labels == 1 && w.error.est == 0);
    /* looser 0.7: the two review items join, one with a human label */
    assert_int_equal(drift_whatif_eval(it, 7, 0.7, DRIFT_Z95, &w), DRIFT_OK);
    assert_true(w.n_auto == 5 && w.n_new_auto == 2 && w.n_new_unlabelled == 1);
    TD_NEAR(w.error.est, 11.0 / 21.0);
    TD_NEAR(w.error.n_eff, 21.0 * 21.0 / 201.0);
    /* nothing labelled above 0.99: counts, no rate */
    assert_int_equal(drift_whatif_eval(it, 7, 0.999, DRIFT_Z95, &w), DRIFT_ERR_EMPTY);
    assert_true(w.n_auto == 0 && w.auto_rate == 0 && isnan(w.error.est));
    assert_int_equal(drift_whatif_eval(NULL, 0, 0.5, DRIFT_Z95, &w), DRIFT_ERR_EMPTY);
    assert_true(isnan(w.auto_rate));
    struct drift_whatif_item badw = { 0.5, -1, true, false, true, false };
    assert_int_equal(drift_whatif_eval(&badw, 1, 0.5, DRIFT_Z95, &w), DRIFT_ERR_INVAL);
    assert_int_equal(drift_whatif_eval(it, 7, NAN, DRIFT_Z95, &w), DRIFT_ERR_INVAL);
}

static void
test_strerror(void **state)
{
    (void)state;
    for (int c = 1; c >= -5; c--)
        assert_non_null(drift_strerror(c));
    assert_string_equal(drift_strerror(DRIFT_OK), "ok");
}

/* Random small inputs, many zeros: every double output is finite whenever a
 * call returns DRIFT_OK, and NaN comes only with EMPTY or UNDEFINED. */
static void
test_no_silent_nan(void **state)
{
    (void)state;
    td_rng_state = 7;
    for (int it = 0; it < 2000; it++) {
        struct drift_confusion c;
        struct drift_kappa k;
        double ref[8], cur[8];
        struct drift_dist d;
        struct drift_calib cal;
        struct drift_calib_row rows[8];
        struct drift_calib_summary s;
        unsigned kk = 1 + (unsigned)(td_rand() * 4);

        assert_int_equal(drift_confusion_init(&c, kk), DRIFT_OK);
        assert_int_equal(drift_calib_init(&cal, 8), DRIFT_OK);
        for (int i = 0; i < (int)(td_rand() * 6); i++) {
            double w = td_rand() < 0.3 ? 0.0 : 1.0 + floor(td_rand() * 3);
            assert_int_equal(drift_confusion_add(&c, (unsigned)(td_rand() * kk),
                                                 (unsigned)(td_rand() * kk), w), DRIFT_OK);
            assert_int_equal(drift_calib_add(&cal, td_rand(), td_rand() < 0.5, w), DRIFT_OK);
        }
        int rc = drift_kappa(&c, DRIFT_Z95, &k);
        bool fin = isfinite(k.kappa) && isfinite(k.se) && isfinite(k.lo) && isfinite(k.hi) &&
                   isfinite(k.p_o) && isfinite(k.p_e) && isfinite(k.n_eff);
        assert_true(rc == DRIFT_OK ? fin : (rc == DRIFT_ERR_EMPTY || rc == DRIFT_ERR_UNDEFINED));
        assert_true(rc == DRIFT_OK || isnan(k.kappa));
        for (int b = 0; b < 8; b++) {
            ref[b] = td_rand() < 0.5 ? 0.0 : floor(td_rand() * 5);
            cur[b] = td_rand() < 0.5 ? 0.0 : floor(td_rand() * 5);
        }
        rc = drift_dist_compare(ref, cur, 8, &d);
        fin = isfinite(d.psi) && isfinite(d.js_div) && isfinite(d.hellinger) &&
              isfinite(d.linf) && isfinite(d.chi2) && isfinite(d.chi2_p) && isfinite(d.psi_crit);
        assert_true(rc == DRIFT_OK ? fin : (rc == DRIFT_ERR_EMPTY && isnan(d.psi)));
        rc = drift_calib_table(&cal, DRIFT_Z95, rows, &s);
        fin = isfinite(s.ece) && isfinite(s.brier) && isfinite(s.mce);
        for (int b = 0; b < 8; b++)
            fin = fin && isfinite(rows[b].obs) && isfinite(rows[b].obs_lo) && isfinite(rows[b].gap);
        assert_true(rc == DRIFT_OK ? fin : (rc == DRIFT_ERR_EMPTY && isnan(s.ece)));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_samples_needed),
        cmocka_unit_test(test_kappa),
        cmocka_unit_test(test_ipw),
        cmocka_unit_test(test_calibration),
        cmocka_unit_test(test_dist),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_binning),
        cmocka_unit_test(test_tests_between_windows),
        cmocka_unit_test(test_whatif),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_no_silent_nan),
        cmocka_unit_test(test_oracle),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
