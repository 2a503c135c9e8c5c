/*
 * test_xgb_capi.c - oracle test of hitlq's XGBoost evaluator
 * (server/score/model/model_xgb.c) against libxgboost itself.
 *
 * Each test TRAINS a reference model at test time with Debian's XGBoost
 * 1.7.4 C API (nthread=1, seed=0) on all 1000 rows of
 * tests/vectors/german_credit.csv (61 float32 features: every column but
 * Class, in file order, named after the CSV header with
 * XGBoosterSetStrFeatureInfo), saves it to a temporary *.json file, loads
 * that with xgb_load() and compares, row by row, with
 * XGBoosterPredictFromDMatrix: predictions (type 0) and margins (type 1)
 * within 1e-6, approximate (Saabas, type 3) and exact TreeSHAP (type 2)
 * contributions within 1e-5, per class for multi:softprob.  Tolerances are
 * absolute, scaled by max(1, |reference|) so that the regression model
 * (target Duration, in months) is held to the same float32 precision.
 * xgb_predict_approx_class must give, bit for bit, what xgb_predict_class
 * and xgb_contribs_approx_class give on every row and class.
 *
 * Rows compared: the 1000 training rows, the same rows with ~25% of the
 * features set to NaN (fixed-seed LCG), and one all-NaN row.
 *
 * Run from the repo root.  Fails (does not skip) when the CSV is absent.
 * Needs -lxgboost (own rule in the Makefile).
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
#include <xgboost/c_api.h>

#include "credit_items.h"
#include "model_xgb.h"
#include "tutil.h"

#define NFEAT    61
#define NROWS    1000
#define NEVAL    (2 * NROWS + 1)
#define NPHI     (NFEAT + 1)
#define COL_DURATION 0
#define COL_AMOUNT   1
#define TOL_PRED 1e-6
#define TOL_PHI  1e-5

#define XGB_CHECK(call)                                                      \
    do {                                                                     \
        if ((call) != 0)                                                     \
            fail_msg("%s: %s", #call, XGBGetLastError());                    \
    } while (0)

/* ---- the CSV as a float matrix ------------------------------------------------ */

struct credit_matrix {
    float x[NROWS * NFEAT];       /* row-major, features in file order */
    float good[NROWS];            /* Class == "Good" -> 1, "Bad" -> 0 */
    char  names[NFEAT][64];       /* CSV header, Class removed */
};

static struct credit_matrix *CM;  /* owned; loaded once by group_setup */

/* Reads the header; returns the index of the Class column. */
static size_t matrix_header(FILE *f, struct credit_matrix *cm)
{
    char line[8192], *cells[128];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(credit_csv_split(line, cells, 128), NFEAT + 1);
    size_t class_col = NFEAT + 1, k = 0;
    for (size_t i = 0; i <= NFEAT; i++) {
        if (strcmp(cells[i], "Class") == 0) {
            class_col = i;
            continue;
        }
        assert_true(k < NFEAT && strlen(cells[i]) < sizeof cm->names[0]);
        strcpy(cm->names[k++], cells[i]);
    }
    assert_int_equal(k, NFEAT);
    return class_col;
}

static void matrix_load(const char *path, struct credit_matrix *cm)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repo root; the oracle needs the CSV)", path);
    size_t class_col = matrix_header(f, cm), rows = 0;
    char line[8192], *cells[128];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\r')
            continue;
        assert_true(rows < NROWS);
        assert_int_equal(credit_csv_split(line, cells, 128), NFEAT + 1);
        for (size_t i = 0, k = 0; i <= NFEAT; i++) {
            if (i == class_col) {
                assert_true(strcmp(cells[i], "Good") == 0 || strcmp(cells[i], "Bad") == 0);
                cm->good[rows] = strcmp(cells[i], "Good") == 0;
                continue;
            }
            char *end;
            cm->x[rows * NFEAT + k++] = strtof(cells[i], &end);
            assert_true(end != cells[i] && *end == '\0');
        }
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, NROWS);
}

static int group_setup(void **state)
{
    (void)state;
    CM = calloc(1, sizeof *CM);
    assert_non_null(CM);
    matrix_load(CREDIT_ITEMS_CSV, CM);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(CM);
    CM = NULL;
    return 0;
}

