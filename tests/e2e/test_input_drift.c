/*
 * test_input_drift.c - input drift through a real hitlqd (bundled policy,
 * drift_window_s = 2): the German Credit rows (tests/lib/credit_items.c)
 * are submitted, the first half as they are and the second half, in
 * later windows, with the credit amount x 3.  DRIFT_INPUTS over the second
 * half's windows ranks `amount` first by PSI and keeps every other feature
 * under 0.1; its PSI and Jensen-Shannon figures equal a numpy computation
 * (Debian's python3-numpy, /usr/bin/python3) to 1e-9, and numpy's binning
 * of the shifted CSV amounts gives the server's counts.  Once the windows
 * have closed, the log holds one PROFILE_REGISTERED entry with the
 * reference counts and INPUT_WINDOW entries whose counts add up to exactly
 * what DRIFT_INPUTS reports, for each half.  Also: the errors and the CLI.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "credit_items.h"
#include "e2e_util.h"
#include "harness.h"
#include "hitlq_msgpack.h"
#include "record.h"
#include "wire.h"

#define WINDOW_MS  2000u
#define NF_MAX     64
#define PYTHON     "/usr/bin/python3"

static struct hserver S;
static struct credit_item *CI;
static size_t NCI;

static int
srv_setup(void **st)
{
    (void)st;
    return harness_server_start(&S, HARNESS_EMBEDDED_POLICY "drift_window_s = 2\n"
                                "audit_checkpoint_ms = 200\n") < 0 ? -1 : 0;
}

static int
srv_teardown(void **st)
{
    (void)st;
    int rc = harness_server_stop(&S);

    harness_server_cleanup(&S);
    return rc;
}

static hitlq *
cli(void)
{
    return e2e_connect(S.port, "drift-test", 60000);
}

static uint64_t
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleeps until the next window starts (plus a margin); returns its start. */
static uint64_t
next_window(void)
{
    uint64_t now = wall_ms(), start = now - now % WINDOW_MS + WINDOW_MS;

    harness_sleep_ms((unsigned)(start - now) + 50);
    return start;
}

/* Item i's fields with amount x mult (repacked into sb). */
static void
pack_fields(size_t i, unsigned mult, msgpack_sbuffer *sb)
{
    msgpack_unpacked up;
    msgpack_packer pk;

    msgpack_unpacked_init(&up);
    assert_int_equal(msgpack_unpack_next(&up, (const char *)CI[i].fields, CI[i].fields_len,
                                         NULL), MSGPACK_UNPACK_SUCCESS);
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, up.data.via.map.size);
    for (uint32_t k = 0; k < up.data.via.map.size; k++) {
        const msgpack_object_kv *kv = &up.data.via.map.ptr[k];
        bool amt = kv->key.via.str.size == 6 && memcmp(kv->key.via.str.ptr, "amount", 6) == 0;

        msgpack_pack_object(&pk, kv->key);
        if (amt && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            msgpack_pack_uint64(&pk, kv->val.via.u64 * mult);
        else if (amt)
            msgpack_pack_double(&pk, kv->val.via.f64 * mult);
        else
            msgpack_pack_object(&pk, kv->val);
    }
    msgpack_unpacked_destroy(&up);
}

/* Submits rows [from, to) with amount x mult. */
static void
submit_rows(hitlq *c, size_t from, size_t to, unsigned mult)
{
    size_t n = to - from;
    hitlq_item *it = calloc(n, sizeof *it);
    msgpack_sbuffer *sb = calloc(n, sizeof *sb);
    hitlq_decision *d = calloc(n, sizeof *d);
    int *st = calloc(n, sizeof *st);

    for (size_t i = 0; i < n; i++) {
        pack_fields(from + i, mult, &sb[i]);
        it[i] = (hitlq_item){ .key = CI[from + i].key, .type = "credit_application",
                              .fields = sb[i].data, .fields_len = sb[i].size, .priority = -1 };
    }
    assert_int_equal(hitlq_submit_batch(c, it, n, 32, d, st), HITLQ_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(st[i], HITLQ_OK);
        assert_false(d[i].duplicate);
        msgpack_sbuffer_destroy(&sb[i]);
    }
    free(it), free(sb), free(d), free(st);
}

