/*
 * test_note.c - unit tests of proto/note.c (docs/RELIABILITY.md §4.1
 * items 4, 6, 7 and 8, §4.2, §4.3 items 3-4): Go sumdb/note vectors and negative cases
 * (golang/mod @ fe2ec04f sumdb/note/note_test.go, BSD-style licence, The Go
 * Authors), the C2SP signed-note example (C2SP/C2SP @ 5ba5ee83, CC0), a real
 * sum.golang.org checkpoint, hitlq's own log/witness vectors, checkpoint and
 * cosignature codecs and their strict-parse negatives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "note.h"

#define DASH "\xe2\x80\x94"

/* ---- vectors ------------------------------------------------------------ */

/* golang/mod sumdb/note/note_test.go */
static const char go_skey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_seed_hex[] =
    "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173";
static const char go_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_pk_hex[] =
    "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6";
static const char enoch_vkey[] =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char go_text[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
static const char peter_sig[] =
    DASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char enoch_sig[] =
    DASH " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* C2SP signed-note.md example */
static const char c2sp_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char c2sp_note[] =
    "This is an example message.\n\n"
    DASH " example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/* A production sum.golang.org checkpoint (docs/RELIABILITY.md §4.1 item 7). */
static const char sumdb_vkey[] =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
static const char sumdb_note[] =
    "go.sum database tree\n65664258\nWVVNVD2qx+fTq31zkj6UAqxT5X6HvGphGM+o8Thnbsg=\n\n"
    DASH " sum.golang.org Az3grligJmgX7KGyGPKybykNTh3VgsbLvUuvOwrM5zLVlulmFp2wdvbxOw74/gcNxURShXEpb7RXcs3+BYflYN+w0gQ=\n";

/* hitlq's own vectors (docs/RELIABILITY.md §4.2); test-only seeds. */
#define LOG_NAME "anchors.example/audit/test-1"
#define WIT_NAME "witness.anchors.example/w1"
static const char log_seed_hex[] =
    "47df43c95fe9c84ca2604052a4f461ec22ee4397bd1480944adb89c8527de083";
static const char log_pk_hex[] =
    "fa173b95bb6ceb6296b140d63b48fc9e2b5c4913636ba5a49c94eaa34cf62335";
static const char log_vkey[] =
    LOG_NAME "+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1";
static const char log_skey[] =
    "PRIVATE+KEY+" LOG_NAME "+06f1c421+AUffQ8lf6chMomBAUqT0Yewi7kOXvRSAlErbichSfeCD";
static const char wit_seed_hex[] =
    "9f5daf18e8f14426512cce58cd0edea1ed5caba82a3e79803409aca97d6fbde3";
static const char wit_pk_hex[] =
    "a4bcb60ad8d82dd9c6a695d5d6840fcf1ac96bc2f058827232b5f4d4e29e3241";
static const char wit_vkey[] =
    WIT_NAME "+da777e40+BKS8tgrY2C3ZxqaV1daED88ayWvC8FiCcjK19NTinjJB";
static const char cp8_hex[] =
    "616e63686f72732e6578616d706c652f61756469742f746573742d310a380a5863"
    "6e616561634757616d74565a79334164375a6f717564676a71744c306c677a2b4e"
    "77372f52675179673d0a";
static const char cp8_root_hex[] =
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
static const char cp8_log_line[] =
    DASH " " LOG_NAME " BvHEIa/G1eOJC/uojI2hKV65dezu3+ayHwPQHbanqNzuGt7g6dGJ0cyuz0bY91OVZqIYpaAfSiUEwMgcj6NdzXwU3Qo=\n";
static const char cp8_wit_line[] =
    DASH " " WIT_NAME " 2nd+QAAAAABlU/EAipxJnwttH4gEAnPHAYAyxn3C9zwnbgUPrWcxFc8iApKt3NVVSv8YZ9XAC/S7yX2px+pEtUxq9p3zabi8H8vZBQ==\n";
#define CP8_TIME 1700000000u

static const struct {
    uint64_t size;
    const char *root_hex;
    const char *sig_b64;
} log_cps[] = {
    { 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "BvHEIchoc+AsKkGmoa14T2Nnf2esTBFR1ghh/rEs0SZj3FMdg78sVX7yMJ5JP5PxfNT0KZcUg5TDDLJq8A6qqPTTfAY=" },
    { 1, "64075592e1872387058a37c249394ea7ae02d18b297fc7b0bbeed8c168bbdf67",
      "BvHEIaGAJQ1u3xuw9QyyedyJU0uCohZm7Q8lFWKBaWOfX4AaYBYufbrLHkPzAVkQO3OGZPmVAFbf6MEgmbDrhHBrWAE=" },
    { 2, "3e7c29aaa66b39be081c301fd5f30d0d27bf474c444df2c86600bb57503dec98",
      "BvHEIS6qfm0YBG+xZmqzg46qzZ+z200LTh+H69UBqkW1sFbxNmd8oxrWTLukn+nXAvtZ53Kdh/6n9q7Qk7mMy9Fkkgk=" },
};

/* ---- helpers ------------------------------------------------------------ */

static void
tn_hex(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;

    assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got,
                                    NULL), 0);
    assert_int_equal(got, n);
}

static void
tn_vkey(const char *vkey, struct note_verifier *v)
{
    assert_int_equal(note_vkey_parse(vkey, strlen(vkey), v), NOTE_OK);
}

/* malloc'd concatenation of NULL-terminated string arguments. */
static char *
tn_cat(const char *first, ...)
{
    va_list ap;
    size_t n = 0;
    char *s;

    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *))
        n += strlen(p);
    va_end(ap);
    s = malloc(n + 1);
    assert_non_null(s);
    s[0] = '\0';
    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *))
        strcat(s, p);
    va_end(ap);
    return s;
}

static struct note_opened tn_out;
static struct note_sigresult tn_res[4];

static int
tn_open(const char *msg, const struct note_verifier *vs, size_t nvs)
{
    assert_true(nvs <= 4);
    return note_open(msg, strlen(msg), vs, nvs, nvs ? tn_res : NULL, &tn_out);
}

