/*
 * test_audit_tool.c - hitlq-audit, the auditor's verifier, without a real
 * hitlqd: logs of valid AXR1 records are generated (audit_gen.c), exported
 * through the tool's own tile writer and signed with test keys, then
 * tampered with; the real build/test/hitlq-audit binary is run on them and
 * each failure must name its class and the exact first bad index.  A fake
 * server (audit_fake.c) speaking the wire protocol covers export, prove,
 * consistency --server and libhitlq's strict reply checks.  Run from the
 * repository root.  SHOW_MSGS=1 prints every failure message checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aud.h"
#include "audit_fake.h"
#include "audit_gen.h"
#include "audit_tamper.h"
#include "hitlq.h"
#include "proof.h"

#define TOOL "build/test/hitlq-audit"
#define N    600                         /* 2 full bundles + 88 */

/* Per-test fixture: a temp dir, keys, log A (600) and B (diverges at 300). */
struct fx {
    char               dir[64];
    struct note_signer key, other;       /* test-only */
    char               vkey[NOTE_VKEY_MAX + 1], other_vkey[NOTE_VKEY_MAX + 1];
    struct gen_log     a, b;
    char               out[8192], err[8192];   /* last run's stdout, stderr */
};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct gen_opts oa = { GEN_NONE, GEN_NONE }, ob = { 300, GEN_NONE };

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hitlq-audit-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    gen_signer(&f->key, GEN_ORIGIN, 1);
    gen_signer(&f->other, GEN_ORIGIN, 2);    /* same name, other key */
    gen_vkey(&f->key, f->vkey);
    gen_vkey(&f->other, f->other_vkey);
    gen_log_build(&f->a, 700, &oa);
    gen_log_build(&f->b, 700, &ob);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    gen_log_free(&f->a);
    gen_log_free(&f->b);
    note_signer_clear(&f->key);
    note_signer_clear(&f->other);
    free(f);
    return 0;
}

/* f->dir/name into out. */
static const char *
fx_path(const struct fx *f, const char *name, char *out)
{
    snprintf(out, AUD_PATH_MAX, "%s/%s", f->dir, name);
    return out;
}

/* Writes the first m entries of l, signed by s, as export dir `name`. */
static const char *
fx_export(struct fx *f, const struct gen_log *l, size_t m,
          const struct note_signer *s, const char *name, char *path)
{
    size_t len;
    char *note = gen_checkpoint(l, m, s, &len);

    gen_export(l, m, fx_path(f, name, path), note, len);
    free(note);
    return path;
}

