/*
 * test_interop.c - an independent implementation accepts our audit-log
 * artifacts (docs/RELIABILITY.md §4.3 item 6, proto/AUDIT-FORMAT.md §11 and §13):
 * checkpoints, tlog-proof@v1 receipts and consistency proofs made by our C code
 * (proto/record.c, merkle.c, note.c, checkpoint.c, proof.c) over a tree of
 * 1000 real AXR1 records are verified by tests/interop/verify.go, which
 * uses only Go's golang.org/x/mod/sumdb/note and sumdb/tlog.  Negative
 * cases (flipped leaf byte, wrong root, foreign key, tampered proof, fork,
 * rollback) must be rejected by Go, so the test can fail.  Reverse
 * direction: notes signed by Go verify with our note_open, byte for byte.
 *
 * The Go program is built here, once, into <build dir>/interop-verify (the
 * directory above this binary's) when missing or older than verify.go:
 *   GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=<build dir>/gocache \
 *       go build -o <build dir>/interop-verify tests/interop/verify.go
 * A missing `go` is a failure, not a skip (scripts/setup.sh installs
 * golang-go and golang-golang-x-mod-dev).  $HITLQ_INTEROP_VERIFY names a
 * prebuilt verifier instead; $HITLQ_INTEROP_KEEP=1 keeps the artifact
 * directory (its path is printed).
 *
 * test_real_server does the same against a running hitlqd (SUBMIT with
 * receipt "checkpoint", AUDIT_CHECKPOINT, AUDIT_ENTRIES, AUDIT_PROVE,
 * AUDIT_CONSISTENCY); it skips while the server answers unknown_op to the
 * audit opcodes.  By hand, the Go verifier takes plain files:
 *   build/test/interop-verify checkpoint VKEY checkpoint.note
 *   build/test/interop-verify receipt VKEY receipt.tlog-proof leaf.bin
 *   build/test/interop-verify consistency VKEY old.note new.note proof.txt
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "hitlq_proto.h"
#include "merkle.h"
#include "note.h"
#include "proof.h"
#include "record.h"

#define GO_SRC    "tests/interop/verify.go"
#define ORIGIN    "interop.hitlq.example/audit/test-1"
#define NLEAVES   1000u
#define DASH      "\xe2\x80\x94"
#define B64       sodium_base64_VARIANT_ORIGINAL

static char g_bdir[512] = "build/test";   /* build dir: .../test_interop/../.. */
static char g_bin[600];                   /* the Go verifier */
static char g_dir[256];                   /* artifacts (mkdtemp) */

/* ---- running the Go verifier --------------------------------------------- */

/* Runs argv (NULL-terminated) with stdout+stderr captured into out (NUL-
 * terminated, truncated to cap).  Returns the exit status, 127 when exec
 * failed, -1 on a signal or fork failure. */
