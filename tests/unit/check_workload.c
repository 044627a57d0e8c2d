/* SPDX-License-Identifier: MIT */
/*
 * check_workload.c - unit tests of sim/workload.c and sim/wgen.c: spec
 * parsing and canonical text, trace files (docs/trace-format.md), and the
 * agreement of every model's generator with its closed form for distinct
 * pages.
 *
 * Generator-versus-closed-form cases use a 256 MiB guest (65536 pages) and
 * windows in which 10-90% of memory is written, average a few seeds and
 * require agreement within 2%.  Under Valgrind (MIGLAB_UNDER_VALGRIND set)
 * they average fewer seeds, with the same 2% bound.  Data files are found
 * under $MIGLAB_SRCDIR/tests/data (default: the current directory).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig_err.h"
#include "rng.h"
#include "units.h"
#include "workload.h"
#include "workload_int.h"
#include "check_main.h"

#define GUEST_PAGES 65536u

static int nseeds(int normal)
{
    return getenv("MIGLAB_UNDER_VALGRIND") ? 2 : normal;
}

static const char *data_dir(char *buf, size_t len)
{
    const char *src = getenv("MIGLAB_SRCDIR");

    snprintf(buf, len, "%s/tests/data", src && *src ? src : ".");
    return buf;
}

static struct sim_workload *parse_ok(const char *spec, const char *basedir)
{
    struct sim_workload *wl = NULL;
    char err[256] = "";
    int rc = sim_workload_parse(spec, basedir, &wl, err, sizeof(err));

    ck_assert_msg(rc == 0, "'%s': rc %d: %s", spec, rc, err);
    ck_assert_ptr_nonnull(wl);
    return wl;
}

/* ---- page-write recorders ---------------------------------------------- */

struct marks {
    uint64_t *bits;
    uint64_t npages;
    uint64_t distinct;
    uint64_t writes;
    int bad;            /* a pfn >= npages was written */
};

static void mark_page(void *arg, uint64_t pfn)
{
    struct marks *m = arg;

    m->writes++;
    if (pfn >= m->npages) {
        m->bad++;
        return;
    }
    if (!(m->bits[pfn / 64] & (UINT64_C(1) << (pfn % 64)))) {
        m->bits[pfn / 64] |= UINT64_C(1) << (pfn % 64);
        m->distinct++;
    }
}

struct seq {
    uint64_t *pfn;
    size_t n, cap;
};

static void record_page(void *arg, uint64_t pfn)
{
    struct seq *s = arg;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->pfn = realloc(s->pfn, s->cap * sizeof(*s->pfn));
        ck_assert_ptr_nonnull(s->pfn);
    }
    s->pfn[s->n++] = pfn;
}

/* Distinct pages the generator writes in [t0, t0 + dt) at scale. */
static uint64_t measure(const struct sim_workload *wl, uint64_t npages,
                        uint64_t seed, double t0, double dt, double scale)
{
    struct marks m = { .npages = npages };
    struct sim_wgen *g = sim_wgen_new(wl, npages, seed);

    ck_assert_ptr_nonnull(g);
    m.bits = calloc((npages + 63) / 64, sizeof(*m.bits));
    ck_assert_ptr_nonnull(m.bits);
    sim_wgen_advance(g, t0, scale, NULL, NULL);
    ck_assert_uint_eq(sim_wgen_advance(g, dt, scale, mark_page, &m),
                      m.writes);
    ck_assert_int_eq(m.bad, 0);
    free(m.bits);
    sim_wgen_free(g);
    return m.distinct;
}

/* ---- core: generators agree with closed forms -------------------------- */

static const struct {
    const char *spec;
    double t0, dt, scale;
    int seeds;
} agree_cases[] = {
    { "uniform:rate=64MiB/s", 0, 4, 1, 5 },
    { "uniform:rate=64MiB/s", 3, 8, 0.5, 5 },
    { "uniform:rate=64MiB/s", 0, 1, 1, 5 },
    { "hotcold:wss=64M,hot=0.9,rate=64MiB/s", 0, 2, 1, 5 },
    { "hotcold:wss=16M,hot=0.95,rate=32MiB/s", 1, 12, 1, 5 },
    { "zipf:s=0.8,rate=64MiB/s", 0, 4, 1, 5 },
    { "zipf:s=1.1,rate=256MiB/s", 0, 4, 1, 3 },
    { "zipf:s=0.5,rate=64MiB/s", 2, 2, 0.5, 5 },
    { "seq:rate=64MiB/s", 0, 2, 1, 5 },
    { "seq:rate=64MiB/s", 5, 3.5, 1, 5 },
    { "phased:uniform:rate=64MiB/s@1s;hotcold:wss=64M,hot=0.9,"
      "rate=64MiB/s@0.5s;idle@0.25s", 0.3, 3.1, 1, 5 },
    { "phased:seq:rate=32MiB/s@0.7s;uniform:rate=64MiB/s@0.2s",
      1.1, 2.6, 1, 5 },
    { "phased:zipf:s=0.9,rate=64MiB/s@0.2s;idle@0.3s", 0.1, 9.0, 1, 5 },
};

START_TEST(test_agree)
{
    const char *spec = agree_cases[_i].spec;
    struct sim_workload *wl = parse_ok(spec, NULL);
    double t0 = agree_cases[_i].t0, dt = agree_cases[_i].dt;
    double scale = agree_cases[_i].scale;
    double cf = sim_workload_distinct(wl, GUEST_PAGES, t0, dt, scale);
    int n = nseeds(agree_cases[_i].seeds);
    double sum = 0, mean;

    /* The case must exercise the curve, not a flat end of it. */
    ck_assert_msg(cf >= 0.1 * GUEST_PAGES && cf <= 0.9 * GUEST_PAGES,
                  "case %d '%s': closed form %.0f not in 10..90%%", _i, spec,
                  cf);
    for (int s = 0; s < n; s++)
        sum += (double)measure(wl, GUEST_PAGES, 1000 + (uint64_t)s, t0, dt,
                               scale);
    mean = sum / n;
    ck_assert_msg(fabs(mean - cf) <= 0.02 * cf,
                  "case %d '%s': generator %.1f vs closed form %.1f (%.2f%%)",
                  _i, spec, mean, cf, 100 * (mean - cf) / cf);
    sim_workload_free(wl);
}
END_TEST

