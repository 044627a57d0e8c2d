/* SPDX-License-Identifier: MIT */
/*
 * check_stream.c - Check suite for ref/buf.c and the migration stream codec
 * (ref/stream_enc.c, ref/stream_dec.c).
 *
 *   core     golden header bytes from the Xen specs, the handshake strings,
 *            the cursor, encode -> decode -> re-encode round trips under many
 *            chunkings (1 byte included), every layering, golden streams in
 *            tests/data/streams/; streamed pages (on_page_part) give the
 *            same pfns and pages as whole records under every chunking
 *   limits   record length bounds before allocation, count * 8 overflow,
 *            pfn and batch limits, allocation size (streamed pages: no
 *            record buffered), allocation failures
 *   corrupt  byte flips and truncation at every offset of a small stream,
 *            targeted corruptions with their expected error, order rules,
 *            sticky errors, callback failures; streamed pages agree with
 *            whole records on every corrupted stream
 *
 * Round trips re-encode what the decoder reports and compare the bytes with
 * the original: that checks every field, the padding and the record order.
 *
 * `check_stream --write-golden DIR` (re)writes the golden streams; the
 * `golden` test fails when the encoder no longer produces them.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "stream.h"

/* ====================================================================== *
 * Helpers: RNG, allocator, stream builder, re-encoding collector
 * ====================================================================== */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

/* Counting allocator: fails call number fail_at (counting from 0) once,
 * tracks live and peak bytes. */
struct talloc {
    long calls;
    long fail_at;           /* -1: never */
    long nfail;
    size_t live;
    size_t peak;
};

#define TA_HDR 16

static void *ta_realloc(void *opaque, void *ptr, size_t size)
{
    struct talloc *t = opaque;
    long n = t->calls++;
    unsigned char *base = NULL, *nb;
    size_t old = 0;

    if (t->fail_at >= 0 && n == t->fail_at) {
        t->nfail++;
        return NULL;
    }
    if (ptr) {
        base = (unsigned char *)ptr - TA_HDR;
        memcpy(&old, base, sizeof(old));
    }
    if (size > SIZE_MAX - TA_HDR)
        return NULL;
    nb = realloc(base, size + TA_HDR);
    if (!nb)
        return NULL;
    memcpy(nb, &size, sizeof(size));
    t->live = t->live - old + size;
    if (t->live > t->peak)
        t->peak = t->live;
    return nb + TA_HDR;
}

static void ta_free(void *opaque, void *ptr)
{
    struct talloc *t = opaque;
    unsigned char *base;
    size_t old;

    if (!ptr)
        return;
    base = (unsigned char *)ptr - TA_HDR;
    memcpy(&old, base, sizeof(old));
    t->live -= old;
    free(base);
}

static void ta_init(struct talloc *t, struct mig_allocator *a, long fail_at)
{
    memset(t, 0, sizeof(*t));
    t->fail_at = fail_at;
    a->realloc_fn = ta_realloc;
    a->free_fn = ta_free;
    a->opaque = t;
}

enum outer { OUTER_XL, OUTER_LIBXL, OUTER_BARE };

struct build_opts {
    enum outer outer;
    uint64_t seed;
    unsigned nbatches;
    unsigned max_count;         /* pfns per batch, 1..MIG_MAX_BATCH */
    uint64_t nr_pages;          /* pfns drawn below this */
    unsigned data_pct;          /* % of pfns that are NOTAB (have data) */
    bool miglab;                /* guest info, workload, generator state */
    bool unknown_optional;      /* an unknown optional record per layer */
    bool checkpoint;            /* a CHECKPOINT with libxl records */
    bool xc_v2;                 /* image version 2, no STATIC_DATA_END */
    const char *json;           /* xl config; NULL: none */
};

/* Offsets of interesting places in the built stream (0: absent). */
struct layout {
    size_t xl, libxl, libxc_ctx, ihdr, dhdr, guest_info, workload, sde;
    size_t pd, tsc, hvm_ctx, hvm_params, xc_end, emu, xl_end;
    size_t pd_pages_begin, pd_pages_end;    /* page bytes of the first PD */
};

/* What a decoder should report for the built stream. */
struct expect {
    unsigned batches, pfns, data_pages, records, libxl_records;
};

struct built {
    struct mig_wbuf wb;
    struct layout at;
    struct expect ex;
};

/* Like ck_assert_int_eq(expr, 0), but silent on success, so the stream
 * builder also works outside a running test (--write-golden). */
#define OK(expr) ok_at((expr), #expr, __LINE__)

static void ok_at(int rc, const char *expr, int line)
{
    if (rc != 0)
        ck_abort_msg("line %d: %s = %d (%s)", line, expr, rc,
                     mig_strerror(rc));
}

static void fill_page(uint8_t *page, uint64_t *seed)
{
    size_t i;

    for (i = 0; i < MIG_PAGE_SIZE; i += 8)
        mig_le64enc(page + i, rng_next(seed));
}

static void build_batch(struct built *bs, const struct build_opts *o,
                        uint64_t *seed, unsigned count)
{
    static uint8_t pagebuf[MIG_MAX_BATCH][MIG_PAGE_SIZE];
    static const void *pages[MIG_MAX_BATCH];
    static uint64_t pfns[MIG_MAX_BATCH];
    static const unsigned nodata[] = { MIG_PT_XTAB, MIG_PT_XALLOC,
                                       MIG_PT_BROKEN };
    unsigned i;

    for (i = 0; i < count; i++) {
        uint64_t pfn = rng_below(seed, o->nr_pages);
        unsigned type;

        if (rng_below(seed, 100) < o->data_pct) {
            type = rng_below(seed, 4) ? MIG_PT_NOTAB : MIG_PT_L1TAB_PIN;
            fill_page(pagebuf[i], seed);
            pages[i] = pagebuf[i];
            bs->ex.data_pages++;
        } else {
            type = nodata[rng_below(seed, 3)];
            pages[i] = NULL;
        }
        pfns[i] = MIG_PFN_WORD(type, pfn);
    }
    OK(mig_stream_put_page_data(&bs->wb, pfns, pages, count));
    bs->ex.batches++;
    bs->ex.pfns += count;
}

