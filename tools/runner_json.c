/* SPDX-License-Identifier: MIT */
/*
 * runner_json.c - the runner's comparisons: a run's JSON (the keys of
 * sim/result_json.h) back into a struct sim_result, relative errors, and
 * the [expect] bounds of one repeat (docs/runner.md "Expectations").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mig_err.h"
#include "runner.h"
#include "units.h"

static double jd(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v)
                                               : 0;
}

static uint64_t ju(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v)
               ? (uint64_t)json_object_get_int64(v) : 0;
}

int runner_result_from_json(struct json_object *m, struct sim_result *r)
{
    struct json_object *v;

    if (!m || !json_object_is_type(m, json_type_object))
        return MIG_ECORRUPT;
    if (json_object_object_get_ex(m, "mode", &v) &&
        sim_mode_parse(json_object_get_string(v), &r->mode))
        return MIG_ECORRUPT;
    if (json_object_object_get_ex(m, "outcome", &v)) {
        const char *s = json_object_get_string(v);
        int o;

        for (o = 0; o <= SIM_OUTCOME_REFUSED; o++)
            if (s && !strcmp(s, sim_outcome_name((enum sim_outcome)o)))
                break;
        if (o > SIM_OUTCOME_REFUSED)
            return MIG_ECORRUPT;
        r->outcome = (enum sim_outcome)o;
    }
    r->converged = json_object_object_get_ex(m, "converged", &v) &&
                   json_object_get_boolean(v);
    r->total_time_s = jd(m, "total_time_s");
    r->downtime_s = jd(m, "downtime_s");
    r->setup_s = jd(m, "setup_s");
    r->drained = json_object_object_get_ex(m, "drained", &v) &&
                 json_object_get_boolean(v);
    r->drain_s = r->drained ? jd(m, "drain_s") : 0;
    r->bytes_sent = ju(m, "bytes_sent");
    r->pages_sent = ju(m, "pages_sent");
    r->mem_pages = ju(m, "mem_pages");
    r->live_passes = (unsigned)ju(m, "live_passes");
    r->transfer_Bps = jd(m, "transfer_Bps");
    return 0;
}

double runner_rel_error(double predicted, double measured)
{
    if (!(measured > 0) || !isfinite(predicted))
        return NAN;
    return fabs(predicted - measured) / measured;
}

static void add_line(struct json_object *arr, const char *name,
                     const struct sim_expect_line *l)
{
    struct json_object *o = json_object_new_object();

    if (!o)
        return;
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "pass", json_object_new_boolean(l->pass));
    json_object_object_add(o, "text", json_object_new_string(l->text));
    json_object_array_add(arr, o);
}

/* Name of the k-th line sim_expect_check() writes for e, in its order. */
static const char *bound_name(const struct sim_expect *e, size_t k)
{
    const char *names[6];
    size_t n = 0;

    if (e->outcome >= 0)
        names[n++] = "outcome";
    if (e->converged >= 0)
        names[n++] = "converged";
    if (e->downtime_max_s >= 0)
        names[n++] = "downtime_max";
    if (e->downtime_min_s >= 0)
        names[n++] = "downtime_min";
    if (e->total_time_max_s >= 0)
        names[n++] = "total_time_max";
    if (e->bytes_max > 0)
        names[n++] = "bytes_max";
    return k < n ? names[k] : "bound";
}

static unsigned error_bound(const char *name, const char *what, double bound,
                            double pred, double meas, struct json_object *arr)
{
    struct sim_expect_line l;
    double err = runner_rel_error(pred, meas);

    l.pass = isfinite(err) && err <= bound;
    snprintf(l.text, sizeof(l.text),
             "%s prediction error <= %.1f%% (got %.1f%%: predicted %.6g s, "
             "measured %.6g s)", what, bound * 100, err * 100, pred, meas);
    add_line(arr, name, &l);
    return !l.pass;
}

unsigned runner_expect_check(const struct sim_expect *e,
                             const struct sim_result *pred,
                             const struct sim_result *meas,
                             int integrity_ok, struct json_object *arr)
{
    struct sim_expect_line lines[RUN_MAX_EXPECT];
    size_t n = 0;
    unsigned failed;

    failed = sim_expect_check(e, meas, lines, RUN_MAX_EXPECT, &n);
    for (size_t k = 0; k < n && k < RUN_MAX_EXPECT; k++)
        add_line(arr, bound_name(e, k), &lines[k]);
    if (e->prediction_error >= 0 && pred) {
        if (meas->outcome == SIM_OUTCOME_COMPLETED &&
            pred->outcome == SIM_OUTCOME_COMPLETED) {
            failed += error_bound("prediction_error_total_time", "total time",
                                  e->prediction_error, pred->total_time_s,
                                  meas->total_time_s, arr);
            failed += error_bound("prediction_error_downtime", "downtime",
                                  e->prediction_error, pred->downtime_s,
                                  meas->downtime_s, arr);
        } else {
            struct sim_expect_line l;

            l.pass = pred->outcome == meas->outcome;
            snprintf(l.text, sizeof(l.text),
                     "prediction error: outcomes must agree (predicted %s, "
                     "measured %s)", sim_outcome_name(pred->outcome),
                     sim_outcome_name(meas->outcome));
            add_line(arr, "prediction_error_outcome", &l);
            failed += !l.pass;
        }
    }
    if (integrity_ok >= 0) {
        struct sim_expect_line l = { .pass = integrity_ok > 0 };

        snprintf(l.text, sizeof(l.text), "integrity: destination pages equal "
                 "the source's at suspension (%s)",
                 integrity_ok ? "ok" : "MISMATCH");
        add_line(arr, "integrity", &l);
        failed += !l.pass;
    }
    return failed;
}
