/* SPDX-License-Identifier: MIT */
/*
 * check_engine.c - unit tests of the simulator engines (sim/engine.c):
 * closed-form expectations for idle and uniform guests, the policies' stop
 * rules seen through whole runs, agreement of the exact and analytic
 * engines, determinism per seed, and configuration errors.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mig_err.h"
#include "units.h"
#include "workload.h"
#include "check_main.h"

static bool under_valgrind(void)
{
    return getenv("MIGLAB_UNDER_VALGRIND") != NULL;
}

static struct sim_workload *workload(const char *spec)
{
    struct sim_workload *wl = NULL;
    char err[256];

    ck_assert_msg(sim_workload_parse(spec, NULL, &wl, err, sizeof(err)) == 0,
                  "parse '%s': %s", spec, err);
    return wl;
}

/* A 1 Gbit/s LAN, 1 ms RTT, no loss, no window cap, nothing queued at
 * the pause (test_backlog_model covers the modelled standing queue), the
 * pause right after the last live pass (libxc's; test_drain covers the
 * drained pause). */
static void lan(struct sim_config *c, uint64_t mem)
{
    sim_config_defaults(c);
    c->policy.drain = false;
    c->costs.pause_backlog_bytes = 0;
    c->mem_bytes = mem;
    c->link.bandwidth_bps = 1e9;
    c->link.rtt_s = 0.001;
    c->link.window_bytes = 0;
}

static double rel(double a, double b)
{
    return fabs(a - b) / fabs(b);
}

/*
 * Idle guest: total = setup + memory / goodput + fixed downtime, and the
 * downtime is the fixed costs alone.  The expectation is computed here from
 * the documented inputs, not from the engine's intermediate values.
 */
START_TEST(test_idle_closed_form)
{
    static const uint64_t mems[] = { 256ULL << 20, 4ULL << 30, 64ULL << 30 };
    struct sim_config c;
    struct sim_result r;
    double goodput, wire, fixed, expect_total;

    lan(&c, mems[_i]);
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    goodput = 1e9 / 8 * 1448.0 / 1514.0;
    /* 4096-byte pages + 8-byte pfn words + 16 bytes per 1024-page batch. */
    wire = (double)c.mem_bytes * (1.0 + 8.0 / 4096 + 16.0 / (4096.0 * 1024));
    fixed = 0.005 + (16384.0 + 65536.0) / goodput + 0.0005 + 0.020 +
            0.001 + 0.002;
    expect_total = 2 * 0.001 + 8192.0 / goodput + wire / goodput + fixed;
    ck_assert_msg(rel(r.downtime_s, fixed) < 0.01, "downtime %g vs %g",
                  r.downtime_s, fixed);
    ck_assert_msg(rel(r.total_time_s, expect_total) < 0.01,
                  "total %g vs %g", r.total_time_s, expect_total);
    ck_assert_int_eq(r.live_passes, 1);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_DIRTY_THRESHOLD);
    ck_assert(r.converged);
    ck_assert_uint_eq(r.passes[r.npasses - 1].pages, 0);
    sim_result_clear(&r);
}
END_TEST

/*
 * Uniform dirtying, analytic engine: pass volumes follow
 * V_i = min(W, D * T_{i-1}) with T the previous pass's transfer time, in
 * the linear regime (each pass dirties at most a few % of memory) and in
 * the saturated one (W = all memory).
 */
START_TEST(test_uniform_recurrence)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("uniform:rate=4MB/s");
    double rate_pages = 4e6 / 4096, goodput = 1e9 / 8 * 1448.0 / 1514.0;

    lan(&c, 16ULL << 30);
    c.workload = wl;
    c.policy.max_passes = 5;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_uint_ge(r.live_passes, 3);
    for (unsigned i = 1; i < r.live_passes; i++) {
        double t_prev = (double)sim_page_data_bytes(r.passes[i - 1].pages) /
                        goodput;
        double expect = fmin((double)r.mem_pages, rate_pages * t_prev);

        /* 2%, or one page where rounding to whole pages dominates. */
        ck_assert_msg(fabs((double)r.passes[i].pages - expect) <=
                          fmax(0.02 * expect, 1.0),
                      "pass %u: %llu pages, recurrence %g", i + 1,
                      (unsigned long long)r.passes[i].pages, expect);
    }
    sim_workload_free(wl);

    /* Saturated: the guest dirties far more than memory per pass. */
    wl = workload("uniform:rate=10GB/s");
    c.mem_bytes = 1ULL << 30;
    c.workload = wl;
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_uint_eq(r.live_passes, 5);
    for (unsigned i = 1; i < 5; i++)
        ck_assert_msg(rel((double)r.passes[i].pages,
                          (double)r.mem_pages) < 0.01,
                      "pass %u: %llu pages", i + 1,
                      (unsigned long long)r.passes[i].pages);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

