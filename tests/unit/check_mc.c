/* SPDX-License-Identifier: MIT */
/*
 * check_mc.c - unit tests of distributions (sim/dist.c) and Monte Carlo
 * runs (sim/mc.c): a fixed scenario gives its single prediction in every
 * statistic, results do not depend on the thread count, draws are a pure
 * function of (seed, draw), nearest-rank percentiles, breach probabilities,
 * common random numbers, and bad specs rejected with file:line messages.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"
#include "engine.h"
#include "mc.h"
#include "mig_err.h"
#include "units.h"
#include "check_main.h"

static bool under_valgrind(void)
{
    return getenv("MIGLAB_UNDER_VALGRIND") != NULL;
}

static size_t ndraws(void)
{
    return under_valgrind() ? 200 : 5000;
}

static void set(struct sim_mc *mc, const char *section, const char *key,
                const char *value)
{
    char err[400] = "";

    ck_assert_msg(sim_mc_set(mc, section, key, value, err, sizeof(err)) == 0,
                  "[%s] %s = %s: %s", section, key, value, err);
}

/* A 1 GiB guest on a 1 Gbit/s LAN with workload spec. */
static void lan(struct sim_mc *mc, const char *workload)
{
    sim_mc_init(mc);
    set(mc, "guest", "memory", "1G");
    set(mc, "guest", "workload", workload);
    set(mc, "network", "bandwidth", "1Gbit");
    set(mc, "network", "rtt", "1ms");
}

/* ---- core --------------------------------------------------------------- */

static const char *const fixed_specs[] = {
    "idle", "uniform:rate=200MB/s", "hotcold:wss=128M,hot=0.9,rate=1GB/s",
    "zipf:s=1.1,rate=100MB/s", "seq:rate=50MB/s",
};

/* Without distributions, every statistic is the single prediction. */
START_TEST(test_fixed_equals_prediction)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r;
    struct sim_result one;
    char err[400];
    double dt;

    lan(&mc, fixed_specs[_i]);
    sim_mc_opts_defaults(&o);
    o.draws = under_valgrind() ? 50 : 1000;
    sim_mc_result_init(&r);
    sim_result_init(&one);
    ck_assert(!sim_mc_uncertain(&mc));
    ck_assert_int_eq(sim_run(&mc.sc.cfg, &one), 0);
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), 0);
    ck_assert_uint_eq(r.draws, o.draws);
    ck_assert_uint_eq(r.completed, o.draws);
    dt = one.downtime_s;
    ck_assert(r.downtime.p50 == dt && r.downtime.p90 == dt &&
              r.downtime.p99 == dt && r.downtime.min == dt &&
              r.downtime.max == dt);
    ck_assert(r.total_time.p50 == one.total_time_s &&
              r.total_time.p99 == one.total_time_s &&
              r.total_time.min == one.total_time_s &&
              r.total_time.max == one.total_time_s);
    ck_assert(r.bytes.p50 == (double)one.bytes_sent &&
              r.bytes.p99 == (double)one.bytes_sent);
    /* The mean is a sum divided by n: equal to rounding. */
    ck_assert(fabs(r.downtime.mean - dt) <= 1e-12 * dt);
    ck_assert(fabs(r.total_time.mean - one.total_time_s) <=
              1e-12 * one.total_time_s);
    sim_result_clear(&one);
    sim_mc_result_clear(&r);
    sim_mc_free(&mc);
}
END_TEST

/* A scenario with every kind of distribution. */
static void uncertain(struct sim_mc *mc)
{
    lan(mc, "hotcold:wss=64M,hot=0.9,rate=lognormal(80MB/s,0.6)");
    set(mc, "guest", "memory", "[1G, 2G, 4G]");
    set(mc, "network", "bandwidth", "uniform(300Mbit,3Gbit)");
    set(mc, "network", "rtt", "normal(1ms,0.8ms)");
    set(mc, "network", "loss", "choice(0, 1e-5, 1e-4)");
    set(mc, "expect", "downtime_max", "300ms");
    set(mc, "expect", "total_time_max", "30s");
    set(mc, "expect", "bytes_max", "3G");
}

