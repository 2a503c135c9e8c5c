/*
 * interop_go.h - the Go side of the interop tests (tests/interop/
 * test_interop_log.c, test_interop_reject.c, test_interop_server.c):
 * tests/interop/verify.go, which uses only Go's golang.org/x/mod/sumdb/note
 * and sumdb/tlog, run on artifact files written to a mkdtemp directory.
 *
 * The Go program is built once into <build dir>/interop-verify (the
 * directory above the test binary's) when missing or older than verify.go:
 *   GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=<build dir>/gocache \
 *       go build -o <build dir>/interop-verify tests/interop/verify.go
 * A missing `go` is a failure, not a skip (scripts/setup.sh installs
 * golang-go and golang-golang-x-mod-dev).  $HITLQ_INTEROP_VERIFY names a
 * prebuilt verifier instead; $HITLQ_INTEROP_KEEP=1 keeps the artifact
 * directory (its path is printed).  By hand, the Go verifier takes plain
 * files:
 *   build/test/interop-verify checkpoint VKEY checkpoint.note
 *   build/test/interop-verify receipt VKEY receipt.tlog-proof leaf.bin
 *   build/test/interop-verify consistency VKEY old.note new.note proof.txt
 */
#ifndef HITLQ_INTEROP_GO_H
#define HITLQ_INTEROP_GO_H

#include <stddef.h>

#include <sodium.h>

#define INTEROP_B64 sodium_base64_VARIANT_ORIGINAL

/* Takes the build directory from argv[0] (the parent of the binary's
 * directory; "build/test" when argv[0] has no '/'). */
void interop_set_bdir(int argc, char **argv);
/* cmocka group setup: sodium_init, the verifier (built if needed) and a
 * new artifact directory; -1 (reason on stderr) on failure. */
int interop_go_setup(void **state);
/* cmocka group teardown: removes the artifact directory (or keeps it and
 * prints its path when $HITLQ_INTEROP_KEEP is set and not "0"). */
int interop_go_teardown(void **state);

/* Output (stdout + stderr, NUL-terminated) of the last interop_go_run. */
extern char interop_out[16384];
/* Runs the Go verifier with the given arguments (NULL-terminated);
 * returns its exit status (127 when it cannot be run, -1 on a signal). */
int interop_go_run(const char *a0, ...);

/* Go must accept: exit status 0, else the test fails with its output. */
#define GO_OK(...) do {                                                     \
        int rc_ = interop_go_run(__VA_ARGS__, (char *)NULL);                \
        if (rc_ != 0)                                                       \
            fail_msg("Go verifier rejected (exit %d): %s", rc_, interop_out); \
    } while (0)

/* Go must reject with exit status 1 and a message containing `why`. */
#define GO_REJECTS(why, ...) do {                                           \
        int rc_ = interop_go_run(__VA_ARGS__, (char *)NULL);                \
        if (rc_ != 1 || strstr(interop_out, why) == NULL)                   \
            fail_msg("Go verifier: want exit 1 with \"%s\", got exit %d: %s", \
                     why, rc_, interop_out);                                \
    } while (0)

/* Writes data to <artifact dir>/<name>; returns the path (a static ring
 * of 16: valid for the next 15 calls). */
const char *interop_put(const char *name, const void *data, size_t len);
/* The same for a NUL-terminated string. */
const char *interop_put_str(const char *name, const char *s);

#endif