/* Build a whole stream from o into bs (bs->wb must be initialised). */
static void build_stream(struct built *bs, const struct build_opts *o)
{
    static const struct mig_domain_header dh = {
        .type = MIG_DHDR_TYPE_X86_HVM, .page_shift = MIG_PAGE_SHIFT,
        .xen_major = 4, .xen_minor = 17,
    };
    static const uint8_t hvm_ctx[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
    static const struct mig_hvm_param params[] = {
        { 1, 0xfeffe000ULL }, { 2, 0xfefff000ULL },
    };
    static const char xs[] = "physmap/1/start_addr\0f0000000\0";
    const struct mig_tsc_info tsc = { 1, 2400000, 123456789, 3 };
    uint64_t seed = o->seed;
    struct mig_wbuf *wb = &bs->wb;
    unsigned b;

    memset(&bs->at, 0, sizeof(bs->at));
    memset(&bs->ex, 0, sizeof(bs->ex));
    if (o->outer == OUTER_XL) {
        bs->at.xl = wb->len;
        OK(mig_stream_put_xl_header(wb, o->json));
    }
    if (o->outer != OUTER_BARE) {
        bs->at.libxl = wb->len;
        OK(mig_stream_put_libxl_header(wb));
        bs->at.libxc_ctx = wb->len;
        OK(mig_stream_put_libxc_context(wb));
    }
    bs->at.ihdr = wb->len;
    OK(mig_stream_put_image_header(wb));
    if (o->xc_v2)
        wb->data[bs->at.ihdr + 15] = 2;
    bs->at.dhdr = wb->len;
    OK(mig_stream_put_domain_header(wb, &dh));
    if (o->miglab) {
        const struct mig_guest_info gi = {
            .vcpus = 2, .nr_pages = o->nr_pages, .stamp_generation = 7,
        };
        static const char spec[] = "hotcold:wss=64K,hot=0.9,rate=1M";
        static const uint8_t state[32] = { 0xde, 0xad, 0xbe, 0xef };

        bs->at.guest_info = wb->len;
        OK(mig_stream_put_guest_info(wb, &gi));
        bs->at.workload = wb->len;
        OK(mig_stream_put_workload(wb, spec, strlen(spec)));
        OK(mig_stream_put_gen_state(wb, 1, state, sizeof(state)));
        bs->ex.records += 3;
    }
    if (o->unknown_optional) {
        OK(mig_stream_put_record(wb, 0x8000abcdU, "xyz", 3));
        bs->ex.records++;
    }
    if (!o->xc_v2) {
        bs->at.sde = wb->len;
        OK(mig_stream_put_static_data_end(wb));
        bs->ex.records++;
    }
    for (b = 0; b < o->nbatches; b++) {
        size_t rec = wb->len;

        build_batch(bs, o, &seed,
                    1 + (unsigned)rng_below(&seed, o->max_count));
        if (b == 0) {
            uint32_t count = mig_le32dec(wb->data + rec + 8);

            bs->at.pd = rec;
            bs->at.pd_pages_begin = rec + 16 + 8 * (size_t)count;
            bs->at.pd_pages_end = wb->len;
        }
        if (o->checkpoint && b == 0) {
            OK(mig_stream_put_record(wb, MIG_REC_CHECKPOINT, NULL, 0));
            OK(mig_stream_put_libxl_emulator(
                wb, MIG_LIBXL_REC_EMULATOR_CONTEXT,
                MIG_LIBXL_EMU_QEMU_UPSTREAM, 0, "qemu-ckpt", 9));
            OK(mig_stream_put_libxl_record(
                wb, MIG_LIBXL_REC_CHECKPOINT_END, NULL, 0));
            bs->ex.records++;
            bs->ex.libxl_records += 2;
        }
    }
    /* Xen's saver order: TSC_INFO, HVM_CONTEXT, then HVM_PARAMS (the spec
     * lists PARAMS first; the decoder must not care). */
    bs->at.tsc = wb->len;
    OK(mig_stream_put_tsc_info(wb, &tsc));
    bs->at.hvm_ctx = wb->len;
    OK(mig_stream_put_record(wb, MIG_REC_HVM_CONTEXT, hvm_ctx,
                             sizeof(hvm_ctx)));
    bs->at.hvm_params = wb->len;
    OK(mig_stream_put_hvm_params(wb, params, 2));
    bs->ex.records += 3;
    bs->at.xc_end = wb->len;
    OK(mig_stream_put_end(wb));
    if (o->outer != OUTER_BARE) {
        OK(mig_stream_put_libxl_emulator(
            wb, MIG_LIBXL_REC_EMULATOR_XENSTORE_DATA,
            MIG_LIBXL_EMU_QEMU_UPSTREAM, 0, xs, sizeof(xs) - 1));
        bs->at.emu = wb->len;
        OK(mig_stream_put_libxl_emulator(
            wb, MIG_LIBXL_REC_EMULATOR_CONTEXT, MIG_LIBXL_EMU_QEMU_UPSTREAM,
            0, "QEVM device state", 17));
        bs->ex.libxl_records += 2;
        if (o->unknown_optional) {
            OK(mig_stream_put_libxl_record(wb, 0x80000042U, "opt", 3));
            bs->ex.libxl_records++;
        }
        bs->at.xl_end = wb->len;
        OK(mig_stream_put_libxl_end(wb));
    }
}

/* Decoder callbacks that count and re-encode everything they see. */
struct collector {
    struct mig_wbuf out;
    bool have_libxl;
    unsigned xl_headers, libxl_headers, ihdrs, dhdrs;
    unsigned batches, pfns, data_pages, records, libxl_records;
    unsigned xc_ends, xl_ends;
    uint32_t record_types[64];
    unsigned nrecord_types;
    int fail_in;                /* which callback fails: 0 none */
    struct mig_stream_dec *reenter;
    int reenter_rc;
    struct mig_wbuf *log;       /* NULL, or gets every pfn word and page */
    unsigned parts;             /* on_page_part calls */
};

enum { FAIL_NONE, FAIL_BATCH, FAIL_RECORD, FAIL_END, FAIL_PART };

static int c_xl(void *opaque, const struct mig_xl_header *h)
{
    struct collector *c = opaque;

    c->xl_headers++;
    ck_assert((h->config == NULL) == (h->config_len == 0));
    if (h->mandatory_flags & MIG_XL_FLAG_JSON) {
        ck_assert_uint_eq(strlen(h->config) + 1, h->config_len);
        return mig_stream_put_xl_header(&c->out, h->config);
    }
    return mig_stream_put_xl_header(&c->out, NULL);
}

static int c_libxl(void *opaque, const struct mig_libxl_header *h)
{
    struct collector *c = opaque;

    ck_assert_uint_eq(h->version, MIG_LIBXL_VERSION);
    c->libxl_headers++;
    c->have_libxl = true;
    return mig_stream_put_libxl_header(&c->out);
}

static int c_libxl_rec(void *opaque, uint32_t type, const uint8_t *body,
                       uint32_t len)
{
    struct collector *c = opaque;

    ck_assert_ptr_nonnull(body);
    c->libxl_records++;
    return mig_stream_put_libxl_record(&c->out, type, body, len);
}

static int c_ihdr(void *opaque, const struct mig_image_header *h)
{
    struct collector *c = opaque;
    int rc = 0;

    c->ihdrs++;
    if (c->have_libxl)
        rc = mig_stream_put_libxc_context(&c->out);
    if (rc == 0)
        rc = mig_stream_put_image_header(&c->out);
    if (rc == 0 && h->version != MIG_IHDR_VERSION)
        c->out.data[c->out.len - 9] = (uint8_t)h->version;
    return rc;
}

static int c_dhdr(void *opaque, const struct mig_domain_header *h)
{
    struct collector *c = opaque;

    c->dhdrs++;
    return mig_stream_put_domain_header(&c->out, h);
}

/* Check count pfns, point ptrs[i] at each one's page (NULL: none), count
 * them, and log them when c->log is set. */
static void take_pages(struct collector *c, const uint64_t *pfns,
                       const uint8_t *pages, uint32_t count,
                       const void **ptrs)
{
    uint32_t i, k = 0;

    ck_assert_uint_ge(count, 1);
    ck_assert_uint_le(count, MIG_MAX_BATCH);
    for (i = 0; i < count; i++) {
        ck_assert(mig_page_type_known(MIG_PFN_WORD_TYPE(pfns[i])));
        ck_assert_uint_eq(pfns[i] & MIG_PFN_RES_MASK, 0);
        if (mig_page_type_has_data(MIG_PFN_WORD_TYPE(pfns[i])))
            ptrs[i] = pages + (size_t)MIG_PAGE_SIZE * k++;
        else
            ptrs[i] = NULL;
        if (c->log) {
            OK(mig_wbuf_put_le64(c->log, pfns[i]));
            if (ptrs[i])
                OK(mig_wbuf_put_bytes(c->log, ptrs[i], MIG_PAGE_SIZE));
        }
    }
    c->pfns += count;
    c->data_pages += k;
}

static int c_batch(void *opaque, const uint64_t *pfns, const uint8_t *pages,
                   uint32_t count)
{
    static const void *ptrs[MIG_MAX_BATCH];
    struct collector *c = opaque;

    if (c->fail_in == FAIL_BATCH)
        return MIG_EIO;
    if (c->reenter)
        c->reenter_rc = mig_stream_dec_feed(c->reenter, "x", 1);
    take_pages(c, pfns, pages, count, ptrs);
    c->batches++;
    return mig_stream_put_page_data(&c->out, pfns, ptrs, count);
}

/* Streamed pages: counted and logged; the re-encoding lacks PAGE_DATA. */
static int c_part(void *opaque, const uint64_t *pfns, const uint8_t *pages,
                  uint32_t count)
{
    static const void *ptrs[MIG_MAX_BATCH];
    struct collector *c = opaque;

    if (c->fail_in == FAIL_PART)
        return MIG_EIO;
    take_pages(c, pfns, pages, count, ptrs);
    c->parts++;
    return 0;
}

static int c_rec(void *opaque, uint32_t type, const uint8_t *body,
                 uint32_t len)
{
    struct collector *c = opaque;

    if (c->fail_in == FAIL_RECORD)
        return MIG_EPROTO;
    ck_assert_ptr_nonnull(body);
    ck_assert(type != MIG_REC_PAGE_DATA && type != MIG_REC_END);
    if (c->nrecord_types < 64)
        c->record_types[c->nrecord_types++] = type;
    c->records++;
    return mig_stream_put_record(&c->out, type, body, len);
}

static int c_end(void *opaque, enum mig_stream_layer layer)
{
    struct collector *c = opaque;

    if (c->fail_in == FAIL_END)
        return -ENOSPC;
    if (layer == MIG_LAYER_LIBXC) {
        c->xc_ends++;
        return mig_stream_put_end(&c->out);
    }
    ck_assert_int_eq(layer, MIG_LAYER_LIBXL);
    c->xl_ends++;
    return mig_stream_put_libxl_end(&c->out);
}

static const struct mig_stream_dec_ops collector_ops = {
    .on_xl_header = c_xl,
    .on_libxl_header = c_libxl,
    .on_libxl_record = c_libxl_rec,
    .on_image_header = c_ihdr,
    .on_domain_header = c_dhdr,
    .on_page_batch = c_batch,
    .on_record = c_rec,
    .on_end = c_end,
};

/* The same, pages streamed; on_page_batch is set too, and must not be
 * called. */
static const struct mig_stream_dec_ops collector_part_ops = {
    .on_xl_header = c_xl,
    .on_libxl_header = c_libxl,
    .on_libxl_record = c_libxl_rec,
    .on_image_header = c_ihdr,
    .on_domain_header = c_dhdr,
    .on_page_batch = c_batch,
    .on_record = c_rec,
    .on_end = c_end,
    .on_page_part = c_part,
};

static void collector_init(struct collector *c)
{
    memset(c, 0, sizeof(*c));
    mig_wbuf_init(&c->out, NULL);
}

/*
 * Feed data in chunks: chunk > 0 fixed size; chunk == 0 random sizes from
 * seed (1..9000).  Returns the first non-zero feed result, else finish().
 */
static int feed_chunked(struct mig_stream_dec *dec, const uint8_t *data,
                        size_t len, size_t chunk, uint64_t seed)
{
    size_t off = 0;

    while (off < len) {
        size_t n = chunk ? chunk : 1 + (size_t)rng_below(&seed, 9000);
        int rc;

        if (n > len - off)
            n = len - off;
        rc = mig_stream_dec_feed(dec, data + off, n);
        if (rc)
            return rc;
        off += n;
    }
    return mig_stream_dec_finish(dec);
}

/* Decode data with the collector; returns the decode result. */
static int decode_collect_ops(const uint8_t *data, size_t len, size_t chunk,
                              const struct mig_stream_limits *lim,
                              const struct mig_stream_dec_ops *ops,
                              struct collector *c)
{
    struct mig_stream_dec *dec = mig_stream_dec_new(lim);
    int rc;

    ck_assert_ptr_nonnull(dec);
    mig_stream_dec_set_ops(dec, ops, c);
    rc = feed_chunked(dec, data, len, chunk, 42);
    /* A stream cut short is only incomplete: no error is stored. */
    if (rc && rc != MIG_EINCOMPLETE) {
        ck_assert_str_ne(mig_stream_dec_error(dec), "");
        ck_assert_int_eq(mig_stream_dec_errcode(dec), rc);
    }
    mig_stream_dec_free(dec);
    return rc;
}

static int decode_collect(const uint8_t *data, size_t len, size_t chunk,
                          const struct mig_stream_limits *lim,
                          struct collector *c)
{
    return decode_collect_ops(data, len, chunk, lim, &collector_ops, c);
}

static void check_expect(const struct collector *c, const struct built *bs)
{
    ck_assert_uint_eq(c->batches, bs->ex.batches);
    ck_assert_uint_eq(c->pfns, bs->ex.pfns);
    ck_assert_uint_eq(c->data_pages, bs->ex.data_pages);
    ck_assert_uint_eq(c->records, bs->ex.records);
    ck_assert_uint_eq(c->libxl_records, bs->ex.libxl_records);
    ck_assert_uint_eq(c->xc_ends, 1);
    ck_assert_uint_eq(c->ihdrs, 1);
    ck_assert_uint_eq(c->dhdrs, 1);
}

/* Decode and require a byte-identical re-encoding. */
static void roundtrip(const struct built *bs, size_t chunk,
                      const struct mig_stream_limits *lim)
{
    struct collector c;
    int rc;

    collector_init(&c);
    rc = decode_collect(bs->wb.data, bs->wb.len, chunk, lim, &c);
    ck_assert_msg(rc == 0, "chunk %zu: rc %d", chunk, rc);
    check_expect(&c, bs);
    ck_assert_uint_eq(c.out.len, bs->wb.len);
    ck_assert_mem_eq(c.out.data, bs->wb.data, bs->wb.len);
    mig_wbuf_fini(&c.out);
}

static const struct build_opts base_opts = {
    .outer = OUTER_XL, .seed = 1, .nbatches = 3, .max_count = 8,
    .nr_pages = 64, .data_pct = 60, .miglab = true,
    .unknown_optional = true,
    .json = "{\"c_info\":{\"type\":\"hvm\",\"name\":\"vm1\"}}",
};

/* The small stream for mutation tests: one batch, one data page. */
static void build_small(struct built *bs)
{
    struct build_opts o = base_opts;

    o.nbatches = 1;
    o.max_count = 1;
    o.data_pct = 100;
    o.seed = 3;
    mig_wbuf_init(&bs->wb, NULL);
    build_stream(bs, &o);
    ck_assert_uint_eq(bs->ex.data_pages, 1);
}

/* Checked fixture of the corrupt cases: a fresh small stream per test. */
static struct built small;

static void small_setup(void)
{
    build_small(&small);
}

static void small_teardown(void)
{
    mig_wbuf_fini(&small.wb);
}

/* ====================================================================== *
 * core
 * ====================================================================== */

struct golden_case {
    const char *name;
    int (*put)(struct mig_wbuf *wb);
    const uint8_t *bytes;
    size_t len;
};

static int put_dhdr_hvm(struct mig_wbuf *wb)
{
    const struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 17 };

    return mig_stream_put_domain_header(wb, &dh);
}

