/* SPDX-License-Identifier: MIT */
/*
 * host.h - the host daemon behind `miglab host`: a table of emulated guests
 * (ref/guest_emu.h), incoming migrations on a TCP listen address
 * (ref/receiver.h) from allowed peers that prove a pre-shared key
 * (ref/auth.h), and a local control socket for the CLI.
 *
 * Concurrency: one thread runs mig_host_run(), a poll() loop over the stop
 * fd, the TCP listener and the control listener.  Every accepted connection
 * (a control client or an incoming migration) gets its own worker thread;
 * an outgoing migration runs in the worker of the control client that asked
 * for it, streaming progress lines back to it.  The guest table is guarded
 * by one mutex, never held across network I/O.  Shutdown (stop fd readable,
 * then mig_host_free()) shuts every open connection down, joins the
 * workers, destroys the guests and removes the control socket.
 *
 * Control protocol (one JSON object per line each way, json-c) and the
 * miglab stream extensions (admission line, downtime note):
 * docs/host-protocol.md, which is normative.
 */
#ifndef MIG_HOST_H
#define MIG_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "mig_err.h"

#define MIG_HOST_CONTROL_DEFAULT "/run/miglab/host.sock"
#define MIG_HOST_LINE_MAX        65536U     /* request line, '\n' included */
#define MIG_HOST_NAME_MAX        63U        /* guest and host names */
#define MIG_HOST_LOG_LINES       64U        /* console lines kept per guest */
#define MIG_HOST_AUTH_TIMEOUT_MS 10000      /* allow-list + auth exchange */

struct mig_host_cfg {
    const char *listen_host;    /* NULL = any */
    uint16_t listen_port;       /* 0 = ephemeral (mig_host_port()) */
    uint64_t mem_capacity;      /* bytes guests may hold, > 0 */
    const char *control_path;   /* NULL = MIG_HOST_CONTROL_DEFAULT */
    const char *name;           /* NULL = "host" */
    const char *guest_dev;      /* interface guests' addresses live on;
                                   NULL = heartbeats on 127.0.0.1 */
    /*
     * Who may push a guest in (docs/host-protocol.md, "Authentication").
     * Safe by default: an incoming peer must match allow (NULL or empty =
     * nobody), then prove psk (mig_auth_receiver) before xl's banner; with
     * neither psk nor no_auth every incoming migration is refused.  no_auth
     * accepts senders that do not authenticate (a real xl).  Outgoing
     * migrations authenticate with psk when set.  psk with no_auth is
     * MIG_EINVAL.  Both are copied by mig_host_new().
     */
    const struct mig_psk *psk;  /* NULL = no key */
    const struct mig_allow *allow;
    bool no_auth;
};

struct mig_host;

/*
 * Bind the TCP listener and the control socket (parent directory created
 * 0700 when missing, socket 0600; a stale socket nobody answers on is
 * replaced, a live one is an error).  On success *out is owned by the
 * caller (mig_host_free()).  MIG_EINVAL (bad cfg), -errno, MIG_ENOMEM; a
 * line in err.
 */
int mig_host_new(const struct mig_host_cfg *cfg, struct mig_host **out,
                 char *err, size_t errlen);

/* One line for the daemon's startup: how incoming migrations are
 * protected (allow-list, key, or all refused).  Returns buf. */
const char *mig_host_auth_note(const struct mig_host *h, char *buf,
                               size_t len);

/* The TCP port actually bound. */
uint16_t mig_host_port(const struct mig_host *h);

/*
 * Serve until stop_fd becomes readable (a signal handler's pipe).  Returns 0,
 * or -errno when poll fails.
 */
int mig_host_run(struct mig_host *h, int stop_fd);

/* Shut down: close connections, join workers, destroy guests, remove the
 * control socket.  NULL is a no-op. */
void mig_host_free(struct mig_host *h);

/* Reply sink: one line without '\n'.  Returns 0 or -errno (client gone). */
typedef int mig_host_emit_fn(void *opaque, const char *line);

/*
 * Handle one request line (without its '\n'): zero or more progress
 * lines, then exactly one reply line with "ok", all through emit.  Bad
 * lines get {"ok": false, "kind": "input", ...}.  Returns what the last
 * emit returned.
 */
int mig_host_request(struct mig_host *h, const char *line,
                     mig_host_emit_fn *emit, void *opaque);

/*
 * Admission arithmetic: 0 when need bytes fit in capacity - used, else
 * MIG_ERANGE with "host H refuses guest G: needs X, Y free" in err.
 */
int mig_host_admit_check(uint64_t capacity, uint64_t used, uint64_t need,
                         const char *host, const char *guest, char *err,
                         size_t errlen);

/* "1.00 GiB", "512.00 MiB", "4.00 KiB", "100 B" into buf; returns buf. */
char *mig_host_format_size(char *buf, size_t len, uint64_t bytes);

struct sim_scenario;

/*
 * Apply one policy flag of `miglab predict` (a [migration] key but mode,
 * e.g. "policy", "max-passes") to sc.  MIG_ENOTSUP for any other flag,
 * else what sim_scenario_set_flag() returns; a line in err.
 */
int mig_host_policy_set(struct sim_scenario *sc, const char *flag,
                        const char *value, char *err, size_t errlen);

/* Guest and host names: 1..MIG_HOST_NAME_MAX of [A-Za-z0-9_.-]. */
int mig_host_name_valid(const char *name);

#endif