/* Xen never runs more than 5 live passes and stops early below 50 pages. */
static const char *const xen_specs[] = {
    "idle", "uniform:rate=1MB/s", "uniform:rate=100MB/s",
    "uniform:rate=1GB/s", "hotcold:wss=64M,hot=0.95,rate=500MB/s",
    "zipf:s=1.2,rate=200MB/s", "seq:rate=300MB/s",
};

START_TEST(test_xen_stop_rule)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload(xen_specs[_i]);

    lan(&c, 1ULL << 30);
    c.workload = wl;
    sim_result_init(&r);
    for (int e = SIM_ENGINE_ANALYTIC; e <= SIM_ENGINE_EXACT; e++) {
        c.engine = (enum sim_engine_kind)e;
        ck_assert_int_eq(sim_run(&c, &r), 0);
        ck_assert_uint_le(r.live_passes, 5);
        ck_assert_int_eq(r.outcome, SIM_OUTCOME_COMPLETED);
        if (r.live_passes < 5) {
            /* Stopped early: the set before the last live pass was < 50. */
            ck_assert_int_eq(r.stop_reason, MIG_STOP_DIRTY_THRESHOLD);
            if (r.live_passes > 1)
                ck_assert_uint_lt(r.passes[r.live_passes - 1].pages, 50);
        } else {
            ck_assert(r.stop_reason == MIG_STOP_PASS_CAP ||
                      r.passes[4].pages < 50);
        }
        for (unsigned i = 0; i + 1 < r.live_passes; i++)
            if (i > 0)
                ck_assert_uint_ge(r.passes[i].pages, 50);
    }
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

/* QEMU: dirty rate above bandwidth and no auto-converge never finishes;
 * auto-converge throttles the guest until it does. */
START_TEST(test_qemu_convergence)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("uniform:rate=400MB/s");

    lan(&c, 1ULL << 30);
    c.workload = wl;
    mig_policy_defaults(&c.policy, MIG_POLICY_QEMU);
    c.time_limit_s = 120;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.outcome, SIM_OUTCOME_UNFINISHED);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_TIME_LIMIT);
    ck_assert(!r.converged);
    ck_assert_double_eq(r.downtime_s, 0);

    c.policy.auto_converge = true;
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.outcome, SIM_OUTCOME_COMPLETED);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_DOWNTIME_MET);
    ck_assert(r.passes[r.npasses - 1].throttle > 0);

    /* Below the bandwidth it converges on its own, within the limit. */
    sim_workload_free(wl);
    wl = workload("uniform:rate=20MB/s");
    c.workload = wl;
    c.policy.auto_converge = false;
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_DOWNTIME_MET);
    ck_assert(r.downtime_parts.final_copy_s <= 0.300 + 0.01);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

START_TEST(test_cold)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("uniform:rate=100MB/s");

    lan(&c, 1ULL << 30);
    c.workload = wl;
    c.mode = SIM_MODE_COLD;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_COLD);
    ck_assert_uint_eq(r.live_passes, 0);
    ck_assert_uint_eq(r.npasses, 1);
    ck_assert_uint_eq(r.pages_sent, r.mem_pages);
    ck_assert_msg(rel(r.downtime_s, r.total_time_s - r.setup_s) < 1e-9,
                  "cold downtime %g total %g", r.downtime_s, r.total_time_s);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

