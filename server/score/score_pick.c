/*
 * score_pick.c - which of a model's per-input contributions become an
 * item's reasons, and in which order (score_pick_reasons, score.h): the
 * HITLQ_MAX_REASONS present inputs with the largest |contribution| and
 * every missing input (they make the result incomplete), all ordered by
 * |contribution| descending, then input name (bytewise), as every reply
 * orders reasons (explain_sort_reasons).  Shared by the scorecard and the
 * tree models.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"

#define SCORE_PICK_STACK 64u     /* inputs sorted without malloc */

struct score_pick {
    double      mag;
    const char *name;
    size_t      idx;
};

static int
score_pick_cmp(const void *pa, const void *pb)
{
    const struct score_pick *a = pa, *b = pb;
    int c;

    if (a->mag != b->mag)
        return a->mag > b->mag ? -1 : 1;
    if ((c = strcmp(a->name, b->name)) != 0)
        return c;
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

void
score_pick_reasons(struct score_result *out, size_t n, const double *phi,
                   const msgpack_object *const *vals, const bool *missing,
                   const char *const *names)
{
    struct score_pick small[2 * SCORE_PICK_STACK], *pres = small, *sel;
    size_t np = 0, ns = 0;

    if (n > SCORE_MAX_INPUTS)
        n = SCORE_MAX_INPUTS;
    if (n > SCORE_PICK_STACK && (pres = malloc(2 * n * sizeof(*pres))) == NULL) {
        n = SCORE_PICK_STACK;          /* no memory: the first inputs only */
        pres = small;
    }
    sel = pres + (n > SCORE_PICK_STACK ? n : SCORE_PICK_STACK);
    for (size_t i = 0; i < n; i++) {
        struct score_pick p = { fabs(phi[i]), names[i], i };

        if (missing[i])
            sel[ns++] = p;
        else
            pres[np++] = p;
    }
    /* cppcheck-suppress uninitvar ; the loop above set pres[0..np) */
    qsort(pres, np, sizeof(pres[0]), score_pick_cmp);
    for (size_t i = 0; i < np && i < HITLQ_MAX_REASONS; i++)
        sel[ns++] = pres[i];
    qsort(sel, ns, sizeof(sel[0]), score_pick_cmp);
    for (size_t k = 0; k < ns; k++) {
        struct score_reason *r = &out->reasons[k];

        r->feature = names[sel[k].idx];
        r->code = (uint16_t)(sel[k].idx + 1);
        r->value = vals[sel[k].idx];
        r->contribution = phi[sel[k].idx];
        r->missing = missing[sel[k].idx];
    }
    out->n_reasons = ns;
    if (pres != small)
        free(pres);
}
