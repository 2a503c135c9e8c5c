/*
 * test_log_enc.c - the log event encoders (server/util/log_enc.c) and rate
 * limiters (server/util/log.c): every JSON line parses (jansson) and gives
 * back the exact field values, quotes / control bytes / invalid UTF-8 are
 * escaped (U+FFFD for invalid sequences), plain lines quote and \xNN-escape,
 * an over-long event stays one complete line marked truncated, and 1,000
 * occurrences within a second make one line whose count plus the flush
 * adds up to 1,000.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"

#define TS_MS 1700000000123ull          /* 2023-11-14T22:13:20.123Z */

static json_t *
encode_json(char *buf, size_t cap, const char *event, const char *msg,
            const struct log_field *f, size_t n)
{
    json_error_t err;
    size_t len = log_encode(LOG_FMT_JSON, buf, cap, true, TS_MS, LOG_LVL_WARN, event, msg, f, n);
    json_t *j;

    assert_true(len > 0 && len < cap);
    assert_int_equal(buf[len - 1], '\n');
    assert_null(memchr(buf, '\n', len - 1));          /* one line */
    j = json_loadb(buf, len, JSON_ALLOW_NUL, &err);
    if (j == NULL)
        fail_msg("not JSON (%s): %.*s", err.text, (int)len, buf);
    return j;
}

static void
test_json_fields(void **st)
{
    char buf[1024];
    const struct log_field f[] = {
        LOG_STR("queue", "credit_review"), LOG_UINT("id", 4611686018427387905ull),
        LOG_INT("delta", -42), LOG_BOOL("clean", 1), LOG_STR("none", NULL),
    };
    json_t *j;

    (void)st;
    j = encode_json(buf, sizeof(buf), "lease_expired", "leases expired", f, 5);
    assert_string_equal(json_string_value(json_object_get(j, "ts")), "2023-11-14T22:13:20.123Z");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(j, "event")), "lease_expired");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "leases expired");
    assert_string_equal(json_string_value(json_object_get(j, "queue")), "credit_review");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 4611686018427387905ll);
    assert_int_equal(json_integer_value(json_object_get(j, "delta")), -42);
    assert_true(json_is_true(json_object_get(j, "clean")));
    assert_true(json_is_null(json_object_get(j, "none")));
    json_decref(j);
}

static void
test_json_escaping(void **st)
{
    char buf[1024];
    const char nasty[] = "a\"b\\c\n\t\x01\x7f" "é" "\xff" "\xc0\xaf" "\xed\xa0\x80" "z";
    const struct log_field f[] = {
        LOG_BYTES("v", nasty, sizeof(nasty) - 1),
        LOG_BYTES("nul", "x\0y", 3),
    };
    json_t *j;
    const char *v;
    size_t vlen;

    (void)st;
    j = encode_json(buf, sizeof(buf), "test", "quote \" and \x1b[31m", f, 2);
    v = json_string_value(json_object_get(j, "v"));
    vlen = json_string_length(json_object_get(j, "v"));
    /* valid bytes come back exactly; each invalid byte is one U+FFFD */
    const char want[] = "a\"b\\c\n\t\x01\x7f" "é"
                        "\xef\xbf\xbd" "\xef\xbf\xbd\xef\xbf\xbd" "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "z";
    assert_int_equal(vlen, sizeof(want) - 1);
    assert_memory_equal(v, want, vlen);
    assert_int_equal(json_string_length(json_object_get(j, "nul")), 3);
    assert_memory_equal(json_string_value(json_object_get(j, "nul")), "x\0y", 3);
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "quote \" and \x1b[31m");
    json_decref(j);
}

