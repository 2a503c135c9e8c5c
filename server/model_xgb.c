/*
 * model_xgb.c - XGBoost JSON (gbtree) loader and evaluator.
 *
 * Follows ../shared/docs/SCORING.md §1.4: per tree, left_children /
 * right_children (-1 = leaf), split_indices, split_conditions (threshold,
 * or the leaf value for leaves), default_left; missing (NaN) goes to the
 * default child, otherwise `x < cond` (float32) goes left.  Margin =
 * base margin + sum of leaves, accumulated in float32 in tree order as
 * XGBoost 1.7's CPU predictor does; base_score is stored in probability
 * space and turned into a margin with the objective's ProbToMargin
 * (-logf(1/p - 1) for the logistic objectives, identity otherwise).
 *
 * All trees live in flat arrays (structure of arrays); child indices are
 * absolute.  Every tree is checked at load: array lengths, child ranges,
 * each node with at most one parent and the root with none (so no
 * cycles), depth <= XGB_MAX_DEPTH, split feature < num_feature.
 *
 * Approximate (Saabas) contributions, xgb_contribs_approx(), replicate
 * XGBoost 1.7's predict(pred_contribs=True, approx_contribs=True): node
 * mean values from sum_hessian (FillNodeMeanValues) and the path walk of
 * RegTree::CalculateContributionsApprox, in float like XGBoost.
 */
#include "model_xgb.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define XGB_MAX_DEPTH    64
#define XGB_MAX_NODES    (1u << 26)
#define XGB_MAX_FEATURES (1u << 24)

enum xgb_link { XGB_IDENTITY, XGB_LOGISTIC };

struct xgb_model {
    size_t    num_feature;
    size_t    num_trees;
    size_t    num_nodes;      /* all trees */
    float     base_margin;
    enum xgb_link link;
    char      objective[32];
    uint32_t *root;           /* num_trees: index of each tree's root */
    int32_t  *left;           /* num_nodes: -1 = leaf */
    int32_t  *right;
    uint32_t *feat;
    float    *cond;           /* threshold, or leaf value */
    uint8_t  *dleft;
    int       no_hess;        /* some tree lacks sum_hessian */
    float    *mean;           /* num_nodes: node mean values (NULL without
                                 sum_hessian in every tree) */
    char    **names;          /* num_feature, or NULL if the model has none */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- small JSON accessors --------------------------------------------------- */

static json_t *get_path(json_t *root, const char *const *keys)
{
    json_t *v = root;
    for (; *keys && v; keys++)
        v = json_is_object(v) ? json_object_get(v, *keys) : NULL;
    return v;
}

/* XGBoost writes model parameters as strings ("61", "5E-1"). */
static int param_size(json_t *obj, const char *key, size_t max, size_t *out,
                      char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        (json_int_t)(uint64_t)json_integer_value(v) == json_integer_value(v)) {
        *out = (size_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if (!isdigit((unsigned char)*s) || *end || errno)
            return fail(err, errlen, "%s: not a count: \"%s\"", key, s);
        *out = (size_t)n;
        if ((unsigned long long)*out != n)
            return fail(err, errlen, "%s: too large", key);
    } else {
        return fail(err, errlen, "%s: missing or not a string", key);
    }
    if (*out > max)
        return fail(err, errlen, "%s: %zu exceeds the limit %zu", key, *out, max);
    return 0;
}

static int param_float(json_t *obj, const char *key, float *out,
                       char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_number(v)) {
        *out = (float)json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        *out = strtof(s, &end);
        if (!*s || *end)
            return fail(err, errlen, "%s: not a number: \"%s\"", key, s);
    } else {
        return fail(err, errlen, "%s: missing", key);
    }
    if (!isfinite(*out))
        return fail(err, errlen, "%s: not finite", key);
    return 0;
}

/* Array `key` of tree `t`, which must hold exactly n elements. */
static json_t *tree_array(json_t *tree, size_t t, const char *key, size_t n,
                          char *err, size_t errlen)
{
    json_t *a = json_object_get(tree, key);
    if (!json_is_array(a)) {
        fail(err, errlen, "tree %zu: %s missing or not an array", t, key);
        return NULL;
    }
    if (json_array_size(a) != n) {
        fail(err, errlen, "tree %zu: %s has %zu elements, num_nodes is %zu",
             t, key, json_array_size(a), n);
        return NULL;
    }
    return a;
}

