/* SPDX-License-Identifier: MIT */
/*
 * mc.c - Monte Carlo scenarios: reading distributions from scenario files
 * and flags, drawing configurations, and running the draws on threads; see
 * mc.h for the contract and docs/plan.md for the methods.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc.h"
#include "mig_err.h"
#include "units.h"

/* The keys that may hold a distribution (the workload is handled apart). */
struct uparam {
    const char *section, *key, *flag;
    enum sim_mc_param param;
    enum sim_dist_unit unit;
};

static const struct uparam uparams[] = {
    { "guest", "memory", "mem", SIM_MC_MEMORY, SIM_UNIT_SIZE },
    { "network", "bandwidth", "bandwidth", SIM_MC_BANDWIDTH,
      SIM_UNIT_BITRATE },
    { "network", "rtt", "rtt", SIM_MC_RTT, SIM_UNIT_TIME },
    { "network", "loss", "loss", SIM_MC_LOSS, SIM_UNIT_FRACTION },
};
#define NUPARAMS (sizeof(uparams) / sizeof(uparams[0]))

static const char *const param_names[SIM_MC_NPARAMS] = {
    "memory", "bandwidth", "rtt", "loss", "rate",
};

const char *sim_mc_param_name(enum sim_mc_param p)
{
    return (unsigned)p < SIM_MC_NPARAMS ? param_names[p] : "?";
}

void sim_mc_init(struct sim_mc *mc)
{
    memset(mc, 0, sizeof(*mc));
    sim_scenario_init(&mc->sc);
    mc->dist[SIM_MC_MEMORY].unit = SIM_UNIT_SIZE;
    mc->dist[SIM_MC_BANDWIDTH].unit = SIM_UNIT_BITRATE;
    mc->dist[SIM_MC_RTT].unit = SIM_UNIT_TIME;
    mc->dist[SIM_MC_LOSS].unit = SIM_UNIT_FRACTION;
    mc->dist[SIM_MC_RATE].unit = SIM_UNIT_BYTERATE;
}

void sim_mc_free(struct sim_mc *mc)
{
    if (!mc)
        return;
    sim_scenario_free(&mc->sc);
    memset(mc, 0, sizeof(*mc));
}

bool sim_mc_uncertain(const struct sim_mc *mc)
{
    for (int p = 0; p < SIM_MC_NPARAMS; p++)
        if (mc->uncertain[p])
            return true;
    return false;
}

void sim_mc_opts_defaults(struct sim_mc_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->draws = 1000;
    o->seed = 1;
    o->threads = 2;
    o->engine = SIM_ENGINE_ANALYTIC;
}

/* The plain text of a nominal value, in the unit's own syntax. */
static void nominal_text(char *buf, size_t len, enum sim_dist_unit u,
                         double v)
{
    switch (u) {
    case SIM_UNIT_SIZE: {
        double pages = fmax(1.0, round(v / SIM_PAGE_SIZE));

        snprintf(buf, len, "%.0f", pages * SIM_PAGE_SIZE);
        break;
    }
    case SIM_UNIT_BITRATE:
        snprintf(buf, len, "%.17gbit", v);
        break;
    case SIM_UNIT_BYTERATE:
        snprintf(buf, len, "%.17gB/s", v);
        break;
    case SIM_UNIT_TIME:
        snprintf(buf, len, "%.17gs", v);
        break;
    case SIM_UNIT_FRACTION:
        snprintf(buf, len, "%.17g", v);
        break;
    }
}

/*
 * The distribution in a workload spec's rate=, if any: [*start, *end) is
 * its text.  False when the rate is a plain value (or there is none).
 */
static bool find_rate_dist(const char *spec, const char **start,
                           const char **end)
{
    const char *p = strstr(spec, "rate=");
    const char *q;

    if (!p)
        return false;
    p += 5;
    while (isspace((unsigned char)*p))
        p++;
    if (!sim_dist_is_spec(p))
        return false;
    q = strchr(p, *p == '[' ? ']' : ')');
    *start = p;
    *end = q ? q + 1 : p + strlen(p);
    return true;
}