static void
fx_slurp(const char *path, char *out, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    size_t n;

    assert_non_null(fp);
    n = fread(out, 1, cap - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

/* Runs the tool with args (NULL-terminated); returns its exit status and
 * keeps its stdout/stderr in f->out/f->err. */
static int
fx_run(struct fx *f, ...)
{
    char *argv[32], o[AUD_PATH_MAX], e[AUD_PATH_MAX];
    va_list ap;
    int n = 0, st;
    pid_t pid;

    argv[n++] = (char *)TOOL;
    va_start(ap, f);
    while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    fx_path(f, "stdout", o);
    fx_path(f, "stderr", e);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        execv(TOOL, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    fx_slurp(o, f->out, sizeof(f->out));
    fx_slurp(e, f->err, sizeof(f->err));
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Exit 1 and stderr "hitlq-audit: CLASS at index I: ..." */
static void
fx_expect(struct fx *f, int rc, const char *cls, long long index)
{
    char want[128];

    if (index >= 0)
        snprintf(want, sizeof(want), "hitlq-audit: %s at index %lld: ", cls, index);
    else
        snprintf(want, sizeof(want), "hitlq-audit: %s: ", cls);
    if (getenv("SHOW_MSGS"))
        fprintf(stderr, "  [%d] %s", rc, f->err);
    if (rc != 1 || strstr(f->err, want) == NULL)
        fail_msg("want exit 1 and \"%s\", got exit %d, stderr: %s", want, rc, f->err);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_tile_paths(void **state)
{
    char p[AUD_PATH_MAX];

    (void)state;
    assert_string_equal(aud_tile_path(p, "d", 0, 5, 256), "d/tile/0/005");
    assert_string_equal(aud_tile_path(p, "d", 2, 1234067, 0), "d/tile/2/x001/x234/067");
    assert_string_equal(aud_tile_path(p, "d", AUD_ENTRIES_LEVEL, 1000, 7),
                        "d/tile/entries/x001/000.p/7");
    /* tlog-tiles.md: size 70,000 = 273 full level-0 tiles + one of 112;
     * level 1: one full + one of 17; level 2: one of 1. */
    assert_int_equal(aud_tile_width(70000, 0, 272), 256);
    assert_int_equal(aud_tile_width(70000, 0, 273), 112);
    assert_int_equal(aud_tile_width(70000, 0, 274), 0);
    assert_int_equal(aud_tile_width(70000, 1, 0), 256);
    assert_int_equal(aud_tile_width(70000, 1, 1), 17);
    assert_int_equal(aud_tile_width(70000, 2, 0), 1);
    assert_int_equal(aud_tile_width(256, 1, 0), 1);
    assert_int_equal(aud_tile_width(256, 0, 1), 0);
}

static void
test_clean_export_verifies(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX], p[AUD_PATH_MAX + 64];
    struct stat sb;

    fx_export(f, &f->a, N, &f->key, "x", dir);
    assert_int_equal(fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), 0);
    assert_non_null(strstr(f->out, "verified 600 entries in "));
    assert_non_null(strstr(f->out, " entries/s)"));
    static const char *const files[] = {
        "checkpoint", "tile/entries/000", "tile/entries/001", "tile/entries/002.p/88",
        "tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        assert_int_equal(stat(p, &sb), 0);
    }
    snprintf(p, sizeof(p), "%s/tile/0/001", dir);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_size, 8192);
    /* keys from a file: an untrusted key alone, then with the log's */
    {
        char keys[3 * NOTE_VKEY_MAX];
        snprintf(p, sizeof(p), "%s/keys", f->dir);
        snprintf(keys, sizeof(keys), "# trusted keys\n%s\n", f->other_vkey);
        gen_write_file(p, keys, strlen(keys));
        fx_expect(f, fx_run(f, "verify", "--vkey-file", p, dir, NULL), "UNKNOWN_KEY", -1);
        snprintf(keys, sizeof(keys), "# trusted keys\n%s\n\n%s\n", f->other_vkey,
                 f->vkey);
        gen_write_file(p, keys, strlen(keys));
        assert_int_equal(fx_run(f, "verify", "--vkey-file", p, dir, NULL), 0);
    }
}

static void
test_flipped_byte(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX];

    fx_export(f, &f->a, N, &f->key, "x", dir);
    tamper_entry_flip(dir, N, 300, 22, 0x01);          /* item_id digit: still decodes */
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_HASH", 300);
    assert_non_null(strstr(f->err, "tile/0/001"));
    fx_export(f, &f->a, N, &f->key, "y", dir);
    tamper_entry_flip(dir, N, 77, 0, 0x20);            /* magic: does not decode */
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_ENTRY", 77);
}

static void
test_deleted_entry(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX];

    fx_export(f, &f->a, N, &f->key, "x", dir);
    tamper_bundle_edit(dir, N, 123, 1, 0, 256);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "MISSING", 123);
    assert_non_null(strstr(f->err, "holds entry 124"));
}

static void
test_swapped_entries(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX];

    fx_export(f, &f->a, N, &f->key, "x", dir);
    tamper_bundle_edit(dir, N, 200, 0, 1, 256);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "REORDERED", 200);
    assert_non_null(strstr(f->err, "entry 200 is at position 201"));
    /* across a bundle boundary: 255 and 256 exchanged */
    fx_export(f, &f->a, N, &f->key, "y", dir);
    {
        uint64_t b0[256], b1[256];
        for (unsigned i = 0; i < 256; i++) {
            b0[i] = i;
            b1[i] = 256 + i;
        }
        b0[255] = 256;
        b1[0] = 255;
        tamper_bundle_write(&f->a, dir, 0, b0);
        tamper_bundle_write(&f->a, dir, 1, b1);
    }
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "REORDERED", 255);
}

