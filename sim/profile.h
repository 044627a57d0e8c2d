/* SPDX-License-Identifier: MIT */
/*
 * profile.h - host profiles: what `miglab calibrate` measured on one
 * testbed, in the scenario file format (INI, same keys), so the simulator
 * can predict that testbed instead of the defaults.
 *
 *   [profile]      provenance: created, emulator, kernel, cc_used,
 *                  repeats, guest, command (text; ignored by the model)
 *   [costs]        fixed costs that do not depend on the link, with the
 *                  keys of a scenario's [costs] section (plus restore_cold)
 *   [link NAME]    one measured network point: bandwidth, rtt, jitter,
 *                  loss, cc, window (the scenario keys it is matched on),
 *                  goodput (measured stream goodput), [costs] keys measured
 *                  there (restore includes what drains inside the pause on
 *                  that link), restore_cold, and provenance (repeats,
 *                  scenarios, spread_goodput, spread_downtime)
 *
 * Applying a profile to a scenario: a key the scenario file or a flag set
 * wins; then the point whose network equals the scenario's; then [costs];
 * then the defaults.  Format, derivation and precedence: docs/calibrate.md.
 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

/* One "key = value" line, value as written (units included). */
struct sim_profile_kv {
    char *key;
    char *value;
};

struct sim_profile_kvs {
    struct sim_profile_kv *v;
    size_t n;
};

struct sim_profile_point {
    char *name;                     /* NAME of [link NAME] */
    struct sim_link link;           /* matched on; goodput_Bps measured */
    struct sim_profile_kvs costs;   /* [costs] keys and restore_cold */
    struct sim_profile_kvs info;    /* provenance keys */
};

struct sim_profile {
    struct sim_profile_kvs info;    /* [profile] */
    struct sim_profile_kvs costs;   /* [costs] */
    struct sim_profile_point *points;
    size_t npoints;
};

void sim_profile_init(struct sim_profile *p);
void sim_profile_free(struct sim_profile *p);

/*
 * Add or replace key = value in kvs (copies both).  0 or MIG_ENOMEM.
 */
int sim_profile_kv_set(struct sim_profile_kvs *kvs, const char *key,
                       const char *value);
/* The value of key in kvs, or NULL (points into kvs). */
const char *sim_profile_kv_get(const struct sim_profile_kvs *kvs,
                               const char *key);

/*
 * Add a point named name for link l (copied, goodput included); returns it
 * (owned by p) or NULL on ENOMEM or when the name is taken.
 */
struct sim_profile_point *sim_profile_add_point(struct sim_profile *p,
                                                const char *name,
                                                const struct sim_link *l);

/*
 * Check one setting of a profile section ("profile", "costs" or
 * "link NAME") without storing it; 0, or MIG_EINVAL with one line in err
 * ("[costs] restore: bad time 'x' (...)", "unknown key 'k' in [link a]").
 */
int sim_profile_check(const char *section, const char *key,
                      const char *value, char *err, size_t errlen);

/*
 * Read a profile file into p (initialised by the caller).  Errors as for
 * scenarios: "PATH:LINE: message" and MIG_EINVAL, "PATH: strerror" and
 * -errno, MIG_ENOMEM.  On failure p holds what was read before the error
 * (free it either way).
 */
int sim_profile_load(struct sim_profile *p, const char *path, char *err,
                     size_t errlen);

/* Write p in the format sim_profile_load reads.  0 or -EIO. */
int sim_profile_write(FILE *f, const struct sim_profile *p);

/* The point whose network (bandwidth, rtt, jitter, loss, cc, window)
 * equals l, or NULL. */
const struct sim_profile_point *
sim_profile_match(const struct sim_profile *p, const struct sim_link *l);

/*
 * Apply p to sc below what the file and the flags set (precedence in the
 * header comment): [costs], then the matching point's costs and goodput;
 * restore_cold replaces restore for a cold migration.  *matched (may be
 * NULL) gets the point or NULL.  0, or MIG_EINVAL with err set (a value
 * that does not parse; sim_profile_load has checked them already).
 */
int sim_profile_apply(const struct sim_profile *p, struct sim_scenario *sc,
                      const struct sim_profile_point **matched, char *err,
                      size_t errlen);

#endif
