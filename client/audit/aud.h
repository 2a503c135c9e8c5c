/*
 * aud.h - private declarations shared by the modules of hitlq-audit, the
 * auditor's verifier (client/audit/hitlq_audit.c and client/aud_*.c; not part of
 * libhitlq, not installed).  proto/AUDIT-FORMAT.md §8-11, PROTOCOL.md §4.12.
 *
 * Error convention: every aud_* function that can fail returns an enum
 * aud_class (AUD_OK = 0) and fills a caller-owned struct aud_result with the
 * class, the first bad index when there is one, and a one-line message.
 * Verification failures (exit 1) are told apart from usage and I/O errors
 * (exit 2) by aud_class_exit().  Nothing here prints: hitlq_audit.c does.
 */
#ifndef HITLQ_AUD_H
#define HITLQ_AUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "note.h"
#include "record.h"

/* ---- results (aud_report.c) ------------------------------------------- */

enum aud_class {
    AUD_OK = 0,
    AUD_BAD_ENTRY,      /* an entry does not decode or breaks a rule */
    AUD_BAD_HASH,       /* a leaf/tile hash or the root does not match */
    AUD_MISSING,        /* an entry is absent at its position */
    AUD_REORDERED,      /* an entry is at another position than its index */
    AUD_TRUNCATION,     /* fewer entries/hashes than the checkpoint size */
    AUD_ROLLBACK,       /* a checkpoint smaller than one verified before */
    AUD_FORK,           /* two signed views of the log that disagree */
    AUD_BAD_SIGNATURE,  /* a signature by a trusted key fails */
    AUD_UNKNOWN_KEY,    /* no trusted log key signed the checkpoint */
    AUD_BAD_PROOF,      /* a proof is malformed or does not verify */
    AUD_IO,             /* file, network or server error (exit 2) */
    AUD_USAGE,          /* bad command line (exit 2) */
};

#define AUD_MSG_MAX 1024

/* Outcome of a command.  Plain value, owned by the caller. */
struct aud_result {
    enum aud_class cls;
    bool           has_index;
    uint64_t       index;          /* first bad entry index, when has_index */
    char           msg[AUD_MSG_MAX];
};

