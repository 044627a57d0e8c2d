/* SPDX-License-Identifier: MIT */
/*
 * linkemu.c - the delay and jitter part of miglab's own link emulator, for
 * kernels without netem (docs/testbed.md, testbed-facts.md "Delay and
 * jitter").  One single-threaded process owns a TUN device in each host
 * namespace; a packet that h1 sends into its TUN is read here, held until
 * its due time and written into h2's TUN, where the kernel receives it (and
 * the other way round).  Rate and loss are not done here: tbf on an IFB and
 * nftables/iptables drops at the receiver's ingress do them in the kernel.
 *
 * Each direction is a FIFO of packets with a due time = arrival + delay +
 * a jitter sample (uniform in [-j, +j] or normal with sd j).  The due time
 * never goes below the previous packet's, so jitter does not reorder and
 * the FIFO stays time-ordered.  The loop sleeps in ppoll() until the first
 * due time with a 1 ns timer slack.  Run as `miglab testbed relay --id ID`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"
#include "testbed.h"

#define SLOT_SIZE 2048u             /* > TB_MTU: one packet per slot */
#define QUEUE_SLOTS 32768u          /* per direction: 1 Gbit x 390 ms */
#define READ_BATCH 256              /* packets read per wakeup per lane */
#define STATS_NS 1000000000ULL
#define RELAY_RT_PRIO 10

struct pkt_meta {
    uint64_t due_ns;
    uint32_t len;
};

/* One direction: packets read from in_fd and written to out_fd. */
struct lane {
    int in_fd, out_fd;
    struct tb_dir p;
    unsigned char *slots;           /* QUEUE_SLOTS * SLOT_SIZE */
    struct pkt_meta *meta;
    size_t head, count;
    uint64_t last_due;
    uint64_t rx, tx, queue_drops, write_errors, max_depth;
};

