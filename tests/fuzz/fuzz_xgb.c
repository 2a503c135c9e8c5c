/*
 * fuzz_xgb.c - libFuzzer target for the XGBoost JSON loader and evaluator
 * (server/score/model/model_xgb.c, server/score/model/xgb_shap.c).  The whole input goes to
 * xgb_load; a model that loads is then evaluated, for every class, on an
 * all-NaN row and an all-zero row: prediction, Saabas and TreeSHAP
 * contributions.  Invariants (abort() when broken):
 *
 *  - a refused model leaves a non-empty message;
 *  - predictions of a class in range are NaN or in [0, 1] for the
 *    probability objectives; a class out of range gives NaN;
 *  - Saabas and TreeSHAP both succeed or both fail (sum_hessian present),
 *    and agree bit for bit on the bias (same node means, same order).
 *
 * Models declaring more than FUZZ_XGB_MAX_FEATURES features are loaded but
 * not evaluated (the rows would exceed libFuzzer's malloc limit).  Seeds:
 * tests/fuzz/corpus/fuzz_xgb/ (tiny models) and tests/vectors/xgb/.  Built with
 * HITLQ_FUZZ_REPLAY defined, only fuzz_xgb_one() is compiled.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_xgb.h"

#define FUZZ_XGB_MAX_FEATURES 4096

/* Prediction and both contribution methods for every class of m on x. */
static void
fuzz_xgb_eval(const struct xgb_model *m, const float *x, double *pa, double *pe)
{
    size_t nf = xgb_num_feature(m), ncls = xgb_num_class(m);
    int prob = strcmp(xgb_objective(m), "reg:squarederror") != 0;

    for (size_t c = 0; c < ncls; c++) {
        double margin, p = xgb_predict_class(m, x, c, &margin);
        if (prob && !isnan(p) && (p < 0 || p > 1))
            abort();
        int ra = xgb_contribs_approx_class(m, x, c, pa);
        int re = xgb_contribs_exact_class(m, x, c, pe);
        if (ra != re)
            abort();
        if (ra == 0 && !isnan(pa[nf]) && memcmp(&pa[nf], &pe[nf], sizeof *pa) != 0)
            abort();
    }
    if (!isnan(xgb_predict_class(m, x, ncls, NULL)))
        abort();
}

static int
fuzz_xgb_one(const uint8_t *data, size_t size)
{
    char err[256];
    struct xgb_model *m = xgb_load((const char *)data, size, err, sizeof err);

    if (!m) {
        if (err[0] == '\0')
            abort();
        return 0;
    }
    size_t nf = xgb_num_feature(m);
    if (nf <= FUZZ_XGB_MAX_FEATURES) {
        float *x = malloc(nf * sizeof *x);
        double *pa = malloc((nf + 1) * sizeof *pa);
        double *pe = malloc((nf + 1) * sizeof *pe);
        if (!x || !pa || !pe)
            abort();
        for (size_t i = 0; i < nf; i++)
            x[i] = NAN;
        fuzz_xgb_eval(m, x, pa, pe);
        memset(x, 0, nf * sizeof *x);
        fuzz_xgb_eval(m, x, pa, pe);
        free(x);
        free(pa);
        free(pe);
    }
    xgb_free(m);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_xgb_one(data, size);
}
#endif
