/*
 * cond.c - one comparison of an item field (see cond.h for the JSON form
 * and semantics), exact msgpack/JSON number comparison, and the field-name
 * index shared by schema.c and featmap.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"

#define COND_TEXT_MAX 384u      /* bytes of cond_text, "..." included */

enum cond_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_IN, OP_NOT_IN };

static const char *const cond_op_names[] = { "<", "<=", ">", ">=", "==", "!=", "in",
                                             "not_in" };

enum cond_kind { K_NONE, K_NUM, K_STR, K_BOOL };

/* A scalar operand: a view of a msgpack value or a loaded constant. */
struct cond_scalar {
    enum cond_kind  kind;
    struct cond_num num;        /* K_NUM */
    const char     *s;          /* K_STR: len bytes, not NUL-terminated in msgpack;
                                 * owned by the cond for constants */
    size_t          len;
    bool            b;          /* K_BOOL */
};

struct cond {
    char               *field;      /* owned */
    char               *field2;     /* owned; NULL when the operand is a constant */
    enum cond_op        op;
    struct cond_scalar *vals;       /* owned: 1 constant, or the in / not_in list */
    size_t              n_vals;
    char               *text;       /* owned: cond_text */
};

#define CMP_INCOMPARABLE 3          /* cond_scalar_cmp: different kinds */

/* ---- exact numbers ---------------------------------------------------------- */

bool cond_num_of(const msgpack_object *o, struct cond_num *out)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        out->kind = COND_NUM_UINT;
        out->v.u = o->via.u64;
        return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        if (o->via.i64 >= 0) {             /* not produced by msgpack-c; be safe */
            out->kind = COND_NUM_UINT;
            out->v.u = (uint64_t)o->via.i64;
        } else {
            out->kind = COND_NUM_INT;
            out->v.i = o->via.i64;
        }
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        out->kind = COND_NUM_REAL;
        out->v.d = o->via.f64;
        return true;
    default:
        return false;
    }
}

bool cond_num_of_json(const json_t *j, struct cond_num *out)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v < 0) {
            out->kind = COND_NUM_INT;
            out->v.i = (int64_t)v;
        } else {
            out->kind = COND_NUM_UINT;
            out->v.u = (uint64_t)v;
        }
        return true;
    }
    if (json_is_real(j)) {
        out->kind = COND_NUM_REAL;
        out->v.d = json_real_value(j);
        return true;
    }
    return false;
}

static int cond_sign3(bool lt, bool gt)
{
    return lt ? -1 : gt ? 1 : 0;
}

/* u against a finite-or-infinite, non-NaN double, exactly. */
static int cond_cmp_u_d(uint64_t u, double d)
{
    if (d < 0)
        return 1;
    if (d >= 18446744073709551616.0)        /* 2^64 */
        return -1;
    double fl = floor(d);
    uint64_t t = (uint64_t)fl;
    if (u != t)
        return cond_sign3(u < t, u > t);
    return fl < d ? -1 : 0;
}

/* i (< 0) against a non-NaN double, exactly. */
static int cond_cmp_i_d(int64_t i, double d)
{
    if (d >= 0)
        return -1;
    if (d < -9223372036854775808.0)         /* -2^63 */
        return 1;
    double fl = floor(d);
    int64_t t = (int64_t)fl;
    if (i != t)
        return cond_sign3(i < t, i > t);
    return fl < d ? -1 : 0;
}

int cond_num_cmp(const struct cond_num *a, const struct cond_num *b)
{
    if ((a->kind == COND_NUM_REAL && isnan(a->v.d)) ||
        (b->kind == COND_NUM_REAL && isnan(b->v.d)))
        return COND_CMP_NAN;
    if (a->kind == COND_NUM_REAL && b->kind == COND_NUM_REAL)
        return cond_sign3(a->v.d < b->v.d, a->v.d > b->v.d);
    if (b->kind == COND_NUM_REAL)
        return a->kind == COND_NUM_UINT ? cond_cmp_u_d(a->v.u, b->v.d)
                                        : cond_cmp_i_d(a->v.i, b->v.d);
    if (a->kind == COND_NUM_REAL)
        return -cond_num_cmp(b, a);
    if (a->kind != b->kind)                  /* negative int vs uint */
        return a->kind == COND_NUM_INT ? -1 : 1;
    if (a->kind == COND_NUM_UINT)
        return cond_sign3(a->v.u < b->v.u, a->v.u > b->v.u);
    return cond_sign3(a->v.i < b->v.i, a->v.i > b->v.i);
}

