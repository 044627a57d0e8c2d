/* SPDX-License-Identifier: MIT */
/*
 * report.c - the renderers of report.h.  Each one walks the result
 * document: scenario, testbed (the link emulator is always named),
 * prediction, and per repeat the measured run, the three downtimes, the
 * wire timeline, the heartbeat gaps and the expectations.  Layout of the
 * document: docs/runner.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plot.h"
#include "report.h"

#define MAX_PASSES 64U
#define NGROUPS 6U          /* colour groups of the timeline */

/* ---- document access -------------------------------------------------- */

static struct json_object *jget(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static double jnum(struct json_object *o, const char *k)
{
    struct json_object *v = jget(o, k);

    return v ? json_object_get_double(v) : NAN;
}

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v = jget(o, k);

    return v ? json_object_get_string(v) : NULL;
}

static size_t jlen(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array)
               ? json_object_array_length(a) : 0;
}

/* Element i of array a; NULL when a is not an array or too short. */
static struct json_object *jat(struct json_object *a, size_t i)
{
    return i < jlen(a) ? json_object_array_get_idx(a, i) : NULL;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* "123.4 ms" or "-" */
static const char *ms(char *b, size_t n, double s)
{
    if (!isfinite(s))
        return "-";
    if (s >= 10)
        snprintf(b, n, "%.2f s", s);
    else
        snprintf(b, n, "%.1f ms", s * 1e3);
    return b;
}

static const char *mib(char *b, size_t n, double bytes)
{
    if (!isfinite(bytes))
        return "-";
    snprintf(b, n, "%.2f MiB", bytes / 1048576.0);
    return b;
}

static const char *pct(char *b, size_t n, double e)
{
    if (!isfinite(e))
        return "-";
    snprintf(b, n, "%.1f%%", e * 100);
    return b;
}

int report_format_parse(const char *s)
{
    static const char *const names[] = { "md", "html", "junit", "json" };

    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i]))
            return i;
    return -1;
}

/* The calibrated prediction (doc "calibrated"), or NULL without a
 * profile. */
static struct json_object *calibrated(struct json_object *doc)
{
    return jget(jget(doc, "calibrated"), "predicted");
}

/* The prediction the bounds were judged on and the pass table shows: the
 * calibrated one when there is a profile (docs/calibrate.md). */
static struct json_object *judged(struct json_object *doc)
{
    struct json_object *cal = calibrated(doc);

    return cal ? cal : jget(doc, "predicted");
}

/* ---- escaping --------------------------------------------------------- */


/* Markdown table cell: '|' would end the cell, newlines the row. */
static void md(FILE *f, const char *s)
{
    for (s = or_dash(s); *s; s++)
        fputs(*s == '|' ? "\\|" : *s == '\n' ? " " : (char[2]){ *s, 0 }, f);
}

/* ---- shared rows -------------------------------------------------------- */

#define SUMMARY_ROWS 13U  /* labels of build_summary() */

/* One summary row: label, then a cell per column (predicted, calibrated
 * when there is a profile, repeats). */
struct row {
    const char *label;
    char cells[18][64];
    size_t n;
};

