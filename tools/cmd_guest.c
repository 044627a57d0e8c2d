/* SPDX-License-Identifier: MIT */
/*
 * cmd_guest.c - the guest commands of `miglab`: create, list, migrate,
 * console, destroy, resume and verify.  Each is a client of a host daemon (`miglab host`):
 * it sends one JSON request line on the control socket (--control PATH,
 * else $MIGLAB_CONTROL, else the default path) and prints the reply lines
 * (docs/host-protocol.md).  Exit 0 on success, 1 when the daemon reports a
 * failure (a failed migration, a refused admission), 2 for bad input.
 * `migrate` of a real Xen domain goes to libxenlight instead
 * (cmd_migrate_xen() in cmd_xen.c decides).
 */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"
#include "mig_err.h"
#include "scenario.h"
#include "units.h"

#define MAX_POLICY_FLAGS 32
#define CLIENT_WAIT_S 60            /* a reply line, most commands */
#define CLIENT_MIGRATE_WAIT_S 900   /* the next line of a migration */

struct gopts {
    const char *cmd;
    const char *control;
    const char *pos[2];         /* positional arguments */
    int npos;
    bool json, live, help;
    const char *mem, *workload, *vcpus, *seed, *ip, *timeout;
    const char *cc;             /* migrate: TCP congestion control */
    const char *pflag[MAX_POLICY_FLAGS], *pval[MAX_POLICY_FLAGS];
    int npolicy;
};

static const char *const usages[][2] = {
    { "create", "NAME --mem SIZE [--workload SPEC] [--vcpus N] [--seed N] "
                "[--ip ADDR]" },
    { "list", "[--json]" },
    { "migrate", "[--live] NAME HOST[:PORT] [POLICY FLAGS] [--cc NAME] "
                 "[--timeout SECONDS] [--json]" },
    { "console", "NAME" },
    { "destroy", "NAME" },
    { "resume", "NAME" },
    { "verify", "NAME [--json]" },
};

static void help(const char *cmd)
{
    for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
        if (!strcmp(usages[i][0], cmd))
            printf("usage: miglab %s %s [--control PATH]\n\n", cmd,
                   usages[i][1]);
    if (!strcmp(cmd, "create"))
        printf("Create and start an emulated guest on the host daemon.\n"
               "  --mem SIZE        guest memory (64M, 1G)\n"
               "  --workload SPEC   idle (default), uniform:rate=R, "
               "hotcold:wss=S,hot=H,rate=R, ...\n"
               "  --vcpus N         vCPU threads (1)\n"
               "  --seed N          workload seed (1)\n"
               "  --ip ADDR         the guest's IPv4 address: it moves with "
               "the guest when the\n"
               "                    hosts run with --guest-dev; heartbeats "
               "(UDP) answer on ADDR:7007\n"
               "                    there, else on 127.0.0.1:PORT (see "
               "list --json)\n");
    else if (!strcmp(cmd, "list"))
        printf("List the host's guests: name, memory, vCPUs, state, "
               "workload, writes so far.\n"
               "  --json            the daemon's reply as JSON\n");
    else if (!strcmp(cmd, "migrate"))
        printf("Migrate a guest to the host daemon listening on "
               "HOST:PORT (port 8002 by default).\n"
               "Without --live the guest is suspended first (cold, as in "
               "xm migrate).\nProgress goes to stderr; the result is a "
               "table, or with --json the keys of\n`miglab predict --json` "
               "plus \"integrity\".  Exit 1 when the migration fails.\n"
               "  --live            pre-copy while the guest runs\n"
               "  --timeout S       per-operation timeout of the migration "
               "connection\n"
               "                    (default: the source daemon's "
               "--timeout, 30 s)\n"
               "  --cc NAME         TCP congestion control of the migration "
               "connection (cubic,\n"
               "                    reno, bbr, ...: one the source host's "
               "kernel offers, see\n"
               "                    /proc/sys/net/ipv4/"
               "tcp_available_congestion_control); default:\n"
               "                    the kernel's; an unknown one fails, the "
               "guest keeps running\n"
               "  --json            print the measured run as JSON\n"
               "  policy flags as in miglab predict: --policy, "
               "--max-passes, --dirty-threshold,\n"
               "  --downtime-limit, --max-bandwidth, --auto-converge, "
               "--time-budget, --byte-budget,\n"
               "  --max-sent-factor, --abort-on-stall, --drain on|off\n");
    else if (!strcmp(cmd, "console"))
        printf("Print the guest's log (created, migrations, resumes).\n");
    else if (!strcmp(cmd, "resume"))
        printf("Run a guest whose state is \"undefined\" (GO was sent, no "
               "report came back)\nhere.  Only when you know the "
               "destination does not run it; if it does,\n`miglab destroy "
               "NAME` this copy instead (docs/faults.md).\n");
    else if (!strcmp(cmd, "verify"))
        printf("Suspend the guest for a moment, check every page stamp and "
               "print the pages\nchecked, the bad pages and an XXH3-64 "
               "digest of its memory.  Exit 1 when a\nstamp is bad.\n"
               "  --json            the daemon's reply as JSON\n");
    else
        printf("Destroy a guest (also one in the undefined state).\n");
    printf("  --control PATH    control socket ($MIGLAB_CONTROL, %s)\n",
           MIG_HOST_CONTROL_DEFAULT);
    if (!strcmp(cmd, "migrate"))
        cmd_migrate_xen_help(stdout);
}

