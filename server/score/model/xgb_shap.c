/*
 * xgb_shap.c - feature contributions of XGBoost models (model_xgb.h):
 * Saabas path attribution and exact path-dependent TreeSHAP.
 *
 * Both use the node mean values of XGBoost 1.7 (FillNodeMeanValues: a
 * leaf's mean is its value, an inner node's the sum_hessian-weighted mean
 * of its children's, in float), put every tree's root mean into the bias
 * (the last entry of phi) and, after all trees, the base margin.  Only the
 * trees of the requested class take part.
 *
 * Saabas (xgb_contribs_approx*) replicates XGBoost 1.7's
 * predict(pred_contribs=True, approx_contribs=True) to the float: each
 * step from a node to the child x follows adds mean(child) - mean(node)
 * to the node's split feature; per-tree sums in float, added to float
 * totals tree by tree.  A leaf determines its path, so what a tree adds
 * is a function of the leaf x reaches: xgb_shap_build_terms tabulates it
 * at load (approx_tree's operations on every leaf's path) for
 * xgb_predict_approx_class (model_xgb.c), which then only adds terms.
 *
 * TreeSHAP (xgb_contribs_exact*) is Algorithm 2 of Lundberg, Erion & Lee,
 * "Consistent Individualized Feature Attribution for Tree Ensembles"
 * (arXiv:1802.03888), written from the paper, with cover = sum_hessian
 * and XGBoost's decision rule (missing -> default child, x < threshold ->
 * left).  The path of unique features is kept in float like XGBoost; the
 * feature contributions are summed in double, which differs from
 * XGBoost's float sums by float rounding only (~1e-6 at most;
 * divisions are replaced by products with reciprocals for speed).
 *
 * No heap: TreeSHAP's path copies live in one stack array of
 * XGB_SHAP_SCRATCH elements (~34 KB), bounded by XGB_MAX_DEPTH, which
 * the loader enforces.  The model is only read.
 */
#include "xgb_shap.h"

#include <stdlib.h>
#include <string.h>

/* ---- node mean values -------------------------------------------------------- */

/* Post-order; recursion depth is bounded by XGB_MAX_DEPTH (checked at
 * load).  H = 0 (never written by XGBoost) gives NaN or inf, no trap. */
static float node_mean(struct xgb_model *m, uint32_t i)
{
    const struct xgb_node *nd = &m->nodes[i];
    float result;
    if (nd->split & XGB_SPLIT_LEAF) {
        result = nd->value;
    } else {
        uint32_t l = nd->child[0], r = nd->child[1];
        float ml = node_mean(m, l), mr = node_mean(m, r);
        result = ml * m->hess[l];
        float rpart = mr * m->hess[r];
        result += rpart;
        result /= m->hess[i];
    }
    m->mean[i] = result;
    return result;
}

void xgb_shap_fill_means(struct xgb_model *m)
{
    for (size_t t = 0; t < m->num_trees; t++)
        node_mean(m, m->root[t]);
}

/* Common checks; zeroes phi.  Returns the class's tree range in *first,
 * *end, or -1 (phi untouched). */
static int contribs_begin(const struct xgb_model *m, const float *x, size_t cls,
                          double *phi, uint32_t *first, uint32_t *end)
{
    if (!m || !x || !phi || !m->mean || cls >= m->num_class)
        return -1;
    memset(phi, 0, (m->num_feature + 1) * sizeof *phi);
    *first = m->class_start[cls];
    *end = m->class_start[cls + 1];
    return 0;
}

/* Bias of tree root r added to the float total phi[nf], as XGBoost does. */
static void add_bias(const struct xgb_model *m, uint32_t r, double *phi)
{
    size_t nf = m->num_feature;
    phi[nf] = (float)phi[nf] + m->mean[r];
}

/* ---- Saabas ------------------------------------------------------------------ */

/* Tree t's path attribution for x, summed per feature in float, then each
 * sum added to its float total in phi.  path_parts below repeats these
 * operations for the Saabas table: keep the two in step. */
