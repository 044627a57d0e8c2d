/* SPDX-License-Identifier: MIT */
/*
 * wgen.c - the two faces of every workload model (see workload.h): the
 * seeded page-write generators, and the closed forms for the expected
 * number of distinct pages they write in a window, kept side by side so
 * they can be read, and kept in agreement, together.  Specs, trace files
 * and canonical text are in workload.c.
 *
 * Generators.  A rate-driven model (uniform, hotcold, zipf, seq) earns
 * rate / 4096 * scale write credits per second; each whole credit is one
 * write and the fraction carries over to the next call, so many small
 * sim_wgen_advance() steps give the same pfn sequence as one large step (up
 * to the rounding of the summed step lengths, which can move a write across
 * a step boundary only when a credit total lands within ~1e-12 of an
 * integer).  Page choices, drawn from the generator's xoshiro256** stream:
 *   uniform  sim_rng_below(N);
 *   hotcold  a uniform draw < hot picks the hot set [0, S/4096), else the
 *            cold set (with no cold pages every write is hot, with no hot
 *            pages every write is cold), then below() within the set;
 *   zipf     rank k in 1..N with probability k^-s / H(N, s), O(1) time and
 *            memory per draw by rejection-inversion (W. Hormann, G.
 *            Derflinger, "Rejection-inversion to generate variates from
 *            monotone discrete distributions", ACM TOMACS 6(3), 1996);
 *            rank k is pfn k - 1;
 *   seq      pfns start, start + 1, ... wrapping at N, start = below(N)
 *            drawn when the generator is created.
 * trace replays interval i's list in order: entry j of an interval with m
 * entries is written when the interval's credit, scale * m * elapsed /
 * interval, reaches j + 0.618 (sim__trace_emitted(), FORMAT §4): evenly
 * spread at full speed, and a throttled guest writes a prefix of each list.
 * The intervals cycle forever, interval 0 starting at time 0.
 * phased runs phase i for its duration, in order, cycling; every phase has
 * its own generator state and its own clock, which only runs while the
 * phase is active: a phase's next occurrence continues where the previous
 * one stopped (seq position, trace position, credit).  All phases share one
 * random stream, seq start pfns being drawn in phase order at creation.
 *
 * Closed forms, with n = rate / 4096 * scale * dt writes in the window and
 * N pages, each write landing on page k with probability q_k independently:
 * E[distinct] = sum_k 1 - (1 - q_k)^n, exactly, which gives
 *   uniform   N (1 - (1 - 1/N)^n);
 *   hotcold   the same over the hot set (q = hot / hot pages) plus the cold
 *             set (q = (1 - hot) / cold pages);
 *   zipf      q_k = k^-s / H(N, s): the first 32 ranks term by term (all
 *             ranks when N <= 160), the rest by Euler-Maclaurin (integral
 *             plus end corrections) with the integral done by 8-point
 *             Gauss-Legendre panels on u = log k; H(N, s) likewise with the
 *             integral in closed form.  Cost: at most 32 + 8 * 1.5 * ln(N/33)
 *             + 2 evaluations (about 180 for N = 2^22), none depending on N
 *             otherwise; error below 1e-7 relative (measured, 0.05 <= s <=
 *             10, N <= 2^22);
 *   seq       min(N, n);
 *   phased    every phase's share of the window is merged into one window
 *             of that phase's own clock (exact: i.i.d. phases are
 *             stationary, seq and trace phases continue on their own clock),
 *             and the clean fractions 1 - d_p / N of the phases are
 *             multiplied, which is exact when at most one phase is
 *             non-uniform (seq counts as uniform: its start is uniform);
 *   trace     exact: the union of the list prefixes the generator writes in
 *             the window, counted with a temporary bitmap of the trace's
 *             pages (an undeduplicated upper bound if that allocation fails).
 * The closed forms assume the window runs at one scale, and for traces that
 * the interval holding t0 also ran at that scale before t0.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mig_err.h"
#include "rng.h"
#include "units.h"
#include "workload.h"
#include "workload_int.h"

/* Rejection-inversion sampler of ranks 1..n with weights k^-s. */
struct zipf_gen {
    double s;
    double hx1;     /* H(1.5) - h(1): the left end of the hat's range */
    double hn;      /* H(n + 0.5): the right end */
    double sq;      /* squeeze: k - x <= sq is always accepted */
    uint64_t n;
};

