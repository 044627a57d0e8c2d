/* SPDX-License-Identifier: MIT */
/*
 * rng.c - the simulator's seeded random number generator (see rng.h).
 *
 * Generator: xoshiro256** 1.0 (D. Blackman, S. Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 2021).  Seeding: the four state
 * words are four successive outputs of splitmix64 started at the seed, as
 * the xoshiro authors recommend; splitmix64 never yields an all-zero state
 * for four consecutive outputs, so every seed is valid.
 *
 * Derived distributions:
 *   uniform  the top 53 bits of one output, times 2^-53: [0, 1).
 *   below    D. Lemire, "Fast random integer generation in an interval"
 *            (ACM TOMACS 2019): multiply-shift with rejection of the biased
 *            low products, so every value in [0, n) is exactly equally likely.
 *   normal   Box-Muller, cosine branch only: two uniforms per deviate and no
 *            cached second value, so the state stays a plain value.
 */
#include <math.h>
#include <stdint.h>

#include "rng.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One splitmix64 step: advance *x and return the mixed output. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    uint64_t x = seed;

    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sim_rng_uniform(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Full 128-bit product of a and b: high word returned, low word in *lo. */
static uint64_t mul128(uint64_t a, uint64_t b, uint64_t *lo)
{
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)a * b;

    *lo = (uint64_t)m;
    return (uint64_t)(m >> 64);
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32;
    uint64_t b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;

    *lo = (mid << 32) | (uint32_t)p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/*
 * Uniform integer in [0, n).  n == 0 is a caller bug; it returns 0 rather
 * than aborting, because library code never aborts.
 */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    uint64_t lo, hi;

    if (n == 0)
        return 0;
    hi = mul128(sim_rng_next(r), n, &lo);
    if (lo < n) {
        /* Products whose low word falls below 2^64 mod n are the surplus
         * that would favour some outputs; draw again for those. */
        uint64_t thresh = (0 - n) % n;

        while (lo < thresh)
            hi = mul128(sim_rng_next(r), n, &lo);
    }
    return hi;
}

double sim_rng_normal(struct sim_rng *r)
{
    /* 1 - uniform lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - sim_rng_uniform(r);
    double u2 = sim_rng_uniform(r);

    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
