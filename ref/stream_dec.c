/* SPDX-License-Identifier: MIT */
/*
 * stream_dec.c - incremental decoder of the Xen migration stream (see
 * stream.h).
 *
 * The decoder is a state machine over fixed-size *units*: a header, a record
 * header, a record body, or one of the three parts of a PAGE_DATA body.  The
 * state says how many bytes the next unit needs (want); feed() collects them,
 * straight from the caller's buffer when a whole unit is there (zero copy),
 * otherwise in an accumulation buffer that grows only as bytes arrive, so a
 * header that claims 128 MiB costs no memory until the bytes come.  Each
 * complete unit goes to step(), which validates it through a struct mig_buf
 * and moves to the next state.
 *
 * With ops->on_page_part set, a PAGE_DATA record's pages are streamed: after
 * its pfns (all of them checked first), the unit is one page, and as many
 * whole pages as the caller's buffer holds are passed on in place; only a
 * page split between two feeds is copied, so the decoder buffers at most
 * one page of them instead of the whole record (up to 4 MiB).
 *
 * Validation follows STYLE.md §5 and Xen's restorer (xg_sr_restore.c
 * read_record(), handle_page_data(); libxl_stream_read.c):
 *   (1) body_length <= max_rec_len, checked on the record header, before
 *       anything is buffered;
 *   (2) the fixed part fits (per-type length rules, stream_format.h);
 *   (3) PAGE_DATA: count >= 1, count <= max_batch, 8 + 8 count <= length;
 *   (4) length == 8 + 8 count + 4096 * (pfns with data), exactly;
 *   (5) every pfn < max_pfn and every page type known.
 * Any failure puts the decoder in its error state for good, with a one-line
 * message.  Nothing here asserts on input.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stream.h"

enum dec_state {
    ST_DETECT,          /* first byte picks the outermost layer */
    ST_XL_HDR,
    ST_XL_OPT,
    ST_LIBXL_HDR,
    ST_LIBXL_RHDR,
    ST_LIBXL_BODY,
    ST_IHDR,
    ST_DHDR,
    ST_RHDR,
    ST_BODY,
    ST_PD_FIXED,        /* PAGE_DATA count + reserved */
    ST_PD_PFNS,         /* PAGE_DATA pfn words */
    ST_PD_PAGES,        /* PAGE_DATA page contents */
    ST_DONE,
    ST_ERROR,
};

/* An accumulation buffer larger than this is freed after its unit. */
#define DEC_ACC_KEEP    ((size_t)MIG_MAX_BATCH * MIG_PAGE_SIZE + 65536)

struct mig_stream_dec {
    struct mig_stream_limits lim;
    const struct mig_stream_dec_ops *ops;   /* not owned; may be NULL */
    void *opaque;

    enum dec_state st;
    size_t want;            /* bytes of the current unit, > 0 */
    uint64_t offset;        /* bytes consumed */
    uint64_t unit_off;      /* stream offset of the current unit */

    uint8_t *acc;           /* owned; partial unit */
    size_t acc_len;
    size_t acc_cap;

    uint64_t *pfns;         /* owned; decoded pfn words of a PAGE_DATA */
    size_t pfns_cap;        /* entries */

    /* Current record. */
    uint32_t rec_type;
    uint32_t rec_len;
    uint32_t pd_count;
    uint32_t pd_next;       /* streaming: first pfn index not passed on */
    uint32_t pd_left;       /* streaming: data pages still to come */

    /* xl header, kept between the fixed part and the optional data. */
    uint32_t xl_mandatory;
    uint32_t xl_optflags;
    uint32_t xl_optlen;

    /* Layering. */
    bool outer_libxl;       /* a libxl layer wraps the libxc image */
    bool libxc_seen;        /* LIBXC_CONTEXT (or bare image) started */
    bool libxc_done;        /* libxc END seen */
    bool in_checkpoint;     /* libxl records inside a libxc CHECKPOINT */
    bool seen_sde;          /* STATIC_DATA_END seen or inferred */
    bool in_callback;
    uint32_t xc_version;

    size_t footprint;       /* bytes allocated now */
    size_t peak;            /* largest footprint so far */

    int err;
    char msg[200];
};

static const uint8_t empty_body[1];

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(struct mig_stream_dec *dec, int rc, const char *fmt, ...)
{
    va_list ap;
    int n;

    assert(rc < 0);
    va_start(ap, fmt);
    n = vsnprintf(dec->msg, sizeof(dec->msg), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(dec->msg))
        snprintf(dec->msg + n, sizeof(dec->msg) - (size_t)n,
                 " (at offset %" PRIu64 ")", dec->unit_off);
    dec->err = rc;
    dec->st = ST_ERROR;
    return rc;
}

/* Turn a callback's result into the decoder's. */
static int cb_done(struct mig_stream_dec *dec, int rc, const char *what)
{
    dec->in_callback = false;
    if (rc == 0)
        return 0;
    if (rc > 0)
        rc = MIG_EINVAL;
    return fail(dec, rc, "%s callback failed: %s", what, mig_strerror(rc));
}

/* Call ops->name(opaque, args...) if set, and check its result.  The
 * in_callback flag catches a callback that feeds the decoder again. */