/* State of one model's generator (one per phase for phased). */
struct wsub {
    const struct sim_workload *wl;
    double wps;             /* writes per second at scale 1 */
    double credit;          /* fraction of a write carried over, [0, 1) */
    uint64_t hot_pages;     /* hotcold */
    uint64_t cold_pages;
    struct zipf_gen z;      /* zipf */
    uint64_t pos;           /* seq: next pfn */
    size_t ti;              /* trace: interval being replayed */
    double tu;              /* trace: time into it */
    double tc;              /* trace: its credit, in entries */
    uint64_t te;            /* trace: its entries written so far */
};

struct sim_wgen {
    struct sim_rng rng;
    const struct sim_workload *wl;
    uint64_t npages;
    double t;               /* clock, seconds since creation */
    size_t phase;           /* phased: the active phase */
    double tau;             /* phased: time into the active phase */
    size_t nsub;
    struct wsub sub[];
};

static void zipf_init(struct zipf_gen *z, uint64_t n, double s)
{
    z->s = s;
    z->n = n;
    z->hx1 = sim__zipf_hint(1.5, s) - 1.0;
    z->hn = sim__zipf_hint((double)n + 0.5, s);
    z->sq = 2.0 - sim__zipf_hinv(sim__zipf_hint(2.5, s) - pow(2.0, -s), s);
}

/*
 * One rank.  u is uniform over the hat's integral range [hx1, hn); x its
 * inverse image; k = x rounded.  The area of the hat over [k - 1/2, k + 1/2]
 * is at least h(k) = k^-s (h is convex), and k is accepted when u falls in
 * the last h(k) of it, so each k is returned with probability proportional
 * to k^-s.  For k = 1 the area is exactly h(1) and it is always accepted.
 * The squeeze k - x <= sq lies inside the accepted part for every k (the
 * paper's Lemma), which spares most draws the second test.
 */
static uint64_t zipf_draw(const struct zipf_gen *z, struct sim_rng *r)
{
    for (;;) {
        double u = z->hn + sim_rng_uniform(r) * (z->hx1 - z->hn);
        double x = sim__zipf_hinv(u, z->s);
        double k = floor(x + 0.5);

        if (!(k >= 1))
            k = 1;
        if (k > (double)z->n)
            k = (double)z->n;
        if (k - x <= z->sq ||
            u >= sim__zipf_hint(k + 0.5, z->s) - pow(k, -z->s))
            return (uint64_t)k;
    }
}

static void sub_init(struct sim_wgen *g, struct wsub *w,
                     const struct sim_workload *wl)
{
    w->wl = wl;
    w->wps = wl->rate / SIM_PAGE_SIZE;
    switch (wl->kind) {
    case SIM_WL_HOTCOLD:
        w->hot_pages = wl->wss_bytes / SIM_PAGE_SIZE;
        if (w->hot_pages > g->npages)
            w->hot_pages = g->npages;
        w->cold_pages = g->npages - w->hot_pages;
        break;
    case SIM_WL_ZIPF:
        zipf_init(&w->z, g->npages, wl->zipf_s);
        break;
    case SIM_WL_SEQ:
        w->pos = sim_rng_below(&g->rng, g->npages);
        break;
    case SIM_WL_IDLE:
    case SIM_WL_TRACE:
        w->wps = 0;
        break;
    default:
        break;
    }
}

struct sim_wgen *sim_wgen_new(const struct sim_workload *wl, uint64_t npages,
                              uint64_t seed)
{
    struct sim_wgen *g;
    size_t nsub;

    if (sim_workload_check(wl, npages, NULL, 0))
        return NULL;
    nsub = wl->kind == SIM_WL_PHASED ? wl->nphases : 1;
    if (nsub > (SIZE_MAX - sizeof(*g)) / sizeof(g->sub[0]))
        return NULL;
    g = calloc(1, sizeof(*g) + nsub * sizeof(g->sub[0]));
    if (!g)
        return NULL;
    g->wl = wl;
    g->npages = npages;
    g->nsub = nsub;
    sim_rng_seed(&g->rng, seed);
    for (size_t i = 0; i < nsub; i++)
        sub_init(g, &g->sub[i],
                 wl->kind == SIM_WL_PHASED ? wl->phases[i].model : wl);
    return g;
}

