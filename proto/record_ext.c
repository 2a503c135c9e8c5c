/*
 * record_ext.c - encoders and strict decoders of the AXR1 extension bodies
 * (proto/AUDIT-FORMAT.md §3.4; API and error rules in record_ext.h), and
 * record_ext_check, the body check proto/record.c makes on every
 * extension.  No I/O, no allocation.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "record_ext.h"
#include "record_int.h"

/* ---- bounded writer ---------------------------------------------------- */

/* Writes into out[0..cap) while the body fits; n counts what the body needs
 * in any case, so the size check comes once, at the end (ext_w_done). */
struct ext_w {
    uint8_t *out;
    size_t   cap, n;
    bool     full;          /* some byte did not fit */
    int      err;           /* first bad field, RECORD_OK if none */
};

static void
w_fail(struct ext_w *w, int code)
{
    if (w->err == RECORD_OK)
        w->err = code;
}

static void
w_put(struct ext_w *w, const void *src, size_t k)
{
    if (w->out != NULL && !w->full && w->n + k <= w->cap) {
        if (k > 0)
            memcpy(w->out + w->n, src, k);
    } else {
        w->full = true;
    }
    w->n += k;
}

static void
w_be(struct ext_w *w, uint64_t v, unsigned k)
{
    uint8_t b[8];

    for (unsigned i = 0; i < k; i++)
        b[i] = (uint8_t)(v >> (8 * (k - 1 - i)));
    w_put(w, b, k);
}

static void
w_u8(struct ext_w *w, uint8_t v)
{
    w_put(w, &v, 1);
}

/* f64: finite and not -0 (the decoder refuses both). */
static void
w_f64(struct ext_w *w, double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    if (!isfinite(d) || u == UINT64_C(0x8000000000000000))
        w_fail(w, RECORD_ERR_EXT_BODY);
    w_be(w, u, 8);
}

/* Raw bytes of a field whose length the format fixes or gives elsewhere. */
static void
w_raw(struct ext_w *w, const struct record_ext_bytes *b)
{
    if (b->data == NULL && b->len > 0)
        w_fail(w, RECORD_ERR_INVAL);
    else
        w_put(w, b->data, b->len);
}

/* opaque<min..255>. */
static void
w_opaque(struct ext_w *w, const struct record_ext_bytes *b, size_t min)
{
    if (b->len < min || b->len > RECORD_EXT_STR_MAX) {
        w_fail(w, RECORD_ERR_EXT_BODY);
        return;
    }
    w_u8(w, (uint8_t)b->len);
    w_raw(w, b);
}

static int
w_begin(struct ext_w *w, const void *in, uint8_t *out, size_t cap, const size_t *len)
{
    *w = (struct ext_w){ .out = out, .cap = cap, .err = RECORD_OK };
    return (in == NULL || len == NULL) ? RECORD_ERR_INVAL : RECORD_OK;
}

/* The encoder's result: a bad field, then the u16 data bound, then room. */
static int
w_done(struct ext_w *w, size_t *len)
{
    if (w->err != RECORD_OK)
        return w->err;
    if (w->n > RECORD_EXT_DATA_MAX)
        return RECORD_ERR_EXT_BODY;
    if (w->full)
        return RECORD_ERR_BUFFER;
    *len = w->n;
    return RECORD_OK;
}

/* ---- reader helpers ------------------------------------------------------ */

static int
rd_begin(struct record_rd *rd, const uint8_t *data, size_t len, const void *out)
{
    rd->p = data;
    rd->left = len;
    return (out == NULL || (data == NULL && len > 0)) ? RECORD_ERR_INVAL : RECORD_OK;
}

/* A decoder's result: every take succeeded and nothing is left over. */
static int
rd_done(const struct record_rd *rd, int rc)
{
    return (rc == RECORD_OK && rd->left == 0) ? RECORD_OK : RECORD_ERR_EXT_BODY;
}

/* opaque<min..255>, borrowed. */
static int
rd_opaque(struct record_rd *rd, size_t min, struct record_ext_bytes *b)
{
    uint8_t n;
    int rc = rd_u8(rd, &n);

    if (rc != RECORD_OK)
        return rc;
    if (n < min)
        return RECORD_ERR_EXT_BODY;
    b->len = n;
    return rd_skip(rd, n, &b->data);
}

