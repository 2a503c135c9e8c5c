/*
 * model_xgb.h - standalone evaluator for XGBoost JSON models (gbtree).
 *
 * Loads the JSON written by XGBoost 1.7's Booster.save_model("m.json") /
 * the CLI's model_out="m.json" for a gbtree model with objective
 * binary:logistic, reg:logistic, reg:squarederror (one output) or
 * multi:softprob / multi:softmax (num_class outputs; both evaluated as
 * class probabilities), and predicts exactly as XGBoost's CPU predictor
 * does (float32 features and thresholds, float32 accumulation in tree
 * order, missing = NaN follows default_left).  Feature contributions:
 * Saabas (float-exact to XGBoost's approx_contribs) and exact TreeSHAP.
 * Refused at load: dart, gblinear, num_parallel_tree > 1, multi-target
 * models, trees deeper than 64 levels; and with a message starting "not
 * supported: " native categorical models (categorical splits, `categories`
 * fields or "c" feature types), UBJSON model files and legacy binary
 * model files (xgb_format_unsupported).
 *
 * Ownership and threads: xgb_load returns a model owned by the caller
 * (xgb_free).  Once loaded it is never written, so any number of threads
 * may call the evaluation functions on it at once; they allocate nothing
 * (exact TreeSHAP uses ~34 KB of stack, xgb_predict_approx_class ~13
 * KB).  Strings returned by the accessors belong to the model.
 */
#ifndef HITLQ_MODEL_XGB_H
#define HITLQ_MODEL_XGB_H

#include <stdbool.h>
#include <stddef.h>

struct xgb_model;

/* Parses and validates a model (json: len bytes, need not be
 * NUL-terminated; not kept).  Returns NULL with a message in err on
 * malformed JSON, unsupported features or inconsistent trees or classes. */
struct xgb_model *xgb_load(const char *json, size_t len, char *err, size_t errlen);

/* When bytes[0..len) are an XGBoost model in a format this evaluator does
 * not read (UBJSON, or the legacy binary format), a static message
 * starting "not supported: " naming it and what to do; else NULL.  The
 * model loader (server/score/score.c) asks before it tells a tree model
 * from a scorecard by content. */
const char *xgb_format_unsupported(const char *bytes, size_t len);

/* x has xgb_num_feature(m) floats; NaN = missing.  Returns the prediction
 * (probability for the logistic objectives) and, if margin_out is not
 * NULL, stores the raw margin there.  Convert double inputs to float
 * first, as XGBoost's DMatrix does.  Multi-class models: class 0, as
 * xgb_predict_class(m, x, 0, margin_out). */
double xgb_predict(const struct xgb_model *m, const float *x, double *margin_out);

/* Approximate ("Saabas", path attribution) feature contributions of x,
 * as XGBoost 1.7's predict(pred_contribs=True, approx_contribs=True):
 * phi has xgb_num_feature(m) + 1 doubles; phi[i] is feature i's
 * contribution to the margin and the last entry is the bias (base margin
 * plus every tree's root mean value).  The entries sum to the margin up to
 * float rounding.  Uses each tree's sum_hessian (cover) for the node mean
 * values.  Returns 0, or -1 if the model has no sum_hessian (phi is then
 * unchanged).  Multi-class models: class 0. */
int xgb_contribs_approx(const struct xgb_model *m, const float *x, double *phi);

/* Exact path-dependent TreeSHAP contributions of x (Lundberg et al. 2018,
 * arXiv:1802.03888, Algorithm 2; cover = sum_hessian), as XGBoost 1.7's
 * predict(pred_contribs=True), to float rounding (~1e-6).  Same layout
 * and return values as xgb_contribs_approx; the bias is identical to
 * Saabas's.  O(trees * leaves * depth^2): ~0.2 ms for 100 trees of depth
 * 6.  Multi-class models: class 0. */
int xgb_contribs_exact(const struct xgb_model *m, const float *x, double *phi);

/* Number of classes: num_class for multi:softprob / multi:softmax, 1 for
 * the single-output objectives. */
size_t xgb_num_class(const struct xgb_model *m);

/* Probability of class cls (XGBoost's float softmax over the class
 * margins for the multi-class objectives; for multi:softmax, whose
 * XGBoost prediction is the argmax label, the probabilities too) and, if
 * margin_out is not NULL, that class's raw margin (base_score plus the
 * leaves of the trees whose tree_info is cls).  For single-output models
 * cls must be 0 and this equals xgb_predict.  Returns NAN (and NAN in
 * *margin_out) if cls >= xgb_num_class(m). */
double xgb_predict_class(const struct xgb_model *m, const float *x, size_t cls,
                         double *margin_out);

/* Contributions of x to class cls's margin (only the trees of that class;
 * the bias includes base_score, as XGBoost's per-class pred_contribs);
 * same layout and return values as xgb_contribs_approx / _exact, and -1
 * (phi unchanged) if cls >= xgb_num_class(m). */
int xgb_contribs_approx_class(const struct xgb_model *m, const float *x, size_t cls,
                              double *phi);
int xgb_contribs_exact_class(const struct xgb_model *m, const float *x, size_t cls,
                             double *phi);

/* Prediction and approximate contributions in one pass over the trees:
 * returns exactly what xgb_predict_class returns (same bits, margin in
 * *margin_out) and fills phi exactly as xgb_contribs_approx_class does.
 * Returns NAN and leaves phi unchanged if cls is out of range or the model
 * has no sum_hessian (*margin_out is then NAN too).  About 0.3x the cost
 * of the two calls: trees are walked eight at a time as for predictions,
 * and each leaf reached adds the Saabas terms xgb_load tabulated for it
 * (~28 bytes per node for 100 trees of depth 6, at most 68).  Models with
 * more than 2048 features, or whose table would exceed that (deep trees
 * with many distinct features per path), have no table: this then makes
 * the two calls.  Uses ~13 KB of stack. */
double xgb_predict_approx_class(const struct xgb_model *m, const float *x, size_t cls,
                                double *margin_out, double *phi);

void xgb_free(struct xgb_model *m);

/* True when the model can give contributions (every tree has sum_hessian). */
bool xgb_has_contribs(const struct xgb_model *m);

size_t      xgb_num_feature(const struct xgb_model *m);
size_t      xgb_num_trees(const struct xgb_model *m);    /* all classes */
const char *xgb_objective(const struct xgb_model *m);
/* Name of feature i from the model's feature_names, or NULL if the model
 * has none (or i is out of range). */
const char *xgb_feature_name(const struct xgb_model *m, size_t i);

#endif
