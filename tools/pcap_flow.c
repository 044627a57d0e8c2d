/* SPDX-License-Identifier: MIT */
/*
 * pcap_flow.c - TCP flow selection and stream reassembly from a libpcap
 * capture (pcap_flow.h).  Packet headers are parsed with the bounded cursor
 * of ref/buf.h: a capture is untrusted input, and every length field is
 * checked against what was captured before it is used.  docs/pcap.md
 * describes what is decoded and the limits.
 */
#include "pcap_flow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mig_err.h"
#include "stream_format.h"

#define MAX_FLOWS 1024U
#define HEAD_KEEP 64U               /* first payload bytes kept per direction */
#define DEFAULT_MAX_BYTES (4ULL << 30)

#define TCP_FIN 0x01U
#define TCP_SYN 0x02U
#define TCP_RST 0x04U

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

/* One parsed TCP segment; payload points into the packet. */
struct pkt {
    int family;                 /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *payload;
    uint32_t len;
    bool snapped;               /* payload shorter than the IP lengths say */
    uint32_t ifindex;           /* Linux cooked v2 only; 0 otherwise */
};

enum pkt_kind { PK_TCP, PK_NOT_IP, PK_NOT_TCP, PK_MALFORMED, PK_FRAGMENT };

/* Per-direction data of a connection, pass 1. */
struct side {
    uint64_t bytes;
    uint8_t head[HEAD_KEEP];
    uint32_t head_len;
};

struct flow_key {
    int family;
    uint8_t a[16], b[16];       /* endpoint a sends side[0] */
    uint16_t pa, pb;
};

struct flow_ent {
    struct flow_key k;
    struct side side[2];
    uint32_t ifindex;           /* interface of its first packet (SLL2) */
};

/* A segment kept in pass 2. */
struct seg {
    int64_t u;                  /* unwrapped sequence number of data[0] */
    uint32_t len;
    int64_t ts_ns;
    size_t arena_off;
    uint64_t idx;               /* capture order */
};

struct retx_b {
    int64_t u;
    int64_t ts_ns;
};

struct dir_build {
    bool have_ref;
    int64_t ref;                /* highest unwrapped seq seen */
    bool syn;
    int64_t syn_u;
    int64_t high_end;           /* highest end of data seen */
    bool have_data;
    uint64_t kept;              /* payload bytes stored */
    bool over;                  /* max_bytes reached: stream cut there */
    struct seg *segs;
    size_t nsegs, cap;
    struct retx_b *retx;        /* retransmissions: unwrapped start, time */
    size_t nretx, retx_cap;
};

/* ---- packet parsing ---------------------------------------------------- */

static enum pkt_kind parse_tcp(struct mig_buf *b, uint32_t ip_payload,
                               struct pkt *p)
{
    uint8_t off_flags[2];
    uint16_t win;
    uint32_t ack, hlen;
    size_t have;

    if (mig_buf_get_be16(b, &p->sport) || mig_buf_get_be16(b, &p->dport) ||
        mig_buf_get_be32(b, &p->seq) || mig_buf_get_be32(b, &ack) ||
        mig_buf_get_bytes(b, off_flags, 2) || mig_buf_get_be16(b, &win))
        return PK_MALFORMED;
    hlen = (uint32_t)(off_flags[0] >> 4) * 4U;
    /* RFC 9293 §3.1: the data offset counts 32-bit words, at least 5. */
    if (hlen < 20 || hlen > ip_payload)
        return PK_MALFORMED;
    p->flags = off_flags[1];
    if (mig_buf_skip(b, hlen - 16))
        return PK_MALFORMED;
    have = mig_buf_remaining(b);
    p->len = ip_payload - hlen;
    if (have < p->len) {
        p->snapped = true;
        p->len = (uint32_t)have;
    }
    mig_buf_get_ptr(b, &p->payload, p->len);
    return PK_TCP;
}

static enum pkt_kind parse_ipv4(struct mig_buf *b, struct pkt *p)
{
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, csum;
    uint32_t ihl;
    size_t start = mig_buf_offset(b);

