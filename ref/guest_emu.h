/* SPDX-License-Identifier: MIT */
/*
 * guest_emu.h - the emulated guest: a guest.h backend with real memory and
 * vCPU threads that write it as a sim/workload generator dictates.
 *
 * Memory is an anonymous private mapping (MADV_NOHUGEPAGE, so dirty state is
 * per 4 KiB page), or with mem_path a shared mapping of a file, so the
 * memory outlives the process as a Xen domain outlives xl (docs/faults.md).  Each of the N vCPU threads drives its own sim_wgen
 * (seed = guest seed + vcpu index, rate = workload rate / N) in small steps
 * of the real clock (CLOCK_MONOTONIC).  Every write stamps the page:
 *
 *   off size  meaning
 *     0    8  pfn (little-endian host order); MIG_EMU_STAMP_BUSY while
 *              the stamp is being written (a crash can leave it)
 *     8    8  generation: (vcpu index << 56) | that vCPU's write count
 *    16+   8  the generation again, at offset 16 + 8 * (generation % 510)
 *
 * (under a per-page stripe lock, so concurrent writers never tear a stamp)
 * then marks the dirty bitmap with an atomic OR (explicit marking, exact;
 * testbed-facts.md "Dirty tracking").  The bit is set after the stores, so
 * a CLEAN that misses a write's bit happened before the write began and the
 * next CLEAN reports it.
 *
 * Suspend parks every vCPU at a barrier between writes; while suspended the
 * memory does not change.  Migrated state (GEN_STATE record, format
 * MIG_EMU_GEN_FORMAT): the seed, each vCPU's write counter and its complete
 * generator state (sim_wgen_state_save()), so the destination continues the
 * very page-write sequence the source would have produced.  A guest that
 * received a WORKLOAD record but no GEN_STATE refuses to start
 * (MIG_ECORRUPT): the stream lost its vCPU state.
 */
#ifndef MIG_GUEST_EMU_H
#define MIG_GUEST_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

#define MIG_EMU_GEN_FORMAT  0x454d5532U     /* "EMU2" */
#define MIG_EMU_MAX_VCPUS   64U
#define MIG_EMU_STAMP_BUSY  UINT64_MAX

struct mig_guest_emu_cfg {
    uint64_t mem_bytes;         /* multiple of 4096, >= 4096 */
    unsigned vcpus;             /* 1 .. MIG_EMU_MAX_VCPUS */
    const char *workload;       /* sim/workload.h spec; NULL = "idle" */
    uint64_t seed;
    double step_s;              /* vCPU time step; 0 = 1 ms */
    const char *mem_path;       /* memory file (tmpfs); NULL = anonymous */
    bool mem_keep;              /* map the file's contents as they are
                                   (recovery); else it starts zeroed */
};

/*
 * New emulated guest, stopped (no vCPU thread yet): call ops->start to run
 * it.  On success *out is owned by the caller (mig_guest_free()).  Returns
 * MIG_EINVAL (with a line in err) for a bad configuration or workload,
 * MIG_ENOMEM, or -errno from mmap.
 */
int mig_guest_emu_new(const struct mig_guest_emu_cfg *cfg,
                      struct mig_guest **out, char *err, size_t errlen);

/*
 * A mig_guest_create_fn for receivers: an emulated guest of desc's size and
 * vCPUs, idle until WORKLOAD / GEN_STATE records arrive.  opaque may point
 * to a uint64_t memory cap in bytes (admission control); NULL caps at the
 * machine's physical memory.  Over the cap: MIG_ERANGE, "not enough
 * memory: ..." in err.
 */
int mig_guest_emu_create(void *opaque, const struct mig_guest_desc *desc,
                         struct mig_guest **out, char *err, size_t errlen);

/*
 * mig_guest_emu_create() with an explicit cap in bytes and the memory in
 * the file mem_path (NULL = anonymous), zeroed first.
 */
int mig_guest_emu_create_at(const struct mig_guest_desc *desc, uint64_t cap,
                            const char *mem_path, struct mig_guest **out,
                            char *err, size_t errlen);

/*
 * Finish the stamps a crash interrupted (pfn word MIG_EMU_STAMP_BUSY):
 * the pfn and the generation's slot are written again from the stamp's
 * generation word, or the page reads as never written when that word is
 * 0.  Only on a recovered guest, before it starts.  Returns the number of
 * pages repaired.
 */
uint64_t mig_guest_emu_repair_stamps(struct mig_guest *g);

/* Page writes done so far, all vCPUs (includes migrated-in counts). */
uint64_t mig_guest_emu_writes(struct mig_guest *g);

/* The workload spec as text (sim_workload_format()) into buf; returns buf. */
char *mig_guest_emu_workload(struct mig_guest *g, char *buf, size_t len);

/*
 * Block while the guest is suspended (the vCPU barrier): 0 once it runs,
 * -ETIMEDOUT if still paused after timeout_ms.  For threads that belong to
 * the guest, such as the heartbeat responder, so they pause with it.
 */
int mig_guest_emu_wait_running(struct mig_guest *g, int timeout_ms);

/* Direct pointer to guest memory (tests).  Points into the guest. */
const uint8_t *mig_guest_emu_mem(struct mig_guest *g);

/*
 * Check every stamp: a page that was ever written must carry its own pfn
 * and a generation from a valid vCPU.  Returns the number of bad pages and
 * sets *first_bad to the first (UINT64_MAX if none).  Suspend first.
 */
uint64_t mig_guest_emu_check_stamps(struct mig_guest *g, uint64_t *first_bad);

/* Write count exactly: advance every vCPU's generator by dt seconds of
 * guest time without real time passing (tests of the closed form).  Only
 * while the guest is not started or suspended. */
uint64_t mig_guest_emu_step(struct mig_guest *g, double dt);

#endif
