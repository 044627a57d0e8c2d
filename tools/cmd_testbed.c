/* SPDX-License-Identifier: MIT */
/*
 * cmd_testbed.c - `miglab testbed`: the command line of the testbed, the
 * network namespaces (two hosts and a heartbeat client) and the impaired
 * migration link between the hosts that `miglab run` migrates over.
 *
 *   up       build one (netem, or miglab's own emulator without netem)
 *   down     remove one
 *   clean    remove every mlab-* leftover (namespaces, relays, state)
 *   exec     run a command inside one host
 *   measure  ping / UDP / iperf3 against the settings
 *   relay    internal: the TUN relay process `up` starts (linkemu.c)
 *
 * docs/testbed.md describes the topology, the emulators and their measured
 * accuracy.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mig_err.h"
#include "testbed.h"
#include "units.h"

#define CMD "testbed"

static void help(void)
{
    printf(
        "usage: miglab testbed up [--id ID] [--rate R] [--delay T] "
        "[--jitter T]\n"
        "                         [--jitter-dist uniform|normal] "
        "[--loss P]\n"
        "                         [--queue SIZE] [--emulator auto|netem|miglab] [--json]\n"
        "       miglab testbed down ID\n"
        "       miglab testbed clean\n"
        "       miglab testbed exec ID h1|h2|cl -- CMD [ARGS...]\n"
        "       miglab testbed measure ID [--cc cubic|reno|bbr] [--time S]\n"
        "                         [--pings N] [--udp-time S]\n"
        "                         [--only rtt,loss,goodput] [--json]\n"
        "\n"
        "Network namespaces mlab-ID-h1 and mlab-ID-h2 (the hosts) and "
        "mlab-ID-cl (the\n"
        "heartbeat client, holding the bridge both hosts hang on).  The "
        "migration link\n"
        "h1 %s <-> h2 %s is impaired per direction; the bridge\n"
        "%s/24 is not.\n"
        "\n"
        "up:\n"
        "  --id ID              run id, 1-%d of [a-z0-9] (default: random)\n"
        "  --rate R             line rate, e.g. 100Mbit (default: unlimited)\n"
        "  --delay T            one-way delay, e.g. 5ms (default 0)\n"
        "  --jitter T           uniform: +-T; normal: sd T (default 0)\n"
        "  --jitter-dist D      uniform (default) or normal\n"
        "  --loss P             random loss, e.g. 0.1%% or 1e-3 (default 0)\n"
        "  --queue SIZE         bottleneck buffer, e.g. 256K (default: "
        "max(rate x 2 x delay,\n"
        "                       10 ms at the rate, 64K); docs/testbed.md\n"
        "  --emulator E         auto (netem when the kernel has it), netem, "
        "miglab\n"
        "  Each of --rate --delay --jitter --loss --queue takes one value for both "
        "directions\n"
        "  or two, 'H1TOH2,H2TOH1', e.g. --rate 1Gbit,100Mbit.\n"
        "measure (h1 -> h2 unless said):\n"
        "  --cc C               congestion control for iperf3 (default "
        "cubic)\n"
        "  --time S             iperf3 TCP seconds after 1 s omitted "
        "(default 3)\n"
        "  --pings N            pings at 10 ms intervals (default 200)\n"
        "  --udp-time S         UDP burst per direction, for loss (default "
        "2)\n"
        "  --only LIST          any of rtt, loss, goodput (default all)\n"
        "\n"
        "Needs root.  State: %s/ID.  Docs: docs/testbed.md.\n",
        TB_MIG_H1, TB_MIG_H2, "10.77.0.0", TB_ID_MAX, TB_STATE_ROOT);
}

static int need_root(void)
{
    char buf[32] = "";
    FILE *f;
    bool userns = true;

    if (geteuid() == 0)
        return 0;
    f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "r");
    if (f) {
        if (fgets(buf, sizeof(buf), f) && buf[0] == '0')
            userns = false;
        fclose(f);
    }
    f = fopen("/proc/sys/user/max_user_namespaces", "r");
    if (f) {
        if (fgets(buf, sizeof(buf), f) && buf[0] == '0')
            userns = false;
        fclose(f);
    }
    if (!userns)
        cli_error(CMD, "needs root, and unprivileged user namespaces are "
                  "disabled on this kernel; run as root (e.g. sudo)");
    else if (access("/dev/net/tun", R_OK | W_OK) != 0)
        cli_error(CMD, "needs root: a user namespace would not do, "
                  "/dev/net/tun (the link emulator's TUN devices) is not "
                  "open to uid %ld and the namespaces must outlive this "
                  "command; run as root (e.g. sudo)", (long)geteuid());
    else
        cli_error(CMD, "needs root: the namespaces must outlive this "
                  "command, which a user namespace (it dies with its last "
                  "process) cannot give; run as root (e.g. sudo)");
    return CLI_FAILED;
}

/* "A" or "A,B" through parse(); both directions set. */
static int parse_pair(const char *flag, const char *v,
                      int (*parse)(const char *, double *), double out[2])
{
    char a[64];
    const char *comma = strchr(v, ',');
    int rc;

    snprintf(a, sizeof(a), "%.*s",
             (int)(comma ? comma - v : (long)strlen(v)), v);
    rc = parse(a, &out[0]);
    if (!rc)
        rc = comma ? parse(comma + 1, &out[1]) : 0;
    if (!rc && !comma)
        out[1] = out[0];
    if (rc) {
        cli_error(CMD, "--%s: bad value '%s'", flag, v);
        return CLI_USAGE;
    }
    return 0;
}

