/*
 * policy_fixture.h - shared by the scoring-policy unit tests (tests/unit/
 * test_policy_credit.c, test_policy_quality.c, test_policy_load.c): items
 * written as JSON or edited from another item, the German Credit rows as
 * unpacked items, the bundled default policy (loaded, and as JSON), and
 * temporary policy directories.  Every helper fails the running test
 * (cmocka) instead of returning errors.
 */
#ifndef HITLQ_POLICY_FIXTURE_H
#define HITLQ_POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <msgpack.h>

#include "credit_items.h"

struct scoring;
struct type_policy;

#define PFX_TYPE     "credit_application"
#define PFX_N_ROWS   1000u
#define PFX_N_INPUTS 20u     /* entries of the default feature mapping */

/* Row 1 of the CSV as an item (pred 0.9399: auto-approved as is). */
extern const char *const pfx_base_item_json;

/* An item: its packed bytes and their unpacked map (up.data). */
struct pfx_item {
    msgpack_sbuffer  sb;
    msgpack_unpacked up;
};

/* One edit of an item: set `field` to the JSON `value`, or remove it (NULL). */
struct pfx_edit {
    const char *field;
    const char *value;
};

/* The item written as the JSON text `text`. */
void pfx_item_from_json(struct pfx_item *it, const char *text);
/* Copies the map `src` into it with the n_ed (<= 32) edits applied
 * (setting an absent field appends it). */
void pfx_item_edit(struct pfx_item *it, const msgpack_object *src,
                   const struct pfx_edit *ed, size_t n_ed);
void pfx_item_free(struct pfx_item *it);

/* True when the German Credit CSV is readable; otherwise prints that the
 * test is skipped and returns false. */
bool pfx_csv_present(void);

/* The 1000 rows as packed, unpacked `credit_application` items. */
struct pfx_credit {
    struct credit_item *items;
    size_t              n;
    msgpack_unpacked   *up;
};
/* Loads all PFX_N_ROWS rows into cs (free with pfx_credit_free). */
void pfx_credit_load(struct pfx_credit *cs);
void pfx_credit_free(struct pfx_credit *cs);

/* Loads the embedded default policy into *s (free with scoring_free) and
 * returns its tree-model credit_application policy. */
const struct type_policy *pfx_load_default(struct scoring **s);
/* The embedded default policy as JSON (the caller decrefs it). */
json_t *pfx_default_policy_json(void);
/* The "types" entry `type` of a policy JSON (borrowed). */
json_t *pfx_type_of(json_t *root, const char *type);
/* |a - b| <= abs_tol + rel * |b|. */
bool pfx_near(double a, double b, double rel, double abs_tol);

/* mkdtemp(dir) (dir ends in XXXXXX). */
void pfx_tmpdir_make(char *dir);
/* Removes the files of dir (no subdirectories), then dir. */
void pfx_tmpdir_remove(const char *dir);
/* Writes len bytes to dir/name. */
void pfx_write_bytes(const char *dir, const char *name, const void *bytes, size_t len);
/* The embedded credit_xgb.json written to dir/name, and the embedded
 * credit_profile.json (the bundled policy's "profile") beside it. */
void pfx_write_default_model(const char *dir, const char *name);
/* Writes root to dir/name and loads it (must succeed). */
struct scoring *pfx_load_json_policy(const char *dir, const char *name, const json_t *root);

#endif
