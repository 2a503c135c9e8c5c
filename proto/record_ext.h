/*
 * record_ext.h - the extensions of AXR1 audit records (proto/AUDIT-FORMAT.md
 * §3.4): the one list of extension type ids, and for every defined type a
 * struct, an encoder (struct -> body bytes in a caller buffer) and a strict
 * decoder (body bytes -> struct).  hitlqd (server/audit/), hitlq-audit
 * (client/audit/), proto/record.c's validation and the tests all use these;
 * no other code writes or parses an extension body.
 *
 * Pure functions: no I/O, no allocation, no global state.
 *
 * Conventions (proto/README.md): every function returns RECORD_OK (0) or a
 * negative RECORD_ERR_* code of proto/record.h (record_strerror names it):
 *   RECORD_ERR_INVAL     a NULL argument, or a byte field with data NULL and
 *                        len > 0;
 *   RECORD_ERR_EXT_BODY  decode: the body does not parse exactly (ends
 *                        early, bytes left over, an opaque out of its
 *                        bounds, an unknown enum value, an f64 that is NaN,
 *                        infinite or -0); encode: a field the decoder would
 *                        refuse, or a body above RECORD_EXT_DATA_MAX;
 *   RECORD_ERR_BUFFER    encode: out is NULL or cap is too small (checked
 *                        after the fields: a bad field wins).
 * An encoder writes exactly the bytes its decoder accepts and decodes back to
 * the same struct; f64 -0 is refused, not normalised (callers that may hold
 * -0 write +0 themselves).  A decoder's byte fields are BORROWED from the
 * body (valid while it is); on error its output is unspecified.
 */
#ifndef HITLQ_RECORD_EXT_H
#define HITLQ_RECORD_EXT_H

#include <stddef.h>
#include <stdint.h>

/* Extension type ids (u16, strictly ascending in a record). */
enum record_ext_type {
    RECORD_EXT_TOP_FEATURES   = 0x0001,
    RECORD_EXT_QUEUE_REF      = 0x0002,
    RECORD_EXT_SUBMISSION     = 0x0003,
    RECORD_EXT_LATENCY        = 0x0004,
    RECORD_EXT_OUTCOME        = 0x0005,   /* hitlq (reserved range 0005-000F) */
    RECORD_EXT_SCORING        = 0x0006,   /* hitlq */
    RECORD_EXT_RULES          = 0x0007,   /* hitlq */
    RECORD_EXT_RECOMMENDATION = 0x0008,   /* hitlq, format v2 */
    RECORD_EXT_VERDICT        = 0x0009,   /* hitlq, format v2 */
    RECORD_EXT_PROFILE        = 0x000A,   /* hitlq: input-drift reference */
    RECORD_EXT_INPUT_COUNTS   = 0x000B,   /* hitlq: input-drift window */
    RECORD_EXT_REVIEW         = 0x000C,   /* hitlq: four-eyes verdict k of n */
    RECORD_EXT_MODEL_INFO     = 0x0010,
    RECORD_EXT_POLICY_INFO    = 0x0011,
    RECORD_EXT_KEY_INFO       = 0x0020,
    RECORD_EXT_CHECKPOINT_REF = 0x0021,
    RECORD_EXT_PRIVATE_MIN    = 0x8000,   /* 8000-FFFF: private, opaque */
};

/* ---- bounds ---------------------------------------------------------------- */

