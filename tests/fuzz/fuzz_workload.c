/* SPDX-License-Identifier: MIT */
/*
 * fuzz_workload.c - libFuzzer target for the workload models' untrusted
 * inputs: dirty-page trace files (sim__trace_read(), docs/trace-format.md)
 * and generator state blobs (sim_wgen_state_load(), which the emulated
 * guest receives from the migration stream).
 *
 * The first byte chooses.  With bit 7 set the rest is a trace: when it
 * reads, it must be well formed (sim__trace_valid, deep) and survive
 * write + read unchanged; when it does not, the error is negative with a
 * message.  Otherwise the low bits pick one of the workloads below on a
 * 4096-page guest, and the rest is XORed over a valid state saved from
 * that workload's generator (so all-zero bytes are a valid state and the
 * fuzzer mutates from there); bit 6 hands the load the raw rest instead,
 * at whatever length.  A load that succeeds must save back to the same
 * bytes, and two generators loaded with it must then write the same pages,
 * all inside the guest; a load that fails returns MIG_ECORRUPT and leaves
 * the generator as it was.
 *
 * Run from the source tree (the trace workload reads
 * tests/data/trace-small.txt): make fuzz FUZZ_TARGETS=workload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mig_err.h"
#include "workload.h"
#include "workload_int.h"

#define NPAGES 4096u
#define MAX_WRITES 4096u

static const char *const specs[] = {
    "idle",
    "uniform:rate=40MB/s",
    "hotcold:wss=1M,hot=0.9,rate=40MB/s",
    "zipf:s=1.1,rate=40MB/s",
    "seq:rate=40MB/s",
    "phased:uniform:rate=10MB/s@0.5;seq:rate=20MB/s@0.25",
    "trace:tests/data/trace-small.txt",
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static struct sim_workload *workloads[NSPECS];

/* Pages written, for comparing two generators. */
struct writes {
    uint64_t n;
    uint64_t pfn[MAX_WRITES];
};

static void on_write(void *arg, uint64_t pfn)
{
    struct writes *w = arg;

    CHECK(pfn < NPAGES);
    if (w->n < MAX_WRITES)
        w->pfn[w->n] = pfn;
    w->n++;
}

static void fuzz_trace(const uint8_t *data, size_t size)
{
    struct sim_trace *t = sim__trace_alloc(NULL), *u = sim__trace_alloc(NULL);
    char err[320], *text = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    CHECK(t && u);
    f = size ? fmemopen((void *)(uintptr_t)data, size, "r")
             : fopen("/dev/null", "r");
    CHECK(f != NULL);
    err[0] = '\0';
    rc = sim__trace_read(f, "fuzz", t, err, sizeof(err));
    fclose(f);
    if (rc) {
        CHECK(rc < 0 && err[0] != '\0');
        goto out;
    }
    CHECK(sim__trace_valid(t, true) == 0);
    f = open_memstream(&text, &len);
    CHECK(f != NULL);
    CHECK(sim__trace_write(f, t) == 0);
    CHECK(fclose(f) == 0);
    f = fmemopen(text, len, "r");
    CHECK(f != NULL);
    rc = sim__trace_read(f, "again", u, err, sizeof(err));
    fclose(f);
    CHECK(rc == 0);
    CHECK(u->npages == t->npages && u->interval_s == t->interval_s);
    CHECK(u->nintervals == t->nintervals);
    CHECK(memcmp(u->off, t->off, (t->nintervals + 1) * sizeof(*t->off)) == 0);
    CHECK(t->off[t->nintervals] == 0 ||
          memcmp(u->pfns, t->pfns, t->off[t->nintervals] * sizeof(*t->pfns))
              == 0);
out:
    free(text);
    sim__trace_free(u);
    sim__trace_free(t);
}

static struct sim_wgen *generator(size_t i)
{
    char err[320];

    if (!workloads[i] &&
        sim_workload_parse(specs[i], NULL, &workloads[i], err, sizeof(err)))
        return NULL;                /* the trace, outside the source tree */
    return sim_wgen_new(workloads[i], NPAGES, 7);
}

static void fuzz_state(uint8_t pick, const uint8_t *data, size_t size)
{
    static struct writes wa, wb;
    struct sim_wgen *a = generator(pick % NSPECS), *b;
    size_t ss, len;
    uint8_t *valid, *blob, *before, *after;

    if (!a)
        return;
    b = generator(pick % NSPECS);
    CHECK(b != NULL);
    sim_wgen_advance(a, 0.3, 1.0, NULL, NULL);
    ss = sim_wgen_state_size(a);
    valid = malloc(ss);
    before = malloc(ss);
    after = malloc(ss);
    CHECK(valid && before && after);
    CHECK(sim_wgen_state_save(a, valid, ss) == ss);
    if (pick & 0x40) {
        len = size;
        blob = malloc(len ? len : 1);
        CHECK(blob != NULL);
        memcpy(blob, data, len);
    } else {
        len = ss;
        blob = malloc(ss);
        CHECK(blob != NULL);
        for (size_t i = 0; i < ss; i++)
            blob[i] = valid[i] ^ (i < size ? data[i] : 0);
    }
    CHECK(sim_wgen_state_save(b, before, ss) == ss);
    if (sim_wgen_state_load(b, blob, len) == 0) {
        CHECK(len == ss);
        CHECK(sim_wgen_state_save(b, after, ss) == ss);
        CHECK(memcmp(after, blob, ss) == 0);
        CHECK(sim_wgen_state_load(a, blob, len) == 0);
        wa.n = wb.n = 0;
        sim_wgen_advance(a, 0.01, 1.0, on_write, &wa);
        sim_wgen_advance(b, 0.01, 1.0, on_write, &wb);
        CHECK(wa.n == wb.n);
        CHECK(memcmp(wa.pfn, wb.pfn,
                     (wa.n < MAX_WRITES ? wa.n : MAX_WRITES) *
                         sizeof(wa.pfn[0])) == 0);
    } else {
        CHECK(sim_wgen_state_save(b, after, ss) == ss);
        CHECK(memcmp(after, before, ss) == 0);
    }
    free(blob);
    free(after);
    free(before);
    free(valid);
    sim_wgen_free(b);
    sim_wgen_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 1 << 16)
        return 0;
    if (data[0] & 0x80)
        fuzz_trace(data + 1, size - 1);
    else
        fuzz_state(data[0], data + 1, size - 1);
    return 0;
}
