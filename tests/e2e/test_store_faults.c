/*
 * test_store_faults.c - storage failures and the clean stop against a
 * real hitlqd (issue 15, defects 1-4; docs/RELIABILITY.md §1.3 and T3).
 * The faults come from the LD_PRELOAD shim tests/faults/libfault_store.c
 * (build/test/faults/libfault_store.so), switched on by a trigger file:
 *  - an EIO on the meta-page write of the idle audit-checkpoint commit
 *    stops the server with a non-zero exit (no zombie in MDB_PANIC), and
 *    what was acknowledged is there after a restart;
 *  - a full disk refuses writes with resource_exhausted, keeps reads,
 *    logs storage_full and accepts writes again when space returns;
 *  - a full map refuses every write with resource_exhausted, never
 *    internal;
 *  - SIGTERM with ~1,000 pipelined SUBMITs in flight answers every
 *    request exactly once, ok (stored: a resubmit after a restart is a
 *    duplicate) or shutting_down (not stored), and exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_util.h"

#define FAULT_SO "build/test/faults/libfault_store.so"

static char trig_dir[64];
static char trig[128];

/* Starts hitlqd with the shim preloaded (off until the trigger exists). */
static int start_faulty(struct hserver *s, const char *cfg)
{
    return e2e_start_shimmed(s, cfg, FAULT_SO, "FAULT_STORE_TRIGGER", trig_dir, trig);
}

static void set_trigger(const char *mode)
{
    FILE *f = fopen(trig, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", mode);
    fclose(f);
}

static void clear_trigger(void)
{
    char hits[160];
    unlink(trig);
    snprintf(hits, sizeof hits, "%s.hits", trig);
    unlink(hits);
    rmdir(trig_dir);
}

/* True when the shim's hit log has a line starting with what. */
static bool hit_seen(const char *what)
{
    char path[160], line[256];
    bool seen = false;
    snprintf(path, sizeof path, "%s.hits", trig);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    while (!seen && fgets(line, sizeof line, f) != NULL)
        seen = strncmp(line, what, strlen(what)) == 0;
    fclose(f);
    return seen;
}

/* Waits up to ms for the server to exit; its wait status, or -1. */
static int wait_exit(struct hserver *s, unsigned ms)
{
    uint64_t end = harness_now_ms() + ms;
    int st;
    while (harness_now_ms() < end) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return st;
        }
        harness_sleep_ms(20);
    }
    return -1;
}

