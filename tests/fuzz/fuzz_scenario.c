/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scenario.c - libFuzzer target for the scenario reader
 * (sim/scenario.c: INI through inih, every key's value parser, workload
 * specs in sim/workload.c), read from memory with
 * sim_scenario_load_stream().
 *
 * Invariants checked: a failed read returns an error code from the
 * documented set with a message naming the file; a read that succeeds
 * leaves a name and the base directory set, cfg.workload pointing at the
 * scenario's own workload (present exactly when a spec was given), a
 * workload whose canonical text parses again to the same text, repeats of
 * at least 1 and [expect] values in their ranges; validating the result
 * gives 0 or an explained error.  Inputs naming /dev, /proc or /sys are
 * skipped so a trace path can never read a device or an endless file.
 *
 * Run: make fuzz FUZZ_TARGETS=scenario (docs/fuzzing.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_scenario sc;
    char err[400];
    FILE *f;
    int rc;

    if (size > 1 << 16 || fuzz_names_special_file(data, size))
        return 0;
    f = size ? fmemopen((void *)(uintptr_t)data, size, "r")
             : fopen("/dev/null", "r");
    if (!f)
        return 0;
    sim_scenario_init(&sc);
    err[0] = '\0';
    rc = sim_scenario_load_stream(&sc, f, FUZZ_PATH, err, sizeof(err));
    fclose(f);
    if (rc) {
        /* MIG_EINVAL for what the file says, -errno when a trace it names
         * cannot be read: always negative. */
        CHECK(rc < 0);
        CHECK(strncmp(err, FUZZ_PATH, strlen(FUZZ_PATH)) == 0);
    } else {
        check_loaded(&sc);
    }
    sim_scenario_free(&sc);
    return 0;
}