/* Every single-bit flip of every byte of msg must make note_open fail. */
static void
tn_flip_all(const char *msg, const struct note_verifier *v)
{
    size_t len = strlen(msg);
    char *m = malloc(len + 1);
    struct note_sigresult r;
    struct note_opened o;

    assert_non_null(m);
    memcpy(m, msg, len + 1);
    assert_int_equal(note_open(m, len, v, 1, &r, &o), NOTE_OK);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            m[i] ^= (char)(1 << bit);
            assert_int_not_equal(note_open(m, len, v, 1, &r, &o), NOTE_OK);
            m[i] ^= (char)(1 << bit);
        }
    }
    free(m);
}

static void tn_log_signer(struct note_signer *s);

/* ---- keys --------------------------------------------------------------- */

static void
test_go_keys(void **state)
{
    struct note_signer s;
    struct note_verifier v;
    uint8_t pk[32], seed[32];
    char buf[NOTE_SKEY_MAX + 1];
    size_t n;

    assert_int_equal(note_skey_parse(go_skey, strlen(go_skey), &s), NOTE_OK);
    tn_hex(go_pk_hex, pk, 32);
    assert_memory_equal(s.pub.pk, pk, 32);
    assert_int_equal(s.pub.key_id, 0xc74f20a3u);
    assert_string_equal(s.pub.name, "PeterNeumann");
    assert_int_equal(s.pub.type, NOTE_SIGTYPE_ED25519);
    assert_int_equal(note_vkey_format(&s.pub, buf, sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, go_vkey);
    assert_int_equal(n, strlen(go_vkey));
    assert_int_equal(note_skey_format(&s, buf, sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, go_skey);
    assert_int_equal(note_skey_format(&s, buf, n, &n), NOTE_ERR_BUFFER);
    sodium_memzero(buf, sizeof(buf));
    note_signer_clear(&s);
    assert_int_equal(s.sk[0] | s.sk[63] | s.pub.pk[0], 0);

    tn_hex(go_seed_hex, seed, 32);
    assert_int_equal(note_signer_init(&s, "PeterNeumann", 12,
                                      NOTE_SIGTYPE_ED25519, seed), NOTE_OK);
    assert_int_equal(s.pub.key_id, 0xc74f20a3u);
    note_signer_clear(&s);

    tn_vkey(go_vkey, &v);
    assert_memory_equal(v.pk, pk, 32);
    assert_int_equal(v.key_id, 0xc74f20a3u);
    assert_int_equal(note_key_id("PeterNeumann", 12, 1, pk), 0xc74f20a3u);
    tn_vkey(enoch_vkey, &v);
    assert_int_equal(v.key_id, 0xaf0cfe78u);
}

/* Go TestNewVerifier: every proper substring and every single-byte
 * increment of the vkey is refused; plus the two adjusted-hash keys. */
static void
test_go_vkey_mangled(void **state)
{
    static const char wrong_len[] =
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
    static const char unknown_alg[] =
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    struct note_verifier v;
    char b[sizeof(go_vkey)];
    size_t len = strlen(go_vkey);

    memcpy(b, go_vkey, sizeof(b));
    for (size_t i = 0; i <= len; i++)
        for (size_t j = i + 1; j <= len; j++)
            if (i != 0 || j != len)
                assert_int_not_equal(note_vkey_parse(b + i, j - i, &v), NOTE_OK);
    for (size_t i = 0; i < len; i++) {
        b[i]++;
        assert_int_not_equal(note_vkey_parse(b, len, &v), NOTE_OK);
        b[i]--;
    }
    assert_int_equal(note_vkey_parse(wrong_len, strlen(wrong_len), &v),
                     NOTE_ERR_KEY);
    assert_int_equal(note_vkey_parse(unknown_alg, strlen(unknown_alg), &v),
                     NOTE_ERR_KEY_ALG);
    /* Wrong key hash: a valid ID syntax that does not match. */
    memcpy(b, go_vkey, sizeof(b));
    b[13] = 'd';
    assert_int_equal(note_vkey_parse(b, len, &v), NOTE_ERR_KEY_HASH);
    /* The ID is exactly 8 digits: "06f1c421" may not lose its zero. */
    assert_int_equal(note_vkey_parse(LOG_NAME "+6f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1",
                                     strlen(log_vkey) - 1, &v), NOTE_ERR_KEY);
    assert_int_equal(note_vkey_parse(LOG_NAME "+006f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1",
                                     strlen(log_vkey) + 1, &v), NOTE_ERR_KEY);
    /* Upper-case hex is refused (C2SP: lowercase), Go would take it. */
    memcpy(b + 13, "C74F20A3", 8);
    assert_int_equal(note_vkey_parse(b, len, &v), NOTE_ERR_KEY);
    /* Not canonical base64 (non-zero padding bits). */
    assert_int_equal(note_vkey_parse("a+00000000+AB==", 15, &v), NOTE_ERR_KEY);
}

static void
test_go_skey_mangled(void **state)
{
    struct note_signer s;
    char b[sizeof(go_skey)];
    size_t len = strlen(go_skey);

    memcpy(b, go_skey, sizeof(b));
    for (size_t i = 0; i <= len; i++)
        for (size_t j = i + 1; j <= len; j++)
            if (i != 0 || j != len)
                assert_int_not_equal(note_skey_parse(b + i, j - i, &s), NOTE_OK);
    for (size_t i = 0; i < len; i++) {
        b[i]++;
        assert_int_not_equal(note_skey_parse(b, len, &s), NOTE_OK);
        b[i]--;
    }
    b[27] = 'd';                                  /* ID c74f20a3 -> ... */
    assert_int_equal(note_skey_parse(b, len, &s), NOTE_ERR_KEY_HASH);
    /* a failed parse leaves nothing secret behind */
    for (size_t i = 0; i < sizeof(s.sk); i++)
        assert_int_equal(s.sk[i], 0);
}

static void
test_name_valid(void **state)
{
    static const char *bad[] = {
        "", "a b", "a+b", "a\tb", "a\nb", "a\x01" "b", "a\xc2\xa0" "b",
        "a\xe2\x80\x80" "b", "a\xe3\x80\x80" "b", "a\xe2\x80\xa8" "b",
        "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80",
    };
    static const char *good[] = {
        "a", LOG_NAME, "\xc3\xa9t\xc3\xa9", "a\x7f", "x\xf0\x9f\x98\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(note_name_valid(bad[i], strlen(bad[i])));
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(note_name_valid(good[i], strlen(good[i])));
}

/* ---- Go signed-note vectors --------------------------------------------- */

static void
test_go_sign(void **state)
{
    struct note_signer s;
    const struct note_signer *sp = &s;
    char buf[512], *want;
    size_t n;

    assert_int_equal(note_skey_parse(go_skey, strlen(go_skey), &s), NOTE_OK);
    assert_int_equal(note_sign_line(&s, go_text, strlen(go_text), buf,
                                    sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, peter_sig);
    assert_int_equal(n, strlen(peter_sig));
    want = tn_cat(go_text, "\n", peter_sig, NULL);
    assert_int_equal(note_sign(go_text, strlen(go_text), &sp, 1, buf,
                               sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    assert_int_equal(note_sign(go_text, strlen(go_text), &sp, 1, buf, n, &n),
                     NOTE_ERR_BUFFER);
    free(want);
    /* Go: Sign(&Note{Text: "abc"}) is a malformed note. */
    assert_int_equal(note_sign("abc", 3, &sp, 1, buf, sizeof(buf), &n),
                     NOTE_ERR_MALFORMED);
    assert_int_equal(note_sign("a\rb\n", 4, &sp, 1, buf, sizeof(buf), &n),
                     NOTE_ERR_MALFORMED);
    assert_int_equal(note_sign(go_text, strlen(go_text), &sp, 0, buf,
                               sizeof(buf), &n), NOTE_ERR_INVAL);
    note_signer_clear(&s);
}

static void
test_go_open(void **state)
{
    struct note_verifier vs[3];
    char *both = tn_cat(go_text, "\n", peter_sig, enoch_sig, NULL);

    tn_vkey(go_vkey, &vs[0]);
    tn_vkey(enoch_vkey, &vs[1]);
    /* one verified, the other unknown */
    assert_int_equal(tn_open(both, vs, 1), NOTE_OK);
    assert_int_equal(tn_out.text_len, strlen(go_text));
    assert_memory_equal(tn_out.text, go_text, strlen(go_text));
    assert_true(tn_out.text == both);
    assert_int_equal(tn_out.nsigs, 2);
    assert_int_equal(tn_out.nverified, 1);
    assert_int_equal(tn_out.nunknown, 1);
    assert_int_equal(tn_res[0].verified, 1);
    /* both verified */
    assert_int_equal(tn_open(both, vs, 2), NOTE_OK);
    assert_int_equal(tn_out.nverified, 2);
    assert_int_equal(tn_out.nunknown, 0);
    assert_true(tn_res[0].verified && tn_res[1].verified);
    /* only Enoch known */
    assert_int_equal(tn_open(both, vs + 1, 1), NOTE_OK);
    assert_int_equal(tn_out.nunknown, 1);
    /* none known: unverified, but the note is still reported */
    assert_int_equal(tn_open(both, NULL, 0), NOTE_ERR_UNVERIFIED);
    assert_int_equal(tn_out.nsigs, 2);
    assert_int_equal(tn_out.nunknown, 2);
    assert_int_equal(tn_out.text_len, strlen(go_text));
    /* a hand-made verifier must still be a usable key */
    vs[2] = vs[0];
    vs[2].type = 0x02;
    assert_int_equal(tn_open(both, vs, 3), NOTE_ERR_INVAL);
    vs[2] = vs[0];
    vs[2].name_len = NOTE_NAME_MAX + 1;
    assert_int_equal(tn_open(both, vs, 3), NOTE_ERR_INVAL);
    assert_int_equal(note_open(both, strlen(both), vs, 1, NULL, &tn_out),
                     NOTE_ERR_INVAL);
    free(both);
}

static void
test_go_ambiguous(void **state)
{
    struct note_verifier vs[3];
    char *enoch = tn_cat(go_text, "\n", enoch_sig, NULL);
    char *peter = tn_cat(go_text, "\n", peter_sig, NULL);

    tn_vkey(enoch_vkey, &vs[0]);
    tn_vkey(go_vkey, &vs[1]);
    tn_vkey(enoch_vkey, &vs[2]);
    assert_int_equal(tn_open(enoch, vs, 3), NOTE_ERR_AMBIGUOUS);
    assert_int_equal(tn_open(peter, vs, 3), NOTE_OK);   /* unused duplicate */
    assert_int_equal(tn_res[1].verified, 1);
    free(enoch);
    free(peter);
}

static char *
tn_repeat_sigs(const char *sig, size_t count)
{
    size_t tl = strlen(go_text), sl = strlen(sig);
    char *m = malloc(tl + 1 + sl * count + 1), *p;

    assert_non_null(m);
    memcpy(m, go_text, tl);
    m[tl] = '\n';
    p = m + tl + 1;
    for (size_t i = 0; i < count; i++, p += sl)
        memcpy(p, sig, sl);
    *p = '\0';
    return m;
}

static void
test_go_too_many(void **state)
{
    struct note_verifier v;
    char *m;

    tn_vkey(go_vkey, &v);
    m = tn_repeat_sigs(peter_sig, 101);
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_MALFORMED);
    assert_int_equal(tn_open(m, NULL, 0), NOTE_ERR_MALFORMED);
    free(m);
    m = tn_repeat_sigs(peter_sig, 100);          /* the limit itself */
    assert_int_equal(tn_open(m, &v, 1), NOTE_OK);
    assert_int_equal(tn_out.nsigs, 100);
    assert_int_equal(tn_out.nverified, 1);
    free(m);
    m = tn_repeat_sigs(enoch_sig, 16);           /* C2SP minimum, unknown */
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_UNVERIFIED);
    assert_int_equal(tn_out.nunknown, 16);
    free(m);
}

/* sig with "ABCD" inserted into its base64 at byte offset 60. */
static char *
tn_abcd(const char *sig)
{
    size_t l = strlen(sig);
    char *s = malloc(l + 5);

    assert_non_null(s);
    memcpy(s, sig, 60);
    memcpy(s + 60, "ABCD", 4);
    memcpy(s + 64, sig + 60, l - 60 + 1);
    return s;
}

static void
test_go_invalid_sig(void **state)
{
    struct note_verifier v;
    char *pa = tn_abcd(peter_sig), *ea = tn_abcd(enoch_sig);
    char *m = tn_cat(go_text, "\n", pa, NULL);
    char *dup = tn_cat(go_text, "\n", peter_sig, peter_sig, enoch_sig,
                       enoch_sig, ea, NULL);
    char *late = tn_cat(go_text, "\n", peter_sig, pa, NULL);

    tn_vkey(go_vkey, &v);
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_BAD_SIG);
    /* Go: duplicated verified and unverified signatures are fine */
    assert_int_equal(tn_open(dup, &v, 1), NOTE_OK);
    assert_int_equal(tn_out.nverified, 1);
    assert_int_equal(tn_out.nunknown, 3);
    /* Stricter than Go: a later bad line of a known key still fails. */
    assert_int_equal(tn_open(late, &v, 1), NOTE_ERR_BAD_SIG);
    free(pa); free(ea); free(m); free(dup); free(late);
}

static void
test_go_bad_msgs(void **state)
{
    struct note_verifier v;
    size_t pl = strlen(peter_sig);
    char *chopped = tn_cat(peter_sig, NULL);
    char *bad[8];

    chopped[pl - 1] = '\0';
    bad[0] = tn_cat(go_text, NULL);
    bad[1] = tn_cat(go_text, "\n", NULL);
    bad[2] = tn_cat(go_text, "\n", chopped, NULL);
    bad[3] = tn_cat("\x01", go_text, "\n", peter_sig, NULL);
    bad[4] = tn_cat("\xff", go_text, "\n", peter_sig, NULL);
    bad[5] = tn_cat(go_text, "\n", DASH " Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", NULL);
    bad[6] = tn_cat(go_text, "\n", peter_sig, "Unexpected line.\n", NULL);
    bad[7] = tn_cat(go_text, "\r\n", peter_sig, NULL);
    tn_vkey(go_vkey, &v);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(tn_open(bad[i], &v, 1), NOTE_ERR_MALFORMED);
        free(bad[i]);
    }
    free(chopped);
}

/* Signature lines that are malformed in ways Go also refuses. */
static void
test_siglines_malformed(void **state)
{
    static const char *lines[] = {
        DASH " PeterNeumann\n",                      /* no base64 */
        DASH " PeterNeumann \n",                     /* empty base64 */
        DASH " PeterNeumann AAAAAA==\n",             /* 4 bytes < 5 */
        DASH "PeterNeumann AAAAAAA=\n",              /* no space after dash */
        "- PeterNeumann AAAAAAA=\n",                 /* ASCII dash */
        DASH " Peter+Neumann AAAAAAA=\n",            /* '+' in name */
        DASH "  AAAAAAA=\n",                         /* empty name */
        DASH " PeterNeumann AAAAAAA=  \n",           /* trailing spaces */
        DASH " PeterNeumann AAAAAAB=\n",             /* non-canonical */
        DASH " PeterNeumann AAAA=AAA\n",             /* padding inside */
        DASH " PeterNeumann AAAAAAA\n",              /* unpadded */
    };
    struct note_verifier v;

    tn_vkey(go_vkey, &v);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char *m = tn_cat(go_text, "\n", peter_sig, lines[i], NULL);
        assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_MALFORMED);
        free(m);
    }
}

