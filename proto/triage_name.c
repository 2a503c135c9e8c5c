/*
 * triage_name.c - route and explanation-method names from the X-macros
 * in hitlq_proto.h.  Pure lookups: no state, no I/O.
 */
#include "triage_name.h"

const char *
hitlq_route_name(unsigned route)
{
    switch (route) {
#define HITLQ_X_STR(name, val, str) case (val): return (str);
    HITLQ_ROUTES(HITLQ_X_STR)
#undef HITLQ_X_STR
    }
    return "unknown";
}

const char *
hitlq_method_name(unsigned method)
{
    switch (method) {
#define HITLQ_X_STR(name, val, str) case (val): return (str);
    HITLQ_METHODS(HITLQ_X_STR)
#undef HITLQ_X_STR
    }
    return "unknown";
}