/* ---- model specifications ------------------------------------------------------ */

enum label_kind { LABEL_GOOD, LABEL_DURATION, LABEL_AMOUNT3 };

struct model_spec {
    const char         *objective;
    const char *const  *params;    /* key, value, ..., NULL (besides nthread, seed) */
    int                 rounds;
    enum label_kind     label;
    int                 nan_col;   /* feature set to NaN everywhere (the target), or -1 */
    size_t              k;         /* outputs per row: 1, or num_class */
};

/* Training features (nan_col cleared) and labels; both owned by the caller. */
static float *spec_features(const struct model_spec *s)
{
    float *x = malloc(sizeof CM->x);
    assert_non_null(x);
    memcpy(x, CM->x, sizeof CM->x);
    if (s->nan_col >= 0)
        for (size_t r = 0; r < NROWS; r++)
            x[r * NFEAT + (size_t)s->nan_col] = NAN;
    return x;
}

static float *spec_labels(const struct model_spec *s)
{
    float *y = malloc(NROWS * sizeof *y);
    assert_non_null(y);
    for (size_t r = 0; r < NROWS; r++) {
        float amount = CM->x[r * NFEAT + COL_AMOUNT];
        switch (s->label) {
        case LABEL_GOOD:     y[r] = CM->good[r]; break;
        case LABEL_DURATION: y[r] = CM->x[r * NFEAT + COL_DURATION]; break;
        case LABEL_AMOUNT3:  y[r] = amount < 1500 ? 0 : amount < 4000 ? 1 : 2; break;
        }
    }
    return y;
}

/* The rows compared: the training rows, the same with ~25% NaN (LCG with
 * a fixed seed), one all-NaN row.  Owned by the caller. */
static float *eval_rows(const float *train_x, size_t *n_nan)
{
    float *ev = malloc((size_t)NEVAL * NFEAT * sizeof *ev);
    assert_non_null(ev);
    memcpy(ev, train_x, (size_t)NROWS * NFEAT * sizeof *ev);
    uint64_t lcg = 20240601;
    *n_nan = 0;
    for (size_t i = 0; i < (size_t)NROWS * NFEAT; i++) {
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        int drop = (lcg >> 33) % 4 == 0;
        ev[NROWS * NFEAT + i] = drop ? NAN : train_x[i];
        *n_nan += (size_t)drop;
    }
    for (size_t j = 0; j < NFEAT; j++)
        ev[2 * NROWS * NFEAT + j] = NAN;
    return ev;
}

/* ---- the reference side: libxgboost ------------------------------------------ */

static BoosterHandle booster_train(const struct model_spec *s, const float *x, const float *y)
{
    DMatrixHandle d;
    BoosterHandle h;
    XGB_CHECK(XGDMatrixCreateFromMat(x, NROWS, NFEAT, NAN, &d));
    XGB_CHECK(XGDMatrixSetFloatInfo(d, "label", y, NROWS));
    XGB_CHECK(XGBoosterCreate(&d, 1, &h));
    XGB_CHECK(XGBoosterSetParam(h, "nthread", "1"));
    XGB_CHECK(XGBoosterSetParam(h, "seed", "0"));
    XGB_CHECK(XGBoosterSetParam(h, "objective", s->objective));
    for (const char *const *p = s->params; *p; p += 2)
        XGB_CHECK(XGBoosterSetParam(h, p[0], p[1]));
    for (int i = 0; i < s->rounds; i++)
        XGB_CHECK(XGBoosterUpdateOneIter(h, i, d));
    const char *names[NFEAT];
    for (size_t i = 0; i < NFEAT; i++)
        names[i] = CM->names[i];
    XGB_CHECK(XGBoosterSetStrFeatureInfo(h, "feature_name", names, NFEAT));
    XGB_CHECK(XGDMatrixFree(d));
    return h;
}

/* Saves the booster as JSON (chosen by the ".json" suffix) to a temporary
 * file and returns its bytes (owned by the caller); the file is removed. */
