/* SPDX-License-Identifier: MIT */
/*
 * guest_xen.c - the libxenlight / libxenctrl glue of the Xen backend
 * (guest_xen.h): the domain operations the xl handshake drives
 * (xen_handshake.c), a xentoollog logger that time-stamps libxc's progress
 * and libxl's messages (parsed in xen_progress.c), and log-dirty sampling
 * for `miglab xen dirty`.
 *
 * The calls are those xl makes (xl_migrate.c, xl_saverestore.c; API facts
 * in ../shared/reference/xen-qemu-facts.md §A "libxl API"): the sender
 * retrieves the domain's configuration as JSON and calls
 * libxl_domain_suspend() into the channel; the receiver builds the domain
 * paused with libxl_domain_create_restore() under NAME--incoming.  libxl
 * is used synchronously (ao_how NULL); SIGCHLD is libxl's, reaping only
 * its own children (the tool reaps its ssh-style child itself).
 *
 * Built only with MIGLAB_HAVE_XEN; otherwise the entry points return
 * MIG_ENOTSUP and mig_xen_compiled_out() says why.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest_xen.h"

#ifndef MIGLAB_HAVE_XEN

const char *mig_xen_compiled_out(void)
{
    return "the Xen backend was compiled out: libxenlight was not found "
           "at build time (pkg-config xenlight xentoollog xencontrol; "
           "Debian package libxen-dev)";
}

int mig_xen_open(const struct mig_xen_cfg *cfg, struct mig_xen **out,
                 char *err, size_t errlen)
{
    (void)cfg;
    *out = NULL;
    snprintf(err, errlen, "%s", mig_xen_compiled_out());
    return MIG_ENOTSUP;
}

void mig_xen_close(struct mig_xen *x)
{
    (void)x;
}

int mig_xen_select(struct mig_xen *x, const char *domain, char *err,
                   size_t errlen)
{
    (void)x;
    (void)domain;
    snprintf(err, errlen, "%s", mig_xen_compiled_out());
    return MIG_ENOTSUP;
}

uint64_t mig_xen_mem_pages(const struct mig_xen *x)
{
    (void)x;
    return 0;
}

const struct mig_xen_dom_ops *mig_xen_dom_ops(void)
{
    return NULL;
}

struct mig_xen_progress *mig_xen_progress(struct mig_xen *x)
{
    (void)x;
    return NULL;
}

int mig_xen_dirty_sample(struct mig_xen *x,
                         const struct mig_xen_dirty_opts *o,
                         struct mig_xen_dirty **out, char *err,
                         size_t errlen)
{
    (void)x;
    (void)o;
    *out = NULL;
    snprintf(err, errlen, "%s", mig_xen_compiled_out());
    return MIG_ENOTSUP;
}

#else /* MIGLAB_HAVE_XEN */

#include <libxl.h>
#include <libxl_utils.h>
#include <xenctrl.h>
#include <xentoollog.h>

struct mig_xen {
    xentoollog_logger lg;       /* first: the logger libxl and libxc get */
    struct mig_xen_cfg cfg;
    libxl_ctx *ctx;
    xc_interface *xch;          /* opened for log-dirty only */
    libxl_childproc_hooks hooks;
    struct mig_xen_progress progress;
    uint32_t domid;
    bool selected;
    char *name;                 /* the domain's name (receiver: as in the
                                   config, without --incoming) */
    uint64_t mem_pages;
};

const char *mig_xen_compiled_out(void)
{
    return "";
}

static void emit(struct mig_xen *x, const char *msg)
{
    if (x->cfg.log)
        x->cfg.log(x->cfg.log_opaque, msg);
    else
        fprintf(stderr, "%s\n", msg);
}

static void lg_vmessage(struct xentoollog_logger *lg, xentoollog_level level,
                        int errnoval, const char *context, const char *fmt,
                        va_list ap) __attribute__((format(printf, 5, 0)));

static void lg_vmessage(struct xentoollog_logger *lg, xentoollog_level level,
                        int errnoval, const char *context, const char *fmt,
                        va_list ap)
{
    struct mig_xen *x = (struct mig_xen *)(void *)lg;
    double t = mig__now();
    xentoollog_level show;
    char msg[1024];
    char line[1200];
    int n;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n > 0 && (size_t)n < sizeof(msg) && errnoval >= 0)
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
                 strerror(errnoval));
    mig_xen_progress_message(&x->progress, t, (int)level, context, msg);
    show = x->cfg.verbose >= 3 ? XTL_DEBUG
         : x->cfg.verbose == 2 ? XTL_DETAIL
         : x->cfg.verbose == 1 ? XTL_INFO : XTL_WARN;
    if (level < show)
        return;
    snprintf(line, sizeof(line), "[%.3f] %s: %s: %s", t - x->progress.t0,
             context ? context : "xen", xtl_level_to_string(level), msg);
    emit(x, line);
}

