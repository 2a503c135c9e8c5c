/*
 * test_failover_client.c - libhitlq with a list of servers (option
 * `servers`, proto/PROTOCOL.md §9) against real hitlqd instances: dead
 * ports before the live one; a fake follower in this process (a test
 * double: a listener that answers HELLO, or the request after it, with a
 * well-formed not_leader frame naming the real server) that the client
 * must leave for the leader it names; a server killed -9 in the middle of
 * a stream of SUBMITs and another hitlqd started on the same data dir on
 * another port of the list (every key acknowledged, exactly one item per
 * key, nothing lost); the search bounded by failover_ms; bad lists
 * refused with HITLQ_EINVAL and a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <inttypes.h>

#include "e2e_util.h"
#include "frame.h"
#include "tutil.h"

/* ---- ports ---------------------------------------------------------------- */

/* A loopback socket bound to an ephemeral port (listening when listen_too);
 * *port gets the port.  The fd, or -1. */
static int bound_socket(uint16_t *port, bool listen_too)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0 || (listen_too && listen(fd, 16) != 0)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nothing listens on (bound and released: connect is refused). */
static uint16_t dead_port(void)
{
    uint16_t p = 0;
    int fd = bound_socket(&p, false);

    assert_true(fd >= 0);
    close(fd);
    return p;
}

static hitlq *ha_connect(const char *servers, int failover_ms, int timeout_ms)
{
    hitlq_options o = { .name = "ha-bot", .timeout_ms = timeout_ms, .servers = servers,
                        .failover_ms = failover_ms };
    hitlq *c = hitlq_connect(&o);

    assert_non_null(c);
    return c;
}

static void assert_addr(const hitlq *c, uint16_t port)
{
    char want[32];

    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)port);
    assert_string_equal(hitlq_server_addr(c), want);
}

/* ---- (a) dead entries first ---------------------------------------------------- */

static void test_dead_ports_then_live(void **st)
{
    (void)st;
    char list[160];
    snprintf(list, sizeof list, "127.0.0.1:%u, [::1]:%u ,localhost:%u,127.0.0.1:%u",
             dead_port(), dead_port(), dead_port(), e2e_srv.port);
    hitlq *c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_addr(c, e2e_srv.port);
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, "ha-a-1", -1, &d), HITLQ_OK);
    assert_true(d.queued && !d.duplicate);
    hitlq_free(c);
}

/* Every server dead: the search ends after failover_ms (not much later),
 * with the last failure in the message. */
static void test_all_dead_bounded(void **st)
{
    (void)st;
    char list[96];
    snprintf(list, sizeof list, "127.0.0.1:%u,127.0.0.1:%u", dead_port(), dead_port());
    uint64_t t0 = harness_now_ms();
    hitlq *c = ha_connect(list, 400, 5000);
    uint64_t took = harness_now_ms() - t0;
    assert_int_equal(hitlq_err(c), HITLQ_EIO);
    assert_non_null(strstr(hitlq_errstr(c), "no leader among 2 servers within 400 ms"));
    assert_true(took >= 400 && took < 3000);
    /* the next call searches again (and fails the same way) */
    t0 = harness_now_ms();
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, NULL), HITLQ_EIO);
    assert_true(harness_now_ms() - t0 >= 400);
    hitlq_free(c);
}

/* ---- (b) a fake follower ------------------------------------------------------------ */

enum fake_mode {
    FAKE_HELLO_NOT_LEADER,   /* HELLO -> not_leader */
    FAKE_LATER_NOT_LEADER,   /* HELLO -> ok, the next request -> not_leader */
};

struct fake {
    int            lfd;
    uint16_t       port;
    enum fake_mode mode;
    char           leader[64];       /* "" = nil */
    atomic_int     conns;            /* connections served */
    atomic_int     requests;         /* frames read */
    atomic_uint    last_op;          /* opcode of the last frame read */
    atomic_bool    stop;
    pthread_t      th;
};

static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads one request frame (its body dropped); false on EOF or junk. */
static bool fake_read(struct fake *f, int fd, struct frame_hdr *h)
{
    uint8_t hdr[HITLQ_FRAME_HDR_LEN], body[4096];

    if (!read_full(fd, hdr, sizeof hdr) || frame_hdr_decode(hdr, sizeof body, h) != 0 ||
        !read_full(fd, body, h->body_len))
        return false;
    atomic_fetch_add(&f->requests, 1);
    atomic_store(&f->last_op, h->opcode);
    return true;
}

