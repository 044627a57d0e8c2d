/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stream.c - libFuzzer target for the migration stream decoder
 * (ref/stream_dec.c).
 *
 * The input is the stream itself, so the golden streams in
 * tests/data/streams/ are a good seed corpus.  Each input is decoded
 *   1. in one feed,
 *   2. in chunks whose sizes come from a hash of the input (1 byte to 4 KiB),
 * and both runs must agree on the result and on everything decoded.  A
 * third run streams the pages (on_page_part) in the same chunks: it must
 * give the same result and the same pfns and pages in order (all of them
 * on success; on failure at least those the whole-record run got).  When
 * the stream is valid, what the decoder reported is encoded again and that
 * stream decoded once more: it must decode, and encode to the same bytes
 * (encode(decode(x)) is a fixed point).  Callbacks read every byte they are
 * handed so ASan checks the pointers.  Any disagreement traps.
 *
 * Run: make fuzz FUZZ_TARGETS=stream (docs/fuzzing.md); seeds in
 * tests/fuzz/corpus/stream/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "buf.h"
#include "stream.h"

/* Re-encodes what it is told, like the unit tests' collector. */
struct sink {
    struct mig_wbuf out;
    struct mig_wbuf log;    /* every pfn word, then its page if it has one */
    bool have_libxl;
    uint32_t version;
    uint64_t sum;           /* touches every byte handed over */
};

static void touch(struct sink *s, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        s->sum = s->sum * 31 + p[i];
}

static int s_xl(void *opaque, const struct mig_xl_header *h)
{
    struct sink *s = opaque;

    if (h->config)
        touch(s, (const uint8_t *)h->config, h->config_len);
    if (h->mandatory_flags & MIG_XL_FLAG_JSON) {
        CHECK(h->config && strlen(h->config) + 1 == h->config_len);
        return mig_stream_put_xl_header(&s->out, h->config);
    }
    return mig_stream_put_xl_header(&s->out, NULL);
}

static int s_libxl(void *opaque, const struct mig_libxl_header *h)
{
    struct sink *s = opaque;

    CHECK(h->version == MIG_LIBXL_VERSION);
    s->have_libxl = true;
    return mig_stream_put_libxl_header(&s->out);
}

static int s_libxl_rec(void *opaque, uint32_t type, const uint8_t *body,
                       uint32_t len)
{
    struct sink *s = opaque;

    touch(s, body, len);
    return mig_stream_put_libxl_record(&s->out, type, body, len);
}

static int s_ihdr(void *opaque, const struct mig_image_header *h)
{
    struct sink *s = opaque;
    int rc = 0;

    CHECK(h->version == 2 || h->version == 3);
    s->version = h->version;
    if (s->have_libxl)
        rc = mig_stream_put_libxc_context(&s->out);
    if (rc == 0)
        rc = mig_stream_put_image_header(&s->out);
    if (rc == 0)
        s->out.data[s->out.len - 9] = (uint8_t)h->version;
    return rc;
}

static int s_dhdr(void *opaque, const struct mig_domain_header *h)
{
    struct sink *s = opaque;

    return mig_stream_put_domain_header(&s->out, h);
}

/* Check and log count pfns and their pages; ptrs[i] gets each page (NULL:
 * none).  0 or the wbuf error. */
static int log_pages(struct sink *s, const uint64_t *pfns,
                     const uint8_t *pages, uint32_t count, const void **ptrs)
{
    uint32_t i, k = 0;
    int rc = 0;

    CHECK(count >= 1 && count <= MIG_MAX_BATCH);
    for (i = 0; i < count && rc == 0; i++) {
        unsigned type = MIG_PFN_WORD_TYPE(pfns[i]);
        CHECK(mig_page_type_known(type));
        CHECK((pfns[i] & MIG_PFN_RES_MASK) == 0);
        ptrs[i] = NULL;
        if (mig_page_type_has_data(type))
            ptrs[i] = pages + (size_t)MIG_PAGE_SIZE * k++;
        rc = mig_wbuf_put_le64(&s->log, pfns[i]);
        if (rc == 0 && ptrs[i])
            rc = mig_wbuf_put_bytes(&s->log, ptrs[i], MIG_PAGE_SIZE);
    }
    touch(s, pages, (size_t)k * MIG_PAGE_SIZE);
    return rc;
}

static int s_batch(void *opaque, const uint64_t *pfns, const uint8_t *pages,
                   uint32_t count)
{
    static const void *ptrs[MIG_MAX_BATCH];
    struct sink *s = opaque;
    int rc = log_pages(s, pfns, pages, count, ptrs);

    return rc ? rc : mig_stream_put_page_data(&s->out, pfns, ptrs, count);
}