static bool is_policy_flag(const char *name, bool *boolean)
{
    for (size_t i = 0; i < sim_scenario_nkeys(); i++) {
        const struct sim_scenario_key *k = sim_scenario_key_at(i);

        if (k->flag && !strcmp(k->flag, name) &&
            !strcmp(k->section, "migration") && strcmp(k->flag, "mode")) {
            *boolean = k->boolean;
            return true;
        }
    }
    return false;
}

static int parse(int argc, char **argv, struct gopts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        bool boolean = false;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = true;
            return 0;
        }
        if (strncmp(a, "--", 2)) {
            if (o->npos == 2) {
                cli_error(o->cmd, "unexpected argument '%s' (see --help)", a);
                return CLI_USAGE;
            }
            o->pos[o->npos++] = a;
            continue;
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--live") && !strcmp(o->cmd, "migrate")) {
            o->live = true;
            continue;
        }
        if (!strcmp(a, "--control"))
            slot = &o->control;
        else if (!strcmp(o->cmd, "create") && !strcmp(a, "--mem"))
            slot = &o->mem;
        else if (!strcmp(o->cmd, "create") && !strcmp(a, "--workload"))
            slot = &o->workload;
        else if (!strcmp(o->cmd, "create") && !strcmp(a, "--vcpus"))
            slot = &o->vcpus;
        else if (!strcmp(o->cmd, "create") && !strcmp(a, "--seed"))
            slot = &o->seed;
        else if (!strcmp(o->cmd, "create") && !strcmp(a, "--ip"))
            slot = &o->ip;
        else if (!strcmp(o->cmd, "migrate") && !strcmp(a, "--timeout"))
            slot = &o->timeout;
        else if (!strcmp(o->cmd, "migrate") && !strcmp(a, "--cc"))
            slot = &o->cc;
        if (!slot && !strcmp(o->cmd, "migrate") &&
            is_policy_flag(a + 2, &boolean)) {
            if (o->npolicy == MAX_POLICY_FLAGS) {
                cli_error(o->cmd, "too many policy flags");
                return CLI_USAGE;
            }
            o->pflag[o->npolicy] = a + 2;
            if (boolean) {
                o->pval[o->npolicy++] = "true";
                continue;
            }
            slot = &o->pval[o->npolicy++];
        }
        if (!slot) {
            cli_error(o->cmd, "unknown option '%s' (see miglab %s --help)",
                      a, o->cmd);
            return CLI_USAGE;
        }
        if (i + 1 >= argc) {
            cli_error(o->cmd, "%s needs a value", a);
            return CLI_USAGE;
        }
        *slot = argv[++i];
    }
    return 0;
}

