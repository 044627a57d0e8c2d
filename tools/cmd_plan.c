/* SPDX-License-Identifier: MIT */
/*
 * cmd_plan.c - `miglab plan`: capacity planning on the simulator.
 *
 *   plan percentiles     Monte Carlo percentiles of a scenario whose values
 *                        may be distributions (sim/mc.h)
 *   plan min-bandwidth   inverse questions by bisection (sim/plan.h)
 *   plan max-dirty-rate
 *   plan max-memory
 *   plan evacuate        drain hosts of an inventory (sim/fleet.h)
 *
 * Tables for people; --json (json-c) and --csv for machines; --svg FILE
 * writes a chart (sim/plot.h).  Bad input: one line on stderr, exit 2.
 * Methods and formats: docs/plan.md.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "result_json.h"
#include "fleet.h"
#include "mc.h"
#include "mig_err.h"
#include "plan.h"
#include "plot.h"
#include "scenario.h"
#include "units.h"

#define CMD "plan"
#define DRAIN_MAX 64
#define SWEEP_POINTS 25

struct plan_opts {
    const char *sub;
    const char *scenario;
    const char *inventory;
    const char *svg;
    const char *html;           /* --html FILE: table + chart in one page */
    FILE *out;                  /* where tables go: stdout, or the page */
    bool json, csv, help, no_exact;
    struct sim_mc_opts mc;
    bool seed_set;
    double target_s;            /* --downtime / --window; < 0 unset */
    double percentile;
    char *drain_buf;            /* owned copy of --drain */
    const char *drain[DRAIN_MAX];
    size_t ndrain;
    unsigned concurrency;
};

static const char *const subs[] = {
    "percentiles", "min-bandwidth", "max-dirty-rate", "max-memory",
    "evacuate",
};

static void help(const char *sub)
{
    printf("usage: miglab plan percentiles --scenario FILE [--draws N] "
           "[--seed S] [--threads T]\n"
           "                  [--engine analytic|exact] [--svg FILE] "
           "[--json|--csv] [FLAGS]\n"
           "       miglab plan min-bandwidth --scenario FILE --downtime TIME "
           "[--percentile P] ...\n"
           "       miglab plan max-dirty-rate --scenario FILE --downtime TIME "
           "[--percentile P] ...\n"
           "       miglab plan max-memory --scenario FILE --window TIME "
           "[--percentile P] ...\n"
           "       miglab plan evacuate INVENTORY --drain HOST[,HOST...] "
           "[--concurrency N]\n"
           "                  [--svg FILE] [--json|--csv]\n"
           "\n"
           "Capacity planning with the simulator (docs/plan.md).\n"
           "\n"
           "  percentiles     p50/p90/p99, mean, min, max of downtime, total "
           "time and bytes\n"
           "                  over N Monte Carlo draws, and the probability "
           "of breaching\n"
           "                  each [expect] bound; --svg: downtime CDF\n"
           "  min-bandwidth   smallest bandwidth meeting a downtime target at "
           "a percentile;\n"
           "                  --svg: downtime vs bandwidth\n"
           "  max-dirty-rate  largest workload write rate meeting a downtime "
           "target\n"
           "  max-memory      largest guest whose total time fits a window\n"
           "  evacuate        plan draining hosts of an inventory; compares "
           "smallest-dirty-first\n"
           "                  and largest-first and reports the better; "
           "--svg: Gantt chart\n"
           "\n"
           "  --scenario FILE     INI scenario; memory, bandwidth, rtt, loss "
           "and the workload's\n"
           "                      rate= may be distributions: uniform(A,B) "
           "normal(MEAN,SD)\n"
           "                      lognormal(MEDIAN,SIGMA) choice(A,B,..) "
           "[A,B,..]\n"
           "  --draws N           Monte Carlo draws (10000; 1 without "
           "distributions in the\n"
           "                      inverse questions)\n"
           "  --seed S            (the scenario's [run] seed)\n"
           "  --threads T         (2)\n"
           "  --engine E          analytic (default) or exact\n"
           "  --downtime TIME     downtime target (min-bandwidth, "
           "max-dirty-rate)\n"
           "  --window TIME       migration-time window (max-memory)\n"
           "  --percentile P      0..100 (99)\n"
           "  --no-exact          skip the page-exact check of the answer\n"
           "  --drain LIST        hosts to drain, comma-separated (evacuate)\n"
           "  --concurrency N     migrations at once (4; evacuate)\n"
           "  --svg FILE          write a chart\n"
           "  --html FILE         write the table and the chart as one "
           "self-contained page\n"
           "  --json, --csv       machine-readable output\n"
           "  --help              this text\n"
           "Any `miglab predict` flag (--mem, --bandwidth, --workload, ...) "
           "overrides the scenario,\n"
           "and --mem, --bandwidth, --rtt, --loss, --workload accept "
           "distributions.\n");
    if (sub && !strcmp(sub, "evacuate"))
        printf("\nInventory lines (docs/plan.md):\n"
               "  host NAME capacity=SIZE\n"
               "  link HOST HOST bandwidth=RATE [rtt=T] [loss=P] [jitter=T] "
               "[mtu=N] [cc=C] [window=S]\n"
               "  vm NAME host=HOST memory=SIZE [vcpus=N] [workload=SPEC]\n"
               "  policy xen|xen-legacy|qemu|miglab\n");
}

