/* SPDX-License-Identifier: MIT */
/*
 * runner.c - `miglab run`: predict a scenario, then perform it on the
 * testbed and collect what it measured (runner.h; flow in docs/runner.md).
 *
 * Everything real goes through the fixed command-line interfaces of issue
 * 3 (`miglab host`, `create`, `migrate --json`), started inside the
 * testbed namespaces with `ip netns exec NS MIGLAB ...`; the runner's own
 * children (heartbeat prober, capture) are hidden modes of the same binary
 * (runner_child.c).  Every process started here is stopped here; the
 * testbed goes down on every path out, signals included, unless --keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mig_err.h"
#include "heartbeat.h"
#include "profile.h"
#include "result_json.h"
#include "runner.h"
#include "runner_int.h"
#include "testbed.h"
#include "units.h"

#define MAX_PFLAGS 24U
#define OUT_MAX (4U << 20)

struct runner {
    const struct run_opts *o;
    struct sim_scenario sc;         /* with the profile applied, if any */
    struct sim_result pred;         /* what expectations are judged on:
                                       calibrated when there is a profile */
    struct sim_result pred_uncal;   /* the defaults' prediction */
    struct sim_profile prof;
    const char *prof_path;          /* NULL: no profile */
    const struct sim_profile_point *point;
    struct tb_config tb;
    bool tb_up;
    char dir[256];                  /* state directory */
    char ns[TB_NHOSTS][32];
    pid_t host[2], probe, capture;
    bool have_ip;                   /* `miglab create --ip` and `miglab
                                       host --guest-dev` exist */
    char key[300];                  /* the daemons' --psk file */
    char cc_used[32];
    char cc_note[200];
    /* [migration] keys of the file other than mode, as migrate flags. */
    char *pflag[MAX_PFLAGS];
    char *pval[MAX_PFLAGS];
    size_t npflags;
};