/* u8 that must lie in [lo, hi]. */
static int
rd_u8_in(struct record_rd *rd, uint8_t *v, unsigned lo, unsigned hi)
{
    int rc = rd_u8(rd, v);

    if (rc != RECORD_OK)
        return rc;
    return (*v >= lo && *v <= hi) ? RECORD_OK : RECORD_ERR_EXT_BODY;
}

/* ---- 0001 TOP_FEATURES --------------------------------------------------- */

int
record_ext_top_features_encode(const struct record_ext_top_features *in, uint8_t *out,
                               size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_u8(&w, in->n);
    for (unsigned i = 0; i < in->n; i++) {
        w_opaque(&w, &in->f[i].name, 1);
        w_f64(&w, in->f[i].value);
        w_f64(&w, in->f[i].contribution);
    }
    return w_done(&w, len);
}

int
record_ext_top_features_decode(const uint8_t *data, size_t len,
                               struct record_ext_top_features *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    rc = rd_u8(&rd, &out->n);
    for (unsigned i = 0; rc == RECORD_OK && i < out->n; i++) {
        struct record_ext_feature *f = &out->f[i];

        if ((rc = rd_opaque(&rd, 1, &f->name)) == RECORD_OK &&
            (rc = rd_f64(&rd, &f->value)) == RECORD_OK)
            rc = rd_f64(&rd, &f->contribution);
    }
    return rd_done(&rd, rc);
}

/* ---- 0002 QUEUE_REF, 0003 SUBMISSION, 0004 LATENCY ----------------------- */

int
record_ext_queue_ref_encode(const struct record_ext_queue_ref *in, uint8_t *out,
                            size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_opaque(&w, &in->queue, 1);
    w_u8(&w, in->priority);
    w_be(&w, in->sla_deadline_ms, 8);
    return w_done(&w, len);
}

int
record_ext_queue_ref_decode(const uint8_t *data, size_t len, struct record_ext_queue_ref *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_opaque(&rd, 1, &out->queue)) == RECORD_OK &&
        (rc = rd_u8(&rd, &out->priority)) == RECORD_OK)
        rc = rd_be(&rd, &out->sla_deadline_ms, 8);
    return rd_done(&rd, rc);
}

int
record_ext_submission_encode(const struct record_ext_submission *in, uint8_t *out,
                             size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_opaque(&w, &in->bot_id, 1);
    w_opaque(&w, &in->request_id, 1);
    w_be(&w, in->submitted_ms, 8);
    return w_done(&w, len);
}

int
record_ext_submission_decode(const uint8_t *data, size_t len,
                             struct record_ext_submission *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_opaque(&rd, 1, &out->bot_id)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 1, &out->request_id)) == RECORD_OK)
        rc = rd_be(&rd, &out->submitted_ms, 8);
    return rd_done(&rd, rc);
}

int
record_ext_latency_encode(const struct record_ext_latency *in, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_be(&w, in->scoring_us, 4);
    return w_done(&w, len);
}

int
record_ext_latency_decode(const uint8_t *data, size_t len, struct record_ext_latency *out)
{
    struct record_rd rd;
    uint64_t v = 0;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    rc = rd_be(&rd, &v, 4);
    out->scoring_us = (uint32_t)v;
    return rd_done(&rd, rc);
}

/* ---- 0005 OUTCOME, 0006 SCORING, 0007 RULES (hitlq) ---------------------- */

int
record_ext_outcome_encode(const struct record_ext_outcome *in, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_opaque(&w, &in->outcome, 1);
    w_opaque(&w, &in->recommendation, 0);
    if (in->agreement > RECORD_AGREE_OVERRODE)
        w_fail(&w, RECORD_ERR_EXT_BODY);
    w_u8(&w, in->agreement);
    return w_done(&w, len);
}

int
record_ext_outcome_decode(const uint8_t *data, size_t len, struct record_ext_outcome *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_opaque(&rd, 1, &out->outcome)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 0, &out->recommendation)) == RECORD_OK)
        rc = rd_u8_in(&rd, &out->agreement, RECORD_AGREE_NONE, RECORD_AGREE_OVERRODE);
    return rd_done(&rd, rc);
}