void sim_wgen_free(struct sim_wgen *g)
{
    free(g);
}

double sim_wgen_time(const struct sim_wgen *g)
{
    return g ? g->t : 0;
}

static uint64_t draw(struct sim_wgen *g, struct wsub *w)
{
    uint64_t p;

    switch (w->wl->kind) {
    case SIM_WL_HOTCOLD:
        if (w->cold_pages == 0 ||
            (w->hot_pages && sim_rng_uniform(&g->rng) < w->wl->hot))
            return sim_rng_below(&g->rng, w->hot_pages);
        return w->hot_pages + sim_rng_below(&g->rng, w->cold_pages);
    case SIM_WL_ZIPF:
        return zipf_draw(&w->z, &g->rng) - 1;
    case SIM_WL_SEQ:
        p = w->pos;
        w->pos = p + 1 == g->npages ? 0 : p + 1;
        return p;
    default:
        return sim_rng_below(&g->rng, g->npages);
    }
}

/* Replay dt seconds of a trace on w's own clock. */
static uint64_t trace_advance(struct wsub *w, double dt, double scale,
                              sim_page_fn fn, void *arg)
{
    const struct sim_trace *tr = w->wl->trace;
    double I = tr->interval_s;
    uint64_t total = 0;

    while (dt > 0) {
        uint64_t m = tr->off[w->ti + 1] - tr->off[w->ti];
        const uint64_t *list = tr->pfns + tr->off[w->ti];
        double left = I - w->tu;
        double seg = dt < left ? dt : left;
        uint64_t e;

        if (m && seg > 0) {
            w->tc += scale * (double)m * (seg / I);
            e = sim__trace_emitted(m, w->tc);
            total += e - w->te;
            for (; w->te < e; w->te++)
                if (fn)
                    fn(arg, list[w->te]);
        }
        if (dt < left) {
            w->tu += dt;
            break;
        }
        /* The interval is over: on to the next, from its exact start. */
        dt -= left;
        w->ti = w->ti + 1 == tr->nintervals ? 0 : w->ti + 1;
        w->tu = 0;
        w->tc = 0;
        w->te = 0;
    }
    return total;
}

static uint64_t sub_advance(struct sim_wgen *g, struct wsub *w, double dt,
                            double scale, sim_page_fn fn, void *arg)
{
    double c;
    uint64_t n;

    if (w->wl->kind == SIM_WL_TRACE)
        return trace_advance(w, dt, scale, fn, arg);
    c = w->credit + w->wps * scale * dt;
    /* 2^62 writes would take centuries to deliver; this only keeps the
     * conversion defined for absurd inputs. */
    if (!(c < 0x1p62))
        c = 0x1p62;
    n = (uint64_t)c;
    w->credit = c - (double)n;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn = draw(g, w);

        if (fn)
            fn(arg, pfn);
    }
    return n;
}

uint64_t sim_wgen_advance(struct sim_wgen *g, double dt, double scale,
                          sim_page_fn fn, void *arg)
{
    const struct sim_workload *wl;
    uint64_t total = 0;

    if (!g || !(dt > 0) || !isfinite(dt))
        return 0;
    if (!(scale > 0))
        scale = 0;
    if (scale > 1)
        scale = 1;
    wl = g->wl;
    g->t += dt;
    if (wl->kind != SIM_WL_PHASED)
        return sub_advance(g, &g->sub[0], dt, scale, fn, arg);

    while (dt > 0) {
        double left = wl->phases[g->phase].duration_s - g->tau;

        if (dt < left) {
            total += sub_advance(g, &g->sub[g->phase], dt, scale, fn, arg);
            g->tau += dt;
            break;
        }
        if (left > 0)
            total += sub_advance(g, &g->sub[g->phase], left, scale, fn, arg);
        dt -= left;
        g->phase = g->phase + 1 == g->nsub ? 0 : g->phase + 1;
        g->tau = 0;
    }
    return total;
}

/* ---- rates and closed forms -------------------------------------------- */

/*
 * Local time of phase p (starting at offset a, lasting d, in a cycle of
 * length c) when the global clock reads t: the time phase p has run.
 */
