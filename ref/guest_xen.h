/* SPDX-License-Identifier: MIT */
/*
 * guest_xen.h - the real Xen backend: migrate Xen domains through
 * libxenlight the way `xl migrate` / `xl migrate-receive` do, measure the
 * passes from libxc's progress reports, and sample a domain's dirty pages
 * with log-dirty into a simulator trace.
 *
 * Three layers, so that what needs no hypervisor is tested everywhere:
 *   xen_handshake.c  the xl migrate two-phase commit, both sides, byte for
 *                    byte as xl_migrate.c (facts: xen-qemu-facts.md A),
 *                    driving a table of domain operations (struct
 *                    mig_xen_dom_ops) over a struct mig_chan;
 *   xen_progress.c   what the custom xentoollog logger sees (libxc's
 *                    "Frames iteration N" progress, "Domain now suspended",
 *                    libxl's suspend messages) turned into measured passes
 *                    in the simulator's result shape; the dirty-trace and
 *                    writable-working-set writer of `miglab xen dirty`;
 *   guest_xen.c      the libxenlight / libxenctrl glue: the real domain
 *                    operations, the logger, log-dirty sampling.  Built
 *                    only with MIGLAB_HAVE_XEN (pkg-config found xenlight,
 *                    xentoollog, xencontrol); otherwise every entry point
 *                    returns MIG_ENOTSUP with mig_xen_compiled_out().
 *
 * What the logger can measure (docs/xen.md): the pass index, the pages of
 * each pass (the progress total), the start and end of each pass to within
 * one progress report (every 4 MiB), the suspend request and the moment the
 * guest is suspended.  libxc runs in libxl-save-helper; its reports reach
 * us through libxl's pipe and event loop, so each timestamp is late by that
 * hop (well under a millisecond on an idle dom0).  Bytes on the wire and
 * dirty counts after each pass are not reported by libxc: bytes are
 * computed from the pages and the stream format, and dirty_after of a pass
 * is the pages of the next one.  libxl sets no precopy_policy, so the stop
 * rule is always Xen's built-in one (5 passes / 50 pages).
 */
#ifndef MIG_GUEST_XEN_H
#define MIG_GUEST_XEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mig_err.h"
#include "migrate.h"
#include "transport.h"
#include "workload.h"

/* ====================================================================== *
 * Progress capture (no hypervisor needed)
 * ====================================================================== */

#define MIG_XEN_MAX_PASSES 64U

struct mig_xen_pass {
    unsigned iteration;         /* N of "Frames iteration N" (from 0) */
    bool numbered;              /* false: "Frames" (cold) */
    bool live;                  /* false: sent while suspended */
    uint64_t pages;             /* largest progress total seen */
    uint64_t done;              /* largest progress done seen */
    double t_first;             /* first and last report, s since t0 */
    double t_last;
    unsigned reports;
};

/* Times are seconds since the start of the migration; < 0 = not seen. */
struct mig_xen_progress {
    double t0;                  /* CLOCK_MONOTONIC origin, s */
    double t_stream;            /* libxc "Saving domain" / "Start of stream" */
    double t_susp_req;          /* libxl "issuing ... suspend request" */
    double t_suspended;         /* "Domain now suspended" / "guest has
                                   suspended" */
    double t_stream_end;        /* libxc "End of stream" */
    size_t npasses;
    unsigned dropped;           /* passes beyond MIG_XEN_MAX_PASSES */
    struct mig_xen_pass passes[MIG_XEN_MAX_PASSES];
    char last_error[256];       /* last message at error level, "" if none */
};

/* Start capturing; t0 is the migration's CLOCK_MONOTONIC origin. */
void mig_xen_progress_init(struct mig_xen_progress *p, double t0);

/*
 * One xentoollog progress report at time t (CLOCK_MONOTONIC s): context
 * ("xc"), doing_what ("Frames iteration 3", "Frames", "Domain now
 * suspended", ...), done and total.  Unknown reports are ignored.
 * doing_what may be NULL.
 */
void mig_xen_progress_report(struct mig_xen_progress *p, double t,
                             const char *context, const char *doing_what,
                             unsigned long done, unsigned long total);

/* One formatted log message (level: xentoollog's XTL_* as int; 8 = error
 * and above are remembered in last_error).  Picks the suspend markers. */
