/*
 * aud_drift_svg.c - the inline SVG charts of the HTML drift report
 * (client/audit/aud_drift.h): score histogram against the reference,
 * reliability diagram, horizontal bars (agreement by band, PSI per
 * feature) and trend lines over the windows.  Plain SVG 1.1 elements with
 * coordinates printed as %.1f: no script, no external reference, and the
 * same input gives the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aud_drift.h"

#define SVG_W 560.0
#define SVG_H 240.0
#define PAD_L 48.0
#define PAD_R 16.0
#define PAD_T 28.0
#define PAD_B 36.0

static const char *const dr_svg_colors[] = { "#4a6fa5", "#d1813b", "#5a9e6f", "#b0504f",
                                             "#7d62a8" };

void
dr_html_esc(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static double
svg_num(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* <svg> of height h with a title and the plot's axes. */
static void
svg_frame(FILE *f, const char *title, double h)
{
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>", SVG_W, h, SVG_W, h);
    dr_html_esc(f, title);
    fprintf(f, "</title><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>"
               "<text x=\"%.1f\" y=\"18\" font-size=\"13\" font-weight=\"bold\">", PAD_L);
    dr_html_esc(f, title);
    fprintf(f, "</text><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
            PAD_L, h - PAD_B, SVG_W - PAD_R, h - PAD_B, PAD_L, PAD_T, PAD_L, h - PAD_B);
}

/* svg_frame of the standard height with a y axis from 0 to ymax. */
static void
svg_open(FILE *f, const char *title, double ymax, const char *ylabel)
{
    svg_frame(f, title, SVG_H);
    for (int k = 0; k <= 4; k++) {
        double y = SVG_H - PAD_B - (SVG_H - PAD_T - PAD_B) * k / 4.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.3g</text>",
                PAD_L, y, SVG_W - PAD_R, y, PAD_L - 4, y + 3, ymax * k / 4.0);
    }
    fprintf(f, "<text x=\"12\" y=\"%.1f\" font-size=\"10\" transform=\"rotate(-90 12 %.1f)\" "
               "text-anchor=\"middle\">", SVG_H / 2, SVG_H / 2);
    dr_html_esc(f, ylabel);
    fputs("</text>", f);
}

/* Legend entry i at the top right (or the bottom right when low). */
static void
svg_legend_at(FILE *f, int i, const char *name, bool low)
{
    double x = SVG_W - PAD_R - 150, y = (low ? SVG_H - PAD_B - 34 : PAD_T + 4) + 14 * i;

    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">", x, y, dr_svg_colors[i % 5],
            x + 14, y + 9);
    dr_html_esc(f, name);
    fputs("</text>", f);
}

static void
svg_legend(FILE *f, int i, const char *name)
{
    svg_legend_at(f, i, name, false);
}

static void
svg_empty(FILE *f, const char *what)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#777\">", PAD_L + 12,
            SVG_H / 2);
    dr_html_esc(f, what);
    fputs("</text></svg>\n", f);
}

/* Shares of a histogram (array of counts) into p[10]; returns the total. */
static double
svg_shares(const json_t *h, double p[DR_SCORE_BINS])
{
    double n = 0;

    for (unsigned b = 0; b < DR_SCORE_BINS; b++)
        n += svg_num(json_array_get(h, b)) > 0 ? svg_num(json_array_get(h, b)) : 0;
    for (unsigned b = 0; b < DR_SCORE_BINS; b++) {
        double v = svg_num(json_array_get(h, b));
        p[b] = n > 0 && v > 0 ? v / n : 0;
    }
    return n;
}

void
dr_svg_hist(FILE *f, const char *title, const json_t *ref, const json_t *cur)
{
    double pr[DR_SCORE_BINS], pc[DR_SCORE_BINS], ymax = 0.05;
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B, bw = pw / DR_SCORE_BINS;
    double nr = svg_shares(ref, pr), nc = svg_shares(cur, pc);

    for (unsigned b = 0; b < DR_SCORE_BINS; b++)
        ymax = fmax(ymax, fmax(pr[b], pc[b]));
    ymax = ceil(ymax * 10) / 10;
    svg_open(f, title, ymax, "share of scored items");
    if (nr == 0 && nc == 0)
        return svg_empty(f, "no scored decisions");
    for (unsigned b = 0; b < DR_SCORE_BINS; b++) {
        double x = PAD_L + bw * b;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%.1f"
                   "</text>", x + 2, PAD_T + ph * (1 - pr[b] / ymax), bw / 2 - 2,
                ph * pr[b] / ymax, dr_svg_colors[0], x + bw / 2, PAD_T + ph * (1 - pc[b] / ymax),
                bw / 2 - 2, ph * pc[b] / ymax, dr_svg_colors[1], x, SVG_H - PAD_B + 14,
                b / 10.0);
    }
    svg_legend(f, 0, "reference window");
    svg_legend(f, 1, "latest window");
    fputs("</svg>\n", f);
}

/* x, y of a point in the unit square plot. */
static void
svg_xy(double u, double v, double *x, double *y)
{
    *x = PAD_L + (SVG_W - PAD_L - PAD_R) * u;
    *y = SVG_H - PAD_B - (SVG_H - PAD_T - PAD_B) * v;
}

