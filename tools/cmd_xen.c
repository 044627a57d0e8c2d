/* SPDX-License-Identifier: MIT */
/*
 * cmd_xen.c - `miglab xen`: real Xen domains through libxenlight
 * (ref/guest_xen.h; docs/xen.md).
 *
 *   miglab xen migrate [--live] [--json] [--port N | --ssh-cmd CMD] DOM
 *                      HOST[:PORT]
 *       the xl migrate sender: TCP to a `miglab xen receive --listen`
 *       peer, or (like xl's -s) a command whose stdin/stdout is the
 *       channel (`ssh HOST miglab xen receive`, `xl migrate-receive`).
 *       Plain `miglab migrate` reaches the same code on a Xen dom0 or
 *       with --xen (cmd_migrate_xen(): the rule that picks the path).
 *   miglab xen receive [--listen ADDR:PORT | stdio]
 *       the xl migrate-receive side; stdio is what xl's ssh rune runs
 *   miglab xen dirty DOM [--interval 100ms] [--duration 10s] [-o TRACE]
 *       log-dirty sampling into a simulator trace + its working-set curve
 *
 * Without libxenlight at build time every subcommand prints one line
 * saying so and exits 2; without a running hypervisor it says that.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "guest_xen.h"
#include "host.h"
#include "result_json.h"
#include "units.h"

#define CMD "xen"
#define XEN_PORT_DEFAULT 8003
#define XEN_CAPABILITIES "/proc/xen/capabilities"

/* Set by SIGINT/SIGTERM: `xen dirty` stops sampling and still writes. */
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void help(FILE *out)
{
    fprintf(out,
        "usage: miglab xen migrate [--live] [--json] [--port N | --ssh-cmd "
        "CMD] [-v] DOMAIN HOST[:PORT]\n"
        "       miglab xen receive [--listen ADDR:PORT | stdio] [-v]\n"
        "       miglab xen dirty DOMAIN [--interval 100ms] [--duration 10s] "
        "[-o TRACE] [--wws FILE]\n"
        "\n"
        "Real Xen domains through libxenlight, interoperable with xl.\n"
        "\n"
        "migrate   the `xl migrate` sender (xl's handshake byte for byte).\n"
        "          Cold without --live (suspend, then copy).  The channel is\n"
        "          TCP to HOST:N (default %d; a `miglab xen receive --listen`\n"
        "          peer), or with --ssh-cmd the stdin/stdout of `sh -c CMD`\n"
        "          (e.g. 'ssh HOST miglab xen receive' or 'xl migrate-receive').\n"
        "          --json prints the measured run in `miglab predict --json`'s\n"
        "          shape (passes from libxc's progress reports).  Plain\n"
        "          `miglab migrate` does the same on a Xen dom0 (see its --help).\n"
        "receive   the `xl migrate-receive` side, once.  stdio (default) is\n"
        "          what xl migrate -s runs; --listen ADDR:PORT accepts one TCP\n"
        "          connection.\n"
        "dirty     sample DOMAIN's dirty pages with log-dirty (CLEAN every\n"
        "          interval) into a trace (docs/trace-format.md; stdout\n"
        "          without -o) and its writable-working-set curve as JSON\n"
        "          (--wws FILE, default TRACE.wws.json).  Replay it with\n"
        "          `miglab predict --workload trace:TRACE`.\n"
        "-v        more libxl/libxc messages on stderr (-vv, -vvv)\n",
        XEN_PORT_DEFAULT);
}

static void log_stderr(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "%s\n", msg);
}

/* Open libxl, or say in one line why not. */
static int open_xen(const char *cmd, int verbose, struct mig_xen **x)
{
    struct mig_xen_cfg cfg = { .verbose = verbose, .log = log_stderr };
    char err[300];
    int rc = mig_xen_open(&cfg, x, err, sizeof(err));

    if (rc) {
        cli_error(cmd, "%s", err);
        return rc == MIG_ENOTSUP ? CLI_USAGE : CLI_FAILED;
    }
    return CLI_OK;
}

