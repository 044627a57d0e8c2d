/* SPDX-License-Identifier: MIT */
/*
 * testbed_net.c - builds and removes the testbed: three network namespaces
 * (h1, h2 and the heartbeat client cl, which holds the bridge both hosts
 * hang on), the migration link h1 <-> h2, and the emulator that impairs it
 * per direction:
 *
 *   netem   a veth pair; at each receiver's ingress an IFB carries a netem
 *           qdisc with delay, jitter, loss and rate;
 *   miglab  a TUN device in each host joined by our relay (linkemu.c) for
 *           delay and jitter; at each receiver's ingress tbf on an IFB for
 *           the rate and an nftables (or iptables) random drop for loss.
 *
 * Everything lives inside namespaces named mlab-ID-*; nothing is created in
 * the caller's namespace, so deleting the namespaces and the relay removes
 * it all.  Topology and the reasons for each choice: docs/testbed.md.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"
#include "testbed.h"

#define Q true              /* quiet: the caller reports the failure */

static bool ns_exists(const char *ns)
{
    char path[256];

    snprintf(path, sizeof(path), TB_NETNS_DIR "/%s", ns);
    return access(path, F_OK) == 0;
}

static bool tool_exists(const char *name)
{
    static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
                                        "/bin", "/usr/local/sbin",
                                        "/usr/local/bin" };
    char path[256];

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
        if (access(path, X_OK) == 0)
            return true;
    }
    return false;
}

const char *testbed_drop_tool(void)
{
    if (tool_exists("nft"))
        return "nft";
    if (tool_exists("iptables"))
        return "iptables";
    return NULL;
}

double testbed_payload_ratio(enum tb_emulator e)
{
    /* tbf/netem on an IFB behind a veth count the Ethernet header; behind
     * a TUN device there is none (facts: 0.956 vs 0.965 at MTU 1500). */
    double mss = TB_MTU - 52.0;

    return e == TB_EMU_MIGLAB ? mss / TB_MTU : mss / (TB_MTU + 14.0);
}

bool testbed_have_netem(void)
{
    char ns[64];
    bool ok;

    snprintf(ns, sizeof(ns), TB_NS_PREFIX "probe%ld", (long)getpid());
    if (testbed_cmd(Q, "ip", "netns", "add", ns, (char *)NULL))
        return false;
    ok = testbed_cmd(Q, "ip", "-n", ns, "link", "add", "p0", "type", "veth",
                     "peer", "name", "p1", (char *)NULL) == 0 &&
         testbed_cmd(Q, "ip", "-n", ns, "link", "set", "p0", "up",
                     (char *)NULL) == 0 &&
         testbed_cmd(Q, "tc", "-n", ns, "qdisc", "add", "dev", "p0", "root",
                     "netem", "delay", "1ms", (char *)NULL) == 0;
    testbed_cmd(Q, "ip", "netns", "del", ns, (char *)NULL);
    return ok;
}

/* Kill every process inside namespace ns (all of them are ours: nobody
 * else has a reason to be in mlab-ID-*), then delete it. */
static void ns_remove(const char *ns)
{
    char out[4096];
    char *argv[] = { "ip", "netns", "pids", (char *)ns, NULL };

    for (int sig = 0; sig < 2; sig++) {
        if (testbed_run(argv, Q, out, sizeof(out)) != 0)
            break;
        for (char *p = strtok(out, " \n"); p; p = strtok(NULL, " \n")) {
            long pid = strtol(p, NULL, 10);

            if (pid > 1)
                kill((pid_t)pid, sig ? SIGKILL : SIGTERM);
        }
        if (sig == 0)
            usleep(100000);
    }
    testbed_cmd(Q, "ip", "netns", "del", ns, (char *)NULL);
}

static bool pid_alive(pid_t pid)
{
    char path[64], buf[256];
    FILE *f;
    bool alive = false;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    if (fgets(buf, sizeof(buf), f)) {
        char *rp = strrchr(buf, ')');

        /* A zombie has exited; its parent just has not reaped it yet. */
        alive = rp && rp[1] == ' ' && rp[2] != 'Z';
    }
    fclose(f);
    return alive;
}

