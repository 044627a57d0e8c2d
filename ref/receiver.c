/* SPDX-License-Identifier: MIT */
/*
 * receiver.c - cold and live migration, receiving side (receiver.h).
 *
 * The decoder (ref/stream.h) has already checked framing, lengths, page
 * types and pfn < max_pfn; here every pfn is checked again against the size
 * of the guest actually created (SPEC: pages must lie inside the guest), and
 * records arrive in a hostile order: pages or state before GUEST_INFO, or a
 * second GUEST_INFO, are MIG_ECORRUPT.
 *
 * Integrity: each written page's XXH3-64 is recorded as it lands, so after
 * the final pass hashes[] describes the destination memory as of the end of
 * the stream without a second read (pages never written keep the hash of
 * a zero page, which is what a fresh mapping holds).
 */
#include "receiver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "stream.h"

struct rcv {
    const struct mig_recv_opts *o;
    struct mig_chan *ch;
    bool admission;             /* the sender waits for our line */
    bool downtime_note;         /* the sender sends its downtime at the end */
    struct mig_recv_info *info;
    struct mig_guest *g;
    uint64_t *hashes;
    bool verify;
};

/* Send one fixed handshake message. */
static int send_hs(struct mig_chan *ch, enum mig_handshake which)
{
    size_t len;
    const char *msg = mig_handshake_bytes(which, &len);

    return mig_chan_send(ch, msg, len);
}

