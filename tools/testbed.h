/* SPDX-License-Identifier: MIT */
/*
 * testbed.h - internals shared by the `miglab testbed` files: the testbed's
 * configuration, its state directory, child processes, and the two link
 * emulators.  Topology, addresses and accuracy: docs/testbed.md.
 *
 *   testbed_proc.c    fork/exec of ip, tc, nft, iperf3; state files
 *   testbed_net.c     namespaces, bridge, migration link, emulators, clean
 *   testbed_measure.c ping / UDP burst / iperf3 against the settings
 *   linkemu.c         the TUN relay (delay, jitter) of the miglab emulator
 *   cmd_testbed.c     the command line
 *
 * Direction 0 is h1 -> h2, direction 1 is h2 -> h1.  Every setting applies
 * at the receiver of its direction (facts: shaping and dropping at the
 * sender's own egress is seen by TCP as local congestion, not as a link).
 */
#ifndef MIGLAB_TESTBED_H
#define MIGLAB_TESTBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TB_ID_MAX 12                    /* characters in a run id */
#define TB_NS_PREFIX "mlab-"            /* every namespace we create */
#define TB_STATE_ROOT "/run/miglab/testbed"
#define TB_NETNS_DIR "/run/netns"
#define TB_MIG_DEV "mig0"               /* the impaired h1 <-> h2 link */
#define TB_LAN_DEV "lan0"               /* host side of the client bridge */
#define TB_IFB_DEV "ifb0"               /* receiver-side shaping */
#define TB_MIG_H1 "10.77.1.1"
#define TB_MIG_H2 "10.77.1.2"
#define TB_MIG_NET "10.77.1.0/24"       /* h1 <-> h2: who may migrate */
#define TB_LAN_H1 "10.77.0.1"
#define TB_LAN_H2 "10.77.0.2"
#define TB_LAN_CL "10.77.0.3"
#define TB_MTU 1500u
#define TB_TXQUEUE_MIN 64               /* packets: mig0's txqueuelen is the
                                           direction's queue, at least this */

enum tb_host { TB_H1, TB_H2, TB_CL, TB_NHOSTS };

enum tb_emulator {
    TB_EMU_AUTO,
    TB_EMU_NETEM,       /* iproute2 netem on an IFB at the receiver */
    TB_EMU_MIGLAB,      /* TUN relay + tbf on IFB + nft/iptables drops */
};

enum tb_jitter_dist { TB_JITTER_UNIFORM, TB_JITTER_NORMAL };

/* One direction of the migration link.  0 = no impairment of that kind. */
struct tb_dir {
    double rate_bps;    /* line rate, bits/s */
    double delay_s;     /* one-way delay */
    double jitter_s;    /* uniform: +-jitter; normal: standard deviation */
    double loss;        /* probability a packet is dropped, [0, 1) */
    double queue_bytes; /* bottleneck queue; 0 = sim_queue_default_bytes
                           of the rate and 2 x delay (set by testbed_up) */
};

struct tb_config {
    char id[TB_ID_MAX + 1];
    enum tb_emulator emulator;          /* never AUTO once the bed is up */
    enum tb_jitter_dist jitter_dist;
    struct tb_dir dir[2];
    char emulator_name[64];             /* "netem", "miglab-tun-relay+..." */
};

/* ---- testbed_proc.c ---- */

/* Namespace name of a host: "mlab-ID-h1".  buf needs 32 bytes. */
char *testbed_ns_name(char *buf, size_t len, const char *id, enum tb_host h);
const char *testbed_host_name(enum tb_host h);
int testbed_host_parse(const char *s, enum tb_host *out);
/* 0 when id is 1..TB_ID_MAX characters of [a-z0-9]. */
int testbed_id_check(const char *id);

/*
 * Run argv (argv[0] looked up in PATH) and wait for it.  Returns its exit
 * status, 128 + signal, or -errno when it could not start.  With quiet, its
 * stderr goes to /dev/null; out (may be NULL) receives up to outlen - 1
 * bytes of its stdout, NUL-terminated; otherwise stdout is inherited.
 */
int testbed_run(char *const argv[], bool quiet, char *out, size_t outlen);
/* Like testbed_run but NULL-terminated varargs: testbed_cmd(q, "ip", ...) */
int testbed_cmd(bool quiet, const char *arg0, ...)
    __attribute__((sentinel));
/* Start argv in the background; its pid, or -errno.  stdout/stderr go to
 * log (a path, created) or /dev/null when log is NULL. */
pid_t testbed_spawn(char *const argv[], const char *log);
/* Wait up to timeout_s for pid; SIGTERM, then SIGKILL after 1 s. 0 when it
 * exited by itself within the timeout. */
int testbed_reap(pid_t pid, double timeout_s);
/* Write value to /proc/sys/KEY (dots -> slashes) inside namespace ns. */
int testbed_ns_sysctl(const char *ns, const char *key, const char *value);

/* State directory TB_STATE_ROOT/ID and files in it. */
char *testbed_state_path(char *buf, size_t len, const char *id,
                         const char *file);
int testbed_state_write_config(const struct tb_config *c);
int testbed_state_read_config(const char *id, struct tb_config *c);
/* A pid recorded in TB_STATE_ROOT/ID/NAME.pid, or 0. */
pid_t testbed_state_read_pid(const char *id, const char *name);
int testbed_state_write_pid(const char *id, const char *name, pid_t pid);
/* True when pid is alive and its command line is our relay's for run id
 * (any run when id is NULL). */
bool testbed_pid_is_ours(pid_t pid, const char *id);

double testbed_now(void);           /* CLOCK_MONOTONIC seconds */
const char *testbed_emulator_name(enum tb_emulator e);

/* ---- testbed_net.c ---- */

/* Bring the testbed up (namespaces, bridge, link, emulator).  On failure
 * everything created is removed again; err gets one line. */
int testbed_up(struct tb_config *c, char *err, size_t errlen);
/* Remove one testbed: its processes, namespaces, state.  0 if it existed. */
int testbed_down(const char *id);
/* Remove every mlab-* namespace, relay and state directory; count them. */
int testbed_clean(unsigned *removed);
/* True when the kernel accepts a netem qdisc (scratch namespace probe). */
bool testbed_have_netem(void);
/* "nft", "iptables" or NULL. */
const char *testbed_drop_tool(void);
/* Goodput of a full-rate bulk TCP stream on the migration link of emulator
 * e, as a fraction of the line rate (MSS over what the shaper counts). */
double testbed_payload_ratio(enum tb_emulator e);

/* ---- testbed_measure.c ---- */

struct tb_measure_opts {
    bool rtt, loss, goodput;
    const char *cc;             /* congestion control for iperf3 */
    double time_s;              /* iperf3 TCP seconds (after 1 s omitted) */
    unsigned pings;
    double udp_s;               /* UDP burst seconds per direction */
    bool json;
};

int testbed_measure(const struct tb_config *c,
                    const struct tb_measure_opts *o);

/* ---- linkemu.c ---- */

/*
 * The relay: create TUN device TB_MIG_DEV in ns_a and ns_b, write "ok\n"
 * (or one error line) to ready_fd, then forward packets both ways with the
 * delay and jitter of c->dir[] until SIGTERM/SIGINT.  Statistics are
 * rewritten every second to stats_path.  Returns 0 or -errno.
 */
int linkemu_run(const struct tb_config *c, const char *ns_a,
                const char *ns_b, int ready_fd, const char *stats_path);

#endif
