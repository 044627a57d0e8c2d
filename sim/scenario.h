/* SPDX-License-Identifier: MIT */
/*
 * scenario.h - scenario files (INI) and the settings they share with flags.
 *
 * One format serves `miglab predict --scenario` and the scenario runner.
 * Every setting is a (section, key) pair with a unit-bearing value; command
 * line flags are applied through the same setter, so a flag and a file key
 * can never disagree about units or ranges.  The keys are listed in
 * docs/scenario-format.md and by sim_scenario_key_at().
 *
 * Errors name the place: "FILE:LINE: [network] loss: bad fraction '2'"
 * for files, "--loss: bad fraction '2'" for flags (the caller prefixes).
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

/* [expect]: bounds a run must meet; a negative number means "not set". */
struct sim_expect {
    double downtime_max_s;
    double downtime_min_s;
    double total_time_max_s;
    uint64_t bytes_max;             /* 0 = not set */
    int converged;                  /* -1 not set, 0 false, 1 true */
    int outcome;                    /* -1 not set, else enum sim_outcome */
    double prediction_error;        /* |pred - meas| / meas bound (runner) */
};

struct sim_scenario {
    char *name;                     /* [scenario] name (default: file stem) */
    char *description;
    char *workload_spec;            /* as written */
    char *basedir;                  /* directory trace paths are relative to */
    struct sim_workload *workload;  /* owned; NULL = idle */
    struct sim_config cfg;          /* cfg.workload points at workload */
    struct sim_expect expect;
    unsigned repeats;               /* [run] repeats (1) */
    uint64_t dest_capacity;         /* [hosts] dest_capacity: memory the
                                       runner's destination host admits;
                                       0 = enough for the guest */
    unsigned long policy_overrides; /* internal: policy keys set explicitly,
                                       kept when [migration] policy changes */
    char *profile;                  /* [run] profile / --profile: host
                                       profile path (file keys: relative to
                                       the scenario's directory); NULL */
    uint64_t explicit_keys;         /* internal: bit i = setting i was set
                                       by a file or a flag */
    bool loading;                   /* internal: inside sim_scenario_load */
};

/* Defaults everywhere (sim_config_defaults, no expectations). */
void sim_scenario_init(struct sim_scenario *sc);
void sim_scenario_free(struct sim_scenario *sc);

/*
 * Apply one setting.  Returns 0, MIG_EINVAL (unknown key or bad value, with
 * one line in err such as "[guest] memory: bad size '4X' (e.g. 4G, 512M)"),
 * or MIG_ENOMEM.
 */
int sim_scenario_set(struct sim_scenario *sc, const char *section,
                     const char *key, const char *value,
                     char *err, size_t errlen);

/*
 * Apply a command-line flag ("--mem" or "mem") with its value; booleans
 * given without a value pass "true".  Errors read "--mem: bad size ...".
 * Unknown flag: MIG_ENOTSUP (so the caller can try its own flags).
 */
int sim_scenario_set_flag(struct sim_scenario *sc, const char *flag,
                          const char *value, char *err, size_t errlen);

/*
 * Read an INI file into sc (on top of what sc already holds).  Errors:
 * "PATH:LINE: message" in err and MIG_EINVAL; an unreadable file gives
 * "PATH: strerror" and -errno.  Does not validate the whole (see below).
 */
int sim_scenario_load(struct sim_scenario *sc, const char *path,
                      char *err, size_t errlen);

/* The setter an INI file's keys go through (sim_scenario_set's contract,
 * on an opaque target). */
typedef int sim_ini_set_fn(void *target, const char *section, const char *key,
                           const char *value, char *err, size_t errlen);

/*
 * sim_scenario_load() with every key going through set(target, ...)
 * instead of sim_scenario_set(sc, ...): for readers that take more than a
 * scenario does (distributions in sim/mc.c).  sc still gets the name and
 * the base directory from the path.  Same errors.
 */
int sim_scenario_load_with(struct sim_scenario *sc, const char *path,
                           sim_ini_set_fn *set, void *target, char *err,
                           size_t errlen);

/* True when [section] key was set by a scenario file or a flag (not by
 * the defaults or sim_scenario_set_default). */
bool sim_scenario_is_set(const struct sim_scenario *sc, const char *section,
                         const char *key);

/*
 * Apply a setting unless it was set explicitly (sim_scenario_is_set); it
 * stays "not set", so a later file key or flag still wins.  For host
 * profiles (docs/calibrate.md: explicit > profile > defaults).  Same
 * errors as sim_scenario_set; 0 without effect when the key is set.
 */
int sim_scenario_set_default(struct sim_scenario *sc, const char *section,
                             const char *key, const char *value, char *err,
                             size_t errlen);

/*
 * sim_scenario_load() and sim_scenario_load_with() on an open stream (a
 * memory buffer through fmemopen, a pipe): path names it in messages and
 * gives the base directory and the default name.  Same errors, except that
 * the stream is neither opened nor closed here.
 */
int sim_scenario_load_stream(struct sim_scenario *sc, FILE *f,
                             const char *path, char *err, size_t errlen);
int sim_scenario_load_stream_with(struct sim_scenario *sc, FILE *f,
                                  const char *path, sim_ini_set_fn *set,
                                  void *target, char *err, size_t errlen);

/* Whether the command-line flag (without "--") takes no value. */
bool sim_scenario_flag_is_boolean(const char *flag);

/* Check the assembled configuration (sim_config_validate). */
int sim_scenario_validate(const struct sim_scenario *sc, char *err,
                          size_t errlen);

/* One entry per accepted key, for --help and docs. */
struct sim_scenario_key {
    const char *section;
    const char *key;
    const char *flag;               /* command-line flag, or NULL */
    const char *help;               /* value syntax and default */
    bool boolean;                   /* flag takes no value */
};
size_t sim_scenario_nkeys(void);
/* Key i (0 <= i < nkeys), NULL past the end.  Static storage. */
const struct sim_scenario_key *sim_scenario_key_at(size_t i);

/*
 * Check a result against [expect].  Returns the number of failed bounds;
 * writes one line per bound checked to `report` (if not NULL) as
 * "PASS downtime <= 300 ms (got 123 ms)" / "FAIL ...".
 */
struct sim_expect_line {
    bool pass;
    char text[160];
};
unsigned sim_expect_check(const struct sim_expect *e,
                          const struct sim_result *r,
                          struct sim_expect_line *lines, size_t maxlines,
                          size_t *nlines);

#endif
