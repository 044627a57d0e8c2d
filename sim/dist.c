/* SPDX-License-Identifier: MIT */
/*
 * dist.c - parsing, drawing and printing of parameter distributions; the
 * syntax and the parameterisations are in dist.h and docs/plan.md.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "mig_err.h"
#include "units.h"

#define REDRAWS 64

static const char *const kind_names[] = {
    [SIM_DIST_FIXED] = "fixed",       [SIM_DIST_UNIFORM] = "uniform",
    [SIM_DIST_NORMAL] = "normal",     [SIM_DIST_LOGNORMAL] = "lognormal",
    [SIM_DIST_CHOICE] = "choice",
};

const char *sim_dist_kind_name(enum sim_dist_kind k)
{
    return (unsigned)k <= SIM_DIST_CHOICE ? kind_names[k] : "?";
}

/* One line to err; control characters from the input are shown as '?'. */
__attribute__((format(printf, 3, 4)))
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        for (char *c = err; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    }
    return MIG_EINVAL;
}

bool sim_dist_is_spec(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '[')
        return true;
    if (!islower((unsigned char)*s))
        return false;
    while (islower((unsigned char)*s))
        s++;
    while (isspace((unsigned char)*s))
        s++;
    return *s == '(';
}

static const char *unit_example(enum sim_dist_unit u)
{
    switch (u) {
    case SIM_UNIT_SIZE:
        return "a size, e.g. 4G";
    case SIM_UNIT_BITRATE:
        return "a rate, e.g. 1Gbit";
    case SIM_UNIT_BYTERATE:
        return "a rate, e.g. 200MB/s";
    case SIM_UNIT_TIME:
        return "a time, e.g. 5ms";
    case SIM_UNIT_FRACTION:
        return "a fraction, e.g. 1e-4";
    }
    return "a value";
}

/* Is v inside the unit's valid range (dist.h)? */
static bool in_range(enum sim_dist_unit u, double v)
{
    switch (u) {
    case SIM_UNIT_SIZE:
    case SIM_UNIT_BITRATE:
        return v > 0 && isfinite(v);
    case SIM_UNIT_BYTERATE:
    case SIM_UNIT_TIME:
        return v >= 0 && isfinite(v);
    case SIM_UNIT_FRACTION:
        return v >= 0 && v < 1;
    }
    return false;
}

static double clamp(enum sim_dist_unit u, double v)
{
    if (in_range(u, v))
        return v;
    if (u == SIM_UNIT_FRACTION && v >= 1)
        return nextafter(1.0, 0.0);
    if (u == SIM_UNIT_SIZE || u == SIM_UNIT_BITRATE)
        return v > 0 ? v : 1.0;
    return v > 0 ? v : 0.0;
}

/* One value of the unit; the whole of s must be the value. */
static int parse_value(const char *what, char *s, enum sim_dist_unit u,
                       double *out, char *err, size_t errlen)
{
    uint64_t bytes;
    int rc;

    s = sim_str_trim(s);
    switch (u) {
    case SIM_UNIT_SIZE:
        rc = sim_parse_size(s, &bytes);
        *out = (double)bytes;
        break;
    case SIM_UNIT_BITRATE:
        rc = sim_parse_bitrate(s, out);
        break;
    case SIM_UNIT_BYTERATE:
        rc = sim_parse_byterate(s, out);
        break;
    case SIM_UNIT_TIME:
        rc = sim_parse_time(s, out);
        break;
    case SIM_UNIT_FRACTION:
        rc = sim_parse_fraction(s, out);
        break;
    default:
        rc = MIG_EINVAL;
    }
    if (rc)
        return bad(err, errlen, "%s: bad value '%.40s' (%s)", what, s,
                   unit_example(u));
    if (!in_range(u, *out))
        return bad(err, errlen, "%s: value '%.40s' out of range%s", what, s,
                   u == SIM_UNIT_FRACTION ? " (0 <= p < 1)" : " (> 0)");
    return 0;
}

/* Split s on ',' into at most max trimmed fields; returns the count or
 * -1 when there are more. */
