/*
 * score_policy.c - parses one item type's entry of a policy file into a
 * `struct type_policy`: thresholds and actions, review bands, hard rules,
 * the data-quality queue, QA sampling, explanation methods, and the
 * type's field schema (schema.c) and feature mapping (featmap.c).  The
 * model itself is loaded by score.c (score_type_load calls back for it).
 *
 * Format: see scripts/README-model.md "Policy file".  Strict: unknown
 * keys, wrong types and out-of-range values are errors naming the file,
 * the type and the key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cond.h"
#include "featmap.h"
#include "profile.h"
#include "json_util.h"
#include "schema.h"
#include "score.h"
#include "score_int.h"

#define SCORE_MAX_BANDS   64u
#define SCORE_MAX_HARD    256u
#define SCORE_MAX_ACTIONS 64u

bool score_name_ok(const char *s, size_t max)
{
    return cond_name_ok(s, max);          /* one definition of a printable name */
}

int score_get_uint(const json_t *obj, const char *key, uint64_t min, uint64_t max,
                   uint64_t *out, const char *where, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
        snprintf(err, errlen, "%s: \"%s\" must be an integer in [%llu, %llu]",
                 where, key, (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* As score_get_uint, but an absent key leaves *out (the default). */
static int score_opt_uint(const json_t *obj, const char *key, uint64_t min, uint64_t max,
                          uint64_t *out, const char *where, char *err, size_t errlen)
{
    if (json_object_get(obj, key) == NULL)
        return 0;
    return score_get_uint(obj, key, min, max, out, where, err, errlen);
}

int score_get_name(const json_t *obj, const char *key, size_t max, char *dst,
                   const char *where, char *err, size_t errlen)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!score_name_ok(v, max)) {
        snprintf(err, errlen, "%s: \"%s\" must be a printable name of 1..%zu bytes",
                 where, key, max);
        return -1;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int score_get_prob(const json_t *obj, const char *key, double *out,
                          const char *where, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1)) {
        snprintf(err, errlen, "%s: \"%s\" must be a number in [0, 1]", where, key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int score_band_cmp(const void *a, const void *b)
{
    double x = ((const struct score_band *)a)->min_score;
    double y = ((const struct score_band *)b)->min_score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* "bands": [{"min_score": s, "priority": p, "sla_seconds": t}, ...] */
static int score_load_bands(struct type_policy *tp, const json_t *jb, const char *where,
                            char *err, size_t errlen)
{
    static const char *const keys[] = { "min_score", "priority", "sla_seconds", NULL };
    size_t n = json_array_size(jb);
    char w[SCORE_WHERE_MAX + 32];

    if (jb == NULL)
        return 0;
    if (!json_is_array(jb) || n == 0 || n > SCORE_MAX_BANDS) {
        snprintf(err, errlen, "%s: \"bands\" must be an array of 1..%u bands", where,
                 SCORE_MAX_BANDS);
        return -1;
    }
    if ((tp->bands = calloc(n, sizeof *tp->bands)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(jb, i);
        struct score_band *sb = &tp->bands[i];
        uint64_t prio = tp->priority;

        snprintf(w, sizeof w, "%s: bands[%zu]", where, i);
        sb->sla_seconds = tp->sla_seconds;
        if (!json_is_object(b) || json_check_keys(b, keys, w, ": ", err, errlen) < 0 ||
            score_get_prob(b, "min_score", &sb->min_score, w, err, errlen) < 0 ||
            score_opt_uint(b, "priority", 0, HITLQ_MAX_PRIORITY, &prio, w, err, errlen) < 0 ||
            score_opt_uint(b, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &sb->sla_seconds,
                           w, err, errlen) < 0)
            return json_is_object(b) ? -1 : score_err(err, errlen, w, "must be an object");
        sb->priority = (uint32_t)prio;
        tp->n_bands = i + 1;
    }
    qsort(tp->bands, n, sizeof *tp->bands, score_band_cmp);
    return 0;
}

/* "hard_rules": [{"id", "field", "op", "value"|"field2", "queue"?, "priority"?}] */
static int score_load_hard(struct type_policy *tp, const json_t *jh, const char *where,
                           char *err, size_t errlen)
{
    static const char *const extra[] = { "id", "queue", "priority", "description", NULL };
    size_t n = json_array_size(jh);
    char w[SCORE_WHERE_MAX + 32];

    if (jh == NULL)
        return 0;
    if (!json_is_array(jh) || n == 0 || n > SCORE_MAX_HARD) {
        snprintf(err, errlen, "%s: \"hard_rules\" must be an array of 1..%u rules",
                 where, SCORE_MAX_HARD);
        return -1;
    }
    if ((tp->hard = calloc(n, sizeof *tp->hard)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(jh, i);
        struct score_hard_rule *h = &tp->hard[i];
        uint64_t prio = 0;

        snprintf(w, sizeof w, "%s: hard_rules[%zu]", where, i);
        if (!json_is_object(r))
            return score_err(err, errlen, w, "must be an object");
        tp->n_hard = i + 1;
        if (score_get_name(r, "id", HITLQ_MAX_NAME, h->id, w, err, errlen) < 0 ||
            (json_object_get(r, "queue") != NULL &&
             score_get_name(r, "queue", HITLQ_MAX_QUEUE_NAME, h->queue, w, err, errlen) < 0) ||
            score_opt_uint(r, "priority", 0, HITLQ_MAX_PRIORITY, &prio, w, err, errlen) < 0)
            return -1;
        h->priority = (uint32_t)prio;
        if ((h->cond = cond_parse(r, extra, w, err, errlen)) == NULL)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(tp->hard[j].id, h->id) == 0)
                return score_err(err, errlen, w, "duplicate \"id\"");
    }
    return 0;
}

/* "data_quality": {"queue", "priority"?, "sla_seconds"?} */
static int score_load_dq(struct type_policy *tp, const json_t *jd, const char *where,
                         char *err, size_t errlen)
{
    static const char *const keys[] = { "queue", "priority", "sla_seconds", NULL };
    char w[SCORE_WHERE_MAX + 32];
    uint64_t prio = tp->priority;

    snprintf(tp->dq_queue, sizeof tp->dq_queue, "%s", tp->queue);
    tp->dq_priority = tp->priority;
    tp->dq_sla_seconds = tp->sla_seconds;
    if (jd == NULL)
        return 0;
    snprintf(w, sizeof w, "%s: data_quality", where);
    if (!json_is_object(jd))
        return score_err(err, errlen, w, "must be an object");
    if (json_check_keys(jd, keys, w, ": ", err, errlen) < 0 ||
        score_get_name(jd, "queue", HITLQ_MAX_QUEUE_NAME, tp->dq_queue, w, err, errlen) < 0 ||
        score_opt_uint(jd, "priority", 0, HITLQ_MAX_PRIORITY, &prio, w, err, errlen) < 0 ||
        score_opt_uint(jd, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &tp->dq_sla_seconds,
                       w, err, errlen) < 0)
        return -1;
    tp->dq_priority = (uint32_t)prio;
    return 0;
}

/* "qa_sample": {"rate", "queue", "seed", "priority"?, "sla_seconds"?} */
static int score_load_qa(struct type_policy *tp, const json_t *jq, const char *where,
                         char *err, size_t errlen)
{
    static const char *const keys[] = { "rate", "queue", "seed", "priority",
                                        "sla_seconds", NULL };
    char w[SCORE_WHERE_MAX + 32];
    uint64_t prio = 0;
    const char *seed;

    tp->qa_sla_seconds = tp->sla_seconds;
    if (jq == NULL)
        return 0;
    snprintf(w, sizeof w, "%s: qa_sample", where);
    if (!json_is_object(jq))
        return score_err(err, errlen, w, "must be an object");
    seed = json_string_value(json_object_get(jq, "seed"));
    if (json_check_keys(jq, keys, w, ": ", err, errlen) < 0 ||
        score_get_prob(jq, "rate", &tp->qa_rate, w, err, errlen) < 0 ||
        score_get_name(jq, "queue", HITLQ_MAX_QUEUE_NAME, tp->qa_queue, w, err, errlen) < 0 ||
        score_opt_uint(jq, "priority", 0, HITLQ_MAX_PRIORITY, &prio, w, err, errlen) < 0 ||
        score_opt_uint(jq, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &tp->qa_sla_seconds,
                       w, err, errlen) < 0)
        return -1;
    if (seed == NULL || seed[0] == '\0')
        return score_err(err, errlen, w, "\"seed\" must be a non-empty string");
    tp->qa_priority = (uint32_t)prio;
    crypto_generichash(tp->qa_key, sizeof tp->qa_key, (const unsigned char *)seed,
                       strlen(seed), NULL, 0);
    return 0;
}

static int score_method_of(const json_t *o, const char *key, uint8_t *out,
                           const char *where, char *err, size_t errlen)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (json_object_get(o, key) == NULL)
        return 0;
    if (v != NULL && strcmp(v, "approx") == 0)
        *out = SCORE_METHOD_APPROX;
    else if (v != NULL && strcmp(v, "exact") == 0)
        *out = SCORE_METHOD_EXACT;
    else {
        snprintf(err, errlen, "%s: explain.\"%s\" must be \"approx\" or \"exact\"", where, key);
        return -1;
    }
    return 0;
}

/* "explain": {"auto": "approx"|"exact", "review": "approx"|"exact"} */
static int score_load_explain(struct type_policy *tp, const json_t *je, const char *where,
                              char *err, size_t errlen)
{
    static const char *const keys[] = { "auto", "review", NULL };
    char w[SCORE_WHERE_MAX + 32];

    tp->explain_auto = SCORE_METHOD_APPROX;
    tp->explain_review = SCORE_METHOD_EXACT;
    if (je == NULL)
        return 0;
    snprintf(w, sizeof w, "%s: explain", where);
    if (!json_is_object(je))
        return score_err(err, errlen, w, "must be an object");
    if (json_check_keys(je, keys, w, ": ", err, errlen) < 0 ||
        score_method_of(je, "auto", &tp->explain_auto, where, err, errlen) < 0 ||
        score_method_of(je, "review", &tp->explain_review, where, err, errlen) < 0)
        return -1;
    return 0;
}

/* Thresholds, actions, the review queue and its defaults. */
static int score_load_routing(struct type_policy *tp, const json_t *jt, const char *where,
                              char *err, size_t errlen)
{
    uint64_t prio = 0, cls = 0;

    if (score_get_prob(jt, "auto_threshold", &tp->auto_threshold, where, err, errlen) < 0 ||
        score_get_name(jt, "auto_action", HITLQ_MAX_NAME, tp->auto_action,
                       where, err, errlen) < 0 ||
        score_get_name(jt, "queue", HITLQ_MAX_QUEUE_NAME, tp->queue, where, err, errlen) < 0 ||
        score_get_uint(jt, "priority", 0, HITLQ_MAX_PRIORITY, &prio, where, err, errlen) < 0 ||
        score_get_uint(jt, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &tp->sla_seconds,
                       where, err, errlen) < 0 ||
        score_opt_uint(jt, "score_class", 0, 1023, &cls, where, err, errlen) < 0)
        return -1;
    tp->priority = (uint32_t)prio;
    tp->score_class = (size_t)cls;
    tp->has_reject = json_object_get(jt, "auto_reject_threshold") != NULL;
    if (tp->has_reject != (json_object_get(jt, "reject_action") != NULL))
        return score_err(err, errlen, where, "\"auto_reject_threshold\" and "
                         "\"reject_action\" go together");
    if (tp->has_reject &&
        (score_get_prob(jt, "auto_reject_threshold", &tp->reject_threshold,
                        where, err, errlen) < 0 ||
         score_get_name(jt, "reject_action", HITLQ_MAX_NAME, tp->reject_action,
                        where, err, errlen) < 0))
        return -1;
    if (tp->has_reject && !(tp->reject_threshold < tp->auto_threshold))
        return score_err(err, errlen, where, "\"auto_reject_threshold\" must be below "
                         "\"auto_threshold\"");
    tp->lean_threshold = tp->has_reject ? (tp->auto_threshold + tp->reject_threshold) / 2
                                        : tp->auto_threshold;
    if (json_object_get(jt, "lean_threshold") != NULL &&
        score_get_prob(jt, "lean_threshold", &tp->lean_threshold, where, err, errlen) < 0)
        return -1;
    return 0;
}

/* A list of distinct names under `key` (absent: none): "actions"
 * (outcomes a reviewer may give besides auto_action and reject_action),
 * "root_causes" (RESOLVE's root_cause must be one when declared),
 * "escalate_to" (more queues ESCALATE may send to). */
static int score_load_names(const json_t *jt, const char *key, size_t maxlen,
                            char (**out)[HITLQ_MAX_NAME + 1], size_t *n_out,
                            const char *where, char *err, size_t errlen)
{
    const json_t *ja = json_object_get(jt, key);
    size_t n = json_array_size(ja);

    if (ja == NULL)
        return 0;
    if (!json_is_array(ja) || n == 0 || n > SCORE_MAX_ACTIONS) {
        snprintf(err, errlen, "%s: \"%s\" must be an array of 1..%u names", where, key,
                 SCORE_MAX_ACTIONS);
        return -1;
    }
    if ((*out = calloc(n, sizeof **out)) == NULL)
        return score_err(err, errlen, where, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_array_get(ja, i));

        if (!score_name_ok(v, maxlen)) {
            snprintf(err, errlen, "%s: %s[%zu] must be a printable name of 1..%zu bytes",
                     where, key, i, maxlen);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], v) == 0) {
                snprintf(err, errlen, "%s: %s[%zu]: duplicate \"%s\"", where, key, i, v);
                return -1;
            }
        memcpy((*out)[i], v, strlen(v) + 1);
        *n_out = i + 1;
    }
    return 0;
}

/* "claim_by_id": true lets a specialist claim an item of the type by its
 * id (CLAIM_ID); absent = false. */
static int score_load_claim_by_id(struct type_policy *tp, const json_t *jb, const char *where,
                                  char *err, size_t errlen)
{
    if (jb == NULL)
        return 0;
    if (!json_is_boolean(jb))
        return score_err(err, errlen, where, "\"claim_by_id\" must be true or false");
    tp->claim_by_id = json_is_true(jb);
    return 0;
}

/* The three name lists of a type (score_load_names). */
static int score_load_lists(struct type_policy *tp, const json_t *jt, const char *where,
                            char *err, size_t errlen)
{
    if (score_load_names(jt, "actions", HITLQ_MAX_NAME, &tp->actions, &tp->n_actions,
                         where, err, errlen) < 0 ||
        score_load_names(jt, "root_causes", HITLQ_MAX_NAME, &tp->root_causes,
                         &tp->n_root_causes, where, err, errlen) < 0 ||
        score_load_names(jt, "escalate_to", HITLQ_MAX_QUEUE_NAME, &tp->escalate_to,
                         &tp->n_escalate_to, where, err, errlen) < 0)
        return -1;
    return 0;
}

int score_type_parse(struct type_policy *tp, const char *type, const json_t *jt,
                     const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "model", "model_id", "model_version",
        "score_class", "auto_threshold", "auto_action", "auto_reject_threshold",
        "reject_action", "queue", "priority", "sla_seconds", "bands", "hard_rules",
        "data_quality", "qa_sample", "explain", "fields", "checks", "features",
        "description", "lean_threshold", "actions", "root_causes", "escalate_to",
        "profile",                      /* input drift: profile.h, loaded by score.c */
        "claim_by_id",                  /* CLAIM_ID allowed (cmd_work.c) */
        NULL };

    if (!score_name_ok(type, HITLQ_MAX_NAME)) {
        snprintf(err, errlen, "%s: type must be a printable name of 1..%u bytes",
                 where, HITLQ_MAX_NAME);
        return -1;
    }
    if (!json_is_object(jt))
        return score_err(err, errlen, where, "must be an object");
    memcpy(tp->type, type, strlen(type) + 1);
    if (json_check_keys(jt, keys, where, ": ", err, errlen) < 0 ||
        score_load_routing(tp, jt, where, err, errlen) < 0 ||
        score_load_lists(tp, jt, where, err, errlen) < 0 ||
        score_load_bands(tp, json_object_get(jt, "bands"), where, err, errlen) < 0 ||
        score_load_hard(tp, json_object_get(jt, "hard_rules"), where, err, errlen) < 0 ||
        score_load_dq(tp, json_object_get(jt, "data_quality"), where, err, errlen) < 0 ||
        score_load_qa(tp, json_object_get(jt, "qa_sample"), where, err, errlen) < 0 ||
        score_load_explain(tp, json_object_get(jt, "explain"), where, err, errlen) < 0 ||
        score_load_claim_by_id(tp, json_object_get(jt, "claim_by_id"), where, err, errlen) < 0)
        return -1;
    const json_t *jf = json_object_get(jt, "fields"), *jc = json_object_get(jt, "checks");
    if ((jf != NULL || jc != NULL) &&
        (tp->schema = schema_load(jf, jc, where, err, errlen)) == NULL)
        return -1;
    const json_t *jm = json_object_get(jt, "features");
    if (jm != NULL && (tp->featmap = featmap_load(jm, tp->schema, where, err, errlen)) == NULL)
        return -1;
    return 0;
}

void score_type_free(struct type_policy *tp)
{
    for (size_t i = 0; i < tp->n_hard; i++)
        cond_free(tp->hard[i].cond);
    free(tp->hard);
    free(tp->bands);
    free(tp->actions);
    free(tp->root_causes);
    free(tp->escalate_to);
    schema_free(tp->schema);
    featmap_free(tp->featmap);
    profile_free(tp->profile);
    memset(tp, 0, sizeof *tp);
}

int score_err(char *err, size_t errlen, const char *where, const char *what)
{
    snprintf(err, errlen, "%s: %s", where, what);
    return -1;
}
