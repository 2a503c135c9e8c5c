/*
 * aud_drift.c - `hitlq-audit drift`: the drift and root-cause review of a
 * tlog-tiles export, offline, trusting only the log's public key.  The
 * export is verified with `verify`'s own code (client/audit/aud_verify.c),
 * whose per-entry hook hands every checked entry to the reader
 * (client/audit/aud_drift_read.c); a report is made only when the whole
 * export verified, and it names the checkpoint it was computed from.
 * Then the figures (aud_drift_agree.c, _qa.c, _score.c, _roots.c) fill
 * one JSON tree, rendered as a terminal table, JSON or one HTML file.
 *
 *   hitlq-audit drift --vkey-file F DIR [--since T] [--until T]
 *       [--window 1d] [--reference first|T] [--what-if X ...]
 *       [--qa-rate R] [--json | --html FILE]
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aud_drift.h"

/* One option into o; AUD_USAGE on a bad value. */
static enum aud_class
dr_option(struct dr_opts *o, int ch, const char *val, struct aud_result *r)
{
    switch (ch) {
    case 'k': return aud_keys_add(&o->keys, val, strlen(val), r);
    case 'K': return aud_keys_load(&o->keys, val, r);
    case 'j': o->format = DR_JSON; return AUD_OK;
    case 'H': o->format = DR_HTML; o->html_path = val; return AUD_OK;
    case 's':
        return dr_parse_time(val, &o->since_ms) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--since wants YYYY-MM-DD[THH:MM[:SS]] or Unix ms");
    case 'u':
        return dr_parse_time(val, &o->until_ms) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--until wants YYYY-MM-DD[THH:MM[:SS]] or Unix ms");
    case 'w':
        snprintf(o->window_text, sizeof(o->window_text), "%s", val);
        return dr_parse_width(val, &o->window_ms) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--window wants N followed by ms, s, m, h, d or w");
    case 'r':
        o->ref_first = strcmp(val, "first") == 0;
        return o->ref_first || dr_parse_time(val, &o->ref_ms) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--reference wants \"first\" or a time in the window");
    case 'q':
        return dr_parse_double(val, 1e-9, 1.0, &o->qa_rate) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--qa-rate wants a rate in (0, 1]");
    case 'x':
        if (o->n_what_if == DR_WHATIF_MAX)
            return aud_fail(r, AUD_USAGE, "at most %d --what-if thresholds", DR_WHATIF_MAX);
        return dr_parse_double(val, 0.0, 1.0, &o->what_if[o->n_what_if++]) ? AUD_OK :
               aud_fail(r, AUD_USAGE, "--what-if wants a threshold in [0, 1]");
    default:
        return aud_fail(r, AUD_USAGE, "unknown option");
    }
}