/* Sends a reply to h: status 0 {version: 1}, or not_leader naming f->leader. */
static void fake_reply(const struct fake *f, int fd, const struct frame_hdr *h, bool not_leader)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t hdr[HITLQ_FRAME_HDR_LEN];

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (not_leader) {
        msgpack_pack_map(&pk, 3);
        hpk_kv_str(&pk, "code", "not_leader");
        hpk_kv_str(&pk, "message", "this node is a follower");
        hpk_str(&pk, "leader");
        if (f->leader[0] != '\0')
            hpk_str(&pk, f->leader);
        else
            msgpack_pack_nil(&pk);
    } else {
        msgpack_pack_map(&pk, 1);
        hpk_kv_u64(&pk, "version", 1);
    }
    struct frame_hdr rh = { .body_len = (uint32_t)sb.size, .opcode = h->opcode,
                            .status = not_leader ? HITLQ_ST_NOT_LEADER : 0,
                            .request_id = h->request_id };
    frame_hdr_encode(hdr, &rh);
    if (write(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr ||
        write(fd, sb.data, sb.size) != (ssize_t)sb.size)
        fprintf(stderr, "fake follower: short write\n");
    msgpack_sbuffer_destroy(&sb);
}

static void fake_serve(struct fake *f, int fd)
{
    struct timeval tv = { .tv_sec = 5 };
    struct frame_hdr h;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!fake_read(f, fd, &h))
        return;
    if (f->mode == FAKE_LATER_NOT_LEADER) {
        fake_reply(f, fd, &h, false);
        if (!fake_read(f, fd, &h))
            return;
    }
    fake_reply(f, fd, &h, true);          /* then close: the status is fatal */
    /* a graceful close: what the client still sends is read, so no reset
     * destroys the reply before the client reads it */
    uint8_t sink[4096];
    tv.tv_sec = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    shutdown(fd, SHUT_WR);
    while (read(fd, sink, sizeof sink) > 0)
        ;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    while (!atomic_load(&f->stop)) {
        struct pollfd p = { .fd = f->lfd, .events = POLLIN };
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&f->conns, 1);
        fake_serve(f, fd);
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode, uint16_t leader_port)
{
    memset(f, 0, sizeof *f);
    f->mode = mode;
    if (leader_port != 0)
        snprintf(f->leader, sizeof f->leader, "127.0.0.1:%u", (unsigned)leader_port);
    f->lfd = bound_socket(&f->port, true);
    assert_true(f->lfd >= 0);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->th, NULL);
    close(f->lfd);
}

/* The list names only the follower: the client follows its `leader`. */
static void test_follower_redirects_hello(void **st)
{
    (void)st;
    static struct fake f;            /* static: outlives a failed test's longjmp */
    fake_start(&f, FAKE_HELLO_NOT_LEADER, e2e_srv.port);
    char list[64];
    snprintf(list, sizeof list, "127.0.0.1:%u", f.port);
    hitlq *c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_addr(c, e2e_srv.port);
    assert_int_equal(atomic_load(&f.conns), 1);
    assert_int_equal(atomic_load(&f.last_op), HITLQ_OP_HELLO);
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, NULL), HITLQ_OK);
    hitlq_free(c);
    fake_stop(&f);
}

/* A follower that knows no leader (nil): the client goes on down the list. */
static void test_follower_without_leader(void **st)
{
    (void)st;
    static struct fake f;            /* static: outlives a failed test's longjmp */
    fake_start(&f, FAKE_HELLO_NOT_LEADER, 0);
    char list[64];
    snprintf(list, sizeof list, "127.0.0.1:%u,127.0.0.1:%u", f.port, e2e_srv.port);
    hitlq *c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_addr(c, e2e_srv.port);
    assert_int_equal(atomic_load(&f.conns), 1);
    hitlq_free(c);

    /* alone in the list, it never serves: the search gives up with its status */
    snprintf(list, sizeof list, "127.0.0.1:%u", f.port);
    c = ha_connect(list, 300, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_ST_NOT_LEADER);
    assert_non_null(strstr(hitlq_errstr(c), "no leader among 1 servers"));
    assert_true(atomic_load(&f.conns) >= 2);
    hitlq_free(c);
    fake_stop(&f);
}

/* A server that stops being the leader after HELLO: SUBMIT is sent again
 * to the leader it names (the first item is stored once); a CLAIM is not
 * (its outcome would be unknown) and the next call reconnects. */
