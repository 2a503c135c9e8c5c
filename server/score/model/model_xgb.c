/*
 * model_xgb.c - XGBoost JSON (gbtree) loader and evaluator.
 *
 * Follows XGBoost's JSON model (scripts/README-model.md): per tree, left_children /
 * right_children (-1 = leaf), split_indices, split_conditions (threshold,
 * or the leaf value for leaves), default_left; missing (NaN) goes to the
 * default child, otherwise `x < cond` (float32) goes left.  Margin =
 * base margin + sum of leaves, accumulated in float32 in tree order as
 * XGBoost 1.7's CPU predictor does; base_score is stored in probability
 * space and turned into a margin with the objective's ProbToMargin
 * (-logf(1/p - 1) for the logistic objectives, identity otherwise).
 *
 * multi:softprob (and multi:softmax, evaluated the same way: we return
 * class probabilities, not XGBoost's argmax label) keep one margin per
 * class: tree t adds to class tree_info[t]'s margin, every class starts
 * from the same base margin (base_score, identity link), and the
 * probabilities are XGBoost's float softmax (float max, double sum of
 * the float exponentials, float division).
 *
 * Layout (xgb_shap.h): one 16-byte node per tree node, trees back to back,
 * child indices absolute, leaves pointing at themselves so a tree is
 * walked branch-free for exactly its depth; eight trees are walked side
 * by side to overlap their memory latency.  Every tree is checked at
 * load: array lengths, child ranges, each node with at most one parent
 * and the root with none (so no cycles), depth <= XGB_MAX_DEPTH, split
 * feature < num_feature, tree_info < num_class, and every class owning
 * num_trees / num_class trees (one per class per round, as XGBoost grows
 * them).
 *
 * Contributions (Saabas and TreeSHAP) live in xgb_shap.c.
 * xgb_predict_approx_class walks the trees as predictions do and adds, for
 * each leaf reached, the Saabas terms xgb_shap.c tabulated for that leaf
 * at load.
 */
#include "model_xgb.h"
#include "xgb_shap.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What to do instead of native categorical splits. */
#define XGB_CAT_HINT "encode the categories with \"one_hot\" in the policy's feature " \
                     "mapping and train on the one-hot columns"


/* Formats a load error into err (if any room) and returns -1. */
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
    else if (!strcmp(name, "multi:softprob") || !strcmp(name, "multi:softmax"))
        m->link = XGB_SOFTMAX;
    else
        return fail(err, errlen, "unsupported objective \"%s\" (supported: "
                    "binary:logistic, reg:logistic, reg:squarederror, "
                    "multi:softprob, multi:softmax)", name);
    snprintf(m->objective, sizeof m->objective, "%s", name);
    return 0;
}

/* num_class from learner_model_param, checked against the objective: at
 * least 2 for the multi-class objectives (and equal to the objective's own
 * softmax_multiclass_param.num_class when present), 0 or 1 otherwise. */
static int load_num_class(struct xgb_model *m, json_t *learner, json_t *p,
                          char *err, size_t errlen)
{
    size_t ncls = 0, ntgt = 1, ocls;
    if (json_object_get(p, "num_class") &&
        param_size(p, "num_class", 1u << 20, &ncls, err, errlen))
        return -1;
    if (json_object_get(p, "num_target") &&
        param_size(p, "num_target", 1u << 20, &ntgt, err, errlen))
        return -1;
    if (ntgt != 1)
        return fail(err, errlen, "multi-target models (num_target %zu) are not "
                    "supported", ntgt);
    if (m->link != XGB_SOFTMAX) {
        if (ncls > 1)
            return fail(err, errlen, "num_class mismatch: %zu classes for the "
                        "single-output objective %s", ncls, m->objective);
        m->num_class = 1;
        return 0;
    }
    if (ncls < 2 || ncls > XGB_MAX_CLASS)
        return fail(err, errlen, "num_class mismatch: %s needs 2 to %u classes, "
                    "num_class is %zu", m->objective, XGB_MAX_CLASS, ncls);
    const char *const ckey[] = { "objective", "softmax_multiclass_param", NULL };
    json_t *op = get_path(learner, ckey);
    if (json_is_object(op) && json_object_get(op, "num_class") &&
        (param_size(op, "num_class", 1u << 20, &ocls, err, errlen) || ocls != ncls))
        return fail(err, errlen, "num_class mismatch: objective says %s, "
                    "learner_model_param says %zu",
                    json_is_string(json_object_get(op, "num_class"))
                    ? json_string_value(json_object_get(op, "num_class")) : "?",
                    ncls);
    m->num_class = ncls;
    return 0;
}

