/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the pre-copy stop policies (see policy.h for the contract and
 * shared/reference/xen-qemu-facts.md for the behaviour being reproduced).
 */
#include <math.h>
#include <strings.h>

#include "mig_err.h"
#include "policy.h"

static const char *const policy_names[] = {
    [MIG_POLICY_XEN] = "xen",
    [MIG_POLICY_XEN_LEGACY] = "xen-legacy",
    [MIG_POLICY_QEMU] = "qemu",
    [MIG_POLICY_MIGLAB] = "miglab",
};

static const char *const stop_reason_names[] = {
    [MIG_STOP_NONE] = "none",
    [MIG_STOP_DIRTY_THRESHOLD] = "dirty_threshold",
    [MIG_STOP_PASS_CAP] = "pass_cap",
    [MIG_STOP_SENT_CAP] = "sent_cap",
    [MIG_STOP_DOWNTIME_MET] = "downtime_met",
    [MIG_STOP_NO_PROGRESS] = "no_progress",
    [MIG_STOP_TIME_BUDGET] = "time_budget",
    [MIG_STOP_BYTE_BUDGET] = "byte_budget",
    [MIG_STOP_COLD] = "cold",
    [MIG_STOP_TIME_LIMIT] = "time_limit",
};

static const char *const action_names[] = {
    [MIG_ACT_CONTINUE] = "continue",
    [MIG_ACT_LAST_LIVE_PASS] = "last_live_pass",
    [MIG_ACT_STOP_AND_COPY] = "stop_and_copy",
    [MIG_ACT_ABORT] = "abort",
};

void mig_policy_defaults(struct mig_policy *p, enum mig_policy_kind kind)
{
    *p = (struct mig_policy){
        .kind = kind,
        .dirty_threshold = 50,
        .downtime_limit_s = 0.300,
        .throttle_initial = 0.20,
        .throttle_increment = 0.10,
        .throttle_max = 0.99,
        .throttle_trigger = 0.50,
        .min_progress = 0.05,
        .stall_passes = 3,
        .fixed_downtime_s = -1,
        .drain = true,
    };
    switch (kind) {
    case MIG_POLICY_XEN:
        p->max_passes = 5;              /* SPP_MAX_ITERATIONS */
        break;
    case MIG_POLICY_XEN_LEGACY:
        p->max_passes = 30;
        p->max_sent_factor = 3.0;
        break;
    case MIG_POLICY_QEMU:
        p->max_bandwidth_Bps = 128.0 * 1024 * 1024;
        break;
    case MIG_POLICY_MIGLAB:
        p->max_passes = 30;
        break;
    }
}

int mig_policy_validate(const struct mig_policy *p)
{
    if ((unsigned)p->kind > MIG_POLICY_MIGLAB)
        return MIG_EINVAL;
    /* The negated comparisons also reject NaN. */
    if (!(p->downtime_limit_s >= 0) || !isfinite(p->downtime_limit_s) ||
        !(p->max_bandwidth_Bps >= 0) || !(p->max_sent_factor >= 0) ||
        isnan(p->fixed_downtime_s) || !(p->time_budget_s >= 0))
        return MIG_EINVAL;
    if (!(p->throttle_initial >= 0 && p->throttle_initial <= 0.99) ||
        !(p->throttle_increment >= 0 && p->throttle_increment <= 0.99) ||
        !(p->throttle_max >= 0 && p->throttle_max <= 0.99) ||
        !(p->throttle_trigger > 0) ||
        !(p->min_progress >= 0 && p->min_progress < 1))
        return MIG_EINVAL;
    if (p->kind == MIG_POLICY_MIGLAB && p->stall_passes == 0)
        return MIG_EINVAL;
    return 0;
}

static struct mig_policy_decision decision(enum mig_policy_action a,
                                           enum mig_stop_reason r)
{
    return (struct mig_policy_decision){ .action = a, .reason = r };
}

/* The transfer rate the previous pass achieved; 0 when unknown. */
static double measured_bandwidth(const struct mig_precopy_stats *s)
{
    if (s->last_pass_s <= 0)
        return s->last_pass_bytes ? INFINITY : 0;
    return (double)s->last_pass_bytes / s->last_pass_s;
}

/*
 * Xen 4.6+: stop when the iteration cap is reached (before the CLEAN, so the
 * pending set goes into the suspended pass) or when CLEAN returned fewer
 * than the threshold (that set is still sent live).
 */
static struct mig_policy_decision decide_xen(const struct mig_policy *p,
                                             const struct mig_precopy_stats *s)
{
    if (p->max_passes && s->iteration >= p->max_passes)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP);
    if (s->dirty_count < p->dirty_threshold)
        return decision(MIG_ACT_LAST_LIVE_PASS, MIG_STOP_DIRTY_THRESHOLD);
    return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
}

