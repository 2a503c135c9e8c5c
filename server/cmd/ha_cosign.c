/*
 * ha_cosign.c - an HA follower as a witness of the leader's audit log.
 * After each apply it looks at the newest signed checkpoint in its store
 * (written by the leader, replicated with the rest), checks the log's
 * signature on it, and recomputes the Merkle root of that size from its
 * own entries: every leaf hash from the entry's bytes, every inner node
 * itself (never reading the replicated tree nodes).  Only when the root is
 * the same does it add its C2SP cosignature/v1 line, with its own witness
 * key (<data_dir>/witness.key, type 0x04), and publish the cosigned note in
 * PostgreSQL's hitlq_cosig for auditors.  A mismatch is logged loudly and
 * the witness never cosigns again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "config.h"
#include "ha.h"
#include "ha_cosign.h"
#include "log.h"
#include "merkle.h"
#include "note.h"
#include "server.h"
#include "store.h"
#include "util.h"

#define HA_LOG_KEYS_MAX  8
#define HA_LEAVES_PER_TICK 200000u   /* the first catch-up is spread over ticks */

struct ha_cosigner {
    struct note_signer  *witness;      /* sodium_malloc'd: SECRET */
    struct note_verifier logkeys[HA_LOG_KEYS_MAX];
    size_t               nlogkeys;
    struct merkle_hasher h;
    struct merkle_tree   tree;         /* recomputed from the entries */
    uint64_t             last;         /* size of the last cosigned checkpoint */
    bool                 broken;       /* a root differed: never cosign again */
};