static bool model_has_rate(const char *spec)
{
    static const char *const models[] = { "uniform", "hotcold", "zipf",
                                          "seq" };

    while (isspace((unsigned char)*spec))
        spec++;
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(models[i]);

        if (!strncmp(spec, models[i], l) &&
            (spec[l] == ':' || isspace((unsigned char)spec[l])))
            return true;
    }
    return false;
}

/* [guest] workload: a spec whose rate= may be a distribution. */
static int set_workload(struct sim_mc *mc, const char *value,
                        const char *prefix, char *err, size_t errlen)
{
    const char *start, *end;
    struct sim_dist d;
    char msg[256], num[48], *spec;
    size_t l;
    int rc;

    if (!find_rate_dist(value, &start, &end)) {
        rc = sim_scenario_set(&mc->sc, "guest", "workload", value, msg,
                              sizeof(msg));
        if (rc)
            goto out_msg;
        mc->uncertain[SIM_MC_RATE] = false;
        return 0;
    }
    if (!model_has_rate(value)) {
        snprintf(err, errlen,
                 "%sa distribution is only accepted in the rate= of "
                 "uniform, hotcold, zipf and seq", prefix);
        return MIG_EINVAL;
    }
    spec = strndup(start, (size_t)(end - start));
    if (!spec)
        return MIG_ENOMEM;
    rc = sim_dist_parse(spec, SIM_UNIT_BYTERATE, &d, msg, sizeof(msg));
    free(spec);
    if (rc) {
        snprintf(err, errlen, "%srate=: %s", prefix, msg);
        return rc;
    }
    nominal_text(num, sizeof(num), SIM_UNIT_BYTERATE, sim_dist_center(&d));
    l = (size_t)(start - value) + strlen(num) + strlen(end) + 1;
    spec = malloc(l);
    if (!spec)
        return MIG_ENOMEM;
    snprintf(spec, l, "%.*s%s%s", (int)(start - value), value, num, end);
    rc = sim_scenario_set(&mc->sc, "guest", "workload", spec, msg,
                          sizeof(msg));
    free(spec);
    if (rc)
        goto out_msg;
    mc->dist[SIM_MC_RATE] = d;
    mc->uncertain[SIM_MC_RATE] = true;
    return 0;
out_msg:
    /* sim_scenario_set's message already names section and key. */
    if (rc != MIG_ENOMEM) {
        const char *colon = strstr(msg, ": ");

        snprintf(err, errlen, "%s%s", prefix, colon ? colon + 2 : msg);
    }
    return rc;
}

static int set_param(struct sim_mc *mc, const struct uparam *u,
                     const char *value, const char *prefix, char *err,
                     size_t errlen)
{
    struct sim_dist d;
    char msg[256], num[48];
    int rc;

    if (!sim_dist_is_spec(value)) {
        rc = sim_scenario_set(&mc->sc, u->section, u->key, value, msg,
                              sizeof(msg));
        if (rc) {
            const char *colon = strstr(msg, ": ");

            snprintf(err, errlen, "%s%s", prefix, colon ? colon + 2 : msg);
            return rc;
        }
        mc->uncertain[u->param] = false;
        return 0;
    }
    rc = sim_dist_parse(value, u->unit, &d, msg, sizeof(msg));
    if (rc) {
        snprintf(err, errlen, "%s%s", prefix, msg);
        return rc;
    }
    nominal_text(num, sizeof(num), u->unit, sim_dist_center(&d));
    rc = sim_scenario_set(&mc->sc, u->section, u->key, num, msg,
                          sizeof(msg));
    if (rc) {
        snprintf(err, errlen, "%s%s", prefix, msg);
        return rc;
    }
    mc->dist[u->param] = d;
    mc->uncertain[u->param] = true;
    return 0;
}

