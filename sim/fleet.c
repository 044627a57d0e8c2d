/* SPDX-License-Identifier: MIT */
/*
 * fleet.c - inventories and evacuation plans (see fleet.h); the inventory
 * format is specified in docs/plan.md ("Inventory"), cited as INV.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "mig_err.h"
#include "scenario.h"
#include "units.h"

#define NAME_MAX_LEN 64
#define FIELDS_MAX 16

static const char *const order_names[] = {
    "smallest-dirty-first", "largest-first", "inventory",
};

const char *sim_fleet_order_name(enum sim_fleet_order o)
{
    return (unsigned)o <= SIM_ORDER_INVENTORY ? order_names[o] : "?";
}

void sim_fleet_free(struct sim_fleet *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nhosts; i++)
        free(f->hosts[i].name);
    for (size_t i = 0; i < f->nvms; i++) {
        free(f->vms[i].name);
        sim_workload_free(f->vms[i].workload);
    }
    free(f->hosts);
    free(f->links);
    free(f->vms);
    free(f);
}

/* ---- reading ------------------------------------------------------------ */

struct rd {
    struct sim_fleet *f;
    const char *name;
    const char *basedir;
    unsigned long line;
    char *err;
    size_t errlen;
    size_t hosts_cap, links_cap, vms_cap;
    bool policy_set;
};

__attribute__((format(printf, 2, 3)))
static int rd_error(struct rd *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    snprintf(r->err, r->errlen, "%s:%lu: %s", r->name, r->line, msg);
    return MIG_EINVAL;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
            return false;
    return true;
}

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return true;
    c = *cap ? *cap * 2 : 16;
    q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static long find_host(const struct sim_fleet *f, const char *name)
{
    for (size_t i = 0; i < f->nhosts; i++)
        if (!strcmp(f->hosts[i].name, name))
            return (long)i;
    return -1;
}

/* Split "key=value" fields; the value points into the field. */
static int split_kv(struct rd *r, char *field, char **key, char **val)
{
    char *eq = strchr(field, '=');

    *key = *val = field;
    if (!eq || eq == field)
        return rd_error(r, "expected key=value, got '%.40s'", field);
    *eq = '\0';
    *key = field;
    *val = eq + 1;
    return 0;
}

/* INV: host NAME capacity=SIZE */
static int rd_host(struct rd *r, char **fld, int n)
{
    struct sim_fleet *f = r->f;
    uint64_t cap = 0;
    bool have = false;
    char *k, *v, *name;

    if (n < 2 || !valid_name(fld[1]))
        return rd_error(r, "host: expected a name ([A-Za-z0-9_.-], "
                        "at most %d characters)", NAME_MAX_LEN);
    if (find_host(f, fld[1]) >= 0)
        return rd_error(r, "host '%s' defined twice", fld[1]);
    for (int i = 2; i < n; i++) {
        if (split_kv(r, fld[i], &k, &v))
            return MIG_EINVAL;
        if (strcmp(k, "capacity"))
            return rd_error(r, "host: unknown key '%.20s' (capacity)", k);
        if (have)
            return rd_error(r, "host: capacity given twice");
        if (sim_parse_size(v, &cap))
            return rd_error(r, "host: bad capacity '%.40s' (e.g. 256G)", v);
        have = true;
    }
    if (!have)
        return rd_error(r, "host '%s': missing capacity=", fld[1]);
    if (!grow((void **)&f->hosts, &r->hosts_cap, f->nhosts,
              sizeof(*f->hosts)))
        return MIG_ENOMEM;
    name = strdup(fld[1]);
    if (!name)
        return MIG_ENOMEM;
    f->hosts[f->nhosts++] = (struct sim_fleet_host){ name, cap };
    return 0;
}