static int load_params(struct xgb_model *m, json_t *learner, char *err, size_t errlen)
{
    json_t *p = json_object_get(learner, "learner_model_param");
    if (!json_is_object(p))
        return fail(err, errlen, "learner.learner_model_param missing");
    float base = 0.5f;
    if (param_size(p, "num_feature", XGB_MAX_FEATURES, &m->num_feature, err, errlen) ||
        param_float(p, "base_score", &base, err, errlen))
        return -1;
    if (m->num_feature == 0)
        return fail(err, errlen, "num_feature is 0");
    if (load_num_class(m, learner, p, err, errlen))
        return -1;
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

/* Scratch for one tree of up to maxn nodes; owned by load_trees. */
struct tree_scratch {
    int32_t  *left;       /* maxn: local child indices, -1 = leaf */
    int32_t  *right;      /* maxn */
    uint32_t *shape;      /* 2 * maxn: check_shape's work space */
    int       no_hess;    /* some tree lacks sum_hessian */
};

/* Each node has at most one parent, the root none, and no leaf is deeper
 * than XGB_MAX_DEPTH; the deepest leaf's depth goes to *depth_out.  Child
 * indices are local and already range checked.  Uses scratch (2 * n
 * uint32). */
static int check_shape(const int32_t *l, const int32_t *r, size_t n, size_t t,
                       uint32_t *scratch, unsigned *depth_out, char *err, size_t errlen)
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
    *depth_out = 0;
    while (head < tail) {
        uint32_t i = queue[head++];
        if (depth[i] > *depth_out)
            *depth_out = depth[i];
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

/* Node i of tree t (at m->nodes[off + i]): value and split word; the
 * local child indices go to s->left[i], s->right[i]. */
static int load_node(struct xgb_model *m, json_t *const a[5], size_t t, size_t i,
                     size_t n, size_t off, struct tree_scratch *s,
                     char *err, size_t errlen)
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
    int dl = json_is_boolean(d) ? json_is_true(d) : json_integer_value(d) != 0;
    struct xgb_node *nd = &m->nodes[off + i];
    nd->value = (float)cv;
    nd->split = li == -1 ? XGB_SPLIT_LEAF : (uint32_t)fi | (dl ? XGB_SPLIT_DLEFT : 0);
    s->left[i] = (int32_t)li;
    s->right[i] = (int32_t)ri;
    return 0;
}

/* sum_hessian (cover) into m->hess.  Optional: without it in any tree,
 * contributions are unavailable (m->hess is freed after loading). */
static int load_hessians(struct xgb_model *m, json_t *tree, size_t t, size_t off,
                         size_t n, int *no_hess, char *err, size_t errlen)
{
    json_t *h = json_object_get(tree, "sum_hessian");
    if (!h) {
        *no_hess = 1;
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
        m->hess[off + i] = (float)d;
    }
    return 0;
}

static int load_tree(struct xgb_model *m, json_t *tree, size_t t, size_t off, size_t n,
                     struct tree_scratch *s, char *err, size_t errlen)
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
                return fail(err, errlen, "not supported: native categorical splits "
                            "(tree %zu node %zu); " XGB_CAT_HINT, t, i);
    }
    json_t *cats = json_object_get(tree, "categories");
    if (json_is_array(cats) && json_array_size(cats) > 0)
        return fail(err, errlen, "not supported: native categorical splits (tree %zu has "
                    "\"categories\"); " XGB_CAT_HINT, t);
    for (size_t i = 0; i < n; i++)
        if (load_node(m, a, t, i, n, off, s, err, errlen))
            return -1;
    const int32_t *l = s->left, *r = s->right;
    unsigned depth = 0;
    if (check_shape(l, r, n, t, s->shape, &depth, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct xgb_node *nd = &m->nodes[off + i];
        int leaf = l[i] < 0;
        nd->child[0] = (uint32_t)(off + (leaf ? i : (size_t)l[i]));
        nd->child[1] = (uint32_t)(off + (leaf ? i : (size_t)r[i]));
    }
    m->root[t] = (uint32_t)off;
    m->depth[t] = (uint8_t)depth;
    return load_hessians(m, tree, t, off, n, &s->no_hess, err, errlen);
}