static int split(char *s, char **f, int max)
{
    int n = 0;

    for (;;) {
        char *c = strchr(s, ',');

        if (n == max)
            return -1;
        if (c)
            *c = '\0';
        f[n++] = sim_str_trim(s);
        if (!c)
            return n;
        s = c + 1;
    }
}

static int parse_list(const char *what, char *body, enum sim_dist_unit u,
                      struct sim_dist *d, char *err, size_t errlen)
{
    char *f[SIM_DIST_MAX_VALUES];
    int n = split(body, f, SIM_DIST_MAX_VALUES);

    if (n < 0)
        return bad(err, errlen, "%s: more than %d values", what,
                   SIM_DIST_MAX_VALUES);
    if (n == 1 && !*f[0])
        return bad(err, errlen, "%s: empty list", what);
    for (int i = 0; i < n; i++) {
        if (!*f[i])
            return bad(err, errlen, "%s: empty value %d", what, i + 1);
        if (parse_value(what, f[i], u, &d->v[i], err, errlen))
            return MIG_EINVAL;
    }
    d->kind = SIM_DIST_CHOICE;
    d->n = (size_t)n;
    return 0;
}

static int parse_call(char *s, enum sim_dist_unit u, struct sim_dist *d,
                      char *err, size_t errlen)
{
    char *open = strchr(s, '('), *name = s, *body, *f[2];
    char *end = s + strlen(s);
    int n;

    /* sim_dist_is_spec() said: name, blanks, '('. */
    *open = '\0';
    name = sim_str_trim(name);
    body = open + 1;
    if (end == body || end[-1] != ')')
        return bad(err, errlen, "%s: missing ')' at the end", name);
    end[-1] = '\0';
    if (!strcmp(name, "choice"))
        return parse_list("choice", body, u, d, err, errlen);
    if (strcmp(name, "uniform") && strcmp(name, "normal") &&
        strcmp(name, "lognormal"))
        return bad(err, errlen,
                   "unknown distribution '%.20s' (uniform, normal, "
                   "lognormal, choice, [list])", name);
    n = split(body, f, 2);
    if (n != 2)
        return bad(err, errlen, "%s needs 2 values, e.g. %s", name,
                   !strcmp(name, "lognormal") ? "lognormal(MEDIAN,SIGMA)"
                   : !strcmp(name, "normal")  ? "normal(MEAN,SD)"
                                              : "uniform(LOW,HIGH)");
    if (!strcmp(name, "uniform")) {
        d->kind = SIM_DIST_UNIFORM;
        if (parse_value("uniform", f[0], u, &d->a, err, errlen) ||
            parse_value("uniform", f[1], u, &d->b, err, errlen))
            return MIG_EINVAL;
        if (d->a > d->b)
            return bad(err, errlen, "uniform: low '%s' above high '%s'",
                       f[0], f[1]);
        return 0;
    }
    if (!strcmp(name, "normal")) {
        d->kind = SIM_DIST_NORMAL;
        if (parse_value("normal", f[0], u, &d->a, err, errlen))
            return MIG_EINVAL;
        /* The standard deviation has the unit of the mean; 0 is allowed. */
        if (u == SIM_UNIT_SIZE || u == SIM_UNIT_BITRATE) {
            if (!strcmp(f[1], "0")) {
                d->b = 0;
                return 0;
            }
        }
        return parse_value("normal", f[1], u, &d->b, err, errlen);
    }
    d->kind = SIM_DIST_LOGNORMAL;
    if (parse_value("lognormal", f[0], u, &d->a, err, errlen))
        return MIG_EINVAL;
    if (!(d->a > 0))
        return bad(err, errlen, "lognormal: median must be above 0");
    if (sim_parse_double(f[1], 0, 10, &d->b))
        return bad(err, errlen,
                   "lognormal: bad sigma '%.40s' (sd of the log, a bare "
                   "number in 0..10, e.g. 0.25)", f[1]);
    return 0;
}

int sim_dist_parse(const char *s, enum sim_dist_unit unit,
                   struct sim_dist *out, char *err, size_t errlen)
{
    char *copy, *t;
    int rc;

