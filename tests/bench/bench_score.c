/*
 * bench_score.c - cost of scoring one item, one item at a time, on one
 * thread: nanoseconds per item, the median of REPS repetitions over the
 * same German Credit rows, for
 *   (a) the embedded default scorecard (server/score/defaults/
 *       credit_scorecard.json) scoring a msgpack fields map
 *       (tests/lib/credit_items.c) through its model ops; also, for
 *       reference, score_item with the embedded default policy's
 *       credit_application type (whatever model that policy names,
 *       feature mapping and reasons included: line "default-policy");
 *   (b) a 100-tree depth-6 binary:logistic XGBoost model TRAINED here with
 *       the libxgboost C API (Debian 1.7.4, nthread=1, seed=0) on the 61
 *       CSV features, evaluated by hitlq's xgb_predict (server/score/model/model_xgb.c);
 *   (c) the same model through XGBoost's XGBoosterPredictFromDense, one
 *       1x61 float32 row per call (array-interface JSON built beforehand);
 *   (d) hitlq's approximate (Saabas) and (e) exact TreeSHAP contributions;
 *   (f) XGBoost's own approximate (type 3) and exact (type 2)
 *       contributions per row: PredictFromDense refuses those types in
 *       1.7, so through XGBoosterPredictFromDMatrix on a 1-row DMatrix made
 *       per call (its creation is included; line "xgboost-capi-dmatrix"
 *       gives that path's cost for plain predictions);
 *   (g) what a tree policy's SUBMIT computes: the prediction and the
 *       approximate contributions, in one pass (xgb_predict_approx_class,
 *       line "predict+approx fused") and as the two calls (line
 *       "predict+approx separate").
 * It first checks on every row that hitlq's predictions and margins equal
 * the C API's within 1e-6 and its contributions within 1e-5 (printing the
 * max differences) and exits 1 if they do not (the check line ends in
 * "ok", "MISMATCH", or "INCOMPLETE" if the evaluator has no exact
 * contributions); likewise that (g)'s two ways give the same bits (line
 * "xgb100x6 fused check", "ok" or "MISMATCH").  Output lines start with
 * "bench: score " and carry the value right after "ns/item" or "speedup".
 *
 *   bench_score [-f CSV] [-r REPS] [--model-out PATH.json]
 *
 * --model-out writes the trained model's JSON (for running hitlqd with it).
 * Links libhitlqd (scorecard, model_xgb) and -lxgboost.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xgboost/c_api.h>

#include "defaults.h"
#include "model_xgb.h"
#include "score.h"

#include "credit_items.c"

#define BS_NFEAT   61
#define BS_NPHI    (BS_NFEAT + 1)
#define BS_MAXROWS 4096
#define BS_REP_NS  40e6           /* aim for >= 40 ms per repetition */
#define BS_TOL_PRED 1e-6
#define BS_TOL_PHI  1e-5

/* Everything the timed functions read; owned by main. */
struct bs_ctx {
    size_t            n;                      /* rows */
    float            *x;                      /* n x BS_NFEAT, row-major */
    char            (*names)[64];             /* BS_NFEAT CSV header names */
    float            *good;                   /* labels */
    msgpack_unpacked *fields;                 /* n unpacked fields maps */
    struct model     *card;                   /* embedded default scorecard */
    struct scoring   *set;                    /* embedded default policy set */
    const struct type_policy *tp;             /* its credit_application type */
    struct xgb_model *xm;                     /* hitlq's view of the model */
    BoosterHandle     h;                      /* libxgboost's */
    char            (*arr)[128];              /* n array-interface strings */
    volatile double   sink;                   /* keeps results alive */
};

typedef int (*bs_fn)(struct bs_ctx *c, size_t row);

static double bs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bs_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bs_xgb_die(const char *what)
{
    fprintf(stderr, "bench_score: %s: %s\n", what, XGBGetLastError());
    exit(1);
}

/* ---- the CSV as floats (credit_csv_split comes from credit_items.c) ------------------ */

