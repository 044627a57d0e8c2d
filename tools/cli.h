/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the `miglab` subcommands share: exit codes, error printing,
 * and the entry point of each subcommand.
 */
#ifndef MIGLAB_CLI_H
#define MIGLAB_CLI_H

#include <stddef.h>
#include <stdio.h>

enum cli_exit {
    CLI_OK = 0,
    CLI_FAILED = 1,         /* ran, but the result is a failure */
    CLI_USAGE = 2,          /* bad flags, bad input files */
};

/* "miglab CMD: message\n" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The path of the running miglab binary (to start it in a namespace);
 * 0, or -errno with nothing useful in buf. */
int cli_self_exe(char *buf, size_t len);

int cmd_predict(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_testbed(int argc, char **argv);
int cmd_pcap(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_xen(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

/*
 * Plain `miglab migrate` on the libxenlight path (cmd_xen.c): with --xen,
 * or when this build has the Xen backend, this is a Xen dom0 and neither
 * --control nor $MIGLAB_CONTROL names a host daemon and none answers at
 * the default control path.  Returns 1 when it took the command (exit
 * status in *status), 0 when the host daemon's client should run it.
 */
int cmd_migrate_xen(int argc, char **argv, int *status);
/* The libxenlight form and the rule, for `miglab migrate --help`. */
void cmd_migrate_xen_help(FILE *out);

#endif