#define CALL(dec, name, ...)                                             \
    ((dec)->ops && (dec)->ops->name                                      \
         ? cb_done((dec), ((dec)->in_callback = true,                    \
                           (dec)->ops->name((dec)->opaque, __VA_ARGS__)), \
                   #name)                                                \
         : 0)

/*
 * Every unit is exactly as long as the fields its step reads, so those reads
 * cannot run short.  Should one ever do, fail cleanly instead of using
 * zeroed values.
 */
static int short_unit(struct mig_stream_dec *dec, int rc)
{
    assert(false);
    return fail(dec, rc, "internal: unit shorter than its fields");
}

/* ---- memory ------------------------------------------------------------ */

static void account(struct mig_stream_dec *dec, size_t old, size_t new)
{
    dec->footprint = dec->footprint - old + new;
    if (dec->footprint > dec->peak)
        dec->peak = dec->footprint;
}

/* Append n bytes to acc, growing it geometrically but never past want. */
static int acc_append(struct mig_stream_dec *dec, const uint8_t *p, size_t n)
{
    size_t need = dec->acc_len + n;

    assert(need <= dec->want);
    if (need > dec->acc_cap) {
        size_t cap = dec->acc_cap ? dec->acc_cap : 64;
        uint8_t *q;

        while (cap < need)
            cap *= 2;
        if (cap > dec->want)
            cap = dec->want;
        q = mig_mem_realloc(dec->lim.alloc, dec->acc, cap);
        if (!q)
            return fail(dec, MIG_ENOMEM, "out of memory buffering %zu bytes",
                        cap);
        account(dec, dec->acc_cap, cap);
        dec->acc = q;
        dec->acc_cap = cap;
    }
    memcpy(dec->acc + dec->acc_len, p, n);
    dec->acc_len = need;
    return 0;
}

static void acc_trim(struct mig_stream_dec *dec)
{
    dec->acc_len = 0;
    if (dec->acc_cap > DEC_ACC_KEEP) {
        mig_mem_free(dec->lim.alloc, dec->acc);
        account(dec, dec->acc_cap, 0);
        dec->acc = NULL;
        dec->acc_cap = 0;
    }
}

static int pfns_reserve(struct mig_stream_dec *dec, size_t count)
{
    uint64_t *q;

    if (count <= dec->pfns_cap)
        return 0;
    /* count <= max_batch, and max_batch * 8 < max_rec_len: no overflow. */
    q = mig_mem_realloc(dec->lim.alloc, dec->pfns, count * sizeof(*q));
    if (!q)
        return fail(dec, MIG_ENOMEM, "out of memory for %zu pfns", count);
    account(dec, dec->pfns_cap * sizeof(*q), count * sizeof(*q));
    dec->pfns = q;
    dec->pfns_cap = count;
    return 0;
}

/* ---- construction ------------------------------------------------------ */

void mig_stream_limits_default(struct mig_stream_limits *lim)
{
    memset(lim, 0, sizeof(*lim));
}

static void limits_apply(struct mig_stream_limits *l)
{
    uint32_t batch_max;

    if (l->max_pfn == 0 || l->max_pfn > MIG_PFN_MASK + 1)
        l->max_pfn = MIG_PFN_MASK + 1;
    if (l->max_rec_len == 0 || l->max_rec_len > MIG_REC_LENGTH_MAX)
        l->max_rec_len = MIG_REC_LENGTH_MAX;
    batch_max = l->max_rec_len < MIG_PAGE_DATA_HDR_SIZE + 8
                    ? 1
                    : (l->max_rec_len - MIG_PAGE_DATA_HDR_SIZE) / 8;
    if (l->max_batch == 0)
        l->max_batch = MIG_MAX_BATCH;
    if (l->max_batch > batch_max)
        l->max_batch = batch_max;
    if (l->max_config_len == 0)
        l->max_config_len = MIG_XL_CONFIG_MAX;
    if (l->max_config_len > MIG_REC_LENGTH_MAX)
        l->max_config_len = MIG_REC_LENGTH_MAX;
}

struct mig_stream_dec *mig_stream_dec_new(const struct mig_stream_limits *lim)
{
    struct mig_stream_limits l;
    struct mig_stream_dec *dec;

    if (lim)
        l = *lim;
    else
        mig_stream_limits_default(&l);
    limits_apply(&l);
    dec = mig_mem_realloc(l.alloc, NULL, sizeof(*dec));
    if (!dec)
        return NULL;
    memset(dec, 0, sizeof(*dec));
    dec->lim = l;
    dec->st = ST_DETECT;
    dec->want = 1;
    account(dec, 0, sizeof(*dec));
    return dec;
}

void mig_stream_dec_free(struct mig_stream_dec *dec)
{
    const struct mig_allocator *a;

    if (!dec)
        return;
    a = dec->lim.alloc;
    mig_mem_free(a, dec->acc);
    mig_mem_free(a, dec->pfns);
    mig_mem_free(a, dec);
}

void mig_stream_dec_set_ops(struct mig_stream_dec *dec,
                            const struct mig_stream_dec_ops *ops,
                            void *opaque)
{
    dec->ops = ops;
    dec->opaque = opaque;
}

/* ---- length rules ------------------------------------------------------ */

/* A body length is valid when min <= len <= max and unit divides len - min
 * (unit 0: no such rule). */
struct len_rule {
    uint32_t min;
    uint32_t max;
    uint32_t unit;
};

#define ANY UINT32_MAX

static const struct len_rule libxc_rules[MIG_REC_NR_KNOWN] = {
    [MIG_REC_END] = { 0, 0, 0 },
    [MIG_REC_PAGE_DATA] = { MIG_PAGE_DATA_HDR_SIZE, ANY, 0 },
    [MIG_REC_X86_PV_INFO] = { 8, 8, 0 },
    [MIG_REC_X86_PV_P2M_FRAMES] = { 8, ANY, 8 },
    [MIG_REC_X86_PV_VCPU_BASIC] = { MIG_PV_VCPU_HDR_SIZE, ANY, 0 },
    [MIG_REC_X86_PV_VCPU_EXTENDED] = { MIG_PV_VCPU_HDR_SIZE, ANY, 0 },
    [MIG_REC_X86_PV_VCPU_XSAVE] = { MIG_PV_VCPU_HDR_SIZE, ANY, 0 },
    [MIG_REC_SHARED_INFO] = { MIG_PAGE_SIZE, MIG_PAGE_SIZE, 0 },
    [MIG_REC_X86_TSC_INFO] = { MIG_TSC_INFO_SIZE, MIG_TSC_INFO_SIZE, 0 },
    [MIG_REC_HVM_CONTEXT] = { 0, ANY, 0 },
    [MIG_REC_HVM_PARAMS] = { MIG_HVM_PARAMS_HDR_SIZE, ANY,
                             MIG_HVM_PARAM_ENTRY_SIZE },
    [MIG_REC_TOOLSTACK] = { 0, ANY, 0 },
    [MIG_REC_X86_PV_VCPU_MSRS] = { MIG_PV_VCPU_HDR_SIZE, ANY, 0 },
    [MIG_REC_VERIFY] = { 0, 0, 0 },
    [MIG_REC_CHECKPOINT] = { 0, 0, 0 },
    [MIG_REC_CHECKPOINT_DIRTY_PFN_LIST] = { 0, ANY, 8 },
    [MIG_REC_STATIC_DATA_END] = { 0, 0, 0 },
    [MIG_REC_X86_CPUID_POLICY] = { MIG_CPUID_LEAF_SIZE, ANY,
                                   MIG_CPUID_LEAF_SIZE },
    [MIG_REC_X86_MSR_POLICY] = { MIG_MSR_ENTRY_SIZE, ANY,
                                 MIG_MSR_ENTRY_SIZE },
};

static const struct len_rule libxl_rules[MIG_LIBXL_REC_NR_KNOWN] = {
    [MIG_LIBXL_REC_END] = { 0, 0, 0 },
    [MIG_LIBXL_REC_LIBXC_CONTEXT] = { 0, 0, 0 },
    [MIG_LIBXL_REC_EMULATOR_XENSTORE_DATA] = { MIG_LIBXL_EMU_HDR_SIZE, ANY,
                                               0 },
    [MIG_LIBXL_REC_EMULATOR_CONTEXT] = { MIG_LIBXL_EMU_HDR_SIZE, ANY, 0 },
    [MIG_LIBXL_REC_CHECKPOINT_END] = { 0, 0, 0 },
    [MIG_LIBXL_REC_CHECKPOINT_STATE] = { MIG_LIBXL_CHECKPOINT_STATE_SIZE,
                                         MIG_LIBXL_CHECKPOINT_STATE_SIZE, 0 },
};

static const struct len_rule rule_guest_info = {
    MIG_GUEST_INFO_SIZE, MIG_GUEST_INFO_SIZE, 0
};
static const struct len_rule rule_workload = { 1, MIG_WORKLOAD_SPEC_MAX, 0 };
static const struct len_rule rule_gen_state = {
    MIG_GEN_STATE_HDR_SIZE, MIG_GEN_STATE_HDR_SIZE + MIG_GEN_STATE_MAX, 0
};
static const struct len_rule rule_any = { 0, ANY, 0 };

static bool len_ok(const struct len_rule *r, uint32_t len)
{
    if (len < r->min || len > r->max)
        return false;
    return r->unit == 0 || (len - r->min) % r->unit == 0;
}

static const struct len_rule *libxc_rule(uint32_t type)
{
    if (type < MIG_REC_NR_KNOWN)
        return &libxc_rules[type];
    switch (type) {
    case MIG_REC_MIGLAB_GUEST_INFO:
        return &rule_guest_info;
    case MIG_REC_MIGLAB_WORKLOAD:
        return &rule_workload;
    case MIG_REC_MIGLAB_GEN_STATE:
        return &rule_gen_state;
    default:
        break;
    }
    /* SPEC Records: optional records may be ignored; mandatory unknown
     * ones must fail. */
    return (type & MIG_REC_TYPE_OPTIONAL) ? &rule_any : NULL;
}

static const struct len_rule *libxl_rule(uint32_t type)
{
    if (type < MIG_LIBXL_REC_NR_KNOWN)
        return &libxl_rules[type];
    return (type & MIG_REC_TYPE_OPTIONAL) ? &rule_any : NULL;
}

static size_t padded(uint32_t len)
{
    return ((size_t)len + (MIG_REC_ALIGN - 1)) &
           ~(size_t)(MIG_REC_ALIGN - 1);
}

/* ---- state steps ------------------------------------------------------- */

static void expect(struct mig_stream_dec *dec, enum dec_state st, size_t want)
{
    assert(want > 0);
    dec->st = st;
    dec->want = want;
}

static int step_xl_hdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    struct mig_xl_header h;
    uint32_t byteorder;
    int rc;

    if (mig_buf_expect(b, MIG_XL_MAGIC, MIG_XL_MAGIC_LEN))
        return fail(dec, MIG_ECORRUPT, "bad xl save header magic");
    rc = mig_buf_get_le32(b, &byteorder);
    rc = rc ? rc : mig_buf_get_le32(b, &dec->xl_mandatory);
    rc = rc ? rc : mig_buf_get_le32(b, &dec->xl_optflags);
    rc = rc ? rc : mig_buf_get_le32(b, &dec->xl_optlen);
    if (rc)
        return short_unit(dec, rc);
    if (byteorder == 0x04030201U)
        return fail(dec, MIG_ENOTSUP, "big-endian xl save header");
    if (byteorder != MIG_XL_BYTEORDER)
        return fail(dec, MIG_ECORRUPT, "bad xl byteorder 0x%08x", byteorder);
    if (dec->xl_mandatory & ~MIG_XL_MANDATORY_KNOWN)
        return fail(dec, MIG_ENOTSUP, "unsupported xl mandatory flags 0x%08x",
                    dec->xl_mandatory & ~MIG_XL_MANDATORY_KNOWN);
    if (!(dec->xl_mandatory & MIG_XL_FLAG_STREAMV2))
        return fail(dec, MIG_ENOTSUP, "legacy (v1) stream not supported");
    /* (1) bound the optional data before buffering it. */
    if (dec->xl_optlen > (uint64_t)dec->lim.max_config_len + 4)
        return fail(dec, MIG_ECORRUPT,
                    "xl optional data length %u exceeds limit %u",
                    dec->xl_optlen, dec->lim.max_config_len + 4);
    if (dec->xl_optlen > 0 && dec->xl_optlen < 4)
        return fail(dec, MIG_ECORRUPT, "xl optional data length %u < 4",
                    dec->xl_optlen);
    if (dec->xl_optlen > 0) {
        expect(dec, ST_XL_OPT, dec->xl_optlen);
        return 0;
    }
    if (dec->xl_mandatory & MIG_XL_FLAG_JSON)
        return fail(dec, MIG_ECORRUPT, "xl JSON flag set without a config");
    memset(&h, 0, sizeof(h));
    h.mandatory_flags = dec->xl_mandatory;
    h.optional_flags = dec->xl_optflags;
    expect(dec, ST_LIBXL_HDR, MIG_LIBXL_HDR_SIZE);
    return CALL(dec, on_xl_header, &h);
}

