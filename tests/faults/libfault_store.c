/*
 * libfault_store.c - LD_PRELOAD shim (built as build/test/faults/libfault_store.so)
 * that makes the storage of a real hitlqd fail on demand, for the storage
 * fault tests (tests/e2e/test_store_faults.c).  It only touches files
 * whose name ends in "/data.mdb" (LMDB's data file) and only while the
 * trigger file named by $FAULT_STORE_TRIGGER exists; the file's first word
 * picks the fault:
 *   eio        every write and sync of data.mdb fails with EIO
 *   eio-meta   only LMDB's meta-page writes (a write of less than one page
 *              inside the file's first two pages) fail with EIO: LMDB then
 *              marks the environment MDB_PANIC
 *   enospc     a full disk: writes inside the file's current size succeed,
 *              a write that would extend the file writes what fits in
 *              whole buffers (a short count) or fails with ENOSPC, and
 *              statvfs/fstatvfs report no free blocks
 * Each failure appends one line to $FAULT_STORE_TRIGGER.hits, so a test can
 * tell the fault really happened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum fault { F_NONE, F_EIO, F_EIO_META, F_ENOSPC };

/* The fault in force now (reads the trigger file: tests only). */
static enum fault
fault_now(void)
{
    const char *t = getenv("FAULT_STORE_TRIGGER");
    char word[32] = "";
    FILE *f;

    if (t == NULL || (f = fopen(t, "re")) == NULL)
        return F_NONE;
    if (fscanf(f, "%31s", word) != 1)
        word[0] = '\0';
    fclose(f);
    if (strcmp(word, "eio") == 0)
        return F_EIO;
    if (strcmp(word, "eio-meta") == 0)
        return F_EIO_META;
    if (strcmp(word, "enospc") == 0)
        return F_ENOSPC;
    return F_NONE;
}

/* Records one injected failure in $FAULT_STORE_TRIGGER.hits. */
static void
fault_hit(const char *what, off_t off, size_t len)
{
    const char *t = getenv("FAULT_STORE_TRIGGER");
    char path[512];
    FILE *f;

    if (t == NULL)
        return;
    snprintf(path, sizeof(path), "%s.hits", t);
    if ((f = fopen(path, "ae")) != NULL) {
        fprintf(f, "%s off=%lld len=%zu\n", what, (long long)off, len);
        fclose(f);
    }
}

/* True when fd is LMDB's data file. */
static int
is_data(int fd)
{
    char link[64], path[1024];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof(path) - 1);
    if (n < 9)
        return 0;
    path[n] = '\0';
    return strcmp(path + n - 9, "/data.mdb") == 0;
}

static off_t
file_size(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 ? st.st_size : 0;
}

#define REAL(name, ret, ...) \
    static ret (*real_##name)(__VA_ARGS__); \
    if (real_##name == NULL) real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

/* The fault for a write of len bytes at off: 0 = let it through, else
 * the errno to fail with.  *fit gets the bytes that fit (ENOSPC). */
static int
write_fault(int fd, off_t off, size_t len, size_t *fit)
{
    enum fault f;
    off_t size;

    *fit = len;
    if (!is_data(fd) || (f = fault_now()) == F_NONE)
        return 0;
    if (f == F_EIO) {
        fault_hit("eio-write", off, len);
        return EIO;
    }
    if (f == F_EIO_META) {
        if (off < 8192 && len < 4096) {
            fault_hit("eio-meta", off, len);
            return EIO;
        }
        return 0;
    }
    size = file_size(fd);
    if (off + (off_t)len <= size)
        return 0;
    *fit = off < size ? (size_t)(size - off) : 0;
    fault_hit("enospc", off, len);
    return ENOSPC;
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
    REAL(pwrite, ssize_t, int, const void *, size_t, off_t);
    size_t fit;
    int e = write_fault(fd, off, len, &fit);

    if (e == ENOSPC && fit > 0)
        return real_pwrite(fd, buf, fit, off);    /* a short write */
    if (e != 0) {
        errno = e;
        return -1;
    }
    return real_pwrite(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite(fd, buf, len, off);
}

/* Vectored writes: only whole buffers that fit are written (a short
 * count), or ENOSPC when none does. */
static ssize_t
vec_write(int fd, const struct iovec *iov, int n, off_t off, int positioned)
{
    REAL(pwritev, ssize_t, int, const struct iovec *, int, off_t);
    REAL(writev, ssize_t, int, const struct iovec *, int);
    size_t len = 0, fit, done = 0;
    int e, k = 0;

    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    e = write_fault(fd, off, len, &fit);
    if (e == ENOSPC) {
        while (k < n && done + iov[k].iov_len <= fit)
            done += iov[k++].iov_len;
        if (k == 0) {
            errno = ENOSPC;
            return -1;
        }
        n = k;
    } else if (e != 0) {
        errno = e;
        return -1;
    }
    return positioned ? real_pwritev(fd, iov, n, off) : real_writev(fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    return vec_write(fd, iov, n, off, 1);
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
    return vec_write(fd, iov, n, off, 1);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
    return vec_write(fd, iov, n, lseek(fd, 0, SEEK_CUR), 0);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
    REAL(write, ssize_t, int, const void *, size_t);
    size_t fit;
    int e = fd > 2 ? write_fault(fd, lseek(fd, 0, SEEK_CUR), len, &fit) : 0;

    if (e == ENOSPC && fit > 0)
        return real_write(fd, buf, fit);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return real_write(fd, buf, len);
}

/* Syncs fail only in "eio" mode. */
static int
sync_fault(int fd, const char *what)
{
    if (fd >= 0 && is_data(fd) && fault_now() == F_EIO) {
        fault_hit(what, 0, 0);
        errno = EIO;
        return -1;
    }
    return 0;
}

int
fdatasync(int fd)
{
    REAL(fdatasync, int, int);
    return sync_fault(fd, "eio-fdatasync") != 0 ? -1 : real_fdatasync(fd);
}

int
fsync(int fd)
{
    REAL(fsync, int, int);
    return sync_fault(fd, "eio-fsync") != 0 ? -1 : real_fsync(fd);
}

int
msync(void *addr, size_t len, int flags)
{
    REAL(msync, int, void *, size_t, int);
    if (fault_now() == F_EIO) {
        fault_hit("eio-msync", 0, len);
        errno = EIO;
        return -1;
    }
    return real_msync(addr, len, flags);
}

/* A full disk has no free blocks. */
static void
vfs_full(struct statvfs *v)
{
    if (fault_now() == F_ENOSPC) {
        v->f_bfree = 0;
        v->f_bavail = 0;
    }
}

int
statvfs(const char *path, struct statvfs *v)
{
    REAL(statvfs, int, const char *, struct statvfs *);
    int rc = real_statvfs(path, v);

    if (rc == 0)
        vfs_full(v);
    return rc;
}

int
fstatvfs(int fd, struct statvfs *v)
{
    REAL(fstatvfs, int, int, struct statvfs *);
    int rc = real_fstatvfs(fd, v);

    if (rc == 0)
        vfs_full(v);
    return rc;
}
