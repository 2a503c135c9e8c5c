/*
 * cli_cmds.c - the CLI commands that act on a leased or existing item
 * (extend, release, resolve, escalate, get) and the read-only streams
 * (watch, stats).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Options of the lease commands, one struct for all of them. */
struct lease_args {
    uint64_t    id, lease;
    const char *arg3;            /* OUTCOME or QUEUE */
    uint32_t    lease_ms, delay_ms;
    const char *note, *root_cause;
    const char *waiting_on;      /* release --waiting-on */
};

/* Parses "ID LEASE [ARG3]" plus the options allowed by `shorts`' users. */
static int
lease_opts(int argc, char **argv, bool want3, struct lease_args *a)
{
    static const struct option lo[] = {
        { "lease", required_argument, NULL, 'l' }, { "delay", required_argument, NULL, 'd' },
        { "note", required_argument, NULL, 'N' }, { "root-cause", required_argument, NULL, 'r' },
        { "waiting-on", required_argument, NULL, 'w' }, { NULL, 0, NULL, 0 } };
    int ch;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if ((ch == 'l' && !cli_parse_secs(optarg, &a->lease_ms)) ||
            (ch == 'd' && !cli_parse_secs(optarg, &a->delay_ms)))
            return cli_usage_error("bad number of seconds \"%s\"", optarg);
        if (ch == 'N')
            a->note = optarg;
        else if (ch == 'r')
            a->root_cause = optarg;
        else if (ch == 'w')
            a->waiting_on = optarg;
        else if (ch != 'l' && ch != 'd')
            return cli_usage_error("bad option for %s", argv[0]);
    }
    if (argc - optind != (want3 ? 3 : 2))
        return cli_usage_error("%s needs ID LEASE%s", argv[0], want3 ? " and one more argument" : "");
    if (!cli_parse_u64(argv[optind], &a->id) || !cli_parse_u64(argv[optind + 1], &a->lease))
        return cli_usage_error("ID and LEASE must be unsigned integers");
    a->arg3 = want3 ? argv[optind + 2] : NULL;
    return CLI_EXIT_OK;
}

/* Prints a one-line result, as text or as {"ok":true, key: value}. */
static int
done(struct cli *cl, const char *text, const char *key, uint64_t v)
{
    if (cl->json && key != NULL)
        printf("{\"ok\":true,\"%s\":%" PRIu64 "}\n", key, v);
    else if (cl->json)
        printf("{\"ok\":true}\n");
    else
        printf("%s\n", text);
    return CLI_EXIT_OK;
}

int
cli_extend(struct cli *cl, int argc, char **argv)
{
    struct lease_args a = { 0 };
    uint64_t exp = 0;
    char tb[40], line[64];
    int rc;

    if ((rc = lease_opts(argc, argv, false, &a)) != CLI_EXIT_OK ||
        (a.delay_ms || a.note || a.root_cause || a.waiting_on))
        return rc ? rc : cli_usage_error("extend takes only --lease");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_extend(cl->c, a.id, a.lease, a.lease_ms, &exp)) != HITLQ_OK)
        return cli_fail(cl, "extend", rc);
    snprintf(line, sizeof(line), "expires %s", cli_time(exp, tb, sizeof(tb)));
    return done(cl, line, "expires_ms", exp);
}

int
cli_release(struct cli *cl, int argc, char **argv)
{
    struct lease_args a = { 0 };
    int rc;

    if ((rc = lease_opts(argc, argv, false, &a)) != CLI_EXIT_OK ||
        (a.lease_ms || a.note || a.root_cause))
        return rc ? rc : cli_usage_error("release takes only --delay and --waiting-on");
    if (a.waiting_on != NULL && a.delay_ms == 0)
        return cli_usage_error("--waiting-on needs --delay");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_release_waiting(cl->c, a.id, a.lease, a.delay_ms, a.waiting_on)) !=
        HITLQ_OK)
        return cli_fail(cl, "release", rc);
    return done(cl, a.waiting_on ? "released (delayed, SLA clock paused)"
                : a.delay_ms ? "released (delayed)" : "released", NULL, 0);
}