/* "ADDR:PORT" or ":PORT" or "PORT" -> host (NULL = any), port. */
static int parse_hostport(const char *s, char *host, size_t hlen,
                          uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    char *end;
    unsigned long v = strtoul(p, &end, 10);

    if (!*p || *end || v == 0 || v > 65535)
        return MIG_EINVAL;
    *port = (uint16_t)v;
    host[0] = '\0';
    if (colon && colon > s) {
        size_t l = (size_t)(colon - s);

        if (l >= hlen)
            return MIG_EINVAL;
        memcpy(host, s, l);
        host[l] = '\0';
    }
    return 0;
}

/* sh -c CMD with its stdin/stdout as the channel. */
static int spawn_channel(const char *cmd, pid_t *pid, struct mig_chan **ch)
{
    int to[2], from[2];

    if (pipe(to))
        return -errno;
    if (pipe(from)) {
        int e = -errno;

        close(to[0]);
        close(to[1]);
        return e;
    }
    *pid = fork();
    if (*pid < 0) {
        int e = -errno;

        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        return e;
    }
    if (*pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    *ch = mig_chan_fd_new(from[0], to[1], 1);
    if (!*ch) {
        close(from[0]);
        close(to[1]);
        return MIG_ENOMEM;
    }
    return 0;
}

static struct json_object *timeline_json(const struct mig_xen_progress *p)
{
    struct json_object *o = json_object_new_object();
    const struct { const char *k; double v; } t[] = {
        { "stream_start_s", p->t_stream },
        { "suspend_request_s", p->t_susp_req },
        { "suspended_s", p->t_suspended },
        { "stream_end_s", p->t_stream_end },
    };

    if (!o)
        return NULL;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        json_object_object_add(o, t[i].k, t[i].v >= 0
                               ? json_object_new_double(t[i].v) : NULL);
    json_object_object_add(o, "progress_passes",
                           json_object_new_int64((int64_t)p->npasses));
    json_object_object_add(o, "measured_from",
                           json_object_new_string(
                               "libxc progress via xentoollog; bytes "
                               "computed from pages"));
    return o;
}

static void print_run(const struct mig_run *run, bool json,
                      const struct mig_xen_progress *p, int child_status)
{
    const struct sim_result *r = &run->result;

    if (json) {
        struct json_object *o = mig_run_to_json(run);

        if (!o)
            return;
        json_object_object_add(o, "xen", timeline_json(p));
        json_object_object_add(o, "receiver_exit",
                               json_object_new_int(child_status));
        printf("%s\n", json_object_to_json_string_ext(
                   o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(o);
        return;
    }
    printf("%-6s %-5s %10s %10s %10s\n", "pass", "live", "pages",
           "start s", "dur s");
    for (size_t i = 0; i < r->npasses; i++)
        printf("%-6u %-5s %10llu %10.3f %10.3f\n", r->passes[i].index,
               r->passes[i].live ? "yes" : "no",
               (unsigned long long)r->passes[i].pages, r->passes[i].start_s,
               r->passes[i].duration_s);
    printf("total %.3f s, downtime %.3f s (suspend %.3f, final copy %.3f, "
           "restore %.3f, handshake %.3f, unpause %.3f), %u live passes\n",
           r->total_time_s, r->downtime_s, r->downtime_parts.suspend_s,
           r->downtime_parts.final_copy_s, r->downtime_parts.restore_s,
           r->downtime_parts.handshake_s, r->downtime_parts.unpause_s,
           r->live_passes);
}

/* The sender's command line, shared by `miglab xen migrate` and plain
 * `miglab migrate` on the libxenlight path. */
struct migrate_args {
    const char *ssh, *dom, *host;
    char hostbuf[256];          /* HOST of HOST:PORT */
    bool live, json, help;
    unsigned long port;         /* 0 = not given */
    int verbose;
};

/*
 * Parse argv[1..] of a migrate command named cmd ("xen migrate" or
 * "migrate"; plain accepts --xen).  Returns CLI_OK, or CLI_USAGE after
 * one error line.
 */
static int parse_migrate(int argc, char **argv, const char *cmd, bool plain,
                         struct migrate_args *m)
{
    const char *colon;
    uint16_t port16;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--live") || !strcmp(a, "-l")) {
            m->live = true;
        } else if (!strcmp(a, "--json")) {
            m->json = true;
        } else if (plain && !strcmp(a, "--xen")) {
            continue;
        } else if (!strncmp(a, "-v", 2) && strspn(a + 1, "v") ==
                   strlen(a) - 1) {
            m->verbose += (int)strlen(a) - 1;
        } else if (!strcmp(a, "--port") && i + 1 < argc) {
            char *end;

            m->port = strtoul(argv[++i], &end, 10);
            if (*end || !m->port || m->port > 65535) {
                cli_error(cmd, "bad --port '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if ((!strcmp(a, "--ssh-cmd") || !strcmp(a, "-s")) &&
                   i + 1 < argc) {
            m->ssh = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            m->help = true;
            return CLI_OK;
        } else if (a[0] == '-') {
            cli_error(cmd, "unknown option '%s'%s", a, plain
                      ? " for a Xen domain (libxenlight takes --live, "
                        "--json, --ssh-cmd, --port, -v; see --help)"
                      : "");
            return CLI_USAGE;
        } else if (!m->dom) {
            m->dom = a;
        } else if (!m->host) {
            m->host = a;
        } else {
            cli_error(cmd, "extra argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!m->dom || !m->host) {
        cli_error(cmd, "need DOMAIN and HOST[:PORT] (see --help)");
        return CLI_USAGE;
    }
    colon = strrchr(m->host, ':');
    if (colon) {
        if (parse_hostport(m->host, m->hostbuf, sizeof(m->hostbuf),
                           &port16) || !m->hostbuf[0]) {
            cli_error(cmd, "bad HOST[:PORT] '%s'", m->host);
            return CLI_USAGE;
        }
        if (m->port && m->port != port16) {
            cli_error(cmd, "two ports: '%s' and --port %lu", m->host,
                      m->port);
            return CLI_USAGE;
        }
        m->port = port16;
        m->host = m->hostbuf;
    }
    if (!m->port)
        m->port = XEN_PORT_DEFAULT;
    return CLI_OK;
}

/*
 * The xl migrate sender on DOMAIN.  cmd names the command in messages;
 * route, when not NULL, is why plain `miglab migrate` chose libxenlight
 * (printed at -v).
 */
static int xen_migrate(int argc, char **argv, const char *cmd,
                       const char *route)
{
    struct migrate_args m = { .verbose = 0 };
    struct mig_xen_send_opts so = { 0 };
    enum mig_xen_stage stage;
    struct mig_chan *ch = NULL;
    struct mig_xen *x = NULL;
    struct mig_run run;
    pid_t child = -1;
    int status = -1, rc, ret;
    char err[300];
    double t0;

    ret = parse_migrate(argc, argv, cmd, route != NULL, &m);
    if (ret)
        return ret;
    if (m.help) {
        help(stdout);
        return CLI_OK;
    }
    if (route && m.verbose)
        fprintf(stderr, "miglab %s: through libxenlight (%s)\n", cmd, route);
    signal(SIGPIPE, SIG_IGN);
    ret = open_xen(cmd, m.verbose, &x);
    if (ret)
        return ret;
    if (mig_xen_select(x, m.dom, err, sizeof(err))) {
        cli_error(cmd, "%s", err);
        mig_xen_close(x);
        return CLI_FAILED;
    }
    t0 = mig__now();
    mig_xen_progress_init(mig_xen_progress(x), t0);
    if (m.ssh)
        rc = spawn_channel(m.ssh, &child, &ch);
    else
        rc = mig_chan_tcp_connect(m.host, (uint16_t)m.port, 30000, NULL, &ch);
    if (rc) {
        cli_error(cmd, "%s %s: %s", m.ssh ? "running" : "connecting to",
                  m.ssh ? m.ssh : m.host, mig_strerror(rc));
        mig_xen_close(x);
        return CLI_FAILED;
    }
    mig_run_init(&run);
    so.live = m.live;
    so.progress = mig_xen_progress(x);
    so.mem_pages = mig_xen_mem_pages(x);
    so.log = log_stderr;
    rc = mig_xen_send(ch, mig_xen_dom_ops(), x, &so, &run, &stage);
    mig_chan_free(ch);
    if (child > 0) {
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
            ;
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        if (status && !rc)
            fprintf(stderr, "miglab %s: receiver command exited %d\n", cmd,
                    status);
    }
    if (rc) {
        cli_error(cmd, "%s: failed at %s: %s%s%s", m.dom,
                  mig_xen_stage_name(stage), run.msg,
                  so.progress->last_error[0] ? "; last libxl error: " : "",
                  so.progress->last_error);
        if (m.json)
            print_run(&run, true, so.progress, status);
        ret = CLI_FAILED;
    } else {
        print_run(&run, m.json, so.progress, status);
        ret = CLI_OK;
    }
    mig_run_clear(&run);
    mig_xen_close(x);
    return ret;
}

static int xen_receive(int argc, char **argv)
{
    const char *listen = NULL;
    struct mig_xen_recv_opts ro = { 0 };
    enum mig_xen_stage stage;
    struct mig_chan *ch = NULL;
    struct mig_xen *x = NULL;
    int verbose = 0, rc, ret;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--listen") && i + 1 < argc) {
            listen = argv[++i];
        } else if (!strcmp(a, "stdio")) {
            listen = NULL;
        } else if (!strncmp(a, "-v", 2) && strspn(a + 1, "v") ==
                   strlen(a) - 1) {
            verbose += (int)strlen(a) - 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return CLI_OK;
        } else {
            cli_error(CMD, "receive: unknown argument '%s'", a);
            return CLI_USAGE;
        }
    }
    ret = open_xen(CMD, verbose, &x);
    if (ret)
        return ret;
    if (listen) {
        char host[256];
        uint16_t port, bound;
        int lfd;

        if (parse_hostport(listen, host, sizeof(host), &port)) {
            cli_error(CMD, "receive: bad --listen '%s' (ADDR:PORT)", listen);
            mig_xen_close(x);
            return CLI_USAGE;
        }
        rc = mig_tcp_listen(host[0] ? host : NULL, port, 1, &lfd, &bound);
        if (rc) {
            cli_error(CMD, "receive: listen %s: %s", listen,
                      mig_strerror(rc));
            mig_xen_close(x);
            return CLI_FAILED;
        }
        fprintf(stderr, "miglab xen receive: listening on %s:%u\n",
                host[0] ? host : "*", bound);
        rc = mig_chan_tcp_accept(lfd, -1, NULL, &ch);
        close(lfd);
        if (rc) {
            cli_error(CMD, "receive: accept: %s", mig_strerror(rc));
            mig_xen_close(x);
            return CLI_FAILED;
        }
    } else {
        /* stdin/stdout are the channel: nothing else may write stdout. */
        ch = mig_chan_fd_new(0, 1, 0);
        if (!ch) {
            mig_xen_close(x);
            return CLI_FAILED;
        }
    }
    ro.log = log_stderr;
    rc = mig_xen_recv(ch, mig_xen_dom_ops(), x, &ro, &stage);
    mig_chan_free(ch);
    if (rc) {
        cli_error(CMD, "receive: failed at %s: %s%s%s",
                  mig_xen_stage_name(stage), mig_strerror(rc),
                  mig_xen_progress(x)->last_error[0]
                      ? "; last libxl error: " : "",
                  mig_xen_progress(x)->last_error);
        ret = CLI_FAILED;
    }
    mig_xen_close(x);
    return ret;
}

static int xen_dirty(int argc, char **argv)
{
    const char *dom = NULL, *out = NULL, *wws = NULL;
    struct mig_xen_dirty_opts o = { .interval_s = 0.1, .duration_s = 10,
                                    .stop = &stop_flag };
    struct mig_xen_dirty *d = NULL;
    struct mig_xen *x = NULL;
    char err[300], comment[300], *wwsbuf = NULL;
    FILE *f;
    int verbose = 0, rc, ret;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if ((!strcmp(a, "--interval") || !strcmp(a, "--duration")) &&
            i + 1 < argc) {
            double *v = a[2] == 'i' ? &o.interval_s : &o.duration_s;

            if (sim_parse_time(argv[++i], v) || !(*v > 0)) {
                cli_error(CMD, "dirty: bad %s '%s'", a, argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--wws") && i + 1 < argc) {
            wws = argv[++i];
        } else if (!strncmp(a, "-v", 2) && strspn(a + 1, "v") ==
                   strlen(a) - 1) {
            verbose += (int)strlen(a) - 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return CLI_OK;
        } else if (a[0] != '-' && !dom) {
            dom = a;
        } else {
            cli_error(CMD, "dirty: unknown argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!dom) {
        cli_error(CMD, "dirty: need a DOMAIN (see --help)");
        return CLI_USAGE;
    }
    /* FORMAT §2: intervals of 1 ms .. 1 h. */
    if (o.interval_s < 1e-3 || o.interval_s > 3600 ||
        o.duration_s < o.interval_s) {
        cli_error(CMD, "dirty: need 1ms <= interval <= 1h and duration >= "
                  "interval");
        return CLI_USAGE;
    }
    ret = open_xen(CMD, verbose, &x);
    if (ret)
        return ret;
    if (mig_xen_select(x, dom, err, sizeof(err))) {
        cli_error(CMD, "dirty: %s", err);
        mig_xen_close(x);
        return CLI_FAILED;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = mig_xen_dirty_sample(x, &o, &d, err, sizeof(err));
    mig_xen_close(x);
    if (rc) {
        cli_error(CMD, "dirty %s: %s", dom, err);
        return CLI_FAILED;
    }
    snprintf(comment, sizeof(comment),
             "miglab xen dirty %s: log-dirty CLEAN every %gs for %zu "
             "intervals (%zu dirty pfns)", dom, o.interval_s, d->nintervals,
             d->npfns);
    f = out ? fopen(out, "w") : stdout;
    if (!f) {
        cli_error(CMD, "dirty: %s: %s", out, strerror(errno));
        mig_xen_dirty_free(d);
        return CLI_FAILED;
    }
    rc = mig_xen_dirty_write_trace(d, f, comment);
    if (out && fclose(f) && !rc)
        rc = -errno;
    if (!wws && out) {
        size_t l = strlen(out) + sizeof(".wws.json");

        wwsbuf = malloc(l);
        if (wwsbuf)
            snprintf(wwsbuf, l, "%s.wws.json", out);
        wws = wwsbuf;
    }
    if (!rc && wws) {
        f = fopen(wws, "w");
        rc = f ? mig_xen_dirty_write_wws(d, f) : -errno;
        if (f && fclose(f) && !rc)
            rc = -errno;
    }
    if (rc)
        cli_error(CMD, "dirty: writing: %s", mig_strerror(rc));
    else
        fprintf(stderr, "miglab xen dirty: %zu intervals of %gs, %.0f dirty "
                "pages/s%s%s%s%s\n", d->nintervals, d->interval_s,
                (double)d->npfns / ((double)d->nintervals * d->interval_s),
                out ? "; trace " : "", out ? out : "",
                wws ? ", working set " : "", wws ? wws : "");
    free(wwsbuf);
    mig_xen_dirty_free(d);
    return rc ? CLI_FAILED : CLI_OK;
}

int cmd_xen(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") ||
        !strcmp(sub, "help")) {
        help(sub ? stdout : stderr);
        return sub ? CLI_OK : CLI_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(sub, "migrate") && strcmp(sub, "receive") &&
        strcmp(sub, "dirty")) {
        cli_error(CMD, "unknown subcommand '%s' (migrate, receive, dirty)",
                  sub);
        return CLI_USAGE;
    }
    if (*mig_xen_compiled_out()) {
        bool h = false;

        for (int i = 2; i < argc; i++)
            h |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
        if (h) {
            help(stdout);
            return CLI_OK;
        }
        cli_error(CMD, "%s", mig_xen_compiled_out());
        return CLI_USAGE;
    }
    if (!strcmp(sub, "migrate"))
        return xen_migrate(argc - 1, argv + 1, CMD " migrate", NULL);
    if (!strcmp(sub, "receive"))
        return xen_receive(argc - 1, argv + 1);
    return xen_dirty(argc - 1, argv + 1);
}

/* ---------------------------------------------------------------------- *
 * Plain `miglab migrate` on a Xen host (docs/xen.md, "Which path")
 * ---------------------------------------------------------------------- */

/* Where this kernel says what kind of Xen domain it is; the environment
 * variable lets the tests play a dom0. */
static const char *xen_capabilities_path(void)
{
    const char *p = getenv("MIGLAB_XEN_CAPABILITIES");

    return p && *p ? p : XEN_CAPABILITIES;
}

/* True on a Xen control domain: its capabilities file says control_d. */
static bool xen_dom0_here(void)
{
    char buf[256];
    FILE *f = fopen(xen_capabilities_path(), "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "control_d") != NULL;
}

static bool has_arg(int argc, char **argv, const char *a, const char *b)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
            return true;
    return false;
}

void cmd_migrate_xen_help(FILE *out)
{
    fprintf(out,
        "\n"
        "usage: miglab migrate [--xen] [--live] [--json] [--ssh-cmd CMD | "
        "--port N] [-v]\n"
        "                      DOMAIN HOST[:PORT]\n"
        "\n"
        "A real Xen domain through libxenlight, as `miglab xen migrate` "
        "does (xl\nmigrate's "
        "handshake; the peer runs `miglab xen receive`, or `xl "
        "migrate-receive`\nthrough --ssh-cmd).  Port %d by default; --ssh-cmd CMD makes the "
        "stdin/stdout of\n"
        "`sh -c CMD` the channel.  Xen's built-in stop rule applies, so "
        "policy flags need\n"
        "a host daemon.  -v, -vv, -vvv: more libxl/libxc messages.\n"
        "\n"
        "Which path plain `miglab migrate` takes:\n"
        "  --xen                 libxenlight; exit 2 when this miglab has "
        "no Xen backend\n"
        "                        or this is not a Xen dom0\n"
        "  --control PATH or $MIGLAB_CONTROL   the host daemon\n"
        "  otherwise             libxenlight when this miglab has the Xen "
        "backend,\n"
        "                        %s says control_d and no\n"
        "                        host daemon answers at %s;\n"
        "                        the host daemon otherwise\n",
        XEN_PORT_DEFAULT, XEN_CAPABILITIES, MIG_HOST_CONTROL_DEFAULT);
}

int cmd_migrate_xen(int argc, char **argv, int *status)
{
    const char *env = getenv("MIGLAB_CONTROL");
    bool xen = has_arg(argc, argv, "--xen", NULL);
    bool control = has_arg(argc, argv, "--control", NULL);
    const char *route;
    int fd;

    if (xen && control) {
        cli_error("migrate", "--xen (libxenlight) and --control (a host "
                  "daemon) exclude each other");
        *status = CLI_USAGE;
        return 1;
    }
    if (xen && has_arg(argc, argv, "--help", "-h")) {
        cmd_migrate_xen_help(stdout);
        *status = CLI_OK;
        return 1;
    }
    if (xen) {
        if (*mig_xen_compiled_out()) {
            cli_error("migrate", "--xen: %s", mig_xen_compiled_out());
            *status = CLI_USAGE;
            return 1;
        }
        if (!xen_dom0_here()) {
            cli_error("migrate", "--xen: no Xen hypervisor here: %s does not "
                      "say control_d (not a Xen dom0)",
                      xen_capabilities_path());
            *status = CLI_USAGE;
            return 1;
        }
        route = "--xen";
    } else {
        if (control || (env && *env) || has_arg(argc, argv, "--help", "-h") ||
            *mig_xen_compiled_out() || !xen_dom0_here())
            return 0;
        fd = mig_host_control_connect(NULL);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        route = "a Xen dom0 and no host daemon at " MIG_HOST_CONTROL_DEFAULT;
    }
    *status = xen_migrate(argc, argv, "migrate", route);
    return 1;
}