static bool stopped(const struct runner *R)
{
    return R->o->stop && *R->o->stop;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("miglab run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool file_has(const char *path, const char *needle)
{
    char *s = runner__slurp(path, 65536);
    bool yes = s && strstr(s, needle);

    free(s);
    return yes;
}

/*
 * Start argv with stdout to out_path and stderr to err_path (either may be
 * NULL: /dev/null) and wait up to timeout_s.  Returns the exit status,
 * 128 + signal, -ETIMEDOUT (killed), -EINTR (stop requested: killed) or
 * -errno.
 */
static int run_wait(const struct runner *R, char *const argv[],
                    const char *out_path, const char *err_path,
                    double timeout_s)
{
    double end = testbed_now() + timeout_s;
    pid_t pid;
    int st;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int fo = open(out_path ? out_path : "/dev/null",
                      O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path ? err_path : "/dev/null",
                      O_WRONLY | O_CREAT | O_APPEND, 0644);
        int fi = open("/dev/null", O_RDONLY);

        if (fo < 0 || fe < 0 || fi < 0)
            _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (stopped(R) || testbed_now() > end) {
            kill(pid, SIGTERM);
            testbed_reap(pid, 2.0);
            return stopped(R) ? -EINTR : -ETIMEDOUT;
        }
        usleep(5000);
    }
}

/* Wait until file path contains needle; fails when pid (if > 0) exits. */
static int wait_for(const struct runner *R, const char *path,
                    const char *needle, pid_t pid, double timeout_s)
{
    double end = testbed_now() + timeout_s;

    while (testbed_now() < end && !stopped(R)) {
        int st;

        if (file_has(path, needle))
            return 0;
        if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
            return -ECHILD;
        usleep(10000);
    }
    return stopped(R) ? -EINTR : -ETIMEDOUT;
}

/* Start SELF ARGS... inside namespace ns, output to log. */
static pid_t spawn_in(const struct runner *R, enum tb_host h,
                      const char *log, const char *const *args)
{
    char *argv[24];
    size_t n = 0;

    argv[n++] = "ip";
    argv[n++] = "netns";
    argv[n++] = "exec";
    argv[n++] = (char *)R->ns[h];
    argv[n++] = (char *)R->o->self_exe;
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return testbed_spawn(argv, log);
}

/* Stop a child we started: SIGTERM, then SIGKILL after grace_s. */
static void stop_child(pid_t *pid, double grace_s)
{
    int st;

    if (*pid <= 0)
        return;
    if (waitpid(*pid, &st, WNOHANG) != *pid) {
        kill(*pid, SIGTERM);
        testbed_reap(*pid, grace_s);
    }
    *pid = 0;
}

/* True when `miglab CMD --help` mentions flag. */
static bool help_mentions(const struct runner *R, const char *cmd,
                          const char *flag)
{
    char *argv[] = { (char *)R->o->self_exe, (char *)cmd, "--help", NULL };
    char out[8192];

    if (testbed_run(argv, true, out, sizeof(out)) != 0)
        return false;
    return strstr(out, flag) != NULL;
}

/* ---- the scenario's policy flags, verbatim from [migration] ---------- */

/* True when [migration] key is a boolean (a flag without a value). */
static bool key_is_boolean(const char *key)
{
    const struct sim_scenario_key *k;

    for (size_t i = 0; (k = sim_scenario_key_at(i)); i++)
        if (!strcmp(k->section, "migration") && !strcasecmp(k->key, key))
            return k->boolean;
    return false;
}

static bool is_true(const char *v)
{
    return !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
           !strcasecmp(v, "on") || !strcmp(v, "1");
}

/*
 * inih handler: each [migration] key but mode becomes a `miglab migrate`
 * policy flag with the file's own value text ("max_passes = 5" ->
 * "--max-passes" "5"), so units are parsed by the same code as the file.
 * Booleans become a bare flag when true and are left out when false.
 */
static int collect_policy(void *user, const char *section, const char *key,
                          const char *value)
{
    struct runner *R = user;
    char flag[64];

    if (strcasecmp(section, "migration") || !strcasecmp(key, "mode"))
        return 1;
    if (R->npflags == MAX_PFLAGS)
        return 1;
    if (key_is_boolean(key) && !is_true(value))
        return 1;
    snprintf(flag, sizeof(flag), "--%s", key);
    for (char *p = flag; *p; p++)
        if (*p == '_')
            *p = '-';
    R->pflag[R->npflags] = strdup(flag);
    R->pval[R->npflags] = key_is_boolean(key) ? NULL : strdup(value);
    R->npflags++;
    return 1;
}

/* ---- testbed and hosts ------------------------------------------------ */

static int bed_up(struct runner *R, char *err, size_t errlen)
{
    const struct sim_link *l = &R->sc.cfg.link;
    int rc;

    memset(&R->tb, 0, sizeof(R->tb));
    snprintf(R->tb.id, sizeof(R->tb.id), "run%u", (unsigned)getpid() % 1000000);
    R->tb.emulator = TB_EMU_AUTO;
    R->tb.jitter_dist = TB_JITTER_UNIFORM;
    for (int d = 0; d < 2; d++) {
        R->tb.dir[d].rate_bps = l->bandwidth_bps;
        R->tb.dir[d].delay_s = l->rtt_s / 2;
        R->tb.dir[d].jitter_s = l->jitter_s / 2;
        R->tb.dir[d].loss = l->loss;
        R->tb.dir[d].queue_bytes = (double)sim_link_queue_bytes(l);
    }
    rc = testbed_up(&R->tb, err, errlen);
    if (rc)
        return rc;
    R->tb_up = true;
    for (int h = 0; h < TB_NHOSTS; h++)
        testbed_ns_name(R->ns[h], sizeof(R->ns[h]), R->tb.id,
                        (enum tb_host)h);
    testbed_state_path(R->dir, sizeof(R->dir), R->tb.id, NULL);
    return 0;
}

/* The sender's congestion control (docs/runner.md "Congestion control"):
 * set per socket by `miglab migrate --cc`. */
static void set_cc(struct runner *R)
{
    snprintf(R->cc_used, sizeof(R->cc_used), "%s",
             sim_cc_name(R->sc.cfg.link.cc));
    snprintf(R->cc_note, sizeof(R->cc_note),
             "set per socket by miglab migrate --cc");
}

/*
 * A fresh random 32-byte key for this run's two daemons (--psk), mode
 * 0600 in the run directory: only they may push a guest into each other.
 */
static int write_key(struct runner *R, char *err, size_t errlen)
{
    uint8_t key[32];
    ssize_t w;
    int fd, rc = 0;

    snprintf(R->key, sizeof(R->key), "%s/psk", R->dir);
    (void)unlink(R->key);
    fd = open(R->key, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create the key file %s: %s", R->key,
                 strerror(errno));
        return rc;
    }
    randombytes_buf(key, sizeof(key));
    w = write(fd, key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    if (w != (ssize_t)sizeof(key)) {
        rc = w < 0 ? -errno : -EIO;
        snprintf(err, errlen, "cannot write the key file %s: %s", R->key,
                 strerror(-rc));
    }
    close(fd);
    return rc;
}

static int hosts_up(struct runner *R, unsigned k, char *err, size_t errlen)
{
    static const char *const addr[2] = { TB_MIG_H1 ":8002",
                                         TB_MIG_H2 ":8002" };
    uint64_t mem = R->sc.cfg.mem_bytes, cap;

    for (int h = 0; h < 2; h++) {
        char sock[300], log[300], capbuf[32], name[16];
        const char *args[18];
        size_t n = 0;
        int rc;

        cap = mem * 2 + (256ULL << 20);
        if (h == 1 && R->sc.dest_capacity)
            cap = R->sc.dest_capacity;
        snprintf(capbuf, sizeof(capbuf), "%llu", (unsigned long long)cap);
        snprintf(sock, sizeof(sock), "%s/h%d.sock", R->dir, h + 1);
        snprintf(log, sizeof(log), "%s/h%d-r%u.log", R->dir, h + 1, k);
        snprintf(name, sizeof(name), "h%d", h + 1);
        args[n++] = "host";
        args[n++] = "--listen";
        args[n++] = addr[h];
        args[n++] = "--mem-capacity";
        args[n++] = capbuf;
        args[n++] = "--control";
        args[n++] = sock;
        args[n++] = "--name";
        args[n++] = name;
        /* Only the other daemon, over the migration link, with the key. */
        args[n++] = "--psk";
        args[n++] = R->key;
        args[n++] = "--allow";
        args[n++] = TB_MIG_NET;
        if (R->have_ip) {
            /* The guest's address lives on the LAN side, where the client
             * probes it; it moves with the guest. */
            args[n++] = "--guest-dev";
            args[n++] = TB_LAN_DEV;
        }
        args[n] = NULL;
        R->host[h] = spawn_in(R, (enum tb_host)h, log, args);
        if (R->host[h] < 0) {
            snprintf(err, errlen, "cannot start the host daemon in %s: %s",
                     R->ns[h], strerror(-R->host[h]));
            R->host[h] = 0;
            return MIG_EIO;
        }
        rc = wait_for(R, log, "listening on", R->host[h], 10.0);
        if (rc) {
            char *l = runner__slurp(log, 512);

            snprintf(err, errlen, "host daemon in %s did not start: %s",
                     R->ns[h], l && *l ? l : strerror(-rc));
            err[strcspn(err, "\n")] = '\0';
            free(l);
            return rc == -EINTR ? rc : MIG_EIO;
        }
    }
    return 0;
}

static void hosts_down(struct runner *R)
{
    stop_child(&R->host[0], 5.0);
    stop_child(&R->host[1], 5.0);
}

/* ---- one repeat ------------------------------------------------------- */

static int create_guest(struct runner *R, unsigned k, char *err,
                        size_t errlen)
{
    char mem[32], vcpus[16], seed[32], sock[300], log[300];
    const char *wl = R->sc.workload_spec ? R->sc.workload_spec : "idle";
    char *argv[20];
    size_t n = 0;
    int rc;

    snprintf(mem, sizeof(mem), "%llu",
             (unsigned long long)R->sc.cfg.mem_bytes);
    snprintf(vcpus, sizeof(vcpus), "%u", R->sc.cfg.vcpus);
    snprintf(seed, sizeof(seed), "%llu",
             (unsigned long long)(R->sc.cfg.seed + k - 1));
    snprintf(sock, sizeof(sock), "%s/h1.sock", R->dir);
    snprintf(log, sizeof(log), "%s/create-r%u.log", R->dir, k);
    argv[n++] = (char *)R->o->self_exe;
    argv[n++] = "create";
    argv[n++] = "vm";
    argv[n++] = "--mem";
    argv[n++] = mem;
    argv[n++] = "--workload";
    argv[n++] = (char *)wl;
    argv[n++] = "--vcpus";
    argv[n++] = vcpus;
    argv[n++] = "--seed";
    argv[n++] = seed;
    if (R->have_ip) {
        argv[n++] = "--ip";
        argv[n++] = RUN_GUEST_IP;
    }
    argv[n++] = "--control";
    argv[n++] = sock;
    argv[n] = NULL;
    rc = run_wait(R, argv, log, log, 60.0);
    if (rc) {
        char *l = runner__slurp(log, 512);

        snprintf(err, errlen, "miglab create failed (%d): %s", rc,
                 l ? l : "");
        err[strcspn(err, "\n")] = '\0';
        free(l);
        return rc < 0 ? rc : MIG_EIO;
    }
    return 0;
}

/* Start one of our hidden child modes in host h's namespace and wait for
 * its "ready" line; *pid is 0 when it could not be started. */
static int start_child(const struct runner *R, enum tb_host h,
                       const char *log, const char **args, pid_t *pid)
{
    *pid = spawn_in(R, h, log, args);
    if (*pid < 0) {
        *pid = 0;
        return MIG_EIO;
    }
    return wait_for(R, log, "ready", *pid, 5.0);
}

static int start_probe(struct runner *R, unsigned k, char *out, size_t len)
{
    char port[8], ival[32], log[300];
    const char *args[8];

    snprintf(out, len, "%s/heartbeat-r%u.json", R->dir, k);
    snprintf(log, sizeof(log), "%s/probe-r%u.log", R->dir, k);
    snprintf(port, sizeof(port), "%u", MIG_HB_PORT);
    snprintf(ival, sizeof(ival), "%g", RUN_HB_INTERVAL_S);
    args[0] = "run";
    args[1] = "--probe-child";
    args[2] = RUN_GUEST_IP;
    args[3] = port;
    args[4] = ival;
    args[5] = out;
    args[6] = NULL;
    return start_child(R, TB_CL, log, args, &R->probe);
}

static int start_capture(struct runner *R, unsigned k, char *out, size_t len,
                         char *log, size_t loglen)
{
    char snap[16], port[8];
    const char *args[8];

    snprintf(out, len, "%s/mig0-r%u.pcap", R->dir, k);
    snprintf(log, loglen, "%s/capture-r%u.log", R->dir, k);
    snprintf(snap, sizeof(snap), "%d", RUN_SNAPLEN);
    snprintf(port, sizeof(port), "%u", RUN_MIG_PORT);
    args[0] = "run";
    args[1] = "--capture-child";
    args[2] = TB_MIG_DEV;
    args[3] = out;
    args[4] = snap;
    args[5] = port;
    args[6] = NULL;
    return start_child(R, TB_H2, log, args, &R->capture);
}

static void jset(struct json_object *o, const char *k, struct json_object *v)
{
    json_object_object_add(o, k, v);
}

/* After a refusal: the guest is listed as running on h1 (one bound). */
static void source_check(struct runner *R, unsigned k,
                         struct json_object *exp, unsigned *failed)
{
    char sock[300], out[300];
    char *argv[] = { (char *)R->o->self_exe, "list", "--json", "--control",
                     sock, NULL };
    struct json_object *l, *g, *o = json_object_new_object();
    const char *state = NULL;

    snprintf(sock, sizeof(sock), "%s/h1.sock", R->dir);
    snprintf(out, sizeof(out), "%s/list-r%u.json", R->dir, k);
    run_wait(R, argv, out, NULL, 10.0);
    l = json_object_from_file(out);
    if (l && json_object_object_get_ex(l, "guests", &g) &&
        json_object_array_length(g) == 1) {
        struct json_object *st;

        if (json_object_object_get_ex(json_object_array_get_idx(g, 0),
                                      "state", &st))
            state = json_object_get_string(st);
    }
    jset(o, "name", json_object_new_string("guest_at_source"));
    jset(o, "pass", json_object_new_boolean(state && !strcmp(state,
                                                             "running")));
    {
        char text[160];

        snprintf(text, sizeof(text), "after the refusal the guest runs at "
                 "the source (h1 lists it as %s)", state ? state : "absent");
        jset(o, "text", json_object_new_string(text));
    }
    json_object_array_add(exp, o);
    *failed += !(state && !strcmp(state, "running"));
    json_object_put(l);
}

static int one_repeat(struct runner *R, unsigned k, struct json_object *rep,
                      unsigned *failed)
{
    char err[512] = "", hbpath[300] = "", pcap[300] = "", caplog[300] = "";
    char sock[300], out[300], elog[300];
    struct json_object *meas = NULL, *down = json_object_new_object();
    struct json_object *exp = json_object_new_array(), *v;
    struct sim_result m;
    char *argv[20 + 2 * MAX_PFLAGS];
    size_t n = 0;
    int64_t t0_ns;
    double launch, done;
    int rc, integ = -1;
    bool refused = false;

    sim_result_init(&m);
    jset(rep, "repeat", json_object_new_int64(k));
    jset(rep, "downtime", down);
    rc = hosts_up(R, k, err, sizeof(err));
    if (!rc)
        rc = create_guest(R, k, err, sizeof(err));
    if (rc)
        goto out;
    if (R->have_ip) {
        if (start_probe(R, k, hbpath, sizeof(hbpath))) {
            stop_child(&R->probe, 1.0);
            hbpath[0] = '\0';
            jset(down, "network_note",
                 json_object_new_string("the heartbeat prober did not start"));
        }
    } else {
        jset(down, "network_note", json_object_new_string(
                 "unavailable: the host daemon gives guests no IP address "
                 "(miglab create has no --ip or miglab host no "
                 "--guest-dev), so nothing answers heartbeats"));
    }
    if (start_capture(R, k, pcap, sizeof(pcap), caplog, sizeof(caplog))) {
        char *l = runner__slurp(caplog, 300);

        stop_child(&R->capture, 1.0);
        jset(down, "wire_note", json_object_new_string(
                 l && *l ? l : "the capture did not start"));
        free(l);
        pcap[0] = '\0';
    }
    /* Let the workload dirty memory and the prober see a steady guest. */
    usleep(300000);

    snprintf(sock, sizeof(sock), "%s/h1.sock", R->dir);
    snprintf(out, sizeof(out), "%s/migrate-r%u.json", R->dir, k);
    snprintf(elog, sizeof(elog), "%s/migrate-r%u.log", R->dir, k);
    argv[n++] = (char *)R->o->self_exe;
    argv[n++] = "migrate";
    if (R->sc.cfg.mode == SIM_MODE_LIVE)
        argv[n++] = "--live";
    argv[n++] = "vm";
    argv[n++] = TB_MIG_H2 ":8002";
    for (size_t i = 0; i < R->npflags; i++) {
        if (!R->pflag[i])
            continue;
        argv[n++] = R->pflag[i];
        if (R->pval[i])
            argv[n++] = R->pval[i];
    }
    argv[n++] = "--cc";
    argv[n++] = (char *)sim_cc_name(R->sc.cfg.link.cc);
    argv[n++] = "--json";
    argv[n++] = "--control";
    argv[n++] = sock;
    argv[n] = NULL;
    launch = wall_now();
    say("repeat %u: migrating %s", k,
        R->sc.cfg.mode == SIM_MODE_LIVE ? "live" : "cold");
    rc = run_wait(R, argv, out, elog,
                  fmax(120.0, 10 * R->pred.total_time_s + 30));
    done = wall_now();
    jset(rep, "migrate_exit", json_object_new_int64(rc));
    {
        char *l = runner__slurp(elog, 4096);

        if (l && *l)
            jset(rep, "migrate_stderr", json_object_new_string(l));
        /* The measured JSON has no "refused" flag: the host's admission
         * message ("host h2 refuses guest vm: ...") is the sign. */
        refused = rc == 1 && l && strstr(l, " refuses guest ");
        free(l);
    }
    /* Replies resume once the guest runs at h2 and announces itself. */
    usleep(300000);
    stop_child(&R->probe, 2.0);
    stop_child(&R->capture, 10.0);
    meas = json_object_from_file(out);
    if (meas && runner_result_from_json(meas, &m) == 0) {
        jset(rep, "measured", json_object_get(meas));
        if (refused)
            m.outcome = SIM_OUTCOME_REFUSED;
    } else if (refused) {
        m.outcome = SIM_OUTCOME_REFUSED;
    } else if (rc == -EINTR || rc == -ETIMEDOUT) {
        snprintf(err, sizeof(err), "miglab migrate %s",
                 rc == -EINTR ? "interrupted" : "timed out: killed");
        goto out;
    } else {
        snprintf(err, sizeof(err), "miglab migrate exited %d without a "
                 "result (see migrate_stderr)", rc);
        rc = rc ? rc : MIG_EIO;
        goto out;
    }
    if (m.outcome == SIM_OUTCOME_REFUSED) {
        /* A refusal before any page: nothing paused, nothing sent, and the
         * guest must still run at the source. */
        m.downtime_s = 0;
        m.converged = false;
        source_check(R, k, exp, failed);
    }
    t0_ns = (int64_t)(launch * 1e9);
    if (pcap[0] && m.outcome != SIM_OUTCOME_REFUSED)
        runner__wire(pcap, caplog, meas, &t0_ns, rep, down);
    else if (pcap[0])
        jset(down, "wire_note", json_object_new_string(
                 "refused before any page: no pause to see"));
    /* A full capture is about 1.3 x the guest: keep it only on request. */
    if (pcap[0] && !R->o->keep)
        unlink(pcap);
    jset(rep, "t0_unix_s", json_object_new_double((double)t0_ns * 1e-9));
    jset(rep, "migrate_wall_s", json_object_new_double(done - launch));
    if (hbpath[0])
        runner__heartbeat(hbpath, t0_ns,
                          t0_ns + (int64_t)((done - launch + 0.3) * 1e9), rep,
                          down);
    jset(down, "implementation_s",
         m.outcome == SIM_OUTCOME_COMPLETED
             ? json_object_new_double(m.downtime_s) : NULL);
    if (meas && json_object_object_get_ex(meas, "integrity", &v) &&
        json_object_object_get_ex(v, "checked", &v) &&
        json_object_get_boolean(v)) {
        json_object_object_get_ex(meas, "integrity", &v);
        json_object_object_get_ex(v, "ok", &v);
        integ = json_object_get_boolean(v);
    }
    jset(rep, "comparison", runner__compare(&R->pred_uncal, &m));
    if (R->prof_path)
        jset(rep, "comparison_calibrated", runner__compare(&R->pred, &m));
    *failed += runner_expect_check(&R->sc.expect, &R->pred, &m, integ, exp);
    jset(rep, "outcome", json_object_new_string(sim_outcome_name(m.outcome)));
    rc = 0;
out:
    if (rc) {
        struct json_object *o = json_object_new_object();
        char text[sizeof(err) + 32];

        snprintf(text, sizeof(text), "the run completed: %s", err);
        jset(o, "name", json_object_new_string("run"));
        jset(o, "pass", json_object_new_boolean(false));
        jset(o, "text", json_object_new_string(text));
        json_object_array_add(exp, o);
        *failed = 1;
        say("repeat %u failed: %s", k, err);
    }
    jset(rep, "expectations", exp);
    jset(rep, "failed", json_object_new_int64(*failed));
    jset(rep, "ok", json_object_new_boolean(rc == 0 && *failed == 0));
    jset(rep, "error", rc ? json_object_new_string(err) : NULL);
    stop_child(&R->probe, 1.0);
    stop_child(&R->capture, 5.0);
    hosts_down(R);
    json_object_put(meas);
    sim_result_clear(&m);
    return rc;
}

/* ---- the whole run ---------------------------------------------------- */

/* Prediction of R->sc into p, with the admission rule the simulator does
 * not model. */
static int predict(struct runner *R, struct sim_result *p, char *err,
                   size_t errlen)
{
    int rc = sim_run(&R->sc.cfg, p);

    if (rc) {
        snprintf(err, errlen, "prediction failed: %s", mig_strerror(rc));
        return rc;
    }
    if (R->sc.dest_capacity && R->sc.dest_capacity < R->sc.cfg.mem_bytes) {
        p->outcome = SIM_OUTCOME_REFUSED;
        p->converged = false;
        p->downtime_s = 0;
        p->total_time_s = p->setup_s;
        p->bytes_sent = 0;
        p->pages_sent = 0;
        p->live_passes = 0;
        p->npasses = 0;
    }
    return 0;
}

/*
 * The uncalibrated prediction, then (with a profile: --profile, else the
 * scenario's [run] profile) the profile applied under the file's own keys
 * and the calibrated one.  MIG_EINVAL for a bad profile (err: FILE:LINE).
 */
static int predict_both(struct runner *R, char *err, size_t errlen)
{
    int rc = predict(R, &R->pred_uncal, err, errlen);

    R->prof_path = R->o->profile_path ? R->o->profile_path : R->sc.profile;
    if (rc || !R->prof_path)
        return rc ? rc : predict(R, &R->pred, err, errlen);
    rc = sim_profile_load(&R->prof, R->prof_path, err, errlen);
    if (!rc)
        rc = sim_profile_apply(&R->prof, &R->sc, &R->point, err, errlen);
    if (!rc)
        rc = sim_scenario_validate(&R->sc, err, errlen);
    if (rc)
        return rc == MIG_ENOMEM ? rc : MIG_EINVAL;
    return predict(R, &R->pred, err, errlen);
}

/* doc "calibrated": the profile, its matching point and the prediction. */
static struct json_object *calibrated_json(const struct runner *R)
{
    struct json_object *o = json_object_new_object();

    jset(o, "profile", json_object_new_string(R->prof_path));
    jset(o, "point", R->point ? json_object_new_string(R->point->name)
                              : NULL);
    jset(o, "note", json_object_new_string(
             R->point ? "fixed costs and goodput measured at this network"
                      : "no network point of the profile matches: only its "
                        "[costs] apply, goodput is the link model's"));
    jset(o, "inputs", sim_scenario_to_json(&R->sc));
    jset(o, "predicted", sim_result_to_json(&R->pred));
    return o;
}

int runner_run(const struct run_opts *o, struct json_object **out,
               char *err, size_t errlen)
{
    struct runner R;
    struct json_object *doc = NULL, *runs, *scn, *inputs = NULL;
    unsigned repeats, failed_total = 0;
    char when[32];
    time_t now = time(NULL);
    int rc;

    if (out)
        *out = NULL;
    memset(&R, 0, sizeof(R));
    R.o = o;
    sim_scenario_init(&R.sc);
    sim_result_init(&R.pred);
    sim_result_init(&R.pred_uncal);
    sim_profile_init(&R.prof);
    rc = sim_scenario_load(&R.sc, o->scenario_path, err, errlen);
    if (!rc)
        rc = sim_scenario_validate(&R.sc, err, errlen);
    if (rc) {
        /* An unreadable file is bad input too (exit 2), like a bad key. */
        rc = rc == MIG_ENOMEM ? rc : MIG_EINVAL;
        goto out_free;
    }
    if (!R.sc.name) {
        const char *b = strrchr(o->scenario_path, '/');
        char *dot;

        R.sc.name = strdup(b ? b + 1 : o->scenario_path);
        if (R.sc.name && (dot = strrchr(R.sc.name, '.')))
            *dot = '\0';
    }
    if (ini_parse(o->scenario_path, collect_policy, &R) < 0) {
        snprintf(err, errlen, "%s: cannot read", o->scenario_path);
        rc = MIG_EINVAL;
        goto out_free;
    }
    /* The inputs as written, before a profile fills in costs. */
    inputs = sim_scenario_to_json(&R.sc);
    rc = predict_both(&R, err, errlen);
    if (rc)
        goto out_free;
    if (geteuid() != 0) {
        snprintf(err, errlen, "the testbed needs root (network namespaces, "
                 "TUN devices); run as root or use miglab predict");
        rc = MIG_ENOTSUP;
        goto out_free;
    }
    if (access("/proc/self/ns/net", R_OK) != 0) {
        snprintf(err, errlen, "no network namespaces here");
        rc = MIG_ENOTSUP;
        goto out_free;
    }
    repeats = o->repeats ? o->repeats : R.sc.repeats;
    doc = json_object_new_object();
    if (!doc) {
        rc = MIG_ENOMEM;
        goto out_free;
    }
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    scn = json_object_new_object();
    jset(scn, "name", json_object_new_string(R.sc.name));
    jset(scn, "description", R.sc.description
                                 ? json_object_new_string(R.sc.description)
                                 : NULL);
    jset(scn, "file", json_object_new_string(o->scenario_path));
    if (R.sc.dest_capacity)
        jset(scn, "dest_capacity",
             json_object_new_int64((int64_t)R.sc.dest_capacity));
    jset(doc, "miglab_run", json_object_new_int(1));
    jset(doc, "scenario", scn);
    jset(doc, "started", json_object_new_string(when));
    jset(doc, "inputs", inputs);
    inputs = NULL;
    jset(doc, "predicted", sim_result_to_json(&R.pred_uncal));
    say("%s: predicted total %.3f s, downtime %.1f ms, %s", R.sc.name,
        R.pred_uncal.total_time_s, R.pred_uncal.downtime_s * 1e3,
        sim_outcome_name(R.pred_uncal.outcome));
    if (R.prof_path) {
        jset(doc, "calibrated", calibrated_json(&R));
        say("%s: calibrated (%s, point %s): total %.3f s, downtime %.1f ms",
            R.sc.name, R.prof_path, R.point ? R.point->name : "none",
            R.pred.total_time_s, R.pred.downtime_s * 1e3);
    }

    rc = bed_up(&R, err, errlen);
    if (rc)
        goto out_doc;
    say("testbed %s up, link emulator %s, bottleneck queue %.0f bytes",
        R.tb.id, R.tb.emulator_name, R.tb.dir[0].queue_bytes);
    jset(doc, "emulator", json_object_new_string(R.tb.emulator_name));
    jset(doc, "testbed", runner__testbed_json(&R.tb));
    R.have_ip = help_mentions(&R, "create", "--ip") &&
                help_mentions(&R, "host", "--guest-dev");
    set_cc(&R);
    rc = write_key(&R, err, errlen);
    if (rc)
        goto out_doc;
    {
        struct json_object *cc = json_object_new_object();

        jset(cc, "requested", json_object_new_string(
                                  sim_cc_name(R.sc.cfg.link.cc)));
        jset(cc, "used", json_object_new_string(R.cc_used));
        jset(cc, "how", json_object_new_string(R.cc_note));
        jset(doc, "cc", cc);
    }
    runs = json_object_new_array();
    jset(doc, "runs", runs);
    for (unsigned k = 1; k <= repeats && !stopped(&R); k++) {
        struct json_object *rep = json_object_new_object();
        unsigned failed = 0;

        json_object_array_add(runs, rep);
        one_repeat(&R, k, rep, &failed);
        failed_total += failed;
    }
    if (stopped(&R)) {
        snprintf(err, errlen, "interrupted");
        rc = -EINTR;
    }
    jset(doc, "expectations_failed", json_object_new_int64(failed_total));
    jset(doc, "ok", json_object_new_boolean(failed_total == 0 && rc == 0));
out_doc:
    if (R.tb_up && !o->keep)
        testbed_down(R.tb.id);
    else if (R.tb_up)
        say("--keep: testbed %s left up (miglab testbed down %s)", R.tb.id,
            R.tb.id);
    if (out)
        *out = doc;
    else
        json_object_put(doc);
out_free:
    for (size_t i = 0; i < R.npflags; i++) {
        free(R.pflag[i]);
        free(R.pval[i]);
    }
    json_object_put(inputs);
    sim_result_clear(&R.pred);
    sim_result_clear(&R.pred_uncal);
    sim_profile_free(&R.prof);
    sim_scenario_free(&R.sc);
    return rc;
}