    if (mig_buf_get_u8(b, &vihl) || mig_buf_get_u8(b, &tos) ||
        mig_buf_get_be16(b, &total) || mig_buf_get_be16(b, &id) ||
        mig_buf_get_be16(b, &frag) || mig_buf_get_u8(b, &ttl) ||
        mig_buf_get_u8(b, &proto) || mig_buf_get_be16(b, &csum) ||
        mig_buf_get_bytes(b, p->src, 4) || mig_buf_get_bytes(b, p->dst, 4))
        return PK_MALFORMED;
    ihl = (uint32_t)(vihl & 0x0f) * 4U;
    /* RFC 791: IHL >= 5 words, total length covers the header.  A total
     * length of 0 is TSO output captured before segmentation: trust the
     * captured length then. */
    if ((vihl >> 4) != 4 || ihl < 20)
        return PK_MALFORMED;
    if (total == 0)
        total = (uint16_t)(mig_buf_remaining(b) + 20 > 0xffff
                               ? 0xffff
                               : mig_buf_remaining(b) + 20);
    if (total < ihl)
        return PK_MALFORMED;
    if (mig_buf_skip(b, ihl - (mig_buf_offset(b) - start)))
        return PK_MALFORMED;
    if ((frag & 0x3fff) != 0)
        return PK_FRAGMENT;
    if (proto != 6)
        return PK_NOT_TCP;
    p->family = 4;
    return parse_tcp(b, total - ihl, p);
}

static enum pkt_kind parse_ipv6(struct mig_buf *b, struct pkt *p)
{
    uint32_t vtf;
    uint16_t plen;
    uint8_t next, hops;
    uint32_t left;

    if (mig_buf_get_be32(b, &vtf) || mig_buf_get_be16(b, &plen) ||
        mig_buf_get_u8(b, &next) || mig_buf_get_u8(b, &hops) ||
        mig_buf_get_bytes(b, p->src, 16) || mig_buf_get_bytes(b, p->dst, 16))
        return PK_MALFORMED;
    if ((vtf >> 28) != 6)
        return PK_MALFORMED;
    left = plen;
    /* Jumbograms (payload length 0) are not handled. */
    if (left == 0)
        return next == 59 ? PK_NOT_TCP : PK_MALFORMED;
    for (unsigned n = 0; n < 8; n++) {
        uint8_t nh, hl;
        uint32_t ext;

        if (next == 6) {
            p->family = 6;
            return parse_tcp(b, left, p);
        }
        if (next == 44)
            return PK_FRAGMENT;
        if (next != 0 && next != 43 && next != 60 && next != 51)
            return PK_NOT_TCP;
        if (mig_buf_get_u8(b, &nh) || mig_buf_get_u8(b, &hl))
            return PK_MALFORMED;
        /* RFC 8200 §4: length in 8-octet units beyond the first 8; AH
         * (RFC 4302) counts 4-octet units minus 2. */
        ext = next == 51 ? ((uint32_t)hl + 2U) * 4U : ((uint32_t)hl + 1U) * 8U;
        if (ext > left || mig_buf_skip(b, ext - 2))
            return PK_MALFORMED;
        left -= ext;
        next = nh;
    }
    return PK_MALFORMED;
}

static enum pkt_kind parse_ip(struct mig_buf *b, struct pkt *p)
{
    uint8_t v;

    if (mig_buf_peek_u8(b, &v))
        return PK_MALFORMED;
    if ((v >> 4) == 4)
        return parse_ipv4(b, p);
    if ((v >> 4) == 6)
        return parse_ipv6(b, p);
    return PK_NOT_IP;
}

static enum pkt_kind parse_ethertype(struct mig_buf *b, uint16_t type,
                                     struct pkt *p)
{
    if (type == 0x0800 || type == 0x86dd)
        return parse_ip(b, p);
    return PK_NOT_IP;
}

static enum pkt_kind parse_packet(int dlt, const uint8_t *data, size_t len,
                                  struct pkt *p)
{
    struct mig_buf b;
    uint16_t type;