static void approx_tree(const struct xgb_model *m, uint32_t t, const float *x,
                        double *phi)
{
    const struct xgb_node *nodes = m->nodes;
    uint32_t feat[XGB_MAX_DEPTH], n = m->root[t], split = 0;
    float part[XGB_MAX_DEPTH];
    unsigned used = 0, k = 0;
    add_bias(m, n, phi);
    if (nodes[n].split & XGB_SPLIT_LEAF)
        return;
    float node_value = m->mean[n];
    while (!(nodes[n].split & XGB_SPLIT_LEAF)) {
        split = nodes[n].split & XGB_SPLIT_FEATURE;
        n = xgb_node_next(&nodes[n], x);
        float new_value = m->mean[n];
        for (k = 0; k < used && feat[k] != split; k++)
            ;
        if (k == used) {
            feat[used] = split;
            part[used++] = 0;
        }
        part[k] += new_value - node_value;
        node_value = new_value;
    }
    part[k] += nodes[n].value - node_value;    /* k: the last split's slot */
    for (k = 0; k < used; k++)
        phi[feat[k]] = (float)phi[feat[k]] + part[k];
}

int xgb_contribs_approx_class(const struct xgb_model *m, const float *x, size_t cls,
                              double *phi)
{
    uint32_t i, end;
    if (contribs_begin(m, x, cls, phi, &i, &end))
        return -1;
    for (; i < end; i++)
        approx_tree(m, m->class_trees[i], x, phi);
    phi[m->num_feature] = (float)phi[m->num_feature] + m->base_margin;
    return 0;
}

int xgb_contribs_approx(const struct xgb_model *m, const float *x, double *phi)
{
    return xgb_contribs_approx_class(m, x, 0, phi);
}

/* ---- Saabas table (xgb_predict_approx_class) ----------------------------------- */

/* approx_tree's sums for the path p[0 .. len) from the root to a leaf: the
 * distinct split features in the order met into feat[], their float sums
 * into part[]; returns how many.  The same float operations in the same
 * order as approx_tree (keep the two in step: tests/unit/test_xgb_fused.c compares
 * them bit for bit). */
static unsigned path_parts(const struct xgb_model *m, const uint32_t *p, unsigned len,
                           uint32_t *feat, float *part)
{
    const struct xgb_node *nodes = m->nodes;
    uint32_t n = p[0], split;
    unsigned used = 0, k = 0;
    if (len < 2)                                   /* the root is a leaf */
        return 0;
    float node_value = m->mean[n];
    for (unsigned s = 1; s < len; s++) {
        split = nodes[n].split & XGB_SPLIT_FEATURE;
        n = p[s];
        float new_value = m->mean[n];
        for (k = 0; k < used && feat[k] != split; k++)
            ;
        if (k == used) {
            feat[used] = split;
            part[used++] = 0;
        }
        part[k] += new_value - node_value;
        node_value = new_value;
    }
    part[k] += nodes[n].value - node_value;    /* k: the last split's slot */
    return used;
}

/* State of one table pass over a tree: counting (fill 0: leaves, widest
 * leaf) or filling (terms from `next`, `width` per leaf). */
struct terms_walk {
    struct xgb_model *m;
    int      fill;
    size_t   leaves, next;
    unsigned width, pad;                   /* pad: next padding slot */
    uint32_t path[XGB_MAX_DEPTH + 1];
    uint32_t feat[XGB_MAX_DEPTH];
    float    part[XGB_MAX_DEPTH];
};

/* Node i at depth d and its subtree; recursion depth <= XGB_MAX_DEPTH. */
static void terms_visit(struct terms_walk *w, uint32_t i, unsigned d)
{
    struct xgb_model *m = w->m;
    const struct xgb_node *nd = &m->nodes[i];
    w->path[d] = i;
    if (!(nd->split & XGB_SPLIT_LEAF)) {
        terms_visit(w, nd->child[0], d + 1);
        terms_visit(w, nd->child[1], d + 1);
        return;
    }
    unsigned used = path_parts(m, w->path, d + 1, w->feat, w->part);
    if (!w->fill) {
        w->leaves++;
        w->width = used > w->width ? used : w->width;
        return;
    }
    struct xgb_term *tm = &m->terms[w->next];
    m->leaf_terms[i] = (uint32_t)w->next;
    for (unsigned j = 0; j < w->width; j++) {
        if (j < used) {
            tm[j].feature = w->feat[j];
            tm[j].part = w->part[j];
        } else {                 /* spread over the scratch slots: no chain */
            tm[j].feature = (uint32_t)m->num_feature + w->pad++ % XGB_TERMS_PAD;
            tm[j].part = -0.0f;
        }
    }
    w->next += w->width;
}

