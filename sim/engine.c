/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the simulator's driver loop and its two dirty-page counters
 * (analytic closed forms, exact bitmap); see engine.h for the timeline.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "mig_err.h"
#include "units.h"

#define MAX_PASSES_GUARD 100000u

/*
 * Dirty pages since the last CLEAN.  The analytic counter keeps the window
 * start and asks the workload's closed form; the exact counter keeps a
 * bitmap that the seeded generator fills.
 */
struct dirt {
    const struct sim_workload *wl;  /* NULL: idle */
    uint64_t npages;
    double window_start;
    double now;
    double scale;                   /* 1 - throttle, fixed within a window */
    struct sim_wgen *gen;           /* exact engine only */
    uint64_t *bitmap;
    size_t nwords;
    uint64_t count;                 /* bits set in bitmap */
};

static void mark_page(void *arg, uint64_t pfn)
{
    struct dirt *d = arg;
    uint64_t bit = 1ULL << (pfn & 63);
    uint64_t *w = &d->bitmap[pfn >> 6];

    if (!(*w & bit)) {
        *w |= bit;
        d->count++;
    }
}

static void ignore_page(void *arg, uint64_t pfn)
{
    (void)arg;
    (void)pfn;
}

static int dirt_init(struct dirt *d, const struct sim_config *cfg,
                     uint64_t npages, double start)
{
    *d = (struct dirt){ .wl = cfg->workload, .npages = npages,
                        .window_start = start, .now = start, .scale = 1.0 };
    if (cfg->engine != SIM_ENGINE_EXACT || !d->wl ||
        d->wl->kind == SIM_WL_IDLE)
        return 0;
    d->nwords = (size_t)((npages + 63) / 64);
    d->bitmap = calloc(d->nwords, sizeof(*d->bitmap));
    d->gen = sim_wgen_new(d->wl, npages, cfg->seed);
    if (!d->bitmap || !d->gen)
        return MIG_ENOMEM;
    /* Writes before log-dirty is enabled are not tracked, but they move the
     * generator's clock and random stream exactly as the guest's would. */
    sim_wgen_advance(d->gen, start, 1.0, ignore_page, NULL);
    return 0;
}

static void dirt_free(struct dirt *d)
{
    sim_wgen_free(d->gen);
    free(d->bitmap);
}

/* Let the guest run until `until`. */
static void dirt_run(struct dirt *d, double until)
{
    if (until <= d->now)
        return;
    if (d->gen)
        sim_wgen_advance(d->gen, until - d->now, d->scale, mark_page, d);
    d->now = until;
}

/* Distinct pages dirtied since the last CLEAN (Xen's PEEK). */
static uint64_t dirt_peek(const struct dirt *d)
{
    double n;

    if (d->gen)
        return d->count;
    if (!d->wl || d->now <= d->window_start)
        return 0;
    n = sim_workload_distinct(d->wl, d->npages, d->window_start,
                              d->now - d->window_start, d->scale);
    if (!(n > 0))
        return 0;
    return n >= (double)d->npages ? d->npages : (uint64_t)llround(n);
}

/* Xen's CLEAN: start a new window now, with the throttle now in force. */
static void dirt_clean(struct dirt *d, double throttle)
{
    d->window_start = d->now;
    d->scale = 1.0 - throttle;
    if (d->gen) {
        memset(d->bitmap, 0, d->nwords * sizeof(*d->bitmap));
        d->count = 0;
    }
}

void sim_config_defaults(struct sim_config *c)
{
    *c = (struct sim_config){
        .mode = SIM_MODE_LIVE,
        .mem_bytes = 1ULL << 30,
        .vcpus = 1,
        .engine = SIM_ENGINE_ANALYTIC,
        .seed = 1,
        .time_limit_s = 3600,
    };
    sim_link_defaults(&c->link);
    mig_policy_defaults(&c->policy, MIG_POLICY_XEN);
    sim_costs_defaults(&c->costs);
}

