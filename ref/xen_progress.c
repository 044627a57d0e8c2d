/* SPDX-License-Identifier: MIT */
/*
 * xen_progress.c - what the Xen backend learns without a hypervisor API:
 *   (1) libxc's progress reports and libxl's log messages, as the custom
 *       xentoollog logger of guest_xen.c receives them, turned into
 *       measured passes (guest_xen.h explains what can be measured);
 *   (2) the dirty-page recordings of `miglab xen dirty`: the trace
 *       (docs/trace-format.md, written by sim__trace_write()) and the
 *       writable-working-set curve.
 *
 * The strings matched are libxc's and libxl's of Xen 4.17 (xg_sr_save.c:
 * progress prefix "Frames iteration %u" per live pass, "Frames" for a
 * cold save, "Checkpointed save"; single reports "Start of stream",
 * "Domain now suspended", "End of stream"; log "Saving domain %d, type
 * %s"; libxl_dom_suspend.c "issuing %s suspend request", "guest has
 * suspended").
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "guest_xen.h"
#include "workload_int.h"

#define FRAMES_ITER "Frames iteration "

void mig_xen_progress_init(struct mig_xen_progress *p, double t0)
{
    memset(p, 0, sizeof(*p));
    p->t0 = t0;
    p->t_stream = p->t_susp_req = p->t_suspended = p->t_stream_end = -1;
}

static struct mig_xen_pass *new_pass(struct mig_xen_progress *p, double t,
                                     unsigned iteration, bool live)
{
    struct mig_xen_pass *xp;

    if (p->npasses == MIG_XEN_MAX_PASSES) {
        p->dropped++;
        return NULL;
    }
    xp = &p->passes[p->npasses++];
    memset(xp, 0, sizeof(*xp));
    xp->iteration = iteration;
    xp->live = live;
    xp->t_first = xp->t_last = t;
    return xp;
}

void mig_xen_progress_report(struct mig_xen_progress *p, double t,
                             const char *context, const char *doing_what,
                             unsigned long done, unsigned long total)
{
    struct mig_xen_pass *cur = p->npasses ? &p->passes[p->npasses - 1]
                                          : NULL;
    bool suspended = p->t_suspended >= 0;
    unsigned iteration = 0;
    bool frames = false, numbered = false;

    (void)context;
    if (!doing_what)
        return;
    t -= p->t0;
    if (!strncmp(doing_what, FRAMES_ITER, strlen(FRAMES_ITER))) {
        char *end;
        unsigned long v = strtoul(doing_what + strlen(FRAMES_ITER), &end,
                                  10);

        if (end == doing_what + strlen(FRAMES_ITER) || v > 1000000)
            return;
        iteration = (unsigned)v;
        frames = numbered = true;
    } else if (!strcmp(doing_what, "Frames") ||
               !strcmp(doing_what, "Checkpointed save")) {
        /* Cold save (send all while suspended) or the final checkpointed
         * pass: one pass without an iteration number. */
        frames = true;
    } else if (!strcmp(doing_what, "Domain now suspended")) {
        if (p->t_suspended < 0)
            p->t_suspended = t;
        return;
    } else if (!strcmp(doing_what, "Start of stream")) {
        if (p->t_stream < 0)
            p->t_stream = t;
        return;
    } else if (!strcmp(doing_what, "End of stream")) {
        p->t_stream_end = t;
        return;
    } else {
        return;
    }
    if (!frames)
        return;
    /* A new pass: another prefix, or the same prefix once the domain is
     * suspended.  libxc 4.17 numbers the live passes from 0 and gives the
     * final pass the next number; the check on suspension also covers a
     * final pass that reuses the last live prefix. */
    if (!cur || cur->numbered != numbered || cur->iteration != iteration ||
        (suspended && cur->live)) {
        cur = new_pass(p, t, iteration, !suspended);
        if (!cur)
            return;
        cur->numbered = numbered;
    }
    if (total > cur->pages)
        cur->pages = total;
    if (done > cur->done)
        cur->done = done;
    cur->t_last = t;
    cur->reports++;
}

void mig_xen_progress_message(struct mig_xen_progress *p, double t,
                              int level, const char *context,
                              const char *msg)
{
    if (!msg)
        return;
    t -= p->t0;
    if (strstr(msg, "Saving domain ")) {
        if (p->t_stream < 0)
            p->t_stream = t;
    } else if (strstr(msg, "suspend request")) {
        if (p->t_susp_req < 0)
            p->t_susp_req = t;
    } else if (strstr(msg, "guest has suspended")) {
        if (p->t_suspended < 0)
            p->t_suspended = t;
    }
    /* xentoollog: XTL_ERROR = 8. */
    if (level >= 8)
        snprintf(p->last_error, sizeof(p->last_error), "%s%s%s",
                 context ? context : "", context ? ": " : "", msg);
}

uint64_t mig_xen_pass_bytes(uint64_t pages)
{
    /* FORMAT (libxc PAGE_DATA): 8-byte record header + count/res, then
     * one u64 per pfn and the page; batches of at most 1024 pfns. */
    return pages * (4096 + 8) + (pages + 1023) / 1024 * 16;
}

/* ---- dirty recordings ------------------------------------------------- */

struct mig_xen_dirty *mig_xen_dirty_new(uint64_t npages, double interval_s)
{
    struct mig_xen_dirty *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->npages = npages;
    d->interval_s = interval_s;
    d->cap = 64;
    d->off = calloc(d->cap + 1, sizeof(*d->off));
    if (!d->off) {
        free(d);
        return NULL;
    }
    return d;
}

