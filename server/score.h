/*
 * score.h - the scoring core's one small interface: load a policy set
 * (per item type: model, threshold, action, queue, priority, SLA), score an
 * item's fields, and turn the score into a triage decision.
 *
 * Models sit behind `struct model` with an ops table so that XGBoost trees
 * (a later issue) plug in beside the logistic scorecard without changing
 * callers.  A loaded `struct scoring` is immutable and may be shared
 * read-only between threads; hot reload (later) swaps whole sets.
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

struct model_ops {
    const char *kind;   /* "scorecard" */
    /* Scores `fields` (a msgpack map, already validated by the protocol
     * layer).  Returns HITLQ_ST_OK or HITLQ_ST_INVALID_ITEM with a message
     * in out->err naming the field. */
    int  (*score)(const struct model *m, const msgpack_object *fields,
                  struct score_result *out);
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
};

struct score_result {
    double   score;                    /* in [0, 1] */
    double   margin;                   /* raw margin (logit) behind score */
    double   base_margin;              /* phi_0: margin of the training means;
                                        * sum of all contributions = margin - base_margin */
    bool     complete;                 /* every model feature present and known */
    size_t   n_reasons;                /* <= HITLQ_MAX_REASONS, largest |contribution| first */
    struct score_reason reasons[HITLQ_MAX_REASONS];
    char     err[160];
};

struct type_policy {
    char     type[HITLQ_MAX_NAME + 1];
    const struct model *model;          /* borrowed from the scoring set */
    double   auto_threshold;            /* score >= this and complete -> auto */
    char     auto_action[HITLQ_MAX_NAME + 1];
    char     queue[HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t priority;
    uint64_t sla_seconds;
};

struct scoring;   /* opaque: the loaded policy set and its models */

/* Loads the policy file at `path` (JSON, format in README "Policy and
 * model files") and every model it names (paths relative to the policy
 * file).  path == NULL loads the embedded default policy and scorecard for
 * `credit_application`.  Returns 0 or -1 with a message in err. */
int  scoring_load(struct scoring **out, const char *path, char *err, size_t errlen);
void scoring_free(struct scoring *s);              /* NULL is a no-op */

const char *scoring_policy_id(const struct scoring *s);   /* "id@version" */
/* SHA-256 of the policy file's bytes (32 bytes, owned by s). */
const uint8_t *scoring_policy_digest(const struct scoring *s);
/* The type policies in file order (i < scoring_n_types), for the audit
 * log's MODEL_REGISTERED / POLICY_CHANGE entries. */
size_t scoring_n_types(const struct scoring *s);
const struct type_policy *scoring_type_at(const struct scoring *s, size_t i);

/* The policy for `type`, or NULL (-> HITLQ_ST_UNKNOWN_TYPE). */
const struct type_policy *scoring_policy(const struct scoring *s, const char *type);

/* Scores `fields` with the type's model. */
int score_item(const struct type_policy *p, const msgpack_object *fields,
               struct score_result *out);

/* The triage rule of PROTOCOL.md §4.3: complete and score >= threshold. */
bool score_auto_resolves(const struct type_policy *p, const struct score_result *r);

/* Loads one scorecard model from JSON bytes (exposed for tests and the
 * benchmark).  Returns NULL with a message in err. */
struct model *scorecard_load(const char *json, size_t len, char *err, size_t errlen);
void model_free(struct model *m);                 /* NULL is a no-op */

#endif
