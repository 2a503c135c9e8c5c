/*
 * test_auth.c - authentication and authorization (PROTOCOL.md §3.1,
 * docs/RELIABILITY.md §2.9) against a real hitlqd with `auth = 1`: the first
 * admin key, refused and rate-limited HELLOs, KEY_ADD/LIST/REVOKE (also
 * through the CLI), every cell of the role x operation matrix, the
 * object-level rules (a bot's GET, a specialist's skills), revocation of
 * live connections, the KEY_EVENT audit entries; and with `auth = 0`
 * everything as before.  Plus the unit check that every opcode has an
 * explicit row in the authorization table.
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
#include "authz.h"
#include "harness.h"
#include "hitlq.h"
#include "hitlq_proto.h"
#include "record.h"
#include "wire.h"

#define KEY_LEN 66
#define ID_LEN  16

static struct hserver S;            /* auth = 1 */
static char ADMIN_KEY[KEY_LEN + 1];
static uint32_t REQ = 100;

/* ---- helpers ------------------------------------------------------------------ */

static void read_admin_key(void)
{
    char path[256], buf[128] = "";
    struct stat st;
    snprintf(path, sizeof path, "%s/admin.key", S.data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_int_equal(strlen(buf), KEY_LEN + 1);
    assert_int_equal(buf[KEY_LEN], '\n');
    memcpy(ADMIN_KEY, buf, KEY_LEN);
    ADMIN_KEY[KEY_LEN] = '\0';
    assert_memory_equal(ADMIN_KEY, "hitlq_", 6);
}

static int srv_setup(void **st)
{
    (void)st;
    if (harness_server_start(&S, "auth = 1\n") < 0)
        return -1;
    read_admin_key();
    return 0;
}

static int srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    return rc;
}

/* Sends HELLO {version, api_key?} on a new connection; *f gets the reply.
 * Returns its status, or -1 on I/O error. */
static int hello_key(struct hconn *c, uint16_t port, const char *key, struct hframe *f)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    assert_int_equal(hconn_open(c, port), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, key ? 3 : 2);
    hpk_kv_u64(&pk, "version", 1);
    hpk_kv_str(&pk, "name", "spoofed-name");
    if (key)
        hpk_kv_str(&pk, "api_key", key);
    int r = hconn_call(c, HITLQ_OP_HELLO, 1, sb.data, sb.size, f, 5000);
    msgpack_sbuffer_destroy(&sb);
    return r == 1 ? f->status : -1;
}

/* Opens an authenticated connection; fails the test unless HELLO is ok. */
static void open_as(struct hconn *c, const char *key, const char *want_role)
{
    struct hframe f;
    int st = hello_key(c, S.port, key, &f);
    if (st != HITLQ_ST_OK)
        fail_msg("HELLO refused: status %d", st);
    if (want_role != NULL)
        assert_true(hobj_str_eq(hframe_get(&f, "role"), want_role));
    hframe_free(&f);
}

/* One request with a packed body; returns the status (reply freed unless
 * keep != NULL). */
static int call(struct hconn *c, uint8_t op, const msgpack_sbuffer *body, struct hframe *keep)
{
    struct hframe f;
    int r;
    if (op == HITLQ_OP_RESULT) {       /* hconn_call skips RESULT frames: match by id */
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        hframe_append(&sb, op, ++REQ, body ? body->data : NULL, body ? body->size : 0);
        r = hconn_send(c, sb.data, sb.size, 5000) == 0 ? 1 : 0;
        msgpack_sbuffer_destroy(&sb);
        while (r == 1 && (r = hconn_read_frame(c, &f, 10000)) == 1 && f.request_id != REQ)
            hframe_free(&f);
    } else {
        r = hconn_call(c, op, ++REQ, body ? body->data : NULL, body ? body->size : 0, &f,
                       10000);
    }
    if (r != 1)
        fail_msg("opcode 0x%02x: no reply (%d)", op, r);
    int st = f.status;
    if (keep)
        *keep = f;
    else
        hframe_free(&f);
    return st;
}

struct body {
    msgpack_sbuffer sb;
    msgpack_packer  pk;
};

static void body_init(struct body *b, uint32_t n)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&b->pk, n);
}

