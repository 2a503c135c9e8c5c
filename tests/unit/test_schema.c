/*
 * test_schema.c - one-comparison conditions (server/score/cond.c) and per-type
 * field schemas with validation rules (server/score/schema.c): every operator
 * and rule kind passing and failing at its boundaries, exact 64-bit
 * number comparison, missing operands, hit capping, strict loader errors
 * naming the key, and the German-credit field declarations of
 * tests/vectors/credit_features.json against all 1000 CSV items (with a
 * rough ns/item figure).  Items are JSON packed to msgpack (integers ->
 * int, reals -> float).  Run from the repo root.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>

#include "cond.h"
#include "credit_items.h"
#include "schema.h"
#include "tutil.h"

#define CREDIT_FEATURES "tests/vectors/credit_features.json"

/* ---- helpers: JSON text -> msgpack item ----------------------------------------- */

struct item {
    msgpack_sbuffer  sb;
    msgpack_unpacked up;
};

/* Unpacks the bytes in it->sb. */
static const msgpack_object *item_unpack(struct item *it)
{
    msgpack_unpacked_init(&it->up);
    assert_int_equal(msgpack_unpack_next(&it->up, it->sb.data, it->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
    return &it->up.data;
}

/* `json` must be an object; returns the msgpack map (valid until item_done). */
static const msgpack_object *item_make(struct item *it, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    msgpack_packer pk;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    tutil_pack_json(&pk, j);
    json_decref(j);
    return item_unpack(it);
}

static void item_done(struct item *it)
{
    msgpack_unpacked_destroy(&it->up);
    msgpack_sbuffer_destroy(&it->sb);
}

static json_t *jparse(const char *text)
{
    json_error_t jerr;
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
    if (text && !j)
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    return j;
}

/* ---- helpers: cond -------------------------------------------------------------- */

static struct cond *cond_from(const char *json)
{
    char err[256];
    json_t *j = jparse(json);
    struct cond *c = cond_parse(j, NULL, "t", err, sizeof err);
    json_decref(j);
    if (!c)
        fail_msg("cond_parse(%s): %s", json, err);
    return c;
}

/* Evaluates condition `cj` on item `ij`. */
static enum cond_result eval(const char *cj, const char *ij)
{
    struct item it;
    struct cond *c = cond_from(cj);
    enum cond_result r = cond_eval(c, item_make(&it, ij));
    item_done(&it);
    cond_free(c);
    return r;
}

/* Asserts that cond_parse fails with a message containing `want`. */
static void cond_fails(const char *json, const char *const *extra, const char *want)
{
    char err[256] = "";
    json_t *j = jparse(json);
    struct cond *c = cond_parse(j, extra, "pol.json: checks[0]", err, sizeof err);
    json_decref(j);
    if (c)
        fail_msg("cond_parse(%s) succeeded", json);
    if (!strstr(err, want) || strncmp(err, "pol.json: checks[0]: ", 21) != 0)
        fail_msg("cond_parse(%s): \"%s\" lacks \"%s\"", json, err, want);
}

/* ---- helpers: schema ------------------------------------------------------------ */

static struct schema *schema_from(const char *fields, const char *checks)
{
    char err[512];
    json_t *jf = jparse(fields), *jc = jparse(checks);
    struct schema *s = schema_load(jf, jc, "pol.json: types.\"t\"", err, sizeof err);
    json_decref(jf);
    json_decref(jc);
    if (!s)
        fail_msg("schema_load: %s", err);
    return s;
}

static void schema_fails(const char *fields, const char *checks, const char *want)
{
    char err[512] = "";
    json_t *jf = jparse(fields), *jc = jparse(checks);
    struct schema *s = schema_load(jf, jc, "pol.json: types.\"t\"", err, sizeof err);
    json_decref(jf);
    json_decref(jc);
    if (s)
        fail_msg("schema_load(%s, %s) succeeded", fields, checks ? checks : "NULL");
    if (!strstr(err, want) || strncmp(err, "pol.json: types.\"t\": ", 21) != 0)
        fail_msg("schema_load: \"%s\" lacks \"%s\"", err, want);
}

/* The ids of the broken rules of item `ij`, comma-separated, in out. */
static const char *broken(const struct schema *s, const char *ij, char *out, size_t len)
{
    struct item it;
    struct schema_hit hits[64];
    size_t n = schema_check(s, item_make(&it, ij), hits, 64), used = 0;

    assert_true(n <= 64);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(hits[i].id, schema_rule_id(s, hits[i].rule));
        assert_true(i == 0 || hits[i].rule > hits[i - 1].rule);   /* rule order */
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", hits[i].id);
    }
    item_done(&it);
    return out;
}

#define ASSERT_BROKEN(s, item, want)                                   \
    do {                                                               \
        char buf_[1024];                                               \
        assert_string_equal(broken((s), (item), buf_, sizeof buf_), (want)); \
    } while (0)

/* ---- cond ------------------------------------------------------------------------ */

static void test_cond_order_ops(void **st)
{
    (void)st;
    const char *le = "{\"field\": \"amount\", \"op\": \"<=\", \"value\": 10000}";
    assert_int_equal(eval(le, "{\"amount\": 10000}"), COND_TRUE);
    assert_int_equal(eval(le, "{\"amount\": 10001}"), COND_FALSE);
    assert_int_equal(eval(le, "{\"amount\": 10000.0}"), COND_TRUE);
    assert_int_equal(eval(le, "{\"amount\": 10000.000001}"), COND_FALSE);
    assert_int_equal(eval(le, "{\"amount\": -5}"), COND_TRUE);
    assert_int_equal(eval(le, "{\"other\": 1}"), COND_UNKNOWN);          /* absent */
    assert_int_equal(eval(le, "{\"amount\": null}"), COND_UNKNOWN);
    assert_int_equal(eval(le, "{\"amount\": \"5\"}"), COND_UNKNOWN);     /* string */
    assert_int_equal(eval(le, "{\"amount\": true}"), COND_UNKNOWN);
    assert_int_equal(eval(le, "{\"amount\": [1]}"), COND_UNKNOWN);
    const char *lt = "{\"field\": \"x\", \"op\": \"<\", \"value\": 2.5}";
    assert_int_equal(eval(lt, "{\"x\": 2}"), COND_TRUE);
    assert_int_equal(eval(lt, "{\"x\": 2.5}"), COND_FALSE);
    assert_int_equal(eval(lt, "{\"x\": 3}"), COND_FALSE);
    const char *gt = "{\"field\": \"x\", \"op\": \">\", \"value\": -1}";
    assert_int_equal(eval(gt, "{\"x\": -1}"), COND_FALSE);
    assert_int_equal(eval(gt, "{\"x\": -0.5}"), COND_TRUE);
    assert_int_equal(eval(gt, "{\"x\": 0}"), COND_TRUE);
    const char *ge = "{\"field\": \"age\", \"op\": \">=\", \"value\": 18}";
    assert_int_equal(eval(ge, "{\"age\": 18}"), COND_TRUE);
    assert_int_equal(eval(ge, "{\"age\": 17.999}"), COND_FALSE);
    assert_int_equal(eval(ge, "{\"age\": 17}"), COND_FALSE);
}

/* Integers beyond 2^53 compare exactly, also against floats. */
static void test_cond_exact_ints(void **st)
{
    (void)st;
    const char *gt = "{\"field\": \"x\", \"op\": \">\", \"value\": 9007199254740992}";
    assert_int_equal(eval(gt, "{\"x\": 9007199254740993}"), COND_TRUE);
    assert_int_equal(eval(gt, "{\"x\": 9007199254740992}"), COND_FALSE);
    assert_int_equal(eval(gt, "{\"x\": 9007199254740992.0}"), COND_FALSE);
    const char *eq = "{\"field\": \"x\", \"op\": \"==\", \"value\": 9007199254740993}";
    assert_int_equal(eval(eq, "{\"x\": 9007199254740992.0}"), COND_FALSE);  /* 2^53 != 2^53+1 */
    assert_int_equal(eval(eq, "{\"x\": 9007199254740993}"), COND_TRUE);
    const char *neg = "{\"field\": \"x\", \"op\": \"<\", \"value\": -9223372036854775807}";
    assert_int_equal(eval(neg, "{\"x\": -9223372036854775808}"), COND_TRUE);
    assert_int_equal(eval(neg, "{\"x\": -9.3e18}"), COND_TRUE);
    assert_int_equal(eval(neg, "{\"x\": -9.2e18}"), COND_FALSE);

    /* uint64 max, packed by hand (JSON cannot hold it) */
    struct item it;
    msgpack_packer pk;
    msgpack_sbuffer_init(&it.sb);
    msgpack_packer_init(&pk, &it.sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "x", 1);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "y", 1);
    msgpack_pack_double(&pk, 18446744073709551616.0);   /* 2^64 */
    const msgpack_object *f = item_unpack(&it);
    struct cond *c1 = cond_from("{\"field\": \"x\", \"op\": \">\", \"value\": 9223372036854775807}");
    struct cond *c2 = cond_from("{\"field\": \"x\", \"op\": \"<\", \"field2\": \"y\"}");
    struct cond *c3 = cond_from("{\"field\": \"y\", \"op\": \">\", \"field2\": \"x\"}");
    assert_int_equal(cond_eval(c1, f), COND_TRUE);
    assert_int_equal(cond_eval(c2, f), COND_TRUE);    /* 2^64-1 < 2^64 though equal as doubles */
    assert_int_equal(cond_eval(c3, f), COND_TRUE);
    for (struct cond **c = (struct cond *[]){ c1, c2, c3, NULL }; *c; c++)
        cond_free(*c);
    item_done(&it);
}