START_TEST(test_parts_add_up)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("hotcold:wss=128M,hot=0.9,rate=300MB/s");
    const struct sim_downtime_parts *d = &r.downtime_parts;
    uint64_t bytes = 0, pages = 0;

    lan(&c, 2ULL << 30);
    c.workload = wl;
    c.link.rtt_s = 0.02;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_double_eq_tol(d->suspend_s + d->final_copy_s +
                                d->propagation_s + d->loss_recovery_s +
                                d->restore_s + d->handshake_s +
                                d->unpause_s,
                            r.downtime_s, 1e-12);
    for (size_t i = 0; i < r.npasses; i++) {
        bytes += r.passes[i].bytes;
        pages += r.passes[i].pages;
    }
    ck_assert_uint_eq(bytes + c.costs.stream_header_bytes, r.bytes_sent);
    ck_assert_uint_eq(pages, r.pages_sent);
    ck_assert_double_eq_tol(d->handshake_s, 0.02, 1e-12);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

/* Unmeasured pause backlog (the default): the link's standing queue,
 * fill x queue by congestion control, so an idle guest's downtime grows by
 * exactly that at the transfer rate (docs/model.md). */
START_TEST(test_backlog_model)
{
    static const struct { enum sim_cc cc; double fill; } ccs[] = {
        { SIM_CC_CUBIC, 0.75 }, { SIM_CC_RENO, 0.5 }, { SIM_CC_BBR, 0.05 },
    };
    struct sim_config c;
    struct sim_result base, model;
    /* 1 Gbit/s, 1 ms RTT: 10 ms at the rate (1.25 MB) beats the BDP. */
    double queue = 1e9 / 8 * 0.010;

    lan(&c, 256ULL << 20);
    c.link.cc = ccs[_i].cc;
    sim_result_init(&base);
    sim_result_init(&model);
    ck_assert_int_eq(sim_run(&c, &base), 0);
    c.costs.pause_backlog_bytes = SIM_PAUSE_BACKLOG_MODEL;
    ck_assert_uint_eq(sim_config_pause_backlog(&c),
                      (uint64_t)llround(ccs[_i].fill * queue));
    ck_assert_int_eq(sim_run(&c, &model), 0);
    ck_assert_double_eq_tol(model.downtime_s - base.downtime_s,
                            round(ccs[_i].fill * queue) / base.transfer_Bps,
                            1e-9);
    /* A measured value replaces the model. */
    c.costs.pause_backlog_bytes = 12345;
    ck_assert_uint_eq(sim_config_pause_backlog(&c), 12345);
    sim_result_clear(&base);
    sim_result_clear(&model);
}
END_TEST

/* pause_backlog: the downtime grows by min(backlog, bytes of the live
 * passes) at the transfer rate, the pause starts that much earlier (total
 * time and passes unchanged); a cold migration has no live pass to
 * queue. */
START_TEST(test_pause_backlog)
{
    struct sim_config c;
    struct sim_result base, big, capped;
    struct sim_workload *wl = workload("hotcold:wss=64M,hot=0.9,rate=50MB/s");
    double last, rate;

    lan(&c, 1ULL << 30);
    c.workload = wl;
    sim_result_init(&base);
    sim_result_init(&big);
    sim_result_init(&capped);
    ck_assert_int_eq(sim_run(&c, &base), 0);
    ck_assert_uint_ge(base.npasses, 3);
    last = (double)(base.bytes_sent - c.costs.stream_header_bytes -
                    base.passes[base.npasses - 1].bytes);
    rate = base.transfer_Bps;
    c.costs.pause_backlog_bytes = 1u << 20;       /* below the live bytes */
    ck_assert_int_eq(sim_run(&c, &capped), 0);
    ck_assert_double_eq_tol(capped.downtime_s - base.downtime_s,
                            (double)(1u << 20) / rate, 1e-9);
    ck_assert_double_eq_tol(capped.total_time_s, base.total_time_s, 1e-9);
    ck_assert_uint_eq(capped.npasses, base.npasses);
    c.costs.pause_backlog_bytes = 1ULL << 40;     /* above it: all of it */
    ck_assert_int_eq(sim_run(&c, &big), 0);
    ck_assert_double_eq_tol(big.downtime_s - base.downtime_s, last / rate,
                            1e-9);
    c.mode = SIM_MODE_COLD;
    ck_assert_int_eq(sim_run(&c, &big), 0);
    c.costs.pause_backlog_bytes = 0;
    ck_assert_int_eq(sim_run(&c, &base), 0);
    ck_assert_double_eq(big.downtime_s, base.downtime_s);
    sim_result_clear(&base);
    sim_result_clear(&big);
    sim_result_clear(&capped);
    sim_workload_free(wl);
}
END_TEST

