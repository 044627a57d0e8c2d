/* SPDX-License-Identifier: MIT */
/*
 * check_plan.c - unit tests of the inverse questions (sim/plan.c): each
 * answer, fed back to the simulator, meets its target and a value 5% worse
 * does not; the same with distributions (common random numbers); targets
 * out of reach give "not found" with a reason, not a number; bad queries.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mc.h"
#include "mig_err.h"
#include "plan.h"
#include "units.h"
#include "check_main.h"

static bool under_valgrind(void)
{
    return getenv("MIGLAB_UNDER_VALGRIND") != NULL;
}

static void set(struct sim_mc *mc, const char *section, const char *key,
                const char *value)
{
    char err[400] = "";

    ck_assert_msg(sim_mc_set(mc, section, key, value, err, sizeof(err)) == 0,
                  "[%s] %s = %s: %s", section, key, value, err);
}

static const struct {
    const char *memory, *workload, *rtt, *policy;
    double target_s;
} cases[] = {
    { "1G", "hotcold:wss=128M,hot=0.9,rate=50MB/s", "0.5ms", "xen", 0.1 },
    { "4G", "uniform:rate=100MB/s", "1ms", "xen", 0.3 },
    { "2G", "zipf:s=1.2,rate=80MB/s", "1ms", "xen", 0.2 },
    { "8G", "seq:rate=50MB/s", "0.2ms", "xen-legacy", 0.5 },
    { "1G", "idle", "0.2ms", "xen", 0.05 },
};

static void scenario(struct sim_mc *mc, int i)
{
    sim_mc_init(mc);
    set(mc, "guest", "memory", cases[i].memory);
    set(mc, "guest", "workload", cases[i].workload);
    set(mc, "network", "rtt", cases[i].rtt);
    set(mc, "network", "window", "0");
    set(mc, "migration", "policy", cases[i].policy);
}

/* Downtime of one prediction, +inf when it does not complete. */
static double downtime(const struct sim_mc *mc, double bw, double rate)
{
    struct sim_config cfg = mc->sc.cfg;
    struct sim_workload wl;
    struct sim_result r;
    double d;

    if (bw > 0)
        cfg.link.bandwidth_bps = bw;
    if (rate >= 0) {
        wl = *mc->sc.workload;
        wl.rate = rate;
        cfg.workload = &wl;
    }
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&cfg, &r), 0);
    d = r.outcome == SIM_OUTCOME_COMPLETED ? r.downtime_s : INFINITY;
    sim_result_clear(&r);
    return d;
}

START_TEST(test_min_bandwidth_feedback)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400];

    scenario(&mc, _i);
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MIN_BANDWIDTH);
    q.target_s = cases[_i].target_s;
    q.check_exact = !under_valgrind();
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert_msg(a.found && !a.at_bound, "case %d: %s", _i, a.why);
    ck_assert_msg(downtime(&mc, a.value, -1) <= q.target_s,
                  "case %d: %g bit/s gives %g s", _i, a.value,
                  downtime(&mc, a.value, -1));
    ck_assert_msg(downtime(&mc, 0.95 * a.value, -1) > q.target_s,
                  "case %d: 95%% of %g bit/s still meets %g s", _i, a.value,
                  q.target_s);
    ck_assert(a.metric <= q.target_s && a.other_metric > q.target_s);
    ck_assert(a.other < a.value && a.value / a.other <= 1 + q.rel_tol);
    if (q.check_exact)
        ck_assert(a.exact_checked && a.exact_metric > 0);
    sim_mc_free(&mc);
}
END_TEST

START_TEST(test_max_dirty_rate_feedback)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400];

    scenario(&mc, 1);
    set(&mc, "network", "bandwidth", "10Gbit");
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_DIRTY_RATE);
    q.target_s = 0.3;
    q.check_exact = false;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert_msg(a.found && !a.at_bound, "%s", a.why);
    ck_assert(downtime(&mc, 0, a.value) <= q.target_s);
    ck_assert(downtime(&mc, 0, 1.05 * a.value) > q.target_s);
    sim_mc_free(&mc);
}
END_TEST

START_TEST(test_max_memory_feedback)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    struct sim_config cfg;
    struct sim_result r;
    char err[400];

    scenario(&mc, 0);
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_MEMORY);
    q.target_s = 60;
    q.check_exact = false;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert_msg(a.found && !a.at_bound, "%s", a.why);
    ck_assert(fmod(a.value, SIM_PAGE_SIZE) == 0);
    sim_result_init(&r);
    cfg = mc.sc.cfg;
    cfg.mem_bytes = (uint64_t)a.value;
    ck_assert_int_eq(sim_run(&cfg, &r), 0);
    ck_assert(r.outcome == SIM_OUTCOME_COMPLETED && r.total_time_s <= 60);
    cfg.mem_bytes = (uint64_t)(a.value * 1.05 / SIM_PAGE_SIZE) *
                    SIM_PAGE_SIZE;
    ck_assert_int_eq(sim_run(&cfg, &r), 0);
    ck_assert(r.total_time_s > 60);
    sim_result_clear(&r);
    sim_mc_free(&mc);
}
END_TEST

