/*
 * four_eyes.h - the "four_eyes" policy of an item type (scripts/
 * README-model.md "Policy file"): which items routed to humans need N
 * independent verdicts (by route, review band, hard rule, or a seeded
 * share), whether reviewers see the model's recommendation, and what a
 * disagreement does.  Parsed with the type's policy (score_policy.c), so
 * a bad block fails the load and `hitlqd -n`; decided once per item on
 * the loop thread at SUBMIT (four_eyes_need).
 */
#ifndef HITLQ_FOUR_EYES_H
#define HITLQ_FOUR_EYES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hitlq_proto.h"

struct type_policy;
struct triage;

#define FOUR_EYES_MIN_VERDICTS 2u
#define FOUR_EYES_MAX_VERDICTS 5u
#define FOUR_EYES_MAX_RULES    16u

enum four_eyes_disagree { FOUR_EYES_ADD_REVIEWER = 1, FOUR_EYES_ESCALATE = 2 };

struct four_eyes {
    uint8_t  verdicts;                  /* N needed (2..5) */
    uint8_t  max_verdicts;              /* add_reviewer stops here (N..5) */
    bool     hide;                      /* hide_recommendation */
    uint8_t  on_disagree;               /* enum four_eyes_disagree */
    char     escalate_to[HITLQ_MAX_QUEUE_NAME + 1];
    uint32_t routes;                    /* bit r: route r (enum hitlq_route) */
    uint64_t bands;                     /* bit i: review band i (policy order) */
    size_t   n_rules;
    char     rules[FOUR_EYES_MAX_RULES][HITLQ_MAX_NAME + 1];   /* hard-rule ids */
    double   share;                     /* seeded sample of the other items */
    uint8_t  key[16];                   /* SipHash key: BLAKE2b-128 of "seed" */
};

/* What a SUBMIT decided: need == 0 means no four-eyes review. */
struct four_eyes_need {
    uint8_t need, max;
    bool    hide;
    bool    escalate;                   /* on_disagree = escalate */
    char    escalate_to[HITLQ_MAX_QUEUE_NAME + 1];
};

/* Parses the "four_eyes" object jf of type tp (its bands and hard rules
 * already loaded, so indices and ids are checked) into a new tp->four_eyes
 * (NULL when jf is NULL).  0, or -1 with a message naming the key. */
int  four_eyes_load(struct type_policy *tp, const json_t *jf, const char *where,
                    char *err, size_t errlen);
void four_eyes_free(struct four_eyes *f);   /* NULL is a no-op */

/* Whether an item triaged as t (key `key`) needs N verdicts: only items
 * routed to humans (not auto, not data quality unless its route is
 * listed); any listed route, band or fired hard rule, or the share draw
 * (SipHash of type \0 key, like qa_sample's), requires it.  Fills *out
 * (out->need = 0 when not required). */
void four_eyes_need(const struct type_policy *p, const char *key, const struct triage *t,
                    struct four_eyes_need *out);

#endif