/*
 * policy.drain: the pause waits one RTT after the last live pass ended on
 * the model's timeline (its trip and its ACK's), the guest running; the
 * sender's wait also covers the queue it wrote ahead, so drain_s is
 * RTT + min(backlog, live bytes) / rate; nothing is queued in the downtime
 * and the final set is dirtied over the longer wait.
 */
START_TEST(test_drain)
{
    struct sim_config c;
    struct sim_result base, dr;
    struct sim_workload *wl = workload("hotcold:wss=64M,hot=0.9,rate=50MB/s");
    const struct sim_pass *last, *fin;
    double rtt = 0.02, rate;

    lan(&c, 1ULL << 30);
    c.workload = wl;
    c.link.rtt_s = rtt;
    c.costs.pause_backlog_bytes = 1u << 20;
    sim_result_init(&base);
    sim_result_init(&dr);
    ck_assert_int_eq(sim_run(&c, &base), 0);
    ck_assert(!base.drained);
    ck_assert_double_eq(base.drain_s, 0);
    c.policy.drain = true;
    ck_assert_int_eq(sim_run(&c, &dr), 0);
    rate = dr.transfer_Bps;
    ck_assert(dr.drained);
    ck_assert_uint_ge(dr.npasses, 3);
    ck_assert_double_eq_tol(dr.drain_s, rtt + (double)(1u << 20) / rate,
                            1e-9);
    last = &dr.passes[dr.npasses - 2];
    fin = &dr.passes[dr.npasses - 1];
    /* Pause = end of the last live pass + RTT; the final pass starts
     * after the suspension; total = pause + downtime. */
    ck_assert_double_eq_tol(fin->start_s - c.costs.suspend_s,
                            last->start_s + last->duration_s + rtt, 1e-9);
    ck_assert_double_eq_tol(dr.total_time_s, fin->start_s -
                            c.costs.suspend_s + dr.downtime_s, 1e-9);
    /* No queue in the downtime: the final copy is the final pass. */
    ck_assert_double_eq_tol(dr.downtime_parts.final_copy_s,
                            (double)fin->bytes / rate, 1e-9);
    ck_assert_double_eq_tol(base.downtime_parts.final_copy_s,
                            (double)(base.passes[base.npasses - 1].bytes +
                                     (1u << 20)) / rate, 1e-9);
    /* The guest ran longer before the pause: a larger final set. */
    ck_assert_uint_gt(fin->pages, base.passes[base.npasses - 1].pages);
    /* Cold: nothing to drain. */
    c.mode = SIM_MODE_COLD;
    ck_assert_int_eq(sim_run(&c, &dr), 0);
    ck_assert(!dr.drained);
    ck_assert_double_eq(dr.drain_s, 0);
    sim_result_clear(&base);
    sim_result_clear(&dr);
    sim_workload_free(wl);
}
END_TEST

/* A lossy link: the chance that a segment of the final burst is lost is
 * 1 - (1 - p)^segments; one RTT of recovery counts when it is >= 1/2. */
