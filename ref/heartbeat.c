/* SPDX-License-Identifier: MIT */
/*
 * heartbeat.c - the guest's UDP heartbeat responder and its address moves
 * (heartbeat.h).  Probes are untrusted input: only the length and magic
 * are looked at, and only the fixed fields are echoed back.
 */
#include "heartbeat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "buf.h"
#include "guest_emu.h"

#define HB_MAGIC   0x42484c4dU      /* "MLHB" read little-endian */
#define HB_POLL_MS 100

extern char **environ;

struct mig_hb {
    struct mig_guest *g;        /* not owned */
    int fd;
    uint16_t port;
    atomic_bool stop;
    _Atomic uint64_t count;
    pthread_t th;
};

static uint64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *hb_main(void *arg)
{
    struct mig_hb *hb = arg;
    uint8_t in[64], out[MIG_HB_REPLY_LEN];

    while (!atomic_load(&hb->stop)) {
        struct pollfd p = { .fd = hb->fd, .events = POLLIN };
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n;

        if (poll(&p, 1, HB_POLL_MS) <= 0)
            continue;
        n = recvfrom(hb->fd, in, sizeof(in), 0, (struct sockaddr *)&from,
                     &flen);
        if (n < (ssize_t)MIG_HB_PROBE_LEN || mig_le32dec(in) != HB_MAGIC ||
            mig_le32dec(in + 4) != 0)
            continue;
        /* The responder belongs to the guest: it answers only while the
         * vCPUs run, so a probe sent during the pause waits for the
         * guest (or goes unanswered if the guest leaves). */
        while (!atomic_load(&hb->stop) &&
               mig_guest_emu_wait_running(hb->g, HB_POLL_MS))
            ;
        if (atomic_load(&hb->stop))
            break;
        mig_le32enc(out, HB_MAGIC);
        mig_le32enc(out + 4, 1);
        memcpy(out + 8, in + 8, 16);
        mig_le64enc(out + 24, realtime_ns());
        mig_le64enc(out + 32, mig_guest_emu_writes(hb->g));
        /* Counted first, so a prober that has its reply sees the count. */
        atomic_fetch_add(&hb->count, 1);
        (void)sendto(hb->fd, out, sizeof(out), 0, (struct sockaddr *)&from,
                     flen);
    }
    return NULL;
}

int mig_hb_start(struct mig_guest *g, const char *ip, uint16_t port,
                 struct mig_hb **out)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(port) };
    socklen_t len = sizeof(sa);
    struct mig_hb *hb;
    int rc;

    *out = NULL;
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return MIG_EINVAL;
    hb = calloc(1, sizeof(*hb));
    if (!hb)
        return MIG_ENOMEM;
    hb->g = g;
    atomic_init(&hb->stop, false);
    atomic_init(&hb->count, 0);
    hb->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (hb->fd < 0) {
        rc = -errno;
        goto out_free;
    }
    if (bind(hb->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        getsockname(hb->fd, (struct sockaddr *)&sa, &len)) {
        rc = -errno;
        goto out_close;
    }
    hb->port = ntohs(sa.sin_port);
    rc = pthread_create(&hb->th, NULL, hb_main, hb);
    if (rc) {
        rc = -rc;
        goto out_close;
    }
    *out = hb;
    return 0;

out_close:
    close(hb->fd);
out_free:
    free(hb);
    return rc;
}

void mig_hb_stop(struct mig_hb *hb)
{
    if (!hb)
        return;
    atomic_store(&hb->stop, true);
    pthread_join(hb->th, NULL);
    close(hb->fd);
    free(hb);
}

uint16_t mig_hb_port(const struct mig_hb *hb)
{
    return hb->port;
}

uint64_t mig_hb_count(const struct mig_hb *hb)
{
    return atomic_load(&hb->count);
}