static void test_not_leader_on_session(void **st)
{
    (void)st;
    static struct fake f;            /* static: outlives a failed test's longjmp */
    fake_start(&f, FAKE_LATER_NOT_LEADER, e2e_srv.port);
    char list[64];
    snprintf(list, sizeof list, "127.0.0.1:%u", f.port);
    hitlq *c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_addr(c, f.port);
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, "ha-b-1", -1, &d), HITLQ_OK);
    assert_true(d.queued && !d.duplicate);
    assert_int_equal(atomic_load(&f.last_op), HITLQ_OP_SUBMIT);
    assert_addr(c, e2e_srv.port);
    hitlq_free(c);

    c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    struct hitlq_claim cl = { 0 };
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 0, 0, NULL, &cl), HITLQ_ST_NOT_LEADER);
    assert_int_equal(atomic_load(&f.last_op), HITLQ_OP_CLAIM);
    assert_addr(c, f.port);                 /* not sent again */
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get_by_key(c, "ha-b-1", &r), HITLQ_OK);  /* reconnects */
    assert_addr(c, e2e_srv.port);
    uint64_t id = 0;
    assert_true(hitlq_reply_get_u64(r, "id", &id) && id == d.id);
    hitlq_reply_free(r);
    hitlq_free(c);
    fake_stop(&f);
}

/* A pipelined batch whose first SUBMIT gets not_leader: every item is
 * sent again to the leader, and each key is one item. */
static void test_batch_not_leader(void **st)
{
    (void)st;
    static struct fake f;
    enum { N = 40 };
    fake_start(&f, FAKE_LATER_NOT_LEADER, e2e_srv.port);
    char list[64], keys[N][24];
    hitlq_item items[N];
    hitlq_decision out[N];
    int status[N];
    snprintf(list, sizeof list, "127.0.0.1:%u", f.port);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "ha-bt-%02d", i);
        items[i] = (hitlq_item){ .key = keys[i], .type = "credit_application",
                                 .fields = e2e_small_fields.data,
                                 .fields_len = e2e_small_fields.size, .priority = -1 };
    }
    hitlq *c = ha_connect(list, 5000, 5000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_int_equal(hitlq_submit_batch(c, items, N, 0, out, status), HITLQ_OK);
    assert_addr(c, e2e_srv.port);
    assert_int_equal(atomic_load(&f.last_op), HITLQ_OP_SUBMIT);
    for (int i = 0; i < N; i++) {
        hitlq_reply *r = NULL;
        uint64_t id = 0;
        assert_int_equal(status[i], HITLQ_OK);
        if (!out[i].queued || out[i].duplicate)
            fail_msg("item %d: queued %d duplicate %d id %" PRIu64, i, out[i].queued, out[i].duplicate, out[i].id);
        assert_int_equal(hitlq_get_by_key(c, keys[i], &r), HITLQ_OK);
        assert_true(hitlq_reply_get_u64(r, "id", &id) && id == out[i].id);
        hitlq_reply_free(r);
        for (int j = 0; j < i; j++)
            assert_true(out[j].id != out[i].id);
    }
    hitlq_free(c);
    fake_stop(&f);
}

/* One server (no list) closing in the middle of a batch whose frames do
 * not fit the socket buffers: every item gets an error code, none keeps
 * what was in status[] (a failed send used to leave its item's status
 * unwritten). */
static void test_batch_send_fails(void **st)
{
    (void)st;
    static struct fake f;
    enum { N = 48 };
    static char blob[60000];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hitlq_item items[N];
    static hitlq_decision out[N];
    int status[N];

    fake_start(&f, FAKE_LATER_NOT_LEADER, e2e_srv.port);
    memset(blob, 'x', sizeof blob);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_str(&pk, "memo");
    msgpack_pack_str(&pk, sizeof blob);
    msgpack_pack_str_body(&pk, blob, sizeof blob);
    for (int i = 0; i < N; i++) {
        items[i] = (hitlq_item){ .key = "ha-big", .type = "credit_application",
                                 .fields = sb.data, .fields_len = sb.size, .priority = -1 };
        status[i] = 12345;
    }
    hitlq_options o = { .name = "one", .port = f.port, .timeout_ms = 5000 };
    hitlq *c = hitlq_connect(&o);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_true(hitlq_submit_batch(c, items, N, 0, out, status) < 0);
    for (int i = 0; i < N; i++)
        if (status[i] == 12345 || status[i] == HITLQ_OK)
            fail_msg("item %d: status %d after a failed batch", i, status[i]);
    hitlq_free(c);
    msgpack_sbuffer_destroy(&sb);
    fake_stop(&f);
}

