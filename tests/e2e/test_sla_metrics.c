/*
 * test_sla_metrics.c - the SLA ladder made visible, against a real hitlqd
 * with the ladder of test_sla.c (credit_review, 2 s: 50 % raise priority,
 * 75 % move to credit_senior, breach move to credit_escalations + notify):
 * hitlq_sla_breaches_total{queue}, hitlq_escalations_total{reason="sla"}
 * and the at-risk gauge hitlq_sla_items_at_risk{queue,level} equal what
 * the test's items went through (paused by RELEASE waiting_on, decided,
 * moved) and the at-risk gauge survives a restart; a burst of 12 breaches
 * in one batch gives 12 counts and 12 log lines; GET and CLAIM show the
 * clock (sla: budget_ms, used_ms, running, waiting_on, level,
 * breach_at_ms); hitlq_release_waiting, hitlq_async_release_waiting and
 * `hitlq release --waiting-on` pause it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq_async.h"
#include "hitlq_libevent.h"
#include "http_get.h"
#include "tutil.h"

static struct hserver S;
static struct event_base *hitlq_libevent_base_of_test;
static char PDIR[64];
static const char *const REVIEW[] = { "credit_review" };
#define SLA_MS 2000u

static int setup(void **st)
{
    char cfg[256], path[128], cmd[256];
    json_error_t je;
    (void)st;
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-slam-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    json_t *root = json_load_file("server/score/defaults/scorecard_policy.json", 0, &je);
    if (root == NULL)
        return -1;
    json_t *t = json_object_get(json_object_get(root, "types"), "credit_application");
    json_object_set_new(t, "escalate_to",
                        json_pack("[s, s]", "credit_senior", "credit_escalations"));
    json_object_set_new(root, "queues", json_pack(
        "{s:{s:i, s:[{s:f, s:i}, {s:f, s:s}, {s:f, s:b, s:s}]}}", "credit_review",
        "sla_seconds", SLA_MS / 1000, "ladder", "at", 0.5, "raise_priority", 200,
        "at", 0.75, "move_to", "credit_senior", "at", 1.0, "notify", 1, "move_to",
        "credit_escalations"));
    snprintf(path, sizeof path, "%s/policy.json", PDIR);
    if (json_dump_file(root, path, JSON_INDENT(1)) != 0)
        return -1;
    json_decref(root);
    snprintf(cmd, sizeof cmd, "cp server/score/defaults/credit_scorecard.json %s/", PDIR);
    if (system(cmd) != 0)
        return -1;
    snprintf(cfg, sizeof cfg, "policy = \"%s/policy.json\"\n", PDIR);
    return harness_server_start(&S, cfg) < 0 ? -1 : 0;
}

static int teardown(void **st)
{
    char cmd[128];
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

/* One series of a fresh scrape; 0 when the series does not exist yet. */
static double metric(const char *series)
{
    char *text = NULL;
    assert_int_equal(http_get(http_port_of(&S), "/metrics", NULL, NULL, &text, 5000), 200);
    double v = http_metric(text, series);
    free(text);
    return v < 0 ? 0 : v;
}

#define RISK(q, l) "hitlq_sla_items_at_risk{queue=\"" q "\",level=\"" l "\"}"
#define BREACH(q) "hitlq_sla_breaches_total{queue=\"" q "\"}"
#define ESC(f, t) "hitlq_escalations_total{from_queue=\"" f "\",to_queue=\"" t "\",reason=\"sla\"}"

static uint64_t submit(hitlq *c, const char *key, uint64_t *t0)
{
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, key, -1, &d), HITLQ_OK);
    assert_true(d.queued);
    *t0 = d.deadline_ms - SLA_MS;
    return d.id;
}

/* The server's time (ms), as PING gives it, carried forward on the
 * monotonic clock: item times (deadline_ms) are server time, which never
 * follows a step of the wall clock (this VM's clock does step). */
static uint64_t srv_base, mono_base;

static void srv_clock_sync(hitlq *c)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_OK);
    assert_true(hitlq_reply_get_u64(r, "time_ms", &srv_base));
    mono_base = harness_now_ms();
    hitlq_reply_free(r);
}

