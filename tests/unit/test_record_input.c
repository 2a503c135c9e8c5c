/*
 * test_record_input.c - unit tests of the input-drift extension codecs
 * (proto/record_ext.c: 000A PROFILE and 000B INPUT_COUNTS,
 * proto/AUDIT-FORMAT.md §3.4) and of the record types that carry them
 * (12 PROFILE_REGISTERED, 13 INPUT_WINDOW): round trips to the same bytes,
 * every bound and ordering rule refused by both encoder and decoder,
 * truncations and trailing bytes, and the size limits.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

static uint8_t g_buf[RECORD_EXT_DATA_MAX + 64];
static uint8_t g_buf2[RECORD_EXT_DATA_MAX + 64];
static struct record_ext_profile g_p, g_pd;
static struct record_ext_input_counts g_c, g_cd;

static struct record_ext_bytes
bytes_of(const char *s)
{
    return (struct record_ext_bytes){ (const uint8_t *)s, strlen(s) };
}

/* A 3-feature profile over n = 100 rows: numeric with 4 bins, categorical
 * with 3 categories, numeric with a single bin. */
static void
profile_build(struct record_ext_profile *p)
{
    static const char *cats[] = { "A11", "A12", "A14" };
    struct record_ext_profile_feature *f;

    memset(p, 0, sizeof *p);
    memset(p->digest, 0xab, sizeof p->digest);
    p->version = bytes_of("credit-profile/1");
    p->n = 100;
    p->n_features = 3;
    f = &p->f[0];
    *f = (struct record_ext_profile_feature){ .name = bytes_of("duration"),
                                              .kind = RECORD_FEATURE_NUMERIC, .n_bins = 4 };
    f->edge[0] = -1.5;
    f->edge[1] = 0.0;
    f->edge[2] = 24.25;
    f->count[0] = 10, f->count[1] = 20, f->count[2] = 30, f->count[3] = 38, f->missing = 2;
    f = &p->f[1];
    *f = (struct record_ext_profile_feature){ .name = bytes_of("checking_status"),
                                              .kind = RECORD_FEATURE_CATEGORICAL, .n_bins = 3 };
    for (int i = 0; i < 3; i++)
        f->category[i] = bytes_of(cats[i]);
    f->count[0] = 50, f->count[1] = 25, f->count[2] = 25;
    f = &p->f[2];
    *f = (struct record_ext_profile_feature){ .name = bytes_of("x"),
                                              .kind = RECORD_FEATURE_NUMERIC, .n_bins = 1 };
    f->count[0] = 0, f->missing = 100;
}

static void
counts_build(struct record_ext_input_counts *c)
{
    memset(c, 0, sizeof *c);
    memset(c->profile_digest, 0xab, sizeof c->profile_digest);
    c->item_type = bytes_of("credit");
    c->window_start_ms = 1700000000000ull;
    c->window_end_ms = 1700000086400ull;
    c->n = 7;
    c->n_features = 2;
    c->f[0] = (struct record_ext_input_feature){ .n_bins = 3, .count = { 1, 2, 3 },
                                                 .missing = 1, .unseen = 0 };
    c->f[1] = (struct record_ext_input_feature){ .n_bins = 2, .count = { 0, 4 },
                                                 .missing = 0, .unseen = 3 };
}

static size_t
profile_enc(const struct record_ext_profile *p, int want)
{
    size_t len = 0;

    assert_int_equal(record_ext_profile_encode(p, g_buf, sizeof g_buf, &len), want);
    return len;
}

static size_t
counts_enc(const struct record_ext_input_counts *c, int want)
{
    size_t len = 0;

    assert_int_equal(record_ext_input_counts_encode(c, g_buf, sizeof g_buf, &len), want);
    return len;
}

/* Every proper prefix of g_buf[0..n) is refused, and so is one extra byte. */
static void
assert_prefixes_refused(int (*dec)(const uint8_t *, size_t, void *), size_t n, void *out)
{
    for (size_t k = 0; k < n; k++)
        assert_int_equal(dec(g_buf, k, out), RECORD_ERR_EXT_BODY);
    g_buf[n] = 0;
    assert_int_equal(dec(g_buf, n + 1, out), RECORD_ERR_EXT_BODY);
}

