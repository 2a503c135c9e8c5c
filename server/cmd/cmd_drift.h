/*
 * cmd_drift.h - DRIFT_INPUTS's reply builder (cmd_drift.c), shared with
 * the live dashboard's JSON API (server/cmd/dash_api.c).
 */
#ifndef HITLQ_CMD_DRIFT_H
#define HITLQ_CMD_DRIFT_H

#include <stdint.h>

#include <lmdb.h>
#include <msgpack.h>

struct hitlq_server;
struct type_policy;

/* Loop thread: DRIFT_INPUTS's reply body for type tp (which has a
 * profile) over the windows starting in [from, to), packed with pk.
 * HITLQ_ST_*; nothing is packed on error. */
int drift_inputs_pack(struct hitlq_server *srv, MDB_txn *txn, const struct type_policy *tp,
                      uint64_t from, uint64_t to, msgpack_packer *pk);

#endif
