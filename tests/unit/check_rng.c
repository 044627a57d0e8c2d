/* SPDX-License-Identifier: MIT */
/*
 * check_rng.c - unit tests of sim/rng.c: published xoshiro256** and
 * splitmix64 vectors, golden outputs (a changed stream changes every
 * simulation, so it must be deliberate), and the distributions.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "rng.h"
#include "check_main.h"

static int reduced(int normal)
{
    return getenv("MIGLAB_UNDER_VALGRIND") ? normal / 4 : normal;
}

/* splitmix64 from 0: its first four outputs are the state. */
START_TEST(test_seed_vector)
{
    static const uint64_t want[4] = {
        0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
        0x06c45d188009454fULL, 0xf88bb8a8724c81ecULL,
    };
    struct sim_rng r;

    sim_rng_seed(&r, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(r.s[i], want[i]);
}
END_TEST

/* xoshiro256** from state {1, 2, 3, 4} (the reference implementation). */
START_TEST(test_xoshiro_vector)
{
    static const uint64_t want[6] = {
        11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL,
        1216172134540287360ULL, 607988272756665600ULL,
    };
    struct sim_rng r = { { 1, 2, 3, 4 } };

    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(sim_rng_next(&r), want[i]);
}
END_TEST

/* Golden streams of the derived draws for fixed seeds. */
START_TEST(test_golden)
{
    static const uint64_t next42[4] = {
        0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
        0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL,
    };
    static const uint64_t below42[8] = { 0, 3, 6, 9, 9, 7, 7, 8 };
    static const uint64_t big7[3] = {
        6461677535414237997ULL, 7744196453246319819ULL,
        9049029322324588832ULL,
    };
    struct sim_rng r;

    sim_rng_seed(&r, 42);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(sim_rng_next(&r), next42[i]);
    sim_rng_seed(&r, 42);
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(sim_rng_below(&r, 10), below42[i]);
    sim_rng_seed(&r, 7);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(sim_rng_below(&r, (UINT64_C(1) << 63) + 1),
                          big7[i]);
    sim_rng_seed(&r, 1);
    ck_assert(sim_rng_uniform(&r) == 0.7029218331588505);
    ck_assert(sim_rng_uniform(&r) == 0.5204366199388569);
}
END_TEST

START_TEST(test_determinism)
{
    struct sim_rng a, b, c;
    int differ = 0;

    sim_rng_seed(&a, 123456789);
    sim_rng_seed(&b, 123456789);
    sim_rng_seed(&c, 123456790);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);

        ck_assert_uint_eq(x, sim_rng_next(&b));
        differ += x != sim_rng_next(&c);
    }
    ck_assert_int_ge(differ, 999);
}
END_TEST

START_TEST(test_uniform)
{
    struct sim_rng r;
    int n = reduced(200000);
    double sum = 0, lo = 1, hi = 0;

    sim_rng_seed(&r, 5);
    for (int i = 0; i < n; i++) {
        double u = sim_rng_uniform(&r);

        ck_assert(u >= 0 && u < 1);
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    /* Mean within 5 standard errors of 1/2 (sd of U(0,1) is 0.2887). */
    ck_assert(fabs(sum / n - 0.5) < 5 * 0.2887 / sqrt(n));
    ck_assert(lo < 1e-3 && hi > 1 - 1e-3);
}
END_TEST

START_TEST(test_normal)
{
    struct sim_rng r;
    int n = reduced(200000);
    double sum = 0, sq = 0, mean, var;

    sim_rng_seed(&r, 6);
    for (int i = 0; i < n; i++) {
        double z = sim_rng_normal(&r);

        ck_assert(isfinite(z));
        sum += z;
        sq += z * z;
    }
    mean = sum / n;
    var = sq / n - mean * mean;
    ck_assert_msg(fabs(mean) < 5 / sqrt(n), "mean %g", mean);
    /* The variance of a sample variance of N(0,1) is about 2/n. */
    ck_assert_msg(fabs(var - 1) < 5 * sqrt(2.0 / n), "variance %g", var);
}
END_TEST

/* below(n) for n = 10: every value equally often (chi-square, 9 dof). */
START_TEST(test_below_chi2)
{
    struct sim_rng r;
    int n = reduced(100000);
    uint64_t hist[10] = { 0 };
    double chi2 = 0, e = n / 10.0;

    sim_rng_seed(&r, 8);
    for (int i = 0; i < n; i++)
        hist[sim_rng_below(&r, 10)]++;
    for (int k = 0; k < 10; k++)
        chi2 += (hist[k] - e) * (hist[k] - e) / e;
    /* P(chi2_9 > 33.7) = 1e-4. */
    ck_assert_msg(chi2 < 33.7, "chi2 %g", chi2);
}
END_TEST

static const uint64_t bounds[] = {
    1, 2, 3, 7, 1000, (UINT64_C(1) << 32) + 1, (UINT64_C(1) << 63) + 1,
    UINT64_MAX - 1, UINT64_MAX,
};

START_TEST(test_below_range)
{
    struct sim_rng r;
    uint64_t n = bounds[_i], top = 0;

    sim_rng_seed(&r, 9 + (uint64_t)_i);
    for (int i = 0; i < 2000; i++) {
        uint64_t x = sim_rng_below(&r, n);

        ck_assert_msg(x < n, "below(%llu) = %llu", (unsigned long long)n,
                      (unsigned long long)x);
        top = x > top ? x : top;
    }
    /* Large ranges reach their top half. */
    if (n > 2)
        ck_assert_uint_ge(top, n / 2);
}
END_TEST

START_TEST(test_below_zero)
{
    struct sim_rng r, before;

    sim_rng_seed(&r, 10);
    before = r;
    ck_assert_uint_eq(sim_rng_below(&r, 0), 0);
    ck_assert_uint_eq(sim_rng_below(&r, 1), 0);
    /* below(0) draws nothing; below(1) draws once. */
    sim_rng_next(&before);
    ck_assert_uint_eq(sim_rng_next(&r), sim_rng_next(&before));
}
END_TEST

/* Extreme seeds give a usable (non-zero) state. */
START_TEST(test_extreme_seeds)
{
    static const uint64_t seeds[] = {
        0, 1, UINT64_MAX, 0x9e3779b97f4a7c15ULL, 0ULL - 0x9e3779b97f4a7c15ULL,
    };

    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        struct sim_rng r;

        sim_rng_seed(&r, seeds[i]);
        ck_assert((r.s[0] | r.s[1] | r.s[2] | r.s[3]) != 0);
        ck_assert(sim_rng_next(&r) != sim_rng_next(&r));
    }
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *core = tcase_create("core");
    TCase *limits = tcase_create("limits");
    TCase *corrupt = tcase_create("corrupt");

    tcase_add_test(core, test_seed_vector);
    tcase_add_test(core, test_xoshiro_vector);
    tcase_add_test(core, test_golden);
    tcase_add_test(core, test_determinism);
    tcase_add_test(core, test_uniform);
    tcase_add_test(core, test_normal);
    tcase_add_test(core, test_below_chi2);
    suite_add_tcase(s, core);

    tcase_add_loop_test(limits, test_below_range, 0,
                        (int)(sizeof(bounds) / sizeof(bounds[0])));
    tcase_add_test(limits, test_extreme_seeds);
    suite_add_tcase(s, limits);

    /* Misuse the API allows: n = 0. */
    tcase_add_test(corrupt, test_below_zero);
    suite_add_tcase(s, corrupt);
    return s;
}

int main(void)
{
    return check_run(rng_suite());
}