int sim_mc_set(struct sim_mc *mc, const char *section, const char *key,
               const char *value, char *err, size_t errlen)
{
    char prefix[96];

    snprintf(prefix, sizeof(prefix), "[%s] %s: ", section, key);
    for (size_t i = 0; i < NUPARAMS; i++)
        if (!strcmp(uparams[i].section, section) &&
            !strcmp(uparams[i].key, key))
            return set_param(mc, &uparams[i], value, prefix, err, errlen);
    if (!strcmp(section, "guest") && !strcmp(key, "workload"))
        return set_workload(mc, value, prefix, err, errlen);
    return sim_scenario_set(&mc->sc, section, key, value, err, errlen);
}

int sim_mc_set_flag(struct sim_mc *mc, const char *flag, const char *value,
                    char *err, size_t errlen)
{
    char prefix[96];

    while (*flag == '-')
        flag++;
    snprintf(prefix, sizeof(prefix), "--%s: ", flag);
    if (value) {
        for (size_t i = 0; i < NUPARAMS; i++)
            if (!strcmp(uparams[i].flag, flag))
                return set_param(mc, &uparams[i], value, prefix, err,
                                 errlen);
        if (!strcmp(flag, "workload"))
            return set_workload(mc, value, prefix, err, errlen);
    }
    return sim_scenario_set_flag(&mc->sc, flag, value, err, errlen);
}

static int set_mc(void *target, const char *section, const char *key,
                  const char *value, char *err, size_t errlen)
{
    return sim_mc_set(target, section, key, value, err, errlen);
}

int sim_mc_load(struct sim_mc *mc, const char *path, char *err,
                size_t errlen)
{
    return sim_scenario_load_with(&mc->sc, path, set_mc, mc, err, errlen);
}

/* ---- draws -------------------------------------------------------------- */

/* splitmix64's finaliser: a bijection that mixes every input bit. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t draw_seed(uint64_t seed, size_t i)
{
    return mix64(mix64(seed) ^ mix64((uint64_t)i ^ 0x5bd1e995ULL));
}

int sim_mc_draw_config(const struct sim_mc *mc, const struct sim_mc_opts *o,
                       size_t i, struct sim_config *cfg,
                       struct sim_workload *wl)
{
    uint64_t ds = draw_seed(o->seed, i);

    *cfg = mc->sc.cfg;
    cfg->seed = ds;
    cfg->engine = o->engine;
    for (int p = 0; p < SIM_MC_NPARAMS; p++) {
        const struct sim_workload *base = mc->sc.workload;
        struct sim_rng rng;
        double v;

        if (o->fixed[p]) {
            v = o->value[p];
        } else if (mc->uncertain[p]) {
            sim_rng_seed(&rng, mix64(ds ^ mix64((uint64_t)p + 1)));
            v = sim_dist_draw(&mc->dist[p], &rng);
        } else {
            continue;
        }
        switch ((enum sim_mc_param)p) {
        case SIM_MC_MEMORY:
            cfg->mem_bytes = (uint64_t)fmax(1.0, round(v / SIM_PAGE_SIZE)) *
                             SIM_PAGE_SIZE;
            break;
        case SIM_MC_BANDWIDTH:
            cfg->link.bandwidth_bps = v;
            break;
        case SIM_MC_RTT:
            cfg->link.rtt_s = v;
            break;
        case SIM_MC_LOSS:
            cfg->link.loss = v;
            break;
        case SIM_MC_RATE:
            if (!base || base->kind == SIM_WL_IDLE)
                *wl = (struct sim_workload){ .kind = SIM_WL_UNIFORM };
            else if (base->kind == SIM_WL_PHASED ||
                     base->kind == SIM_WL_TRACE)
                return MIG_EINVAL;
            else
                *wl = *base;
            wl->rate = v;
            cfg->workload = wl;
            break;
        case SIM_MC_NPARAMS:
            break;
        }
    }
    return 0;
}

void sim_mc_result_init(struct sim_mc_result *r)
{
    memset(r, 0, sizeof(*r));
}

void sim_mc_result_clear(struct sim_mc_result *r)
{
    free(r->downtime_s);
    free(r->total_time_s);
    free(r->bytes_sent);
    memset(r, 0, sizeof(*r));
}

double sim_mc_percentile(const double *sorted, size_t n, double p)
{
    double k;

    assert(n > 0);
    if (!(p > 0))
        return sorted[0];
    /* p * n / 100 rather than p / 100 * n: exact for whole p and n. */
    k = ceil(p * (double)n / 100.0);
    if (k < 1)
        k = 1;
    if (k > (double)n)
        k = (double)n;
    return sorted[(size_t)k - 1];
}

