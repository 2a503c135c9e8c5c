/*
 * tutil.h - small helpers shared by the cmocka test binaries (tutil.c is
 * linked into every tests/test_*): read or write a whole file, run a
 * shell command and keep its output, and pack a jansson value as
 * MessagePack (items and policies written as JSON in tests).
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

/* Writes text (without its NUL) to path, replacing it. */
void tutil_write_file(const char *path, const char *text);

/* Runs the command made from fmt with sh; stdout and stderr (at most n - 1
 * bytes) go to out, NUL-terminated.  Returns the exit status, -1 if it did
 * not exit normally. */
int tutil_sh(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Packs j (objects, arrays, strings, integers, reals, booleans, null). */
void tutil_pack_json(msgpack_packer *pk, const json_t *j);

#endif
