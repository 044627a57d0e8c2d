/* SPDX-License-Identifier: MIT */
/*
 * scenario.c - scenario files (INI, read with inih) and flags, through one
 * table of settings; see scenario.h and docs/scenario-format.md.
 */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mig_err.h"
#include "scenario.h"
#include "units.h"

enum vtype {
    V_STRING,       /* char * in the scenario */
    V_PATH,         /* char *, relative to the scenario file's directory
                       when read from a file */
    V_SIZE,         /* uint64_t bytes */
    V_BITRATE,      /* double bits/s */
    V_BYTERATE,     /* double bytes/s */
    V_TIME,         /* double seconds */
    V_QUEUE,        /* link.queue_s (a time) or link.queue_bytes (a size) */
    V_FRACTION,     /* double 0..1 */
    V_DOUBLE,       /* double >= 0 */
    V_UINT,         /* unsigned, in [min, max] */
    V_U32,          /* uint32_t, in [min, max] */
    V_U64,          /* uint64_t, in [min, max] */
    V_BOOL,         /* bool */
    V_TRISTATE,     /* int -1/0/1 */
    V_WORKLOAD,
    V_MODE,
    V_POLICY,
    V_CC,
    V_ENGINE,
    V_OUTCOME,
};

struct setting {
    struct sim_scenario_key key;
    enum vtype type;
    size_t offset;              /* into struct sim_scenario */
    uint64_t min, max;          /* V_UINT / V_U32 / V_U64 */
    int policy_bit;             /* >= 0: a policy field, kept across
                                   changes of [migration] policy */
};

#define SC(field) offsetof(struct sim_scenario, field)
#define CFG(field) offsetof(struct sim_scenario, cfg.field)
#define POL(field) offsetof(struct sim_scenario, cfg.policy.field)
#define EXP(field) offsetof(struct sim_scenario, expect.field)