/* ---- reading the DRIFT_INPUTS reply ------------------------------------------ */

struct feat {
    char     field[64];
    unsigned m;                          /* bins */
    uint64_t cur[66], ref[66];           /* bins, missing, unseen */
    double   psi, js, edges[64];
    uint64_t rank;
};

static uint64_t
u64_at(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = wire_map_get(m, k);

    assert_non_null(o);
    assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    return o->via.u64;
}

static double
f64_at(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = wire_map_get(m, k);

    assert_non_null(o);
    assert_true(o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32);
    return o->via.f64;
}

static void
u64_array(const msgpack_object *m, const char *k, uint64_t *out, unsigned n)
{
    const msgpack_object *a = wire_map_get(m, k);

    assert_true(a != NULL && a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size == n);
    for (unsigned i = 0; i < n; i++)
        out[i] = a->via.array.ptr[i].via.u64;
}

/* DRIFT_INPUTS for windows starting in [from, to): fills f (ranked order). */
static size_t
drift_read(hitlq *c, uint64_t from, uint64_t to, struct feat *f, uint64_t *n, char *digest)
{
    hitlq_reply *r = NULL;
    const msgpack_object *fs;
    size_t nf;

    assert_int_equal(hitlq_drift_inputs(c, "credit_application", from, to, &r), HITLQ_OK);
    assert_true(hitlq_reply_get_u64(r, "n", n));
    assert_true(hitlq_reply_copy_str(r, "profile", digest, 65) == 64);
    fs = hitlq_reply_get(r, "features");
    assert_true(fs != NULL && fs->type == MSGPACK_OBJECT_ARRAY);
    nf = fs->via.array.size;
    assert_int_equal(nf, 20);
    for (size_t i = 0; i < nf; i++) {
        const msgpack_object *m = &fs->via.array.ptr[i], *e = wire_map_get(m, "edges");
        const msgpack_object *name = wire_map_get(m, "field");

        memset(&f[i], 0, sizeof f[i]);
        snprintf(f[i].field, sizeof f[i].field, "%.*s", (int)name->via.str.size,
                 name->via.str.ptr);
        f[i].m = e != NULL ? e->via.array.size + 1
                           : wire_map_get(m, "categories")->via.array.size;
        for (unsigned b = 0; e != NULL && b + 1 < f[i].m; b++)
            f[i].edges[b] = e->via.array.ptr[b].via.f64;
        u64_array(m, "counts", f[i].cur, f[i].m);
        u64_array(m, "ref_counts", f[i].ref, f[i].m);
        f[i].cur[f[i].m] = u64_at(m, "missing");
        f[i].cur[f[i].m + 1] = u64_at(m, "unseen");
        f[i].ref[f[i].m] = u64_at(m, "ref_missing");
        f[i].rank = u64_at(m, "rank");
        assert_int_equal(f[i].rank, i + 1);
        if (*n == 0) {                           /* nothing to compare: nil */
            assert_int_equal(wire_map_get(m, "psi")->type, MSGPACK_OBJECT_NIL);
            continue;
        }
        f[i].psi = f64_at(m, "psi");
        f[i].js = f64_at(m, "js_div");
    }
    hitlq_reply_free(r);
    return nf;
}

/* ---- the numpy oracle ------------------------------------------------------------ */

