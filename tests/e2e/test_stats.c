/*
 * test_stats.c - STATS and the hitlq CLI against a real hitlqd
 * (tests/lib/e2e_util.h: one server per test): queue depths, leased,
 * delayed, per-type counts and auto rate; SLA breaches under a policy with
 * a 1 s SLA; and the CLI's submit, claim, resolve, get, stats and watch
 * with their exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e_util.h"

/* ---- STATS ----------------------------------------------------------------- */

static void test_stats(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("carol");
    unsigned n_auto = 0, n_queued = 0;
    for (size_t i = 0; i < e2e_nci && i < 40; i++) {
        hitlq_item it = { .key = e2e_ci[i].key, .type = "credit_application",
                          .fields = e2e_ci[i].fields, .fields_len = e2e_ci[i].fields_len,
                          .priority = -1 };
        hitlq_decision d;
        assert_int_equal(hitlq_submit(c, &it, &d), HITLQ_OK);
        if (d.queued)
            n_queued++;
        else
            n_auto++;
    }
    for (int i = 0; i < 4; i++) {
        char k[16];
        snprintf(k, sizeof k, "st-%d", i);
        e2e_must_queue(c, k, -1);
        n_queued++;
    }
    struct hitlq_claim a = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    struct hitlq_claim b = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    struct hitlq_claim d = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(hitlq_release(c, b.id, b.lease, 60000), HITLQ_OK);
    uint64_t seq = 0;
    assert_int_equal(hitlq_resolve(c, d.id, d.lease, "reject", NULL, NULL, &seq), HITLQ_OK);

    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = e2e_stats_entry(r, "queues", "queue", "credit_review");
    assert_non_null(q);
    assert_int_equal((int)e2e_map_num(q, "depth"), (int)n_queued - 3);
    assert_int_equal((int)e2e_map_num(q, "leased"), 1);
    assert_int_equal((int)e2e_map_num(q, "delayed"), 1);
    assert_int_equal((int)e2e_map_num(q, "sla_breached"), 0);
    assert_true(e2e_map_num(q, "oldest_age_ms") >= 0);
    const msgpack_object *t = e2e_stats_entry(r, "types", "type", "credit_application");
    assert_non_null(t);
    assert_int_equal((int)e2e_map_num(t, "submitted"), (int)(n_auto + n_queued));
    assert_int_equal((int)e2e_map_num(t, "auto_resolved"), (int)n_auto);
    assert_int_equal((int)e2e_map_num(t, "queued"), (int)n_queued);
    double rate = e2e_map_num(t, "auto_rate");
    assert_true(fabs(rate - (double)n_auto / (double)(n_auto + n_queued)) < 1e-6);
    /* next result seq = results so far + 1 */
    assert_int_equal(hobj_u64(hitlq_reply_get(r, "results")), n_auto + 1 + 1);
    assert_int_equal(seq, n_auto + 1);
    hitlq_reply_free(r);
    hitlq_claim_clear(&a);
    hitlq_claim_clear(&b);
    hitlq_claim_clear(&d);
    hitlq_free(c);
}

/* ---- SLA ------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* A policy with a 1 s SLA: STATS counts open items past their deadline. */
static void test_sla_breached(void **st)
{
    (void)st;
    assert_int_equal(harness_server_stop(&e2e_srv), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/credit_scorecard.json", e2e_srv.dir);
    copy_file("server/score/defaults/credit_scorecard.json", path);
    snprintf(path, sizeof path, "%s/policy.json", e2e_srv.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"format\": \"hitlq-policy\", \"format_version\": 1, \"id\": \"sla-test\", "
               "\"version\": \"1\", \"types\": {\"credit_application\": {"
               "\"model\": \"credit_scorecard.json\", \"auto_threshold\": 0.8, "
               "\"auto_action\": \"approve\", \"queue\": \"credit_review\", "
               "\"priority\": 100, \"sla_seconds\": 1}}}\n");
    fclose(f);
    f = fopen(e2e_srv.cfgfile, "w");
    assert_non_null(f);
    fprintf(f, "max_attempts = 2\npolicy = \"%s\"\n", path);
    fclose(f);
    e2e_srv.has_cfg = true;
    assert_true(harness_server_restart(&e2e_srv) > 0);
    hitlq *c = e2e_cli("sla");
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, "sla-1", -1, &d), HITLQ_OK);
    uint64_t now = e2e_wall_ms();
    assert_true(d.deadline_ms <= now + 1000 + 50 && d.deadline_ms + 5000 > now + 1000);
    e2e_must_queue(c, "sla-2", -1);
    e2e_must_queue(c, "sla-3", -1);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    const msgpack_object *q = e2e_stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)e2e_map_num(q, "depth"), 3);
    assert_int_equal((int)e2e_map_num(q, "sla_breached"), 0);
    hitlq_reply_free(r);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    harness_sleep_ms(1300);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    q = e2e_stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)e2e_map_num(q, "depth"), 2);
    assert_int_equal((int)e2e_map_num(q, "leased"), 1);
    assert_int_equal((int)e2e_map_num(q, "sla_breached"), 3);   /* leased counts: open */
    assert_true(e2e_map_num(q, "oldest_age_ms") >= 1200);
    hitlq_reply_free(r);
    assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    hitlq_claim_clear(&cl);
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    q = e2e_stats_entry(r, "queues", "queue", "credit_review");
    assert_int_equal((int)e2e_map_num(q, "sla_breached"), 2);
    hitlq_reply_free(r);
    hitlq_free(c);
}

