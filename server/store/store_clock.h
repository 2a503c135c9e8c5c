/*
 * store_clock.h - the server time's high-water mark in the store: meta
 * "clock_ms" (BE64) holds the server time (util_now_ms) of the latest
 * committed batch, and the next start never lets the server's time begin
 * below it (util_clock_floor), so a wall clock set back across a restart
 * cannot reorder history or stretch leases (docs/RELIABILITY.md §1.7).
 */
#ifndef HITLQ_STORE_CLOCK_H
#define HITLQ_STORE_CLOCK_H

#include <stdint.h>

#include <lmdb.h>

#include "store.h"

/* Records now_ms as meta "clock_ms" in the write transaction txn, unless
 * the stored value is already at or past it.  HITLQ_ST_OK, or the status
 * of the failed write (store_status: abort the transaction). */
int store_clock_save(struct store *s, MDB_txn *txn, uint64_t now_ms);

/* At start, before the commit thread runs: reads meta "clock_ms" and
 * applies it as the floor of the server's time (util_clock_floor).
 * Returns the stored value (0 when absent or unreadable). */
uint64_t store_clock_resume(struct store *s);

#endif
