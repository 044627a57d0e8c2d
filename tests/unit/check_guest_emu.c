/* SPDX-License-Identifier: MIT */
/*
 * check_guest_emu.c - unit tests of the emulated guest (ref/guest_emu.c):
 * page stamps, log-dirty CLEAN/PEEK semantics, the pause barrier, dirty
 * counts against the workload's closed form, and the state records that
 * migrate with the guest.  Correctness only: no timing assertions.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest_emu.h"
#include "mig_err.h"
#include "stream.h"
#include "workload.h"

static bool under_valgrind(void)
{
    const char *v = getenv("MIGLAB_UNDER_VALGRIND");

    return v && *v && strcmp(v, "0") != 0;
}

static struct mig_guest *new_guest(uint64_t mem, unsigned vcpus,
                                   const char *wl, uint64_t seed)
{
    struct mig_guest_emu_cfg cfg = { .mem_bytes = mem, .vcpus = vcpus,
                                     .workload = wl, .seed = seed };
    struct mig_guest *g = NULL;
    char err[128] = "";

    ck_assert_msg(mig_guest_emu_new(&cfg, &g, err, sizeof(err)) == 0,
                  "emu_new: %s", err);
    return g;
}

static uint64_t stamped_pages(struct mig_guest *g, uint64_t npages)
{
    const uint8_t *m = mig_guest_emu_mem(g);
    uint64_t n = 0;

    for (uint64_t pfn = 0; pfn < npages; pfn++) {
        uint64_t gen;

        memcpy(&gen, m + pfn * 4096 + 8, 8);
        n += gen != 0;
    }
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

START_TEST(test_stamps_and_clean)
{
    struct mig_guest *g = new_guest(4 << 20, 2, "uniform:rate=8M", 7);
    uint64_t *bm = calloc(mig_bitmap_words(1024), 8);
    uint64_t cnt, bad, first, writes;
    uint8_t page[4096];

    ck_assert_int_eq(g->ops->logdirty_enable(g), 0);
    writes = mig_guest_emu_step(g, 0.25);
    /* 8 MB/s for 0.25 s = 488 writes (fractional credit carries). */
    ck_assert_uint_ge(writes, 480);
    ck_assert_uint_le(writes, 490);
    ck_assert_uint_eq(mig_guest_emu_writes(g), writes);
    bad = mig_guest_emu_check_stamps(g, &first);
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(g->ops->logdirty_clean(g, bm, &cnt), 0);
    ck_assert_uint_eq(cnt, stamped_pages(g, 1024));
    for (uint64_t pfn = 0; pfn < 1024; pfn++) {
        uint64_t spfn;

        ck_assert_int_eq(g->ops->read_page(g, pfn, page), 0);
        memcpy(&spfn, page, 8);
        if (bm[pfn / 64] >> (pfn % 64) & 1)
            ck_assert_uint_eq(spfn, pfn);
        else
            ck_assert_uint_eq(spfn, 0);
    }
    ck_assert_int_eq(g->ops->logdirty_clean(g, NULL, &cnt), 0);
    ck_assert_uint_eq(cnt, 0);
    free(bm);
    mig_guest_free(g);
}
END_TEST

START_TEST(test_peek_does_not_clear)
{
    struct mig_guest *g = new_guest(4 << 20, 1, "hotcold:wss=256K,hot=0.8,"
                                    "rate=4M", 3);
    size_t nw = mig_bitmap_words(1024);
    uint64_t *a = calloc(nw, 8), *b = calloc(nw, 8), c1, c2, c3;

    ck_assert_int_eq(g->ops->logdirty_enable(g), 0);
    mig_guest_emu_step(g, 0.2);
    ck_assert_int_eq(g->ops->logdirty_peek(g, a, &c1), 0);
    ck_assert_int_eq(g->ops->logdirty_peek(g, b, &c2), 0);
    ck_assert_uint_gt(c1, 0);
    ck_assert_uint_eq(c1, c2);
    ck_assert_mem_eq(a, b, nw * 8);
    ck_assert_int_eq(g->ops->logdirty_clean(g, b, &c3), 0);
    ck_assert_uint_eq(c3, c1);
    ck_assert_mem_eq(a, b, nw * 8);
    ck_assert_int_eq(g->ops->logdirty_peek(g, NULL, &c1), 0);
    ck_assert_uint_eq(c1, 0);
    /* enable clears what was logged before. */
    mig_guest_emu_step(g, 0.2);
    ck_assert_int_eq(g->ops->logdirty_enable(g), 0);
    ck_assert_int_eq(g->ops->logdirty_peek(g, NULL, &c1), 0);
    ck_assert_uint_eq(c1, 0);
    free(a);
    free(b);
    mig_guest_free(g);
}
END_TEST

