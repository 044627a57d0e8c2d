/* SPDX-License-Identifier: MIT */
/*
 * miglab.c - the `miglab` command: dispatches to its subcommands, in the
 * spirit of `xl`.  Each subcommand lives in tools/cmd_<name>.c with its
 * logic in ref/ or sim/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef MIGLAB_VERSION
#define MIGLAB_VERSION "0.1.0"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "predict", cmd_predict,
      "predict a migration's total time, downtime, bytes and passes" },
    { "plan", cmd_plan, "percentiles, inverse questions, fleet evacuation" },
    { "testbed", cmd_testbed, "namespace hosts on an impaired link" },
    { "pcap", cmd_pcap, "wire timeline of a captured migration" },
    { "host", cmd_host, "run a host daemon: guests, incoming migrations" },
    { "create", cmd_create, "create an emulated guest on a host daemon" },
    { "list", cmd_list, "list a host daemon's guests" },
    { "migrate", cmd_migrate, "migrate a guest to another host (--live)" },
    { "console", cmd_console, "print a guest's log" },
    { "destroy", cmd_destroy, "destroy a guest" },
    { "resume", cmd_resume, "run a guest left undefined by a failed commit" },
    { "verify", cmd_verify, "check a guest's page stamps, digest memory" },
    { "run", cmd_run, "perform a scenario on the testbed, compare, report" },
    { "report", cmd_report, "re-render the result of miglab run" },
    { "calibrate", cmd_calibrate,
      "measure this testbed's fixed costs and goodput: a host profile" },
    { "xen", cmd_xen, "real Xen domains: migrate, receive, dirty (libxl)" },
};

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "miglab %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_self_exe(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);

    if (n <= 0)
        return n < 0 ? -errno : -ENOENT;
    buf[n] = '\0';
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: miglab COMMAND [ARGS]\n"
            "\n"
            "miglab makes virtual machine migration measurable and "
            "predictable.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "  %-10s %s\n"
            "\n"
            "Run 'miglab COMMAND --help' for a command's options.\n",
            "version", "print the version");
}

int main(int argc, char **argv)
{
    const char *name;

    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
        !strcmp(name, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(name, "version") || !strcmp(name, "--version")) {
        printf("miglab %s\n", MIGLAB_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "miglab: unknown command '%s' (see miglab --help)\n",
            name);
    return CLI_USAGE;
}
