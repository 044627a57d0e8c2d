/* SPDX-License-Identifier: MIT */
/*
 * pcap_timeline.c - passes, bytes and handshake times of a captured
 * migration (pcap_timeline.h).  The stream is decoded by ref/stream_dec.c
 * exactly as the receiver decodes it; the pass rule and the handshake
 * search are specified in docs/pcap.md.
 */
#include "pcap_timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "mig_err.h"
#include "stream.h"

#define HS_SEARCH_MAX (1U << 20)    /* R->S bytes searched for messages */

/*
 * Set of the pfns sent in the current pass: open addressing with a
 * generation stamp per slot, so starting a new pass is O(1) (slots of an
 * older generation count as empty).
 */
struct pfn_set {
    uint64_t *pfn;
    uint32_t *gen;
    size_t cap;                 /* power of two, or 0 */
    size_t used;                /* slots of the current generation */
    uint32_t cur;
};

struct tl_ctx {
    struct mig_pcap_timeline *tl;
    const struct mig_pcap_dir *d;
    struct mig_stream_dec *dec;
    struct pfn_set set;
    bool libxc_end;             /* the libxc END was decoded */
    bool ordered;               /* every batch so far had ascending pfns */
    bool have_last;
    uint64_t last_pfn;          /* last pfn of the previous batch */
};

static size_t slot_of(uint64_t pfn, size_t cap)
{
    /* Fibonacci hashing spreads consecutive pfns over the table. */
    return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
}

static bool set_has(const struct pfn_set *s, uint64_t pfn)
{
    if (!s->cap)
        return false;
    for (size_t i = slot_of(pfn, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->gen[i] != s->cur)
            return false;
        if (s->pfn[i] == pfn)
            return true;
    }
}

static void set_put_raw(struct pfn_set *s, uint64_t pfn)
{
    for (size_t i = slot_of(pfn, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->gen[i] != s->cur) {
            s->gen[i] = s->cur;
            s->pfn[i] = pfn;
            s->used++;
            return;
        }
        if (s->pfn[i] == pfn)
            return;
    }
}

static int set_put(struct pfn_set *s, uint64_t pfn)
{
    if ((s->used + 1) * 2 > s->cap) {
        struct pfn_set n = { 0 };
        size_t cap = s->cap ? s->cap * 2 : 4096;

        n.pfn = malloc(cap * sizeof(*n.pfn));
        n.gen = calloc(cap, sizeof(*n.gen));
        if (!n.pfn || !n.gen) {
            free(n.pfn);
            free(n.gen);
            return MIG_ENOMEM;
        }
        n.cap = cap;
        n.cur = 1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->gen[i] == s->cur)
                set_put_raw(&n, s->pfn[i]);
        free(s->pfn);
        free(s->gen);
        *s = n;
    }
    set_put_raw(s, pfn);
    return 0;
}

/* Forget every pfn: a new pass begins. */
static void set_reset(struct pfn_set *s)
{
    s->used = 0;
    if (++s->cur == 0) {
        /* The stamp wrapped: old slots could look current again. */
        if (s->cap)
            memset(s->gen, 0, s->cap * sizeof(*s->gen));
        s->cur = 1;
    }
}

static void set_free(struct pfn_set *s)
{
    free(s->pfn);
    free(s->gen);
    memset(s, 0, sizeof(*s));
}

/* ---- decoder callbacks ------------------------------------------------- */

static int on_xl(void *opaque, const struct mig_xl_header *h)
{
    struct tl_ctx *c = opaque;

    (void)h;
    c->tl->xl_header = true;
    return 0;
}

static int on_dhdr(void *opaque, const struct mig_domain_header *h)
{
    struct tl_ctx *c = opaque;

    c->tl->domain_type = h->type;
    c->tl->xen_major = h->xen_major;
    c->tl->xen_minor = h->xen_minor;
    return 0;
}

