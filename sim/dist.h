/* SPDX-License-Identifier: MIT */
/*
 * dist.h - distributions of scenario parameters, for Monte Carlo (sim/mc.h).
 *
 * A value in a scenario file or on the command line may be a distribution
 * instead of a plain quantity.  Every number inside one carries the unit of
 * the parameter and is read by the sim/units.h parser of that unit:
 *
 *   200MB/s                       fixed: every draw gives this value
 *   uniform(A,B)                  uniform on [A, B], A <= B
 *   normal(MEAN,SD)               normal; draws outside the parameter's range
 *                                 (e.g. a negative bandwidth) are redrawn
 *                                 (a truncated normal), at most 64 times,
 *                                 then clamped to the nearest valid value
 *   lognormal(MEDIAN,SIGMA)       exp(N(ln MEDIAN, SIGMA^2)): MEDIAN carries
 *                                 the unit, SIGMA is the standard deviation
 *                                 of the natural log (a bare number, e.g.
 *                                 0.25); mean = MEDIAN * exp(SIGMA^2 / 2)
 *   choice(V1,V2,...)             one of the values, equally likely
 *   [V1, V2, ...]                 the same (an empirical list, e.g. measured
 *                                 dirty rates); at most SIM_DIST_MAX_VALUES
 *
 * Blanks around names, parentheses, commas and values are ignored.  Names
 * are lower case.  Draws take a fixed number of random numbers per
 * distribution kind, so two runs with the same seeds draw the same values.
 */
#ifndef SIM_DIST_H
#define SIM_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "rng.h"

#define SIM_DIST_MAX_VALUES 256

enum sim_dist_kind {
    SIM_DIST_FIXED,
    SIM_DIST_UNIFORM,
    SIM_DIST_NORMAL,
    SIM_DIST_LOGNORMAL,
    SIM_DIST_CHOICE,
};

/* The unit (and so the parser and the valid range) of the values. */
enum sim_dist_unit {
    SIM_UNIT_SIZE,          /* bytes, sim_parse_size; > 0 */
    SIM_UNIT_BITRATE,       /* bits/s, sim_parse_bitrate; > 0 */
    SIM_UNIT_BYTERATE,      /* bytes/s, sim_parse_byterate; >= 0 */
    SIM_UNIT_TIME,          /* seconds, sim_parse_time; >= 0 */
    SIM_UNIT_FRACTION,      /* sim_parse_fraction; [0, 1) */
};

struct sim_dist {
    enum sim_dist_kind kind;
    enum sim_dist_unit unit;
    double a;               /* fixed value, uniform low, mean, median */
    double b;               /* uniform high, sd, sigma of the log */
    size_t n;               /* choice: number of values */
    double v[SIM_DIST_MAX_VALUES];
};

/*
 * True when s is written as a distribution (a name followed by '(' or a
 * '[' list), false for a plain value.  Says nothing about validity.
 */
bool sim_dist_is_spec(const char *s);

/*
 * Parse s (syntax above; a plain value gives SIM_DIST_FIXED) as values of
 * `unit` into *out.  Returns 0, or MIG_EINVAL with one line in err naming
 * the problem ("uniform: low '3G' above high '1G'").  *out is zeroed first.
 */
int sim_dist_parse(const char *s, enum sim_dist_unit unit,
                   struct sim_dist *out, char *err, size_t errlen);

/* One draw, always inside the unit's valid range. */
double sim_dist_draw(const struct sim_dist *d, struct sim_rng *rng);

/* A representative value: fixed value, uniform midpoint, mean, median, or
 * the first choice.  Used as the nominal value of a scenario. */
double sim_dist_center(const struct sim_dist *d);

/* Text of d for people, values rounded as sim_format_*() does (always
 * NUL-terminated); returns buf. */
char *sim_dist_format(const struct sim_dist *d, char *buf, size_t len);

const char *sim_dist_kind_name(enum sim_dist_kind k);

#endif