/* Connect to the daemon's control socket; -1 after printing an error. */
static int dial(const struct gopts *o)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *path = o->control ? o->control : getenv("MIGLAB_CONTROL");
    int fd;

    if (!path || !path[0])
        path = MIG_HOST_CONTROL_DEFAULT;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        cli_error(o->cmd, "control path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        /* No reply wait is endless: a migration sends a progress line per
         * pass and its every step has the daemon's timeout, so a silent
         * daemon is a hung one. */
        struct timeval tv = { .tv_sec = !strcmp(o->cmd, "migrate")
                                            ? CLIENT_MIGRATE_WAIT_S
                                            : CLIENT_WAIT_S };

        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
    }
    cli_error(o->cmd, "cannot reach the host daemon at %s: %s (is `miglab "
              "host` running? --control PATH)", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int send_line(int fd, const char *s)
{
    size_t len = strlen(s), off = 0;

    while (off < len + 1) {
        const char *p = off < len ? s + off : "\n";
        size_t n = off < len ? len - off : 1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Next reply line as JSON (caller puts), NULL at end or on garbage. */
static struct json_object *read_reply(int fd, char *buf, size_t cap,
                                      size_t *have)
{
    for (;;) {
        char *nl = memchr(buf, '\n', *have);
        ssize_t r;

        if (nl) {
            struct json_object *o;
            size_t used = (size_t)(nl - buf) + 1;

            *nl = '\0';
            o = json_tokener_parse(buf);
            memmove(buf, buf + used, *have - used);
            *have -= used;
            return o;
        }
        if (*have == cap)
            return NULL;
        r = recv(fd, buf + *have, cap - *have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        *have += (size_t)r;
    }
}

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : "";
}

static double jnum(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v)
                                               : NAN;
}

static void print_progress(struct json_object *p)
{
    fprintf(stderr, "pass %.0f%s: %.0f pages, %.1f MB/s\n",
            jnum(p, "pass"), jnum(p, "live") != 0 ? "" : " (stop-and-copy)",
            jnum(p, "pages"), jnum(p, "MBps"));
}

static void print_list(struct json_object *r)
{
    struct json_object *arr;
    char a[32], b[32], c[32];

    printf("host %s: %s of %s used\n", jstr(r, "host"),
           mig_host_format_size(a, sizeof(a), (uint64_t)jnum(r, "used")),
           mig_host_format_size(b, sizeof(b), (uint64_t)jnum(r, "capacity")));
    printf("%-16s %12s %5s  %-10s %12s  %-21s  %s\n", "NAME", "MEMORY",
           "VCPUS", "STATE", "WRITES", "HEARTBEAT", "WORKLOAD");
    if (!json_object_object_get_ex(r, "guests", &arr))
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *g = json_object_array_get_idx(arr, i);

        printf("%-16s %12s %5.0f  %-10s %12.0f  %-21s  %s\n",
               jstr(g, "name"),
               mig_host_format_size(c, sizeof(c), (uint64_t)jnum(g, "mem")),
               jnum(g, "vcpus"), jstr(g, "state"), jnum(g, "writes"),
               jstr(g, "heartbeat")[0] ? jstr(g, "heartbeat") : "-",
               jstr(g, "workload"));
    }
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *g = json_object_array_get_idx(arr, i);

        if (jstr(g, "hint")[0])
            printf("%s is undefined: %s\n", jstr(g, "name"),
                   jstr(g, "hint"));
    }
}

static void print_run(const struct gopts *o, struct json_object *r)
{
    struct json_object *passes, *parts, *in;
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32];

    printf("%s migration of %s to %s, policy %s\n", jstr(r, "mode"),
           o->pos[0], o->pos[1], jstr(r, "policy"));
    printf("  transfer  %s (measured)\n\n",
           sim_format_byterate(a, sizeof(a), jnum(r, "transfer_Bps")));
    printf("  %5s  %12s  %11s  %10s  %12s\n", "pass", "pages", "bytes",
           "duration", "dirty after");
    if (json_object_object_get_ex(r, "passes", &passes)) {
        for (size_t i = 0; i < json_object_array_length(passes); i++) {
            struct json_object *p = json_object_array_get_idx(passes, i);
            bool live = jnum(p, "live") != 0;

            printf("  %5.0f%s %12.0f  %11s  %10s  %12.0f\n",
                   jnum(p, "index"), live ? " " : "*", jnum(p, "pages"),
                   sim_format_size(a, sizeof(a), jnum(p, "bytes")),
                   sim_format_time(b, sizeof(b), jnum(p, "duration_s")),
                   live ? jnum(p, "dirty_after") : 0.0);
        }
        printf("  (* = stop-and-copy, guest paused)\n");
    }
    printf("\n  outcome      %s, stopped by %s\n", jstr(r, "outcome"),
           jstr(r, "stop_reason"));
    printf("  total time   %s\n",
           sim_format_time(a, sizeof(a), jnum(r, "total_time_s")));
    if (json_object_object_get_ex(r, "downtime_parts", &parts))
        printf("  downtime     %s = suspend %s + final copy %s + "
               "restore %s\n               + handshake %s + unpause %s\n",
               sim_format_time(a, sizeof(a), jnum(r, "downtime_s")),
               sim_format_time(b, sizeof(b), jnum(parts, "suspend_s")),
               sim_format_time(c, sizeof(c), jnum(parts, "final_copy_s")),
               sim_format_time(d, sizeof(d), jnum(parts, "restore_s")),
               sim_format_time(e, sizeof(e), jnum(parts, "handshake_s")),
               sim_format_time(f, sizeof(f), jnum(parts, "unpause_s")));
    printf("  bytes sent   %s (%.0f pages, %.2fx memory)\n",
           sim_format_size(g, sizeof(g), jnum(r, "bytes_sent")),
           jnum(r, "pages_sent"),
           jnum(r, "pages_sent") / jnum(r, "mem_pages"));
    if (json_object_object_get_ex(r, "integrity", &in))
        printf("  integrity    %s (%.0f pages checked, %.0f mismatches)\n",
               jnum(in, "ok") != 0 ? "ok" : "FAILED",
               jnum(in, "pages_checked"), jnum(in, "mismatches"));
}

