/*
 * tutil.h - small helpers shared by the cmocka test binaries (tutil.c is
 * linked into every tests/test_*): read a whole file, and pack a jansson
 * value as MessagePack (items and policies written as JSON in tests).
 * Both fail the running test (cmocka assertions) instead of returning
 * errors.
 */
#ifndef HITLQ_TUTIL_H
#define HITLQ_TUTIL_H

#include <stddef.h>

#include <jansson.h>
#include <msgpack.h>

/* The whole non-empty file at path, NUL-terminated (malloc'd: the caller
 * frees); its length in *len unless len is NULL. */
char *tutil_slurp(const char *path, size_t *len);

/* Packs j (objects, arrays, strings, integers, reals, booleans, null). */
void tutil_pack_json(msgpack_packer *pk, const json_t *j);

#endif
