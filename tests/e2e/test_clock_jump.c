/*
 * test_clock_jump.c - wall-clock steps against a real hitlqd run under
 * the clock-shift shim (tests/faults/libfault_clock.c, LD_PRELOAD): the
 * server's CLOCK_REALTIME, gettimeofday and time jump by an offset this
 * test writes while the server runs.  Leases, delays and the audit
 * checkpoint cadence must follow the monotonic clock (docs/RELIABILITY.md
 * §1.7): +1 h while a lease is held leaves the lease usable and costs
 * no attempt; -1 h still expires a lease on time and checkpoints keep
 * being signed; a restart with the wall clock behind what the store has
 * seen never moves the server's time backwards.  Each jump must be
 * logged as a `clock_jump` event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"

#define CLOCK_SHIM "build/test/faults/libfault_clock.so"
#define HOUR_MS    3600000LL

static struct hserver S;
static char off_file[PATH_MAX];

/* Writes the shim's offset (ms) and waits for it to be read (the shim
 * re-reads its file every 10 ms). */
static void
clock_shift(long long ms)
{
    char tmp[PATH_MAX + 8];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", off_file);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f, "%lld\n", ms);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, off_file), 0);
    harness_sleep_ms(60);
}

/* Runs start (a fresh start or a restart of S) with the shim preloaded
 * into the server only; ASan must accept a preload before its runtime. */
static int
clock_run(int (*start)(struct hserver *, const char *), const char *cfg)
{
    char shim[PATH_MAX], asan[512];
    const char *old = getenv("ASAN_OPTIONS");
    int port;

    if (realpath(CLOCK_SHIM, shim) == NULL) {
        fprintf(stderr, "test_clock_jump: %s missing (make test-build)\n", CLOCK_SHIM);
        return -1;
    }
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old ? old : "",
             old && *old ? ":" : "");
    char *saved = old ? strdup(old) : NULL;
    setenv("HITLQ_FAULT_CLOCK_FILE", off_file, 1);
    setenv("LD_PRELOAD", shim, 1);
    setenv("ASAN_OPTIONS", asan, 1);
    port = start(&S, cfg);
    unsetenv("LD_PRELOAD");
    if (saved) {
        setenv("ASAN_OPTIONS", saved, 1);
        free(saved);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
    return port;
}

static int
restart_wrap(struct hserver *s, const char *cfg)
{
    (void)cfg;
    return harness_server_restart(s);
}

static int
clock_start(const char *cfg)
{
    snprintf(off_file, sizeof off_file, "/tmp/hitlq-clock-%ld", (long)getpid());
    clock_shift(0);
    return clock_run(harness_server_start, cfg) < 0 ? -1 : 0;
}

static int
setup_plain(void **st)
{
    (void)st;
    return clock_start("max_attempts = 2\n");
}

static int
setup_fast_cp(void **st)
{
    (void)st;
    return clock_start("max_attempts = 2\naudit_checkpoint_ms = 200\n");
}

static int
teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    unlink(off_file);
    return rc;
}

/* Number of `clock_jump` events in the server's log. */
static int
log_clock_jumps(void)
{
    FILE *f = fopen(S.logfile, "r");
    char line[4096];
    int n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, "clock_jump") != NULL;
    fclose(f);
    return n;
}

/* The `attempts` of item id (GET). */
static uint64_t
item_attempts(hitlq *c, uint64_t id)
{
    hitlq_reply *r = NULL;
    uint64_t n;

    assert_int_equal(hitlq_get(c, id, &r), HITLQ_OK);
    n = hobj_u64(hitlq_reply_get(r, "attempts"));
    hitlq_reply_free(r);
    return n;
}

