/*
 * test_auth_keys.c - API keys against a real hitlqd with `auth = 1`
 * (PROTOCOL.md §3.1, docs/RELIABILITY.md §2.9; tests/lib/auth_fixture.h: one
 * server for the group): the first admin key, refused HELLOs and their
 * identical errors, KEY_ADD of each role, revocation of live connections
 * within 1 s, KEY_LIST without secrets, the KEY_EVENT audit entries, the
 * CLI's key commands and the failed-HELLO rate limit; and with `auth = 0`
 * everything as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "auth_fixture.h"
#include "hitlq.h"
#include "hitlq_proto.h"
#include "record.h"

/* ---- bootstrap, refusals --------------------------------------------------- */

static void test_bootstrap_admin(void **st)
{
    (void)st;
    struct hconn c;
    struct hframe f;
    assert_int_equal(afx_hello(&c, afx_srv.port, afx_admin_key, &f), HITLQ_ST_OK);
    assert_true(hobj_str_eq(hframe_get(&f, "role"), "admin"));
    /* with auth the actor is the principal, not the HELLO name */
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), "admin"));
    hframe_free(&f);
    assert_int_equal(hconn_ping(&c, 7), HITLQ_ST_OK);
    hconn_close(&c);
}

static void test_unauthenticated_refused(void **st)
{
    (void)st;
    struct hconn c;
    struct hframe f;
    assert_int_equal(afx_hello(&c, afx_srv.port, NULL, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(hframe_code_is(&f, "unauthorized"));
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    hconn_close(&c);
    /* nothing else is accepted before HELLO either */
    assert_int_equal(hconn_open(&c, afx_srv.port), 0);
    assert_int_equal(hconn_ping(&c, 3), HITLQ_ST_NEED_HELLO);
    hconn_close(&c);
    /* and the client library reports it */
    hitlq_options o = {
        .host = "127.0.0.1", .port = afx_srv.port, .name = "x", .timeout_ms = 5000
    };
    hitlq *h = hitlq_connect(&o);
    assert_int_equal(hitlq_err(h), HITLQ_ST_UNAUTHORIZED);
    hitlq_free(h);
    o.api_key = afx_admin_key;
    h = hitlq_connect(&o);
    assert_int_equal(hitlq_err(h), HITLQ_OK);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_key_list(h, NULL, &r), HITLQ_OK);
    hitlq_reply_free(r);
    hitlq_free(h);
}

/* HELLO with key from source address src (the failure limit counts per
 * address); returns the status, the message into msg (n bytes) if not NULL. */
static int hello_from(const char *src, const char *key, char *msg, size_t n)
{
    struct hconn c;
    struct hframe f;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    assert_int_equal(hconn_open_from(&c, afx_srv.port, src), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "version", 1);
    hpk_kv_str(&pk, "api_key", key);
    assert_int_equal(hconn_call(&c, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f, 5000), 1);
    int st = f.status;
    if (msg != NULL)
        hobj_str(hframe_get(&f, "message"), msg, n);
    hframe_free(&f);
    msgpack_sbuffer_destroy(&sb);
    hconn_close(&c);
    return st;
}

/* Wrong secret, unknown key id, malformed: one status, one message (from
 * an address of their own: a success forgets no failure). */
static void test_same_error(void **st)
{
    (void)st;
    char wrong[AFX_KEY_LEN + 1], unknown[AFX_KEY_LEN + 1], msg[3][128];
    const char *keys[3] = { wrong, unknown, "hitlq_nothex_x" };
    memcpy(wrong, afx_admin_key, sizeof wrong);
    wrong[AFX_KEY_LEN - 5] = wrong[AFX_KEY_LEN - 5] == 'A' ? 'B' : 'A';     /* secret changed */
    memcpy(unknown, afx_admin_key, sizeof unknown);
    unknown[6] = unknown[6] == 'a' ? 'b' : 'a';                     /* key id changed */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hello_from("127.0.0.5", keys[i], msg[i], sizeof msg[i]),
                         HITLQ_ST_UNAUTHORIZED);
    assert_string_equal(msg[0], msg[1]);
    assert_string_equal(msg[0], msg[2]);
}