static int
run_argv(char *const argv[], char *const envset[], char *out, size_t cap)
{
    int pfd[2];
    pid_t pid;
    size_t n = 0;
    int st;

    if (pipe(pfd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        for (size_t i = 0; envset != NULL && envset[i] != NULL; i += 2)
            setenv(envset[i], envset[i + 1], 1);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char tmp[4096];
        ssize_t r = read(pfd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (cap > 0 && n + take > cap - 1)
            take = cap - 1 - n;
        memcpy(out + n, tmp, take);
        n += take;
    }
    close(pfd[0]);
    if (cap > 0)
        out[n] = '\0';
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char g_out[16384];   /* output of the last go_run */

/* Runs the Go verifier with the given arguments (NULL-terminated). */
static int
go_run(const char *a0, ...)
{
    char *argv[12];
    size_t n = 0;
    va_list ap;

    argv[n++] = g_bin;
    argv[n++] = (char *)a0;
    va_start(ap, a0);
    while (n < 11 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    return run_argv(argv, NULL, g_out, sizeof g_out);
}

#define GO_OK(...) do {                                                     \
        int rc_ = go_run(__VA_ARGS__, (char *)NULL);                        \
        if (rc_ != 0)                                                       \
            fail_msg("Go verifier rejected (exit %d): %s", rc_, g_out);     \
    } while (0)

/* Go must reject with exit status 1 and a message containing `why`. */
#define GO_REJECTS(why, ...) do {                                           \
        int rc_ = go_run(__VA_ARGS__, (char *)NULL);                        \
        if (rc_ != 1 || strstr(g_out, why) == NULL)                         \
            fail_msg("Go verifier: want exit 1 with \"%s\", got exit %d: %s", \
                     why, rc_, g_out);                                      \
    } while (0)

static time_t
mtime_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mtime : (time_t)-1;
}

/* Builds the verifier unless it is present and newer than its source. */
static int
build_go_verifier(void)
{
    const char *pre = getenv("HITLQ_INTEROP_VERIFY");
    char cache[PATH_MAX + 16], tmpbin[640];
    static char out[8192];

    if (pre != NULL && *pre != '\0') {
        snprintf(g_bin, sizeof g_bin, "%s", pre);
        return access(g_bin, X_OK) == 0 ? 0 : -1;
    }
    snprintf(g_bin, sizeof g_bin, "%s/interop-verify", g_bdir);
    if (mtime_of(GO_SRC) == (time_t)-1) {
        fprintf(stderr, "interop: %s not found (run from the repository root)\n", GO_SRC);
        return -1;
    }
    if (mtime_of(g_bin) != (time_t)-1 && mtime_of(g_bin) >= mtime_of(GO_SRC))
        return 0;
    /* GOCACHE must be an absolute path */
    char absb[PATH_MAX];
    if (realpath(g_bdir, absb) == NULL) {
        fprintf(stderr, "interop: realpath %s: %s\n", g_bdir, strerror(errno));
        return -1;
    }
    snprintf(cache, sizeof cache, "%s/gocache", absb);
    snprintf(tmpbin, sizeof tmpbin, "%s.%d", g_bin, (int)getpid());
    char *argv[] = { "go", "build", "-o", tmpbin, GO_SRC, NULL };
    char *env[] = { "GO111MODULE", "off", "GOPATH", "/usr/share/gocode",
                    "GOCACHE", cache, "GOFLAGS", "", "GOPROXY", "off", NULL };
    int rc = run_argv(argv, env, out, sizeof out);
    if (rc != 0) {
        fprintf(stderr, "interop: `go build` failed (exit %d)%s:\n%s\n", rc,
                rc == 127 ? " - is golang-go installed? (scripts/setup.sh)" : "", out);
        unlink(tmpbin);
        return -1;
    }
    if (rename(tmpbin, g_bin) != 0) {
        fprintf(stderr, "interop: rename %s: %s\n", tmpbin, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- files ---------------------------------------------------------------- */

/* Writes data to <g_dir>/<name>; returns the path (static ring of 16). */
static const char *
put(const char *name, const void *data, size_t len)
{
    static char paths[16][512];
    static unsigned k;
    char *p = paths[k++ % 16];
    FILE *f;

    snprintf(p, 512, "%s/%s", g_dir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    if (len > 0)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

static const char *
put_str(const char *name, const char *s)
{
    return put(name, s, strlen(s));
}

/* ---- our side: a tree of NLEAVES AXR1 records ---------------------------- */

static struct merkle_hasher H;
static uint8_t *g_leaf[NLEAVES];          /* encoded records */
static size_t g_leaf_len[NLEAVES];
static uint8_t g_lhash[NLEAVES][32];
static uint8_t (*g_nodes[MERKLE_MAX_LEVELS])[32];   /* [level][index] */
static struct note_signer g_log1, g_log2, g_other, g_alien;
static char g_vkey1[NOTE_VKEY_MAX + 1], g_vkey2[NOTE_VKEY_MAX + 1];

static int
store_cb(void *arg, unsigned level, uint64_t index, const uint8_t hash[32])
{
    (void)arg;
    if (level >= MERKLE_MAX_LEVELS || g_nodes[level] == NULL ||
        index > (NLEAVES >> level))
        return -1;
    memcpy(g_nodes[level][index], hash, 32);
    return 0;
}

static int
get_cb(void *arg, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)arg;
    if (level >= MERKLE_MAX_LEVELS || g_nodes[level] == NULL ||
        index >= (NLEAVES >> level))
        return -1;
    memcpy(out, g_nodes[level][index], 32);
    return 0;
}

static void
sha(const char *s, uint8_t out[32])
{
    crypto_hash_sha256(out, (const uint8_t *)s, strlen(s));
}

static void
rstr(struct record_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->data, v, s->len);
}

/* Record i of the test log: GENESIS, then a mix of model decisions,
 * escalations and human decisions referring back to them. */
static int
build_record(uint64_t i, struct record *r, uint8_t *ext_buf, size_t ext_cap)
{
    char buf[64];
    uint8_t salt[32];
    size_t ne = 0;

    record_init(r);
    r->index = i;
    r->time_ms = 1700000000000ull + i * 7u;
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(i / 3));
    rstr(&r->item_id, i == 0 ? "0" : buf);
    if (i == 0) {
        r->record_type = RECORD_GENESIS;
        r->actor_type = RECORD_ACTOR_SYSTEM;
        rstr(&r->actor_id, "hitlqd");
        r->decision = RECORD_DEC_NONE;
        return 0;
    }
    snprintf(buf, sizeof buf, "interop salt %llu", (unsigned long long)i);
    sha(buf, salt);
    snprintf(buf, sizeof buf, "{\"amount\":%llu}", (unsigned long long)(i * 37u));
    if (record_commit(salt, buf, strlen(buf), r->input_commit) != RECORD_OK)
        return -1;
    rstr(&r->model_id, "credit-scorecard");
    rstr(&r->model_version, "2025.1");
    sha("interop model artifact", r->model_digest);
    r->score = (double)(i % 100) / 100.0;
    r->threshold = 0.7;
    rstr(&r->policy_id, "credit_application@1");
    r->reason_count = 2;
    r->reason_codes[0] = (uint16_t)(1 + i % 9);
    r->reason_codes[1] = (uint16_t)(10 + i % 5);
    if (i % 3 == 2) {                              /* a human decides */
        r->record_type = (i % 6 == 2) ? RECORD_HUMAN_DECISION : RECORD_HUMAN_OVERRIDE;
        r->actor_type = RECORD_ACTOR_HUMAN;
        rstr(&r->actor_id, "alice");
        r->decision = (i % 6 == 2) ? RECORD_DEC_APPROVE : RECORD_DEC_REJECT;
        r->ref_index = i - 1;
        memcpy(r->ref_leaf_hash, g_lhash[i - 1], 32);
        sha("a note", r->note_commit);
        return 0;
    }
    r->actor_type = RECORD_ACTOR_MODEL;
    rstr(&r->actor_id, "model:credit-scorecard@2025.1");
    if (r->score >= r->threshold && i % 3 == 0) {
        r->record_type = RECORD_AUTO_DECISION;
        r->decision = RECORD_DEC_APPROVE;
    } else {
        /* QUEUE_REF: opaque queue<1..255>; u8 priority; u64 sla_deadline_ms */
        static const char q[] = "credit_review";
        uint64_t dl = r->time_ms + 4u * 3600u * 1000u;
        size_t n = 0;
        if (ext_cap < 1 + sizeof q - 1 + 1 + 8)
            return -1;
        ext_buf[n++] = (uint8_t)(sizeof q - 1);
        memcpy(ext_buf + n, q, sizeof q - 1);
        n += sizeof q - 1;
        ext_buf[n++] = 100;
        for (int b = 7; b >= 0; b--)
            ext_buf[n++] = (uint8_t)(dl >> (8 * b));
        r->record_type = RECORD_ESCALATION;
        r->decision = RECORD_DEC_ESCALATE;
        r->ext[ne].type = RECORD_EXT_QUEUE_REF;
        r->ext[ne].len = (uint16_t)n;
        r->ext[ne].data = ext_buf;
        ne++;
    }
    r->ext_count = ne;
    return 0;
}

static int
signer(struct note_signer *s, const char *name, const char *seed_label)
{
    uint8_t seed[32];
    int rc;

    sha(seed_label, seed);
    rc = note_signer_init(s, name, strlen(name), NOTE_SIGTYPE_ED25519, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

static int
group_setup(void **state)
{
    static struct record r;
    static uint8_t enc[RECORD_LEAF_MAX];
    struct merkle_tree t;
    uint8_t ext[64];
    size_t len;

    (void)state;
    if (sodium_init() < 0 || merkle_hasher_init(&H) != MERKLE_OK)
        return -1;
    if (build_go_verifier() != 0)
        return -1;
    snprintf(g_dir, sizeof g_dir, "/tmp/hitlq-interop-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    for (unsigned l = 0; l < MERKLE_MAX_LEVELS && (NLEAVES >> l) > 0; l++)
        if ((g_nodes[l] = calloc((NLEAVES >> l) + 1, 32)) == NULL)
            return -1;
    merkle_tree_init(&t);
    for (uint64_t i = 0; i < NLEAVES; i++) {
        if (build_record(i, &r, ext, sizeof ext) != 0 ||
            record_encode(&r, enc, sizeof enc, &len) != RECORD_OK ||
            (g_leaf[i] = malloc(len)) == NULL)
            return -1;
        memcpy(g_leaf[i], enc, len);
        g_leaf_len[i] = len;
        if (record_leaf_hash(enc, len, g_lhash[i]) != RECORD_OK ||
            merkle_tree_append(&t, &H, g_lhash[i], store_cb, NULL) != MERKLE_OK)
            return -1;
    }
    if (signer(&g_log1, ORIGIN, "hitlq interop test log key 1") != NOTE_OK ||
        signer(&g_log2, ORIGIN, "hitlq interop test log key 2") != NOTE_OK ||
        signer(&g_other, ORIGIN, "hitlq interop attacker key, same name") != NOTE_OK ||
        signer(&g_alien, "other.example/log", "hitlq interop other log") != NOTE_OK ||
        note_vkey_format(&g_log1.pub, g_vkey1, sizeof g_vkey1, &len) != NOTE_OK ||
        note_vkey_format(&g_log2.pub, g_vkey2, sizeof g_vkey2, &len) != NOTE_OK)
        return -1;
    return 0;
}

static int
rm_tree(const char *dir)
{
    char *argv[] = { "rm", "-rf", (char *)dir, NULL };
    char out[256];
    return run_argv(argv, NULL, out, sizeof out);
}

static int
group_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NLEAVES; i++)
        free(g_leaf[i]);
    for (unsigned l = 0; l < MERKLE_MAX_LEVELS; l++)
        free(g_nodes[l]);
    note_signer_clear(&g_log1);
    note_signer_clear(&g_log2);
    note_signer_clear(&g_other);
    note_signer_clear(&g_alien);
    merkle_hasher_clear(&H);
    if (g_dir[0] != '\0') {
        const char *keep = getenv("HITLQ_INTEROP_KEEP");
        if (keep != NULL && *keep != '\0' && strcmp(keep, "0") != 0)
            fprintf(stderr, "interop: artifacts kept in %s\n", g_dir);
        else
            rm_tree(g_dir);
    }
    return 0;
}

/* ---- artifacts ------------------------------------------------------------ */

static uint8_t g_zero_root[32];

static void
root_at(uint64_t size, uint8_t out[32])
{
    if (size == 0)
        assert_int_equal(merkle_empty_root(&H, out), MERKLE_OK);
    else
        assert_int_equal(merkle_root_at(&H, size, get_cb, NULL, out), MERKLE_OK);
}

/* Signed checkpoint of `size` (root: the tree's, or `root` if not NULL). */
static size_t
checkpoint(uint64_t size, const uint8_t *root, const char *origin,
           const struct note_signer *const *ss, size_t nss, char *out, size_t cap)
{
    char text[512];
    uint8_t r[32];
    size_t tlen, len;

    if (root == NULL) {
        root_at(size, r);
        root = r;
    }
    assert_int_equal(note_checkpoint_format(origin, strlen(origin), size, root,
                                            text, sizeof text, &tlen), NOTE_OK);
    assert_int_equal(note_sign(text, tlen, ss, nss, out, cap, &len), NOTE_OK);
    return len;
}

static size_t
checkpoint1(uint64_t size, char *out, size_t cap)
{
    const struct note_signer *ss[] = { &g_log1 };
    return checkpoint(size, NULL, ORIGIN, ss, 1, out, cap);
}

/* tlog-proof@v1 text for leaf `index` in the checkpoint note[0..nlen). */
static size_t
receipt(uint64_t index, uint64_t size, const char *note, size_t nlen,
        char *out, size_t cap)
{
    uint8_t proof[MERKLE_MAX_PROOF][32];
    size_t n, len;

    assert_int_equal(merkle_inclusion_proof(&H, size, index, get_cb, NULL, proof, &n),
                     MERKLE_OK);
    assert_int_equal(tlog_proof_format(index, (const uint8_t (*)[32])proof, n,
                                       note, nlen, out, cap, &len), PROOF_OK);
    return len;
}

/* Consistency proof size1 -> size2 as base64 lines. */
static size_t
consistency_text(uint64_t size1, uint64_t size2, char *out, size_t cap)
{
    uint8_t proof[MERKLE_MAX_PROOF][32];
    size_t n = 0, len = 0;

    if (size1 > 0)
        assert_int_equal(merkle_consistency_proof(&H, size1, size2, get_cb, NULL, proof, &n),
                         MERKLE_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(cap - len > 46);
        sodium_bin2base64(out + len, cap - len, proof[i], 32, B64);
        len += 44;
        out[len++] = '\n';
    }
    out[len] = '\0';
    return len;
}

static char g_note[4096], g_note2[4096], g_proof[8192];

/* ---- positive cases ----------------------------------------------------- */

static const uint64_t SIZES[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 255, 256, 257,
                                  511, 512, 513, 999, 1000 };
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

static void
test_checkpoints_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t len = checkpoint1(SIZES[i], g_note, sizeof g_note);
        GO_OK("checkpoint", g_vkey1, put("cp", g_note, len));
        char want[64];
        snprintf(want, sizeof want, " size=%llu ", (unsigned long long)SIZES[i]);
        assert_non_null(strstr(g_out, want));
    }
    /* the empty tree: root SHA-256("") */
    size_t len = checkpoint1(0, g_note, sizeof g_note);
    GO_OK("checkpoint", g_vkey1, put("cp0", g_note, len));
    assert_non_null(strstr(g_out, "root=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
}

static void
test_receipts_accepted(void **state)
{
    static const uint64_t idx[] = { 0, 1, 2, 3, 7, 8, 100, 254, 255, 256, 257, 500,
                                    511, 512, 767, 998, 999 };
    size_t ok = 0;

    (void)state;
    for (size_t s = 0; s < NSIZES; s++) {
        size_t nlen = checkpoint1(SIZES[s], g_note, sizeof g_note);
        for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
            uint64_t i = idx[k];
            if (i >= SIZES[s])
                continue;
            /* at most 3 indices per small size, all at the big ones */
            if (SIZES[s] < 256 && k > 3 && i != SIZES[s] - 1)
                continue;
            size_t plen = receipt(i, SIZES[s], g_note, nlen, g_proof, sizeof g_proof);
            GO_OK("receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
                  put("leaf", g_leaf[i], g_leaf_len[i]));
            ok++;
        }
    }
    /* the last leaf of every size (right edge: incomplete subtrees) */
    for (size_t s = 0; s < NSIZES; s++) {
        uint64_t i = SIZES[s] - 1;
        size_t nlen = checkpoint1(SIZES[s], g_note, sizeof g_note);
        size_t plen = receipt(i, SIZES[s], g_note, nlen, g_proof, sizeof g_proof);
        GO_OK("receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
              put("leaf", g_leaf[i], g_leaf_len[i]));
        ok++;
    }
    print_message("Go verified %zu receipts\n", ok);
}

static void
test_consistency_accepted(void **state)
{
    static const uint64_t pairs[][2] = {
        { 1, 1 }, { 1, 2 }, { 1, 1000 }, { 2, 3 }, { 3, 7 }, { 7, 8 }, { 8, 9 },
        { 8, 1000 }, { 15, 17 }, { 255, 256 }, { 255, 257 }, { 256, 1000 },
        { 257, 999 }, { 500, 700 }, { 511, 513 }, { 999, 1000 }, { 1000, 1000 },
        { 0, 5 }, { 0, 1000 },
    };

    (void)state;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        size_t l1 = checkpoint1(pairs[k][0], g_note, sizeof g_note);
        size_t l2 = checkpoint1(pairs[k][1], g_note2, sizeof g_note2);
        size_t pl = consistency_text(pairs[k][0], pairs[k][1], g_proof, sizeof g_proof);
        GO_OK("consistency", g_vkey1, put("old", g_note, l1), put("new", g_note2, l2),
              put("cproof", g_proof, pl));
    }
}

/* Rotation (AUDIT-FORMAT.md §7): checkpoints dual-signed by the old and the
 * new key verify with either key alone and with both required. */
static void
test_dual_signed(void **state)
{
    const struct note_signer *both[] = { &g_log1, &g_log2 };
    const struct note_signer *new_only[] = { &g_log2 };
    char keys[2 * NOTE_VKEY_MAX + 8], arg[600];
    size_t len;

    (void)state;
    snprintf(keys, sizeof keys, "%s\n%s\n", g_vkey1, g_vkey2);
    snprintf(arg, sizeof arg, "@%s", put_str("vkeys", keys));
    len = checkpoint(1000, NULL, ORIGIN, both, 2, g_note, sizeof g_note);
    GO_OK("checkpoint", arg, put("cp", g_note, len));
    GO_OK("checkpoint", g_vkey1, put("cp", g_note, len));
    GO_OK("checkpoint", g_vkey2, put("cp", g_note, len));
    size_t plen = receipt(42, 1000, g_note, len, g_proof, sizeof g_proof);
    GO_OK("receipt", arg, put("r.tlog-proof", g_proof, plen),
          put("leaf", g_leaf[42], g_leaf_len[42]));
    /* signed by the new key only: both required -> rejected */
    len = checkpoint(1000, NULL, ORIGIN, new_only, 1, g_note, sizeof g_note);
    GO_OK("checkpoint", g_vkey2, put("cp", g_note, len));
    snprintf(arg, sizeof arg, "@%s", put_str("vkeys", keys));
    GO_REJECTS("no valid signature by " ORIGIN, "checkpoint", arg, put("cp", g_note, len));
}

/* hitlq's own vectors (docs/RELIABILITY.md §4.2; proto/AUDIT-FORMAT.md §13). */
static const char spec_vkey[] =
    "anchors.example/audit/test-1+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1";
static const char spec_cp8[] =
    "anchors.example/audit/test-1\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIa/G1eOJC/uojI2hKV65dezu3+ayHwPQHbanqNzuGt7g6dGJ0cyuz0bY91OVZqIYpaAfSiUEwMgcj6NdzXwU3Qo=\n"
    DASH " witness.anchors.example/w1 2nd+QAAAAABlU/EAipxJnwttH4gEAnPHAYAyxn3C9zwnbgUPrWcxFc8iApKt3NVVSv8YZ9XAC/S7yX2px+pEtUxq9p3zabi8H8vZBQ==\n";
static const char spec_proof0_head[] =
    "c2sp.org/tlog-proof@v1\nindex 0\n"
    "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=\n"
    "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=\n"
    "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=\n\n";
static const char spec_cp1[] =
    "anchors.example/audit/test-1\n1\nZAdVkuGHI4cFijfCSTlOp64C0Yspf8ewu+7YwWi732c=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIaGAJQ1u3xuw9QyyedyJU0uCohZm7Q8lFWKBaWOfX4AaYBYufbrLHkPzAVkQO3OGZPmVAFbf6MEgmbDrhHBrWAE=\n";
static const char spec_cp2[] =
    "anchors.example/audit/test-1\n2\nPnwpqqZrOb4IHDAf1fMNDSe/R0xETfLIZgC7V1A97Jg=\n\n"
    DASH " anchors.example/audit/test-1 BvHEIS6qfm0YBG+xZmqzg46qzZ+z200LTh+H69UBqkW1sFbxNmd8oxrWTLukn+nXAvtZ53Kdh/6n9q7Qk7mMy9Fkkgk=\n";
/* AXR1 record index 1 (HUMAN_DECISION by alice), 313 bytes */
static const char spec_v1_hex[] =
    "415852310300000000000000010000018bcfec605508494e562d313030310305616c696365fe39"
    "7208883951f8d2d99d42c6c52426e1f81cf261a35426098027bd04831106000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000d61702d72"
    "6f7574696e672f763701010301000000000000000064075592e1872387058a37c249394ea7ae02"
    "d18b297fc7b0bbeed8c168bbdf67fe5aeff57246f52abd7bfd7596d73e3cdf7b3441e380bca8df"
    "3df6c0216c15ea0000010196d1a8f43592af7df7cfb08e71cece2787a7f06665b5b634a37bf1e6"
    "31d6430346f8b06f435e2c4a3c8802e2f1377f2fc7638570d49437fbb886c2b3352013eba74746"
    "00";
static const char spec_leaf0_hash_b64[] = "ZAdVkuGHI4cFijfCSTlOp64C0Yspf8ewu+7YwWi732c=";
static const char spec_leaf1_hash_b64[] = "YPAAR44ureexh0B439cAKI3YKB0JokM/uGDKNKwLclM=";

static void
test_spec_vectors(void **state)
{
    uint8_t v1[400];
    size_t v1len;
    char buf[1024];

    (void)state;
    assert_int_equal(sodium_hex2bin(v1, sizeof v1, spec_v1_hex, strlen(spec_v1_hex),
                                    NULL, &v1len, NULL), 0);
    assert_int_equal(v1len, 313);
    /* the cosigned checkpoint (the witness line is an unknown key to Go) */
    GO_OK("checkpoint", spec_vkey, put_str("cp8", spec_cp8));
    /* tlog-proof for index 0 (empty leaf) of the RFC 6962 8-leaf tree */
    snprintf(buf, sizeof buf, "%s%s", spec_proof0_head, spec_cp8);
    GO_OK("receipt", spec_vkey, put_str("p0", buf), put("leaf", "", 0));
    /* AXR1 record 1 in the 2-leaf tree: proof [leafhash0] */
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 1\n%s\n\n%s",
             spec_leaf0_hash_b64, spec_cp2);
    GO_OK("receipt", spec_vkey, put_str("p1", buf), put("leaf", v1, v1len));
    assert_non_null(strstr(g_out, spec_leaf1_hash_b64));
    /* consistency 1 -> 2 is [leafhash1] */
    snprintf(buf, sizeof buf, "%s\n", spec_leaf1_hash_b64);
    GO_OK("consistency", spec_vkey, put_str("c1", spec_cp1), put_str("c2", spec_cp2),
          put_str("cp12", buf));
    /* ... and our signer reproduces the size-2 checkpoint byte for byte */
    {
        struct note_signer s;
        uint8_t seed[32], root[32];
        const struct note_signer *ss[] = { &s };
        sha("anchors test log key 1", seed);
        assert_int_equal(note_signer_init(&s, "anchors.example/audit/test-1", 28,
                                          NOTE_SIGTYPE_ED25519, seed), NOTE_OK);
        size_t rl;
        assert_int_equal(sodium_base642bin(root, 32, "PnwpqqZrOb4IHDAf1fMNDSe/R0xETfLIZgC7V1A97Jg=",
                                           44, NULL, &rl, NULL, B64), 0);
        size_t len = checkpoint(2, root, "anchors.example/audit/test-1", ss, 1,
                                g_note, sizeof g_note);
        note_signer_clear(&s);
        assert_int_equal(len, strlen(spec_cp2));
        assert_memory_equal(g_note, spec_cp2, len);
    }
}

/* ---- negative cases: Go must reject ------------------------------------ */

static void
test_reject_flipped_leaf(void **state)
{
    uint8_t leaf[RECORD_LEAF_MAX];
    size_t nlen = checkpoint1(1000, g_note, sizeof g_note);
    size_t plen = receipt(123, 1000, g_note, nlen, g_proof, sizeof g_proof);
    const char *p = put("r.tlog-proof", g_proof, plen);

    (void)state;
    GO_OK("receipt", g_vkey1, p, put("leaf", g_leaf[123], g_leaf_len[123]));
    /* a flipped bit anywhere (past the index field, which is checked
     * separately) must break the inclusion proof */
    static const size_t at[] = { 0, 4, 13, 20, 40, 100, 150, 200, 0 };
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        size_t off = k == sizeof at / sizeof at[0] - 1 ? g_leaf_len[123] - 1 : at[k];
        memcpy(leaf, g_leaf[123], g_leaf_len[123]);
        leaf[off] ^= 0x01;
        GO_REJECTS("inclusion", "receipt", g_vkey1, p, put("leaf", leaf, g_leaf_len[123]));
    }
    /* one byte more or less */
    memcpy(leaf, g_leaf[123], g_leaf_len[123]);
    leaf[g_leaf_len[123]] = 0;
    GO_REJECTS("inclusion", "receipt", g_vkey1, p, put("leaf", leaf, g_leaf_len[123] + 1));
    GO_REJECTS("inclusion", "receipt", g_vkey1, p, put("leaf", leaf, g_leaf_len[123] - 1));
    /* another record (its AXR1 index differs: caught by the index check) */
    GO_REJECTS("record index 124 != proof index 123", "receipt", g_vkey1, p,
               put("leaf", g_leaf[124], g_leaf_len[124]));
    /* the right leaf with the receipt of its neighbour */
    plen = receipt(124, 1000, g_note, nlen, g_proof, sizeof g_proof);
    memcpy(leaf, g_leaf[123], g_leaf_len[123]);
    leaf[12] = 124;                        /* index field now says 124 */
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r2", g_proof, plen),
               put("leaf", leaf, g_leaf_len[123]));
}