static int on_rec(void *opaque, uint32_t type, const uint8_t *body,
                  uint32_t len)
{
    struct tl_ctx *c = opaque;
    struct mig_guest_info gi;

    c->tl->records++;
    if (type == MIG_REC_MIGLAB_GUEST_INFO &&
        mig_stream_parse_guest_info(body, len, &gi) == 0)
        c->tl->guest_pages = gi.nr_pages;
    return 0;
}

static int on_libxl_rec(void *opaque, uint32_t type, const uint8_t *body,
                        uint32_t len)
{
    struct tl_ctx *c = opaque;

    (void)type;
    (void)body;
    (void)len;
    c->tl->records++;
    return 0;
}

static int on_end(void *opaque, enum mig_stream_layer layer)
{
    struct tl_ctx *c = opaque;

    c->tl->records++;
    if (layer == MIG_LAYER_LIBXC)
        c->libxc_end = true;
    return 0;
}

static struct mig_pcap_pass *new_pass(struct mig_pcap_timeline *tl)
{
    struct mig_pcap_pass *p;

    if (tl->npasses == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 16;

        p = realloc(tl->passes, cap * sizeof(*p));
        if (!p)
            return NULL;
        tl->passes = p;
        tl->cap = cap;
    }
    p = &tl->passes[tl->npasses++];
    memset(p, 0, sizeof(*p));
    p->index = (unsigned)tl->npasses;
    p->live = true;
    return p;
}

static int on_batch(void *opaque, const uint64_t *pfns, const uint8_t *pages,
                    uint32_t count)
{
    struct tl_ctx *c = opaque;
    struct mig_pcap_timeline *tl = c->tl;
    struct mig_pcap_pass *p = tl->npasses ? &tl->passes[tl->npasses - 1]
                                          : NULL;
    uint64_t ndata = 0, bytes, end, first = MIG_PFN_WORD_PFN(pfns[0]);
    bool repeat = false, back;
    int rc;

    (void)pages;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn = MIG_PFN_WORD_PFN(pfns[i]);

        if (mig_page_type_has_data(MIG_PFN_WORD_TYPE(pfns[i])))
            ndata++;
        if (!repeat && set_has(&c->set, pfn))
            repeat = true;
        if (i && pfn <= MIG_PFN_WORD_PFN(pfns[i - 1]))
            c->ordered = false;
    }
    back = c->ordered && c->have_last && first <= c->last_pfn;
    c->have_last = true;
    c->last_pfn = MIG_PFN_WORD_PFN(pfns[count - 1]);
    /* The decoder has consumed the whole record when it calls back
     * (stream_dec.c advances its offset before each step). */
    bytes = MIG_RHDR_SIZE + MIG_PAGE_DATA_HDR_SIZE + 8ULL * count +
            (uint64_t)MIG_PAGE_SIZE * ndata;
    end = mig_stream_dec_offset(c->dec);
    /* docs/pcap.md "Passes": a batch holding a pfn already sent in the
     * current pass starts the next pass, and so does a batch that goes
     * back in pfn order while the sender has walked its bitmap in order
     * (every batch ascending so far).  Other records in between (only the
     * final state records in practice) do not end a pass. */
    if (!p || repeat || back) {
        p = new_pass(tl);
        if (!p)
            return MIG_ENOMEM;
        set_reset(&c->set);
        p->first_off = end - bytes;
        p->first_ts_ns = mig_pcap_dir_time(c->d, p->first_off);
    }
    for (uint32_t i = 0; i < count; i++) {
        rc = set_put(&c->set, MIG_PFN_WORD_PFN(pfns[i]));
        if (rc)
            return rc;
    }
    p->batches++;
    p->pages += count;
    p->bytes += bytes;
    p->end_off = end;
    p->last_ts_ns = mig_pcap_dir_time(c->d, end - 1);
    tl->pages += count;
    tl->page_bytes += bytes;
    tl->records++;
    return 0;
}

