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
 *   - the time to plan a 1,000-VM evacuation (both orderings);
 *   - live migration of an idle 2 GiB emulated guest over loopback TCP
 *     (ref/sender.c, ref/receiver.c) against a plain send/recv loop of the
 *     same byte count on the same transport (target ratio >= 0.9).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <string.h>

#include "engine.h"
#include "fleet.h"
#include "mc.h"
#include "guest_emu.h"
#include "migrate.h"
#include "receiver.h"
#include "sender.h"
#include "transport.h"
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

/* ---- reference migration vs raw TCP ------------------------------------ */

#define MIG_BENCH_MEM   (2ULL << 30)
#define RAW_CHUNK       (8U << 20)

struct bench_rx {
    int lfd;
    uint64_t raw_bytes;         /* raw: bytes to read; 0 = migration */
    int rc;
    double t_done;
};

static void *bench_rx_main(void *arg)
{
    struct bench_rx *x = arg;
    struct mig_chan *ch = NULL;

    x->rc = mig_chan_tcp_accept(x->lfd, 30000, NULL, &ch);
    if (x->rc)
        return NULL;
    if (x->raw_bytes) {
        uint8_t *buf = malloc(RAW_CHUNK);
        uint64_t left = x->raw_bytes;

        while (buf && left && !x->rc) {
            size_t got = 0;

            x->rc = mig_chan_recv(ch, buf, RAW_CHUNK, &got);
            if (!x->rc && got == 0)
                x->rc = MIG_EINCOMPLETE;
            left -= got < left ? got : left;
        }
        x->t_done = now();
        if (!x->rc)
            x->rc = mig_chan_send(ch, "k", 1);
        free(buf);
    } else {
        struct mig_recv_opts o = { .create = mig_guest_emu_create };
        struct mig_recv_info info;
        struct mig_guest *g = NULL;

        x->rc = mig_receive(ch, &o, &g, &info);
        mig_guest_free(g);
    }
    mig_chan_free(ch);
    return NULL;
}

/* One run over a fresh loopback connection: a migration of g (raw == 0)
 * or raw bytes of plain send/recv.  Returns the seconds from the first
 * byte to completion, or a negative value on failure. */
static double bench_once(struct mig_guest *g, uint64_t raw,
                         struct mig_run *run)
{
    struct bench_rx x = { .raw_bytes = raw };
    struct mig_chan *ch = NULL;
    uint16_t port;
    pthread_t th;
    double t0, t = -1;
    int rc;

    if (mig_tcp_listen("127.0.0.1", 0, 1, &x.lfd, &port))
        return -1;
    if (pthread_create(&th, NULL, bench_rx_main, &x)) {
        close(x.lfd);
        return -1;
    }
    rc = mig_chan_tcp_connect("127.0.0.1", port, 10000, NULL, &ch);
    t0 = now();
    if (!rc && raw) {
        uint8_t *buf = calloc(1, RAW_CHUNK);
        uint64_t left = raw;
        char k;

        rc = buf ? 0 : MIG_ENOMEM;
        while (!rc && left) {
            struct iovec v = { .iov_base = buf,
                               .iov_len = left < RAW_CHUNK ? (size_t)left
                                                           : RAW_CHUNK };

            /* The transport's gather path, as the migration's PAGE_DATA
             * uses it: one 8 MiB sendmsg at a time. */
            rc = mig_chan_sendv(ch, &v, 1);
            left -= v.iov_len;
        }
        if (!rc)
            rc = mig_chan_recv_full(ch, &k, 1);
        t = now() - t0;
        free(buf);
    } else if (!rc) {
        struct mig_send_opts o;

        mig_send_opts_defaults(&o);
        o.verify = false;
        rc = mig_send(g, ch, &o, run);
        t = now() - t0;
        /* The guest now "runs" at the destination: resume ours for the
         * next round, as if it had come back. */
        g->ops->resume(g);
    }
    mig_chan_free(ch);
    pthread_join(th, NULL);
    close(x.lfd);
    return rc || x.rc ? -1 : t;
}

static void bench_migration(void)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = MIG_BENCH_MEM, .vcpus = 1,
                                     .workload = "idle" };
    struct mig_guest *g;
    double best_mig = 1e9, best_raw = 1e9, tbps = 0;
    uint64_t bytes = 0;
    char err[256];

    printf("\nlive migration, idle 2 GiB emulated guest, loopback TCP "
           "(best of 5, runs alternating):\n");
    if (mig_guest_emu_new(&cfg, &g, err, sizeof(err)) || g->ops->start(g)) {
        printf("  cannot create the guest: %s\n", err);
        return;
    }
    /* Alternate the two kinds of run, so a burst of load elsewhere on the
     * machine hits both alike. */
    for (int i = 0; i < 5; i++) {
        struct mig_run run;
        double t;

        mig_run_init(&run);
        t = bench_once(g, 0, &run);
        if (t < 0) {
            printf("  migration failed: %s\n", run.msg);
            mig_run_clear(&run);
            goto out_free;
        }
        if (t < best_mig) {
            best_mig = t;
            tbps = run.result.transfer_Bps;
        }
        bytes = run.result.bytes_sent;
        mig_run_clear(&run);
        t = bench_once(NULL, bytes, NULL);
        if (t < 0) {
            printf("  raw TCP run failed\n");
            goto out_free;
        }
        if (t < best_raw)
            best_raw = t;
    }
    printf("  migration  %.3f s for %.1f MiB: %7.0f MB/s end to end "
           "(page passes %.0f MB/s)\n", best_mig, (double)bytes / 1048576,
           (double)bytes / best_mig / 1e6, tbps / 1e6);
    printf("  raw TCP    %.3f s for the same bytes: %7.0f MB/s\n", best_raw,
           (double)bytes / best_raw / 1e6);
    printf("  ratio      %.2f  target >= 0.9: %s\n", best_raw / best_mig,
           best_raw / best_mig >= 0.9 ? "met" : "NOT met");
    printf("  (no integrity hashes, as against xl; an idle guest's pages "
           "are all zero,\n   which the destination does not store: "
           "a busy guest pays a page fault each)\n");
out_free:
    mig_guest_free(g);
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
    /* Last: its 2 GiB destination guest would swamp the figure above. */
    bench_migration();
    return 0;
}
