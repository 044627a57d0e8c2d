/* SPDX-License-Identifier: MIT */
/*
 * workload.c - workload specs, their canonical text, fit checks, and trace
 * files (see workload.h).  The generators and the closed forms for distinct
 * pages live in wgen.c.
 *
 * Spec grammar (blanks around names, keys and values are ignored; model
 * names and keys are lower case):
 *   idle | uniform:rate=R | hotcold:wss=S,hot=H,rate=R | zipf:s=X,rate=R
 *   | seq:rate=R | trace:FILE | phased:SPEC@T;SPEC@T;...
 * R is a byte rate (sim_parse_byterate, 0..1 PB/s), S a size of at least one
 * page (sim_parse_size; used rounded down to whole pages), H a fraction
 * (sim_parse_fraction), X a number in (0, 10], T a time of 1 ms .. 1e9 s
 * (sim_parse_time).  Every key is required, once.  Phases are split on ';'
 * and each phase's duration on its last '@', so a phase may be a trace
 * whose path holds '@' but not ';'; phases may not be phased themselves.
 * A relative trace path is opened relative to basedir and kept as written,
 * which is what the canonical text shows.
 *
 * Canonical text: parameters in the order above; rates in the largest of
 * TB/s GiB/s GB/s MiB/s MB/s KiB/s kB/s that gives a whole number, else
 * bytes/s in the shortest exact decimal; sizes in P/T/G/M/K (binary) when
 * whole, else bytes; other numbers in the shortest text that reads back
 * exactly; durations in seconds.  Parsing the canonical text gives back the
 * same workload, field for field.
 *
 * Trace files: docs/trace-format.md (normative), cited as FORMAT.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig_err.h"
#include "units.h"
#include "workload.h"
#include "workload_int.h"

static const char *const model_names[] = {
    [SIM_WL_IDLE] = "idle",       [SIM_WL_UNIFORM] = "uniform",
    [SIM_WL_HOTCOLD] = "hotcold", [SIM_WL_ZIPF] = "zipf",
    [SIM_WL_SEQ] = "seq",         [SIM_WL_PHASED] = "phased",
    [SIM_WL_TRACE] = "trace",
};
#define NMODELS (sizeof(model_names) / sizeof(model_names[0]))

/*
 * Write one line to err (if any): control characters, which could only come
 * from the input being quoted, are shown as '?'.
 */
__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static bool valid_kind(enum sim_workload_kind k)
{
    return (unsigned)k < NMODELS;
}

/* Shortest "%g" text of v that sim_parse_double reads back exactly. */
static void fmt_num(char *out, size_t len, double v)
{
    const char *dp = localeconv()->decimal_point;

    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, len, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        double back;

        snprintf(out, len, "%.*g", prec, v);
        if (dp && dp[0] && dp[0] != '.')
            for (char *c = out; *c; c++)
                if (*c == dp[0])
                    *c = '.';
        if (sim_parse_double(out, -INFINITY, INFINITY, &back) == 0 &&
            back == v)
            return;
    }
}

/* ---- traces ------------------------------------------------------------ */

struct trace_box {
    struct sim_trace t;         /* first: a box pointer is a trace pointer */
    char path[];
};

struct sim_trace *sim__trace_alloc(const char *path)
{
    size_t l = path ? strlen(path) : 0;
    struct trace_box *b = calloc(1, sizeof(*b) + l + 1);

    if (!b)
        return NULL;
    if (l)
        memcpy(b->path, path, l);
    return &b->t;
}

void sim__trace_free(struct sim_trace *t)
{
    if (!t)
        return;
    free(t->off);
    free(t->pfns);
    free(t);
}

const char *sim__trace_path(const struct sim_trace *t)
{
    return ((const struct trace_box *)(const void *)t)->path;
}

int sim__trace_valid(const struct sim_trace *t, bool deep)
{
    if (!t || !t->off || t->nintervals == 0 || t->npages == 0 ||
        !(t->interval_s >= SIM__WL_MIN_PERIOD &&
          t->interval_s <= SIM__TRACE_MAX_INTERVAL) ||
        t->off[0] != 0 || (t->off[t->nintervals] && !t->pfns))
        return MIG_EINVAL;
    if (!deep)
        return 0;
    for (size_t i = 0; i < t->nintervals; i++)
        if (t->off[i + 1] < t->off[i])
            return MIG_EINVAL;
    for (uint64_t j = 0; j < t->off[t->nintervals]; j++)
        if (t->pfns[j] >= t->npages)
            return MIG_EINVAL;
    return 0;
}