static void lg_progress(struct xentoollog_logger *lg, const char *context,
                        const char *doing_what, int percent,
                        unsigned long done, unsigned long total)
{
    struct mig_xen *x = (struct mig_xen *)(void *)lg;
    double t = mig__now();
    char line[300];

    mig_xen_progress_report(&x->progress, t, context, doing_what, done,
                            total);
    /* One line per pass end at -vv; every report at -vvv. */
    if (x->cfg.verbose >= 3 || (x->cfg.verbose >= 2 && done == total)) {
        snprintf(line, sizeof(line), "[%.3f] %s: progress: %s: %lu/%lu %d%%",
                 t - x->progress.t0, context ? context : "xen",
                 doing_what ? doing_what : "", done, total, percent);
        emit(x, line);
    }
}

static void lg_destroy(struct xentoollog_logger *lg)
{
    (void)lg;                   /* the logger lives in struct mig_xen */
}

int mig_xen_open(const struct mig_xen_cfg *cfg, struct mig_xen **out,
                 char *err, size_t errlen)
{
    struct mig_xen *x;
    int rc;

    *out = NULL;
    if (access("/proc/xen", F_OK)) {
        snprintf(err, errlen, "no Xen hypervisor here: /proc/xen is missing "
                 "(not a Xen dom0, or xenfs is not mounted)");
        return MIG_EIO;
    }
    x = calloc(1, sizeof(*x));
    if (!x)
        return MIG_ENOMEM;
    if (cfg)
        x->cfg = *cfg;
    x->lg.vmessage = lg_vmessage;
    x->lg.progress = lg_progress;
    x->lg.destroy = lg_destroy;
    mig_xen_progress_init(&x->progress, mig__now());
    rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->lg);
    if (rc || !x->ctx) {
        snprintf(err, errlen, "no usable Xen toolstack here: "
                 "libxl_ctx_alloc failed (rc=%d; root? xenstored running?)",
                 rc);
        free(x);
        return MIG_EIO;
    }
    /* libxl reaps only its own children; ours are waited for by the
     * tool. */
    x->hooks.chldowner = libxl_sigchld_owner_libxl_always_selective_reap;
    libxl_childproc_setmode(x->ctx, &x->hooks, NULL);
    *out = x;
    return 0;
}

void mig_xen_close(struct mig_xen *x)
{
    if (!x)
        return;
    if (x->xch)
        xc_interface_close(x->xch);
    if (x->ctx)
        libxl_ctx_free(x->ctx);
    free(x->name);
    free(x);
}

int mig_xen_select(struct mig_xen *x, const char *domain, char *err,
                   size_t errlen)
{
    libxl_dominfo info;
    uint32_t domid;
    char *end;
    int rc;

    if (libxl_name_to_domid(x->ctx, domain, &domid)) {
        unsigned long v = strtoul(domain, &end, 10);

        if (!*domain || *end || v >= 0x7ff0) {
            snprintf(err, errlen, "no domain named '%s'", domain);
            return MIG_EINVAL;
        }
        domid = (uint32_t)v;
    }
    libxl_dominfo_init(&info);
    rc = libxl_domain_info(x->ctx, &info, domid);
    if (rc) {
        libxl_dominfo_dispose(&info);
        snprintf(err, errlen, "no domain %s (domid %u)", domain, domid);
        return MIG_EINVAL;
    }
    x->mem_pages = info.max_memkb / 4;
    libxl_dominfo_dispose(&info);
    free(x->name);
    x->name = libxl_domid_to_name(x->ctx, domid);
    if (!x->name)
        return MIG_ENOMEM;
    x->domid = domid;
    x->selected = true;
    return 0;
}

uint64_t mig_xen_mem_pages(const struct mig_xen *x)
{
    return x->mem_pages;
}

struct mig_xen_progress *mig_xen_progress(struct mig_xen *x)
{
    return &x->progress;
}

/* libxl's ERROR_* to ours: a guest that did not suspend is -ETIMEDOUT (the
 * handshake must not resume it); anything else is an I/O failure. */
