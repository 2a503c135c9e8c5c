/*
 * test_dashboard.c - the live dashboard of a real hitlqd
 * (server/cmd/dash_api.c, dash_routes.c, dashboard.html): the JSON
 * overview's figures equal what the test did and what STATS says; the
 * page, loaded by Debian's headless chromium (missing chromium FAILS),
 * renders the same figures in its DOM; driven over the DevTools protocol
 * (tests/lib/cdp.h) the same page load shows the new STATS depth within
 * 5 s of more submits, with the audit checkpoint's age (a screenshot is
 * saved as build/test/dashboard.png); the minute rollups survive a
 * restart; the window parameter is bounded.
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

#include "cdp.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "http_get.h"

#define TYPE   "credit_application"
#define N_NEW  12
#define N_MORE 4
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

/* The score bands of the verdicts make_traffic gave: from the model
 * scores its SUBMIT replies carried (band = floor(score * 10)). */
static long band_done[10];

/* 12 new items; 5 claimed, 3 of them resolved with a root cause. */
static void
make_traffic(hitlq *c)
{
    char key[32];
    uint64_t ids[N_NEW];
    double scores[N_NEW];

    memset(band_done, 0, sizeof band_done);
    for (int i = 0; i < N_NEW; i++) {
        hitlq_decision d;

        snprintf(key, sizeof key, "dash-%d", i);
        assert_int_equal(e2e_submit_queued(c, key, -1, &d), HITLQ_OK);
        assert_true(d.queued);
        ids[i] = d.id;
        scores[i] = d.score;
    }
    for (int i = 0; i < N_CLAIM; i++) {
        struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);

        if (i < N_DONE) {
            assert_int_equal(hitlq_resolve(c, cl.id, cl.lease, "approve", NULL, CAUSE, NULL),
                             HITLQ_OK);
            for (int k = 0; k < N_NEW; k++)
                if (ids[k] == cl.id && scores[k] == scores[k])      /* scored */
                    band_done[scores[k] >= 1.0 ? 9 : (int)(scores[k] * 10)]++;
        }
        hitlq_claim_clear(&cl);
    }
}

/* The type's verdicts_by_band equal band_done, and add up to its verdicts. */
static void
check_bands(json_t *t)
{
    json_t *bands = json_object_get(t, "verdicts_by_band"), *b;
    json_t *v = json_object_get(t, "verdicts");
    long got[10] = { 0 }, sum = 0;
    size_t i;

    json_array_foreach(bands, i, b) {
        double lo = json_number_value(json_object_get(b, "score_lo"));
        int k = (int)(lo * 10 + 0.5);

        assert_true(k >= 0 && k < 10);
        got[k] = jint(b, "agree") + jint(b, "override") + jint(b, "none");
        sum += jint(b, "agree") + jint(b, "override");
    }
    long done = 0;

    for (int k = 0; k < 10; k++) {
        assert_int_equal(got[k], band_done[k]);
        done += band_done[k];
    }
    assert_int_equal(done, N_DONE);             /* every resolved item was scored */
    assert_int_equal(sum, jint(v, "agree") + jint(v, "override"));
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
    check_bands(t);
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
    hitlq_free(c);
}

/* After traffic the audit signs a checkpoint: within 5 s the overview's
 * checkpoint_ms is set, not after its time_ms, and checkpoint_age_s is
 * their difference (>= 0, < 60 s). */
static void
check_checkpoint_age(void)
{
    for (int i = 0; i < 50; i++) {
        json_t *o = get_json("/api/v1/overview", 200), *a = json_object_get(o, "audit");
        json_t *cp = json_object_get(a, "checkpoint_ms");

        assert_true(json_is_true(json_object_get(a, "enabled")));
        if (json_is_integer(cp)) {
            long long now = json_integer_value(json_object_get(o, "time_ms"));
            double age = json_number_value(json_object_get(a, "checkpoint_age_s"));

            assert_true(json_integer_value(cp) <= now);
            assert_true(age >= 0 && age < 60);
            assert_true(age * 1000 > (double)(now - json_integer_value(cp)) - 1 &&
                        age * 1000 < (double)(now - json_integer_value(cp)) + 1);
            json_decref(o);
            return;
        }
        json_decref(o);
        usleep(100 * 1000);
    }
    fail_msg("no audit checkpoint_ms in the overview 5 s after traffic");
}

/* The page's rendered depth of queue q (JavaScript for cdp_eval). */
static void
depth_expr(char *buf, size_t len, const char *q)
{
    snprintf(buf, len, "(function () { var rows = document.querySelectorAll("
             "'#queues tbody tr'); for (var i = 0; i < rows.length; i++) if (rows[i]"
             ".cells[0].textContent === '%s') return rows[i].cells[1].textContent; "
             "return null; })()", q);
}

static void
assert_png(const char *path)
{
    unsigned char sig[8] = { 0 };
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    assert_int_equal(fread(sig, 1, sizeof sig, f), sizeof sig);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", sizeof sig);
}

/* One page load in chromium over --remote-debugging-pipe: it shows STATS's
 * depth; after more submits the SAME document (its marker survives) shows
 * the new depth within 5 s; the audit line carries the checkpoint age. */
static void
test_page_updates_live(void **st)
{
    hitlq *c = e2e_cli("dash");
    char url[64], expr[512], want[32], last[256], err[256], key[32];
    struct cdp *b;
    json_t *v;

    (void)st;
    make_traffic(c);
    check_checkpoint_age();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)http_port_of(&e2e_srv));
    b = cdp_open(url, 1400, 900, 20000, err, sizeof err);
    if (b == NULL)
        fail_msg("%s", err);
    depth_expr(expr, sizeof expr, e2e_review[0]);
    snprintf(want, sizeof want, "%ld", stats_depth(c, e2e_review[0]));
    if (cdp_wait_text(b, expr, want, 10000, last, sizeof last) != 0)
        fail_msg("first load: depth %s on the page, STATS says %s", last, want);
    json_decref(cdp_eval(b, "window.hitlqTestMark = 'load-1'", 2000));
    for (int i = 0; i < N_MORE; i++) {
        snprintf(key, sizeof key, "dash-more-%d", i);
        e2e_must_queue(c, key, -1);
    }
    snprintf(want, sizeof want, "%ld", stats_depth(c, e2e_review[0]));
    assert_int_equal(atol(want), atol(last) + N_MORE);
    if (cdp_wait_text(b, expr, want, 5000, last, sizeof last) != 0)
        fail_msg("no update without reload: depth %s on the page, STATS says %s", last, want);
    v = cdp_eval(b, "window.hitlqTestMark", 2000);
    assert_string_equal(json_string_value(v), "load-1");        /* the same page load */
    json_decref(v);
    v = cdp_eval(b, "document.getElementById('audit').textContent", 2000);
    assert_non_null(strstr(json_string_value(v), "last checkpoint"));
    json_decref(v);
    assert_int_equal(cdp_screenshot(b, "build/test/dashboard.png", 10000), 0);
    cdp_close(b);
    assert_png("build/test/dashboard.png");
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
        E2E_TEST(test_page_updates_live),
        E2E_TEST(test_history_survives_restart),
        E2E_TEST(test_specialists_and_window),
    };

    return e2e_run("dashboard", tests, sizeof(tests) / sizeof(tests[0]));
}