static int put_rec5(struct mig_wbuf *wb)
{
    return mig_stream_put_record(wb, MIG_REC_HVM_CONTEXT, "abcde", 5);
}

static int put_xl_small(struct mig_wbuf *wb)
{
    return mig_stream_put_xl_header(wb, "{}");
}

static int put_xl_none(struct mig_wbuf *wb)
{
    return mig_stream_put_xl_header(wb, NULL);
}

static int put_pd_xtab(struct mig_wbuf *wb)
{
    const uint64_t pfn = MIG_PFN_WORD(MIG_PT_XTAB, 5);

    return mig_stream_put_page_data(wb, &pfn, NULL, 1);
}

static int put_banner(struct mig_wbuf *wb)
{
    return mig_stream_put_handshake(wb, MIG_HS_BANNER);
}

static int put_ready(struct mig_wbuf *wb)
{
    return mig_stream_put_handshake(wb, MIG_HS_READY);
}

static int put_go(struct mig_wbuf *wb)
{
    return mig_stream_put_handshake(wb, MIG_HS_GO);
}

static int put_report1(struct mig_wbuf *wb)
{
    return mig_stream_put_report(wb, 1);
}

static int put_guest_info(struct mig_wbuf *wb)
{
    const struct mig_guest_info gi = { 2, 0x40000, 9, 0 };

    return mig_stream_put_guest_info(wb, &gi);
}

static int put_emu(struct mig_wbuf *wb)
{
    return mig_stream_put_libxl_emulator(wb, MIG_LIBXL_REC_EMULATOR_CONTEXT,
                                         MIG_LIBXL_EMU_QEMU_UPSTREAM, 0,
                                         "Q", 1);
}

/* Expected bytes written out by hand from the specs (stream_format.h). */
static const uint8_t g_ihdr[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,     /* marker */
    'X', 'E', 'N', 'F', 0x00, 0x00, 0x00, 0x03,         /* id, version BE */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* options, res */
};
static const uint8_t g_dhdr[] = {
    0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00,     /* HVM, shift 12 */
    0x04, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00,     /* Xen 4.17 */
};
static const uint8_t g_rec5[] = {
    0x09, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,     /* HVM_CONTEXT, 5 */
    'a', 'b', 'c', 'd', 'e', 0x00, 0x00, 0x00,          /* body + 3 pad */
};
static const uint8_t g_end[8] = { 0 };
static const uint8_t g_libxl[] = {
    'L', 'i', 'b', 'x', 'l', 'F', 'm', 't',
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t g_libxc_ctx[] = { 1, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t g_xl_small[] = {
    'X', 'e', 'n', ' ', 's', 'a', 'v', 'e', 'd', ' ', 'd', 'o', 'm', 'a',
    'i', 'n', ',', ' ', 'x', 'l', ' ', 'f', 'o', 'r', 'm', 'a', 't', '\n',
    ' ', '\0', ' ', '\r',
    0x04, 0x03, 0x02, 0x01,                             /* byteorder */
    0x03, 0x00, 0x00, 0x00,                             /* STREAMv2|JSON */
    0x00, 0x00, 0x00, 0x00,                             /* optional_flags */
    0x07, 0x00, 0x00, 0x00,                             /* 4 + 3 */
    0x03, 0x00, 0x00, 0x00, '{', '}', '\0',             /* config */
};
static const uint8_t g_xl_none[] = {
    'X', 'e', 'n', ' ', 's', 'a', 'v', 'e', 'd', ' ', 'd', 'o', 'm', 'a',
    'i', 'n', ',', ' ', 'x', 'l', ' ', 'f', 'o', 'r', 'm', 'a', 't', '\n',
    ' ', '\0', ' ', '\r',
    0x04, 0x03, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00,     /* STREAMv2 only */
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,                             /* config_len 0 */
};
static const uint8_t g_pd_xtab[] = {
    0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,     /* PAGE_DATA, 16 */
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* count 1 */
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0,     /* XTAB << 60 | 5 */
};
static const uint8_t g_banner[] =
    "xl migration receiver ready, send binary domain data.\n";
static const uint8_t g_ready[] = "domain received, ready to unpause";
static const uint8_t g_go[] = "domain is yours, you are cleared to unpause";
static const uint8_t g_report1[] = "my copy unpause results are as follows\0\1";
static const uint8_t g_guest_info[] = {
    0x01, 0x00, 0x00, 0x80, 0x20, 0x00, 0x00, 0x00,     /* type, 32 */
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,     /* v1, 2 vcpus */
    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,     /* 0x40000 pages */
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* generation 9 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* flags, res */
};
static const uint8_t g_emu[] = {
    0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,     /* EMU_CONTEXT, 9 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     /* upstream, 0 */
    'Q', 0, 0, 0, 0, 0, 0, 0,
};

#define GOLDEN(n, f, b, l) { n, f, b, l }
static const struct golden_case golden_cases[] = {
    GOLDEN("image header", mig_stream_put_image_header, g_ihdr, 24),
    GOLDEN("domain header", put_dhdr_hvm, g_dhdr, 16),
    GOLDEN("record padding", put_rec5, g_rec5, 16),
    GOLDEN("libxc END", mig_stream_put_end, g_end, 8),
    GOLDEN("libxl header", mig_stream_put_libxl_header, g_libxl, 16),
    GOLDEN("LIBXC_CONTEXT", mig_stream_put_libxc_context, g_libxc_ctx, 8),
    GOLDEN("libxl END", mig_stream_put_libxl_end, g_end, 8),
    GOLDEN("xl header", put_xl_small, g_xl_small, 55),
    GOLDEN("xl header, no config", put_xl_none, g_xl_none, 52),
    GOLDEN("PAGE_DATA XTAB", put_pd_xtab, g_pd_xtab, 24),
    GOLDEN("banner", put_banner, g_banner, 54),
    GOLDEN("ready", put_ready, g_ready, 34),
    GOLDEN("go", put_go, g_go, 44),
    GOLDEN("report", put_report1, g_report1, 40),
    GOLDEN("guest info", put_guest_info, g_guest_info, 40),
    GOLDEN("emulator record", put_emu, g_emu, 24),
};
#define N_GOLDEN (int)(sizeof(golden_cases) / sizeof(golden_cases[0]))

START_TEST(test_golden_bytes)
{
    const struct golden_case *g = &golden_cases[_i];
    struct mig_wbuf wb;

    mig_wbuf_init(&wb, NULL);
    ck_assert_msg(g->put(&wb) == 0, "%d %s: put failed", _i, g->name);
    ck_assert_msg(wb.len == g->len, "%d %s: %zu bytes, want %zu", _i,
                  g->name, wb.len, g->len);
    ck_assert_msg(memcmp(wb.data, g->bytes, g->len) == 0,
                  "%d %s: bytes differ", _i, g->name);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_handshake)
{
    static const struct {
        enum mig_handshake which;
        size_t len;
    } t[] = {
        { MIG_HS_BANNER, 54 }, { MIG_HS_READY, 34 },
        { MIG_HS_GO, 44 }, { MIG_HS_REPORT, 39 },
    };
    size_t i, len;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *m = mig_handshake_bytes(t[i].which, &len);

        ck_assert_uint_eq(len, t[i].len);
        OK(mig_handshake_match(t[i].which, m, len));
        ck_assert_int_eq(mig_handshake_match(t[i].which, m, len - 1),
                         MIG_EINCOMPLETE);
        ck_assert_int_eq(mig_handshake_match(t[i].which, m, 0),
                         MIG_EINCOMPLETE);
        ck_assert_int_eq(mig_handshake_match(t[i].which, "xl migrationX", 13),
                         MIG_EPROTO);
    }
    /* The banner has no NUL, the others end in one. */
    ck_assert_int_eq(mig_handshake_match(MIG_HS_BANNER, MIG_XL_BANNER, 55),
                     MIG_EPROTO);
    ck_assert_int_eq(MIG_XL_GO[MIG_XL_GO_LEN - 1], '\0');
    {
        struct mig_wbuf wb;

        mig_wbuf_init(&wb, NULL);
        ck_assert_int_eq(mig_stream_put_handshake(&wb, MIG_HS_REPORT),
                         MIG_EINVAL);
        ck_assert_uint_eq(wb.len, 0);
        mig_wbuf_fini(&wb);
    }
}
END_TEST

START_TEST(test_cursor)
{
    static const uint8_t d[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09 };
    struct mig_buf b;
    uint64_t v64;
    uint32_t v32;
    uint16_t v16;
    uint8_t v8, tmp[4];
    const uint8_t *p;

    mig_buf_init(&b, d, sizeof(d));
    OK(mig_buf_peek_le32(&b, &v32));
    ck_assert_uint_eq(v32, 0x04030201U);
    OK(mig_buf_peek_be32(&b, &v32));
    ck_assert_uint_eq(v32, 0x01020304U);
    OK(mig_buf_get_le64(&b, &v64));
    ck_assert_uint_eq(v64, 0x0807060504030201ULL);
    ck_assert_uint_eq(mig_buf_remaining(&b), 1);
    ck_assert_int_eq(mig_buf_get_le16(&b, &v16), MIG_EINCOMPLETE);
    ck_assert_uint_eq(v16, 0);
    ck_assert_uint_eq(mig_buf_offset(&b), 8);       /* did not move */
    OK(mig_buf_get_u8(&b, &v8));
    ck_assert_uint_eq(v8, 9);
    ck_assert_int_eq(mig_buf_get_u8(&b, &v8), MIG_EINCOMPLETE);
    ck_assert_int_eq(mig_buf_peek_u8(&b, &v8), MIG_EINCOMPLETE);

    mig_buf_init_whole(&b, d, 3);
    OK(mig_buf_get_be16(&b, &v16));
    ck_assert_uint_eq(v16, 0x0102);
    ck_assert_int_eq(mig_buf_get_be32(&b, &v32), MIG_ECORRUPT);
    ck_assert_int_eq(mig_buf_get_bytes(&b, tmp, 2), MIG_ECORRUPT);
    ck_assert_int_eq(mig_buf_get_ptr(&b, &p, 2), MIG_ECORRUPT);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(mig_buf_skip(&b, 2), MIG_ECORRUPT);
    OK(mig_buf_skip(&b, 1));
    OK(mig_buf_get_bytes(&b, NULL, 0));

    mig_buf_init(&b, d, 3);
    ck_assert_int_eq(mig_buf_expect(&b, "\x01\x02\x03\x04", 4),
                     MIG_EINCOMPLETE);
    ck_assert_int_eq(mig_buf_expect(&b, "\x01\x09\x03\x04", 4), MIG_ECORRUPT);
    OK(mig_buf_expect(&b, "\x01\x02", 2));
    ck_assert_uint_eq(mig_buf_offset(&b), 2);
    OK(mig_buf_get_be64(&(struct mig_buf){ d, 8, 0, MIG_ECORRUPT }, &v64));
    ck_assert_uint_eq(v64, 0x0102030405060708ULL);

    mig_buf_init(&b, NULL, 0);
    ck_assert_int_eq(mig_buf_get_le32(&b, &v32), MIG_EINCOMPLETE);
}
END_TEST

START_TEST(test_endian)
{
    uint8_t p[8];

    mig_le16enc(p, 0x1234);
    ck_assert(p[0] == 0x34 && p[1] == 0x12 && mig_le16dec(p) == 0x1234);
    mig_be16enc(p, 0x1234);
    ck_assert(p[0] == 0x12 && mig_be16dec(p) == 0x1234);
    mig_le32enc(p, 0x89abcdefU);
    ck_assert(p[0] == 0xef && p[3] == 0x89 && mig_le32dec(p) == 0x89abcdefU);
    mig_be32enc(p, 0x89abcdefU);
    ck_assert(p[0] == 0x89 && mig_be32dec(p) == 0x89abcdefU);
    mig_le64enc(p, 0x0123456789abcdefULL);
    ck_assert(p[0] == 0xef && p[7] == 0x01);
    ck_assert_uint_eq(mig_le64dec(p), 0x0123456789abcdefULL);
    mig_be64enc(p, 0x0123456789abcdefULL);
    ck_assert(p[0] == 0x01 && p[7] == 0xef);
    ck_assert_uint_eq(mig_be64dec(p), 0x0123456789abcdefULL);
}
END_TEST

START_TEST(test_wbuf)
{
    struct mig_wbuf wb;
    size_t i;

    mig_wbuf_init(&wb, NULL);
    OK(mig_wbuf_put_u8(&wb, 0xaa));
    OK(mig_wbuf_pad(&wb, 8));
    ck_assert_uint_eq(wb.len, 8);
    OK(mig_wbuf_pad(&wb, 8));
    ck_assert_uint_eq(wb.len, 8);
    for (i = 1; i < 8; i++)
        ck_assert_uint_eq(wb.data[i], 0);
    OK(mig_wbuf_put_be16(&wb, 0x0102));
    OK(mig_wbuf_put_le16(&wb, 0x0102));
    ck_assert(wb.data[8] == 1 && wb.data[9] == 2 && wb.data[10] == 2);
    for (i = 0; i < 100000; i++)
        OK(mig_wbuf_put_le32(&wb, (uint32_t)i));
    ck_assert_uint_eq(wb.len, 12 + 400000);
    ck_assert_uint_eq(mig_le32dec(wb.data + 12 + 4 * 99999), 99999);
    mig_wbuf_patch_le32(&wb, 0, 0x11223344U);
    ck_assert_uint_eq(wb.data[0], 0x44);
    ck_assert_int_eq(mig_wbuf_reserve(&wb, SIZE_MAX), MIG_ENOMEM);
    mig_wbuf_truncate(&wb, 4);
    ck_assert_uint_eq(wb.len, 4);
    mig_wbuf_reset(&wb);
    ck_assert_uint_eq(wb.len, 0);
    mig_wbuf_fini(&wb);
    mig_wbuf_fini(&wb);                 /* twice is fine */
    ck_assert_ptr_null(wb.data);
}
END_TEST

/* Round trips: layering x chunking. */
static const struct {
    const char *name;
    enum outer outer;
    bool checkpoint, v2, nojson;
} rt_layers[] = {
    { "xl", OUTER_XL, false, false, false },
    { "xl without config", OUTER_XL, false, false, true },
    { "libxl", OUTER_LIBXL, false, false, false },
    { "bare libxc", OUTER_BARE, false, false, false },
    { "checkpoint", OUTER_LIBXL, true, false, false },
    { "libxc v2", OUTER_XL, false, true, false },
};
static const size_t rt_chunks[] = { (size_t)-1, 1, 3, 7, 8, 4095, 4097, 0 };
#define N_RT_LAYERS (int)(sizeof(rt_layers) / sizeof(rt_layers[0]))
#define N_RT_CHUNKS (int)(sizeof(rt_chunks) / sizeof(rt_chunks[0]))

START_TEST(test_roundtrip)
{
    int li = _i / N_RT_CHUNKS, ci = _i % N_RT_CHUNKS;
    struct build_opts o = base_opts;
    struct built bs;
    size_t chunk = rt_chunks[ci];

    o.outer = rt_layers[li].outer;
    o.checkpoint = rt_layers[li].checkpoint;
    o.xc_v2 = rt_layers[li].v2;
    if (rt_layers[li].nojson)
        o.json = NULL;
    o.seed = 100 + (uint64_t)_i;
    /* 1-byte feeding is slow under valgrind: keep that stream smaller. */
    o.nbatches = chunk == 1 ? 2 : 6;
    o.max_count = chunk == 1 ? 4 : 40;
    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &o);
    if (chunk == (size_t)-1)
        chunk = bs.wb.len;
    roundtrip(&bs, chunk, NULL);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_roundtrip_random)
{
    /* Random pfns, types, pages, batch sizes up to MIG_MAX_BATCH. */
    struct build_opts o = base_opts;
    struct built bs;

    o.seed = 7777 + (uint64_t)_i;
    o.nbatches = 3;
    o.max_count = MIG_MAX_BATCH;
    o.nr_pages = 1u << 20;
    o.data_pct = (unsigned)(_i * 37 % 101);
    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &o);
    roundtrip(&bs, bs.wb.len, NULL);
    roundtrip(&bs, 0, NULL);            /* random chunk sizes */
    roundtrip(&bs, 65536, NULL);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

