/*
 * score_triage.c - the triage of one item by its type's policy, in the
 * order fraud and claims practice layers them (README.md "The bundled model and policy"):
 *
 *   1. validation rules (schema.c): an item that breaks any goes to the
 *      data-quality queue with the broken rules as its reasons, unscored:
 *      data we cannot trust is never auto-resolved;
 *   2. the model's score with contributions (explain_auto method: path
 *      attribution by default; exact TreeSHAP for items sent to humans is
 *      computed when a specialist claims them, explain.c, so SUBMIT never
 *      pays ~100x a prediction for it);
 *   3. hard rules: any that holds forces human review (its queue, and its
 *      priority if higher than the band's);
 *   4. bands: auto-approve at or above auto_threshold, auto-reject at or
 *      below auto_reject_threshold (both only when every model input was
 *      present), else review with the priority and SLA of the band the
 *      score falls in;
 *   5. an auto-resolved item is drawn for the blind QA sample with
 *      probability qa_rate: SipHash-2-4 (libsodium crypto_shorthash) keyed
 *      with BLAKE2b-128 of the policy's seed, over type || 0 ||
 *      idempotency key, read big-endian as a uniform 64-bit number, so the
 *      draw is reproducible and independent of arrival order.
 */
#include <string.h>

#include <sodium.h>

#include "cond.h"
#include "schema.h"
#include "score.h"
#include "triage_name.h"

/* Step 1: fills t->rules from the schema's broken rules; true if any. */
static bool triage_validate(const struct type_policy *p, const msgpack_object *fields,
                            struct triage *t)
{
    struct schema_hit hits[TRIAGE_MAX_RULES];
    size_t total, n;

    if (p->schema == NULL)
        return false;
    total = schema_check(p->schema, fields, hits, TRIAGE_MAX_RULES);
    n = total < TRIAGE_MAX_RULES ? total : TRIAGE_MAX_RULES;
    for (size_t i = 0; i < n; i++) {
        t->rules[i].kind = 1;
        t->rules[i].code = (uint16_t)(TRIAGE_CODE_CHECK | (hits[i].rule & 0x3fffu));
        t->rules[i].id = hits[i].id;
        t->rules[i].field = hits[i].field;
        t->rules[i].message = hits[i].message;
    }
    t->n_rules = n;
    t->n_rules_total = total;
    return total > 0;
}

/* Step 3: appends the hard rules that hold; returns the first one. */
static const struct score_hard_rule *
triage_hard(const struct type_policy *p, const msgpack_object *fields, struct triage *t)
{
    const struct score_hard_rule *first = NULL;

    for (size_t i = 0; i < p->n_hard; i++) {
        const struct score_hard_rule *h = &p->hard[i];

        if (cond_eval(h->cond, fields) != COND_TRUE)
            continue;
        if (first == NULL)
            first = h;
        if (h->priority > t->priority)
            t->priority = h->priority;
        t->n_rules_total++;
        if (t->n_rules < TRIAGE_MAX_RULES) {
            struct triage_rule *r = &t->rules[t->n_rules++];
            r->kind = 2;
            r->code = (uint16_t)(TRIAGE_CODE_HARD | (i & 0x3fffu));
            r->id = h->id;
            r->field = cond_field(h->cond);
            r->message = cond_text(h->cond);
        }
    }
    return first;
}

/* The review band for a score: priority and SLA. */
static void triage_band(const struct type_policy *p, double score, struct triage *t)
{
    t->priority = p->priority;
    t->sla_seconds = p->sla_seconds;
    for (size_t i = 0; i < p->n_bands; i++)
        if (score >= p->bands[i].min_score) {
            t->priority = p->bands[i].priority;
            t->sla_seconds = p->bands[i].sla_seconds;
            return;
        }
}

bool score_qa_sampled(const struct type_policy *p, const char *key)
{
    uint8_t msg[2 * HITLQ_MAX_NAME + 1], h[crypto_shorthash_BYTES];
    size_t tl = strnlen(p->type, HITLQ_MAX_NAME), kl = strnlen(key, HITLQ_MAX_NAME);
    uint64_t u = 0;

    if (!(p->qa_rate > 0))
        return false;
    memcpy(msg, p->type, tl);
    msg[tl] = 0;
    memcpy(msg + tl + 1, key, kl);
    crypto_shorthash(h, msg, tl + 1 + kl, p->qa_key);
    for (int i = 0; i < 8; i++)
        u = u << 8 | h[i];
    return (double)u < p->qa_rate * 18446744073709551616.0;
}

static void triage_to_humans(const struct type_policy *p, struct triage *t, uint8_t route,
                             const char *queue)
{
    t->route = route;
    t->is_auto = false;
    t->action = "";
    t->queue = queue;
}

int score_triage(const struct type_policy *p, const char *key, const msgpack_object *fields,
                 struct triage *t)
{
    const struct score_hard_rule *hard;
    int st;

    memset(t, 0, sizeof *t);
    if (triage_validate(p, fields, t)) {
        triage_to_humans(p, t, TRIAGE_DATA_QUALITY, p->dq_queue);
        t->priority = p->dq_priority;
        t->sla_seconds = p->dq_sla_seconds;
        t->r.method = SCORE_METHOD_NONE;
        return HITLQ_ST_OK;
    }
    if ((st = score_item_method(p, fields, p->explain_auto, &t->r)) != HITLQ_ST_OK)
        return st;
    triage_band(p, t->r.score, t);
    hard = triage_hard(p, fields, t);
    if (hard != NULL) {
        triage_to_humans(p, t, TRIAGE_HARD_RULE, hard->queue[0] ? hard->queue : p->queue);
    } else if (score_auto_resolves(p, &t->r)) {
        t->route = TRIAGE_AUTO_APPROVE;
        t->is_auto = true;
        t->action = p->auto_action;
    } else if (p->has_reject && t->r.complete && t->r.score <= p->reject_threshold) {
        t->route = TRIAGE_AUTO_REJECT;
        t->is_auto = true;
        t->action = p->reject_action;
    } else {
        triage_to_humans(p, t, TRIAGE_REVIEW, p->queue);
    }
    t->qa = t->is_auto && score_qa_sampled(p, key);
    return HITLQ_ST_OK;
}

const char *score_recommendation(const struct type_policy *p, const struct triage *t)
{
    if (t->r.method == SCORE_METHOD_NONE)
        return "";                     /* not scored: no recommendation */
    if (t->r.score >= p->lean_threshold)
        return p->auto_action;
    return p->has_reject ? p->reject_action : "";
}

const char *score_route_name(unsigned route)
{
    return hitlq_route_name(route);
}

const char *score_method_name(unsigned method)
{
    return hitlq_method_name(method);
}