/* Node count of tree t from its tree_param, cross-checked with num_feature
 * and with the length of left_children, so that the count that sizes the
 * model's arrays is one the input really holds (a few bytes declaring
 * num_nodes 60000000 must not allocate a gigabyte before being refused). */
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
    return tree_array(tree, t, "left_children", *n, err, errlen) ? 0 : -1;
}

/* tree_info: the class of each tree.  Optional for single-output models
 * (all 0); required with num_class > 1, where XGBoost grows one tree per
 * class per round, so every class must own num_trees / num_class trees.
 * Fills tree_class, class_trees and class_start. */
static int load_classes(struct xgb_model *m, json_t *gbm, char *err, size_t errlen)
{
    const char *const ikey[] = { "model", "tree_info", NULL };
    json_t *info = get_path(gbm, ikey);
    size_t nt = m->num_trees, nc = m->num_class;
    if ((info || nc > 1) && (!json_is_array(info) || json_array_size(info) != nt))
        return fail(err, errlen, "tree_info has %zu entries for %zu trees",
                    json_array_size(info), nt);
    for (size_t t = 0; t < nt; t++) {
        json_t *v = json_array_get(info, t);
        json_int_t c = info ? json_integer_value(v) : 0;
        if (info && !json_is_integer(v))
            return fail(err, errlen, "tree %zu: tree_info is not an integer", t);
        if (nc == 1 && c != 0)
            return fail(err, errlen, "tree %zu: tree_info is not 0", t);
        if (c < 0 || (uint64_t)c >= nc)
            return fail(err, errlen, "tree %zu: tree_info %lld out of range "
                        "(num_class %zu)", t, (long long)c, nc);
        m->tree_class[t] = (uint32_t)c;
        m->class_start[c + 1]++;
    }
    for (size_t c = 0; c < nc; c++) {
        if (m->class_start[c + 1] * nc != nt)
            return fail(err, errlen, "num_class mismatch: class %zu has %u of the "
                        "%zu trees (num_class %zu)", c, m->class_start[c + 1], nt, nc);
        m->class_start[c + 1] += m->class_start[c];
    }
    uint32_t *fill = m->class_start;     /* stable counting sort */
    for (size_t t = 0; t < nt; t++)
        m->class_trees[fill[m->tree_class[t]]++] = (uint32_t)t;
    for (size_t c = nc; c > 0; c--)      /* fill[c-1] now = start of c: shift back */
        m->class_start[c] = m->class_start[c - 1];
    m->class_start[0] = 0;
    return 0;
}

static int alloc_model(struct xgb_model *m, size_t total)
{
    size_t nt = m->num_trees;
    m->nodes = malloc(total * sizeof *m->nodes);
    m->hess = malloc(total * sizeof *m->hess);
    m->root = malloc(nt * sizeof *m->root);
    m->depth = malloc(nt);
    m->tree_class = malloc(nt * sizeof *m->tree_class);
    m->class_trees = malloc(nt * sizeof *m->class_trees);
    m->class_start = calloc(m->num_class + 1, sizeof *m->class_start);
    return m->nodes && m->hess && m->root && m->depth && m->tree_class &&
           m->class_trees && m->class_start ? 0 : -1;
}

/* Counts the nodes of every tree (checked against the limits), allocates
 * the model's arrays and the per-tree scratch. */
static int size_trees(struct xgb_model *m, json_t *trees, struct tree_scratch *s,
                      char *err, size_t errlen)
{
    size_t total = 0, n, maxn = 0, idx;
    json_t *tree;
    json_array_foreach(trees, idx, tree) {
        if (tree_nodes(m, tree, idx, &n, err, errlen))
            return -1;
        total += n;
        maxn = n > maxn ? n : maxn;
        if (total > XGB_MAX_NODES)
            return fail(err, errlen, "model has more than %u nodes", XGB_MAX_NODES);
    }
    m->num_nodes = total;
    s->left = malloc(maxn * sizeof *s->left);
    s->right = malloc(maxn * sizeof *s->right);
    s->shape = malloc(2 * maxn * sizeof *s->shape);
    if (!s->left || !s->right || !s->shape || alloc_model(m, total))
        return fail(err, errlen, "out of memory");
    return 0;
}