START_TEST(test_final_burst_loss)
{
    static const double losses[] = { 0, 1e-5, 1e-3, 1e-2 };
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("uniform:rate=40MB/s");
    const struct sim_downtime_parts *d = &r.downtime_parts;
    double segs, p;

    lan(&c, 512ULL << 20);
    c.workload = wl;
    c.link.rtt_s = 0.01;
    c.link.cc = SIM_CC_BBR;
    c.link.loss = losses[_i];
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    segs = ceil((double)r.passes[r.npasses - 1].bytes / r.link.mss);
    p = 1 - pow(1 - losses[_i], segs);
    ck_assert_double_eq_tol(r.final_loss_p, p, 1e-12);
    ck_assert_double_eq(d->loss_recovery_s, p >= 0.5 ? 0.01 : 0);
    ck_assert_double_eq_tol(d->suspend_s + d->final_copy_s +
                                d->propagation_s + d->loss_recovery_s +
                                d->restore_s + d->handshake_s +
                                d->unpause_s, r.downtime_s, 1e-12);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

/*
 * Exact and analytic engines agree within 3% on the mean total time and
 * downtime over 20 seeds, for a matrix of workload models.
 */
static const char *const agree_specs[] = {
    "uniform:rate=30MB/s",
    "hotcold:wss=32M,hot=0.9,rate=60MB/s",
    "zipf:s=1.1,rate=40MB/s",
    "seq:rate=20MB/s",
    "phased:uniform:rate=40MB/s@1s;idle@1s",
};

START_TEST(test_engines_agree)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload(agree_specs[_i]);
    double a_total, a_down, e_total = 0, e_down = 0;
    unsigned seeds = 20;

    lan(&c, 256ULL << 20);
    c.workload = wl;
    c.costs.suspend_s = 0.002;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    a_total = r.total_time_s;
    a_down = r.downtime_s;
    c.engine = SIM_ENGINE_EXACT;
    for (unsigned s = 1; s <= seeds; s++) {
        c.seed = s;
        ck_assert_int_eq(sim_run(&c, &r), 0);
        e_total += r.total_time_s / seeds;
        e_down += r.downtime_s / seeds;
    }
    ck_assert_msg(rel(e_total, a_total) < 0.03,
                  "%s: total exact %g analytic %g", agree_specs[_i], e_total,
                  a_total);
    ck_assert_msg(rel(e_down, a_down) < 0.03,
                  "%s: downtime exact %g analytic %g", agree_specs[_i],
                  e_down, a_down);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

START_TEST(test_deterministic_per_seed)
{
    struct sim_config c;
    struct sim_result a, b;
    struct sim_workload *wl = workload("zipf:s=0.9,rate=200MB/s");

    lan(&c, 512ULL << 20);
    c.workload = wl;
    c.engine = SIM_ENGINE_EXACT;
    c.seed = 42;
    sim_result_init(&a);
    sim_result_init(&b);
    ck_assert_int_eq(sim_run(&c, &a), 0);
    ck_assert_int_eq(sim_run(&c, &b), 0);
    ck_assert_uint_eq(a.npasses, b.npasses);
    ck_assert_mem_eq(a.passes, b.passes, a.npasses * sizeof(*a.passes));
    ck_assert_double_eq(a.total_time_s, b.total_time_s);
    c.seed = 43;
    ck_assert_int_eq(sim_run(&c, &b), 0);
    ck_assert_msg(a.npasses != b.npasses ||
                      memcmp(a.passes, b.passes,
                             a.npasses * sizeof(*a.passes)) != 0,
                  "seeds 42 and 43 gave identical runs");
    sim_result_clear(&a);
    sim_result_clear(&b);
    sim_workload_free(wl);
}
END_TEST

START_TEST(test_window_and_policy_caps)
{
    struct sim_config c;
    struct sim_result r;

    lan(&c, 1ULL << 30);
    c.link.bandwidth_bps = 10e9;
    c.link.rtt_s = 0.05;
    c.link.window_bytes = 2ULL << 20;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.link.limit, SIM_LIMIT_WINDOW);
    ck_assert_double_eq_tol(r.transfer_Bps, (2 << 20) / 0.05, 1);
    mig_policy_defaults(&c.policy, MIG_POLICY_QEMU);
    c.link.window_bytes = 0;
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_double_eq(r.transfer_Bps, 128.0 * 1024 * 1024);
    sim_result_clear(&r);
}
END_TEST

START_TEST(test_miglab_abort_keeps_guest)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_workload *wl = workload("uniform:rate=2GB/s");

    lan(&c, 1ULL << 30);
    c.workload = wl;
    mig_policy_defaults(&c.policy, MIG_POLICY_MIGLAB);
    c.policy.time_budget_s = 20;
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_int_eq(r.outcome, SIM_OUTCOME_ABORTED);
    ck_assert_int_eq(r.stop_reason, MIG_STOP_TIME_BUDGET);
    ck_assert_double_eq(r.downtime_s, 0);
    for (size_t i = 0; i < r.npasses; i++)
        ck_assert(r.passes[i].live);
    sim_result_clear(&r);
    sim_workload_free(wl);
}
END_TEST

