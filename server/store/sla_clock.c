/*
 * sla_clock.c - the SLA clock's arithmetic, its record codec and its
 * slaclk / timers entries (layout and meaning in sla_clock.h).  The item
 * side (start, pause, resume, stop, the ladder steps) is sla_ladder.c.
 * Also GET's view of the clock (sla_clock_pack).
 */
#include <string.h>

#include "queue_int.h"
#include "sla_clock.h"
#include "sla_ladder.h"
#include "wire.h"

uint64_t
sla_elapsed(const struct sla_clock *c, uint64_t now_ms)
{
    uint64_t e = c->elapsed_ms;

    if ((c->flags & SLA_F_RUNNING) && now_ms > c->since_ms)
        e += now_ms - c->since_ms;
    return e;
}

uint64_t
sla_level_ms(uint64_t budget_ms, uint8_t level)
{
    return budget_ms / 100u * level + budget_ms % 100u * level / 100u;
}

uint64_t
sla_next_due(const struct sla_clock *c)
{
    uint64_t target;

    if (!(c->flags & SLA_F_RUNNING) || (c->flags & SLA_F_STOPPED) ||
        c->done >= c->plan.n_steps)
        return 0;
    target = sla_level_ms(c->plan.budget_ms, c->plan.steps[c->done].level);
    if (target <= c->elapsed_ms)
        return c->since_ms ? c->since_ms : 1;
    return c->since_ms + (target - c->elapsed_ms);
}

uint64_t
sla_breach_at(const struct sla_clock *c)
{
    if (!(c->flags & SLA_F_RUNNING) || (c->flags & SLA_F_STOPPED))
        return 0;
    if (c->plan.budget_ms <= c->elapsed_ms)
        return c->since_ms - (c->elapsed_ms - c->plan.budget_ms);
    return c->since_ms + (c->plan.budget_ms - c->elapsed_ms);
}