static void
test_reject_wrong_root(void **state)
{
    const struct note_signer *ss[] = { &g_log1 };
    uint8_t root[32];
    size_t nlen, plen, l1;

    (void)state;
    /* a validly signed checkpoint whose root is not the tree's */
    root_at(1000, root);
    root[31] ^= 0x80;
    nlen = checkpoint(1000, root, ORIGIN, ss, 1, g_note, sizeof g_note);
    GO_OK("checkpoint", g_vkey1, put("cp", g_note, nlen));   /* signature fine */
    plen = receipt(5, 1000, g_note, nlen, g_proof, sizeof g_proof);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
               put("leaf", g_leaf[5], g_leaf_len[5]));
    /* the root of a different size */
    root_at(999, root);
    nlen = checkpoint(1000, root, ORIGIN, ss, 1, g_note, sizeof g_note);
    plen = receipt(5, 1000, g_note, nlen, g_proof, sizeof g_proof);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
               put("leaf", g_leaf[5], g_leaf_len[5]));
    /* an all-zero root */
    nlen = checkpoint(1000, g_zero_root, ORIGIN, ss, 1, g_note, sizeof g_note);
    plen = receipt(5, 1000, g_note, nlen, g_proof, sizeof g_proof);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
               put("leaf", g_leaf[5], g_leaf_len[5]));
    /* consistency: the old checkpoint's root is wrong (a fork at size 500) */
    root_at(500, root);
    root[0] ^= 1;
    l1 = checkpoint(500, root, ORIGIN, ss, 1, g_note, sizeof g_note);
    nlen = checkpoint1(1000, g_note2, sizeof g_note2);
    plen = consistency_text(500, 1000, g_proof, sizeof g_proof);
    GO_REJECTS("consistency 500 -> 1000", "consistency", g_vkey1, put("old", g_note, l1),
               put("new", g_note2, nlen), put("cproof", g_proof, plen));
    /* fork at equal sizes: two signed roots for size 1000 */
    root_at(1000, root);
    root[7] ^= 4;
    l1 = checkpoint(1000, root, ORIGIN, ss, 1, g_note, sizeof g_note);
    GO_REJECTS("consistency 1000 -> 1000", "consistency", g_vkey1, put("old", g_note, l1),
               put("new", g_note2, nlen), put("cproof", "", 0));
    /* rollback: the "new" checkpoint is smaller */
    l1 = checkpoint1(999, g_note, sizeof g_note);
    GO_REJECTS("ROLLBACK", "consistency", g_vkey1, put("old", g_note2, nlen),
               put("new", g_note, l1), put("cproof", "", 0));
    /* size 0 must carry SHA-256("") */
    l1 = checkpoint(0, g_zero_root, ORIGIN, ss, 1, g_note, sizeof g_note);
    GO_REJECTS("size-0", "consistency", g_vkey1, put("old", g_note, l1),
               put("new", g_note2, nlen), put("cproof", "", 0));
}