/* Growing arrays of a trace being read. */
struct trace_rd {
    struct sim_trace *t;
    size_t off_cap;
    uint64_t pfn_cap;
    const char *name;
    unsigned long line;
    char *err;
    size_t errlen;
};

static int rd_error(struct trace_rd *r, const char *msg, const char *tok)
{
    if (tok)
        seterr(r->err, r->errlen, "%s:%lu: %s '%.40s'", r->name, r->line,
               msg, tok);
    else
        seterr(r->err, r->errlen, "%s:%lu: %s", r->name, r->line, msg);
    return MIG_EINVAL;
}

static int rd_push(struct trace_rd *r, uint64_t pfn)
{
    struct sim_trace *t = r->t;
    uint64_t n = t->off[t->nintervals];

    if (n >= SIM__TRACE_MAX_PFNS) {
        seterr(r->err, r->errlen,
               "%s:%lu: trace too large (more than %llu pfns in all)",
               r->name, r->line, (unsigned long long)SIM__TRACE_MAX_PFNS);
        return MIG_EINVAL;
    }
    if (n == r->pfn_cap) {
        uint64_t cap = r->pfn_cap ? r->pfn_cap * 2 : 1024;
        uint64_t *p = realloc(t->pfns, cap * sizeof(*p));

        if (!p)
            return MIG_ENOMEM;
        t->pfns = p;
        r->pfn_cap = cap;
    }
    t->pfns[n] = pfn;
    t->off[t->nintervals] = n + 1;
    return 0;
}

struct pfn_ix {
    uint64_t pfn;
    uint64_t ix;
};