static void test_cond_num_cmp(void **st)
{
    (void)st;
    struct cond_num a = { COND_NUM_UINT, { .u = 3 } }, b = { COND_NUM_REAL, { .d = 3.0 } };
    struct cond_num n = { COND_NUM_INT, { .i = -1 } };
    static const struct { double d; int want; } vs3[] = {
        { 3.0, 0 }, { 3.5, -1 }, { 2.9999, 1 }, { -INFINITY, 1 }, { INFINITY, -1 }, { NAN, COND_CMP_NAN } };
    for (size_t i = 0; i < sizeof vs3 / sizeof vs3[0]; i++) {
        b.v.d = vs3[i].d;
        assert_int_equal(cond_num_cmp(&a, &b), vs3[i].want);
        if (vs3[i].want != COND_CMP_NAN)
            assert_int_equal(cond_num_cmp(&b, &a), -vs3[i].want);
    }
    assert_int_equal(cond_num_cmp(&n, &a), -1);
    assert_int_equal(cond_num_cmp(&a, &n), 1);
    b.v.d = -1.5;
    assert_int_equal(cond_num_cmp(&n, &b), 1);
    b.v.d = -0.5;
    assert_int_equal(cond_num_cmp(&n, &b), -1);
    char buf[40];
    b.v.d = 0.1;
    cond_num_format(&b, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    cond_num_format(&n, buf, sizeof buf);
    assert_string_equal(buf, "-1");
}

static void test_cond_equality(void **st)
{
    (void)st;
    const char *eqs = "{\"field\": \"p\", \"op\": \"==\", \"value\": \"Business\"}";
    assert_int_equal(eval(eqs, "{\"p\": \"Business\"}"), COND_TRUE);
    assert_int_equal(eval(eqs, "{\"p\": \"Busines\"}"), COND_FALSE);
    assert_int_equal(eval(eqs, "{\"p\": \"business\"}"), COND_FALSE);
    assert_int_equal(eval(eqs, "{\"p\": 1}"), COND_UNKNOWN);             /* type mismatch */
    assert_int_equal(eval(eqs, "{}"), COND_UNKNOWN);
    const char *nes = "{\"field\": \"p\", \"op\": \"!=\", \"value\": \"Business\"}";
    assert_int_equal(eval(nes, "{\"p\": \"Other\"}"), COND_TRUE);
    assert_int_equal(eval(nes, "{\"p\": \"Business\"}"), COND_FALSE);
    assert_int_equal(eval(nes, "{\"p\": false}"), COND_UNKNOWN);
    assert_int_equal(eval(nes, "{\"p\": null}"), COND_UNKNOWN);
    const char *eqb = "{\"field\": \"t\", \"op\": \"==\", \"value\": true}";
    assert_int_equal(eval(eqb, "{\"t\": true}"), COND_TRUE);
    assert_int_equal(eval(eqb, "{\"t\": false}"), COND_FALSE);
    assert_int_equal(eval(eqb, "{\"t\": 1}"), COND_UNKNOWN);
    const char *eqn = "{\"field\": \"n\", \"op\": \"==\", \"value\": 2}";
    assert_int_equal(eval(eqn, "{\"n\": 2.0}"), COND_TRUE);
    assert_int_equal(eval(eqn, "{\"n\": 2.5}"), COND_FALSE);
    assert_int_equal(eval(eqn, "{\"n\": \"2\"}"), COND_UNKNOWN);
}

static void test_cond_in(void **st)
{
    (void)st;
    const char *in = "{\"field\": \"purpose\", \"op\": \"in\", \"value\": [\"Business\", \"Repairs\"]}";
    assert_int_equal(eval(in, "{\"purpose\": \"Repairs\"}"), COND_TRUE);
    assert_int_equal(eval(in, "{\"purpose\": \"NewCar\"}"), COND_FALSE);
    assert_int_equal(eval(in, "{\"purpose\": 3}"), COND_UNKNOWN);
    assert_int_equal(eval(in, "{}"), COND_UNKNOWN);
    const char *nin = "{\"field\": \"k\", \"op\": \"not_in\", \"value\": [1, 2.5, \"x\", false]}";
    assert_int_equal(eval(nin, "{\"k\": 1.0}"), COND_FALSE);
    assert_int_equal(eval(nin, "{\"k\": 2.5}"), COND_FALSE);
    assert_int_equal(eval(nin, "{\"k\": 3}"), COND_TRUE);
    assert_int_equal(eval(nin, "{\"k\": \"x\"}"), COND_FALSE);
    assert_int_equal(eval(nin, "{\"k\": \"y\"}"), COND_TRUE);
    assert_int_equal(eval(nin, "{\"k\": false}"), COND_FALSE);
    assert_int_equal(eval(nin, "{\"k\": true}"), COND_TRUE);
    assert_int_equal(eval(nin, "{\"k\": null}"), COND_UNKNOWN);
    assert_int_equal(eval(nin, "{\"k\": {\"a\": 1}}"), COND_UNKNOWN);
}

static void test_cond_field2(void **st)
{
    (void)st;
    const char *c = "{\"field\": \"amount\", \"op\": \"<=\", \"field2\": \"credit_limit\"}";
    assert_int_equal(eval(c, "{\"amount\": 500, \"credit_limit\": 500.0}"), COND_TRUE);
    assert_int_equal(eval(c, "{\"amount\": 501, \"credit_limit\": 500}"), COND_FALSE);
    assert_int_equal(eval(c, "{\"amount\": 501}"), COND_UNKNOWN);
    assert_int_equal(eval(c, "{\"credit_limit\": 5}"), COND_UNKNOWN);
    assert_int_equal(eval(c, "{\"amount\": 1, \"credit_limit\": \"9\"}"), COND_UNKNOWN);
    const char *e = "{\"field\": \"a\", \"op\": \"==\", \"field2\": \"b\"}";
    assert_int_equal(eval(e, "{\"a\": \"x\", \"b\": \"x\"}"), COND_TRUE);
    assert_int_equal(eval(e, "{\"a\": \"x\", \"b\": \"xy\"}"), COND_FALSE);
    assert_int_equal(eval(e, "{\"a\": \"1\", \"b\": 1}"), COND_UNKNOWN);
    assert_int_equal(eval(e, "{\"a\": 1.0, \"b\": 1}"), COND_TRUE);
}

static void test_cond_text_and_accessors(void **st)
{
    (void)st;
    struct cond *c = cond_from("{\"field\": \"amount\", \"op\": \"<=\", \"field2\": \"credit_limit\"}");
    assert_string_equal(cond_text(c), "amount <= credit_limit");
    assert_string_equal(cond_field(c), "amount");
    assert_string_equal(cond_field2(c), "credit_limit");
    cond_free(c);
    c = cond_from("{\"field\": \"purpose\", \"op\": \"in\", \"value\": [\"Business\", 2, true, 0.25]}");
    assert_string_equal(cond_text(c), "purpose in [\"Business\", 2, true, 0.25]");
    assert_null(cond_field2(c));
    cond_free(c);
    c = cond_from("{\"field\": \"x\", \"op\": \"not_in\", \"value\": [-3]}");
    assert_string_equal(cond_text(c), "x not_in [-3]");
    cond_free(c);
    c = cond_from("{\"field\": \"amount\", \"op\": \">\", \"value\": 1e21}");
    assert_string_equal(cond_text(c), "amount > 1e+21");
    cond_free(c);
    /* a long list is cut with "..." */
    char big[8192] = "{\"field\": \"f\", \"op\": \"in\", \"value\": [";
    for (int i = 0; i < 200; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"value%03d\"", i ? "," : "", i);
    strcat(big, "]}");
    c = cond_from(big);
    size_t len = strlen(cond_text(c));
    assert_true(len > 100 && len < 400);
    assert_string_equal(cond_text(c) + len - 3, "...");
    assert_int_equal(cond_eval_with(c, NULL, NULL), COND_UNKNOWN);
    cond_free(c);
}

static void test_cond_parse_errors(void **st)
{
    (void)st;
    cond_fails("{\"field\": \"a\", \"op\": \"<\", \"value\": 1, \"id\": \"x\"}", NULL,
               "unknown key \"id\"");
    static const char *const extra[] = { "id", NULL };
    cond_fails("{\"field\": \"a\", \"op\": \"<\", \"value\": 1, \"id\": \"x\", \"zz\": 1}", extra,
               "unknown key \"zz\"");
    cond_fails("{\"field\": \"a\", \"op\": \"=<\", \"value\": 1}", NULL, "\"op\"");
    cond_fails("{\"field\": \"a\", \"value\": 1}", NULL, "\"op\"");
    cond_fails("{\"field\": \"a\", \"op\": \"<\", \"value\": 1, \"field2\": \"b\"}", NULL,
               "exactly one of \"value\" and \"field2\"");
    cond_fails("{\"field\": \"a\", \"op\": \"<\"}", NULL, "exactly one of \"value\" and \"field2\"");
    cond_fails("{\"field\": \"\", \"op\": \"<\", \"value\": 1}", NULL, "\"field\"");
    cond_fails("{\"field\": \"a\\u0001\", \"op\": \"<\", \"value\": 1}", NULL, "\"field\"");
    cond_fails("{\"op\": \"<\", \"value\": 1}", NULL, "\"field\"");
    cond_fails("{\"field\": \"a\", \"op\": \"<\", \"field2\": 3}", NULL, "\"field2\"");
    cond_fails("{\"field\": \"a\", \"op\": \"<\", \"value\": \"10\"}", NULL,
               "\"value\" (op \"<\") must be a number");
    cond_fails("{\"field\": \"a\", \"op\": \"==\", \"value\": null}", NULL, "\"value\"");
    cond_fails("{\"field\": \"a\", \"op\": \"==\", \"value\": [1]}", NULL, "\"value\"");
    cond_fails("{\"field\": \"a\", \"op\": \"in\", \"value\": 1}", NULL, "\"value\" must be an array");
    cond_fails("{\"field\": \"a\", \"op\": \"in\", \"value\": []}", NULL, "\"value\" must be an array");
    cond_fails("{\"field\": \"a\", \"op\": \"in\", \"value\": [1, [2]]}", NULL, "\"value\"[1]");
    cond_fails("{\"field\": \"a\", \"op\": \"in\", \"field2\": \"b\"}", NULL, "\"field2\" cannot");
    cond_fails("[1]", NULL, "must be an object");
    char big[4096] = "{\"field\": \"a\", \"op\": \"in\", \"value\": [";
    for (int i = 0; i < 257; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s%d", i ? "," : "", i);
    strcat(big, "]}");
    cond_fails(big, NULL, "1..256");
}

static void test_cond_lookup(void **st)
{
    struct item it;
    const msgpack_object *f = item_make(&it, "{\"a\": 1, \"ab\": 2, \"b\": \"x\"}");
    const msgpack_object *v = cond_lookup(f, "ab");
    assert_non_null(v);
    assert_int_equal(v->via.u64, 2);
    assert_null(cond_lookup(f, "abc"));
    assert_null(cond_lookup(f, ""));
    assert_null(cond_lookup(&f->via.map.ptr[0].val, "a"));    /* not a map */
    assert_null(cond_lookup(NULL, "a"));
    item_done(&it);
    (void)st;
}

/* ---- schema: rules ------------------------------------------------------------------ */

static void test_schema_required(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"amount\": {\"type\": \"number\", \"required\": true, \"missing\": [\"unknown\", -1]},"
        " \"note\": {\"type\": \"string\", \"missing\": [\"\"]},"
        " \"opt\": {\"type\": \"integer\", \"required\": false}}", NULL);
    ASSERT_BROKEN(s, "{\"amount\": 5}", "");
    ASSERT_BROKEN(s, "{}", "amount.required");
    ASSERT_BROKEN(s, "{\"amount\": null}", "amount.required");
    ASSERT_BROKEN(s, "{\"amount\": \"unknown\"}", "amount.required");
    ASSERT_BROKEN(s, "{\"amount\": -1.0}", "amount.required");       /* numeric sentinel */
    ASSERT_BROKEN(s, "{\"amount\": \"Unknown\"}", "amount.type");
    ASSERT_BROKEN(s, "{\"amount\": 0, \"note\": \"\", \"opt\": null}", "");   /* optional missing */
    ASSERT_BROKEN(s, "{\"amount\": 0, \"other\": [1, 2], \"x\": {}}", "");    /* undeclared ignored */
    struct item it;
    const msgpack_object *f = item_make(&it, "{\"amount\": \"unknown\", \"note\": \"\", \"x\": null}");
    assert_true(schema_is_missing(s, "amount", cond_lookup(f, "amount")));
    assert_true(schema_is_missing(s, "note", cond_lookup(f, "note")));
    assert_true(schema_is_missing(s, "opt", NULL));
    assert_true(schema_is_missing(s, "x", cond_lookup(f, "x")));           /* undeclared nil */
    assert_false(schema_is_missing(s, "undeclared", cond_lookup(f, "note")));   /* "" */
    assert_false(schema_is_missing(s, "opt", cond_lookup(f, "note")));
    item_done(&it);
    schema_free(s);
}

static void test_schema_types(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"n\": {\"type\": \"number\"}, \"i\": {\"type\": \"integer\"},"
        " \"s\": {\"type\": \"string\"}, \"b\": {\"type\": \"boolean\"}}", NULL);
    ASSERT_BROKEN(s, "{\"n\": 1, \"i\": 2, \"s\": \"x\", \"b\": true}", "");
    ASSERT_BROKEN(s, "{\"n\": 1.5, \"i\": 2.0, \"s\": \"\", \"b\": false}", "");
    ASSERT_BROKEN(s, "{\"n\": -7, \"i\": -3}", "");
    ASSERT_BROKEN(s, "{\"n\": \"1\", \"i\": 2.5, \"s\": 3, \"b\": 1}", "n.type,i.type,s.type,b.type");
    ASSERT_BROKEN(s, "{\"n\": true, \"i\": \"2\", \"s\": true, \"b\": \"true\"}",
                  "n.type,i.type,s.type,b.type");
    ASSERT_BROKEN(s, "{\"n\": [1], \"i\": {}}", "n.type,i.type");
    /* NaN / infinity: packed by hand */
    struct item it;
    msgpack_packer pk;
    msgpack_sbuffer_init(&it.sb);
    msgpack_packer_init(&pk, &it.sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_double(&pk, NAN);
    msgpack_pack_str_with_body(&pk, "i", 1);
    msgpack_pack_float(&pk, INFINITY);
    struct schema_hit hits[4];
    assert_int_equal(schema_check(s, item_unpack(&it), hits, 4), 2);
    assert_string_equal(hits[0].id, "n.type");
    assert_string_equal(hits[0].message, "n must be a number");
    assert_string_equal(hits[0].field, "n");
    assert_string_equal(hits[1].id, "i.type");
    assert_string_equal(hits[1].message, "i must be an integer");
    item_done(&it);
    enum schema_type t;
    assert_int_equal(schema_field_type(s, "i", &t), 1);
    assert_int_equal(t, SCHEMA_INTEGER);
    assert_int_equal(schema_field_type(s, "b", &t), 3);
    assert_int_equal(t, SCHEMA_BOOLEAN);
    assert_int_equal(schema_field_type(s, "zz", &t), -1);
    schema_free(s);
}

static void test_schema_min_max(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"amount\": {\"type\": \"number\", \"min\": 0, \"max\": 1000000},"
        " \"months\": {\"type\": \"integer\", \"min\": 1, \"max\": 120},"
        " \"rate\": {\"type\": \"number\", \"min\": 0.5}}", NULL);
    ASSERT_BROKEN(s, "{\"amount\": 0, \"months\": 1, \"rate\": 0.5}", "");        /* inclusive */
    ASSERT_BROKEN(s, "{\"amount\": 1000000, \"months\": 120.0}", "");
    ASSERT_BROKEN(s, "{\"amount\": 1000000.0, \"months\": 120, \"rate\": 1e300}", "");
    ASSERT_BROKEN(s, "{\"amount\": -1, \"months\": 0, \"rate\": 0.4999}", "amount.min,months.min,rate.min");
    ASSERT_BROKEN(s, "{\"amount\": -0.001, \"months\": 121}", "amount.min,months.max");
    ASSERT_BROKEN(s, "{\"amount\": 1000000.5, \"months\": 0.0}", "amount.max,months.min");
    ASSERT_BROKEN(s, "{\"months\": 120.5}", "months.type");                       /* type first */
    struct item it;
    struct schema_hit h[2];
    assert_int_equal(schema_check(s, item_make(&it, "{\"amount\": -1, \"months\": 999}"), h, 2), 2);
    assert_string_equal(h[0].message, "amount must be >= 0");
    assert_string_equal(h[1].message, "months must be <= 120");
    assert_string_equal(h[1].field, "months");
    item_done(&it);
    schema_free(s);
}

