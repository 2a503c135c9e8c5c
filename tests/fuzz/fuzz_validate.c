/*
 * fuzz_validate.c - libFuzzer target for mp_validate plus schema decoding
 * (docs/RELIABILITY.md T4).  Differential check: whatever the validator accepts,
 * msgpack-c must unpack completely (wire_unpack) into a zone of bounded
 * size; then wire_decode runs a SUBMIT-like schema.  Built with
 * HITLQ_FUZZ_REPLAY defined, only fuzz_validate_one() is compiled.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hitlq_proto.h"
#include "validate.h"
#include "wire.h"

static const struct wire_field fuzz_validate_submit[] = {
    { "key",      WIRE_NAME,  true,  0, 0 },
    { "type",     WIRE_NAME,  true,  0, 0 },
    { "fields",   WIRE_MAP,   true,  0, HITLQ_MAX_FIELDS },
    { "priority", WIRE_UINT,  false, 0, HITLQ_MAX_PRIORITY },
    { "note",     WIRE_STR,   false, 0, HITLQ_MAX_NOTE },
    { "score",    WIRE_FLOAT, false, 0, 0 },
    { "auto",     WIRE_BOOL,  false, 0, 0 },
    { "queues",   WIRE_ARRAY, false, 1, HITLQ_MAX_CLAIM_QUEUES },
    { "queue",    WIRE_QNAME, false, 0, 0 },
    { "extra",    WIRE_ANY,   false, 0, 0 },
};
#define FUZZ_VALIDATE_NFIELDS \
    (sizeof(fuzz_validate_submit) / sizeof(fuzz_validate_submit[0]))

/* Checks what a successful decode promises about each value. */
static void
fuzz_validate_decoded(const msgpack_object **v)
{
    char buf[HITLQ_MAX_NAME + 1];

    wire_copy_str(v[0], buf, sizeof(buf));
    if (strlen(buf) != v[0]->via.str.size || !wire_is_name(buf, strlen(buf), HITLQ_MAX_NAME))
        abort();
    if (v[2]->via.map.size > HITLQ_MAX_FIELDS)
        abort();
    (void)wire_map_keys_unique(v[2]);
    if (v[3] != NULL && wire_u64(v[3]) > HITLQ_MAX_PRIORITY)
        abort();
    if (v[5] != NULL && wire_f64(v[5]) != wire_f64(v[5]))   /* NaN */
        abort();
    if (v[7] != NULL && (v[7]->via.array.size < 1 || v[7]->via.array.size > HITLQ_MAX_CLAIM_QUEUES))
        abort();
    if (v[8] != NULL && v[8]->via.str.size > HITLQ_MAX_QUEUE_NAME)
        abort();
}

int
fuzz_validate_one(const uint8_t *data, size_t size)
{
    const msgpack_object *vals[FUZZ_VALIDATE_NFIELDS];
    msgpack_zone zone;
    msgpack_object obj;
    char err[160];
    int st;

    st = mp_validate(data, size, &mp_limits_default, err, sizeof(err));
    if (st != HITLQ_ST_OK) {
        if ((st != HITLQ_ST_BAD_MSGPACK && st != HITLQ_ST_LIMIT_EXCEEDED) || err[0] == '\0')
            abort();
        return 0;
    }
    if (!msgpack_zone_init(&zone, 4096))
        abort();
    if (wire_unpack(data, size, &zone, &obj) != HITLQ_ST_OK ||
        obj.type != MSGPACK_OBJECT_MAP)
        abort();   /* the validator accepted what msgpack-c refuses */
    st = wire_decode(&obj, fuzz_validate_submit, FUZZ_VALIDATE_NFIELDS, vals,
                     err, sizeof(err));
    if (st == HITLQ_ST_OK)
        fuzz_validate_decoded(vals);
    else if (st != HITLQ_ST_BAD_REQUEST || err[0] == '\0')
        abort();
    (void)wire_map_get(&obj, "key");
    msgpack_zone_destroy(&zone);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_validate_one(data, size);
}
#endif