static void
test_reject_other_key(void **state)
{
    const struct note_signer *other[] = { &g_other };
    const struct note_signer *alien[] = { &g_alien };
    size_t nlen, plen;
    char *p, *nl;

    (void)state;
    /* same name, different key: unknown key to Go -> unverified */
    nlen = checkpoint(1000, NULL, ORIGIN, other, 1, g_note, sizeof g_note);
    GO_REJECTS("note.Open", "checkpoint", g_vkey1, put("cp", g_note, nlen));
    plen = receipt(7, 1000, g_note, nlen, g_proof, sizeof g_proof);
    GO_REJECTS("note.Open", "receipt", g_vkey1, put("r.tlog-proof", g_proof, plen),
               put("leaf", g_leaf[7], g_leaf_len[7]));
    /* another log's key and origin */
    nlen = checkpoint(1000, NULL, "other.example/log", alien, 1, g_note, sizeof g_note);
    GO_REJECTS("note.Open", "checkpoint", g_vkey1, put("cp", g_note, nlen));
    /* our key, but the origin is not the key name (AUDIT-FORMAT.md §6.4) */
    {
        const struct note_signer *ss[] = { &g_log1 };
        nlen = checkpoint(1000, NULL, "other.example/log", ss, 1, g_note, sizeof g_note);
        GO_REJECTS("origin", "checkpoint", g_vkey1, put("cp", g_note, nlen));
        GO_OK("-origin", "other.example/log", "checkpoint", g_vkey1, put("cp", g_note, nlen));
    }
    /* a signature by our key moved onto another text: tamper with the
     * signed size 1000 -> 1001 (and with a root byte) */
    nlen = checkpoint1(1000, g_note, sizeof g_note);
    p = strstr(g_note, "\n1000\n");
    assert_non_null(p);
    memcpy(g_note2, g_note, nlen);
    g_note2[(size_t)(p - g_note) + 4] = '1';
    GO_REJECTS("note.Open", "checkpoint", g_vkey1, put("cp", g_note2, nlen));
    memcpy(g_note2, g_note, nlen);
    nl = strchr(p + 6, '\n');
    assert_non_null(nl);
    g_note2[(size_t)(nl - g_note) - 3] ^= 0x01;    /* a base64 char of the root */
    GO_REJECTS("FAIL", "checkpoint", g_vkey1, put("cp", g_note2, nlen));
    /* a flipped bit in the signature */
    memcpy(g_note2, g_note, nlen);
    g_note2[nlen - 10] = g_note2[nlen - 10] == 'A' ? 'B' : 'A';
    GO_REJECTS("note.Open", "checkpoint", g_vkey1, put("cp", g_note2, nlen));
}