#define RECORD_EXT_DATA_MAX       65535u  /* u16 len of one extension's data */
#define RECORD_EXT_STR_MAX        255u    /* opaque<..255> */
#define RECORD_EXT_DIGEST_LEN     32u     /* SHA-256 digests in MODEL/POLICY_INFO */
#define RECORD_EXT_FEATURES_MAX   255u    /* TOP_FEATURES: u8 k */
#define RECORD_EXT_RULE_COUNT_MAX 16u     /* RULES: u8 n (0..16) */
/* Largest body of each type (buffer sizes for the encoders). */
#define RECORD_EXT_TOP_FEATURES_MAX(k) (1u + (k) * (1u + RECORD_EXT_STR_MAX + 16u))
#define RECORD_EXT_QUEUE_REF_MAX  (1u + RECORD_EXT_STR_MAX + 1u + 8u)
#define RECORD_EXT_SUBMISSION_MAX (2u * (1u + RECORD_EXT_STR_MAX) + 8u)
#define RECORD_EXT_LATENCY_LEN    4u
#define RECORD_EXT_OUTCOME_MAX    (2u * (1u + RECORD_EXT_STR_MAX) + 1u)
#define RECORD_EXT_RECOMMENDATION_MAX (1u + RECORD_EXT_STR_MAX + 3u * 8u + 1u)
#define RECORD_EXT_VERDICT_MAX    (4u * (1u + RECORD_EXT_STR_MAX) + 2u)
#define RECORD_EXT_SCORING_LEN    19u
#define RECORD_EXT_REVIEW_LEN     3u
#define RECORD_EXT_RULES_MAX      (1u + RECORD_EXT_RULE_COUNT_MAX * (2u + RECORD_EXT_STR_MAX))
#define RECORD_EXT_MODEL_INFO_MAX (2u * RECORD_EXT_DIGEST_LEN + 1u + RECORD_EXT_STR_MAX)
#define RECORD_EXT_POLICY_INFO_LEN (RECORD_EXT_DIGEST_LEN + 2u + 8u)
#define RECORD_EXT_KEY_INFO_LEN(vkey_len) (4u + (vkey_len) + 8u)
/* PROFILE and INPUT_COUNTS (input drift): at most 64 features, each with
 * 1..64 bins (a numeric feature: bins - 1 inner edges; a categorical one:
 * one bin per category).  A PROFILE body must also fit the u16 data bound
 * (RECORD_EXT_DATA_MAX): 64 categorical features with 64 long category
 * names do not, and the encoder refuses them (RECORD_ERR_EXT_BODY). */
#define RECORD_EXT_DRIFT_FEATURES_MAX 64u
#define RECORD_EXT_DRIFT_BINS_MAX     64u
#define RECORD_EXT_INPUT_COUNTS_MAX                                              \
    (RECORD_EXT_DIGEST_LEN + 1u + RECORD_EXT_STR_MAX + 8u + 8u + 4u + 1u +        \
     RECORD_EXT_DRIFT_FEATURES_MAX * (1u + RECORD_EXT_DRIFT_BINS_MAX * 4u + 8u))

/* ---- enumerations inside bodies ------------------------------------------- */

enum record_ext_agreement {            /* OUTCOME (0..2) and VERDICT (0..3) agreement */
    RECORD_AGREE_NONE     = 0,          /* no human verdict (an event) */
    RECORD_AGREE_AGREED   = 1,
    RECORD_AGREE_OVERRODE = 2,
    RECORD_AGREE_NOT_COMPARABLE = 3,    /* VERDICT only: no recommendation, or escalate */
};

/* RECOMMENDATION flags; the other bits MUST be 0. */
#define RECORD_REC_FLAG_REJECT_BAND 0x01u  /* the type has a reject band */
#define RECORD_REC_FLAG_SCORED      0x02u  /* score meaningful (else read it as null) */
#define RECORD_REC_FLAG_HARD_RULE   0x04u  /* routed by a hard rule */
#define RECORD_REC_FLAGS_ALL        0x07u
/* VERDICT flags; the other bits MUST be 0. */
#define RECORD_VERDICT_FLAG_QA      0x01u  /* the item is a blind QA copy */
#define RECORD_VERDICT_FLAGS_ALL    0x01u

enum record_ext_method {               /* SCORING method */
    RECORD_METHOD_NONE     = 0,
    RECORD_METHOD_LINEAR   = 1,
    RECORD_METHOD_PATH     = 2,         /* path attribution */
    RECORD_METHOD_TREESHAP = 3,
};

enum record_ext_route {                /* SCORING route */
    RECORD_ROUTE_AUTO_APPROVE = 1,
    RECORD_ROUTE_AUTO_REJECT  = 2,
    RECORD_ROUTE_REVIEW       = 3,
    RECORD_ROUTE_HARD_RULE    = 4,
    RECORD_ROUTE_DATA_QUALITY = 5,
};
#define RECORD_SCORING_FLAG_QA 0x01u   /* SCORING flags bit 0: drawn for QA */

enum record_ext_rule_kind {            /* RULES kind */
    RECORD_RULE_VALIDATION = 1,
    RECORD_RULE_HARD       = 2,
};

enum record_ext_feature_kind {         /* PROFILE feature kind */
    RECORD_FEATURE_NUMERIC     = 1,
    RECORD_FEATURE_CATEGORICAL = 2,
};

