/* SPDX-License-Identifier: MIT */
/*
 * check_pcap.c - Check suite for the capture decoder (tools/pcap_flow.c,
 * tools/pcap_timeline.c).
 *
 * Every capture is built here: a stream from the ref/stream.h encoders
 * (xl header, libxl header, libxc image, three passes of PAGE_DATA, the
 * state records, both ENDs) and the xl handshake are cut into TCP segments
 * with realistic headers (timestamps option, SYN, pure ACKs) and written
 * with pcap_open_dead + pcap_dump_open to a temporary file.
 *
 *   core     in-order decode on every link type and both IP versions:
 *            passes, pages, bytes, times in nanoseconds, handshake;
 *            reordered segments; retransmissions; sequence wraparound;
 *            the flow chosen among others; --port
 *   limits   a missing segment gives a gap and a clean incomplete decode;
 *            the size limit; a capture that starts without the SYN
 *   corrupt  garbage and truncated files, empty files, unsupported link
 *            types, non-TCP packets, bad IP/TCP header lengths, byte
 *            flips of a whole capture read from memory
 *
 * `check_pcap --write-sample FILE` writes the small sample capture that
 * tests/integration/cli_pcap.sh decodes (tests/data/pcap/sample.pcap).
 */
#include <check.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "check_main.h"
#include "mig_err.h"
#include "pcap_flow.h"
#include "pcap_timeline.h"
#include "stream.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define MSS 1448U
#define NPASS 3

/* ====================================================================== *
 * The stream: three passes with known pages and bytes
 * ====================================================================== */

struct expect {
    unsigned npasses;
    uint64_t pages[NPASS];
    uint64_t bytes[NPASS];
    uint64_t stream_len;
};

static uint64_t batch_bytes(uint32_t count)
{
    return 16 + 8ULL * count + 4096ULL * count;
}

static void put_pass(struct mig_wbuf *wb, const uint64_t *pfnlist, uint32_t n,
                     uint32_t batch, struct expect *e, unsigned pass)
{
    static uint8_t page[4096];
    const void *ptrs[256];
    uint64_t words[256];

    ck_assert_uint_le(batch, 256);
    for (uint32_t i = 0; i < n; i += batch) {
        uint32_t c = n - i < batch ? n - i : batch;

        for (uint32_t k = 0; k < c; k++) {
            words[k] = MIG_PFN_WORD(MIG_PT_NOTAB, pfnlist[i + k]);
            ptrs[k] = page;
        }
        page[0] = (uint8_t)pass;
        ck_assert_int_eq(mig_stream_put_page_data(wb, words, ptrs, c), 0);
        e->pages[pass] += c;
        e->bytes[pass] += batch_bytes(c);
    }
}

/*
 * A live migration of a guest of npages pages: pass 1 every page, pass 2
 * pages 8 .. 8 + npages/2, pass 3 (stop-and-copy) every fourth page.
 */
static void build_stream(struct mig_wbuf *wb, uint32_t npages,
                         struct expect *e)
{
    struct mig_domain_header dh = { .type = MIG_DHDR_TYPE_X86_HVM,
                                    .page_shift = 12, .xen_major = 4,
                                    .xen_minor = 19 };
    struct mig_guest_info gi = { .vcpus = 1, .nr_pages = npages };
    struct mig_tsc_info tsc = { .mode = 0, .khz = 2000000 };
    struct mig_hvm_param hp[2] = { { 1, 2 }, { 3, 4 } };
    uint64_t pfns[1024];
    uint32_t n;

    ck_assert_uint_le(npages, 1024);
    memset(e, 0, sizeof(*e));
    e->npasses = NPASS;
    mig_wbuf_init(wb, NULL);
    ck_assert_int_eq(mig_stream_put_xl_header(wb, "{\"name\":\"g\"}"), 0);
    ck_assert_int_eq(mig_stream_put_libxl_header(wb), 0);
    ck_assert_int_eq(mig_stream_put_libxc_context(wb), 0);
    ck_assert_int_eq(mig_stream_put_image_header(wb), 0);
    ck_assert_int_eq(mig_stream_put_domain_header(wb, &dh), 0);
    ck_assert_int_eq(mig_stream_put_guest_info(wb, &gi), 0);
    ck_assert_int_eq(mig_stream_put_static_data_end(wb), 0);
    for (n = 0; n < npages; n++)
        pfns[n] = n;
    put_pass(wb, pfns, npages, 32, e, 0);
    for (n = 0; n < npages / 2; n++)
        pfns[n] = 8 + n;
    put_pass(wb, pfns, npages / 2, 32, e, 1);
    for (n = 0; n < npages / 4; n++)
        pfns[n] = 4 * n;
    put_pass(wb, pfns, npages / 4, 32, e, 2);
    ck_assert_int_eq(mig_stream_put_tsc_info(wb, &tsc), 0);
    ck_assert_int_eq(mig_stream_put_hvm_params(wb, hp, 2), 0);
    ck_assert_int_eq(mig_stream_put_end(wb), 0);
    ck_assert_int_eq(mig_stream_put_libxl_end(wb), 0);
    e->stream_len = wb->len;
}

/* ====================================================================== *
 * The conversation: TCP segments of both directions
 * ====================================================================== */

struct tseg {
    int dir;                    /* 0: sender -> receiver */
    uint32_t seq;
    uint8_t flags;
    const uint8_t *data;
    uint32_t len;
};

struct conv {
    struct tseg *s;
    size_t n, cap;
    uint32_t next[2];           /* next sequence number per direction */
    struct mig_wbuf stream;
    struct mig_wbuf rs;         /* receiver -> sender bytes */
    uint8_t go[64];
    struct expect e;
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_PSH 0x08
#define F_ACK 0x10

static void conv_add(struct conv *c, int dir, uint32_t seq, uint8_t flags,
                     const uint8_t *data, uint32_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->s = realloc(c->s, c->cap * sizeof(*c->s));
        ck_assert_ptr_nonnull(c->s);
    }
    c->s[c->n++] = (struct tseg){ dir, seq, flags, data, len };
}

/* Send len bytes on dir in MSS-sized segments; the peer ACKs each. */
static void conv_send(struct conv *c, int dir, const uint8_t *data,
                      size_t len)
{
    for (size_t off = 0; off < len; off += MSS) {
        uint32_t n = (uint32_t)(len - off < MSS ? len - off : MSS);

        conv_add(c, dir, c->next[dir], F_ACK | F_PSH, data + off, n);
        c->next[dir] += n;
        if ((off / MSS) % 4 == 3)
            conv_add(c, !dir, c->next[!dir], F_ACK, NULL, 0);
    }
}

