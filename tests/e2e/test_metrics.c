/*
 * test_metrics.c - /metrics, /healthz and /readyz of a real hitlqd
 * (server/cmd/http_ops.c): intake counters equal what the test sent
 * (new, duplicate and refused submits), the scrape passes `promtool check
 * metrics` (Debian package prometheus: missing promtool FAILS), and a
 * full store makes /readyz 503 "storage full" while /healthz stays 200.
 * The lease life cycle (claims, releases, expiries, a dead letter,
 * escalations, resolves) counted exactly as the test drove it, the
 * verdicts' agreement against the recommendation CLAIM shows (the model
 * entry's), and the per-queue gauges against STATS.
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
#define RQ   "credit_review"
#define SQ   "credit_senior"

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

/* Sum of the samples whose line starts with prefix (a family and '{'). */
static double
sum_series(const char *text, const char *prefix)
{
    double sum = 0;
    size_t n = strlen(prefix);

    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0)
            sum += strtod(strchr(p, ' ') + 1, NULL);
    return sum;
}

/* The model's recommendation the CLAIM reply shows (its audit entry's). */
static void
claim_recommendation(const struct hitlq_claim *cl, char *out, size_t n)
{
    const msgpack_object *o = hitlq_reply_get(cl->reply, "recommendation");

    assert_non_null(o);
    hobj_str(o, out, n);
}

struct life {
    unsigned claims, releases, expiries, dead, escalations, agree, override;
};

/* Claims one item of RQ (lease_ms) and counts the claim. */
static struct hitlq_claim
life_claim(hitlq *c, struct life *l, const char *q, uint32_t lease_ms, uint32_t wait_ms)
{
    const char *qs[] = { q };

    l->claims += strcmp(q, RQ) == 0;
    return e2e_must_claim(c, qs, 1, lease_ms, wait_ms);
}

/* 3 releases, an item that expires twice (dead letter: max_attempts 2),
 * 2 escalations, 4 resolves (3 as recommended, 1 not). */
static void
drive_life(hitlq *c, struct life *l)
{
    struct hitlq_claim cl;
    char rec[32];

    for (int i = 0; i < 3; i++, l->releases++) {
        cl = life_claim(c, l, RQ, 60000, 0);
        assert_int_equal(hitlq_release(c, cl.id, cl.lease, 0), HITLQ_OK);
        hitlq_claim_clear(&cl);
    }
    for (int i = 0; i < 2; i++, l->expiries++) {  /* the same item: FIFO of equal ones */
        cl = life_claim(c, l, RQ, 1000, 5000);
        hitlq_claim_clear(&cl);
        harness_sleep_ms(1100);
    }
    l->dead = 1;
    for (int i = 0; i < 2; i++, l->escalations++) {
        cl = life_claim(c, l, RQ, 60000, 5000);
        assert_int_equal(hitlq_escalate(c, cl.id, cl.lease, SQ, "look"), HITLQ_OK);
        hitlq_claim_clear(&cl);
    }
    for (int i = 0; i < 4; i++) {
        cl = life_claim(c, l, RQ, 60000, 5000);
        claim_recommendation(&cl, rec, sizeof(rec));
        assert_true(rec[0] != '\0');
        bool same = i != 2;
        const char *out = same ? rec : strcmp(rec, "approve") == 0 ? "reject" : "approve";
        assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, out, NULL, NULL, NULL), HITLQ_OK);
        l->agree += same;
        l->override += !same;
        hitlq_claim_clear(&cl);
    }
    /* refused requests count nothing */
    assert_int_equal(hitlq_release(c, 987654321, 1, 0), HITLQ_ST_NOT_FOUND);
}

/* hitlq_queue_items / leases_active / oldest against STATS. */
static void
check_gauges(hitlq *c, const char *text, uint64_t t_first, uint64_t t_last)
{
    hitlq_reply *r = NULL;
    const msgpack_object *q;
    double oldest = http_metric(text, "hitlq_queue_oldest_ready_timestamp_seconds{queue=\"" RQ
                                "\"}");

    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    q = e2e_stats_entry(r, "queues", "queue", RQ);
    assert_non_null(q);
    assert_true(e2e_map_num(q, "depth") > 0);
    assert_int_equal((int)http_metric(text, "hitlq_queue_items{queue=\"" RQ "\",state=\"ready\"}"),
                     (int)e2e_map_num(q, "depth"));
    assert_int_equal((int)http_metric(text, "hitlq_queue_items{queue=\"" RQ "\",state=\"leased\"}"),
                     (int)e2e_map_num(q, "leased"));
    assert_int_equal((int)http_metric(text, "hitlq_leases_active{queue=\"" RQ "\"}"),
                     (int)e2e_map_num(q, "leased"));
    assert_int_equal((int)e2e_map_num(q, "leased"), 1);
    /* the oldest ready item was submitted while the test queued them */
    assert_true(oldest * 1000 >= (double)t_first - 1 && oldest * 1000 <= (double)t_last + 1);
    hitlq_reply_free(r);
}