/* One thread's share: draws [begin, end). */
struct job {
    const struct sim_mc *mc;
    const struct sim_mc_opts *o;
    size_t begin, end;
    double *dt, *tt, *by;
    size_t completed;
    size_t bad_draw;            /* first failing draw, or SIZE_MAX */
    int rc;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct sim_result r;
    struct sim_config cfg;
    struct sim_workload wl;

    sim_result_init(&r);
    for (size_t i = j->begin; i < j->end; i++) {
        int rc = sim_mc_draw_config(j->mc, j->o, i, &cfg, &wl);

        if (!rc)
            rc = sim_run(&cfg, &r);
        if (rc) {
            j->rc = rc;
            j->bad_draw = i;
            break;
        }
        if (r.outcome == SIM_OUTCOME_COMPLETED) {
            j->dt[i] = r.downtime_s;
            j->tt[i] = r.total_time_s;
            j->completed++;
        } else {
            j->dt[i] = INFINITY;
            j->tt[i] = INFINITY;
        }
        j->by[i] = (double)r.bytes_sent;
    }
    sim_result_clear(&r);
    return NULL;
}

/* Order-preserving map of a double's bits to an unsigned key. */
static uint64_t sort_key(double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    return (u >> 63) ? ~u : u | (1ULL << 63);
}

/*
 * LSD radix sort of n doubles, 16 bits a pass (4 passes), using tmp (n
 * entries).  Faster than qsort by an order of magnitude at a million draws,
 * which matters because sorting is part of every Monte Carlo run.
 */
static int sort_doubles(double *v, size_t n)
{
    uint64_t *a, *b, *t;
    size_t *count;

    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            double x = v[i];
            size_t k = i;

            for (; k > 0 && sort_key(v[k - 1]) > sort_key(x); k--)
                v[k] = v[k - 1];
            v[k] = x;
        }
        return 0;
    }
    a = malloc(n * sizeof(*a));
    b = malloc(n * sizeof(*b));
    count = malloc(65536 * sizeof(*count));
    if (!a || !b || !count) {
        free(a);
        free(b);
        free(count);
        return MIG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = sort_key(v[i]);
    for (unsigned shift = 0; shift < 64; shift += 16) {
        size_t sum = 0;

        memset(count, 0, 65536 * sizeof(*count));
        for (size_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xffff]++;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];

            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[(a[i] >> shift) & 0xffff]++] = a[i];
        t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t u = a[i];

        u = (u >> 63) ? u & ~(1ULL << 63) : ~u;
        memcpy(&v[i], &u, sizeof(u));
    }
    free(a);
    free(b);
    free(count);
    return 0;
}

static void stats_of(const double *sorted, size_t n, struct sim_mc_stats *s)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    s->mean = sum / (double)n;
    s->min = sorted[0];
    s->max = sorted[n - 1];
    s->p50 = sim_mc_percentile(sorted, n, 50);
    s->p90 = sim_mc_percentile(sorted, n, 90);
    s->p99 = sim_mc_percentile(sorted, n, 99);
}

static double breach(const double *v, size_t n, double bound)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += v[i] > bound;
    return (double)k / (double)n;
}

