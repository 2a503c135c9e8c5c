/*
 * test_config.c - the option table: defaults with no file, values read
 * from a file, a relative policy path resolved against the config file's
 * directory, bounds, unknown options, unreadable files, the sample
 * config round trip, and `hitlqd -n` on good and bad configurations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char tmpdir[64];

static const char *
write_file(const char *name, const char *text)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hitlq-cfg-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_defaults_without_file(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "";

    (void)state;
    assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:7420");
    assert_string_equal(cfg.data_dir, "hitlq-data");
    assert_string_equal(cfg.policy, "");
    assert_int_equal(cfg.max_attempts, 3);
    assert_string_equal(cfg.dead_letter_queue, "dead_letter");
    assert_int_equal(cfg.max_batch, 512);
    assert_string_equal(cfg.log_level, "info");
}

static void
test_values_from_file(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "", want[128];
    const char *p = write_file("a.conf",
        "# comment\nlisten = \"127.0.0.1:0\"\nmax_attempts = 7\n"
        "dead_letter_queue = \"dlq\"\nmap_size_mb = 64\n");

    (void)state;
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:0");
    assert_int_equal(cfg.max_attempts, 7);
    assert_string_equal(cfg.dead_letter_queue, "dlq");
    assert_int_equal(cfg.map_size_mb, 64);
    /* the default data_dir, relative, is beside the config file */
    assert_string_equal(cfg.data_dir, strcat(strcpy(want, tmpdir), "/hitlq-data"));
}

/* A relative policy path names a file beside the config file, whatever
 * the current directory; an absolute one is kept. */
static void
test_policy_relative_to_config(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "", want[192], conf[128], cwd[1024];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(conf, sizeof(conf), "%s", write_file("rel.conf", "policy = \"p/policy.json\"\n"));
    assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/p/policy.json", tmpdir);
    assert_string_equal(cfg.policy, want);
    snprintf(conf, sizeof(conf), "%s", write_file("abs.conf", "policy = \"/etc/x.json\"\n"));
    assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
    assert_string_equal(cfg.policy, "/etc/x.json");
    assert_int_equal(chdir(tmpdir), 0);                /* a config without a directory */
    assert_int_equal(config_load(&cfg, "rel.conf", err, sizeof(err)), 0);
    assert_string_equal(cfg.policy, "p/policy.json");
    snprintf(conf, sizeof(conf), "./rel.conf");
    assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
    assert_string_equal(cfg.policy, "./p/policy.json");
    assert_int_equal(chdir(cwd), 0);
}

static void
test_out_of_range(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "";
    const char *p = write_file("b.conf", "max_attempts = 0\n");

    (void)state;
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "max_attempts"));
    assert_non_null(strstr(err, "1..1000"));
    p = write_file("c.conf", "max_batch = -5\n");
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "max_batch"));
}

static void
test_unknown_option_and_syntax(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "";
    const char *p = write_file("d.conf", "no_such_option = 1\n");

    (void)state;
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no_such_option"));
    p = write_file("e.conf", "max_attempts = \"three\"\n");
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), -1);
    p = write_file("f.conf", "listen = \n");
    assert_int_equal(config_load(&cfg, p, err, sizeof(err)), -1);
}

static void
test_missing_file(void **state)
{
    struct hitlq_config cfg;
    char err[256] = "";

    (void)state;
    assert_int_equal(config_load(&cfg, "/nonexistent/hitlq.conf", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read"));
}

static void
test_sample_round_trip(void **state)
{
    struct hitlq_config a, b;
    char path[128], err[256] = "", beside[sizeof(a.data_dir) + 80];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/sample.conf", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    config_write_sample(f);
    fclose(f);
    assert_int_equal(config_load(&a, NULL, err, sizeof(err)), 0);
    assert_int_equal(config_load(&b, path, err, sizeof(err)), 0);
    snprintf(beside, sizeof(beside), "%s/%s", tmpdir, a.data_dir);  /* beside the file */
    assert_string_equal(b.data_dir, beside);
    memcpy(b.data_dir, a.data_dir, sizeof(a.data_dir));
    assert_memory_equal(&a, &b, sizeof(a));
}

static int
run_hitlqd_check(const char *conf)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "build/test/hitlqd -n -c %s >%s/n.out 2>&1", conf, tmpdir);
    return system(cmd);
}

/* `hitlqd -n` checks a policy's escalate_to and root_causes names: the
 * example scorecard policy with one of them edited. */
static void
check_mode_lists(void)
{
    char cwd[256], pol[160], conf[160], text[640], out[512] = "";
    static const char *const bad[][2] = {
        { "\"escalate_to\": [\"credit senior\"]", "escalate_to[0] must be a protocol" },
        { "\"root_causes\": [\"a\", \"a\"]", "root_causes[1]: duplicate" },
        { "\"root_causes\": [\"docs_missing\"], \"escalate_to\": [\"x\"]", NULL },
    };

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "{\"format\": \"hitlq-policy\", \"format_version\": 1, "
                 "\"id\": \"t\", \"version\": \"1\", \"types\": {\"t\": {\"model\": "
                 "\"%s/server/score/defaults/credit_scorecard.json\", \"auto_threshold\": 0.8, "
                 "\"auto_action\": \"approve\", \"queue\": \"q\", \"priority\": 1, "
                 "\"sla_seconds\": 60, %s}}}", cwd, bad[i][0]);
        snprintf(pol, sizeof(pol), "%s", write_file("lists.json", text));
        snprintf(text, sizeof(text), "policy = \"%s\"\n", pol);
        snprintf(conf, sizeof(conf), "%s", write_file("lists.conf", text));
        int rc = run_hitlqd_check(conf);
        FILE *f = fopen(strcat(strcpy(out, tmpdir), "/n.out"), "r");

        assert_non_null(f);
        out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
        fclose(f);
        if (bad[i][1] == NULL) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_not_equal(rc, 0);
            if (strstr(out, bad[i][1]) == NULL)
                fail_msg("hitlqd -n said: %s", out);
        }
    }
}

static void
test_check_mode(void **state)
{
    char out[256] = "", path[128], good[128], bad_policy[128], bad[128];
    FILE *f;

    snprintf(good, sizeof(good), "%s", write_file("g.conf", "max_attempts = 2\n"));
    snprintf(bad_policy, sizeof(bad_policy), "%s",
             write_file("h.conf", "policy = \"/nonexistent/policy.json\"\n"));
    snprintf(bad, sizeof(bad), "%s", write_file("i.conf", "bogus = 1\n"));

    (void)state;
    if (access("build/test/hitlqd", X_OK) != 0)
        skip();
    assert_int_equal(run_hitlqd_check(good), 0);
    snprintf(path, sizeof(path), "%s/n.out", tmpdir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, sizeof(out), f));
    fclose(f);
    assert_non_null(strstr(out, "configuration OK"));
    assert_int_not_equal(run_hitlqd_check(bad_policy), 0);
    assert_int_not_equal(run_hitlqd_check(bad), 0);
    check_mode_lists();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_file),
        cmocka_unit_test(test_values_from_file),
        cmocka_unit_test(test_policy_relative_to_config),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_unknown_option_and_syntax),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_sample_round_trip),
        cmocka_unit_test(test_check_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
