/*
 * aud_drift_html.c - the HTML drift report (client/audit/aud_drift.h): one
 * self-contained page (inline CSS, inline SVG charts from
 * client/audit/aud_drift_svg.c, no script, no external asset or link), the
 * same sections as the terminal table, built from the same JSON tree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aud_drift.h"

struct dr_hcol {
    const char *hdr;
    const char *field;        /* "a.b" reaches into a sub-object */
    char        kind;         /* 's' string, 'i' integer, 'f' %.4f, 'c' interval, 'p' percent,
                                 '0' %.0f */
};

static void
dr_h_cell(FILE *f, const json_t *row, const struct dr_hcol *c)
{
    const json_t *v = dr_get(row, c->field);
    double x = dr_printable(v), lo, hi;

    fputs(c->kind == 's' ? "<td>" : "<td class=\"n\">", f);
    if (c->kind == 's')
        dr_html_esc(f, json_is_string(v) ? json_string_value(v) : "-");
    else if (c->kind == 'i' && json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (c->kind == 'c' && isfinite(x = dr_printable(json_object_get(v, "est")))) {
        lo = dr_printable(json_object_get(v, "lo"));
        hi = dr_printable(json_object_get(v, "hi"));
        fprintf(f, "%.4f [%.4f, %.4f]", x, lo, hi);
    } else if (c->kind == 'p' && isfinite(x))
        fprintf(f, "%.1f%%", 100.0 * x);
    else if (c->kind == 'f' && isfinite(x))
        fprintf(f, "%.4f", x);
    else if (c->kind == '0' && isfinite(x))
        fprintf(f, "%.0f", x);
    else
        fputs("-", f);
    fputs("</td>", f);
}

static void
dr_h_table(FILE *f, const json_t *rows, const struct dr_hcol *cols, size_t n)
{
    size_t i;
    const json_t *row;

    fputs("<table><tr>", f);
    for (size_t k = 0; k < n; k++) {
        fputs("<th>", f);
        dr_html_esc(f, cols[k].hdr);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    DR_EACH(rows, i, row) {
        fputs("<tr>", f);
        for (size_t k = 0; k < n; k++)
            dr_h_cell(f, row, &cols[k]);
        fputs("</tr>\n", f);
    }
    if (json_array_size(rows) == 0)
        fprintf(f, "<tr><td colspan=\"%zu\">none</td></tr>\n", n);
    fputs("</table>\n", f);
}

/* <p> with a label and an escaped string value of o at path. */
static void
dr_h_line(FILE *f, const char *label, const json_t *o, const char *path)
{
    const json_t *v = dr_get(o, path);

    fprintf(f, "<p><b>%s</b> ", label);
    dr_html_esc(f, json_is_string(v) ? json_string_value(v) : "-");
    fputs("</p>\n", f);
}

static void
dr_h_header(FILE *f, const json_t *rep)
{
    static const struct dr_hcol wcols[] = {
        { "window start", "start", 's' }, { "decisions", "decisions", 'i' },
        { "scored", "scored", 'i' }, { "verdicts", "verdicts", 'i' },
    };
    static const struct dr_hcol mcols[] = {
        { "digest (SHA-256)", "digest", 's' }, { "model", "model", 's' },
        { "framework", "framework", 's' }, { "registered", "registered", 's' },
        { "decisions", "decisions", 'i' },
    };
    static const struct dr_hcol pcols[] = { { "policy", "policy", 's' },
                                            { "decisions", "decisions", 'i' } };
    const json_t *cp = json_object_get(rep, "checkpoint"), *v;
    size_t i;

    fputs("<h1>hitlq drift review</h1>\n<section><h2>Checkpoint</h2>", f);
    dr_h_line(f, "origin", cp, "origin");
    fprintf(f, "<p><b>size</b> %lld</p>\n", (long long)json_integer_value(json_object_get(cp, "size")));
    dr_h_line(f, "root hash", cp, "root_hash");
    dr_h_line(f, "decisions from", rep, "range.first_decision");
    dr_h_line(f, "decisions to", rep, "range.last_decision");
    dr_h_line(f, "window", rep, "windows.width");
    dr_h_line(f, "windows by", rep, "windows.by");
    dr_h_line(f, "reference", rep, "windows.reference");
    dr_h_table(f, dr_get(rep, "windows.list"), wcols, 4);
    fputs("<h3>Models by digest</h3>", f);
    dr_h_table(f, json_object_get(rep, "models"), mcols, 5);
    fputs("<h3>Policies</h3>", f);
    dr_h_table(f, json_object_get(rep, "policies"), pcols, 2);
    fputs("<h3>What the log lacks</h3><ul>", f);
    DR_EACH(json_object_get(rep, "lacks"), i, v) {
        fputs("<li>", f);
        dr_html_esc(f, json_string_value(v));
        fputs("</li>", f);
    }
    fputs("</ul></section>\n", f);
}

static void
dr_h_matrix(FILE *f, const json_t *labels, const json_t *m)
{
    size_t i, j;
    const json_t *l, *row;

    fputs("<table><tr><th>model \\ human</th>", f);
    DR_EACH(labels, j, l) {
        fputs("<th>", f);
        dr_html_esc(f, json_string_value(l));
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    DR_EACH(m, i, row) {
        fputs("<tr><th>", f);
        dr_html_esc(f, json_string_value(json_array_get(labels, i)));
        fputs("</th>", f);
        DR_EACH(row, j, l)
            fprintf(f, "<td class=\"n\">%lld</td>", (long long)json_integer_value(l));
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void
dr_h_agreement(FILE *f, const json_t *rep)
{
    static const struct dr_hcol cols[] = {
        { "group", "key", 's' }, { "n", "n", 'i' }, { "agreement", "agreement", 'f' },
        { "kappa", "kappa", 'f' }, { "kappa 95% lo", "kappa_lo", 'f' },
        { "kappa 95% hi", "kappa_hi", 'f' }, { "not comparable", "not_comparable", 'i' },
        { "events", "events", 'i' },
    };
    static const char *const dims[] = { "by_band", "by_queue", "by_route", "by_model",
                                        "by_reviewer", "by_visibility", "by_window" };
    const json_t *a = json_object_get(rep, "agreement"), *o = json_object_get(a, "overall");

    fputs("<section><h2>AI vs human</h2>", f);
    dr_h_line(f, "counted:", a, "counted");
    fprintf(f, "<p><b>overall</b> n %lld, agreement %.4f, Cohen's kappa %.4f "
               "[95%% CI %.4f, %.4f]</p>\n", (long long)json_integer_value(json_object_get(o, "n")),
            dr_printable(json_object_get(o, "agreement")), dr_printable(json_object_get(o, "kappa")),
            dr_printable(json_object_get(o, "kappa_lo")), dr_printable(json_object_get(o, "kappa_hi")));
    dr_h_matrix(f, json_object_get(a, "labels"), json_object_get(o, "matrix"));
    dr_svg_bars(f, "Agreement by score band", json_object_get(a, "by_band"), "key",
                "agreement", 1.0);
    for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
        fprintf(f, "<h3>%s</h3>", dims[d]);
        dr_h_table(f, json_object_get(a, dims[d]), cols, sizeof(cols) / sizeof(cols[0]));
    }
    fputs("</section>\n", f);
}

static void
dr_h_qa_calib(FILE *f, const json_t *rep)
{
    static const struct dr_hcol rcols[] = {
        { "route", "route", 's' }, { "decisions", "decisions", 'i' },
        { "QA rate", "qa_rate", 'f' }, { "drawn", "qa_drawn", 'i' },
        { "verdicts", "qa_verdicts", 'i' }, { "wrong", "wrong", 'i' },
        { "error rate [95% Wilson]", "error_rate", 'c' },
    };
    static const struct dr_hcol wcols[] = {
        { "window", "key", 's' }, { "verdicts", "qa_verdicts", 'i' }, { "wrong", "wrong", 'i' },
        { "error rate [95% Wilson]", "error_rate", 'c' }, { "samples needed", "samples_needed", '0' },
    };
    static const struct dr_hcol ccols[] = {
        { "bin lo", "lo", 'f' }, { "bin hi", "hi", 'f' }, { "count", "count", 'i' },
        { "mean score", "mean_pred", 'f' }, { "observed", "observed", 'f' },
        { "gap", "gap", 'f' }, { "observed lo", "observed_lo", 'f' },
        { "observed hi", "observed_hi", 'f' },
    };
    const json_t *q = json_object_get(rep, "qa"), *c = json_object_get(rep, "calibration");
    struct dr_hcol ov = { "", "error_rate", 'c' };

    fputs("<section><h2>Blind QA sample</h2>", f);
    dr_h_line(f, "counted:", q, "counted");
    fputs("<p><b>overall weighted error rate</b> ", f);
    dr_h_cell(f, json_object_get(q, "overall"), &ov);
    fprintf(f, "</p><p>samples a window needs for &plusmn;5%%: %.0f (worst case %.0f)</p>\n",
            dr_printable(json_object_get(q, "samples_needed")),
            dr_printable(json_object_get(q, "samples_needed_worst_case")));
    dr_h_table(f, json_object_get(q, "by_route"), rcols, sizeof(rcols) / sizeof(rcols[0]));
    dr_h_table(f, json_object_get(q, "by_window"), wcols, sizeof(wcols) / sizeof(wcols[0]));
    fputs("</section>\n<section><h2>Calibration</h2>", f);
    dr_h_line(f, "counted:", c, "counted");
    fprintf(f, "<p>unweighted: Brier %.4f, ECE %.4f (n %.0f); QA-reweighted: Brier %.4f, "
               "ECE %.4f (n %.1f)</p>\n", dr_printable(dr_get(c, "unweighted.brier")),
            dr_printable(dr_get(c, "unweighted.ece")), dr_printable(dr_get(c, "unweighted.n")),
            dr_printable(dr_get(c, "qa_weighted.brier")), dr_printable(dr_get(c, "qa_weighted.ece")),
            dr_printable(dr_get(c, "qa_weighted.n")));
    dr_svg_reliability(f, "Reliability diagram", dr_get(c, "unweighted.rows"),
                       dr_get(c, "qa_weighted.rows"));
    dr_h_table(f, dr_get(c, "unweighted.rows"), ccols, sizeof(ccols) / sizeof(ccols[0]));
    fputs("</section>\n", f);
}

/* {name: [value per window]} of field path in each element of arr. */
static json_t *
dr_h_series(const json_t *arr, const char *path)
{
    json_t *s = json_array();
    size_t i;
    const json_t *row;

    DR_EACH(arr, i, row)
        json_array_append_new(s, dr_num(dr_printable(dr_get(row, path))));
    return s;
}

static void
dr_h_drift(FILE *f, const json_t *rep)
{
    static const struct dr_hcol cols[] = {
        { "window", "key", 's' }, { "n", "n", 'i' }, { "mean score", "mean_score", 'f' },
        { "PSI vs ref", "vs_reference.psi", 'f' }, { "PSI critical", "vs_reference.psi_critical", 'f' },
        { "band", "vs_reference.band", 's' }, { "JS vs ref", "vs_reference.js_distance", 'f' },
        { "PSI vs prev", "vs_previous.psi", 'f' }, { "JS vs prev", "vs_previous.js_distance", 'f' },
    };
    static const struct dr_hcol icols[] = {
        { "rank", "rank", 'i' }, { "feature", "feature", 's' }, { "PSI", "psi", 'f' },
        { "PSI critical", "psi_critical", 'f' }, { "band", "band", 's' },
        { "JS", "js_distance", 'f' }, { "missing", "missing_rate", 'p' },
        { "unseen", "unseen_rate", 'p' }, { "importance", "importance", 'f' },
        { "PSI x importance", "impact", 'f' }, { "BH-adjusted p", "bh_p", 'f' },
    };
    const json_t *s = json_object_get(rep, "score_drift"), *in = json_object_get(rep, "input_drift");
    const json_t *wins = json_object_get(s, "by_window"), *last = json_array_get(wins, json_array_size(wins) - 1);
    json_t *series = json_object();

    fputs("<section><h2>Score drift</h2>", f);
    dr_h_line(f, "bins:", s, "bins");
    dr_svg_hist(f, "Score histogram: reference vs latest window",
                json_object_get(s, "reference_histogram"), json_object_get(last, "histogram"));
    dr_h_table(f, wins, cols, sizeof(cols) / sizeof(cols[0]));
    json_object_set_new(series, "PSI vs reference", dr_h_series(wins, "vs_reference.psi"));
    json_object_set_new(series, "JS vs reference", dr_h_series(wins, "vs_reference.js_distance"));
    json_object_set_new(series, "agreement", dr_h_series(dr_get(rep, "agreement.by_window"),
                                                         "agreement"));
    json_object_set_new(series, "QA error rate", dr_h_series(dr_get(rep, "qa.by_window"),
                                                             "error_rate.est"));
    dr_svg_trend(f, "Trends by window", dr_get(rep, "windows.list"), series);
    json_decref(series);
    fputs("</section>\n<section><h2>Input drift</h2>", f);
    dr_h_line(f, "", in, "note");
    dr_svg_bars(f, "PSI per feature (latest window)", json_object_get(in, "features"),
                "feature", "psi", 0.5);
    dr_h_table(f, json_object_get(in, "features"), icols, sizeof(icols) / sizeof(icols[0]));
    fputs("</section>\n", f);
}

static void
dr_h_roots(FILE *f, const json_t *rep)
{
    static const struct dr_hcol cols[] = { { "key", "key", 's' }, { "total", "total", 'i' },
                                           { "trend", "trend", 's' } };
    static const struct dr_hcol qcols[] = { { "tag", "tag", 's' }, { "queue", "queue", 's' },
                                            { "n", "n", 'i' } };
    static const struct dr_hcol wcols[] = {
        { "what", "what", 's' }, { "threshold", "threshold", 'f' }, { "auto", "auto", 'i' },
        { "auto rate", "auto_rate", 'p' }, { "labels", "labels", 'i' },
        { "error rate [95% Wilson]", "error_rate", 'c' }, { "newly auto", "newly_auto", 'i' },
    };
    static const char *const parts[] = { "validation_rules", "hard_rules",
                                         "reasons_to_humans", "root_cause_tags" };
    const json_t *r = json_object_get(rep, "root_causes"), *w = json_object_get(rep, "what_if");

    fputs("<section><h2>Root causes</h2>", f);
    dr_h_line(f, "counted:", r, "counted");
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        fprintf(f, "<h3>%s</h3>", parts[i]);
        dr_h_table(f, json_object_get(r, parts[i]), cols, 3);
    }
    fputs("<h3>root-cause tags by queue</h3>", f);
    dr_h_table(f, json_object_get(r, "root_cause_tags_by_queue"), qcols, 3);
    fputs("</section>\n<section><h2>What-if</h2>", f);
    dr_h_line(f, "side:", w, "side");
    dr_h_table(f, json_object_get(w, "thresholds"), wcols, sizeof(wcols) / sizeof(wcols[0]));
    fputs("</section>\n", f);
}

int
dr_render_html(const json_t *rep, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>hitlq drift review</title><style>\n"
          "body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}\n"
          "table{border-collapse:collapse;margin:.5em 0 1em}\n"
          "th,td{border:1px solid #ccc;padding:2px 6px;font-size:13px}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          "th{background:#f2f2f2}section{margin-bottom:2em}svg{display:block;margin:.5em 0}\n"
          "</style></head><body>\n", f);
    dr_h_header(f, rep);
    dr_h_agreement(f, rep);
    dr_h_qa_calib(f, rep);
    dr_h_drift(f, rep);
    dr_h_roots(f, rep);
    fputs("</body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
