/*
 * record.c - AXR1 decision record codec (proto/AUDIT-FORMAT.md §3; format table in
 * record.h): canonical encoder, strict bounded decoder, sequence checks,
 * salted SHA-256 commitments and the RFC 6962 leaf hash.  Extension bodies
 * are checked by record_ext_check (record_ext.c).  No I/O, no logging, no
 * heap beyond OpenSSL's digest context.  Attestation signing and
 * verification are not here.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "record.h"
#include "record_int.h"

const char *
record_strerror(int code)
{
    switch (code) {
    case RECORD_OK:              return "ok";
    case RECORD_ERR_INVAL:       return "invalid argument (NULL pointer or extension data NULL with non-zero length)";
    case RECORD_ERR_BUFFER:      return "output buffer too small for the record";
    case RECORD_ERR_TOO_LARGE:   return "record larger than 65535 bytes";
    case RECORD_ERR_TRUNCATED:   return "record truncated: input ends inside a field";
    case RECORD_ERR_MAGIC:       return "bad magic: record does not start with \"AXR1\"";
    case RECORD_ERR_RECORD_TYPE: return "unknown record_type";
    case RECORD_ERR_ACTOR_TYPE:  return "unknown actor_type (must be 1..4)";
    case RECORD_ERR_DECISION:    return "unknown decision (must be 0..5)";
    case RECORD_ERR_EMPTY_ID:    return "item_id or actor_id is empty (needs 1..255 bytes)";
    case RECORD_ERR_FLOAT:       return "score or threshold is NaN or infinite";
    case RECORD_ERR_NEG_ZERO:    return "score or threshold encoded as -0 (non-canonical; must be +0)";
    case RECORD_ERR_EXT_ORDER:   return "extension types not strictly ascending (unsorted or duplicate)";
    case RECORD_ERR_EXT_LEN:     return "extension list length mismatch: an extension overruns ext_len, or the list exceeds 65535 bytes";
    case RECORD_ERR_EXT_COUNT:   return "too many extensions (more than 64)";
    case RECORD_ERR_SIG_TYPE:    return "unknown attestation sig_type (must be 0x01 Ed25519)";
    case RECORD_ERR_TRAILING:    return "trailing bytes after the last attestation";
    case RECORD_ERR_CRYPTO:      return "SHA-256 failed (OpenSSL)";
    case RECORD_ERR_INDEX:       return "record index does not equal its leaf position";
    case RECORD_ERR_TIME:        return "time_ms decreases (below the previous record's)";
    case RECORD_ERR_GENESIS:     return "GENESIS record at an index other than 0";
    case RECORD_ERR_EXT_BODY:    return "malformed body of a known extension type (wrong length, empty string, unknown enum, or NaN/Inf/-0 f64)";
    default:                     return "unknown record error code";
    }
}

/* ---- value checks shared by encoder and decoder ---------------------- */

static int
record_type_valid(uint8_t t)
{
    return (t >= RECORD_AUTO_DECISION && t <= RECORD_QUEUE_EVENT) ||
           t == RECORD_MODEL_REGISTERED || t == RECORD_POLICY_CHANGE ||
           t == RECORD_PROFILE_REGISTERED || t == RECORD_INPUT_WINDOW ||
           t == RECORD_KEY_EVENT || t == RECORD_HEARTBEAT || t == RECORD_GENESIS;
}

static int
record_actor_valid(uint8_t a)
{
    return a >= RECORD_ACTOR_BOT && a <= RECORD_ACTOR_SYSTEM;
}

static int
record_decision_valid(uint8_t d)
{
    return d <= RECORD_DEC_DEFER;
}

static uint64_t
record_f64_bits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    return u;
}

/* Extension list rules: count bound, data present, strictly ascending,
 * known bodies well formed (the same checks the decoder makes). */
static int
record_ext_list_check(const struct record *r)
{
    size_t i;
    int rc;

    if (r->ext_count > RECORD_EXT_MAX)
        return RECORD_ERR_EXT_COUNT;
    for (i = 0; i < r->ext_count; i++) {
        if (r->ext[i].data == NULL && r->ext[i].len > 0)
            return RECORD_ERR_INVAL;
        if (i > 0 && r->ext[i].type <= r->ext[i - 1].type)
            return RECORD_ERR_EXT_ORDER;
    }
    for (i = 0; i < r->ext_count; i++) {
        rc = record_ext_check(r->ext[i].type, r->ext[i].data, r->ext[i].len);
        if (rc != RECORD_OK)
            return rc;
    }
    return RECORD_OK;
}

