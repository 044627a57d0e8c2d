/* SPDX-License-Identifier: MIT */
/*
 * host_state.h - what a host daemon started with --state-dir keeps on disk
 * so its guests survive a crash of the daemon, as a Xen domain survives a
 * crash of xl (docs/faults.md "State directory").
 *
 * Per guest NAME in DIR (a tmpfs such as /dev/shm or /run):
 *   NAME.mem   the guest's memory, mapped MAP_SHARED (guest_emu.h)
 *   NAME.json  {"name", "mem", "vcpus", "workload", "seed", "ip", "from",
 *               "phase"}, replaced atomically (temp file + rename) at
 *               every phase change
 * The phase says what a restarted daemon must do with the guest
 * (mig_hstate_decide()): the rule is the two-phase commit of xl migrate.
 */
#ifndef MIG_HOST_STATE_H
#define MIG_HOST_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "mig_err.h"

enum mig_gphase {
    MIG_GPHASE_RUNNING,         /* runs here */
    MIG_GPHASE_MIGRATING,       /* leaving: pre-copy, still runs here */
    MIG_GPHASE_SUSPENDED,       /* leaving: suspended, GO not sent */
    MIG_GPHASE_GO_SENT,         /* leaving: GO may be out, no report yet */
    MIG_GPHASE_INCOMING,        /* arriving: GO not received */
    MIG_GPHASE_STARTED,         /* arrived: GO received, runs here */
    MIG_GPHASE_COUNT
};

enum mig_recover {
    MIG_RECOVER_RESUME,         /* run it here */
    MIG_RECOVER_UNDEFINED,      /* keep it paused for the operator */
    MIG_RECOVER_DISCARD,        /* delete it: it runs at the source */
};

#define MIG_HSTATE_NAME_MAX 63U

struct mig_hstate {
    char name[MIG_HSTATE_NAME_MAX + 1];
    uint64_t mem;               /* bytes, a multiple of 4096 */
    unsigned vcpus;
    char workload[256];
    uint64_t seed;
    char ip[16];                /* "" = none */
    char from[MIG_HSTATE_NAME_MAX + 1];
    enum mig_gphase phase;
};

/* "running", "migrating", "suspended", "go-sent", "incoming", "started". */
const char *mig_gphase_name(enum mig_gphase p);

/*
 * What a restarted daemon does with a guest found in phase p: running,
 * migrating, suspended (the destination never got GO, so it cannot run a
 * copy) and started resume here; go-sent is undefined (xl's window);
 * incoming is discarded (no GO: the source runs it).
 */
enum mig_recover mig_hstate_decide(enum mig_gphase p);

/* DIR/NAME.EXT into buf; MIG_ERANGE when it does not fit. */
int mig_hstate_path(const char *dir, const char *name, const char *ext,
                    char *buf, size_t len);

/* Write st to DIR/NAME.json through DIR/NAME.json.tmp and rename(2).
 * 0, MIG_ERANGE (path too long), MIG_ENOMEM or -errno. */
int mig_hstate_write(const char *dir, const struct mig_hstate *st);

/* Read a state file.  0, -errno, or MIG_ECORRUPT (not a state file:
 * bad JSON, a missing or wrong-typed key, an unknown phase, bad sizes). */
int mig_hstate_read(const char *path, struct mig_hstate *st);

/* Delete NAME.json and NAME.mem from dir (missing files are fine). */
void mig_hstate_remove(const char *dir, const char *name);

#endif