static int load_trees(struct xgb_model *m, json_t *gbm, char *err, size_t errlen)
{
    const char *const tkey[] = { "model", "trees", NULL };
    json_t *trees = get_path(gbm, tkey), *tree;
    if (!json_is_array(trees) || json_array_size(trees) == 0)
        return fail(err, errlen, "gradient_booster.model.trees missing or empty");
    m->num_trees = json_array_size(trees);
    struct tree_scratch s = { 0 };
    int rc = size_trees(m, trees, &s, err, errlen);
    if (!rc)
        rc = load_classes(m, gbm, err, errlen);
    size_t off = 0, n, idx;
    json_array_foreach(trees, idx, tree) {
        if (rc)
            break;
        tree_nodes(m, tree, idx, &n, err, errlen);
        rc = load_tree(m, tree, idx, off, n, &s, err, errlen);
        off += n;
    }
    free(s.left);
    free(s.right);
    free(s.shape);
    if (!rc && s.no_hess) {
        free(m->hess);
        m->hess = NULL;
    }
    if (!rc && m->hess) {
        if (!(m->mean = malloc(m->num_nodes * sizeof *m->mean)))
            return fail(err, errlen, "out of memory");
        xgb_shap_fill_means(m);
        if (xgb_shap_build_terms(m))
            return fail(err, errlen, "out of memory");
    }
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

/* feature_types: a "c" (categorical) feature is not supported. */
static int load_types(json_t *learner, char *err, size_t errlen)
{
    json_t *ft = json_object_get(learner, "feature_types"), *v;
    size_t i;
    json_array_foreach(ft, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), "c") == 0)
            return fail(err, errlen, "not supported: native categorical feature %zu "
                        "(feature_types \"c\"); " XGB_CAT_HINT, i);
    }
    return 0;
}

static int load_learner(struct xgb_model *m, json_t *doc, char *err, size_t errlen)
{
    json_t *learner = json_object_get(doc, "learner");
    if (!json_is_object(learner))
        return fail(err, errlen, "not an XGBoost JSON model: no \"learner\" object");
    json_t *ver = json_object_get(doc, "version");
    if (!json_is_array(ver) || json_array_size(ver) < 2 ||
        json_integer_value(json_array_get(ver, 0)) < 1)
        return fail(err, errlen, "version missing or older than 1.0");
    if (load_types(learner, err, errlen) || load_objective(m, learner, err, errlen) ||
        load_params(m, learner, err, errlen) || load_names(m, learner, err, errlen))
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

/* ---- public API -------------------------------------------------------------- */

const char *xgb_format_unsupported(const char *bytes, size_t len)
{
    static const char ubj[] = "not supported: UBJSON (binary JSON) XGBoost model file; "
        "save the model as JSON: booster.save_model(\"model.json\")";
    static const char bin[] = "not supported: legacy binary XGBoost model file (the "
        "format before XGBoost 1.0); load it with XGBoost and save it as JSON: "
        "booster.save_model(\"model.json\")";
    size_t i = 0;

    if (len >= 4 && memcmp(bytes, "binf", 4) == 0)
        return bin;
    while (i < len && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\n' ||
                       bytes[i] == '\r'))
        i++;
    /* UBJSON: '{' then the length marker of the first key, never '"' */
    if (len > 2 && bytes[0] == '{' && strchr("iUIlL$#", bytes[1]) != NULL &&
        memmem(bytes, len, "learner", 7) != NULL)
        return ubj;
    if (i < len && bytes[i] != '{' && bytes[i] != '[' &&
        memchr(bytes, '\0', len < 64 ? len : 64) != NULL)
        return bin;                    /* the old format without the "binf" magic */
    return NULL;
}