/* Everything record_encode checks apart from sizes. */
static int
record_validate(const struct record *r)
{
    unsigned i;

    if (!record_type_valid(r->record_type))
        return RECORD_ERR_RECORD_TYPE;
    if (!record_actor_valid(r->actor_type))
        return RECORD_ERR_ACTOR_TYPE;
    if (!record_decision_valid(r->decision))
        return RECORD_ERR_DECISION;
    if (r->item_id.len == 0 || r->actor_id.len == 0)
        return RECORD_ERR_EMPTY_ID;
    if (!isfinite(r->score) || !isfinite(r->threshold))
        return RECORD_ERR_FLOAT;
    for (i = 0; i < r->att_count; i++)
        if (r->att[i].sig_type != RECORD_SIG_ED25519)
            return RECORD_ERR_SIG_TYPE;
    return record_ext_list_check(r);
}

void
record_init(struct record *r)
{
    /* Everything but the attestation slots (~17 KB, read only below
     * att_count): this runs once per audit entry on the commit thread. */
    memset(r, 0, offsetof(struct record, att));
    r->ref_index = RECORD_REF_NONE;
}

static size_t
record_ext_bytes(const struct record *r)
{
    size_t i, n = 0;

    for (i = 0; i < r->ext_count && i < RECORD_EXT_MAX; i++)
        n += 4 + (size_t)r->ext[i].len;
    return n;
}

size_t
record_encoded_len(const struct record *r)
{
    if (r == NULL || r->ext_count > RECORD_EXT_MAX)
        return 0;
    return RECORD_MIN_LEN - 2 + r->item_id.len + r->actor_id.len +
           r->model_id.len + r->model_version.len + r->policy_id.len +
           2 * (size_t)r->reason_count + record_ext_bytes(r) +
           RECORD_ATT_LEN * (size_t)r->att_count;
}

/* ---- encoder ---------------------------------------------------------- */

/* Unchecked writer: record_encode sizes the output before writing. */
struct record_w {
    uint8_t *p;
};

static void
w_bytes(struct record_w *w, const void *src, size_t n)
{
    if (n > 0)
        memcpy(w->p, src, n);
    w->p += n;
}

static void
w_u8(struct record_w *w, uint8_t v)
{
    *w->p++ = v;
}

static void
w_be(struct record_w *w, uint64_t v, unsigned n)
{
    while (n-- > 0)
        *w->p++ = (uint8_t)(v >> (8 * n));
}

static void
w_str(struct record_w *w, const struct record_str *s)
{
    w_u8(w, s->len);
    w_bytes(w, s->data, s->len);
}

static void
w_f64(struct record_w *w, double d)
{
    w_be(w, d == 0.0 ? 0 : record_f64_bits(d), 8);    /* -0 -> +0 */
}

static void
record_write(const struct record *r, struct record_w *w, size_t ext_bytes)
{
    size_t i;

    w_bytes(w, RECORD_MAGIC, RECORD_MAGIC_LEN);
    w_u8(w, r->record_type);
    w_be(w, r->index, 8);
    w_be(w, r->time_ms, 8);
    w_str(w, &r->item_id);
    w_u8(w, r->actor_type);
    w_str(w, &r->actor_id);
    w_bytes(w, r->input_commit, RECORD_HASH_LEN);
    w_str(w, &r->model_id);
    w_str(w, &r->model_version);
    w_bytes(w, r->model_digest, RECORD_HASH_LEN);
    w_bytes(w, r->features_commit, RECORD_HASH_LEN);
    w_f64(w, r->score);
    w_f64(w, r->threshold);
    w_str(w, &r->policy_id);
    w_u8(w, r->decision);
    w_u8(w, r->reason_count);
    for (i = 0; i < r->reason_count; i++)
        w_be(w, r->reason_codes[i], 2);
    w_be(w, r->ref_index, 8);
    w_bytes(w, r->ref_leaf_hash, RECORD_HASH_LEN);
    w_bytes(w, r->note_commit, RECORD_HASH_LEN);
    w_be(w, ext_bytes, 2);
    for (i = 0; i < r->ext_count; i++) {
        w_be(w, r->ext[i].type, 2);
        w_be(w, r->ext[i].len, 2);
        w_bytes(w, r->ext[i].data, r->ext[i].len);
    }
    w_u8(w, r->att_count);
    for (i = 0; i < r->att_count; i++) {
        w_u8(w, r->att[i].sig_type);
        w_bytes(w, r->att[i].key_id, RECORD_KEY_ID_LEN);
        w_bytes(w, r->att[i].sig, RECORD_SIG_LEN);
    }
}

