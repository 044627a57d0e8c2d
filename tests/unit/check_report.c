/* SPDX-License-Identifier: MIT */
/*
 * check_report.c - the scenario runner's comparisons (tools/runner_json.c)
 * and the report renderers (tools/report.c): expectations against a
 * measured run, relative errors, a run's JSON back into a sim_result, and
 * Markdown / HTML / JUnit / JSON output of a result document, including
 * documents with missing or wrongly typed keys.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check_main.h"
#include "mig_err.h"
#include "report.h"
#include "runner.h"
#include "scenario.h"

/* A result document as `miglab run` writes it: one prediction, two
 * repeats (one failing a bound), wire and heartbeat data. */
static const char doc_text[] =
    "{\"miglab_run\":1,"
    "\"scenario\":{\"name\":\"quick<&>\",\"description\":\"a | b\","
    "\"file\":\"scenarios/quickstart.ini\"},"
    "\"started\":\"2026-11-27T04:00:00Z\","
    "\"emulator\":\"miglab-tun-relay+tbf+nft\","
    "\"testbed\":{\"id\":\"run1\",\"emulator\":\"miglab-tun-relay+tbf+nft\","
    " \"directions\":[{\"direction\":\"h1->h2\",\"rate_bps\":1e9,"
    " \"delay_s\":0.00025,\"jitter_s\":0,\"loss\":0}]},"
    "\"cc\":{\"requested\":\"cubic\",\"used\":\"bbr\",\"how\":\"default\"},"
    "\"predicted\":{\"mode\":\"live\",\"outcome\":\"completed\","
    " \"converged\":true,\"total_time_s\":2.5,\"downtime_s\":0.03,"
    " \"bytes_sent\":300000000,\"live_passes\":2,"
    " \"passes\":[{\"index\":1,\"live\":true,\"pages\":65536,"
    "  \"bytes\":268000000,\"start_s\":0.001,\"duration_s\":2.2},"
    "  {\"index\":2,\"live\":true,\"pages\":6000,\"bytes\":25000000,"
    "  \"start_s\":2.2,\"duration_s\":0.2},"
    "  {\"index\":3,\"live\":false,\"pages\":30,\"bytes\":130000,"
    "  \"start_s\":2.45,\"duration_s\":0.002}]},"
    "\"runs\":[{\"repeat\":1,\"ok\":true,\"outcome\":\"completed\","
    " \"measured\":{\"mode\":\"live\",\"outcome\":\"completed\","
    "  \"converged\":true,\"total_time_s\":2.6,\"downtime_s\":0.08,"
    "  \"drained\":true,\"drain_s\":0.0125,"
    "  \"bytes_sent\":301000000,\"live_passes\":2,"
    "  \"downtime_parts\":{\"suspend_s\":0.0001},"
    "  \"integrity\":{\"ok\":true,\"checked\":true},"
    "  \"passes\":[{\"index\":1,\"live\":true,\"pages\":65536,"
    "   \"bytes\":268000000,\"start_s\":0.001,\"duration_s\":2.1},"
    "   {\"index\":2,\"live\":true,\"pages\":6100,\"bytes\":25100000,"
    "   \"start_s\":2.2,\"duration_s\":0.25},"
    "   {\"index\":3,\"live\":false,\"pages\":40,\"bytes\":170000,"
    "   \"start_s\":2.5,\"duration_s\":0.003}]},"
    " \"downtime\":{\"implementation_s\":0.08,\"network_s\":0.12,"
    "  \"network_note\":\"largest gap\",\"wire_s\":0.004,"
    "  \"wire_note\":\"first stop-and-copy byte -> report\","
    "  \"wire_parts\":{\"final_pages_s\":0.001}},"
    " \"wire\":{\"passes\":[{\"index\":1,\"live\":true,\"bytes\":268000000,"
    "  \"start_s\":0.002,\"end_s\":2.2,\"retransmits\":0},"
    "  {\"index\":2,\"live\":false,\"bytes\":25100000,\"start_s\":2.2,"
    "  \"end_s\":2.5,\"retransmits\":3}],"
    "  \"stream_end_s\":2.55,\"report_s\":2.58},"
    " \"heartbeat\":{\"gaps\":[[2.49,2.61],[1.0,1.001]]},"
    " \"comparison\":{\"total_time_s\":{\"error\":0.038},"
    "  \"downtime_s\":{\"error\":0.625}},"
    " \"expectations\":[{\"name\":\"downtime_max\",\"pass\":true,"
    "  \"text\":\"downtime <= 300 ms (got 80 ms)\"}]},"
    " {\"repeat\":2,\"ok\":false,\"outcome\":\"completed\","
    "  \"error\":\"the <host> failed\","
    "  \"downtime\":{\"network_note\":\"unavailable: no --ip\"},"
    "  \"expectations\":[{\"name\":\"downtime_max\",\"pass\":false,"
    "   \"text\":\"downtime <= 300 ms (got 400 ms) & \\\"more\\\"\"},"
    "   {\"name\":\"integrity\",\"pass\":true,\"text\":\"ok\"}]}],"
    "\"expectations_failed\":1,\"ok\":false}";

