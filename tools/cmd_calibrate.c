/* SPDX-License-Identifier: MIT */
/*
 * cmd_calibrate.c - `miglab calibrate`: for each network point of the
 * given scenarios, migrate an idle guest live and cold on the runner's
 * testbed (runner_run() on a generated idle scenario, so the testbed, the
 * hosts, the capture and the prober are exactly those of `miglab run`),
 * derive the fixed costs and the goodput (calibrate_derive.c) and write a
 * host profile (sim/profile.h).  Method: docs/calibrate.md.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "cli.h"
#include "mig_err.h"
#include "runner.h"
#include "units.h"

#define CMD "calibrate"
#define MAX_SCENARIOS 64U
#define EXIT_CANNOT 77          /* no testbed here (not root, no netns) */

static volatile sig_atomic_t calib_stop;

static void on_signal(int sig)
{
    (void)sig;
    calib_stop = 1;
}

static void help(FILE *f)
{
    fprintf(f,
            "usage: miglab calibrate [--scenario FILE ...] [--repeat N] "
            "[--out FILE]\n"
            "                        [--mem SIZE] [--no-cold] [--json]\n\n"
            "Measure this testbed: for each network point (bandwidth, rtt, "
            "jitter, loss,\ncc, window) of the scenarios, migrate an idle "
            "guest live and cold N times\nwith miglab run's machinery, and "
            "write a host profile: the goodput of the\nmigration stream "
            "and the fixed costs (suspend, unpause, restore, setup) that\n"
            "make the simulator reproduce the idle runs.  Use it with "
            "miglab predict\n--profile FILE and miglab run --profile FILE "
            "(docs/calibrate.md).\n\n"
            "  --scenario FILE  a scenario whose network to measure "
            "(repeatable;\n"
            "                   scenarios/quickstart.ini)\n"
            "  --repeat N       migrations per mode and point (3)\n"
            "  --out FILE       the profile (build/host-profile.ini)\n"
            "  --mem SIZE       idle guest memory (the largest of the "
            "point's scenarios)\n"
            "  --no-cold        live migrations only (no restore_cold)\n"
            "  --json           print the measurements and the costs as "
            "JSON\n\n"
            "Exit status: 0 profile written; 1 a migration failed; 2 bad "
            "input;\n77 no testbed here (not root, no network namespaces; "
            "one line says why).\n");
}

struct point_plan {
    struct sim_profile_point *pt;   /* in the profile */
    uint64_t mem;                   /* idle guest memory: the largest of
                                       the point's scenarios */
    unsigned vcpus;
    char scenarios[512];            /* names, for provenance */
    struct calib_measure live, cold;
    struct calib_costs costs;
};

struct calib {
    const char *files[MAX_SCENARIOS];
    size_t nfiles;
    unsigned repeats;
    const char *out;
    uint64_t mem;                   /* 0 = per point */
    bool cold, json;
    char self[PATH_MAX];
    char tmpdir[64];
    struct sim_profile prof;
    struct point_plan plan[MAX_SCENARIOS];
    size_t nplan;
    char emulator[64], cc_used[32];
};

