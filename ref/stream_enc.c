/* SPDX-License-Identifier: MIT */
/*
 * stream_enc.c - encoder of the Xen migration stream (see stream.h): headers,
 * record framing and PAGE_DATA, plus the tables both directions share:
 * record names, page types and the xl handshake messages.  The bodies of
 * the other fixed-layout records are in stream_rec.c.
 *
 * Every function reserves the whole item first and only then writes it, so
 * a failure (MIG_ENOMEM, MIG_EINVAL) leaves the output buffer unchanged.
 * Layouts: stream_format.h; normative text: docs/stream-format.md.
 */
#include <assert.h>
#include <string.h>

#include "stream.h"
#include "stream_int.h"

/* ---- names ------------------------------------------------------------- */

static const char *const libxc_rec_names[MIG_REC_NR_KNOWN] = {
    [MIG_REC_END] = "END",
    [MIG_REC_PAGE_DATA] = "PAGE_DATA",
    [MIG_REC_X86_PV_INFO] = "X86_PV_INFO",
    [MIG_REC_X86_PV_P2M_FRAMES] = "X86_PV_P2M_FRAMES",
    [MIG_REC_X86_PV_VCPU_BASIC] = "X86_PV_VCPU_BASIC",
    [MIG_REC_X86_PV_VCPU_EXTENDED] = "X86_PV_VCPU_EXTENDED",
    [MIG_REC_X86_PV_VCPU_XSAVE] = "X86_PV_VCPU_XSAVE",
    [MIG_REC_SHARED_INFO] = "SHARED_INFO",
    [MIG_REC_X86_TSC_INFO] = "X86_TSC_INFO",
    [MIG_REC_HVM_CONTEXT] = "HVM_CONTEXT",
    [MIG_REC_HVM_PARAMS] = "HVM_PARAMS",
    [MIG_REC_TOOLSTACK] = "TOOLSTACK",
    [MIG_REC_X86_PV_VCPU_MSRS] = "X86_PV_VCPU_MSRS",
    [MIG_REC_VERIFY] = "VERIFY",
    [MIG_REC_CHECKPOINT] = "CHECKPOINT",
    [MIG_REC_CHECKPOINT_DIRTY_PFN_LIST] = "CHECKPOINT_DIRTY_PFN_LIST",
    [MIG_REC_STATIC_DATA_END] = "STATIC_DATA_END",
    [MIG_REC_X86_CPUID_POLICY] = "X86_CPUID_POLICY",
    [MIG_REC_X86_MSR_POLICY] = "X86_MSR_POLICY",
};

static const char *const libxl_rec_names[MIG_LIBXL_REC_NR_KNOWN] = {
    [MIG_LIBXL_REC_END] = "END",
    [MIG_LIBXL_REC_LIBXC_CONTEXT] = "LIBXC_CONTEXT",
    [MIG_LIBXL_REC_EMULATOR_XENSTORE_DATA] = "EMULATOR_XENSTORE_DATA",
    [MIG_LIBXL_REC_EMULATOR_CONTEXT] = "EMULATOR_CONTEXT",
    [MIG_LIBXL_REC_CHECKPOINT_END] = "CHECKPOINT_END",
    [MIG_LIBXL_REC_CHECKPOINT_STATE] = "CHECKPOINT_STATE",
};

const char *mig_stream_rec_name(uint32_t type)
{
    if (type < MIG_REC_NR_KNOWN)
        return libxc_rec_names[type];
    switch (type) {
    case MIG_REC_MIGLAB_GUEST_INFO:
        return "MIGLAB_GUEST_INFO";
    case MIG_REC_MIGLAB_WORKLOAD:
        return "MIGLAB_WORKLOAD";
    case MIG_REC_MIGLAB_GEN_STATE:
        return "MIGLAB_GEN_STATE";
    default:
        break;
    }
    return (type & MIG_REC_TYPE_OPTIONAL) ? "optional" : "reserved";
}

const char *mig_stream_libxl_rec_name(uint32_t type)
{
    if (type < MIG_LIBXL_REC_NR_KNOWN)
        return libxl_rec_names[type];
    return (type & MIG_REC_TYPE_OPTIONAL) ? "optional" : "reserved";
}

