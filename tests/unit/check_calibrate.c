/* SPDX-License-Identifier: MIT */
/*
 * check_calibrate.c - unit tests of the derivation of a host profile's
 * costs from measured idle runs (tools/calibrate_derive.c): synthetic
 * runner documents in, medians and fitted costs out, and the fitted
 * costs make the simulator reproduce the measured idle runs.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "calibrate.h"
#include "mig_err.h"
#include "check_main.h"

/* One measured repeat as `miglab migrate --json` reports it. */
static struct json_object *measured(const char *outcome, double p1_bytes,
                                    double p1_dur, double total,
                                    double down, double suspend,
                                    double unpause)
{
    struct json_object *run = json_object_new_object();
    struct json_object *m = json_object_new_object();
    struct json_object *passes = json_object_new_array();
    struct json_object *p1 = json_object_new_object();
    struct json_object *parts = json_object_new_object();

    json_object_object_add(p1, "bytes", json_object_new_double(p1_bytes));
    json_object_object_add(p1, "duration_s", json_object_new_double(p1_dur));
    json_object_array_add(passes, p1);
    json_object_object_add(parts, "suspend_s", json_object_new_double(suspend));
    json_object_object_add(parts, "unpause_s", json_object_new_double(unpause));
    json_object_object_add(m, "outcome", json_object_new_string(outcome));
    json_object_object_add(m, "total_time_s", json_object_new_double(total));
    json_object_object_add(m, "downtime_s", json_object_new_double(down));
    json_object_object_add(m, "passes", passes);
    json_object_object_add(m, "downtime_parts", parts);
    json_object_object_add(run, "measured", m);
    return run;
}

/* Give run a stop-and-copy pass of final_pages after pass 1 and a capture
 * whose last page byte arrived at wire_end. */
static void add_final_and_wire(struct json_object *run, double final_pages,
                               double p1_start, double wire_end)
{
    struct json_object *m = json_object_object_get(run, "measured");
    struct json_object *passes = json_object_object_get(m, "passes");
    struct json_object *p1 = json_object_array_get_idx(passes, 0);
    struct json_object *fin = json_object_new_object();
    struct json_object *wire = json_object_new_object();
    struct json_object *wp = json_object_new_array();
    struct json_object *w1 = json_object_new_object();

    json_object_object_add(p1, "start_s", json_object_new_double(p1_start));
    json_object_object_add(fin, "pages", json_object_new_double(final_pages));
    json_object_array_add(passes, fin);
    json_object_object_add(w1, "end_s", json_object_new_double(wire_end));
    json_object_array_add(wp, w1);
    json_object_object_add(wire, "passes", wp);
    json_object_object_add(run, "wire", wire);
}

