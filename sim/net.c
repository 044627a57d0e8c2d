/* SPDX-License-Identifier: MIT */
/*
 * net.c - link model: goodput of one bulk TCP stream (see net.h).
 *
 * A pure function of a struct sim_link: no state, no clock, no randomness.
 * Goodput is the minimum of the link's payload rate, the window cap and the
 * loss-limited rate of the congestion control (Padhye for reno, the RFC 8312
 * average window for cubic, payload rate * (1 - p) for bbr).  The formulas,
 * their units and a comparison with the testbed's measurements are in
 * docs/link-model.md; the facts behind them are in
 * shared/reference/xen-qemu-facts.md section F and testbed-facts.md.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>

#include "mig_err.h"
#include "net.h"

/* IPv4 (20) + TCP (20) + timestamp option (12) bytes per segment. */
#define NET_HDR_BYTES 52u
/* Ethernet header bytes that tbf/netem count on top of the MTU. */
#define NET_ETH_BYTES 14u
#define NET_MTU_MIN 576u
#define NET_MTU_MAX 65535u
#define NET_TIME_MAX_S 60.0
/* Linux's minimum retransmission timeout (TCP_RTO_MIN). */
#define NET_RTO_MIN_S 0.2
/*
 * The loss formulas go as 1/RTT and diverge at RTT 0; below this floor they
 * use the floor instead.  10 us is about the smallest RTT a real stack
 * measures (Linux keeps srtt in microseconds).
 */
#define NET_RTT_FLOOR_S 10e-6
/* RFC 8312 constants. */
#define NET_CUBIC_C 0.4
#define NET_CUBIC_BETA 0.7

#define NET_DEFAULT_BANDWIDTH_BPS 1e9
#define NET_DEFAULT_RTT_S 0.2e-3
#define NET_DEFAULT_MTU 1500u
#define NET_DEFAULT_WINDOW_BYTES (4ull * 1024 * 1024)

void sim_link_defaults(struct sim_link *l)
{
    assert(l);
    l->bandwidth_bps = NET_DEFAULT_BANDWIDTH_BPS;
    l->rtt_s = NET_DEFAULT_RTT_S;
    l->jitter_s = 0.0;
    l->loss = 0.0;
    l->mtu = NET_DEFAULT_MTU;
    l->cc = SIM_CC_CUBIC;
    l->window_bytes = NET_DEFAULT_WINDOW_BYTES;
    l->goodput_Bps = 0.0;
    l->queue_s = 0.0;
    l->queue_bytes = 0;
}

uint64_t sim_queue_default_bytes(double rate_bps, double rtt_s)
{
    double q = rate_bps / 8 * fmax(rtt_s, SIM_QUEUE_MIN_S);

    return q > SIM_QUEUE_MIN_BYTES ? (uint64_t)llround(q)
                                   : SIM_QUEUE_MIN_BYTES;
}

uint64_t sim_link_queue_bytes(const struct sim_link *l)
{
    double q;

    if (l->queue_bytes > 0)
        return l->queue_bytes;
    if (l->queue_s > 0) {
        q = l->bandwidth_bps / 8 * l->queue_s;
        return q > SIM_QUEUE_MIN_BYTES ? (uint64_t)llround(q)
                                       : SIM_QUEUE_MIN_BYTES;
    }
    return sim_queue_default_bytes(l->bandwidth_bps, l->rtt_s);
}

uint64_t sim_link_standing_queue_bytes(const struct sim_link *l)
{
    double fill = l->cc == SIM_CC_BBR ? SIM_FILL_BBR
                : l->cc == SIM_CC_RENO ? SIM_FILL_RENO : SIM_FILL_CUBIC;
    double q, bdp;

    if (!(l->bandwidth_bps > 0))
        return 0;
    q = fill * (double)sim_link_queue_bytes(l);
    /* A window cap below BDP + queue keeps the queue from filling. */
    if (l->window_bytes > 0) {
        bdp = l->bandwidth_bps / 8 * l->rtt_s;
        q = fmin(q, fmax(0.0, (double)l->window_bytes - bdp));
    }
    return (uint64_t)llround(q);
}