int
cli_resolve(struct cli *cl, int argc, char **argv)
{
    struct lease_args a = { 0 };
    uint64_t seq = 0;
    char line[48];
    int rc;

    if ((rc = lease_opts(argc, argv, true, &a)) != CLI_EXIT_OK || a.lease_ms || a.delay_ms ||
        a.waiting_on)
        return rc ? rc : cli_usage_error("resolve takes --note and --root-cause");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    rc = hitlq_resolve(cl->c, a.id, a.lease, a.arg3, a.note, a.root_cause, &seq);
    if (rc != HITLQ_OK)
        return cli_fail(cl, "resolve", rc);
    snprintf(line, sizeof(line), "resolved seq=%" PRIu64, seq);
    return done(cl, line, "seq", seq);
}

int
cli_escalate(struct cli *cl, int argc, char **argv)
{
    struct lease_args a = { 0 };
    char line[96];
    int rc;

    if ((rc = lease_opts(argc, argv, true, &a)) != CLI_EXIT_OK ||
        a.lease_ms || a.delay_ms || a.root_cause || a.waiting_on)
        return rc ? rc : cli_usage_error("escalate takes only --note");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_escalate(cl->c, a.id, a.lease, a.arg3, a.note)) != HITLQ_OK)
        return cli_fail(cl, "escalate", rc);
    snprintf(line, sizeof(line), "escalated to %s", a.arg3);
    return done(cl, line, NULL, 0);
}

/* ---- get ---------------------------------------------------------------------- */

/* One history event: time, event name, then the other keys as key=value. */
static void
print_event(const msgpack_object *ev)
{
    const msgpack_object *at = cli_map_get(ev, "at_ms");
    const msgpack_object *name = cli_map_get(ev, "event");
    char tb[40];
    uint32_t i;

    printf("  %s  ", at && at->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                         ? cli_time(at->via.u64, tb, sizeof(tb)) : "-");
    if (name != NULL)
        cli_mp_print(stdout, name);
    for (i = 0; ev->type == MSGPACK_OBJECT_MAP && i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];

        if (&kv->val == at || &kv->val == name)
            continue;
        printf(" ");
        cli_mp_print(stdout, &kv->key);
        printf("=");
        cli_mp_print(stdout, &kv->val);
    }
    printf("\n");
}

static void
print_json_body(const hitlq_reply *r)
{
    json_t *j = cli_mp_to_json(hitlq_reply_body(r));

    cli_json_println(stdout, j);
    json_decref(j);
}

int
cli_get(struct cli *cl, int argc, char **argv)
{
    const msgpack_object *h;
    hitlq_reply *r = NULL;
    uint64_t id;
    uint32_t i;
    int rc;

    bool exact = argc == 3 && strcmp(argv[2], "--exact") == 0;

    if ((argc != 2 && !exact) || !cli_parse_u64(argv[1], &id))
        return cli_usage_error("usage: get ID [--exact]");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = exact ? hitlq_get_exact(cl->c, id, &r) : hitlq_get(cl->c, id, &r)) != HITLQ_OK) {
        hitlq_reply_free(r);
        return cli_fail(cl, "get", rc);
    }
    if (cl->json) {
        print_json_body(r);
    } else {
        cli_print_item(hitlq_reply_body(r));
        h = hitlq_reply_get(r, "history");
        if (h != NULL && h->type == MSGPACK_OBJECT_ARRAY) {
            printf("history:\n");
            for (i = 0; i < h->via.array.size; i++)
                print_event(&h->via.array.ptr[i]);
        }
    }
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}

/* ---- watch ---------------------------------------------------------------------- */

struct watch_state {
    struct cli *cl;
    uint64_t    count, seen;
};

static int
on_result(void *arg, const hitlq_reply *r)
{
    static const char *const keys[] = { "seq", "id", "key", "type", "outcome",
                                        "actor", "score", "root_cause", "note" };
    struct watch_state *w = arg;
    const msgpack_object *o;
    size_t i;

    if (w->cl->json) {
        print_json_body(r);
    } else {
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if ((o = hitlq_reply_get(r, keys[i])) == NULL)
                continue;
            printf("%s%s=", i ? " " : "", keys[i]);
            cli_mp_print(stdout, o);
        }
        o = hitlq_reply_get(r, "auto");
        if (o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean)
            printf(" auto");
        printf("\n");
    }
    fflush(stdout);
    return w->count > 0 && ++w->seen >= w->count;
}

