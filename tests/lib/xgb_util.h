/*
 * xgb_util.h - shared by the XGBoost evaluator unit tests (tests/unit/
 * test_xgb_eval.c, test_xgb_fused.c, test_xgb_refused.c): the reference
 * models of tests/vectors/xgb (made by scripts/train_xgb.py with Debian's
 * xgboost 1.7.4), loading a model file, parsing a CSV row, and a tiny
 * hand-made one-split model.  Run from the repo root.
 */
#ifndef HITLQ_XGB_UTIL_H
#define HITLQ_XGB_UTIL_H

#include <stddef.h>

#include "model_xgb.h"

#define XGBU_VEC_DIR     "tests/vectors/xgb/"
#define XGBU_CLS_MODEL   XGBU_VEC_DIR "credit_small.json"     /* binary:logistic */
#define XGBU_REG_MODEL   XGBU_VEC_DIR "credit_small_reg.json" /* reg:squarederror */
#define XGBU_MULTI_MODEL XGBU_VEC_DIR "credit_multi.json"     /* multi:softprob */
#define XGBU_NCLASS      3        /* classes of XGBU_MULTI_MODEL */
#define XGBU_NFEAT       61       /* features of every reference model */

/* The model in the file at path; fails the test (with xgb_load's message)
 * when it does not load.  Free with xgb_free. */
struct xgb_model *xgbu_load(const char *path);
/* Parses n comma-separated numbers of one CSV line into out (fails the
 * test on a missing number). */
void xgbu_parse_row(const char *line, double *out, int n);
/* One split on f1 at 0.5, missing goes right; leaves -1 / +2; base_score
 * `base` (a JSON string's text), objective obj.  NULL with err (n bytes)
 * set when xgb_load refuses it. */
struct xgb_model *xgbu_tiny(const char *base, const char *obj, char *err, size_t n);

#endif