/* True when t is a time in [0, NET_TIME_MAX_S]; false for NaN. */
static int time_ok(double t)
{
    return t >= 0.0 && t <= NET_TIME_MAX_S;
}

int sim_link_validate(const struct sim_link *l)
{
    if (!l)
        return MIG_EINVAL;
    /* The comparisons are written so that NaN fails each of them. */
    if (!(l->bandwidth_bps >= 0.0) || !isfinite(l->bandwidth_bps))
        return MIG_EINVAL;
    if (!(l->goodput_Bps >= 0.0) || !isfinite(l->goodput_Bps))
        return MIG_EINVAL;
    if (!time_ok(l->rtt_s) || !time_ok(l->jitter_s) || !time_ok(l->queue_s))
        return MIG_EINVAL;
    if (!(l->loss >= 0.0 && l->loss < 1.0))
        return MIG_EINVAL;
    if (l->mtu < NET_MTU_MIN || l->mtu > NET_MTU_MAX)
        return MIG_EINVAL;
    switch (l->cc) {
    case SIM_CC_CUBIC:
    case SIM_CC_RENO:
    case SIM_CC_BBR:
        break;
    default:
        return MIG_EINVAL;
    }
    /* window_bytes is unsigned: every value is valid, 0 meaning no cap. */
    return 0;
}

/*
 * Mathis et al.: MSS/RTT * sqrt(3/2) / sqrt(p), bytes/s.  p > 0, rtt > 0.
 */
static double mathis_rate(double mss, double rtt, double p)
{
    return mss / rtt * sqrt(1.5) / sqrt(p);
}

/*
 * Padhye et al. with b = 1 (one ACK per segment), bytes/s, without the
 * Wmax/RTT term, which is the window cap computed separately:
 *   MSS / (RTT*sqrt(2bp/3) + T0*min(1, 3*sqrt(3bp/8))*p*(1 + 32p^2)).
 * p > 0, rtt > 0.
 */
static double padhye_rate(double mss, double rtt, double t0, double p)
{
    const double b = 1.0;
    double fast = rtt * sqrt(2.0 * b * p / 3.0);
    double q = fmin(1.0, 3.0 * sqrt(3.0 * b * p / 8.0));
    double timeouts = t0 * q * p * (1.0 + 32.0 * p * p);

    return mss / (fast + timeouts);
}

/*
 * RFC 8312 average window in segments, the larger of the cubic region
 *   (C*(3+beta)/(4*(1-beta)))^(1/4) * RTT^(3/4) / p^(3/4)
 * and the TCP-friendly region 1.2/sqrt(p); times MSS/RTT, bytes/s.
 * p > 0, rtt > 0.
 */
static double cubic_rate(double mss, double rtt, double p)
{
    double k = pow(NET_CUBIC_C * (3.0 + NET_CUBIC_BETA) /
                   (4.0 * (1.0 - NET_CUBIC_BETA)), 0.25);
    double w_cubic = k * pow(rtt, 0.75) / pow(p, 0.75);
    double w_friendly = 1.2 / sqrt(p);

    return fmax(w_cubic, w_friendly) * mss / rtt;
}

/*
 * Precondition: l passes sim_link_validate() (asserted).  Every output is a
 * number >= 0 or INFINITY, never NaN, for any valid link; the Mathis, Padhye
 * and CUBIC terms are INFINITY exactly when loss is 0.
 */