static const char *json_str(struct json_object *root, const char *obj,
                            const char *key)
{
    struct json_object *o, *v;

    if (json_object_object_get_ex(root, obj, &o) &&
        json_object_object_get_ex(o, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static int64_t json_int(struct json_object *root, const char *obj,
                        const char *key)
{
    struct json_object *o, *v;

    if (json_object_object_get_ex(root, obj, &o) &&
        json_object_object_get_ex(o, key, &v) &&
        json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return 0;
}

static bool json_flag(struct json_object *ml, const char *key)
{
    struct json_object *v;

    return ml && json_object_object_get_ex(ml, key, &v) &&
           json_object_get_boolean(v);
}

/* Answer a sender waiting for admission. */
static int send_admission(struct rcv *r, const char *refusal)
{
    char line[MIG_ADMIT_LINE_MAX + 1];
    int n;

    if (!r->admission)
        return 0;
    if (refusal)
        n = snprintf(line, sizeof(line), "miglab admission: refused: %.*s\n",
                     (int)MIG_ADMIT_LINE_MAX - 30, refusal);
    else
        n = snprintf(line, sizeof(line), "miglab admission: ok\n");
    return mig_chan_send(r->ch, line, (size_t)n);
}

static int on_xl_header(void *opaque, const struct mig_xl_header *h)
{
    struct rcv *r = opaque;
    struct json_object *root = NULL, *ml = NULL;
    struct mig_admit_req req = { .name = "", .config = "" };
    const char *name;
    int64_t kb, vc;
    int rc = 0, src;

    if (h->config) {
        /* The decoder guarantees exactly one NUL, at the end.  xl's config
         * is opaque to us beyond the fields read here. */
        root = json_tokener_parse(h->config);
        req.config = h->config;
    }
    if (root) {
        if (json_object_object_get_ex(root, "miglab", &ml)) {
            r->verify = json_flag(ml, "verify");
            r->admission = json_flag(ml, "admission");
            r->downtime_note = json_flag(ml, "downtime_note");
        }
        name = json_str(root, "c_info", "name");
        if (name)
            req.name = name;
        kb = json_int(root, "b_info", "max_memkb");
        vc = json_int(root, "b_info", "max_vcpus");
        /* SPEC (host-protocol.md): sizes from the peer are re-checked at
         * GUEST_INFO; here they only decide the admission. */
        req.mem_bytes = kb > 0 && (uint64_t)kb < (UINT64_MAX >> 10)
                            ? (uint64_t)kb * 1024 : 0;
        req.vcpus = vc > 0 && vc <= UINT32_MAX ? (uint32_t)vc : 0;
    }
    snprintf(r->info->name, sizeof(r->info->name), "%s", req.name);
    if (r->o->admit)
        rc = r->o->admit(r->o->admit_opaque, &req, r->info->msg,
                         sizeof(r->info->msg));
    if (rc) {
        if (!r->info->msg[0])
            snprintf(r->info->msg, sizeof(r->info->msg), "admission refused");
        (void)send_admission(r, r->info->msg);
        rc = rc < 0 ? rc : MIG_ERANGE;
    } else {
        src = send_admission(r, NULL);
        rc = src;
    }
    json_object_put(root);
    return rc;
}

static int create_guest(struct rcv *r, const uint8_t *body, uint32_t len)
{
    struct mig_guest_info gi;
    struct mig_guest_desc d;
    uint64_t zero_hash;
    uint8_t *zero;
    int rc;

    if (r->g) {
        snprintf(r->info->msg, sizeof(r->info->msg), "second GUEST_INFO");
        return MIG_ECORRUPT;
    }
    rc = mig_stream_parse_guest_info(body, len, &gi);
    if (rc) {
        snprintf(r->info->msg, sizeof(r->info->msg), "bad GUEST_INFO");
        return rc;
    }
    if (r->o->max_pages && gi.nr_pages > r->o->max_pages) {
        snprintf(r->info->msg, sizeof(r->info->msg),
                 "guest of %llu pages exceeds the limit of %llu",
                 (unsigned long long)gi.nr_pages,
                 (unsigned long long)r->o->max_pages);
        return MIG_ERANGE;
    }
    d = (struct mig_guest_desc){ .nr_pages = gi.nr_pages, .vcpus = gi.vcpus,
                                 .stamp_generation = gi.stamp_generation };
    rc = r->o->create(r->o->create_opaque, &d, &r->g, r->info->msg,
                      sizeof(r->info->msg));
    if (rc)
        return rc;
    r->info->desc = d;
    /* Hashes only for a sender that asked for them (the xl header came
     * first); an xl sender never reads them. */
    if (!r->verify)
        return 0;
    r->hashes = malloc(d.nr_pages * sizeof(*r->hashes));
    zero = calloc(1, MIG_PAGE_SIZE);
    if (!r->hashes || !zero) {
        free(zero);
        return MIG_ENOMEM;
    }
    zero_hash = mig_page_hash(zero);
    free(zero);
    for (uint64_t i = 0; i < d.nr_pages; i++)
        r->hashes[i] = zero_hash;
    return 0;
}

static int on_record(void *opaque, uint32_t type, const uint8_t *body,
                     uint32_t len)
{
    struct rcv *r = opaque;

    if (type == MIG_REC_MIGLAB_GUEST_INFO)
        return create_guest(r, body, len);
    if (!r->g) {
        if (type == MIG_REC_MIGLAB_WORKLOAD ||
            type == MIG_REC_MIGLAB_GEN_STATE) {
            snprintf(r->info->msg, sizeof(r->info->msg),
                     "%s before GUEST_INFO", mig_stream_rec_name(type));
            return MIG_ECORRUPT;
        }
        return 0;
    }
    return r->g->ops->load_record(r->g, type, body, len);
}

static int on_page_batch(void *opaque, const uint64_t *pfns,
                         const uint8_t *pages, uint32_t count)
{
    struct rcv *r = opaque;

    if (!r->g) {
        snprintf(r->info->msg, sizeof(r->info->msg),
                 "PAGE_DATA before GUEST_INFO");
        return MIG_ECORRUPT;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint64_t pfn = MIG_PFN_WORD_PFN(pfns[i]);
        int rc;

        if (pfn >= r->info->desc.nr_pages) {
            snprintf(r->info->msg, sizeof(r->info->msg),
                     "pfn %#llx beyond guest of %llu pages",
                     (unsigned long long)pfn,
                     (unsigned long long)r->info->desc.nr_pages);
            return MIG_ECORRUPT;
        }
        if (!mig_page_type_has_data(MIG_PFN_WORD_TYPE(pfns[i])))
            continue;
        rc = r->g->ops->write_page(r->g, pfn, pages);
        if (rc)
            return rc;
        if (r->hashes)
            r->hashes[pfn] = mig_page_hash(pages);
        r->info->pages_written++;
        pages += MIG_PAGE_SIZE;
    }
    return 0;
}

/* Pages are streamed (on_page_part): they go from the receive buffer to
 * the guest without being gathered into whole records first. */
static const struct mig_stream_dec_ops dec_ops = {
    .on_xl_header = on_xl_header,
    .on_page_part = on_page_batch,
    .on_record = on_record,
};

/* Decode until the end of the stream, MIG_RECV_BUF bytes at a time; the
 * decoder passes pages on from the buffer in place. */
static int read_stream(struct rcv *r, struct mig_chan *ch, double t0)
{
    struct mig_stream_limits lim;
    struct mig_stream_dec *dec;
    uint8_t *buf = malloc(MIG_RECV_BUF);
    int rc;

    mig_stream_limits_default(&lim);
    if (r->o->max_pages)
        lim.max_pfn = r->o->max_pages;
    dec = mig_stream_dec_new(&lim);
    if (!dec || !buf) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    mig_stream_dec_set_ops(dec, &dec_ops, r);
    while (!mig_stream_dec_done(dec)) {
        size_t got, used;

        rc = mig_chan_recv(ch, buf, MIG_RECV_BUF, &got);
        if (rc)
            goto out_free;
        if (mig_stream_dec_offset(dec) == 0)
            r->info->first_byte_s = mig__now() - t0;
        if (got == 0) {
            rc = MIG_EINCOMPLETE;
            snprintf(r->info->msg, sizeof(r->info->msg),
                     "sender closed the stream at byte %llu",
                     (unsigned long long)mig_stream_dec_offset(dec));
            goto out_free;
        }
        rc = mig_stream_dec_feed_some(dec, buf, got, &used);
        if (rc) {
            if (!r->info->msg[0])
                snprintf(r->info->msg, sizeof(r->info->msg), "stream: %s",
                         mig_stream_dec_error(dec));
            goto out_free;
        }
        if (used < got) {
            /* The sender speaks only after our "ready" message. */
            snprintf(r->info->msg, sizeof(r->info->msg),
                     "data after the end of the stream");
            rc = MIG_EPROTO;
            goto out_free;
        }
    }
    r->info->stream_bytes = mig_stream_dec_offset(dec);
    if (!r->g) {
        snprintf(r->info->msg, sizeof(r->info->msg),
                 "stream carried no GUEST_INFO");
        rc = MIG_ECORRUPT;
    }
out_free:
    mig_stream_dec_free(dec);
    free(buf);
    return rc;
}

static int send_hashes(struct rcv *r, struct mig_chan *ch)
{
    uint64_t n = r->info->desc.nr_pages;
    uint8_t *buf = malloc(8 * (MIG_MAX_BATCH + 1));
    size_t len = 8;
    int rc = 0;

    if (!buf)
        return MIG_ENOMEM;
    mig_le64enc(buf, n);
    for (uint64_t pfn = 0; pfn < n && !rc; pfn++) {
        mig_le64enc(buf + len, r->hashes[pfn]);
        len += 8;
        if (len == 8 * (MIG_MAX_BATCH + 1) || pfn + 1 == n) {
            rc = mig_chan_send(ch, buf, len);
            len = 0;
        }
    }
    if (!rc && n == 0)
        rc = mig_chan_send(ch, buf, 8);
    free(buf);
    return rc;
}

int mig_receive(struct mig_chan *ch, const struct mig_recv_opts *o,
                struct mig_guest **out, struct mig_recv_info *info)
{
    struct rcv r = { .o = o, .ch = ch, .info = info };
    uint64_t start_bytes = ch->bytes_recv;
    uint8_t go[MIG_XL_GO_LEN];
    struct mig_wbuf wb;
    double t0 = mig__now(), t1;
    int rc;

    *out = NULL;
    memset(info, 0, sizeof(*info));
    mig_wbuf_init(&wb, NULL);
    rc = send_hs(ch, MIG_HS_BANNER);
    if (rc)
        goto out_destroy;
    rc = read_stream(&r, ch, t0);
    if (rc)
        goto out_destroy;
    info->stream_s = mig__now() - t0;
    rc = send_hs(ch, MIG_HS_READY);
    if (rc)
        goto out_destroy;
    rc = mig_chan_recv_full(ch, go, sizeof(go));
    if (!rc)
        rc = mig_handshake_match(MIG_HS_GO, go, sizeof(go));
    if (rc) {
        snprintf(info->msg, sizeof(info->msg), "sender did not clear us to "
                 "unpause: %s", mig_strerror(rc));
        goto out_destroy;
    }
    t1 = mig__now();
    rc = r.g->ops->start(r.g);
    info->unpause_s = mig__now() - t1;
    if (mig_stream_put_report(&wb, rc ? 1 : 0)) {
        rc = rc ? rc : MIG_ENOMEM;
        goto out_destroy;
    }
    if (rc) {
        snprintf(info->msg, sizeof(info->msg), "cannot start the guest: %s",
                 mig_strerror(rc));
        (void)mig_chan_send(ch, wb.data, wb.len);
        goto out_destroy;
    }
    rc = mig_chan_send(ch, wb.data, wb.len);
    /* The guest runs here now, whatever happens to the channel. */
    if (!rc && r.verify) {
        info->verify = true;
        rc = send_hashes(&r, ch);
    }
    if (!rc && r.downtime_note) {
        uint8_t note[8];

        /* Best effort: the sender's view of the downtime, for the log. */
        if (!mig_chan_recv_full(ch, note, sizeof(note)))
            info->downtime_s = (double)mig_le64dec(note) * 1e-9;
    }
    if (rc)
        snprintf(info->msg, sizeof(info->msg), "guest started, but the "
                 "report could not be sent: %s", mig_strerror(rc));
    *out = r.g;
    r.g = NULL;
    rc = 0;
out_destroy:
    info->bytes_recv = ch->bytes_recv - start_bytes;
    mig_guest_free(r.g);
    free(r.hashes);
    mig_wbuf_fini(&wb);
    return rc;
}