int
record_ext_scoring_encode(const struct record_ext_scoring *in, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->method > RECORD_METHOD_TREESHAP || in->route < RECORD_ROUTE_AUTO_APPROVE ||
        in->route > RECORD_ROUTE_DATA_QUALITY)
        w_fail(&w, RECORD_ERR_EXT_BODY);
    w_u8(&w, in->method);
    w_u8(&w, in->route);
    w_u8(&w, in->flags);
    w_f64(&w, in->margin);
    w_f64(&w, in->base_value);
    return w_done(&w, len);
}

int
record_ext_scoring_decode(const uint8_t *data, size_t len, struct record_ext_scoring *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_u8_in(&rd, &out->method, RECORD_METHOD_NONE,
                       RECORD_METHOD_TREESHAP)) == RECORD_OK &&
        (rc = rd_u8_in(&rd, &out->route, RECORD_ROUTE_AUTO_APPROVE,
                       RECORD_ROUTE_DATA_QUALITY)) == RECORD_OK &&
        (rc = rd_u8(&rd, &out->flags)) == RECORD_OK &&
        (rc = rd_f64(&rd, &out->margin)) == RECORD_OK)
        rc = rd_f64(&rd, &out->base_value);
    return rd_done(&rd, rc);
}

int
record_ext_rules_encode(const struct record_ext_rules *in, uint8_t *out, size_t cap,
                        size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->n > RECORD_EXT_RULE_COUNT_MAX) {
        w_fail(&w, RECORD_ERR_EXT_BODY);
        return w_done(&w, len);
    }
    w_u8(&w, in->n);
    for (unsigned i = 0; i < in->n; i++) {
        if (in->rule[i].kind != RECORD_RULE_VALIDATION && in->rule[i].kind != RECORD_RULE_HARD)
            w_fail(&w, RECORD_ERR_EXT_BODY);
        w_u8(&w, in->rule[i].kind);
        w_opaque(&w, &in->rule[i].id, 1);
    }
    return w_done(&w, len);
}

int
record_ext_rules_decode(const uint8_t *data, size_t len, struct record_ext_rules *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    rc = rd_u8_in(&rd, &out->n, 0, RECORD_EXT_RULE_COUNT_MAX);
    for (unsigned i = 0; rc == RECORD_OK && i < out->n; i++) {
        if ((rc = rd_u8_in(&rd, &out->rule[i].kind, RECORD_RULE_VALIDATION,
                           RECORD_RULE_HARD)) == RECORD_OK)
            rc = rd_opaque(&rd, 1, &out->rule[i].id);
    }
    return rd_done(&rd, rc);
}

/* ---- 0008 RECOMMENDATION, 0009 VERDICT (hitlq, format v2) ---------------- */

int
record_ext_recommendation_encode(const struct record_ext_recommendation *in, uint8_t *out,
                                 size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_opaque(&w, &in->recommendation, 0);
    w_f64(&w, in->lean_threshold);
    w_f64(&w, in->auto_threshold);
    w_f64(&w, in->reject_threshold);
    if ((in->flags & ~RECORD_REC_FLAGS_ALL) != 0)
        w_fail(&w, RECORD_ERR_EXT_BODY);
    w_u8(&w, in->flags);
    return w_done(&w, len);
}

int
record_ext_recommendation_decode(const uint8_t *data, size_t len,
                                 struct record_ext_recommendation *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_opaque(&rd, 0, &out->recommendation)) == RECORD_OK &&
        (rc = rd_f64(&rd, &out->lean_threshold)) == RECORD_OK &&
        (rc = rd_f64(&rd, &out->auto_threshold)) == RECORD_OK &&
        (rc = rd_f64(&rd, &out->reject_threshold)) == RECORD_OK)
        rc = rd_u8_in(&rd, &out->flags, 0, RECORD_REC_FLAGS_ALL);
    return rd_done(&rd, rc);
}

int
record_ext_verdict_encode(const struct record_ext_verdict *in, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_opaque(&w, &in->outcome, 1);
    w_opaque(&w, &in->recommendation, 0);
    if (in->agreement > RECORD_AGREE_NOT_COMPARABLE ||
        (in->flags & ~RECORD_VERDICT_FLAGS_ALL) != 0)
        w_fail(&w, RECORD_ERR_EXT_BODY);
    w_u8(&w, in->agreement);
    w_opaque(&w, &in->root_cause, 0);
    w_opaque(&w, &in->reviewer, 0);
    w_u8(&w, in->flags);
    return w_done(&w, len);
}