static void body_free(struct body *b)
{
    msgpack_sbuffer_destroy(&b->sb);
}

/* KEY_ADD through connection admin; copies the key and its id. */
static void key_add(struct hconn *admin, const char *principal, const char *role,
                    const char *skill, char key[KEY_LEN + 1], char id[ID_LEN + 1])
{
    struct body b;
    struct hframe f;
    body_init(&b, skill ? 3 : 2);
    hpk_kv_str(&b.pk, "principal", principal);
    hpk_kv_str(&b.pk, "role", role);
    if (skill) {
        hpk_str(&b.pk, "skills");
        msgpack_pack_array(&b.pk, 1);
        hpk_str(&b.pk, skill);
    }
    int st = call(admin, HITLQ_OP_KEY_ADD, &b.sb, &f);
    body_free(&b);
    if (st != HITLQ_ST_OK)
        fail_msg("KEY_ADD %s: status %d", principal, st);
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), principal));
    hobj_str(hframe_get(&f, "api_key"), key, KEY_LEN + 1);
    hobj_str(hframe_get(&f, "key_id"), id, ID_LEN + 1);
    assert_int_equal(strlen(key), KEY_LEN);
    assert_int_equal(strlen(id), ID_LEN);
    assert_memory_equal(key + 6, id, ID_LEN);
    hframe_free(&f);
}

static void admin_conn(struct hconn *c)
{
    open_as(c, ADMIN_KEY, "admin");
}

/* SUBMIT {key, type, fields: {amount}} on c; returns the status, id in *id. */
static int submit(struct hconn *c, const char *key, uint64_t *id)
{
    struct body b;
    struct hframe f;
    body_init(&b, 3);
    hpk_kv_str(&b.pk, "key", key);
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "amount", 1000);
    int st = call(c, HITLQ_OP_SUBMIT, &b.sb, &f);
    body_free(&b);
    if (id)
        *id = hobj_u64(hframe_get(&f, "id"));
    hframe_free(&f);
    return st;
}

/* ---- unit: the table ---------------------------------------------------------- */

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

/* ---- bootstrap, refusals ---------------------------------------------------------- */

static void test_bootstrap_admin(void **st)
{
    (void)st;
    struct hconn c;
    struct hframe f;
    assert_int_equal(hello_key(&c, S.port, ADMIN_KEY, &f), HITLQ_ST_OK);
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
    assert_int_equal(hello_key(&c, S.port, NULL, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(hframe_code_is(&f, "unauthorized"));
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    hconn_close(&c);
    /* nothing else is accepted before HELLO either */
    assert_int_equal(hconn_open(&c, S.port), 0);
    assert_int_equal(hconn_ping(&c, 3), HITLQ_ST_NEED_HELLO);
    hconn_close(&c);
    /* and the client library reports it */
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = "x", .timeout_ms = 5000 };
    hitlq *h = hitlq_connect(&o);
    assert_int_equal(hitlq_err(h), HITLQ_ST_UNAUTHORIZED);
    hitlq_free(h);
    o.api_key = ADMIN_KEY;
    h = hitlq_connect(&o);
    assert_int_equal(hitlq_err(h), HITLQ_OK);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_key_list(h, NULL, &r), HITLQ_OK);
    hitlq_reply_free(r);
    hitlq_free(h);
}

/* Wrong secret, unknown key id, malformed: one status, one message. */
static void test_same_error(void **st)
{
    (void)st;
    char wrong[KEY_LEN + 1], unknown[KEY_LEN + 1], msg[3][128];
    const char *keys[3] = { wrong, unknown, "hitlq_nothex_x" };
    memcpy(wrong, ADMIN_KEY, sizeof wrong);
    wrong[KEY_LEN - 5] = wrong[KEY_LEN - 5] == 'A' ? 'B' : 'A';     /* secret changed */
    memcpy(unknown, ADMIN_KEY, sizeof unknown);
    unknown[6] = unknown[6] == 'a' ? 'b' : 'a';                     /* key id changed */
    for (int i = 0; i < 3; i++) {
        struct hconn c;
        struct hframe f;
        assert_int_equal(hello_key(&c, S.port, keys[i], &f), HITLQ_ST_UNAUTHORIZED);
        hobj_str(hframe_get(&f, "message"), msg[i], sizeof msg[i]);
        hframe_free(&f);
        assert_true(hconn_expect_closed(&c, 2000, NULL));
        hconn_close(&c);
    }
    assert_string_equal(msg[0], msg[1]);
    assert_string_equal(msg[0], msg[2]);
    /* a success resets the failure count of this address */
    struct hconn c;
    admin_conn(&c);
    hconn_close(&c);
}