static const char *const ORACLE =
    "import csv, json, sys\n"
    "import numpy as np\n"
    "d = json.load(open(sys.argv[1]))\n"
    "for f in d['features']:\n"
    "    e = np.array(f['ref'], float); a = np.array(f['cur'], float)\n"
    "    k = (e + a) > 0; e = e[k] / e[k].sum(); a = a[k] / a[k].sum()\n"
    "    m = (e + a) / 2\n"
    "    js = 0.5 * np.sum(e[e > 0] * np.log2(e[e > 0] / m[e > 0])) + \\\n"
    "         0.5 * np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0]))\n"
    "    e = np.where(e > 0, e, 1e-4); a = np.where(a > 0, a, 1e-4)\n"
    "    e = e / e.sum(); a = a / a.sum()\n"
    "    print('%.17g %.17g' % (np.sum((a - e) * np.log(a / e)), js))\n"
    "rows = list(csv.reader(open(d['csv'])))\n"
    "col = rows[0].index('Amount')\n"
    "v = np.array([float(r[col]) * 3 for r in rows[1 + d['from']:1 + d['to']]])\n"
    "c = np.bincount(np.searchsorted(np.array(d['edges']), v, side='right'),\n"
    "                minlength=len(d['edges']) + 1)\n"
    "print(' '.join(str(int(x)) for x in c))\n";

