/* SPDX-License-Identifier: MIT */
/*
 * mc.h - Monte Carlo over a scenario whose parameters are distributions.
 *
 * A Monte Carlo scenario is an ordinary scenario (sim/scenario.h) in which
 * five values may be distributions (sim/dist.h) instead of plain values:
 *   [guest]   memory          SIZE   (draws rounded to whole 4 KiB pages)
 *   [network] bandwidth       RATE   (bits/s)
 *   [network] rtt             TIME
 *   [network] loss            FRACTION
 *   [guest]   workload        the rate= of uniform, hotcold, zipf and seq,
 *                             e.g. "uniform:rate=normal(200MB/s,30MB/s)"
 * Everything else is read by sim_scenario_set() unchanged; the scenario
 * keeps each uncertain parameter at its distribution's centre (dist.h), so
 * it validates and prints like any scenario.
 *
 * Draw i (0-based) is a pure function of (seed, i): every uncertain
 * parameter p has its own random stream seeded from (seed, i, p), and the
 * draw's engine seed is derived from (seed, i) too.  So results do not
 * depend on the number of threads, and two runs that fix one parameter
 * (sim_mc_opts.fixed) draw exactly the same values for the others: the
 * common random numbers the planner's bisection relies on.
 *
 * Statistics: a draw that does not complete (aborted, unfinished) has
 * downtime and total time +infinity (the guest never ran at the
 * destination), so it counts against every time bound and pushes the upper
 * percentiles to infinity rather than being dropped; its bytes are the
 * bytes it sent.
 * Percentiles use the nearest-rank method everywhere: the p-th percentile
 * of n sorted values x[0..n-1] is x[ceil(p/100 * n) - 1] (x[0] for p = 0).
 */
#ifndef SIM_MC_H
#define SIM_MC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dist.h"
#include "engine.h"
#include "scenario.h"

#define SIM_MC_DRAWS_MAX 20000000u
#define SIM_MC_THREADS_MAX 256u

enum sim_mc_param {
    SIM_MC_MEMORY,
    SIM_MC_BANDWIDTH,
    SIM_MC_RTT,
    SIM_MC_LOSS,
    SIM_MC_RATE,            /* the workload's write rate, bytes/s */
    SIM_MC_NPARAMS,
};

struct sim_mc {
    struct sim_scenario sc;                 /* owned; nominal values */
    struct sim_dist dist[SIM_MC_NPARAMS];   /* kind FIXED unless uncertain */
    bool uncertain[SIM_MC_NPARAMS];
};

struct sim_mc_opts {
    size_t draws;                   /* 1..SIM_MC_DRAWS_MAX (1000) */
    uint64_t seed;                  /* (1) */
    unsigned threads;               /* 1..SIM_MC_THREADS_MAX (2) */
    enum sim_engine_kind engine;    /* (analytic) */
    bool fixed[SIM_MC_NPARAMS];     /* override: parameter p takes value[p] */
    double value[SIM_MC_NPARAMS];   /* in every draw (bytes, bits/s, s, ...) */
};

/* mean/min/max and nearest-rank percentiles of one output. */
struct sim_mc_stats {
    double mean, min, max;
    double p50, p90, p99;
};

struct sim_mc_result {
    size_t draws;
    size_t completed;               /* draws with outcome completed */
    struct sim_mc_stats downtime;   /* seconds; +inf for incomplete draws */
    struct sim_mc_stats total_time; /* seconds; +inf for incomplete draws */
    struct sim_mc_stats bytes;      /* bytes sent */
    /* Probability of breaching each [expect] bound; -1 when not set. */
    double p_breach_downtime;
    double p_breach_total_time;
    double p_breach_bytes;
    /* Sorted samples, `draws` each, owned (sim_mc_result_clear frees). */
    double *downtime_s;
    double *total_time_s;
    double *bytes_sent;
};

/* An empty Monte Carlo scenario (defaults, nothing uncertain). */
void sim_mc_init(struct sim_mc *mc);
void sim_mc_free(struct sim_mc *mc);

/*
 * Apply one setting (section, key, value), as sim_scenario_set() does,
 * accepting a distribution for the five keys above.  Returns 0, MIG_EINVAL
 * with one line in err ("[network] bandwidth: uniform: low ... above
 * high ..."), or MIG_ENOMEM.
 */
int sim_mc_set(struct sim_mc *mc, const char *section, const char *key,
               const char *value, char *err, size_t errlen);

/*
 * Apply a flag ("--bandwidth" / "bandwidth") as sim_scenario_set_flag()
 * does, with distributions for --mem, --bandwidth, --rtt, --loss and
 * --workload.  Unknown flag: MIG_ENOTSUP.  Errors read "--mem: ...".
 */
int sim_mc_set_flag(struct sim_mc *mc, const char *flag, const char *value,
                    char *err, size_t errlen);

/*
 * Read an INI scenario file into mc.  Errors: "PATH:LINE: message" in err
 * and MIG_EINVAL; "PATH: strerror" and -errno when unreadable; MIG_ENOMEM.
 */
int sim_mc_load(struct sim_mc *mc, const char *path, char *err,
                size_t errlen);

/* True when at least one parameter is a distribution. */
bool sim_mc_uncertain(const struct sim_mc *mc);

void sim_mc_opts_defaults(struct sim_mc_opts *o);

/*
 * The configuration of draw i: *cfg is filled from the scenario with the
 * draws (or overrides) applied; when the rate is drawn or overridden the
 * workload is copied into *wl and cfg->workload points at it (so wl must
 * live as long as cfg is used).  MIG_EINVAL when an override needs a rate
 * the scenario's workload does not have (phased, trace).
 */
int sim_mc_draw_config(const struct sim_mc *mc, const struct sim_mc_opts *o,
                       size_t i, struct sim_config *cfg,
                       struct sim_workload *wl);

void sim_mc_result_init(struct sim_mc_result *r);
void sim_mc_result_clear(struct sim_mc_result *r);

/*
 * Run o->draws draws on o->threads threads.  r must be initialised; its
 * sample arrays are replaced.  Returns 0, MIG_EINVAL (bad options, or a
 * draw whose configuration is invalid: err names the lowest such draw and
 * why), MIG_ENOMEM, or -errno when a thread cannot be started.
 */
int sim_mc_run(const struct sim_mc *mc, const struct sim_mc_opts *o,
               struct sim_mc_result *r, char *err, size_t errlen);

/* Nearest-rank p-th percentile (0 <= p <= 100) of n >= 1 sorted values. */
double sim_mc_percentile(const double *sorted, size_t n, double p);

const char *sim_mc_param_name(enum sim_mc_param p);

#endif