enum record_ext_key_role {             /* KEY_INFO role */
    RECORD_KEY_ROLE_LOG     = 1,
    RECORD_KEY_ROLE_WITNESS = 2,
    RECORD_KEY_ROLE_ACTOR   = 3,
    RECORD_KEY_ROLE_AUDITOR = 4,
};

enum record_ext_key_action {           /* KEY_INFO action */
    RECORD_KEY_ADD    = 1,
    RECORD_KEY_RETIRE = 2,
    RECORD_KEY_REVOKE = 3,
};

/* ---- bodies ----------------------------------------------------------------- */

/* Bytes of a body field (opaque<..255>, a vkey, a note): not NUL-terminated;
 * data may be NULL when len == 0. */
struct record_ext_bytes {
    const uint8_t *data;
    size_t         len;
};

/* 0001: u8 k; k x {opaque name<1..255>; f64 value; f64 contribution}. */
struct record_ext_feature {
    struct record_ext_bytes name;
    double                  value, contribution;
};
struct record_ext_top_features {
    uint8_t                   n;
    struct record_ext_feature f[RECORD_EXT_FEATURES_MAX];   /* first n used */
};

/* 0002: opaque queue<1..255>; u8 priority; u64 sla_deadline_ms. */
struct record_ext_queue_ref {
    struct record_ext_bytes queue;
    uint8_t                 priority;
    uint64_t                sla_deadline_ms;
};

/* 0003: opaque bot_id<1..255>; opaque request_id<1..255>; u64 submitted_ms. */
struct record_ext_submission {
    struct record_ext_bytes bot_id, request_id;
    uint64_t                submitted_ms;
};

/* 0004: u32 scoring_us. */
struct record_ext_latency {
    uint32_t scoring_us;
};

/* 0005: opaque outcome<1..255>; opaque recommendation<0..255>; u8 agreement. */
struct record_ext_outcome {
    struct record_ext_bytes outcome, recommendation;
    uint8_t                 agreement;          /* enum record_ext_agreement */
};

/* 0006: u8 method; u8 route; u8 flags; f64 margin; f64 base value. */
struct record_ext_scoring {
    uint8_t method;                             /* enum record_ext_method */
    uint8_t route;                              /* enum record_ext_route */
    uint8_t flags;                              /* RECORD_SCORING_FLAG_*; any bits */
    double  margin, base_value;
};

/* 0007: u8 n (0..16); n x {u8 kind; opaque rule_id<1..255>}. */
struct record_ext_rule {
    uint8_t                 kind;               /* enum record_ext_rule_kind */
    struct record_ext_bytes id;
};
struct record_ext_rules {
    uint8_t                n;
    struct record_ext_rule rule[RECORD_EXT_RULE_COUNT_MAX];
};

/* 0008: opaque recommendation<0..255>; f64 lean_threshold; f64 auto_threshold;
 * f64 reject_threshold; u8 flags (RECORD_REC_FLAG_*). */
struct record_ext_recommendation {
    struct record_ext_bytes recommendation;     /* empty = none */
    double                  lean_threshold, auto_threshold, reject_threshold;
    uint8_t                 flags;
};

/* 0009: opaque outcome<1..255>; opaque recommendation<0..255>; u8 agreement
 * (0..3); opaque root_cause<0..255>; opaque reviewer<0..255>; u8 flags
 * (RECORD_VERDICT_FLAG_*). */
struct record_ext_verdict {
    struct record_ext_bytes outcome, recommendation;
    uint8_t                 agreement;          /* enum record_ext_agreement */
    struct record_ext_bytes root_cause, reviewer;
    uint8_t                 flags;
};

/* 000C REVIEW (four-eyes review), on a human verdict entry of an item that
 * needs several independent verdicts: u8 k (this is verdict k, 1..n);
 * u8 n (verdicts the item needed when k was given, 2..5, k <= n); u8 flags
 * (RECORD_REVIEW_FLAG_*). */
#define RECORD_REVIEW_FLAG_SHOWN 0x01u  /* the reviewer was shown the recommendation */
#define RECORD_REVIEW_FLAG_FINAL 0x02u  /* this verdict closed the item (n agreed) */
#define RECORD_REVIEW_FLAGS_ALL  0x03u
struct record_ext_review {
    uint8_t k, n, flags;
};

int record_ext_review_encode(const struct record_ext_review *in, uint8_t *out, size_t cap,
                             size_t *len);
int record_ext_review_decode(const uint8_t *data, size_t len, struct record_ext_review *out);