static bool own_valued(const char *n)
{
    static const char *const v[] = {
        "scenario", "draws", "seed", "threads", "engine", "svg", "html",
        "downtime", "window", "percentile", "drain", "concurrency",
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (!strcmp(n, v[i]))
            return true;
    return false;
}

static int parse_drain(struct plan_opts *o, const char *v)
{
    char *save;

    free(o->drain_buf);
    o->drain_buf = strdup(v);
    o->ndrain = 0;
    if (!o->drain_buf)
        return MIG_ENOMEM;
    for (char *t = strtok_r(o->drain_buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (o->ndrain == DRAIN_MAX) {
            cli_error(CMD, "--drain: more than %d hosts", DRAIN_MAX);
            return CLI_USAGE;
        }
        o->drain[o->ndrain++] = t;
    }
    if (!o->ndrain) {
        cli_error(CMD, "--drain: no host named");
        return CLI_USAGE;
    }
    return 0;
}

/* One of our own valued flags. */
static int own_flag(struct plan_opts *o, const char *name, const char *v)
{
    uint64_t u;
    double d;

    if (!strcmp(name, "scenario")) {
        o->scenario = v;
    } else if (!strcmp(name, "svg")) {
        o->svg = v;
    } else if (!strcmp(name, "html")) {
        o->html = v;
    } else if (!strcmp(name, "draws")) {
        if (sim_parse_uint(v, 1, SIM_MC_DRAWS_MAX, &u))
            goto bad;
        o->mc.draws = (size_t)u;
    } else if (!strcmp(name, "seed")) {
        if (sim_parse_uint(v, 0, UINT64_MAX, &u))
            goto bad;
        o->mc.seed = u;
        o->seed_set = true;
    } else if (!strcmp(name, "threads")) {
        if (sim_parse_uint(v, 1, SIM_MC_THREADS_MAX, &u))
            goto bad;
        o->mc.threads = (unsigned)u;
    } else if (!strcmp(name, "engine")) {
        if (sim_engine_parse(v, &o->mc.engine))
            goto bad;
    } else if (!strcmp(name, "downtime") || !strcmp(name, "window")) {
        if (sim_parse_time(v, &d) || !(d > 0))
            goto bad;
        o->target_s = d;
    } else if (!strcmp(name, "percentile")) {
        if (sim_parse_double(v, 0, 100, &d))
            goto bad;
        o->percentile = d;
    } else if (!strcmp(name, "concurrency")) {
        if (sim_parse_uint(v, 1, 100000, &u))
            goto bad;
        o->concurrency = (unsigned)u;
    } else if (!strcmp(name, "drain")) {
        return parse_drain(o, v);
    }
    return 0;
bad:
    cli_error(CMD, "--%s: bad value '%s'%s", name, v,
              !strcmp(name, "engine") ? " (analytic or exact)"
              : !strcmp(name, "percentile") ? " (0..100)"
              : !strcmp(name, "threads") ? " (1..256)"
              : (!strcmp(name, "downtime") || !strcmp(name, "window"))
                  ? " (a positive time, e.g. 300ms)"
                  : " (a positive integer)");
    return CLI_USAGE;
}

/*
 * Walk argv (argv[0] is the subcommand).  With mc == NULL only our own
 * flags are taken; otherwise scenario flags are applied to mc.
 */
static int walk_args(int argc, char **argv, struct plan_opts *o,
                     struct sim_mc *mc)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        char name[64], err[400];
        int rc;

        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            if (!strcmp(arg, "-h")) {
                o->help = true;
                continue;
            }
            if (!strcmp(o->sub, "evacuate") && !o->inventory && !mc) {
                o->inventory = arg;
                continue;
            }
            if (!strcmp(o->sub, "evacuate") && mc)
                continue;
            cli_error(CMD, "unexpected argument '%s' (see --help)", arg);
            return CLI_USAGE;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s",
                 (int)(eq ? eq - arg - 2 : (long)strlen(arg + 2)), arg + 2);
        if (eq)
            value = eq + 1;
        if (!strcmp(name, "help")) {
            o->help = true;
            continue;
        }
        if (!strcmp(name, "json") || !strcmp(name, "csv") ||
            !strcmp(name, "no-exact")) {
            if (!mc) {
                o->json |= !strcmp(name, "json");
                o->csv |= !strcmp(name, "csv");
                o->no_exact |= !strcmp(name, "no-exact");
            }
            continue;
        }
        if (!value && (own_valued(name) || !sim_scenario_flag_is_boolean(name))) {
            if (i + 1 >= argc) {
                cli_error(CMD, "--%s needs a value", name);
                return CLI_USAGE;
            }
            value = argv[++i];
        }
        if (own_valued(name)) {
            if (!mc) {
                rc = own_flag(o, name, value);
                if (rc)
                    return rc;
            }
            continue;
        }
        if (!mc) {
            if (!strcmp(o->sub, "evacuate")) {
                cli_error(CMD, "unknown option '--%s' for evacuate (see "
                          "miglab plan --help)", name);
                return CLI_USAGE;
            }
            continue;
        }
        rc = sim_mc_set_flag(mc, name, value, err, sizeof(err));
        if (rc == MIG_ENOTSUP) {
            cli_error(CMD, "unknown option '--%s' (see miglab plan --help)",
                      name);
            return CLI_USAGE;
        }
        if (rc) {
            cli_error(CMD, "%s", err);
            return CLI_USAGE;
        }
    }
    return 0;
}

