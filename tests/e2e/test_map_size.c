/*
 * test_map_size.c - the LMDB map against a real hitlqd (issue 15, defect 3;
 * docs/RELIABILITY.md §2.3):
 *  - a tree-node write of the audit log that finds the map full (forced by
 *    the LD_PRELOAD shim tests/faults/libfault_mapfull.c, exactly at that
 *    put) refuses the submit with resource_exhausted, never internal, and
 *    stores nothing of it; writes go on when the map has room again;
 *  - a 1 MiB map with no room to grow (map_size_max_mb = map_size_mb)
 *    filled by submits: every refused write is resource_exhausted, reads
 *    still work, STATS shows use against the limit; restarted with a
 *    higher ceiling the store takes writes again, the refused ones as new;
 *  - map_size_mb = 1, map_size_max_mb = 4: pipelined submits all succeed
 *    while the map doubles (STATS and the `map_grown` log events), never
 *    past the ceiling; the first refusal comes only at the ceiling, and is
 *    resource_exhausted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2e_util.h"
#include "tutil.h"

#define SHIM_SO "build/test/faults/libfault_mapfull.so"
#define MIB     ((uint64_t)1 << 20)

static char trig_dir[64];
static char trig[128];

/* Starts hitlqd with the shim preloaded (off until the trigger exists). */
static int start_shimmed(struct hserver *s, const char *cfg)
{
    return e2e_start_shimmed(s, cfg, SHIM_SO, "FAULT_MAPFULL_TRIGGER", trig_dir, trig);
}

/* Lines in the shim's hit log. */
static unsigned shim_hits(void)
{
    char path[160], line[256];
    unsigned n = 0;
    snprintf(path, sizeof path, "%s.hits", trig);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strncmp(line, "anodes level=", 13) == 0;
    fclose(f);
    return n;
}

static void shim_cleanup(void)
{
    char hits[160];
    unlink(trig);
    snprintf(hits, sizeof hits, "%s.hits", trig);
    unlink(hits);
    rmdir(trig_dir);
}

