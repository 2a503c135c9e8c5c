/*
 * hitlq_audit.c - main of hitlq-audit, the auditor's verifier for the
 * hitlq audit log (proto/AUDIT-FORMAT.md §8-11): the command table, argument parsing
 * and the one place that prints a result.  The work is in client/aud_*.c.
 *
 * Exit status: 0 everything verified; 1 a verification failure, printed on
 * stderr as "hitlq-audit: CLASS [at index N]: what is wrong"; 2 usage or
 * I/O errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud.h"

/* Options shared by the commands; each reads what it needs. */
struct aud_args {
    struct aud_keys   keys;
    struct aud_server srv;
    bool              have_srv;
    const char       *out, *name, *state, *proof, *entry, *leaf_hex;
    bool              json, have_index, have_item, no_fresh;
    uint64_t          index, item;
    int               nargs;
    char            **args;          /* positional arguments */
};

static const struct {
    const char *name;
    const char *usage;
} aud_commands[] = {
    { "export",      "--server HOST:PORT --out DIR [--no-fresh] [--name N] [--vkey VKEY ...]" },
    { "verify",      "--vkey VKEY... DIR [--state FILE]" },
    { "consistency", "--vkey VKEY... OLD_CHECKPOINT NEW_CHECKPOINT (--server HOST:PORT | --proof FILE)" },
    { "receipt",     "--vkey VKEY... RECEIPT_FILE (--entry ENTRY_FILE | --leaf-hash HEX)" },
    { "summary",     "DIR [--json]" },
    { "prove",       "--server HOST:PORT (--index N | --item ID) [--out FILE] [--vkey VKEY ...]" },
    { "drift",       "--vkey VKEY... DIR [--since T] [--until T] [--window 1d|6h|...]\n"
                     "                          [--reference first|T] [--what-if THRESHOLD ...]\n"
                     "                          [--qa-rate R] [--json | --html FILE]" },
};
#define AUD_NCOMMANDS (sizeof(aud_commands) / sizeof(aud_commands[0]))

static void
aud_usage(FILE *f)
{
    fprintf(f, "usage: hitlq-audit COMMAND [OPTIONS]\n\n");
    for (size_t i = 0; i < AUD_NCOMMANDS; i++)
        fprintf(f, "  hitlq-audit %-11s %s\n", aud_commands[i].name,
                aud_commands[i].usage);
    fprintf(f, "\nTrusted keys: --vkey NAME+ID+KEY (repeatable) or --vkey-file F\n"
               "(one vkey per line).  Nothing else is trusted.\n"
               "Exit status: 0 verified, 1 verification failure (stderr names the\n"
               "first bad index and a class: BAD_ENTRY, BAD_HASH, MISSING, REORDERED,\n"
               "TRUNCATION, ROLLBACK, FORK, BAD_SIGNATURE, UNKNOWN_KEY, BAD_PROOF),\n"
               "2 usage or I/O error.  hitlq-audit --version prints the version.\n");
}

/* Prints a failure; returns the exit status. */
static int
aud_report(const struct aud_result *r)
{
    if (r->cls == AUD_OK)
        return 0;
    if (r->has_index)
        fprintf(stderr, "hitlq-audit: %s at index %" PRIu64 ": %s\n",
                aud_class_name(r->cls), r->index, r->msg);
    else
        fprintf(stderr, "hitlq-audit: %s: %s\n", aud_class_name(r->cls), r->msg);
    if (r->cls == AUD_USAGE)
        fprintf(stderr, "(hitlq-audit --help for usage)\n");
    return aud_class_exit(r->cls);
}

static bool
aud_parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* One option of getopt_long into a; AUD_USAGE on a bad value. */
static enum aud_class
aud_option(struct aud_args *a, int ch, const char *val, struct aud_result *r)
{
    switch (ch) {
    case 'k': return aud_keys_add(&a->keys, val, strlen(val), r);
    case 'K': return aud_keys_load(&a->keys, val, r);
    case 's': a->have_srv = true; return aud_server_parse(val, &a->srv, r);
    case 'o': a->out = val; return AUD_OK;
    case 'n': a->name = val; return AUD_OK;
    case 'S': a->state = val; return AUD_OK;
    case 'p': a->proof = val; return AUD_OK;
    case 'e': a->entry = val; return AUD_OK;
    case 'l': a->leaf_hex = val; return AUD_OK;
    case 'j': a->json = true; return AUD_OK;
    case 'F': a->no_fresh = true; return AUD_OK;
    case 'i':
        a->have_index = true;
        return aud_parse_u64(val, &a->index) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--index wants a number");
    case 'I':
        a->have_item = true;
        return aud_parse_u64(val, &a->item) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--item wants a number");
    default:
        return aud_fail(r, AUD_USAGE, "unknown option");
    }
}

