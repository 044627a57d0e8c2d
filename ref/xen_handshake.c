/* SPDX-License-Identifier: MIT */
/*
 * xen_handshake.c - the `xl migrate` two-phase commit, sender and
 * receiver, over a struct mig_chan, driving a table of domain operations
 * (guest_xen.h).  The bytes are those of xl_migrate.c (see
 * mig_handshake_bytes() and ../shared/reference/xen-qemu-facts.md §A "xl
 * migrate handshake"), so each side interoperates with xl:
 *
 *   R->S banner (54 B)            S->R xl save header + JSON config
 *   S->R libxl stream (libxl_domain_suspend)
 *   R->S "domain received, ready to unpause\0"
 *   S    rename NAME -> NAME--migratedaway
 *   S->R "domain is yours, you are cleared to unpause\0"   (no return)
 *   R    rename NAME--incoming -> NAME, unpause
 *   R->S "my copy unpause results are as follows\0" + status byte
 *   S    destroy the source (status 0) or, after the receiver's GO back,
 *        rename back and resume.
 *
 * The libxl stream itself is written and read by the ops (libxl reads and
 * writes the channel's fds directly); this file only moves the handshake
 * bytes and times the phases.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_xen.h"
#include "policy.h"
#include "stream.h"

#define HS_TIMEOUT_MS 120000

static void say(void (*log)(void *, const char *), void *opaque,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(void (*log)(void *, const char *), void *opaque,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log(opaque, msg);
}

const char *mig_xen_stage_name(enum mig_xen_stage s)
{
    static const char *const names[] = {
        [MIG_XEN_ST_BANNER] = "banner",  [MIG_XEN_ST_HEADER] = "header",
        [MIG_XEN_ST_STREAM] = "stream",  [MIG_XEN_ST_READY] = "ready",
        [MIG_XEN_ST_RENAME] = "rename",  [MIG_XEN_ST_GO] = "go",
        [MIG_XEN_ST_REPORT] = "report",  [MIG_XEN_ST_DONE] = "done",
    };

    if ((unsigned)s < sizeof(names) / sizeof(names[0]))
        return names[s];
    return "?";
}

/* libxl may leave the fds non-blocking; the handshake wants them as the
 * channel found them (it polls, but a partial write must not spin). */