struct relay {
    struct lane lane[2];
    enum tb_jitter_dist dist;
    struct sim_rng rng;
    const char *stats_path;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Open /dev/net/tun as TB_MIG_DEV inside namespace ns; fd or -errno. */
static int tun_open_in(const char *ns)
{
    char path[256];
    struct ifreq ifr;
    int nfd, fd, rc;

    snprintf(path, sizeof(path), TB_NETNS_DIR "/%s", ns);
    nfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        return -errno;
    rc = setns(nfd, CLONE_NEWNET);
    close(nfd);
    if (rc < 0)
        return -errno;
    /* The TUN device belongs to the namespace current at open time. */
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TB_MIG_DEV);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Delay of one packet in ns: delay + jitter sample, never negative. */
static uint64_t sample_delay(struct relay *r, const struct tb_dir *p)
{
    double d = p->delay_s;

    if (p->jitter_s > 0) {
        if (r->dist == TB_JITTER_NORMAL)
            d += p->jitter_s * sim_rng_normal(&r->rng);
        else
            d += p->jitter_s * (2.0 * sim_rng_uniform(&r->rng) - 1.0);
    }
    return d > 0 ? (uint64_t)(d * 1e9 + 0.5) : 0;
}

/* Read what in_fd has (at most READ_BATCH packets) into the queue. */
static void lane_read(struct relay *r, struct lane *l)
{
    unsigned char scratch[SLOT_SIZE];

    for (int i = 0; i < READ_BATCH; i++) {
        bool full = l->count == QUEUE_SLOTS;
        size_t tail = (l->head + l->count) % QUEUE_SLOTS;
        unsigned char *dst = full ? scratch : l->slots + tail * SLOT_SIZE;
        ssize_t n = read(l->in_fd, dst, SLOT_SIZE);
        uint64_t due;

        if (n <= 0)
            break;
        l->rx++;
        if (full) {
            l->queue_drops++;
            continue;
        }
        due = now_ns() + sample_delay(r, &l->p);
        /* No reordering: a packet never leaves before the one ahead. */
        if (due < l->last_due)
            due = l->last_due;
        l->last_due = due;
        l->meta[tail].due_ns = due;
        l->meta[tail].len = (uint32_t)n;
        l->count++;
        if (l->count > l->max_depth)
            l->max_depth = l->count;
    }
}

/* Write every packet that is due by now. */
static void lane_flush(struct lane *l, uint64_t now)
{
    while (l->count && l->meta[l->head].due_ns <= now) {
        const struct pkt_meta *m = &l->meta[l->head];

        if (write(l->out_fd, l->slots + l->head * SLOT_SIZE, m->len) ==
            (ssize_t)m->len)
            l->tx++;
        else
            l->write_errors++;
        l->head = (l->head + 1) % QUEUE_SLOTS;
        l->count--;
    }
}

static void write_stats(const struct relay *r)
{
    char tmp[300];
    FILE *f;

    if (!r->stats_path)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", r->stats_path);
    f = fopen(tmp, "w");
    if (!f)
        return;
    for (int d = 0; d < 2; d++) {
        const struct lane *l = &r->lane[d];

        fprintf(f, "dir%d rx %llu tx %llu queue_drops %llu write_errors "
                "%llu max_depth %llu\n", d, (unsigned long long)l->rx,
                (unsigned long long)l->tx,
                (unsigned long long)l->queue_drops,
                (unsigned long long)l->write_errors,
                (unsigned long long)l->max_depth);
    }
    if (fclose(f) == 0)
        rename(tmp, r->stats_path);
}

static int lane_init(struct lane *l, const struct tb_dir *p, int in_fd,
                     int out_fd)
{
    memset(l, 0, sizeof(*l));
    l->p = *p;
    l->in_fd = in_fd;
    l->out_fd = out_fd;
    l->slots = malloc((size_t)QUEUE_SLOTS * SLOT_SIZE);
    l->meta = calloc(QUEUE_SLOTS, sizeof(*l->meta));
    if (!l->slots || !l->meta)
        return -ENOMEM;
    return 0;
}

static void lane_free(struct lane *l)
{
    free(l->slots);
    free(l->meta);
    l->slots = NULL;
    l->meta = NULL;
}

static void ready(int fd, const char *msg)
{
    if (fd >= 0) {
        if (write(fd, msg, strlen(msg)) < 0) {
            /* The parent is gone; it will find out by itself. */
        }
        close(fd);
    }
}

/* Main loop: until a signal arrives on sfd. */
static void relay_loop(struct relay *r, int sfd)
{
    struct pollfd pfd[3];
    uint64_t next_stats = now_ns() + STATS_NS;

    pfd[0].fd = r->lane[0].in_fd;
    pfd[1].fd = r->lane[1].in_fd;
    pfd[2].fd = sfd;
    for (int i = 0; i < 3; i++)
        pfd[i].events = POLLIN;
    for (;;) {
        uint64_t now = now_ns(), wake = next_stats;
        struct timespec ts;

        for (int d = 0; d < 2; d++) {
            struct lane *l = &r->lane[d];

            lane_flush(l, now);
            if (l->count && l->meta[l->head].due_ns < wake)
                wake = l->meta[l->head].due_ns;
        }
        if (now >= next_stats) {
            write_stats(r);
            next_stats = now + STATS_NS;
            continue;
        }
        ts.tv_sec = (time_t)((wake - now) / 1000000000ULL);
        ts.tv_nsec = (long)((wake - now) % 1000000000ULL);
        if (ppoll(pfd, 3, &ts, NULL) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[2].revents)
            break;
        for (int d = 0; d < 2; d++) {
            if (pfd[d].revents & POLLIN)
                lane_read(r, &r->lane[d]);
            else if (pfd[d].revents & (POLLERR | POLLHUP | POLLNVAL))
                return;
        }
    }
}

int linkemu_run(const struct tb_config *c, const char *ns_a,
                const char *ns_b, int ready_fd, const char *stats_path)
{
    struct relay r;
    char msg[256];
    int fa = -1, fb = -1, sfd = -1, rc;
    sigset_t set;

    memset(&r, 0, sizeof(r));
    r.dist = c->jitter_dist;
    r.stats_path = stats_path;
    sim_rng_seed(&r.rng, (uint64_t)getpid() ^ now_ns());
    /* Timer slack 1 ns: ppoll wakes when asked, not up to 50 us later.
     * SCHED_FIFO (when allowed) keeps a busy machine from adding its
     * scheduling delays to the emulated ones (facts: 1.15 -> 1.07 ms at a
     * 1 ms RTT); the kernel's RT throttling still leaves others 5%. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    {
        struct sched_param sp = { .sched_priority = RELAY_RT_PRIO };

        if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
            fprintf(stderr, "relay: SCHED_FIFO not available (%s); "
                    "delays may stretch on a busy machine\n",
                    strerror(errno));
    }
    setsid();

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        rc = -errno;
        snprintf(msg, sizeof(msg), "signalfd: %s\n", strerror(-rc));
        goto out_fail;
    }
    fa = tun_open_in(ns_a);
    if (fa < 0) {
        rc = fa;
        snprintf(msg, sizeof(msg), "TUN %s in %s: %s\n", TB_MIG_DEV, ns_a,
                 strerror(-rc));
        goto out_fail;
    }
    fb = tun_open_in(ns_b);
    if (fb < 0) {
        rc = fb;
        snprintf(msg, sizeof(msg), "TUN %s in %s: %s\n", TB_MIG_DEV, ns_b,
                 strerror(-rc));
        goto out_fail;
    }
    rc = lane_init(&r.lane[0], &c->dir[0], fa, fb);
    if (!rc)
        rc = lane_init(&r.lane[1], &c->dir[1], fb, fa);
    if (rc) {
        snprintf(msg, sizeof(msg), "out of memory for the queues\n");
        goto out_fail;
    }
    ready(ready_fd, "ok\n");
    relay_loop(&r, sfd);
    write_stats(&r);
    rc = 0;
    goto out_free;

out_fail:
    ready(ready_fd, msg);
out_free:
    lane_free(&r.lane[0]);
    lane_free(&r.lane[1]);
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
