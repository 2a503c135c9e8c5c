/*
 * aud_io.c - hitlq-audit's file helpers: whole-file reads into a reused
 * buffer, atomic writes (tmp + rename, optionally fsync'd), mkdir -p and
 * hex parsing.  Errors are returned as errno values; no printing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aud.h"

void
aud_buf_clear(struct aud_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Room for n bytes plus a NUL. */
static int
aud_buf_reserve(struct aud_buf *b, size_t n)
{
    uint8_t *p;

    if (n + 1 <= b->cap)
        return 0;
    if ((p = realloc(b->p, n + 1)) == NULL)
        return ENOMEM;
    b->p = p;
    b->cap = n + 1;
    return 0;
}

/* read() until n bytes or EOF; returns bytes read or -1. */
static ssize_t
aud_read_all(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

int
aud_file_read(const char *path, struct aud_buf *b, size_t max)
{
    struct stat sb;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC), err;

    b->len = 0;
    if (fd < 0)
        return errno;
    if (fstat(fd, &sb) != 0) {
        err = errno;
        close(fd);
        return err;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return EISDIR;                   /* not a regular file */
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return EFBIG;
    }
    if ((err = aud_buf_reserve(b, (size_t)sb.st_size)) != 0) {
        close(fd);
        return err;
    }
    got = aud_read_all(fd, b->p, (size_t)sb.st_size);
    err = got < 0 ? errno : 0;
    close(fd);
    if (err)
        return err;
    b->len = (size_t)got;            /* a file that shrank: what is there */
    b->p[b->len] = '\0';
    return 0;
}

static int
aud_write_fd(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* fsync of the directory holding path. */
static int
aud_fsync_dir(const char *path)
{
    char dir[AUD_PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, err = 0;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + (slash == path)), path);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return errno;
    if (fsync(fd) != 0)
        err = errno;
    close(fd);
    return err;
}

int
aud_file_write(const char *path, const void *data, size_t len, bool durable)
{
    char tmp[AUD_PATH_MAX + 8];
    int fd, err;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return ENAMETOOLONG;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return errno;
    err = aud_write_fd(fd, data, len);
    if (err == 0 && durable && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && err == 0)
        err = errno;
    if (err == 0 && rename(tmp, path) != 0)
        err = errno;
    if (err != 0) {
        unlink(tmp);
        return err;
    }
    return durable ? aud_fsync_dir(path) : 0;
}

int
aud_mkdirs_for(const char *path)
{
    char buf[AUD_PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(buf))
        return ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errno;
        buf[i] = '/';
    }
    return 0;
}

int
aud_hex_parse(const char *s, uint8_t out[32])
{
    if (s == NULL || strlen(s) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            char c = s[2 * i + j];
            v <<= 4;
            if (c >= '0' && c <= '9')      v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
            else return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}