/* u8 len + bytes of a NUL-terminated name. */
static size_t
sla_put_name(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

size_t
sla_encode(const struct sla_clock *c, uint8_t *p)
{
    size_t o = 4;

    p[0] = SLA_REC_VERSION;
    p[1] = c->flags;
    p[2] = c->done;
    p[3] = c->plan.n_steps;
    store_put_be64(p + o, c->plan.budget_ms);
    store_put_be64(p + o + 8, c->elapsed_ms);
    store_put_be64(p + o + 16, c->since_ms);
    store_put_be64(p + o + 24, c->due_ms);
    o += 32;
    o += sla_put_name(p + o, c->waiting_on);
    for (size_t i = 0; i < c->plan.n_steps; i++) {
        const struct sla_step *st = &c->plan.steps[i];

        p[o] = st->level;
        p[o + 1] = st->flags;
        store_put_be32(p + o + 2, st->priority);
        o += 6;
        o += sla_put_name(p + o, st->move_to);
    }
    return o;
}

/* Reads a u8-length name into dst (cap bytes with the NUL). */
static int
sla_get_name(const uint8_t *p, size_t len, size_t *o, char *dst, size_t cap)
{
    size_t n;

    if (*o >= len || (n = p[*o]) + 1 > cap || *o + 1 + n > len)
        return -1;
    memcpy(dst, p + *o + 1, n);
    dst[n] = '\0';
    *o += 1 + n;
    return 0;
}

int
sla_decode(const uint8_t *p, size_t len, struct sla_clock *c)
{
    size_t o = 36;

    memset(c, 0, sizeof(*c));
    if (len < o || p[0] != SLA_REC_VERSION || p[3] > SLA_MAX_STEPS || p[2] > p[3])
        return -1;
    c->flags = p[1];
    c->done = p[2];
    c->plan.n_steps = p[3];
    c->plan.budget_ms = store_get_be64(p + 4);
    c->elapsed_ms = store_get_be64(p + 12);
    c->since_ms = store_get_be64(p + 20);
    c->due_ms = store_get_be64(p + 28);
    if (sla_get_name(p, len, &o, c->waiting_on, sizeof(c->waiting_on)) < 0)
        return -1;
    for (size_t i = 0; i < c->plan.n_steps; i++) {
        struct sla_step *st = &c->plan.steps[i];

        if (o + 6 > len)
            return -1;
        st->level = p[o];
        st->flags = p[o + 1];
        st->priority = store_get_be32(p + o + 2);
        o += 6;
        if (sla_get_name(p, len, &o, st->move_to, sizeof(st->move_to)) < 0)
            return -1;
    }
    return o == len ? 0 : -1;
}

int
sla_clock_get(struct store *s, MDB_txn *txn, uint64_t id, struct sla_clock *c)
{
    uint8_t kb[8];
    MDB_val k = { 8, kb }, v;
    int rc;

    store_put_be64(kb, id);
    rc = mdb_get(txn, s->slaclk, &k, &v);
    if (rc == MDB_NOTFOUND)
        return HITLQ_ST_NOT_FOUND;
    if (rc != 0)
        return store_status(rc);
    return sla_decode(v.mv_data, v.mv_size, c) == 0 ? HITLQ_ST_OK : HITLQ_ST_INTERNAL;
}

int
sla_clock_put(struct store *s, MDB_txn *txn, uint64_t id, const struct sla_clock *c)
{
    uint8_t kb[8], vb[SLA_REC_MAX];
    MDB_val k = { 8, kb }, v = { 0, vb };

    store_put_be64(kb, id);
    v.mv_size = sla_encode(c, vb);
    return store_status(mdb_put(txn, s->slaclk, &k, &v, 0));
}

int
sla_clock_arm(struct store *s, MDB_txn *txn, uint64_t id, struct sla_clock *c)
{
    uint64_t due = sla_next_due(c);
    int st;

    if (c->due_ms == due)
        return HITLQ_ST_OK;
    if (c->due_ms != 0 &&
        (st = qi_timer_del(s, txn, c->due_ms, id | QI_TIMER_SLA_BIT)) != HITLQ_ST_OK)
        return st;
    c->due_ms = due;
    if (due == 0)
        return HITLQ_ST_OK;
    return qi_timer_put(s, txn, due, id | QI_TIMER_SLA_BIT, QI_TIMER_SLA);
}

/* The clock's ladder level: the level of the last step run, 0 before any. */
static uint8_t
sla_level_reached(const struct sla_clock *c)
{
    if (c->done == 0 || c->done > c->plan.n_steps)
        return 0;
    return c->plan.steps[c->done - 1].level;
}

int
sla_clock_pack(struct store *s, MDB_txn *txn, uint64_t id, uint64_t now_ms,
               msgpack_packer *pk)
{
    struct sla_clock c;
    int st = sla_clock_get(s, txn, id, &c);
    bool running = (c.flags & SLA_F_RUNNING) != 0;

    if (st == HITLQ_ST_NOT_FOUND) {
        wire_pack_kv_nil(pk, "sla");
        return HITLQ_ST_OK;
    }
    if (st != HITLQ_ST_OK)
        return st;
    wire_pack_cstr(pk, "sla");
    msgpack_pack_map(pk, 4 + (c.waiting_on[0] != '\0') + running);
    wire_pack_kv_u64(pk, "budget_ms", c.plan.budget_ms);
    wire_pack_kv_u64(pk, "used_ms", sla_elapsed(&c, now_ms));
    wire_pack_kv_bool(pk, "running", running);
    if (c.waiting_on[0] != '\0')
        wire_pack_kv_str(pk, "waiting_on", c.waiting_on);
    wire_pack_kv_u64(pk, "level", sla_level_reached(&c));
    if (running)
        wire_pack_kv_u64(pk, "breach_at_ms", sla_breach_at(&c));
    return HITLQ_ST_OK;
}
