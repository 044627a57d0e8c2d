/* SPDX-License-Identifier: MIT */
/*
 * bench.c - `make bench`: performance figures of the simulator, printed,
 * never asserted.  Targets come from the issues and are printed beside the
 * measured figure so a regression is visible at a glance:
 *   - analytic predictions per second on one core (target >= 1,000,000/s);
 *   - page-exact run of a 16 GiB guest, uniform 100 MB/s, 10 Gbit/s
 *     (target < 1 s);
 *   - peak resident memory;
 *   - Monte Carlo draws per second on 2 threads, analytic engine, uniform
 *     workload (target >= 1,000,000/s), sorting and statistics included;
 *   - the time to plan a 1,000-VM evacuation (both orderings).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "engine.h"
#include "fleet.h"
#include "mc.h"
#include "workload.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sim_workload *workload(const char *spec)
{
    struct sim_workload *wl = NULL;
    char err[256];

    if (sim_workload_parse(spec, NULL, &wl, err, sizeof(err))) {
        fprintf(stderr, "miglab-bench: %s: %s\n", spec, err);
        exit(1);
    }
    return wl;
}

/* Runs per second of the analytic engine on cfg, over at least 1 s. */
static double analytic_rate(struct sim_config *cfg, unsigned *passes)
{
    struct sim_result r;
    unsigned long runs = 0;
    double t0 = now(), t;

    sim_result_init(&r);
    do {
        for (int i = 0; i < 10000; i++) {
            /* Vary the memory so nothing can be hoisted out of the loop. */
            cfg->mem_bytes = (1ULL << 30) + ((runs + (unsigned)i) % 64) * 4096;
            if (sim_run(cfg, &r)) {
                fprintf(stderr, "miglab-bench: sim_run failed\n");
                exit(1);
            }
        }
        runs += 10000;
        t = now() - t0;
    } while (t < 1.0);
    *passes = r.live_passes;
    sim_result_clear(&r);
    return (double)runs / t;
}

/* ---- capacity planning (sim/mc.h, sim/fleet.h) ---------------------- */

static void bench_mc(void)
{
    static const char *const keys[][3] = {
        { "guest", "memory", "1G" },
        { "guest", "workload", "uniform:rate=uniform(100MB/s,300MB/s)" },
        { "network", "bandwidth", "uniform(1Gbit,10Gbit)" },
        { "network", "rtt", "normal(0.5ms,0.2ms)" },
    };
    struct sim_mc mc;
    struct sim_mc_opts o;
    struct sim_mc_result r;
    unsigned long draws = 0;
    char err[400];
    double t0, t;

    sim_mc_init(&mc);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (sim_mc_set(&mc, keys[i][0], keys[i][1], keys[i][2], err,
                       sizeof(err))) {
            fprintf(stderr, "miglab-bench: %s\n", err);
            exit(1);
        }
    sim_mc_opts_defaults(&o);
    o.draws = 1000000;
    o.threads = 2;
    sim_mc_result_init(&r);
    t0 = now();
    do {
        if (sim_mc_run(&mc, &o, &r, err, sizeof(err))) {
            fprintf(stderr, "miglab-bench: %s\n", err);
            exit(1);
        }
        draws += o.draws;
        o.seed++;
        t = now() - t0;
    } while (t < 1.0);
    printf("\nMonte Carlo, 2 threads, analytic engine, 1 GiB guest, "
           "uniform:rate=uniform(100MB/s,300MB/s),\n"
           "bandwidth uniform(1Gbit,10Gbit), rtt normal(0.5ms,0.2ms); "
           "%zu draws a run, sorting included:\n"
           "  %12.0f draws/s  (p99 downtime %.2f ms)  target >= 1,000,000: "
           "%s\n", o.draws, (double)draws / t, r.downtime.p99 * 1e3,
           (double)draws / t >= 1e6 ? "met" : "NOT met");
    sim_mc_result_clear(&r);
    sim_mc_free(&mc);
}