/* Split "--name=value" / "--name value"; i is advanced past a value. */
static int flag_value(int argc, char **argv, int *i, char *name,
                      size_t namelen, const char **value, bool boolean)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');

    snprintf(name, namelen, "%.*s",
             (int)(eq ? eq - arg - 2 : (long)strlen(arg + 2)), arg + 2);
    *value = eq ? eq + 1 : NULL;
    if (boolean)
        return 0;
    if (!*value) {
        if (*i + 1 >= argc) {
            cli_error(CMD, "--%s needs a value", name);
            return CLI_USAGE;
        }
        *value = argv[++*i];
    }
    return 0;
}

static bool is_flag(const char *a)
{
    return a[0] == '-' && a[1] == '-' && a[2];
}

static void random_id(char *id, size_t len)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(id, len, "%06lx",
             (unsigned long)(((unsigned long)ts.tv_nsec ^
                              ((unsigned long)getpid() << 12)) & 0xffffff));
}

static void print_up(const struct tb_config *c, bool json)
{
    static const char *const mig[2] = { TB_MIG_H1, TB_MIG_H2 };
    static const char *const lan[3] = { TB_LAN_H1, TB_LAN_H2, TB_LAN_CL };
    char ns[64], st[256];

    testbed_state_path(st, sizeof(st), c->id, NULL);
    if (json) {
        struct json_object *jo = json_object_new_object(), *h, *a, *x;

        json_object_object_add(jo, "id", json_object_new_string(c->id));
        json_object_object_add(jo, "emulator",
                               json_object_new_string(c->emulator_name));
        json_object_object_add(jo, "state_dir", json_object_new_string(st));
        h = json_object_new_object();
        for (int i = 0; i < TB_NHOSTS; i++) {
            x = json_object_new_object();
            json_object_object_add(x, "namespace", json_object_new_string(
                testbed_ns_name(ns, sizeof(ns), c->id, (enum tb_host)i)));
            json_object_object_add(x, "lan_addr",
                                   json_object_new_string(lan[i]));
            if (i < 2)
                json_object_object_add(x, "mig_addr",
                                       json_object_new_string(mig[i]));
            json_object_object_add(h, testbed_host_name(i), x);
        }
        json_object_object_add(jo, "hosts", h);
        a = json_object_new_array();
        for (int d = 0; d < 2; d++) {
            x = json_object_new_object();
            json_object_object_add(x, "dir", json_object_new_string(
                                       d ? "h2->h1" : "h1->h2"));
            json_object_object_add(x, "rate_bps",
                                   json_object_new_double(c->dir[d].rate_bps));
            json_object_object_add(x, "delay_s",
                                   json_object_new_double(c->dir[d].delay_s));
            json_object_object_add(x, "jitter_s",
                                   json_object_new_double(c->dir[d].jitter_s));
            json_object_object_add(x, "loss",
                                   json_object_new_double(c->dir[d].loss));
            json_object_object_add(x, "queue_bytes",
                                   json_object_new_double(c->dir[d].queue_bytes));
            json_object_array_add(a, x);
        }
        json_object_object_add(jo, "settings", a);
        json_object_object_add(jo, "jitter_dist", json_object_new_string(
            c->jitter_dist == TB_JITTER_NORMAL ? "normal" : "uniform"));
        puts(json_object_to_json_string_ext(
            jo, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                    JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(jo);
        return;
    }
    printf("testbed %s up, emulator %s\n", c->id, c->emulator_name);
    for (int i = 0; i < TB_NHOSTS; i++) {
        printf("  %s  namespace %-18s %s %-10s",
               testbed_host_name(i),
               testbed_ns_name(ns, sizeof(ns), c->id, (enum tb_host)i),
               i < 2 ? TB_LAN_DEV : "br0 ", lan[i]);
        if (i < 2)
            printf(" %s %s", TB_MIG_DEV, mig[i]);
        printf("\n");
    }
    for (int d = 0; d < 2; d++)
        printf("  %s: rate %.6g Mbit/s (0 = unlimited), delay %.6g ms, "
               "jitter %.6g ms %s, loss %.6g%%, queue %.0f bytes\n",
               d ? "h2->h1" : "h1->h2",
               c->dir[d].rate_bps / 1e6, c->dir[d].delay_s * 1e3,
               c->dir[d].jitter_s * 1e3,
               c->jitter_dist == TB_JITTER_NORMAL ? "sd" : "uniform +-",
               c->dir[d].loss * 100, c->dir[d].queue_bytes);
    printf("  state %s; remove with: miglab testbed down %s\n", st, c->id);
}

static int parse_loss(const char *s, double *p)
{
    int rc = sim_parse_fraction(s, p);

    if (!rc && *p >= 1.0)
        rc = MIG_ERANGE;
    return rc;
}

static int parse_rate(const char *s, double *bps)
{
    int rc = sim_parse_bitrate(s, bps);

    /* Below ~10 kbit/s one 1500-byte packet takes over a second. */
    if (!rc && *bps > 0 && *bps < 10e3)
        rc = MIG_ERANGE;
    return rc;
}

static int parse_queue(const char *s, double *bytes)
{
    uint64_t u;
    int rc = sim_parse_size(s, &u);

    if (!rc && u < TB_MTU)
        rc = MIG_ERANGE;
    *bytes = (double)u;
    return rc;
}

static int parse_time(const char *s, double *t)
{
    int rc = sim_parse_time(s, t);

    if (!rc && *t > 10.0)
        rc = MIG_ERANGE;
    return rc;
}

static int do_up(int argc, char **argv)
{
    struct tb_config c;
    char err[512];
    bool json = false;
    double v[2];
    int rc;

    memset(&c, 0, sizeof(c));
    for (int i = 1; i < argc; i++) {
        char name[32];
        const char *val;

        if (!is_flag(argv[i])) {
            cli_error(CMD, "up: unexpected argument '%s' (see --help)",
                      argv[i]);
            return CLI_USAGE;
        }
        if (!strcmp(argv[i], "--help")) {
            help();
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        rc = flag_value(argc, argv, &i, name, sizeof(name), &val, false);
        if (rc)
            return rc;
        if (!strcmp(name, "id")) {
            if (testbed_id_check(val)) {
                cli_error(CMD, "--id: '%s' is not 1-%d characters of "
                          "[a-z0-9]", val, TB_ID_MAX);
                return CLI_USAGE;
            }
            snprintf(c.id, sizeof(c.id), "%s", val);
        } else if (!strcmp(name, "rate") || !strcmp(name, "delay") ||
                   !strcmp(name, "jitter") || !strcmp(name, "loss") ||
                   !strcmp(name, "queue")) {
            char f = name[0];

            rc = parse_pair(name, val, f == 'r' ? parse_rate :
                            f == 'l' ? parse_loss :
                            f == 'q' ? parse_queue : parse_time, v);
            if (rc)
                return rc;
            for (int d = 0; d < 2; d++) {
                double *dst = f == 'r' ? &c.dir[d].rate_bps :
                              f == 'd' ? &c.dir[d].delay_s :
                              f == 'j' ? &c.dir[d].jitter_s :
                              f == 'q' ? &c.dir[d].queue_bytes :
                                         &c.dir[d].loss;
                *dst = v[d];
            }
        } else if (!strcmp(name, "jitter-dist")) {
            if (!strcmp(val, "uniform")) {
                c.jitter_dist = TB_JITTER_UNIFORM;
            } else if (!strcmp(val, "normal")) {
                c.jitter_dist = TB_JITTER_NORMAL;
            } else {
                cli_error(CMD, "--jitter-dist: '%s' is not uniform or "
                          "normal", val);
                return CLI_USAGE;
            }
        } else if (!strcmp(name, "emulator")) {
            if (!strcmp(val, "auto")) {
                c.emulator = TB_EMU_AUTO;
            } else if (!strcmp(val, "netem")) {
                c.emulator = TB_EMU_NETEM;
            } else if (!strcmp(val, "miglab")) {
                c.emulator = TB_EMU_MIGLAB;
            } else {
                cli_error(CMD, "--emulator: '%s' is not auto, netem or "
                          "miglab", val);
                return CLI_USAGE;
            }
        } else {
            cli_error(CMD, "up: unknown option '--%s' (see --help)", name);
            return CLI_USAGE;
        }
    }
    rc = need_root();
    if (rc)
        return rc;
    if (!c.id[0])
        random_id(c.id, sizeof(c.id));
    if (c.emulator == TB_EMU_NETEM && !testbed_have_netem()) {
        cli_error(CMD, "--emulator netem: this kernel has no netem qdisc "
                  "(use auto or miglab)");
        return CLI_FAILED;
    }
    rc = testbed_up(&c, err, sizeof(err));
    if (rc) {
        cli_error(CMD, "up: %s", err);
        return rc == -EEXIST ? CLI_USAGE : CLI_FAILED;
    }
    print_up(&c, json);
    return CLI_OK;
}

/* One positional ID argument (plus --help); 0 and *id, or an exit code. */
static int one_id(int argc, char **argv, const char *sub, const char **id)
{
    *id = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            help();
            return -1;
        }
        if (is_flag(argv[i]) || *id) {
            cli_error(CMD, "%s: unexpected argument '%s' (see --help)", sub,
                      argv[i]);
            return CLI_USAGE;
        }
        *id = argv[i];
    }
    if (!*id) {
        cli_error(CMD, "%s: needs a testbed ID", sub);
        return CLI_USAGE;
    }
    if (testbed_id_check(*id)) {
        cli_error(CMD, "%s: '%s' is not a testbed id", sub, *id);
        return CLI_USAGE;
    }
    return 0;
}

static int do_down(int argc, char **argv)
{
    const char *id;
    int rc = one_id(argc, argv, "down", &id);

    if (rc)
        return rc < 0 ? CLI_OK : rc;
    rc = need_root();
    if (rc)
        return rc;
    if (testbed_down(id) == -ENOENT) {
        cli_error(CMD, "down: no testbed '%s'", id);
        return CLI_USAGE;
    }
    printf("testbed %s down\n", id);
    return CLI_OK;
}

static int do_clean(int argc, char **argv)
{
    unsigned n;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            help();
            return CLI_OK;
        }
        cli_error(CMD, "clean: unexpected argument '%s'", argv[i]);
        return CLI_USAGE;
    }
    rc = need_root();
    if (rc)
        return rc;
    testbed_clean(&n);
    printf("testbed clean: removed %u leftover%s\n", n, n == 1 ? "" : "s");
    return CLI_OK;
}