static void assert_same(const struct sim_mc_result *a,
                        const struct sim_mc_result *b)
{
    ck_assert_uint_eq(a->draws, b->draws);
    ck_assert_uint_eq(a->completed, b->completed);
    ck_assert(!memcmp(a->downtime_s, b->downtime_s,
                      a->draws * sizeof(double)));
    ck_assert(!memcmp(a->total_time_s, b->total_time_s,
                      a->draws * sizeof(double)));
    ck_assert(!memcmp(a->bytes_sent, b->bytes_sent,
                      a->draws * sizeof(double)));
    ck_assert(!memcmp(&a->downtime, &b->downtime, sizeof(a->downtime)));
    ck_assert(!memcmp(&a->total_time, &b->total_time,
                      sizeof(a->total_time)));
    ck_assert(!memcmp(&a->bytes, &b->bytes, sizeof(a->bytes)));
    ck_assert(a->p_breach_downtime == b->p_breach_downtime);
    ck_assert(a->p_breach_total_time == b->p_breach_total_time);
    ck_assert(a->p_breach_bytes == b->p_breach_bytes);
}

/* The same seed gives identical results on 1, 2 and 3 threads. */
START_TEST(test_threads_identical)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r1, r2;
    char err[400];

    uncertain(&mc);
    ck_assert(sim_mc_uncertain(&mc));
    sim_mc_opts_defaults(&o);
    o.draws = ndraws();
    o.seed = 42;
    sim_mc_result_init(&r1);
    sim_mc_result_init(&r2);
    o.threads = 1;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r1, err, sizeof(err)), 0);
    for (unsigned t = 2; t <= 3; t++) {
        o.threads = t;
        ck_assert_int_eq(sim_mc_run(&mc, &o, &r2, err, sizeof(err)), 0);
        assert_same(&r1, &r2);
    }
    /* The draws really vary. */
    ck_assert(r1.downtime.min < r1.downtime.max);
    ck_assert(r1.bytes.min < r1.bytes.max);
    /* Another seed gives other draws. */
    o.seed = 43;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r2, err, sizeof(err)), 0);
    ck_assert(memcmp(r1.bytes_sent, r2.bytes_sent,
                     r1.draws * sizeof(double)) != 0);
    sim_mc_result_clear(&r1);
    sim_mc_result_clear(&r2);
    sim_mc_free(&mc);
}
END_TEST

/* Breach probabilities count exactly the draws beyond each bound, and the
 * percentiles are ranks of the same draws (re-simulated one by one). */
START_TEST(test_breach_and_ranks)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r;
    struct sim_result one;
    struct sim_config cfg;
    struct sim_workload wl;
    size_t n, over_dt = 0, over_tt = 0, over_by = 0;
    double *dt;
    char err[400];

    uncertain(&mc);
    sim_mc_opts_defaults(&o);
    o.draws = n = under_valgrind() ? 100 : 2000;
    o.seed = 7;
    sim_mc_result_init(&r);
    sim_result_init(&one);
    dt = calloc(n, sizeof(*dt));
    ck_assert_ptr_nonnull(dt);
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(sim_mc_draw_config(&mc, &o, i, &cfg, &wl), 0);
        ck_assert_int_eq(sim_run(&cfg, &one), 0);
        dt[i] = one.outcome == SIM_OUTCOME_COMPLETED ? one.downtime_s
                                                     : INFINITY;
        over_dt += dt[i] > 0.3;
        over_tt += one.outcome != SIM_OUTCOME_COMPLETED ||
                   one.total_time_s > 30;
        over_by += one.bytes_sent > 3ULL << 30;
    }
    ck_assert(r.p_breach_downtime == (double)over_dt / (double)n);
    ck_assert(r.p_breach_total_time == (double)over_tt / (double)n);
    ck_assert(r.p_breach_bytes == (double)over_by / (double)n);
    ck_assert(over_dt > 0 && over_dt < n);
    /* p90: exactly ceil(0.9 n) draws at or below it. */
    {
        size_t at_or_below = 0, below = 0;

        for (size_t i = 0; i < n; i++) {
            at_or_below += dt[i] <= r.downtime.p90;
            below += dt[i] < r.downtime.p90;
        }
        ck_assert_uint_ge(at_or_below, (size_t)ceil(0.9 * (double)n));
        ck_assert_uint_lt(below, (size_t)ceil(0.9 * (double)n));
    }
    free(dt);
    sim_result_clear(&one);
    sim_mc_result_clear(&r);
    sim_mc_free(&mc);
}
END_TEST