static const struct setting settings[] = {
    { { "scenario", "name", NULL, "text (default: file name)", false },
      V_STRING, SC(name), 0, 0, -1 },
    { { "scenario", "description", NULL, "text", false },
      V_STRING, SC(description), 0, 0, -1 },

    { { "guest", "memory", "mem", "SIZE, multiple of 4K (1G)", false },
      V_SIZE, CFG(mem_bytes), 0, 0, -1 },
    { { "guest", "vcpus", "vcpus", "N (1)", false },
      V_UINT, CFG(vcpus), 1, 4096, -1 },
    { { "guest", "workload", "workload", "SPEC (idle)", false },
      V_WORKLOAD, 0, 0, 0, -1 },

    { { "network", "bandwidth", "bandwidth", "RATE, 0 = unlimited (1Gbit)",
        false }, V_BITRATE, CFG(link.bandwidth_bps), 0, 0, -1 },
    { { "network", "rtt", "rtt", "TIME (0.2ms)", false },
      V_TIME, CFG(link.rtt_s), 0, 0, -1 },
    { { "network", "jitter", "jitter", "TIME (0)", false },
      V_TIME, CFG(link.jitter_s), 0, 0, -1 },
    { { "network", "loss", "loss", "P, e.g. 1e-4 or 1% (0)", false },
      V_FRACTION, CFG(link.loss), 0, 0, -1 },
    { { "network", "mtu", "mtu", "BYTES (1500)", false },
      V_U32, CFG(link.mtu), 576, 65535, -1 },
    { { "network", "cc", "cc", "cubic|reno|bbr (cubic)", false },
      V_CC, CFG(link.cc), 0, 0, -1 },
    { { "network", "window", "window", "SIZE, 0 = unlimited (4M; ssh: 2M)",
        false }, V_SIZE, CFG(link.window_bytes), 0, 0, -1 },
    { { "network", "goodput", "goodput",
        "RATE measured stream goodput, 0 = the link model (0)", false },
      V_BYTERATE, CFG(link.goodput_Bps), 0, 0, -1 },
    { { "network", "queue", "queue",
        "TIME at the bandwidth or SIZE: bottleneck buffer (max(BDP, 10ms, "
        "64K))", false }, V_QUEUE, 0, 0, 0, -1 },

    { { "migration", "mode", "mode", "live|cold (live)", false },
      V_MODE, CFG(mode), 0, 0, -1 },
    { { "migration", "policy", "policy", "xen|xen-legacy|qemu|miglab (xen)",
        false }, V_POLICY, 0, 0, 0, -1 },
    { { "migration", "max_passes", "max-passes",
        "N live passes, 0 = none (policy's)", false },
      V_UINT, POL(max_passes), 0, 1000000, 0 },
    { { "migration", "dirty_threshold", "dirty-threshold", "PAGES (50)",
        false }, V_U64, POL(dirty_threshold), 0, UINT64_MAX, 1 },
    { { "migration", "downtime_limit", "downtime-limit",
        "TIME: qemu limit / miglab target (300ms)", false },
      V_TIME, POL(downtime_limit_s), 0, 0, 2 },
    { { "migration", "max_bandwidth", "max-bandwidth",
        "RATE cap, 0 = none (qemu: 128MiB/s)", false },
      V_BYTERATE, POL(max_bandwidth_Bps), 0, 0, 3 },
    { { "migration", "auto_converge", "auto-converge",
        "qemu vCPU throttling (off)", true },
      V_BOOL, POL(auto_converge), 0, 0, 4 },
    { { "migration", "time_budget", "time-budget",
        "TIME, miglab aborts after, 0 = none", false },
      V_TIME, POL(time_budget_s), 0, 0, 5 },
    { { "migration", "byte_budget", "byte-budget",
        "SIZE, miglab aborts after, 0 = none", false },
      V_SIZE, POL(byte_budget), 0, 0, 6 },
    { { "migration", "max_sent_factor", "max-sent-factor",
        "x memory, xen-legacy (3)", false },
      V_DOUBLE, POL(max_sent_factor), 0, 0, 7 },
    { { "migration", "abort_on_stall", "abort-on-stall",
        "miglab aborts instead of stop-and-copy (off)", true },
      V_BOOL, POL(abort_on_stall), 0, 0, 8 },
    { { "migration", "drain", "drain",
        "on|off: pause only once the live passes have reached the "
        "destination (on)", false },
      V_BOOL, POL(drain), 0, 0, 9 },

    { { "costs", "suspend", "suspend", "TIME (5ms)", false },
      V_TIME, CFG(costs.suspend_s), 0, 0, -1 },
    { { "costs", "restore", "restore", "TIME (20ms)", false },
      V_TIME, CFG(costs.restore_s), 0, 0, -1 },
    { { "costs", "unpause", "unpause", "TIME (2ms)", false },
      V_TIME, CFG(costs.unpause_s), 0, 0, -1 },
    { { "costs", "vcpu_state", "vcpu-state", "SIZE per vCPU (16K)", false },
      V_SIZE, CFG(costs.vcpu_state_bytes), 0, 0, -1 },
    { { "costs", "device_state", "device-state", "SIZE (64K)", false },
      V_SIZE, CFG(costs.device_state_bytes), 0, 0, -1 },
    { { "costs", "stream_header", "stream-header", "SIZE (8K)", false },
      V_SIZE, CFG(costs.stream_header_bytes), 0, 0, -1 },
    { { "costs", "setup_rtts", "setup-rtts", "N round trips (2)", false },
      V_DOUBLE, CFG(costs.setup_rtts), 0, 0, -1 },
    { { "costs", "handshake_rtts", "handshake-rtts", "N round trips (1)",
        false }, V_DOUBLE, CFG(costs.handshake_rtts), 0, 0, -1 },
    { { "costs", "pause_backlog", "pause-backlog",
        "SIZE of the live passes still queued at the pause (model)",
        false },
      V_SIZE, CFG(costs.pause_backlog_bytes), 0, 0, -1 },
    { { "costs", "copy_rate", "copy-rate", "RATE sender CPU cap (none)",
        false }, V_BYTERATE, CFG(costs.copy_rate_Bps), 0, 0, -1 },

    { { "expect", "downtime_max", NULL, "TIME", false },
      V_TIME, EXP(downtime_max_s), 0, 0, -1 },
    { { "expect", "downtime_min", NULL, "TIME", false },
      V_TIME, EXP(downtime_min_s), 0, 0, -1 },
    { { "expect", "total_time_max", NULL, "TIME", false },
      V_TIME, EXP(total_time_max_s), 0, 0, -1 },
    { { "expect", "bytes_max", NULL, "SIZE", false },
      V_SIZE, EXP(bytes_max), 0, 0, -1 },
    { { "expect", "converged", NULL, "true|false", false },
      V_TRISTATE, EXP(converged), 0, 0, -1 },
    { { "expect", "outcome", NULL, "completed|aborted|unfinished|refused",
        false },
      V_OUTCOME, EXP(outcome), 0, 0, -1 },
    { { "expect", "prediction_error", NULL,
        "fraction |predicted - measured| / measured", false },
      V_FRACTION, EXP(prediction_error), 0, 0, -1 },

    { { "run", "repeats", "repeats", "N (1)", false },
      V_UINT, SC(repeats), 1, 1000000, -1 },
    { { "run", "seed", "seed", "N (1)", false },
      V_U64, CFG(seed), 0, UINT64_MAX, -1 },
    { { "run", "engine", "engine", "analytic|exact (analytic)", false },
      V_ENGINE, CFG(engine), 0, 0, -1 },
    { { "run", "time_limit", "time-limit",
        "TIME the simulation gives up after (1h)", false },
      V_TIME, CFG(time_limit_s), 0, 0, -1 },
    { { "run", "profile", "profile",
        "FILE host profile of miglab calibrate (none)", false },
      V_PATH, SC(profile), 0, 0, -1 },

    { { "hosts", "dest_capacity", NULL,
        "SIZE memory the destination host admits (runner; 0 = enough)",
        false }, V_SIZE, SC(dest_capacity), 0, 0, -1 },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
_Static_assert(NSETTINGS <= 64, "explicit_keys has one bit per setting");

size_t sim_scenario_nkeys(void)
{
    return NSETTINGS;
}

const struct sim_scenario_key *sim_scenario_key_at(size_t i)
{
    return i < NSETTINGS ? &settings[i].key : NULL;
}

void sim_scenario_init(struct sim_scenario *sc)
{
    memset(sc, 0, sizeof(*sc));
    sim_config_defaults(&sc->cfg);
    sc->repeats = 1;
    sc->expect = (struct sim_expect){
        .downtime_max_s = -1, .downtime_min_s = -1,
        .total_time_max_s = -1,
        .converged = -1, .outcome = -1, .prediction_error = -1,
    };
}

void sim_scenario_free(struct sim_scenario *sc)
{
    if (!sc)
        return;
    free(sc->name);
    free(sc->description);
    free(sc->workload_spec);
    free(sc->basedir);
    free(sc->profile);
    sim_workload_free(sc->workload);
    memset(sc, 0, sizeof(*sc));
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return MIG_EINVAL;
}

static int set_policy_kind(struct sim_scenario *sc, enum mig_policy_kind k)
{
    struct mig_policy old = sc->cfg.policy;

    mig_policy_defaults(&sc->cfg.policy, k);
    /* Keep what the user set explicitly, whatever the order of the keys. */
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        size_t off, size;

        if (s->policy_bit < 0 || !(sc->policy_overrides & (1UL << s->policy_bit)))
            continue;
        off = s->offset - offsetof(struct sim_scenario, cfg.policy);
        size = s->type == V_BOOL ? sizeof(bool)
             : s->type == V_UINT ? sizeof(unsigned)
             : s->type == V_U64 || s->type == V_SIZE ? sizeof(uint64_t)
             : sizeof(double);
        memcpy((char *)&sc->cfg.policy + off, (char *)&old + off, size);
    }
    return 0;
}