static void test_schema_values_max_length(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"checking\": {\"type\": \"string\", \"values\": [\"lt.0\", \"0.to.200\", \"none\"],"
        "                \"missing\": [\"unknown\", \"\"]},"
        " \"note\": {\"type\": \"string\", \"max_length\": 3}}", NULL);
    ASSERT_BROKEN(s, "{\"checking\": \"lt.0\", \"note\": \"abc\"}", "");
    ASSERT_BROKEN(s, "{\"checking\": \"none\", \"note\": \"\\u00e4\\u00f6\\u00fc\"}", "");  /* 3 chars, 6 bytes */
    ASSERT_BROKEN(s, "{\"checking\": \"unknown\"}", "");                  /* sentinel, optional */
    ASSERT_BROKEN(s, "{\"checking\": \"lt.\", \"note\": \"abcd\"}", "checking.values,note.max_length");
    ASSERT_BROKEN(s, "{\"checking\": \"LT.0\"}", "checking.values");
    ASSERT_BROKEN(s, "{\"checking\": \"lt.00\", \"note\": \"\\u00e4\\u00f6\\u00fcx\"}",
                  "checking.values,note.max_length");
    assert_int_equal(schema_n_rules(s), 4);
    assert_string_equal(schema_rule_message(s, 1),
                        "checking must be one of \"lt.0\", \"0.to.200\", \"none\"");
    assert_string_equal(schema_rule_message(s, 3), "note must be at most 3 characters");
    size_t n = 9;
    const char *const *v = schema_field_values(s, "checking", &n);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "lt.0");
    assert_string_equal(v[2], "none");
    assert_null(schema_field_values(s, "note", &n));
    assert_int_equal(n, 0);
    assert_null(schema_field_values(s, "nope", &n));
    schema_free(s);
}

