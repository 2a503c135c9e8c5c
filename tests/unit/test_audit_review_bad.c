/*
 * test_audit_review_bad.c - hitlq-audit and the four-eyes REVIEW extension
 * (000C, proto/AUDIT-FORMAT.md §3.4) without a server: a log from the test
 * generator (tests/lib/audit_gen.c) gets one more signed entry, a human
 * verdict carrying a REVIEW.  A valid one (1 of 2, shown) verifies and is
 * counted by `summary`; a body that does not decode (k > n, an unknown
 * flag), a FINAL verdict that is not the n-th, and a REVIEW on a queue
 * event each make `verify`, `summary` and `drift` fail with BAD_ENTRY at
 * that entry (exit 1), as a malformed extension of the record codec does.
 * Runs the real build/test/hitlq-audit from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sys/wait.h>
#include <unistd.h>

#include "aud.h"
#include "audit_gen.h"
#include "record_ext.h"

#define TOOL "build/test/hitlq-audit"
#define N    4                       /* generated entries; entry 1 is a model decision */

static char DIR_[64];

static void set_str(struct record_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->data, v, s->len);
}

/* Appends entry N to l: a record of type `type` by bob on item "1" that
 * refers to entry 1, with a VERDICT and a REVIEW body of the 3 given bytes. */
static void add_entry(struct gen_log *l, uint8_t type, const uint8_t review[3])
{
    static struct record r, prev;
    uint8_t vbuf[RECORD_EXT_VERDICT_MAX];
    struct record_ext_verdict vd = { .outcome = { (const uint8_t *)"approve", 7 },
                                     .recommendation = { (const uint8_t *)"approve", 7 },
                                     .agreement = RECORD_AGREE_AGREED,
                                     .reviewer = { (const uint8_t *)"bob", 3 } };
    struct merkle_hasher h;
    size_t vlen = 0, len = 0, total = l->off[N - 1] + l->len[N - 1];

    assert_int_equal(record_decode(l->buf + l->off[N - 1], l->len[N - 1], &prev), RECORD_OK);
    assert_int_equal(record_ext_verdict_encode(&vd, vbuf, sizeof vbuf, &vlen), RECORD_OK);
    record_init(&r);
    r.record_type = type;
    r.index = N;
    r.time_ms = prev.time_ms + 1000;
    set_str(&r.item_id, "1");
    r.actor_type = RECORD_ACTOR_HUMAN;
    set_str(&r.actor_id, "bob");
    r.decision = type == RECORD_QUEUE_EVENT ? RECORD_DEC_DEFER : RECORD_DEC_APPROVE;
    r.ref_index = 1;
    memcpy(r.ref_leaf_hash, l->leaf[1], 32);
    r.ext[0] = (struct record_ext){ RECORD_EXT_VERDICT, (uint16_t)vlen, vbuf };
    r.ext[1] = (struct record_ext){ RECORD_EXT_REVIEW, 3, review };
    r.ext_count = 2;
    assert_non_null(l->buf = realloc(l->buf, total + RECORD_LEAF_MAX));
    assert_int_equal(record_encode(&r, l->buf + total, RECORD_LEAF_MAX, &len), RECORD_OK);
    l->off[N] = total;
    l->len[N] = len;
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(merkle_leaf_hash(&h, l->buf + total, len, l->leaf[N]), MERKLE_OK);
    merkle_hasher_clear(&h);
    l->n = N + 1;
}

/* Runs `hitlq-audit ARGS` (stdout to DIR_/out, stderr to DIR_/err); its exit status. */
static int run(const char *args)
{
    char cmd[512];
    int st;
    snprintf(cmd, sizeof cmd, "%s %s > %s/out 2> %s/err", TOOL, args, DIR_, DIR_);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool err_has(const char *s)
{
    char path[128], buf[4096] = "";
    snprintf(path, sizeof path, "%s/err", DIR_);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, s) != NULL;
}