static int set_workload(struct sim_scenario *sc, const char *v, char *err,
                        size_t errlen)
{
    struct sim_workload *wl = NULL;
    char *copy;
    int rc = sim_workload_parse(v, sc->basedir, &wl, err, errlen);

    if (rc)
        return rc;
    copy = strdup(v);
    if (!copy) {
        sim_workload_free(wl);
        return MIG_ENOMEM;
    }
    sim_workload_free(sc->workload);
    free(sc->workload_spec);
    sc->workload = wl;
    sc->workload_spec = copy;
    sc->cfg.workload = wl;
    return 0;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), MIG_EINVAL)

/* Parse v as s->type into the scenario; bare message in err on failure. */
static int set_value(struct sim_scenario *sc, const struct setting *s,
                     const char *v, char *err, size_t errlen)
{
    void *p = (char *)sc + s->offset;
    uint64_t u;
    double d;
    bool b;
    unsigned e;

    switch (s->type) {
    case V_STRING: {
        char *copy = strdup(v);

        if (!copy)
            return MIG_ENOMEM;
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    case V_PATH: {
        char *path;

        if (!*v)
            return BAD("empty path");
        if (sc->loading && v[0] != '/' && sc->basedir) {
            size_t len = strlen(sc->basedir) + strlen(v) + 2;

            path = malloc(len);
            if (path)
                snprintf(path, len, "%s/%s", sc->basedir, v);
        } else {
            path = strdup(v);
        }
        if (!path)
            return MIG_ENOMEM;
        free(*(char **)p);
        *(char **)p = path;
        return 0;
    }
    case V_SIZE:
        if (sim_parse_size(v, &u))
            return BAD("bad size '%s' (e.g. 4G, 512M, 64K)", v);
        *(uint64_t *)p = u;
        return 0;
    case V_BITRATE:
        if (sim_parse_bitrate(v, &d))
            return BAD("bad rate '%s' (e.g. 1Gbit, 100Mbit, 125MB/s)", v);
        *(double *)p = d;
        return 0;
    case V_BYTERATE:
        if (sim_parse_byterate(v, &d))
            return BAD("bad rate '%s' (e.g. 200MB/s, 1GiB/s, 800Mbit)", v);
        *(double *)p = d;
        return 0;
    case V_TIME:
        if (sim_parse_time(v, &d))
            return BAD("bad time '%s' (e.g. 5ms, 0.5ms, 2s)", v);
        *(double *)p = d;
        return 0;
    case V_QUEUE: {
        /* A time has a unit ending in s (10ms, 0.5s); anything else, a
         * bare number included, is a size in bytes. */
        size_t len = strlen(v);

        if (len && (v[len - 1] == 's' || v[len - 1] == 'S')) {
            if (sim_parse_time(v, &d) || !(d > 0 && d <= 10))
                return BAD("bad queue '%s' (a time at the bandwidth in "
                           "(0, 10s], e.g. 10ms)", v);
            sc->cfg.link.queue_s = d;
            sc->cfg.link.queue_bytes = 0;
            return 0;
        }
        if (sim_parse_size(v, &u) || u < 1500)
            return BAD("bad queue '%s' (a size of at least one packet, "
                       "e.g. 256K, or a time, e.g. 10ms)", v);
        sc->cfg.link.queue_bytes = u;
        sc->cfg.link.queue_s = 0;
        return 0;
    }
    case V_FRACTION:
        if (sim_parse_fraction(v, &d))
            return BAD("bad fraction '%s' (e.g. 1e-4, 0.01, 1%%; 0..1)", v);
        *(double *)p = d;
        return 0;
    case V_DOUBLE:
        if (sim_parse_double(v, 0, 1e12, &d))
            return BAD("bad number '%s' (a non-negative number)", v);
        *(double *)p = d;
        return 0;
    case V_UINT:
    case V_U32:
    case V_U64:
        if (sim_parse_uint(v, s->min, s->max, &u))
            return BAD("bad value '%s' (an integer in %llu..%llu)", v,
                       (unsigned long long)s->min,
                       (unsigned long long)s->max);
        if (s->type == V_UINT)
            *(unsigned *)p = (unsigned)u;
        else if (s->type == V_U32)
            *(uint32_t *)p = (uint32_t)u;
        else
            *(uint64_t *)p = u;
        return 0;
    case V_BOOL:
    case V_TRISTATE:
        if (parse_bool(v, &b))
            return BAD("bad boolean '%s' (true/false, yes/no, on/off)", v);
        if (s->type == V_BOOL)
            *(bool *)p = b;
        else
            *(int *)p = b;
        return 0;
    case V_WORKLOAD:
        return set_workload(sc, v, err, errlen);
    case V_MODE:
        if (sim_mode_parse(v, &sc->cfg.mode))
            return BAD("bad mode '%s' (live or cold)", v);
        return 0;
    case V_POLICY: {
        enum mig_policy_kind k;

        if (mig_policy_parse(v, &k))
            return BAD("unknown policy '%s' (xen, xen-legacy, qemu, miglab)",
                       v);
        return set_policy_kind(sc, k);
    }
    case V_CC:
        if (sim_cc_parse(v, &sc->cfg.link.cc))
            return BAD("unknown congestion control '%s' (cubic, reno, bbr)",
                       v);
        return 0;
    case V_ENGINE:
        if (sim_engine_parse(v, &sc->cfg.engine))
            return BAD("unknown engine '%s' (analytic or exact)", v);
        return 0;
    case V_OUTCOME:
        for (e = 0; e <= SIM_OUTCOME_REFUSED; e++) {
            if (strcasecmp(v, sim_outcome_name((enum sim_outcome)e)) == 0) {
                *(int *)p = (int)e;
                return 0;
            }
        }
        return BAD("bad outcome '%s' (completed, aborted, unfinished, "
                   "refused)", v);
    }
    return MIG_EINVAL;
}

/* Set s to value; with mark, remember that the user set it. */
static int apply(struct sim_scenario *sc, const struct setting *s,
                 const char *value, const char *prefix, bool mark, char *err,
                 size_t errlen)
{
    char msg[256] = "";
    int rc = set_value(sc, s, value, msg, sizeof(msg));

    if (rc) {
        if (errlen)
            snprintf(err, errlen, "%s%s", prefix,
                     rc == MIG_ENOMEM ? "out of memory" : msg);
        return rc;
    }
    if (!mark)
        return 0;
    if (s->policy_bit >= 0)
        sc->policy_overrides |= 1UL << s->policy_bit;
    sc->explicit_keys |= UINT64_C(1) << (s - settings);
    return 0;
}

static const struct setting *find_setting(const char *section,
                                          const char *key)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(settings[i].key.section, section) == 0 &&
            strcmp(settings[i].key.key, key) == 0)
            return &settings[i];
    }
    return NULL;
}

