/*
 * note_int.h - helpers shared between proto/note.c (signed notes, keys,
 * cosignatures), proto/checkpoint.c (tlog-checkpoint bodies) and
 * proto/proof.c (tlog-proof texts).  Not part of the public codec API.
 */
#ifndef HITLQ_NOTE_INT_H
#define HITLQ_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* Standard base64 with padding (C2SP); decode through note_b64_decode,
 * which rejects bytes outside the alphabet (libsodium 1.0.18 does not). */
#define NOTE_B64 sodium_base64_VARIANT_ORIGINAL

int note_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);
size_t note_u64_dec(uint64_t v, char *buf);
size_t note_find(const char *s, size_t len, char c);
/* Parses s[0..len) as "0" or [1-9][0-9]* fitting in uint64 into *v;
 * 0 on success, -1 otherwise (*v untouched).  In checkpoint.c. */
int note_u64_parse(const char *s, size_t len, uint64_t *v);

#endif
