/*
 * cli_admin.c - the administration commands of the CLI: reload (the
 * server re-reads its policy file; a bad file is refused and the old
 * policy stays in force), key (add, list and revoke API keys, tls_peer
 * and Ed25519 credentials) and keygen (an Ed25519 key pair).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Declared in hitlq.c's command table. */
int cli_reload(struct cli *cl, int argc, char **argv);
int cli_key(struct cli *cl, int argc, char **argv);
int cli_keygen(struct cli *cl, int argc, char **argv);

int
cli_reload(struct cli *cl, int argc, char **argv)
{
    char policy[HITLQ_MAX_NAME + 1];
    int rc;

    if (argc != 1)
        return cli_usage_error("reload takes no arguments");
    (void)argv;
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_reload(cl->c, policy, sizeof(policy))) != HITLQ_OK)
        return cli_fail(cl, "reload", rc);
    if (cl->json) {
        json_t *j = json_pack("{s:b, s:s}", "ok", 1, "policy", policy);

        if (j == NULL) {
            fprintf(stderr, "hitlq: out of memory\n");
            return CLI_EXIT_ERR;
        }
        cli_json_println(stdout, j);
        json_decref(j);
    } else {
        printf("policy %s in force\n", policy);
    }
    return CLI_EXIT_OK;
}

/* key add, with --tls-peer CN or --public-key PK: a credential without a
 * secret; prints its id on stdout. */
static int
cli_key_add_cred(struct cli *cl, const char *principal, const char *role, const char *peer,
                 const char *pk, const char *const *skills, size_t ns)
{
    char id[HITLQ_KEY_ID_LEN + 1];
    int rc = peer != NULL ? hitlq_key_add_tls(cl->c, principal, role, peer, skills, ns, id,
                                              sizeof(id))
                          : hitlq_key_add_ed25519(cl->c, principal, role, pk, skills, ns, id,
                                                  sizeof(id));

    if (rc != HITLQ_OK)
        return cli_fail(cl, "key add", rc);
    if (cl->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "principal", principal, "role", role,
                              "key_id", id, "kind", peer != NULL ? "tls_peer" : "ed25519",
                              peer != NULL ? "tls_peer" : "public_key", peer != NULL ? peer : pk);
        if (j != NULL)
            cli_json_println(stdout, j);
        json_decref(j);
    } else {
        printf("%s\n", id);
        if (peer != NULL)
            fprintf(stderr, "tls_peer credential %s: client certificates named \"%s\" are %s "
                            "(%s)\n", id, peer, principal, role);
        else
            fprintf(stderr, "Ed25519 key %s is %s (%s)\n", id, principal, role);
    }
    return CLI_EXIT_OK;
}

/* key add without a credential option: a new API key on stdout (the only
 * time it is shown), its id on stderr. */
static int
cli_key_add_api(struct cli *cl, const char *principal, const char *role,
                const char *const *skills, size_t ns)
{
    char key[HITLQ_API_KEY_LEN + 1], id[HITLQ_KEY_ID_LEN + 1];
    int rc = hitlq_key_add(cl->c, principal, role, skills, ns, key, sizeof(key), id,
                           sizeof(id));

    if (rc != HITLQ_OK)
        return cli_fail(cl, "key add", rc);
    if (cl->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "principal", principal, "role", role,
                              "key_id", id, "api_key", key);
        if (j != NULL)
            cli_json_println(stdout, j);
        json_decref(j);
    } else {
        printf("%s\n", key);
        fprintf(stderr, "key %s for %s (%s): shown only now, keep it secret\n", id, principal,
                role);
    }
    explicit_bzero(key, sizeof(key));
    return CLI_EXIT_OK;
}

/* key add PRINCIPAL ROLE [--skills Q1,Q2] [--tls-peer CN | --public-key PK] */
static int
cli_key_add(struct cli *cl, int argc, char **argv)
{
    static const struct option lo[] = {
        { "skills", required_argument, NULL, 's' },
        { "tls-peer", required_argument, NULL, 't' },
        { "public-key", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 } };
    const char *skills[HITLQ_MAX_CLAIM_QUEUES], *peer = NULL, *pk = NULL;
    char *list = NULL, *save = NULL, *q;
    size_t ns = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 't')
            peer = optarg;
        else if (ch == 'k')
            pk = optarg;
        else if (ch == 's')
            list = optarg;
        else
            return cli_usage_error("bad key add option");
    }
    if (argc - optind != 2 || (peer != NULL && pk != NULL))
        return cli_usage_error("usage: key add PRINCIPAL ROLE [--skills Q1,Q2] "
                               "[--tls-peer CN | --public-key PK]");
    for (q = list ? strtok_r(list, ",", &save) : NULL; q; q = strtok_r(NULL, ",", &save)) {
        if (ns == HITLQ_MAX_CLAIM_QUEUES)
            return cli_usage_error("at most %u skills", HITLQ_MAX_CLAIM_QUEUES);
        skills[ns++] = q;
    }
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if (peer != NULL || pk != NULL)
        return cli_key_add_cred(cl, argv[optind], argv[optind + 1], peer, pk,
                                list ? skills : NULL, ns);
    return cli_key_add_api(cl, argv[optind], argv[optind + 1], list ? skills : NULL, ns);
}