bool sim_scenario_is_set(const struct sim_scenario *sc, const char *section,
                         const char *key)
{
    const struct setting *s = find_setting(section, key);

    return s && (sc->explicit_keys & (UINT64_C(1) << (s - settings)));
}

int sim_scenario_set_default(struct sim_scenario *sc, const char *section,
                             const char *key, const char *value, char *err,
                             size_t errlen)
{
    const struct setting *s = find_setting(section, key);
    char prefix[96];

    if (!s)
        return sim_scenario_set(sc, section, key, value, err, errlen);
    if (sc->explicit_keys & (UINT64_C(1) << (s - settings)))
        return 0;
    snprintf(prefix, sizeof(prefix), "[%s] %s: ", section, key);
    return apply(sc, s, value, prefix, false, err, errlen);
}

int sim_scenario_set(struct sim_scenario *sc, const char *section,
                     const char *key, const char *value, char *err,
                     size_t errlen)
{
    const struct setting *s = find_setting(section, key);
    char prefix[96];

    snprintf(prefix, sizeof(prefix), "[%s] %s: ", section, key);
    if (s)
        return apply(sc, s, value, prefix, true, err, errlen);
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(settings[i].key.section, section) == 0) {
            if (errlen)
                snprintf(err, errlen, "unknown key '%s' in [%s]", key,
                         section);
            return MIG_EINVAL;
        }
    }
    if (errlen)
        snprintf(err, errlen, "unknown section [%s]", section);
    return MIG_EINVAL;
}