static double phase_clock(double t, double a, double d, double c)
{
    double q = floor(t / c);
    double x = t - q * c - a;

    return q * d + (x < 0 ? 0 : x > d ? d : x);
}

/*
 * Cycle length of a phased workload, summed from the durations as the
 * generator sees them (not trusting cycle_s); 0 if any phase is unusable.
 */
static double cycle_of(const struct sim_workload *wl)
{
    double c = 0;

    if (!wl->phases)
        return 0;
    for (size_t i = 0; i < wl->nphases; i++) {
        if (!wl->phases[i].model || !(wl->phases[i].duration_s > 0))
            return 0;
        c += wl->phases[i].duration_s;
    }
    return isfinite(c) ? c : 0;
}

double sim_workload_rate_at(const struct sim_workload *wl, double t)
{
    if (!wl || !isfinite(t))
        return 0;
    switch (wl->kind) {
    case SIM_WL_UNIFORM:
    case SIM_WL_HOTCOLD:
    case SIM_WL_ZIPF:
    case SIM_WL_SEQ:
        return wl->rate;
    case SIM_WL_PHASED: {
        double c = cycle_of(wl), x, a = 0;

        if (!(c > 0))
            return 0;
        x = t - floor(t / c) * c;
        for (size_t i = 0; i < wl->nphases; i++) {
            double d = wl->phases[i].duration_s;

            if (x < a + d || i + 1 == wl->nphases)
                return sim_workload_rate_at(wl->phases[i].model,
                                            phase_clock(t, a, d, c));
            a += d;
        }
        return 0;
    }
    case SIM_WL_TRACE: {
        const struct sim_trace *tr = wl->trace;
        double k, n;
        size_t i;

        if (!tr || !tr->off || !tr->nintervals || !(tr->interval_s > 0))
            return 0;
        n = (double)tr->nintervals;
        k = floor(t / tr->interval_s);
        i = (size_t)(k - n * floor(k / n));
        if (i >= tr->nintervals || tr->off[i + 1] < tr->off[i])
            return 0;
        return (double)(tr->off[i + 1] - tr->off[i]) * SIM_PAGE_SIZE /
               tr->interval_s;
    }
    default:
        return 0;
    }
}

/* log(1 - q) for q in [0, 1], accurate for tiny q. */
static double log1m(double q)
{
    if (q < 1e-4)
        return -q * (1.0 + q * (0.5 + q * (1.0 / 3.0 + q * 0.25)));
    return log1p(-q);
}

/* Expected pages hit among `pages`, each hit with probability q per write,
 * after n writes: pages (1 - (1 - q)^n). */
static double hits(double pages, double q, double n)
{
    if (!(n > 0) || !(pages > 0) || !(q > 0))
        return 0;
    return -pages * expm1(n * log1m(q > 1 ? 1 : q));
}

#define ZIPF_EXACT 32   /* ranks summed term by term */
#define ZIPF_ALL 160    /* guests this small are summed entirely */

/* 8-point Gauss-Legendre nodes and weights on [-1, 1] (positive half). */
static const double gl_x[4] = {
    0.1834346424956498, 0.5255324099163290,
    0.7966664774136267, 0.9602898564975363,
};
static const double gl_w[4] = {
    0.3626837833783620, 0.3137066458778873,
    0.2223810344533745, 0.1012285362903763,
};

/* H(N, s) = sum_{k=1..N} k^-s; pw[k] = k^-s for k = 1..min(N, 32). */
static double zipf_norm(uint64_t N, double s, const double *pw)
{
    uint64_t K = N < ZIPF_EXACT ? N : ZIPF_EXACT;
    double h = 0, a, b, fa, fb;

    for (uint64_t k = K; k >= 1; k--)
        h += pw[k];
    if (N == K)
        return h;
    /* Euler-Maclaurin over [K+1, N], through the third derivative. */
    a = (double)(K + 1);
    b = (double)N;
    fa = pow(a, -s);
    fb = pow(b, -s);
    h += sim__zipf_hint(b, s) - sim__zipf_hint(a, s);
    h += 0.5 * (fa + fb);
    h += (-s * fb / b + s * fa / a) / 12.0;
    h -= (-s * (s + 1) * (s + 2) * (fb / (b * b * b) - fa / (a * a * a))) /
         720.0;
    return h;
}