static size_t bs_header(FILE *f, char *line, struct bs_ctx *c)
{
    char *cells[CI_MAX_COLS];
    size_t class_col = SIZE_MAX, k = 0;
    if (!fgets(line, CI_LINE, f) || credit_csv_split(line, cells, CI_MAX_COLS) != BS_NFEAT + 1)
        return SIZE_MAX;
    for (size_t i = 0; i <= BS_NFEAT; i++) {
        if (strcmp(cells[i], "Class") == 0)
            class_col = i;
        else if (k < BS_NFEAT)
            snprintf(c->names[k++], sizeof c->names[0], "%s", cells[i]);
    }
    return k == BS_NFEAT ? class_col : SIZE_MAX;
}

static int bs_load_matrix(const char *csv, struct bs_ctx *c)
{
    FILE *f = fopen(csv, "r");
    char line[CI_LINE], *cells[CI_MAX_COLS];
    c->x = malloc((size_t)BS_MAXROWS * BS_NFEAT * sizeof *c->x);
    c->good = malloc(BS_MAXROWS * sizeof *c->good);
    c->names = malloc(BS_NFEAT * sizeof *c->names);
    size_t class_col = f && c->x && c->good && c->names ? bs_header(f, line, c) : SIZE_MAX;
    size_t n = 0;
    while (class_col != SIZE_MAX && n < BS_MAXROWS && fgets(line, sizeof line, f)) {
        if (credit_csv_split(line, cells, CI_MAX_COLS) != BS_NFEAT + 1)
            continue;
        for (size_t i = 0, k = 0; i <= BS_NFEAT; i++) {
            if (i == class_col)
                c->good[n] = strcmp(cells[i], "Good") == 0;
            else
                c->x[n * BS_NFEAT + k++] = strtof(cells[i], NULL);
        }
        n++;
    }
    if (f)
        fclose(f);
    c->n = n;
    return class_col == SIZE_MAX || n == 0 ? -1 : 0;
}

/* ---- setup: scorecard inputs, the trained model --------------------------------- */

/* The embedded default scorecard and policy, and the CSV rows as unpacked
 * fields maps. */
static int bs_load_items(const char *csv, struct bs_ctx *c)
{
    struct credit_item *items;
    size_t n, len;
    char err[256];
    int rc = 0;
    const unsigned char *json = defaults_scorecard(&len);
    if (!(c->card = scorecard_load((const char *)json, len, err, sizeof err))) {
        fprintf(stderr, "bench_score: embedded scorecard: %s\n", err);
        return -1;
    }
    if (scoring_load(&c->set, NULL, err, sizeof err) != 0 ||
        !(c->tp = scoring_policy(c->set, "credit_application"))) {
        fprintf(stderr, "bench_score: embedded policy: %s\n", c->set ? "no credit_application" : err);
        return -1;
    }
    if (credit_items_load(csv, &items, &n) != 0 || n != c->n) {
        fprintf(stderr, "bench_score: cannot load %s as items\n", csv);
        return -1;
    }
    c->fields = calloc(n, sizeof *c->fields);
    for (size_t i = 0; c->fields && i < n; i++)
        msgpack_unpacked_init(&c->fields[i]);
    for (size_t i = 0; c->fields && i < n && rc == 0; i++)
        if (msgpack_unpack_next(&c->fields[i], (const char *)items[i].fields,
                                items[i].fields_len, NULL) != MSGPACK_UNPACK_SUCCESS)
            rc = -1;
    credit_items_free(items, n);
    return c->fields ? rc : -1;
}