int sim_scenario_set_flag(struct sim_scenario *sc, const char *flag,
                          const char *value, char *err, size_t errlen)
{
    char prefix[96];

    while (*flag == '-')
        flag++;
    snprintf(prefix, sizeof(prefix), "--%s: ", flag);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];

        if (s->key.flag && strcmp(s->key.flag, flag) == 0)
            return apply(sc, s, value ? value : "true", prefix, true, err,
                         errlen);
    }
    return MIG_ENOTSUP;
}

/* inih reads lines through this, so the handler knows its line number. */
struct ini_reader {
    FILE *f;
    int line;
    sim_ini_set_fn *set;
    void *target;
    const char *path;
    char *err;
    size_t errlen;
    int rc;
    int err_line;           /* line of the first handler error */
};

static char *read_line(char *buf, int size, void *stream)
{
    struct ini_reader *r = stream;
    char *s = fgets(buf, size, r->f);

    if (s)
        r->line++;
    return s;
}

static int on_key(void *user, const char *section, const char *key,
                  const char *value)
{
    struct ini_reader *r = user;
    char msg[320];
    int rc;

    if (r->rc)
        return 0;
    if (!*section)
        rc = (snprintf(msg, sizeof(msg), "'%s' outside any [section]", key),
              MIG_EINVAL);
    else
        rc = r->set(r->target, section, key, value, msg, sizeof(msg));
    if (rc) {
        r->rc = rc;
        r->err_line = r->line;
        snprintf(r->err, r->errlen, "%s:%d: %s", r->path, r->line, msg);
        return 0;
    }
    return 1;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    return dot && dot != base ? strndup(base, (size_t)(dot - base))
                              : strdup(base);
}

