/*
 * test_log_events.c - hitlqd's log events with log_format = json
 * (docs/OPERATIONS-LOG.md): every line of a real server's log parses as a
 * JSON object with ts/level/event/msg; start, reload and stop carry their
 * fields (port = the bound port, the policy digest, clean stop); a failed
 * HELLO is an auth_failed line without the API key's secret; and a burst
 * of lease expiries makes at most one lease_expired line a second whose
 * counts add up to the leases that really expired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"

#define N_EXPIRE 100

/* The log's lines as JSON objects (fails the test on a line that is not
 * one, or lacks a string ts/level/event/msg).  Returns an array. */
static json_t *
read_log(const struct hserver *s)
{
    FILE *f = fopen(s->logfile, "r");
    json_t *all = json_array();
    char line[8192];

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        json_error_t err;
        json_t *j = json_loads(line, JSON_ALLOW_NUL, &err);

        if (j == NULL || !json_is_object(j))
            fail_msg("log line is not a JSON object (%s): %s", err.text, line);
        assert_true(json_is_string(json_object_get(j, "ts")));
        assert_true(json_is_string(json_object_get(j, "level")));
        assert_true(json_is_string(json_object_get(j, "event")));
        assert_true(json_is_string(json_object_get(j, "msg")));
        assert_int_equal(strlen(json_string_value(json_object_get(j, "ts"))), 24);
        json_array_append_new(all, j);
    }
    fclose(f);
    return all;
}

/* The n-th (0-based) line of event ev, or NULL. */
static json_t *
find_event(json_t *all, const char *ev, int nth)
{
    size_t i;
    json_t *j;

    json_array_foreach(all, i, j) {
        if (strcmp(json_string_value(json_object_get(j, "event")), ev) == 0 && nth-- == 0)
            return j;
    }
    return NULL;
}

static const char *
jstr(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    if (!json_is_string(v))
        fail_msg("no string \"%s\" in the event", k);
    return json_string_value(v);
}

static void
test_start_reload_stop_auth(void **st)
{
    struct hserver s;
    hitlq_options o = { .host = "127.0.0.1", .name = "mallory", .timeout_ms = 5000,
                        .api_key = "hitlq_0123456789abcdef_TOPSECRETtopsecret42" };
    json_t *all, *e;

    (void)st;
    memset(&s, 0, sizeof(s));
    assert_true(harness_server_start(&s, "log_format = \"json\"\nauth = 1\n") > 0);
    o.port = s.port;
    for (int i = 0; i < 3; i++) {                   /* refused: unknown key */
        hitlq *c = hitlq_connect(&o);
        assert_non_null(c);
        assert_int_not_equal(hitlq_err(c), HITLQ_OK);
        hitlq_free(c);
    }
    assert_int_equal(harness_server_kill(&s, SIGHUP), 0);
    harness_sleep_ms(1500);
    assert_int_equal(harness_server_stop(&s), 0);
    all = read_log(&s);

    e = find_event(all, "start", 0);
    assert_non_null(e);
    assert_string_equal(jstr(e, "version"), "0.1.0");
    assert_int_equal(json_integer_value(json_object_get(e, "port")), s.port);
    assert_string_equal(jstr(e, "data_dir"), s.data);
    assert_int_equal(strlen(jstr(e, "policy_digest")), 64);
    assert_true(json_is_false(json_object_get(e, "tls")));

    e = find_event(all, "reload", 0);
    assert_non_null(e);
    assert_string_equal(jstr(e, "result"), "ok");
    assert_string_equal(jstr(e, "policy"), jstr(find_event(all, "start", 0), "policy"));
    assert_string_equal(jstr(e, "policy_digest"),
                        jstr(find_event(all, "start", 0), "policy_digest"));

    e = find_event(all, "stop", 0);
    assert_non_null(e);
    assert_true(json_is_true(json_object_get(e, "clean")));
    assert_string_equal(jstr(e, "reason"), strsignal(SIGTERM));

    /* three failures within a second from one address: one line, no secret */
    e = find_event(all, "auth_failed", 0);
    assert_non_null(e);
    assert_string_equal(jstr(e, "method"), "HELLO");
    assert_string_equal(jstr(e, "reason"), "invalid API key");
    assert_int_equal(json_integer_value(json_object_get(e, "count")), 1);
    assert_null(find_event(all, "auth_failed", 1));
    json_decref(all);
    {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "grep -q TOPSECRET %s", s.logfile);
        assert_int_not_equal(system(cmd), 0);
    }
    harness_server_cleanup(&s);
}

/* Submits and claims N_EXPIRE items with 1 s leases; returns when claimed. */
static void
claim_all(hitlq *c)
{
    for (int i = 0; i < N_EXPIRE; i++) {
        char key[32];
        snprintf(key, sizeof(key), "exp-%d", i);
        e2e_must_queue(c, key, -1);
    }
    for (int i = 0; i < N_EXPIRE; i++) {
        struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 1000, 0);
        hitlq_claim_clear(&cl);
    }
}

static void
test_lease_expiry_rate_limited(void **st)
{
    uint64_t t0, t1, total = 0, lines = 0;
    json_t *all, *j;
    size_t i;

    (void)st;
    assert_true(harness_server_start(&e2e_srv, "log_format = \"json\"\nmax_attempts = 5\n") > 0);
    hitlq *c = e2e_cli("worker");
    t0 = harness_now_ms();
    claim_all(c);
    harness_sleep_ms(2500);                          /* every lease has run out */
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&e2e_srv), 0);
    t1 = harness_now_ms();
    all = read_log(&e2e_srv);
    json_array_foreach(all, i, j) {
        if (strcmp(jstr(j, "event"), "lease_expired") != 0)
            continue;
        lines++;
        total += (uint64_t)json_integer_value(json_object_get(j, "count"));
        assert_string_equal(jstr(j, "example_queue"), "credit_review");
        assert_true(json_integer_value(json_object_get(j, "example_id")) >= 1);
    }
    json_decref(all);
    /* every expiry counted once; at most one line a second (+ the final flush) */
    assert_int_equal(total, N_EXPIRE);
    assert_true(lines >= 1);
    if (lines > (t1 - t0) / 1000 + 2)
        fail_msg("%llu lease_expired lines in %llu ms", (unsigned long long)lines,
                 (unsigned long long)(t1 - t0));
    harness_server_cleanup(&e2e_srv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_reload_stop_auth),
        cmocka_unit_test(test_lease_expiry_rate_limited),
    };

    return e2e_run("log_events", tests, sizeof(tests) / sizeof(tests[0]));
}