/* Streamed pages: chunk sizes around a page (0: random). */
static const size_t sp_chunks[] = { (size_t)-1, 1, 7, 4095, 4096, 4097,
                                    65536, 0 };
#define N_SP_CHUNKS (int)(sizeof(sp_chunks) / sizeof(sp_chunks[0]))

START_TEST(test_stream_pages)
{
    /* The same pfns and pages, in order, as whole records give, however
     * the stream is cut; records with no data pages and pfns without data
     * at either end of a record included. */
    size_t chunk = sp_chunks[_i];
    struct build_opts o = base_opts;
    struct collector whole, part;
    struct mig_wbuf wlog, plog;
    struct built bs;

    o.seed = 500 + (uint64_t)_i;
    o.nbatches = chunk == 1 ? 4 : 12;
    o.max_count = chunk == 1 ? 6 : 300;
    o.nr_pages = 1u << 16;
    o.data_pct = 50;
    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &o);
    if (chunk == (size_t)-1)
        chunk = bs.wb.len;
    mig_wbuf_init(&wlog, NULL);
    mig_wbuf_init(&plog, NULL);
    collector_init(&whole);
    whole.log = &wlog;
    OK(decode_collect(bs.wb.data, bs.wb.len, bs.wb.len, NULL, &whole));
    collector_init(&part);
    part.log = &plog;
    OK(decode_collect_ops(bs.wb.data, bs.wb.len, chunk, NULL,
                          &collector_part_ops, &part));
    ck_assert_uint_eq(part.batches, 0);
    ck_assert_uint_ge(part.parts, bs.ex.batches);
    if (chunk < 4096)
        ck_assert_uint_gt(part.parts, bs.ex.batches);
    ck_assert_uint_eq(part.pfns, bs.ex.pfns);
    ck_assert_uint_eq(part.data_pages, bs.ex.data_pages);
    ck_assert_uint_eq(part.records, bs.ex.records);
    ck_assert_uint_eq(part.libxl_records, bs.ex.libxl_records);
    ck_assert_uint_eq(part.xl_ends, 1);
    ck_assert_uint_gt(wlog.len, 0);
    ck_assert_uint_eq(plog.len, wlog.len);
    ck_assert_mem_eq(plog.data, wlog.data, wlog.len);
    mig_wbuf_fini(&whole.out);
    mig_wbuf_fini(&part.out);
    mig_wbuf_fini(&wlog);
    mig_wbuf_fini(&plog);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_order_hvm)
{
    /* HVM_CONTEXT before HVM_PARAMS, as Xen's saver writes them. */
    struct build_opts o = base_opts;
    struct collector c;
    struct built bs;
    unsigned i, ctx = 0, params = 0;

    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &o);
    collector_init(&c);
    OK(decode_collect(bs.wb.data, bs.wb.len, bs.wb.len, NULL, &c));
    for (i = 0; i < c.nrecord_types; i++) {
        if (c.record_types[i] == MIG_REC_HVM_CONTEXT)
            ctx = i + 1;
        if (c.record_types[i] == MIG_REC_HVM_PARAMS)
            params = i + 1;
    }
    ck_assert(ctx && params && ctx < params);
    mig_wbuf_fini(&c.out);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_feed_some_trailing)
{
    struct mig_stream_dec *dec;
    struct built bs;
    size_t used, len;

    build_small(&bs);
    len = bs.wb.len;
    OK(mig_stream_put_handshake(&bs.wb, MIG_HS_GO));

    dec = mig_stream_dec_new(NULL);
    ck_assert_ptr_nonnull(dec);
    OK(mig_stream_dec_feed_some(dec, bs.wb.data, bs.wb.len, &used));
    ck_assert_uint_eq(used, len);
    ck_assert(mig_stream_dec_done(dec));
    OK(mig_stream_dec_finish(dec));
    ck_assert_uint_eq(mig_stream_dec_offset(dec), len);
    OK(mig_handshake_match(MIG_HS_GO, bs.wb.data + used, bs.wb.len - used));
    /* More after the end: feed_some takes none, feed refuses. */
    OK(mig_stream_dec_feed_some(dec, "x", 1, &used));
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(mig_stream_dec_feed(dec, "x", 1), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec), "trailing"));
    mig_stream_dec_free(dec);

    /* The same in one feed() call. */
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, bs.wb.data, bs.wb.len),
                     MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec), "44 bytes"));
    mig_stream_dec_free(dec);
    mig_stream_dec_free(NULL);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_no_ops)
{
    /* Without callbacks everything is dropped but still validated. */
    struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
    struct built bs;

    build_small(&bs);
    OK(feed_chunked(dec, bs.wb.data, bs.wb.len, 5, 0));
    ck_assert_str_eq(mig_stream_dec_error(dec), "");
    ck_assert_int_eq(mig_stream_dec_errcode(dec), 0);
    mig_stream_dec_free(dec);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_parse_helpers)
{
    struct mig_guest_info gi;
    struct mig_tsc_info t;
    const uint8_t *state;
    uint32_t fmt;
    size_t n;

    OK(mig_stream_parse_guest_info(g_guest_info + 8, 32, &gi));
    ck_assert_uint_eq(gi.vcpus, 2);
    ck_assert_uint_eq(gi.nr_pages, 0x40000);
    ck_assert_uint_eq(gi.stamp_generation, 9);
    ck_assert_int_eq(mig_stream_parse_guest_info(g_guest_info + 8, 31, &gi),
                     MIG_ECORRUPT);
    ck_assert_uint_eq(gi.vcpus, 0);
    ck_assert_int_eq(mig_stream_parse_guest_info(g_guest_info, 32, &gi),
                     MIG_ECORRUPT);             /* version 0x80000001 */
    ck_assert_int_eq(mig_stream_parse_tsc_info(g_guest_info, 23, &t),
                     MIG_ECORRUPT);
    OK(mig_stream_parse_tsc_info(g_guest_info + 8, 24, &t));
    ck_assert_uint_eq(t.mode, 1);
    ck_assert_uint_eq(t.nsec, 0x40000);
    OK(mig_stream_parse_gen_state("\x05\0\0\0\0\0\0\0ab", 10, &fmt, &state,
                                  &n));
    ck_assert_uint_eq(fmt, 5);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(state[1], 'b');
    ck_assert_int_eq(mig_stream_parse_gen_state("\x05\0\0", 3, &fmt, &state,
                                                &n), MIG_ECORRUPT);
    ck_assert_ptr_null(state);
    ck_assert_str_eq(mig_stream_rec_name(MIG_REC_PAGE_DATA), "PAGE_DATA");
    ck_assert_str_eq(mig_stream_rec_name(MIG_REC_MIGLAB_WORKLOAD),
                     "MIGLAB_WORKLOAD");
    ck_assert_str_eq(mig_stream_rec_name(0x13), "reserved");
    ck_assert_str_eq(mig_stream_rec_name(0x80001234U), "optional");
    ck_assert_str_eq(mig_stream_libxl_rec_name(1), "LIBXC_CONTEXT");
    ck_assert(!mig_page_type_known(5) && !mig_page_type_known(8));
    ck_assert(mig_page_type_known(MIG_PT_XTAB));
    ck_assert(!mig_page_type_has_data(MIG_PT_XALLOC));
    ck_assert(mig_page_type_has_data(MIG_PT_L4TAB_PIN));
}
END_TEST

