/* SPDX-License-Identifier: MIT */
/*
 * fault.h - fault points for the fault-injection harness (docs/faults.md).
 *
 * A fault is "side:phase[:N]:action": at the given protocol phase
 * (migrate.h enum mig_phase; N picks the sender's live pass, default 1;
 * the receiver has only pass 1, its first page batch) of the
 * sending or the receiving side, do one thing to the process or to the
 * migration channel:
 *   crash     SIGKILL this process (a real crash: no cleanup runs)
 *   cut       shutdown(SHUT_RDWR) of the migration socket
 *   stall     neither read nor write for stall_ms, then go on
 *   corrupt   flip the first byte of the next chunk sent
 *   truncate  send half of the next chunk, then shut the write side
 * The host daemon reads the spec once at startup (MIGLAB_FAULT, a test
 * interface only) and calls mig_fault_fire() from its phase hooks.
 */
#ifndef MIG_FAULT_H
#define MIG_FAULT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "migrate.h"
#include "transport.h"

enum mig_fault_side { MIG_FAULT_SEND, MIG_FAULT_RECV };

enum mig_fault_action {
    MIG_FAULT_CRASH,
    MIG_FAULT_CUT,
    MIG_FAULT_STALL,
    MIG_FAULT_CORRUPT,
    MIG_FAULT_TRUNCATE,
};

struct mig_fault {
    enum mig_fault_side side;
    enum mig_phase phase;
    unsigned n;                 /* pass number for MIG_PHASE_PASS, >= 1 */
    enum mig_fault_action action;
    int stall_ms;               /* how long a stall lasts */
    atomic_bool fired;          /* a fault fires once per process */
};

/*
 * Parse spec into *out (stall_ms left at 0: the caller sets it longer than
 * the peer's timeout).  0, or MIG_EINVAL with one line in err.
 */
int mig_fault_parse(const char *spec, struct mig_fault *out, char *err,
                    size_t errlen);

/*
 * When f matches (side, phase, n) and has not fired yet, fire it on ch.
 * Returns 0 (a crash does not return).  f may be NULL.
 */
int mig_fault_fire(struct mig_fault *f, enum mig_fault_side side,
                   enum mig_phase phase, unsigned n, struct mig_chan *ch);

#endif