static void test_schema_checks(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"age\": {\"type\": \"integer\", \"missing\": [-1]}}",
        "[{\"id\": \"amount_within_limit\", \"field\": \"amount\", \"op\": \"<=\","
        "  \"field2\": \"credit_limit\", \"message\": \"amount above the credit limit\"},"
        " {\"id\": \"adult\", \"field\": \"age\", \"op\": \">=\", \"value\": 18},"
        " {\"id\": \"purpose_ok\", \"field\": \"purpose\", \"op\": \"in\", \"value\": [\"Business\", \"Repairs\"]},"
        " {\"id\": \"not_vacation\", \"field\": \"purpose\", \"op\": \"not_in\", \"value\": [\"Vacation\"]},"
        " {\"id\": \"age_known\", \"field\": \"age\", \"op\": \"!=\", \"value\": 0}]");
    const char *good = "{\"amount\": 100, \"credit_limit\": 100, \"age\": 18, \"purpose\": \"Business\"}";
    ASSERT_BROKEN(s, good, "");
    ASSERT_BROKEN(s, "{\"amount\": 101, \"credit_limit\": 100, \"age\": 17, \"purpose\": \"Vacation\"}",
                  "amount_within_limit,adult,purpose_ok,not_vacation");
    /* missing operands: every check is broken */
    ASSERT_BROKEN(s, "{}", "amount_within_limit,adult,purpose_ok,not_vacation,age_known");
    ASSERT_BROKEN(s, "{\"amount\": 1, \"age\": 30, \"purpose\": \"Repairs\"}", "amount_within_limit");
    /* the sentinel -1 counts as missing for a check operand (else -1 != 0 would hold) */
    ASSERT_BROKEN(s, "{\"amount\": 1, \"credit_limit\": 2, \"age\": -1, \"purpose\": \"Repairs\"}",
                  "adult,age_known");
    ASSERT_BROKEN(s, "{\"amount\": 1, \"credit_limit\": 2, \"age\": 40, \"purpose\": 7}",
                  "purpose_ok,not_vacation");
    assert_int_equal(schema_n_rules(s), 6);   /* age.type + 5 checks */
    assert_string_equal(schema_rule_id(s, 0), "age.type");
    assert_string_equal(schema_rule_id(s, 1), "amount_within_limit");
    assert_string_equal(schema_rule_message(s, 1), "amount above the credit limit");
    assert_string_equal(schema_rule_message(s, 2), "age >= 18");             /* default */
    assert_string_equal(schema_rule_field(s, 2), "age");
    assert_string_equal(schema_rule_message(s, 3), "purpose in [\"Business\", \"Repairs\"]");
    assert_null(schema_rule_id(s, 6));
    schema_free(s);
}

