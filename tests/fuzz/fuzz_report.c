/* SPDX-License-Identifier: MIT */
/*
 * fuzz_report.c - libFuzzer target for the run-result reader behind
 * `miglab report RESULTS.json`: json-c's parser, the measured-run reader
 * runner_result_from_json() (tools/runner_json.c) and the four renderers
 * (tools/report.c), which must take any document ("missing keys are shown
 * as '-', never a failure").
 *
 * Invariants checked: reading a run fills a result only with what it may
 * (0 or MIG_ECORRUPT, outcome in range); every renderer returns 0 and
 * writes something; the JSON rendering parses back to a document that
 * renders to the same JSON.  Inputs are read with json-c's default
 * nesting limit, as the command does.
 *
 * Run: make fuzz FUZZ_TARGETS=report (docs/fuzzing.md).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mig_err.h"
#include "report.h"
#include "runner.h"

/* Render doc in fmt into a new string (caller frees). */
static char *render(struct json_object *doc, enum report_format fmt)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    CHECK(f != NULL);
    CHECK(report_write(f, fmt, doc) == 0);
    CHECK(fclose(f) == 0);
    CHECK(len > 0 && strlen(text) <= len);
    return text;
}

static void check_result(struct json_object *m)
{
    struct sim_result r;
    int rc;

    if (!m)
        return;
    memset(&r, 0, sizeof(r));
    rc = runner_result_from_json(m, &r);
    CHECK(rc == 0 || rc == MIG_ECORRUPT);
    if (rc == 0)
        CHECK((int)r.outcome >= 0 && r.outcome <= SIM_OUTCOME_REFUSED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_tokener *tok;
    struct json_object *doc, *runs, *m, *back;
    char *json, *again;

    if (size > 1 << 16)
        return 0;
    tok = json_tokener_new();
    CHECK(tok != NULL);
    doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!doc || !json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);       /* the command refuses these */
        return 0;
    }
    check_result(json_object_object_get_ex(doc, "predicted", &m) ? m : NULL);
    if (json_object_object_get_ex(doc, "runs", &runs) &&
        json_object_is_type(runs, json_type_array))
        for (size_t i = 0; i < json_object_array_length(runs); i++) {
            struct json_object *run = json_object_array_get_idx(runs, i);

            if (json_object_is_type(run, json_type_object) &&
                json_object_object_get_ex(run, "measured", &m))
                check_result(m);
        }
    free(render(doc, REPORT_MD));
    free(render(doc, REPORT_HTML));
    free(render(doc, REPORT_JUNIT));
    json = render(doc, REPORT_JSON);
    back = json_tokener_parse(json);
    CHECK(back && json_object_is_type(back, json_type_object));
    again = render(back, REPORT_JSON);
    CHECK(strcmp(json, again) == 0);
    free(again);
    free(json);
    json_object_put(back);
    json_object_put(doc);
    return 0;
}