/* 000A: u8 profile_digest[32]; opaque version<0..255>; u32 n (reference
 * rows); u8 k (1..64); k x feature {opaque name<1..255>; u8 kind (1
 * numeric, 2 categorical); u8 m (bins, 1..64); numeric: (m - 1) x f64 edge,
 * strictly ascending; categorical: m x opaque category<1..255>, strictly
 * ascending bytewise; m x u32 count; u32 missing}, with, per feature,
 * sum(count) + missing == n.  A numeric value v falls in bin "number of
 * edges <= v"; a categorical value in its category's bin. */
struct record_ext_profile_feature {
    struct record_ext_bytes name;
    uint8_t                 kind;               /* enum record_ext_feature_kind */
    uint8_t                 n_bins;             /* 1..64 */
    double                  edge[RECORD_EXT_DRIFT_BINS_MAX - 1];   /* numeric */
    struct record_ext_bytes category[RECORD_EXT_DRIFT_BINS_MAX];   /* categorical */
    uint32_t                count[RECORD_EXT_DRIFT_BINS_MAX];
    uint32_t                missing;
};
/* About 110 KB: allocate it (or make it static), not on a small stack. */
struct record_ext_profile {
    uint8_t                           digest[RECORD_EXT_DIGEST_LEN];
    struct record_ext_bytes           version;
    uint32_t                          n;
    uint8_t                           n_features;   /* 1..64 */
    struct record_ext_profile_feature f[RECORD_EXT_DRIFT_FEATURES_MAX];
};

/* 000B: u8 profile_digest[32]; opaque item_type<1..255>; u64 window_start_ms;
 * u64 window_end_ms (> start); u32 n (items); u8 k (1..64); k x {u8 m
 * (1..64); m x u32 count; u32 missing; u32 unseen}, with, per feature,
 * sum(count) + missing + unseen == n.  Feature i and its bins are those of
 * feature i of the PROFILE with that digest.  PROFILE and INPUT_COUNTS are
 * in hitlq's range 0005-000F: opaque to record_ext_check, like OUTCOME. */
struct record_ext_input_feature {
    uint8_t  n_bins;                            /* 1..64 */
    uint32_t count[RECORD_EXT_DRIFT_BINS_MAX];
    uint32_t missing, unseen;
};
struct record_ext_input_counts {
    uint8_t                         profile_digest[RECORD_EXT_DIGEST_LEN];
    struct record_ext_bytes         item_type;
    uint64_t                        window_start_ms, window_end_ms;
    uint32_t                        n;
    uint8_t                         n_features;   /* 1..64 */
    struct record_ext_input_feature f[RECORD_EXT_DRIFT_FEATURES_MAX];
};

/* 0010: u8 training_manifest_digest[32]; u8 eval_report_digest[32];
 * opaque framework<0..255>. */
struct record_ext_model_info {
    uint8_t                 training_manifest_digest[RECORD_EXT_DIGEST_LEN];
    uint8_t                 eval_report_digest[RECORD_EXT_DIGEST_LEN];
    struct record_ext_bytes framework;
};

/* 0011: u8 policy_doc_digest[32]; u16 reason_registry_version; f64 threshold. */
struct record_ext_policy_info {
    uint8_t  policy_doc_digest[RECORD_EXT_DIGEST_LEN];
    uint16_t reason_registry_version;
    double   threshold;
};

/* 0020: u8 role; u8 action; u16 vkey_len; vkey; u64 effective_from_size. */
struct record_ext_key_info {
    uint8_t                 role;               /* enum record_ext_key_role */
    uint8_t                 action;             /* enum record_ext_key_action */
    struct record_ext_bytes vkey;               /* any bytes, len <= 65523 */
    uint64_t                effective_from_size;
};

/* 0021: u16 n; a signed note of n bytes (n = data length - 2; the note's
 * content is not checked here). */
struct record_ext_checkpoint_ref {
    struct record_ext_bytes note;
};

/* ---- codecs ----------------------------------------------------------------
 * record_ext_<name>_encode writes the body of *in into out[0..cap) and its
 * length into *len; record_ext_<name>_decode parses exactly data[0..len)
 * into *out (data may be NULL when len == 0).  Errors: see the top. */

int record_ext_top_features_encode(const struct record_ext_top_features *in, uint8_t *out,
                                   size_t cap, size_t *len)
    __attribute__((warn_unused_result));