static void test_schema_hits_capped(void **st)
{
    (void)st;
    struct schema *s = schema_from(
        "{\"a\": {\"type\": \"number\", \"required\": true},"
        " \"b\": {\"type\": \"number\", \"required\": true},"
        " \"c\": {\"type\": \"string\", \"required\": true}}",
        "[{\"id\": \"k\", \"field\": \"z\", \"op\": \"==\", \"value\": 1}]");
    struct item it;
    const msgpack_object *f = item_make(&it, "{\"c\": 5}");
    struct schema_hit hits[2] = { { 0, 0, 0, 0 }, { 0, 0, 0, 0 } };
    assert_int_equal(schema_check(s, f, hits, 1), 4);
    assert_string_equal(hits[0].id, "a.required");
    assert_string_equal(hits[0].message, "a is required");
    assert_null(hits[1].id);                                   /* untouched */
    assert_int_equal(schema_check(s, f, NULL, 0), 4);
    assert_int_equal(schema_check(s, f, hits, 2), 4);
    assert_string_equal(hits[1].id, "b.required");
    assert_int_equal(hits[1].rule, 2);                          /* a.required, a.type, b.required */
    item_done(&it);
    /* a non-map counts as an empty map */
    f = item_make(&it, "{\"x\": [1]}");
    assert_int_equal(schema_check(s, &f->via.map.ptr[0].val, NULL, 0), 4);
    item_done(&it);
    schema_free(s);
}

