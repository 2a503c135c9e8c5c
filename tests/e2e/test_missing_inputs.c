/*
 * test_missing_inputs.c - SUBMIT's reasons list every missing input
 * (PROTOCOL.md §4.3): an item with 19 of the example scorecard's 20
 * inputs missing is answered with all 19 (value nil) and the one present
 * input, ordered by |contribution| descending, then name — in SUBMIT, GET
 * and CLAIM alike; the model-decision audit entry's reason_codes name the
 * same inputs in the same order.  The scorecard's inputs are read here
 * from its file.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e_util.h"
#include "harness.h"
#include "hitlq.h"
#include "hitlq_msgpack.h"
#include "record.h"
#include "wire.h"

#define CARD "server/score/defaults/credit_scorecard.json"

/* Checks the feature reasons of rs against the scorecard's inputs: each
 * exactly once, all but `present` with value nil, in the one order. */
static void
check_all_listed(const msgpack_object *rs, const char *present)
{
    json_error_t je;
    json_t *card = json_load_file(CARD, 0, &je), *f, *feats;
    size_t i, n_feat;
    double prev = INFINITY;
    char prev_name[160] = "";

    assert_non_null(card);
    feats = json_object_get(card, "features");
    n_feat = json_array_size(feats);
    assert_true(n_feat > HITLQ_MAX_REASONS + 1);              /* 9+ missing */
    assert_int_equal(rs->via.array.size, n_feat);
    json_array_foreach(feats, i, f) {
        const char *field = json_string_value(json_object_get(f, "field"));
        int seen = 0;

        for (uint32_t k = 0; k < rs->via.array.size; k++) {
            const msgpack_object *r = &rs->via.array.ptr[k], *v = wire_map_get(r, "value");

            if (!hobj_str_eq(wire_map_get(r, "feature"), field))
                continue;
            seen++;
            assert_non_null(v);
            assert_int_equal(v->type == MSGPACK_OBJECT_NIL, strcmp(field, present) != 0);
        }
        if (seen != 1)
            fail_msg("input %s listed %d times", field, seen);
    }
    for (uint32_t k = 0; k < rs->via.array.size; k++) {
        const msgpack_object *r = &rs->via.array.ptr[k], *fe = wire_map_get(r, "feature");
        double a = fabs(e2e_map_num(r, "contribution"));
        char name[160];

        snprintf(name, sizeof name, "%.*s", (int)fe->via.str.size, fe->via.str.ptr);
        assert_true(a <= prev);
        if (a == prev)
            assert_true(strcmp(prev_name, name) < 0);
        prev = a;
        snprintf(prev_name, sizeof prev_name, "%s", name);
    }
    json_decref(card);
}

/* The audit entry at index: its reason_codes are 1 + the scorecard index
 * of each reason of rs, in rs's order (no rule routed this item). */
static void
check_codes(hitlq *c, uint64_t index, const msgpack_object *rs)
{
    json_error_t je;
    json_t *card = json_load_file(CARD, 0, &je), *feats, *f;
    hitlq_reply *rep = NULL;
    size_t got = 0, i;
    struct record *rec = malloc(sizeof *rec);

    assert_non_null(card);
    assert_non_null(rec);
    feats = json_object_get(card, "features");
    assert_int_equal(hitlq_audit_entries(c, index, 1, &rep, &got), HITLQ_OK);
    const msgpack_object *e = &hitlq_reply_get(rep, "entries")->via.array.ptr[0];
    assert_int_equal(record_decode((const uint8_t *)e->via.bin.ptr, e->via.bin.size, rec),
                     RECORD_OK);
    assert_int_equal(rec->reason_count, rs->via.array.size);
    for (uint32_t k = 0; k < rs->via.array.size; k++) {
        const msgpack_object *fe = wire_map_get(&rs->via.array.ptr[k], "feature");
        long want = -1;

        json_array_foreach(feats, i, f)
            if (hobj_str_eq(fe, json_string_value(json_object_get(f, "field"))))
                want = (long)i + 1;
        assert_int_equal(rec->reason_codes[k], want);
    }
    free(rec);
    hitlq_reply_free(rep);
    json_decref(card);
}

static void
test_every_missing_input_listed(void **st)
{
    (void)st;
    hitlq *c = e2e_cli("mia");
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hitlq_reply *r = NULL, *g = NULL;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    hpk_kv_str(&pk, "receipt", "index");
    hpk_kv_str(&pk, "key", "mi-1");
    hpk_kv_str(&pk, "type", "credit_application");
    wire_pack_cstr(&pk, "fields");
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    assert_int_equal(hitlq_call(c, HITLQ_OP_SUBMIT, sb.data, sb.size, &r), HITLQ_OK);
    check_all_listed(hitlq_reply_get(r, "reasons"), "amount");
    check_codes(c, hobj_u64(wire_map_get(hitlq_reply_get(r, "audit"), "index")),
                hitlq_reply_get(r, "reasons"));
    assert_int_equal(hitlq_get(c, hobj_u64(hitlq_reply_get(r, "id")), &g), HITLQ_OK);
    check_all_listed(hitlq_reply_get(g, "reasons"), "amount");
    hitlq_reply_free(g);
    struct hitlq_claim cl = e2e_must_claim(c, e2e_review, 1, 60000, 0);
    assert_int_equal(cl.id, hobj_u64(hitlq_reply_get(r, "id")));
    check_all_listed(hitlq_reply_get(cl.reply, "reasons"), "amount");
    hitlq_claim_clear(&cl);
    hitlq_reply_free(r);
    msgpack_sbuffer_destroy(&sb);
    hitlq_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_TEST(test_every_missing_input_listed),
    };
    return e2e_run("missing_inputs", tests, sizeof tests / sizeof tests[0]);
}
