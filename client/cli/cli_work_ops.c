/*
 * cli_work_ops.c - the CLI commands of the specialists' work operations:
 * get-key, list, claim-id, comment, reopen and amend (PROTOCOL.md
 * §4.15-4.20).  Each prints a readable form, or with --json the reply
 * body (or {"ok":true, ...}) on one line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Prints a reply body as one JSON line. */
static void
work_print_json(const hitlq_reply *r)
{
    json_t *j = cli_mp_to_json(hitlq_reply_body(r));

    cli_json_println(stdout, j);
    json_decref(j);
}

int
cli_get_key(struct cli *cl, int argc, char **argv)
{
    const msgpack_object *h;
    hitlq_reply *r = NULL;
    int rc;

    if (argc != 2)
        return cli_usage_error("usage: get-key KEY");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_get_by_key(cl->c, argv[1], &r)) != HITLQ_OK) {
        hitlq_reply_free(r);
        return cli_fail(cl, "get-key", rc);
    }
    if (cl->json) {
        work_print_json(r);
    } else {
        cli_print_item(hitlq_reply_body(r));
        h = hitlq_reply_get(r, "history");
        if (h != NULL && h->type == MSGPACK_OBJECT_ARRAY) {
            printf("history:\n");
            for (uint32_t i = 0; i < h->via.array.size; i++) {
                printf("  ");
                cli_mp_print(stdout, &h->via.array.ptr[i]);
                printf("\n");
            }
        }
    }
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}

/* One LIST entry as a text line. */
static void
work_print_entry(const msgpack_object *e)
{
    static const char *const keys[] = { "id", "state", "priority", "deadline_ms", "age_ms",
                                        "attempts", "type" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        printf("%s%s=", i ? " " : "", keys[i]);
        if (cli_map_get(e, keys[i]) != NULL)
            cli_mp_print(stdout, cli_map_get(e, keys[i]));
    }
    printf("\n");
}

static int
list_opts(struct cli *cl, int argc, char **argv, uint64_t *after, uint32_t *limit)
{
    static const struct option lo[] = {
        { "after", required_argument, NULL, 'a' }, { "limit", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
    uint64_t v;
    int ch;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'j') {
            cl->json = true;
        } else if (ch == 'a' && cli_parse_u64(optarg, after)) {
            continue;
        } else if (ch == 'n' && cli_parse_u64(optarg, &v) && v >= 1 && v <= 1000) {
            *limit = (uint32_t)v;
        } else {
            return cli_usage_error("usage: list QUEUE [--after ID] [--limit 1..1000] [--json]");
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("usage: list QUEUE [--after ID] [--limit 1..1000] [--json]");
    return CLI_EXIT_OK;
}

int
cli_list(struct cli *cl, int argc, char **argv)
{
    const msgpack_object *items, *next;
    hitlq_reply *r = NULL;
    uint64_t after = 0;
    uint32_t limit = 0;
    int rc;

    if ((rc = list_opts(cl, argc, argv, &after, &limit)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_list(cl->c, argv[optind], after, limit, &r)) != HITLQ_OK) {
        hitlq_reply_free(r);
        return cli_fail(cl, "list", rc);
    }
    if (cl->json) {
        work_print_json(r);
    } else {
        items = hitlq_reply_get(r, "items");
        for (uint32_t i = 0; items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
                             i < items->via.array.size; i++)
            work_print_entry(&items->via.array.ptr[i]);
        if ((next = hitlq_reply_get(r, "next")) != NULL &&
            next->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            printf("next: --after %" PRIu64 "\n", next->via.u64);
    }
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}

int
cli_claim_id(struct cli *cl, int argc, char **argv)
{
    struct hitlq_claim claim;
    uint64_t id;
    int rc;

    if (argc != 2 || !cli_parse_u64(argv[1], &id))
        return cli_usage_error("usage: claim-id ID");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_claim_id(cl->c, id, 0, NULL, &claim)) != HITLQ_OK)
        return cli_fail(cl, "claim-id", rc);
    if (cl->json)
        work_print_json(claim.reply);
    else
        cli_print_item(hitlq_reply_body(claim.reply));
    hitlq_claim_clear(&claim);
    return CLI_EXIT_OK;
}

int
cli_comment(struct cli *cl, int argc, char **argv)
{
    uint64_t id, at = 0;
    int rc;

    if (argc != 3 || !cli_parse_u64(argv[1], &id))
        return cli_usage_error("usage: comment ID NOTE");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_comment(cl->c, id, argv[2], &at)) != HITLQ_OK)
        return cli_fail(cl, "comment", rc);
    if (cl->json)
        printf("{\"ok\":true,\"at_ms\":%" PRIu64 "}\n", at);
    else
        printf("comment recorded\n");
    return CLI_EXIT_OK;
}

/* "ID [ARG] --note N [--queue Q | --root-cause R]": the options reopen
 * and amend take; nargs positional arguments after the command. */
static int
work_opts(int argc, char **argv, int nargs, const char **note, const char **extra)
{
    static const struct option lo[] = {
        { "note", required_argument, NULL, 'N' }, { "queue", required_argument, NULL, 'q' },
        { "root-cause", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
    bool reopen = nargs == 1;
    int ch;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'N')
            *note = optarg;
        else if ((ch == 'q' && reopen) || (ch == 'r' && !reopen))
            *extra = optarg;
        else
            return cli_usage_error("bad option for %s", argv[0]);
    }
    if (argc - optind != nargs || *note == NULL)
        return cli_usage_error(reopen ? "usage: reopen ID --note TEXT [--queue Q]"
                                      : "usage: amend ID OUTCOME --note TEXT [--root-cause TAG]");
    return CLI_EXIT_OK;
}

int
cli_reopen(struct cli *cl, int argc, char **argv)
{
    const char *note = NULL, *queue = NULL;
    char got[HITLQ_MAX_QUEUE_NAME + 1];
    uint64_t id;
    int rc;

    if ((rc = work_opts(argc, argv, 1, &note, &queue)) != CLI_EXIT_OK)
        return rc;
    if (!cli_parse_u64(argv[optind], &id))
        return cli_usage_error("ID must be an unsigned integer");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_reopen(cl->c, id, queue, note, got)) != HITLQ_OK)
        return cli_fail(cl, "reopen", rc);
    if (cl->json) {
        json_t *j = json_pack("{s:b,s:s}", "ok", 1, "queue", got);

        cli_json_println(stdout, j);
        json_decref(j);
    } else
        printf("reopened on %s\n", got);
    return CLI_EXIT_OK;
}

int
cli_amend(struct cli *cl, int argc, char **argv)
{
    const char *note = NULL, *root = NULL;
    uint64_t id, seq = 0;
    int rc;

    if ((rc = work_opts(argc, argv, 2, &note, &root)) != CLI_EXIT_OK)
        return rc;
    if (!cli_parse_u64(argv[optind], &id))
        return cli_usage_error("ID must be an unsigned integer");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_amend(cl->c, id, argv[optind + 1], note, root, &seq)) != HITLQ_OK)
        return cli_fail(cl, "amend", rc);
    if (cl->json)
        printf("{\"ok\":true,\"seq\":%" PRIu64 "}\n", seq);
    else
        printf("amended seq=%" PRIu64 "\n", seq);
    return CLI_EXIT_OK;
}
