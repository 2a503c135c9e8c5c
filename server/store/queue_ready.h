/*
 * queue_ready.h - whether a queue has an item ready to claim, for
 * whoever claims it (server/cmd/cmd_claim.c passes a waiting CLAIM's
 * wake-up on when the woken claim found only items it may not take).
 */
#ifndef HITLQ_QUEUE_READY_H
#define HITLQ_QUEUE_READY_H

#include <stdbool.h>

#include <lmdb.h>

#include "store.h"

/* Sets *any to whether `queue` (NUL-terminated queue name) has at least
 * one ready item in txn's view, whoever may review it (four-eyes
 * exclusions are not looked at).  One cursor seek on the ready index.
 * HITLQ_ST_OK, or the LMDB error's status (store_status). */
int queue_has_ready(struct store *s, MDB_txn *txn, const char *queue, bool *any);

#endif