int sim_config_validate(const struct sim_config *c, char *err, size_t errlen)
{
    const char *why = NULL;
    char wl_err[160];

    if (c->mem_bytes < SIM_PAGE_SIZE || c->mem_bytes % SIM_PAGE_SIZE)
        why = "memory must be a positive multiple of 4 KiB";
    else if (c->mem_bytes > (1ULL << 50))
        why = "memory above 1 PiB is not supported";
    else if (c->vcpus < 1 || c->vcpus > 4096)
        why = "vcpus must be 1..4096";
    else if (sim_link_validate(&c->link))
        why = "link parameters out of range";
    else if (mig_policy_validate(&c->policy))
        why = "policy parameters out of range";
    else if (sim_costs_validate(&c->costs))
        why = "fixed costs must be finite and non-negative";
    else if (!(c->time_limit_s > 0) || !isfinite(c->time_limit_s))
        why = "time limit must be positive";
    else if ((unsigned)c->mode > SIM_MODE_COLD ||
             (unsigned)c->engine > SIM_ENGINE_EXACT)
        why = "bad mode or engine";
    if (!why && c->workload &&
        sim_workload_check(c->workload, c->mem_bytes / SIM_PAGE_SIZE,
                           wl_err, sizeof(wl_err)))
        why = wl_err;
    if (!why)
        return 0;
    if (errlen)
        snprintf(err, errlen, "%s", why);
    return MIG_EINVAL;
}

uint64_t sim_config_pause_backlog(const struct sim_config *c)
{
    return c->costs.pause_backlog_bytes == SIM_PAUSE_BACKLOG_MODEL
               ? sim_link_standing_queue_bytes(&c->link)
               : c->costs.pause_backlog_bytes;
}

void sim_result_init(struct sim_result *r)
{
    memset(r, 0, sizeof(*r));
}

void sim_result_clear(struct sim_result *r)
{
    free(r->passes);
    memset(r, 0, sizeof(*r));
}

static struct sim_pass *add_pass(struct sim_result *r)
{
    if (r->npasses == r->passes_cap) {
        size_t cap = r->passes_cap ? r->passes_cap * 2 : 16;
        struct sim_pass *p = realloc(r->passes, cap * sizeof(*p));

        if (!p)
            return NULL;
        r->passes = p;
        r->passes_cap = cap;
    }
    r->passes[r->npasses] = (struct sim_pass){ .index =
                                               (unsigned)r->npasses + 1 };
    return &r->passes[r->npasses++];
}

/* The rate pages leave the sender at: link goodput, policy and CPU caps. */
static double transfer_rate(const struct sim_config *cfg, double goodput)
{
    double rate = goodput;

    if (cfg->policy.max_bandwidth_Bps > 0)
        rate = fmin(rate, cfg->policy.max_bandwidth_Bps);
    if (cfg->costs.copy_rate_Bps > 0)
        rate = fmin(rate, cfg->costs.copy_rate_Bps);
    return rate;
}

/* How long the live passes kept arriving after the sender had written
 * the last of them: what is still queued then (at most what they sent;
 * the sender writes pass after pass without waiting) at the transfer
 * rate (docs/calibrate.md). */
static double queued_after_live(const struct sim_config *cfg,
                                const struct sim_result *r)
{
    uint64_t live = r->bytes_sent - cfg->costs.stream_header_bytes;
    uint64_t backlog = sim_config_pause_backlog(cfg);

    return (double)(live < backlog ? live : backlog) / r->transfer_Bps;
}

/*
 * The pause after the last live pass, which ended at *t on the model's
 * timeline (its last byte leaving at the transfer rate).  When the policy
 * drains, the sender waits until the destination has acknowledged the
 * passes, one round trip after that (the byte's trip and its ACK's), the
 * guest still running; *t moves to the pause.  The sender's wait starts
 * when it has written the pass, the queue earlier: r->drain_s counts from
 * there, as the sender measures it, and so does the guest's dirtying
 * since the last CLEAN.  Returns the time the guest dirties until, on the
 * dirt's clock.
 */
static double pause_at(const struct sim_config *cfg, struct sim_result *r,
                       double *t)
{
    double queued;

    r->drained = cfg->policy.drain;
    if (!r->drained) {
        r->drain_s = 0;
        return *t;
    }
    queued = queued_after_live(cfg, r);
    r->drain_s = queued + cfg->link.rtt_s;
    *t += cfg->link.rtt_s;
    return *t + queued;
}