bool mig_page_type_known(unsigned type)
{
    /* SPEC PAGE_DATA: 0x5-0x8 are reserved; 4 bits hold the rest. */
    return type <= MIG_PT_L4TAB ||
           (type >= MIG_PT_L1TAB_PIN && type <= MIG_PT_XTAB);
}

bool mig_page_type_has_data(unsigned type)
{
    /* SPEC PAGE_DATA: BROKEN, XALLOC and XTAB have no page_data. */
    return mig_page_type_known(type) && type != MIG_PT_BROKEN &&
           type != MIG_PT_XALLOC && type != MIG_PT_XTAB;
}

/* ---- handshake --------------------------------------------------------- */

static const struct {
    const char *bytes;
    size_t len;
} handshakes[] = {
    [MIG_HS_BANNER] = { MIG_XL_BANNER, MIG_XL_BANNER_LEN },
    [MIG_HS_READY] = { MIG_XL_READY, MIG_XL_READY_LEN },
    [MIG_HS_GO] = { MIG_XL_GO, MIG_XL_GO_LEN },
    [MIG_HS_REPORT] = { MIG_XL_REPORT, MIG_XL_REPORT_LEN },
};

const char *mig_handshake_bytes(enum mig_handshake which, size_t *len)
{
    assert((size_t)which < sizeof(handshakes) / sizeof(handshakes[0]));
    *len = handshakes[which].len;
    return handshakes[which].bytes;
}

int mig_stream_put_handshake(struct mig_wbuf *wb, enum mig_handshake which)
{
    size_t len;
    const char *msg;

    if ((size_t)which >= sizeof(handshakes) / sizeof(handshakes[0]) ||
        which == MIG_HS_REPORT)
        return MIG_EINVAL;
    msg = mig_handshake_bytes(which, &len);
    return mig_wbuf_put_bytes(wb, msg, len);
}

int mig_stream_put_report(struct mig_wbuf *wb, uint8_t status)
{
    int rc = mig_wbuf_reserve(wb, MIG_XL_REPORT_MSG_LEN);

    if (rc)
        return rc;
    rc = mig_wbuf_put_bytes(wb, MIG_XL_REPORT, MIG_XL_REPORT_LEN);
    assert(rc == 0);
    return mig_wbuf_put_u8(wb, status);
}

int mig_handshake_match(enum mig_handshake which, const void *buf,
                        size_t len)
{
    size_t want;
    const char *msg;

    if ((size_t)which >= sizeof(handshakes) / sizeof(handshakes[0]))
        return MIG_EINVAL;
    msg = mig_handshake_bytes(which, &want);
    if (len > want)
        return MIG_EPROTO;
    if (len && memcmp(buf, msg, len) != 0)
        return MIG_EPROTO;
    return len == want ? 0 : MIG_EINCOMPLETE;
}

/* ---- records ----------------------------------------------------------- */

static size_t padded(size_t len)
{
    return (len + (MIG_REC_ALIGN - 1)) & ~(size_t)(MIG_REC_ALIGN - 1);
}

/* See stream_int.h. */
int mig__stream_put_record2(struct mig_wbuf *wb, uint32_t type,
                            const void *a, size_t alen, const void *b,
                            size_t blen)
{
    size_t len;
    int rc;

    if (alen > MIG_REC_LENGTH_MAX || blen > MIG_REC_LENGTH_MAX - alen)
        return MIG_EINVAL;
    len = alen + blen;
    rc = mig_wbuf_reserve(wb, MIG_RHDR_SIZE + padded(len));
    if (rc)
        return rc;
    /* Room is reserved: none of these can fail. */
    rc = mig_wbuf_put_le32(wb, type);
    rc |= mig_wbuf_put_le32(wb, (uint32_t)len);
    rc |= mig_wbuf_put_bytes(wb, a, alen);
    rc |= mig_wbuf_put_bytes(wb, b, blen);
    /* The padding is relative to the record, not to the buffer: the xl
     * header before the libxl stream has an arbitrary length. */
    rc |= mig_wbuf_put_zeros(wb, padded(len) - len);
    assert(rc == 0);
    return rc;
}

int mig_stream_put_record(struct mig_wbuf *wb, uint32_t type,
                          const void *body, size_t len)
{
    if (len && !body)
        return MIG_EINVAL;
    return mig__stream_put_record2(wb, type, body, len, NULL, 0);
}