int
record_ext_verdict_decode(const uint8_t *data, size_t len, struct record_ext_verdict *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_opaque(&rd, 1, &out->outcome)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 0, &out->recommendation)) == RECORD_OK &&
        (rc = rd_u8_in(&rd, &out->agreement, RECORD_AGREE_NONE,
                       RECORD_AGREE_NOT_COMPARABLE)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 0, &out->root_cause)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 0, &out->reviewer)) == RECORD_OK)
        rc = rd_u8_in(&rd, &out->flags, 0, RECORD_VERDICT_FLAGS_ALL);
    return rd_done(&rd, rc);
}

/* ---- 000C REVIEW (hitlq, four-eyes review) --------------------------------- */

int
record_ext_review_encode(const struct record_ext_review *in, uint8_t *out, size_t cap,
                         size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->n < 2 || in->n > 5 || in->k < 1 || in->k > in->n ||
        (in->flags & ~RECORD_REVIEW_FLAGS_ALL) != 0)
        w_fail(&w, RECORD_ERR_EXT_BODY);
    w_u8(&w, in->k);
    w_u8(&w, in->n);
    w_u8(&w, in->flags);
    return w_done(&w, len);
}

int
record_ext_review_decode(const uint8_t *data, size_t len, struct record_ext_review *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_u8_in(&rd, &out->k, 1, 5)) == RECORD_OK &&
        (rc = rd_u8_in(&rd, &out->n, 2, 5)) == RECORD_OK &&
        (rc = rd_u8_in(&rd, &out->flags, 0, RECORD_REVIEW_FLAGS_ALL)) == RECORD_OK &&
        out->k > out->n)
        rc = RECORD_ERR_EXT_BODY;
    return rd_done(&rd, rc);
}

/* ---- 000A PROFILE, 000B INPUT_COUNTS (hitlq, input drift) ---------------- */

/* Bytewise order of two byte strings, a shorter prefix first (<0, 0, >0). */
static int
ext_bytes_cmp(const struct record_ext_bytes *a, const struct record_ext_bytes *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = (n > 0 && a->data != NULL && b->data != NULL) ? memcmp(a->data, b->data, n) : 0;

    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* A numeric feature's m - 1 edges (strictly ascending) or a categorical
 * one's m categories (strictly ascending bytewise). */
static void
w_profile_bins(struct ext_w *w, const struct record_ext_profile_feature *f)
{
    for (unsigned i = 0; f->kind == RECORD_FEATURE_NUMERIC && i + 1u < f->n_bins; i++) {
        if (i > 0 && !(f->edge[i] > f->edge[i - 1]))
            w_fail(w, RECORD_ERR_EXT_BODY);
        w_f64(w, f->edge[i]);
    }
    for (unsigned i = 0; f->kind == RECORD_FEATURE_CATEGORICAL && i < f->n_bins; i++) {
        if (i > 0 && ext_bytes_cmp(&f->category[i - 1], &f->category[i]) >= 0)
            w_fail(w, RECORD_ERR_EXT_BODY);
        w_opaque(w, &f->category[i], 1);
    }
}

/* m counts then `extra` more u32s; their sum must be n. */
static void
w_counts(struct ext_w *w, const uint32_t *count, unsigned m, const uint32_t *extra,
         unsigned n_extra, uint32_t n)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < m; i++) {
        w_be(w, count[i], 4);
        sum += count[i];
    }
    for (unsigned i = 0; i < n_extra; i++) {
        w_be(w, extra[i], 4);
        sum += extra[i];
    }
    if (sum != n)
        w_fail(w, RECORD_ERR_EXT_BODY);
}

static void
w_profile_feature(struct ext_w *w, const struct record_ext_profile_feature *f, uint32_t n)
{
    if ((f->kind != RECORD_FEATURE_NUMERIC && f->kind != RECORD_FEATURE_CATEGORICAL) ||
        f->n_bins < 1 || f->n_bins > RECORD_EXT_DRIFT_BINS_MAX) {
        w_fail(w, RECORD_ERR_EXT_BODY);
        return;
    }
    w_opaque(w, &f->name, 1);
    w_u8(w, f->kind);
    w_u8(w, f->n_bins);
    w_profile_bins(w, f);
    w_counts(w, f->count, f->n_bins, &f->missing, 1, n);
}

