/* SPDX-License-Identifier: MIT */
/*
 * result_json.c - JSON rendering of runs and scenarios (see result_json.h).
 */
#include <math.h>
#include <stdio.h>

#include "result_json.h"
#include "units.h"

void sim_json_put_num(struct json_object *o, const char *key, double v)
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

void sim_json_put_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void sim_json_put_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void sim_json_put_bool(struct json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

static struct json_object *link_json(const struct sim_goodput *g)
{
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    sim_json_put_num(o, "goodput_Bps", g->goodput_Bps);
    sim_json_put_str(o, "limit", sim_link_limit_name(g->limit));
    sim_json_put_num(o, "link_Bps", g->link_Bps);
    sim_json_put_num(o, "window_Bps", g->window_Bps);
    sim_json_put_num(o, "loss_Bps", g->loss_Bps);
    sim_json_put_num(o, "mathis_Bps", g->mathis_Bps);
    sim_json_put_num(o, "padhye_Bps", g->padhye_Bps);
    sim_json_put_num(o, "cubic_Bps", g->cubic_Bps);
    sim_json_put_u64(o, "mss", g->mss);
    sim_json_put_num(o, "rto_s", g->rto_s);
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
    sim_json_put_str(o, "mode", sim_mode_name(r->mode));
    sim_json_put_str(o, "policy", mig_policy_name(r->policy));
    sim_json_put_str(o, "engine", sim_engine_name(r->engine));
    sim_json_put_str(o, "outcome", sim_outcome_name(r->outcome));
    sim_json_put_str(o, "stop_reason", mig_stop_reason_name(r->stop_reason));
    sim_json_put_bool(o, "converged", r->converged);
    sim_json_put_num(o, "total_time_s", r->total_time_s);
    sim_json_put_num(o, "downtime_s", r->downtime_s);
    sim_json_put_num(o, "setup_s", r->setup_s);
    sim_json_put_bool(o, "drained", r->drained);
    sim_json_put_num(o, "drain_s", r->drain_s);
    sim_json_put_num(o, "final_loss_p", r->final_loss_p);
    sim_json_put_num(parts, "suspend_s", dp->suspend_s);
    sim_json_put_num(parts, "final_copy_s", dp->final_copy_s);
    sim_json_put_num(parts, "propagation_s", dp->propagation_s);
    sim_json_put_num(parts, "loss_recovery_s", dp->loss_recovery_s);
    sim_json_put_num(parts, "restore_s", dp->restore_s);
    sim_json_put_num(parts, "handshake_s", dp->handshake_s);
    sim_json_put_num(parts, "unpause_s", dp->unpause_s);
    json_object_object_add(o, "downtime_parts", parts);
    sim_json_put_u64(o, "bytes_sent", r->bytes_sent);
    sim_json_put_u64(o, "pages_sent", r->pages_sent);
    sim_json_put_u64(o, "live_passes", r->live_passes);
    sim_json_put_u64(o, "mem_pages", r->mem_pages);
    sim_json_put_num(o, "transfer_Bps", r->transfer_Bps);
    json_object_object_add(o, "link", link_json(&r->link));
    for (size_t i = 0; i < r->npasses; i++) {
        const struct sim_pass *p = &r->passes[i];
        struct json_object *po = json_object_new_object();

        if (!po)
            break;
        sim_json_put_u64(po, "index", p->index);
        sim_json_put_bool(po, "live", p->live);
        sim_json_put_u64(po, "pages", p->pages);
        sim_json_put_u64(po, "bytes", p->bytes);
        sim_json_put_num(po, "start_s", p->start_s);
        sim_json_put_num(po, "duration_s", p->duration_s);
        sim_json_put_u64(po, "dirty_after", p->dirty_after);
        sim_json_put_num(po, "throttle", p->throttle);
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
    sim_json_put_str(o, "name", sc->name);
    sim_json_put_u64(guest, "memory_bytes", c->mem_bytes);
    sim_json_put_u64(guest, "vcpus", c->vcpus);
    sim_json_put_str(guest, "workload",
            c->workload ? sim_workload_format(c->workload, spec, sizeof(spec))
                        : "idle");
    json_object_object_add(o, "guest", guest);

    sim_json_put_num(net, "bandwidth_bps", c->link.bandwidth_bps);
    sim_json_put_num(net, "rtt_s", c->link.rtt_s);
    sim_json_put_num(net, "jitter_s", c->link.jitter_s);
    sim_json_put_num(net, "loss", c->link.loss);
    sim_json_put_u64(net, "mtu", c->link.mtu);
    sim_json_put_str(net, "cc", sim_cc_name(c->link.cc));
    sim_json_put_u64(net, "window_bytes", c->link.window_bytes);
    sim_json_put_num(net, "goodput_Bps", c->link.goodput_Bps);
    sim_json_put_u64(net, "queue_bytes", sim_link_queue_bytes(&c->link));
    json_object_object_add(o, "network", net);

    sim_json_put_str(mig, "mode", sim_mode_name(c->mode));
    sim_json_put_str(mig, "policy", mig_policy_name(c->policy.kind));
    sim_json_put_u64(mig, "max_passes", c->policy.max_passes);
    sim_json_put_u64(mig, "dirty_threshold", c->policy.dirty_threshold);
    sim_json_put_num(mig, "downtime_limit_s", c->policy.downtime_limit_s);
    sim_json_put_num(mig, "max_bandwidth_Bps", c->policy.max_bandwidth_Bps);
    sim_json_put_bool(mig, "auto_converge", c->policy.auto_converge);
    sim_json_put_str(mig, "engine", sim_engine_name(c->engine));
    sim_json_put_u64(mig, "seed", c->seed);
    json_object_object_add(o, "migration", mig);

    sim_json_put_num(costs, "suspend_s", c->costs.suspend_s);
    sim_json_put_num(costs, "restore_s", c->costs.restore_s);
    sim_json_put_num(costs, "unpause_s", c->costs.unpause_s);
    sim_json_put_u64(costs, "vcpu_state_bytes", c->costs.vcpu_state_bytes);
    sim_json_put_u64(costs, "device_state_bytes", c->costs.device_state_bytes);
    sim_json_put_u64(costs, "stream_header_bytes", c->costs.stream_header_bytes);
    sim_json_put_num(costs, "setup_rtts", c->costs.setup_rtts);
    sim_json_put_num(costs, "handshake_rtts", c->costs.handshake_rtts);
    sim_json_put_num(costs, "copy_rate_Bps", c->costs.copy_rate_Bps);
    sim_json_put_u64(costs, "pause_backlog_bytes",
                     sim_config_pause_backlog(c));
    json_object_object_add(o, "costs", costs);
    return o;
}