int xgb_shap_build_terms(struct xgb_model *m)
{
    struct terms_walk w = { .m = m };
    size_t total = 0;
    if (!m->mean || m->num_feature > XGB_FUSED_MAX_FEATURES)
        return 0;
    if (!(m->tree_terms = malloc(m->num_trees)))
        return -1;
    for (size_t t = 0; t < m->num_trees; t++) {
        w.leaves = 0;
        w.width = 0;
        terms_visit(&w, m->root[t], 0);
        m->tree_terms[t] = (uint8_t)w.width;
        total += w.leaves * w.width;
    }
    if (total > (size_t)XGB_TERMS_PER_NODE * m->num_nodes) {
        free(m->tree_terms);                       /* too large: no table */
        m->tree_terms = NULL;
        return 0;
    }
    m->terms = malloc((total ? total : 1) * sizeof *m->terms);
    m->leaf_terms = calloc(m->num_nodes, sizeof *m->leaf_terms);
    m->class_bias = malloc(m->num_class * sizeof *m->class_bias);
    if (!m->terms || !m->leaf_terms || !m->class_bias)
        return -1;
    w.fill = 1;
    for (size_t t = 0; t < m->num_trees; t++) {
        w.width = m->tree_terms[t];
        terms_visit(&w, m->root[t], 0);
    }
    /* The bias as contribs_begin, add_bias and the end of
     * xgb_contribs_approx_class make it: float sums from 0 in class order. */
    for (size_t c = 0; c < m->num_class; c++) {
        float bias = 0;
        for (uint32_t i = m->class_start[c]; i < m->class_start[c + 1]; i++)
            bias = bias + m->mean[m->root[m->class_trees[i]]];
        m->class_bias[c] = bias + m->base_margin;
    }
    return 0;
}

/* ---- TreeSHAP ---------------------------------------------------------------- */

/* One entry m_i of the paper's path of unique features.  `weight` is
 * indexed by position, not by feature: weight[i] is the weight of the
 * subsets of size i of the path's features. */
struct shap_elem {
    uint32_t feature;    /* XGB_NO_FEATURE for the root's placeholder */
    float    zero;       /* z: share of cover flowing this way (x unknown) */
    float    one;        /* o: 1 if x goes this way, else 0 */
    float    weight;     /* w */
};

#define XGB_NO_FEATURE   UINT32_MAX
/* A node at depth d holds a path of at most d + 1 entries and each level
 * of the recursion copies its parent's path after the parent's, so all
 * copies fit in 1 + 2 + ... + (XGB_MAX_DEPTH + 1) entries. */
#define XGB_SHAP_SCRATCH ((XGB_MAX_DEPTH + 1) * (XGB_MAX_DEPTH + 2) / 2)

/* State of one TreeSHAP call, on the caller's stack. */
struct shap_walk {
    const struct xgb_model *m;
    const float *x;
    double *phi;                          /* borrowed: the caller's output */
    float inv[XGB_MAX_DEPTH + 2];         /* inv[k] = 1 / k: no divisions in
                                             the inner loops */
    struct shap_elem path[XGB_SHAP_SCRATCH];
};

/* EXTEND: appends (f, pz, po) to the path p of len entries and grows the
 * subset weights by one feature that is "on" with probability po and
 * "off" with pz. */
static void path_extend(const struct shap_walk *s, struct shap_elem *p, unsigned len,
                        float pz, float po, uint32_t f)
{
    float scale = s->inv[len + 1];
    p[len].feature = f;
    p[len].zero = pz;
    p[len].one = po;
    p[len].weight = len == 0 ? 1.0f : 0.0f;
    for (unsigned i = len; i-- > 0;) {
        p[i + 1].weight += po * p[i].weight * (float)(i + 1) * scale;
        p[i].weight = pz * p[i].weight * (float)(len - i) * scale;
    }
}

/* Subset weights of the path of len entries with entry k taken out
 * (EXTEND run backwards) into w[0 .. len - 2] if w is not NULL; returns
 * their sum, sum(UNWIND(path, k).w).  The loop-carried chain is one
 * multiply, one multiply-subtract: the factors are computed off it. */
