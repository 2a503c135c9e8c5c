/*
 * score_int.h - internals shared by the scoring set's files (score.c,
 * score_policy.c, score_triage.c): limits and the policy-parsing helpers.
 * Not part of the scoring core's interface (score.h).
 */
#ifndef HITLQ_SCORE_INT_H
#define HITLQ_SCORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "score.h"

#define SCORE_MAX_SLA_SECONDS (366ull * 86400ull)    /* a year */
#define SCORE_WHERE_MAX       512u                   /* "<file>: types.\"t\"" */

bool score_name_ok(const char *s, size_t max);
int  score_get_uint(const json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint64_t *out, const char *where, char *err, size_t errlen);
int  score_get_name(const json_t *obj, const char *key, size_t max, char *dst,
                    const char *where, char *err, size_t errlen);
/* Writes "<where>: <what>" to err and returns -1. */
int  score_err(char *err, size_t errlen, const char *where, const char *what);

/* Parses everything of a type's entry but its model into *tp (zeroed by
 * the caller); on error *tp may hold partial state: score_type_free it. */
int  score_type_parse(struct type_policy *tp, const char *type, const json_t *jt,
                      const char *where, char *err, size_t errlen);
void score_type_free(struct type_policy *tp);

/* Parses the policy's "queues" object jqs (NULL: none) against the loaded
 * types of s (every queue named must be known: scoring_queue_known).
 * *out is malloc'd (also on error, when not NULL: the caller frees it)
 * with *n entries.  0, or -1 with a message naming pname in err. */
int score_sla_load(const struct scoring *s, const json_t *jqs, struct score_sla **out,
                   size_t *n, const char *pname, char *err, size_t errlen);

#endif
