/* SPDX-License-Identifier: MIT */
/*
 * profile.c - host profiles: reader, writer, matching and application
 * (see profile.h and docs/calibrate.md).  The file is read by the
 * scenario reader (sim_scenario_load_with), so errors carry FILE:LINE and
 * cost values are checked by the scenario's own setters.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mig_err.h"
#include "profile.h"
#include "units.h"

#define LINK_PREFIX "link "

static const char *const info_keys[] = {
    "created", "emulator", "kernel", "cc_used", "repeats", "guest",
    "command", "scenarios", "spread_goodput", "spread_downtime", "note",
};

void sim_profile_init(struct sim_profile *p)
{
    memset(p, 0, sizeof(*p));
}

static void kvs_free(struct sim_profile_kvs *kvs)
{
    for (size_t i = 0; i < kvs->n; i++) {
        free(kvs->v[i].key);
        free(kvs->v[i].value);
    }
    free(kvs->v);
    kvs->v = NULL;
    kvs->n = 0;
}

void sim_profile_free(struct sim_profile *p)
{
    if (!p)
        return;
    kvs_free(&p->info);
    kvs_free(&p->costs);
    for (size_t i = 0; i < p->npoints; i++) {
        free(p->points[i].name);
        kvs_free(&p->points[i].costs);
        kvs_free(&p->points[i].info);
    }
    free(p->points);
    memset(p, 0, sizeof(*p));
}

int sim_profile_kv_set(struct sim_profile_kvs *kvs, const char *key,
                       const char *value)
{
    char *v = strdup(value), *k;
    struct sim_profile_kv *grown;

    if (!v)
        return MIG_ENOMEM;
    for (size_t i = 0; i < kvs->n; i++) {
        if (!strcmp(kvs->v[i].key, key)) {
            free(kvs->v[i].value);
            kvs->v[i].value = v;
            return 0;
        }
    }
    k = strdup(key);
    grown = realloc(kvs->v, (kvs->n + 1) * sizeof(*grown));
    if (!k || !grown) {
        free(k);
        free(v);
        if (grown)
            kvs->v = grown;
        return MIG_ENOMEM;
    }
    kvs->v = grown;
    kvs->v[kvs->n].key = k;
    kvs->v[kvs->n].value = v;
    kvs->n++;
    return 0;
}

const char *sim_profile_kv_get(const struct sim_profile_kvs *kvs,
                               const char *key)
{
    for (size_t i = 0; i < kvs->n; i++)
        if (!strcmp(kvs->v[i].key, key))
            return kvs->v[i].value;
    return NULL;
}

static struct sim_profile_point *find_point(const struct sim_profile *p,
                                            const char *name)
{
    for (size_t i = 0; i < p->npoints; i++)
        if (!strcmp(p->points[i].name, name))
            return &p->points[i];
    return NULL;
}

struct sim_profile_point *sim_profile_add_point(struct sim_profile *p,
                                                const char *name,
                                                const struct sim_link *l)
{
    struct sim_profile_point *grown, *pt;
    char *copy;

    if (find_point(p, name))
        return NULL;
    copy = strdup(name);
    grown = realloc(p->points, (p->npoints + 1) * sizeof(*grown));
    if (!copy || !grown) {
        free(copy);
        if (grown)
            p->points = grown;
        return NULL;
    }
    p->points = grown;
    pt = &p->points[p->npoints++];
    memset(pt, 0, sizeof(*pt));
    pt->name = copy;
    pt->link = *l;
    return pt;
}

/* ---- checking one setting -------------------------------------------- */

static bool is_info_key(const char *key)
{
    for (size_t i = 0; i < sizeof(info_keys) / sizeof(info_keys[0]); i++)
        if (!strcmp(info_keys[i], key))
            return true;
    return false;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), MIG_EINVAL)

/* A [costs] key of a scenario, or restore_cold (a time). */
static int check_cost(const char *section, const char *key,
                      const char *value, char *err, size_t errlen)
{
    struct sim_scenario scratch;
    char msg[256];
    double t;
    int rc;

    if (!strcmp(key, "restore_cold")) {
        if (sim_parse_time(value, &t))
            return BAD("[%s] %s: bad time '%s' (e.g. 5ms, 0.5ms, 2s)",
                       section, key, value);
        return 0;
    }
    sim_scenario_init(&scratch);
    rc = sim_scenario_set(&scratch, "costs", key, value, msg, sizeof(msg));
    sim_scenario_free(&scratch);
    if (rc == MIG_ENOMEM) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (rc) {
        /* msg reads "[costs] key: ..." or "unknown key 'k' in [costs]". */
        const char *tail = strstr(msg, "] ");

        if (strncmp(msg, "unknown key", 11) == 0)
            return BAD("unknown key '%s' in [%s]", key, section);
        return BAD("[%s] %s", section, tail ? tail + 2 : msg);
    }
    return 0;
}