/* Fixing one parameter leaves the draws of the others unchanged. */
START_TEST(test_common_random_numbers)
{
    struct sim_mc mc;
    struct sim_mc_opts a, b;
    struct sim_config ca, cb;
    struct sim_workload wa, wb;

    uncertain(&mc);
    sim_mc_opts_defaults(&a);
    b = a;
    b.fixed[SIM_MC_BANDWIDTH] = true;
    b.value[SIM_MC_BANDWIDTH] = 5e9;
    for (size_t i = 0; i < 100; i++) {
        ck_assert_int_eq(sim_mc_draw_config(&mc, &a, i, &ca, &wa), 0);
        ck_assert_int_eq(sim_mc_draw_config(&mc, &b, i, &cb, &wb), 0);
        ck_assert(cb.link.bandwidth_bps == 5e9);
        ck_assert(ca.link.bandwidth_bps >= 3e8 &&
                  ca.link.bandwidth_bps <= 3e9);
        ck_assert_uint_eq(ca.mem_bytes, cb.mem_bytes);
        ck_assert(ca.link.rtt_s == cb.link.rtt_s);
        ck_assert(ca.link.loss == cb.link.loss);
        ck_assert(ca.workload->rate == cb.workload->rate);
        ck_assert_uint_eq(ca.seed, cb.seed);
        ck_assert(ca.mem_bytes == 1ULL << 30 || ca.mem_bytes == 2ULL << 30 ||
                  ca.mem_bytes == 4ULL << 30);
        ck_assert(ca.link.rtt_s >= 0);
        ck_assert(ca.link.loss == 0 || ca.link.loss == 1e-5 ||
                  ca.link.loss == 1e-4);
        ck_assert(ca.workload->kind == SIM_WL_HOTCOLD &&
                  ca.workload->wss_bytes == 64ULL << 20);
    }
    sim_mc_free(&mc);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Each distribution's draws have its documented shape. */
START_TEST(test_dist_shapes)
{
    enum { N = 20001 };
    static double v[N];
    struct sim_dist d;
    struct sim_rng rng;
    char err[200];

    sim_rng_seed(&rng, 3);
    ck_assert_int_eq(sim_dist_parse("uniform(100MB/s, 300MB/s)",
                                    SIM_UNIT_BYTERATE, &d, err,
                                    sizeof(err)), 0);
    for (int i = 0; i < N; i++) {
        v[i] = sim_dist_draw(&d, &rng);
        ck_assert(v[i] >= 1e8 && v[i] <= 3e8);
    }
    qsort(v, N, sizeof(v[0]), cmp_double);
    ck_assert(fabs(v[N / 2] - 2e8) < 0.03 * 2e8);

    /* lognormal(MEDIAN, SIGMA): median MEDIAN, log sd SIGMA. */
    ck_assert_int_eq(sim_dist_parse("lognormal(200MB/s,0.5)",
                                    SIM_UNIT_BYTERATE, &d, err,
                                    sizeof(err)), 0);
    {
        double s = 0, s2 = 0;

        for (int i = 0; i < N; i++) {
            v[i] = sim_dist_draw(&d, &rng);
            s += log(v[i] / 2e8);
            s2 += log(v[i] / 2e8) * log(v[i] / 2e8);
        }
        ck_assert(fabs(s / N) < 0.02);
        ck_assert(fabs(sqrt(s2 / N) - 0.5) < 0.02);
    }
    qsort(v, N, sizeof(v[0]), cmp_double);
    ck_assert(fabs(v[N / 2] / 2e8 - 1) < 0.03);

    /* normal: truncated to the valid range (bandwidth > 0). */
    ck_assert_int_eq(sim_dist_parse("normal(100Mbit, 100Mbit)",
                                    SIM_UNIT_BITRATE, &d, err,
                                    sizeof(err)), 0);
    for (int i = 0; i < N; i++)
        ck_assert(sim_dist_draw(&d, &rng) > 0);
    ck_assert_int_eq(sim_dist_parse("normal(0.5, 0.4)", SIM_UNIT_FRACTION,
                                    &d, err, sizeof(err)), 0);
    for (int i = 0; i < N; i++) {
        double p = sim_dist_draw(&d, &rng);

        ck_assert(p >= 0 && p < 1);
    }

    /* choice and lists: only the values, each about equally often. */
    ck_assert_int_eq(sim_dist_parse("[1Gbit, 10Gbit]", SIM_UNIT_BITRATE, &d,
                                    err, sizeof(err)), 0);
    ck_assert_int_eq(d.kind, SIM_DIST_CHOICE);
    {
        int ten = 0;

        for (int i = 0; i < N; i++) {
            double x = sim_dist_draw(&d, &rng);

            ck_assert(x == 1e9 || x == 1e10);
            ten += x == 1e10;
        }
        ck_assert(abs(ten - N / 2) < N / 20);
    }
    /* A plain value is a fixed distribution. */
    ck_assert_int_eq(sim_dist_parse(" 4G ", SIM_UNIT_SIZE, &d, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(d.kind, SIM_DIST_FIXED);
    ck_assert(sim_dist_draw(&d, &rng) == 4294967296.0);
    ck_assert(!sim_dist_is_spec("4G"));
    ck_assert(sim_dist_is_spec("uniform (1G,2G)"));
    ck_assert(sim_dist_is_spec("[1G]"));
}
END_TEST

/* Nearest rank: x[ceil(p n / 100) - 1]. */
static const struct {
    size_t n;
    double p;
    double want;        /* values are 1..n */
} ranks[] = {
    { 10, 50, 5 },  { 10, 90, 9 },   { 10, 99, 10 },  { 10, 0, 1 },
    { 10, 100, 10 }, { 10, 10, 1 },  { 10, 11, 2 },   { 100, 99, 99 },
    { 100, 50, 50 }, { 1, 99, 1 },   { 1000, 99, 990 }, { 3, 50, 2 },
};

START_TEST(test_nearest_rank)
{
    double v[1000];

    for (size_t i = 0; i < ranks[_i].n; i++)
        v[i] = (double)(i + 1);
    ck_assert_msg(sim_mc_percentile(v, ranks[_i].n, ranks[_i].p) ==
                      ranks[_i].want,
                  "case %d: p%g of 1..%zu = %g, want %g", _i, ranks[_i].p,
                  ranks[_i].n,
                  sim_mc_percentile(v, ranks[_i].n, ranks[_i].p),
                  ranks[_i].want);
}
END_TEST

/* A scenario file with distributions reads like any scenario. */
START_TEST(test_load_file)
{
    char path[] = "/tmp/check_mc_XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    struct sim_mc mc;
    char err[400] = "";

    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fputs("[guest]\nmemory = uniform(1G, 2G)\n"
          "workload = uniform:rate=normal(200MB/s, 30MB/s)\n"
          "[network]\nbandwidth = choice(1Gbit, 10Gbit)\nrtt = 0.5ms\n"
          "loss = [0, 1e-4]\n[migration]\npolicy = qemu\n", f);
    fclose(f);
    sim_mc_init(&mc);
    ck_assert_msg(sim_mc_load(&mc, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert(mc.uncertain[SIM_MC_MEMORY] && mc.uncertain[SIM_MC_RATE] &&
              mc.uncertain[SIM_MC_BANDWIDTH] && mc.uncertain[SIM_MC_LOSS] &&
              !mc.uncertain[SIM_MC_RTT]);
    ck_assert_int_eq(mc.dist[SIM_MC_RATE].kind, SIM_DIST_NORMAL);
    ck_assert(mc.dist[SIM_MC_RATE].a == 2e8 && mc.dist[SIM_MC_RATE].b == 3e7);
    /* Nominal values: the centres. */
    ck_assert_uint_eq(mc.sc.cfg.mem_bytes, 3ULL << 29);
    ck_assert(mc.sc.workload->rate == 2e8);
    ck_assert(mc.sc.cfg.link.bandwidth_bps == 1e9);
    ck_assert_int_eq(mc.sc.cfg.policy.kind, MIG_POLICY_QEMU);
    ck_assert_int_eq(sim_scenario_validate(&mc.sc, err, sizeof(err)), 0);
    /* A plain flag replaces a distribution. */
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--bandwidth", "10Gbit", err,
                                     sizeof(err)), 0);
    ck_assert(!mc.uncertain[SIM_MC_BANDWIDTH]);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--workload", "idle", err,
                                     sizeof(err)), 0);
    ck_assert(!mc.uncertain[SIM_MC_RATE]);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--rtt", "uniform(1ms,2ms)", err,
                                     sizeof(err)), 0);
    ck_assert(mc.uncertain[SIM_MC_RTT]);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--nosuch", "1", err,
                                     sizeof(err)), MIG_ENOTSUP);
    sim_mc_free(&mc);
    unlink(path);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

