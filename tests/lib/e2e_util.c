/*
 * e2e_util.c - the server, the credit rows and the helpers shared by the
 * libhitlq end-to-end tests (e2e_util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "e2e_util.h"

#define CONFIG "max_attempts = 2\n"

struct hserver e2e_srv;
struct credit_item *e2e_ci;
size_t e2e_nci;
msgpack_sbuffer e2e_small_fields;
const char *const e2e_review[] = { "credit_review" };

int e2e_srv_setup(void **st)
{
    (void)st;
    return harness_server_start(&e2e_srv, CONFIG) < 0 ? -1 : 0;
}

int e2e_srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&e2e_srv);
    harness_server_cleanup(&e2e_srv);
    return rc;
}

uint64_t e2e_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

hitlq *e2e_connect(uint16_t port, const char *name, int timeout_ms)
{
    hitlq_options o = { .host = "127.0.0.1", .port = port, .name = name,
                        .timeout_ms = timeout_ms };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_errstr(c));
    return c;
}

hitlq *e2e_cli(const char *name)
{
    return e2e_connect(e2e_srv.port, name, 30000);
}

static void pack_small_fields(void)
{
    msgpack_sbuffer_init(&e2e_small_fields);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &e2e_small_fields, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
}

int e2e_submit_queued(hitlq *c, const char *key, int64_t prio, hitlq_decision *d)
{
    hitlq_item it = { .key = key, .type = "credit_application", .fields = e2e_small_fields.data,
                      .fields_len = e2e_small_fields.size, .priority = prio };
    return hitlq_submit(c, &it, d);
}

uint64_t e2e_must_queue(hitlq *c, const char *key, int64_t prio)
{
    hitlq_decision d;
    int rc = e2e_submit_queued(c, key, prio, &d);
    if (rc != HITLQ_OK)
        fail_msg("submit %s: %s (%s)", key, hitlq_strerror(rc), hitlq_errstr(c));
    assert_true(d.queued);
    assert_false(d.duplicate);
    return d.id;
}

struct hitlq_claim e2e_must_claim(hitlq *c, const char *const *qs, size_t nq,
                                  uint32_t lease_ms, uint32_t wait_ms)
{
    struct hitlq_claim cl;
    memset(&cl, 0, sizeof cl);
    int rc = hitlq_claim(c, qs, nq, lease_ms, wait_ms, NULL, &cl);
    if (rc != HITLQ_OK)
        fail_msg("claim: %s (%s)", hitlq_strerror(rc), hitlq_errstr(c));
    assert_true(cl.id > 0);
    assert_non_null(cl.reply);
    return cl;
}

int e2e_find_str(const msgpack_object *m, const char *k, char *out, size_t n)
{
    out[0] = 0;
    if (!m || m->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < m->via.map.size; i++)
        if (hobj_str_eq(&m->via.map.ptr[i].key, k)) {
            hobj_str(&m->via.map.ptr[i].val, out, n);
            return 0;
        }
    return -1;
}

/* Checks the GET history's event names are exactly `want` (n of them),
 * and returns the reply for more checks. */
hitlq_reply *e2e_check_history(hitlq *c, uint64_t id, const char *const *want, size_t n)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    const msgpack_object *h = hitlq_reply_get(r, "history");
    assert_non_null(h);
    assert_int_equal(h->type, MSGPACK_OBJECT_ARRAY);
    char got[1024] = "", ev[64];
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        e2e_find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        strncat(got, ev, sizeof got - strlen(got) - 2);
        strcat(got, " ");
    }
    char exp[1024] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(exp, want[i], sizeof exp - strlen(exp) - 2);
        strcat(exp, " ");
    }
    if (strcmp(got, exp) != 0)
        fail_msg("history of %" PRIu64 ":\n  got  %s\n  want %s", id, got, exp);
    /* at_ms non-decreasing, every event has an actor */
    uint64_t prev = 0;
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        const msgpack_object *e = &h->via.array.ptr[i];
        uint64_t at = 0;
        bool actor = false;
        for (uint32_t k = 0; k < e->via.map.size; k++) {
            if (hobj_str_eq(&e->via.map.ptr[k].key, "at_ms"))
                at = hobj_u64(&e->via.map.ptr[k].val);
            if (hobj_str_eq(&e->via.map.ptr[k].key, "actor"))
                actor = true;
        }
        assert_true(actor);
        assert_true(at >= prev);
        prev = at;
    }
    return r;
}

const char *e2e_event_actor(const hitlq_reply *r, const char *event, char *out, size_t n)
{
    const msgpack_object *h = hitlq_reply_get(r, "history");
    out[0] = 0;
    char ev[64];
    for (uint32_t i = 0; h && i < h->via.array.size; i++) {
        e2e_find_str(&h->via.array.ptr[i], "event", ev, sizeof ev);
        if (strcmp(ev, event) == 0)
            e2e_find_str(&h->via.array.ptr[i], "actor", out, n);
    }
    return out;
}

const msgpack_object *e2e_stats_entry(const hitlq_reply *r, const char *list,
                                      const char *kname, const char *name)
{
    const msgpack_object *a = hitlq_reply_get(r, list);
    if (!a || a->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        char n[80];
        e2e_find_str(&a->via.array.ptr[i], kname, n, sizeof n);
        if (strcmp(n, name) == 0)
            return &a->via.array.ptr[i];
    }
    return NULL;
}

double e2e_map_num(const msgpack_object *m, const char *k)
{
    for (uint32_t i = 0; m && i < m->via.map.size; i++)
        if (hobj_str_eq(&m->via.map.ptr[i].key, k))
            return hobj_f64(&m->via.map.ptr[i].val);
    return NAN;
}

int e2e_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    signal(SIGPIPE, SIG_IGN);
    if (credit_items_load(CREDIT_ITEMS_CSV, &e2e_ci, &e2e_nci) != 0) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    pack_small_fields();
    if (getenv("HITLQ_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HITLQ_TEST_FILTER"));
    int rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    msgpack_sbuffer_destroy(&e2e_small_fields);
    credit_items_free(e2e_ci, e2e_nci);
    return rc;
}

uint64_t e2e_qa_of(hitlq *c, uint64_t id)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    const msgpack_object *o = hitlq_reply_get(r, "qa_of");
    uint64_t orig = o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
    hitlq_reply_free(r);
    return orig;
}

int
e2e_start_shimmed(struct hserver *s, const char *cfg, const char *so_path,
                  const char *trig_env, char dir[64], char trig[128])
{
    char so[PATH_MAX], asan[512], *old = getenv("ASAN_OPTIONS");
    int port;

    old = old ? strdup(old) : NULL;
    snprintf(dir, 64, "/tmp/hitlq-shim-XXXXXX");
    if (mkdtemp(dir) == NULL || realpath(so_path, so) == NULL) {
        free(old);
        return -1;
    }
    snprintf(trig, 128, "%s/trigger", dir);
    /* the shim comes before the sanitizer runtime in the library list */
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old ? old : "",
             old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    setenv(trig_env, trig, 1);
    setenv("LD_PRELOAD", so, 1);
    port = harness_server_start(s, cfg);
    unsetenv("LD_PRELOAD");
    if (old != NULL)
        setenv("ASAN_OPTIONS", old, 1);
    else
        unsetenv("ASAN_OPTIONS");
    free(old);
    return port;
}
