/*
 * aud_drift_text.c - the terminal table of the drift report
 * (client/audit/aud_drift.h): the JSON tree the figures built, printed as
 * readable sections with fixed number formats (%.4f, counts as integers;
 * "-" for a figure that is undefined), every figure with its n.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aud_drift.h"

/* A column of a table of JSON objects. */
struct dr_col {
    const char *hdr;
    const char *field;       /* "a.b" reaches into a sub-object */
    char        kind;        /* 's' string, 'i' integer, 'f' %.4f, 'c' interval, 'p' %.1f%,
                                '0' %.0f */
    int         width;
};

/* One cell of col from o into out[64]. */
static const char *
dr_t_cell(const json_t *o, const struct dr_col *col, char out[64])
{
    const json_t *v = dr_get(o, col->field);
    double x = dr_printable(v);

    switch (col->kind) {
    case 's':
        snprintf(out, 64, "%s", json_is_string(v) ? json_string_value(v) : "-");
        break;
    case 'i':
        snprintf(out, 64, json_is_integer(v) ? "%lld" : "-",
                 (long long)json_integer_value(v));
        break;
    case 'c':
        if (isfinite(dr_printable(json_object_get(v, "est"))))
            snprintf(out, 64, "%.4f [%.4f,%.4f]", dr_printable(json_object_get(v, "est")),
                     dr_printable(json_object_get(v, "lo")), dr_printable(json_object_get(v, "hi")));
        else
            snprintf(out, 64, "-");
        break;
    case 'p':
        snprintf(out, 64, isfinite(x) ? "%.1f%%" : "-", 100.0 * x);
        break;
    case '0':
        snprintf(out, 64, isfinite(x) ? "%.0f" : "-", x);
        break;
    default:
        snprintf(out, 64, isfinite(x) ? "%.4f" : "-", x);
        break;
    }
    return out;
}

/* A table: one header line, then one line per object of rows. */
static void
dr_t_table(FILE *f, const json_t *rows, const struct dr_col *cols, size_t ncols)
{
    char cell[64];
    size_t i;
    const json_t *row;

    fprintf(f, "   ");
    for (size_t k = 0; k < ncols; k++)
        fprintf(f, k == 0 ? " %-*s" : " %*s", cols[k].width, cols[k].hdr);
    fputc('\n', f);
    DR_EACH(rows, i, row) {
        fprintf(f, "   ");
        for (size_t k = 0; k < ncols; k++)
            fprintf(f, k == 0 ? " %-*s" : " %*s", cols[k].width, dr_t_cell(row, &cols[k], cell));
        fputc('\n', f);
    }
    if (json_array_size(rows) == 0)
        fprintf(f, "    (none)\n");
}

static const char *
dr_t_str(const json_t *o, const char *path)
{
    const json_t *v = dr_get(o, path);

    return json_is_string(v) ? json_string_value(v) : "-";
}

static void
dr_t_header(FILE *f, const json_t *rep)
{
    static const struct dr_col wcols[] = {
        { "window start", "start", 's', 24 }, { "decisions", "decisions", 'i', 10 },
        { "scored", "scored", 'i', 8 }, { "verdicts", "verdicts", 'i', 9 },
    };
    const json_t *cp = json_object_get(rep, "checkpoint"), *v;
    size_t i;

    fprintf(f, "hitlq drift review\n\ncheckpoint: %s, size %lld, root %s (signature %s)\n",
            dr_t_str(cp, "origin"), (long long)json_integer_value(json_object_get(cp, "size")),
            dr_t_str(cp, "root_hash"),
            json_is_true(json_object_get(cp, "signature_verified")) ? "verified" : "NOT verified");
    fprintf(f, "decisions: %s .. %s (since %s, until %s)\n",
            dr_t_str(rep, "range.first_decision"), dr_t_str(rep, "range.last_decision"),
            dr_t_str(rep, "range.since"), dr_t_str(rep, "range.until"));
    fprintf(f, "windows: %s by %s; reference: %s\n", dr_t_str(rep, "windows.width"),
            dr_t_str(rep, "windows.by"), dr_t_str(rep, "windows.reference"));
    dr_t_table(f, dr_get(rep, "windows.list"), wcols, 4);
    fprintf(f, "models (by digest):\n");
    DR_EACH(json_object_get(rep, "models"), i, v)
        fprintf(f, "    %s  %s  %s  decisions %lld, registered %s\n", dr_t_str(v, "digest"),
                dr_t_str(v, "model"), dr_t_str(v, "framework"),
                (long long)json_integer_value(json_object_get(v, "decisions")),
                dr_t_str(v, "registered"));
    fprintf(f, "policies:\n");
    DR_EACH(json_object_get(rep, "policies"), i, v) {
        const json_t *ch;
        size_t k;
        fprintf(f, "    %s  decisions %lld\n", dr_t_str(v, "policy"),
                (long long)json_integer_value(json_object_get(v, "decisions")));
        DR_EACH(json_object_get(v, "changes"), k, ch)
            fprintf(f, "      loaded %s  sha256 %s\n", dr_t_str(ch, "time"),
                    dr_t_str(ch, "policy_file_sha256"));
    }
    fprintf(f, "actions: auto %s, reject %s\nthe log lacks:\n", dr_t_str(rep, "actions.auto_action"),
            dr_t_str(rep, "actions.reject_action"));
    DR_EACH(json_object_get(rep, "lacks"), i, v)
        fprintf(f, "  - %s\n", json_string_value(v));
}