START_TEST(test_option_limits)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r;
    char err[400];

    uncertain(&mc);
    sim_mc_result_init(&r);
    sim_mc_opts_defaults(&o);
    o.draws = 0;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), MIG_EINVAL);
    o.draws = 5;
    o.threads = 0;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), MIG_EINVAL);
    o.threads = SIM_MC_THREADS_MAX + 1;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), MIG_EINVAL);
    /* More threads than draws; one draw. */
    o.threads = 8;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), 0);
    ck_assert_uint_eq(r.draws, 5);
    o.draws = 1;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), 0);
    ck_assert(r.downtime.p50 == r.downtime.p99);
    sim_mc_result_clear(&r);
    sim_mc_free(&mc);
}
END_TEST

/* A draw that cannot be simulated names itself; incomplete draws are
 * infinite downtime, not dropped. */
START_TEST(test_bad_and_incomplete_draws)
{
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r;
    char err[400] = "";

    lan(&mc, "hotcold:wss=1G,hot=0.9,rate=10MB/s");
    set(&mc, "guest", "memory", "[1G, 512M]");
    sim_mc_result_init(&r);
    sim_mc_opts_defaults(&o);
    o.draws = 50;
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), MIG_EINVAL);
    ck_assert_msg(strstr(err, "draw ") != NULL, "%s", err);
    ck_assert_uint_eq(r.draws, 0);
    sim_mc_free(&mc);

    /* miglab policy with a small time budget: some draws abort. */
    lan(&mc, "uniform:rate=uniform(1MB/s, 400MB/s)");
    set(&mc, "migration", "policy", "miglab");
    set(&mc, "migration", "time_budget", "15s");
    set(&mc, "migration", "abort_on_stall", "true");
    ck_assert_int_eq(sim_mc_run(&mc, &o, &r, err, sizeof(err)), 0);
    ck_assert_uint_lt(r.completed, r.draws);
    ck_assert_uint_gt(r.completed, 0);
    ck_assert(isinf(r.downtime.max) && isinf(r.downtime.mean));
    ck_assert(isfinite(r.downtime.min));
    sim_mc_result_clear(&r);
    sim_mc_free(&mc);
}
END_TEST

