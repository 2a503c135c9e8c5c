/*
 * test_ha.c - high availability on a real PostgreSQL (tests/lib/pg_fixture.c:
 * one server, no standby; the Patroni cluster and its faults are the failover
 * suite, scripts/ha/test-ha.sh) with real hitlqd nodes under ASan:
 *  - a follower answers not_leader naming the leader, and PING;
 *  - kill -9 of the leader: the follower takes over, every acknowledged
 *    SUBMIT is there with its id, a retried SUBMIT is a duplicate of it;
 *  - the old leader comes back as a follower and catches up: both LMDB
 *    environments are byte for byte the same (every named database);
 *  - a paused leader (SIGSTOP past its lease, then SIGCONT) is fenced: its
 *    writes are never acknowledged and it stops (status 7 or 6).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"
#include "hitlq.h"
#include "pg_fixture.h"

#define N_ITEMS 60

static struct pg_fixture PG;
static char KEYDIR[128];

static int
setup(void **state)
{
    (void)state;
    snprintf(KEYDIR, sizeof KEYDIR, "/tmp/hitlq-hakey-XXXXXX");
    if (mkdtemp(KEYDIR) == NULL || pg_fixture_start(&PG) != 0)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    char cmd[200];

    (void)state;
    pg_fixture_stop(&PG);
    snprintf(cmd, sizeof cmd, "rm -rf %s", KEYDIR);
    return system(cmd) == 0 ? 0 : -1;
}

/* Empties the cluster's tables between tests (a fresh cluster each). */
static void
pg_reset(void)
{
    assert_int_equal(pg_fixture_sql(&PG, "DROP TABLE IF EXISTS hitlq_log, hitlq_leader, "
                                          "hitlq_cosig", NULL, 0), 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -f %s/audit.key", KEYDIR);
    assert_int_equal(system(cmd), 0);
}

static void
node_start(struct hserver *s, const char *name)
{
    char cfg[1024];

    snprintf(cfg, sizeof cfg,
             "http_listen = \"\"\naudit_key = \"%s/audit.key\"\nha_pg = \"%s\"\n"
             "ha_node = \"%s\"\nha_lease_ms = 2000\naudit_checkpoint_ms = 100\n",
             KEYDIR, PG.conninfo, name);
    assert_true(harness_server_start(s, cfg) > 0);
}

/* HELLO on port: the status (0 = this node serves), the leader named. */
static int
hello_status(uint16_t port, char *leader, size_t cap)
{
    struct hconn c;
    struct hframe f;
    msgpack_sbuffer sb;
    int st = -1;

    if (hconn_open(&c, port) != 0)
        return -1;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "version", 7);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "name", 4);
    msgpack_pack_str_with_body(&pk, "t", 1);
    if (hconn_call(&c, HITLQ_OP_HELLO, 1, sb.data, sb.size, &f, 5000) == 1) {
        const msgpack_object *l = hframe_get(&f, "leader");
        st = f.status;
        if (leader && l && l->type == MSGPACK_OBJECT_STR)
            snprintf(leader, cap, "%.*s", (int)l->via.str.size, l->via.str.ptr);
        hframe_free(&f);
    }
    msgpack_sbuffer_destroy(&sb);
    hconn_close(&c);
    return st;
}

static void
wait_serving(uint16_t port)
{
    for (int i = 0; i < 150; i++) {
        if (hello_status(port, NULL, 0) == 0)
            return;
        harness_sleep_ms(100);
    }
    fail_msg("port %u never started serving", (unsigned)port);
}

static hitlq *
client(uint16_t a, uint16_t b)
{
    char servers[64];
    hitlq_options o = { 0 };

    snprintf(servers, sizeof servers, "127.0.0.1:%u,127.0.0.1:%u", (unsigned)a, (unsigned)b);
    o.servers = servers;
    o.name = "ha-test";
    o.failover_ms = 20000;
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    return c;
}

