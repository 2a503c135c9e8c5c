/*
 * score_sla.c - the policy's per-queue SLA declarations (score.h,
 * struct score_sla): the top-level "queues" object, each entry an SLA
 * budget ("sla_seconds", optional: the type's or band's when absent) and
 * an escalation ladder of at most three steps at 0.5, 0.75 and 1.0 of the
 * budget (raise_priority, move_to, notify).  Every queue named here must
 * be a queue the types already name (score_queues.c).  Format in
 * scripts/README-model.md "Policy file".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "score.h"
#include "score_int.h"

/* The level (50, 75, 100) of a step's "at", or 0 when it is none of them. */
static uint8_t
score_sla_level(const json_t *at)
{
    double v = json_is_number(at) ? json_number_value(at) : -1;

    return v == 0.5 ? 50 : v == 0.75 ? 75 : v == 1.0 ? 100 : 0;
}

/* One ladder step {at, raise_priority?, move_to?, notify?} into st. */
static int
score_sla_step(const struct scoring *s, const json_t *js, struct score_sla_step *st,
               uint8_t prev_level, const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "at", "raise_priority", "move_to", "notify", NULL };
    const json_t *jn = json_object_get(js, "notify");
    uint64_t prio = 0;

    if (!json_is_object(js))
        return score_err(err, errlen, where, "must be an object");
    if (json_check_keys(js, keys, where, ": ", err, errlen) < 0)
        return -1;
    st->level = score_sla_level(json_object_get(js, "at"));
    if (st->level == 0 || st->level <= prev_level)
        return score_err(err, errlen, where, "\"at\" must be 0.5, 0.75 or 1.0, ascending, "
                         "each at most once");
    if (json_object_get(js, "raise_priority") != NULL &&
        score_get_uint(js, "raise_priority", 0, HITLQ_MAX_PRIORITY, &prio, where, err,
                       errlen) < 0)
        return -1;
    st->has_raise = json_object_get(js, "raise_priority") != NULL;
    st->raise_priority = (uint32_t)prio;
    if (json_object_get(js, "move_to") != NULL) {
        if (score_get_name(js, "move_to", HITLQ_MAX_QUEUE_NAME, st->move_to, where, err,
                           errlen) < 0)
            return -1;
        if (!scoring_queue_known(s, NULL, st->move_to))
            return score_err(err, errlen, where, "\"move_to\" names a queue no type names");
    }
    if (jn != NULL && !json_is_boolean(jn))
        return score_err(err, errlen, where, "\"notify\" must be true or false");
    st->notify = json_is_true(jn);
    if (!st->has_raise && st->move_to[0] == '\0' && !st->notify)
        return score_err(err, errlen, where, "a step must raise_priority, move_to or notify");
    return 0;
}

/* One queue's entry {sla_seconds?, ladder?} into q. */
static int
score_sla_queue(const struct scoring *s, const char *name, const json_t *jq,
                struct score_sla *q, const char *pname, char *err, size_t errlen)
{
    static const char *const keys[] = { "sla_seconds", "ladder", "description", NULL };
    const json_t *jl = json_object_get(jq, "ladder");
    char where[SCORE_WHERE_MAX];
    size_t i;
    const json_t *js;

    snprintf(where, sizeof where, "%s: queues.\"%s\"", pname, name);
    if (!score_name_ok(name, HITLQ_MAX_QUEUE_NAME) || !scoring_queue_known(s, NULL, name))
        return score_err(err, errlen, where, "is not a queue any type names");
    if (!json_is_object(jq))
        return score_err(err, errlen, where, "must be an object");
    if (json_check_keys(jq, keys, where, ": ", err, errlen) < 0)
        return -1;
    memcpy(q->queue, name, strlen(name) + 1);
    if (json_object_get(jq, "sla_seconds") != NULL &&
        score_get_uint(jq, "sla_seconds", 1, SCORE_MAX_SLA_SECONDS, &q->sla_seconds, where,
                       err, errlen) < 0)
        return -1;
    if (jl == NULL)
        return 0;
    if (!json_is_array(jl) || json_array_size(jl) > SCORE_SLA_MAX_STEPS)
        return score_err(err, errlen, where, "\"ladder\" must be an array of at most 3 steps");
    json_array_foreach(jl, i, js) {
        char sw[SCORE_WHERE_MAX + 32];

        snprintf(sw, sizeof sw, "%s.ladder[%zu]", where, i);
        if (score_sla_step(s, js, &q->steps[i], i ? q->steps[i - 1].level : 0, sw, err,
                           errlen) < 0)
            return -1;
        q->n_steps = i + 1;
    }
    return 0;
}

int
score_sla_load(const struct scoring *s, const json_t *jqs, struct score_sla **out,
               size_t *n, const char *pname, char *err, size_t errlen)
{
    const char *name;
    json_t *jq;

    *out = NULL;
    *n = 0;
    if (jqs == NULL)
        return 0;
    if (!json_is_object(jqs) || json_object_size(jqs) > SCORE_MAX_SLA_QUEUES) {
        snprintf(err, errlen, "%s: \"queues\" must be an object of at most %u queues",
                 pname, SCORE_MAX_SLA_QUEUES);
        return -1;
    }
    if (json_object_size(jqs) == 0)
        return 0;
    if ((*out = calloc(json_object_size(jqs), sizeof(**out))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_object_foreach((json_t *)jqs, name, jq) {
        if (score_sla_queue(s, name, jq, &(*out)[*n], pname, err, errlen) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}
