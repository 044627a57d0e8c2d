/* SPDX-License-Identifier: MIT */
/*
 * plot.h - small self-contained SVG charts for the planner's outputs.
 *
 * Shapes: line charts (a downtime CDF, downtime against bandwidth), a Gantt
 * chart (an evacuation plan, one row per VM), grouped bars (bytes per pass,
 * predicted vs measured) and a timeline (passes, pause window, gaps).  The
 * output is one standalone SVG 1.1 document with no scripts, fonts or external
 * references, so it can be opened directly or inlined into an HTML report.
 * Labels are XML-escaped.  Points that are not finite are left out (a line
 * is broken there).
 */
#ifndef SIM_PLOT_H
#define SIM_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sim_plot_series {
    const char *label;
    const double *x;        /* n values, borrowed */
    const double *y;
    size_t n;
    bool steps;             /* draw as a step function (CDFs) */
};

struct sim_plot_axes {
    const char *title;
    const char *xlabel;
    const char *ylabel;
    bool logx;              /* logarithmic x axis (x > 0 only) */
    double hline;           /* a horizontal reference line; NAN = none */
    const char *hline_label;
    double vline;           /* a vertical reference line; NAN = none */
    const char *vline_label;
};

/* Line chart of ns series.  0, or -errno when writing f fails. */
int sim_plot_lines(FILE *f, const struct sim_plot_axes *ax,
                   const struct sim_plot_series *s, size_t ns);

struct sim_plot_bar {
    const char *row;        /* row label (a VM) */
    double start, end;      /* seconds */
    const char *group;      /* colour key (e.g. the link); may be NULL */
};

/* Gantt chart, one row per bar, in the order given.  0 or -errno. */
int sim_plot_gantt(FILE *f, const char *title, const char *xlabel,
                   const struct sim_plot_bar *bars, size_t n);

/*
 * Grouped bar chart: one group per category cats[0..ncats), one bar per
 * series in each group (series k's y[c] is its value in category c; x is
 * ignored).  Values that are not finite or negative are left out.  Axis
 * ylabel and title from ax (logx, hline, vline ignored).  0 or -errno.
 */
int sim_plot_grouped_bars(FILE *f, const struct sim_plot_axes *ax,
                          const char *const *cats, size_t ncats,
                          const struct sim_plot_series *s, size_t ns);

/*
 * Timeline: like the Gantt chart, but bars with the same row label share
 * one row (rows in order of first appearance, at most 32) and the x axis
 * spans the bars (it need not start at 0).  Colour by group, in order of
 * first appearance, counting bars with NAN times (not drawn): leading NAN
 * bars fix the colours across charts.  0 or -errno.
 */
int sim_plot_timeline(FILE *f, const char *title, const char *xlabel,
                      const struct sim_plot_bar *bars, size_t n);

/* Write s as XML/HTML text: & < > " escaped, control characters other
 * than newline and tab dropped.  For SVG labels and HTML reports. */
void sim_plot_escape(FILE *f, const char *s);

#endif