/* ---- (c) kill -9 in the middle of a stream of SUBMITs ---------------------------- */

/* Starts hitlqd again on s's data dir and config, listening on port. */
static int spawn_on_port(struct hserver *s, uint16_t port)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)port);
    unlink(s->portfile);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(s->logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execl(s->bin, s->bin, "-d", s->data, "-l", listen, "-P", s->portfile, "-c",
              s->cfgfile, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 2000; i++) {
        if (access(s->portfile, R_OK) == 0) {
            s->port = port;
            return 0;
        }
        harness_sleep_ms(5);
    }
    return -1;
}

#define STREAM_N     120
#define STREAM_KILL  40

struct killer {
    atomic_int done;                 /* SUBMITs acknowledged so far */
    uint16_t   port2;
    int        rc;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;

    while (atomic_load(&k->done) < STREAM_KILL)
        harness_sleep_ms(1);
    k->rc = harness_server_kill(&e2e_srv, SIGKILL);
    harness_sleep_ms(300);           /* the bot finds no server meanwhile */
    if (k->rc == 0)
        k->rc = spawn_on_port(&e2e_srv, k->port2);
    return NULL;
}

/* The open items of the review queue (one LIST page) into ids; the count. */
static size_t list_ids(hitlq *c, uint64_t *ids, size_t cap)
{
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_list(c, e2e_review[0], 0, 1000, &r), HITLQ_OK);
    const msgpack_object *a = hitlq_reply_get(r, "items");
    assert_true(a != NULL && a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size <= cap);
    size_t n = a->via.array.size;
    for (size_t i = 0; i < n; i++)
        ids[i] = (uint64_t)e2e_map_num(&a->via.array.ptr[i], "id");
    hitlq_reply_free(r);
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_failover_mid_stream(void **st)
{
    (void)st;
    struct killer k = { .port2 = dead_port() };
    uint16_t port1 = e2e_srv.port;
    uint64_t ids[STREAM_N], listed[STREAM_N + 8];
    char list[64], key[32];
    int spanned = 0;
    snprintf(list, sizeof list, "127.0.0.1:%u,127.0.0.1:%u", port1, k.port2);
    hitlq *c = ha_connect(list, 20000, 10000);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, killer_main, &k), 0);
    for (int i = 0; i < STREAM_N; i++) {
        hitlq_decision d;
        snprintf(key, sizeof key, "ha-c-%03d", i);
        uint64_t t0 = harness_now_ms();
        int rc = e2e_submit_queued(c, key, -1, &d);
        if (rc != HITLQ_OK)
            fail_msg("SUBMIT %s: %s: %s", key, hitlq_strerror(rc), hitlq_errstr(c));
        if (harness_now_ms() - t0 >= 250)
            spanned++;                   /* this call waited out the failover */
        ids[i] = d.id;
        atomic_fetch_add(&k.done, 1);
    }
    pthread_join(th, NULL);
    assert_int_equal(k.rc, 0);
    assert_true(spanned >= 1);
    assert_addr(c, k.port2);
    /* each key is one item, with the id its acknowledgement gave */
    for (int i = 0; i < STREAM_N; i++) {
        hitlq_reply *r = NULL;
        uint64_t id = 0;
        snprintf(key, sizeof key, "ha-c-%03d", i);
        assert_int_equal(hitlq_get_by_key(c, key, &r), HITLQ_OK);
        assert_true(hitlq_reply_get_u64(r, "id", &id));
        assert_int_equal(id, ids[i]);
        hitlq_reply_free(r);
    }
    /* and nothing else: the queue holds exactly those ids, each once */
    size_t n = list_ids(c, listed, STREAM_N + 8);
    assert_int_equal(n, STREAM_N);
    qsort(ids, STREAM_N, sizeof ids[0], cmp_u64);
    qsort(listed, n, sizeof listed[0], cmp_u64);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(listed[i], ids[i]);
        assert_true(i == 0 || ids[i] != ids[i - 1]);
    }
    hitlq_free(c);
    (void)port1;
}

/* ---- (d) bad lists ------------------------------------------------------------------- */

static void expect_einval(const char *servers, int failover_ms, const char *why)
{
    hitlq *c = ha_connect(servers, failover_ms, 1000);
    if (hitlq_err(c) != HITLQ_EINVAL || strstr(hitlq_errstr(c), why) == NULL)
        fail_msg("servers \"%.60s\": %s: %s (wanted EINVAL, \"%s\")", servers,
                 hitlq_strerror(hitlq_err(c)), hitlq_errstr(c), why);
    assert_int_equal(hitlq_call(c, HITLQ_OP_PING, NULL, 0, NULL), HITLQ_ECLOSED);
    hitlq_free(c);
}