static int cmp_pfn_ix(const void *a, const void *b)
{
    const struct pfn_ix *x = a, *y = b;

    if (x->pfn != y->pfn)
        return x->pfn < y->pfn ? -1 : 1;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

/*
 * FORMAT §3: duplicates within one interval are dropped, keeping the first
 * occurrence, so the replay order of the remaining pfns is unchanged.
 */
static int dedup(uint64_t *p, uint64_t m, uint64_t *mout)
{
    struct pfn_ix *v;
    unsigned char *keep;
    uint64_t o = 0;
    bool sorted = true;

    *mout = m;
    for (uint64_t i = 1; i < m && sorted; i++)
        sorted = p[i - 1] < p[i];
    if (sorted)
        return 0;
    v = malloc(m * sizeof(*v));
    keep = calloc(m, 1);
    if (!v || !keep) {
        free(v);
        free(keep);
        return MIG_ENOMEM;
    }
    for (uint64_t i = 0; i < m; i++)
        v[i] = (struct pfn_ix){ p[i], i };
    qsort(v, m, sizeof(*v), cmp_pfn_ix);
    for (uint64_t i = 0; i < m; i++)
        if (i == 0 || v[i].pfn != v[i - 1].pfn)
            keep[v[i].ix] = 1;
    for (uint64_t i = 0; i < m; i++)
        if (keep[i])
            p[o++] = p[i];
    free(v);
    free(keep);
    *mout = o;
    return 0;
}

/* Decimal pfn at *p; advances *p.  False on no digits or overflow. */
static bool scan_pfn(const char **p, uint64_t *out)
{
    const char *q = *p;
    uint64_t u = 0;

    if (!isdigit((unsigned char)*q))
        return false;
    for (; isdigit((unsigned char)*q); q++) {
        unsigned d = (unsigned)(*q - '0');

        if (u > (UINT64_MAX - d) / 10)
            return false;
        u = u * 10 + d;
    }
    *p = q;
    *out = u;
    return true;
}

/* One interval line (FORMAT §3): "-" or pfns and a-b ranges. */
static int rd_interval(struct trace_rd *r, char *line)
{
    struct sim_trace *t = r->t;
    uint64_t first, m;
    int rc;

    if (t->nintervals + 1 >= r->off_cap) {
        size_t cap = r->off_cap * 2;
        uint64_t *o = realloc(t->off, cap * sizeof(*o));

        if (!o)
            return MIG_ENOMEM;
        t->off = o;
        r->off_cap = cap;
    }
    first = t->off[t->nintervals];
    t->off[t->nintervals + 1] = first;
    t->nintervals++;
    if (strcmp(line, "-") == 0)
        return 0;

    for (char *save, *tok = strtok_r(line, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        const char *p = tok;
        uint64_t a, b;

        if (!scan_pfn(&p, &a))
            return rd_error(r, "bad pfn", tok);
        b = a;
        if (*p == '-') {
            p++;
            if (!scan_pfn(&p, &b))
                return rd_error(r, "bad pfn range", tok);
            if (b < a)
                return rd_error(r, "bad pfn range (start after end)", tok);
        }
        if (*p)
            return rd_error(r, "bad pfn", tok);
        if (b >= t->npages) {
            seterr(r->err, r->errlen,
                   "%s:%lu: pfn %llu out of range (pages %llu)", r->name,
                   r->line, (unsigned long long)b,
                   (unsigned long long)t->npages);
            return MIG_EINVAL;
        }
        for (uint64_t x = a;; x++) {
            rc = rd_push(r, x);
            if (rc)
                return rc;
            if (x == b)
                break;
        }
    }
    rc = dedup(t->pfns + first, t->off[t->nintervals] - first, &m);
    if (rc)
        return rc;
    t->off[t->nintervals] = first + m;
    return 0;
}

/* A header line "KEY VALUE" (FORMAT §2). */
static int rd_header(struct trace_rd *r, char *line)
{
    struct sim_trace *t = r->t;
    char *val = line;

    while (*val && !isspace((unsigned char)*val))
        val++;
    if (*val)
        *val++ = '\0';
    while (isspace((unsigned char)*val))
        val++;
    if (t->nintervals)
        return rd_error(r, "header after interval data:", line);
    if (strcmp(line, "pages") == 0) {
        if (t->npages)
            return rd_error(r, "duplicate header", line);
        if (sim_parse_uint(val, 1, SIM__TRACE_MAX_PAGES, &t->npages))
            return rd_error(r, "bad page count (1..2^32)", val);
    } else if (strcmp(line, "interval") == 0) {
        double s;

        if (t->interval_s > 0)
            return rd_error(r, "duplicate header", line);
        if (sim_parse_time(val, &s) || s < SIM__WL_MIN_PERIOD ||
            s > SIM__TRACE_MAX_INTERVAL)
            return rd_error(r, "bad interval (1ms..1h)", val);
        t->interval_s = s;
    } else {
        return rd_error(r, "unknown header", line);
    }
    return 0;
}

static int rd_line(struct trace_rd *r, char *line, bool *magic)
{
    struct sim_trace *t = r->t;
    char *c = strchr(line, '#');
    char *e;

    if (c)
        *c = '\0';
    while (isspace((unsigned char)*line))
        line++;
    e = line + strlen(line);
    while (e > line && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (!*line)
        return 0;
    if (!*magic) {
        /* FORMAT §2: the first line that is not blank is the magic. */
        char *v = line + strlen("miglab-trace");

        if (strncmp(line, "miglab-trace", strlen("miglab-trace")) != 0 ||
            !isspace((unsigned char)*v))
            return rd_error(r, "expected 'miglab-trace 1' first", NULL);
        while (isspace((unsigned char)*v))
            v++;
        if (strcmp(v, "1") != 0)
            return rd_error(r, "unsupported trace version", v);
        *magic = true;
        return 0;
    }
    if (isdigit((unsigned char)*line) || *line == '-') {
        if (!t->npages || !(t->interval_s > 0))
            return rd_error(r, "interval data before the 'pages' and "
                            "'interval' headers", NULL);
        return rd_interval(r, line);
    }
    return rd_header(r, line);
}

int sim__trace_read(FILE *f, const char *name, struct sim_trace *t,
                    char *err, size_t errlen)
{
    struct trace_rd r = {
        .t = t, .name = name, .err = err, .errlen = errlen,
    };
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool magic = false;
    int rc = 0;

    r.off_cap = 64;
    t->off = calloc(r.off_cap, sizeof(*t->off));
    if (!t->off)
        return MIG_ENOMEM;
    errno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        r.line++;
        if (strlen(line) != (size_t)len) {
            rc = rd_error(&r, "NUL byte in line", NULL);
            break;
        }
        rc = rd_line(&r, line, &magic);
        if (rc)
            break;
        errno = 0;
    }
    if (!rc && ferror(f)) {
        rc = errno ? -errno : MIG_EIO;
        seterr(err, errlen, "%s: read error: %s", name, mig_strerror(rc));
    }
    free(line);
    if (rc == MIG_ENOMEM)
        seterr(err, errlen, "%s: out of memory", name);
    if (rc)
        return rc;
    if (!magic)
        seterr(err, errlen, "%s: not a trace (no 'miglab-trace 1' line)",
               name);
    else if (!t->npages)
        seterr(err, errlen, "%s: missing 'pages' header", name);
    else if (!(t->interval_s > 0))
        seterr(err, errlen, "%s: missing 'interval' header", name);
    else if (!t->nintervals)
        seterr(err, errlen, "%s: no intervals", name);
    else
        return 0;
    return MIG_EINVAL;
}

int sim__trace_write(FILE *f, const struct sim_trace *t)
{
    char ib[40];

    fmt_num(ib, sizeof(ib), t->interval_s);
    fprintf(f, "miglab-trace 1\npages %llu\ninterval %ss\n",
            (unsigned long long)t->npages, ib);
    for (size_t i = 0; i < t->nintervals; i++) {
        uint64_t j = t->off[i], e = t->off[i + 1];

        if (j == e)
            fputs("-", f);
        while (j < e) {
            uint64_t k = j;

            while (k + 1 < e && t->pfns[k + 1] == t->pfns[k] + 1)
                k++;
            if (k > j)
                fprintf(f, "%s%llu-%llu", j == t->off[i] ? "" : " ",
                        (unsigned long long)t->pfns[j],
                        (unsigned long long)t->pfns[k]);
            else
                fprintf(f, "%s%llu", j == t->off[i] ? "" : " ",
                        (unsigned long long)t->pfns[j]);
            j = k + 1;
        }
        fputc('\n', f);
    }
    if (fflush(f) == EOF || ferror(f))
        return errno ? -errno : MIG_EIO;
    return 0;
}

/* Load "trace:FILE": path as written, resolved against basedir. */
static int load_trace(const char *path, const char *basedir,
                      struct sim_trace **out, char *err, size_t errlen)
{
    struct sim_trace *t;
    char *full = NULL;
    const char *open_path = path;
    struct stat st;
    FILE *f;
    int fd, rc;

    *out = NULL;
    if (basedir && *basedir && path[0] != '/') {
        size_t l = strlen(basedir) + strlen(path) + 2;

        full = malloc(l);
        if (!full)
            goto out_nomem;
        snprintf(full, l, "%s/%s", basedir, path);
        open_path = full;
    }
    /* Regular files only: a spec can come from a migration stream, and a
     * device (/dev/zero) would be read forever, a FIFO block the open. */
    fd = open(open_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
        close(fd);
        seterr(err, errlen, "trace: '%s' is not a regular file", open_path);
        rc = MIG_EINVAL;
        goto out_free_full;
    }
    f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        seterr(err, errlen, "trace: cannot open '%s': %s", open_path,
               mig_strerror(rc));
        goto out_free_full;
    }
    t = sim__trace_alloc(path);
    if (!t) {
        fclose(f);
        goto out_nomem;
    }
    rc = sim__trace_read(f, open_path, t, err, errlen);
    fclose(f);
    if (rc)
        sim__trace_free(t);
    else
        *out = t;
out_free_full:
    free(full);
    return rc;
out_nomem:
    free(full);
    seterr(err, errlen, "trace: out of memory");
    return MIG_ENOMEM;
}

/* ---- specs ------------------------------------------------------------- */

enum { P_RATE, P_WSS, P_HOT, P_S, NPARAMS };
static const char *const param_names[NPARAMS] = { "rate", "wss", "hot", "s" };

/*
 * Split "k=v,k=v" (params may be NULL) into vals[] by key; only the keys in
 * the bit set `allowed` are accepted, each once.  Every allowed key must be
 * present.  Values point into params.
 */
static int split_params(const char *model, char *params, unsigned allowed,
                        char *vals[NPARAMS], char *err, size_t errlen)
{
    char *p = params;

    for (int i = 0; i < NPARAMS; i++)
        vals[i] = NULL;
    if (p && *sim_str_trim(p) == '\0')
        p = NULL;
    while (p) {
        char *item = p, *eq, *key;
        char *comma = strchr(p, ',');
        int k;

        if (comma)
            *comma = '\0';
        p = comma ? comma + 1 : NULL;
        item = sim_str_trim(item);
        if (!*item) {
            seterr(err, errlen, "%s: empty parameter", model);
            return MIG_EINVAL;
        }
        eq = strchr(item, '=');
        if (!eq) {
            seterr(err, errlen, "%s: parameter '%s' without a value",
                   model, item);
            return MIG_EINVAL;
        }
        *eq = '\0';
        key = sim_str_trim(item);
        for (k = 0; k < NPARAMS; k++)
            if ((allowed & (1u << k)) && strcmp(key, param_names[k]) == 0)
                break;
        if (k == NPARAMS) {
            seterr(err, errlen, "%s: unknown parameter '%s'", model, key);
            return MIG_EINVAL;
        }
        if (vals[k]) {
            seterr(err, errlen, "%s: duplicate parameter '%s'", model, key);
            return MIG_EINVAL;
        }
        vals[k] = sim_str_trim(eq + 1);
        if (!*vals[k]) {
            seterr(err, errlen, "%s: empty value for %s=", model, key);
            return MIG_EINVAL;
        }
    }
    for (int k = 0; k < NPARAMS; k++) {
        if ((allowed & (1u << k)) && !vals[k]) {
            seterr(err, errlen, "%s: missing %s=", model, param_names[k]);
            return MIG_EINVAL;
        }
    }
    return 0;
}

static int parse_params(struct sim_workload *wl, const char *model,
                        char *params, char *err, size_t errlen)
{
    static const unsigned allowed[] = {
        [SIM_WL_UNIFORM] = 1u << P_RATE,
        [SIM_WL_HOTCOLD] = 1u << P_RATE | 1u << P_WSS | 1u << P_HOT,
        [SIM_WL_ZIPF] = 1u << P_RATE | 1u << P_S,
        [SIM_WL_SEQ] = 1u << P_RATE,
    };
    char *v[NPARAMS];
    int rc;

    rc = split_params(model, params, allowed[wl->kind], v, err, errlen);
    if (rc)
        return rc;
    rc = sim_parse_byterate(v[P_RATE], &wl->rate);
    if (rc == MIG_EINVAL) {
        seterr(err, errlen, "%s: bad rate '%s' (expected a byte rate like "
               "200MB/s)", model, v[P_RATE]);
        return MIG_EINVAL;
    }
    if (rc || wl->rate > SIM__WL_RATE_MAX) {
        seterr(err, errlen, "%s: rate=%s out of range (0..1PB/s)", model,
               v[P_RATE]);
        return MIG_EINVAL;
    }
    if (v[P_WSS]) {
        rc = sim_parse_size(v[P_WSS], &wl->wss_bytes);
        if (rc == MIG_EINVAL) {
            seterr(err, errlen, "%s: bad wss '%s' (expected a size like "
                   "512M)", model, v[P_WSS]);
            return MIG_EINVAL;
        }
        if (rc || wl->wss_bytes < SIM_PAGE_SIZE ||
            wl->wss_bytes > (UINT64_C(1) << 52)) {
            seterr(err, errlen, "%s: wss=%s out of range (4K..4P)", model,
                   v[P_WSS]);
            return MIG_EINVAL;
        }
    }
    if (v[P_HOT]) {
        rc = sim_parse_fraction(v[P_HOT], &wl->hot);
        if (rc == MIG_EINVAL) {
            seterr(err, errlen, "%s: bad hot '%s' (expected a fraction like "
                   "0.9 or 90%%)", model, v[P_HOT]);
            return MIG_EINVAL;
        }
        if (rc) {
            seterr(err, errlen, "%s: hot=%s out of range (0..1)", model,
                   v[P_HOT]);
            return MIG_EINVAL;
        }
    }
    if (v[P_S]) {
        rc = sim_parse_double(v[P_S], 0, SIM__ZIPF_S_MAX, &wl->zipf_s);
        if (rc == MIG_EINVAL) {
            seterr(err, errlen, "%s: bad s '%s' (expected a number)", model,
                   v[P_S]);
            return MIG_EINVAL;
        }
        if (rc || !(wl->zipf_s > 0)) {
            seterr(err, errlen, "%s: s=%s out of range (0 < s <= 10)",
                   model, v[P_S]);
            return MIG_EINVAL;
        }
    }
    return 0;
}

static int parse_one(char *spec, const char *basedir, bool top,
                     struct sim_workload **out, char *err, size_t errlen);

static int parse_phased(struct sim_workload *wl, char *body,
                        const char *basedir, char *err, size_t errlen)
{
    char sub[256];
    char *p = body;
    size_t cap = 0;

    if (!body || !*sim_str_trim(body)) {
        seterr(err, errlen, "phased: no phases");
        return MIG_EINVAL;
    }
    while (p) {
        struct sim_workload_phase *ph;
        char *semi = strchr(p, ';');
        char *item = p, *at;
        size_t i = wl->nphases + 1;
        int rc;

        if (semi)
            *semi = '\0';
        p = semi ? semi + 1 : NULL;
        item = sim_str_trim(item);
        if (!*item) {
            seterr(err, errlen, "phased: phase %zu is empty", i);
            return MIG_EINVAL;
        }
        at = strrchr(item, '@');
        if (!at) {
            seterr(err, errlen, "phased: phase %zu '%s' has no @DURATION", i,
                   item);
            return MIG_EINVAL;
        }
        *at = '\0';
        if (wl->nphases == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct sim_workload_phase *np =
                realloc(wl->phases, ncap * sizeof(*np));

            if (!np) {
                seterr(err, errlen, "out of memory");
                return MIG_ENOMEM;
            }
            wl->phases = np;
            cap = ncap;
        }
        ph = &wl->phases[wl->nphases];
        rc = sim_parse_time(at + 1, &ph->duration_s);
        if (rc || ph->duration_s < SIM__WL_MIN_PERIOD ||
            ph->duration_s > SIM__WL_MAX_PERIOD) {
            if (rc == MIG_EINVAL)
                seterr(err, errlen, "phased: phase %zu: bad duration '%s' "
                       "(expected a time like 10s)", i, sim_str_trim(at + 1));
            else
                seterr(err, errlen, "phased: phase %zu: duration '%s' out "
                       "of range (1ms..1e9s)", i, sim_str_trim(at + 1));
            return MIG_EINVAL;
        }
        sub[0] = '\0';
        rc = parse_one(item, basedir, false, &ph->model, sub, sizeof(sub));
        if (rc) {
            seterr(err, errlen, "phased: phase %zu: %s", i, sub);
            return rc;
        }
        wl->nphases++;
        wl->cycle_s += ph->duration_s;
    }
    return 0;
}

/* Parse one spec (modified in place).  top: phased allowed. */
static int parse_one(char *spec, const char *basedir, bool top,
                     struct sim_workload **out, char *err, size_t errlen)
{
    struct sim_workload *wl;
    char *name = sim_str_trim(spec), *params = strchr(name, ':');
    size_t k;
    int rc;

    *out = NULL;
    if (params)
        *params++ = '\0';
    name = sim_str_trim(name);
    if (!*name && !params) {
        seterr(err, errlen, "empty workload spec");
        return MIG_EINVAL;
    }
    for (k = 0; k < NMODELS; k++)
        if (strcmp(name, model_names[k]) == 0)
            break;
    if (k == NMODELS) {
        seterr(err, errlen, "unknown workload model '%s' (expected idle, "
               "uniform, hotcold, zipf, seq, phased, trace)", name);
        return MIG_EINVAL;
    }
    if (k == SIM_WL_PHASED && !top) {
        seterr(err, errlen, "a phase cannot itself be phased");
        return MIG_EINVAL;
    }
    wl = calloc(1, sizeof(*wl));
    if (!wl) {
        seterr(err, errlen, "out of memory");
        return MIG_ENOMEM;
    }
    wl->kind = (enum sim_workload_kind)k;
    switch (wl->kind) {
    case SIM_WL_IDLE:
        rc = 0;
        if (params) {
            seterr(err, errlen, "idle: takes no parameters");
            rc = MIG_EINVAL;
        }
        break;
    case SIM_WL_UNIFORM:
    case SIM_WL_HOTCOLD:
    case SIM_WL_ZIPF:
    case SIM_WL_SEQ:
        rc = parse_params(wl, name, params, err, errlen);
        break;
    case SIM_WL_PHASED:
        rc = parse_phased(wl, params, basedir, err, errlen);
        break;
    case SIM_WL_TRACE:
        if (!params || !*sim_str_trim(params)) {
            seterr(err, errlen, "trace: missing file name (trace:FILE)");
            rc = MIG_EINVAL;
            break;
        }
        rc = load_trace(sim_str_trim(params), basedir, &wl->trace, err, errlen);
        if (!rc)
            wl->cycle_s = (double)wl->trace->nintervals *
                          wl->trace->interval_s;
        break;
    default:
        rc = MIG_EINVAL;
        break;
    }
    if (rc) {
        sim_workload_free(wl);
        return rc;
    }
    *out = wl;
    return 0;
}

int sim_workload_parse(const char *spec, const char *basedir,
                       struct sim_workload **out, char *err, size_t errlen)
{
    char *copy;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        seterr(err, errlen, "no output workload");
        return MIG_EINVAL;
    }
    *out = NULL;
    if (!spec) {
        seterr(err, errlen, "empty workload spec");
        return MIG_EINVAL;
    }
    copy = malloc(strlen(spec) + 1);
    if (!copy) {
        seterr(err, errlen, "out of memory");
        return MIG_ENOMEM;
    }
    strcpy(copy, spec);
    rc = parse_one(copy, basedir, true, out, err, errlen);
    free(copy);
    return rc;
}

