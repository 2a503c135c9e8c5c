/*
 * test_sla_clock.c - the SLA clock's arithmetic and record codec
 * (server/store/sla_clock.h): elapsed budget across pauses, the level
 * shares, when the next step is due, the breach time, and a record that
 * round-trips while truncated or inconsistent ones are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sla_clock.h"

static struct sla_clock clock3(uint64_t budget, uint64_t since)
{
    struct sla_clock c;
    memset(&c, 0, sizeof c);
    c.plan.budget_ms = budget;
    c.plan.n_steps = 3;
    c.plan.steps[0] = (struct sla_step){ .level = 50, .flags = SLA_STEP_RAISE, .priority = 7 };
    c.plan.steps[1] = (struct sla_step){ .level = 75, .move_to = "senior" };
    c.plan.steps[2] = (struct sla_step){ .level = 100, .flags = SLA_STEP_NOTIFY };
    c.flags = SLA_F_RUNNING;
    c.since_ms = since;
    return c;
}

static void test_levels_and_due(void **st)
{
    (void)st;
    assert_int_equal(sla_level_ms(2000, 50), 1000);
    assert_int_equal(sla_level_ms(2000, 75), 1500);
    assert_int_equal(sla_level_ms(999, 75), 749);                    /* floor(749.25) */
    assert_int_equal(sla_level_ms(UINT64_C(1) << 62, 100), UINT64_C(1) << 62);  /* no overflow */
    struct sla_clock c = clock3(2000, 10000);
    assert_int_equal(sla_next_due(&c), 11000);
    assert_int_equal(sla_breach_at(&c), 12000);
    c.done = 1;
    assert_int_equal(sla_next_due(&c), 11500);
    c.done = 3;
    assert_int_equal(sla_next_due(&c), 0);                          /* all done */
}

/* 400 ms run, paused 5 s, resumed: the pause is not counted. */
static void test_pause_resume(void **st)
{
    (void)st;
    struct sla_clock c = clock3(2000, 10000);
    assert_int_equal(sla_elapsed(&c, 10400), 400);
    assert_int_equal(sla_elapsed(&c, 9000), 0);                    /* clock before since */
    c.elapsed_ms = sla_elapsed(&c, 10400);                         /* pause */
    c.flags = 0;
    assert_int_equal(sla_elapsed(&c, 15400), 400);
    assert_int_equal(sla_next_due(&c), 0);
    assert_int_equal(sla_breach_at(&c), 0);
    c.flags = SLA_F_RUNNING;                                       /* resume */
    c.since_ms = 15400;
    assert_int_equal(sla_next_due(&c), 15400 + 600);
    assert_int_equal(sla_breach_at(&c), 15400 + 1600);             /* 12000 + the 5 s */
    c.elapsed_ms = 1200;                                           /* 50 % already past */
    assert_int_equal(sla_next_due(&c), 15400);                     /* fire at once */
    c.flags |= SLA_F_STOPPED;
    assert_int_equal(sla_next_due(&c), 0);
}

static void test_codec(void **st)
{
    (void)st;
    uint8_t buf[SLA_REC_MAX];
    struct sla_clock c = clock3(14400000, 123456789), d;
    c.done = 2;
    c.elapsed_ms = 4242;
    c.due_ms = 99;
    memcpy(c.waiting_on, "customer", 9);
    size_t n = sla_encode(&c, buf);
    assert_true(n <= SLA_REC_MAX);
    assert_int_equal(sla_decode(buf, n, &d), 0);
    assert_int_equal(d.plan.budget_ms, 14400000);
    assert_int_equal(d.done, 2);
    assert_int_equal(d.elapsed_ms, 4242);
    assert_int_equal(d.since_ms, 123456789);
    assert_int_equal(d.due_ms, 99);
    assert_string_equal(d.waiting_on, "customer");
    assert_int_equal(d.plan.steps[0].priority, 7);
    assert_string_equal(d.plan.steps[1].move_to, "senior");
    assert_int_equal(d.plan.steps[2].flags, SLA_STEP_NOTIFY);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(sla_decode(buf, k, &d), -1);              /* truncated */
    buf[2] = 4;                                                    /* done > n_steps */
    assert_int_equal(sla_decode(buf, n, &d), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_due),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