static void
test_reject_bad_proofs(void **state)
{
    uint8_t proof[MERKLE_MAX_PROOF][32], extra[32];
    size_t n, nlen, plen;
    const char *leaf = put("leaf", g_leaf[300], g_leaf_len[300]);

    (void)state;
    nlen = checkpoint1(1000, g_note, sizeof g_note);
    assert_int_equal(merkle_inclusion_proof(&H, 1000, 300, get_cb, NULL, proof, &n), MERKLE_OK);
    assert_true(n >= 2);
    /* a flipped proof hash */
    proof[1][5] ^= 0x20;
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, g_note, nlen,
                                       g_proof, sizeof g_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r", g_proof, plen), leaf);
    proof[1][5] ^= 0x20;
    /* one hash missing, one hash too many (transparency-dev negatives) */
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n - 1, g_note, nlen,
                                       g_proof, sizeof g_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r", g_proof, plen), leaf);
    sha("extra", extra);
    memcpy(proof[n], extra, 32);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n + 1, g_note, nlen,
                                       g_proof, sizeof g_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r", g_proof, plen), leaf);
    /* two hashes swapped */
    memcpy(extra, proof[0], 32);
    memcpy(proof[0], proof[1], 32);
    memcpy(proof[1], extra, 32);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, g_note, nlen,
                                       g_proof, sizeof g_proof, &plen), PROOF_OK);
    GO_REJECTS("inclusion", "receipt", g_vkey1, put("r", g_proof, plen), leaf);
    /* sanity: the untampered proof verifies */
    plen = receipt(300, 1000, g_note, nlen, g_proof, sizeof g_proof);
    GO_OK("receipt", g_vkey1, put("r", g_proof, plen), leaf);
    /* index beyond the checkpoint */
    nlen = checkpoint1(300, g_note, sizeof g_note);
    assert_int_equal(merkle_inclusion_proof(&H, 1000, 300, get_cb, NULL, proof, &n), MERKLE_OK);
    assert_int_equal(tlog_proof_format(300, (const uint8_t (*)[32])proof, n, g_note, nlen,
                                       g_proof, sizeof g_proof, &plen), PROOF_OK);
    GO_REJECTS("not below checkpoint size", "receipt", g_vkey1, put("r", g_proof, plen), leaf);
    /* malformed tlog-proof texts */
    GO_REJECTS("first line", "receipt", g_vkey1,
               put_str("r", "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n"), leaf);
    GO_REJECTS("bad index", "receipt", g_vkey1,
               put_str("r", "c2sp.org/tlog-proof@v1\nindex 0300\n\nx\n"), leaf);
    /* consistency: a proof for other sizes, a truncated proof */
    nlen = checkpoint1(300, g_note, sizeof g_note);
    size_t l2 = checkpoint1(1000, g_note2, sizeof g_note2);
    plen = consistency_text(301, 1000, g_proof, sizeof g_proof);
    GO_REJECTS("consistency 300 -> 1000", "consistency", g_vkey1, put("old", g_note, nlen),
               put("new", g_note2, l2), put("cproof", g_proof, plen));
    plen = consistency_text(300, 1000, g_proof, sizeof g_proof);
    GO_REJECTS("consistency 300 -> 1000", "consistency", g_vkey1, put("old", g_note, nlen),
               put("new", g_note2, l2), put("cproof", g_proof, plen - 45));
    GO_OK("consistency", g_vkey1, put("old", g_note, nlen), put("new", g_note2, l2),
          put("cproof", g_proof, plen));
}

