// SPDX-License-Identifier: MIT
/*
 * dirtier.c - the dirtying workload of the nested-Xen CI guest (domU).
 *
 * Runs as the only program of a tiny PV guest (started by domu-init) and
 * does two things:
 *   - writes RATE pages per second, each a page drawn uniformly at random
 *     from a working set of WSS bytes (simulator model:
 *     hotcold:wss=WSS,hot=1,rate=RATE*4096 B/s); RATE 0 = idle guest;
 *   - prints a heartbeat every HB milliseconds on stdout (the console,
 *     hvc0), which dom0 reads from xenconsoled's log:
 *         HB <n> t=<boottime ns> r=<realtime ns> w=<page writes so far>
 *     The largest gap in t between consecutive heartbeats is the
 *     guest-visible pause (downtime); r maps guest events onto dom0's
 *     clock (both run on Xen system time); w gives the achieved rate.
 *
 * t is CLOCK_BOOTTIME, not CLOCK_MONOTONIC: a PV Linux guest suspends
 * through the kernel's suspend path when it is saved or migrated, and the
 * paused time is injected as sleep time, which CLOCK_MONOTONIC leaves out.
 *
 * Writes are paced in ticks of at most 10 ms; after a pause the backlog is
 * capped at one 100 ms tick, so a resumed guest does not burst.
 *
 * Usage: dirtier [-r PAGES_PER_S] [-w WSS_MIB] [-i HB_MS] [-c]
 *   -c  read dirty.rate=, dirty.wss= (MiB) and dirty.hb= (ms) from
 *       /proc/cmdline (the domU's kernel command line); flags given after
 *       -c override them.
 * Build: gcc -static -O2 -o dirtier dirtier.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast and good enough to spread writes over the set. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void from_cmdline(double *rate, double *wss_mib, double *hb_ms)
{
    char buf[4096];
    FILE *f = fopen("/proc/cmdline", "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (!strncmp(tok, "dirty.rate=", 11))
            *rate = atof(tok + 11);
        else if (!strncmp(tok, "dirty.wss=", 10))
            *wss_mib = atof(tok + 10);
        else if (!strncmp(tok, "dirty.hb=", 9))
            *hb_ms = atof(tok + 9);
    }
}

int main(int argc, char **argv)
{
    double rate = 0, wss_mib = 16, hb_ms = 50;
    int opt;

    while ((opt = getopt(argc, argv, "r:w:i:c")) != -1) {
        switch (opt) {
        case 'r': rate = atof(optarg); break;
        case 'w': wss_mib = atof(optarg); break;
        case 'i': hb_ms = atof(optarg); break;
        case 'c': from_cmdline(&rate, &wss_mib, &hb_ms); break;
        default:
            fprintf(stderr, "usage: dirtier [-r PAGES/S] [-w WSS_MIB] [-i HB_MS] [-c]\n");
            return 2;
        }
    }
    if (rate < 0 || wss_mib < 0.004 || hb_ms < 1) {
        fprintf(stderr, "dirtier: bad rate/wss/hb\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    size_t npages = (size_t)(wss_mib * 1048576.0 / PAGE);
    if (npages == 0)
        npages = 1;
    unsigned char *mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        fprintf(stderr, "dirtier: mmap %zu pages: %s\n", npages, strerror(errno));
        return 1;
    }
    /* Populate the whole set first: later writes dirty, never allocate. */
    for (size_t i = 0; i < npages; i++)
        mem[i * PAGE] = 1;

    uint64_t hb_ns = (uint64_t)(hb_ms * 1e6);
    uint64_t tick_ns = hb_ns < 10000000ULL ? hb_ns : 10000000ULL;
    uint64_t seed = now_ns(CLOCK_REALTIME) | 1;
    uint64_t writes = 0, n = 0;
    double owed = 0;

    printf("DIRTIER rate=%.0f pages/s wss=%zu pages hb=%.0f ms\n",
           rate, npages, hb_ms);

    uint64_t last = now_ns(CLOCK_BOOTTIME);
    uint64_t next_hb = last;
    for (;;) {
        uint64_t t = now_ns(CLOCK_BOOTTIME);
        uint64_t dt = t - last;
        last = t;
        if (dt > 100000000ULL)
            dt = 100000000ULL;
        owed += rate * (double)dt / 1e9;
        while (owed >= 1.0) {
            size_t p = (size_t)(rnd(&seed) % npages);
            uint64_t *w = (uint64_t *)(mem + p * PAGE + ((writes & 63) << 6));
            *w += 1;
            writes++;
            owed -= 1.0;
        }
        if (t >= next_hb) {
            n++;
            printf("HB %llu t=%llu r=%llu w=%llu\n", (unsigned long long)n,
                   (unsigned long long)t,
                   (unsigned long long)now_ns(CLOCK_REALTIME),
                   (unsigned long long)writes);
            next_hb += hb_ns;
            if (next_hb <= t)
                next_hb = t + hb_ns;
        }
        uint64_t until = next_hb - t;
        if (until > tick_ns)
            until = tick_ns;
        struct timespec ts = { (time_t)(until / 1000000000ULL),
                               (long)(until % 1000000000ULL) };
        nanosleep(&ts, NULL);
    }
}
