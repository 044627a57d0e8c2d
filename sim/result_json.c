/* SPDX-License-Identifier: MIT */
/*
 * result_json.c - JSON rendering of runs and scenarios (see result_json.h).
 */
#include <math.h>
#include <stdio.h>

#include "result_json.h"
#include "units.h"

static void put_num(struct json_object *o, const char *key, double v)
{
    char text[32];

    /* JSON has no infinity: an unbounded term is null.  Nine significant
     * digits are more than any measurement here supports and keep the
     * output readable (json-c's default prints seventeen). */
    if (!isfinite(v)) {
        json_object_object_add(o, key, NULL);
        return;
    }
    snprintf(text, sizeof(text), "%.9g", v);
    json_object_object_add(o, key, json_object_new_double_s(v, text));
}

static void put_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

static void put_bool(struct json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

static struct json_object *link_json(const struct sim_goodput *g)
{
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    put_num(o, "goodput_Bps", g->goodput_Bps);
    put_str(o, "limit", sim_link_limit_name(g->limit));
    put_num(o, "link_Bps", g->link_Bps);
    put_num(o, "window_Bps", g->window_Bps);
    put_num(o, "loss_Bps", g->loss_Bps);
    put_num(o, "mathis_Bps", g->mathis_Bps);
    put_num(o, "padhye_Bps", g->padhye_Bps);
    put_num(o, "cubic_Bps", g->cubic_Bps);
    put_u64(o, "mss", g->mss);
    put_num(o, "rto_s", g->rto_s);
    return o;
}

struct json_object *sim_result_to_json(const struct sim_result *r)
{
    struct json_object *o = json_object_new_object();
    struct json_object *parts = json_object_new_object();
    struct json_object *passes = json_object_new_array();
    const struct sim_downtime_parts *dp = &r->downtime_parts;

    if (!o || !parts || !passes) {
        json_object_put(o);
        json_object_put(parts);
        json_object_put(passes);
        return NULL;
    }
    put_str(o, "mode", sim_mode_name(r->mode));
    put_str(o, "policy", mig_policy_name(r->policy));
    put_str(o, "engine", sim_engine_name(r->engine));
    put_str(o, "outcome", sim_outcome_name(r->outcome));
    put_str(o, "stop_reason", mig_stop_reason_name(r->stop_reason));
    put_bool(o, "converged", r->converged);
    put_num(o, "total_time_s", r->total_time_s);
    put_num(o, "downtime_s", r->downtime_s);
    put_num(o, "setup_s", r->setup_s);
    put_num(parts, "suspend_s", dp->suspend_s);
    put_num(parts, "final_copy_s", dp->final_copy_s);
    put_num(parts, "propagation_s", dp->propagation_s);
    put_num(parts, "restore_s", dp->restore_s);
    put_num(parts, "handshake_s", dp->handshake_s);
    put_num(parts, "unpause_s", dp->unpause_s);
    json_object_object_add(o, "downtime_parts", parts);
    put_u64(o, "bytes_sent", r->bytes_sent);
    put_u64(o, "pages_sent", r->pages_sent);
    put_u64(o, "live_passes", r->live_passes);
    put_u64(o, "mem_pages", r->mem_pages);
    put_num(o, "transfer_Bps", r->transfer_Bps);
    json_object_object_add(o, "link", link_json(&r->link));
    for (size_t i = 0; i < r->npasses; i++) {
        const struct sim_pass *p = &r->passes[i];
        struct json_object *po = json_object_new_object();

        if (!po)
            break;
        put_u64(po, "index", p->index);
        put_bool(po, "live", p->live);
        put_u64(po, "pages", p->pages);
        put_u64(po, "bytes", p->bytes);
        put_num(po, "start_s", p->start_s);
        put_num(po, "duration_s", p->duration_s);
        put_u64(po, "dirty_after", p->dirty_after);
        put_num(po, "throttle", p->throttle);
        json_object_array_add(passes, po);
    }
    json_object_object_add(o, "passes", passes);
    return o;
}

struct json_object *sim_scenario_to_json(const struct sim_scenario *sc)
{
    const struct sim_config *c = &sc->cfg;
    struct json_object *o = json_object_new_object();
    struct json_object *guest = json_object_new_object();
    struct json_object *net = json_object_new_object();
    struct json_object *mig = json_object_new_object();
    struct json_object *costs = json_object_new_object();
    char spec[512];

    if (!o || !guest || !net || !mig || !costs) {
        json_object_put(o);
        json_object_put(guest);
        json_object_put(net);
        json_object_put(mig);
        json_object_put(costs);
        return NULL;
    }
    put_str(o, "name", sc->name);
    put_u64(guest, "memory_bytes", c->mem_bytes);
    put_u64(guest, "vcpus", c->vcpus);
    put_str(guest, "workload",
            c->workload ? sim_workload_format(c->workload, spec, sizeof(spec))
                        : "idle");
    json_object_object_add(o, "guest", guest);

    put_num(net, "bandwidth_bps", c->link.bandwidth_bps);
    put_num(net, "rtt_s", c->link.rtt_s);
    put_num(net, "jitter_s", c->link.jitter_s);
    put_num(net, "loss", c->link.loss);
    put_u64(net, "mtu", c->link.mtu);
    put_str(net, "cc", sim_cc_name(c->link.cc));
    put_u64(net, "window_bytes", c->link.window_bytes);
    json_object_object_add(o, "network", net);

    put_str(mig, "mode", sim_mode_name(c->mode));
    put_str(mig, "policy", mig_policy_name(c->policy.kind));
    put_u64(mig, "max_passes", c->policy.max_passes);
    put_u64(mig, "dirty_threshold", c->policy.dirty_threshold);
    put_num(mig, "downtime_limit_s", c->policy.downtime_limit_s);
    put_num(mig, "max_bandwidth_Bps", c->policy.max_bandwidth_Bps);
    put_bool(mig, "auto_converge", c->policy.auto_converge);
    put_str(mig, "engine", sim_engine_name(c->engine));
    put_u64(mig, "seed", c->seed);
    json_object_object_add(o, "migration", mig);

    put_num(costs, "suspend_s", c->costs.suspend_s);
    put_num(costs, "restore_s", c->costs.restore_s);
    put_num(costs, "unpause_s", c->costs.unpause_s);
    put_u64(costs, "vcpu_state_bytes", c->costs.vcpu_state_bytes);
    put_u64(costs, "device_state_bytes", c->costs.device_state_bytes);
    put_u64(costs, "stream_header_bytes", c->costs.stream_header_bytes);
    put_num(costs, "setup_rtts", c->costs.setup_rtts);
    put_num(costs, "handshake_rtts", c->costs.handshake_rtts);
    put_num(costs, "copy_rate_Bps", c->costs.copy_rate_Bps);
    json_object_object_add(o, "costs", costs);
    return o;
}