/* Group the scenarios' networks into points.  CLI_USAGE on a bad file. */
static int plan_points(struct calib *C)
{
    for (size_t i = 0; i < C->nfiles; i++) {
        struct sim_scenario sc;
        const struct sim_profile_point *pt;
        struct point_plan *pp = NULL;
        char err[400];
        int rc;

        sim_scenario_init(&sc);
        rc = sim_scenario_load(&sc, C->files[i], err, sizeof(err));
        if (!rc)
            rc = sim_scenario_validate(&sc, err, sizeof(err));
        if (rc) {
            cli_error(CMD, "%s", err);
            sim_scenario_free(&sc);
            return CLI_USAGE;
        }
        pt = sim_profile_match(&C->prof, &sc.cfg.link);
        for (size_t k = 0; pt && k < C->nplan; k++)
            if (C->plan[k].pt == pt)
                pp = &C->plan[k];
        if (!pp) {
            char name[16];

            pp = &C->plan[C->nplan];
            snprintf(name, sizeof(name), "p%zu", C->nplan + 1);
            sc.cfg.link.goodput_Bps = 0;
            pp->pt = sim_profile_add_point(&C->prof, name, &sc.cfg.link);
            /* Points move when the array grows: re-link the plan. */
            for (size_t k = 0; pp->pt && k < C->nplan; k++)
                C->plan[k].pt = &C->prof.points[k];
            if (!pp->pt) {
                cli_error(CMD, "out of memory");
                sim_scenario_free(&sc);
                return CLI_FAILED;
            }
            pp->mem = sc.cfg.mem_bytes;
            C->nplan++;
        }
        if (sc.cfg.mem_bytes > pp->mem)
            pp->mem = sc.cfg.mem_bytes;
        if (sc.cfg.vcpus > pp->vcpus)
            pp->vcpus = sc.cfg.vcpus;
        snprintf(pp->scenarios + strlen(pp->scenarios),
                 sizeof(pp->scenarios) - strlen(pp->scenarios), "%s%s",
                 pp->scenarios[0] ? " " : "", sc.name);
        sim_scenario_free(&sc);
    }
    return CLI_OK;
}

/* The idle-guest scenario of a point in mode, as a file for the runner. */
static int write_idle(const struct calib *C, const struct point_plan *pp,
                      const char *mode, char *path, size_t len)
{
    const struct sim_link *l = &pp->pt->link;
    FILE *f;

    snprintf(path, len, "%s/calib-%s-%s.ini", C->tmpdir, pp->pt->name, mode);
    f = fopen(path, "w");
    if (!f)
        return -errno;
    /* Bare numbers are base units (sim/units.h): exact round trip. */
    fprintf(f, "# generated by miglab calibrate\n[scenario]\n"
               "name = calib-%s-%s\ndescription = idle guest for miglab "
               "calibrate\n\n[guest]\nmemory = %llu\nvcpus = %u\n"
               "workload = idle\n\n[network]\nbandwidth = %.17g\n"
               "rtt = %.17g\njitter = %.17g\nloss = %.17g\ncc = %s\n"
               "window = %llu\nmtu = %u\n\n[migration]\nmode = %s\n",
            pp->pt->name, mode, (unsigned long long)(C->mem ? C->mem
                                                           : pp->mem),
            pp->vcpus ? pp->vcpus : 1, l->bandwidth_bps, l->rtt_s,
            l->jitter_s, l->loss, sim_cc_name(l->cc),
            (unsigned long long)l->window_bytes, l->mtu, mode);
    if (fclose(f))
        return -errno;
    return 0;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("miglab calibrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void copy_str(struct json_object *doc, const char *k1, const char *k2,
                     char *buf, size_t len)
{
    struct json_object *v;

    if (json_object_object_get_ex(doc, k1, &v) &&
        (!k2 || json_object_object_get_ex(v, k2, &v)) &&
        json_object_is_type(v, json_type_string))
        snprintf(buf, len, "%s", json_object_get_string(v));
}

/*
 * Migrate the idle guest of pp in mode (C->repeats times) and summarise.
 * Returns CLI_OK, CLI_FAILED (err says why) or EXIT_CANNOT.
 */
static int measure(struct calib *C, struct point_plan *pp, const char *mode,
                   struct calib_measure *m, char *err, size_t errlen)
{
    struct run_opts o = { .repeats = C->repeats, .self_exe = C->self,
                          .stop = &calib_stop };
    struct json_object *doc = NULL, *runs;
    char path[128];
    int rc;

    rc = write_idle(C, pp, mode, path, sizeof(path));
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return CLI_FAILED;
    }
    o.scenario_path = path;
    say("point %s (%s): %s migration of an idle guest, %u repeats",
        pp->pt->name, pp->scenarios, mode, C->repeats);
    rc = runner_run(&o, &doc, err, errlen);
    unlink(path);
    /* testbed_down() kills the testbed's relay by pid without waiting for
     * it (a `miglab run` exits right after); reap what this process has
     * left, all of it started here. */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    if (rc == MIG_ENOTSUP) {
        json_object_put(doc);
        return EXIT_CANNOT;
    }
    if (!rc && json_object_object_get_ex(doc, "runs", &runs))
        rc = calib_measure_runs(runs, pp->pt->link.rtt_s / 2, m, err,
                                errlen);
    else if (!rc) {
        snprintf(err, errlen, "the runner made no run");
        rc = MIG_ECORRUPT;
    }
    if (!rc) {
        copy_str(doc, "emulator", NULL, C->emulator, sizeof(C->emulator));
        copy_str(doc, "cc", "used", C->cc_used, sizeof(C->cc_used));
        say("point %s %s: goodput %.2f MB/s, downtime %.1f ms, total %.3f s "
            "(median of %zu)", pp->pt->name, mode, m->goodput_Bps / 1e6,
            m->downtime_s * 1e3, m->total_s, m->n);
    }
    json_object_put(doc);
    return rc ? CLI_FAILED : CLI_OK;
}

