/*
 * test_client_unit.c - libhitlq without a real server: a fake server
 * thread on a loopback socket plays scripted replies (HELLO, out-of-order
 * replies, malformed frames, early close, timeouts, WATCH pushes), plus
 * hitlq_strerror and the CLI's JSON <-> MessagePack conversion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hitlq_msgpack.h"
#include "frame.h"
#include "wire.h"

#include "cli_json.c"

/* ---- the fake server ---------------------------------------------------------- */

struct fake {
    int        lfd;
    uint16_t   port;
    pthread_t  th;
    void     (*script)(int fd);
};

/* Reads exactly n bytes; false on EOF. */
static bool
read_n(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    ssize_t r;

    while (n > 0) {
        r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one request frame; body (up to 4096 bytes) into body. */
static bool
srv_read(int fd, struct frame_hdr *h, uint8_t *body)
{
    uint8_t hdr[HITLQ_FRAME_HDR_LEN];

    if (!read_n(fd, hdr, sizeof(hdr)))
        return false;
    assert_int_equal(frame_hdr_decode(hdr, 4096, h), HITLQ_ST_OK);
    return read_n(fd, body, h->body_len);
}

static void
srv_write(int fd, const void *p, size_t n)
{
    assert_int_equal(write(fd, p, n), (ssize_t)n);
}

/* Sends a reply whose body is one map {k: v} with a u64 value (k NULL:
 * empty map). */
static void
srv_reply_u64(int fd, uint8_t op, uint16_t st, uint32_t id, const char *k, uint64_t v)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    off = wire_frame_begin(&sb);
    msgpack_pack_map(&pk, k ? 1 : 0);
    if (k)
        wire_pack_kv_u64(&pk, k, v);
    wire_frame_end(&sb, off, op, st, id);
    srv_write(fd, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static void
srv_error(int fd, uint8_t op, uint16_t st, uint32_t id, const char *msg)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    wire_pack_error(&sb, &pk, op, st, id, msg);
    srv_write(fd, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

/* Reads HELLO and accepts it. */
static void
srv_hello(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    assert_true(srv_read(fd, &h, body));
    assert_int_equal(h.opcode, HITLQ_OP_HELLO);
    srv_reply_u64(fd, HITLQ_OP_HELLO, 0, h.request_id, "version", 1);
}

static void *
fake_main(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);

    if (fd >= 0) {
        f->script(fd);
        close(fd);
    }
    return NULL;
}

static void
fake_start(struct fake *f, void (*script)(int))
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->script = script;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 1), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static hitlq *
connect_to(struct fake *f, int timeout_ms)
{
    hitlq_options o = { .host = "127.0.0.1", .port = f->port, .name = "tester",
                        .timeout_ms = timeout_ms };
    hitlq *c = hitlq_connect(&o);

    assert_non_null(c);
    return c;
}

/* ---- connect ------------------------------------------------------------------- */

static void
test_connect_refused(void **state)
{
    struct fake f;
    hitlq_options o = { .host = "127.0.0.1", .timeout_ms = 1000 };
    hitlq *c;

    (void)state;
    fake_start(&f, NULL);             /* learn a free port, then close it */
    close(f.lfd);
    pthread_cancel(f.th);
    pthread_join(f.th, NULL);
    o.port = f.port;
    c = hitlq_connect(&o);
    assert_non_null(c);
    assert_int_equal(hitlq_err(c), HITLQ_EIO);
    assert_non_null(strstr(hitlq_errstr(c), "refused"));
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, NULL), HITLQ_ECLOSED);
    hitlq_free(c);
}

static void
script_hello_ping(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];
    msgpack_unpacked up;
    const msgpack_object *name;

    assert_true(srv_read(fd, &h, body));
    assert_int_equal(h.opcode, HITLQ_OP_HELLO);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (char *)body, h.body_len, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    name = wire_map_get(&up.data, "name");
    assert_non_null(name);
    assert_memory_equal(name->via.str.ptr, "tester", 6);
    assert_non_null(wire_map_get(&up.data, "client"));
    msgpack_unpacked_destroy(&up);
    srv_reply_u64(fd, HITLQ_OP_HELLO, 0, h.request_id, "version", 1);
    assert_true(srv_read(fd, &h, body));
    assert_int_equal(h.opcode, HITLQ_OP_PING);
    srv_reply_u64(fd, HITLQ_OP_PING, 0, h.request_id, "time_ms", 1234);
}

