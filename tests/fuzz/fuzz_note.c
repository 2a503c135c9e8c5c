/*
 * fuzz_note.c - libFuzzer target for the signed-note / checkpoint / key
 * parsers of proto/note.c and proto/checkpoint.c (docs/RELIABILITY.md T4,
 * proto/AUDIT-FORMAT.md §1, §6).  The whole input goes, unchanged, through:
 *
 *  - note_open with no verifier, with a fixed set (the Go vectors
 *    PeterNeumann and EnochRoot, hitlq's test log key and its type-0x04
 *    witness) and with an ambiguous set (PeterNeumann twice); the three
 *    outcomes must agree with each other (differential);
 *  - note_vkey_parse and note_skey_parse: whatever parses must format back
 *    to exactly the input bytes (both parsers are strict: lowercase hex,
 *    canonical base64), and a failed skey parse leaves *s wiped;
 *  - note_checkpoint_parse: whatever parses must format back to exactly
 *    the input (minus its extension lines) when the origin is a key name;
 *  - when the input is valid note text: signed by PeterNeumann (and, when
 *    it is a checkpoint, cosigned by the witness) it must open again with
 *    those verifiers (sign/open round trip).
 *
 * The key material is the public test vectors of tests/unit/test_note.c; the
 * private keys are test-only.  Built with HITLQ_FUZZ_REPLAY defined, only
 * fuzz_note_one() is compiled (tests/unit/test_fuzz_replay.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "note.h"

#define FUZZ_NOTE_DASH "\xe2\x80\x94"

/* golang/mod sumdb/note/note_test.go and docs/RELIABILITY.md §4.2 (tests/unit/test_note.c) */
static const char fuzz_note_peter_skey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char *const fuzz_note_vkeys[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
    "anchors.example/audit/test-1+06f1c421+AfoXO5W7bOtilrFA1jtI/J4rXEkTY2ulpJyU6qNM9iM1",
    "witness.anchors.example/w1+da777e40+BKS8tgrY2C3ZxqaV1daED88ayWvC8FiCcjK19NTinjJB",
};
#define FUZZ_NOTE_NVS   4u
#define FUZZ_NOTE_PETER 0u
#define FUZZ_NOTE_WIT   3u
static const uint8_t fuzz_note_wit_seed[NOTE_SEED_LEN] = {
    0x9f, 0x5d, 0xaf, 0x18, 0xe8, 0xf1, 0x44, 0x26, 0x51, 0x2c, 0xce, 0x58,
    0xcd, 0x0e, 0xde, 0xa1, 0xed, 0x5c, 0xab, 0xa8, 0x2a, 0x3e, 0x79, 0x80,
    0x34, 0x09, 0xac, 0xa9, 0x7d, 0x6f, 0xbd, 0xe3,
};

static struct {
    int                  ready;
    struct note_verifier vs[FUZZ_NOTE_NVS];
    struct note_verifier dup[2];          /* PeterNeumann twice */
    struct note_signer   peter;           /* test-only secret */
    struct note_signer   wit;             /* test-only secret */
} fuzz_note_keys;

static void
fuzz_note_setup(void)
{
    if (fuzz_note_keys.ready)
        return;
    for (size_t i = 0; i < FUZZ_NOTE_NVS; i++)
        if (note_vkey_parse(fuzz_note_vkeys[i], strlen(fuzz_note_vkeys[i]),
                            &fuzz_note_keys.vs[i]) != NOTE_OK)
            abort();
    fuzz_note_keys.dup[0] = fuzz_note_keys.vs[FUZZ_NOTE_PETER];
    fuzz_note_keys.dup[1] = fuzz_note_keys.vs[FUZZ_NOTE_PETER];
    if (note_skey_parse(fuzz_note_peter_skey, strlen(fuzz_note_peter_skey),
                        &fuzz_note_keys.peter) != NOTE_OK ||
        note_signer_init(&fuzz_note_keys.wit, "witness.anchors.example/w1", 26,
                         NOTE_SIGTYPE_COSIG, fuzz_note_wit_seed) != NOTE_OK)
        abort();
    if (memcmp(&fuzz_note_keys.peter.pub, &fuzz_note_keys.vs[FUZZ_NOTE_PETER],
               sizeof(struct note_verifier)) != 0 ||
        memcmp(&fuzz_note_keys.wit.pub, &fuzz_note_keys.vs[FUZZ_NOTE_WIT],
               sizeof(struct note_verifier)) != 0)
        abort();
    fuzz_note_keys.ready = 1;
}