static char *booster_json(BoosterHandle h, size_t *len)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/hitlq-xgb-capi-XXXXXX.json", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    XGB_CHECK(XGBoosterSaveModel(h, path));
    char *buf = tutil_slurp(path, len);
    unlink(path);
    return buf;
}

/* XGBoosterPredictFromDMatrix of one type over the NEVAL rows; checks the
 * output shape (single output: [n] or [n, NPHI]; k classes: [n, k] or
 * [n, k, NPHI]) and returns a copy (owned by the caller). */
static float *ref_predict(BoosterHandle h, DMatrixHandle d, int type, size_t k)
{
    char cfg[192];
    snprintf(cfg, sizeof cfg, "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, "
             "\"iteration_end\": 0, \"strict_shape\": false}", type);
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    XGB_CHECK(XGBoosterPredictFromDMatrix(h, d, cfg, &shape, &dim, &res));
    size_t width = type >= 2 ? NPHI : 1;
    bst_ulong want[3] = { NEVAL, 0, 0 }, want_dim = 1;
    if (k > 1)
        want[want_dim++] = k;
    if (width > 1)
        want[want_dim++] = width;
    assert_int_equal(dim, want_dim);
    for (bst_ulong i = 0; i < dim; i++)
        if (shape[i] != want[i])
            fail_msg("type %d: shape[%lu] = %lu, want %lu", type, (unsigned long)i,
                     (unsigned long)shape[i], (unsigned long)want[i]);
    size_t n = (size_t)NEVAL * k * width;
    float *out = malloc(n * sizeof *out);
    assert_non_null(out);
    memcpy(out, res, n * sizeof *out);
    return out;
}

/* ---- the comparison ------------------------------------------------------------ */

struct ref_out {
    float *pred, *margin;         /* NEVAL x k */
    float *approx, *exact;        /* NEVAL x k x NPHI, bias last */
};

struct oracle_stats {
    double pred, margin, approx, exact;    /* max scaled |hitlq - xgboost| */
    double approx_vs_exact;                /* max |approx - exact| (reference) */
    double exact_sum;                      /* max |sum(exact phi) - margin| (reference) */
    size_t compared;                       /* row x class pairs */
    size_t bad;                            /* pairs over a tolerance */
    char   first_bad[256];
};

static double scaled_diff(double got, double want)
{
    double d = fabs(got - want), s = fabs(want) > 1 ? fabs(want) : 1;
    if (isnan(got) != isnan(want))
        return INFINITY;
    return isnan(want) ? 0 : d / s;
}

static void note_bad(struct oracle_stats *st, const char *what, size_t r, size_t c,
                     double got, double want)
{
    if (st->bad++ == 0)
        snprintf(st->first_bad, sizeof st->first_bad,
                 "%s row %zu class %zu: hitlq %.17g, xgboost %.17g", what, r, c, got, want);
}

/* Contributions of one row and class: hitlq's phi vs the reference's. */
static void compare_phi(struct oracle_stats *st, const char *what, size_t r, size_t c,
                        const double *phi, const float *ref, double *worst)
{
    for (size_t j = 0; j < NPHI; j++) {
        double d = scaled_diff(phi[j], ref[j]);
        if (d > *worst)
            *worst = d;
        if (!(d <= TOL_PHI))
            note_bad(st, what, r, c, phi[j], ref[j]);
    }
}

static void hitlq_row(const struct xgb_model *m, size_t k, size_t c, const float *x,
                      double out[2], double *approx, double *exact)
{
    if (k == 1) {
        out[0] = xgb_predict(m, x, &out[1]);
        assert_int_equal(xgb_contribs_approx(m, x, approx), 0);
        assert_int_equal(xgb_contribs_exact(m, x, exact), 0);
    } else {
        out[0] = xgb_predict_class(m, x, c, &out[1]);
        assert_int_equal(xgb_contribs_approx_class(m, x, c, approx), 0);
        assert_int_equal(xgb_contribs_exact_class(m, x, c, exact), 0);
    }
    /* The one-pass call: the same bits as the two above. */
    double fused[NPHI], margin, p = xgb_predict_approx_class(m, x, c, &margin, fused);
    assert_memory_equal(&p, &out[0], sizeof p);
    assert_memory_equal(&margin, &out[1], sizeof margin);
    assert_memory_equal(fused, approx, sizeof fused);
}