/* g(x) = 1 - (1 - p(x))^n, p(x) = x^-s / H, for x = e^u; also p. */
static double zipf_g(double u, double s, double lnH, double n, double *p)
{
    *p = exp(-s * u - lnH);
    return -expm1(n * log1m(*p));
}

static double zipf_distinct(uint64_t N, double s, double n)
{
    double pw[ZIPF_EXACT + 1];
    uint64_t K = N <= ZIPF_ALL ? N : ZIPF_EXACT;
    double lnH, sum = 0, ua, ub, w, tail, ga, gb, pa, pb, a, b;
    int panels;

    if (!(n > 0))
        return 0;
    if (K == N) {
        /* Small guests: every term exactly. */
        double h = 0;

        for (uint64_t k = N; k >= 1; k--)
            h += pow((double)k, -s);
        for (uint64_t k = N; k >= 1; k--)
            sum -= expm1(n * log1m(pow((double)k, -s) / h));
        return sum;
    }
    for (uint64_t k = 1; k <= K; k++)
        pw[k] = pow((double)k, -s);
    lnH = log(zipf_norm(N, s, pw));
    for (uint64_t k = 1; k <= K; k++)
        sum -= expm1(n * log1m(exp(log(pw[k]) - lnH)));

    /*
     * Ranks K+1..N: Euler-Maclaurin, sum g(k) = integral of g over [a, b]
     * + (g(a) + g(b)) / 2 + (g'(b) - g'(a)) / 12, the integral taken on
     * u = log x (where g is a smooth step of width about 1/s) by 8-point
     * Gauss-Legendre panels.
     */
    a = (double)(K + 1);
    b = (double)N;
    ua = log(a);
    ub = log(b);
    /* Panels 1/s wide, but no narrower than 2/3: with N = 2^22 that is at
     * most 18 panels (144 evaluations), and 6e-8 relative error measured
     * against the plain sum over N <= 2^22, 0.05 <= s <= 10. */
    panels = (int)ceil((ub - ua) * (s < 1 ? 1 : s > 1.5 ? 1.5 : s));
    if (panels < 1)
        panels = 1;
    w = (ub - ua) / panels;
    tail = 0;
    for (int i = 0; i < panels; i++) {
        double mid = ua + (i + 0.5) * w, acc = 0, p;

        for (int j = 0; j < 4; j++) {
            double d = 0.5 * w * gl_x[j];

            acc += gl_w[j] * (exp(mid - d) * zipf_g(mid - d, s, lnH, n, &p) +
                              exp(mid + d) * zipf_g(mid + d, s, lnH, n, &p));
        }
        tail += acc * 0.5 * w;
    }
    ga = zipf_g(ua, s, lnH, n, &pa);
    gb = zipf_g(ub, s, lnH, n, &pb);
    tail += 0.5 * (ga + gb);
    /* g'(x) = -(1 - g) n s p / (x (1 - p)) */
    tail += (-(1 - gb) * n * s * pb / (b * (1 - pb)) +
             (1 - ga) * n * s * pa / (a * (1 - pa))) / 12.0;
    return sum + tail;
}

/* Exact distinct pages of a trace replay in [t0, t0 + dt), see wgen.c. */
static double trace_distinct(const struct sim_trace *tr, uint64_t npages,
                             double t0, double dt, double scale)
{
    double I, f0, f1, n, bound = 0, count = 0;
    uint64_t *bits;
    bool all;

    if (sim__trace_valid(tr, false))
        return 0;
    I = tr->interval_s;
    n = (double)tr->nintervals;
    f0 = floor(t0 / I);
    f1 = ceil((t0 + dt) / I) - 1;
    if (f1 < f0)
        f1 = f0;
    /* With n + 2 intervals touched, every interval is covered whole. */
    all = f1 - f0 + 1 >= n + 2;
    bits = calloc((size_t)((tr->npages + 63) / 64), sizeof(*bits));

    for (double k = all ? 0 : f0; k <= (all ? n - 1 : f1); k++) {
        size_t i = (size_t)(k - n * floor(k / n));
        uint64_t m, j, e;
        double u0 = 0, u1 = I;

        if (i >= tr->nintervals)
            i = 0;
        /* Offsets are only checked by sim_workload_check(); stay safe. */
        m = tr->off[i + 1] > tr->off[i] ? tr->off[i + 1] - tr->off[i] : 0;
        if (!all) {
            u0 = t0 - k * I;
            u1 = t0 + dt - k * I;
            u0 = u0 < 0 ? 0 : u0;
            u1 = u1 > I ? I : u1;
        }
        j = sim__trace_emitted(m, scale * (double)m * (u0 / I));
        e = sim__trace_emitted(m, scale * (double)m * (u1 / I));
        bound += (double)(e > j ? e - j : 0);
        for (; bits && j < e; j++) {
            uint64_t p = tr->pfns[tr->off[i] + j];

            /* Checked here, not up front, to keep small windows cheap. */
            if (p >= tr->npages)
                continue;
            if (!(bits[p / 64] & (UINT64_C(1) << (p % 64)))) {
                bits[p / 64] |= UINT64_C(1) << (p % 64);
                count += p < npages;
            }
        }
    }
    if (!bits)
        /* Out of memory: the undeduplicated count is an upper bound. */
        return bound < (double)npages ? bound : (double)npages;
    free(bits);
    return count;
}

