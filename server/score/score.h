/*
 * score.h - the scoring core's interface: load a policy set (per item
 * type: field schema and validation rules, feature mapping, model, score
 * bands, hard rules, QA sampling), score an item's fields with an
 * explanation, and triage it (score_triage, in score_triage.c).
 *
 * Models sit behind `struct model` with an ops table: the logistic
 * scorecard (model_scorecard.c) and XGBoost JSON trees (model_tree.c over
 * model_xgb.c).  A loaded `struct scoring` is immutable and may be shared
 * read-only between threads; hot reload builds a whole new set and swaps
 * it (server.c), so a set never changes under a reader.
 */
#ifndef HITLQ_SCORE_H
#define HITLQ_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "hitlq_proto.h"

struct model;
struct score_result;
struct type_policy;
struct featmap;
struct schema;
struct cond;
struct profile;
struct four_eyes;

/* How a decision's contributions were computed (recorded with it). */
enum score_method {
    SCORE_METHOD_NONE   = HITLQ_METHOD_NONE,     /* not scored (data-quality routing) */
    SCORE_METHOD_LINEAR = HITLQ_METHOD_LINEAR,   /* scorecard: exact, w * (x - mean) */
    SCORE_METHOD_APPROX = HITLQ_METHOD_APPROX,   /* trees: path attribution (Saabas) */
    SCORE_METHOD_EXACT  = HITLQ_METHOD_EXACT,    /* trees: path-dependent TreeSHAP */
};

struct model_ops {
    const char *kind;   /* "scorecard", "xgboost" */
    /* Scores `fields` (a msgpack map, already checked by the protocol
     * layer) for type `tp` (its feature mapping for vector models) with
     * contributions by `method` (SCORE_METHOD_APPROX or _EXACT; linear
     * models are always exact).  Returns HITLQ_ST_OK or
     * HITLQ_ST_INVALID_ITEM with a message in out->err naming the field. */
    int  (*score)(const struct model *m, const struct type_policy *tp,
                  const msgpack_object *fields, int method, struct score_result *out);
    void (*free)(struct model *m);     /* releases m->impl; model_free frees m */
};

struct model {
    const struct model_ops *ops;
    char  id[HITLQ_MAX_NAME + 1];       /* "id@version" */
    uint8_t digest[32];                 /* SHA-256 of the model file bytes */
    void *impl;                         /* owned by the model kind */
};

struct score_reason {
    const char           *feature;     /* borrowed from the model */
    uint16_t              code;        /* reason code: model feature index + 1 */
    const msgpack_object *value;       /* borrowed from the fields; NULL = missing */
    double                contribution;
    bool                  missing;     /* the input was absent (or unknown) */
};

/* A model's inputs (a tree model's feature-mapping entries: featmap.h
 * FEATMAP_MAX_INPUTS; a scorecard has at most HITLQ_MAX_FIELDS) and the
 * reasons of one result: HITLQ_MAX_REASONS present inputs plus every
 * missing one. */
#define SCORE_MAX_INPUTS  2048u
#define SCORE_MAX_REASONS (HITLQ_MAX_REASONS + SCORE_MAX_INPUTS)

struct score_result {
    double   score;                    /* in [0, 1] */
    double   margin;                   /* raw margin (logit) behind score */
    double   base_margin;              /* phi_0: margin of the training means;
                                        * sum of all contributions = margin - base_margin */
    bool     complete;                 /* every model feature present and known */
    uint8_t  method;                   /* enum score_method of the reasons */
    size_t   n_reasons;                /* score_pick_reasons: <= SCORE_MAX_REASONS */
    struct score_reason reasons[SCORE_MAX_REASONS];
    char     err[160];
};

/* A review band: items scored in [min_score, next band's min) that go to
 * humans get this priority and SLA. */
struct score_band {
    double   min_score;
    uint32_t priority;
    uint64_t sla_seconds;
};

/* A hard rule: when its condition holds the item goes to humans whatever
 * its score (e.g. an amount over the automation authority limit). */