static void
json_u64s(FILE *f, const uint64_t *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%s%llu", i ? ", " : "[", (unsigned long long)v[i]);
    fprintf(f, "]");
}

/* Runs the oracle on f[0..nf) and the amounts of rows [from, to); checks. */
static void
oracle_check(const struct feat *f, size_t nf, size_t from, size_t to)
{
    char dir[] = "/tmp/hitlq-drift-XXXXXX", data[96], py[96], cmd[400], line[4096];
    const struct feat *amt = NULL;
    FILE *o, *p;

    if (access(PYTHON, X_OK) != 0)
        fail_msg("%s not found (Debian python3-numpy is the oracle)", PYTHON);
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/d.json", dir);
    snprintf(py, sizeof py, "%s/o.py", dir);
    assert_non_null(o = fopen(py, "w"));
    fputs(ORACLE, o);
    fclose(o);
    assert_non_null(o = fopen(data, "w"));
    fprintf(o, "{\"csv\": \"%s\", \"from\": %zu, \"to\": %zu, \"features\": [", CREDIT_ITEMS_CSV,
            from, to);
    for (size_t i = 0; i < nf; i++) {
        fprintf(o, "%s{\"ref\": ", i ? ", " : "");
        json_u64s(o, f[i].ref, f[i].m + 2);
        fprintf(o, ", \"cur\": ");
        json_u64s(o, f[i].cur, f[i].m + 2);
        fprintf(o, "}");
        if (strcmp(f[i].field, "amount") == 0)
            amt = &f[i];
    }
    assert_non_null(amt);
    fprintf(o, "], \"edges\": [");
    for (unsigned b = 0; b + 1 < amt->m; b++)
        fprintf(o, "%s%.17g", b ? ", " : "", amt->edges[b]);
    fprintf(o, "]}\n");
    fclose(o);
    snprintf(cmd, sizeof cmd, "%s %s %s", PYTHON, py, data);
    assert_non_null(p = popen(cmd, "r"));
    for (size_t i = 0; i < nf; i++) {
        double psi, js;

        assert_non_null(fgets(line, sizeof line, p));
        assert_int_equal(sscanf(line, "%lf %lf", &psi, &js), 2);
        if (fabs(psi - f[i].psi) > 1e-9 || fabs(js - f[i].js) > 1e-9)
            fail_msg("%s: server psi %.17g js %.17g, numpy %.17g %.17g", f[i].field, f[i].psi,
                     f[i].js, psi, js);
    }
    assert_non_null(fgets(line, sizeof line, p));
    char *s = line;
    for (unsigned b = 0; b < amt->m; b++)
        assert_int_equal(strtoull(s, &s, 10), amt->cur[b]);    /* numpy bins = server's */
    assert_int_equal(pclose(p), 0);
    unlink(data), unlink(py), rmdir(dir);
}

/* ---- the log's entries -------------------------------------------------------- */

struct logsum {
    uint64_t n[2];                       /* items: windows before / from split */
    uint64_t c[2][NF_MAX][66];           /* per half, profile order: bins, missing, unseen */
    unsigned profiles, windows;
    char     names[NF_MAX][64];
    unsigned m[NF_MAX], nf;
    uint64_t ref[NF_MAX][66];
};

static void
log_entry(const struct record *r, uint64_t split, struct logsum *ls)
{
    static struct record_ext_profile pr;
    static struct record_ext_input_counts ic;

    assert_int_equal(r->ext_count, 1);
    if (r->record_type == RECORD_PROFILE_REGISTERED) {
        assert_int_equal(r->ext[0].type, RECORD_EXT_PROFILE);
        assert_int_equal(record_ext_profile_decode(r->ext[0].data, r->ext[0].len, &pr), RECORD_OK);
        ls->profiles++;
        ls->nf = pr.n_features;
        for (unsigned i = 0; i < pr.n_features; i++) {
            snprintf(ls->names[i], sizeof ls->names[i], "%.*s", (int)pr.f[i].name.len,
                     (const char *)pr.f[i].name.data);
            ls->m[i] = pr.f[i].n_bins;
            for (unsigned b = 0; b < pr.f[i].n_bins; b++)
                ls->ref[i][b] = pr.f[i].count[b];
            ls->ref[i][pr.f[i].n_bins] = pr.f[i].missing;
        }
        return;
    }
    assert_int_equal(r->ext[0].type, RECORD_EXT_INPUT_COUNTS);
    assert_int_equal(record_ext_input_counts_decode(r->ext[0].data, r->ext[0].len, &ic),
                     RECORD_OK);
    assert_int_equal(ic.window_end_ms - ic.window_start_ms, WINDOW_MS);
    assert_true(r->time_ms >= ic.window_end_ms);           /* written once it closed */
    int h = ic.window_start_ms >= split;
    ls->windows++;
    ls->n[h] += ic.n;
    for (unsigned i = 0; i < ic.n_features; i++) {
        for (unsigned b = 0; b < ic.f[i].n_bins; b++)
            ls->c[h][i][b] += ic.f[i].count[b];
        ls->c[h][i][ic.f[i].n_bins] += ic.f[i].missing;
        ls->c[h][i][ic.f[i].n_bins + 1] += ic.f[i].unseen;
    }
}

/* Reads the whole log into ls (PROFILE_REGISTERED and INPUT_WINDOW only). */
static void
log_read(hitlq *c, uint64_t split, struct logsum *ls)
{
    static struct record r;
    uint64_t at = 0;
    size_t got;

    memset(ls, 0, sizeof *ls);
    do {
        hitlq_reply *rep = NULL;
        const msgpack_object *e;

        assert_int_equal(hitlq_audit_entries(c, at, 1024, &rep, &got), HITLQ_OK);
        e = hitlq_reply_get(rep, "entries");
        for (size_t i = 0; i < got; i++) {
            const msgpack_object *b = &e->via.array.ptr[i];

            assert_int_equal(record_decode((const uint8_t *)b->via.bin.ptr, b->via.bin.size,
                                           &r), RECORD_OK);
            if (r.record_type == RECORD_PROFILE_REGISTERED ||
                r.record_type == RECORD_INPUT_WINDOW)
                log_entry(&r, split, ls);
        }
        hitlq_reply_free(rep);
        at += got;
    } while (got > 0);
}

/* The log's sums of half h equal DRIFT_INPUTS' counts f[0..nf). */
static void
log_matches(const struct logsum *ls, int h, const struct feat *f, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        unsigned k = 0;

        while (k < ls->nf && strcmp(ls->names[k], f[i].field) != 0)
            k++;
        assert_true(k < ls->nf);
        assert_int_equal(ls->m[k], f[i].m);
        for (unsigned b = 0; b < f[i].m + 2; b++) {
            if (ls->c[h][k][b] != f[i].cur[b])
                fail_msg("%s slot %u: log %llu, DRIFT_INPUTS %llu", f[i].field, b,
                         (unsigned long long)ls->c[h][k][b], (unsigned long long)f[i].cur[b]);
            if (b <= f[i].m)
                assert_int_equal(ls->ref[k][b], f[i].ref[b]);
        }
    }
}

