/* SPDX-License-Identifier: MIT */
/*
 * policy.h - pre-copy stop policies, shared by the simulator and the
 * reference implementation.
 *
 * A policy is a pure function of the statistics of the passes so far: it
 * decides, at each pass boundary, whether to run another live pass, to stop
 * and copy, or to abort.  No I/O, no clock: the caller measures and passes
 * numbers in, so sim/engine and ref/sender make identical decisions on
 * identical numbers.
 *
 * The driver loop both callers run (Xen's send_memory_live() shape):
 *
 *   pending = all pages; iteration = 0
 *   loop:
 *     d = mig_policy_decide(policy, &state, stats{iteration, pending, ...})
 *     CONTINUE        send pending live; pending = CLEAN(); iteration++
 *     LAST_LIVE_PASS  send pending live; [drain]; suspend; final = CLEAN()
 *     STOP_AND_COPY   [drain]; suspend; final = pending + CLEAN()
 *     ABORT           stop; the guest keeps running at the source
 *
 * Policies (facts: shared/reference/xen-qemu-facts.md):
 *   xen         Xen 4.6-4.19 simple_precopy_policy as libxc applies it: at
 *               most 5 live passes including the full first one; a CLEAN that
 *               returns fewer than 50 pages ends pre-copy, that small set is
 *               still sent live, then stop-and-copy.
 *   xen-legacy  Xen <= 4.5: up to 30 live passes, stop once a pass sent
 *               fewer than 50 pages or more than 3x memory has been sent.
 *   qemu        QEMU: stop-and-copy when the pending bytes fit in
 *               bandwidth x downtime-limit (300 ms); no pass cap; transfer
 *               capped at max-bandwidth (128 MiB/s); optional auto-converge:
 *               after every second pass whose dirtied bytes exceed 50% of the
 *               bytes it sent, throttle the vCPUs 20%, then +10% up to 99%.
 *   miglab      ours, SLO-driven: stop-and-copy when the predicted downtime
 *               (pending bytes / measured bandwidth + fixed downtime costs)
 *               meets the target; abort cleanly when a time or byte budget is
 *               exceeded; stop-and-copy (or abort, if so configured) when
 *               pending stops shrinking or the pass cap is reached.
 * [drain] (every kind, `drain`, on by default): the guest is not paused
 * while live-pass data is still queued on the way to the destination; the
 * sender waits for its socket's send queue to empty, the guest running.
 * A pause behind a queue would add the queue (random: it depends on the
 * congestion control's state) to the downtime.
 */
#ifndef MIG_POLICY_H
#define MIG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum mig_policy_kind {
    MIG_POLICY_XEN,
    MIG_POLICY_XEN_LEGACY,
    MIG_POLICY_QEMU,
    MIG_POLICY_MIGLAB,
};

/* Policy parameters; mig_policy_defaults() fills the documented values. */
struct mig_policy {
    enum mig_policy_kind kind;
    unsigned max_passes;          /* live passes incl. the first; 0 = none */
    uint64_t dirty_threshold;     /* xen, xen-legacy: pages (50) */
    double max_sent_factor;       /* xen-legacy: 3.0 x memory; 0 = none */
    double downtime_limit_s;      /* qemu limit / miglab target (0.3 s) */
    double max_bandwidth_Bps;     /* transfer cap, bytes/s; 0 = none */
    bool auto_converge;           /* qemu */
    double throttle_initial;      /* qemu auto-converge: 0.20 */
    double throttle_increment;    /* 0.10 */
    double throttle_max;          /* 0.99 */
    double throttle_trigger;      /* dirtied/sent ratio: 0.50 */
    double fixed_downtime_s;      /* miglab: downtime beyond the copy;
                                     negative = the caller derives it
                                     from its cost model (default) */
    double time_budget_s;         /* miglab: abort after; 0 = none */
    uint64_t byte_budget;         /* miglab: abort after; 0 = none */
    double min_progress;          /* miglab: pending must shrink by this
                                     fraction per pass (0.05) ... */
    unsigned stall_passes;        /* ... or after this many passes (3) */
    bool abort_on_stall;          /* miglab: abort instead of stopping */
    bool drain;                   /* all kinds: before the pause, wait
                                     until the destination has the live
                                     passes (the send queue drained), so
                                     no queued pass drains inside the
                                     downtime; our sender's default (on),
                                     not libxc's (docs/model.md) */
};