static int
fuzz_note_is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* What every note_open outcome promises about out and res. */
static void
fuzz_note_open_check(const char *msg, size_t len, int rc, size_t nvs,
                     const struct note_verifier *vs,
                     const struct note_sigresult *res,
                     const struct note_opened *o)
{
    size_t nv = 0;

    switch (rc) {
    case NOTE_OK: case NOTE_ERR_UNVERIFIED: case NOTE_ERR_MALFORMED:
    case NOTE_ERR_TOO_LARGE: case NOTE_ERR_AMBIGUOUS: case NOTE_ERR_BAD_SIG:
        break;
    default:
        abort();
    }
    if (note_strerror(rc) == NULL)
        abort();
    for (size_t i = 0; i < nvs; i++) {
        if (res[i].verified) {
            nv++;
            if (vs[i].type != NOTE_SIGTYPE_COSIG && res[i].timestamp != 0)
                abort();
            if (res[i].timestamp > NOTE_COSIG_TIME_MAX)
                abort();
        } else if (res[i].timestamp != 0) {
            abort();
        }
    }
    if (nv != o->nverified || o->nsigs > NOTE_SIGS_MAX + 1)
        abort();
    if (rc != NOTE_OK && rc != NOTE_ERR_UNVERIFIED)
        return;
    if (o->nsigs > NOTE_SIGS_MAX)
        abort();
    if ((rc == NOTE_OK) != (nv > 0))
        abort();
    /* The text is msg up to the last blank line, keeping one '\n'. */
    if (o->text != msg || o->text_len == 0 || o->text_len + 1 >= len ||
        msg[o->text_len - 1] != '\n' || msg[o->text_len] != '\n' ||
        msg[len - 1] != '\n' || o->nsigs == 0 ||
        o->nunknown + o->nverified > o->nsigs ||
        note_text_check(o->text, o->text_len) != NOTE_OK)
        abort();
    /* No blank line after the text's own. */
    for (size_t i = o->text_len + 1; i + 1 < len; i++)
        if (msg[i] == '\n' && msg[i + 1] == '\n')
            abort();
}

/* Opens msg three ways and cross-checks the outcomes. */
static void
fuzz_note_open_all(const char *msg, size_t len)
{
    struct note_sigresult res[FUZZ_NOTE_NVS], dres[2];
    struct note_opened o0, o, od;
    int rc0, rc, rcd;

    rc0 = note_open(msg, len, NULL, 0, NULL, &o0);
    fuzz_note_open_check(msg, len, rc0, 0, NULL, NULL, &o0);
    if (rc0 == NOTE_OK || rc0 == NOTE_ERR_AMBIGUOUS || rc0 == NOTE_ERR_BAD_SIG)
        abort();                       /* nothing can verify without a key */
    if (rc0 == NOTE_ERR_UNVERIFIED && o0.nunknown != o0.nsigs)
        abort();

    rc = note_open(msg, len, fuzz_note_keys.vs, FUZZ_NOTE_NVS, res, &o);
    fuzz_note_open_check(msg, len, rc, FUZZ_NOTE_NVS, fuzz_note_keys.vs, res, &o);
    if (rc == NOTE_ERR_AMBIGUOUS)
        abort();                       /* the four keys are distinct */
    if (rc0 == NOTE_ERR_TOO_LARGE || rc == NOTE_ERR_TOO_LARGE) {
        if (rc0 != rc)
            abort();
        return;
    }
    /* Syntax does not depend on the keys, though a bad signature may stop
     * the walk before a malformed line. */
    if (rc0 == NOTE_ERR_UNVERIFIED && rc == NOTE_ERR_MALFORMED)
        abort();
    if (rc0 == NOTE_ERR_MALFORMED && rc != NOTE_ERR_MALFORMED &&
        (rc != NOTE_ERR_BAD_SIG || o0.text == NULL))
        abort();
    if ((rc == NOTE_OK || rc == NOTE_ERR_UNVERIFIED) &&
        (rc0 != NOTE_ERR_UNVERIFIED || o.nsigs != o0.nsigs ||
         o.text_len != o0.text_len))
        abort();
    if (rc0 == NOTE_ERR_MALFORMED && o0.text == NULL)
        return;                        /* not even a text/signature split */

    rcd = note_open(msg, len, fuzz_note_keys.dup, 2, dres, &od);
    fuzz_note_open_check(msg, len, rcd, 2, fuzz_note_keys.dup, dres, &od);
    if (rcd != NOTE_ERR_AMBIGUOUS && rcd != NOTE_ERR_UNVERIFIED &&
        rcd != NOTE_ERR_MALFORMED)
        abort();
    if (res[FUZZ_NOTE_PETER].verified && rcd != NOTE_ERR_AMBIGUOUS)
        abort();
    if (rcd == NOTE_ERR_UNVERIFIED &&
        (rc0 != NOTE_ERR_UNVERIFIED || od.nsigs != o0.nsigs))
        abort();
    if (rc0 == NOTE_ERR_UNVERIFIED && rcd == NOTE_ERR_MALFORMED)
        abort();
}