static int step_xl_opt(struct mig_stream_dec *dec, struct mig_buf *b)
{
    struct mig_xl_header h;
    const uint8_t *config;
    uint32_t config_len;
    int rc;

    rc = mig_buf_get_le32(b, &config_len);
    if (rc)
        return short_unit(dec, rc);
    /* Trailing optional data after the config is skipped, as xl does. */
    if (config_len > mig_buf_remaining(b))
        return fail(dec, MIG_ECORRUPT,
                    "xl config length %u exceeds optional data (%u)",
                    config_len, dec->xl_optlen);
    rc = mig_buf_get_ptr(b, &config, config_len);
    if (rc)
        return short_unit(dec, rc);
    if (dec->xl_mandatory & MIG_XL_FLAG_JSON) {
        /* The JSON text is handed on as a C string: exactly one NUL. */
        if (config_len == 0 ||
            memchr(config, '\0', config_len) != config + config_len - 1)
            return fail(dec, MIG_ECORRUPT,
                        "xl JSON config is not one NUL-terminated string");
    }
    memset(&h, 0, sizeof(h));
    h.mandatory_flags = dec->xl_mandatory;
    h.optional_flags = dec->xl_optflags;
    h.optional_data_len = dec->xl_optlen;
    h.config = config_len ? (const char *)config : NULL;
    h.config_len = config_len;
    expect(dec, ST_LIBXL_HDR, MIG_LIBXL_HDR_SIZE);
    return CALL(dec, on_xl_header, &h);
}