struct score_hard_rule {
    char         id[HITLQ_MAX_NAME + 1];
    struct cond *cond;                  /* owned */
    char         queue[HITLQ_MAX_QUEUE_NAME + 1];   /* "" = the type's queue */
    uint32_t     priority;              /* used if higher than the band's */
};

struct type_policy {
    char     type[HITLQ_MAX_NAME + 1];
    const struct model *model;          /* borrowed from the scoring set */
    struct schema  *schema;             /* owned; NULL: no declared fields/checks */
    struct featmap *featmap;            /* owned; vector models only */
    size_t   score_class;               /* multi-class models: the scored class */
    double   auto_threshold;            /* score >= this and complete -> auto */
    char     auto_action[HITLQ_MAX_NAME + 1];
    bool     has_reject;                /* auto-reject band configured: */
    double   reject_threshold;          /* score <= this and complete -> reject */
    char     reject_action[HITLQ_MAX_NAME + 1];
    double   lean_threshold;            /* the recommendation's side: score >= this
                                         * leans to auto_action (key "lean_threshold";
                                         * default the midpoint of the two thresholds,
                                         * or auto_threshold without a reject band) */
    char   (*actions)[HITLQ_MAX_NAME + 1];   /* owned: key "actions", other outcomes */
    size_t   n_actions;
    char   (*root_causes)[HITLQ_MAX_NAME + 1];   /* owned: key "root_causes" */
    size_t   n_root_causes;             /* 0: RESOLVE's root_cause is not checked */
    char   (*escalate_to)[HITLQ_MAX_NAME + 1];   /* owned: key "escalate_to", */
    size_t   n_escalate_to;             /* queue names ESCALATE may use as well */
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t priority;                  /* review default (no band matched) */
    uint64_t sla_seconds;
    struct score_band *bands;           /* owned; descending min_score */
    size_t   n_bands;
    struct score_hard_rule *hard;       /* owned, file order */
    size_t   n_hard;
    char     dq_queue[HITLQ_MAX_QUEUE_NAME + 1];   /* data-quality queue */
    uint32_t dq_priority;
    uint64_t dq_sla_seconds;
    double   qa_rate;                   /* QA sample fraction of auto items, 0 = off */
    char     qa_queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t qa_priority;
    uint64_t qa_sla_seconds;
    uint8_t  qa_key[16];                /* SipHash key: BLAKE2b-128 of "qa_sample".seed */
    uint8_t  explain_auto;              /* at SUBMIT: SCORE_METHOD_APPROX or _EXACT */
    uint8_t  explain_review;            /* at CLAIM (explain.h): APPROX or EXACT */
    struct profile *profile;            /* owned; NULL: no input-drift profile (profile.h) */
    bool     claim_by_id;               /* key "claim_by_id": CLAIM_ID allowed (default false) */
    struct four_eyes *four_eyes;        /* owned; NULL: no four-eyes review (four_eyes.h) */
};

struct scoring;   /* opaque: the loaded policy set and its models */

/* Loads the policy file at `path` (JSON, format in README "Policy and
 * model files") and every model it names (paths relative to the policy
 * file).  path == NULL loads the embedded default policy (credit_policy.json:
 * the XGBoost model credit_xgb.json, with its profile) for
 * `credit_application`.  Returns 0 or -1 with a message in err. */
int  scoring_load(struct scoring **out, const char *path, char *err, size_t errlen);
void scoring_free(struct scoring *s);              /* NULL is a no-op */

const char *scoring_policy_id(const struct scoring *s);   /* "id@version" */
/* SHA-256 of the policy file's bytes (32 bytes, owned by s). */
const uint8_t *scoring_policy_digest(const struct scoring *s);
/* The type policies in file order (i < scoring_n_types), for the audit
 * log's MODEL_REGISTERED / POLICY_CHANGE entries. */
size_t scoring_n_types(const struct scoring *s);
/* True when some type scores with a tree model: only then can an item's
 * explanation be made exact (explain.h). */
bool scoring_has_trees(const struct scoring *s);
const struct type_policy *scoring_type_at(const struct scoring *s, size_t i);

