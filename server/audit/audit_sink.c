/*
 * audit_sink.c - the audit log as its store's journal sink (store.h):
 * journal_record hands it each item's events inside the batch
 * transaction (the model decision of a SUBMIT, then one entry per human
 * or system event), and the store reads leaf hashes and GET's `audit`
 * value back through it.  Registered by audit_open, removed by
 * audit_close.
 */
#include "audit_int.h"

/* The log's entries for events ev[0..n): the prepared model decision for
 * the submit-time events (a blind QA copy has none of its own: its record
 * points at the original's), one entry per human or system event (claims
 * and extensions decide nothing and are not logged); ev[i].audit gets
 * each entry's index. */
static int
audit_sink_record(void *ctx, MDB_txn *txn, const struct journal_item *it,
                  struct journal_ev *ev, size_t n, uint64_t at_ms)
{
    struct audit *a = ctx;
    int st = HITLQ_ST_OK;

    if (journal_kind_implied(ev[0].kind))
        return it->log_entry != NULL ? audit_submit(a, txn, it->log_entry, at_ms)
               : it->qa_copy ? HITLQ_ST_OK : HITLQ_ST_INTERNAL;
    for (size_t i = 0; i < n && st == HITLQ_ST_OK; i++) {
        st = audit_event(a, txn, it, &ev[i], at_ms, &ev[i].audit);
        ev[i].agreement = a->ev_agreement;   /* the VERDICT's byte, for the metrics */
    }
    return st;
}

static int
audit_sink_leaf(void *ctx, MDB_txn *txn, uint64_t index, uint8_t out[32])
{
    return audit_leaf(ctx, txn, index, out);
}

static int
audit_sink_pack_item(void *ctx, MDB_txn *txn, uint64_t id, msgpack_packer *pk)
{
    return audit_pack_item(ctx, txn, id, pk);
}

void
audit_sink_attach(struct audit *a)
{
    struct store_journal_sink sink = {
        .record = audit_sink_record, .leaf = audit_sink_leaf,
        .pack_item = audit_sink_pack_item, .ctx = a,
    };

    store_set_journal_sink(a->s, &sink);
}

void
audit_sink_detach(struct audit *a)
{
    if (a->s != NULL && a->s->sink.ctx == a)
        store_set_journal_sink(a->s, NULL);
}