/* A long unknown-key signature (e.g. ML-DSA, 2420+ bytes) is checked in
 * chunks and ignored; bad padding inside it is still malformed. */
static void
test_long_unknown_sig(void **state)
{
    struct note_verifier v;
    size_t rawlen = 4000, b64len = sodium_base64_ENCODED_LEN(rawlen,
                                      sodium_base64_VARIANT_ORIGINAL);
    uint8_t *raw = calloc(1, rawlen);
    char *b64 = malloc(b64len), *line, *m;

    assert_non_null(raw);
    assert_non_null(b64);
    raw[0] = 0x12;
    sodium_bin2base64(b64, b64len, raw, rawlen, sodium_base64_VARIANT_ORIGINAL);
    line = tn_cat(DASH " mldsa.example/w ", b64, "\n", NULL);
    m = tn_cat(go_text, "\n", peter_sig, line, NULL);
    tn_vkey(go_vkey, &v);
    assert_int_equal(tn_open(m, &v, 1), NOTE_OK);
    assert_int_equal(tn_out.nunknown, 1);
    free(m);
    memcpy(b64 + 1024 - 2, "==", 2);         /* pad at a chunk end */
    free(line);
    line = tn_cat(DASH " mldsa.example/w ", b64, "\n", NULL);
    m = tn_cat(go_text, "\n", peter_sig, line, NULL);
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_MALFORMED);
    free(m); free(line); free(b64); free(raw);
}