static void bs_train(struct bs_ctx *c)
{
    static const char *const params[] = {
        "objective", "binary:logistic", "max_depth", "6", "eta", "0.1",
        "tree_method", "exact", "nthread", "1", "seed", "0", NULL,
    };
    DMatrixHandle d;
    if (XGDMatrixCreateFromMat(c->x, c->n, BS_NFEAT, NAN, &d) ||
        XGDMatrixSetFloatInfo(d, "label", c->good, c->n) ||
        XGBoosterCreate(&d, 1, &c->h))
        bs_xgb_die("training setup");
    for (const char *const *p = params; *p; p += 2)
        if (XGBoosterSetParam(c->h, p[0], p[1]))
            bs_xgb_die(p[0]);
    double t0 = bs_now_ns();
    for (int i = 0; i < 100; i++)
        if (XGBoosterUpdateOneIter(c->h, i, d))
            bs_xgb_die("XGBoosterUpdateOneIter");
    const char *names[BS_NFEAT];
    for (size_t i = 0; i < BS_NFEAT; i++)
        names[i] = c->names[i];
    if (XGBoosterSetStrFeatureInfo(c->h, "feature_name", names, BS_NFEAT) || XGDMatrixFree(d))
        bs_xgb_die("feature names");
    printf("bench: score trained xgb100x6 (binary:logistic, 100 rounds, max_depth 6, eta 0.1, "
           "exact, nthread 1) on %zu rows in %.2f s\n", c->n, (bs_now_ns() - t0) * 1e-9);
}

/* Saves the model as JSON, optionally to model_out, and loads it into
 * hitlq's evaluator. */
static int bs_export(struct bs_ctx *c, const char *model_out)
{
    bst_ulong len;
    const char *json;
    char err[256];
    if (XGBoosterSaveModelToBuffer(c->h, "{\"format\": \"json\"}", &len, &json))
        bs_xgb_die("XGBoosterSaveModelToBuffer");
    if (model_out) {
        FILE *f = fopen(model_out, "wb");
        if (!f || fwrite(json, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "bench_score: cannot write %s\n", model_out);
            return -1;
        }
        printf("bench: score model written to %s (%lu bytes)\n", model_out, (unsigned long)len);
    }
    c->xm = xgb_load(json, len, err, sizeof err);
    if (!c->xm) {
        fprintf(stderr, "bench_score: xgb_load: %s\n", err);
        return -1;
    }
    c->arr = malloc(c->n * sizeof *c->arr);
    for (size_t r = 0; c->arr && r < c->n; r++)
        snprintf(c->arr[r], sizeof c->arr[0], "{\"data\": [%lu, true], \"shape\": [1, %d], "
                 "\"typestr\": \"<f4\", \"version\": 3}",
                 (unsigned long)(uintptr_t)(c->x + r * BS_NFEAT), BS_NFEAT);
    return c->arr ? 0 : -1;
}

/* ---- the C API, one row per call ---------------------------------------------- */

/* Inplace prediction (type 0 or 1) of one row; returns the output. */
static const float *bs_capi_dense(struct bs_ctx *c, size_t row, int type)
{
    static const char *const cfg[2] = {
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}",
        "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}",
    };
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    if (XGBoosterPredictFromDense(c->h, c->arr[row], cfg[type], NULL, &shape, &dim, &res))
        bs_xgb_die("XGBoosterPredictFromDense");
    return res;
}

/* Prediction of one row through a fresh 1-row DMatrix (any type). */
static const float *bs_capi_dmatrix(struct bs_ctx *c, size_t row, int type, size_t want)
{
    static const char *const cfg[4] = {
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
        "{\"type\": 3, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, \"strict_shape\": false}",
    };
    DMatrixHandle d;
    const bst_ulong *shape;
    bst_ulong dim;
    const float *res;
    if (XGDMatrixCreateFromMat(c->x + row * BS_NFEAT, 1, BS_NFEAT, NAN, &d) ||
        XGBoosterPredictFromDMatrix(c->h, d, cfg[type], &shape, &dim, &res))
        bs_xgb_die("XGBoosterPredictFromDMatrix");
    if (shape[dim - 1] != want) {
        fprintf(stderr, "bench_score: type %d output has %lu values, want %zu\n", type,
                (unsigned long)shape[dim - 1], want);
        exit(1);
    }
    XGDMatrixFree(d);   /* res belongs to the booster, still valid */
    return res;
}

/* ---- timed functions: one item each; nonzero = unavailable -------------------- */

