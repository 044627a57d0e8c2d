/* SPDX-License-Identifier: MIT */
/*
 * stream_rec.c - bodies of the fixed-layout records: X86_TSC_INFO,
 * HVM_PARAMS and miglab's optional records (MIGLAB_GUEST_INFO,
 * MIGLAB_WORKLOAD, MIGLAB_GEN_STATE), each encoder next to its parser.
 *
 * The framing of these records is stream_enc.c's; the decoder (stream_dec.c)
 * checks their lengths and calls the parsers here.  Layouts:
 * stream_format.h; normative text: docs/stream-format.md sections 5 and 6.
 */
#include <assert.h>
#include <string.h>

#include "stream.h"
#include "stream_int.h"

/* ---- X86_TSC_INFO, HVM_PARAMS ------------------------------------------ */

int mig_stream_put_tsc_info(struct mig_wbuf *wb, const struct mig_tsc_info *t)
{
    uint8_t body[MIG_TSC_INFO_SIZE];

    mig_le32enc(body, t->mode);
    mig_le32enc(body + 4, t->khz);
    mig_le64enc(body + 8, t->nsec);
    mig_le32enc(body + 16, t->incarnation);
    mig_le32enc(body + 20, 0);                          /* _res1 */
    return mig__stream_put_record2(wb, MIG_REC_X86_TSC_INFO, body, sizeof(body),
                                   NULL, 0);
}

int mig_stream_put_hvm_params(struct mig_wbuf *wb,
                              const struct mig_hvm_param *p, uint32_t count)
{
    size_t len, start;
    uint32_t i;
    int rc;

    if ((count && !p) ||
        count > (MIG_REC_LENGTH_MAX - MIG_HVM_PARAMS_HDR_SIZE) /
                    MIG_HVM_PARAM_ENTRY_SIZE)
        return MIG_EINVAL;
    len = MIG_HVM_PARAMS_HDR_SIZE + (size_t)count * MIG_HVM_PARAM_ENTRY_SIZE;
    rc = mig_wbuf_reserve(wb, MIG_RHDR_SIZE + len);
    if (rc)
        return rc;
    start = wb->len;
    rc = mig_wbuf_put_le32(wb, MIG_REC_HVM_PARAMS);
    rc |= mig_wbuf_put_le32(wb, (uint32_t)len);
    rc |= mig_wbuf_put_le32(wb, count);
    rc |= mig_wbuf_put_le32(wb, 0);                     /* _res1 */
    for (i = 0; i < count; i++) {
        rc |= mig_wbuf_put_le64(wb, p[i].index);
        rc |= mig_wbuf_put_le64(wb, p[i].value);
    }
    assert(rc == 0 && wb->len - start == MIG_RHDR_SIZE + len);
    (void)start;
    return rc;
}

int mig_stream_parse_tsc_info(const void *body, size_t len,
                              struct mig_tsc_info *out)
{
    struct mig_buf b;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len != MIG_TSC_INFO_SIZE)
        return MIG_ECORRUPT;
    mig_buf_init_whole(&b, body, len);
    rc = mig_buf_get_le32(&b, &out->mode);
    rc = rc ? rc : mig_buf_get_le32(&b, &out->khz);
    rc = rc ? rc : mig_buf_get_le64(&b, &out->nsec);
    rc = rc ? rc : mig_buf_get_le32(&b, &out->incarnation);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- miglab optional records ------------------------------------------ */

int mig_stream_put_guest_info(struct mig_wbuf *wb,
                              const struct mig_guest_info *gi)
{
    uint8_t body[MIG_GUEST_INFO_SIZE];

    if (gi->vcpus == 0 || gi->nr_pages == 0 ||
        gi->nr_pages > MIG_PFN_MASK + 1)
        return MIG_EINVAL;
    mig_le32enc(body, MIG_GUEST_INFO_VERSION);
    mig_le32enc(body + 4, gi->vcpus);
    mig_le64enc(body + 8, gi->nr_pages);
    mig_le64enc(body + 16, gi->stamp_generation);
    mig_le32enc(body + 24, gi->flags);
    mig_le32enc(body + 28, 0);                          /* _res1 */
    return mig__stream_put_record2(wb, MIG_REC_MIGLAB_GUEST_INFO, body,
                                   sizeof(body), NULL, 0);
}

int mig_stream_parse_guest_info(const void *body, size_t len,
                                struct mig_guest_info *out)
{
    struct mig_buf b;
    uint32_t version, res;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len != MIG_GUEST_INFO_SIZE)
        return MIG_ECORRUPT;
    mig_buf_init_whole(&b, body, len);
    rc = mig_buf_get_le32(&b, &version);
    rc = rc ? rc : mig_buf_get_le32(&b, &out->vcpus);
    rc = rc ? rc : mig_buf_get_le64(&b, &out->nr_pages);
    rc = rc ? rc : mig_buf_get_le64(&b, &out->stamp_generation);
    rc = rc ? rc : mig_buf_get_le32(&b, &out->flags);
    rc = rc ? rc : mig_buf_get_le32(&b, &res);          /* _res1: ignored */
    if (rc == 0 &&
        (version != MIG_GUEST_INFO_VERSION || out->vcpus == 0 ||
         out->nr_pages == 0 || out->nr_pages > MIG_PFN_MASK + 1))
        rc = MIG_ECORRUPT;
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

int mig_stream_put_workload(struct mig_wbuf *wb, const char *spec,
                            size_t len)
{
    if (!spec || len == 0 || len > MIG_WORKLOAD_SPEC_MAX ||
        memchr(spec, '\0', len))
        return MIG_EINVAL;
    return mig__stream_put_record2(wb, MIG_REC_MIGLAB_WORKLOAD, spec, len,
                                   NULL, 0);
}

int mig_stream_put_gen_state(struct mig_wbuf *wb, uint32_t format,
                             const void *state, size_t len)
{
    uint8_t hdr[MIG_GEN_STATE_HDR_SIZE];

    if (len > MIG_GEN_STATE_MAX || (len && !state))
        return MIG_EINVAL;
    mig_le32enc(hdr, format);
    mig_le32enc(hdr + 4, 0);                            /* _res1 */
    return mig__stream_put_record2(wb, MIG_REC_MIGLAB_GEN_STATE, hdr,
                                   sizeof(hdr), state, len);
}

int mig_stream_parse_gen_state(const void *body, size_t len,
                               uint32_t *format, const uint8_t **state,
                               size_t *state_len)
{
    struct mig_buf b;
    int rc;

    *format = 0;
    *state = NULL;
    *state_len = 0;
    if (len < MIG_GEN_STATE_HDR_SIZE ||
        len - MIG_GEN_STATE_HDR_SIZE > MIG_GEN_STATE_MAX)
        return MIG_ECORRUPT;
    mig_buf_init_whole(&b, body, len);
    rc = mig_buf_get_le32(&b, format);
    rc = rc ? rc : mig_buf_skip(&b, 4);                 /* _res1 */
    rc = rc ? rc : mig_buf_get_ptr(&b, state, mig_buf_remaining(&b));
    if (rc) {
        *format = 0;
        return rc;
    }
    *state_len = len - MIG_GEN_STATE_HDR_SIZE;
    return 0;
}