START_TEST(test_queued_at_pause)
{
    struct json_object *runs = json_object_new_array();
    struct json_object *a, *b, *c;
    struct calib_measure m;
    char err[200] = "";

    /* Pass 1 ends (sender) at 0.1 + 3.0 s; the last page reached the wire
     * 200 ms (a) and 70 ms (b) later; c's final pass had pages, so its
     * queue is unknown (0).  Queues: median(200, 70, 0) = 70 ms; the rest
     * of the downtime: median(0, 80, 300) = 80 ms. */
    a = measured("completed", 3e8, 3.0, 3.5, 0.200, 0, 0);
    b = measured("completed", 3e8, 3.0, 3.4, 0.150, 0, 0);
    c = measured("completed", 3e8, 3.0, 3.4, 0.300, 0, 0);
    add_final_and_wire(a, 0, 0.1, 3.3);
    add_final_and_wire(b, 0, 0.1, 3.17);
    add_final_and_wire(c, 5, 0.1, 3.2);
    json_object_array_add(runs, a);
    json_object_array_add(runs, b);
    json_object_array_add(runs, c);
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)), 0);
    ck_assert_double_eq_tol(m.queued_s, 0.070, 1e-9);
    ck_assert_double_eq_tol(m.downtime_s, 0.150, 1e-9);
    /* Goodput on the wire: pass 1's bytes over its time plus the queue
     * (3.2, 3.07 and 3.0 s): the median is b's. */
    ck_assert_double_eq_tol(m.goodput_Bps, 3e8 / 3.07, 1e-3);
    /* The capture at the receiver sees each byte one one-way delay late:
     * with 20 ms of it, a's queue is 180 ms, b's 50 ms. */
    ck_assert_int_eq(calib_measure_runs(runs, 0.020, &m, err, sizeof(err)),
                     0);
    ck_assert_double_eq_tol(m.queued_s, 0.050, 1e-9);
    ck_assert(!m.drained);
    /* Drained pauses (policy.drain): the queue was waited for before the
     * pause, so the downtime is the measured one, median(200, 150, 300);
     * the queue is still measured (and the goodput with it). */
    for (size_t i = 0; i < 3; i++)
        json_object_object_add(json_object_object_get(
                                   json_object_array_get_idx(runs, i),
                                   "measured"),
                               "drained", json_object_new_boolean(1));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)), 0);
    ck_assert(m.drained);
    ck_assert_double_eq_tol(m.queued_s, 0.070, 1e-9);
    ck_assert_double_eq_tol(m.downtime_s, 0.200, 1e-9);
    ck_assert_double_eq_tol(m.goodput_Bps, 3e8 / 3.07, 1e-3);
    json_object_put(runs);
    /* Without a capture the queue is unknown: 0. */
    runs = json_object_new_array();
    json_object_array_add(runs, measured("completed", 3e8, 3.0, 3.4, 0.150,
                                         0, 0));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)), 0);
    ck_assert_double_eq(m.queued_s, 0);
    json_object_put(runs);
}
END_TEST

START_TEST(test_medians_and_spreads)
{
    struct json_object *runs = json_object_new_array();
    struct calib_measure m;
    char err[200] = "";

    /* Goodputs 100, 110, 120 MB/s; downtimes 30, 10, 20 ms; one failed
     * repeat that must not count. */
    json_object_array_add(runs, measured("completed", 1e9, 10.0, 10.2, 0.030,
                                         0.001, 0.002));
    json_object_array_add(runs, measured("aborted", 1e9, 1.0, 1.0, 5.0,
                                         5.0, 5.0));
    json_object_array_add(runs, measured("completed", 1.1e9, 10.0, 10.1,
                                         0.010, 0.003, 0.001));
    json_object_array_add(runs, measured("completed", 1.2e9, 10.0, 10.3,
                                         0.020, 0.002, 0.003));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)), 0);
    /* The median of each, over the completed repeats only. */
    ck_assert_uint_eq(m.n, 3);
    ck_assert_double_eq_tol(m.goodput_Bps, 110e6, 1e-3);
    ck_assert_double_eq_tol(m.spread_goodput, 20.0 / 110.0, 1e-12);
    ck_assert_double_eq_tol(m.downtime_s, 0.020, 1e-12);
    ck_assert_double_eq_tol(m.spread_downtime, 1.0, 1e-12);
    ck_assert_double_eq_tol(m.total_s, 10.2, 1e-12);
    ck_assert_double_eq_tol(m.suspend_s, 0.002, 1e-12);
    ck_assert_double_eq_tol(m.unpause_s, 0.002, 1e-12);
    json_object_put(runs);
}
END_TEST

START_TEST(test_median)
{
    double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };

    ck_assert_double_eq(calib_median(odd, 3), 2);
    ck_assert_double_eq(calib_median(even, 4), 2.5);
    ck_assert_double_eq(calib_median(one, 1), 7);
}
END_TEST

START_TEST(test_single_repeat)
{
    struct json_object *runs = json_object_new_array();
    struct calib_measure m;
    char err[200] = "";

    json_object_array_add(runs, measured("completed", 1e9, 10.0, 11.0, 0.030,
                                         0.001, 0.004));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)), 0);
    ck_assert_uint_eq(m.n, 1);
    ck_assert_double_eq_tol(m.downtime_s, 0.030, 1e-12);
    ck_assert_double_eq_tol(m.total_s, 11.0, 1e-12);
    ck_assert_double_eq_tol(m.unpause_s, 0.004, 1e-12);
    ck_assert_double_eq(m.spread_goodput, 0);
    json_object_put(runs);
}
END_TEST