/* libsodium 1.0.18's sodium_base642bin reads any byte >= 0x80 as '/':
 * a valid signature with "//" in its base64 stayed valid with a two-byte
 * UTF-8 character in their place.  Regression test for the alphabet check
 * (found by fuzzing). */
static void
test_b64_high_bytes(void **state)
{
    static const char vk[] =
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq\xc5LDE4izWy10TW";
    static const char cp[] = "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3\xbf=\n";
    struct note_signer s;
    struct note_verifier v;
    struct note_checkpoint c;
    char text[32], note[256], *p = NULL;
    const struct note_signer *sp = &s;
    size_t n;

    assert_int_equal(note_vkey_parse(vk, strlen(vk), &v), NOTE_ERR_KEY);
    assert_int_equal(note_checkpoint_parse(cp, strlen(cp), &c),
                     NOTE_ERR_CHECKPOINT);
    tn_log_signer(&s);
    for (int i = 0; p == NULL; i++) {
        assert_true(i < 10000);
        snprintf(text, sizeof(text), "t%d\n", i);
        assert_int_equal(note_sign(text, strlen(text), &sp, 1, note,
                                   sizeof(note), &n), NOTE_OK);
        p = strstr(note + strlen(text) + 1 + strlen(DASH " " LOG_NAME " "), "//");
    }
    assert_int_equal(tn_open(note, &s.pub, 1), NOTE_OK);
    memcpy(p, "\xc3\xbf", 2);
    assert_int_equal(tn_open(note, &s.pub, 1), NOTE_ERR_MALFORMED);
    note_signer_clear(&s);
}