static void
test_truncated_tail(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX], from[AUD_PATH_MAX], to[AUD_PATH_MAX];

    fx_export(f, &f->a, N, &f->key, "x", dir);
    tamper_bundle_edit(dir, N, 512, 0, 0, 78);         /* last bundle: 78 of 88 left */
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "TRUNCATION", 590);
    assert_non_null(strstr(f->err, "holds only 78 of its 88 entries"));
    /* the tail cut by whole files: bundle and level-0 tile of 78 */
    fx_export(f, &f->a, N, &f->key, "y", dir);
    tamper_bundle_edit(dir, N, 512, 0, 0, 78);
    aud_tile_path(from, dir, AUD_ENTRIES_LEVEL, 2, 88);
    aud_tile_path(to, dir, AUD_ENTRIES_LEVEL, 2, 78);
    assert_int_equal(aud_mkdirs_for(to), 0);
    assert_int_equal(rename(from, to), 0);
    aud_tile_path(from, dir, 0, 2, 88);
    assert_int_equal(truncate(from, 78 * 32), 0);
    aud_tile_path(to, dir, 0, 2, 78);
    assert_int_equal(aud_mkdirs_for(to), 0);
    assert_int_equal(rename(from, to), 0);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "TRUNCATION", 590);
    /* a whole bundle in the middle gone: MISSING, not TRUNCATION */
    fx_export(f, &f->a, N, &f->key, "z", dir);
    aud_tile_path(from, dir, AUD_ENTRIES_LEVEL, 1, 256);
    assert_int_equal(unlink(from), 0);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "MISSING", 256);
}

static void
test_forged_and_foreign_checkpoints(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX], cp[AUD_PATH_MAX + 16], text[4096], *line;
    uint8_t root[32];
    char b64[45];

    fx_export(f, &f->a, N, &f->key, "x", dir);
    snprintf(cp, sizeof(cp), "%s/checkpoint", dir);
    fx_slurp(cp, text, sizeof(text));
    gen_root(&f->b, N, root);                /* a forked log's root */
    line = strchr(strchr(text, '\n') + 1, '\n') + 1;
    memcpy(line, aud_b64(root, b64), 44);
    gen_write_file(cp, text, strlen(text));
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_SIGNATURE", -1);
    /* signed by a key that is not trusted */
    fx_export(f, &f->a, N, &f->other, "y", dir);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "UNKNOWN_KEY", -1);
    assert_int_equal(fx_run(f, "verify", "--vkey", f->other_vkey, dir, NULL), 0);
    /* no key at all is a usage error */
    assert_int_equal(fx_run(f, "verify", dir, NULL), 2);
}

static void
test_tiles_tampered(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX], p[AUD_PATH_MAX];
    struct aud_buf b = { 0 };
    struct merkle_hasher h;

    /* a level-1 hash changed */
    fx_export(f, &f->a, N, &f->key, "x", dir);
    aud_tile_path(p, dir, 1, 0, 2);
    assert_int_equal(aud_file_read(p, &b, 1024), 0);
    b.p[40] ^= 1;                            /* hash 1: entries 256..511 */
    gen_write_file(p, b.p, b.len);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_HASH", 256);
    assert_non_null(strstr(f->err, "tile/1/000.p/2 hash 1 (entries 256..511)"));
    /* entry 12 and its level-0 hash changed together: the level-1 tile
     * above them disagrees */
    fx_export(f, &f->a, N, &f->key, "y", dir);
    tamper_entry_flip(dir, N, 12, 22, 0x01);   /* AUTO_DECISION: nothing refers to it */
    aud_tile_path(p, dir, 0, 0, 256);
    assert_int_equal(aud_file_read(p, &b, 8192), 0);
    {
        uint8_t e[1024];
        memcpy(e, f->a.buf + f->a.off[12], f->a.len[12]);
        e[22] ^= 0x01;
        assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
        assert_int_equal(merkle_leaf_hash(&h, e, f->a.len[12], b.p + 12 * 32), MERKLE_OK);
        merkle_hasher_clear(&h);
    }
    gen_write_file(p, b.p, b.len);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_HASH", 0);
    assert_non_null(strstr(f->err, "tile/1/000.p/2 hash 0"));
    aud_buf_clear(&b);
}

