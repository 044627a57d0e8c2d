/* SPDX-License-Identifier: MIT */
/*
 * receiver.h - the receiving side of a migration (the `xl migrate-receive`
 * role), over any struct mig_chan.
 *
 * Sends the banner, decodes the xl/libxl/libxc stream incrementally
 * (ref/stream.h, fed whatever recv returns; the stream is hostile input),
 * creates the guest from the migrated GUEST_INFO through a
 * mig_guest_create_fn (admission control), writes pages (every pfn checked
 * against the guest size), loads backend state, answers "ready to
 * unpause", waits for "cleared to unpause", starts the guest and sends the
 * report.  Any failure before the start destroys the partial copy.
 */
#ifndef MIG_RECEIVER_H
#define MIG_RECEIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "transport.h"

struct mig_recv_opts {
    mig_guest_create_fn *create;    /* required */
    void *create_opaque;
    uint64_t max_pages;             /* decoder pfn bound; 0 = format max */
};

struct mig_recv_info {
    struct mig_guest_desc desc;     /* as migrated */
    bool verify;                    /* hashes were sent to the sender */
    uint64_t bytes_recv;
    uint64_t pages_written;         /* incl. pages sent more than once */
    double stream_s;                /* banner sent -> end of stream */
    double unpause_s;               /* GO received -> guest started */
    char msg[256];                  /* why it failed ("" on success) */
};

/*
 * Receive one migration over ch.  On success returns 0 and *out is the
 * running guest (caller frees with mig_guest_free()).  On failure *out is
 * NULL, the partial copy is destroyed, info->msg says why, and the return
 * is MIG_ECORRUPT (bad stream), MIG_ERANGE (admission refused),
 * MIG_EINCOMPLETE (sender closed early: it resumed at its end), MIG_EPROTO,
 * -ETIMEDOUT, -errno or MIG_ENOMEM.  info may not be NULL.
 */
int mig_receive(struct mig_chan *ch, const struct mig_recv_opts *o,
                struct mig_guest **out, struct mig_recv_info *info);

#endif