/* The scorecard ignores the type policy (it has no feature mapping). */
static int bs_fn_card(struct bs_ctx *c, size_t r)
{
    struct score_result res;
    if (c->card->ops->score(c->card, NULL, &c->fields[r].data, SCORE_METHOD_LINEAR,
                            &res) != HITLQ_ST_OK)
        return -1;
    c->sink += res.score;
    return 0;
}

static int bs_fn_policy(struct bs_ctx *c, size_t r)
{
    struct score_result res;
    if (score_item(c->tp, &c->fields[r].data, &res) != HITLQ_ST_OK)
        return -1;
    c->sink += res.score;
    return 0;
}

static int bs_fn_hitlq(struct bs_ctx *c, size_t r)
{
    c->sink += xgb_predict(c->xm, c->x + r * BS_NFEAT, NULL);
    return 0;
}

static int bs_fn_capi(struct bs_ctx *c, size_t r)
{
    c->sink += bs_capi_dense(c, r, 0)[0];
    return 0;
}

static int bs_fn_capi_dm(struct bs_ctx *c, size_t r)
{
    c->sink += bs_capi_dmatrix(c, r, 0, 1)[0];
    return 0;
}

static int bs_fn_approx(struct bs_ctx *c, size_t r)
{
    double phi[BS_NPHI];
    int rc = xgb_contribs_approx(c->xm, c->x + r * BS_NFEAT, phi);
    c->sink += phi[BS_NFEAT];
    return rc;
}

static int bs_fn_exact(struct bs_ctx *c, size_t r)
{
    double phi[BS_NPHI];
    int rc = xgb_contribs_exact(c->xm, c->x + r * BS_NFEAT, phi);
    c->sink += phi[BS_NFEAT];
    return rc;
}

static int bs_fn_fused(struct bs_ctx *c, size_t r)
{
    double phi[BS_NPHI], margin;
    c->sink += xgb_predict_approx_class(c->xm, c->x + r * BS_NFEAT, 0, &margin, phi);
    c->sink += phi[BS_NFEAT];
    return 0;
}

static int bs_fn_separate(struct bs_ctx *c, size_t r)
{
    double phi[BS_NPHI], margin;
    c->sink += xgb_predict_class(c->xm, c->x + r * BS_NFEAT, 0, &margin);
    int rc = xgb_contribs_approx_class(c->xm, c->x + r * BS_NFEAT, 0, phi);
    c->sink += phi[BS_NFEAT];
    return rc;
}

static int bs_fn_capi_approx(struct bs_ctx *c, size_t r)
{
    c->sink += bs_capi_dmatrix(c, r, 3, BS_NPHI)[BS_NFEAT];
    return 0;
}

static int bs_fn_capi_exact(struct bs_ctx *c, size_t r)
{
    c->sink += bs_capi_dmatrix(c, r, 2, BS_NPHI)[BS_NFEAT];
    return 0;
}

/* Median ns per item over reps repetitions of `passes` sweeps over all
 * rows (passes chosen so that one repetition takes >= BS_REP_NS); NAN if
 * fn reports the operation unavailable. */
static double bs_time(struct bs_ctx *c, bs_fn fn, int reps, int *passes_out)
{
    double t0 = bs_now_ns(), samples[64];
    for (size_t r = 0; r < c->n; r++)            /* warm-up and calibration */
        if (fn(c, r) != 0)
            return NAN;
    double one = bs_now_ns() - t0;
    int passes = one >= BS_REP_NS ? 1 : (int)ceil(BS_REP_NS / (one > 1 ? one : 1));
    if (reps > 64)
        reps = 64;
    for (int k = 0; k < reps; k++) {
        t0 = bs_now_ns();
        for (int p = 0; p < passes; p++)
            for (size_t r = 0; r < c->n; r++)
                fn(c, r);
        samples[k] = (bs_now_ns() - t0) / ((double)passes * (double)c->n);
    }
    qsort(samples, (size_t)reps, sizeof samples[0], bs_cmp);
    *passes_out = passes;
    return reps % 2 ? samples[reps / 2] : (samples[reps / 2 - 1] + samples[reps / 2]) / 2;
}