/* INV: link HOST HOST bandwidth=RATE [rtt= jitter= loss= mtu= cc= window=] */
static int rd_link(struct rd *r, char **fld, int n)
{
    static const char *const keys[] = { "bandwidth", "rtt", "jitter",
                                        "loss", "mtu", "cc", "window" };
    struct sim_fleet *f = r->f;
    struct sim_scenario sc;
    char msg[256], *k, *v;
    long a, b;
    int rc = 0;

    if (n < 3)
        return rd_error(r, "link: expected two host names");
    a = find_host(f, fld[1]);
    b = find_host(f, fld[2]);
    if (a < 0 || b < 0)
        return rd_error(r, "link: unknown host '%s' (define hosts first)",
                        a < 0 ? fld[1] : fld[2]);
    if (a == b)
        return rd_error(r, "link: both ends are '%s'", fld[1]);
    for (size_t i = 0; i < f->nlinks; i++)
        if ((f->links[i].a == (size_t)a && f->links[i].b == (size_t)b) ||
            (f->links[i].a == (size_t)b && f->links[i].b == (size_t)a))
            return rd_error(r, "link %s-%s defined twice", fld[1], fld[2]);
    /* The link keys read exactly as in a scenario's [network]. */
    sim_scenario_init(&sc);
    sc.cfg.link.bandwidth_bps = 0;
    for (int i = 3; i < n && !rc; i++) {
        size_t j;

        rc = split_kv(r, fld[i], &k, &v);
        if (rc)
            break;
        for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
            if (!strcmp(k, keys[j]))
                break;
        if (j == sizeof(keys) / sizeof(keys[0])) {
            rc = rd_error(r, "link: unknown key '%.20s' (bandwidth, rtt, "
                          "jitter, loss, mtu, cc, window)", k);
            break;
        }
        rc = sim_scenario_set(&sc, "network", k, v, msg, sizeof(msg));
        if (rc == MIG_EINVAL)
            rc = rd_error(r, "link: %s", strchr(msg, ' ') ?
                          strchr(msg, ' ') + 1 : msg);
    }
    if (!rc && !(sc.cfg.link.bandwidth_bps > 0))
        rc = rd_error(r, "link %s-%s: missing bandwidth= (> 0)", fld[1],
                      fld[2]);
    if (!rc && !grow((void **)&f->links, &r->links_cap, f->nlinks,
                     sizeof(*f->links)))
        rc = MIG_ENOMEM;
    if (!rc)
        f->links[f->nlinks++] = (struct sim_fleet_link){
            (size_t)a, (size_t)b, sc.cfg.link };
    sim_scenario_free(&sc);
    return rc;
}

/* INV: vm NAME host=HOST memory=SIZE [vcpus=N] [workload=SPEC] */
static int rd_vm(struct rd *r, char **fld, int n)
{
    struct sim_fleet *f = r->f;
    struct sim_fleet_vm vm = { .vcpus = 1 };
    long host = -1;
    uint64_t u;
    char msg[200], *k, *v;
    int rc = 0;

    if (n < 2 || !valid_name(fld[1]))
        return rd_error(r, "vm: expected a name ([A-Za-z0-9_.-], at most "
                        "%d characters)", NAME_MAX_LEN);
    for (size_t i = 0; i < f->nvms; i++)
        if (!strcmp(f->vms[i].name, fld[1]))
            return rd_error(r, "vm '%s' defined twice", fld[1]);
    for (int i = 2; i < n && !rc; i++) {
        rc = split_kv(r, fld[i], &k, &v);
        if (rc)
            break;
        if (!strcmp(k, "host")) {
            host = find_host(f, v);
            if (host < 0)
                rc = rd_error(r, "vm: unknown host '%.40s'", v);
        } else if (!strcmp(k, "memory")) {
            if (sim_parse_size(v, &vm.mem_bytes) || vm.mem_bytes == 0 ||
                vm.mem_bytes % SIM_PAGE_SIZE ||
                vm.mem_bytes > (UINT64_C(1) << 50))
                rc = rd_error(r, "vm: bad memory '%.40s' (a multiple of "
                              "4K, e.g. 8G)", v);
        } else if (!strcmp(k, "vcpus")) {
            if (sim_parse_uint(v, 1, 4096, &u))
                rc = rd_error(r, "vm: bad vcpus '%.40s' (1..4096)", v);
            vm.vcpus = (unsigned)u;
        } else if (!strcmp(k, "workload")) {
            if (vm.workload) {
                rc = rd_error(r, "vm: workload given twice");
                break;
            }
            rc = sim_workload_parse(v, r->basedir, &vm.workload, msg,
                                    sizeof(msg));
            if (rc == MIG_EINVAL || (rc < 0 && rc > -10000))
                rc = rd_error(r, "vm: workload: %s", msg);
        } else {
            rc = rd_error(r, "vm: unknown key '%.20s' (host, memory, vcpus, "
                          "workload)", k);
        }
    }
    if (!rc && host < 0)
        rc = rd_error(r, "vm '%s': missing host=", fld[1]);
    if (!rc && !vm.mem_bytes)
        rc = rd_error(r, "vm '%s': missing memory=", fld[1]);
    if (!rc && vm.workload &&
        sim_workload_check(vm.workload, vm.mem_bytes / SIM_PAGE_SIZE, msg,
                           sizeof(msg)))
        rc = rd_error(r, "vm '%s': %s", fld[1], msg);
    if (!rc && !grow((void **)&f->vms, &r->vms_cap, f->nvms,
                     sizeof(*f->vms)))
        rc = MIG_ENOMEM;
    if (!rc) {
        vm.name = strdup(fld[1]);
        if (!vm.name)
            rc = MIG_ENOMEM;
    }
    if (rc) {
        sim_workload_free(vm.workload);
        return rc;
    }
    vm.host = (size_t)host;
    f->vms[f->nvms++] = vm;
    return 0;
}