static int from_libxl(int rc)
{
    if (!rc)
        return 0;
    if (rc == ERROR_GUEST_TIMEDOUT)
        return -ETIMEDOUT;
    if (rc == ERROR_NOMEM)
        return MIG_ENOMEM;
    return MIG_EIO;
}

static char *suffixed(const char *name, const char *suffix)
{
    size_t a = strlen(name), b = strlen(suffix);
    char *s = malloc(a + b + 1);

    if (s) {
        memcpy(s, name, a);
        memcpy(s + a, suffix, b + 1);
    }
    return s;
}

static int rename_dom(struct mig_xen *x, const char *from_sfx,
                      const char *to_sfx)
{
    char *from = suffixed(x->name, from_sfx);
    char *to = suffixed(x->name, to_sfx);
    int rc = MIG_ENOMEM;

    if (from && to)
        rc = from_libxl(libxl_domain_rename(x->ctx, x->domid, from, to));
    free(from);
    free(to);
    return rc;
}

static int op_get_config(void *opaque, char **json)
{
    struct mig_xen *x = opaque;
    libxl_domain_config d;
    int rc;

    *json = NULL;
    libxl_domain_config_init(&d);
    rc = libxl_retrieve_domain_configuration(x->ctx, x->domid, &d, NULL);
    if (!rc) {
        *json = libxl_domain_config_to_json(x->ctx, &d);
        if (!*json)
            rc = ERROR_NOMEM;
    }
    libxl_domain_config_dispose(&d);
    return from_libxl(rc);
}

static int op_suspend(void *opaque, int fd, bool live)
{
    struct mig_xen *x = opaque;

    return from_libxl(libxl_domain_suspend(x->ctx, x->domid, fd,
                                           live ? LIBXL_SUSPEND_LIVE : 0,
                                           NULL));
}

static int op_rename_away(void *opaque)
{
    return rename_dom(opaque, "", "--migratedaway");
}

static int op_rename_back(void *opaque)
{
    return rename_dom(opaque, "--migratedaway", "");
}

static int op_resume(void *opaque)
{
    struct mig_xen *x = opaque;

    return from_libxl(libxl_domain_resume(x->ctx, x->domid, 1, NULL));
}

static int op_destroy(void *opaque)
{
    struct mig_xen *x = opaque;

    if (!x->selected)
        return 0;
    return from_libxl(libxl_domain_destroy(x->ctx, x->domid, NULL));
}

static int op_restore(void *opaque, const char *json, int rfd, int wfd)
{
    struct mig_xen *x = opaque;
    libxl_domain_config d;
    libxl_domain_restore_params params;
    uint32_t domid = 0;
    char *incoming;
    int rc;

    libxl_domain_config_init(&d);
    libxl_domain_restore_params_init(&params);
    rc = libxl_domain_config_from_json(x->ctx, &d, json);
    if (rc || !d.c_info.name) {
        libxl_domain_config_dispose(&d);
        return MIG_ECORRUPT;
    }
    free(x->name);
    x->name = strdup(d.c_info.name);
    incoming = suffixed(d.c_info.name, "--incoming");
    if (!x->name || !incoming) {
        free(incoming);
        libxl_domain_config_dispose(&d);
        return MIG_ENOMEM;
    }
    free(d.c_info.name);
    d.c_info.name = incoming;           /* owned by d now */
    params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
    params.stream_version = 2;          /* xl header flag STREAMv2 */
    rc = libxl_domain_create_restore(x->ctx, &d, &domid, rfd, wfd, &params,
                                     NULL, NULL);
    libxl_domain_config_dispose(&d);
    libxl_domain_restore_params_dispose(&params);
    if (rc) {
        /* libxl destroys a half-built domain itself. */
        return from_libxl(rc);
    }
    x->domid = domid;
    x->selected = true;
    return 0;
}

static int op_rename_final(void *opaque)
{
    return rename_dom(opaque, "--incoming", "");
}

static int op_unpause(void *opaque)
{
    struct mig_xen *x = opaque;

    return from_libxl(libxl_domain_unpause(x->ctx, x->domid, NULL));
}

const struct mig_xen_dom_ops *mig_xen_dom_ops(void)
{
    static const struct mig_xen_dom_ops ops = {
        .get_config = op_get_config,
        .suspend = op_suspend,
        .rename_away = op_rename_away,
        .rename_back = op_rename_back,
        .resume = op_resume,
        .destroy = op_destroy,
        .restore = op_restore,
        .rename_final = op_rename_final,
        .unpause = op_unpause,
    };

    return &ops;
}

/* ---- log-dirty sampling ----------------------------------------------- */

