/* SPDX-License-Identifier: MIT */
/*
 * host_int.h - internals shared by host.c (daemon, sockets, incoming
 * migrations) and host_ctl.c (control requests, outgoing migrations).
 */
#ifndef MIG_HOST_INT_H
#define MIG_HOST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "guest.h"
#include "auth.h"
#include "heartbeat.h"
#include "host.h"
#include "transport.h"

#define MIG_HOST_MAX_CONN 256U
#define MIG_HOST_LOG_LEN  160U

enum mig_hg_state {
    MIG_HG_RUNNING,
    MIG_HG_INCOMING,            /* pages arriving; no guest yet */
    MIG_HG_MIGRATING,           /* leaving; still runs here */
    MIG_HG_PAUSED,              /* failed after GO: state undefined */
};

/* One guest of the table; fields under mig_host.lock. */
struct hguest {
    char name[MIG_HOST_NAME_MAX + 1];
    uint64_t mem;               /* bytes held against the capacity */
    unsigned vcpus;
    uint64_t seed;
    char workload[256];
    char from[MIG_HOST_NAME_MAX + 1];   /* host it came from, "" if created */
    enum mig_hg_state state;
    struct mig_guest *g;        /* owned; NULL while incoming */
    char ip[16];                /* the guest's address, "" = none */
    struct mig_hb *hb;          /* owned heartbeat responder, or NULL */
    char log[MIG_HOST_LOG_LINES][MIG_HOST_LOG_LEN];
    size_t nlog;
    struct hguest *next;
};

struct hworker {
    struct mig_host *h;
    pthread_t th;
    int fd;                     /* control client, or -1 */
    struct mig_chan *ch;        /* incoming migration, or NULL */
    atomic_bool done;
    struct hworker *next;
};

struct mig_host {
    pthread_mutex_t lock;       /* guests, conn_fd, stopping */
    char name[MIG_HOST_NAME_MAX + 1];
    char control[108];
    char guest_dev[32];         /* "" = loopback heartbeats */
    uint64_t capacity;
    int tcp_fd, ctl_fd;
    uint16_t port;
    struct mig_psk psk;         /* valid when has_psk */
    bool has_psk;
    bool no_auth;
    struct mig_allow allow;     /* empty = nobody may send us a guest */
    bool bound;                 /* control socket ours to unlink */
    bool stopping;
    int conn_fd[MIG_HOST_MAX_CONN];
    struct hguest *guests;
    struct hworker *workers;    /* run loop thread only */
};

/* A dotted-quad IPv4 address. */
bool mig__ip_valid(const char *ip);

/* Guest table; callers hold h->lock. */
struct hguest *mig__host_find(struct mig_host *h, const char *name);
uint64_t mig__host_used(const struct mig_host *h);
/* New entry at the head (state RUNNING, no guest); NULL on ENOMEM. */
struct hguest *mig__host_add(struct mig_host *h, const char *name,
                             uint64_t mem);
void mig__host_remove(struct mig_host *h, struct hguest *dead);
/* The guest runs here now: heartbeat responder, and with a guest device
 * its address added and announced.  Problems go to its log. */
void mig__host_net_up(struct mig_host *h, struct hguest *e);
void mig__host_log(struct hguest *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Register (on) or forget a connection fd shut down at exit.  Takes the
 * lock. */
void mig__host_track(struct mig_host *h, int fd, bool on);

#endif
