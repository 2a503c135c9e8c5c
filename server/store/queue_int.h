/*
 * queue_int.h - internals shared by queue*.c and journal.c: meta
 * counters, item record load/save, and the index and counter
 * databases.  Not part of the server's module interface.
 *
 * Index layouts (all integers big-endian; "q" = queue name bytes, no NUL):
 *   ready:  q 0x00 (UINT32_MAX - priority)32 deadline64 id64 -> empty
 *   open:   q 0x00 id64 -> created_ms64 deadline64
 *   sla:    q 0x00 deadline64 id64 -> empty
 *   timers: due64 id64 -> kind8 (QI_TIMER_LEASE / QI_TIMER_DELAY; an SLA
 *           timer has kind QI_TIMER_SLA and id | QI_TIMER_SLA_BIT)
 *   idem:   key bytes -> id64 content_hash[16]
 *   qstats: q -> depth64 leased64 delayed64
 *   tstats: type -> submitted64 auto_resolved64 queued64
 *   meta:   "next_id" -> id64 of the next item (absent = 1);
 *           "next_seq" -> next result seq (absent = 1)  [journal.c]
 * Counters are read and written inside each txn (nothing cached), so an
 * aborted batch needs no cleanup.
 */
#ifndef HITLQ_QUEUE_INT_H
#define HITLQ_QUEUE_INT_H

#include <stdint.h>

#include "item.h"
#include "journal.h"
#include "queue.h"

#define QI_TIMER_LEASE 1u
#define QI_TIMER_DELAY 2u
#define QI_TIMER_SLA   3u            /* sla_clock.h: key id | QI_TIMER_SLA_BIT */
#define QI_TIMER_SLA_BIT (UINT64_C(1) << 63)   /* ids stay below 2^53 */
#define QI_KEY_MAX     (HITLQ_MAX_QUEUE_NAME + 1 + 4 + 8 + 8)
#define QI_REC_STACK   2048u

int qi_meta_get(struct store *s, MDB_txn *txn, const char *name, uint64_t *v);
int qi_meta_put(struct store *s, MDB_txn *txn, const char *name, uint64_t v);

/* An item record copied out of LMDB so it can be modified and put back.
 * rec points at stack (small records) or at heap memory owned by this
 * struct: call qi_item_done.  b borrows from rec (the body starts at
 * rec + body_off; the header bytes in rec go stale once h changes). */
struct qi_item {
    uint64_t         id;
    struct item_hdr  h;
    struct item_body b;
    uint8_t         *rec;
    size_t           len, body_off;
    uint8_t          stack[QI_REC_STACK];
};

/* Returns HITLQ_ST_OK, HITLQ_ST_NOT_FOUND or HITLQ_ST_INTERNAL. */
int  qi_item_load(struct store *s, MDB_txn *txn, uint64_t id, struct qi_item *it);
/* Writes it->h back (re-encoded; the body bytes are copied unchanged, so
 * it->b stays valid). */
int  qi_item_save(struct store *s, MDB_txn *txn, struct qi_item *it);
void qi_item_done(struct qi_item *it);
void qi_item_journal(struct qi_item *it, struct journal_item *ji);

/* HITLQ_ST_OK when leased with this token and not expired at now_ms;
 * else ALREADY_RESOLVED (resolved), LEASE_HELD (leased with another
 * token), LEASE_EXPIRED (this token's lease ran out: still leased past
 * its expiry, or queued again by expiry, which keeps the token in h.lease
 * until the next claim), or STALE_LEASE (any other token). */
int qi_lease_check(const struct qi_item *it, uint64_t lease, uint64_t now_ms);

int qi_ready_put(struct store *s, MDB_txn *txn, const struct qi_item *it);
int qi_ready_del(struct store *s, MDB_txn *txn, const struct qi_item *it);
int qi_open_put(struct store *s, MDB_txn *txn, const struct qi_item *it);
int qi_open_del(struct store *s, MDB_txn *txn, const struct qi_item *it);
int qi_timer_put(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id, uint8_t kind);
int qi_timer_del(struct store *s, MDB_txn *txn, uint64_t due, uint64_t id);
int qi_qstats_add(struct store *s, MDB_txn *txn, const char *queue,
                  int64_t depth, int64_t leased, int64_t delayed);
int qi_tstats_add(struct store *s, MDB_txn *txn, const char *type, size_t type_len,
                  int64_t submitted, int64_t autos, int64_t queued);

/* Puts the item (whose h.queue is set) on its queue: ready, open and sla
 * entries, depth + 1, state QUEUED, and records the wake-up in fx. */
int qi_enqueue(struct store *s, MDB_txn *txn, struct qi_item *it, struct queue_fx *fx);
/* Makes the item ready again on its current queue (ready entry, depth
 * + 1, state QUEUED, lease cleared, wake-up); open/sla entries stay. */
int qi_ready_again(struct store *s, MDB_txn *txn, struct qi_item *it, struct queue_fx *fx);
/* Takes the item off its queue's open and sla indexes (not ready). */
int qi_unlist(struct store *s, MDB_txn *txn, const struct qi_item *it);

/* Packs the item summary shared by CLAIM and GET: `n_extra` more pairs
 * are counted in the map header for the caller to append. */
void qi_pack_summary(msgpack_packer *pk, const struct qi_item *it, size_t n_extra);

/* queue_lease.c, shared with CLAIM_ID (queue_work.c): leases the loaded,
 * queued item `it` (taken off the ready index by the caller) to
 * in->worker; packs the CLAIM reply body into out (malloc'd, owned),
 * with the item's SLA clock at now_ms (sla_clock_pack). */
int queue_claim_item(struct store *s, MDB_txn *txn, const struct claim_in *in,
                     uint64_t now_ms, struct qi_item *it);
int queue_claim_reply(struct store *s, MDB_txn *txn, const struct qi_item *it,
                      uint64_t now_ms, struct claim_out *out);

#endif