/* Reference self-checks: TreeSHAP sums to the margin; approx != exact. */
static void ref_consistency(struct oracle_stats *st, const float *margin,
                            const float *approx, const float *exact)
{
    double sum = 0;
    for (size_t j = 0; j < NPHI; j++) {
        sum += exact[j];
        double d = fabs((double)approx[j] - exact[j]);
        st->approx_vs_exact = d > st->approx_vs_exact ? d : st->approx_vs_exact;
    }
    double d = scaled_diff(sum, *margin);
    st->exact_sum = d > st->exact_sum ? d : st->exact_sum;
}

static void compare_rows(const struct model_spec *s, const struct xgb_model *m,
                         const float *ev, const struct ref_out *ref, struct oracle_stats *st)
{
    double phi_a[NPHI], phi_e[NPHI], out[2];
    memset(st, 0, sizeof *st);
    for (size_t r = 0; r < NEVAL; r++) {
        for (size_t c = 0; c < s->k; c++) {
            size_t i = r * s->k + c;
            hitlq_row(m, s->k, c, ev + r * NFEAT, out, phi_a, phi_e);
            double dp = scaled_diff(out[0], ref->pred[i]);
            double dm = scaled_diff(out[1], ref->margin[i]);
            st->pred = dp > st->pred ? dp : st->pred;
            st->margin = dm > st->margin ? dm : st->margin;
            if (!(dp <= TOL_PRED))
                note_bad(st, "prediction", r, c, out[0], ref->pred[i]);
            if (!(dm <= TOL_PRED))
                note_bad(st, "margin", r, c, out[1], ref->margin[i]);
            compare_phi(st, "approx phi", r, c, phi_a, ref->approx + i * NPHI, &st->approx);
            compare_phi(st, "exact phi", r, c, phi_e, ref->exact + i * NPHI, &st->exact);
            ref_consistency(st, &ref->margin[i], ref->approx + i * NPHI, ref->exact + i * NPHI);
            st->compared++;
        }
    }
}

/* Non-vacuity: the margins spread, NaN rows change some margins (the
 * default branches are taken), and most features get a nonzero TreeSHAP
 * value somewhere. */
static void check_not_vacuous(const struct model_spec *s, const struct ref_out *ref)
{
    size_t moved = 0, used = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < NROWS; r++)
        for (size_t c = 0; c < s->k; c++) {
            size_t i = r * s->k + c;
            moved += ref->margin[i] != ref->margin[i + (size_t)NROWS * s->k];
            lo = fminf(lo, ref->margin[i]);
            hi = fmaxf(hi, ref->margin[i]);
        }
    for (size_t j = 0; j < NFEAT; j++)
        for (size_t i = 0; i < (size_t)NEVAL * s->k; i++)
            if (ref->exact[i * NPHI + j] != 0) {
                used++;
                break;
            }
    print_message("%s: margins %.4g..%.4g, %zu of %zu NaN-row margins moved, "
                  "%zu features with nonzero TreeSHAP\n",
                  s->objective, lo, hi, moved, (size_t)NROWS * s->k, used);
    assert_true(hi - lo > 0.5);
    assert_true(moved >= NROWS / 4);
    assert_true(used >= 15);
}

static void check_loaded(const struct model_spec *s, const struct xgb_model *m)
{
    assert_int_equal(xgb_num_feature(m), NFEAT);
    assert_int_equal(xgb_num_trees(m), (size_t)s->rounds * s->k);
    assert_string_equal(xgb_objective(m), s->objective);
    assert_int_equal(xgb_num_class(m), s->k);
    for (size_t i = 0; i < NFEAT; i++)
        assert_string_equal(xgb_feature_name(m, i), CM->names[i]);
    assert_null(xgb_feature_name(m, NFEAT));
}

static void ref_free(struct ref_out *ref)
{
    free(ref->pred);
    free(ref->margin);
    free(ref->approx);
    free(ref->exact);
}