void cond_num_format(const struct cond_num *n, char *buf, size_t len)
{
    if (n->kind == COND_NUM_UINT) {
        snprintf(buf, len, "%llu", (unsigned long long)n->v.u);
        return;
    }
    if (n->kind == COND_NUM_INT) {
        snprintf(buf, len, "%lld", (long long)n->v.i);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, n->v.d);
        if (strtod(buf, NULL) == n->v.d || isnan(n->v.d))
            return;
    }
}

/* ---- scalars ------------------------------------------------------------- */

static struct cond_scalar cond_scalar_of(const msgpack_object *o)
{
    struct cond_scalar sc = { .kind = K_NONE };

    if (o == NULL)
        return sc;
    if (cond_num_of(o, &sc.num)) {
        sc.kind = K_NUM;
    } else if (o->type == MSGPACK_OBJECT_STR) {
        sc.kind = K_STR;
        sc.s = o->via.str.ptr;
        sc.len = o->via.str.size;
    } else if (o->type == MSGPACK_OBJECT_BOOLEAN) {
        sc.kind = K_BOOL;
        sc.b = o->via.boolean;
    }
    return sc;
}

/* -1/0/1, COND_CMP_NAN, or CMP_INCOMPARABLE (kinds differ or absent).
 * Strings and booleans only answer 0 or "not equal" (1). */
static int cond_scalar_cmp(const struct cond_scalar *a, const struct cond_scalar *b)
{
    if (a->kind == K_NONE || a->kind != b->kind)
        return CMP_INCOMPARABLE;
    switch (a->kind) {
    case K_NUM:
        return cond_num_cmp(&a->num, &b->num);
    case K_STR:
        return !(a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
    default:
        return a->b != b->b;
    }
}

static enum cond_result cond_of_bool(bool v)
{
    return v ? COND_TRUE : COND_FALSE;
}

static enum cond_result cond_eval_list(const struct cond *c, const struct cond_scalar *a)
{
    bool comparable = false, found = false;

    for (size_t i = 0; i < c->n_vals && !found; i++) {
        int r = cond_scalar_cmp(a, &c->vals[i]);
        if (r == CMP_INCOMPARABLE || r == COND_CMP_NAN)
            continue;
        comparable = true;
        found = r == 0;
    }
    if (!comparable)
        return COND_UNKNOWN;
    return cond_of_bool(c->op == OP_IN ? found : !found);
}

enum cond_result cond_eval_with(const struct cond *c, const msgpack_object *a,
                                const msgpack_object *b)
{
    struct cond_scalar sa = cond_scalar_of(a), sb;

    if (c->op == OP_IN || c->op == OP_NOT_IN)
        return cond_eval_list(c, &sa);
    sb = c->field2 ? cond_scalar_of(b) : c->vals[0];
    if (c->op <= OP_GE && (sa.kind != K_NUM || sb.kind != K_NUM))
        return COND_UNKNOWN;
    int r = cond_scalar_cmp(&sa, &sb);
    if (r == CMP_INCOMPARABLE || r == COND_CMP_NAN)
        return COND_UNKNOWN;
    switch (c->op) {
    case OP_LT: return cond_of_bool(r < 0);
    case OP_LE: return cond_of_bool(r <= 0);
    case OP_GT: return cond_of_bool(r > 0);
    case OP_GE: return cond_of_bool(r >= 0);
    case OP_EQ: return cond_of_bool(r == 0);
    default:    return cond_of_bool(r != 0);
    }
}

enum cond_result cond_eval(const struct cond *c, const msgpack_object *fields)
{
    return cond_eval_with(c, cond_lookup(fields, c->field),
                          c->field2 ? cond_lookup(fields, c->field2) : NULL);
}

const msgpack_object *cond_lookup(const msgpack_object *fields, const char *key)
{
    size_t len = strlen(key);

    if (fields == NULL || fields->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < fields->via.map.size; i++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == len &&
            memcmp(kv->key.via.str.ptr, key, len) == 0)
            return &kv->val;
    }
    return NULL;
}

