/*
 * test_record_ext.c - unit tests of the audit-record extension body codecs
 * (proto/record_ext.c, proto/AUDIT-FORMAT.md §3.4): each type's decoder
 * against the known-body cases, hitlq's OUTCOME/SCORING/RULES and (format
 * v2) RECOMMENDATION/VERDICT bodies,
 * encoders refusing what their decoders would refuse, long inputs, and
 * generated round trips (encode, decode, encode again to the same bytes).
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
#include <sodium.h>

#include "merkle.h"
#include "record.h"
#include "record_fixture.h"

static uint8_t g_buf[RECORD_LEAF_MAX + 64];

/* ---- extension body codecs (proto/record_ext.h) ------------------------ */

/* Decodes data[0..len) with the decoder of `type` and encodes the result
 * again into out (*olen bytes).  Returns the decoder's code, then the
 * encoder's.  -100 for a type without a codec. */
#define EXT_RECODE(T, name)                                                     \
    case T: {                                                                   \
        static struct record_ext_##name v;                                      \
        rc = record_ext_##name##_decode(data, len, &v);                         \
        if (rc == RECORD_OK)                                                    \
            rc = record_ext_##name##_encode(&v, out, cap, olen);                \
        return rc;                                                              \
    }

static int
ext_recode(uint16_t type, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
           size_t *olen)
{
    int rc;

    switch (type) {
    EXT_RECODE(RECORD_EXT_TOP_FEATURES, top_features)
    EXT_RECODE(RECORD_EXT_QUEUE_REF, queue_ref)
    EXT_RECODE(RECORD_EXT_SUBMISSION, submission)
    EXT_RECODE(RECORD_EXT_LATENCY, latency)
    EXT_RECODE(RECORD_EXT_OUTCOME, outcome)
    EXT_RECODE(RECORD_EXT_SCORING, scoring)
    EXT_RECODE(RECORD_EXT_RULES, rules)
    EXT_RECODE(RECORD_EXT_RECOMMENDATION, recommendation)
    EXT_RECODE(RECORD_EXT_VERDICT, verdict)
    EXT_RECODE(RECORD_EXT_MODEL_INFO, model_info)
    EXT_RECODE(RECORD_EXT_POLICY_INFO, policy_info)
    EXT_RECODE(RECORD_EXT_KEY_INFO, key_info)
    EXT_RECODE(RECORD_EXT_CHECKPOINT_REF, checkpoint_ref)
    default:
        return -100;
    }
}

/* Each case's body through its type's own decoder (the check record.c
 * makes) and, when valid, back through its encoder to the same bytes. */
static void
ext_case_check(uint16_t type, int want, const uint8_t *data, size_t n)
{
    uint8_t out[300];
    size_t olen = 0;
    int rc = ext_recode(type, data, n, out, sizeof out, &olen);

    if (rc == -100) {                                  /* opaque type */
        assert_int_equal(record_ext_check(type, data, n), RECORD_OK);
        return;
    }
    assert_int_equal(rc, want);
    if (want == RECORD_OK) {
        assert_int_equal(olen, n);
        assert_memory_equal(out, data, n);
    }
}

static void
test_ext_decoders(void **state)
{
    uint8_t data[300];
    size_t i, n;
    const struct rfx_ext_case *c;

    (void)state;
    for (i = 0; i < rfx_n_ext_cases; i++) {
        c = &rfx_ext_cases[i];
        memset(data, 0x5a, c->len);
        n = c->len + rfx_hex(c->hex, data + c->len, sizeof data - c->len);
        if (c->type < RECORD_EXT_OUTCOME || c->type > 0x000f)  /* opaque to record.c */
            ext_case_check(c->type, c->want, data, n);
        assert_int_equal(record_ext_check(c->type, data, n), c->want);
    }
}