/* key list [PRINCIPAL]: one line (or JSON object) per key. */
static int
cli_key_list(struct cli *cl, int argc, char **argv)
{
    const msgpack_object *keys;
    hitlq_reply *r = NULL;
    int rc;

    if (argc > 2)
        return cli_usage_error("usage: key list [PRINCIPAL]");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_key_list(cl->c, argc == 2 ? argv[1] : NULL, &r)) != HITLQ_OK)
        return cli_fail(cl, "key list", rc);
    keys = hitlq_reply_get(r, "keys");
    for (uint32_t i = 0; keys != NULL && keys->type == MSGPACK_OBJECT_ARRAY &&
                         i < keys->via.array.size; i++) {
        const msgpack_object *k = &keys->via.array.ptr[i];
        if (cl->json) {
            json_t *j = cli_mp_to_json(k);
            cli_json_println(stdout, j);
            json_decref(j);
            continue;
        }
        const msgpack_object *rev = cli_map_get(k, "revoked");
        cli_mp_print(stdout, cli_map_get(k, "key_id"));
        putchar(' ');
        cli_mp_print(stdout, cli_map_get(k, "principal"));
        putchar(' ');
        cli_mp_print(stdout, cli_map_get(k, "role"));
        putchar(' ');
        cli_mp_print(stdout, cli_map_get(k, "skills"));
        printf("%s\n", rev != NULL && rev->type == MSGPACK_OBJECT_BOOLEAN && rev->via.boolean
                           ? " revoked" : "");
    }
    hitlq_reply_free(r);
    return CLI_EXIT_OK;
}

/* key revoke KEY_ID */
static int
cli_key_revoke(struct cli *cl, int argc, char **argv)
{
    int rc;

    if (argc != 2)
        return cli_usage_error("usage: key revoke KEY_ID");
    if ((rc = cli_connect(cl)) != CLI_EXIT_OK)
        return rc;
    if ((rc = hitlq_key_revoke(cl->c, argv[1])) != HITLQ_OK)
        return cli_fail(cl, "key revoke", rc);
    if (cl->json) {
        json_t *j = json_pack("{s:b, s:s}", "ok", 1, "key_id", argv[1]);
        if (j != NULL)
            cli_json_println(stdout, j);
        json_decref(j);
    } else
        printf("key %s revoked\n", argv[1]);
    return CLI_EXIT_OK;
}

/* keygen FILE: a new Ed25519 key pair; the secret key goes to FILE (mode
 * 0600, never overwritten), the public key to stdout, for
 * `key add ... --public-key`. */
int
cli_keygen(struct cli *cl, int argc, char **argv)
{
    char sk[HITLQ_ED25519_KEY_LEN + 1], pk[HITLQ_ED25519_KEY_LEN + 1], id[HITLQ_KEY_ID_LEN + 1];
    int fd, ok;

    if (argc != 2)
        return cli_usage_error("usage: keygen FILE");
    if (hitlq_ed25519_keygen(sk, pk) != HITLQ_OK || hitlq_ed25519_key_id(pk, id) != HITLQ_OK) {
        fprintf(stderr, "hitlq: keygen: no key pair\n");
        return CLI_EXIT_ERR;
    }
    fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    ok = fd >= 0 && dprintf(fd, "%s\n", sk) == (int)strlen(sk) + 1 && fsync(fd) == 0;
    explicit_bzero(sk, sizeof(sk));
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "hitlq: keygen: cannot write %s: %s\n", argv[1], strerror(errno));
        return CLI_EXIT_ERR;
    }
    if (cl->json) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "public_key", pk, "key_id", id, "file", argv[1]);
        if (j != NULL)
            cli_json_println(stdout, j);
        json_decref(j);
    } else {
        printf("%s\n", pk);
        fprintf(stderr, "secret key in %s (key id %s); register the public key with "
                        "hitlq key add NAME ROLE --public-key ...\n", argv[1], id);
    }
    return CLI_EXIT_OK;
}

int
cli_key(struct cli *cl, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: key add|list|revoke ...");
    if (strcmp(argv[1], "add") == 0)
        return cli_key_add(cl, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return cli_key_list(cl, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return cli_key_revoke(cl, argc - 1, argv + 1);
    return cli_usage_error("unknown key command \"%s\"", argv[1]);
}