void sim_workload_free(struct sim_workload *wl)
{
    if (!wl)
        return;
    for (size_t i = 0; i < wl->nphases; i++)
        sim_workload_free(wl->phases[i].model);
    free(wl->phases);
    sim__trace_free(wl->trace);
    free(wl);
}

static int check_one(const struct sim_workload *wl, uint64_t npages,
                     bool top, char *err, size_t errlen)
{
    const char *name;

    if (!wl || !valid_kind(wl->kind)) {
        seterr(err, errlen, "invalid workload");
        return MIG_EINVAL;
    }
    name = model_names[wl->kind];
    if (wl->kind != SIM_WL_PHASED && wl->kind != SIM_WL_TRACE &&
        wl->kind != SIM_WL_IDLE &&
        !(wl->rate >= 0 && wl->rate <= SIM__WL_RATE_MAX)) {
        seterr(err, errlen, "%s: rate %g out of range (0..1PB/s)", name,
               wl->rate);
        return MIG_EINVAL;
    }
    switch (wl->kind) {
    case SIM_WL_HOTCOLD:
        if (!(wl->hot >= 0 && wl->hot <= 1)) {
            seterr(err, errlen, "hotcold: hot=%g out of range (0..1)",
                   wl->hot);
            return MIG_EINVAL;
        }
        if (wl->wss_bytes / SIM_PAGE_SIZE > npages) {
            char a[32], b[32];

            seterr(err, errlen, "hotcold: hot set wss=%s larger than memory "
                   "(%s)", sim_format_size(a, sizeof(a),
                                           (double)wl->wss_bytes),
                   sim_format_size(b, sizeof(b), (double)npages * 4096.0));
            return MIG_EINVAL;
        }
        break;
    case SIM_WL_ZIPF:
        if (!(wl->zipf_s > 0 && wl->zipf_s <= SIM__ZIPF_S_MAX)) {
            seterr(err, errlen, "zipf: s=%g out of range (0 < s <= 10)",
                   wl->zipf_s);
            return MIG_EINVAL;
        }
        break;
    case SIM_WL_PHASED:
        if (!top || wl->nphases == 0 || !wl->phases) {
            seterr(err, errlen, "phased: bad phase list");
            return MIG_EINVAL;
        }
        for (size_t i = 0; i < wl->nphases; i++) {
            char sub[256];
            double d = wl->phases[i].duration_s;

            if (!(d >= SIM__WL_MIN_PERIOD && d <= SIM__WL_MAX_PERIOD)) {
                seterr(err, errlen, "phased: phase %zu: duration %g s out "
                       "of range (1ms..1e9s)", i + 1, d);
                return MIG_EINVAL;
            }
            sub[0] = '\0';
            if (check_one(wl->phases[i].model, npages, false, sub,
                          sizeof(sub))) {
                seterr(err, errlen, "phased: phase %zu: %s", i + 1, sub);
                return MIG_EINVAL;
            }
        }
        break;
    case SIM_WL_TRACE:
        if (sim__trace_valid(wl->trace, true)) {
            seterr(err, errlen, "trace: malformed trace");
            return MIG_EINVAL;
        }
        if (wl->trace->npages > npages) {
            seterr(err, errlen, "trace: recorded on %llu pages, larger than "
                   "the guest (%llu pages)",
                   (unsigned long long)wl->trace->npages,
                   (unsigned long long)npages);
            return MIG_EINVAL;
        }
        break;
    default:
        break;
    }
    return 0;
}