const char *cond_field(const struct cond *c)
{
    return c->field;
}

const char *cond_field2(const struct cond *c)
{
    return c->field2;
}

const char *cond_text(const struct cond *c)
{
    return c->text;
}

bool cond_name_ok(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* ---- text ----------------------------------------------------------------- */

struct cond_tbuf {
    char   buf[COND_TEXT_MAX];
    size_t len;
    bool   full;
};

/* Appends n bytes, non-printable ones as '?'; marks the end with "...". */
static void cond_tput(struct cond_tbuf *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n && !t->full; i++) {
        if (t->len + 4 >= sizeof t->buf) {
            memcpy(t->buf + t->len, "...", 3);
            t->len += 3;
            t->full = true;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        t->buf[t->len++] = ch >= 0x20 && ch <= 0x7e ? (char)ch : '?';
    }
    t->buf[t->len] = '\0';
}

static void cond_tputs(struct cond_tbuf *t, const char *s)
{
    cond_tput(t, s, strlen(s));
}

static void cond_tput_scalar(struct cond_tbuf *t, const struct cond_scalar *sc)
{
    char num[40];

    if (sc->kind == K_NUM) {
        cond_num_format(&sc->num, num, sizeof num);
        cond_tputs(t, num);
    } else if (sc->kind == K_BOOL) {
        cond_tputs(t, sc->b ? "true" : "false");
    } else {
        cond_tputs(t, "\"");
        cond_tput(t, sc->s, sc->len);
        cond_tputs(t, "\"");
    }
}

static char *cond_make_text(const struct cond *c)
{
    struct cond_tbuf t = { .len = 0 };

    cond_tputs(&t, c->field);
    cond_tputs(&t, " ");
    cond_tputs(&t, cond_op_names[c->op]);
    cond_tputs(&t, " ");
    if (c->field2) {
        cond_tputs(&t, c->field2);
    } else if (c->op == OP_IN || c->op == OP_NOT_IN) {
        cond_tputs(&t, "[");
        for (size_t i = 0; i < c->n_vals; i++) {
            if (i > 0)
                cond_tputs(&t, ", ");
            cond_tput_scalar(&t, &c->vals[i]);
        }
        cond_tputs(&t, "]");
    } else {
        cond_tput_scalar(&t, &c->vals[0]);
    }
    return strdup(t.buf);
}

/* ---- parsing -------------------------------------------------------------- */

static bool cond_key_allowed(const char *key, const char *const *extra)
{
    static const char *const base[] = { "field", "op", "value", "field2", NULL };

    for (size_t i = 0; base[i]; i++)
        if (strcmp(base[i], key) == 0)
            return true;
    for (size_t i = 0; extra && extra[i]; i++)
        if (strcmp(extra[i], key) == 0)
            return true;
    return false;
}

/* Reads one JSON scalar constant into sc (string copied; owned by the
 * caller's cond).  numbers_only: ordering ops.  0 or -1. */
static int cond_parse_scalar(const json_t *j, bool numbers_only, struct cond_scalar *sc,
                             const char *where, const char *what, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    if (cond_num_of_json(j, &sc->num)) {
        sc->kind = K_NUM;
        return 0;
    }
    if (!numbers_only && json_is_boolean(j)) {
        sc->kind = K_BOOL;
        sc->b = json_is_true(j);
        return 0;
    }
    if (!numbers_only && json_is_string(j)) {
        size_t len = json_string_length(j);
        const char *s = json_string_value(j);
        if (len > COND_MAX_STR || memchr(s, '\0', len)) {
            snprintf(err, errlen, "%s: %s: strings must be at most %u bytes without NUL",
                     where, what, COND_MAX_STR);
            return -1;
        }
        char *copy = malloc(len + 1);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(copy, s, len + 1);
        sc->kind = K_STR;
        sc->s = copy;
        sc->len = len;
        return 0;
    }
    snprintf(err, errlen, "%s: %s must be %s", where, what,
             numbers_only ? "a number" : "a number, string or boolean");
    return -1;
}

/* The constant(s) of c from "value". */
static int cond_parse_value(struct cond *c, const json_t *v, const char *where,
                            char *err, size_t errlen)
{
    bool list = c->op == OP_IN || c->op == OP_NOT_IN;
    size_t n = list ? json_array_size(v) : 1;
    char what[48];

    if (list && (!json_is_array(v) || n == 0 || n > COND_MAX_VALUES)) {
        snprintf(err, errlen, "%s: \"value\" must be an array of 1..%u scalars for op "
                 "\"%s\"", where, COND_MAX_VALUES, cond_op_names[c->op]);
        return -1;
    }
    if (!(c->vals = calloc(n, sizeof *c->vals))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (list)
            snprintf(what, sizeof what, "\"value\"[%zu]", i);
        else
            snprintf(what, sizeof what, "\"value\" (op \"%s\")", cond_op_names[c->op]);
        if (cond_parse_scalar(list ? json_array_get(v, i) : v, c->op <= OP_GE,
                              &c->vals[i], where, what, err, errlen) < 0)
            return -1;
        c->n_vals++;
    }
    return 0;
}

static int cond_parse_op(struct cond *c, const json_t *obj, const char *where,
                         char *err, size_t errlen)
{
    const char *op = json_string_value(json_object_get(obj, "op"));

    for (size_t i = 0; op && i < sizeof cond_op_names / sizeof cond_op_names[0]; i++)
        if (strcmp(op, cond_op_names[i]) == 0) {
            c->op = (enum cond_op)i;
            return 0;
        }
    snprintf(err, errlen, "%s: \"op\" must be one of \"<\", \"<=\", \">\", \">=\", "
             "\"==\", \"!=\", \"in\", \"not_in\"", where);
    return -1;
}

/* Keys, names and op; the operand is parsed by cond_parse. */
static int cond_parse_head(struct cond *c, const json_t *obj, const char *const *extra,
                           const char *where, char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    if (!json_is_object(obj)) {
        snprintf(err, errlen, "%s: must be an object", where);
        return -1;
    }
    json_object_foreach((json_t *)obj, key, val) {
        if (!cond_key_allowed(key, extra)) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", where, key);
            return -1;
        }
    }
    const char *f = json_string_value(json_object_get(obj, "field"));
    if (!cond_name_ok(f, COND_MAX_NAME)) {
        snprintf(err, errlen, "%s: \"field\" must be a printable name of 1..%u bytes",
                 where, COND_MAX_NAME);
        return -1;
    }
    if (!(c->field = strdup(f))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return cond_parse_op(c, obj, where, err, errlen);
}

struct cond *cond_parse(const json_t *obj, const char *const *extra, const char *where,
                        char *err, size_t errlen)
{
    struct cond *c = calloc(1, sizeof *c);          /* owned; returned */
    const json_t *v, *f2;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cond_parse_head(c, obj, extra, where, err, errlen) < 0)
        goto fail;
    v = json_object_get(obj, "value");
    f2 = json_object_get(obj, "field2");
    if ((v != NULL) == (f2 != NULL)) {
        snprintf(err, errlen, "%s: exactly one of \"value\" and \"field2\" is required",
                 where);
        goto fail;
    }
    if (f2 && (c->op == OP_IN || c->op == OP_NOT_IN)) {
        snprintf(err, errlen, "%s: \"field2\" cannot be used with op \"%s\" (use \"value\")",
                 where, cond_op_names[c->op]);
        goto fail;
    }
    if (f2 && !cond_name_ok(json_string_value(f2), COND_MAX_NAME)) {
        snprintf(err, errlen, "%s: \"field2\" must be a printable name of 1..%u bytes",
                 where, COND_MAX_NAME);
        goto fail;
    }
    if (!f2 && cond_parse_value(c, v, where, err, errlen) < 0)
        goto fail;
    if ((f2 && !(c->field2 = strdup(json_string_value(f2)))) ||
        !(c->text = cond_make_text(c))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return c;
fail:
    cond_free(c);
    return NULL;
}

void cond_free(struct cond *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_vals; i++)
        if (c->vals[i].kind == K_STR)
            free((char *)c->vals[i].s);         /* owned copy (cond_parse_scalar) */
    free(c->vals);
    free(c->field);
    free(c->field2);
    free(c->text);
    free(c);
}

