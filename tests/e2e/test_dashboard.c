/*
 * test_dashboard.c - the live dashboard of a real hitlqd
 * (server/cmd/dash_api.c, dash_routes.c, dashboard.html): the JSON
 * overview's figures equal what the test did and what STATS says; the
 * page, loaded by Debian's headless chromium (missing chromium FAILS),
 * renders the same figures in its DOM (a screenshot is saved as
 * build/test/dashboard.png); the minute rollups survive a restart; the
 * window parameter is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "http_get.h"

#define TYPE   "credit_application"
#define N_NEW  12
#define N_CLAIM 5
#define N_DONE 3
#define CAUSE  "missing_document"
#define CHROMIUM_FLAGS "--headless --no-sandbox --disable-gpu --no-first-run " \
    "--disable-background-networking --disable-component-update --disable-sync"

static json_t *
get_json(const char *path, int want)
{
    char *body = NULL;
    json_error_t e;
    json_t *j;

    assert_int_equal(http_get(http_port_of(&e2e_srv), path, NULL, NULL, &body, 5000), want);
    assert_non_null(body);
    j = json_loads(body, 0, &e);
    free(body);
    if (want == 200)
        assert_non_null(j);
    return j;
}

static json_t *
find_named(json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(json_object_get(v, key));

        if (s != NULL && strcmp(s, name) == 0)
            return v;
    }
    return NULL;
}

static long
jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    assert_true(json_is_integer(v));
    return (long)json_integer_value(v);
}

/* STATS's depth of queue q (what the page must show). */
static long
stats_depth(hitlq *c, const char *q)
{
    hitlq_reply *r = NULL;
    long depth;

    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    depth = (long)e2e_map_num(e2e_stats_entry(r, "queues", "queue", q), "depth");
    hitlq_reply_free(r);
    return depth;
}

/* 12 new items; 5 claimed, 3 of them resolved with a root cause. */
static void
make_traffic(hitlq *c)
{
    char key[32];

    for (int i = 0; i < N_NEW; i++) {
        snprintf(key, sizeof key, "dash-%d", i);
        e2e_must_queue(c, key, -1);
    }
    for (int i = 0; i < N_CLAIM; i++) {
        struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);

        if (i < N_DONE)
            assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "approve", NULL, CAUSE, NULL),
                             HITLQ_OK);
        hitlq_claim_clear(&cl);
    }
}

/* The figures every check compares: the test's own counts and STATS. */
static void
check_overview(hitlq *c, int submits)
{
    json_t *o = get_json("/api/v1/overview", 200);
    json_t *q = find_named(json_object_get(o, "queues"), "queue", e2e_review[0]);
    json_t *t = find_named(json_object_get(o, "types"), "type", TYPE);
    json_t *rc = find_named(json_object_get(json_object_get(o, "smelly"), "root_causes"),
                            "tag", CAUSE);

    assert_non_null(q);
    assert_non_null(t);
    assert_non_null(rc);
    assert_int_equal(jint(q, "depth"), stats_depth(c, e2e_review[0]));
    assert_int_equal(jint(q, "leased"), N_CLAIM - N_DONE);
    assert_int_equal(jint(q, "decisions"), N_DONE);
    assert_int_equal(jint(t, "submits"), submits);
    assert_int_equal(jint(json_object_get(t, "route_mix"), "review"), submits);
    assert_int_equal(jint(rc, "count"), N_DONE);
    json_decref(o);
}

/* Runs headless chromium on the page; returns the dumped DOM (malloc'd). */
static char *
chromium_dom(const char *extra)
{
    char cmd[1024], dir[] = "/tmp/hitlq-chromium-XXXXXX";
    char *dom = malloc(1 << 20);
    size_t n;
    FILE *p;

    assert_non_null(dom);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(system("command -v chromium >/dev/null"), 0);   /* setup.sh installs it */
    snprintf(cmd, sizeof cmd, "chromium " CHROMIUM_FLAGS " --user-data-dir=%s "
             "--virtual-time-budget=4000 %s http://127.0.0.1:%u/ 2>/dev/null; rm -rf %s", dir,
             extra, (unsigned)http_port_of(&e2e_srv), dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(dom, 1, (1 << 20) - 1, p);
    dom[n] = '\0';
    pclose(p);
    return dom;
}

static void
test_overview_and_page(void **st)
{
    hitlq *c = e2e_cli("dash");
    char want[256], *dom;

    (void)st;
    make_traffic(c);
    check_overview(c, N_NEW);
    dom = chromium_dom("--dump-dom");
    assert_non_null(strstr(dom, "class=\"ok\">live<"));
    snprintf(want, sizeof want, "<td data-f=\"queue\">%s</td><td data-f=\"depth\">%ld</td>",
             e2e_review[0], stats_depth(c, e2e_review[0]));
    if (strstr(dom, want) == NULL)
        fail_msg("the page does not show %s; DOM:\n%.3000s", want, dom);
    assert_non_null(strstr(dom, "<td data-f=\"type\">" TYPE "</td><td data-f=\"submits\">12<"));
    assert_non_null(strstr(dom, "<svg"));
    free(dom);
    dom = chromium_dom("--screenshot=build/test/dashboard.png --window-size=1400,900");
    free(dom);
    assert_int_equal(access("build/test/dashboard.png", R_OK), 0);
    hitlq_free(c);
}

static void
test_history_survives_restart(void **st)
{
    hitlq *c = e2e_cli("dash");

    (void)st;
    make_traffic(c);
    check_overview(c, N_NEW);
    hitlq_free(c);
    assert_true(harness_server_restart(&e2e_srv) > 0);
    c = e2e_cli("dash");
    check_overview(c, N_NEW);               /* the same figures, read back from LMDB */
    hitlq_free(c);
}

static void
test_specialists_and_window(void **st)
{
    hitlq *c = e2e_cli("dash");
    json_t *s, *v;
    long decisions = 0;
    size_t i;

    (void)st;
    make_traffic(c);
    hitlq_free(c);
    s = get_json("/api/v1/specialists?window=3600", 200);
    json_array_foreach(json_object_get(s, "specialists"), i, v)
        decisions += jint(v, "decisions");
    assert_int_equal(decisions, N_DONE);
    json_decref(s);
    json_decref(get_json("/api/v1/overview?window=5", 400));
    json_decref(get_json("/api/v1/overview?window=99999999", 400));
    json_decref(get_json("/api/v1/overview?window=x", 400));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_overview_and_page),
        E2E_TEST(test_history_survives_restart),
        E2E_TEST(test_specialists_and_window),
    };

    return e2e_run("dashboard", tests, sizeof(tests) / sizeof(tests[0]));
}
