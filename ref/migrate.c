/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - measured-run bookkeeping for the sender and receiver
 * (migrate.h): the pass array, the clock, and the JSON form.
 */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "result_json.h"

double mig__now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *mig_phase_name(enum mig_phase phase)
{
    static const char *const names[MIG_PHASE_COUNT] = {
        [MIG_PHASE_HANDSHAKE] = "handshake", [MIG_PHASE_PASS] = "pass",
        [MIG_PHASE_STOP_COPY] = "stopcopy", [MIG_PHASE_STATE] = "state",
        [MIG_PHASE_READY] = "ready", [MIG_PHASE_GO] = "go",
        [MIG_PHASE_REPORT] = "report",
    };

    return (unsigned)phase < MIG_PHASE_COUNT ? names[phase] : "?";
}

void mig_run_init(struct mig_run *run)
{
    memset(run, 0, sizeof(*run));
    sim_result_init(&run->result);
}

void mig_run_clear(struct mig_run *run)
{
    sim_result_clear(&run->result);
    memset(run, 0, sizeof(*run));
}

struct sim_pass *mig__run_add_pass(struct mig_run *run)
{
    struct sim_result *r = &run->result;

    if (r->npasses == r->passes_cap) {
        size_t cap = r->passes_cap ? r->passes_cap * 2 : 16;
        struct sim_pass *p = realloc(r->passes, cap * sizeof(*p));

        if (!p)
            return NULL;
        r->passes = p;
        r->passes_cap = cap;
    }
    r->passes[r->npasses] = (struct sim_pass){
        .index = (unsigned)r->npasses + 1 };
    return &r->passes[r->npasses++];
}

static int add(struct json_object *o, const char *key, struct json_object *v)
{
    if (!v)
        return MIG_ENOMEM;
    if (json_object_object_add(o, key, v)) {
        json_object_put(v);
        return MIG_ENOMEM;
    }
    return 0;
}

struct json_object *mig_run_to_json(const struct mig_run *run)
{
    const struct mig_integrity *in = &run->integrity;
    struct json_object *o = sim_result_to_json(&run->result);
    struct json_object *i, *list;
    int rc;

    if (!o)
        return NULL;
    i = json_object_new_object();
    if (add(o, "integrity", i))
        goto out_put;
    list = json_object_new_array();
    rc = add(i, "ok", json_object_new_boolean(in->ok));
    rc = rc ? rc : add(i, "checked", json_object_new_boolean(in->checked));
    rc = rc ? rc : add(i, "pages_checked",
                       json_object_new_int64((int64_t)in->pages_checked));
    rc = rc ? rc : add(i, "mismatches",
                       json_object_new_int64((int64_t)in->mismatches));
    rc = rc ? rc : add(i, "mismatch_pfns", list);
    if (rc)
        goto out_put;
    for (size_t k = 0; k < in->nlisted; k++) {
        struct json_object *v =
            json_object_new_int64((int64_t)in->mismatch_pfns[k]);

        if (!v || json_object_array_add(list, v)) {
            json_object_put(v);
            goto out_put;
        }
    }
    if (run->msg[0] && add(o, "message", json_object_new_string(run->msg)))
        goto out_put;
    return o;

out_put:
    json_object_put(o);
    return NULL;
}