/* ---- the check: hitlq vs the C API on every row -------------------------------- */

struct bs_diff { double pred, margin, approx, exact; int exact_missing; };

static double bs_phi_diff(const double *phi, const float *ref)
{
    double worst = 0;
    for (size_t j = 0; j < BS_NPHI; j++) {
        double d = fabs(phi[j] - ref[j]);
        worst = d > worst ? d : worst;
    }
    return worst;
}

static int bs_check(struct bs_ctx *c, struct bs_diff *d)
{
    memset(d, 0, sizeof *d);
    for (size_t r = 0; r < c->n; r++) {
        const float *x = c->x + r * BS_NFEAT;
        double margin, phi[BS_NPHI];
        double p = xgb_predict(c->xm, x, &margin);
        d->pred = fmax(d->pred, fabs(p - bs_capi_dense(c, r, 0)[0]));
        d->margin = fmax(d->margin, fabs(margin - bs_capi_dense(c, r, 1)[0]));
        if (xgb_contribs_approx(c->xm, x, phi) != 0)
            return -1;
        d->approx = fmax(d->approx, bs_phi_diff(phi, bs_capi_dmatrix(c, r, 3, BS_NPHI)));
        if (xgb_contribs_exact(c->xm, x, phi) != 0)
            d->exact_missing = 1;
        else
            d->exact = fmax(d->exact, bs_phi_diff(phi, bs_capi_dmatrix(c, r, 2, BS_NPHI)));
    }
    int ok = d->pred <= BS_TOL_PRED && d->margin <= BS_TOL_PRED &&
             d->approx <= BS_TOL_PHI && (d->exact_missing || d->exact <= BS_TOL_PHI);
    printf("bench: score xgb100x6 check over %zu rows: max |hitlq - xgboost| pred %.3g "
           "margin %.3g (tol %g), contribs approx %.3g exact %s%.3g (tol %g): %s\n",
           c->n, d->pred, d->margin, BS_TOL_PRED, d->approx,
           d->exact_missing ? "UNAVAILABLE " : "", d->exact, BS_TOL_PHI,
           !ok ? "MISMATCH" : d->exact_missing ? "INCOMPLETE" : "ok");
    size_t differ = 0;
    for (size_t r = 0; r < c->n; r++) {
        const float *x = c->x + r * BS_NFEAT;
        double m1, m2, phi1[BS_NPHI], phi2[BS_NPHI];
        double p1 = xgb_predict_class(c->xm, x, 0, &m1);
        int rc = xgb_contribs_approx_class(c->xm, x, 0, phi1);
        double p2 = xgb_predict_approx_class(c->xm, x, 0, &m2, phi2);
        differ += rc != 0 || memcmp(&p1, &p2, sizeof p1) || memcmp(&m1, &m2, sizeof m1) ||
                  memcmp(phi1, phi2, sizeof phi1);
    }
    printf("bench: score xgb100x6 fused check over %zu rows: xgb_predict_approx_class vs "
           "xgb_predict_class + xgb_contribs_approx_class, %zu rows differ in any bit: %s\n",
           c->n, differ, differ ? "MISMATCH" : "ok");
    return ok && !differ ? 0 : -1;
}

/* ---- report ---------------------------------------------------------------------- */

static void bs_line(const char *what, double ns, int reps, int passes, const char *how)
{
    if (isnan(ns))
        printf("bench: score %s ns/item n/a (%s: unavailable)\n", what, how);
    else
        printf("bench: score %s ns/item %.1f (%s; median of %d reps x %d pass(es))\n",
               what, ns, how, reps, passes);
}

static void bs_speedup(const char *what, double capi, double hitlq)
{
    if (isnan(capi) || isnan(hitlq))
        printf("bench: score %s speedup n/a\n", what);
    else
        printf("bench: score %s speedup %.1fx (xgboost-capi / hitlq)\n", what, capi / hitlq);
}