static void
dr_t_matrix(FILE *f, const json_t *labels, const json_t *m)
{
    size_t i, j;
    const json_t *l, *row;

    fprintf(f, "    confusion matrix (rows: model recommendation, columns: human verdict)\n");
    fprintf(f, "      %-16s", "");
    DR_EACH(labels, j, l)
        fprintf(f, " %12.12s", json_string_value(l));
    fputc('\n', f);
    DR_EACH(m, i, row) {
        fprintf(f, "      %-16.16s", json_string_value(json_array_get(labels, i)));
        DR_EACH(row, j, l)
            fprintf(f, " %12lld", (long long)json_integer_value(l));
        fputc('\n', f);
    }
}

static void
dr_t_agreement(FILE *f, const json_t *rep)
{
    static const struct dr_col cols[] = {
        { "group", "key", 's', 36 }, { "n", "n", 'i', 7 },
        { "agreement", "agreement", 'f', 9 }, { "kappa", "kappa", 'f', 8 },
        { "kappa_lo", "kappa_lo", 'f', 8 }, { "kappa_hi", "kappa_hi", 'f', 8 },
        { "not_comp", "not_comparable", 'i', 8 }, { "events", "events", 'i', 6 },
    };
    static const char *const dims[] = { "by_band", "by_queue", "by_route", "by_model",
                                        "by_reviewer", "by_visibility", "by_window" };
    const json_t *a = json_object_get(rep, "agreement");
    const json_t *o = json_object_get(a, "overall");

    fprintf(f, "\nAI vs human (%s)\n", dr_t_str(a, "counted"));
    fprintf(f, "  overall: n %lld, agreement %.4f, Cohen's kappa %.4f [95%% CI %.4f, %.4f]\n",
            (long long)json_integer_value(json_object_get(o, "n")),
            dr_printable(json_object_get(o, "agreement")), dr_printable(json_object_get(o, "kappa")),
            dr_printable(json_object_get(o, "kappa_lo")), dr_printable(json_object_get(o, "kappa_hi")));
    dr_t_matrix(f, json_object_get(a, "labels"), json_object_get(o, "matrix"));
    fprintf(f, "  decisions withdrawn (not counted): by AMEND %lld, by REOPEN %lld; four-eyes "
            "verdicts %lld (closing %lld, recommendation shown %lld, hidden %lld)\n",
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "withdrawn.by_amend")),
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "withdrawn.by_reopen")),
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "four_eyes.verdicts")),
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "four_eyes.final")),
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "four_eyes.shown")),
            (long long)json_integer_value(dr_get(json_object_get(a, "beside"), "four_eyes.hidden")));
    for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
        fprintf(f, "  %s:\n", dims[d]);
        dr_t_table(f, json_object_get(a, dims[d]), cols, sizeof(cols) / sizeof(cols[0]));
    }
}

