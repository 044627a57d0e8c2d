/* SPDX-License-Identifier: MIT */
/*
 * workload.h - dirty-page workload models.
 *
 * A workload says which guest pages get written, and how fast.  Every model
 * has two faces that must agree:
 *   (a) a seeded generator of page writes (struct sim_wgen), used by the
 *       page-exact engine and by the emulated guest's vCPU threads;
 *   (b) the expected number of *distinct* pages written in a time window
 *       (sim_workload_distinct), used by the analytic engine.
 *
 * The rate of a model is in bytes of page writes per second: a rate R means
 * R / 4096 page-write events per second, each touching one page chosen by the
 * model.  Models:
 *
 *   idle                          no writes
 *   uniform:rate=R                every page equally likely
 *   hotcold:wss=S,hot=H,rate=R    fraction H of writes to the first S bytes
 *                                 (the writable working set), the rest
 *                                 uniformly to the other pages
 *   zipf:s=S,rate=R               page k (k = 1..N) has probability
 *                                 proportional to k^-S
 *   seq:rate=R                    a sweep over all pages in order, wrapping,
 *                                 like a memory-touch loop; the start page is
 *                                 drawn from the seed
 *   phased:SPEC@T;SPEC@T;...      each SPEC for T seconds, in order, the list
 *                                 repeating forever; SPEC is any model above
 *                                 or trace (not phased)
 *   trace:FILE                    replay of recorded dirty-page sets, see
 *                                 docs/trace-format.md; repeats forever
 *
 * Generators draw independent page choices at a constant write rate; the
 * closed forms assume exactly that (N(1 - e^{-rt/N}) for uniform, and so on).
 * Across phases of a phased model the closed form multiplies the clean
 * fractions of the phases, which is exact when at most one of the phases is
 * non-uniform and an approximation otherwise.
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

enum sim_workload_kind {
    SIM_WL_IDLE,
    SIM_WL_UNIFORM,
    SIM_WL_HOTCOLD,
    SIM_WL_ZIPF,
    SIM_WL_SEQ,
    SIM_WL_PHASED,
    SIM_WL_TRACE,
};

/* A recorded dirty trace: interval i dirtied pfns[off[i] .. off[i+1]). */
struct sim_trace {
    uint64_t npages;        /* guest size the trace was recorded on, pages */
    double interval_s;      /* length of every interval */
    size_t nintervals;
    uint64_t *off;          /* nintervals + 1 entries */
    uint64_t *pfns;         /* off[nintervals] entries, each < npages */
};

struct sim_workload;

struct sim_workload_phase {
    struct sim_workload *model;  /* owned by the phased workload */
    double duration_s;           /* > 0 */
};

struct sim_workload {
    enum sim_workload_kind kind;
    double rate;                 /* bytes of page writes per second */
    uint64_t wss_bytes;          /* hotcold: hot set size */
    double hot;                  /* hotcold: fraction of writes to hot set */
    double zipf_s;               /* zipf: exponent, > 0 */
    size_t nphases;              /* phased */
    struct sim_workload_phase *phases;
    double cycle_s;              /* phased: sum of durations; trace: length */
    struct sim_trace *trace;     /* trace: owned */
};

/*
 * Parse a workload SPEC (syntax above).  Relative trace paths are taken
 * relative to basedir (NULL = current directory).  On success *out is a new
 * workload the caller frees with sim_workload_free().  On failure returns
 * MIG_EINVAL (or -errno for an unreadable trace, MIG_ENOMEM) and writes one
 * line naming the problem to err (e.g. "uniform: missing rate=").
 */
int sim_workload_parse(const char *spec, const char *basedir,
                       struct sim_workload **out, char *err, size_t errlen);
void sim_workload_free(struct sim_workload *wl);

/*
 * Check that a parsed workload fits a guest of npages pages (hot set not
 * larger than memory, trace recorded on at most npages pages).  0 or
 * MIG_EINVAL with a message in err.
 */
int sim_workload_check(const struct sim_workload *wl, uint64_t npages,
                       char *err, size_t errlen);

/* Canonical spec text of wl into buf (always NUL-terminated); returns buf. */
char *sim_workload_format(const struct sim_workload *wl, char *buf,
                          size_t len);

/* Page-write rate in bytes/s at time t (phase-dependent for phased). */
double sim_workload_rate_at(const struct sim_workload *wl, double t);

/*
 * Expected number of distinct pages, out of npages, written during the window
 * [t0, t0 + dt) by the generator of wl, with every write rate multiplied by
 * scale (0..1; auto-converge throttling).  Closed form: cost independent of
 * npages for idle/uniform/hotcold/seq, about a hundred terms for zipf;
 * exact for traces (a union of the recorded sets in the window).
 */
double sim_workload_distinct(const struct sim_workload *wl, uint64_t npages,
                             double t0, double dt, double scale);

/* Seeded page-write generator. */
struct sim_wgen;

typedef void (*sim_page_fn)(void *arg, uint64_t pfn);

/*
 * New generator for wl on a guest of npages pages, at time 0, seeded with
 * seed.  wl is borrowed and must outlive the generator.  NULL on ENOMEM or
 * when wl does not fit npages (see sim_workload_check).  Free with
 * sim_wgen_free().
 */
struct sim_wgen *sim_wgen_new(const struct sim_workload *wl, uint64_t npages,
                              uint64_t seed);
void sim_wgen_free(struct sim_wgen *g);

/*
 * Advance the generator's clock by dt seconds, calling fn(arg, pfn) once for
 * every page write in that time, in order, with write rates multiplied by
 * scale.  Fractional writes carry over between calls, so many small steps
 * give the same writes as one large step.  Returns the number of writes.
 */
uint64_t sim_wgen_advance(struct sim_wgen *g, double dt, double scale,
                          sim_page_fn fn, void *arg);

/* The generator's clock, seconds since creation. */
double sim_wgen_time(const struct sim_wgen *g);

/*
 * Generator state, for moving a running generator elsewhere (the emulated
 * guest's live migration).  The state is a versioned little-endian blob of
 * sim_wgen_state_size(g) bytes holding everything that changes as the
 * generator runs (RNG, clock, phase, per-model credit and positions); the
 * workload itself is not in it.  Loading it into a generator made by
 * sim_wgen_new() for the same workload and npages (any seed) makes that
 * generator produce exactly the writes the saved one would have.
 *
 * save writes sim_wgen_state_size(g) bytes to buf (len must be at least
 * that): returns the byte count, or 0 when len is too small.  load returns
 * 0, or MIG_ECORRUPT when the blob is malformed, from another version, for
 * another workload shape or guest size, or holds values out of range (it
 * is checked as untrusted input; g is unchanged on failure).
 */
size_t sim_wgen_state_size(const struct sim_wgen *g);
size_t sim_wgen_state_save(const struct sim_wgen *g, void *buf, size_t len);
int sim_wgen_state_load(struct sim_wgen *g, const void *buf, size_t len);

#endif