static void
test_plain(void **st)
{
    char buf[512];
    const struct log_field f[] = {
        LOG_STR("queue", "q1"), LOG_STR("reason", "no key \"x\"\n"), LOG_UINT("n", 7),
        LOG_STR("empty", ""), LOG_UINT("max", UINT64_MAX),
    };
    size_t len;

    (void)st;
    len = log_encode(LOG_FMT_PLAIN, buf, sizeof(buf), true, TS_MS, LOG_LVL_INFO, "reload",
                     "new policy", f, 5);
    buf[len] = '\0';
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z hitlqd info: reload: new policy "
                             "queue=q1 reason=\"no key \\\"x\\\"\\x0a\" n=7 empty=\"\" max=18446744073709551615\n");
    /* free text keeps today's shape; no timestamp for syslog */
    len = log_encode(LOG_FMT_PLAIN, buf, sizeof(buf), false, TS_MS, LOG_LVL_ERROR, "log",
                     "disk \x01 gone", NULL, 0);
    buf[len] = '\0';
    assert_string_equal(buf, "error: disk . gone\n");
}

static void
test_truncation(void **st)
{
    char buf[300], big[2000];
    struct log_field f[8];
    json_t *j;
    size_t len;

    (void)st;
    memset(big, '"', sizeof(big) - 1);             /* every byte doubles when escaped */
    big[sizeof(big) - 1] = '\0';
    for (size_t i = 0; i < 8; i++)
        f[i] = LOG_STR("k", big);
    f[0] = LOG_UINT("first", 1);
    j = encode_json(buf, sizeof(buf), "big", big, f, 8);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "first")), 1);
    json_decref(j);
    len = log_encode(LOG_FMT_PLAIN, buf, sizeof(buf), true, TS_MS, LOG_LVL_INFO, "big", big,
                     f, 8);
    assert_true(len <= sizeof(buf));
    assert_int_equal(buf[len - 1], '\n');
    assert_non_null(strstr(buf, " truncated=true\n"));
}

static void
test_rate_limit(void **st)
{
    struct log_limit l = LOG_LIMIT_INIT;
    uint64_t lines = 0, total = 0, n;

    (void)st;
    for (uint64_t i = 0; i < 1000; i++) {           /* 1,000 within one second */
        if ((n = log_limit_hit(&l, 5000 + i, 1000)) > 0) {
            lines++;
            total += n;
        }
    }
    assert_int_equal(lines, 1);
    assert_int_equal(total, 1);
    assert_int_equal(log_limit_flush(&l, 5999, 1000), 0);      /* interval not over */
    assert_int_equal(log_limit_flush(&l, 6000, 1000), 999);    /* the rest, once */
    assert_int_equal(log_limit_flush(&l, 9000, 1000), 0);
    assert_int_equal(log_limit_hit(&l, 9001, 1000), 1);
    assert_int_equal(log_limit_hit(&l, 9002, 1000), 0);
    assert_int_equal(log_limit_hit(&l, 10001, 1000), 2);       /* the held one + this */
}

static void
test_addr_limit(void **st)
{
    static struct log_addr_limit t;
    char addr[32];
    uint64_t lines = 0, total = 0, n;

    (void)st;
    log_addr_limit_init(&t);
    assert_int_equal(log_addr_limit_hit(&t, "10.0.0.1", 100, 1000), 1);
    assert_int_equal(log_addr_limit_hit(&t, "10.0.0.1", 200, 1000), 0);
    /* 10,000 failures from 1,000 addresses within a second: at most one line per slot */
    for (int i = 0; i < 10000; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i % 1000);
        if ((n = log_addr_limit_hit(&t, addr, 300 + (uint64_t)i / 100, 1000)) > 0) {
            lines++;
            total += n;
        }
    }
    assert_true(lines <= LOG_ADDR_SLOTS);
    assert_true(lines >= 1);
}

static void
test_parse(void **st)
{
    enum log_format f;
    enum log_target t;
    int fac;

    (void)st;
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_FMT_JSON);
    assert_int_equal(log_format_parse("JSON", &f), -1);
    assert_int_equal(log_target_parse("syslog", &t), 0);
    assert_int_equal(t, LOG_TGT_SYSLOG);
    assert_int_equal(log_target_parse("file", &t), -1);
    assert_int_equal(log_facility_parse("local3", &fac), 0);
    assert_int_equal(log_facility_parse("kern", &fac), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_fields),  cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_plain),        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_rate_limit),   cmocka_unit_test(test_addr_limit),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests_name("log_enc", tests, NULL, NULL);
}
