/* SPDX-License-Identifier: MIT */
/*
 * plan.c - inverse questions by bisection on the analytic engine, checked
 * with the page-exact engine; the method and its limits are in plan.h and
 * docs/plan.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mig_err.h"
#include "plan.h"
#include "units.h"

static const char *const kind_names[] = {
    "min-bandwidth", "max-dirty-rate", "max-memory",
};

const char *sim_plan_kind_name(enum sim_plan_kind k)
{
    return (unsigned)k <= SIM_PLAN_MAX_MEMORY ? kind_names[k] : "?";
}

void sim_plan_query_defaults(struct sim_plan_query *q,
                             enum sim_plan_kind kind)
{
    memset(q, 0, sizeof(*q));
    q->kind = kind;
    q->target_s = 0.3;
    q->percentile = 99;
    q->rel_tol = 1e-3;
    q->check_exact = true;
    q->exact_draws = 100;
}

static enum sim_mc_param param_of(enum sim_plan_kind k)
{
    return k == SIM_PLAN_MIN_BANDWIDTH   ? SIM_MC_BANDWIDTH
           : k == SIM_PLAN_MAX_DIRTY_RATE ? SIM_MC_RATE
                                          : SIM_MC_MEMORY;
}

/* The searched value as text, in its unit. */
static char *fmt_x(char *buf, size_t len, enum sim_plan_kind k, double x)
{
    if (k == SIM_PLAN_MIN_BANDWIDTH)
        return sim_format_bitrate(buf, len, x);
    if (k == SIM_PLAN_MAX_DIRTY_RATE)
        return sim_format_byterate(buf, len, x);
    return sim_format_size(buf, len, x);
}

int sim_plan_metric(const struct sim_mc *mc, const struct sim_mc_opts *o,
                    enum sim_plan_kind kind, double x, double percentile,
                    double *metric, char *err, size_t errlen)
{
    struct sim_mc_opts so = *o;
    struct sim_mc_result r;
    enum sim_mc_param p = param_of(kind);
    int rc;

    *metric = 0;
    memset(so.fixed, 0, sizeof(so.fixed));
    so.fixed[p] = true;
    so.value[p] = x;
    if (!sim_mc_uncertain(mc))
        so.draws = 1;
    sim_mc_result_init(&r);
    rc = sim_mc_run(mc, &so, &r, err, errlen);
    if (!rc)
        *metric = sim_mc_percentile(kind == SIM_PLAN_MAX_MEMORY
                                        ? r.total_time_s : r.downtime_s,
                                    r.draws, percentile);
    sim_mc_result_clear(&r);
    return rc;
}

static double default_lo(const struct sim_mc *mc, enum sim_plan_kind k)
{
    const struct sim_workload *wl = mc->sc.workload;
    double lo;

    if (k == SIM_PLAN_MIN_BANDWIDTH)
        return 1e6;
    if (k == SIM_PLAN_MAX_DIRTY_RATE)
        return 1e3;
    lo = 1 << 20;
    if (wl && wl->kind == SIM_WL_HOTCOLD)
        lo = fmax(lo, ceil((double)wl->wss_bytes / SIM_PAGE_SIZE) *
                          SIM_PAGE_SIZE);
    return lo;
}

static double default_hi(enum sim_plan_kind k)
{
    if (k == SIM_PLAN_MIN_BANDWIDTH)
        return 1e12;
    if (k == SIM_PLAN_MAX_DIRTY_RATE)
        return 1e12;
    return 64.0 * (1ULL << 40);
}

/* Has the bracket closed to the tolerance? */
static bool closed(enum sim_plan_kind k, double lo, double hi, double tol)
{
    if (k == SIM_PLAN_MAX_MEMORY && hi - lo <= SIM_PAGE_SIZE)
        return true;
    return hi / lo <= 1 + tol;
}

static int check_query(const struct sim_mc *mc, const struct sim_plan_query *q,
                       char *err, size_t errlen)
{
    const struct sim_workload *wl = mc->sc.workload;

    if ((unsigned)q->kind > SIM_PLAN_MAX_MEMORY)
        snprintf(err, errlen, "unknown question");
    else if (!(q->target_s > 0) || !isfinite(q->target_s))
        snprintf(err, errlen, "the target must be a positive time");
    else if (!(q->percentile >= 0 && q->percentile <= 100))
        snprintf(err, errlen, "the percentile must be in 0..100");
    else if (!(q->rel_tol > 0 && q->rel_tol < 1))
        snprintf(err, errlen, "the tolerance must be in (0, 1)");
    else if (q->lo < 0 || q->hi < 0 || (q->lo > 0 && q->hi > 0 &&
                                        q->lo >= q->hi))
        snprintf(err, errlen, "the bracket must have 0 < lo < hi");
    else if (q->kind == SIM_PLAN_MAX_DIRTY_RATE && wl &&
             (wl->kind == SIM_WL_PHASED || wl->kind == SIM_WL_TRACE))
        snprintf(err, errlen, "max-dirty-rate needs a workload with one "
                 "rate (uniform, hotcold, zipf, seq or idle), not %s",
                 wl->kind == SIM_WL_PHASED ? "phased" : "trace");
    else
        return 0;
    return MIG_EINVAL;
}