static void build_summary(struct json_object *doc, struct row *rows,
                          size_t *nrows)
{
    struct json_object *pred = jget(doc, "predicted"), *runs = jget(doc, "runs");
    struct json_object *cal = calibrated(doc);
    size_t nr = jlen(runs) > 16 ? 16 : jlen(runs), np = cal ? 2 : 1;
    char b[64];
    size_t r = 0;

    static const char *const labels[] = {
        "outcome", "total time", "downtime: implementation",
        "downtime: network (heartbeat)", "downtime: wire (pcap)",
        "bytes sent", "passes (live + final)", "converged", "integrity",
        "error total time", "error downtime",
        "error total time, calibrated", "error downtime, calibrated",
    };
    _Static_assert(sizeof(labels) / sizeof(labels[0]) == SUMMARY_ROWS,
                   "one row per label");
    for (r = 0; r < sizeof(labels) / sizeof(labels[0]) - (cal ? 0 : 2);
         r++) {
        rows[r].label = labels[r];
        rows[r].n = nr + np;
    }
    *nrows = r;
    for (size_t col = 0; col < nr + np; col++) {
        /* c = 0 for a prediction column, the repeat number otherwise. */
        size_t c = col < np ? 0 : col - np + 1;
        struct json_object *run = c ? jat(runs, c - 1) : NULL;
        struct json_object *m = c ? jget(run, "measured")
                                  : col ? cal : pred;
        struct json_object *d = c ? jget(run, "downtime") : NULL;
        struct json_object *cmp = jget(run, "comparison");
        struct json_object *ccmp = jget(run, "comparison_calibrated");
        struct json_object *integ = jget(m, "integrity");
        char(*cell)[64];

#define CELL(i) (rows[i].cells[col])
        cell = &CELL(0);
        snprintf(*cell, 64, "%s", or_dash(c ? jstr(run, "outcome")
                                            : jstr(m, "outcome")));
        snprintf(CELL(1), 64, "%s", ms(b, sizeof(b), jnum(m, "total_time_s")));
        if (c)
            snprintf(CELL(2), 64, "%s",
                     ms(b, sizeof(b), jnum(d, "implementation_s")));
        else
            snprintf(CELL(2), 64, "%s", ms(b, sizeof(b), jnum(m, "downtime_s")));
        snprintf(CELL(3), 64, "%s",
                 c ? (isfinite(jnum(d, "network_s"))
                          ? ms(b, sizeof(b), jnum(d, "network_s"))
                          : "unavailable")
                   : "-");
        snprintf(CELL(4), 64, "%s",
                 c ? (isfinite(jnum(d, "wire_s"))
                          ? ms(b, sizeof(b), jnum(d, "wire_s"))
                          : "unavailable")
                   : "-");
        snprintf(CELL(5), 64, "%s", mib(b, sizeof(b), jnum(m, "bytes_sent")));
        snprintf(CELL(6), 64, "%s", isfinite(jnum(m, "live_passes"))
                 ? (snprintf(b, sizeof(b), "%.0f + %u", jnum(m, "live_passes"),
                             jlen(jget(m, "passes")) >
                                     (size_t)jnum(m, "live_passes") ? 1u : 0u),
                    b)
                 : "-");
        snprintf(CELL(7), 64, "%s", jget(m, "converged")
                 ? (json_object_get_boolean(jget(m, "converged")) ? "yes" : "no")
                 : "-");
        snprintf(CELL(8), 64, "%s",
                 !c ? "-" : !integ ? "-"
                 : json_object_get_boolean(jget(integ, "ok")) ? "ok"
                 : json_object_get_boolean(jget(integ, "checked"))
                     ? "MISMATCH" : "not checked");
        snprintf(CELL(9), 64, "%s",
                 c ? pct(b, sizeof(b), jnum(jget(cmp, "total_time_s"), "error"))
                   : "-");
        snprintf(CELL(10), 64, "%s",
                 c ? pct(b, sizeof(b), jnum(jget(cmp, "downtime_s"), "error"))
                   : "-");
        if (cal) {
            snprintf(CELL(11), 64, "%s", c ? pct(b, sizeof(b), jnum(jget(
                         ccmp, "total_time_s"), "error")) : "-");
            snprintf(CELL(12), 64, "%s", c ? pct(b, sizeof(b), jnum(jget(
                         ccmp, "downtime_s"), "error")) : "-");
        }
#undef CELL
    }
}