/* Build the request; CLI_USAGE after one error line. */
static int build(struct gopts *o, struct json_object *req)
{
    const char *need = !strcmp(o->cmd, "list")      ? NULL
                       : !strcmp(o->cmd, "migrate") ? "NAME HOST[:PORT]"
                                                    : "NAME";
    int want = need ? (strchr(need, ' ') ? 2 : 1) : 0;

    if (o->npos != want) {
        cli_error(o->cmd, want ? "expected %s (see --help)"
                               : "unexpected argument%s (see --help)",
                  need ? need : "");
        return CLI_USAGE;
    }
    json_object_object_add(req, "cmd", json_object_new_string(o->cmd));
    if (want)
        json_object_object_add(req, "name", json_object_new_string(
                                                o->pos[0]));
    if (!strcmp(o->cmd, "create")) {
        uint64_t mem, n;

        if (!o->mem || sim_parse_size(o->mem, &mem) || mem < 4096 ||
            mem % 4096) {
            cli_error(o->cmd, "--mem SIZE required, a multiple of 4 KiB "
                      "(e.g. 64M)");
            return CLI_USAGE;
        }
        json_object_object_add(req, "mem", json_object_new_int64(
                                               (int64_t)mem));
        if (o->vcpus) {
            if (sim_parse_uint(o->vcpus, 1, 64, &n)) {
                cli_error(o->cmd, "bad --vcpus '%s' (1..64)", o->vcpus);
                return CLI_USAGE;
            }
            json_object_object_add(req, "vcpus",
                                   json_object_new_int64((int64_t)n));
        }
        if (o->seed) {
            if (sim_parse_uint(o->seed, 0, INT64_MAX, &n)) {
                cli_error(o->cmd, "bad --seed '%s'", o->seed);
                return CLI_USAGE;
            }
            json_object_object_add(req, "seed",
                                   json_object_new_int64((int64_t)n));
        }
        if (o->workload)
            json_object_object_add(req, "workload",
                                   json_object_new_string(o->workload));
        if (o->ip)
            json_object_object_add(req, "ip", json_object_new_string(o->ip));
    }
    if (!strcmp(o->cmd, "migrate")) {
        struct json_object *pol = json_object_new_array();
        struct sim_scenario sc;
        char host[256], err[320], *colon;
        uint64_t port = 8002;
        int rc = 0;

        snprintf(host, sizeof(host), "%s", o->pos[1]);
        colon = strrchr(host, ':');
        if (colon && !strchr(colon + 1, ']')) {
            if (sim_parse_uint(colon + 1, 1, 65535, &port)) {
                cli_error(o->cmd, "bad port in '%s'", o->pos[1]);
                json_object_put(pol);
                return CLI_USAGE;
            }
            *colon = '\0';
        }
        /* Check the policy flags here so bad input is exit 2, not a
         * daemon failure; the daemon applies them again. */
        sim_scenario_init(&sc);
        for (int i = 0; i < o->npolicy && !rc; i++) {
            struct json_object *pair = json_object_new_array();

            rc = mig_host_policy_set(&sc, o->pflag[i], o->pval[i], err,
                                     sizeof(err));
            json_object_array_add(pair, json_object_new_string(o->pflag[i]));
            json_object_array_add(pair, json_object_new_string(o->pval[i]));
            json_object_array_add(pol, pair);
        }
        if (!rc && o->live && mig_policy_validate(&sc.cfg.policy)) {
            snprintf(err, sizeof(err), "invalid policy parameters");
            rc = MIG_EINVAL;
        }
        sim_scenario_free(&sc);
        if (rc) {
            cli_error(o->cmd, "%s", err);
            json_object_put(pol);
            return CLI_USAGE;
        }
        json_object_object_add(req, "host", json_object_new_string(host));
        json_object_object_add(req, "port", json_object_new_int64(
                                                (int64_t)port));
        json_object_object_add(req, "live", json_object_new_boolean(
                                                o->live));
        if (o->timeout) {
            uint64_t t;

            if (sim_parse_uint(o->timeout, 1, 86400, &t)) {
                cli_error(o->cmd, "bad --timeout '%s' (seconds, 1..86400)",
                          o->timeout);
                json_object_put(pol);
                return CLI_USAGE;
            }
            json_object_object_add(req, "timeout",
                                   json_object_new_int64((int64_t)t));
        }
        json_object_object_add(req, "policy", pol);
        if (o->cc)
            json_object_object_add(req, "cc", json_object_new_string(o->cc));
    }
    return 0;
}

