/*
 * xgb_shap.h - private to server/score/model/model_xgb.c and server/score/model/xgb_shap.c: the
 * in-memory layout of a loaded XGBoost model and the one load-time hook
 * of the contribution code.  Nothing outside those two files may include
 * it; the public API is model_xgb.h.
 *
 * Layout: every node of every tree is one 16-byte struct xgb_node in one
 * array (trees one after the other, child indices absolute).  A leaf's
 * children both point at the leaf itself, so walking a tree for exactly
 * its depth always ends on the right leaf without a leaf test (the
 * branch-free loop of xgb_node_next).  The model is read-only after
 * xgb_load returns, so any number of threads may evaluate it at once.
 */
#ifndef HITLQ_XGB_SHAP_H
#define HITLQ_XGB_SHAP_H

#include <stddef.h>
#include <stdint.h>

#include "model_xgb.h"

#define XGB_MAX_DEPTH    64          /* deepest leaf, in edges from the root */
#define XGB_MAX_NODES    (1u << 26)
#define XGB_MAX_FEATURES (1u << 24)  /* fits XGB_SPLIT_FEATURE */
#define XGB_MAX_CLASS    1024        /* bounds predict's stack array */
#define XGB_FUSED_MAX_FEATURES 2048u /* bounds xgb_predict_approx_class's stack
                                        scratch: wider models have no Saabas
                                        table (m->terms NULL) */
#define XGB_TERMS_PAD    64u         /* scratch slots the padding terms go to */
#define XGB_TERMS_PER_NODE 8u        /* no table if it would need more terms
                                        than this times num_nodes */

#define XGB_SPLIT_FEATURE 0x3fffffffu   /* split feature index (0 in leaves) */
#define XGB_SPLIT_LEAF    0x40000000u   /* node is a leaf */
#define XGB_SPLIT_DLEFT   0x80000000u   /* missing value goes left */

struct xgb_node {
    float    value;      /* inner: threshold (x < value goes left); leaf: leaf value */
    uint32_t split;      /* feature | XGB_SPLIT_LEAF | XGB_SPLIT_DLEFT */
    uint32_t child[2];   /* absolute left, right; a leaf's are its own index */
};

enum xgb_link { XGB_IDENTITY, XGB_LOGISTIC, XGB_SOFTMAX };

/* One precomputed Saabas term of a leaf (xgb_shap_build_terms): what
 * approx_tree adds to one feature's total when x reaches that leaf. */
struct xgb_term {
    uint32_t feature;    /* < num_feature; padding: num_feature + j, j <
                            XGB_TERMS_PAD (a scratch slot, never a feature) */
    float    part;       /* the feature's float sum over the path; padding:
                            -0.0f, which leaves any float unchanged */
};

/* Every pointer is owned by the model and freed by xgb_free. */
struct xgb_model {
    size_t    num_feature;
    size_t    num_trees;
    size_t    num_nodes;      /* all trees */
    size_t    num_class;      /* 1 for single-output objectives */
    float     base_margin;    /* added to every class's margin */
    enum xgb_link link;
    char      objective[32];
    struct xgb_node *nodes;   /* num_nodes */
    uint32_t *root;           /* num_trees: index of each tree's root */
    uint8_t  *depth;          /* num_trees: depth of the deepest leaf */
    uint32_t *tree_class;     /* num_trees: tree_info, the class of each tree */
    uint32_t *class_trees;    /* num_trees: tree indices grouped by class, each
                                 group in model order */
    uint32_t *class_start;    /* num_class + 1: class c's trees are
                                 class_trees[class_start[c] .. class_start[c+1]) */
    float    *hess;           /* num_nodes: sum_hessian (cover), or NULL when
                                 some tree has none (no contributions then) */
    float    *mean;           /* num_nodes: node mean values; NULL with hess */
    /* Saabas table (xgb_shap_build_terms) for xgb_predict_approx_class;
     * all NULL without mean values, with more than XGB_FUSED_MAX_FEATURES
     * features or more than XGB_TERMS_PER_NODE * num_nodes terms. */
    struct xgb_term *terms;   /* every leaf's terms, tree_terms[t] per leaf of
                                 tree t: its path's distinct split features in
                                 the order approx_tree meets them, then padding */
    uint32_t *leaf_terms;     /* num_nodes: a leaf's first term (0 for inner
                                 nodes) */
    uint8_t  *tree_terms;     /* num_trees: terms per leaf of each tree, the
                                 most distinct split features on one path */
    float    *class_bias;     /* num_class: phi[num_feature] of
                                 xgb_contribs_approx_class for that class, a
                                 constant (root means and base margin) */
    char    **names;          /* num_feature, or NULL if the model has none */
};

/* Child of inner node nd that x follows: missing (NaN) takes the default
 * side, otherwise x < threshold goes left.  Branch-free; on a leaf it
 * returns the leaf. */
static inline uint32_t xgb_node_next(const struct xgb_node *nd, const float *x)
{
    float v = x[nd->split & XGB_SPLIT_FEATURE];
    unsigned missing = v != v;                        /* NaN */
    unsigned go_right = !(v < nd->value);             /* also 1 for NaN */
    go_right ^= missing & (nd->split >> 31);
    return nd->child[go_right];
}

/* Fills m->mean from m->hess and the leaf values (XGBoost 1.7's node mean
 * values, in float).  Called once by the loader after every tree is in. */
void xgb_shap_fill_means(struct xgb_model *m);

/* Builds m->terms, leaf_terms, tree_terms and class_bias from the node
 * means (after xgb_shap_fill_means), computing each leaf's terms with
 * approx_tree's own float operations on the leaf's path, so that adding
 * a leaf's terms to float totals gives approx_tree's totals bit for bit.
 * Leaves the table NULL (returns 0) when the model has no means or when
 * it is too large (see struct xgb_model); returns -1 if out of memory. */
int xgb_shap_build_terms(struct xgb_model *m);

#endif