/* hitlq's own bodies, opaque to record.c: only their decoders check them. */
static const struct rfx_ext_case hitlq_cases[] = {
    { 0x0005, RECORD_OK, 0, "07617070726f766506726576696577" "01" },
    { 0x0005, RECORD_OK, 0, "016100" "02" },
    { 0x0005, RECORD_OK, 0, "016100" "00" },
    { 0x0005, RECORD_ERR_EXT_BODY, 0, "0000" "01" },                  /* empty outcome */
    { 0x0005, RECORD_ERR_EXT_BODY, 0, "016100" "03" },                /* agreement */
    { 0x0005, RECORD_ERR_EXT_BODY, 0, "016100" "0100" },              /* extra */
    { 0x0005, RECORD_ERR_EXT_BODY, 0, "ff" },
    { 0x0006, RECORD_OK, 0, "030101" "3fe0000000000000" "bff0000000000000" },
    { 0x0006, RECORD_OK, 0, "0005fe" "0000000000000000" "0000000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "040101" "3fe0000000000000" "0000000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "030001" "3fe0000000000000" "0000000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "030601" "3fe0000000000000" "0000000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "030101" "8000000000000000" "0000000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "030101" "3fe0000000000000" "7ff8000000000000" },
    { 0x0006, RECORD_ERR_EXT_BODY, 0, "030101" "3fe0000000000000" "00000000000000" },
    { 0x0007, RECORD_OK, 0, "00" },
    { 0x0007, RECORD_OK, 0, "02" "0103616765" "020461676532" },
    { 0x0007, RECORD_ERR_EXT_BODY, 0, "" },
    { 0x0007, RECORD_ERR_EXT_BODY, 0, "01" "0300" },                  /* kind 3 */
    { 0x0007, RECORD_ERR_EXT_BODY, 0, "01" "0100" },                  /* empty id */
    { 0x0007, RECORD_ERR_EXT_BODY, 0, "02" "0103616765" },            /* missing */
    { 0x0007, RECORD_ERR_EXT_BODY, 0, "11" "010161010161010161010161010161010161"
                                      "010161010161010161010161010161010161010161"
                                      "010161010161010161010161" },      /* 17 rules */
    /* 0008 RECOMMENDATION: rec; lean, auto, reject thresholds; flags. */
    { 0x0008, RECORD_OK, 0, "07617070726f7665" "3fe0000000000000" "3fe6666666666666"
                            "3fd3333333333333" "03" },
    { 0x0008, RECORD_OK, 0, "00" "3fe6666666666666" "3fe6666666666666"
                            "0000000000000000" "04" },             /* empty rec */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "3fe0000000000000" "3fe6666666666666"
                                      "3fd3333333333333" "08" },  /* flag bit 3 */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "8000000000000000" "3fe6666666666666"
                                      "3fd3333333333333" "03" },  /* -0 */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "3fe0000000000000" "7ff0000000000000"
                                      "3fd3333333333333" "03" },  /* +inf */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "3fe0000000000000" "3fe6666666666666"
                                      "7ff8000000000000" "03" },  /* NaN */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "3fe0000000000000" "3fe6666666666666"
                                      "3fd3333333333333" },       /* no flags */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "00" "3fe0000000000000" "3fe6666666666666"
                                      "3fd3333333333333" "0300" }, /* extra */
    { 0x0008, RECORD_ERR_EXT_BODY, 0, "05616263" },                   /* opaque short */
    /* 0009 VERDICT: outcome; rec; agreement; root_cause; reviewer; flags. */
    { 0x0009, RECORD_OK, 0, "07617070726f7665" "07617070726f7665" "01" "00"
                            "05616c696365" "00" },
    { 0x0009, RECORD_OK, 0, "0464656e79" "07617070726f7665" "02" "0a6d697373696e67646f63"
                            "03626f62" "01" },
    { 0x0009, RECORD_OK, 0, "08657363616c617465" "00" "03" "00" "00" "00" },
    { 0x0009, RECORD_OK, 0, "0772656c65617365" "00" "00" "00" "00" "00" },
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "00" "00" "01" "00" "00" "00" },  /* empty outcome */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "04" "00" "00" "00" }, /* agreement 4 */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "01" "00" "00" "02" }, /* flag bit 1 */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "01" "00" "00" },      /* no flags */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "01" "00" "00" "0000" }, /* extra */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "01" "0561" "00" "00" }, /* root short */
    { 0x0009, RECORD_ERR_EXT_BODY, 0, "0161" "00" "01" "00" "ff61" "00" }, /* reviewer */
};