/* Derive and store one point's costs. */
static int derive(struct calib *C, struct point_plan *pp, char *err,
                  size_t errlen)
{
    struct sim_scenario idle;
    char path[128];
    int rc;

    rc = write_idle(C, pp, "live", path, sizeof(path));
    sim_scenario_init(&idle);
    if (!rc)
        rc = sim_scenario_load(&idle, path, err, errlen);
    unlink(path);
    if (!rc)
        rc = calib_derive(&idle, &pp->live, C->cold ? &pp->cold : NULL,
                          &pp->costs, err, errlen);
    if (!rc)
        rc = calib_point_store(pp->pt, &pp->costs, &pp->live);
    if (!rc)
        rc = sim_profile_kv_set(&pp->pt->info, "scenarios", pp->scenarios);
    {
        struct sim_goodput g;
        struct sim_link model = pp->pt->link;
        char buf[64];

        model.goodput_Bps = 0;
        sim_link_goodput(&model, &g);
        snprintf(buf, sizeof(buf), "model goodput %.6gMB/s, measured "
                 "%.6gMB/s", g.goodput_Bps / 1e6,
                 pp->costs.goodput_Bps / 1e6);
        if (!rc)
            rc = sim_profile_kv_set(&pp->pt->info, "note", buf);
    }
    sim_scenario_free(&idle);
    if (rc == MIG_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* Provenance and the link-independent [costs]: medians over the points. */
static int finish_profile(struct calib *C, int argc, char **argv)
{
    double sus[MAX_SCENARIOS], unp[MAX_SCENARIOS];
    char buf[512], when[32];
    struct utsname u;
    time_t now = time(NULL);
    size_t n = 0;
    int rc;

    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    rc = sim_profile_kv_set(&C->prof.info, "created", when);
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.info, "emulator", C->emulator);
    if (!rc && uname(&u) == 0) {
        snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release,
                 u.machine);
        rc = sim_profile_kv_set(&C->prof.info, "kernel", buf);
    }
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.info, "cc_used", C->cc_used);
    snprintf(buf, sizeof(buf), "%u", C->repeats);
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.info, "repeats", buf);
    snprintf(buf, sizeof(buf), "idle, emulated (miglab host), live%s",
             C->cold ? " and cold" : "");
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.info, "guest", buf);
    buf[0] = '\0';
    for (int i = 0; i < argc; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
                 i ? " " : "miglab ", argv[i]);
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.info, "command", buf);
    for (size_t i = 0; i < C->nplan; i++) {
        sus[n] = C->plan[i].costs.suspend_s;
        unp[n++] = C->plan[i].costs.unpause_s;
    }
    snprintf(buf, sizeof(buf), "%.4fms", calib_median(sus, n) * 1e3);
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.costs, "suspend", buf);
    snprintf(buf, sizeof(buf), "%.4fms", calib_median(unp, n) * 1e3);
    if (!rc)
        rc = sim_profile_kv_set(&C->prof.costs, "unpause", buf);
    return rc;
}

