/* SPDX-License-Identifier: MIT */
/*
 * sender.h - the sending side of a migration: cold or live, over any
 * struct mig_chan, speaking `xl migrate`'s protocol byte for byte
 * (shared/reference/xen-qemu-facts.md "xl migrate handshake"):
 *
 *   R->S banner; S->R xl save header + JSON config, libxl v2 stream with the
 *   libxc v3 stream inside; R->S "ready to unpause"; S->R "cleared to
 *   unpause" (GO, the point of no return); R->S report + status byte.
 *
 * Live migration runs the pre-copy driver loop of ref/policy.h with
 * measured numbers; cold migration suspends first and sends everything.
 * Two-phase commit as in xl: any failure before GO resumes the guest at the
 * source; a nonzero report from the destination (it destroyed its copy)
 * resumes it too.  Only a failure to send GO or to read the report leaves
 * the guest paused at the source ("domain state is now undefined", as xl).
 */
#ifndef MIG_SENDER_H
#define MIG_SENDER_H

#include <stdbool.h>

#include "guest.h"
#include "migrate.h"
#include "policy.h"
#include "transport.h"

struct sim_pass;

/* Called after each pass (live or the final one) is measured; p points into
 * the run, valid during the call. */
typedef void mig_send_progress_fn(void *opaque, const struct sim_pass *p);

struct mig_send_opts {
    bool live;
    struct mig_policy policy;   /* live only; max_bandwidth paces the chan */
    const char *name;           /* guest name in the JSON config */
    bool verify;                /* ask for the receiver's page hashes
                                   (migrate.h); off against a real xl
                                   receiver, which never sends them */
    double time_limit_s;        /* force stop-and-copy after; 0 = none */
    unsigned max_passes_guard;  /* force stop-and-copy after; 0 = 1000 */
    /* miglab extensions for host daemons (docs/host-protocol.md "Stream
     * extensions"); off against a real xl receiver, which never answers.
     * admission: after the xl save header, wait for the receiver's
     * admission line before sending anything else, and after the hashes
     * send the measured downtime (u64 ns, little-endian). */
    bool admission;
    const char *host_json;      /* JSON object text carried in the config
                                   as "miglab_host"; NULL = none */
    mig_send_progress_fn *progress;     /* NULL = none */
    void *progress_opaque;
    mig_phase_fn *phase;        /* phase hook (migrate.h); NULL = none */
    void *phase_opaque;
};

/* live, xen policy, name "guest", verify on, no time limit. */
void mig_send_opts_defaults(struct mig_send_opts *o);

/*
 * Migrate running guest g over ch, which must be connected to a receiver
 * that has not spoken yet.  run must be initialised (mig_run_init()); it
 * receives the measured result, the integrity verdict and a message.
 *
 * Returns 0 when the destination reported its copy running: g is then
 * paused at the source and the caller destroys it.  With verify, the
 * verdict is in run->integrity (a failed check does not undo a completed
 * migration; run->msg then says why the check could not run).  On failure
 * returns a
 * negative code; run->resumed_at_source tells whether g runs again at the
 * source (always, except when run->committed: then the state is
 * undefined and g stays paused), run->msg says why.  Codes: MIG_EINVAL
 * (invalid policy; g untouched), MIG_EABORTED
 * (the policy aborted; g never paused), MIG_EREFUSED (the destination
 * refused or failed to start its copy), MIG_EPROTO (unexpected bytes),
 * MIG_EINCOMPLETE (peer closed), -ETIMEDOUT, -errno, MIG_ENOMEM.
 * With o->admission, a destination that cannot hold the guest answers
 * before any page is sent: MIG_ERANGE, run->refused set, run->msg carries
 * its reason, g never paused.
 */
int mig_send(struct mig_guest *g, struct mig_chan *ch,
             const struct mig_send_opts *o, struct mig_run *run);

#endif