static double distinct_one(const struct sim_workload *wl, uint64_t npages,
                           double t0, double dt, double scale)
{
    double N = (double)npages;
    double n = wl->rate / SIM_PAGE_SIZE * scale * dt;

    switch (wl->kind) {
    case SIM_WL_UNIFORM:
        return hits(N, 1.0 / N, n);
    case SIM_WL_HOTCOLD: {
        uint64_t hp = wl->wss_bytes / SIM_PAGE_SIZE;
        double H, C, h = wl->hot;

        hp = hp < npages ? hp : npages;
        H = (double)hp;
        C = N - H;
        h = hp == 0 ? 0 : hp == npages ? 1 : h;
        return hits(H, h / H, n) + hits(C, (1 - h) / C, n);
    }
    case SIM_WL_ZIPF:
        if (!(wl->zipf_s > 0))
            return 0;
        return zipf_distinct(npages, wl->zipf_s, n);
    case SIM_WL_SEQ:
        return n < N ? (n > 0 ? n : 0) : N;
    case SIM_WL_TRACE:
        return trace_distinct(wl->trace, npages, t0, dt, scale);
    case SIM_WL_PHASED: {
        double clean = 1, a = 0, c = cycle_of(wl);

        if (!(c > 0))
            return 0;
        for (size_t i = 0; i < wl->nphases; i++) {
            const struct sim_workload *m = wl->phases[i].model;
            double d = wl->phases[i].duration_s;
            double l0 = phase_clock(t0, a, d, c);
            double l1 = phase_clock(t0 + dt, a, d, c);

            a += d;
            if (!m || m->kind == SIM_WL_PHASED || !(l1 > l0))
                continue;
            clean *= 1 - distinct_one(m, npages, l0, l1 - l0, scale) / N;
        }
        return N * (1 - clean);
    }
    default:
        return 0;
    }
}

double sim_workload_distinct(const struct sim_workload *wl, uint64_t npages,
                             double t0, double dt, double scale)
{
    double d;

    if (!wl || npages == 0 || !(dt > 0) || !(scale > 0) || !isfinite(t0))
        return 0;
    if (scale > 1)
        scale = 1;
    if (dt > 1e15)
        dt = 1e15;
    d = distinct_one(wl, npages, t0, dt, scale);
    if (!(d > 0))
        return 0;
    return d < (double)npages ? d : (double)npages;
}

/* ---- state save / load (workload.h) -------------------------------------- */

/*
 * Blob layout, little-endian, version 1:
 *   off  size  field
 *     0     4  version (1)
 *     4     4  kind (enum sim_workload_kind of the top-level model)
 *     8     8  npages
 *    16     8  nsub
 *    24    32  rng s[0..3]
 *    56     8  t (IEEE-754 bits)
 *    64     8  phase
 *    72     8  tau (bits)
 *    80  48*n  per model: credit, pos, ti, tu, tc, te (doubles as bits)
 */
#define WGEN_STATE_VERSION 1u
#define WGEN_STATE_FIXED 80u
#define WGEN_STATE_SUB 48u

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void putd(uint8_t *p, double d)
{
    uint64_t v;

    memcpy(&v, &d, 8);
    put64(p, v);
}

