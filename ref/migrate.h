/* SPDX-License-Identifier: MIT */
/*
 * migrate.h - what a measured migration reports, shared by ref/sender.c and
 * ref/receiver.c.
 *
 * A measured run fills the simulator's struct sim_result (sim/engine.h) with
 * clock readings instead of model values, so sim_result_to_json() gives the
 * same keys as `miglab predict --json`; mig_run_to_json() adds `integrity`
 * {ok, pages_checked, mismatches, mismatch_pfns}.  Conventions of a
 * measured run: engine "exact"; link.goodput_Bps is the measured page rate
 * and the model-only link terms are null; downtime_parts.propagation_s is 0
 * because the network's share is inside restore_s (end of stream sent ->
 * "ready" received) and unpause_s (GO sent -> report received).
 *
 * After the xl handshake (REPORT), when the sender's JSON config asks for
 * it ({"miglab": {"verify": true}}), the receiver sends its per-page hashes:
 *   u64 count (= guest pages), then count u64 XXH3-64 hashes, little-endian.
 * xl never reads past the report byte, so this stays outside its protocol.
 */
#ifndef MIG_MIGRATE_H
#define MIG_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine.h"
#include "mig_err.h"

#define MIG_MISMATCH_LIST 16U
/* Longest admission line, '\n' included (docs/host-protocol.md). */
#define MIG_ADMIT_LINE_MAX 240U

struct mig_integrity {
    bool checked;               /* hashes were compared */
    bool ok;                    /* checked and no mismatch */
    uint64_t pages_checked;
    uint64_t mismatches;
    size_t nlisted;             /* first pfns that differ */
    uint64_t mismatch_pfns[MIG_MISMATCH_LIST];
};

struct mig_run {
    struct sim_result result;   /* passes owned; mig_run_clear() frees */
    struct mig_integrity integrity;
    bool committed;             /* GO was sent: the destination owns it */
    bool resumed_at_source;     /* failure path resumed the source guest */
    bool refused;               /* admission refused before any page */
    char msg[256];              /* outcome in one line ("" on success) */
};

/*
 * Protocol phases at which the sender and the receiver call an optional
 * phase hook (mig_send_opts.phase, mig_recv_opts.phase), in this order.
 * The host daemon persists its guest's phase there and the fault harness
 * injects faults there (docs/faults.md).
 *   HANDSHAKE  sender: xl header sent and admitted; receiver: admission
 *              answered
 *   PASS       sender: before live pass n (1-based); receiver: first
 *              PAGE_DATA batch (n = 1)
 *   STOP_COPY  sender: guest suspended, before the final pages
 *   STATE      sender: before the state records; receiver: whole stream
 *              received, before "ready"
 *   READY      sender: "ready to unpause" received; receiver: it was sent
 *   GO         sender: before "cleared to unpause" goes out; receiver: it
 *              was received, before the guest starts
 *   REPORT     sender: a zero report was received; receiver: it was sent
 */
enum mig_phase {
    MIG_PHASE_HANDSHAKE,
    MIG_PHASE_PASS,
    MIG_PHASE_STOP_COPY,
    MIG_PHASE_STATE,
    MIG_PHASE_READY,
    MIG_PHASE_GO,
    MIG_PHASE_REPORT,
    MIG_PHASE_COUNT
};

struct mig_chan;

/*
 * Phase hook: called on the migrating thread with the migration channel.
 * Returns 0 to go on; a nonzero code fails the migration there (before GO
 * the guest resumes at the source), which is how a daemon that cannot
 * persist its phase stops short of GO.
 */
typedef int mig_phase_fn(void *opaque, enum mig_phase phase, unsigned n,
                         struct mig_chan *ch);

/* "handshake", "pass", "stopcopy", "state", "ready", "go", "report". */
const char *mig_phase_name(enum mig_phase phase);

void mig_run_init(struct mig_run *run);
void mig_run_clear(struct mig_run *run);

/* New JSON object: sim_result_to_json() + "integrity" (+ "message" when
 * msg is set).  Caller releases with json_object_put().  NULL on ENOMEM. */
struct json_object *mig_run_to_json(const struct mig_run *run);

/* Internal to ref/: append a zeroed pass with its 1-based index. */
struct sim_pass *mig__run_add_pass(struct mig_run *run);
/* CLOCK_MONOTONIC in seconds. */
double mig__now(void);

#endif