static void header_lines(FILE *f, struct json_object *doc, bool html)
{
    struct json_object *sc = jget(doc, "scenario"), *tb = jget(doc, "testbed");
    struct json_object *cc = jget(doc, "cc"), *dirs = jget(tb, "directions");
    const char *li = html ? "<li>" : "- ", *le = html ? "</li>\n" : "\n";

    fprintf(f, "%sscenario file: ", li);
    html ? sim_plot_escape(f, or_dash(jstr(sc, "file"))) : md(f, jstr(sc, "file"));
    fprintf(f, "%s%sstarted: %s%s", le, li, or_dash(jstr(doc, "started")), le);
    fprintf(f, "%slink emulator: ", li);
    html ? sim_plot_escape(f, or_dash(jstr(doc, "emulator"))) : md(f, jstr(doc, "emulator"));
    if (jlen(dirs) > 0 && jnum(jat(dirs, 0), "queue_bytes") > 0)
        fprintf(f, ", bottleneck queue %.0f KiB",
                jnum(jat(dirs, 0), "queue_bytes") / 1024);
    fputs(le, f);
    for (size_t i = 0; i < jlen(dirs); i++) {
        struct json_object *d = jat(dirs, i);

        fprintf(f, "%slink %s: rate %.0f Mbit/s (0 = unlimited), delay "
                   "%.3f ms, jitter +-%.3f ms, loss %.3f%%, queue %.0f bytes%s",
                li, or_dash(jstr(d, "direction")), jnum(d, "rate_bps") / 1e6,
                jnum(d, "delay_s") * 1e3, jnum(d, "jitter_s") * 1e3,
                jnum(d, "loss") * 100, jnum(d, "queue_bytes"), le);
    }
    if (cc) {
        fprintf(f, "%scongestion control: requested %s, used %s (", li,
                or_dash(jstr(cc, "requested")), or_dash(jstr(cc, "used")));
        html ? sim_plot_escape(f, or_dash(jstr(cc, "how"))) : md(f, jstr(cc, "how"));
        fprintf(f, ")%s", le);
    }
    if (jget(doc, "calibrated")) {
        struct json_object *c = jget(doc, "calibrated");

        fprintf(f, "%shost profile: ", li);
        html ? sim_plot_escape(f, or_dash(jstr(c, "profile")))
             : md(f, jstr(c, "profile"));
        fprintf(f, ", network point %s (", or_dash(jstr(c, "point")));
        html ? sim_plot_escape(f, or_dash(jstr(c, "note")))
             : md(f, jstr(c, "note"));
        fprintf(f, "); bounds are judged on the calibrated prediction%s",
                le);
    }
    fprintf(f, "%sverdict: %s (%.0f failed bounds)%s", li,
            jget(doc, "ok") && json_object_get_boolean(jget(doc, "ok"))
                ? "PASS" : "FAIL",
            jnum(doc, "expectations_failed"), le);
}

/* Per-pass rows of one repeat: predicted, measured and wire side by side. */
static void pass_table(FILE *f, struct json_object *pred,
                       struct json_object *run, bool html)
{
    struct json_object *pp = jget(pred, "passes");
    struct json_object *mp = jget(jget(run, "measured"), "passes");
    struct json_object *wp = jget(jget(run, "wire"), "passes");
    size_t n = jlen(pp);
    char c[10][32];

    if (jlen(mp) > n)
        n = jlen(mp);
    if (jlen(wp) > n)
        n = jlen(wp);
    if (html)
        fputs("<table><tr><th>pass</th><th>predicted pages</th>"
              "<th>predicted bytes</th><th>predicted time</th>"
              "<th>measured pages</th><th>measured bytes</th>"
              "<th>measured time</th><th>wire bytes</th>"
              "<th>wire time</th><th>retransmits</th></tr>\n", f);
    else
        fputs("| pass | predicted pages | predicted bytes | predicted time | "
              "measured pages | measured bytes | measured time | wire bytes "
              "| wire time | retransmits |\n|---|---|---|---|---|---|---|---|"
              "---|---|\n", f);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = jat(pp, i), *m = jat(mp, i), *w = jat(wp, i);
        struct json_object *live = jget(m ? m : p, "live");
        const char *kind = live && !json_object_get_boolean(live)
                               ? " (stop-and-copy)" : "";
        const char *v[9];

        v[0] = p ? (snprintf(c[0], 32, "%.0f", jnum(p, "pages")), c[0]) : "-";
        v[1] = mib(c[1], 32, jnum(p, "bytes"));
        v[2] = ms(c[2], 32, jnum(p, "duration_s"));
        v[3] = m ? (snprintf(c[3], 32, "%.0f", jnum(m, "pages")), c[3]) : "-";
        v[4] = mib(c[4], 32, jnum(m, "bytes"));
        v[5] = ms(c[5], 32, jnum(m, "duration_s"));
        v[6] = w ? mib(c[6], 32, jnum(w, "bytes")) : "-";
        v[7] = w ? ms(c[7], 32, jnum(w, "end_s") - jnum(w, "start_s")) : "-";
        v[8] = w ? (snprintf(c[8], 32, "%.0f", jnum(w, "retransmits")), c[8])
                 : "-";
        fprintf(f, html ? "<tr><td>%zu%s</td>" : "| %zu%s |", i + 1, kind);
        for (int k = 0; k < 9; k++)
            fprintf(f, html ? "<td>%s</td>" : " %s |", v[k]);
        fputs(html ? "</tr>\n" : "\n", f);
    }
    if (html)
        fputs("</table>\n", f);
}

