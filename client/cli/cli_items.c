/*
 * cli_items.c - the CLI commands that move items in: `submit` (JSON lines,
 * pipelined in chunks with hitlq_submit_batch) and `claim` (lease one item
 * and show it).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SUBMIT_CHUNK  256
#define SUBMIT_WINDOW 64

/* A chunk of parsed lines waiting to be sent. */
struct chunk {
    struct cli_item items[SUBMIT_CHUNK];
    hitlq_item      req[SUBMIT_CHUNK];
    hitlq_decision  out[SUBMIT_CHUNK];
    int             status[SUBMIT_CHUNK];
    size_t          n;
};

static void
print_decision(struct cli *cl, const char *key, const hitlq_decision *d)
{
    json_t *j, *rs;
    size_t i;

    char sc[16];

    if (isnan(d->score))
        snprintf(sc, sizeof(sc), "null");      /* not scored */
    else
        snprintf(sc, sizeof(sc), "%.2f", d->score);
    if (!cl->json) {
        if (d->queued)
            printf("%" PRIu64 " queued %s score=%s prio=%" PRIu32 " route=%s%s\n", d->id,
                   d->queue, sc, d->priority, d->route, d->duplicate ? " dup" : "");
        else
            printf("%" PRIu64 " auto_resolved %s score=%s%s\n", d->id, d->action,
                   sc, d->duplicate ? " dup" : "");
        return;
    }
    rs = json_array();
    for (i = 0; i < d->n_rules; i++)
        json_array_append_new(rs, json_pack("{s:s,s:s}", d->rules[i].hard ? "hard_rule" : "rule",
                                            d->rules[i].id, "field", d->rules[i].field));
    for (i = 0; i < d->n_reasons; i++)
        json_array_append_new(rs, json_pack("{s:s,s:f}", "feature", d->reasons[i].feature,
                                            "contribution", d->reasons[i].contribution));
    j = json_pack("{s:s,s:I,s:s,s:o,s:s,s:b,s:o}", "key", key, "id", (json_int_t)d->id,
                  "outcome", d->queued ? "queued" : "auto_resolved", "score",
                  isnan(d->score) ? json_null() : json_real(d->score),
                  "model", d->model, "duplicate", d->duplicate, "reasons", rs);
    if (d->route[0] != '\0')
        json_object_set_new(j, "route", json_string(d->route));
    if (d->explain[0] != '\0')
        json_object_set_new(j, "explain", json_string(d->explain));
    if (d->queued) {
        json_object_set_new(j, "queue", json_string(d->queue));
        json_object_set_new(j, "priority", json_integer(d->priority));
        json_object_set_new(j, "deadline_ms", json_integer((json_int_t)d->deadline_ms));
    } else {
        json_object_set_new(j, "action", json_string(d->action));
    }
    cli_json_println(stdout, j);
    json_decref(j);
}

static void
print_item_error(struct cli *cl, const char *key, int rc, const char *detail)
{
    json_t *j;

    fprintf(stderr, "error %s: %s: %s\n", hitlq_strerror(rc), key ? key : "-", detail);
    if (!cl->json)
        return;
    j = json_pack("{s:s?,s:s,s:s}", "key", key, "error", hitlq_strerror(rc),
                  "message", detail);
    cli_json_println(stdout, j);
    json_decref(j);
}

/* Sends the chunk; returns the number of failed items, or -1 after a
 * client error that ends the run (the unconfirmed items are then counted
 * in one message, not one line each: their outcome is unknown). */
static int
flush_chunk(struct cli *cl, struct chunk *ch)
{
    size_t i, unknown = 0;
    int rc, failed = 0;

    if (ch->n == 0)
        return 0;
    rc = hitlq_submit_batch(cl->c, ch->req, ch->n, SUBMIT_WINDOW, ch->out, ch->status);
    for (i = 0; i < ch->n; i++) {
        if (ch->status[i] == HITLQ_OK) {
            print_decision(cl, ch->items[i].key, &ch->out[i]);
        } else if (ch->status[i] > 0 || ch->status[i] == HITLQ_EINVAL) {
            failed++;
            print_item_error(cl, ch->items[i].key, ch->status[i],
                             ch->status[i] > 0 ? hitlq_strdesc(ch->status[i])
                                               : hitlq_errstr(cl->c));
        } else if (unknown++ == 0) {
            fprintf(stderr, "hitlq: submit: no reply from %s on: %s\n",
                    ch->items[i].key, hitlq_errstr(cl->c));
        }
    }
    for (i = 0; i < ch->n; i++)
        cli_item_clear(&ch->items[i]);
    if (unknown > 0)
        fprintf(stderr, "hitlq: submit: %zu item(s) of this chunk unconfirmed "
                "(resubmitting them is safe: same keys)\n", unknown);
    ch->n = 0;
    fflush(stdout);
    return rc < 0 ? -1 : failed;
}

