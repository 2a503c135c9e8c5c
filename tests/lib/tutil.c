/*
 * tutil.c - helpers shared by the test binaries (tutil.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tutil.h"

char *tutil_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);       /* owned by the caller */
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

void tutil_pack_json(msgpack_packer *pk, const json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        msgpack_pack_map(pk, json_object_size(j));
        json_object_foreach((json_t *)j, k, v) {
            msgpack_pack_str_with_body(pk, k, strlen(k));
            tutil_pack_json(pk, v);
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(j));
        json_array_foreach(j, i, v)
            tutil_pack_json(pk, v);
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(j)); break;
    case JSON_REAL:    msgpack_pack_double(pk, json_real_value(j)); break;
    case JSON_TRUE:    msgpack_pack_true(pk); break;
    case JSON_FALSE:   msgpack_pack_false(pk); break;
    default:           msgpack_pack_nil(pk); break;
    }
}

void tutil_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

int tutil_sh(char *out, size_t n, const char *fmt, ...)
{
    char cmd[2048], full[2300], path[] = "/tmp/hitlq-test-sh.XXXXXX";
    va_list ap;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "(%s) > %s 2>&1", cmd, path);
    int st = system(full);
    FILE *f = fopen(path, "r");
    size_t got = f != NULL ? fread(out, 1, n - 1, f) : 0;
    out[got] = '\0';
    if (f != NULL)
        fclose(f);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