/* ---- reverse direction: Go signs, we verify ----------------------------- */

static void
test_go_signs_we_verify(void **state)
{
    char skey[NOTE_SKEY_MAX + 1], text[512], ours[4096];
    size_t sklen, tlen, olen;
    struct note_sigresult res[1];
    struct note_opened op;
    struct note_checkpoint cp;
    const struct note_signer *ss[] = { &g_log1 };
    uint8_t root[32];
    int rc;

    (void)state;
    /* 1. Go signs a checkpoint with our key (Go-format private key string) */
    assert_int_equal(note_skey_format(&g_log1, skey, sizeof skey, &sklen), NOTE_OK);
    const char *kf = put("skey", skey, sklen);
    sodium_memzero(skey, sizeof skey);
    root_at(777, root);
    assert_int_equal(note_checkpoint_format(ORIGIN, strlen(ORIGIN), 777, root, text,
                                            sizeof text, &tlen), NOTE_OK);
    GO_OK("sign", kf, put("text", text, tlen));
    unlink(kf);
    size_t glen = strlen(g_out);
    assert_int_equal(note_open(g_out, glen, &g_log1.pub, 1, res, &op), NOTE_OK);
    assert_int_equal(res[0].verified, 1);
    assert_int_equal(note_checkpoint_parse(op.text, op.text_len, &cp), NOTE_OK);
    assert_int_equal(cp.size, 777);
    assert_memory_equal(cp.root, root, 32);
    /* Ed25519 is deterministic: Go's signed note equals ours byte for byte */
    assert_int_equal(note_sign(text, tlen, ss, 1, ours, sizeof ours, &olen), NOTE_OK);
    assert_int_equal(olen, glen);
    assert_memory_equal(ours, g_out, olen);

    /* 2. a key generated by Go: we parse both strings, derive the same
     * key ID, and Go verifies what we sign with it */
    char gen[1024], gskey[NOTE_SKEY_MAX + 1], gvkey[NOTE_VKEY_MAX + 1], name[64];
    struct note_signer gs;
    struct note_verifier gv;
    snprintf(name, sizeof name, "go.example/interop/%d", (int)getpid());
    GO_OK("genkey", name);
    size_t gl = strlen(g_out);
    assert_true(gl < sizeof gen);
    memcpy(gen, g_out, gl + 1);
    sodium_memzero(g_out, sizeof g_out);
    char *nl = strchr(gen, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_true(strlen(gen) < sizeof gskey);
    memcpy(gskey, gen, strlen(gen) + 1);
    size_t vl = strcspn(nl + 1, "\n");
    assert_true(vl > 0 && vl < sizeof gvkey);
    memcpy(gvkey, nl + 1, vl);
    gvkey[vl] = '\0';
    rc = note_skey_parse(gskey, strlen(gskey), &gs);
    sodium_memzero(gen, sizeof gen);
    sodium_memzero(gskey, sizeof gskey);
    assert_int_equal(rc, NOTE_OK);
    assert_int_equal(note_vkey_parse(gvkey, strlen(gvkey), &gv), NOTE_OK);
    assert_int_equal(gv.key_id, gs.pub.key_id);
    assert_memory_equal(gv.pk, gs.pub.pk, 32);
    {
        const struct note_signer *gss[] = { &gs };
        size_t len = checkpoint(1000, NULL, name, gss, 1, g_note, sizeof g_note);
        note_signer_clear(&gs);
        GO_OK("checkpoint", gvkey, put("cp", g_note, len));
        size_t plen = receipt(999, 1000, g_note, len, g_proof, sizeof g_proof);
        GO_OK("receipt", gvkey, put("r", g_proof, plen), put("leaf", g_leaf[999], g_leaf_len[999]));
    }
}

/* ---- a real hitlqd --------------------------------------------------------- */

static int
call(struct hconn *c, uint8_t op, msgpack_sbuffer *sb, struct hframe *f)
{
    static uint32_t rid = 1;
    int rc = hconn_call(c, op, rid++, sb->data, sb->size, f, 30000);
    msgpack_sbuffer_clear(sb);
    return rc;
}

/* A str or bin object copied to a file. */
static const char *
put_obj(const char *name, const msgpack_object *o)
{
    assert_non_null(o);
    if (o->type == MSGPACK_OBJECT_STR)
        return put(name, o->via.str.ptr, o->via.str.size);
    assert_int_equal(o->type, MSGPACK_OBJECT_BIN);
    return put(name, o->via.bin.ptr, o->via.bin.size);
}

/* The server's vkeys from <data>/audit.key (Go-format private keys, one a
 * line: AUDIT-FORMAT.md §6.4), as an @file argument for the Go verifier. */
static void
server_vkeys(const struct hserver *s, char *arg, size_t cap)
{
    char path[300], line[NOTE_SKEY_MAX + 8], keys[4096] = "";
    size_t klen = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/audit.key", s->data);
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read the server's key file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f) != NULL) {
        struct note_signer k;
        size_t l = strcspn(line, "\r\n"), vl;
        if (l == 0)
            continue;
        assert_int_equal(note_skey_parse(line, l, &k), NOTE_OK);
        assert_true(sizeof keys - klen > NOTE_VKEY_MAX + 2);
        assert_int_equal(note_vkey_format(&k.pub, keys + klen, sizeof keys - klen, &vl), NOTE_OK);
        note_signer_clear(&k);
        klen += vl;
        keys[klen++] = '\n';
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    assert_true(klen > 0);
    snprintf(arg, cap, "@%s", put("server.vkeys", keys, klen));
}

/* SUBMIT {key, type, fields: {amount}, receipt: "checkpoint"}. */
static void
submit_receipt(struct hconn *c, const char *key, struct hframe *f)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    hpk_kv_str(&pk, "key", key);
    hpk_kv_str(&pk, "type", "credit_application");
    hpk_str(&pk, "fields");
    msgpack_pack_map(&pk, 1);
    hpk_kv_u64(&pk, "amount", 1000);
    hpk_kv_str(&pk, "receipt", "checkpoint");
    assert_int_equal(call(c, HITLQ_OP_SUBMIT, &sb, f), 1);
    msgpack_sbuffer_destroy(&sb);
    if (f->status != HITLQ_ST_OK)
        fail_msg("SUBMIT with receipt: status %u", f->status);
}