int
cli_watch(struct cli *cl, int argc, char **argv)
{
    static const struct option lo[] = {
        { "from", required_argument, NULL, 'f' }, { "count", required_argument, NULL, 'c' },
        { "idle", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 } };
    struct watch_state w = { .cl = cl };
    uint64_t from = 0;
    uint32_t idle = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if ((ch == 'f' && !cli_parse_u64(optarg, &from)) ||
            (ch == 'c' && !cli_parse_u64(optarg, &w.count)) ||
            (ch == 'i' && !cli_parse_secs(optarg, &idle)) || ch == '?')
            return cli_usage_error("usage: watch [--from SEQ] [--count N] [--idle SEC]");
    }
    if (optind != argc || idle > INT32_MAX)
        return cli_usage_error("usage: watch [--from SEQ] [--count N] [--idle SEC]");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    rc = hitlq_watch(cl->c, from, (int)idle, on_result, &w);
    if (rc == HITLQ_OK || (rc == HITLQ_ETIMEOUT && idle > 0))
        return CLI_EXIT_OK;
    return cli_fail(cl, "watch", rc);
}

/* ---- stats ---------------------------------------------------------------------- */

static uint64_t
u64_of(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = cli_map_get(m, key);

    return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

static double
f64_of(const msgpack_object *m, const char *key)
{
    const msgpack_object *o = cli_map_get(m, key);

    if (o == NULL)
        return 0;
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        return o->via.f64;
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double)o->via.u64 : 0;
}

static const char *
str_of(const msgpack_object *m, const char *key, char *buf, size_t len)
{
    const msgpack_object *o = cli_map_get(m, key);

    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return "?";
    snprintf(buf, len, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    return buf;
}

static void
print_stats(const hitlq_reply *r)
{
    const msgpack_object *qs = hitlq_reply_get(r, "queues");
    const msgpack_object *ts = hitlq_reply_get(r, "types");
    char name[130];
    uint32_t i;

    printf("%-24s %8s %8s %8s %12s %12s\n", "QUEUE", "DEPTH", "LEASED", "DELAYED",
           "OLDEST(s)", "SLA_BREACHED");
    for (i = 0; qs && qs->type == MSGPACK_OBJECT_ARRAY && i < qs->via.array.size; i++) {
        const msgpack_object *q = &qs->via.array.ptr[i];

        printf("%-24s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12.1f %12" PRIu64 "\n",
               str_of(q, "queue", name, sizeof(name)), u64_of(q, "depth"),
               u64_of(q, "leased"), u64_of(q, "delayed"),
               (double)u64_of(q, "oldest_age_ms") / 1000.0, u64_of(q, "sla_breached"));
    }
    printf("\n%-24s %10s %10s %10s %9s\n", "TYPE", "SUBMITTED", "AUTO", "QUEUED", "AUTO_RATE");
    for (i = 0; ts && ts->type == MSGPACK_OBJECT_ARRAY && i < ts->via.array.size; i++) {
        const msgpack_object *t = &ts->via.array.ptr[i];

        printf("%-24s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8.1f%%\n",
               str_of(t, "type", name, sizeof(name)), u64_of(t, "submitted"),
               u64_of(t, "auto_resolved"), u64_of(t, "queued"),
               100.0 * f64_of(t, "auto_rate"));
    }
    printf("\nresults: next seq %" PRIu64 "\n", u64_of(hitlq_reply_body(r), "results"));
}

int
cli_stats(struct cli *cl, int argc, char **argv)
{
    hitlq_reply *r = NULL;
    int rc;

    if (argc != 1)
        return cli_usage_error("usage: stats");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_stats(cl->c, &r)) != HITLQ_OK) {
        hitlq_reply_free(r);
        return cli_fail(cl, "stats", rc);
    }
    if (cl->json)
        print_json_body(r);
    else
        print_stats(r);
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}