static const struct mig_stream_dec_ops tl_ops = {
    .on_xl_header = on_xl,
    .on_libxl_record = on_libxl_rec,
    .on_domain_header = on_dhdr,
    .on_page_batch = on_batch,
    .on_record = on_rec,
    .on_end = on_end,
};

/* ---- handshake ---------------------------------------------------------- */

/* Find message which at or after *pos in buf; on a hit fill m (times from
 * d) and move *pos past it. */
static void find_msg(const uint8_t *buf, size_t len, size_t *pos,
                     enum mig_handshake which, const struct mig_pcap_dir *d,
                     struct mig_pcap_msg *m)
{
    size_t mlen;
    const char *msg = mig_handshake_bytes(which, &mlen);

    for (size_t i = *pos; mlen <= len && i <= len - mlen; i++) {
        if (buf[i] == (uint8_t)msg[0] && !memcmp(buf + i, msg, mlen)) {
            m->seen = true;
            m->off = i;
            m->ts_ns = mig_pcap_dir_time(d, i + mlen - 1);
            *pos = i + mlen;
            return;
        }
    }
}

static int handshake(const struct mig_pcap_flow *f,
                     struct mig_pcap_timeline *tl, bool done)
{
    const struct mig_pcap_dir *rs = &f->dir[1], *sr = &f->dir[0];
    size_t n = rs->stream_len < HS_SEARCH_MAX ? (size_t)rs->stream_len
                                               : HS_SEARCH_MAX;
    uint8_t *buf = NULL, go[MIG_XL_GO_LEN];
    size_t pos = 0, got;

    tl->report_status = -1;
    if (n) {
        buf = malloc(n);
        if (!buf)
            return MIG_ENOMEM;
        n = mig_pcap_dir_copy(rs, 0, buf, n);
        find_msg(buf, n, &pos, MIG_HS_BANNER, rs, &tl->banner);
        find_msg(buf, n, &pos, MIG_HS_READY, rs, &tl->ready);
        find_msg(buf, n, &pos, MIG_HS_REPORT, rs, &tl->report);
        if (tl->report.seen && pos < n) {
            tl->report_status = buf[pos];
            tl->report.ts_ns = mig_pcap_dir_time(rs, pos);
        }
        free(buf);
    }
    /* SPEC §8 step 4: the GO follows the stream on the same channel. */
    if (done) {
        got = mig_pcap_dir_copy(sr, tl->stream_bytes, go, sizeof(go));
        if (got == sizeof(go) &&
            mig_handshake_match(MIG_HS_GO, go, got) == 0) {
            tl->go.seen = true;
            tl->go.off = tl->stream_bytes;
            tl->go.ts_ns = mig_pcap_dir_time(sr, tl->stream_bytes + got - 1);
        }
    }
    return 0;
}

/* ---- build --------------------------------------------------------------- */

static void count_retx(const struct mig_pcap_flow *f,
                       struct mig_pcap_timeline *tl)
{
    const struct mig_pcap_dir *d = &f->dir[0];

    tl->retransmits = d->retransmits;
    tl->retransmits_rev = f->dir[1].retransmits;
    /* Passes are in stream order and disjoint: attribute each
     * retransmitted segment to the pass holding its start offset. */
    for (size_t i = 0; i < d->nretx; i++) {
        uint64_t off = d->retx[i].off;
        size_t lo = 0, hi = tl->npasses;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            struct mig_pcap_pass *p = &tl->passes[mid];

            if (off < p->first_off) {
                hi = mid;
            } else if (off >= p->end_off) {
                lo = mid + 1;
            } else {
                p->retransmits++;
                break;
            }
        }
    }
}

/* Bytes of miglab's authentication reply (ref/auth.h: magic, nonce, MAC)
 * that open the sender's direction before the xl stream, or 0; never more
 * than the capture holds. */