void mig_xen_progress_message(struct mig_xen_progress *p, double t,
                              int level, const char *context,
                              const char *msg);

/* Stream bytes libxc writes for a pass of pages pages: page data, one pfn
 * word per page and a 16-byte record header per batch of 1024. */
uint64_t mig_xen_pass_bytes(uint64_t pages);

/* ====================================================================== *
 * The xl migrate handshake (no hypervisor needed)
 * ====================================================================== */

/*
 * What the handshake asks of the domain.  Every op returns 0 or a negative
 * MIG_E* / -errno.  opaque is the backend's (the libxl glue, or a test
 * double).
 */
struct mig_xen_dom_ops {
    /* Sender.  The domain's config as JSON text (NUL-terminated); caller
     * frees *json with free(). */
    int (*get_config)(void *opaque, char **json);
    /* Write the libxl migration stream into fd (live or cold: the domain
     * is suspended at the end either way). */
    int (*suspend)(void *opaque, int fd, bool live);
    /* Rename the source NAME -> NAME--migratedaway, and back. */
    int (*rename_away)(void *opaque);
    int (*rename_back)(void *opaque);
    /* Resume the suspended source (suspend_cancel). */
    int (*resume)(void *opaque);
    /* Destroy the domain (source after success, copy after failure). */
    int (*destroy)(void *opaque);

    /* Receiver.  Build the domain, paused, as NAME--incoming from the
     * config and the stream on rfd (wfd: libxl's send_back_fd). */
    int (*restore)(void *opaque, const char *json, int rfd, int wfd);
    /* Rename NAME--incoming -> NAME. */
    int (*rename_final)(void *opaque);
    int (*unpause)(void *opaque);
};

/* Where the handshake is; tests and messages use it. */
enum mig_xen_stage {
    MIG_XEN_ST_BANNER,          /* waiting for / sending the banner */
    MIG_XEN_ST_HEADER,          /* xl save header + config */
    MIG_XEN_ST_STREAM,          /* libxl stream */
    MIG_XEN_ST_READY,           /* "domain received, ready to unpause" */
    MIG_XEN_ST_RENAME,
    MIG_XEN_ST_GO,              /* "domain is yours, ..." */
    MIG_XEN_ST_REPORT,          /* report + status byte */
    MIG_XEN_ST_DONE,
};

struct mig_xen_send_opts {
    bool live;
    const char *config_json;    /* NULL: ops->get_config; not owned */
    int io_timeout_ms;          /* handshake reads; 0 = 120 s */
    struct mig_xen_progress *progress;  /* NULL: no pass accounting */
    uint64_t mem_pages;         /* guest size for the result */
    void (*log)(void *opaque, const char *msg);   /* NULL: silent */
    void *log_opaque;
};

/*
 * Migrate one domain as the xl sender does over ch: expect the banner,
 * write the xl save header with the config, ops->suspend into ch->wfd,
 * read "ready", rename away, send GO, read the report; destroy the source
 * on success.  Failures before GO resume the source at this end
 * ("Migration failed, resuming at sender."); a failure after GO leaves it
 * suspended and reports that its state is undefined.  run (initialised by
 * the caller) gets the measured result in the predict JSON shape and the
 * outcome; *stage where it stopped.  Returns 0, or the first error.
 */
int mig_xen_send(struct mig_chan *ch, const struct mig_xen_dom_ops *ops,
                 void *opaque, const struct mig_xen_send_opts *o,
                 struct mig_run *run, enum mig_xen_stage *stage);

struct mig_xen_recv_opts {
    int io_timeout_ms;          /* 0 = 120 s */
    void (*log)(void *opaque, const char *msg);
    void *log_opaque;
};

/*
 * Receive one domain as `xl migrate-receive` does over ch: send the
 * banner, read and check the xl save header and config (untrusted input),
 * ops->restore from ch->rfd, send "ready", wait for GO, rename, unpause,
 * send the report and its status byte.  A failed start destroys the copy
 * and sends GO back (the sender may resume).  Returns 0 or the first
 * error; *stage where it stopped.
 */
int mig_xen_recv(struct mig_chan *ch, const struct mig_xen_dom_ops *ops,
                 void *opaque, const struct mig_xen_recv_opts *o,
                 enum mig_xen_stage *stage);