static struct json_object *doc;

static void setup(void)
{
    doc = json_tokener_parse(doc_text);
    ck_assert_ptr_nonnull(doc);
}

static void teardown(void)
{
    json_object_put(doc);
    doc = NULL;
}

/* Render d in fmt into a new string (caller frees). */
static char *render(struct json_object *d, enum report_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(report_write(f, fmt, d), 0);
    fclose(f);
    return buf;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *p = s; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

START_TEST(test_md)
{
    char *s = render(doc, REPORT_MD);

    ck_assert_ptr_nonnull(strstr(s, "# miglab run: quick<&>"));
    ck_assert_ptr_nonnull(strstr(s, "link emulator: miglab-tun-relay+tbf+nft"));
    ck_assert_ptr_nonnull(strstr(s, "| downtime: implementation | 30.0 ms | "
                                    "80.0 ms |"));
    ck_assert_ptr_nonnull(strstr(s, "| downtime: network (heartbeat) | - | "
                                    "120.0 ms | unavailable |"));
    ck_assert_ptr_nonnull(strstr(s, "| downtime: wire (pcap) | - | 4.0 ms"));
    ck_assert_ptr_nonnull(strstr(s, "the sender waited 12.5 ms for the live "
                                    "passes to be acknowledged (drain)"));
    ck_assert_ptr_nonnull(strstr(s, "| 3 (stop-and-copy) |"));
    ck_assert_ptr_nonnull(strstr(s, "**FAIL** downtime <= 300 ms"));
    ck_assert_ptr_nonnull(strstr(s, "verdict: FAIL"));
    /* A '|' in text must not split a table cell. */
    ck_assert_ptr_null(strstr(s, "a | b"));
    free(s);
}
END_TEST

START_TEST(test_html)
{
    char *s = render(doc, REPORT_HTML);

    ck_assert_ptr_nonnull(strstr(s, "<!DOCTYPE html>"));
    /* Bars, timeline and (repeat 1 paused) the zoom on the pause; repeat
     * 2 failed but still shows the prediction. */
    ck_assert_uint_eq(count(s, "<svg"), 5);
    ck_assert_uint_eq(count(s, "Around the pause"), 1);
    ck_assert_ptr_null(strstr(s, "<?xml"));
    ck_assert_ptr_nonnull(strstr(s, "Bytes per pass"));
    ck_assert_ptr_nonnull(strstr(s, "heartbeat gap &gt;= 10 ms"));
    ck_assert_ptr_nonnull(strstr(s, "miglab-tun-relay+tbf+nft"));
    ck_assert_ptr_nonnull(strstr(s, "quick&lt;&amp;&gt;"));
    ck_assert_ptr_null(strstr(s, "the <host>"));
    ck_assert_ptr_nonnull(strstr(s, "</html>"));
    free(s);
}
END_TEST

START_TEST(test_junit)
{
    char *s = render(doc, REPORT_JUNIT);

    ck_assert_ptr_nonnull(strstr(s, "tests=\"3\" failures=\"1\""));
    ck_assert_uint_eq(count(s, "<testcase "), 3);
    ck_assert_uint_eq(count(s, "<failure "), 1);
    ck_assert_ptr_nonnull(strstr(s, "classname=\"miglab.quick&lt;&amp;&gt;"
                                    ".repeat2\" name=\"downtime_max\""));
    ck_assert_ptr_nonnull(strstr(s, "&amp; &quot;more&quot;"));
    ck_assert_ptr_nonnull(strstr(s, "value=\"miglab-tun-relay+tbf+nft\""));
    free(s);
}
END_TEST

/* Add a profile's prediction and calibrated comparisons to doc. */
static void add_calibration(struct json_object *d)
{
    struct json_object *cal = json_tokener_parse(
        "{\"profile\":\"p.ini\",\"point\":\"p1\",\"note\":\"measured\","
        "\"predicted\":{\"mode\":\"live\",\"outcome\":\"completed\","
        " \"total_time_s\":2.55,\"downtime_s\":0.078,"
        " \"bytes_sent\":300500000,\"live_passes\":2,"
        " \"passes\":[{\"index\":1,\"live\":true,\"pages\":65536,"
        "  \"bytes\":268000000,\"start_s\":0.001,\"duration_s\":2.15}]}}");
    struct json_object *runs, *cmp;

    ck_assert_ptr_nonnull(cal);
    json_object_object_add(d, "calibrated", cal);
    json_object_object_get_ex(d, "runs", &runs);
    cmp = json_tokener_parse("{\"total_time_s\":{\"error\":0.019},"
                             "\"downtime_s\":{\"error\":0.025}}");
    json_object_object_add(json_object_array_get_idx(runs, 0),
                           "comparison_calibrated", cmp);
}

/* Regression: the summary has two more rows with a profile (it once
 * overran its row array and emptied the HTML and JUnit reports). */
START_TEST(test_calibrated)
{
    char *md, *html, *junit;

    add_calibration(doc);
    md = render(doc, REPORT_MD);
    html = render(doc, REPORT_HTML);
    junit = render(doc, REPORT_JUNIT);
    ck_assert_ptr_nonnull(strstr(md, "| | predicted | calibrated | "
                                     "repeat 1 | repeat 2 |"));
    ck_assert_ptr_nonnull(strstr(md, "| total time | 2500.0 ms | "
                                     "2550.0 ms | 2600.0 ms |"));
    ck_assert_ptr_nonnull(strstr(md, "| error downtime | - | - | 62.5% |"));
    ck_assert_ptr_nonnull(strstr(md, "| error downtime, calibrated | - | - "
                                     "| 2.5% | - |"));
    ck_assert_ptr_nonnull(strstr(md, "host profile: p.ini, network point "
                                     "p1"));
    ck_assert_ptr_nonnull(strstr(html, "<th>calibrated</th>"));
    ck_assert_ptr_nonnull(strstr(html, "error total time, calibrated"));
    ck_assert_ptr_nonnull(strstr(html, "</html>"));
    ck_assert_ptr_nonnull(strstr(junit, "name=\"repeat1.error_downtime_s_"
                                        "calibrated\" value=\"2.5%\""));
    ck_assert_ptr_nonnull(strstr(junit, "name=\"profile\" value=\"p.ini\""));
    ck_assert_uint_eq(count(junit, "<testcase "), 3);
    free(md);
    free(html);
    free(junit);
}
END_TEST

START_TEST(test_json_roundtrip)
{
    char *s = render(doc, REPORT_JSON);
    struct json_object *back = json_tokener_parse(s);

    ck_assert_ptr_nonnull(back);
    ck_assert(json_object_equal(back, doc));
    json_object_put(back);
    free(s);
}
END_TEST

START_TEST(test_format_parse)
{
    ck_assert_int_eq(report_format_parse("md"), REPORT_MD);
    ck_assert_int_eq(report_format_parse("html"), REPORT_HTML);
    ck_assert_int_eq(report_format_parse("junit"), REPORT_JUNIT);
    ck_assert_int_eq(report_format_parse("json"), REPORT_JSON);
    ck_assert_int_eq(report_format_parse("pdf"), -1);
    ck_assert_int_eq(report_format_parse(NULL), -1);
}
END_TEST

/* ---- expectations ------------------------------------------------------ */

struct exp_case {
    const char *name;
    const char *section, *key, *value;      /* one [expect] setting */
    double meas_down, meas_total;
    enum sim_outcome meas_outcome;
    int integrity;                          /* -1 not checked */
    unsigned failed;
    size_t lines;
};

static const struct exp_case exp_cases[] = {
    { "downtime ok", "expect", "downtime_max", "300ms", 0.2, 5,
      SIM_OUTCOME_COMPLETED, -1, 0, 1 },
    { "downtime over", "expect", "downtime_max", "300ms", 0.31, 5,
      SIM_OUTCOME_COMPLETED, -1, 1, 1 },
    { "downtime min", "expect", "downtime_min", "60ms", 0.05, 5,
      SIM_OUTCOME_COMPLETED, -1, 1, 1 },
    { "total over", "expect", "total_time_max", "4s", 0.1, 5,
      SIM_OUTCOME_COMPLETED, -1, 1, 1 },
    { "refused wanted", "expect", "outcome", "refused", 0, 0,
      SIM_OUTCOME_REFUSED, -1, 0, 1 },
    { "refused, got completed", "expect", "outcome", "refused", 0.1, 5,
      SIM_OUTCOME_COMPLETED, -1, 1, 1 },
    /* prediction 5 s / 100 ms: two lines, total and downtime. */
    { "error within", "expect", "prediction_error", "10%", 0.105, 5.2,
      SIM_OUTCOME_COMPLETED, -1, 0, 2 },
    { "error downtime out", "expect", "prediction_error", "10%", 0.2, 5.2,
      SIM_OUTCOME_COMPLETED, -1, 1, 2 },
    { "error both out", "expect", "prediction_error", "10%", 0.2, 9,
      SIM_OUTCOME_COMPLETED, -1, 2, 2 },
    { "error, outcomes differ", "expect", "prediction_error", "10%", 0, 0,
      SIM_OUTCOME_ABORTED, -1, 1, 1 },
    { "integrity ok", "expect", "downtime_max", "1s", 0.1, 5,
      SIM_OUTCOME_COMPLETED, 1, 0, 2 },
    { "integrity bad", "expect", "downtime_max", "1s", 0.1, 5,
      SIM_OUTCOME_COMPLETED, 0, 1, 2 },
};

START_TEST(test_expect)
{
    const struct exp_case *c = &exp_cases[_i];
    struct sim_scenario sc;
    struct sim_result pred, meas;
    struct json_object *arr = json_object_new_array();
    char err[200];
    unsigned failed;

    sim_scenario_init(&sc);
    ck_assert_msg(sim_scenario_set(&sc, c->section, c->key, c->value, err,
                                   sizeof(err)) == 0, "%d %s: %s", _i,
                  c->name, err);
    sim_result_init(&pred);
    sim_result_init(&meas);
    pred.outcome = SIM_OUTCOME_COMPLETED;
    pred.total_time_s = 5;
    pred.downtime_s = 0.1;
    meas.outcome = c->meas_outcome;
    meas.total_time_s = c->meas_total;
    meas.downtime_s = c->meas_down;
    failed = runner_expect_check(&sc.expect, &pred, &meas, c->integrity, arr);
    ck_assert_msg(failed == c->failed, "%d %s: failed %u, want %u", _i,
                  c->name, failed, c->failed);
    ck_assert_msg(json_object_array_length(arr) == c->lines,
                  "%d %s: %zu lines, want %zu", _i, c->name,
                  json_object_array_length(arr), c->lines);
    for (size_t k = 0; k < json_object_array_length(arr); k++) {
        struct json_object *o = json_object_array_get_idx(arr, k), *v;

        ck_assert(json_object_object_get_ex(o, "name", &v));
        ck_assert(json_object_object_get_ex(o, "pass", &v));
        ck_assert(json_object_object_get_ex(o, "text", &v));
        ck_assert_uint_gt(strlen(json_object_get_string(v)), 0);
    }
    json_object_put(arr);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_expect_names)
{
    struct sim_scenario sc;
    struct sim_result r;
    struct json_object *arr = json_object_new_array(), *v;
    char err[200];
    static const char *const want[] = { "outcome", "converged",
                                        "downtime_max", "downtime_min",
                                        "total_time_max", "bytes_max" };

    sim_scenario_init(&sc);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "bytes_max", "1G", err,
                                      sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "total_time_max", "9s",
                                      err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "downtime_min", "1ms",
                                      err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "downtime_max", "1s",
                                      err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "converged", "true",
                                      err, sizeof(err)), 0);
    ck_assert_int_eq(sim_scenario_set(&sc, "expect", "outcome", "completed",
                                      err, sizeof(err)), 0);
    sim_result_init(&r);
    r.converged = true;
    r.downtime_s = 0.1;
    r.total_time_s = 1;
    ck_assert_uint_eq(runner_expect_check(&sc.expect, NULL, &r, -1, arr), 0);
    ck_assert_uint_eq(json_object_array_length(arr), 6);
    for (size_t k = 0; k < 6; k++) {
        json_object_object_get_ex(json_object_array_get_idx(arr, k), "name",
                                  &v);
        ck_assert_str_eq(json_object_get_string(v), want[k]);
    }
    json_object_put(arr);
    sim_scenario_free(&sc);
}
END_TEST

