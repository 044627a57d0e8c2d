/* SPDX-License-Identifier: MIT */
/*
 * engine.h - the migration simulator: one run from a configuration.
 *
 * Two engines share one driver loop (the one in ref/policy.h) and differ only
 * in how they count dirty pages:
 *   analytic  the workload's closed form for expected distinct pages in each
 *             window; deterministic, no memory proportional to the guest,
 *             millions of runs per second;
 *   exact     a real dirty bitmap filled by the workload's seeded page-write
 *             generator, cleaned like Xen's SHADOW_OP_CLEAN; deterministic
 *             per seed.
 *
 * Timeline of a live run (t = 0 when the sender connects):
 *   setup      setup_rtts x RTT (connect, receiver banner), then the stream
 *              headers;
 *   passes     each live pass sends its pending pages at the transfer rate
 *              (min of link goodput, policy max-bandwidth, sender copy
 *              rate) while the guest dirties pages;
 *   downtime   suspend + final pages and vCPU/device state at the transfer
 *              rate + RTT/2 for the last byte to land + receiver restore +
 *              handshake (ready -> GO) + unpause.
 * A cold run suspends right after setup and sends all memory while paused.
 * Simulated time only; nothing here reads a clock.
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "costs.h"
#include "net.h"
#include "policy.h"
#include "workload.h"

enum sim_mode {
    SIM_MODE_LIVE,
    SIM_MODE_COLD,
};

enum sim_engine_kind {
    SIM_ENGINE_ANALYTIC,
    SIM_ENGINE_EXACT,
};

enum sim_outcome {
    SIM_OUTCOME_COMPLETED,          /* guest runs at the destination */
    SIM_OUTCOME_ABORTED,            /* policy aborted; guest stays at source */
    SIM_OUTCOME_UNFINISHED,         /* still pre-copying at the time limit */
    SIM_OUTCOME_REFUSED,            /* destination refused admission; the
                                       guest stays at the source (runner) */
};

struct sim_config {
    enum sim_mode mode;
    uint64_t mem_bytes;             /* guest memory, multiple of 4 KiB */
    unsigned vcpus;
    const struct sim_workload *workload;  /* borrowed; NULL = idle */
    struct sim_link link;
    struct mig_policy policy;
    struct sim_costs costs;
    enum sim_engine_kind engine;
    uint64_t seed;
    double time_limit_s;            /* guard for runs that never converge */
};

struct sim_pass {
    unsigned index;                 /* 1-based */
    bool live;                      /* false: the stop-and-copy pass */
    uint64_t pages;
    uint64_t bytes;                 /* on the wire, incl. record overhead and,
                                       for the final pass, the state */
    double start_s;
    double duration_s;
    uint64_t dirty_after;           /* pages dirty when the pass ended */
    double throttle;                /* vCPU throttle during the pass */
};

/* Downtime, part by part; the parts add up to downtime_s. */
struct sim_downtime_parts {
    double suspend_s;
    double final_copy_s;            /* what is still queued of the live
                                       passes (costs.pause_backlog_bytes at
                                       most; none when drained), then final
                                       pages + state, at transfer rate */
    double propagation_s;           /* RTT / 2 */
    double loss_recovery_s;         /* a lost segment of the final burst:
                                       one RTT when that is the likelier
                                       case (final_loss_p >= 1/2), else 0 */
    double restore_s;
    double handshake_s;
    double unpause_s;
};

struct sim_result {
    enum sim_mode mode;
    enum mig_policy_kind policy;
    enum sim_engine_kind engine;
    enum sim_outcome outcome;
    enum mig_stop_reason stop_reason;
    bool converged;                 /* stopped by its threshold or target
                                       (or cold), not by a cap */
    uint64_t mem_pages;
    double total_time_s;            /* connect -> running at destination */
    double downtime_s;              /* 0 unless completed */
    double setup_s;
    bool drained;                   /* the pause waited for the live passes
                                       to reach the destination
                                       (policy.drain, after a live pass) */
    double drain_s;                 /* that wait, the guest running: from
                                       the end of the last live pass to the
                                       pause (the sender's pass ends when
                                       its last byte is written, the
                                       model's when it leaves at the
                                       transfer rate) */
    struct sim_downtime_parts downtime_parts;
    double final_loss_p;            /* chance that a segment of the final
                                       burst (pages, state) is lost */
    uint64_t bytes_sent;
    uint64_t pages_sent;
    unsigned live_passes;
    double transfer_Bps;            /* rate pages were sent at */
    struct sim_goodput link;        /* the link model's terms */
    size_t npasses;                 /* live passes + final pass */
    size_t passes_cap;
    struct sim_pass *passes;        /* owned; sim_result_clear() frees */
};

/* Defaults: live, 1 GiB, 1 vCPU, idle, sim_link_defaults, xen policy,
 * sim_costs_defaults, analytic, seed 1, time limit 3600 s. */
void sim_config_defaults(struct sim_config *c);

/* 0, or MIG_EINVAL with one line in err naming the bad field. */
int sim_config_validate(const struct sim_config *c, char *err, size_t errlen);

/* Bytes of the live passes still queued when the sender has written the
 * last one: costs.pause_backlog_bytes, or with SIM_PAUSE_BACKLOG_MODEL the
 * link's standing queue (docs/model.md).  Without a drain they are queued
 * at the pause; with one, the pause waits for them. */
uint64_t sim_config_pause_backlog(const struct sim_config *c);

void sim_result_init(struct sim_result *r);
/* Frees the pass array; r can be reused after sim_result_init(). */
void sim_result_clear(struct sim_result *r);

/*
 * Simulate one migration.  r must have been initialised; its pass array is
 * reused across calls (no allocation in the steady state of a sweep).
 * Returns 0, MIG_EINVAL for an invalid configuration, MIG_ENOMEM.
 */
int sim_run(const struct sim_config *cfg, struct sim_result *r);

const char *sim_mode_name(enum sim_mode m);
int sim_mode_parse(const char *s, enum sim_mode *out);
const char *sim_engine_name(enum sim_engine_kind e);
int sim_engine_parse(const char *s, enum sim_engine_kind *out);
const char *sim_outcome_name(enum sim_outcome o);

#endif