/* ---- model header ------------------------------------------------------------ */

static int load_objective(struct xgb_model *m, json_t *learner, char *err, size_t errlen)
{
    const char *const okey[] = { "objective", "name", NULL };
    json_t *o = get_path(learner, okey);
    if (!json_is_string(o))
        return fail(err, errlen, "learner.objective.name missing");
    const char *name = json_string_value(o);
    if (!strcmp(name, "binary:logistic") || !strcmp(name, "reg:logistic"))
        m->link = XGB_LOGISTIC;
    else if (!strcmp(name, "reg:squarederror"))
        m->link = XGB_IDENTITY;
    else
        return fail(err, errlen, "unsupported objective \"%s\" (supported: "
                    "binary:logistic, reg:logistic, reg:squarederror)", name);
    snprintf(m->objective, sizeof m->objective, "%s", name);
    return 0;
}

static int load_params(struct xgb_model *m, json_t *learner, char *err, size_t errlen)
{
    json_t *p = json_object_get(learner, "learner_model_param");
    if (!json_is_object(p))
        return fail(err, errlen, "learner.learner_model_param missing");
    size_t ncls = 0, ntgt = 1;
    float base = 0.5f;
    if (param_size(p, "num_feature", XGB_MAX_FEATURES, &m->num_feature, err, errlen) ||
        param_float(p, "base_score", &base, err, errlen))
        return -1;
    if (m->num_feature == 0)
        return fail(err, errlen, "num_feature is 0");
    if (json_object_get(p, "num_class") &&
        param_size(p, "num_class", 1u << 20, &ncls, err, errlen))
        return -1;
    if (json_object_get(p, "num_target") &&
        param_size(p, "num_target", 1u << 20, &ntgt, err, errlen))
        return -1;
    if (ncls > 1 || ntgt != 1)
        return fail(err, errlen, "multi-output models (num_class %zu, num_target %zu) "
                    "are not supported yet", ncls, ntgt);
    if (m->link == XGB_LOGISTIC) {
        if (!(base > 0.0f && base < 1.0f))
            return fail(err, errlen, "base_score %g outside (0, 1) for %s",
                        (double)base, m->objective);
        m->base_margin = -logf(1.0f / base - 1.0f);
    } else {
        m->base_margin = base;
    }
    return 0;
}

/* ---- trees ------------------------------------------------------------------- */

/* Each node has at most one parent, the root none, and the tree is no
 * deeper than XGB_MAX_DEPTH.  Child indices are local and already range
 * checked.  Uses scratch (2 * n uint32). */
static int check_shape(const int32_t *l, const int32_t *r, size_t n, size_t t,
                       uint32_t *scratch, char *err, size_t errlen)
{
    uint32_t *seen = scratch, *depth = scratch + n;
    memset(seen, 0, n * sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        int32_t c[2] = { l[i], r[i] };
        for (int k = 0; k < 2; k++) {
            if (c[k] < 0)
                continue;
            if (c[k] == 0 || seen[c[k]]++)
                return fail(err, errlen, "tree %zu: node %d has more than one "
                            "parent (cycle or shared child)", t, c[k]);
        }
    }
    /* Without shared children, parents' depths are settled before a
     * breadth-first walk reaches the child; walk with an explicit queue. */
    uint32_t *queue = seen;
    size_t head = 0, tail = 0;
    queue[tail++] = 0;
    depth[0] = 0;
    while (head < tail) {
        uint32_t i = queue[head++];
        if (l[i] < 0)
            continue;
        if (depth[i] >= XGB_MAX_DEPTH)
            return fail(err, errlen, "tree %zu: deeper than %d", t, XGB_MAX_DEPTH);
        depth[l[i]] = depth[r[i]] = depth[i] + 1;
        if (tail + 2 > n)
            return fail(err, errlen, "tree %zu: malformed structure", t);
        queue[tail++] = (uint32_t)l[i];
        queue[tail++] = (uint32_t)r[i];
    }
    return 0;
}