START_TEST(test_rel_error)
{
    ck_assert(fabs(runner_rel_error(1.1, 1.0) - 0.1) < 1e-12);
    ck_assert(fabs(runner_rel_error(0.9, 1.0) - 0.1) < 1e-12);
    ck_assert(fabs(runner_rel_error(0, 2.0) - 1.0) < 1e-12);
    ck_assert(isnan(runner_rel_error(1.0, 0)));
    ck_assert(isnan(runner_rel_error(1.0, -1)));
    ck_assert(isnan(runner_rel_error(INFINITY, 1)));
}
END_TEST

START_TEST(test_result_from_json)
{
    struct json_object *m = json_tokener_parse(
        "{\"mode\":\"cold\",\"outcome\":\"refused\",\"converged\":false,"
        "\"total_time_s\":1.5,\"downtime_s\":1.5,\"bytes_sent\":4096,"
        "\"live_passes\":0}");
    struct sim_result r;

    sim_result_init(&r);
    ck_assert_int_eq(runner_result_from_json(m, &r), 0);
    ck_assert_int_eq(r.mode, SIM_MODE_COLD);
    ck_assert_int_eq(r.outcome, SIM_OUTCOME_REFUSED);
    ck_assert(r.total_time_s == 1.5);
    ck_assert_uint_eq(r.bytes_sent, 4096);
    ck_assert(!r.drained);
    json_object_put(m);
    m = json_tokener_parse("{\"mode\":\"live\",\"drained\":true,"
                           "\"drain_s\":0.25}");
    sim_result_init(&r);
    ck_assert_int_eq(runner_result_from_json(m, &r), 0);
    ck_assert(r.drained);
    ck_assert(r.drain_s == 0.25);
    json_object_put(m);
}
END_TEST