/* Parses one line into the chunk; false when it is not an item. */
static bool
add_line(struct cli *cl, struct chunk *ch, const char *line, size_t lineno)
{
    struct cli_item *it = &ch->items[ch->n];
    char err[160], where[32];

    if (cli_item_parse(line, it, err, sizeof(err)) < 0) {
        snprintf(where, sizeof(where), "line %zu", lineno);
        print_item_error(cl, where, HITLQ_EINVAL, err);
        return false;
    }
    ch->req[ch->n] = (hitlq_item){ .key = it->key, .type = it->type,
                                   .fields = it->fields.data,
                                   .fields_len = it->fields.size,
                                   .priority = it->priority };
    ch->n++;
    return true;
}

static int
submit_stream(struct cli *cl, FILE *in)
{
    struct chunk *ch = calloc(1, sizeof(*ch));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int failed = 0, n = 0;

    if (ch == NULL)
        return CLI_EXIT_ERR;
    while (n >= 0 && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;                                   /* blank line */
        if (!add_line(cl, ch, line, lineno))
            failed++;
        if (ch->n == SUBMIT_CHUNK && (n = flush_chunk(cl, ch)) > 0)
            failed += n;
    }
    if (n >= 0 && (n = flush_chunk(cl, ch)) > 0)
        failed += n;
    free(line);
    free(ch);
    if (n < 0)
        return CLI_EXIT_ERR;
    return failed > 0 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}

int
cli_submit(struct cli *cl, int argc, char **argv)
{
    FILE *in = stdin;
    int rc;

    if (getopt_long(argc, argv, "", (struct option[]){ { 0, 0, 0, 0 } }, NULL) != -1)
        return cli_usage_error("submit takes no options");
    if (argc - optind > 1)
        return cli_usage_error("usage: submit [FILE]");
    if (argc - optind == 1 && strcmp(argv[optind], "-") != 0) {
        in = fopen(argv[optind], "r");
        if (in == NULL) {
            perror(argv[optind]);
            return CLI_EXIT_ERR;
        }
    }
    rc = cli_connect(cl);
    if (rc == CLI_EXIT_OK)
        rc = submit_stream(cl, in);
    if (in != stdin)
        fclose(in);
    return rc;
}

/* ---- claim ------------------------------------------------------------------ */

/* The reasons, labelled with how their contributions were computed. */
static void
print_reasons(const msgpack_object *rs, const msgpack_object *explain)
{
    uint32_t i;

    if (rs == NULL || rs->type != MSGPACK_OBJECT_ARRAY)
        return;
    printf("reasons");
    if (explain != NULL && explain->type == MSGPACK_OBJECT_STR)
        printf(" (%.*s)", (int)explain->via.str.size, explain->via.str.ptr);
    printf(":\n");
    for (i = 0; i < rs->via.array.size; i++) {
        const msgpack_object *r = &rs->via.array.ptr[i];
        const msgpack_object *f = cli_map_get(r, "feature");
        const msgpack_object *v = cli_map_get(r, "value");
        const msgpack_object *c = cli_map_get(r, "contribution");
        const msgpack_object *ru = cli_map_get(r, "rule"), *hr = cli_map_get(r, "hard_rule");

        printf("  ");
        if (ru != NULL || hr != NULL) {
            printf("%s ", ru != NULL ? "rule" : "hard rule");
            cli_mp_print(stdout, ru != NULL ? ru : hr);
            printf(": ");
            cli_mp_print(stdout, cli_map_get(r, "message"));
            printf("\n");
            continue;
        }
        if (f != NULL)
            cli_mp_print(stdout, f);
        if (v != NULL) {
            printf(" = ");
            cli_mp_print(stdout, v);
        }
        if (c != NULL) {
            printf("  (");
            cli_mp_print(stdout, c);
            printf(")");
        }
        printf("\n");
    }
}

static void
print_kv_map(const char *title, const msgpack_object *m)
{
    uint32_t i;

    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return;
    printf("%s:\n", title);
    for (i = 0; i < m->via.map.size; i++) {
        printf("  ");
        cli_mp_print(stdout, &m->via.map.ptr[i].key);
        printf(": ");
        cli_mp_print(stdout, &m->via.map.ptr[i].val);
        printf("\n");
    }
}