/* A sweep reuses the pass array: no allocation after the first run. */
START_TEST(test_result_reuse)
{
    struct sim_config c;
    struct sim_result r;
    struct sim_pass *first;

    lan(&c, 1ULL << 30);
    sim_result_init(&r);
    ck_assert_int_eq(sim_run(&c, &r), 0);
    first = r.passes;
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(sim_run(&c, &r), 0);
    ck_assert_ptr_eq(r.passes, first);
    sim_result_clear(&r);
    sim_result_clear(&r);
}
END_TEST

static const char *const bad_config_names[] = {
    "zero memory", "memory not page aligned", "no vCPU", "loss above 1",
    "RTT not a number", "MTU too small", "negative suspend cost",
    "zero time limit", "negative downtime limit", "unbounded rate",
};

static void spoil(struct sim_config *c, int i)
{
    switch (i) {
    case 0: c->mem_bytes = 0; break;
    case 1: c->mem_bytes = 4097; break;
    case 2: c->vcpus = 0; break;
    case 3: c->link.loss = 1.5; break;
    case 4: c->link.rtt_s = NAN; break;
    case 5: c->link.mtu = 100; break;
    case 6: c->costs.suspend_s = -1; break;
    case 7: c->time_limit_s = 0; break;
    case 8: c->policy.downtime_limit_s = -0.1; break;
    case 9: c->link.bandwidth_bps = 0; c->link.window_bytes = 0; break;
    }
}

START_TEST(test_bad_config)
{
    struct sim_config c;
    struct sim_result r;
    char err[200] = "";

    lan(&c, 1ULL << 30);
    spoil(&c, _i);
    sim_result_init(&r);
    if (_i != 9) {
        ck_assert_int_eq(sim_config_validate(&c, err, sizeof(err)),
                         MIG_EINVAL);
        ck_assert_msg(strlen(err) > 0, "%s: no message",
                      bad_config_names[_i]);
    }
    /* Case 9: valid, but nothing bounds the transfer rate. */
    ck_assert_int_eq(sim_run(&c, &r), MIG_EINVAL);
    sim_result_clear(&r);
}
END_TEST

START_TEST(test_workload_too_big)
{
    struct sim_config c;
    struct sim_workload *wl = workload("hotcold:wss=2G,hot=0.9,rate=1MB/s");
    char err[200] = "";

    lan(&c, 1ULL << 30);
    c.workload = wl;
    ck_assert_int_eq(sim_config_validate(&c, err, sizeof(err)), MIG_EINVAL);
    ck_assert_msg(strlen(err) > 0, "no message");
    sim_workload_free(wl);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, under_valgrind() ? 600 : 60);
    tcase_add_loop_test(core, test_idle_closed_form, 0, 3);
    tcase_add_test(core, test_uniform_recurrence);
    tcase_add_loop_test(core, test_xen_stop_rule, 0,
                        sizeof(xen_specs) / sizeof(xen_specs[0]));
    tcase_add_test(core, test_qemu_convergence);
    tcase_add_test(core, test_cold);
    tcase_add_test(core, test_parts_add_up);
    tcase_add_test(core, test_pause_backlog);
    tcase_add_test(core, test_drain);
    tcase_add_loop_test(core, test_final_burst_loss, 0, 4);
    tcase_add_loop_test(core, test_backlog_model, 0, 3);
    tcase_add_loop_test(core, test_engines_agree, 0,
                        sizeof(agree_specs) / sizeof(agree_specs[0]));
    tcase_add_test(core, test_deterministic_per_seed);
    tcase_add_test(core, test_window_and_policy_caps);
    tcase_add_test(core, test_miglab_abort_keeps_guest);
    tcase_add_test(limits, test_result_reuse);
    tcase_add_loop_test(corrupt, test_bad_config, 0,
                        sizeof(bad_config_names) / sizeof(bad_config_names[0]));
    tcase_add_test(corrupt, test_workload_too_big);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(engine_suite());
}
