/* SPDX-License-Identifier: MIT */
/*
 * bench.c - `make bench`: performance figures of the simulator, printed,
 * never asserted.  Targets come from the issues and are printed beside the
 * measured figure so a regression is visible at a glance:
 *   - analytic predictions per second on one core (target >= 1,000,000/s);
 *   - page-exact run of a 16 GiB guest, uniform 100 MB/s, 10 Gbit/s
 *     (target < 1 s);
 *   - peak resident memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "engine.h"
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

    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak resident memory: %.1f MiB\n", (double)ru.ru_maxrss / 1024);
    return 0;
}
