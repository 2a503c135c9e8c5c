/*
 * json_util.c - strict-key checking for the JSON file loaders.
 */
#include <stdio.h>
#include <string.h>

#include "json_util.h"

int
json_check_keys(const json_t *obj, const char *const *allowed,
                const char *where, const char *sep, char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        size_t i = 0;

        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            snprintf(err, errlen, "%s%sunknown key \"%s\"", where, sep, key);
            return -1;
        }
    }
    return 0;
}