/* "BAD_HASH", ...; "OK" for AUD_OK. */
const char *aud_class_name(enum aud_class cls);
/* 0 for AUD_OK, 2 for AUD_IO/AUD_USAGE, 1 for every verification class. */
int aud_class_exit(enum aud_class cls);
/* Records cls (and msg) in r, without an index; returns cls. */
enum aud_class aud_fail(struct aud_result *r, enum aud_class cls,
                        const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, with the first bad index. */
enum aud_class aud_fail_at(struct aud_result *r, enum aud_class cls,
                           uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 64 lowercase hex chars + NUL of a 32-byte hash into out[65]; returns out. */
const char *aud_hex(const uint8_t h[32], char out[65]);
/* base64 (44 chars + NUL) of a 32-byte hash into out[45]; returns out. */
const char *aud_b64(const uint8_t h[32], char out[45]);

/* Exactly 44 chars of canonical standard base64 of 32 bytes; 0 or -1. */
int aud_b64_hash_parse(const char *s, size_t len, uint8_t out[32]);

/* ---- files (aud_io.c) -------------------------------------------------- */

/* A growable byte buffer, reused across reads.  Owned; aud_buf_clear frees. */
struct aud_buf {
    uint8_t *p;
    size_t   len;
    size_t   cap;
};

void aud_buf_clear(struct aud_buf *b);
/* Reads the whole file into b (NUL-terminated beyond len).  Returns 0,
 * ENOENT when it does not exist, or another errno. */
int aud_file_read(const char *path, struct aud_buf *b, size_t max);
/* Writes data to path through path.tmp + rename (and fsync of the file
 * and its directory when durable).  Returns 0 or an errno. */
int aud_file_write(const char *path, const void *data, size_t len, bool durable);
/* mkdir -p of the directory part of path (everything before the last '/'). */
int aud_mkdirs_for(const char *path);
/* Exactly 64 hex digits into out; 0 or -1. */
int aud_hex_parse(const char *s, uint8_t out[32]);

/* ---- keys and checkpoints (aud_keys.c) -------------------------------- */

#define AUD_KEYS_MAX 64

/* The trusted public keys given on the command line.  Plain value. */
struct aud_keys {
    struct note_verifier v[AUD_KEYS_MAX];
    size_t               n;
};

/* Adds one vkey string; AUD_USAGE if malformed or too many. */
enum aud_class aud_keys_add(struct aud_keys *k, const char *vkey, size_t len,
                            struct aud_result *r);
/* Adds every non-empty line of a file ('#' comments allowed). */
enum aud_class aud_keys_load(struct aud_keys *k, const char *path,
                             struct aud_result *r);

/* A signed checkpoint being checked.  note is owned (malloc'd, NUL-
 * terminated); cp points into it. */
struct aud_checkpoint {
    char                  *note;
    size_t                 note_len;
    struct note_checkpoint cp;
    bool                   sig_checked;   /* false when no key was given */
};

/* Takes ownership of note (malloc'd, NUL-terminated, len bytes).  With
 * keys: at least one trusted Ed25519 key named like the origin must
 * verify and every trusted key that signed must verify (BAD_SIGNATURE /
 * UNKNOWN_KEY); with k->n == 0 only the body is parsed.  `what` names the
 * note in messages ("checkpoint", "state file", ...). */
enum aud_class aud_checkpoint_open(struct aud_checkpoint *c, char *note,
                                   size_t len, const struct aud_keys *k,
                                   const char *what, struct aud_result *r);
/* Reads the file, then aud_checkpoint_open. */
enum aud_class aud_checkpoint_load(struct aud_checkpoint *c, const char *path,
                                   const struct aud_keys *k, struct aud_result *r);
void aud_checkpoint_clear(struct aud_checkpoint *c);

/* ---- tlog-tiles layout (aud_tiles.c) ---------------------------------- */

#define AUD_TILE_WIDTH   256u
#define AUD_TILE_HEIGHT  8u
/* Tile levels 0..7 cover tree levels 0..56: a tree of < 2^63 leaves has at
 * most 2^63 / 256^7 = 128 hashes at level 7, so no level-8 tile exists. */
#define AUD_TILE_LEVELS  8u
#define AUD_ENTRIES_LEVEL -1         /* "tile/entries" instead of "tile/<L>" */
/* Longest path we build: dir + "/tile/entries/" + 7 x "x000/" + "000" +
 * ".p/255"; dir is capped at AUD_DIR_MAX. */
#define AUD_DIR_MAX      3800u
#define AUD_PATH_MAX     4096u

/* Writes "<dir>/tile/<L>/<N>[.p/<W>]" (level AUD_ENTRIES_LEVEL: entries)
 * into out[AUD_PATH_MAX]; w = 0 or 256 for a full tile.  Returns out. */
const char *aud_tile_path(char out[AUD_PATH_MAX], const char *dir, int level,
                          uint64_t n, unsigned w);
/* Width of tile n at `level` (AUD_ENTRIES_LEVEL: as level 0) in a tree of
 * size leaves: 256 for full, 1..255 partial, 0 when it does not exist. */
unsigned aud_tile_width(uint64_t size, int level, uint64_t n);

/* Writes a log into the tlog-tiles layout as entries arrive: entry bundles
 * and level-0 tiles from the given (not recomputed) leaf hashes, higher
 * levels from the complete subtrees of the tree of those hashes.  Owns its
 * buffers; the hasher is borrowed. */
struct aud_tilewriter {
    const char           *dir;           /* borrowed */
    struct merkle_hasher *h;             /* borrowed */
    struct merkle_tree    tree;
    struct aud_buf        bundle;        /* current entry bundle */
    unsigned              bundle_n;      /* entries in it */
    uint8_t               tile[AUD_TILE_LEVELS][AUD_TILE_WIDTH][32];
    unsigned              width[AUD_TILE_LEVELS];
    uint64_t              tile_n[AUD_TILE_LEVELS];
    int                   err;           /* errno of a failed write */
    char                  errpath[AUD_PATH_MAX];
};

void aud_tilewriter_init(struct aud_tilewriter *w, const char *dir,
                         struct merkle_hasher *h);
/* Appends one entry (1..65535 bytes) and its leaf hash. */
enum aud_class aud_tilewriter_add(struct aud_tilewriter *w, const uint8_t *entry,
                                  size_t len, const uint8_t hash[32],
                                  struct aud_result *r);
/* Writes the partial tiles and bundle of the current size. */
enum aud_class aud_tilewriter_finish(struct aud_tilewriter *w, struct aud_result *r);
void aud_tilewriter_clear(struct aud_tilewriter *w);

/* ---- commands ---------------------------------------------------------- */

/* Options of `verify` (and of the check `export` runs). */
struct aud_verify_opts {
    const char            *dir;
    const char            *state;        /* --state FILE or NULL */
    const struct aud_keys *keys;
    /* Optional (NULL): called in order with every entry that passed the
     * entry checks (decode, sequence, leaf hash, references), rec valid
     * during the call only; a class other than AUD_OK (filled in r) stops
     * the verification.  What it saw counts only if aud_verify then
     * returns AUD_OK (size and root as signed).  `drift` reads with it. */
    enum aud_class       (*on_entry)(void *arg, uint64_t pos, const struct record *rec,
                                     struct aud_result *r);
    void                  *on_entry_arg;
};

/* Statistics of a successful verify. */
struct aud_verify_stats {
    uint64_t entries;
    double   seconds;
};

/* aud_verify.c: offline verification of an export directory. */
enum aud_class aud_verify(const struct aud_verify_opts *o,
                          struct aud_verify_stats *st, struct aud_result *r);

/* aud_state.c: the --state file of last verified checkpoints. */
/* Loads FILE into *old (old->note == NULL when the file does not exist);
 * its signature is checked with k. */
enum aud_class aud_state_load(const char *path, const struct aud_keys *k,
                              struct aud_checkpoint *old, struct aud_result *r);
/* ROLLBACK when the new checkpoint is smaller than old; FORK when the
 * sizes are equal and the roots differ; other origin: AUD_USAGE. */
enum aud_class aud_state_compare(const struct aud_checkpoint *old,
                                 const struct aud_checkpoint *cur,
                                 struct aud_result *r);
/* Stores the checkpoint note in FILE atomically (tmp + fsync + rename). */
enum aud_class aud_state_save(const char *path, const struct aud_checkpoint *cur,
                              struct aud_result *r);

/* Server address "HOST:PORT" parsed for libhitlq. */
struct aud_server {
    char     host[256];
    uint16_t port;
    const char *name;                    /* HELLO name */
};
enum aud_class aud_server_parse(const char *s, struct aud_server *srv,
                                struct aud_result *r);
/* Connects (HELLO as srv->name, default "hitlq-audit"); *out is owned by
 * the caller (hitlq_free).  AUD_IO on failure. */
struct hitlq;
enum aud_class aud_server_connect(const struct aud_server *srv, struct hitlq **out,
                                  struct aud_result *r);
/* AUD_IO naming a failed libhitlq call rc on c. */
enum aud_class aud_server_error(struct hitlq *c, const char *what, int rc,
                                struct aud_result *r);

/* aud_export.c: fetches a checkpoint (fresh = AUDIT_CHECKPOINT {fresh:
 * true}: the server first signs one covering every committed entry; else
 * the latest signed one) and the entries it covers into dir, then
 * verifies them with k.  *cp_size gets the checkpoint's size and *beyond
 * how many entries the server already held after it (a lower bound, 0
 * when none). */
struct aud_export_out {
    uint64_t cp_size, beyond;
};
enum aud_class aud_export(const struct aud_server *srv, const char *dir, bool fresh,
                          const struct aud_keys *k, struct aud_verify_stats *st,
                          struct aud_export_out *out, struct aud_result *r);

/* aud_consistency.c */
struct aud_consistency_opts {
    const char            *old_path;
    const char            *new_path;
    const struct aud_server *srv;        /* or NULL with proof_path */
    const char            *proof_path;
    const struct aud_keys *keys;
};
enum aud_class aud_consistency(const struct aud_consistency_opts *o,
                               struct aud_result *r);

/* aud_receipt.c */
struct aud_receipt_opts {
    const char            *receipt_path;
    const char            *entry_path;   /* --entry or NULL */
    const char            *leaf_hex;     /* --leaf-hash or NULL */
    const struct aud_keys *keys;
};
enum aud_class aud_receipt(const struct aud_receipt_opts *o, struct aud_result *r);
/* Verifies a tlog-proof text against a leaf hash (and, when rec != NULL,
 * that rec->index is the proof's index).  Used by receipt and prove. */
enum aud_class aud_receipt_check(const char *text, size_t len,
                                 const uint8_t leaf[32], const struct record *rec,
                                 const struct aud_keys *k, struct merkle_hasher *h,
                                 uint64_t *index, struct aud_result *r);

/* aud_prove.c */
struct aud_prove_opts {
    const struct aud_server *srv;
    bool                   by_item;
    uint64_t               value;        /* index or item id */
    const char            *out;          /* --out FILE or NULL (stdout) */
    const struct aud_keys *keys;
};
enum aud_class aud_prove(const struct aud_prove_opts *o, struct aud_result *r);

/* aud_summary.c */
enum aud_class aud_summary(const char *dir, bool json, struct aud_result *r);

/* aud_drift.c: `drift`, the drift and root-cause review of a verified
 * export (client/audit/aud_drift.h); argv[0] is "drift" and it parses its
 * own options. */
enum aud_class aud_drift_main(int argc, char **argv, struct aud_result *r);

/* aud_review.c: the four-eyes REVIEW extension (000C) of one entry, as
 * verify, summary and drift read it. */
struct aud_review {
    bool    present;                   /* the entry carries a REVIEW */
    uint8_t k, n;                      /* verdict k of n */
    bool    shown, final;              /* flags SHOWN, FINAL */
};
/* Fills *out (present = false without a REVIEW).  BAD_ENTRY at rec's index
 * when the REVIEW does not decode strictly, is not on a HUMAN_DECISION /
 * HUMAN_OVERRIDE entry with a VERDICT, or is FINAL with k != n. */
enum aud_class aud_review_check(const struct record *rec, struct aud_review *out,
                                struct aud_result *r);

/* aud_entries.c: iterating the entries of an export (verify, summary). */
struct aud_entries {
    const char    *dir;
    uint64_t       size;          /* entries expected (checkpoint size) */
    uint64_t       pos;           /* index of the next entry */
    uint64_t       bundle_n;      /* bundle held in buf */
    unsigned       bundle_w;      /* its expected width */
    unsigned       got_w;         /* width of the file found (0: none) */
    char           path[AUD_PATH_MAX];   /* its path (for messages) */
    struct aud_buf buf;
    size_t         off;           /* next entry's u16 length in buf */
    unsigned       taken;         /* entries taken from this bundle */
    bool           loaded;
};

void aud_entries_init(struct aud_entries *e, const char *dir, uint64_t size);
void aud_entries_clear(struct aud_entries *e);
/* Next entry: *p and *len borrowed until the next call.  Classifies a missing
 * or short bundle as TRUNCATION (or MISSING when later bundles exist) at
 * the first absent index, a bundle with bytes after its last entry as
 * BAD_ENTRY, an unreadable one as AUD_IO. */
enum aud_class aud_entries_next(struct aud_entries *e, const uint8_t **p,
                                size_t *len, struct aud_result *r);
/* After the last entry: BAD_ENTRY when the last bundle has bytes left. */
enum aud_class aud_entries_end(struct aud_entries *e, struct aud_result *r);
/* Position of the entry whose encoded index field is `want`, searching
 * from the current position on (for MISSING vs REORDERED); UINT64_MAX
 * when it is nowhere. */
uint64_t aud_entries_find(const struct aud_entries *e, uint64_t want);
/* Reads tile (or bundle, level AUD_ENTRIES_LEVEL) n whose expected width
 * is w (1..256) into b, at most max bytes (EFBIG above).  When that file
 * is absent, reads the widest shorter partial that exists instead;
 * *got_w gets the width read (0, with b->len == 0, when none exists) and
 * path the expected path.  Returns 0 or an errno other than ENOENT. */
int aud_tile_read(const char *dir, int level, uint64_t n, unsigned w, size_t max,
                  struct aud_buf *b, unsigned *got_w, char path[AUD_PATH_MAX]);
/* True when the last tile (or bundle) of `level` that a tree of `size`
 * needs exists and comes after tile n: then a gap at n is a hole (MISSING)
 * rather than a cut-off tail (TRUNCATION). */
bool aud_tile_later_exist(const char *dir, int level, uint64_t size, uint64_t n);
/* Reads hash tile n of `level` (>= 0) of a tree of `size` leaves with
 * aud_tile_read.  A short or absent tile is not an error here (b->len says
 * how many hashes there are: the caller reports the first absent one); a
 * file longer than its width is BAD_HASH, a read error AUD_IO. */
enum aud_class aud_tile_load(const char *dir, int level, uint64_t n,
                             uint64_t size, struct aud_buf *b,
                             struct aud_result *r);

#endif /* HITLQ_AUD_H */
