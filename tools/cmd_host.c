/* SPDX-License-Identifier: MIT */
/*
 * cmd_host.c - `miglab host`: run the host daemon of ref/host.h in the
 * foreground until SIGTERM or SIGINT, then shut it down cleanly (guests
 * destroyed, control socket removed).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"
#include "units.h"

#define CMD "host"

/* The signal handler's only way out: the write end of the stop pipe. */
static volatile sig_atomic_t stop_wfd = -1;

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    if (stop_wfd >= 0)
        (void)!write(stop_wfd, &c, 1);
    errno = saved;
}

static void help(void)
{
    printf("usage: miglab host --listen ADDR:PORT --mem-capacity SIZE "
           "[--control PATH] [--name NAME]\n"
           "                  [--guest-dev DEV] [--psk FILE | --no-auth] "
           "[--allow CIDR]...\n"
           "\n"
           "Run a host daemon: it holds emulated guests, accepts incoming "
           "migrations on\nADDR:PORT and serves the miglab CLI on a local "
           "control socket.\nStops cleanly on SIGTERM or SIGINT.\n"
           "\n"
           "  --listen ADDR:PORT   TCP address for incoming migrations "
           "(port 0 = ephemeral)\n"
           "  --mem-capacity SIZE  memory guests may hold (4G, 512M)\n"
           "  --control PATH       control socket (%s)\n"
           "  --name NAME          host name in messages and logs (host)\n"
           "  --guest-dev DEV      guests' addresses live on DEV: added "
           "(ip addr) and\n"
           "                       announced (gratuitous ARP) when a guest "
           "arrives, removed\n"
           "                       when it leaves; without it heartbeats "
           "answer on 127.0.0.1\n"
           "  --psk FILE           pre-shared key (16..4096 bytes, mode 0600, "
           "e.g.\n"
           "                       head -c 32 /dev/urandom): incoming senders "
           "must prove it\n"
           "                       before any guest byte, outgoing migrations "
           "prove it\n"
           "  --allow CIDR         peers that may send guests (repeatable; "
           "IPv4 or IPv6,\n"
           "                       e.g. 10.0.0.0/24, ::1/128); none = nobody\n"
           "  --no-auth            accept senders that do not authenticate "
           "(a real xl\n"
           "                       migrate; still subject to --allow) and "
           "send without a key\n"
           "  --help               this text\n"
           "\n"
           "Safe by default: a peer outside every --allow network is refused "
           "first;\nthen, with --psk, one that cannot prove the key (10 s to "
           "do it).  Without\n--psk and without --no-auth every incoming "
           "migration is refused (the host\nmay still send).  Refusals are "
           "logged on stderr with the peer and the reason.\n"
           "\n"
           "Prints \"listening on ADDR:PORT control PATH\" once ready.\n"
           "Protocol: docs/host-protocol.md.\n",
           MIG_HOST_CONTROL_DEFAULT);
}

/* "ADDR:PORT" or "[V6]:PORT" into host (static part of s) and port. */
static int split_addr(char *s, const char **host, uint16_t *port)
{
    char *colon = strrchr(s, ':');
    uint64_t p;

    if (!colon || sim_parse_uint(colon + 1, 0, 65535, &p))
        return -1;
    *colon = '\0';
    if (s[0] == '[' && colon > s + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        s++;
    }
    *host = s[0] ? s : NULL;
    *port = (uint16_t)p;
    return 0;
}