static void explain_bad_draw(const struct sim_mc *mc,
                             const struct sim_mc_opts *o, size_t i, int rc,
                             char *err, size_t errlen)
{
    struct sim_config cfg;
    struct sim_workload wl;
    char why[200] = "";

    if (sim_mc_draw_config(mc, o, i, &cfg, &wl))
        snprintf(why, sizeof(why), "the workload has no single rate to "
                 "set (phased or trace)");
    else if (sim_config_validate(&cfg, why, sizeof(why)) == 0)
        snprintf(why, sizeof(why), "%s%s", mig_strerror(rc),
                 rc == MIG_EINVAL ? " (unbounded transfer rate?)" : "");
    snprintf(err, errlen, "draw %zu: %s", i, why);
}

int sim_mc_run(const struct sim_mc *mc, const struct sim_mc_opts *o,
               struct sim_mc_result *r, char *err, size_t errlen)
{
    size_t n = o->draws, bad_draw = SIZE_MAX;
    unsigned nt = o->threads;
    struct job jobs[SIM_MC_THREADS_MAX];
    pthread_t tid[SIM_MC_THREADS_MAX];
    unsigned started = 0;
    int rc = 0, bad_rc = 0;
    double *dt, *tt, *by;
    const struct sim_expect *e = &mc->sc.expect;

    if (n < 1 || n > SIM_MC_DRAWS_MAX || nt < 1 ||
        nt > SIM_MC_THREADS_MAX) {
        snprintf(err, errlen, "draws must be 1..%u and threads 1..%u",
                 SIM_MC_DRAWS_MAX, SIM_MC_THREADS_MAX);
        return MIG_EINVAL;
    }
    if (nt > n)
        nt = (unsigned)n;
    dt = malloc(n * sizeof(*dt));
    tt = malloc(n * sizeof(*tt));
    by = malloc(n * sizeof(*by));
    if (!dt || !tt || !by) {
        rc = MIG_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto out_free;
    }
    for (unsigned t = 0; t < nt; t++)
        jobs[t] = (struct job){ .mc = mc, .o = o,
                                .begin = n * t / nt,
                                .end = n * (t + 1) / nt,
                                .dt = dt, .tt = tt, .by = by,
                                .bad_draw = SIZE_MAX };
    /* Thread 0's share runs on the calling thread. */
    for (unsigned t = 1; t < nt; t++) {
        rc = -pthread_create(&tid[t], NULL, run_job, &jobs[t]);
        if (rc)
            break;
        started++;
    }
    run_job(&jobs[0]);
    for (unsigned t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start a thread: %s", strerror(-rc));
        goto out_free;
    }
    sim_mc_result_clear(r);
    for (unsigned t = 0; t < nt; t++) {
        if (jobs[t].rc && jobs[t].bad_draw < bad_draw) {
            bad_draw = jobs[t].bad_draw;
            bad_rc = jobs[t].rc;
        }
        r->completed += jobs[t].completed;
    }
    if (bad_rc) {
        rc = bad_rc;
        if (rc == MIG_ENOMEM)
            snprintf(err, errlen, "out of memory");
        else
            explain_bad_draw(mc, o, bad_draw, rc, err, errlen);
        r->completed = 0;
        goto out_free;
    }
    r->draws = n;
    r->p_breach_downtime = e->downtime_max_s >= 0
                               ? breach(dt, n, e->downtime_max_s) : -1;
    r->p_breach_total_time = e->total_time_max_s >= 0
                                 ? breach(tt, n, e->total_time_max_s) : -1;
    r->p_breach_bytes = e->bytes_max > 0
                            ? breach(by, n, (double)e->bytes_max) : -1;
    if (sort_doubles(dt, n) || sort_doubles(tt, n) || sort_doubles(by, n)) {
        rc = MIG_ENOMEM;
        snprintf(err, errlen, "out of memory");
        r->draws = 0;
        r->completed = 0;
        goto out_free;
    }
    stats_of(dt, n, &r->downtime);
    stats_of(tt, n, &r->total_time);
    stats_of(by, n, &r->bytes);
    r->downtime_s = dt;
    r->total_time_s = tt;
    r->bytes_sent = by;
    return 0;
out_free:
    free(dt);
    free(tt);
    free(by);
    return rc;
}
