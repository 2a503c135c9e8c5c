/*
 * hitlq.c - the hitlq command-line tool: global options, the command
 * table and helpers shared by the commands (connect, error reporting,
 * number parsing).  Commands live in cli_items.c, cli_cmds.c,
 * cli_admin.c, cli_drift.c, cli_review.c, cli_work_ops.c and work_main.c
 * (`work`).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 7420

int cli_reload(struct cli *cl, int argc, char **argv);     /* cli_admin.c */
int cli_key(struct cli *cl, int argc, char **argv);        /* cli_admin.c */
int cli_keygen(struct cli *cl, int argc, char **argv);     /* cli_admin.c */
int cli_drift_inputs(struct cli *cl, int argc, char **argv);   /* cli_drift.c */
int cli_drift_review(struct cli *cl, int argc, char **argv);   /* cli_review.c */
int cli_get_key(struct cli *cl, int argc, char **argv);    /* cli_work_ops.c */
int cli_list(struct cli *cl, int argc, char **argv);       /* cli_work_ops.c */
int cli_claim_id(struct cli *cl, int argc, char **argv);   /* cli_work_ops.c */
int cli_comment(struct cli *cl, int argc, char **argv);    /* cli_work_ops.c */
int cli_reopen(struct cli *cl, int argc, char **argv);     /* cli_work_ops.c */
int cli_amend(struct cli *cl, int argc, char **argv);      /* cli_work_ops.c */
int cli_work(struct cli *cl, int argc, char **argv);           /* work_main.c */

static const struct {
    const char *name;
    int (*fn)(struct cli *, int, char **);
    const char *args;
} commands[] = {
    { "submit",   cli_submit,   "[FILE]                      JSON lines: {key, type, fields, priority?}" },
    { "claim",    cli_claim,    "QUEUE[,QUEUE...] [--lease SEC] [--wait SEC] [--worker NAME]" },
    { "extend",   cli_extend,   "ID LEASE [--lease SEC]" },
    { "release",  cli_release,  "ID LEASE [--delay SEC [--waiting-on NAME]]" },
    { "resolve",  cli_resolve,  "ID LEASE OUTCOME [--note TEXT] [--root-cause TAG]" },
    { "escalate", cli_escalate, "ID LEASE QUEUE [--note TEXT]" },
    { "get",      cli_get,      "ID [--exact]                an item with its history (--exact: TreeSHAP reasons)" },
    { "watch",    cli_watch,    "[--from SEQ] [--count N] [--idle SEC]" },
    { "stats",    cli_stats,    "                            queues and types" },
    { "drift-inputs", cli_drift_inputs, "TYPE [--from MS] [--to MS]  input drift per feature (auditor, admin)" },
    { "drift-review", cli_drift_review, "TYPE [--since MS] [--until MS]  live AI-vs-human review (auditor, admin)" },
    { "work",     cli_work,     "QUEUE[,QUEUE] [--lease-ms N] [--max-hold SEC] [--plain | --json]  the workstation" },
    { "reload",   cli_reload,   "                            re-read the server's policy file" },
    { "key",      cli_key,      "add PRINCIPAL ROLE [--skills Q1,Q2] [--tls-peer CN | --public-key PK] | list [PRINCIPAL] | revoke KEY_ID" },
    { "get-key",  cli_get_key,  "KEY                         an item by its idempotency key" },
    { "list",     cli_list,     "QUEUE [--after ID] [--limit N] [--json]  a queue's open items, by id" },
    { "claim-id", cli_claim_id, "ID                          claim this item (types with claim_by_id)" },
    { "comment",  cli_comment,  "ID NOTE                     a note on an item, no decision" },
    { "reopen",   cli_reopen,   "ID --note TEXT [--queue Q]  send a resolved item back (admin, senior)" },
    { "amend",    cli_amend,    "ID OUTCOME --note TEXT [--root-cause TAG]  change an outcome (admin, senior)" },
    { "keygen",   cli_keygen,   "FILE                        new Ed25519 key pair: secret to FILE, public key printed" },
};

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: hitlq [-h host] [-p port] [-n name] [--json] [TLS options] COMMAND [ARGS]\n\n"
               "  -h host   server address (default $HITLQ_HOST or %s)\n"
               "  -p port   server port (default $HITLQ_PORT or %d)\n"
               "  -n name   who is connecting (default $USER)\n"
               "  --json    one JSON object per line\n"
               "  --tls-ca FILE    use TLS; FILE is the CA that signed the server's\n"
               "                   certificate (default $HITLQ_TLS_CA; unset = plaintext)\n"
               "  --tls-cert FILE  client certificate (mutual TLS)\n"
               "  --tls-key FILE   its private key (default: in --tls-cert)\n"
               "  --tls-name NAME  server name to verify (default: the host)\n"
               "  --api-key KEY    API key for servers with auth (default $HITLQ_API_KEY)\n"
               "  --key-file FILE  or an Ed25519 secret key (hitlq keygen) for challenge-\n"
               "                   response (default $HITLQ_KEY_FILE); needs --role\n"
               "  --role ROLE      the role the key was registered with (default $HITLQ_ROLE)\n"
               "  --version        print \"hitlq VERSION\" and exit\n"
               "\ncommands:\n",
            DEFAULT_HOST, DEFAULT_PORT);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].args);
    fprintf(f, "\nexit status: 0 ok, 1 error, 2 usage, 3 claim found no item\n");
}