/* The policy for `type`, or NULL (-> HITLQ_ST_UNKNOWN_TYPE). */
const struct type_policy *scoring_policy(const struct scoring *s, const char *type);

/* Scores `fields` with the type's model, contributions by the type's
 * explain_auto method. */
int score_item(const struct type_policy *p, const msgpack_object *fields,
               struct score_result *out);
/* The same with an explicit method (SCORE_METHOD_APPROX / _EXACT). */
int score_item_method(const struct type_policy *p, const msgpack_object *fields,
                      int method, struct score_result *out);

/* Fills out->reasons from the n per-input contributions phi (score_pick.c):
 * the HITLQ_MAX_REASONS present inputs with the largest |phi| and every
 * input with missing[i], ordered by |phi| descending, then names[i]
 * (bytewise), then input order; code = input index + 1, value = vals[i].
 * At most SCORE_MAX_INPUTS inputs are considered. */
void score_pick_reasons(struct score_result *out, size_t n, const double *phi,
                        const msgpack_object *const *vals, const bool *missing,
                        const char *const *names);

/* The triage rule of PROTOCOL.md §4.3: complete and score >= threshold. */
bool score_auto_resolves(const struct type_policy *p, const struct score_result *r);

/* True when outcome is one of the type's declared actions: auto_action,
 * reject_action (with a reject band) or one of "actions" (RESOLVE refuses
 * the others with HITLQ_ST_INVALID_OUTCOME). */
bool score_outcome_declared(const struct type_policy *p, const char *outcome);

/* The queues set s knows (score_queues.c): `extra` (the server's
 * dead-letter queue; may be NULL) and every queue its types name (review,
 * hard-rule, data-quality and QA-sample queues, "escalate_to" lists),
 * sorted (strcmp), each once, at most cap of them borrowed into out
 * (*truncated, if not NULL, says when more were left out).  Returns how
 * many were stored. */
size_t scoring_queues(const struct scoring *s, const char *extra, const char **out,
                      size_t cap, bool *truncated);
/* True when name is one of scoring_queues(s, extra, ...). */
bool scoring_queue_known(const struct scoring *s, const char *extra, const char *name);

/* ---- SLA clocks (score_sla.c) ------------------------------------------ */

#define SCORE_SLA_MAX_STEPS  3u      /* levels 50, 75, 100 (% of the budget) */
#define SCORE_MAX_SLA_QUEUES 1024u

/* One ladder step: at `level` % of the budget, what hitlqd does. */
struct score_sla_step {
    uint8_t  level;                  /* 50, 75 or 100 */
    bool     has_raise;              /* raise the priority to raise_priority */
    uint32_t raise_priority;         /* (never lowers it) */
    char     move_to[HITLQ_MAX_QUEUE_NAME + 1];   /* "" = stay */
    bool     notify;                 /* an `event: "sla"` result */
};

/* A queue's SLA declaration (policy top-level "queues"). */
struct score_sla {
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint64_t sla_seconds;            /* 0: the type's / band's budget */
    size_t   n_steps;                /* <= SCORE_SLA_MAX_STEPS, ascending levels */
    struct score_sla_step steps[SCORE_SLA_MAX_STEPS];
};

/* The SLA declaration of `queue` in s, or NULL when it declares none. */
const struct score_sla *scoring_sla(const struct scoring *s, const char *queue);

/* True when the type declares no "root_causes" or root_cause is one of
 * them (RESOLVE refuses the others with HITLQ_ST_INVALID_ROOT_CAUSE). */
bool score_root_cause_declared(const struct type_policy *p, const char *root_cause);

/* ---- triage (score_triage.c) ------------------------------------------ */

/* Where an item goes (recorded in the audit log's SCORING extension). */
enum triage_route {
    TRIAGE_AUTO_APPROVE = HITLQ_ROUTE_AUTO_APPROVE,  /* score >= auto_threshold, complete */
    TRIAGE_AUTO_REJECT  = HITLQ_ROUTE_AUTO_REJECT,   /* score <= auto_reject_threshold, complete */
    TRIAGE_REVIEW       = HITLQ_ROUTE_REVIEW,        /* between the bands, or incomplete */
    TRIAGE_HARD_RULE    = HITLQ_ROUTE_HARD_RULE,     /* a hard rule forced human review */
    TRIAGE_DATA_QUALITY = HITLQ_ROUTE_DATA_QUALITY,  /* broke a validation rule: not scored */
};

