/* SPDX-License-Identifier: MIT */
/*
 * fuzz_receive.c - libFuzzer target for the receiving side of a migration,
 * mig_receive() (ref/receiver.c), the path a host daemon runs on every
 * incoming connection: the stream decoder, the xl config JSON read at the
 * save header (name, memory, vCPUs, the miglab flags) and admission, guest
 * creation from GUEST_INFO, page writes, the emulated guest's state records
 * (workload spec, generator state) and the unpause handshake.
 *
 * The input is what the sender would send, read through a pipe (so at
 * most 64 KiB, the pipe's size, written before the call); what the
 * receiver sends goes to /dev/null.  Guests are capped at 16 MiB by the
 * admission callback and by the emulated backend's memory cap, and the
 * decoder at 4096 pfns.  Invariants checked: a receive that succeeds
 * returns a guest and no message; one that fails returns a negative code,
 * no guest and a message saying why; the admission callback always sees a
 * name and a config.  The golden streams (tests/data/streams/) are seeds.
 *
 * Run: make fuzz FUZZ_TARGETS=receive (docs/fuzzing.md).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest_emu.h"
#include "receiver.h"
#include "transport.h"

#define GUEST_CAP (16ULL << 20)
#define PIPE_BYTES 65536

static int admit(void *opaque, const struct mig_admit_req *req, char *err,
                 size_t errlen)
{
    (void)opaque;
    CHECK(req->name && req->config);
    if (req->mem_bytes > GUEST_CAP) {
        snprintf(err, errlen, "fuzz host refuses %s: too large", req->name);
        return MIG_ERANGE;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -1;
    static uint64_t cap = GUEST_CAP;
    struct mig_recv_opts o = { .create = mig_guest_emu_create,
                               .create_opaque = &cap, .admit = admit,
                               .max_pages = 4096 };
    struct mig_recv_info info;
    struct mig_guest *g = NULL;
    struct mig_chan *ch;
    int p[2], rc;

    if (size > PIPE_BYTES)
        return 0;
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    CHECK(devnull >= 0);
    CHECK(pipe(p) == 0);
    CHECK(size == 0 || write(p[1], data, size) == (ssize_t)size);
    close(p[1]);
    ch = mig_chan_fd_new(p[0], devnull, 0);
    CHECK(ch != NULL);
    memset(&info, 0, sizeof(info));
    rc = mig_receive(ch, &o, &g, &info);
    if (rc == 0) {
        CHECK(g != NULL && info.msg[0] == '\0');
        mig_guest_free(g);
    } else {
        CHECK(rc < 0 && g == NULL && info.msg[0] != '\0');
    }
    mig_chan_free(ch);
    close(p[0]);
    return 0;
}