static int
profile_dec(const uint8_t *d, size_t n, void *out)
{
    return record_ext_profile_decode(d, n, out);
}

static int
counts_dec(const uint8_t *d, size_t n, void *out)
{
    return record_ext_input_counts_decode(d, n, out);
}

/* ---- PROFILE ------------------------------------------------------------ */

static void
test_profile_roundtrip(void **state)
{
    size_t n, n2 = 0;

    (void)state;
    profile_build(&g_p);
    n = profile_enc(&g_p, RECORD_OK);
    /* 32 + 17 + 4 + 1, then 9+1+1+24+16+4, 16+1+1+12+12+4, 2+1+1+4+4 */
    assert_int_equal(n, 54 + 55 + 46 + 12);
    assert_int_equal(record_ext_profile_decode(g_buf, n, &g_pd), RECORD_OK);
    assert_memory_equal(g_pd.digest, g_p.digest, 32);
    assert_int_equal(g_pd.n, 100);
    assert_int_equal(g_pd.n_features, 3);
    assert_int_equal(g_pd.f[0].kind, RECORD_FEATURE_NUMERIC);
    assert_int_equal(g_pd.f[0].n_bins, 4);
    assert_true(g_pd.f[0].edge[2] == 24.25 && g_pd.f[0].edge[0] == -1.5);
    assert_int_equal(g_pd.f[0].count[3], 38);
    assert_int_equal(g_pd.f[0].missing, 2);
    assert_int_equal(g_pd.f[1].kind, RECORD_FEATURE_CATEGORICAL);
    assert_int_equal(g_pd.f[1].category[2].len, 3);
    assert_memory_equal(g_pd.f[1].category[2].data, "A14", 3);
    assert_int_equal(g_pd.f[2].missing, 100);
    assert_int_equal(record_ext_profile_encode(&g_pd, g_buf2, sizeof g_buf2, &n2), RECORD_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(g_buf2, g_buf, n);
    assert_prefixes_refused(profile_dec, n, &g_pd);
}

static void
test_profile_refused(void **state)
{
    (void)state;
    profile_build(&g_p);
    g_p.n_features = 0;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.n_features = RECORD_EXT_DRIFT_FEATURES_MAX + 1;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[0].edge[1] = -1.5;                       /* equal edges */
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.f[0].edge[1] = NAN;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.f[0].edge[1] = -0.0;                       /* -0 is refused, not normalised */
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[1].category[1] = bytes_of("A11");        /* duplicate */
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.f[1].category[1] = bytes_of("A1");         /* A11 > A1: not ascending */
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.f[1].category[1] = bytes_of("");
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[2].name = bytes_of("");
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[0].count[0]++;                           /* sum != n */
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[0].kind = 3;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[0].n_bins = 0;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    g_p.f[0].n_bins = RECORD_EXT_DRIFT_BINS_MAX + 1;
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);
    profile_build(&g_p);
    g_p.f[1].category[0].data = NULL;
    profile_enc(&g_p, RECORD_ERR_INVAL);
}

/* Byte offsets into the encoded profile_build body. */
enum { P_K = 32 + 17 + 4, P_F0 = P_K + 1, P_F0_KIND = P_F0 + 9, P_F0_M = P_F0_KIND + 1,
       P_F0_E1 = P_F0_M + 1 + 8, P_F0_C0 = P_F0_M + 1 + 24, P_F1 = P_F0 + 55,
       P_F1_C1 = P_F1 + 16 + 1 + 1 + 4 };

static void
profile_flip(size_t off, uint8_t val, int want)
{
    size_t n = profile_enc(&g_p, RECORD_OK);
    uint8_t save = g_buf[off];

    g_buf[off] = val;
    assert_int_equal(record_ext_profile_decode(g_buf, n, &g_pd), want);
    g_buf[off] = save;
}