/* Evaluates the reference on the eval rows (types 0-3). */
static void ref_compute(BoosterHandle h, const float *ev, size_t k, struct ref_out *ref)
{
    DMatrixHandle d;
    XGB_CHECK(XGDMatrixCreateFromMat(ev, NEVAL, NFEAT, NAN, &d));
    ref->pred = ref_predict(h, d, 0, k);
    ref->margin = ref_predict(h, d, 1, k);
    ref->exact = ref_predict(h, d, 2, k);
    ref->approx = ref_predict(h, d, 3, k);
    XGB_CHECK(XGDMatrixFree(d));
}

static void report(const struct model_spec *s, const struct oracle_stats *st, size_t n_nan)
{
    print_message("%s: %zu row x class pairs (%d rows: %d training, %d with %zu NaN "
                  "cells, 1 all-NaN); max scaled |diff| pred %.3g margin %.3g "
                  "approx %.3g exact %.3g\n", s->objective, st->compared, NEVAL, NROWS,
                  NROWS, n_nan, st->pred, st->margin, st->approx, st->exact);
    print_message("%s: reference checks: max |sum(exact) - margin| %.3g, "
                  "max |approx - exact| %.3g\n", s->objective, st->exact_sum,
                  st->approx_vs_exact);
    if (st->bad)
        fail_msg("%s: %zu values over tolerance; first: %s", s->objective, st->bad,
                 st->first_bad);
}

static void run_oracle(const struct model_spec *s)
{
    float *x = spec_features(s), *y = spec_labels(s);
    BoosterHandle h = booster_train(s, x, y);
    size_t len, n_nan;
    char err[256], *json = booster_json(h, &len);
    struct xgb_model *m = xgb_load(json, len, err, sizeof err);
    if (!m)
        fail_msg("%s: xgb_load: %s", s->objective, err);
    check_loaded(s, m);
    float *ev = eval_rows(x, &n_nan);
    assert_true(n_nan > NROWS * NFEAT / 5 && n_nan < NROWS * NFEAT * 3 / 10);
    struct ref_out ref;
    ref_compute(h, ev, s->k, &ref);
    check_not_vacuous(s, &ref);
    struct oracle_stats st;
    compare_rows(s, m, ev, &ref, &st);
    report(s, &st, n_nan);
    assert_int_equal(st.compared, (size_t)NEVAL * s->k);
    assert_true(st.exact_sum < 1e-4);
    assert_true(st.approx_vs_exact > 1e-3);
    ref_free(&ref);
    free(ev);
    xgb_free(m);
    free(json);
    XGB_CHECK(XGBoosterFree(h));
    free(y);
    free(x);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_binary_logistic(void **state)
{
    (void)state;
    static const char *const p[] = { "max_depth", "5", "eta", "0.3", "tree_method", "exact", NULL };
    const struct model_spec s = { "binary:logistic", p, 30, LABEL_GOOD, -1, 1 };
    run_oracle(&s);
}

static void test_reg_logistic(void **state)
{
    (void)state;
    static const char *const p[] = { "max_depth", "4", "eta", "0.2", "tree_method", "hist",
                                     "max_bin", "64", NULL };
    const struct model_spec s = { "reg:logistic", p, 25, LABEL_GOOD, -1, 1 };
    run_oracle(&s);
}

static void test_reg_squarederror(void **state)
{
    (void)state;
    static const char *const p[] = { "max_depth", "4", "eta", "0.3", "tree_method", "exact", NULL };
    const struct model_spec s = { "reg:squarederror", p, 20, LABEL_DURATION, COL_DURATION, 1 };
    run_oracle(&s);
}

static void test_multi_softprob(void **state)
{
    (void)state;
    static const char *const p[] = { "num_class", "3", "max_depth", "4", "eta", "0.3",
                                     "tree_method", "exact", NULL };
    const struct model_spec s = { "multi:softprob", p, 15, LABEL_AMOUNT3, COL_AMOUNT, 3 };
    run_oracle(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_logistic),
        cmocka_unit_test(test_reg_logistic),
        cmocka_unit_test(test_reg_squarederror),
        cmocka_unit_test(test_multi_softprob),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