#define TRIAGE_MAX_RULES  16u        /* rule hits kept per decision */
#define TRIAGE_CODE_CHECK 0x8000u    /* reason code of validation rule i: | i */
#define TRIAGE_CODE_HARD  0x4000u    /* reason code of hard rule i: | i */

struct triage_rule {
    uint8_t     kind;                /* 1 validation rule, 2 hard rule */
    uint16_t    code;                /* TRIAGE_CODE_* | rule index */
    const char *id;                  /* borrowed from the policy */
    const char *field;               /* borrowed */
    const char *message;             /* borrowed */
};

struct triage {
    struct score_result r;           /* r.method NONE when not scored */
    uint8_t     route;               /* enum triage_route */
    bool        is_auto;
    const char *action;              /* is_auto: borrowed from the policy */
    const char *queue;               /* !is_auto: borrowed from the policy */
    uint32_t    priority;
    uint64_t    sla_seconds;
    bool        qa;                  /* auto, and sampled for blind QA review */
    size_t      n_rules;             /* <= TRIAGE_MAX_RULES */
    size_t      n_rules_total;       /* all broken / fired rules */
    struct triage_rule rules[TRIAGE_MAX_RULES];
};

/* Triage of an item (PROTOCOL.md §4.3): validation rules -> data-quality
 * queue; else score (contributions by explain_auto), hard rules, bands
 * (auto-approve / auto-reject / review with the band's priority and SLA),
 * and the seeded QA sample of auto items (by key: reproducible).  Exact
 * contributions for items sent to humans (explain_review) are computed
 * when they are claimed (explain.h).  Returns HITLQ_ST_OK, or the model's
 * HITLQ_ST_INVALID_ITEM (message in t->r.err) for a type without a field
 * schema whose item the model cannot read. */
int score_triage(const struct type_policy *p, const char *key, const msgpack_object *fields,
                 struct triage *t);
/* The model's recommendation for a triaged item, in the policy's own
 * action names (proto/AUDIT-FORMAT.md §3.4, RECOMMENDATION): unscored
 * (data quality) -> ""; score >= p->lean_threshold -> auto_action; below
 * it -> reject_action with a reject band, else "".  Borrowed from p. */
const char *score_recommendation(const struct type_policy *p, const struct triage *t);

/* Wire names, from the one table in hitlq_proto.h (triage_name.h):
 * "auto_approve", "auto_reject", "review", "hard_rule", "data_quality",
 * "qa_sample" (a blind QA copy); "none", "linear", "approx", "exact".
 * "unknown" for anything else. */
const char *score_route_name(unsigned route);
const char *score_method_name(unsigned method);

/* The QA-sample draw for key: true with probability p->qa_rate. */
bool score_qa_sampled(const struct type_policy *p, const char *key);

/* Loads one scorecard model from JSON bytes (exposed for tests and the
 * benchmark).  Returns NULL with a message in err. */
struct model *scorecard_load(const char *json, size_t len, char *err, size_t errlen);
void model_free(struct model *m);                 /* NULL is a no-op */
/* Loads an XGBoost JSON model (model_tree.c); id is "id@version".  The
 * model is bound to each type's feature mapping by model_tree_bind. */
struct model *model_tree_load(const char *json, size_t len, const char *id,
                              char *err, size_t errlen);
/* Binds tp->featmap to the tree model's features and checks tp->score_class;
 * a mismatch is an error with a clear message.  0 or -1. */
int model_tree_bind(const struct model *m, struct type_policy *tp, const char *where,
                    char *err, size_t errlen);
/* Checks that every field a scorecard reads is declared in the type's
 * schema with a compatible type (model_scorecard.c).  0 or -1. */
int scorecard_check_schema(const struct model *m, const struct schema *s,
                           const char *where, char *err, size_t errlen);
bool model_is_tree(const struct model *m);

#endif
