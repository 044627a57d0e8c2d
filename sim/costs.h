/* SPDX-License-Identifier: MIT */
/*
 * costs.h - fixed costs of a migration and the wire size of what it sends.
 *
 * Everything a migration spends that is not proportional to dirty memory:
 * suspending the guest, the vCPU and device state sent while it is paused,
 * the receiver's restore, the unpause, and the round trips of xl's
 * handshake (connect + receiver banner before the stream; "ready to
 * unpause" -> "cleared to unpause" after it, which lies inside downtime).
 * The defaults are stated here and in docs/model.md; scenario files and
 * flags override them, and measured runs calibrate them.
 *
 * Wire size of page data follows libxc's PAGE_DATA records
 * (shared/reference/xen-qemu-facts.md, "Batches"): batches of at most 1024
 * pages, each with an 8-byte record header, an 8-byte count/reserved word
 * and one 8-byte pfn word per page, then the 4096-byte pages.
 */
#ifndef SIM_COSTS_H
#define SIM_COSTS_H

#include <stdint.h>

#define SIM_BATCH_PAGES 1024u
#define SIM_BATCH_OVERHEAD 16u      /* record header + count/reserved */
#define SIM_PFN_WORD 8u

struct sim_costs {
    double suspend_s;               /* request -> guest paused (5 ms) */
    double restore_s;               /* receiver: stream end -> ready (20 ms) */
    double unpause_s;               /* receiver: GO -> guest running (2 ms) */
    uint64_t vcpu_state_bytes;      /* per vCPU, sent while paused (16 KiB) */
    uint64_t device_state_bytes;    /* emulator/device state (64 KiB) */
    uint64_t stream_header_bytes;   /* xl header, JSON config, static data,
                                       sent before pass 1 (8 KiB) */
    double setup_rtts;              /* connect + banner (2 RTT) */
    double handshake_rtts;          /* ready -> GO, in downtime (1 RTT) */
    double copy_rate_Bps;           /* sender CPU limit; 0 = none */
    uint64_t pause_backlog_bytes;   /* bytes of the live passes still
                                       queued (socket, link) when the guest
                                       pauses; at most what the live passes
                                       sent, drained inside the downtime;
                                       SIM_PAUSE_BACKLOG_MODEL: the link's
                                       standing queue (sim/net.h), else
                                       measured by miglab calibrate */
};

/* costs.pause_backlog_bytes: not measured, modelled from the link. */
#define SIM_PAUSE_BACKLOG_MODEL UINT64_MAX

void sim_costs_defaults(struct sim_costs *c);

/* 0, or MIG_EINVAL when a field is negative or not finite. */
int sim_costs_validate(const struct sim_costs *c);

/* Wire bytes of the PAGE_DATA records that carry `pages` pages. */
uint64_t sim_page_data_bytes(uint64_t pages);

/* Bytes of state sent while the guest is paused (vCPUs + devices). */
uint64_t sim_costs_state_bytes(const struct sim_costs *c, unsigned vcpus);

/*
 * Downtime that does not depend on the final dirty set: suspend, restore,
 * unpause, RTT/2 + handshake round trips, and the state at rate_Bps (0 =
 * rate unknown: the state term is left out).  What the miglab policy adds to
 * its copy estimate, in the simulator and in the reference sender alike.
 */
double sim_costs_fixed_downtime(const struct sim_costs *c, unsigned vcpus,
                                double rtt_s, double rate_Bps);

#endif
