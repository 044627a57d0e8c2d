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
 *
 * Admission: right after the xl save header (before the sender, if it asked
 * for it in the config, sends anything else) o->admit decides from the
 * config's memory size; a miglab sender gets the admission line
 * (docs/host-protocol.md), an xl sender sees the connection close.
 */
#ifndef MIG_RECEIVER_H
#define MIG_RECEIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "transport.h"

/* What the xl save header says about the incoming guest.  Pointers are
 * valid only during the call. */
struct mig_admit_req {
    const char *name;               /* c_info.name; "" if absent */
    uint64_t mem_bytes;             /* b_info.max_memkb * 1024; 0 unknown */
    uint32_t vcpus;                 /* b_info.max_vcpus; 0 unknown */
    const char *config;             /* the whole JSON config text */
};

/*
 * Admission control at the xl save header, before any page: 0 admits;
 * nonzero (MIG_ERANGE) refuses with a one-line reason in err.
 */
typedef int mig_admit_fn(void *opaque, const struct mig_admit_req *req,
                         char *err, size_t errlen);

/* The receiver reads the stream in pieces of up to this many bytes: small
 * enough that a piece is still in the CPU's L2 cache when its pages are
 * looked at; pages are streamed, so records need not fit. */
#define MIG_RECV_BUF (256U << 10)

struct mig_recv_opts {
    mig_guest_create_fn *create;    /* required */
    void *create_opaque;
    mig_admit_fn *admit;            /* NULL: admit all (create still checks) */
    void *admit_opaque;
    uint64_t max_pages;             /* decoder pfn bound; 0 = format max */
};

struct mig_recv_info {
    struct mig_guest_desc desc;     /* as migrated */
    bool verify;                    /* hashes were sent to the sender */
    uint64_t bytes_recv;
    uint64_t pages_written;         /* incl. pages sent more than once */
    uint64_t stream_bytes;          /* the stream's bytes (decoded) */
    double first_byte_s;            /* banner sent -> first stream byte */
    double stream_s;                /* banner sent -> end of stream */
    double unpause_s;               /* GO received -> guest started */
    double downtime_s;              /* sender's measured downtime, from its
                                       note (0 when it sent none) */
    char name[64];                  /* c_info.name from the config */
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
