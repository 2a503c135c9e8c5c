/*
 * interop_go.c - building and running the Go verifier of the interop
 * tests, and their artifact files (interop_go.h).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "interop_go.h"

#define GO_SRC    "tests/interop/verify.go"

static char g_bdir[512] = "build/test";   /* build dir: .../tests/<binary>/../.. */
static char g_bin[600];                   /* the Go verifier */
static char g_dir[256];                   /* artifacts (mkdtemp) */

/* ---- running the Go verifier --------------------------------------------- */

/* Runs argv (NULL-terminated) with stdout+stderr captured into out (NUL-
 * terminated, truncated to cap).  Returns the exit status, 127 when exec
 * failed, -1 on a signal or fork failure. */
static int
run_argv(char *const argv[], char *const envset[], char *out, size_t cap)
{
    int pfd[2];
    pid_t pid;
    size_t n = 0;
    int st;

    if (pipe(pfd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        for (size_t i = 0; envset != NULL && envset[i] != NULL; i += 2)
            setenv(envset[i], envset[i + 1], 1);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char tmp[4096];
        ssize_t r = read(pfd[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (cap > 0 && n + take > cap - 1)
            take = cap - 1 - n;
        memcpy(out + n, tmp, take);
        n += take;
    }
    close(pfd[0]);
    if (cap > 0)
        out[n] = '\0';
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char interop_out[16384];   /* output of the last interop_go_run */

/* Runs the Go verifier with the given arguments (NULL-terminated). */
int
interop_go_run(const char *a0, ...)
{
    char *argv[12];
    size_t n = 0;
    va_list ap;

    argv[n++] = g_bin;
    argv[n++] = (char *)a0;
    va_start(ap, a0);
    while (n < 11 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    return run_argv(argv, NULL, interop_out, sizeof interop_out);
}

static time_t
mtime_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mtime : (time_t)-1;
}

/* Builds the verifier unless it is present and newer than its source. */
static int
build_go_verifier(void)
{
    const char *pre = getenv("HITLQ_INTEROP_VERIFY");
    char cache[PATH_MAX + 16], tmpbin[640];
    static char out[8192];

    if (pre != NULL && *pre != '\0') {
        snprintf(g_bin, sizeof g_bin, "%s", pre);
        return access(g_bin, X_OK) == 0 ? 0 : -1;
    }
    snprintf(g_bin, sizeof g_bin, "%s/interop-verify", g_bdir);
    if (mtime_of(GO_SRC) == (time_t)-1) {
        fprintf(stderr, "interop: %s not found (run from the repository root)\n", GO_SRC);
        return -1;
    }
    if (mtime_of(g_bin) != (time_t)-1 && mtime_of(g_bin) >= mtime_of(GO_SRC))
        return 0;
    /* GOCACHE must be an absolute path */
    char absb[PATH_MAX];
    if (realpath(g_bdir, absb) == NULL) {
        fprintf(stderr, "interop: realpath %s: %s\n", g_bdir, strerror(errno));
        return -1;
    }
    snprintf(cache, sizeof cache, "%s/gocache", absb);
    snprintf(tmpbin, sizeof tmpbin, "%s.%d", g_bin, (int)getpid());
    char *argv[] = { "go", "build", "-o", tmpbin, GO_SRC, NULL };
    char *env[] = { "GO111MODULE", "off", "GOPATH", "/usr/share/gocode",
                    "GOCACHE", cache, "GOFLAGS", "", "GOPROXY", "off", NULL };
    int rc = run_argv(argv, env, out, sizeof out);
    if (rc != 0) {
        fprintf(stderr, "interop: `go build` failed (exit %d)%s:\n%s\n", rc,
                rc == 127 ? " - is golang-go installed? (scripts/setup.sh)" : "", out);
        unlink(tmpbin);
        return -1;
    }
    if (rename(tmpbin, g_bin) != 0) {
        fprintf(stderr, "interop: rename %s: %s\n", tmpbin, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- files ------------------------------------------------------------- */

/* Writes data to <g_dir>/<name>; returns the path (static ring of 16). */
const char *
interop_put(const char *name, const void *data, size_t len)
{
    static char paths[16][512];
    static unsigned k;
    char *p = paths[k++ % 16];
    FILE *f;

    snprintf(p, 512, "%s/%s", g_dir, name);
    f = fopen(p, "wb");
    assert_non_null(f);
    if (len > 0)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

const char *
interop_put_str(const char *name, const char *s)
{
    return interop_put(name, s, strlen(s));
}

static int
rm_tree(const char *dir)
{
    char *argv[] = { "rm", "-rf", (char *)dir, NULL };
    char out[256];
    return run_argv(argv, NULL, out, sizeof out);
}

/* ---- the group --------------------------------------------------------- */

void
interop_set_bdir(int argc, char **argv)
{
    /* the build directory is the parent of this binary's directory */
    if (argc > 0 && argv[0] != NULL && strchr(argv[0], '/') != NULL) {
        snprintf(g_bdir, sizeof g_bdir, "%s", argv[0]);
        for (int k = 0; k < 2; k++) {
            char *sl = strrchr(g_bdir, '/');
            if (sl == NULL) {
                snprintf(g_bdir, sizeof g_bdir, ".");
                break;
            }
            *sl = '\0';
        }
        if (g_bdir[0] == '\0')
            snprintf(g_bdir, sizeof g_bdir, "/");
    }
}

int
interop_go_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    if (build_go_verifier() != 0)
        return -1;
    snprintf(g_dir, sizeof g_dir, "/tmp/hitlq-interop-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    return 0;
}

int
interop_go_teardown(void **state)
{
    (void)state;
    if (g_dir[0] != '\0') {
        const char *keep = getenv("HITLQ_INTEROP_KEEP");
        if (keep != NULL && *keep != '\0' && strcmp(keep, "0") != 0)
            fprintf(stderr, "interop: artifacts kept in %s\n", g_dir);
        else
            rm_tree(g_dir);
    }
    return 0;
}