/* A link key of a point: parsed into l (may be NULL: check only).  1 when
 * key is not a link key. */
static int set_link_key(struct sim_link *l, const char *section,
                        const char *key, const char *value, char *err,
                        size_t errlen)
{
    struct sim_link scratch;
    uint64_t u;

    if (!l) {
        sim_link_defaults(&scratch);
        l = &scratch;
    }
    if (!strcmp(key, "bandwidth")) {
        if (sim_parse_bitrate(value, &l->bandwidth_bps))
            return BAD("[%s] bandwidth: bad rate '%s' (e.g. 1Gbit, "
                       "100Mbit)", section, value);
    } else if (!strcmp(key, "rtt") || !strcmp(key, "jitter")) {
        if (sim_parse_time(value, key[0] == 'r' ? &l->rtt_s : &l->jitter_s))
            return BAD("[%s] %s: bad time '%s' (e.g. 5ms, 0.5ms, 2s)",
                       section, key, value);
    } else if (!strcmp(key, "loss")) {
        if (sim_parse_fraction(value, &l->loss))
            return BAD("[%s] loss: bad fraction '%s' (e.g. 1e-4, 0.01, "
                       "1%%; 0..1)", section, value);
    } else if (!strcmp(key, "cc")) {
        if (sim_cc_parse(value, &l->cc))
            return BAD("[%s] cc: unknown congestion control '%s' (cubic, "
                       "reno, bbr)", section, value);
    } else if (!strcmp(key, "window")) {
        if (sim_parse_size(value, &u))
            return BAD("[%s] window: bad size '%s' (e.g. 4M)", section,
                       value);
        l->window_bytes = u;
    } else if (!strcmp(key, "goodput")) {
        if (sim_parse_byterate(value, &l->goodput_Bps))
            return BAD("[%s] goodput: bad rate '%s' (e.g. 117.3MB/s)",
                       section, value);
    } else {
        return 1;
    }
    return 0;
}

int sim_profile_check(const char *section, const char *key,
                      const char *value, char *err, size_t errlen)
{
    int rc;

    if (!strcmp(section, "profile")) {
        if (!is_info_key(key) || !strncmp(key, "spread", 6))
            return BAD("unknown key '%s' in [profile]", key);
        return 0;
    }
    if (!strcmp(section, "costs"))
        return check_cost(section, key, value, err, errlen);
    if (strncmp(section, LINK_PREFIX, strlen(LINK_PREFIX)) ||
        !section[strlen(LINK_PREFIX)])
        return BAD("unknown section [%s] (profile, costs, link NAME)",
                   section);
    rc = set_link_key(NULL, section, key, value, err, errlen);
    if (rc <= 0)
        return rc;
    if (is_info_key(key))
        return 0;
    return check_cost(section, key, value, err, errlen);
}

/* ---- reading ---------------------------------------------------------- */

