/*
 * test_fuzz_replay.c - replays the committed fuzz corpora (tests/fuzz/corpus/)
 * through the fuzz targets' bodies under the normal ASan+UBSan test build,
 * so every seed and every saved crash reproducer runs on each `make test`.
 * The targets abort() on a broken invariant.  Run from the repo root.
 */
#define HITLQ_FUZZ_REPLAY 1

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fuzz_frame.c"
#include "fuzz_merkle.c"
#include "fuzz_note.c"
#include "fuzz_proof.c"
#include "fuzz_record.c"
#include "fuzz_validate.c"
#include "fuzz_xgb.c"
#include "fuzz_triage.c"
#include "fuzz_dispatch.c"
#include "fuzz_auth.c"
#include "fuzz_wset.c"

/* Reads a whole file into a malloc'd buffer (NULL-safe for size 0). */
static uint8_t *
replay_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    uint8_t *buf;

    assert_non_null(f);
    assert_int_equal(fstat(fileno(f), &sb), 0);
    *len = (size_t)sb.st_size;
    buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

/* Runs every regular file in dir through fn; returns how many ran. */
static int
replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        uint8_t *buf;
        size_t len;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        buf = replay_read(path, &len);
        assert_int_equal(fn(buf, len), 0);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void
test_replay_frame(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_frame", fuzz_frame_one) >= 10);
}

static void
test_replay_validate(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_validate", fuzz_validate_one) >= 10);
}

static void
test_replay_note(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_note", fuzz_note_one) >= 10);
}

static void
test_replay_proof(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_proof", fuzz_proof_one) >= 10);
}

static void
test_replay_record(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_record", fuzz_record_one) >= 10);
}

static void
test_replay_merkle(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_merkle", fuzz_merkle_one) >= 10);
}

static void
test_replay_xgb(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_xgb", fuzz_xgb_one) >= 3);
}

static void
test_replay_dispatch(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_dispatch", fuzz_dispatch_one) >= 20);
}

static void
test_replay_auth(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_auth", fuzz_auth_one) >= 4);
}

static void
test_replay_triage(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_triage", fuzz_triage_one) >= 10);
}

static void
test_replay_wset(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_wset", fuzz_wset_one) >= 8);
}

/* The targets also survive the degenerate inputs. */
static void
test_replay_edge_inputs(void **state)
{
    static const uint8_t one[1] = { 0 };

    (void)state;
    assert_int_equal(fuzz_frame_one(one, 0), 0);
    assert_int_equal(fuzz_frame_one(one, 1), 0);
    assert_int_equal(fuzz_validate_one(one, 0), 0);
    assert_int_equal(fuzz_validate_one(one, 1), 0);
    assert_int_equal(fuzz_note_one(one, 0), 0);
    assert_int_equal(fuzz_note_one(one, 1), 0);
    assert_int_equal(fuzz_merkle_one(one, 0), 0);
    assert_int_equal(fuzz_merkle_one(one, 1), 0);
    assert_int_equal(fuzz_proof_one(one, 0), 0);
    assert_int_equal(fuzz_proof_one(one, 1), 0);
    assert_int_equal(fuzz_record_one(one, 0), 0);
    assert_int_equal(fuzz_record_one(one, 1), 0);
    assert_int_equal(fuzz_xgb_one(one, 0), 0);
    assert_int_equal(fuzz_xgb_one(one, 1), 0);
    assert_int_equal(fuzz_triage_one(one, 0), 0);
    assert_int_equal(fuzz_triage_one(one, 1), 0);
    assert_int_equal(fuzz_dispatch_one(one, 0), 0);
    assert_int_equal(fuzz_dispatch_one(one, 1), 0);
    assert_int_equal(fuzz_auth_one(one, 0), 0);
    assert_int_equal(fuzz_auth_one(one, 1), 0);
    assert_int_equal(fuzz_wset_one(one, 0), 0);
    assert_int_equal(fuzz_wset_one(one, 1), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_frame),
        cmocka_unit_test(test_replay_validate),
        cmocka_unit_test(test_replay_note),
        cmocka_unit_test(test_replay_merkle),
        cmocka_unit_test(test_replay_xgb),
        cmocka_unit_test(test_replay_auth),
        cmocka_unit_test(test_replay_triage),
        cmocka_unit_test(test_replay_wset),
        cmocka_unit_test(test_replay_dispatch),
        cmocka_unit_test(test_replay_record),
        cmocka_unit_test(test_replay_proof),
        cmocka_unit_test(test_replay_edge_inputs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
