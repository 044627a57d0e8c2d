/* SPDX-License-Identifier: MIT */
/*
 * plot.c - SVG line and Gantt charts (see plot.h).  Plain fprintf of SVG
 * 1.1 elements; axis ticks at 1-2-5 steps (decades on a log axis).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mig_err.h"
#include "plot.h"

#define W 760.0
#define H 440.0
#define ML 80.0             /* margins: left, right, top, bottom */
#define MR 30.0
#define MT 40.0
#define MB 60.0

static const char *const colours[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

void sim_plot_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
            break;
        }
    }
}

static void header(FILE *f, double w, double h, const char *title)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
               "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" "
               "font-size=\"15\">", w, h, w, h, w / 2);
    sim_plot_escape(f, title);
    fputs("</text>\n", f);
}

static int finish(FILE *f)
{
    fputs("</svg>\n", f);
    if (fflush(f) == EOF || ferror(f))
        return errno ? -errno : MIG_EIO;
    return 0;
}

/* A 1-2-5 step giving about 6 ticks over span. */
static double nice_step(double span)
{
    double m = pow(10, floor(log10(span / 6))), r = span / 6 / m;

    return m * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
}

struct scale {
    double lo, hi;
    bool log;
    double p0, p1;          /* pixel range */
};

static double px(const struct scale *s, double v)
{
    double a = s->log ? log10(v) : v, lo = s->log ? log10(s->lo) : s->lo,
           hi = s->log ? log10(s->hi) : s->hi;

    return s->p0 + (a - lo) / (hi - lo) * (s->p1 - s->p0);
}

static bool usable(const struct scale *s, double v)
{
    return isfinite(v) && (!s->log || v > 0);
}

static void range_of(const struct sim_plot_series *s, size_t ns, bool x,
                     bool logx, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double v = x ? s[k].x[i] : s[k].y[i];

            if (!isfinite(v) || (x && logx && !(v > 0)))
                continue;
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
    if (!isfinite(*lo)) {
        *lo = logx && x ? 1 : 0;
        *hi = *lo * 10 + 1;
    }
    if (*hi <= *lo)
        *hi = logx && x ? *lo * 10 : *lo + (*lo ? fabs(*lo) : 1);
}

static void ticks(FILE *f, const struct scale *s, bool xaxis, double other)
{
    double step;

    if (s->log) {
        for (double d = pow(10, floor(log10(s->lo))); d <= s->hi * 1.0001;
             d *= 10) {
            for (int m = 1; m < 10; m++) {
                double v = d * m, p;

                if (v < s->lo * 0.9999 || v > s->hi * 1.0001)
                    continue;
                p = px(s, v);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                           "y2=\"%.1f\" stroke=\"#%s\"/>\n", p, MT, p,
                        other, m == 1 ? "ccc" : "eee");
                if (m == 1 || m == 2 || m == 5)
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" "
                               "text-anchor=\"middle\">%g</text>\n", p,
                            other + 16, v);
            }
        }
        return;
    }
    step = nice_step(s->hi - s->lo);

    for (double v = ceil(s->lo / step) * step; v <= s->hi + step * 1e-6;
         v += step) {
        double p = px(s, v), t = fabs(v) < step * 1e-6 ? 0 : v;

        if (xaxis)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                       "text-anchor=\"middle\">%g</text>\n",
                    p, MT, p, other, p, other + 16, t);
        else
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                       "text-anchor=\"end\">%g</text>\n",
                    ML, p, other, p, ML - 6, p + 4, t);
    }
}

