/* SPDX-License-Identifier: MIT */
/*
 * cmd_predict.c - `miglab predict`: simulate one migration from flags or a
 * scenario file and print the per-pass table and summary, or JSON.
 *
 * Flags are the scenario keys (sim/scenario.c) under their flag names, so
 * `--loss 1e-4` and `[network] loss = 1e-4` are one setting.  A scenario
 * file is read first; flags given with it override its values.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "mig_err.h"
#include "profile.h"
#include "result_json.h"
#include "scenario.h"
#include "units.h"

#define CMD "predict"
#define TABLE_HEAD 12       /* passes shown before eliding the middle */
#define TABLE_TAIL 6

struct predict_opts {
    const char *scenario;
    bool json;
    bool help;
};

static void help(void)
{
    printf("usage: miglab predict [--scenario FILE] [FLAGS] [--json]\n"
           "\n"
           "Predict a migration's total time, downtime, bytes and passes "
           "with the simulator.\n"
           "A scenario file is read first; flags override it; a host "
           "profile (--profile,\n[run] profile; docs/calibrate.md) fills "
           "in what neither sets.\n"
           "\n"
           "  --scenario FILE         INI scenario (docs/scenario-format.md)\n"
           "  --json                  print the result as JSON\n"
           "  --help                  this text\n");
    for (size_t i = 0; i < sim_scenario_nkeys(); i++) {
        const struct sim_scenario_key *k = sim_scenario_key_at(i);
        char flag[64];

        if (!k->flag)
            continue;
        snprintf(flag, sizeof(flag), "--%s%s", k->flag,
                 k->boolean ? "" : " VALUE");
        printf("  %-23s %s\n", flag, k->help);
    }
    printf("\n"
           "Units: sizes 4G 512M (binary) or 4GB (decimal); link rates "
           "1Gbit 100Mbit 125MB/s;\n"
           "workload rates 200MB/s 1GiB/s; times 5ms 0.5ms 2s; "
           "fractions 1e-4 1%%.\n"
           "Workloads: idle, uniform:rate=R, hotcold:wss=S,hot=H,rate=R, "
           "zipf:s=S,rate=R,\n"
           "  seq:rate=R, phased:SPEC@T;SPEC@T, trace:FILE "
           "(docs/trace-format.md).\n"
           "\n"
           "example:\n"
           "  miglab predict --mem 4G --workload uniform:rate=200MB/s "
           "--bandwidth 1Gbit --rtt 0.5ms\n");
}

/*
 * Walk argv.  With sc == NULL only our own flags are taken (first pass, to
 * find --scenario); otherwise scenario flags are applied to sc.  Returns 0
 * or CLI_USAGE after printing one error line.
 */
static int walk_args(int argc, char **argv, struct predict_opts *o,
                     struct sim_scenario *sc)
{
    for (int i = 1; i < argc; i++) {
        char name[64];
        const char *arg = argv[i], *eq, *value = NULL;
        char err[320];
        int rc;

        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            if (!strcmp(arg, "-h")) {
                o->help = true;
                continue;
            }
            cli_error(CMD, "unexpected argument '%s' (see --help)", arg);
            return CLI_USAGE;
        }
        eq = strchr(arg, '=');
        snprintf(name, sizeof(name), "%.*s",
                 (int)(eq ? eq - arg - 2 : (long)strlen(arg + 2)), arg + 2);
        if (eq)
            value = eq + 1;

        if (!strcmp(name, "help")) {
            o->help = true;
            continue;
        }
        if (!strcmp(name, "json")) {
            o->json = true;
            continue;
        }
        if (!value && (strcmp(name, "scenario") == 0 ||
                       !sim_scenario_flag_is_boolean(name))) {
            if (i + 1 >= argc) {
                cli_error(CMD, "--%s needs a value", name);
                return CLI_USAGE;
            }
            value = argv[++i];
        }
        if (!strcmp(name, "scenario")) {
            o->scenario = value;
            continue;
        }
        if (!sc)
            continue;
        rc = sim_scenario_set_flag(sc, name, value, err, sizeof(err));
        if (rc == MIG_ENOTSUP) {
            cli_error(CMD, "unknown option '--%s' (see miglab predict --help)",
                      name);
            return CLI_USAGE;
        }
        if (rc) {
            cli_error(CMD, "%s", err);
            return CLI_USAGE;
        }
    }
    return 0;
}