/* The checkpoint size inside a tlog-proof text. */
static uint64_t
proof_size(const msgpack_object *tp)
{
    struct tlog_proof p;
    const char *sep;
    struct note_checkpoint cp;

    assert_non_null(tp);
    assert_int_equal(tp->type, MSGPACK_OBJECT_STR);
    assert_int_equal(tlog_proof_parse(tp->via.str.ptr, tp->via.str.size, &p), PROOF_OK);
    sep = memmem(p.note, p.note_len, "\n\n", 2);
    assert_non_null(sep);
    assert_int_equal(note_checkpoint_parse(p.note, (size_t)(sep - p.note) + 1, &cp), NOTE_OK);
    return cp.size;
}

/* Leaf bytes of entry `index` via AUDIT_ENTRIES, checked against hash. */
static const char *
server_leaf(struct hconn *c, uint64_t index, const msgpack_object *hash, const char *name)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    struct hframe f;
    const msgpack_object *e, *h;
    uint8_t lh[32];
    const char *path;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "start", index);
    hpk_kv_u64(&pk, "count", 1);
    assert_int_equal(call(c, HITLQ_OP_AUDIT_ENTRIES, &sb, &f), 1);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal(f.status, HITLQ_ST_OK);
    e = hframe_get(&f, "entries");
    h = hframe_get(&f, "hashes");
    assert_true(e != NULL && e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size >= 1);
    assert_true(h != NULL && h->type == MSGPACK_OBJECT_ARRAY && h->via.array.size >= 1);
    const msgpack_object *leaf = &e->via.array.ptr[0];
    assert_int_equal(leaf->type, MSGPACK_OBJECT_BIN);
    assert_int_equal(record_leaf_hash((const uint8_t *)leaf->via.bin.ptr, leaf->via.bin.size, lh),
                     RECORD_OK);
    assert_int_equal(h->via.array.ptr[0].type, MSGPACK_OBJECT_BIN);
    assert_int_equal(h->via.array.ptr[0].via.bin.size, 32);
    assert_memory_equal(h->via.array.ptr[0].via.bin.ptr, lh, 32);
    if (hash != NULL) {
        assert_int_equal(hash->type, MSGPACK_OBJECT_BIN);
        assert_int_equal(hash->via.bin.size, 32);
        assert_memory_equal(hash->via.bin.ptr, lh, 32);
    }
    path = put_obj(name, leaf);
    hframe_free(&f);
    return path;
}