static int step_libxl_hdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    struct mig_libxl_header h;
    uint64_t ident;
    int rc;

    rc = mig_buf_get_be64(b, &ident);
    rc = rc ? rc : mig_buf_get_be32(b, &h.version);
    rc = rc ? rc : mig_buf_get_be32(b, &h.options);
    if (rc)
        return short_unit(dec, rc);
    if (ident != MIG_LIBXL_IDENT)
        return fail(dec, MIG_ECORRUPT,
                    "bad libxl ident: expected 0x%016" PRIx64
                    ", got 0x%016" PRIx64, (uint64_t)MIG_LIBXL_IDENT, ident);
    if (h.version != MIG_LIBXL_VERSION)
        return fail(dec, MIG_ENOTSUP, "unsupported libxl stream version %u",
                    h.version);
    if (h.options & MIG_LIBXL_OPT_BIG_ENDIAN)
        return fail(dec, MIG_ENOTSUP, "big-endian libxl stream");
    dec->outer_libxl = true;
    expect(dec, ST_LIBXL_RHDR, MIG_RHDR_SIZE);
    return CALL(dec, on_libxl_header, &h);
}

static int step_ihdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    struct mig_image_header h;
    uint64_t marker;
    uint32_t id;
    int rc;

    rc = mig_buf_get_be64(b, &marker);
    rc = rc ? rc : mig_buf_get_be32(b, &id);
    rc = rc ? rc : mig_buf_get_be32(b, &h.version);
    rc = rc ? rc : mig_buf_get_be16(b, &h.options);
    /* _res1 and _res2 are ignored. */
    if (rc)
        return short_unit(dec, rc);
    if (marker != MIG_IHDR_MARKER)
        return fail(dec, MIG_ECORRUPT, "bad image marker 0x%016" PRIx64,
                    marker);
    if (id != MIG_IHDR_ID)
        return fail(dec, MIG_ECORRUPT,
                    "bad image id: expected 0x%08x, got 0x%08x",
                    MIG_IHDR_ID, id);
    if (h.version < MIG_IHDR_VERSION_MIN || h.version > MIG_IHDR_VERSION)
        return fail(dec, MIG_ENOTSUP, "unsupported libxc image version %u",
                    h.version);
    if (h.options & MIG_IHDR_OPT_BIG_ENDIAN)
        return fail(dec, MIG_ENOTSUP, "big-endian libxc image");
    dec->xc_version = h.version;
    dec->libxc_seen = true;
    expect(dec, ST_DHDR, MIG_DHDR_SIZE);
    return CALL(dec, on_image_header, &h);
}

