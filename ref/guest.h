/* SPDX-License-Identifier: MIT */
/*
 * guest.h - the one ops table behind which every guest backend sits.
 *
 * The sender and the receiver (ref/sender.c, ref/receiver.c) migrate a
 * struct mig_guest without knowing what it is: the emulated guest of
 * ref/guest_emu.c today, a real Xen domain (ref/guest_xen.c) later.  The
 * table mirrors what libxc's save/restore code asks of a domain
 * (xg_sr_common.h "ops"): describe it, run log-dirty with Xen's
 * SHADOW_OP_CLEAN / SHADOW_OP_PEEK semantics, read pages, suspend and
 * resume, and carry backend state as libxc stream records; on the receiving
 * side write pages, load state and start.
 *
 * A backend embeds struct mig_guest as its first member and sets ops.  All
 * ops return 0 or a negative MIG_E* / -errno unless stated otherwise.
 * Callers dispatch through g->ops; ref/guest.c holds the few
 * backend-neutral helpers (page hashes for integrity checks).
 *
 * Threads: one controlling thread calls the ops of a guest; a backend may
 * run its own threads (the emulated vCPUs) behind them.
 */
#ifndef MIG_GUEST_H
#define MIG_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mig_err.h"

struct mig_guest;

/* What a guest looks like from the outside; travels in GUEST_INFO. */
struct mig_guest_desc {
    uint64_t nr_pages;          /* memory in 4 KiB pages, >= 1 */
    uint32_t vcpus;             /* >= 1 */
    uint64_t stamp_generation;  /* page writes done so far (emu) */
};

/* Number of uint64_t words in a dirty bitmap of nr_pages pages. */
static inline size_t mig_bitmap_words(uint64_t nr_pages)
{
    return (size_t)((nr_pages + 63) / 64);
}

struct mig_guest_ops {
    const char *name;                           /* "emu", "xen" */
    void (*destroy)(struct mig_guest *g);
    int (*describe)(struct mig_guest *g, struct mig_guest_desc *out);

    /* Log-dirty.  enable clears the bitmap.  clean copies the bitmap into
     * bitmap (may be NULL: count only), clears it, and sets *count; peek
     * does the same without clearing. */
    int (*logdirty_enable)(struct mig_guest *g);
    int (*logdirty_clean)(struct mig_guest *g, uint64_t *bitmap,
                          uint64_t *count);
    int (*logdirty_peek)(struct mig_guest *g, uint64_t *bitmap,
                         uint64_t *count);
    int (*logdirty_disable)(struct mig_guest *g);

    /* Copy page pfn (< nr_pages) into dst (4096 bytes). */
    int (*read_page)(struct mig_guest *g, uint64_t pfn, void *dst);
    /* Optional (may be NULL): the page's address for a zero-copy send,
     * valid until the guest is destroyed; NULL when pfn >= nr_pages.  Its
     * bytes may change while the guest runs, as with read_page: the dirty
     * log reports such a page again. */
    const void *(*page_ptr)(struct mig_guest *g, uint64_t pfn);
    /* Pause at a barrier: on return no vCPU runs and memory is stable. */
    int (*suspend)(struct mig_guest *g);
    int (*resume)(struct mig_guest *g);
    /* Scale the guest's write rate by 1 - throttle (0..0.99). */
    int (*set_throttle)(struct mig_guest *g, double throttle);

    /* Append the records that describe the guest before any page (miglab
     * GUEST_INFO, WORKLOAD) to wb. */
    int (*save_info)(struct mig_guest *g, struct mig_wbuf *wb);
    /* Append the state records sent while suspended (GEN_STATE, ...). */
    int (*save_state)(struct mig_guest *g, struct mig_wbuf *wb);

    /* Receiver side.  write_page copies 4096 bytes to page pfn;
     * load_record consumes one libxc record the backend owns (others are
     * ignored: return 0); start runs the guest for the first time. */
    int (*write_page)(struct mig_guest *g, uint64_t pfn, const void *src);
    int (*load_record)(struct mig_guest *g, uint32_t type,
                       const uint8_t *body, uint32_t len);
    int (*start)(struct mig_guest *g);
};

struct mig_guest {
    const struct mig_guest_ops *ops;
};

/*
 * Receiver-side factory: make an empty, stopped guest for desc (the
 * migrated GUEST_INFO).  Admission control lives here: refuse with
 * MIG_ERANGE (and a line in err) when the host cannot hold it.  On success
 * *out is owned by the caller (mig_guest_free()).
 */
typedef int mig_guest_create_fn(void *opaque,
                                const struct mig_guest_desc *desc,
                                struct mig_guest **out, char *err,
                                size_t errlen);

/* Destroy a guest of any backend; NULL is a no-op. */
static inline void mig_guest_free(struct mig_guest *g)
{
    if (g)
        g->ops->destroy(g);
}

/*
 * Per-page XXH3-64 hashes of the whole guest into out[nr_pages] (caller
 * allocates).  The guest should be suspended or stopped, otherwise the
 * result describes no single moment.  0 or the read_page error.
 */
int mig_guest_hash_pages(struct mig_guest *g, uint64_t nr_pages,
                         uint64_t *out);

/* XXH3-64 of one 4096-byte page. */
uint64_t mig_page_hash(const void *page);

#endif