    memset(out, 0, sizeof(*out));
    out->unit = unit;
    copy = strdup(s);
    if (!copy) {
        bad(err, errlen, "out of memory");
        return MIG_ENOMEM;
    }
    t = sim_str_trim(copy);
    if (*t == '[') {
        size_t l = strlen(t);

        if (t[l - 1] != ']')
            rc = bad(err, errlen, "list: missing ']' at the end");
        else {
            t[l - 1] = '\0';
            rc = parse_list("list", t + 1, unit, out, err, errlen);
        }
    } else if (sim_dist_is_spec(t)) {
        rc = parse_call(t, unit, out, err, errlen);
    } else {
        out->kind = SIM_DIST_FIXED;
        rc = parse_value("value", t, unit, &out->a, err, errlen);
    }
    free(copy);
    if (rc) {
        enum sim_dist_unit u = out->unit;

        memset(out, 0, sizeof(*out));
        out->unit = u;
    }
    return rc;
}

double sim_dist_draw(const struct sim_dist *d, struct sim_rng *rng)
{
    double v = d->a;

    switch (d->kind) {
    case SIM_DIST_FIXED:
        return d->a;
    case SIM_DIST_UNIFORM:
        v = d->a + (d->b - d->a) * sim_rng_uniform(rng);
        break;
    case SIM_DIST_NORMAL:
        for (int i = 0; i < REDRAWS; i++) {
            v = d->a + d->b * sim_rng_normal(rng);
            if (in_range(d->unit, v))
                break;
        }
        break;
    case SIM_DIST_LOGNORMAL:
        v = d->a * exp(d->b * sim_rng_normal(rng));
        break;
    case SIM_DIST_CHOICE:
        v = d->n ? d->v[sim_rng_below(rng, d->n)] : 0;
        break;
    }
    return clamp(d->unit, v);
}

double sim_dist_center(const struct sim_dist *d)
{
    switch (d->kind) {
    case SIM_DIST_UNIFORM:
        return (d->a + d->b) / 2;
    case SIM_DIST_CHOICE:
        return d->n ? d->v[0] : 0;
    default:
        return d->a;
    }
}

/* A value for people, in the unit's usual form (rounded). */
static void fmt_value(char *buf, size_t len, enum sim_dist_unit u, double v)
{
    switch (u) {
    case SIM_UNIT_SIZE:
        sim_format_size(buf, len, v);
        break;
    case SIM_UNIT_BITRATE:
        sim_format_bitrate(buf, len, v);
        break;
    case SIM_UNIT_BYTERATE:
        sim_format_byterate(buf, len, v);
        break;
    case SIM_UNIT_TIME:
        sim_format_time(buf, len, v);
        break;
    case SIM_UNIT_FRACTION:
        snprintf(buf, len, "%g", v);
        break;
    }
}

char *sim_dist_format(const struct sim_dist *d, char *buf, size_t len)
{
    char a[40], b[40];
    size_t pos;

    if (!len)
        return buf;
    buf[0] = '\0';
    fmt_value(a, sizeof(a), d->unit, d->a);
    fmt_value(b, sizeof(b), d->unit, d->b);
    switch (d->kind) {
    case SIM_DIST_FIXED:
        snprintf(buf, len, "%s", a);
        break;
    case SIM_DIST_UNIFORM:
        snprintf(buf, len, "uniform(%s, %s)", a, b);
        break;
    case SIM_DIST_NORMAL:
        snprintf(buf, len, "normal(%s, %s)", a, b);
        break;
    case SIM_DIST_LOGNORMAL:
        snprintf(buf, len, "lognormal(%s, %g)", a, d->b);
        break;
    case SIM_DIST_CHOICE:
        snprintf(buf, len, "[");
        for (size_t i = 0; i < d->n; i++) {
            pos = strlen(buf);
            fmt_value(a, sizeof(a), d->unit, d->v[i]);
            snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", a);
        }
        pos = strlen(buf);
        snprintf(buf + pos, len - pos, "]");
        break;
    }
    return buf;
}