static void downtime_list(FILE *f, struct json_object *run, bool html)
{
    struct json_object *d = jget(run, "downtime"), *parts = jget(d, "wire_parts");
    const char *li = html ? "<li>" : "- ", *le = html ? "</li>\n" : "\n";
    char b[32];

    struct json_object *m = jget(run, "measured"), *dr = jget(m, "drained");

    fprintf(f, "%simplementation (pause at h1 -> running at h2, measured by "
               "the sender): %s%s", li,
            ms(b, sizeof(b), jnum(d, "implementation_s")), le);
    if (dr && json_object_get_boolean(dr))
        fprintf(f, "%sbefore the pause the sender waited %s for the live "
                   "passes to be acknowledged (drain), the guest running%s",
                li, ms(b, sizeof(b), jnum(m, "drain_s")), le);
    fprintf(f, "%snetwork (largest heartbeat reply gap at the client): %s",
            li, ms(b, sizeof(b), jnum(d, "network_s")));
    if (jstr(d, "network_note")) {
        fputs(" - ", f);
        html ? sim_plot_escape(f, jstr(d, "network_note")) : md(f, jstr(d, "network_note"));
    }
    fprintf(f, "%s%swire (capture on h2's mig0): %s", le, li,
            ms(b, sizeof(b), jnum(d, "wire_s")));
    if (jstr(d, "wire_note")) {
        fputs(" - ", f);
        html ? sim_plot_escape(f, jstr(d, "wire_note")) : md(f, jstr(d, "wire_note"));
    }
    fputs(le, f);
    if (parts && json_object_is_type(parts, json_type_object)) {
        fprintf(f, "%swire parts:", li);
        json_object_object_foreach(parts, k, v) {
            fprintf(f, " %s %s;", k,
                    ms(b, sizeof(b), json_object_get_double(v)));
        }
        fputs(le, f);
    }
}

static void expect_list(FILE *f, struct json_object *run, bool html)
{
    struct json_object *ex = jget(run, "expectations");
    const char *li = html ? "<li>" : "- ", *le = html ? "</li>\n" : "\n";

    for (size_t i = 0; i < jlen(ex); i++) {
        struct json_object *e = jat(ex, i);
        bool pass = json_object_get_boolean(jget(e, "pass"));

        fprintf(f, "%s%s%s%s ", li, html ? (pass ? "<b class=\"pass\">"
                                                 : "<b class=\"fail\">")
                                         : "**",
                pass ? "PASS" : "FAIL", html ? "</b>" : "**");
        html ? sim_plot_escape(f, jstr(e, "text")) : md(f, jstr(e, "text"));
        fputs(le, f);
    }
    if (!jlen(ex))
        fprintf(f, "%sno bounds set%s", li, le);
}

/* ---- Markdown ----------------------------------------------------------- */