/* ---- field-name index ------------------------------------------------------ */

struct cond_index_cell {
    uint32_t    hash;           /* full hash of the name, compared before the bytes */
    uint16_t    slot;           /* slot + 1, 0 = empty */
    uint16_t    len;            /* name length (<= COND_MAX_STR) */
    const char *name;           /* borrowed from names[slot] */
};

struct cond_index {
    size_t                  n, cap;
    uint32_t                mask;     /* table size - 1 (a power of two >= 2 * cap) */
    struct cond_index_cell *table;    /* owned */
    char                  **names;    /* owned: cap entries, n used */
};

/* 8-byte words (the last one overlapping), multiply-xorshift mixing.  Not
 * keyed: tables hold only names from the policy, so item keys cannot
 * lengthen their probe sequences. */
uint32_t cond_hash(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        }
        memcpy(&w, s + len - 8, 8);
    } else if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else {
        w = len ? (uint64_t)(unsigned char)s[0] << 16 |
                  (uint64_t)(unsigned char)s[len / 2] << 8 | (unsigned char)s[len - 1] : 0;
    }
    h = (h ^ w) * 0x94d049bb133111ebull;
    return (uint32_t)(h ^ (h >> 31) ^ (h >> 47));
}

struct cond_index *cond_index_new(size_t cap)
{
    struct cond_index *ix = calloc(1, sizeof *ix);   /* owned; returned */
    size_t size = 16;

