/* SPDX-License-Identifier: MIT */
/*
 * guest_emu.c - the emulated guest backend (guest_emu.h): mmap'd memory,
 * vCPU threads driven by sim/workload generators against CLOCK_MONOTONIC,
 * page stamps, an atomically marked dirty bitmap with Xen's CLEAN/PEEK
 * semantics, and a pause barrier.
 *
 * Concurrency.  vCPU threads store to guest memory and OR bits into the
 * bitmap; the controlling thread reads pages and exchanges bitmap words.
 * Page reads race with vCPU stores exactly as a real hypervisor's reads race
 * with a running guest: a torn page is harmless because its dirty bit is
 * set after the stores (release) and collected by a later CLEAN (acquire
 * exchange), which sends the page again.  lock/cond guard the pause
 * barrier; a vCPU parks only between two writes.
 */
#include "guest_emu.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"
#include "workload.h"

#define GEN_MASK        ((1ULL << 56) - 1)
#define STAMP_SLOTS     510U
#define MAX_STEP_S      0.1     /* a late vCPU never catches up more */
#define MAX_STEP_WRITES 65536.0 /* writes per step at most (~1-3 ms) */
#define SPEC_BUF        4096U
#define GEN_STATE_FIXED 16U     /* seed, nvcpus, state size */
#define STAMP_STRIPES   256U    /* stamp locks, by pfn */

struct emu;

struct emu_vcpu {
    struct emu *emu;
    unsigned idx;
    struct sim_wgen *gen;
    _Atomic uint64_t writes;    /* this vCPU's writes, ever (incl. source) */
    pthread_t thread;
};

struct emu {
    struct mig_guest base;      /* first: mig_guest * <-> emu * */
    uint8_t *mem;
    size_t mem_bytes;
    uint64_t npages;
    unsigned nvcpus;
    double step_s;
    uint64_t seed;              /* generator i uses seed + i */
    struct sim_workload *wl;    /* owned */
    double peak_Bps;            /* wl's highest write rate (make_gens) */
    _Atomic uint64_t *dirty;    /* mig_bitmap_words(npages) words */
    uint64_t *landed;           /* receiver: pages write_page stored; the
                                   others still hold the mapping's zeros */
    bool stamped;               /* mig_guest_emu_step() wrote pages */
    bool wl_migrated;           /* a WORKLOAD record arrived ... */
    bool gen_migrated;          /* ... and so did its GEN_STATE */
    atomic_flag stripe[STAMP_STRIPES];  /* one stamp at a time per page */
    bool logdirty;
    _Atomic double throttle;
    atomic_bool pause_flag;     /* fast path copy of pause_req */
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* barrier: parked / resumed */
    pthread_cond_t wake;        /* cuts a vCPU's nap short (CLOCK_MONOTONIC) */
    bool pause_req;             /* under lock */
    bool stop;                  /* under lock */
    unsigned parked;            /* under lock */
    bool started;
    bool suspended;
    struct emu_vcpu vcpu[];
};

static struct emu *to_emu(struct mig_guest *g)
{
    return (struct emu *)g;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sleep for s seconds of real time, or until a pause or stop request, so
 * a suspend never waits for a vCPU's time step to run out. */
static void nap(struct emu *e, double s)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)s;
    ts.tv_nsec += (long)((s - floor(s)) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->lock);
    while (!e->pause_req && !e->stop)
        if (pthread_cond_timedwait(&e->wake, &e->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&e->lock);
}