static void test_bad_lists(void **st)
{
    (void)st;
    expect_einval("", 0, "empty server entry");
    expect_einval("127.0.0.1:7420,", 0, "empty server entry");
    expect_einval(" , 127.0.0.1:7420", 0, "empty server entry");
    expect_einval("127.0.0.1", 0, "missing :port");
    expect_einval("127.0.0.1:", 0, "port must be");
    expect_einval("127.0.0.1:0", 0, "port must be");
    expect_einval("127.0.0.1:65536", 0, "port must be");
    expect_einval("127.0.0.1:-1", 0, "port must be");
    expect_einval("127.0.0.1:74x", 0, "port must be");
    expect_einval("127.0.0.1:000007420", 0, "port must be");
    expect_einval("::1:7420", 0, "in brackets");
    expect_einval("[::1]7420", 0, "[address]:port");
    expect_einval("[::1", 0, "[address]:port");
    expect_einval(":7420", 0, "host must be");
    expect_einval("[]:7420", 0, "host must be");
    expect_einval("ho st:7420", 0, "bad character");
    expect_einval("host/x:7420", 0, "bad character");
    expect_einval("127.0.0.1:7420", -1, "failover_ms");

    char big[HITLQ_MAX_SERVERS_LEN + 64];
    size_t o = 0;
    for (int i = 0; i <= HITLQ_MAX_SERVERS; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s127.0.0.1:%d", i ? "," : "", 1000 + i);
    expect_einval(big, 0, "more than 16 servers");
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big + sizeof big - 6, ":7420", 6);
    expect_einval(big, 0, "longer than 4096 bytes");
    memset(big, 'a', 300);
    memcpy(big + 300, ":7420", 6);
    expect_einval(big, 0, "host must be 1..253");
}

/* ---- the CLI: -s and $HITLQ_SERVERS ----------------------------------------------- */

static void test_cli_servers(void **st)
{
    (void)st;
    char out[4096];
    unsigned d = dead_port(), live = e2e_srv.port;
    hitlq *c = e2e_cli("ha-cli-setup");
    hitlq_decision dec;
    assert_int_equal(e2e_submit_queued(c, "ha-cli-1", -1, &dec), HITLQ_OK);
    hitlq_free(c);

    /* -s: the dead entry is skipped, the item read from the live server */
    assert_int_equal(tutil_sh(out, sizeof out, "%s -s 127.0.0.1:%u,127.0.0.1:%u --json "
                              "get-key ha-cli-1", HARNESS_CLI, d, live), 0);
    char want[48];
    snprintf(want, sizeof want, "\"id\":%" PRIu64, dec.id);
    if (strstr(out, want) == NULL)
        fail_msg("hitlq -s get-key: %s", out);
    /* $HITLQ_SERVERS, and -p beats it (here: a dead port, so it fails) */
    assert_int_equal(tutil_sh(out, sizeof out, "HITLQ_SERVERS=127.0.0.1:%u,127.0.0.1:%u "
                              "%s stats", d, live, HARNESS_CLI), 0);
    assert_int_equal(tutil_sh(out, sizeof out, "HITLQ_SERVERS=127.0.0.1:%u %s -p %u stats",
                              live, HARNESS_CLI, d), 1);
    /* a bad list is refused with the reason; -s with -h is a usage error */
    assert_int_equal(tutil_sh(out, sizeof out, "%s -s 127.0.0.1:0 stats", HARNESS_CLI), 1);
    assert_non_null(strstr(out, "port must be a number 1..65535"));
    assert_int_equal(tutil_sh(out, sizeof out, "%s -s 127.0.0.1:%u -h 127.0.0.1 stats",
                              HARNESS_CLI, live), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_dead_ports_then_live),
        cmocka_unit_test(test_all_dead_bounded),
        E2E_TEST(test_follower_redirects_hello),
        E2E_TEST(test_follower_without_leader),
        E2E_TEST(test_not_leader_on_session),
        E2E_TEST(test_batch_not_leader),
        E2E_TEST(test_batch_send_fails),
        E2E_TEST(test_failover_mid_stream),
        cmocka_unit_test(test_bad_lists),
        E2E_TEST(test_cli_servers),
    };
    return e2e_run("failover_client", tests, sizeof tests / sizeof tests[0]);
}