static void
test_hello_and_call(void **state)
{
    struct fake f;
    hitlq_reply *r = NULL;
    const msgpack_object *t;
    hitlq *c;

    (void)state;
    fake_start(&f, script_hello_ping);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_true(hitlq_fd(c) >= 0);
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_OK);
    assert_int_equal(hitlq_reply_opcode(r), HITLQ_OP_PING);
    t = hitlq_reply_get(r, "time_ms");
    assert_non_null(t);
    assert_int_equal(t->via.u64, 1234);
    assert_null(hitlq_reply_get(r, "nope"));
    hitlq_reply_free(r);
    hitlq_free(c);
    fake_stop(&f);
}

static void
script_hello_refused(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    assert_true(srv_read(fd, &h, body));
    srv_error(fd, HITLQ_OP_HELLO, HITLQ_ST_BAD_VERSION, h.request_id, "speak version 1");
}

static void
test_hello_refused(void **state)
{
    struct fake f;
    hitlq *c;

    (void)state;
    fake_start(&f, script_hello_refused);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_err(c), HITLQ_ST_BAD_VERSION);
    assert_string_equal(hitlq_errstr(c), "speak version 1");
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, NULL), HITLQ_ECLOSED);
    hitlq_free(c);
    fake_stop(&f);
}

/* ---- out-of-order replies --------------------------------------------------------- */

/* Three SUBMITs answered in reverse order, the middle one with an error. */
static void
script_batch_reverse(int fd)
{
    struct frame_hdr h[3];
    uint8_t body[4096];
    int i;

    srv_hello(fd);
    for (i = 0; i < 3; i++) {
        assert_true(srv_read(fd, &h[i], body));
        assert_int_equal(h[i].opcode, HITLQ_OP_SUBMIT);
    }
    for (i = 2; i >= 0; i--) {
        if (i == 1) {
            srv_error(fd, HITLQ_OP_SUBMIT, HITLQ_ST_CONFLICT, h[i].request_id, "key reused");
            continue;
        }
        msgpack_sbuffer sb;
        msgpack_packer pk;
        size_t off;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        off = wire_frame_begin(&sb);
        msgpack_pack_map(&pk, 5);
        wire_pack_kv_u64(&pk, "id", 100 + (uint64_t)i);
        wire_pack_kv_str(&pk, "outcome", i == 0 ? "queued" : "auto_resolved");
        wire_pack_kv_str(&pk, i == 0 ? "queue" : "action", i == 0 ? "review" : "approve");
        wire_pack_kv_f64(&pk, "score", 0.5);
        wire_pack_kv_str(&pk, "future_key", "ignored");
        wire_frame_end(&sb, off, HITLQ_OP_SUBMIT, 0, h[i].request_id);
        srv_write(fd, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void
test_batch_out_of_order(void **state)
{
    struct fake f;
    hitlq_item items[3] = {
        { .key = "k0", .type = "t", .priority = -1 },
        { .key = "k1", .type = "t", .priority = 5 },
        { .key = "k2", .type = "t", .priority = -1 },
    };
    hitlq_decision out[3];
    int st[3];
    hitlq *c;

    (void)state;
    fake_start(&f, script_batch_reverse);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_submit_batch(c, items, 3, 0 /* all 3 in flight */,
                                        out, st), HITLQ_OK);
    assert_int_equal(st[0], HITLQ_OK);
    assert_int_equal(st[1], HITLQ_ST_CONFLICT);
    assert_int_equal(st[2], HITLQ_OK);
    assert_int_equal(out[0].id, 100);
    assert_true(out[0].queued);
    assert_string_equal(out[0].queue, "review");
    assert_int_equal(out[2].id, 102);
    assert_false(out[2].queued);
    assert_string_equal(out[2].action, "approve");
    hitlq_free(c);
    fake_stop(&f);
}

/* A reply for another id arrives first; it is parked, not mistaken. */
static void
script_stray_then_real(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    srv_reply_u64(fd, HITLQ_OP_PING, 0, h.request_id + 7, "time_ms", 1);
    srv_reply_u64(fd, HITLQ_OP_PING, 0, h.request_id, "time_ms", 2);
    assert_true(srv_read(fd, &h, body));
    srv_error(fd, HITLQ_OP_GET, HITLQ_ST_NOT_FOUND, h.request_id, "no item 9");
}

static void
test_stray_reply_parked(void **state)
{
    struct fake f;
    hitlq_reply *r = NULL;
    hitlq *c;

    (void)state;
    fake_start(&f, script_stray_then_real);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_OK);
    assert_int_equal(hitlq_reply_get(r, "time_ms")->via.u64, 2);
    hitlq_reply_free(r);
    assert_int_equal(hitlq_get(c, 9, &r), HITLQ_ST_NOT_FOUND);
    assert_int_equal(hitlq_err(c), HITLQ_ST_NOT_FOUND);
    assert_string_equal(hitlq_errstr(c), "no item 9");
    hitlq_reply_free(r);
    hitlq_free(c);
    fake_stop(&f);
}

/* ---- broken servers ---------------------------------------------------------------- */

static void
script_bad_magic(int fd)
{
    static const uint8_t bad[12] = { 0, 0, 0, 0, 'X', 2, 0, 0, 0, 0, 0, 2 };
    struct frame_hdr h;
    uint8_t body[4096];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    srv_write(fd, bad, sizeof(bad));
}

static void
script_bad_msgpack(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096], out[HITLQ_FRAME_HDR_LEN + 2];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    h.body_len = 2;
    h.status = 0;
    frame_hdr_encode(out, &h);
    out[12] = 0x81;                      /* map of one pair ... */
    out[13] = 0xc1;                      /* ... with the never-used byte */
    srv_write(fd, out, sizeof(out));
}

