/* SPDX-License-Identifier: MIT */
/*
 * runner.h - the scenario runner behind `miglab run`: one scenario file,
 * predicted by the simulator and performed for real on the testbed
 * (tools/testbed.h) between two `miglab host` daemons, with a heartbeat
 * prober and a packet capture, then compared.  The flow, the three
 * downtime measures and the result JSON are specified in docs/runner.md.
 *
 *   runner.c        orchestration: testbed, hosts, guest, children, migrate
 *   runner_child.c  the runner's own child processes: heartbeat prober and
 *                   libpcap capture (hidden `miglab run --probe-child` /
 *                   `--capture-child`)
 *   runner_json.c   measured JSON -> sim_result, expectations, the result
 *                   document that tools/report.c renders
 *
 * The result document (one JSON object) is the only thing the report
 * renderers read, so a saved one re-renders with `miglab report`.
 */
#ifndef MIGLAB_RUNNER_H
#define MIGLAB_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine.h"
#include "scenario.h"

#define RUN_MIG_PORT 8002U          /* hosts listen on mig0:8002 */
#define RUN_GUEST_IP "10.77.0.100"  /* the guest's LAN address */
#define RUN_HB_INTERVAL_S 0.001     /* one probe per millisecond */
#define RUN_SNAPLEN 262144          /* full packets: pcap_timeline decodes
                                       the stream (docs/runner.md) */
#define RUN_MAX_EXPECT 16U

struct run_opts {
    const char *scenario_path;
    unsigned repeats;               /* 0 = the scenario's [run] repeats */
    const char *report_dir;         /* NULL = build/reports/NAME-TIME */
    const char *profile_path;       /* host profile (docs/calibrate.md);
                                       NULL = the scenario's [run] profile */
    bool keep;                      /* leave the testbed up */
    const char *self_exe;           /* the miglab binary (for children) */
    volatile sig_atomic_t *stop;    /* set by SIGINT/SIGTERM; may be NULL */
};

/*
 * Run a scenario.  On return *out (when not NULL) is the result document
 * (caller releases with json_object_put()), also when a repeat failed:
 * each repeat carries "ok" and "error".  Returns 0 when the runs were made
 * (whether or not expectations hold: see "ok" in the document), MIG_EINVAL
 * for a bad scenario (err: "FILE:LINE: ..."), MIG_ENOTSUP when the testbed
 * cannot be built here (not root, no netns; err says why), other negative
 * codes for a failure with err set.  The testbed is always taken down
 * unless o->keep; signals set *o->stop and end the run through the same
 * clean-up.
 */
int runner_run(const struct run_opts *o, struct json_object **out,
               char *err, size_t errlen);

/* Hidden child entry points (argv[0] is "--probe-child"/"--capture-child").
 *   --probe-child IP PORT INTERVAL_S OUT.json
 *   --capture-child DEV OUT.pcap SNAPLEN PORT
 * Both run until SIGTERM/SIGINT, print one "ready" line on stdout when
 * started, and write their results before exiting 0. */
int runner_probe_main(int argc, char **argv);
int runner_capture_main(int argc, char **argv);

/* ---- runner_json.c ---- */

/*
 * Fill r (initialised by the caller; passes untouched) from a measured or
 * predicted run's JSON (sim/result_json.h keys): mode, outcome, converged,
 * total_time_s, downtime_s, bytes_sent, pages_sent, live_passes.  Missing
 * keys leave zeros.  Returns 0 or MIG_ECORRUPT when m is not an object or
 * names an unknown outcome.
 */
int runner_result_from_json(struct json_object *m, struct sim_result *r);

/* Relative error |predicted - measured| / measured; NAN when measured is
 * not positive. */
double runner_rel_error(double predicted, double measured);

/*
 * Check one measured repeat against the scenario's [expect] bounds, plus
 * prediction_error (total time and downtime, when the bound is set and
 * the run completed) and the integrity verdict (when it was checked).
 * Appends one object per bound to arr: {"name", "pass", "text"}.
 * Returns the number of failed bounds.  pred may be NULL (no prediction
 * bounds then).
 */
unsigned runner_expect_check(const struct sim_expect *e,
                             const struct sim_result *pred,
                             const struct sim_result *meas,
                             int integrity_ok, struct json_object *arr);

#endif