static void errf(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/*
 * sim_page_fn: one guest write.  Stores first, dirty bit last.  Two vCPUs
 * may pick the same page at once; a stripe lock keeps each stamp whole, so
 * a stamp is always self-consistent (mig_guest_emu_check_stamps()).
 */
static void stamp(void *arg, uint64_t pfn)
{
    struct emu_vcpu *v = arg;
    struct emu *e = v->emu;
    uint8_t *p = e->mem + pfn * MIG_PAGE_SIZE;
    atomic_flag *lock = &e->stripe[pfn % STAMP_STRIPES];
    uint64_t gen = ((uint64_t)v->idx << 56) |
                   (atomic_fetch_add_explicit(&v->writes, 1,
                                              memory_order_relaxed) + 1);

    uint64_t busy = MIG_EMU_STAMP_BUSY;

    while (atomic_flag_test_and_set_explicit(lock, memory_order_acquire))
        ;
    /* The pfn word marks the stamp busy until it is whole, so a process
     * killed in the middle leaves a mark recovery can see (stores reach a
     * shared mapping in program order on x86; the fences keep the
     * compiler from reordering them). */
    memcpy(p, &busy, 8);
    atomic_signal_fence(memory_order_seq_cst);
    memcpy(p + 8, &gen, 8);
    memcpy(p + 16 + 8 * (gen % STAMP_SLOTS), &gen, 8);
    atomic_signal_fence(memory_order_seq_cst);
    memcpy(p, &pfn, 8);
    atomic_flag_clear_explicit(lock, memory_order_release);
    atomic_fetch_or_explicit(&e->dirty[pfn / 64], 1ULL << (pfn % 64),
                             memory_order_release);
}

static double vcpu_scale(const struct emu *e)
{
    double th = atomic_load_explicit(&e->throttle, memory_order_relaxed);

    return (1.0 - th) / (double)e->nvcpus;
}

/* Park at the barrier; returns true when the guest is being destroyed. */
static bool park(struct emu *e)
{
    bool stop;

    pthread_mutex_lock(&e->lock);
    e->parked++;
    pthread_cond_broadcast(&e->cond);
    while (e->pause_req && !e->stop)
        pthread_cond_wait(&e->cond, &e->lock);
    e->parked--;
    stop = e->stop;
    pthread_mutex_unlock(&e->lock);
    return stop;
}

/*
 * The longest step a vCPU may take: MAX_STEP_S, or less when the workload
 * at its peak rate would make more than MAX_STEP_WRITES writes in it.  A
 * spec may ask for more than the emulator can write (up to 1 PB/s): such a
 * guest writes as fast as it can, and still sees a pause or a stop between
 * two steps instead of after seconds of writes.
 */
static double step_cap_s(const struct emu *e)
{
    double per_s = e->peak_Bps * vcpu_scale(e) / MIG_PAGE_SIZE;

    return per_s > MAX_STEP_WRITES / MAX_STEP_S ? MAX_STEP_WRITES / per_s
                                                : MAX_STEP_S;
}

static void *vcpu_main(void *arg)
{
    struct emu_vcpu *v = arg;
    struct emu *e = v->emu;
    double last = now_s();

    for (;;) {
        double t, dt;

        if (atomic_load_explicit(&e->pause_flag, memory_order_acquire)) {
            if (park(e))
                break;
            /* Guest time stands still while paused, as in a real VM. */
            last = now_s();
            continue;
        }
        nap(e, e->step_s);
        t = now_s();
        dt = fmin(t - last, step_cap_s(e));
        last = t;
        sim_wgen_advance(v->gen, dt, vcpu_scale(e), stamp, v);
    }
    return NULL;
}

/* Highest write rate of wl in bytes/s: its rate, its fastest phase, or
 * its busiest trace interval. */
static double peak_rate(const struct sim_workload *wl)
{
    double peak = 0;

    if (!wl)
        return 0;
    if (wl->kind == SIM_WL_PHASED) {
        for (size_t i = 0; i < wl->nphases; i++)
            peak = fmax(peak, peak_rate(wl->phases[i].model));
        return peak;
    }
    if (wl->kind == SIM_WL_TRACE) {
        const struct sim_trace *t = wl->trace;

        for (size_t i = 0; i < t->nintervals; i++)
            peak = fmax(peak, (double)(t->off[i + 1] - t->off[i]) *
                                  MIG_PAGE_SIZE / t->interval_s);
        return peak;
    }
    return wl->rate;
}

/* (Re)create every generator at time 0 with seed + i. */
static int make_gens(struct emu *e, uint64_t seed)
{
    for (unsigned i = 0; i < e->nvcpus; i++) {
        struct sim_wgen *g = sim_wgen_new(e->wl, e->npages, seed + i);

        if (!g)
            return MIG_ENOMEM;
        sim_wgen_free(e->vcpu[i].gen);
        e->vcpu[i].gen = g;
    }
    e->seed = seed;
    e->peak_Bps = peak_rate(e->wl);
    return 0;
}

static void stop_threads(struct emu *e)
{
    if (!e->started)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    atomic_store_explicit(&e->pause_flag, true, memory_order_release);
    pthread_cond_broadcast(&e->cond);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    for (unsigned i = 0; i < e->nvcpus; i++)
        pthread_join(e->vcpu[i].thread, NULL);
    e->started = false;
}

static void emu_destroy(struct mig_guest *g)
{
    struct emu *e = to_emu(g);

    stop_threads(e);
    for (unsigned i = 0; i < e->nvcpus; i++)
        sim_wgen_free(e->vcpu[i].gen);
    sim_workload_free(e->wl);
    if (e->mem)
        munmap(e->mem, e->mem_bytes);
    free(e->dirty);
    free(e->landed);
    pthread_cond_destroy(&e->cond);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static uint64_t total_writes(struct emu *e)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < e->nvcpus; i++)
        n += atomic_load_explicit(&e->vcpu[i].writes, memory_order_relaxed);
    return n;
}