/* Lines of the server log containing needle. */
static unsigned log_count(const struct hserver *s, const char *needle)
{
    FILE *f = fopen(s->logfile, "r");
    char line[2048];
    unsigned n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static int submit_row(hitlq *c, const char *key, size_t row, hitlq_decision *d)
{
    hitlq_item it = { .key = key, .type = "credit_application",
                      .fields = e2e_ci[row % e2e_nci].fields,
                      .fields_len = e2e_ci[row % e2e_nci].fields_len, .priority = -1 };
    return hitlq_submit(c, &it, d);
}

/* STATS' map figures. */
struct map_stats {
    uint64_t used, size, max;
};

static struct map_stats stats_map(hitlq *c)
{
    struct map_stats m = { 0, 0, 0 };
    hitlq_reply *r = NULL;
    assert_int_equal(hitlq_stats(c, &r), HITLQ_OK);
    assert_true(hitlq_reply_get_u64(r, "map_used_bytes", &m.used));
    assert_true(hitlq_reply_get_u64(r, "map_size_bytes", &m.size));
    assert_true(hitlq_reply_get_u64(r, "map_max_bytes", &m.max));
    hitlq_reply_free(r);
    return m;
}

/* ---- a full map at an audit tree-node write ------------------------------------ */

#define TN_SUBMITS 80

static void test_tree_node_full_is_resource_exhausted(void **st)
{
    (void)st;
    static char keys[TN_SUBMITS][32];
    int rcs[TN_SUBMITS];
    struct hserver s;
    unsigned refused = 0, ok = 0;
    assert_true(start_shimmed(&s, "map_size_mb = 64\nmap_size_max_mb = 64\n") > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    uint64_t first = e2e_must_queue(c, "tn-first", -1);
    FILE *t = fopen(trig, "w");                    /* tree-node puts: MDB_MAP_FULL */
    assert_non_null(t);
    fclose(t);
    for (unsigned i = 0; i < TN_SUBMITS; i++) {
        hitlq_decision d;
        snprintf(keys[i], sizeof keys[i], "tn-%u", i);
        rcs[i] = submit_row(c, keys[i], i, &d);
        if (rcs[i] == HITLQ_OK)
            ok++;
        else if (rcs[i] == HITLQ_ST_RESOURCE_EXHAUSTED)
            refused++;
        else
            fail_msg("submit %s with the map full at a tree node: %s (%s)", keys[i],
                     hitlq_strerror(rcs[i]), hitlq_errstr(c));
    }
    /* one level-4 node every 16 entries: each such submit, and only it */
    print_message("tree-node map full: %u ok, %u refused, %u shim hits\n", ok, refused,
                  shim_hits());
    assert_true(refused >= TN_SUBMITS / 16 - 1);
    assert_int_equal(shim_hits(), refused);
    hitlq_reply *r = NULL;                          /* reads keep working */
    assert_int_equal(hitlq_get(c, first, &r), HITLQ_OK);
    hitlq_reply_free(r);
    assert_true(log_count(&s, "storage_full") >= 1);
    unlink(trig);                                   /* room again */
    for (unsigned i = 0; i < TN_SUBMITS; i++) {     /* refused = nothing stored */
        hitlq_decision d;
        assert_int_equal(submit_row(c, keys[i], i, &d), HITLQ_OK);
        if (d.duplicate != (rcs[i] == HITLQ_OK))
            fail_msg("%s: %s before, duplicate=%d after", keys[i],
                     hitlq_strerror(rcs[i]), d.duplicate);
    }
    assert_true(log_count(&s, "storage_recovered") >= 1);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
    shim_cleanup();
}

/* ---- a full map that can grow: the batch is applied again ------------------------ */

#define RG_SUBMITS 40
#define AUDIT_TOOL "build/test/hitlq-audit"

static void test_full_map_grows_and_applies_again(void **st)
{
    (void)st;
    struct hserver s;
    char key[32], out[16384];
    assert_true(start_shimmed(&s, "map_size_mb = 8\nmap_size_max_mb = 16\n") > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    FILE *t = fopen(trig, "w");                    /* the next tree-node put: full */
    assert_non_null(t);
    fprintf(t, "once\n");
    fclose(t);
    for (unsigned i = 0; i < RG_SUBMITS; i++) {    /* none refused: the map grows */
        hitlq_decision d;
        snprintf(key, sizeof key, "rg-%u", i);
        int rc = submit_row(c, key, i, &d);
        if (rc != HITLQ_OK || d.duplicate)
            fail_msg("submit %s: %s (%s), duplicate=%d", key, hitlq_strerror(rc),
                     hitlq_errstr(c), rc == HITLQ_OK && d.duplicate);
    }
    assert_int_equal(shim_hits(), 1);              /* the map was full once */
    assert_int_equal(log_count(&s, "map_grown"), 1);
    assert_int_equal(log_count(&s, "full=true"), 1);
    assert_int_equal(log_count(&s, "commit_failed"), 0);
    assert_int_equal(log_count(&s, "storage_full"), 0);
    struct map_stats m = stats_map(c);
    assert_int_equal(m.size, 16 * MIB);
    for (unsigned i = 0; i < RG_SUBMITS; i++) {    /* each stored exactly once */
        hitlq_decision d;
        snprintf(key, sizeof key, "rg-%u", i);
        assert_int_equal(submit_row(c, key, i, &d), HITLQ_OK);
        assert_true(d.duplicate);
    }
    hitlq_free(c);
    /* the batch applied twice left one entry each: the log verifies */
    if (tutil_sh(out, sizeof out, "%s -d %s -K > %s/vk && %s export --server 127.0.0.1:%u "
                 "--out %s/exp --vkey-file %s/vk >/dev/null && %s verify --vkey-file %s/vk "
                 "%s/exp >/dev/null && %s summary --json %s/exp", HARNESS_HITLQD, s.data,
                 s.dir, AUDIT_TOOL, s.port, s.dir, s.dir, AUDIT_TOOL, s.dir, s.dir,
                 AUDIT_TOOL, s.dir) != 0)
        fail_msg("audit log after the retried batch:\n%s", out);
    json_error_t je;                               /* one model entry per submit */
    json_t *j = json_loads(strchr(out, '{') ? strchr(out, '{') : out, 0, &je);
    if (j == NULL)
        fail_msg("summary --json: %s\n%s", je.text, out);
    json_t *n = json_object_get(json_object_get(j, "actors"), "MODEL core");
    assert_true(json_is_integer(n));
    assert_int_equal(json_integer_value(n), RG_SUBMITS);
    json_decref(j);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
    shim_cleanup();
}

/* ---- a full map that may not grow; then a higher ceiling ------------------------ */

/* Submits "<prefix>-<i>" until `want` are refused (at most max tries);
 * every refusal must be resource_exhausted.  Returns the first refused i. */
static unsigned fill(hitlq *c, const char *prefix, unsigned want, unsigned max)
{
    unsigned refused = 0, first = max;
    char key[32];
    for (unsigned i = 0; i < max && refused < want; i++) {
        hitlq_decision d;
        snprintf(key, sizeof key, "%s-%u", prefix, i);
        int rc = submit_row(c, key, i, &d);
        if (rc == HITLQ_ST_RESOURCE_EXHAUSTED && refused++ == 0)
            first = i;
        else if (rc != HITLQ_OK && rc != HITLQ_ST_RESOURCE_EXHAUSTED)
            fail_msg("submit %s (%u refused before): %s (%s)", key, refused,
                     hitlq_strerror(rc), hitlq_errstr(c));
    }
    assert_int_equal(refused, want);
    return first;
}

/* Rewrites "map_size_max_mb = 1" in the server's config file to `to`. */
static void set_ceiling(struct hserver *s, const char *to)
{
    char buf[8192], *p;
    FILE *f = fopen(s->cfgfile, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(p = strstr(buf, "map_size_max_mb = 1\n"));
    f = fopen(s->cfgfile, "w");
    assert_non_null(f);
    fprintf(f, "%.*smap_size_max_mb = %s\n%s", (int)(p - buf), buf, to,
            p + strlen("map_size_max_mb = 1\n"));
    fclose(f);
}

static void test_full_map_then_higher_ceiling(void **st)
{
    (void)st;
    struct hserver s;
    assert_true(harness_server_start(&s, "map_size_mb = 1\nmap_size_max_mb = 1\n") > 0);
    hitlq *c = e2e_connect(s.port, "bot", 10000);
    uint64_t first = e2e_must_queue(c, "cap-first", -1);
    unsigned at = fill(c, "cap", 20, 20000);
    hitlq_reply *r = NULL;                          /* reads keep working */
    assert_int_equal(hitlq_get(c, first, &r), HITLQ_OK);
    hitlq_reply_free(r);
    struct map_stats m = stats_map(c);
    print_message("1 MiB map full after %u submits: used %llu of %llu (max %llu)\n", at,
                  (unsigned long long)m.used, (unsigned long long)m.size,
                  (unsigned long long)m.max);
    assert_int_equal(m.size, MIB);
    assert_int_equal(m.max, MIB);
    assert_true(m.used <= m.size && m.used * 4 >= m.size * 3);
    assert_int_equal(log_count(&s, "map_grown"), 0);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    set_ceiling(&s, "4");                            /* the operator raises it */
    assert_true(harness_server_restart(&s) > 0);
    c = e2e_connect(s.port, "bot", 10000);
    char key[32];
    snprintf(key, sizeof key, "cap-%u", at);        /* refused before: new now */
    hitlq_decision d;
    assert_int_equal(submit_row(c, key, at, &d), HITLQ_OK);
    assert_false(d.duplicate);
    for (unsigned i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "more-%u", i);
        assert_int_equal(submit_row(c, key, i, &d), HITLQ_OK);
    }
    m = stats_map(c);
    assert_int_equal(m.max, 4 * MIB);
    assert_true(m.size > MIB && m.size <= 4 * MIB);
    assert_true(log_count(&s, "map_grown") >= 1);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

/* ---- growth up to the ceiling ---------------------------------------------------- */

#define G_ROUND 200

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

/* One pipelined round of G_ROUND submits; *ok and *refused count them, any
 * other status fails the test. */
static void submit_round(struct hconn *h, unsigned round, unsigned *ok, unsigned *refused)
{
    msgpack_sbuffer sb;
    char key[32];
    msgpack_sbuffer_init(&sb);
    for (unsigned i = 0; i < G_ROUND; i++) {
        snprintf(key, sizeof key, "grow-%u-%u", round, i);
        pack_submit(&sb, i + 1, key);
    }
    assert_int_equal(hconn_send(h, sb.data, sb.size, 10000), 0);
    msgpack_sbuffer_destroy(&sb);
    *ok = *refused = 0;
    for (unsigned i = 0; i < G_ROUND; i++) {
        struct hframe f;
        assert_int_equal(hconn_read_frame(h, &f, 30000), 1);
        if (f.status == HITLQ_ST_OK)
            (*ok)++;
        else if (f.status == HITLQ_ST_RESOURCE_EXHAUSTED)
            (*refused)++;
        else
            fail_msg("round %u, request %u: status %d", round, f.request_id, f.status);
        hframe_free(&f);
    }
}

static void test_map_grows_to_ceiling(void **st)
{
    (void)st;
    struct hserver s;
    struct hconn h;
    unsigned ok = 0, refused = 0, round, stored = 0;
    assert_true(harness_server_start(&s, "map_size_mb = 1\nmap_size_max_mb = 4\n") > 0);
    hitlq *c = e2e_connect(s.port, "viewer", 10000);
    assert_int_equal(hconn_open(&h, s.port), 0);
    assert_int_equal(hconn_hello(&h, "bot"), 0);
    struct map_stats m = stats_map(c), prev = m;
    assert_int_equal(m.size, MIB);
    assert_int_equal(m.max, 4 * MIB);
    for (round = 0; round < 200 && refused == 0; round++) {
        submit_round(&h, round, &ok, &refused);
        stored += ok;
        m = stats_map(c);
        if (m.size < prev.size || m.size > m.max || m.max != 4 * MIB || m.used > m.size)
            fail_msg("round %u: map %llu -> %llu bytes, used %llu, max %llu", round,
                     (unsigned long long)prev.size, (unsigned long long)m.size,
                     (unsigned long long)m.used, (unsigned long long)m.max);
        if (refused > 0 && m.size < m.max)         /* refused below the ceiling */
            fail_msg("round %u: %u refused with the map at %llu of %llu bytes", round,
                     refused, (unsigned long long)m.size, (unsigned long long)m.max);
        prev = m;
    }
    print_message("grew 1 -> %llu MiB; %u stored, first refusal in round %u (%u ok), "
                  "used %llu, %u map_grown events\n", (unsigned long long)(m.size >> 20),
                  stored, round - 1, ok, (unsigned long long)m.used,
                  log_count(&s, "map_grown"));
    assert_true(refused > 0);                       /* the ceiling was reached */
    assert_int_equal(m.size, 4 * MIB);
    assert_true(m.used * 5 >= m.size * 4);          /* and it was really used */
    assert_true(log_count(&s, "map_grown") >= 2);   /* 1 -> 2 -> 4 */
    submit_round(&h, round, &ok, &refused);         /* at the ceiling: refused */
    assert_true(refused > 0);
    hitlq_reply *r = NULL;                          /* reads keep working */
    assert_int_equal(hitlq_get(c, 1, &r), HITLQ_OK);
    hitlq_reply_free(r);
    hconn_close(&h);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_node_full_is_resource_exhausted),
        cmocka_unit_test(test_full_map_grows_and_applies_again),
        cmocka_unit_test(test_full_map_then_higher_ceiling),
        cmocka_unit_test(test_map_grows_to_ceiling),
    };
    return e2e_run("map_size", tests, sizeof tests / sizeof tests[0]);
}