static uint64_t srv_now(void)
{
    return srv_base + (harness_now_ms() - mono_base);
}

/* Sleeps until server time t (ms). */
static void sleep_until(uint64_t t)
{
    uint64_t now = srv_now();
    if (t > now)
        harness_sleep_ms((unsigned)(t - now));
}

/* The GET reply's "sla" map of item id (the caller frees *r). */
static const msgpack_object *get_sla(hitlq *c, uint64_t id, hitlq_reply **r)
{
    assert_int_equal(hitlq_get(c, id, r), HITLQ_OK);
    const msgpack_object *m = hitlq_reply_get(*r, "sla");
    assert_non_null(m);
    assert_int_equal(m->type, MSGPACK_OBJECT_MAP);
    return m;
}

static bool map_bool(const msgpack_object *m, const char *k)
{
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(k) &&
            memcmp(kv->key.via.str.ptr, k, strlen(k)) == 0)
            return kv->val.type == MSGPACK_OBJECT_BOOLEAN && kv->val.via.boolean;
    }
    fail_msg("no bool %s", k);
    return false;
}

/* Lines of hitlqd's log containing `what`. */
static int log_count(const char *what)
{
    char out[64], cmd[256];
    snprintf(cmd, sizeof cmd, "grep -c '%s' %s || true", what, S.logfile);
    assert_int_equal(tutil_sh(out, sizeof out, "%s", cmd), 0);
    return atoi(out);
}

/* Three items through the ladder, claimed at once: A released at 50 %
 * runs it all, B is paused by RELEASE waiting_on at 50 % (still at risk
 * while paused) and runs it later, C is decided at 50 % (leaves). */
static void test_ladder_metrics(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "alice", 30000);
    srv_clock_sync(c);
    hitlq_reply *r = NULL;
    uint64_t ta, tb, tc, id[3];
    id[0] = submit(c, "m-a", &ta);
    id[1] = submit(c, "m-b", &tb);
    id[2] = submit(c, "m-c", &tc);
    struct hitlq_claim cl[3];
    for (int i = 0; i < 3; i++) {
        cl[i] = e2e_must_claim(c, REVIEW, 1, 60000, 0);
        assert_int_equal(cl[i].id, id[i]);
        const msgpack_object *cm = hitlq_reply_get(cl[i].reply, "sla");
        assert_non_null(cm);                    /* CLAIM shows the clock: running */
        assert_int_equal((uint64_t)e2e_map_num(cm, "budget_ms"), SLA_MS);
        assert_int_equal((uint64_t)e2e_map_num(cm, "level"), 0);
        assert_true(map_bool(cm, "running"));
    }
    sleep_until(tc + SLA_MS / 2 + 250);
    assert_int_equal(metric(RISK("credit_review", "50")), 3);
    const msgpack_object *m = get_sla(c, id[0], &r);
    uint64_t now = srv_now();
    assert_int_equal((uint64_t)e2e_map_num(m, "budget_ms"), SLA_MS);
    assert_int_equal((uint64_t)e2e_map_num(m, "level"), 50);
    assert_int_equal((uint64_t)e2e_map_num(m, "breach_at_ms"), ta + SLA_MS);
    double used = e2e_map_num(m, "used_ms");
    assert_true(used >= SLA_MS / 2 && used <= (double)(now - ta));
    assert_true(map_bool(m, "running"));
    hitlq_reply_free(r);
    assert_int_equal(hitlq_release(c, id[0], cl[0].lease, 0), HITLQ_OK);
    assert_int_equal(hitlq_release_waiting(c, id[1], cl[1].lease, 0, "customer"),
                     HITLQ_ST_BAD_REQUEST);
    assert_int_equal(hitlq_release_waiting(c, id[1], cl[1].lease, 1000, "not a name"),
                     HITLQ_EINVAL);
    uint64_t t_pause = srv_now();
    assert_int_equal(hitlq_release_waiting(c, id[1], cl[1].lease, 1500, "customer"), HITLQ_OK);
    m = get_sla(c, id[1], &r);
    char who[32];
    assert_int_equal(e2e_find_str(m, "waiting_on", who, sizeof who), 0);
    assert_string_equal(who, "customer");
    assert_false(map_bool(m, "running"));
    assert_true(isnan(e2e_map_num(m, "breach_at_ms")));
    double used_b = e2e_map_num(m, "used_ms");
    assert_true(used_b >= (double)(t_pause - tb) - 5 && used_b <= (double)(t_pause - tb) + 300);
    hitlq_reply_free(r);
    assert_int_equal(hitlq_resolve(c, id[2], cl[2].lease, "approve", NULL, NULL, NULL),
                     HITLQ_OK);
    for (int i = 0; i < 3; i++)
        hitlq_claim_clear(&cl[i]);
    assert_int_equal(metric(RISK("credit_review", "50")), 2);     /* A, B (paused) */
    sleep_until(ta + SLA_MS * 3 / 4 + 250);                        /* A at 75 %: moved */
    assert_int_equal(metric(RISK("credit_review", "50")), 1);
    assert_int_equal(metric(RISK("credit_senior", "75")), 1);
    assert_int_equal(metric(ESC("credit_review", "credit_senior")), 1);
    sleep_until(ta + SLA_MS + 300);                                /* A breached */
    assert_int_equal(metric(RISK("credit_senior", "75")), 0);
    assert_int_equal(metric(BREACH("credit_senior")), 1);
    assert_int_equal(metric(ESC("credit_senior", "credit_escalations")), 1);
    assert_int_equal(metric(RISK("credit_review", "50")), 1);     /* B still paused */
    /* B resumes at t_pause + 1500 with ~(t_pause - tb) used: breach ~750 ms later */
    sleep_until(t_pause + 1500 + (SLA_MS - (t_pause - tb)) + 400);
    assert_int_equal(metric(BREACH("credit_senior")), 2);
    assert_int_equal(metric(ESC("credit_review", "credit_senior")), 2);
    assert_int_equal(metric(ESC("credit_senior", "credit_escalations")), 2);
    assert_int_equal(metric(RISK("credit_review", "50")), 0);
    assert_int_equal(metric(RISK("credit_senior", "75")), 0);
    assert_int_equal(metric(BREACH("credit_review")), 0);
    assert_int_equal(log_count("sla_breach"), 2);
    hitlq_free(c);
}