static void
test_bad_reference(void **state)
{
    struct fx *f = *state;
    struct gen_opts o = { GEN_NONE, 302 };
    struct gen_log l;
    char dir[AUD_PATH_MAX];

    gen_log_build(&l, N, &o);
    fx_export(f, &l, N, &f->key, "x", dir);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, NULL), "BAD_ENTRY", 302);
    assert_non_null(strstr(f->err, "is not the leaf hash"));
    gen_log_free(&l);
}

static void
test_state_rollback_and_fork(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX], st[AUD_PATH_MAX], before[8192], after[8192];

    fx_path(f, "state", st);
    fx_export(f, &f->a, N, &f->key, "x", dir);
    assert_int_equal(fx_run(f, "verify", "--vkey", f->vkey, dir, "--state", st, NULL), 0);
    fx_slurp(st, before, sizeof(before));
    assert_non_null(strstr(before, GEN_ORIGIN "\n600\n"));
    /* the same log later rolled back to 500 entries, validly signed */
    fx_export(f, &f->a, 500, &f->key, "y", dir);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, "--state", st, NULL),
              "ROLLBACK", -1);
    assert_non_null(strstr(f->err, "size 500"));
    fx_slurp(st, after, sizeof(after));
    assert_string_equal(before, after);      /* state untouched */
    /* grows to 650: fine, state advances */
    fx_export(f, &f->a, 650, &f->key, "z", dir);
    assert_int_equal(fx_run(f, "verify", "--vkey", f->vkey, dir, "--state", st, NULL), 0);
    fx_slurp(st, after, sizeof(after));
    assert_non_null(strstr(after, GEN_ORIGIN "\n650\n"));
    /* a log that agrees on 300 entries, then forks, grown to 700 */
    fx_export(f, &f->b, 700, &f->key, "w", dir);
    fx_expect(f, fx_run(f, "verify", "--vkey", f->vkey, dir, "--state", st, NULL),
              "FORK", -1);
    assert_non_null(strstr(f->err, "the first 650 entries have root"));
}

/* Writes a signed checkpoint of the first m entries of l into a file. */
static const char *
fx_cp_file(struct fx *f, const struct gen_log *l, size_t m, const char *name,
           char *path)
{
    size_t len;
    char *note = gen_checkpoint(l, m, &f->key, &len);

    gen_write_file(fx_path(f, name, path), note, len);
    free(note);
    return path;
}

/* Writes the consistency proof n1 -> n2 of l as base64 lines. */
static const char *
fx_cons_file(struct fx *f, const struct gen_log *l, size_t n1, size_t n2,
             char *path)
{
    uint8_t hs[MERKLE_MAX_PROOF][32];
    size_t n = gen_consistency(l, n1, n2, hs), pos = 0;
    char text[MERKLE_MAX_PROOF * 45 + 1], b64[45];

    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s\n", aud_b64(hs[i], b64));
    gen_write_file(fx_path(f, "proof", path), text, pos);
    return path;
}