static void test_schema_empty(void **st)
{
    (void)st;
    struct schema *s = schema_from(NULL, NULL);
    struct item it;
    assert_int_equal(schema_n_rules(s), 0);
    assert_int_equal(schema_n_fields(s), 0);
    assert_int_equal(schema_check(s, item_make(&it, "{\"a\": 1}"), NULL, 0), 0);
    assert_true(schema_is_missing(s, "a", NULL));
    item_done(&it);
    schema_free(s);
    s = schema_from("{}", "[]");
    assert_int_equal(schema_n_rules(s), 0);
    schema_free(s);
}

static void test_schema_load_errors(void **st)
{
    (void)st;
    schema_fails("{\"a\": {\"type\": \"number\", \"mni\": 0}}", NULL, "fields.\"a\": unknown key \"mni\"");
    schema_fails("{\"a\": {\"type\": \"number\", \"min\": 5, \"max\": 4}}", NULL,
                 "fields.\"a\": \"min\" is greater than \"max\"");
    schema_fails("{\"a\": {\"type\": \"number\", \"min\": \"5\"}}", NULL, "\"min\" must be a number");
    schema_fails("{\"a\": {\"type\": \"string\", \"max\": 4}}", NULL, "\"max\" applies only");
    schema_fails("{\"a\": {\"type\": \"number\", \"values\": [\"x\"]}}", NULL, "\"values\" applies only");
    schema_fails("{\"a\": {\"type\": \"integer\", \"max_length\": 3}}", NULL, "\"max_length\" applies only");
    schema_fails("{\"a\": {\"type\": \"string\", \"max_length\": -1}}", NULL, "\"max_length\" must be");
    schema_fails("{\"a\": {\"type\": \"string\", \"values\": []}}", NULL, "\"values\" must be");
    schema_fails("{\"a\": {\"type\": \"string\", \"values\": [\"x\", 1]}}", NULL, "\"values\"[1]");
    schema_fails("{\"a\": {\"type\": \"string\", \"values\": [\"x\", \"x\"]}}", NULL, "duplicate value \"x\"");
    schema_fails("{\"a\": {\"type\": \"string\", \"missing\": [true]}}", NULL, "\"missing\"[0]");
    schema_fails("{\"a\": {\"type\": \"string\", \"missing\": \"\"}}", NULL, "\"missing\" must be");
    schema_fails("{\"a\": {\"type\": \"float\"}}", NULL, "fields.\"a\": \"type\" must be one of");
    schema_fails("{\"a\": {\"required\": true}}", NULL, "\"type\"");
    schema_fails("{\"a\": {\"type\": \"number\", \"required\": 1}}", NULL, "\"required\" must be a boolean");
    schema_fails("{\"a\": {\"type\": \"number\", \"description\": 1}}", NULL, "\"description\"");
    schema_fails("{\"a\": \"number\"}", NULL, "fields.\"a\": must be an object");
    schema_fails("{\"\": {\"type\": \"number\"}}", NULL, "field names must be printable");
    schema_fails("[]", NULL, "\"fields\" must be an object");
    schema_fails(NULL, "{}", "\"checks\" must be an array");
}