/* miglab's authentication exchange (ref/auth.h) with made-up nonces and
 * MACs: what opens each direction between two keyed miglab hosts. */
#define AUTH_CHALLENGE_LEN (MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN)
#define AUTH_REPLY_LEN (AUTH_CHALLENGE_LEN + MIG_AUTH_MAC_LEN)
#define AUTH_VERDICT_LEN (MIG_AUTH_MAGIC_LEN + 1 + MIG_AUTH_MAC_LEN)

static uint8_t auth_challenge[AUTH_CHALLENGE_LEN];
static uint8_t auth_reply[AUTH_REPLY_LEN];
static uint8_t auth_verdict[AUTH_VERDICT_LEN];

static void conv_auth(struct conv *c)
{
    memset(auth_challenge, 0xa5, sizeof(auth_challenge));
    memset(auth_reply, 'X', sizeof(auth_reply));    /* looks like xl's magic */
    memset(auth_verdict, 0, sizeof(auth_verdict));
    memcpy(auth_challenge, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    memcpy(auth_reply, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    memcpy(auth_verdict, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    conv_send(c, 1, auth_challenge, sizeof(auth_challenge));
    conv_send(c, 0, auth_reply, sizeof(auth_reply));
    conv_send(c, 1, auth_verdict, sizeof(auth_verdict));
}

/*
 * Build a whole migration conversation.  isn: sender's initial sequence
 * number (the receiver's is isn ^ 0x5a5a5a5a); syn: start with the
 * three-way handshake; auth: then miglab's authentication exchange.
 */
static void conv_build_auth(struct conv *c, uint32_t npages, uint32_t isn,
                            bool syn, bool auth)
{
    size_t len, off_ready, off_report;
    const char *m;

    memset(c, 0, sizeof(*c));
    build_stream(&c->stream, npages, &c->e);
    mig_wbuf_init(&c->rs, NULL);
    m = mig_handshake_bytes(MIG_HS_BANNER, &len);
    ck_assert_int_eq(mig_wbuf_put_bytes(&c->rs, m, len), 0);
    off_ready = c->rs.len;
    ck_assert_int_eq(mig_stream_put_handshake(&c->rs, MIG_HS_READY), 0);
    off_report = c->rs.len;
    ck_assert_int_eq(mig_stream_put_report(&c->rs, 0), 0);
    m = mig_handshake_bytes(MIG_HS_GO, &len);
    memcpy(c->go, m, len);

    c->next[0] = isn;
    c->next[1] = isn ^ 0x5a5a5a5aU;
    if (syn) {
        conv_add(c, 0, c->next[0]++, F_SYN, NULL, 0);
        conv_add(c, 1, c->next[1]++, F_SYN | F_ACK, NULL, 0);
        conv_add(c, 0, c->next[0], F_ACK, NULL, 0);
    }
    if (auth)
        conv_auth(c);
    conv_send(c, 1, c->rs.data, off_ready);
    conv_send(c, 0, c->stream.data, c->stream.len);
    conv_send(c, 1, c->rs.data + off_ready, off_report - off_ready);
    conv_send(c, 0, c->go, len);
    conv_send(c, 1, c->rs.data + off_report, c->rs.len - off_report);
    conv_add(c, 0, c->next[0]++, F_FIN | F_ACK, NULL, 0);
}

static void conv_build(struct conv *c, uint32_t npages, uint32_t isn,
                       bool syn)
{
    conv_build_auth(c, npages, isn, syn, false);
}

static void conv_free(struct conv *c)
{
    free(c->s);
    mig_wbuf_fini(&c->stream);
    mig_wbuf_fini(&c->rs);
    memset(c, 0, sizeof(*c));
}

/* Index of the k-th sender -> receiver data segment. */
static size_t conv_data_seg(const struct conv *c, size_t k)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].dir == 0 && c->s[i].len && k-- == 0)
            return i;
    ck_abort_msg("no data segment %zu", k);
    return 0;
}

/* ====================================================================== *
 * Packets and capture files
 * ====================================================================== */

struct link {
    const char *name;
    int dlt;
    int family;                 /* 4 or 6 */
    bool vlan;
};

static const struct link links[] = {
    { "ethernet/ipv4", DLT_EN10MB, 4, false },
    { "ethernet/ipv6", DLT_EN10MB, 6, false },
    { "ethernet+vlan/ipv4", DLT_EN10MB, 4, true },
    { "sll/ipv4", DLT_LINUX_SLL, 4, false },
    { "sll2/ipv6", DLT_LINUX_SLL2, 6, false },
    { "raw/ipv4", DLT_RAW, 4, false },
    { "raw/ipv6", DLT_RAW, 6, false },
};

