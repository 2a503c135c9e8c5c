/*
 * test_qa_blind.c - a blind QA copy against a real hitlqd with `auth = 1`
 * (PROTOCOL.md §4.3 step 5, §4.4; server/store/qa_copy.h): the default
 * credit policy with every auto item sampled.  A specialist who claims
 * and GETs a copy cannot get to the original: the copy's id is not next
 * to the original's, its key is opaque (neither "qa:<id>" nor the
 * original's key, and no key lookup - a SUBMIT's idempotency check -
 * leads from it to the original), its GET has no qa_of, no audit link,
 * no score/model/reasons, and its history names nobody of the original.
 * An auditor's GET gives the link, checked independently: the copy's
 * fields are exactly the original's as submitted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "qa_copy.h"
#include "tutil.h"

#define TYPE "credit_application"
#define N    40

static struct hserver S;
static char PDIR[64], ADMIN_KEY[HITLQ_API_KEY_LEN + 1];
static struct credit_item *CI;
static size_t NCI;

static void copy_file(const char *src, const char *name)
{
    char path[160], *m = tutil_slurp(src, NULL);
    assert_non_null(m);
    snprintf(path, sizeof path, "%s/%s", PDIR, name);
    tutil_write_file(path, m);
    free(m);
}

static int setup(void **st)
{
    char cfg[512], path[256], *p;
    (void)st;
    snprintf(PDIR, sizeof PDIR, "/tmp/hitlq-qablind-XXXXXX");
    if (mkdtemp(PDIR) == NULL)
        return -1;
    copy_file("server/score/defaults/credit_xgb.json", "credit_xgb.json");
    copy_file("server/score/defaults/credit_profile.json", "credit_profile.json");
    p = tutil_slurp("server/score/defaults/credit_policy.json", NULL);
    char *r = p != NULL ? strstr(p, "\"rate\": 0.02") : NULL;
    if (r == NULL)
        return -1;
    memcpy(r, "\"rate\": 1.00", 12);                     /* every auto item */
    snprintf(path, sizeof path, "%s/credit_policy.json", PDIR);
    tutil_write_file(path, p);
    free(p);
    snprintf(cfg, sizeof cfg, "auth = 1\npolicy = \"%s\"\n", path);
    if (harness_server_start(&S, cfg) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/admin.key", S.data);
    p = tutil_slurp(path, NULL);
    if (p == NULL || strlen(p) < HITLQ_API_KEY_LEN)
        return -1;
    memcpy(ADMIN_KEY, p, HITLQ_API_KEY_LEN);
    free(p);
    return 0;
}

static int teardown(void **st)
{
    char cmd[128];
    (void)st;
    int rc = harness_server_stop(&S);
    harness_server_cleanup(&S);
    snprintf(cmd, sizeof cmd, "rm -rf %s", PDIR);
    return system(cmd) == 0 ? rc : -1;
}

static hitlq *connect_as(const char *key)
{
    hitlq_options o = { .host = "127.0.0.1", .port = S.port, .name = "qb",
                        .timeout_ms = 30000, .api_key = key };
    hitlq *c = hitlq_connect(&o);
    assert_non_null(c);
    if (hitlq_err(c) != HITLQ_OK)
        fail_msg("connect: %s", hitlq_errstr(c));
    return c;
}

static hitlq *new_principal(hitlq *admin, const char *name, const char *role)
{
    char key[HITLQ_API_KEY_LEN + 1];
    assert_int_equal(hitlq_key_add(admin, name, role, NULL, 0, key, sizeof key, NULL, 0),
                     HITLQ_OK);
    return connect_as(key);
}

/* True when the map value at k is nil. */
static bool is_nil(const hitlq_reply *r, const char *k)
{
    const msgpack_object *o = hitlq_reply_get(r, k);
    return o != NULL && o->type == MSGPACK_OBJECT_NIL;
}

/* What a specialist sees of a copy (CLAIM or GET reply r): nothing that
 * names the original.  keys: the bot's keys, d: its decisions. */