/* The idle guest the derivation is told about. */
static void idle_scenario(struct sim_scenario *sc, double rtt)
{
    sim_scenario_init(sc);
    sc->cfg.mem_bytes = 1ULL << 30;
    sc->cfg.vcpus = 2;
    sc->cfg.link.rtt_s = rtt;
}

/* Predict the idle run with the derived costs, as a profile would. */
static void predict_with(const struct sim_scenario *idle, enum sim_mode mode,
                         const struct calib_costs *c, struct sim_result *r)
{
    struct sim_config cfg = idle->cfg;

    cfg.mode = mode;
    cfg.link.goodput_Bps = c->goodput_Bps;
    cfg.costs.suspend_s = c->suspend_s;
    cfg.costs.unpause_s = c->unpause_s;
    cfg.costs.restore_s = mode == SIM_MODE_COLD ? c->restore_cold_s
                                                : c->restore_s;
    cfg.costs.setup_rtts = c->setup_rtts;
    cfg.costs.pause_backlog_bytes = (uint64_t)c->pause_backlog_bytes;
    cfg.policy.drain = c->drained;
    ck_assert_int_eq(sim_run(&cfg, r), 0);
}

/* Both pauses: right after the last live pass, the queue draining in the
 * downtime (_i = 0), and drained first (_i = 1: the queue is before the
 * pause, in drain_s, not in the downtime). */
START_TEST(test_derive_reproduces_idle_runs)
{
    struct sim_scenario idle;
    struct calib_measure live = {
        .n = 3, .goodput_Bps = 115e6, .total_s = 9.45, .downtime_s = 0.035,
        .queued_s = 0.004, .suspend_s = 0.0002, .unpause_s = 0.0008,
        .drained = _i == 1,
    };
    struct calib_measure cold = live;
    struct calib_costs c;
    struct sim_result r;
    char err[200] = "";

    cold.downtime_s = 9.40;
    cold.total_s = 9.41;
    idle_scenario(&idle, 0.5e-3);
    sim_result_init(&r);
    ck_assert_int_eq(calib_derive(&idle, &live, &cold, &c, err,
                                  sizeof(err)), 0);
    ck_assert_double_eq(c.goodput_Bps, 115e6);
    ck_assert_double_eq(c.suspend_s, 0.0002);
    /* The GO's and the report's trips (one RTT) are not the unpause. */
    ck_assert_double_eq_tol(c.unpause_s, 0.0008 - 0.5e-3, 1e-12);
    ck_assert_double_gt(c.restore_s, 0.021);
    ck_assert_double_eq_tol(c.pause_backlog_bytes, 0.004 * 115e6, 1e-6);
    ck_assert_double_gt(c.setup_rtts, 0);
    ck_assert(c.drained == live.drained);
    predict_with(&idle, SIM_MODE_LIVE, &c, &r);
    ck_assert_double_eq_tol(r.downtime_s, live.downtime_s, 1e-9);
    ck_assert_double_eq_tol(r.total_time_s, live.total_s, 1e-9);
    ck_assert_double_eq_tol(r.downtime_parts.final_copy_s,
                            (live.drained ? 0 : 0.004) +
                                r.passes[r.npasses - 1].duration_s, 1e-9);
    ck_assert_double_eq_tol(r.drain_s, live.drained ? 0.004 + 0.5e-3 : 0,
                            1e-9);
    predict_with(&idle, SIM_MODE_COLD, &c, &r);
    ck_assert_double_eq_tol(r.downtime_s, cold.downtime_s, 1e-9);
    sim_result_clear(&r);
    sim_scenario_free(&idle);
}
END_TEST

