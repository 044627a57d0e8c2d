/* SPDX-License-Identifier: MIT */
/*
 * calibrate.h - `miglab calibrate`: idle-guest migrations on the runner's
 * testbed, and the fixed costs and goodput derived from what they
 * measured, written as a host profile (sim/profile.h).  The method and
 * why it predicts best: docs/calibrate.md.
 *
 *   calibrate_derive.c  measured runs -> costs (pure; unit-tested)
 *   cmd_calibrate.c     the command: scenarios -> network points ->
 *                       runner_run() of an idle guest, live and cold
 */
#ifndef MIGLAB_CALIBRATE_H
#define MIGLAB_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "profile.h"
#include "scenario.h"

/* Medians over the repeats of one mode at one point, and the spreads. */
struct calib_measure {
    size_t n;                       /* completed repeats used */
    double goodput_Bps;             /* pass 1: bytes / (duration +
                                       queue), its time on the wire */
    double total_s;
    double downtime_s;              /* the implementation's: median of
                                       (downtime - queue) + queued_s, or
                                       of the downtime when drained */
    double queued_s;                /* how long the last live pass kept
                                       arriving at the receiver (the
                                       capture) after the sender had
                                       written it; 0 unknown */
    bool drained;                   /* the pauses waited for that queue
                                       (policy.drain): not in the
                                       downtime */
    double suspend_s;               /* downtime parts */
    double unpause_s;
    double spread_goodput;          /* (max - min) / median */
    double spread_downtime;
};

/*
 * Summarise the "runs" array of a runner result document (runs[].measured,
 * the JSON of `miglab migrate --json`, and runs[].wire, the capture's
 * timeline, for queued_s): every completed repeat counts.  delay_s is
 * the link's one-way delay: the capture at the receiver sees each byte
 * that much after it left, which is not queueing.
 * Returns 0, or MIG_ECORRUPT with err set when no repeat completed or a
 * measured run lacks its passes.
 */
int calib_measure_runs(struct json_object *runs, double delay_s,
                       struct calib_measure *out, char *err, size_t errlen);

/* What one point calibrates to. */
struct calib_costs {
    double goodput_Bps;             /* live pass 1 goodput */
    double suspend_s, unpause_s;    /* measured parts (live); unpause
                                       without the GO's and the report's
                                       trips (one RTT) */
    double restore_s;               /* fits the idle live downtime */
    double pause_backlog_bytes;     /* queued_s at the goodput */
    double restore_cold_s;          /* fits the idle cold downtime; < 0
                                       when cold was not measured */
    double setup_rtts;              /* fits the idle live total time */
    bool drained;                   /* the idle runs' pauses drained */
};

/*
 * Derive the costs of one point.  idle is the idle-guest scenario that was
 * migrated (its link, memory and vCPUs; mode ignored); live must have
 * n > 0, cold may be NULL or have n == 0.  Each fitted cost is the value
 * that makes the simulator's prediction of that idle run equal the
 * median measurement, the other costs being the measured ones; a fit
 * below 0 is clamped to 0.  Returns 0, or the simulator's error with err.
 */
int calib_derive(const struct sim_scenario *idle,
                 const struct calib_measure *live,
                 const struct calib_measure *cold, struct calib_costs *out,
                 char *err, size_t errlen);

/*
 * Store c as point pt's keys (goodput, suspend, unpause, restore,
 * restore_cold, setup_rtts, pause_backlog) and the spreads of live in its
 * provenance.  0 or MIG_ENOMEM.
 */
int calib_point_store(struct sim_profile_point *pt,
                      const struct calib_costs *c,
                      const struct calib_measure *live);

/* The median of v[0..n) (sorts v in place; the mean of the middle two for
 * an even n); n > 0. */
double calib_median(double *v, size_t n);

int cmd_calibrate(int argc, char **argv);

#endif