/* +1 h while a lease is held: the lease still works, no expiry, no attempt. */
static void
test_forward_jump_keeps_lease(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "alice", 30000);
    uint64_t id = e2e_must_queue(c, "fwd-1", -1), exp = 0;
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);

    assert_int_equal(cl.id, id);
    clock_shift(HOUR_MS);
    assert_int_equal(hitlq_extend(c, id, cl.lease, 60000, &exp), HITLQ_OK);
    assert_true(exp < cl.expires_ms + 61000);      /* server time did not jump */
    assert_int_equal(item_attempts(c, id), 0);
    assert_int_equal(hitlq_resolve(c, id, cl.lease, "approve", NULL, NULL, NULL), HITLQ_OK);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "extended", "resolved" };
    hitlq_reply_free(e2e_check_history(c, id, want, sizeof want / sizeof *want));
    assert_true(log_clock_jumps() >= 1);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

/* -1 h while a lease is held: it still expires on time (one attempt). */
static void
test_backward_jump_expires_on_time(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "alice", 30000);
    uint64_t id = e2e_must_queue(c, "back-1", -1);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 1500, 0), again;

    assert_int_equal(cl.id, id);
    clock_shift(-HOUR_MS);
    uint64_t t0 = harness_now_ms();
    memset(&again, 0, sizeof again);
    assert_int_equal(hitlq_claim(c, e2e_review, 1, 60000, 8000, "bob", &again), HITLQ_OK);
    uint64_t dt = harness_now_ms() - t0;
    assert_int_equal(again.id, id);
    assert_true(dt >= 1000 && dt < 5000);
    assert_int_equal(item_attempts(c, id), 1);
    assert_true(log_clock_jumps() >= 1);
    hitlq_claim_clear(&again);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

/* The size of the latest signed checkpoint. */
static uint64_t
cp_size(hitlq *c)
{
    char *note = NULL;
    size_t len = 0;
    uint64_t size = 0;

    assert_int_equal(hitlq_audit_checkpoint(c, &note, &len, &size), HITLQ_OK);
    free(note);
    return size;
}

/* -1 h: checkpoints keep their cadence (200 ms here). */
static void
test_backward_jump_keeps_signing(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "alice", 30000);
    uint64_t s0, s1 = 0, t0;

    e2e_must_queue(c, "cp-1", -1);
    harness_sleep_ms(600);
    clock_shift(-HOUR_MS);
    s0 = cp_size(c);
    e2e_must_queue(c, "cp-2", -1);                 /* the tree grows */
    t0 = harness_now_ms();
    while (harness_now_ms() - t0 < 4000 && (s1 = cp_size(c)) <= s0)
        harness_sleep_ms(50);
    assert_true(s1 > s0);
    assert_true(log_clock_jumps() >= 1);
    hitlq_free(c);
}

/* A restart with the wall clock 1 h behind what the store saw: the
 * server's time starts at the persisted high-water mark, so history stays
 * ordered and a new lease is not stretched by an hour. */
static void
test_restart_behind_persisted(void **st)
{
    (void)st;
    hitlq *c = e2e_connect(S.port, "alice", 30000);
    uint64_t id = e2e_must_queue(c, "rs-1", -1);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    uint64_t before = e2e_wall_ms();

    assert_int_equal(hitlq_release(c, id, cl.lease, 0), HITLQ_OK);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&S), 0);
    clock_shift(-HOUR_MS);
    assert_true(clock_run(restart_wrap, NULL) > 0);
    c = e2e_connect(S.port, "alice", 30000);
    cl = e2e_must_claim(c, e2e_review, 1, 2000, 0);
    assert_int_equal(cl.id, id);
    assert_true(cl.expires_ms >= before + 2000 && cl.expires_ms < e2e_wall_ms() + 3000);
    static const char *const want[] = { "submitted", "scored", "queued", "claimed",
                                        "released", "claimed" };
    hitlq_reply_free(e2e_check_history(c, id, want, sizeof want / sizeof *want));
    assert_true(log_clock_jumps() >= 1);
    hitlq_claim_clear(&cl);
    hitlq_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward_jump_keeps_lease, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_backward_jump_expires_on_time, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backward_jump_keeps_signing, setup_fast_cp,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_behind_persisted, setup_plain, teardown),
    };
    return e2e_run("clock_jump", tests, sizeof tests / sizeof *tests);
}