/* ---- tests ---------------------------------------------------------------------- */

static void
test_shift_detected(void **st)
{
    static struct feat f1[NF_MAX], f2[NF_MAX];
    static struct logsum ls;
    char dg1[65], dg2[65];
    uint64_t n1, n2, split, deadline;
    hitlq *c = cli();
    size_t half = NCI / 2, nf;

    (void)st;
    next_window();
    submit_rows(c, 0, half, 1);
    split = next_window();
    submit_rows(c, half, NCI, 3);                 /* the deliberate shift */
    nf = drift_read(c, split, 0, f2, &n2, dg2);
    assert_int_equal(n2, NCI - half);
    assert_string_equal(f2[0].field, "amount");   /* ranks first by PSI */
    assert_true(f2[0].psi > 0.25);
    for (size_t i = 1; i < nf; i++)
        if (!(f2[i].psi < 0.1))
            fail_msg("unshifted %s has PSI %g", f2[i].field, f2[i].psi);
    oracle_check(f2, nf, half, NCI);
    drift_read(c, 0, split, f1, &n1, dg1);
    assert_int_equal(n1, half);
    assert_string_equal(dg1, dg2);
    for (size_t i = 0; i < nf; i++)
        assert_true(f1[i].psi < 0.1);             /* the first half: no drift */
    /* The windows close (idle tick) and their counts reach the log. */
    deadline = wall_ms() + 20000;
    do {
        harness_sleep_ms(300);
        log_read(c, split, &ls);
    } while (ls.n[0] + ls.n[1] < NCI && wall_ms() < deadline);
    assert_int_equal(ls.profiles, 1);
    assert_int_equal(ls.n[0], half);
    assert_int_equal(ls.n[1], NCI - half);
    log_matches(&ls, 0, f1, nf);
    log_matches(&ls, 1, f2, nf);
    hitlq_free(c);
}

static void
test_errors_and_cli(void **st)
{
    static struct feat f[NF_MAX];
    struct hserver s2;
    hitlq_reply *r = NULL;
    char dg[65], cmd[300], out[8192];
    uint64_t n;
    hitlq *c = cli();
    size_t len;
    FILE *p;

    (void)st;
    drift_read(c, 0, 0, f, &n, dg);               /* nothing counted yet */
    assert_int_equal(n, 0);
    assert_int_equal(hitlq_drift_inputs(c, "nope", 0, 0, &r), HITLQ_ST_UNKNOWN_TYPE);
    hitlq_reply_free(r);
    submit_rows(c, 0, 20, 1);
    snprintf(cmd, sizeof cmd, "%s -p %u drift-inputs credit_application 2>&1", HARNESS_CLI,
             S.port);
    assert_non_null(p = popen(cmd, "r"));
    len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "20 items"));
    assert_non_null(strstr(out, "RANK"));
    assert_non_null(strstr(out, "duration_months"));
    hitlq_free(c);
    /* A policy without a profile (the example scorecard): not_found. */
    memset(&s2, 0, sizeof s2);
    assert_true(harness_server_start(&s2, NULL) > 0);
    hitlq_options o = { .host = "127.0.0.1", .port = s2.port, .name = "t", .timeout_ms = 9000 };
    assert_non_null(c = hitlq_connect(&o));
    assert_int_equal(hitlq_drift_inputs(c, "credit_application", 0, 0, &r), HITLQ_ST_NOT_FOUND);
    hitlq_reply_free(r);
    hitlq_free(c);
    assert_int_equal(harness_server_stop(&s2), 0);
    harness_server_cleanup(&s2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shift_detected, srv_setup, srv_teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_cli, srv_setup, srv_teardown),
    };
    int rc;

    if (credit_items_load(CREDIT_ITEMS_CSV, &CI, &NCI) != 0 || NCI < 600) {
        fprintf(stderr, "cannot load %s\n", CREDIT_ITEMS_CSV);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    credit_items_free(CI, NCI);
    return rc;
}