static void
test_consistency(void **state)
{
    struct fx *f = *state;
    char a500[AUD_PATH_MAX], a600[AUD_PATH_MAX], b600[AUD_PATH_MAX],
         b700[AUD_PATH_MAX], pf[AUD_PATH_MAX];

    fx_cp_file(f, &f->a, 500, "a500", a500);
    fx_cp_file(f, &f->a, 600, "a600", a600);
    fx_cp_file(f, &f->b, 600, "b600", b600);
    fx_cp_file(f, &f->b, 700, "b700", b700);
    fx_cons_file(f, &f->a, 500, 600, pf);
    assert_int_equal(fx_run(f, "consistency", "--vkey", f->vkey, a500, a600,
                            "--proof", pf, NULL), 0);
    assert_non_null(strstr(f->out, "consistent: size 500"));
    fx_expect(f, fx_run(f, "consistency", "--vkey", f->vkey, a600, a500, "--proof",
                        pf, NULL), "ROLLBACK", -1);
    fx_expect(f, fx_run(f, "consistency", "--vkey", f->vkey, a600, b600, "--proof",
                        pf, NULL), "FORK", -1);
    assert_non_null(strstr(f->err, "same size with different roots"));
    /* B's own proof 500 -> 700 cannot link A's 500 to B's 700 */
    fx_cons_file(f, &f->b, 500, 700, pf);
    fx_expect(f, fx_run(f, "consistency", "--vkey", f->vkey, a500, b700, "--proof",
                        pf, NULL), "FORK", -1);
    assert_non_null(strstr(f->err, "size 500"));
    assert_non_null(strstr(f->err, "size 700"));
    gen_write_file(pf, "not base64\n", 11);
    fx_expect(f, fx_run(f, "consistency", "--vkey", f->vkey, a500, b700, "--proof",
                        pf, NULL), "BAD_PROOF", -1);
}

/* A receipt for entry idx of A at size N into file `name`. */
static const char *
fx_receipt(struct fx *f, uint64_t idx, const char *name, char *path)
{
    uint8_t hs[MERKLE_MAX_PROOF][32];
    size_t n = gen_inclusion(&f->a, N, idx, hs), nlen, tlen;
    char *note = gen_checkpoint(&f->a, N, &f->key, &nlen), text[8192];

    assert_int_equal(tlog_proof_format(idx, (const uint8_t (*)[32])hs, n, note, nlen,
                                       text, sizeof(text), &tlen), PROOF_OK);
    gen_write_file(fx_path(f, name, path), text, tlen);
    free(note);
    return path;
}

static void
test_receipt(void **state)
{
    struct fx *f = *state;
    char rc[AUD_PATH_MAX], en[AUD_PATH_MAX], e43[AUD_PATH_MAX], hex[65], text[8192];

    fx_receipt(f, 42, "r42", rc);
    gen_write_file(fx_path(f, "e42", en), f->a.buf + f->a.off[42], f->a.len[42]);
    gen_write_file(fx_path(f, "e43", e43), f->a.buf + f->a.off[43], f->a.len[43]);
    assert_int_equal(fx_run(f, "receipt", "--vkey", f->vkey, rc, "--entry", en, NULL), 0);
    assert_non_null(strstr(f->out, "entry 42 is included"));
    assert_int_equal(fx_run(f, "receipt", "--vkey", f->vkey, rc, "--leaf-hash",
                            aud_hex(f->a.leaf[42], hex), NULL), 0);
    fx_expect(f, fx_run(f, "receipt", "--vkey", f->vkey, rc, "--leaf-hash",
                        aud_hex(f->a.leaf[41], hex), NULL), "BAD_PROOF", 42);
    fx_expect(f, fx_run(f, "receipt", "--vkey", f->vkey, rc, "--entry", e43, NULL),
              "BAD_ENTRY", 42);
    assert_int_equal(fx_run(f, "receipt", "--vkey", f->vkey, rc, NULL), 2);
    /* a proof hash changed */
    fx_slurp(rc, text, sizeof(text));
    {
        char *h0 = text + strlen("c2sp.org/tlog-proof@v1\nindex 42\n");
        *h0 = *h0 == 'A' ? 'B' : 'A';        /* still canonical base64 */
    }
    gen_write_file(rc, text, strlen(text));
    fx_expect(f, fx_run(f, "receipt", "--vkey", f->vkey, rc, "--entry", en, NULL),
              "BAD_PROOF", 42);
    /* the checkpoint inside re-sized: signature breaks */
    fx_receipt(f, 42, "r42b", rc);
    fx_slurp(rc, text, sizeof(text));
    strstr(text, "\n600\n")[2] = '1';        /* 600 -> 610 */
    gen_write_file(rc, text, strlen(text));
    fx_expect(f, fx_run(f, "receipt", "--vkey", f->vkey, rc, "--entry", en, NULL),
              "BAD_SIGNATURE", -1);
    fx_receipt(f, 42, "r42c", rc);
    fx_expect(f, fx_run(f, "receipt", "--vkey", f->other_vkey, rc, "--entry", en,
                        NULL), "UNKNOWN_KEY", -1);
}