static int load_node(struct xgb_model *m, json_t *const a[5], size_t t, size_t i,
                     size_t n, size_t off, char *err, size_t errlen)
{
    json_t *l = json_array_get(a[0], i), *r = json_array_get(a[1], i);
    json_t *f = json_array_get(a[2], i), *c = json_array_get(a[3], i);
    json_t *d = json_array_get(a[4], i);
    if (!json_is_integer(l) || !json_is_integer(r) || !json_is_integer(f) ||
        !json_is_number(c) || !(json_is_integer(d) || json_is_boolean(d)))
        return fail(err, errlen, "tree %zu node %zu: wrong value type", t, i);
    json_int_t li = json_integer_value(l), ri = json_integer_value(r);
    json_int_t fi = json_integer_value(f);
    if ((li == -1) != (ri == -1))
        return fail(err, errlen, "tree %zu node %zu: exactly one child is -1", t, i);
    if (li < -1 || ri < -1 || li >= (json_int_t)n || ri >= (json_int_t)n)
        return fail(err, errlen, "tree %zu node %zu: child index out of range "
                    "(%lld, %lld; num_nodes %zu)", t, i, (long long)li, (long long)ri, n);
    if (li != -1 && (fi < 0 || (uint64_t)fi >= m->num_feature))
        return fail(err, errlen, "tree %zu node %zu: split feature %lld out of range "
                    "(num_feature %zu)", t, i, (long long)fi, m->num_feature);
    double cv = json_number_value(c);
    if (!isfinite(cv) || fabs(cv) > 3.4e38)
        return fail(err, errlen, "tree %zu node %zu: condition not a finite float", t, i);
    size_t k = off + i;
    m->left[k] = (int32_t)li;         /* local for now; made absolute later */
    m->right[k] = (int32_t)ri;
    m->feat[k] = li == -1 ? 0 : (uint32_t)fi;
    m->cond[k] = (float)cv;
    m->dleft[k] = json_is_boolean(d) ? json_is_true(d) : json_integer_value(d) != 0;
    return 0;
}

/* sum_hessian (cover), kept in m->mean until the node means replace it.
 * Optional: without it in any tree, approximate contributions are
 * unavailable (m->mean is freed after loading). */
static int load_hessians(struct xgb_model *m, json_t *tree, size_t t, size_t off,
                         size_t n, char *err, size_t errlen)
{
    json_t *h = json_object_get(tree, "sum_hessian");
    if (!h) {
        m->no_hess = 1;
        return 0;
    }
    if (!json_is_array(h) || json_array_size(h) != n)
        return fail(err, errlen, "tree %zu: sum_hessian has %zu elements, num_nodes "
                    "is %zu", t, json_is_array(h) ? json_array_size(h) : 0, n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(h, i);
        double d = json_number_value(v);
        if (!json_is_number(v) || !isfinite(d) || d < 0 || d > 3.4e38)
            return fail(err, errlen, "tree %zu node %zu: sum_hessian not a finite "
                        "non-negative float", t, i);
        m->mean[off + i] = (float)d;
    }
    return 0;
}

static int load_tree(struct xgb_model *m, json_t *tree, size_t t, size_t off, size_t n,
                     uint32_t *scratch, char *err, size_t errlen)
{
    static const char *const keys[5] = {
        "left_children", "right_children", "split_indices", "split_conditions",
        "default_left" };
    json_t *a[5];
    for (int k = 0; k < 5; k++)
        if (!(a[k] = tree_array(tree, t, keys[k], n, err, errlen)))
            return -1;
    json_t *st = json_object_get(tree, "split_type");
    if (st) {
        if (!json_is_array(st) || json_array_size(st) != n)
            return fail(err, errlen, "tree %zu: split_type length mismatch", t);
        for (size_t i = 0; i < n; i++)
            if (json_integer_value(json_array_get(st, i)) != 0)
                return fail(err, errlen, "tree %zu: categorical splits are not "
                            "supported yet", t);
    }
    for (size_t i = 0; i < n; i++)
        if (load_node(m, a, t, i, n, off, err, errlen))
            return -1;
    if (check_shape(m->left + off, m->right + off, n, t, scratch, err, errlen))
        return -1;
    for (size_t i = off; i < off + n; i++)
        if (m->left[i] >= 0) {
            m->left[i] += (int32_t)off;
            m->right[i] += (int32_t)off;
        }
    m->root[t] = (uint32_t)off;
    return load_hessians(m, tree, t, off, n, err, errlen);
}