    memset(p, 0, sizeof(*p));
    mig_buf_init_whole(&b, data, len);
    switch (dlt) {
    case DLT_EN10MB:
        if (mig_buf_skip(&b, 12) || mig_buf_get_be16(&b, &type))
            return PK_MALFORMED;
        /* 802.1Q, 802.1ad and the old QinQ type: skip the tag. */
        for (unsigned n = 0; n < 4 && (type == 0x8100 || type == 0x88a8 ||
                                       type == 0x9100); n++)
            if (mig_buf_skip(&b, 2) || mig_buf_get_be16(&b, &type))
                return PK_MALFORMED;
        return parse_ethertype(&b, type, p);
    case DLT_LINUX_SLL:
        if (mig_buf_skip(&b, 14) || mig_buf_get_be16(&b, &type))
            return PK_MALFORMED;
        return parse_ethertype(&b, type, p);
    case DLT_LINUX_SLL2:
        if (mig_buf_get_be16(&b, &type) || mig_buf_skip(&b, 2) ||
            mig_buf_get_be32(&b, &p->ifindex) || mig_buf_skip(&b, 12))
            return PK_MALFORMED;
        return parse_ethertype(&b, type, p);
    case DLT_NULL:
    case DLT_LOOP:
        if (mig_buf_skip(&b, 4))
            return PK_MALFORMED;
        return parse_ip(&b, p);
    default:        /* DLT_RAW, DLT_IPV4, DLT_IPV6 */
        return parse_ip(&b, p);
    }
}

static bool dlt_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
           dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW || dlt == DLT_IPV4 ||
           dlt == DLT_IPV6 || dlt == DLT_NULL || dlt == DLT_LOOP;
}