/* Stop-and-copy of `final` pages starting at `t` (guest being suspended). */
static int finish(const struct sim_config *cfg, struct sim_result *r,
                  double t, uint64_t final, double throttle)
{
    const struct sim_costs *c = &cfg->costs;
    struct sim_downtime_parts *dp = &r->downtime_parts;
    uint64_t bytes = sim_page_data_bytes(final) +
                     sim_costs_state_bytes(c, cfg->vcpus);
    double rtt = cfg->link.rtt_s;
    /* Without a drain the pause starts when the last live pass is in the
     * sender's socket, not on the wire: what is still queued drains
     * inside the downtime, and the pause begins that much earlier.  With
     * one, t is the pause (pause_at()) and nothing is queued. */
    double queued_s = r->drained ? 0 : queued_after_live(cfg, r);
    struct sim_pass *p = add_pass(r);

    if (!p)
        return MIG_ENOMEM;
    dp->suspend_s = c->suspend_s;
    dp->final_copy_s = queued_s + (double)bytes / r->transfer_Bps;
    dp->propagation_s = rtt / 2;
    /* One lost segment of the burst stalls the destination's in-order
     * delivery until its retransmission: about one round trip (RACK: a
     * later segment's SACK, a quarter-RTT reordering window, the
     * retransmission's trip).  The prediction is the median run, so the
     * stall counts when it is the likelier case (docs/model.md). */
    r->final_loss_p = cfg->link.loss > 0 && r->link.mss > 0
                          ? 1 - pow(1 - cfg->link.loss,
                                    ceil((double)bytes / r->link.mss))
                          : 0;
    dp->loss_recovery_s = r->final_loss_p >= 0.5 ? rtt : 0;
    dp->restore_s = c->restore_s;
    dp->handshake_s = c->handshake_rtts * rtt;
    dp->unpause_s = c->unpause_s;
    r->downtime_s = dp->suspend_s + dp->final_copy_s + dp->propagation_s +
                    dp->loss_recovery_s + dp->restore_s + dp->handshake_s +
                    dp->unpause_s;
    r->total_time_s = t - queued_s + r->downtime_s;

    *p = (struct sim_pass){ .index = p->index, .live = false,
                            .pages = final, .bytes = bytes,
                            .start_s = t + c->suspend_s,
                            .duration_s = dp->final_copy_s - queued_s,
                            .throttle = throttle };
    r->bytes_sent += bytes;
    r->pages_sent += final;
    r->outcome = SIM_OUTCOME_COMPLETED;
    return 0;
}

/* Pre-copy: the driver loop of ref/policy.h, on simulated time. */
static int precopy(const struct sim_config *cfg, struct sim_result *r,
                   struct dirt *d, double t)
{
    struct mig_policy policy = cfg->policy;
    struct mig_policy_state st = { 0 };
    struct mig_precopy_stats s = {
        .mem_pages = r->mem_pages,
        .dirty_count = r->mem_pages,        /* pass 1 sends everything */
        .page_bytes = SIM_PAGE_SIZE + SIM_PFN_WORD,
    };
    double suspend = cfg->costs.suspend_s;
    bool first = true;

    if (policy.fixed_downtime_s < 0)
        policy.fixed_downtime_s = sim_costs_fixed_downtime(
            &cfg->costs, cfg->vcpus, cfg->link.rtt_s, r->transfer_Bps);

    for (;;) {
        struct mig_policy_decision dec;
        uint64_t final;

        s.bytes_sent = r->bytes_sent;
        s.elapsed_s = t;
        if (t > cfg->time_limit_s || r->npasses >= MAX_PASSES_GUARD) {
            r->outcome = SIM_OUTCOME_UNFINISHED;
            r->stop_reason = MIG_STOP_TIME_LIMIT;
            r->total_time_s = t;
            return 0;
        }
        dec = mig_policy_decide(&policy, &st, s);
        r->stop_reason = dec.reason;
        if (dec.action == MIG_ACT_ABORT) {
            r->outcome = SIM_OUTCOME_ABORTED;
            r->total_time_s = t;
            return 0;
        }
        if (dec.action == MIG_ACT_STOP_AND_COPY) {
            /* The pending set was never sent: it and whatever the guest
             * dirties until it is paused go into the final pass. */
            dirt_run(d, (first ? t : pause_at(cfg, r, &t)) + suspend);
            final = first ? r->mem_pages : dirt_peek(d);
            return finish(cfg, r, t, final, st.throttle);
        }

        dirt_clean(d, st.throttle);
        if (s.dirty_count > 0) {
            uint64_t bytes = sim_page_data_bytes(s.dirty_count);
            double dur = (double)bytes / r->transfer_Bps;
            struct sim_pass *p = add_pass(r);

            if (!p)
                return MIG_ENOMEM;
            dirt_run(d, t + dur);
            p->live = true;
            p->pages = s.dirty_count;
            p->bytes = bytes;
            p->start_s = t;
            p->duration_s = dur;
            p->dirty_after = dirt_peek(d);
            p->throttle = st.throttle;
            t += dur;
            r->bytes_sent += bytes;
            r->pages_sent += s.dirty_count;
            r->live_passes++;
            s.total_written += s.dirty_count;
            s.last_pass_pages = s.dirty_count;
            s.last_pass_bytes = bytes;
            s.last_pass_s = dur;
        }
        first = false;
        if (dec.action == MIG_ACT_LAST_LIVE_PASS) {
            dirt_run(d, pause_at(cfg, r, &t) + suspend);
            return finish(cfg, r, t, dirt_peek(d), st.throttle);
        }
        s.iteration++;
        s.dirty_count = dirt_peek(d);
    }
}