static const uint8_t addr4[2][4] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
static const uint8_t addr6[2][16] = {
    { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
    { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
};

struct pkt_opts {
    const struct link *l;
    uint16_t port[2];           /* sender's and receiver's port */
    uint8_t proto;              /* 6 unless testing non-TCP */
    int ihl_words;              /* IPv4 IHL to write (5 normal) */
    int ip_total_delta;         /* added to the IPv4 total length */
    int tcp_doff;               /* TCP data offset in words (8 normal) */
};

/* Build one packet into out; returns its length. */
static size_t make_packet(const struct pkt_opts *o, int dir, uint32_t seq,
                          uint8_t flags, const uint8_t *data, uint32_t len,
                          uint8_t *out)
{
    const struct link *l = o->l;
    uint16_t etype = l->family == 4 ? 0x0800 : 0x86dd;
    size_t p = 0, ip_start, tcp_len = 32 + len;
    int src = dir, dst = !dir;

    switch (l->dlt) {
    case DLT_EN10MB:
        memcpy(out, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
        p = 12;
        if (l->vlan) {
            mig_be16enc(out + p, 0x8100);
            mig_be16enc(out + p + 2, 42);
            p += 4;
        }
        mig_be16enc(out + p, etype);
        p += 2;
        break;
    case DLT_LINUX_SLL:
        memset(out, 0, 16);
        mig_be16enc(out + 2, 1);
        mig_be16enc(out + 4, 6);
        mig_be16enc(out + 14, etype);
        p = 16;
        break;
    case DLT_LINUX_SLL2:
        memset(out, 0, 20);
        mig_be16enc(out, etype);
        mig_be16enc(out + 8, 1);
        out[11] = 6;
        p = 20;
        break;
    default:
        break;
    }
    ip_start = p;
    if (l->family == 4) {
        out[p] = (uint8_t)(0x40 | o->ihl_words);
        out[p + 1] = 0;
        mig_be16enc(out + p + 2,
                    (uint16_t)(20 + tcp_len + (size_t)o->ip_total_delta));
        mig_be16enc(out + p + 4, 1);
        mig_be16enc(out + p + 6, 0x4000);
        out[p + 8] = 64;
        out[p + 9] = o->proto;
        mig_be16enc(out + p + 10, 0);
        memcpy(out + p + 12, addr4[src], 4);
        memcpy(out + p + 16, addr4[dst], 4);
        p += 20;
    } else {
        mig_be32enc(out + p, 0x60000000U);
        mig_be16enc(out + p + 4, (uint16_t)tcp_len);
        out[p + 6] = o->proto;
        out[p + 7] = 64;
        memcpy(out + p + 8, addr6[src], 16);
        memcpy(out + p + 24, addr6[dst], 16);
        p += 40;
    }
    (void)ip_start;
    mig_be16enc(out + p, o->port[src]);
    mig_be16enc(out + p + 2, o->port[dst]);
    mig_be32enc(out + p + 4, seq);
    mig_be32enc(out + p + 8, 0x1000);
    out[p + 12] = (uint8_t)(o->tcp_doff << 4);
    out[p + 13] = flags;
    mig_be16enc(out + p + 14, 512);
    mig_be16enc(out + p + 16, 0);
    mig_be16enc(out + p + 18, 0);
    /* NOP, NOP, timestamps (RFC 7323). */
    memcpy(out + p + 20, "\x01\x01\x08\x0a\0\0\0\x01\0\0\0\x02", 12);
    p += 32;
    if (len)
        memcpy(out + p, data, len);
    return p + len;
}

struct capw {
    pcap_t *pd;
    pcap_dumper_t *dump;
    char path[4096];
    int64_t ts;                 /* nanoseconds */
};

/* Open a capture for writing at path, or at a new temporary file when
 * path is NULL (w->path names it; the caller unlinks it). */
static void capw_open_at(struct capw *w, int dlt, const char *path)
{
    if (path) {
        snprintf(w->path, sizeof(w->path), "%s", path);
    } else {
        int fd;

        snprintf(w->path, sizeof(w->path), "/tmp/check_pcap.XXXXXX");
        fd = mkstemp(w->path);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    w->pd = pcap_open_dead_with_tstamp_precision(dlt, 262144,
                                                 PCAP_TSTAMP_PRECISION_NANO);
    ck_assert_ptr_nonnull(w->pd);
    w->dump = pcap_dump_open(w->pd, w->path);
    ck_assert_ptr_nonnull(w->dump);
    w->ts = 1700000000LL * 1000000000LL + 123;
}

static void capw_open(struct capw *w, int dlt)
{
    capw_open_at(w, dlt, NULL);
}

static void capw_put(struct capw *w, const uint8_t *pkt, size_t len,
                     size_t caplen)
{
    struct pcap_pkthdr h;

    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)(w->ts / 1000000000LL);
    h.ts.tv_usec = (suseconds_t)(w->ts % 1000000000LL);
    h.caplen = (bpf_u_int32)caplen;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)w->dump, &h, pkt);
    w->ts += 10000;             /* 10 us per packet */
}

static void capw_close(struct capw *w)
{
    pcap_dump_close(w->dump);
    pcap_close(w->pd);
}

static uint8_t pktbuf[2048];

static void write_conv(struct capw *w, const struct conv *c,
                       const struct pkt_opts *o)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct tseg *s = &c->s[i];
        size_t n = make_packet(o, s->dir, s->seq, s->flags, s->data, s->len,
                               pktbuf);

        capw_put(w, pktbuf, n, n);
    }
}

static void default_opts(struct pkt_opts *o, const struct link *l)
{
    memset(o, 0, sizeof(*o));
    o->l = l;
    o->port[0] = 40001;
    o->port[1] = 8002;
    o->proto = 6;
    o->ihl_words = 5;
    o->tcp_doff = 8;
}

/* Write c on link l to a new file; returns the path (caller unlinks). */
static void write_capture(struct capw *w, const struct conv *c,
                          const struct link *l)
{
    struct pkt_opts o;

    default_opts(&o, l);
    capw_open(w, l->dlt);
    write_conv(w, c, &o);
    capw_close(w);
}

/* Read a file; asserts success. */
static struct mig_pcap_flow *read_ok(const char *path, uint16_t port)
{
    struct mig_pcap_src src = { .path = path };
    struct mig_pcap_opts po = { .port = port };
    struct mig_pcap_flow *f = NULL;
    char err[256] = "";
    int rc = mig_pcap_flow_read(&src, &po, &f, err, sizeof(err));

    ck_assert_msg(rc == 0, "read %s: %d %s", path, rc, err);
    ck_assert_ptr_nonnull(f);
    return f;
}

static int read_err(const char *path, char *err, size_t errlen)
{
    struct mig_pcap_src src = { .path = path };
    struct mig_pcap_opts po = { 0 };
    struct mig_pcap_flow *f = (struct mig_pcap_flow *)&po;
    int rc = mig_pcap_flow_read(&src, &po, &f, err, errlen);

    ck_assert_ptr_null(f);
    return rc;
}

/* The timeline matches the expected passes exactly. */
static void check_passes(const struct mig_pcap_timeline *tl,
                         const struct expect *e)
{
    ck_assert_int_eq(tl->decode_rc, 0);
    ck_assert_uint_eq(tl->npasses, e->npasses);
    for (unsigned i = 0; i < e->npasses; i++) {
        ck_assert_uint_eq(tl->passes[i].index, i + 1);
        ck_assert_uint_eq(tl->passes[i].pages, e->pages[i]);
        ck_assert_uint_eq(tl->passes[i].bytes, e->bytes[i]);
        ck_assert(tl->passes[i].live == (i + 1 < e->npasses));
    }
    ck_assert_uint_eq(tl->stream_bytes, e->stream_len);
}

/* ====================================================================== *
 * core
 * ====================================================================== */