/* INV: policy NAME */
static int rd_policy(struct rd *r, char **fld, int n)
{
    enum mig_policy_kind k;

    if (n != 2 || mig_policy_parse(fld[1], &k))
        return rd_error(r, "policy: expected one of xen, xen-legacy, qemu, "
                        "miglab");
    if (r->policy_set)
        return rd_error(r, "policy given twice");
    mig_policy_defaults(&r->f->policy, k);
    r->policy_set = true;
    return 0;
}

static int rd_line(struct rd *r, char *line)
{
    char *fld[FIELDS_MAX], *c = strchr(line, '#'), *save;
    int n = 0;

    if (c)
        *c = '\0';
    for (char *t = strtok_r(line, " \t\r\n", &save); t;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == FIELDS_MAX)
            return rd_error(r, "too many fields (at most %d)", FIELDS_MAX);
        fld[n++] = t;
    }
    if (n == 0)
        return 0;
    if (!strcmp(fld[0], "host"))
        return rd_host(r, fld, n);
    if (!strcmp(fld[0], "link"))
        return rd_link(r, fld, n);
    if (!strcmp(fld[0], "vm"))
        return rd_vm(r, fld, n);
    if (!strcmp(fld[0], "policy"))
        return rd_policy(r, fld, n);
    return rd_error(r, "unknown line type '%.20s' (host, link, vm, policy)",
                    fld[0]);
}

int sim_fleet_read(FILE *in, const char *name, const char *basedir,
                   struct sim_fleet **out, char *err, size_t errlen)
{
    struct rd r = { .name = name, .basedir = basedir, .err = err,
                    .errlen = errlen };
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    *out = NULL;
    r.f = calloc(1, sizeof(*r.f));
    if (!r.f)
        goto out_nomem;
    mig_policy_defaults(&r.f->policy, MIG_POLICY_XEN);
    sim_costs_defaults(&r.f->costs);
    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        r.line++;
        if (strlen(line) != (size_t)len) {
            rc = rd_error(&r, "NUL byte in line");
            break;
        }
        rc = rd_line(&r, line);
        if (rc)
            break;
        errno = 0;
    }
    if (!rc && ferror(in)) {
        rc = errno ? -errno : MIG_EIO;
        snprintf(err, errlen, "%s: read error: %s", name, mig_strerror(rc));
    }
    free(line);
    if (rc == MIG_ENOMEM)
        goto out_nomem;
    if (!rc && r.f->nhosts == 0) {
        snprintf(err, errlen, "%s: no hosts", name);
        rc = MIG_EINVAL;
    }
    if (rc) {
        sim_fleet_free(r.f);
        return rc;
    }
    *out = r.f;
    return 0;