/* 12 items breach while hitlqd is stopped (SIGSTOP): all their steps run
 * in one expire batch; every breach is counted and logged. */
static void test_burst_breaches(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "bob", 30000);
    srv_clock_sync(c);
    uint64_t t0 = 0, last = 0;
    char key[32];
    double s0 = metric(BREACH("credit_senior")), b0 = metric(BREACH("credit_review")), e0 = metric(ESC("credit_review",
                                                                 "credit_senior"));
    int l0 = log_count("sla_breach");
    for (int i = 0; i < 12; i++) {
        snprintf(key, sizeof key, "burst-%d", i);
        submit(c, key, i == 0 ? &t0 : &last);
    }
    assert_true(last - t0 < SLA_MS / 2);
    assert_int_equal(kill(S.pid, SIGSTOP), 0);
    sleep_until(last + SLA_MS + 200);
    assert_int_equal(kill(S.pid, SIGCONT), 0);
    harness_sleep_ms(500);
    /* each item ran 50, 75 (moved to credit_senior) and breach at once */
    assert_int_equal(metric(BREACH("credit_senior")) - s0, 12);
    assert_int_equal(metric(ESC("credit_review", "credit_senior")) - e0, 12);
    assert_int_equal(metric(BREACH("credit_review")) - b0, 0);
    assert_int_equal(metric(RISK("credit_review", "50")), 0);
    assert_int_equal(metric(RISK("credit_senior", "75")), 0);
    assert_int_equal(log_count("sla_breach") - l0, 12);
    hitlq_free(c);
}

static void on_reply(hitlq_async *ac, hitlq_reply *rep, void *priv)
{
    (void)ac;
    *(int *)priv = rep != NULL ? hitlq_reply_status(rep) : -1;
    event_base_loopbreak(hitlq_libevent_base_of_test);
}

