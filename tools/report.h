/* SPDX-License-Identifier: MIT */
/*
 * report.h - render a `miglab run` result document (tools/runner.h,
 * docs/runner.md "Result JSON") as Markdown, a self-contained HTML page
 * with inline SVG charts (sim/plot.h), JUnit XML, or JSON.  The renderers
 * read only the document, so `miglab report RESULTS.json` re-renders a
 * saved run.  Missing keys are shown as "-", never a failure.
 */
#ifndef MIGLAB_REPORT_H
#define MIGLAB_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

enum report_format {
    REPORT_MD,
    REPORT_HTML,
    REPORT_JUNIT,
    REPORT_JSON,
};

/* "md", "html", "junit", "json" -> format; -1 when unknown. */
int report_format_parse(const char *s);

/* Write doc in format fmt to f.  0, or -errno when writing fails. */
int report_write(FILE *f, enum report_format fmt, struct json_object *doc);

/*
 * Write report.md, report.html, junit.xml and results.json into dir
 * (created, with its parents, when missing).  0 or -errno with one line
 * in err.
 */
int report_write_dir(const char *dir, struct json_object *doc, char *err,
                     size_t errlen);

#endif