static int
submit(hitlq *c, int i, hitlq_decision *d)
{
    char key[32];
    static const unsigned char fields[] = { 0x81, 0xa6, 'a', 'm', 'o', 'u', 'n', 't', 0xcd, 0x03, 0xe8 };
    snprintf(key, sizeof key, "ha-key-%d", i);
    hitlq_item it = { key, "credit_application", fields, sizeof fields, -1 };
    return hitlq_submit(c, &it, d);
}

static void
test_failover_and_same_state(void **state)
{
    struct hserver a, b;
    uint64_t ids[N_ITEMS];
    hitlq_decision d;
    char leader[128] = "", want[64], why[256];

    (void)state;
    pg_reset();
    node_start(&a, "a");
    wait_serving(a.port);
    node_start(&b, "b");
    /* the follower names the leader */
    for (int i = 0; i < 50 && (hello_status(b.port, leader, sizeof leader) != HITLQ_ST_NOT_LEADER ||
                               leader[0] == '\0'); i++)
        harness_sleep_ms(100);
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)a.port);
    assert_string_equal(leader, want);

    hitlq *c = client(b.port, a.port);
    for (int i = 0; i < N_ITEMS; i++) {
        assert_int_equal(submit(c, i, &d), HITLQ_OK);
        ids[i] = d.id;
    }
    assert_int_equal(harness_server_kill(&a, SIGKILL), 0);
    /* the follower takes over; retried keys are the same items */
    for (int i = 0; i < N_ITEMS; i++) {
        assert_int_equal(submit(c, i, &d), HITLQ_OK);
        assert_true(d.duplicate);
        assert_int_equal(d.id, ids[i]);
    }
    assert_int_equal(submit(c, N_ITEMS, &d), HITLQ_OK);
    assert_false(d.duplicate);
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)b.port);
    assert_string_equal(hitlq_server_addr(c), want);
    hitlq_free(c);

    /* the old leader comes back as a follower and catches up: with the
     * leader idle, its renewals publish the last sequence number as durable
     * and the follower applies up to it */
    assert_true(harness_server_restart(&a) > 0);
    harness_sleep_ms(2500);
    assert_int_equal(hello_status(a.port, leader, sizeof leader), HITLQ_ST_NOT_LEADER);
    assert_int_equal(harness_server_stop(&a), 0);         /* a follower stops cleanly */
    assert_int_equal(harness_server_kill(&b, SIGKILL), 0);   /* no shutdown write */
    if (lmdb_compare(a.data, b.data, why, sizeof why) != 0)
        fail_msg("the two nodes' stores differ: %s", why);
    harness_server_cleanup(&a);
    harness_server_cleanup(&b);
}

static void
test_paused_leader_is_fenced(void **state)
{
    struct hserver a, b;
    hitlq_decision d;

    (void)state;
    pg_reset();
    node_start(&a, "a");
    wait_serving(a.port);
    node_start(&b, "b");
    assert_int_equal(kill(a.pid, SIGSTOP), 0);
    wait_serving(b.port);                       /* took over after the lease */
    hitlq *c = client(b.port, b.port);
    assert_int_equal(submit(c, 1000, &d), HITLQ_OK);
    hitlq_free(c);
    assert_int_equal(kill(a.pid, SIGCONT), 0);
    /* whatever the woken leader still answers, a write is never acknowledged */
    hitlq_options o = { .host = "127.0.0.1", .port = a.port, .name = "late", .timeout_ms = 5000 };
    hitlq *old = hitlq_connect(&o);
    if (old != NULL && hitlq_err(old) == HITLQ_OK) {
        int rc = submit(old, 2000, &d);
        assert_int_not_equal(rc, HITLQ_OK);
    }
    hitlq_free(old);
    for (int i = 0; i < 100 && harness_server_alive(&a); i++)
        harness_sleep_ms(100);
    assert_false(harness_server_alive(&a));
    assert_false(harness_log_has_sanitizer(&a));
    /* the key refused on the old leader is not on the new one */
    c = client(b.port, b.port);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get_by_key(c, "ha-key-2000", &r), HITLQ_ST_NOT_FOUND);
    hitlq_reply_free(r);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&b), 0);
    harness_server_cleanup(&a);
    harness_server_cleanup(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_and_same_state),
        cmocka_unit_test(test_paused_leader_is_fenced),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
