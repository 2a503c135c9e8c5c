/*
 * reasons.h - the reasons array of a triage decision (reasons.c).
 */
#ifndef HITLQ_REASONS_H
#define HITLQ_REASONS_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct triage;

/* Packs t's rules and top features as a msgpack array into a malloc'd
 * buffer (*out, owned by the caller).  `raw` is the fields map exactly as
 * received (values are copied from it).  Fewer reasons if they do not fit
 * 512 KiB: present inputs dropped first (smallest |contribution|), then
 * rules, missing inputs last.  0, or -1 when out of memory. */
int reasons_pack(const struct triage *t, const msgpack_object *fields,
                 const uint8_t *raw, size_t raw_len, uint8_t **out, size_t *len);

#endif
