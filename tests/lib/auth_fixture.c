/*
 * auth_fixture.c - the auth = 1 server, its admin key and the request
 * helpers of the authentication and authorization tests (auth_fixture.h).
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

#include "auth_fixture.h"
#include "hitlq_proto.h"

struct hserver afx_srv;            /* auth = 1 */
char afx_admin_key[AFX_KEY_LEN + 1];
static uint32_t REQ = 100;

static void read_admin_key(void)
{
    char path[256], buf[128] = "";
    struct stat st;
    snprintf(path, sizeof path, "%s/admin.key", afx_srv.data);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_int_equal(strlen(buf), AFX_KEY_LEN + 1);
    assert_int_equal(buf[AFX_KEY_LEN], '\n');
    memcpy(afx_admin_key, buf, AFX_KEY_LEN);
    afx_admin_key[AFX_KEY_LEN] = '\0';
    assert_memory_equal(afx_admin_key, "hitlq_", 6);
}

int afx_setup(void **st)
{
    (void)st;
    if (harness_server_start(&afx_srv, "auth = 1\n") < 0)
        return -1;
    read_admin_key();
    return 0;
}

int afx_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&afx_srv);
    harness_server_cleanup(&afx_srv);
    return rc;
}

/* Sends HELLO {version, api_key?} on a new connection; *f gets the reply.
 * Returns its status, or -1 on I/O error. */
int afx_hello(struct hconn *c, uint16_t port, const char *key, struct hframe *f)
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
void afx_open_as(struct hconn *c, const char *key, const char *want_role)
{
    struct hframe f;
    int st = afx_hello(c, afx_srv.port, key, &f);
    if (st != HITLQ_ST_OK)
        fail_msg("HELLO refused: status %d", st);
    if (want_role != NULL)
        assert_true(hobj_str_eq(hframe_get(&f, "role"), want_role));
    hframe_free(&f);
}

/* One request with a packed body; returns the status (reply freed unless
 * keep != NULL). */
int afx_call(struct hconn *c, uint8_t op, const msgpack_sbuffer *body, struct hframe *keep)
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

void afx_body_init(struct afx_body *b, uint32_t n)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&b->pk, n);
}

void afx_body_free(struct afx_body *b)
{
    msgpack_sbuffer_destroy(&b->sb);
}

/* KEY_ADD through connection admin; copies the key and its id. */
void afx_key_add(struct hconn *admin, const char *principal, const char *role,
                 const char *skill, char key[AFX_KEY_LEN + 1], char id[AFX_ID_LEN + 1])
{
    struct afx_body b;
    struct hframe f;
    afx_body_init(&b, skill ? 3 : 2);
    hpk_kv_str(&b.pk, "principal", principal);
    hpk_kv_str(&b.pk, "role", role);
    if (skill) {
        hpk_str(&b.pk, "skills");
        msgpack_pack_array(&b.pk, 1);
        hpk_str(&b.pk, skill);
    }
    int st = afx_call(admin, HITLQ_OP_KEY_ADD, &b.sb, &f);
    afx_body_free(&b);
    if (st != HITLQ_ST_OK)
        fail_msg("KEY_ADD %s: status %d", principal, st);
    assert_true(hobj_str_eq(hframe_get(&f, "principal"), principal));
    hobj_str(hframe_get(&f, "api_key"), key, AFX_KEY_LEN + 1);
    hobj_str(hframe_get(&f, "key_id"), id, AFX_ID_LEN + 1);
    assert_int_equal(strlen(key), AFX_KEY_LEN);
    assert_int_equal(strlen(id), AFX_ID_LEN);
    assert_memory_equal(key + 6, id, AFX_ID_LEN);
    hframe_free(&f);
}

void afx_admin_conn(struct hconn *c)
{
    afx_open_as(c, afx_admin_key, "admin");
}

/* SUBMIT {key, type, fields: {amount}} on c; returns the status, id in *id. */
int afx_submit(struct hconn *c, const char *key, uint64_t *id)
{
    struct afx_body b;
    struct hframe f;
    afx_body_init(&b, 3);
    hpk_kv_str(&b.pk, "key", key);
    hpk_kv_str(&b.pk, "type", "credit_application");
    hpk_str(&b.pk, "fields");
    msgpack_pack_map(&b.pk, 1);
    hpk_kv_u64(&b.pk, "amount", 1000);
    int st = afx_call(c, HITLQ_OP_SUBMIT, &b.sb, &f);
    afx_body_free(&b);
    if (id)
        *id = hobj_u64(hframe_get(&f, "id"));
    hframe_free(&f);
    return st;
}

int afx_claim(struct hconn *c, const char *queue, const char *worker)
{
    struct afx_body b;
    afx_body_init(&b, worker ? 2 : 1);
    hpk_str(&b.pk, "queues");
    msgpack_pack_array(&b.pk, 1);
    hpk_str(&b.pk, queue);
    if (worker)
        hpk_kv_str(&b.pk, "worker", worker);
    int st = afx_call(c, HITLQ_OP_CLAIM, &b.sb, NULL);
    afx_body_free(&b);
    return st;
}