/* A trace with random lists in random order, built in memory. */
static struct sim_trace *random_trace(uint64_t npages, size_t nint,
                                      double interval, uint64_t seed)
{
    struct sim_trace *t = sim__trace_alloc("random");
    struct sim_rng r;
    uint64_t total = 0, *seen;

    ck_assert_ptr_nonnull(t);
    sim_rng_seed(&r, seed);
    t->npages = npages;
    t->interval_s = interval;
    t->nintervals = nint;
    t->off = calloc(nint + 1, sizeof(*t->off));
    t->pfns = malloc(nint * npages * sizeof(*t->pfns));
    seen = calloc(npages, sizeof(*seen));
    ck_assert(t->off && t->pfns && seen);
    for (size_t i = 0; i < nint; i++) {
        /* Some intervals empty, some heavy, all without duplicates. */
        uint64_t m = i % 4 == 3 ? 0 : sim_rng_below(&r, npages / 3);

        for (uint64_t j = 0; j < m; j++) {
            uint64_t p = sim_rng_below(&r, npages);

            if (seen[p] == i + 1)
                continue;
            seen[p] = i + 1;
            t->pfns[total++] = p;
        }
        t->off[i + 1] = total;
    }
    free(seen);
    return t;
}

static const struct {
    double t0, dt, scale;
} trace_windows[] = {
    { 0, 0.1, 1 }, { 0, 1.2, 1 }, { 0.0123, 0.0456, 1 }, { 0.05, 0.1, 1 },
    { 0.2345, 0.5678, 1 }, { 1.03, 0.41, 1 }, { 3.21, 2.5, 1 },
    { 0.0711, 0.333, 0.5 }, { 0, 2.4, 0.37 }, { 7.777, 0.003, 1 },
    { 12.3456, 1.3, 0.9 },
};

/* Traces are exact: generator and closed form agree to the page. */
START_TEST(test_trace_exact)
{
    const uint64_t npages = 2048;
    struct sim_workload wl = { .kind = SIM_WL_TRACE };
    double t0 = trace_windows[_i].t0, dt = trace_windows[_i].dt;
    double scale = trace_windows[_i].scale;
    uint64_t gen;
    double cf;

    wl.trace = random_trace(npages, 11, 0.1, 7);
    wl.cycle_s = 1.1;
    gen = measure(&wl, npages + 100, 1, t0, dt, scale);
    cf = sim_workload_distinct(&wl, npages + 100, t0, dt, scale);
    ck_assert_msg(cf == (double)gen, "window %d: generator %llu, closed "
                  "form %.1f", _i, (unsigned long long)gen, cf);
    sim__trace_free(wl.trace);
}
END_TEST

/* Same seed, same pfns; another seed, other pfns. */
static const char *const det_specs[] = {
    "uniform:rate=50MB/s",
    "hotcold:wss=8M,hot=0.8,rate=50MB/s",
    "zipf:s=1.2,rate=50MB/s",
    "seq:rate=50MB/s",
    "phased:zipf:s=0.7,rate=50MB/s@0.3s;seq:rate=20MB/s@0.25s;"
    "uniform:rate=50MB/s@0.1s",
};

static uint64_t hash_run(const struct sim_workload *wl, uint64_t seed,
                         uint64_t *count)
{
    struct seq s = { 0 };
    struct sim_wgen *g = sim_wgen_new(wl, GUEST_PAGES, seed);
    uint64_t h = 1469598103934665603ULL;

    ck_assert_ptr_nonnull(g);
    sim_wgen_advance(g, 0.5, 1, record_page, &s);
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ s.pfn[i]) * 1099511628211ULL;
    *count = s.n;
    free(s.pfn);
    sim_wgen_free(g);
    return h;
}

START_TEST(test_determinism)
{
    struct sim_workload *wl = parse_ok(det_specs[_i], NULL);
    uint64_t n1, n2, n3;
    uint64_t h1 = hash_run(wl, 42, &n1);
    uint64_t h2 = hash_run(wl, 42, &n2);
    uint64_t h3 = hash_run(wl, 43, &n3);

    ck_assert_uint_gt(n1, 1000);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(h1, h2);
    ck_assert_msg(h1 != h3, "case %d: seeds 42 and 43 gave the same pfns",
                  _i);
    sim_workload_free(wl);
}
END_TEST

/* Many small steps give exactly the pfns of one large step. */
static const char *const chunk_specs[] = {
    "uniform:rate=50MB/s",
    "hotcold:wss=8M,hot=0.8,rate=50MB/s",
    "zipf:s=1.2,rate=50MB/s",
    "seq:rate=50MB/s",
    "phased:zipf:s=0.7,rate=50MB/s@0.3s;seq:rate=20MB/s@0.25s;"
    "uniform:rate=50MB/s@0.1s",
    "trace:trace-small.txt",
    "phased:trace:trace-small.txt@0.35s;uniform:rate=10MB/s@0.15s",
};

START_TEST(test_chunked)
{
    char dir[4096];
    struct sim_workload *wl = parse_ok(chunk_specs[_i],
                                       data_dir(dir, sizeof(dir)));
    struct sim_wgen *one = sim_wgen_new(wl, GUEST_PAGES, 9);
    struct sim_wgen *many = sim_wgen_new(wl, GUEST_PAGES, 9);
    struct seq a = { 0 }, b = { 0 };
    uint64_t na, nb = 0;

    ck_assert(one && many);
    na = sim_wgen_advance(one, 1.0, 1, record_page, &a);
    for (int i = 0; i < 1000; i++)
        nb += sim_wgen_advance(many, 0.001, 1, record_page, &b);
    ck_assert_msg(na == nb && a.n == b.n, "case %d: %llu writes in one "
                  "step, %llu in 1000", _i, (unsigned long long)na,
                  (unsigned long long)nb);
    ck_assert_uint_gt(na, 10);
    ck_assert_uint_eq(na, a.n);
    ck_assert(memcmp(a.pfn, b.pfn, a.n * sizeof(*a.pfn)) == 0);
    ck_assert(fabs(sim_wgen_time(one) - 1.0) < 1e-12);
    ck_assert(fabs(sim_wgen_time(many) - 1.0) < 1e-9);
    free(a.pfn);
    free(b.pfn);
    sim_wgen_free(one);
    sim_wgen_free(many);
    sim_workload_free(wl);
}
END_TEST

