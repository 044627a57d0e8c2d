/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pcap.c - libFuzzer target for the capture decoder: flow selection
 * and TCP reassembly (tools/pcap_flow.c) and the wire timeline
 * (tools/pcap_timeline.c), which runs the stream decoder on the result.
 *
 * The input is a pcap file, read from memory (fmemopen +
 * pcap_fopen_offline).  The last byte, when odd, selects port 8002 instead
 * of the automatic choice.  Besides ASan/UBSan, the target checks the
 * invariants the callers rely on: the ranges tile the stream from offset 0
 * without overlap, every byte of a range is readable, passes are in
 * stream order and do not overlap, and the per-pass retransmission counts
 * never exceed the total.  Any violation traps.
 *
 * Run: make fuzz FUZZ_TARGETS=pcap (docs/fuzzing.md); seeds in
 * tests/fuzz/corpus/pcap/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "mig_err.h"
#include "pcap_flow.h"
#include "pcap_timeline.h"

static void check_dir(const struct mig_pcap_dir *d)
{
    uint64_t off = 0, sum = 0;

    for (size_t i = 0; i < d->nranges; i++) {
        const struct mig_pcap_range *r = &d->ranges[i];

        CHECK(r->off == off);
        CHECK(r->len > 0);
        for (uint32_t k = 0; k < r->len; k++)
            sum += r->data[k];
        off += r->len;
    }
    CHECK(off == d->stream_len);
    CHECK(!d->gap || d->gap_off == d->stream_len);
    CHECK(d->nretx == d->retransmits);
    CHECK(d->payload_bytes >= d->stream_len || d->gap);
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mig_pcap_src src = { .mem = data, .len = size };
    struct mig_pcap_opts po = { .max_bytes = 16U << 20 };
    struct mig_pcap_flow *f = NULL;
    struct mig_pcap_timeline tl;
    uint64_t per_pass = 0, prev_end = 0;
    char err[256];
    int rc;

    if (size && (data[size - 1] & 1))
        po.port = 8002;
    rc = mig_pcap_flow_read(&src, &po, &f, err, sizeof(err));
    if (rc) {
        CHECK(f == NULL);
        CHECK(rc == MIG_ECORRUPT || rc == MIG_ENOTSUP);
        CHECK(err[0] != '\0');
        return 0;
    }
    CHECK(f != NULL);
    check_dir(&f->dir[0]);
    check_dir(&f->dir[1]);
    rc = mig_pcap_timeline_build(f, &tl);
    CHECK(rc == 0);
    CHECK(tl.stream_bytes <= f->dir[0].stream_len);
    CHECK(tl.decode_rc == 0 || tl.decode_msg[0] != '\0');
    for (size_t i = 0; i < tl.npasses; i++) {
        const struct mig_pcap_pass *p = &tl.passes[i];

        CHECK(p->index == i + 1);
        CHECK(p->first_off >= prev_end);
        CHECK(p->end_off > p->first_off);
        CHECK(p->end_off <= tl.stream_bytes);
        CHECK(p->live || i + 1 == tl.npasses);
        prev_end = p->end_off;
        per_pass += p->retransmits;
    }
    CHECK(per_pass <= tl.retransmits);
    mig_pcap_timeline_clear(&tl);
    mig_pcap_flow_free(f);
    return 0;
}