static void
test_too_large(void **state)
{
    struct note_verifier v;
    size_t len = NOTE_MSG_MAX + 1;
    char *m = malloc(len);

    assert_non_null(m);
    memset(m, 'a', len);
    tn_vkey(go_vkey, &v);
    assert_int_equal(note_open(m, len, &v, 1, tn_res, &tn_out),
                     NOTE_ERR_TOO_LARGE);
    assert_int_equal(note_text_check(m, len), NOTE_ERR_TOO_LARGE);
    assert_int_equal(note_checkpoint_parse(m, len, &(struct note_checkpoint){0}),
                     NOTE_ERR_TOO_LARGE);
    free(m);
}

/* libsodium-strict Ed25519 (docs/RELIABILITY.md §4.1 item 8): a small-order public
 * key with the all-identity signature, which Go's ed25519.Verify accepts,
 * is refused. */
static void
test_small_order_key(void **state)
{
    struct note_verifier v = { .name = "weak.example", .name_len = 12,
                               .type = NOTE_SIGTYPE_ED25519 };
    uint8_t payload[68] = { 0 };
    char b64[93], *m;

    v.pk[0] = 1;                                 /* identity point */
    v.key_id = note_key_id(v.name, v.name_len, 1, v.pk);
    payload[0] = (uint8_t)(v.key_id >> 24);
    payload[1] = (uint8_t)(v.key_id >> 16);
    payload[2] = (uint8_t)(v.key_id >> 8);
    payload[3] = (uint8_t)v.key_id;
    payload[4] = 1;                              /* R = identity, S = 0 */
    sodium_bin2base64(b64, sizeof(b64), payload, sizeof(payload),
                      sodium_base64_VARIANT_ORIGINAL);
    m = tn_cat("hello\n\n" DASH " weak.example ", b64, "\n", NULL);
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_BAD_SIG);
    free(m);
}

/* ---- C2SP example and sum.golang.org ------------------------------------ */

static void
test_c2sp_example(void **state)
{
    struct note_verifier v;

    tn_vkey(c2sp_vkey, &v);
    assert_int_equal(tn_open(c2sp_note, &v, 1), NOTE_OK);
    assert_int_equal(tn_out.text_len, strlen("This is an example message.\n"));
    tn_flip_all(c2sp_note, &v);
}

static void
test_sumdb_checkpoint(void **state)
{
    struct note_verifier v;
    struct note_checkpoint cp;
    uint8_t root[32];

    tn_vkey(sumdb_vkey, &v);
    assert_int_equal(tn_open(sumdb_note, &v, 1), NOTE_OK);
    assert_int_equal(note_checkpoint_parse(tn_out.text, tn_out.text_len, &cp),
                     NOTE_OK);
    assert_int_equal(cp.origin_len, 20);
    assert_memory_equal(cp.origin, "go.sum database tree", 20);
    assert_int_equal(cp.size, 65664258u);
    assert_int_equal(cp.ext_lines, 0);
    assert_null(cp.ext);
    assert_int_equal(sodium_base642bin(root, 32,
        "WVVNVD2qx+fTq31zkj6UAqxT5X6HvGphGM+o8Thnbsg=", 44, NULL, NULL, NULL,
        sodium_base64_VARIANT_ORIGINAL), 0);
    assert_memory_equal(cp.root, root, 32);
    tn_flip_all(sumdb_note, &v);
}

/* ---- hitlq vectors (docs/RELIABILITY.md §4.2) --------------------------- */

