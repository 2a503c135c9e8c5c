/*
 * cli_drift.c - `hitlq drift-inputs TYPE [--from MS] [--to MS]`: the
 * server's input drift of an item type against its reference profile
 * (DRIFT_INPUTS, auditor or admin key), one row per feature ranked by
 * PSI, or the reply as JSON with --json.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"

#define DRIFT_USAGE "usage: drift-inputs TYPE [--from MS] [--to MS]"

/* A number of m, or NAN when absent or nil. */
static double
drift_num(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = cli_map_get(m, key);

    if (o != NULL && (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64))
        return o->via.f64;
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)o->via.u64;
    return NAN;
}

static void
drift_print(const hitlq_reply *r)
{
    const msgpack_object *fs = hitlq_reply_get(r, "features");
    uint64_t n = 0, nref = 0, windows = 0;

    hitlq_reply_get_u64(r, "n", &n);
    hitlq_reply_get_u64(r, "n_ref", &nref);
    hitlq_reply_get_u64(r, "windows", &windows);
    printf("type %s, profile %.16s (%s): %" PRIu64 " items in %" PRIu64 " windows against "
           "%" PRIu64 " reference rows\n", hitlq_reply_get_str(r, "type", NULL),
           hitlq_reply_get_str(r, "profile", NULL), hitlq_reply_get_str(r, "version", NULL),
           n, windows, nref);
    printf("%4s %-28s %-11s %9s %9s %9s %9s\n", "RANK", "FIELD", "KIND", "PSI", "JS_DIST",
           "MISSING%", "UNSEEN%");
    for (uint32_t i = 0; fs != NULL && fs->type == MSGPACK_OBJECT_ARRAY &&
                         i < fs->via.array.size; i++) {
        const msgpack_object *f = &fs->via.array.ptr[i];
        const msgpack_object *name = cli_map_get(f, "field"), *kind = cli_map_get(f, "kind");

        printf("%4.0f %-28.*s %-11.*s %9.4f %9.4f %9.2f %9.2f\n", drift_num(f, "rank"),
               name && name->type == MSGPACK_OBJECT_STR ? (int)name->via.str.size : 1,
               name && name->type == MSGPACK_OBJECT_STR ? name->via.str.ptr : "?",
               kind && kind->type == MSGPACK_OBJECT_STR ? (int)kind->via.str.size : 1,
               kind && kind->type == MSGPACK_OBJECT_STR ? kind->via.str.ptr : "?",
               drift_num(f, "psi"), drift_num(f, "js_dist"),
               100.0 * drift_num(f, "missing_rate"), 100.0 * drift_num(f, "unseen_rate"));
    }
}

/* TYPE [--FROM MS] [--TO MS] for a range read (DRIFT_INPUTS, DRIFT_REVIEW):
 * the reply as JSON (--json) or printed by dc->print. */
int
cli_drift_range(struct cli *cl, int argc, char **argv, const struct cli_drift_cmd *dc)
{
    const struct option lo[] = {
        { dc->from_opt, required_argument, NULL, 'f' }, { dc->to_opt, required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 } };
    uint64_t from = 0, to = 0;
    hitlq_reply *r = NULL;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1)
        if ((ch == 'f' && !cli_parse_u64(optarg, &from)) ||
            (ch == 't' && !cli_parse_u64(optarg, &to)) || ch == '?')
            return cli_usage_error("%s", dc->usage);
    if (optind + 1 != argc)
        return cli_usage_error("%s", dc->usage);
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = dc->call(cl->c, argv[optind], from, to, &r)) != HITLQ_OK) {
        hitlq_reply_free(r);
        return cli_fail(cl, dc->name, rc);
    }
    if (cl->json) {
        json_t *j = cli_mp_to_json(hitlq_reply_body(r));

        cli_json_println(stdout, j);
        json_decref(j);
    } else {
        dc->print(r);
    }
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}

int
cli_drift_inputs(struct cli *cl, int argc, char **argv)
{
    static const struct cli_drift_cmd dc = { "drift-inputs", DRIFT_USAGE, "from", "to",
                                             hitlq_drift_inputs, drift_print };

    return cli_drift_range(cl, argc, argv, &dc);
}
