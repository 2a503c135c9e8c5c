/*
 * record.h - the audit log's leaf: the `AXR1` decision record codec
 * (proto/AUDIT-FORMAT.md §3, §5, §13).  Canonical encoder, strict bounded decoder
 * (the auditor's tool feeds it attacker-controlled bytes), per-log sequence
 * checks, salted commitments and the RFC 6962 leaf hash.
 *
 * Pure functions: no I/O, no logging, no global mutable state; the codec
 * never allocates (hashing uses a short-lived OpenSSL EVP_MD_CTX).  Not here: Ed25519 attestation signing
 * or verification (the signed message is described below), storage, the
 * Merkle tree (proto/merkle.h), checkpoints (proto/note.h).
 *
 * Return convention: RECORD_OK (0) or a negative RECORD_ERR_* code whose
 * meaning is stable (part of the API); record_strerror() says what is wrong.
 * (The convention of all of proto/: proto/README.md.)
 *
 * ---- Wire format (to become proto/AUDIT-FORMAT.md) ------------------------
 *
 * Conventions (RFC 8446 §3): integers are big-endian; `opaque x<a..255>` is
 * a u8 length then the bytes; f64 is IEEE-754 binary64 bits, NaN and +-Inf
 * are forbidden and -0 is encoded as +0 (a decoder rejects the -0 bits).
 * One record has exactly one encoding.  Leaf hash = SHA-256(0x00 || bytes).
 *
 *   off  size        field            rule
 *   ---  ----------  ---------------  ---------------------------------------
 *   0    4           magic            "AXR1" = 41 58 52 31 (major version)
 *   4    1           record_type      01 AUTO_DECISION, 02 ESCALATION,
 *                                     03 HUMAN_DECISION, 04 HUMAN_OVERRIDE,
 *                                     05 QUEUE_EVENT, 10 MODEL_REGISTERED,
 *                                     11 POLICY_CHANGE, 12 PROFILE_REGISTERED,
 *                                     13 INPUT_WINDOW, 20 KEY_EVENT,
 *                                     21 HEARTBEAT, 22 GENESIS (index 0 only)
 *   5    8           index            u64 = the leaf's position in the tree
 *   13   8           time_ms          u64 Unix ms UTC, non-decreasing
 *   21   1+1..255    item_id          opaque<1..255> (no PII)
 *   .    1           actor_type       1 BOT, 2 MODEL, 3 HUMAN, 4 SYSTEM
 *   .    1+1..255    actor_id         opaque<1..255>
 *   .    32          input_commit     SHA-256(salt_in[32] || payload)
 *   .    1+0..255    model_id         opaque<0..255>, "" if N/A
 *   .    1+0..255    model_version    opaque<0..255>
 *   .    32          model_digest     zeros if N/A
 *   .    32          features_commit  SHA-256(salt_f[32] || canonical
 *                                     features "AXF1"...); zeros if N/A
 *   .    8           score            f64, 0 if N/A
 *   .    8           threshold        f64, 0 if N/A
 *   .    1+0..255    policy_id        opaque<0..255>, e.g. "ap-routing/v7"
 *   .    1           decision         00 NONE, 01 APPROVE, 02 REJECT,
 *                                     03 ESCALATE, 04 REQUEST_INFO, 05 DEFER
 *   .    1+2*n       reason_codes     u8 n (0..255), n x u16 (any order)
 *   .    8           ref_index        u64, FFFFFFFFFFFFFFFF = none
 *   .    32          ref_leaf_hash    leaf hash of ref_index; zeros = none
 *   .    32          note_commit      SHA-256(salt_n[32] || text); zeros = none
 *   .    2+ext_len   extensions       u16 ext_len = total bytes of the list;
 *                                     each { u16 type; u16 len; data[len] },
 *                                     types strictly ascending (so each at
 *                                     most once); the list fills ext_len
 *                                     exactly; at most RECORD_EXT_MAX items
 *   .    1+69*m      attestations     u8 m (0..255), m x { u8 sig_type (01
 *                                     Ed25519); u8 key_id[4]; u8 sig[64] }
 *   end                               no trailing bytes; total <= 65,535
 *
 * Smallest record: 4+1+8+8+2+1+2+32+1+1+32+32+8+8+1+1+1+8+32+32+2+1 = 218.
 *
 * Extension types: the ids, the bodies and their codecs are in
 * proto/record_ext.h.  The decoder (and encoder) check the body of every
 * type record_ext_check knows (0001-0004, 0010, 0011, 0020, 0021) with its
 * decoder: consumed exactly, opaque<1..> non-empty, f64 finite and not -0
 * (no normalisation inside extensions), KEY_INFO role 1..4 and action 1..3,
 * CHECKPOINT_REF's len = data length - 2.  Other types, 0005-000F
 * (hitlq's OUTCOME, SCORING, RULES included) and private 8000-FFFF, are
 * opaque bytes here (verifiers hash unknown extensions but ignore their
 * meaning).
 *
 * Attestation (Ed25519 by the actor's key) signs
 *   "axr/v1/attestation\n" || SHA-256(bytes[0 .. end of the extension list))
 * i.e. everything but the final att_count byte and the attestations;
 * key_id = SHA-256(key_name || 0x0A || 0x01 || pk)[:4].
 *
 * Commitments (proto/AUDIT-FORMAT.md §5): salts are 32 random bytes kept with the
 * payload outside the log; deleting both leaves an unopenable commitment.
 *
 * Checks that need more than one record (index == position, time_ms
 * non-decreasing, GENESIS only at index 0) are record_check_sequence().
 */