START_TEST(test_in_order)
{
    const struct link *l = &links[_i];
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;

    conv_build(&c, 64, 1000, true);
    write_capture(&w, &c, l);
    f = read_ok(w.path, 0);
    ck_assert_msg(f->stats.link_type == l->dlt, "%s", l->name);
    ck_assert_str_eq(f->dir[0].src.addr, l->family == 4 ? "10.0.0.1"
                                                        : "fd00::1");
    ck_assert_uint_eq(f->dir[0].src.port, 40001);
    ck_assert_uint_eq(f->dir[0].dst.port, 8002);
    ck_assert_str_eq(f->why, "stream magic");
    ck_assert(f->dir[0].syn_seen && f->dir[0].fin_seen);
    ck_assert(!f->dir[0].gap && !f->dir[1].gap);
    ck_assert_uint_eq(f->dir[0].retransmits, 0);
    ck_assert_uint_eq(f->dir[0].stream_len, c.e.stream_len + 44);
    ck_assert_uint_eq(f->stats.malformed, 0);

    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    ck_assert(tl.xl_header);
    ck_assert_uint_eq(tl.domain_type, MIG_DHDR_TYPE_X86_HVM);
    ck_assert_uint_eq(tl.guest_pages, 64);
    ck_assert(tl.banner.seen && tl.ready.seen && tl.go.seen &&
              tl.report.seen);
    ck_assert_int_eq(tl.report_status, 0);
    /* Nanosecond timestamps survive: first packet at ...123 ns. */
    ck_assert_int_eq(tl.start_ts_ns % 1000, 123);
    ck_assert_int_lt(tl.start_ts_ns, tl.end_ts_ns);
    ck_assert_int_lt(tl.end_ts_ns, tl.ready.ts_ns);
    ck_assert_int_lt(tl.ready.ts_ns, tl.go.ts_ns);
    ck_assert_int_lt(tl.go.ts_ns, tl.report.ts_ns);
    ck_assert_int_le(tl.passes[0].first_ts_ns, tl.passes[0].last_ts_ns);
    /* A pass can end and the next begin in the same segment. */
    ck_assert_int_le(tl.passes[0].last_ts_ns, tl.passes[1].first_ts_ns);
    ck_assert_uint_eq(tl.retransmits, 0);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST


static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Reorder the sender's data segments within windows of 8 (positions of
 * the other segments stay). */
static void shuffle_data(struct conv *c, uint64_t seed)
{
    size_t *idx = malloc(c->n * sizeof(*idx)), m = 0;

    ck_assert_ptr_nonnull(idx);
    for (size_t i = 0; i < c->n; i++)
        if (c->s[i].dir == 0 && c->s[i].len)
            idx[m++] = i;
    for (size_t w0 = 0; w0 < m; w0 += 8) {
        size_t wl = m - w0 < 8 ? m - w0 : 8;

        for (size_t k = wl; k > 1; k--) {
            size_t j = (size_t)(rng_next(&seed) % k);
            struct tseg t = c->s[idx[w0 + k - 1]];

            c->s[idx[w0 + k - 1]] = c->s[idx[w0 + j]];
            c->s[idx[w0 + j]] = t;
        }
    }
    free(idx);
}

/* Insert a copy of segment i at position at (at > i). */
static void insert_copy(struct conv *c, size_t i, size_t at,
                        uint32_t shift, uint32_t len)
{
    struct tseg t = c->s[i];

    t.seq += shift;
    t.data += shift;
    t.len = len;
    conv_add(c, 0, 0, 0, NULL, 0);
    memmove(&c->s[at + 1], &c->s[at], (c->n - 1 - at) * sizeof(*c->s));
    c->s[at] = t;
}

/* Every 5th data segment is sent again three packets later; one copy is
 * repacketized (it overlaps the next segment).  Returns the copies. */
static unsigned add_retransmissions(struct conv *c)
{
    unsigned copies = 0;

    for (size_t k = 3;; k += 5) {
        size_t i, total = 0;

        for (size_t j = 0; j < c->n; j++)
            total += c->s[j].dir == 0 && c->s[j].len;
        if (k + 2 >= total)
            break;
        i = conv_data_seg(c, k);
        if (copies == 2)
            insert_copy(c, i, i + 3, 100, MSS);
        else
            insert_copy(c, i, i + 3, 0, c->s[i].len);
        copies++;
        k++;    /* skip the copy itself */
    }
    return copies;
}

/* Decode and check the passes; retransmissions: exactly retx, or at
 * least retx when reordering adds its own (exact false). */
static void decode_expect(const struct conv *c, const char *path,
                          uint64_t retx, bool exact)
{
    struct mig_pcap_flow *f = read_ok(path, 0);
    struct mig_pcap_timeline tl;
    uint64_t sum = 0;

    ck_assert(!f->dir[0].gap);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c->e);
    ck_assert(tl.go.seen && tl.ready.seen);
    if (exact)
        ck_assert_uint_eq(tl.retransmits, retx);
    else
        ck_assert_uint_ge(tl.retransmits, retx);
    for (size_t i = 0; i < tl.npasses; i++)
        sum += tl.passes[i].retransmits;
    ck_assert_uint_le(sum, tl.retransmits);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
}

START_TEST(test_shuffled)
{
    struct conv c;
    struct capw w;

    conv_build(&c, 64, 77777, true);
    shuffle_data(&c, 42 + (uint64_t)_i);
    write_capture(&w, &c, &links[_i % 7]);
    decode_expect(&c, w.path, 1, false);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

START_TEST(test_retransmissions)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    unsigned copies;

    conv_build(&c, 64, 5, true);
    copies = add_retransmissions(&c);
    ck_assert_uint_gt(copies, 10);
    write_capture(&w, &c, &links[0]);
    decode_expect(&c, w.path, copies, true);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->dir[0].retransmits, copies);
    ck_assert_uint_eq(f->dir[0].dup_bytes,
                      (uint64_t)(copies - 1) * MSS + MSS);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* The sequence numbers wrap through 2^32 in the middle of the stream,
 * in order, reordered and with retransmissions. */