const char *mig_xen_stage_name(enum mig_xen_stage s);

/* ====================================================================== *
 * Dirty traces (no hypervisor needed)
 * ====================================================================== */

/*
 * A dirty-page recording: one sorted, duplicate-free set of pfns per
 * interval, as log-dirty CLEAN returns them.
 */
struct mig_xen_dirty {
    uint64_t npages;            /* bitmap size: every pfn is below it */
    double interval_s;
    size_t nintervals;
    size_t cap;
    uint64_t *off;              /* nintervals + 1 */
    uint64_t *pfns;
    size_t npfns, pfns_cap;
};

/* New empty recording.  Caller frees with mig_xen_dirty_free().  NULL on
 * ENOMEM. */
struct mig_xen_dirty *mig_xen_dirty_new(uint64_t npages, double interval_s);
void mig_xen_dirty_free(struct mig_xen_dirty *d);
/* Append one interval from a CLEAN bitmap of d->npages bits (words of 64,
 * bit i of word w = pfn 64 w + i).  0 or MIG_ENOMEM, MIG_ERANGE past the
 * trace format's pfn limit. */
int mig_xen_dirty_add_bitmap(struct mig_xen_dirty *d, const uint64_t *bitmap);

/*
 * Write the recording in the trace format (docs/trace-format.md) to f,
 * with comment lines (comment may be NULL; one line, no newline).
 * 0 or -errno.
 */
int mig_xen_dirty_write_trace(const struct mig_xen_dirty *d, FILE *f,
                              const char *comment);
/*
 * Its writable-working-set curve as JSON to f: for windows of 1, 2, 4, ...
 * intervals (and the whole recording), the mean and the largest number of
 * distinct pages dirtied in a window of that length, plus the mean dirty
 * pages per interval.  0 or -errno.
 */
int mig_xen_dirty_write_wws(const struct mig_xen_dirty *d, FILE *f);

/* ====================================================================== *
 * libxenlight glue (MIGLAB_HAVE_XEN; stubs otherwise)
 * ====================================================================== */

/* Why the backend is missing ("" when it is built). Static. */
const char *mig_xen_compiled_out(void);

struct mig_xen;

struct mig_xen_cfg {
    int verbose;                /* 0: warnings; 1: info; 2+: debug */
    void (*log)(void *opaque, const char *msg);  /* NULL: stderr */
    void *log_opaque;
};

/*
 * Open libxenlight (and libxenctrl) with the capturing logger.  Returns 0
 * and *out (caller frees with mig_xen_close()), MIG_ENOTSUP when the
 * backend is compiled out, or MIG_EIO when no Xen is running here (no
 * /proc/xen, or libxl_ctx_alloc fails); err gets one line.
 */
int mig_xen_open(const struct mig_xen_cfg *cfg, struct mig_xen **out,
                 char *err, size_t errlen);
void mig_xen_close(struct mig_xen *x);

/* Resolve a domain name (or a number) for the ops below.  0, MIG_EINVAL
 * (no such domain) with err. */
int mig_xen_select(struct mig_xen *x, const char *domain, char *err,
                   size_t errlen);
/* Pages of the selected domain (max_memkb / 4). */
uint64_t mig_xen_mem_pages(const struct mig_xen *x);

/* The real domain ops (opaque = the struct mig_xen) and its progress. */
const struct mig_xen_dom_ops *mig_xen_dom_ops(void);
struct mig_xen_progress *mig_xen_progress(struct mig_xen *x);

struct mig_xen_dirty_opts {
    double interval_s;          /* > 0 */
    double duration_s;          /* > 0 */
    volatile sig_atomic_t *stop; /* non-NULL: stop early when set */
};

/*
 * Sample the selected domain's dirty pages: enable log-dirty (SHADOW_OP
 * ENABLE_LOGDIRTY), discard what was dirty before, then every interval
 * CLEAN the bitmap into one trace interval, and finally turn log-dirty
 * off.  *out is the recording (caller frees).  Fails (MIG_EIO) if log-dirty
 * is already on, e.g. during a migration.
 */
int mig_xen_dirty_sample(struct mig_xen *x,
                         const struct mig_xen_dirty_opts *o,
                         struct mig_xen_dirty **out, char *err,
                         size_t errlen);

#endif