static void ts_add(struct timespec *ts, double s)
{
    long long ns = ts->tv_nsec + (long long)(s * 1e9);

    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

int mig_xen_dirty_sample(struct mig_xen *x,
                         const struct mig_xen_dirty_opts *o,
                         struct mig_xen_dirty **out, char *err,
                         size_t errlen)
{
    xc_hypercall_buffer_t hb = { .hbuf = NULL, .param_shadow = NULL,
                                 .dir = 0, .ubuf = (void *)-1, .sz = 0 };
    struct mig_xen_dirty *d = NULL;
    xc_shadow_op_stats_t stats;
    struct timespec next;
    xen_pfn_t maxgpfn = 0;
    uint64_t npages, *bits = NULL;
    size_t nbytes, hpages, n;
    void *buf = NULL;
    int rc = 0;

    *out = NULL;
    if (!x->selected || !(o->interval_s > 0) || !(o->duration_s > 0))
        return MIG_EINVAL;
    if (!x->xch) {
        x->xch = xc_interface_open(&x->lg, &x->lg, 0);
        if (!x->xch) {
            snprintf(err, errlen, "xc_interface_open failed: %s",
                     strerror(errno));
            return MIG_EIO;
        }
    }
    /* PV: the guest's max_pfn; HVM: the highest mapped gfn. */
    if (xc_domain_maximum_gpfn(x->xch, x->domid, &maxgpfn) < 0) {
        snprintf(err, errlen, "xc_domain_maximum_gpfn(%u): %s", x->domid,
                 strerror(errno));
        return MIG_EIO;
    }
    npages = (uint64_t)maxgpfn + 1;
    if (npages < x->mem_pages)
        npages = x->mem_pages;
    if (npages > (UINT64_C(1) << 32)) {
        snprintf(err, errlen, "domain too large for a trace (%llu pages)",
                 (unsigned long long)npages);
        return MIG_ERANGE;
    }
    nbytes = (size_t)((npages + 63) / 64 * 8);
    hpages = (nbytes + 4095) / 4096;
    d = mig_xen_dirty_new(npages, o->interval_s);
    bits = calloc(1, hpages * 4096);
    buf = xc__hypercall_buffer_alloc_pages(x->xch, &hb, (int)hpages);
    if (!d || !bits || !buf) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    if (xc_shadow_control(x->xch, x->domid,
                          XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0) < 0) {
        /* Never turn off somebody else's log-dirty (a migration). */
        snprintf(err, errlen, "enabling log-dirty on domain %u failed: %s "
                 "(already on, e.g. a migration running?)", x->domid,
                 strerror(errno));
        rc = MIG_EIO;
        goto out_free;
    }
    /* Forget what was dirty before the first interval. */
    if (xc_logdirty_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
                            &hb, npages, 0, &stats) < 0) {
        snprintf(err, errlen, "log-dirty CLEAN: %s", strerror(errno));
        rc = MIG_EIO;
        goto out_off;
    }
    clock_gettime(CLOCK_MONOTONIC, &next);
    n = (size_t)(o->duration_s / o->interval_s + 0.5);
    if (!n)
        n = 1;
    for (size_t i = 0; i < n && !(o->stop && *o->stop); i++) {
        ts_add(&next, o->interval_s);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
                               NULL) == EINTR)
            if (o->stop && *o->stop)
                break;
        memset(buf, 0, hpages * 4096);
        if (xc_logdirty_control(x->xch, x->domid,
                                XEN_DOMCTL_SHADOW_OP_CLEAN, &hb, npages, 0,
                                &stats) < 0) {
            snprintf(err, errlen, "log-dirty CLEAN (interval %zu): %s", i,
                     strerror(errno));
            rc = MIG_EIO;
            goto out_off;
        }
        memcpy(bits, buf, nbytes);
        rc = mig_xen_dirty_add_bitmap(d, bits);
        if (rc) {
            snprintf(err, errlen, "recording interval %zu: %s", i,
                     mig_strerror(rc));
            goto out_off;
        }
    }
out_off:
    if (xc_shadow_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL,
                          0) < 0 && !rc) {
        snprintf(err, errlen, "turning log-dirty off: %s", strerror(errno));
        rc = MIG_EIO;
    }
out_free:
    if (buf)
        xc__hypercall_buffer_free_pages(x->xch, &hb, (int)hpages);
    free(bits);
    if (rc)
        mig_xen_dirty_free(d);
    else
        *out = d;
    return rc;
}

#endif /* MIGLAB_HAVE_XEN */
