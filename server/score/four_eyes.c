/*
 * four_eyes.c - parses a type's "four_eyes" policy block and decides, at
 * SUBMIT on the loop thread, whether an item needs N independent verdicts
 * (four_eyes.h).  The share draw is a keyed hash of the item's key, so a
 * resubmission or a replay decides the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "four_eyes.h"
#include "json_util.h"
#include "score.h"
#include "score_int.h"

/* "when": {"routes"?, "bands"?, "hard_rules"?, "share"?, "seed"?} */
static int
four_eyes_routes(struct four_eyes *f, const json_t *ja, const char *w, char *err, size_t errlen)
{
    size_t i;
    const json_t *v;

    if (ja == NULL)
        return 0;
    if (!json_is_array(ja))
        return score_err(err, errlen, w, "\"routes\" must be an array of route names");
    json_array_foreach(ja, i, v) {
        const char *s = json_string_value(v);
        unsigned r;

        for (r = HITLQ_ROUTE_REVIEW; s != NULL && r <= HITLQ_ROUTE_DATA_QUALITY; r++)
            if (strcmp(s, score_route_name(r)) == 0)
                break;
        if (s == NULL || r > HITLQ_ROUTE_DATA_QUALITY)
            return score_err(err, errlen, w, "\"routes\": each entry must be one of "
                             "\"review\", \"hard_rule\", \"data_quality\"");
        f->routes |= 1u << r;
    }
    return 0;
}

static int
four_eyes_bands(struct four_eyes *f, const struct type_policy *tp, const json_t *ja,
                const char *w, char *err, size_t errlen)
{
    size_t i;
    const json_t *v;

    if (ja == NULL)
        return 0;
    if (!json_is_array(ja))
        return score_err(err, errlen, w, "\"bands\" must be an array of band indices");
    json_array_foreach(ja, i, v) {
        json_int_t b = json_is_integer(v) ? json_integer_value(v) : -1;

        if (b < 0 || (size_t)b >= tp->n_bands || b >= 64) {
            snprintf(err, errlen, "%s: \"bands\": each entry must be the index of one of the "
                     "type's %zu bands (0 = the highest min_score)", w, tp->n_bands);
            return -1;
        }
        f->bands |= 1ull << b;
    }
    return 0;
}

static int
four_eyes_rules(struct four_eyes *f, const struct type_policy *tp, const json_t *ja,
                const char *w, char *err, size_t errlen)
{
    size_t i, h;
    const json_t *v;

    if (ja == NULL)
        return 0;
    if (!json_is_array(ja) || json_array_size(ja) > FOUR_EYES_MAX_RULES)
        return score_err(err, errlen, w, "\"hard_rules\" must be an array of at most 16 "
                         "hard-rule ids");
    json_array_foreach(ja, i, v) {
        const char *s = json_string_value(v);

        for (h = 0; s != NULL && h < tp->n_hard && strcmp(tp->hard[h].id, s) != 0; h++)
            ;
        if (s == NULL || h == tp->n_hard) {
            snprintf(err, errlen, "%s: \"hard_rules\": \"%s\" is not the id of one of the "
                     "type's hard rules", w, s != NULL ? s : "(not a string)");
            return -1;
        }
        memcpy(f->rules[f->n_rules++], s, strlen(s) + 1);
    }
    return 0;
}

static int
four_eyes_when(struct four_eyes *f, const struct type_policy *tp, const json_t *jw,
               const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "routes", "bands", "hard_rules", "share", "seed", NULL };
    char w[SCORE_WHERE_MAX + 48];
    const json_t *js;
    const char *seed;

    snprintf(w, sizeof w, "%s: four_eyes.when", where);
    if (!json_is_object(jw))
        return score_err(err, errlen, w, "must be an object");
    if (json_check_keys(jw, keys, w, ": ", err, errlen) < 0 ||
        four_eyes_routes(f, json_object_get(jw, "routes"), w, err, errlen) < 0 ||
        four_eyes_bands(f, tp, json_object_get(jw, "bands"), w, err, errlen) < 0 ||
        four_eyes_rules(f, tp, json_object_get(jw, "hard_rules"), w, err, errlen) < 0)
        return -1;
    js = json_object_get(jw, "share");
    if (js != NULL && (!json_is_number(js) || !(json_number_value(js) >= 0 &&
                                               json_number_value(js) <= 1)))
        return score_err(err, errlen, w, "\"share\" must be a number in [0, 1]");
    f->share = js != NULL ? json_number_value(js) : 0;
    seed = json_string_value(json_object_get(jw, "seed"));
    if (json_object_get(jw, "seed") != NULL && (seed == NULL || seed[0] == '\0'))
        return score_err(err, errlen, w, "\"seed\" must be a non-empty string");
    if (seed == NULL)
        seed = tp->type;                /* default: the type's name */
    crypto_generichash(f->key, sizeof f->key, (const unsigned char *)seed, strlen(seed),
                       NULL, 0);
    return 0;
}