static void test_key_add_each_role(void **st)
{
    (void)st;
    static const char *const roles[] = { "bot", "specialist", "auditor", "admin" };
    struct hconn a;
    afx_admin_conn(&a);
    for (size_t i = 0; i < 4; i++) {
        char key[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1], name[32];
        struct hconn c;
        snprintf(name, sizeof name, "each-%s", roles[i]);
        afx_key_add(&a, name, roles[i], NULL, key, id);
        afx_open_as(&c, key, roles[i]);
        hconn_close(&c);
    }
    /* bad role, skills for a non-specialist, role change: refused */
    struct afx_body b;
    afx_body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "x");
    hpk_kv_str(&b.pk, "role", "root");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    afx_body_free(&b);
    afx_body_init(&b, 3);
    hpk_kv_str(&b.pk, "principal", "x");
    hpk_kv_str(&b.pk, "role", "bot");
    hpk_str(&b.pk, "skills");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "q1");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    afx_body_free(&b);
    afx_body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "each-bot");
    hpk_kv_str(&b.pk, "role", "admin");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_CONFLICT);
    afx_body_free(&b);
    /* a second key for an existing principal, same role: fine */
    char key[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    afx_key_add(&a, "each-bot", "bot", NULL, key, id);
    hconn_close(&a);
}

/* ---- revocation, listing --------------------------------------------------- */

static void test_revoke_closes_live_connections(void **st)
{
    (void)st;
    char k[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1], k2[AFX_KEY_LEN + 1], id2[AFX_ID_LEN + 1];
    struct hconn a, b1, b2, other;
    afx_admin_conn(&a);
    afx_key_add(&a, "revoked-bot", "bot", NULL, k, id);
    afx_key_add(&a, "revoked-bot", "bot", NULL, k2, id2);     /* same principal, other key */
    afx_open_as(&b1, k, "bot");
    afx_open_as(&b2, k, "bot");
    afx_open_as(&other, k2, "bot");
    struct afx_body b;
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", id);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    /* both live connections of the key are gone within 1 s */
    int frames = 0;
    assert_true(hconn_expect_closed(&b1, 1000, &frames));
    assert_true(hconn_expect_closed(&b2, 1000, NULL));
    assert_true(harness_now_ms() - t0 < 1000);
    assert_int_equal(frames, 1);                          /* the `unauthorized` notice */
    hconn_close(&b1);
    hconn_close(&b2);
    /* revoking again is fine; the other key is untouched */
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    assert_int_equal(hconn_ping(&other, 5), HITLQ_ST_OK);
    /* the key no longer opens a session */
    struct hconn c;
    struct hframe f;
    assert_int_equal(afx_hello(&c, afx_srv.port, k, &f), HITLQ_ST_UNAUTHORIZED);
    hframe_free(&f);
    hconn_close(&c);
    /* unknown key id; malformed key id */
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", "00000000000000ff");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_NOT_FOUND);
    afx_body_free(&b);
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", "xyz");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    afx_body_free(&b);
    /* KEY_LIST marks it */
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "principal", "revoked-bot");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_LIST, &b.sb, &f), HITLQ_ST_OK);
    afx_body_free(&b);
    const msgpack_object *keys = hframe_get(&f, "keys");
    assert_int_equal(keys->via.array.size, 2);
    int revoked = 0;
    for (uint32_t i = 0; i < keys->via.array.size; i++) {
        const msgpack_object *e = &keys->via.array.ptr[i];
        bool is_id = false, rev = false;
        for (uint32_t j = 0; j < e->via.map.size; j++) {
            const msgpack_object_kv *kv = &e->via.map.ptr[j];
            if (hobj_str_eq(&kv->key, "key_id"))
                is_id = hobj_str_eq(&kv->val, id);
            if (hobj_str_eq(&kv->key, "revoked"))
                rev = kv->val.type == MSGPACK_OBJECT_BOOLEAN && kv->val.via.boolean;
        }
        assert_true(is_id == rev);
        revoked += rev;
    }
    assert_int_equal(revoked, 1);
    hframe_free(&f);
    hconn_close(&other);
    hconn_close(&a);
}

