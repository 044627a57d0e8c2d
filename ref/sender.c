/* SPDX-License-Identifier: MIT */
/*
 * sender.c - cold and live migration, sending side (sender.h).
 *
 * Stream written (docs/stream-format.md): xl save header with the JSON
 * config; libxl v2 header; LIBXC_CONTEXT; libxc image header; domain header
 * (x86 HVM); the backend's info records (miglab GUEST_INFO, WORKLOAD);
 * STATIC_DATA_END; PAGE_DATA batches of at most MIG_MAX_BATCH pages per
 * pass; after the suspension the final pages and the backend's state
 * records; libxc END; libxl END.  Then the xl handshake tail.
 *
 * The live loop is ref/policy.h's driver loop, the same one sim/engine.c
 * runs on simulated time, here on CLOCK_MONOTONIC:
 *   CONTINUE        send pending live; pending = CLEAN(); iteration++
 *   LAST_LIVE_PASS  send pending live; drain; suspend; final = CLEAN()
 *   STOP_AND_COPY   drain; suspend; final = pending | CLEAN()
 *   ABORT           the guest keeps running at the source
 * where drain (policy.drain, on by default) waits, the guest running, until
 * the destination has acknowledged the live passes.
 */
#include "sender.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "costs.h"
#include "stream.h"

#define XEN_MAJOR 4U
#define XEN_MINOR 19U
#define PASS_GUARD 1000U
/* The stop-and-copy burst after a drain: paced at this x the live goodput
 * (drain()). */
#define DRAIN_PACE_FACTOR 1.1

struct snd {
    struct mig_guest *g;
    struct mig_chan *ch;
    const struct mig_send_opts *o;
    struct mig_run *run;
    struct mig_guest_desc desc;
    size_t nwords;
    uint64_t *pending;          /* bitmap to send next */
    uint64_t *clean;            /* CLEAN output */
    uint8_t *pagebuf;           /* MIG_MAX_BATCH pages */
    uint64_t *pfns;
    const void **ptrs;
    struct iovec *iov;          /* record head + MIG_MAX_BATCH pages */
    struct mig_wbuf wb;
    double t0;
    double t_susp0, t_susp1;    /* suspend requested / guest paused */
    uint64_t page_bytes;        /* PAGE_DATA bytes sent, all passes */
    double page_time;           /* time spent sending them */
    double live_t0;             /* pass 1 started (CLOCK_MONOTONIC s) */
    uint64_t live_bytes0;       /* channel bytes sent before it */
};

void mig_send_opts_defaults(struct mig_send_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->live = true;
    mig_policy_defaults(&o->policy, MIG_POLICY_XEN);
    o->name = "guest";
    o->verify = true;
}

/* The caller's phase hook, if any (migrate.h). */
static int phase(struct snd *s, enum mig_phase p, unsigned n)
{
    return s->o->phase ? s->o->phase(s->o->phase_opaque, p, n, s->ch) : 0;
}

/* Send one fixed handshake message. */
static int send_hs(struct mig_chan *ch, enum mig_handshake which)
{
    size_t len;
    const char *msg = mig_handshake_bytes(which, &len);

    return mig_chan_send(ch, msg, len);
}

static int flush(struct snd *s)
{
    int rc = mig_chan_send(s->ch, s->wb.data, s->wb.len);

    mig_wbuf_reset(&s->wb);
    return rc;
}

static int send_batch(struct snd *s, uint32_t n, uint64_t *bytes)
{
    size_t page_bytes;
    int rc, niov = 1;

    if (!s->g->ops->page_ptr) {
        rc = mig_stream_put_page_data(&s->wb, s->pfns, s->ptrs, n);
        if (rc)
            return rc;
        *bytes += s->wb.len;
        return flush(s);
    }
    /* Zero copy: the record head from wb, then the guest pages in place
     * (anything queued in wb before goes first, in order). */
    rc = mig_stream_put_page_data_head(&s->wb, s->pfns, n, &page_bytes);
    if (rc)
        return rc;
    s->iov[0] = (struct iovec){ .iov_base = s->wb.data,
                                .iov_len = s->wb.len };
    /* Pages adjacent in memory (consecutive pfns of the emulated guest)
     * share one piece: fewer pieces for the kernel to walk per byte. */
    for (uint32_t i = 0; i < n; i++) {
        struct iovec *last = &s->iov[niov - 1];

        if (niov > 1 && (const uint8_t *)last->iov_base + last->iov_len ==
                            (const uint8_t *)s->ptrs[i])
            last->iov_len += MIG_PAGE_SIZE;
        else
            s->iov[niov++] = (struct iovec){ .iov_base = (void *)s->ptrs[i],
                                             .iov_len = MIG_PAGE_SIZE };
    }
    *bytes += s->wb.len + page_bytes;
    rc = mig_chan_sendv(s->ch, s->iov, niov);
    mig_wbuf_reset(&s->wb);
    return rc;
}

