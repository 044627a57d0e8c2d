/* SPDX-License-Identifier: MIT */
/*
 * net.h - link model: what goodput one bulk TCP stream gets on a link.
 *
 * Inputs are the link (rate, RTT, jitter, random loss, MTU), the sender's
 * congestion control and the window cap (socket buffers, or 2 MiB for the ssh
 * channel xl uses by default).  Goodput is the minimum of
 *   - the link's payload rate: bandwidth * MSS / (MTU + 14), the Ethernet
 *     frame being what tbf/netem count (0.956 of the line rate at MTU 1500);
 *   - the window cap: window / RTT;
 *   - the loss-limited rate of the congestion control:
 *       reno   Padhye et al. (b = 1, T0 = RTO) including timeouts;
 *       cubic  RFC 8312 average window, the larger of the cubic region
 *              (C = 0.4, beta = 0.7) and the TCP-friendly region 1.2/sqrt(p);
 *       bbr    largely loss-blind: payload rate * (1 - p).
 * MSS = MTU - 52 (IPv4 + TCP with timestamps): 1448 at MTU 1500.
 * RTO = RTT + max(200 ms, 4 * jitter), Linux's minimum RTO being 200 ms.
 * Facts behind it: shared/reference/xen-qemu-facts.md section F and
 * testbed-facts.md (measured reno/cubic/bbr under loss).
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <stdint.h>

enum sim_cc {
    SIM_CC_CUBIC,
    SIM_CC_RENO,
    SIM_CC_BBR,
};

struct sim_link {
    double bandwidth_bps;   /* line rate, bits/s; 0 = unlimited */
    double rtt_s;           /* round-trip time, seconds */
    double jitter_s;        /* standard deviation of one-way delay */
    double loss;            /* random packet loss probability, 0..1 */
    uint32_t mtu;           /* bytes, 576..65535 */
    enum sim_cc cc;
    uint64_t window_bytes;  /* send/receive window cap; 0 = unlimited */
    double goodput_Bps;     /* measured goodput of one stream on this link
                               (a host profile, docs/calibrate.md); when
                               > 0 it replaces the model's minimum */
    double queue_s;         /* bottleneck queue as a time at bandwidth_bps,
                               or 0 (then queue_bytes, else the default) */
    uint64_t queue_bytes;   /* bottleneck queue in bytes, or 0 */
};

/* Which term of the minimum limited the goodput. */
enum sim_link_limit {
    SIM_LIMIT_NONE,         /* nothing limits it (infinite) */
    SIM_LIMIT_LINK,
    SIM_LIMIT_WINDOW,
    SIM_LIMIT_LOSS,
    SIM_LIMIT_MEASURED,     /* sim_link.goodput_Bps, a measurement */
};

struct sim_goodput {
    double goodput_Bps;     /* payload bytes per second: the minimum below */
    double link_Bps;        /* payload rate of the link (INFINITY if 0) */
    double window_Bps;      /* window / RTT (INFINITY if no cap or RTT 0) */
    double loss_Bps;        /* loss-limited rate (INFINITY if loss 0) */
    double mathis_Bps;      /* Mathis et al., for reference */
    double padhye_Bps;      /* Padhye et al., for reference */
    double cubic_Bps;       /* RFC 8312 average, for reference */
    uint32_t mss;
    double rto_s;
    enum sim_link_limit limit;
};

/* Defaults: 1 Gbit/s, 0.2 ms RTT, no jitter or loss, MTU 1500, cubic,
 * window 4 MiB (tcp_wmem max on the development machine). */
void sim_link_defaults(struct sim_link *l);

/* 0, or MIG_EINVAL when a field is out of its documented range. */
int sim_link_validate(const struct sim_link *l);

/* Goodput of one bulk TCP stream and every term that went into it; with
 * l->goodput_Bps > 0 the goodput is that measurement (limit "measured")
 * and the model's terms stay beside it for reference. */
void sim_link_goodput(const struct sim_link *l, struct sim_goodput *out);

/* Time for a message of `bytes` to cross the link one way after the previous
 * message: half an RTT of propagation plus its serialisation at goodput. */
double sim_link_message_time(const struct sim_link *l,
                             const struct sim_goodput *g, uint64_t bytes);

/*
 * The bottleneck queue (docs/scenario-format.md, [network] queue): a
 * realistic buffer by default, the largest of one bandwidth-delay product,
 * SIM_QUEUE_MIN_S at the rate and SIM_QUEUE_MIN_BYTES.  rate_bps 0
 * (unlimited) has no bottleneck: the floor only.
 */
#define SIM_QUEUE_MIN_S 0.010
#define SIM_QUEUE_MIN_BYTES 65536u
uint64_t sim_queue_default_bytes(double rate_bps, double rtt_s);
/* The link's queue in bytes: queue_bytes, queue_s at the bandwidth, or the
 * default above. */
uint64_t sim_link_queue_bytes(const struct sim_link *l);

/*
 * Bytes of a bulk stream standing in the bottleneck queue at a random
 * instant (the uncalibrated pause backlog, docs/model.md): loss-based
 * congestion control fills the buffer and backs off by its beta, so the
 * standing queue averages SIM_FILL_CUBIC (cubic: back to 0.7, most of the
 * time near the top) or SIM_FILL_RENO (reno: halves, a linear ramp) of it;
 * bbr paces at the bottleneck rate and keeps it near empty (SIM_FILL_BBR).
 * 0 on an unlimited link (no bottleneck).
 */
#define SIM_FILL_CUBIC 0.75
#define SIM_FILL_RENO 0.5
#define SIM_FILL_BBR 0.05
uint64_t sim_link_standing_queue_bytes(const struct sim_link *l);

int sim_cc_parse(const char *name, enum sim_cc *out);
const char *sim_cc_name(enum sim_cc cc);
const char *sim_link_limit_name(enum sim_link_limit limit);

#endif