START_TEST(test_wraparound)
{
    struct conv c;
    struct capw w;
    unsigned copies = 0;

    conv_build(&c, 64, 0xffffffffU - 100000U, true);
    if (_i >= 1)
        shuffle_data(&c, 9);
    if (_i == 2)
        copies = add_retransmissions(&c);
    write_capture(&w, &c, &links[1]);
    decode_expect(&c, w.path, copies, _i == 0);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* Another, bigger connection without the magic: chosen only by --port. */
START_TEST(test_flow_choice)
{
    static uint8_t noise[200000];
    struct conv c;
    struct capw w;
    struct pkt_opts o, on;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    uint64_t seed = 3;
    uint32_t seq = 99;
    size_t k = 0;

    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)rng_next(&seed);
    conv_build(&c, 32, 1, true);
    default_opts(&o, &links[0]);
    on = o;
    on.port[0] = 5201;
    on.port[1] = 5202;
    capw_open(&w, DLT_EN10MB);
    for (size_t i = 0; i < c.n; i++) {
        const struct tseg *s = &c.s[i];
        size_t n = make_packet(&o, s->dir, s->seq, s->flags, s->data, s->len,
                               pktbuf);

        capw_put(&w, pktbuf, n, n);
        if (k < sizeof(noise)) {
            uint32_t len = sizeof(noise) - k < MSS ? (uint32_t)(sizeof(noise)
                                                                 - k) : MSS;

            n = make_packet(&on, 0, seq, F_ACK, noise + k, len, pktbuf);
            capw_put(&w, pktbuf, n, n);
            seq += len;
            k += len;
        }
    }
    capw_close(&w);

    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->stats.flows, 2);
    ck_assert_uint_eq(f->dir[0].dst.port, 8002);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);

    f = read_ok(w.path, 8002);
    ck_assert_uint_eq(f->dir[0].src.port, 40001);
    mig_pcap_flow_free(f);

    f = read_ok(w.path, 5202);
    ck_assert_str_eq(f->why, "port, most payload");
    ck_assert_uint_eq(f->dir[0].stream_len, sizeof(noise));
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_int_eq(tl.decode_rc, MIG_ECORRUPT);
    ck_assert_str_ne(tl.decode_msg, "");
    ck_assert_uint_eq(tl.npasses, 0);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);

    {
        char err[256];
        struct mig_pcap_src src = { .path = w.path };
        struct mig_pcap_opts po = { .port = 1234 };

        ck_assert_int_eq(mig_pcap_flow_read(&src, &po, &f, err, sizeof(err)),
                         MIG_ECORRUPT);
        ck_assert_ptr_null(f);
        ck_assert_ptr_nonnull(strstr(err, "port 1234"));
    }
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* The pause window on the wire: stream end, ready, GO, in that order,
 * with the per-packet spacing of the writer (10 us). */
START_TEST(test_handshake_times)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;

    conv_build(&c, 16, 1, false);
    write_capture(&w, &c, &links[0]);
    f = read_ok(w.path, 0);
    ck_assert(!f->dir[0].syn_seen);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    /* The last stream segment, then READY, then GO: one packet each,
     * with at most one pure ACK in between. */
    ck_assert_int_ge(tl.ready.ts_ns - tl.end_ts_ns, 10000);
    ck_assert_int_le(tl.ready.ts_ns - tl.end_ts_ns, 20000);
    ck_assert_int_ge(tl.go.ts_ns - tl.ready.ts_ns, 10000);
    ck_assert_int_le(tl.go.ts_ns - tl.ready.ts_ns, 20000);
    ck_assert_uint_eq(tl.go.off, c.e.stream_len);
    ck_assert_uint_eq(tl.banner.off, 0);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* Between two keyed miglab hosts the authentication exchange comes first:
 * the timeline skips the sender's reply and decodes the stream after it;
 * offsets stay those of the connection. */