static void stop_pid(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 100 && pid_alive(pid); i++)
        usleep(10000);
    if (pid_alive(pid))
        kill(pid, SIGKILL);
}

static void state_remove(const char *id)
{
    char path[256];
    DIR *d;
    struct dirent *e;

    testbed_state_path(path, sizeof(path), id, NULL);
    d = opendir(path);
    if (!d)
        return;
    while ((e = readdir(d))) {
        char f[512];

        if (e->d_name[0] == '.')
            continue;
        snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
        unlink(f);
    }
    closedir(d);
    rmdir(path);
}

int testbed_down(const char *id)
{
    char dir[256], ns[64];
    pid_t pid = testbed_state_read_pid(id, "relay");
    bool found = false;
    struct stat st;

    if (stat(testbed_state_path(dir, sizeof(dir), id, NULL), &st) == 0)
        found = true;
    if (pid > 0 && testbed_pid_is_ours(pid, id))
        stop_pid(pid);
    for (int h = 0; h < TB_NHOSTS; h++) {
        testbed_ns_name(ns, sizeof(ns), id, (enum tb_host)h);
        if (ns_exists(ns)) {
            found = true;
            ns_remove(ns);
        }
    }
    state_remove(id);
    return found ? 0 : -ENOENT;
}

int testbed_clean(unsigned *removed)
{
    DIR *d;
    struct dirent *e;

    *removed = 0;
    /* Relays first (they hold TUN devices in the namespaces), found by
     * their command line so that one whose pid file never got written is
     * found too. */
    d = opendir("/proc");
    if (d) {
        while ((e = readdir(d))) {
            long pid = strtol(e->d_name, NULL, 10);

            if (pid > 1 && pid != getpid() &&
                testbed_pid_is_ours((pid_t)pid, NULL)) {
                stop_pid((pid_t)pid);
                (*removed)++;
            }
        }
        closedir(d);
    }
    d = opendir(TB_STATE_ROOT);
    if (d) {
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            if (testbed_down(e->d_name) == 0)
                (*removed)++;
        }
        closedir(d);
    }
    d = opendir(TB_NETNS_DIR);
    if (d) {
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, TB_NS_PREFIX, strlen(TB_NS_PREFIX)))
                continue;
            ns_remove(e->d_name);
            (*removed)++;
        }
        closedir(d);
    }
    return 0;
}

static int mkdir_p(const char *path)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0700) < 0)
        return -errno;
    return 0;
}

/* v with prec decimals and a unit suffix: tc takes "100000000bit". */
static char *num(char *buf, size_t len, double v, int prec,
                 const char *suffix)
{
    snprintf(buf, len, "%.*f%s", prec, v, suffix);
    return buf;
}

struct step_err {
    char *err;
    size_t len;
};

/* Run one set-up command; on failure describe it in e and return -EIO. */
static int step(struct step_err *e, const char *const argv[])
{
    char line[256] = "";
    size_t n = 0;
    /* execvp's argv is not const for historical reasons only. */
    int rc = testbed_run((char *const *)argv, Q, NULL, 0);

    if (rc == 0)
        return 0;
    for (int i = 0; argv[i] && n + 1 < sizeof(line); i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
                              i ? " " : "", argv[i]);
    if (rc < 0)
        snprintf(e->err, e->len, "cannot run '%s': %s", argv[0],
                 strerror(-rc));
    else
        snprintf(e->err, e->len, "'%s' failed (exit %d)", line, rc);
    return -EIO;
}

/* step() with a NULL-terminated argument list. */
static int stepv(struct step_err *e, const char *arg0, ...)
    __attribute__((sentinel));

static int stepv(struct step_err *e, const char *arg0, ...)
{
    const char *argv[64];
    va_list ap;
    int n = 0;

    argv[n++] = arg0;
    va_start(ap, arg0);
    while (n < 63 && (argv[n] = va_arg(ap, const char *)))
        n++;
    va_end(ap);
    argv[n] = NULL;
    return step(e, argv);
}