static int emu_describe(struct mig_guest *g, struct mig_guest_desc *out)
{
    struct emu *e = to_emu(g);

    *out = (struct mig_guest_desc){ .nr_pages = e->npages,
                                    .vcpus = e->nvcpus,
                                    .stamp_generation = total_writes(e) };
    return 0;
}

static int emu_logdirty_enable(struct mig_guest *g)
{
    struct emu *e = to_emu(g);
    size_t n = mig_bitmap_words(e->npages);

    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&e->dirty[i], 0, memory_order_relaxed);
    e->logdirty = true;
    return 0;
}

static int emu_logdirty_disable(struct mig_guest *g)
{
    to_emu(g)->logdirty = false;
    return 0;
}

static int collect(struct emu *e, uint64_t *bitmap, uint64_t *count,
                   bool clear)
{
    size_t n = mig_bitmap_words(e->npages);
    uint64_t c = 0;

    *count = 0;
    if (!e->logdirty)
        return MIG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = clear ? atomic_exchange_explicit(&e->dirty[i], 0,
                                                      memory_order_acquire)
                           : atomic_load_explicit(&e->dirty[i],
                                                  memory_order_acquire);
        if (bitmap)
            bitmap[i] = w;
        c += (uint64_t)__builtin_popcountll(w);
    }
    *count = c;
    return 0;
}

static int emu_logdirty_clean(struct mig_guest *g, uint64_t *bitmap,
                              uint64_t *count)
{
    return collect(to_emu(g), bitmap, count, true);
}

static int emu_logdirty_peek(struct mig_guest *g, uint64_t *bitmap,
                             uint64_t *count)
{
    return collect(to_emu(g), bitmap, count, false);
}

