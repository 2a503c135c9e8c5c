/*
 * triage_name.h - wire names of triage routes and explanation methods,
 * generated from the tables in hitlq_proto.h (HITLQ_ROUTES,
 * HITLQ_METHODS).  The one place these names are spelled for the server:
 * the scoring core (score.h) and the GET / CLAIM summaries (store) use it.
 */
#ifndef HITLQ_TRIAGE_NAME_H
#define HITLQ_TRIAGE_NAME_H

#include "hitlq_proto.h"

/* "auto_approve", "auto_reject", "review", "hard_rule", "data_quality",
 * "qa_sample" for enum hitlq_route; "unknown" for anything else. */
const char *hitlq_route_name(unsigned route);

/* "none", "linear", "approx", "exact" for enum hitlq_method; "unknown"
 * for anything else. */
const char *hitlq_method_name(unsigned method);

#endif