static int step_dhdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    struct mig_domain_header h;
    int rc;

    rc = mig_buf_get_le32(b, &h.type);
    rc = rc ? rc : mig_buf_get_le16(b, &h.page_shift);
    rc = rc ? rc : mig_buf_skip(b, 2);              /* _res1 */
    rc = rc ? rc : mig_buf_get_le32(b, &h.xen_major);
    rc = rc ? rc : mig_buf_get_le32(b, &h.xen_minor);
    if (rc)
        return short_unit(dec, rc);
    if (h.type < MIG_DHDR_TYPE_X86_PV || h.type > MIG_DHDR_TYPE_ARM)
        return fail(dec, MIG_ECORRUPT, "reserved domain type %u", h.type);
    if (h.page_shift != MIG_PAGE_SHIFT)
        return fail(dec, MIG_ENOTSUP, "unsupported page_shift %u",
                    (unsigned)h.page_shift);
    expect(dec, ST_RHDR, MIG_RHDR_SIZE);
    return CALL(dec, on_domain_header, &h);
}

/* After a libxc record: next libxc record header. */
static void next_libxc(struct mig_stream_dec *dec)
{
    expect(dec, ST_RHDR, MIG_RHDR_SIZE);
}

/* A libxc record whose body is complete (body may be empty_body). */
static int libxc_record(struct mig_stream_dec *dec, const uint8_t *body)
{
    uint32_t type = dec->rec_type, len = dec->rec_len;

    switch (type) {
    case MIG_REC_HVM_PARAMS: {
        /* (4) SPEC HVM_PARAMS: the count covers the body exactly. */
        uint32_t count = mig_le32dec(body);

        if ((uint64_t)MIG_HVM_PARAMS_HDR_SIZE +
                (uint64_t)count * MIG_HVM_PARAM_ENTRY_SIZE != len)
            return fail(dec, MIG_ECORRUPT,
                        "HVM_PARAMS count %u does not match length %u",
                        count, len);
        break;
    }
    case MIG_REC_MIGLAB_GUEST_INFO: {
        struct mig_guest_info gi;

        if (mig_stream_parse_guest_info(body, len, &gi))
            return fail(dec, MIG_ECORRUPT, "bad MIGLAB_GUEST_INFO record");
        if (gi.nr_pages > dec->lim.max_pfn)
            return fail(dec, MIG_ECORRUPT,
                        "guest of %" PRIu64 " pages exceeds max_pfn %" PRIu64,
                        gi.nr_pages, dec->lim.max_pfn);
        break;
    }
    case MIG_REC_MIGLAB_WORKLOAD:
        if (memchr(body, '\0', len))
            return fail(dec, MIG_ECORRUPT, "NUL in MIGLAB_WORKLOAD text");
        break;
    default:
        break;
    }
    next_libxc(dec);
    return CALL(dec, on_record, type, body, len);
}