int sim_plot_lines(FILE *f, const struct sim_plot_axes *ax,
                   const struct sim_plot_series *s, size_t ns)
{
    struct scale xs = { .log = ax->logx, .p0 = ML, .p1 = W - MR };
    struct scale ys = { .p0 = H - MB, .p1 = MT };

    range_of(s, ns, true, ax->logx, &xs.lo, &xs.hi);
    if (usable(&xs, ax->vline)) {
        xs.lo = fmin(xs.lo, ax->vline);
        xs.hi = fmax(xs.hi, ax->vline);
    }
    range_of(s, ns, false, false, &ys.lo, &ys.hi);
    if (isfinite(ax->hline)) {
        ys.lo = fmin(ys.lo, ax->hline);
        ys.hi = fmax(ys.hi, ax->hline * 1.05);
    }
    if (ys.lo > 0)
        ys.lo = 0;
    header(f, W, H, ax->title);
    ticks(f, &xs, true, H - MB);
    ticks(f, &ys, false, W - MR);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#333\"/>\n",
            ML, MT, W - ML - MR, H - MT - MB);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (ML + W - MR) / 2, H - 18);
    sim_plot_escape(f, ax->xlabel);
    fprintf(f, "</text>\n<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 18 %.1f)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    sim_plot_escape(f, ax->ylabel);
    fputs("</text>\n", f);
    if (isfinite(ax->hline)) {
        double p = px(&ys, ax->hline);

        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                   "fill=\"#d62728\">",
                ML, p, W - MR, p, W - MR - 4, p - 4);
        sim_plot_escape(f, ax->hline_label);
        fputs("</text>\n", f);
    }
    if (usable(&xs, ax->vline) && ax->vline >= xs.lo && ax->vline <= xs.hi) {
        double p = px(&xs, ax->vline);

        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">",
                p, MT, p, H - MB, p + 4, H - MB - 6);
        sim_plot_escape(f, ax->vline_label);
        fputs("</text>\n", f);
    }
    for (size_t k = 0; k < ns; k++) {
        const char *c = colours[k % NCOLOURS];
        bool open = false;
        double prev_y = 0;

        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];

            if (!usable(&xs, x) || !isfinite(y)) {
                if (open)
                    fputs("\"/>\n", f);
                open = false;
                continue;
            }
            if (!open) {
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" "
                           "stroke-width=\"1.8\" points=\"", c);
                open = true;
            } else if (s[k].steps) {
                fprintf(f, " %.1f,%.1f", px(&xs, x), px(&ys, prev_y));
            }
            fprintf(f, " %.1f,%.1f", px(&xs, x), px(&ys, y));
            prev_y = y;
        }
        if (open)
            fputs("\"/>\n", f);
        if (s[k].label) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", ML + 10,
                    MT + 16 + 14.0 * (double)k, c);
            sim_plot_escape(f, s[k].label);
            fputs("</text>\n", f);
        }
    }
    return finish(f);
}

int sim_plot_gantt(FILE *f, const char *title, const char *xlabel,
                   const struct sim_plot_bar *bars, size_t n)
{
    double row_h = n > 60 ? 6 : 18, top = MT + 16,
           h = top + MB + row_h * (double)n + 10;
    struct scale xs = { .lo = 0, .hi = 0, .p0 = ML + 40, .p1 = W - MR };
    const char *groups[NCOLOURS] = { 0 };
    size_t ngroups = 0;

    for (size_t i = 0; i < n; i++)
        if (isfinite(bars[i].end))
            xs.hi = fmax(xs.hi, bars[i].end);
    if (!(xs.hi > 0))
        xs.hi = 1;
    header(f, W, h, title);
    ticks(f, &xs, true, h - MB);
    for (size_t i = 0; i < n; i++) {
        const struct sim_plot_bar *b = &bars[i];
        double y = top + row_h * (double)i, x0, x1;
        size_t g = 0;

        if (b->group) {
            for (g = 0; g < ngroups; g++)
                if (!strcmp(groups[g], b->group))
                    break;
            if (g == ngroups && ngroups < NCOLOURS)
                groups[ngroups++] = b->group;
            g %= NCOLOURS;
        }
        if (!isfinite(b->start) || !isfinite(b->end))
            continue;
        x0 = px(&xs, b->start);
        x1 = fmax(px(&xs, b->end), x0 + 1);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.1f\" fill=\"%s\"><title>",
                x0, y + 1, x1 - x0, row_h - 2, colours[g]);
        sim_plot_escape(f, b->row);
        fprintf(f, ": %.3f s .. %.3f s</title></rect>\n", b->start, b->end);
        if (row_h >= 12) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                    ML + 34, y + row_h - 5);
            sim_plot_escape(f, b->row);
            fputs("</text>\n", f);
        }
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (ML + W - MR) / 2, h - 18);
    sim_plot_escape(f, xlabel);
    fputs("</text>\n", f);
    /* Legend: one colour per group (link), left to right above the bars. */
    for (size_t g = 0; g < ngroups; g++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">",
                ML + 40 + 120.0 * (double)g, MT + 6, colours[g]);
        sim_plot_escape(f, groups[g]);
        fputs("</text>\n", f);
    }
    return finish(f);
}

/* Largest value among the finite, non-negative values of v[0..n). */
static double max_of(const double *v, size_t n, double hi)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > hi)
            hi = v[i];
    return hi;
}

