/* SPDX-License-Identifier: MIT */
/*
 * fault.c - fault specs and their firing (fault.h).  The actions act on
 * the real process and the real socket, so what the peer sees is what a
 * crash, a cut cable, a stalled host or a broken middlebox would show it.
 */
#include "fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const action_name[] = {
    [MIG_FAULT_CRASH] = "crash", [MIG_FAULT_CUT] = "cut",
    [MIG_FAULT_STALL] = "stall", [MIG_FAULT_CORRUPT] = "corrupt",
    [MIG_FAULT_TRUNCATE] = "truncate",
};

int mig_fault_parse(const char *spec, struct mig_fault *out, char *err,
                    size_t errlen)
{
    char buf[64], *tok[4], *save = NULL;
    unsigned ntok = 0, i;
    int phase = -1, action = -1;
    char *end;

    memset(out, 0, sizeof(*out));
    atomic_init(&out->fired, false);
    out->n = 1;
    if (!spec || strlen(spec) >= sizeof(buf))
        goto bad;
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *t = strtok_r(buf, ":", &save); t;
         t = strtok_r(NULL, ":", &save)) {
        if (ntok == 4)
            goto bad;
        tok[ntok++] = t;
    }
    if (ntok < 3)
        goto bad;
    if (!strcmp(tok[0], "send"))
        out->side = MIG_FAULT_SEND;
    else if (!strcmp(tok[0], "recv"))
        out->side = MIG_FAULT_RECV;
    else
        goto bad;
    for (i = 0; i < MIG_PHASE_COUNT; i++)
        if (!strcmp(tok[1], mig_phase_name((enum mig_phase)i)))
            phase = (int)i;
    for (i = 0; i < sizeof(action_name) / sizeof(action_name[0]); i++)
        if (!strcmp(tok[ntok - 1], action_name[i]))
            action = (int)i;
    if (phase < 0 || action < 0)
        goto bad;
    out->phase = (enum mig_phase)phase;
    out->action = (enum mig_fault_action)action;
    if (ntok == 4) {
        unsigned long n = strtoul(tok[2], &end, 10);

        if (phase != MIG_PHASE_PASS || *end || tok[2][0] == '-' || n < 1 ||
            n > 1000000)
            goto bad;
        out->n = (unsigned)n;
    }
    /* A receiver sees no pass boundaries: only its first page batch. */
    if (out->side == MIG_FAULT_RECV && out->n != 1)
        goto bad;
    return 0;

bad:
    if (err && errlen)
        snprintf(err, errlen, "bad fault spec '%.40s': expected "
                 "send|recv:handshake|pass[:N]|stopcopy|state|ready|go|"
                 "report:crash|cut|stall|corrupt|truncate",
                 spec ? spec : "");
    return MIG_EINVAL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts))
        ;
}

int mig_fault_fire(struct mig_fault *f, enum mig_fault_side side,
                   enum mig_phase phase, unsigned n, struct mig_chan *ch)
{
    if (!f || f->side != side || f->phase != phase ||
        (phase == MIG_PHASE_PASS && f->n != n) ||
        atomic_exchange(&f->fired, true))
        return 0;
    fprintf(stderr, "miglab: fault %s:%s:%s fires\n",
            side == MIG_FAULT_SEND ? "send" : "recv", mig_phase_name(phase),
            action_name[f->action]);
    switch (f->action) {
    case MIG_FAULT_CRASH:
        /* A real crash: no handler, no flush, no cleanup. */
        kill(getpid(), SIGKILL);
        for (;;)
            pause();
    case MIG_FAULT_CUT:
        shutdown(ch->rfd, SHUT_RDWR);
        if (ch->wfd != ch->rfd)
            shutdown(ch->wfd, SHUT_RDWR);
        break;
    case MIG_FAULT_STALL:
        sleep_ms(f->stall_ms);
        break;
    case MIG_FAULT_CORRUPT:
        mig_chan_inject(ch, MIG_INJECT_CORRUPT);
        break;
    case MIG_FAULT_TRUNCATE:
        mig_chan_inject(ch, MIG_INJECT_TRUNCATE);
        break;
    }
    return 0;
}