static void print_pass(const struct sim_pass *p)
{
    char bytes[32], dur[32];

    printf("  %5u%s %12llu  %11s  %10s  %12llu%s\n", p->index,
           p->live ? " " : "*", (unsigned long long)p->pages,
           sim_format_size(bytes, sizeof(bytes), (double)p->bytes),
           sim_format_time(dur, sizeof(dur), p->duration_s),
           (unsigned long long)p->dirty_after,
           p->throttle > 0 ? "  throttled" : "");
}

static void print_text(const struct sim_scenario *sc,
                       const struct sim_result *r)
{
    const struct sim_config *c = &sc->cfg;
    const struct sim_downtime_parts *d = &r->downtime_parts;
    char a[32], b[32], e[32], f[32], g[32], h[32], lr[32], spec[256];

    printf("%s migration, policy %s, %s engine%s%s\n",
           sim_mode_name(c->mode), mig_policy_name(c->policy.kind),
           sim_engine_name(c->engine), sc->name ? ": " : "",
           sc->name ? sc->name : "");
    printf("  guest     %s, %u vCPU%s, workload %s\n",
           sim_format_size(a, sizeof(a), (double)c->mem_bytes), c->vcpus,
           c->vcpus == 1 ? "" : "s",
           c->workload ? sim_workload_format(c->workload, spec, sizeof(spec))
                       : "idle");
    printf("  link      %s, RTT %s, loss %g, MTU %u, %s, window %s\n",
           sim_format_bitrate(a, sizeof(a), c->link.bandwidth_bps),
           sim_format_time(b, sizeof(b), c->link.rtt_s), c->link.loss,
           c->link.mtu, sim_cc_name(c->link.cc),
           c->link.window_bytes
               ? sim_format_size(e, sizeof(e), (double)c->link.window_bytes)
               : "unlimited");
    printf("  queue     %s at the bottleneck, %s standing after the live "
           "passes%s, %s\n", sim_format_size(a, sizeof(a),
           (double)sim_link_queue_bytes(&c->link)),
           sim_format_size(b, sizeof(b), (double)sim_config_pause_backlog(c)),
           c->costs.pause_backlog_bytes == SIM_PAUSE_BACKLOG_MODEL
               ? " (model)" : "",
           c->policy.drain ? "drained before the pause"
                           : "drains in the downtime (drain off)");
    printf("  transfer  %s (TCP goodput %s, limited by %s)\n\n",
           sim_format_byterate(a, sizeof(a), r->transfer_Bps),
           sim_format_byterate(b, sizeof(b), r->link.goodput_Bps),
           sim_link_limit_name(r->link.limit));

    printf("  %5s  %12s  %11s  %10s  %12s\n", "pass", "pages", "bytes",
           "duration", "dirty after");
    for (size_t i = 0; i < r->npasses; i++) {
        if (r->npasses > TABLE_HEAD + TABLE_TAIL && i == TABLE_HEAD) {
            size_t skip = r->npasses - TABLE_HEAD - TABLE_TAIL;

            printf("  ... %zu passes omitted (--json lists them all)\n",
                   skip);
            i += skip - 1;
            continue;
        }
        print_pass(&r->passes[i]);
    }
    if (r->npasses && !r->passes[r->npasses - 1].live)
        printf("  (* = stop-and-copy, guest paused)\n");
    printf("\n");

    printf("  outcome      %s, stopped by %s (%s)\n",
           sim_outcome_name(r->outcome), mig_stop_reason_name(r->stop_reason),
           r->converged ? "converged" : "not converged");
    printf("  total time   %s\n",
           sim_format_time(a, sizeof(a), r->total_time_s));
    if (r->drained)
        printf("  pause        after a drain of %s (the live passes "
               "acknowledged, guest running)\n",
               sim_format_time(a, sizeof(a), r->drain_s));
    if (r->final_loss_p > 0)
        printf("  final burst  %.0f%% chance of a lost segment (%s)\n",
               r->final_loss_p * 100,
               d->loss_recovery_s > 0 ? "likelier: a round trip counted"
                                      : "unlikelier: not counted");
    if (r->outcome == SIM_OUTCOME_COMPLETED)
        printf("  downtime     %s = suspend %s + final copy %s + "
               "propagation %s\n"
               "               + loss recovery %s + restore %s + "
               "handshake %s + unpause %s\n",
               sim_format_time(a, sizeof(a), r->downtime_s),
               sim_format_time(b, sizeof(b), d->suspend_s),
               sim_format_time(e, sizeof(e), d->final_copy_s),
               sim_format_time(f, sizeof(f), d->propagation_s),
               sim_format_time(lr, sizeof(lr), d->loss_recovery_s),
               sim_format_time(g, sizeof(g), d->restore_s),
               sim_format_time(h, sizeof(h), d->handshake_s),
               sim_format_time(spec, sizeof(spec), d->unpause_s));
    printf("  bytes sent   %s (%llu pages, %.2fx memory)\n",
           sim_format_size(a, sizeof(a), (double)r->bytes_sent),
           (unsigned long long)r->pages_sent,
           (double)r->pages_sent / (double)r->mem_pages);
    printf("  passes       %u live%s\n", r->live_passes,
           r->outcome == SIM_OUTCOME_COMPLETED ? " + stop-and-copy" : "");
}