/* Strict key parsers: parse -> format is the identity. */
static void
fuzz_note_keys_check(const char *s, size_t len)
{
    struct note_verifier v;
    struct note_signer sg;
    char out[NOTE_SKEY_MAX + 1];
    size_t n;
    int rc;

    rc = note_vkey_parse(s, len, &v);
    if (rc == NOTE_OK) {
        if (note_vkey_format(&v, out, sizeof(out), &n) != NOTE_OK ||
            n != len || memcmp(out, s, len) != 0 || out[n] != '\0' ||
            v.name_len > NOTE_NAME_MAX || strlen(v.name) != v.name_len ||
            note_key_id(v.name, v.name_len, v.type, v.pk) != v.key_id)
            abort();
    } else if (rc != NOTE_ERR_KEY && rc != NOTE_ERR_KEY_HASH &&
               rc != NOTE_ERR_KEY_ALG) {
        abort();
    }

    rc = note_skey_parse(s, len, &sg);
    if (rc == NOTE_OK) {
        struct note_verifier pv;
        size_t pn;

        if (note_skey_format(&sg, out, sizeof(out), &n) != NOTE_OK ||
            n != len || memcmp(out, s, len) != 0)
            abort();
        /* Its public half formats to a vkey that parses back to it. */
        if (note_vkey_format(&sg.pub, out, sizeof(out), &pn) != NOTE_OK ||
            note_vkey_parse(out, pn, &pv) != NOTE_OK ||
            memcmp(&pv, &sg.pub, sizeof(pv)) != 0)
            abort();
    } else if (rc != NOTE_ERR_KEY && rc != NOTE_ERR_KEY_HASH &&
               rc != NOTE_ERR_KEY_ALG) {
        abort();
    } else if (!fuzz_note_is_zero(&sg, sizeof(sg))) {
        abort();                       /* documented: wiped on error */
    }
    note_signer_clear(&sg);
    sodium_memzero(out, sizeof(out));
}