static void
test_summary(void **state)
{
    struct fx *f = *state;
    char dir[AUD_PATH_MAX];
    json_error_t je;
    json_t *j, *m;
    uint64_t agreed = 0, overrode = 0;

    fx_export(f, &f->a, N, &f->key, "x", dir);
    assert_int_equal(fx_run(f, "summary", dir, "--json", NULL), 0);
    j = json_loads(f->out, 0, &je);
    assert_non_null(j);
    for (uint64_t i = 2; i < N; i += 3) {
        if (i % 7 == 5)
            overrode++;
        else
            agreed++;
    }
    assert_int_equal(json_integer_value(json_object_get(j, "entries")), N);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "record_types"), "GENESIS")), 1);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "record_types"), "HUMAN_OVERRIDE")), overrode);
    /* models are keyed by the model file's digest, with their id@version */
    m = json_object_get(json_object_get(j, "models"),
                        "8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a");
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "id")), "fraud-gbm@2025.06.1");
    assert_int_equal(json_integer_value(json_object_get(m, "entries")), N - 1);
    assert_int_equal(json_integer_value(json_object_get(m, "scored")), (N - 1) * 2 / 3);
    /* the generated log is v1: its OUTCOME agreement is legacy, not used */
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "human"), "agreed")), 0);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "human"), "overrode")), 0);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "human"), "legacy_outcome_verdicts")), agreed + overrode);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(j, "actors"), "HUMAN alice")), agreed + overrode);
    assert_string_equal(json_string_value(json_object_get(j, "first")),
                        "2025-06-15T15:06:40.000Z");
    json_decref(j);
    assert_int_equal(fx_run(f, "summary", dir, NULL), 0);
    assert_non_null(strstr(f->out, "entries: 600"));
    assert_non_null(strstr(f->out, "HUMAN_DECISION"));
    assert_non_null(strstr(f->out, "legacy agreement: not used"));
}

/* ---- against the fake server --------------------------------------------- */

static void
fx_server(struct fx *f, struct fake_srv *s, char *addr, size_t m, char **note)
{
    size_t len;

    *note = gen_checkpoint(&f->a, m, &f->key, &len);
    memset(s, 0, sizeof(*s));
    s->log = &f->a;                          /* 700 committed */
    s->size = m;
    s->note = *note;
    s->note_len = len;
    s->flip_at = GEN_NONE;
    s->max_batch = 100;
    fake_srv_start(s);
    snprintf(addr, 32, "127.0.0.1:%u", s->port);
}

/* Every file of the generator's export is in dir, byte for byte. */
static void
fx_same_tree(const char *want, const char *got)
{
    char cmd[2 * AUD_PATH_MAX + 32];

    snprintf(cmd, sizeof(cmd), "diff -r %s %s >/dev/null", want, got);
    assert_int_equal(system(cmd), 0);
}

