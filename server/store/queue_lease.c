/*
 * queue_lease.c - CLAIM (one cursor seek per named queue on the ready
 * index) and the lease operations EXTEND, RELEASE, RESOLVE, ESCALATE.
 * Every check (NOT_FOUND and the lease statuses of qi_lease_check) happens
 * before the first write, so a refused request leaves the transaction
 * unchanged.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "queue_int.h"
#include "sla_ladder.h"
#include "review_set.h"

#define QUEUE_CLAIM_SKIP_MAX 32u   /* excluded items skipped per queue per claim */

/* Positions cur at the first ready entry of the queue (prefix pre, plen
 * bytes) that in->worker may review: an item whose four-eyes set
 * (review_set.h) excludes the worker is skipped, at most
 * QUEUE_CLAIM_SKIP_MAX of them (one B-tree lookup each), so a claim costs
 * O(queues x QUEUE_CLAIM_SKIP_MAX x log n) at worst; beyond that the
 * queue counts as empty for this worker.  Returns 0 (found, *k set),
 * MDB_NOTFOUND or an LMDB error. */
static int
queue_claim_first(struct store *s, MDB_txn *txn, MDB_cursor *cur, const char *worker,
                  const uint8_t *pre, size_t plen, MDB_val *k)
{
    MDB_val d;
    int st, rc = mdb_cursor_get(cur, k, &d, MDB_SET_RANGE);

    for (unsigned n = 0; rc == 0; n++) {
        if (k->mv_size != plen + 20 || memcmp(k->mv_data, pre, plen) != 0 ||
            n > QUEUE_CLAIM_SKIP_MAX)
            return MDB_NOTFOUND;
        if (!review_set_excludes_id(s, txn, store_get_be64((uint8_t *)k->mv_data + plen + 12),
                                    worker, &st))
            return st == HITLQ_ST_OK ? 0 : MDB_PANIC;
        rc = mdb_cursor_get(cur, k, &d, MDB_NEXT);
    }
    return rc;
}

/* Finds the best ready key over the queues: smallest (prio', deadline,
 * id) suffix among the items the worker may review (queue_claim_first).
 * Returns OK (key copied to best, *best_len set), EMPTY or INTERNAL. */
static int
queue_claim_pick(struct store *s, MDB_txn *txn, const struct claim_in *in,
                 uint8_t *best, size_t *best_len)
{
    MDB_cursor *cur;
    size_t best_plen = 0;
    int rc = mdb_cursor_open(txn, s->ready, &cur);

    if (rc != 0)
        return store_status(rc);
    *best_len = 0;
    for (size_t i = 0; i < in->n_queues; i++) {
        uint8_t pre[HITLQ_MAX_QUEUE_NAME + 1];
        size_t plen = strnlen(in->queues[i], HITLQ_MAX_QUEUE_NAME) + 1;
        MDB_val k = { plen, pre };

        memcpy(pre, in->queues[i], plen - 1);
        pre[plen - 1] = 0;
        rc = queue_claim_first(s, txn, cur, in->worker, pre, plen, &k);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            break;
        if (*best_len == 0 ||
            memcmp((uint8_t *)k.mv_data + plen, best + best_plen, 20) < 0) {
            memcpy(best, k.mv_data, k.mv_size);
            *best_len = k.mv_size;
            best_plen = plen;
        }
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_status(rc);
    return *best_len ? HITLQ_ST_OK : HITLQ_ST_EMPTY;
}

static uint64_t
queue_lease_token(void)
{
    uint64_t t = 0;

    while (t == 0)
        randombytes_buf(&t, sizeof(t));
    return t;
}

/* Packs the CLAIM reply body into a malloc'd buffer owned by out. */
int
queue_claim_reply(struct store *s, MDB_txn *txn, const struct qi_item *it, uint64_t now_ms,
                  struct claim_out *out)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int st;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    qi_pack_summary(&pk, it, 3);
    if ((st = sla_clock_pack(s, txn, it->id, now_ms, &pk)) != HITLQ_ST_OK) {
        msgpack_sbuffer_destroy(&sb);
        return st;
    }
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "lease", 5);
    msgpack_pack_uint64(&pk, it->h.lease);
    msgpack_pack_str(&pk, 10);
    msgpack_pack_str_body(&pk, "expires_ms", 10);
    msgpack_pack_uint64(&pk, it->h.due_ms);
    if (sb.data == NULL)
        return HITLQ_ST_INTERNAL;
    out->reply_mp = (uint8_t *)sb.data;
    out->reply_len = sb.size;
    return HITLQ_ST_OK;
}