static int set_scenario(void *target, const char *section, const char *key,
                        const char *value, char *err, size_t errlen)
{
    return sim_scenario_set(target, section, key, value, err, errlen);
}

int sim_scenario_load(struct sim_scenario *sc, const char *path, char *err,
                      size_t errlen)
{
    return sim_scenario_load_with(sc, path, set_scenario, sc, err, errlen);
}

bool sim_scenario_flag_is_boolean(const char *flag)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].key.flag && !strcmp(settings[i].key.flag, flag))
            return settings[i].key.boolean;
    return false;
}

int sim_scenario_load_stream_with(struct sim_scenario *sc, FILE *f,
                                  const char *path, sim_ini_set_fn *set,
                                  void *target, char *err, size_t errlen)
{
    struct ini_reader r = { .f = f, .set = set, .target = target,
                            .path = path, .err = err, .errlen = errlen };
    int line;

    free(sc->basedir);
    sc->basedir = dir_of(path);
    if (!sc->name)
        sc->name = stem_of(path);
    if (!sc->basedir || !sc->name) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MIG_ENOMEM;
    }
    /* inih goes on after a syntax error; report whichever came first. */
    sc->loading = true;
    line = ini_parse_stream(read_line, &r, on_key, &r);
    sc->loading = false;
    if (line == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MIG_ENOMEM;
    }
    if (r.rc && (line <= 0 || r.err_line <= line))
        return r.rc;
    if (line > 0) {
        snprintf(err, errlen,
                 "%s:%d: syntax error (expected [section] or key = value)",
                 path, line);
        return MIG_EINVAL;
    }
    return 0;
}