static int do_exec(int argc, char **argv)
{
    char ns[64], path[300];
    enum tb_host h;
    char **av;
    int rc;

    if (argc >= 2 && !strcmp(argv[1], "--help")) {
        help();
        return CLI_OK;
    }
    if (argc < 5 || strcmp(argv[3], "--")) {
        cli_error(CMD, "exec: usage: miglab testbed exec ID h1|h2|cl -- "
                  "CMD [ARGS...]");
        return CLI_USAGE;
    }
    if (testbed_id_check(argv[1])) {
        cli_error(CMD, "exec: '%s' is not a testbed id", argv[1]);
        return CLI_USAGE;
    }
    if (testbed_host_parse(argv[2], &h)) {
        cli_error(CMD, "exec: host '%s' is not h1, h2 or cl", argv[2]);
        return CLI_USAGE;
    }
    rc = need_root();
    if (rc)
        return rc;
    testbed_ns_name(ns, sizeof(ns), argv[1], h);
    snprintf(path, sizeof(path), TB_NETNS_DIR "/%s", ns);
    if (access(path, F_OK)) {
        cli_error(CMD, "exec: no testbed '%s'", argv[1]);
        return CLI_USAGE;
    }
    av = calloc((size_t)argc + 4, sizeof(*av));
    if (!av) {
        cli_error(CMD, "out of memory");
        return CLI_FAILED;
    }
    av[0] = "ip";
    av[1] = "netns";
    av[2] = "exec";
    av[3] = ns;
    for (int i = 4; i < argc; i++)
        av[i] = argv[i];
    fflush(stdout);
    execvp("ip", av);
    cli_error(CMD, "exec: cannot run ip: %s", strerror(errno));
    free(av);
    return CLI_FAILED;
}

