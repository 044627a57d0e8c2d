/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scenario.c - libFuzzer target for the scenario reader
 * (sim/scenario.c: INI through inih, every key's value parser, workload
 * specs in sim/workload.c), read from memory with
 * sim_scenario_load_stream(); and the same input as a Monte Carlo scenario
 * (sim/mc.c: distributions for memory, bandwidth, RTT, loss and rate).
 *
 * Invariants checked: a failed read returns an error code from the
 * documented set with a message naming the file; a read that succeeds
 * leaves a name and the base directory set, cfg.workload pointing at the
 * scenario's own workload (present exactly when a spec was given), a
 * workload whose canonical text parses again to the same text, repeats of
 * at least 1 and [expect] values in their ranges; validating the result
 * gives 0 or an explained error.  Inputs naming /dev, /proc or /sys are
 * skipped so a trace path can never read a device or an endless file.
 * Read as a Monte Carlo scenario, the same error rules hold, and every
 * drawn parameter of a scenario that reads is inside its range: memory a
 * positive whole number of pages, bandwidth and RTT not negative, loss in
 * [0, 1).
 *
 * Run: make fuzz FUZZ_TARGETS=scenario (docs/fuzzing.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mc.h"
#include "mig_err.h"
#include "scenario.h"
#include "workload.h"

#define FUZZ_PATH "/nonexistent-miglab-fuzz/fuzz.ini"

static void check_workload_round_trip(const struct sim_scenario *sc)
{
    struct sim_workload *again = NULL;
    char a[1024], b[1024], err[320];

    sim_workload_format(sc->workload, a, sizeof(a));
    CHECK(strlen(a) > 0);
    if (strlen(a) + 1 >= sizeof(a))
        return;                     /* cut: nothing to compare */
    CHECK(sim_workload_parse(a, sc->basedir, &again, err, sizeof(err)) == 0);
    sim_workload_format(again, b, sizeof(b));
    CHECK(strcmp(a, b) == 0);
    sim_workload_free(again);
}

static void check_loaded(const struct sim_scenario *sc)
{
    const struct sim_expect *e = &sc->expect;
    char err[400];
    int rc;

    CHECK(sc->name && sc->basedir);
    CHECK(strcmp(sc->basedir, "/nonexistent-miglab-fuzz") == 0);
    CHECK(sc->cfg.workload == sc->workload);
    if (sc->workload)
        check_workload_round_trip(sc);
    CHECK(sc->repeats >= 1);
    CHECK(e->converged >= -1 && e->converged <= 1);
    CHECK(e->outcome >= -1 && e->outcome <= SIM_OUTCOME_REFUSED);
    err[0] = '\0';
    rc = sim_scenario_validate(sc, err, sizeof(err));
    CHECK(rc == 0 || (rc == MIG_EINVAL && err[0] != '\0'));
}

static int set_scenario(void *target, const char *section, const char *key,
                        const char *value, char *err, size_t errlen)
{
    return sim_scenario_set(target, section, key, value, err, errlen);
}

static int set_mc(void *target, const char *section, const char *key,
                  const char *value, char *err, size_t errlen)
{
    return sim_mc_set(target, section, key, value, err, errlen);
}

/* Read the input into sc through set(target, ...); the reader's result,
 * with the error rules checked. */
static int read_input(const uint8_t *data, size_t size,
                      struct sim_scenario *sc, sim_ini_set_fn *set,
                      void *target)
{
    char err[400] = "";
    FILE *f = size ? fmemopen((void *)(uintptr_t)data, size, "r")
                   : fopen("/dev/null", "r");
    int rc;

    CHECK(f != NULL);
    rc = sim_scenario_load_stream_with(sc, f, FUZZ_PATH, set, target, err,
                                       sizeof(err));
    fclose(f);
    if (rc) {
        /* MIG_EINVAL for what the file says, -errno when a trace it names
         * cannot be read: always negative. */
        CHECK(rc < 0);
        CHECK(strncmp(err, FUZZ_PATH, strlen(FUZZ_PATH)) == 0);
    }
    return rc;
}

static void check_draws(const struct sim_mc *mc)
{
    struct sim_mc_opts o;

    sim_mc_opts_defaults(&o);
    for (size_t i = 0; i < 8; i++) {
        struct sim_config cfg;
        struct sim_workload wl;

        if (sim_mc_draw_config(mc, &o, i, &cfg, &wl))
            continue;
        /* Fixed values are whatever the setters accept (validation judges
         * the whole later); drawn ones must be in range. */
        CHECK(!mc->uncertain[SIM_MC_MEMORY] ||
              (cfg.mem_bytes > 0 && cfg.mem_bytes % 4096 == 0));
        CHECK(!mc->uncertain[SIM_MC_BANDWIDTH] || cfg.link.bandwidth_bps >= 0);
        CHECK(!mc->uncertain[SIM_MC_RTT] || cfg.link.rtt_s >= 0);
        CHECK(!mc->uncertain[SIM_MC_LOSS] ||
              (cfg.link.loss >= 0 && cfg.link.loss < 1));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_scenario sc;
    struct sim_mc mc;

    if (size > 1 << 16 || fuzz_names_special_file(data, size))
        return 0;
    sim_scenario_init(&sc);
    if (read_input(data, size, &sc, set_scenario, &sc) == 0)
        check_loaded(&sc);
    sim_scenario_free(&sc);

    sim_mc_init(&mc);
    if (read_input(data, size, &mc.sc, set_mc, &mc) == 0)
        check_draws(&mc);
    sim_mc_free(&mc);
    return 0;
}