START_TEST(test_encoder_einval)
{
    static const uint8_t page[MIG_PAGE_SIZE];
    const void *pages[2] = { page, NULL };
    uint64_t pfns[2] = { MIG_PFN_WORD(MIG_PT_NOTAB, 1),
                         MIG_PFN_WORD(MIG_PT_NOTAB, 2) };
    const struct mig_domain_header bad_dh = { 0, 12, 4, 17 };
    const struct mig_domain_header bad_shift = { 2, 16, 4, 17 };
    const struct mig_guest_info bad_gi = { 0, 1, 0, 0 };
    struct mig_wbuf wb;

    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_page_data(&wb, pfns, pages, 0),
                     MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_page_data(&wb, pfns, pages, 2),
                     MIG_EINVAL);               /* pages[1] missing */
    pfns[1] = MIG_PFN_WORD(5, 2);
    ck_assert_int_eq(mig_stream_put_page_data(&wb, pfns, pages, 2),
                     MIG_EINVAL);               /* reserved type */
    pfns[1] = MIG_PFN_WORD(MIG_PT_XTAB, 2) | (1ULL << 55);
    ck_assert_int_eq(mig_stream_put_page_data(&wb, pfns, pages, 2),
                     MIG_EINVAL);               /* reserved bits */
    ck_assert_int_eq(mig_stream_put_page_data(&wb, pfns, pages,
                                              MIG_MAX_BATCH + 1), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_domain_header(&wb, &bad_dh), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_domain_header(&wb, &bad_shift),
                     MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_guest_info(&wb, &bad_gi), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_workload(&wb, "a\0b", 3), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_workload(&wb, "", 0), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_record(&wb, 9, NULL, 3), MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_record(&wb, 9, page,
                                           (size_t)MIG_REC_LENGTH_MAX + 1),
                     MIG_EINVAL);
    ck_assert_int_eq(mig_stream_put_libxl_emulator(&wb, 1, 0, 0, NULL, 0),
                     MIG_EINVAL);
    ck_assert_uint_eq(wb.len, 0);               /* nothing was appended */
    mig_wbuf_fini(&wb);
}
END_TEST

/* ---- golden streams ----------------------------------------------------- */

static const struct {
    const char *file;
    struct build_opts o;
} golden_streams[] = {
    { "xl_full.bin",
      { .outer = OUTER_XL, .seed = 11, .nbatches = 2, .max_count = 6,
        .nr_pages = 64, .data_pct = 50, .miglab = true,
        .json = "{\"c_info\":{\"type\":\"hvm\",\"name\":\"golden\"}}" } },
    { "libxl_plain.bin",
      { .outer = OUTER_LIBXL, .seed = 12, .nbatches = 2, .max_count = 3,
        .nr_pages = 16, .data_pct = 70 } },
    { "libxc_bare.bin",
      { .outer = OUTER_BARE, .seed = 13, .nbatches = 1, .max_count = 4,
        .nr_pages = 16, .data_pct = 50, .miglab = true } },
    { "checkpoint.bin",
      { .outer = OUTER_LIBXL, .seed = 14, .nbatches = 2, .max_count = 3,
        .nr_pages = 32, .data_pct = 40, .checkpoint = true } },
    { "optional_v2.bin",
      { .outer = OUTER_XL, .seed = 15, .nbatches = 2, .max_count = 4,
        .nr_pages = 32, .data_pct = 30, .miglab = true,
        .unknown_optional = true, .xc_v2 = true, .json = "{}" } },
};
#define N_GOLDEN_STREAMS \
    (int)(sizeof(golden_streams) / sizeof(golden_streams[0]))

static char *golden_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);

    if (!p)
        ck_abort_msg("out of memory");
    snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (!f)
        return NULL;
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert(n >= 0 && n < (1L << 20));
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

START_TEST(test_golden_streams)
{
    const char *src = getenv("MIGLAB_SRCDIR");
    char dir[4096];
    struct built bs;
    uint8_t *file;
    size_t len = 0;
    char *path;

    snprintf(dir, sizeof(dir), "%s/tests/data/streams", src ? src : ".");
    path = golden_path(dir, golden_streams[_i].file);
    file = read_file(path, &len);
    ck_assert_msg(file != NULL, "%d: cannot read %s", _i, path);
    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &golden_streams[_i].o);
    ck_assert_msg(len == bs.wb.len && memcmp(file, bs.wb.data, len) == 0,
                  "%d %s: encoder output differs from the golden stream "
                  "(regenerate with --write-golden only if the change is "
                  "intended)", _i, path);
    ck_assert_uint_lt(len, 64 * 1024);
    roundtrip(&bs, 1, NULL);
    free(file);
    free(path);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

static int write_golden(const char *dir)
{
    int i;

    for (i = 0; i < N_GOLDEN_STREAMS; i++) {
        char *path = golden_path(dir, golden_streams[i].file);
        struct built bs;
        FILE *f;

        mig_wbuf_init(&bs.wb, NULL);
        build_stream(&bs, &golden_streams[i].o);
        f = fopen(path, "wb");
        if (!f || fwrite(bs.wb.data, 1, bs.wb.len, f) != bs.wb.len ||
            fclose(f) != 0) {
            perror(path);
            return 1;
        }
        printf("%s: %zu bytes\n", path, bs.wb.len);
        free(path);
        mig_wbuf_fini(&bs.wb);
    }
    return 0;
}

/* ====================================================================== *
 * limits
 * ====================================================================== */

/* A bare libxc image prefix: ihdr, dhdr, STATIC_DATA_END. */
static void bare_prefix(struct mig_wbuf *wb)
{
    const struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 17 };

    mig_wbuf_init(wb, NULL);
    OK(mig_stream_put_image_header(wb));
    OK(mig_stream_put_domain_header(wb, &dh));
    OK(mig_stream_put_static_data_end(wb));
}

/* Decode with a counting allocator and ops (may be NULL) on c; returns the
 * rc, peak bytes in *peak. */
static int decode_counted_ops(const uint8_t *d, size_t len, size_t chunk,
                              struct mig_stream_limits *lim, size_t *peak,
                              char *msg, size_t msglen,
                              const struct mig_stream_dec_ops *ops,
                              struct collector *c)
{
    struct mig_allocator a;
    struct talloc t;
    struct mig_stream_dec *dec;
    int rc;

    ta_init(&t, &a, -1);
    lim->alloc = &a;
    dec = mig_stream_dec_new(lim);
    ck_assert_ptr_nonnull(dec);
    mig_stream_dec_set_ops(dec, ops, c);
    rc = feed_chunked(dec, d, len, chunk, 1);
    if (msg)
        snprintf(msg, msglen, "%s", mig_stream_dec_error(dec));
    ck_assert_uint_eq(mig_stream_dec_footprint(dec), t.peak);
    mig_stream_dec_free(dec);
    ck_assert_uint_eq(t.live, 0);
    *peak = t.peak;
    lim->alloc = NULL;
    return rc;
}

/* The same without callbacks. */
static int decode_counted(const uint8_t *d, size_t len, size_t chunk,
                          struct mig_stream_limits *lim, size_t *peak,
                          char *msg, size_t msglen)
{
    return decode_counted_ops(d, len, chunk, lim, peak, msg, msglen, NULL,
                              NULL);
}

START_TEST(test_rec_length_max)
{
    struct mig_stream_limits lim;
    struct mig_wbuf wb;
    char msg[256];
    size_t peak;

    /* A header claiming MIG_REC_LENGTH_MAX + 1 is refused on the header. */
    bare_prefix(&wb);
    OK(mig_wbuf_put_le32(&wb, MIG_REC_HVM_CONTEXT));
    OK(mig_wbuf_put_le32(&wb, MIG_REC_LENGTH_MAX + 1));
    OK(mig_wbuf_put_zeros(&wb, 64));
    mig_stream_limits_default(&lim);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, wb.len, &lim, &peak,
                                    msg, sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "exceeds max 134217728"));
    ck_assert_uint_lt(peak, 4096);              /* nothing was buffered */

    /* Exactly MIG_REC_LENGTH_MAX is allowed; with 64 bytes of it fed the
     * decoder holds about 64 bytes, not 128 MiB. */
    mig_wbuf_patch_le32(&wb, wb.len - 68, MIG_REC_LENGTH_MAX);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, 7, &lim, &peak, msg,
                                    sizeof(msg)), MIG_EINCOMPLETE);
    ck_assert_uint_lt(peak, 4096);

    /* A caller limit below the format maximum. */
    lim.max_rec_len = 1024;
    mig_wbuf_patch_le32(&wb, wb.len - 68, 1025);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, wb.len, &lim, &peak,
                                    msg, sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "exceeds max 1024"));

    /* Limits above the format maximum are clamped to it. */
    lim.max_rec_len = UINT32_MAX;
    mig_wbuf_patch_le32(&wb, wb.len - 68, MIG_REC_LENGTH_MAX + 8);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, wb.len, &lim, &peak,
                                    msg, sizeof(msg)), MIG_ECORRUPT);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_libxl_rec_length_max)
{
    struct mig_stream_limits lim;
    struct mig_wbuf wb;
    char msg[256];
    size_t peak;

    mig_wbuf_init(&wb, NULL);
    OK(mig_stream_put_libxl_header(&wb));
    OK(mig_wbuf_put_le32(&wb, MIG_LIBXL_REC_EMULATOR_CONTEXT));
    OK(mig_wbuf_put_le32(&wb, 0xffffffffU));
    mig_stream_limits_default(&lim);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, 1, &lim, &peak, msg,
                                    sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "libxl record 0x00000003"));
    ck_assert_uint_lt(peak, 4096);
    mig_wbuf_fini(&wb);
}
END_TEST