static void
dr_t_qa(FILE *f, const json_t *rep)
{
    static const struct dr_col rcols[] = {
        { "route", "route", 's', 14 }, { "decisions", "decisions", 'i', 9 },
        { "qa_rate", "qa_rate", 'f', 7 }, { "drawn", "qa_drawn", 'i', 6 },
        { "verdicts", "qa_verdicts", 'i', 8 }, { "wrong", "wrong", 'i', 6 },
        { "error rate [95% Wilson]", "error_rate", 'c', 24 },
    };
    static const struct dr_col wcols[] = {
        { "window", "key", 's', 24 }, { "verdicts", "qa_verdicts", 'i', 8 },
        { "wrong", "wrong", 'i', 6 }, { "error rate [95% Wilson]", "error_rate", 'c', 24 },
        { "needs", "samples_needed", '0', 6 },
    };
    const json_t *q = json_object_get(rep, "qa"), *o = json_object_get(q, "overall");
    char cell[64];
    struct dr_col c = { "", "error_rate", 'c', 0 };

    fprintf(f, "\nblind QA sample (%s)\n", dr_t_str(q, "counted"));
    fprintf(f, "  overall: %lld verdicts, %lld wrong, weighted error rate %s (n_eff %.1f)\n",
            (long long)json_integer_value(json_object_get(o, "qa_verdicts")),
            (long long)json_integer_value(json_object_get(o, "wrong")), dr_t_cell(o, &c, cell),
            dr_printable(dr_get(o, "error_rate.n_eff")));
    fprintf(f, "  samples a window needs for +-5%%: %.0f at the observed rate, %.0f at worst\n",
            dr_printable(json_object_get(q, "samples_needed")),
            dr_printable(json_object_get(q, "samples_needed_worst_case")));
    dr_t_table(f, json_object_get(q, "by_route"), rcols, sizeof(rcols) / sizeof(rcols[0]));
    dr_t_table(f, json_object_get(q, "by_window"), wcols, sizeof(wcols) / sizeof(wcols[0]));
}

static void
dr_t_calib(FILE *f, const json_t *rep)
{
    static const struct dr_col cols[] = {
        { "bin lo", "lo", 'f', 6 }, { "count", "count", 'i', 6 },
        { "mean score", "mean_pred", 'f', 10 }, { "observed", "observed", 'f', 8 },
        { "gap", "gap", 'f', 8 }, { "obs_lo", "observed_lo", 'f', 7 },
        { "obs_hi", "observed_hi", 'f', 7 },
    };
    static const char *const parts[] = { "unweighted", "qa_weighted" };
    const json_t *c = json_object_get(rep, "calibration");

    fprintf(f, "\ncalibration (%s; positive: %s)\n", dr_t_str(c, "counted"),
            dr_t_str(c, "positive"));
    for (size_t i = 0; i < 2; i++) {
        const json_t *t = json_object_get(c, parts[i]);
        fprintf(f, "  %s: n %.1f, Brier %.4f, ECE %.4f, MCE %.4f\n", parts[i],
                dr_printable(json_object_get(t, "n")), dr_printable(json_object_get(t, "brier")),
                dr_printable(json_object_get(t, "ece")), dr_printable(json_object_get(t, "mce")));
        dr_t_table(f, json_object_get(t, "rows"), cols, sizeof(cols) / sizeof(cols[0]));
    }
}

/* The routing mix of each window, each share tested against the reference
 * window's (two-proportion z). */
static void
dr_t_routes(FILE *f, const json_t *wins)
{
    const char *route;
    const json_t *r;
    char z[64], pv[64];

    fprintf(f, "\nrouting mix (share of decisions; z and p against the reference window)\n");
    fprintf(f, "  %-26s %-14s %7s %8s %8s %8s\n", "window", "route", "n", "share", "z", "p");
    for (size_t w = 0; w < json_array_size(wins); w++) {
        const json_t *win = json_array_get(wins, w);
        json_object_foreach((json_t *)json_object_get(win, "routes"), route, r) {
            double zz = dr_printable(json_object_get(r, "z_vs_reference"));
            double pp = dr_printable(json_object_get(r, "p_vs_reference"));
            snprintf(z, sizeof z, isfinite(zz) ? "%.3f" : "-", zz);
            snprintf(pv, sizeof pv, isfinite(pp) ? "%.4f" : "-", pp);
            fprintf(f, "  %-26s %-14s %7lld %8.4f %8s %8s\n", dr_t_str(win, "key"), route,
                    (long long)json_integer_value(json_object_get(r, "n")),
                    dr_printable(json_object_get(r, "share")), z, pv);
        }
    }
}