int sim_workload_check(const struct sim_workload *wl, uint64_t npages,
                       char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (npages == 0) {
        seterr(err, errlen, "guest has no pages");
        return MIG_EINVAL;
    }
    return check_one(wl, npages, true, err, errlen);
}

/* ---- canonical text ---------------------------------------------------- */

struct sbuf {
    char *buf;
    size_t len;
    size_t pos;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->pos >= b->len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    b->pos += (size_t)n < b->len - b->pos ? (size_t)n : b->len - b->pos - 1;
    if (b->pos == b->len - 1)
        b->pos = b->len;    /* truncated: append nothing more */
}

static void fmt_rate(struct sbuf *b, double rate)
{
    static const struct {
        const char *unit;
        double mult;
    } u[] = {
        { "TB/s", 1e12 }, { "GiB/s", 0x1p30 }, { "GB/s", 1e9 },
        { "MiB/s", 0x1p20 }, { "MB/s", 1e6 }, { "KiB/s", 0x1p10 },
        { "kB/s", 1e3 },
    };
    char num[40];

    for (size_t i = 0; rate > 0 && i < sizeof(u) / sizeof(u[0]); i++) {
        double m = rate / u[i].mult;

        if (m == floor(m) && m * u[i].mult == rate) {
            sb_printf(b, "%.0f%s", m, u[i].unit);
            return;
        }
    }
    fmt_num(num, sizeof(num), rate);
    sb_printf(b, "%sB/s", num);
}