static int print_expectations(const struct sim_scenario *sc,
                              const struct sim_result *r,
                              struct json_object *jo)
{
    struct sim_expect_line lines[16];
    size_t n = 0;
    unsigned failed = sim_expect_check(&sc->expect, r, lines, 16, &n);
    struct json_object *arr;

    if (n == 0)
        return 0;
    if (jo) {
        arr = json_object_new_array();
        for (size_t i = 0; i < n && i < 16; i++) {
            struct json_object *l = json_object_new_object();

            json_object_object_add(l, "pass",
                                   json_object_new_boolean(lines[i].pass));
            json_object_object_add(l, "bound",
                                   json_object_new_string(lines[i].text));
            json_object_array_add(arr, l);
        }
        json_object_object_add(jo, "expectations", arr);
        return (int)failed;
    }
    printf("\n  expectations (predicted)\n");
    for (size_t i = 0; i < n && i < 16; i++)
        printf("    %s  %s\n", lines[i].pass ? "PASS" : "FAIL",
               lines[i].text);
    return (int)failed;
}

int cmd_predict(int argc, char **argv)
{
    struct predict_opts o = { 0 };
    struct sim_scenario sc;
    struct sim_result r;
    struct sim_profile prof;
    const struct sim_profile_point *point = NULL;
    char err[400];
    int rc, status = CLI_OK;

    rc = walk_args(argc, argv, &o, NULL);
    if (rc)
        return rc;
    if (o.help) {
        help();
        return CLI_OK;
    }
    sim_scenario_init(&sc);
    sim_result_init(&r);
    sim_profile_init(&prof);
    if (o.scenario) {
        rc = sim_scenario_load(&sc, o.scenario, err, sizeof(err));
        if (rc) {
            cli_error(CMD, "%s", err);
            status = CLI_USAGE;
            goto out;
        }
    }
    rc = walk_args(argc, argv, &o, &sc);
    if (rc) {
        status = rc;
        goto out;
    }
    if (sc.profile) {
        rc = sim_profile_load(&prof, sc.profile, err, sizeof(err));
        if (!rc)
            rc = sim_profile_apply(&prof, &sc, &point, err, sizeof(err));
        if (rc) {
            cli_error(CMD, "%s", err);
            status = CLI_USAGE;
            goto out;
        }
    }
    if (sim_scenario_validate(&sc, err, sizeof(err))) {
        cli_error(CMD, "%s", err);
        status = CLI_USAGE;
        goto out;
    }
    rc = sim_run(&sc.cfg, &r);
    if (rc) {
        cli_error(CMD, "simulation failed: %s%s", mig_strerror(rc),
                  rc == MIG_EINVAL ? " (is the transfer rate unbounded? "
                                     "set --bandwidth)" : "");
        status = rc == MIG_EINVAL ? CLI_USAGE : CLI_FAILED;
        goto out;
    }
    if (o.json) {
        struct json_object *jo = sim_result_to_json(&r);

        if (!jo) {
            cli_error(CMD, "out of memory");
            status = CLI_FAILED;
            goto out;
        }
        json_object_object_add(jo, "scenario", sim_scenario_to_json(&sc));
        if (sc.profile) {
            struct json_object *pj = json_object_new_object();

            json_object_object_add(pj, "path",
                                   json_object_new_string(sc.profile));
            json_object_object_add(pj, "point", point
                                   ? json_object_new_string(point->name)
                                   : NULL);
            json_object_object_add(jo, "profile", pj);
        }
        print_expectations(&sc, &r, jo);
        puts(json_object_to_json_string_ext(
            jo, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                    JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(jo);
    } else {
        if (sc.profile)
            printf("host profile %s: %s\n", sc.profile, point
                   ? "costs and goodput of its matching network point"
                   : "no network point matches: its [costs] only");
        print_text(&sc, &r);
        print_expectations(&sc, &r, NULL);
    }
out:
    sim_result_clear(&r);
    sim_profile_free(&prof);
    sim_scenario_free(&sc);
    return status;
}