static void
test_profile_decode_malformed(void **state)
{
    (void)state;
    profile_build(&g_p);
    profile_flip(P_K, 0, RECORD_ERR_EXT_BODY);
    profile_flip(P_K, 65, RECORD_ERR_EXT_BODY);
    profile_flip(P_K, 2, RECORD_ERR_EXT_BODY);     /* one feature left over */
    profile_flip(P_F0, 0, RECORD_ERR_EXT_BODY);    /* empty name */
    profile_flip(P_F0_KIND, 0, RECORD_ERR_EXT_BODY);
    profile_flip(P_F0_KIND, 3, RECORD_ERR_EXT_BODY);
    profile_flip(P_F0_M, 0, RECORD_ERR_EXT_BODY);
    profile_flip(P_F0_M, 65, RECORD_ERR_EXT_BODY);
    profile_flip(P_F0_E1, 0x80, RECORD_ERR_EXT_BODY);   /* 0.0 -> -0 */
    profile_flip(P_F0_E1, 0xff, RECORD_ERR_EXT_BODY);   /* NaN bits */
    profile_flip(P_F0_E1, 0xc1, RECORD_ERR_EXT_BODY);   /* below edge 0 */
    profile_flip(P_F0_C0 + 3, 11, RECORD_ERR_EXT_BODY); /* count 10 -> 11: sum */
    profile_flip(P_F1_C1 + 3, '1', RECORD_ERR_EXT_BODY);   /* A12 -> A11 */
    profile_flip(P_F1_C1 + 3, '0', RECORD_ERR_EXT_BODY);   /* A10 < A11 */
    profile_flip(P_F1_C1 + 3, '3', RECORD_OK);             /* A13 still ascends */
    assert_int_equal(record_ext_profile_decode(NULL, 1, &g_pd), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_profile_decode(g_buf, 1, NULL), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_profile_decode(NULL, 0, &g_pd), RECORD_ERR_EXT_BODY);
}