/* on_disagree, max_verdicts, escalate_to. */
static int
four_eyes_disagree(struct four_eyes *f, const json_t *jf, const char *w, char *err,
                   size_t errlen)
{
    const char *od = json_string_value(json_object_get(jf, "on_disagree"));
    uint64_t mx = f->verdicts;

    if (od == NULL || (strcmp(od, "add_reviewer") != 0 && strcmp(od, "escalate") != 0))
        return score_err(err, errlen, w, "\"on_disagree\" must be \"add_reviewer\" or "
                         "\"escalate\"");
    f->on_disagree = od[0] == 'a' ? FOUR_EYES_ADD_REVIEWER : FOUR_EYES_ESCALATE;
    if (json_object_get(jf, "max_verdicts") != NULL &&
        score_get_uint(jf, "max_verdicts", f->verdicts, FOUR_EYES_MAX_VERDICTS, &mx, w, err,
                       errlen) < 0)
        return -1;
    f->max_verdicts = (uint8_t)mx;
    return score_get_name(jf, "escalate_to", HITLQ_MAX_QUEUE_NAME, f->escalate_to, w, err,
                          errlen);
}

int
four_eyes_load(struct type_policy *tp, const json_t *jf, const char *where, char *err,
               size_t errlen)
{
    static const char *const keys[] = { "verdicts", "when", "hide_recommendation",
                                        "on_disagree", "max_verdicts", "escalate_to", NULL };
    char w[SCORE_WHERE_MAX + 32];
    const json_t *jh;
    struct four_eyes *f;
    uint64_t n;

    if (jf == NULL)
        return 0;
    snprintf(w, sizeof w, "%s: four_eyes", where);
    if (!json_is_object(jf))
        return score_err(err, errlen, w, "must be an object");
    if ((f = tp->four_eyes = calloc(1, sizeof *f)) == NULL)
        return score_err(err, errlen, w, "out of memory");
    if (json_check_keys(jf, keys, w, ": ", err, errlen) < 0 ||
        score_get_uint(jf, "verdicts", FOUR_EYES_MIN_VERDICTS, FOUR_EYES_MAX_VERDICTS, &n, w,
                       err, errlen) < 0)
        return -1;
    f->verdicts = (uint8_t)n;
    if (json_object_get(jf, "when") == NULL)
        return score_err(err, errlen, w, "\"when\" is required (routes, bands, hard_rules, "
                         "share)");
    jh = json_object_get(jf, "hide_recommendation");
    if (jh != NULL && !json_is_boolean(jh))
        return score_err(err, errlen, w, "\"hide_recommendation\" must be true or false");
    f->hide = jh != NULL && json_is_true(jh);
    return four_eyes_when(f, tp, json_object_get(jf, "when"), where, err, errlen) < 0 ||
           four_eyes_disagree(f, jf, w, err, errlen) < 0 ? -1 : 0;
}

void
four_eyes_free(struct four_eyes *f)
{
    free(f);
}

/* The seeded share draw: SipHash of type \0 key under f->key. */
static bool
four_eyes_drawn(const struct type_policy *p, const struct four_eyes *f, const char *key)
{
    uint8_t msg[2 * HITLQ_MAX_NAME + 1], h[crypto_shorthash_BYTES];
    size_t tl = strnlen(p->type, HITLQ_MAX_NAME), kl = strnlen(key, HITLQ_MAX_NAME);
    uint64_t u = 0;

    if (!(f->share > 0))
        return false;
    memcpy(msg, p->type, tl);
    msg[tl] = 0;
    memcpy(msg + tl + 1, key, kl);
    crypto_shorthash(h, msg, tl + 1 + kl, f->key);
    for (int i = 0; i < 8; i++)
        u = u << 8 | h[i];
    return (double)u < f->share * 18446744073709551616.0;
}

/* True when a band the item's score falls in, or a fired hard rule, is
 * listed. */
static bool
four_eyes_listed(const struct type_policy *p, const struct four_eyes *f,
                 const struct triage *t)
{
    for (size_t i = 0; t->r.method != SCORE_METHOD_NONE && i < p->n_bands && i < 64; i++)
        if (t->r.score >= p->bands[i].min_score)
            return (f->bands >> i & 1u) != 0;
    for (size_t i = 0; i < t->n_rules; i++)
        for (size_t r = 0; t->rules[i].kind == 2 && r < f->n_rules; r++)
            if (strcmp(t->rules[i].id, f->rules[r]) == 0)
                return true;
    return false;
}

void
four_eyes_need(const struct type_policy *p, const char *key, const struct triage *t,
               struct four_eyes_need *out)
{
    const struct four_eyes *f = p->four_eyes;

    memset(out, 0, sizeof *out);
    if (f == NULL || t->is_auto)
        return;
    if ((f->routes >> t->route & 1u) == 0 && !four_eyes_listed(p, f, t) &&
        !four_eyes_drawn(p, f, key))
        return;
    out->need = f->verdicts;
    out->max = f->on_disagree == FOUR_EYES_ADD_REVIEWER ? f->max_verdicts : f->verdicts;
    out->hide = f->hide;
    out->escalate = f->on_disagree == FOUR_EYES_ESCALATE;
    snprintf(out->escalate_to, sizeof out->escalate_to, "%s", f->escalate_to);
}