static void
test_export_from_server(void **state)
{
    struct fx *f = *state;
    struct fake_srv s;
    char addr[32], out[AUD_PATH_MAX], ref[AUD_PATH_MAX], *note;

    fx_server(f, &s, addr, N, &note);
    fx_path(f, "exp", out);
    assert_int_equal(fx_run(f, "export", "--server", addr, "--out", out, "--vkey",
                            f->vkey, NULL), 0);
    assert_non_null(strstr(f->out, "exported 600 entries to "));
    assert_non_null(strstr(f->out, "checkpoint: size 600 (fresh"));
    assert_non_null(strstr(f->err, "already holds 100 entries after this checkpoint"));
    fx_export(f, &f->a, N, &f->key, "ref", ref);
    fx_same_tree(ref, out);
    fx_path(f, "exp1", out);                 /* --no-fresh: the latest signed one */
    assert_int_equal(fx_run(f, "export", "--no-fresh", "--server", addr, "--out", out,
                            "--vkey", f->vkey, NULL), 0);
    assert_non_null(strstr(f->out, "checkpoint: size 600 (the latest signed one)"));
    assert_non_null(strstr(f->err, "(run without --no-fresh)"));
    s.flip_at = 300;                         /* the server's entry changed */
    fx_path(f, "exp2", out);
    fx_expect(f, fx_run(f, "export", "--server", addr, "--out", out, "--vkey",
                        f->vkey, NULL), "BAD_HASH", 300);
    s.flip_at = GEN_NONE;
    s.short_hash = true;
    fx_path(f, "exp3", out);
    assert_int_equal(fx_run(f, "export", "--server", addr, "--out", out, NULL), 2);
    assert_non_null(strstr(f->err, "malformed AUDIT_ENTRIES reply"));
    fake_srv_stop(&s);
    free(note);
}

static void
test_prove_and_consistency_from_server(void **state)
{
    struct fx *f = *state;
    struct fake_srv s;
    char addr[32], rc[AUD_PATH_MAX], en[AUD_PATH_MAX], a500[AUD_PATH_MAX],
         a600[AUD_PATH_MAX], p[AUD_PATH_MAX + 8], *note;
    struct stat sb;

    fx_server(f, &s, addr, N, &note);
    fx_path(f, "r", rc);
    assert_int_equal(fx_run(f, "prove", "--server", addr, "--index", "42", "--out",
                            rc, "--vkey", f->vkey, NULL), 0);
    gen_write_file(fx_path(f, "e42", en), f->a.buf + f->a.off[42], f->a.len[42]);
    assert_int_equal(fx_run(f, "receipt", "--vkey", f->vkey, rc, "--entry", en, NULL), 0);
    assert_int_equal(fx_run(f, "prove", "--server", addr, "--item", "4", "--out", rc,
                            "--vkey", f->vkey, NULL), 0);
    snprintf(p, sizeof(p), "%s.4", rc);
    assert_int_equal(stat(p, &sb), 0);
    snprintf(p, sizeof(p), "%s.5", rc);
    assert_int_equal(stat(p, &sb), 0);
    s.flip_at = 42;
    fx_expect(f, fx_run(f, "prove", "--server", addr, "--index", "42", "--vkey",
                        f->vkey, NULL), "BAD_HASH", 42);
    s.flip_at = GEN_NONE;
    fx_cp_file(f, &f->a, 500, "a500", a500);
    fx_cp_file(f, &f->a, 600, "a600", a600);
    assert_int_equal(fx_run(f, "consistency", "--vkey", f->vkey, a500, a600,
                            "--server", addr, NULL), 0);
    fake_srv_stop(&s);
    free(note);
}

/* SUBMIT with receipts: index only, then with the tlog-proof, which
 * verifies offline for the returned leaf hash. */