static void test_key_list_has_no_secrets(void **st)
{
    (void)st;
    char k[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    struct hconn a;
    struct hframe f;
    afx_admin_conn(&a);
    afx_key_add(&a, "listed", "auditor", NULL, k, id);
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_LIST, NULL, &f), HITLQ_ST_OK);
    /* the secret part of neither key appears anywhere in the reply */
    assert_null(memmem(f.raw, f.body_len, k + 23, AFX_KEY_LEN - 23));
    assert_null(memmem(f.raw, f.body_len, afx_admin_key + 23, AFX_KEY_LEN - 23));
    assert_null(memmem(f.raw, f.body_len, "hitlq_", 6));
    const msgpack_object *keys = hframe_get(&f, "keys");
    assert_non_null(keys);
    assert_true(keys->via.array.size >= 2);
    static const char *const allowed[] = { "principal", "role", "skills", "key_id",
                                           "created_ms", "revoked", "kind" };
    bool found = false;
    for (uint32_t i = 0; i < keys->via.array.size; i++) {
        const msgpack_object *e = &keys->via.array.ptr[i];
        assert_int_equal(e->via.map.size, 7);
        for (uint32_t j = 0; j < e->via.map.size; j++) {
            bool ok = false;
            for (size_t n = 0; n < 7; n++)
                ok |= hobj_str_eq(&e->via.map.ptr[j].key, allowed[n]);
            assert_true(ok);
            if (hobj_str_eq(&e->via.map.ptr[j].key, "key_id") &&
                hobj_str_eq(&e->via.map.ptr[j].val, id))
                found = true;
        }
    }
    assert_true(found);
    const msgpack_object *tr = hframe_get(&f, "truncated");
    assert_true(tr != NULL && tr->type == MSGPACK_OBJECT_BOOLEAN && !tr->via.boolean);
    hframe_free(&f);
    hconn_close(&a);
}

/* KEY_ADD and KEY_REVOKE leave KEY_EVENT entries (KEY_INFO role 3 actor),
 * and so does the first admin key made at the first start. */
static void test_key_events_audited(void **st)
{
    (void)st;
    char k[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1], ka[AFX_KEY_LEN + 1], ida[AFX_ID_LEN + 1];
    struct hconn a, au;
    afx_admin_conn(&a);
    afx_key_add(&a, "audited-bot", "bot", NULL, k, id);
    afx_key_add(&a, "audited-auditor", "auditor", NULL, ka, ida);
    struct afx_body b;
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", id);
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    afx_open_as(&au, ka, "auditor");
    struct record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    int add = 0, revoke = 0, boot = 0;
    for (uint64_t start = 0;;) {
        struct hframe f;
        afx_body_init(&b, 2);
        hpk_kv_u64(&b.pk, "start", start);
        hpk_kv_u64(&b.pk, "count", 1024);
        assert_int_equal(afx_call(&au, HITLQ_OP_AUDIT_ENTRIES, &b.sb, &f), HITLQ_ST_OK);
        afx_body_free(&b);
        const msgpack_object *es = hframe_get(&f, "entries");
        uint32_t n = es->via.array.size;
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object_bin *e = &es->via.array.ptr[i].via.bin;
            assert_int_equal(record_decode((const uint8_t *)e->ptr, e->size, r), RECORD_OK);
            if (r->record_type != RECORD_KEY_EVENT)
                continue;
            for (uint16_t x = 0; x < r->ext_count; x++) {
                const struct record_ext *ex = &r->ext[x];
                if (ex->type == RECORD_EXT_KEY_INFO && ex->data[1] == 1 &&
                    memmem(ex->data, ex->len, afx_admin_key + 6, AFX_ID_LEN) != NULL)
                    boot++;            /* the first admin key, made by hitlqd */
                if (ex->type != RECORD_EXT_KEY_INFO || ex->data[0] != 3 ||
                    memmem(ex->data, ex->len, id, AFX_ID_LEN) == NULL)
                    continue;
                assert_int_equal(r->actor_id.len, 5);
                assert_memory_equal(r->actor_id.data, "admin", 5);
                add += ex->data[1] == 1;
                revoke += ex->data[1] == 3;
            }
        }
        hframe_free(&f);
        if (n < 1024)                  /* the whole log (small) in one reply */
            break;
        start += n;
    }
    free(r);
    assert_int_equal(add, 1);
    assert_int_equal(revoke, 1);
    assert_int_equal(boot, 1);
    hconn_close(&au);
    hconn_close(&a);
}