/* ---- opening ------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Open the capture with nanosecond timestamps.  0 or an error (err set). */
static int open_src(const struct mig_pcap_src *src, pcap_t **out, char *err,
                    size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc;

    *out = NULL;
    if (src->path) {
        FILE *fp = fopen(src->path, "rb");

        if (!fp) {
            int e = errno;

            set_err(err, errlen, "%s: %s", src->path, strerror(e));
            return -e;
        }
        pc = pcap_fopen_offline_with_tstamp_precision(
            fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
        if (!pc) {
            fclose(fp);
            set_err(err, errlen, "%s: not a readable capture: %s",
                    src->path, ebuf);
            return MIG_ECORRUPT;
        }
    } else {
        FILE *fp;

        if (src->len == 0) {
            set_err(err, errlen, "empty capture");
            return MIG_ECORRUPT;
        }
        fp = fmemopen((void *)src->mem, src->len, "rb");
        if (!fp) {
            set_err(err, errlen, "fmemopen: %s", strerror(errno));
            return MIG_ENOMEM;
        }
        pc = pcap_fopen_offline_with_tstamp_precision(
            fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
        if (!pc) {
            fclose(fp);
            set_err(err, errlen, "not a readable capture: %s", ebuf);
            return MIG_ECORRUPT;
        }
    }
    if (!dlt_supported(pcap_datalink(pc))) {
        const char *name = pcap_datalink_val_to_name(pcap_datalink(pc));

        set_err(err, errlen, "link type %d (%s) is not handled",
                pcap_datalink(pc), name ? name : "unknown");
        pcap_close(pc);
        return MIG_ENOTSUP;
    }
    *out = pc;
    return 0;
}

/* ---- flow table --------------------------------------------------------- */

/* The key of p's connection and the side p travels on (0: a -> b). */
static void key_of(const struct pkt *p, struct flow_key *k, int *side)
{
    size_t alen = p->family == 4 ? 4 : 16;
    int c = memcmp(p->src, p->dst, alen);

    memset(k, 0, sizeof(*k));
    k->family = p->family;
    if (c < 0 || (c == 0 && p->sport <= p->dport)) {
        memcpy(k->a, p->src, alen);
        memcpy(k->b, p->dst, alen);
        k->pa = p->sport;
        k->pb = p->dport;
        *side = 0;
    } else {
        memcpy(k->a, p->dst, alen);
        memcpy(k->b, p->src, alen);
        k->pa = p->dport;
        k->pb = p->sport;
        *side = 1;
    }
}

static bool key_eq(const struct flow_key *x, const struct flow_key *y)
{
    return x->family == y->family && x->pa == y->pa && x->pb == y->pb &&
           !memcmp(x->a, y->a, 16) && !memcmp(x->b, y->b, 16);
}

/* Stream magic at the start of a direction: the xl save header, a libxl
 * header or a libxc image header (docs/stream-format.md §1). */
static bool head_is_stream(const struct side *s)
{
    static const uint8_t libxl[8] = { 'L', 'i', 'b', 'x', 'l',
                                      'F', 'm', 't' };
    static const uint8_t ihdr[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 'X', 'E', 'N', 'F' };

    if (s->head_len >= 16 && !memcmp(s->head, MIG_XL_MAGIC, 16))
        return true;
    if (s->head_len >= 8 && !memcmp(s->head, libxl, 8))
        return true;
    return s->head_len >= 12 && !memcmp(s->head, ihdr, 12);
}

static bool head_is_banner(const struct side *s)
{
    return s->head_len >= 16 && !memcmp(s->head, MIG_XL_BANNER, 16);
}

struct pass1 {
    struct flow_ent *flows;
    size_t nflows;
};

static struct flow_ent *flow_find(struct pass1 *t, const struct flow_key *k,
                                  bool add)
{
    for (size_t i = 0; i < t->nflows; i++)
        if (key_eq(&t->flows[i].k, k))
            return &t->flows[i];
    if (!add || t->nflows >= MAX_FLOWS)
        return NULL;
    memset(&t->flows[t->nflows], 0, sizeof(t->flows[0]));
    t->flows[t->nflows].k = *k;
    return &t->flows[t->nflows++];
}

static enum pkt_kind count_kind(struct mig_pcap_stats *st, enum pkt_kind k)
{
    switch (k) {
    case PK_NOT_IP: st->not_ip++; break;
    case PK_NOT_TCP: st->not_tcp++; break;
    case PK_MALFORMED: st->malformed++; break;
    case PK_FRAGMENT: st->fragments++; break;
    case PK_TCP: break;
    }
    return k;
}

static int64_t ts_of(const struct pcap_pkthdr *h)
{
    /* Opened with nanosecond precision: tv_usec holds nanoseconds. */
    return (int64_t)h->ts.tv_sec * 1000000000LL + (int64_t)h->ts.tv_usec;
}

/* First pass: statistics and the flow table. */
static void scan(pcap_t *pc, struct pass1 *t, struct mig_pcap_stats *st)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;

    st->link_type = pcap_datalink(pc);
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        struct pkt p;
        struct flow_key k;
        struct flow_ent *f;
        int side;
        int64_t ts = ts_of(h);

        if (st->packets == 0 || ts < st->first_ts_ns)
            st->first_ts_ns = ts;
        if (st->packets == 0 || ts > st->last_ts_ns)
            st->last_ts_ns = ts;
        st->packets++;
        if (count_kind(st, parse_packet(st->link_type, data, h->caplen,
                                        &p)) != PK_TCP)
            continue;
        if (p.snapped)
            st->snapped++;
        key_of(&p, &k, &side);
        f = flow_find(t, &k, true);
        if (!f)
            continue;
        /* A capture on "any" sees a packet once per interface it crosses;
         * with Linux cooked v2 the interface is known, so one is kept. */
        if (f->side[0].bytes + f->side[1].bytes == 0 &&
            !f->side[0].head_len && !f->side[1].head_len && !f->ifindex)
            f->ifindex = p.ifindex;
        if (p.ifindex != f->ifindex)
            continue;
        if (p.len && f->side[side].head_len == 0) {
            uint32_t n = p.len < HEAD_KEEP ? p.len : HEAD_KEEP;

            memcpy(f->side[side].head, p.payload, n);
            f->side[side].head_len = n;
        }
        f->side[side].bytes += p.len;
    }
    if (r == PCAP_ERROR)
        st->truncated_file = true;
    st->flows = t->nflows;
}

