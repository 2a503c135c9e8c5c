/*
 * xgb_shap.h - private to server/model_xgb.c and server/xgb_shap.c: the
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

#define XGB_SPLIT_FEATURE 0x3fffffffu   /* split feature index (0 in leaves) */
#define XGB_SPLIT_LEAF    0x40000000u   /* node is a leaf */
#define XGB_SPLIT_DLEFT   0x80000000u   /* missing value goes left */

struct xgb_node {
    float    value;      /* inner: threshold (x < value goes left); leaf: leaf value */
    uint32_t split;      /* feature | XGB_SPLIT_LEAF | XGB_SPLIT_DLEFT */
    uint32_t child[2];   /* absolute left, right; a leaf's are its own index */
};

enum xgb_link { XGB_IDENTITY, XGB_LOGISTIC, XGB_SOFTMAX };

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

#endif