static struct json_object *measure_json(const struct calib_measure *m)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "repeats", json_object_new_int64((int64_t)m->n));
    json_object_object_add(o, "goodput_Bps",
                           json_object_new_double(m->goodput_Bps));
    json_object_object_add(o, "total_time_s",
                           json_object_new_double(m->total_s));
    json_object_object_add(o, "downtime_s",
                           json_object_new_double(m->downtime_s));
    json_object_object_add(o, "spread_goodput",
                           json_object_new_double(m->spread_goodput));
    json_object_object_add(o, "spread_downtime",
                           json_object_new_double(m->spread_downtime));
    return o;
}

static void print_summary(const struct calib *C)
{
    if (C->json) {
        struct json_object *o = json_object_new_object();
        struct json_object *arr = json_object_new_array();

        json_object_object_add(o, "profile", json_object_new_string(C->out));
        json_object_object_add(o, "emulator",
                               json_object_new_string(C->emulator));
        for (size_t i = 0; i < C->nplan; i++) {
            const struct point_plan *pp = &C->plan[i];
            struct json_object *p = json_object_new_object();
            struct json_object *c = json_object_new_object();

            json_object_object_add(p, "name",
                                   json_object_new_string(pp->pt->name));
            json_object_object_add(p, "scenarios",
                                   json_object_new_string(pp->scenarios));
            json_object_object_add(p, "live", measure_json(&pp->live));
            json_object_object_add(p, "cold", C->cold
                                   ? measure_json(&pp->cold) : NULL);
            json_object_object_add(c, "goodput_Bps", json_object_new_double(
                                       pp->costs.goodput_Bps));
            json_object_object_add(c, "suspend_s", json_object_new_double(
                                       pp->costs.suspend_s));
            json_object_object_add(c, "unpause_s", json_object_new_double(
                                       pp->costs.unpause_s));
            json_object_object_add(c, "restore_s", json_object_new_double(
                                       pp->costs.restore_s));
            json_object_object_add(c, "restore_cold_s", C->cold
                                   ? json_object_new_double(
                                         pp->costs.restore_cold_s) : NULL);
            json_object_object_add(c, "setup_rtts", json_object_new_double(
                                       pp->costs.setup_rtts));
            json_object_object_add(p, "costs", c);
            json_object_array_add(arr, p);
        }
        json_object_object_add(o, "points", arr);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_SPACED));
        json_object_put(o);
        return;
    }
    printf("host profile %s (emulator %s, sender cc %s)\n", C->out,
           C->emulator, C->cc_used);
    printf("%-4s %-12s %-10s %-10s %-10s %-10s %-12s %s\n", "pt", "goodput",
           "suspend", "unpause", "restore", "cold rest.", "setup RTTs",
           "scenarios");
    for (size_t i = 0; i < C->nplan; i++) {
        const struct point_plan *pp = &C->plan[i];
        const struct calib_costs *c = &pp->costs;

        printf("%-4s %7.2f MB/s %7.2f ms %7.2f ms %7.2f ms %7.2f ms %-12.2f "
               "%s\n", pp->pt->name, c->goodput_Bps / 1e6, c->suspend_s * 1e3,
               c->unpause_s * 1e3, c->restore_s * 1e3,
               C->cold ? c->restore_cold_s * 1e3 : NAN, c->setup_rtts,
               pp->scenarios);
    }
}