/* Choose the connection and its sender side.  NULL when none fits. */
static struct flow_ent *choose(struct pass1 *t, uint16_t port, int *sender,
                               const char **why)
{
    struct flow_ent *best = NULL;
    bool best_marked = false;
    uint64_t best_bytes = 0;

    for (size_t i = 0; i < t->nflows; i++) {
        struct flow_ent *f = &t->flows[i];
        bool marked = head_is_stream(&f->side[0]) ||
                      head_is_stream(&f->side[1]) ||
                      head_is_banner(&f->side[0]) ||
                      head_is_banner(&f->side[1]);
        uint64_t bytes = f->side[0].bytes > f->side[1].bytes
                             ? f->side[0].bytes
                             : f->side[1].bytes;

        if (port && f->k.pa != port && f->k.pb != port)
            continue;
        if (bytes == 0)
            continue;
        if (!best || (marked && !best_marked) ||
            (marked == best_marked && bytes > best_bytes)) {
            best = f;
            best_marked = marked;
            best_bytes = bytes;
        }
    }
    if (!best)
        return NULL;
    if (head_is_stream(&best->side[0]) || head_is_stream(&best->side[1])) {
        *sender = head_is_stream(&best->side[0]) ? 0 : 1;
        *why = "stream magic";
    } else if (head_is_banner(&best->side[0]) ||
               head_is_banner(&best->side[1])) {
        *sender = head_is_banner(&best->side[0]) ? 1 : 0;
        *why = "xl receiver banner";
    } else {
        *sender = best->side[0].bytes >= best->side[1].bytes ? 0 : 1;
        *why = port ? "port, most payload" : "most payload";
    }
    return best;
}

/* ---- pass 2: keep the chosen connection's segments ---------------------- */

static int arena_put(struct mig_pcap_flow *f, const uint8_t *p, size_t n,
                     size_t *off)
{
    if (f->arena_cap - f->arena_len < n) {
        size_t cap = f->arena_cap ? f->arena_cap : 65536;
        uint8_t *na;

        while (cap - f->arena_len < n) {
            if (cap > SIZE_MAX / 2)
                return MIG_ENOMEM;
            cap *= 2;
        }
        na = realloc(f->arena, cap);
        if (!na)
            return MIG_ENOMEM;
        f->arena = na;
        f->arena_cap = cap;
    }
    memcpy(f->arena + f->arena_len, p, n);
    *off = f->arena_len;
    f->arena_len += n;
    return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    size_t nc;
    void *np;

    if (n < *cap)
        return 0;
    nc = *cap ? *cap * 2 : 64;
    if (nc > SIZE_MAX / elem)
        return MIG_ENOMEM;
    np = realloc(*p, nc * elem);
    if (!np)
        return MIG_ENOMEM;
    *p = np;
    *cap = nc;
    return 0;
}

/* Unwrap a 32-bit sequence number near the highest one seen (RFC 9293
 * §3.4: comparisons are modulo 2^32, valid within 2^31 of each other). */
static int64_t unwrap(struct dir_build *b, uint32_t seq)
{
    int64_t u;

    if (!b->have_ref) {
        b->have_ref = true;
        b->ref = (int64_t)seq + (1LL << 32);
        return b->ref;
    }
    u = b->ref + (int32_t)(seq - (uint32_t)b->ref);
    if (u > b->ref)
        b->ref = u;
    return u;
}

static int keep_segment(struct mig_pcap_flow *f, struct dir_build *b,
                        struct mig_pcap_dir *d, const struct pkt *p,
                        int64_t ts, uint64_t idx, uint64_t max_bytes)
{
    int64_t u = unwrap(b, p->seq);
    struct seg *s;
    int rc;

    if (p->flags & TCP_SYN) {
        d->syn_seen = true;
        if (!b->syn) {
            b->syn = true;
            b->syn_u = u;
        }
        u++;        /* SYN takes one sequence number; data follows it */
    }
    if (p->flags & TCP_FIN)
        d->fin_seen = true;
    if (p->flags & TCP_RST)
        d->rst_seen = true;
    if (p->len == 0)
        return 0;
    d->segments++;
    d->payload_bytes += p->len;
    if (b->have_data && u < b->high_end) {
        d->retransmits++;
        if ((rc = grow((void **)&b->retx, &b->retx_cap, b->nretx,
                       sizeof(*b->retx))))
            return rc;
        b->retx[b->nretx++] = (struct retx_b){ .u = u, .ts_ns = ts };
    }
    if (!b->have_data || u + p->len > b->high_end)
        b->high_end = u + p->len;
    b->have_data = true;
    /* Past the size limit nothing more is kept, so the stream ends
     * there instead of having a hole. */
    if (b->over || b->kept + p->len > max_bytes) {
        b->over = true;
        return 0;
    }
    if ((rc = grow((void **)&b->segs, &b->cap, b->nsegs, sizeof(*b->segs))))
        return rc;
    s = &b->segs[b->nsegs];
    s->u = u;
    s->len = p->len;
    s->ts_ns = ts;
    s->idx = idx;
    rc = arena_put(f, p->payload, p->len, &s->arena_off);
    if (rc)
        return rc;
    b->kept += p->len;
    b->nsegs++;
    return 0;
}