int record_ext_top_features_decode(const uint8_t *data, size_t len,
                                   struct record_ext_top_features *out)
    __attribute__((warn_unused_result));

int record_ext_queue_ref_encode(const struct record_ext_queue_ref *in, uint8_t *out,
                                size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_queue_ref_decode(const uint8_t *data, size_t len,
                                struct record_ext_queue_ref *out)
    __attribute__((warn_unused_result));

int record_ext_submission_encode(const struct record_ext_submission *in, uint8_t *out,
                                 size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_submission_decode(const uint8_t *data, size_t len,
                                 struct record_ext_submission *out)
    __attribute__((warn_unused_result));

int record_ext_latency_encode(const struct record_ext_latency *in, uint8_t *out,
                              size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_latency_decode(const uint8_t *data, size_t len,
                              struct record_ext_latency *out)
    __attribute__((warn_unused_result));

int record_ext_outcome_encode(const struct record_ext_outcome *in, uint8_t *out,
                              size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_outcome_decode(const uint8_t *data, size_t len,
                              struct record_ext_outcome *out)
    __attribute__((warn_unused_result));

int record_ext_scoring_encode(const struct record_ext_scoring *in, uint8_t *out,
                              size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_scoring_decode(const uint8_t *data, size_t len,
                              struct record_ext_scoring *out)
    __attribute__((warn_unused_result));

int record_ext_rules_encode(const struct record_ext_rules *in, uint8_t *out,
                            size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_rules_decode(const uint8_t *data, size_t len, struct record_ext_rules *out)
    __attribute__((warn_unused_result));

int record_ext_recommendation_encode(const struct record_ext_recommendation *in,
                                     uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
int record_ext_recommendation_decode(const uint8_t *data, size_t len,
                                     struct record_ext_recommendation *out)
    __attribute__((warn_unused_result));

int record_ext_verdict_encode(const struct record_ext_verdict *in, uint8_t *out,
                              size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_verdict_decode(const uint8_t *data, size_t len,
                              struct record_ext_verdict *out)
    __attribute__((warn_unused_result));

int record_ext_profile_encode(const struct record_ext_profile *in, uint8_t *out,
                              size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_profile_decode(const uint8_t *data, size_t len,
                              struct record_ext_profile *out)
    __attribute__((warn_unused_result));

int record_ext_input_counts_encode(const struct record_ext_input_counts *in, uint8_t *out,
                                   size_t cap, size_t *len)
    __attribute__((warn_unused_result));
int record_ext_input_counts_decode(const uint8_t *data, size_t len,
                                   struct record_ext_input_counts *out)
    __attribute__((warn_unused_result));

int record_ext_model_info_encode(const struct record_ext_model_info *in, uint8_t *out,
                                 size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_model_info_decode(const uint8_t *data, size_t len,
                                 struct record_ext_model_info *out)
    __attribute__((warn_unused_result));

int record_ext_policy_info_encode(const struct record_ext_policy_info *in, uint8_t *out,
                                  size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_policy_info_decode(const uint8_t *data, size_t len,
                                  struct record_ext_policy_info *out)
    __attribute__((warn_unused_result));

int record_ext_key_info_encode(const struct record_ext_key_info *in, uint8_t *out,
                               size_t cap, size_t *len) __attribute__((warn_unused_result));
int record_ext_key_info_decode(const uint8_t *data, size_t len,
                               struct record_ext_key_info *out)
    __attribute__((warn_unused_result));

int record_ext_checkpoint_ref_encode(const struct record_ext_checkpoint_ref *in,
                                     uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));
int record_ext_checkpoint_ref_decode(const uint8_t *data, size_t len,
                                     struct record_ext_checkpoint_ref *out)
    __attribute__((warn_unused_result));

/* The check proto/record.c makes on every extension it encodes or decodes:
 * RECORD_OK when type is one the record codec knows (0001-0004, 0010,
 * 0011, 0020, 0021) and its body decodes, or when type is opaque to the
 * record codec; RECORD_ERR_EXT_BODY otherwise.  hitlq's own types in the
 * reserved range 0005-000F (OUTCOME, SCORING, RULES, RECOMMENDATION,
 * VERDICT) are opaque here (AUDIT-FORMAT.md §3.4): a hitlq reader decodes
 * them with their own decoders above. */
int record_ext_check(uint16_t type, const uint8_t *data, size_t len)
    __attribute__((warn_unused_result));

#endif /* HITLQ_RECORD_EXT_H */
