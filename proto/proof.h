/*
 * proof.h - C2SP tlog-proof@v1 codec (c2sp.org/tlog-proof, pinned in
 * proto/AUDIT-FORMAT.md §1 to C2SP @ 5ba5ee83; §8): the offline-verifiable
 * inclusion receipt "spicy signature".  Text only: no I/O, no crypto, no
 * allocation.  Verifying one is note_open (signature) + note_checkpoint_parse
 * + merkle_verify_inclusion (proof) by the caller.
 *
 * Grammar (each line ends in '\n'):
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]                  optional, unauthenticated, skipped
 *   index <decimal, no leading zero unless "0">
 *   <base64 of 32 bytes, 44 chars>    0..PROOF_MAX_HASHES lines, leaf's
 *   ...                               sibling first (RFC 6962 §2.1.1)
 *   <empty line>
 *   <signed checkpoint note, verbatim, non-empty>
 *
 * Return convention: PROOF_OK (0) or a negative PROOF_ERR_* code whose
 * meaning is stable (part of the API); proof_strerror() names it.
 * (The convention of all of proto/: proto/README.md.)
 */
#ifndef HITLQ_PROOF_H
#define HITLQ_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "note.h"

#define PROOF_HEADER      "c2sp.org/tlog-proof@v1"
/* An inclusion proof in a tree of at most 2^63-1 leaves (MERKLE_MAX_SIZE)
 * has at most 63 hashes; a 64th line can never be valid. */
#define PROOF_MAX_HASHES  (MERKLE_MAX_PROOF - 1)
#define PROOF_HASH_B64    44u   /* base64 of 32 bytes, one '=' of padding */
/* Fixed part: header line (23) + "index " + 20 digits + '\n' (27) + 63
 * hash lines of 45 + the blank line (1).  The note adds at most
 * NOTE_MSG_MAX; an optional extra line is bounded only by PROOF_TEXT_MAX. */
#define PROOF_FIXED_MAX   (23u + 27u + PROOF_MAX_HASHES * 45u + 1u)
/* Whole proof text accepted by the parser: the note's own limit plus room
 * for the fixed part and an extra line of up to 64 KiB. */
#define PROOF_TEXT_MAX    (NOTE_MSG_MAX + PROOF_FIXED_MAX + 65536u)

#define PROOF_OK               0
#define PROOF_ERR_INVAL       -1  /* NULL argument; n > PROOF_MAX_HASHES or an
                                     empty / oversized note given to format */
#define PROOF_ERR_BUFFER      -2  /* output buffer too small */
#define PROOF_ERR_TOO_LARGE   -3  /* input above PROOF_TEXT_MAX */
#define PROOF_ERR_HEADER      -4  /* first line is not PROOF_HEADER */
#define PROOF_ERR_EXTRA       -5  /* "extra" line without valid base64 */
#define PROOF_ERR_INDEX       -6  /* missing or malformed "index <n>" line */
#define PROOF_ERR_HASH        -7  /* a proof line is not 44-char canonical
                                     base64 of 32 bytes */
#define PROOF_ERR_TOO_MANY    -8  /* more than PROOF_MAX_HASHES hash lines */
#define PROOF_ERR_NOTE        -9  /* no blank line, or nothing after it */

/* Static text for any PROOF_* code (never NULL). */
const char *proof_strerror(int code);

/* Writes "c2sp.org/tlog-proof@v1\nindex <index>\n<base64 hash>\n...\n\n"
 * followed by note[0..note_len) verbatim into out, plus a terminating NUL
 * (so cap must be >= *outlen + 1).  hashes may be NULL when n == 0; n must
 * be <= PROOF_MAX_HASHES; note must be non-empty and <= NOTE_MSG_MAX bytes
 * (its content is not checked: it is the caller's signed checkpoint). */
int tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t n,
                      const char *note, size_t note_len,
                      char *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* A parsed proof.  note is BORROWED from the parsed text (valid while it
 * is; not NUL-terminated); hashes[n..] are unspecified. */
struct tlog_proof {
    uint64_t    index;
    size_t      n;
    uint8_t     hashes[MERKLE_MAX_PROOF][32];
    const char *note;
    size_t      note_len;
};

/* Strict parse of text[0..len) per the grammar above.  The optional extra
 * line is checked to be canonical base64 and then ignored (C2SP: it is not
 * authenticated).  The note is everything after the first blank line that
 * follows the hash lines; it is only checked to be non-empty here (the
 * caller opens it with note_open).  On error *out is zeroed. */
int tlog_proof_parse(const char *text, size_t len, struct tlog_proof *out)
    __attribute__((warn_unused_result));

#endif /* HITLQ_PROOF_H */
