/*
 * json_util.h - helpers shared by the JSON file loaders (policy, models).
 */
#ifndef HITLQ_JSON_UTIL_H
#define HITLQ_JSON_UTIL_H

#include <stddef.h>

#include <jansson.h>

/* Rejects any key of obj that is not in the NULL-terminated list
 * `allowed`: returns -1 with "<where><sep>unknown key \"k\"" in err, else 0. */
int json_check_keys(const json_t *obj, const char *const *allowed,
                    const char *where, const char *sep, char *err, size_t errlen);

#endif
