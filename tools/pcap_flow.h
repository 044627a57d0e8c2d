/* SPDX-License-Identifier: MIT */
/*
 * pcap_flow.h - find a migration's TCP connection in a libpcap capture and
 * reassemble the byte stream of each of its directions.
 *
 * Reading is two passes over the capture: the first counts the payload of
 * every TCP connection and keeps the first bytes of each direction, so the
 * migration flow can be chosen (by port, by the xl banner or stream magic,
 * else by volume); the second keeps the payload of the chosen connection
 * only.  Each direction is then put in sequence order (out-of-order
 * segments, retransmissions, overlaps and sequence wraparound handled) up to
 * the first hole, which is reported as a gap.
 *
 * Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2,
 * raw IP (DLT_RAW, LINKTYPE_IPV4/IPV6), BSD loopback.  Network: IPv4 (not
 * fragmented) and IPv6 (hop-by-hop, routing, destination-options and AH
 * extension headers).  Everything else is counted and skipped.  Timestamps
 * are kept in nanoseconds.  The format of the decoded bytes and the pass
 * rule are in docs/pcap.md.
 */
#ifndef MIGLAB_PCAP_FLOW_H
#define MIGLAB_PCAP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the capture comes from: a file path, or a memory image of a pcap
 * file (mem/len; path NULL).  Not owned; must outlive the read call. */
struct mig_pcap_src {
    const char *path;
    const void *mem;
    size_t len;
};

/* What the reader is asked for.  port 0: choose automatically. */
struct mig_pcap_opts {
    uint16_t port;
    uint64_t max_bytes;         /* payload kept per direction; 0: 4 GiB */
};

/* One endpoint, printable. */
struct mig_pcap_endpoint {
    char addr[48];              /* numeric IPv4 or IPv6 text */
    uint16_t port;
};

/* One byte range of a reassembled direction, in stream order.  data points
 * into the flow's payload arena; do not free. */
struct mig_pcap_range {
    uint64_t off;               /* stream offset of data[0] */
    uint32_t len;
    int64_t ts_ns;              /* capture time of the segment that carried
                                   these bytes first (in stream order) */
    const uint8_t *data;
};

/* A segment that went back in sequence space: a retransmission, or a
 * reordered segment (see docs/pcap.md).  off is its stream offset. */
struct mig_pcap_retx {
    uint64_t off;
    int64_t ts_ns;
};

/* One direction of the connection. */
struct mig_pcap_dir {
    struct mig_pcap_endpoint src, dst;
    uint64_t segments;          /* segments with payload */
    uint64_t payload_bytes;     /* payload captured, duplicates included */
    uint64_t retransmits;       /* segments starting below the highest
                                   sequence already seen */
    uint64_t dup_bytes;         /* bytes captured more than once */
    uint64_t stream_len;        /* bytes in order from the start to the
                                   first hole (= sum of the ranges) */
    bool syn_seen, fin_seen, rst_seen;
    bool gap;                   /* a hole ends the in-order stream */
    uint64_t gap_off;           /* stream offset of the hole */
    uint64_t gap_len;           /* its length (0 if data after it is
                                   unknown, i.e. the capture just ends) */
    int64_t gap_ts_ns;          /* capture time of the first byte after it */
    struct mig_pcap_range *ranges;   /* owned by the flow */
    size_t nranges;
    struct mig_pcap_retx *retx;      /* owned by the flow */
    size_t nretx;
};

/* Counters over the whole capture. */
struct mig_pcap_stats {
    uint64_t packets;
    uint64_t not_ip;            /* link or network protocol not handled */
    uint64_t not_tcp;
    uint64_t malformed;         /* bad or truncated IP/TCP headers */
    uint64_t fragments;         /* IPv4/IPv6 fragments (not reassembled) */
    uint64_t snapped;           /* payload cut by the snap length */
    uint64_t flows;             /* TCP connections seen */
    bool truncated_file;        /* the file ends inside a packet record */
    int link_type;              /* DLT_* */
    int64_t first_ts_ns, last_ts_ns;
};

/* A chosen connection: dir[0] is sender -> receiver (the migration stream),
 * dir[1] receiver -> sender. */
struct mig_pcap_flow {
    struct mig_pcap_dir dir[2];
    struct mig_pcap_stats stats;
    const char *why;            /* how it was chosen (static text) */
    uint8_t *arena;             /* payload bytes, owned */
    size_t arena_len, arena_cap;
};

/*
 * Read the capture and reassemble the migration flow.  On success *out is
 * a new flow the caller frees with mig_pcap_flow_free().  Returns 0;
 * MIG_ECORRUPT when the file is not a capture libpcap can read, or has no
 * TCP payload (on the port, when one is given); MIG_ENOTSUP for a link type
 * that is not handled; MIG_ENOMEM; -errno when the file cannot be opened.
 * On failure err (size errlen) holds one line saying why and *out is NULL.
 * A file that ends in the middle of a packet is not an error: what came
 * before is used and stats.truncated_file is set.
 */
int mig_pcap_flow_read(const struct mig_pcap_src *src,
                       const struct mig_pcap_opts *opts,
                       struct mig_pcap_flow **out, char *err, size_t errlen);

/* Free a flow; NULL is a no-op. */
void mig_pcap_flow_free(struct mig_pcap_flow *flow);

/* Capture time of the byte at stream offset off of d, or -1 when off is not
 * in the reassembled stream. */
int64_t mig_pcap_dir_time(const struct mig_pcap_dir *d, uint64_t off);

/* Copy up to n bytes from stream offset off of d into dst; returns how many
 * were copied (fewer at the end of the stream). */
size_t mig_pcap_dir_copy(const struct mig_pcap_dir *d, uint64_t off,
                         void *dst, size_t n);

#endif