static void
print_line(const char *label, const msgpack_object *o)
{
    char tb[40];

    if (o == NULL)
        return;
    printf("%-12s ", label);
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && strstr(label, "_ms") == NULL)
        printf("%llu", (unsigned long long)o->via.u64);
    else if (strstr(label, "_ms") == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        cli_mp_print(stdout, o);
    else
        printf("%s", cli_time(o->via.u64, tb, sizeof(tb)));
    printf("\n");
}

static void
print_opt(const msgpack_object *o)
{
    if (o != NULL)
        cli_mp_print(stdout, o);
    else
        printf("?");
}

/* A CLAIM reply's notes: "  <time> <event> by <actor>: <note>". */
static void
print_notes(const msgpack_object *ns)
{
    char tb[40];

    if (ns == NULL || ns->type != MSGPACK_OBJECT_ARRAY || ns->via.array.size == 0)
        return;
    printf("notes:\n");
    for (uint32_t i = 0; i < ns->via.array.size; i++) {
        const msgpack_object *n = &ns->via.array.ptr[i], *at = cli_map_get(n, "at_ms");

        printf("  %s ", at != NULL && at->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                        ? cli_time(at->via.u64, tb, sizeof(tb)) : "?");
        print_opt(cli_map_get(n, "event"));
        printf(" by ");
        print_opt(cli_map_get(n, "actor"));
        printf(": ");
        print_opt(cli_map_get(n, "note"));
        printf("\n");
    }
}

void
cli_print_item(const msgpack_object *body)
{
    static const char *const keys[] = {
        "id", "lease", "key", "type", "state", "queue", "priority", "attempts",
        "created_ms", "deadline_ms", "expires_ms", "score", "model", "recommendation",
        "outcome", "actions", "escalate_to", "root_causes",
    };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        print_line(keys[i], cli_map_get(body, keys[i]));
    print_reasons(cli_map_get(body, "reasons"), cli_map_get(body, "explain"));
    print_kv_map("fields", cli_map_get(body, "fields"));
    print_notes(cli_map_get(body, "notes"));
}

static int
claim_opts(int argc, char **argv, uint32_t *lease, uint32_t *wait, const char **worker)
{
    static const struct option lo[] = {
        { "lease", required_argument, NULL, 'l' }, { "wait", required_argument, NULL, 'w' },
        { "worker", required_argument, NULL, 'W' }, { NULL, 0, NULL, 0 } };
    int ch;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if ((ch == 'l' && !cli_parse_secs(optarg, lease)) ||
            (ch == 'w' && !cli_parse_secs(optarg, wait)))
            return cli_usage_error("bad number of seconds \"%s\"", optarg);
        if (ch == 'W')
            *worker = optarg;
        else if (ch != 'l' && ch != 'w')
            return cli_usage_error("bad claim option");
    }
    if (argc - optind != 1)
        return cli_usage_error("usage: claim QUEUE[,QUEUE...] [--lease SEC] [--wait SEC]");
    return CLI_EXIT_OK;
}

int
cli_claim(struct cli *cl, int argc, char **argv)
{
    const char *queues[HITLQ_MAX_CLAIM_QUEUES], *worker = NULL;
    struct hitlq_claim claim;
    uint32_t lease = 0, wait = 0;
    size_t nq = 0;
    char *list, *save = NULL, *q;
    int rc;

    if ((rc = claim_opts(argc, argv, &lease, &wait, &worker)) != CLI_EXIT_OK)
        return rc;
    list = argv[optind];
    for (q = strtok_r(list, ",", &save); q != NULL; q = strtok_r(NULL, ",", &save)) {
        if (nq == HITLQ_MAX_CLAIM_QUEUES)
            return cli_usage_error("at most %u queues", HITLQ_MAX_CLAIM_QUEUES);
        queues[nq++] = q;
    }
    if (nq == 0)
        return cli_usage_error("no queue named");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    rc = hitlq_claim(cl->c, queues, nq, lease, wait, worker, &claim);
    if (rc == HITLQ_ST_EMPTY) {
        if (cl->json)
            printf("{\"empty\":true}\n");
        else
            fprintf(stderr, "no item\n");
        return CLI_EXIT_EMPTY;
    }
    if (rc != HITLQ_OK)
        return cli_fail(cl, "claim", rc);
    if (cl->json) {
        json_t *j = cli_mp_to_json(hitlq_reply_body(claim.reply));

        cli_json_println(stdout, j);
        json_decref(j);
    } else {
        cli_print_item(hitlq_reply_body(claim.reply));
    }
    hitlq_claim_clear(&claim);
    return CLI_EXIT_OK;
}
