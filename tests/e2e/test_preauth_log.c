/*
 * test_preauth_log.c - what unauthenticated connections make hitlqd log
 * (server/net/net_log.c; issue 15 performance: a line per hostile
 * connection cost the server thousands of writes a second).  With
 * log_format = json: N_RANDOM connections that send a bad frame header
 * make "preauth_closed" summary lines (at most one a second, plus the
 * final flush) whose counts add up to N_RANDOM, status bad_frame, and no
 * per-connection "closing after" line; and N_IDLE silent connections from
 * one address over its budget of unauthenticated connections make
 * "preauth_evicted" lines whose counts add up to the evictions (the tail
 * of the burst included: it used to be dropped).  Both run within a
 * second: their tails are written by the final flush at stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"

#define N_RANDOM 300
#define N_IDLE   20
#define PER_ADDR 8                  /* max_unauthenticated_per_addr */

static const char PL_CONFIG[] = "log_format = \"json\"\nmax_unauthenticated_per_addr = 8\n";

/* The value of string key k of log line j ("" when absent). */
static const char *pl_str(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    return json_is_string(v) ? json_string_value(v) : "";
}

/* Sums the counts of event ev's lines of s's log into *total, checking
 * each line's status when status is not NULL; the number of lines.
 * Fails the test on a per-connection "closing after" line. */
static uint64_t pl_sum(const struct hserver *s, const char *ev, const char *status,
                       uint64_t *total)
{
    FILE *f = fopen(s->logfile, "r");
    char line[8192];
    uint64_t lines = 0;

    assert_non_null(f);
    *total = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);

        if (j == NULL)
            fail_msg("log line is not JSON (%s): %s", err.text, line);
        if (strstr(pl_str(j, "msg"), "closing after") != NULL)
            fail_msg("a line per connection: %s", line);
        if (strcmp(pl_str(j, "event"), ev) == 0) {
            lines++;
            *total += (uint64_t)json_integer_value(json_object_get(j, "count"));
            assert_true(strncmp(pl_str(j, "example_peer"), "127.0.0.1:", 10) == 0);
            if (status != NULL)
                assert_string_equal(pl_str(j, "status"), status);
        }
        json_decref(j);
    }
    fclose(f);
    return lines;
}

static void test_preauth_closes_and_evictions_summarized(void **st)
{
    static const uint8_t bad[12] = { 0, 0, 0, 1, 'X', 1, 0, 0, 0, 0, 0, 1 };
    struct hserver s;
    struct hconn idle[N_IDLE], c;
    uint64_t t0, t1, total, lines;

    (void)st;
    assert_true(harness_server_start(&s, PL_CONFIG) > 0);
    t0 = harness_now_ms();
    for (int i = 0; i < N_IDLE; i++) {
        assert_int_equal(hconn_open(&idle[i], s.port), 0);
        harness_sleep_ms(5);           /* accepted in this order */
    }
    for (int i = 0; i < N_RANDOM; i++) {
        assert_int_equal(hconn_open(&c, s.port), 0);
        assert_int_equal(hconn_send(&c, bad, sizeof bad, 2000), 0);
        assert_true(hconn_expect_closed(&c, 5000, NULL));
        hconn_close(&c);
    }
    for (int i = 0; i < N_IDLE; i++)
        hconn_close(&idle[i]);
    assert_int_equal(harness_server_stop(&s), 0);
    t1 = harness_now_ms();
    lines = pl_sum(&s, "preauth_closed", "bad_frame", &total);
    fprintf(stderr, "preauth_closed: %llu lines, count %llu in %llu ms\n",
            (unsigned long long)lines, (unsigned long long)total,
            (unsigned long long)(t1 - t0));
    assert_int_equal(total, N_RANDOM);
    assert_true(lines >= 1 && lines <= (t1 - t0) / 1000 + 2);
    lines = pl_sum(&s, "preauth_evicted", NULL, &total);
    fprintf(stderr, "preauth_evicted: %llu lines, count %llu\n", (unsigned long long)lines,
            (unsigned long long)total);
    /* each idle connection over the budget evicts the oldest idle one,
     * and the first bad-frame sender one more (the budget is full of idle
     * ones; it is gone before the next comes): each counted once */
    assert_int_equal(total, N_IDLE - PER_ADDR + 1);
    assert_true(lines >= 1 && lines <= (t1 - t0) / 1000 + 2);
    harness_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preauth_closes_and_evictions_summarized),
    };
    return cmocka_run_group_tests_name("preauth_log", tests, NULL, NULL);
}
