/* SPDX-License-Identifier: MIT */
/*
 * calibrate_derive.c - from the measured idle-guest runs of one network
 * point to the costs a host profile stores (calibrate.h; the method is in
 * docs/calibrate.md).  No I/O: the runs come in as the runner's JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "mig_err.h"

#define MAX_REPEATS 1000U

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double calib_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (max - min) / mid of v[0..n), v sorted; 0 when n < 2. */
static double spread(const double *v, size_t n, double mid)
{
    return n > 1 && mid > 0 ? (v[n - 1] - v[0]) / mid : 0;
}

static double num(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v)
                                               : NAN;
}

/*
 * How long after the sender had written the last live pass its data kept
 * arriving at the receiver: the capture's last page byte minus the
 * sender's end of that pass and the one-way delay, when the
 * stop-and-copy pass had no page (an
 * idle guest), so that the last page byte on the wire is the live pass's.
 * 0 when unknown (no capture, or a final pass with pages).
 */
static double queued_after_pass(struct json_object *run,
                                struct json_object *passes, double delay_s)
{
    size_t n = json_object_array_length(passes);
    struct json_object *wire, *wp, *last;
    double sent_end, wire_end;

    if (n < 2 || num(json_object_array_get_idx(passes, n - 1), "pages") != 0)
        return 0;
    last = json_object_array_get_idx(passes, n - 2);
    sent_end = num(last, "start_s") + num(last, "duration_s");
    if (!json_object_object_get_ex(run, "wire", &wire) ||
        !json_object_object_get_ex(wire, "passes", &wp) ||
        !json_object_is_type(wp, json_type_array) ||
        json_object_array_length(wp) == 0)
        return 0;
    wire_end = num(json_object_array_get_idx(wp,
                       json_object_array_length(wp) - 1), "end_s");
    wire_end -= delay_s;
    return isfinite(wire_end - sent_end) ? fmax(0, wire_end - sent_end) : 0;
}

int calib_measure_runs(struct json_object *runs, double delay_s,
                       struct calib_measure *out, char *err, size_t errlen)
{
    double gp[MAX_REPEATS], tot[MAX_REPEATS], down[MAX_REPEATS];
    double sus[MAX_REPEATS], unp[MAX_REPEATS], qd[MAX_REPEATS];
    double rest[MAX_REPEATS];
    size_t n = 0, ndrained = 0, len = json_object_is_type(runs, json_type_array)
                            ? json_object_array_length(runs) : 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < len && n < MAX_REPEATS; i++) {
        struct json_object *m, *passes, *p1, *parts, *outcome, *drained;
        struct json_object *run = json_object_array_get_idx(runs, i);
        double bytes, dur;
        bool dr;

        if (!json_object_object_get_ex(run, "measured", &m) ||
            !json_object_object_get_ex(m, "outcome", &outcome) ||
            strcmp(json_object_get_string(outcome), "completed"))
            continue;
        if (!json_object_object_get_ex(m, "passes", &passes) ||
            !json_object_is_type(passes, json_type_array) ||
            json_object_array_length(passes) == 0 ||
            !json_object_object_get_ex(m, "downtime_parts", &parts)) {
            snprintf(err, errlen, "repeat %zu: the measured run has no "
                     "passes or downtime parts", i + 1);
            return MIG_ECORRUPT;
        }
        p1 = json_object_array_get_idx(passes, 0);
        bytes = num(p1, "bytes");
        dur = num(p1, "duration_s");
        /* The sender's pass ends when its last byte is in the socket; on
         * the wire (what the model's goodput is) it ends when the queue
         * has drained. */
        qd[n] = queued_after_pass(run, passes, delay_s);
        gp[n] = bytes / (dur + qd[n]);
        tot[n] = num(m, "total_time_s");
        down[n] = num(m, "downtime_s");
        sus[n] = num(parts, "suspend_s");
        unp[n] = num(parts, "unpause_s");
        if (!(gp[n] > 0) || !isfinite(gp[n]) || !(tot[n] > 0) ||
            !(down[n] >= 0) || !(sus[n] >= 0) || !(unp[n] >= 0)) {
            snprintf(err, errlen, "repeat %zu: the measured run has a "
                     "missing or invalid pass 1, time or downtime part",
                     i + 1);
            return MIG_ECORRUPT;
        }
        /* A drained pause (policy.drain) waited for the queue with the
         * guest running: none of it is in the downtime. */
        dr = json_object_object_get_ex(m, "drained", &drained) &&
             json_object_get_boolean(drained);
        ndrained += dr;
        rest[n] = dr ? down[n] : down[n] - fmin(qd[n], down[n]);
        n++;
    }
    if (n == 0) {
        snprintf(err, errlen, "no repeat completed");
        return MIG_ECORRUPT;
    }
    /* Medians: the typical repeat under the machine's typical load
     * (docs/calibrate.md, "Why the median").  The downtime is split into
     * the queue at the pause and the rest, each with its own median. */
    out->n = n;
    out->goodput_Bps = calib_median(gp, n);
    out->spread_goodput = spread(gp, n, out->goodput_Bps);
    out->drained = 2 * ndrained > n;
    out->queued_s = calib_median(qd, n);
    out->downtime_s = calib_median(rest, n) +
                      (out->drained ? 0 : out->queued_s);
    out->spread_downtime = spread(down, n, calib_median(down, n));
    out->total_s = calib_median(tot, n);
    out->suspend_s = calib_median(sus, n);
    out->unpause_s = calib_median(unp, n);
    return 0;
}