static void
fx_submit_receipt(struct fx *f, hitlq *c)
{
    hitlq_item it = { .key = "k1", .type = "credit_application", .priority = -1 };
    struct aud_keys keys = { .n = 0 };
    struct merkle_hasher h;
    struct aud_result r;
    hitlq_decision d;
    uint8_t lh[HITLQ_HASH_LEN];
    uint64_t idx = 0, pidx = 0;
    char *tp = (char *)"x";

    assert_int_equal(hitlq_submit_receipt(c, &it, false, &d, &idx, lh, &tp), HITLQ_OK);
    assert_null(tp);
    assert_true(d.queued && d.id == 43 && idx == 43);
    assert_memory_equal(lh, f->a.leaf[43], 32);
    assert_int_equal(hitlq_submit_receipt(c, &it, true, &d, &idx, lh, &tp), HITLQ_OK);
    assert_non_null(tp);
    assert_int_equal(aud_keys_add(&keys, f->vkey, strlen(f->vkey), &r), AUD_OK);
    assert_int_equal(merkle_hasher_init(&h), MERKLE_OK);
    assert_int_equal(aud_receipt_check(tp, strlen(tp), lh, NULL, &keys, &h, &pidx, &r),
                     AUD_OK);
    assert_int_equal(pidx, 43);
    lh[0] ^= 1;
    assert_int_equal(aud_receipt_check(tp, strlen(tp), lh, NULL, &keys, &h, &pidx, &r),
                     AUD_BAD_PROOF);
    merkle_hasher_clear(&h);
    free(tp);
}

/* libhitlq's audit calls check reply shapes strictly. */
static void
test_lib_strict_replies(void **state)
{
    struct fx *f = *state;
    struct fake_srv s;
    char addr[32], *note, *got = NULL;
    hitlq_options o = { .host = "127.0.0.1", .name = "t", .timeout_ms = 5000 };
    hitlq_reply *r = NULL;
    uint8_t proof[64][HITLQ_HASH_LEN];
    uint64_t size = 0, s2 = 0;
    size_t n = 0, len = 0;
    hitlq *c;

    fx_server(f, &s, addr, N, &note);
    o.port = s.port;
    c = hitlq_connect(&o);
    assert_int_equal(hitlq_err(c), HITLQ_OK);
    assert_int_equal(hitlq_audit_checkpoint(c, &got, &len, &size), HITLQ_OK);
    assert_int_equal(size, N);
    assert_string_equal(got, note);
    free(got);
    assert_int_equal(hitlq_audit_entries(c, 650, 1024, &r, &n), HITLQ_OK);
    assert_int_equal(n, 50);                 /* up to the committed 700 */
    hitlq_reply_free(r);
    assert_int_equal(hitlq_audit_entries(c, 0, 0, &r, &n), HITLQ_EINVAL);
    assert_int_equal(hitlq_audit_consistency(c, 0, 10, proof, &n, &s2), HITLQ_EINVAL);
    assert_int_equal(hitlq_audit_consistency(c, 500, 600, proof, &n, &s2), HITLQ_OK);
    assert_int_equal(s2, 600);
    assert_true(n > 0 && n <= 64);
    assert_int_equal(hitlq_audit_prove(c, 7, 0, &r), HITLQ_OK);
    hitlq_reply_free(r);
    fx_submit_receipt(f, c);
    s.short_hash = true;
    assert_int_equal(hitlq_audit_entries(c, 0, 10, &r, &n), HITLQ_EPROTO);
    assert_null(r);
    {
        hitlq_item it = { .key = "k1", .type = "credit_application", .priority = -1 };
        hitlq_decision d;
        uint8_t lh[HITLQ_HASH_LEN];
        uint64_t idx;
        char *tp = (char *)"x";
        assert_int_equal(hitlq_submit_receipt(c, &it, true, &d, &idx, lh, &tp),
                         HITLQ_EPROTO);      /* 31-byte leaf hash */
        assert_null(tp);
    }
    hitlq_free(c);
    fake_srv_stop(&s);
    free(note);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tile_paths),
        cmocka_unit_test_setup_teardown(test_clean_export_verifies, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_deleted_entry, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_swapped_entries, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_tail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_forged_and_foreign_checkpoints, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tiles_tampered, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_reference, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_state_rollback_and_fork, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_consistency, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_receipt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_summary, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_export_from_server, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_prove_and_consistency_from_server, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lib_strict_replies, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
