/*
 * test_audit_drift.c - `hitlq-audit drift` on logs written in the old
 * format (v1: OUTCOME only, no RECOMMENDATION or VERDICT) by the test
 * generator tests/lib/audit_gen.c, without a server: the export still
 * verifies, the review reads it and says which fields the log lacks
 * (legacy agreement not used, no RECOMMENDATION, no input-drift windows),
 * its figures count what a v1 log can give (score drift, routes, reasons),
 * --since/--until and --window select what they say, the output is the
 * same bytes twice, and an export signed by another key gets no report.
 * Runs the real build/test/hitlq-audit from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sys/wait.h>
#include <unistd.h>

#include "aud.h"
#include "audit_gen.h"

#define TOOL "build/test/hitlq-audit"
#define N    600

struct fx {
    char               dir[64];
    struct note_signer key, other;
    char               vkey[NOTE_VKEY_MAX + 1];
    struct gen_log     log;
    char               exp[AUD_PATH_MAX], bad[AUD_PATH_MAX];
};

static int
fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct gen_opts o = { GEN_NONE, GEN_NONE };
    size_t len;
    char *note;

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hitlq-drift-v1.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    gen_signer(&f->key, GEN_ORIGIN, 1);
    gen_signer(&f->other, GEN_ORIGIN, 2);
    gen_vkey(&f->key, f->vkey);
    gen_log_build(&f->log, N, &o);
    snprintf(f->exp, sizeof(f->exp), "%s/exp", f->dir);
    note = gen_checkpoint(&f->log, N, &f->key, &len);
    gen_export(&f->log, N, f->exp, note, len);
    free(note);
    snprintf(f->bad, sizeof(f->bad), "%s/other", f->dir);
    note = gen_checkpoint(&f->log, N, &f->other, &len);
    gen_export(&f->log, N, f->bad, note, len);
    free(note);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    gen_log_free(&f->log);
    note_signer_clear(&f->key);
    note_signer_clear(&f->other);
    free(f);
    return 0;
}

/* Runs `hitlq-audit drift --vkey KEY dir ARGS > f->dir/out` (stderr to
 * f->dir/err); returns the exit status. */
static int
fx_drift(struct fx *f, const char *dir, const char *args, const char *out)
{
    char cmd[2 * AUD_PATH_MAX + 512];
    int st;

    snprintf(cmd, sizeof(cmd), "%s drift --vkey '%s' %s %s > %s/%s 2> %s/err", TOOL, f->vkey,
             dir, args, f->dir, out, f->dir);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *
fx_json(struct fx *f, const char *name)
{
    char path[AUD_PATH_MAX];
    json_error_t e;
    json_t *j;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    j = json_load_file(path, 0, &e);
    if (j == NULL)
        fail_msg("%s: %s", path, e.text);
    return j;
}

/* True when one of the report's "lacks" sentences contains s. */
static bool
fx_lacks(const json_t *j, const char *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(j, "lacks"), i, v)
        if (strstr(json_string_value(v), s) != NULL)
            return true;
    return false;
}

static json_int_t
fx_int(const json_t *j, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(j, a), b));
}

static void
test_v1_log_reads(void **state)
{
    struct fx *f = *state;
    json_t *j, *fmt;

    assert_int_equal(fx_drift(f, f->exp, "--json", "v1.json"), 0);
    j = fx_json(f, "v1.json");
    fmt = json_object_get(json_object_get(j, "entries"), "format");
    assert_true(json_integer_value(json_object_get(fmt, "v1_model_decisions")) > 100);
    assert_true(json_integer_value(json_object_get(fmt, "v1_verdicts")) > 100);
    assert_int_equal(json_integer_value(json_object_get(fmt, "v2_model_decisions")), 0);
    assert_int_equal(json_integer_value(json_object_get(fmt, "v2_verdicts")), 0);
    assert_true(fx_lacks(j, "legacy agreement not used"));
    assert_true(fx_lacks(j, "no RECOMMENDATION"));
    assert_true(fx_lacks(j, "no SCORING"));
    assert_true(fx_lacks(j, "no input-drift windows in this log"));
    assert_int_equal(fx_int(j, "checkpoint", "size"), N);
    /* no comparable verdict: AI vs human has nothing to count, says so */
    assert_int_equal(fx_int(json_object_get(j, "agreement"), "overall", "n"), 0);
    assert_true(fx_int(json_object_get(j, "agreement"), "overall", "legacy_not_used") > 100);
    /* what a v1 log does give: scores, models, reasons of items sent to humans */
    assert_true(fx_int(j, "score_drift", "scored") > 300);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "models"), 0), "model")),
                        "fraud-gbm@2025.06.1");
    assert_true(json_array_size(json_object_get(json_object_get(j, "root_causes"),
                                                "reasons_to_humans")) > 0);
    json_decref(j);
}

static void
test_v1_text_and_determinism(void **state)
{
    struct fx *f = *state;
    char a[96], b[96], cmd[512];

    assert_int_equal(fx_drift(f, f->exp, "--window 1m", "t1.txt"), 0);
    assert_int_equal(fx_drift(f, f->exp, "--window 1m", "t2.txt"), 0);
    snprintf(a, sizeof(a), "%s/t1.txt", f->dir);
    snprintf(b, sizeof(b), "%s/t2.txt", f->dir);
    snprintf(cmd, sizeof(cmd), "cmp -s %s %s && grep -q 'legacy agreement not used' %s && "
             "grep -q 'checkpoint: %s, size %d' %s", a, b, a, GEN_ORIGIN, N, a);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(fx_drift(f, f->exp, "--window 1m --html /dev/null", "h.txt"), 0);
}

static void
test_v1_range_and_windows(void **state)
{
    struct fx *f = *state;
    json_t *j;

    /* the generator's entries are one second apart from 2025-06-15T15:06:40Z */
    assert_int_equal(fx_drift(f, f->exp, "--window 1m --json", "w.json"), 0);
    j = fx_json(f, "w.json");
    assert_true(json_array_size(json_object_get(json_object_get(j, "windows"), "list")) >= 10);
    json_decref(j);
    assert_int_equal(fx_drift(f, f->exp, "--until 2025-06-15 --json", "u.json"), 0);
    j = fx_json(f, "u.json");
    assert_int_equal(fx_int(j, "entries", "model_decisions"), 0);
    assert_true(fx_int(j, "entries", "decisions_outside_range") > 100);
    json_decref(j);
    assert_int_equal(fx_drift(f, f->exp, "--window 5x", "e.txt"), 2);
    assert_int_equal(fx_drift(f, f->exp, "--what-if 1.5", "e.txt"), 2);
}

static void
test_other_key_no_report(void **state)
{
    struct fx *f = *state;
    char path[AUD_PATH_MAX], err[4096] = "";
    FILE *fp;

    assert_int_equal(fx_drift(f, f->bad, "--json", "bad.json"), 1);
    snprintf(path, sizeof(path), "%s/err", f->dir);
    fp = fopen(path, "r");
    assert_non_null(fp);
    err[fread(err, 1, sizeof(err) - 1, fp)] = '\0';
    fclose(fp);
    assert_non_null(strstr(err, "no report"));
    snprintf(path, sizeof(path), "%s/bad.json", f->dir);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_int_equal(fgetc(fp), EOF);
    fclose(fp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_log_reads),
        cmocka_unit_test(test_v1_text_and_determinism),
        cmocka_unit_test(test_v1_range_and_windows),
        cmocka_unit_test(test_other_key_no_report),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