static void
script_close_early(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
}

static void
script_silent(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    (void)read(fd, body, 1);              /* until the client gives up */
}

static void
expect_ping_fails(void (*script)(int), int code, int timeout_ms)
{
    struct fake f;
    hitlq_reply *r = NULL;
    hitlq *c;

    fake_start(&f, script);
    c = connect_to(&f, timeout_ms);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), code);
    assert_null(r);
    assert_int_equal(hitlq_err(c), code);
    assert_true(hitlq_errstr(c)[0] != '\0');
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, &r), HITLQ_ECLOSED);
    hitlq_free(c);
    fake_stop(&f);
}

static void test_bad_magic(void **s)   { (void)s; expect_ping_fails(script_bad_magic, HITLQ_EPROTO, 2000); }
static void test_bad_msgpack(void **s) { (void)s; expect_ping_fails(script_bad_msgpack, HITLQ_EPROTO, 2000); }
static void test_early_close(void **s) { (void)s; expect_ping_fails(script_close_early, HITLQ_EOF, 2000); }
static void test_timeout(void **s)     { (void)s; expect_ping_fails(script_silent, HITLQ_ETIMEOUT, 200); }

/* ---- claim empty, watch -------------------------------------------------------------- */

static void
script_claim_empty(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    assert_int_equal(h.opcode, HITLQ_OP_CLAIM);
    srv_reply_u64(fd, HITLQ_OP_CLAIM, HITLQ_ST_EMPTY, h.request_id, NULL, 0);
}

static void
test_claim_empty(void **state)
{
    struct fake f;
    const char *qs[] = { "review" };
    struct hitlq_claim cl;
    hitlq *c;

    (void)state;
    fake_start(&f, script_claim_empty);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_claim(c, qs, 1, 0, 0, NULL, &cl), HITLQ_ST_EMPTY);
    assert_null(cl.reply);
    assert_int_equal(hitlq_claim(c, qs, 1, 0, 0, "bad name!", &cl), HITLQ_EINVAL);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
    fake_stop(&f);
}

static void
script_watch(int fd)
{
    struct frame_hdr h;
    uint8_t body[4096];
    uint64_t i;

    srv_hello(fd);
    assert_true(srv_read(fd, &h, body));
    assert_int_equal(h.opcode, HITLQ_OP_WATCH);
    srv_reply_u64(fd, HITLQ_OP_WATCH, 0, h.request_id, "cursor", 1);
    for (i = 1; i <= 3; i++)
        srv_reply_u64(fd, HITLQ_OP_RESULT, 0, h.request_id, "seq", i);
    (void)read(fd, body, 1);
}

static int
count_two(void *arg, const hitlq_reply *r)
{
    uint64_t *n = arg;

    assert_int_equal(hitlq_reply_opcode(r), HITLQ_OP_RESULT);
    assert_int_equal(hitlq_reply_get(r, "seq")->via.u64, *n + 1);
    return ++*n == 2;
}

static int
count_all(void *arg, const hitlq_reply *r)
{
    uint64_t *n = arg;

    assert_int_equal(hitlq_reply_get(r, "seq")->via.u64, ++*n);
    return 0;
}

static void
test_watch(void **state)
{
    struct fake f;
    uint64_t n = 0;
    hitlq *c;

    (void)state;
    fake_start(&f, script_watch);
    c = connect_to(&f, 2000);
    assert_int_equal(hitlq_watch(c, 1, 1000, count_two, &n), HITLQ_OK);
    assert_int_equal(n, 2);
    /* the second call resumes the stream, then idles out */
    assert_int_equal(hitlq_watch(c, 0, 100, count_all, &n), HITLQ_ETIMEOUT);
    assert_int_equal(n, 3);
    hitlq_free(c);
    fake_stop(&f);
}