static void test_key_add_each_role(void **st)
{
    (void)st;
    static const char *const roles[] = { "bot", "specialist", "auditor", "admin" };
    struct hconn a;
    admin_conn(&a);
    for (size_t i = 0; i < 4; i++) {
        char key[KEY_LEN + 1], id[ID_LEN + 1], name[32];
        struct hconn c;
        snprintf(name, sizeof name, "each-%s", roles[i]);
        key_add(&a, name, roles[i], NULL, key, id);
        open_as(&c, key, roles[i]);
        hconn_close(&c);
    }
    /* bad role, skills for a non-specialist, role change: refused */
    struct body b;
    body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "x");
    hpk_kv_str(&b.pk, "role", "root");
    assert_int_equal(call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    body_free(&b);
    body_init(&b, 3);
    hpk_kv_str(&b.pk, "principal", "x");
    hpk_kv_str(&b.pk, "role", "bot");
    hpk_str(&b.pk, "skills");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "q1");
    assert_int_equal(call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    body_free(&b);
    body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "each-bot");
    hpk_kv_str(&b.pk, "role", "admin");
    assert_int_equal(call(&a, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_CONFLICT);
    body_free(&b);
    /* a second key for an existing principal, same role: fine */
    char key[KEY_LEN + 1], id[ID_LEN + 1];
    key_add(&a, "each-bot", "bot", NULL, key, id);
    hconn_close(&a);
}

/* ---- the matrix ------------------------------------------------------------------- */

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
        { HITLQ_OP_RELOAD,            { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_ADD,           { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_LIST,          { 0, 0, 0, 1 } },
        { HITLQ_OP_KEY_REVOKE,        { 0, 0, 0, 1 } },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i].op == op)
            return m[i].allow[role];
    fail_msg("opcode 0x%02x has no expectation in test_auth.c: add its row", op);
    return false;
}

/* A minimal valid request for op (the test fails for an opcode it does not
 * know, so a new opcode must be added here and to the table). */
