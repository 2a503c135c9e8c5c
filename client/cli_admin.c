/*
 * cli_admin.c - the administration commands of the CLI: reload (the
 * server re-reads its policy file; a bad file is refused and the old
 * policy stays in force).
 */
#include <stdio.h>

#include "cli.h"

/* Declared in hitlq.c's command table. */
int cli_reload(struct cli *cl, int argc, char **argv);

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