static void fmt_size(struct sbuf *b, uint64_t bytes)
{
    static const char units[] = "PTGMK";

    for (int i = 0; i < 5; i++) {
        unsigned shift = 10u * (unsigned)(5 - i);

        if (bytes && (bytes & ((UINT64_C(1) << shift) - 1)) == 0) {
            sb_printf(b, "%llu%c", (unsigned long long)(bytes >> shift),
                      units[i]);
            return;
        }
    }
    sb_printf(b, "%llu", (unsigned long long)bytes);
}

static void fmt_one(struct sbuf *b, const struct sim_workload *wl)
{
    char num[40];

    if (!wl || !valid_kind(wl->kind)) {
        sb_printf(b, "?");
        return;
    }
    sb_printf(b, "%s", model_names[wl->kind]);
    switch (wl->kind) {
    case SIM_WL_IDLE:
        break;
    case SIM_WL_HOTCOLD:
        sb_printf(b, ":wss=");
        fmt_size(b, wl->wss_bytes);
        fmt_num(num, sizeof(num), wl->hot);
        sb_printf(b, ",hot=%s,rate=", num);
        fmt_rate(b, wl->rate);
        break;
    case SIM_WL_ZIPF:
        fmt_num(num, sizeof(num), wl->zipf_s);
        sb_printf(b, ":s=%s,rate=", num);
        fmt_rate(b, wl->rate);
        break;
    case SIM_WL_UNIFORM:
    case SIM_WL_SEQ:
        sb_printf(b, ":rate=");
        fmt_rate(b, wl->rate);
        break;
    case SIM_WL_PHASED:
        for (size_t i = 0; wl->phases && i < wl->nphases; i++) {
            sb_printf(b, "%s", i ? ";" : ":");
            fmt_one(b, wl->phases[i].model);
            fmt_num(num, sizeof(num), wl->phases[i].duration_s);
            sb_printf(b, "@%ss", num);
        }
        break;
    case SIM_WL_TRACE:
        sb_printf(b, ":%s", wl->trace ? sim__trace_path(wl->trace) : "");
        break;
    }
}

char *sim_workload_format(const struct sim_workload *wl, char *buf,
                          size_t len)
{
    struct sbuf b = { buf, len, 0 };

    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    fmt_one(&b, wl);
    return buf;
}
