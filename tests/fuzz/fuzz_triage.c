/*
 * fuzz_triage.c - libFuzzer target for the triage of untrusted item fields
 * (score_triage: validation rules, feature mapping, the XGBoost model,
 * hard rules, bands, QA draw) under the embedded default policy.  The
 * bytes are a MessagePack map, bounded by mp_validate as the server does;
 * maps the server would refuse before triage (non-string keys, non-scalar
 * values) are skipped.  Oracle: no crash, a known route, a score in
 * [0, 1], bounded and ordered reasons, bounded rules, a data-quality route iff rules of
 * kind 1 were broken.  Built with HITLQ_FUZZ_REPLAY defined, only
 * fuzz_triage_one() is compiled.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hitlq_proto.h"
#include "score.h"
#include "validate.h"
#include "wire.h"

static struct scoring *fuzz_triage_sc;   /* loaded once, never freed */

/* What SUBMIT checks before triage (cmd_item.c submit_check_fields). */
static int
fuzz_triage_fields_ok(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size > HITLQ_MAX_FIELDS)
        return 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            k->via.str.size > HITLQ_MAX_NAME)
            return 0;
        if (v->type == MSGPACK_OBJECT_ARRAY || v->type == MSGPACK_OBJECT_MAP ||
            v->type == MSGPACK_OBJECT_BIN || v->type == MSGPACK_OBJECT_EXT)
            return 0;
    }
    return wire_map_keys_unique(o);
}

/* score_pick_reasons: at most HITLQ_MAX_REASONS present inputs (any number
 * of missing ones), by |contribution| descending, ties by name. */
static int
fuzz_triage_reasons_ok(const struct score_result *r)
{
    size_t present = 0;

    if (r->n_reasons > SCORE_MAX_REASONS)
        return 0;
    for (size_t i = 0; i < r->n_reasons; i++) {
        const struct score_reason *a = &r->reasons[i];

        present += !a->missing;
        if (i > 0 && (fabs(a[-1].contribution) < fabs(a->contribution) ||
                      (fabs(a[-1].contribution) == fabs(a->contribution) &&
                       strcmp(a[-1].feature, a->feature) > 0)))
            return 0;
    }
    return present <= HITLQ_MAX_REASONS;
}

static void
fuzz_triage_check(const struct triage *t)
{
    if (t->route < TRIAGE_AUTO_APPROVE || t->route > TRIAGE_DATA_QUALITY ||
        !fuzz_triage_reasons_ok(&t->r) || t->n_rules > TRIAGE_MAX_RULES ||
        t->n_rules > t->n_rules_total)
        abort();
    if (t->route == TRIAGE_DATA_QUALITY) {
        if (t->n_rules == 0 || t->rules[0].kind != 1 || t->is_auto)
            abort();
        return;
    }
    if (!(t->r.score >= 0.0 && t->r.score <= 1.0) || (t->is_auto && !t->r.complete))
        abort();
}

int
fuzz_triage_one(const uint8_t *data, size_t size)
{
    msgpack_zone zone;
    msgpack_object obj;
    struct triage t;
    char err[200];

    if (fuzz_triage_sc == NULL && scoring_load(&fuzz_triage_sc, NULL, err, sizeof(err)) != 0)
        abort();
    if (mp_validate(data, size, &mp_limits_default, err, sizeof(err)) != HITLQ_ST_OK)
        return 0;
    if (!msgpack_zone_init(&zone, 4096))
        abort();
    if (wire_unpack(data, size, &zone, &obj) == HITLQ_ST_OK && fuzz_triage_fields_ok(&obj)) {
        const struct type_policy *p = scoring_policy(fuzz_triage_sc, "credit_application");
        if (p == NULL || score_triage(p, "fuzz-key", &obj, &t) != HITLQ_ST_OK)
            abort();
        fuzz_triage_check(&t);
    }
    msgpack_zone_destroy(&zone);
    return 0;
}

#ifndef HITLQ_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_triage_one(data, size);
}
#endif
