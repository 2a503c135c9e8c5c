/*
 * test_auth_roles.c - authorization against a real hitlqd with `auth = 1`
 * (PROTOCOL.md §3.1; tests/lib/auth_fixture.h: one server for the group):
 * every cell of the role x operation matrix, and the object-level rules (a
 * bot's GET and WATCH see its own items only, a specialist claims only in
 * its skills).  Plus the unit check that every opcode has an explicit row
 * in the authorization table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_fixture.h"
#include "authz.h"
#include "hitlq.h"
#include "hitlq_proto.h"
#include "wire.h"

/* ---- unit: the table ------------------------------------------------------- */

static void test_authz_table_rows(void **st)
{
    (void)st;
    static const uint8_t ops[] = {
#define X(name, val, desc) (val),
        HITLQ_OPCODES(X)
#undef X
    };
    for (size_t i = 0; i < sizeof ops; i++) {
        if (!authz_has_row(ops[i]))
            fail_msg("opcode 0x%02x (%s) has no row in authz.c", ops[i], hitlq_op_name(ops[i]));
        /* auth off: everything with a command */
        assert_true(authz_allowed(AUTH_ROLE_LOCAL, ops[i]) == (ops[i] != HITLQ_OP_RESULT));
        /* nobody sends the server push */
        for (unsigned r = AUTH_ROLE_NONE; r <= AUTH_ROLE_ADMIN && ops[i] == HITLQ_OP_RESULT; r++)
            assert_false(authz_allowed(r, ops[i]));
    }
    /* deny by default: no row, nobody */
    for (unsigned op = 0; op < 256; op++) {
        if (authz_has_row((uint8_t)op))
            continue;
        for (unsigned r = 0; r < AUTH_N_ROLES; r++)
            assert_false(authz_allowed(r, (uint8_t)op));
    }
    /* before HELLO only HELLO and PING */
    assert_true(authz_allowed(AUTH_ROLE_NONE, HITLQ_OP_HELLO));
    assert_true(authz_allowed(AUTH_ROLE_NONE, HITLQ_OP_PING));
    assert_false(authz_allowed(AUTH_ROLE_NONE, HITLQ_OP_SUBMIT));
    assert_false(authz_allowed(AUTH_N_ROLES, HITLQ_OP_PING));
}

/* ---- the matrix ------------------------------------------------------------ */

