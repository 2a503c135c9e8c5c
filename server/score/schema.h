/*
 * schema.h - an item type's declared fields and validation rules, loaded
 * from the policy's "fields" and "checks", and the check of an item's
 * fields map against them (the deterministic gates: scripts/README-model.md "Policy file").
 *
 *   "fields": {
 *     "amount":   {"type": "number", "required": true, "min": 0, "max": 1000000},
 *     "months":   {"type": "integer", "min": 1, "max": 120},
 *     "checking": {"type": "string", "required": true,
 *                  "values": ["lt.0", "none"], "missing": ["unknown", ""]},
 *     "phone":    {"type": "boolean"},
 *     "note":     {"type": "string", "max_length": 200, "description": "free text"}
 *   },
 *   "checks": [
 *     {"id": "amount_within_limit", "field": "amount", "op": "<=",
 *      "field2": "credit_limit", "message": "amount above the credit limit"},
 *     {"id": "adult", "field": "age", "op": ">=", "value": 18}
 *   ]
 *
 * Field keys: "type" (required: number = any msgpack int/float, finite;
 * integer = msgpack int or an integral finite float; string; boolean),
 * "required" (default false), "min"/"max" (number/integer; inclusive),
 * "values" (string: the allowed set, 1..SCHEMA_MAX_VALUES), "max_length"
 * (string: at most this many characters, i.e. UTF-8 code points),
 * "missing" (sentinels, strings or numbers, that mean "missing" besides
 * absent and nil), "description" (free text, ignored).  Checks: cond.h's
 * form plus "id" (printable, 1..128 bytes, unique among all rule ids) and
 * an optional "message" (default: the condition's text).
 *
 * Rules, in this order: for each field in declaration order
 * "<field>.required" (only if required), "<field>.type", "<field>.min",
 * "<field>.max", "<field>.values", "<field>.max_length" (each only if
 * declared), then each check by its id.  An item breaks:
 *   - <field>.required: absent, nil or a sentinel while required (a
 *     missing non-required field breaks nothing);
 *   - <field>.type: present with the wrong type (its other rules are then
 *     not evaluated);
 *   - min / max / values / max_length: as declared;
 *   - a check: unless cond_eval() is COND_TRUE; an operand that is a
 *     declared field's sentinel counts as absent, so a check on missing
 *     data is broken (what cannot be verified is not trusted).
 * Undeclared item fields are allowed and ignored.
 *
 * Loading is strict: unknown keys, wrong JSON types, min > max, bad ops,
 * duplicate rule ids, bad names, too many fields / checks / values are
 * errors naming `where` and the key.  A loaded schema is immutable and may
 * be shared read-only between threads; schema_check allocates nothing.
 */
#ifndef HITLQ_SCHEMA_H
#define HITLQ_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#define SCHEMA_MAX_FIELDS  256u
#define SCHEMA_MAX_CHECKS  256u
#define SCHEMA_MAX_VALUES  256u     /* "values" entries of a string field */
#define SCHEMA_MAX_MISSING 64u      /* "missing" sentinels of a field */
#define SCHEMA_MAX_MESSAGE 512u     /* bytes of a check's "message" */

enum schema_type { SCHEMA_NUMBER, SCHEMA_INTEGER, SCHEMA_STRING, SCHEMA_BOOLEAN };

struct schema;   /* opaque, immutable after load; safe to share read-only between threads */

struct schema_hit {
    uint16_t    rule;      /* index of the broken rule, < schema_n_rules(); stable for this schema */
    const char *id;        /* borrowed from the schema: "amount.required" or the check id */
    const char *field;     /* borrowed: the field concerned (first operand for checks) */
    const char *message;   /* borrowed: human-readable, e.g. "amount must be >= 0" */
};

/* fields_json / checks_json may each be NULL (absent).  Returns an owned
 * schema (free with schema_free), or NULL + message in err. */
struct schema *schema_load(const json_t *fields_json, const json_t *checks_json,
                           const char *where, char *err, size_t errlen);
void schema_free(struct schema *s);                  /* NULL is a no-op */

/* Checks an item's fields map.  Writes up to max hits (hits may be NULL
 * when max is 0) in rule order and returns the TOTAL number of broken
 * rules (may be > max).  A non-map counts as an empty map. */
size_t schema_check(const struct schema *s, const msgpack_object *fields,
                    struct schema_hit *hits, size_t max);

size_t schema_n_rules(const struct schema *s);
/* Rule `rule`'s id / field / message (borrowed; NULL if out of range). */
const char *schema_rule_id(const struct schema *s, size_t rule);
const char *schema_rule_field(const struct schema *s, size_t rule);
const char *schema_rule_message(const struct schema *s, size_t rule);

/* Declared fields, in declaration order. */
size_t schema_n_fields(const struct schema *s);
const char *schema_field_name(const struct schema *s, size_t i);   /* borrowed */
/* Index of a declared field, or -1. */
int schema_field_index(const struct schema *s, const char *name);
/* Declared field: returns its index and its type via *type; -1 if undeclared. */
int schema_field_type(const struct schema *s, const char *name, enum schema_type *type);
/* Allowed values of a string field (count via *n; borrowed; NULL, *n = 0,
 * if undeclared or unrestricted). */
const char *const *schema_field_values(const struct schema *s, const char *name, size_t *n);

/* True if v (NULL = absent) counts as missing for this field: absent, nil
 * or a declared sentinel.  Undeclared field: absent or nil only. */
bool schema_is_missing(const struct schema *s, const char *name, const msgpack_object *v);
/* The same by field index (schema_field_index; -1 = undeclared). */
bool schema_is_missing_at(const struct schema *s, int field, const msgpack_object *v);

#endif