/* Send the pages set in bitmap (NULL: every page) as PAGE_DATA batches. */
static int send_pages(struct snd *s, const uint64_t *bitmap,
                      uint64_t *pages, uint64_t *bytes)
{
    uint32_t n = 0;
    int rc;

    *pages = 0;
    *bytes = 0;
    for (uint64_t pfn = 0; pfn < s->desc.nr_pages; pfn++) {
        if (bitmap && !bitmap[pfn / 64]) {
            pfn |= 63;          /* skip a clean word */
            continue;
        }
        if (bitmap && !(bitmap[pfn / 64] >> (pfn % 64) & 1))
            continue;
        if (s->g->ops->page_ptr) {
            /* Zero copy: the encoder reads the guest page itself. */
            s->ptrs[n] = s->g->ops->page_ptr(s->g, pfn);
            if (!s->ptrs[n])
                return MIG_EINVAL;
        } else {
            s->ptrs[n] = s->pagebuf + (size_t)n * MIG_PAGE_SIZE;
            rc = s->g->ops->read_page(s->g, pfn, s->pagebuf +
                                      (size_t)n * MIG_PAGE_SIZE);
            if (rc)
                return rc;
        }
        s->pfns[n++] = MIG_PFN_WORD(MIG_PT_NOTAB, pfn);
        (*pages)++;
        if (n == MIG_MAX_BATCH) {
            rc = send_batch(s, n, bytes);
            if (rc)
                return rc;
            n = 0;
        }
    }
    return n ? send_batch(s, n, bytes) : 0;
}

/* JSON config (xl's d_config stand-in): name, memory, vcpus, miglab. */
static char *make_config(const struct snd *s)
{
    struct json_object *root = json_object_new_object();
    struct json_object *cinfo = json_object_new_object();
    struct json_object *binfo = json_object_new_object();
    struct json_object *ml = json_object_new_object();
    char *out = NULL;

    if (!root || !cinfo || !binfo || !ml)
        goto out_put;
    json_object_object_add(cinfo, "name",
                           json_object_new_string(s->o->name ? s->o->name
                                                             : "guest"));
    json_object_object_add(cinfo, "type", json_object_new_string("hvm"));
    json_object_object_add(binfo, "max_memkb", json_object_new_int64(
        (int64_t)(s->desc.nr_pages * (MIG_PAGE_SIZE / 1024))));
    json_object_object_add(binfo, "max_vcpus",
                           json_object_new_int((int)s->desc.vcpus));
    json_object_object_add(ml, "backend",
                           json_object_new_string(s->g->ops->name));
    json_object_object_add(ml, "verify",
                           json_object_new_boolean(s->o->verify));
    if (s->o->admission) {
        json_object_object_add(ml, "admission", json_object_new_boolean(1));
        json_object_object_add(ml, "downtime_note",
                               json_object_new_boolean(1));
    }
    if (s->o->host_json) {
        struct json_object *hj = json_tokener_parse(s->o->host_json);

        if (hj)
            json_object_object_add(root, "miglab_host", hj);
    }
    json_object_object_add(root, "c_info", cinfo);
    json_object_object_add(root, "b_info", binfo);
    json_object_object_add(root, "miglab", ml);
    cinfo = binfo = ml = NULL;
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
out_put:
    json_object_put(cinfo);
    json_object_put(binfo);
    json_object_put(ml);
    json_object_put(root);
    return out;
}