static int seg_cmp(const void *x, const void *y)
{
    const struct seg *a = x, *b = y;

    if (a->u != b->u)
        return a->u < b->u ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Put the segments of one direction in order, up to the first hole.
 * arena holds every payload kept (complete: it no longer moves). */
static int assemble(struct dir_build *b, struct mig_pcap_dir *d,
                    const uint8_t *arena)
{
    int64_t base, next;
    size_t i;

    if (b->nsegs == 0)
        return 0;
    qsort(b->segs, b->nsegs, sizeof(*b->segs), seg_cmp);
    base = b->syn ? b->syn_u + 1 : b->segs[0].u;
    next = base;
    d->ranges = calloc(b->nsegs, sizeof(*d->ranges));
    if (!d->ranges)
        return MIG_ENOMEM;
    for (i = 0; i < b->nsegs; i++) {
        const struct seg *s = &b->segs[i];
        int64_t end = s->u + s->len, start = s->u;
        struct mig_pcap_range *r;

        if (end <= next) {
            /* Bytes before the SYN's sequence number are not stream
             * bytes; others are duplicates. */
            if (end > base)
                d->dup_bytes += (uint64_t)(end - (start > base ? start : base));
            continue;
        }
        if (start > next) {
            d->gap = true;
            d->gap_off = (uint64_t)(next - base);
            d->gap_len = (uint64_t)(start - next);
            d->gap_ts_ns = s->ts_ns;
            break;
        }
        if (start < next)
            d->dup_bytes += (uint64_t)(next - (start > base ? start : base));
        r = &d->ranges[d->nranges++];
        r->off = (uint64_t)(next - base);
        r->len = (uint32_t)(end - next);
        r->ts_ns = s->ts_ns;
        r->data = arena + s->arena_off + (size_t)(next - start);
        next = end;
    }
    d->stream_len = (uint64_t)(next - base);
    if (!d->gap && b->over) {
        d->gap = true;
        d->gap_off = d->stream_len;
        d->gap_len = 0;
        d->gap_ts_ns = -1;
    }
    if (b->nretx) {
        d->retx = calloc(b->nretx, sizeof(*d->retx));
        if (!d->retx)
            return MIG_ENOMEM;
        for (i = 0; i < b->nretx; i++) {
            d->retx[i].off = b->retx[i].u > base
                                 ? (uint64_t)(b->retx[i].u - base) : 0;
            d->retx[i].ts_ns = b->retx[i].ts_ns;
        }
        d->nretx = b->nretx;
    }
    return 0;
}

static void endpoint(struct mig_pcap_endpoint *e, int family,
                     const uint8_t *addr, uint16_t port)
{
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, e->addr,
                   sizeof(e->addr)))
        snprintf(e->addr, sizeof(e->addr), "?");
    e->port = port;
}

static int collect(pcap_t *pc, struct mig_pcap_flow *f,
                   const struct flow_ent *fe, int sender, uint64_t max_bytes,
                   struct dir_build *bd)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t idx = 0;
    int r, rc = 0;

    while (rc == 0 && (r = pcap_next_ex(pc, &h, &data)) == 1) {
        struct pkt p;
        struct flow_key k;
        int side;

        idx++;
        if (parse_packet(f->stats.link_type, data, h->caplen, &p) != PK_TCP)
            continue;
        key_of(&p, &k, &side);
        if (!key_eq(&k, &fe->k) || p.ifindex != fe->ifindex)
            continue;
        side = side == sender ? 0 : 1;
        rc = keep_segment(f, &bd[side], &f->dir[side], &p, ts_of(h), idx,
                          max_bytes);
    }
    return rc;
}

static void build_free(struct dir_build *b)
{
    free(b->segs);
    free(b->retx);
}