int sim_scenario_load_stream(struct sim_scenario *sc, FILE *f,
                             const char *path, char *err, size_t errlen)
{
    return sim_scenario_load_stream_with(sc, f, path, set_scenario, sc, err,
                                         errlen);
}

int sim_scenario_load_with(struct sim_scenario *sc, const char *path,
                           sim_ini_set_fn *set, void *target, char *err,
                           size_t errlen)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    rc = sim_scenario_load_stream_with(sc, f, path, set, target, err, errlen);
    fclose(f);
    return rc;
}

int sim_scenario_validate(const struct sim_scenario *sc, char *err,
                          size_t errlen)
{
    return sim_config_validate(&sc->cfg, err, errlen);
}

static bool expect_line(struct sim_expect_line *lines, size_t maxlines,
                        size_t *n, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static bool expect_line(struct sim_expect_line *lines, size_t maxlines,
                        size_t *n, bool pass, const char *fmt, ...)
{
    va_list ap;

    if (lines && *n < maxlines) {
        lines[*n].pass = pass;
        va_start(ap, fmt);
        vsnprintf(lines[*n].text, sizeof(lines[*n].text), fmt, ap);
        va_end(ap);
    }
    (*n)++;
    return pass;
}

unsigned sim_expect_check(const struct sim_expect *e,
                          const struct sim_result *r,
                          struct sim_expect_line *lines, size_t maxlines,
                          size_t *nlines)
{
    unsigned failed = 0;
    size_t n = 0;
    char a[32], b[32];

    if (e->outcome >= 0)
        failed += !expect_line(lines, maxlines, &n, (int)r->outcome == e->outcome,
                               "outcome = %s (got %s)",
                               sim_outcome_name((enum sim_outcome)e->outcome),
                               sim_outcome_name(r->outcome));
    if (e->converged >= 0)
        failed += !expect_line(lines, maxlines, &n,
                               (int)r->converged == e->converged,
                               "converged = %s (got %s)",
                               e->converged ? "true" : "false",
                               r->converged ? "true" : "false");
    if (e->downtime_max_s >= 0)
        failed += !expect_line(lines, maxlines, &n,
                               r->outcome == SIM_OUTCOME_COMPLETED &&
                               r->downtime_s <= e->downtime_max_s,
                               "downtime <= %s (got %s)",
                               sim_format_time(a, sizeof(a), e->downtime_max_s),
                               sim_format_time(b, sizeof(b), r->downtime_s));
    if (e->downtime_min_s >= 0)
        failed += !expect_line(lines, maxlines, &n,
                               r->downtime_s >= e->downtime_min_s,
                               "downtime >= %s (got %s)",
                               sim_format_time(a, sizeof(a), e->downtime_min_s),
                               sim_format_time(b, sizeof(b), r->downtime_s));
    if (e->total_time_max_s >= 0)
        failed += !expect_line(lines, maxlines, &n,
                               r->total_time_s <= e->total_time_max_s,
                               "total time <= %s (got %s)",
                               sim_format_time(a, sizeof(a),
                                               e->total_time_max_s),
                               sim_format_time(b, sizeof(b), r->total_time_s));
    if (e->bytes_max > 0)
        failed += !expect_line(lines, maxlines, &n,
                               r->bytes_sent <= e->bytes_max,
                               "bytes <= %s (got %s)",
                               sim_format_size(a, sizeof(a), (double)e->bytes_max),
                               sim_format_size(b, sizeof(b),
                                               (double)r->bytes_sent));
    if (nlines)
        *nlines = n;
    return failed;
}
