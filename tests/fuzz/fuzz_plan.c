/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plan.c - libFuzzer target for the planner's parsers: inventory files
 * (sim/fleet.c, docs/plan.md "Inventory") and distribution specs
 * (sim/dist.c).
 *
 * The input is read as an inventory; when it parses, every host is drained
 * in turn (one VM at most 64 to keep runs short) and the plan's invariants
 * are checked: destinations are not drained, never overflow, and every VM
 * ends after it starts.  The input is also split into lines and each line
 * parsed as a distribution of each unit; a parsed distribution must draw
 * values inside its unit's range.  Any violation traps.
 *
 * Run: make fuzz FUZZ_TARGETS=plan (docs/fuzzing.md); seeds in
 * tests/fuzz/corpus/plan/.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "dist.h"
#include "fleet.h"
#include "units.h"

static void fuzz_inventory(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
    struct sim_fleet *fl = NULL;
    struct sim_evac_plan p;
    char err[400];

    if (!f)
        return;
    if (sim_fleet_read(f, "fuzz", "/nonexistent", &fl, err, sizeof(err))) {
        CHECK(fl == NULL && strlen(err) > 0);
        fclose(f);
        return;
    }
    fclose(f);
    sim_evac_plan_init(&p);
    for (size_t h = 0; h < fl->nhosts && fl->nvms <= 64; h++) {
        const char *drain[1] = { fl->hosts[h].name };
        struct sim_evac_opts o = { 1 + (unsigned)(h % 4),
                                   (enum sim_fleet_order)(h % 3) };
        double *used = calloc(fl->nhosts, sizeof(*used));
        double *added = calloc(fl->nhosts, sizeof(*added));

        if (!used || !added) {
            free(used);
            free(added);
            break;
        }
        for (size_t i = 0; i < fl->nvms; i++)
            used[fl->vms[i].host] += (double)fl->vms[i].mem_bytes;
        if (sim_fleet_evacuate(fl, drain, 1, &o, &p, err, sizeof(err)) == 0) {
            for (size_t i = 0; i < p.n; i++) {
                const struct sim_evac_vm *v = &p.vms[i];

                CHECK(v->dst != h && v->src == h);
                CHECK(v->end_s >= v->start_s);
                CHECK(v->end_s <= p.makespan_s);
                added[v->dst] += (double)fl->vms[v->vm].mem_bytes;
            }
            /* A destination that received VMs never overflows. */
            for (size_t d = 0; d < fl->nhosts; d++)
                CHECK(added[d] == 0 ||
                      used[d] + added[d] <= (double)fl->hosts[d].capacity);
        } else {
            CHECK(p.n == 0 && p.vms == NULL && strlen(err) > 0);
        }
        free(added);
        free(used);
    }
    sim_evac_plan_clear(&p);
    sim_fleet_free(fl);
}

static void fuzz_dists(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *save;

    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        for (int u = SIM_UNIT_SIZE; u <= SIM_UNIT_FRACTION; u++) {
            struct sim_dist d;
            struct sim_rng rng;
            char err[200], buf[512];

            if (sim_dist_parse(line, (enum sim_dist_unit)u, &d, err,
                               sizeof(err)))
                continue;
            sim_dist_format(&d, buf, sizeof(buf));
            sim_rng_seed(&rng, 1);
            for (int i = 0; i < 16; i++) {
                double v = sim_dist_draw(&d, &rng);

                CHECK(!isnan(v) && v >= 0);
                if (u == SIM_UNIT_FRACTION)
                    CHECK(v < 1);
            }
        }
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    fuzz_inventory(data, size);
    fuzz_dists(data, size);
    return 0;
}