static void matrix_body(uint8_t op, int role, uint64_t item, struct body *b)
{
    char key[64];
    switch (op) {
    case HITLQ_OP_HELLO:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "version", 1);
        break;
    case HITLQ_OP_PING: case HITLQ_OP_STATS: case HITLQ_OP_AUDIT_CHECKPOINT:
    case HITLQ_OP_RELOAD: case HITLQ_OP_KEY_LIST: case HITLQ_OP_RESULT:
        body_init(b, 0);
        break;
    case HITLQ_OP_SUBMIT:
        snprintf(key, sizeof key, "matrix-%d", role);
        body_init(b, 3);
        hpk_kv_str(&b->pk, "key", key);
        hpk_kv_str(&b->pk, "type", "credit_application");
        hpk_str(&b->pk, "fields");
        msgpack_pack_map(&b->pk, 1);
        hpk_kv_u64(&b->pk, "amount", 1000);
        break;
    case HITLQ_OP_GET:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "id", item);
        break;
    case HITLQ_OP_CLAIM:
        body_init(b, 1);
        hpk_str(&b->pk, "queues");
        msgpack_pack_array(&b->pk, 1);
        hpk_str(&b->pk, "matrix_empty_queue");
        break;
    case HITLQ_OP_EXTEND: case HITLQ_OP_RELEASE:
        body_init(b, 2);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        break;
    case HITLQ_OP_RESOLVE:
        body_init(b, 3);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        hpk_kv_str(&b->pk, "outcome", "approve");
        break;
    case HITLQ_OP_ESCALATE:
        body_init(b, 3);
        hpk_kv_u64(&b->pk, "id", item);
        hpk_kv_u64(&b->pk, "lease", 1);
        hpk_kv_str(&b->pk, "queue", "senior");
        break;
    case HITLQ_OP_WATCH:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "cursor", 0);
        break;
    case HITLQ_OP_AUDIT_ENTRIES:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "start", 0);
        break;
    case HITLQ_OP_AUDIT_PROVE:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "index", 0);
        break;
    case HITLQ_OP_AUDIT_CONSISTENCY:
        body_init(b, 1);
        hpk_kv_u64(&b->pk, "size1", 1);
        break;
    case HITLQ_OP_KEY_ADD:
        snprintf(key, sizeof key, "matrix-made-%d", role);
        body_init(b, 2);
        hpk_kv_str(&b->pk, "principal", key);
        hpk_kv_str(&b->pk, "role", "auditor");
        break;
    case HITLQ_OP_KEY_REVOKE:
        body_init(b, 1);
        hpk_kv_str(&b->pk, "key_id", "0000000000000000");
        break;
    case HITLQ_OP_AUTH: {
        static const uint8_t sig[64];
        body_init(b, 3);
        hpk_kv_str(&b->pk, "key_id", "0000000000000000");
        hpk_kv_str(&b->pk, "role", "bot");
        hpk_str(&b->pk, "signature");
        msgpack_pack_bin(&b->pk, sizeof sig);
        msgpack_pack_bin_body(&b->pk, sig, sizeof sig);
        break;
    }
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
    admin_conn(&a);
    int cells = 0;
    for (int r = 0; r < 4; r++) {
        char key[KEY_LEN + 1], id[ID_LEN + 1], name[32];
        struct hconn c;
        uint64_t item = 1;
        snprintf(name, sizeof name, "matrix-%s", roles[r]);
        key_add(&a, name, roles[r], NULL, key, id);
        open_as(&c, key, roles[r]);
        for (size_t i = 0; i < sizeof ops; i++) {
            struct body b;
            struct hframe f;
            matrix_body(ops[i], r, item, &b);
            int status = call(&c, ops[i], &b.sb, &f);
            body_free(&b);
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

/* ---- object-level rules -------------------------------------------------------------- */

static void test_bot_reads_only_own_items(void **st)
{
    (void)st;
    char k1[KEY_LEN + 1], k2[KEY_LEN + 1], id[ID_LEN + 1];
    struct hconn a, b1, b2;
    uint64_t i1, i2;
    admin_conn(&a);
    key_add(&a, "own-bot-1", "bot", NULL, k1, id);
    key_add(&a, "own-bot-2", "bot", NULL, k2, id);
    open_as(&b1, k1, "bot");
    open_as(&b2, k2, "bot");
    assert_int_equal(submit(&b1, "own-1", &i1), HITLQ_ST_OK);
    assert_int_equal(submit(&b2, "own-2", &i2), HITLQ_ST_OK);
    struct body b;
    struct hframe f;
    body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", i1);
    assert_int_equal(call(&b1, HITLQ_OP_GET, &b.sb, &f), HITLQ_ST_OK);
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
    assert_int_equal(call(&b2, HITLQ_OP_GET, &b.sb, &f), HITLQ_ST_FORBIDDEN);
    hframe_free(&f);
    body_free(&b);
    /* the admin reads any item */
    body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", i2);
    assert_int_equal(call(&a, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_OK);
    assert_int_equal(call(&b1, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_FORBIDDEN);
    body_free(&b);
    hconn_close(&b1);
    hconn_close(&b2);
    hconn_close(&a);
}

static int claim(struct hconn *c, const char *queue, const char *worker)
{
    struct body b;
    body_init(&b, worker ? 2 : 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, queue);
    if (worker)
        hpk_kv_str(&b.pk, "worker", worker);
    int st = call(c, HITLQ_OP_CLAIM, &b.sb, NULL);
    body_free(&b);
    return st;
}

/* Claims the next item from credit_review as c and resolves it
 * "approve"; false when the queue is empty. */
static bool claim_resolve(struct hconn *c)
{
    struct body b;
    struct hframe f;
    uint64_t id, lease;
    int st;

    body_init(&b, 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, "credit_review");
    st = call(c, HITLQ_OP_CLAIM, &b.sb, &f);
    body_free(&b);
    if (st != HITLQ_ST_OK) {
        hframe_free(&f);
        return false;
    }
    id = hobj_u64(hframe_get(&f, "id"));
    lease = hobj_u64(hframe_get(&f, "lease"));
    hframe_free(&f);
    body_init(&b, 3);
    hpk_kv_u64(&b.pk, "id", id);
    hpk_kv_u64(&b.pk, "lease", lease);
    hpk_kv_str(&b.pk, "outcome", "approve");
    assert_int_equal(call(c, HITLQ_OP_RESOLVE, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
    return true;
}

/* WATCH from cursor 1 on c: the ids of the RESULT frames pushed within
 * 500 ms (up to max). */
static size_t watch_ids(struct hconn *c, uint64_t *ids, size_t max)
{
    struct body b;
    struct hframe f;
    size_t n = 0;

    body_init(&b, 1);
    hpk_kv_u64(&b.pk, "cursor", 1);
    assert_int_equal(call(c, HITLQ_OP_WATCH, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
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
    char k1[KEY_LEN + 1], k2[KEY_LEN + 1], ks[KEY_LEN + 1], id[ID_LEN + 1];
    struct hconn a, b1, b2, sp, w1, w2;
    uint64_t i1, i2, got[16];
    size_t n;

    admin_conn(&a);
    key_add(&a, "watch-bot-1", "bot", NULL, k1, id);
    key_add(&a, "watch-bot-2", "bot", NULL, k2, id);
    key_add(&a, "watch-spec", "specialist", NULL, ks, id);
    open_as(&b1, k1, "bot");
    open_as(&b2, k2, "bot");
    open_as(&sp, ks, "specialist");
    assert_int_equal(submit(&b1, "watch-1", &i1), HITLQ_ST_OK);
    assert_int_equal(submit(&b2, "watch-2", &i2), HITLQ_ST_OK);
    /* resolve everything on credit_review (earlier tests may have left items) */
    for (int k = 0; k < 256 && claim_resolve(&sp); k++)
        ;
    open_as(&w1, k1, "bot");
    open_as(&w2, k2, "bot");
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
    char k[KEY_LEN + 1], kany[KEY_LEN + 1], id[ID_LEN + 1];
    struct hconn a, s, s_any;
    admin_conn(&a);
    key_add(&a, "skilled", "specialist", "q1", k, id);
    key_add(&a, "generalist", "specialist", NULL, kany, id);
    open_as(&s, k, "specialist");
    open_as(&s_any, kany, "specialist");
    assert_int_equal(claim(&s, "q2", NULL), HITLQ_ST_FORBIDDEN);
    assert_int_equal(claim(&s, "q1", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(claim(&s_any, "q2", NULL), HITLQ_ST_EMPTY);
    /* the worker recorded is the principal: another name is refused */
    assert_int_equal(claim(&s, "q1", "someone-else"), HITLQ_ST_FORBIDDEN);
    assert_int_equal(claim(&s, "q1", "skilled"), HITLQ_ST_EMPTY);
    /* KEY_LIST shows the skills */
    struct body b;
    struct hframe f;
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "principal", "skilled");
    assert_int_equal(call(&a, HITLQ_OP_KEY_LIST, &b.sb, &f), HITLQ_ST_OK);
    body_free(&b);
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
    char k2[KEY_LEN + 1];
    key_add(&a, "skilled", "specialist", "q2", k2, id);
    assert_int_equal(claim(&s, "q2", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(claim(&s, "q1", NULL), HITLQ_ST_FORBIDDEN);
    hconn_close(&s);
    hconn_close(&s_any);
    hconn_close(&a);
}

/* ---- revocation, listing ----------------------------------------------------------------- */

static void test_revoke_closes_live_connections(void **st)
{
    (void)st;
    char k[KEY_LEN + 1], id[ID_LEN + 1], k2[KEY_LEN + 1], id2[ID_LEN + 1];
    struct hconn a, b1, b2, other;
    admin_conn(&a);
    key_add(&a, "revoked-bot", "bot", NULL, k, id);
    key_add(&a, "revoked-bot", "bot", NULL, k2, id2);     /* same principal, other key */
    open_as(&b1, k, "bot");
    open_as(&b2, k, "bot");
    open_as(&other, k2, "bot");
    struct body b;
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", id);
    uint64_t t0 = harness_now_ms();
    assert_int_equal(call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    /* both live connections of the key are gone within 1 s */
    int frames = 0;
    assert_true(hconn_expect_closed(&b1, 1000, &frames));
    assert_true(hconn_expect_closed(&b2, 1000, NULL));
    assert_true(harness_now_ms() - t0 < 1000);
    assert_int_equal(frames, 1);                          /* the `unauthorized` notice */
    hconn_close(&b1);
    hconn_close(&b2);
    /* revoking again is fine; the other key is untouched */
    assert_int_equal(call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
    assert_int_equal(hconn_ping(&other, 5), HITLQ_ST_OK);
    /* the key no longer opens a session */
    struct hconn c;
    struct hframe f;
    assert_int_equal(hello_key(&c, S.port, k, &f), HITLQ_ST_UNAUTHORIZED);
    hframe_free(&f);
    hconn_close(&c);
    /* unknown key id; malformed key id */
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", "00000000000000ff");
    assert_int_equal(call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_NOT_FOUND);
    body_free(&b);
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", "xyz");
    assert_int_equal(call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_BAD_REQUEST);
    body_free(&b);
    /* KEY_LIST marks it */
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "principal", "revoked-bot");
    assert_int_equal(call(&a, HITLQ_OP_KEY_LIST, &b.sb, &f), HITLQ_ST_OK);
    body_free(&b);
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
    char k[KEY_LEN + 1], id[ID_LEN + 1];
    struct hconn a;
    struct hframe f;
    admin_conn(&a);
    key_add(&a, "listed", "auditor", NULL, k, id);
    assert_int_equal(call(&a, HITLQ_OP_KEY_LIST, NULL, &f), HITLQ_ST_OK);
    /* the secret part of neither key appears anywhere in the reply */
    assert_null(memmem(f.raw, f.body_len, k + 23, KEY_LEN - 23));
    assert_null(memmem(f.raw, f.body_len, ADMIN_KEY + 23, KEY_LEN - 23));
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
    char k[KEY_LEN + 1], id[ID_LEN + 1], ka[KEY_LEN + 1], ida[ID_LEN + 1];
    struct hconn a, au;
    admin_conn(&a);
    key_add(&a, "audited-bot", "bot", NULL, k, id);
    key_add(&a, "audited-auditor", "auditor", NULL, ka, ida);
    struct body b;
    body_init(&b, 1);
    hpk_kv_str(&b.pk, "key_id", id);
    assert_int_equal(call(&a, HITLQ_OP_KEY_REVOKE, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
    open_as(&au, ka, "auditor");
    struct record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    int add = 0, revoke = 0, boot = 0;
    for (uint64_t start = 0;;) {
        struct hframe f;
        body_init(&b, 2);
        hpk_kv_u64(&b.pk, "start", start);
        hpk_kv_u64(&b.pk, "count", 1024);
        assert_int_equal(call(&au, HITLQ_OP_AUDIT_ENTRIES, &b.sb, &f), HITLQ_ST_OK);
        body_free(&b);
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
                    memmem(ex->data, ex->len, ADMIN_KEY + 6, ID_LEN) != NULL)
                    boot++;            /* the first admin key, made by hitlqd */
                if (ex->type != RECORD_EXT_KEY_INFO || ex->data[0] != 3 ||
                    memmem(ex->data, ex->len, id, ID_LEN) == NULL)
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

/* ---- the CLI ---------------------------------------------------------------------------- */

static int run_cli(const char *args, char *out, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -p %u --api-key %s %s 2>/dev/null", HARNESS_CLI,
             (unsigned)S.port, ADMIN_KEY, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    return pclose(p);
}

static void test_cli_key_commands(void **st)
{
    (void)st;
    char out[8192], id[ID_LEN + 1], cmd[64];
    assert_int_equal(run_cli("key add cli-spec specialist --skills q1,q2", out, sizeof out), 0);
    assert_int_equal(strlen(out), KEY_LEN + 1);
    assert_memory_equal(out, "hitlq_", 6);
    memcpy(id, out + 6, ID_LEN);
    id[ID_LEN] = '\0';
    out[KEY_LEN] = '\0';
    struct hconn c;
    open_as(&c, out, "specialist");
    assert_int_equal(claim(&c, "q2", NULL), HITLQ_ST_EMPTY);
    assert_int_equal(claim(&c, "q3", NULL), HITLQ_ST_FORBIDDEN);
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

/* ---- rate limiting (last: it blocks this address for 10 s) ----------------------------- */

static void test_rate_limit(void **st)
{
    (void)st;
    struct hconn c;
    struct hframe f;
    for (unsigned i = 0; i < AUTH_FAIL_MAX + 1; i++) {
        assert_int_equal(hello_key(&c, S.port, "hitlq_wrong", &f), HITLQ_ST_UNAUTHORIZED);
        hframe_free(&f);
        hconn_close(&c);
    }
    /* now even the right key is refused, unchecked and late */
    uint64_t t0 = harness_now_ms();
    assert_int_equal(hello_key(&c, S.port, ADMIN_KEY, &f), HITLQ_ST_UNAUTHORIZED);
    assert_true(harness_now_ms() - t0 >= AUTH_BLOCK_DELAY_MS - 10);
    char msg[128];
    hobj_str(hframe_get(&f, "message"), msg, sizeof msg);
    assert_non_null(strstr(msg, "too many"));
    hframe_free(&f);
    assert_true(hconn_expect_closed(&c, 2000, NULL));
    hconn_close(&c);
    /* the block ends */
    harness_sleep_ms(AUTH_BLOCK_MS + 200);
    admin_conn(&c);
    hconn_close(&c);
}

/* ---- auth = 0: as before ------------------------------------------------------------------ */

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
    assert_int_equal(hello_key(&c, s0.port, NULL, &f), HITLQ_ST_OK);
    assert_true(hobj_str_eq(hframe_get(&f, "role"), "local"));
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), "spoofed-name"));
    hframe_free(&f);
    uint64_t id;
    assert_int_equal(submit(&c, "off-1", &id), HITLQ_ST_OK);
    struct body b;
    body_init(&b, 1);
    hpk_kv_u64(&b.pk, "id", id);
    assert_int_equal(call(&c, HITLQ_OP_GET, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
    assert_int_equal(claim(&c, "credit_review", "anyone"), HITLQ_ST_OK);
    assert_int_equal(call(&c, HITLQ_OP_STATS, NULL, NULL), HITLQ_ST_OK);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CHECKPOINT, NULL, NULL), HITLQ_ST_OK);
    /* keys can be prepared before auth is switched on */
    body_init(&b, 2);
    hpk_kv_str(&b.pk, "principal", "prepared");
    hpk_kv_str(&b.pk, "role", "bot");
    assert_int_equal(call(&c, HITLQ_OP_KEY_ADD, &b.sb, NULL), HITLQ_ST_OK);
    body_free(&b);
    hconn_close(&c);
    assert_int_equal(harness_server_stop(&s0), 0);
    harness_server_cleanup(&s0);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_authz_table_rows),
        cmocka_unit_test(test_auth_off),
    };
    const struct CMUnitTest e2e[] = {
        cmocka_unit_test(test_bootstrap_admin),
        cmocka_unit_test(test_unauthenticated_refused),
        cmocka_unit_test(test_same_error),
        cmocka_unit_test(test_key_add_each_role),
        cmocka_unit_test(test_matrix_every_cell),
        cmocka_unit_test(test_bot_reads_only_own_items),
        cmocka_unit_test(test_bot_watches_only_own_results),
        cmocka_unit_test(test_specialist_skills),
        cmocka_unit_test(test_revoke_closes_live_connections),
        cmocka_unit_test(test_key_list_has_no_secrets),
        cmocka_unit_test(test_key_events_audited),
        cmocka_unit_test(test_cli_key_commands),
        cmocka_unit_test(test_rate_limit),
    };
    int rc = cmocka_run_group_tests_name("auth_unit", unit, NULL, NULL);
    return rc | cmocka_run_group_tests_name("auth_e2e", e2e, srv_setup, srv_teardown);
}