static int write_md(FILE *f, struct json_object *doc)
{
    struct json_object *runs = jget(doc, "runs"), *sc = jget(doc, "scenario");
    struct row rows[SUMMARY_ROWS];
    size_t nrows;

    fprintf(f, "# miglab run: ");
    md(f, jstr(sc, "name"));
    fputs("\n\n", f);
    if (jstr(sc, "description")) {
        md(f, jstr(sc, "description"));
        fputs("\n\n", f);
    }
    header_lines(f, doc, false);
    fputs("\n## Predicted vs measured\n\n| | predicted", f);
    if (calibrated(doc))
        fputs(" | calibrated", f);
    for (size_t i = 0; i < jlen(runs) && i < 16; i++)
        fprintf(f, " | repeat %zu", i + 1);
    fputs(" |\n|---|---", f);
    if (calibrated(doc))
        fputs("|---", f);
    for (size_t i = 0; i < jlen(runs) && i < 16; i++)
        fputs("|---", f);
    fputs("|\n", f);
    build_summary(doc, rows, &nrows);
    for (size_t r = 0; r < nrows; r++) {
        fprintf(f, "| %s", rows[r].label);
        for (size_t c = 0; c < rows[r].n; c++)
            fprintf(f, " | %s", rows[r].cells[c]);
        fputs(" |\n", f);
    }
    for (size_t i = 0; i < jlen(runs); i++) {
        struct json_object *run = jat(runs, i);

        fprintf(f, "\n## Repeat %zu\n\n", i + 1);
        if (jstr(run, "error")) {
            fputs("Error: ", f);
            md(f, jstr(run, "error"));
            fputs("\n\n", f);
        }
        fputs("### Passes\n\n", f);
        pass_table(f, judged(doc), run, false);
        fputs("\n### Downtime, three ways\n\n", f);
        downtime_list(f, run, false);
        fputs("\n### Expectations\n\n", f);
        expect_list(f, run, false);
    }
    fputs("\nDefinitions: docs/runner.md.  Generated by `miglab run`; "
          "re-render with `miglab report results.json`.\n", f);
    return ferror(f) ? -EIO : 0;
}

/* ---- HTML --------------------------------------------------------------- */

/* Render one chart through fn into f, without the XML declaration. */
static void inline_svg(FILE *f, char *buf, size_t len)
{
    char *s = buf;

    if (!buf)
        return;
    if (len > 5 && !strncmp(s, "<?xml", 5)) {
        char *nl = strchr(s, '\n');

        s = nl ? nl + 1 : s;
    }
    fputs(s, f);
}

static void bars_chart(FILE *f, struct json_object *doc,
                       struct json_object *run)
{
    struct json_object *pp = jget(judged(doc), "passes");
    struct json_object *mp = jget(jget(run, "measured"), "passes");
    struct json_object *wp = jget(jget(run, "wire"), "passes");
    static char labels[MAX_PASSES][16];
    const char *cats[MAX_PASSES];
    double y[3][MAX_PASSES];
    struct json_object *src[3] = { pp, mp, wp };
    struct sim_plot_series s[3] = {
        { .label = "predicted" }, { .label = "measured (sender)" },
        { .label = "wire (pcap)" },
    };
    struct sim_plot_axes ax = { .title = "Bytes per pass", .xlabel = "pass",
                                .ylabel = "MiB", .hline = NAN, .vline = NAN };
    size_t n = jlen(pp), len = 0;
    char *buf = NULL;
    FILE *m;

    for (int k = 1; k < 3; k++)
        if (jlen(src[k]) > n)
            n = jlen(src[k]);
    if (n > MAX_PASSES)
        n = MAX_PASSES;
    if (!n)
        return;
    for (size_t i = 0; i < n; i++) {
        snprintf(labels[i], sizeof(labels[i]), "%zu", i + 1);
        cats[i] = labels[i];
        for (int k = 0; k < 3; k++) {
            struct json_object *p = jat(src[k], i);

            y[k][i] = p ? jnum(p, "bytes") / 1048576.0 : NAN;
        }
    }
    for (int k = 0; k < 3; k++) {
        s[k].y = y[k];
        s[k].x = y[k];
        s[k].n = n;
    }
    m = open_memstream(&buf, &len);
    if (!m)
        return;
    sim_plot_grouped_bars(m, &ax, cats, n, s, jlen(wp) ? 3 : 2);
    fclose(m);
    inline_svg(f, buf, len);
    free(buf);
}

/* Colour of a pass: odd and even live passes alternate, so neighbouring
 * passes stay apart; the stop-and-copy pass has its own. */
static const char *pass_group(struct json_object *p)
{
    struct json_object *live = jget(p, "live");

    if (live && !json_object_get_boolean(live))
        return "stop-and-copy";
    return (long)jnum(p, "index") % 2 ? "live pass (odd)" : "live pass (even)";
}

/*
 * Timeline of one repeat.  With lo < hi only [lo, hi] is drawn (bars are
 * clipped to it): the zoom on the pause.  Returns the pause window of the
 * measured run in *p0, *p1 (NAN when there is none).
 */