struct xgb_model *xgb_load(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    const char *why = xgb_format_unsupported(json, len);
    if (err && errlen)
        err[0] = '\0';
    if (why) {
        fail(err, errlen, "%s", why);
        return NULL;
    }
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

/* ---- evaluation ---------------------------------------------------------------- */

/* Leaf value of tree t for x: exactly depth[t] branch-free steps (a leaf
 * reached early steps onto itself). */
static inline float tree_leaf(const struct xgb_model *m, size_t t, const float *x)
{
    const struct xgb_node *nodes = m->nodes;
    uint32_t n = m->root[t];
    for (unsigned d = m->depth[t]; d > 0; d--)
        n = xgb_node_next(&nodes[n], x);
    return nodes[n].value;
}

/* Trees walked side by side: their chains of dependent loads overlap
 * (the unroll pragmas below must say the same number). */
#define XGB_LANES 8

/* Leaves of trees t .. t + XGB_LANES - 1 into v, walked in lock step for
 * the deepest one's depth (shallower trees idle on their leaf). */
static inline void tree_leaves(const struct xgb_model *m, size_t t, const float *x,
                               float v[XGB_LANES])
{
    const struct xgb_node *nodes = m->nodes;
    uint32_t n[XGB_LANES];
    unsigned steps = 0;
#pragma GCC unroll 8
    for (int k = 0; k < XGB_LANES; k++) {
        n[k] = m->root[t + k];
        steps = m->depth[t + k] > steps ? m->depth[t + k] : steps;
    }
    for (; steps > 0; steps--) {
#pragma GCC unroll 8
        for (int k = 0; k < XGB_LANES; k++)
            n[k] = xgb_node_next(&nodes[n[k]], x);
    }
#pragma GCC unroll 8
    for (int k = 0; k < XGB_LANES; k++)
        v[k] = nodes[n[k]].value;
}

/* Margin of a single-output model: base margin, then every tree's leaf
 * added in model order, in float (XGBoost's order and rounding). */
static float margin_single(const struct xgb_model *m, const float *x)
{
    float sum = m->base_margin, v[XGB_LANES];
    size_t t = 0;
    for (; t + XGB_LANES <= m->num_trees; t += XGB_LANES) {
        tree_leaves(m, t, x, v);
        for (int k = 0; k < XGB_LANES; k++)
            sum += v[k];                  /* in tree order */
    }
    for (; t < m->num_trees; t++)
        sum += tree_leaf(m, t, x);
    return sum;
}

/* Margins of every class into out[num_class], each in model order. */
static void margin_classes(const struct xgb_model *m, const float *x, float *out)
{
    const uint32_t *cls = m->tree_class;
    float v[XGB_LANES];
    size_t t = 0;
    for (size_t c = 0; c < m->num_class; c++)
        out[c] = m->base_margin;
    for (; t + XGB_LANES <= m->num_trees; t += XGB_LANES) {
        tree_leaves(m, t, x, v);
        for (int k = 0; k < XGB_LANES; k++)
            out[cls[t + k]] += v[k];
    }
    for (; t < m->num_trees; t++)
        out[cls[t]] += tree_leaf(m, t, x);
}

/* XGBoost's softmax of class cls: float maximum, double sum of the float
 * exponentials, float division. */
static float softmax_class(const float *margin, size_t n, size_t cls)
{
    float wmax = margin[0];
    for (size_t c = 1; c < n; c++)
        wmax = margin[c] > wmax ? margin[c] : wmax;
    double wsum = 0;
    for (size_t c = 0; c < n; c++)
        wsum += expf(margin[c] - wmax);
    return expf(margin[cls] - wmax) / (float)wsum;
}

double xgb_predict_class(const struct xgb_model *m, const float *x, size_t cls,
                         double *margin_out)
{
    if (cls >= m->num_class) {
        if (margin_out)
            *margin_out = NAN;
        return NAN;
    }
    if (m->link == XGB_SOFTMAX) {
        float margin[XGB_MAX_CLASS];
        margin_classes(m, x, margin);
        if (margin_out)
            *margin_out = margin[cls];
        return softmax_class(margin, m->num_class, cls);
    }
    float sum = margin_single(m, x);
    if (margin_out)
        *margin_out = sum;
    if (m->link == XGB_LOGISTIC)
        return 1.0f / (1.0f + expf(-sum));
    return sum;
}

double xgb_predict(const struct xgb_model *m, const float *x, double *margin_out)
{
    return xgb_predict_class(m, x, 0, margin_out);
}

/* ---- prediction and Saabas contributions in one pass --------------------------- */

/* Margins of the class being explained (own) and of the others
 * (margin[]), Saabas totals of its features (acc[]); all float. */
struct fused_sums {
    float  own;
    float *margin;         /* XGB_MAX_CLASS; only the other classes' entries */
    float *acc;            /* num_feature + XGB_TERMS_PAD */
};

/* Tree t ended on `leaf`: its value to its class's margin and, for a tree
 * of class cls, its leaf's precomputed Saabas terms to the feature totals
 * (padding terms go to the scratch slots past num_feature).  Called for
 * the trees in model order, so every float sum runs in tree order. */
static inline void fused_tree(const struct xgb_model *m, size_t t, uint32_t leaf,
                              size_t cls, struct fused_sums *s)
{
    float v = m->nodes[leaf].value;
    uint32_t c = m->tree_class[t];
    if (c != cls) {
        s->margin[c] += v;
        return;
    }
    s->own += v;
    const struct xgb_term *tm = &m->terms[m->leaf_terms[leaf]];
    for (unsigned j = 0, w = m->tree_terms[t]; j < w; j++)
        s->acc[tm[j].feature] += tm[j].part;
}

/* Walks trees XGB_LANES at a time like tree_leaves (a last, partial group
 * walks its last tree again in the spare lanes), and while a group walks,
 * one tree of the previous group per step gets fused_tree: the term
 * additions fill the walk's load latency. */
static void fused_walk(const struct xgb_model *m, const float *x, size_t cls,
                       struct fused_sums *s)
{
    const struct xgb_node *nodes = m->nodes;
    size_t nt = m->num_trees, prev_t = 0, prev_n = 0;
    uint32_t prev[XGB_LANES];
    for (size_t t = 0; t < nt; t += XGB_LANES) {
        size_t lanes = nt - t < XGB_LANES ? nt - t : XGB_LANES, done = 0;
        uint32_t n[XGB_LANES];
        unsigned steps = 0;
#pragma GCC unroll 8
        for (size_t k = 0; k < XGB_LANES; k++) {
            size_t tk = t + (k < lanes ? k : lanes - 1);
            n[k] = m->root[tk];
            steps = m->depth[tk] > steps ? m->depth[tk] : steps;
        }
        for (; steps > 0; steps--) {
#pragma GCC unroll 8
            for (int k = 0; k < XGB_LANES; k++)
                n[k] = xgb_node_next(&nodes[n[k]], x);
            if (done < prev_n) {
                fused_tree(m, prev_t + done, prev[done], cls, s);
                done++;
            }
        }
        for (; done < prev_n; done++)
            fused_tree(m, prev_t + done, prev[done], cls, s);
        memcpy(prev, n, sizeof prev);
        prev_t = t;
        prev_n = lanes;
    }
    for (size_t k = 0; k < prev_n; k++)
        fused_tree(m, prev_t + k, prev[k], cls, s);
}

double xgb_predict_approx_class(const struct xgb_model *m, const float *x, size_t cls,
                                double *margin_out, double *phi)
{
    if (!m || !x || !phi || cls >= m->num_class || !m->mean) {
        if (margin_out)
            *margin_out = NAN;
        return NAN;
    }
    if (!m->terms) {                /* no table (see xgb_shap.h): two passes */
        double p = xgb_predict_class(m, x, cls, margin_out);
        xgb_contribs_approx_class(m, x, cls, phi);
        return p;
    }
    size_t nf = m->num_feature;
    float acc[XGB_FUSED_MAX_FEATURES + XGB_TERMS_PAD], margin[XGB_MAX_CLASS];
    struct fused_sums s = { .own = m->base_margin, .margin = margin, .acc = acc };
    memset(acc, 0, (nf + XGB_TERMS_PAD) * sizeof *acc);
    for (size_t c = 0; c < m->num_class; c++)
        margin[c] = m->base_margin;
    fused_walk(m, x, cls, &s);
    /* phi as xgb_contribs_approx_class leaves it: float totals, the bias a
     * constant of the class. */
    for (size_t i = 0; i < nf; i++)
        phi[i] = acc[i];
    phi[nf] = m->class_bias[cls];
    margin[cls] = s.own;
    if (margin_out)
        *margin_out = s.own;
    if (m->link == XGB_SOFTMAX)
        return softmax_class(margin, m->num_class, cls);
    if (m->link == XGB_LOGISTIC)
        return 1.0f / (1.0f + expf(-s.own));
    return s.own;
}

void xgb_free(struct xgb_model *m)
{
    if (!m)
        return;
    free(m->nodes);
    free(m->hess);
    free(m->mean);
    free(m->terms);
    free(m->leaf_terms);
    free(m->tree_terms);
    free(m->class_bias);
    free(m->root);
    free(m->depth);
    free(m->tree_class);
    free(m->class_trees);
    free(m->class_start);
    if (m->names)
        for (size_t i = 0; i < m->num_feature; i++)
            free(m->names[i]);
    free(m->names);
    free(m);
}

size_t xgb_num_feature(const struct xgb_model *m) { return m->num_feature; }
size_t xgb_num_trees(const struct xgb_model *m) { return m->num_trees; }
size_t xgb_num_class(const struct xgb_model *m) { return m->num_class; }
const char *xgb_objective(const struct xgb_model *m) { return m->objective; }

const char *xgb_feature_name(const struct xgb_model *m, size_t i)
{
    return m->names && i < m->num_feature ? m->names[i] : NULL;
}

bool xgb_has_contribs(const struct xgb_model *m)
{
    return m->mean != NULL;
}