static int emu_read_page(struct mig_guest *g, uint64_t pfn, void *dst)
{
    struct emu *e = to_emu(g);

    if (pfn >= e->npages)
        return MIG_EINVAL;
    memcpy(dst, e->mem + pfn * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
    return 0;
}

static const void *emu_page_ptr(struct mig_guest *g, uint64_t pfn)
{
    struct emu *e = to_emu(g);

    return pfn < e->npages ? e->mem + pfn * MIG_PAGE_SIZE : NULL;
}

static const uint8_t zero_page[MIG_PAGE_SIZE];

/* p may be unaligned: the decoder hands pages over packed.  memcmp is the
 * vectorised loop here, two to three times faster than a word loop. */
static bool page_is_zero(const void *p)
{
    return memcmp(p, zero_page, MIG_PAGE_SIZE) == 0;
}

/*
 * Receiver side, before start.  A zero page landing on a page that was
 * never stored is skipped: the fresh mapping reads as zeros already, and
 * touching it would only make the kernel allocate and clear a page (what
 * QEMU's zero-page handling avoids too).  Only while no vCPU ever wrote the
 * memory (never started, never stepped).  The receiver hashes what it was
 * sent, so integrity checking is unchanged.
 */
static int emu_write_page(struct mig_guest *g, uint64_t pfn, const void *src)
{
    struct emu *e = to_emu(g);
    uint64_t bit;

    if (pfn >= e->npages)
        return MIG_EINVAL;
    if (!e->landed) {
        e->landed = calloc(mig_bitmap_words(e->npages), sizeof(uint64_t));
        if (!e->landed)
            return MIG_ENOMEM;
    }
    bit = 1ULL << (pfn % 64);
    if (!e->started && !e->stamped && !(e->landed[pfn / 64] & bit)) {
        if (page_is_zero(src))
            return 0;
        e->landed[pfn / 64] |= bit;
    }
    memcpy(e->mem + pfn * MIG_PAGE_SIZE, src, MIG_PAGE_SIZE);
    return 0;
}

static int emu_suspend(struct mig_guest *g)
{
    struct emu *e = to_emu(g);

    if (e->suspended)
        return 0;
    if (e->started) {
        pthread_mutex_lock(&e->lock);
        e->pause_req = true;
        atomic_store_explicit(&e->pause_flag, true, memory_order_release);
        pthread_cond_broadcast(&e->wake);
        while (e->parked < e->nvcpus)
            pthread_cond_wait(&e->cond, &e->lock);
        pthread_mutex_unlock(&e->lock);
    }
    e->suspended = true;
    return 0;
}

static int emu_resume(struct mig_guest *g)
{
    struct emu *e = to_emu(g);

    if (!e->suspended)
        return 0;
    pthread_mutex_lock(&e->lock);
    e->pause_req = false;
    atomic_store_explicit(&e->pause_flag, false, memory_order_release);
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    e->suspended = false;
    return 0;
}

static int emu_set_throttle(struct mig_guest *g, double throttle)
{
    if (!(throttle >= 0 && throttle < 1))
        return MIG_EINVAL;
    atomic_store_explicit(&to_emu(g)->throttle, throttle,
                          memory_order_relaxed);
    return 0;
}

static int emu_save_info(struct mig_guest *g, struct mig_wbuf *wb)
{
    struct emu *e = to_emu(g);
    struct mig_guest_info gi = { .vcpus = e->nvcpus, .nr_pages = e->npages,
                                 .stamp_generation = total_writes(e) };
    char *spec = malloc(SPEC_BUF);
    size_t mark = wb->len;
    int rc;

    if (!spec)
        return MIG_ENOMEM;
    sim_workload_format(e->wl, spec, SPEC_BUF);
    rc = mig_stream_put_guest_info(wb, &gi);
    if (!rc)
        rc = mig_stream_put_workload(wb, spec, strlen(spec));
    if (rc)
        mig_wbuf_truncate(wb, mark);
    free(spec);
    return rc;
}

/*
 * GEN_STATE body (format MIG_EMU_GEN_FORMAT), little-endian:
 *   u64 seed, u32 nvcpus, u32 state_size, then per vCPU: u64 writes and
 *   state_size bytes of sim_wgen_state_save() output.
 */
static int emu_save_state(struct mig_guest *g, struct mig_wbuf *wb)
{
    struct emu *e = to_emu(g);
    size_t ss = sim_wgen_state_size(e->vcpu[0].gen);
    size_t len = GEN_STATE_FIXED + (8 + ss) * (size_t)e->nvcpus;
    uint8_t *st, *q;
    int rc;

    if (len > MIG_GEN_STATE_MAX)
        return MIG_ERANGE;
    st = malloc(len);
    if (!st)
        return MIG_ENOMEM;
    mig_le64enc(st, e->seed);
    mig_le32enc(st + 8, e->nvcpus);
    mig_le32enc(st + 12, (uint32_t)ss);
    q = st + GEN_STATE_FIXED;
    for (unsigned i = 0; i < e->nvcpus; i++, q += 8 + ss) {
        mig_le64enc(q, atomic_load(&e->vcpu[i].writes));
        if (sim_wgen_state_save(e->vcpu[i].gen, q + 8, ss) != ss) {
            free(st);
            return MIG_EINVAL;
        }
    }
    rc = mig_stream_put_gen_state(wb, MIG_EMU_GEN_FORMAT, st, len);
    free(st);
    return rc;
}

static int load_workload(struct emu *e, const uint8_t *body, uint32_t len)
{
    char *spec = malloc((size_t)len + 1);
    struct sim_workload *wl = NULL, *old;
    char err[128];
    int rc;

    if (!spec)
        return MIG_ENOMEM;
    memcpy(spec, body, len);
    spec[len] = '\0';
    rc = sim_workload_parse(spec, NULL, &wl, err, sizeof(err));
    free(spec);
    if (rc == MIG_ENOMEM)
        return rc;
    if (rc || sim_workload_check(wl, e->npages, err, sizeof(err))) {
        sim_workload_free(wl);
        return MIG_ECORRUPT;
    }
    old = e->wl;
    e->wl = wl;
    rc = make_gens(e, e->seed);
    if (rc) {
        e->wl = old;
        sim_workload_free(wl);
        return rc;
    }
    sim_workload_free(old);
    return 0;
}

/* Load GEN_STATE into fresh generators first, so that a bad record
 * leaves the guest as it was. */
static int load_gen_state(struct emu *e, const uint8_t *body, uint32_t len)
{
    struct sim_wgen *gens[MIG_EMU_MAX_VCPUS] = { NULL };
    const uint8_t *st, *q;
    uint32_t format;
    size_t slen, ss;
    unsigned i;
    int rc;

    rc = mig_stream_parse_gen_state(body, len, &format, &st, &slen);
    if (rc)
        return rc;
    ss = sim_wgen_state_size(e->vcpu[0].gen);
    if (format != MIG_EMU_GEN_FORMAT || slen < GEN_STATE_FIXED ||
        mig_le32dec(st + 8) != e->nvcpus || mig_le32dec(st + 12) != ss ||
        slen != GEN_STATE_FIXED + (8 + ss) * (size_t)e->nvcpus)
        return MIG_ECORRUPT;
    q = st + GEN_STATE_FIXED;
    for (i = 0; i < e->nvcpus; i++, q += 8 + ss) {
        rc = MIG_ECORRUPT;
        if (mig_le64dec(q) > GEN_MASK)
            goto out_free_gens;
        rc = MIG_ENOMEM;
        gens[i] = sim_wgen_new(e->wl, e->npages, 0);
        if (!gens[i])
            goto out_free_gens;
        rc = sim_wgen_state_load(gens[i], q + 8, ss);
        if (rc)
            goto out_free_gens;
    }
    /* All checked: commit. */
    e->seed = mig_le64dec(st);
    q = st + GEN_STATE_FIXED;
    for (i = 0; i < e->nvcpus; i++, q += 8 + ss) {
        atomic_store(&e->vcpu[i].writes, mig_le64dec(q));
        sim_wgen_free(e->vcpu[i].gen);
        e->vcpu[i].gen = gens[i];
        gens[i] = NULL;
    }
    rc = 0;
out_free_gens:
    for (i = 0; i < e->nvcpus; i++)
        sim_wgen_free(gens[i]);
    return rc;
}

static int emu_load_record(struct mig_guest *g, uint32_t type,
                           const uint8_t *body, uint32_t len)
{
    struct emu *e = to_emu(g);

    if (e->started)
        return MIG_EINVAL;
    if (type == MIG_REC_MIGLAB_WORKLOAD) {
        int rc = load_workload(e, body, len);

        e->wl_migrated |= rc == 0;
        return rc;
    }
    if (type == MIG_REC_MIGLAB_GEN_STATE) {
        int rc = load_gen_state(e, body, len);

        e->gen_migrated |= rc == 0;
        return rc;
    }
    return 0;
}

static int emu_start(struct mig_guest *g)
{
    struct emu *e = to_emu(g);
    unsigned i;
    int rc;

    if (e->started)
        return MIG_EINVAL;
    /* A migrated workload without its vCPU state would run a different
     * guest: refuse to unpause it (the source then resumes its own). */
    if (e->wl_migrated && !e->gen_migrated)
        return MIG_ECORRUPT;
    e->stop = false;
    for (i = 0; i < e->nvcpus; i++) {
        rc = pthread_create(&e->vcpu[i].thread, NULL, vcpu_main, &e->vcpu[i]);
        if (rc)
            goto out_stop;
    }
    e->started = true;
    return 0;

out_stop:
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    atomic_store(&e->pause_flag, true);
    pthread_cond_broadcast(&e->cond);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    while (i-- > 0)
        pthread_join(e->vcpu[i].thread, NULL);
    atomic_store(&e->pause_flag, e->pause_req);
    return -rc;
}

static const struct mig_guest_ops emu_ops = {
    .name = "emu",
    .destroy = emu_destroy,
    .describe = emu_describe,
    .logdirty_enable = emu_logdirty_enable,
    .logdirty_clean = emu_logdirty_clean,
    .logdirty_peek = emu_logdirty_peek,
    .logdirty_disable = emu_logdirty_disable,
    .read_page = emu_read_page,
    .page_ptr = emu_page_ptr,
    .suspend = emu_suspend,
    .resume = emu_resume,
    .set_throttle = emu_set_throttle,
    .save_info = emu_save_info,
    .save_state = emu_save_state,
    .write_page = emu_write_page,
    .load_record = emu_load_record,
    .start = emu_start,
};

/* Anonymous memory, or the file cfg->mem_path mapped shared (zeroed
 * unless cfg->mem_keep, which wants the file exactly that size). */
static int map_memory(struct emu *e, const struct mig_guest_emu_cfg *cfg,
                      char *err, size_t errlen)
{
    struct stat st;
    int fd = -1, rc = 0;

    if (!cfg->mem_path) {
        e->mem = mmap(NULL, cfg->mem_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    } else {
        fd = open(cfg->mem_path, O_RDWR | O_CREAT | O_CLOEXEC |
                  (cfg->mem_keep ? 0 : O_TRUNC), 0600);
        if (fd < 0 || fstat(fd, &st))
            goto out_errno;
        if (cfg->mem_keep && (uint64_t)st.st_size != cfg->mem_bytes) {
            close(fd);
            errf(err, errlen, "emu: memory file has the wrong size");
            return MIG_EINVAL;
        }
        if (!cfg->mem_keep && ftruncate(fd, (off_t)cfg->mem_bytes))
            goto out_errno;
        e->mem = mmap(NULL, cfg->mem_bytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
        close(fd);
        fd = -1;
    }
    if (e->mem != MAP_FAILED)
        return 0;
out_errno:
    rc = -errno;
    if (fd >= 0)
        close(fd);
    e->mem = NULL;
    errf(err, errlen, "emu: cannot map guest memory");
    return rc;
}

int mig_guest_emu_new(const struct mig_guest_emu_cfg *cfg,
                      struct mig_guest **out, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    struct emu *e;
    int rc;

    *out = NULL;
    if (!cfg || cfg->mem_bytes < MIG_PAGE_SIZE ||
        cfg->mem_bytes % MIG_PAGE_SIZE ||
        cfg->mem_bytes / MIG_PAGE_SIZE > MIG_PFN_MASK || cfg->vcpus < 1 ||
        cfg->vcpus > MIG_EMU_MAX_VCPUS || cfg->step_s < 0 ||
        cfg->step_s > 1) {
        errf(err, errlen, "emu: memory must be a positive multiple of 4 KiB,"
             " vcpus 1..64, step 0..1 s");
        return MIG_EINVAL;
    }
    e = calloc(1, sizeof(*e) + cfg->vcpus * sizeof(e->vcpu[0]));
    if (!e)
        return MIG_ENOMEM;
    e->base.ops = &emu_ops;
    e->npages = cfg->mem_bytes / MIG_PAGE_SIZE;
    e->nvcpus = cfg->vcpus;
    e->step_s = cfg->step_s > 0 ? cfg->step_s : 0.001;
    e->seed = cfg->seed;
    atomic_init(&e->throttle, 0.0);
    atomic_init(&e->pause_flag, false);
    for (unsigned i = 0; i < STAMP_STRIPES; i++)
        atomic_flag_clear(&e->stripe[i]);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_condattr_destroy(&ca);
    for (unsigned i = 0; i < e->nvcpus; i++) {
        e->vcpu[i].emu = e;
        e->vcpu[i].idx = i;
        atomic_init(&e->vcpu[i].writes, 0);
    }
    e->dirty = calloc(mig_bitmap_words(e->npages), sizeof(e->dirty[0]));
    if (!e->dirty) {
        rc = MIG_ENOMEM;
        goto out_destroy;
    }
    rc = map_memory(e, cfg, err, errlen);
    if (rc)
        goto out_destroy;
    e->mem_bytes = cfg->mem_bytes;
    (void)madvise(e->mem, e->mem_bytes, MADV_NOHUGEPAGE);
    rc = sim_workload_parse(cfg->workload ? cfg->workload : "idle", NULL,
                            &e->wl, err, errlen);
    if (rc)
        goto out_destroy;
    if (sim_workload_check(e->wl, e->npages, err, errlen)) {
        rc = MIG_EINVAL;
        goto out_destroy;
    }
    rc = make_gens(e, e->seed);
    if (rc)
        goto out_destroy;
    *out = &e->base;
    return 0;

out_destroy:
    emu_destroy(&e->base);
    return rc;
}

int mig_guest_emu_create(void *opaque, const struct mig_guest_desc *desc,
                         struct mig_guest **out, char *err, size_t errlen)
{
    const uint64_t *capp = opaque;
    long phys = sysconf(_SC_PHYS_PAGES);

    /* Without an explicit cap, never accept more than the machine has: the
     * size comes from the peer. */
    return mig_guest_emu_create_at(
        desc, capp ? *capp
                   : phys > 0 ? (uint64_t)phys * (uint64_t)sysconf(_SC_PAGESIZE)
                              : UINT64_MAX,
        NULL, out, err, errlen);
}

int mig_guest_emu_create_at(const struct mig_guest_desc *desc, uint64_t cap,
                            const char *mem_path, struct mig_guest **out,
                            char *err, size_t errlen)
{
    struct mig_guest_emu_cfg cfg = { .vcpus = desc->vcpus,
                                     .mem_path = mem_path };

    *out = NULL;
    if (desc->nr_pages == 0 || desc->nr_pages > MIG_PFN_MASK) {
        errf(err, errlen, "emu: bad guest size");
        return MIG_EINVAL;
    }
    cfg.mem_bytes = desc->nr_pages * MIG_PAGE_SIZE;
    if (cfg.mem_bytes > cap) {
        if (err && errlen)
            snprintf(err, errlen, "not enough memory: guest needs %llu "
                     "bytes, host has %llu free",
                     (unsigned long long)cfg.mem_bytes,
                     (unsigned long long)cap);
        return MIG_ERANGE;
    }
    return mig_guest_emu_new(&cfg, out, err, errlen);
}

uint64_t mig_guest_emu_writes(struct mig_guest *g)
{
    return total_writes(to_emu(g));
}

char *mig_guest_emu_workload(struct mig_guest *g, char *buf, size_t len)
{
    struct emu *e = to_emu(g);

    /* The spec changes only in load_record, before the guest starts. */
    return sim_workload_format(e->wl, buf, len);
}

int mig_guest_emu_wait_running(struct mig_guest *g, int timeout_ms)
{
    struct emu *e = to_emu(g);
    struct timespec dl;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &dl);     /* e->cond's clock */
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->lock);
    /* resume() clears pause_req and broadcasts cond under the lock. */
    while (e->pause_req && !e->stop && rc == 0)
        rc = pthread_cond_timedwait(&e->cond, &e->lock, &dl);
    rc = e->pause_req && !e->stop ? -ETIMEDOUT : 0;
    pthread_mutex_unlock(&e->lock);
    return rc;
}

const uint8_t *mig_guest_emu_mem(struct mig_guest *g)
{
    return to_emu(g)->mem;
}

uint64_t mig_guest_emu_check_stamps(struct mig_guest *g, uint64_t *first_bad)
{
    struct emu *e = to_emu(g);
    uint64_t bad = 0;

    *first_bad = UINT64_MAX;
    for (uint64_t pfn = 0; pfn < e->npages; pfn++) {
        const uint8_t *p = e->mem + pfn * MIG_PAGE_SIZE;
        uint64_t spfn, gen, pat;

        memcpy(&spfn, p, 8);
        memcpy(&gen, p + 8, 8);
        if (gen == 0 && spfn == 0)
            continue;       /* never written */
        memcpy(&pat, p + 16 + 8 * (gen % STAMP_SLOTS), 8);
        if (spfn != pfn || (gen >> 56) >= e->nvcpus || !(gen & GEN_MASK) ||
            pat != gen) {
            if (!bad)
                *first_bad = pfn;
            bad++;
        }
    }
    return bad;
}

uint64_t mig_guest_emu_repair_stamps(struct mig_guest *g)
{
    struct emu *e = to_emu(g);
    uint64_t fixed = 0;

    if (e->started)
        return 0;
    for (uint64_t pfn = 0; pfn < e->npages; pfn++) {
        uint8_t *p = e->mem + pfn * MIG_PAGE_SIZE;
        uint64_t spfn, gen;

        memcpy(&spfn, p, 8);
        if (spfn != MIG_EMU_STAMP_BUSY)
            continue;
        memcpy(&gen, p + 8, 8);
        if (gen == 0) {
            /* The first stamp of a fresh page, cut before its generation:
             * the page was never written. */
            memset(p, 0, 8);
        } else {
            memcpy(p + 16 + 8 * (gen % STAMP_SLOTS), &gen, 8);
            memcpy(p, &pfn, 8);
        }
        fixed++;
    }
    return fixed;
}

uint64_t mig_guest_emu_step(struct mig_guest *g, double dt)
{
    struct emu *e = to_emu(g);
    uint64_t n = 0;

    if (e->started && !e->suspended)
        return 0;
    e->stamped = true;
    for (unsigned i = 0; i < e->nvcpus; i++)
        n += sim_wgen_advance(e->vcpu[i].gen, dt, vcpu_scale(e), stamp,
                              &e->vcpu[i]);
    return n;
}