static float path_unwound(const struct shap_walk *s, const struct shap_elem *p,
                          unsigned len, unsigned k, float *w)
{
    unsigned n = len - 1;                 /* entries left */
    float po = p[k].one, pz = p[k].zero, sum = 0, wj;
    float up = (float)(n + 1), down = s->inv[n + 1];
    if (po != 0) {
        float carry = p[n].weight, up_po = up / po, pz_down = pz * down;
        for (unsigned j = n; j-- > 0;) {
            wj = carry * (up_po * s->inv[j + 1]);
            carry = p[j].weight - wj * (pz_down * (float)(n - j));
            sum += wj;
            if (w)
                w[j] = wj;
        }
    } else {
        float up_pz = up / pz;
        for (unsigned j = n; j-- > 0;) {
            wj = p[j].weight * (up_pz * s->inv[n - j]);
            sum += wj;
            if (w)
                w[j] = wj;
        }
    }
    return sum;
}

/* UNWIND: removes entry k from the path of len entries, in place. */
static void path_unwind(const struct shap_walk *s, struct shap_elem *p, unsigned len,
                        unsigned k)
{
    float w[XGB_MAX_DEPTH + 1];
    path_unwound(s, p, len, k, w);
    for (unsigned j = 0; j + 1 < len; j++)
        p[j].weight = w[j];
    for (unsigned j = k; j + 1 < len; j++) {
        p[j].feature = p[j + 1].feature;
        p[j].zero = p[j + 1].zero;
        p[j].one = p[j + 1].one;
    }
}

/* At a leaf of value v: each feature i on the path gets
 * sum(UNWIND(path, i).w) * (o_i - z_i) * v. */
static void shap_leaf(struct shap_walk *s, const struct shap_elem *p, unsigned len,
                      float v)
{
    for (unsigned i = 1; i < len; i++) {
        float sum = path_unwound(s, p, len, i, NULL);
        s->phi[p[i].feature] += sum * (p[i].one - p[i].zero) * v;
    }
}

/* RECURSE(node, path, pz, po, pf): path points at this level's copy; the
 * parent's path (len entries) ends right before it. */
static void shap_recurse(struct shap_walk *s, uint32_t node, struct shap_elem *path,
                         unsigned len, float pz, float po, uint32_t pf)
{
    const struct xgb_model *m = s->m;
    const struct xgb_node *nd = &m->nodes[node];
    if (len)
        memcpy(path, path - len, len * sizeof *path);
    path_extend(s, path, len, pz, po, pf);
    len++;
    if (nd->split & XGB_SPLIT_LEAF) {
        shap_leaf(s, path, len, nd->value);
        return;
    }
    uint32_t f = nd->split & XGB_SPLIT_FEATURE;
    uint32_t hot = xgb_node_next(nd, s->x);
    uint32_t cold = nd->child[hot == nd->child[0]];
    float iz = 1, io = 1;
    for (unsigned k = 1; k < len; k++)
        if (path[k].feature == f) {       /* seen above: undo, then redo here */
            iz = path[k].zero;
            io = path[k].one;
            path_unwind(s, path, len, k);
            len--;
            break;
        }
    float cover = m->hess[node];
    shap_recurse(s, hot, path + len, len, m->hess[hot] / cover * iz, io, f);
    shap_recurse(s, cold, path + len, len, m->hess[cold] / cover * iz, 0, f);
}

int xgb_contribs_exact_class(const struct xgb_model *m, const float *x, size_t cls,
                             double *phi)
{
    uint32_t i, end;
    if (contribs_begin(m, x, cls, phi, &i, &end))
        return -1;
    struct shap_walk s;
    s.m = m;
    s.x = x;
    s.phi = phi;
    s.inv[0] = 0;
    for (unsigned k = 1; k < XGB_MAX_DEPTH + 2; k++)
        s.inv[k] = 1.0f / (float)k;
    for (; i < end; i++) {
        uint32_t r = m->root[m->class_trees[i]];
        add_bias(m, r, phi);
        shap_recurse(&s, r, s.path, 0, 1.0f, 1.0f, XGB_NO_FEATURE);
    }
    phi[m->num_feature] = (float)phi[m->num_feature] + m->base_margin;
    return 0;
}

int xgb_contribs_exact(const struct xgb_model *m, const float *x, double *phi)
{
    return xgb_contribs_exact_class(m, x, 0, phi);
}