static enum aud_class
dr_parse(int argc, char **argv, struct dr_opts *o, struct aud_result *r)
{
    static const struct option opts[] = {
        { "vkey", required_argument, NULL, 'k' },
        { "vkey-file", required_argument, NULL, 'K' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "window", required_argument, NULL, 'w' },
        { "reference", required_argument, NULL, 'r' },
        { "what-if", required_argument, NULL, 'x' },
        { "qa-rate", required_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },
        { "html", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    enum aud_class cls = AUD_OK;
    int ch;

    o->until_ms = UINT64_MAX;
    o->window_ms = 86400000u;
    snprintf(o->window_text, sizeof(o->window_text), "1d");
    o->ref_first = true;
    o->qa_rate = -1.0;
    optind = 1;
    opterr = 0;
    while (cls == AUD_OK && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
        cls = ch == '?' ? aud_fail(r, AUD_USAGE, "unknown option or missing value: %s",
                                   argv[optind - 1])
                        : dr_option(o, ch, optarg, r);
    if (cls != AUD_OK)
        return cls;
    if (argc - optind != 1)
        return aud_fail(r, AUD_USAGE, "drift wants one export directory");
    if (o->keys.n == 0)
        return aud_fail(r, AUD_USAGE, "no trusted key: give --vkey or --vkey-file");
    if (o->since_ms >= o->until_ms)
        return aud_fail(r, AUD_USAGE, "--since is not before --until");
    o->dir = argv[optind];
    return AUD_OK;
}

static enum aud_class
dr_on_entry(void *arg, uint64_t pos, const struct record *rec, struct aud_result *r)
{
    return dr_read_entry(arg, pos, rec, r);
}

/* Verifies the export, reading every entry as it is checked. */
static enum aud_class
dr_verify_read(const struct dr_opts *o, struct dr_read *d, struct aud_checkpoint *cp,
               struct aud_result *r)
{
    struct aud_verify_opts vo = { .dir = o->dir, .keys = &o->keys,
                                  .on_entry = dr_on_entry, .on_entry_arg = d };
    struct aud_verify_stats st = { 0 };
    char path[AUD_PATH_MAX];
    enum aud_class cls;

    if (strlen(o->dir) > AUD_DIR_MAX)
        return aud_fail(r, AUD_USAGE, "export directory path too long");
    snprintf(path, sizeof(path), "%s/checkpoint", o->dir);
    if ((cls = aud_checkpoint_load(cp, path, &o->keys, r)) != AUD_OK)
        return cls;
    if ((cls = aud_verify(&vo, &st, r)) != AUD_OK)
        return cls;
    if (st.entries != cp->cp.size || d->entries != cp->cp.size)
        return aud_fail(r, AUD_IO, "%s changed during the review", path);
    if (dr_read_flush_policy(d) != 0)
        return aud_fail(r, AUD_IO, "out of memory");
    return AUD_OK;
}

/* The reference window: the first, or the one holding --reference T. */
static enum aud_class
dr_reference(struct dr_ctx *c, struct aud_result *r)
{
    const struct dr_read *d = c->d;
    uint64_t start = c->o->ref_ms - c->o->ref_ms % c->o->window_ms;

    c->ref_window = DR_NONE;
    if (d->n_windows == 0)
        return AUD_OK;
    if (c->o->ref_first) {
        c->ref_window = 0;
        return AUD_OK;
    }
    for (size_t w = 0; w < d->n_windows; w++)
        if (d->windows[w].start_ms == start)
            c->ref_window = (uint32_t)w;
    return c->ref_window != DR_NONE ? AUD_OK :
           aud_fail(r, AUD_USAGE, "no model decision in the --reference window");
}

static int
dr_u32_cmp_str(const void *a, const void *b, void *arg)
{
    const struct dr_strs *t = arg;

    return strcmp(dr_str(t, *(const uint32_t *)a), dr_str(t, *(const uint32_t *)b));
}

/* Adds id to the label set (ignored when full or already in). */
static void
dr_label_add(struct dr_ctx *c, uint32_t id)
{
    for (unsigned i = 0; i < c->n_labels; i++)
        if (c->labels[i] == id)
            return;
    if (c->n_labels < DR_LABELS_MAX)
        c->labels[c->n_labels++] = id;
}

/* The action names (recommendations and comparable verdicts), the policy's
 * auto and reject actions, sorted labels. */
static void
dr_labels(struct dr_ctx *c)
{
    struct dr_read *d = c->d;

    c->auto_action = c->reject_action = DR_NONE;
    for (size_t i = 0; i < d->n_items; i++) {
        const struct dr_item *it = &d->items[i];
        if (!(it->flags & DR_HAS_REC) || !(it->flags & DR_SCORED) ||
            d->strs.len[it->rec] == 0)
            continue;
        dr_label_add(c, it->rec);
        if (it->score >= it->lean && c->auto_action == DR_NONE)
            c->auto_action = it->rec;
        else if (it->score < it->lean && c->reject_action == DR_NONE)
            c->reject_action = it->rec;
    }
    for (size_t i = 0; i < d->n_verdicts; i++)
        if (d->verdicts[i].agreement == RECORD_AGREE_AGREED ||
            d->verdicts[i].agreement == RECORD_AGREE_OVERRODE)
            dr_label_add(c, d->verdicts[i].outcome);
    qsort_r(c->labels, c->n_labels, sizeof(c->labels[0]), dr_u32_cmp_str, &d->strs);
}

/* QA sampling rate per automated route: --qa-rate, else the share of the
 * route's decisions the log marks as drawn for QA. */
static void
dr_qa_rates(struct dr_ctx *c)
{
    uint64_t n[8] = { 0 }, qa[8] = { 0 };

    for (size_t i = 0; i < c->d->n_items; i++) {
        const struct dr_item *it = &c->d->items[i];
        n[it->route & 7]++;
        qa[it->route & 7] += (it->flags & DR_QA) != 0;
    }
    c->qa_rate_given = c->o->qa_rate > 0;
    for (unsigned rt = 0; rt < 8; rt++) {
        c->qa_rate[rt] = -1.0;
        if (rt != RECORD_ROUTE_AUTO_APPROVE && rt != RECORD_ROUTE_AUTO_REJECT)
            continue;
        if (c->qa_rate_given)
            c->qa_rate[rt] = c->o->qa_rate;
        else if (qa[rt] > 0)
            c->qa_rate[rt] = (double)qa[rt] / (double)n[rt];
    }
}

/* Every section into one object, in a fixed order. */
static json_t *
dr_report(const struct dr_ctx *c)
{
    json_t *rep = json_object();

    if (rep == NULL || dr_header_json(c, rep) != 0 || dr_agree_json(c, rep) != 0 ||
        dr_qa_json(c, rep) != 0 || dr_calib_json(c, rep) != 0 ||
        dr_score_json(c, rep) != 0 || dr_input_json(c, rep) != 0 ||
        dr_roots_json(c, rep) != 0 || dr_whatif_json(c, rep) != 0) {
        json_decref(rep);
        return NULL;
    }
    return rep;
}

/* Writes the report in the chosen format. */
static enum aud_class
dr_write(const struct dr_opts *o, const json_t *rep, struct aud_result *r)
{
    FILE *f = stdout;
    int rc;

    if (o->format == DR_JSON) {
        rc = json_dumpf(rep, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        rc = rc == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
    } else if (o->format == DR_TEXT) {
        rc = dr_render_text(rep, stdout);
    } else {
        if ((f = fopen(o->html_path, "w")) == NULL)
            return aud_fail(r, AUD_IO, "cannot write %s", o->html_path);
        rc = dr_render_html(rep, f);
        rc = fclose(f) != 0 ? -1 : rc;
    }
    if (rc != 0 || fflush(stdout) != 0)
        return aud_fail(r, AUD_IO, "cannot write the report");
    return AUD_OK;
}

enum aud_class
aud_drift_main(int argc, char **argv, struct aud_result *r)
{
    struct dr_opts *o = calloc(1, sizeof(*o));
    struct dr_read *d = malloc(sizeof(*d));
    struct aud_checkpoint cp = { 0 };
    struct dr_ctx c = { 0 };
    enum aud_class cls;
    json_t *rep = NULL;

    if (o == NULL || d == NULL) {
        free(o);
        free(d);
        return aud_fail(r, AUD_IO, "out of memory");
    }
    dr_read_init(d, o);
    if ((cls = dr_parse(argc, argv, o, r)) == AUD_OK &&
        (cls = dr_verify_read(o, d, &cp, r)) == AUD_OK) {
        c = (struct dr_ctx){ .o = o, .d = d, .cp = &cp };
        dr_labels(&c);
        dr_qa_rates(&c);
        if ((cls = dr_reference(&c, r)) == AUD_OK) {
            if ((rep = dr_report(&c)) == NULL)
                cls = aud_fail(r, AUD_IO, "out of memory");
            else
                cls = dr_write(o, rep, r);
        }
    } else if (cls != AUD_USAGE) {
        fprintf(stderr, "hitlq-audit: drift: no report: the export does not verify\n");
    }
    json_decref(rep);
    aud_checkpoint_clear(&cp);
    dr_read_clear(d);
    free(d);
    free(o);
    return cls;
}