static int run(int argc, char **argv, const char *cmd)
{
    struct gopts o = { .cmd = cmd };
    struct json_object *req, *rep = NULL, *v, *res;
    size_t cap = 1U << 20, have = 0;
    char *buf;
    int fd, status;

    status = parse(argc, argv, &o);
    if (status)
        return status;
    if (o.help) {
        help(cmd);
        return CLI_OK;
    }
    req = json_object_new_object();
    buf = malloc(cap);
    if (!req || !buf) {
        cli_error(cmd, "out of memory");
        status = CLI_FAILED;
        goto out_free;
    }
    status = build(&o, req);
    if (status)
        goto out_free;
    fd = dial(&o);
    if (fd < 0) {
        status = CLI_FAILED;
        goto out_free;
    }
    if (send_line(fd, json_object_to_json_string_ext(
                          req, JSON_C_TO_STRING_PLAIN))) {
        cli_error(cmd, "cannot send the request: %s", strerror(errno));
        status = CLI_FAILED;
        goto out_close;
    }
    while ((rep = read_reply(fd, buf, cap, &have)) &&
           json_object_object_get_ex(rep, "progress", &v)) {
        print_progress(v);
        json_object_put(rep);
    }
    if (!rep || !json_object_object_get_ex(rep, "ok", &v)) {
        cli_error(cmd, "the host daemon %s without a reply",
                  errno == EAGAIN || errno == EWOULDBLOCK
                      ? "timed out" : "closed the connection");
        status = CLI_FAILED;
        goto out_close;
    }
    res = NULL;
    json_object_object_get_ex(rep, "result", &res);
    if (!json_object_get_boolean(v)) {
        cli_error(cmd, "%s", jstr(rep, "error"));
        status = strcmp(jstr(rep, "kind"), "input") ? CLI_FAILED : CLI_USAGE;
        if (o.json && res)
            puts(json_object_to_json_string_ext(res,
                                                JSON_C_TO_STRING_PRETTY));
        goto out_close;
    }
    status = CLI_OK;
    if (!strcmp(cmd, "migrate") && res) {
        if (o.json)
            puts(json_object_to_json_string_ext(
                res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                         JSON_C_TO_STRING_NOSLASHESCAPE));
        else
            print_run(&o, res);
    } else if (!strcmp(cmd, "list") || !strcmp(cmd, "verify")) {
        if (o.json)
            puts(json_object_to_json_string_ext(
                rep, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        else if (!strcmp(cmd, "list"))
            print_list(rep);
        else
            printf("guest %s: %.0f pages checked, %.0f bad, memory digest "
                   "%s\n", jstr(rep, "name"), jnum(rep, "pages"),
                   jnum(rep, "bad_pages"), jstr(rep, "digest"));
        if (!strcmp(cmd, "verify") && jnum(rep, "bad_pages") != 0)
            status = CLI_FAILED;
    } else if (!strcmp(cmd, "console") &&
               json_object_object_get_ex(rep, "lines", &v)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            puts(json_object_get_string(json_object_array_get_idx(v, i)));
    }
out_close:
    json_object_put(rep);
    close(fd);
out_free:
    json_object_put(req);
    free(buf);
    return status;
}

int cmd_create(int argc, char **argv)
{
    return run(argc, argv, "create");
}

int cmd_list(int argc, char **argv)
{
    return run(argc, argv, "list");
}

int cmd_migrate(int argc, char **argv)
{
    int status;

    /* A Xen domain (--xen, or a Xen dom0 without a host daemon). */
    if (cmd_migrate_xen(argc, argv, &status))
        return status;
    return run(argc, argv, "migrate");
}

int cmd_console(int argc, char **argv)
{
    return run(argc, argv, "console");
}

int cmd_destroy(int argc, char **argv)
{
    return run(argc, argv, "destroy");
}

int cmd_resume(int argc, char **argv)
{
    return run(argc, argv, "resume");
}

int cmd_verify(int argc, char **argv)
{
    return run(argc, argv, "verify");
}