/* ---- limits: sparse documents ------------------------------------------ */

static const char *const sparse_docs[] = {
    "{}",
    "{\"runs\":[]}",
    "{\"runs\":[{}],\"predicted\":{}}",
    "{\"runs\":[{\"measured\":{\"passes\":[]},\"wire\":{},"
    "\"heartbeat\":{\"gaps\":[[]]}}]}",
};

START_TEST(test_sparse)
{
    struct json_object *d = json_tokener_parse(sparse_docs[_i]);

    ck_assert_ptr_nonnull(d);
    for (int f = REPORT_MD; f <= REPORT_JSON; f++) {
        char *s = render(d, (enum report_format)f);

        ck_assert_msg(s && *s, "%d: format %d empty", _i, f);
        free(s);
    }
    json_object_put(d);
}
END_TEST

START_TEST(test_many_passes)
{
    struct json_object *pred = json_object_new_object();
    struct json_object *passes = json_object_new_array();
    struct json_object *d = json_object_new_object(), *runs;
    char *s;

    for (int i = 0; i < 200; i++) {
        struct json_object *p = json_object_new_object();

        json_object_object_add(p, "index", json_object_new_int(i + 1));
        json_object_object_add(p, "bytes", json_object_new_int(4096 * i));
        json_object_object_add(p, "start_s", json_object_new_double(i));
        json_object_object_add(p, "duration_s", json_object_new_double(1));
        json_object_array_add(passes, p);
    }
    json_object_object_add(pred, "passes", passes);
    json_object_object_add(d, "predicted", pred);
    runs = json_object_new_array();
    json_object_array_add(runs, json_object_new_object());
    json_object_object_add(d, "runs", runs);
    s = render(d, REPORT_HTML);
    ck_assert_ptr_nonnull(strstr(s, "<svg"));
    free(s);
    json_object_put(d);
}
END_TEST