void mig_xen_dirty_free(struct mig_xen_dirty *d)
{
    if (!d)
        return;
    free(d->off);
    free(d->pfns);
    free(d);
}

static int push_pfn(struct mig_xen_dirty *d, uint64_t pfn)
{
    if (d->npfns == d->pfns_cap) {
        size_t cap = d->pfns_cap ? d->pfns_cap * 2 : 4096;
        uint64_t *p;

        if (cap > SIM__TRACE_MAX_PFNS)
            cap = SIM__TRACE_MAX_PFNS;
        if (d->npfns >= cap)
            return MIG_ERANGE;
        p = realloc(d->pfns, cap * sizeof(*p));
        if (!p)
            return MIG_ENOMEM;
        d->pfns = p;
        d->pfns_cap = cap;
    }
    d->pfns[d->npfns++] = pfn;
    return 0;
}

int mig_xen_dirty_add_bitmap(struct mig_xen_dirty *d, const uint64_t *bitmap)
{
    size_t words = (size_t)((d->npages + 63) / 64);
    size_t mark = d->npfns;
    int rc;

    if (d->nintervals == d->cap) {
        uint64_t *o = realloc(d->off, (d->cap * 2 + 1) * sizeof(*o));

        if (!o)
            return MIG_ENOMEM;
        d->off = o;
        d->cap *= 2;
    }
    for (size_t w = 0; w < words; w++) {
        uint64_t bits = bitmap[w];

        while (bits) {
            uint64_t pfn = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(bits);

            bits &= bits - 1;
            if (pfn >= d->npages)
                break;
            rc = push_pfn(d, pfn);
            if (rc) {
                d->npfns = mark;
                return rc;
            }
        }
    }
    d->nintervals++;
    d->off[d->nintervals] = d->npfns;
    return 0;
}

int mig_xen_dirty_write_trace(const struct mig_xen_dirty *d, FILE *f,
                              const char *comment)
{
    struct sim_trace t = {
        .npages = d->npages, .interval_s = d->interval_s,
        .nintervals = d->nintervals, .off = d->off, .pfns = d->pfns,
    };

    if (comment && fprintf(f, "# %s\n", comment) < 0)
        return errno ? -errno : MIG_EIO;
    if (!d->nintervals)
        return MIG_EINVAL;
    return sim__trace_write(f, &t);
}

/* Distinct pages in every window of w consecutive intervals: mean and
 * maximum over the windows, by a sliding count per page. */
static int window_stats(const struct mig_xen_dirty *d, uint32_t *count,
                        size_t w, double *mean, uint64_t *max)
{
    uint64_t distinct = 0, best = 0;
    double sum = 0;
    size_t nwin = d->nintervals - w + 1;

    memset(count, 0, d->npages * sizeof(*count));
    for (size_t i = 0; i < d->nintervals; i++) {
        for (uint64_t k = d->off[i]; k < d->off[i + 1]; k++)
            if (count[d->pfns[k]]++ == 0)
                distinct++;
        if (i >= w) {
            size_t o = i - w;

            for (uint64_t k = d->off[o]; k < d->off[o + 1]; k++)
                if (--count[d->pfns[k]] == 0)
                    distinct--;
        }
        if (i + 1 >= w) {
            sum += (double)distinct;
            if (distinct > best)
                best = distinct;
        }
    }
    *mean = sum / (double)nwin;
    *max = best;
    return 0;
}

int mig_xen_dirty_write_wws(const struct mig_xen_dirty *d, FILE *f)
{
    struct json_object *o, *arr;
    uint32_t *count;
    size_t w = 1;
    int rc = 0;

    if (!d->nintervals)
        return MIG_EINVAL;
    count = malloc(d->npages * sizeof(*count));
    o = json_object_new_object();
    arr = json_object_new_array();
    if (!count || !o || !arr) {
        rc = MIG_ENOMEM;
        goto out;
    }
    json_object_object_add(o, "pages", json_object_new_int64(
                               (int64_t)d->npages));
    json_object_object_add(o, "interval_s",
                           json_object_new_double(d->interval_s));
    json_object_object_add(o, "intervals", json_object_new_int64(
                               (int64_t)d->nintervals));
    json_object_object_add(o, "duration_s", json_object_new_double(
                               d->interval_s * (double)d->nintervals));
    json_object_object_add(o, "dirty_per_interval_mean",
                           json_object_new_double((double)d->npfns /
                                                  (double)d->nintervals));
    json_object_object_add(o, "dirty_pages_per_s",
                           json_object_new_double((double)d->npfns /
                                                  ((double)d->nintervals *
                                                   d->interval_s)));
    for (;;) {
        struct json_object *e = json_object_new_object();
        double mean;
        uint64_t max;

        if (!e) {
            rc = MIG_ENOMEM;
            goto out;
        }
        window_stats(d, count, w, &mean, &max);
        json_object_object_add(e, "window_s", json_object_new_double(
                                   (double)w * d->interval_s));
        json_object_object_add(e, "intervals",
                               json_object_new_int64((int64_t)w));
        json_object_object_add(e, "distinct_mean",
                               json_object_new_double(mean));
        json_object_object_add(e, "distinct_max",
                               json_object_new_int64((int64_t)max));
        json_object_array_add(arr, e);
        if (w == d->nintervals)
            break;
        w = w * 2 > d->nintervals ? d->nintervals : w * 2;
    }
    json_object_object_add(o, "wws", arr);
    arr = NULL;
    if (fprintf(f, "%s\n", json_object_to_json_string_ext(
                    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED)) <
        0 || fflush(f) == EOF)
        rc = errno ? -errno : MIG_EIO;
out:
    json_object_put(arr);
    json_object_put(o);
    free(count);
    return rc;
}