/* Reads the key file at path into *s, or makes one (0600) named name. */
static int
ha_witness_key(const char *path, const char *name, struct note_signer *s, char *err,
               size_t errlen)
{
    char buf[NOTE_SKEY_MAX + 2];
    uint8_t seed[NOTE_SEED_LEN];
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    if (fd >= 0) {
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        n = r > 0 ? strcspn(buf, "\n") : 0;
        if (r > 0 && (size_t)r < sizeof(buf) - 1 && note_skey_parse(buf, n, s) == NOTE_OK)
            rc = 0;
        else
            snprintf(err, errlen, "%s: not a witness key", path);
    } else if (errno == ENOENT) {
        randombytes_buf(seed, sizeof(seed));
        if (note_signer_init(s, name, strlen(name), NOTE_SIGTYPE_COSIG, seed) == NOTE_OK &&
            note_skey_format(s, buf, sizeof(buf) - 1, &n) == NOTE_OK &&
            (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0) {
            buf[n++] = '\n';
            rc = write(fd, buf, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : -1;
            close(fd);
        }
        if (rc != 0)
            snprintf(err, errlen, "%s: cannot make a witness key", path);
    } else {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    sodium_memzero(buf, sizeof(buf));
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

/* The witness key's path and name for this configuration. */
static void
ha_witness_names(const struct hitlq_config *cfg, char *path, size_t plen, char *name,
                 size_t nlen)
{
    snprintf(path, plen, "%s/witness.key", cfg->data_dir);
    snprintf(name, nlen, "hitlq-witness-%s", cfg->ha_node[0] ? cfg->ha_node : cfg->listen);
}

/* The log's verifier keys, as hitlqd -K prints them. */
static int
ha_log_keys(const struct hitlq_config *cfg, struct ha_cosigner *w, char *err, size_t errlen)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int rc = f != NULL ? audit_key_admin(cfg, 'K', NULL, f, err, errlen) : -1;

    if (f != NULL)
        fclose(f);
    for (line = rc == 0 ? strtok_r(text, "\n", &save) : NULL; line != NULL;
         line = strtok_r(NULL, "\n", &save))
        if (w->nlogkeys < HA_LOG_KEYS_MAX &&
            note_vkey_parse(line, strlen(line), &w->logkeys[w->nlogkeys]) == NOTE_OK)
            w->nlogkeys++;
    free(text);
    if (rc == 0 && w->nlogkeys == 0) {
        snprintf(err, errlen, "witness: no log verifier key");
        rc = -1;
    }
    return rc;
}

int
ha_cosigner_new(struct hitlq_server *srv, struct ha_cosigner **out, char *err, size_t errlen)
{
    struct ha_cosigner *w = calloc(1, sizeof(*w));
    char path[600], name[200];

    *out = NULL;
    if (w == NULL || (w->witness = sodium_malloc(sizeof(*w->witness))) == NULL ||
        merkle_hasher_init(&w->h) != MERKLE_OK) {
        snprintf(err, errlen, "out of memory");
        ha_cosigner_free(w);
        return -1;
    }
    merkle_tree_init(&w->tree);
    ha_witness_names(srv->cfg, path, sizeof(path), name, sizeof(name));
    if (ha_witness_key(path, name, w->witness, err, errlen) != 0 ||
        ha_log_keys(srv->cfg, w, err, errlen) != 0) {
        ha_cosigner_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void
ha_cosigner_free(struct ha_cosigner *w)
{
    if (w == NULL)
        return;
    if (w->witness != NULL) {
        note_signer_clear(w->witness);
        sodium_free(w->witness);
    }
    merkle_hasher_clear(&w->h);
    free(w);
}

/* Extends the recomputed tree to `size` leaves from the entries in txn.
 * 1 done, 0 more to do next tick, -1 an entry is missing or its stored
 * leaf hash is not the hash of its bytes. */
static int
ha_cosigner_grow(struct ha_cosigner *w, struct hitlq_server *srv, MDB_txn *txn, uint64_t size)
{
    uint32_t budget = HA_LEAVES_PER_TICK;

    while (w->tree.size < size && budget-- > 0) {
        uint8_t kb[8], leaf[MERKLE_HASH_LEN];
        MDB_val k = { 8, kb }, v;
        store_put_be64(kb, w->tree.size);
        if (mdb_get(txn, srv->store->alog, &k, &v) != 0 || v.mv_size <= MERKLE_HASH_LEN ||
            merkle_leaf_hash(&w->h, (const uint8_t *)v.mv_data + MERKLE_HASH_LEN,
                             v.mv_size - MERKLE_HASH_LEN, leaf) != MERKLE_OK ||
            memcmp(leaf, v.mv_data, MERKLE_HASH_LEN) != 0 ||
            merkle_tree_append(&w->tree, &w->h, leaf, NULL, NULL) != MERKLE_OK)
            return -1;
    }
    return w->tree.size == size;
}

/* Checks the leader's note for the checkpoint of `size`; 1 when this
 * node's tree has the same root, 0 not yet grown, -1 it differs. */
static int
ha_cosigner_check(struct ha_cosigner *w, struct hitlq_server *srv, MDB_txn *txn,
                  const MDB_val *note, uint64_t size, struct note_opened *op)
{
    struct note_sigresult res[HA_LOG_KEYS_MAX];
    struct note_checkpoint cp;
    uint8_t root[MERKLE_HASH_LEN];
    int g;

    if (note_open(note->mv_data, note->mv_size, w->logkeys, w->nlogkeys, res, op) != NOTE_OK ||
        note_checkpoint_parse(op->text, op->text_len, &cp) != NOTE_OK || cp.size != size ||
        size < w->tree.size)
        return -1;
    if ((g = ha_cosigner_grow(w, srv, txn, size)) <= 0)
        return g;
    if (merkle_tree_root(&w->tree, &w->h, root) != MERKLE_OK ||
        sodium_memcmp(root, cp.root, MERKLE_HASH_LEN) != 0)
        return -1;
    return 1;
}

/* Cosigns the checked note and publishes it. */
static void
ha_cosigner_publish(struct ha_cosigner *w, struct hitlq_server *srv, const MDB_val *note,
                    const struct note_opened *op, uint64_t size)
{
    char line[512], err[512], *all;
    size_t n = 0;

    if (note_cosign_line(w->witness, util_now_ms() / 1000u, op->text, op->text_len, line,
                         sizeof(line), &n) != NOTE_OK ||
        (all = malloc(note->mv_size + n + 1)) == NULL)
        return;
    memcpy(all, note->mv_data, note->mv_size);
    memcpy(all + note->mv_size, line, n);
    all[note->mv_size + n] = '\0';
    if (ha_cosig_put(srv->ha, size, srv->ha_node, all, err, sizeof(err)) == 0)
        w->last = size;
    else
        log_event(LOG_LVL_WARN, "ha_cosign_failed", "cosignature not published",
                  LOG_UINT("size", size), LOG_STR("reason", err));
    free(all);
}

void
ha_cosigner_tick(struct ha_cosigner *w, struct hitlq_server *srv)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    struct note_opened op;
    uint64_t size;
    int rc;

    if (w->broken || mdb_txn_begin(srv->store->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    if (mdb_cursor_open(txn, srv->store->acps, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8 &&
            (size = store_get_be64(k.mv_data)) > w->last) {
            rc = ha_cosigner_check(w, srv, txn, &v, size, &op);
            if (rc == 1)
                ha_cosigner_publish(w, srv, &v, &op, size);
            else if (rc < 0) {
                w->broken = true;
                log_event(LOG_LVL_ERROR, "ha_witness_mismatch",
                          "the leader's checkpoint is not the tree this node computes; "
                          "this node will not cosign", LOG_UINT("size", size),
                          LOG_UINT("computed_leaves", w->tree.size));
            }
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
}

int
ha_witness_print(const struct hitlq_config *cfg, FILE *out, char *err, size_t errlen)
{
    char path[600], name[200], vk[NOTE_VKEY_MAX + 1];
    struct note_signer *s = sodium_malloc(sizeof(*s));
    size_t n = 0;
    int rc = -1;

    if (s == NULL || sodium_init() < 0)
        return -1;
    ha_witness_names(cfg, path, sizeof(path), name, sizeof(name));
    if (ha_witness_key(path, name, s, err, errlen) == 0 &&
        note_vkey_format(&s->pub, vk, sizeof(vk) - 1, &n) == NOTE_OK) {
        fprintf(out, "%.*s\n", (int)n, vk);
        rc = 0;
    }
    note_signer_clear(s);
    sodium_free(s);
    return rc;
}