static void
test_real_server(void **state)
{
    struct hserver s;
    struct hconn c;
    struct hframe f, f2;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char vkeys[600];
    const char *leaf;

    (void)state;
    memset(&s, 0, sizeof s);
    assert_true(harness_server_start(&s, NULL) > 0);
    assert_int_equal(hconn_open(&c, s.port), 0);
    assert_int_equal(hconn_hello(&c, "interop"), 0);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 0);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CHECKPOINT, &sb, &f), 1);
    if (f.status == HITLQ_ST_UNKNOWN_OP) {
        hframe_free(&f);
        hconn_close(&c);
        msgpack_sbuffer_destroy(&sb);
        assert_int_equal(harness_server_stop(&s), 0);
        harness_server_cleanup(&s);
        print_message("hitlqd has no audit log yet (AUDIT_CHECKPOINT: unknown_op)\n");
        skip();
    }
    assert_int_equal(f.status, HITLQ_ST_OK);
    hframe_free(&f);
    server_vkeys(&s, vkeys, sizeof vkeys);

    /* receipt of a first submission: strong receipt, leaf from AUDIT_ENTRIES */
    submit_receipt(&c, "interop-1", &f);
    const msgpack_object *au = hframe_get(&f, "audit");
    assert_true(au != NULL && au->type == MSGPACK_OBJECT_MAP);
    uint64_t idx1 = 0;
    const msgpack_object *lh1 = NULL;
    for (uint32_t k = 0; k < au->via.map.size; k++) {
        if (hobj_str_eq(&au->via.map.ptr[k].key, "index"))
            idx1 = hobj_u64(&au->via.map.ptr[k].val);
        else if (hobj_str_eq(&au->via.map.ptr[k].key, "leaf_hash"))
            lh1 = &au->via.map.ptr[k].val;
    }
    assert_non_null(lh1);
    uint64_t size1 = proof_size(hframe_get(&f, "tlog_proof"));
    assert_true(size1 > idx1);
    leaf = server_leaf(&c, idx1, lh1, "srv-leaf1");
    GO_OK("receipt", vkeys, put_obj("srv-r1.tlog-proof", hframe_get(&f, "tlog_proof")), leaf);
    hframe_free(&f);

    /* a second one grows the tree */
    submit_receipt(&c, "interop-2", &f2);
    uint64_t size2 = proof_size(hframe_get(&f2, "tlog_proof"));
    assert_true(size2 > size1);
    hframe_free(&f2);

    /* the latest checkpoint */
    msgpack_pack_map(&pk, 0);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CHECKPOINT, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const char *cpn = put_obj("srv-latest.note", hframe_get(&f, "checkpoint"));
    uint64_t latest = hobj_u64(hframe_get(&f, "size"));
    assert_true(latest >= size2);
    GO_OK("checkpoint", vkeys, cpn);
    hframe_free(&f);

    /* AUDIT_PROVE of the GENESIS entry (index 0) at size1 */
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "index", 0);
    hpk_kv_u64(&pk, "size", size1);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_PROVE, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const char *cp1 = put_obj("srv-cp1.note", hframe_get(&f, "checkpoint"));
    const msgpack_object *ps = hframe_get(&f, "proofs");
    assert_true(ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY && ps->via.array.size == 1);
    const msgpack_object *tp = NULL;
    for (uint32_t k = 0; k < ps->via.array.ptr[0].via.map.size; k++)
        if (hobj_str_eq(&ps->via.array.ptr[0].via.map.ptr[k].key, "tlog_proof"))
            tp = &ps->via.array.ptr[0].via.map.ptr[k].val;
    leaf = server_leaf(&c, 0, NULL, "srv-leaf0");
    GO_OK("receipt", vkeys, put_obj("srv-r0.tlog-proof", tp), leaf);
    GO_OK("checkpoint", vkeys, cp1);
    hframe_free(&f);

    /* consistency size1 -> latest */
    msgpack_pack_map(&pk, 2);
    hpk_kv_u64(&pk, "size1", size1);
    hpk_kv_u64(&pk, "size2", latest);
    assert_int_equal(call(&c, HITLQ_OP_AUDIT_CONSISTENCY, &sb, &f), 1);
    assert_int_equal(f.status, HITLQ_ST_OK);
    const msgpack_object *pr = hframe_get(&f, "proof");
    assert_true(pr != NULL && pr->type == MSGPACK_OBJECT_ARRAY);
    char lines[64 * 46];
    size_t ll = 0;
    for (uint32_t k = 0; k < pr->via.array.size && k < 64; k++) {
        assert_int_equal(pr->via.array.ptr[k].via.bin.size, 32);
        sodium_bin2base64(lines + ll, sizeof lines - ll,
                          (const uint8_t *)pr->via.array.ptr[k].via.bin.ptr, 32, B64);
        ll += 44;
        lines[ll++] = '\n';
    }
    GO_OK("consistency", vkeys, cp1, cpn, put("srv-cproof", lines, ll));
    hframe_free(&f);

    msgpack_sbuffer_destroy(&sb);
    hconn_close(&c);
    assert_int_equal(harness_server_stop(&s), 0);
    harness_server_cleanup(&s);
}

int
main(int argc, char **argv)
{
    /* the build directory is the parent of this binary's directory */
    if (argc > 0 && argv[0] != NULL && strchr(argv[0], '/') != NULL) {
        snprintf(g_bdir, sizeof g_bdir, "%s", argv[0]);
        for (int k = 0; k < 2; k++) {
            char *sl = strrchr(g_bdir, '/');
            if (sl == NULL) {
                snprintf(g_bdir, sizeof g_bdir, ".");
                break;
            }
            *sl = '\0';
        }
        if (g_bdir[0] == '\0')
            snprintf(g_bdir, sizeof g_bdir, "/");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoints_accepted),
        cmocka_unit_test(test_receipts_accepted),
        cmocka_unit_test(test_consistency_accepted),
        cmocka_unit_test(test_dual_signed),
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_reject_flipped_leaf),
        cmocka_unit_test(test_reject_wrong_root),
        cmocka_unit_test(test_reject_other_key),
        cmocka_unit_test(test_reject_bad_proofs),
        cmocka_unit_test(test_go_signs_we_verify),
        cmocka_unit_test(test_real_server),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