int
cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("hitlq: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (hitlq --help for usage)\n", stderr);
    return CLI_EXIT_USAGE;
}

bool
cli_parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

bool
cli_parse_secs(const char *s, uint32_t *ms)
{
    char *end;
    double d;

    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    d = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(d >= 0) || d * 1000.0 > (double)UINT32_MAX)
        return false;
    *ms = (uint32_t)(d * 1000.0 + 0.5);
    return true;
}

const msgpack_object *
cli_map_get(const msgpack_object *m, const char *key)
{
    size_t n = strlen(key);
    uint32_t i;

    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;

        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, key, n) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

int
cli_fail(struct cli *cl, const char *what, int rc)
{
    const char *detail = cl->c ? hitlq_errstr(cl->c) : "";

    if (detail[0] != '\0')
        fprintf(stderr, "hitlq: %s: error %s: %s\n", what, hitlq_strerror(rc), detail);
    else
        fprintf(stderr, "hitlq: %s: error %s\n", what, hitlq_strerror(rc));
    return CLI_EXIT_ERR;
}

/* Reads the Ed25519 secret key file (one line) into buf.  0 or -1. */
static int
cli_read_key_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    size_t n = f != NULL ? fread(buf, 1, cap - 1, f) : 0;

    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (f == NULL || n == 0) {
        fprintf(stderr, "hitlq: cannot read the key file %s\n", path);
        return -1;
    }
    return 0;
}

int
cli_options(struct cli *cl, hitlq_options *o, char *sk, size_t sk_len)
{
    *o = (hitlq_options){ .host = cl->host, .port = cl->port, .name = cl->name,
                          .timeout_ms = 30000, .tls_ca = cl->tls_ca, .tls_cert = cl->tls_cert,
                          .tls_key = cl->tls_key, .tls_server_name = cl->tls_name,
                          .api_key = cl->api_key, .role = cl->role };
    if (cl->key_file != NULL) {
        if (cli_read_key_file(cl->key_file, sk, sk_len) != 0)
            return CLI_EXIT_ERR;
        o->ed25519_key = sk;
        o->api_key = NULL;
    }
    return CLI_EXIT_OK;
}

int
cli_connect(struct cli *cl)
{
    char sk[HITLQ_ED25519_KEY_LEN + 8];
    hitlq_options o;

    if (cli_options(cl, &o, sk, sizeof(sk)) != CLI_EXIT_OK)
        return CLI_EXIT_ERR;
    cl->c = hitlq_connect(&o);
    explicit_bzero(sk, sizeof(sk));
    if (cl->c == NULL) {
        fprintf(stderr, "hitlq: out of memory\n");
        return CLI_EXIT_ERR;
    }
    if (hitlq_err(cl->c) != HITLQ_OK)
        return cli_fail(cl, "connect", hitlq_err(cl->c));
    return CLI_EXIT_OK;
}