/* Xen <= 4.5: the test follows each pass and looks at what it sent. */
static struct mig_policy_decision
decide_xen_legacy(const struct mig_policy *p, const struct mig_precopy_stats *s)
{
    if (s->iteration == 0)
        return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
    if (p->max_passes && s->iteration >= p->max_passes)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP);
    if (s->last_pass_pages < p->dirty_threshold)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_DIRTY_THRESHOLD);
    if (p->max_sent_factor > 0 &&
        (double)s->total_written > p->max_sent_factor * (double)s->mem_pages)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_SENT_CAP);
    return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
}

/* QEMU auto-converge: every second "dirty rate high" sync steps the throttle. */
static void qemu_auto_converge(const struct mig_policy *p,
                               struct mig_policy_state *st,
                               const struct mig_precopy_stats *s)
{
    double dirtied = (double)s->dirty_count * s->page_bytes;

    if (dirtied <= p->throttle_trigger * (double)s->last_pass_bytes)
        return;
    if (++st->high_dirty_passes < 2)
        return;
    st->high_dirty_passes = 0;
    if (st->throttle == 0)
        st->throttle = p->throttle_initial;
    else
        st->throttle = fmin(st->throttle + p->throttle_increment,
                            p->throttle_max);
}

static struct mig_policy_decision decide_qemu(const struct mig_policy *p,
                                              struct mig_policy_state *st,
                                              const struct mig_precopy_stats *s)
{
    double pending, threshold;

    /* The bulk stage runs before any bandwidth is known. */
    if (s->iteration == 0)
        return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
    pending = (double)s->dirty_count * s->page_bytes;
    threshold = measured_bandwidth(s) * p->downtime_limit_s;
    if (pending <= threshold)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_DOWNTIME_MET);
    if (p->max_passes && s->iteration >= p->max_passes)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP);
    if (p->auto_converge)
        qemu_auto_converge(p, st, s);
    return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
}

static struct mig_policy_decision decide_miglab(const struct mig_policy *p,
                                                struct mig_policy_state *st,
                                                const struct mig_precopy_stats *s)
{
    double bw, predicted;
    uint64_t prev = st->prev_dirty;

    if (p->time_budget_s > 0 && s->elapsed_s >= p->time_budget_s)
        return decision(MIG_ACT_ABORT, MIG_STOP_TIME_BUDGET);
    if (p->byte_budget > 0 && s->bytes_sent >= p->byte_budget)
        return decision(MIG_ACT_ABORT, MIG_STOP_BYTE_BUDGET);
    st->prev_dirty = s->dirty_count;
    if (s->iteration == 0)
        return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);

    bw = measured_bandwidth(s);
    predicted = fmax(p->fixed_downtime_s, 0) +
                (bw > 0 ? (double)s->dirty_count * s->page_bytes / bw
                        : INFINITY);
    if (predicted <= p->downtime_limit_s)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_DOWNTIME_MET);

    if ((double)s->dirty_count > (1.0 - p->min_progress) * (double)prev)
        st->stalled++;
    else
        st->stalled = 0;
    if (st->stalled >= p->stall_passes)
        return decision(p->abort_on_stall ? MIG_ACT_ABORT
                                          : MIG_ACT_STOP_AND_COPY,
                        MIG_STOP_NO_PROGRESS);
    if (p->max_passes && s->iteration >= p->max_passes)
        return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_PASS_CAP);
    return decision(MIG_ACT_CONTINUE, MIG_STOP_NONE);
}

struct mig_policy_decision mig_policy_decide(const struct mig_policy *p,
                                             struct mig_policy_state *state,
                                             struct mig_precopy_stats stats)
{
    switch (p->kind) {
    case MIG_POLICY_XEN:
        return decide_xen(p, &stats);
    case MIG_POLICY_XEN_LEGACY:
        return decide_xen_legacy(p, &stats);
    case MIG_POLICY_QEMU:
        return decide_qemu(p, state, &stats);
    case MIG_POLICY_MIGLAB:
        return decide_miglab(p, state, &stats);
    }
    return decision(MIG_ACT_STOP_AND_COPY, MIG_STOP_NONE);
}

const char *mig_policy_name(enum mig_policy_kind kind)
{
    return (unsigned)kind <= MIG_POLICY_MIGLAB ? policy_names[kind] : "?";
}

int mig_policy_parse(const char *name, enum mig_policy_kind *out)
{
    for (unsigned i = 0; i <= MIG_POLICY_MIGLAB; i++) {
        if (strcasecmp(name, policy_names[i]) == 0) {
            *out = (enum mig_policy_kind)i;
            return 0;
        }
    }
    return MIG_EINVAL;
}

const char *mig_stop_reason_name(enum mig_stop_reason r)
{
    return (unsigned)r <= MIG_STOP_TIME_LIMIT ? stop_reason_names[r] : "?";
}

const char *mig_policy_action_name(enum mig_policy_action a)
{
    return (unsigned)a <= MIG_ACT_ABORT ? action_names[a] : "?";
}