int
record_encode(const struct record *r, uint8_t *out, size_t cap, size_t *len)
{
    struct record_w w;
    size_t need, ext_bytes;
    int rc;

    if (r == NULL || len == NULL)
        return RECORD_ERR_INVAL;
    if ((rc = record_validate(r)) != RECORD_OK)
        return rc;
    ext_bytes = record_ext_bytes(r);
    if (ext_bytes > UINT16_MAX)
        return RECORD_ERR_EXT_LEN;
    need = record_encoded_len(r);
    if (need > RECORD_LEAF_MAX)
        return RECORD_ERR_TOO_LARGE;
    if (out == NULL || cap < need)
        return RECORD_ERR_BUFFER;
    w.p = out;
    record_write(r, &w, ext_bytes);
    *len = (size_t)(w.p - out);
    return RECORD_OK;
}

/* ---- decoder ---------------------------------------------------------- */

/* The bounded reader (struct record_rd, rd_*) is in record_int.h. */

static int
rd_str(struct record_rd *rd, struct record_str *s, int nonempty)
{
    int rc;

    if ((rc = rd_u8(rd, &s->len)) != RECORD_OK)
        return rc;
    if ((rc = rd_bytes(rd, s->data, s->len)) != RECORD_OK)
        return rc;
    return (nonempty && s->len == 0) ? RECORD_ERR_EMPTY_ID : RECORD_OK;
}

/* Enum byte: read it, then check it with `valid`. */
static int
rd_enum(struct record_rd *rd, uint8_t *v, int (*valid)(uint8_t), int err)
{
    int rc = rd_u8(rd, v);

    if (rc != RECORD_OK)
        return rc;
    return valid(*v) ? RECORD_OK : err;
}

static int
rd_head(struct record_rd *rd, struct record *r)
{
    uint8_t magic[RECORD_MAGIC_LEN];
    int rc;

    if ((rc = rd_bytes(rd, magic, RECORD_MAGIC_LEN)) != RECORD_OK)
        return rc;
    if (memcmp(magic, RECORD_MAGIC, RECORD_MAGIC_LEN) != 0)
        return RECORD_ERR_MAGIC;
    if ((rc = rd_enum(rd, &r->record_type, record_type_valid,
                      RECORD_ERR_RECORD_TYPE)) != RECORD_OK ||
        (rc = rd_be(rd, &r->index, 8)) != RECORD_OK ||
        (rc = rd_be(rd, &r->time_ms, 8)) != RECORD_OK ||
        (rc = rd_str(rd, &r->item_id, 1)) != RECORD_OK ||
        (rc = rd_enum(rd, &r->actor_type, record_actor_valid,
                      RECORD_ERR_ACTOR_TYPE)) != RECORD_OK ||
        (rc = rd_str(rd, &r->actor_id, 1)) != RECORD_OK ||
        (rc = rd_bytes(rd, r->input_commit, RECORD_HASH_LEN)) != RECORD_OK ||
        (rc = rd_str(rd, &r->model_id, 0)) != RECORD_OK ||
        (rc = rd_str(rd, &r->model_version, 0)) != RECORD_OK ||
        (rc = rd_bytes(rd, r->model_digest, RECORD_HASH_LEN)) != RECORD_OK ||
        (rc = rd_bytes(rd, r->features_commit, RECORD_HASH_LEN)) != RECORD_OK ||
        (rc = rd_f64(rd, &r->score)) != RECORD_OK ||
        (rc = rd_f64(rd, &r->threshold)) != RECORD_OK ||
        (rc = rd_str(rd, &r->policy_id, 0)) != RECORD_OK ||
        (rc = rd_enum(rd, &r->decision, record_decision_valid,
                      RECORD_ERR_DECISION)) != RECORD_OK)
        return rc;
    return RECORD_OK;
}

static int
rd_refs(struct record_rd *rd, struct record *r)
{
    unsigned i;
    int rc;

    if ((rc = rd_u8(rd, &r->reason_count)) != RECORD_OK)
        return rc;
    for (i = 0; i < r->reason_count; i++)
        if ((rc = rd_u16(rd, &r->reason_codes[i])) != RECORD_OK)
            return rc;
    if ((rc = rd_be(rd, &r->ref_index, 8)) != RECORD_OK ||
        (rc = rd_bytes(rd, r->ref_leaf_hash, RECORD_HASH_LEN)) != RECORD_OK ||
        (rc = rd_bytes(rd, r->note_commit, RECORD_HASH_LEN)) != RECORD_OK)
        return rc;
    return RECORD_OK;
}