int mig_stream_put_libxl_record(struct mig_wbuf *wb, uint32_t type,
                                const void *body, size_t len)
{
    return mig_stream_put_record(wb, type, body, len);
}

int mig_stream_put_libxl_emulator(struct mig_wbuf *wb, uint32_t type,
                                  uint32_t emulator_id, uint32_t index,
                                  const void *data, size_t len)
{
    uint8_t hdr[MIG_LIBXL_EMU_HDR_SIZE];

    if (type != MIG_LIBXL_REC_EMULATOR_XENSTORE_DATA &&
        type != MIG_LIBXL_REC_EMULATOR_CONTEXT)
        return MIG_EINVAL;
    if (len && !data)
        return MIG_EINVAL;
    mig_le32enc(hdr, emulator_id);
    mig_le32enc(hdr + 4, index);
    return mig__stream_put_record2(wb, type, hdr, sizeof(hdr), data, len);
}

int mig_stream_put_libxl_end(struct mig_wbuf *wb)
{
    return mig__stream_put_record2(wb, MIG_LIBXL_REC_END, NULL, 0, NULL, 0);
}

int mig_stream_put_libxc_context(struct mig_wbuf *wb)
{
    return mig__stream_put_record2(wb, MIG_LIBXL_REC_LIBXC_CONTEXT, NULL, 0,
                                   NULL, 0);
}

int mig_stream_put_end(struct mig_wbuf *wb)
{
    return mig__stream_put_record2(wb, MIG_REC_END, NULL, 0, NULL, 0);
}

int mig_stream_put_static_data_end(struct mig_wbuf *wb)
{
    return mig__stream_put_record2(wb, MIG_REC_STATIC_DATA_END, NULL, 0, NULL,
                                   0);
}

/* ---- headers ----------------------------------------------------------- */

int mig_stream_put_xl_header(struct mig_wbuf *wb, const char *json)
{
    size_t config_len = json ? strlen(json) + 1 : 0;
    uint32_t mandatory = MIG_XL_FLAG_STREAMV2;
    int rc;

    if (config_len > MIG_XL_CONFIG_MAX)
        return MIG_EINVAL;
    if (config_len)
        mandatory |= MIG_XL_FLAG_JSON;
    rc = mig_wbuf_reserve(wb, MIG_XL_HDR_SIZE + 4 + config_len);
    if (rc)
        return rc;
    rc = mig_wbuf_put_bytes(wb, MIG_XL_MAGIC, MIG_XL_MAGIC_LEN);
    rc |= mig_wbuf_put_le32(wb, MIG_XL_BYTEORDER);
    rc |= mig_wbuf_put_le32(wb, mandatory);
    rc |= mig_wbuf_put_le32(wb, 0);                     /* optional_flags */
    rc |= mig_wbuf_put_le32(wb, (uint32_t)(4 + config_len));
    rc |= mig_wbuf_put_le32(wb, (uint32_t)config_len);
    rc |= mig_wbuf_put_bytes(wb, json, config_len);
    assert(rc == 0);
    return rc;
}

int mig_stream_put_libxl_header(struct mig_wbuf *wb)
{
    int rc = mig_wbuf_reserve(wb, MIG_LIBXL_HDR_SIZE);

    if (rc)
        return rc;
    rc = mig_wbuf_put_be64(wb, MIG_LIBXL_IDENT);
    rc |= mig_wbuf_put_be32(wb, MIG_LIBXL_VERSION);
    rc |= mig_wbuf_put_be32(wb, 0);                     /* little-endian */
    assert(rc == 0);
    return rc;
}

int mig_stream_put_image_header(struct mig_wbuf *wb)
{
    int rc = mig_wbuf_reserve(wb, MIG_IHDR_SIZE);

    if (rc)
        return rc;
    rc = mig_wbuf_put_be64(wb, MIG_IHDR_MARKER);
    rc |= mig_wbuf_put_be32(wb, MIG_IHDR_ID);
    rc |= mig_wbuf_put_be32(wb, MIG_IHDR_VERSION);
    rc |= mig_wbuf_put_be16(wb, 0);                     /* little-endian */
    rc |= mig_wbuf_put_zeros(wb, 6);                    /* _res1, _res2 */
    assert(rc == 0);
    return rc;
}

