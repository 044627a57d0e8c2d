/* SPDX-License-Identifier: MIT */
/*
 * workload_int.h - internals shared by workload.c (spec and trace parsing,
 * closed forms) and wgen.c (generators).  Not part of the public API.
 *
 * Traces made by the library are allocated as a struct trace_box: the public
 * struct sim_trace followed by the path as written in the spec, which is
 * what sim_workload_format() prints.  Any struct sim_trace handed to
 * sim_workload_free() or sim_workload_format() must come from
 * sim__trace_alloc() (directly or through parsing); the generators and the
 * closed forms accept any well-formed struct sim_trace.
 */
#ifndef SIM_WORKLOAD_INT_H
#define SIM_WORKLOAD_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "workload.h"

/* Limits enforced by the spec and trace parsers (docs/trace-format.md). */
#define SIM__WL_RATE_MAX 1e15          /* bytes/s, 1 PB/s */
#define SIM__WL_MIN_PERIOD 1e-3        /* shortest phase or trace interval */
#define SIM__WL_MAX_PERIOD 1e9         /* longest phase; traces: 1 h */
#define SIM__TRACE_MAX_INTERVAL 3600.0
#define SIM__TRACE_MAX_PAGES (UINT64_C(1) << 32)
#define SIM__TRACE_MAX_PFNS (UINT64_C(1) << 27)
#define SIM__ZIPF_S_MAX 10.0

/*
 * New empty trace (all counts 0, arrays NULL) remembering path (may be
 * NULL).  Caller frees with sim__trace_free().  NULL on ENOMEM.
 */
struct sim_trace *sim__trace_alloc(const char *path);
/* Frees a trace from sim__trace_alloc() and its arrays; NULL is a no-op. */
void sim__trace_free(struct sim_trace *t);
/* The path t was loaded from, "" if none.  Points into t. */
const char *sim__trace_path(const struct sim_trace *t);

/*
 * Read a trace in the format of docs/trace-format.md from f into t (fresh
 * from sim__trace_alloc()).  name is used in messages ("NAME:LINE: ...").
 * Returns 0, MIG_EINVAL with one line in err, MIG_ENOMEM, or -errno on a
 * read error.  On failure t's arrays may be partly filled; free t.
 */
int sim__trace_read(FILE *f, const char *name, struct sim_trace *t,
                    char *err, size_t errlen);

/* Write t to f in the trace format (ranges compressed).  0 or -errno. */
int sim__trace_write(FILE *f, const struct sim_trace *t);

/*
 * 0 if t is well formed (what the generators and closed forms rely on), else
 * MIG_EINVAL.  Without deep only the header fields are checked (constant
 * time); deep also checks the offsets and every pfn (linear time).
 */
int sim__trace_valid(const struct sim_trace *t, bool deep);

/*
 * Entries of a trace interval holding m pfns that have been emitted once
 * the interval's write credit reaches c (c = scale * m * elapsed / length):
 * entry j is written when the credit reaches j + 0.618..., the golden
 * ratio's fractional part.  At full speed the writes are evenly spaced at
 * (j + 0.618) / m of the interval; the irrational offset keeps the credit of
 * any "round" window or scale away from a threshold, so the generator (which
 * sums credit step by step) and the closed form (which multiplies) agree.
 */
#define SIM__TRACE_PHASE 0.6180339887498949

static inline uint64_t sim__trace_emitted(uint64_t m, double c)
{
    double r = floor(c + (1.0 - SIM__TRACE_PHASE));

    if (!(r > 0))
        return 0;
    return r >= (double)m ? m : (uint64_t)r;
}

/* log1p(t) / t and expm1(t) / t, continuous at t = 0. */
static inline double sim__log1p_over(double t)
{
    if (fabs(t) > 1e-8)
        return log1p(t) / t;
    return 1.0 - t * (0.5 - t / 3.0);
}

static inline double sim__expm1_over(double t)
{
    if (fabs(t) > 1e-8)
        return expm1(t) / t;
    return 1.0 + t * (0.5 + t / 6.0);
}

/* Zipf hat integral: integral of x^-s over [1, x] (log x when s = 1). */
static inline double sim__zipf_hint(double x, double s)
{
    double lx = log(x);

    return lx * sim__expm1_over((1.0 - s) * lx);
}

/* Inverse of sim__zipf_hint() in x. */
static inline double sim__zipf_hinv(double y, double s)
{
    double t = y * (1.0 - s);

    if (t < -1.0)
        t = -1.0;
    return exp(sim__log1p_over(t) * y);
}

#endif
