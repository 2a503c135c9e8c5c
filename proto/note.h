/*
 * note.h - C2SP signed notes, tlog checkpoints and Ed25519 cosignatures
 * for the audit log (proto/AUDIT-FORMAT.md §1, §6): key IDs, verifier keys
 * ("vkeys"), Go-style private key strings, signing, strict note parsing
 * and verification, checkpoint bodies and cosignature/v1 lines.
 *
 * Pure functions: no I/O, no logging, no global mutable state.  Notes are
 * attacker-controlled input in the auditor's tool, so every parser here is
 * strict and bounded (NOTE_MSG_MAX, NOTE_SIGS_MAX).  Crypto is libsodium
 * (Ed25519 verify is libsodium-strict: small-order and non-canonical keys
 * and signatures are rejected, proto/AUDIT-FORMAT.md §6.2).  Not here: ML-DSA-44
 * cosignatures (0x06), ECDSA (0x02), tlog-witness / tlog-proof bodies.
 *
 * Strings are (pointer, length) pairs and need not be NUL-terminated.
 * Every function that writes text writes *outlen bytes plus a NUL, so it
 * needs cap >= *outlen + 1; it fails with NOTE_ERR_BUFFER otherwise.
 *
 * Return convention: NOTE_OK (0) or a negative NOTE_ERR_* code whose meaning
 * is stable (part of the API); note_strerror() names it.
 * (The convention of all of proto/: proto/README.md.)
 */
#ifndef HITLQ_NOTE_H
#define HITLQ_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTE_OK              0
#define NOTE_ERR_MALFORMED  -1  /* note syntax: UTF-8, control char, no blank
                                   line, bad signature line, > NOTE_SIGS_MAX
                                   signatures (Go: "malformed note") */
#define NOTE_ERR_TOO_LARGE  -2  /* input or output above NOTE_MSG_MAX */
#define NOTE_ERR_KEY        -3  /* malformed vkey / private key string, bad
                                   name, bad hex ID, bad base64, bad length */
#define NOTE_ERR_KEY_HASH   -4  /* key string well formed, key ID mismatch */
#define NOTE_ERR_KEY_ALG    -5  /* unknown signature type byte */
#define NOTE_ERR_AMBIGUOUS  -6  /* a signature names a (name, key ID) that two
                                   of the given verifiers share */
#define NOTE_ERR_BAD_SIG    -7  /* a signature from a known key fails to
                                   verify (also: wrong length, timestamp of a
                                   cosignature above 2^63-1) */
#define NOTE_ERR_UNVERIFIED -8  /* well formed, but no known key signed it */
#define NOTE_ERR_CHECKPOINT -9  /* malformed checkpoint body */
#define NOTE_ERR_BUFFER    -10  /* output buffer too small */
#define NOTE_ERR_INVAL     -11  /* NULL argument, bad signer type, bad name,
                                   text not valid note text, timestamp too big */
#define NOTE_ERR_CRYPTO    -12  /* libsodium init, keypair or malloc failure */

/* Static text for any NOTE_* code (never NULL). */
const char *note_strerror(int code);

/* ---- limits (derivations next to each) --------------------------------- */

/* Whole signed note, checked before anything is parsed.  A checkpoint with
 * 100 Ed25519 signatures is < 20 KiB; 1 MiB leaves room for ML-DSA lines
 * (~3.3 KB each) and long texts. */
#define NOTE_MSG_MAX        (1024u * 1024u)
/* Signature lines per note: Go's limit (101 -> malformed); C2SP requires
 * accepting at least 16. */
#define NOTE_SIGS_MAX       100u
/* Key names we hold in a struct (vkeys, signers, origins we format).  Names
 * in signature lines of a parsed note are not capped (they are only
 * compared).  255 is the cap of tlog-cosignature's name<1..255>. */
#define NOTE_NAME_MAX       255u

#define NOTE_SIGTYPE_ED25519 0x01  /* signed-note Ed25519 */
#define NOTE_SIGTYPE_COSIG   0x04  /* tlog-cosignature Ed25519, cosignature/v1 */

#define NOTE_PK_LEN          32u   /* Ed25519 public key */
#define NOTE_SEED_LEN        32u   /* Ed25519 seed (Go's private key) */
#define NOTE_SK_LEN          64u   /* libsodium secret key = seed || pk */
#define NOTE_ROOT_LEN        32u   /* RFC 6962 SHA-256 root */
#define NOTE_COSIG_TIME_MAX  ((uint64_t)INT64_MAX)  /* tlog-cosignature */

/* base64(type || key32) = base64(33 bytes) = 44 chars, no padding. */
#define NOTE_KEY_B64_LEN     44u
/* vkey: name '+' 8 hex '+' 44 base64 */
#define NOTE_VKEY_MAX        (NOTE_NAME_MAX + 1 + 8 + 1 + NOTE_KEY_B64_LEN)
/* private key string: "PRIVATE+KEY+" (12) then the same shape as a vkey */
#define NOTE_SKEY_MAX        (12 + NOTE_VKEY_MAX)
/* Signature line: "— " (E2 80 94 20, 4 bytes), name, ' ', base64, '\n'.
 * Ed25519: base64(id4 || sig64) = base64(68) = 92 chars.
 * Cosignature: base64(id4 || u64 time || sig64) = base64(76) = 104 chars. */