/* Node count of tree t from its tree_param, cross-checked with num_feature. */
static int tree_nodes(const struct xgb_model *m, json_t *tree, size_t t, size_t *n,
                      char *err, size_t errlen)
{
    json_t *tp = json_object_get(tree, "tree_param");
    size_t nf;
    if (!json_is_object(tp))
        return fail(err, errlen, "tree %zu: tree_param missing", t);
    if (param_size(tp, "num_nodes", XGB_MAX_NODES, n, err, errlen) ||
        param_size(tp, "num_feature", XGB_MAX_FEATURES, &nf, err, errlen))
        return fail(err, errlen, "tree %zu: bad tree_param", t);
    if (*n == 0)
        return fail(err, errlen, "tree %zu: no nodes", t);
    if (nf != m->num_feature)
        return fail(err, errlen, "tree %zu: num_feature %zu, model has %zu",
                    t, nf, m->num_feature);
    return 0;
}

static int alloc_nodes(struct xgb_model *m, size_t total)
{
    m->left = malloc(total * sizeof *m->left);
    m->right = malloc(total * sizeof *m->right);
    m->feat = malloc(total * sizeof *m->feat);
    m->cond = malloc(total * sizeof *m->cond);
    m->dleft = malloc(total);
    m->mean = malloc(total * sizeof *m->mean);
    return m->left && m->right && m->feat && m->cond && m->dleft && m->mean ? 0 : -1;
}

/* Node mean values as XGBoost 1.7's FillNodeMeanValues computes them
 * (src/predictor/cpu_predictor.cc), in float: a leaf's mean is its value;
 * an inner node's is (mean(L) * H(L) + mean(R) * H(R)) / H(node), with H
 * the sum_hessian.  On entry mean[] holds the hessians; the walk is
 * post-order, so a node's hessian is read before its mean overwrites it.
 * Depth is at most XGB_MAX_DEPTH (check_shape), which bounds the recursion.
 * Returns the node's hessian through *hess. */
static float node_mean(struct xgb_model *m, uint32_t i, float *hess)
{
    *hess = m->mean[i];
    float result;
    if (m->left[i] < 0) {
        result = m->cond[i];
    } else {
        float hl, hr;
        float ml = node_mean(m, (uint32_t)m->left[i], &hl);
        float mr = node_mean(m, (uint32_t)m->right[i], &hr);
        result = ml * hl;
        float rpart = mr * hr;
        result += rpart;
        result /= *hess;   /* H = 0 (never written by XGBoost) gives NaN/inf */
    }
    m->mean[i] = result;
    return result;
}

static void fill_means(struct xgb_model *m)
{
    if (m->no_hess) {
        free(m->mean);
        m->mean = NULL;
        return;
    }
    for (size_t t = 0; t < m->num_trees; t++) {
        float h;
        node_mean(m, m->root[t], &h);
    }
}