int sim_run(const struct sim_config *cfg, struct sim_result *r)
{
    struct sim_pass *passes = r->passes;
    size_t cap = r->passes_cap;
    struct dirt d;
    double t;
    int rc;

    if (sim_config_validate(cfg, NULL, 0))
        return MIG_EINVAL;
    memset(r, 0, sizeof(*r));
    r->passes = passes;
    r->passes_cap = cap;
    r->mode = cfg->mode;
    r->policy = cfg->policy.kind;
    r->engine = cfg->engine;
    r->mem_pages = cfg->mem_bytes / SIM_PAGE_SIZE;
    sim_link_goodput(&cfg->link, &r->link);
    r->transfer_Bps = transfer_rate(cfg, r->link.goodput_Bps);
    if (!(r->transfer_Bps > 0) || !isfinite(r->transfer_Bps))
        return MIG_EINVAL;

    t = cfg->costs.setup_rtts * cfg->link.rtt_s +
        (double)cfg->costs.stream_header_bytes / r->transfer_Bps;
    r->setup_s = t;
    r->bytes_sent = cfg->costs.stream_header_bytes;

    rc = dirt_init(&d, cfg, r->mem_pages, t);
    if (rc)
        goto out;
    if (cfg->mode == SIM_MODE_COLD) {
        r->stop_reason = MIG_STOP_COLD;
        rc = finish(cfg, r, t, r->mem_pages, 0);
    } else {
        rc = precopy(cfg, r, &d, t);
    }
    r->converged = r->outcome == SIM_OUTCOME_COMPLETED &&
                   (r->stop_reason == MIG_STOP_DIRTY_THRESHOLD ||
                    r->stop_reason == MIG_STOP_DOWNTIME_MET ||
                    r->stop_reason == MIG_STOP_COLD);
out:
    dirt_free(&d);
    return rc;
}

static const char *const mode_names[] = { "live", "cold" };
static const char *const engine_names[] = { "analytic", "exact" };
static const char *const outcome_names[] = { "completed", "aborted",
                                             "unfinished", "refused" };

const char *sim_mode_name(enum sim_mode m)
{
    return (unsigned)m <= SIM_MODE_COLD ? mode_names[m] : "?";
}

const char *sim_engine_name(enum sim_engine_kind e)
{
    return (unsigned)e <= SIM_ENGINE_EXACT ? engine_names[e] : "?";
}

const char *sim_outcome_name(enum sim_outcome o)
{
    return (unsigned)o <= SIM_OUTCOME_REFUSED ? outcome_names[o] : "?";
}

static int parse_name(const char *s, const char *const *names, unsigned n,
                      unsigned *out)
{
    for (unsigned i = 0; i < n; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return MIG_EINVAL;
}

int sim_mode_parse(const char *s, enum sim_mode *out)
{
    unsigned v;
    int rc = parse_name(s, mode_names, 2, &v);

    if (!rc)
        *out = (enum sim_mode)v;
    return rc;
}

int sim_engine_parse(const char *s, enum sim_engine_kind *out)
{
    unsigned v;
    int rc = parse_name(s, engine_names, 2, &v);

    if (!rc)
        *out = (enum sim_engine_kind)v;
    return rc;
}