int
record_ext_profile_encode(const struct record_ext_profile *in, uint8_t *out, size_t cap,
                          size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->n_features < 1 || in->n_features > RECORD_EXT_DRIFT_FEATURES_MAX) {
        w_fail(&w, RECORD_ERR_EXT_BODY);
        return w_done(&w, len);
    }
    w_put(&w, in->digest, RECORD_EXT_DIGEST_LEN);
    w_opaque(&w, &in->version, 0);
    w_be(&w, in->n, 4);
    w_u8(&w, in->n_features);
    for (unsigned i = 0; i < in->n_features; i++)
        w_profile_feature(&w, &in->f[i], in->n);
    return w_done(&w, len);
}

/* u32 into *v, added to *sum. */
static int
rd_u32_sum(struct record_rd *rd, uint32_t *v, uint64_t *sum)
{
    uint64_t x = 0;
    int rc = rd_be(rd, &x, 4);

    *v = (uint32_t)x;
    *sum += x;
    return rc;
}

static int
rd_profile_bins(struct record_rd *rd, struct record_ext_profile_feature *f)
{
    int rc = RECORD_OK;

    for (unsigned i = 0; rc == RECORD_OK && f->kind == RECORD_FEATURE_NUMERIC &&
                         i + 1u < f->n_bins; i++) {
        rc = rd_f64(rd, &f->edge[i]);
        if (rc == RECORD_OK && i > 0 && !(f->edge[i] > f->edge[i - 1]))
            rc = RECORD_ERR_EXT_BODY;
    }
    for (unsigned i = 0; rc == RECORD_OK && f->kind == RECORD_FEATURE_CATEGORICAL &&
                         i < f->n_bins; i++) {
        rc = rd_opaque(rd, 1, &f->category[i]);
        if (rc == RECORD_OK && i > 0 && ext_bytes_cmp(&f->category[i - 1], &f->category[i]) >= 0)
            rc = RECORD_ERR_EXT_BODY;
    }
    return rc;
}

static int
rd_profile_feature(struct record_rd *rd, struct record_ext_profile_feature *f, uint32_t n)
{
    uint64_t sum = 0;
    int rc;

    if ((rc = rd_opaque(rd, 1, &f->name)) != RECORD_OK ||
        (rc = rd_u8_in(rd, &f->kind, RECORD_FEATURE_NUMERIC,
                       RECORD_FEATURE_CATEGORICAL)) != RECORD_OK ||
        (rc = rd_u8_in(rd, &f->n_bins, 1, RECORD_EXT_DRIFT_BINS_MAX)) != RECORD_OK ||
        (rc = rd_profile_bins(rd, f)) != RECORD_OK)
        return rc;
    for (unsigned i = 0; rc == RECORD_OK && i < f->n_bins; i++)
        rc = rd_u32_sum(rd, &f->count[i], &sum);
    if (rc == RECORD_OK)
        rc = rd_u32_sum(rd, &f->missing, &sum);
    return (rc == RECORD_OK && sum != n) ? RECORD_ERR_EXT_BODY : rc;
}

int
record_ext_profile_decode(const uint8_t *data, size_t len, struct record_ext_profile *out)
{
    struct record_rd rd;
    uint64_t n = 0;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_bytes(&rd, out->digest, RECORD_EXT_DIGEST_LEN)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 0, &out->version)) == RECORD_OK &&
        (rc = rd_be(&rd, &n, 4)) == RECORD_OK)
        rc = rd_u8_in(&rd, &out->n_features, 1, RECORD_EXT_DRIFT_FEATURES_MAX);
    out->n = (uint32_t)n;
    for (unsigned i = 0; rc == RECORD_OK && i < out->n_features; i++)
        rc = rd_profile_feature(&rd, &out->f[i], out->n);
    return rd_done(&rd, rc);
}

int
record_ext_input_counts_encode(const struct record_ext_input_counts *in, uint8_t *out,
                               size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->n_features < 1 || in->n_features > RECORD_EXT_DRIFT_FEATURES_MAX ||
        in->window_end_ms <= in->window_start_ms) {
        w_fail(&w, RECORD_ERR_EXT_BODY);
        return w_done(&w, len);
    }
    w_put(&w, in->profile_digest, RECORD_EXT_DIGEST_LEN);
    w_opaque(&w, &in->item_type, 1);
    w_be(&w, in->window_start_ms, 8);
    w_be(&w, in->window_end_ms, 8);
    w_be(&w, in->n, 4);
    w_u8(&w, in->n_features);
    for (unsigned i = 0; i < in->n_features; i++) {
        const struct record_ext_input_feature *f = &in->f[i];
        uint32_t extra[2] = { f->missing, f->unseen };

        if (f->n_bins < 1 || f->n_bins > RECORD_EXT_DRIFT_BINS_MAX) {
            w_fail(&w, RECORD_ERR_EXT_BODY);
            break;
        }
        w_u8(&w, f->n_bins);
        w_counts(&w, f->count, f->n_bins, extra, 2, in->n);
    }
    return w_done(&w, len);
}

