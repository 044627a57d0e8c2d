/* SPDX-License-Identifier: MIT */
/*
 * plan.h - inverse questions on a (Monte Carlo) scenario, by bisection.
 *
 *   min-bandwidth   the smallest link bandwidth (bits/s) at which the
 *                   downtime's p-th percentile meets a target;
 *   max-dirty-rate  the largest workload write rate (bytes/s) at which the
 *                   downtime's p-th percentile meets a target (an idle
 *                   scenario is planned with a uniform workload);
 *   max-memory      the largest guest memory (bytes, whole pages) whose
 *                   total time's p-th percentile fits a window.
 *
 * Each step evaluates the metric with the analytic engine: one prediction
 * when no parameter of the scenario is a distribution, else a Monte Carlo
 * run (sim/mc.h) of o->draws draws in which the searched parameter is fixed
 * and every other one is drawn with the same seeds at every step (common
 * random numbers, so the steps differ only by the searched value).
 *
 * Bisection is geometric (the midpoint of lo and hi is sqrt(lo * hi)) on a
 * bracket [lo, hi] and keeps the invariant "one end meets the target, the
 * other does not"; it stops when hi / lo <= 1 + rel_tol (default 1e-3, so
 * the answer is within 0.1% of the boundary; for memory the answer is also
 * rounded down to a page).  Default brackets: 1 Mbit/s .. 1 Tbit/s,
 * 1 kB/s .. 1 TB/s, 1 MiB (or the hot set) .. 64 TiB.  When the target is
 * met nowhere in the bracket the answer is "not found" with the reason in
 * `why`; when it is met at both ends the answer is the bracket's end and
 * `at_bound` says so.  The metric is assumed to be monotone in the
 * searched value; where a policy's stop rule makes it step, the answer is a
 * value that meets the target with a value rel_tol away that does not.
 *
 * The answer is then checked with the page-exact engine (one run, or
 * min(draws, exact_draws) Monte Carlo draws): exact_metric and exact_ok.
 */
#ifndef SIM_PLAN_H
#define SIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "mc.h"

enum sim_plan_kind {
    SIM_PLAN_MIN_BANDWIDTH,
    SIM_PLAN_MAX_DIRTY_RATE,
    SIM_PLAN_MAX_MEMORY,
};

struct sim_plan_query {
    enum sim_plan_kind kind;
    double target_s;        /* downtime target, or the time window */
    double percentile;      /* 0..100 (99) */
    double lo, hi;          /* bracket; 0 = the default */
    double rel_tol;         /* > 0 (1e-3) */
    bool check_exact;       /* (true) */
    size_t exact_draws;     /* (100) */
};

struct sim_plan_answer {
    bool found;
    bool at_bound;          /* the target is met at both ends */
    double value;           /* bits/s, bytes/s or bytes */
    double metric;          /* the percentile at value, seconds */
    double other;           /* the bracket end that fails (0 if none) */
    double other_metric;
    unsigned steps;         /* metric evaluations */
    bool exact_checked;
    double exact_metric;
    bool exact_ok;
    char why[240];          /* when not found */
};

void sim_plan_query_defaults(struct sim_plan_query *q,
                             enum sim_plan_kind kind);

/*
 * Evaluate the metric of kind (downtime for the first two, total time for
 * max-memory) at value x: its p-th percentile over the draws (or the one
 * prediction).  o->fixed is ignored; engine from o.  Returns 0, or an error
 * of sim_mc_run() with err set.
 */
int sim_plan_metric(const struct sim_mc *mc, const struct sim_mc_opts *o,
                    enum sim_plan_kind kind, double x, double percentile,
                    double *metric, char *err, size_t errlen);

/*
 * Solve q on mc.  Returns 0 (with a->found telling whether there is an
 * answer), MIG_EINVAL for a bad query (err says which field) or a
 * scenario the question does not apply to (max-dirty-rate on a phased or
 * trace workload), or an error of sim_mc_run().
 */
int sim_plan_solve(const struct sim_mc *mc, const struct sim_mc_opts *o,
                   const struct sim_plan_query *q, struct sim_plan_answer *a,
                   char *err, size_t errlen);

const char *sim_plan_kind_name(enum sim_plan_kind k);

#endif
