/* SPDX-License-Identifier: MIT */
/*
 * runner_child.c - the two processes the runner starts inside testbed
 * namespaces (docs/runner.md "Children"):
 *
 *   heartbeat prober (client namespace): a probe (ref/heartbeat.h) to the
 *   guest's heartbeat port every interval; every datagram that comes back
 *   from the guest's address is a reply.  It records the gaps between consecutive
 *   replies longer than 3 intervals and writes them, with the counts, as
 *   JSON when it is told to stop.
 *
 *   capture (h2 namespace): libpcap on the migration link, nanosecond
 *   timestamps, TCP on the migration port only, written with pcap_dump;
 *   on stop it drains the buffer and prints libpcap's drop counters.
 *
 * Times are CLOCK_REALTIME nanoseconds in both, the clock libpcap stamps
 * packets with, so the runner can put them on one timeline.
 */
#define _GNU_SOURCE 1 /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "heartbeat.h"
#include "runner.h"

#define HB_MAX_GAPS 8192U

static volatile sig_atomic_t child_stop;
static pcap_t *child_pcap;          /* for the signal handler only */

static void on_stop(int sig)
{
    (void)sig;
    child_stop = 1;
    if (child_pcap)
        pcap_breakloop(child_pcap);
}

static void catch_stop(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct hb_gap {
    int64_t start_ns, end_ns;       /* last reply before, first after */
};

struct hb_state {
    uint64_t sent, received;
    int64_t first_ns, last_ns;      /* first and last reply */
    struct hb_gap max;
    struct hb_gap gaps[HB_MAX_GAPS];
    size_t ngaps;
    uint64_t more_gaps;             /* not kept: the table was full */
};

static void hb_reply(struct hb_state *s, int64_t t, int64_t gap_ns)
{
    if (s->received && t - s->last_ns > gap_ns) {
        struct hb_gap g = { s->last_ns, t };

        if (s->ngaps < HB_MAX_GAPS)
            s->gaps[s->ngaps++] = g;
        else
            s->more_gaps++;
        if (g.end_ns - g.start_ns > s->max.end_ns - s->max.start_ns)
            s->max = g;
    }
    if (!s->received)
        s->first_ns = t;
    s->last_ns = t;
    s->received++;
}

static int hb_write(const struct hb_state *s, double interval,
                    const char *path)
{
    struct json_object *o = json_object_new_object(), *a;
    int rc;

    if (!o)
        return -ENOMEM;
    json_object_object_add(o, "interval_s", json_object_new_double(interval));
    json_object_object_add(o, "sent", json_object_new_int64((int64_t)s->sent));
    json_object_object_add(o, "received",
                           json_object_new_int64((int64_t)s->received));
    json_object_object_add(o, "first_reply_ns",
                           json_object_new_int64(s->first_ns));
    json_object_object_add(o, "last_reply_ns",
                           json_object_new_int64(s->last_ns));
    json_object_object_add(o, "stopped_ns", json_object_new_int64(now_ns()));
    json_object_object_add(o, "max_gap_start_ns",
                           json_object_new_int64(s->max.start_ns));
    json_object_object_add(o, "max_gap_end_ns",
                           json_object_new_int64(s->max.end_ns));
    a = json_object_new_array();
    for (size_t i = 0; a && i < s->ngaps; i++) {
        struct json_object *g = json_object_new_array();

        json_object_array_add(g, json_object_new_int64(s->gaps[i].start_ns));
        json_object_array_add(g, json_object_new_int64(s->gaps[i].end_ns));
        json_object_array_add(a, g);
    }
    json_object_object_add(o, "gaps_ns", a);
    json_object_object_add(o, "gaps_not_kept",
                           json_object_new_int64((int64_t)s->more_gaps));
    rc = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PLAIN);
    json_object_put(o);
    return rc ? -EIO : 0;
}