/* ---- output helpers ----------------------------------------------------- */

static void print_json(struct json_object *jo)
{
    puts(json_object_to_json_string_ext(
        jo, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A number for CSV: empty when not finite. */
static void csv_num(double v, const char *sep)
{
    if (isfinite(v))
        printf("%.9g%s", v, sep);
    else
        printf("%s", sep);
}

static char *fmt_time(char *b, size_t l, double s)
{
    if (!isfinite(s)) {
        snprintf(b, l, "never");
        return b;
    }
    return sim_format_time(b, l, s);
}

static int open_svg(const char *path, FILE **f)
{
    *f = fopen(path, "w");
    if (!*f) {
        cli_error(CMD, "--svg: cannot write '%s'", path);
        return CLI_USAGE;
    }
    return 0;
}

static int close_svg(const char *path, FILE *f, int rc)
{
    if (fclose(f) || rc) {
        cli_error(CMD, "--svg: error writing '%s'", path);
        return CLI_FAILED;
    }
    return 0;
}

static void describe_uncertain(FILE *out, const struct sim_mc *mc,
                               struct json_object *jo)
{
    for (int p = 0; p < SIM_MC_NPARAMS; p++) {
        char buf[512];

        if (!mc->uncertain[p])
            continue;
        sim_dist_format(&mc->dist[p], buf, sizeof(buf));
        if (jo)
            sim_json_put_str(jo, sim_mc_param_name((enum sim_mc_param)p), buf);
        else
            fprintf(out, "  %-10s %s\n", sim_mc_param_name((enum sim_mc_param)p),
                   buf);
    }
}

/* ---- percentiles -------------------------------------------------------- */

static struct json_object *stats_json(const struct sim_mc_stats *s)
{
    struct json_object *o = json_object_new_object();

    sim_json_put_num(o, "mean", s->mean);
    sim_json_put_num(o, "min", s->min);
    sim_json_put_num(o, "p50", s->p50);
    sim_json_put_num(o, "p90", s->p90);
    sim_json_put_num(o, "p99", s->p99);
    sim_json_put_num(o, "max", s->max);
    return o;
}

static void stats_row(FILE *out, const char *name, const struct sim_mc_stats *s,
                      bool bytes)
{
    const double v[6] = { s->mean, s->min, s->p50, s->p90, s->p99, s->max };
    char b[32];

    fprintf(out, "  %-11s", name);
    for (int i = 0; i < 6; i++)
        fprintf(out, " %11s", bytes ? sim_format_size(b, sizeof(b), v[i])
                              : fmt_time(b, sizeof(b), v[i]));
    fprintf(out, "\n");
}

static int downtime_cdf_svg(const char *path, const struct sim_mc *mc,
                            const struct sim_mc_result *r)
{
    double *x = malloc(r->draws * sizeof(*x));
    double *y = malloc(r->draws * sizeof(*y));
    struct sim_plot_series s = { "downtime CDF", x, y, 0, true };
    struct sim_plot_axes ax = { "Downtime CDF", "downtime (ms)",
                                "fraction of draws", false, NAN, NULL, NAN,
                                NULL };
    char title[160], label[64], b[32];
    FILE *f;
    int rc;

    if (!x || !y) {
        free(x);
        free(y);
        cli_error(CMD, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < r->draws; i++) {
        x[i] = r->downtime_s[i] * 1e3;
        y[i] = (double)(i + 1) / (double)r->draws;
    }
    s.n = r->draws;
    snprintf(title, sizeof(title), "Downtime CDF: %s (%zu draws)",
             mc->sc.name ? mc->sc.name : "scenario", r->draws);
    ax.title = title;
    if (mc->sc.expect.downtime_max_s >= 0) {
        /* The [expect] bound, and the share of draws that meet it. */
        ax.vline = mc->sc.expect.downtime_max_s * 1e3;
        snprintf(label, sizeof(label), "%s: %.4g%% meet it",
                 sim_format_time(b, sizeof(b), mc->sc.expect.downtime_max_s),
                 100 * (1.0 - r->p_breach_downtime));
        ax.vline_label = label;
    }
    rc = open_svg(path, &f);
    if (rc)
        goto out;
    rc = close_svg(path, f, sim_plot_lines(f, &ax, &s, 1));
out:
    free(x);
    free(y);
    return rc;
}

static int run_percentiles(const struct plan_opts *o, const struct sim_mc *mc)
{
    static const char *const names[3] = { "downtime_max", "total_time_max",
                                          "bytes_max" };
    struct sim_mc_result r;
    double breach[3];
    char err[400], b[32];
    int rc, status = CLI_OK;

    sim_mc_result_init(&r);
    rc = sim_mc_run(mc, &o->mc, &r, err, sizeof(err));
    if (rc) {
        cli_error(CMD, "%s", err);
        return rc == MIG_EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    breach[0] = r.p_breach_downtime;
    breach[1] = r.p_breach_total_time;
    breach[2] = r.p_breach_bytes;

    if (o->json) {
        struct json_object *jo = json_object_new_object(), *u, *br;

        sim_json_put_str(jo, "scenario", mc->sc.name ? mc->sc.name : "");
        json_object_object_add(jo, "draws",
                               json_object_new_int64((int64_t)r.draws));
        json_object_object_add(jo, "completed",
                               json_object_new_int64((int64_t)r.completed));
        json_object_object_add(jo, "seed",
                               json_object_new_uint64(o->mc.seed));
        json_object_object_add(jo, "threads",
                               json_object_new_int((int)o->mc.threads));
        sim_json_put_str(jo, "engine", sim_engine_name(o->mc.engine));
        sim_json_put_str(jo, "percentile_method", "nearest-rank");
        u = json_object_new_object();
        describe_uncertain(o->out, mc, u);
        json_object_object_add(jo, "uncertain", u);
        json_object_object_add(jo, "downtime_s", stats_json(&r.downtime));
        json_object_object_add(jo, "total_time_s",
                               stats_json(&r.total_time));
        json_object_object_add(jo, "bytes", stats_json(&r.bytes));
        br = json_object_new_object();
        for (int i = 0; i < 3; i++)
            if (breach[i] >= 0)
                sim_json_put_num(br, names[i], breach[i]);
        json_object_object_add(jo, "p_breach", br);
        print_json(jo);
        json_object_put(jo);
    } else if (o->csv) {
        fprintf(o->out, "metric,mean,min,p50,p90,p99,max,p_breach\n");
        for (int i = 0; i < 3; i++) {
            const struct sim_mc_stats *s = i == 0 ? &r.downtime
                                         : i == 1 ? &r.total_time : &r.bytes;

            fprintf(o->out, "%s,", i == 0 ? "downtime_s" : i == 1 ? "total_time_s"
                                                         : "bytes");
            csv_num(s->mean, ",");
            csv_num(s->min, ",");
            csv_num(s->p50, ",");
            csv_num(s->p90, ",");
            csv_num(s->p99, ",");
            csv_num(s->max, ",");
            if (breach[i] >= 0)
                fprintf(o->out, "%.9g", breach[i]);
            fprintf(o->out, "\n");
        }
    } else {
        fprintf(o->out, "Monte Carlo: %zu draws, seed %llu, %u thread%s, %s engine%s%s\n",
               r.draws, (unsigned long long)o->mc.seed, o->mc.threads,
               o->mc.threads == 1 ? "" : "s", sim_engine_name(o->mc.engine),
               mc->sc.name ? ": " : "", mc->sc.name ? mc->sc.name : "");
        if (sim_mc_uncertain(mc)) {
            fprintf(o->out, "uncertain parameters:\n");
            describe_uncertain(o->out, mc, NULL);
        } else {
            fprintf(o->out, "no parameter is a distribution: every draw is the same "
                   "prediction\n");
        }
        fprintf(o->out, "\n  %-11s %11s %11s %11s %11s %11s %11s\n", "", "mean", "min",
               "p50", "p90", "p99", "max");
        stats_row(o->out, "downtime", &r.downtime, false);
        stats_row(o->out, "total time", &r.total_time, false);
        stats_row(o->out, "bytes", &r.bytes, true);
        fprintf(o->out, "\n  completed   %zu of %zu draws (%.2f%%); percentiles are "
               "nearest-rank\n", r.completed, r.draws,
               100.0 * (double)r.completed / (double)r.draws);
        if (breach[0] >= 0)
            fprintf(o->out, "  P(downtime > %s) = %.4g%%\n",
                   sim_format_time(b, sizeof(b), mc->sc.expect.downtime_max_s),
                   100 * breach[0]);
        if (breach[1] >= 0)
            fprintf(o->out, "  P(total time > %s) = %.4g%%\n",
                   sim_format_time(b, sizeof(b),
                                   mc->sc.expect.total_time_max_s),
                   100 * breach[1]);
        if (breach[2] >= 0)
            fprintf(o->out, "  P(bytes > %s) = %.4g%%\n",
                   sim_format_size(b, sizeof(b),
                                   (double)mc->sc.expect.bytes_max),
                   100 * breach[2]);
    }
    if (o->svg)
        status = downtime_cdf_svg(o->svg, mc, &r);
    sim_mc_result_clear(&r);
    return status;
}

/* ---- inverse questions -------------------------------------------------- */

static char *fmt_value(char *b, size_t l, enum sim_plan_kind k, double v)
{
    if (k == SIM_PLAN_MIN_BANDWIDTH)
        return sim_format_bitrate(b, l, v);
    if (k == SIM_PLAN_MAX_DIRTY_RATE)
        return sim_format_byterate(b, l, v);
    return sim_format_size(b, l, v);
}

static const char *value_unit(enum sim_plan_kind k)
{
    return k == SIM_PLAN_MIN_BANDWIDTH   ? "bandwidth_bps"
           : k == SIM_PLAN_MAX_DIRTY_RATE ? "dirty_rate_Bps"
                                          : "memory_bytes";
}

/* Downtime (or total time) against the searched value around the answer. */
static int sweep_svg(const struct plan_opts *o, const struct sim_mc *mc,
                     const struct sim_plan_query *q,
                     const struct sim_plan_answer *a)
{
    double x[SWEEP_POINTS], y[SWEEP_POINTS], lo = a->value / 4,
           hi = a->value * 4;
    struct sim_plot_series s = { NULL, x, y, SWEEP_POINTS, false };
    struct sim_plot_axes ax = { NULL, NULL, NULL, true, q->target_s * 1e3,
                                "target", NAN, "answer" };
    char title[160], ylabel[64], err[400];
    FILE *f;
    int rc;

    for (int i = 0; i < SWEEP_POINTS; i++) {
        double m;

        x[i] = lo * pow(hi / lo, (double)i / (SWEEP_POINTS - 1));
        rc = sim_plan_metric(mc, &o->mc, q->kind, x[i], q->percentile, &m,
                             err, sizeof(err));
        if (rc) {
            cli_error(CMD, "%s", err);
            return CLI_FAILED;
        }
        y[i] = m * 1e3;
    }
    if (q->kind == SIM_PLAN_MIN_BANDWIDTH)
        for (int i = 0; i < SWEEP_POINTS; i++)
            x[i] /= 1e6;
    else if (q->kind == SIM_PLAN_MAX_DIRTY_RATE)
        for (int i = 0; i < SWEEP_POINTS; i++)
            x[i] /= 1e6;
    else
        for (int i = 0; i < SWEEP_POINTS; i++)
            x[i] /= 1 << 30;
    ax.vline = a->value / (q->kind == SIM_PLAN_MAX_MEMORY ? 1 << 30 : 1e6);
    snprintf(ylabel, sizeof(ylabel), "p%g %s (ms)", q->percentile,
             q->kind == SIM_PLAN_MAX_MEMORY ? "total time" : "downtime");
    snprintf(title, sizeof(title), "%s vs %s",
             q->kind == SIM_PLAN_MAX_MEMORY ? "Total time" : "Downtime",
             q->kind == SIM_PLAN_MIN_BANDWIDTH   ? "bandwidth"
             : q->kind == SIM_PLAN_MAX_DIRTY_RATE ? "dirty rate"
                                                  : "memory");
    ax.title = title;
    ax.ylabel = ylabel;
    ax.xlabel = q->kind == SIM_PLAN_MIN_BANDWIDTH   ? "bandwidth (Mbit/s)"
                : q->kind == SIM_PLAN_MAX_DIRTY_RATE ? "dirty rate (MB/s)"
                                                     : "memory (GiB)";
    s.label = ylabel;
    rc = open_svg(o->svg, &f);
    if (rc)
        return rc;
    return close_svg(o->svg, f, sim_plot_lines(f, &ax, &s, 1));
}

static int run_inverse(const struct plan_opts *o, const struct sim_mc *mc,
                       enum sim_plan_kind k)
{
    struct sim_plan_query q;
    struct sim_plan_answer a;
    char err[400], v[32], m[32], t[32];
    int rc;

    if (o->target_s < 0) {
        cli_error(CMD, "%s needs %s", sim_plan_kind_name(k),
                  k == SIM_PLAN_MAX_MEMORY ? "--window TIME"
                                           : "--downtime TIME");
        return CLI_USAGE;
    }
    sim_plan_query_defaults(&q, k);
    q.target_s = o->target_s;
    q.percentile = o->percentile;
    q.check_exact = !o->no_exact;
    rc = sim_plan_solve(mc, &o->mc, &q, &a, err, sizeof(err));
    if (rc) {
        cli_error(CMD, "%s", err);
        return rc == MIG_EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    if (o->json) {
        struct json_object *jo = json_object_new_object();

        sim_json_put_str(jo, "question", sim_plan_kind_name(k));
        sim_json_put_str(jo, "scenario", mc->sc.name ? mc->sc.name : "");
        sim_json_put_num(jo, "target_s", q.target_s);
        sim_json_put_num(jo, "percentile", q.percentile);
        json_object_object_add(jo, "draws", json_object_new_int64(
            (int64_t)(sim_mc_uncertain(mc) ? o->mc.draws : 1)));
        json_object_object_add(jo, "found", json_object_new_boolean(a.found));
        json_object_object_add(jo, "at_bound",
                               json_object_new_boolean(a.at_bound));
        if (a.found)
            sim_json_put_num(jo, value_unit(k), a.value);
        else
            json_object_object_add(jo, value_unit(k), NULL);
        sim_json_put_num(jo, "metric_s", a.metric);
        if (a.found && !a.at_bound) {
            sim_json_put_num(jo, "other_value", a.other);
            sim_json_put_num(jo, "other_metric_s", a.other_metric);
        }
        json_object_object_add(jo, "steps", json_object_new_int((int)a.steps));
        sim_json_put_num(jo, "rel_tol", q.rel_tol);
        if (a.exact_checked) {
            sim_json_put_num(jo, "exact_metric_s", a.exact_metric);
            json_object_object_add(jo, "exact_ok",
                                   json_object_new_boolean(a.exact_ok));
        }
        if (!a.found)
            sim_json_put_str(jo, "why", a.why);
        print_json(jo);
        json_object_put(jo);
    } else if (o->csv) {
        fprintf(o->out, "question,found,at_bound,value,metric_s,exact_metric_s,"
               "exact_ok,steps\n%s,%d,%d,", sim_plan_kind_name(k), a.found,
               a.at_bound);
        csv_num(a.found ? a.value : NAN, ",");
        csv_num(a.metric, ",");
        csv_num(a.exact_checked ? a.exact_metric : NAN, ",");
        fprintf(o->out, "%s,%u\n", a.exact_checked ? (a.exact_ok ? "1" : "0") : "",
               a.steps);
    } else {
        const char *what = k == SIM_PLAN_MAX_MEMORY ? "total time"
                                                    : "downtime";

        fprintf(o->out, "%s: p%g %s %s %s%s%s\n", sim_plan_kind_name(k),
               q.percentile, what,
               k == SIM_PLAN_MAX_MEMORY ? "within" : "<=",
               sim_format_time(t, sizeof(t), q.target_s),
               mc->sc.name ? ", scenario " : "",
               mc->sc.name ? mc->sc.name : "");
        if (sim_mc_uncertain(mc))
            fprintf(o->out, "  %zu Monte Carlo draws per step, seed %llu, common "
                   "random numbers\n", o->mc.draws,
                   (unsigned long long)o->mc.seed);
        else
            fprintf(o->out, "  one analytic prediction per step (no distributions)\n");
        if (!a.found) {
            fprintf(o->out, "  no answer: %s\n", a.why);
            return CLI_FAILED;
        }
        fprintf(o->out, "  answer     %s (p%g %s %s)%s\n",
               fmt_value(v, sizeof(v), k, a.value), q.percentile, what,
               fmt_time(m, sizeof(m), a.metric),
               a.at_bound ? "  [met at the end of the search bracket]" : "");
        if (!a.at_bound)
            fprintf(o->out, "  boundary   %s misses it (%s); %u steps, tolerance "
                   "%g\n", fmt_value(v, sizeof(v), k, a.other),
                   fmt_time(m, sizeof(m), a.other_metric), a.steps,
                   q.rel_tol);
        if (a.exact_checked && a.exact_ok)
            fprintf(o->out, "  exact      page-exact engine: %s, meets the target\n",
                   fmt_time(m, sizeof(m), a.exact_metric));
        else if (a.exact_checked)
            fprintf(o->out, "  exact      page-exact engine: %s, misses the target by "
                   "%.2g%%\n", fmt_time(m, sizeof(m), a.exact_metric),
                   100 * (a.exact_metric / q.target_s - 1));
    }
    if (o->svg && a.found)
        return sweep_svg(o, mc, &q, &a);
    return a.found ? CLI_OK : CLI_FAILED;
}

/* ---- evacuate ----------------------------------------------------------- */

static int gantt_svg(const char *path, const struct sim_fleet *f,
                     const struct sim_evac_plan *p)
{
    struct sim_plot_bar *bars = calloc(p->n ? p->n : 1, sizeof(*bars));
    char (*groups)[140] = calloc(p->n ? p->n : 1, sizeof(*groups));
    char title[160];
    FILE *out;
    int rc;

    if (!bars || !groups) {
        free(bars);
        free(groups);
        cli_error(CMD, "out of memory");
        return CLI_FAILED;
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct sim_evac_vm *v = &p->vms[i];

        snprintf(groups[i], sizeof(groups[i]), "%s-%s",
                 f->hosts[v->src].name, f->hosts[v->dst].name);
        bars[i] = (struct sim_plot_bar){ f->vms[v->vm].name, v->start_s,
                                         v->end_s, groups[i] };
    }
    snprintf(title, sizeof(title), "Evacuation plan (%s): makespan %.2f s",
             sim_fleet_order_name(p->order), p->makespan_s);
    rc = open_svg(path, &out);
    if (!rc)
        rc = close_svg(path, out, sim_plot_gantt(out, title, "time (s)",
                                                 bars, p->n));
    free(bars);
    free(groups);
    return rc;
}

static void print_plan(const struct plan_opts *o, const struct sim_fleet *f,
                       const struct sim_evac_plan *best,
                       const struct sim_evac_plan *plans, size_t nplans)
{
    char a[32], b[32], c[32], d[32], e[32];

    if (o->json) {
        struct json_object *jo = json_object_new_object(), *arr, *cmp, *lk;

        sim_json_put_str(jo, "order", sim_fleet_order_name(best->order));
        sim_json_put_num(jo, "makespan_s", best->makespan_s);
        json_object_object_add(jo, "concurrency",
                               json_object_new_int((int)o->concurrency));
        cmp = json_object_new_object();
        for (size_t i = 0; i < nplans; i++)
            sim_json_put_num(cmp, sim_fleet_order_name(plans[i].order),
                    plans[i].makespan_s);
        json_object_object_add(jo, "makespan_by_order_s", cmp);
        arr = json_object_new_array();
        for (size_t i = 0; i < best->n; i++) {
            const struct sim_evac_vm *v = &best->vms[i];
            struct json_object *x = json_object_new_object();

            sim_json_put_str(x, "vm", f->vms[v->vm].name);
            sim_json_put_str(x, "from", f->hosts[v->src].name);
            sim_json_put_str(x, "to", f->hosts[v->dst].name);
            sim_json_put_num(x, "start_s", v->start_s);
            sim_json_put_num(x, "end_s", v->end_s);
            sim_json_put_num(x, "total_time_s", v->end_s - v->start_s);
            sim_json_put_num(x, "downtime_s", v->downtime_s);
            sim_json_put_num(x, "bytes", v->bytes);
            sim_json_put_str(x, "outcome", sim_outcome_name(v->outcome));
            json_object_object_add(x, "predictions",
                                   json_object_new_int((int)v->predictions));
            json_object_array_add(arr, x);
        }
        json_object_object_add(jo, "vms", arr);
        arr = json_object_new_array();
        for (size_t l = 0; l < f->nlinks; l++) {
            lk = json_object_new_object();
            sim_json_put_str(lk, "a", f->hosts[f->links[l].a].name);
            sim_json_put_str(lk, "b", f->hosts[f->links[l].b].name);
            sim_json_put_num(lk, "bytes", best->link_bytes[l]);
            json_object_array_add(arr, lk);
        }
        json_object_object_add(jo, "links", arr);
        print_json(jo);
        json_object_put(jo);
        return;
    }
    if (o->csv) {
        fprintf(o->out, "vm,from,to,start_s,end_s,total_time_s,downtime_s,bytes,"
               "outcome\n");
        for (size_t i = 0; i < best->n; i++) {
            const struct sim_evac_vm *v = &best->vms[i];

            fprintf(o->out, "%s,%s,%s,%.9g,%.9g,%.9g,%.9g,%.0f,%s\n",
                   f->vms[v->vm].name, f->hosts[v->src].name,
                   f->hosts[v->dst].name, v->start_s, v->end_s,
                   v->end_s - v->start_s, v->downtime_s, v->bytes,
                   sim_outcome_name(v->outcome));
        }
        return;
    }
    fprintf(o->out, "evacuation of");
    for (size_t i = 0; i < o->ndrain; i++)
        fprintf(o->out, " %s", o->drain[i]);
    fprintf(o->out, ": %zu VMs, concurrency %u\n", best->n, o->concurrency);
    for (size_t i = 0; i < nplans; i++)
        fprintf(o->out, "  %-22s makespan %s%s\n",
               sim_fleet_order_name(plans[i].order),
               sim_format_time(a, sizeof(a), plans[i].makespan_s),
               &plans[i] == best ? "  <- better" : "");
    fprintf(o->out, "\n  %-16s %-10s %-10s %10s %10s %10s %10s %11s\n", "vm", "from",
           "to", "start", "end", "total", "downtime", "bytes");
    for (size_t i = 0; i < best->n; i++) {
        const struct sim_evac_vm *v = &best->vms[i];

        fprintf(o->out, "  %-16s %-10s %-10s %10s %10s %10s %10s %11s%s\n",
               f->vms[v->vm].name, f->hosts[v->src].name,
               f->hosts[v->dst].name,
               sim_format_time(a, sizeof(a), v->start_s),
               sim_format_time(b, sizeof(b), v->end_s),
               sim_format_time(c, sizeof(c), v->end_s - v->start_s),
               v->outcome == SIM_OUTCOME_COMPLETED
                   ? sim_format_time(d, sizeof(d), v->downtime_s) : "-",
               sim_format_size(e, sizeof(e), v->bytes),
               v->outcome == SIM_OUTCOME_COMPLETED ? ""
                   : v->outcome == SIM_OUTCOME_ABORTED ? "  aborted"
                                                       : "  unfinished");
    }
    fprintf(o->out, "\n  bytes per link\n");
    for (size_t l = 0; l < f->nlinks; l++)
        if (best->link_bytes[l] > 0)
            fprintf(o->out, "    %s - %s  %s\n", f->hosts[f->links[l].a].name,
                   f->hosts[f->links[l].b].name,
                   sim_format_size(a, sizeof(a), best->link_bytes[l]));
}

static int run_evacuate(const struct plan_opts *o)
{
    static const enum sim_fleet_order orders[] = {
        SIM_ORDER_SMALLEST_DIRTY, SIM_ORDER_LARGEST_FIRST,
    };
    struct sim_evac_plan plans[2];
    struct sim_fleet *f = NULL;
    const struct sim_evac_plan *best = NULL;
    char err[400];
    int rc, status = CLI_OK;

    if (!o->inventory) {
        cli_error(CMD, "evacuate needs an INVENTORY file");
        return CLI_USAGE;
    }
    if (!o->ndrain) {
        cli_error(CMD, "evacuate needs --drain HOST[,HOST...]");
        return CLI_USAGE;
    }
    rc = sim_fleet_load(o->inventory, &f, err, sizeof(err));
    if (rc) {
        cli_error(CMD, "%s", err);
        return rc == MIG_ENOMEM ? CLI_FAILED : CLI_USAGE;
    }
    for (size_t i = 0; i < 2; i++)
        sim_evac_plan_init(&plans[i]);
    for (size_t i = 0; i < 2; i++) {
        struct sim_evac_opts eo = { o->concurrency, orders[i] };

        rc = sim_fleet_evacuate(f, o->drain, o->ndrain, &eo, &plans[i], err,
                                sizeof(err));
        if (rc) {
            cli_error(CMD, "%s: %s", o->inventory, err);
            status = rc == MIG_EINVAL ? CLI_USAGE : CLI_FAILED;
            goto out;
        }
        /* Strictly better only: ties keep the first ordering. */
        if (!best || plans[i].makespan_s < best->makespan_s)
            best = &plans[i];
    }
    print_plan(o, f, best, plans, 2);
    if (o->svg)
        status = gantt_svg(o->svg, f, best);
out:
    for (size_t i = 0; i < 2; i++)
        sim_evac_plan_clear(&plans[i]);
    sim_fleet_free(f);
    return status;
}

/* ---- HTML page ---------------------------------------------------------- */

/*
 * The page of --html: the table as printed, then the chart inline (the SVG
 * file's text, minus nothing: SVG is valid inside HTML5).
 */
static int write_html(const char *path, const char *sub, const char *text,
                      const char *svg_path)
{
    FILE *f = fopen(path, "w");
    FILE *svg = svg_path ? fopen(svg_path, "r") : NULL;
    char buf[4096];
    size_t n;
    int bad;

    if (!f) {
        if (svg)
            fclose(svg);
        cli_error(CMD, "--html: cannot write '%s'", path);
        return CLI_USAGE;
    }
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>miglab plan %s</title>\n<style>body{font-family:"
               "sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;"
               "overflow-x:auto}</style></head>\n<body><h1>miglab plan %s"
               "</h1>\n<pre>", sub, sub);
    sim_plot_escape(f, text);
    fputs("</pre>\n", f);
    while (svg && (n = fread(buf, 1, sizeof(buf), svg)) > 0)
        fwrite(buf, 1, n, f);
    fputs("\n</body></html>\n", f);
    bad = ferror(f) | (svg && ferror(svg));
    if (svg)
        fclose(svg);
    if (fclose(f) || bad) {
        cli_error(CMD, "--html: error writing '%s'", path);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* Run one question, its table going to stdout and, with --html, to a page
 * that also holds the chart (drawn to a temporary file unless --svg). */
static int run_question(struct plan_opts *o, size_t s, struct sim_mc *mc)
{
    char tmp_svg[] = "/tmp/miglab-plan-XXXXXX";
    char *text = NULL;
    size_t len = 0;
    int fd, status;

    if (!o->html) {
        o->out = stdout;
        return s == 0 ? run_percentiles(o, mc)
             : s == 4 ? run_evacuate(o)
                      : run_inverse(o, mc, (enum sim_plan_kind)(s - 1));
    }
    if (o->json || o->csv) {
        cli_error(CMD, "--html goes with the table output, not --json/--csv");
        return CLI_USAGE;
    }
    if (!o->svg) {
        fd = mkstemp(tmp_svg);
        if (fd < 0) {
            cli_error(CMD, "--html: cannot create a temporary file");
            return CLI_FAILED;
        }
        close(fd);
        o->svg = tmp_svg;
    }
    o->out = open_memstream(&text, &len);
    if (!o->out) {
        status = CLI_FAILED;
        goto out;
    }
    status = s == 0 ? run_percentiles(o, mc)
           : s == 4 ? run_evacuate(o)
                    : run_inverse(o, mc, (enum sim_plan_kind)(s - 1));
    fclose(o->out);
    o->out = stdout;
    fwrite(text, 1, len, stdout);
    if (status == CLI_OK || status == CLI_FAILED) {
        int rc = write_html(o->html, o->sub, text, o->svg);

        if (rc)
            status = rc;
    }
out:
    free(text);
    if (o->svg == tmp_svg)
        unlink(tmp_svg);
    return status;
}

/* ---- entry -------------------------------------------------------------- */

int cmd_plan(int argc, char **argv)
{
    struct plan_opts o = { .target_s = -1, .percentile = 99,
                           .concurrency = 4 };
    struct sim_mc mc;
    char err[400];
    size_t s;
    int rc, status = CLI_OK;

    if (argc < 2) {
        cli_error(CMD, "missing question (percentiles, min-bandwidth, "
                  "max-dirty-rate, max-memory, evacuate; see --help)");
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help(NULL);
        return CLI_OK;
    }
    for (s = 0; s < sizeof(subs) / sizeof(subs[0]); s++)
        if (!strcmp(argv[1], subs[s]))
            break;
    if (s == sizeof(subs) / sizeof(subs[0])) {
        cli_error(CMD, "unknown question '%s' (percentiles, min-bandwidth, "
                  "max-dirty-rate, max-memory, evacuate)", argv[1]);
        return CLI_USAGE;
    }
    o.sub = subs[s];
    sim_mc_opts_defaults(&o.mc);
    o.mc.draws = 10000;
    argc--;
    argv++;
    rc = walk_args(argc, argv, &o, NULL);
    if (rc || o.help) {
        if (!rc)
            help(o.sub);
        free(o.drain_buf);
        return rc ? rc : CLI_OK;
    }
    if (s == 4) {
        status = run_question(&o, s, NULL);
        free(o.drain_buf);
        return status;
    }
    sim_mc_init(&mc);
    if (o.scenario) {
        rc = sim_mc_load(&mc, o.scenario, err, sizeof(err));
        if (rc) {
            cli_error(CMD, "%s", err);
            status = rc == MIG_ENOMEM ? CLI_FAILED : CLI_USAGE;
            goto out;
        }
    }
    rc = walk_args(argc, argv, &o, &mc);
    if (rc) {
        status = rc;
        goto out;
    }
    if (sim_scenario_validate(&mc.sc, err, sizeof(err))) {
        cli_error(CMD, "%s", err);
        status = CLI_USAGE;
        goto out;
    }
    if (!o.seed_set)
        o.mc.seed = mc.sc.cfg.seed;
    if (o.json && o.csv) {
        cli_error(CMD, "--json and --csv exclude each other");
        status = CLI_USAGE;
        goto out;
    }
    status = run_question(&o, s, &mc);
out:
    sim_mc_free(&mc);
    free(o.drain_buf);
    return status;
}