void sim_link_goodput(const struct sim_link *l, struct sim_goodput *out)
{
    double mss, rtt_loss, best;

    assert(l && out);
    assert(sim_link_validate(l) == 0);

    out->mss = l->mtu - NET_HDR_BYTES;
    out->rto_s = l->rtt_s + fmax(NET_RTO_MIN_S, 4.0 * l->jitter_s);
    mss = out->mss;

    /* The ratio first, so that a huge bandwidth cannot overflow. */
    if (l->bandwidth_bps == 0.0)
        out->link_Bps = INFINITY;
    else
        out->link_Bps = l->bandwidth_bps / 8.0 *
                        (mss / (double)(l->mtu + NET_ETH_BYTES));

    if (l->window_bytes == 0 || l->rtt_s == 0.0)
        out->window_Bps = INFINITY;
    else
        out->window_Bps = (double)l->window_bytes / l->rtt_s;

    if (l->loss == 0.0) {
        out->mathis_Bps = INFINITY;
        out->padhye_Bps = INFINITY;
        out->cubic_Bps = INFINITY;
        out->loss_Bps = INFINITY;
    } else {
        rtt_loss = fmax(l->rtt_s, NET_RTT_FLOOR_S);
        out->mathis_Bps = mathis_rate(mss, rtt_loss, l->loss);
        out->padhye_Bps = padhye_rate(mss, rtt_loss, out->rto_s, l->loss);
        out->cubic_Bps = cubic_rate(mss, rtt_loss, l->loss);
        switch (l->cc) {
        case SIM_CC_RENO:
            out->loss_Bps = out->padhye_Bps;
            break;
        case SIM_CC_BBR:
            /* INFINITY on an unlimited link: bbr has no loss formula. */
            out->loss_Bps = out->link_Bps * (1.0 - l->loss);
            break;
        case SIM_CC_CUBIC:
        default:
            out->loss_Bps = out->cubic_Bps;
            break;
        }
    }

    /* Ties go to the first term in the order link, window, loss. */
    best = out->link_Bps;
    out->limit = SIM_LIMIT_LINK;
    if (out->window_Bps < best) {
        best = out->window_Bps;
        out->limit = SIM_LIMIT_WINDOW;
    }
    if (out->loss_Bps < best) {
        best = out->loss_Bps;
        out->limit = SIM_LIMIT_LOSS;
    }
    if (isinf(best))
        out->limit = SIM_LIMIT_NONE;
    if (l->goodput_Bps > 0) {
        best = l->goodput_Bps;
        out->limit = SIM_LIMIT_MEASURED;
    }
    out->goodput_Bps = best;
}

/*
 * rtt/2 for an empty message or an infinite goodput; INFINITY when the
 * goodput is 0; never NaN.  g must come from sim_link_goodput(l).
 */
double sim_link_message_time(const struct sim_link *l,
                             const struct sim_goodput *g, uint64_t bytes)
{
    double prop;

    assert(l && g);
    prop = l->rtt_s / 2.0;
    if (bytes == 0 || isinf(g->goodput_Bps))
        return prop;
    /* A goodput that underflowed to 0 (a denormal bandwidth) never ends. */
    if (!(g->goodput_Bps > 0.0))
        return INFINITY;
    return prop + (double)bytes / g->goodput_Bps;
}

/* Indexed by enum sim_cc. */
static const char *const cc_names[] = {
    [SIM_CC_CUBIC] = "cubic",
    [SIM_CC_RENO] = "reno",
    [SIM_CC_BBR] = "bbr",
};

/*
 * ASCII case-insensitive equality, independent of the locale (strcasecmp()
 * follows LC_CTYPE).
 */
static int ascii_eq_nocase(const char *a, const char *b)
{
    unsigned char ca, cb;

    do {
        ca = (unsigned char)*a++;
        cb = (unsigned char)*b++;
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb)
            return 0;
    } while (ca);
    return 1;
}

int sim_cc_parse(const char *name, enum sim_cc *out)
{
    size_t i;

    if (!out)
        return MIG_EINVAL;
    *out = SIM_CC_CUBIC;
    if (!name)
        return MIG_EINVAL;
    for (i = 0; i < sizeof(cc_names) / sizeof(cc_names[0]); i++) {
        if (ascii_eq_nocase(name, cc_names[i])) {
            *out = (enum sim_cc)i;
            return 0;
        }
    }
    return MIG_EINVAL;
}

const char *sim_cc_name(enum sim_cc cc)
{
    switch (cc) {
    case SIM_CC_CUBIC:
    case SIM_CC_RENO:
    case SIM_CC_BBR:
        return cc_names[cc];
    default:
        return "unknown";
    }
}

const char *sim_link_limit_name(enum sim_link_limit limit)
{
    switch (limit) {
    case SIM_LIMIT_NONE:
        return "none";
    case SIM_LIMIT_LINK:
        return "link";
    case SIM_LIMIT_WINDOW:
        return "window";
    case SIM_LIMIT_LOSS:
        return "loss";
    case SIM_LIMIT_MEASURED:
        return "measured";
    default:
        return "unknown";
    }
}