static void test_schema_check_errors(void **st)
{
    (void)st;
    const char *ok = "{\"a\": {\"type\": \"number\"}}";
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"~\", \"value\": 1}]",
                 "checks[0]: \"op\" must be one of");
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"<\", \"value\": 1, \"field2\": \"b\"}]",
                 "checks[0]: exactly one of \"value\" and \"field2\"");
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"<\", \"value\": 1},"
                     " {\"id\": \"c\", \"field\": \"a\", \"op\": \">\", \"value\": 0}]",
                 "checks[1]: duplicate rule id \"c\"");
    schema_fails(ok, "[{\"id\": \"a.type\", \"field\": \"a\", \"op\": \"<\", \"value\": 1}]",
                 "checks[0]: duplicate rule id \"a.type\"");
    schema_fails(ok, "[{\"field\": \"a\", \"op\": \"<\", \"value\": 1}]", "checks[0]: \"id\"");
    schema_fails(ok, "[{\"id\": \"bad id\\n\", \"field\": \"a\", \"op\": \"<\", \"value\": 1}]",
                 "checks[0]: \"id\"");
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"<\", \"value\": 1, \"msg\": \"x\"}]",
                 "checks[0]: unknown key \"msg\"");
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"<\", \"value\": 1, \"message\": \"\"}]",
                 "checks[0]: \"message\"");
    schema_fails(ok, "[{\"id\": \"c\", \"field\": \"a\", \"op\": \"<\", \"value\": 1, \"message\": 5}]",
                 "checks[0]: \"message\"");
}

