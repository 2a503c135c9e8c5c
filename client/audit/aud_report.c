/*
 * aud_report.c - hitlq-audit's results: the class words of a failure
 * (BAD_HASH, FORK, ...), their exit codes, recording a failure with its
 * first bad index, and hash rendering for messages.  No printing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "aud.h"

const char *
aud_class_name(enum aud_class cls)
{
    switch (cls) {
    case AUD_OK:            return "OK";
    case AUD_BAD_ENTRY:     return "BAD_ENTRY";
    case AUD_BAD_HASH:      return "BAD_HASH";
    case AUD_MISSING:       return "MISSING";
    case AUD_REORDERED:     return "REORDERED";
    case AUD_TRUNCATION:    return "TRUNCATION";
    case AUD_ROLLBACK:      return "ROLLBACK";
    case AUD_FORK:          return "FORK";
    case AUD_BAD_SIGNATURE: return "BAD_SIGNATURE";
    case AUD_UNKNOWN_KEY:   return "UNKNOWN_KEY";
    case AUD_BAD_PROOF:     return "BAD_PROOF";
    case AUD_IO:            return "IO_ERROR";
    case AUD_USAGE:         return "USAGE";
    }
    return "UNKNOWN";
}

int
aud_class_exit(enum aud_class cls)
{
    if (cls == AUD_OK)
        return 0;
    return cls == AUD_IO || cls == AUD_USAGE ? 2 : 1;
}

static __attribute__((format(printf, 5, 0))) enum aud_class
aud_vfail(struct aud_result *r, enum aud_class cls, bool has_index,
          uint64_t index, const char *fmt, va_list ap)
{
    r->cls = cls;
    r->has_index = has_index;
    r->index = index;
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    return cls;
}

enum aud_class
aud_fail(struct aud_result *r, enum aud_class cls, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    aud_vfail(r, cls, false, 0, fmt, ap);
    va_end(ap);
    return cls;
}

enum aud_class
aud_fail_at(struct aud_result *r, enum aud_class cls, uint64_t index,
            const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    aud_vfail(r, cls, true, index, fmt, ap);
    va_end(ap);
    return cls;
}

const char *
aud_hex(const uint8_t h[32], char out[65])
{
    sodium_bin2hex(out, 65, h, 32);
    return out;
}

const char *
aud_b64(const uint8_t h[32], char out[45])
{
    sodium_bin2base64(out, 45, h, 32, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int
aud_b64_hash_parse(const char *s, size_t len, uint8_t out[32])
{
    char back[45];
    size_t got = 0;

    /* Decode, then require the canonical re-encoding to be the input:
     * rejects padding variants, non-zero trailing bits and any byte
     * outside the alphabet (libsodium 1.0.18 maps bytes >= 0x80 to '/'). */
    if (len != 44 ||
        sodium_base642bin(out, 32, s, len, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || got != 32)
        return -1;
    aud_b64(out, back);
    return memcmp(back, s, 44) == 0 ? 0 : -1;
}