/* Leases the loaded, queued item `it` to in->worker. */
int
queue_claim_item(struct store *s, MDB_txn *txn, const struct claim_in *in,
                 uint64_t now_ms, struct qi_item *it)
{
    struct journal_item ji;
    struct journal_ev ev = { .kind = JOURNAL_CLAIMED };
    uint64_t unused;
    int st;

    it->h.state = HITLQ_STATE_LEASED;
    it->h.lease = queue_lease_token();
    it->h.lease_ms = in->lease_ms ? in->lease_ms : HITLQ_DEFAULT_LEASE_MS;
    it->h.due_ms = now_ms + it->h.lease_ms;
    snprintf(it->h.worker, sizeof(it->h.worker), "%s", in->worker);
    ev.actor = ev.worker = it->h.worker;
    ev.expires_ms = it->h.due_ms;
    qi_item_journal(it, &ji);
    if ((st = qi_timer_put(s, txn, it->h.due_ms, it->id, QI_TIMER_LEASE)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, it->h.queue, -1, 1, 0)) != HITLQ_ST_OK ||
        (st = journal_record(s, txn, &ji, now_ms, &ev, 1, &unused)) != HITLQ_ST_OK)
        return st;
    return qi_item_save(s, txn, it);
}

int
queue_claim(struct store *s, MDB_txn *txn, const struct claim_in *in,
            uint64_t now_ms, struct claim_out *out)
{
    uint8_t key[QI_KEY_MAX];
    size_t key_len = 0;
    struct qi_item it;
    int st = queue_claim_pick(s, txn, in, key, &key_len);

    memset(out, 0, sizeof(*out));
    if (st != HITLQ_ST_OK)
        return st;
    st = qi_item_load(s, txn, store_get_be64(key + key_len - 8), &it);
    if (st != HITLQ_ST_OK)
        return HITLQ_ST_INTERNAL;      /* index points at no item */
    MDB_val k = { key_len, key };
    st = it.h.state == HITLQ_STATE_QUEUED ? store_status(mdb_del(txn, s->ready, &k, NULL))
                                          : HITLQ_ST_INTERNAL;
    if (st == HITLQ_ST_OK)
        st = queue_claim_item(s, txn, in, now_ms, &it);
    if (st == HITLQ_ST_OK)
        st = queue_claim_reply(s, txn, &it, now_ms, out);
    if (st == HITLQ_ST_OK) {
        out->id = it.id;
        out->lease = it.h.lease;
        out->expires_ms = it.h.due_ms;
    }
    qi_item_done(&it);
    return st;
}

/* Loads item id and checks its lease; on success the caller owns *it. */
static int
queue_lease_load(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                 uint64_t now_ms, struct qi_item *it)
{
    int st = qi_item_load(s, txn, id, it);

    if (st != HITLQ_ST_OK)
        return st;
    st = qi_lease_check(it, lease, now_ms);
    if (st != HITLQ_ST_OK)
        qi_item_done(it);
    return st;
}

/* Journals one event by the lease holder, keeps the result seq (if the
 * event is a resolution) in the header and *seq, saves and frees it. */
static int
queue_lease_commit(struct store *s, MDB_txn *txn, struct qi_item *it,
                   uint64_t now_ms, struct journal_ev *ev, uint64_t *seq)
{
    struct journal_item ji;
    uint64_t rseq;
    int st;

    qi_item_journal(it, &ji);
    ev->actor = it->h.worker;
    st = journal_record(s, txn, &ji, now_ms, ev, 1, &rseq);
    if (rseq != 0)
        it->h.result_seq = rseq;
    if (seq != NULL)
        *seq = rseq;
    if (st == HITLQ_ST_OK)
        st = qi_item_save(s, txn, it);
    qi_item_done(it);
    return st;
}

int
queue_extend(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
             uint32_t lease_ms, uint64_t now_ms, uint64_t *expires_ms)
{
    struct qi_item it;
    struct journal_ev ev = { .kind = JOURNAL_EXTENDED };
    int st = queue_lease_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if ((st = qi_timer_del(s, txn, it.h.due_ms, id)) != HITLQ_ST_OK)
        goto fail;
    if (lease_ms != 0)
        it.h.lease_ms = lease_ms;
    it.h.due_ms = now_ms + it.h.lease_ms;
    if ((st = qi_timer_put(s, txn, it.h.due_ms, id, QI_TIMER_LEASE)) != HITLQ_ST_OK)
        goto fail;
    *expires_ms = ev.expires_ms = it.h.due_ms;
    return queue_lease_commit(s, txn, &it, now_ms, &ev, NULL);
fail:
    qi_item_done(&it);
    return st;
}

int
queue_release(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
              uint32_t delay_ms, uint64_t now_ms, uint64_t *ready_ms,
              struct queue_fx *fx)
{
    return queue_release_waiting(s, txn, id, lease, delay_ms, NULL, now_ms, ready_ms, fx);
}

