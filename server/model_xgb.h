/*
 * model_xgb.h - standalone evaluator for XGBoost JSON models (gbtree).
 *
 * Loads the JSON written by XGBoost 1.7's Booster.save_model("m.json") /
 * the CLI's model_out="m.json" for a single-output gbtree model with
 * objective binary:logistic, reg:logistic or reg:squarederror, and
 * predicts exactly as XGBoost's CPU predictor does (float32 features and
 * thresholds, float32 accumulation, missing = NaN follows default_left).
 * Not yet wired into score.c; multi:softprob, dart, gblinear and
 * categorical splits are refused at load.
 */
#ifndef HITLQ_MODEL_XGB_H
#define HITLQ_MODEL_XGB_H

#include <stddef.h>

struct xgb_model;

/* Parses and validates a model.  Returns NULL with a message in err on
 * malformed JSON, unsupported features or inconsistent trees. */
struct xgb_model *xgb_load(const char *json, size_t len, char *err, size_t errlen);

/* x has xgb_num_feature(m) floats; NaN = missing.  Returns the prediction
 * (probability for the logistic objectives) and, if margin_out is not
 * NULL, stores the raw margin there.  Convert double inputs to float
 * first, as XGBoost's DMatrix does. */
double xgb_predict(const struct xgb_model *m, const float *x, double *margin_out);

/* Approximate ("Saabas", path attribution) feature contributions of x,
 * as XGBoost 1.7's predict(pred_contribs=True, approx_contribs=True):
 * phi has xgb_num_feature(m) + 1 doubles; phi[i] is feature i's
 * contribution to the margin and the last entry is the bias (base margin
 * plus every tree's root mean value).  The entries sum to the margin up to
 * float rounding.  Uses each tree's sum_hessian (cover) for the node mean
 * values.  Returns 0, or -1 if the model has no sum_hessian or memory
 * runs out (phi is then unchanged). */
int xgb_contribs_approx(const struct xgb_model *m, const float *x, double *phi);

/* Exact path-dependent TreeSHAP contributions of x (Lundberg et al. 2018,
 * arXiv:1802.03888, Algorithm 2; cover = sum_hessian), as XGBoost 1.7's
 * predict(pred_contribs=True).  Same layout and return values as
 * xgb_contribs_approx.  No heap allocation; the model is only read. */
int xgb_contribs_exact(const struct xgb_model *m, const float *x, double *phi);

/* Number of classes: num_class for multi:softprob / multi:softmax, 1 for
 * the single-output objectives. */
size_t xgb_num_class(const struct xgb_model *m);

/* Probability of class cls (softmax over the class margins for the
 * multi-class objectives) and, if margin_out is not NULL, that class's
 * raw margin.  For single-output models cls must be 0 and this equals
 * xgb_predict.  Returns NAN if cls >= xgb_num_class(m). */
double xgb_predict_class(const struct xgb_model *m, const float *x, size_t cls,
                         double *margin_out);

/* Contributions of x to class cls's margin (only the trees of that class);
 * same layout and return values as xgb_contribs_approx / _exact, and -1
 * if cls >= xgb_num_class(m). */
int xgb_contribs_approx_class(const struct xgb_model *m, const float *x, size_t cls,
                              double *phi);
int xgb_contribs_exact_class(const struct xgb_model *m, const float *x, size_t cls,
                             double *phi);

void xgb_free(struct xgb_model *m);

size_t      xgb_num_feature(const struct xgb_model *m);
size_t      xgb_num_trees(const struct xgb_model *m);
const char *xgb_objective(const struct xgb_model *m);
/* Name of feature i from the model's feature_names, or NULL if the model
 * has none (or i is out of range). */
const char *xgb_feature_name(const struct xgb_model *m, size_t i);

#endif