static enum aud_class
aud_parse(int argc, char **argv, struct aud_args *a, struct aud_result *r)
{
    static const struct option opts[] = {
        { "vkey", required_argument, NULL, 'k' },
        { "vkey-file", required_argument, NULL, 'K' },
        { "server", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "name", required_argument, NULL, 'n' },
        { "state", required_argument, NULL, 'S' },
        { "proof", required_argument, NULL, 'p' },
        { "entry", required_argument, NULL, 'e' },
        { "leaf-hash", required_argument, NULL, 'l' },
        { "index", required_argument, NULL, 'i' },
        { "item", required_argument, NULL, 'I' },
        { "json", no_argument, NULL, 'j' },
        { "no-fresh", no_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    enum aud_class cls = AUD_OK;
    int ch;

    optind = 1;
    opterr = 0;
    while (cls == AUD_OK && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
        cls = ch == '?' ? aud_fail(r, AUD_USAGE, "unknown option or missing "
                                   "value: %s", argv[optind - 1])
                        : aud_option(a, ch, optarg, r);
    a->nargs = argc - optind;
    a->args = argv + optind;
    a->srv.name = a->name;
    return cls;
}

/* Commands that must not run on an unpinned trust policy. */
static enum aud_class
aud_need_keys(const struct aud_args *a, struct aud_result *r)
{
    return a->keys.n > 0 ? AUD_OK :
           aud_fail(r, AUD_USAGE, "no trusted key: give --vkey or --vkey-file");
}

static enum aud_class
aud_cmd_verify(struct aud_args *a, struct aud_result *r)
{
    struct aud_verify_opts o = { .state = a->state, .keys = &a->keys };
    struct aud_verify_stats st = { 0 };
    enum aud_class cls;

    if (a->nargs != 1)
        return aud_fail(r, AUD_USAGE, "verify wants one export directory");
    if ((cls = aud_need_keys(a, r)) != AUD_OK)
        return cls;
    o.dir = a->args[0];
    if ((cls = aud_verify(&o, &st, r)) == AUD_OK)
        printf("verified %" PRIu64 " entries in %.3f s (%.0f entries/s)%s\n",
               st.entries, st.seconds,
               st.seconds > 0 ? (double)st.entries / st.seconds : 0.0,
               a->state ? "; state saved" : "");
    return cls;
}

static enum aud_class
aud_cmd_export(struct aud_args *a, struct aud_result *r)
{
    struct aud_verify_stats st = { 0 };
    struct aud_export_out eo;
    enum aud_class cls;

    if (!a->have_srv || a->out == NULL || a->nargs != 0)
        return aud_fail(r, AUD_USAGE, "export wants --server HOST:PORT --out DIR");
    if (a->keys.n == 0)
        fprintf(stderr, "hitlq-audit: warning: no --vkey given: the checkpoint "
                        "signature is NOT verified\n");
    cls = aud_export(&a->srv, a->out, !a->no_fresh, &a->keys, &st, &eo, r);
    if (cls != AUD_OK)
        return cls;
    printf("checkpoint: size %" PRIu64 " (%s); the export covers entries [0, %" PRIu64
           ")\n", eo.cp_size, a->no_fresh ? "the latest signed one" : "fresh, signed on request",
           eo.cp_size);
    printf("exported %" PRIu64 " entries to %s; verified in %.3f s (%.0f entries/s)\n",
           st.entries, a->out, st.seconds,
           st.seconds > 0 ? (double)st.entries / st.seconds : 0.0);
    if (eo.beyond > 0)
        fprintf(stderr, "hitlq-audit: warning: the server already holds %s%" PRIu64
                " entries after this checkpoint; they are not in the export%s\n",
                eo.beyond >= 1024 ? "at least " : "", eo.beyond,
                a->no_fresh ? " (run without --no-fresh)" : "");
    return cls;
}

static enum aud_class
aud_cmd_consistency(struct aud_args *a, struct aud_result *r)
{
    struct aud_consistency_opts o = { .srv = a->have_srv ? &a->srv : NULL,
                                      .proof_path = a->proof, .keys = &a->keys };
    enum aud_class cls;

    if (a->nargs != 2 || a->have_srv == (a->proof != NULL))
        return aud_fail(r, AUD_USAGE, "consistency wants OLD NEW and one of "
                        "--server or --proof");
    if ((cls = aud_need_keys(a, r)) != AUD_OK)
        return cls;
    o.old_path = a->args[0];
    o.new_path = a->args[1];
    if ((cls = aud_consistency(&o, r)) == AUD_OK)
        printf("%s\n", r->msg);
    return cls;
}

static enum aud_class
aud_cmd_receipt(struct aud_args *a, struct aud_result *r)
{
    struct aud_receipt_opts o = { .entry_path = a->entry, .leaf_hex = a->leaf_hex,
                                  .keys = &a->keys };
    enum aud_class cls;

    if (a->nargs != 1)
        return aud_fail(r, AUD_USAGE, "receipt wants one receipt file");
    if ((cls = aud_need_keys(a, r)) != AUD_OK)
        return cls;
    o.receipt_path = a->args[0];
    if ((cls = aud_receipt(&o, r)) == AUD_OK)
        printf("receipt verified: %s\n", r->msg);
    return cls;
}

static enum aud_class
aud_cmd_summary(struct aud_args *a, struct aud_result *r)
{
    if (a->nargs != 1)
        return aud_fail(r, AUD_USAGE, "summary wants one export directory");
    return aud_summary(a->args[0], a->json, r);
}

static enum aud_class
aud_cmd_prove(struct aud_args *a, struct aud_result *r)
{
    struct aud_prove_opts o = { .srv = &a->srv, .out = a->out, .keys = &a->keys };
    enum aud_class cls;

    if (!a->have_srv || a->have_index == a->have_item || a->nargs != 0)
        return aud_fail(r, AUD_USAGE, "prove wants --server and one of --index "
                        "or --item");
    if (a->keys.n == 0)
        fprintf(stderr, "hitlq-audit: warning: no --vkey given: the checkpoint "
                        "signature is NOT verified\n");
    o.by_item = a->have_item;
    o.value = a->have_item ? a->item : a->index;
    if ((cls = aud_prove(&o, r)) == AUD_OK)
        fprintf(stderr, "hitlq-audit: %s\n", r->msg);
    return cls;
}

int
main(int argc, char **argv)
{
    static enum aud_class (*const fns[])(struct aud_args *, struct aud_result *) = {
        aud_cmd_export, aud_cmd_verify, aud_cmd_consistency, aud_cmd_receipt,
        aud_cmd_summary, aud_cmd_prove,
        NULL,                    /* drift parses its own options (aud_drift.c) */
    };
    struct aud_args *a = calloc(1, sizeof(*a));     /* ~20 KB of keys */
    struct aud_result r = { .cls = AUD_OK };
    size_t i;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("hitlq-audit %s\n", HITLQ_VERSION);
        free(a);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        aud_usage(argc < 2 ? stderr : stdout);
        free(a);
        return argc < 2 ? 2 : 0;
    }
    for (i = 0; i < AUD_NCOMMANDS && strcmp(argv[1], aud_commands[i].name) != 0; i++)
        ;
    if (a == NULL)
        aud_fail(&r, AUD_IO, "out of memory");
    else if (i == AUD_NCOMMANDS)
        aud_fail(&r, AUD_USAGE, "unknown command \"%s\"", argv[1]);
    else if (fns[i] == NULL)
        aud_drift_main(argc - 1, argv + 1, &r);
    else if (aud_parse(argc - 1, argv + 1, a, &r) == AUD_OK)
        fns[i](a, &r);
    rc = aud_report(&r);
    free(a);
    return rc;
}
