/*
 * test_hostile_mix.c - a good client beside 200 hostile connections
 * (tests/lib/hostile_mix.c: 50 each of random-byte senders, slowloris,
 * never-reading GET/PING pipeliners and idle sockets, from 5 addresses,
 * re-opened whenever the server closes them), the correctness side of
 * `make bench` section (t), run by `make faults`.
 *
 * Only robust facts are asserted, no timing: every SUBMIT the good client
 * pipelines gets an ok reply with an id, every one of those items is then
 * readable by GET with its own key and fields while the mix still runs, the
 * server closes random senders, slowloris and idle sockets (short deadlines
 * here, so each kind cycles several times), a new client can still HELLO
 * and PING, and the server exits 0 on SIGTERM without a sanitizer report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hitlq_proto.h"
#include "hostile_mix.h"

#define HM_T_BATCH     16            /* SUBMITs (GETs) in flight at once */
#define HM_T_SUBMITS   1024          /* total items the good client submits */
#define HM_T_REPLY_MS  60000         /* generous: liveness, not speed */

static const char HM_T_CONFIG[] =
    "hello_timeout_ms = 1000\n"
    "frame_timeout_ms = 1000\n"
    "slow_reader_timeout_ms = 1000\n";

struct hm_t_item {
    uint64_t id;
    char     key[48];
    int64_t  amount;
};

/* A SUBMIT body {key, type: credit_application, fields: {amount}}. */
static void
pack_submit(msgpack_sbuffer *out, const struct hm_t_item *it, uint32_t rid)
{
    msgpack_sbuffer body;
    msgpack_packer pk;
    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_str(&pk, "key", it->key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_pack_map(&pk, 1);
    hpk_str(&pk, "amount");
    msgpack_pack_int64(&pk, it->amount);
    hframe_append(out, HITLQ_OP_SUBMIT, rid, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

static void
pack_get(msgpack_sbuffer *out, uint64_t id, uint32_t rid)
{
    msgpack_sbuffer body;
    msgpack_packer pk;
    msgpack_sbuffer_init(&body);
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "id", id);
    hframe_append(out, HITLQ_OP_GET, rid, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

/* Sends the batch [from, to) (SUBMITs when get is false, else GETs, the
 * request id = the item's index) and reads every reply. */
static void
run_batch(struct hconn *c, struct hm_t_item *items, unsigned from, unsigned to, bool get,
          _Atomic uint64_t *id_max)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    for (unsigned i = from; i < to; i++) {
        if (get)
            pack_get(&sb, items[i].id, i);
        else
            pack_submit(&sb, &items[i], i);
    }
    assert_int_equal(hconn_send(c, sb.data, sb.size, HM_T_REPLY_MS), 0);
    msgpack_sbuffer_destroy(&sb);
    for (unsigned n = from; n < to; n++) {
        struct hframe f;
        assert_int_equal(hconn_read_frame(c, &f, HM_T_REPLY_MS), 1);
        assert_int_equal(f.status, HITLQ_ST_OK);
        assert_true(f.request_id >= from && f.request_id < to);
        struct hm_t_item *it = &items[f.request_id];
        const msgpack_object *id = hframe_get(&f, "id");
        assert_non_null(id);
        if (!get) {
            it->id = hobj_u64(id);
            assert_true(it->id > 0);
            if (it->id > atomic_load(id_max))
                atomic_store(id_max, it->id);
        } else {
            assert_int_equal(hobj_u64(id), it->id);
            assert_true(hobj_str_eq(hframe_get(&f, "key"), it->key));
            const msgpack_object *fl = hframe_get(&f, "fields");
            assert_non_null(fl);
            assert_int_equal(fl->type, MSGPACK_OBJECT_MAP);
            assert_int_equal(fl->via.map.size, 1);
            assert_int_equal(fl->via.map.ptr[0].val.via.i64, it->amount);
        }
        hframe_free(&f);
    }
}

/* Every SUBMIT acknowledged and readable, every kind cycled, the server up. */
static void
test_good_client_under_hostile_mix(void **st)
{
    (void)st;
    struct hserver srv;
    /* $HITLQ_SERVER_BIN may name another server build */
    int port = harness_server_start_bin(&srv, HM_T_CONFIG, NULL);
    assert_true(port > 0);
    struct hconn good;
    assert_int_equal(hconn_open(&good, (uint16_t)port), 0);
    assert_int_equal(hconn_hello(&good, "good"), 0);

    static _Atomic uint64_t id_max;
    struct hmix_opts mo = {
        .port = (uint16_t)port, .per_kind = 50, .n_addrs = 5, .reconnect_ms = 10,
        .slow_byte_ms = 200, .get_id_max = &id_max,
    };
    struct hmix *m = hmix_start(&mo);
    assert_non_null(m);
    struct hm_t_item *items = calloc(HM_T_SUBMITS, sizeof *items);
    assert_non_null(items);
    uint64_t t0 = harness_now_ms();
    for (unsigned i = 0; i < HM_T_SUBMITS; i++) {
        snprintf(items[i].key, sizeof items[i].key, "hostile-mix-%u-%llu", i,
                 (unsigned long long)t0);
        items[i].amount = 1000 + (int64_t)i;
    }
    for (unsigned i = 0; i < HM_T_SUBMITS; i += HM_T_BATCH)
        run_batch(&good, items, i, i + HM_T_BATCH, false, &id_max);
    /* the mix runs at least 3 s, so that every kind meets its deadline */
    while (harness_now_ms() - t0 < 3000)
        assert_int_equal(hconn_ping(&good, 7), 0);
    for (unsigned i = 0; i < HM_T_SUBMITS; i += HM_T_BATCH)
        run_batch(&good, items, i, i + HM_T_BATCH, true, &id_max);

    struct hmix_stats ms;
    hmix_stop(m, &ms);
    for (int k = 0; k < HMIX_KINDS; k++) {
        printf("# %s: opened %llu, failed %llu, closed by the server %llu\n", hmix_kind_name[k],
               (unsigned long long)ms.opened[k], (unsigned long long)ms.failed[k],
               (unsigned long long)ms.closed[k]);
        assert_true(ms.opened[k] >= 50);
        if (k != HMIX_PIPE)
            assert_true(ms.closed[k] > 0);
    }
    assert_true(ms.replies[HMIX_RANDOM] > 0);
    assert_true(harness_server_alive(&srv));
    assert_int_equal(hconn_ping(&good, 8), 0);
    struct hconn fresh;
    assert_int_equal(hconn_open(&fresh, (uint16_t)port), 0);
    assert_int_equal(hconn_hello(&fresh, "fresh"), 0);
    assert_int_equal(hconn_ping(&fresh, 9), 0);
    hconn_close(&fresh);
    hconn_close(&good);
    free(items);
    assert_int_equal(harness_server_stop(&srv), 0);
    harness_server_cleanup(&srv);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_client_under_hostile_mix),
    };
    return cmocka_run_group_tests_name("hostile_mix", tests, NULL, NULL);
}