/* Bridge in cl with cl's address on it; one veth from it to each host. */
static int build_lan(const struct tb_config *c, struct step_err *e)
{
    static const char *const lan_addr[2] = { TB_LAN_H1 "/24",
                                             TB_LAN_H2 "/24" };
    char cl[64], hn[64], port[16];
    int rc;

    testbed_ns_name(cl, sizeof(cl), c->id, TB_CL);
    rc = stepv(e, "ip", "-n", cl, "link", "add", "br0", "type", "bridge",
               (char *)NULL);
    if (rc)
        return rc;
    rc = stepv(e, "ip", "-n", cl, "addr", "add", TB_LAN_CL "/24", "dev", "br0",
               (char *)NULL);
    if (rc)
        return rc;
    rc = stepv(e, "ip", "-n", cl, "link", "set", "br0", "up", (char *)NULL);
    if (rc)
        return rc;
    for (int h = 0; h < 2; h++) {
        testbed_ns_name(hn, sizeof(hn), c->id, (enum tb_host)h);
        snprintf(port, sizeof(port), "to-%s", testbed_host_name(h));
        rc = stepv(e, "ip", "-n", cl, "link", "add", port, "type", "veth",
                   "peer", "name", TB_LAN_DEV, "netns", hn, (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "-n", cl, "link", "set", port, "master", "br0",
                   "up", (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "-n", hn, "addr", "add", lan_addr[h],
                   "dev", TB_LAN_DEV, (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "-n", hn, "link", "set", TB_LAN_DEV, "up",
                   (char *)NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* Start the relay (which creates both TUN devices) and wait for it. */
static int start_relay(const struct tb_config *c, struct step_err *e)
{
    char self[256], fdarg[16], log[256], buf[256] = "";
    char *argv[] = { self, "testbed", "relay", "--id", (char *)c->id,
                     "--ready-fd", fdarg, NULL };
    int pfd[2];
    ssize_t n = 0, r;
    pid_t pid;

    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(e->err, e->len, "cannot find our own binary: %s",
                 strerror(errno));
        return -EIO;
    }
    self[n] = '\0';
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    /* The write end must survive exec into the relay. */
    fcntl(pfd[1], F_SETFD, 0);
    snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
    pid = testbed_spawn(argv, testbed_state_path(log, sizeof(log), c->id,
                                                 "relay.log"));
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        snprintf(e->err, e->len, "cannot start the relay: %s",
                 strerror((int)-pid));
        return -EIO;
    }
    testbed_state_write_pid(c->id, "relay", pid);
    n = 0;
    while (n + 1 < (ssize_t)sizeof(buf) &&
           (r = read(pfd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += r;
    }
    close(pfd[0]);
    buf[n > 0 ? n : 0] = '\0';
    if (strcmp(buf, "ok\n") != 0) {
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(e->err, e->len, "relay failed: %s",
                 buf[0] ? buf : "exited before it was ready");
        return -EIO;
    }
    return 0;
}

static int build_mig_link(const struct tb_config *c, struct step_err *e)
{
    static const char *const mig_addr[2] = { TB_MIG_H1 "/24",
                                             TB_MIG_H2 "/24" };
    char ns[2][64], mtu[16], txq[32];
    int rc;

    for (int h = 0; h < 2; h++)
        testbed_ns_name(ns[h], sizeof(ns[h]), c->id, (enum tb_host)h);
    if (c->emulator == TB_EMU_NETEM) {
        rc = stepv(e, "ip", "-n", ns[0], "link", "add", TB_MIG_DEV, "type",
                   "veth", "peer", "name", TB_MIG_DEV, "netns", ns[1],
                   (char *)NULL);
        if (rc)
            return rc;
    } else {
        rc = start_relay(c, e);
        if (rc)
            return rc;
    }
    snprintf(mtu, sizeof(mtu), "%u", TB_MTU);
    for (int h = 0; h < 2; h++) {
        /* Disable IPv6 so router solicitations stay off the counted link. */
        char key[64];

        snprintf(key, sizeof(key), "net.ipv6.conf.%s.disable_ipv6",
                 TB_MIG_DEV);
        testbed_ns_sysctl(ns[h], key, "1");
        /* The sender's TUN ring is a second bottleneck buffer whenever the
         * relay falls behind (TUN orphans its packets, so TCP Small Queues
         * does not hold the sender back): at most the queue as well. */
        double pkts = ceil(c->dir[h].queue_bytes / TB_MTU);

        rc = stepv(e, "ip", "-n", ns[h], "link", "set", TB_MIG_DEV, "mtu", mtu,
                   "txqueuelen", num(txq, sizeof(txq),
                                     pkts < TB_TXQUEUE_MIN ? TB_TXQUEUE_MIN
                                                           : pkts, 0, ""),
                   "up", (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "-n", ns[h], "addr", "add", mig_addr[h],
                   "dev", TB_MIG_DEV, (char *)NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* Redirect everything arriving on mig0 in ns to ifb0 there. */
static int build_ifb(const char *ns, struct step_err *e)
{
    int rc;

    rc = stepv(e, "ip", "-n", ns, "link", "add", TB_IFB_DEV, "type", "ifb",
               (char *)NULL);
    if (rc)
        return rc;
    rc = stepv(e, "ip", "-n", ns, "link", "set", TB_IFB_DEV, "up",
               (char *)NULL);
    if (rc)
        return rc;
    rc = stepv(e, "tc", "-n", ns, "qdisc", "add", "dev", TB_MIG_DEV, "handle",
               "ffff:", "ingress", (char *)NULL);
    if (rc)
        return rc;
    rc = stepv(e, "tc", "-n", ns, "filter", "add", "dev", TB_MIG_DEV, "parent",
               "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
               "action", "mirred", "egress", "redirect", "dev", TB_IFB_DEV,
               (char *)NULL);
    if (rc)
        return rc;
    return 0;
}

static int shape_netem(const struct tb_config *c, int d, const char *ns,
                       struct step_err *e)
{
    const struct tb_dir *p = &c->dir[d];
    const char *argv[32];
    double pkts;
    char delay[32], jit[32], loss[32], rate[32], limit[32];
    int n = 0, rc;

    rc = build_ifb(ns, e);
    if (rc)
        return rc;
    argv[n++] = "tc";
    argv[n++] = "-n";
    argv[n++] = ns;
    argv[n++] = "qdisc";
    argv[n++] = "add";
    argv[n++] = "dev";
    argv[n++] = TB_IFB_DEV;
    argv[n++] = "root";
    argv[n++] = "netem";
    argv[n++] = "delay";
    argv[n++] = num(delay, sizeof(delay), p->delay_s * 1e6, 0, "us");
    if (p->jitter_s > 0) {
        argv[n++] = num(jit, sizeof(jit), p->jitter_s * 1e6, 0, "us");
        if (c->jitter_dist == TB_JITTER_NORMAL) {
            argv[n++] = "distribution";
            argv[n++] = "normal";
        }
    }
    if (p->loss > 0) {
        argv[n++] = "loss";
        argv[n++] = num(loss, sizeof(loss), p->loss * 100, 4, "%");
    }
    if (p->rate_bps > 0) {
        /* With a rate netem times each packet after the previous one, so
         * jitter cannot reorder (as in our relay). */
        argv[n++] = "rate";
        argv[n++] = num(rate, sizeof(rate), p->rate_bps, 0, "bit");
    }
    /* netem's limit (packets) covers the delayed packets as well as the
     * rate queue: the queue plus the delay at the rate (10 Gbit/s when
     * unlimited), in full-size packets (bulk TCP; GSO is off when it
     * matters, with loss), never below 64 packets. */
    pkts = (p->queue_bytes + (p->rate_bps > 0 ? p->rate_bps : 10e9) / 8 *
                                 (p->delay_s + 4 * p->jitter_s)) / TB_MTU;
    argv[n++] = "limit";
    argv[n++] = num(limit, sizeof(limit), pkts < 64 ? 64 : ceil(pkts), 0, "");
    argv[n] = NULL;
    return step(e, argv);
}

static int shape_miglab(const struct tb_config *c, int d, const char *ns,
                        const char *drop, struct step_err *e)
{
    const struct tb_dir *p = &c->dir[d];
    char rate[32], burst[32], limit[32], prob[32], chain[128], nmax[32];
    double b;
    int rc;

    if (p->rate_bps > 0) {
        rc = build_ifb(ns, e);
        if (rc)
            return rc;
        /* Two timer ticks of data at HZ=250 (8 ms), at least 32 KiB:
         * facts give 1 MB at 1 Gbit for the full rate. */
        b = p->rate_bps / 8 * 0.008;
        if (b < 32768)
            b = 32768;
        rc = stepv(e, "tc", "-n", ns, "qdisc", "add", "dev", TB_IFB_DEV,
                   "root", "tbf", "rate",
                   num(rate, sizeof(rate), p->rate_bps, 0, "bit"), "burst",
                   num(burst, sizeof(burst), b, 0, ""), "limit",
                   num(limit, sizeof(limit), p->queue_bytes + b, 0, ""),
                   (char *)NULL);
        if (rc)
            return rc;
    }
    if (p->loss <= 0)
        return 0;
    /* IPv4 prerouting, not netdev ingress: a packet that comes back from
     * the IFB skips the netdev ingress hook (the kernel jumps past it for
     * redirected packets), so drops there would never happen with a rate
     * set.  Prerouting is still the receiver, after the bottleneck. */
    if (!strcmp(drop, "nft")) {
        snprintf(chain, sizeof(chain),
                 "{ type filter hook prerouting priority -300 ; }");
        rc = stepv(e, "ip", "netns", "exec", ns, "nft", "add", "table", "ip",
                   "miglab", (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "netns", "exec", ns, "nft", "add", "chain", "ip",
                   "miglab", "loss", chain, (char *)NULL);
        if (rc)
            return rc;
        rc = stepv(e, "ip", "netns", "exec", ns, "nft", "add", "rule", "ip",
                   "miglab", "loss", "iifname", TB_MIG_DEV, "numgen", "random",
                   "mod", "1000000", "lt",
                   num(nmax, sizeof(nmax), p->loss * 1e6, 0, ""), "drop",
                   (char *)NULL);
        if (rc)
            return rc;
    } else {
        rc = stepv(e, "ip", "netns", "exec", ns, "iptables", "-t", "raw", "-A",
                   "PREROUTING", "-i", TB_MIG_DEV, "-m", "statistic", "--mode",
                   "random", "--probability",
                   num(prob, sizeof(prob), p->loss, 6, ""), "-j", "DROP",
                   (char *)NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_emulator(struct tb_config *c, struct step_err *e)
{
    const char *drop = testbed_drop_tool();
    char ns[2][64];
    bool lossy = c->dir[0].loss > 0 || c->dir[1].loss > 0;
    int rc;

    for (int h = 0; h < 2; h++)
        testbed_ns_name(ns[h], sizeof(ns[h]), c->id, (enum tb_host)h);
    for (int d = 0; d < 2; d++) {
        const struct tb_dir *p = &c->dir[d];
        const char *rx = ns[1 - d];     /* the receiver of direction d */

        if (c->emulator == TB_EMU_NETEM) {
            if (p->rate_bps > 0 || p->delay_s > 0 || p->jitter_s > 0 ||
                p->loss > 0) {
                rc = shape_netem(c, d, rx, e);
                if (rc)
                    return rc;
            }
            continue;
        }
        rc = shape_miglab(c, d, rx, drop, e);
        if (rc)
            return rc;
    }
    /* A veth passes 64 KB GSO packets unsplit: one drop would remove ~23
     * segments.  TUN without IFF_VNET_HDR never sees them. */
    if (c->emulator == TB_EMU_NETEM && lossy) {
        for (int h = 0; h < 2; h++) {
            rc = stepv(e, "ip", "netns", "exec", ns[h], "ethtool", "-K",
                       TB_MIG_DEV, "tso", "off", "gso", "off", "gro", "off",
                       (char *)NULL);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int testbed_up(struct tb_config *c, char *err, size_t errlen)
{
    struct step_err e = { err, errlen };
    char dir[256], ns[64];
    const char *drop = testbed_drop_tool();
    bool lossy = c->dir[0].loss > 0 || c->dir[1].loss > 0;
    int rc;

    err[0] = '\0';
    if (c->emulator == TB_EMU_AUTO)
        c->emulator = testbed_have_netem() ? TB_EMU_NETEM : TB_EMU_MIGLAB;
    if (c->emulator == TB_EMU_NETEM && lossy && !tool_exists("ethtool")) {
        snprintf(err, errlen, "ethtool is needed to turn TSO/GSO off for "
                 "loss (apt-get install ethtool)");
        return -ENOENT;
    }
    if (c->emulator == TB_EMU_MIGLAB && lossy && !drop) {
        snprintf(err, errlen, "neither nft nor iptables is installed: "
                 "needed for loss (apt-get install nftables)");
        return -ENOENT;
    }
    for (int d = 0; d < 2; d++)
        if (!(c->dir[d].queue_bytes > 0))
            c->dir[d].queue_bytes = (double)sim_queue_default_bytes(
                c->dir[d].rate_bps, 2 * c->dir[d].delay_s);
    if (c->emulator == TB_EMU_NETEM)
        snprintf(c->emulator_name, sizeof(c->emulator_name), "netem");
    else
        snprintf(c->emulator_name, sizeof(c->emulator_name),
                 "miglab-tun-relay+tbf+%s", drop ? drop : "nft");

    testbed_state_path(dir, sizeof(dir), c->id, NULL);
    for (int h = 0; h < TB_NHOSTS; h++) {
        if (ns_exists(testbed_ns_name(ns, sizeof(ns), c->id,
                                      (enum tb_host)h))) {
            snprintf(err, errlen, "testbed '%s' already exists (namespace "
                     "%s); 'miglab testbed down %s' first", c->id, ns, c->id);
            return -EEXIST;
        }
    }
    rc = mkdir_p(dir);
    if (rc) {
        snprintf(err, errlen, "%s: %s", dir, rc == -EEXIST ?
                 "exists: 'miglab testbed down' it first" : strerror(-rc));
        return rc;
    }
    rc = testbed_state_write_config(c);
    if (rc) {
        snprintf(err, errlen, "%s/config: %s", dir, strerror(-rc));
        goto out_down;
    }
    for (int h = 0; h < TB_NHOSTS; h++) {
        testbed_ns_name(ns, sizeof(ns), c->id, (enum tb_host)h);
        {
            const char *a1[] = { "ip", "netns", "add", ns, NULL };
            const char *a2[] = { "ip", "-n", ns, "link", "set", "lo", "up",
                                 NULL };

            rc = step(&e, a1);
            if (!rc)
                rc = step(&e, a2);
        }
        if (rc)
            goto out_down;
        if (h != TB_CL) {
            /* Room for large bandwidth-delay products (facts: the 4 MB
             * default caps one stream near 650 Mbit/s at 50 ms). */
            testbed_ns_sysctl(ns, "net.ipv4.tcp_wmem", "4096 65536 33554432");
            testbed_ns_sysctl(ns, "net.ipv4.tcp_rmem",
                              "4096 131072 33554432");
        }
    }
    rc = build_lan(c, &e);
    if (!rc)
        rc = build_mig_link(c, &e);
    if (!rc)
        rc = build_emulator(c, &e);
    if (rc)
        goto out_down;
    return 0;

out_down:
    testbed_down(c->id);
    return rc;
}