/* ---- corrupt: wrong types --------------------------------------------- */

static const char *const bad_runs[] = {
    "[]",
    "\"text\"",
    "{\"outcome\":\"exploded\"}",
    "{\"mode\":\"sideways\"}",
};

START_TEST(test_result_bad)
{
    struct json_object *m = json_tokener_parse(bad_runs[_i]);
    struct sim_result r;

    sim_result_init(&r);
    ck_assert_int_eq(runner_result_from_json(m, &r), MIG_ECORRUPT);
    ck_assert_int_eq(runner_result_from_json(NULL, &r), MIG_ECORRUPT);
    json_object_put(m);
}
END_TEST

static const char *const wrong_types[] = {
    "{\"runs\":\"x\",\"predicted\":[]}",
    "{\"runs\":[1,\"a\",null],\"scenario\":7}",
    "{\"runs\":[{\"expectations\":{},\"measured\":[],\"downtime\":3,"
    "\"wire\":{\"passes\":{}}}]}",
    "{\"testbed\":{\"directions\":[5]},\"cc\":[],\"emulator\":[1]}",
};

START_TEST(test_wrong_types)
{
    struct json_object *d = json_tokener_parse(wrong_types[_i]);

    ck_assert_ptr_nonnull(d);
    for (int f = REPORT_MD; f <= REPORT_JSON; f++) {
        char *s = render(d, (enum report_format)f);

        ck_assert_ptr_nonnull(s);
        free(s);
    }
    json_object_put(d);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_md);
    tcase_add_test(core, test_html);
    tcase_add_test(core, test_junit);
    tcase_add_test(core, test_calibrated);
    tcase_add_test(core, test_json_roundtrip);
    tcase_add_test(core, test_format_parse);
    tcase_add_loop_test(core, test_expect, 0,
                        sizeof(exp_cases) / sizeof(exp_cases[0]));
    tcase_add_test(core, test_expect_names);
    tcase_add_test(core, test_rel_error);
    tcase_add_test(core, test_result_from_json);
    suite_add_tcase(s, core);

    tcase_add_loop_test(limits, test_sparse, 0,
                        sizeof(sparse_docs) / sizeof(sparse_docs[0]));
    tcase_add_test(limits, test_many_passes);
    suite_add_tcase(s, limits);

    tcase_add_loop_test(corrupt, test_result_bad, 0,
                        sizeof(bad_runs) / sizeof(bad_runs[0]));
    tcase_add_loop_test(corrupt, test_wrong_types, 0,
                        sizeof(wrong_types) / sizeof(wrong_types[0]));
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(report_suite());
}