static void set_blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0 && (fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Read exactly the message `which` (for REPORT: without the status byte)
 * and compare it.  MIG_EPROTO on any difference, MIG_EINCOMPLETE when the
 * peer closed first, -errno / -ETIMEDOUT. */
static int expect_msg(struct mig_chan *ch, enum mig_handshake which)
{
    char buf[64];
    size_t len;
    int rc;

    mig_handshake_bytes(which, &len);
    if (which == MIG_HS_REPORT)
        len = MIG_XL_REPORT_LEN;    /* the status byte is read apart */
    assert(len <= sizeof(buf));
    rc = mig_chan_recv_full(ch, buf, len);
    if (rc)
        return rc;
    return mig_handshake_match(which, buf, len);
}

static int send_msg(struct mig_chan *ch, enum mig_handshake which)
{
    size_t len;
    const char *b = mig_handshake_bytes(which, &len);

    return mig_chan_send(ch, b, len);
}

/* ---- sender ------------------------------------------------------------ */

struct sender {
    struct mig_chan *ch;
    const struct mig_xen_dom_ops *ops;
    void *opaque;
    const struct mig_xen_send_opts *o;
    struct mig_run *run;
    double t0;
};

/* The source was suspended and GO not yet sent: put it back. */
static int resume_at_sender(struct sender *s, bool renamed, int rc,
                            const char *why)
{
    int rc2 = 0;

    say(s->o->log, s->o->log_opaque, "migration sender: %s (%s)", why,
        mig_strerror(rc));
    if (renamed && s->ops->rename_back)
        s->ops->rename_back(s->opaque);
    if (s->ops->resume)
        rc2 = s->ops->resume(s->opaque);
    s->run->resumed_at_source = rc2 == 0;
    say(s->o->log, s->o->log_opaque, "%s",
        rc2 ? "migration sender: resume failed: the domain stays suspended"
            : "Migration failed, resuming at sender.");
    snprintf(s->run->msg, sizeof(s->run->msg), "%s: %s; %s", why,
             mig_strerror(rc), rc2 ? "resume failed" : "resumed at sender");
    return rc;
}

/* Measured passes and the result in the predict JSON shape. */
static int fill_result(struct sender *s, double t_call, double t_ret,
                       double t_ready, double t_go, double t_report)
{
    struct sim_result *r = &s->run->result;
    const struct mig_xen_progress *p = s->o->progress;
    double page_time = 0, t_susp, t_first = -1;
    uint64_t page_bytes = 0;
    unsigned live = 0;

    r->mode = s->o->live ? SIM_MODE_LIVE : SIM_MODE_COLD;
    r->policy = MIG_POLICY_XEN;
    r->engine = SIM_ENGINE_EXACT;
    r->mem_pages = s->o->mem_pages;
    for (size_t i = 0; p && i < p->npasses; i++) {
        const struct mig_xen_pass *xp = &p->passes[i];
        struct sim_pass *sp = mig__run_add_pass(s->run);

        if (!sp)
            return MIG_ENOMEM;
        sp->live = xp->live;
        sp->pages = xp->pages;
        sp->bytes = mig_xen_pass_bytes(xp->pages);
        sp->start_s = xp->t_first;
        sp->duration_s = xp->t_last - xp->t_first;
        sp->dirty_after = i + 1 < p->npasses ? p->passes[i + 1].pages : 0;
        if (t_first < 0)
            t_first = xp->t_first;
        live += xp->live;
        r->pages_sent += sp->pages;
        r->bytes_sent += sp->bytes;
        page_bytes += sp->bytes;
        page_time += sp->duration_s;
    }
    r->live_passes = live;
    if (!s->o->live)
        r->stop_reason = MIG_STOP_COLD;
    else if (live >= 5)
        r->stop_reason = MIG_STOP_PASS_CAP;
    else
        r->stop_reason = MIG_STOP_DIRTY_THRESHOLD;
    r->converged = r->stop_reason != MIG_STOP_PASS_CAP;
    r->outcome = SIM_OUTCOME_COMPLETED;
    r->transfer_Bps = page_time > 0 ? (double)page_bytes / page_time : 0;
    r->link = (struct sim_goodput){ .goodput_Bps = r->transfer_Bps,
                                    .link_Bps = INFINITY,
                                    .window_Bps = INFINITY,
                                    .loss_Bps = INFINITY,
                                    .mathis_Bps = INFINITY,
                                    .padhye_Bps = INFINITY,
                                    .cubic_Bps = INFINITY };
    /* The guest stops at the suspend request (or, if libxl's message was
     * not seen, when it reported itself suspended; at worst when
     * libxl_domain_suspend was called) and runs again just before the
     * receiver sends its report. */
    t_susp = p && p->t_susp_req >= 0 ? p->t_susp_req
           : p && p->t_suspended >= 0 ? p->t_suspended : t_call;
    r->setup_s = t_first >= 0 ? t_first : t_call;
    r->total_time_s = t_report;
    r->downtime_s = t_report - t_susp;
    r->downtime_parts.suspend_s =
        p && p->t_suspended >= t_susp ? p->t_suspended - t_susp : 0;
    r->downtime_parts.final_copy_s =
        t_ret - t_susp - r->downtime_parts.suspend_s;
    r->downtime_parts.propagation_s = 0;
    r->downtime_parts.restore_s = t_ready - t_ret;
    r->downtime_parts.handshake_s = t_go - t_ready;
    r->downtime_parts.unpause_s = t_report - t_go;
    /* The config header is on the wire too. */
    return 0;
}

int mig_xen_send(struct mig_chan *ch, const struct mig_xen_dom_ops *ops,
                 void *opaque, const struct mig_xen_send_opts *o,
                 struct mig_run *run, enum mig_xen_stage *stage)
{
    struct sender s = { ch, ops, opaque, o, run, 0 };
    struct mig_wbuf wb;
    char *json = NULL;
    const char *cfg = o->config_json;
    double t_call, t_ret, t_ready, t_go, t_report;
    uint8_t status;
    int rc;

    s.t0 = o->progress ? o->progress->t0 : mig__now();
    mig_wbuf_init(&wb, NULL);
    mig_chan_set_timeout(ch, o->io_timeout_ms > 0 ? o->io_timeout_ms
                                                  : HS_TIMEOUT_MS);
    *stage = MIG_XEN_ST_BANNER;
    rc = expect_msg(ch, MIG_HS_BANNER);
    if (rc) {
        /* Nothing happened to the domain yet. */
        say(o->log, o->log_opaque,
            "migration sender: no receiver banner (%s): domain untouched",
            mig_strerror(rc));
        snprintf(run->msg, sizeof(run->msg),
                 "receiver banner: %s; domain untouched", mig_strerror(rc));
        goto out;
    }

    *stage = MIG_XEN_ST_HEADER;
    if (!cfg) {
        rc = ops->get_config(opaque, &json);
        if (rc) {
            snprintf(run->msg, sizeof(run->msg), "domain config: %s",
                     mig_strerror(rc));
            goto out;
        }
        cfg = json;
    }
    rc = mig_stream_put_xl_header(&wb, cfg);
    if (!rc)
        rc = mig_chan_send(ch, wb.data, wb.len);
    if (rc) {
        snprintf(run->msg, sizeof(run->msg), "sending the xl header: %s",
                 mig_strerror(rc));
        goto out;
    }

    *stage = MIG_XEN_ST_STREAM;
    t_call = mig__now() - s.t0;
    rc = ops->suspend(opaque, ch->wfd, o->live);
    t_ret = mig__now() - s.t0;
    set_blocking(ch->wfd);
    set_blocking(ch->rfd);
    if (rc) {
        /* Like xl: a guest that never suspended is not resumed; any other
         * failure of the stream is. */
        if (rc == -ETIMEDOUT) {
            snprintf(run->msg, sizeof(run->msg),
                     "guest did not suspend: not resumed");
            goto out;
        }
        rc = resume_at_sender(&s, false, rc, "sending the domain failed");
        goto out;
    }

    *stage = MIG_XEN_ST_READY;
    rc = expect_msg(ch, MIG_HS_READY);
    if (rc) {
        rc = resume_at_sender(&s, false, rc,
                              "no \"ready to unpause\" from the receiver");
        goto out;
    }
    t_ready = mig__now() - s.t0;

    *stage = MIG_XEN_ST_RENAME;
    if (ops->rename_away) {
        rc = ops->rename_away(opaque);
        if (rc) {
            rc = resume_at_sender(&s, false, rc,
                                  "renaming the source failed");
            goto out;
        }
    }

    *stage = MIG_XEN_ST_GO;
    rc = send_msg(ch, MIG_HS_GO);
    t_go = mig__now() - s.t0;
    run->committed = true;
    if (rc) {
        say(o->log, o->log_opaque,
            "migration sender: sending GO failed (%s): Domain state is now "
            "undefined!", mig_strerror(rc));
        snprintf(run->msg, sizeof(run->msg),
                 "sending GO: %s; domain state undefined", mig_strerror(rc));
        goto out;
    }

    *stage = MIG_XEN_ST_REPORT;
    rc = expect_msg(ch, MIG_HS_REPORT);
    if (!rc)
        rc = mig_chan_recv_full(ch, &status, 1);
    t_report = mig__now() - s.t0;
    if (rc) {
        say(o->log, o->log_opaque,
            "migration sender: no report from the target (%s): Domain state "
            "is now undefined!", mig_strerror(rc));
        snprintf(run->msg, sizeof(run->msg),
                 "reading the report: %s; domain state undefined",
                 mig_strerror(rc));
        goto out;
    }
    if (status) {
        say(o->log, o->log_opaque,
            "migration sender: target reports startup failure (status %u)",
            status);
        /* The target destroyed its copy and hands the domain back. */
        rc = expect_msg(ch, MIG_HS_GO);
        if (rc) {
            snprintf(run->msg, sizeof(run->msg),
                     "target failed (status %u), no GO back: %s; domain "
                     "state undefined", status, mig_strerror(rc));
            goto out;
        }
        rc = resume_at_sender(&s, ops->rename_away != NULL, MIG_EREFUSED,
                              "target failed to start the domain");
        goto out;
    }
    rc = fill_result(&s, t_call, t_ret, t_ready, t_go, t_report);
    if (rc)
        goto out;
    if (ops->destroy) {
        int rc2 = ops->destroy(opaque);

        if (rc2)
            say(o->log, o->log_opaque,
                "migration sender: destroying the source failed (%s)",
                mig_strerror(rc2));
    }
    *stage = MIG_XEN_ST_DONE;
    say(o->log, o->log_opaque, "Migration successful.");

out:
    if (rc && run->result.outcome == SIM_OUTCOME_COMPLETED &&
        *stage != MIG_XEN_ST_DONE)
        run->result.outcome = SIM_OUTCOME_ABORTED;
    free(json);
    mig_wbuf_fini(&wb);
    return rc;
}

/* ---- receiver ---------------------------------------------------------- */

struct hdr_capture {
    char *config;               /* malloc'd copy, NUL-terminated */
    uint32_t mandatory;
};

static int on_xl_header(void *opaque, const struct mig_xl_header *h)
{
    struct hdr_capture *c = opaque;

    /* SPEC (xl): a JSON config is needed to build the domain. */
    if (!(h->mandatory_flags & MIG_XL_FLAG_JSON) || !h->config ||
        h->config_len < 2)
        return MIG_ECORRUPT;
    c->config = malloc(h->config_len);
    if (!c->config)
        return MIG_ENOMEM;
    memcpy(c->config, h->config, h->config_len);
    c->config[h->config_len - 1] = '\0';
    c->mandatory = h->mandatory_flags;
    return 0;
}

/*
 * Read the xl save header and its optional data from ch, exactly (libxl
 * reads the stream right after it from the same fd), and check them with
 * the stream decoder.  *json is a malloc'd NUL-terminated config.
 */
static int read_xl_header(struct mig_chan *ch, char **json, char *why,
                          size_t whylen)
{
    static const struct mig_stream_dec_ops dops = {
        .on_xl_header = on_xl_header,
    };
    struct hdr_capture cap = { 0 };
    struct mig_stream_dec *dec;
    uint8_t hdr[MIG_XL_HDR_SIZE];
    uint8_t *all = NULL;
    uint32_t optlen;
    size_t used = 0;
    int rc;

    *json = NULL;
    rc = mig_chan_recv_full(ch, hdr, sizeof(hdr));
    if (rc) {
        snprintf(why, whylen, "reading the xl header: %s", mig_strerror(rc));
        return rc;
    }
    if (memcmp(hdr, MIG_XL_MAGIC, MIG_XL_MAGIC_LEN)) {
        snprintf(why, whylen, "not an xl save header (bad magic)");
        return MIG_ECORRUPT;
    }
    /* SPEC: optional_data_len at offset 44, host (little) endian; bound it
     * before allocating: config length word + config. */
    optlen = mig_le32dec(hdr + 44);
    if (optlen < 4 || optlen > MIG_XL_CONFIG_MAX + 4U) {
        snprintf(why, whylen, "xl header: optional data of %u bytes", optlen);
        return MIG_ECORRUPT;
    }
    all = malloc(sizeof(hdr) + optlen);
    if (!all)
        return MIG_ENOMEM;
    memcpy(all, hdr, sizeof(hdr));
    rc = mig_chan_recv_full(ch, all + sizeof(hdr), optlen);
    if (rc) {
        snprintf(why, whylen, "reading the config: %s", mig_strerror(rc));
        goto out_free;
    }
    dec = mig_stream_dec_new(NULL);
    if (!dec) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    mig_stream_dec_set_ops(dec, &dops, &cap);
    rc = mig_stream_dec_feed_some(dec, all, sizeof(hdr) + optlen, &used);
    if (!rc && !cap.config)
        rc = MIG_ECORRUPT;
    if (rc)
        snprintf(why, whylen, "xl header: %s",
                 mig_stream_dec_errcode(dec) ? mig_stream_dec_error(dec)
                                             : "no JSON config");
    mig_stream_dec_free(dec);
    if (rc)
        free(cap.config);
    else
        *json = cap.config;
out_free:
    free(all);
    return rc;
}

/* Report a failed start: status byte, destroy the copy, GO back. */
static int report_failure(struct mig_chan *ch,
                          const struct mig_xen_dom_ops *ops, void *opaque,
                          int rc)
{
    struct mig_wbuf wb;
    int status = rc < 0 && rc > -256 ? -rc : 1;

    mig_wbuf_init(&wb, NULL);
    if (ops->destroy)
        ops->destroy(opaque);
    if (!mig_stream_put_report(&wb, (uint8_t)status) &&
        !mig_stream_put_handshake(&wb, MIG_HS_GO))
        mig_chan_send(ch, wb.data, wb.len);
    mig_wbuf_fini(&wb);
    return rc;
}

int mig_xen_recv(struct mig_chan *ch, const struct mig_xen_dom_ops *ops,
                 void *opaque, const struct mig_xen_recv_opts *o,
                 enum mig_xen_stage *stage)
{
    struct mig_wbuf wb;
    char why[200] = "";
    char *json = NULL;
    int rc;

    mig_wbuf_init(&wb, NULL);
    mig_chan_set_timeout(ch, o->io_timeout_ms > 0 ? o->io_timeout_ms
                                                  : HS_TIMEOUT_MS);
    *stage = MIG_XEN_ST_BANNER;
    rc = send_msg(ch, MIG_HS_BANNER);
    if (rc) {
        say(o->log, o->log_opaque, "migration target: banner: %s",
            mig_strerror(rc));
        goto out;
    }
    *stage = MIG_XEN_ST_HEADER;
    rc = read_xl_header(ch, &json, why, sizeof(why));
    if (rc) {
        say(o->log, o->log_opaque, "migration target: %s", why);
        goto out;
    }
    *stage = MIG_XEN_ST_STREAM;
    rc = ops->restore(opaque, json, ch->rfd, ch->wfd);
    set_blocking(ch->rfd);
    set_blocking(ch->wfd);
    if (rc) {
        /* xl exits here; the sender sees no "ready" and resumes. */
        say(o->log, o->log_opaque,
            "Migration failed due to problems at target (%s).",
            mig_strerror(rc));
        goto out;
    }
    *stage = MIG_XEN_ST_READY;
    rc = send_msg(ch, MIG_HS_READY);
    if (rc) {
        if (ops->destroy)
            ops->destroy(opaque);
        goto out;
    }
    *stage = MIG_XEN_ST_GO;
    rc = expect_msg(ch, MIG_HS_GO);
    if (rc) {
        /* The sender kept (and resumes) the domain. */
        say(o->log, o->log_opaque,
            "migration target: no permission to go (%s): destroying the "
            "copy", mig_strerror(rc));
        if (ops->destroy)
            ops->destroy(opaque);
        goto out;
    }
    *stage = MIG_XEN_ST_RENAME;
    if (ops->rename_final) {
        rc = ops->rename_final(opaque);
        if (rc) {
            say(o->log, o->log_opaque, "migration target: rename failed");
            rc = report_failure(ch, ops, opaque, rc);
            goto out;
        }
    }
    *stage = MIG_XEN_ST_REPORT;
    rc = ops->unpause(opaque);
    if (rc) {
        say(o->log, o->log_opaque, "migration target: unpause failed (%s)",
            mig_strerror(rc));
        rc = report_failure(ch, ops, opaque, rc);
        goto out;
    }
    rc = mig_stream_put_report(&wb, 0);
    if (!rc)
        rc = mig_chan_send(ch, wb.data, wb.len);
    if (rc) {
        /* The domain runs here already; xl only notes it. */
        say(o->log, o->log_opaque,
            "migration target: could not send the report (%s)",
            mig_strerror(rc));
        rc = 0;
    }
    *stage = MIG_XEN_ST_DONE;
    say(o->log, o->log_opaque, "migration target: domain started");
out:
    free(json);
    mig_wbuf_fini(&wb);
    return rc;
}