int
queue_release_waiting(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
                      uint32_t delay_ms, const char *waiting_on, uint64_t now_ms,
                      uint64_t *ready_ms, struct queue_fx *fx)
{
    struct qi_item it;
    struct journal_ev ev = { .kind = JOURNAL_RELEASED, .delay_ms = delay_ms };
    int st = queue_lease_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if ((st = qi_timer_del(s, txn, it.h.due_ms, id)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, it.h.queue, 0, -1, 0)) != HITLQ_ST_OK)
        goto fail;
    if (delay_ms == 0) {
        *ready_ms = now_ms;
        st = qi_ready_again(s, txn, &it, fx);
    } else {
        it.h.state = HITLQ_STATE_DELAYED;
        it.h.lease = 0;
        it.h.due_ms = *ready_ms = now_ms + delay_ms;
        st = qi_timer_put(s, txn, it.h.due_ms, id, QI_TIMER_DELAY);
        if (st == HITLQ_ST_OK)
            st = qi_qstats_add(s, txn, it.h.queue, 0, 0, 1);
        if (st == HITLQ_ST_OK && waiting_on != NULL && waiting_on[0] != '\0')
            st = sla_pause(s, txn, id, waiting_on, now_ms);
    }
    if (st != HITLQ_ST_OK)
        goto fail;
    return queue_lease_commit(s, txn, &it, now_ms, &ev, NULL);
fail:
    qi_item_done(&it);
    return st;
}

int
queue_resolve(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
              const char *outcome, const char *note, const char *root_cause,
              uint64_t now_ms, uint64_t *seq, struct queue_fx *fx)
{
    struct qi_item it;
    struct journal_ev ev = {
        .kind = JOURNAL_RESOLVED, .outcome = outcome, .note = note,
        .root_cause = root_cause,
    };
    int st = queue_lease_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    if ((st = qi_timer_del(s, txn, it.h.due_ms, id)) != HITLQ_ST_OK ||
        (st = qi_unlist(s, txn, &it)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, it.h.queue, 0, -1, 0)) != HITLQ_ST_OK ||
        (st = sla_stop(s, txn, id, it.h.queue, now_ms, fx)) != HITLQ_ST_OK) {
        qi_item_done(&it);
        return st;
    }
    it.h.state = HITLQ_STATE_RESOLVED;
    it.h.lease = 0;
    it.h.due_ms = 0;
    it.h.resolved_ms = now_ms;
    snprintf(it.h.outcome, sizeof(it.h.outcome), "%s", outcome);
    st = queue_lease_commit(s, txn, &it, now_ms, &ev, seq);
    if (st == HITLQ_ST_OK && fx != NULL)
        fx->results = true;
    return st;
}

int
queue_escalate(struct store *s, MDB_txn *txn, uint64_t id, uint64_t lease,
               const char *to_queue, const char *note, uint64_t now_ms,
               struct queue_fx *fx)
{
    struct qi_item it;
    char from[HITLQ_MAX_QUEUE_NAME + 1];
    struct journal_ev ev = {
        .kind = JOURNAL_ESCALATED, .from = from, .to = to_queue, .note = note,
    };
    int st = queue_lease_load(s, txn, id, lease, now_ms, &it);

    if (st != HITLQ_ST_OK)
        return st;
    snprintf(from, sizeof(from), "%s", it.h.queue);
    if ((st = qi_timer_del(s, txn, it.h.due_ms, id)) != HITLQ_ST_OK ||
        (st = qi_unlist(s, txn, &it)) != HITLQ_ST_OK ||
        (st = qi_qstats_add(s, txn, from, 0, -1, 0)) != HITLQ_ST_OK ||
        (st = sla_risk_move(s, txn, id, from, to_queue, fx)) != HITLQ_ST_OK)
        goto fail;
    snprintf(it.h.queue, sizeof(it.h.queue), "%s", to_queue);
    if ((st = qi_enqueue(s, txn, &it, fx)) != HITLQ_ST_OK)
        goto fail;
    return queue_lease_commit(s, txn, &it, now_ms, &ev, NULL);
fail:
    qi_item_done(&it);
    return st;
}

int
queue_lease_holder(struct store *s, MDB_txn *txn, uint64_t id, char *worker,
                   size_t cap, uint64_t *expires_ms)
{
    struct qi_item it;
    int st = qi_item_load(s, txn, id, &it);

    if (st != HITLQ_ST_OK)
        return st;
    snprintf(worker, cap, "%s", it.h.worker);
    *expires_ms = it.h.state == HITLQ_STATE_LEASED ? it.h.due_ms : 0;
    qi_item_done(&it);
    return HITLQ_ST_OK;
}