static void bs_run(struct bs_ctx *c, int reps)
{
    int p;
    double card = bs_time(c, bs_fn_card, reps, &p);
    bs_line("scorecard", card, reps, p, "embedded default scorecard, msgpack fields map");
    char how[HITLQ_MAX_NAME + 96];
    snprintf(how, sizeof how, "score_item, embedded default policy, model %s (%s)",
             c->tp->model->id, c->tp->model->ops->kind);
    double pol = bs_time(c, bs_fn_policy, reps, &p);
    bs_line("default-policy", pol, reps, p, how);
    double hq = bs_time(c, bs_fn_hitlq, reps, &p);
    bs_line("xgb100x6 hitlq", hq, reps, p, "xgb_predict");
    double capi = bs_time(c, bs_fn_capi, reps, &p);
    bs_line("xgb100x6 xgboost-capi", capi, reps, p,
            "XGBoosterPredictFromDense, 1 row per call, nthread 1");
    double capi_dm = bs_time(c, bs_fn_capi_dm, reps, &p);
    bs_line("xgb100x6 xgboost-capi-dmatrix", capi_dm, reps, p,
            "XGDMatrixCreateFromMat 1 row + XGBoosterPredictFromDMatrix + free per call");
    bs_speedup("xgb100x6", capi, hq);
    double ap = bs_time(c, bs_fn_approx, reps, &p);
    bs_line("contribs approx", ap, reps, p, "hitlq xgb_contribs_approx, Saabas");
    double ex = bs_time(c, bs_fn_exact, reps, &p);
    bs_line("contribs exact", ex, reps, p, "hitlq xgb_contribs_exact, TreeSHAP");
    double cap = bs_time(c, bs_fn_capi_approx, reps, &p);
    bs_line("contribs approx xgboost-capi", cap, reps, p,
            "PredictFromDMatrix type 3 on a 1-row DMatrix per call, creation included");
    double cex = bs_time(c, bs_fn_capi_exact, reps, &p);
    bs_line("contribs exact xgboost-capi", cex, reps, p,
            "PredictFromDMatrix type 2 on a 1-row DMatrix per call, creation included");
    bs_speedup("contribs approx", cap, ap);
    bs_speedup("contribs exact", cex, ex);
    double fu = bs_time(c, bs_fn_fused, reps, &p);
    bs_line("xgb100x6 predict+approx fused", fu, reps, p,
            "hitlq xgb_predict_approx_class, one pass");
    double se = bs_time(c, bs_fn_separate, reps, &p);
    bs_line("xgb100x6 predict+approx separate", se, reps, p,
            "hitlq xgb_predict_class + xgb_contribs_approx_class");
    printf("bench: score (sink %g)\n", (double)c->sink);
}

static void bs_free(struct bs_ctx *c)
{
    for (size_t i = 0; c->fields && i < c->n; i++)
        msgpack_unpacked_destroy(&c->fields[i]);
    free(c->fields);
    model_free(c->card);
    scoring_free(c->set);
    xgb_free(c->xm);
    if (c->h)
        XGBoosterFree(c->h);
    free(c->arr);
    free(c->x);
    free(c->good);
    free(c->names);
}

static int bs_usage(void)
{
    fprintf(stderr, "usage: bench_score [-f CSV] [-r REPS] [--model-out PATH.json]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *csv = CREDIT_ITEMS_CSV, *model_out = NULL;
    int reps = 7;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "-f") == 0)
            csv = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "-r") == 0)
            reps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--model-out") == 0)
            model_out = argv[++i];
        else
            return bs_usage();
    }
    if (reps < 5 || reps > 64)
        return bs_usage();
    setenv("OMP_NUM_THREADS", "1", 0);
    struct bs_ctx c = { 0 };
    int rc = 1;
    if (bs_load_matrix(csv, &c) != 0)
        fprintf(stderr, "bench_score: cannot read %s (run from the repo root)\n", csv);
    else if (bs_load_items(csv, &c) == 0) {
        bs_train(&c);
        struct bs_diff d;
        if (bs_export(&c, model_out) == 0) {
            rc = bs_check(&c, &d) != 0;
            bs_run(&c, reps);
        }
    }
    bs_free(&c);
    return rc;
}