int mig_stream_put_domain_header(struct mig_wbuf *wb,
                                 const struct mig_domain_header *dh)
{
    int rc;

    if (dh->type < MIG_DHDR_TYPE_X86_PV || dh->type > MIG_DHDR_TYPE_ARM ||
        dh->page_shift != MIG_PAGE_SHIFT)
        return MIG_EINVAL;
    rc = mig_wbuf_reserve(wb, MIG_DHDR_SIZE);
    if (rc)
        return rc;
    rc = mig_wbuf_put_le32(wb, dh->type);
    rc |= mig_wbuf_put_le16(wb, dh->page_shift);
    rc |= mig_wbuf_put_le16(wb, 0);                     /* _res1 */
    rc |= mig_wbuf_put_le32(wb, dh->xen_major);
    rc |= mig_wbuf_put_le32(wb, dh->xen_minor);
    assert(rc == 0);
    return rc;
}

/* ---- libxc records with a layout --------------------------------------- */

/* Validate and append the record header and pfn words of a PAGE_DATA of
 * count pfns; *ndata is the number of pages that carry data. */
static int page_data_head(struct mig_wbuf *wb, const uint64_t *pfns,
                          const void *const *pages, uint32_t count,
                          size_t extra, size_t *ndata_out)
{
    size_t ndata = 0, len;
    uint32_t i;
    int rc;

    if (count == 0 || count > MIG_MAX_BATCH || !pfns)
        return MIG_EINVAL;
    for (i = 0; i < count; i++) {
        unsigned type = MIG_PFN_WORD_TYPE(pfns[i]);

        if ((pfns[i] & MIG_PFN_RES_MASK) || !mig_page_type_known(type))
            return MIG_EINVAL;
        if (mig_page_type_has_data(type)) {
            if (pages && !pages[i])
                return MIG_EINVAL;
            ndata++;
        }
    }
    if (ndata && !pages && extra)
        return MIG_EINVAL;
    /* At most 8 + 1024 * (8 + 4096) bytes: far below MIG_REC_LENGTH_MAX. */
    len = MIG_PAGE_DATA_HDR_SIZE + (size_t)count * 8 + ndata * MIG_PAGE_SIZE;
    assert(len <= MIG_REC_LENGTH_MAX && len % MIG_REC_ALIGN == 0);
    rc = mig_wbuf_reserve(wb, MIG_RHDR_SIZE + len - ndata * MIG_PAGE_SIZE +
                                  (extra ? ndata * MIG_PAGE_SIZE : 0));
    if (rc)
        return rc;
    rc = mig_wbuf_put_le32(wb, MIG_REC_PAGE_DATA);
    rc |= mig_wbuf_put_le32(wb, (uint32_t)len);
    rc |= mig_wbuf_put_le32(wb, count);
    rc |= mig_wbuf_put_le32(wb, 0);                     /* _res1 */
    for (i = 0; i < count; i++)
        rc |= mig_wbuf_put_le64(wb, pfns[i]);
    assert(rc == 0);
    *ndata_out = ndata;
    return rc;
}

int mig_stream_put_page_data(struct mig_wbuf *wb, const uint64_t *pfns,
                             const void *const *pages, uint32_t count)
{
    size_t ndata, start = wb->len;
    uint32_t i;
    int rc;

    rc = page_data_head(wb, pfns, pages, count, 1, &ndata);
    if (rc)
        return rc;
    for (i = 0; i < count; i++)
        if (mig_page_type_has_data(MIG_PFN_WORD_TYPE(pfns[i])))
            rc |= mig_wbuf_put_bytes(wb, pages[i], MIG_PAGE_SIZE);
    assert(rc == 0 && wb->len - start == MIG_RHDR_SIZE +
                      MIG_PAGE_DATA_HDR_SIZE + (size_t)count * 8 +
                      ndata * MIG_PAGE_SIZE);
    (void)start;
    return rc;
}

int mig_stream_put_page_data_head(struct mig_wbuf *wb, const uint64_t *pfns,
                                  uint32_t count, size_t *page_bytes)
{
    size_t ndata = 0;
    int rc = page_data_head(wb, pfns, NULL, count, 0, &ndata);

    *page_bytes = rc ? 0 : ndata * MIG_PAGE_SIZE;
    return rc;
}