/* ---- CLI ------------------------------------------------------------------- */

static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -p %u -n cli-user %s 2>&1", HARNESS_CLI, e2e_srv.port, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = 0;
    out[0] = 0;
    while (len + 1 < n) {
        size_t k = fread(out + len, 1, n - 1 - len, p);
        if (k == 0)
            break;
        len += k;
    }
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint64_t json_u64(const char *s, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p == '"')      /* the CLI prints uint64 > INT64_MAX (lease tokens) as strings */
        p++;
    return strtoull(p, NULL, 10);
}

static void test_cli(void **st)
{
    (void)st;
    char path[256];
    snprintf(path, sizeof path, "%s/items.jsonl", e2e_srv.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"key\": \"cli-1\", \"type\": \"credit_application\", "
               "\"fields\": {\"amount\": 1000}}\n");
    fprintf(f, "{\"key\": \"cli-2\", \"type\": \"credit_application\", "
               "\"fields\": {\"amount\": 2500, \"age\": 30}, \"priority\": 5}\n");
    fclose(f);
    char out[65536], args[512];
    snprintf(args, sizeof args, "submit %s", path);
    int rc = run_cli(args, out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq submit exit %d: %s", rc, out);
    assert_non_null(strstr(out, "queued"));
    /* again: duplicates, still exit 0 */
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 0);

    rc = run_cli("--json claim credit_review --lease 60", out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq claim exit %d: %s", rc, out);
    uint64_t id = json_u64(out, "id"), lease = json_u64(out, "lease");
    assert_true(id > 0);
    assert_true(lease > 0);
    assert_non_null(strstr(out, "cli-1"));   /* priority 100 beats 5 */
    snprintf(args, sizeof args, "resolve %" PRIu64 " %" PRIu64 " approve --note fine", id,
             lease);
    rc = run_cli(args, out, sizeof out);
    if (rc != 0)
        fail_msg("hitlq resolve exit %d: %s", rc, out);
    assert_non_null(strstr(out, "seq"));
    /* stale: the same resolve again fails with exit 1 */
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 1);
    snprintf(args, sizeof args, "--json get %" PRIu64, id);
    rc = run_cli(args, out, sizeof out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"resolved\""));
    assert_non_null(strstr(out, "cli-user"));
    assert_non_null(strstr(out, "history"));
    rc = run_cli("stats", out, sizeof out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "credit_review"));
    assert_non_null(strstr(out, "credit_application"));
    /* claim the second, then nothing: exit 3 */
    rc = run_cli("claim credit_review", out, sizeof out);
    assert_int_equal(rc, 0);
    rc = run_cli("claim credit_review", out, sizeof out);
    assert_int_equal(rc, 3);
    rc = run_cli("--json watch --from 1 --count 1 --idle 5", out, sizeof out);
    assert_int_equal(rc, 0);
    assert_int_equal(json_u64(out, "seq"), 1);
    assert_int_equal(json_u64(out, "id"), id);
    rc = run_cli("frobnicate", out, sizeof out);
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_stats),
        E2E_TEST(test_sla_breached),
        E2E_TEST(test_cli),
    };
    return e2e_run("stats", tests, sizeof tests / sizeof tests[0]);
}