int mig_hb_probe(const char *ip, uint16_t port, uint64_t seq,
                 int timeout_ms, struct mig_hb_reply *r)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(port) };
    uint8_t pr[MIG_HB_PROBE_LEN], in[64];
    struct timespec t0, t;
    int fd, rc = -ETIMEDOUT;

    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return MIG_EINVAL;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mig_le32enc(pr, HB_MAGIC);
    mig_le32enc(pr + 4, 0);
    mig_le64enc(pr + 8, seq);
    mig_le64enc(pr + 16, realtime_ns());
    if (sendto(fd, pr, sizeof(pr), 0, (struct sockaddr *)&sa, sizeof(sa)) !=
        (ssize_t)sizeof(pr)) {
        rc = -errno;
        goto out_close;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        long left;
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &t);
        left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000L +
                             (t.tv_nsec - t0.tv_nsec) / 1000000L);
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = recv(fd, in, sizeof(in), 0);
        if (n < (ssize_t)MIG_HB_REPLY_LEN || mig_le32dec(in) != HB_MAGIC ||
            mig_le32dec(in + 4) != 1 || mig_le64dec(in + 8) != seq)
            continue;
        r->seq = seq;
        r->probe_ts = mig_le64dec(in + 16);
        r->guest_ns = mig_le64dec(in + 24);
        r->writes = mig_le64dec(in + 32);
        rc = 0;
        break;
    }
out_close:
    close(fd);
    return rc;
}

void mig_garp_frame(uint8_t *out, const uint8_t mac[6], uint32_t ip_be)
{
    static const uint8_t arp_hdr[8] = { 0x00, 0x01,     /* Ethernet */
                                        0x08, 0x00,     /* IPv4 */
                                        6, 4,           /* hlen, plen */
                                        0x00, 0x01 };   /* request */

    memset(out, 0xff, 6);                               /* broadcast */
    memcpy(out + 6, mac, 6);
    out[12] = 0x08;                                     /* ETH_P_ARP */
    out[13] = 0x06;
    memcpy(out + 14, arp_hdr, sizeof(arp_hdr));
    memcpy(out + 22, mac, 6);                           /* sender hw */
    memcpy(out + 28, &ip_be, 4);                        /* sender ip */
    memset(out + 32, 0, 6);                             /* target hw */
    memcpy(out + 38, &ip_be, 4);                        /* target ip */
}

int mig_garp_send(const char *dev, const char *ip, char *err, size_t errlen)
{
    struct sockaddr_ll ll = { .sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ARP),
                              .sll_halen = 6 };
    uint8_t frame[MIG_GARP_FRAME_LEN];
    struct ifreq ifr;
    struct in_addr a;
    int fd, rc = 0;

    if (inet_pton(AF_INET, ip, &a) != 1 || strlen(dev) >= IFNAMSIZ) {
        snprintf(err, errlen, "bad address %s or device %s", ip, dev);
        return MIG_EINVAL;
    }
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "AF_PACKET socket: %s", strerror(errno));
        return rc;
    }
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, dev, strlen(dev) + 1);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) || ioctl(fd, SIOCGIFINDEX, &ifr)) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dev, strerror(errno));
        goto out_close;
    }
    ll.sll_ifindex = ifr.ifr_ifindex;
    memset(ll.sll_addr, 0xff, 6);
    /* SIOCGIFINDEX overwrote the union: ask for the address again. */
    if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dev, strerror(errno));
        goto out_close;
    }
    mig_garp_frame(frame, (const uint8_t *)ifr.ifr_hwaddr.sa_data,
                   a.s_addr);
    if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&ll,
               sizeof(ll)) != (ssize_t)sizeof(frame)) {
        rc = -errno;
        snprintf(err, errlen, "gratuitous ARP on %s: %s", dev,
                 strerror(errno));
    }
out_close:
    close(fd);
    return rc;
}

int mig_ip_addr(const char *dev, const char *ip, int add, char *err,
                size_t errlen)
{
    char cidr[64], verb[4], d[IFNAMSIZ + 1];
    char *argv[] = { "ip", "addr", verb, cidr, "dev", d, NULL };
    pid_t pid;
    int st, rc;

    snprintf(cidr, sizeof(cidr), "%s/32", ip);
    snprintf(verb, sizeof(verb), "%s", add ? "add" : "del");
    snprintf(d, sizeof(d), "%s", dev);
    /* posix_spawn, not fork: the daemon maps gigabytes of guest memory. */
    rc = posix_spawnp(&pid, "ip", NULL, NULL, argv, environ);
    if (rc) {
        snprintf(err, errlen, "cannot run ip: %s", strerror(rc));
        return MIG_EIO;
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "ip addr %s %s dev %s failed", verb, cidr,
                 dev);
        return MIG_EIO;
    }
    return 0;
}