static int on_setting(void *target, const char *section, const char *key,
                      const char *value, char *err, size_t errlen)
{
    struct sim_profile *p = target;
    struct sim_profile_point *pt;
    struct sim_link l;
    int rc = sim_profile_check(section, key, value, err, errlen);

    if (rc)
        return rc;
    if (!strcmp(section, "profile"))
        rc = sim_profile_kv_set(&p->info, key, value);
    else if (!strcmp(section, "costs"))
        rc = sim_profile_kv_set(&p->costs, key, value);
    if (rc || !strcmp(section, "profile") || !strcmp(section, "costs"))
        goto out;
    pt = find_point(p, section + strlen(LINK_PREFIX));
    if (!pt) {
        sim_link_defaults(&l);
        pt = sim_profile_add_point(p, section + strlen(LINK_PREFIX), &l);
        if (!pt)
            return MIG_ENOMEM;
    }
    rc = set_link_key(&pt->link, section, key, value, err, errlen);
    if (rc <= 0)
        return rc;
    rc = sim_profile_kv_set(is_info_key(key) ? &pt->info : &pt->costs, key,
                            value);
out:
    if (rc == MIG_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int sim_profile_load(struct sim_profile *p, const char *path, char *err,
                     size_t errlen)
{
    struct sim_scenario scratch;
    int rc;

    sim_scenario_init(&scratch);
    rc = sim_scenario_load_with(&scratch, path, on_setting, p, err, errlen);
    sim_scenario_free(&scratch);
    return rc;
}

/* ---- writing ---------------------------------------------------------- */

/* inih reads lines of at most INI_MAX_LINE (200) bytes: longer text
 * (provenance such as the command line) is cut with "...". */
#define LINE_MAX_CHARS 198

static void write_kvs(FILE *f, const struct sim_profile_kvs *kvs)
{
    for (size_t i = 0; i < kvs->n; i++) {
        const char *k = kvs->v[i].key, *v = kvs->v[i].value;
        int room = LINE_MAX_CHARS - (int)strlen(k) - 3;

        if (room > 3 && (int)strlen(v) > room)
            fprintf(f, "%s = %.*s...\n", k, room - 3, v);
        else
            fprintf(f, "%s = %s\n", k, v);
    }
}

int sim_profile_write(FILE *f, const struct sim_profile *p)
{
    fputs("# miglab host profile (docs/calibrate.md): use it with\n"
          "# miglab predict --profile FILE, miglab run --profile FILE.\n", f);
    fputs("\n[profile]\n", f);
    write_kvs(f, &p->info);
    fputs("\n[costs]\n", f);
    write_kvs(f, &p->costs);
    for (size_t i = 0; i < p->npoints; i++) {
        const struct sim_profile_point *pt = &p->points[i];
        const struct sim_link *l = &pt->link;

        /* %.9g keeps every digit a measurement has; units are the bare
         * base units of sim/units.h where no prefix fits exactly. */
        fprintf(f, "\n[" LINK_PREFIX "%s]\n", pt->name);
        fprintf(f, "bandwidth = %.9gMbit\n", l->bandwidth_bps / 1e6);
        fprintf(f, "rtt = %.9gms\n", l->rtt_s * 1e3);
        fprintf(f, "jitter = %.9gms\n", l->jitter_s * 1e3);
        fprintf(f, "loss = %.9g\n", l->loss);
        fprintf(f, "cc = %s\n", sim_cc_name(l->cc));
        fprintf(f, "window = %llu\n", (unsigned long long)l->window_bytes);
        if (l->goodput_Bps > 0)
            fprintf(f, "goodput = %.9gMB/s\n", l->goodput_Bps / 1e6);
        write_kvs(f, &pt->costs);
        write_kvs(f, &pt->info);
    }
    return ferror(f) ? -EIO : 0;
}

/* ---- matching and applying ------------------------------------------- */

static bool same(double a, double b)
{
    return fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b));
}

const struct sim_profile_point *
sim_profile_match(const struct sim_profile *p, const struct sim_link *l)
{
    for (size_t i = 0; i < p->npoints; i++) {
        const struct sim_link *q = &p->points[i].link;

        if (same(q->bandwidth_bps, l->bandwidth_bps) &&
            same(q->rtt_s, l->rtt_s) && same(q->jitter_s, l->jitter_s) &&
            same(q->loss, l->loss) && q->cc == l->cc &&
            q->window_bytes == l->window_bytes)
            return &p->points[i];
    }
    return NULL;
}

static int apply_costs(const struct sim_profile_kvs *kvs,
                       struct sim_scenario *sc, char *err, size_t errlen)
{
    const char *cold = sim_profile_kv_get(kvs, "restore_cold");
    int rc = 0;

    for (size_t i = 0; i < kvs->n && !rc; i++)
        if (strcmp(kvs->v[i].key, "restore_cold"))
            rc = sim_scenario_set_default(sc, "costs", kvs->v[i].key,
                                          kvs->v[i].value, err, errlen);
    if (!rc && cold && sc->cfg.mode == SIM_MODE_COLD)
        rc = sim_scenario_set_default(sc, "costs", "restore", cold, err,
                                      errlen);
    return rc;
}

int sim_profile_apply(const struct sim_profile *p, struct sim_scenario *sc,
                      const struct sim_profile_point **matched, char *err,
                      size_t errlen)
{
    const struct sim_profile_point *pt = sim_profile_match(p, &sc->cfg.link);
    int rc;

    if (matched)
        *matched = pt;
    rc = apply_costs(&p->costs, sc, err, errlen);
    if (rc || !pt)
        return rc;
    rc = apply_costs(&pt->costs, sc, err, errlen);
    if (!rc && pt->link.goodput_Bps > 0 &&
        !sim_scenario_is_set(sc, "network", "goodput"))
        sc->cfg.link.goodput_Bps = pt->link.goodput_Bps;
    return rc;
}