    if (!ix || cap > COND_INDEX_MAX) {
        free(ix);
        return NULL;
    }
    while (size < 2 * cap)
        size *= 2;
    ix->cap = cap;
    ix->mask = (uint32_t)(size - 1);
    ix->table = calloc(size, sizeof *ix->table);
    ix->names = calloc(cap ? cap : 1, sizeof *ix->names);
    if (!ix->table || !ix->names) {
        cond_index_free(ix);
        return NULL;
    }
    return ix;
}

void cond_index_free(struct cond_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->n; i++)
        free(ix->names[i]);
    free(ix->names);
    free(ix->table);
    free(ix);
}

/* memcmp(a, b, len) == 0 for short keys, without a library call. */
static inline bool cond_bytes_eq(const char *a, const char *b, size_t len)
{
    uint64_t x, y;

    for (; len >= 8; a += 8, b += 8, len -= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
    }
    while (len--)
        if (*a++ != *b++)
            return false;
    return true;
}

int cond_index_find(const struct cond_index *ix, const char *key, size_t len)
{
    uint32_t hash = cond_hash(key, len);

    for (uint32_t h = hash & ix->mask;; h = (h + 1) & ix->mask) {
        const struct cond_index_cell *c = &ix->table[h];
        if (c->slot == 0)
            return -1;
        if (c->hash == hash && c->len == len && cond_bytes_eq(c->name, key, len))
            return (int)(c->slot - 1);
    }
}

int cond_index_add(struct cond_index *ix, const char *name)
{
    size_t len = strlen(name);
    int slot = cond_index_find(ix, name, len);

    if (slot >= 0)
        return slot;
    if (ix->n == ix->cap || len > COND_MAX_STR || !(ix->names[ix->n] = strdup(name)))
        return -1;
    uint32_t hash = cond_hash(name, len), h = hash & ix->mask;
    while (ix->table[h].slot != 0)
        h = (h + 1) & ix->mask;
    ix->table[h] = (struct cond_index_cell){ hash, (uint16_t)(ix->n + 1), (uint16_t)len,
                                             ix->names[ix->n] };
    return (int)ix->n++;
}

size_t cond_index_size(const struct cond_index *ix)
{
    return ix->n;
}

void cond_index_fill(const struct cond_index *ix, const msgpack_object *fields,
                     const msgpack_object **slots)
{
    for (size_t i = 0; i < ix->n; i++)
        slots[i] = NULL;
    if (fields == NULL || fields->type != MSGPACK_OBJECT_MAP)
        return;
    for (uint32_t i = 0; i < fields->via.map.size; i++) {
        const msgpack_object_kv *kv = &fields->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        int k = cond_index_find(ix, kv->key.via.str.ptr, kv->key.via.str.size);
        if (k >= 0 && slots[k] == NULL)
            slots[k] = &kv->val;
    }
}