START_TEST(test_derive_clamps_and_no_cold)
{
    struct sim_scenario idle;
    /* Faster than the model can explain: fits would be negative. */
    struct calib_measure live = {
        .n = 1, .goodput_Bps = 100e6, .total_s = 1.0, .downtime_s = 0.0001,
        .suspend_s = 0.0001, .unpause_s = 0.0001,
    };
    struct calib_costs c;
    char err[200] = "";

    idle_scenario(&idle, 0.5e-3);
    ck_assert_int_eq(calib_derive(&idle, &live, NULL, &c, err, sizeof(err)),
                     0);
    ck_assert_double_eq(c.restore_s, 0);
    ck_assert_double_eq(c.setup_rtts, 0);
    ck_assert_double_lt(c.restore_cold_s, 0);
    live.n = 0;
    ck_assert_int_eq(calib_derive(&idle, &live, NULL, &c, err, sizeof(err)),
                     MIG_EINVAL);
    sim_scenario_free(&idle);
}
END_TEST

START_TEST(test_point_store_round_trips)
{
    struct sim_profile p;
    struct sim_link l;
    struct sim_profile_point *pt;
    struct calib_costs c = { .goodput_Bps = 117.25e6, .suspend_s = 0.00125,
                             .unpause_s = 0.0007, .restore_s = 0.1125,
                             .restore_cold_s = -1, .setup_rtts = 3.5 };
    struct calib_measure live = { .n = 3, .spread_goodput = 0.01 };

    sim_profile_init(&p);
    sim_link_defaults(&l);
    pt = sim_profile_add_point(&p, "p1", &l);
    ck_assert_ptr_nonnull(pt);
    ck_assert_int_eq(calib_point_store(pt, &c, &live), 0);
    ck_assert_double_eq(pt->link.goodput_Bps, 117.25e6);
    ck_assert_str_eq(sim_profile_kv_get(&pt->costs, "restore"), "112.5000ms");
    ck_assert_str_eq(sim_profile_kv_get(&pt->costs, "setup_rtts"), "3.500");
    ck_assert_ptr_null(sim_profile_kv_get(&pt->costs, "restore_cold"));
    ck_assert_str_eq(sim_profile_kv_get(&pt->info, "repeats"), "3");
    sim_profile_free(&p);
}
END_TEST

START_TEST(test_bad_runs)
{
    struct json_object *runs = json_object_new_array();
    struct json_object *bad;
    struct calib_measure m;
    char err[200] = "";

    /* Nothing completed. */
    json_object_array_add(runs, measured("aborted", 1e9, 1, 1, 0, 0, 0));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)),
                     MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "no repeat completed"));
    /* A completed run with a zero-length pass 1. */
    json_object_array_add(runs, measured("completed", 1e9, 0, 1, 0, 0, 0));
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)),
                     MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "repeat 2"));
    json_object_put(runs);
    /* A completed run without passes. */
    runs = json_object_new_array();
    bad = measured("completed", 1e9, 1, 1, 0, 0, 0);
    json_object_object_del(json_object_object_get(bad, "measured"),
                           "passes");
    json_object_array_add(runs, bad);
    ck_assert_int_eq(calib_measure_runs(runs, 0, &m, err, sizeof(err)),
                     MIG_ECORRUPT);
    json_object_put(runs);
    /* Not an array at all. */
    ck_assert_int_eq(calib_measure_runs(NULL, 0, &m, err, sizeof(err)),
                     MIG_ECORRUPT);
}
END_TEST

static Suite *calibrate_suite(void)
{
    Suite *s = suite_create("calibrate");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_test(core, test_medians_and_spreads);
    tcase_add_test(core, test_queued_at_pause);
    tcase_add_loop_test(core, test_derive_reproduces_idle_runs, 0, 2);
    tcase_add_test(core, test_point_store_round_trips);
    tcase_add_test(limits, test_single_repeat);
    tcase_add_test(limits, test_median);
    tcase_add_test(limits, test_derive_clamps_and_no_cold);
    tcase_add_test(corrupt, test_bad_runs);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(calibrate_suite());
}