/* An item at risk across a kill -9: the gauge is recounted at start.
 * Paused by the async API and by the CLI: both show on GET. */
static void test_restart_and_clients(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "carol", 30000);
    srv_clock_sync(c);
    hitlq_reply *r = NULL;
    uint64_t t0, t1, t2, a = submit(c, "r-a", &t0), b = submit(c, "r-b", &t1),
             d = submit(c, "r-d", &t2);
    struct hitlq_claim cl_a = e2e_must_claim(c, REVIEW, 1, 60000, 0);
    struct hitlq_claim cl_b = e2e_must_claim(c, REVIEW, 1, 60000, 0);
    struct hitlq_claim cl_d = e2e_must_claim(c, REVIEW, 1, 60000, 0);
    assert_int_equal(cl_a.id, a);   /* claim order = submit order */
    assert_int_equal(cl_b.id, b);
    assert_int_equal(cl_d.id, d);
    sleep_until(t2 + SLA_MS / 2 + 200);
    assert_int_equal(metric(RISK("credit_review", "50")), 3);
    /* b paused through the async API, d through the CLI */
    struct event_base *base = event_base_new();
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = "carol",
                        .timeout_ms = 10000 };
    hitlq_async *ac = hitlq_async_connect(&o);
    assert_int_equal(hitlq_async_err(ac), HITLQ_OK);
    assert_int_equal(hitlq_libevent_attach(ac, base), HITLQ_OK);
    int status = -2;
    hitlq_libevent_base_of_test = base;
    assert_int_equal(hitlq_async_release_waiting(ac, b, cl_b.lease, 60000, "supplier", on_reply,
                                                 &status), HITLQ_OK);
    event_base_dispatch(base);
    assert_int_equal(status, HITLQ_ST_OK);
    hitlq_async_free(ac);
    event_base_free(base);
    char out[256];
    assert_int_equal(tutil_sh(out, sizeof out, "%s -p %u release %llu %llu --delay 60 "
                              "--waiting-on bank", HARNESS_CLI, S.port,
                              (unsigned long long)d, (unsigned long long)cl_d.lease), 0);
    assert_non_null(strstr(out, "SLA clock paused"));
    assert_int_not_equal(tutil_sh(out, sizeof out, "%s -p %u release %llu %llu "
                                  "--waiting-on bank 2>&1", HARNESS_CLI, S.port,
                                  (unsigned long long)d, (unsigned long long)cl_d.lease), 0);
    const char *want[2] = { "supplier", "bank" };
    uint64_t ids[2] = { b, d };
    for (int i = 0; i < 2; i++) {
        char who[32];
        const msgpack_object *m = get_sla(c, ids[i], &r);
        assert_int_equal(e2e_find_str(m, "waiting_on", who, sizeof who), 0);
        assert_string_equal(who, want[i]);
        assert_false(map_bool(m, "running"));
        hitlq_reply_free(r);
    }
    hitlq_claim_clear(&cl_a);
    hitlq_claim_clear(&cl_b);
    hitlq_claim_clear(&cl_d);
    hitlq_free(c);
    assert_int_equal(harness_server_kill(&S, SIGKILL), 0);
    assert_true(harness_server_restart(&S) > 0);
    /* recounted from the stored clocks (counters start at 0 after kill -9):
     * b and d paused at 50 %, a at 50 % or already moved at 75 % */
    double r50 = metric(RISK("credit_review", "50")), s75 = metric(RISK("credit_senior", "75"));
    assert_true(r50 >= 2);
    assert_int_equal(r50 + s75, 3);
    sleep_until(t0 + SLA_MS + 400);                                /* a breaches; b, d paused */
    assert_int_equal(metric(RISK("credit_review", "50")), 2);
    assert_int_equal(metric(RISK("credit_senior", "75")), 0);
    assert_int_equal(metric(BREACH("credit_senior")), 1);          /* since the restart */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder_metrics),
        cmocka_unit_test(test_burst_breaches),
        cmocka_unit_test(test_restart_and_clients),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