static void
test_ext_hitlq(void **state)
{
    uint8_t data[300];
    size_t i, n;
    const struct rfx_ext_case *c;

    (void)state;
    for (i = 0; i < sizeof hitlq_cases / sizeof hitlq_cases[0]; i++) {
        c = &hitlq_cases[i];
        n = rfx_hex(c->hex, data, sizeof data);
        ext_case_check(c->type, c->want, data, n);
        assert_int_equal(record_ext_check(c->type, data, n), RECORD_OK);
    }
}

#define BYTES(s) { (const uint8_t *)(s), sizeof(s) - 1 }

/* Encoders: the bytes of vector 0's QUEUE_REF, sizes, and every error. */
static void
test_ext_encoders(void **state)
{
    static uint8_t big[RECORD_EXT_STR_MAX + 1];
    uint8_t out[RECORD_EXT_OUTCOME_MAX];
    struct record_ext_queue_ref q = { BYTES("ap-exceptions"), 2, UINT64_C(1700003600123) };
    struct record_ext_outcome oc = { BYTES("approve"), BYTES("review"), RECORD_AGREE_AGREED };
    struct record_ext_scoring sc = { RECORD_METHOD_TREESHAP, RECORD_ROUTE_REVIEW, 1, 0.5, -0.25 };
    size_t len = 0;

    (void)state;
    assert_int_equal(record_ext_queue_ref_encode(&q, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, rfx_v0_queue_ref_len);
    assert_memory_equal(out, rfx_v0_queue_ref, len);
    assert_int_equal(record_ext_queue_ref_encode(&q, out, len - 1, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_ext_queue_ref_encode(&q, NULL, 0, &len), RECORD_ERR_BUFFER);
    assert_int_equal(record_ext_queue_ref_encode(NULL, out, sizeof out, &len), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_queue_ref_encode(&q, out, sizeof out, NULL), RECORD_ERR_INVAL);
    q.queue.len = 0;                                   /* queue<1..255> */
    assert_int_equal(record_ext_queue_ref_encode(&q, out, 0, &len), RECORD_ERR_EXT_BODY);
    q.queue = (struct record_ext_bytes){ NULL, 3 };
    assert_int_equal(record_ext_queue_ref_encode(&q, out, sizeof out, &len), RECORD_ERR_INVAL);
    q.queue = (struct record_ext_bytes){ big, 256 };
    assert_int_equal(record_ext_queue_ref_encode(&q, out, sizeof out, &len), RECORD_ERR_EXT_BODY);

    assert_int_equal(record_ext_outcome_encode(&oc, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, 1 + 7 + 1 + 6 + 1);
    oc.agreement = 3;
    assert_int_equal(record_ext_outcome_encode(&oc, out, sizeof out, &len), RECORD_ERR_EXT_BODY);

    assert_int_equal(record_ext_scoring_encode(&sc, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_SCORING_LEN);
    sc.margin = -0.0;                                  /* refused, not normalised */
    assert_int_equal(record_ext_scoring_encode(&sc, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    sc.margin = INFINITY;
    assert_int_equal(record_ext_scoring_encode(&sc, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    sc.margin = 0.0;
    sc.route = 0;
    assert_int_equal(record_ext_scoring_encode(&sc, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    assert_int_equal(record_ext_outcome_decode(NULL, 1, &oc), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_outcome_decode(out, 1, NULL), RECORD_ERR_INVAL);
}

/* RECOMMENDATION and VERDICT encoders: sizes, bounds, flags and enums. */
static void
test_ext_encoders_v2(void **state)
{
    static uint8_t big[RECORD_EXT_STR_MAX + 1];
    uint8_t out[RECORD_EXT_VERDICT_MAX];
    struct record_ext_recommendation rc = { BYTES("deny"), 0.5, 0.7, 0.3,
                                            RECORD_REC_FLAG_REJECT_BAND | RECORD_REC_FLAG_SCORED };
    struct record_ext_verdict vd = { BYTES("approve"), BYTES("deny"), RECORD_AGREE_OVERRODE,
                                     BYTES("missing_doc"), BYTES("alice"), RECORD_VERDICT_FLAG_QA };
    size_t len = 0;

    (void)state;
    assert_true(RECORD_EXT_RECOMMENDATION_MAX <= sizeof out);
    assert_int_equal(record_ext_recommendation_encode(&rc, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, 1 + 4 + 24 + 1);
    assert_int_equal(record_ext_recommendation_encode(&rc, out, len - 1, &len), RECORD_ERR_BUFFER);
    rc.recommendation = (struct record_ext_bytes){ big, 256 };
    assert_int_equal(record_ext_recommendation_encode(&rc, out, sizeof out, &len),
                     RECORD_ERR_EXT_BODY);
    rc.recommendation = (struct record_ext_bytes){ big, 255 };
    assert_int_equal(record_ext_recommendation_encode(&rc, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_RECOMMENDATION_MAX);
    rc.flags = 0x08;
    assert_int_equal(record_ext_recommendation_encode(&rc, out, sizeof out, &len),
                     RECORD_ERR_EXT_BODY);
    rc.flags = 0;
    rc.reject_threshold = -0.0;
    assert_int_equal(record_ext_recommendation_encode(&rc, out, sizeof out, &len),
                     RECORD_ERR_EXT_BODY);
    assert_int_equal(record_ext_recommendation_encode(NULL, out, sizeof out, &len),
                     RECORD_ERR_INVAL);

    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, 8 + 5 + 1 + 12 + 6 + 1);
    vd.outcome = vd.recommendation = vd.root_cause = vd.reviewer =
        (struct record_ext_bytes){ big, 255 };
    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_VERDICT_MAX);
    vd.outcome.len = 0;                                /* outcome<1..255> */
    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    vd.outcome.len = 1;
    vd.agreement = RECORD_AGREE_NOT_COMPARABLE + 1;
    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    vd.agreement = RECORD_AGREE_NOT_COMPARABLE;
    vd.flags = 0x02;
    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    vd.flags = 0;
    vd.reviewer = (struct record_ext_bytes){ NULL, 2 };
    assert_int_equal(record_ext_verdict_encode(&vd, out, sizeof out, &len), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_verdict_decode(NULL, 1, &vd), RECORD_ERR_INVAL);
    assert_int_equal(record_ext_verdict_decode(out, 1, NULL), RECORD_ERR_INVAL);
}

/* Encoders of lists and long bodies: counts, enums, the u16 data bound. */
static void
test_ext_encoders_long(void **state)
{
    static uint8_t big[RECORD_EXT_DATA_MAX];
    uint8_t out[64];
    struct record_ext_rules rl = { .n = 1, .rule = { { RECORD_RULE_HARD, BYTES("r1") } } };
    struct record_ext_key_info ki = { RECORD_KEY_ROLE_LOG, RECORD_KEY_ADD, { big, 0 }, 7 };
    struct record_ext_checkpoint_ref cr = { { big, RECORD_EXT_DATA_MAX - 2 } };
    size_t len = 0;

    (void)state;
    assert_int_equal(record_ext_rules_encode(&rl, out, sizeof out, &len), RECORD_OK);
    rl.rule[0].kind = 0;
    assert_int_equal(record_ext_rules_encode(&rl, out, sizeof out, &len), RECORD_ERR_EXT_BODY);
    rl.n = RECORD_EXT_RULE_COUNT_MAX + 1;
    assert_int_equal(record_ext_rules_encode(&rl, out, sizeof out, &len), RECORD_ERR_EXT_BODY);

    assert_int_equal(record_ext_key_info_encode(&ki, out, sizeof out, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_KEY_INFO_LEN(0));
    ki.vkey.len = RECORD_EXT_DATA_MAX - RECORD_EXT_KEY_INFO_LEN(0) + 1;
    assert_int_equal(record_ext_key_info_encode(&ki, g_buf, sizeof g_buf, &len),
                     RECORD_ERR_EXT_BODY);
    ki.vkey.len--;
    assert_int_equal(record_ext_key_info_encode(&ki, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_DATA_MAX);
    ki.role = 5;
    assert_int_equal(record_ext_key_info_encode(&ki, g_buf, sizeof g_buf, &len),
                     RECORD_ERR_EXT_BODY);

    assert_int_equal(record_ext_checkpoint_ref_encode(&cr, g_buf, sizeof g_buf, &len), RECORD_OK);
    assert_int_equal(len, RECORD_EXT_DATA_MAX);
    cr.note.len++;
    assert_int_equal(record_ext_checkpoint_ref_encode(&cr, g_buf, sizeof g_buf, &len),
                     RECORD_ERR_EXT_BODY);
}

/* Random valid bodies of every type: encode, decode, encode again.  g_pool
 * holds random bytes for the byte fields. */
static uint8_t g_pool[256];

/* A random valid body of a record-level type (0010-0021). */
static int
rnd_ext_info(uint16_t type, uint8_t *out, size_t cap, size_t *len)
{
    struct record_ext_bytes s0 = { g_pool, rfx_rnd() % 256 };
    struct record_ext_model_info m;
    struct record_ext_policy_info p;
    struct record_ext_key_info k;
    struct record_ext_checkpoint_ref c;

    switch (type) {
    case RECORD_EXT_MODEL_INFO:
        rfx_rnd_bytes(m.training_manifest_digest, 32);
        rfx_rnd_bytes(m.eval_report_digest, 32);
        m.framework = s0;
        return record_ext_model_info_encode(&m, out, cap, len);
    case RECORD_EXT_POLICY_INFO:
        rfx_rnd_bytes(p.policy_doc_digest, 32);
        p.reason_registry_version = (uint16_t)rfx_rnd();
        p.threshold = rfx_rnd_f64() + 0.0;
        return record_ext_policy_info_encode(&p, out, cap, len);
    case RECORD_EXT_KEY_INFO:
        k = (struct record_ext_key_info){ (uint8_t)(1 + rfx_rnd() % 4), (uint8_t)(1 + rfx_rnd() % 3),
                                          s0, rfx_rnd() };
        return record_ext_key_info_encode(&k, out, cap, len);
    default:
        c.note = s0;
        return record_ext_checkpoint_ref_encode(&c, out, cap, len);
    }
}

static void
rnd_ext_body(uint16_t type, uint8_t *out, size_t cap, size_t *len)
{
    static struct record_ext_top_features tf;
    struct record_ext_bytes s1 = { g_pool, 1 + rfx_rnd() % 255 }, s0 = { g_pool, rfx_rnd() % 256 };
    union {
        struct record_ext_queue_ref q;     struct record_ext_submission sb;
        struct record_ext_latency l;       struct record_ext_outcome o;
        struct record_ext_scoring sc;      struct record_ext_rules r;
        struct record_ext_recommendation rc; struct record_ext_verdict v;
    } u;
    int rc = -1;

    rfx_rnd_bytes(g_pool, sizeof g_pool);
    memset(&u, 0, sizeof u);
    switch (type) {
    case RECORD_EXT_TOP_FEATURES:
        tf.n = (uint8_t)(rfx_rnd() % 4);
        for (unsigned i = 0; i < tf.n; i++)
            tf.f[i] = (struct record_ext_feature){ s1, rfx_rnd_f64() + 0.0, rfx_rnd_f64() + 0.0 };
        rc = record_ext_top_features_encode(&tf, out, cap, len);
        break;
    case RECORD_EXT_QUEUE_REF:
        u.q = (struct record_ext_queue_ref){ s1, (uint8_t)rfx_rnd(), rfx_rnd() };
        rc = record_ext_queue_ref_encode(&u.q, out, cap, len);
        break;
    case RECORD_EXT_SUBMISSION:
        u.sb = (struct record_ext_submission){ s1, s1, rfx_rnd() };
        rc = record_ext_submission_encode(&u.sb, out, cap, len);
        break;
    case RECORD_EXT_LATENCY:
        u.l.scoring_us = (uint32_t)rfx_rnd();
        rc = record_ext_latency_encode(&u.l, out, cap, len);
        break;
    case RECORD_EXT_OUTCOME:
        u.o = (struct record_ext_outcome){ s1, s0, (uint8_t)(rfx_rnd() % 3) };
        rc = record_ext_outcome_encode(&u.o, out, cap, len);
        break;
    case RECORD_EXT_SCORING:
        u.sc = (struct record_ext_scoring){ (uint8_t)(rfx_rnd() % 4), (uint8_t)(1 + rfx_rnd() % 5),
                                            (uint8_t)rfx_rnd(), rfx_rnd_f64() + 0.0, rfx_rnd_f64() + 0.0 };
        rc = record_ext_scoring_encode(&u.sc, out, cap, len);
        break;
    case RECORD_EXT_RULES:
        u.r.n = (uint8_t)(rfx_rnd() % (RECORD_EXT_RULE_COUNT_MAX + 1));
        for (unsigned i = 0; i < u.r.n; i++)
            u.r.rule[i] = (struct record_ext_rule){ (uint8_t)(1 + rfx_rnd() % 2),
                                                    { g_pool, 1 + rfx_rnd() % 16 } };
        rc = record_ext_rules_encode(&u.r, out, cap, len);
        break;
    case RECORD_EXT_RECOMMENDATION:
        u.rc = (struct record_ext_recommendation){ s0, rfx_rnd_f64() + 0.0, rfx_rnd_f64() + 0.0,
                                                   rfx_rnd_f64() + 0.0, (uint8_t)(rfx_rnd() % 8) };
        rc = record_ext_recommendation_encode(&u.rc, out, cap, len);
        break;
    case RECORD_EXT_VERDICT:
        u.v = (struct record_ext_verdict){ s1, s0, (uint8_t)(rfx_rnd() % 4), s0,
                                           { g_pool, rfx_rnd() % 32 }, (uint8_t)(rfx_rnd() % 2) };
        rc = record_ext_verdict_encode(&u.v, out, cap, len);
        break;
    default:
        rc = rnd_ext_info(type, out, cap, len);
        break;
    }
    assert_int_equal(rc, RECORD_OK);
}

static void
test_ext_roundtrip(void **state)
{
    static const uint16_t types[] = { 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007,
                                      0x0008, 0x0009, 0x0010, 0x0011, 0x0020, 0x0021 };
    uint8_t body[RECORD_EXT_TOP_FEATURES_MAX(4)], again[sizeof body];  /* > VERDICT_MAX */
    size_t len = 0, len2 = 0;

    (void)state;
    for (unsigned i = 0; i < 2000; i++) {
        uint16_t t = types[i % (sizeof types / sizeof types[0])];

        rnd_ext_body(t, body, sizeof body, &len);
        assert_int_equal(ext_recode(t, body, len, again, sizeof again, &len2), RECORD_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(again, body, len);
        assert_int_equal(record_ext_check(t, body, len), RECORD_OK);
        if (len > 0)                                   /* one byte short never parses */
            assert_int_equal(ext_recode(t, body, len - 1, again, sizeof again, &len2),
                             RECORD_ERR_EXT_BODY);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ext_decoders),
        cmocka_unit_test(test_ext_hitlq),
        cmocka_unit_test(test_ext_encoders),
        cmocka_unit_test(test_ext_encoders_v2),
        cmocka_unit_test(test_ext_encoders_long),
        cmocka_unit_test(test_ext_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