#ifndef HITLQ_RECORD_H
#define HITLQ_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "record_ext.h"     /* extension type ids and body codecs */

#define RECORD_MAGIC        "AXR1"
#define RECORD_MAGIC_LEN    4
#define RECORD_HASH_LEN     32        /* SHA-256 */
#define RECORD_SALT_LEN     32
#define RECORD_STR_MAX      255       /* opaque<..255>: u8 length */
#define RECORD_REASONS_MAX  255       /* u8 reason_count */
#define RECORD_ATT_MAX      255       /* u8 att_count */
#define RECORD_SIG_LEN      64        /* Ed25519 */
#define RECORD_KEY_ID_LEN   4
#define RECORD_ATT_LEN      (1 + RECORD_KEY_ID_LEN + RECORD_SIG_LEN)   /* 69 */
#define RECORD_LEAF_MAX     65535     /* tlog-tiles bundle entry: u16 length */
#define RECORD_MIN_LEN      218       /* all opaques minimal, no lists */
/* hitlq's bound on extensions per record.  Types are unique, 11 are defined
 * and a record carries 1-5 in practice; 64 keeps struct record bounded.
 * A record with more is rejected (RECORD_ERR_EXT_COUNT). */
#define RECORD_EXT_MAX      64
#define RECORD_REF_NONE     UINT64_MAX

enum record_type {
    RECORD_AUTO_DECISION    = 0x01,
    RECORD_ESCALATION       = 0x02,
    RECORD_HUMAN_DECISION   = 0x03,
    RECORD_HUMAN_OVERRIDE   = 0x04,
    RECORD_QUEUE_EVENT      = 0x05,
    RECORD_MODEL_REGISTERED = 0x10,
    RECORD_POLICY_CHANGE    = 0x11,
    RECORD_PROFILE_REGISTERED = 0x12,  /* input-drift reference profile */
    RECORD_INPUT_WINDOW     = 0x13,    /* a closed input-drift window */
    RECORD_KEY_EVENT        = 0x20,
    RECORD_HEARTBEAT        = 0x21,
    RECORD_GENESIS          = 0x22,
};

enum record_actor {
    RECORD_ACTOR_BOT    = 1,
    RECORD_ACTOR_MODEL  = 2,
    RECORD_ACTOR_HUMAN  = 3,
    RECORD_ACTOR_SYSTEM = 4,
};

enum record_decision {
    RECORD_DEC_NONE         = 0x00,
    RECORD_DEC_APPROVE      = 0x01,
    RECORD_DEC_REJECT       = 0x02,
    RECORD_DEC_ESCALATE     = 0x03,
    RECORD_DEC_REQUEST_INFO = 0x04,
    RECORD_DEC_DEFER        = 0x05,
};

#define RECORD_SIG_ED25519  0x01

#define RECORD_OK                 0
#define RECORD_ERR_INVAL         -1   /* NULL argument, ext data NULL with len > 0 */
#define RECORD_ERR_BUFFER        -2   /* output buffer too small (nothing usable written) */
#define RECORD_ERR_TOO_LARGE     -3   /* record above RECORD_LEAF_MAX bytes */
#define RECORD_ERR_TRUNCATED     -4   /* input ends inside a field */
#define RECORD_ERR_MAGIC         -5   /* first 4 bytes are not "AXR1" */
#define RECORD_ERR_RECORD_TYPE   -6   /* unknown record_type */
#define RECORD_ERR_ACTOR_TYPE    -7   /* unknown actor_type */
#define RECORD_ERR_DECISION      -8   /* unknown decision */
#define RECORD_ERR_EMPTY_ID      -9   /* item_id or actor_id has length 0 */
#define RECORD_ERR_FLOAT         -10  /* score/threshold NaN or infinite */
#define RECORD_ERR_NEG_ZERO      -11  /* score/threshold encoded as -0 */
#define RECORD_ERR_EXT_ORDER     -12  /* extension types not strictly ascending */
#define RECORD_ERR_EXT_LEN       -13  /* an extension overruns ext_len, or the
                                         list exceeds 65,535 bytes (encode) */