out_nomem:
    sim_fleet_free(r.f);
    snprintf(err, errlen, "%s: out of memory", name);
    return MIG_ENOMEM;
}

int sim_fleet_load(const char *path, struct sim_fleet **out, char *err,
                   size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    FILE *f;
    int rc;

    *out = NULL;
    f = fopen(path, "r");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
    if (!dir) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return MIG_ENOMEM;
    }
    rc = sim_fleet_read(f, path, dir, out, err, errlen);
    free(dir);
    fclose(f);
    return rc;
}

/* ---- planning ----------------------------------------------------------- */

void sim_evac_plan_init(struct sim_evac_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void sim_evac_plan_clear(struct sim_evac_plan *p)
{
    free(p->vms);
    free(p->link_bytes);
    memset(p, 0, sizeof(*p));
}

/* One migration of the plan while it runs. */
struct flow {
    struct sim_evac_vm *out;
    struct sim_config cfg;      /* full link; bandwidth scaled per share */
    double cap;                 /* its transfer rate alone on the link */
    double share;               /* payload bytes/s now; 0 = not predicted */
    double remaining;           /* fraction of the work left, 1 -> 0 */
    double total_s, bytes, downtime_s;
    enum sim_outcome outcome;
    bool active;
};

static double vm_rate(const struct sim_fleet_vm *vm)
{
    return vm->workload ? sim_workload_rate_at(vm->workload, 0) : 0;
}

struct sort_ctx_item {
    size_t vm;
    double key1, key2;
};

static int cmp_items(const void *a, const void *b)
{
    const struct sort_ctx_item *x = a, *y = b;

    if (x->key1 != y->key1)
        return x->key1 < y->key1 ? -1 : 1;
    if (x->key2 != y->key2)
        return x->key2 < y->key2 ? -1 : 1;
    return x->vm < y->vm ? -1 : x->vm > y->vm;
}

static long find_link(const struct sim_fleet *f, size_t a, size_t b)
{
    for (size_t i = 0; i < f->nlinks; i++)
        if ((f->links[i].a == a && f->links[i].b == b) ||
            (f->links[i].a == b && f->links[i].b == a))
            return (long)i;
    return -1;
}

/* Predict fl at payload rate share; keeps the previous prediction's
 * progress fraction (fleet.h, the approximation). */
static int predict(const struct sim_fleet *f, struct flow *fl, double share,
                   struct sim_result *r)
{
    struct sim_config cfg = fl->cfg;
    struct sim_goodput g;
    int rc;

    if (share < fl->cap) {
        /* Scale the line rate so the link's payload rate is the share. */
        sim_link_goodput(&f->links[fl->out->link].link, &g);
        cfg.link.bandwidth_bps *= share / g.link_Bps;
    }
    rc = sim_run(&cfg, r);
    if (rc)
        return rc;
    fl->share = share;
    fl->total_s = r->total_time_s;
    fl->bytes = (double)r->bytes_sent;
    fl->downtime_s = r->outcome == SIM_OUTCOME_COMPLETED ? r->downtime_s
                                                         : 0;
    fl->outcome = r->outcome;
    fl->out->predictions++;
    return 0;
}

/* Max-min fair shares of the active flows on link l (water-filling). */
static void fair_shares(const struct sim_fleet *f, struct flow *fl,
                        size_t n, size_t l, double *share,
                        struct sort_ctx_item *tmp)
{
    struct sim_goodput g;
    size_t k = 0;
    double left;

    sim_link_goodput(&f->links[l].link, &g);
    left = g.link_Bps;
    for (size_t i = 0; i < n; i++)
        if (fl[i].active && fl[i].out->link == l)
            tmp[k++] = (struct sort_ctx_item){ i, fl[i].cap, 0 };
    qsort(tmp, k, sizeof(*tmp), cmp_items);
    for (size_t j = 0; j < k; j++) {
        double s = fmin(tmp[j].key1, left / (double)(k - j));

        share[tmp[j].vm] = s;
        left -= s;
    }
}

static int simulate(const struct sim_fleet *f, struct flow *fl, size_t n,
                    unsigned conc, struct sim_evac_plan *p, char *err,
                    size_t errlen)
{
    struct sort_ctx_item *tmp = malloc(n * sizeof(*tmp));
    double *share = calloc(n, sizeof(*share));
    bool *touched = calloc(f->nlinks, sizeof(*touched));
    struct sim_result r;
    size_t next = 0, nactive = 0, done = 0;
    double now = 0;
    int rc = 0;

    sim_result_init(&r);
    if (!tmp || !share || !touched) {
        rc = MIG_ENOMEM;
        goto out;
    }
    while (done < n) {
        size_t first = SIZE_MAX;
        double tmin = INFINITY;

        /* Start migrations in order, up to the concurrency limit. */
        while (nactive < conc && next < n) {
            struct flow *s = &fl[next++];

            s->active = true;
            s->out->start_s = now;
            touched[s->out->link] = true;
            nactive++;
        }
        for (size_t l = 0; l < f->nlinks; l++) {
            if (!touched[l])
                continue;
            touched[l] = false;
            fair_shares(f, fl, next, l, share, tmp);
            for (size_t i = 0; i < next; i++) {
                if (!fl[i].active || fl[i].out->link != l ||
                    share[i] == fl[i].share)
                    continue;
                rc = predict(f, &fl[i], share[i], &r);
                if (rc)
                    goto out_run;
            }
        }
        for (size_t i = 0; i < next; i++) {
            double t;

            if (!fl[i].active)
                continue;
            t = now + fl[i].remaining * fl[i].total_s;
            if (t < tmin) {
                tmin = t;
                first = i;
            }
        }
        assert(first != SIZE_MAX);
        /* Advance every running migration to the next completion. */
        for (size_t i = 0; i < next; i++) {
            struct flow *a = &fl[i];
            double frac;

            if (!a->active)
                continue;
            frac = i == first ? a->remaining
                              : fmin(a->remaining,
                                     (tmin - now) / a->total_s);
            a->out->bytes += frac * a->bytes;
            a->remaining -= frac;
            if (i == first || a->remaining <= 1e-12) {
                a->active = false;
                a->remaining = 0;
                a->out->end_s = tmin;
                a->out->downtime_s = a->downtime_s;
                a->out->outcome = a->outcome;
                p->link_bytes[a->out->link] += a->out->bytes;
                touched[a->out->link] = true;
                nactive--;
                done++;
            }
        }
        now = tmin;
        p->makespan_s = fmax(p->makespan_s, now);
    }
    goto out;
out_run:
    snprintf(err, errlen, "simulation failed: %s", mig_strerror(rc));
out:
    if (rc == MIG_ENOMEM)
        snprintf(err, errlen, "out of memory");
    sim_result_clear(&r);
    free(tmp);
    free(share);
    free(touched);
    return rc;
}

int sim_fleet_evacuate(const struct sim_fleet *f, const char *const *drain,
                       size_t ndrain, const struct sim_evac_opts *o,
                       struct sim_evac_plan *p, char *err, size_t errlen)
{
    bool *drained = NULL;
    double *used = NULL;
    struct sort_ctx_item *items = NULL;
    struct flow *fl = NULL;
    struct sim_result r;
    size_t n = 0;
    int rc = MIG_ENOMEM;

    sim_evac_plan_clear(p);
    sim_result_init(&r);
    if (o->concurrency < 1 || (unsigned)o->order > SIM_ORDER_INVENTORY) {
        snprintf(err, errlen, "concurrency must be at least 1");
        return MIG_EINVAL;
    }
    if (ndrain == 0) {
        snprintf(err, errlen, "no host to drain");
        return MIG_EINVAL;
    }
    drained = calloc(f->nhosts, sizeof(*drained));
    used = calloc(f->nhosts, sizeof(*used));
    items = calloc(f->nvms ? f->nvms : 1, sizeof(*items));
    p->link_bytes = calloc(f->nlinks ? f->nlinks : 1,
                           sizeof(*p->link_bytes));
    if (!drained || !used || !items || !p->link_bytes)
        goto out_nomem;
    p->nlinks = f->nlinks;
    p->order = o->order;
    for (size_t i = 0; i < ndrain; i++) {
        long h = find_host(f, drain[i]);

        if (h < 0) {
            snprintf(err, errlen, "unknown host '%.64s'", drain[i]);
            rc = MIG_EINVAL;
            goto out;
        }
        drained[h] = true;
    }
    for (size_t i = 0; i < f->nvms; i++) {
        const struct sim_fleet_vm *vm = &f->vms[i];
        double mem = (double)vm->mem_bytes, rate = vm_rate(vm);

        used[vm->host] += mem;
        if (!drained[vm->host])
            continue;
        items[n++] = o->order == SIM_ORDER_SMALLEST_DIRTY
                         ? (struct sort_ctx_item){ i, rate, mem }
                     : o->order == SIM_ORDER_LARGEST_FIRST
                         ? (struct sort_ctx_item){ i, -mem, -rate }
                         : (struct sort_ctx_item){ i, 0, 0 };
    }
    qsort(items, n, sizeof(*items), cmp_items);
    p->vms = calloc(n ? n : 1, sizeof(*p->vms));
    fl = calloc(n ? n : 1, sizeof(*fl));
    if (!p->vms || !fl)
        goto out_nomem;
    p->n = n;
    /* Destinations, greedily in order: the fastest link, then the most
     * free capacity, among the hosts that can take the VM. */
    for (size_t j = 0; j < n; j++) {
        const struct sim_fleet_vm *vm = &f->vms[items[j].vm];
        double mem = (double)vm->mem_bytes, best_free = -1, best_bw = -1;
        long best = -1, link = -1;
        char sz[32];

        for (size_t h = 0; h < f->nhosts; h++) {
            double room = (double)f->hosts[h].capacity - used[h], bw;
            long l;

            if (drained[h] || room < mem)
                continue;
            l = find_link(f, vm->host, h);
            if (l < 0)
                continue;
            bw = f->links[l].link.bandwidth_bps;
            if (bw < best_bw || (bw == best_bw && room <= best_free))
                continue;
            best = (long)h;
            best_free = room;
            best_bw = bw;
            link = l;
        }
        if (best < 0) {
            snprintf(err, errlen, "vm '%s' (%s on %s): no host that is not "
                     "drained has room for it and a link from %s", vm->name,
                     sim_format_size(sz, sizeof(sz), mem),
                     f->hosts[vm->host].name, f->hosts[vm->host].name);
            rc = MIG_EINVAL;
            goto out;
        }
        used[best] += mem;
        p->vms[j] = (struct sim_evac_vm){ .vm = items[j].vm,
                                          .src = vm->host,
                                          .dst = (size_t)best,
                                          .link = (size_t)link };
        fl[j].out = &p->vms[j];
        fl[j].remaining = 1;
        sim_config_defaults(&fl[j].cfg);
        fl[j].cfg.mem_bytes = vm->mem_bytes;
        fl[j].cfg.vcpus = vm->vcpus;
        fl[j].cfg.workload = vm->workload;
        fl[j].cfg.link = f->links[link].link;
        fl[j].cfg.policy = f->policy;
        fl[j].cfg.costs = f->costs;
        /* Its own cap: the transfer rate it gets alone on the link. */
        rc = sim_run(&fl[j].cfg, &r);
        if (rc) {
            snprintf(err, errlen, "vm '%s': cannot be simulated: %s",
                     vm->name, mig_strerror(rc));
            goto out;
        }
        fl[j].cap = r.transfer_Bps;
    }
    rc = n ? simulate(f, fl, n, o->concurrency, p, err, errlen) : 0;
    goto out;
out_nomem:
    rc = MIG_ENOMEM;
    snprintf(err, errlen, "out of memory");
out:
    if (rc) {
        sim_evac_plan_clear(p);
        p->order = o->order;
    }
    sim_result_clear(&r);
    free(drained);
    free(used);
    free(items);
    free(fl);
    return rc;
}