/* Checkpoint parse, then format back (differential). */
static void
fuzz_note_checkpoint_check(const char *s, size_t len, struct note_checkpoint *cp)
{
    struct note_checkpoint c2;
    char out[NOTE_NAME_MAX + 96];
    size_t n, body;
    int rc;

    rc = note_checkpoint_parse(s, len, cp);
    if (rc != NOTE_OK) {
        if ((rc != NOTE_ERR_CHECKPOINT && rc != NOTE_ERR_TOO_LARGE) ||
            !fuzz_note_is_zero(cp, sizeof(*cp)))
            abort();
        return;
    }
    if (cp->origin != s || cp->origin_len == 0 || cp->origin_len >= len ||
        (cp->ext_lines == 0) != (cp->ext == NULL) ||
        (cp->ext_lines == 0) != (cp->ext_len == 0) ||
        cp->ext_len >= len || note_text_check(s, len) != NOTE_OK)
        abort();
    body = len - cp->ext_len;
    if (cp->ext != NULL && (cp->ext != s + body || s[len - 1] != '\n'))
        abort();
    rc = note_checkpoint_format(cp->origin, cp->origin_len, cp->size, cp->root,
                                out, sizeof(out), &n);
    if (cp->origin_len > NOTE_NAME_MAX ||
        !note_name_valid(cp->origin, cp->origin_len)) {
        if (rc != NOTE_ERR_INVAL)
            abort();
        return;
    }
    if (rc != NOTE_OK || n != body || memcmp(out, s, body) != 0 || out[n] != '\0')
        abort();
    if (note_checkpoint_parse(out, n, &c2) != NOTE_OK || c2.size != cp->size ||
        memcmp(c2.root, cp->root, NOTE_ROOT_LEN) != 0 ||
        c2.origin_len != cp->origin_len || c2.ext_lines != 0)
        abort();
}

/* Valid note text: sign it (and cosign it if a checkpoint), open again. */
static void
fuzz_note_sign_check(const char *s, size_t len, int is_cp, uint64_t t,
                     size_t flip)
{
    const struct note_signer *signers[1] = { &fuzz_note_keys.peter };
    struct note_sigresult res[FUZZ_NOTE_NVS];
    struct note_opened o;
    char *msg;
    size_t cap, n, ln;
    int rc;

    if (note_text_check(s, len) != NOTE_OK)
        return;
    cap = len + 1 + 2 * NOTE_SIGLINE_MAX(NOTE_NAME_MAX) + 1;
    if ((msg = malloc(cap)) == NULL)
        abort();
    rc = note_sign(s, len, signers, 1, msg, cap, &n);
    if (rc == NOTE_ERR_TOO_LARGE) {
        free(msg);
        return;
    }
    if (rc != NOTE_OK || n <= len + 1 || memcmp(msg, s, len) != 0 ||
        msg[len] != '\n')
        abort();
    if (is_cp) {
        rc = note_cosign_line(&fuzz_note_keys.wit, t, s, len, msg + n, cap - n, &ln);
        if (rc == NOTE_ERR_TOO_LARGE) {
            free(msg);
            return;
        }
        if (rc != NOTE_OK)
            abort();
        n += ln;
    }
    if (n > NOTE_MSG_MAX) {                /* cosign line pushed it over */
        free(msg);
        return;
    }
    rc = note_open(msg, n, fuzz_note_keys.vs, FUZZ_NOTE_NVS, res, &o);
    if (rc != NOTE_OK || o.text != msg || o.text_len != len ||
        o.nsigs != (is_cp ? 2u : 1u) || o.nverified != o.nsigs ||
        o.nunknown != 0 || !res[FUZZ_NOTE_PETER].verified ||
        (is_cp && (!res[FUZZ_NOTE_WIT].verified ||
                   res[FUZZ_NOTE_WIT].timestamp != t)))
        abort();
    /* One flipped bit in the text breaks every signature. */
    msg[flip % len] ^= 0x01;
    rc = note_open(msg, n, fuzz_note_keys.vs, FUZZ_NOTE_NVS, res, &o);
    if (rc != NOTE_ERR_BAD_SIG && rc != NOTE_ERR_MALFORMED)
        abort();
    free(msg);
}

int
fuzz_note_one(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct note_checkpoint cp;
    uint64_t t = 0;

    fuzz_note_setup();
    fuzz_note_open_all(s, size);
    fuzz_note_keys_check(s, size);
    fuzz_note_checkpoint_check(s, size, &cp);
    for (size_t i = 0; i < 8; i++)
        t = t << 8 | cp.root[i];
    fuzz_note_sign_check(s, size, cp.origin != NULL, t & NOTE_COSIG_TIME_MAX,
                         (size_t)t + (size > 0 ? data[0] : 0u));
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_note_one(data, size);
}
#endif