START_TEST(test_pause_stable)
{
    uint64_t mem = under_valgrind() ? 2 << 20 : 16 << 20;
    uint64_t np = mem / 4096;
    struct mig_guest *g = new_guest(mem, 2, "uniform:rate=40M", 11);
    uint64_t *h1 = malloc(np * 8), *h2 = malloc(np * 8), w1, first, cnt;

    ck_assert_int_eq(g->ops->logdirty_enable(g), 0);
    ck_assert_int_eq(g->ops->start(g), 0);
    for (int i = 0; i < 2000 && mig_guest_emu_writes(g) < 100; i++)
        sleep_ms(5);
    ck_assert_uint_ge(mig_guest_emu_writes(g), 100);
    ck_assert_int_eq(g->ops->suspend(g), 0);
    w1 = mig_guest_emu_writes(g);
    ck_assert_int_eq(g->ops->logdirty_clean(g, NULL, &cnt), 0);
    ck_assert_int_eq(mig_guest_hash_pages(g, np, h1), 0);
    sleep_ms(30);
    ck_assert_int_eq(mig_guest_hash_pages(g, np, h2), 0);
    ck_assert_mem_eq(h1, h2, np * 8);
    ck_assert_uint_eq(mig_guest_emu_writes(g), w1);
    ck_assert_int_eq(g->ops->logdirty_peek(g, NULL, &cnt), 0);
    ck_assert_uint_eq(cnt, 0);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(g, &first), 0);
    ck_assert_int_eq(g->ops->resume(g), 0);
    for (int i = 0; i < 2000 && mig_guest_emu_writes(g) == w1; i++)
        sleep_ms(5);
    ck_assert_uint_gt(mig_guest_emu_writes(g), w1);
    /* suspend and resume are idempotent; destroy a running guest. */
    ck_assert_int_eq(g->ops->suspend(g), 0);
    ck_assert_int_eq(g->ops->suspend(g), 0);
    ck_assert_int_eq(g->ops->resume(g), 0);
    ck_assert_int_eq(g->ops->resume(g), 0);
    free(h1);
    free(h2);
    mig_guest_free(g);
}
END_TEST

/*
 * A spec may ask for far more than the emulator can write (up to 1 PB/s).
 * The vCPUs then write as fast as they can, and a suspend or a destroy
 * still takes effect between two short steps.  Found by fuzz_host: a vCPU
 * used to take a whole 0.1 s step of ~6e9 writes before looking at the
 * pause flag, so suspend and destroy hung for ~30 s (past this TCase's
 * timeout, which is what fails here without the fix).
 */
START_TEST(test_absurd_rate_still_stops)
{
    struct mig_guest *g = new_guest(1 << 20, 2, "uniform:rate=1PB/s", 3);
    uint64_t w1;

    ck_assert_int_eq(g->ops->start(g), 0);
    for (int i = 0; i < 2000 && mig_guest_emu_writes(g) < 1000; i++)
        sleep_ms(5);
    ck_assert_uint_ge(mig_guest_emu_writes(g), 1000);
    ck_assert_int_eq(g->ops->suspend(g), 0);
    w1 = mig_guest_emu_writes(g);
    sleep_ms(20);
    ck_assert_uint_eq(mig_guest_emu_writes(g), w1);
    ck_assert_int_eq(g->ops->resume(g), 0);
    for (int i = 0; i < 2000 && mig_guest_emu_writes(g) == w1; i++)
        sleep_ms(5);
    ck_assert_uint_gt(mig_guest_emu_writes(g), w1);
    mig_guest_free(g);              /* destroyed while writing */
}
END_TEST

