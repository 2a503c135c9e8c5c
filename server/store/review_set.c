/*
 * review_set.c - the `foureyes` database: encode, decode and look up an
 * item's four-eyes reviewer set (layout in review_set.h).
 */
#include <stdio.h>
#include <string.h>

#include "review_set.h"

#define RS_BUF (6u + 256u + (2u * REVIEW_SET_MAX_VERDICTS + REVIEW_SET_MAX_EXCLUDED) * 256u)

static size_t
rs_put_str(uint8_t *p, const char *s)
{
    size_t n = strnlen(s, 255);

    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

/* Reads a u8-length string at p[*off..len) into dst (cap bytes). */
static bool
rs_get_str(const uint8_t *p, size_t len, size_t *off, char *dst, size_t cap)
{
    size_t n;

    if (*off >= len || (n = p[*off]) >= cap || *off + 1 + n > len)
        return false;
    memcpy(dst, p + *off + 1, n);
    dst[n] = '\0';
    *off += 1 + n;
    return true;
}

int
review_set_put(struct store *s, MDB_txn *txn, uint64_t id, const struct review_set *rs)
{
    uint8_t buf[RS_BUF], kb[8];
    size_t n = 6;

    if (rs->n_verdicts > REVIEW_SET_MAX_VERDICTS || rs->n_excluded > REVIEW_SET_MAX_EXCLUDED)
        return HITLQ_ST_INTERNAL;
    buf[0] = REVIEW_SET_VERSION;
    buf[1] = rs->need;
    buf[2] = rs->max;
    buf[3] = rs->flags;
    buf[4] = rs->n_verdicts;
    buf[5] = rs->n_excluded;
    n += rs_put_str(buf + n, rs->escalate_to);
    for (uint8_t i = 0; i < rs->n_verdicts; i++) {
        n += rs_put_str(buf + n, rs->who[i]);
        n += rs_put_str(buf + n, rs->outcome[i]);
    }
    for (uint8_t i = 0; i < rs->n_excluded; i++)
        n += rs_put_str(buf + n, rs->excluded[i]);
    store_put_be64(kb, id);
    MDB_val k = { 8, kb }, v = { n, buf };
    return store_status(store_put(s, txn, s->foureyes, &k, &v, 0));
}

int
review_set_get(struct store *s, MDB_txn *txn, uint64_t id, struct review_set *rs)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    const uint8_t *p;
    size_t off = 6;
    int rc;

    store_put_be64(kb, id);
    if ((rc = mdb_get(txn, s->foureyes, &k, &v)) == MDB_NOTFOUND)
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0)
        return store_status(rc);
    p = v.mv_data;
    memset(rs, 0, sizeof *rs);
    if (v.mv_size < 6 || p[0] != REVIEW_SET_VERSION || p[4] > REVIEW_SET_MAX_VERDICTS ||
        p[5] > REVIEW_SET_MAX_EXCLUDED)
        return HITLQ_ST_INTERNAL;
    rs->need = p[1];
    rs->max = p[2];
    rs->flags = p[3];
    rs->n_verdicts = p[4];
    rs->n_excluded = p[5];
    if (!rs_get_str(p, v.mv_size, &off, rs->escalate_to, sizeof rs->escalate_to))
        return HITLQ_ST_INTERNAL;
    for (uint8_t i = 0; i < rs->n_verdicts; i++)
        if (!rs_get_str(p, v.mv_size, &off, rs->who[i], sizeof rs->who[i]) ||
            !rs_get_str(p, v.mv_size, &off, rs->outcome[i], sizeof rs->outcome[i]))
            return HITLQ_ST_INTERNAL;
    for (uint8_t i = 0; i < rs->n_excluded; i++)
        if (!rs_get_str(p, v.mv_size, &off, rs->excluded[i], sizeof rs->excluded[i]))
            return HITLQ_ST_INTERNAL;
    return off == v.mv_size ? HITLQ_ST_OK : HITLQ_ST_INTERNAL;
}

int
review_set_del(struct store *s, MDB_txn *txn, uint64_t id)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb };
    int rc;

    store_put_be64(kb, id);
    rc = store_del(s, txn, s->foureyes, &k, NULL);
    return rc == MDB_NOTFOUND ? HITLQ_ST_OK : store_status(rc);
}

bool
review_set_excludes(const struct review_set *rs, const char *who)
{
    for (uint8_t i = 0; i < rs->n_verdicts; i++)
        if (strcmp(rs->who[i], who) == 0)
            return true;
    for (uint8_t i = 0; i < rs->n_excluded; i++)
        if (strcmp(rs->excluded[i], who) == 0)
            return true;
    return false;
}

bool
review_set_excludes_id(struct store *s, MDB_txn *txn, uint64_t id, const char *who, int *st)
{
    struct review_set rs;

    *st = review_set_get(s, txn, id, &rs);
    if (*st == HITLQ_ST_NOT_FOUND) {
        *st = HITLQ_ST_OK;
        return false;
    }
    return *st == HITLQ_ST_OK && review_set_excludes(&rs, who);
}

bool
review_set_exclude(struct review_set *rs, const char *who)
{
    if (review_set_excludes(rs, who))
        return true;
    if (rs->n_excluded == REVIEW_SET_MAX_EXCLUDED)
        return false;
    snprintf(rs->excluded[rs->n_excluded++], sizeof rs->excluded[0], "%s", who);
    return true;
}
