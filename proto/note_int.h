/*
 * note_int.h - helpers shared between proto/note.c (signed notes, keys,
 * cosignatures), proto/checkpoint.c (tlog-checkpoint bodies) and
 * proto/proof.c (tlog-proof texts).  Not part of the public codec API.
 */
#ifndef HITLQ_NOTE_INT_H
#define HITLQ_NOTE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* Standard base64 with padding (C2SP); decode through note_b64_decode,
 * which rejects bytes outside the alphabet (libsodium 1.0.18 does not). */
#define NOTE_B64 sodium_base64_VARIANT_ORIGINAL

/* Strict standard base64 of in[0..len) into out (see note.c); false when
 * in is not canonical base64.  The caller picks its own error code. */
bool note_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);
/* Decimal digits of v into buf (>= 20 bytes); returns their count. */
size_t note_u64_dec(uint64_t v, char *buf);
/* Index of the first c in s[0..len), or len if none. */
size_t note_find(const char *s, size_t len, char c);
/* Parses s[0..len) as "0" or [1-9][0-9]* fitting in uint64 into *v;
 * false otherwise (*v untouched).  In checkpoint.c. */
bool note_u64_parse(const char *s, size_t len, uint64_t *v);

#endif