static void
test_profile_limits(void **state)
{
    static char names[RECORD_EXT_DRIFT_BINS_MAX][RECORD_EXT_STR_MAX + 1];
    size_t len = 0, n;

    (void)state;
    profile_build(&g_p);
    n = profile_enc(&g_p, RECORD_OK);
    assert_int_equal(record_ext_profile_encode(&g_p, g_buf, n - 1, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_ext_profile_encode(&g_p, NULL, 0, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_ext_profile_encode(NULL, g_buf, sizeof g_buf, &len),
                     RECORD_ERR_INVAL);
    assert_int_equal(record_ext_profile_encode(&g_p, g_buf, sizeof g_buf, NULL),
                     RECORD_ERR_INVAL);
    /* 64 numeric features of 64 bins fit; 64 x 64 long categories do not. */
    memset(&g_p, 0, sizeof g_p);
    g_p.n = 64;
    g_p.n_features = RECORD_EXT_DRIFT_FEATURES_MAX;
    for (unsigned i = 0; i < RECORD_EXT_DRIFT_FEATURES_MAX; i++) {
        g_p.f[i] = (struct record_ext_profile_feature){ .name = bytes_of("f"),
                                                        .kind = RECORD_FEATURE_NUMERIC,
                                                        .n_bins = RECORD_EXT_DRIFT_BINS_MAX };
        for (unsigned b = 0; b + 1 < RECORD_EXT_DRIFT_BINS_MAX; b++)
            g_p.f[i].edge[b] = (double)b;
        for (unsigned b = 0; b < RECORD_EXT_DRIFT_BINS_MAX; b++)
            g_p.f[i].count[b] = 1;
    }
    n = profile_enc(&g_p, RECORD_OK);
    assert_int_equal(n, 32 + 1 + 4 + 1 + 64 * (2 + 2 + 63 * 8 + 64 * 4 + 4));
    assert_int_equal(record_ext_profile_decode(g_buf, n, &g_pd), RECORD_OK);
    for (unsigned b = 0; b < RECORD_EXT_DRIFT_BINS_MAX; b++) {
        memset(names[b], 'a', RECORD_EXT_STR_MAX);
        snprintf(names[b], sizeof names[b], "%03u", b);
        names[b][3] = 'a';
        g_p.f[0].category[b] = (struct record_ext_bytes){ (const uint8_t *)names[b],
                                                          RECORD_EXT_STR_MAX };
    }
    for (unsigned i = 0; i < RECORD_EXT_DRIFT_FEATURES_MAX; i++) {
        g_p.f[i].kind = RECORD_FEATURE_CATEGORICAL;
        memcpy(g_p.f[i].category, g_p.f[0].category, sizeof g_p.f[0].category);
    }
    profile_enc(&g_p, RECORD_ERR_EXT_BODY);           /* above 65535 bytes */
    g_p.n_features = 3;
    n = profile_enc(&g_p, RECORD_OK);
    assert_int_equal(record_ext_profile_decode(g_buf, n, &g_pd), RECORD_OK);
    assert_int_equal(g_pd.f[2].category[63].len, 255);
}

/* ---- INPUT_COUNTS ------------------------------------------------------- */

static void
test_counts_roundtrip(void **state)
{
    size_t n, n2 = 0;

    (void)state;
    counts_build(&g_c);
    n = counts_enc(&g_c, RECORD_OK);
    assert_int_equal(n, 32 + 7 + 8 + 8 + 4 + 1 + (1 + 12 + 8) + (1 + 8 + 8));
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_OK);
    assert_memory_equal(g_cd.profile_digest, g_c.profile_digest, 32);
    assert_int_equal(g_cd.item_type.len, 6);
    assert_int_equal(g_cd.window_start_ms, 1700000000000ull);
    assert_int_equal(g_cd.window_end_ms, 1700000086400ull);
    assert_int_equal(g_cd.n, 7);
    assert_int_equal(g_cd.n_features, 2);
    assert_int_equal(g_cd.f[0].count[2], 3);
    assert_int_equal(g_cd.f[0].missing, 1);
    assert_int_equal(g_cd.f[1].unseen, 3);
    assert_int_equal(record_ext_input_counts_encode(&g_cd, g_buf2, sizeof g_buf2, &n2),
                     RECORD_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(g_buf2, g_buf, n);
    assert_prefixes_refused(counts_dec, n, &g_cd);
}

static void
test_counts_refused(void **state)
{
    size_t len = 0, n;

    (void)state;
    counts_build(&g_c);
    g_c.window_end_ms = g_c.window_start_ms;
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    counts_build(&g_c);
    g_c.item_type = bytes_of("");
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    counts_build(&g_c);
    g_c.f[1].unseen = 2;                           /* sum 6 != 7 */
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    counts_build(&g_c);
    g_c.n_features = 0;
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    g_c.n_features = 65;
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    counts_build(&g_c);
    g_c.f[0].n_bins = 0;
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    g_c.f[0].n_bins = 65;
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
    counts_build(&g_c);
    n = counts_enc(&g_c, RECORD_OK);
    assert_int_equal(record_ext_input_counts_encode(&g_c, g_buf, n - 1, &len),
                     RECORD_ERR_BUFFER);
    assert_int_equal(record_ext_input_counts_encode(NULL, g_buf, n, &len), RECORD_ERR_INVAL);
    /* decoder: window end <= start, bad k, bad m, sum */
    memcpy(g_buf + 32 + 7 + 8, g_buf + 32 + 7, 8);  /* end = start */
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_ERR_EXT_BODY);
    n = counts_enc(&g_c, RECORD_OK);
    g_buf[32 + 7 + 16 + 4] = 0;
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_ERR_EXT_BODY);
    n = counts_enc(&g_c, RECORD_OK);
    g_buf[32 + 7 + 16 + 5] = 0;
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_ERR_EXT_BODY);
    n = counts_enc(&g_c, RECORD_OK);
    g_buf[n - 1] = 4;                              /* last unseen 3 -> 4 */
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_ERR_EXT_BODY);
    g_buf[32] = 0;                                 /* empty item_type */
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_ERR_EXT_BODY);
}

