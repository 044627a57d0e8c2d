/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `miglab run FILE` (predict, perform on the testbed, compare,
 * report) and `miglab report RESULTS.json` (re-render a saved result).
 * The work is in tools/runner.c and tools/report.c; docs/runner.md.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mig_err.h"
#include "report.h"
#include "runner.h"
#include "units.h"

static volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
    (void)sig;
    run_stop = 1;
}

static void run_help(FILE *f)
{
    fprintf(f,
            "usage: miglab run FILE [--repeat N] [--profile FILE] "
            "[--report DIR] [--json]\n       [--keep]\n\n"
            "Predict the scenario with the simulator, then perform it: a "
            "testbed of\nnamespace hosts on an impaired link, two host "
            "daemons, an emulated guest,\na heartbeat prober and a capture "
            "of the migration link.  Writes report.md,\nreport.html, "
            "junit.xml and results.json into DIR.\n\n"
            "  --repeat N    migrations to make ([run] repeats, 1)\n"
            "  --profile P   host profile of miglab calibrate ([run] "
            "profile): reports\n                show the calibrated "
            "prediction beside the uncalibrated one,\n"
            "                and bounds are judged on the calibrated one\n"
            "  --report DIR  report directory (build/reports/NAME-TIME)\n"
            "  --json        print the result document on stdout\n"
            "  --keep        leave the testbed up (miglab testbed down ID)\n\n"
            "Exit status: 0 every expectation holds, 1 a bound failed or a "
            "run failed,\n2 bad input; not root or no netns: 1 with the "
            "reason.  See docs/runner.md.\n");
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o = { .stop = &run_stop };
    struct json_object *doc = NULL;
    struct sigaction sa;
    char err[512] = "", self[PATH_MAX], dir[PATH_MAX];
    const char *file = NULL;
    bool json = false;
    int rc;

    if (argc >= 2 && !strcmp(argv[1], "--probe-child"))
        return runner_probe_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "--capture-child"))
        return runner_capture_main(argc - 1, argv + 1);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--keep")) {
            o.keep = true;
        } else if (!strcmp(a, "--repeat") || !strcmp(a, "--report") ||
                   !strcmp(a, "--profile")) {
            if (i + 1 >= argc) {
                cli_error("run", "%s needs a value", a);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--report")) {
                o.report_dir = argv[++i];
            } else if (!strcmp(a, "--profile")) {
                o.profile_path = argv[++i];
            } else {
                uint64_t r;

                if (sim_parse_uint(argv[++i], 1, 1000, &r)) {
                    cli_error("run", "--repeat: bad count '%s' (1..1000)",
                              argv[i]);
                    return CLI_USAGE;
                }
                o.repeats = (unsigned)r;
            }
        } else if (a[0] == '-') {
            cli_error("run", "unknown option '%s' (see miglab run --help)",
                      a);
            return CLI_USAGE;
        } else if (!file) {
            file = a;
        } else {
            cli_error("run", "one scenario file only ('%s')", a);
            return CLI_USAGE;
        }
    }
    if (!file) {
        run_help(stderr);
        return CLI_USAGE;
    }
    rc = cli_self_exe(self, sizeof(self));
    if (rc) {
        cli_error("run", "cannot find the miglab binary: %s", strerror(-rc));
        return CLI_FAILED;
    }
    o.self_exe = self;
    o.scenario_path = file;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    rc = runner_run(&o, &doc, err, sizeof(err));
    if (rc == MIG_EINVAL) {
        cli_error("run", "%s", err);
        json_object_put(doc);
        return CLI_USAGE;
    }
    if (rc && !doc) {
        cli_error("run", "%s", err);
        return CLI_FAILED;
    }
    if (rc)
        cli_error("run", "%s", err);
    if (o.report_dir) {
        snprintf(dir, sizeof(dir), "%s", o.report_dir);
    } else {
        struct json_object *sc, *nm;
        char stamp[32];
        time_t now = time(NULL);

        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
        json_object_object_get_ex(doc, "scenario", &sc);
        json_object_object_get_ex(sc, "name", &nm);
        snprintf(dir, sizeof(dir), "build/reports/%s-%s",
                 nm ? json_object_get_string(nm) : "run", stamp);
    }
    json_object_object_add(doc, "report_dir", json_object_new_string(dir));
    if (report_write_dir(dir, doc, err, sizeof(err))) {
        cli_error("run", "report: %s", err);
        rc = rc ? rc : MIG_EIO;
    }
    if (json)
        report_write(stdout, REPORT_JSON, doc);
    else
        report_write(stdout, REPORT_MD, doc);
    {
        struct json_object *ok;

        json_object_object_get_ex(doc, "ok", &ok);
        fprintf(stderr, "miglab run: report in %s/ (report.html, report.md, "
                        "junit.xml, results.json): %s\n",
                dir, ok && json_object_get_boolean(ok) ? "PASS" : "FAIL");
        if (!rc && !(ok && json_object_get_boolean(ok)))
            rc = MIG_EIO;
    }
    json_object_put(doc);
    return rc ? CLI_FAILED : CLI_OK;
}

int cmd_report(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int fmt = REPORT_MD, rc;
    struct json_object *doc;
    FILE *f = stdout;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: miglab report RESULTS.json [--format "
                   "md|html|junit|json] [-o FILE]\n\nRe-render the result "
                   "of miglab run (results.json in its report\ndirectory).  "
                   "Default: Markdown on stdout.\n");
            return CLI_OK;
        } else if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-o")) &&
                   i + 1 < argc) {
            if (argv[i][1] == 'o') {
                out = argv[++i];
            } else if ((fmt = report_format_parse(argv[++i])) < 0) {
                cli_error("report", "--format: unknown '%s' (md, html, "
                          "junit, json)", argv[i]);
                return CLI_USAGE;
            }
        } else if (argv[i][0] == '-' || in) {
            cli_error("report", "unexpected argument '%s' (see --help)",
                      argv[i]);
            return CLI_USAGE;
        } else {
            in = argv[i];
        }
    }
    if (!in) {
        cli_error("report", "which RESULTS.json? (see --help)");
        return CLI_USAGE;
    }
    doc = json_object_from_file(in);
    if (!doc || !json_object_is_type(doc, json_type_object)) {
        cli_error("report", "%s: not a miglab run result (%s)", in,
                  json_util_get_last_err() ? json_util_get_last_err()
                                           : "not an object");
        json_object_put(doc);
        return CLI_USAGE;
    }
    if (out && !(f = fopen(out, "w"))) {
        cli_error("report", "%s: %s", out, strerror(errno));
        json_object_put(doc);
        return CLI_FAILED;
    }
    rc = report_write(f, (enum report_format)fmt, doc);
    if (f != stdout && fclose(f) && !rc)
        rc = -errno;
    json_object_put(doc);
    if (rc) {
        cli_error("report", "write error");
        return CLI_FAILED;
    }
    return CLI_OK;
}