/* spec -> canonical text; the canonical text re-parses to itself. */
static const struct {
    const char *spec;
    const char *canon;
} rt_cases[] = {
    { "idle", "idle" },
    { "uniform:rate=200MB/s", "uniform:rate=200MB/s" },
    { "hotcold:wss=512M,hot=0.9,rate=1GB/s",
      "hotcold:wss=512M,hot=0.9,rate=1GB/s" },
    { "zipf:s=1.1,rate=300MB/s", "zipf:s=1.1,rate=300MB/s" },
    { "seq:rate=500MB/s", "seq:rate=500MB/s" },
    { " uniform : rate = 1.5GiB/s ", "uniform:rate=1536MiB/s" },
    { "hotcold:rate=100M,hot=90%,wss=1G",
      "hotcold:wss=1G,hot=0.9,rate=100MB/s" },
    { "hotcold:wss=1000000,hot=0,rate=0", "hotcold:wss=1000000,hot=0,"
      "rate=0B/s" },
    { "uniform:rate=800Mbit", "uniform:rate=100MB/s" },
    { "uniform:rate=12345.5", "uniform:rate=12345.5B/s" },
    { "uniform:rate=50000pages/s", "uniform:rate=200000KiB/s" },
    { "zipf:s=1e-3,rate=1TB/s", "zipf:s=0.001,rate=1TB/s" },
    { "phased:uniform:rate=1MB/s@10s;idle@500ms",
      "phased:uniform:rate=1MB/s@10s;idle@0.5s" },
    { "phased: zipf:s=2,rate=3kB/s @ 1min ; seq:rate=7B/s@0.001s",
      "phased:zipf:s=2,rate=3kB/s@60s;seq:rate=7B/s@0.001s" },
    { "trace:trace-small.txt", "trace:trace-small.txt" },
    { "phased:trace:trace-small.txt@2s;idle@1s",
      "phased:trace:trace-small.txt@2s;idle@1s" },
};

static void assert_same(const struct sim_workload *a,
                        const struct sim_workload *b)
{
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert(a->rate == b->rate);
    ck_assert_uint_eq(a->wss_bytes, b->wss_bytes);
    ck_assert(a->hot == b->hot);
    ck_assert(a->zipf_s == b->zipf_s);
    ck_assert(a->cycle_s == b->cycle_s);
    ck_assert_uint_eq(a->nphases, b->nphases);
    for (size_t i = 0; i < a->nphases; i++) {
        ck_assert(a->phases[i].duration_s == b->phases[i].duration_s);
        assert_same(a->phases[i].model, b->phases[i].model);
    }
    ck_assert_int_eq(!a->trace, !b->trace);
    if (a->trace) {
        ck_assert_uint_eq(a->trace->nintervals, b->trace->nintervals);
        ck_assert_uint_eq(a->trace->off[a->trace->nintervals],
                          b->trace->off[b->trace->nintervals]);
    }
}

START_TEST(test_roundtrip)
{
    char dir[4096], buf[512], buf2[512];
    struct sim_workload *a, *b;

    data_dir(dir, sizeof(dir));
    a = parse_ok(rt_cases[_i].spec, dir);
    sim_workload_format(a, buf, sizeof(buf));
    ck_assert_msg(strcmp(buf, rt_cases[_i].canon) == 0,
                  "case %d '%s': canonical '%s', expected '%s'", _i,
                  rt_cases[_i].spec, buf, rt_cases[_i].canon);
    b = parse_ok(buf, dir);
    sim_workload_format(b, buf2, sizeof(buf2));
    ck_assert_str_eq(buf, buf2);
    assert_same(a, b);
    sim_workload_free(a);
    sim_workload_free(b);
}
END_TEST