/* Expected: bot, specialist, auditor, admin (PROTOCOL.md §3.1). */
static bool expect_allowed(uint8_t op, int role)
{
    static const struct { uint8_t op; bool allow[4]; } m[] = {
        { HITLQ_OP_HELLO,             { 1, 1, 1, 1 } },
        { HITLQ_OP_PING,              { 1, 1, 1, 1 } },
        { HITLQ_OP_AUTH,              { 1, 1, 1, 1 } },  /* then bad_request: once only */
        { HITLQ_OP_SUBMIT,            { 1, 0, 0, 0 } },
        { HITLQ_OP_GET,               { 1, 1, 1, 1 } },
        { HITLQ_OP_STATS,             { 0, 1, 0, 1 } },
        { HITLQ_OP_CLAIM,             { 0, 1, 0, 0 } },
        { HITLQ_OP_EXTEND,            { 0, 1, 0, 0 } },
        { HITLQ_OP_RELEASE,           { 0, 1, 0, 0 } },
        { HITLQ_OP_RESOLVE,           { 0, 1, 0, 0 } },
        { HITLQ_OP_ESCALATE,          { 0, 1, 0, 0 } },
        { HITLQ_OP_WATCH,             { 1, 0, 0, 1 } },
        { HITLQ_OP_RESULT,            { 0, 0, 0, 0 } },
        { HITLQ_OP_AUDIT_CHECKPOINT,  { 1, 0, 1, 1 } },
        { HITLQ_OP_AUDIT_ENTRIES,     { 0, 0, 1, 0 } },
        { HITLQ_OP_AUDIT_PROVE,       { 0, 0, 1, 0 } },
        { HITLQ_OP_AUDIT_CONSISTENCY, { 0, 0, 1, 0 } },
        { HITLQ_OP_DRIFT_INPUTS,      { 0, 0, 1, 1 } },
        { HITLQ_OP_DRIFT_REVIEW,      { 0, 0, 1, 1 } },
        { HITLQ_OP_RELOAD,            { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_ADD,           { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_LIST,          { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_REVOKE,        { 0, 0, 0, 1 } },
        { HITLQ_OP_GET_BY_KEY,        { 1, 1, 1, 1 } },
        { HITLQ_OP_LIST,              { 0, 1, 1, 1 } },
        { HITLQ_OP_CLAIM_ID,          { 0, 1, 0, 0 } },
        { HITLQ_OP_COMMENT,           { 0, 1, 0, 1 } },
        /* the table admits specialists with the skill "senior" only; the
         * matrix principals have no skills (cmd_work.c, §3.3 note 6) */
        { HITLQ_OP_REOPEN,            { 0, 0, 0, 1 } },
        { HITLQ_OP_AMEND,             { 0, 0, 0, 1 } },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i].op == op)
            return m[i].allow[role];
    fail_msg("opcode 0x%02x has no expectation in test_auth_roles.c: add its row", op);
    return false;
}

/* A minimal valid request for op (the test fails for an opcode it does not
 * know, so a new opcode must be added here and to the table). */
static void matrix_body(uint8_t op, int role, uint64_t item, struct afx_body *b)
{
    char key[64];
    switch (op) {
    case HITLQ_OP_HELLO:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "version", 1);
        break;
    case HITLQ_OP_PING: case HITLQ_OP_STATS: case HITLQ_OP_AUDIT_CHECKPOINT:
    case HITLQ_OP_RELOAD: case HITLQ_OP_KEY_LIST: case HITLQ_OP_RESULT:
        afx_body_init(b, 0);
        break;
    case HITLQ_OP_SUBMIT:
        snprintf(key, sizeof key, "matrix-%d", role);
        afx_body_init(b, 3);
        hpk_kv_str(&b->pk, "key", key);
        hpk_kv_str(&b->pk, "type", "credit_application");
        hpk_str(&b->pk, "fields");
        msgpack_pack_map(&b->pk, 1);
        hpk_kv_u64(&b->pk, "amount", 1000);
        break;
    case HITLQ_OP_GET:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "id", item);
        break;
    case HITLQ_OP_CLAIM:
        afx_body_init(b, 1);
        hpk_str(&b->pk, "queues");
        msgpack_pack_array(&b->pk, 1);
        hpk_str(&b->pk, "matrix_empty_queue");
        break;
    case HITLQ_OP_EXTEND: case HITLQ_OP_RELEASE:
        afx_body_init(b, 2);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        break;
    case HITLQ_OP_RESOLVE:
        afx_body_init(b, 3);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        hpk_kv_str(&b->pk, "outcome", "approve");
        break;
    case HITLQ_OP_ESCALATE:
        afx_body_init(b, 3);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        hpk_kv_str(&b->pk, "queue", "senior");
        break;
    case HITLQ_OP_WATCH:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "cursor", 0);
        break;
    case HITLQ_OP_AUDIT_ENTRIES:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "start", 0);
        break;
    case HITLQ_OP_AUDIT_PROVE:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "index", 0);
        break;
    case HITLQ_OP_AUDIT_CONSISTENCY:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "size1", 1);
        break;
    case HITLQ_OP_DRIFT_INPUTS:
    case HITLQ_OP_DRIFT_REVIEW:
        afx_body_init(b, 1);
        hpk_kv_str(&b->pk, "type", "credit_application");
        break;
    case HITLQ_OP_KEY_ADD:
        snprintf(key, sizeof key, "matrix-made-%d", role);
        afx_body_init(b, 2);
        hpk_kv_str(&b->pk, "principal", key);
        hpk_kv_str(&b->pk, "role", "auditor");
        break;
    case HITLQ_OP_KEY_REVOKE:
        afx_body_init(b, 1);
        hpk_kv_str(&b->pk, "key_id", "0000000000000000");
        break;
    case HITLQ_OP_AUTH: {
        static const uint8_t sig[64];
        afx_body_init(b, 3);
        hpk_kv_str(&b->pk, "key_id", "0000000000000000");
        hpk_kv_str(&b->pk, "role", "bot");
        hpk_str(&b->pk, "signature");
        msgpack_pack_bin(&b->pk, sizeof sig);
        msgpack_pack_bin_body(&b->pk, sig, sizeof sig);
        break;
    }
    case HITLQ_OP_GET_BY_KEY:
        snprintf(key, sizeof key, "matrix-%d", role);      /* the bot's own */
        afx_body_init(b, 1);
        hpk_kv_str(&b->pk, "key", key);
        break;
    case HITLQ_OP_LIST:
        afx_body_init(b, 1);
        hpk_kv_str(&b->pk, "queue", "matrix_empty_queue");
        break;
    case HITLQ_OP_CLAIM_ID:
        afx_body_init(b, 1);
        hpk_kv_u64(&b->pk, "id", 999999);                  /* not_found when allowed */
        break;
    case HITLQ_OP_COMMENT: case HITLQ_OP_REOPEN: case HITLQ_OP_AMEND:
        afx_body_init(b, op == HITLQ_OP_AMEND ? 3 : 2);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_str(&b->pk, "note", "matrix");
        if (op == HITLQ_OP_AMEND)
            hpk_kv_str(&b->pk, "outcome", "approve");
        break;
    default:
        fail_msg("opcode 0x%02x: no request in matrix_body: add one", op);
    }
}