static void timeline_chart(FILE *f, struct json_object *doc,
                           struct json_object *run, double lo, double hi,
                           double *p0, double *p1)
{
    struct json_object *pp = jget(judged(doc), "passes");
    struct json_object *meas = jget(run, "measured");
    struct json_object *mp = jget(meas, "passes");
    struct json_object *wire = jget(run, "wire"), *wp = jget(wire, "passes");
    struct json_object *gaps = jget(jget(run, "heartbeat"), "gaps");
    static const char *const groups[] = {
        "live pass (odd)", "live pass (even)", "stop-and-copy",
        "pause (implementation)", "end -> ready -> GO -> report",
        "heartbeat gap >= 10 ms",
    };
    struct sim_plot_bar bars[4 * MAX_PASSES + 300 + NGROUPS];
    size_t n = 0, len = 0;
    char *buf = NULL;
    FILE *m;

    for (size_t i = 0; i < jlen(pp) && i < MAX_PASSES; i++) {
        struct json_object *p = jat(pp, i);
        double s0 = jnum(p, "start_s");

        bars[n++] = (struct sim_plot_bar){ "predicted", s0,
                                           s0 + jnum(p, "duration_s"),
                                           pass_group(p) };
    }
    for (size_t i = 0; i < jlen(mp) && i < MAX_PASSES; i++) {
        struct json_object *p = jat(mp, i);
        double s0 = jnum(p, "start_s");

        bars[n++] = (struct sim_plot_bar){ "measured", s0,
                                           s0 + jnum(p, "duration_s"),
                                           pass_group(p) };
    }
    *p0 = *p1 = NAN;
    if (jlen(mp)) {
        struct json_object *last = jat(mp, jlen(mp) - 1);
        double t = jnum(last, "start_s") -
                   jnum(jget(meas, "downtime_parts"), "suspend_s");

        if (isfinite(t) && jnum(meas, "downtime_s") > 0) {
            *p0 = t;
            *p1 = t + jnum(meas, "downtime_s");
            bars[n++] = (struct sim_plot_bar){ "paused", *p0, *p1,
                                               "pause (implementation)" };
        }
    }
    for (size_t i = 0; i < jlen(wp) && i < MAX_PASSES; i++) {
        struct json_object *p = jat(wp, i);

        bars[n++] = (struct sim_plot_bar){ "wire", jnum(p, "start_s"),
                                           jnum(p, "end_s"), pass_group(p) };
    }
    if (isfinite(jnum(wire, "stream_end_s")) &&
        isfinite(jnum(wire, "report_s")))
        bars[n++] = (struct sim_plot_bar){ "wire", jnum(wire, "stream_end_s"),
                                           jnum(wire, "report_s"),
                                           "end -> ready -> GO -> report" };
    for (size_t i = 0;
         i < jlen(gaps) && n < sizeof(bars) / sizeof(bars[0]) - NGROUPS;
         i++) {
        struct json_object *g = jat(gaps, i);

        /* Scheduling hiccups of a few ms would hide the migration's gap. */
        if (json_object_get_double(jat(g, 1)) -
                json_object_get_double(jat(g, 0)) < 0.010)
            continue;
        bars[n++] = (struct sim_plot_bar){
            "heartbeat", json_object_get_double(jat(g, 0)),
            json_object_get_double(jat(g, 1)), "heartbeat gap >= 10 ms" };
    }
    if (lo < hi) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
            if (!(bars[i].end >= lo && bars[i].start <= hi))
                continue;
            bars[k] = bars[i];
            bars[k].start = fmax(bars[k].start, lo);
            bars[k].end = fmin(bars[k].end, hi);
            k++;
        }
        n = k;
    }
    if (!n)
        return;
    /* The same colours in every timeline, whatever appears first. */
    memmove(bars + NGROUPS, bars, n * sizeof(bars[0]));
    for (size_t g = 0; g < NGROUPS; g++)
        bars[g] = (struct sim_plot_bar){ bars[NGROUPS].row, NAN, NAN,
                                         groups[g] };
    n += NGROUPS;
    m = open_memstream(&buf, &len);
    if (!m)
        return;
    sim_plot_timeline(m, lo < hi ? "Around the pause (t = 0: sender "
                                   "connects)"
                                 : "Timeline (t = 0: sender connects)",
                      "seconds", bars, n);
    fclose(m);
    inline_svg(f, buf, len);
    free(buf);
}