/* With distributions: the p-th percentile over the same draws meets the
 * target at the answer and misses it 5% lower. */
START_TEST(test_min_bandwidth_mc)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400];
    double m;

    scenario(&mc, 0);
    set(&mc, "guest", "workload",
        "hotcold:wss=128M,hot=0.9,rate=lognormal(50MB/s,0.4)");
    set(&mc, "network", "rtt", "uniform(0.2ms,2ms)");
    sim_mc_opts_defaults(&o);
    o.draws = under_valgrind() ? 100 : 2000;
    o.seed = 11;
    sim_plan_query_defaults(&q, SIM_PLAN_MIN_BANDWIDTH);
    q.target_s = 0.3;
    q.percentile = 90;
    q.check_exact = !under_valgrind();
    q.exact_draws = 20;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert_msg(a.found && !a.at_bound, "%s", a.why);
    ck_assert_int_eq(sim_plan_metric(&mc, &o, q.kind, a.value, 90, &m, err,
                                     sizeof(err)), 0);
    ck_assert(m <= q.target_s && m == a.metric);
    ck_assert_int_eq(sim_plan_metric(&mc, &o, q.kind, 0.95 * a.value, 90, &m,
                                     err, sizeof(err)), 0);
    ck_assert(m > q.target_s);
    /* The same again with another thread count: the same answer. */
    o.threads = 1;
    {
        struct sim_plan_answer b;

        q.check_exact = false;
        ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &b, err, sizeof(err)),
                         0);
        ck_assert(b.value == a.value && b.metric == a.metric);
    }
    sim_mc_free(&mc);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

/* A target below the fixed costs: no answer, and a reason. */
START_TEST(test_out_of_reach)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400];

    scenario(&mc, 1);
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MIN_BANDWIDTH);
    q.target_s = 0.001;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(!a.found && !a.exact_checked);
    ck_assert_msg(strstr(a.why, "no bandwidth in") != NULL, "%s", a.why);
    /* The window caps goodput: more bandwidth cannot help. */
    set(&mc, "network", "window", "64K");
    set(&mc, "network", "rtt", "50ms");
    q.target_s = 0.3;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(!a.found);
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_DIRTY_RATE);
    q.target_s = 0.001;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(!a.found && strstr(a.why, "dirty rate") != NULL);
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_MEMORY);
    q.target_s = 0.001;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(!a.found && strstr(a.why, "memory") != NULL);
    sim_mc_free(&mc);
}
END_TEST

/* A target met across the whole bracket: the bracket's end, flagged. */
START_TEST(test_met_everywhere)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400];

    scenario(&mc, 4);
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MIN_BANDWIDTH);
    q.target_s = 10;
    q.lo = 1e8;
    q.check_exact = false;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(a.found && a.at_bound && a.value == 1e8);
    /* Idle guest planned for its dirty rate: uniform, up to the bracket. */
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_DIRTY_RATE);
    q.target_s = 1e6;
    q.hi = 1e6;
    q.check_exact = false;
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)), 0);
    ck_assert(a.found && a.at_bound && a.value == 1e6);
    sim_mc_free(&mc);
}
END_TEST

/* ---- corrupt ------------------------------------------------------------ */

static const char *const bad_query_names[] = {
    "zero target", "negative target", "percentile 101", "tolerance 0",
    "lo above hi", "phased workload", "infinite target",
};

START_TEST(test_bad_query)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400] = "";

    scenario(&mc, 1);
    sim_mc_opts_defaults(&o);
    sim_plan_query_defaults(&q, SIM_PLAN_MAX_DIRTY_RATE);
    switch (_i) {
    case 0: q.target_s = 0; break;
    case 1: q.target_s = -1; break;
    case 2: q.percentile = 101; break;
    case 3: q.rel_tol = 0; break;
    case 4: q.lo = 2e9; q.hi = 1e9; break;
    case 5:
        set(&mc, "guest", "workload",
            "phased:uniform:rate=1MB/s@1s;idle@1s");
        break;
    case 6: q.target_s = INFINITY; break;
    }
    ck_assert_int_eq(sim_plan_solve(&mc, &o, &q, &a, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_msg(strlen(err) > 0, "%s: no message", bad_query_names[_i]);
    ck_assert(!a.found);
    sim_mc_free(&mc);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, under_valgrind() ? 900 : 60);
    tcase_set_timeout(limits, under_valgrind() ? 600 : 60);
    tcase_add_loop_test(core, test_min_bandwidth_feedback, 0,
                        sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(core, test_max_dirty_rate_feedback);
    tcase_add_test(core, test_max_memory_feedback);
    tcase_add_test(core, test_min_bandwidth_mc);
    tcase_add_test(limits, test_out_of_reach);
    tcase_add_test(limits, test_met_everywhere);
    tcase_add_loop_test(corrupt, test_bad_query, 0,
                        sizeof(bad_query_names) / sizeof(bad_query_names[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(plan_suite());
}
