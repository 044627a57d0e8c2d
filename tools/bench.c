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
 *     against raw TCP (target: raw time / migration time >= 0.9).
 *
 * Migration against raw TCP, what each side does.  Both run in this process:
 * the sender in the main thread, the receiver in a new thread, over a fresh
 * loopback connection made by mig_chan_tcp_connect()/mig_chan_tcp_accept()
 * with no options, so both get the transport's socket set-up (TCP_NODELAY
 * on, TCP_NOTSENT_LOWAT, kernel buffer sizes).
 *   migration  mig_send() (live, xen policy, no integrity hashes) of an idle
 *              guest whose memory was never written, to mig_receive()
 *              creating an emulated guest: the xl handshake, the xl/libxl/
 *              libxc stream with PAGE_DATA records of up to 1024 pages sent
 *              by gather writes (mig_chan_sendv), read MIG_RECV_BUF bytes at
 *              a time, decoded and written to the guest (zero pages
 *              skipped), then "ready", GO and the report.
 *   raw TCP    the same number of bytes as the migration's stream, sent by
 *              mig_chan_sendv() in 4 MiB pieces (one record's pages) from an
 *              anonymous mapping never written (the guest's memory reads the
 *              same zero page), read by mig_chan_recv() into a MIG_RECV_BUF
 *              buffer and dropped; then one byte back.
 * The figure compared is each side's receiver's clock from the first byte
 * of the stream in hand to the last: for the migration, the decoder done
 * with the last record (the stream is in the guest); for raw TCP, the
 * last recv() returned.  The handshakes around the stream are not in it
 * (the migration's end-to-end time is printed beside).  One migration runs
 * first, unmeasured: it sizes the raw runs and maps the source guest's
 * pages.  Then MIG_BENCH_RUNS of each, alternating which goes first; the
 * best of each is compared (met / NOT met).  Printed beside: the medians,
 * the median ratio of back-to-back pairs (load from elsewhere on the
 * machine hits both runs of a pair alike), every run, and each side's
 * least thread CPU time (softirq work done for it by the kernel is not in
 * it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
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
#include "stream.h"
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
#define MIG_BENCH_RUNS  7
/* The raw sender's piece per sendv: a full PAGE_DATA record's page bytes. */
#define RAW_PIECE       ((size_t)MIG_MAX_BATCH * MIG_PAGE_SIZE)

/* One receiving thread: a migration (raw_bytes == 0) or raw bytes.  The
 * clock readings are the receiver's: first byte and last byte in hand. */
struct bench_rx {
    int lfd;
    uint64_t raw_bytes;         /* raw: bytes to read; 0 = migration */
    int rc;
    double t_first, t_last;     /* s, on one clock */
    uint64_t stream_bytes;      /* migration: bytes of the stream */
    double cpu_s;               /* this thread's CPU time for the run */
};

/* CPU seconds of the calling thread (softirq work done in its context
 * included, as the kernel accounts it). */
static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Raw receiver: read x->raw_bytes into one MIG_RECV_BUF buffer, as the
 * migration's receiver reads, then answer one byte. */
static int raw_receive(struct bench_rx *x, struct mig_chan *ch)
{
    uint8_t *buf = malloc(MIG_RECV_BUF);
    uint64_t left = x->raw_bytes;
    int rc = buf ? 0 : MIG_ENOMEM;

    while (!rc && left) {
        size_t got = 0;

        rc = mig_chan_recv(ch, buf, MIG_RECV_BUF, &got);
        if (!rc && got == 0)
            rc = MIG_EINCOMPLETE;
        if (!rc && left == x->raw_bytes)
            x->t_first = now();
        left -= got < left ? got : left;
    }
    x->t_last = now();
    if (!rc)
        rc = mig_chan_send(ch, "k", 1);
    free(buf);
    return rc;
}

static void *bench_rx_main(void *arg)
{
    struct bench_rx *x = arg;
    struct mig_chan *ch = NULL;

    double c0;

    x->rc = mig_chan_tcp_accept(x->lfd, 30000, NULL, &ch);
    if (x->rc)
        return NULL;
    c0 = thread_cpu();
    if (x->raw_bytes) {
        x->rc = raw_receive(x, ch);
    } else {
        struct mig_recv_opts o = { .create = mig_guest_emu_create };
        struct mig_recv_info info;
        struct mig_guest *g = NULL;

        x->rc = mig_receive(ch, &o, &g, &info);
        x->t_first = info.first_byte_s;
        x->t_last = info.stream_s;
        x->stream_bytes = info.stream_bytes;
        mig_guest_free(g);
    }
    x->cpu_s = thread_cpu() - c0;
    mig_chan_free(ch);
    return NULL;
}

/* Raw sender: bytes from src (RAW_PIECE bytes), one RAW_PIECE per gather
 * write (the transport's path for a PAGE_DATA record), then wait for the
 * answer. */
static int raw_send(struct mig_chan *ch, const uint8_t *src, uint64_t bytes)
{
    uint64_t left = bytes;
    char k;
    int rc = 0;

    while (!rc && left) {
        struct iovec v = { .iov_base = (void *)src,
                           .iov_len = left < RAW_PIECE ? (size_t)left
                                                       : RAW_PIECE };

        rc = mig_chan_sendv(ch, &v, 1);
        left -= v.iov_len;
    }
    if (!rc)
        rc = mig_chan_recv_full(ch, &k, 1);
    return rc;
}

struct bench_time {
    double wire_s;              /* receiver: first byte -> last byte */
    double total_s;             /* sender: connected -> done */
    double snd_cpu_s, rcv_cpu_s;    /* CPU time of each side's thread */
    uint64_t bytes;             /* bytes between first and last */
};

/* One run over a fresh loopback connection with the transport's defaults
 * on both ends: a migration of g (raw == 0) or raw bytes from src.  0 or
 * -1. */
static int bench_once(struct mig_guest *g, const uint8_t *src, uint64_t raw,
                      struct mig_run *run, struct bench_time *bt)
{
    struct bench_rx x = { .raw_bytes = raw };
    struct mig_chan *ch = NULL;
    uint16_t port;
    pthread_t th;
    double t0, c0;
    int rc;

    if (mig_tcp_listen("127.0.0.1", 0, 1, &x.lfd, &port))
        return -1;
    if (pthread_create(&th, NULL, bench_rx_main, &x)) {
        close(x.lfd);
        return -1;
    }
    rc = mig_chan_tcp_connect("127.0.0.1", port, 10000, NULL, &ch);
    t0 = now();
    c0 = thread_cpu();
    if (!rc && raw) {
        rc = raw_send(ch, src, raw);
    } else if (!rc) {
        struct mig_send_opts o;

        mig_send_opts_defaults(&o);
        o.verify = false;
        rc = mig_send(g, ch, &o, run);
        /* The guest now "runs" at the destination: resume ours for the
         * next round, as if it had come back. */
        g->ops->resume(g);
    }
    bt->total_s = now() - t0;
    bt->snd_cpu_s = thread_cpu() - c0;
    mig_chan_free(ch);
    pthread_join(th, NULL);
    close(x.lfd);
    bt->wire_s = x.t_last - x.t_first;
    bt->rcv_cpu_s = x.cpu_s;
    bt->bytes = raw ? raw : x.stream_bytes;
    return rc || x.rc ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The runs of one kind, each figure sorted on its own by finish(). */
struct bench_kind {
    const char *name;
    double wire[MIG_BENCH_RUNS];
    double snd_cpu[MIG_BENCH_RUNS], rcv_cpu[MIG_BENCH_RUNS];
};

static void kind_add(struct bench_kind *k, int i, const struct bench_time *bt)
{
    k->wire[i] = bt->wire_s;
    k->snd_cpu[i] = bt->snd_cpu_s;
    k->rcv_cpu[i] = bt->rcv_cpu_s;
}

static void kind_print(struct bench_kind *k, uint64_t bytes)
{
    qsort(k->wire, MIG_BENCH_RUNS, sizeof(double), cmp_double);
    qsort(k->snd_cpu, MIG_BENCH_RUNS, sizeof(double), cmp_double);
    qsort(k->rcv_cpu, MIG_BENCH_RUNS, sizeof(double), cmp_double);
    printf("  %-10s best %.3f s, median %.3f s: %5.0f MB/s; least CPU: "
           "sender %.3f s, receiver %.3f s\n   every run:", k->name,
           k->wire[0], k->wire[MIG_BENCH_RUNS / 2],
           (double)bytes / k->wire[0] / 1e6, k->snd_cpu[0], k->rcv_cpu[0]);
    for (int i = 0; i < MIG_BENCH_RUNS; i++)
        printf(" %.3f", k->wire[i]);
    printf(" s\n");
}

static void bench_migration(void)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = MIG_BENCH_MEM, .vcpus = 1,
                                     .workload = "idle" };
    struct bench_kind mig = { .name = "migration" }, raw = { .name = "raw TCP" };
    struct mig_guest *g;
    uint8_t *src;
    double ratio, best_total = 1e9, pair[MIG_BENCH_RUNS];
    uint64_t bytes = 0;
    char err[256];

    printf("\nlive migration, idle 2 GiB emulated guest, loopback TCP, "
           "against raw TCP\n(best and median of %d runs each, order "
           "alternating; both timed at the receiver,\nfirst byte to last "
           "byte):\n", MIG_BENCH_RUNS);
    /* The raw sender's bytes come from memory like the idle guest's: an
     * anonymous mapping never written, which reads as the zero page. */
    src = mmap(NULL, RAW_PIECE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    if (src == MAP_FAILED) {
        printf("  cannot map the raw sender's buffer\n");
        return;
    }
    if (mig_guest_emu_new(&cfg, &g, err, sizeof(err)) || g->ops->start(g)) {
        printf("  cannot create the guest: %s\n", err);
        munmap(src, RAW_PIECE);
        return;
    }
    /* One migration first: it sizes the raw runs (the stream's bytes) and
     * maps the source guest's pages, as a guest that ran would have them. */
    for (int i = -1; i < MIG_BENCH_RUNS; i++) {
        for (int k = 0; k < 2; k++) {
            bool do_mig = (k == 0) == (i % 2 == 0);
            struct bench_time bt;
            struct mig_run run;

            if (i < 0 && !do_mig)
                continue;
            mig_run_init(&run);
            if (bench_once(do_mig ? g : NULL, src, do_mig ? 0 : bytes, &run,
                           &bt)) {
                printf("  %s run failed%s%s\n", do_mig ? "migration"
                                                       : "raw TCP",
                       run.msg[0] ? ": " : "", run.msg);
                mig_run_clear(&run);
                goto out_free;
            }
            mig_run_clear(&run);
            if (do_mig && bytes && bt.bytes != bytes) {
                printf("  the stream changed size: %llu, then %llu bytes\n",
                       (unsigned long long)bytes,
                       (unsigned long long)bt.bytes);
                goto out_free;
            }
            if (do_mig)
                bytes = bt.bytes;
            if (i < 0)
                continue;
            kind_add(do_mig ? &mig : &raw, i, &bt);
            if (do_mig && bt.total_s < best_total)
                best_total = bt.total_s;
        }
        if (i >= 0)
            pair[i] = raw.wire[i] / mig.wire[i];
    }
    qsort(pair, MIG_BENCH_RUNS, sizeof(double), cmp_double);
    printf("  %.1f MiB each; the migration end to end (connected -> report "
           "received): best %.3f s\n", (double)bytes / 1048576, best_total);
    kind_print(&mig, bytes);
    kind_print(&raw, bytes);
    ratio = raw.wire[0] / mig.wire[0];
    printf("  ratio      %.2f (of the medians %.2f; median of the %d ratios of "
           "back-to-back\n             runs %.2f)  target >= 0.9: %s\n",
           ratio, raw.wire[MIG_BENCH_RUNS / 2] / mig.wire[MIG_BENCH_RUNS / 2],
           MIG_BENCH_RUNS, pair[MIG_BENCH_RUNS / 2],
           ratio >= 0.9 ? "met" : "NOT met");
    printf("  (no integrity hashes, as against xl; an idle guest's pages "
           "are all zero,\n   which the destination does not store: "
           "a busy guest pays a page fault each)\n");
out_free:
    mig_guest_free(g);
    munmap(src, RAW_PIECE);
}

static void bench_analytic(void)
{
    static const char *const specs[] = {
        "idle", "uniform:rate=200MB/s", "hotcold:wss=128M,hot=0.9,rate=1GB/s",
        "zipf:s=1.1,rate=300MB/s", "phased:uniform:rate=100MB/s@5s;idle@5s",
    };
    struct sim_config cfg;
    struct sim_workload *wl;

    printf("\nanalytic engine, 1 GiB guest, 1 Gbit/s, xen policy:\n");
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
}

static void bench_exact(void)
{
    struct sim_config cfg;
    struct sim_result r;
    struct sim_workload *wl;
    double t0, t;

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
        exit(1);
    }
    t = now() - t0;
    printf("  %.3f s wall for %.2f s simulated, %u live passes, %llu pages "
           "sent  target < 1 s: %s\n", t, r.total_time_s, r.live_passes,
           (unsigned long long)r.pages_sent, t < 1.0 ? "met" : "NOT met");
    sim_result_clear(&r);
    sim_workload_free(wl);
}

static void bench_rss(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak resident memory: %.1f MiB\n", (double)ru.ru_maxrss / 1024);
}

/* In the order they run; "rss" after the simulator's benches, because the
 * migration's 2 GiB destination guest would swamp the figure. */
static const struct {
    const char *name;
    void (*run)(void);
} sections[] = {
    { "analytic", bench_analytic },
    { "exact", bench_exact },
    { "mc", bench_mc },
    { "evacuation", bench_evacuation },
    { "rss", bench_rss },
    { "migration", bench_migration },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: miglab-bench [SECTION...]\n"
               "Print performance figures (never asserted) with their "
               "targets.\nSections (default: all, in this order):");
    for (size_t i = 0; i < NSECTIONS; i++)
        fprintf(f, " %s", sections[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    bool want[NSECTIONS];

    for (size_t i = 0; i < NSECTIONS; i++)
        want[i] = argc < 2;
    for (int a = 1; a < argc; a++) {
        size_t i = 0;

        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            usage(stdout);
            return 0;
        }
        while (i < NSECTIONS && strcmp(argv[a], sections[i].name))
            i++;
        if (i == NSECTIONS) {
            fprintf(stderr, "miglab-bench: unknown section '%s' (try "
                    "--help)\n", argv[a]);
            return 2;
        }
        want[i] = true;
    }
    printf("miglab bench (one core; figures, not assertions)\n");
    for (size_t i = 0; i < NSECTIONS; i++)
        if (want[i])
            sections[i].run();
    return 0;
}