/* 1,000 VMs on 10 hosts, drained to 10 others over 100 links. */
static void bench_evacuation(void)
{
    static const char *const drain[] = { "s0", "s1", "s2", "s3", "s4",
                                         "s5", "s6", "s7", "s8", "s9" };
    static const char *const specs[] = {
        "idle", "uniform:rate=20MB/s", "hotcold:wss=256M,hot=0.9,rate=80MB/s",
        "seq:rate=10MB/s", "uniform:rate=5MB/s",
    };
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap), err[400];
    struct sim_fleet *f = NULL;
    struct sim_evac_plan p;
    FILE *in;
    double t0, t, best = INFINITY;

    if (!text)
        exit(1);
    for (int h = 0; h < 10; h++)
        len += (size_t)snprintf(text + len, cap - len,
                                "host s%d capacity=2T\nhost d%d "
                                "capacity=2T\n", h, h);
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++)
            len += (size_t)snprintf(text + len, cap - len,
                                    "link s%d d%d bandwidth=%s rtt=0.3ms\n",
                                    a, b, (a + b) % 3 ? "10Gbit" : "25Gbit");
    for (int v = 0; v < 1000; v++)
        len += (size_t)snprintf(text + len, cap - len,
                                "vm vm%d host=s%d memory=%dG workload=%s\n",
                                v, v % 10, 2 + v % 15, specs[v % 5]);
    in = fmemopen(text, len, "r");
    if (!in || sim_fleet_read(in, "bench", NULL, &f, err, sizeof(err))) {
        fprintf(stderr, "miglab-bench: inventory: %s\n", err);
        exit(1);
    }
    fclose(in);
    sim_evac_plan_init(&p);
    t0 = now();
    for (int o = SIM_ORDER_SMALLEST_DIRTY; o <= SIM_ORDER_LARGEST_FIRST;
         o++) {
        struct sim_evac_opts eo = { 16, (enum sim_fleet_order)o };

        if (sim_fleet_evacuate(f, drain, 10, &eo, &p, err, sizeof(err))) {
            fprintf(stderr, "miglab-bench: evacuate: %s\n", err);
            exit(1);
        }
        best = p.makespan_s < best ? p.makespan_s : best;
    }
    t = now() - t0;
    printf("\nevacuation plan, 1,000 VMs on 10 hosts -> 10 hosts, 100 links, "
           "concurrency 16:\n"
           "  %.3f s wall for both orderings (%.3f s each), makespan %.1f s\n",
           t, t / 2, best);
    sim_evac_plan_clear(&p);
    sim_fleet_free(f);
    free(text);
}

int main(void)
{
    static const char *const specs[] = {
        "idle", "uniform:rate=200MB/s", "hotcold:wss=128M,hot=0.9,rate=1GB/s",
        "zipf:s=1.1,rate=300MB/s", "phased:uniform:rate=100MB/s@5s;idle@5s",
    };
    struct sim_config cfg;
    struct sim_result r;
    struct sim_workload *wl;
    struct rusage ru;
    double t0, t;

    printf("miglab bench (one core; figures, not assertions)\n\n");
    printf("analytic engine, 1 GiB guest, 1 Gbit/s, xen policy:\n");
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        unsigned passes;
        double rate;

        sim_config_defaults(&cfg);
        wl = workload(specs[i]);
        cfg.workload = wl;
        rate = analytic_rate(&cfg, &passes);
        printf("  %-42s %12.0f predictions/s  (%u live passes)%s\n",
               specs[i], rate, passes,
               i == 1 ? (rate >= 1e6 ? "  target >= 1,000,000: met"
                                     : "  target >= 1,000,000: NOT met")
                      : "");
        sim_workload_free(wl);
    }

    printf("\npage-exact engine, 16 GiB guest, uniform 100 MB/s, 10 Gbit/s:\n");
    sim_config_defaults(&cfg);
    wl = workload("uniform:rate=100MB/s");
    cfg.workload = wl;
    cfg.mem_bytes = 16ULL << 30;
    cfg.link.bandwidth_bps = 10e9;
    cfg.link.window_bytes = 0;
    cfg.engine = SIM_ENGINE_EXACT;
    sim_result_init(&r);
    t0 = now();
    if (sim_run(&cfg, &r)) {
        fprintf(stderr, "miglab-bench: exact run failed\n");
        return 1;
    }
    t = now() - t0;
    printf("  %.3f s wall for %.2f s simulated, %u live passes, %llu pages "
           "sent  target < 1 s: %s\n", t, r.total_time_s, r.live_passes,
           (unsigned long long)r.pages_sent, t < 1.0 ? "met" : "NOT met");
    sim_result_clear(&r);
    sim_workload_free(wl);

    bench_mc();
    bench_evacuation();

    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak resident memory: %.1f MiB\n", (double)ru.ru_maxrss / 1024);
    return 0;
}