START_TEST(test_trace_small)
{
    char dir[4096], err[256];
    struct sim_workload *wl;
    const struct sim_trace *t;
    static const uint64_t want[] = {
        /* interval 0: "0-3 10 12" */
        0, 1, 2, 3, 10, 12,
        /* interval 2: "100 5 100 6 5" deduplicated in order */
        100, 5, 6,
        /* interval 3: "1020-1023 0" */
        1020, 1021, 1022, 1023, 0,
    };
    static const uint64_t off[] = { 0, 6, 6, 9, 14, 15 };

    wl = parse_ok("trace:trace-small.txt", data_dir(dir, sizeof(dir)));
    t = wl->trace;
    ck_assert_uint_eq(t->npages, 1024);
    ck_assert(fabs(t->interval_s - 0.1) < 1e-15);
    ck_assert_uint_eq(t->nintervals, 5);
    ck_assert(fabs(wl->cycle_s - 0.5) < 1e-12);
    for (size_t i = 0; i <= 5; i++)
        ck_assert_uint_eq(t->off[i], off[i]);
    for (size_t j = 0; j < 14; j++)
        ck_assert_uint_eq(t->pfns[j], want[j]);
    ck_assert_uint_eq(t->pfns[14], 7);
    ck_assert_int_eq(sim_workload_check(wl, 1024, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_workload_check(wl, 1023, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "1024 pages"));
    ck_assert_ptr_null(sim_wgen_new(wl, 1000, 1));

    /* The rate is the interval's pages over its length. */
    ck_assert(fabs(sim_workload_rate_at(wl, 0.05) - 6 * 4096 / 0.1) < 1e-6);
    ck_assert(sim_workload_rate_at(wl, 0.15) == 0);
    ck_assert(fabs(sim_workload_rate_at(wl, 0.55) - 6 * 4096 / 0.1) < 1e-6);
    /* One whole cycle writes the union: 14 distinct pages. */
    ck_assert(sim_workload_distinct(wl, 1024, 0, 0.5, 1) == 14);
    ck_assert(sim_workload_distinct(wl, 1024, 0.25, 100, 1) == 14);
    /* First interval only. */
    ck_assert(sim_workload_distinct(wl, 1024, 0, 0.1, 1) == 6);
    sim_workload_free(wl);
}
END_TEST

/* Write and re-read traces through the internal writer. */
START_TEST(test_trace_write_read)
{
    struct sim_trace *a = random_trace(5000, 9, 0.25, 3);
    struct sim_trace *b = sim__trace_alloc(NULL);
    char *text = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert(f && b);
    ck_assert_int_eq(sim__trace_write(f, a), 0);
    fclose(f);
    f = fmemopen(text, len, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(sim__trace_read(f, "mem", b, err, sizeof(err)) == 0,
                  "%s", err);
    fclose(f);
    ck_assert_uint_eq(a->npages, b->npages);
    ck_assert(a->interval_s == b->interval_s);
    ck_assert_uint_eq(a->nintervals, b->nintervals);
    ck_assert(memcmp(a->off, b->off, (a->nintervals + 1) * sizeof(*a->off))
              == 0);
    ck_assert(memcmp(a->pfns, b->pfns,
                     a->off[a->nintervals] * sizeof(*a->pfns)) == 0);
    ck_assert_str_eq(sim__trace_path(b), "");
    free(text);
    sim__trace_free(a);
    sim__trace_free(b);
}
END_TEST

START_TEST(test_idle_and_rates)
{
    struct sim_workload *wl = parse_ok("idle", NULL);
    struct sim_workload *ph;
    struct sim_wgen *g = sim_wgen_new(wl, 100, 1);

    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(sim_wgen_advance(g, 1000, 1, NULL, NULL), 0);
    ck_assert(sim_workload_distinct(wl, 100, 0, 1000, 1) == 0);
    ck_assert(sim_workload_rate_at(wl, 3) == 0);
    sim_wgen_free(g);
    sim_workload_free(wl);

    ph = parse_ok("phased:uniform:rate=1MB/s@1s;idle@2s;seq:rate=3MB/s@1s",
                  NULL);
    ck_assert(ph->cycle_s == 4);
    ck_assert(sim_workload_rate_at(ph, 0.5) == 1e6);
    ck_assert(sim_workload_rate_at(ph, 1.5) == 0);
    ck_assert(sim_workload_rate_at(ph, 3.5) == 3e6);
    ck_assert(sim_workload_rate_at(ph, 4.5) == 1e6);
    ck_assert(sim_workload_rate_at(ph, 403.5) == 3e6);
    sim_workload_free(ph);
}
END_TEST

START_TEST(test_check)
{
    struct sim_workload *wl = parse_ok("hotcold:wss=512M,hot=0.9,rate=1GB/s",
                                       NULL);
    struct sim_workload bad = { .kind = SIM_WL_ZIPF, .rate = 1e6 };
    char err[256];

    ck_assert_int_eq(sim_workload_check(wl, 131072, err, sizeof(err)), 0);
    ck_assert_int_eq(sim_workload_check(wl, 131071, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_msg(strstr(err, "larger than memory") != NULL, "%s", err);
    ck_assert_ptr_null(sim_wgen_new(wl, 1000, 1));
    ck_assert_int_eq(sim_workload_check(wl, 0, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_int_eq(sim_workload_check(NULL, 10, err, sizeof(err)),
                     MIG_EINVAL);
    /* Hand-built workloads are checked too. */
    ck_assert_int_eq(sim_workload_check(&bad, 10, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "zipf: s="));
    bad.kind = SIM_WL_HOTCOLD;
    bad.hot = 1.5;
    ck_assert_int_eq(sim_workload_check(&bad, 10, NULL, 0), MIG_EINVAL);
    bad.kind = SIM_WL_UNIFORM;
    bad.rate = NAN;
    ck_assert_int_eq(sim_workload_check(&bad, 10, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_ptr_null(sim_wgen_new(&bad, 10, 1));
    sim_workload_free(wl);

    wl = parse_ok("phased:idle@1s;hotcold:wss=1G,hot=0.5,rate=1MB/s@1s",
                  NULL);
    ck_assert_int_eq(sim_workload_check(wl, 1000, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_msg(strncmp(err, "phased: phase 2: hotcold:", 25) == 0, "%s",
                  err);
    sim_workload_free(wl);
}
END_TEST

/* ---- limits ------------------------------------------------------------ */

static const char *const limit_specs[] = {
    "uniform:rate=1MB/s", "hotcold:wss=4K,hot=0.5,rate=1MB/s",
    "zipf:s=1,rate=1MB/s", "zipf:s=0.01,rate=1MB/s", "zipf:s=10,rate=1MB/s",
    "seq:rate=1MB/s", "phased:seq:rate=1MB/s@1ms;zipf:s=3,rate=1MB/s@2ms",
};

/* One-page guests and huge guests: pfns stay in range, forms stay sane. */
START_TEST(test_guest_sizes)
{
    static const uint64_t sizes[] = {
        1, 2, 3, 1000, UINT64_C(1) << 34, UINT64_C(1) << 40,
    };
    struct sim_workload *wl = parse_ok(limit_specs[_i], NULL);

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = sizes[k];
        struct sim_wgen *g = sim_wgen_new(wl, n, k);
        struct seq s = { 0 };
        double prev = 0;

        ck_assert_ptr_nonnull(g);
        sim_wgen_advance(g, 0.05, 1, record_page, &s);
        ck_assert_uint_gt(s.n, 10);
        for (size_t j = 0; j < s.n; j++)
            ck_assert_msg(s.pfn[j] < n, "case %d N=%llu: pfn %llu", _i,
                          (unsigned long long)n,
                          (unsigned long long)s.pfn[j]);
        for (double dt = 1e-3; dt < 1e7; dt *= 10) {
            double d = sim_workload_distinct(wl, n, 0, dt, 1);

            ck_assert_msg(isfinite(d) && d >= prev && d <= (double)n,
                          "case %d N=%llu dt=%g: %g", _i,
                          (unsigned long long)n, dt, d);
            prev = d;
        }
        free(s.pfn);
        sim_wgen_free(g);
    }
    sim_workload_free(wl);
}
END_TEST

START_TEST(test_degenerate_args)
{
    struct sim_workload *wl = parse_ok("uniform:rate=1GB/s", NULL);
    struct sim_wgen *g = sim_wgen_new(wl, 1000, 1);
    double full = sim_workload_distinct(wl, 1000, 0, 1, 1);

    ck_assert(sim_workload_distinct(wl, 1000, 0, 0, 1) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, 0, -1, 1) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, 0, NAN, 1) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, NAN, 1, 1) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, 0, 1, 0) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, 0, 1, -1) == 0);
    ck_assert(sim_workload_distinct(wl, 1000, 0, 1, 7) == full);
    ck_assert(sim_workload_distinct(wl, 1000, 0, INFINITY, 1) == 1000);
    ck_assert(sim_workload_distinct(wl, 0, 0, 1, 1) == 0);
    ck_assert(sim_workload_distinct(NULL, 1000, 0, 1, 1) == 0);
    ck_assert_ptr_null(sim_wgen_new(wl, 0, 1));
    ck_assert_ptr_null(sim_wgen_new(NULL, 10, 1));

    ck_assert_uint_eq(sim_wgen_advance(g, -1, 1, NULL, NULL), 0);
    ck_assert_uint_eq(sim_wgen_advance(g, NAN, 1, NULL, NULL), 0);
    ck_assert_uint_eq(sim_wgen_advance(g, INFINITY, 1, NULL, NULL), 0);
    ck_assert(sim_wgen_time(g) == 0);
    ck_assert_uint_eq(sim_wgen_advance(g, 1, 0, NULL, NULL), 0);
    ck_assert(sim_wgen_time(g) == 1);
    /* Scale above 1 is clamped: 1e9 / 4096 writes in one second. */
    ck_assert_uint_eq(sim_wgen_advance(g, 1, 3, NULL, NULL), 244140);
    ck_assert_uint_eq(sim_wgen_advance(NULL, 1, 1, NULL, NULL), 0);
    ck_assert(sim_wgen_time(NULL) == 0);
    sim_wgen_free(g);
    sim_wgen_free(NULL);
    sim_workload_free(wl);
    sim_workload_free(NULL);
}
END_TEST

/* Zipf sampling against the exact probabilities on a small guest. */
START_TEST(test_zipf_frequencies)
{
    static const double exps[] = { 0.3, 1.0, 1.7, 4.0 };
    const uint64_t N = 12;
    struct sim_workload wl = { .kind = SIM_WL_ZIPF, .rate = 4096 };
    uint64_t draws = getenv("MIGLAB_UNDER_VALGRIND") ? 60000 : 400000;

    for (size_t e = 0; e < sizeof(exps) / sizeof(exps[0]); e++) {
        uint64_t hist[12] = { 0 };
        struct seq s = { 0 };
        struct sim_wgen *g;
        double h = 0;

        wl.zipf_s = exps[e];
        g = sim_wgen_new(&wl, N, 5);
        ck_assert_ptr_nonnull(g);
        ck_assert_uint_eq(sim_wgen_advance(g, (double)draws, 1, record_page,
                                           &s), draws);
        for (size_t j = 0; j < s.n; j++)
            hist[s.pfn[j]]++;
        for (uint64_t k = 1; k <= N; k++)
            h += pow((double)k, -exps[e]);
        for (uint64_t k = 1; k <= N; k++) {
            double p = pow((double)k, -exps[e]) / h;
            double mean = p * (double)draws;
            double sd = sqrt(mean * (1 - p));

            ck_assert_msg(fabs((double)hist[k - 1] - mean) < 5 * sd + 1,
                          "s=%g rank %llu: %llu draws, expected %.0f",
                          exps[e], (unsigned long long)k,
                          (unsigned long long)hist[k - 1], mean);
        }
        free(s.pfn);
        sim_wgen_free(g);
    }
}
END_TEST

/* Whole hot set, and no hot set: both collapse to uniform. */
START_TEST(test_hotcold_edges)
{
    struct sim_workload *all = parse_ok("hotcold:wss=4M,hot=0.1,rate=4MB/s",
                                        NULL);
    struct sim_workload *uni = parse_ok("uniform:rate=4MB/s", NULL);
    double a = sim_workload_distinct(all, 1024, 0, 1, 1);
    double u = sim_workload_distinct(uni, 1024, 0, 1, 1);

    ck_assert(fabs(a - u) < 1e-9 * u);
    ck_assert(fabs((double)measure(all, 1024, 3, 0, 1, 1) - a) < 0.05 * a);
    sim_workload_free(all);
    sim_workload_free(uni);
}
END_TEST

/*
 * N (1 - (1 - 1/N)^n) for integer n, computed independently of the code
 * under test: by the binomial series where 1 - (1 - 1/N)^n would cancel.
 */
static double ref_hits(double N, double n)
{
    double x = 1 / N, term = 1, sum = 0;

    if (n / N > 0.01)
        return N * (1 - pow(1 - x, n));
    for (double j = 1; j <= n; j++) {
        term *= (n - j + 1) / j * x;
        sum += fmod(j, 2) == 1 ? term : -term;
        if (term < 1e-20 * sum)
            break;
    }
    return N * sum;
}

/* Uniform's closed form is exact: 1 - (1 - 1/N)^n per page. */
START_TEST(test_uniform_exact)
{
    struct sim_workload wl = { .kind = SIM_WL_UNIFORM, .rate = 4096 };
    static const double ns[] = { 1, 2, 10, 1000, 1e6 };
    static const uint64_t Ns[] = { 1, 2, 7, 1000, UINT64_C(1) << 32 };

    for (size_t i = 0; i < 5; i++) {
        for (size_t j = 0; j < 5; j++) {
            double N = (double)Ns[j];
            double want = ref_hits(N, ns[i]);
            double got = sim_workload_distinct(&wl, Ns[j], 0, ns[i], 1);

            ck_assert_msg(fabs(got - want) <= 1e-9 * want, "N=%g n=%g: %g "
                          "vs %g", N, ns[i], got, want);
        }
    }
}
END_TEST

/* ---- corrupt: bad specs and bad trace files ---------------------------- */

static const struct {
    const char *spec;
    const char *msg;
} bad_specs[] = {
    { "", "empty workload spec" },
    { "   ", "empty workload spec" },
    { "foo", "unknown workload model 'foo' (expected idle, uniform, "
      "hotcold, zipf, seq, phased, trace)" },
    { "Uniform:rate=1MB/s", "unknown workload model 'Uniform'" },
    { ":rate=1", "unknown workload model ''" },
    { "idle:", "idle: takes no parameters" },
    { "idle:rate=1MB/s", "idle: takes no parameters" },
    { "uniform", "uniform: missing rate=" },
    { "uniform:", "uniform: missing rate=" },
    { "uniform:x=1", "uniform: unknown parameter 'x'" },
    { "uniform:rate=1MB/s,rate=2MB/s", "uniform: duplicate parameter "
      "'rate'" },
    { "uniform:rate=", "uniform: empty value for rate=" },
    { "uniform:rate", "uniform: parameter 'rate' without a value" },
    { "uniform:rate=1MB/s,", "uniform: empty parameter" },
    { "uniform:,rate=1MB/s", "uniform: empty parameter" },
    { "uniform:=5", "uniform: unknown parameter ''" },
    { "uniform:rate=abc", "uniform: bad rate 'abc'" },
    { "uniform:rate=4X", "uniform: bad rate '4X'" },
    { "uniform:rate=nan", "uniform: bad rate 'nan'" },
    { "uniform:rate=inf", "uniform: bad rate 'inf'" },
    { "uniform:rate=1MB/s x", "uniform: bad rate" },
    { "uniform:rate=-1MB/s", "uniform: rate=-1MB/s out of range" },
    { "uniform:rate=1e400", "uniform: rate=1e400 out of range" },
    { "uniform:rate=2PB/s", "uniform: rate=2PB/s out of range" },
    { "uniform:rate=1Gbit/s/s", "uniform: bad rate" },
    { "uniform:wss=1G,rate=1MB/s", "uniform: unknown parameter 'wss'" },
    { "hotcold:wss=512M,hot=1.5,rate=1GB/s",
      "hotcold: hot=1.5 out of range (0..1)" },
    { "hotcold:wss=512M,hot=-0.1,rate=1GB/s", "hotcold: hot=-0.1 out of "
      "range (0..1)" },
    { "hotcold:wss=512M,hot=abc,rate=1GB/s", "hotcold: bad hot 'abc'" },
    { "hotcold:wss=100,hot=0.5,rate=1GB/s", "hotcold: wss=100 out of "
      "range" },
    { "hotcold:wss=1Gb,hot=0.5,rate=1GB/s", "hotcold: bad wss '1Gb'" },
    { "hotcold:wss=64P,hot=0.5,rate=1GB/s", "hotcold: wss=64P out of "
      "range" },
    { "hotcold:hot=0.5,rate=1GB/s", "hotcold: missing wss=" },
    { "hotcold:wss=1G,rate=1GB/s", "hotcold: missing hot=" },
    { "hotcold:wss=1G,hot=0.1", "hotcold: missing rate=" },
    { "hotcold:wss=1G,hot=0.1,rate=1MB/s,s=1", "hotcold: unknown "
      "parameter 's'" },
    { "zipf:rate=1GB/s", "zipf: missing s=" },
    { "zipf:s=0,rate=1GB/s", "zipf: s=0 out of range (0 < s <= 10)" },
    { "zipf:s=-1,rate=1GB/s", "zipf: s=-1 out of range" },
    { "zipf:s=10.5,rate=1MB/s", "zipf: s=10.5 out of range" },
    { "zipf:s=x,rate=1MB/s", "zipf: bad s 'x'" },
    { "zipf:s=nan,rate=1MB/s", "zipf: bad s 'nan'" },
    { "seq:rate=1MB/s,s=1", "seq: unknown parameter 's'" },
    { "phased", "phased: no phases" },
    { "phased:", "phased: no phases" },
    { "phased:idle", "phased: phase 1 'idle' has no @DURATION" },
    { "phased:idle@", "phased: phase 1: bad duration ''" },
    { "phased:idle@x", "phased: phase 1: bad duration 'x'" },
    { "phased:idle@0s", "phased: phase 1: duration '0s' out of range" },
    { "phased:idle@10us", "out of range (1ms..1e9s)" },
    { "phased:idle@-1s", "out of range (1ms..1e9s)" },
    { "phased:idle@1e10s", "out of range (1ms..1e9s)" },
    { "phased:idle@5s;", "phased: phase 2 is empty" },
    { "phased:idle@5s;;idle@1s", "phased: phase 2 is empty" },
    { "phased:phased:idle@1s@1s",
      "phased: phase 1: a phase cannot itself be phased" },
    { "phased:foo@1s", "phased: phase 1: unknown workload model 'foo'" },
    { "phased:uniform:rate=1MB/s@1s;uniform:x=1@2s",
      "phased: phase 2: uniform: unknown parameter 'x'" },
    { "phased:@1s", "phased: phase 1: empty workload spec" },
    { "trace:", "trace: missing file name" },
    { "trace:   ", "trace: missing file name" },
    { "uniform:rate=1MB/s\nx", "uniform: bad rate '1MB/s?x'" },
    { "uniform:x\x01=1", "uniform: unknown parameter 'x?'" },
};

START_TEST(test_bad_spec)
{
    struct sim_workload *wl = (struct sim_workload *)&wl;
    char err[256];
    int rc;

    memset(err, 'Z', sizeof(err));
    rc = sim_workload_parse(bad_specs[_i].spec, NULL, &wl, err,
                            sizeof(err));
    ck_assert_msg(rc == MIG_EINVAL, "case %d: rc %d", _i, rc);
    ck_assert_ptr_null(wl);
    ck_assert_msg(strstr(err, bad_specs[_i].msg) != NULL,
                  "case %d: message '%s', expected '%s'", _i, err,
                  bad_specs[_i].msg);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_bad_args)
{
    struct sim_workload *wl = NULL;
    char err[8];
    int rc;

    ck_assert_int_eq(sim_workload_parse(NULL, NULL, &wl, NULL, 0),
                     MIG_EINVAL);
    ck_assert_int_eq(sim_workload_parse("idle", NULL, NULL, NULL, 0),
                     MIG_EINVAL);
    /* A short err buffer truncates the message. */
    ck_assert_int_eq(sim_workload_parse("foo", NULL, &wl, err, sizeof(err)),
                     MIG_EINVAL);
    ck_assert_str_eq(err, "unknown");
    /* A missing trace file is a system error, reported as -errno. */
    rc = sim_workload_parse("trace:/nonexistent/miglab.trace", NULL, &wl,
                            NULL, 0);
    ck_assert_int_eq(rc, -ENOENT);
    ck_assert_ptr_null(wl);
}
END_TEST

START_TEST(test_format_truncates)
{
    struct sim_workload *wl = parse_ok("hotcold:wss=512M,hot=0.9,rate=1GB/s",
                                       NULL);
    char buf[10];

    memset(buf, 'x', sizeof(buf));
    sim_workload_format(wl, buf, sizeof(buf));
    ck_assert_str_eq(buf, "hotcold:w");
    ck_assert_ptr_eq(sim_workload_format(wl, buf, 0), buf);
    sim_workload_format(wl, buf, 1);
    ck_assert_str_eq(buf, "");
    sim_workload_free(wl);
}
END_TEST

static char tmpdir[64];

static void tmpdir_setup(void)
{
    strcpy(tmpdir, "/tmp/check_workload.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_teardown(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/t.txt", tmpdir);
    unlink(path);
    rmdir(tmpdir);
}

#define HDR "miglab-trace 1\npages 10\ninterval 100ms\n"

static const struct {
    const char *text;
    size_t len;         /* 0: strlen */
    const char *msg;
} bad_traces[] = {
    { "", 0, "t.txt: not a trace" },
    { "# only a comment\n\n", 0, "t.txt: not a trace" },
    { "hello\n", 0, "t.txt:1: expected 'miglab-trace 1' first" },
    { "miglab-trace\n", 0, "t.txt:1: expected 'miglab-trace 1' first" },
    { "\n\nmiglab-trace 2\n", 0, "t.txt:3: unsupported trace version '2'" },
    { "miglab-trace 1 1\n", 0, "t.txt:1: unsupported trace version '1 1'" },
    { "miglab-trace 1\npages 0\n", 0, "t.txt:2: bad page count" },
    { "miglab-trace 1\npages -1\n", 0, "t.txt:2: bad page count" },
    { "miglab-trace 1\npages 4294967297\n", 0, "t.txt:2: bad page count" },
    { "miglab-trace 1\npages\n", 0, "t.txt:2: bad page count" },
    { "miglab-trace 1\npages 10\ninterval 0\n", 0, "t.txt:3: bad interval" },
    { "miglab-trace 1\npages 10\ninterval 1us\n", 0, "t.txt:3: bad "
      "interval" },
    { "miglab-trace 1\npages 10\ninterval 2h\n", 0, "t.txt:3: bad "
      "interval" },
    { "miglab-trace 1\npages 10\ninterval fast\n", 0, "t.txt:3: bad "
      "interval (1ms..1h) 'fast'" },
    { "miglab-trace 1\npages 10\ninterval 1s\n", 0, "t.txt: no intervals" },
    { "miglab-trace 1\ninterval 1s\n", 0, "t.txt: missing 'pages' header" },
    { "miglab-trace 1\npages 4\n", 0, "t.txt: missing 'interval' header" },
    { "miglab-trace 1\npages 10\n1 2\n", 0, "t.txt:3: interval data before "
      "the 'pages' and 'interval' headers" },
    { "miglab-trace 1\npages 10\npages 10\n", 0, "t.txt:3: duplicate "
      "header 'pages'" },
    { HDR "interval 1s\n", 0, "t.txt:4: duplicate header 'interval'" },
    { HDR "1 2 10\n", 0, "t.txt:4: pfn 10 out of range (pages 10)" },
    { HDR "-\n-\n0-10\n", 0, "t.txt:6: pfn 10 out of range (pages 10)" },
    { HDR "5-3\n", 0, "t.txt:4: bad pfn range (start after end) '5-3'" },
    { HDR "1 x\n", 0, "t.txt:4: bad pfn 'x'" },
    { HDR "1-\n", 0, "t.txt:4: bad pfn range '1-'" },
    { HDR "1-2-3\n", 0, "t.txt:4: bad pfn '1-2-3'" },
    { HDR "-1\n", 0, "t.txt:4: bad pfn '-1'" },
    { HDR "- 1\n", 0, "t.txt:4: bad pfn '-'" },
    { HDR "1,2\n", 0, "t.txt:4: bad pfn '1,2'" },
    { HDR "1.5\n", 0, "t.txt:4: bad pfn '1.5'" },
    { HDR "+1\n", 0, "t.txt:4: unknown header '+1'" },
    { HDR "99999999999999999999999\n", 0, "t.txt:4: bad pfn" },
    { HDR "1\npages 10\n", 0, "t.txt:5: header after interval data: "
      "'pages'" },
    { HDR "foo 1\n", 0, "t.txt:4: unknown header 'foo'" },
    { HDR "1 2\n3\0 4\n", sizeof(HDR "1 2\n3\0 4\n") - 1,
      "t.txt:5: NUL byte in line" },
};

START_TEST(test_bad_trace)
{
    char path[128], err[256];
    struct sim_workload *wl = NULL;
    size_t len = bad_traces[_i].len ? bad_traces[_i].len
                                    : strlen(bad_traces[_i].text);
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/t.txt", tmpdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bad_traces[_i].text, 1, len, f), len);
    fclose(f);
    rc = sim_workload_parse("trace:t.txt", tmpdir, &wl, err, sizeof(err));
    ck_assert_msg(rc == MIG_EINVAL, "case %d: rc %d (%s)", _i, rc, err);
    ck_assert_ptr_null(wl);
    ck_assert_msg(strstr(err, bad_traces[_i].msg) != NULL,
                  "case %d: message '%s', expected '%s'", _i, err,
                  bad_traces[_i].msg);
    /* The message names the file as opened. */
    ck_assert_msg(strncmp(err, tmpdir, strlen(tmpdir)) == 0, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/*
 * A trace must be a regular file: specs reach the host daemon in migration
 * streams (MIGLAB_WORKLOAD), so "trace:/dev/zero" used to read without end
 * and a FIFO to block the open for ever (found reviewing fuzz_receive).
 */
START_TEST(test_trace_not_regular)
{
    static const char *const specs[] = { "trace:fifo", "trace:/dev/zero",
                                         "trace:." };
    char path[128], err[256];
    struct sim_workload *wl = NULL;

    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        err[0] = '\0';
        ck_assert_int_eq(sim_workload_parse(specs[i], tmpdir, &wl, err,
                                            sizeof(err)), MIG_EINVAL);
        ck_assert_ptr_null(wl);
        ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s: %s",
                      specs[i], err);
    }
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* Good oddities: comments, CRLF, blanks, duplicates, big ranges. */
START_TEST(test_trace_lenient)
{
    static const char text[] =
        "  # header comes after comments\r\n"
        "miglab-trace   1 # version\r\n"
        "interval 0.25 # seconds\r\n"
        "pages 100000\r\n"
        "\r\n"
        "\t0-99999 5 7 # the whole guest, then repeats\r\n"
        "-\r\n"
        "3 3 3 2 2 1\r\n";
    char path[128], err[256];
    struct sim_workload *wl = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/t.txt", tmpdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_msg(sim_workload_parse("trace:t.txt", tmpdir, &wl, err,
                                     sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(wl->trace->npages, 100000);
    ck_assert(wl->trace->interval_s == 0.25);
    ck_assert_uint_eq(wl->trace->nintervals, 3);
    ck_assert_uint_eq(wl->trace->off[1], 100000);
    ck_assert_uint_eq(wl->trace->off[2], 100000);
    ck_assert_uint_eq(wl->trace->off[3], 100003);
    ck_assert_uint_eq(wl->trace->pfns[100000], 3);
    ck_assert_uint_eq(wl->trace->pfns[100002], 1);
    sim_workload_free(wl);

    /* An absolute path ignores basedir. */
    ck_assert_int_eq(sim_workload_parse("trace:/nonexistent/t.txt", tmpdir,
                                        &wl, err, sizeof(err)), -ENOENT);
    ck_assert_msg(strstr(err, "'/nonexistent/t.txt'") != NULL, "%s", err);
}
END_TEST

/* Mutated specs never crash; accepted ones round-trip. */
START_TEST(test_fuzz_specs)
{
    static const char *const seeds[] = {
        "hotcold:wss=512M,hot=0.9,rate=1GB/s",
        "phased:uniform:rate=1MB/s@10s;zipf:s=1.1,rate=2MB/s@5s",
        "seq:rate=500MB/s", "zipf:s=1.1,rate=300MB/s",
    };
    static const char alphabet[] = ":;,=@.%-+eE0123456789kKMGTBbi/s \t";
    struct sim_rng r;
    int iters = getenv("MIGLAB_UNDER_VALGRIND") ? 1500 : 20000;

    sim_rng_seed(&r, 77);
    for (int it = 0; it < iters; it++) {
        char spec[128], err[256], canon[512], canon2[512];
        struct sim_workload *wl = NULL, *wl2 = NULL;
        size_t len;
        int nmut = 1 + (int)sim_rng_below(&r, 4), rc;

        strcpy(spec, seeds[sim_rng_below(&r, 4)]);
        for (int m = 0; m < nmut; m++) {
            len = strlen(spec);
            switch (sim_rng_below(&r, 3)) {
            case 0:     /* replace */
                if (len)
                    spec[sim_rng_below(&r, len)] =
                        alphabet[sim_rng_below(&r, sizeof(alphabet) - 1)];
                break;
            case 1:     /* delete */
                if (len) {
                    size_t p = sim_rng_below(&r, len);

                    memmove(spec + p, spec + p + 1, len - p);
                }
                break;
            default:    /* insert */
                if (len + 1 < sizeof(spec)) {
                    size_t p = sim_rng_below(&r, len + 1);

                    memmove(spec + p + 1, spec + p, len - p + 1);
                    spec[p] = alphabet[sim_rng_below(&r,
                                                     sizeof(alphabet) - 1)];
                }
                break;
            }
        }
        err[0] = '\0';
        rc = sim_workload_parse(spec, NULL, &wl, err, sizeof(err));
        if (rc) {
            ck_assert_msg(rc == MIG_EINVAL, "'%s': rc %d", spec, rc);
            ck_assert_msg(err[0] != '\0', "'%s': no message", spec);
            ck_assert_ptr_null(wl);
            continue;
        }
        sim_workload_format(wl, canon, sizeof(canon));
        ck_assert_msg(sim_workload_parse(canon, NULL, &wl2, err,
                                         sizeof(err)) == 0,
                      "'%s' -> '%s': %s", spec, canon, err);
        sim_workload_format(wl2, canon2, sizeof(canon2));
        ck_assert_str_eq(canon, canon2);
        assert_same(wl, wl2);
        (void)sim_workload_distinct(wl, 1000, 0.5, 3, 0.5);
        sim_workload_free(wl);
        sim_workload_free(wl2);
    }
}
END_TEST

/* Mutated trace files are accepted whole or refused with FILE:LINE. */
START_TEST(test_fuzz_trace)
{
    static const char base[] =
        "# comment\nmiglab-trace 1\npages 1024\ninterval 100ms\n"
        "0-3 10 12\n-\n100 5 100 6 5 # dup\n1020-1023 0\n7\n";
    static const char alphabet[] = "0123456789-# \t\n\r.xsmpagesinterval";
    struct sim_rng r;
    int iters = getenv("MIGLAB_UNDER_VALGRIND") ? 1000 : 10000;
    int accepted = 0;

    sim_rng_seed(&r, 78);
    for (int it = 0; it < iters; it++) {
        char text[256], err[256];
        struct sim_trace *t = sim__trace_alloc(NULL);
        size_t len = sizeof(base) - 1;
        int nmut = 1 + (int)sim_rng_below(&r, 3), rc;
        FILE *f;

        ck_assert_ptr_nonnull(t);
        memcpy(text, base, len);
        for (int m = 0; m < nmut; m++) {
            size_t p = sim_rng_below(&r, len);
            char c = alphabet[sim_rng_below(&r, sizeof(alphabet) - 1)];

            switch (sim_rng_below(&r, 4)) {
            case 0:
                text[p] = c;
                break;
            case 1:
                memmove(text + p, text + p + 1, len - p - 1);
                len--;
                break;
            case 2:
                if (len < sizeof(text) - 1) {
                    memmove(text + p + 1, text + p, len - p);
                    text[p] = c;
                    len++;
                }
                break;
            default:    /* truncate */
                len = p;
                break;
            }
            if (len == 0)
                break;
        }
        f = fmemopen(text, len ? len : 1, "r");
        ck_assert_ptr_nonnull(f);
        if (len == 0)
            fgetc(f);   /* an empty stream */
        err[0] = '\0';
        rc = sim__trace_read(f, "fuzz", t, err, sizeof(err));
        fclose(f);
        if (rc == 0) {
            accepted++;
            ck_assert_int_eq(sim__trace_valid(t, true), 0);
        } else {
            ck_assert_msg(rc == MIG_EINVAL, "rc %d: %s", rc, err);
            ck_assert_msg(strncmp(err, "fuzz:", 5) == 0, "%s", err);
            ck_assert_ptr_null(strchr(err, '\n'));
        }
        sim__trace_free(t);
    }
    /* Both outcomes occur: the mutations are neither all fatal nor all
     * harmless. */
    ck_assert_int_gt(accepted, iters / 20);
    ck_assert_int_lt(accepted, iters - iters / 20);
}
END_TEST

static Suite *workload_suite(void)
{
    Suite *s = suite_create("workload");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");
    int n;

    n = (int)(sizeof(agree_cases) / sizeof(agree_cases[0]));
    tcase_add_loop_test(core, test_agree, 0, n);
    n = (int)(sizeof(trace_windows) / sizeof(trace_windows[0]));
    tcase_add_loop_test(core, test_trace_exact, 0, n);
    n = (int)(sizeof(det_specs) / sizeof(det_specs[0]));
    tcase_add_loop_test(core, test_determinism, 0, n);
    n = (int)(sizeof(chunk_specs) / sizeof(chunk_specs[0]));
    tcase_add_loop_test(core, test_chunked, 0, n);
    n = (int)(sizeof(rt_cases) / sizeof(rt_cases[0]));
    tcase_add_loop_test(core, test_roundtrip, 0, n);
    tcase_add_test(core, test_trace_small);
    tcase_add_test(core, test_trace_write_read);
    tcase_add_test(core, test_idle_and_rates);
    tcase_add_test(core, test_check);
    tcase_set_timeout(core, 60);
    suite_add_tcase(s, core);

    n = (int)(sizeof(limit_specs) / sizeof(limit_specs[0]));
    tcase_add_loop_test(limits, test_guest_sizes, 0, n);
    tcase_add_test(limits, test_degenerate_args);
    tcase_add_test(limits, test_zipf_frequencies);
    tcase_add_test(limits, test_hotcold_edges);
    tcase_add_test(limits, test_uniform_exact);
    tcase_set_timeout(limits, 60);
    suite_add_tcase(s, limits);

    n = (int)(sizeof(bad_specs) / sizeof(bad_specs[0]));
    tcase_add_loop_test(corrupt, test_bad_spec, 0, n);
    tcase_add_test(corrupt, test_bad_args);
    tcase_add_test(corrupt, test_format_truncates);
    n = (int)(sizeof(bad_traces) / sizeof(bad_traces[0]));
    tcase_add_checked_fixture(corrupt, tmpdir_setup, tmpdir_teardown);
    tcase_add_loop_test(corrupt, test_bad_trace, 0, n);
    tcase_add_test(corrupt, test_trace_not_regular);
    tcase_add_test(corrupt, test_trace_lenient);
    tcase_add_test(corrupt, test_fuzz_specs);
    tcase_add_test(corrupt, test_fuzz_trace);
    tcase_set_timeout(corrupt, 60);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(workload_suite());
}