static void test_schema_limits(void **st)
{
    (void)st;
    static char big[64 * 1024];
    strcpy(big, "{");
    for (int i = 0; i < 257; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"f%d\": {\"type\": \"number\"}",
                 i ? "," : "", i);
    strcat(big, "}");
    schema_fails(big, NULL, "at most 256 fields");
    strcpy(big, "[");
    for (int i = 0; i < 257; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "%s{\"id\": \"c%d\", \"field\": \"a\", \"op\": \"<\", \"value\": 1}", i ? "," : "", i);
    strcat(big, "]");
    schema_fails(NULL, big, "at most 256 checks");
    big[strlen(big) - 1] = '\0';
    *strrchr(big, '{') = '\0';
    big[strlen(big) - 1] = ']';                                 /* 256 checks: fine */
    struct schema *s = schema_from("{\"a\": {\"type\": \"number\"}}", big);
    assert_int_equal(schema_n_rules(s), 257);
    schema_free(s);
}

/* ---- schema: the German-credit declarations on every CSV item --------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void test_schema_credit_items(void **st)
{
    (void)st;
    if (access(CREDIT_ITEMS_CSV, R_OK) != 0) {
        print_message("skipped: %s not found (run from the repo root)\n", CREDIT_ITEMS_CSV);
        skip();
    }
    json_t *root = json_load_file(CREDIT_FEATURES, JSON_REJECT_DUPLICATES, NULL), *checks = jparse(
        "[{\"id\": \"adult\", \"field\": \"age\", \"op\": \">=\", \"value\": 18},"
        " {\"id\": \"amount_cap\", \"field\": \"amount\", \"op\": \"<=\", \"value\": 250000},"
        " {\"id\": \"no_vacation\", \"field\": \"purpose\", \"op\": \"not_in\", \"value\": [\"Vacation\"]}]");
    char err[512];
    assert_non_null(root);
    struct schema *s = schema_load(json_object_get(root, "fields"), checks, CREDIT_FEATURES,
                                   err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    assert_int_equal(schema_n_fields(s), 20);
    struct credit_item *items;
    size_t n;
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &items, &n), 0);
    assert_int_equal(n, 1000);
    msgpack_unpacked *up = calloc(n, sizeof *up);
    assert_non_null(up);
    for (size_t i = 0; i < n; i++) {
        msgpack_unpacked_init(&up[i]);
        assert_int_equal(msgpack_unpack_next(&up[i], (const char *)items[i].fields,
                                             items[i].fields_len, NULL), MSGPACK_UNPACK_SUCCESS);
        struct schema_hit h[4];
        size_t k = schema_check(s, &up[i].data, h, 4);
        if (k != 0)
            fail_msg("%s breaks %s", items[i].key, h[0].id);
    }
    /* one item broken three ways */
    struct item it;
    struct schema_hit h[8];
    assert_int_equal(schema_check(s, item_make(&it, "{\"duration_months\": 12.5, \"amount\": 100,"
                                  " \"age\": 17, \"purpose\": \"Vacation\", \"checking_account\": \"x\","
                                  " \"credit_history\": \"PaidDuly\"}"), h, 8), 5);
    assert_string_equal(h[0].id, "duration_months.type");
    assert_string_equal(h[1].id, "age.min");
    assert_string_equal(h[2].id, "checking_account.values");
    assert_string_equal(h[3].id, "adult");
    assert_string_equal(h[4].id, "no_vacation");
    item_done(&it);
    size_t reps = 200, total = 0;
    double t0 = now_ns();
    for (size_t r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++)
            total += schema_check(s, &up[i].data, h, 8);
    double dt = now_ns() - t0;
    assert_int_equal(total, 0);
    print_message("schema_check: %.0f ns/item (20 fields, 3 checks; this build)\n",
                  dt / (double)(reps * n));
    for (size_t i = 0; i < n; i++)
        msgpack_unpacked_destroy(&up[i]);
    free(up);
    credit_items_free(items, n);
    schema_free(s);
    json_decref(checks);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cond_order_ops),
        cmocka_unit_test(test_cond_exact_ints),
        cmocka_unit_test(test_cond_num_cmp),
        cmocka_unit_test(test_cond_equality),
        cmocka_unit_test(test_cond_in),
        cmocka_unit_test(test_cond_field2),
        cmocka_unit_test(test_cond_text_and_accessors),
        cmocka_unit_test(test_cond_parse_errors),
        cmocka_unit_test(test_cond_lookup),
        cmocka_unit_test(test_schema_required),
        cmocka_unit_test(test_schema_types),
        cmocka_unit_test(test_schema_min_max),
        cmocka_unit_test(test_schema_values_max_length),
        cmocka_unit_test(test_schema_checks),
        cmocka_unit_test(test_schema_hits_capped),
        cmocka_unit_test(test_schema_empty),
        cmocka_unit_test(test_schema_load_errors),
        cmocka_unit_test(test_schema_check_errors),
        cmocka_unit_test(test_schema_limits),
        cmocka_unit_test(test_schema_credit_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