/* PAGE_DATA header cases: count and length against the limits. */
static const struct {
    const char *name;
    uint32_t count;
    uint32_t len;
    uint32_t max_batch;
    const char *msg;
} pd_limit_cases[] = {
    { "count 0", 0, 16, 0, "no pfns" },
    { "count > max batch", MIG_MAX_BATCH + 1, 16, 0, "exceeds max 1024" },
    /* count * 8 overflows 32 bits: 0x20000001 * 8 = 0x100000008. */
    { "count*8 overflow", 0x20000001U, 16, UINT32_MAX, "exceeds max" },
    { "count*8 > length", 0x00ffffffU, 16, UINT32_MAX, "too short" },
    { "length < fixed part", 1, 4, 0, "bad length 4" },
    { "count*8 wraps to fit", 0x20000000U, 8, UINT32_MAX, "exceeds max" },
};
#define N_PD_LIMIT (int)(sizeof(pd_limit_cases) / sizeof(pd_limit_cases[0]))

START_TEST(test_pd_limits)
{
    struct mig_stream_limits lim;
    struct mig_wbuf wb;
    char msg[256];
    size_t peak;

    bare_prefix(&wb);
    OK(mig_wbuf_put_le32(&wb, MIG_REC_PAGE_DATA));
    OK(mig_wbuf_put_le32(&wb, pd_limit_cases[_i].len));
    OK(mig_wbuf_put_le32(&wb, pd_limit_cases[_i].count));
    OK(mig_wbuf_put_le32(&wb, 0));
    OK(mig_wbuf_put_zeros(&wb, 8));
    mig_stream_limits_default(&lim);
    lim.max_batch = pd_limit_cases[_i].max_batch;
    ck_assert_msg(decode_counted(wb.data, wb.len, wb.len, &lim, &peak, msg,
                                 sizeof(msg)) == MIG_ECORRUPT,
                  "%d %s", _i, pd_limit_cases[_i].name);
    ck_assert_msg(strstr(msg, pd_limit_cases[_i].msg) != NULL,
                  "%d %s: message \"%s\"", _i, pd_limit_cases[_i].name, msg);
    ck_assert_uint_lt(peak, 4096);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_pfn_limit)
{
    static const uint8_t page[MIG_PAGE_SIZE];
    const void *pages[1] = { page };
    struct mig_stream_limits lim;
    struct mig_wbuf wb;
    uint64_t pfn;
    char msg[256];
    size_t peak, base;

    bare_prefix(&wb);
    base = wb.len;
    mig_stream_limits_default(&lim);
    lim.max_pfn = 1000;

    pfn = MIG_PFN_WORD(MIG_PT_NOTAB, 999);
    OK(mig_stream_put_page_data(&wb, &pfn, pages, 1));
    OK(mig_stream_put_end(&wb));
    OK(decode_counted(wb.data, wb.len, wb.len, &lim, &peak, msg,
                      sizeof(msg)));

    mig_wbuf_truncate(&wb, base);
    pfn = MIG_PFN_WORD(MIG_PT_NOTAB, 1000);
    OK(mig_stream_put_page_data(&wb, &pfn, pages, 1));
    OK(mig_stream_put_end(&wb));
    ck_assert_int_eq(decode_counted(wb.data, wb.len, 3, &lim, &peak, msg,
                                    sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "pfn 0x3e8 (index 0) beyond max"));

    /* The largest pfn the format can carry, with the default limit. */
    mig_wbuf_truncate(&wb, base);
    pfn = MIG_PFN_WORD(MIG_PT_XTAB, MIG_PFN_MASK);
    OK(mig_stream_put_page_data(&wb, &pfn, NULL, 1));
    OK(mig_stream_put_end(&wb));
    mig_stream_limits_default(&lim);
    OK(decode_counted(wb.data, wb.len, wb.len, &lim, &peak, msg,
                      sizeof(msg)));
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_config_limit)
{
    struct mig_stream_limits lim;
    struct mig_wbuf wb;
    char msg[256];
    char json[200];
    size_t peak;

    memset(json, 'a', sizeof(json) - 1);
    json[sizeof(json) - 1] = '\0';
    mig_wbuf_init(&wb, NULL);
    OK(mig_stream_put_xl_header(&wb, json));
    mig_stream_limits_default(&lim);
    lim.max_config_len = 199;
    ck_assert_int_eq(decode_counted(wb.data, wb.len, wb.len, &lim, &peak,
                                    msg, sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "xl optional data length 204"));
    ck_assert_uint_lt(peak, 4096);
    lim.max_config_len = 200;
    ck_assert_int_eq(decode_counted(wb.data, wb.len, wb.len, &lim, &peak,
                                    msg, sizeof(msg)), MIG_EINCOMPLETE);

    /* A huge optional_data_len costs nothing before it is refused. */
    mig_wbuf_patch_le32(&wb, 44, 0xfffffff0U);
    mig_stream_limits_default(&lim);
    ck_assert_int_eq(decode_counted(wb.data, wb.len, 1, &lim, &peak, msg,
                                    sizeof(msg)), MIG_ECORRUPT);
    ck_assert_uint_lt(peak, 4096);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_guest_info_limit)
{
    struct mig_stream_limits lim;
    struct built bs;
    char msg[256];
    size_t peak;

    build_small(&bs);
    mig_stream_limits_default(&lim);
    lim.max_pfn = 63;           /* the guest info says 64 pages */
    ck_assert_int_eq(decode_counted(bs.wb.data, bs.wb.len, bs.wb.len, &lim,
                                    &peak, msg, sizeof(msg)), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(msg, "guest of 64 pages exceeds max_pfn"));
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_alloc_size)
{
    /* Full batches of 1024 data pages: the decoder holds at most one
     * record's pages plus its pfns, however the stream is chunked, and
     * nothing extra when whole records arrive at once.  Streaming the
     * pages, it holds at most one page of them. */
    struct build_opts o = base_opts;
    struct mig_stream_limits lim;
    struct built bs;
    size_t peak;
    const size_t batch = (size_t)MIG_MAX_BATCH * MIG_PAGE_SIZE;

    o.outer = OUTER_LIBXL;
    o.nbatches = 3;
    o.max_count = MIG_MAX_BATCH;
    o.nr_pages = 1u << 16;
    o.data_pct = 100;
    mig_wbuf_init(&bs.wb, NULL);
    build_stream(&bs, &o);
    mig_stream_limits_default(&lim);
    struct collector c;
    size_t batch_peak;

    OK(decode_counted(bs.wb.data, bs.wb.len, 1000, &lim, &peak, NULL, 0));
    ck_assert_uint_le(peak, batch + MIG_MAX_BATCH * 8 + 4096);
    batch_peak = peak;
    collector_init(&c);
    OK(decode_counted_ops(bs.wb.data, bs.wb.len, 1000, &lim, &peak, NULL, 0,
                          &collector_part_ops, &c));
    ck_assert_uint_eq(c.data_pages, bs.ex.data_pages);
    /* The pfns, a partial pfn unit and a partial page. */
    ck_assert_uint_le(peak, 2 * MIG_MAX_BATCH * 8 + 2 * MIG_PAGE_SIZE);
    /* Against whole records (2.5 MB here): two orders of magnitude. */
    ck_assert_uint_gt(batch_peak, 100 * peak);
    mig_wbuf_fini(&c.out);
    OK(decode_counted(bs.wb.data, bs.wb.len, bs.wb.len, &lim, &peak, NULL,
                      0));
    ck_assert_uint_le(peak, MIG_MAX_BATCH * 8 + 4096);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_alloc_fail_decoder)
{
    /* Fail every allocation in turn: each run ends in MIG_ENOMEM (or a
     * NULL constructor) with nothing leaked, until none is left to fail. */
    struct mig_stream_limits lim;
    struct built bs;
    long n;

    build_small(&bs);
    for (n = 0;; n++) {
        struct mig_allocator a;
        struct mig_stream_dec *dec;
        struct collector c;
        struct talloc t;
        int rc;

        ta_init(&t, &a, n);
        mig_stream_limits_default(&lim);
        lim.alloc = &a;
        dec = mig_stream_dec_new(&lim);
        if (!dec) {
            ck_assert_int_eq(n, 0);
            continue;
        }
        collector_init(&c);
        mig_stream_dec_set_ops(dec, &collector_ops, &c);
        rc = feed_chunked(dec, bs.wb.data, bs.wb.len, 5, 0);
        if (t.nfail) {
            ck_assert_int_eq(rc, MIG_ENOMEM);
            ck_assert_int_eq(mig_stream_dec_feed(dec, "x", 1), MIG_ENOMEM);
        } else {
            OK(rc);
        }
        mig_stream_dec_free(dec);
        mig_wbuf_fini(&c.out);
        ck_assert_uint_eq(t.live, 0);
        if (!t.nfail)
            break;
        ck_assert_int_lt(n, 200);
    }
    ck_assert_int_gt(n, 2);
    mig_wbuf_fini(&bs.wb);
}
END_TEST

START_TEST(test_alloc_fail_encoder)
{
    /* A failed put leaves the buffer as it was. */
    static const uint8_t page[MIG_PAGE_SIZE];
    const void *pages[1] = { page };
    const uint64_t pfn = MIG_PFN_WORD(MIG_PT_NOTAB, 1);
    struct mig_allocator a;
    struct mig_wbuf wb;
    struct talloc t;
    size_t before;

    ta_init(&t, &a, 1);
    mig_wbuf_init(&wb, &a);
    OK(mig_stream_put_image_header(&wb));       /* call 0: 256 bytes */
    before = wb.len;
    ck_assert_int_eq(mig_stream_put_page_data(&wb, &pfn, pages, 1),
                     MIG_ENOMEM);               /* call 1 fails */
    ck_assert_uint_eq(wb.len, before);
    OK(mig_stream_put_page_data(&wb, &pfn, pages, 1));
    ck_assert_uint_eq(wb.len, before + 8 + 16 + MIG_PAGE_SIZE);
    mig_wbuf_fini(&wb);
    ck_assert_uint_eq(t.live, 0);
}
END_TEST

/* ====================================================================== *
 * corrupt
 * ====================================================================== */

/* Decode d whole with pages in records, then in chunks with the pages
 * streamed: the same result, and the same pfns and pages (on failure, the
 * streamed ones may go on into the record that failed). */
static void streamed_agrees(const uint8_t *d, size_t len, size_t chunk,
                            const struct mig_stream_limits *lim)
{
    struct collector whole, part;
    struct mig_wbuf wlog, plog;
    int rc;

    mig_wbuf_init(&wlog, NULL);
    mig_wbuf_init(&plog, NULL);
    collector_init(&whole);
    whole.log = &wlog;
    collector_init(&part);
    part.log = &plog;
    rc = decode_collect(d, len, len, lim, &whole);
    ck_assert_int_eq(decode_collect_ops(d, len, chunk, lim,
                                        &collector_part_ops, &part), rc);
    if (rc == 0)
        ck_assert_uint_eq(plog.len, wlog.len);
    ck_assert_uint_ge(plog.len, wlog.len);
    if (wlog.len)
        ck_assert_mem_eq(plog.data, wlog.data, wlog.len);
    mig_wbuf_fini(&whole.out);
    mig_wbuf_fini(&part.out);
    mig_wbuf_fini(&wlog);
    mig_wbuf_fini(&plog);
}

/* Decode a (mutated) stream whole and in 1/13-byte chunks: never crash,
 * same result and same decoded items every way, errors sticky; streamed
 * pages agree. */