/* What the caller knows at a pass boundary.  Passed by value. */
struct mig_precopy_stats {
    unsigned iteration;           /* live passes completed */
    uint64_t mem_pages;           /* guest size */
    uint64_t dirty_count;         /* pages pending now (all, before pass 1) */
    uint64_t total_written;       /* pages sent live so far */
    uint64_t last_pass_pages;     /* pages sent by the previous pass */
    uint64_t last_pass_bytes;     /* bytes sent by the previous pass */
    double last_pass_s;           /* its duration */
    uint64_t bytes_sent;          /* all bytes so far */
    double elapsed_s;             /* since the migration started */
    uint32_t page_bytes;          /* wire bytes per page (4096 + overhead) */
};

/* Carried between calls; start from {0}. */
struct mig_policy_state {
    unsigned high_dirty_passes;   /* qemu auto-converge trigger count */
    double throttle;              /* current vCPU throttle, 0..0.99 */
    unsigned stalled;             /* miglab: passes without progress */
    uint64_t prev_dirty;          /* miglab: pending at previous boundary */
};

enum mig_policy_action {
    MIG_ACT_CONTINUE,
    MIG_ACT_LAST_LIVE_PASS,
    MIG_ACT_STOP_AND_COPY,
    MIG_ACT_ABORT,
};

enum mig_stop_reason {
    MIG_STOP_NONE,                /* still running */
    MIG_STOP_DIRTY_THRESHOLD,     /* xen: CLEAN returned < threshold */
    MIG_STOP_PASS_CAP,
    MIG_STOP_SENT_CAP,            /* xen-legacy: > factor x memory sent */
    MIG_STOP_DOWNTIME_MET,        /* qemu/miglab: fits the downtime */
    MIG_STOP_NO_PROGRESS,         /* miglab: pending stopped shrinking */
    MIG_STOP_TIME_BUDGET,         /* miglab: abort */
    MIG_STOP_BYTE_BUDGET,         /* miglab: abort */
    MIG_STOP_COLD,                /* cold migration: no live passes */
    MIG_STOP_TIME_LIMIT,          /* simulation guard: never finished */
};

struct mig_policy_decision {
    enum mig_policy_action action;
    enum mig_stop_reason reason;  /* MIG_STOP_NONE when continuing */
};

void mig_policy_defaults(struct mig_policy *p, enum mig_policy_kind kind);

/*
 * Decide at a pass boundary.  stats describes the passes so far; state is
 * updated (auto-converge throttle, stall count).  The throttle to apply to
 * the guest from now on is state->throttle.  Pure: same inputs, same output.
 */
struct mig_policy_decision mig_policy_decide(const struct mig_policy *p,
                                             struct mig_policy_state *state,
                                             struct mig_precopy_stats stats);

/* Names as used on the command line and in JSON ("xen", "xen-legacy", ...;
 * "dirty_threshold", "pass_cap", ...).  Static strings. */
const char *mig_policy_name(enum mig_policy_kind kind);
int mig_policy_parse(const char *name, enum mig_policy_kind *out);
const char *mig_stop_reason_name(enum mig_stop_reason r);
const char *mig_policy_action_name(enum mig_policy_action a);

/* 0 or MIG_EINVAL when a parameter is out of range (negative limits,
 * throttle outside 0..0.99, ...). */
int mig_policy_validate(const struct mig_policy *p);

#endif