static void check_specialist_view(const hitlq_reply *r, uint64_t copy, char (*keys)[32],
                                  const hitlq_decision *d, bool get)
{
    char key[64], old[32];
    hobj_str(hitlq_reply_get(r, "key"), key, sizeof key);
    assert_int_equal(strlen(key), QA_COPY_KEY_LEN);
    assert_int_equal(strspn(key + 3, "0123456789abcdef"), 32);
    for (size_t i = 0; i < N; i++) {
        snprintf(old, sizeof old, "qa:%" PRIu64, d[i].id);
        assert_string_not_equal(key, old);
        assert_null(strstr(key, keys[i]));
        assert_true(copy != d[i].id + 1 && copy + 1 != d[i].id);   /* no neighbour */
    }
    assert_true(hobj_str_eq(hitlq_reply_get(r, "route"), "qa_sample"));
    assert_true(is_nil(r, "score"));
    assert_true(hobj_str_eq(hitlq_reply_get(r, "model"), ""));
    assert_int_equal(hitlq_reply_get(r, "reasons")->via.array.size, 0);
    if (!get) {
        assert_null(hitlq_reply_get(r, "qa_of"));               /* CLAIM: no link keys */
        assert_null(hitlq_reply_get(r, "audit"));
        return;
    }
    assert_true(is_nil(r, "qa_of"));                           /* GET: redacted */
    assert_true(is_nil(r, "audit"));
    const msgpack_object *h = hitlq_reply_get(r, "history");
    assert_non_null(h);
    for (uint32_t i = 0; i < h->via.array.size; i++) {        /* nobody of the original */
        const msgpack_object *e = &h->via.array.ptr[i];
        for (uint32_t j = 0; j < e->via.map.size; j++)
            assert_false(hobj_str_eq(&e->via.map.ptr[j].val, "qb-bot"));
    }
}

/* The fields of reply r packed as bytes equal the n bytes of f. */
static bool fields_equal(const hitlq_reply *r, const void *f, size_t n)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *hitlq_reply_get(r, "fields"));
    bool eq = sb.size == n && memcmp(sb.data, f, n) == 0;
    msgpack_sbuffer_destroy(&sb);
    return eq;
}

static void test_copy_reveals_nothing(void **st)
{
    (void)st;
    hitlq *admin = connect_as(ADMIN_KEY);
    hitlq *bot = new_principal(admin, "qb-bot", "bot");
    hitlq *spec = new_principal(admin, "qb-spec", "specialist");
    hitlq *aud = new_principal(admin, "qb-aud", "auditor");
    static char keys[N][32];
    hitlq_decision d[N];
    hitlq_item items[N];
    int sts[N];
    size_t n_auto = 0, n_copies = 0, i0 = 0;
    uint64_t orig0 = 0, copy0 = 0;
    char key0[64] = "";
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], 32, "qb-%s", CI[i].key);
        items[i] = (hitlq_item){ .key = keys[i], .type = TYPE, .fields = CI[i].fields,
                                 .fields_len = CI[i].fields_len, .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(bot, items, N, 16, d, sts), HITLQ_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(sts[i], HITLQ_OK);
        n_auto += !d[i].queued;
    }
    assert_true(n_auto >= 4);
    static const char *const Q[] = { "credit_qa" };
    struct hitlq_claim cl;
    while (hitlq_claim(spec, Q, 1, 60000, 0, NULL, &cl) == HITLQ_OK) {
        uint64_t copy = cl.id, seq = 0;
        check_specialist_view(cl.reply, copy, keys, d, false);
        hitlq_reply *g = NULL;
        assert_int_equal(hitlq_get(spec, copy, &g), HITLQ_OK);
        check_specialist_view(g, copy, keys, d, true);
        if (n_copies == 0)
            hobj_str(hitlq_reply_get(g, "key"), key0, sizeof key0);
        hitlq_reply_free(g);
        /* the auditor sees the link; the original's fields are the copy's */
        assert_int_equal(hitlq_get(aud, copy, &g), HITLQ_OK);
        uint64_t orig = hobj_u64(hitlq_reply_get(g, "qa_of"));
        size_t i = 0;
        while (i < N && d[i].id != orig)
            i++;
        assert_true(i < N && !d[i].queued);
        assert_true(fields_equal(g, CI[i].fields, CI[i].fields_len));
        assert_false(is_nil(g, "audit"));
        hitlq_reply_free(g);
        if (n_copies == 0)
            orig0 = orig, copy0 = copy, i0 = i;
        assert_int_equal(hitlq_resolve(spec, copy, cl.lease, "approve", NULL, NULL, &seq),
                         HITLQ_OK);
        hitlq_claim_clear(&cl);
        n_copies++;
    }
    assert_int_equal(n_copies, n_auto);               /* one copy per auto item */
    /* a key lookup with a copy's key finds nothing of the original: the
     * bot's SUBMIT under it is a new item, not a duplicate */
    hitlq_decision dk;
    hitlq_item ik = { .key = key0, .type = TYPE, .fields = CI[i0].fields,
                      .fields_len = CI[i0].fields_len, .priority = -1 };
    assert_int_equal(hitlq_submit_batch(bot, &ik, 1, 1, &dk, sts), HITLQ_OK);
    assert_int_equal(sts[0], HITLQ_OK);
    assert_false(dk.duplicate);
    assert_true(dk.id != orig0 && dk.id != copy0);
    hitlq_free(bot);
    hitlq_free(spec);
    hitlq_free(aud);
    hitlq_free(admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_reveals_nothing, setup, teardown),
    };
    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < N) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    int rc = e2e_run("qa_blind", tests, sizeof tests / sizeof tests[0]);
    credit_items_free(CI, NCI);
    return rc;
}