/* ---- corrupt ------------------------------------------------------------ */

static const struct {
    const char *spec;
    enum sim_dist_unit unit;
    const char *want;       /* in the message */
} bad_specs[] = {
    { "uniform(1G)", SIM_UNIT_SIZE, "needs 2 values" },
    { "uniform(2G,1G)", SIM_UNIT_SIZE, "above high" },
    { "uniform(1G,2G", SIM_UNIT_SIZE, "missing ')'" },
    { "uniform(1X,2G)", SIM_UNIT_SIZE, "bad value '1X'" },
    { "uniform(1G,2G,3G)", SIM_UNIT_SIZE, "needs 2 values" },
    { "normal(1G)", SIM_UNIT_SIZE, "needs 2 values" },
    { "normal(200MB/s,fast)", SIM_UNIT_BYTERATE, "bad value 'fast'" },
    { "lognormal(200MB/s,-1)", SIM_UNIT_BYTERATE, "bad sigma" },
    { "lognormal(200MB/s,30MB/s)", SIM_UNIT_BYTERATE, "bad sigma" },
    { "lognormal(0,0.5)", SIM_UNIT_BYTERATE, "median" },
    { "choice()", SIM_UNIT_BITRATE, "empty list" },
    { "[]", SIM_UNIT_BITRATE, "empty list" },
    { "[1Gbit,,2Gbit]", SIM_UNIT_BITRATE, "empty value 2" },
    { "[1Gbit, 2Gbit", SIM_UNIT_BITRATE, "missing ']'" },
    { "bogus(1,2)", SIM_UNIT_TIME, "unknown distribution" },
    { "uniform(0.5,2)", SIM_UNIT_FRACTION, "bad value '2'" },
    { "uniform(0.5,1)", SIM_UNIT_FRACTION, "out of range" },
    { "uniform(0,1Gbit)", SIM_UNIT_BITRATE, "out of range" },
    { "normal(-1ms,1ms)", SIM_UNIT_TIME, "bad value" },
    { "fast", SIM_UNIT_TIME, "bad value 'fast'" },
};