/* One series of reliability points (mean score, observed) as circles + path. */
static void
svg_reliability_series(FILE *f, const json_t *rows, int color)
{
    size_t i;
    const json_t *row;
    bool first = true;

    fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", dr_svg_colors[color]);
    DR_EACH(rows, i, row) {
        double u = svg_num(json_object_get(row, "mean_pred")), v = svg_num(json_object_get(row, "observed"));
        double x, y;
        if (!isfinite(u) || !isfinite(v))
            continue;
        svg_xy(u, v, &x, &y);
        fprintf(f, "%s%.1f %.1f", first ? "M" : " L", x, y);
        first = false;
    }
    fputs("\"/>", f);
    DR_EACH(rows, i, row) {
        double u = svg_num(json_object_get(row, "mean_pred")), v = svg_num(json_object_get(row, "observed"));
        double x, y;
        if (!isfinite(u) || !isfinite(v))
            continue;
        svg_xy(u, v, &x, &y);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", x, y,
                dr_svg_colors[color]);
    }
}

void
dr_svg_reliability(FILE *f, const char *title, const json_t *rows, const json_t *rows_w)
{
    double x0, y0, x1, y1;

    svg_open(f, title, 1.0, "observed rate of the auto action");
    svg_xy(0, 0, &x0, &y0);
    svg_xy(1, 1, &x1, &y1);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
               "stroke-dasharray=\"4 3\"/>", x0, y0, x1, y1);
    for (int k = 0; k <= 10; k += 2)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%.1f"
                   "</text>", PAD_L + (SVG_W - PAD_L - PAD_R) * k / 10.0, SVG_H - PAD_B + 14,
                k / 10.0);
    svg_reliability_series(f, rows, 0);
    svg_reliability_series(f, rows_w, 1);
    svg_legend_at(f, 0, "unweighted", true);
    svg_legend_at(f, 1, "QA-reweighted", true);
    fputs("</svg>\n", f);
}

void
dr_svg_bars(FILE *f, const char *title, const json_t *rows, const char *key_field,
            const char *val_field, double max)
{
    size_t n = json_array_size(rows), i;
    double bh = 18.0, h = fmax(SVG_H, PAD_T + PAD_B + bh * (double)n);
    const json_t *row;

    DR_EACH(rows, i, row)                         /* the scale: max, or the largest */
        if (isfinite(svg_num(json_object_get(row, val_field))))
            max = fmax(max, svg_num(json_object_get(row, val_field)));
    svg_frame(f, title, h);
    if (n == 0)
        return svg_empty(f, "no data");
    DR_EACH(rows, i, row) {
        double v = svg_num(json_object_get(row, val_field)), w;
        double y = PAD_T + bh * (double)i;
        w = isfinite(v) && max > 0 ? (SVG_W - PAD_L - PAD_R - 200) * fmax(0, fmin(v, max)) / max : 0;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", PAD_L + 2, y + 2, w,
                fmax(bh - 4, 1), dr_svg_colors[0], PAD_L + 6 + w, y + bh / 2 + 3);
        dr_html_esc(f, json_string_value(json_object_get(row, key_field)));
        if (isfinite(v))
            fprintf(f, ": %.4f", v);
        fputs("</text>", f);
    }
    fputs("</svg>\n", f);
}

/* The largest finite value of every series (arrays of numbers or nulls). */
static double
svg_series_max(const json_t *series)
{
    double m = 0;
    const json_t *s, *v;
    size_t i;

    for (void *it = json_object_iter((json_t *)series); it != NULL;
         it = json_object_iter_next((json_t *)series, it)) {
        s = json_object_iter_value(it);
        DR_EACH(s, i, v)
            if (isfinite(svg_num(v)))
                m = fmax(m, svg_num(v));
    }
    return m > 0 ? m : 1.0;
}

void
dr_svg_trend(FILE *f, const char *title, const json_t *windows, const json_t *series)
{
    size_t nw = json_array_size(windows), i;
    double ymax = svg_series_max(series), pw = SVG_W - PAD_L - PAD_R;
    const char *name;
    const json_t *s, *v;
    int color = 0;

    svg_open(f, title, ymax, "per window");
    if (nw == 0)
        return svg_empty(f, "no windows");
    for (void *it = json_object_iter((json_t *)series); it != NULL;
         it = json_object_iter_next((json_t *)series, it)) {
        bool pen = false;
        name = json_object_iter_key(it);
        s = json_object_iter_value(it);
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"",
                dr_svg_colors[color % 5]);
        DR_EACH(s, i, v) {
            double x = PAD_L + (nw > 1 ? pw * (double)i / (double)(nw - 1) : pw / 2);
            double y = SVG_H - PAD_B - (SVG_H - PAD_T - PAD_B) * svg_num(v) / ymax;
            if (!isfinite(svg_num(v))) {
                pen = false;
                continue;
            }
            fprintf(f, "%s%.1f %.1f", pen ? " L" : (i ? " M" : "M"), x, y);
            pen = true;
        }
        fputs("\"/>", f);
        svg_legend(f, color++, name);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", PAD_L, SVG_H - 8);
    dr_html_esc(f, json_string_value(json_object_get(json_array_get(windows, 0), "start")));
    fprintf(f, "</text><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">",
            SVG_W - PAD_R, SVG_H - 8);
    dr_html_esc(f, json_string_value(json_object_get(json_array_get(windows, nw - 1), "start")));
    fputs("</text></svg>\n", f);
}