static int
rd_input_feature(struct record_rd *rd, struct record_ext_input_feature *f, uint32_t n)
{
    uint64_t sum = 0;
    int rc = rd_u8_in(rd, &f->n_bins, 1, RECORD_EXT_DRIFT_BINS_MAX);

    for (unsigned i = 0; rc == RECORD_OK && i < f->n_bins; i++)
        rc = rd_u32_sum(rd, &f->count[i], &sum);
    if (rc == RECORD_OK)
        rc = rd_u32_sum(rd, &f->missing, &sum);
    if (rc == RECORD_OK)
        rc = rd_u32_sum(rd, &f->unseen, &sum);
    return (rc == RECORD_OK && sum != n) ? RECORD_ERR_EXT_BODY : rc;
}

int
record_ext_input_counts_decode(const uint8_t *data, size_t len,
                               struct record_ext_input_counts *out)
{
    struct record_rd rd;
    uint64_t n = 0;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_bytes(&rd, out->profile_digest, RECORD_EXT_DIGEST_LEN)) == RECORD_OK &&
        (rc = rd_opaque(&rd, 1, &out->item_type)) == RECORD_OK &&
        (rc = rd_be(&rd, &out->window_start_ms, 8)) == RECORD_OK &&
        (rc = rd_be(&rd, &out->window_end_ms, 8)) == RECORD_OK &&
        (rc = rd_be(&rd, &n, 4)) == RECORD_OK)
        rc = rd_u8_in(&rd, &out->n_features, 1, RECORD_EXT_DRIFT_FEATURES_MAX);
    if (rc == RECORD_OK && out->window_end_ms <= out->window_start_ms)
        rc = RECORD_ERR_EXT_BODY;
    out->n = (uint32_t)n;
    for (unsigned i = 0; rc == RECORD_OK && i < out->n_features; i++)
        rc = rd_input_feature(&rd, &out->f[i], out->n);
    return rd_done(&rd, rc);
}

/* ---- 0010 MODEL_INFO, 0011 POLICY_INFO ----------------------------------- */

int
record_ext_model_info_encode(const struct record_ext_model_info *in, uint8_t *out,
                             size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_put(&w, in->training_manifest_digest, RECORD_EXT_DIGEST_LEN);
    w_put(&w, in->eval_report_digest, RECORD_EXT_DIGEST_LEN);
    w_opaque(&w, &in->framework, 0);
    return w_done(&w, len);
}

int
record_ext_model_info_decode(const uint8_t *data, size_t len,
                             struct record_ext_model_info *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_bytes(&rd, out->training_manifest_digest,
                       RECORD_EXT_DIGEST_LEN)) == RECORD_OK &&
        (rc = rd_bytes(&rd, out->eval_report_digest, RECORD_EXT_DIGEST_LEN)) == RECORD_OK)
        rc = rd_opaque(&rd, 0, &out->framework);
    return rd_done(&rd, rc);
}

int
record_ext_policy_info_encode(const struct record_ext_policy_info *in, uint8_t *out,
                              size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    w_put(&w, in->policy_doc_digest, RECORD_EXT_DIGEST_LEN);
    w_be(&w, in->reason_registry_version, 2);
    w_f64(&w, in->threshold);
    return w_done(&w, len);
}

int
record_ext_policy_info_decode(const uint8_t *data, size_t len,
                              struct record_ext_policy_info *out)
{
    struct record_rd rd;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_bytes(&rd, out->policy_doc_digest, RECORD_EXT_DIGEST_LEN)) == RECORD_OK &&
        (rc = rd_u16(&rd, &out->reason_registry_version)) == RECORD_OK)
        rc = rd_f64(&rd, &out->threshold);
    return rd_done(&rd, rc);
}

/* ---- 0020 KEY_INFO, 0021 CHECKPOINT_REF ---------------------------------- */