/* Dirty counts of the generators vs the closed form. */
static const struct {
    const char *spec;
    double dt;
} distinct_cases[] = {
    { "uniform:rate=64M", 1.0 },
    { "uniform:rate=16M", 0.5 },
    { "hotcold:wss=4M,hot=0.9,rate=64M", 1.0 },
    { "zipf:s=1.1,rate=32M", 1.0 },
};

START_TEST(test_distinct_closed_form)
{
    uint64_t mem = under_valgrind() ? 16 << 20 : 64 << 20;
    uint64_t np = mem / 4096, cnt;
    struct mig_guest *g = new_guest(mem, 2, distinct_cases[_i].spec, 99);
    struct sim_workload *wl = NULL;
    double expect, tol;
    char err[128];

    ck_assert_int_eq(sim_workload_parse(distinct_cases[_i].spec, NULL, &wl,
                                        err, sizeof(err)), 0);
    ck_assert_int_eq(g->ops->logdirty_enable(g), 0);
    mig_guest_emu_step(g, distinct_cases[_i].dt);
    ck_assert_int_eq(g->ops->logdirty_clean(g, NULL, &cnt), 0);
    expect = sim_workload_distinct(wl, np, 0, distinct_cases[_i].dt, 1.0);
    /* Loose: 5% plus 6 standard deviations of a binomial count. */
    tol = 0.05 * expect + 6 * sqrt(expect) + 10;
    ck_assert_msg(fabs((double)cnt - expect) <= tol,
                  "case %d (%s): %llu distinct, closed form %.1f", _i,
                  distinct_cases[_i].spec, (unsigned long long)cnt, expect);
    sim_workload_free(wl);
    mig_guest_free(g);
}
END_TEST

struct fwd {
    struct mig_guest *g;
    int rc;
};

static int fwd_record(void *opaque, uint32_t type, const uint8_t *body,
                      uint32_t len)
{
    struct fwd *f = opaque;

    if (type == MIG_REC_MIGLAB_GUEST_INFO)
        return 0;
    return f->g->ops->load_record(f->g, type, body, len);
}

static const struct mig_stream_dec_ops fwd_ops = { .on_record = fwd_record };

/* Wrap records into a bare libxc image and feed them to g. */
static int replay(struct mig_guest *g, const struct mig_wbuf *recs)
{
    struct mig_domain_header dh = { MIG_DHDR_TYPE_X86_HVM, 12, 4, 19 };
    struct mig_stream_dec *dec = mig_stream_dec_new(NULL);
    struct fwd f = { .g = g };
    struct mig_wbuf wb;
    int rc;

    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(mig_stream_put_image_header(&wb), 0);
    ck_assert_int_eq(mig_stream_put_domain_header(&wb, &dh), 0);
    ck_assert_int_eq(mig_wbuf_put_bytes(&wb, recs->data, recs->len), 0);
    ck_assert_int_eq(mig_stream_put_end(&wb), 0);
    mig_stream_dec_set_ops(dec, &fwd_ops, &f);
    rc = mig_stream_dec_feed(dec, wb.data, wb.len);
    if (!rc)
        rc = mig_stream_dec_finish(dec);
    mig_stream_dec_free(dec);
    mig_wbuf_fini(&wb);
    return rc;
}