int sim_plot_grouped_bars(FILE *f, const struct sim_plot_axes *ax,
                          const char *const *cats, size_t ncats,
                          const struct sim_plot_series *s, size_t ns)
{
    struct scale ys = { .lo = 0, .hi = 0, .p0 = H - MB, .p1 = MT };
    double slot, bw;

    for (size_t k = 0; k < ns; k++)
        ys.hi = max_of(s[k].y, s[k].n, ys.hi);
    if (!(ys.hi > 0))
        ys.hi = 1;
    ys.hi *= 1.08;
    header(f, W, H, ax->title);
    ticks(f, &ys, false, W - MR);
    slot = (W - MR - ML) / (double)(ncats ? ncats : 1);
    bw = slot * 0.8 / (double)(ns ? ns : 1);
    for (size_t c = 0; c < ncats; c++) {
        double x = ML + slot * (double)c + slot * 0.1;

        for (size_t k = 0; k < ns; k++) {
            double v = c < s[k].n ? s[k].y[c] : NAN, y;

            if (!isfinite(v) || v < 0)
                continue;
            y = px(&ys, v);
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                       "height=\"%.1f\" fill=\"%s\"><title>",
                    x + bw * (double)k, y, bw > 2 ? bw - 1 : bw,
                    fmax(H - MB - y, 0.5), colours[k % NCOLOURS]);
            sim_plot_escape(f, s[k].label);
            fputs(" ", f);
            sim_plot_escape(f, cats[c]);
            fprintf(f, ": %.6g</title></rect>\n", v);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                x + slot * 0.4, H - MB + 16);
        sim_plot_escape(f, cats[c]);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (ML + W - MR) / 2, H - 18);
    sim_plot_escape(f, ax->xlabel);
    fprintf(f, "</text>\n<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 16 %.1f)\">",
            (MT + H - MB) / 2, (MT + H - MB) / 2);
    sim_plot_escape(f, ax->ylabel);
    fputs("</text>\n", f);
    for (size_t k = 0; k < ns; k++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
                   "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                ML + 10 + 170.0 * (double)k, MT - 12, colours[k % NCOLOURS],
                ML + 24 + 170.0 * (double)k, MT - 3);
        sim_plot_escape(f, s[k].label);
        fputs("</text>\n", f);
    }
    return finish(f);
}

int sim_plot_timeline(FILE *f, const char *title, const char *xlabel,
                      const struct sim_plot_bar *bars, size_t n)
{
    const char *rows[32];
    const char *groups[NCOLOURS] = { 0 };
    size_t nrows = 0, ngroups = 0;
    double row_h = 22, top = MT + 26, h, lo = INFINITY, hi = -INFINITY;
    struct scale xs = { .p0 = ML + 70, .p1 = W - MR };

    for (size_t i = 0; i < n; i++) {
        size_t r;

        for (r = 0; r < nrows; r++)
            if (!strcmp(rows[r], bars[i].row))
                break;
        if (r == nrows && nrows < sizeof(rows) / sizeof(rows[0]))
            rows[nrows++] = bars[i].row;
        if (isfinite(bars[i].start) && isfinite(bars[i].end)) {
            lo = fmin(lo, bars[i].start);
            hi = fmax(hi, bars[i].end);
        }
    }
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (hi <= lo)
        hi = lo + 1e-3;
    xs.lo = lo;
    xs.hi = hi;
    h = top + MB + row_h * (double)nrows + 10;
    header(f, W, h, title);
    ticks(f, &xs, true, h - MB);
    for (size_t r = 0; r < nrows; r++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                ML + 64, top + row_h * (double)r + row_h - 7);
        sim_plot_escape(f, rows[r]);
        fputs("</text>\n", f);
    }
    for (size_t i = 0; i < n; i++) {
        const struct sim_plot_bar *b = &bars[i];
        size_t r, g = 0;
        double x0, x1, y;

        for (r = 0; r < nrows; r++)
            if (!strcmp(rows[r], b->row))
                break;
        /* A group gets its colour even from a bar that is not drawn, so
         * callers can fix the colours with leading NAN bars. */
        if (b->group) {
            for (g = 0; g < ngroups; g++)
                if (!strcmp(groups[g], b->group))
                    break;
            if (g == ngroups && ngroups < NCOLOURS)
                groups[ngroups++] = b->group;
            g %= NCOLOURS;
        }
        if (r == nrows || !isfinite(b->start) || !isfinite(b->end))
            continue;
        y = top + row_h * (double)r;
        x0 = px(&xs, b->start);
        x1 = fmax(px(&xs, b->end), x0 + 1.5);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                   "height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.85\">"
                   "<title>", x0, y + 2, x1 - x0, row_h - 4, colours[g]);
        sim_plot_escape(f, b->row);
        if (b->group) {
            fputs(" ", f);
            sim_plot_escape(f, b->group);
        }
        fprintf(f, ": %.6f s .. %.6f s</title></rect>\n", b->start, b->end);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (ML + W - MR) / 2, h - 18);
    sim_plot_escape(f, xlabel);
    fputs("</text>\n", f);
    /* Legend: three per line under the title. */
    for (size_t g = 0; g < ngroups; g++) {
        double lx = ML + 10 + 215.0 * (double)(g % 3),
               ly = MT - 8 + 14.0 * (double)(g / 3);

        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
                   "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                lx, ly, colours[g], lx + 14, ly + 9);
        sim_plot_escape(f, groups[g]);
        fputs("</text>\n", f);
    }
    return finish(f);
}