static int step_rhdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    const struct len_rule *rule;
    uint32_t type, len;
    int rc;

    rc = mig_buf_get_le32(b, &type);
    rc = rc ? rc : mig_buf_get_le32(b, &len);
    if (rc)
        return short_unit(dec, rc);
    dec->rec_type = type;
    dec->rec_len = len;
    /* (1) SPEC / read_record(): bound the length before buffering. */
    if (len > dec->lim.max_rec_len)
        return fail(dec, MIG_ECORRUPT,
                    "record 0x%08x (%s) length %u exceeds max %u", type,
                    mig_stream_rec_name(type), len, dec->lim.max_rec_len);
    rule = libxc_rule(type);
    if (!rule)
        return fail(dec, MIG_ECORRUPT, "unknown mandatory record type 0x%08x",
                    type);
    /* (2) the fixed part fits. */
    if (!len_ok(rule, len))
        return fail(dec, MIG_ECORRUPT, "%s record has bad length %u",
                    mig_stream_rec_name(type), len);

    switch (type) {
    case MIG_REC_END:
        dec->libxc_done = true;
        if (dec->outer_libxl)
            expect(dec, ST_LIBXL_RHDR, MIG_RHDR_SIZE);
        else
            dec->st = ST_DONE;
        return CALL(dec, on_end, MIG_LAYER_LIBXC);
    case MIG_REC_PAGE_DATA:
        /* v2 images have no STATIC_DATA_END: Xen infers it here. */
        if (!dec->seen_sde && dec->xc_version < 3)
            dec->seen_sde = true;
        if (!dec->seen_sde)
            return fail(dec, MIG_ECORRUPT,
                        "PAGE_DATA before STATIC_DATA_END");
        expect(dec, ST_PD_FIXED, MIG_PAGE_DATA_HDR_SIZE);
        return 0;
    case MIG_REC_STATIC_DATA_END:
        if (dec->seen_sde)
            return fail(dec, MIG_ECORRUPT, "second STATIC_DATA_END");
        dec->seen_sde = true;
        break;
    case MIG_REC_CHECKPOINT:
        if (!dec->outer_libxl)
            return fail(dec, MIG_ECORRUPT,
                        "CHECKPOINT in a libxc image without libxl layer");
        dec->in_checkpoint = true;
        expect(dec, ST_LIBXL_RHDR, MIG_RHDR_SIZE);
        return CALL(dec, on_record, type, empty_body, 0);
    default:
        break;
    }
    if (len == 0)
        return libxc_record(dec, empty_body);
    expect(dec, ST_BODY, padded(len));
    return 0;
}

static int step_pd_fixed(struct mig_stream_dec *dec, struct mig_buf *b)
{
    uint32_t count;
    int rc;

    rc = mig_buf_get_le32(b, &count);
    /* _res1 is ignored. */
    if (rc)
        return short_unit(dec, rc);
    /* (3) SPEC PAGE_DATA: count is strictly > 0. */
    if (count == 0)
        return fail(dec, MIG_ECORRUPT, "PAGE_DATA with no pfns");
    if (count > dec->lim.max_batch)
        return fail(dec, MIG_ECORRUPT, "PAGE_DATA count %u exceeds max %u",
                    count, dec->lim.max_batch);
    if ((uint64_t)MIG_PAGE_DATA_HDR_SIZE + (uint64_t)count * 8 >
        dec->rec_len)
        return fail(dec, MIG_ECORRUPT,
                    "PAGE_DATA length %u too short for %u pfns",
                    dec->rec_len, count);
    dec->pd_count = count;
    expect(dec, ST_PD_PFNS, (size_t)count * 8);
    return 0;
}

/* Whether PAGE_DATA pages are streamed (ops->on_page_part). */
static bool streaming(const struct mig_stream_dec *dec)
{
    return dec->ops && dec->ops->on_page_part;
}

/*
 * Streaming: pass on the next k (1..pd_left) data pages of the current
 * PAGE_DATA record, at pages, with their pfns and the pfns without data
 * before them (after the last page: up to the end of the record).
 */
static int pass_pages(struct mig_stream_dec *dec, const uint8_t *pages,
                      uint32_t k)
{
    uint32_t first = dec->pd_next, i = first, seen = 0;

    assert(k >= 1 && k <= dec->pd_left);
    /* step_pd_pfns counted pd_left data pfns from pd_next on. */
    while (seen < k) {
        assert(i < dec->pd_count);
        if (mig_page_type_has_data(MIG_PFN_WORD_TYPE(dec->pfns[i])))
            seen++;
        i++;
    }
    dec->pd_left -= k;
    if (dec->pd_left == 0) {
        i = dec->pd_count;
        next_libxc(dec);
    }
    dec->pd_next = i;
    return CALL(dec, on_page_part, dec->pfns + first, pages, i - first);
}