/* ---- the CLI --------------------------------------------------------------- */

static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -p %u --api-key %s %s 2>/dev/null", HARNESS_CLI,
             (unsigned)afx_srv.port, afx_admin_key, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    return pclose(p);
}

static void test_cli_key_commands(void **st)
{
    (void)st;
    char out[8192], id[AFX_ID_LEN + 1], cmd[64];
    assert_int_equal(run_cli("key add cli-spec specialist --skills q1,q2", out, sizeof out), 0);
    assert_int_equal(strlen(out), AFX_KEY_LEN + 1);
    assert_memory_equal(out, "hitlq_", 6);
    memcpy(id, out + 6, AFX_ID_LEN);
    id[AFX_ID_LEN] = '\0';
    out[AFX_KEY_LEN] = '\0';
    struct hconn c;
    afx_open_as(&c, out, "specialist");
    assert_int_equal(afx_claim(&c, "q2", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(afx_claim(&c, "q3", NULL), HITLQ_ST_FORBIDDEN);
    assert_int_equal(run_cli("key list cli-spec", out, sizeof out), 0);
    assert_non_null(strstr(out, id));
    assert_non_null(strstr(out, "specialist"));
    assert_null(strstr(out, "revoked"));
    assert_int_equal(run_cli("--json key list", out, sizeof out), 0);
    assert_non_null(strstr(out, "\"principal\":\"cli-spec\""));
    snprintf(cmd, sizeof cmd, "key revoke %s", id);
    assert_int_equal(run_cli(cmd, out, sizeof out), 0);
    assert_true(hconn_expect_closed(&c, 1000, NULL));
    hconn_close(&c);
    assert_int_equal(run_cli("key list cli-spec", out, sizeof out), 0);
    assert_non_null(strstr(out, "revoked"));
    /* a bad role is the server's bad_request: exit 1 */
    assert_int_not_equal(run_cli("key add x superuser", out, sizeof out), 0);
}

/* ---- rate limiting (last: it blocks this address for 10 s) ----------------- */

/* 5 failures, a success, 5 failures from one address: the success forgets
 * none of them, so the last failure is the 6th within 10 s and blocks the
 * address (its own: 127.0.0.3, not the other tests'). */
static void test_success_forgets_no_failure(void **st)
{
    (void)st;
    const char *src = "127.0.0.3";
    for (unsigned i = 0; i < AUTH_FAIL_MAX; i++)
        assert_int_equal(hello_from(src, "hitlq_wrong", NULL, 0), HITLQ_ST_UNAUTHORIZED);
    assert_int_equal(hello_from(src, afx_admin_key, NULL, 0), HITLQ_ST_OK);
    for (unsigned i = 0; i < AUTH_FAIL_MAX; i++)
        assert_int_equal(hello_from(src, "hitlq_wrong", NULL, 0), HITLQ_ST_UNAUTHORIZED);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hello_from(src, afx_admin_key, NULL, 0), HITLQ_ST_UNAUTHORIZED);   /* blocked */
    assert_true(harness_now_ms() - t0 >= AUTH_BLOCK_DELAY_MS - 10);
    /* the other addresses are not */
    assert_int_equal(hello_from("127.0.0.4", afx_admin_key, NULL, 0), HITLQ_ST_OK);
}

static void test_rate_limit(void **st)
{
    (void)st;
    struct hconn c;
    struct hframe f;
    for (unsigned i = 0; i < AUTH_FAIL_MAX + 1; i++) {
        assert_int_equal(afx_hello(&c, afx_srv.port, "hitlq_wrong", &f), HITLQ_ST_UNAUTHORIZED);
        hframe_free(&f);
        hconn_close(&c);
    }
    /* now even the right key is refused, unchecked and late */
    uint64_t t0 = harness_now_ms();
    assert_int_equal(afx_hello(&c, afx_srv.port, afx_admin_key, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(harness_now_ms() - t0 >= AUTH_BLOCK_DELAY_MS - 10);
    char msg[128];
    hobj_str(hframe_get(&f, "message"), msg, sizeof msg);
    assert_non_null(strstr(msg, "too many"));
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    hconn_close(&c);
    /* the block ends */
    harness_sleep_ms(AUTH_BLOCK_MS + 200);
    afx_admin_conn(&c);
    hconn_close(&c);
}

/* ---- auth = 0: as before --------------------------------------------------- */

static void test_auth_off(void **st)
{
    (void)st;
    struct hserver s0;
    assert_true(harness_server_start(&s0, "auth = 0\n") > 0);
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/admin.key", s0.data);
    assert_int_not_equal(stat(path, &sb), 0);              /* no bootstrap key */
    struct hconn c;
    struct hframe f;
    assert_int_equal(afx_hello(&c, s0.port, NULL, &f), HITLQ_ST_OK);
    assert_true(hobj_str_eq(hframe_get(&f, "role"), "local"));
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), "spoofed-name"));
    hframe_free(&f);
    uint64_t id;
    assert_int_equal(afx_submit(&c, "off-1", &id), HITLQ_ST_OK);
    struct afx_body b;
    afx_body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", id);
    assert_int_equal(afx_call(&c, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    assert_int_equal(afx_claim(&c, "credit_review", "anyone"), HITLQ_ST_OK);
    assert_int_equal(afx_call(&c, HITLQ_OP_STATS, NULL, NULL), HITLQ_ST_OK);
    assert_int_equal(afx_call(&c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, NULL), HITLQ_ST_OK);
    /* keys can be prepared before auth is switched on */
    afx_body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "prepared");
    hpk_kv_str(&b.pk, "role", "bot");
    assert_int_equal(afx_call(&c, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    hconn_close(&c);
    assert_int_equal(harness_server_stop(&s0), 0);
    harness_server_cleanup(&s0);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_auth_off),
    };
    const struct CMUnitTest e2e[] = {
        cmocka_unit_test(test_bootstrap_admin),
        cmocka_unit_test(test_unauthenticated_refused),
        cmocka_unit_test(test_same_error),
        cmocka_unit_test(test_key_add_each_role),
        cmocka_unit_test(test_revoke_closes_live_connections),
        cmocka_unit_test(test_key_list_has_no_secrets),
        cmocka_unit_test(test_key_events_audited),
        cmocka_unit_test(test_cli_key_commands),
        cmocka_unit_test(test_success_forgets_no_failure),
        cmocka_unit_test(test_rate_limit),
    };
    int rc = cmocka_run_group_tests_name("auth_keys_unit", unit, NULL, NULL);
    return rc | cmocka_run_group_tests_name("auth_keys_e2e", e2e, afx_setup, afx_teardown);
}
