/*
 * explain.h - exact explanations when a human looks at an item
 * (explain.c).  Exact TreeSHAP costs ~100x a prediction, so SUBMIT never
 * pays it for a tree model (unless the policy's explain.auto is "exact"):
 * the decision and its audit entry carry the path-attribution reasons, and
 * the exact ones are computed from the same model and the same stored
 * input when a specialist CLAIMs the item (explain.review, default
 * "exact"), or when GET asks for them.
 */
#ifndef HITLQ_EXPLAIN_H
#define HITLQ_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

struct scoring;

/* Rewrites an item summary (a CLAIM reply or GET body: a msgpack map with
 * type, model, fields, reasons, explain) with exact contributions when
 * `force` or the type's explain_review is exact, the item's model is the
 * type's current model (same id) and a tree, and its reasons are not
 * exact yet.  Rule reasons are kept in front.  Returns 1 and a malloc'd
 * map in *out (caller frees) when rewritten, 0 when nothing was to be
 * done, -1 on a malformed summary or no memory. */
int explain_summary(const struct scoring *sc, const uint8_t *mp, size_t len, int force,
                    uint8_t **out, size_t *out_len);

/* Sorts a reasons array (msgpack bytes arr[0..len), as SUBMIT, GET and
 * CLAIM carry it) into the one order every reply uses: the rule maps
 * first, in their order; then the feature maps by |contribution|
 * descending, then feature name (bytewise), then their order.  The
 * elements are copied byte for byte into out (len bytes).  0, or -1 when
 * arr is not such an array (of at most 256 elements). */
int explain_sort_reasons(const uint8_t *arr, size_t len, uint8_t *out);

#endif
