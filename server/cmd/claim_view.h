/*
 * claim_view.h - the CLAIM reply body a workstation renders
 * (claim_view.c; PROTOCOL.md §4.6).  Shared by every opcode that answers
 * with a claimed item.
 */
#ifndef HITLQ_CLAIM_VIEW_H
#define HITLQ_CLAIM_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct hitlq_server;

/* Loop thread, after the claim's commit.  mp[0..len) is the claimed
 * item's summary as queue_claim packed it (struct claim_out, queue.h;
 * possibly made exact by explain_summary).  Packs into pk the whole reply
 * map: the summary's pairs byte for byte (reasons in explain_sort_reasons'
 * order), then lease_str, recommendation, band (only when the score falls
 * in one of the type's bands), actions, escalate_to, root_causes and
 * notes, read from the policy in force, the audit log and the store in a
 * read transaction of its own (server_read_begin: the caller holds none).
 * Returns HITLQ_ST_OK, or HITLQ_ST_INTERNAL after which what was packed
 * must be discarded. */
int claim_view_pack(struct hitlq_server *srv, const uint8_t *mp, size_t len,
                    msgpack_packer *pk);

#endif