static int parse_args(struct calib *C, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t u;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return -1;
        } else if (!strcmp(a, "--json")) {
            C->json = true;
        } else if (!strcmp(a, "--no-cold")) {
            C->cold = false;
        } else if (!strcmp(a, "--scenario") || !strcmp(a, "--repeat") ||
                   !strcmp(a, "--out") || !strcmp(a, "--mem")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;

            if (!v) {
                cli_error(CMD, "%s needs a value", a);
                return CLI_USAGE;
            }
            if (a[2] == 's') {
                if (C->nfiles == MAX_SCENARIOS) {
                    cli_error(CMD, "at most %u scenarios", MAX_SCENARIOS);
                    return CLI_USAGE;
                }
                C->files[C->nfiles++] = v;
            } else if (a[2] == 'o') {
                C->out = v;
            } else if (a[2] == 'r') {
                if (sim_parse_uint(v, 1, 100, &u)) {
                    cli_error(CMD, "--repeat: bad count '%s' (1..100)", v);
                    return CLI_USAGE;
                }
                C->repeats = (unsigned)u;
            } else if (sim_parse_size(v, &u) || u < (1ULL << 20) ||
                       u % SIM_PAGE_SIZE) {
                cli_error(CMD, "--mem: bad size '%s' (e.g. 64M; at least "
                          "1M, a multiple of 4K)", v);
                return CLI_USAGE;
            } else {
                C->mem = u;
            }
        } else {
            cli_error(CMD, "unknown argument '%s' (see miglab calibrate "
                      "--help)", a);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

int cmd_calibrate(int argc, char **argv)
{
    struct calib *C = calloc(1, sizeof(*C));
    struct sigaction sa;
    char err[512] = "";
    FILE *f;
    int rc, status;

    if (!C) {
        cli_error(CMD, "out of memory");
        return CLI_FAILED;
    }
    C->repeats = 3;
    C->cold = true;
    C->out = "build/host-profile.ini";
    sim_profile_init(&C->prof);
    rc = parse_args(C, argc, argv);
    if (rc) {
        status = rc < 0 ? CLI_OK : rc;
        goto out;
    }
    if (!C->nfiles)
        C->files[C->nfiles++] = "scenarios/quickstart.ini";
    status = plan_points(C);
    if (status)
        goto out;
    if (geteuid() != 0 || access("/proc/self/ns/net", R_OK) != 0) {
        cli_error(CMD, "%s", geteuid() != 0
                  ? "the testbed needs root (network namespaces, TUN "
                    "devices); run as root"
                  : "no network namespaces here");
        status = EXIT_CANNOT;
        goto out;
    }
    rc = cli_self_exe(C->self, sizeof(C->self));
    if (rc) {
        cli_error(CMD, "cannot find the miglab binary: %s", strerror(-rc));
        status = CLI_FAILED;
        goto out;
    }
    snprintf(C->tmpdir, sizeof(C->tmpdir), "/tmp/miglab-calibrate-XXXXXX");
    if (!mkdtemp(C->tmpdir)) {
        cli_error(CMD, "%s: %s", C->tmpdir, strerror(errno));
        status = CLI_FAILED;
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    for (size_t i = 0; i < C->nplan && !status; i++) {
        struct point_plan *pp = &C->plan[i];

        status = measure(C, pp, "live", &pp->live, err, sizeof(err));
        if (!status && C->cold)
            status = measure(C, pp, "cold", &pp->cold, err, sizeof(err));
        if (!status && calib_stop) {
            snprintf(err, sizeof(err), "interrupted");
            status = CLI_FAILED;
        }
        if (!status && derive(C, pp, err, sizeof(err)))
            status = CLI_FAILED;
    }
    rmdir(C->tmpdir);
    if (status) {
        cli_error(CMD, "%s", err);
        goto out;
    }
    if (finish_profile(C, argc, argv)) {
        cli_error(CMD, "out of memory");
        status = CLI_FAILED;
        goto out;
    }
    f = fopen(C->out, "w");
    rc = f ? sim_profile_write(f, &C->prof) : -errno;
    if (f && fclose(f) && !rc)
        rc = -errno;
    if (rc) {
        cli_error(CMD, "%s: %s", C->out, strerror(-rc));
        status = CLI_FAILED;
        goto out;
    }
    print_summary(C);
    say("profile written to %s", C->out);
out:
    sim_profile_free(&C->prof);
    free(C);
    return status;
}
