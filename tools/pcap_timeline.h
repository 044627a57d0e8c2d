/* SPDX-License-Identifier: MIT */
/*
 * pcap_timeline.h - the wire timeline of a migration from a reassembled
 * capture (pcap_flow.h): the sender -> receiver bytes go through the
 * stream decoder (ref/stream.h), PAGE_DATA batches are grouped into passes,
 * and the xl handshake messages are located in both directions, so the
 * pause window can be read off the wire.
 *
 * Xen's stream has no pass marker, nor does miglab's sender: a pass is a
 * run of PAGE_DATA batches in which no pfn repeats and, while the sender
 * walks its dirty bitmap in order, pfns ascend (docs/pcap.md, "Passes").
 */
#ifndef MIGLAB_PCAP_TIMELINE_H
#define MIGLAB_PCAP_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcap_flow.h"

/* One pass as seen on the wire. */
struct mig_pcap_pass {
    unsigned index;             /* 1-based */
    bool live;                  /* false: the stop-and-copy pass (the last
                                   one of a stream that reached its END) */
    uint64_t batches;           /* PAGE_DATA records */
    uint64_t pages;             /* pfn entries */
    uint64_t bytes;             /* PAGE_DATA record bytes incl. headers */
    uint64_t first_off;         /* stream offset of its first byte */
    uint64_t end_off;           /* one past its last byte */
    int64_t first_ts_ns;        /* capture time of its first byte */
    int64_t last_ts_ns;         /* capture time of its last byte */
    uint64_t retransmits;       /* retransmitted segments starting in it */
};

/* A handshake message: seen, and when its last byte was captured. */
struct mig_pcap_msg {
    bool seen;
    uint64_t off;               /* stream offset of its first byte */
    int64_t ts_ns;
};

struct mig_pcap_timeline {
    struct mig_pcap_pass *passes;   /* owned; see mig_pcap_timeline_clear */
    size_t npasses;
    size_t cap;

    /* Stream decode. */
    int decode_rc;              /* 0: the stream decoded to its END */
    char decode_msg[256];       /* why not, one line ("" when rc is 0) */
    uint64_t stream_bytes;      /* bytes the decoder consumed */
    uint64_t page_bytes;        /* in PAGE_DATA records */
    uint64_t pages;
    uint64_t records;           /* all records, both layers, page data too */
    int64_t start_ts_ns;        /* first stream byte */
    int64_t end_ts_ns;          /* last stream byte decoded */
    uint32_t domain_type;       /* MIG_DHDR_TYPE_*, 0 if not seen */
    uint32_t xen_major, xen_minor;
    bool xl_header;             /* the stream began with an xl header */
    uint64_t guest_pages;       /* from MIGLAB_GUEST_INFO, 0 if absent */

    /* Handshake (docs/stream-format.md §8). */
    struct mig_pcap_msg banner;     /* R->S */
    struct mig_pcap_msg ready;      /* R->S */
    struct mig_pcap_msg go;         /* S->R after the stream */
    struct mig_pcap_msg report;     /* R->S, plus a status byte */
    int report_status;              /* -1 when not seen */

    uint64_t retransmits;       /* sender -> receiver, all */
    uint64_t retransmits_rev;   /* receiver -> sender */
};

/*
 * Build the timeline of flow into *tl (which is overwritten; release it
 * with mig_pcap_timeline_clear()).  Returns 0 or MIG_ENOMEM.  A stream that
 * does not decode is not a failure of this call: decode_rc and decode_msg
 * say what happened, and the passes up to that point are kept.
 */
int mig_pcap_timeline_build(const struct mig_pcap_flow *flow,
                            struct mig_pcap_timeline *tl);

/* Free what the timeline owns and zero it; safe to call twice. */
void mig_pcap_timeline_clear(struct mig_pcap_timeline *tl);

#endif