/* Streamed pages: logged only (record boundaries are not reported). */
static int s_part(void *opaque, const uint64_t *pfns, const uint8_t *pages,
                  uint32_t count)
{
    static const void *ptrs[MIG_MAX_BATCH];

    return log_pages(opaque, pfns, pages, count, ptrs);
}

static int s_rec(void *opaque, uint32_t type, const uint8_t *body,
                 uint32_t len)
{
    struct sink *s = opaque;

    CHECK(type != MIG_REC_PAGE_DATA && type != MIG_REC_END);
    touch(s, body, len);
    return mig_stream_put_record(&s->out, type, body, len);
}

static int s_end(void *opaque, enum mig_stream_layer layer)
{
    struct sink *s = opaque;

    if (layer == MIG_LAYER_LIBXC)
        return mig_stream_put_end(&s->out);
    return mig_stream_put_libxl_end(&s->out);
}

static const struct mig_stream_dec_ops sink_ops = {
    .on_xl_header = s_xl,
    .on_libxl_header = s_libxl,
    .on_libxl_record = s_libxl_rec,
    .on_image_header = s_ihdr,
    .on_domain_header = s_dhdr,
    .on_page_batch = s_batch,
    .on_record = s_rec,
    .on_end = s_end,
};

/* The same, with the pages streamed. */
static const struct mig_stream_dec_ops sink_part_ops = {
    .on_xl_header = s_xl,
    .on_libxl_header = s_libxl,
    .on_libxl_record = s_libxl_rec,
    .on_image_header = s_ihdr,
    .on_domain_header = s_dhdr,
    .on_page_part = s_part,
    .on_record = s_rec,
    .on_end = s_end,
};

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ n;
}

/* Decode into s with ops; chunk seed 0 means one feed.  Returns the
 * result. */
static int decode(const uint8_t *data, size_t size, uint64_t seed,
                  const struct mig_stream_limits *lim,
                  const struct mig_stream_dec_ops *ops, struct sink *s)
{
    struct mig_stream_dec *dec = mig_stream_dec_new(lim);
    size_t off = 0;
    int rc = 0;

    CHECK(dec != NULL);
    memset(s, 0, sizeof(*s));
    mig_wbuf_init(&s->out, NULL);
    mig_wbuf_init(&s->log, NULL);
    mig_stream_dec_set_ops(dec, ops, s);
    while (off < size && rc == 0) {
        size_t n = size - off;

        if (seed) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            n = (seed >> 33) % ((seed >> 60) < 8 ? 16 : 4096) + 1;
            if (n > size - off)
                n = size - off;
        }
        rc = mig_stream_dec_feed(dec, data + off, n);
        off += n;
    }
    if (rc == 0)
        rc = mig_stream_dec_finish(dec);
    if (rc && rc != MIG_EINCOMPLETE) {
        /* Errors are sticky and explained. */
        CHECK(mig_stream_dec_error(dec)[0] != '\0');
        CHECK(mig_stream_dec_feed(dec, data, size) == rc);
    }
    CHECK(rc == 0 || rc == MIG_ECORRUPT || rc == MIG_ENOTSUP ||
          rc == MIG_EINCOMPLETE);
    mig_stream_dec_free(dec);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mig_stream_limits lim;
    struct sink a, b, c, d;
    int rc_a, rc_b, rc_c, rc_d;
    uint64_t seed;

    mig_stream_limits_default(&lim);
    /* Half the inputs run against a small guest, so pfn limits bite. */
    if (size && (data[size - 1] & 1))
        lim.max_pfn = 1u << 12;

    seed = hash(data, size) | 1;
    rc_a = decode(data, size, 0, &lim, &sink_ops, &a);
    rc_b = decode(data, size, seed, &lim, &sink_ops, &b);
    CHECK(rc_a == rc_b);
    CHECK(a.out.len == b.out.len);
    CHECK(a.out.len == 0 || memcmp(a.out.data, b.out.data, a.out.len) == 0);
    rc_d = decode(data, size, seed, &lim, &sink_part_ops, &d);
    CHECK(rc_d == rc_a);
    CHECK(rc_a ? d.log.len >= a.log.len : d.log.len == a.log.len);
    CHECK(a.log.len == 0 || memcmp(a.log.data, d.log.data, a.log.len) == 0);

    if (rc_a == 0) {
        rc_c = decode(a.out.data, a.out.len, 0, &lim, &sink_ops, &c);
        CHECK(rc_c == 0);
        CHECK(c.out.len == a.out.len);
        CHECK(memcmp(c.out.data, a.out.data, a.out.len) == 0);
        mig_wbuf_fini(&c.out);
        mig_wbuf_fini(&c.log);
    }
    mig_wbuf_fini(&a.out);
    mig_wbuf_fini(&a.log);
    mig_wbuf_fini(&b.out);
    mig_wbuf_fini(&b.log);
    mig_wbuf_fini(&d.out);
    mig_wbuf_fini(&d.log);
    return 0;
}