static int load_trees(struct xgb_model *m, json_t *gbm, char *err, size_t errlen)
{
    const char *const tkey[] = { "model", "trees", NULL };
    json_t *trees = get_path(gbm, tkey), *tree;
    if (!json_is_array(trees) || json_array_size(trees) == 0)
        return fail(err, errlen, "gradient_booster.model.trees missing or empty");
    const char *const ikey[] = { "model", "tree_info", NULL };
    json_t *info = get_path(gbm, ikey);
    m->num_trees = json_array_size(trees);
    if (info && (!json_is_array(info) || json_array_size(info) != m->num_trees))
        return fail(err, errlen, "tree_info has %zu entries for %zu trees",
                    json_array_size(info), m->num_trees);
    size_t total = 0, n, maxn = 0, idx;
    json_array_foreach(trees, idx, tree) {
        if (tree_nodes(m, tree, idx, &n, err, errlen))
            return -1;
        if (info && json_integer_value(json_array_get(info, idx)) != 0)
            return fail(err, errlen, "tree %zu: tree_info is not 0", idx);
        total += n;
        maxn = n > maxn ? n : maxn;
        if (total > XGB_MAX_NODES)
            return fail(err, errlen, "model has more than %u nodes", XGB_MAX_NODES);
    }
    m->num_nodes = total;
    m->root = malloc(m->num_trees * sizeof *m->root);
    uint32_t *scratch = malloc(2 * maxn * sizeof *scratch);
    int rc = !m->root || !scratch || alloc_nodes(m, total)
             ? fail(err, errlen, "out of memory") : 0;
    size_t off = 0;
    json_array_foreach(trees, idx, tree) {
        if (rc)
            break;
        tree_nodes(m, tree, idx, &n, err, errlen);
        rc = load_tree(m, tree, idx, off, n, scratch, err, errlen);
        off += n;
    }
    free(scratch);
    if (!rc)
        fill_means(m);
    return rc;
}

/* feature_names, if present and non-empty, must name every feature. */
static int load_names(struct xgb_model *m, json_t *learner, char *err, size_t errlen)
{
    json_t *fn = json_object_get(learner, "feature_names"), *v;
    size_t i;
    if (!fn || (json_is_array(fn) && json_array_size(fn) == 0))
        return 0;
    if (!json_is_array(fn) || json_array_size(fn) != m->num_feature)
        return fail(err, errlen, "feature_names has %zu entries, num_feature is %zu",
                    json_array_size(fn), m->num_feature);
    if (!(m->names = calloc(m->num_feature, sizeof *m->names)))
        return fail(err, errlen, "out of memory");
    json_array_foreach(fn, i, v) {
        if (!json_is_string(v))
            return fail(err, errlen, "feature_names[%zu] is not a string", i);
        if (!(m->names[i] = strdup(json_string_value(v))))
            return fail(err, errlen, "out of memory");
    }
    return 0;
}

/* ---- public API -------------------------------------------------------------- */

static int load_learner(struct xgb_model *m, json_t *doc, char *err, size_t errlen)
{
    json_t *learner = json_object_get(doc, "learner");
    if (!json_is_object(learner))
        return fail(err, errlen, "not an XGBoost JSON model: no \"learner\" object");
    json_t *ver = json_object_get(doc, "version");
    if (!json_is_array(ver) || json_array_size(ver) < 2 ||
        json_integer_value(json_array_get(ver, 0)) < 1)
        return fail(err, errlen, "version missing or older than 1.0");
    if (load_objective(m, learner, err, errlen) || load_params(m, learner, err, errlen) ||
        load_names(m, learner, err, errlen))
        return -1;
    json_t *gbm = json_object_get(learner, "gradient_booster");
    json_t *name = json_object_get(gbm, "name");
    if (!json_is_string(name) || strcmp(json_string_value(name), "gbtree"))
        return fail(err, errlen, "unsupported booster \"%s\" (only gbtree)",
                    json_is_string(name) ? json_string_value(name) : "?");
    const char *const pkey[] = { "model", "gbtree_model_param", NULL };
    json_t *gp = get_path(gbm, pkey);
    size_t npt = 1, nt;
    if (json_is_object(gp) && json_object_get(gp, "num_parallel_tree") &&
        param_size(gp, "num_parallel_tree", 1u << 20, &npt, err, errlen))
        return -1;
    if (npt != 1)
        return fail(err, errlen, "num_parallel_tree %zu is not supported yet", npt);
    if (load_trees(m, gbm, err, errlen))
        return -1;
    if (json_is_object(gp) && json_object_get(gp, "num_trees") &&
        (param_size(gp, "num_trees", XGB_MAX_NODES, &nt, err, errlen) ||
         nt != m->num_trees))
        return fail(err, errlen, "gbtree_model_param.num_trees does not match "
                    "the %zu trees", m->num_trees);
    return 0;
}