int sim_plan_solve(const struct sim_mc *mc, const struct sim_mc_opts *o,
                   const struct sim_plan_query *q, struct sim_plan_answer *a,
                   char *err, size_t errlen)
{
    enum sim_plan_kind k = q->kind;
    /* min-bandwidth: more is better; the other two: less is better. */
    bool up = k == SIM_PLAN_MIN_BANDWIDTH;
    const char *what = k == SIM_PLAN_MAX_MEMORY ? "total time" : "downtime";
    double lo, hi, mlo, mhi, good, bad, mgood, mbad;
    char x1[32], x2[32], x3[32], t1[32], t2[32];
    int rc;

    memset(a, 0, sizeof(*a));
    rc = check_query(mc, q, err, errlen);
    if (rc)
        return rc;
    lo = q->lo > 0 ? q->lo : default_lo(mc, k);
    hi = q->hi > 0 ? q->hi : default_hi(k);
    if (lo >= hi) {
        snprintf(err, errlen, "the bracket must have lo < hi");
        return MIG_EINVAL;
    }
    rc = sim_plan_metric(mc, o, k, lo, q->percentile, &mlo, err, errlen);
    if (!rc)
        rc = sim_plan_metric(mc, o, k, hi, q->percentile, &mhi, err, errlen);
    if (rc)
        return rc;
    a->steps = 2;
    /* good: the end that should meet the target; bad: the other. */
    good = up ? hi : lo;
    bad = up ? lo : hi;
    mgood = up ? mhi : mlo;
    mbad = up ? mlo : mhi;
    if (!(mgood <= q->target_s)) {
        snprintf(a->why, sizeof(a->why),
                 "no %s in %s..%s meets the target: p%g %s is %s at %s, "
                 "above %s", k == SIM_PLAN_MIN_BANDWIDTH ? "bandwidth"
                 : k == SIM_PLAN_MAX_DIRTY_RATE ? "dirty rate" : "memory",
                 fmt_x(x1, sizeof(x1), k, lo), fmt_x(x2, sizeof(x2), k, hi),
                 q->percentile, what,
                 isfinite(mgood) ? sim_format_time(t1, sizeof(t1), mgood)
                                 : "unbounded (no completion)",
                 fmt_x(x3, sizeof(x3), k, good),
                 sim_format_time(t2, sizeof(t2), q->target_s));
        a->value = good;
        a->metric = mgood;
        return 0;
    }
    if (mbad <= q->target_s) {
        a->found = true;
        a->at_bound = true;
        a->value = bad;
        a->metric = mbad;
    } else {
        /* Invariant: metric(good) meets the target, metric(bad) not. */
        while (!closed(k, fmin(good, bad), fmax(good, bad), q->rel_tol)) {
            double mid = sqrt(good * bad), m;

            if (k == SIM_PLAN_MAX_MEMORY)
                mid = round(mid / SIM_PAGE_SIZE) * SIM_PAGE_SIZE;
            if (mid <= fmin(good, bad) || mid >= fmax(good, bad))
                break;
            rc = sim_plan_metric(mc, o, k, mid, q->percentile, &m, err,
                                 errlen);
            if (rc)
                return rc;
            a->steps++;
            if (m <= q->target_s) {
                good = mid;
                mgood = m;
            } else {
                bad = mid;
                mbad = m;
            }
        }
        a->found = true;
        a->value = good;
        a->metric = mgood;
        a->other = bad;
        a->other_metric = mbad;
    }
    if (k == SIM_PLAN_MAX_MEMORY)
        a->value = fmax(SIM_PAGE_SIZE,
                        floor(a->value / SIM_PAGE_SIZE) * SIM_PAGE_SIZE);
    if (q->check_exact) {
        struct sim_mc_opts eo = *o;

        eo.engine = SIM_ENGINE_EXACT;
        if (eo.draws > q->exact_draws)
            eo.draws = q->exact_draws ? q->exact_draws : 1;
        rc = sim_plan_metric(mc, &eo, k, a->value, q->percentile,
                             &a->exact_metric, err, errlen);
        if (rc)
            return rc;
        a->exact_checked = true;
        a->exact_ok = a->exact_metric <= q->target_s;
    }
    return 0;
}
