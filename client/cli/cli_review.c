/*
 * cli_review.c - `hitlq drift-review TYPE [--since MS] [--until MS]`: the
 * server's live AI-vs-human review of an item type (DRIFT_REVIEW, auditor
 * or admin key): per window and in total the decisions, agreement of the
 * model's recommendation with the human verdict, Cohen's kappa with its
 * 95 % interval, the blind QA sample's weighted error rate of the
 * automated decisions and the score PSI against the first window; the
 * total's confusion matrix and queues below.  --json prints the reply.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "cli.h"

#define REVIEW_USAGE "usage: drift-review TYPE [--since MS] [--until MS]"

/* A number of m, or NAN when absent or nil. */
static double
rv_num(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = m != NULL ? cli_map_get(m, key) : NULL;

    if (o != NULL && (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64))
        return o->via.f64;
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)o->via.u64;
    return NAN;
}

/* One table row: name, then the window's figures. */
static void
rv_row(const char *name, const msgpack_object *w)
{
    const msgpack_object *qa = cli_map_get(w, "qa"), *sc = cli_map_get(w, "scores");

    printf("%-16s %9.0f %7.0f %7.0f %9.4f %8.4f  [%7.4f, %7.4f] %8.4f %6.0f %9.4f %8.4f\n",
           name, rv_num(w, "decisions"), rv_num(w, "n"), rv_num(w, "not_comparable"),
           rv_num(w, "agreement"), rv_num(w, "kappa"), rv_num(w, "kappa_lo"),
           rv_num(w, "kappa_hi"), rv_num(w, "override_rate"), rv_num(qa, "n"),
           rv_num(qa, "error_rate"), rv_num(sc, "psi"));
}

static void
rv_str(const msgpack_object *o, char *out, size_t cap)
{
    if (o != NULL && o->type == MSGPACK_OBJECT_STR)
        snprintf(out, cap, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    else
        snprintf(out, cap, "?");
}

/* The total's confusion matrix (rows: recommendation) and its queues. */
static void
rv_detail(const msgpack_object *labels, const msgpack_object *t)
{
    const msgpack_object *m = cli_map_get(t, "matrix"), *qs = cli_map_get(t, "by_queue");
    char name[80];

    if (labels == NULL || m == NULL || labels->type != MSGPACK_OBJECT_ARRAY ||
        m->type != MSGPACK_OBJECT_ARRAY)
        return;
    printf("\nconfusion (rows: model recommendation, columns: human verdict)\n%-12s", "");
    for (uint32_t j = 0; j < labels->via.array.size; j++) {
        rv_str(&labels->via.array.ptr[j], name, sizeof name);
        printf(" %10s", name[0] ? name : "-");
    }
    for (uint32_t i = 0; i < m->via.array.size && i < labels->via.array.size; i++) {
        const msgpack_object *row = &m->via.array.ptr[i];

        rv_str(&labels->via.array.ptr[i], name, sizeof name);
        printf("\n%-12s", name[0] ? name : "-");
        for (uint32_t j = 0; row->type == MSGPACK_OBJECT_ARRAY && j < row->via.array.size; j++)
            printf(" %10" PRIu64, row->via.array.ptr[j].via.u64);
    }
    printf("\n\nby queue\n");
    for (uint32_t i = 0; qs != NULL && qs->type == MSGPACK_OBJECT_ARRAY &&
                         i < qs->via.array.size; i++) {
        rv_str(cli_map_get(&qs->via.array.ptr[i], "queue"), name, sizeof name);
        rv_row(name, &qs->via.array.ptr[i]);
    }
}

static void
rv_print(const hitlq_reply *r)
{
    const msgpack_object *ws = hitlq_reply_get(r, "windows"), *t = hitlq_reply_get(r, "total");
    char name[32];

    printf("type %s: live review, QA rate %.4g\n", hitlq_reply_get_str(r, "type", NULL),
           rv_num(hitlq_reply_body(r), "qa_rate"));
    printf("%-16s %9s %7s %7s %9s %8s  %-18s %8s %6s %9s %8s\n", "WINDOW", "DECISIONS",
           "VERDICT", "NOTCMP", "AGREEMENT", "KAPPA", "KAPPA 95% CI", "OVERRIDE", "QA",
           "QA_ERROR", "PSI");
    for (uint32_t i = 0; ws != NULL && ws->type == MSGPACK_OBJECT_ARRAY &&
                         i < ws->via.array.size; i++) {
        snprintf(name, sizeof name, "%.0f", rv_num(&ws->via.array.ptr[i], "start_ms"));
        rv_row(name, &ws->via.array.ptr[i]);
    }
    if (t != NULL) {
        rv_row("total", t);
        rv_detail(hitlq_reply_get(r, "labels"), t);
    }
}

int
cli_drift_review(struct cli *cl, int argc, char **argv)
{
    static const struct cli_drift_cmd dc = { "drift-review", REVIEW_USAGE, "since", "until",
                                             hitlq_drift_review, rv_print };

    return cli_drift_range(cl, argc, argv, &dc);
}