int
record_ext_key_info_encode(const struct record_ext_key_info *in, uint8_t *out, size_t cap,
                           size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->role < RECORD_KEY_ROLE_LOG || in->role > RECORD_KEY_ROLE_AUDITOR ||
        in->action < RECORD_KEY_ADD || in->action > RECORD_KEY_REVOKE ||
        in->vkey.len > RECORD_EXT_DATA_MAX - RECORD_EXT_KEY_INFO_LEN(0)) {
        w_fail(&w, RECORD_ERR_EXT_BODY);
        return w_done(&w, len);
    }
    w_u8(&w, in->role);
    w_u8(&w, in->action);
    w_be(&w, in->vkey.len, 2);
    w_raw(&w, &in->vkey);
    w_be(&w, in->effective_from_size, 8);
    return w_done(&w, len);
}

int
record_ext_key_info_decode(const uint8_t *data, size_t len, struct record_ext_key_info *out)
{
    struct record_rd rd;
    uint16_t vlen;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_u8_in(&rd, &out->role, RECORD_KEY_ROLE_LOG,
                       RECORD_KEY_ROLE_AUDITOR)) == RECORD_OK &&
        (rc = rd_u8_in(&rd, &out->action, RECORD_KEY_ADD, RECORD_KEY_REVOKE)) == RECORD_OK &&
        (rc = rd_u16(&rd, &vlen)) == RECORD_OK &&
        (rc = rd_skip(&rd, vlen, &out->vkey.data)) == RECORD_OK) {
        out->vkey.len = vlen;
        rc = rd_be(&rd, &out->effective_from_size, 8);
    }
    return rd_done(&rd, rc);
}

int
record_ext_checkpoint_ref_encode(const struct record_ext_checkpoint_ref *in, uint8_t *out,
                                 size_t cap, size_t *len)
{
    struct ext_w w;
    int rc = w_begin(&w, in, out, cap, len);

    if (rc != RECORD_OK)
        return rc;
    if (in->note.len > RECORD_EXT_DATA_MAX - 2) {
        w_fail(&w, RECORD_ERR_EXT_BODY);
        return w_done(&w, len);
    }
    w_be(&w, in->note.len, 2);
    w_raw(&w, &in->note);
    return w_done(&w, len);
}

int
record_ext_checkpoint_ref_decode(const uint8_t *data, size_t len,
                                 struct record_ext_checkpoint_ref *out)
{
    struct record_rd rd;
    uint16_t n;
    int rc = rd_begin(&rd, data, len, out);

    if (rc != RECORD_OK)
        return rc;
    if ((rc = rd_u16(&rd, &n)) == RECORD_OK &&
        (rc = rd_skip(&rd, n, &out->note.data)) == RECORD_OK)
        out->note.len = n;
    return rd_done(&rd, rc);
}

/* ---- the record codec's check -------------------------------------------- */

int
record_ext_check(uint16_t type, const uint8_t *data, size_t len)
{
    union {
        struct record_ext_top_features   top;
        struct record_ext_queue_ref      queue;
        struct record_ext_submission     sub;
        struct record_ext_latency        lat;
        struct record_ext_model_info     model;
        struct record_ext_policy_info    policy;
        struct record_ext_key_info       key;
        struct record_ext_checkpoint_ref cp;
    } u;

    switch (type) {
    case RECORD_EXT_TOP_FEATURES:   return record_ext_top_features_decode(data, len, &u.top);
    case RECORD_EXT_QUEUE_REF:      return record_ext_queue_ref_decode(data, len, &u.queue);
    case RECORD_EXT_SUBMISSION:     return record_ext_submission_decode(data, len, &u.sub);
    case RECORD_EXT_LATENCY:        return record_ext_latency_decode(data, len, &u.lat);
    case RECORD_EXT_MODEL_INFO:     return record_ext_model_info_decode(data, len, &u.model);
    case RECORD_EXT_POLICY_INFO:    return record_ext_policy_info_decode(data, len, &u.policy);
    case RECORD_EXT_KEY_INFO:       return record_ext_key_info_decode(data, len, &u.key);
    case RECORD_EXT_CHECKPOINT_REF: return record_ext_checkpoint_ref_decode(data, len, &u.cp);
    default:                        return RECORD_OK;     /* opaque, 0005-000F too */
    }
}