int runner_probe_main(int argc, char **argv)
{
    struct sockaddr_in to = { .sin_family = AF_INET };
    struct hb_state *s;
    double interval;
    int64_t next, step, gap_ns;
    int fd, rc;

    if (argc != 5 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
        sscanf(argv[3], "%lf", &interval) != 1 || !(interval > 0)) {
        fprintf(stderr, "usage: miglab run --probe-child IP PORT "
                        "INTERVAL_S OUT.json\n");
        return 2;
    }
    to.sin_port = htons((uint16_t)atoi(argv[2]));
    s = calloc(1, sizeof(*s));
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!s || fd < 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1) {
        fprintf(stderr, "probe: %s\n", strerror(errno));
        free(s);
        return 1;
    }
    catch_stop();
    printf("ready\n");
    fflush(stdout);
    step = (int64_t)(interval * 1e9);
    gap_ns = 3 * step;
    next = now_ns();
    while (!child_stop) {
        int64_t t = now_ns();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        struct timespec to_ts;

        if (t >= next) {
            /* docs/host-protocol.md "Heartbeat": magic, 0, seq, time. */
            unsigned char pkt[MIG_HB_PROBE_LEN] = { 'M', 'L', 'H', 'B' };

            mig_le64enc(pkt + 8, s->sent);
            mig_le64enc(pkt + 16, (uint64_t)t);
            /* ECONNREFUSED while the address has no owner is expected. */
            (void)send(fd, pkt, sizeof(pkt), 0);
            s->sent++;
            next += step;
            if (next < t)
                next = t + step;
        }
        to_ts.tv_sec = 0;
        to_ts.tv_nsec = next > t ? (long)(next - t) : 0;
        if (ppoll(&p, 1, &to_ts, NULL) > 0) {
            unsigned char buf[64];

            while (recv(fd, buf, sizeof(buf), 0) >= 0)
                hb_reply(s, now_ns(), gap_ns);
        }
    }
    rc = hb_write(s, interval, argv[4]);
    close(fd);
    free(s);
    return rc ? 1 : 0;
}

int runner_capture_main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "", filter[64];
    struct bpf_program prog;
    struct pcap_stat st;
    pcap_dumper_t *d;
    pcap_t *p;
    int snaplen, rc = 1;

    if (argc != 5 || (snaplen = atoi(argv[3])) <= 0) {
        fprintf(stderr, "usage: miglab run --capture-child DEV OUT.pcap "
                        "SNAPLEN PORT\n");
        return 2;
    }
    p = pcap_create(argv[1], errbuf);
    if (!p) {
        fprintf(stderr, "capture: %s\n", errbuf);
        return 1;
    }
    pcap_set_snaplen(p, snaplen);
    pcap_set_promisc(p, 0);
    pcap_set_timeout(p, 20);
    /* 3 Gbit/s for half a second: a busy two-core machine must not drop. */
    pcap_set_buffer_size(p, 256 << 20);
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO))
        fprintf(stderr, "capture: no nanosecond timestamps\n");
    if (pcap_activate(p) < 0) {
        fprintf(stderr, "capture: %s: %s\n", argv[1], pcap_geterr(p));
        goto out_close;
    }
    snprintf(filter, sizeof(filter), "tcp port %d", atoi(argv[4]));
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0) {
        pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
    }
    d = pcap_dump_open(p, argv[2]);
    if (!d) {
        fprintf(stderr, "capture: %s\n", pcap_geterr(p));
        goto out_close;
    }
    child_pcap = p;
    catch_stop();
    printf("ready\n");
    fflush(stdout);
    while (!child_stop) {
        if (pcap_dispatch(p, -1, pcap_dump, (u_char *)d) < 0 && !child_stop)
            break;
    }
    /* Drain what the kernel still holds without blocking. */
    child_pcap = NULL;
    if (pcap_setnonblock(p, 1, errbuf) == 0)
        while (pcap_dispatch(p, -1, pcap_dump, (u_char *)d) > 0)
            ;
    pcap_dump_close(d);
    if (pcap_stats(p, &st) == 0)
        printf("stats received %u dropped %u ifdropped %u\n", st.ps_recv,
               st.ps_drop, st.ps_ifdrop);
    fflush(stdout);
    rc = 0;
out_close:
    pcap_close(p);
    return rc;
}
