/*
 * cond.h - one comparison of an item field, loaded from a policy's JSON
 * (checks, hard rules), plus the small msgpack helpers the policy modules
 * share: field lookup, exact number comparison and a field-name index
 * that resolves all of an item's fields in one pass.
 *
 * JSON form (keys other than these must be allowed by the caller):
 *
 *   {"field": "amount", "op": "<=", "value": 10000}
 *   {"field": "amount", "op": "<=", "field2": "credit_limit"}
 *   {"field": "purpose", "op": "in", "value": ["Business", "Repairs"]}
 *
 *   op       "<" "<=" ">" ">=": numbers only (msgpack int/uint/float);
 *            "==" "!=": number, string or boolean, both of one kind;
 *            "in" "not_in": "value" is an array of 1..COND_MAX_VALUES
 *            scalars (number, string, boolean), no "field2".
 *   value    the constant operand; exactly one of value / field2.
 *   field2   a second item field as the right operand.
 *   Field names are 1..COND_MAX_NAME printable ASCII bytes.  String
 *   constants are at most COND_MAX_STR bytes and contain no NUL.
 *
 * Numbers compare exactly: integers as 64-bit integers, an integer against
 * a float by its exact value (no rounding through double), NaN with
 * anything is unknown.  Strings compare by bytes.
 *
 * Errors: loaders return NULL / -1 with a message in err that starts with
 * the caller's `where` and names the key.  Evaluation never fails: it
 * answers COND_UNKNOWN.  Everything here is immutable after load and safe
 * to share read-only between threads; evaluation allocates nothing.
 */
#ifndef HITLQ_COND_H
#define HITLQ_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#define COND_MAX_NAME   128u     /* field name bytes */
#define COND_MAX_VALUES 256u     /* entries of an in / not_in list */
#define COND_MAX_STR    1024u    /* bytes of a string constant */

struct cond;   /* opaque; owns copies of its names and constants */

enum cond_result {
    COND_FALSE   = 0,
    COND_TRUE    = 1,
    COND_UNKNOWN = 2,   /* an operand is absent, nil or of a type the op cannot compare */
};

/* Parses obj.  Keys other than field/op/value/field2 must be listed in
 * `extra` (NULL-terminated, may be NULL), else "<where>: unknown key \"k\"".
 * Returns an owned cond (free with cond_free), or NULL + message. */
struct cond *cond_parse(const json_t *obj, const char *const *extra, const char *where,
                        char *err, size_t errlen);
void cond_free(struct cond *c);                     /* NULL is a no-op */

/* Evaluates c on an item's fields map (looks both operands up). */
enum cond_result cond_eval(const struct cond *c, const msgpack_object *fields);
/* The same with operands already looked up: a = value of cond_field(c),
 * b = value of cond_field2(c) (ignored for a constant); NULL = absent. */
enum cond_result cond_eval_with(const struct cond *c, const msgpack_object *a,
                                const msgpack_object *b);

const char *cond_field(const struct cond *c);       /* borrowed, lives as long as c */
const char *cond_field2(const struct cond *c);      /* borrowed; NULL for a constant */
/* Human-readable form, e.g. "amount <= credit_limit" or
 * "purpose in [\"Business\", \"Repairs\"]" (long lists end in "...").
 * Borrowed, owned by c, NUL-terminated, printable ASCII. */
const char *cond_text(const struct cond *c);

/* Looks key up in a msgpack map (string keys; the first match wins).
 * Returns a pointer into fields, or NULL if absent or fields is not a map. */
const msgpack_object *cond_lookup(const msgpack_object *fields, const char *key);

/* True if s is a valid field name: 1..max printable ASCII bytes. */
bool cond_name_ok(const char *s, size_t max);

/* ---- exact numbers ------------------------------------------------------ */

/* A number as read from msgpack or JSON.  Non-negative integers are always
 * COND_NUM_UINT, negative ones COND_NUM_INT. */
enum cond_num_kind { COND_NUM_INT, COND_NUM_UINT, COND_NUM_REAL };
struct cond_num {
    enum cond_num_kind kind;
    union {
        int64_t  i;     /* < 0 */
        uint64_t u;
        double   d;
    } v;
};

#define COND_CMP_NAN 2   /* cond_num_cmp: unordered (a NaN is involved) */

/* False (out untouched) unless o is a msgpack int, uint or float. */
bool cond_num_of(const msgpack_object *o, struct cond_num *out);
/* False unless j is a JSON integer or real. */
bool cond_num_of_json(const json_t *j, struct cond_num *out);
/* -1, 0 or 1 as a <, ==, > b exactly; COND_CMP_NAN if either is NaN. */
int cond_num_cmp(const struct cond_num *a, const struct cond_num *b);
/* Shortest text that reads back as the same number ("10000", "0.1"). */
void cond_num_format(const struct cond_num *n, char *buf, size_t len);

/* ---- field-name index ------------------------------------------------- */

/* A fast, unkeyed 32-bit hash of len bytes (for tables of policy names
 * and values; compare the bytes on a hash match). */
uint32_t cond_hash(const char *s, size_t len);

/* Maps field names to slots 0..n-1 (open addressing on a hash of the
 * bytes).  Built at load; lookups allocate nothing. */
struct cond_index;

/* An empty index for up to cap names (cap <= COND_INDEX_MAX).  Owned:
 * free with cond_index_free.  NULL when out of memory. */
#define COND_INDEX_MAX 4096u
struct cond_index *cond_index_new(size_t cap);
void cond_index_free(struct cond_index *ix);       /* NULL is a no-op */
/* The slot of name, adding it (a copy) if new.  -1 when full or out of
 * memory. */
int cond_index_add(struct cond_index *ix, const char *name);
size_t cond_index_size(const struct cond_index *ix);
/* The slot of the len bytes at key, or -1. */
int cond_index_find(const struct cond_index *ix, const char *key, size_t len);
/* One pass over a fields map: slots[k] = the value of slot k's name (the
 * first occurrence) or NULL; slots has cond_index_size(ix) entries.
 * Pointers are borrowed from fields.  A non-map gives all NULL. */
void cond_index_fill(const struct cond_index *ix, const msgpack_object *fields,
                     const msgpack_object **slots);

#endif