static int decode_consistent(const uint8_t *d, size_t len, bool one_byte,
                             const struct mig_stream_limits *lim)
{
    static const size_t chunks[] = { 0, 13, 1 };
    size_t i, n = one_byte ? 3 : 2;
    struct collector ref;
    int ref_rc = 0;

    collector_init(&ref);
    for (i = 0; i < n; i++) {
        struct mig_stream_dec *dec = mig_stream_dec_new(lim);
        struct collector c;
        int rc;

        ck_assert_ptr_nonnull(dec);
        collector_init(&c);
        mig_stream_dec_set_ops(dec, &collector_ops, &c);
        rc = feed_chunked(dec, d, len, chunks[i] ? chunks[i] : len, 0);
        if (rc && rc != MIG_EINCOMPLETE) {
            char msg[256];

            snprintf(msg, sizeof(msg), "%s", mig_stream_dec_error(dec));
            ck_assert(msg[0] != '\0');
            ck_assert_int_eq(mig_stream_dec_feed(dec, d, len), rc);
            ck_assert_int_eq(mig_stream_dec_finish(dec), rc);
            ck_assert_str_eq(mig_stream_dec_error(dec), msg);
        }
        if (i == 0) {
            ref_rc = rc;
            ref.out = c.out;
            c.out.data = NULL;
        } else {
            ck_assert_int_eq(rc, ref_rc);
            ck_assert_uint_eq(c.out.len, ref.out.len);
            if (c.out.len)
                ck_assert_mem_eq(c.out.data, ref.out.data, c.out.len);
        }
        mig_wbuf_fini(&c.out);
        mig_stream_dec_free(dec);
    }
    mig_wbuf_fini(&ref.out);
    streamed_agrees(d, len, 13, lim);
    return ref_rc;
}

START_TEST(test_mutate_bytes)
{
    struct mig_stream_limits lim;
    size_t off, tried = 0, failed = 0;
    uint8_t *copy;

    mig_stream_limits_default(&lim);
    lim.max_pfn = 64;
    copy = malloc(small.wb.len);
    ck_assert_ptr_nonnull(copy);
    for (off = 0; off < small.wb.len; off++) {
        static const uint8_t masks[] = { 0xff, 0x01, 0x80 };
        size_t m;

        /* Page contents are opaque: a few of their bytes suffice. */
        if (off >= small.at.pd_pages_begin + 16 &&
            off + 16 < small.at.pd_pages_end)
            continue;
        for (m = 0; m < sizeof(masks); m++) {
            int rc;

            memcpy(copy, small.wb.data, small.wb.len);
            copy[off] ^= masks[m];
            rc = decode_consistent(copy, small.wb.len, off % 5 == 0, &lim);
            tried++;
            if (rc)
                failed++;
            ck_assert(rc == 0 || rc == MIG_ECORRUPT || rc == MIG_ENOTSUP ||
                      rc == MIG_EINCOMPLETE);
        }
    }
    /* Payload bytes (config text, blobs, values, reserved fields) may
     * change freely; the structural ones, about a third, must not.  The
     * mutation table pins down which error each structural field gives. */
    ck_assert_uint_gt(failed, tried / 4);
    free(copy);
}
END_TEST

START_TEST(test_truncate)
{
    struct mig_stream_dec *dec;
    size_t cut;

    /* Every prefix, in one feed: consumed without error, incomplete. */
    for (cut = 0; cut < small.wb.len; cut++) {
        dec = mig_stream_dec_new(NULL);
        ck_assert_ptr_nonnull(dec);
        ck_assert_msg(mig_stream_dec_feed(dec, small.wb.data, cut) == 0,
                      "cut %zu", cut);
        ck_assert_msg(mig_stream_dec_finish(dec) == MIG_EINCOMPLETE,
                      "cut %zu", cut);
        ck_assert(!mig_stream_dec_done(dec));
        mig_stream_dec_free(dec);
    }
    /* Every prefix, one byte at a time: incomplete until the last byte. */
    dec = mig_stream_dec_new(NULL);
    for (cut = 0; cut < small.wb.len; cut++) {
        ck_assert_int_eq(mig_stream_dec_finish(dec), MIG_EINCOMPLETE);
        OK(mig_stream_dec_feed(dec, small.wb.data + cut, 1));
    }
    OK(mig_stream_dec_finish(dec));
    mig_stream_dec_free(dec);
}
END_TEST

enum mut_kind { SET32, SET64, XOR8, ADD32 };

/* Targeted corruptions of the small stream and their required outcome. */
static const struct {
    const char *name;
    size_t layout_off;          /* offsetof(struct layout, field) */
    size_t delta;
    enum mut_kind kind;
    uint64_t val;
    int rc;
    const char *msg;
} mutations[] = {
#define AT(f) offsetof(struct layout, f)
    { "reserved mandatory type", AT(tsc), 0, SET32, 0x13, MIG_ECORRUPT,
      "unknown mandatory record type 0x00000013" },
    { "length > REC_LENGTH_MAX", AT(tsc), 4, SET32, 0x08000001,
      MIG_ECORRUPT, "exceeds max 134217728" },
    { "TSC_INFO length", AT(tsc), 4, SET32, 16, MIG_ECORRUPT,
      "X86_TSC_INFO record has bad length 16" },
    { "PAGE_DATA length +8", AT(pd), 4, ADD32, 8, MIG_ECORRUPT,
      "PAGE_DATA length" },
    { "PAGE_DATA length -8", AT(pd), 4, ADD32, (uint32_t)-8, MIG_ECORRUPT,
      "PAGE_DATA length" },
    { "PAGE_DATA count 0", AT(pd), 8, SET32, 0, MIG_ECORRUPT, "no pfns" },
    { "PAGE_DATA count 2", AT(pd), 8, SET32, 2, MIG_ECORRUPT, "" },
    { "PAGE_DATA count huge", AT(pd), 8, SET32, 0x20000000, MIG_ECORRUPT,
      "exceeds max" },
    { "pfn beyond max_pfn", AT(pd), 16, SET64, 64, MIG_ECORRUPT,
      "beyond max 0x40" },
    { "reserved page type", AT(pd), 16, SET64, (5ULL << 60) | 1,
      MIG_ECORRUPT, "unknown page type 0x5" },
    { "page type XTAB", AT(pd), 16, SET64, (15ULL << 60) | 1, MIG_ECORRUPT,
      "PAGE_DATA length" },
    { "pfn reserved bits", AT(pd), 16, SET64, (0xffULL << 52) | 1, 0, NULL },
    { "HVM_PARAMS count", AT(hvm_params), 8, SET32, 7, MIG_ECORRUPT,
      "HVM_PARAMS count 7" },
    { "HVM_PARAMS length", AT(hvm_params), 4, ADD32, 8, MIG_ECORRUPT,
      "HVM_PARAMS record has bad length" },
    { "END with a body", AT(xc_end), 4, SET32, 8, MIG_ECORRUPT,
      "END record has bad length 8" },
    { "END type optional", AT(xc_end), 0, SET32, 0x80000000U, MIG_ECORRUPT,
      "X86_PV_INFO record has bad length" },
    { "libxl reserved type", AT(emu), 0, SET32, 7, MIG_ECORRUPT,
      "unknown mandatory libxl record type 0x00000007" },
    { "libxl emulator short", AT(emu), 4, SET32, 4, MIG_ECORRUPT,
      "EMULATOR_CONTEXT record has bad length 4" },
    { "libxl CHECKPOINT_STATE", AT(emu), 0, SET32, 5, MIG_ECORRUPT,
      "bad length" },
    { "libxl END before libxc", AT(libxc_ctx), 0, SET32, 0, MIG_ECORRUPT,
      "libxl END before the libxc image" },
    { "libxl END with body", AT(xl_end), 4, SET32, 1, MIG_ECORRUPT,
      "bad length 1" },
    { "image marker", AT(ihdr), 3, XOR8, 0x10, MIG_ECORRUPT, "marker" },
    { "image id", AT(ihdr), 8, XOR8, 0x01, MIG_ECORRUPT, "bad image id" },
    { "image version 4", AT(ihdr), 15, XOR8, 0x07, MIG_ENOTSUP, "version 4" },
    { "image big-endian", AT(ihdr), 17, XOR8, 0x01, MIG_ENOTSUP,
      "big-endian" },
    { "image reserved", AT(ihdr), 20, XOR8, 0xff, 0, NULL },
    { "domain type 0", AT(dhdr), 0, SET32, 0, MIG_ECORRUPT,
      "reserved domain type 0" },
    { "domain page_shift", AT(dhdr), 4, XOR8, 0x1c, MIG_ENOTSUP,
      "page_shift 16" },
    { "xl magic", AT(xl), 30, XOR8, 0x20, MIG_ECORRUPT, "magic" },
    { "xl byteorder", AT(xl), 32, SET32, 0x01020305, MIG_ECORRUPT,
      "byteorder" },
    { "xl big-endian", AT(xl), 32, SET32, 0x04030201, MIG_ENOTSUP,
      "big-endian" },
    { "xl mandatory flag", AT(xl), 36, SET32, 7, MIG_ENOTSUP, "0x00000004" },
    { "xl legacy stream", AT(xl), 36, SET32, 1, MIG_ENOTSUP, "legacy" },
    { "xl optional_data_len 2", AT(xl), 44, SET32, 2, MIG_ECORRUPT, "< 4" },
    { "xl config_len", AT(xl), 48, ADD32, 1, MIG_ECORRUPT,
      "exceeds optional data" },
    { "xl config NUL", AT(xl), 48, ADD32, (uint32_t)-1, MIG_ECORRUPT,
      "NUL-terminated" },
    { "libxl ident", AT(libxl), 0, XOR8, 0x02, MIG_ECORRUPT, "libxl ident" },
    { "libxl version 3", AT(libxl), 11, XOR8, 0x01, MIG_ENOTSUP,
      "libxl stream version 3" },
    { "guest info pages", AT(guest_info), 16, SET64, 65, MIG_ECORRUPT,
      "guest of 65 pages" },
    { "guest info version", AT(guest_info), 8, SET32, 2, MIG_ECORRUPT,
      "MIGLAB_GUEST_INFO" },
    { "guest info vcpus", AT(guest_info), 12, SET32, 0, MIG_ECORRUPT,
      "MIGLAB_GUEST_INFO" },
    { "workload NUL", AT(workload), 9, SET32, 0, MIG_ECORRUPT, "NUL" },
    { "workload as STATIC_DATA_END", AT(workload), 0, SET32, 0x10, MIG_ECORRUPT,
      "bad length" },
#undef AT
};
#define N_MUTATIONS (int)(sizeof(mutations) / sizeof(mutations[0]))