static int write_html(FILE *f, struct json_object *doc)
{
    struct json_object *runs = jget(doc, "runs"), *sc = jget(doc, "scenario");
    struct row rows[SUMMARY_ROWS];
    double p0, p1;
    size_t nrows;

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>miglab run ", f);
    sim_plot_escape(f, or_dash(jstr(sc, "name")));
    fputs("</title>\n<style>body{font-family:sans-serif;max-width:1000px;"
          "margin:1em auto;padding:0 1em}table{border-collapse:collapse;"
          "margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;"
          "text-align:right}th:first-child,td:first-child{text-align:left}"
          ".pass{color:#2ca02c}.fail{color:#d62728}svg{max-width:100%;"
          "height:auto}</style></head><body>\n<h1>miglab run: ", f);
    sim_plot_escape(f, or_dash(jstr(sc, "name")));
    fputs("</h1>\n<p>", f);
    sim_plot_escape(f, or_dash(jstr(sc, "description")));
    fputs("</p>\n<ul>\n", f);
    header_lines(f, doc, true);
    fputs("</ul>\n<h2>Predicted vs measured</h2>\n<table><tr><th></th>"
          "<th>predicted</th>", f);
    if (calibrated(doc))
        fputs("<th>calibrated</th>", f);
    for (size_t i = 0; i < jlen(runs) && i < 16; i++)
        fprintf(f, "<th>repeat %zu</th>", i + 1);
    fputs("</tr>\n", f);
    build_summary(doc, rows, &nrows);
    for (size_t r = 0; r < nrows; r++) {
        fprintf(f, "<tr><td>%s</td>", rows[r].label);
        for (size_t c = 0; c < rows[r].n; c++) {
            fputs("<td>", f);
            sim_plot_escape(f, rows[r].cells[c]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    for (size_t i = 0; i < jlen(runs); i++) {
        struct json_object *run = jat(runs, i);

        fprintf(f, "<h2>Repeat %zu</h2>\n", i + 1);
        if (jstr(run, "error")) {
            fputs("<p class=\"fail\">Error: ", f);
            sim_plot_escape(f, jstr(run, "error"));
            fputs("</p>\n", f);
        }
        fputs("<h3>Passes</h3>\n", f);
        pass_table(f, judged(doc), run, true);
        fputs("<div class=\"chart\">\n", f);
        bars_chart(f, doc, run);
        timeline_chart(f, doc, run, 0, 0, &p0, &p1);
        /* Zoom: the pause and what the network saw after it. */
        if (isfinite(p0))
            timeline_chart(f, doc, run, p0 - 0.05 - (p1 - p0) * 0.2,
                           p1 + 0.1 + (p1 - p0) * 1.5, &p0, &p1);
        fputs("</div>\n<h3>Downtime, three ways</h3>\n<ul>\n", f);
        downtime_list(f, run, true);
        fputs("</ul>\n<h3>Expectations</h3>\n<ul>\n", f);
        expect_list(f, run, true);
        fputs("</ul>\n", f);
    }
    fputs("<p>Definitions: docs/runner.md. Re-render with <code>miglab "
          "report results.json --format html</code>.</p>\n</body></html>\n",
          f);
    return ferror(f) ? -EIO : 0;
}

/* ---- JUnit XML ---------------------------------------------------------- */

static void junit_property(FILE *f, const char *name, size_t repeat,
                           const char *value)
{
    fputs("<property name=\"", f);
    if (repeat)
        fprintf(f, "repeat%zu.", repeat);
    sim_plot_escape(f, name);
    fputs("\" value=\"", f);
    sim_plot_escape(f, value);
    fputs("\"/>", f);
}

/* The profile and, per repeat, the prediction errors of each prediction. */
static void junit_errors(FILE *f, struct json_object *doc)
{
    static const char *const keys[] = { "total_time_s", "downtime_s" };
    struct json_object *runs = jget(doc, "runs");
    struct json_object *c = jget(doc, "calibrated");
    char b[64], name[64];

    if (c) {
        junit_property(f, "profile", 0, or_dash(jstr(c, "profile")));
        junit_property(f, "profile_point", 0, or_dash(jstr(c, "point")));
    }
    for (size_t i = 0; i < jlen(runs); i++) {
        for (size_t k = 0; k < 2; k++) {
            struct json_object *e = jget(jget(jat(runs, i), "comparison"),
                                         keys[k]);

            snprintf(name, sizeof(name), "error_%s", keys[k]);
            junit_property(f, name, i + 1, pct(b, sizeof(b),
                                               jnum(e, "error")));
            if (!c)
                continue;
            e = jget(jget(jat(runs, i), "comparison_calibrated"), keys[k]);
            snprintf(name, sizeof(name), "error_%s_calibrated", keys[k]);
            junit_property(f, name, i + 1, pct(b, sizeof(b),
                                               jnum(e, "error")));
        }
    }
}

static int write_junit(FILE *f, struct json_object *doc)
{
    struct json_object *runs = jget(doc, "runs");
    const char *name = or_dash(jstr(jget(doc, "scenario"), "name"));
    size_t tests = 0, failures = 0;

    for (size_t i = 0; i < jlen(runs); i++) {
        struct json_object *ex = jget(jat(runs, i), "expectations");

        tests += jlen(ex);
        for (size_t k = 0; k < jlen(ex); k++)
            failures += !json_object_get_boolean(jget(jat(ex, k), "pass"));
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
          "<testsuite name=\"miglab.run.", f);
    sim_plot_escape(f, name);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n"
               "<properties><property name=\"emulator\" value=\"",
            tests, failures);
    sim_plot_escape(f, or_dash(jstr(doc, "emulator")));
    fputs("\"/>", f);
    junit_errors(f, doc);
    fputs("</properties>\n", f);
    for (size_t i = 0; i < jlen(runs); i++) {
        struct json_object *ex = jget(jat(runs, i), "expectations");

        for (size_t k = 0; k < jlen(ex); k++) {
            struct json_object *e = jat(ex, k);

            fputs("<testcase classname=\"miglab.", f);
            sim_plot_escape(f, name);
            fprintf(f, ".repeat%zu\" name=\"", i + 1);
            sim_plot_escape(f, or_dash(jstr(e, "name")));
            fputs("\">", f);
            if (!json_object_get_boolean(jget(e, "pass"))) {
                fputs("<failure message=\"", f);
                sim_plot_escape(f, or_dash(jstr(e, "text")));
                fputs("\"/>", f);
            } else {
                fputs("<system-out>", f);
                sim_plot_escape(f, or_dash(jstr(e, "text")));
                fputs("</system-out>", f);
            }
            fputs("</testcase>\n", f);
        }
    }
    fputs("</testsuite>\n</testsuites>\n", f);
    return ferror(f) ? -EIO : 0;
}

int report_write(FILE *f, enum report_format fmt, struct json_object *doc)
{
    switch (fmt) {
    case REPORT_MD:
        return write_md(f, doc);
    case REPORT_HTML:
        return write_html(f, doc);
    case REPORT_JUNIT:
        return write_junit(f, doc);
    case REPORT_JSON:
        fputs(json_object_to_json_string_ext(
                  doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                           JSON_C_TO_STRING_NOSLASHESCAPE), f);
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
    }
    return -EINVAL;
}

static int mkdirs(const char *dir)
{
    char p[512];

    snprintf(p, sizeof(p), "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) && errno != EEXIST)
        return -errno;
    return 0;
}

int report_write_dir(const char *dir, struct json_object *doc, char *err,
                     size_t errlen)
{
    static const struct {
        const char *file;
        enum report_format fmt;
    } outs[] = {
        { "results.json", REPORT_JSON }, { "report.md", REPORT_MD },
        { "report.html", REPORT_HTML }, { "junit.xml", REPORT_JUNIT },
    };
    int rc = mkdirs(dir);

    if (rc) {
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        char path[600];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, outs[i].file);
        f = fopen(path, "w");
        if (!f) {
            rc = -errno;
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return rc;
        }
        rc = report_write(f, outs[i].fmt, doc);
        if (fclose(f) && !rc)
            rc = -errno;
        if (rc) {
            snprintf(err, errlen, "%s: write error", path);
            return rc;
        }
    }
    return 0;
}
