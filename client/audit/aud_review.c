/*
 * aud_review.c - the one check of a four-eyes REVIEW extension (000C,
 * proto/AUDIT-FORMAT.md §3.4) that `verify`, `summary` and `drift` share:
 * its body decodes strictly (k in 1..n, n in 2..5, no unknown flag), it sits
 * on a human verdict entry (HUMAN_DECISION / HUMAN_OVERRIDE) next to a
 * VERDICT, and a FINAL verdict is the n-th (k = n).  A REVIEW that breaks
 * any of these makes its entry BAD_ENTRY, as a malformed extension of the
 * record codec does.
 */
#include <string.h>

#include "aud.h"
#include "record_ext.h"

/* BAD_ENTRY at rec's index with the shared wording. */
static enum aud_class
aud_review_bad(const struct record *rec, const char *why, struct aud_result *r)
{
    return aud_fail_at(r, AUD_BAD_ENTRY, rec->index, "entry %llu: extension 000c (REVIEW) "
                       "%s (proto/AUDIT-FORMAT.md §3.4)", (unsigned long long)rec->index, why);
}

enum aud_class
aud_review_check(const struct record *rec, struct aud_review *out, struct aud_result *r)
{
    struct record_ext_review rv;
    const struct record_ext *x = NULL;
    bool verdict = false;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < rec->ext_count; i++) {
        if (rec->ext[i].type == RECORD_EXT_REVIEW)
            x = &rec->ext[i];
        verdict |= rec->ext[i].type == RECORD_EXT_VERDICT;
    }
    if (x == NULL)
        return AUD_OK;
    if (record_ext_review_decode(x->data, x->len, &rv) != RECORD_OK)
        return aud_review_bad(rec, "does not decode (k in 1..n, n in 2..5, flags bits 0-1)",
                              r);
    if ((rec->record_type != RECORD_HUMAN_DECISION &&
         rec->record_type != RECORD_HUMAN_OVERRIDE) || !verdict)
        return aud_review_bad(rec, "is not on a human verdict entry with a VERDICT", r);
    if ((rv.flags & RECORD_REVIEW_FLAG_FINAL) && rv.k != rv.n)
        return aud_review_bad(rec, "is FINAL but not the n-th verdict", r);
    out->present = true;
    out->k = rv.k;
    out->n = rv.n;
    out->shown = (rv.flags & RECORD_REVIEW_FLAG_SHOWN) != 0;
    out->final = (rv.flags & RECORD_REVIEW_FLAG_FINAL) != 0;
    return AUD_OK;
}