START_TEST(test_mutation_table)
{
    struct mig_stream_limits lim;
    struct mig_stream_dec *dec;
    uint8_t *p;
    size_t at;
    int rc;

    memcpy(&at, (const char *)&small.at + mutations[_i].layout_off,
           sizeof(at));
    ck_assert_msg(at || mutations[_i].layout_off == 0, "%d %s: no field",
                  _i, mutations[_i].name);
    p = small.wb.data + at + mutations[_i].delta;
    switch (mutations[_i].kind) {
    case SET32:
        mig_le32enc(p, (uint32_t)mutations[_i].val);
        break;
    case ADD32:
        mig_le32enc(p, mig_le32dec(p) + (uint32_t)mutations[_i].val);
        break;
    case SET64:
        mig_le64enc(p, mutations[_i].val);
        break;
    case XOR8:
        *p ^= (uint8_t)mutations[_i].val;
        break;
    }
    mig_stream_limits_default(&lim);
    lim.max_pfn = 64;
    rc = decode_consistent(small.wb.data, small.wb.len, true, &lim);
    ck_assert_msg(rc == mutations[_i].rc, "%d %s: rc %d (%s), want %d", _i,
                  mutations[_i].name, rc, mig_strerror(rc),
                  mutations[_i].rc);
    if (mutations[_i].msg) {
        dec = mig_stream_dec_new(&lim);
        (void)mig_stream_dec_feed(dec, small.wb.data, small.wb.len);
        ck_assert_msg(strstr(mig_stream_dec_error(dec), mutations[_i].msg),
                      "%d %s: message \"%s\" lacks \"%s\"", _i,
                      mutations[_i].name, mig_stream_dec_error(dec),
                      mutations[_i].msg);
        mig_stream_dec_free(dec);
    }
}
END_TEST

/* Record order rules, on hand-built bare images. */
START_TEST(test_order_rules)
{
    const struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 17 };
    static const uint8_t page[MIG_PAGE_SIZE];
    const void *pages[1] = { page };
    const uint64_t pfn = MIG_PFN_WORD(MIG_PT_NOTAB, 3);
    struct mig_stream_dec *dec;
    struct mig_wbuf wb;

    /* PAGE_DATA before STATIC_DATA_END in a v3 image. */
    mig_wbuf_init(&wb, NULL);
    OK(mig_stream_put_image_header(&wb));
    OK(mig_stream_put_domain_header(&wb, &dh));
    OK(mig_stream_put_page_data(&wb, &pfn, pages, 1));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec),
                                 "PAGE_DATA before STATIC_DATA_END"));
    mig_stream_dec_free(dec);

    /* The same in a v2 image is fine (STATIC_DATA_END is inferred), and an
     * explicit one after it is then a second one. */
    wb.data[15] = 2;
    OK(mig_stream_put_static_data_end(&wb));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec),
                                 "second STATIC_DATA_END"));
    mig_stream_dec_free(dec);

    /* Two explicit ones in v3. */
    mig_wbuf_reset(&wb);
    OK(mig_stream_put_image_header(&wb));
    OK(mig_stream_put_domain_header(&wb, &dh));
    OK(mig_stream_put_static_data_end(&wb));
    OK(mig_stream_put_static_data_end(&wb));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    mig_stream_dec_free(dec);

    /* CHECKPOINT needs a libxl layer to return to. */
    mig_wbuf_truncate(&wb, wb.len - 8);
    OK(mig_stream_put_record(&wb, MIG_REC_CHECKPOINT, NULL, 0));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec), "CHECKPOINT"));
    mig_stream_dec_free(dec);

    /* Not a stream at all. */
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, "GET / HTTP/1.0\r\n", 16),
                     MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec),
                                 "first byte 0x47"));
    mig_stream_dec_free(dec);

    /* A libxl stream: CHECKPOINT_END outside a checkpoint, a second
     * LIBXC_CONTEXT. */
    mig_wbuf_reset(&wb);
    OK(mig_stream_put_libxl_header(&wb));
    OK(mig_stream_put_libxl_record(&wb, MIG_LIBXL_REC_CHECKPOINT_END, NULL,
                                   0));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec),
                                 "unexpected CHECKPOINT_END"));
    mig_stream_dec_free(dec);

    mig_wbuf_truncate(&wb, MIG_LIBXL_HDR_SIZE);
    OK(mig_stream_put_libxc_context(&wb));
    OK(mig_stream_put_image_header(&wb));
    OK(mig_stream_put_domain_header(&wb, &dh));
    OK(mig_stream_put_end(&wb));
    OK(mig_stream_put_libxc_context(&wb));
    dec = mig_stream_dec_new(NULL);
    ck_assert_int_eq(mig_stream_dec_feed(dec, wb.data, wb.len), MIG_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec),
                                 "unexpected LIBXC_CONTEXT"));
    mig_stream_dec_free(dec);
    mig_wbuf_fini(&wb);
}
END_TEST

START_TEST(test_callback_errors)
{
    static const struct {
        int fail_in;
        int rc;
        const char *msg;
        const struct mig_stream_dec_ops *ops;
    } t[] = {
        { FAIL_BATCH, MIG_EIO, "on_page_batch callback failed",
          &collector_ops },
        { FAIL_RECORD, MIG_EPROTO, "on_record callback failed",
          &collector_ops },
        { FAIL_END, -ENOSPC, "on_end callback failed", &collector_ops },
        { FAIL_PART, MIG_EIO, "on_page_part callback failed",
          &collector_part_ops },
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
        struct collector c;

        collector_init(&c);
        c.fail_in = t[i].fail_in;
        mig_stream_dec_set_ops(dec, t[i].ops, &c);
        ck_assert_int_eq(mig_stream_dec_feed(dec, small.wb.data, small.wb.len),
                         t[i].rc);
        ck_assert_ptr_nonnull(strstr(mig_stream_dec_error(dec), t[i].msg));
        ck_assert_int_eq(mig_stream_dec_feed(dec, "", 0), t[i].rc);
        ck_assert_int_eq(mig_stream_dec_finish(dec), t[i].rc);
        mig_stream_dec_free(dec);
        mig_wbuf_fini(&c.out);
    }
}
END_TEST

START_TEST(test_reentry)
{
    struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
    struct collector c;

    collector_init(&c);
    c.reenter = dec;
    c.reenter_rc = 1;
    mig_stream_dec_set_ops(dec, &collector_ops, &c);
    OK(mig_stream_dec_feed(dec, small.wb.data, small.wb.len));
    ck_assert_int_eq(c.reenter_rc, MIG_EINVAL);
    mig_stream_dec_free(dec);
    mig_wbuf_fini(&c.out);
}
END_TEST

START_TEST(test_random_garbage)
{
    /* Random bytes behind each valid first byte: never crash. */
    static const uint8_t firsts[] = { 'X', 'L', 0xff };
    uint64_t seed = 99;
    uint8_t buf[2048];
    int round;

    for (round = 0; round < 300; round++) {
        struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
        size_t i, len = 1 + (size_t)rng_below(&seed, sizeof(buf));
        int rc;

        for (i = 0; i < len; i++)
            buf[i] = (uint8_t)rng_next(&seed);
        buf[0] = firsts[round % 3];
        rc = feed_chunked(dec, buf, len, 1 + (size_t)(round % 17), seed);
        ck_assert(rc < 0);
        mig_stream_dec_free(dec);
    }
}
END_TEST

/* ====================================================================== */

/* The zero-copy form: head + the pages sent after it == the full record. */
START_TEST(test_page_data_head)
{
    static uint8_t pages[3][MIG_PAGE_SIZE];
    const void *ptrs[3] = { pages[0], NULL, pages[2] };
    const uint64_t pfns[3] = { MIG_PFN_WORD(MIG_PT_NOTAB, 5),
                               MIG_PFN_WORD(MIG_PT_XTAB, 6),
                               MIG_PFN_WORD(MIG_PT_NOTAB, 7) };
    struct mig_wbuf full, head;
    size_t page_bytes = 1;

    memset(pages[0], 0xa5, sizeof(pages[0]));
    memset(pages[2], 0x5a, sizeof(pages[2]));
    mig_wbuf_init(&full, NULL);
    mig_wbuf_init(&head, NULL);
    ck_assert_int_eq(mig_stream_put_page_data(&full, pfns, ptrs, 3), 0);
    ck_assert_int_eq(mig_stream_put_page_data_head(&head, pfns, 3,
                                                   &page_bytes), 0);
    ck_assert_uint_eq(page_bytes, 2 * MIG_PAGE_SIZE);
    ck_assert_uint_eq(head.len + page_bytes, full.len);
    ck_assert_mem_eq(head.data, full.data, head.len);
    ck_assert_mem_eq(full.data + head.len, pages[0], MIG_PAGE_SIZE);
    ck_assert_mem_eq(full.data + head.len + MIG_PAGE_SIZE, pages[2],
                     MIG_PAGE_SIZE);
    /* Same EINVAL cases, nothing appended. */
    mig_wbuf_reset(&head);
    ck_assert_int_eq(mig_stream_put_page_data_head(&head, pfns, 0,
                                                   &page_bytes), MIG_EINVAL);
    ck_assert_uint_eq(head.len, 0);
    ck_assert_uint_eq(page_bytes, 0);

    mig_wbuf_fini(&full);
    mig_wbuf_fini(&head);
}
END_TEST

Suite *stream_suite(void);

Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, 120);
    tcase_set_timeout(limits, 120);
    tcase_set_timeout(corrupt, 240);

    tcase_add_loop_test(core, test_golden_bytes, 0, N_GOLDEN);
    tcase_add_test(core, test_handshake);
    tcase_add_test(core, test_cursor);
    tcase_add_test(core, test_endian);
    tcase_add_test(core, test_wbuf);
    tcase_add_loop_test(core, test_roundtrip, 0, N_RT_LAYERS * N_RT_CHUNKS);
    tcase_add_loop_test(core, test_roundtrip_random, 0, 4);
    tcase_add_loop_test(core, test_stream_pages, 0, N_SP_CHUNKS);
    tcase_add_test(core, test_order_hvm);
    tcase_add_test(core, test_feed_some_trailing);
    tcase_add_test(core, test_no_ops);
    tcase_add_test(core, test_parse_helpers);
    tcase_add_test(core, test_encoder_einval);
    tcase_add_test(core, test_page_data_head);
    tcase_add_loop_test(core, test_golden_streams, 0, N_GOLDEN_STREAMS);
    suite_add_tcase(s, core);

    tcase_add_test(limits, test_rec_length_max);
    tcase_add_test(limits, test_libxl_rec_length_max);
    tcase_add_loop_test(limits, test_pd_limits, 0, N_PD_LIMIT);
    tcase_add_test(limits, test_pfn_limit);
    tcase_add_test(limits, test_config_limit);
    tcase_add_test(limits, test_guest_info_limit);
    tcase_add_test(limits, test_alloc_size);
    tcase_add_test(limits, test_alloc_fail_decoder);
    tcase_add_test(limits, test_alloc_fail_encoder);
    suite_add_tcase(s, limits);

    tcase_add_checked_fixture(corrupt, small_setup, small_teardown);
    tcase_add_test(corrupt, test_mutate_bytes);
    tcase_add_test(corrupt, test_truncate);
    tcase_add_loop_test(corrupt, test_mutation_table, 0, N_MUTATIONS);
    tcase_add_test(corrupt, test_order_rules);
    tcase_add_test(corrupt, test_callback_errors);
    tcase_add_test(corrupt, test_reentry);
    tcase_add_test(corrupt, test_random_garbage);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(int argc, char **argv)
{
    SRunner *sr;
    int nfailed;

    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0)
        return write_golden(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write-golden DIR]\n", argv[0]);
        return 2;
    }
    sr = srunner_create(stream_suite());
    srunner_run_all(sr, CK_NORMAL);
    nfailed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