#define NOTE_SIG_B64_LEN     92u
#define NOTE_COSIG_B64_LEN   104u
#define NOTE_SIGLINE_MAX(name_len)   (4 + (name_len) + 1 + NOTE_COSIG_B64_LEN + 1)
/* Checkpoint body: origin '\n' up to 20 digits '\n' 44 base64 '\n'. */
#define NOTE_CHECKPOINT_MAX(origin_len) ((origin_len) + 1 + 20 + 1 + 44 + 1)

/* ---- keys ------------------------------------------------------------- */

/* A public key a note may be verified with.  Plain data, owned by the
 * caller, no clear needed; name is NUL-terminated. */
struct note_verifier {
    char     name[NOTE_NAME_MAX + 1];
    size_t   name_len;
    uint32_t key_id;
    uint8_t  type;                 /* NOTE_SIGTYPE_ED25519 or _COSIG */
    uint8_t  pk[NOTE_PK_LEN];
};

/* A signing key.  Holds a SECRET: the caller owns the struct, should keep
 * long-lived ones in sodium_malloc'd memory and must call
 * note_signer_clear() when done (it wipes sk). */
struct note_signer {
    struct note_verifier pub;      /* name, key ID, type, public key */
    uint8_t  sk[NOTE_SK_LEN];      /* SECRET: libsodium seed || pk */
};

/* True when name[0..len) is a valid key name: non-empty, valid UTF-8, no
 * '+', no Unicode white space (Go's unicode.IsSpace), no C0 control char.
 * (Length is not capped here; NOTE_NAME_MAX applies to keys we hold.) */
bool note_name_valid(const char *name, size_t len);

/* SHA-256(name || 0x0A || type || pk)[:4] as a big-endian uint32. */
uint32_t note_key_id(const char *name, size_t name_len, uint8_t type,
                     const uint8_t pk[NOTE_PK_LEN]);

/* Derives the key pair from seed (crypto_sign_seed_keypair).  type is
 * NOTE_SIGTYPE_ED25519 (log key) or NOTE_SIGTYPE_COSIG (cosigner).  On error
 * *s is wiped.  The caller keeps ownership of seed (and wipes it). */
int note_signer_init(struct note_signer *s, const char *name, size_t name_len,
                     uint8_t type, const uint8_t seed[NOTE_SEED_LEN])
    __attribute__((warn_unused_result));
/* Wipes the whole struct (sodium_memzero).  Safe on a zeroed struct. */
void note_signer_clear(struct note_signer *s);

/* Parses Go's "PRIVATE+KEY+<name>+<hex id>+base64(type || seed32)", type
 * 0x01 or 0x04; the ID must match the derived public key.  Errors, in Go's
 * order: NOTE_ERR_KEY (syntax), NOTE_ERR_KEY_ALG, NOTE_ERR_KEY (seed
 * length), NOTE_ERR_KEY_HASH.  Decoded seed bytes are wiped before return;
 * on error *s is wiped too.  skey itself is the caller's to wipe. */
int note_skey_parse(const char *skey, size_t len, struct note_signer *s)
    __attribute__((warn_unused_result));
/* Writes the private key string of s into out.  out then holds the SECRET
 * seed: the caller must wipe it. */
int note_skey_format(const struct note_signer *s, char *out, size_t cap,
                     size_t *outlen) __attribute__((warn_unused_result));

/* Parses "<name>+<8 lowercase hex>+base64(type || pk32)", type 0x01 or
 * 0x04.  Errors, in Go's order: NOTE_ERR_KEY (syntax, name, empty key),
 * NOTE_ERR_KEY_HASH, NOTE_ERR_KEY_ALG, NOTE_ERR_KEY (key length).  Stricter
 * than Go: lowercase hex only (C2SP), canonical base64 only, name at most
 * NOTE_NAME_MAX bytes. */
int note_vkey_parse(const char *vkey, size_t len, struct note_verifier *v)
    __attribute__((warn_unused_result));
int note_vkey_format(const struct note_verifier *v, char *out, size_t cap,
                     size_t *outlen) __attribute__((warn_unused_result));

/* ---- signed notes ----------------------------------------------------- */

/* NOTE_OK when text[0..len) is valid note text: non-empty, valid UTF-8, no
 * control char below U+0020 except '\n', ends with '\n', len <= NOTE_MSG_MAX.
 * NOTE_ERR_MALFORMED or NOTE_ERR_TOO_LARGE otherwise. */
int note_text_check(const char *text, size_t len)
    __attribute__((warn_unused_result));

/* One signature line "— <name> base64(id || sig)\n" by an Ed25519
 * (type 0x01) signer over the note text. */