static int step_pd_pfns(struct mig_stream_dec *dec, struct mig_buf *b)
{
    uint32_t i, count = dec->pd_count;
    uint64_t ndata = 0, total;
    int rc;

    rc = pfns_reserve(dec, count);
    if (rc)
        return rc;
    for (i = 0; i < count; i++) {
        uint64_t w, pfn;
        unsigned type;

        rc = mig_buf_get_le64(b, &w);
        if (rc)
            return short_unit(dec, rc);
        pfn = MIG_PFN_WORD_PFN(w);
        type = MIG_PFN_WORD_TYPE(w);
        /* (5) each element: pfn in range, known type.  Bits 59-52 are
         * reserved: ignored, and cleared for the consumer. */
        if (pfn >= dec->lim.max_pfn)
            return fail(dec, MIG_ECORRUPT,
                        "pfn 0x%" PRIx64 " (index %u) beyond max 0x%" PRIx64,
                        pfn, i, dec->lim.max_pfn);
        if (!mig_page_type_known(type))
            return fail(dec, MIG_ECORRUPT,
                        "unknown page type 0x%x for pfn 0x%" PRIx64
                        " (index %u)", type, pfn, i);
        if (mig_page_type_has_data(type))
            ndata++;
        dec->pfns[i] = MIG_PFN_WORD(type, pfn);
    }
    /* (4) the length is exactly what the pfns promise. */
    total = MIG_PAGE_DATA_HDR_SIZE + (uint64_t)count * 8 +
            ndata * MIG_PAGE_SIZE;
    if (total != dec->rec_len)
        return fail(dec, MIG_ECORRUPT,
                    "PAGE_DATA length %u, expected %" PRIu64
                    " for %u pfns with %" PRIu64 " pages", dec->rec_len, total,
                    count, ndata);
    if (ndata == 0) {
        next_libxc(dec);
        if (streaming(dec))
            return CALL(dec, on_page_part, dec->pfns, empty_body, count);
        return CALL(dec, on_page_batch, dec->pfns, empty_body, count);
    }
    /* total is a multiple of 8: no padding follows. */
    dec->pd_next = 0;
    dec->pd_left = (uint32_t)ndata;
    expect(dec, ST_PD_PAGES, streaming(dec) ? MIG_PAGE_SIZE
                                            : (size_t)ndata * MIG_PAGE_SIZE);
    return 0;
}

static int step_libxl_rhdr(struct mig_stream_dec *dec, struct mig_buf *b)
{
    const struct len_rule *rule;
    uint32_t type, len;
    int rc;

    rc = mig_buf_get_le32(b, &type);
    rc = rc ? rc : mig_buf_get_le32(b, &len);
    if (rc)
        return short_unit(dec, rc);
    dec->rec_type = type;
    dec->rec_len = len;
    if (len > dec->lim.max_rec_len)
        return fail(dec, MIG_ECORRUPT,
                    "libxl record 0x%08x (%s) length %u exceeds max %u", type,
                    mig_stream_libxl_rec_name(type), len,
                    dec->lim.max_rec_len);
    rule = libxl_rule(type);
    if (!rule)
        return fail(dec, MIG_ECORRUPT,
                    "unknown mandatory libxl record type 0x%08x", type);
    if (!len_ok(rule, len))
        return fail(dec, MIG_ECORRUPT, "libxl %s record has bad length %u",
                    mig_stream_libxl_rec_name(type), len);

    switch (type) {
    case MIG_LIBXL_REC_END:
        if (dec->in_checkpoint)
            return fail(dec, MIG_ECORRUPT, "libxl END inside a checkpoint");
        if (!dec->libxc_done)
            return fail(dec, MIG_ECORRUPT, "libxl END before the libxc image");
        dec->st = ST_DONE;
        return CALL(dec, on_end, MIG_LAYER_LIBXL);
    case MIG_LIBXL_REC_LIBXC_CONTEXT:
        if (dec->in_checkpoint || dec->libxc_seen)
            return fail(dec, MIG_ECORRUPT, "unexpected LIBXC_CONTEXT");
        dec->libxc_seen = true;
        expect(dec, ST_IHDR, MIG_IHDR_SIZE);
        return 0;
    case MIG_LIBXL_REC_CHECKPOINT_END:
        if (!dec->in_checkpoint)
            return fail(dec, MIG_ECORRUPT, "unexpected CHECKPOINT_END");
        dec->in_checkpoint = false;
        next_libxc(dec);
        return CALL(dec, on_libxl_record, type, empty_body, 0);
    case MIG_LIBXL_REC_CHECKPOINT_STATE:
        /* libxl accepts it only on the COLO back channel. */
        return fail(dec, MIG_ECORRUPT, "unexpected CHECKPOINT_STATE");
    default:
        break;
    }
    if (len == 0) {
        expect(dec, ST_LIBXL_RHDR, MIG_RHDR_SIZE);
        return CALL(dec, on_libxl_record, type, empty_body, 0);
    }
    expect(dec, ST_LIBXL_BODY, padded(len));
    return 0;
}

/* One complete unit of dec->want bytes at p (streamed pages: n / 4096
 * whole pages). */
