/* SPDX-License-Identifier: MIT */
/*
 * fleet.h - fleet evacuation plans: drain hosts by live-migrating their VMs.
 *
 * An inventory (format in docs/plan.md) lists hosts with a memory capacity,
 * links between pairs of hosts, and VMs (host, memory, vCPUs, workload).
 * Draining a set of hosts:
 *   1. order the VMs on the drained hosts (smallest dirty rate first,
 *      largest memory first, or inventory order);
 *   2. in that order, give each VM a destination among the hosts that are
 *      not drained, have a direct link from the VM's host and can hold the
 *      VM: the one with the highest link bandwidth, then the most free
 *      capacity, then the first in the inventory (capacity is reserved at
 *      once, so destinations never overflow);
 *   3. simulate the migrations over simulated time with at most
 *      `concurrency` running at once, started in order: an event loop over
 *      completions (ties in start order).  Migrations that share a link
 *      share its payload rate max-min fairly (water-filling: a flow whose
 *      own cap, from window, loss or policy limits, is below the equal share
 *      keeps its cap and the rest is split among the others).
 *
 * Approximation (documented in docs/plan.md): a migration's progress is the
 * fraction of its predicted total time that has elapsed.  When its rate
 * changes (another migration on the link starts or finishes) the remaining
 * fraction is re-timed by a fresh analytic prediction of the whole
 * migration at the new rate; its bytes are the sum, over the intervals, of
 * the interval's fraction of that interval's predicted bytes; its downtime
 * is the downtime of the prediction in force when it finishes.
 */
#ifndef SIM_FLEET_H
#define SIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

struct sim_fleet_host {
    char *name;
    uint64_t capacity;          /* bytes of guest memory it can hold */
};

struct sim_fleet_link {
    size_t a, b;                /* host indices; undirected */
    struct sim_link link;
};

struct sim_fleet_vm {
    char *name;
    size_t host;
    uint64_t mem_bytes;
    unsigned vcpus;
    struct sim_workload *workload;  /* owned; NULL = idle */
};

struct sim_fleet {
    struct sim_fleet_host *hosts;
    size_t nhosts;
    struct sim_fleet_link *links;
    size_t nlinks;
    struct sim_fleet_vm *vms;
    size_t nvms;
    struct mig_policy policy;   /* for every migration (xen) */
    struct sim_costs costs;
};

/*
 * Read an inventory from f; name is used in messages ("NAME:LINE: ..."),
 * basedir resolves relative trace paths (NULL = current directory).  On
 * success *out is a new fleet the caller frees with sim_fleet_free().
 * Returns 0, MIG_EINVAL with one line in err, MIG_ENOMEM, or -errno.
 */
int sim_fleet_read(FILE *f, const char *name, const char *basedir,
                   struct sim_fleet **out, char *err, size_t errlen);
/* The same from a file path; "PATH: strerror" when it cannot be opened. */
int sim_fleet_load(const char *path, struct sim_fleet **out, char *err,
                   size_t errlen);
void sim_fleet_free(struct sim_fleet *f);

enum sim_fleet_order {
    SIM_ORDER_SMALLEST_DIRTY,   /* ascending write rate, then memory */
    SIM_ORDER_LARGEST_FIRST,    /* descending memory, then write rate */
    SIM_ORDER_INVENTORY,
};

struct sim_evac_opts {
    unsigned concurrency;       /* migrations at once, >= 1 (4) */
    enum sim_fleet_order order;
};

struct sim_evac_vm {
    size_t vm, src, dst, link;  /* indices into the fleet */
    double start_s, end_s;      /* end - start = its total time */
    double downtime_s;
    double bytes;
    enum sim_outcome outcome;
    unsigned predictions;       /* 1 + re-predictions at rate changes */
};

struct sim_evac_plan {
    enum sim_fleet_order order;
    double makespan_s;
    size_t n;
    struct sim_evac_vm *vms;    /* owned; in start order */
    size_t nlinks;
    double *link_bytes;         /* owned; per fleet link */
};

void sim_evac_plan_init(struct sim_evac_plan *p);
void sim_evac_plan_clear(struct sim_evac_plan *p);

/*
 * Plan the evacuation of the hosts named in drain[0..ndrain).  p must be
 * initialised; it is replaced.  Returns 0, MIG_EINVAL with one line in err
 * (unknown host, nothing to drain, a VM with no destination that has room
 * and a link), or MIG_ENOMEM.
 */
int sim_fleet_evacuate(const struct sim_fleet *f, const char *const *drain,
                       size_t ndrain, const struct sim_evac_opts *o,
                       struct sim_evac_plan *p, char *err, size_t errlen);

const char *sim_fleet_order_name(enum sim_fleet_order o);

#endif