static void
test_hitlq_keys(void **state)
{
    struct note_signer s;
    struct note_verifier v;
    uint8_t seed[32], pk[32];
    char buf[NOTE_SKEY_MAX + 1];
    size_t n;

    tn_hex(log_seed_hex, seed, 32);
    assert_int_equal(note_signer_init(&s, LOG_NAME, strlen(LOG_NAME),
                                      NOTE_SIGTYPE_ED25519, seed), NOTE_OK);
    tn_hex(log_pk_hex, pk, 32);
    assert_memory_equal(s.pub.pk, pk, 32);
    assert_int_equal(s.pub.key_id, 0x06f1c421u);
    assert_int_equal(note_vkey_format(&s.pub, buf, sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, log_vkey);
    assert_int_equal(note_skey_format(&s, buf, sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, log_skey);
    sodium_memzero(buf, sizeof(buf));
    note_signer_clear(&s);
    assert_int_equal(note_skey_parse(log_skey, strlen(log_skey), &s), NOTE_OK);
    assert_memory_equal(s.pub.pk, pk, 32);
    note_signer_clear(&s);
    tn_vkey(log_vkey, &v);
    assert_memory_equal(v.pk, pk, 32);

    tn_hex(wit_seed_hex, seed, 32);
    assert_int_equal(note_signer_init(&s, WIT_NAME, strlen(WIT_NAME),
                                      NOTE_SIGTYPE_COSIG, seed), NOTE_OK);
    tn_hex(wit_pk_hex, pk, 32);
    assert_memory_equal(s.pub.pk, pk, 32);
    assert_int_equal(s.pub.key_id, 0xda777e40u);
    assert_int_equal(note_vkey_format(&s.pub, buf, sizeof(buf), &n), NOTE_OK);
    assert_string_equal(buf, wit_vkey);
    note_signer_clear(&s);
    tn_vkey(wit_vkey, &v);
    assert_int_equal(v.type, NOTE_SIGTYPE_COSIG);
    sodium_memzero(seed, sizeof(seed));
    /* bad signer arguments */
    assert_int_equal(note_signer_init(&s, "a b", 3, 1, seed), NOTE_ERR_INVAL);
    assert_int_equal(note_signer_init(&s, "a", 1, 2, seed), NOTE_ERR_INVAL);
}

static void
tn_log_signer(struct note_signer *s)
{
    uint8_t seed[32];

    tn_hex(log_seed_hex, seed, 32);
    assert_int_equal(note_signer_init(s, LOG_NAME, strlen(LOG_NAME),
                                      NOTE_SIGTYPE_ED25519, seed), NOTE_OK);
    sodium_memzero(seed, sizeof(seed));
}

static void
test_hitlq_checkpoints(void **state)
{
    struct note_signer s;
    const struct note_signer *sp = &s;
    struct note_verifier v;
    uint8_t root[32], body[128];
    char cp[NOTE_CHECKPOINT_MAX(sizeof(LOG_NAME)) + 1], note[512], *want;
    size_t n, nn;

    tn_log_signer(&s);
    tn_vkey(log_vkey, &v);
    tn_hex(cp8_root_hex, root, 32);
    tn_hex(cp8_hex, body, strlen(cp8_hex) / 2);
    assert_int_equal(note_checkpoint_format(LOG_NAME, strlen(LOG_NAME), 8,
                                            root, cp, sizeof(cp), &n), NOTE_OK);
    assert_int_equal(n, strlen(cp8_hex) / 2);
    assert_memory_equal(cp, body, n);
    assert_int_equal(note_sign(cp, n, &sp, 1, note, sizeof(note), &nn),
                     NOTE_OK);
    want = tn_cat(cp, "\n", cp8_log_line, NULL);
    assert_string_equal(note, want);
    free(want);
    assert_int_equal(tn_open(note, &v, 1), NOTE_OK);

    for (size_t i = 0; i < sizeof(log_cps) / sizeof(log_cps[0]); i++) {
        tn_hex(log_cps[i].root_hex, root, 32);
        assert_int_equal(note_checkpoint_format(LOG_NAME, strlen(LOG_NAME),
                             log_cps[i].size, root, cp, sizeof(cp), &n), NOTE_OK);
        assert_int_equal(note_sign_line(&s, cp, n, note, sizeof(note), &nn),
                         NOTE_OK);
        want = tn_cat(DASH " " LOG_NAME " ", log_cps[i].sig_b64, "\n", NULL);
        assert_string_equal(note, want);
        free(want);
    }
    note_signer_clear(&s);
}

/* base64(id || u64be t || sig) signed directly with libsodium, bypassing
 * note_cosign_line's own checks. */
static void
tn_cosig_raw(const struct note_signer *w, uint64_t t, const char *cp,
             char b64[105])
{
    uint8_t payload[76];
    char *msg, dec[24];

    snprintf(dec, sizeof(dec), "%llu", (unsigned long long)t);
    msg = tn_cat("cosignature/v1\ntime ", dec, "\n", cp, NULL);
    for (int i = 0; i < 4; i++)
        payload[i] = (uint8_t)(w->pub.key_id >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        payload[4 + i] = (uint8_t)(t >> (56 - 8 * i));
    assert_int_equal(crypto_sign_detached(payload + 12, NULL, (uint8_t *)msg,
                                          strlen(msg), w->sk), 0);
    sodium_bin2base64(b64, 105, payload, 76, sodium_base64_VARIANT_ORIGINAL);
    free(msg);
}

static void
tn_wit_signer(struct note_signer *w)
{
    uint8_t seed[32];

    tn_hex(wit_seed_hex, seed, 32);
    assert_int_equal(note_signer_init(w, WIT_NAME, strlen(WIT_NAME),
                                      NOTE_SIGTYPE_COSIG, seed), NOTE_OK);
    sodium_memzero(seed, sizeof(seed));
}

/* The §4.2 size-8 checkpoint body into cp (>= 128 bytes); its length. */
static size_t
tn_cp8(char *cp)
{
    uint8_t root[32];
    size_t n;

    tn_hex(cp8_root_hex, root, 32);
    assert_int_equal(note_checkpoint_format(LOG_NAME, strlen(LOG_NAME), 8,
                                            root, cp, 128, &n), NOTE_OK);
    return n;
}

/* Decodes the base64 of signature line `line` by `name` into raw. */
static void
tn_line_payload(const char *line, const char *name, uint8_t *raw, size_t rawlen)
{
    size_t skip = strlen(DASH " ") + strlen(name) + 1, n;

    assert_int_equal(sodium_base642bin(raw, rawlen, line + skip,
        strlen(line + skip) - 1, NULL, &n, NULL,
        sodium_base64_VARIANT_ORIGINAL), 0);
}

/* cp || "\n" || [log line] || "— name base64(raw[0..n))\n", malloc'd. */
static char *
tn_note_with(const char *cp, const char *log_line, const char *name,
             const uint8_t *raw, size_t n)
{
    char b64[160];

    sodium_bin2base64(b64, sizeof(b64), raw, n, sodium_base64_VARIANT_ORIGINAL);
    return tn_cat(cp, "\n", log_line, DASH " ", name, " ", b64, "\n", NULL);
}

/* The §4.2 cosigned checkpoint: the witness line is reproduced byte for
 * byte and the note verifies with both keys. */
static void
test_hitlq_cosignature(void **state)
{
    struct note_signer w;
    struct note_verifier vs[2];
    char cp[128], line[256], *m;
    size_t n, ln;

    tn_wit_signer(&w);
    n = tn_cp8(cp);
    assert_int_equal(note_cosign_line(&w, CP8_TIME, cp, n, line, sizeof(line),
                                      &ln), NOTE_OK);
    assert_string_equal(line, cp8_wit_line);
    assert_int_equal(ln, strlen(cp8_wit_line));
    assert_int_equal(note_cosign_line(&w, CP8_TIME, cp, n, line, ln, &ln),
                     NOTE_ERR_BUFFER);

    tn_vkey(log_vkey, &vs[0]);
    tn_vkey(wit_vkey, &vs[1]);
    m = tn_cat(cp, "\n", cp8_log_line, cp8_wit_line, NULL);
    assert_int_equal(tn_open(m, vs, 2), NOTE_OK);
    assert_int_equal(tn_out.nverified, 2);
    assert_true(tn_res[0].verified && tn_res[1].verified);
    assert_int_equal(tn_res[1].timestamp, CP8_TIME);
    assert_int_equal(tn_res[0].timestamp, 0);
    free(m);
    m = tn_cat(cp, "\n", cp8_wit_line, NULL);      /* cosignature only */
    assert_int_equal(tn_open(m, vs + 1, 1), NOTE_OK);
    free(m);
    /* signer errors */
    assert_int_equal(note_cosign_line(&w, (uint64_t)INT64_MAX + 1, cp, n, line,
                                      sizeof(line), &ln), NOTE_ERR_INVAL);
    assert_int_equal(note_cosign_line(&w, 1, "not a checkpoint\n", 17, line,
                                      sizeof(line), &ln), NOTE_ERR_CHECKPOINT);
    assert_int_equal(note_sign_line(&w, cp, n, line, sizeof(line), &ln),
                     NOTE_ERR_INVAL);
    note_signer_clear(&w);
}

/* Tampering with the §4.2 cosignature: time, key ID, body, length. */
static void
test_cosig_tamper(void **state)
{
    struct note_verifier vs[2];
    uint8_t raw[80] = { 0 };
    char cp[128], *m;

    tn_cp8(cp);
    tn_vkey(log_vkey, &vs[0]);
    tn_vkey(wit_vkey, &vs[1]);
    tn_line_payload(cp8_wit_line, WIT_NAME, raw, sizeof(raw));
    raw[11]++;                              /* time + 1, same signature */
    m = tn_note_with(cp, cp8_log_line, WIT_NAME, raw, 76);
    assert_int_equal(tn_open(m, vs, 2), NOTE_ERR_BAD_SIG);
    free(m);
    raw[11]--;
    m = tn_note_with(cp, cp8_log_line, WIT_NAME, raw, 79);   /* + 3 bytes */
    assert_int_equal(tn_open(m, vs, 2), NOTE_ERR_BAD_SIG);
    free(m);
    m = tn_note_with(cp, cp8_log_line, WIT_NAME, raw, 75);   /* - 1 byte */
    assert_int_equal(tn_open(m, vs, 2), NOTE_ERR_BAD_SIG);
    free(m);
    raw[3] ^= 1;                            /* other key ID: unknown key */
    m = tn_note_with(cp, cp8_log_line, WIT_NAME, raw, 76);
    assert_int_equal(tn_open(m, vs, 2), NOTE_OK);
    assert_int_equal(tn_out.nunknown, 1);
    assert_false(tn_res[1].verified);
    assert_int_equal(tn_open(m, vs + 1, 1), NOTE_ERR_UNVERIFIED);
    free(m);
    tn_line_payload(cp8_log_line, LOG_NAME, raw, sizeof(raw));
    m = tn_note_with(cp, "", LOG_NAME, raw, 71);   /* Ed25519 + 3 bytes */
    assert_int_equal(tn_open(m, vs, 1), NOTE_ERR_BAD_SIG);
    free(m);
    cp[strlen(LOG_NAME) + 1] = '9';         /* body: size 9 */
    m = tn_cat(cp, "\n", cp8_wit_line, NULL);
    assert_int_equal(tn_open(m, vs + 1, 1), NOTE_ERR_BAD_SIG);
    free(m);
    m = tn_cat(cp, "\n", cp8_log_line, NULL);
    assert_int_equal(tn_open(m, vs, 1), NOTE_ERR_BAD_SIG);
    free(m);
}

/* Genuinely signed cosignatures at and above the 2^63-1 time limit. */
static void
test_cosig_time_limit(void **state)
{
    struct note_signer w;
    struct note_verifier v;
    char cp[128], b64[105], *m;

    tn_wit_signer(&w);
    tn_cp8(cp);
    tn_vkey(wit_vkey, &v);
    tn_cosig_raw(&w, (uint64_t)INT64_MAX + 1, cp, b64);
    m = tn_cat(cp, "\n", DASH " " WIT_NAME " ", b64, "\n", NULL);
    assert_int_equal(tn_open(m, &v, 1), NOTE_ERR_BAD_SIG);
    free(m);
    tn_cosig_raw(&w, INT64_MAX, cp, b64);
    m = tn_cat(cp, "\n", DASH " " WIT_NAME " ", b64, "\n", NULL);
    assert_int_equal(tn_open(m, &v, 1), NOTE_OK);
    assert_int_equal(tn_res[0].timestamp, (uint64_t)INT64_MAX);
    free(m);
    note_signer_clear(&w);
}

/* Cosign-then-verify round trip at the time limits. */
static void
test_cosign_roundtrip(void **state)
{
    static const uint64_t times[] = { 0, 1, 9, 10, CP8_TIME, INT64_MAX };
    struct note_signer w;
    struct note_verifier v;
    uint8_t seed[32] = { 7 }, root[32] = { 1 };
    char cp[128], line[256], *m;
    size_t n, ln;

    assert_int_equal(note_signer_init(&w, "w.example/x", 11,
                                      NOTE_SIGTYPE_COSIG, seed), NOTE_OK);
    v = w.pub;
    assert_int_equal(note_checkpoint_format("log.example/y", 13, 12345, root,
                                            cp, sizeof(cp), &n), NOTE_OK);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        assert_int_equal(note_cosign_line(&w, times[i], cp, n, line,
                                          sizeof(line), &ln), NOTE_OK);
        m = tn_cat(cp, "\n", line, NULL);
        assert_int_equal(tn_open(m, &v, 1), NOTE_OK);
        assert_int_equal(tn_res[0].timestamp, times[i]);
        free(m);
    }
    note_signer_clear(&w);
}

/* ---- checkpoints -------------------------------------------------------- */

static void
test_checkpoint_roundtrip(void **state)
{
    static const uint64_t sizes[] = { 0, 1, 9, 10, 65664258, UINT64_MAX };
    static const char ext[] = "o.example/l\n5\n"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nx ext 1\n\xc3\xa9\n";
    struct note_checkpoint c;
    uint8_t root[32];
    char buf[NOTE_CHECKPOINT_MAX(11) + 1];
    size_t n;

    for (size_t i = 0; i < 32; i++)
        root[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(note_checkpoint_format("o.example/l", 11, sizes[i],
                                                root, buf, sizeof(buf), &n),
                         NOTE_OK);
        assert_int_equal(strlen(buf), n);
        assert_int_equal(note_checkpoint_parse(buf, n, &c), NOTE_OK);
        assert_int_equal(c.size, sizes[i]);
        assert_int_equal(c.origin_len, 11);
        assert_true(c.origin == buf);
        assert_memory_equal(c.root, root, 32);
        assert_int_equal(c.ext_lines, 0);
    }
    assert_string_equal(buf, "o.example/l\n18446744073709551615\n"
                             "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dw=\n");
    assert_int_equal(note_checkpoint_format("o.example/l", 11, 1, root, buf,
                                            n - 19, &n), NOTE_ERR_BUFFER);
    assert_int_equal(note_checkpoint_format("o example", 9, 1, root, buf,
                                            sizeof(buf), &n), NOTE_ERR_INVAL);
    assert_int_equal(note_checkpoint_format("", 0, 1, root, buf,
                                            sizeof(buf), &n), NOTE_ERR_INVAL);
    /* extension lines are accepted and reported */
    assert_int_equal(note_checkpoint_parse(ext, strlen(ext), &c), NOTE_OK);
    assert_int_equal(c.ext_lines, 2);
    assert_int_equal(c.ext_len, strlen("x ext 1\n\xc3\xa9\n"));
    assert_memory_equal(c.ext, "x ext 1\n", 8);
}

static void
test_checkpoint_negatives(void **state)
{
#define R44 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    static const char *bad[] = {
        "o\n05\n" R44 "\n",                           /* leading zero */
        "o\n00\n" R44 "\n",
        "o\n+5\n" R44 "\n",
        "o\n-1\n" R44 "\n",
        "o\n 5\n" R44 "\n",
        "o\n5 \n" R44 "\n",
        "o\n\n" R44 "\n",                             /* empty size */
        "o\n0x5\n" R44 "\n",
        "o\n18446744073709551616\n" R44 "\n",         /* 2^64 */
        "o\n99999999999999999999\n" R44 "\n",
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",   /* 31 bytes */
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",   /* 33 bytes */
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", /* 35 */
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",   /* bits */
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=\n",   /* url-safe */
        "o\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",    /* unpadded */
        "o\n5\n" R44,                                 /* missing newline */
        "o\n5\n" R44 "\r\n",                          /* CRLF */
        "o\r\n5\n" R44 "\n",
        "o\x01\n5\n" R44 "\n",                        /* control char */
        "o\n5\n" R44 "\n\tx\n",
        "\xff\n5\n" R44 "\n",                         /* bad UTF-8 */
        "\n5\n" R44 "\n",                             /* empty origin */
        "o\n5\n" R44 "\n\n",                          /* empty ext line */
        "o\n5\n" R44 "\nx\n\ny\n",
        "o\n5\n",                                     /* two lines */
        "o\n5\n\n",
        "o\n",
        "",
    };
    struct note_checkpoint c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(note_checkpoint_parse(bad[i], strlen(bad[i]), &c),
                         NOTE_ERR_CHECKPOINT);
        assert_true(c.origin == NULL && c.size == 0 && c.root[0] == 0);
    }
    assert_int_equal(note_checkpoint_parse("o\n5\n" R44 "\n", 49, &c), NOTE_OK);
    assert_int_equal(c.size, 5);
    /* Our own origin with a space would not format, but parses (C2SP). */
    assert_int_equal(note_checkpoint_parse("a b\n0\n" R44 "\n", 51, &c),
                     NOTE_OK);
#undef R44
}