/* ---- strerror ------------------------------------------------------------------------ */

static void
test_strerror(void **state)
{
    static const int client[] = { HITLQ_OK, HITLQ_EIO, HITLQ_EPROTO, HITLQ_EOF,
                                  HITLQ_ETIMEOUT, HITLQ_ENOMEM, HITLQ_EINVAL, HITLQ_ECLOSED };
    static const int server[] = {
#define X(name, val, str, desc) val,
        HITLQ_STATUSES(X)
#undef X
    };
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(client) / sizeof(client[0]); i++) {
        assert_non_null(hitlq_strerror(client[i]));
        assert_string_not_equal(hitlq_strerror(client[i]), "unknown error");
        for (j = 0; j < i; j++)
            assert_string_not_equal(hitlq_strerror(client[i]), hitlq_strerror(client[j]));
    }
    for (i = 1; i < sizeof(server) / sizeof(server[0]); i++) {
        assert_string_equal(hitlq_strerror(server[i]), hitlq_status_str(server[i]));
        assert_string_equal(hitlq_strdesc(server[i]), hitlq_status_desc(server[i]));
    }
    assert_string_equal(hitlq_strerror(HITLQ_ST_CONFLICT), "conflict");
    assert_string_equal(hitlq_strerror(-99), "unknown error");
}

/* ---- CLI JSON conversion --------------------------------------------------------------- */

static void
test_item_parse(void **state)
{
    struct cli_item it;
    msgpack_unpacked up;
    json_t *j;
    char err[160], *s;

    (void)state;
    assert_int_equal(cli_item_parse("{\"key\":\"a1\",\"type\":\"credit\",\"priority\":7,"
                                    "\"fields\":{\"age\":35,\"amt\":-2.5,\"p\":\"NewCar\","
                                    "\"ok\":true,\"n\":null}}", &it, err, sizeof(err)), 0);
    assert_string_equal(it.key, "a1");
    assert_string_equal(it.type, "credit");
    assert_int_equal(it.priority, 7);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, it.fields.data, it.fields.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(up.data.via.map.size, 5);
    j = cli_mp_to_json(&up.data);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"age\":35,\"amt\":-2.5,\"n\":null,\"ok\":true,\"p\":\"NewCar\"}");
    free(s);
    json_decref(j);
    msgpack_unpacked_destroy(&up);
    cli_item_clear(&it);

    assert_int_equal(cli_item_parse("{\"key\":\"a\",\"type\":\"t\",\"fields\":{\"x\":[1]}}",
                                    &it, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nested"));
    assert_int_equal(cli_item_parse("{\"key\":\"a\",\"type\":\"t\",\"fields\":{\"x\":{}}}",
                                    &it, err, sizeof(err)), -1);
    assert_int_equal(cli_item_parse("{\"key\":1,\"type\":\"t\",\"fields\":{}}",
                                    &it, err, sizeof(err)), -1);
    assert_int_equal(cli_item_parse("{\"key\":\"a\",\"type\":\"t\"}", &it, err, sizeof(err)), -1);
    assert_int_equal(cli_item_parse("{\"key\":\"a\",\"type\":\"t\",\"fields\":{},\"x\":1}",
                                    &it, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown member"));
    assert_int_equal(cli_item_parse("not json", &it, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad JSON"));
}

static void
test_mp_to_json(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked up;
    json_t *j;
    char *s;

    (void)state;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    wire_pack_kv_u64(&pk, "big", UINT64_MAX);
    wire_pack_kv_u64(&pk, "lease", 9007199254740993ull);   /* 2^53 + 1: a double loses it */
    wire_pack_kv_u64(&pk, "id", 12);
    wire_pack_cstr(&pk, "arr");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, -3);
    msgpack_pack_bin(&pk, 2);
    msgpack_pack_bin_body(&pk, "\x01\xff", 2);
    wire_pack_kv_f64(&pk, "f", 0.25);
    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
    j = cli_mp_to_json(&up.data);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"arr\":[-3,\"01ff\"],\"big\":\"18446744073709551615\",\"f\":0.25,"
                           "\"id\":12,\"lease\":\"9007199254740993\"}");
    free(s);
    json_decref(j);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_hello_and_call),
        cmocka_unit_test(test_hello_refused),
        cmocka_unit_test(test_batch_out_of_order),
        cmocka_unit_test(test_stray_reply_parked),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_msgpack),
        cmocka_unit_test(test_early_close),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_claim_empty),
        cmocka_unit_test(test_watch),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_item_parse),
        cmocka_unit_test(test_mp_to_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