START_TEST(test_state_round_trip)
{
    struct mig_guest *a = new_guest(4 << 20, 2, "phased:uniform:rate=4M@0.5;"
                                    "idle@0.5", 5);
    struct mig_guest *b = NULL;
    struct mig_guest_desc d;
    struct mig_wbuf ra, rb;
    uint64_t first;
    char err[128] = "";

    mig_guest_emu_step(a, 0.7);
    ck_assert_int_eq(a->ops->describe(a, &d), 0);
    ck_assert_uint_eq(d.nr_pages, 1024);
    ck_assert_uint_eq(d.vcpus, 2);
    ck_assert_uint_eq(d.stamp_generation, mig_guest_emu_writes(a));
    mig_wbuf_init(&ra, NULL);
    mig_wbuf_init(&rb, NULL);
    ck_assert_int_eq(a->ops->save_info(a, &ra), 0);
    ck_assert_int_eq(a->ops->save_state(a, &ra), 0);
    ck_assert_int_eq(mig_guest_emu_create(NULL, &d, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(replay(b, &ra), 0);
    ck_assert_uint_eq(mig_guest_emu_writes(b), mig_guest_emu_writes(a));
    /* Same description and workload text: the info records are equal. */
    mig_wbuf_reset(&ra);
    ck_assert_int_eq(a->ops->save_info(a, &ra), 0);
    ck_assert_int_eq(b->ops->save_info(b, &rb), 0);
    ck_assert_uint_eq(ra.len, rb.len);
    ck_assert_mem_eq(ra.data, rb.data, ra.len);
    /* The clock went along: 0.7 s is in the idle phase, so the next 0.2 s
     * write nothing on either side. */
    ck_assert_uint_eq(mig_guest_emu_step(b, 0.2), 0);
    ck_assert_uint_eq(mig_guest_emu_step(a, 0.2), 0);
    /* With the same memory, both continue identically: same pages, same
     * stamps, same generations. */
    for (uint64_t pfn = 0; pfn < d.nr_pages; pfn++) {
        uint8_t page[4096];

        ck_assert_int_eq(a->ops->read_page(a, pfn, page), 0);
        ck_assert_int_eq(b->ops->write_page(b, pfn, page), 0);
    }
    ck_assert_uint_gt(mig_guest_emu_step(b, 0.9), 0);
    ck_assert_uint_gt(mig_guest_emu_step(a, 0.9), 0);
    ck_assert_uint_eq(mig_guest_emu_writes(b), mig_guest_emu_writes(a));
    ck_assert_mem_eq(mig_guest_emu_mem(a), mig_guest_emu_mem(b),
                     d.nr_pages * 4096);
    ck_assert_uint_gt(mig_guest_emu_writes(b), d.stamp_generation);
    ck_assert_uint_eq(mig_guest_emu_check_stamps(b, &first), 0);
    mig_wbuf_fini(&ra);
    mig_wbuf_fini(&rb);
    mig_guest_free(a);
    mig_guest_free(b);
}
END_TEST

START_TEST(test_bad_config)
{
    static const struct mig_guest_emu_cfg bad[] = {
        { .mem_bytes = 0, .vcpus = 1 },
        { .mem_bytes = 4097, .vcpus = 1 },
        { .mem_bytes = 1 << 20, .vcpus = 0 },
        { .mem_bytes = 1 << 20, .vcpus = 65 },
        { .mem_bytes = 1 << 20, .vcpus = 1, .workload = "nonsense" },
        { .mem_bytes = 1 << 20, .vcpus = 1,
          .workload = "hotcold:wss=2M,hot=0.5,rate=1M" },
        { .mem_bytes = 1 << 20, .vcpus = 1, .step_s = -1 },
    };
    struct mig_guest *g = (struct mig_guest *)1;
    char err[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(mig_guest_emu_new(&bad[i], &g, err, sizeof(err)) ==
                          MIG_EINVAL, "case %zu", i);
        ck_assert_ptr_null(g);
    }
    mig_guest_free(NULL);
}
END_TEST

START_TEST(test_admission_and_misuse)
{
    uint64_t cap = 1 << 20, cnt;
    struct mig_guest_desc d = { .nr_pages = 512, .vcpus = 1 };
    struct mig_guest *g = NULL;
    uint8_t page[4096];
    char err[128] = "";

    ck_assert_int_eq(mig_guest_emu_create(&cap, &d, &g, err, sizeof(err)),
                     MIG_ERANGE);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(err, "not enough memory"));
    d.nr_pages = 256;
    ck_assert_int_eq(mig_guest_emu_create(&cap, &d, &g, err, sizeof(err)), 0);
    ck_assert_int_eq(g->ops->logdirty_clean(g, NULL, &cnt), MIG_EINVAL);
    ck_assert_int_eq(g->ops->read_page(g, 256, page), MIG_EINVAL);
    ck_assert_int_eq(g->ops->write_page(g, 256, page), MIG_EINVAL);
    ck_assert_int_eq(g->ops->set_throttle(g, 1.0), MIG_EINVAL);
    ck_assert_int_eq(g->ops->set_throttle(g, 0.5), 0);
    ck_assert_int_eq(g->ops->start(g), 0);
    ck_assert_int_eq(g->ops->start(g), MIG_EINVAL);
    ck_assert_int_eq(g->ops->load_record(g, MIG_REC_MIGLAB_WORKLOAD,
                                         (const uint8_t *)"idle", 4),
                     MIG_EINVAL);
    mig_guest_free(g);
}
END_TEST

START_TEST(test_bad_workload_records)
{
    static const char *const bad[] = { "garbage",
                                       "hotcold:wss=1G,hot=0.5,rate=1M" };
    struct mig_guest_desc d = { .nr_pages = 256, .vcpus = 2 };
    struct mig_guest *g = NULL;
    char err[128];

    ck_assert_int_eq(mig_guest_emu_create(NULL, &d, &g, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(g->ops->load_record(g, MIG_REC_MIGLAB_WORKLOAD,
                                             (const uint8_t *)bad[i],
                                             (uint32_t)strlen(bad[i])),
                         MIG_ECORRUPT);
    ck_assert_int_eq(g->ops->start(g), 0);
    mig_guest_free(g);
}
END_TEST

/* Mutations of a valid GEN_STATE body (2 vCPUs, uniform workload).  Body
 * offsets: 0 format, 8 seed, 16 nvcpus, 20 state size, 24 vCPU 0 writes,
 * 32 its generator state (version/kind, npages, nsub, rng, t, ...). */
static const struct {
    const char *name;
    size_t off;
    size_t n;           /* bytes set to val; 0: truncate by 8 instead */
    uint8_t val;
} gen_mut[] = {
    { "format", 0, 1, 0x00 },
    { "nvcpus", 16, 1, 0x01 },
    { "state size", 20, 1, 0x07 },
    { "writes beyond 2^56", 31, 1, 0xff },
    { "state version", 32, 1, 0x09 },
    { "state kind", 36, 1, 0x05 },
    { "state npages", 40, 1, 0x77 },
    { "state nsub", 48, 1, 0x02 },
    { "rng all zero", 56, 32, 0x00 },
    { "clock NaN", 88, 8, 0xff },
    { "phase", 96, 1, 0x01 },
    { "credit 2.0", 112, 8, 0x00 },
    { "truncated", 0, 0, 0 },
};

START_TEST(test_bad_gen_state)
{
    struct mig_guest *a = new_guest(1 << 20, 2, "uniform:rate=1M", 3);
    struct mig_guest_desc d;
    struct mig_guest *b = NULL;
    struct mig_wbuf wb;
    uint8_t *body;
    uint32_t len;
    char err[128];

    mig_guest_emu_step(a, 0.5);
    ck_assert_int_eq(a->ops->describe(a, &d), 0);
    mig_wbuf_init(&wb, NULL);
    ck_assert_int_eq(a->ops->save_state(a, &wb), 0);
    len = mig_le32dec(wb.data + 4);
    body = wb.data + 8;
    ck_assert_uint_eq(len, 24 + 2 * (8 + 128));
    ck_assert_int_eq(mig_guest_emu_create(NULL, &d, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b->ops->load_record(b, MIG_REC_MIGLAB_WORKLOAD,
                                         (const uint8_t *)"uniform:rate=1M",
                                         15), 0);
    if (gen_mut[_i].n) {
        if (gen_mut[_i].off == 112) {
            double two = 2.0;       /* credit must stay below 1 */

            memcpy(body + 112, &two, 8);
        } else {
            memset(body + gen_mut[_i].off, gen_mut[_i].val, gen_mut[_i].n);
        }
    } else {
        len -= 8;
    }
    ck_assert_msg(b->ops->load_record(b, MIG_REC_MIGLAB_GEN_STATE, body,
                                      len) == MIG_ECORRUPT,
                  "case %d: %s accepted", _i, gen_mut[_i].name);
    /* Nothing was half-loaded. */
    ck_assert_uint_eq(mig_guest_emu_writes(b), 0);
    ck_assert_uint_gt(mig_guest_emu_step(b, 0.5), 0);
    mig_wbuf_fini(&wb);
    mig_guest_free(a);
    mig_guest_free(b);
}
END_TEST

/* Generator state round trip: the loaded copy writes exactly what the
 * original writes from then on. */
static const char *const gen_specs[] = {
    "uniform:rate=4M",
    "hotcold:wss=512K,hot=0.8,rate=4M",
    "zipf:s=1.2,rate=4M",
    "seq:rate=4M",
    "phased:uniform:rate=4M@0.3;seq:rate=8M@0.2;idle@0.1",
};

struct rec {
    uint64_t pfn[4096];
    size_t n;
};

static void rec_page(void *arg, uint64_t pfn)
{
    struct rec *r = arg;

    if (r->n < 4096)
        r->pfn[r->n] = pfn;
    r->n++;
}

START_TEST(test_wgen_state_round_trip)
{
    struct sim_workload *wl = NULL;
    struct sim_wgen *a, *b;
    struct rec *ra = calloc(1, sizeof(*ra)), *rb = calloc(1, sizeof(*rb));
    uint8_t buf[1024];
    size_t ss;
    char err[128];

    ck_assert_int_eq(sim_workload_parse(gen_specs[_i], NULL, &wl, err,
                                        sizeof(err)), 0);
    a = sim_wgen_new(wl, 1024, 17);
    b = sim_wgen_new(wl, 1024, 99);
    sim_wgen_advance(a, 0.37, 1.0, NULL, NULL);
    ss = sim_wgen_state_size(a);
    ck_assert_uint_le(ss, sizeof(buf));
    ck_assert_uint_eq(sim_wgen_state_save(a, buf, ss - 1), 0);
    ck_assert_uint_eq(sim_wgen_state_save(a, buf, sizeof(buf)), ss);
    ck_assert_int_eq(sim_wgen_state_load(b, buf, ss), 0);
    ck_assert(sim_wgen_time(b) == sim_wgen_time(a));
    for (int k = 0; k < 7; k++) {
        sim_wgen_advance(a, 0.11, 0.7, rec_page, ra);
        sim_wgen_advance(b, 0.11, 0.7, rec_page, rb);
    }
    ck_assert_uint_gt(ra->n, 0);
    ck_assert_uint_eq(ra->n, rb->n);
    ck_assert_mem_eq(ra->pfn, rb->pfn, (ra->n < 4096 ? ra->n : 4096) * 8);
    ck_assert_int_eq(sim_wgen_state_load(b, buf, ss - 8), MIG_ECORRUPT);
    sim_wgen_free(a);
    sim_wgen_free(b);
    sim_workload_free(wl);
    free(ra);
    free(rb);
}
END_TEST

static Suite *guest_emu_suite(void)
{
    Suite *s = suite_create("guest_emu");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_stamps_and_clean);
    tcase_add_test(core, test_peek_does_not_clear);
    tcase_add_test(core, test_pause_stable);
    tcase_add_loop_test(core, test_distinct_closed_form, 0,
                        sizeof(distinct_cases) / sizeof(distinct_cases[0]));
    tcase_add_test(core, test_state_round_trip);
    tcase_add_test(limits, test_bad_config);
    tcase_add_test(limits, test_admission_and_misuse);
    tcase_add_test(limits, test_absurd_rate_still_stops);
    tcase_add_loop_test(core, test_wgen_state_round_trip, 0,
                        sizeof(gen_specs) / sizeof(gen_specs[0]));
    tcase_add_test(corrupt, test_bad_workload_records);
    tcase_add_loop_test(corrupt, test_bad_gen_state, 0,
                        sizeof(gen_mut) / sizeof(gen_mut[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(guest_emu_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