/*
 * The receiver's admission line (docs/host-protocol.md): "miglab admission:
 * ok\n" or "miglab admission: refused: REASON\n", at most
 * MIG_ADMIT_LINE_MAX bytes.  0 admitted, MIG_ERANGE refused (reason in
 * run->msg), MIG_EPROTO for anything else.
 */
static int wait_admission(struct snd *s)
{
    static const char ok[] = "miglab admission: ok";
    static const char no[] = "miglab admission: refused: ";
    char line[MIG_ADMIT_LINE_MAX + 1];
    size_t n = 0;
    int rc;

    for (;;) {
        if (n == MIG_ADMIT_LINE_MAX)
            return MIG_EPROTO;
        rc = mig_chan_recv_full(s->ch, line + n, 1);
        if (rc)
            return rc;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    if (!strcmp(line, ok))
        return 0;
    if (strncmp(line, no, sizeof(no) - 1))
        return MIG_EPROTO;
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    snprintf(s->run->msg, sizeof(s->run->msg), "%.200s",
             line + sizeof(no) - 1);
    s->run->refused = true;
    return MIG_ERANGE;
}

static int send_headers(struct snd *s)
{
    struct mig_domain_header dh = { .type = MIG_DHDR_TYPE_X86_HVM,
                                    .page_shift = MIG_PAGE_SHIFT,
                                    .xen_major = XEN_MAJOR,
                                    .xen_minor = XEN_MINOR };
    char *cfg = make_config(s);
    int rc;

    if (!cfg)
        return MIG_ENOMEM;
    rc = mig_stream_put_xl_header(&s->wb, cfg);
    free(cfg);
    if (!rc && s->o->admission) {
        /* The config carries the size: the receiver decides on it before
         * we send another byte. */
        rc = flush(s);
        if (!rc)
            rc = wait_admission(s);
    }
    if (!rc)
        rc = mig_stream_put_libxl_header(&s->wb);
    if (!rc)
        rc = mig_stream_put_libxc_context(&s->wb);
    if (!rc)
        rc = mig_stream_put_image_header(&s->wb);
    if (!rc)
        rc = mig_stream_put_domain_header(&s->wb, &dh);
    if (!rc)
        rc = s->g->ops->save_info(s->g, &s->wb);
    if (!rc)
        rc = mig_stream_put_static_data_end(&s->wb);
    return rc ? rc : flush(s);
}

static int do_suspend(struct snd *s)
{
    int rc;

    s->t_susp0 = mig__now();
    rc = s->g->ops->suspend(s->g);
    s->t_susp1 = mig__now();
    return rc;
}

/*
 * policy.drain: keep the guest running until the destination has the live
 * passes (ref/policy.h), so that none of them is still queued on the way
 * when the downtime starts.  A channel that cannot tell (a pipe) is not
 * waited on.  Then the stop-and-copy burst is paced at 1.1 x the goodput
 * the live passes got (all acknowledged now: bytes over time since pass 1
 * began): into an empty path an unpaced burst of the congestion window
 * overflows the bottleneck queue, and its drops and their recovery timers
 * (a tail-loss probe, at worst an RTO of 200 ms) land in the downtime;
 * paced, it leaves at the rate the path delivers.  1.1 leaves headroom for
 * the headers the pacing counts and a slightly faster path.
 */
static int drain(struct snd *s, const struct mig_policy *pol)
{
    struct sim_result *r = &s->run->result;
    uint64_t left = 0;
    int rc;

    if (!pol->drain)
        return 0;
    rc = mig_chan_drain(s->ch, &r->drain_s, &left);
    if (rc == MIG_ENOTSUP) {
        r->drain_s = 0;
        return 0;
    }
    if (rc == -ETIMEDOUT)
        snprintf(s->run->msg, sizeof(s->run->msg),
                 "the destination stopped taking the stream: %llu bytes "
                 "of the live passes still unacknowledged after %.0f s "
                 "(the guest keeps running here)",
                 (unsigned long long)left, r->drain_s);
    r->drained = rc == 0;
    if (r->drained) {
        double dt = mig__now() - s->live_t0;

        if (dt > 0 && s->ch->bytes_sent > s->live_bytes0)
            mig_chan_set_pacing(s->ch, DRAIN_PACE_FACTOR *
                                (double)(s->ch->bytes_sent -
                                         s->live_bytes0) / dt);
    }
    return rc;
}

static int add_live_pass(struct snd *s, double start, double dur,
                         uint64_t pages, uint64_t bytes, uint64_t dirty,
                         double throttle)
{
    struct sim_pass *p = mig__run_add_pass(s->run);

    if (!p)
        return MIG_ENOMEM;
    p->live = true;
    p->pages = pages;
    p->bytes = bytes;
    p->start_s = start - s->t0;
    p->duration_s = dur;
    p->dirty_after = dirty;
    p->throttle = throttle;
    s->run->result.live_passes++;
    s->run->result.pages_sent += pages;
    s->page_bytes += bytes;
    s->page_time += dur;
    if (s->o->progress)
        s->o->progress(s->o->progress_opaque, p);
    return 0;
}

/*
 * Pre-copy.  On return 0 the guest is suspended and s->pending holds the
 * final set; *throttle the last throttle.  MIG_EABORTED: policy abort,
 * guest never paused.
 */
static int precopy(struct snd *s, double *throttle)
{
    struct mig_guest *g = s->g;
    struct mig_policy pol = s->o->policy;
    struct mig_policy_state st = { 0 };
    struct mig_precopy_stats ps = { .mem_pages = s->desc.nr_pages,
                                    .dirty_count = s->desc.nr_pages,
                                    .page_bytes = MIG_PAGE_SIZE + 8 };
    unsigned guard = s->o->max_passes_guard ? s->o->max_passes_guard
                                            : PASS_GUARD;
    bool first = true;
    int rc;

    if (pol.fixed_downtime_s < 0) {
        struct sim_costs c;

        /* RTT and rate are not known before pass 1: the state term and
         * the round trips are left to the measured passes. */
        sim_costs_defaults(&c);
        pol.fixed_downtime_s = sim_costs_fixed_downtime(&c, s->desc.vcpus,
                                                        0, 0);
    }
    mig_chan_set_rate(s->ch, pol.max_bandwidth_Bps);
    s->live_t0 = mig__now();
    s->live_bytes0 = s->ch->bytes_sent;
    rc = g->ops->logdirty_enable(g);
    if (rc)
        return rc;
    for (;;) {
        struct mig_policy_decision d;
        uint64_t pages, bytes, cnt;
        double t1, t2;
        bool send;

        ps.bytes_sent = s->ch->bytes_sent;
        ps.elapsed_s = mig__now() - s->t0;
        if ((s->o->time_limit_s > 0 && ps.elapsed_s > s->o->time_limit_s) ||
            ps.iteration >= guard) {
            d = (struct mig_policy_decision){ MIG_ACT_STOP_AND_COPY,
                                              MIG_STOP_TIME_LIMIT };
        } else {
            d = mig_policy_decide(&pol, &st, ps);
        }
        s->run->result.stop_reason = d.reason;
        *throttle = st.throttle;
        rc = g->ops->set_throttle(g, st.throttle);
        if (rc)
            return rc;
        if (d.action == MIG_ACT_ABORT) {
            snprintf(s->run->msg, sizeof(s->run->msg),
                     "migration aborted by the %s policy (%s)",
                     mig_policy_name(pol.kind), mig_stop_reason_name(d.reason));
            return MIG_EABORTED;
        }
        if (d.action == MIG_ACT_STOP_AND_COPY) {
            rc = first ? 0 : drain(s, &pol);
            if (!rc)
                rc = do_suspend(s);
            if (rc)
                return rc;
            if (first) {
                memset(s->pending, 0xff, s->nwords * 8);
                return g->ops->logdirty_clean(g, NULL, &cnt);
            }
            rc = g->ops->logdirty_clean(g, s->clean, &cnt);
            for (size_t i = 0; !rc && i < s->nwords; i++)
                s->pending[i] |= s->clean[i];
            return rc;
        }
        /* A pass with nothing to send is skipped, as sim/engine.c does:
         * no record, no pass entry, the loop goes on. */
        send = first || ps.dirty_count > 0;
        pages = bytes = 0;
        t1 = t2 = mig__now();
        if (send) {
            rc = phase(s, MIG_PHASE_PASS,
                       (unsigned)s->run->result.live_passes + 1);
            if (!rc)
                rc = send_pages(s, first ? NULL : s->pending, &pages,
                                &bytes);
            if (rc)
                return rc;
            t2 = mig__now();
        }
        if (d.action == MIG_ACT_LAST_LIVE_PASS) {
            rc = g->ops->logdirty_peek(g, NULL, &cnt);
            if (!rc && send)
                rc = add_live_pass(s, t1, t2 - t1, pages, bytes, cnt,
                                   st.throttle);
            if (!rc)
                rc = drain(s, &pol);
            if (!rc)
                rc = do_suspend(s);
            if (!rc)
                rc = g->ops->logdirty_clean(g, s->pending, &cnt);
            return rc;
        }
        rc = g->ops->logdirty_clean(g, s->pending, &cnt);
        if (!rc && send)
            rc = add_live_pass(s, t1, t2 - t1, pages, bytes, cnt,
                               st.throttle);
        if (rc)
            return rc;
        if (send) {
            ps.total_written += pages;
            ps.last_pass_pages = pages;
            ps.last_pass_bytes = bytes;
            ps.last_pass_s = t2 - t1;
        }
        first = false;
        ps.iteration++;
        ps.dirty_count = cnt;
    }
}

/* Compare the receiver's hashes with the (paused) source's. */
static int verify(struct snd *s)
{
    struct mig_integrity *in = &s->run->integrity;
    uint64_t n = s->desc.nr_pages, count;
    uint64_t *src = malloc(n * 8);
    uint8_t *buf = malloc(MIG_MAX_BATCH * 8);
    uint8_t hdr[8];
    int rc;

    if (!src || !buf) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    rc = mig_guest_hash_pages(s->g, n, src);
    if (!rc)
        rc = mig_chan_recv_full(s->ch, hdr, 8);
    if (rc)
        goto out_free;
    count = mig_le64dec(hdr);
    if (count != n) {
        rc = MIG_EPROTO;
        goto out_free;
    }
    for (uint64_t pfn = 0; pfn < n;) {
        uint64_t k = n - pfn < MIG_MAX_BATCH ? n - pfn : MIG_MAX_BATCH;

        rc = mig_chan_recv_full(s->ch, buf, (size_t)k * 8);
        if (rc)
            goto out_free;
        for (uint64_t i = 0; i < k; i++, pfn++) {
            if (mig_le64dec(buf + i * 8) == src[pfn])
                continue;
            if (in->nlisted < MIG_MISMATCH_LIST)
                in->mismatch_pfns[in->nlisted++] = pfn;
            in->mismatches++;
        }
    }
    in->checked = true;
    in->pages_checked = n;
    in->ok = in->mismatches == 0;
out_free:
    free(buf);
    free(src);
    return rc;
}

static int expect_msg(struct snd *s, enum mig_handshake which)
{
    uint8_t buf[64];
    size_t len;
    int rc;

    mig_handshake_bytes(which, &len);
    rc = mig_chan_recv_full(s->ch, buf, len);
    return rc ? rc : mig_handshake_match(which, buf, len);
}

static void fill_result(struct snd *s, double t_susp0, double t_susp1,
                        double t_end, double t_ready, double t_go,
                        double t_report)
{
    struct sim_result *r = &s->run->result;
    struct sim_downtime_parts *dp = &r->downtime_parts;

    dp->suspend_s = t_susp1 - t_susp0;
    dp->final_copy_s = t_end - t_susp1;
    dp->propagation_s = 0;
    dp->restore_s = t_ready - t_end;
    dp->handshake_s = t_go - t_ready;
    dp->unpause_s = t_report - t_go;
    r->downtime_s = t_report - t_susp0;
    r->total_time_s = t_report - s->t0;
    r->outcome = SIM_OUTCOME_COMPLETED;
}

static int setup(struct snd *s)
{
    int rc = s->g->ops->describe(s->g, &s->desc);

    if (rc)
        return rc;
    s->nwords = mig_bitmap_words(s->desc.nr_pages);
    s->pending = calloc(s->nwords, 8);
    s->clean = calloc(s->nwords, 8);
    /* A backend with page_ptr is sent in place: no bounce buffer. */
    s->pagebuf = s->g->ops->page_ptr
                     ? NULL
                     : malloc((size_t)MIG_MAX_BATCH * MIG_PAGE_SIZE);
    s->pfns = malloc(MIG_MAX_BATCH * sizeof(*s->pfns));
    s->ptrs = malloc(MIG_MAX_BATCH * sizeof(*s->ptrs));
    s->iov = malloc((MIG_MAX_BATCH + 1) * sizeof(*s->iov));
    if (!s->pending || !s->clean || (!s->pagebuf && !s->g->ops->page_ptr) ||
        !s->pfns || !s->ptrs || !s->iov)
        return MIG_ENOMEM;
    return 0;
}

static void teardown(struct snd *s)
{
    free(s->pending);
    free(s->clean);
    free(s->pagebuf);
    free(s->pfns);
    free(s->ptrs);
    free(s->iov);
    mig_wbuf_fini(&s->wb);
}

/* Failure before GO: the guest runs on at the source. */
static int fail_resume(struct snd *s, int rc, const char *what)
{
    struct mig_guest *g = s->g;
    char reason[208];

    snprintf(reason, sizeof(reason), "%.200s",
             s->run->msg[0] ? s->run->msg : what);
    g->ops->set_throttle(g, 0);
    g->ops->logdirty_disable(g);
    g->ops->resume(g);
    s->run->resumed_at_source = true;
    s->run->result.outcome = SIM_OUTCOME_ABORTED;
    if (s->run->refused)
        snprintf(s->run->msg, sizeof(s->run->msg),
                 "migration failed, guest resumed at source: %.200s", reason);
    else
        snprintf(s->run->msg, sizeof(s->run->msg),
                 "migration failed, guest resumed at source: %.150s: %.50s",
                 reason, mig_strerror(rc));
    return rc;
}

int mig_send(struct mig_guest *g, struct mig_chan *ch,
             const struct mig_send_opts *o, struct mig_run *run)
{
    struct snd s = { .g = g, .ch = ch, .o = o, .run = run };
    struct sim_result *r = &run->result;
    double t_end, t_ready, t_go, t_report, thr = 0;
    uint64_t pages, bytes, start_bytes = ch->bytes_sent;
    struct sim_pass *p;
    uint8_t rep[MIG_XL_REPORT_MSG_LEN];
    int rc;

    s.t0 = mig__now();
    mig_wbuf_init(&s.wb, NULL);
    if (o->live && mig_policy_validate(&o->policy)) {
        snprintf(run->msg, sizeof(run->msg), "invalid policy parameters; "
                 "guest untouched");
        return MIG_EINVAL;
    }
    r->mode = o->live ? SIM_MODE_LIVE : SIM_MODE_COLD;
    r->policy = o->policy.kind;
    r->engine = SIM_ENGINE_EXACT;
    rc = setup(&s);
    if (rc) {
        rc = fail_resume(&s, rc, "setup");
        goto out;
    }
    r->mem_pages = s.desc.nr_pages;
    rc = expect_msg(&s, MIG_HS_BANNER);
    if (rc) {
        rc = fail_resume(&s, rc, "no receiver banner");
        goto out;
    }
    rc = send_headers(&s);
    if (rc) {
        rc = fail_resume(&s, rc, "sending the stream headers");
        goto out;
    }
    r->setup_s = mig__now() - s.t0;
    rc = phase(&s, MIG_PHASE_HANDSHAKE, 0);
    if (rc) {
        rc = fail_resume(&s, rc, "handshake");
        goto out;
    }
    if (o->live) {
        rc = precopy(&s, &thr);
    } else {
        r->stop_reason = MIG_STOP_COLD;
        memset(s.pending, 0xff, s.nwords * 8);
        rc = do_suspend(&s);
    }
    if (rc) {
        rc = fail_resume(&s, rc, "pre-copy");
        goto out;
    }
    rc = phase(&s, MIG_PHASE_STOP_COPY, 0);
    if (!rc)
        rc = send_pages(&s, s.pending, &pages, &bytes);
    if (!rc)
        rc = phase(&s, MIG_PHASE_STATE, 0);
    if (!rc)
        rc = g->ops->save_state(g, &s.wb);
    if (!rc)
        rc = mig_stream_put_end(&s.wb);
    if (!rc)
        rc = mig_stream_put_libxl_end(&s.wb);
    if (!rc) {
        bytes += s.wb.len;
        rc = flush(&s);
    }
    if (rc) {
        rc = fail_resume(&s, rc, "sending the final pass");
        goto out;
    }
    t_end = mig__now();
    p = mig__run_add_pass(run);
    if (!p) {
        rc = fail_resume(&s, MIG_ENOMEM, "bookkeeping");
        goto out;
    }
    *p = (struct sim_pass){ .index = p->index, .live = false, .pages = pages,
                            .bytes = bytes, .start_s = s.t_susp1 - s.t0,
                            .duration_s = t_end - s.t_susp1,
                            .throttle = thr };
    r->pages_sent += pages;
    s.page_bytes += bytes;
    s.page_time += t_end - s.t_susp1;
    if (o->progress)
        o->progress(o->progress_opaque, p);
    r->converged = r->stop_reason == MIG_STOP_DIRTY_THRESHOLD ||
                   r->stop_reason == MIG_STOP_DOWNTIME_MET ||
                   r->stop_reason == MIG_STOP_COLD;
    r->transfer_Bps = s.page_time > 0 ? (double)s.page_bytes / s.page_time
                                      : 0;
    /* Measured, not modelled: only the goodput term is known. */
    r->link = (struct sim_goodput){ .goodput_Bps = r->transfer_Bps,
                                    .link_Bps = INFINITY,
                                    .window_Bps = INFINITY,
                                    .loss_Bps = INFINITY,
                                    .mathis_Bps = INFINITY,
                                    .padhye_Bps = INFINITY,
                                    .cubic_Bps = INFINITY };

    rc = expect_msg(&s, MIG_HS_READY);
    if (rc) {
        rc = fail_resume(&s, rc == MIG_EINCOMPLETE ? MIG_EREFUSED : rc,
                         "no \"ready to unpause\" from the receiver");
        goto out;
    }
    t_ready = mig__now();
    rc = phase(&s, MIG_PHASE_READY, 0);
    if (!rc)
        rc = phase(&s, MIG_PHASE_GO, 0);
    if (rc) {
        rc = fail_resume(&s, rc, "before GO");
        goto out;
    }
    /* Here xl renames the source to NAME--migratedaway. */
    rc = send_hs(ch, MIG_HS_GO);
    t_go = mig__now();
    run->committed = true;
    if (!rc)
        rc = mig_chan_recv_full(ch, rep, sizeof(rep));
    if (!rc)
        rc = mig_handshake_match(MIG_HS_REPORT, rep, MIG_XL_REPORT_LEN);
    if (rc) {
        r->outcome = SIM_OUTCOME_UNFINISHED;
        snprintf(run->msg, sizeof(run->msg), "no unpause report from the "
                 "receiver (%s): domain state is now undefined, guest left "
                 "paused at source", mig_strerror(rc));
        goto out;
    }
    t_report = mig__now();
    if (rep[MIG_XL_REPORT_LEN] != 0) {
        snprintf(run->msg, sizeof(run->msg),
                 "receiver could not unpause its copy (status %u)",
                 (unsigned)rep[MIG_XL_REPORT_LEN]);
        run->committed = false;
        rc = fail_resume(&s, MIG_EREFUSED, "");
        goto out;
    }
    /* The destination runs the guest: a failing hook changes nothing. */
    (void)phase(&s, MIG_PHASE_REPORT, 0);
    fill_result(&s, s.t_susp0, s.t_susp1, t_end, t_ready, t_go, t_report);
    if (o->verify) {
        rc = verify(&s);
        if (rc)
            snprintf(run->msg, sizeof(run->msg), "guest migrated, but the "
                     "integrity check failed: %s", mig_strerror(rc));
        rc = 0;
    }
    if (o->admission) {
        uint8_t note[8];

        /* Best effort: the destination logs the downtime it learns. */
        mig_le64enc(note, (uint64_t)(r->downtime_s * 1e9));
        (void)mig_chan_send(ch, note, sizeof(note));
    }
    g->ops->logdirty_disable(g);
out:
    r->bytes_sent = ch->bytes_sent - start_bytes;
    teardown(&s);
    return rc;
}