/* Predict the idle run in mode with c's goodput, suspend and unpause, and
 * restore and setup_rtts at 0. */
static int predict_bare(const struct sim_scenario *idle, enum sim_mode mode,
                        const struct calib_costs *c, struct sim_result *r,
                        char *err, size_t errlen)
{
    struct sim_config cfg = idle->cfg;
    int rc;

    cfg.mode = mode;
    cfg.workload = NULL;
    cfg.link.goodput_Bps = c->goodput_Bps;
    cfg.costs.suspend_s = c->suspend_s;
    cfg.costs.unpause_s = c->unpause_s;
    cfg.costs.restore_s = 0;
    cfg.costs.setup_rtts = 0;
    cfg.costs.pause_backlog_bytes = 0;      /* measured: added below */
    cfg.policy.drain = c->drained;
    rc = sim_run(&cfg, r);
    if (rc)
        snprintf(err, errlen, "prediction of the idle %s run failed: %s",
                 sim_mode_name(mode), mig_strerror(rc));
    return rc;
}

int calib_derive(const struct sim_scenario *idle,
                 const struct calib_measure *live,
                 const struct calib_measure *cold, struct calib_costs *out,
                 char *err, size_t errlen)
{
    struct sim_result r;
    double rtt = idle->cfg.link.rtt_s;
    int rc;

    memset(out, 0, sizeof(*out));
    out->restore_cold_s = -1;
    if (!live || live->n == 0) {
        snprintf(err, errlen, "no live measurement");
        return MIG_EINVAL;
    }
    out->goodput_Bps = live->goodput_Bps;
    out->suspend_s = live->suspend_s;
    /* The sender's unpause part runs from GO sent to the report back: the
     * model's is the destination's work alone (the GO's trip is in the
     * handshake; the report's is the sender's to wait for, in restore's
     * fit below). */
    out->unpause_s = fmax(0, live->unpause_s - rtt);
    out->drained = live->drained;
    sim_result_init(&r);
    rc = predict_bare(idle, SIM_MODE_LIVE, out, &r, err, errlen);
    if (rc)
        goto out;
    /* Downtime is linear in restore and, without a drain, in the queue at
     * the pause (all of the backlog: the idle pass 1 is larger than any
     * socket); total time in restore and setup, not in the queue (without
     * a drain the pause starts earlier by what it adds to the downtime;
     * with one, the queue is before the model's pass end). */
    out->pause_backlog_bytes = live->queued_s * out->goodput_Bps;
    out->restore_s = fmax(0, live->downtime_s - r.downtime_s -
                                 (live->drained ? 0 : live->queued_s));
    if (rtt > 0)
        out->setup_rtts = fmax(0, (live->total_s - r.total_time_s -
                                   out->restore_s) / rtt);
    if (cold && cold->n > 0) {
        rc = predict_bare(idle, SIM_MODE_COLD, out, &r, err, errlen);
        if (rc)
            goto out;
        out->restore_cold_s = fmax(0, cold->downtime_s - r.downtime_s);
    }
out:
    sim_result_clear(&r);
    return rc;
}

/* key = v with prec decimals and unit (e.g. "ms", or "" for a number). */
static int put(struct sim_profile_kvs *kvs, const char *key, double v,
               int prec, const char *unit)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%.*f%s", prec, v, unit);
    return sim_profile_kv_set(kvs, key, buf);
}

int calib_point_store(struct sim_profile_point *pt,
                      const struct calib_costs *c,
                      const struct calib_measure *live)
{
    int rc;

    pt->link.goodput_Bps = c->goodput_Bps;
    rc = put(&pt->costs, "suspend", c->suspend_s * 1e3, 4, "ms");
    if (!rc)
        rc = put(&pt->costs, "unpause", c->unpause_s * 1e3, 4, "ms");
    if (!rc)
        rc = put(&pt->costs, "restore", c->restore_s * 1e3, 4, "ms");
    if (!rc && c->restore_cold_s >= 0)
        rc = put(&pt->costs, "restore_cold", c->restore_cold_s * 1e3, 4,
                 "ms");
    if (!rc && pt->link.rtt_s > 0)
        rc = put(&pt->costs, "setup_rtts", c->setup_rtts, 3, "");
    if (!rc)
        rc = put(&pt->costs, "pause_backlog", c->pause_backlog_bytes, 0, "");
    if (!rc)
        rc = put(&pt->info, "repeats", (double)live->n, 0, "");
    if (!rc)
        rc = put(&pt->info, "spread_goodput", live->spread_goodput, 4, "");
    if (!rc)
        rc = put(&pt->info, "spread_downtime", live->spread_downtime, 4,
                 "");
    return rc;
}