static double getd(const uint8_t *p)
{
    uint64_t v = get64(p);
    double d;

    memcpy(&d, &v, 8);
    return d;
}

size_t sim_wgen_state_size(const struct sim_wgen *g)
{
    return WGEN_STATE_FIXED + WGEN_STATE_SUB * g->nsub;
}

size_t sim_wgen_state_save(const struct sim_wgen *g, void *buf, size_t len)
{
    size_t need = sim_wgen_state_size(g);
    uint8_t *p = buf;

    if (len < need)
        return 0;
    put64(p, WGEN_STATE_VERSION | (uint64_t)g->wl->kind << 32);
    put64(p + 8, g->npages);
    put64(p + 16, g->nsub);
    for (int i = 0; i < 4; i++)
        put64(p + 24 + 8 * i, g->rng.s[i]);
    putd(p + 56, g->t);
    put64(p + 64, g->phase);
    putd(p + 72, g->tau);
    for (size_t i = 0; i < g->nsub; i++) {
        const struct wsub *w = &g->sub[i];
        uint8_t *q = p + WGEN_STATE_FIXED + WGEN_STATE_SUB * i;

        putd(q, w->credit);
        put64(q + 8, w->pos);
        put64(q + 16, w->ti);
        putd(q + 24, w->tu);
        putd(q + 32, w->tc);
        put64(q + 40, w->te);
    }
    return need;
}

static bool in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

/* Check one model's saved values against what the generator can reach. */
static bool sub_valid(const struct sim_wgen *g, const struct wsub *w,
                      const uint8_t *q)
{
    double credit = getd(q), tu = getd(q + 24), tc = getd(q + 32);
    uint64_t pos = get64(q + 8), ti = get64(q + 16), te = get64(q + 40);
    const struct sim_trace *tr;
    uint64_t m;

    if (!in_range(credit, 0, 1) || credit == 1 || pos >= g->npages)
        return false;
    if (w->wl->kind != SIM_WL_TRACE)
        return ti == 0 && tu == 0 && tc == 0 && te == 0;
    tr = w->wl->trace;
    if (ti >= tr->nintervals)
        return false;
    m = tr->off[ti + 1] - tr->off[ti];
    return in_range(tu, 0, tr->interval_s) && in_range(tc, 0, (double)m) &&
           te <= sim__trace_emitted(m, tc);
}

int sim_wgen_state_load(struct sim_wgen *g, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t head, phase;
    double t, tau;

    if (!buf || len != sim_wgen_state_size(g))
        return MIG_ECORRUPT;
    head = get64(p);
    if ((uint32_t)head != WGEN_STATE_VERSION ||
        (head >> 32) != (uint64_t)g->wl->kind || get64(p + 8) != g->npages ||
        get64(p + 16) != g->nsub)
        return MIG_ECORRUPT;
    if (!(get64(p + 24) | get64(p + 32) | get64(p + 40) | get64(p + 48)))
        return MIG_ECORRUPT;        /* xoshiro's one invalid state */
    t = getd(p + 56);
    phase = get64(p + 64);
    tau = getd(p + 72);
    if (!in_range(t, 0, HUGE_VAL) || phase >= g->nsub)
        return MIG_ECORRUPT;
    if (g->wl->kind == SIM_WL_PHASED
            ? !in_range(tau, 0, g->wl->phases[phase].duration_s)
            : tau != 0)
        return MIG_ECORRUPT;
    for (size_t i = 0; i < g->nsub; i++)
        if (!sub_valid(g, &g->sub[i],
                       p + WGEN_STATE_FIXED + WGEN_STATE_SUB * i))
            return MIG_ECORRUPT;

    for (int i = 0; i < 4; i++)
        g->rng.s[i] = get64(p + 24 + 8 * i);
    g->t = t;
    g->phase = (size_t)phase;
    g->tau = tau;
    for (size_t i = 0; i < g->nsub; i++) {
        struct wsub *w = &g->sub[i];
        const uint8_t *q = p + WGEN_STATE_FIXED + WGEN_STATE_SUB * i;

        w->credit = getd(q);
        w->pos = get64(q + 8);
        w->ti = (size_t)get64(q + 16);
        w->tu = getd(q + 24);
        w->tc = getd(q + 32);
        w->te = get64(q + 40);
    }
    return 0;
}