static void
test_counts_max(void **state)
{
    static char type[RECORD_EXT_STR_MAX];
    size_t n;

    (void)state;
    memset(&g_c, 0, sizeof g_c);
    memset(type, 't', sizeof type);
    g_c.item_type = (struct record_ext_bytes){ (const uint8_t *)type, sizeof type };
    g_c.window_end_ms = 1;
    g_c.n = UINT32_MAX;
    g_c.n_features = RECORD_EXT_DRIFT_FEATURES_MAX;
    for (unsigned i = 0; i < RECORD_EXT_DRIFT_FEATURES_MAX; i++) {
        g_c.f[i].n_bins = RECORD_EXT_DRIFT_BINS_MAX;
        g_c.f[i].count[i] = UINT32_MAX;            /* sums are taken in 64 bits */
    }
    n = counts_enc(&g_c, RECORD_OK);
    assert_int_equal(n, RECORD_EXT_INPUT_COUNTS_MAX);
    assert_int_equal(record_ext_input_counts_decode(g_buf, n, &g_cd), RECORD_OK);
    assert_int_equal(g_cd.f[63].count[63], UINT32_MAX);
    g_c.f[5].missing = 1;                          /* 2^32 != n */
    counts_enc(&g_c, RECORD_ERR_EXT_BODY);
}

/* ---- records 12 and 13 --------------------------------------------------- */

static void
record_roundtrip(uint8_t type, uint16_t ext_type, const uint8_t *body, size_t blen)
{
    static struct record r, d;
    static uint8_t out[RECORD_LEAF_MAX];
    size_t len = 0;

    record_init(&r);
    r.record_type = type;
    r.actor_type = RECORD_ACTOR_SYSTEM;
    r.item_id.len = 1;
    r.item_id.data[0] = '0';
    r.actor_id.len = 6;
    memcpy(r.actor_id.data, "hitlqd", 6);
    r.ext_count = 1;
    r.ext[0] = (struct record_ext){ ext_type, (uint16_t)blen, body };
    assert_int_equal(record_encode(&r, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(record_decode(out, len, &d), RECORD_OK);
    assert_int_equal(d.record_type, type);
    assert_int_equal(d.ext[0].type, ext_type);
    assert_int_equal(d.ext[0].len, blen);
    assert_memory_equal(d.ext[0].data, body, blen);
}

static void
test_record_types(void **state)
{
    size_t n;

    (void)state;
    assert_int_equal(RECORD_PROFILE_REGISTERED, 0x12);
    assert_int_equal(RECORD_INPUT_WINDOW, 0x13);
    assert_int_equal(RECORD_EXT_PROFILE, 0x000A);
    assert_int_equal(RECORD_EXT_INPUT_COUNTS, 0x000B);
    profile_build(&g_p);
    n = profile_enc(&g_p, RECORD_OK);
    record_roundtrip(RECORD_PROFILE_REGISTERED, RECORD_EXT_PROFILE, g_buf, n);
    counts_build(&g_c);
    n = counts_enc(&g_c, RECORD_OK);
    record_roundtrip(RECORD_INPUT_WINDOW, RECORD_EXT_INPUT_COUNTS, g_buf, n);
    /* hitlq's range is opaque to the record codec: a bad body still hashes. */
    assert_int_equal(record_ext_check(RECORD_EXT_PROFILE, g_buf, 3), RECORD_OK);
    assert_int_equal(record_ext_check(RECORD_EXT_INPUT_COUNTS, g_buf, 3), RECORD_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_roundtrip),
        cmocka_unit_test(test_profile_refused),
        cmocka_unit_test(test_profile_decode_malformed),
        cmocka_unit_test(test_profile_limits),
        cmocka_unit_test(test_counts_roundtrip),
        cmocka_unit_test(test_counts_refused),
        cmocka_unit_test(test_counts_max),
        cmocka_unit_test(test_record_types),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