static int do_measure(int argc, char **argv)
{
    struct tb_measure_opts o = { true, true, true, "cubic", 3, 200, 2,
                                 false };
    struct tb_config c;
    const char *id = NULL;
    int rc;

    for (int i = 1; i < argc; i++) {
        char name[32];
        const char *val;
        double t;
        uint64_t n;

        if (!is_flag(argv[i])) {
            if (id) {
                cli_error(CMD, "measure: unexpected argument '%s'", argv[i]);
                return CLI_USAGE;
            }
            id = argv[i];
            continue;
        }
        if (!strcmp(argv[i], "--help")) {
            help();
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--json")) {
            o.json = true;
            continue;
        }
        rc = flag_value(argc, argv, &i, name, sizeof(name), &val, false);
        if (rc)
            return rc;
        if (!strcmp(name, "cc")) {
            if (strcmp(val, "cubic") && strcmp(val, "reno") &&
                strcmp(val, "bbr")) {
                cli_error(CMD, "--cc: '%s' is not cubic, reno or bbr", val);
                return CLI_USAGE;
            }
            o.cc = val;
        } else if (!strcmp(name, "time") || !strcmp(name, "udp-time")) {
            if (sim_parse_time(val, &t) || t < 1 || t > 600) {
                cli_error(CMD, "--%s: '%s' is not 1..600 seconds", name, val);
                return CLI_USAGE;
            }
            if (name[0] == 't')
                o.time_s = t;
            else
                o.udp_s = t;
        } else if (!strcmp(name, "pings")) {
            if (sim_parse_uint(val, 1, 100000, &n)) {
                cli_error(CMD, "--pings: '%s' is not 1..100000", val);
                return CLI_USAGE;
            }
            o.pings = (unsigned)n;
        } else if (!strcmp(name, "only")) {
            char list[128];

            snprintf(list, sizeof(list), "%s", val);
            o.rtt = o.loss = o.goodput = false;
            for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
                if (!strcmp(s, "rtt")) {
                    o.rtt = true;
                } else if (!strcmp(s, "loss")) {
                    o.loss = true;
                } else if (!strcmp(s, "goodput")) {
                    o.goodput = true;
                } else {
                    cli_error(CMD, "--only: '%s' is not rtt, loss or "
                              "goodput", s);
                    return CLI_USAGE;
                }
            }
        } else {
            cli_error(CMD, "measure: unknown option '--%s' (see --help)",
                      name);
            return CLI_USAGE;
        }
    }
    if (!id) {
        cli_error(CMD, "measure: needs a testbed ID");
        return CLI_USAGE;
    }
    if (testbed_id_check(id)) {
        cli_error(CMD, "measure: '%s' is not a testbed id", id);
        return CLI_USAGE;
    }
    rc = need_root();
    if (rc)
        return rc;
    if (testbed_state_read_config(id, &c)) {
        cli_error(CMD, "measure: no testbed '%s'", id);
        return CLI_USAGE;
    }
    if (testbed_measure(&c, &o)) {
        cli_error(CMD, "measure: a measurement failed (is iperf3 "
                  "installed?)");
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* Internal: `miglab testbed relay --id ID [--ready-fd N]` (started by up). */
static int do_relay(int argc, char **argv)
{
    struct tb_config c;
    const char *id = NULL;
    char a[64], b[64], stats[256];
    int ready_fd = -1;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--id"))
            id = argv[i + 1];
        else if (!strcmp(argv[i], "--ready-fd"))
            ready_fd = atoi(argv[i + 1]);
    }
    if (!id || testbed_id_check(id)) {
        cli_error(CMD, "relay: needs --id ID");
        return CLI_USAGE;
    }
    if (testbed_state_read_config(id, &c)) {
        cli_error(CMD, "relay: no configuration for testbed '%s'", id);
        return CLI_USAGE;
    }
    testbed_ns_name(a, sizeof(a), id, TB_H1);
    testbed_ns_name(b, sizeof(b), id, TB_H2);
    testbed_state_path(stats, sizeof(stats), id, "relay.stats");
    return linkemu_run(&c, a, b, ready_fd, stats) ? CLI_FAILED : CLI_OK;
}

int cmd_testbed(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {
        { "up", do_up },       { "down", do_down },
        { "clean", do_clean }, { "exec", do_exec },
        { "measure", do_measure }, { "relay", do_relay },
    };

    if (argc < 2) {
        cli_error(CMD, "needs a subcommand: up, down, clean, exec, measure "
                  "(see --help)");
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        help();
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].run(argc - 1, argv + 1);
    }
    cli_error(CMD, "unknown subcommand '%s' (see --help)", argv[1]);
    return CLI_USAGE;
}