/* The extension list: exactly ext_len bytes of {type, len, data}. */
static int
rd_exts(struct record_rd *rd, struct record *r)
{
    struct record_rd list;
    struct record_ext *e;
    uint16_t ext_len;
    int rc;

    if ((rc = rd_u16(rd, &ext_len)) != RECORD_OK)
        return rc;
    if (rd->left < ext_len)
        return RECORD_ERR_TRUNCATED;
    list.p = rd->p;
    list.left = ext_len;
    rd->p += ext_len;
    rd->left -= ext_len;
    for (r->ext_count = 0; list.left > 0; r->ext_count++) {
        if (r->ext_count == RECORD_EXT_MAX)
            return RECORD_ERR_EXT_COUNT;
        e = &r->ext[r->ext_count];
        if (list.left < 4)
            return RECORD_ERR_EXT_LEN;
        (void)rd_u16(&list, &e->type);
        (void)rd_u16(&list, &e->len);
        if (list.left < e->len)
            return RECORD_ERR_EXT_LEN;
        if (r->ext_count > 0 && e->type <= r->ext[r->ext_count - 1].type)
            return RECORD_ERR_EXT_ORDER;
        e->data = e->len > 0 ? list.p : NULL;
        if ((rc = record_ext_check(e->type, e->data, e->len)) != RECORD_OK)
            return rc;
        list.p += e->len;
        list.left -= e->len;
    }
    return RECORD_OK;
}

static int
rd_atts(struct record_rd *rd, struct record *r)
{
    struct record_att *a;
    unsigned i;
    int rc;

    if ((rc = rd_u8(rd, &r->att_count)) != RECORD_OK)
        return rc;
    for (i = 0; i < r->att_count; i++) {
        a = &r->att[i];
        if ((rc = rd_u8(rd, &a->sig_type)) != RECORD_OK)
            return rc;
        if (a->sig_type != RECORD_SIG_ED25519)
            return RECORD_ERR_SIG_TYPE;
        if ((rc = rd_bytes(rd, a->key_id, RECORD_KEY_ID_LEN)) != RECORD_OK ||
            (rc = rd_bytes(rd, a->sig, RECORD_SIG_LEN)) != RECORD_OK)
            return rc;
    }
    return RECORD_OK;
}

int
record_decode(const uint8_t *buf, size_t len, struct record *r)
{
    struct record_rd rd;
    int rc;

    if (r == NULL || (buf == NULL && len > 0))
        return RECORD_ERR_INVAL;
    if (len > RECORD_LEAF_MAX)
        return RECORD_ERR_TOO_LARGE;
    rd.p = buf;
    rd.left = len;
    if ((rc = rd_head(&rd, r)) != RECORD_OK ||
        (rc = rd_refs(&rd, r)) != RECORD_OK ||
        (rc = rd_exts(&rd, r)) != RECORD_OK ||
        (rc = rd_atts(&rd, r)) != RECORD_OK)
        return rc;
    return rd.left == 0 ? RECORD_OK : RECORD_ERR_TRAILING;
}

/* ---- sequence checks and hashes -------------------------------------- */

int
record_check_sequence(const struct record *prev, const struct record *r,
                      uint64_t position)
{
    if (r == NULL)
        return RECORD_ERR_INVAL;
    if (r->index != position)
        return RECORD_ERR_INDEX;
    if (r->record_type == RECORD_GENESIS && position != 0)
        return RECORD_ERR_GENESIS;
    if (prev != NULL && r->time_ms < prev->time_ms)
        return RECORD_ERR_TIME;
    return RECORD_OK;
}

/* out = SHA-256(a || b). */
static int
record_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[RECORD_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int olen = 0;
    int ok;

    if (ctx == NULL)
        return RECORD_ERR_CRYPTO;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(ctx, a, alen) == 1 &&
         (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
         EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == RECORD_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? RECORD_OK : RECORD_ERR_CRYPTO;
}

int
record_commit(const uint8_t salt[RECORD_SALT_LEN], const void *data, size_t len,
              uint8_t out[RECORD_HASH_LEN])
{
    if (salt == NULL || out == NULL || (data == NULL && len > 0))
        return RECORD_ERR_INVAL;
    return record_sha256_2(salt, RECORD_SALT_LEN, data, len, out);
}

int
record_leaf_hash(const uint8_t *buf, size_t len, uint8_t out[RECORD_HASH_LEN])
{
    static const uint8_t prefix = 0x00;

    if (out == NULL || (buf == NULL && len > 0))
        return RECORD_ERR_INVAL;
    return record_sha256_2(&prefix, 1, buf, len, out);
}