static void test_matrix_every_cell(void **st)
{
    (void)st;
    static const char *const roles[] = { "bot", "specialist", "auditor", "admin" };
    static const uint8_t ops[] = {
#define X(name, val, desc) (val),
        HITLQ_OPCODES(X)
#undef X
    };
    struct hconn a;
    afx_admin_conn(&a);
    int cells = 0;
    for (int r = 0; r < 4; r++) {
        char key[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1], name[32];
        struct hconn c;
        uint64_t item = 1;
        snprintf(name, sizeof name, "matrix-%s", roles[r]);
        afx_key_add(&a, name, roles[r], NULL, key, id);
        afx_open_as(&c, key, roles[r]);
        for (size_t i = 0; i < sizeof ops; i++) {
            struct afx_body b;
            struct hframe f;
            matrix_body(ops[i], r, item, &b);
            int status = afx_call(&c, ops[i], &b.sb, &f);
            afx_body_free(&b);
            if (ops[i] == HITLQ_OP_SUBMIT && status == HITLQ_ST_OK)
                item = hobj_u64(hframe_get(&f, "id"));     /* the bot GETs its own */
            bool allowed = expect_allowed(ops[i], r);
            if (ops[i] == HITLQ_OP_RESULT) {
                assert_int_equal(status, HITLQ_ST_UNKNOWN_OP);   /* push only */
            } else if (allowed && status == HITLQ_ST_FORBIDDEN) {
                fail_msg("%s may %s, got forbidden", roles[r], hitlq_op_name(ops[i]));
            } else if (!allowed) {
                if (status != HITLQ_ST_FORBIDDEN)
                    fail_msg("%s may not %s, got status %d", roles[r], hitlq_op_name(ops[i]),
                             status);
                char msg[200];
                hobj_str(hframe_get(&f, "message"), msg, sizeof msg);
                assert_non_null(strstr(msg, roles[r]));          /* names role and op */
                assert_non_null(strstr(msg, hitlq_op_name(ops[i])));
            }
            if (ops[i] == HITLQ_OP_SUBMIT && allowed)
                assert_int_equal(status, HITLQ_ST_OK);
            hframe_free(&f);
            cells++;
            /* forbidden is not fatal: the connection stays usable */
            assert_int_equal(hconn_ping(&c, 900 + (uint32_t)i), HITLQ_ST_OK);
        }
        hconn_close(&c);
    }
    assert_int_equal(cells, 4 * (int)sizeof ops);
    hconn_close(&a);
}

/* ---- object-level rules ---------------------------------------------------- */