static void
test_strerror(void **state)
{
    for (int c = 0; c >= NOTE_ERR_CRYPTO; c--) {
        assert_non_null(note_strerror(c));
        assert_string_not_equal(note_strerror(c), "unknown note error");
    }
    assert_string_equal(note_strerror(1), "unknown note error");
    assert_string_equal(note_strerror(NOTE_ERR_MALFORMED), "malformed note");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_keys),
        cmocka_unit_test(test_go_vkey_mangled),
        cmocka_unit_test(test_go_skey_mangled),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_go_sign),
        cmocka_unit_test(test_go_open),
        cmocka_unit_test(test_go_ambiguous),
        cmocka_unit_test(test_go_too_many),
        cmocka_unit_test(test_go_invalid_sig),
        cmocka_unit_test(test_go_bad_msgs),
        cmocka_unit_test(test_siglines_malformed),
        cmocka_unit_test(test_long_unknown_sig),
        cmocka_unit_test(test_b64_high_bytes),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_small_order_key),
        cmocka_unit_test(test_c2sp_example),
        cmocka_unit_test(test_sumdb_checkpoint),
        cmocka_unit_test(test_hitlq_keys),
        cmocka_unit_test(test_hitlq_checkpoints),
        cmocka_unit_test(test_hitlq_cosignature),
        cmocka_unit_test(test_cosig_tamper),
        cmocka_unit_test(test_cosig_time_limit),
        cmocka_unit_test(test_cosign_roundtrip),
        cmocka_unit_test(test_checkpoint_roundtrip),
        cmocka_unit_test(test_checkpoint_negatives),
        cmocka_unit_test(test_strerror),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