/* Long-only options' codes. */
enum { OPT_TLS_CA = 256, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_NAME, OPT_KEY_FILE, OPT_ROLE };

/* $name when set and not empty, else NULL. */
static const char *
cli_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

/* Host, port, name and TLS CA from the environment, overridden by options. */
static int
parse_globals(struct cli *cl, int argc, char **argv)
{
    static const struct option lo[] = {
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'H' },
        { "version", no_argument, NULL, 'V' },
        { "tls-ca", required_argument, NULL, OPT_TLS_CA },
        { "tls-cert", required_argument, NULL, OPT_TLS_CERT },
        { "tls-key", required_argument, NULL, OPT_TLS_KEY },
        { "tls-name", required_argument, NULL, OPT_TLS_NAME },
        { "api-key", required_argument, NULL, 'A' },
        { "key-file", required_argument, NULL, OPT_KEY_FILE },
        { "role", required_argument, NULL, OPT_ROLE },
        { NULL, 0, NULL, 0 } };
    const char *port = getenv("HITLQ_PORT");
    uint64_t p;
    int ch;

    cl->host = getenv("HITLQ_HOST") ? getenv("HITLQ_HOST") : DEFAULT_HOST;
    cl->name = getenv("USER");
    cl->tls_ca = cli_env("HITLQ_TLS_CA");
    cl->api_key = cli_env("HITLQ_API_KEY");
    cl->key_file = cli_env("HITLQ_KEY_FILE");
    cl->role = cli_env("HITLQ_ROLE");
    while ((ch = getopt_long(argc, argv, "+h:p:n:", lo, NULL)) != -1) {
        switch (ch) {
        case 'h': cl->host = optarg; break;
        case 'p': port = optarg; break;
        case 'n': cl->name = optarg; break;
        case 'j': cl->json = true; break;
        case OPT_TLS_CA:   cl->tls_ca = optarg; break;
        case OPT_TLS_CERT: cl->tls_cert = optarg; break;
        case OPT_TLS_KEY:  cl->tls_key = optarg; break;
        case OPT_TLS_NAME: cl->tls_name = optarg; break;
        case 'A':          cl->api_key = optarg; break;
        case OPT_KEY_FILE: cl->key_file = optarg; break;
        case OPT_ROLE:     cl->role = optarg; break;
        case 'H': usage(stdout); exit(CLI_EXIT_OK);
        case 'V': printf("hitlq %s\n", HITLQ_VERSION); exit(CLI_EXIT_OK);
        default:  return cli_usage_error("bad option");
        }
    }
    if (cl->tls_ca == NULL && (cl->tls_cert || cl->tls_key || cl->tls_name))
        return cli_usage_error("--tls-cert, --tls-key and --tls-name need --tls-ca "
                               "(or $HITLQ_TLS_CA)");
    if (cl->key_file != NULL && cl->role == NULL)
        return cli_usage_error("--key-file needs --role (or $HITLQ_ROLE)");
    cl->port = DEFAULT_PORT;
    if (port != NULL) {
        if (!cli_parse_u64(port, &p) || p == 0 || p > 65535)
            return cli_usage_error("bad port \"%s\"", port);
        cl->port = (uint16_t)p;
    }
    return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
    struct cli cl = { 0 };
    size_t i;
    int rc;

    if ((rc = parse_globals(&cl, argc, argv)) != CLI_EXIT_OK)
        return rc;
    if (optind >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[0], commands[i].name) != 0)
            continue;
        optind = 0;                    /* reset getopt for the command */
        rc = commands[i].fn(&cl, argc, argv);
        hitlq_free(cl.c);
        return rc;
    }
    return cli_usage_error("unknown command \"%s\"", argv[0]);
}
