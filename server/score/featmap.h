/*
 * featmap.h - an item type's feature mapping: how the fields of an item
 * become a vector model's feature vector (the policy's "features"), bound
 * to one model's feature list, and applied per item without allocating.
 *
 *   "features": [
 *     {"feature": "Duration", "field": "duration_months"},
 *     {"feature": "Telephone", "field": "telephone", "map": {"true": 0, "false": 1}},
 *     {"feature": "Age", "field": "age", "default": 35},
 *     {"field": "checking_account", "one_hot": {
 *         "lt.0": "CheckingAccountStatus.lt.0", "none": "CheckingAccountStatus.none"}},
 *     {"feature": 12, "field": "x", "description": "free text, ignored"}
 *   ]
 *
 * Each entry is one "input" (one reason group: the lead sums its
 * features' contributions to explain by item field).  "feature" is a model
 * feature name (string) or 0-based index (integer); "field" an item field;
 * "default" (number) replaces a missing value.
 *   numeric entry {feature, field[, default]}: int / float ->
 *       (float)(double)value, as XGBoost's DMatrix converts double input;
 *       boolean -> 1 / 0.
 *   "map": the value's string form (strings as is, booleans "true" /
 *       "false", integers - also integral floats - in decimal) looked up
 *       -> that number; not in the map -> default / NaN.
 *   "one_hot" {string form -> feature}: 1 for the value's feature, 0 for
 *       the group's others; a value not in the group (e.g. a dropped
 *       reference level) -> all 0; missing -> all default / NaN.
 * Missing = absent, nil or a sentinel of the schema (schema_is_missing);
 * a value of a type the entry cannot use (a string in a numeric entry, a
 * float NaN, a non-integral float or array in a map / one-hot entry)
 * also gets default / NaN.
 *
 * Errors: NULL / -1 with a message in err starting with `where` and
 * naming the entry (features[i]) or feature.  After featmap_bind the map
 * is immutable and may be shared read-only between threads.
 */
#ifndef HITLQ_FEATMAP_H
#define HITLQ_FEATMAP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <msgpack.h>

#include "schema.h"

#define FEATMAP_MAX_INPUTS 2048u    /* entries */
#define FEATMAP_MAX_FIELDS 256u     /* distinct item fields read */
#define FEATMAP_MAX_KEYS   1024u    /* keys of one "map" / "one_hot" */
#define FEATMAP_MAX_NAME   256u     /* bytes of a model feature name */

struct featmap;  /* opaque, immutable after bind; shareable read-only */

/* Parses the "features" array.  s may be NULL; if given, each entry's
 * field must be declared in s with a compatible type (numeric entry:
 * number / integer / boolean; map / one_hot: string / boolean / integer),
 * and map / one_hot keys must be among a string field's "values" (if it
 * has them), "true" / "false" for a boolean field, decimal integers for an
 * integer field.  s is borrowed and must outlive the featmap (its missing
 * sentinels are used by featmap_apply).  Returns an owned featmap (free
 * with featmap_free), or NULL + message. */
struct featmap *featmap_load(const json_t *features_json, const struct schema *s,
                             const char *where, char *err, size_t errlen);
void featmap_free(struct featmap *fm);              /* NULL is a no-op */

/* Binds to the model's features: names[i] is model feature i's name
 * (names may be NULL, or an entry NULL, when the model has no names; then
 * entries must use indices).  Error unless every model feature is produced
 * by exactly one entry and every entry's feature exists in the model, e.g.
 * "model feature \"Purpose.Other\" is not produced by the type's feature
 * mapping", "feature \"Foo\" is not in the model (61 features)", "model
 * feature \"Age\" is mapped twice".  names is only read during the call.
 * A failed bind leaves fm unbound; binding again replaces the old binding.
 * 0 or -1. */
int featmap_bind(struct featmap *fm, const char *const *names, size_t n,
                 const char *where, char *err, size_t errlen);

size_t featmap_n_features(const struct featmap *fm);   /* n after bind, else 0 */
size_t featmap_n_inputs(const struct featmap *fm);     /* entries */
const char *featmap_input_field(const struct featmap *fm, size_t input);   /* borrowed */
size_t featmap_input_of(const struct featmap *fm, size_t feature);   /* entry producing feature j */

/* Fills x[0..n_features) (NaN = missing).  If vals != NULL (n_inputs
 * slots): vals[i] = borrowed pointer to entry i's value inside fields, or
 * NULL when it is absent, nil or a sentinel.  Returns the number of
 * inputs that got default / NaN (missing, or a value the entry cannot
 * use; such a value still appears in vals).  Allocates nothing.  An
 * unbound featmap writes nothing to x and returns n_inputs. */
size_t featmap_apply(const struct featmap *fm, const msgpack_object *fields, float *x,
                     const msgpack_object **vals);

#endif