struct xgb_model *xgb_load(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    if (err && errlen)
        err[0] = '\0';
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        fail(err, errlen, "JSON error at line %d column %d: %s", je.line, je.column,
             je.text);
        return NULL;
    }
    struct xgb_model *m = calloc(1, sizeof *m);
    if (!m) {
        fail(err, errlen, "out of memory");
    } else if (load_learner(m, doc, err, errlen)) {
        xgb_free(m);
        m = NULL;
    }
    json_decref(doc);
    return m;
}

double xgb_predict(const struct xgb_model *m, const float *x, double *margin_out)
{
    float sum = m->base_margin;
    for (size_t t = 0; t < m->num_trees; t++) {
        uint32_t n = m->root[t];
        while (m->left[n] >= 0) {
            float v = x[m->feat[n]];
            int go_left = isnan(v) ? m->dleft[n] : v < m->cond[n];
            n = (uint32_t)(go_left ? m->left[n] : m->right[n]);
        }
        sum += m->cond[n];
    }
    if (margin_out)
        *margin_out = sum;
    if (m->link == XGB_LOGISTIC)
        return 1.0f / (1.0f + expf(-sum));
    return sum;
}

/* Saabas path attribution as XGBoost 1.7's RegTree::
 * CalculateContributionsApprox: per tree, bias += mean(root); each step
 * from node to child adds mean(child) - mean(node) to the node's split
 * feature, and the leaf's value - mean(leaf) (zero for leaves, as the
 * leaf's mean is its value) goes to the last split feature.  Everything
 * is float as in XGBoost: per-tree contributions in a float buffer, added
 * to the float totals tree by tree; the base margin is added to the bias
 * after all trees. */
int xgb_contribs_approx(const struct xgb_model *m, const float *x, double *phi)
{
    if (!m || !x || !phi || !m->mean)
        return -1;
    size_t nf = m->num_feature;
    float *tot = calloc(2 * (nf + 1), sizeof *tot);
    if (!tot)
        return -1;
    float *tree = tot + nf + 1;       /* all zero between trees */
    uint32_t touched[XGB_MAX_DEPTH + 1];
    for (size_t t = 0; t < m->num_trees; t++) {
        uint32_t n = m->root[t], split = 0;
        size_t nt = 0;
        float node_value = m->mean[n];
        tree[nf] += node_value;
        if (m->left[n] >= 0) {
            while (m->left[n] >= 0) {
                split = m->feat[n];
                float v = x[split];
                int go_left = isnan(v) ? m->dleft[n] : v < m->cond[n];
                n = (uint32_t)(go_left ? m->left[n] : m->right[n]);
                float new_value = m->mean[n];
                tree[split] += new_value - node_value;
                touched[nt++] = split;
                node_value = new_value;
            }
            tree[split] += m->cond[n] - node_value;
        }
        tot[nf] += tree[nf];
        tree[nf] = 0;
        for (size_t k = 0; k < nt; k++) {
            uint32_t f = touched[k];
            tot[f] += tree[f];          /* once per feature: tree[f] is 0 after */
            tree[f] = 0;
        }
    }
    tot[nf] += m->base_margin;
    for (size_t i = 0; i <= nf; i++)
        phi[i] = tot[i];
    free(tot);
    return 0;
}

void xgb_free(struct xgb_model *m)
{
    if (!m)
        return;
    free(m->mean);
    free(m->root);
    free(m->left);
    free(m->right);
    free(m->feat);
    free(m->cond);
    free(m->dleft);
    if (m->names)
        for (size_t i = 0; i < m->num_feature; i++)
            free(m->names[i]);
    free(m->names);
    free(m);
}

size_t xgb_num_feature(const struct xgb_model *m) { return m->num_feature; }
size_t xgb_num_trees(const struct xgb_model *m) { return m->num_trees; }
const char *xgb_objective(const struct xgb_model *m) { return m->objective; }

const char *xgb_feature_name(const struct xgb_model *m, size_t i)
{
    return m->names && i < m->num_feature ? m->names[i] : NULL;
}