START_TEST(test_auth_prefix)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;

    conv_build_auth(&c, 64, 7, true, true);
    write_capture(&w, &c, &links[0]);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->dir[0].src.port, 40001);   /* the sender */
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_msg(tl.decode_rc == 0, "%s", tl.decode_msg);
    ck_assert_uint_eq(tl.npasses, c.e.npasses);
    for (unsigned i = 0; i < c.e.npasses; i++)
        ck_assert_uint_eq(tl.passes[i].pages, c.e.pages[i]);
    ck_assert_uint_eq(tl.stream_bytes, AUTH_REPLY_LEN + c.e.stream_len);
    ck_assert(tl.xl_header);
    ck_assert(tl.banner.seen && tl.ready.seen && tl.go.seen &&
              tl.report.seen);
    ck_assert_uint_eq(tl.banner.off, AUTH_CHALLENGE_LEN + AUTH_VERDICT_LEN);
    ck_assert_uint_eq(tl.go.off, AUTH_REPLY_LEN + c.e.stream_len);
    ck_assert_int_le(tl.start_ts_ns, tl.passes[0].first_ts_ns);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* A capture that ends inside the sender's authentication reply has no
 * stream: the timeline consumed what was captured, never more (found by
 * fuzz_pcap: stream_bytes was the reply's full length, past the capture). */
START_TEST(test_auth_prefix_truncated)
{
    uint8_t reply[MIG_AUTH_MAGIC_LEN + 4];
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;

    memset(&c, 0, sizeof(c));
    mig_wbuf_init(&c.stream, NULL);
    mig_wbuf_init(&c.rs, NULL);
    c.next[0] = 7;
    c.next[1] = 7 ^ 0x5a5a5a5aU;
    conv_add(&c, 0, c.next[0]++, F_SYN, NULL, 0);
    conv_add(&c, 1, c.next[1]++, F_SYN | F_ACK, NULL, 0);
    conv_add(&c, 0, c.next[0], F_ACK, NULL, 0);
    memset(reply, 'X', sizeof(reply));
    memcpy(reply, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN);
    conv_send(&c, 0, reply, sizeof(reply));
    write_capture(&w, &c, &links[0]);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->dir[0].stream_len, sizeof(reply));
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_uint_le(tl.stream_bytes, f->dir[0].stream_len);
    ck_assert_uint_eq(tl.npasses, 0);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* A capture on "any" with Linux cooked v2 sees every packet on two
 * interfaces: only the first interface's copies count, so there are no
 * false retransmissions. */
START_TEST(test_sll2_any)
{
    struct conv c;
    struct capw w;
    struct pkt_opts o;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;

    conv_build(&c, 32, 1000, true);
    default_opts(&o, &links[4]);
    capw_open(&w, DLT_LINUX_SLL2);
    for (size_t i = 0; i < c.n; i++) {
        const struct tseg *s = &c.s[i];
        size_t n = make_packet(&o, s->dir, s->seq, s->flags, s->data, s->len,
                               pktbuf);

        mig_be32enc(pktbuf + 4, 7);
        capw_put(&w, pktbuf, n, n);
        mig_be32enc(pktbuf + 4, 3);
        capw_put(&w, pktbuf, n, n);
    }
    capw_close(&w);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->dir[0].retransmits, 0);
    ck_assert_uint_eq(f->dir[0].dup_bytes, 0);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    ck_assert(tl.go.seen);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* The pass rules of docs/pcap.md on hand-made batch sequences: batches
 * are separated by -1, the list ends with -2; want is pages per pass. */
static const struct {
    const char *name;
    int64_t pfns[24];
    unsigned npasses;
    uint64_t want[4];
} pass_cases[] = {
    { "repeat", { 0, 1, 2, 3, -1, 2, 3, -2 }, 2, { 4, 2 } },
    { "descend", { 10, 11, 12, -1, 2, 3, -2 }, 2, { 3, 2 } },
    { "ascend across (merged)", { 0, 1, -1, 5, 6, -2 }, 1, { 4 } },
    { "unordered sender", { 5, 3, 9, -1, 1, 2, -2 }, 1, { 5 } },
    { "unordered, repeat", { 5, 3, 9, -1, 1, 2, -1, 3, -2 }, 2, { 5, 1 } },
    { "xen shape", { 0, 1, 2, 3, -1, 4, 5, 6, 7, -1, 1, 4, -1, 2, -2 }, 3,
      { 8, 2, 1 } },
    { "repeat inside a batch", { 0, 1, -1, 7, 7, -2 }, 1, { 4 } },
};

START_TEST(test_pass_rules)
{
    struct mig_domain_header dh = { .type = MIG_DHDR_TYPE_X86_HVM,
                                    .page_shift = 12, .xen_major = 4 };
    static uint8_t page[4096];
    const void *ptrs[24];
    uint64_t words[24];
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    uint32_t n = 0;

    for (size_t k = 0; k < 24; k++)
        ptrs[k] = page;
    memset(&c, 0, sizeof(c));
    mig_wbuf_init(&c.stream, NULL);
    ck_assert_int_eq(mig_stream_put_libxl_header(&c.stream), 0);
    ck_assert_int_eq(mig_stream_put_libxc_context(&c.stream), 0);
    ck_assert_int_eq(mig_stream_put_image_header(&c.stream), 0);
    ck_assert_int_eq(mig_stream_put_domain_header(&c.stream, &dh), 0);
    ck_assert_int_eq(mig_stream_put_static_data_end(&c.stream), 0);
    for (size_t k = 0;; k++) {
        int64_t v = pass_cases[_i].pfns[k];

        if (v >= 0) {
            words[n++] = MIG_PFN_WORD(MIG_PT_NOTAB, (uint64_t)v);
            continue;
        }
        ck_assert_int_eq(mig_stream_put_page_data(&c.stream, words, ptrs, n),
                         0);
        n = 0;
        if (v == -2)
            break;
    }
    ck_assert_int_eq(mig_stream_put_end(&c.stream), 0);
    ck_assert_int_eq(mig_stream_put_libxl_end(&c.stream), 0);
    mig_wbuf_init(&c.rs, NULL);
    c.next[0] = 1;
    c.next[1] = 2;
    conv_send(&c, 0, c.stream.data, c.stream.len);
    write_capture(&w, &c, &links[5]);
    f = read_ok(w.path, 0);
    ck_assert_str_eq(f->why, "stream magic");
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_int_eq(tl.decode_rc, 0);
    ck_assert_msg(tl.npasses == pass_cases[_i].npasses, "%s: %zu passes",
                  pass_cases[_i].name, tl.npasses);
    for (unsigned k = 0; k < tl.npasses; k++) {
        ck_assert_msg(tl.passes[k].pages == pass_cases[_i].want[k],
                      "%s: pass %u has %llu pages", pass_cases[_i].name,
                      k + 1, (unsigned long long)tl.passes[k].pages);
        ck_assert(tl.passes[k].live == (k + 1 < tl.npasses));
    }
    ck_assert(!tl.banner.seen && !tl.go.seen);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* ====================================================================== *
 * limits
 * ====================================================================== */

/* A segment the capture missed: a gap, and a clean incomplete decode that
 * keeps the passes before it. */
START_TEST(test_gap)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    size_t i;
    uint32_t seq;

    conv_build(&c, 64, 1000, true);
    i = conv_data_seg(&c, 120 + (size_t)_i * 40);
    seq = c.s[i].seq;
    memmove(&c.s[i], &c.s[i + 1], (c.n - i - 1) * sizeof(*c.s));
    c.n--;
    write_capture(&w, &c, &links[0]);
    f = read_ok(w.path, 0);
    ck_assert(f->dir[0].gap);
    ck_assert_uint_eq(f->dir[0].gap_off, seq - 1001);
    ck_assert_uint_eq(f->dir[0].gap_len, MSS);
    ck_assert_uint_eq(f->dir[0].stream_len, f->dir[0].gap_off);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_int_eq(tl.decode_rc, MIG_EINCOMPLETE);
    ck_assert_ptr_nonnull(strstr(tl.decode_msg, "gap"));
    ck_assert_uint_ge(tl.npasses, 1);
    ck_assert(tl.passes[tl.npasses - 1].live);
    ck_assert(!tl.go.seen);
    ck_assert_uint_le(tl.stream_bytes, f->dir[0].gap_off);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

START_TEST(test_size_limit)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_src src;
    struct mig_pcap_opts po = { .max_bytes = 100000 };
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    char err[256];

    conv_build(&c, 64, 1000, true);
    write_capture(&w, &c, &links[0]);
    src = (struct mig_pcap_src){ .path = w.path };
    ck_assert_int_eq(mig_pcap_flow_read(&src, &po, &f, err, sizeof(err)), 0);
    ck_assert(f->dir[0].gap);
    ck_assert_uint_eq(f->dir[0].gap_len, 0);
    ck_assert_uint_le(f->dir[0].stream_len, 100000);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_int_eq(tl.decode_rc, MIG_EINCOMPLETE);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* A packet cut by the snap length loses payload: counted, and a gap. */
START_TEST(test_snapped)
{
    struct conv c;
    struct capw w;
    struct pkt_opts o;
    struct mig_pcap_flow *f;
    size_t cut;

    conv_build(&c, 16, 1000, true);
    cut = conv_data_seg(&c, 30);
    default_opts(&o, &links[0]);
    capw_open(&w, DLT_EN10MB);
    for (size_t i = 0; i < c.n; i++) {
        const struct tseg *s = &c.s[i];
        size_t n = make_packet(&o, s->dir, s->seq, s->flags, s->data, s->len,
                               pktbuf);

        capw_put(&w, pktbuf, n, i == cut ? 96 : n);
    }
    capw_close(&w);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->stats.snapped, 1);
    ck_assert(f->dir[0].gap);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* ====================================================================== *
 * corrupt
 * ====================================================================== */

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");

    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(p, 1, n, fp), n);
    fclose(fp);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *p;
    long sz;

    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    p = malloc((size_t)sz + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    *n = (size_t)sz;
    return p;
}

START_TEST(test_garbage_files)
{
    char path[] = "/tmp/check_pcap_g.XXXXXX";
    uint8_t junk[1000];
    uint64_t seed = 1;
    char err[256];
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rng_next(&seed);
    write_bytes(path, junk, sizeof(junk));
    ck_assert_int_eq(read_err(path, err, sizeof(err)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "not a readable capture"));
    write_bytes(path, junk, 0);
    ck_assert_int_eq(read_err(path, err, sizeof(err)), MIG_ECORRUPT);
    unlink(path);
    ck_assert_int_eq(read_err(path, err, sizeof(err)), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

/* Cut a good capture at several points: inside the file header it is not
 * a capture; inside a packet, what came before is used. */
START_TEST(test_truncated_file)
{
    struct conv c;
    struct capw w;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    uint8_t *all;
    size_t n;
    char err[256];

    conv_build(&c, 16, 1000, true);
    write_capture(&w, &c, &links[0]);
    all = slurp(w.path, &n);
    write_bytes(w.path, all, 10);
    ck_assert_int_eq(read_err(w.path, err, sizeof(err)), MIG_ECORRUPT);
    write_bytes(w.path, all, 24 + 7);
    ck_assert_int_eq(read_err(w.path, err, sizeof(err)), MIG_ECORRUPT);
    write_bytes(w.path, all, n / 2 + 3);
    f = read_ok(w.path, 0);
    ck_assert(f->stats.truncated_file);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    ck_assert_int_eq(tl.decode_rc, MIG_EINCOMPLETE);
    ck_assert_ptr_nonnull(strstr(tl.decode_msg, "capture ends"));
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    free(all);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

START_TEST(test_link_unsupported)
{
    struct capw w;
    char err[256];
    static const uint8_t pkt[64];

    capw_open(&w, 105);     /* DLT_IEEE802_11 */
    capw_put(&w, pkt, sizeof(pkt), sizeof(pkt));
    capw_close(&w);
    ck_assert_int_eq(read_err(w.path, err, sizeof(err)), MIG_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(err, "link type 105"));
    unlink(w.path);
}
END_TEST

/* Only UDP and ARP: no TCP payload, one clean error. */
START_TEST(test_no_tcp)
{
    struct capw w;
    struct pkt_opts o;
    char err[256];
    static const uint8_t data[100];
    size_t n;

    default_opts(&o, &links[0]);
    o.proto = 17;
    capw_open(&w, DLT_EN10MB);
    for (int i = 0; i < 10; i++) {
        n = make_packet(&o, i & 1, 0, 0, data, sizeof(data), pktbuf);
        capw_put(&w, pktbuf, n, n);
        mig_be16enc(pktbuf + 12, 0x0806);
        capw_put(&w, pktbuf, 60, 60);
    }
    capw_close(&w);
    ck_assert_int_eq(read_err(w.path, err, sizeof(err)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "no TCP payload in 20 packets"));
    unlink(w.path);
}
END_TEST

/* Bad header lengths and foreign packets mixed into a good capture are
 * counted and skipped; the migration still decodes. */
START_TEST(test_bad_headers)
{
    static const struct {
        const char *name;
        int ihl, delta, doff, family;
        size_t caplen;          /* 0: whole packet */
    } bad[] = {
        { "ihl 3", 3, 0, 8, 4, 0 },
        { "ihl 15 beyond capture", 15, 0, 8, 4, 14 + 40 },
        { "total < ihl", 5, -242, 8, 4, 0 },
        { "tcp doff 2", 5, 0, 2, 4, 0 },
        { "tcp doff beyond total", 5, -200, 15, 4, 0 },
        { "cut in the ip header", 5, 0, 8, 4, 24 },
        { "cut in the tcp header", 5, 0, 8, 4, 40 },
        { "ipv6 cut", 5, 0, 8, 6, 30 },
        { "ipv6 doff 3", 5, 0, 3, 6, 0 },
    };
    const size_t nbad = sizeof(bad) / sizeof(bad[0]);
    struct conv c;
    struct capw w;
    struct pkt_opts o, ob;
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    static const struct link eth6 = { "ethernet/ipv6", DLT_EN10MB, 6,
                                      false };
    static const uint8_t data[200];

    conv_build(&c, 16, 1000, true);
    default_opts(&o, &links[0]);
    capw_open(&w, DLT_EN10MB);
    for (size_t i = 0; i < c.n; i++) {
        const struct tseg *s = &c.s[i];
        size_t n = make_packet(&o, s->dir, s->seq, s->flags, s->data, s->len,
                               pktbuf);

        capw_put(&w, pktbuf, n, n);
        if (i < nbad) {
            ob = o;
            ob.l = bad[i].family == 4 ? &links[0] : &eth6;
            ob.ihl_words = bad[i].ihl;
            ob.ip_total_delta = bad[i].delta;
            ob.tcp_doff = bad[i].doff;
            n = make_packet(&ob, 0, s->seq, F_ACK, data, sizeof(data),
                            pktbuf);
            capw_put(&w, pktbuf, n, bad[i].caplen ? bad[i].caplen : n);
        } else if (i < nbad + 3) {
            ob = o;
            ob.proto = 17;
            n = make_packet(&ob, 0, 0, 0, data, sizeof(data), pktbuf);
            capw_put(&w, pktbuf, n, n);
            mig_be16enc(pktbuf + 12, 0x0806);
            capw_put(&w, pktbuf, 60, 60);
            capw_put(&w, pktbuf, 5, 5);     /* runt: malformed */
        }
    }
    capw_close(&w);
    f = read_ok(w.path, 0);
    ck_assert_uint_eq(f->stats.malformed, nbad + 3);
    ck_assert_uint_eq(f->stats.not_tcp, 3);
    ck_assert_uint_eq(f->stats.not_ip, 3);
    ck_assert_uint_eq(f->stats.flows, 1);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* Byte flips anywhere in a capture, read from memory: an error or a
 * result, never a crash (ASan and Valgrind watch the reads). */
START_TEST(test_mutations)
{
    struct conv c;
    struct capw w;
    uint8_t *all, *mut;
    size_t n;
    uint64_t seed = 11 + (uint64_t)_i;
    unsigned ok = 0, bad = 0;

    conv_build(&c, 8, 0xfffff000U, true);
    write_capture(&w, &c, &links[(size_t)_i % 7]);
    all = slurp(w.path, &n);
    mut = malloc(n);
    ck_assert_ptr_nonnull(mut);
    for (int round = 0; round < 60; round++) {
        struct mig_pcap_src src = { .mem = mut, .len = n };
        struct mig_pcap_opts po = { 0 };
        struct mig_pcap_flow *f;
        struct mig_pcap_timeline tl;
        char err[256];
        int rc, flips = 1 + (int)(rng_next(&seed) % 4);

        memcpy(mut, all, n);
        for (int k = 0; k < flips; k++) {
            /* Mostly the headers at the start, where lengths live. */
            size_t at = rng_next(&seed) % 4 ? rng_next(&seed) % (n < 400
                                                                 ? n : 400)
                                            : rng_next(&seed) % n;

            mut[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
        }
        rc = mig_pcap_flow_read(&src, &po, &f, err, sizeof(err));
        ck_assert_msg(rc == 0 || rc == MIG_ECORRUPT || rc == MIG_ENOTSUP,
                      "round %d: rc %d", round, rc);
        if (rc) {
            bad++;
            continue;
        }
        ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
        ok++;
        mig_pcap_timeline_clear(&tl);
        mig_pcap_flow_free(f);
    }
    ck_assert_uint_eq(ok + bad, 60);
    free(mut);
    free(all);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* A capture read from memory gives the same result as from the file. */
START_TEST(test_from_memory)
{
    struct conv c;
    struct capw w;
    uint8_t *all;
    size_t n;
    struct mig_pcap_src src;
    struct mig_pcap_opts po = { 0 };
    struct mig_pcap_flow *f;
    struct mig_pcap_timeline tl;
    char err[256];

    conv_build(&c, 16, 1000, true);
    write_capture(&w, &c, &links[4]);
    all = slurp(w.path, &n);
    src = (struct mig_pcap_src){ .mem = all, .len = n };
    ck_assert_int_eq(mig_pcap_flow_read(&src, &po, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(mig_pcap_timeline_build(f, &tl), 0);
    check_passes(&tl, &c.e);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    mig_pcap_flow_free(NULL);
    src.len = 0;
    ck_assert_int_eq(mig_pcap_flow_read(&src, &po, &f, err, sizeof(err)),
                     MIG_ECORRUPT);
    ck_assert_int_eq(mig_pcap_flow_read(NULL, &po, &f, err, sizeof(err)),
                     MIG_EINVAL);
    free(all);
    unlink(w.path);
    conv_free(&c);
}
END_TEST

/* ====================================================================== *
 * The sample capture (tests/data/pcap/sample.pcap): a small migration on
 * Ethernet with one retransmitted segment and wrapping sequence numbers
 * ====================================================================== */

static void sample_to(const char *path)
{
    struct pkt_opts o;
    struct conv c;
    struct capw w;
    size_t i;

    conv_build(&c, 16, 0xfffffff0U, true);
    i = conv_data_seg(&c, 5);
    insert_copy(&c, i, i + 3, 0, MSS);
    default_opts(&o, &links[0]);
    capw_open_at(&w, DLT_EN10MB, path);
    write_conv(&w, &c, &o);
    capw_close(&w);
    conv_free(&c);
}

/* Written to $MIGLAB_PCAP_SAMPLE by --write-sample: a test of its own so
 * the helpers' assertions work. */
START_TEST(test_write_sample)
{
    const char *path = getenv("MIGLAB_PCAP_SAMPLE");

    ck_assert_ptr_nonnull(path);
    sample_to(path);
}
END_TEST

/* tests/data/pcap/sample.pcap is what sample_to() writes today. */
START_TEST(test_sample_golden)
{
    const char *srcdir = getenv("MIGLAB_SRCDIR");
    char golden[4096], tmp[] = "/tmp/check_pcap_s.XXXXXX";
    uint8_t *want, *got;
    size_t nwant, ngot;
    int fd = mkstemp(tmp);

    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(golden, sizeof(golden), "%s/tests/data/pcap/sample.pcap",
             srcdir ? srcdir : ".");
    if (access(golden, R_OK) != 0) {
        unlink(tmp);
        ck_abort_msg("%s missing: run check_pcap --write-sample", golden);
    }
    sample_to(tmp);
    want = slurp(golden, &nwant);
    got = slurp(tmp, &ngot);
    ck_assert_msg(nwant == ngot && memcmp(want, got, ngot) == 0,
                  "%s is stale: regenerate with check_pcap --write-sample "
                  "(only after an intended change)", golden);
    free(want);
    free(got);
    unlink(tmp);
}
END_TEST

/* ====================================================================== *
 * Suite
 * ====================================================================== */

static Suite *pcap_suite(void)
{
    Suite *s = suite_create("pcap");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");
    int nlinks = (int)(sizeof(links) / sizeof(links[0]));

    tcase_set_timeout(core, 60);
    tcase_set_timeout(corrupt, 120);
    tcase_add_loop_test(core, test_in_order, 0, nlinks);
    tcase_add_loop_test(core, test_shuffled, 0, 3);
    tcase_add_test(core, test_retransmissions);
    tcase_add_loop_test(core, test_wraparound, 0, 3);
    tcase_add_test(core, test_flow_choice);
    tcase_add_test(core, test_handshake_times);
    tcase_add_test(core, test_auth_prefix);
    tcase_add_test(core, test_auth_prefix_truncated);
    tcase_add_test(core, test_from_memory);
    tcase_add_test(core, test_sample_golden);
    tcase_add_test(core, test_sll2_any);
    tcase_add_loop_test(core, test_pass_rules, 0,
                        (int)(sizeof(pass_cases) / sizeof(pass_cases[0])));
    suite_add_tcase(s, core);

    tcase_add_loop_test(limits, test_gap, 0, 3);
    tcase_add_test(limits, test_size_limit);
    tcase_add_test(limits, test_snapped);
    suite_add_tcase(s, limits);

    tcase_add_test(corrupt, test_garbage_files);
    tcase_add_test(corrupt, test_truncated_file);
    tcase_add_test(corrupt, test_link_unsupported);
    tcase_add_test(corrupt, test_no_tcp);
    tcase_add_test(corrupt, test_bad_headers);
    tcase_add_loop_test(corrupt, test_mutations, 0, 4);
    suite_add_tcase(s, corrupt);
    return s;
}

static int write_sample(const char *path)
{
    Suite *s = suite_create("pcap-sample");
    TCase *tc = tcase_create("sample");
    SRunner *sr;
    int failed;

    if (setenv("MIGLAB_PCAP_SAMPLE", path, 1))
        return 1;
    tcase_add_test(tc, test_write_sample);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0)
        return write_sample(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write-sample FILE]\n", argv[0]);
        return 2;
    }
    return check_run(pcap_suite());
}
