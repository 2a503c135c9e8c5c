/*
 * policy_fixture.c - items, the credit rows, the default policy and
 * temporary policy directories for the scoring-policy unit tests
 * (policy_fixture.h).
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "defaults.h"
#include "policy_fixture.h"
#include "score.h"
#include "tutil.h"

/* Row 1 of the CSV as an item (pred 0.9399: auto-approved as is). */
const char *const pfx_base_item_json =
    "{\"duration_months\":6,\"amount\":1169,\"installment_rate\":4,"
    "\"residence_years\":4,\"age\":67,\"existing_credits\":2,\"dependents\":1,"
    "\"telephone\":true,\"foreign_worker\":true,\"checking_account\":\"lt.0\","
    "\"credit_history\":\"Critical\",\"purpose\":\"Radio.Television\","
    "\"savings\":\"Unknown\",\"employment\":\"gt.7\",\"personal\":\"Male.Single\","
    "\"other_debtors\":\"None\",\"property\":\"RealEstate\","
    "\"other_installment_plans\":\"None\",\"housing\":\"Own\","
    "\"job\":\"SkilledEmployee\"}";

/* ---- items --------------------------------------------------------------- */

static void pack_json_text(msgpack_packer *pk, const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    tutil_pack_json(pk, v);
    json_decref(v);
}

static void item_unpack(struct pfx_item *it)
{
    msgpack_unpacked_init(&it->up);
    assert_int_equal(msgpack_unpack_next(&it->up, it->sb.data, it->sb.size, NULL),
                     MSGPACK_UNPACK_SUCCESS);
}

void pfx_item_from_json(struct pfx_item *it, const char *text)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    pack_json_text(&pk, text);
    item_unpack(it);
}

static int edit_of(const msgpack_object *key, const struct pfx_edit *ed, size_t n_ed)
{
    for (size_t e = 0; e < n_ed; e++)
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(ed[e].field) &&
            memcmp(key->via.str.ptr, ed[e].field, key->via.str.size) == 0)
            return (int)e;
    return -1;
}

/* Copies the map `src` into it with the edits applied (setting an absent
 * field appends it). */
void pfx_item_edit(struct pfx_item *it, const msgpack_object *src,
                   const struct pfx_edit *ed, size_t n_ed)
{
    bool seen[32] = { false };
    uint32_t n = 0;
    msgpack_packer pk;

    assert_true(src->type == MSGPACK_OBJECT_MAP && n_ed <= 32);
    for (uint32_t k = 0; k < src->via.map.size; k++) {
        int e = edit_of(&src->via.map.ptr[k].key, ed, n_ed);
        n += e < 0 || ed[e].value != NULL;
        if (e >= 0)
            seen[e] = true;
    }
    for (size_t e = 0; e < n_ed; e++)
        n += !seen[e] && ed[e].value != NULL;
    msgpack_sbuffer_init(&it->sb);
    msgpack_packer_init(&pk, &it->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (uint32_t k = 0; k < src->via.map.size; k++) {
        const msgpack_object_kv *kv = &src->via.map.ptr[k];
        int e = edit_of(&kv->key, ed, n_ed);
        if (e >= 0 && ed[e].value == NULL)
            continue;
        msgpack_pack_object(&pk, kv->key);
        if (e < 0)
            msgpack_pack_object(&pk, kv->val);
        else
            pack_json_text(&pk, ed[e].value);
    }
    for (size_t e = 0; e < n_ed; e++)
        if (!seen[e] && ed[e].value != NULL) {
            msgpack_pack_str_with_body(&pk, ed[e].field, strlen(ed[e].field));
            pack_json_text(&pk, ed[e].value);
        }
    item_unpack(it);
}

void pfx_item_free(struct pfx_item *it)
{
    msgpack_unpacked_destroy(&it->up);
    msgpack_sbuffer_destroy(&it->sb);
}

/* ---- the German Credit CSV ----------------------------------------------- */

bool pfx_csv_present(void)
{
    if (access(CREDIT_ITEMS_CSV, R_OK) == 0)
        return true;
    print_message("skipped: %s not found (run from the repo root)\n", CREDIT_ITEMS_CSV);
    return false;
}

void pfx_credit_load(struct pfx_credit *cs)
{
    assert_int_equal(credit_items_load(CREDIT_ITEMS_CSV, &cs->items, &cs->n), 0);
    assert_int_equal(cs->n, PFX_N_ROWS);
    cs->up = calloc(cs->n, sizeof *cs->up);
    assert_non_null(cs->up);
    for (size_t i = 0; i < cs->n; i++) {
        msgpack_unpacked_init(&cs->up[i]);
        assert_int_equal(msgpack_unpack_next(&cs->up[i], (const char *)cs->items[i].fields,
                                             cs->items[i].fields_len, NULL),
                         MSGPACK_UNPACK_SUCCESS);
    }
}

void pfx_credit_free(struct pfx_credit *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        msgpack_unpacked_destroy(&cs->up[i]);
    free(cs->up);
    credit_items_free(cs->items, cs->n);
}

/* ---- policies ----------------------------------------------------------- */

const struct type_policy *pfx_load_default(struct scoring **s)
{
    char err[512];
    if (scoring_load(s, NULL, err, sizeof err) != 0)
        fail_msg("scoring_load(NULL): %s", err);
    const struct type_policy *p = scoring_policy(*s, PFX_TYPE);
    assert_non_null(p);
    assert_true(model_is_tree(p->model));
    return p;
}

json_t *pfx_default_policy_json(void)
{
    size_t len;
    const unsigned char *bytes = defaults_policy(&len);
    json_t *root = json_loadb((const char *)bytes, len, 0, NULL);
    assert_non_null(root);
    return root;
}

json_t *pfx_type_of(json_t *root, const char *type)
{
    json_t *t = json_object_get(json_object_get(root, "types"), type);
    assert_non_null(t);
    return t;
}

bool pfx_near(double a, double b, double rel, double abs_tol)
{
    return fabs(a - b) <= abs_tol + rel * fabs(b);
}

/* ---- temporary files ---------------------------------------------------- */

void pfx_tmpdir_make(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

void pfx_tmpdir_remove(const char *dir)
{
    char path[600];
    DIR *d = opendir(dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

void pfx_write_bytes(const char *dir, const char *name, const void *bytes, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The embedded credit_xgb.json written to dir/name (and, for the bundled
 * policy's "profile", the embedded credit_profile.json beside it). */
void pfx_write_default_model(const char *dir, const char *name)
{
    size_t len;
    const unsigned char *bytes = defaults_file("credit_xgb.json", &len);
    assert_non_null(bytes);
    pfx_write_bytes(dir, name, bytes, len);
    bytes = defaults_file("credit_profile.json", &len);
    assert_non_null(bytes);
    pfx_write_bytes(dir, "credit_profile.json", bytes, len);
}

/* Writes root to dir/name and loads it (must succeed). */
struct scoring *pfx_load_json_policy(const char *dir, const char *name, const json_t *root)
{
    char path[600], err[512];
    struct scoring *s = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(1)), 0);
    if (scoring_load(&s, path, err, sizeof err) != 0)
        fail_msg("%s: %s", path, err);
    return s;
}