#define RECORD_ERR_EXT_COUNT     -14  /* more than RECORD_EXT_MAX extensions */
#define RECORD_ERR_SIG_TYPE      -15  /* attestation sig_type is not Ed25519 */
#define RECORD_ERR_TRAILING      -16  /* bytes after the last attestation */
#define RECORD_ERR_CRYPTO        -17  /* OpenSSL failed */
#define RECORD_ERR_INDEX         -18  /* index != leaf position */
#define RECORD_ERR_TIME          -19  /* time_ms below the previous record's */
#define RECORD_ERR_GENESIS       -20  /* GENESIS record at index != 0 */
#define RECORD_ERR_EXT_BODY      -21  /* a known extension type's data does not
                                         parse exactly (see the table above) */

/* Static text for any RECORD_* code (never NULL). */
const char *record_strerror(int code);

/* opaque<..255>: len bytes of data (not NUL-terminated). */
struct record_str {
    uint8_t len;
    uint8_t data[RECORD_STR_MAX];
};

/* One extension.  data is BORROWED: after record_decode it points into the
 * decoded input (valid while that buffer is); for record_encode it is the
 * caller's.  May be NULL when len == 0. */
struct record_ext {
    uint16_t       type;
    uint16_t       len;
    const uint8_t *data;
};

struct record_att {
    uint8_t sig_type;                       /* RECORD_SIG_ED25519 */
    uint8_t key_id[RECORD_KEY_ID_LEN];
    uint8_t sig[RECORD_SIG_LEN];
};

/* Decoded / encodable record, fields in wire order.  Plain value (about
 * 20 KB, mostly the 255 attestation slots): no heap; only ext[].data is
 * borrowed.  Entries past *_count are ignored by the encoder and left
 * unspecified by the decoder. */
struct record {
    uint8_t           record_type;          /* enum record_type */
    uint64_t          index;
    uint64_t          time_ms;
    struct record_str item_id;              /* len >= 1 */
    uint8_t           actor_type;           /* enum record_actor */
    struct record_str actor_id;             /* len >= 1 */
    uint8_t           input_commit[RECORD_HASH_LEN];
    struct record_str model_id;
    struct record_str model_version;
    uint8_t           model_digest[RECORD_HASH_LEN];
    uint8_t           features_commit[RECORD_HASH_LEN];
    double            score;                /* finite; -0 encodes as +0 */
    double            threshold;
    struct record_str policy_id;
    uint8_t           decision;             /* enum record_decision */
    uint8_t           reason_count;
    uint16_t          reason_codes[RECORD_REASONS_MAX];
    uint64_t          ref_index;            /* RECORD_REF_NONE = none */
    uint8_t           ref_leaf_hash[RECORD_HASH_LEN];
    uint8_t           note_commit[RECORD_HASH_LEN];
    size_t            ext_count;            /* <= RECORD_EXT_MAX */
    struct record_ext ext[RECORD_EXT_MAX];  /* types strictly ascending */
    uint8_t           att_count;
    struct record_att att[RECORD_ATT_MAX];
};

/* Zeroes r and sets ref_index = RECORD_REF_NONE: a starting point for
 * building a record (not yet encodable: ids and enums must be filled). */
void record_init(struct record *r);

/* Bytes record_encode would write for r (valid or not: no checks beyond
 * ext_count/att_count bounds; returns 0 if ext_count > RECORD_EXT_MAX). */
size_t record_encoded_len(const struct record *r);

/* Canonical encoding of r into out[0..cap); *len gets the size.  Validates
 * r exactly as record_decode validates bytes (enums, non-empty ids, finite
 * floats, ascending extension types, known extension bodies, size <=
 * RECORD_LEAF_MAX, attestation sig_type), so every successful encoding
 * decodes back to r; score/threshold -0 is written as +0.  On error nothing meaningful is in out. */
int record_encode(const struct record *r, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/* Strict decode of exactly one record occupying all of buf[0..len).  On
 * success r->ext[].data point into buf.  On error r is unspecified. */
int record_decode(const uint8_t *buf, size_t len, struct record *r)
    __attribute__((warn_unused_result));

/* Checks across records of one log: r->index == position; GENESIS only at
 * position 0; if prev != NULL (the record at position - 1),
 * r->time_ms >= prev->time_ms. */
int record_check_sequence(const struct record *prev, const struct record *r,
                          uint64_t position) __attribute__((warn_unused_result));

/* out = SHA-256(salt[32] || data[0..len)): input, features and note
 * commitments.  data may be NULL when len == 0. */
int record_commit(const uint8_t salt[RECORD_SALT_LEN], const void *data, size_t len,
                  uint8_t out[RECORD_HASH_LEN]) __attribute__((warn_unused_result));

/* out = SHA-256(0x00 || buf[0..len)), the RFC 6962 leaf hash of encoded
 * record bytes (same value as merkle_leaf_hash; one-shot, no hasher). */
int record_leaf_hash(const uint8_t *buf, size_t len, uint8_t out[RECORD_HASH_LEN])
    __attribute__((warn_unused_result));

#endif /* HITLQ_RECORD_H */
