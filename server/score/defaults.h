/*
 * defaults.h - the default policy and model files compiled into hitlqd
 * (the files in server/score/defaults/, embedded by server/score/defaults.c with .incbin), used by
 * scoring_load(NULL, ...).  The bytes are read-only and live for the whole
 * process; each blob is followed by a NUL byte not counted in *len.
 */
#ifndef HITLQ_DEFAULTS_H
#define HITLQ_DEFAULTS_H

#include <stddef.h>

/* server/score/defaults/credit_policy.json */
const unsigned char *defaults_policy(size_t *len);

/* server/score/defaults/credit_scorecard.json */
const unsigned char *defaults_scorecard(size_t *len);

/* An embedded file by the name a policy uses for it ("credit_scorecard.json",
 * "credit_xgb.json", "credit_profile.json"), or NULL if there is none. */
const unsigned char *defaults_file(const char *name, size_t *len);

/* Display name for the embedded policy in messages. */
#define DEFAULTS_POLICY_NAME "(embedded)/credit_policy.json"

#endif