int note_sign_line(const struct note_signer *s, const char *text, size_t len,
                   char *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* One tlog-cosignature line by a type-0x04 signer: base64(id || u64be time
 * || sig) where sig covers "cosignature/v1\ntime <t>\n" || text.  text must
 * parse as a checkpoint (note_checkpoint_parse) and timestamp must be
 * <= NOTE_COSIG_TIME_MAX. */
int note_cosign_line(const struct note_signer *s, uint64_t timestamp,
                     const char *text, size_t len,
                     char *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* text || "\n" || one signature line per signer (all type 0x01), in order.
 * The result never exceeds NOTE_MSG_MAX (else NOTE_ERR_TOO_LARGE), so
 * note_open accepts whatever this produces. */
int note_sign(const char *text, size_t len,
              const struct note_signer *const *signers, size_t nsigners,
              char *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* Per-verifier outcome of note_open (one entry per verifier). */
struct note_sigresult {
    int      verified;   /* 1 when a signature by this key verified */
    uint64_t timestamp;  /* type 0x04 only: time of its first cosignature */
};

/* Summary of an opened note.  text points INTO msg (borrowed: valid while
 * msg is), includes the final '\n', is not NUL-terminated. */
struct note_opened {
    const char *text;
    size_t      text_len;
    size_t      nsigs;       /* signature lines */
    size_t      nverified;   /* distinct known keys that verified */
    size_t      nunknown;    /* lines of unknown keys (ignored) */
};

/* Parses msg[0..len) and verifies its signatures against vs[0..nvs):
 *  - len > NOTE_MSG_MAX: NOTE_ERR_TOO_LARGE before anything is read;
 *  - invalid UTF-8, control char, no "\n\n", a line that is not "— <valid
 *    name> <canonical base64 of >= 5 bytes>", > NOTE_SIGS_MAX lines:
 *    NOTE_ERR_MALFORMED;  the text ends at the LAST blank line (C2SP);
 *  - a line whose (name, key ID) matches no verifier is ignored and counted
 *    in nunknown (every such line; Go drops identical repeats);
 *  - one that matches two verifiers: NOTE_ERR_AMBIGUOUS (Go semantics);
 *  - one that matches one verifier is verified (type 0x01: Ed25519 over the
 *    text; type 0x04: cosignature/v1) and any failure is NOTE_ERR_BAD_SIG.
 *    Stricter than Go, which verifies only the first line per key: every
 *    line of a known key is verified;
 *  - no known key verified: NOTE_ERR_UNVERIFIED (out is still filled).
 * res must have nvs entries (may be NULL only when nvs == 0); a verifier
 * whose name or type is invalid is NOTE_ERR_INVAL.  out and res
 * are zeroed first.  Cosignatures are only meaningful over checkpoints:
 * callers parse out->text with note_checkpoint_parse. */
int note_open(const char *msg, size_t len,
              const struct note_verifier *vs, size_t nvs,
              struct note_sigresult *res, struct note_opened *out)
    __attribute__((warn_unused_result));

/* ---- checkpoints (c2sp.org/tlog-checkpoint) -------------------------- */

/* A parsed checkpoint body; pointers are borrowed from the parsed text. */
struct note_checkpoint {
    const char *origin;      /* not NUL-terminated */
    size_t      origin_len;
    uint64_t    size;
    uint8_t     root[NOTE_ROOT_LEN];
    const char *ext;         /* extension lines (each ends '\n'), or NULL */
    size_t      ext_len;
    size_t      ext_lines;   /* 0 for hitlq's own checkpoints (proto/AUDIT-FORMAT.md §6.1) */
};

/* "<origin>\n<size>\n<base64 root>\n".  hitlq origins are key names
 * (proto/AUDIT-FORMAT.md §6.4: the log key name equals the origin), so origin must pass
 * note_name_valid and be <= NOTE_NAME_MAX bytes.  No extension lines. */
int note_checkpoint_format(const char *origin, size_t origin_len,
                           uint64_t size, const uint8_t root[NOTE_ROOT_LEN],
                           char *out, size_t cap, size_t *outlen)
    __attribute__((warn_unused_result));

/* Strict parse of a checkpoint body (a note text): valid note text; a
 * non-empty origin line; size in decimal, "0" or no leading zero, fits in
 * uint64; the root exactly 44 chars of canonical base64 of 32 bytes; then
 * zero or more non-empty extension lines, reported in cp->ext (callers that
 * accept none check cp->ext_lines == 0).  NOTE_ERR_CHECKPOINT otherwise
 * (NOTE_ERR_TOO_LARGE above NOTE_MSG_MAX); on any error *cp is zeroed.
 * size may exceed MERKLE_MAX_SIZE (2^63-1): the spec allows any uint64, so
 * the Merkle layer is where such a size is refused. */
int note_checkpoint_parse(const char *text, size_t len,
                          struct note_checkpoint *cp)
    __attribute__((warn_unused_result));

#endif