static bool log_has(const struct hserver *s, const char *needle)
{
    FILE *f = fopen(s->logfile, "r");
    char line[2048];
    bool found = false;
    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static int submit_row(hitlq *c, const char *key, size_t row, hitlq_decision *d)
{
    hitlq_item it = { .key = key, .type = "credit_application",
                      .fields = e2e_ci[row % e2e_nci].fields,
                      .fields_len = e2e_ci[row % e2e_nci].fields_len, .priority = -1 };
    return hitlq_submit(c, &it, d);
}

/* ---- defect 1: EIO in the idle checkpoint commit ----------------------------- */

static void test_idle_checkpoint_eio_stops(void **st)
{
    (void)st;
    struct hserver s;
    assert_true(start_faulty(&s, "audit_checkpoint_ms = 3000\n") > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    uint64_t id = e2e_must_queue(c, "cp-1", -1);   /* acknowledged: durable */
    set_trigger("eio-meta");                        /* before the checkpoint is due */
    int ws = wait_exit(&s, 10000);
    if (ws == -1) {                                 /* the zombie: say what it does */
        hitlq_decision d;
        int rc = e2e_submit_queued(c, "cp-2", -1, &d);
        fail_msg("server still running after the failed checkpoint commit "
                 "(meta write failed: %d); SUBMIT now gives %s (%s)",
                 hit_seen("eio-meta"), hitlq_strerror(rc), hitlq_errstr(c));
    }
    hitlq_free(c);
    assert_true(hit_seen("eio-meta"));
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 6);           /* EXIT_STORAGE, server/main.c */
    assert_true(log_has(&s, "storage_failure"));
    assert_false(harness_log_has_sanitizer(&s));
    clear_trigger();
    /* restart from what is on disk: the acknowledged item is there */
    assert_true(harness_server_restart(&s) > 0);
    c = e2e_connect(s.port, "bot", 10000);
    hitlq_decision d;
    assert_int_equal(e2e_submit_queued(c, "cp-1", -1, &d), HITLQ_OK);
    assert_true(d.duplicate);
    assert_int_equal(d.id, id);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* A batch whose sync fails: its request gets internal, the server exits 6. */
static void test_batch_eio_stops(void **st)
{
    (void)st;
    struct hserver s;
    assert_true(start_faulty(&s, NULL) > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    e2e_must_queue(c, "b-1", -1);
    set_trigger("eio");
    hitlq_decision d;
    int rc = e2e_submit_queued(c, "b-2", -1, &d);
    assert_true(rc == HITLQ_ST_INTERNAL || rc < 0);   /* never ok */
    int ws = wait_exit(&s, 10000);
    hitlq_free(c);
    assert_int_not_equal(ws, -1);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 6);
    clear_trigger();
    harness_server_cleanup(&s);
}

/* ---- defect 2: a full disk ---------------------------------------------------- */

static void test_disk_full_refuses_then_recovers(void **st)
{
    (void)st;
    struct hserver s;
    assert_true(start_faulty(&s, NULL) > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    uint64_t first = e2e_must_queue(c, "full-0", -1);
    set_trigger("enospc");
    unsigned ok = 0, refused = 0;
    char key[32];
    for (unsigned i = 1; i < 400 && refused < 20; i++) {
        hitlq_decision d;
        snprintf(key, sizeof key, "full-%u", i);
        int rc = submit_row(c, key, i, &d);
        if (rc == HITLQ_OK)
            ok++;
        else if (rc == HITLQ_ST_RESOURCE_EXHAUSTED)
            refused++;
        else
            fail_msg("submit %s on a full disk: %s (%s)", key, hitlq_strerror(rc),
                     hitlq_errstr(c));
    }
    assert_true(refused >= 20);
    assert_true(hit_seen("enospc"));
    assert_true(harness_server_alive(&s));
    hitlq_reply *r = NULL;                        /* reads keep working */
    assert_int_equal(hitlq_get(c, first, &r), HITLQ_OK);
    hitlq_reply_free(r);
    assert_true(log_has(&s, "storage_full"));
    assert_true(log_has(&s, "No space left on device") ||
                log_has(&s, "Input/output error"));
    unlink(trig);                                 /* space returns */
    hitlq_decision d;
    assert_int_equal(submit_row(c, "full-back", 1, &d), HITLQ_OK);
    assert_false(d.duplicate);
    assert_true(log_has(&s, "storage_recovered"));
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    clear_trigger();
    harness_server_cleanup(&s);
}

/* ---- defect 3: a full map ------------------------------------------------------ */

static void test_map_full_never_internal(void **st)
{
    (void)st;
    struct hserver s;
    /* no growth: map_size_max_mb = map_size_mb (tests/e2e/test_map_size.c grows it) */
    assert_true(harness_server_start(&s, "map_size_mb = 1\nmap_size_max_mb = 1\n") > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    uint64_t first = e2e_must_queue(c, "mf-0", -1);
    unsigned refused = 0, ok = 0;
    char key[32];
    for (unsigned i = 1; i < 20000 && refused < 60; i++) {
        hitlq_decision d;
        snprintf(key, sizeof key, "mf-%u", i);
        int rc = submit_row(c, key, i, &d);
        if (rc == HITLQ_OK)
            ok++;
        else if (rc == HITLQ_ST_RESOURCE_EXHAUSTED)
            refused++;
        else
            fail_msg("submit %s (after %u ok, %u refused): %s (%s)", key, ok, refused,
                     hitlq_strerror(rc), hitlq_errstr(c));
    }
    assert_int_equal(refused, 60);
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_get(c, first, &r), HITLQ_OK);
    hitlq_reply_free(r);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* ---- defect 4: SIGTERM with a full pipeline ----------------------------------- */

#define T_CONNS 8
#define T_PER   125

static void pack_submit(msgpack_sbuffer *out, uint32_t rid, const char *key)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    hpk_kv_str(&pk, "key", key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_sbuffer_write(&sb, e2e_small_fields.data, e2e_small_fields.size);
    hframe_append(out, HITLQ_OP_SUBMIT, rid, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
}

static bool reply_duplicate(const struct hframe *f)
{
    const msgpack_object *o = hframe_get(f, "duplicate");
    return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

/* Reads replies on c until EOF; status[rid-1] of each (exactly one each). */
static void read_until_eof(struct hconn *c, int *status)
{
    struct hframe f;
    int rc;
    while ((rc = hconn_read_frame(c, &f, 15000)) == 1) {
        uint32_t rid = f.request_id;
        if (rid < 1 || rid > T_PER)
            fail_msg("reply with request id %u", rid);
        if (status[rid - 1] != -1)
            fail_msg("request %u answered twice", rid);
        status[rid - 1] = f.status;
        hframe_free(&f);
    }
    assert_int_equal(rc, 0);                        /* EOF, not a timeout */
}

static void test_sigterm_answers_everything(void **st)
{
    (void)st;
    static int status[T_CONNS][T_PER];
    struct hserver s;
    struct hconn c[T_CONNS];
    char key[32];
    assert_true(harness_server_start(&s, NULL) > 0);
    for (int k = 0; k < T_CONNS; k++) {
        assert_int_equal(hconn_open(&c[k], s.port), 0);
        assert_int_equal(hconn_hello(&c[k], "bot"), 0);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        for (int i = 0; i < T_PER; i++) {
            snprintf(key, sizeof key, "term-%d-%d", k, i);
            pack_submit(&sb, (uint32_t)i + 1, key);
            status[k][i] = -1;
        }
        assert_int_equal(hconn_send(&c[k], sb.data, sb.size, 10000), 0);
        msgpack_sbuffer_destroy(&sb);
    }
    assert_int_equal(kill(s.pid, SIGTERM), 0);
    unsigned ok = 0, down = 0;
    for (int k = 0; k < T_CONNS; k++) {
        read_until_eof(&c[k], status[k]);
        hconn_close(&c[k]);
        for (int i = 0; i < T_PER; i++) {
            if (status[k][i] == -1)
                fail_msg("request %d of connection %d got no reply (%u ok, %u "
                         "shutting_down so far)", i + 1, k, ok, down);
            if (status[k][i] == 0)
                ok++;
            else if (status[k][i] == HITLQ_ST_SHUTTING_DOWN)
                down++;
            else
                fail_msg("request %d of connection %d: status %d", i + 1, k, status[k][i]);
        }
    }
    print_message("SIGTERM: %u ok, %u shutting_down\n", ok, down);
    int ws = wait_exit(&s, 15000);
    assert_true(ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    assert_false(harness_log_has_sanitizer(&s));
    /* after a restart: ok means stored, shutting_down means not stored */
    assert_true(harness_server_restart(&s) > 0);
    struct hconn v;
    assert_int_equal(hconn_open(&v, s.port), 0);
    assert_int_equal(hconn_hello(&v, "bot"), 0);
    for (int k = 0; k < T_CONNS; k++)
        for (int i = 0; i < T_PER; i++) {
            msgpack_sbuffer sb;
            struct hframe f;
            msgpack_sbuffer_init(&sb);
            snprintf(key, sizeof key, "term-%d-%d", k, i);
            pack_submit(&sb, 1, key);
            assert_int_equal(hconn_send(&v, sb.data, sb.size, 10000), 0);
            msgpack_sbuffer_destroy(&sb);
            assert_int_equal(hconn_read_frame(&v, &f, 10000), 1);
            assert_int_equal(f.status, 0);
            if (reply_duplicate(&f) != (status[k][i] == 0))
                fail_msg("%s: answered %d before SIGTERM, duplicate=%d after restart", key,
                         status[k][i], reply_duplicate(&f));
            hframe_free(&f);
        }
    hconn_close(&v);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_checkpoint_eio_stops),
        cmocka_unit_test(test_batch_eio_stops),
        cmocka_unit_test(test_disk_full_refuses_then_recovers),
        cmocka_unit_test(test_map_full_never_internal),
        cmocka_unit_test(test_sigterm_answers_everything),
    };
    return e2e_run("store_faults", tests, sizeof tests / sizeof tests[0]);
}