static void
dr_t_score(FILE *f, const json_t *rep)
{
    static const struct dr_col cols[] = {
        { "window", "key", 's', 24 }, { "n", "n", 'i', 7 }, { "mean", "mean_score", 'f', 7 },
        { "PSI ref", "vs_reference.psi", 'f', 8 }, { "crit", "vs_reference.psi_critical", 'f', 7 },
        { "band", "vs_reference.band", 's', 11 }, { "JS ref", "vs_reference.js_distance", 'f', 7 },
        { "PSI prev", "vs_previous.psi", 'f', 8 }, { "JS prev", "vs_previous.js_distance", 'f', 7 },
    };
    static const struct dr_col icols[] = {
        { "feature", "feature", 's', 24 }, { "PSI", "psi", 'f', 7 }, { "crit", "psi_critical", 'f', 7 },
        { "band", "band", 's', 11 }, { "JS", "js_distance", 'f', 7 },
        { "missing", "missing_rate", 'p', 7 }, { "unseen", "unseen_rate", 'p', 7 },
        { "import.", "importance", 'f', 7 }, { "BH p", "bh_p", 'f', 7 },
    };
    const json_t *s = json_object_get(rep, "score_drift"), *in = json_object_get(rep, "input_drift");

    fprintf(f, "\nscore drift (%s; %lld scored)\n", dr_t_str(s, "bins"),
            (long long)json_integer_value(json_object_get(s, "scored")));
    dr_t_table(f, json_object_get(s, "by_window"), cols, sizeof(cols) / sizeof(cols[0]));
    dr_t_routes(f, json_object_get(s, "by_window"));
    fprintf(f, "\ninput drift (%s)\n", dr_t_str(in, "note"));
    if (json_is_true(json_object_get(in, "available"))) {
        const json_t *wins = json_object_get(in, "by_window");
        const json_t *last = json_array_get(wins, json_array_size(wins) - 1);
        fprintf(f, "  latest window %s (%s, n %lld), ranked by PSI x importance:\n",
                dr_t_str(last, "key"), dr_t_str(last, "item_type"),
                (long long)json_integer_value(json_object_get(last, "n")));
        dr_t_table(f, json_object_get(in, "features"), icols, sizeof(icols) / sizeof(icols[0]));
    }
}

static void
dr_t_roots(FILE *f, const json_t *rep)
{
    static const struct dr_col cols[] = {
        { "key", "key", 's', 40 }, { "total", "total", 'i', 8 }, { "trend", "trend", 's', 5 },
    };
    static const struct dr_col qcols[] = {
        { "tag", "tag", 's', 30 }, { "queue", "queue", 's', 24 }, { "n", "n", 'i', 7 },
    };
    static const char *const parts[] = { "validation_rules", "hard_rules",
                                         "reasons_to_humans", "root_cause_tags" };
    const json_t *r = json_object_get(rep, "root_causes");

    fprintf(f, "\nroot causes (%s)\n", dr_t_str(r, "counted"));
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        fprintf(f, "  %s:\n", parts[i]);
        dr_t_table(f, json_object_get(r, parts[i]), cols, 3);
    }
    fprintf(f, "  root_cause_tags_by_queue:\n");
    dr_t_table(f, json_object_get(r, "root_cause_tags_by_queue"), qcols, 3);
}

static void
dr_t_whatif(FILE *f, const json_t *rep)
{
    static const struct dr_col cols[] = {
        { "what", "what", 's', 8 }, { "threshold", "threshold", 'f', 9 },
        { "auto", "auto", 'i', 7 }, { "auto rate", "auto_rate", 'p', 9 },
        { "labels", "labels", 'i', 6 }, { "error rate [95% Wilson]", "error_rate", 'c', 24 },
        { "new auto", "newly_auto", 'i', 8 },
    };
    const json_t *w = json_object_get(rep, "what_if");

    fprintf(f, "\nwhat-if (%s; auto action %s)\n", dr_t_str(w, "side"),
            dr_t_str(w, "auto_action"));
    dr_t_table(f, json_object_get(w, "thresholds"), cols, sizeof(cols) / sizeof(cols[0]));
}

int
dr_render_text(const json_t *rep, FILE *f)
{
    dr_t_header(f, rep);
    dr_t_agreement(f, rep);
    dr_t_qa(f, rep);
    dr_t_calib(f, rep);
    dr_t_score(f, rep);
    dr_t_roots(f, rep);
    dr_t_whatif(f, rep);
    return ferror(f) ? -1 : 0;
}