static void test_bot_reads_only_own_items(void **st)
{
    (void)st;
    char k1[AFX_KEY_LEN + 1], k2[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    struct hconn a, b1, b2;
    uint64_t i1, i2;
    afx_admin_conn(&a);
    afx_key_add(&a, "own-bot-1", "bot", NULL, k1, id);
    afx_key_add(&a, "own-bot-2", "bot", NULL, k2, id);
    afx_open_as(&b1, k1, "bot");
    afx_open_as(&b2, k2, "bot");
    assert_int_equal(afx_submit(&b1, "own-1", &i1), HITLQ_ST_OK);
    assert_int_equal(afx_submit(&b2, "own-2", &i2), HITLQ_ST_OK);
    struct afx_body b;
    struct hframe f;
    afx_body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", i1);
    assert_int_equal(afx_call(&b1, HITLQ_OP_GET, &b.sb, &f), HITLQ_ST_OK);
    /* the submitter recorded is the principal, not the HELLO name */
    char actor[64] = "";
    const msgpack_object *h = hframe_get(&f, "history");
    assert_non_null(h);
    for (uint32_t i = 0; i < h->via.array.size; i++) {
        const msgpack_object *e = &h->via.array.ptr[i];
        for (uint32_t j = 0; j < e->via.map.size; j++)
            if (hobj_str_eq(&e->via.map.ptr[j].key, "actor") && actor[0] == '\0')
                hobj_str(&e->via.map.ptr[j].val, actor, sizeof actor);
    }
    assert_string_equal(actor, "own-bot-1");
    hframe_free(&f);
    assert_int_equal(afx_call(&b2, HITLQ_OP_GET, &b.sb, &f), HITLQ_ST_FORBIDDEN);
    hframe_free(&f);
    afx_body_free(&b);
    /* the admin reads any item */
    afx_body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", i2);
    assert_int_equal(afx_call(&a, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_OK);
    assert_int_equal(afx_call(&b1, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_FORBIDDEN);
    afx_body_free(&b);
    hconn_close(&b1);
    hconn_close(&b2);
    hconn_close(&a);
}

/* Claims the next item from credit_review as c and resolves it
 * "approve"; false when the queue is empty. */
static bool claim_resolve(struct hconn *c)
{
    struct afx_body b;
    struct hframe f;
    uint64_t id, lease;
    int st;

    afx_body_init(&b, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    st = afx_call(c, HITLQ_OP_CLAIM, &b.sb, &f);
    afx_body_free(&b);
    if (st != HITLQ_ST_OK) {
        hframe_free(&f);
        return false;
    }
    id = hobj_u64(hframe_get(&f, "id"));
    lease = hobj_u64(hframe_get(&f, "lease"));
    hframe_free(&f);
    afx_body_init(&b, 3);
    hpk_kv_u64(&b.pk, "id", id);
    hpk_kv_u64(&b.pk, "lease", lease);
    hpk_kv_str(&b.pk, "outcome", "approve");
    assert_int_equal(afx_call(c, HITLQ_OP_RESOLVE, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    return true;
}

/* WATCH from cursor 1 on c: the ids of the RESULT frames pushed within
 * 500 ms (up to max). */
static size_t watch_ids(struct hconn *c, uint64_t *ids, size_t max)
{
    struct afx_body b;
    struct hframe f;
    size_t n = 0;

    afx_body_init(&b, 1);
    hpk_kv_u64(&b.pk, "cursor", 1);
    assert_int_equal(afx_call(c, HITLQ_OP_WATCH, &b.sb, NULL), HITLQ_ST_OK);
    afx_body_free(&b);
    while (n < max && hconn_read_frame(c, &f, 500) == 1) {
        if (f.opcode == HITLQ_OP_RESULT)
            ids[n++] = hobj_u64(hframe_get(&f, "id"));
        hframe_free(&f);
    }
    return n;
}

/* The object-level rule on the result stream: a bot that WATCHes sees the
 * results of its own items only; the admin sees all. */
static void test_bot_watches_only_own_results(void **st)
{
    (void)st;
    char k1[AFX_KEY_LEN + 1], k2[AFX_KEY_LEN + 1], ks[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    struct hconn a, b1, b2, sp, w1, w2;
    uint64_t i1, i2, got[16];
    size_t n;

    afx_admin_conn(&a);
    afx_key_add(&a, "watch-bot-1", "bot", NULL, k1, id);
    afx_key_add(&a, "watch-bot-2", "bot", NULL, k2, id);
    afx_key_add(&a, "watch-spec", "specialist", NULL, ks, id);
    afx_open_as(&b1, k1, "bot");
    afx_open_as(&b2, k2, "bot");
    afx_open_as(&sp, ks, "specialist");
    assert_int_equal(afx_submit(&b1, "watch-1", &i1), HITLQ_ST_OK);
    assert_int_equal(afx_submit(&b2, "watch-2", &i2), HITLQ_ST_OK);
    /* resolve everything on credit_review (earlier tests may have left items) */
    for (int k = 0; k < 256 && claim_resolve(&sp); k++)
        ;
    afx_open_as(&w1, k1, "bot");
    afx_open_as(&w2, k2, "bot");
    n = watch_ids(&w1, got, 16);
    assert_true(n >= 1);
    bool saw = false;
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i] != i2);
        saw |= got[i] == i1;
    }
    assert_true(saw);
    n = watch_ids(&w2, got, 16);
    saw = false;
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i] != i1);
        saw |= got[i] == i2;
    }
    assert_true(saw);
    hconn_close(&w1);
    hconn_close(&w2);
    hconn_close(&sp);
    hconn_close(&b1);
    hconn_close(&b2);
    hconn_close(&a);
}

static void test_specialist_skills(void **st)
{
    (void)st;
    char k[AFX_KEY_LEN + 1], kany[AFX_KEY_LEN + 1], id[AFX_ID_LEN + 1];
    struct hconn a, s, s_any;
    afx_admin_conn(&a);
    afx_key_add(&a, "skilled", "specialist", "q1", k, id);
    afx_key_add(&a, "generalist", "specialist", NULL, kany, id);
    afx_open_as(&s, k, "specialist");
    afx_open_as(&s_any, kany, "specialist");
    assert_int_equal(afx_claim(&s, "q2", NULL), HITLQ_ST_FORBIDDEN);
    assert_int_equal(afx_claim(&s, "q1", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(afx_claim(&s_any, "q2", NULL), HITLQ_ST_EMPTY);
    /* the worker recorded is the principal: another name is refused */
    assert_int_equal(afx_claim(&s, "q1", "someone-else"), HITLQ_ST_FORBIDDEN);
    assert_int_equal(afx_claim(&s, "q1", "skilled"), HITLQ_ST_EMPTY);
    /* KEY_LIST shows the skills */
    struct afx_body b;
    struct hframe f;
    afx_body_init(&b, 1);
    hpk_kv_str(&b.pk, "principal", "skilled");
    assert_int_equal(afx_call(&a, HITLQ_OP_KEY_LIST, &b.sb, &f), HITLQ_ST_OK);
    afx_body_free(&b);
    const msgpack_object *keys = hframe_get(&f, "keys");
    assert_int_equal(keys->via.array.size, 1);
    const msgpack_object *e = &keys->via.array.ptr[0], *sk = NULL;
    for (uint32_t j = 0; j < e->via.map.size; j++)
        if (hobj_str_eq(&e->via.map.ptr[j].key, "skills"))
            sk = &e->via.map.ptr[j].val;
    assert_non_null(sk);
    assert_int_equal(sk->via.array.size, 1);
    assert_true(hobj_str_eq(&sk->via.array.ptr[0], "q1"));
    hframe_free(&f);
    /* new skills reach the open connection at once */
    char k2[AFX_KEY_LEN + 1];
    afx_key_add(&a, "skilled", "specialist", "q2", k2, id);
    assert_int_equal(afx_claim(&s, "q2", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(afx_claim(&s, "q1", NULL), HITLQ_ST_FORBIDDEN);
    hconn_close(&s);
    hconn_close(&s_any);
    hconn_close(&a);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_authz_table_rows),
    };
    const struct CMUnitTest e2e[] = {
        cmocka_unit_test(test_matrix_every_cell),
        cmocka_unit_test(test_bot_reads_only_own_items),
        cmocka_unit_test(test_bot_watches_only_own_results),
        cmocka_unit_test(test_specialist_skills),
    };
    int rc = cmocka_run_group_tests_name("auth_roles_unit", unit, NULL, NULL);
    return rc | cmocka_run_group_tests_name("auth_roles_e2e", e2e, afx_setup, afx_teardown);
}
