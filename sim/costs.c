/* SPDX-License-Identifier: MIT */
/*
 * costs.c - default fixed costs and wire sizes (see costs.h).
 */
#include <math.h>

#include "costs.h"
#include "mig_err.h"
#include "units.h"

void sim_costs_defaults(struct sim_costs *c)
{
    *c = (struct sim_costs){
        .suspend_s = 0.005,
        .restore_s = 0.020,
        .unpause_s = 0.002,
        .vcpu_state_bytes = 16 * 1024,
        .device_state_bytes = 64 * 1024,
        .stream_header_bytes = 8 * 1024,
        .setup_rtts = 2.0,
        .handshake_rtts = 1.0,
        .copy_rate_Bps = 0,
        .pause_backlog_bytes = SIM_PAUSE_BACKLOG_MODEL,
    };
}

static int nonneg(double v)
{
    return v >= 0 && isfinite(v);
}

int sim_costs_validate(const struct sim_costs *c)
{
    if (!nonneg(c->suspend_s) || !nonneg(c->restore_s) ||
        !nonneg(c->unpause_s) || !nonneg(c->setup_rtts) ||
        !nonneg(c->handshake_rtts) || !nonneg(c->copy_rate_Bps))
        return MIG_EINVAL;
    return 0;
}

uint64_t sim_page_data_bytes(uint64_t pages)
{
    uint64_t batches = (pages + SIM_BATCH_PAGES - 1) / SIM_BATCH_PAGES;

    return pages * (SIM_PAGE_SIZE + SIM_PFN_WORD) +
           batches * SIM_BATCH_OVERHEAD;
}

uint64_t sim_costs_state_bytes(const struct sim_costs *c, unsigned vcpus)
{
    return c->vcpu_state_bytes * vcpus + c->device_state_bytes;
}

double sim_costs_fixed_downtime(const struct sim_costs *c, unsigned vcpus,
                                double rtt_s, double rate_Bps)
{
    double t = c->suspend_s + c->restore_s + c->unpause_s +
               (0.5 + c->handshake_rtts) * rtt_s;

    if (rate_Bps > 0)
        t += (double)sim_costs_state_bytes(c, vcpus) / rate_Bps;
    return t;
}
