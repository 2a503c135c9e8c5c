/*
 * review_blind.h - redaction of an item reply (CLAIM, GET) for a blind
 * reviewer: a pure function over the reply's MessagePack map, no store,
 * no connection.  Used for four-eyes reviewers (cmd_four_eyes.h) and for
 * specialists looking at a blind QA copy.
 */
#ifndef HITLQ_REVIEW_BLIND_H
#define HITLQ_REVIEW_BLIND_H

#include <stddef.h>
#include <stdint.h>

#define REVIEW_BLIND_VERDICTS 0x01u   /* history, notes: drop "verdict" events */
#define REVIEW_BLIND_MODEL    0x02u   /* score, recommendation, route, explain,
                                       * explanation, band -> nil; reasons -> [];
                                       * model -> "";
                                       * history "scored": score nil, model "" */
#define REVIEW_BLIND_AUDIT    0x04u   /* audit, qa_of -> nil (they point at the
                                       * original and its model decision: QA copies) */

/* Re-packs the map in[0..len) without what `what` names into a new
 * malloc'd buffer *out (*out_len bytes).  Returns 0, or -1 (in is not a
 * map, or out of memory; *out untouched). */
int review_blind_redact(const uint8_t *in, size_t len, unsigned what, uint8_t **out,
                        size_t *out_len);

/* The same over a reply being built: replaces out's bytes from `body`
 * (the packed map, up to out->size) with their redaction.  what = 0, or
 * a body that cannot be redacted, leaves out as it was. */
struct msgpack_sbuffer;
void review_blind_body(struct msgpack_sbuffer *out, size_t body, unsigned what);

#endif
