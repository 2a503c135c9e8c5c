/*
 * xgb_util.c - loading, CSV rows and the tiny model of the XGBoost
 * evaluator unit tests (xgb_util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tutil.h"
#include "xgb_util.h"

struct xgb_model *xgbu_load(const char *path)
{
    size_t len;
    char err[256];
    char *buf = tutil_slurp(path, &len);
    struct xgb_model *m = xgb_load(buf, len, err, sizeof err);
    if (!m)
        fail_msg("%s: %s", path, err);
    free(buf);
    return m;
}

/* Parses n comma-separated numbers of one CSV line into out. */
void xgbu_parse_row(const char *line, double *out, int n)
{
    const char *p = line;
    char *end;
    for (int i = 0; i < n; i++) {
        out[i] = strtod(p, &end);
        assert_true(end != p);
        p = *end == ',' ? end + 1 : end;
    }
}

#define TINY_FMT \
    "{\"version\":[1,7,4],\"learner\":{" \
    "\"learner_model_param\":{\"base_score\":\"%s\",\"num_class\":\"0\"," \
    "\"num_feature\":\"2\",\"num_target\":\"1\"}," \
    "\"objective\":{\"name\":\"%s\"}," \
    "\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{" \
    "\"gbtree_model_param\":{\"num_trees\":\"1\",\"num_parallel_tree\":\"1\"}," \
    "\"tree_info\":[0],\"trees\":[{\"tree_param\":{\"num_nodes\":\"3\"," \
    "\"num_feature\":\"2\"},\"left_children\":[1,-1,-1]," \
    "\"right_children\":[2,-1,-1],\"split_indices\":[1,0,0]," \
    "\"split_conditions\":[0.5,-1.0,2.0],\"default_left\":[0,0,0]," \
    "\"split_type\":[0,0,0]}]}}}}"

struct xgb_model *xgbu_tiny(const char *base, const char *obj, char *err, size_t n)
{
    char buf[2048];
    int len = snprintf(buf, sizeof buf, TINY_FMT, base, obj);
    return xgb_load(buf, (size_t)len, err, n);
}