/* A signed export of the generated log plus one entry (type, REVIEW body);
 * returns verify's exit status, and runs summary and drift too, which must
 * agree with it (0 or 1, BAD_ENTRY at entry N when 1). */
static int check(uint8_t type, uint8_t k, uint8_t n, uint8_t flags)
{
    const uint8_t review[3] = { k, n, flags };
    struct note_signer key;
    char vkey[NOTE_VKEY_MAX + 1], exp[128], args[1024], *note;
    struct gen_log l;
    struct gen_opts o = { GEN_NONE, GEN_NONE };
    size_t nlen;
    int rc[3];

    gen_signer(&key, GEN_ORIGIN, 1);
    gen_vkey(&key, vkey);
    gen_log_build(&l, N, &o);
    add_entry(&l, type, review);
    snprintf(exp, sizeof exp, "%s/exp-%u-%u-%u-%u", DIR_, type, k, n, flags);
    note = gen_checkpoint(&l, N + 1, &key, &nlen);
    gen_export(&l, N + 1, exp, note, nlen);
    free(note);
    snprintf(args, sizeof args, "verify --vkey '%s' %s", vkey, exp);
    rc[0] = run(args);
    snprintf(args, sizeof args, "summary %s --json", exp);
    rc[1] = run(args);
    if (rc[1] == 0) {
        char path[128];
        json_error_t je;
        snprintf(path, sizeof path, "%s/out", DIR_);
        json_t *j = json_load_file(path, 0, &je);
        assert_non_null(j);
        const json_t *fe = json_object_get(j, "four_eyes");
        assert_int_equal(json_integer_value(json_object_get(fe, "verdicts")), 1);
        char key_kn[8];
        snprintf(key_kn, sizeof key_kn, "%u/%u", k, n);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(fe, "k_of_n"),
                                                            key_kn)), 1);
        json_decref(j);
    } else {
        assert_true(err_has("000c"));
    }
    snprintf(args, sizeof args, "drift --vkey '%s' %s --json", vkey, exp);
    rc[2] = run(args);
    if (rc[0] == 1)
        assert_true(err_has("000c") && err_has("BAD_ENTRY"));
    gen_log_free(&l);
    note_signer_clear(&key);
    assert_int_equal(rc[1], rc[0]);
    assert_int_equal(rc[2], rc[0]);
    return rc[0];
}

static void test_valid_review(void **st)
{
    (void)st;
    assert_int_equal(check(RECORD_HUMAN_DECISION, 1, 2, RECORD_REVIEW_FLAG_SHOWN), 0);
    assert_int_equal(check(RECORD_HUMAN_DECISION, 2, 2, RECORD_REVIEW_FLAG_FINAL), 0);
}

static void test_bad_review(void **st)
{
    (void)st;
    assert_int_equal(check(RECORD_HUMAN_DECISION, 3, 2, 0), 1);          /* k > n */
    assert_int_equal(check(RECORD_HUMAN_DECISION, 1, 6, 0), 1);          /* n > 5 */
    assert_int_equal(check(RECORD_HUMAN_DECISION, 1, 2, 0x04), 1);       /* unknown flag */
    assert_int_equal(check(RECORD_HUMAN_DECISION, 1, 2, RECORD_REVIEW_FLAG_FINAL), 1);
    assert_int_equal(check(RECORD_QUEUE_EVENT, 1, 2, 0), 1);             /* not a verdict */
}

static int setup(void **st)
{
    (void)st;
    snprintf(DIR_, sizeof DIR_, "/tmp/hitlq-revbad.XXXXXX");
    return mkdtemp(DIR_) == NULL ? -1 : 0;
}

static int teardown(void **st)
{
    char cmd[128];
    (void)st;
    snprintf(cmd, sizeof cmd, "rm -rf %s", DIR_);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_review),
        cmocka_unit_test(test_bad_review),
    };
    return cmocka_run_group_tests_name("audit_review_bad", tests, setup, teardown);
}
