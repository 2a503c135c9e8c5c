/*
 * test_metrics.c - /metrics, /healthz and /readyz of a real hitlqd
 * (server/cmd/http_ops.c): intake counters equal what the test sent
 * (new, duplicate and refused submits), the scrape passes `promtool check
 * metrics` (Debian package prometheus: missing promtool FAILS), and a
 * full store makes /readyz 503 "storage full" while /healthz stays 200.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "http_get.h"

#define TYPE "credit_application"

/* Sends n_new new submits, n_dup repeats of the first key and n_bad of
 * an unknown type; checks each outcome on the wire. */
static void
send_submits(hitlq *c, int n_new, int n_dup, int n_bad)
{
    hitlq_decision d;
    char key[32];
    hitlq_item bad = { "bad", "no_such_type", e2e_small_fields.data, e2e_small_fields.size,
                       -1 };

    for (int i = 0; i < n_new; i++) {
        snprintf(key, sizeof(key), "m-%d", i);
        e2e_must_queue(c, key, -1);
    }
    for (int i = 0; i < n_dup; i++) {
        assert_int_equal(e2e_submit_queued(c, "m-0", -1, &d), HITLQ_OK);
        assert_true(d.duplicate);
    }
    for (int i = 0; i < n_bad; i++)
        assert_int_equal(hitlq_submit(c, &bad, &d), HITLQ_ST_UNKNOWN_TYPE);
}

/* promtool check metrics on text: 0 when it passes (its output on stderr). */
static int
promtool_check(const char *text)
{
    FILE *p = popen("promtool check metrics >/tmp/hitlq-promtool.out 2>&1", "w");

    assert_non_null(p);
    fputs(text, p);
    return pclose(p);
}

static void
test_intake_counters(void **st)
{
    hitlq *c = e2e_cli("metrics");
    uint16_t hp = http_port_of(&e2e_srv);
    char *text = NULL;
    double route_sum = 0;

    (void)st;
    assert_true(hp > 0);
    send_submits(c, 29, 5, 3);      /* 37 submits: 29 new, 5 duplicates, 3 refused */
    assert_int_equal(http_get(hp, "/metrics", NULL, NULL, &text, 5000), 200);
    assert_non_null(text);
    assert_int_equal((int)http_metric(text, "hitlq_items_submitted_total{type=\"" TYPE "\"}"), 29);
    assert_int_equal((int)http_metric(text, "hitlq_items_deduplicated_total{type=\"" TYPE "\"}"),
                     5);
    assert_int_equal((int)http_metric(text, "hitlq_items_rejected_total{reason=\"unknown_type\"}"),
                     3);
    assert_int_equal((int)http_metric(text, "hitlq_submit_duration_seconds_count"), 29 + 5);
    for (const char *p = strstr(text, "\nhitlq_decisions_total{"); p;
         p = strstr(p + 1, "\nhitlq_decisions_total{"))
        route_sum += strtod(strchr(p, '}') + 2, NULL);
    assert_int_equal((int)route_sum, 29);
    assert_true(http_metric(text, "hitlq_commit_batch_items_count") >= 1);
    assert_int_equal(promtool_check(text), 0);
    free(text);
    hitlq_free(c);
}

static void
test_health(void **st)
{
    uint16_t hp = http_port_of(&e2e_srv);
    char *b = NULL;

    (void)st;
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, &b, 5000), 200);
    assert_string_equal(b, "ok\n");
    free(b);
    assert_int_equal(http_get(hp, "/readyz", NULL, NULL, &b, 5000), 200);
    free(b);
    assert_int_equal(http_get(hp, "/nope", NULL, NULL, NULL, 5000), 404);
}

/* A 1 MiB map filled with submits until the store refuses: /readyz 503
 * "storage full", /healthz 200. */
static void
test_readyz_storage_full(void **st)
{
    struct hserver s;
    hitlq *c;
    hitlq_decision d;
    char key[32], *b = NULL;
    int rc = HITLQ_OK;
    uint16_t hp;

    (void)st;
    assert_true(harness_server_start(&s, "map_size_mb = 1\n") > 0);
    hp = http_port_of(&s);
    c = e2e_connect(s.port, "filler", 30000);
    assert_int_equal(http_get(hp, "/readyz", NULL, NULL, NULL, 5000), 200);
    for (int i = 0; i < 100000 && rc == HITLQ_OK; i++) {
        snprintf(key, sizeof(key), "fill-%d", i);
        rc = e2e_submit_queued(c, key, -1, &d);
    }
    assert_int_not_equal(rc, HITLQ_OK);
    assert_int_equal(http_get(hp, "/readyz", NULL, NULL, &b, 5000), 503);
    assert_non_null(strstr(b, "storage full"));
    free(b);
    assert_int_equal(http_get(hp, "/healthz", NULL, NULL, NULL, 5000), 200);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_intake_counters),
        E2E_TEST(test_health),
        cmocka_unit_test(test_readyz_storage_full),
    };

    return e2e_run("metrics", tests, sizeof(tests) / sizeof(tests[0]));
}