static uint64_t auth_prefix(const struct mig_pcap_dir *d)
{
    uint64_t len = MIG_AUTH_MAGIC_LEN + MIG_AUTH_NONCE_LEN + MIG_AUTH_MAC_LEN;
    uint8_t head[MIG_AUTH_MAGIC_LEN];

    if (mig_pcap_dir_copy(d, 0, head, sizeof(head)) != sizeof(head) ||
        memcmp(head, MIG_AUTH_MAGIC, MIG_AUTH_MAGIC_LEN))
        return 0;
    return len < d->stream_len ? len : d->stream_len;
}

int mig_pcap_timeline_build(const struct mig_pcap_flow *flow,
                            struct mig_pcap_timeline *tl)
{
    const struct mig_pcap_dir *d = &flow->dir[0];
    struct tl_ctx c;
    uint64_t skip;
    size_t i, used = 0;
    int rc = 0, drc = 0;
    bool done = false;

    memset(tl, 0, sizeof(*tl));
    memset(&c, 0, sizeof(c));
    tl->start_ts_ns = tl->end_ts_ns = -1;
    c.tl = tl;
    c.d = d;
    c.ordered = true;
    c.dec = mig_stream_dec_new(NULL);
    if (!c.dec)
        return MIG_ENOMEM;
    mig_stream_dec_set_ops(c.dec, &tl_ops, &c);
    skip = auth_prefix(d);
    mig_stream_dec_set_offset(c.dec, skip);
    for (i = 0; i < d->nranges && !done; i++) {
        const struct mig_pcap_range *r = &d->ranges[i];
        uint64_t end = r->off + r->len;
        size_t from;

        if (end <= skip)
            continue;
        from = r->off < skip ? (size_t)(skip - r->off) : 0;
        drc = mig_stream_dec_feed_some(c.dec, r->data + from, r->len - from,
                                       &used);
        if (drc)
            break;
        done = mig_stream_dec_done(c.dec);
    }
    tl->stream_bytes = mig_stream_dec_offset(c.dec);
    if (drc == MIG_ENOMEM) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    if (drc) {
        tl->decode_rc = drc;
        snprintf(tl->decode_msg, sizeof(tl->decode_msg), "%s",
                 mig_stream_dec_error(c.dec));
    } else if (!done) {
        tl->decode_rc = MIG_EINCOMPLETE;
        if (d->gap && d->gap_len)
            snprintf(tl->decode_msg, sizeof(tl->decode_msg),
                     "gap of %llu bytes at stream offset %llu: the capture "
                     "lost data", (unsigned long long)d->gap_len,
                     (unsigned long long)d->gap_off);
        else if (d->gap)
            snprintf(tl->decode_msg, sizeof(tl->decode_msg),
                     "stream cut at offset %llu (size limit)",
                     (unsigned long long)d->gap_off);
        else
            snprintf(tl->decode_msg, sizeof(tl->decode_msg),
                     "capture ends at stream offset %llu, before the end "
                     "of the stream", (unsigned long long)d->stream_len);
    }
    if (d->nranges) {
        tl->start_ts_ns = skip ? mig_pcap_dir_time(d, skip)
                               : d->ranges[0].ts_ns;
        if (tl->stream_bytes)
            tl->end_ts_ns = mig_pcap_dir_time(d, tl->stream_bytes - 1);
    }
    /* The stop-and-copy pass is the last one of a complete stream: after
     * it come only the state records and the ENDs. */
    if (done && c.libxc_end && tl->npasses)
        tl->passes[tl->npasses - 1].live = false;
    count_retx(flow, tl);
    rc = handshake(flow, tl, done);
out_free:
    set_free(&c.set);
    mig_stream_dec_free(c.dec);
    if (rc)
        mig_pcap_timeline_clear(tl);
    return rc;
}

void mig_pcap_timeline_clear(struct mig_pcap_timeline *tl)
{
    if (!tl)
        return;
    free(tl->passes);
    memset(tl, 0, sizeof(*tl));
}