static void
test_lifecycle_counters(void **st)
{
    hitlq *c = e2e_cli("metrics");
    uint16_t hp = http_port_of(&e2e_srv);
    struct life l = { 0 };
    struct hitlq_claim held;
    char *text = NULL, key[32];
    uint64_t t_first = e2e_wall_ms(), t_last;

    (void)st;
    for (int i = 0; i < 14; i++) {
        snprintf(key, sizeof(key), "life-%d", i);
        e2e_must_queue(c, key, -1);
    }
    t_last = e2e_wall_ms();
    drive_life(c, &l);
    held = life_claim(c, &l, RQ, 60000, 0);          /* one lease active at the scrape */
    assert_int_equal(http_get(hp, "/metrics", NULL, NULL, &text, 5000), 200);
    assert_int_equal((int)http_metric(text, "hitlq_claims_total{queue=\"" RQ "\"}"),
                     (int)l.claims);
    assert_int_equal((int)l.claims, 3 + 2 + 2 + 4 + 1);
    assert_int_equal((int)http_metric(text, "hitlq_releases_total{queue=\"" RQ "\"}"), 3);
    assert_int_equal((int)http_metric(text, "hitlq_lease_expirations_total{queue=\"" RQ "\"}"),
                     (int)l.expiries);
    assert_int_equal((int)http_metric(text, "hitlq_dead_letter_total{queue=\"" RQ "\"}"), 1);
    assert_int_equal((int)http_metric(text, "hitlq_escalations_total{from_queue=\"" RQ
                                      "\",to_queue=\"" SQ "\",reason=\"manual\"}"), 2);
    assert_int_equal((int)http_metric(text, "hitlq_human_verdicts_total{queue=\"" RQ
                                      "\",agreement=\"agree\",blind=\"false\"}"), (int)l.agree);
    assert_int_equal((int)http_metric(text, "hitlq_human_verdicts_total{queue=\"" RQ
                                      "\",agreement=\"override\",blind=\"false\"}"), 1);
    assert_int_equal((int)http_metric(text, "hitlq_human_verdicts_total{queue=\"" RQ
                                      "\",agreement=\"none\",blind=\"false\"}"), 2);
    assert_int_equal((int)sum_series(text, "hitlq_human_verdicts_total{"), 6);
    assert_int_equal((int)http_metric(text, "hitlq_queue_wait_seconds_count{queue=\"" RQ "\"}"),
                     (int)l.claims);
    assert_int_equal((int)sum_series(text, "hitlq_review_seconds_count{"), 6);
    assert_int_equal((int)http_metric(text, "hitlq_time_to_decision_seconds_count{queue=\"" RQ
                                      "\"}"), 4);
    /* the 6 items escalated or resolved were ready since their submit, and
     * claimed and decided after the two 1.1 s lease expiries */
    assert_true(http_metric(text, "hitlq_queue_wait_seconds_sum{queue=\"" RQ "\"}") >= 6 * 2.0);
    assert_true(http_metric(text, "hitlq_time_to_decision_seconds_sum{queue=\"" RQ "\"}") >=
                4 * 2.0);
    check_gauges(c, text, t_first, t_last);
    assert_int_equal(promtool_check(text), 0);
    free(text);
    hitlq_claim_clear(&held);
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

/* An idle healthy server stays ready: after 16 s without a write (past
 * the old 15 s limit, which answered 503 until a probe had committed)
 * every /readyz is 200, the first one asking for the probe write. */
static void
test_readyz_idle(void **st)
{
    struct hserver s;
    uint16_t hp;

    (void)st;
    assert_true(harness_server_start(&s, "") > 0);
    hp = http_port_of(&s);
    harness_sleep_ms(16000);
    for (int i = 0; i < 3; i++) {
        char *b = NULL;
        int code = http_get(hp, "/readyz", NULL, NULL, &b, 5000);
        if (code != 200)
            fail_msg("idle /readyz %d: %d %s", i, code, b ? b : "");
        free(b);
        harness_sleep_ms(300);
    }
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
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
        E2E_TEST(test_lifecycle_counters),
        cmocka_unit_test(test_readyz_storage_full),
        cmocka_unit_test(test_readyz_idle),
    };

    return e2e_run("metrics", tests, sizeof(tests) / sizeof(tests[0]));
}