static int step(struct mig_stream_dec *dec, const uint8_t *p, size_t n)
{
    struct mig_buf b;

    mig_buf_init_whole(&b, p, n);
    switch (dec->st) {
    case ST_XL_HDR:
        return step_xl_hdr(dec, &b);
    case ST_XL_OPT:
        return step_xl_opt(dec, &b);
    case ST_LIBXL_HDR:
        return step_libxl_hdr(dec, &b);
    case ST_LIBXL_RHDR:
        return step_libxl_rhdr(dec, &b);
    case ST_LIBXL_BODY:
        /* Padding is ignored on read. */
        expect(dec, ST_LIBXL_RHDR, MIG_RHDR_SIZE);
        return CALL(dec, on_libxl_record, dec->rec_type, p, dec->rec_len);
    case ST_IHDR:
        return step_ihdr(dec, &b);
    case ST_DHDR:
        return step_dhdr(dec, &b);
    case ST_RHDR:
        return step_rhdr(dec, &b);
    case ST_BODY:
        return libxc_record(dec, p);
    case ST_PD_FIXED:
        return step_pd_fixed(dec, &b);
    case ST_PD_PFNS:
        return step_pd_pfns(dec, &b);
    case ST_PD_PAGES:
        if (streaming(dec))
            return pass_pages(dec, p, (uint32_t)(n / MIG_PAGE_SIZE));
        next_libxc(dec);
        return CALL(dec, on_page_batch, dec->pfns, p, dec->pd_count);
    case ST_DETECT:
    case ST_DONE:
    case ST_ERROR:
        break;
    }
    /* Units exist only in the states above. */
    assert(false);
    return fail(dec, MIG_EINVAL, "internal: bad decoder state");
}

/* Pick the outermost layer from the first byte (not consumed). */
static int detect(struct mig_stream_dec *dec, uint8_t first)
{
    switch (first) {
    case (uint8_t)'X':
        expect(dec, ST_XL_HDR, MIG_XL_HDR_SIZE);
        return 0;
    case (uint8_t)'L':
        expect(dec, ST_LIBXL_HDR, MIG_LIBXL_HDR_SIZE);
        return 0;
    case 0xff:
        expect(dec, ST_IHDR, MIG_IHDR_SIZE);
        return 0;
    default:
        return fail(dec, MIG_ECORRUPT,
                    "not a migration stream (first byte 0x%02x)", first);
    }
}

/* ---- feeding ----------------------------------------------------------- */

int mig_stream_dec_feed_some(struct mig_stream_dec *dec, const void *data,
                             size_t len, size_t *used)
{
    const uint8_t *p = data;
    size_t n = len;
    int rc = 0;

    *used = 0;
    if (dec->st == ST_ERROR)
        return dec->err;
    if (dec->in_callback)
        return MIG_EINVAL;
    if (len && !data)
        return MIG_EINVAL;

    while (n > 0 && dec->st != ST_DONE) {
        const uint8_t *unit;
        size_t ulen = dec->want;

        if (dec->st == ST_DETECT) {
            rc = detect(dec, p[0]);
            if (rc)
                break;
            continue;
        }
        if (dec->acc_len == 0)
            dec->unit_off = dec->offset;
        if (dec->acc_len == 0 && n >= ulen) {
            /* The whole unit is in the caller's buffer: no copy.  Streamed
             * pages: every whole page that is there. */
            if (dec->st == ST_PD_PAGES && streaming(dec))
                ulen = (n / MIG_PAGE_SIZE < dec->pd_left
                            ? n / MIG_PAGE_SIZE : dec->pd_left) *
                       MIG_PAGE_SIZE;
            unit = p;
            p += ulen;
            n -= ulen;
            dec->offset += ulen;
        } else {
            size_t take = ulen - dec->acc_len;

            if (take > n)
                take = n;
            rc = acc_append(dec, p, take);
            if (rc)
                break;
            p += take;
            n -= take;
            dec->offset += take;
            if (dec->acc_len < ulen)
                break;
            unit = dec->acc;
        }
        rc = step(dec, unit, ulen);
        if (unit == dec->acc)
            acc_trim(dec);
        if (rc)
            break;
    }
    *used = len - n;
    return rc;
}

int mig_stream_dec_feed(struct mig_stream_dec *dec, const void *data,
                        size_t len)
{
    size_t used;
    int rc = mig_stream_dec_feed_some(dec, data, len, &used);

    if (rc)
        return rc;
    if (used < len) {
        dec->unit_off = dec->offset;
        return fail(dec, MIG_ECORRUPT,
                    "%zu bytes of trailing data after the end of the stream",
                    len - used);
    }
    return 0;
}

int mig_stream_dec_finish(const struct mig_stream_dec *dec)
{
    if (dec->st == ST_ERROR)
        return dec->err;
    return dec->st == ST_DONE ? 0 : MIG_EINCOMPLETE;
}

bool mig_stream_dec_done(const struct mig_stream_dec *dec)
{
    return dec->st == ST_DONE;
}

int mig_stream_dec_errcode(const struct mig_stream_dec *dec)
{
    return dec->st == ST_ERROR ? dec->err : 0;
}

const char *mig_stream_dec_error(const struct mig_stream_dec *dec)
{
    return dec->st == ST_ERROR ? dec->msg : "";
}

void mig_stream_dec_set_offset(struct mig_stream_dec *dec, uint64_t off)
{
    dec->offset = off;
}

uint64_t mig_stream_dec_offset(const struct mig_stream_dec *dec)
{
    return dec->offset;
}

size_t mig_stream_dec_footprint(const struct mig_stream_dec *dec)
{
    return dec->peak;
}
