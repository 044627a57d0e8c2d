/* SPDX-License-Identifier: MIT */
/*
 * rng.h - the simulator's seeded random number generator.
 *
 * xoshiro256** (Blackman & Vigna), seeded through splitmix64 so that any
 * 64-bit seed, including 0, gives a good state.  The state is a plain value
 * owned by whoever holds it: the same seed gives the same sequence on every
 * machine, which is what makes runs reproducible.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

struct sim_rng {
    uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform double in [0, 1), 53 random bits. */
double sim_rng_uniform(struct sim_rng *r);
/* Uniform integer in [0, n), unbiased; n must be > 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Standard normal deviate (Box-Muller, no cached second value). */
double sim_rng_normal(struct sim_rng *r);

#endif