START_TEST(test_bad_specs)
{
    struct sim_dist d;
    char err[200] = "";

    ck_assert_int_eq(sim_dist_parse(bad_specs[_i].spec, bad_specs[_i].unit,
                                    &d, err, sizeof(err)), MIG_EINVAL);
    ck_assert_msg(strstr(err, bad_specs[_i].want) != NULL,
                  "case %d '%s': message '%s' lacks '%s'", _i,
                  bad_specs[_i].spec, err, bad_specs[_i].want);
    ck_assert_int_eq(d.kind, SIM_DIST_FIXED);
    ck_assert(d.a == 0 && d.n == 0);
}
END_TEST

static const struct {
    const char *text;
    int line;
    const char *want;
} bad_files[] = {
    { "[guest]\nmemory = 1G\n[network]\nbandwidth = uniform(1Gbit)\n", 4,
      "[network] bandwidth: uniform needs 2 values" },
    { "[guest]\nworkload = phased:uniform:rate=uniform(1MB/s,2MB/s)@5s\n", 2,
      "[guest] workload: a distribution is only accepted" },
    { "[guest]\nworkload = uniform:rate=normal(1MB/s)\n", 2,
      "[guest] workload: rate=: normal needs 2 values" },
    { "[guest]\n\nmemory = [1G, 2X]\n", 3, "[guest] memory: list: bad value" },
    { "[network]\nloss = choice(0, 1.5)\n", 2, "[network] loss: choice" },
    { "[network]\nrtt = lognormal(1ms, 0.5)\njitter = normal(1ms,1ms)\n", 3,
      "[network] jitter: bad time" },
    { "[guest]\nmemory = 1G\nmemroy = 2G\n", 3, "unknown key 'memroy'" },
};

START_TEST(test_bad_files)
{
    char path[] = "/tmp/check_mc_XXXXXX", want[64], err[400] = "";
    int fd = mkstemp(path);
    FILE *f;
    struct sim_mc mc;

    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    fputs(bad_files[_i].text, f);
    fclose(f);
    sim_mc_init(&mc);
    ck_assert_int_eq(sim_mc_load(&mc, path, err, sizeof(err)), MIG_EINVAL);
    snprintf(want, sizeof(want), "%s:%d: ", path, bad_files[_i].line);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
                  "case %d: '%s' does not start with '%s'", _i, err, want);
    ck_assert_msg(strstr(err, bad_files[_i].want) != NULL,
                  "case %d: '%s' lacks '%s'", _i, err, bad_files[_i].want);
    sim_mc_free(&mc);
    unlink(path);
}
END_TEST

START_TEST(test_bad_flags)
{
    struct sim_mc mc;
    char err[400] = "";

    sim_mc_init(&mc);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--bandwidth", "uniform(2Gbit,1Gbit)",
                                     err, sizeof(err)), MIG_EINVAL);
    ck_assert_msg(!strncmp(err, "--bandwidth: uniform: low", 25), "%s", err);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--mem", "4X", err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_msg(!strncmp(err, "--mem: bad size", 15), "%s", err);
    ck_assert_int_eq(sim_mc_set_flag(&mc, "--workload",
                                     "trace:x.txt,rate=[1MB/s]", err,
                                     sizeof(err)), MIG_EINVAL);
    ck_assert_msg(!strncmp(err, "--workload: a distribution", 26), "%s", err);
    ck_assert(!sim_mc_uncertain(&mc));
    sim_mc_free(&mc);
}
END_TEST

static Suite *mc_suite(void)
{
    Suite *s = suite_create("mc");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, under_valgrind() ? 600 : 60);
    tcase_set_timeout(limits, under_valgrind() ? 600 : 60);
    tcase_add_loop_test(core, test_fixed_equals_prediction, 0,
                        sizeof(fixed_specs) / sizeof(fixed_specs[0]));
    tcase_add_test(core, test_threads_identical);
    tcase_add_test(core, test_breach_and_ranks);
    tcase_add_test(core, test_common_random_numbers);
    tcase_add_test(core, test_dist_shapes);
    tcase_add_loop_test(core, test_nearest_rank, 0,
                        sizeof(ranks) / sizeof(ranks[0]));
    tcase_add_test(core, test_load_file);
    tcase_add_test(limits, test_option_limits);
    tcase_add_test(limits, test_bad_and_incomplete_draws);
    tcase_add_loop_test(corrupt, test_bad_specs, 0,
                        sizeof(bad_specs) / sizeof(bad_specs[0]));
    tcase_add_loop_test(corrupt, test_bad_files, 0,
                        sizeof(bad_files) / sizeof(bad_files[0]));
    tcase_add_test(corrupt, test_bad_flags);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(mc_suite());
}