int mig_pcap_flow_read(const struct mig_pcap_src *src,
                       const struct mig_pcap_opts *opts,
                       struct mig_pcap_flow **out, char *err, size_t errlen)
{
    struct pass1 t = { 0 };
    struct dir_build bd[2];
    struct mig_pcap_flow *f = NULL;
    struct flow_ent *fe;
    struct flow_key key;
    uint64_t max_bytes;
    pcap_t *pc = NULL;
    int sender = 0, rc;
    const char *why = "";

    *out = NULL;
    memset(bd, 0, sizeof(bd));
    if (!src || (!src->path && !src->mem) || !opts) {
        set_err(err, errlen, "no capture given");
        return MIG_EINVAL;
    }
    max_bytes = opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
    f = calloc(1, sizeof(*f));
    t.flows = calloc(MAX_FLOWS, sizeof(*t.flows));
    if (!f || !t.flows) {
        set_err(err, errlen, "out of memory");
        rc = MIG_ENOMEM;
        goto out_free;
    }
    rc = open_src(src, &pc, err, errlen);
    if (rc)
        goto out_free;
    scan(pc, &t, &f->stats);
    pcap_close(pc);
    pc = NULL;

    fe = choose(&t, opts->port, &sender, &why);
    if (!fe) {
        if (opts->port)
            set_err(err, errlen, "no TCP payload on port %u in %" PRIu64
                    " packets", opts->port, f->stats.packets);
        else
            set_err(err, errlen, "no TCP payload in %" PRIu64 " packets%s",
                    f->stats.packets,
                    f->stats.truncated_file ? " (file damaged)" : "");
        rc = MIG_ECORRUPT;
        goto out_free;
    }
    key = fe->k;
    f->why = why;
    if (sender == 0) {
        endpoint(&f->dir[0].src, key.family, key.a, key.pa);
        endpoint(&f->dir[0].dst, key.family, key.b, key.pb);
    } else {
        endpoint(&f->dir[0].src, key.family, key.b, key.pb);
        endpoint(&f->dir[0].dst, key.family, key.a, key.pa);
    }
    f->dir[1].src = f->dir[0].dst;
    f->dir[1].dst = f->dir[0].src;

    rc = open_src(src, &pc, err, errlen);
    if (rc)
        goto out_free;
    rc = collect(pc, f, fe, sender, max_bytes, bd);
    pcap_close(pc);
    pc = NULL;
    for (int i = 0; rc == 0 && i < 2; i++)
        rc = assemble(&bd[i], &f->dir[i], f->arena);
    if (rc) {
        set_err(err, errlen, "out of memory");
        goto out_free;
    }
    *out = f;
    f = NULL;
out_free:
    build_free(&bd[0]);
    build_free(&bd[1]);
    free(t.flows);
    mig_pcap_flow_free(f);
    return rc;
}

void mig_pcap_flow_free(struct mig_pcap_flow *flow)
{
    if (!flow)
        return;
    for (int i = 0; i < 2; i++) {
        free(flow->dir[i].ranges);
        free(flow->dir[i].retx);
    }
    free(flow->arena);
    free(flow);
}

/* Index of the range holding off, or nranges. */
static size_t range_at(const struct mig_pcap_dir *d, uint64_t off)
{
    size_t lo = 0, hi = d->nranges;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct mig_pcap_range *r = &d->ranges[mid];

        if (off < r->off)
            hi = mid;
        else if (off >= r->off + r->len)
            lo = mid + 1;
        else
            return mid;
    }
    return d->nranges;
}

int64_t mig_pcap_dir_time(const struct mig_pcap_dir *d, uint64_t off)
{
    size_t i = range_at(d, off);

    return i < d->nranges ? d->ranges[i].ts_ns : -1;
}

size_t mig_pcap_dir_copy(const struct mig_pcap_dir *d, uint64_t off,
                         void *dst, size_t n)
{
    uint8_t *o = dst;
    size_t done = 0, i = range_at(d, off);

    while (done < n && i < d->nranges) {
        const struct mig_pcap_range *r = &d->ranges[i];
        size_t skip = (size_t)(off + done - r->off);
        size_t take = r->len - skip;

        if (take > n - done)
            take = n - done;
        memcpy(o + done, r->data + skip, take);
        done += take;
        i++;
    }
    return done;
}