int cmd_host(int argc, char **argv)
{
    struct mig_host_cfg cfg = { 0 };
    struct mig_allow allow = { 0 };
    struct mig_psk psk = { 0 };
    const char *psk_path = NULL;
    struct mig_host *h = NULL;
    struct sigaction sa;
    char *listen = NULL, err[400];
    int pfd[2] = { -1, -1 }, rc, status = CLI_OK;

    cfg.control_path = getenv("MIGLAB_CONTROL");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return CLI_OK;
        }
        if (!strcmp(a, "--no-auth")) {
            cfg.no_auth = true;
            continue;
        }
        if (i + 1 >= argc || strncmp(a, "--", 2)) {
            cli_error(CMD, "%s '%s' (see --help)",
                      strncmp(a, "--", 2) ? "unexpected argument"
                                          : "missing value for", a);
            return CLI_USAGE;
        }
        if (!strcmp(a, "--listen")) {
            listen = argv[++i];
        } else if (!strcmp(a, "--mem-capacity")) {
            if (sim_parse_size(argv[++i], &cfg.mem_capacity) ||
                !cfg.mem_capacity) {
                cli_error(CMD, "bad --mem-capacity '%s' (e.g. 4G)", argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--control")) {
            cfg.control_path = argv[++i];
        } else if (!strcmp(a, "--name")) {
            cfg.name = argv[++i];
        } else if (!strcmp(a, "--guest-dev")) {
            cfg.guest_dev = argv[++i];
        } else if (!strcmp(a, "--psk")) {
            psk_path = argv[++i];
        } else if (!strcmp(a, "--allow")) {
            rc = mig_allow_add(&allow, argv[++i]);
            if (rc == MIG_ERANGE) {
                cli_error(CMD, "too many --allow (at most %u)",
                          MIG_ALLOW_MAX);
                return CLI_USAGE;
            }
            if (rc) {
                cli_error(CMD, "bad --allow '%s' (ADDR or ADDR/PREFIX, e.g. "
                          "10.0.0.0/24)", argv[i]);
                return CLI_USAGE;
            }
        } else {
            cli_error(CMD, "unknown option '%s' (see --help)", a);
            return CLI_USAGE;
        }
    }
    if (!listen || !cfg.mem_capacity) {
        cli_error(CMD, "--listen and --mem-capacity are required");
        return CLI_USAGE;
    }
    if (split_addr(listen, &cfg.listen_host, &cfg.listen_port)) {
        cli_error(CMD, "bad --listen '%s' (ADDR:PORT)", listen);
        return CLI_USAGE;
    }
    if (psk_path && cfg.no_auth) {
        cli_error(CMD, "--psk and --no-auth exclude each other");
        return CLI_USAGE;
    }
    if (psk_path) {
        err[0] = '\0';
        rc = mig_psk_load(psk_path, &psk, err, sizeof(err));
        if (rc) {
            cli_error(CMD, "--psk %s", err[0] ? err : mig_strerror(rc));
            return CLI_USAGE;
        }
        cfg.psk = &psk;
    }
    cfg.allow = &allow;
    if (pipe(pfd)) {
        cli_error(CMD, "pipe: %s", strerror(errno));
        return CLI_FAILED;
    }
    (void)fcntl(pfd[1], F_SETFL, O_NONBLOCK);
    stop_wfd = pfd[1];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    rc = mig_host_new(&cfg, &h, err, sizeof(err));
    sodium_memzero(&psk, sizeof(psk));      /* the host keeps its copy */
    if (rc) {
        cli_error(CMD, "%s", err);
        status = rc == MIG_EINVAL ? CLI_USAGE : CLI_FAILED;
        goto out_close;
    }
    printf("listening on %s:%u control %s\n",
           cfg.listen_host ? cfg.listen_host : "*",
           (unsigned)mig_host_port(h),
           cfg.control_path ? cfg.control_path : MIG_HOST_CONTROL_DEFAULT);
    fflush(stdout);
    fprintf(stderr, "miglab host: %s\n", mig_host_auth_note(h, err,
                                                             sizeof(err)));
    rc = mig_host_run(h, pfd[0]);
    if (rc) {
        cli_error(CMD, "%s", mig_strerror(rc));
        status = CLI_FAILED;
    }
    mig_host_free(h);
out_close:
    stop_wfd = -1;
    close(pfd[0]);
    close(pfd[1]);
    return status;
}
